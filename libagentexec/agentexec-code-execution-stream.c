/* agentexec-code-execution-stream.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "agentexec-code-block-stream.h"
#include "agentexec-code-execution-flow-private.h"
#include "agentexec-code-execution-step-private.h"
#include "agentexec-code-execution-stream.h"
#include "agentexec-genai-private.h"

/**
 * AgentExecCodeExecutionStream:
 *
 * The streaming entry point of [class@AgentExec.CodeExecutionFlow]: feed it
 * the model's text deltas as they arrive (from any model client's
 * server-sent events), and each code block runs the moment its closing
 * delimiter has been fed, while the model is still writing the rest.
 *
 * It is [method@AgentExec.CodeExecutionFlow.process_text] for a reply that
 * arrives in pieces, with the same bookkeeping: the block runs with the
 * context's input files (and the session id of a stateful executor), the run
 * goes into the context's history, a code error increments the invocation's
 * error count and a success resets it, and the retry gate
 * (`error-retry-attempts` errors in a row) stops the code from running.
 * However the reply is split, the steps are the same as for the whole reply
 * fed at once, and in the default mode the same as `process_text` gives.
 *
 * - By default (ADK's rule) only the reply's first code block runs; the
 *   text after it is dropped from [method@AgentExec.CodeExecutionStream.get_text].
 * - With [property@AgentExec.CodeExecutionFlow:all-blocks], every block
 *   runs, one after the other in reply order (a block that completes while
 *   another runs waits for it), the gate being checked before each; the
 *   text keeps everything, each block followed by its result.
 *
 * Each step is delivered by [signal@AgentExec.CodeExecutionStream::step] as
 * soon as it is settled, and [method@AgentExec.CodeExecutionStream.end_async]
 * completes, once the reply is over and every block has run, with all of
 * them.
 *
 * The code runs through the executor's
 * [method@AgentExec.CodeExecutor.execute_code_async], so feeding never
 * waits for it: call feed and end in the thread whose thread-default main
 * context was current when the stream was created (and that runs it, when
 * it runs at all: not from a thread while another runs that context), and
 * let that context run (the step signal, the executor's output signal and
 * the end callback are delivered there).
 *
 * ```python
 * stream = AgentExec.CodeExecutionStream.new(flow, context, "inv-1", None)
 * stream.connect("step", lambda s, step: print(step.get_result_text()))
 * for delta in model_deltas():
 *     stream.feed(delta)
 * steps = stream.end()          # or await the end_async variant
 * send_to_model(stream.get_text())
 * ```
 *
 * Since: 1.0
 */

/* A complete block waiting for its turn. */
typedef struct
{
  char *code;
  char *language;
  gsize end; /* offset in the reply just past its end delimiter */
} Pending;

struct _AgentExecCodeExecutionStream
{
  GObject parent_instance;

  AgentExecCodeExecutionFlow *flow;
  AgentExecExecutorContext *context;
  char *invocation_id;
  GCancellable *cancellable;
  GMainContext *main_context;

  AgentExecCodeBlockStream *blocks;
  GStrv delimiters;
  GString *reply;     /* everything fed */
  GString *rewritten; /* the reply up to `upto`, each run block followed by its result */
  gsize upto;

  GQueue queue; /* Pending */
  Pending *running;
  AgentExecCodeExecutionStep *running_step;
  AgentExecExecutionInput *running_input;

  GPtrArray *steps;
  GPtrArray *waiting; /* GTask: end_async calls not completed */
  GError *error;
  char *text;

  guint all_blocks : 1;
  guint first_taken : 1; /* first-block mode: the block is chosen */
  guint ended : 1;
  guint done : 1;
  guint cut : 1; /* a NUL byte ended the reply */
};

G_DEFINE_FINAL_TYPE (AgentExecCodeExecutionStream, agentexec_code_execution_stream, G_TYPE_OBJECT)

enum
{
  STEP,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
pending_free (Pending *pending)
{
  g_free (pending->code);
  g_free (pending->language);
  g_free (pending);
}

static void
agentexec_code_execution_stream_dispose (GObject *object)
{
  AgentExecCodeExecutionStream *self = AGENTEXEC_CODE_EXECUTION_STREAM (object);

  if (self->blocks != NULL)
    g_signal_handlers_disconnect_by_data (self->blocks, self);
  g_clear_object (&self->blocks);
  g_clear_object (&self->flow);
  g_clear_object (&self->context);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->running_step);
  g_clear_object (&self->running_input);
  g_clear_pointer (&self->steps, g_ptr_array_unref);
  g_clear_pointer (&self->waiting, g_ptr_array_unref);

  G_OBJECT_CLASS (agentexec_code_execution_stream_parent_class)->dispose (object);
}

static void
agentexec_code_execution_stream_finalize (GObject *object)
{
  AgentExecCodeExecutionStream *self = AGENTEXEC_CODE_EXECUTION_STREAM (object);

  g_queue_clear_full (&self->queue, (GDestroyNotify) pending_free);
  g_clear_pointer (&self->running, pending_free);
  g_clear_pointer (&self->main_context, g_main_context_unref);
  g_clear_pointer (&self->delimiters, g_strfreev);
  g_string_free (self->reply, TRUE);
  g_string_free (self->rewritten, TRUE);
  g_clear_error (&self->error);
  g_free (self->invocation_id);
  g_free (self->text);

  G_OBJECT_CLASS (agentexec_code_execution_stream_parent_class)->finalize (object);
}

static void
agentexec_code_execution_stream_class_init (AgentExecCodeExecutionStreamClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = agentexec_code_execution_stream_dispose;
  object_class->finalize = agentexec_code_execution_stream_finalize;

  /**
   * AgentExecCodeExecutionStream::step:
   * @self: the stream
   * @step: the step just settled
   *
   * Emitted once for each step, in reply order, in the stream's main
   * context: for a block that ran, as soon as its result is recorded (the
   * step's result text and text are set); for a block the retry gate held
   * back (all-blocks mode), at once; and, for a reply that ran no code, for
   * its single step when the stream ends.
   *
   * Since: 1.0
   */
  signals[STEP] = g_signal_new ("step", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                                NULL, G_TYPE_NONE, 1, AGENTEXEC_TYPE_CODE_EXECUTION_STEP);
}

static void
agentexec_code_execution_stream_init (AgentExecCodeExecutionStream *self)
{
  self->reply = g_string_new (NULL);
  self->rewritten = g_string_new (NULL);
  self->steps = g_ptr_array_new_with_free_func (g_object_unref);
  self->waiting = g_ptr_array_new_with_free_func (g_object_unref);
  g_queue_init (&self->queue);
}

/* The stream's state is touched by feed and end and by the run callbacks,
 * all in the thread that runs its main context: the caller must be it (its
 * thread-default context, and not owned by another thread). */
static gboolean
in_owner_context (AgentExecCodeExecutionStream *self)
{
  g_autoptr (GMainContext) current = g_main_context_ref_thread_default ();

  if (current != self->main_context || !g_main_context_acquire (self->main_context))
    return FALSE;
  g_main_context_release (self->main_context);
  return TRUE;
}

/* ------------------------------------------------------------------ */
/* Steps and text.                                                     */

/* The reply up to @end joins the rewritten text, then @result_text. */
static void
rewrite_up_to (AgentExecCodeExecutionStream *self, gsize end, const char *result_text)
{
  g_assert (end >= self->upto && end <= self->reply->len);
  g_string_append_len (self->rewritten, self->reply->str + self->upto, end - self->upto);
  self->upto = end;
  if (result_text != NULL)
    g_string_append_printf (self->rewritten, "\n%s", result_text);
}

static void
settle_step (AgentExecCodeExecutionStream *self, AgentExecCodeExecutionStep *step)
{
  g_ptr_array_add (self->steps, g_object_ref (step));
  g_signal_emit (self, signals[STEP], 0, step);
}

static void complete (AgentExecCodeExecutionStream *self);
static void run_done (GObject *source, GAsyncResult *res, gpointer user_data);

static AgentExecCodeExecutionStep *
step_for (Pending *pending)
{
  AgentExecCodeExecutionStep *step = _agentexec_code_execution_step_new ();

  step->code = g_strdup (pending->code);
  step->language = g_strdup (pending->language);
  return step;
}

/* All-blocks mode: a block the retry gate holds back stays as the model
 * wrote it. */
static void
hold_back (AgentExecCodeExecutionStream *self, Pending *pending)
{
  g_autoptr (AgentExecCodeExecutionStep) step = step_for (pending);

  step->gated = TRUE;
  rewrite_up_to (self, pending->end, NULL);
  step->text = g_strdup (self->rewritten->str);
  settle_step (self, step);
}

static void
start (AgentExecCodeExecutionStream *self, Pending *pending)
{
  AgentExecCodeExecutor *executor = agentexec_code_execution_flow_get_executor (self->flow);

  self->running = pending;
  self->running_step = step_for (pending);
  self->running_input = _agentexec_code_execution_flow_make_input (
      self->flow, self->context, pending->code, pending->language);
  agentexec_code_executor_execute_code_async (executor, self->context, self->running_input,
                                              self->cancellable, run_done, g_object_ref (self));
}

/* Starts the next block when none runs; completes the end once all ran. */
static void
pump (AgentExecCodeExecutionStream *self)
{
  while (self->running == NULL && self->error == NULL && !g_queue_is_empty (&self->queue))
    {
      Pending *pending = g_queue_pop_head (&self->queue);

      if (_agentexec_code_execution_flow_is_gated (self->flow, self->context, self->invocation_id))
        {
          hold_back (self, pending);
          pending_free (pending);
          continue;
        }
      start (self, pending);
    }
  if (self->running == NULL && self->ended && !self->done)
    complete (self);
}

static void
run_done (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (AgentExecCodeExecutionStream) self = user_data;
  g_autoptr (AgentExecExecutionResult) result = NULL;
  g_autoptr (AgentExecCodeExecutionStep) step = g_steal_pointer (&self->running_step);
  g_autoptr (AgentExecExecutionInput) input = g_steal_pointer (&self->running_input);
  Pending *pending = g_steal_pointer (&self->running);
  GError *error = NULL;

  result =
      agentexec_code_executor_execute_code_finish (AGENTEXEC_CODE_EXECUTOR (source), res, &error);
  if (result == NULL)
    {
      /* The code could not be run: no later block runs either. */
      g_prefix_error (&error,
                      "Could not run the reply's code block ending at byte %zu: ", pending->end);
      self->error = error;
    }
  else
    {
      _agentexec_code_execution_flow_record (self->flow, self->context, self->invocation_id, step,
                                             input, result);
      rewrite_up_to (self, pending->end, step->result_text);
      step->text = g_strdup (self->rewritten->str);
      settle_step (self, step);
    }
  pending_free (pending);
  pump (self);
}

/* ------------------------------------------------------------------ */
/* Blocks as they complete.                                            */

static Pending *
first_block (AgentExecCodeExecutionStream *self)
{
  Pending *pending;
  gsize start = 0, end = 0;
  char *language = NULL;
  char *code;

  /* The reply so far holds the first match of the whole reply (the same
   * start, and the first end after it), empty or not, as ADK would find. */
  code = _agentexec_find_first_code_block (self->reply->str, (const char *const *) self->delimiters,
                                           &start, &end, &language);
  if (code == NULL)
    return NULL;
  pending = g_new0 (Pending, 1);
  pending->code = code;
  pending->language = language != NULL ? language : g_strdup ("python");
  pending->end = end;
  return pending;
}

static Pending *
any_block (AgentExecCodeExecutionStream *self, AgentExecCodeBlock *block)
{
  Pending *pending = g_new0 (Pending, 1);
  gsize start = agentexec_code_block_get_start (block);

  pending->code = g_strdup (agentexec_code_block_get_code (block));
  pending->language = _agentexec_delimited_block_language (self->reply->str + start,
                                                           (const char *const *) self->delimiters);
  if (pending->language == NULL)
    pending->language = g_strdup ("python");
  pending->end = agentexec_code_block_get_end (block);
  return pending;
}

static void
on_block (AgentExecCodeBlockStream *blocks, AgentExecCodeBlock *block, gpointer user_data)
{
  AgentExecCodeExecutionStream *self = user_data;
  Pending *pending;

  if (self->error != NULL)
    return;
  if (self->all_blocks)
    pending = any_block (self, block);
  else
    {
      if (self->first_taken)
        return;
      self->first_taken = TRUE;
      /* ADK checks the gate before it looks for code. */
      if (_agentexec_code_execution_flow_is_gated (self->flow, self->context, self->invocation_id))
        return;
      pending = first_block (self);
      if (pending == NULL)
        return;
    }
  g_queue_push_tail (&self->queue, pending);
  pump (self);
}

/* ------------------------------------------------------------------ */
/* The end.                                                            */

/* A reply that ran no code gives one step, as process_text does. */
static void
settle_without_code (AgentExecCodeExecutionStream *self)
{
  g_autoptr (AgentExecCodeExecutionStep) step = _agentexec_code_execution_step_new ();

  step->text = g_strdup (self->reply->str);
  step->gated =
      _agentexec_code_execution_flow_is_gated (self->flow, self->context, self->invocation_id);
  settle_step (self, step);
}

static char *
final_text (AgentExecCodeExecutionStream *self)
{
  if (!self->all_blocks)
    {
      AgentExecCodeExecutionStep *first =
          self->steps->len > 0 ? g_ptr_array_index (self->steps, 0) : NULL;

      /* ADK drops what follows the block that ran. */
      return g_strdup (first != NULL && first->executed ? first->text : self->reply->str);
    }
  return g_strconcat (self->rewritten->str, self->reply->str + self->upto, NULL);
}

static GPtrArray *
copy_steps (GPtrArray *steps)
{
  GPtrArray *copy = g_ptr_array_new_full (steps->len, g_object_unref);

  for (guint i = 0; i < steps->len; i++)
    g_ptr_array_add (copy, g_object_ref (g_ptr_array_index (steps, i)));
  return copy;
}

static void
complete (AgentExecCodeExecutionStream *self)
{
  g_autoptr (GPtrArray) waiting = g_steal_pointer (&self->waiting);
  gboolean ran = FALSE;

  self->done = TRUE;
  self->waiting = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < self->steps->len; i++)
    ran = ran || AGENTEXEC_CODE_EXECUTION_STEP (g_ptr_array_index (self->steps, i))->executed ||
          AGENTEXEC_CODE_EXECUTION_STEP (g_ptr_array_index (self->steps, i))->gated;
  if (self->error == NULL && !ran)
    settle_without_code (self);
  self->text = final_text (self);
  for (guint i = 0; i < waiting->len; i++)
    {
      GTask *task = g_ptr_array_index (waiting, i);

      if (self->error != NULL)
        g_task_return_error (task, g_error_copy (self->error));
      else
        g_task_return_pointer (task, copy_steps (self->steps), (GDestroyNotify) g_ptr_array_unref);
    }
}

/* ------------------------------------------------------------------ */
/* Public API.                                                         */

/**
 * agentexec_code_execution_stream_new:
 * @flow: the [class@AgentExec.CodeExecutionFlow] whose executor runs the code
 * @context: the session's [class@AgentExec.ExecutorContext]
 * @invocation_id: the current invocation
 * @cancellable: (nullable): cancels the runs (a run cancelled, or not
 *   started, ends the stream with an error)
 *
 * Starts the streaming step of one model reply. The mode (first block
 * only, or all blocks) and the executor's delimiters are taken from @flow
 * now. The stream belongs to the calling thread's thread-default main
 * context.
 *
 * Returns: (transfer full): a new [class@AgentExec.CodeExecutionStream]
 *
 * Since: 1.0
 */
AgentExecCodeExecutionStream *
agentexec_code_execution_stream_new (AgentExecCodeExecutionFlow *flow,
                                     AgentExecExecutorContext *context,
                                     const char *invocation_id,
                                     GCancellable *cancellable)
{
  AgentExecCodeExecutionStream *self;
  g_autoptr (AgentExecCodeBlockParser) parser = NULL;

  g_return_val_if_fail (AGENTEXEC_IS_CODE_EXECUTION_FLOW (flow), NULL);
  g_return_val_if_fail (AGENTEXEC_IS_EXECUTOR_CONTEXT (context), NULL);
  g_return_val_if_fail (invocation_id != NULL, NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);

  self = g_object_new (AGENTEXEC_TYPE_CODE_EXECUTION_STREAM, NULL);
  self->flow = g_object_ref (flow);
  self->context = g_object_ref (context);
  self->invocation_id = g_strdup (invocation_id);
  self->cancellable = cancellable != NULL ? g_object_ref (cancellable) : NULL;
  self->main_context = g_main_context_ref_thread_default ();
  self->all_blocks = agentexec_code_execution_flow_get_all_blocks (flow);
  self->delimiters = _agentexec_code_execution_flow_dup_code_block_delimiters (flow);
  parser = agentexec_code_block_parser_new_with_delimiters ((const char *const *) self->delimiters);
  self->blocks = agentexec_code_block_stream_new (parser);
  g_signal_connect (self->blocks, "block", G_CALLBACK (on_block), self);
  return self;
}

/**
 * agentexec_code_execution_stream_get_flow:
 * @self: a [class@AgentExec.CodeExecutionStream]
 *
 * Gets the flow that runs the code blocks of this stream.
 *
 * Returns: (transfer none): the flow
 *
 * Since: 1.0
 */
AgentExecCodeExecutionFlow *
agentexec_code_execution_stream_get_flow (AgentExecCodeExecutionStream *self)
{
  g_return_val_if_fail (AGENTEXEC_IS_CODE_EXECUTION_STREAM (self), NULL);

  return self->flow;
}

/**
 * agentexec_code_execution_stream_get_invocation_id:
 * @self: a [class@AgentExec.CodeExecutionStream]
 *
 * Gets the invocation the stream's reply belongs to (the key of ADK's error
 * counts and results history).
 *
 * Returns: the invocation the stream's runs are counted against
 *
 * Since: 1.0
 */
const char *
agentexec_code_execution_stream_get_invocation_id (AgentExecCodeExecutionStream *self)
{
  g_return_val_if_fail (AGENTEXEC_IS_CODE_EXECUTION_STREAM (self), NULL);

  return self->invocation_id;
}

/**
 * agentexec_code_execution_stream_get_all_blocks:
 * @self: a [class@AgentExec.CodeExecutionStream]
 *
 * Tells whether the stream runs every code block of the reply in order, or the
 * first only (ADK's way), as its flow's
 * [property@AgentExec.CodeExecutionFlow:all-blocks] said when the stream
 * began.
 *
 * Returns: whether every block runs (else only the first), as
 *   [property@AgentExec.CodeExecutionFlow:all-blocks] was when the stream
 *   was created
 *
 * Since: 1.0
 */
gboolean
agentexec_code_execution_stream_get_all_blocks (AgentExecCodeExecutionStream *self)
{
  g_return_val_if_fail (AGENTEXEC_IS_CODE_EXECUTION_STREAM (self), FALSE);

  return self->all_blocks;
}

/**
 * agentexec_code_execution_stream_feed_full:
 * @self: a [class@AgentExec.CodeExecutionStream]
 * @data: (array length=len) (element-type guint8): the next bytes of the reply
 * @len: the length of @data, or -1 when it is NUL-terminated
 *
 * Adds the next bytes of the model's reply (a chunk may split lines and
 * UTF-8 characters anywhere). A block whose end delimiter they complete
 * starts at once, or after the block running now. The reply ends at a NUL
 * byte: what follows one is ignored.
 *
 * Since: 1.0
 */
void
agentexec_code_execution_stream_feed_full (AgentExecCodeExecutionStream *self,
                                           const char *data,
                                           gssize len)
{
  g_return_if_fail (AGENTEXEC_IS_CODE_EXECUTION_STREAM (self));
  g_return_if_fail (data != NULL || len == 0);
  g_return_if_fail (!self->ended);
  g_return_if_fail (in_owner_context (self));

  if (len < 0)
    len = strlen (data);
  if (self->cut)
    return;
  /* The reply is text and ends at a NUL byte, as for process_text, however
   * the reply is split. */
  if (memchr (data, '\0', len) != NULL)
    {
      len = (const char *) memchr (data, '\0', len) - data;
      self->cut = TRUE;
    }
  g_string_append_len (self->reply, data, len);
  agentexec_code_block_stream_feed_full (self->blocks, data, len);
}

/**
 * agentexec_code_execution_stream_feed:
 * @self: a [class@AgentExec.CodeExecutionStream]
 * @delta: the next piece of the model's reply
 *
 * Adds the next piece of the reply; see
 * [method@AgentExec.CodeExecutionStream.feed_full]. Not to be called after
 * [method@AgentExec.CodeExecutionStream.end_async].
 *
 * Since: 1.0
 */
void
agentexec_code_execution_stream_feed (AgentExecCodeExecutionStream *self, const char *delta)
{
  g_return_if_fail (delta != NULL);

  agentexec_code_execution_stream_feed_full (self, delta, -1);
}

/**
 * agentexec_code_execution_stream_end_async:
 * @self: a [class@AgentExec.CodeExecutionStream]
 * @callback: (scope async): called once every block has run
 * @user_data: (closure): data for @callback
 *
 * Ends the reply (a block that only its end completes is found now) and
 * completes, in the stream's main context, once every block has run.
 *
 * Since: 1.0
 */
void
agentexec_code_execution_stream_end_async (AgentExecCodeExecutionStream *self,
                                           GAsyncReadyCallback callback,
                                           gpointer user_data)
{
  g_autoptr (GTask) task = NULL;

  g_return_if_fail (AGENTEXEC_IS_CODE_EXECUTION_STREAM (self));
  g_return_if_fail (!self->ended);
  g_return_if_fail (in_owner_context (self));

  task = g_task_new (self, NULL, callback, user_data);
  g_task_set_source_tag (task, agentexec_code_execution_stream_end_async);
  g_task_set_name (task, "agentexec_code_execution_stream_end_async");
  g_ptr_array_add (self->waiting, g_steal_pointer (&task));
  g_object_ref (self);
  agentexec_code_block_stream_finish (self->blocks);
  self->ended = TRUE;
  pump (self);
  g_object_unref (self);
}

/**
 * agentexec_code_execution_stream_end_finish:
 * @self: a [class@AgentExec.CodeExecutionStream]
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@AgentExec.CodeExecutionStream.end_async].
 *
 * Returns: (transfer container) (element-type AgentExecCodeExecutionStep):
 *   the steps in reply order (one, not executed, for a reply that ran no
 *   code), or %NULL with @error set when a block could not be run
 *   (backend unavailable, retries exhausted, cancelled)
 *
 * Since: 1.0
 */
GPtrArray *
agentexec_code_execution_stream_end_finish (AgentExecCodeExecutionStream *self,
                                            GAsyncResult *result,
                                            GError **error)
{
  g_return_val_if_fail (AGENTEXEC_IS_CODE_EXECUTION_STREAM (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
store_result (GObject *source, GAsyncResult *res, gpointer user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (res);
}

/**
 * agentexec_code_execution_stream_end:
 * @self: a [class@AgentExec.CodeExecutionStream]
 * @error: return location for a #GError
 *
 * Ends the reply and waits for every block to run: the synchronous
 * [method@AgentExec.CodeExecutionStream.end_async]. It runs the stream's
 * main context (the calling thread's thread-default one) until then, so
 * that the runs, the step signals and the executor's output signals are
 * delivered; sources of that context the caller attached run too.
 *
 * Returns: (transfer container) (element-type AgentExecCodeExecutionStep):
 *   the steps, or %NULL with @error set
 *
 * Since: 1.0
 */
GPtrArray *
agentexec_code_execution_stream_end (AgentExecCodeExecutionStream *self, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  g_return_val_if_fail (AGENTEXEC_IS_CODE_EXECUTION_STREAM (self), NULL);
  g_return_val_if_fail (!self->ended, NULL);
  g_return_val_if_fail (in_owner_context (self), NULL);

  agentexec_code_execution_stream_end_async (self, store_result, &result);
  while (result == NULL)
    g_main_context_iteration (self->main_context, TRUE);
  return agentexec_code_execution_stream_end_finish (self, result, error);
}

/**
 * agentexec_code_execution_stream_get_steps:
 * @self: a [class@AgentExec.CodeExecutionStream]
 *
 * Gets the steps settled so far.
 *
 * Returns: (transfer container) (element-type AgentExecCodeExecutionStep):
 *   the steps settled so far, in reply order
 *
 * Since: 1.0
 */
GPtrArray *
agentexec_code_execution_stream_get_steps (AgentExecCodeExecutionStream *self)
{
  g_return_val_if_fail (AGENTEXEC_IS_CODE_EXECUTION_STREAM (self), NULL);

  return copy_steps (self->steps);
}

/**
 * agentexec_code_execution_stream_get_pending:
 * @self: a [class@AgentExec.CodeExecutionStream]
 *
 * Gets how many complete blocks are running or waiting to run.
 *
 * Returns: how many complete blocks are running or waiting to run
 *
 * Since: 1.0
 */
guint
agentexec_code_execution_stream_get_pending (AgentExecCodeExecutionStream *self)
{
  g_return_val_if_fail (AGENTEXEC_IS_CODE_EXECUTION_STREAM (self), 0);

  return g_queue_get_length (&self->queue) + (self->running != NULL ? 1 : 0);
}

/**
 * agentexec_code_execution_stream_get_text:
 * @self: a [class@AgentExec.CodeExecutionStream]
 *
 * The reply for the conversation once the stream has ended: in first-block
 * mode what [method@AgentExec.CodeExecutionFlow.process_text] gives (the
 * reply up to the block that ran, a newline and its result in the
 * execution-result delimiters; the reply as it was when nothing ran); in
 * all-blocks mode the whole reply with each block that ran followed by a
 * newline and its result.
 *
 * Returns: (nullable): the text, or %NULL before the end completed
 *
 * Since: 1.0
 */
const char *
agentexec_code_execution_stream_get_text (AgentExecCodeExecutionStream *self)
{
  g_return_val_if_fail (AGENTEXEC_IS_CODE_EXECUTION_STREAM (self), NULL);

  return self->text;
}
