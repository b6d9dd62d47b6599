/* agentexec-container-labels.c: labels on our containers, and the reaper
 *
 * Every container the backend creates carries io.agentexec.managed=1, the
 * executor's id, and its owner: host name, boot id, pid and the process start
 * time (so that a recycled pid is not mistaken for the owner). A new
 * executor removes the containers whose owner process is gone.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>
#include <unistd.h>

#include "agentexec-container-labels-private.h"

static char *
read_boot_id (void)
{
  g_autofree char *text = NULL;

  if (!g_file_get_contents ("/proc/sys/kernel/random/boot_id", &text, NULL, NULL))
    return g_strdup ("unknown-boot");
  return g_strdup (g_strstrip (text));
}

/* Field 22 of /proc/PID/stat: the start time in clock ticks since boot. */
static char *
read_start_time (GPid pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", (int) pid);
  g_autofree char *text = NULL;
  g_auto (GStrv) fields = NULL;
  const char *after_comm;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return NULL;
  after_comm = strrchr (text, ')');
  if (after_comm == NULL)
    return NULL;
  fields = g_strsplit (after_comm + 2, " ", 0);
  /* fields[0] is field 3 (state), so field 22 is fields[19]. */
  if (g_strv_length (fields) < 20)
    return NULL;
  return g_strdup (fields[19]);
}

char *
_agentexec_container_owner_for_pid (GPid pid)
{
  g_autofree char *boot_id = read_boot_id ();
  g_autofree char *start = read_start_time (pid);

  return g_strdup_printf ("%s/%s/%d/%s", g_get_host_name (), boot_id, (int) pid,
                          start != NULL ? start : "0");
}

/*
 * _agentexec_container_owner_label:
 *
 * host/boot-id/pid/start-time of this process.
 */
const char *
_agentexec_container_owner_label (void)
{
  static char *owner = NULL;

  if (g_once_init_enter (&owner))
    g_once_init_leave (&owner, _agentexec_container_owner_for_pid (getpid ()));
  return owner;
}

/*
 * _agentexec_container_owner_is_gone:
 *
 * TRUE when @owner names a process of this host that no longer runs (another
 * boot, no such pid, or a pid reused by a younger process). Containers of
 * other hosts are never judged.
 */
gboolean
_agentexec_container_owner_is_gone (const char *owner)
{
  g_auto (GStrv) parts = g_strsplit (owner != NULL ? owner : "", "/", 0);
  g_autofree char *boot_id = NULL;
  g_autofree char *start = NULL;
  gint64 pid;

  if (g_strv_length (parts) != 4 || !g_str_equal (parts[0], g_get_host_name ()))
    return FALSE;
  boot_id = read_boot_id ();
  if (!g_str_equal (parts[1], boot_id))
    return TRUE;
  pid = g_ascii_strtoll (parts[2], NULL, 10);
  if (pid <= 0 || pid > G_MAXINT)
    return FALSE;
  start = read_start_time ((GPid) pid);
  return start == NULL || !g_str_equal (start, parts[3]);
}

/*
 * _agentexec_container_remove:
 *
 * Force-removes a container and its anonymous volumes; a container that is
 * already gone is not an error.
 */
gboolean
_agentexec_container_remove (AgentExecDockerClient *client, const char *id, GError **error)
{
  g_autofree char *path = g_strdup_printf ("/containers/%s?force=1&v=1", id);
  g_autoptr (GError) local_error = NULL;

  for (guint attempt = 0;; attempt++)
    {
      g_autoptr (GBytes) answer = NULL;
      guint status = 0;

      g_clear_error (&local_error);
      answer = _agentexec_docker_client_request (client, "DELETE", path, NULL, NULL, 0, &status,
                                                 NULL, &local_error);
      /* 404: gone already; 409: removal already in progress (close() or
       * the reaper). */
      if (answer != NULL || status == 404 || status == 409)
        return TRUE;
      /* Podman refuses while a container is between running and stopped
       * ("container state improper"): try again shortly. */
      if (status < 500 || attempt == 4)
        break;
      g_usleep ((attempt + 1) * 100 * 1000);
    }
  g_propagate_error (error, g_steal_pointer (&local_error));
  return FALSE;
}

static const char *
labels_member (JsonObject *container, const char *label)
{
  JsonNode *labels;

  if (!json_object_has_member (container, "Labels"))
    return NULL;
  labels = json_object_get_member (container, "Labels");
  if (!JSON_NODE_HOLDS_OBJECT (labels) ||
      !json_object_has_member (json_node_get_object (labels), label))
    return NULL;
  return json_object_get_string_member (json_node_get_object (labels), label);
}

/*
 * _agentexec_container_list_labelled:
 * @label_filter: a Docker label filter, "key" or "key=value"
 * @owners: (out) (optional): the owner label of each, in the same order
 *
 * The ids of all containers (running or not) matching @label_filter.
 */
GStrv
_agentexec_container_list_labelled (AgentExecDockerClient *client,
                                    const char *label_filter,
                                    GStrv *owners,
                                    GCancellable *cancellable,
                                    GError **error)
{
  g_autofree char *filters = g_strdup_printf ("{\"label\":[\"%s\"]}", label_filter);
  g_autofree char *escaped = _agentexec_docker_uri_escape (filters);
  g_autofree char *path = g_strdup_printf ("/containers/json?all=1&filters=%s", escaped);
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GStrvBuilder) ids = g_strv_builder_new ();
  g_autoptr (GStrvBuilder) owner_list = g_strv_builder_new ();
  JsonArray *array;

  root =
      _agentexec_docker_client_request_json (client, "GET", path, NULL, NULL, cancellable, error);
  if (root == NULL)
    return NULL;
  if (!JSON_NODE_HOLDS_ARRAY (root))
    {
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_PROTOCOL,
                   "Docker engine at %s answered the container list with something "
                   "other than an array",
                   _agentexec_docker_client_get_host (client));
      return NULL;
    }
  array = json_node_get_array (root);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *node = json_array_get_element (array, i);
      JsonObject *container = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
      const char *owner;

      if (container == NULL || !json_object_has_member (container, "Id"))
        continue;
      owner = labels_member (container, AGENTEXEC_LABEL_OWNER);
      g_strv_builder_add (ids, json_object_get_string_member (container, "Id"));
      g_strv_builder_add (owner_list, owner != NULL ? owner : "");
    }
  if (owners != NULL)
    *owners = g_strv_builder_end (owner_list);
  return g_strv_builder_end (ids);
}

/*
 * _agentexec_container_reap_orphans:
 *
 * Removes labelled containers whose owner process is gone. Returns how many.
 */
guint
_agentexec_container_reap_orphans (AgentExecDockerClient *client,
                                   GCancellable *cancellable,
                                   GError **error)
{
  g_auto (GStrv) owners = NULL;
  g_auto (GStrv) ids = NULL;
  guint reaped = 0;

  ids = _agentexec_container_list_labelled (client, AGENTEXEC_LABEL_MANAGED "=1", &owners,
                                            cancellable, error);
  if (ids == NULL)
    return 0;
  for (guint i = 0; ids[i] != NULL; i++)
    {
      g_autoptr (GError) local_error = NULL;

      if (!_agentexec_container_owner_is_gone (owners[i]))
        continue;
      if (_agentexec_container_remove (client, ids[i], &local_error))
        reaped++;
      else
        g_warning ("Could not reap orphaned container %.12s: %s", ids[i], local_error->message);
    }
  if (reaped > 0)
    g_debug ("Reaped %u container(s) left by processes that are gone", reaped);
  return reaped;
}

/*
 * _agentexec_container_remove_labelled:
 *
 * Removes every container matching @label_filter. Returns how many.
 */
guint
_agentexec_container_remove_labelled (AgentExecDockerClient *client,
                                      const char *label_filter,
                                      GError **error)
{
  g_auto (GStrv) ids = NULL;
  guint removed = 0;

  ids = _agentexec_container_list_labelled (client, label_filter, NULL, NULL, error);
  if (ids == NULL)
    return 0;
  for (guint i = 0; ids[i] != NULL; i++)
    if (_agentexec_container_remove (client, ids[i], error))
      removed++;
    else
      break;
  return removed;
}
