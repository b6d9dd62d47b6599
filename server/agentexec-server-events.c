/* agentexec-server-events.c: results, errors and environment wrappers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "agentexec-server-events-private.h"
#include "agentexec-server-ndjson-private.h"

static JsonNode *
string_node (const char *text)
{
  JsonNode *node = json_node_new (JSON_NODE_VALUE);

  json_node_set_string (node, text != NULL ? text : "");
  return node;
}

static JsonNode *
bool_node (gboolean value)
{
  JsonNode *node = json_node_new (JSON_NODE_VALUE);

  json_node_set_boolean (node, value);
  return node;
}

char *
_agentexec_server_error_line (const char *name, const char *value, const char *traceback)
{
  return _agentexec_server_event_line ("error", "name", string_node (name), "value",
                                       string_node (value), "traceback", string_node (traceback),
                                       NULL);
}

/* A figure the Python driver saved: figure_<n>.png. */
static gboolean
is_figure (AgentExecFile *file)
{
  const char *name = agentexec_file_get_name (file);

  return g_str_has_prefix (name, "figure_") && g_str_has_suffix (name, ".png") &&
         strchr (name, '/') == NULL;
}

static char *
figure_line (AgentExecFile *file)
{
  GBytes *content = agentexec_file_get_content (file);
  g_autofree char *png =
      g_base64_encode (g_bytes_get_data (content, NULL), g_bytes_get_size (content));

  return _agentexec_server_event_line ("result", "png", string_node (png), "is_main_result",
                                       bool_node (FALSE), NULL);
}

/* The last line of @text that is not empty, or NULL. */
static char *
last_line (const char *text)
{
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);

  for (int i = (int) g_strv_length (lines) - 1; i >= 0; i--)
    if (g_strstrip (lines[i])[0] != '\0')
      return g_strdup (lines[i]);
  return NULL;
}

/* "NameError: name 'x' is not defined" → name, value; a line that does not
 * look like an exception → NULL. */
static gboolean
split_exception (const char *line, char **name, char **value)
{
  const char *colon = strstr (line, ": ");
  const char *end = colon != NULL ? colon : line + strlen (line);

  if (end == line || !(g_ascii_isalpha (line[0]) || line[0] == '_'))
    return FALSE;
  for (const char *p = line; p < end; p++)
    if (!g_ascii_isalnum (*p) && *p != '_' && *p != '.')
      return FALSE;
  *name = g_strndup (line, end - line);
  *value = g_strdup (colon != NULL ? colon + 2 : "");
  return TRUE;
}

/* Python: the traceback the driver printed, from its first line. */
static const char *
traceback_start (const char *stderr_text)
{
  const char *start = g_strrstr (stderr_text, "Traceback (most recent call last):");

  return start != NULL ? start : stderr_text;
}

static char *
failure_line (AgentExecExecutionResult *result, const char *language)
{
  const char *stderr_text = agentexec_execution_result_get_stderr (result);
  g_autofree char *line = last_line (stderr_text);
  g_autofree char *name = NULL;
  g_autofree char *value = NULL;
  int code = agentexec_execution_result_get_exit_code (result);

  if (line != NULL && !g_str_equal (language, "bash") && split_exception (line, &name, &value))
    return _agentexec_server_error_line (
        name, value,
        g_str_equal (language, "python") ? traceback_start (stderr_text) : stderr_text);
  value =
      agentexec_execution_result_get_signal (result) > 0
          ? g_strdup_printf ("killed by signal %d", agentexec_execution_result_get_signal (result))
          : g_strdup_printf ("exited with status %d", code);
  return _agentexec_server_error_line ("ExitError", value, stderr_text);
}

static char *
outcome_line (AgentExecExecutionResult *result, const char *language, guint timeout_ms)
{
  g_autofree char *value = NULL;

  switch (agentexec_execution_result_get_outcome (result))
    {
    case AGENTEXEC_OUTCOME_OK:
      return NULL;
    case AGENTEXEC_OUTCOME_DEADLINE_EXCEEDED:
      value = g_strdup_printf ("the code ran longer than the server's limit of %u ms and was "
                               "killed; the context's state is lost",
                               timeout_ms);
      return _agentexec_server_error_line ("TimeoutError", value,
                                           agentexec_execution_result_get_stderr (result));
    case AGENTEXEC_OUTCOME_CANCELLED:
      return _agentexec_server_error_line ("ExecutionCancelled",
                                           "the execution was cancelled (context restarted, "
                                           "removed, or the server is stopping)",
                                           "");
    case AGENTEXEC_OUTCOME_RESOURCE_EXHAUSTED:
      return _agentexec_server_error_line ("ResourceExhausted",
                                           "the code hit a resource limit (memory, processes, "
                                           "file size or output) and was stopped",
                                           agentexec_execution_result_get_stderr (result));
    case AGENTEXEC_OUTCOME_FAILED:
    case AGENTEXEC_OUTCOME_ERROR:
    default:
      return failure_line (result, language);
    }
}

/*
 * _agentexec_server_result_lines:
 *
 * Returns: (element-type utf8): the lines a finished run adds before
 *   end_of_execution, in order
 */
GPtrArray *
_agentexec_server_result_lines (AgentExecExecutionResult *result,
                                const char *language,
                                guint timeout_ms)
{
  GPtrArray *lines = g_ptr_array_new_with_free_func (g_free);
  GPtrArray *files = agentexec_execution_result_get_output_files (result);
  const char *value = agentexec_execution_result_get_value (result);
  char *error;

  for (guint i = 0; files != NULL && i < files->len; i++)
    if (is_figure (g_ptr_array_index (files, i)))
      g_ptr_array_add (lines, figure_line (g_ptr_array_index (files, i)));
  if (value != NULL)
    g_ptr_array_add (lines,
                     _agentexec_server_event_line ("result", "text", string_node (value),
                                                   "is_main_result", bool_node (TRUE), NULL));
  error = outcome_line (result, language, timeout_ms);
  if (error != NULL)
    g_ptr_array_add (lines, error);
  return lines;
}

static char *
env_json (JsonObject *env)
{
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  g_autoptr (JsonGenerator) generator = json_generator_new ();

  json_node_set_object (node, env);
  json_generator_set_root (generator, node);
  return json_generator_to_data (generator, NULL);
}

static char *
shell_quote_env (JsonObject *env)
{
  g_autoptr (GString) out = g_string_new ("__ae_env_saved=$(declare -p");
  g_autoptr (GList) names = json_object_get_members (env);

  for (GList *l = names; l != NULL; l = l->next)
    g_string_append_printf (out, " %s", (const char *) l->data);
  g_string_append (out, " 2>/dev/null; :)\nexport");
  for (GList *l = names; l != NULL; l = l->next)
    {
      g_autofree char *quoted =
          g_shell_quote (json_object_get_string_member (env, (const char *) l->data));

      g_string_append_printf (out, " %s=%s", (const char *) l->data, quoted);
    }
  g_string_append (out, "\n__ae_env_names='");
  for (GList *l = names; l != NULL; l = l->next)
    g_string_append_printf (out, "%s ", (const char *) l->data);
  g_string_append (out, "'\n");
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/*
 * _agentexec_server_env_prologue:
 * @env: names (checked: identifiers) → string values
 *
 * Returns: the code that sets @env in a session for one execution and
 *   remembers the previous values; _agentexec_server_env_epilogue() restores
 *   them (E2B's env_vars apply to that execution only)
 */
char *
_agentexec_server_env_prologue (const char *language, JsonObject *env)
{
  g_autofree char *json = env_json (env);

  if (g_str_equal (language, "python"))
    return g_strdup_printf ("__ae_env = [(k, __import__('os').environ.get(k)) for k in %s]\n"
                            "__import__('os').environ.update(%s)\n",
                            json, json);
  if (g_str_equal (language, "javascript"))
    return g_strdup_printf (
        "globalThis.__ae_env = Object.keys(%s).map((k) => [k, process.env[k]]);\n"
        "Object.assign(process.env, %s);\n",
        json, json);
  return shell_quote_env (env);
}

const char *
_agentexec_server_env_epilogue (const char *language)
{
  if (g_str_equal (language, "python"))
    return "for __ae_k, __ae_v in __ae_env:\n"
           "    if __ae_v is None: __import__('os').environ.pop(__ae_k, None)\n"
           "    else: __import__('os').environ[__ae_k] = __ae_v\n"
           "del __ae_env, __ae_k, __ae_v\n";
  if (g_str_equal (language, "javascript"))
    return "for (const [k, v] of globalThis.__ae_env) {\n"
           "  if (v === undefined) delete process.env[k]; else process.env[k] = v;\n"
           "}\n"
           "delete globalThis.__ae_env;\n";
  return "unset $__ae_env_names\neval \"$__ae_env_saved\"\nunset __ae_env_saved __ae_env_names\n";
}
