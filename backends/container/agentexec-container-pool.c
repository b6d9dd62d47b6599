/* agentexec-container-pool.c: warm containers for stateless runs
 *
 * A container's start costs the engine about 200 ms. The pool hides it: a
 * background thread keeps `pool-size` containers per language created,
 * started, and attached (over a hijacked connection) to an interpreter
 * driver that waits for one request. A run takes one, sends its code, reads
 * the output and the driver's reply, and the container is then removed:
 * every run still gets a container no other run has used. A miss falls back
 * to a cold start. Languages are warmed once they have been asked for.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "agentexec-container-labels-private.h"
#include "agentexec-container-pool-private.h"
#include "agentexec-container-run-private.h"

#define WARM_TIMEOUT_US (30 * G_USEC_PER_SEC)
#define RETRY_DELAY_US (2 * G_USEC_PER_SEC)

struct _AgentExecContainerPool
{
  AgentExecContainerRuntime *runtime;
  guint size;
  GThread *thread;
  GMutex lock;
  GCond cond;
  GHashTable *ready; /* language → GQueue of AgentExecWarmContainer */
  gboolean stopping;
};

static const char *
interpreter_for (const char *language)
{
  if (g_str_equal (language, "python"))
    return "python3";
  if (g_str_equal (language, "javascript"))
    return "node";
  return "bash";
}

void
_agentexec_warm_container_free (AgentExecWarmContainer *warm)
{
  g_clear_pointer (&warm->conn, _agentexec_docker_hijack_free);
  g_clear_pointer (&warm->readers[0], _agentexec_driver_reader_free);
  g_clear_pointer (&warm->readers[1], _agentexec_driver_reader_free);
  g_clear_pointer (&warm->reply, _agentexec_driver_reply_free);
  g_clear_error (&warm->error);
  g_free (warm->id);
  g_free (warm->language);
  g_free (warm);
}

/* Splits the driver's output: the code's bytes go to the sink, the reply (on
 * stdout) and the sentinel (on stderr) end the run. Called for every frame,
 * so that no more than a partial token is ever buffered. */
static void
on_frame (AgentExecStream stream, const char *data, gsize len, gpointer user_data)
{
  AgentExecWarmContainer *warm = user_data;
  g_autoptr (GByteArray) passthrough = g_byte_array_new ();
  AgentExecDriverReply *reply = NULL;

  if (warm->done[stream] || warm->error != NULL)
    {
      if (warm->sink != NULL)
        warm->sink (stream, data, len, warm->sink_data);
      return;
    }
  _agentexec_driver_reader_feed (warm->readers[stream], data, len);
  if (_agentexec_driver_reader_next (warm->readers[stream], passthrough, &reply, &warm->error))
    {
      warm->done[stream] = TRUE;
      if (reply != NULL)
        {
          g_clear_pointer (&warm->reply, _agentexec_driver_reply_free);
          warm->reply = reply;
        }
    }
  if (warm->sink != NULL && passthrough->len > 0)
    warm->sink (stream, (const char *) passthrough->data, passthrough->len, warm->sink_data);
}

/*
 * _agentexec_warm_container_wait:
 *
 * Pumps the attached stream until the driver has answered on both streams
 * (DONE), the program ended the container (DONE with ->exited), the
 * deadline passed (DEADLINE) or something failed (ERROR).
 */
AgentExecDockerWait
_agentexec_warm_container_wait (AgentExecWarmContainer *warm,
                                gint64 deadline,
                                GCancellable *cancellable,
                                GError **error)
{
  while (!(warm->done[0] && warm->done[1]))
    {
      g_autoptr (GError) local_error = NULL;
      AgentExecDockerWait wait;

      wait = _agentexec_docker_hijack_pump (warm->conn, deadline, cancellable, &local_error);
      if (warm->error != NULL)
        {
          g_propagate_error (error, g_steal_pointer (&warm->error));
          return AGENTEXEC_DOCKER_WAIT_ERROR;
        }
      if (wait == AGENTEXEC_DOCKER_WAIT_DEADLINE)
        return wait;
      if (wait == AGENTEXEC_DOCKER_WAIT_ERROR)
        {
          /* The stream closed: the program ended the driver (exit(), a
           * signal, the memory limit). The container's state tells how. */
          if (g_error_matches (local_error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_BACKEND_UNAVAILABLE) &&
              strstr (local_error->message, "closed") != NULL)
            {
              warm->exited = TRUE;
              return AGENTEXEC_DOCKER_WAIT_DONE;
            }
          g_propagate_error (error, g_steal_pointer (&local_error));
          return wait;
        }
    }
  return AGENTEXEC_DOCKER_WAIT_DONE;
}

static gboolean
send_request (AgentExecWarmContainer *warm, GBytes *request, GError **error)
{
  gsize len;
  const void *data = g_bytes_get_data (request, &len);

  warm->done[0] = warm->done[1] = FALSE;
  g_clear_pointer (&warm->reply, _agentexec_driver_reply_free);
  return _agentexec_docker_hijack_send (warm->conn, data, len, error);
}

gboolean
_agentexec_warm_container_send (AgentExecWarmContainer *warm, const char *code, GError **error)
{
  g_autoptr (GBytes) request = _agentexec_driver_encode_request (warm->language, code, -1);

  return send_request (warm, request, error);
}

/*
 * _agentexec_warm_container_send_with_files:
 * @files: (element-type AgentExecFile) (nullable): input files for the
 *   driver to write into /workspace
 * @report_files: ask the reply for the run's new, changed and deleted files
 *   up to this many bytes (-1: do not)
 *
 * Only for a driver with ->driver_files.
 */
gboolean
_agentexec_warm_container_send_with_files (AgentExecWarmContainer *warm,
                                           const char *code,
                                           GPtrArray *files,
                                           gint64 report_files,
                                           GError **error)
{
  g_autoptr (GBytes) request = NULL;

  g_return_val_if_fail (warm->driver_files, FALSE);
  request = _agentexec_driver_encode_request_with_files (code, files, report_files);
  return send_request (warm, request, error);
}

/* With @preload (pool containers, started before they are needed) the
 * Python driver imports the data libraries before it answers ready: a run
 * that claims the container finds them loaded and never waits for them.
 * The other drivers have nothing to preload. */
static const char *const preload_env[] = { "AGENTEXEC_PRELOAD=ready", NULL };

static gboolean
create_warm_container (AgentExecContainerRuntime *runtime,
                       AgentExecWarmContainer *warm,
                       const char *token,
                       gboolean preload,
                       GError **error)
{
  AgentExecDockerClient *client = _agentexec_container_runtime_get_client (runtime);
  AgentExecContainerSpec spec;
  g_auto (GStrv) argv = NULL;
  g_autoptr (JsonNode) body = NULL;
  g_autoptr (JsonNode) answer = NULL;
  JsonObject *object;

  argv = _agentexec_driver_build_argv (warm->language, interpreter_for (warm->language), 0, 1,
                                       token, error);
  if (argv == NULL)
    return FALSE;
  _agentexec_container_runtime_get_spec (runtime, &spec);
  body = _agentexec_container_create_body (
      &spec, (const char *const *) argv,
      preload && g_str_equal (warm->language, "python") ? preload_env : NULL);
  object = json_node_get_object (body);
  json_object_set_boolean_member (object, "OpenStdin", TRUE);
  json_object_set_boolean_member (object, "AttachStdin", TRUE);
  json_object_set_boolean_member (object, "StdinOnce", FALSE);
  json_object_set_string_member (json_object_get_object_member (object, "Labels"),
                                 AGENTEXEC_LABEL_POOL, warm->language);
  answer = _agentexec_docker_client_request_json (client, "POST", "/containers/create", body, NULL,
                                                  NULL, error);
  if (answer == NULL)
    return FALSE;
  if (!JSON_NODE_HOLDS_OBJECT (answer) ||
      !json_object_has_member (json_node_get_object (answer), "Id"))
    {
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_PROTOCOL,
                   "Docker engine at %s created a container but sent no Id",
                   _agentexec_docker_client_get_host (client));
      return FALSE;
    }
  warm->id = g_strdup (json_object_get_string_member (json_node_get_object (answer), "Id"));
  _agentexec_container_runtime_track (runtime, warm->id, TRUE);
  return TRUE;
}

static gboolean
attach_and_start (AgentExecContainerRuntime *runtime, AgentExecWarmContainer *warm, GError **error)
{
  AgentExecDockerClient *client = _agentexec_container_runtime_get_client (runtime);
  g_autofree char *attach = g_strdup_printf ("/containers/%s/attach?stream=1&stdin=1&stdout=1"
                                             "&stderr=1",
                                             warm->id);
  g_autofree char *start = g_strdup_printf ("/containers/%s/start", warm->id);
  g_autoptr (GBytes) answer = NULL;

  warm->conn = _agentexec_docker_client_hijack (client, attach, on_frame, warm, NULL, error);
  if (warm->conn == NULL)
    return FALSE;
  answer =
      _agentexec_docker_client_request (client, "POST", start, NULL, NULL, 0, NULL, NULL, error);
  if (answer == NULL)
    return FALSE;
  /* The driver's start-up reply says it is ready. */
  if (_agentexec_warm_container_wait (warm, g_get_monotonic_time () + WARM_TIMEOUT_US, NULL,
                                      error) != AGENTEXEC_DOCKER_WAIT_DONE ||
      warm->exited || warm->reply == NULL || !warm->reply->ready)
    {
      if (error != NULL && *error == NULL)
        g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_BACKEND_UNAVAILABLE,
                     "The %s driver in a pool container did not start", warm->language);
      return FALSE;
    }
  warm->driver_files = _agentexec_driver_reply_has_feature (warm->reply, "files");
  return TRUE;
}

/*
 * _agentexec_container_warm_up:
 *
 * Creates and starts a container running @language's driver, attached and
 * ready for requests (used by the pool, and by stateful sessions, which keep
 * theirs for many requests). With @preload the driver imports the data
 * libraries before it answers ready (sessions import them while idle).
 */
AgentExecWarmContainer *
_agentexec_container_warm_up (AgentExecContainerRuntime *runtime,
                              const char *language,
                              gboolean preload,
                              GError **error)
{
  AgentExecWarmContainer *warm = g_new0 (AgentExecWarmContainer, 1);
  g_autofree char *token = _agentexec_driver_new_token ();

  warm->language = g_strdup (language);
  warm->readers[0] = _agentexec_driver_reader_new (token, FALSE);
  warm->readers[1] = _agentexec_driver_reader_new (token, TRUE);
  if (!create_warm_container (runtime, warm, token, preload, error) ||
      !attach_and_start (runtime, warm, error))
    {
      if (warm->id != NULL)
        _agentexec_container_runtime_remove_later (runtime, warm->id);
      _agentexec_warm_container_free (warm);
      return NULL;
    }
  return warm;
}

static GQueue *
queue_for (AgentExecContainerPool *pool, const char *language)
{
  GQueue *queue = g_hash_table_lookup (pool->ready, language);

  if (queue == NULL)
    {
      queue = g_queue_new ();
      g_hash_table_insert (pool->ready, g_strdup (language), queue);
    }
  return queue;
}

/* Under the lock: a language whose queue is short, or NULL. */
static char *
find_short_queue (AgentExecContainerPool *pool)
{
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, pool->ready);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (g_queue_get_length (value) < pool->size)
      return g_strdup (key);
  return NULL;
}

static gpointer
fill_thread (gpointer data)
{
  AgentExecContainerPool *pool = data;

  g_mutex_lock (&pool->lock);
  while (!pool->stopping)
    {
      g_autofree char *language = find_short_queue (pool);
      g_autoptr (GError) error = NULL;
      AgentExecWarmContainer *warm;

      if (language == NULL)
        {
          g_cond_wait (&pool->cond, &pool->lock);
          continue;
        }
      g_mutex_unlock (&pool->lock);
      warm = _agentexec_container_warm_up (pool->runtime, language, TRUE, &error);
      g_mutex_lock (&pool->lock);
      if (warm != NULL)
        {
          g_queue_push_tail (queue_for (pool, language), warm);
          continue;
        }
      g_debug ("Could not warm a %s container: %s", language, error->message);
      g_cond_wait_until (&pool->cond, &pool->lock, g_get_monotonic_time () + RETRY_DELAY_US);
    }
  g_mutex_unlock (&pool->lock);
  return NULL;
}

AgentExecContainerPool *
_agentexec_container_pool_new (AgentExecContainerRuntime *runtime, guint size)
{
  AgentExecContainerPool *pool = g_new0 (AgentExecContainerPool, 1);

  pool->runtime = runtime;
  pool->size = size;
  g_mutex_init (&pool->lock);
  g_cond_init (&pool->cond);
  pool->ready = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  pool->thread = g_thread_new ("agentexec-pool", fill_thread, pool);
  return pool;
}

/*
 * _agentexec_container_pool_take:
 *
 * A warm container for @language, or NULL (a miss: the caller starts one
 * cold). Either way the pool keeps @language warm from now on; after a hit,
 * call _agentexec_container_pool_refill() once the run is done.
 */
AgentExecWarmContainer *
_agentexec_container_pool_take (AgentExecContainerPool *pool, const char *language)
{
  AgentExecWarmContainer *warm;

  if (!_agentexec_driver_supports (language))
    return NULL;
  g_mutex_lock (&pool->lock);
  warm = g_queue_pop_head (queue_for (pool, language));
  if (warm == NULL)
    g_cond_signal (&pool->cond);
  g_mutex_unlock (&pool->lock);
  return warm;
}

/*
 * _agentexec_container_pool_refill:
 *
 * After a run that took a warm container has its result: the pool starts
 * its replacement now, not while the run was in flight (creating and
 * starting a container keeps the engine busy for tens of milliseconds,
 * which the run would otherwise wait behind).
 */
void
_agentexec_container_pool_refill (AgentExecContainerPool *pool)
{
  g_mutex_lock (&pool->lock);
  g_cond_signal (&pool->cond);
  g_mutex_unlock (&pool->lock);
}

guint
_agentexec_container_pool_get_n_warm (AgentExecContainerPool *pool)
{
  GHashTableIter iter;
  gpointer value;
  guint n = 0;

  g_mutex_lock (&pool->lock);
  g_hash_table_iter_init (&iter, pool->ready);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    n += g_queue_get_length (value);
  g_mutex_unlock (&pool->lock);
  return n;
}

/*
 * _agentexec_container_pool_free:
 *
 * Stops refilling and removes the warm containers.
 */
void
_agentexec_container_pool_free (AgentExecContainerPool *pool)
{
  GHashTableIter iter;
  gpointer value;

  g_mutex_lock (&pool->lock);
  pool->stopping = TRUE;
  g_cond_broadcast (&pool->cond);
  g_mutex_unlock (&pool->lock);
  g_thread_join (pool->thread);

  g_hash_table_iter_init (&iter, pool->ready);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      AgentExecWarmContainer *warm;

      while ((warm = g_queue_pop_head (value)) != NULL)
        {
          _agentexec_container_runtime_remove_later (pool->runtime, warm->id);
          _agentexec_warm_container_free (warm);
        }
      g_queue_free (value);
    }
  g_hash_table_unref (pool->ready);
  g_mutex_clear (&pool->lock);
  g_cond_clear (&pool->cond);
  g_free (pool);
}
