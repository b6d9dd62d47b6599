/* agentexec-driver.c: argv, requests and replies of the interpreter drivers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>
#include <json-glib/json-glib.h>

#include "agentexec-driver-private.h"
#include "agentexec-enums.h"
#include "agentexec-file-private.h"

/* A frame's length prefix: at most this many digits (1 GB). */
#define MAX_LENGTH_DIGITS 10

struct _AgentExecDriverReader
{
  GByteArray *buffer;
  char *token;
  gsize token_len;
  gboolean sentinel_only;
  gboolean in_frame; /* token seen, reading the frame after it */
};

gboolean
_agentexec_driver_supports (const char *language)
{
  return _agentexec_driver_get_source (language) != NULL;
}

/*
 * _agentexec_driver_get_source:
 * @language: a canonical language name
 *
 * Returns: (nullable): the driver's source for @language, or %NULL when the
 *   language has no persistent driver
 */
const char *
_agentexec_driver_get_source (const char *language)
{
  if (g_strcmp0 (language, "python") == 0)
    return _agentexec_driver_python_source;
  if (g_strcmp0 (language, "javascript") == 0)
    return _agentexec_driver_node_source;
  if (g_strcmp0 (language, "bash") == 0)
    return _agentexec_driver_bash_source;
  return NULL;
}

/*
 * _agentexec_driver_build_argv:
 * @language: a canonical language name
 * @interpreter: the interpreter (path or name for the PATH lookup)
 * @in_fd: the descriptor the driver reads requests from
 * @out_fd: the descriptor the driver writes replies to (1: one channel)
 * @token: (nullable): the sentinel of the one-channel layout
 *
 * Returns: the command line that starts a persistent session, or %NULL with
 *   UNSUPPORTED_LANGUAGE when @language has no driver
 */
GStrv
_agentexec_driver_build_argv (const char *language,
                              const char *interpreter,
                              int in_fd,
                              int out_fd,
                              const char *token,
                              GError **error)
{
  const char *source = _agentexec_driver_get_source (language);
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  char number[16];

  if (source == NULL)
    {
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_UNSUPPORTED_LANGUAGE,
                   "There is no persistent driver for %s: stateful sessions support "
                   "python, javascript and bash; run it with stateful off",
                   language);
      return NULL;
    }
  g_return_val_if_fail (out_fd != 1 || token != NULL, NULL);

  g_strv_builder_add (builder, interpreter);
  g_strv_builder_add (builder, g_str_equal (language, "python")       ? "-c"
                               : g_str_equal (language, "javascript") ? "-e"
                                                                      : "-c");
  g_strv_builder_add (builder, source);
  if (g_str_equal (language, "bash"))
    g_strv_builder_add (builder, "agentexec-driver");
  g_strv_builder_add (builder, "serve");
  g_snprintf (number, sizeof number, "%d", in_fd);
  g_strv_builder_add (builder, number);
  g_snprintf (number, sizeof number, "%d", out_fd);
  g_strv_builder_add (builder, number);
  if (token != NULL)
    g_strv_builder_add (builder, token);
  return g_strv_builder_end (builder);
}

/*
 * _agentexec_driver_build_run_argv:
 *
 * The command line that runs a Python file once through the driver (so that
 * Matplotlib figures are saved and the traceback starts in the user's code).
 */
GStrv
_agentexec_driver_build_run_argv (const char *interpreter,
                                  const char *script_path,
                                  const char *const *args)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();

  g_strv_builder_add_many (builder, interpreter, "-c", _agentexec_driver_python_source, "run",
                           script_path, NULL);
  if (args != NULL)
    g_strv_builder_addv (builder, (const char **) args);
  return g_strv_builder_end (builder);
}

/*
 * _agentexec_driver_new_token:
 *
 * Returns: a random sentinel for the one-channel layout: 128 bits, printable,
 *   that no program prints by accident
 */
char *
_agentexec_driver_new_token (void)
{
  return g_strdup_printf ("\x1e"
                          "agentexec-%08x%08x%08x%08x\x1f",
                          g_random_int (), g_random_int (), g_random_int (), g_random_int ());
}

/*
 * _agentexec_driver_encode_request:
 * @code: the code (may hold NUL bytes when @code_len is given)
 * @code_len: the length of @code, or -1 when NUL-terminated
 *
 * Returns: the request frame for @language's driver
 */
GBytes *
_agentexec_driver_encode_request (const char *language, const char *code, gssize code_len)
{
  g_autoptr (GString) frame = g_string_new (NULL);
  g_autofree char *payload = NULL;
  gsize payload_len;

  if (code_len < 0)
    code_len = strlen (code);

  if (g_strcmp0 (language, "bash") == 0)
    {
      g_string_append_printf (frame, "%" G_GSIZE_FORMAT "\n", (gsize) code_len);
      g_string_append_len (frame, code, code_len);
      return g_string_free_to_bytes (g_steal_pointer (&frame));
    }
  else
    {
      g_autoptr (JsonBuilder) builder = json_builder_new ();
      g_autoptr (JsonGenerator) generator = json_generator_new ();
      g_autoptr (JsonNode) root = NULL;
      g_autofree char *text = g_utf8_make_valid (code, code_len);

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "code");
      json_builder_add_string_value (builder, text);
      json_builder_end_object (builder);
      root = json_builder_get_root (builder);
      json_generator_set_root (generator, root);
      payload = json_generator_to_data (generator, &payload_len);
    }
  g_string_append_printf (frame, "%" G_GSIZE_FORMAT "\n", payload_len);
  g_string_append_len (frame, payload, payload_len);
  return g_string_free_to_bytes (g_steal_pointer (&frame));
}

static void
append_json_string (GString *out, const char *text)
{
  g_autoptr (JsonNode) node = json_node_init_string (json_node_alloc (), text);
  g_autofree char *json = json_to_string (node, FALSE);

  g_string_append (out, json);
}

/*
 * _agentexec_driver_encode_request_with_files:
 * @files: (element-type AgentExecFile) (nullable): files to write into the
 *   working directory before the code runs (names already validated)
 * @report_files: with 0 or more, ask for the created, changed and deleted
 *   files of the run, up to that many bytes; -1 not to
 *
 * Returns: a Python request frame; the contents follow the JSON payload as
 *   they are ({"name", "size"} in "files"), so that neither side copies them
 *   through base64 and JSON
 */
GBytes *
_agentexec_driver_encode_request_with_files (const char *code,
                                             GPtrArray *files,
                                             gint64 report_files)
{
  g_autoptr (GString) payload = g_string_new ("{\"code\":");
  g_autofree char *text = g_utf8_make_valid (code, -1);
  g_autoptr (GString) frame = NULL;
  gsize attached = 0;

  append_json_string (payload, text);
  if (files != NULL && files->len > 0)
    {
      g_string_append (payload, ",\"files\":[");
      for (guint i = 0; i < files->len; i++)
        {
          AgentExecFile *file = g_ptr_array_index (files, i);

          g_string_append (payload, i > 0 ? ",{\"name\":" : "{\"name\":");
          append_json_string (payload, agentexec_file_get_name (file));
          g_string_append_printf (payload, ",\"size\":%" G_GSIZE_FORMAT "}",
                                  g_bytes_get_size (agentexec_file_get_content (file)));
          attached += g_bytes_get_size (agentexec_file_get_content (file));
        }
      g_string_append_c (payload, ']');
    }
  if (report_files >= 0)
    g_string_append_printf (payload, ",\"report_files\":%" G_GINT64_FORMAT, report_files);
  g_string_append_c (payload, '}');
  frame = g_string_sized_new (payload->len + attached + 16);
  g_string_append_printf (frame, "%" G_GSIZE_FORMAT "\n", payload->len);
  g_string_append_len (frame, payload->str, payload->len);
  for (guint i = 0; files != NULL && i < files->len; i++)
    {
      gsize len;
      const char *data =
          g_bytes_get_data (agentexec_file_get_content (g_ptr_array_index (files, i)), &len);

      g_string_append_len (frame, data, len);
    }
  return g_string_free_to_bytes (g_steal_pointer (&frame));
}

static GStrv
strv_member (JsonObject *object, const char *name)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  JsonArray *array;

  if (!json_object_has_member (object, name) ||
      !JSON_NODE_HOLDS_ARRAY (json_object_get_member (object, name)))
    return NULL;
  array = json_object_get_array_member (object, name);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *node = json_array_get_element (array, i);

      if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
        g_strv_builder_add (builder, json_node_get_string (node));
    }
  return g_strv_builder_end (builder);
}

static gint64
int_member (JsonObject *object, const char *name, gint64 fallback)
{
  JsonNode *node;

  if (!json_object_has_member (object, name))
    return fallback;
  node = json_object_get_member (object, name);
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64)
    return fallback;
  return json_node_get_int (node);
}

static char *
string_member (JsonObject *object, const char *name)
{
  JsonNode *node;

  if (!json_object_has_member (object, name))
    return NULL;
  node = json_object_get_member (object, name);
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return g_strdup (json_node_get_string (node));
}

/* The reply's "files": regular files with valid names (others are skipped,
 * as when the workspace is copied out); NULL when absent. */
static GPtrArray *
files_member (JsonObject *object)
{
  g_autoptr (GPtrArray) files = g_ptr_array_new_with_free_func (g_object_unref);
  JsonArray *array;

  if (!json_object_has_member (object, "files") ||
      !JSON_NODE_HOLDS_ARRAY (json_object_get_member (object, "files")))
    return NULL;
  array = json_object_get_array_member (object, "files");
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *node = json_array_get_element (array, i);
      JsonObject *item = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
      g_autofree char *name = item != NULL ? string_member (item, "name") : NULL;
      g_autofree char *data = item != NULL ? string_member (item, "data") : NULL;
      g_autofree char *mime = NULL;
      g_autoptr (GBytes) content = NULL;
      guchar *decoded;
      gsize len;

      if (name == NULL || data == NULL || !_agentexec_file_validate_name (name, NULL))
        continue;
      decoded = g_base64_decode_inplace (data, &len);
      content = g_bytes_new (decoded, len);
      mime = _agentexec_file_guess_mime (name, decoded, len);
      g_ptr_array_add (files, agentexec_file_new (name, mime, content));
    }
  return g_steal_pointer (&files);
}

gboolean
_agentexec_driver_reply_has_feature (AgentExecDriverReply *reply, const char *feature)
{
  return reply != NULL && reply->features != NULL &&
         g_strv_contains ((const char *const *) reply->features, feature);
}

/*
 * _agentexec_driver_reply_parse:
 *
 * Returns: the reply held by a frame's payload, or %NULL with PROTOCOL when
 *   it is not a JSON object
 */
AgentExecDriverReply *
_agentexec_driver_reply_parse (const char *payload, gsize len, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) local_error = NULL;
  AgentExecDriverReply *reply;
  JsonObject *object;

  if (!json_parser_load_from_data (parser, payload, len, &local_error) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_PROTOCOL,
                   "The interpreter driver sent a reply that is not a JSON object (%s): "
                   "the session is broken and will be restarted",
                   local_error != NULL ? local_error->message : "wrong type");
      return NULL;
    }
  object = json_node_get_object (json_parser_get_root (parser));
  reply = g_new0 (AgentExecDriverReply, 1);
  reply->ready =
      json_object_has_member (object, "ready") &&
      JSON_NODE_HOLDS_VALUE (json_object_get_member (object, "ready")) &&
      json_node_get_value_type (json_object_get_member (object, "ready")) == G_TYPE_BOOLEAN &&
      json_object_get_boolean_member (object, "ready");
  reply->exit_code = (int) int_member (object, "exit_code", -1);
  reply->pid = (int) int_member (object, "pid", 0);
  reply->language = string_member (object, "language");
  reply->version = string_member (object, "version");
  reply->figures = strv_member (object, "figures");
  reply->value = string_member (object, "value");
  reply->features = strv_member (object, "features");
  reply->input_error = string_member (object, "input_error");
  reply->files = files_member (object);
  if (reply->files != NULL)
    reply->deleted = strv_member (object, "deleted");
  reply->files_overflow =
      json_object_has_member (object, "files_overflow") &&
      JSON_NODE_HOLDS_VALUE (json_object_get_member (object, "files_overflow")) &&
      json_node_get_value_type (json_object_get_member (object, "files_overflow")) ==
          G_TYPE_BOOLEAN &&
      json_object_get_boolean_member (object, "files_overflow");
  return reply;
}

void
_agentexec_driver_reply_free (AgentExecDriverReply *reply)
{
  if (reply == NULL)
    return;
  g_free (reply->language);
  g_free (reply->version);
  g_strfreev (reply->figures);
  g_free (reply->value);
  g_strfreev (reply->features);
  g_free (reply->input_error);
  g_clear_pointer (&reply->files, g_ptr_array_unref);
  g_strfreev (reply->deleted);
  g_free (reply);
}

/*
 * _agentexec_driver_reader_new:
 * @token: (nullable): the sentinel of the one-channel layout, %NULL for the
 *   separate layout (everything fed is frames)
 * @sentinel_only: for the stderr stream of the one-channel layout: the token
 *   followed by a newline ends a run's output, no frame follows
 *
 * Returns: a reader that splits a driver's stream into the code's output
 *   (passthrough) and replies
 */
AgentExecDriverReader *
_agentexec_driver_reader_new (const char *token, gboolean sentinel_only)
{
  AgentExecDriverReader *reader = g_new0 (AgentExecDriverReader, 1);

  g_return_val_if_fail (!sentinel_only || token != NULL, NULL);

  reader->buffer = g_byte_array_new ();
  reader->token = g_strdup (token);
  reader->token_len = token != NULL ? strlen (token) : 0;
  reader->sentinel_only = sentinel_only;
  reader->in_frame = token == NULL;
  return reader;
}

void
_agentexec_driver_reader_free (AgentExecDriverReader *reader)
{
  if (reader == NULL)
    return;
  g_byte_array_unref (reader->buffer);
  g_free (reader->token);
  g_free (reader);
}

void
_agentexec_driver_reader_feed (AgentExecDriverReader *reader, const char *data, gsize len)
{
  g_byte_array_append (reader->buffer, (const guint8 *) data, len);
}

/* How many bytes at the end of @data could start the token. */
static gsize
partial_token_len (AgentExecDriverReader *reader, const guint8 *data, gsize len)
{
  for (gsize keep = MIN (len, reader->token_len - 1); keep > 0; keep--)
    if (memcmp (data + len - keep, reader->token, keep) == 0)
      return keep;
  return 0;
}

/* Outside a frame: passes the output before the token through. TRUE when
 * the token was found (and consumed). */
static gboolean
find_token (AgentExecDriverReader *reader, GByteArray *passthrough)
{
  const guint8 *data = reader->buffer->data;
  gsize len = reader->buffer->len;
  const guint8 *hit;
  gsize before;

  if (len == 0)
    return FALSE;
  hit = memmem (data, len, reader->token, reader->token_len);
  if (hit == NULL)
    {
      before = len - partial_token_len (reader, data, len);
      if (passthrough != NULL)
        g_byte_array_append (passthrough, data, before);
      g_byte_array_remove_range (reader->buffer, 0, before);
      return FALSE;
    }
  before = hit - data;
  if (passthrough != NULL)
    g_byte_array_append (passthrough, data, before);
  g_byte_array_remove_range (reader->buffer, 0, before + reader->token_len);
  return TRUE;
}

/* Inside a frame: TRUE with *reply when the whole frame is there. */
static gboolean
read_frame (AgentExecDriverReader *reader, AgentExecDriverReply **reply, GError **error)
{
  const guint8 *data = reader->buffer->data;
  const guint8 *nl;
  guint64 length = 0;
  gsize header;

  if (reader->buffer->len == 0)
    return FALSE;
  nl = memchr (data, '\n', MIN (reader->buffer->len, MAX_LENGTH_DIGITS + 1));
  if (nl == NULL)
    {
      if (reader->buffer->len > MAX_LENGTH_DIGITS)
        goto bad;
      return FALSE;
    }
  if (nl == data)
    goto bad;
  for (const guint8 *p = data; p < nl; p++)
    {
      if (!g_ascii_isdigit (*p))
        goto bad;
      length = length * 10 + (*p - '0');
    }
  header = nl - data + 1;
  if (reader->buffer->len - header < length)
    return FALSE;
  *reply = _agentexec_driver_reply_parse ((const char *) data + header, length, error);
  g_byte_array_remove_range (reader->buffer, 0, header + length);
  if (*reply == NULL)
    return FALSE;
  reader->in_frame = reader->token == NULL;
  return TRUE;

bad:
  g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_PROTOCOL,
               "The interpreter driver sent a frame without a valid length prefix "
               "(“%.*s”): the session is broken and will be restarted",
               (int) MIN (reader->buffer->len, 32), (const char *) data);
  return FALSE;
}

/*
 * _agentexec_driver_reader_next:
 * @passthrough: (nullable): receives the code's output found before the
 *   next reply (one-channel layout)
 * @reply: (out): the reply; %NULL for the sentinel of a sentinel-only reader
 *
 * Returns: %TRUE when a reply (or sentinel) was read; %FALSE when more bytes
 *   are needed, or with @error set (PROTOCOL) when the stream is broken
 */
gboolean
_agentexec_driver_reader_next (AgentExecDriverReader *reader,
                               GByteArray *passthrough,
                               AgentExecDriverReply **reply,
                               GError **error)
{
  *reply = NULL;
  if (!reader->in_frame)
    {
      if (!find_token (reader, passthrough))
        return FALSE;
      if (reader->sentinel_only)
        {
          if (reader->buffer->len > 0 && reader->buffer->data[0] == '\n')
            g_byte_array_remove_range (reader->buffer, 0, 1);
          return TRUE;
        }
      reader->in_frame = TRUE;
    }
  return read_frame (reader, reply, error);
}

/*
 * _agentexec_driver_reader_flush:
 *
 * At the end of the stream: moves what is still buffered outside a frame
 * (a partial token) to @passthrough.
 *
 * Returns: the number of bytes moved
 */
gsize
_agentexec_driver_reader_flush (AgentExecDriverReader *reader, GByteArray *passthrough)
{
  gsize len = reader->buffer->len;

  if (reader->in_frame && reader->token == NULL)
    return 0;
  if (passthrough != NULL)
    g_byte_array_append (passthrough, reader->buffer->data, len);
  g_byte_array_set_size (reader->buffer, 0);
  return len;
}
