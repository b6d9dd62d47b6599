/* agentexec-code-executor.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "agentexec-code-executor-private.h"
#include "agentexec-enum-types.h"

/**
 * AgentExecCodeExecutor:
 *
 * Runs code. Every backend ([class@AgentExec.LocalExecutor],
 * [class@AgentExec.ContainerExecutor], [class@AgentExec.BuiltInExecutor])
 * implements it, and so can an executor written in Python or JavaScript:
 * implementing [vfunc@AgentExec.CodeExecutor.execute_code] is enough, the
 * async variant then runs it in a worker thread.
 *
 * ```c
 * g_autoptr(AgentExecExecutionResult) result =
 *   agentexec_code_executor_execute_code (executor, context, input, NULL, &error);
 * ```
 *
 * Standard output and error are streamed while the code runs through the
 * [signal@AgentExec.CodeExecutor::output] signal, emitted in the calling
 * thread for a sync call and in the caller's thread-default main context for
 * an async one.
 *
 * Since: 1.0
 */

G_DEFINE_INTERFACE (AgentExecCodeExecutor, agentexec_code_executor, G_TYPE_OBJECT)

enum
{
  OUTPUT,
  N_SIGNALS
};

static guint signals[N_SIGNALS];
static GPrivate output_context_key;

typedef struct
{
  AgentExecExecutorContext *context;
  AgentExecExecutionInput *input;
} ExecuteData;

static void
execute_data_free (gpointer data)
{
  ExecuteData *d = data;

  g_clear_object (&d->context);
  g_clear_object (&d->input);
  g_free (d);
}

static void
execute_code_thread (GTask *task,
                     gpointer source_object,
                     gpointer task_data,
                     GCancellable *cancellable)
{
  AgentExecCodeExecutor *self = source_object;
  ExecuteData *d = task_data;
  GError *error = NULL;
  AgentExecExecutionResult *result;

  g_private_set (&output_context_key, g_task_get_context (task));
  result = AGENTEXEC_CODE_EXECUTOR_GET_IFACE (self)->execute_code (self, d->context, d->input,
                                                                   cancellable, &error);
  g_private_set (&output_context_key, NULL);
  if (result != NULL)
    g_task_return_pointer (task, result, g_object_unref);
  else
    g_task_return_error (task, error);
}

static void
real_execute_code_async (AgentExecCodeExecutor *self,
                         AgentExecExecutorContext *context,
                         AgentExecExecutionInput *input,
                         GCancellable *cancellable,
                         GAsyncReadyCallback callback,
                         gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  ExecuteData *d = g_new0 (ExecuteData, 1);

  d->context = context != NULL ? g_object_ref (context) : NULL;
  d->input = g_object_ref (input);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, real_execute_code_async);
  g_task_set_name (task, "agentexec_code_executor_execute_code_async");
  g_task_set_task_data (task, d, execute_data_free);
  g_task_run_in_thread (task, execute_code_thread);
}

static AgentExecExecutionResult *
real_execute_code_finish (AgentExecCodeExecutor *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
real_close (AgentExecCodeExecutor *self)
{
}

static void
real_end_session (AgentExecCodeExecutor *self, const char *execution_id)
{
}

static gboolean
real_process_llm_request (AgentExecCodeExecutor *self, JsonObject *request, GError **error)
{
  return TRUE;
}

static void
agentexec_code_executor_default_init (AgentExecCodeExecutorInterface *iface)
{
  iface->execute_code_async = real_execute_code_async;
  iface->execute_code_finish = real_execute_code_finish;
  iface->close = real_close;
  iface->end_session = real_end_session;
  iface->process_llm_request = real_process_llm_request;

  /**
   * AgentExecCodeExecutor::output:
   * @self: the executor
   * @input: the input whose code produced the output
   * @stream: which stream the chunk belongs to
   * @chunk: the bytes, as the program wrote them (not necessarily whole
   *   lines or whole UTF-8 characters)
   *
   * Emitted while code runs, for each chunk of output, in order. For a sync
   * call it is emitted in the calling thread; for an async call, in the
   * thread-default main context of the caller. The final result holds the
   * same output, capped at `max-output-bytes`.
   *
   * Since: 1.0
   */
  signals[OUTPUT] = g_signal_new ("output", G_TYPE_FROM_INTERFACE (iface), G_SIGNAL_RUN_LAST, 0,
                                  NULL, NULL, NULL, G_TYPE_NONE, 3, AGENTEXEC_TYPE_EXECUTION_INPUT,
                                  AGENTEXEC_TYPE_STREAM, G_TYPE_BYTES);
}

/**
 * agentexec_code_executor_execute_code: (virtual execute_code)
 * @self: a [iface@AgentExec.CodeExecutor]
 * @context: (nullable): the invocation's [class@AgentExec.ExecutorContext]
 * @input: what to run
 * @cancellable: (nullable): a #GCancellable; cancelling kills the code
 * @error: return location for a #GError
 *
 * Runs @input and waits for it. A program that fails still gives a result
 * (with its outcome, exit code and output); an error means the code could
 * not be run at all (unsupported language, backend unavailable, cancelled
 * before it started, retries exhausted).
 *
 * Returns: (transfer full): the [class@AgentExec.ExecutionResult], or %NULL
 *   with @error set
 *
 * Since: 1.0
 */
AgentExecExecutionResult *
agentexec_code_executor_execute_code (AgentExecCodeExecutor *self,
                                      AgentExecExecutorContext *context,
                                      AgentExecExecutionInput *input,
                                      GCancellable *cancellable,
                                      GError **error)
{
  AgentExecCodeExecutorInterface *iface;

  g_return_val_if_fail (AGENTEXEC_IS_CODE_EXECUTOR (self), NULL);
  g_return_val_if_fail (context == NULL || AGENTEXEC_IS_EXECUTOR_CONTEXT (context), NULL);
  g_return_val_if_fail (AGENTEXEC_IS_EXECUTION_INPUT (input), NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  iface = AGENTEXEC_CODE_EXECUTOR_GET_IFACE (self);
  if (iface->execute_code == NULL)
    {
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_FAILED,
                   "%s does not implement execute_code: implement it (do_execute_code "
                   "in Python) to make it a code executor",
                   G_OBJECT_TYPE_NAME (self));
      return NULL;
    }
  return iface->execute_code (self, context, input, cancellable, error);
}

/**
 * agentexec_code_executor_execute_code_async: (virtual execute_code_async)
 * @self: a [iface@AgentExec.CodeExecutor]
 * @context: (nullable): the invocation's [class@AgentExec.ExecutorContext]
 * @input: what to run
 * @cancellable: (nullable): a #GCancellable; cancelling kills the code
 * @callback: (scope async): called when the run completes
 * @user_data: (closure): data for @callback
 *
 * Starts running @input; see [method@AgentExec.CodeExecutor.execute_code].
 * @callback is called in the thread-default main context of the caller.
 *
 * Since: 1.0
 */
void
agentexec_code_executor_execute_code_async (AgentExecCodeExecutor *self,
                                            AgentExecExecutorContext *context,
                                            AgentExecExecutionInput *input,
                                            GCancellable *cancellable,
                                            GAsyncReadyCallback callback,
                                            gpointer user_data)
{
  g_return_if_fail (AGENTEXEC_IS_CODE_EXECUTOR (self));
  g_return_if_fail (context == NULL || AGENTEXEC_IS_EXECUTOR_CONTEXT (context));
  g_return_if_fail (AGENTEXEC_IS_EXECUTION_INPUT (input));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  AGENTEXEC_CODE_EXECUTOR_GET_IFACE (self)->execute_code_async (self, context, input, cancellable,
                                                                callback, user_data);
}

/**
 * agentexec_code_executor_execute_code_finish: (virtual execute_code_finish)
 * @self: a [iface@AgentExec.CodeExecutor]
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Completes [method@AgentExec.CodeExecutor.execute_code_async].
 *
 * Returns: (transfer full): the [class@AgentExec.ExecutionResult], or %NULL
 *   with @error set
 *
 * Since: 1.0
 */
AgentExecExecutionResult *
agentexec_code_executor_execute_code_finish (AgentExecCodeExecutor *self,
                                             GAsyncResult *result,
                                             GError **error)
{
  g_return_val_if_fail (AGENTEXEC_IS_CODE_EXECUTOR (self), NULL);
  g_return_val_if_fail (G_IS_ASYNC_RESULT (result), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return AGENTEXEC_CODE_EXECUTOR_GET_IFACE (self)->execute_code_finish (self, result, error);
}

/**
 * agentexec_code_executor_close: (virtual close)
 * @self: a [iface@AgentExec.CodeExecutor]
 *
 * Ends every stateful session and releases what the executor holds (for the
 * container backend: removes its containers). The executor can still be
 * used afterwards; new sessions start from scratch.
 *
 * Since: 1.0
 */
void
agentexec_code_executor_close (AgentExecCodeExecutor *self)
{
  g_return_if_fail (AGENTEXEC_IS_CODE_EXECUTOR (self));

  AGENTEXEC_CODE_EXECUTOR_GET_IFACE (self)->close (self);
}

/**
 * agentexec_code_executor_end_session: (virtual end_session)
 * @self: a [iface@AgentExec.CodeExecutor]
 * @execution_id: the [property@AgentExec.ExecutionInput:execution-id] of
 *   a stateful session
 *
 * Ends the stateful sessions of @execution_id (of every language): their
 * interpreters stop, their containers are removed, and the next run with
 * that id starts afresh. Does nothing when there is none. A run of that
 * session in progress is waited for (cancel it first to end it sooner).
 * Stateless executors have nothing to end.
 *
 * Since: 1.0
 */
void
agentexec_code_executor_end_session (AgentExecCodeExecutor *self, const char *execution_id)
{
  g_return_if_fail (AGENTEXEC_IS_CODE_EXECUTOR (self));
  g_return_if_fail (execution_id != NULL);

  AGENTEXEC_CODE_EXECUTOR_GET_IFACE (self)->end_session (self, execution_id);
}

/**
 * agentexec_code_executor_process_llm_request: (virtual process_llm_request)
 * @self: a [iface@AgentExec.CodeExecutor]
 * @request: a generateContent request document (changed in place)
 * @error: return location for a #GError
 *
 * Lets the executor adjust a model request before the agent loop sends it:
 * [class@AgentExec.BuiltInExecutor] adds Gemini's code-execution tool, the
 * other executors leave the request as it is.
 *
 * Returns: %TRUE on success, %FALSE with @error set (for instance a model
 *   that cannot execute code)
 *
 * Since: 1.0
 */
gboolean
agentexec_code_executor_process_llm_request (AgentExecCodeExecutor *self,
                                             JsonObject *request,
                                             GError **error)
{
  g_return_val_if_fail (AGENTEXEC_IS_CODE_EXECUTOR (self), FALSE);
  g_return_val_if_fail (request != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return AGENTEXEC_CODE_EXECUTOR_GET_IFACE (self)->process_llm_request (self, request, error);
}

/**
 * agentexec_code_executor_emit_output:
 * @self: a [iface@AgentExec.CodeExecutor]
 * @input: the input that produced the output
 * @stream: the stream
 * @chunk: the bytes
 *
 * Emits [signal@AgentExec.CodeExecutor::output] where the caller expects it
 * (see the signal). For executors implemented outside libagentexec.
 *
 * Since: 1.0
 */
void
agentexec_code_executor_emit_output (AgentExecCodeExecutor *self,
                                     AgentExecExecutionInput *input,
                                     AgentExecStream stream,
                                     GBytes *chunk)
{
  gsize len;
  const char *data;

  g_return_if_fail (AGENTEXEC_IS_CODE_EXECUTOR (self));
  g_return_if_fail (AGENTEXEC_IS_EXECUTION_INPUT (input));
  g_return_if_fail (chunk != NULL);

  data = g_bytes_get_data (chunk, &len);
  _agentexec_code_executor_emit_output_in (self, _agentexec_code_executor_get_output_context (),
                                           input, stream, data, len);
}

GMainContext *
_agentexec_code_executor_get_output_context (void)
{
  return g_private_get (&output_context_key);
}

gboolean
_agentexec_code_executor_has_output_handler (AgentExecCodeExecutor *self)
{
  return g_signal_has_handler_pending (self, signals[OUTPUT], 0, TRUE);
}

typedef struct
{
  AgentExecCodeExecutor *self;
  AgentExecExecutionInput *input;
  AgentExecStream stream;
  GBytes *chunk;
} OutputEmission;

static void
output_emission_free (gpointer data)
{
  OutputEmission *e = data;

  g_object_unref (e->self);
  g_object_unref (e->input);
  g_bytes_unref (e->chunk);
  g_free (e);
}

static gboolean
emit_in_context (gpointer data)
{
  OutputEmission *e = data;

  g_signal_emit (e->self, signals[OUTPUT], 0, e->input, e->stream, e->chunk);
  return G_SOURCE_REMOVE;
}

void
_agentexec_code_executor_emit_output_in (AgentExecCodeExecutor *self,
                                         GMainContext *output_context,
                                         AgentExecExecutionInput *input,
                                         AgentExecStream stream,
                                         const char *data,
                                         gsize len)
{
  g_autoptr (GSource) source = NULL;
  OutputEmission *e;

  if (len == 0 || !_agentexec_code_executor_has_output_handler (self))
    return;

  e = g_new0 (OutputEmission, 1);
  e->self = g_object_ref (self);
  e->input = g_object_ref (input);
  e->stream = stream;
  e->chunk = g_bytes_new (data, len);

  if (output_context == NULL)
    {
      emit_in_context (e);
      output_emission_free (e);
      return;
    }

  /* An idle source per chunk, at one priority, keeps the chunks in order. */
  source = g_idle_source_new ();
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, emit_in_context, e, output_emission_free);
  g_source_set_static_name (source, "[agentexec] output");
  g_source_attach (source, output_context);
}
