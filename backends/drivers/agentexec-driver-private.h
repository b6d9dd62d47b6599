/* agentexec-driver-private.h: the persistent interpreter drivers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * DESIGN.md, "Interpreter driver protocol". A driver is a small program passed
 * to the interpreter on its command line (python3 -c, node -e, bash -c) that
 * runs each request's code in one persistent namespace and answers with one
 * framed reply. Frames are "<decimal length>\n<payload>"; the payload of a
 * request is {"code": "..."} (bash: the code itself), of a reply
 * {"exit_code": N, ...} (Python adds "figures" and, when the code ends with
 * an expression whose value is not None, "value": its repr()); the first reply, sent at start-up,
 * is
 * {"ready": true, "language": ..., "pid": ..., "version": ...}.
 *
 * Files through the driver (Python; the ready reply's "features" holds
 * "files"): a request may add "files": [{"name", "data": base64}] or
 * [{"name", "size": N}] (the N raw bytes follow the frame, in list order;
 * this client sends that form) (written
 * into the working directory before the code runs; {"input_error": ...}
 * when that fails) and "report_files": N (bytes), which asks the reply for
 * "files" (created or changed regular files, base64) and "deleted" (names),
 * or "files_overflow": true when they are more than N bytes or the directory
 * is too big to scan. Without those members nothing changes, so a driver
 * without the feature and a client that does not use it still agree.
 *
 * Two channel layouts, chosen by the descriptors given to the driver:
 * - separate (OUT_FD != 1): requests on IN_FD, replies on OUT_FD; the code's
 *   stdout and stderr are the interpreter's own fd 1 and 2, untouched.
 * - one channel (IN_FD 0, OUT_FD 1, a token): for a container's attach
 *   stream. The code's output and the replies share stdout; each reply is
 *   preceded by the token, and the token + "\n" is written to stderr, so the
 *   reader knows where each stream's output of the run ends.
 *
 * Nothing here knows about processes: it builds argv and turns bytes into
 * requests and replies, so the local and container backends share it.
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Generated from agentexec-driver.{py,js,sh} by embed-drivers.py. */
extern const char _agentexec_driver_python_source[];
extern const char _agentexec_driver_node_source[];
extern const char _agentexec_driver_bash_source[];

typedef struct
{
  gboolean ready;          /* the start-up reply */
  int exit_code;           /* -1 when absent */
  int pid;                 /* ready reply: the interpreter's pid, 0 when absent */
  char *language;          /* ready reply */
  char *version;           /* ready reply */
  GStrv figures;           /* Python: figure files saved by the run */
  char *value;             /* Python: repr() of the last expression's value, optional */
  GStrv features;          /* ready reply: e.g. "files" (files through the driver) */
  char *input_error;       /* the request's input files could not be written */
  GPtrArray *files;        /* (element-type AgentExecFile): created or changed
                            * files, when the request asked for them; NULL when not
                            * reported */
  GStrv deleted;           /* files the run deleted, with ->files */
  gboolean files_overflow; /* asked for, but too many or too big */
} AgentExecDriverReply;

typedef struct _AgentExecDriverReader AgentExecDriverReader;

gboolean _agentexec_driver_supports (const char *language);
const char *_agentexec_driver_get_source (const char *language);
GStrv _agentexec_driver_build_argv (const char *language,
                                    const char *interpreter,
                                    int in_fd,
                                    int out_fd,
                                    const char *token,
                                    GError **error);
GStrv _agentexec_driver_build_run_argv (const char *interpreter,
                                        const char *script_path,
                                        const char *const *args);
char *_agentexec_driver_new_token (void);
GBytes *_agentexec_driver_encode_request (const char *language, const char *code, gssize code_len);
GBytes *_agentexec_driver_encode_request_with_files (const char *code,
                                                     GPtrArray *files,
                                                     gint64 report_files);
gboolean _agentexec_driver_reply_has_feature (AgentExecDriverReply *reply, const char *feature);
AgentExecDriverReply *
_agentexec_driver_reply_parse (const char *payload, gsize len, GError **error);
void _agentexec_driver_reply_free (AgentExecDriverReply *reply);

AgentExecDriverReader *_agentexec_driver_reader_new (const char *token, gboolean sentinel_only);
void _agentexec_driver_reader_free (AgentExecDriverReader *reader);
void _agentexec_driver_reader_feed (AgentExecDriverReader *reader, const char *data, gsize len);
gboolean _agentexec_driver_reader_next (AgentExecDriverReader *reader,
                                        GByteArray *passthrough,
                                        AgentExecDriverReply **reply,
                                        GError **error);
gsize _agentexec_driver_reader_flush (AgentExecDriverReader *reader, GByteArray *passthrough);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AgentExecDriverReply, _agentexec_driver_reply_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AgentExecDriverReader, _agentexec_driver_reader_free)

G_END_DECLS
