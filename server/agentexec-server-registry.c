/* agentexec-server-registry.c: contexts by id, defaults, limits, idle end
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "agentexec-server-registry-private.h"

struct _AgentExecServerRegistry
{
  GObject parent_instance;

  AgentExecCodeExecutor *executor;
  GHashTable *contexts; /* id → context */
  GHashTable *defaults; /* language → context (also in contexts) */
  GPtrArray *order;     /* contexts, in creation order */
  guint max_contexts;
  guint idle_timeout_s;
  guint idle_source;
};

G_DEFINE_FINAL_TYPE (AgentExecServerRegistry, agentexec_server_registry, G_TYPE_OBJECT)

static void
on_reset_done (GObject *source, GAsyncResult *res, gpointer data)
{
  g_autoptr (GError) error = NULL;

  if (!_agentexec_server_context_job_finish (AGENTEXEC_SERVER_CONTEXT (source), res, &error))
    g_warning ("Ending an idle context failed: %s", error->message);
}

static gboolean
on_idle_check (gpointer data)
{
  AgentExecServerRegistry *self = data;
  gint64 oldest = g_get_monotonic_time () - (gint64) self->idle_timeout_s * G_USEC_PER_SEC;
  g_autoptr (GPtrArray) idle = g_ptr_array_new ();

  for (guint i = 0; i < self->order->len; i++)
    {
      AgentExecServerContext *context = g_ptr_array_index (self->order, i);

      if (_agentexec_server_context_get_pending (context) == 0 &&
          _agentexec_server_context_get_last_used (context) < oldest)
        g_ptr_array_add (idle, context);
    }
  for (guint i = 0; i < idle->len; i++)
    {
      const char *id = _agentexec_server_context_get_id (g_ptr_array_index (idle, i));
      g_autoptr (AgentExecServerContext) context = _agentexec_server_registry_remove (self, id);

      g_message ("Context %s was idle for more than %u s: removed", id, self->idle_timeout_s);
      _agentexec_server_context_reset_async (context, "the context was removed", FALSE,
                                             on_reset_done, NULL);
    }
  return G_SOURCE_CONTINUE;
}

static gboolean
check_room (AgentExecServerRegistry *self, GError **error)
{
  if (self->max_contexts == 0 || g_hash_table_size (self->contexts) < self->max_contexts)
    return TRUE;
  g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_RESOURCE_LIMIT,
               "There are already %u contexts (--max-contexts): remove one with "
               "DELETE /contexts/{id} or start the server with a higher --max-contexts",
               self->max_contexts);
  return FALSE;
}

static AgentExecServerContext *
add (AgentExecServerRegistry *self, AgentExecServerContext *context)
{
  g_hash_table_insert (self->contexts, g_strdup (_agentexec_server_context_get_id (context)),
                       context);
  g_ptr_array_add (self->order, g_object_ref (context));
  return context;
}

/*
 * _agentexec_server_registry_create:
 *
 * Returns: (transfer none): a new context, or %NULL with RESOURCE_LIMIT
 */
AgentExecServerContext *
_agentexec_server_registry_create (AgentExecServerRegistry *self,
                                   const char *language,
                                   const char *cwd,
                                   GError **error)
{
  if (!check_room (self, error))
    return NULL;
  return add (self, _agentexec_server_context_new (self->executor, language, cwd, FALSE));
}

/* Returns: (transfer none) (nullable): the context @id */
AgentExecServerContext *
_agentexec_server_registry_lookup (AgentExecServerRegistry *self, const char *id)
{
  return g_hash_table_lookup (self->contexts, id);
}

/* Returns: (transfer none): @language's default context, made on first use */
AgentExecServerContext *
_agentexec_server_registry_get_default (AgentExecServerRegistry *self,
                                        const char *language,
                                        GError **error)
{
  AgentExecServerContext *context = g_hash_table_lookup (self->defaults, language);

  if (context != NULL)
    return context;
  if (!check_room (self, error))
    return NULL;
  context = add (self, _agentexec_server_context_new (self->executor, language, NULL, TRUE));
  g_hash_table_insert (self->defaults, g_strdup (language), context);
  return context;
}

/* Returns: (transfer full) (nullable): the context @id, no longer listed */
AgentExecServerContext *
_agentexec_server_registry_remove (AgentExecServerRegistry *self, const char *id)
{
  AgentExecServerContext *context = g_hash_table_lookup (self->contexts, id);

  if (context == NULL)
    return NULL;
  g_object_ref (context);
  if (_agentexec_server_context_is_default (context))
    g_hash_table_remove (self->defaults, _agentexec_server_context_get_language (context));
  g_hash_table_remove (self->contexts, id);
  g_ptr_array_remove (self->order, context);
  return context;
}

/* Returns: (transfer container) (element-type AgentExecServerContext) */
GPtrArray *
_agentexec_server_registry_list (AgentExecServerRegistry *self)
{
  return g_ptr_array_copy (self->order, (GCopyFunc) (void (*) (void)) g_object_ref, NULL);
}

/* Returns: [{id, language, cwd}] for GET /contexts */
JsonNode *
_agentexec_server_registry_to_json (AgentExecServerRegistry *self)
{
  JsonNode *node = json_node_new (JSON_NODE_ARRAY);
  JsonArray *array = json_array_new ();

  for (guint i = 0; i < self->order->len; i++)
    json_array_add_element (array,
                            _agentexec_server_context_to_json (g_ptr_array_index (self->order, i)));
  json_node_take_array (node, array);
  return node;
}

/* Jobs queued or running in every context. */
guint
_agentexec_server_registry_get_pending (AgentExecServerRegistry *self)
{
  guint pending = 0;

  for (guint i = 0; i < self->order->len; i++)
    pending += _agentexec_server_context_get_pending (g_ptr_array_index (self->order, i));
  return pending;
}

void
_agentexec_server_registry_cancel_all (AgentExecServerRegistry *self, const char *reason)
{
  for (guint i = 0; i < self->order->len; i++)
    _agentexec_server_context_cancel_all (g_ptr_array_index (self->order, i), reason);
}

/*
 * _agentexec_server_registry_new:
 * @max_contexts: 0: no limit
 * @idle_timeout_s: contexts unused this long end (0: never)
 */
AgentExecServerRegistry *
_agentexec_server_registry_new (AgentExecCodeExecutor *executor,
                                guint max_contexts,
                                guint idle_timeout_s)
{
  AgentExecServerRegistry *self = g_object_new (AGENTEXEC_TYPE_SERVER_REGISTRY, NULL);

  self->executor = g_object_ref (executor);
  self->max_contexts = max_contexts;
  self->idle_timeout_s = idle_timeout_s;
  if (idle_timeout_s > 0)
    self->idle_source =
        g_timeout_add_seconds (MAX (1, MIN (idle_timeout_s / 4, 60)), on_idle_check, self);
  return self;
}

static void
agentexec_server_registry_dispose (GObject *object)
{
  AgentExecServerRegistry *self = AGENTEXEC_SERVER_REGISTRY (object);

  g_clear_handle_id (&self->idle_source, g_source_remove);
  g_hash_table_remove_all (self->defaults);
  g_hash_table_remove_all (self->contexts);
  g_ptr_array_set_size (self->order, 0);
  g_clear_object (&self->executor);
  G_OBJECT_CLASS (agentexec_server_registry_parent_class)->dispose (object);
}

static void
agentexec_server_registry_finalize (GObject *object)
{
  AgentExecServerRegistry *self = AGENTEXEC_SERVER_REGISTRY (object);

  g_hash_table_unref (self->defaults);
  g_hash_table_unref (self->contexts);
  g_ptr_array_unref (self->order);
  G_OBJECT_CLASS (agentexec_server_registry_parent_class)->finalize (object);
}

static void
agentexec_server_registry_class_init (AgentExecServerRegistryClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = agentexec_server_registry_dispose;
  object_class->finalize = agentexec_server_registry_finalize;
}

static void
agentexec_server_registry_init (AgentExecServerRegistry *self)
{
  self->contexts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  self->defaults = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->order = g_ptr_array_new_with_free_func (g_object_unref);
}
