/* agentexec-gemini.c: Gemini REST documents for the BuiltIn backend
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Which models can execute code, the request edit of process_llm_request
 * (camelCase and snake_case documents), what execute_code sends to
 * generateContent, and the error documents of the service
 * ({"error": {"code", "message", "status", "details"}}, Retry-After) as
 * GErrors. Reading the answer is agentexec-gemini-reply.c.
 */

#include "config.h"

#include <string.h>
#include <curl/curl.h>

#include "agentexec-enums.h"
#include "agentexec-execution-result-private.h"
#include "agentexec-file-private.h"
#include "agentexec-gemini-private.h"

#define MAX_MESSAGE_CHARS 400

/* Model names */

/* "models/x", "tunedModels/x" stay; a resource path keeps its last
 * "models/<name>" (projects/P/locations/L/publishers/google/models/<name>). */
static const char *
model_base_name (const char *model)
{
  const char *last = NULL;

  for (const char *p = strstr (model, "models/"); p != NULL; p = strstr (p + 1, "models/"))
    if (p == model || p[-1] == '/')
      last = p;
  return last != NULL ? last + strlen ("models/") : model;
}

static gboolean
version_major (const char *token, guint64 *major)
{
  static GRegex *regex = NULL;
  g_autoptr (GMatchInfo) match = NULL;
  g_autofree char *digits = NULL;

  if (g_once_init_enter (&regex))
    g_once_init_leave (&regex,
                       g_regex_new ("^v?([0-9]+)(\\.[0-9]+)*"
                                    "((a|b|c|rc|alpha|beta|pre|preview|post|dev)\\.?[0-9]*)?$",
                                    G_REGEX_CASELESS, 0, NULL));
  if (!g_regex_match (regex, token, 0, &match))
    return FALSE;
  digits = g_match_info_fetch (match, 1);
  *major = g_ascii_strtoull (digits, NULL, 10);
  return TRUE;
}

/*
 * _agentexec_gemini_model_is_2_or_above:
 *
 * ADK's rule: the name (after a "models/" or resource-path prefix) is
 * "gemini-<version>[-...]" with a version whose major number is 2 or more;
 * so "gemini-2.0-flash-exp", "models/gemini-2.5-pro-latest" and
 * "gemini-3-pro-preview" are, "gemini-1.5-pro-latest", "gemini-exp-1206" and
 * tuned models ("tunedModels/...", whose base model the name does not tell)
 * are not. Beyond ADK, the family aliases "gemini-flash-latest",
 * "gemini-flash-lite-latest" and "gemini-pro-latest" count (they only ever
 * named Gemini 2.5 and later).
 */
gboolean
_agentexec_gemini_model_is_2_or_above (const char *model)
{
  const char *name;
  g_autofree char *token = NULL;
  const char *dash;
  guint64 major;

  if (model == NULL || *model == '\0')
    return FALSE;
  name = model_base_name (model);
  if (!g_str_has_prefix (name, "gemini-"))
    return FALSE;
  if (g_str_equal (name, "gemini-flash-latest") || g_str_equal (name, "gemini-pro-latest") ||
      g_str_equal (name, "gemini-flash-lite-latest"))
    return TRUE;
  name += strlen ("gemini-");
  dash = strchr (name, '-');
  token = dash != NULL ? g_strndup (name, dash - name) : g_strdup (name);
  return version_major (token, &major) && major >= 2;
}

/* process_llm_request */

/* The spelling a document uses: snake_case when one of its field names (at
 * the top, in its config, tools or content parts) has an underscore and none
 * has an upper-case letter. */
static void
scan_names (JsonObject *object, gboolean *snake, gboolean *camel)
{
  g_autoptr (GList) names = NULL;

  if (object == NULL)
    return;
  names = json_object_get_members (object);
  for (GList *l = names; l != NULL; l = l->next)
    {
      const char *name = l->data;

      if (name[0] == '@' || name[0] == '$')
        continue;
      if (strchr (name, '_') != NULL)
        *snake = TRUE;
      for (const char *p = name; *p != '\0'; p++)
        if (g_ascii_isupper (*p))
          *camel = TRUE;
    }
}

static void
scan_array_objects (JsonNode *node, gboolean *snake, gboolean *camel)
{
  JsonArray *array;

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return;
  array = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *element = json_array_get_element (array, i);

      if (!JSON_NODE_HOLDS_OBJECT (element))
        continue;
      scan_names (json_node_get_object (element), snake, camel);
      if (json_object_has_member (json_node_get_object (element), "parts"))
        scan_array_objects (json_object_get_member (json_node_get_object (element), "parts"), snake,
                            camel);
    }
}

static gboolean
document_is_snake_case (JsonObject *request, JsonObject *config, JsonNode *tools)
{
  gboolean snake = FALSE, camel = FALSE;

  scan_names (request, &snake, &camel);
  scan_names (config, &snake, &camel);
  scan_array_objects (tools, &snake, &camel);
  if (json_object_has_member (request, "contents"))
    scan_array_objects (json_object_get_member (request, "contents"), &snake, &camel);
  return snake && !camel;
}

/* A missing member and a JSON null are the same to the request edit. */
static gboolean
has_non_null_member (JsonObject *object, const char *name)
{
  return json_object_has_member (object, name) &&
         !JSON_NODE_HOLDS_NULL (json_object_get_member (object, name));
}

/* Where the tools live: the REST body has them at the top (next to
 * generationConfig, systemInstruction...); the ADK/SDK request (model,
 * contents, config) has them in config. */
static gboolean
is_rest_document (JsonObject *request)
{
  static const char *const markers[] = { "tools",
                                         "generationConfig",
                                         "generation_config",
                                         "systemInstruction",
                                         "system_instruction",
                                         "safetySettings",
                                         "safety_settings",
                                         "toolConfig",
                                         "tool_config",
                                         "cachedContent",
                                         "cached_content",
                                         NULL };

  for (guint i = 0; markers[i] != NULL; i++)
    if (json_object_has_member (request, markers[i]))
      return TRUE;
  return FALSE;
}

static JsonObject *
tools_holder (JsonObject *request, GError **error)
{
  JsonNode *config;

  if (is_rest_document (request))
    return request;
  if (!has_non_null_member (request, "config"))
    json_object_set_object_member (request, "config", json_object_new ());
  config = json_object_get_member (request, "config");
  if (!JSON_NODE_HOLDS_OBJECT (config))
    {
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_INVALID_INPUT,
                   "The request's “config” member is not a JSON object; pass a "
                   "GenerateContentConfig object (or none)");
      return NULL;
    }
  return json_node_get_object (config);
}

static gboolean
tool_has_code_execution (JsonObject *tool)
{
  return json_object_has_member (tool, "codeExecution") ||
         json_object_has_member (tool, "code_execution");
}

/* Keeps the first code-execution tool; later duplicates lose the member (and
 * go when nothing else is left in them). Returns whether one was there. */
static gboolean
dedupe_code_execution (JsonArray *tools)
{
  gboolean seen = FALSE;

  for (guint i = 0; i < json_array_get_length (tools);)
    {
      JsonNode *node = json_array_get_element (tools, i);
      JsonObject *tool = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;

      if (tool == NULL || !tool_has_code_execution (tool) || !seen)
        {
          seen = seen || (tool != NULL && tool_has_code_execution (tool));
          i++;
          continue;
        }
      json_object_remove_member (tool, "codeExecution");
      json_object_remove_member (tool, "code_execution");
      if (json_object_get_size (tool) == 0)
        json_array_remove_element (tools, i);
      else
        i++;
    }
  return seen;
}

static char *
request_model (JsonObject *request, const char *fallback_model)
{
  JsonNode *node =
      json_object_has_member (request, "model") ? json_object_get_member (request, "model") : NULL;

  if (node != NULL && JSON_NODE_HOLDS_VALUE (node) &&
      json_node_get_value_type (node) == G_TYPE_STRING)
    return g_strdup (json_node_get_string (node));
  return g_strdup (fallback_model);
}

/*
 * _agentexec_gemini_add_code_execution_tool:
 *
 * ADK's BuiltInCodeExecutor.process_llm_request on a JSON request: for a
 * Gemini 2+ model (the request's "model", else @fallback_model when not
 * %NULL; a request with neither fails as ADK's does, naming model None), make the
 * tools hold exactly one code-execution tool, written as the document
 * spells its fields ({"codeExecution": {}} or {"code_execution": {}}).
 * Idempotent; everything else stays as it was.
 */
gboolean
_agentexec_gemini_add_code_execution_tool (JsonObject *request,
                                           const char *fallback_model,
                                           GError **error)
{
  g_autofree char *model = request_model (request, fallback_model);
  JsonObject *holder;
  JsonNode *tools;
  JsonObject *config = NULL;
  JsonNode *config_node;
  JsonObject *tool;

  if (!_agentexec_gemini_model_is_2_or_above (model))
    {
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_INVALID_INPUT,
                   "Gemini code execution tool is not supported for model %s",
                   model != NULL ? model : "None");
      return FALSE;
    }
  holder = tools_holder (request, error);
  if (holder == NULL)
    return FALSE;
  if (!has_non_null_member (holder, "tools"))
    json_object_set_array_member (holder, "tools", json_array_new ());
  tools = json_object_get_member (holder, "tools");
  if (!JSON_NODE_HOLDS_ARRAY (tools))
    {
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_INVALID_INPUT,
                   "The request's “tools” member is not a JSON array; pass a list of Tool "
                   "objects (or none)");
      return FALSE;
    }
  if (dedupe_code_execution (json_node_get_array (tools)))
    return TRUE;
  config_node = json_object_has_member (request, "config")
                    ? json_object_get_member (request, "config")
                    : NULL;
  if (config_node != NULL && JSON_NODE_HOLDS_OBJECT (config_node))
    config = json_node_get_object (config_node);
  tool = json_object_new ();
  json_object_set_object_member (
      tool, document_is_snake_case (request, config, tools) ? "code_execution" : "codeExecution",
      json_object_new ());
  json_array_add_object_element (json_node_get_array (tools), tool);
  return TRUE;
}

/* The request execute_code sends */

char *
_agentexec_gemini_model_url (const char *base_url,
                             const char *model,
                             gboolean streaming,
                             GError **error)
{
  g_autofree char *base = NULL;
  gsize base_len;

  if (model == NULL || *model == '\0' ||
      strspn (model, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/") !=
          strlen (model) ||
      strstr (model, "..") != NULL)
    {
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_INVALID_INPUT,
                   "The model name “%s” is not a Gemini model name; set the model property "
                   "to a name such as “gemini-2.5-flash”",
                   model != NULL ? model : "");
      return NULL;
    }
  base = g_strdup (base_url);
  base_len = strlen (base);
  while (base_len > 0 && base[base_len - 1] == '/')
    base[--base_len] = '\0';
  return g_strdup_printf ("%s/%s%s:%s", base, strchr (model, '/') != NULL ? "" : "models/", model,
                          streaming ? "streamGenerateContent?alt=sse" : "generateContent");
}

#define RUN_INSTRUCTION                                                                            \
  "You run code for a program. Use the code execution tool to run the Python code the "            \
  "user sends exactly once, verbatim: do not change, fix, complete or shorten it, and "            \
  "run no other code. Do not explain the code or its result."

static void
add_text_part (JsonBuilder *builder, const char *text)
{
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "text");
  json_builder_add_string_value (builder, text);
  json_builder_end_object (builder);
}

static void
add_file_parts (JsonBuilder *builder, GPtrArray *files)
{
  for (guint i = 0; files != NULL && i < files->len; i++)
    {
      AgentExecFile *file = g_ptr_array_index (files, i);
      GBytes *content = agentexec_file_get_content (file);
      g_autofree char *label =
          g_strdup_printf ("Input file `%s` (%s):", agentexec_file_get_name (file),
                           agentexec_file_get_mime_type (file));
      g_autofree char *data = NULL;
      gsize len = 0;
      const guint8 *bytes = content != NULL ? g_bytes_get_data (content, &len) : NULL;

      data = g_base64_encode (bytes, len);
      add_text_part (builder, label);
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "inlineData");
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "mimeType");
      json_builder_add_string_value (builder, agentexec_file_get_mime_type (file));
      json_builder_set_member_name (builder, "data");
      json_builder_add_string_value (builder, data);
      json_builder_end_object (builder);
      json_builder_end_object (builder);
    }
}

/*
 * _agentexec_gemini_build_request:
 *
 * The generateContent body: a system instruction to run the code verbatim,
 * one user turn with the code (and the input files as inline data), the
 * code-execution tool, and temperature 0.
 */
char *
_agentexec_gemini_build_request (const char *code, GPtrArray *files, gsize *len)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *prompt = g_strdup_printf ("Execute this Python code verbatim:\n\n"
                                             "```python\n%s\n```",
                                             code);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "systemInstruction");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "parts");
  json_builder_begin_array (builder);
  add_text_part (builder, RUN_INSTRUCTION);
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  json_builder_set_member_name (builder, "contents");
  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "role");
  json_builder_add_string_value (builder, "user");
  json_builder_set_member_name (builder, "parts");
  json_builder_begin_array (builder);
  add_file_parts (builder, files);
  add_text_part (builder, prompt);
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  json_builder_end_array (builder);

  json_builder_set_member_name (builder, "tools");
  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "codeExecution");
  json_builder_begin_object (builder);
  json_builder_end_object (builder);
  json_builder_end_object (builder);
  json_builder_end_array (builder);

  json_builder_set_member_name (builder, "generationConfig");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "temperature");
  json_builder_add_double_value (builder, 0.0);
  json_builder_end_object (builder);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  return json_generator_to_data (generator, len);
}

/* Errors */

char *
_agentexec_gemini_redact (const char *text, const char *secret)
{
  g_autoptr (GString) out = g_string_new (text);

  if (secret != NULL && *secret != '\0')
    g_string_replace (out, secret, "[redacted]", 0);
  return g_string_free (g_steal_pointer (&out), FALSE);
}

char *
_agentexec_gemini_short_text (const char *text, gsize len)
{
  g_autofree char *valid = _agentexec_text_from_bytes (text, len);
  g_autofree char *stripped = g_strstrip (g_strdup (valid));
  g_autofree char *head = NULL;

  if (g_utf8_strlen (stripped, -1) <= MAX_MESSAGE_CHARS)
    return g_steal_pointer (&stripped);
  head = g_utf8_substring (stripped, 0, MAX_MESSAGE_CHARS);
  return g_strconcat (head, "…", NULL);
}

/* "37s" or "1.5s" (a protobuf Duration) in milliseconds. */
static guint
duration_ms (const char *text)
{
  char *end = NULL;
  double seconds = g_ascii_strtod (text, &end);

  if (end == text || g_strcmp0 (end, "s") != 0 || seconds < 0 || seconds > 86400)
    return 0;
  return (guint) (seconds * 1000);
}

static guint
retry_after_header_ms (const char *value)
{
  guint64 seconds;
  time_t when;

  if (value == NULL || *value == '\0')
    return 0;
  if (g_ascii_string_to_unsigned (value, 10, 0, 86400, &seconds, NULL))
    return (guint) seconds * 1000;
  when = curl_getdate (value, NULL);
  if (when == -1 || when <= time (NULL))
    return 0;
  return (guint) MIN ((gint64) (when - time (NULL)), 86400) * 1000;
}

typedef struct
{
  char *status;
  char *message;
  char *reason;
  guint retry_delay_ms;
} ServiceError;

static void
service_error_clear (ServiceError *e)
{
  g_free (e->status);
  g_free (e->message);
  g_free (e->reason);
}

static void
read_error_details (JsonArray *details, ServiceError *e)
{
  for (guint i = 0; i < json_array_get_length (details); i++)
    {
      JsonNode *node = json_array_get_element (details, i);
      JsonObject *detail;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        continue;
      detail = json_node_get_object (node);
      if (json_object_has_member (detail, "reason") && e->reason == NULL)
        e->reason = g_strdup (json_object_get_string_member_with_default (detail, "reason", ""));
      if (json_object_has_member (detail, "retryDelay"))
        e->retry_delay_ms =
            duration_ms (json_object_get_string_member_with_default (detail, "retryDelay", ""));
    }
}

/* Reads {"error": {...}} (or a JSON array holding one, as some proxies send). */
static gboolean
parse_service_error (JsonNode *root, ServiceError *e)
{
  JsonObject *error;

  if (root != NULL && JSON_NODE_HOLDS_ARRAY (root) &&
      json_array_get_length (json_node_get_array (root)) > 0)
    root = json_array_get_element (json_node_get_array (root), 0);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root) ||
      !json_object_has_member (json_node_get_object (root), "error") ||
      !JSON_NODE_HOLDS_OBJECT (json_object_get_member (json_node_get_object (root), "error")))
    return FALSE;
  error = json_object_get_object_member (json_node_get_object (root), "error");
  e->status = g_strdup (json_object_get_string_member_with_default (error, "status", ""));
  e->message = g_strdup (json_object_get_string_member_with_default (error, "message", ""));
  if (json_object_has_member (error, "details") &&
      JSON_NODE_HOLDS_ARRAY (json_object_get_member (error, "details")))
    read_error_details (json_object_get_array_member (error, "details"), e);
  return TRUE;
}

static GError *
error_for_status (long status, ServiceError *e, const char *model, guint retry_after_ms)
{
  g_autofree char *what =
      g_strdup_printf ("HTTP %ld%s%s", status, e->status[0] != '\0' ? " " : "", e->status);
  g_autofree char *wait = retry_after_ms > 0
                              ? g_strdup_printf (" (the service asks to retry after %u s)",
                                                 (retry_after_ms + 999) / 1000)
                              : g_strdup ("");

  if (status == 401 || status == 403 || g_strcmp0 (e->reason, "API_KEY_INVALID") == 0)
    return g_error_new (AGENTEXEC_ERROR, AGENTEXEC_ERROR_PERMISSION_DENIED,
                        "Gemini refused the API key (%s): %s. Set a valid key in the api-key "
                        "property or in GEMINI_API_KEY (or GOOGLE_API_KEY), with access to the "
                        "Gemini API; retrying will not help",
                        what, e->message);
  if (status == 404)
    return g_error_new (AGENTEXEC_ERROR, AGENTEXEC_ERROR_FAILED,
                        "Gemini has no model “%s” for generateContent (%s): %s. Set the model "
                        "property to an available Gemini 2 or later model",
                        model, what, e->message);
  if (status == 400 || status == 413)
    return g_error_new (AGENTEXEC_ERROR, AGENTEXEC_ERROR_INVALID_INPUT,
                        "Gemini rejected the request (%s): %s. Check the code, its input files "
                        "and the model",
                        what, e->message);
  if (status == 429)
    return g_error_new (AGENTEXEC_ERROR, AGENTEXEC_ERROR_BACKEND_UNAVAILABLE,
                        "Gemini is limiting requests (%s): %s%s. Wait, raise max-retries, or "
                        "check the quota of the key",
                        what, e->message, wait);
  if (status >= 500)
    return g_error_new (AGENTEXEC_ERROR, AGENTEXEC_ERROR_BACKEND_UNAVAILABLE,
                        "Gemini failed to answer (%s): %s%s. Try again later or raise "
                        "max-retries",
                        what, e->message, wait);
  return g_error_new (AGENTEXEC_ERROR, AGENTEXEC_ERROR_PROTOCOL,
                      "Gemini answered with an unexpected status (%s): %s. Check base-url", what,
                      e->message);
}

/*
 * _agentexec_gemini_http_error:
 *
 * The GError for an HTTP error answer (or an {"error": ...} document with
 * its code as @status): 401/403 and invalid keys (PERMISSION_DENIED, never
 * retried), 404 (model), 400, 429 and
 * 5xx (BACKEND_UNAVAILABLE, so the base class retries them), with the
 * service's message. @retry_after_ms gets the wait the service asked for
 * (Retry-After header or RetryInfo.retryDelay), 0 if none.
 */
GError *
_agentexec_gemini_http_error (long status,
                              const char *body,
                              gsize len,
                              const char *model,
                              const char *retry_after_header,
                              guint *retry_after_ms)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  ServiceError e = { NULL, NULL, NULL, 0 };
  GError *error;
  guint wait_ms;

  if (body == NULL || !json_parser_load_from_data (parser, body, len, NULL) ||
      !parse_service_error (json_parser_get_root (parser), &e))
    {
      service_error_clear (&e);
      e.status = g_strdup ("");
      e.message = len > 0 ? _agentexec_gemini_short_text (body, len) : g_strdup ("no message");
    }
  wait_ms = MAX (retry_after_header_ms (retry_after_header), e.retry_delay_ms);
  if (status != 429 && status < 500)
    wait_ms = 0;
  if (retry_after_ms != NULL)
    *retry_after_ms = wait_ms;
  error = error_for_status (status, &e, model, wait_ms);
  service_error_clear (&e);
  return error;
}

/*
 * _agentexec_gemini_service_error:
 *
 * The GError of an {"error": {"code", "message", "status"}} document (as a
 * stream may carry), or NULL when @node is not one.
 */
GError *
_agentexec_gemini_service_error (JsonNode *node, const char *model)
{
  ServiceError e = { NULL, NULL, NULL, 0 };
  JsonObject *inner;
  GError *error;

  if (!parse_service_error (node, &e))
    {
      service_error_clear (&e);
      return NULL;
    }
  inner = json_object_get_object_member (json_node_get_object (node), "error");
  error =
      error_for_status (json_object_get_int_member_with_default (inner, "code", 500), &e, model, 0);
  service_error_clear (&e);
  return error;
}
