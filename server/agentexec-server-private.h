/* agentexec-server-private.h: `agentexec serve`, the E2B code-interpreter API
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The HTTP API of E2B's code interpreter, exactly as its SDKs speak it in
 * debug mode: POST /execute (NDJSON stream), GET/POST /contexts,
 * DELETE /contexts/{id}, POST /contexts/{id}/restart, GET /health (also on
 * the envd port, 49983, which the SDKs probe after a reset connection).
 * The server only knows the CodeExecutor interface: contexts are stateful
 * sessions (execution ids) of whatever backend the program hands it.
 */

#pragma once

#include <libsoup/soup.h>

#include "libagentexec.h"

G_BEGIN_DECLS

#define AGENTEXEC_SERVER_DEFAULT_PORT 49999
#define AGENTEXEC_SERVER_HEALTH_PORT 49983

typedef struct
{
  char *token;          /* NULL: none (loopback only) */
  guint max_contexts;   /* 0: no limit */
  guint max_executions; /* queued + running, 0: no limit */
  guint context_idle_s; /* 0: contexts live until removed */
  gsize max_code_bytes; /* the `code` of one /execute */
  guint timeout_ms;     /* the limit of one run (for messages; 0: none) */
  gboolean access_log;  /* one JSON line per request on stderr */
} AgentExecServerOptions;

#define AGENTEXEC_TYPE_SERVER (agentexec_server_get_type ())
G_DECLARE_FINAL_TYPE (AgentExecServer, agentexec_server, AGENTEXEC, SERVER, GObject)

AgentExecServer *_agentexec_server_new (AgentExecCodeExecutor *executor,
                                        const AgentExecServerOptions *options);
gboolean _agentexec_server_listen (
    AgentExecServer *self, const char *host, guint port, guint health_port, GError **error);
gboolean _agentexec_server_listen_sockets (AgentExecServer *self,
                                           GSocket *api,
                                           GSocket *health,
                                           GError **error);
guint _agentexec_server_get_port (AgentExecServer *self);
void _agentexec_server_shutdown_async (AgentExecServer *self,
                                       guint grace_ms,
                                       GAsyncReadyCallback callback,
                                       gpointer user_data);
gboolean
_agentexec_server_shutdown_finish (AgentExecServer *self, GAsyncResult *result, GError **error);

G_END_DECLS
