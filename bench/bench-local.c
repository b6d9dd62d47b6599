/* bench-local.c: the Local backend vs spawning the interpreter directly
 *
 *   bench-local [--runs N] [--round-trips M] [--python PATH] [--only PART]
 *
 * 1. Interleaves, N times: one stateless run of print(1) through
 *    AgentExecLocalExecutor in its sandbox (the default), one without it
 *    (sandbox none), `python3 -c 'print(1)'` spawned directly (g_spawn_sync,
 *    stdout captured): the floor, and the same under bubblewrap with a
 *    comparable sandbox (when /usr/bin/bwrap exists). Goals: sandboxed
 *    <= 1.2x the floor (issue 13), unsandboxed <= 1.05x (issue 17).
 * 2. Where the sandbox's set-up time goes (namespaces, mounts, seccomp,
 *    Landlock...), the median over the sandboxed runs of 1.
 * 3. M round trips of a trivial statement through one stateful Python
 *    session, sandboxed and not. Goals: median <= 0.2 ms sandboxed (issue
 *    13), <= 0.08 ms unsandboxed (issue 17).
 * 4. Throughput of sandboxed stateless print(1) runs with 1, 8 and 32
 *    concurrent callers (threads sharing one executor).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libagentexec.h"
#include "agentexec-local-sandbox-private.h"
#include "agentexec-local-seccomp-private.h"
#include "bench-goals.h"

static int runs = 40;
static int round_trips = 2000;
static char *python = NULL;
static char *only = NULL;

static GOptionEntry entries[] = { { "runs", 'n', 0, G_OPTION_ARG_INT, &runs,
                                    "Stateless runs of each kind (default 40)", "N" },
                                  { "round-trips", 'm', 0, G_OPTION_ARG_INT, &round_trips,
                                    "Stateful round trips (default 2000)", "M" },
                                  { "python", 'p', 0, G_OPTION_ARG_FILENAME, &python,
                                    "The Python interpreter (default /usr/bin/python3)", "PATH" },
                                  { "only", 'o', 0, G_OPTION_ARG_STRING, &only,
                                    "Run one part: stateless, stateful, stateful-none or "
                                    "concurrency (to profile it alone)",
                                    "PART" },
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
timed_argv (const char *const *argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *out = NULL;
  gint64 start = g_get_monotonic_time ();
  int status = 0;

  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out, NULL,
                     &status, &error) ||
      !g_spawn_check_wait_status (status, NULL) || g_strcmp0 (out, "1\n") != 0)
    g_error ("%s failed: %s", argv[0], error != NULL ? error->message : out);
  return (g_get_monotonic_time () - start) / 1000.0;
}

static double
timed_spawn (void)
{
  const char *argv[] = { python, "-c", "print(1)", NULL };

  return timed_argv (argv);
}

/* bubblewrap with what the library's sandbox does, as far as its options
 * go (it has no Landlock; its seccomp would need a BPF file: left out). */
static double
timed_bwrap (void)
{
  const char *argv[] = { "/usr/bin/bwrap",
                         "--unshare-all",
                         "--die-with-parent",
                         "--new-session",
                         "--ro-bind",
                         "/usr",
                         "/usr",
                         "--symlink",
                         "usr/bin",
                         "/bin",
                         "--symlink",
                         "usr/lib",
                         "/lib",
                         "--symlink",
                         "usr/lib64",
                         "/lib64",
                         "--ro-bind",
                         "/etc/ld.so.cache",
                         "/etc/ld.so.cache",
                         "--proc",
                         "/proc",
                         "--dev",
                         "/dev",
                         "--tmpfs",
                         "/tmp",
                         "--cap-drop",
                         "ALL",
                         python,
                         "-c",
                         "print(1)",
                         NULL };

  return timed_argv (argv);
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
new_executor (gboolean stateful, AgentExecLocalSandbox sandbox)
{
  g_autoptr (GError) error = NULL;
  AgentExecLocalExecutor *executor =
      g_initable_new (AGENTEXEC_TYPE_LOCAL_EXECUTOR, NULL, &error, "allow-unsafe",
                      sandbox == AGENTEXEC_LOCAL_SANDBOX_NONE, "sandbox", sandbox, NULL);

  if (executor == NULL ||
      !agentexec_local_executor_set_interpreter (executor, "python", python, &error))
    g_error ("%s", error->message);
  agentexec_base_executor_set_stateful (AGENTEXEC_BASE_EXECUTOR (executor), stateful);
  return AGENTEXEC_CODE_EXECUTOR (executor);
}

typedef struct
{
  GArray *clone, *userns, *mounts, *network, *privs, *landlock, *seccomp, *exec, *total, *teardown;
} SetupSamples;

static void
add_sample (GArray **array, gint64 us)
{
  double ms = us / 1000.0;

  if (*array == NULL)
    *array = g_array_new (FALSE, FALSE, sizeof (double));
  g_array_append_val (*array, ms);
}

static void
record_setup (SetupSamples *samples)
{
  AgentExecLocalSandboxTimings t;

  _agentexec_local_sandbox_get_timings (&t);
  add_sample (&samples->clone, t.clone_us);
  add_sample (&samples->userns, t.userns_us);
  add_sample (&samples->mounts, t.mounts_us);
  add_sample (&samples->network, t.network_us);
  add_sample (&samples->privs, t.privs_us);
  add_sample (&samples->landlock, t.landlock_us);
  add_sample (&samples->seccomp, t.seccomp_us);
  add_sample (&samples->exec, t.exec_us);
  add_sample (&samples->total, t.total_us);
  add_sample (&samples->teardown, t.teardown_us);
}

static void
print_row (const char *label, GArray *samples)
{
  g_print ("%-44s %9.3f ms  p90 %7.3f ms\n", label, percentile (samples, 0.5),
           percentile (samples, 0.9));
}

static void
print_setup (SetupSamples *s)
{
  g_print ("sandbox set-up, median per run (%s caller):\n", geteuid () == 0 ? "root" : "non-root");
  print_row ("  clone() into the new namespaces", s->clone);
  print_row ("  signals, session, fds (+ userns maps)", s->userns);
  print_row ("  mounts: view, pivot_root, /proc", s->mounts);
  print_row ("  hostname + loopback up", s->network);
  print_row ("  rlimits, uid, capabilities, no_new_privs", s->privs);
  print_row ("  Landlock ruleset", s->landlock);
  print_row ("  seccomp filter load", s->seccomp);
  print_row ("  fork + exec of the interpreter", s->exec);
  print_row ("  total, clone until the code runs", s->total);
  print_row ("  teardown, code's exit until init reaped", s->teardown);
  g_print ("%-44s %9.3f ms  (once per process)\n", "  seccomp filter build (libseccomp)",
           _agentexec_local_seccomp_build_us () / 1000.0);
}

static void
bench_stateless (void)
{
  g_autoptr (AgentExecCodeExecutor) sandboxed =
      new_executor (FALSE, AGENTEXEC_LOCAL_SANDBOX_NAMESPACES);
  g_autoptr (AgentExecCodeExecutor) plain = new_executor (FALSE, AGENTEXEC_LOCAL_SANDBOX_NONE);
  g_autoptr (AgentExecExecutionInput) input = agentexec_execution_input_new ("print(1)", "python");
  g_autoptr (GArray) ours = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) unsandboxed = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) floor_ = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) bwrap = g_array_new (FALSE, FALSE, sizeof (double));
  gboolean have_bwrap = g_file_test ("/usr/bin/bwrap", G_FILE_TEST_IS_EXECUTABLE);
  SetupSamples setup = { 0 };
  double ours_median, floor_median, plain_median;

  timed_run (sandboxed, input);
  timed_run (plain, input);
  timed_spawn ();
  for (int i = 0; i < runs; i++)
    {
      double a = timed_run (sandboxed, input);
      double b, c, d;

      record_setup (&setup);
      b = timed_spawn ();
      c = timed_run (plain, input);
      g_array_append_val (ours, a);
      g_array_append_val (floor_, b);
      g_array_append_val (unsandboxed, c);
      if (have_bwrap)
        {
          d = timed_bwrap ();
          g_array_append_val (bwrap, d);
        }
    }
  ours_median = percentile (ours, 0.5);
  floor_median = percentile (floor_, 0.5);
  plain_median = percentile (unsandboxed, 0.5);
  g_print ("%-44s %9.2f ms  p90 %7.2f ms\n", "local sandboxed print(1), median", ours_median,
           percentile (ours, 0.9));
  g_print ("%-44s %9.2f ms  p90 %7.2f ms\n", "local unsandboxed (none) print(1), median",
           plain_median, percentile (unsandboxed, 0.9));
  g_print ("%-44s %9.2f ms  p90 %7.2f ms\n", "python3 -c 'print(1)' spawned, median", floor_median,
           percentile (floor_, 0.9));
  if (have_bwrap)
    g_print ("%-44s %9.2f ms  p90 %7.2f ms\n", "bwrap --unshare-all python3 -c, median",
             percentile (bwrap, 0.5), percentile (bwrap, 0.9));
  g_print ("%-44s %9.3fx\n", "ratio sandboxed / python3 -c", ours_median / floor_median);
  g_print ("%-44s %9.3fx\n", "ratio unsandboxed / python3 -c", plain_median / floor_median);
  if (have_bwrap)
    g_print ("%-44s %9.3fx\n", "ratio bwrap python3 -c / python3 -c",
             percentile (bwrap, 0.5) / floor_median);
  print_setup (&setup);
  bench_goal ("local-sandboxed-stateless", "local sandboxed print(1)", "<= 1.2x python3 -c",
              ours_median / floor_median <= 1.2, "%.3fx python3 -c (%.2f ms vs %.2f ms)",
              ours_median / floor_median, ours_median, floor_median);
  bench_goal ("local-stateless", "local unsandboxed print(1)", "<= 1.05x python3 -c",
              plain_median / floor_median <= 1.05, "%.3fx python3 -c (%.2f ms vs %.2f ms)",
              plain_median / floor_median, plain_median, floor_median);
  g_clear_pointer (&setup.clone, g_array_unref);
  g_clear_pointer (&setup.userns, g_array_unref);
  g_clear_pointer (&setup.mounts, g_array_unref);
  g_clear_pointer (&setup.network, g_array_unref);
  g_clear_pointer (&setup.privs, g_array_unref);
  g_clear_pointer (&setup.landlock, g_array_unref);
  g_clear_pointer (&setup.seccomp, g_array_unref);
  g_clear_pointer (&setup.exec, g_array_unref);
  g_clear_pointer (&setup.total, g_array_unref);
  g_clear_pointer (&setup.teardown, g_array_unref);
}

static void
bench_stateful (AgentExecLocalSandbox sandbox)
{
  g_autoptr (AgentExecCodeExecutor) executor = new_executor (TRUE, sandbox);
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
  g_print ("%-44s %9.3f ms  p90 %7.3f ms\n",
           sandbox == AGENTEXEC_LOCAL_SANDBOX_NONE ? "local stateful round trip, unsandboxed"
                                                   : "local stateful round trip, sandboxed",
           median, percentile (samples, 0.9));
  if (sandbox == AGENTEXEC_LOCAL_SANDBOX_NONE)
    bench_goal ("local-stateful", "local stateful round trip, unsandboxed", "<= 0.08 ms",
                median <= 0.08, "%.3f ms median", median);
  else
    bench_goal ("local-sandboxed-stateful", "local stateful round trip, sandboxed", "<= 0.2 ms",
                median <= 0.2, "%.3f ms median", median);
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
  g_autoptr (AgentExecCodeExecutor) executor =
      new_executor (FALSE, AGENTEXEC_LOCAL_SANDBOX_NAMESPACES);
  const int callers[] = { 1, 8, 32 };
  const int total = 64;

  for (guint c = 0; c < G_N_ELEMENTS (callers); c++)
    {
      g_autoptr (GPtrArray) threads = g_ptr_array_new ();
      Worker worker = { executor, total / callers[c] };
      gint64 start = g_get_monotonic_time ();
      double seconds;
      g_autofree char *label = g_strdup_printf ("sandboxed print(1), %d concurrent caller%s",
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

  if (only == NULL || g_str_equal (only, "stateless"))
    bench_stateless ();
  if (only == NULL || g_str_equal (only, "stateful"))
    bench_stateful (AGENTEXEC_LOCAL_SANDBOX_NAMESPACES);
  if (only == NULL || g_str_equal (only, "stateful-none"))
    bench_stateful (AGENTEXEC_LOCAL_SANDBOX_NONE);
  if (only == NULL || g_str_equal (only, "concurrency"))
    bench_concurrency ();
  return 0;
}
