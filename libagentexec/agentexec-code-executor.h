/* agentexec-code-executor.h: the interface every backend implements
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(AGENTEXEC_INSIDE) && !defined(AGENTEXEC_COMPILATION)
#error "Only <libagentexec.h> can be included directly."
#endif

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "agentexec-enums.h"
#include "agentexec-execution-input.h"
#include "agentexec-execution-result.h"
#include "agentexec-executor-context.h"
#include "agentexec-version-macros.h"

G_BEGIN_DECLS

#define AGENTEXEC_TYPE_CODE_EXECUTOR (agentexec_code_executor_get_type ())

/**
 * AgentExecExecOutputFunc:
 * @input: the input whose code wrote the output
 * @stream: which stream the chunk belongs to
 * @chunk: the bytes, as the program wrote them (not necessarily whole lines
 *   or whole UTF-8 characters)
 * @user_data: (closure): the data given with the call
 *
 * Receives the output of one call of
 * [method@AgentExec.CodeExecutor.execute_code_with_output] or
 * [method@AgentExec.CodeExecutor.execute_code_with_output_async], chunk by
 * chunk, in order.
 *
 * Since: 1.0
 */
typedef void (*AgentExecExecOutputFunc) (AgentExecExecutionInput *input,
                                         AgentExecStream stream,
                                         GBytes *chunk,
                                         gpointer user_data);

AGENTEXEC_AVAILABLE_IN_ALL
G_DECLARE_INTERFACE (
    AgentExecCodeExecutor, agentexec_code_executor, AGENTEXEC, CODE_EXECUTOR, GObject)

/**
 * AgentExecCodeExecutorInterface:
 * @execute_code: runs @input synchronously and returns its result
 * @execute_code_async: starts running @input; the default runs @execute_code
 *   in a worker thread
 * @execute_code_finish: completes @execute_code_async
 * @close: releases what the executor holds (sessions, containers); the
 *   default does nothing
 * @process_llm_request: adjusts a model request before it is sent (the
 *   BuiltIn backend adds Gemini's code-execution tool); the default leaves it
 * @end_session: ends the stateful sessions of one execution id; the default
 *   does nothing
 *
 * The virtual functions of [iface@AgentExec.CodeExecutor].
 *
 * Since: 1.0
 */
struct _AgentExecCodeExecutorInterface
{
  GTypeInterface parent_iface;

  AgentExecExecutionResult *(*execute_code) (AgentExecCodeExecutor *self,
                                             AgentExecExecutorContext *context,
                                             AgentExecExecutionInput *input,
                                             GCancellable *cancellable,
                                             GError **error);
  void (*execute_code_async) (AgentExecCodeExecutor *self,
                              AgentExecExecutorContext *context,
                              AgentExecExecutionInput *input,
                              GCancellable *cancellable,
                              GAsyncReadyCallback callback,
                              gpointer user_data);
  AgentExecExecutionResult *(*execute_code_finish) (AgentExecCodeExecutor *self,
                                                    GAsyncResult *result,
                                                    GError **error);
  void (*close) (AgentExecCodeExecutor *self);
  gboolean (*process_llm_request) (AgentExecCodeExecutor *self,
                                   JsonObject *request,
                                   GError **error);
  void (*end_session) (AgentExecCodeExecutor *self, const char *execution_id);

  /*< private >*/
  gpointer _reserved[7];
};

AGENTEXEC_AVAILABLE_IN_ALL
AgentExecExecutionResult *agentexec_code_executor_execute_code (AgentExecCodeExecutor *self,
                                                                AgentExecExecutorContext *context,
                                                                AgentExecExecutionInput *input,
                                                                GCancellable *cancellable,
                                                                GError **error);
AGENTEXEC_AVAILABLE_IN_ALL
void agentexec_code_executor_execute_code_async (AgentExecCodeExecutor *self,
                                                 AgentExecExecutorContext *context,
                                                 AgentExecExecutionInput *input,
                                                 GCancellable *cancellable,
                                                 GAsyncReadyCallback callback,
                                                 gpointer user_data);
AGENTEXEC_AVAILABLE_IN_ALL
AgentExecExecutionResult *agentexec_code_executor_execute_code_finish (AgentExecCodeExecutor *self,
                                                                       GAsyncResult *result,
                                                                       GError **error);
AGENTEXEC_AVAILABLE_IN_ALL
AgentExecExecutionResult *
agentexec_code_executor_execute_code_with_output (AgentExecCodeExecutor *self,
                                                  AgentExecExecutorContext *context,
                                                  AgentExecExecutionInput *input,
                                                  AgentExecExecOutputFunc output_func,
                                                  gpointer output_data,
                                                  GDestroyNotify output_destroy,
                                                  GCancellable *cancellable,
                                                  GError **error);
AGENTEXEC_AVAILABLE_IN_ALL
void agentexec_code_executor_execute_code_with_output_async (AgentExecCodeExecutor *self,
                                                             AgentExecExecutorContext *context,
                                                             AgentExecExecutionInput *input,
                                                             AgentExecExecOutputFunc output_func,
                                                             gpointer output_data,
                                                             GDestroyNotify output_destroy,
                                                             GCancellable *cancellable,
                                                             GAsyncReadyCallback callback,
                                                             gpointer user_data);
AGENTEXEC_AVAILABLE_IN_ALL
AgentExecExecutionResult *agentexec_code_executor_execute_code_with_output_finish (
    AgentExecCodeExecutor *self, GAsyncResult *result, GError **error);
AGENTEXEC_AVAILABLE_IN_ALL
void agentexec_code_executor_close (AgentExecCodeExecutor *self);
AGENTEXEC_AVAILABLE_IN_ALL
void agentexec_code_executor_end_session (AgentExecCodeExecutor *self, const char *execution_id);
AGENTEXEC_AVAILABLE_IN_ALL
gboolean agentexec_code_executor_process_llm_request (AgentExecCodeExecutor *self,
                                                      JsonObject *request,
                                                      GError **error);
AGENTEXEC_AVAILABLE_IN_ALL
void agentexec_code_executor_emit_output (AgentExecCodeExecutor *self,
                                          AgentExecExecutionInput *input,
                                          AgentExecStream stream,
                                          GBytes *chunk);

G_END_DECLS
