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

/* Where the output of the call running in a thread goes: the caller's main
 * context (NULL: the calling thread itself, for a sync call) and, for
 * execute_code_with_output, the caller's function. A thread-local pointer to
 * it is set for the duration of the call, so every backend's emission
 * (_agentexec_code_executor_emit_output_in, from the thread that runs the
 * call) finds the call it belongs to. */
typedef struct
{
  gatomicrefcount ref_count;
  GMainContext *context;
  AgentExecExecOutputFunc func;
  gpointer data;
  GDestroyNotify destroy;
} OutputTarget;

static GPrivate output_target_key;

static OutputTarget *
output_target_new (GMainContext *context,
                   AgentExecExecOutputFunc func,
                   gpointer data,
                   GDestroyNotify destroy)
{
  OutputTarget *target = g_new0 (OutputTarget, 1);

  g_atomic_ref_count_init (&target->ref_count);
  target->context = context != NULL ? g_main_context_ref (context) : NULL;
  target->func = func;
  target->data = data;
  target->destroy = destroy;
  return target;
}

static OutputTarget *
output_target_ref (OutputTarget *target)
{
  g_atomic_ref_count_inc (&target->ref_count);
  return target;
}

static void
output_target_unref (OutputTarget *target)
{
  if (!g_atomic_ref_count_dec (&target->ref_count))
    return;
  if (target->destroy != NULL)
    target->destroy (target->data);
  g_clear_pointer (&target->context, g_main_context_unref);
  g_free (target);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (OutputTarget, output_target_unref)

/* Makes @target (borrowed) this thread's output target; returns the previous one. */
static OutputTarget *
output_target_push (OutputTarget *target)
{
  OutputTarget *previous = g_private_get (&output_target_key);

  g_private_set (&output_target_key, target);
  return previous;
}

typedef struct
{
  AgentExecExecutorContext *context;
  AgentExecExecutionInput *input;
  OutputTarget *target; /* borrowed from the caller's side; NULL: the task's context */
} ExecuteData;

static void
execute_data_free (gpointer data)
{
  ExecuteData *d = data;

  g_clear_object (&d->context);
  g_clear_object (&d->input);
  g_free (d);
}

static ExecuteData *
execute_data_new (AgentExecExecutorContext *context,
                  AgentExecExecutionInput *input,
                  OutputTarget *target)
{
  ExecuteData *d = g_new0 (ExecuteData, 1);

  d->context = context != NULL ? g_object_ref (context) : NULL;
  d->input = g_object_ref (input);
  d->target = target;
  return d;
}

static void
execute_code_thread (GTask *task,
                     gpointer source_object,
                     gpointer task_data,
                     GCancellable *cancellable)
{
  AgentExecCodeExecutor *self = source_object;
  ExecuteData *d = task_data;
  g_autoptr (OutputTarget) own_target = NULL;
  OutputTarget *previous;
  GError *error = NULL;
  AgentExecExecutionResult *result;

  if (d->target == NULL)
    own_target = output_target_new (g_task_get_context (task), NULL, NULL, NULL);
  previous = output_target_push (d->target != NULL ? d->target : own_target);
  result = AGENTEXEC_CODE_EXECUTOR_GET_IFACE (self)->execute_code (self, d->context, d->input,
                                                                   cancellable, &error);
  output_target_push (previous);
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

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, real_execute_code_async);
  g_task_set_name (task, "agentexec_code_executor_execute_code_async");
  g_task_set_task_data (task, execute_data_new (context, input, NULL), execute_data_free);
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

/* Per-call output */

/**
 * agentexec_code_executor_execute_code_with_output:
 * @self: a [iface@AgentExec.CodeExecutor]
 * @context: (nullable): the invocation's [class@AgentExec.ExecutorContext]
 * @input: what to run
 * @output_func: (scope notified) (nullable) (closure output_data) (destroy output_destroy):
 *   called with each chunk of this call's output
 * @output_data: (closure output_func): data for @output_func
 * @output_destroy: frees @output_data; called before
 *   this function returns
 * @cancellable: (nullable): a #GCancellable; cancelling kills the code
 * @error: return location for a #GError
 *
 * Runs @input like [method@AgentExec.CodeExecutor.execute_code], and calls
 * @output_func with every chunk of standard output and error that this call
 * produces, in order, in the calling thread, each before this function
 * returns. Unlike [signal@AgentExec.CodeExecutor::output], which every call
 * on the executor emits, @output_func never sees another call's output, so
 * concurrent callers of one executor need not tell their chunks apart. The
 * `output` signal is still emitted as well.
 *
 * ```c
 * static void
 * on_output (AgentExecExecutionInput *input, AgentExecStream stream,
 *            GBytes *chunk, gpointer user_data)
 * {
 *   g_byte_array_append (user_data, g_bytes_get_data (chunk, NULL),
 *                        g_bytes_get_size (chunk));
 * }
 *
 * result = agentexec_code_executor_execute_code_with_output (
 *     executor, NULL, input, on_output, buffer, NULL, NULL, &error);
 * ```
 *
 * Returns: (transfer full): the [class@AgentExec.ExecutionResult], or %NULL
 *   with @error set
 *
 * Since: 1.0
 */
AgentExecExecutionResult *
agentexec_code_executor_execute_code_with_output (AgentExecCodeExecutor *self,
                                                  AgentExecExecutorContext *context,
                                                  AgentExecExecutionInput *input,
                                                  AgentExecExecOutputFunc output_func,
                                                  gpointer output_data,
                                                  GDestroyNotify output_destroy,
                                                  GCancellable *cancellable,
                                                  GError **error)
{
  g_autoptr (OutputTarget) target = NULL;
  OutputTarget *previous;
  AgentExecExecutionResult *result;

  g_return_val_if_fail (AGENTEXEC_IS_CODE_EXECUTOR (self), NULL);

  target = output_target_new (NULL, output_func, output_data, output_destroy);
  previous = output_target_push (target);
  result = agentexec_code_executor_execute_code (self, context, input, cancellable, error);
  output_target_push (previous);
  return result;
}

/* The async call's side: owns the target, so that @output_destroy runs in
 * the caller's context, before the caller's callback. */
typedef struct
{
  OutputTarget *target;
  AgentExecExecutionInput *input;
  gulong relay_id;
  GAsyncReadyCallback callback;
  gpointer user_data;
} OutputCall;

static void
output_call_free (OutputCall *call)
{
  g_clear_pointer (&call->target, output_target_unref);
  g_clear_object (&call->input);
  g_free (call);
}

static OutputCall *
output_call_new (GMainContext *context,
                 AgentExecExecutionInput *input,
                 AgentExecExecOutputFunc output_func,
                 gpointer output_data,
                 GDestroyNotify output_destroy)
{
  OutputCall *call = g_new0 (OutputCall, 1);

  call->target = output_target_new (context, output_func, output_data, output_destroy);
  call->input = g_object_ref (input);
  return call;
}

/* In the caller's context, after every chunk of the call was delivered
 * (they were queued before the result, at the same priority). */
static void
with_output_ready (GObject *source, GAsyncResult *result, gpointer user_data)
{
  OutputCall *call = user_data;
  GAsyncReadyCallback callback = call->callback;
  gpointer callback_data = call->user_data;

  output_call_free (call);
  if (callback != NULL)
    callback (source, result, callback_data);
}

/* An executor with an execute_code_async of its own (written in Python or
 * JavaScript) emits ::output in the caller's context: relay this call's. */
static void
relay_output (AgentExecCodeExecutor *self,
              AgentExecExecutionInput *input,
              AgentExecStream stream,
              GBytes *chunk,
              gpointer user_data)
{
  OutputCall *call = user_data;

  if (input == call->input && call->target->func != NULL)
    call->target->func (input, stream, chunk, call->target->data);
}

static void
relay_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  AgentExecCodeExecutor *self = AGENTEXEC_CODE_EXECUTOR (source);
  OutputCall *call = g_task_get_task_data (task);
  GError *error = NULL;
  AgentExecExecutionResult *ret;

  ret = AGENTEXEC_CODE_EXECUTOR_GET_IFACE (self)->execute_code_finish (self, result, &error);
  g_clear_signal_handler (&call->relay_id, self);
  if (ret != NULL)
    g_task_return_pointer (task, ret, g_object_unref);
  else
    g_task_return_error (task, error);
}

static void
start_relayed (AgentExecCodeExecutor *self,
               AgentExecExecutorContext *context,
               OutputCall *call,
               GCancellable *cancellable,
               GTask *task)
{
  call->relay_id = g_signal_connect (self, "output", G_CALLBACK (relay_output), call);
  AGENTEXEC_CODE_EXECUTOR_GET_IFACE (self)->execute_code_async (
      self, context, call->input, cancellable, relay_done, g_object_ref (task));
}

/**
 * agentexec_code_executor_execute_code_with_output_async:
 * @self: a [iface@AgentExec.CodeExecutor]
 * @context: (nullable): the invocation's [class@AgentExec.ExecutorContext]
 * @input: what to run
 * @output_func: (scope notified) (nullable) (closure output_data) (destroy output_destroy):
 *   called with each chunk of this call's output
 * @output_data: (closure output_func): data for @output_func
 * @output_destroy: frees @output_data; called in the
 *   caller's context before @callback
 * @cancellable: (nullable): a #GCancellable; cancelling kills the code
 * @callback: (scope async): called when the run completes
 * @user_data: (closure callback): data for @callback
 *
 * Starts running @input; see
 * [method@AgentExec.CodeExecutor.execute_code_with_output]. @output_func and
 * @callback are called in the thread-default main context of the caller;
 * every chunk of this call's output reaches @output_func before @callback
 * runs, and no other call's output ever does.
 *
 * For an executor that implements its own
 * [vfunc@AgentExec.CodeExecutor.execute_code_async] instead of relying on
 * the default, the chunks are taken from its
 * [signal@AgentExec.CodeExecutor::output] emissions for @input: give each
 * concurrent call its own input there.
 *
 * Since: 1.0
 */
void
agentexec_code_executor_execute_code_with_output_async (AgentExecCodeExecutor *self,
                                                        AgentExecExecutorContext *context,
                                                        AgentExecExecutionInput *input,
                                                        AgentExecExecOutputFunc output_func,
                                                        gpointer output_data,
                                                        GDestroyNotify output_destroy,
                                                        GCancellable *cancellable,
                                                        GAsyncReadyCallback callback,
                                                        gpointer user_data)
{
  g_autoptr (GMainContext) caller_context = NULL;
  g_autoptr (GTask) task = NULL;
  OutputCall *call;

  g_return_if_fail (AGENTEXEC_IS_CODE_EXECUTOR (self));
  g_return_if_fail (context == NULL || AGENTEXEC_IS_EXECUTOR_CONTEXT (context));
  g_return_if_fail (AGENTEXEC_IS_EXECUTION_INPUT (input));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  caller_context = g_main_context_ref_thread_default ();
  call = output_call_new (caller_context, input, output_func, output_data, output_destroy);
  call->callback = callback;
  call->user_data = user_data;
  /* with_output_ready owns call: a GTask always calls its callback once. */
  task = g_task_new (self, cancellable, with_output_ready, call);
  g_task_set_source_tag (task, agentexec_code_executor_execute_code_with_output_async);
  g_task_set_name (task, "agentexec_code_executor_execute_code_with_output_async");
  if (AGENTEXEC_CODE_EXECUTOR_GET_IFACE (self)->execute_code_async != real_execute_code_async)
    {
      g_task_set_task_data (task, call, NULL);
      start_relayed (self, context, call, cancellable, task);
      return;
    }
  g_task_set_task_data (task, execute_data_new (context, input, call->target), execute_data_free);
  g_task_run_in_thread (task, execute_code_thread);
}

/**
 * agentexec_code_executor_execute_code_with_output_finish:
 * @self: a [iface@AgentExec.CodeExecutor]
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Completes [method@AgentExec.CodeExecutor.execute_code_with_output_async].
 *
 * Returns: (transfer full): the [class@AgentExec.ExecutionResult], or %NULL
 *   with @error set
 *
 * Since: 1.0
 */
AgentExecExecutionResult *
agentexec_code_executor_execute_code_with_output_finish (AgentExecCodeExecutor *self,
                                                         GAsyncResult *result,
                                                         GError **error)
{
  g_return_val_if_fail (AGENTEXEC_IS_CODE_EXECUTOR (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) ==
                            agentexec_code_executor_execute_code_with_output_async,
                        NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
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
  OutputTarget *target = g_private_get (&output_target_key);

  return target != NULL ? target->context : NULL;
}

/* The per-call function of the call running in this thread, if any. */
static OutputTarget *
current_output_func_target (void)
{
  OutputTarget *target = g_private_get (&output_target_key);

  return target != NULL && target->func != NULL ? target : NULL;
}

gboolean
_agentexec_code_executor_has_output_handler (AgentExecCodeExecutor *self)
{
  return current_output_func_target () != NULL ||
         g_signal_has_handler_pending (self, signals[OUTPUT], 0, TRUE);
}

typedef struct
{
  AgentExecCodeExecutor *self;
  AgentExecExecutionInput *input;
  AgentExecStream stream;
  GBytes *chunk;
  OutputTarget *target; /* the call's function, or NULL */
} OutputEmission;

static void
output_emission_free (gpointer data)
{
  OutputEmission *e = data;

  g_object_unref (e->self);
  g_object_unref (e->input);
  g_bytes_unref (e->chunk);
  g_clear_pointer (&e->target, output_target_unref);
  g_free (e);
}

static gboolean
emit_in_context (gpointer data)
{
  OutputEmission *e = data;

  g_signal_emit (e->self, signals[OUTPUT], 0, e->input, e->stream, e->chunk);
  if (e->target != NULL)
    e->target->func (e->input, e->stream, e->chunk, e->target->data);
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
  OutputTarget *target = current_output_func_target ();
  OutputEmission *e;

  if (len == 0 || !_agentexec_code_executor_has_output_handler (self))
    return;

  e = g_new0 (OutputEmission, 1);
  e->self = g_object_ref (self);
  e->input = g_object_ref (input);
  e->stream = stream;
  e->chunk = g_bytes_new (data, len);
  e->target = target != NULL ? output_target_ref (target) : NULL;

  if (output_context == NULL)
    {
      emit_in_context (e);
      output_emission_free (e);
      return;
    }

  /* An idle source per chunk, at one priority, keeps the chunks in order and
   * ahead of the call's completion (a GTask completes at the same priority). */
  source = g_idle_source_new ();
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, emit_in_context, e, output_emission_free);
  g_source_set_static_name (source, "[agentexec] output");
  g_source_attach (source, output_context);
}
