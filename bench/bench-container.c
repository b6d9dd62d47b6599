/* bench-container.c: container backend vs the docker CLI, side by side
 *
 *   bench-container [--runs N] [--image IMAGE] [--concurrency C]
 *
 * Interleaves, N times: one cold stateless run of print(1) through
 * AgentExecContainerExecutor (pool-size 0); `docker run --rm IMAGE python3 -c
 * 'print(1)'`; `docker exec` of the same into one running container (what
 * ADK's ContainerCodeExecutor does per call); and a stateless run from the
 * warm pool (waiting until a warm container is there). Then N pooled runs
 * back to back (the sustained rate once the pool cannot keep up), C
 * concurrent cold runs, the stateful round trip of print(1) in one session
 * (10 N runs), stateful throughput at 1, 8 and 32 callers (a session each),
 * and the process's peak RSS. Then pooled runs that carry a 1 MB CSV in, and
 * the first pandas + matplotlib chart of warm sessions (each session started
 * and left idle until its driver has imported the data libraries).
 * Prints a table with medians, p90s and ratios, and the goal rows of issue 17.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "libagentexec.h"
#include "agentexec-container-executor-private.h"
#include "agentexec-container-run-private.h"
#include "bench-goals.h"

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
timed_spawn (const char *const *argv)
{
  g_autoptr (GError) error = NULL;
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
  g_autoptr (AgentExecExecutionInput) input = agentexec_execution_input_new ("print(1)", "python");
  g_autoptr (AgentExecExecutionResult) result = NULL;
  g_autoptr (GError) error = NULL;
  gint64 start = g_get_monotonic_time ();

  result = agentexec_code_executor_execute_code (executor, NULL, input, NULL, &error);
  if (result == NULL || g_strcmp0 (agentexec_execution_result_get_stdout (result), "1\n") != 0)
    g_error ("stateless run failed: %s", error != NULL ? error->message : "wrong output");
  return (g_get_monotonic_time () - start) / 1000.0;
}

/* Waits (at most 10 s) until the pool holds @n warm containers. */
static void
wait_warm (AgentExecContainerExecutor *executor, guint n)
{
  AgentExecContainerPool *pool = _agentexec_container_executor_get_pool (executor);

  for (int i = 0; i < 1000 && _agentexec_container_pool_get_n_warm (pool) < n; i++)
    g_usleep (10 * 1000);
}

static void
run_thread (gpointer data, gpointer user_data)
{
  timed_run (user_data);
}

static double
concurrent_rate (AgentExecCodeExecutor *executor, int n)
{
  g_autoptr (GError) error = NULL;
  GThreadPool *pool = g_thread_pool_new (run_thread, executor, n, TRUE, &error);
  gint64 start = g_get_monotonic_time ();

  for (int i = 0; i < n * 2; i++)
    g_thread_pool_push (pool, GINT_TO_POINTER (i + 1), NULL);
  g_thread_pool_free (pool, FALSE, TRUE);
  return n * 2 / ((g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC);
}

static double
session_run (AgentExecCodeExecutor *executor, const char *session)
{
  g_autoptr (AgentExecExecutionInput) input = agentexec_execution_input_new ("print(1)", "python");
  g_autoptr (AgentExecExecutionResult) result = NULL;
  g_autoptr (GError) error = NULL;
  gint64 start = g_get_monotonic_time ();

  agentexec_execution_input_set_execution_id (input, session);
  result = agentexec_code_executor_execute_code (executor, NULL, input, NULL, &error);
  if (result == NULL || g_strcmp0 (agentexec_execution_result_get_stdout (result), "1\n") != 0)
    g_error ("stateful run failed: %s", error != NULL ? error->message : "wrong output");
  return (g_get_monotonic_time () - start) / 1000.0;
}

typedef struct
{
  AgentExecCodeExecutor *executor;
  int runs;
} Caller;

static void
caller_thread (gpointer data, gpointer user_data)
{
  Caller *caller = user_data;
  g_autofree char *session = g_strdup_printf ("caller-%d", GPOINTER_TO_INT (data));

  for (int i = 0; i < caller->runs; i++)
    session_run (caller->executor, session);
}

/* @n callers, each with a session of its own (already started), @runs each. */
static double
stateful_rate (AgentExecCodeExecutor *executor, int n, int per_caller)
{
  Caller caller = { executor, per_caller };
  GThreadPool *pool;
  gint64 start;

  for (int i = 1; i <= n; i++)
    {
      g_autofree char *session = g_strdup_printf ("caller-%d", i);
      session_run (executor, session);
    }
  pool = g_thread_pool_new (caller_thread, &caller, n, TRUE, NULL);
  start = g_get_monotonic_time ();
  for (int i = 1; i <= n; i++)
    g_thread_pool_push (pool, GINT_TO_POINTER (i), NULL);
  g_thread_pool_free (pool, FALSE, TRUE);
  return n * per_caller / ((g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC);
}

/* A CSV of about 1 MB: "i,i*i,label" lines. */
static GBytes *
make_csv (void)
{
  GString *csv = g_string_new ("i,square,label\n");

  for (guint i = 0; csv->len < 1000 * 1000; i++)
    g_string_append_printf (csv, "%u,%u,row-%u\n", i, i * i, i);
  return g_string_free_to_bytes (csv);
}

/* One pooled run that gets @csv as data.csv and prints its size. */
static double
timed_run_with_file (AgentExecCodeExecutor *executor, GBytes *csv)
{
  g_autoptr (AgentExecExecutionInput) input =
      agentexec_execution_input_new ("import os\nprint(os.path.getsize('data.csv'))", "python");
  g_autoptr (AgentExecFile) file = agentexec_file_new ("data.csv", "text/csv", csv);
  g_autoptr (AgentExecExecutionResult) result = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *expected = g_strdup_printf ("%zu\n", g_bytes_get_size (csv));
  gint64 start;

  agentexec_execution_input_add_file (input, file);
  start = g_get_monotonic_time ();
  result = agentexec_code_executor_execute_code (executor, NULL, input, NULL, &error);
  if (result == NULL || g_strcmp0 (agentexec_execution_result_get_stdout (result), expected) != 0)
    g_error ("pooled run with a file failed: %s",
             error != NULL ? error->message : agentexec_execution_result_get_stderr (result));
  return (g_get_monotonic_time () - start) / 1000.0;
}

static const char chart_code[] = "import pandas as pd\n"
                                 "import matplotlib.pyplot as plt\n"
                                 "df = pd.DataFrame({'x': range(10), 'y': [v * v for v in "
                                 "range(10)]})\n"
                                 "df.plot(x='x', y='y', title='squares')\n"
                                 "plt.show()\n";

static AgentExecExecutionResult *
session_exec (AgentExecCodeExecutor *executor,
              const char *session,
              const char *code,
              GError **error)
{
  g_autoptr (AgentExecExecutionInput) input = agentexec_execution_input_new (code, "python");

  agentexec_execution_input_set_execution_id (input, session);
  return agentexec_code_executor_execute_code (executor, NULL, input, NULL, error);
}

static gboolean
has_png (AgentExecExecutionResult *result)
{
  GPtrArray *files = agentexec_execution_result_get_output_files (result);

  for (guint i = 0; files != NULL && i < files->len; i++)
    {
      AgentExecFile *file = g_ptr_array_index (files, i);
      gsize size = 0;
      const guint8 *data = g_bytes_get_data (agentexec_file_get_content (file), &size);

      if (g_str_has_suffix (agentexec_file_get_name (file), ".png") && size > 8 &&
          memcmp (data, "\x89PNG", 4) == 0)
        return TRUE;
    }
  return FALSE;
}

/* The first chart of a warm session: the session is started, then left idle
 * (polled every 300 ms) until its driver has imported the data libraries;
 * then pandas + pyplot draw a chart and the PNG comes back in the result.
 * Returns the time of that execute call, or a negative value with @why. */
static double
first_chart (AgentExecCodeExecutor *executor, const char *session, char **why)
{
  g_autoptr (AgentExecExecutionResult) result = NULL;
  g_autoptr (GError) error = NULL;
  gboolean warm = FALSE;
  gint64 start;
  double ms;

  for (int i = 0; i < 100 && !warm; i++)
    {
      g_autoptr (AgentExecExecutionResult) poll = session_exec (
          executor, session,
          "import sys\nprint(all(m in sys.modules for m in ('pandas', 'matplotlib.pyplot', "
          "'pandas.plotting._matplotlib')))",
          &error);

      if (poll == NULL)
        {
          *why = g_strdup (error->message);
          return -1;
        }
      warm = g_strcmp0 (agentexec_execution_result_get_stdout (poll), "True\n") == 0;
      g_usleep (300 * 1000);
    }
  if (!warm)
    {
      *why = g_strdup ("the session never had pandas and matplotlib imported (not in the image?)");
      return -1;
    }
  start = g_get_monotonic_time ();
  result = session_exec (executor, session, chart_code, &error);
  ms = (g_get_monotonic_time () - start) / 1000.0;
  if (result == NULL || agentexec_execution_result_get_exit_code (result) != 0 || !has_png (result))
    {
      *why = g_strdup_printf ("the chart failed: %s",
                              result == NULL ? error->message
                                             : agentexec_execution_result_get_stderr (result));
      return -1;
    }
  return ms;
}

static void
print_row (const char *name, GArray *samples, double ours_median)
{
  double median = percentile (samples, 0.5);

  g_print ("| %-44s | %9.1f | %9.1f | %8.2fx |\n", name, median, percentile (samples, 0.9),
           ours_median / median);
}

int
main (int argc, char *argv[])
{
  g_autoptr (GOptionContext) options = g_option_context_new ("- container backend benchmark");
  g_autoptr (AgentExecContainerExecutor) executor = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) ours = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) docker_run = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) docker_exec = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) pooled = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (AgentExecContainerExecutor) cold = NULL;
  g_autoptr (AgentExecContainerExecutor) stateful = NULL;
  g_autoptr (GArray) session = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) with_file = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) chart = g_array_new (FALSE, FALSE, sizeof (double));
  g_autofree char *chart_error = NULL;
  gsize csv_size = 0;
  double rates[3];
  const int callers[3] = { 1, 8, 32 };
  struct rusage usage;
  double sustained_start, sustained;
  g_autofree char *cid = NULL;
  double median, rate;

  g_option_context_add_main_entries (options, entries, NULL);
  if (!g_option_context_parse (options, &argc, &argv, &error))
    g_error ("%s", error->message);
  if (image == NULL)
    image = g_strdup ("agentexec-runtime:latest");
  executor = AGENTEXEC_CONTAINER_EXECUTOR (g_initable_new (
      AGENTEXEC_TYPE_CONTAINER_EXECUTOR, NULL, &error, "image", image, "pool-size", 2, NULL));
  if (executor == NULL)
    g_error ("%s", error->message);
  cold = AGENTEXEC_CONTAINER_EXECUTOR (g_initable_new (
      AGENTEXEC_TYPE_CONTAINER_EXECUTOR, NULL, &error, "image", image, "pool-size", 0, NULL));
  if (cold == NULL)
    g_error ("%s", error->message);

  {
    const char *start_argv[] = { "docker", "run", "-d",    "--rm",     "--network",
                                 "none",   image, "sleep", "infinity", NULL };
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
        timed_run (AGENTEXEC_CODE_EXECUTOR (cold));
        timed_run (AGENTEXEC_CODE_EXECUTOR (executor));
        timed_spawn (run_argv);
        timed_spawn (exec_argv);
      }
    for (int i = 0; i < runs; i++)
      {
        double t = timed_run (AGENTEXEC_CODE_EXECUTOR (cold));
        g_array_append_val (ours, t);
        /* No background work (our removals, pool refills) during the
         * docker CLI's turns: that would slow them down, not us. */
        agentexec_code_executor_close (AGENTEXEC_CODE_EXECUTOR (cold));
        wait_warm (executor, 2);
        t = timed_run (AGENTEXEC_CODE_EXECUTOR (executor));
        g_array_append_val (pooled, t);
        wait_warm (executor, 2);
        t = timed_spawn (run_argv);
        g_array_append_val (docker_run, t);
        t = timed_spawn (exec_argv);
        g_array_append_val (docker_exec, t);
      }
  }
  /* Back to back, the pool cannot keep up: the sustained rate. */
  wait_warm (executor, 2);
  sustained_start = g_get_monotonic_time ();
  for (int i = 0; i < runs; i++)
    timed_run (AGENTEXEC_CODE_EXECUTOR (executor));
  sustained = runs / ((g_get_monotonic_time () - sustained_start) / (double) G_USEC_PER_SEC);
  rate = concurrent_rate (AGENTEXEC_CODE_EXECUTOR (cold), concurrency);

  /* Stateful: a persistent interpreter per session, attached over the
   * Engine API. No pool, so nothing runs in the background. */
  agentexec_code_executor_close (AGENTEXEC_CODE_EXECUTOR (executor));
  agentexec_code_executor_close (AGENTEXEC_CODE_EXECUTOR (cold));
  stateful = AGENTEXEC_CONTAINER_EXECUTOR (
      g_initable_new (AGENTEXEC_TYPE_CONTAINER_EXECUTOR, NULL, &error, "image", image, "stateful",
                      TRUE, "pool-size", 0, "max-sessions", 64, NULL));
  if (stateful == NULL)
    g_error ("%s", error->message);
  session_run (AGENTEXEC_CODE_EXECUTOR (stateful), "bench");
  for (int i = 0; i < runs * 10; i++)
    {
      double t = session_run (AGENTEXEC_CODE_EXECUTOR (stateful), "bench");
      g_array_append_val (session, t);
    }
  for (guint i = 0; i < G_N_ELEMENTS (callers); i++)
    rates[i] = stateful_rate (AGENTEXEC_CODE_EXECUTOR (stateful), callers[i], runs * 5);
  /* Pooled runs that carry a 1 MB CSV in. */
  {
    g_autoptr (AgentExecContainerExecutor) files_pool =
        AGENTEXEC_CONTAINER_EXECUTOR (g_initable_new (
            AGENTEXEC_TYPE_CONTAINER_EXECUTOR, NULL, &error, "image", image, "pool-size", 2, NULL));
    g_autoptr (GBytes) csv = make_csv ();

    if (files_pool == NULL)
      g_error ("%s", error->message);
    wait_warm (files_pool, 2);
    timed_run_with_file (AGENTEXEC_CODE_EXECUTOR (files_pool), csv);
    for (int i = 0; i < runs; i++)
      {
        double t;

        wait_warm (files_pool, 2);
        t = timed_run_with_file (AGENTEXEC_CODE_EXECUTOR (files_pool), csv);
        g_array_append_val (with_file, t);
      }
    csv_size = g_bytes_get_size (csv);
    agentexec_code_executor_close (AGENTEXEC_CODE_EXECUTOR (files_pool));
  }
  /* The first chart of warm sessions, one session each. */
  for (int i = 0; i < MIN (runs, 5) && chart_error == NULL; i++)
    {
      g_autofree char *name = g_strdup_printf ("chart-%d", i);
      double t = first_chart (AGENTEXEC_CODE_EXECUTOR (stateful), name, &chart_error);

      if (t >= 0)
        g_array_append_val (chart, t);
    }
  getrusage (RUSAGE_SELF, &usage);
  {
    const char *rm_argv[] = { "docker", "rm", "-f", cid, NULL };
    g_spawn_sync (NULL, (char **) rm_argv, NULL,
                  G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                  NULL, NULL, NULL, NULL, NULL, NULL);
  }

  median = percentile (ours, 0.5);
  g_print ("container backend, %d interleaved runs of print(1) each, image %s\n\n", runs, image);
  g_print ("| %-44s | %9s | %9s | %9s |\n", "path", "median ms", "p90 ms", "ours/this");
  g_print (
      "|----------------------------------------------|-----------|-----------|-----------|\n");
  print_row ("agentexec stateless, cold (pool-size 0)", ours, median);
  print_row ("docker run --rm IMAGE python3 -c 'print(1)'", docker_run, median);
  print_row ("docker exec per call (ADK's approach)", docker_exec, median);
  print_row ("agentexec stateless, warm pool (pool-size 2)", pooled, median);
  print_row ("agentexec stateful round trip (same session)", session, median);
  print_row ("agentexec pooled run with a 1 MB CSV in", with_file, median);
  if (chart->len > 0)
    print_row ("first pandas+matplotlib chart, warm session", chart, median);
  g_print ("\npooled vs docker exec: %.1fx faster (medians); back to back (pool drained, "
           "refilled in the background): %.1f runs/s\n",
           percentile (docker_exec, 0.5) / percentile (pooled, 0.5), sustained);
  g_print ("stateful vs docker exec: %.0fx faster (medians, %d runs)\n",
           percentile (docker_exec, 0.5) / percentile (session, 0.5), runs * 10);
  g_print ("stateful throughput, one session per caller: 1 caller %.0f runs/s, 8 callers "
           "%.0f runs/s, 32 callers %.0f runs/s\n",
           rates[0], rates[1], rates[2]);
  g_print ("executor process peak RSS: %.1f MiB\n", usage.ru_maxrss / 1024.0);
  g_print ("%d concurrent callers, %d cold stateless runs: %.1f runs/s\n", concurrency,
           concurrency * 2, rate);
  g_print ("target (issue 6): cold / docker run --rm <= 1.0x: %s (%.2fx)\n",
           median / percentile (docker_run, 0.5) <= 1.0 ? "met" : "NOT met",
           median / percentile (docker_run, 0.5));
  {
    double stateful_ms = percentile (session, 0.5);
    double exec_ms = percentile (docker_exec, 0.5);
    double pooled_ms = percentile (pooled, 0.5);
    double file_ms = percentile (with_file, 0.5);

    bench_goal (
        "container-stateful", "container stateful round trip",
        "<= 0.3 ms median, >= 200x docker exec", stateful_ms <= 0.3 && exec_ms / stateful_ms >= 200,
        "%.3f ms median, %.0fx docker exec (%.1f ms)", stateful_ms, exec_ms / stateful_ms, exec_ms);
    bench_goal ("container-pooled", "container pooled stateless run", "<= 3 ms", pooled_ms <= 3,
                "%.2f ms median", pooled_ms);
    bench_goal ("container-pooled-files", "pooled run that carries input files",
                "<= 15 ms with a 1 MB CSV in", file_ms <= 15, "%.2f ms median (%zu-byte CSV)",
                file_ms, csv_size);
    if (chart->len > 0)
      bench_goal ("container-chart", "first pandas + matplotlib chart, warm session",
                  "<= 150 ms, execute -> PNG in the result", percentile (chart, 0.5) <= 150,
                  "%.1f ms median of %u sessions", percentile (chart, 0.5), chart->len);
    else
      bench_goal ("container-chart", "first pandas + matplotlib chart, warm session",
                  "<= 150 ms, execute -> PNG in the result", FALSE, "not measured: %s",
                  chart_error);
  }
  return EXIT_SUCCESS;
}
