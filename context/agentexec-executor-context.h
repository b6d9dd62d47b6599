/* agentexec-executor-context.h: per-invocation state with ADK's session keys
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (AGENTEXEC_INSIDE) && !defined (AGENTEXEC_COMPILATION)
#error "Only <libagentexec.h> can be included directly."
#endif

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "agentexec-file.h"
#include "agentexec-version-macros.h"

G_BEGIN_DECLS

#define AGENTEXEC_TYPE_EXECUTOR_CONTEXT (agentexec_executor_context_get_type ())

AGENTEXEC_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (AgentExecExecutorContext, agentexec_executor_context, AGENTEXEC,
                      EXECUTOR_CONTEXT, GObject)

AGENTEXEC_AVAILABLE_IN_ALL
AgentExecExecutorContext *agentexec_executor_context_new                          (JsonObject               *session_state);
AGENTEXEC_AVAILABLE_IN_ALL
AgentExecExecutorContext *agentexec_executor_context_new_from_json                (const char               *json,
                                                                                   GError                  **error);
AGENTEXEC_AVAILABLE_IN_ALL
JsonObject               *agentexec_executor_context_get_session_state            (AgentExecExecutorContext *self);
AGENTEXEC_AVAILABLE_IN_ALL
char                     *agentexec_executor_context_to_json                      (AgentExecExecutorContext *self);
AGENTEXEC_AVAILABLE_IN_ALL
JsonObject               *agentexec_executor_context_get_state_delta              (AgentExecExecutorContext *self);
AGENTEXEC_AVAILABLE_IN_ALL
char                     *agentexec_executor_context_get_execution_id             (AgentExecExecutorContext *self);
AGENTEXEC_AVAILABLE_IN_ALL
void                      agentexec_executor_context_set_execution_id             (AgentExecExecutorContext *self,
                                                                                   const char               *execution_id);
AGENTEXEC_AVAILABLE_IN_ALL
GStrv                     agentexec_executor_context_get_processed_file_names     (AgentExecExecutorContext *self);
AGENTEXEC_AVAILABLE_IN_ALL
void                      agentexec_executor_context_add_processed_file_names     (AgentExecExecutorContext *self,
                                                                                   const char * const       *file_names);
AGENTEXEC_AVAILABLE_IN_ALL
GPtrArray                *agentexec_executor_context_get_input_files              (AgentExecExecutorContext *self);
AGENTEXEC_AVAILABLE_IN_ALL
void                      agentexec_executor_context_add_input_files              (AgentExecExecutorContext *self,
                                                                                   GPtrArray                *files);
AGENTEXEC_AVAILABLE_IN_ALL
void                      agentexec_executor_context_clear_input_files            (AgentExecExecutorContext *self);
AGENTEXEC_AVAILABLE_IN_ALL
guint                     agentexec_executor_context_get_error_count              (AgentExecExecutorContext *self,
                                                                                   const char               *invocation_id);
AGENTEXEC_AVAILABLE_IN_ALL
void                      agentexec_executor_context_increment_error_count        (AgentExecExecutorContext *self,
                                                                                   const char               *invocation_id);
AGENTEXEC_AVAILABLE_IN_ALL
void                      agentexec_executor_context_reset_error_count            (AgentExecExecutorContext *self,
                                                                                   const char               *invocation_id);
AGENTEXEC_AVAILABLE_IN_ALL
void                      agentexec_executor_context_update_code_execution_result (AgentExecExecutorContext *self,
                                                                                   const char               *invocation_id,
                                                                                   const char               *code,
                                                                                   const char               *result_stdout,
                                                                                   const char               *result_stderr);
AGENTEXEC_AVAILABLE_IN_ALL
JsonArray                *agentexec_executor_context_get_code_execution_results   (AgentExecExecutorContext *self,
                                                                                   const char               *invocation_id);

G_END_DECLS
