/* agentexec-local-process-private.h: a sandboxed host process and its output
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "agentexec-code-executor.h"
#include "agentexec-driver-private.h"

G_BEGIN_DECLS

typedef struct
{
  guint64 max_memory_bytes; /* RLIMIT_DATA and a memory cgroup; 0: none */
  guint64 max_file_bytes;   /* RLIMIT_FSIZE; 0: none */
  guint max_cpu_seconds;    /* RLIMIT_CPU; 0: none */
  guint max_processes;      /* a pids cgroup (else RLIMIT_NPROC); 0: none */
  guint max_open_files;     /* RLIMIT_NOFILE; 0: inherited */
  gint64 uid;               /* run as this uid and gid (root only); -1: as the caller */
} AgentExecLocalLimits;

/* Where streamed output goes while the code runs. */
typedef struct
{
  AgentExecCodeExecutor *executor;
  AgentExecExecutionInput *input;
  GMainContext *context;
} AgentExecLocalStream;

/* How a wait ended. */
typedef enum
{
  AGENTEXEC_LOCAL_END_EXITED,    /* the process exited (or was killed by a signal) */
  AGENTEXEC_LOCAL_END_REPLY,     /* the driver answered */
  AGENTEXEC_LOCAL_END_TIMEOUT,   /* killed at the deadline */
  AGENTEXEC_LOCAL_END_CANCELLED, /* killed on cancellation */
} AgentExecLocalEnd;

typedef struct _AgentExecLocalProcess AgentExecLocalProcess;
typedef struct _AgentExecLocalSandboxPlan AgentExecLocalSandboxPlan;

AgentExecLocalProcess *_agentexec_local_process_spawn (const char *const *argv,
                                                       const char *const *envp,
                                                       const char *cwd,
                                                       const AgentExecLocalLimits *limits,
                                                       AgentExecLocalSandboxPlan *sandbox,
                                                       gboolean driver_fds,
                                                       guint64 max_output_bytes,
                                                       GError **error);
void _agentexec_local_process_free (AgentExecLocalProcess *self);
gboolean _agentexec_local_process_is_alive (AgentExecLocalProcess *self);
gboolean
_agentexec_local_process_send (AgentExecLocalProcess *self, GBytes *request, GError **error);
AgentExecLocalEnd _agentexec_local_process_wait (AgentExecLocalProcess *self,
                                                 gint64 deadline,
                                                 guint grace_ms,
                                                 GCancellable *cancellable,
                                                 const AgentExecLocalStream *stream,
                                                 AgentExecDriverReply **reply,
                                                 GError **error);
void _agentexec_local_process_kill (AgentExecLocalProcess *self, guint grace_ms);
void _agentexec_local_process_reset_output (AgentExecLocalProcess *self);
void _agentexec_local_process_fill_result (AgentExecLocalProcess *self,
                                           AgentExecExecutionResult *result);
void _agentexec_local_process_append_stderr (AgentExecLocalProcess *self, const char *text);
gboolean _agentexec_local_process_hit_limit (AgentExecLocalProcess *self);

gint64 _agentexec_local_uid_acquire (void);
void _agentexec_local_uid_release (gint64 uid, gboolean ended);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AgentExecLocalProcess, _agentexec_local_process_free)

G_END_DECLS
