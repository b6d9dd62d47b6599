/* agentexec-server-execution-private.h: one POST /execute
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <libsoup/soup.h>

#include "libagentexec.h"

G_BEGIN_DECLS

#define AGENTEXEC_TYPE_SERVER_EXECUTION (agentexec_server_execution_get_type ())
G_DECLARE_FINAL_TYPE (
    AgentExecServerExecution, agentexec_server_execution, AGENTEXEC, SERVER_EXECUTION, GObject)

/* How often an execution writes {"type": "keepalive"} while it waits or runs. */
#define AGENTEXEC_SERVER_KEEPALIVE_MS 2000

AgentExecServerExecution *_agentexec_server_execution_new (AgentExecCodeExecutor *executor,
                                                           SoupServerMessage *msg,
                                                           const char *code,
                                                           const char *language,
                                                           const char *execution_id,
                                                           JsonObject *env,
                                                           guint timeout_ms);
void _agentexec_server_execution_start (AgentExecServerExecution *self);
void _agentexec_server_execution_cancel (AgentExecServerExecution *self, const char *reason);
gboolean _agentexec_server_execution_is_finished (AgentExecServerExecution *self);
gboolean _agentexec_server_execution_client_gone (AgentExecServerExecution *self);
void _agentexec_server_execution_set_count (AgentExecServerExecution *self, guint count);

G_END_DECLS
