/* agentexec-server-context-private.h: one E2B code context
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A context is a stateful session of the executor (its execution id) for
 * one language. Its jobs run one at a time, in order: executions, the set-up
 * that moves the interpreter to the context's cwd, and the reset that ends
 * the session (restart, removal).
 */

#pragma once

#include "agentexec-server-execution-private.h"

G_BEGIN_DECLS

#define AGENTEXEC_TYPE_SERVER_CONTEXT (agentexec_server_context_get_type ())
G_DECLARE_FINAL_TYPE (
    AgentExecServerContext, agentexec_server_context, AGENTEXEC, SERVER_CONTEXT, GObject)

AgentExecServerContext *_agentexec_server_context_new (AgentExecCodeExecutor *executor,
                                                       const char *language,
                                                       const char *cwd,
                                                       gboolean is_default);
const char *_agentexec_server_context_get_id (AgentExecServerContext *self);
const char *_agentexec_server_context_get_language (AgentExecServerContext *self);
const char *_agentexec_server_context_get_cwd (AgentExecServerContext *self);
const char *_agentexec_server_context_get_execution_id (AgentExecServerContext *self);
gboolean _agentexec_server_context_is_default (AgentExecServerContext *self);
gint64 _agentexec_server_context_get_last_used (AgentExecServerContext *self);
guint _agentexec_server_context_get_pending (AgentExecServerContext *self);
JsonNode *_agentexec_server_context_to_json (AgentExecServerContext *self);

void _agentexec_server_context_enqueue (AgentExecServerContext *self,
                                        AgentExecServerExecution *execution);
void _agentexec_server_context_setup_async (AgentExecServerContext *self,
                                            GAsyncReadyCallback callback,
                                            gpointer user_data);
void _agentexec_server_context_reset_async (AgentExecServerContext *self,
                                            const char *reason,
                                            gboolean set_up_again,
                                            GAsyncReadyCallback callback,
                                            gpointer user_data);
gboolean _agentexec_server_context_job_finish (AgentExecServerContext *self,
                                               GAsyncResult *result,
                                               GError **error);
void _agentexec_server_context_cancel_all (AgentExecServerContext *self, const char *reason);

G_END_DECLS
