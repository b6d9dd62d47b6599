/* agentexec-base-executor.h: settings and retries shared by the backends
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(AGENTEXEC_INSIDE) && !defined(AGENTEXEC_COMPILATION)
#error "Only <libagentexec.h> can be included directly."
#endif

#include <gio/gio.h>

#include "agentexec-code-executor.h"
#include "agentexec-version-macros.h"

G_BEGIN_DECLS

#define AGENTEXEC_TYPE_BASE_EXECUTOR (agentexec_base_executor_get_type ())

AGENTEXEC_AVAILABLE_IN_ALL
G_DECLARE_DERIVABLE_TYPE (
    AgentExecBaseExecutor, agentexec_base_executor, AGENTEXEC, BASE_EXECUTOR, GObject)

/**
 * AgentExecBaseExecutorClass:
 * @run: runs @input once, as @language (canonical, already resolved); the
 *   base class adds retries, timing, the attempt count and the language to
 *   the result
 * @close: releases sessions and backend resources
 * @end_session: ends the stateful sessions of one execution id (see
 *   [method@AgentExec.CodeExecutor.end_session]); the default does nothing
 * @process_llm_request: adjusts a model request (see
 *   [method@AgentExec.CodeExecutor.process_llm_request]); the default leaves it
 *
 * The class of [class@AgentExec.BaseExecutor].
 *
 * Since: 1.0
 */
struct _AgentExecBaseExecutorClass
{
  GObjectClass parent_class;

  AgentExecExecutionResult *(*run) (AgentExecBaseExecutor *self,
                                    AgentExecExecutorContext *context,
                                    AgentExecExecutionInput *input,
                                    const char *language,
                                    GCancellable *cancellable,
                                    GError **error);
  void (*close) (AgentExecBaseExecutor *self);
  gboolean (*process_llm_request) (AgentExecBaseExecutor *self,
                                   JsonObject *request,
                                   GError **error);
  void (*end_session) (AgentExecBaseExecutor *self, const char *execution_id);

  /*< private >*/
  gpointer _reserved[7];
};

AGENTEXEC_AVAILABLE_IN_ALL
AgentExecExecutionResult *agentexec_base_executor_run (AgentExecBaseExecutor *self,
                                                       AgentExecExecutorContext *context,
                                                       AgentExecExecutionInput *input,
                                                       const char *language,
                                                       GCancellable *cancellable,
                                                       GError **error);
AGENTEXEC_AVAILABLE_IN_ALL
gboolean agentexec_base_executor_get_stateful (AgentExecBaseExecutor *self);
AGENTEXEC_AVAILABLE_IN_ALL
void agentexec_base_executor_set_stateful (AgentExecBaseExecutor *self, gboolean stateful);
AGENTEXEC_AVAILABLE_IN_ALL
guint agentexec_base_executor_get_error_retry_attempts (AgentExecBaseExecutor *self);
AGENTEXEC_AVAILABLE_IN_ALL
guint agentexec_base_executor_get_max_retries (AgentExecBaseExecutor *self);
AGENTEXEC_AVAILABLE_IN_ALL
guint agentexec_base_executor_get_retry_delay_ms (AgentExecBaseExecutor *self);
AGENTEXEC_AVAILABLE_IN_ALL
guint agentexec_base_executor_get_timeout_ms (AgentExecBaseExecutor *self);
AGENTEXEC_AVAILABLE_IN_ALL
void agentexec_base_executor_set_timeout_ms (AgentExecBaseExecutor *self, guint timeout_ms);
AGENTEXEC_AVAILABLE_IN_ALL
guint64 agentexec_base_executor_get_max_output_bytes (AgentExecBaseExecutor *self);
AGENTEXEC_AVAILABLE_IN_ALL
const char *const *agentexec_base_executor_get_code_block_delimiters (AgentExecBaseExecutor *self);
AGENTEXEC_AVAILABLE_IN_ALL
const char *const *
agentexec_base_executor_get_execution_result_delimiters (AgentExecBaseExecutor *self);

AGENTEXEC_AVAILABLE_IN_ALL
gboolean agentexec_base_executor_get_optimize_data_file (AgentExecBaseExecutor *self);
AGENTEXEC_AVAILABLE_IN_ALL
gboolean agentexec_base_executor_get_builtin (AgentExecBaseExecutor *self);
AGENTEXEC_AVAILABLE_IN_ALL
GStrv agentexec_base_executor_dup_code_block_delimiters (AgentExecBaseExecutor *self);
AGENTEXEC_AVAILABLE_IN_ALL
GStrv agentexec_base_executor_dup_execution_result_delimiters (AgentExecBaseExecutor *self);

G_END_DECLS
