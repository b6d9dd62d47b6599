/* agentexec-kube-pool.c: a warm pool of ready pods, followed by a watch, claimed atomically
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The pool is the set of pods labelled with the pool's name and state=warm,
 * whoever created them (executors sharing a namespace and pool name share
 * the pool). A watcher thread lists them once and then follows a watch from
 * the list's resourceVersion, so readiness is learnt as it happens. A pod is
 * claimed with a JSON merge patch carrying the resourceVersion we saw: the
 * API server applies it only if nobody changed the pod since, so two
 * claimers can never both win (409 Conflict: take the next one). A refill
 * thread keeps this executor's share of warm pods at the pool size.
 */

#include "config.h"

#include <string.h>

#include "agentexec-enums.h"
#include "agentexec-kube-pool-private.h"

#define REFILL_BACKOFF_MAX_MS 10000

typedef struct
{
  char *name;
  char *resource_version;
  char *owner;
  char *token;
  gboolean ready;
  gboolean failed;
  gboolean taken; /* a claim is in flight, or it was lost */
} WarmPod;

struct _AgentExecKubePool
{
  AgentExecKubeClient *client;
  AgentExecKubePodSpec spec;
  GPtrArray *strings; /* owned copies of the spec's strings */
  char *selector;
  guint size;
  guint ready_timeout_ms;

  GMutex lock;
  GCond cond;
  GHashTable *pods; /* name -> WarmPod */
  guint creating;
  gboolean ready_seen;
  gboolean stopping;
  GCancellable *cancellable;
  GThread *watcher;
  GThread *refiller;
};

static void
warm_pod_free (WarmPod *pod)
{
  g_free (pod->name);
  g_free (pod->resource_version);
  g_free (pod->owner);
  g_free (pod->token);
  g_free (pod);
}

void
_agentexec_kube_claim_free (AgentExecKubeClaim *claim)
{
  if (claim == NULL)
    return;
  g_free (claim->name);
  g_free (claim->token);
  g_free (claim);
}

/* The table, from list and watch */

static void
update_pod (AgentExecKubePool *self, JsonObject *object, gboolean deleted)
{
  const char *name = _agentexec_kube_get_string (object, "metadata.name");
  const char *state = _agentexec_kube_pod_label (object, AGENTEXEC_KUBE_LABEL_STATE);
  g_autofree char *failure = NULL;
  WarmPod *pod;

  if (name == NULL)
    return;
  if (deleted || _agentexec_kube_pod_is_deleted (object) || state == NULL ||
      !g_str_equal (state, AGENTEXEC_KUBE_STATE_WARM))
    {
      g_hash_table_remove (self->pods, name);
      return;
    }
  pod = g_hash_table_lookup (self->pods, name);
  if (pod == NULL)
    {
      pod = g_new0 (WarmPod, 1);
      pod->name = g_strdup (name);
      pod->owner = g_strdup (_agentexec_kube_pod_label (object, AGENTEXEC_KUBE_LABEL_OWNER));
      pod->token = _agentexec_kube_pod_token (object);
      g_hash_table_insert (self->pods, pod->name, pod);
    }
  g_free (pod->resource_version);
  pod->resource_version =
      g_strdup (_agentexec_kube_get_string (object, "metadata.resourceVersion"));
  pod->ready = _agentexec_kube_pod_is_ready (object);
  if (pod->ready)
    self->ready_seen = TRUE;
  failure = _agentexec_kube_pod_failure (object);
  if (failure != NULL && !pod->failed)
    g_message ("Warm pod %s will never be ready (it is deleted and replaced, with a growing "
               "delay): %s",
               name, failure);
  pod->failed = failure != NULL;
}

typedef struct
{
  AgentExecKubePool *self;
  char *resource_version;
  gboolean expired;
} WatchState;

static gboolean
on_event (const char *line, gsize len, gpointer user_data)
{
  WatchState *state = user_data;
  AgentExecKubePool *self = state->self;
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *event, *object;
  const char *type, *rv;

  if (!json_parser_load_from_data (parser, line, len, NULL) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return TRUE;
  event = json_node_get_object (json_parser_get_root (parser));
  type = _agentexec_kube_get_string (event, "type");
  object = json_object_has_member (event, "object")
               ? json_object_get_object_member (event, "object")
               : NULL;
  if (type == NULL || object == NULL)
    return TRUE;
  if (g_str_equal (type, "ERROR"))
    {
      state->expired = TRUE;
      return FALSE;
    }
  rv = _agentexec_kube_get_string (object, "metadata.resourceVersion");
  if (rv != NULL)
    {
      g_free (state->resource_version);
      state->resource_version = g_strdup (rv);
    }
  if (g_str_equal (type, "BOOKMARK"))
    return TRUE;
  g_mutex_lock (&self->lock);
  update_pod (self, object, g_str_equal (type, "DELETED"));
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  return TRUE;
}

static char *
list_into_table (AgentExecKubePool *self, GError **error)
{
  g_autofree char *escaped = g_uri_escape_string (self->selector, NULL, FALSE);
  g_autofree char *suffix = g_strdup_printf ("?labelSelector=%s", escaped);
  g_autofree char *path = _agentexec_kube_client_pods_path (self->client, NULL, suffix);
  g_autoptr (JsonNode) root = NULL;
  JsonObject *object;
  JsonArray *items;
  const char *rv;

  root = _agentexec_kube_client_request (self->client, "GET", path, NULL, NULL, NULL,
                                         self->cancellable, error);
  if (root == NULL)
    return NULL;
  object = JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
  rv = object != NULL ? _agentexec_kube_get_string (object, "metadata.resourceVersion") : NULL;
  if (rv == NULL || !json_object_has_member (object, "items"))
    {
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_PROTOCOL,
                   "The pod list from the Kubernetes API server has no resourceVersion");
      return NULL;
    }
  items = json_object_get_array_member (object, "items");
  g_mutex_lock (&self->lock);
  /* Pods in the table but not in the list are gone; those being created stay. */
  g_hash_table_remove_all (self->pods);
  for (guint i = 0; i < json_array_get_length (items); i++)
    update_pod (self, json_array_get_object_element (items, i), FALSE);
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  return g_strdup (rv);
}

static gboolean
stopping (AgentExecKubePool *self)
{
  gboolean stop;

  g_mutex_lock (&self->lock);
  stop = self->stopping;
  g_mutex_unlock (&self->lock);
  return stop;
}

static void
pause_ms (AgentExecKubePool *self, guint ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) ms * 1000;

  g_mutex_lock (&self->lock);
  while (!self->stopping && g_cond_wait_until (&self->cond, &self->lock, end))
    ;
  g_mutex_unlock (&self->lock);
}

static gpointer
watcher_thread (gpointer data)
{
  AgentExecKubePool *self = data;
  WatchState state = { self, NULL, FALSE };
  guint failures = 0;

  while (!stopping (self))
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *suffix = NULL;
      g_autofree char *path = NULL;
      g_autofree char *escaped = NULL;

      if (state.resource_version == NULL &&
          (state.resource_version = list_into_table (self, &error)) == NULL)
        {
          if (!stopping (self))
            g_debug ("Warm pool: listing pods failed: %s", error->message);
          pause_ms (self, MIN (250u << MIN (failures++, 5), REFILL_BACKOFF_MAX_MS));
          continue;
        }
      escaped = g_uri_escape_string (self->selector, NULL, FALSE);
      suffix = g_strdup_printf ("?watch=1&labelSelector=%s&resourceVersion=%s"
                                "&allowWatchBookmarks=true&timeoutSeconds=300",
                                escaped, state.resource_version);
      path = _agentexec_kube_client_pods_path (self->client, NULL, suffix);
      if (_agentexec_kube_client_stream (self->client, "GET", path, NULL, NULL, 310000, on_event,
                                         &state, NULL, self->cancellable, &error))
        failures = 0;
      else if (!stopping (self))
        {
          /* Dropped mid-stream, or refused: resume from the last resourceVersion. */
          g_debug ("Warm pool: the watch ended (%s); resuming from %s", error->message,
                   state.resource_version);
          pause_ms (self, MIN (50u << MIN (failures++, 7), REFILL_BACKOFF_MAX_MS));
        }
      if (state.expired)
        {
          state.expired = FALSE;
          g_clear_pointer (&state.resource_version, g_free);
        }
    }
  g_free (state.resource_version);
  return NULL;
}

/* Refill: keep this executor's warm pods at the pool size */

static guint
own_warm_count (AgentExecKubePool *self)
{
  GHashTableIter iter;
  gpointer value;
  guint count = self->creating;

  g_hash_table_iter_init (&iter, self->pods);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      WarmPod *pod = value;

      if (!pod->taken && !pod->failed && g_strcmp0 (pod->owner, self->spec.owner) == 0)
        count++;
    }
  return count;
}

static char *
new_token (void)
{
  guint8 bytes[32];

  for (guint i = 0; i < sizeof bytes; i += 4)
    {
      guint32 r = g_random_int ();

      memcpy (bytes + i, &r, 4);
    }
  {
    g_autofree char *text = g_base64_encode (bytes, sizeof bytes);

    g_strdelimit (text, "+/=", '_');
    return g_steal_pointer (&text);
  }
}

static JsonObject *
create_pod (AgentExecKubeClient *client,
            const AgentExecKubePodSpec *spec,
            const char *state,
            GCancellable *cancellable,
            GError **error)
{
  g_autofree char *token = new_token ();
  g_autoptr (JsonNode) manifest = _agentexec_kube_pod_manifest (spec, state, token);
  g_autofree char *path = _agentexec_kube_client_pods_path (client, NULL, NULL);
  g_autoptr (JsonNode) answer = NULL;

  answer = _agentexec_kube_client_request (client, "POST", path, NULL, manifest, NULL, cancellable,
                                           error);
  if (answer == NULL)
    return NULL;
  if (!JSON_NODE_HOLDS_OBJECT (answer) ||
      _agentexec_kube_get_string (json_node_get_object (answer), "metadata.name") == NULL)
    {
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_PROTOCOL,
                   "The Kubernetes API server created a pod but answered without its name");
      return NULL;
    }
  return json_object_ref (json_node_get_object (answer));
}

/* This executor's warm pods that will never be ready (bad image,
 * unschedulable) are deleted, so that they neither hold a share of the pool
 * nor pile up; called with the lock held, which it drops meanwhile. Returns
 * whether there were any. */
static gboolean
delete_failed (AgentExecKubePool *self)
{
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->pods);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      WarmPod *pod = value;

      if (pod->failed && !pod->taken && g_strcmp0 (pod->owner, self->spec.owner) == 0)
        {
          pod->taken = TRUE;
          g_ptr_array_add (names, g_strdup (pod->name));
        }
    }
  if (names->len == 0)
    return FALSE;
  g_mutex_unlock (&self->lock);
  for (guint i = 0; i < names->len; i++)
    _agentexec_kube_delete_pod (self->client, g_ptr_array_index (names, i), NULL, NULL);
  g_mutex_lock (&self->lock);
  return TRUE;
}

static void
backoff_locked (AgentExecKubePool *self, guint *failures)
{
  gint64 end = g_get_monotonic_time () +
               (gint64) MIN (250u << MIN ((*failures)++, 6), REFILL_BACKOFF_MAX_MS) * 1000;

  while (!self->stopping && g_cond_wait_until (&self->cond, &self->lock, end))
    ;
}

static gpointer
refiller_thread (gpointer data)
{
  AgentExecKubePool *self = data;
  guint failures = 0;

  g_mutex_lock (&self->lock);
  while (!self->stopping)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (JsonObject) pod = NULL;

      if (delete_failed (self))
        {
          backoff_locked (self, &failures);
          continue;
        }
      if (own_warm_count (self) >= self->size)
        {
          if (self->ready_seen)
            failures = 0;
          self->ready_seen = FALSE;
          g_cond_wait (&self->cond, &self->lock);
          continue;
        }
      self->creating++;
      g_mutex_unlock (&self->lock);
      pod = create_pod (self->client, &self->spec, AGENTEXEC_KUBE_STATE_WARM, self->cancellable,
                        &error);
      g_mutex_lock (&self->lock);
      self->creating--;
      if (pod != NULL)
        {
          update_pod (self, pod, FALSE);
          continue;
        }
      if (!self->stopping)
        {
          g_debug ("Warm pool: creating a pod failed: %s", error->message);
          backoff_locked (self, &failures);
        }
    }
  g_mutex_unlock (&self->lock);
  return NULL;
}

/*
 * _agentexec_kube_pool_new:
 * @spec: copied
 * @size: this executor's share of warm pods (0: no threads, cold starts only)
 */
AgentExecKubePool *
_agentexec_kube_pool_new (AgentExecKubeClient *client,
                          const AgentExecKubePodSpec *spec,
                          guint size,
                          guint ready_timeout_ms)
{
  AgentExecKubePool *self = g_new0 (AgentExecKubePool, 1);
  g_autofree char *pool = _agentexec_kube_label_value (spec->pool);

  self->client = _agentexec_kube_client_ref (client);
  self->strings = g_ptr_array_new_with_free_func (g_free);
  self->spec = *spec;
#define COPY(field)                                                                                \
  if (spec->field != NULL)                                                                         \
  g_ptr_array_add (self->strings, (gpointer) (self->spec.field = g_strdup (spec->field)))
  COPY (image);
  COPY (pool);
  COPY (owner);
  COPY (owner_host);
  COPY (owner_start);
  COPY (runtime_class);
  COPY (cpu_request);
  COPY (cpu_limit);
  COPY (memory_request);
  COPY (memory_limit);
  COPY (ephemeral_storage_limit);
#undef COPY
  self->selector = g_strdup_printf (AGENTEXEC_KUBE_LABEL_MANAGED
                                    "=" AGENTEXEC_KUBE_MANAGED_VALUE "," AGENTEXEC_KUBE_LABEL_POOL
                                    "=%s," AGENTEXEC_KUBE_LABEL_STATE "=" AGENTEXEC_KUBE_STATE_WARM,
                                    pool);
  self->size = size;
  self->ready_timeout_ms = ready_timeout_ms;
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  self->pods =
      g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) warm_pod_free);
  self->cancellable = g_cancellable_new ();
  if (size > 0)
    {
      self->watcher = g_thread_new ("agentexec-kube-watch", watcher_thread, self);
      self->refiller = g_thread_new ("agentexec-kube-refill", refiller_thread, self);
    }
  return self;
}

void
_agentexec_kube_pool_free (AgentExecKubePool *self)
{
  if (self == NULL)
    return;
  g_mutex_lock (&self->lock);
  self->stopping = TRUE;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  g_cancellable_cancel (self->cancellable);
  if (self->watcher != NULL)
    g_thread_join (self->watcher);
  if (self->refiller != NULL)
    g_thread_join (self->refiller);
  g_hash_table_unref (self->pods);
  g_object_unref (self->cancellable);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  g_free (self->selector);
  g_ptr_array_unref (self->strings);
  _agentexec_kube_client_unref (self->client);
  g_free (self);
}

/* Claims */

static JsonNode *
claim_patch (AgentExecKubePool *self, const char *resource_version)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autofree char *host = _agentexec_kube_label_value (self->spec.owner_host);
  g_autofree char *pid = g_strdup_printf ("%u", self->spec.owner_pid);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "metadata");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "resourceVersion");
  json_builder_add_string_value (b, resource_version);
  json_builder_set_member_name (b, "labels");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, AGENTEXEC_KUBE_LABEL_STATE);
  json_builder_add_string_value (b, AGENTEXEC_KUBE_STATE_CLAIMED);
  json_builder_set_member_name (b, AGENTEXEC_KUBE_LABEL_OWNER);
  json_builder_add_string_value (b, self->spec.owner);
  json_builder_set_member_name (b, AGENTEXEC_KUBE_LABEL_OWNER_HOST);
  json_builder_add_string_value (b, host);
  json_builder_set_member_name (b, AGENTEXEC_KUBE_LABEL_OWNER_PID);
  json_builder_add_string_value (b, pid);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "annotations");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, AGENTEXEC_KUBE_ANNOTATION_OWNER_START);
  json_builder_add_string_value (b, self->spec.owner_start != NULL ? self->spec.owner_start : "");
  json_builder_end_object (b);
  json_builder_end_object (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static WarmPod *
pick_ready (AgentExecKubePool *self)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->pods);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      WarmPod *pod = value;

      if (pod->ready && !pod->taken && !pod->failed && pod->token != NULL)
        {
          pod->taken = TRUE;
          return pod;
        }
    }
  return NULL;
}

/* Returns 0 when claimed, else the HTTP status of the refusal (409 lost the
 * race, 404 gone), or 1 with @error for any other failure. */
static guint
try_claim (AgentExecKubePool *self,
           const char *name,
           const char *resource_version,
           GCancellable *cancellable,
           GError **error)
{
  g_autoptr (JsonNode) patch = claim_patch (self, resource_version);
  g_autofree char *path = _agentexec_kube_client_pods_path (self->client, name, NULL);
  g_autoptr (JsonNode) answer = NULL;
  g_autoptr (GError) local_error = NULL;
  guint status = 0;

  answer =
      _agentexec_kube_client_request (self->client, "PATCH", path, "application/merge-patch+json",
                                      patch, &status, cancellable, &local_error);
  if (answer != NULL)
    return 0;
  if (status == 409 || status == 404)
    return status;
  g_propagate_error (error, g_steal_pointer (&local_error));
  return 1;
}

static AgentExecKubeClaim *
claim_warm (AgentExecKubePool *self, GCancellable *cancellable, GError **error)
{
  while (TRUE)
    {
      g_autofree char *name = NULL;
      g_autofree char *rv = NULL;
      g_autofree char *token = NULL;
      AgentExecKubeClaim *claim;
      WarmPod *pod;
      guint outcome;

      g_mutex_lock (&self->lock);
      pod = pick_ready (self);
      if (pod != NULL)
        {
          name = g_strdup (pod->name);
          rv = g_strdup (pod->resource_version);
          token = g_strdup (pod->token);
        }
      g_mutex_unlock (&self->lock);
      if (name == NULL)
        return NULL;
      outcome = try_claim (self, name, rv, cancellable, error);
      g_mutex_lock (&self->lock);
      if (outcome == 0 || outcome == 404)
        g_hash_table_remove (self->pods, name);
      g_cond_broadcast (&self->cond);
      g_mutex_unlock (&self->lock);
      if (outcome == 1)
        return NULL;
      if (outcome != 0)
        {
          g_debug ("Warm pod %s was claimed by someone else (HTTP %u); taking the next", name,
                   outcome);
          continue;
        }
      claim = g_new0 (AgentExecKubeClaim, 1);
      claim->name = g_steal_pointer (&name);
      claim->token = g_steal_pointer (&token);
      claim->warm = TRUE;
      return claim;
    }
}

static AgentExecKubeClaim *
cold_start (AgentExecKubePool *self, GCancellable *cancellable, GError **error)
{
  g_autoptr (JsonObject) pod = NULL;
  g_autoptr (JsonObject) ready = NULL;
  g_autoptr (GError) local_error = NULL;
  AgentExecKubeClaim *claim;
  const char *name;

  pod = create_pod (self->client, &self->spec, AGENTEXEC_KUBE_STATE_CLAIMED, cancellable, error);
  if (pod == NULL)
    return NULL;
  name = _agentexec_kube_get_string (pod, "metadata.name");
  ready = _agentexec_kube_wait_ready (self->client, name,
                                      _agentexec_kube_get_string (pod, "metadata.resourceVersion"),
                                      self->ready_timeout_ms, cancellable, &local_error);
  if (ready == NULL)
    {
      _agentexec_kube_delete_pod (self->client, name, NULL, NULL);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  claim = g_new0 (AgentExecKubeClaim, 1);
  claim->name = g_strdup (name);
  claim->token = _agentexec_kube_pod_token (ready);
  return claim;
}

/*
 * _agentexec_kube_pool_claim:
 *
 * A ready pod for one user: a warm one claimed atomically, else a pod of
 * its own started now (a cold start). The caller deletes it after use.
 */
AgentExecKubeClaim *
_agentexec_kube_pool_claim (AgentExecKubePool *self, GCancellable *cancellable, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  AgentExecKubeClaim *claim = NULL;

  if (self->size > 0)
    claim = claim_warm (self, cancellable, &local_error);
  if (claim != NULL)
    return claim;
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  return cold_start (self, cancellable, error);
}
