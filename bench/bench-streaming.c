/* bench-streaming.c: the cost of per-call output (execute_code_with_output)
 * next to the executor-wide ::output signal
 *
 *   bench-streaming [--runs N] [--chunks M] [--python PATH]
 *
 * 1. Delivery cost per chunk, in process: an executor whose run emits M
 *    chunks of 16 bytes, sync (delivered in the calling thread) and async
 *    (queued to the caller's main context), with no listener, the signal,
 *    the per-call function, and both. Target: per-call within 1.2x of the
 *    signal.
 * 2. A real Local run writing 20000 flushed lines, N times per mode (none,
 *    signal, per-call sync, per-call async): median wall time and chunks.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdlib.h>
#include <string.h>

#include "libagentexec.h"
#include "agentexec-code-executor-private.h"
#include "agentexec-execution-result-private.h"

static int runs = 9;
static int chunks = 200000;
static char *python = NULL;

static GOptionEntry entries[] = { { "runs", 'n', 0, G_OPTION_ARG_INT, &runs,
                                    "Local runs per mode (default 9)", "N" },
                                  { "chunks", 'm', 0, G_OPTION_ARG_INT, &chunks,
                                    "Chunks per in-process run (default 200000)", "M" },
                                  { "python", 'p', 0, G_OPTION_ARG_FILENAME, &python,
                                    "The Python interpreter (default /usr/bin/python3)", "PATH" },
                                  { NULL } };

/* An executor that emits --chunks chunks from its run. */
#define BENCH_TYPE_EMITTER (bench_emitter_get_type ())
G_DECLARE_FINAL_TYPE (BenchEmitter, bench_emitter, BENCH, EMITTER, AgentExecBaseExecutor)

struct _BenchEmitter
{
  AgentExecBaseExecutor parent_instance;
};

G_DEFINE_FINAL_TYPE (BenchEmitter, bench_emitter, AGENTEXEC_TYPE_BASE_EXECUTOR)

static AgentExecExecutionResult *
bench_emitter_run (AgentExecBaseExecutor *self,
                   AgentExecExecutorContext *context,
                   AgentExecExecutionInput *input,
                   const char *language,
                   GCancellable *cancellable,
                   GError **error)
{
  GMainContext *output_context = _agentexec_code_executor_get_output_context ();
  static const char chunk[] = "0123456789abcde\n";

  for (int i = 0; i < chunks; i++)
    _agentexec_code_executor_emit_output_in (AGENTEXEC_CODE_EXECUTOR (self), output_context, input,
                                             AGENTEXEC_STREAM_STDOUT, chunk, sizeof chunk - 1);
  return _agentexec_execution_result_new_empty ();
}

static void
bench_emitter_class_init (BenchEmitterClass *klass)
{
  AGENTEXEC_BASE_EXECUTOR_CLASS (klass)->run = bench_emitter_run;
}

static void
bench_emitter_init (BenchEmitter *self)
{
}

static void
count_signal (AgentExecCodeExecutor *executor,
              AgentExecExecutionInput *input,
              AgentExecStream stream,
              GBytes *chunk,
              gpointer user_data)
{
  (*(guint64 *) user_data)++;
}

static void
count_call (AgentExecExecutionInput *input, AgentExecStream stream, GBytes *chunk, gpointer data)
{
  (*(guint64 *) data)++;
}

static void
note_done (GObject *source, GAsyncResult *res, gpointer user_data)
{
  AgentExecExecutionResult *result = agentexec_code_executor_execute_code_with_output_finish (
      AGENTEXEC_CODE_EXECUTOR (source), res, NULL);

  g_assert_nonnull (result);
  g_object_unref (result);
  *(gboolean *) user_data = TRUE;
}

typedef enum
{
  LISTEN_NONE,
  LISTEN_SIGNAL,
  LISTEN_CALL,
  LISTEN_BOTH,
} Listen;

static const char *const listen_names[] = { "none", "signal", "per-call", "both" };

/* Seconds for one run, counting the chunks delivered in *n. */
static double
timed_run (AgentExecCodeExecutor *executor,
           AgentExecExecutionInput *input,
           Listen listen,
           gboolean async,
           guint64 *n)
{
  gint64 start = g_get_monotonic_time ();
  AgentExecExecOutputFunc func = listen == LISTEN_CALL || listen == LISTEN_BOTH ? count_call : NULL;
  gulong id = 0;

  *n = 0;
  if (listen == LISTEN_SIGNAL || listen == LISTEN_BOTH)
    id = g_signal_connect (executor, "output", G_CALLBACK (count_signal), n);
  if (!async)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (AgentExecExecutionResult) result =
          agentexec_code_executor_execute_code_with_output (executor, NULL, input, func, n, NULL,
                                                            NULL, &error);

      g_assert_no_error (error);
    }
  else
    {
      gboolean done = FALSE;

      agentexec_code_executor_execute_code_with_output_async (executor, NULL, input, func, n, NULL,
                                                              NULL, note_done, &done);
      while (!done)
        g_main_context_iteration (NULL, TRUE);
    }
  if (id != 0)
    g_signal_handler_disconnect (executor, id);
  return (g_get_monotonic_time () - start) / 1e6;
}

static void
bench_in_process (void)
{
  g_autoptr (AgentExecCodeExecutor) executor = g_object_new (BENCH_TYPE_EMITTER, NULL);
  g_autoptr (AgentExecExecutionInput) input = agentexec_execution_input_new ("emit", "python");
  double ns[2][4];

  g_print ("%-28s %14s %10s\n", "in-process, per chunk", "ns/chunk", "delivered");
  for (int async = 0; async <= 1; async++)
    for (int listen = LISTEN_NONE; listen <= LISTEN_BOTH; listen++)
      {
        guint64 n = 0;
        double seconds;

        timed_run (executor, input, listen, async, &n); /* warm up */
        seconds = timed_run (executor, input, listen, async, &n);
        ns[async][listen] = seconds * 1e9 / chunks;
        g_print ("%-5s %-22s %14.1f %10" G_GUINT64_FORMAT "\n", async ? "async" : "sync",
                 listen_names[listen], ns[async][listen], n);
      }
  for (int async = 0; async <= 1; async++)
    g_print ("%-5s per-call / signal ratio: %.2f (target <= 1.2)\n", async ? "async" : "sync",
             ns[async][LISTEN_CALL] / ns[async][LISTEN_SIGNAL]);
}

static int
compare_doubles (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y ? 1 : 0;
}

static void
bench_local (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecLocalExecutor) local = agentexec_local_executor_new (TRUE, &error);
  g_autoptr (AgentExecExecutionInput) input = agentexec_execution_input_new (
      "import sys\nfor i in range(20000):\n    print(i, flush=True)\n", "python");
  static const struct
  {
    Listen listen;
    gboolean async;
    const char *name;
  } modes[] = {
    { LISTEN_NONE, FALSE, "no listener" },
    { LISTEN_SIGNAL, FALSE, "signal, sync" },
    { LISTEN_CALL, FALSE, "per-call, sync" },
    { LISTEN_CALL, TRUE, "per-call, async" },
  };
  double medians[G_N_ELEMENTS (modes)];

  g_assert_no_error (error);
  g_assert_true (agentexec_local_executor_set_interpreter (local, "python", python, &error));
  g_print ("\n%-28s %14s %10s\n", "Local, 20000 flushed lines", "median ms", "chunks");
  for (guint m = 0; m < G_N_ELEMENTS (modes); m++)
    {
      g_autofree double *samples = g_new0 (double, runs);
      guint64 n = 0;

      for (int r = 0; r < runs; r++)
        samples[r] =
            timed_run (AGENTEXEC_CODE_EXECUTOR (local), input, modes[m].listen, modes[m].async, &n);
      qsort (samples, runs, sizeof (double), compare_doubles);
      medians[m] = samples[runs / 2] * 1e3;
      g_print ("%-28s %14.1f %10" G_GUINT64_FORMAT "\n", modes[m].name, medians[m], n);
    }
  g_print ("per-call sync / signal sync ratio: %.2f\n", medians[2] / medians[1]);
}

int
main (int argc, char **argv)
{
  g_autoptr (GOptionContext) context = g_option_context_new ("- per-call output benchmark");
  g_autoptr (GError) error = NULL;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    g_error ("%s", error->message);
  if (python == NULL)
    python = g_strdup ("/usr/bin/python3");
  if (runs < 1 || chunks < 1)
    g_error ("--runs and --chunks must be positive");
  bench_in_process ();
  bench_local ();
  return 0;
}
