/* agentexec-code-execution-flow.h: the agent-loop step around an executor
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(AGENTEXEC_INSIDE) && !defined(AGENTEXEC_COMPILATION)
#error "Only <libagentexec.h> can be included directly."
#endif

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "agentexec-code-execution-step.h"
#include "agentexec-code-executor.h"
#include "agentexec-executor-context.h"
#include "agentexec-version-macros.h"

G_BEGIN_DECLS

#define AGENTEXEC_TYPE_CODE_EXECUTION_FLOW (agentexec_code_execution_flow_get_type ())

AGENTEXEC_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (AgentExecCodeExecutionFlow,
                      agentexec_code_execution_flow,
                      AGENTEXEC,
                      CODE_EXECUTION_FLOW,
                      GObject)

AGENTEXEC_AVAILABLE_IN_ALL
AgentExecCodeExecutionFlow *agentexec_code_execution_flow_new (AgentExecCodeExecutor *executor);
AGENTEXEC_AVAILABLE_IN_ALL
AgentExecCodeExecutor *
agentexec_code_execution_flow_get_executor (AgentExecCodeExecutionFlow *self);
AGENTEXEC_AVAILABLE_IN_ALL
guint agentexec_code_execution_flow_get_error_retry_attempts (AgentExecCodeExecutionFlow *self);
AGENTEXEC_AVAILABLE_IN_ALL
GPtrArray *agentexec_code_execution_flow_preprocess_request (AgentExecCodeExecutionFlow *self,
                                                             AgentExecExecutorContext *context,
                                                             const char *invocation_id,
                                                             JsonObject *request,
                                                             GCancellable *cancellable,
                                                             GError **error);
AGENTEXEC_AVAILABLE_IN_ALL
void agentexec_code_execution_flow_preprocess_request_async (AgentExecCodeExecutionFlow *self,
                                                             AgentExecExecutorContext *context,
                                                             const char *invocation_id,
                                                             JsonObject *request,
                                                             GCancellable *cancellable,
                                                             GAsyncReadyCallback callback,
                                                             gpointer user_data);
AGENTEXEC_AVAILABLE_IN_ALL
GPtrArray *agentexec_code_execution_flow_preprocess_request_finish (
    AgentExecCodeExecutionFlow *self, GAsyncResult *result, GError **error);
AGENTEXEC_AVAILABLE_IN_ALL
AgentExecCodeExecutionStep *
agentexec_code_execution_flow_postprocess_response (AgentExecCodeExecutionFlow *self,
                                                    AgentExecExecutorContext *context,
                                                    const char *invocation_id,
                                                    JsonObject *content,
                                                    gboolean partial,
                                                    GCancellable *cancellable,
                                                    GError **error);
AGENTEXEC_AVAILABLE_IN_ALL
void agentexec_code_execution_flow_postprocess_response_async (AgentExecCodeExecutionFlow *self,
                                                               AgentExecExecutorContext *context,
                                                               const char *invocation_id,
                                                               JsonObject *content,
                                                               gboolean partial,
                                                               GCancellable *cancellable,
                                                               GAsyncReadyCallback callback,
                                                               gpointer user_data);
AGENTEXEC_AVAILABLE_IN_ALL
AgentExecCodeExecutionStep *agentexec_code_execution_flow_postprocess_response_finish (
    AgentExecCodeExecutionFlow *self, GAsyncResult *result, GError **error);
AGENTEXEC_AVAILABLE_IN_ALL
AgentExecCodeExecutionStep *
agentexec_code_execution_flow_process_text (AgentExecCodeExecutionFlow *self,
                                            AgentExecExecutorContext *context,
                                            const char *invocation_id,
                                            const char *text,
                                            GCancellable *cancellable,
                                            GError **error);
AGENTEXEC_AVAILABLE_IN_ALL
void agentexec_code_execution_flow_process_text_async (AgentExecCodeExecutionFlow *self,
                                                       AgentExecExecutorContext *context,
                                                       const char *invocation_id,
                                                       const char *text,
                                                       GCancellable *cancellable,
                                                       GAsyncReadyCallback callback,
                                                       gpointer user_data);
AGENTEXEC_AVAILABLE_IN_ALL
AgentExecCodeExecutionStep *agentexec_code_execution_flow_process_text_finish (
    AgentExecCodeExecutionFlow *self, GAsyncResult *result, GError **error);
AGENTEXEC_AVAILABLE_IN_ALL
char *agentexec_code_execution_flow_get_data_file_code (const char *file_name);
AGENTEXEC_AVAILABLE_IN_ALL
gboolean agentexec_code_execution_flow_get_all_blocks (AgentExecCodeExecutionFlow *self);
AGENTEXEC_AVAILABLE_IN_ALL
void agentexec_code_execution_flow_set_all_blocks (AgentExecCodeExecutionFlow *self,
                                                   gboolean all_blocks);

G_END_DECLS
