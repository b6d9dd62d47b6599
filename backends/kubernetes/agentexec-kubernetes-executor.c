/* agentexec-kubernetes-executor.c: runs code in pods on a Kubernetes cluster
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>
#include <unistd.h>

#include "agentexec-base-executor-private.h"
#include "agentexec-code-executor-private.h"
#include "agentexec-enums.h"
#include "agentexec-kube-config-private.h"
#include "agentexec-kube-executor-private.h"
#include "agentexec-kube-run-private.h"
#include "agentexec-kubernetes-executor.h"

/**
 * AgentExecKubernetesExecutor:
 *
 * Runs code in pods on a Kubernetes cluster, through the Kubernetes REST
 * API spoken with libcurl (no kubectl, no client library). Each pod runs
 * `agentexec serve` (the E2B code-interpreter protocol) and is reached
 * through the API server's pod proxy,
 * `POST /api/v1/namespaces/NS/pods/POD:PORT/proxy/execute`, whose NDJSON
 * answer is read as it streams, so output arrives while the code runs.
 *
 * The configuration comes from a kubeconfig
 * ([property@AgentExec.KubernetesExecutor:kubeconfig], else `KUBECONFIG`,
 * else `~/.kube/config`: server, CA, client certificate and key or bearer
 * token, context and namespace) or, inside a pod, from its service account;
 * the properties override it.
 *
 * Pods are secure by default: non-root, read-only root file system, every
 * capability dropped, seccomp `RuntimeDefault`, no service-account token,
 * requests and limits, an optional
 * [property@AgentExec.KubernetesExecutor:runtime-class] (gVisor), and
 * labels naming the pool and their owner. A warm pool
 * ([property@AgentExec.KubernetesExecutor:pool-size]) keeps ready pods,
 * followed with a watch; a run claims one atomically (a merge patch carrying
 * its resourceVersion; a 409 means another claimer won, and the next pod is
 * tried), and a cold start happens when the pool is empty. Stateless runs
 * use a pod each; with [property@AgentExec.BaseExecutor:stateful], each
 * execution-id keeps one pod (and one interpreter context per language).
 * Pods are deleted after use and on close; pods of a process of this host
 * that is gone are deleted by the next executor; a run past its timeout is
 * interrupted and its pod deleted.
 *
 * See `docs/kubernetes.md` for the RBAC Role, NetworkPolicy and pool sizing.
 *
 * ```c
 * g_autoptr(GError) error = NULL;
 * g_autoptr(AgentExecKubernetesExecutor) executor =
 *   agentexec_kubernetes_executor_new (NULL, &error);
 * g_autoptr(AgentExecExecutionInput) input =
 *   agentexec_execution_input_new ("print(6 * 7)", "python");
 * g_autoptr(AgentExecExecutionResult) result =
 *   agentexec_code_executor_execute_code (AGENTEXEC_CODE_EXECUTOR (executor),
 *                                         NULL, input, NULL, &error);
 * ```
 *
 * Since: 1.0
 */

#define DEFAULT_IMAGE "agentexec-kube:latest"

struct _AgentExecKubernetesExecutor
{
  AgentExecBaseExecutor parent_instance;

  char *kubeconfig;
  char *context;
  char *server;
  char *namespace_;
  char *token;
  char *image;
  char *pool_name;
  char *runtime_class;
  char *cpu_request;
  char *cpu_limit;
  char *memory_request;
  char *memory_limit;
  guint port;
  guint pool_size;
  guint ready_timeout_ms;
  guint request_timeout_ms;
  guint pod_max_lifetime_s;

  char *executor_id;
  char *owner_host;
  char *owner_start;
  AgentExecKubeClient *client;
  GMutex lock;
  AgentExecKubePool *pool;
  AgentExecKubeSessions *sessions;
  GThreadPool *deletions;
};

static void initable_iface_init (GInitableIface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (AgentExecKubernetesExecutor,
                               agentexec_kubernetes_executor,
                               AGENTEXEC_TYPE_BASE_EXECUTOR,
                               G_IMPLEMENT_INTERFACE (G_TYPE_INITABLE, initable_iface_init))

enum
{
  PROP_0,
  PROP_KUBECONFIG,
  PROP_CONTEXT,
  PROP_SERVER,
  PROP_NAMESPACE,
  PROP_TOKEN,
  PROP_IMAGE,
  PROP_POOL,
  PROP_POOL_SIZE,
  PROP_PORT,
  PROP_RUNTIME_CLASS,
  PROP_CPU_REQUEST,
  PROP_CPU_LIMIT,
  PROP_MEMORY_REQUEST,
  PROP_MEMORY_LIMIT,
  PROP_READY_TIMEOUT_MS,
  PROP_REQUEST_TIMEOUT_MS,
  PROP_POD_MAX_LIFETIME_S,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* What the run code needs */

AgentExecKubeClient *
_agentexec_kubernetes_executor_get_client (AgentExecKubernetesExecutor *self)
{
  return self->client;
}

guint
_agentexec_kubernetes_executor_get_port (AgentExecKubernetesExecutor *self)
{
  return self->port;
}

void
_agentexec_kubernetes_executor_get_spec (AgentExecKubernetesExecutor *self,
                                         AgentExecKubePodSpec *spec)
{
  memset (spec, 0, sizeof *spec);
  spec->image = self->image;
  spec->pool = self->pool_name;
  spec->owner = self->executor_id;
  spec->owner_host = self->owner_host;
  spec->owner_pid = (guint) getpid ();
  spec->owner_start = self->owner_start;
  spec->runtime_class = self->runtime_class;
  spec->cpu_request = self->cpu_request;
  spec->cpu_limit = self->cpu_limit;
  spec->memory_request = self->memory_request;
  spec->memory_limit = self->memory_limit;
  spec->ephemeral_storage_limit = "1Gi";
  spec->port = self->port;
  spec->max_lifetime_s = self->pod_max_lifetime_s;
  spec->run_as_user = 1000;
  /* In-pod bound of one execution: the executor's timeout and a margin (the
   * client's own deadline comes first and deletes the pod). */
  spec->run_timeout_s =
      agentexec_base_executor_get_timeout_ms (AGENTEXEC_BASE_EXECUTOR (self)) > 0
          ? agentexec_base_executor_get_timeout_ms (AGENTEXEC_BASE_EXECUTOR (self)) / 1000 + 5
          : 0;
}

/*
 * _agentexec_kubernetes_executor_get_pool:
 *
 * The pool (warm pods, cold starts), started on first use.
 */
AgentExecKubePool *
_agentexec_kubernetes_executor_get_pool (AgentExecKubernetesExecutor *self)
{
  AgentExecKubePool *pool;

  g_mutex_lock (&self->lock);
  if (self->pool == NULL)
    {
      AgentExecKubePodSpec spec;

      _agentexec_kubernetes_executor_get_spec (self, &spec);
      self->pool =
          _agentexec_kube_pool_new (self->client, &spec, self->pool_size, self->ready_timeout_ms);
    }
  pool = self->pool;
  g_mutex_unlock (&self->lock);
  return pool;
}

static void
delete_in_background (gpointer data, gpointer user_data)
{
  g_autofree char *name = data;
  AgentExecKubernetesExecutor *self = user_data;
  g_autoptr (GError) error = NULL;

  if (!_agentexec_kube_delete_pod (self->client, name, NULL, &error))
    g_warning ("Could not delete pod %s: %s (close() tries again)", name, error->message);
}

/*
 * _agentexec_kubernetes_executor_delete_later:
 *
 * Deletes a used pod off the caller's path; close() waits for these.
 */
void
_agentexec_kubernetes_executor_delete_later (AgentExecKubernetesExecutor *self, const char *pod)
{
  if (self->deletions == NULL || !g_thread_pool_push (self->deletions, g_strdup (pod), NULL))
    delete_in_background (g_strdup (pod), self);
}

static void
release_all (AgentExecKubernetesExecutor *self)
{
  AgentExecKubePool *pool;
  g_autoptr (GError) error = NULL;

  if (self->sessions != NULL)
    _agentexec_kube_sessions_close (self->sessions, self->client);
  g_mutex_lock (&self->lock);
  pool = g_steal_pointer (&self->pool);
  g_mutex_unlock (&self->lock);
  _agentexec_kube_pool_free (pool);
  if (self->deletions != NULL)
    {
      g_thread_pool_free (self->deletions, FALSE, TRUE);
      self->deletions = g_thread_pool_new (delete_in_background, self, 4, FALSE, NULL);
    }
  if (self->client != NULL &&
      _agentexec_kube_delete_owned (self->client, self->executor_id, &error) == 0 && error != NULL)
    g_debug ("Could not list this executor's pods to delete them: %s", error->message);
}

static void
agentexec_kubernetes_executor_close (AgentExecBaseExecutor *base)
{
  release_all (AGENTEXEC_KUBERNETES_EXECUTOR (base));
}

static void
agentexec_kubernetes_executor_end_session (AgentExecBaseExecutor *base, const char *execution_id)
{
  AgentExecKubernetesExecutor *self = AGENTEXEC_KUBERNETES_EXECUTOR (base);

  _agentexec_kube_sessions_end (self->sessions, self, execution_id != NULL ? execution_id : "");
}

static AgentExecExecutionResult *
agentexec_kubernetes_executor_run (AgentExecBaseExecutor *base,
                                   AgentExecExecutorContext *context,
                                   AgentExecExecutionInput *input,
                                   const char *language,
                                   GCancellable *cancellable,
                                   GError **error)
{
  AgentExecKubernetesExecutor *self = AGENTEXEC_KUBERNETES_EXECUTOR (base);

  if (self->client == NULL)
    {
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_BACKEND_UNAVAILABLE,
                   "The Kubernetes executor was not initialised: create it with "
                   "agentexec_kubernetes_executor_new() or g_initable_new()");
      return NULL;
    }
  if (agentexec_base_executor_get_stateful (base))
    return _agentexec_kube_run_stateful (self, self->sessions, input, language,
                                         _agentexec_code_executor_get_output_context (),
                                         cancellable, error);
  return _agentexec_kube_run_stateless (
      self, input, language, _agentexec_code_executor_get_output_context (), cancellable, error);
}

/* GInitable */

static gboolean
agentexec_kubernetes_executor_initable_init (GInitable *initable,
                                             GCancellable *cancellable,
                                             GError **error)
{
  AgentExecKubernetesExecutor *self = AGENTEXEC_KUBERNETES_EXECUTOR (initable);
  AgentExecKubeConfigOverrides overrides = { self->kubeconfig, self->context, self->server,
                                             self->namespace_, self->token };
  g_autoptr (AgentExecKubeClient) client = NULL;
  g_autoptr (GError) reap_error = NULL;
  AgentExecKubeConfig *config;
  guint reaped;

  if (self->client != NULL)
    return TRUE;
  config = _agentexec_kube_config_load (&overrides, error);
  if (config == NULL)
    return FALSE;
  client = _agentexec_kube_client_new (config, self->request_timeout_ms);
  if (!_agentexec_kube_client_check_version (client, cancellable, error))
    return FALSE;
  reaped = _agentexec_kube_reap_orphans (client, self->owner_host, cancellable, &reap_error);
  if (reap_error != NULL)
    {
      /* The first pods request: its refusal (401, 403) is the user's problem now. */
      g_propagate_error (error, g_steal_pointer (&reap_error));
      return FALSE;
    }
  if (reaped > 0)
    g_debug ("Deleted %u pods left by executors of this host that are gone", reaped);
  self->client = g_steal_pointer (&client);
  if (self->pool_size > 0)
    _agentexec_kubernetes_executor_get_pool (self);
  _agentexec_base_executor_set_initialized (AGENTEXEC_BASE_EXECUTOR (self), TRUE);
  return TRUE;
}

static void
initable_iface_init (GInitableIface *iface)
{
  iface->init = agentexec_kubernetes_executor_initable_init;
}

/* GObject */

static void
agentexec_kubernetes_executor_dispose (GObject *object)
{
  AgentExecKubernetesExecutor *self = AGENTEXEC_KUBERNETES_EXECUTOR (object);

  release_all (self);
  if (self->deletions != NULL)
    g_thread_pool_free (g_steal_pointer (&self->deletions), FALSE, TRUE);
  g_clear_pointer (&self->client, _agentexec_kube_client_unref);

  G_OBJECT_CLASS (agentexec_kubernetes_executor_parent_class)->dispose (object);
}

static void
agentexec_kubernetes_executor_finalize (GObject *object)
{
  AgentExecKubernetesExecutor *self = AGENTEXEC_KUBERNETES_EXECUTOR (object);

  g_free (self->kubeconfig);
  g_free (self->context);
  g_free (self->server);
  g_free (self->namespace_);
  if (self->token != NULL)
    memset (self->token, 0, strlen (self->token));
  g_free (self->token);
  g_free (self->image);
  g_free (self->pool_name);
  g_free (self->runtime_class);
  g_free (self->cpu_request);
  g_free (self->cpu_limit);
  g_free (self->memory_request);
  g_free (self->memory_limit);
  g_free (self->executor_id);
  g_free (self->owner_host);
  g_free (self->owner_start);
  _agentexec_kube_sessions_free (self->sessions);
  g_mutex_clear (&self->lock);

  G_OBJECT_CLASS (agentexec_kubernetes_executor_parent_class)->finalize (object);
}

static char **
string_field (AgentExecKubernetesExecutor *self, guint prop_id)
{
  switch (prop_id)
    {
    case PROP_KUBECONFIG:
      return &self->kubeconfig;
    case PROP_CONTEXT:
      return &self->context;
    case PROP_SERVER:
      return &self->server;
    case PROP_NAMESPACE:
      return &self->namespace_;
    case PROP_TOKEN:
      return &self->token;
    case PROP_IMAGE:
      return &self->image;
    case PROP_POOL:
      return &self->pool_name;
    case PROP_RUNTIME_CLASS:
      return &self->runtime_class;
    case PROP_CPU_REQUEST:
      return &self->cpu_request;
    case PROP_CPU_LIMIT:
      return &self->cpu_limit;
    case PROP_MEMORY_REQUEST:
      return &self->memory_request;
    case PROP_MEMORY_LIMIT:
      return &self->memory_limit;
    default:
      return NULL;
    }
}

static guint *
uint_field (AgentExecKubernetesExecutor *self, guint prop_id)
{
  switch (prop_id)
    {
    case PROP_POOL_SIZE:
      return &self->pool_size;
    case PROP_PORT:
      return &self->port;
    case PROP_READY_TIMEOUT_MS:
      return &self->ready_timeout_ms;
    case PROP_REQUEST_TIMEOUT_MS:
      return &self->request_timeout_ms;
    case PROP_POD_MAX_LIFETIME_S:
      return &self->pod_max_lifetime_s;
    default:
      return NULL;
    }
}

static void
agentexec_kubernetes_executor_get_property (GObject *object,
                                            guint prop_id,
                                            GValue *value,
                                            GParamSpec *pspec)
{
  AgentExecKubernetesExecutor *self = AGENTEXEC_KUBERNETES_EXECUTOR (object);
  char **text = string_field (self, prop_id);
  guint *number = uint_field (self, prop_id);

  if (prop_id == PROP_NAMESPACE && self->client != NULL)
    g_value_set_string (value, _agentexec_kube_client_get_namespace (self->client));
  else if (prop_id == PROP_SERVER && self->client != NULL)
    g_value_set_string (value, _agentexec_kube_client_get_server (self->client));
  else if (prop_id == PROP_TOKEN)
    g_value_set_string (value, NULL); /* write-only in effect: never hand a secret out */
  else if (text != NULL)
    g_value_set_string (value, *text);
  else if (number != NULL)
    g_value_set_uint (value, *number);
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
}

static void
agentexec_kubernetes_executor_set_property (GObject *object,
                                            guint prop_id,
                                            const GValue *value,
                                            GParamSpec *pspec)
{
  AgentExecKubernetesExecutor *self = AGENTEXEC_KUBERNETES_EXECUTOR (object);
  char **text = string_field (self, prop_id);
  guint *number = uint_field (self, prop_id);

  if (text != NULL)
    {
      const char *given = g_value_get_string (value);

      g_free (*text);
      *text = given != NULL && given[0] != '\0'
                  ? g_strdup (given)
                  : g_strdup (G_PARAM_SPEC_STRING (pspec)->default_value);
    }
  else if (number != NULL)
    *number = g_value_get_uint (value);
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
}

#define CONSTRUCT_FLAGS (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS)

static GParamSpec *
string_property (const char *name, const char *default_value)
{
  return g_param_spec_string (name, NULL, NULL, default_value, CONSTRUCT_FLAGS);
}

static GParamSpec *
uint_property (const char *name, guint min, guint max, guint default_value)
{
  return g_param_spec_uint (name, NULL, NULL, min, max, default_value, CONSTRUCT_FLAGS);
}

static void
install_connection_properties (void)
{
  /**
   * AgentExecKubernetesExecutor:kubeconfig:
   *
   * The kubeconfig to read; %NULL uses `KUBECONFIG` (a list of files, merged
   * as kubectl does), else `~/.kube/config`, else the in-cluster service
   * account (`KUBERNETES_SERVICE_HOST`/`_PORT`, the token and CA under
   * `/var/run/secrets/kubernetes.io/serviceaccount`).
   *
   * Since: 1.0
   */
  properties[PROP_KUBECONFIG] = string_property ("kubeconfig", NULL);

  /**
   * AgentExecKubernetesExecutor:context:
   *
   * The kubeconfig context to use; %NULL for its `current-context`.
   *
   * Since: 1.0
   */
  properties[PROP_CONTEXT] = string_property ("context", NULL);

  /**
   * AgentExecKubernetesExecutor:server:
   *
   * The API server URL (`https://HOST:PORT`), overriding the kubeconfig's.
   * After initialisation, the server in use.
   *
   * Since: 1.0
   */
  properties[PROP_SERVER] = string_property ("server", NULL);

  /**
   * AgentExecKubernetesExecutor:namespace:
   *
   * The namespace of the pods, overriding the context's (default
   * `default`). After initialisation, the namespace in use.
   *
   * Since: 1.0
   */
  properties[PROP_NAMESPACE] = string_property ("namespace", NULL);

  /**
   * AgentExecKubernetesExecutor:token:
   *
   * A bearer token, overriding the kubeconfig user's credentials. Never
   * read back (reading gives %NULL).
   *
   * Since: 1.0
   */
  properties[PROP_TOKEN] = string_property ("token", NULL);

  /**
   * AgentExecKubernetesExecutor:request-timeout-ms:
   *
   * The timeout of each API request (a run's own time is bounded by
   * `timeout-ms`).
   *
   * Since: 1.0
   */
  properties[PROP_REQUEST_TIMEOUT_MS] = uint_property ("request-timeout-ms", 100, G_MAXINT, 30000);
}

static void
install_pod_properties (void)
{
  /**
   * AgentExecKubernetesExecutor:image:
   *
   * The pod image: one with `agentexec` on its PATH and the interpreters
   * (`scripts/build-kube-image.sh` builds `agentexec-kube:latest` from Debian
   * packages and the built tree).
   *
   * Since: 1.0
   */
  properties[PROP_IMAGE] = string_property ("image", DEFAULT_IMAGE);

  /**
   * AgentExecKubernetesExecutor:runtime-class:
   *
   * The pods' `runtimeClassName` (for instance `gvisor`); %NULL for the
   * cluster's default runtime.
   *
   * Since: 1.0
   */
  properties[PROP_RUNTIME_CLASS] = string_property ("runtime-class", NULL);

  /**
   * AgentExecKubernetesExecutor:cpu-request:
   *
   * The CPU each pod requests (a Kubernetes quantity).
   *
   * Since: 1.0
   */
  properties[PROP_CPU_REQUEST] = string_property ("cpu-request", "100m");

  /**
   * AgentExecKubernetesExecutor:cpu-limit:
   *
   * The most CPU a pod may use.
   *
   * Since: 1.0
   */
  properties[PROP_CPU_LIMIT] = string_property ("cpu-limit", "1");

  /**
   * AgentExecKubernetesExecutor:memory-request:
   *
   * The memory each pod requests.
   *
   * Since: 1.0
   */
  properties[PROP_MEMORY_REQUEST] = string_property ("memory-request", "128Mi");

  /**
   * AgentExecKubernetesExecutor:memory-limit:
   *
   * The most memory a pod may use (its code is killed past it).
   *
   * Since: 1.0
   */
  properties[PROP_MEMORY_LIMIT] = string_property ("memory-limit", "512Mi");

  /**
   * AgentExecKubernetesExecutor:port:
   *
   * The port `agentexec serve` listens on inside the pod.
   *
   * Since: 1.0
   */
  properties[PROP_PORT] = uint_property ("port", 1, 65535, 49999);

  /**
   * AgentExecKubernetesExecutor:pod-max-lifetime-s:
   *
   * The pods' `activeDeadlineSeconds`: the kubelet ends a pod older than
   * this even if its owner died on another machine; 0 for none.
   *
   * Since: 1.0
   */
  properties[PROP_POD_MAX_LIFETIME_S] = uint_property ("pod-max-lifetime-s", 0, G_MAXINT, 3600);
}

static void
install_pool_properties (void)
{
  /**
   * AgentExecKubernetesExecutor:pool:
   *
   * The name of the warm pool. Executors with the same pool name and
   * namespace share their warm pods (each keeps its own pool-size of them).
   *
   * Since: 1.0
   */
  properties[PROP_POOL] = string_property ("pool", "default");

  /**
   * AgentExecKubernetesExecutor:pool-size:
   *
   * How many ready pods this executor keeps warm; 0 turns the pool off
   * (every run starts a pod).
   *
   * Since: 1.0
   */
  properties[PROP_POOL_SIZE] = uint_property ("pool-size", 0, 256, 2);

  /**
   * AgentExecKubernetesExecutor:ready-timeout-ms:
   *
   * How long a started pod may take to become ready.
   *
   * Since: 1.0
   */
  properties[PROP_READY_TIMEOUT_MS] = uint_property ("ready-timeout-ms", 100, G_MAXINT, 120000);
}

static void
agentexec_kubernetes_executor_class_init (AgentExecKubernetesExecutorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  AgentExecBaseExecutorClass *base_class = AGENTEXEC_BASE_EXECUTOR_CLASS (klass);

  object_class->dispose = agentexec_kubernetes_executor_dispose;
  object_class->finalize = agentexec_kubernetes_executor_finalize;
  object_class->get_property = agentexec_kubernetes_executor_get_property;
  object_class->set_property = agentexec_kubernetes_executor_set_property;
  base_class->run = agentexec_kubernetes_executor_run;
  base_class->close = agentexec_kubernetes_executor_close;
  base_class->end_session = agentexec_kubernetes_executor_end_session;

  install_connection_properties ();
  install_pod_properties ();
  install_pool_properties ();
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
agentexec_kubernetes_executor_init (AgentExecKubernetesExecutor *self)
{
  char host[256] = "";

  g_mutex_init (&self->lock);
  self->executor_id = g_uuid_string_random ();
  if (gethostname (host, sizeof host - 1) != 0 || host[0] == '\0')
    g_strlcpy (host, "localhost", sizeof host);
  self->owner_host = g_strdup (host);
  self->owner_start = _agentexec_kube_owner_start ((guint) getpid ());
  self->sessions = _agentexec_kube_sessions_new ();
  self->deletions = g_thread_pool_new (delete_in_background, self, 4, FALSE, NULL);
}

/**
 * agentexec_kubernetes_executor_new:
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Reads the kubeconfig (`KUBECONFIG`, else `~/.kube/config`, else the
 * in-cluster service account), checks that the API server answers, and
 * deletes pods left by dead executors of this host. Use g_initable_new() to
 * set properties such as [property@AgentExec.KubernetesExecutor:namespace].
 *
 * Returns: (transfer full): a new executor, or %NULL with an error that
 *   says where no kubeconfig was found, which server did not answer, or
 *   which credentials or verbs were refused
 *
 * Since: 1.0
 */
AgentExecKubernetesExecutor *
agentexec_kubernetes_executor_new (GCancellable *cancellable, GError **error)
{
  return g_initable_new (AGENTEXEC_TYPE_KUBERNETES_EXECUTOR, cancellable, error, NULL);
}

/**
 * agentexec_kubernetes_executor_get_namespace:
 * @self: a [class@AgentExec.KubernetesExecutor]
 *
 * Gets the namespace the executor's pods are created in.
 *
 * Returns: (nullable): the namespace in use (after initialisation), else
 *   the value of [property@AgentExec.KubernetesExecutor:namespace]
 *
 * Since: 1.0
 */
const char *
agentexec_kubernetes_executor_get_namespace (AgentExecKubernetesExecutor *self)
{
  g_return_val_if_fail (AGENTEXEC_IS_KUBERNETES_EXECUTOR (self), NULL);

  return self->client != NULL ? _agentexec_kube_client_get_namespace (self->client)
                              : self->namespace_;
}

/**
 * agentexec_kubernetes_executor_get_server:
 * @self: a [class@AgentExec.KubernetesExecutor]
 *
 * Gets the URL of the Kubernetes API server the executor talks to.
 *
 * Returns: (nullable): the API server in use (after initialisation), else
 *   the value of [property@AgentExec.KubernetesExecutor:server]
 *
 * Since: 1.0
 */
const char *
agentexec_kubernetes_executor_get_server (AgentExecKubernetesExecutor *self)
{
  g_return_val_if_fail (AGENTEXEC_IS_KUBERNETES_EXECUTOR (self), NULL);

  return self->client != NULL ? _agentexec_kube_client_get_server (self->client) : self->server;
}

/**
 * agentexec_kubernetes_executor_dup_pod_manifest:
 * @self: a [class@AgentExec.KubernetesExecutor]
 * @token: (nullable): the pod's secret; %NULL for a placeholder
 *
 * The Pod manifest (JSON, which is also YAML) this executor creates, for
 * review or to run it elsewhere (`kubectl create -f`, `podman kube play`).
 * Needs no cluster: the executor may be uninitialised.
 *
 * Returns: (transfer full): the manifest
 *
 * Since: 1.0
 */
char *
agentexec_kubernetes_executor_dup_pod_manifest (AgentExecKubernetesExecutor *self,
                                                const char *token)
{
  AgentExecKubePodSpec spec;
  g_autoptr (JsonNode) manifest = NULL;
  g_autoptr (JsonGenerator) generator = json_generator_new ();

  g_return_val_if_fail (AGENTEXEC_IS_KUBERNETES_EXECUTOR (self), NULL);

  _agentexec_kubernetes_executor_get_spec (self, &spec);
  manifest = _agentexec_kube_pod_manifest (&spec, AGENTEXEC_KUBE_STATE_CLAIMED,
                                           token != NULL ? token : "REPLACE-WITH-A-SECRET");
  json_generator_set_root (generator, manifest);
  json_generator_set_pretty (generator, TRUE);
  return json_generator_to_data (generator, NULL);
}
