/* agentexec-container-executor.c: runs code in Docker (or Podman) containers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "agentexec-base-executor-private.h"
#include "agentexec-code-executor-private.h"
#include "agentexec-container-executor-private.h"
#include "agentexec-container-labels-private.h"
#include "agentexec-container-pool-private.h"
#include "agentexec-container-session-private.h"
#include "agentexec-container-run-private.h"
#include "agentexec-docker-archive-private.h"
#include "agentexec-docker-client-private.h"

/**
 * AgentExecContainerExecutor:
 *
 * Runs code in a fresh container for every execution, through the Docker
 * Engine API (v1.41; dockerd or Podman's compatible service), spoken over a
 * unix socket or tcp with libcurl: neither the docker CLI nor an SDK is
 * needed.
 *
 * The defaults are locked down, each a property: no network
 * ([property@AgentExec.ContainerExecutor:network-mode] `none`), all
 * capabilities dropped, `no-new-privileges`, a read-only root file system
 * with a writable `/workspace` and a tmpfs `/tmp`, user 1000:1000, 512 MiB of
 * memory (swap the same), one CPU and 256 processes.
 *
 * Input files are copied into `/workspace`; files the code creates or
 * changes there come back as output files. A run past its timeout is killed
 * (%AGENTEXEC_OUTCOME_DEADLINE_EXCEEDED, with the output so far); a run killed
 * by the memory limit is %AGENTEXEC_OUTCOME_RESOURCE_EXHAUSTED.
 *
 * A warm pool ([property@AgentExec.ContainerExecutor:pool-size]) keeps
 * started containers with an interpreter waiting, so that a stateless run
 * takes milliseconds instead of a container start; each is still used by
 * one run only. With [property@AgentExec.BaseExecutor:stateful], each
 * execution-id gets a container of its own whose interpreter keeps
 * variables and imports between runs (python, javascript, bash); a session
 * whose interpreter died is restarted, and its next result says so
 * ([property@AgentExec.ExecutionResult:session-restarted]).
 *
 * Every container carries labels naming this process and executor;
 * [method@AgentExec.CodeExecutor.close] and dispose remove them, and a new
 * executor removes the containers of processes that are gone.
 *
 * ```c
 * g_autoptr(GError) error = NULL;
 * g_autoptr(AgentExecContainerExecutor) executor =
 *   agentexec_container_executor_new (NULL, NULL, &error);
 * g_autoptr(AgentExecExecutionInput) input =
 *   agentexec_execution_input_new ("print(6 * 7)", "python");
 * g_autoptr(AgentExecExecutionResult) result =
 *   agentexec_code_executor_execute_code (AGENTEXEC_CODE_EXECUTOR (executor),
 *                                         NULL, input, NULL, &error);
 * ```
 *
 * Since: 1.0
 */

#define DEFAULT_IMAGE "agentexec-runtime:latest"
#define BUILD_TIMEOUT_MS (15 * 60 * 1000)

struct _AgentExecContainerExecutor
{
  AgentExecBaseExecutor parent_instance;

  AgentExecDockerClient *client;
  char *docker_host;
  char *image;
  char *dockerfile;
  char *run_image;
  char *network_mode;
  char *user;
  char *executor_id;
  guint64 memory_bytes;
  double cpus;
  guint pids_limit;
  guint request_timeout_ms;
  guint drop_capabilities : 1;
  guint no_new_privileges : 1;
  guint read_only_root : 1;

  /* Made by init(); what the pool, the sessions and the runs share. */
  AgentExecContainerRuntime *runtime;
  AgentExecContainerSessions *sessions;

  GMutex lock;
  AgentExecContainerPool *pool;
  guint pool_size;
  guint max_sessions;
  guint session_idle_timeout_ms;
};

static void initable_iface_init (GInitableIface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (AgentExecContainerExecutor,
                               agentexec_container_executor,
                               AGENTEXEC_TYPE_BASE_EXECUTOR,
                               G_IMPLEMENT_INTERFACE (G_TYPE_INITABLE, initable_iface_init))

enum
{
  PROP_0,
  PROP_DOCKER_HOST,
  PROP_IMAGE,
  PROP_DOCKERFILE,
  PROP_NETWORK_MODE,
  PROP_DROP_CAPABILITIES,
  PROP_NO_NEW_PRIVILEGES,
  PROP_READ_ONLY_ROOT,
  PROP_USER,
  PROP_MEMORY_BYTES,
  PROP_CPUS,
  PROP_PIDS_LIMIT,
  PROP_REQUEST_TIMEOUT_MS,
  PROP_POOL_SIZE,
  PROP_MAX_SESSIONS,
  PROP_SESSION_IDLE_TIMEOUT_MS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* The warm pool, started on first use; NULL when pool-size is 0. */
static AgentExecContainerPool *
ensure_pool (AgentExecContainerExecutor *self)
{
  AgentExecContainerPool *pool;

  if (self->pool_size == 0)
    return NULL;
  g_mutex_lock (&self->lock);
  if (self->pool == NULL)
    self->pool = _agentexec_container_pool_new (self->runtime, self->pool_size);
  pool = self->pool;
  g_mutex_unlock (&self->lock);
  return pool;
}

/* The pool (started now if it was not), for tests; NULL when pool-size is 0. */
AgentExecContainerPool *
_agentexec_container_executor_get_pool (AgentExecContainerExecutor *self)
{
  return ensure_pool (self);
}

/* The state shared by the pool, the sessions and the runs; NULL before init(). */
AgentExecContainerRuntime *
_agentexec_container_executor_get_runtime (AgentExecContainerExecutor *self)
{
  return self->runtime;
}

static void
stop_pool (AgentExecContainerExecutor *self)
{
  AgentExecContainerPool *pool;

  g_mutex_lock (&self->lock);
  pool = g_steal_pointer (&self->pool);
  g_mutex_unlock (&self->lock);
  if (pool != NULL)
    _agentexec_container_pool_free (pool);
}

static void
fill_spec (AgentExecContainerExecutor *self, AgentExecContainerSpec *spec)
{
  spec->image = self->run_image;
  spec->network_mode = self->network_mode;
  spec->user = self->user;
  spec->executor_id = self->executor_id;
  spec->memory_bytes = self->memory_bytes;
  spec->cpus = self->cpus;
  spec->pids_limit = self->pids_limit;
  spec->drop_capabilities = self->drop_capabilities;
  spec->no_new_privileges = self->no_new_privileges;
  spec->read_only_root = self->read_only_root;
}

static void
agentexec_container_executor_close (AgentExecBaseExecutor *base)
{
  AgentExecContainerExecutor *self = AGENTEXEC_CONTAINER_EXECUTOR (base);

  if (self->runtime == NULL)
    return;
  _agentexec_container_sessions_close (self->sessions);
  stop_pool (self);
  _agentexec_container_runtime_wait_for_removals (self->runtime);
  _agentexec_container_runtime_remove_all (self->runtime);
}

static void
agentexec_container_executor_end_session (AgentExecBaseExecutor *base, const char *execution_id)
{
  _agentexec_container_sessions_end (AGENTEXEC_CONTAINER_EXECUTOR (base)->sessions, execution_id);
}

static AgentExecExecutionResult *
agentexec_container_executor_run (AgentExecBaseExecutor *base,
                                  AgentExecExecutorContext *context,
                                  AgentExecExecutionInput *input,
                                  const char *language,
                                  GCancellable *cancellable,
                                  GError **error)
{
  AgentExecContainerExecutor *self = AGENTEXEC_CONTAINER_EXECUTOR (base);

  /* The base class refuses to run before init() succeeded. */
  g_assert (self->runtime != NULL);
  if (agentexec_base_executor_get_stateful (base))
    return _agentexec_container_run_stateful (self, self->runtime, self->sessions, input, language,
                                              self->max_sessions, self->session_idle_timeout_ms,
                                              _agentexec_code_executor_get_output_context (),
                                              cancellable, error);
  return _agentexec_container_run_stateless (
      self, self->runtime, ensure_pool (self), input, language,
      _agentexec_code_executor_get_output_context (), cancellable, error);
}

/* Image: given, or built from the dockerfile property */

static gboolean
image_exists (AgentExecDockerClient *client,
              const char *image,
              GCancellable *cancellable,
              GError **error)
{
  g_autofree char *escaped = _agentexec_docker_uri_escape (image);
  g_autofree char *path = g_strdup_printf ("/images/%s/json", escaped);
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GError) local_error = NULL;
  guint status = 0;

  root = _agentexec_docker_client_request_json (client, "GET", path, NULL, &status, cancellable,
                                                &local_error);
  if (root != NULL)
    return TRUE;
  if (status != 404)
    g_propagate_error (error, g_steal_pointer (&local_error));
  return FALSE;
}

static gboolean
check_build_output (const char *text, gsize len, GError **error)
{
  g_auto (GStrv) lines = g_strsplit (text, "\n", 0);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autoptr (JsonParser) parser = json_parser_new ();
      JsonNode *root;

      if (lines[i][0] == '\0' || !json_parser_load_from_data (parser, lines[i], -1, NULL))
        continue;
      root = json_parser_get_root (parser);
      if (JSON_NODE_HOLDS_OBJECT (root) &&
          json_object_has_member (json_node_get_object (root), "error"))
        {
          g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_FAILED,
                       "Building the image from the dockerfile property failed: %s",
                       json_object_get_string_member (json_node_get_object (root), "error"));
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
build_image (AgentExecContainerExecutor *self,
             const char *tag,
             GCancellable *cancellable,
             GError **error)
{
  g_autoptr (AgentExecDockerClient) builder = NULL;
  g_autoptr (GPtrArray) files = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GBytes) context = NULL;
  g_autoptr (GBytes) dockerfile = NULL;
  g_autoptr (GBytes) answer = NULL;
  g_autofree char *escaped = _agentexec_docker_uri_escape (tag);
  g_autofree char *path = NULL;
  g_autofree char *text = NULL;

  dockerfile = g_bytes_new (self->dockerfile, strlen (self->dockerfile));
  g_ptr_array_add (files, agentexec_file_new ("Dockerfile", "text/plain", dockerfile));
  context = _agentexec_docker_archive_pack (files, 0, 0, error);
  if (context == NULL)
    return FALSE;
  /* A build may take minutes: a client of its own with a longer timeout. */
  builder = _agentexec_docker_client_new (_agentexec_docker_client_get_host (self->client), error);
  if (builder == NULL || !_agentexec_docker_client_negotiate (builder, cancellable, error))
    return FALSE;
  _agentexec_docker_client_set_timeout_ms (builder, BUILD_TIMEOUT_MS);
  path = g_strdup_printf ("/build?t=%s&networkmode=none&rm=1&forcerm=1", escaped);
  answer = _agentexec_docker_client_request (builder, "POST", path, "application/x-tar", context,
                                             64 * 1024 * 1024, NULL, cancellable, error);
  if (answer == NULL)
    return FALSE;
  text = g_strndup (g_bytes_get_data (answer, NULL), g_bytes_get_size (answer));
  return check_build_output (text, strlen (text), error);
}

static gboolean
ensure_image (AgentExecContainerExecutor *self, GCancellable *cancellable, GError **error)
{
  g_autoptr (GError) local_error = NULL;

  if (self->dockerfile != NULL)
    {
      g_autofree char *sum =
          g_compute_checksum_for_string (G_CHECKSUM_SHA256, self->dockerfile, -1);

      g_clear_pointer (&self->run_image, g_free);
      self->run_image = g_strdup_printf ("agentexec-custom:%.16s", sum);
      if (image_exists (self->client, self->run_image, cancellable, &local_error))
        return TRUE;
      if (local_error != NULL)
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      return build_image (self, self->run_image, cancellable, error);
    }
  self->run_image = g_strdup (self->image);
  if (image_exists (self->client, self->image, cancellable, &local_error))
    return TRUE;
  if (local_error != NULL)
    g_propagate_error (error, g_steal_pointer (&local_error));
  else
    g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_FAILED,
                 "Image “%s” is not in the Docker engine at %s: build it with "
                 "scripts/build-runtime-image.sh%s%s (or `docker pull %s`), or set the "
                 "image or dockerfile property",
                 self->image, _agentexec_docker_client_get_host (self->client),
                 g_str_equal (self->image, DEFAULT_IMAGE) ? "" : " --tag ",
                 g_str_equal (self->image, DEFAULT_IMAGE) ? "" : self->image, self->image);
  return FALSE;
}

static gboolean
agentexec_container_executor_initable_init (GInitable *initable,
                                            GCancellable *cancellable,
                                            GError **error)
{
  AgentExecContainerExecutor *self = AGENTEXEC_CONTAINER_EXECUTOR (initable);
  g_autoptr (AgentExecDockerClient) client = NULL;
  g_autoptr (GError) reap_error = NULL;
  AgentExecContainerSpec spec;

  if (self->runtime != NULL)
    return TRUE;
  client = _agentexec_docker_client_new (self->docker_host, error);
  if (client == NULL)
    return FALSE;
  _agentexec_docker_client_set_timeout_ms (client, self->request_timeout_ms);
  if (!_agentexec_docker_client_negotiate (client, cancellable, error))
    return FALSE;
  self->client = g_steal_pointer (&client);
  if (!ensure_image (self, cancellable, error))
    {
      g_clear_pointer (&self->client, _agentexec_docker_client_unref);
      return FALSE;
    }
  _agentexec_container_reap_orphans (self->client, cancellable, &reap_error);
  if (reap_error != NULL)
    g_debug ("Could not look for orphaned containers: %s", reap_error->message);
  fill_spec (self, &spec);
  self->runtime = _agentexec_container_runtime_new (self->client, &spec);
  self->sessions = _agentexec_container_sessions_new (self->runtime);
  _agentexec_base_executor_set_initialized (AGENTEXEC_BASE_EXECUTOR (self), TRUE);
  return TRUE;
}

static void
initable_iface_init (GInitableIface *iface)
{
  iface->init = agentexec_container_executor_initable_init;
}

/* GObject */

static void
agentexec_container_executor_dispose (GObject *object)
{
  AgentExecContainerExecutor *self = AGENTEXEC_CONTAINER_EXECUTOR (object);

  if (self->sessions != NULL)
    {
      /* The reaper removes containers through the runtime: stop it first. */
      _agentexec_container_sessions_stop_reaper (self->sessions);
      _agentexec_container_sessions_close (self->sessions);
    }
  stop_pool (self);
  g_clear_pointer (&self->sessions, _agentexec_container_sessions_free);
  /* Waits for the removals under way, then removes whatever is left. */
  g_clear_pointer (&self->runtime, _agentexec_container_runtime_free);
  g_clear_pointer (&self->client, _agentexec_docker_client_unref);

  G_OBJECT_CLASS (agentexec_container_executor_parent_class)->dispose (object);
}

static void
agentexec_container_executor_finalize (GObject *object)
{
  AgentExecContainerExecutor *self = AGENTEXEC_CONTAINER_EXECUTOR (object);

  g_free (self->docker_host);
  g_free (self->image);
  g_free (self->dockerfile);
  g_free (self->run_image);
  g_free (self->network_mode);
  g_free (self->user);
  g_free (self->executor_id);
  g_mutex_clear (&self->lock);

  G_OBJECT_CLASS (agentexec_container_executor_parent_class)->finalize (object);
}

static void
agentexec_container_executor_get_property (GObject *object,
                                           guint prop_id,
                                           GValue *value,
                                           GParamSpec *pspec)
{
  AgentExecContainerExecutor *self = AGENTEXEC_CONTAINER_EXECUTOR (object);

  switch (prop_id)
    {
    case PROP_DOCKER_HOST:
      g_value_set_string (value, self->client != NULL
                                     ? _agentexec_docker_client_get_host (self->client)
                                     : self->docker_host);
      break;
    case PROP_IMAGE:
      g_value_set_string (value, self->image);
      break;
    case PROP_DOCKERFILE:
      g_value_set_string (value, self->dockerfile);
      break;
    case PROP_NETWORK_MODE:
      g_value_set_string (value, self->network_mode);
      break;
    case PROP_DROP_CAPABILITIES:
      g_value_set_boolean (value, self->drop_capabilities);
      break;
    case PROP_NO_NEW_PRIVILEGES:
      g_value_set_boolean (value, self->no_new_privileges);
      break;
    case PROP_READ_ONLY_ROOT:
      g_value_set_boolean (value, self->read_only_root);
      break;
    case PROP_USER:
      g_value_set_string (value, self->user);
      break;
    case PROP_MEMORY_BYTES:
      g_value_set_uint64 (value, self->memory_bytes);
      break;
    case PROP_CPUS:
      g_value_set_double (value, self->cpus);
      break;
    case PROP_PIDS_LIMIT:
      g_value_set_uint (value, self->pids_limit);
      break;
    case PROP_REQUEST_TIMEOUT_MS:
      g_value_set_uint (value, self->request_timeout_ms);
      break;
    case PROP_POOL_SIZE:
      g_value_set_uint (value, self->pool_size);
      break;
    case PROP_MAX_SESSIONS:
      g_value_set_uint (value, self->max_sessions);
      break;
    case PROP_SESSION_IDLE_TIMEOUT_MS:
      g_value_set_uint (value, self->session_idle_timeout_ms);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
set_string (char **field, const GValue *value, const char *fallback)
{
  const char *text = g_value_get_string (value);

  g_free (*field);
  *field = g_strdup (text != NULL && text[0] != '\0' ? text : fallback);
}

static void
agentexec_container_executor_set_property (GObject *object,
                                           guint prop_id,
                                           const GValue *value,
                                           GParamSpec *pspec)
{
  AgentExecContainerExecutor *self = AGENTEXEC_CONTAINER_EXECUTOR (object);

  switch (prop_id)
    {
    case PROP_DOCKER_HOST:
      set_string (&self->docker_host, value, NULL);
      break;
    case PROP_IMAGE:
      set_string (&self->image, value, DEFAULT_IMAGE);
      break;
    case PROP_DOCKERFILE:
      set_string (&self->dockerfile, value, NULL);
      break;
    case PROP_NETWORK_MODE:
      set_string (&self->network_mode, value, "none");
      break;
    case PROP_DROP_CAPABILITIES:
      self->drop_capabilities = g_value_get_boolean (value);
      break;
    case PROP_NO_NEW_PRIVILEGES:
      self->no_new_privileges = g_value_get_boolean (value);
      break;
    case PROP_READ_ONLY_ROOT:
      self->read_only_root = g_value_get_boolean (value);
      break;
    case PROP_USER:
      set_string (&self->user, value, "1000:1000");
      break;
    case PROP_MEMORY_BYTES:
      self->memory_bytes = g_value_get_uint64 (value);
      break;
    case PROP_CPUS:
      self->cpus = g_value_get_double (value);
      break;
    case PROP_PIDS_LIMIT:
      self->pids_limit = g_value_get_uint (value);
      break;
    case PROP_REQUEST_TIMEOUT_MS:
      self->request_timeout_ms = g_value_get_uint (value);
      break;
    case PROP_POOL_SIZE:
      self->pool_size = g_value_get_uint (value);
      break;
    case PROP_MAX_SESSIONS:
      self->max_sessions = g_value_get_uint (value);
      break;
    case PROP_SESSION_IDLE_TIMEOUT_MS:
      self->session_idle_timeout_ms = g_value_get_uint (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

#define CONSTRUCT_FLAGS (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS)

static GParamSpec *
string_property (const char *name, const char *default_value)
{
  return g_param_spec_string (name, NULL, NULL, default_value, CONSTRUCT_FLAGS);
}

static GParamSpec *
flag_property (const char *name)
{
  return g_param_spec_boolean (name, NULL, NULL, TRUE, CONSTRUCT_FLAGS);
}

static void
install_security_properties (void)
{
  /**
   * AgentExecContainerExecutor:network-mode:
   *
   * The container's network mode; `none` (the default) gives it no network
   * at all. `host` or a network name opens it up.
   *
   * Since: 1.0
   */
  properties[PROP_NETWORK_MODE] = string_property ("network-mode", "none");

  /**
   * AgentExecContainerExecutor:drop-capabilities:
   *
   * Whether every Linux capability is dropped (`CapDrop: ALL`).
   *
   * Since: 1.0
   */
  properties[PROP_DROP_CAPABILITIES] = flag_property ("drop-capabilities");

  /**
   * AgentExecContainerExecutor:no-new-privileges:
   *
   * Whether processes in the container are denied new privileges (setuid
   * binaries, file capabilities).
   *
   * Since: 1.0
   */
  properties[PROP_NO_NEW_PRIVILEGES] = flag_property ("no-new-privileges");

  /**
   * AgentExecContainerExecutor:read-only-root:
   *
   * Whether the root file system is read-only; `/workspace` and a tmpfs
   * `/tmp` stay writable.
   *
   * Since: 1.0
   */
  properties[PROP_READ_ONLY_ROOT] = flag_property ("read-only-root");

  /**
   * AgentExecContainerExecutor:user:
   *
   * The user the code runs as, `uid:gid` (default `1000:1000`, never root).
   *
   * Since: 1.0
   */
  properties[PROP_USER] = string_property ("user", "1000:1000");

  /**
   * AgentExecContainerExecutor:memory-bytes:
   *
   * The memory limit (swap included, so no swap on top); 0 for none.
   *
   * Since: 1.0
   */
  properties[PROP_MEMORY_BYTES] = g_param_spec_uint64 ("memory-bytes", NULL, NULL, 0, G_MAXUINT64,
                                                       512 * 1024 * 1024, CONSTRUCT_FLAGS);

  /**
   * AgentExecContainerExecutor:cpus:
   *
   * How many CPUs' worth of time the container may use; 0 for no limit.
   *
   * Since: 1.0
   */
  properties[PROP_CPUS] = g_param_spec_double ("cpus", NULL, NULL, 0, 1024, 1.0, CONSTRUCT_FLAGS);

  /**
   * AgentExecContainerExecutor:pids-limit:
   *
   * The most processes and threads the container may hold (a fork bomb
   * stops there); 0 for no limit.
   *
   * Since: 1.0
   */
  properties[PROP_PIDS_LIMIT] =
      g_param_spec_uint ("pids-limit", NULL, NULL, 0, G_MAXINT, 256, CONSTRUCT_FLAGS);
}

static void
agentexec_container_executor_class_init (AgentExecContainerExecutorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  AgentExecBaseExecutorClass *base_class = AGENTEXEC_BASE_EXECUTOR_CLASS (klass);

  object_class->dispose = agentexec_container_executor_dispose;
  object_class->finalize = agentexec_container_executor_finalize;
  object_class->get_property = agentexec_container_executor_get_property;
  object_class->set_property = agentexec_container_executor_set_property;
  base_class->run = agentexec_container_executor_run;
  base_class->close = agentexec_container_executor_close;
  base_class->end_session = agentexec_container_executor_end_session;

  /**
   * AgentExecContainerExecutor:docker-host:
   *
   * The engine to talk to: `unix:///path/to/docker.sock` or
   * `tcp://HOST:PORT` (TLS when `DOCKER_TLS_VERIFY` is set, with the
   * certificates in `DOCKER_CERT_PATH`). %NULL uses `DOCKER_HOST`, else
   * `/var/run/docker.sock`. Podman's API service works too.
   *
   * Since: 1.0
   */
  properties[PROP_DOCKER_HOST] = string_property ("docker-host", NULL);

  /**
   * AgentExecContainerExecutor:image:
   *
   * The image the code runs in (default `agentexec-runtime:latest`, built by
   * `scripts/build-runtime-image.sh`). It needs `python3`, `node` or `bash`
   * for those languages; `Rscript` and `java` are used when present.
   *
   * Since: 1.0
   */
  properties[PROP_IMAGE] = string_property ("image", DEFAULT_IMAGE);

  /**
   * AgentExecContainerExecutor:dockerfile:
   *
   * The text of a Dockerfile to build the image from (with an empty build
   * context), instead of [property@AgentExec.ContainerExecutor:image]. The
   * image is tagged by the text's hash and reused while it is unchanged.
   *
   * Since: 1.0
   */
  properties[PROP_DOCKERFILE] = string_property ("dockerfile", NULL);

  /**
   * AgentExecContainerExecutor:request-timeout-ms:
   *
   * The timeout of each Engine API request (the code's own run time is
   * bounded by `timeout-ms` instead).
   *
   * Since: 1.0
   */
  properties[PROP_REQUEST_TIMEOUT_MS] =
      g_param_spec_uint ("request-timeout-ms", NULL, NULL, 100, G_MAXINT, 30000, CONSTRUCT_FLAGS);

  /**
   * AgentExecContainerExecutor:pool-size:
   *
   * How many started containers to keep ready per language (python,
   * javascript, bash) for stateless runs; 0 turns the pool off. A run takes
   * one no other run has used, and it is removed afterwards; the pool
   * refills in the background, and a miss starts a container as usual. A
   * language is kept warm once it has been asked for. Runs with their own
   * argv or environment always start a container.
   *
   * Since: 1.0
   */
  properties[PROP_POOL_SIZE] =
      g_param_spec_uint ("pool-size", NULL, NULL, 0, 64, 2, CONSTRUCT_FLAGS);

  /**
   * AgentExecContainerExecutor:max-sessions:
   *
   * With [property@AgentExec.BaseExecutor:stateful], the most sessions (one
   * container per execution-id and language) alive at once; past it a run
   * fails with %AGENTEXEC_ERROR_RESOURCE_LIMIT. 0 for no limit.
   *
   * Since: 1.0
   */
  properties[PROP_MAX_SESSIONS] =
      g_param_spec_uint ("max-sessions", NULL, NULL, 0, G_MAXINT, 16, CONSTRUCT_FLAGS);

  /**
   * AgentExecContainerExecutor:session-idle-timeout-ms:
   *
   * A stateful session unused for longer is removed (with its container)
   * when its time is up, by a timer of the executor's own (a thread: no
   * main loop is needed, and the executor need not be used again); 0 keeps
   * sessions until close().
   *
   * Since: 1.0
   */
  properties[PROP_SESSION_IDLE_TIMEOUT_MS] = g_param_spec_uint (
      "session-idle-timeout-ms", NULL, NULL, 0, G_MAXUINT, 600000, CONSTRUCT_FLAGS);

  install_security_properties ();
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
agentexec_container_executor_init (AgentExecContainerExecutor *self)
{
  g_mutex_init (&self->lock);
  self->executor_id = g_uuid_string_random ();
}

/**
 * agentexec_container_executor_new:
 * @image: (nullable): the image to run code in; %NULL for
 *   `agentexec-runtime:latest`
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Connects to the Docker engine (`DOCKER_HOST`, else
 * `/var/run/docker.sock`) and checks that @image is there. Use
 * g_initable_new() to set other properties, such as
 * [property@AgentExec.ContainerExecutor:docker-host].
 *
 * Returns: (transfer full): a new executor, or %NULL with
 *   %AGENTEXEC_ERROR_BACKEND_UNAVAILABLE naming the socket or host when no
 *   engine answers, or an error naming the image and how to build it when
 *   it is missing
 *
 * Since: 1.0
 */
AgentExecContainerExecutor *
agentexec_container_executor_new (const char *image, GCancellable *cancellable, GError **error)
{
  return g_initable_new (AGENTEXEC_TYPE_CONTAINER_EXECUTOR, cancellable, error, "image", image,
                         NULL);
}

/**
 * agentexec_container_executor_get_image:
 * @self: a [class@AgentExec.ContainerExecutor]
 *
 * Gets the [property@AgentExec.ContainerExecutor:image] property.
 *
 * Gets the [property@AgentExec.ContainerExecutor:image] property.
 *
 * Returns: the value of [property@AgentExec.ContainerExecutor:image]
 *
 * Since: 1.0
 */
const char *
agentexec_container_executor_get_image (AgentExecContainerExecutor *self)
{
  g_return_val_if_fail (AGENTEXEC_IS_CONTAINER_EXECUTOR (self), NULL);

  return self->image;
}

/**
 * agentexec_container_executor_get_docker_host:
 * @self: a [class@AgentExec.ContainerExecutor]
 *
 * Gets the [property@AgentExec.ContainerExecutor:docker-host] property.
 *
 * Gets the [property@AgentExec.ContainerExecutor:docker-host] property.
 *
 * Returns: (nullable): the engine address in use (after initialisation),
 *   else the value of [property@AgentExec.ContainerExecutor:docker-host]
 *
 * Since: 1.0
 */
const char *
agentexec_container_executor_get_docker_host (AgentExecContainerExecutor *self)
{
  g_return_val_if_fail (AGENTEXEC_IS_CONTAINER_EXECUTOR (self), NULL);

  if (self->client != NULL)
    return _agentexec_docker_client_get_host (self->client);
  return self->docker_host;
}
