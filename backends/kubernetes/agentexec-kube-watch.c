/* agentexec-kube-watch.c: waiting for a pod with a watch; deleting and reaping pods
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

#include "agentexec-enums.h"
#include "agentexec-kube-pool-private.h"

#define MAX_CONSECUTIVE_DROPS 3

typedef struct
{
  JsonObject *pod; /* the latest state */
  char *resource_version;
  char *failure;
  gboolean ready;
  gboolean deleted;
  gboolean expired; /* 410 */
} PodWait;

static void
take_pod (PodWait *wait, JsonObject *pod)
{
  const char *rv = _agentexec_kube_get_string (pod, "metadata.resourceVersion");

  g_clear_pointer (&wait->pod, json_object_unref);
  wait->pod = json_object_ref (pod);
  if (rv != NULL)
    {
      g_free (wait->resource_version);
      wait->resource_version = g_strdup (rv);
    }
  wait->ready = _agentexec_kube_pod_is_ready (pod);
  g_clear_pointer (&wait->failure, g_free);
  wait->failure = _agentexec_kube_pod_failure (pod);
}

static gboolean
on_pod_event (const char *line, gsize len, gpointer user_data)
{
  PodWait *wait = user_data;
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *event, *object;
  const char *type;

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
      wait->expired = json_object_has_member (object, "code") &&
                      json_object_get_int_member (object, "code") == 410;
      return FALSE;
    }
  if (g_str_equal (type, "BOOKMARK"))
    {
      const char *rv = _agentexec_kube_get_string (object, "metadata.resourceVersion");

      if (rv != NULL)
        {
          g_free (wait->resource_version);
          wait->resource_version = g_strdup (rv);
        }
      return TRUE;
    }
  take_pod (wait, object);
  if (g_str_equal (type, "DELETED"))
    wait->deleted = TRUE;
  return !(wait->ready || wait->failure != NULL || wait->deleted);
}

static gboolean
get_pod (AgentExecKubeClient *client,
         const char *name,
         PodWait *wait,
         GCancellable *cancellable,
         GError **error)
{
  g_autofree char *path = _agentexec_kube_client_pods_path (client, name, NULL);
  g_autoptr (JsonNode) root = NULL;
  guint status = 0;

  root =
      _agentexec_kube_client_request (client, "GET", path, NULL, NULL, &status, cancellable, error);
  if (root == NULL)
    return FALSE;
  if (JSON_NODE_HOLDS_OBJECT (root))
    take_pod (wait, json_node_get_object (root));
  return TRUE;
}

static void
pod_wait_clear (PodWait *wait)
{
  g_clear_pointer (&wait->pod, json_object_unref);
  g_clear_pointer (&wait->resource_version, g_free);
  g_clear_pointer (&wait->failure, g_free);
}

static char *
describe_pending (PodWait *wait)
{
  const char *phase =
      wait->pod != NULL ? _agentexec_kube_get_string (wait->pod, "status.phase") : NULL;

  return g_strdup_printf ("its phase was %s and it was not Ready (see `kubectl describe pod`)",
                          phase != NULL ? phase : "unknown");
}

static gboolean
watch_once (AgentExecKubeClient *client,
            const char *name,
            PodWait *wait,
            gint64 deadline,
            GCancellable *cancellable,
            GError **error)
{
  g_autofree char *selector = g_uri_escape_string (name, NULL, FALSE);
  g_autofree char *suffix = NULL;
  g_autofree char *path = NULL;
  gint64 left_s = MAX ((deadline - g_get_monotonic_time ()) / G_USEC_PER_SEC, 1);

  suffix = g_strdup_printf ("?watch=1&fieldSelector=metadata.name%%3D%s&resourceVersion=%s"
                            "&allowWatchBookmarks=true&timeoutSeconds=%" G_GINT64_FORMAT,
                            selector, wait->resource_version, left_s);
  path = _agentexec_kube_client_pods_path (client, NULL, suffix);
  return _agentexec_kube_client_stream (client, "GET", path, NULL, NULL,
                                        (guint) MIN (left_s * 1000 + 5000, G_MAXUINT), on_pod_event,
                                        wait, NULL, cancellable, error);
}

/*
 * _agentexec_kube_wait_ready:
 * @resource_version: where to start watching (the creation's answer)
 *
 * Follows the pod with a watch until it is Ready. A pod that will never be
 * (image pull failure, unschedulable, its container ended), is deleted, or
 * is not ready by @timeout_ms fails with the pod's own reason. A watch that
 * drops mid-stream is resumed from the last resourceVersion (re-read when
 * the server answers 410 Gone); one that keeps dropping is an error.
 */
JsonObject *
_agentexec_kube_wait_ready (AgentExecKubeClient *client,
                            const char *name,
                            const char *resource_version,
                            guint timeout_ms,
                            GCancellable *cancellable,
                            GError **error)
{
  PodWait wait = { NULL, g_strdup (resource_version) };
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  guint drops = 0;
  JsonObject *result = NULL;

  while (TRUE)
    {
      g_autoptr (GError) local_error = NULL;

      if (wait.resource_version == NULL && !get_pod (client, name, &wait, cancellable, error))
        break;
      if (wait.ready || wait.failure != NULL || wait.deleted)
        ;
      else if (!watch_once (client, name, &wait, deadline, cancellable, &local_error))
        {
          if (!g_error_matches (local_error, AGENTEXEC_ERROR,
                                AGENTEXEC_ERROR_BACKEND_UNAVAILABLE) ||
              ++drops > MAX_CONSECUTIVE_DROPS)
            {
              g_propagate_prefixed_error (error, g_steal_pointer (&local_error),
                                          "Waiting for pod %s to become ready: the watch failed "
                                          "%u times in a row: ",
                                          name, drops);
              break;
            }
          g_debug ("Watch on pod %s dropped (%s); resuming from resourceVersion %s", name,
                   local_error->message, wait.resource_version);
          continue;
        }
      else
        drops = 0;
      if (wait.expired)
        {
          wait.expired = FALSE;
          g_clear_pointer (&wait.resource_version, g_free);
          continue;
        }
      if (wait.ready)
        {
          result = json_object_ref (wait.pod);
          break;
        }
      if (wait.failure != NULL || wait.deleted)
        {
          /* A deleted pod (a reaper, a quota controller) is worth another
           * attempt; a pod the cluster cannot run is not. */
          g_set_error (error, AGENTEXEC_ERROR,
                       wait.failure != NULL ? AGENTEXEC_ERROR_FAILED
                                            : AGENTEXEC_ERROR_BACKEND_UNAVAILABLE,
                       "Pod %s will never become ready: %s", name,
                       wait.failure != NULL ? wait.failure : "it was deleted");
          break;
        }
      if (g_get_monotonic_time () >= deadline)
        {
          g_autofree char *pending = describe_pending (&wait);

          g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_TIMEOUT,
                       "Pod %s did not become ready within %u s: %s; raise ready-timeout-ms or "
                       "check the cluster's capacity",
                       name, timeout_ms / 1000, pending);
          break;
        }
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        break;
    }
  pod_wait_clear (&wait);
  return result;
}

/*
 * _agentexec_kube_delete_pod:
 *
 * Deletes @name at once (grace period 0: the sandbox holds nothing worth
 * a graceful stop). A pod already gone is not an error.
 */
static gboolean
delete_pod (AgentExecKubeClient *client,
            const char *name,
            const char *resource_version,
            GCancellable *cancellable,
            GError **error)
{
  g_autofree char *path = _agentexec_kube_client_pods_path (client, name, NULL);
  g_autoptr (JsonNode) body = json_node_new (JSON_NODE_OBJECT);
  g_autoptr (JsonObject) options = json_object_new ();
  g_autoptr (JsonNode) answer = NULL;
  g_autoptr (GError) local_error = NULL;
  guint status = 0;

  json_object_set_int_member (options, "gracePeriodSeconds", 0);
  json_object_set_string_member (options, "propagationPolicy", "Background");
  if (resource_version != NULL)
    {
      JsonObject *preconditions = json_object_new ();

      json_object_set_string_member (preconditions, "resourceVersion", resource_version);
      json_object_set_object_member (options, "preconditions", preconditions);
    }
  json_node_set_object (body, options);
  answer = _agentexec_kube_client_request (client, "DELETE", path, NULL, body, &status, cancellable,
                                           &local_error);
  if (answer != NULL || status == 404)
    return TRUE;
  /* Changed since it was listed (409): someone claimed it; it is theirs now. */
  if (status == 409 && resource_version != NULL)
    return FALSE;
  g_propagate_error (error, g_steal_pointer (&local_error));
  return FALSE;
}

gboolean
_agentexec_kube_delete_pod (AgentExecKubeClient *client,
                            const char *name,
                            GCancellable *cancellable,
                            GError **error)
{
  return delete_pod (client, name, NULL, cancellable, error);
}

typedef gboolean (*StillOurs) (JsonObject *pod, gconstpointer data);

/* Deletes a pod as it was listed, only if nobody changed it since; when it
 * changed (409: a status update, or someone claimed it), it is read again
 * and deleted if @still_ours says it still is. */
static gboolean
delete_listed_pod (AgentExecKubeClient *client,
                   JsonObject *listed,
                   StillOurs still_ours,
                   gconstpointer data,
                   GCancellable *cancellable,
                   GError **error)
{
  g_autoptr (JsonObject) pod = json_object_ref (listed);
  const char *name = _agentexec_kube_get_string (listed, "metadata.name");

  for (guint attempt = 0; attempt < 5; attempt++)
    {
      g_autofree char *path = _agentexec_kube_client_pods_path (client, name, NULL);
      g_autoptr (JsonNode) fresh = NULL;
      guint status = 0;

      if (delete_pod (client, name, _agentexec_kube_get_string (pod, "metadata.resourceVersion"),
                      cancellable, error))
        return TRUE;
      if (error != NULL && *error != NULL)
        return FALSE;
      fresh = _agentexec_kube_client_request (client, "GET", path, NULL, NULL, &status, cancellable,
                                              NULL);
      if (fresh == NULL || !JSON_NODE_HOLDS_OBJECT (fresh))
        return status == 404;
      g_clear_pointer (&pod, json_object_unref);
      pod = json_object_ref (json_node_get_object (fresh));
      if (!still_ours (pod, data))
        return FALSE;
    }
  return FALSE;
}

static JsonArray *
list_pods (AgentExecKubeClient *client,
           const char *selector,
           GCancellable *cancellable,
           JsonNode **root_out,
           GError **error)
{
  g_autofree char *escaped = g_uri_escape_string (selector, NULL, FALSE);
  g_autofree char *suffix = g_strdup_printf ("?labelSelector=%s", escaped);
  g_autofree char *path = _agentexec_kube_client_pods_path (client, NULL, suffix);
  JsonNode *root;
  JsonObject *object;

  root = _agentexec_kube_client_request (client, "GET", path, NULL, NULL, NULL, cancellable, error);
  if (root == NULL)
    return NULL;
  *root_out = root;
  object = JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
  if (object == NULL || !json_object_has_member (object, "items"))
    return NULL;
  return json_object_get_array_member (object, "items");
}

static gboolean
owner_alive (JsonObject *pod)
{
  const char *pid_text = _agentexec_kube_pod_label (pod, AGENTEXEC_KUBE_LABEL_OWNER_PID);
  const char *start = NULL;
  g_autofree char *actual = NULL;
  guint64 pid;
  JsonObject *metadata = json_object_get_object_member (pod, "metadata");
  JsonNode *annotations = metadata != NULL && json_object_has_member (metadata, "annotations")
                              ? json_object_get_member (metadata, "annotations")
                              : NULL;

  if (pid_text == NULL || !g_ascii_string_to_unsigned (pid_text, 10, 1, G_MAXINT, &pid, NULL))
    return TRUE; /* not ours to judge */
  if (kill ((pid_t) pid, 0) != 0 && errno == ESRCH)
    return FALSE;
  if (annotations != NULL && JSON_NODE_HOLDS_OBJECT (annotations) &&
      json_object_has_member (json_node_get_object (annotations),
                              AGENTEXEC_KUBE_ANNOTATION_OWNER_START))
    start = json_object_get_string_member (json_node_get_object (annotations),
                                           AGENTEXEC_KUBE_ANNOTATION_OWNER_START);
  actual = _agentexec_kube_owner_start ((guint) pid);
  return start == NULL || actual == NULL || g_str_equal (start, actual);
}

static gboolean
orphaned (JsonObject *pod, gconstpointer data)
{
  return !owner_alive (pod);
}

static gboolean
owned_by (JsonObject *pod, gconstpointer data)
{
  return g_strcmp0 (_agentexec_kube_pod_label (pod, AGENTEXEC_KUBE_LABEL_OWNER), data) == 0;
}

/*
 * _agentexec_kube_reap_orphans:
 * @owner_host: this host's label value
 *
 * Deletes the pods whose owner was a process on this host that is gone
 * (its pid absent, or reused by another process). Returns how many.
 */
guint
_agentexec_kube_reap_orphans (AgentExecKubeClient *client,
                              const char *owner_host,
                              GCancellable *cancellable,
                              GError **error)
{
  g_autofree char *selector =
      g_strdup_printf (AGENTEXEC_KUBE_LABEL_MANAGED "=" AGENTEXEC_KUBE_MANAGED_VALUE
                                                    "," AGENTEXEC_KUBE_LABEL_OWNER_HOST "=%s",
                       owner_host);
  g_autoptr (JsonNode) root = NULL;
  JsonArray *items = list_pods (client, selector, cancellable, &root, error);
  guint reaped = 0;

  for (guint i = 0; items != NULL && i < json_array_get_length (items); i++)
    {
      JsonObject *pod = json_array_get_object_element (items, i);
      const char *name = _agentexec_kube_get_string (pod, "metadata.name");
      g_autoptr (GError) local_error = NULL;

      if (name == NULL || owner_alive (pod) || _agentexec_kube_pod_is_deleted (pod))
        continue;
      if (delete_listed_pod (client, pod, orphaned, NULL, cancellable, &local_error))
        reaped++;
      else if (local_error != NULL)
        g_debug ("Could not reap orphaned pod %s: %s", name, local_error->message);
    }
  return reaped;
}

/*
 * _agentexec_kube_delete_owned:
 *
 * Deletes every pod labelled with @owner (close() and dispose).
 */
guint
_agentexec_kube_delete_owned (AgentExecKubeClient *client, const char *owner, GError **error)
{
  g_autofree char *selector =
      g_strdup_printf (AGENTEXEC_KUBE_LABEL_MANAGED "=" AGENTEXEC_KUBE_MANAGED_VALUE
                                                    "," AGENTEXEC_KUBE_LABEL_OWNER "=%s",
                       owner);
  g_autoptr (JsonNode) root = NULL;
  JsonArray *items = list_pods (client, selector, NULL, &root, error);
  guint deleted = 0;

  for (guint i = 0; items != NULL && i < json_array_get_length (items); i++)
    {
      JsonObject *pod = json_array_get_object_element (items, i);
      const char *name = _agentexec_kube_get_string (pod, "metadata.name");

      if (name != NULL && !_agentexec_kube_pod_is_deleted (pod) &&
          delete_listed_pod (client, pod, owned_by, owner, NULL, NULL))
        deleted++;
    }
  return deleted;
}
