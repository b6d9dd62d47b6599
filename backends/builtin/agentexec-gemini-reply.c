/* agentexec-gemini-reply.c: reading Gemini's answer into an ExecutionResult
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A GenerateContentResponse (or the chunks of a stream of them) holds
 * candidates[].content.parts[]: text, executableCode, codeExecutionResult
 * and inlineData parts, with promptFeedback.blockReason and finishReason
 * telling why there may be none. Parts are merged as they arrive (a text or
 * an execution result split over stream chunks continues), and the result
 * of the submitted code is picked at the end. Fields use the proto3 JSON
 * (camelCase) names; snake_case spellings are accepted too.
 */

#include "config.h"

#include <string.h>

#include "agentexec-enums.h"
#include "agentexec-execution-result-private.h"
#include "agentexec-file-private.h"
#include "agentexec-gemini-private.h"
#include "agentexec-gemini-reply-private.h"

static JsonNode *
get_member2 (JsonObject *object, const char *camel, const char *snake, const char **found)
{
  if (json_object_has_member (object, camel))
    {
      *found = camel;
      return json_object_get_member (object, camel);
    }
  if (json_object_has_member (object, snake))
    {
      *found = snake;
      return json_object_get_member (object, snake);
    }
  *found = NULL;
  return NULL;
}

/* Replies */

typedef enum
{
  PART_TEXT,
  PART_CODE,
  PART_RESULT,
  PART_DATA,
} PartKind;

typedef struct
{
  PartKind kind;
  GString *text; /* text, code, or output */
  char *outcome;
  char *mime_type;
  char *display_name;
  GBytes *data;
} Part;

struct _AgentExecGeminiReply
{
  GPtrArray *parts;
  char *block_reason;
  char *block_message;
  char *finish_reason;
  char *finish_message;
  guint n_candidates;
  AgentExecGeminiOutputFunc func;
  gpointer user_data;
};

static void
part_free (gpointer data)
{
  Part *part = data;

  g_string_free (part->text, TRUE);
  g_free (part->outcome);
  g_free (part->mime_type);
  g_free (part->display_name);
  g_clear_pointer (&part->data, g_bytes_unref);
  g_free (part);
}

AgentExecGeminiReply *
_agentexec_gemini_reply_new (AgentExecGeminiOutputFunc func, gpointer user_data)
{
  AgentExecGeminiReply *reply = g_new0 (AgentExecGeminiReply, 1);

  reply->parts = g_ptr_array_new_with_free_func (part_free);
  reply->func = func;
  reply->user_data = user_data;
  return reply;
}

void
_agentexec_gemini_reply_free (AgentExecGeminiReply *reply)
{
  if (reply == NULL)
    return;
  g_ptr_array_unref (reply->parts);
  g_free (reply->block_reason);
  g_free (reply->block_message);
  g_free (reply->finish_reason);
  g_free (reply->finish_message);
  g_free (reply);
}

static Part *
last_part (AgentExecGeminiReply *reply)
{
  return reply->parts->len > 0 ? g_ptr_array_index (reply->parts, reply->parts->len - 1) : NULL;
}

static Part *
new_part (AgentExecGeminiReply *reply, PartKind kind)
{
  Part *part = g_new0 (Part, 1);

  part->kind = kind;
  part->text = g_string_new (NULL);
  g_ptr_array_add (reply->parts, part);
  return part;
}

static const char *
string_member2 (JsonObject *object, const char *camel, const char *snake)
{
  const char *found;
  JsonNode *node = get_member2 (object, camel, snake, &found);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

static JsonObject *
object_member2 (JsonObject *object, const char *camel, const char *snake)
{
  const char *found;
  JsonNode *node = get_member2 (object, camel, snake, &found);

  return node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

static void
add_result_part (AgentExecGeminiReply *reply, JsonObject *result)
{
  const char *outcome = string_member2 (result, "outcome", "outcome");
  const char *output = string_member2 (result, "output", "output");
  Part *part = last_part (reply);

  /* A result split over stream chunks continues the previous one. */
  if (part == NULL || part->kind != PART_RESULT)
    part = new_part (reply, PART_RESULT);
  if (outcome != NULL)
    {
      g_free (part->outcome);
      part->outcome = g_strdup (outcome);
    }
  if (output != NULL)
    {
      g_string_append (part->text, output);
      if (reply->func != NULL && *output != '\0')
        reply->func (g_strcmp0 (part->outcome, "OUTCOME_OK") != 0, output, strlen (output),
                     reply->user_data);
    }
}

static void
add_data_part (AgentExecGeminiReply *reply, JsonObject *blob)
{
  const char *mime = string_member2 (blob, "mimeType", "mime_type");
  const char *data = string_member2 (blob, "data", "data");
  const char *name = string_member2 (blob, "displayName", "display_name");
  Part *part = new_part (reply, PART_DATA);
  gsize len = 0;
  guchar *bytes = g_base64_decode (data != NULL ? data : "", &len);

  part->mime_type = g_strdup (mime != NULL ? mime : "application/octet-stream");
  part->display_name = g_strdup (name);
  part->data = g_bytes_new_take (bytes, len);
}

static void
add_part (AgentExecGeminiReply *reply, JsonObject *object)
{
  const char *text = string_member2 (object, "text", "text");
  JsonObject *child;
  Part *part;

  if (json_object_has_member (object, "thought") &&
      json_object_get_boolean_member_with_default (object, "thought", FALSE))
    return; /* the model's thinking, not output */
  if (text != NULL)
    {
      part = last_part (reply);
      if (part == NULL || part->kind != PART_TEXT)
        part = new_part (reply, PART_TEXT);
      g_string_append (part->text, text);
    }
  else if ((child = object_member2 (object, "executableCode", "executable_code")) != NULL)
    {
      const char *code = string_member2 (child, "code", "code");

      /* Code split over stream chunks continues the previous part. */
      part = last_part (reply);
      if (part == NULL || part->kind != PART_CODE)
        part = new_part (reply, PART_CODE);
      g_string_append (part->text, code != NULL ? code : "");
    }
  else if ((child = object_member2 (object, "codeExecutionResult", "code_execution_result")) !=
           NULL)
    add_result_part (reply, child);
  else if ((child = object_member2 (object, "inlineData", "inline_data")) != NULL)
    add_data_part (reply, child);
}

static void
add_candidate (AgentExecGeminiReply *reply, JsonObject *candidate)
{
  JsonObject *content = object_member2 (candidate, "content", "content");
  const char *finish = string_member2 (candidate, "finishReason", "finish_reason");
  const char *finish_message = string_member2 (candidate, "finishMessage", "finish_message");
  const char *found;
  JsonNode *parts = content != NULL ? get_member2 (content, "parts", "parts", &found) : NULL;

  if (finish != NULL)
    {
      g_free (reply->finish_reason);
      reply->finish_reason = g_strdup (finish);
    }
  if (finish_message != NULL)
    {
      g_free (reply->finish_message);
      reply->finish_message = g_strdup (finish_message);
    }
  if (parts == NULL || !JSON_NODE_HOLDS_ARRAY (parts))
    return;
  for (guint i = 0; i < json_array_get_length (json_node_get_array (parts)); i++)
    {
      JsonNode *node = json_array_get_element (json_node_get_array (parts), i);

      if (JSON_NODE_HOLDS_OBJECT (node))
        add_part (reply, json_node_get_object (node));
    }
}

static void
add_prompt_feedback (AgentExecGeminiReply *reply, JsonObject *feedback)
{
  const char *reason = string_member2 (feedback, "blockReason", "block_reason");
  const char *message = string_member2 (feedback, "blockReasonMessage", "block_reason_message");

  if (reason != NULL)
    {
      g_free (reply->block_reason);
      reply->block_reason = g_strdup (reason);
    }
  if (message != NULL)
    {
      g_free (reply->block_message);
      reply->block_message = g_strdup (message);
    }
}

static gboolean
add_response (AgentExecGeminiReply *reply, JsonNode *node, const char *model, GError **error)
{
  JsonObject *response, *feedback;
  const char *found;
  JsonNode *candidates;
  GError *service_error;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_PROTOCOL,
                   "Gemini answered with JSON that is not a GenerateContentResponse object; "
                   "check that base-url points at the Gemini API");
      return FALSE;
    }
  if ((service_error = _agentexec_gemini_service_error (node, model)) != NULL)
    {
      g_propagate_error (error, service_error);
      return FALSE;
    }
  response = json_node_get_object (node);
  if ((feedback = object_member2 (response, "promptFeedback", "prompt_feedback")) != NULL)
    add_prompt_feedback (reply, feedback);
  candidates = get_member2 (response, "candidates", "candidates", &found);
  if (candidates != NULL && JSON_NODE_HOLDS_ARRAY (candidates) &&
      json_array_get_length (json_node_get_array (candidates)) > 0)
    {
      JsonNode *first = json_array_get_element (json_node_get_array (candidates), 0);

      reply->n_candidates++;
      if (JSON_NODE_HOLDS_OBJECT (first))
        add_candidate (reply, json_node_get_object (first));
    }
  return TRUE;
}

/*
 * _agentexec_gemini_reply_add_json:
 *
 * Adds one GenerateContentResponse (a whole answer, or one chunk of a
 * stream; a JSON array of them is accepted too). An {"error": ...} document
 * becomes the matching GError.
 */
gboolean
_agentexec_gemini_reply_add_json (
    AgentExecGeminiReply *reply, const char *json, gsize len, const char *model, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) local_error = NULL;
  JsonNode *root;

  if (json == NULL || len == 0)
    json = "";
  if (!json_parser_load_from_data (parser, json, len, &local_error))
    {
      g_autofree char *start = _agentexec_gemini_short_text (json, MIN (len, 80));

      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_PROTOCOL,
                   "Gemini answered with malformed JSON (%s) starting “%s”; check that "
                   "base-url points at the Gemini API",
                   local_error->message, start);
      return FALSE;
    }
  root = json_parser_get_root (parser);
  if (root != NULL && JSON_NODE_HOLDS_ARRAY (root))
    {
      JsonArray *array = json_node_get_array (root);

      for (guint i = 0; i < json_array_get_length (array); i++)
        if (!add_response (reply, json_array_get_element (array, i), model, error))
          return FALSE;
      return TRUE;
    }
  if (root == NULL)
    {
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_PROTOCOL,
                   "Gemini answered with an empty body; check that base-url points at the "
                   "Gemini API");
      return FALSE;
    }
  return add_response (reply, root, model, error);
}

/* The result */

static gboolean
code_matches (const char *sent, const char *ran)
{
  g_autofree char *a = g_strstrip (g_strdup (sent));
  g_autofree char *b = g_strstrip (g_strdup (ran));

  return g_str_equal (a, b);
}

/* The result of the execution of @code: the result after the executable
 * code equal to @code, else the first result. */
static Part *
pick_result (AgentExecGeminiReply *reply, const char *code)
{
  Part *first = NULL;
  gboolean after_match = FALSE;

  for (guint i = 0; i < reply->parts->len; i++)
    {
      Part *part = g_ptr_array_index (reply->parts, i);

      if (part->kind == PART_CODE)
        after_match = code_matches (code, part->text->str);
      else if (part->kind == PART_RESULT)
        {
          if (after_match)
            return part;
          if (first == NULL)
            first = part;
        }
    }
  return first;
}

static const char *
reply_text (AgentExecGeminiReply *reply)
{
  for (guint i = 0; i < reply->parts->len; i++)
    {
      Part *part = g_ptr_array_index (reply->parts, i);

      if (part->kind == PART_TEXT && part->text->len > 0)
        return part->text->str;
    }
  return NULL;
}

static void
set_no_result_error (AgentExecGeminiReply *reply, GError **error)
{
  const char *text = reply_text (reply);
  g_autofree char *said = text != NULL ? _agentexec_gemini_short_text (text, strlen (text)) : NULL;

  if (reply->block_reason != NULL)
    g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_INVALID_INPUT,
                 "Gemini blocked the request (blockReason %s)%s%s; change the code or its "
                 "comments, or use another backend",
                 reply->block_reason, reply->block_message != NULL ? ": " : "",
                 reply->block_message != NULL ? reply->block_message : "");
  else if (reply->n_candidates == 0)
    g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_PROTOCOL,
                 "Gemini answered without any candidate and without a reason; try again, or "
                 "check that base-url points at the Gemini API");
  else if (reply->finish_reason != NULL && !g_str_equal (reply->finish_reason, "STOP"))
    g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_FAILED,
                 "Gemini stopped before running the code (finishReason %s)%s%s; change the "
                 "code, or use another backend",
                 reply->finish_reason, reply->finish_message != NULL ? ": " : "",
                 reply->finish_message != NULL ? reply->finish_message : "");
  else
    g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_FAILED,
                 "The model answered without running the code%s%s; try again, or use "
                 "another backend",
                 said != NULL ? ": " : "", said != NULL ? said : "");
}

static void
set_stream (AgentExecExecutionResult *result,
            gboolean is_stderr,
            const char *text,
            guint64 max_bytes)
{
  gsize len = strlen (text);
  gboolean truncated = len > max_bytes;

  if (truncated)
    len = g_utf8_find_prev_char (text, text + max_bytes + 1) - text;
  if (is_stderr)
    {
      _agentexec_execution_result_set_stderr (result, text, len);
      _agentexec_execution_result_set_truncated (
          result, agentexec_execution_result_get_stdout_truncated (result), truncated);
    }
  else
    {
      _agentexec_execution_result_set_stdout (result, text, len);
      _agentexec_execution_result_set_truncated (
          result, truncated, agentexec_execution_result_get_stderr_truncated (result));
    }
}

static void
apply_outcome (AgentExecExecutionResult *result, Part *part, guint64 max_bytes)
{
  const char *outcome = part->outcome != NULL ? part->outcome : "OUTCOME_UNSPECIFIED";
  const char *output = part->text->str;

  if (g_str_equal (outcome, "OUTCOME_OK"))
    {
      set_stream (result, FALSE, output, max_bytes);
      _agentexec_execution_result_set_outcome (result, AGENTEXEC_OUTCOME_OK);
      _agentexec_execution_result_set_exit_code (result, 0);
    }
  else if (g_str_equal (outcome, "OUTCOME_FAILED"))
    {
      set_stream (result, TRUE,
                  *output != '\0' ? output : "The code failed (OUTCOME_FAILED) without output",
                  max_bytes);
      _agentexec_execution_result_set_outcome (result, AGENTEXEC_OUTCOME_FAILED);
      _agentexec_execution_result_set_exit_code (result, 1);
    }
  else if (g_str_equal (outcome, "OUTCOME_DEADLINE_EXCEEDED"))
    {
      set_stream (result, FALSE, output, max_bytes);
      set_stream (result, TRUE,
                  "Gemini stopped the code at its time limit "
                  "(OUTCOME_DEADLINE_EXCEEDED)",
                  max_bytes);
      _agentexec_execution_result_set_outcome (result, AGENTEXEC_OUTCOME_DEADLINE_EXCEEDED);
      _agentexec_execution_result_set_deadline_ms (result, AGENTEXEC_GEMINI_CODE_TIME_LIMIT_MS);
      _agentexec_execution_result_set_exit_code (result, -1);
    }
  else
    {
      g_autofree char *message = g_strdup_printf ("Gemini reported the outcome %s%s%s", outcome,
                                                  *output != '\0' ? ": " : "", output);

      set_stream (result, TRUE, message, max_bytes);
      _agentexec_execution_result_set_outcome (result, AGENTEXEC_OUTCOME_ERROR);
      _agentexec_execution_result_set_exit_code (result, -1);
    }
}

/* ADK's name for an unnamed image: the local time and the MIME subtype,
 * "20250102_030405.png"; a second file of the same name gets "_2". */
static char *
output_file_name (Part *part, GHashTable *taken)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *stamp = g_date_time_format (now, "%Y%m%d_%H%M%S");
  const char *slash = strchr (part->mime_type, '/');
  g_autofree char *subtype = g_strdup (slash != NULL && slash[1] != '\0' ? slash + 1 : "bin");
  g_autofree char *base = NULL;
  char *name;

  g_strdelimit (subtype, "/\\;+ ", '_');
  if (part->display_name != NULL && _agentexec_file_validate_name (part->display_name, NULL))
    base = g_strdup (part->display_name);
  else
    base = g_strdup_printf ("%s.%s", stamp, subtype);
  name = g_strdup (base);
  for (guint n = 2; g_hash_table_contains (taken, name); n++)
    {
      const char *dot = strrchr (base, '.');
      g_autofree char *stem = dot != NULL ? g_strndup (base, dot - base) : g_strdup (base);

      g_free (name);
      name = g_strdup_printf ("%s_%u%s", stem, n, dot != NULL ? dot : "");
    }
  g_hash_table_add (taken, g_strdup (name));
  return name;
}

static void
add_output_files (AgentExecGeminiReply *reply, AgentExecExecutionResult *result)
{
  g_autoptr (GHashTable) taken = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  for (guint i = 0; i < reply->parts->len; i++)
    {
      Part *part = g_ptr_array_index (reply->parts, i);
      g_autofree char *name = NULL;
      g_autoptr (AgentExecFile) file = NULL;

      if (part->kind != PART_DATA)
        continue;
      name = output_file_name (part, taken);
      file = agentexec_file_new (name, part->mime_type, part->data);
      _agentexec_execution_result_add_output_file (result, file);
    }
}

/*
 * _agentexec_gemini_reply_to_result:
 *
 * The ExecutionResult of the run of @code: the outcome and output of its
 * codeExecutionResult (OUTCOME_OK: stdout; OUTCOME_FAILED: FAILED with the
 * output as stderr; OUTCOME_DEADLINE_EXCEEDED), and every inlineData part
 * as an output file. Without a result: a GError saying why (prompt
 * blocked, no candidates, stopped for safety, the model did not run it).
 */
AgentExecExecutionResult *
_agentexec_gemini_reply_to_result (AgentExecGeminiReply *reply,
                                   const char *code,
                                   guint64 max_output_bytes,
                                   GError **error)
{
  g_autoptr (AgentExecExecutionResult) result = NULL;
  Part *part = pick_result (reply, code);

  if (part == NULL)
    {
      set_no_result_error (reply, error);
      return NULL;
    }
  result = _agentexec_execution_result_new_empty ();
  apply_outcome (result, part, max_output_bytes);
  add_output_files (reply, result);
  return g_steal_pointer (&result);
}
