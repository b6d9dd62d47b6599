/* bench-container.c: container backend vs the docker CLI, side by side
 *
 *   bench-container [--runs N] [--image IMAGE] [--concurrency C]
 *
 * Interleaves, N times: one stateless run of print(1) through
 * AgentExecContainerExecutor; `docker run --rm IMAGE python3 -c 'print(1)'`;
 * and `docker exec` of the same into one running container (what ADK's
 * ContainerCodeExecutor does per call). Then C concurrent stateless runs.
 * Prints a table with medians, p90s and ratios.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdlib.h>
#include <string.h>

#include "libagentexec.h"

static int runs = 20;
static int concurrency = 16;
static char *image = NULL;

static GOptionEntry entries[] = {
  { "runs", 'n', 0, G_OPTION_ARG_INT, &runs, "Runs of each kind (default 20)", "N" },
  { "concurrency", 'c', 0, G_OPTION_ARG_INT, &concurrency,
    "Concurrent stateless runs for the throughput line (default 16)", "C" },
  { "image", 'i', 0, G_OPTION_ARG_STRING, &image, "Image (default agentexec-runtime:latest)",
    "IMAGE" },
  { NULL }
};

static int
compare_doubles (const void *a,
                 const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y ? 1 : 0;
}

static double
percentile (GArray *samples,
            double  p)
{
  g_array_sort (samples, compare_doubles);
  return g_array_index (samples, double, (guint) ((samples->len - 1) * p + 0.5));
}

static double
timed_spawn (const char * const *argv)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  gint64 start = g_get_monotonic_time ();
  int status = 0;

  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                     NULL, NULL, &out, NULL, &status, &error) ||
      !g_spawn_check_wait_status (status, NULL) || g_strcmp0 (out, "1\n") != 0)
    g_error ("%s failed: %s", argv[1], error != NULL ? error->message : out);
  return (g_get_monotonic_time () - start) / 1000.0;
}

static double
timed_run (AgentExecCodeExecutor *executor)
{
  g_autoptr(AgentExecExecutionInput) input = agentexec_execution_input_new ("print(1)", "python");
  g_autoptr(AgentExecExecutionResult) result = NULL;
  g_autoptr(GError) error = NULL;
  gint64 start = g_get_monotonic_time ();

  result = agentexec_code_executor_execute_code (executor, NULL, input, NULL, &error);
  if (result == NULL || g_strcmp0 (agentexec_execution_result_get_stdout (result), "1\n") != 0)
    g_error ("stateless run failed: %s", error != NULL ? error->message : "wrong output");
  return (g_get_monotonic_time () - start) / 1000.0;
}

static void
run_thread (gpointer data,
            gpointer user_data)
{
  timed_run (user_data);
}

static double
concurrent_rate (AgentExecCodeExecutor *executor,
                 int                    n)
{
  g_autoptr(GError) error = NULL;
  GThreadPool *pool = g_thread_pool_new (run_thread, executor, n, TRUE, &error);
  gint64 start = g_get_monotonic_time ();

  for (int i = 0; i < n * 2; i++)
    g_thread_pool_push (pool, GINT_TO_POINTER (i + 1), NULL);
  g_thread_pool_free (pool, FALSE, TRUE);
  return n * 2 / ((g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC);
}

static void
print_row (const char *name,
           GArray     *samples,
           double      ours_median)
{
  double median = percentile (samples, 0.5);

  g_print ("| %-44s | %9.1f | %9.1f | %8.2fx |\n", name, median, percentile (samples, 0.9),
           ours_median / median);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) options = g_option_context_new ("- container backend benchmark");
  g_autoptr(AgentExecContainerExecutor) executor = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) ours = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) docker_run = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) docker_exec = g_array_new (FALSE, FALSE, sizeof (double));
  g_autofree char *cid = NULL;
  double median, rate;

  g_option_context_add_main_entries (options, entries, NULL);
  if (!g_option_context_parse (options, &argc, &argv, &error))
    g_error ("%s", error->message);
  if (image == NULL)
    image = g_strdup ("agentexec-runtime:latest");
  executor = agentexec_container_executor_new (image, NULL, &error);
  if (executor == NULL)
    g_error ("%s", error->message);

  {
    const char *start_argv[] = { "docker", "run", "-d", "--rm", "--network", "none", image,
                                 "sleep", "infinity", NULL };
    if (!g_spawn_sync (NULL, (char **) start_argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &cid,
                       NULL, NULL, &error))
      g_error ("%s", error->message);
    g_strstrip (cid);
  }
  {
    const char *run_argv[] = { "docker", "run", "--rm", image, "python3", "-c", "print(1)", NULL };
    const char *exec_argv[] = { "docker", "exec", cid, "python3", "-c", "print(1)", NULL };

    /* Warm-up: page cache, image layers, the engine's own caches. */
    for (int i = 0; i < 2; i++)
      {
        timed_run (AGENTEXEC_CODE_EXECUTOR (executor));
        timed_spawn (run_argv);
        timed_spawn (exec_argv);
      }
    for (int i = 0; i < runs; i++)
      {
        double t = timed_run (AGENTEXEC_CODE_EXECUTOR (executor));
        g_array_append_val (ours, t);
        t = timed_spawn (run_argv);
        g_array_append_val (docker_run, t);
        t = timed_spawn (exec_argv);
        g_array_append_val (docker_exec, t);
      }
  }
  rate = concurrent_rate (AGENTEXEC_CODE_EXECUTOR (executor), concurrency);
  {
    const char *rm_argv[] = { "docker", "rm", "-f", cid, NULL };
    g_spawn_sync (NULL, (char **) rm_argv, NULL,
                  G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                  NULL, NULL, NULL, NULL, NULL, NULL);
  }

  median = percentile (ours, 0.5);
  g_print ("container backend, %d interleaved runs of print(1) each, image %s\n\n", runs, image);
  g_print ("| %-44s | %9s | %9s | %9s |\n", "path", "median ms", "p90 ms", "ours/this");
  g_print ("|----------------------------------------------|-----------|-----------|-----------|\n");
  print_row ("agentexec stateless run (fresh container)", ours, median);
  print_row ("docker run --rm IMAGE python3 -c 'print(1)'", docker_run, median);
  print_row ("docker exec per call (ADK's approach)", docker_exec, median);
  g_print ("\n%d concurrent callers, %d stateless runs: %.1f runs/s\n",
           concurrency, concurrency * 2, rate);
  g_print ("target (issue 6): stateless / docker run --rm <= 1.0x: %s (%.2fx)\n",
           median / percentile (docker_run, 0.5) <= 1.0 ? "met" : "NOT met",
           median / percentile (docker_run, 0.5));
  return EXIT_SUCCESS;
}
