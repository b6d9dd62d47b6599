/* agentexec-container-runtime.c: what the container backend's parts share
 *
 * The executor owns one runtime once it is initialised and hands it to the
 * warm pool, the stateful sessions and the runs; none of them calls back into
 * the executor. The runtime knows the engine client, the spec every
 * container is created with, the containers in flight (so that close()
 * removes them all), the removals done off the caller's path, and which
 * interpreters the image turned out not to have.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "agentexec-container-labels-private.h"
#include "agentexec-container-runtime-private.h"

#define REMOVAL_THREADS 2

struct _AgentExecContainerRuntime
{
  AgentExecDockerClient *client;
  AgentExecContainerSpec spec; /* its strings are the four below */
  char *image;
  char *network_mode;
  char *user;
  char *executor_id;
  GMutex lock;
  GThreadPool *removals;
  GHashTable *live;             /* container ids in flight */
  GHashTable *missing_programs; /* interpreters the image lacks */
};

static void remove_in_background (gpointer data, gpointer user_data);

static GThreadPool *
new_removal_pool (AgentExecContainerRuntime *runtime)
{
  return g_thread_pool_new (remove_in_background, runtime, REMOVAL_THREADS, FALSE, NULL);
}

/*
 * _agentexec_container_runtime_new:
 * @client: (transfer none): the engine client (a reference is taken)
 * @spec: what containers are created with (copied)
 */
AgentExecContainerRuntime *
_agentexec_container_runtime_new (AgentExecDockerClient *client, const AgentExecContainerSpec *spec)
{
  AgentExecContainerRuntime *runtime = g_new0 (AgentExecContainerRuntime, 1);

  runtime->client = _agentexec_docker_client_ref (client);
  runtime->spec = *spec;
  runtime->spec.image = runtime->image = g_strdup (spec->image);
  runtime->spec.network_mode = runtime->network_mode = g_strdup (spec->network_mode);
  runtime->spec.user = runtime->user = g_strdup (spec->user);
  runtime->spec.executor_id = runtime->executor_id = g_strdup (spec->executor_id);
  g_mutex_init (&runtime->lock);
  runtime->live = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  runtime->missing_programs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  runtime->removals = new_removal_pool (runtime);
  return runtime;
}

/*
 * _agentexec_container_runtime_free:
 *
 * Waits for the removals under way, then removes every container still in
 * flight and every container labelled with the executor's id.
 */
void
_agentexec_container_runtime_free (AgentExecContainerRuntime *runtime)
{
  if (runtime == NULL)
    return;
  g_thread_pool_free (g_steal_pointer (&runtime->removals), FALSE, TRUE);
  _agentexec_container_runtime_remove_all (runtime);
  g_hash_table_unref (runtime->live);
  g_hash_table_unref (runtime->missing_programs);
  g_mutex_clear (&runtime->lock);
  g_free (runtime->image);
  g_free (runtime->network_mode);
  g_free (runtime->user);
  g_free (runtime->executor_id);
  _agentexec_docker_client_unref (runtime->client);
  g_free (runtime);
}

AgentExecDockerClient *
_agentexec_container_runtime_get_client (AgentExecContainerRuntime *runtime)
{
  return runtime->client;
}

/* Fills @spec; its strings belong to @runtime. */
void
_agentexec_container_runtime_get_spec (AgentExecContainerRuntime *runtime,
                                       AgentExecContainerSpec *spec)
{
  *spec = runtime->spec;
}

/* Containers in flight, so that close() can remove them */

void
_agentexec_container_runtime_track (AgentExecContainerRuntime *runtime,
                                    const char *id,
                                    gboolean live)
{
  g_mutex_lock (&runtime->lock);
  if (live)
    g_hash_table_add (runtime->live, g_strdup (id));
  else
    g_hash_table_remove (runtime->live, id);
  g_mutex_unlock (&runtime->lock);
}

static void
remove_in_background (gpointer data, gpointer user_data)
{
  g_autofree char *id = data;
  AgentExecContainerRuntime *runtime = user_data;
  g_autoptr (GError) error = NULL;

  if (_agentexec_container_remove (runtime->client, id, &error))
    _agentexec_container_runtime_track (runtime, id, FALSE);
  else
    g_warning ("Could not remove container %.12s: %s", id, error->message);
}

/*
 * _agentexec_container_runtime_remove_later:
 *
 * Removes a finished container off the caller's path (the result does not
 * wait for it); close() and dispose wait for these removals.
 */
void
_agentexec_container_runtime_remove_later (AgentExecContainerRuntime *runtime, const char *id)
{
  if (runtime->removals == NULL || !g_thread_pool_push (runtime->removals, g_strdup (id), NULL))
    remove_in_background (g_strdup (id), runtime);
}

/*
 * _agentexec_container_runtime_remove_now:
 *
 * Removes a container before returning (after a failed run, so that it is
 * gone before the error is reported); on failure close() retries.
 */
void
_agentexec_container_runtime_remove_now (AgentExecContainerRuntime *runtime, const char *id)
{
  g_autoptr (GError) error = NULL;

  if (_agentexec_container_remove (runtime->client, id, &error))
    _agentexec_container_runtime_track (runtime, id, FALSE);
  else
    g_debug ("Could not remove container %.12s now (%s); close() will retry", id, error->message);
}

/* Blocks until every removal pushed so far is done. */
void
_agentexec_container_runtime_wait_for_removals (AgentExecContainerRuntime *runtime)
{
  if (runtime->removals == NULL)
    return;
  g_thread_pool_free (runtime->removals, FALSE, TRUE);
  runtime->removals = new_removal_pool (runtime);
}

/* Removes every container in flight, and any the engine still lists with the
 * executor's label (one a crash in the middle of a create left untracked). */
void
_agentexec_container_runtime_remove_all (AgentExecContainerRuntime *runtime)
{
  g_autoptr (GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *filter = NULL;
  g_autoptr (GError) error = NULL;
  GHashTableIter iter;
  gpointer key;

  g_mutex_lock (&runtime->lock);
  g_hash_table_iter_init (&iter, runtime->live);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (ids, g_strdup (key));
  g_hash_table_remove_all (runtime->live);
  g_mutex_unlock (&runtime->lock);

  for (guint i = 0; i < ids->len; i++)
    {
      g_autoptr (GError) local_error = NULL;
      const char *id = g_ptr_array_index (ids, i);

      if (!_agentexec_container_remove (runtime->client, id, &local_error))
        g_warning ("Could not remove container %.12s: %s", id, local_error->message);
    }
  filter = g_strdup_printf (AGENTEXEC_LABEL_EXECUTOR "=%s", runtime->spec.executor_id);
  _agentexec_container_remove_labelled (runtime->client, filter, &error);
  if (error != NULL)
    g_debug ("Could not list the executor's containers to remove them: %s", error->message);
}

/* Interpreters the image turned out not to have (asked once, then known) */

gboolean
_agentexec_container_runtime_program_missing (AgentExecContainerRuntime *runtime,
                                              const char *program)
{
  gboolean missing;

  g_mutex_lock (&runtime->lock);
  missing = g_hash_table_contains (runtime->missing_programs, program);
  g_mutex_unlock (&runtime->lock);
  return missing;
}

void
_agentexec_container_runtime_set_program_missing (AgentExecContainerRuntime *runtime,
                                                  const char *program)
{
  g_mutex_lock (&runtime->lock);
  g_hash_table_add (runtime->missing_programs, g_strdup (program));
  g_mutex_unlock (&runtime->lock);
}
