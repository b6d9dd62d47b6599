/* agentexec-container-workspace.c: files in and out of /workspace
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "agentexec-container-workspace-private.h"
#include "agentexec-docker-archive-private.h"

#define MAX_WORKSPACE (64 * 1024 * 1024)
#define MAX_STAMPED 32
#define PATH_STAT_HEADER "X-Docker-Container-Path-Stat"

static guint
user_id (const char *user, guint part)
{
  g_auto (GStrv) ids = g_strsplit (user, ":", 2);
  guint64 value;

  if (g_strv_length (ids) <= part ||
      !g_ascii_string_to_unsigned (ids[part], 10, 0, G_MAXUINT32, &value, NULL))
    return 1000;
  return (guint) value;
}

/*
 * _agentexec_container_workspace_upload:
 * @base_path: "/containers/ID"
 * @user: "uid:gid" to own the files
 *
 * Copies @files into /workspace (a volume, so this works before start too).
 */
gboolean
_agentexec_container_workspace_upload (AgentExecDockerClient *client,
                                       const char *base_path,
                                       GPtrArray *files,
                                       const char *user,
                                       GCancellable *cancellable,
                                       GError **error)
{
  g_autoptr (GBytes) tar = NULL;
  g_autoptr (GBytes) answer = NULL;
  g_autofree char *path = NULL;

  if (files->len == 0)
    return TRUE;
  tar = _agentexec_docker_archive_pack (files, user_id (user, 0), user_id (user, 1), error);
  if (tar == NULL)
    return FALSE;
  path = g_strconcat (base_path, "/archive?path=" WORKSPACE, NULL);
  answer = _agentexec_docker_client_request (client, "PUT", path, "application/x-tar", tar, 0, NULL,
                                             cancellable, error);
  return answer != NULL;
}

static gboolean
same_as_input (GPtrArray *inputs, AgentExecFile *file)
{
  for (guint i = 0; i < inputs->len; i++)
    {
      AgentExecFile *input = g_ptr_array_index (inputs, i);

      if (g_str_equal (agentexec_file_get_name (input), agentexec_file_get_name (file)))
        return g_bytes_equal (agentexec_file_get_content (input),
                              agentexec_file_get_content (file));
    }
  return FALSE;
}

static char *
path_stamp (AgentExecDockerClient *client, const char *base_path, const char *path, GError **error)
{
  g_autofree char *escaped = g_uri_escape_string (path, "/", FALSE);
  g_autofree char *request = g_strconcat (base_path, "/archive?path=", escaped, NULL);

  return _agentexec_docker_client_head (client, request, PATH_STAT_HEADER, NULL, error);
}

static void
add_path (GPtrArray *paths, GHashTable *seen, char *path)
{
  if (g_hash_table_contains (seen, path))
    {
      g_free (path);
      return;
    }
  g_hash_table_add (seen, path);
  g_ptr_array_add (paths, path);
}

/*
 * The engine's stat (name, size, mode, mtime) of /workspace, of every
 * directory holding an input file and of every input file. Copying the
 * workspace out of a stopped container costs the engine a helper process
 * (50-100 ms); a stat costs about 1 ms. When no stamp changed during the run,
 * the code added, removed or rewrote nothing there, and the copy is skipped.
 * NULL (always copy) when there are too many files to stamp or a stat fails.
 */
char *
_agentexec_container_workspace_stamp (AgentExecDockerClient *client,
                                      const char *base_path,
                                      GPtrArray *files)
{
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GPtrArray) paths = g_ptr_array_new ();
  g_autoptr (GString) stamp = g_string_new (NULL);

  if (files->len > MAX_STAMPED)
    return NULL;
  add_path (paths, seen, g_strdup (WORKSPACE));
  for (guint i = 0; i < files->len; i++)
    {
      const char *name = agentexec_file_get_name (g_ptr_array_index (files, i));

      for (const char *slash = strchr (name, '/'); slash != NULL; slash = strchr (slash + 1, '/'))
        add_path (paths, seen, g_strdup_printf (WORKSPACE "/%.*s", (int) (slash - name), name));
      add_path (paths, seen, g_strconcat (WORKSPACE "/", name, NULL));
    }
  for (guint i = 0; i < paths->len; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *value = path_stamp (client, base_path, g_ptr_array_index (paths, i), &error);

      if (value == NULL)
        {
          g_debug ("No stat of %s (%s): the workspace will be copied out",
                   (char *) g_ptr_array_index (paths, i), error->message);
          return NULL;
        }
      g_string_append_printf (stamp, "%s\n", value);
    }
  return g_string_free (g_steal_pointer (&stamp), FALSE);
}

/*
 * _agentexec_container_workspace_changes:
 * @known: (element-type AgentExecFile): the files as they were before the run
 *
 * Copies /workspace out and returns its new and changed files (the code
 * file excepted), or NULL with an error.
 */
GPtrArray *
_agentexec_container_workspace_changes (AgentExecDockerClient *client,
                                        const char *base_path,
                                        GPtrArray *known,
                                        GError **error)
{
  g_autofree char *path = g_strconcat (base_path, "/archive?path=" WORKSPACE, NULL);
  g_autoptr (GBytes) tar = NULL;
  g_autoptr (GPtrArray) files = NULL;

  tar = _agentexec_docker_client_request (client, "GET", path, NULL, NULL, MAX_WORKSPACE, NULL,
                                          NULL, error);
  if (tar == NULL || (files = _agentexec_docker_archive_unpack (tar, TRUE, error)) == NULL)
    return NULL;
  return _agentexec_container_workspace_filter (files, known);
}

/*
 * _agentexec_container_workspace_filter:
 * @files: (element-type AgentExecFile): files found in /workspace after a run
 *   (copied out, or reported by the driver)
 * @known: (element-type AgentExecFile): the files as they were before the run
 *
 * Returns: (element-type AgentExecFile): @files but the code file and those
 *   whose content is still what @known says
 */
GPtrArray *
_agentexec_container_workspace_filter (GPtrArray *files, GPtrArray *known)
{
  GPtrArray *changed = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < files->len; i++)
    {
      AgentExecFile *file = g_ptr_array_index (files, i);

      if (g_str_has_prefix (agentexec_file_get_name (file), CODE_DIR "/") ||
          same_as_input (known, file))
        continue;
      g_ptr_array_add (changed, g_object_ref (file));
    }
  return changed;
}
