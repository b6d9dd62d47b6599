/* bench-serve.c: the in-process baseline of bench/serve.sh
 *
 *   bench-serve [--round-trips M]
 *
 * M stateful round trips of `x += 1` through one Python session of the
 * local backend, called in process (execute_code_async + the main loop, as
 * `agentexec serve` calls it). Prints the median in ms on one line:
 * "inprocess_median_ms <value> p90 <value>".
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdlib.h>

#include "libagentexec.h"

static int round_trips = 1000;

static GOptionEntry entries[] = { { "round-trips", 'm', 0, G_OPTION_ARG_INT, &round_trips,
                                    "Stateful round trips (default 1000)", "M" },
                                  { NULL } };

static int
compare (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

static void
on_done (GObject *source, GAsyncResult *res, gpointer data)
{
  AgentExecExecutionResult **result = data;
  g_autoptr (GError) error = NULL;

  *result =
      agentexec_code_executor_execute_code_finish (AGENTEXEC_CODE_EXECUTOR (source), res, &error);
  g_assert_no_error (error);
}

static double
round_trip (AgentExecCodeExecutor *executor, AgentExecExecutionInput *input)
{
  g_autoptr (AgentExecExecutionResult) result = NULL;
  gint64 start = g_get_monotonic_time ();

  agentexec_code_executor_execute_code_async (executor, NULL, input, NULL, on_done, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpint (agentexec_execution_result_get_outcome (result), ==, AGENTEXEC_OUTCOME_OK);
  return (g_get_monotonic_time () - start) / 1000.0;
}

int
main (int argc, char **argv)
{
  g_autoptr (GOptionContext) context = g_option_context_new ("- in-process stateful round trip");
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecLocalExecutor) executor = NULL;
  g_autoptr (AgentExecExecutionInput) setup = agentexec_execution_input_new ("x = 0", "python");
  g_autoptr (AgentExecExecutionInput) input = agentexec_execution_input_new ("x += 1", "python");
  g_autoptr (GArray) samples = g_array_new (FALSE, FALSE, sizeof (double));

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || round_trips < 1)
    {
      g_printerr ("bench-serve: %s\n", error != NULL ? error->message : "round trips >= 1");
      return 2;
    }
  executor = agentexec_local_executor_new (TRUE, &error);
  g_assert_no_error (error);
  agentexec_base_executor_set_stateful (AGENTEXEC_BASE_EXECUTOR (executor), TRUE);
  agentexec_execution_input_set_execution_id (setup, "bench");
  agentexec_execution_input_set_execution_id (input, "bench");
  round_trip (AGENTEXEC_CODE_EXECUTOR (executor), setup);
  for (int i = 0; i < 20; i++)
    round_trip (AGENTEXEC_CODE_EXECUTOR (executor), input);
  for (int i = 0; i < round_trips; i++)
    {
      double t = round_trip (AGENTEXEC_CODE_EXECUTOR (executor), input);

      g_array_append_val (samples, t);
    }
  g_array_sort (samples, compare);
  g_print ("inprocess_median_ms %.3f p90 %.3f\n", g_array_index (samples, double, samples->len / 2),
           g_array_index (samples, double, (guint) (samples->len * 0.9)));
  agentexec_code_executor_close (AGENTEXEC_CODE_EXECUTOR (executor));
  return 0;
}
