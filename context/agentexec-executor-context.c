/* agentexec-executor-context.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "agentexec-enums.h"
#include "agentexec-executor-context-private.h"

/**
 * AgentExecExecutorContext:
 *
 * The code-execution state of one agent session, kept in a session-state
 * JSON object under Google ADK's exact keys, so that state written by ADK can
 * be read here and the other way round:
 *
 * - `_code_execution_context`: `{"execution_session_id": ...,
 *   "processed_input_files": [...]}`, the only key of the state delta;
 * - `_code_executor_input_files`: `[{"name", "content" (base64), "mime_type"}]`;
 * - `_code_executor_error_counts`: `{invocation_id: n}`;
 * - `_code_execution_results`: `{invocation_id: [{"code", "result_stdout",
 *   "result_stderr", "timestamp"}]}`.
 *
 * ```c
 * g_autoptr(AgentExecExecutorContext) context =
 *   agentexec_executor_context_new_from_json (state_json, &error);
 * if (agentexec_executor_context_get_error_count (context, invocation) >= 2)
 *   return pass_through (reply);
 * ```
 *
 * All methods are thread-safe.
 *
 * Since: 1.0
 */

#define CONTEXT_KEY "_code_execution_context"
#define SESSION_ID_KEY "execution_session_id"
#define PROCESSED_FILE_NAMES_KEY "processed_input_files"
#define INPUT_FILE_KEY "_code_executor_input_files"
#define ERROR_COUNT_KEY "_code_executor_error_counts"
#define CODE_EXECUTION_RESULTS_KEY "_code_execution_results"

struct _AgentExecExecutorContext
{
  GObject parent_instance;
  GMutex mutex;
  JsonObject *state;
};

G_DEFINE_FINAL_TYPE (AgentExecExecutorContext, agentexec_executor_context, G_TYPE_OBJECT)

static void
agentexec_executor_context_finalize (GObject *object)
{
  AgentExecExecutorContext *self = AGENTEXEC_EXECUTOR_CONTEXT (object);

  g_clear_pointer (&self->state, json_object_unref);
  g_mutex_clear (&self->mutex);

  G_OBJECT_CLASS (agentexec_executor_context_parent_class)->finalize (object);
}

static void
agentexec_executor_context_class_init (AgentExecExecutorContextClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = agentexec_executor_context_finalize;
}

static void
agentexec_executor_context_init (AgentExecExecutorContext *self)
{
  g_mutex_init (&self->mutex);
}

/* A value node of its own: json_node_copy() shares the JsonValue, whose
 * reference count json-glib 1.6 changes without atomics, so a copy handed to
 * another thread could free the state's value under it. */
static JsonNode *
copy_value_node (JsonNode *node)
{
  JsonNode *copy = json_node_alloc ();

  if (JSON_NODE_HOLDS_NULL (node))
    return json_node_init_null (copy);
  switch (json_node_get_value_type (node))
    {
    case G_TYPE_STRING:
      return json_node_init_string (copy, json_node_get_string (node));
    case G_TYPE_BOOLEAN:
      return json_node_init_boolean (copy, json_node_get_boolean (node));
    case G_TYPE_DOUBLE:
      return json_node_init_double (copy, json_node_get_double (node));
    default:
      return json_node_init_int (copy, json_node_get_int (node));
    }
}

/* Deep copy: json_node_copy() only references nested objects and arrays,
 * and shares values. Nothing of the copy is shared with @node. */
JsonNode *
_agentexec_json_node_deep_copy (JsonNode *node)
{
  JsonNode *copy;

  if (JSON_NODE_HOLDS_OBJECT (node))
    {
      JsonObject *object = json_node_get_object (node);
      JsonObject *out = json_object_new ();
      JsonObjectIter iter;
      const char *name;
      JsonNode *member;

      json_object_iter_init (&iter, object);
      while (json_object_iter_next (&iter, &name, &member))
        json_object_set_member (out, name, _agentexec_json_node_deep_copy (member));
      copy = json_node_new (JSON_NODE_OBJECT);
      json_node_take_object (copy, out);
      return copy;
    }
  if (JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *array = json_node_get_array (node);
      JsonArray *out = json_array_sized_new (json_array_get_length (array));

      for (guint i = 0; i < json_array_get_length (array); i++)
        json_array_add_element (out,
                                _agentexec_json_node_deep_copy (json_array_get_element (array, i)));
      copy = json_node_new (JSON_NODE_ARRAY);
      json_node_take_array (copy, out);
      return copy;
    }
  return copy_value_node (node);
}

/* The object under @key of @parent, created (or replaced when it is not an
 * object) as ADK's setdefault does. */
static JsonObject *
ensure_object (JsonObject *parent, const char *key)
{
  JsonNode *node = json_object_get_member (parent, key);

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    json_object_set_object_member (parent, key, json_object_new ());
  return json_object_get_object_member (parent, key);
}

static JsonArray *
ensure_array (JsonObject *parent, const char *key)
{
  JsonNode *node = json_object_get_member (parent, key);

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    json_object_set_array_member (parent, key, json_array_new ());
  return json_object_get_array_member (parent, key);
}

static JsonObject *
lookup_object (JsonObject *parent, const char *key)
{
  JsonNode *node = json_object_get_member (parent, key);

  return node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

static JsonArray *
lookup_array (JsonObject *parent, const char *key)
{
  JsonNode *node = json_object_get_member (parent, key);

  return node != NULL && JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
}

static JsonObject *
code_execution_context (AgentExecExecutorContext *self)
{
  return ensure_object (self->state, CONTEXT_KEY);
}

/**
 * agentexec_executor_context_new:
 * @session_state: (nullable): the session-state object to work on, shared
 *   (changes are made in it), or %NULL for a new empty one
 *
 * Creates a context over @session_state; `_code_execution_context` is
 * created in it when missing, as ADK does.
 *
 * Returns: (transfer full): a new [class@AgentExec.ExecutorContext]
 *
 * Since: 1.0
 */
AgentExecExecutorContext *
agentexec_executor_context_new (JsonObject *session_state)
{
  AgentExecExecutorContext *self = g_object_new (AGENTEXEC_TYPE_EXECUTOR_CONTEXT, NULL);

  self->state = session_state != NULL ? json_object_ref (session_state) : json_object_new ();
  code_execution_context (self);
  return self;
}

/**
 * agentexec_executor_context_new_from_json:
 * @json: a session-state JSON document (an object), as ADK stores it
 * @error: return location for a #GError
 *
 * Creates a context over a session-state JSON object with ADK's keys
 * (`_code_execution_context`, `_code_executor_input_files`,
 * `_code_executor_error_counts`, `_code_execution_results`), as ADK keeps it
 * in its session state.
 *
 * Returns: (transfer full): a new [class@AgentExec.ExecutorContext], or
 *   %NULL with %AGENTEXEC_ERROR_INVALID_INPUT
 *
 * Since: 1.0
 */
AgentExecExecutorContext *
agentexec_executor_context_new_from_json (const char *json, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) local_error = NULL;
  JsonNode *root;

  g_return_val_if_fail (json != NULL, NULL);

  if (!json_parser_load_from_data (parser, json, -1, &local_error))
    {
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_INVALID_INPUT,
                   "Session state is not valid JSON: %s", local_error->message);
      return NULL;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error_literal (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_INVALID_INPUT,
                           "Session state must be a JSON object such as {} or "
                           "{\"_code_execution_context\": {...}}");
      return NULL;
    }
  return agentexec_executor_context_new (json_node_get_object (root));
}

/**
 * agentexec_executor_context_get_session_state:
 * @self: a [class@AgentExec.ExecutorContext]
 *
 * The session-state object the context works on. Do not change it while
 * other threads use the context.
 *
 * Returns: (transfer none): the session state
 *
 * Since: 1.0
 */
JsonObject *
agentexec_executor_context_get_session_state (AgentExecExecutorContext *self)
{
  g_return_val_if_fail (AGENTEXEC_IS_EXECUTOR_CONTEXT (self), NULL);

  return self->state;
}

/**
 * agentexec_executor_context_to_json:
 * @self: a [class@AgentExec.ExecutorContext]
 *
 * Serialises the whole session state of @self, ADK's keys included.
 *
 * Returns: (transfer full): the whole session state as a JSON document
 *
 * Since: 1.0
 */
char *
agentexec_executor_context_to_json (AgentExecExecutorContext *self)
{
  g_autoptr (GMutexLocker) locker = NULL;
  JsonNode *root;
  char *json;

  g_return_val_if_fail (AGENTEXEC_IS_EXECUTOR_CONTEXT (self), NULL);

  /* The node references the state, and that reference count is not atomic:
   * take and drop it under the lock. */
  locker = g_mutex_locker_new (&self->mutex);
  root = json_node_new (JSON_NODE_OBJECT);
  json_node_set_object (root, self->state);
  json = json_to_string (root, FALSE);
  json_node_unref (root);
  return json;
}

/**
 * agentexec_executor_context_get_state_delta:
 * @self: a [class@AgentExec.ExecutorContext]
 *
 * The state delta ADK's flow emits: only `_code_execution_context`, deep
 * copied, so later changes to the context do not show in it.
 *
 * Returns: (transfer full): `{"_code_execution_context": {...}}`
 *
 * Since: 1.0
 */
JsonObject *
agentexec_executor_context_get_state_delta (AgentExecExecutorContext *self)
{
  g_autoptr (GMutexLocker) locker = NULL;
  JsonObject *delta;

  g_return_val_if_fail (AGENTEXEC_IS_EXECUTOR_CONTEXT (self), NULL);

  locker = g_mutex_locker_new (&self->mutex);
  code_execution_context (self);
  delta = json_object_new ();
  json_object_set_member (
      delta, CONTEXT_KEY,
      _agentexec_json_node_deep_copy (json_object_get_member (self->state, CONTEXT_KEY)));
  return delta;
}

/**
 * agentexec_executor_context_get_execution_id:
 * @self: a [class@AgentExec.ExecutorContext]
 *
 * Gets the stateful session id of the context (`execution_session_id`).
 *
 * Returns: (transfer full) (nullable): the stateful execution session id
 *
 * Since: 1.0
 */
char *
agentexec_executor_context_get_execution_id (AgentExecExecutorContext *self)
{
  g_autoptr (GMutexLocker) locker = NULL;
  JsonNode *node;

  g_return_val_if_fail (AGENTEXEC_IS_EXECUTOR_CONTEXT (self), NULL);

  locker = g_mutex_locker_new (&self->mutex);
  node = json_object_get_member (code_execution_context (self), SESSION_ID_KEY);
  if (node == NULL || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return g_strdup (json_node_get_string (node));
}

/**
 * agentexec_executor_context_set_execution_id:
 * @self: a [class@AgentExec.ExecutorContext]
 * @execution_id: the stateful execution session id
 *
 * Sets the stateful session id of the context (`execution_session_id`).
 *
 * Since: 1.0
 */
void
agentexec_executor_context_set_execution_id (AgentExecExecutorContext *self,
                                             const char *execution_id)
{
  g_autoptr (GMutexLocker) locker = NULL;

  g_return_if_fail (AGENTEXEC_IS_EXECUTOR_CONTEXT (self));
  g_return_if_fail (execution_id != NULL);

  locker = g_mutex_locker_new (&self->mutex);
  json_object_set_string_member (code_execution_context (self), SESSION_ID_KEY, execution_id);
}

static GStrv
strings_of (JsonArray *array)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();

  for (guint i = 0; array != NULL && i < json_array_get_length (array); i++)
    {
      JsonNode *node = json_array_get_element (array, i);

      if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
        g_strv_builder_add (builder, json_node_get_string (node));
    }
  return g_strv_builder_end (builder);
}

/**
 * agentexec_executor_context_get_processed_file_names:
 * @self: a [class@AgentExec.ExecutorContext]
 *
 * Gets the names of the input files already processed
 * (`processed_input_files`).
 *
 * Returns: (transfer full): names of the input files already handled
 *
 * Since: 1.0
 */
GStrv
agentexec_executor_context_get_processed_file_names (AgentExecExecutorContext *self)
{
  g_autoptr (GMutexLocker) locker = NULL;

  g_return_val_if_fail (AGENTEXEC_IS_EXECUTOR_CONTEXT (self), NULL);

  locker = g_mutex_locker_new (&self->mutex);
  return strings_of (lookup_array (code_execution_context (self), PROCESSED_FILE_NAMES_KEY));
}

/**
 * agentexec_executor_context_add_processed_file_names:
 * @self: a [class@AgentExec.ExecutorContext]
 * @file_names: (array zero-terminated=1): names to add
 *
 * Records @names as processed input files (`processed_input_files` of
 * `_code_execution_context`), so they are not optimised again.
 *
 * Since: 1.0
 */
void
agentexec_executor_context_add_processed_file_names (AgentExecExecutorContext *self,
                                                     const char *const *file_names)
{
  g_autoptr (GMutexLocker) locker = NULL;
  JsonArray *array;

  g_return_if_fail (AGENTEXEC_IS_EXECUTOR_CONTEXT (self));
  g_return_if_fail (file_names != NULL);

  locker = g_mutex_locker_new (&self->mutex);
  array = ensure_array (code_execution_context (self), PROCESSED_FILE_NAMES_KEY);
  for (guint i = 0; file_names[i] != NULL; i++)
    json_array_add_string_element (array, file_names[i]);
}

/**
 * agentexec_executor_context_get_input_files:
 * @self: a [class@AgentExec.ExecutorContext]
 *
 * Entries that are not valid file objects are skipped.
 *
 * Returns: (transfer container) (element-type AgentExecFile): the input files
 *
 * Since: 1.0
 */
GPtrArray *
agentexec_executor_context_get_input_files (AgentExecExecutorContext *self)
{
  g_autoptr (GMutexLocker) locker = NULL;
  GPtrArray *files = g_ptr_array_new_with_free_func (g_object_unref);
  JsonArray *array;

  g_return_val_if_fail (AGENTEXEC_IS_EXECUTOR_CONTEXT (self), NULL);

  locker = g_mutex_locker_new (&self->mutex);
  array = lookup_array (self->state, INPUT_FILE_KEY);
  for (guint i = 0; array != NULL && i < json_array_get_length (array); i++)
    {
      g_autoptr (GError) error = NULL;
      AgentExecFile *file =
          agentexec_file_new_from_json (json_array_get_element (array, i), &error);

      if (file != NULL)
        g_ptr_array_add (files, file);
      else
        g_debug ("Skipping input file %u of the session state: %s", i, error->message);
    }
  return files;
}

/**
 * agentexec_executor_context_add_input_files:
 * @self: a [class@AgentExec.ExecutorContext]
 * @files: (element-type AgentExecFile): files to add
 *
 * Adds @files to the input files every execution of the session receives
 * (`_code_executor_input_files`).
 *
 * Since: 1.0
 */
void
agentexec_executor_context_add_input_files (AgentExecExecutorContext *self, GPtrArray *files)
{
  g_autoptr (GMutexLocker) locker = NULL;
  JsonArray *array;

  g_return_if_fail (AGENTEXEC_IS_EXECUTOR_CONTEXT (self));
  g_return_if_fail (files != NULL);

  locker = g_mutex_locker_new (&self->mutex);
  array = ensure_array (self->state, INPUT_FILE_KEY);
  for (guint i = 0; i < files->len; i++)
    json_array_add_element (array, agentexec_file_to_json (g_ptr_array_index (files, i)));
}

/**
 * agentexec_executor_context_clear_input_files:
 * @self: a [class@AgentExec.ExecutorContext]
 *
 * Empties the input files and the processed file names.
 *
 * Since: 1.0
 */
void
agentexec_executor_context_clear_input_files (AgentExecExecutorContext *self)
{
  g_autoptr (GMutexLocker) locker = NULL;
  JsonObject *context;

  g_return_if_fail (AGENTEXEC_IS_EXECUTOR_CONTEXT (self));

  locker = g_mutex_locker_new (&self->mutex);
  if (json_object_has_member (self->state, INPUT_FILE_KEY))
    json_object_set_array_member (self->state, INPUT_FILE_KEY, json_array_new ());
  context = code_execution_context (self);
  if (json_object_has_member (context, PROCESSED_FILE_NAMES_KEY))
    json_object_set_array_member (context, PROCESSED_FILE_NAMES_KEY, json_array_new ());
}

static guint
error_count_locked (AgentExecExecutorContext *self, const char *invocation_id)
{
  JsonObject *counts = lookup_object (self->state, ERROR_COUNT_KEY);
  JsonNode *node;

  if (counts == NULL || (node = json_object_get_member (counts, invocation_id)) == NULL ||
      !JSON_NODE_HOLDS_VALUE (node))
    return 0;
  return (guint) CLAMP (json_node_get_int (node), 0, G_MAXUINT);
}

/**
 * agentexec_executor_context_get_error_count:
 * @self: a [class@AgentExec.ExecutorContext]
 * @invocation_id: the invocation
 *
 * Gets the number of code errors recorded for @invocation_id
 * (`_code_executor_error_counts`); the flow stops executing once it reaches
 * the executor's `error-retry-attempts`.
 *
 * Returns: how many code errors in a row @invocation_id has had
 *
 * Since: 1.0
 */
guint
agentexec_executor_context_get_error_count (AgentExecExecutorContext *self,
                                            const char *invocation_id)
{
  g_autoptr (GMutexLocker) locker = NULL;

  g_return_val_if_fail (AGENTEXEC_IS_EXECUTOR_CONTEXT (self), 0);
  g_return_val_if_fail (invocation_id != NULL, 0);

  locker = g_mutex_locker_new (&self->mutex);
  return error_count_locked (self, invocation_id);
}

/**
 * agentexec_executor_context_increment_error_count:
 * @self: a [class@AgentExec.ExecutorContext]
 * @invocation_id: the invocation
 *
 * Adds one to the code-error count of @invocation_id.
 *
 * Since: 1.0
 */
void
agentexec_executor_context_increment_error_count (AgentExecExecutorContext *self,
                                                  const char *invocation_id)
{
  g_autoptr (GMutexLocker) locker = NULL;
  guint count;

  g_return_if_fail (AGENTEXEC_IS_EXECUTOR_CONTEXT (self));
  g_return_if_fail (invocation_id != NULL);

  locker = g_mutex_locker_new (&self->mutex);
  count = error_count_locked (self, invocation_id);
  json_object_set_int_member (ensure_object (self->state, ERROR_COUNT_KEY), invocation_id,
                              (gint64) count + 1);
}

/**
 * agentexec_executor_context_reset_error_count:
 * @self: a [class@AgentExec.ExecutorContext]
 * @invocation_id: the invocation
 *
 * Removes the count of @invocation_id, as ADK does after a success.
 *
 * Since: 1.0
 */
void
agentexec_executor_context_reset_error_count (AgentExecExecutorContext *self,
                                              const char *invocation_id)
{
  g_autoptr (GMutexLocker) locker = NULL;
  JsonObject *counts;

  g_return_if_fail (AGENTEXEC_IS_EXECUTOR_CONTEXT (self));
  g_return_if_fail (invocation_id != NULL);

  locker = g_mutex_locker_new (&self->mutex);
  counts = lookup_object (self->state, ERROR_COUNT_KEY);
  if (counts != NULL && json_object_has_member (counts, invocation_id))
    json_object_remove_member (counts, invocation_id);
}

/**
 * agentexec_executor_context_update_code_execution_result:
 * @self: a [class@AgentExec.ExecutorContext]
 * @invocation_id: the invocation
 * @code: the code that ran
 * @result_stdout: its standard output
 * @result_stderr: its standard error
 *
 * Appends `{"code", "result_stdout", "result_stderr", "timestamp"}` (Unix
 * seconds) to the invocation's history.
 *
 * Since: 1.0
 */
void
agentexec_executor_context_update_code_execution_result (AgentExecExecutorContext *self,
                                                         const char *invocation_id,
                                                         const char *code,
                                                         const char *result_stdout,
                                                         const char *result_stderr)
{
  g_autoptr (GMutexLocker) locker = NULL;
  JsonObject *entry;
  JsonArray *history;

  g_return_if_fail (AGENTEXEC_IS_EXECUTOR_CONTEXT (self));
  g_return_if_fail (invocation_id != NULL);
  g_return_if_fail (code != NULL);

  locker = g_mutex_locker_new (&self->mutex);
  history = ensure_array (ensure_object (self->state, CODE_EXECUTION_RESULTS_KEY), invocation_id);
  entry = json_object_new ();
  json_object_set_string_member (entry, "code", code);
  json_object_set_string_member (entry, "result_stdout",
                                 result_stdout != NULL ? result_stdout : "");
  json_object_set_string_member (entry, "result_stderr",
                                 result_stderr != NULL ? result_stderr : "");
  json_object_set_int_member (entry, "timestamp", g_get_real_time () / G_USEC_PER_SEC);
  json_array_add_object_element (history, entry);
}

/**
 * agentexec_executor_context_get_code_execution_results:
 * @self: a [class@AgentExec.ExecutorContext]
 * @invocation_id: the invocation
 *
 * Gets the results history of @invocation_id (`_code_execution_results`): one
 * object per execution with `code`, `result_stdout`, `result_stderr` and
 * `timestamp`.
 *
 * Returns: (transfer full): a deep copy of the invocation's history (empty
 *   when it has none)
 *
 * Since: 1.0
 */
JsonArray *
agentexec_executor_context_get_code_execution_results (AgentExecExecutorContext *self,
                                                       const char *invocation_id)
{
  g_autoptr (GMutexLocker) locker = NULL;
  JsonObject *results;
  JsonNode *node;
  g_autoptr (JsonNode) copy = NULL;

  g_return_val_if_fail (AGENTEXEC_IS_EXECUTOR_CONTEXT (self), NULL);
  g_return_val_if_fail (invocation_id != NULL, NULL);

  locker = g_mutex_locker_new (&self->mutex);
  results = lookup_object (self->state, CODE_EXECUTION_RESULTS_KEY);
  node = results != NULL ? json_object_get_member (results, invocation_id) : NULL;
  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return json_array_new ();
  copy = _agentexec_json_node_deep_copy (node);
  return json_array_ref (json_node_get_array (copy));
}
