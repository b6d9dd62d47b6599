/* agentexec-genai.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "agentexec-code-block-parser.h"
#include "agentexec-executor-context-private.h"
#include "agentexec-genai-private.h"
#include "agentexec-language.h"
#include "agentexec-result-formatter.h"

/*
 * The genai (Gemini REST / google-genai) Content and Part shapes as json-glib
 * objects. Input is read in camelCase (the REST API) or snake_case (the
 * Python SDK's model_dump); output is written in camelCase:
 *
 *   Content  {"role": "user"|"model", "parts": [Part, ...]}
 *   Part     {"text": "..."}
 *          | {"executableCode": {"language": "PYTHON", "code": "..."}}
 *          | {"codeExecutionResult": {"outcome": "OUTCOME_OK", "output": "..."}}
 *          | {"inlineData": {"mimeType": "...", "data": "<base64>"}}
 */

const char *const _agentexec_default_code_block_delimiters[] = { "```tool_code\n", "\n```",
                                                                 "```python\n", "\n```", NULL };
const char *const _agentexec_default_execution_result_delimiters[] = { "```tool_output\n", "\n```",
                                                                       NULL };

JsonObject *
_agentexec_genai_part_member (JsonObject *part, const char *camel, const char *snake)
{
  JsonNode *node = json_object_get_member (part, camel);

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    node = json_object_get_member (part, snake);
  return node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

const char *
_agentexec_genai_object_string (JsonObject *object, const char *camel, const char *snake)
{
  JsonNode *node = json_object_get_member (object, camel);

  if ((node == NULL || JSON_NODE_HOLDS_NULL (node)) && snake != NULL)
    node = json_object_get_member (object, snake);
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

/* The text of a text part, NULL when it has none or it is empty (ADK's
 * `if p.text`). */
const char *
_agentexec_genai_part_text (JsonObject *part)
{
  const char *text = _agentexec_genai_object_string (part, "text", NULL);

  return text != NULL && text[0] != '\0' ? text : NULL;
}

JsonArray *
_agentexec_genai_content_parts (JsonObject *content)
{
  JsonNode *node = json_object_get_member (content, "parts");

  return node != NULL && JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
}

static JsonObject *
part_at (JsonArray *parts, guint index)
{
  JsonNode *node = json_array_get_element (parts, index);

  return JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

static JsonObject *
text_part (const char *text)
{
  JsonObject *part = json_object_new ();

  json_object_set_string_member (part, "text", text);
  return part;
}

/**
 * agentexec_genai_build_executable_code_part:
 * @code: Python code
 *
 * Builds the genai part ADK's `build_executable_code_part` does.
 *
 * Returns: (transfer full): `{"executableCode": {"language": "PYTHON",
 *   "code": code}}`
 *
 * Since: 1.0
 */
JsonObject *
agentexec_genai_build_executable_code_part (const char *code)
{
  JsonObject *part, *executable;

  g_return_val_if_fail (code != NULL, NULL);

  executable = json_object_new ();
  json_object_set_string_member (executable, "language", "PYTHON");
  json_object_set_string_member (executable, "code", code);
  part = json_object_new ();
  json_object_set_object_member (part, "executableCode", executable);
  return part;
}

static const char *
genai_outcome (AgentExecExecutionResult *result)
{
  if (agentexec_execution_result_get_outcome (result) == AGENTEXEC_OUTCOME_DEADLINE_EXCEEDED)
    return "OUTCOME_DEADLINE_EXCEEDED";
  if (agentexec_execution_result_is_error (result))
    return "OUTCOME_FAILED";
  return "OUTCOME_OK";
}

/**
 * agentexec_genai_build_code_execution_result_part:
 * @result: a [class@AgentExec.ExecutionResult]
 *
 * Builds the genai part that reports @result to the model, with ADK's text
 * rules (the text is [method@AgentExec.ResultFormatter.format_result]'s):
 *
 * - non-empty standard error: `OUTCOME_FAILED` with the standard error as
 *   output (ADK drops standard output then; here it is kept in front, as
 *   `"Code execution result:\n" + stdout + "\n\nError:\n" + stderr`, when
 *   there is any);
 * - otherwise `OUTCOME_OK` with `"Code execution result:\n" + stdout + "\n"`
 *   (when there is standard output or there are no output files) and
 *   ``"Saved artifacts:\n`a`,`b`"``, joined by a blank line.
 *
 * A run that failed without writing to standard error (non-zero exit, a
 * signal) is `OUTCOME_FAILED` too, and a timeout `OUTCOME_DEADLINE_EXCEEDED`.
 *
 * Returns: (transfer full): `{"codeExecutionResult": {"outcome": ...,
 *   "output": ...}}`
 *
 * Since: 1.0
 */
JsonObject *
agentexec_genai_build_code_execution_result_part (AgentExecExecutionResult *result)
{
  g_autoptr (AgentExecResultFormatter) formatter = NULL;
  g_autofree char *output = NULL;
  JsonObject *part, *inner;

  g_return_val_if_fail (AGENTEXEC_IS_EXECUTION_RESULT (result), NULL);

  formatter = agentexec_result_formatter_new ();
  output = agentexec_result_formatter_format_result (formatter, result);
  inner = json_object_new ();
  json_object_set_string_member (inner, "outcome", genai_outcome (result));
  json_object_set_string_member (inner, "output", output);
  part = json_object_new ();
  json_object_set_object_member (part, "codeExecutionResult", inner);
  return part;
}

/**
 * agentexec_genai_build_content:
 * @role: `user` or `model`
 * @part: (transfer none): the only part, copied
 *
 * Builds a genai `Content` object (`{"role": ..., "parts": [...]}`), the
 * message shape of Gemini and ADK.
 *
 * Returns: (transfer full): `{"role": role, "parts": [part]}`
 *
 * Since: 1.0
 */
JsonObject *
agentexec_genai_build_content (const char *role, JsonObject *part)
{
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  JsonObject *content;
  JsonArray *parts;

  g_return_val_if_fail (role != NULL, NULL);
  g_return_val_if_fail (part != NULL, NULL);

  json_node_set_object (node, part);
  parts = json_array_new ();
  json_array_add_element (parts, json_node_copy (node));
  content = json_object_new ();
  json_object_set_string_member (content, "role", role);
  json_object_set_array_member (content, "parts", parts);
  return content;
}

static gboolean
pair_valid (const char *const *pair)
{
  return pair != NULL && pair[0] != NULL && pair[1] != NULL;
}

static char *
wrap_result (const char *const *delimiters, const char *output)
{
  g_autoptr (AgentExecResultFormatter) formatter = NULL;

  formatter = agentexec_result_formatter_new_with_delimiters (delimiters[0], delimiters[1]);
  if (formatter == NULL)
    return g_strconcat (delimiters[0], output, delimiters[1], NULL);
  return agentexec_result_formatter_wrap (formatter, output);
}

/**
 * agentexec_genai_convert_code_execution_parts:
 * @content: a genai Content object, changed in place
 * @code_block_delimiter: (array zero-terminated=1) (nullable): the start and
 *   end delimiter of code (ADK uses the first code block pair:
 *   ```` ```tool_code\n ```` and `\n```` `), %NULL for that default
 * @execution_result_delimiters: (array zero-terminated=1) (nullable): the
 *   start and end delimiter of results, %NULL for ```` ```tool_output\n ````
 *   and `\n```` `
 *
 * The history rewrite ADK applies to every content before each model call,
 * for models without native code-execution parts:
 *
 * - a trailing `executableCode` part becomes a text part holding the code in
 *   the code delimiters;
 * - a content holding exactly one `codeExecutionResult` part becomes a text
 *   part holding the output in the result delimiters, and its role `user`.
 *
 * Any other content is left alone. An output that itself contains a fence
 * gets a longer fence (see [method@AgentExec.ResultFormatter.wrap]).
 *
 * Returns: %TRUE when @content was changed
 *
 * Since: 1.0
 */
gboolean
agentexec_genai_convert_code_execution_parts (JsonObject *content,
                                              const char *const *code_block_delimiter,
                                              const char *const *execution_result_delimiters)
{
  JsonArray *parts;
  JsonObject *last, *inner;
  guint n;

  g_return_val_if_fail (content != NULL, FALSE);

  if (!pair_valid (code_block_delimiter))
    code_block_delimiter = _agentexec_default_code_block_delimiters;
  if (!pair_valid (execution_result_delimiters))
    execution_result_delimiters = _agentexec_default_execution_result_delimiters;

  parts = _agentexec_genai_content_parts (content);
  if (parts == NULL || (n = json_array_get_length (parts)) == 0 ||
      (last = part_at (parts, n - 1)) == NULL)
    return FALSE;

  if ((inner = _agentexec_genai_part_member (last, "executableCode", "executable_code")) != NULL)
    {
      const char *code = _agentexec_genai_object_string (inner, "code", NULL);
      g_autofree char *text =
          g_strconcat (code_block_delimiter[0], code ? code : "", code_block_delimiter[1], NULL);

      json_array_remove_element (parts, n - 1);
      json_array_add_object_element (parts, text_part (text));
      return TRUE;
    }
  if (n == 1 && (inner = _agentexec_genai_part_member (last, "codeExecutionResult",
                                                       "code_execution_result")) != NULL)
    {
      const char *output = _agentexec_genai_object_string (inner, "output", NULL);
      g_autofree char *text = wrap_result (execution_result_delimiters, output ? output : "");

      json_array_remove_element (parts, 0);
      json_array_add_object_element (parts, text_part (text));
      json_object_set_string_member (content, "role", "user");
      return TRUE;
    }
  return FALSE;
}

/* A native executableCode part without its result after it: keep the parts
 * up to it and return its code (ADK's first loop). */
static char *
extract_executable_part (JsonArray *parts, char **language)
{
  guint n = json_array_get_length (parts);

  for (guint i = 0; i < n; i++)
    {
      JsonObject *part = part_at (parts, i), *next, *inner;
      const char *code, *lang;

      if (part == NULL)
        continue;
      inner = _agentexec_genai_part_member (part, "executableCode", "executable_code");
      if (inner == NULL)
        continue;
      next = i + 1 < n ? part_at (parts, i + 1) : NULL;
      if (next != NULL &&
          _agentexec_genai_part_member (next, "codeExecutionResult", "code_execution_result"))
        continue;
      code = _agentexec_genai_object_string (inner, "code", NULL);
      lang = _agentexec_genai_object_string (inner, "language", NULL);
      while (json_array_get_length (parts) > i + 1)
        json_array_remove_element (parts, i + 1);
      if (language != NULL && lang != NULL)
        {
          g_autofree char *lower = g_ascii_strdown (lang, -1);

          *language = g_strdup (agentexec_language_resolve (lower, NULL));
        }
      return g_strdup (code != NULL ? code : "");
    }
  return NULL;
}

/* The language a start delimiter names: "```tool_code\n" → python. */
static char *
language_of_delimiter (const char *start)
{
  g_autofree char *word = NULL;
  const char *resolved;

  while (*start == '`' || *start == '~')
    start++;
  word = g_strstrip (g_ascii_strdown (start, -1));
  resolved = word[0] != '\0' ? agentexec_language_resolve (word, NULL) : NULL;
  return g_strdup (resolved);
}

/* A copy of @first_text holding @prefix as its text: ADK deep-copies the
 * first text part, so its other members (such as `thought`) are kept. */
static JsonObject *
prefix_part (JsonObject *first_text, const char *prefix)
{
  JsonObject *part = json_object_new ();
  JsonObjectIter iter;
  const char *name;
  JsonNode *member;

  json_object_iter_init (&iter, first_text);
  while (json_object_iter_next (&iter, &name, &member))
    if (!g_str_equal (name, "text"))
      json_object_set_member (part, name, _agentexec_json_node_deep_copy (member));
  json_object_set_string_member (part, "text", prefix);
  return part;
}

/* The parts become [prefix text, when not empty] + the executable code part. */
static void
truncate_to_block (JsonArray *parts, JsonObject *first_text, const char *prefix, const char *code)
{
  JsonObject *prefix_text = prefix[0] != '\0' ? prefix_part (first_text, prefix) : NULL;

  while (json_array_get_length (parts) > 0)
    json_array_remove_element (parts, 0);
  if (prefix_text != NULL)
    json_array_add_object_element (parts, prefix_text);
  json_array_add_object_element (parts, agentexec_genai_build_executable_code_part (code));
}

/*
 * _agentexec_find_first_code_block:
 *
 * The first code block of @text with delimiter pairs (ADK's regex: the
 * earliest start delimiter, then the first end delimiter after it). Sets
 * @start to the offset of its start delimiter, @end just past its end
 * delimiter and @language to the language its start delimiter names (or
 * NULL). Returns its code, NULL when there is none or it is empty.
 */
char *
_agentexec_find_first_code_block (
    const char *text, const char *const *delimiters, gsize *start, gsize *end, char **language)
{
  g_autoptr (AgentExecCodeBlockParser) parser = NULL;
  g_autoptr (AgentExecCodeBlock) block = NULL;
  const char *code;

  if (language != NULL)
    *language = NULL;
  if (delimiters == NULL || delimiters[0] == NULL)
    delimiters = _agentexec_default_code_block_delimiters;
  parser = agentexec_code_block_parser_new_with_delimiters (delimiters);
  block = agentexec_code_block_parser_extract_first_code_block (parser, text);
  if (block == NULL || (code = agentexec_code_block_get_code (block)) == NULL || code[0] == '\0')
    return NULL;
  *start = agentexec_code_block_get_start (block);
  *end = agentexec_code_block_get_end (block);
  if (language != NULL)
    *language = _agentexec_delimited_block_language (text + *start, delimiters);
  return g_strdup (code);
}

/*
 * _agentexec_delimited_block_language:
 * @block: the text of a delimited block, from its start delimiter on
 *
 * The language the first of @delimiters' start delimiters that @block
 * starts with names ("```tool_code\n" → python), or NULL.
 */
char *
_agentexec_delimited_block_language (const char *block, const char *const *delimiters)
{
  for (guint i = 0; delimiters[i] != NULL && delimiters[i + 1] != NULL; i += 2)
    if (strncmp (block, delimiters[i], strlen (delimiters[i])) == 0)
      return language_of_delimiter (delimiters[i]);
  return NULL;
}

static char *
extract_text_block (JsonArray *parts, const char *const *delimiters, char **language)
{
  g_autoptr (GString) text = g_string_new (NULL);
  g_autoptr (JsonObject) first_text = NULL;
  g_autofree char *prefix = NULL;
  char *code;
  gsize start = 0, end = 0;

  for (guint i = 0; i < json_array_get_length (parts); i++)
    {
      JsonObject *part = part_at (parts, i);
      const char *part_text = part != NULL ? _agentexec_genai_part_text (part) : NULL;

      if (part_text == NULL)
        continue;
      if (first_text == NULL)
        first_text = json_object_ref (part);
      else
        g_string_append_c (text, '\n');
      g_string_append (text, part_text);
    }
  if (first_text == NULL)
    return NULL;

  code = _agentexec_find_first_code_block (text->str, delimiters, &start, &end, language);
  if (code == NULL)
    return NULL;
  prefix = g_strndup (text->str, start);
  truncate_to_block (parts, first_text, prefix, code);
  return code;
}

char *
_agentexec_genai_extract_code (JsonObject *content,
                               const char *const *code_block_delimiters,
                               char **language)
{
  JsonArray *parts;
  char *code;

  if (language != NULL)
    *language = NULL;
  if (code_block_delimiters == NULL || code_block_delimiters[0] == NULL)
    code_block_delimiters = _agentexec_default_code_block_delimiters;
  parts = _agentexec_genai_content_parts (content);
  if (parts == NULL || json_array_get_length (parts) == 0)
    return NULL;

  code = extract_executable_part (parts, language);
  if (code != NULL)
    return code;
  return extract_text_block (parts, code_block_delimiters, language);
}

/**
 * agentexec_genai_extract_code_and_truncate_content:
 * @content: a genai Content object (a model reply), changed in place
 * @code_block_delimiters: (array zero-terminated=1) (nullable): code block
 *   delimiters as a flat list of (start, end) pairs, %NULL for ADK's
 *
 * Finds the code to run in a model reply as ADK's
 * `extract_code_and_truncate_content` does:
 *
 * - the first `executableCode` part not followed by its
 *   `codeExecutionResult`: the parts after it are dropped;
 * - else the first code block in the text parts (joined by "\n"): the
 *   earliest start delimiter, then the first end delimiter after it. The
 *   parts become the text before the block (when not empty, in a copy of
 *   the first text part) and an `executableCode` part; the text after the
 *   block is dropped. An empty block counts as none.
 *
 * @content is left unchanged when it holds no code.
 *
 * Returns: (transfer full) (nullable): the code, or %NULL when there is none
 *
 * Since: 1.0
 */
char *
agentexec_genai_extract_code_and_truncate_content (JsonObject *content,
                                                   const char *const *code_block_delimiters)
{
  g_autofree char *code = NULL;

  g_return_val_if_fail (content != NULL, NULL);

  code = _agentexec_genai_extract_code (content, code_block_delimiters, NULL);
  if (code == NULL || code[0] == '\0')
    return NULL;
  return g_steal_pointer (&code);
}
