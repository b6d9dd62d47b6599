/* bench-kubernetes.c: the Kubernetes backend against the test API server
 *
 *   bench-kubernetes KUBECONFIG [--runs N] [--round-trips M]
 *
 * Rows: a stateless run claimed from a warm pod (claim + first output chunk,
 * and the whole run), the same run with a cold start (pool empty), and the
 * stateful round trip through the API server's pod proxy.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libagentexec.h"
#include "agentexec-kube-client-private.h"
#include "agentexec-kube-config-private.h"
#include "agentexec-kube-pod-private.h"

static AgentExecKubeClient *admin;
static gint64 first_chunk_us;

static int
compare (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

static double
percentile (GArray *values, double p)
{
  g_array_sort (values, compare);
  return g_array_index (values, double, (guint) (p * (values->len - 1)));
}

static void
row (const char *name, GArray *ms)
{
  printf ("%-44s %8.2f ms median  %8.2f ms p90  (n=%u)\n", name, percentile (ms, 0.5),
          percentile (ms, 0.9), ms->len);
}

static guint
ready_warm (const char *pool)
{
  g_autofree char *selector =
      g_strdup_printf ("agentexec.dev/pool%%3D%s,agentexec.dev/state%%3Dwarm", pool);
  g_autofree char *suffix = g_strdup_printf ("?labelSelector=%s", selector);
  g_autofree char *path = _agentexec_kube_client_pods_path (admin, NULL, suffix);
  g_autoptr (JsonNode) root = NULL;
  JsonArray *items;
  guint n = 0;

  root = _agentexec_kube_client_request (admin, "GET", path, NULL, NULL, NULL, NULL, NULL);
  if (root == NULL)
    return 0;
  items = json_object_get_array_member (json_node_get_object (root), "items");
  for (guint i = 0; i < json_array_get_length (items); i++)
    n += _agentexec_kube_pod_is_ready (json_array_get_object_element (items, i));
  return n;
}

static void
on_output (AgentExecCodeExecutor *executor,
           AgentExecExecutionInput *input,
           AgentExecStream stream,
           GBytes *data,
           gpointer user_data)
{
  if (first_chunk_us == 0)
    first_chunk_us = g_get_monotonic_time ();
}

static AgentExecKubernetesExecutor *
new_executor (const char *kubeconfig, const char *pool, guint pool_size, gboolean stateful)
{
  g_autoptr (GError) error = NULL;
  AgentExecKubernetesExecutor *executor =
      g_initable_new (AGENTEXEC_TYPE_KUBERNETES_EXECUTOR, NULL, &error, "kubeconfig", kubeconfig,
                      "pool", pool, "pool-size", pool_size, "stateful", stateful, NULL);

  if (executor == NULL)
    {
      fprintf (stderr, "bench-kubernetes: %s\n", error->message);
      exit (1);
    }
  g_signal_connect (executor, "output", G_CALLBACK (on_output), NULL);
  return executor;
}

static double
timed_run (AgentExecKubernetesExecutor *executor,
           const char *code,
           const char *id,
           double *first_ms)
{
  g_autoptr (AgentExecExecutionInput) input = agentexec_execution_input_new (code, "python");
  g_autoptr (AgentExecExecutionResult) result = NULL;
  g_autoptr (GError) error = NULL;
  gint64 start;

  if (id != NULL)
    agentexec_execution_input_set_execution_id (input, id);
  first_chunk_us = 0;
  start = g_get_monotonic_time ();
  result = agentexec_code_executor_execute_code (AGENTEXEC_CODE_EXECUTOR (executor), NULL, input,
                                                 NULL, &error);
  if (result == NULL)
    {
      fprintf (stderr, "bench-kubernetes: %s\n", error->message);
      exit (1);
    }
  if (first_ms != NULL)
    *first_ms = (first_chunk_us - start) / 1000.0;
  return (g_get_monotonic_time () - start) / 1000.0;
}

static void
bench_warm_and_cold (const char *kubeconfig, guint runs)
{
  g_autoptr (GArray) first = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) whole = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) cold = g_array_new (FALSE, FALSE, sizeof (double));
  AgentExecKubernetesExecutor *warm = new_executor (kubeconfig, "bench-warm", 2, FALSE);
  AgentExecKubernetesExecutor *none = new_executor (kubeconfig, "bench-cold", 0, FALSE);

  for (guint i = 0; i < runs; i++)
    {
      double f, w;

      while (ready_warm ("bench-warm") < 2)
        g_usleep (20 * 1000);
      w = timed_run (warm, "print(1)", NULL, &f);
      g_array_append_val (first, f);
      g_array_append_val (whole, w);
      w = timed_run (none, "print(1)", NULL, NULL);
      g_array_append_val (cold, w);
    }
  row ("warm pod: claim + first output chunk", first);
  row ("warm pod: claim + whole run (print(1))", whole);
  row ("cold start: create + ready + run", cold);
  printf ("%-44s %8.1fx\n", "cold / warm (whole run, medians)",
          percentile (cold, 0.5) / percentile (whole, 0.5));
  agentexec_code_executor_close (AGENTEXEC_CODE_EXECUTOR (warm));
  agentexec_code_executor_close (AGENTEXEC_CODE_EXECUTOR (none));
  g_object_unref (warm);
  g_object_unref (none);
}

static void
bench_stateful (const char *kubeconfig, guint round_trips)
{
  g_autoptr (GArray) proxied = g_array_new (FALSE, FALSE, sizeof (double));
  AgentExecKubernetesExecutor *executor = new_executor (kubeconfig, "bench-stateful", 1, TRUE);

  timed_run (executor, "x = 0", "bench", NULL);
  for (guint i = 0; i < round_trips; i++)
    {
      double ms = timed_run (executor, "x += 1", "bench", NULL);

      g_array_append_val (proxied, ms);
    }
  row ("stateful x += 1 through the pod proxy", proxied);
  agentexec_code_executor_close (AGENTEXEC_CODE_EXECUTOR (executor));
  g_object_unref (executor);
}

int
main (int argc, char **argv)
{
  AgentExecKubeConfigOverrides overrides = { 0 };
  g_autoptr (GError) error = NULL;
  AgentExecKubeConfig *config;
  guint runs = 20, round_trips = 200;

  if (argc < 2)
    {
      fprintf (stderr, "usage: bench-kubernetes KUBECONFIG [--runs N] [--round-trips M]\n");
      return 2;
    }
  for (int i = 2; i + 1 < argc; i += 2)
    {
      if (g_str_equal (argv[i], "--runs"))
        runs = (guint) atoi (argv[i + 1]);
      else if (g_str_equal (argv[i], "--round-trips"))
        round_trips = (guint) atoi (argv[i + 1]);
    }
  overrides.kubeconfig = argv[1];
  config = _agentexec_kube_config_load (&overrides, &error);
  if (config == NULL)
    {
      fprintf (stderr, "bench-kubernetes: %s\n", error->message);
      return 1;
    }
  admin = _agentexec_kube_client_new (config, 30000);
  printf ("Kubernetes backend against tests/kube/kube-test-apiserver.py (pods: real agentexec "
          "serve on loopback)\n");
  bench_warm_and_cold (argv[1], runs);
  bench_stateful (argv[1], round_trips);
  _agentexec_kube_client_unref (admin);
  return 0;
}
