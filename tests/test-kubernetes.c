/* test-kubernetes.c: the Kubernetes backend against the test API server of tests/kube/
 *
 * The server (scripts/start-kube-test.sh, started once for the suite in a
 * directory of its own) speaks the Kubernetes REST subset the backend uses,
 * over TLS with token and client-certificate auth, and its pods are real
 * `agentexec serve` processes of this build: every run here goes through the
 * pod proxy into a real in-pod server. Faults (5xx, 429, dropped watches,
 * quota) are injected through its /_test/faults endpoint.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include <glib/gstdio.h>

#include "libagentexec.h"
#include "agentexec-kube-client-private.h"
#include "agentexec-kube-config-private.h"
#include "agentexec-kube-pod-private.h"

static char *state_dir;
static char *kubeconfig;
static AgentExecKubeClient *admin;

/* The test server */

static gboolean
start_server (void)
{
  g_autofree char *script =
      g_build_filename (g_getenv ("AGENTEXEC_SOURCE_DIR"), "scripts", "start-kube-test.sh", NULL);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) lines = NULL;
  g_autofree char *pid = g_strdup_printf ("%d", (int) getpid ());
  const char *argv[] = {
    script,        "--dir", state_dir, "--build", g_getenv ("AGENTEXEC_BUILD_DIR"),
    "--owner-pid", pid,     NULL
  };
  AgentExecKubeConfigOverrides overrides = { 0 };
  int status = 0;
  AgentExecKubeConfig *config;

  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status,
                     &error) ||
      !g_spawn_check_wait_status (status, &error))
    {
      g_printerr ("start-kube-test.sh failed: %s\n%s\n", error->message, err);
      return FALSE;
    }
  lines = g_strsplit (g_strstrip (out), "\n", -1);
  kubeconfig = g_strdup (lines[g_strv_length (lines) - 1]);
  overrides.kubeconfig = kubeconfig;
  config = _agentexec_kube_config_load (&overrides, &error);
  g_assert_no_error (error);
  admin = _agentexec_kube_client_new (config, 30000);
  return TRUE;
}

static void
stop_server (void)
{
  g_autofree char *script =
      g_build_filename (g_getenv ("AGENTEXEC_SOURCE_DIR"), "scripts", "start-kube-test.sh", NULL);
  const char *argv[] = { script, "--stop", "--dir", state_dir, NULL };

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, NULL,
                NULL, NULL);
}

static void
inject (const char *json)
{
  g_autoptr (JsonNode) body = json_from_string (json, NULL);
  g_autoptr (JsonNode) answer = NULL;
  g_autoptr (GError) error = NULL;

  answer = _agentexec_kube_client_request (admin, "POST", "/_test/faults", NULL, body, NULL, NULL,
                                           &error);
  g_assert_no_error (error);
}

static JsonArray *
list_pods (const char *selector, JsonNode **root)
{
  g_autofree char *escaped = g_uri_escape_string (selector, NULL, FALSE);
  g_autofree char *suffix = g_strdup_printf ("?labelSelector=%s", escaped);
  g_autofree char *path = _agentexec_kube_client_pods_path (admin, NULL, suffix);
  g_autoptr (GError) error = NULL;

  *root = _agentexec_kube_client_request (admin, "GET", path, NULL, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  return json_object_get_array_member (json_node_get_object (*root), "items");
}

static guint
count_pods (const char *selector, gboolean ready_only)
{
  g_autoptr (JsonNode) root = NULL;
  JsonArray *items = list_pods (selector, &root);
  guint n = 0;

  for (guint i = 0; i < json_array_get_length (items); i++)
    {
      JsonObject *pod = json_array_get_object_element (items, i);

      if (!_agentexec_kube_pod_is_deleted (pod) &&
          (!ready_only || _agentexec_kube_pod_is_ready (pod)))
        n++;
    }
  return n;
}

/* Bounded generously: pods go away within a second or two of their deletion. */
static void
assert_no_pods (const char *selector)
{
  g_autoptr (JsonNode) root = NULL;

  for (guint i = 0; i < 300; i++)
    {
      g_clear_pointer (&root, json_node_unref);
      if (json_array_get_length (list_pods (selector, &root)) == 0)
        return;
      g_usleep (100 * 1000);
    }
  g_error ("pods matching %s are still there after 30 s", selector);
}

static void
wait_for_ready (const char *selector, guint n)
{
  for (guint i = 0; i < 600; i++)
    {
      if (count_pods (selector, TRUE) >= n)
        return;
      g_usleep (100 * 1000);
    }
  g_error ("fewer than %u ready pods matching %s after 60 s", n, selector);
}

static AgentExecKubernetesExecutor *
new_executor (GError **error, const char *first_property, ...)
{
  GObject *executor;
  va_list args;

  va_start (args, first_property);
  executor =
      g_initable_new_valist (AGENTEXEC_TYPE_KUBERNETES_EXECUTOR, first_property, args, NULL, error);
  va_end (args);
  return executor != NULL ? AGENTEXEC_KUBERNETES_EXECUTOR (executor) : NULL;
}

static AgentExecExecutionResult *
run (AgentExecKubernetesExecutor *executor,
     const char *code,
     const char *execution_id,
     guint timeout_ms,
     GError **error)
{
  g_autoptr (AgentExecExecutionInput) input = agentexec_execution_input_new (code, "python");

  if (execution_id != NULL)
    agentexec_execution_input_set_execution_id (input, execution_id);
  agentexec_execution_input_set_timeout_ms (input, timeout_ms);
  return agentexec_code_executor_execute_code (AGENTEXEC_CODE_EXECUTOR (executor), NULL, input,
                                               NULL, error);
}

static void
close_executor (AgentExecKubernetesExecutor *executor)
{
  agentexec_code_executor_close (AGENTEXEC_CODE_EXECUTOR (executor));
  g_object_unref (executor);
}

static char *
pool_selector (const char *pool)
{
  return g_strdup_printf ("agentexec.dev/pool=%s", pool);
}

/* Configuration */

static void
test_no_kubeconfig (void)
{
  g_autofree char *home = g_dir_make_tmp ("kube-home-XXXXXX", NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *old_home = g_strdup (g_getenv ("HOME"));
  AgentExecKubernetesExecutor *executor;

  g_unsetenv ("KUBECONFIG");
  g_unsetenv ("KUBERNETES_SERVICE_HOST");
  g_setenv ("HOME", home, TRUE);
  executor = new_executor (&error, NULL, NULL);
  g_assert_null (executor);
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_BACKEND_UNAVAILABLE);
  g_assert_nonnull (strstr (error->message, "No Kubernetes configuration found"));
  g_clear_error (&error);

  executor = new_executor (&error, "kubeconfig", "/nonexistent/kubeconfig", NULL);
  g_assert_null (executor);
  g_assert_nonnull (strstr (error->message, "/nonexistent/kubeconfig does not exist"));
  g_setenv ("HOME", old_home, TRUE);
  g_rmdir (home);
}

static void
test_bad_kubeconfig (void)
{
  g_autofree char *path = g_build_filename (state_dir, "broken.yaml", NULL);
  g_autoptr (GError) error = NULL;

  g_file_set_contents (path, "clusters: [unclosed\n", -1, NULL);
  g_assert_null (new_executor (&error, "kubeconfig", path, NULL));
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_INVALID_INPUT);
  g_assert_nonnull (strstr (error->message, "not valid YAML"));
  g_clear_error (&error);
  g_assert_null (new_executor (&error, "kubeconfig", kubeconfig, "context", "nope", NULL));
  g_assert_nonnull (strstr (error->message, "no context “nope”"));
}

static void
test_unreachable (void)
{
  g_autoptr (GError) error = NULL;

  g_assert_null (
      new_executor (&error, "kubeconfig", kubeconfig, "server", "https://127.0.0.1:1", NULL));
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_BACKEND_UNAVAILABLE);
  g_assert_nonnull (strstr (error->message, "No Kubernetes API server answers at "
                                            "https://127.0.0.1:1"));
}

static void
run_print (AgentExecKubernetesExecutor *executor)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecExecutionResult) result = run (executor, "print(6 * 7)", NULL, 0, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (agentexec_execution_result_get_stdout (result), ==, "42\n");
  g_assert_cmpint (agentexec_execution_result_get_outcome (result), ==, AGENTEXEC_OUTCOME_OK);
}

/* The kubeconfig's client certificate (default context) and bearer token. */
static void
test_run_cert_and_token (void)
{
  const char *contexts[] = { "agentexec-test", "executor" };

  for (guint i = 0; i < G_N_ELEMENTS (contexts); i++)
    {
      g_autoptr (GError) error = NULL;
      AgentExecKubernetesExecutor *executor = new_executor (
          &error, "kubeconfig", kubeconfig, "context", contexts[i], "pool-size", 0, NULL);

      g_assert_no_error (error);
      g_assert_cmpstr (agentexec_kubernetes_executor_get_namespace (executor), ==, "agentexec");
      run_print (executor);
      close_executor (executor);
    }
  assert_no_pods ("app.kubernetes.io/managed-by=libagentexec");
}

/* KUBECONFIG (a list, merged) rather than the property. */
static void
test_kubeconfig_env (void)
{
  g_autofree char *list = g_strdup_printf ("/nonexistent:%s", kubeconfig);
  g_autoptr (GError) error = NULL;
  AgentExecKubernetesExecutor *executor;

  g_setenv ("KUBECONFIG", list, TRUE);
  executor = new_executor (&error, "pool-size", 0, "context", "executor", NULL);
  g_unsetenv ("KUBECONFIG");
  g_assert_no_error (error);
  run_print (executor);
  close_executor (executor);
}

static void
test_in_cluster (void)
{
  g_autofree char *sa = g_build_filename (state_dir, "serviceaccount", NULL);
  g_autofree char *tokens_path = g_build_filename (state_dir, "tokens.json", NULL);
  g_autofree char *ca_src = g_build_filename (state_dir, "ca.crt", NULL);
  g_autofree char *ca = NULL, *tokens = NULL, *port = NULL, *port_path = NULL;
  g_autofree char *home = g_dir_make_tmp ("kube-home-XXXXXX", NULL);
  g_autofree char *old_home = g_strdup (g_getenv ("HOME"));
  g_autoptr (JsonNode) tokens_json = NULL;
  g_autoptr (GError) error = NULL;
  AgentExecKubernetesExecutor *executor;

  g_assert_true (g_file_get_contents (tokens_path, &tokens, NULL, NULL));
  tokens_json = json_from_string (tokens, NULL);
  g_assert_true (g_file_get_contents (ca_src, &ca, NULL, NULL));
  port_path = g_build_filename (state_dir, "port", NULL);
  g_assert_true (g_file_get_contents (port_path, &port, NULL, NULL));
  g_mkdir_with_parents (sa, 0700);
  {
    g_autofree char *t = g_build_filename (sa, "token", NULL);
    g_autofree char *c = g_build_filename (sa, "ca.crt", NULL);
    g_autofree char *n = g_build_filename (sa, "namespace", NULL);

    g_file_set_contents (
        t, json_object_get_string_member (json_node_get_object (tokens_json), "executor"), -1,
        NULL);
    g_file_set_contents (c, ca, -1, NULL);
    g_file_set_contents (n, "agentexec\n", -1, NULL);
  }
  g_unsetenv ("KUBECONFIG");
  g_setenv ("HOME", home, TRUE);
  g_setenv ("KUBERNETES_SERVICE_HOST", "127.0.0.1", TRUE);
  g_setenv ("KUBERNETES_SERVICE_PORT", g_strstrip (port), TRUE);
  g_setenv ("AGENTEXEC_KUBERNETES_SERVICE_ACCOUNT_DIR", sa, TRUE);
  executor = new_executor (&error, "pool-size", 0, NULL);
  g_unsetenv ("KUBERNETES_SERVICE_HOST");
  g_unsetenv ("KUBERNETES_SERVICE_PORT");
  g_unsetenv ("AGENTEXEC_KUBERNETES_SERVICE_ACCOUNT_DIR");
  g_setenv ("HOME", old_home, TRUE);
  g_rmdir (home);
  g_assert_no_error (error);
  g_assert_cmpstr (agentexec_kubernetes_executor_get_namespace (executor), ==, "agentexec");
  run_print (executor);
  close_executor (executor);
}

/* Credentials and permissions */

static void
test_unauthorized (void)
{
  g_autoptr (GError) error = NULL;

  g_assert_null (new_executor (&error, "kubeconfig", kubeconfig, "context", "bad-token", NULL));
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "401 Unauthorized"));
  g_assert_nonnull (strstr (error->message, "bad-token"));
}

static void
assert_forbidden (const char *context, guint pool_size, const char *verb, const char *resource)
{
  g_autofree char *pool = g_strdup_printf ("forbidden-%s", context);
  g_autofree char *selector = pool_selector (pool);
  g_autofree char *needle = g_strdup_printf ("grant the verb “%s” on “%s”", verb, resource);
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecExecutionResult) result = NULL;
  AgentExecKubernetesExecutor *executor =
      new_executor (&error, "kubeconfig", kubeconfig, "context", context, "pool-size", pool_size,
                    "pool", pool, NULL);

  g_assert_no_error (error);
  if (pool_size > 0)
    wait_for_ready (selector, pool_size);
  result = run (executor, "print(1)", NULL, 0, &error);
  /* The executor's own watch may learn of the ready pod a moment after the
   * test does: until then a run cold-starts (which needs no patch). */
  for (guint i = 0; pool_size > 0 && result != NULL && i < 100; i++)
    {
      g_clear_object (&result);
      g_usleep (100 * 1000);
      result = run (executor, "print(1)", NULL, 0, &error);
    }
  g_assert_null (result);
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "403 Forbidden"));
  g_assert_nonnull (strstr (error->message, needle));
  close_executor (executor);
}

static void
test_forbidden_verbs (void)
{
  g_autoptr (GError) error = NULL;

  assert_forbidden ("readonly", 0, "create", "pods");
  assert_forbidden ("noproxy", 0, "create", "pods/proxy");
  assert_forbidden ("nopatch", 1, "patch", "pods");
  /* The readonly user cannot delete its (admin-created) leftovers either: clean up. */
  assert_no_pods ("agentexec.dev/pool=forbidden-noproxy");
  assert_no_pods ("agentexec.dev/pool=forbidden-nopatch");
}

static void
test_quota (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecExecutionResult) result = NULL;
  AgentExecKubernetesExecutor *executor =
      new_executor (&error, "kubeconfig", kubeconfig, "pool-size", 0, NULL);

  g_assert_no_error (error);
  inject ("{\"quota_pods\": 0}");
  result = run (executor, "print(1)", NULL, 0, &error);
  inject ("{\"quota_pods\": null}");
  g_assert_null (result);
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_RESOURCE_LIMIT);
  g_assert_nonnull (strstr (error->message, "exceeded quota"));
  close_executor (executor);
}

/* Pods that never become ready, with the pod's own reason */

static void
test_never_ready (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecExecutionResult) result = NULL;
  AgentExecKubernetesExecutor *executor = new_executor (
      &error, "kubeconfig", kubeconfig, "pool-size", 0, "image", "registry.invalid/nope:1", NULL);

  g_assert_no_error (error);
  result = run (executor, "print(1)", NULL, 0, &error);
  g_assert_null (result);
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "will never become ready"));
  g_assert_nonnull (strstr (error->message, "ErrImagePull"));
  g_assert_nonnull (strstr (error->message, "registry.invalid/nope:1"));
  close_executor (executor);
  g_clear_error (&error);

  executor = new_executor (&error, "kubeconfig", kubeconfig, "pool-size", 0, "cpu-request", "1000",
                           "cpu-limit", "1000", NULL);
  g_assert_no_error (error);
  result = run (executor, "print(1)", NULL, 0, &error);
  g_assert_null (result);
  g_assert_nonnull (strstr (error->message, "Unschedulable"));
  g_assert_nonnull (strstr (error->message, "Insufficient cpu"));
  close_executor (executor);
  assert_no_pods ("app.kubernetes.io/managed-by=libagentexec");
}

/* A warm pool whose pods can never start: the run reports the reason, and
 * the failed pods are deleted and replaced with a growing delay instead of
 * piling up. */
static void
test_pool_never_ready (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecExecutionResult) result = NULL;
  AgentExecKubernetesExecutor *executor =
      new_executor (&error, "kubeconfig", kubeconfig, "pool-size", 2, "pool", "broken", "image",
                    "registry.invalid/nope:2", NULL);

  g_assert_no_error (error);
  result = run (executor, "print(1)", NULL, 0, &error);
  g_assert_null (result);
  g_assert_nonnull (strstr (error->message, "ErrImagePull"));
  for (guint i = 0; i < 20; i++)
    {
      g_assert_cmpuint (count_pods ("agentexec.dev/pool=broken", FALSE), <=, 3);
      g_usleep (100 * 1000);
    }
  close_executor (executor);
  assert_no_pods ("agentexec.dev/pool=broken");
}

static void
on_retry (AgentExecBaseExecutor *executor,
          AgentExecExecutionInput *input,
          guint attempt,
          guint delay_ms,
          GError *error,
          gpointer user_data)
{
  g_test_message ("attempt %u failed: %s", attempt, error->message);
}

/* 5xx, 429 (with Retry-After) and 409 on create, retried by the base policy */

static void
test_retried (void)
{
  const char *faults[] = {
    "{\"fail\": [{\"method\": \"POST\", \"path\": \"/pods$\", \"status\": 503}]}",
    "{\"fail\": [{\"method\": \"POST\", \"path\": \"/pods$\", \"status\": 429, "
    "\"retry_after\": 1}]}",
    "{\"fail\": [{\"method\": \"POST\", \"path\": \"/pods$\", \"status\": 500, \"count\": 2}]}",
  };
  guint expected_attempts[] = { 2, 2, 3 };

  for (guint i = 0; i < G_N_ELEMENTS (faults); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (AgentExecExecutionResult) result = NULL;
      AgentExecKubernetesExecutor *executor =
          new_executor (&error, "kubeconfig", kubeconfig, "pool-size", 0, "max-retries", 3,
                        "retry-delay-ms", 10, NULL);

      g_assert_no_error (error);
      g_signal_connect (executor, "retry", G_CALLBACK (on_retry), NULL);
      inject (faults[i]);
      result = run (executor, "print('retried')", NULL, 0, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (agentexec_execution_result_get_stdout (result), ==, "retried\n");
      /* At least the injected failures; a loaded machine may add a transient one. */
      g_assert_cmpuint (agentexec_execution_result_get_attempts (result), >=, expected_attempts[i]);
      close_executor (executor);
    }
  {
    /* Without max-retries the failure is reported, naming the server's answer. */
    g_autoptr (GError) error = NULL;
    g_autoptr (AgentExecExecutionResult) result = NULL;
    AgentExecKubernetesExecutor *executor =
        new_executor (&error, "kubeconfig", kubeconfig, "pool-size", 0, NULL);

    inject ("{\"fail\": [{\"method\": \"POST\", \"path\": \"/pods$\", \"status\": 503}]}");
    result = run (executor, "print(1)", NULL, 0, &error);
    g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_BACKEND_UNAVAILABLE);
    g_assert_nonnull (strstr (error->message, "HTTP 503"));
    close_executor (executor);
  }
}

/* A watch that drops mid-stream is resumed from its resourceVersion; one that
 * keeps dropping is a clear error. */
static void
test_watch_dropped (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecExecutionResult) result = NULL;
  AgentExecKubernetesExecutor *executor =
      new_executor (&error, "kubeconfig", kubeconfig, "pool-size", 0, NULL);

  g_assert_no_error (error);
  inject ("{\"drop_watch_after\": 0}");
  result = run (executor, "print('after the drop')", NULL, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (agentexec_execution_result_get_stdout (result), ==, "after the drop\n");
  g_clear_object (&result);

  inject ("{\"fail\": [{\"method\": \"GET\", \"path\": \"/pods$\", \"status\": 503, "
          "\"count\": 20}], \"drop_watch_after\": 0}");
  result = run (executor, "print(1)", NULL, 0, &error);
  inject ("{\"reset\": true}");
  g_assert_null (result);
  g_assert_nonnull (strstr (error->message, "the watch failed"));
  close_executor (executor);
  assert_no_pods ("app.kubernetes.io/managed-by=libagentexec");
}

/* Warm pool */

static void
test_warm_pool (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *selector = pool_selector ("warm");
  AgentExecKubernetesExecutor *executor =
      new_executor (&error, "kubeconfig", kubeconfig, "pool-size", 2, "pool", "warm", NULL);

  g_assert_no_error (error);
  wait_for_ready (selector, 2);
  for (guint i = 0; i < 3; i++)
    run_print (executor);
  /* Refilled in the background: two warm pods again. */
  {
    g_autofree char *warm = g_strdup_printf ("%s,agentexec.dev/state=warm", selector);

    wait_for_ready (warm, 2);
  }
  close_executor (executor);
  assert_no_pods (selector);
}

typedef struct
{
  AgentExecKubernetesExecutor *executor;
  guint index;
  char *stdout_text;
  GError *error;
} Claimer;

static gpointer
claimer_thread (gpointer data)
{
  Claimer *claimer = data;
  g_autofree char *code = g_strdup_printf ("print('run %u')", claimer->index);
  AgentExecExecutionResult *result = run (claimer->executor, code, NULL, 0, &claimer->error);

  if (result != NULL)
    claimer->stdout_text = g_strdup (agentexec_execution_result_get_stdout (result));
  g_clear_object (&result);
  return NULL;
}

static guint
count_in_file (const char *path, const char *needle)
{
  g_autofree char *text = NULL;
  guint n = 0;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return 0;
  for (const char *p = strstr (text, needle); p != NULL; p = strstr (p + 1, needle))
    n++;
  return n;
}

static void
clear_logs (const char *logs)
{
  g_autoptr (GDir) dir = g_dir_open (logs, 0, NULL);
  const char *entry;

  while (dir != NULL && (entry = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (logs, entry, NULL);

      g_unlink (path);
    }
}

/* 32 concurrent runs, from two executors sharing one pool of 4 warm pods:
 * claims race (409s happen), every run gets a pod no other run used. The
 * pods' own access logs show one execution each. */
static void
test_concurrent_claims (void)
{
  g_autofree char *selector = pool_selector ("race");
  g_autofree char *logs = g_build_filename (state_dir, "logs", NULL);
  g_autoptr (GError) error = NULL;
  AgentExecKubernetesExecutor *executors[2];
  Claimer claimers[32];
  GThread *threads[32];
  g_autoptr (GDir) dir = NULL;
  const char *entry;
  guint executions = 0, pods_used = 0;

  clear_logs (logs);
  for (guint i = 0; i < 2; i++)
    {
      executors[i] = new_executor (&error, "kubeconfig", kubeconfig, "pool-size", 2, "pool", "race",
                                   "ready-timeout-ms", 120000, NULL);
      g_assert_no_error (error);
    }
  wait_for_ready (selector, 4);
  for (guint i = 0; i < 32; i++)
    {
      claimers[i] = (Claimer){ executors[i % 2], i, NULL, NULL };
      threads[i] = g_thread_new ("claimer", claimer_thread, &claimers[i]);
    }
  for (guint i = 0; i < 32; i++)
    {
      g_autofree char *expected = g_strdup_printf ("run %u\n", i);

      g_thread_join (threads[i]);
      g_assert_no_error (claimers[i].error);
      if (g_strcmp0 (claimers[i].stdout_text, expected) != 0)
        g_test_message ("state %s", state_dir);
      g_assert_cmpstr (claimers[i].stdout_text, ==, expected);
      g_free (claimers[i].stdout_text);
    }
  for (guint i = 0; i < 2; i++)
    close_executor (executors[i]);
  assert_no_pods (selector);
  dir = g_dir_open (logs, 0, NULL);
  while (dir != NULL && (entry = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (logs, entry, NULL);
      guint n = count_in_file (path, "\"path\":\"/execute\"");

      g_assert_cmpuint (n, <=, 1);
      executions += n;
      pods_used += n > 0;
    }
  g_assert_cmpuint (executions, ==, 32);
  g_assert_cmpuint (pods_used, ==, 32);
}

/* Executors sharing a pool: a warm pod that B claimed from A's share is B's;
 * closing A leaves it alone. */
static void
test_shared_pool_close (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecExecutionResult) first = NULL;
  g_autoptr (AgentExecExecutionResult) second = NULL;
  AgentExecKubernetesExecutor *a =
      new_executor (&error, "kubeconfig", kubeconfig, "pool-size", 2, "pool", "shared", NULL);
  AgentExecKubernetesExecutor *b;

  g_assert_no_error (error);
  wait_for_ready ("agentexec.dev/pool=shared,agentexec.dev/state=warm", 2);
  /* b's own pods can never start (a bad image): whatever b runs on is a pod
   * it claimed from a's share, once its own watch has seen them. */
  b = new_executor (&error, "kubeconfig", kubeconfig, "pool-size", 1, "pool", "shared", "stateful",
                    TRUE, "image", "registry.invalid/never:1", NULL);
  g_assert_no_error (error);
  for (guint i = 0; i < 100 && first == NULL; i++)
    {
      g_clear_error (&error);
      first = run (b, "y = 41", "s", 0, &error);
      if (first == NULL)
        g_usleep (100 * 1000);
    }
  g_assert_no_error (error);
  close_executor (a);
  second = run (b, "print(y + 1)", "s", 0, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (agentexec_execution_result_get_stdout (second), ==, "42\n");
  g_assert_false (agentexec_execution_result_get_session_restarted (second));
  close_executor (b);
  assert_no_pods ("agentexec.dev/pool=shared");
}

/* Stateful sessions: one pod per execution-id, variables kept */

static void
test_stateful (void)
{
  g_autoptr (GError) error = NULL;
  AgentExecKubernetesExecutor *executor = new_executor (
      &error, "kubeconfig", kubeconfig, "pool-size", 1, "pool", "stateful", "stateful", TRUE, NULL);
  const char *codes[] = { "x = 40", "x += 2", "print(x)" };
  g_autoptr (AgentExecExecutionResult) other = NULL;
  g_autofree char *selector = pool_selector ("stateful");

  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (codes); i++)
    {
      g_autoptr (AgentExecExecutionResult) result =
          run (executor, codes[i], "session-a", 0, &error);

      g_assert_no_error (error);
      g_assert_cmpint (agentexec_execution_result_get_outcome (result), ==, AGENTEXEC_OUTCOME_OK);
      if (i == 2)
        g_assert_cmpstr (agentexec_execution_result_get_stdout (result), ==, "42\n");
    }
  other = run (executor, "print('x' in globals())", "session-b", 0, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (agentexec_execution_result_get_stdout (other), ==, "False\n");
  {
    g_autofree char *claimed = g_strdup_printf ("%s,agentexec.dev/state=claimed", selector);

    g_assert_cmpuint (count_pods (claimed, FALSE), ==, 2);
  }
  close_executor (executor);
  assert_no_pods (selector);
}

static void
test_error_and_stderr (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecExecutionResult) result = NULL;
  AgentExecKubernetesExecutor *executor =
      new_executor (&error, "kubeconfig", kubeconfig, "pool-size", 0, NULL);

  result = run (executor, "import sys\nprint('out')\nprint('err', file=sys.stderr)\n1/0", NULL, 0,
                &error);
  g_assert_no_error (error);
  g_assert_cmpstr (agentexec_execution_result_get_stdout (result), ==, "out\n");
  g_assert_nonnull (strstr (agentexec_execution_result_get_stderr (result), "err\n"));
  g_assert_nonnull (strstr (agentexec_execution_result_get_stderr (result), "ZeroDivisionError"));
  g_assert_cmpint (agentexec_execution_result_get_outcome (result), ==, AGENTEXEC_OUTCOME_FAILED);
  g_clear_object (&result);
  /* The pod's token (given to its server through --token-env) is not in the
   * code's environment. */
  result =
      run (executor, "import os\nprint(os.environ.get('AGENTEXEC_SERVE_TOKEN'))", NULL, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (agentexec_execution_result_get_stdout (result), ==, "None\n");
  close_executor (executor);
}

/* Output arrives while the code runs: the code waits for a file that the
 * output handler creates when it sees the first line. Without streaming
 * this would run into its timeout. */
static void
on_output (AgentExecCodeExecutor *executor,
           AgentExecExecutionInput *input,
           AgentExecStream stream,
           GBytes *data,
           gpointer user_data)
{
  GString *seen = user_data;
  gsize len;
  const char *text = g_bytes_get_data (data, &len);
  const char *line_end;

  if (stream != AGENTEXEC_STREAM_STDOUT)
    return;
  g_string_append_len (seen, text, len);
  /* "first DIR\n": the code runs in DIR (its sandbox shows it at the same
   * path) and waits for the flag there. */
  line_end = strchr (seen->str, '\n');
  if (line_end != NULL && g_str_has_prefix (seen->str, "first "))
    {
      g_autofree char *dir = g_strndup (seen->str + 6, line_end - seen->str - 6);
      g_autofree char *flag = g_build_filename (dir, "streamed.flag", NULL);

      g_file_set_contents (flag, "seen", -1, NULL);
    }
}

static void
test_streaming (void)
{
  const char *code = "import os, time\nprint('first', os.getcwd(), flush=True)\n"
                     "while not os.path.exists('streamed.flag'):\n"
                     "    time.sleep(0.05)\nprint('second')\n";
  g_autoptr (GString) seen = g_string_new (NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecExecutionResult) result = NULL;
  AgentExecKubernetesExecutor *executor =
      new_executor (&error, "kubeconfig", kubeconfig, "pool-size", 0, NULL);
  const char *out;

  g_signal_connect (executor, "output", G_CALLBACK (on_output), seen);
  result = run (executor, code, NULL, 60000, &error);
  g_assert_no_error (error);
  out = agentexec_execution_result_get_stdout (result);
  g_assert_true (g_str_has_prefix (out, "first /"));
  g_assert_true (g_str_has_suffix (out, "\nsecond\n"));
  g_assert_cmpint (agentexec_execution_result_get_outcome (result), ==, AGENTEXEC_OUTCOME_OK);
  close_executor (executor);
}

/* A run past its timeout: DEADLINE_EXCEEDED with the output so far, and its
 * pod deleted. A stateful session starts again in a fresh pod. */
static void
test_timeout (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecExecutionResult) result = NULL;
  g_autoptr (AgentExecExecutionResult) again = NULL;
  AgentExecKubernetesExecutor *executor = new_executor (
      &error, "kubeconfig", kubeconfig, "pool-size", 0, "stateful", TRUE, "pool", "timeout", NULL);

  g_assert_no_error (error);
  result = run (executor, "print('before', flush=True)\nwhile True: pass", "s", 2000, &error);
  g_assert_no_error (error);
  g_assert_cmpint (agentexec_execution_result_get_outcome (result), ==,
                   AGENTEXEC_OUTCOME_DEADLINE_EXCEEDED);
  g_assert_cmpstr (agentexec_execution_result_get_stdout (result), ==, "before\n");
  assert_no_pods ("agentexec.dev/pool=timeout");
  again = run (executor, "print('fresh')", "s", 0, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (agentexec_execution_result_get_stdout (again), ==, "fresh\n");
  g_assert_true (agentexec_execution_result_get_session_restarted (again));
  close_executor (executor);
  assert_no_pods ("agentexec.dev/pool=timeout");
}

/* The executor killed mid-run: its pods stay (nobody deleted them) until the
 * next executor on this host reaps them. */
static void
test_killed_owner_reaped (void)
{
  g_autofree char *agentexec =
      g_build_filename (g_getenv ("AGENTEXEC_BUILD_DIR"), "tools", "agentexec", NULL);
  g_autofree char *code_path = g_build_filename (state_dir, "sleep.py", NULL);
  const char *argv[] = { agentexec, "run", "--backend", "kubernetes", code_path, NULL };
  g_auto (GStrv) envp = g_get_environ ();
  g_autofree char *selector = NULL;
  g_autoptr (GError) error = NULL;
  GPid pid;
  int status;
  AgentExecKubernetesExecutor *executor;

  g_file_set_contents (code_path, "import time\nprint('started', flush=True)\ntime.sleep(600)\n",
                       -1, NULL);
  envp = g_environ_setenv (envp, "KUBECONFIG", kubeconfig, TRUE);
  envp = g_environ_setenv (envp, "AGENTEXEC_KUBE_POOL_SIZE", "2", TRUE);
  g_assert_true (g_spawn_async (NULL, (char **) argv, envp,
                                G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                                &pid, &error));
  selector = g_strdup_printf ("agentexec.dev/owner-pid=%d", (int) pid);
  /* Its run pod and its two warm pods */
  wait_for_ready (selector, 3);
  {
    g_autofree char *claimed = g_strdup_printf ("%s,agentexec.dev/state=claimed", selector);

    wait_for_ready (claimed, 1);
  }
  kill (pid, SIGKILL);
  waitpid (pid, &status, 0);
  g_spawn_close_pid (pid);
  g_assert_cmpuint (count_pods (selector, FALSE), ==, 3);
  executor = new_executor (&error, "kubeconfig", kubeconfig, "pool-size", 0, NULL);
  g_assert_no_error (error);
  assert_no_pods (selector);
  close_executor (executor);
}

static void
test_manifest (void)
{
  g_autoptr (GError) error = NULL;
  AgentExecKubernetesExecutor *executor =
      g_object_new (AGENTEXEC_TYPE_KUBERNETES_EXECUTOR, "runtime-class", "gvisor", NULL);
  g_autofree char *text = agentexec_kubernetes_executor_dup_pod_manifest (executor, "sekrit-1234");
  g_autoptr (JsonNode) root = json_from_string (text, &error);
  JsonObject *spec, *container, *security;

  g_assert_no_error (error);
  spec = json_object_get_object_member (json_node_get_object (root), "spec");
  g_assert_false (json_object_get_boolean_member (spec, "automountServiceAccountToken"));
  g_assert_cmpstr (json_object_get_string_member (spec, "runtimeClassName"), ==, "gvisor");
  g_assert_cmpstr (json_object_get_string_member (spec, "restartPolicy"), ==, "Never");
  container = json_array_get_object_element (json_object_get_array_member (spec, "containers"), 0);
  security = json_object_get_object_member (container, "securityContext");
  g_assert_true (json_object_get_boolean_member (security, "runAsNonRoot"));
  g_assert_true (json_object_get_boolean_member (security, "readOnlyRootFilesystem"));
  g_assert_false (json_object_get_boolean_member (security, "allowPrivilegeEscalation"));
  g_assert_cmpstr (_agentexec_kube_get_string (security, "seccompProfile.type"), ==,
                   "RuntimeDefault");
  g_assert_cmpstr (json_array_get_string_element (
                       json_object_get_array_member (
                           json_object_get_object_member (security, "capabilities"), "drop"),
                       0),
                   ==, "ALL");
  g_assert_cmpstr (_agentexec_kube_get_string (container, "resources.limits.memory"), ==, "512Mi");
  g_assert_cmpstr (_agentexec_kube_get_string (container, "resources.requests.cpu"), ==, "100m");
  g_assert_cmpstr (
      _agentexec_kube_pod_label (json_node_get_object (root), "app.kubernetes.io/managed-by"), ==,
      "libagentexec");
  g_assert_nonnull (strstr (text, "sekrit-1234"));
  /* The server is run directly (no shell, no token file): the token comes
   * from the environment and never appears on the command line; the local
   * backend inside the pod runs without its own sandbox, which cannot start
   * in a container (test-podman-kube-play shows it). */
  {
    JsonArray *command = json_object_get_array_member (container, "command");
    g_autoptr (GString) line = g_string_new (NULL);
    gboolean token_env = FALSE, no_sandbox = FALSE;

    for (guint i = 0; i < json_array_get_length (command); i++)
      {
        const char *arg = json_array_get_string_element (command, i);

        g_string_append_printf (line, "%s ", arg);
        no_sandbox |= g_str_equal (arg, "--no-sandbox");
        if (g_str_equal (arg, "--token-env") && i + 1 < json_array_get_length (command))
          token_env =
              g_str_equal (json_array_get_string_element (command, i + 1), "AGENTEXEC_SERVE_TOKEN");
      }
    g_assert_cmpstr (json_array_get_string_element (command, 0), ==, "agentexec");
    g_assert_true (token_env);
    g_assert_true (no_sandbox);
    g_assert_null (strstr (line->str, "sekrit-1234"));
    g_assert_null (strstr (line->str, "--token-file"));
    g_assert_null (strstr (text, "/run/agentexec"));
  }
  g_object_unref (executor);
}

static void
test_no_leftovers (void)
{
  assert_no_pods ("app.kubernetes.io/managed-by=libagentexec");
}

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  state_dir = g_dir_make_tmp ("agentexec-kube-XXXXXX", NULL);
  /* The in-pod local backend runs code as an unprivileged user when run as
   * root: the streaming test's flag file must be reachable for it. */
  g_chmod (state_dir, 0755);
  if (!start_server ())
    return 1;
  g_unsetenv ("KUBECONFIG");
  g_test_add_func ("/agentexec/backend/kubernetes/manifest", test_manifest);
  g_test_add_func ("/agentexec/backend/kubernetes/config/no-kubeconfig", test_no_kubeconfig);
  g_test_add_func ("/agentexec/backend/kubernetes/config/bad-kubeconfig", test_bad_kubeconfig);
  g_test_add_func ("/agentexec/backend/kubernetes/config/unreachable", test_unreachable);
  g_test_add_func ("/agentexec/backend/kubernetes/config/cert-and-token", test_run_cert_and_token);
  g_test_add_func ("/agentexec/backend/kubernetes/config/kubeconfig-env", test_kubeconfig_env);
  g_test_add_func ("/agentexec/backend/kubernetes/config/in-cluster", test_in_cluster);
  g_test_add_func ("/agentexec/backend/kubernetes/auth/unauthorized", test_unauthorized);
  g_test_add_func ("/agentexec/backend/kubernetes/auth/forbidden-verbs", test_forbidden_verbs);
  g_test_add_func ("/agentexec/backend/kubernetes/quota", test_quota);
  g_test_add_func ("/agentexec/backend/kubernetes/never-ready", test_never_ready);
  g_test_add_func ("/agentexec/backend/kubernetes/retried", test_retried);
  g_test_add_func ("/agentexec/backend/kubernetes/pool-never-ready", test_pool_never_ready);
  g_test_add_func ("/agentexec/backend/kubernetes/watch-dropped", test_watch_dropped);
  g_test_add_func ("/agentexec/backend/kubernetes/error-and-stderr", test_error_and_stderr);
  g_test_add_func ("/agentexec/backend/kubernetes/streaming", test_streaming);
  g_test_add_func ("/agentexec/backend/kubernetes/warm-pool", test_warm_pool);
  g_test_add_func ("/agentexec/backend/kubernetes/concurrent-claims", test_concurrent_claims);
  g_test_add_func ("/agentexec/backend/kubernetes/stateful", test_stateful);
  g_test_add_func ("/agentexec/backend/kubernetes/shared-pool-close", test_shared_pool_close);
  g_test_add_func ("/agentexec/backend/kubernetes/timeout", test_timeout);
  g_test_add_func ("/agentexec/backend/kubernetes/killed-owner-reaped", test_killed_owner_reaped);
  g_test_add_func ("/agentexec/backend/kubernetes/zz-no-leftovers", test_no_leftovers);
  status = g_test_run ();
  _agentexec_kube_client_unref (admin);
  stop_server ();
  if (g_getenv ("AGENTEXEC_KUBE_TEST_KEEP") == NULL)
    {
      g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", state_dir);

      (void) system (cmd);
    }
  g_free (kubeconfig);
  g_free (state_dir);
  return status;
}
