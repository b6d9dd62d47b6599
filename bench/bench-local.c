/* bench-local.c: the Local backend vs spawning the interpreter directly
 *
 *   bench-local [--runs N] [--round-trips M] [--python PATH]
 *
 * 1. Interleaves, N times: one stateless run of print(1) through
 *    AgentExecLocalExecutor, and `python3 -c 'print(1)'` spawned directly
 *    (g_spawn_sync, stdout captured): the floor. Goal (issue 17): ratio of
 *    the medians <= 1.05.
 * 2. M round trips of a trivial statement through one stateful Python
 *    session. Goal (issue 17): median <= 0.08 ms.
 * 3. Throughput of stateless print(1) runs with 1, 8 and 32 concurrent
 *    callers (threads sharing one executor).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdlib.h>
#include <string.h>

#include "libagentexec.h"
#include "bench-goals.h"

static int runs = 40;
static int round_trips = 2000;
static char *python = NULL;

static GOptionEntry entries[] = { { "runs", 'n', 0, G_OPTION_ARG_INT, &runs,
                                    "Stateless runs of each kind (default 40)", "N" },
                                  { "round-trips", 'm', 0, G_OPTION_ARG_INT, &round_trips,
                                    "Stateful round trips (default 2000)", "M" },
                                  { "python", 'p', 0, G_OPTION_ARG_FILENAME, &python,
                                    "The Python interpreter (default /usr/bin/python3)", "PATH" },
                                  { NULL } };

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

static double
timed_spawn (void)
{
  const char *argv[] = { python, "-c", "print(1)", NULL };
  g_autoptr (GError) error = NULL;
  g_autofree char *out = NULL;
  gint64 start = g_get_monotonic_time ();
  int status = 0;

  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out, NULL,
                     &status, &error) ||
      !g_spawn_check_wait_status (status, NULL) || g_strcmp0 (out, "1\n") != 0)
    g_error ("%s -c 'print(1)' failed: %s", python, error != NULL ? error->message : out);
  return (g_get_monotonic_time () - start) / 1000.0;
}

static double
timed_run (AgentExecCodeExecutor *executor, AgentExecExecutionInput *input)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecExecutionResult) result = NULL;
  gint64 start = g_get_monotonic_time ();

  result = agentexec_code_executor_execute_code (executor, NULL, input, NULL, &error);
  if (result == NULL || agentexec_execution_result_get_outcome (result) != AGENTEXEC_OUTCOME_OK)
    g_error ("run failed: %s",
             error != NULL ? error->message : agentexec_execution_result_get_stderr (result));
  return (g_get_monotonic_time () - start) / 1000.0;
}

static AgentExecCodeExecutor *
new_executor (gboolean stateful)
{
  g_autoptr (GError) error = NULL;
  AgentExecLocalExecutor *executor = agentexec_local_executor_new (TRUE, &error);

  if (executor == NULL ||
      !agentexec_local_executor_set_interpreter (executor, "python", python, &error))
    g_error ("%s", error->message);
  agentexec_base_executor_set_stateful (AGENTEXEC_BASE_EXECUTOR (executor), stateful);
  return AGENTEXEC_CODE_EXECUTOR (executor);
}

static void
bench_stateless (void)
{
  g_autoptr (AgentExecCodeExecutor) executor = new_executor (FALSE);
  g_autoptr (AgentExecExecutionInput) input = agentexec_execution_input_new ("print(1)", "python");
  g_autoptr (GArray) ours = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) floor_ = g_array_new (FALSE, FALSE, sizeof (double));
  double ours_median, floor_median;

  timed_run (executor, input);
  timed_spawn ();
  for (int i = 0; i < runs; i++)
    {
      double a = timed_run (executor, input);
      double b = timed_spawn ();

      g_array_append_val (ours, a);
      g_array_append_val (floor_, b);
    }
  ours_median = percentile (ours, 0.5);
  floor_median = percentile (floor_, 0.5);
  g_print ("%-44s %9.2f ms  p90 %7.2f ms\n", "local stateless print(1), median", ours_median,
           percentile (ours, 0.9));
  g_print ("%-44s %9.2f ms  p90 %7.2f ms\n", "python3 -c 'print(1)' spawned, median", floor_median,
           percentile (floor_, 0.9));
  g_print ("%-44s %9.3fx\n", "ratio local / python3 -c", ours_median / floor_median);
  bench_goal ("local-stateless", "local stateless print(1)", "<= 1.05x python3 -c",
              ours_median / floor_median <= 1.05, "%.3fx python3 -c (%.2f ms vs %.2f ms)",
              ours_median / floor_median, ours_median, floor_median);
}

static void
bench_stateful (void)
{
  g_autoptr (AgentExecCodeExecutor) executor = new_executor (TRUE);
  g_autoptr (AgentExecExecutionInput) input = agentexec_execution_input_new ("x = 1", "python");
  g_autoptr (GArray) samples = g_array_new (FALSE, FALSE, sizeof (double));
  double median;

  agentexec_execution_input_set_execution_id (input, "bench");
  for (int i = 0; i < 20; i++)
    timed_run (executor, input);
  for (int i = 0; i < round_trips; i++)
    {
      double t = timed_run (executor, input);

      g_array_append_val (samples, t);
    }
  median = percentile (samples, 0.5);
  g_print ("%-44s %9.3f ms  p90 %7.3f ms\n", "local stateful round trip (x = 1), median", median,
           percentile (samples, 0.9));
  bench_goal ("local-stateful", "local stateful round trip", "<= 0.08 ms", median <= 0.08,
              "%.3f ms median", median);
  agentexec_code_executor_close (executor);
}

typedef struct
{
  AgentExecCodeExecutor *executor;
  int runs;
} Worker;

static gpointer
worker_thread (gpointer data)
{
  Worker *w = data;
  g_autoptr (AgentExecExecutionInput) input = agentexec_execution_input_new ("print(1)", "python");

  for (int i = 0; i < w->runs; i++)
    timed_run (w->executor, input);
  return NULL;
}

static void
bench_concurrency (void)
{
  g_autoptr (AgentExecCodeExecutor) executor = new_executor (FALSE);
  const int callers[] = { 1, 8, 32 };
  const int total = 64;

  for (guint c = 0; c < G_N_ELEMENTS (callers); c++)
    {
      g_autoptr (GPtrArray) threads = g_ptr_array_new ();
      Worker worker = { executor, total / callers[c] };
      gint64 start = g_get_monotonic_time ();
      double seconds;
      g_autofree char *label = g_strdup_printf ("stateless print(1), %d concurrent caller%s",
                                                callers[c], callers[c] > 1 ? "s" : "");

      for (int i = 0; i < callers[c]; i++)
        g_ptr_array_add (threads, g_thread_new ("caller", worker_thread, &worker));
      for (guint i = 0; i < threads->len; i++)
        g_thread_join (g_ptr_array_index (threads, i));
      seconds = (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC;
      g_print ("%-44s %9.1f runs/s (%d runs, %u cores)\n", label,
               worker.runs * callers[c] / seconds, worker.runs * callers[c],
               g_get_num_processors ());
    }
}

int
main (int argc, char **argv)
{
  g_autoptr (GOptionContext) context = g_option_context_new ("- Local backend benchmark");
  g_autoptr (GError) error = NULL;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || runs < 1 || round_trips < 1)
    {
      g_printerr ("bench-local: %s\n", error != NULL ? error->message : "runs must be >= 1");
      return 2;
    }
  if (python == NULL)
    python = g_strdup ("/usr/bin/python3");

  bench_stateless ();
  bench_stateful ();
  bench_concurrency ();
  return 0;
}
