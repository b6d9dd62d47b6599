/* bench-flow.c: the streaming flow, delay from closing fence to execution
 *
 *   bench-flow [--runs N] [--python PATH]
 *
 * 1. Dispatch: a reply is fed up to its closing fence but the last
 *    backtick; the clock starts, the last backtick is fed, and a backend
 *    whose run only reads the clock records when it was entered. N runs,
 *    median and p90: the cost of the stream itself (block detection, the
 *    bookkeeping, the executor's async hand-off to its worker thread).
 * 2. Code running: the same, with the local backend and Python code that
 *    prints CLOCK_MONOTONIC as its first statement (the clock
 *    g_get_monotonic_time reads), stateless (a new interpreter per run)
 *    and stateful (a warm session): fence seen to the model's code running.
 * 3. A model writing at about 40 tokens/s (16 bytes every 10 ms) a reply
 *    whose block is followed by 1200 bytes of prose: when the block's result
 *    is ready, counted from the first byte, streamed vs waiting for the whole
 *    reply and calling process_text (stateful local session).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdlib.h>
#include <string.h>

#include "libagentexec.h"

static int runs = 200;
static char *python = NULL;

static GOptionEntry entries[] = { { "runs", 'n', 0, G_OPTION_ARG_INT, &runs,
                                    "Runs of each kind (default 200; 1/10 of it for the local "
                                    "ones)",
                                    "N" },
                                  { "python", 'p', 0, G_OPTION_ARG_FILENAME, &python,
                                    "The Python interpreter (default /usr/bin/python3)", "PATH" },
                                  { NULL } };

/* A backend that only records when its run was entered. */
#define BENCH_TYPE_CLOCK_EXECUTOR (bench_clock_executor_get_type ())
G_DECLARE_FINAL_TYPE (
    BenchClockExecutor, bench_clock_executor, BENCH, CLOCK_EXECUTOR, AgentExecBaseExecutor)

struct _BenchClockExecutor
{
  AgentExecBaseExecutor parent_instance;
  gpointer entered; /* monotonic µs, atomic */
};

G_DEFINE_FINAL_TYPE (BenchClockExecutor, bench_clock_executor, AGENTEXEC_TYPE_BASE_EXECUTOR)

static AgentExecExecutionResult *
clock_run (AgentExecBaseExecutor *base,
           AgentExecExecutorContext *context,
           AgentExecExecutionInput *input,
           const char *language,
           GCancellable *cancellable,
           GError **error)
{
  g_atomic_pointer_set (&BENCH_CLOCK_EXECUTOR (base)->entered,
                        GSIZE_TO_POINTER ((gsize) g_get_monotonic_time ()));
  return agentexec_execution_result_new (AGENTEXEC_OUTCOME_OK, "", "", 0, NULL);
}

static void
bench_clock_executor_class_init (BenchClockExecutorClass *klass)
{
  AGENTEXEC_BASE_EXECUTOR_CLASS (klass)->run = clock_run;
}

static void
bench_clock_executor_init (BenchClockExecutor *self)
{
}

static int
compare_doubles (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y ? 1 : 0;
}

static double
percentile (GArray *samples, double p)
{
  g_array_sort (samples, compare_doubles);
  return g_array_index (samples, double, (guint) ((samples->len - 1) * p + 0.5));
}

static void
count_step (AgentExecCodeExecutionStream *stream, AgentExecCodeExecutionStep *step, gpointer data)
{
  (*(guint *) data)++;
}

/* Feeds @head and the closing backtick; returns when the last one was fed
 * (µs) and leaves the step in @step_out once the stream ended. One context
 * for all runs: a stateful executor keeps its session. */
static gint64
stream_block (AgentExecCodeExecutionFlow *flow,
              AgentExecExecutorContext *context,
              const char *head,
              AgentExecCodeExecutionStep **step_out)
{
  g_autoptr (AgentExecCodeExecutionStream) stream =
      agentexec_code_execution_flow_stream_text (flow, context, "bench", NULL);
  g_autoptr (GPtrArray) steps = NULL;
  g_autoptr (GError) error = NULL;
  gint64 fence;
  guint settled = 0;

  g_signal_connect (stream, "step", G_CALLBACK (count_step), &settled);
  agentexec_code_execution_stream_feed (stream, head);
  fence = g_get_monotonic_time ();
  agentexec_code_execution_stream_feed (stream, "`");
  while (settled == 0)
    g_main_context_iteration (NULL, TRUE);
  steps = agentexec_code_execution_stream_end (stream, &error);
  if (steps == NULL || !agentexec_code_execution_step_get_executed (g_ptr_array_index (steps, 0)))
    g_error ("the block did not run: %s", error != NULL ? error->message : "not executed");
  if (step_out != NULL)
    *step_out = g_object_ref (g_ptr_array_index (steps, 0));
  return fence;
}

static void
bench_dispatch (void)
{
  g_autoptr (BenchClockExecutor) clock = g_object_new (BENCH_TYPE_CLOCK_EXECUTOR, NULL);
  g_autoptr (AgentExecCodeExecutionFlow) flow =
      agentexec_code_execution_flow_new (AGENTEXEC_CODE_EXECUTOR (clock));
  g_autoptr (GArray) samples = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (AgentExecExecutorContext) context = agentexec_executor_context_new (NULL);

  for (int i = 0; i < runs + 10; i++)
    {
      gint64 fence = stream_block (flow, context, "Let me check.\n```python\nprint(1)\n``", NULL);
      double us = (gint64) GPOINTER_TO_SIZE (g_atomic_pointer_get (&clock->entered)) - fence;

      if (i >= 10) /* warm-up */
        g_array_append_val (samples, us);
    }
  g_print ("%-52s %9.1f us  p90 %8.1f us  (%d runs)\n",
           "stream: fence seen -> backend run entered, median", percentile (samples, 0.5),
           percentile (samples, 0.9), runs);
}

static AgentExecCodeExecutor *
new_local (gboolean stateful)
{
  g_autoptr (GError) error = NULL;
  AgentExecLocalExecutor *executor = agentexec_local_executor_new (TRUE, &error);

  if (executor == NULL ||
      !agentexec_local_executor_set_interpreter (executor, "python", python, &error))
    g_error ("%s", error->message);
  agentexec_base_executor_set_stateful (AGENTEXEC_BASE_EXECUTOR (executor), stateful);
  return AGENTEXEC_CODE_EXECUTOR (executor);
}

#define CLOCK_CODE "import time\nprint(time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000)\n"

static void
bench_local (gboolean stateful)
{
  g_autoptr (AgentExecCodeExecutor) local = new_local (stateful);
  g_autoptr (AgentExecCodeExecutionFlow) flow = agentexec_code_execution_flow_new (local);
  g_autoptr (GArray) samples = g_array_new (FALSE, FALSE, sizeof (double));
  int n = MAX (runs / 10, 5);
  g_autoptr (AgentExecExecutorContext) context = agentexec_executor_context_new (NULL);

  for (int i = 0; i < n + 2; i++)
    {
      g_autoptr (AgentExecCodeExecutionStep) step = NULL;
      gint64 fence =
          stream_block (flow, context, "Let me check.\n```python\n" CLOCK_CODE "``", &step);
      const char *out = agentexec_execution_result_get_stdout (
          agentexec_code_execution_step_get_execution_result (step));
      double us = g_ascii_strtoll (out, NULL, 10) - fence;

      if (i >= 2)
        g_array_append_val (samples, us);
    }
  g_print ("%-52s %9.2f ms  p90 %8.2f ms  (%d runs)\n",
           stateful ? "stream: fence seen -> code running, local stateful"
                    : "stream: fence seen -> code running, local stateless",
           percentile (samples, 0.5) / 1000, percentile (samples, 0.9) / 1000, n);
  agentexec_code_executor_close (local);
}

/* A model writing @reply at 16 bytes every 10 ms; returns when the result
 * of its block was ready, in ms from the first byte. */
static double
model_reply (AgentExecCodeExecutionFlow *flow,
             AgentExecExecutorContext *context,
             const char *reply,
             gboolean streamed)
{
  g_autoptr (AgentExecCodeExecutionStream) stream =
      agentexec_code_execution_flow_stream_text (flow, context, "bench", NULL);
  g_autoptr (AgentExecCodeExecutionStep) step = NULL;
  g_autoptr (GPtrArray) steps = NULL;
  gsize len = strlen (reply);
  gint64 start = g_get_monotonic_time (), ready = 0;
  guint settled = 0;

  g_signal_connect (stream, "step", G_CALLBACK (count_step), &settled);
  for (gsize at = 0; at < len; at += 16)
    {
      gint64 next = start + (gint64) (at / 16 + 1) * 10000;

      if (streamed)
        agentexec_code_execution_stream_feed_full (stream, reply + at, MIN (16, len - at));
      while (g_get_monotonic_time () < next)
        {
          g_main_context_iteration (NULL, FALSE);
          if (settled > 0 && ready == 0)
            ready = g_get_monotonic_time ();
          g_usleep (200);
        }
    }
  if (streamed)
    {
      steps = agentexec_code_execution_stream_end (stream, NULL);
      if (ready == 0)
        ready = g_get_monotonic_time ();
      g_assert (steps != NULL &&
                agentexec_code_execution_step_get_executed (g_ptr_array_index (steps, 0)));
      return (ready - start) / 1000.0;
    }
  step = agentexec_code_execution_flow_process_text (flow, context, "bench", reply, NULL, NULL);
  g_assert (step != NULL && agentexec_code_execution_step_get_executed (step));
  return (g_get_monotonic_time () - start) / 1000.0;
}

static void
bench_model (void)
{
  g_autoptr (AgentExecCodeExecutor) local = new_local (TRUE);
  g_autoptr (AgentExecCodeExecutionFlow) flow = agentexec_code_execution_flow_new (local);
  g_autoptr (GString) reply = g_string_new ("I will compute the mean first.\n"
                                            "```python\nprint(sum(range(10)) / 10)\n```\n");
  g_autoptr (AgentExecExecutorContext) context = agentexec_executor_context_new (NULL);
  double streamed, whole;

  while (reply->len < 1300)
    g_string_append (reply, "Then I will explain what the number means, step by step. ");
  model_reply (flow, context, reply->str, TRUE); /* warm the session */
  streamed = model_reply (flow, context, reply->str, TRUE);
  whole = model_reply (flow, context, reply->str, FALSE);
  g_print ("%-52s %9.1f ms  (reply %zu bytes at 1.6 kB/s)\n",
           "model at ~40 tok/s: result ready, streamed", streamed, reply->len);
  g_print ("%-52s %9.1f ms\n", "model at ~40 tok/s: result ready, whole reply first", whole);
  g_print ("%-52s %9.2fx\n", "ratio whole-reply / streamed", whole / streamed);
  agentexec_code_executor_close (local);
}

int
main (int argc, char **argv)
{
  g_autoptr (GOptionContext) context = g_option_context_new ("- streaming flow benchmark");
  g_autoptr (GError) error = NULL;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || runs < 1)
    {
      g_printerr ("bench-flow: %s\n", error != NULL ? error->message : "runs must be >= 1");
      return 2;
    }
  if (python == NULL)
    python = g_strdup ("/usr/bin/python3");

  bench_dispatch ();
  bench_local (FALSE);
  bench_local (TRUE);
  bench_model ();
  return 0;
}
