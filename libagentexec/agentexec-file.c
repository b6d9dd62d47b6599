/* agentexec-file.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "agentexec-enums.h"
#include "agentexec-file-private.h"

/**
 * AgentExecFile:
 *
 * A named file with a MIME type and binary content: an input file written into
 * the work directory before code runs, or an output file the code created.
 *
 * In JSON it has the shape Google ADK keeps in session state:
 * `{"name": ..., "content": <base64>, "mime_type": ...}`.
 *
 * ```c
 * g_autoptr(GBytes) data = g_bytes_new_static ("a,b\n1,2\n", 8);
 * g_autoptr(AgentExecFile) file = agentexec_file_new ("data.csv", "text/csv", data);
 * ```
 *
 * Since: 1.0
 */

struct _AgentExecFile
{
  GObject parent_instance;
  char *name;
  char *mime_type;
  GBytes *content;
};

G_DEFINE_FINAL_TYPE (AgentExecFile, agentexec_file, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_NAME,
  PROP_MIME_TYPE,
  PROP_CONTENT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
agentexec_file_constructed (GObject *object)
{
  AgentExecFile *self = AGENTEXEC_FILE (object);

  G_OBJECT_CLASS (agentexec_file_parent_class)->constructed (object);

  if (self->name == NULL)
    self->name = g_strdup ("");
  if (self->content == NULL)
    self->content = g_bytes_new (NULL, 0);
  if (self->mime_type == NULL || self->mime_type[0] == '\0')
    {
      gsize len;
      const guint8 *data = g_bytes_get_data (self->content, &len);

      g_free (self->mime_type);
      self->mime_type = _agentexec_file_guess_mime (self->name, data, len);
    }
}

static void
agentexec_file_finalize (GObject *object)
{
  AgentExecFile *self = AGENTEXEC_FILE (object);

  g_clear_pointer (&self->name, g_free);
  g_clear_pointer (&self->mime_type, g_free);
  g_clear_pointer (&self->content, g_bytes_unref);

  G_OBJECT_CLASS (agentexec_file_parent_class)->finalize (object);
}

static void
agentexec_file_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  AgentExecFile *self = AGENTEXEC_FILE (object);

  switch (prop_id)
    {
    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;
    case PROP_MIME_TYPE:
      g_value_set_string (value, self->mime_type);
      break;
    case PROP_CONTENT:
      g_value_set_boxed (value, self->content);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
agentexec_file_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  AgentExecFile *self = AGENTEXEC_FILE (object);

  switch (prop_id)
    {
    case PROP_NAME:
      self->name = g_value_dup_string (value);
      break;
    case PROP_MIME_TYPE:
      self->mime_type = g_value_dup_string (value);
      break;
    case PROP_CONTENT:
      self->content = g_value_dup_boxed (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
agentexec_file_class_init (AgentExecFileClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = agentexec_file_constructed;
  object_class->finalize = agentexec_file_finalize;
  object_class->get_property = agentexec_file_get_property;
  object_class->set_property = agentexec_file_set_property;

  /**
   * AgentExecFile:name:
   *
   * The file name, relative to the work directory (`data.csv`, `out/plot.png`).
   *
   * Since: 1.0
   */
  properties[PROP_NAME] =
      g_param_spec_string ("name", NULL, NULL, NULL,
                           (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  /**
   * AgentExecFile:mime-type:
   *
   * The MIME type; guessed from the name and content when not given.
   *
   * Since: 1.0
   */
  properties[PROP_MIME_TYPE] =
      g_param_spec_string ("mime-type", NULL, NULL, NULL,
                           (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  /**
   * AgentExecFile:content:
   *
   * The file content; binary safe.
   *
   * Since: 1.0
   */
  properties[PROP_CONTENT] =
      g_param_spec_boxed ("content", NULL, NULL, G_TYPE_BYTES,
                          (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
agentexec_file_init (AgentExecFile *self)
{
}

/**
 * agentexec_file_new:
 * @name: the file name
 * @mime_type: (nullable): the MIME type, or %NULL to guess it
 * @content: the content
 *
 * Creates a file.
 *
 * Returns: (transfer full): a new [class@AgentExec.File]
 *
 * Since: 1.0
 */
AgentExecFile *
agentexec_file_new (const char *name, const char *mime_type, GBytes *content)
{
  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (content != NULL, NULL);

  return g_object_new (AGENTEXEC_TYPE_FILE, "name", name, "mime-type", mime_type, "content",
                       content, NULL);
}

static const char *
member_string (JsonObject *object, const char *member)
{
  JsonNode *node;

  if (!json_object_has_member (object, member))
    return NULL;
  node = json_object_get_member (object, member);
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

/**
 * agentexec_file_new_from_json:
 * @node: a JSON object `{"name", "content" (base64), "mime_type"}`
 * @error: return location for a #GError
 *
 * Reads a file in the shape ADK keeps in `_code_executor_input_files`.
 * `mimeType` is accepted as well as `mime_type`.
 *
 * Returns: (transfer full): a new [class@AgentExec.File], or %NULL with
 *   %AGENTEXEC_ERROR_INVALID_INPUT
 *
 * Since: 1.0
 */
AgentExecFile *
agentexec_file_new_from_json (JsonNode *node, GError **error)
{
  JsonObject *object;
  const char *name, *content, *mime_type;
  g_autoptr (GBytes) bytes = NULL;
  guchar *data;
  gsize len = 0;

  g_return_val_if_fail (node != NULL, NULL);

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error_literal (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_INVALID_INPUT,
                           "A file must be a JSON object with \"name\", \"content\" "
                           "(base64) and \"mime_type\"");
      return NULL;
    }
  object = json_node_get_object (node);
  name = member_string (object, "name");
  content = member_string (object, "content");
  mime_type = member_string (object, "mime_type");
  if (mime_type == NULL)
    mime_type = member_string (object, "mimeType");

  if (name == NULL || name[0] == '\0')
    {
      g_set_error_literal (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_INVALID_INPUT,
                           "A file object has no \"name\" string: give each file a name");
      return NULL;
    }
  if (content == NULL)
    content = "";
  data = g_base64_decode (content, &len);
  bytes = g_bytes_new_take (data, len);

  return agentexec_file_new (name, mime_type, bytes);
}

/**
 * agentexec_file_get_name:
 * @self: a [class@AgentExec.File]
 *
 * Gets the [property@AgentExec.File:name] property.
 *
 * Gets the [property@AgentExec.File:name] property.
 *
 * Returns: (transfer none): the file name
 *
 * Since: 1.0
 */
const char *
agentexec_file_get_name (AgentExecFile *self)
{
  g_return_val_if_fail (AGENTEXEC_IS_FILE (self), NULL);

  return self->name;
}

/**
 * agentexec_file_get_mime_type:
 * @self: a [class@AgentExec.File]
 *
 * Gets the [property@AgentExec.File:mime-type] property.
 *
 * Gets the [property@AgentExec.File:mime-type] property.
 *
 * Returns: (transfer none): the MIME type
 *
 * Since: 1.0
 */
const char *
agentexec_file_get_mime_type (AgentExecFile *self)
{
  g_return_val_if_fail (AGENTEXEC_IS_FILE (self), NULL);

  return self->mime_type;
}

/**
 * agentexec_file_get_content:
 * @self: a [class@AgentExec.File]
 *
 * Gets the [property@AgentExec.File:content] property.
 *
 * Gets the [property@AgentExec.File:content] property.
 *
 * Returns: (transfer none): the content
 *
 * Since: 1.0
 */
GBytes *
agentexec_file_get_content (AgentExecFile *self)
{
  g_return_val_if_fail (AGENTEXEC_IS_FILE (self), NULL);

  return self->content;
}

/**
 * agentexec_file_to_json:
 * @self: a [class@AgentExec.File]
 *
 * Serialises @self as ADK does: `{"name", "content" (base64), "mime_type"}`.
 *
 * Returns: (transfer full): a JSON object node
 *
 * Since: 1.0
 */
JsonNode *
agentexec_file_to_json (AgentExecFile *self)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autofree char *encoded = NULL;
  gsize len;
  const guint8 *data;

  g_return_val_if_fail (AGENTEXEC_IS_FILE (self), NULL);

  data = g_bytes_get_data (self->content, &len);
  encoded = g_base64_encode (data, len);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "name");
  json_builder_add_string_value (builder, self->name);
  json_builder_set_member_name (builder, "content");
  json_builder_add_string_value (builder, encoded);
  json_builder_set_member_name (builder, "mime_type");
  json_builder_add_string_value (builder, self->mime_type);
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

/**
 * agentexec_file_equal:
 * @self: a [class@AgentExec.File]
 * @other: another [class@AgentExec.File]
 *
 * Compares two files by name, MIME type and content.
 *
 * Returns: %TRUE when both files have the same name, MIME type and content
 *
 * Since: 1.0
 */
gboolean
agentexec_file_equal (AgentExecFile *self, AgentExecFile *other)
{
  g_return_val_if_fail (AGENTEXEC_IS_FILE (self), FALSE);
  g_return_val_if_fail (AGENTEXEC_IS_FILE (other), FALSE);

  return g_str_equal (self->name, other->name) && g_str_equal (self->mime_type, other->mime_type) &&
         g_bytes_equal (self->content, other->content);
}

/*
 * _agentexec_file_validate_name:
 *
 * A file name must stay inside the work directory: relative, no `..` or empty
 * component, no NUL, no backslash tricks, at most 255 bytes a component.
 */
gboolean
_agentexec_file_validate_name (const char *name, GError **error)
{
  g_auto (GStrv) parts = NULL;

  if (name == NULL || name[0] == '\0')
    {
      g_set_error_literal (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_INVALID_INPUT,
                           "A file has an empty name: give every input file a relative name");
      return FALSE;
    }
  if (name[0] == '/' || strchr (name, '\\') != NULL || !g_utf8_validate (name, -1, NULL))
    {
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_INVALID_INPUT,
                   "File name “%s” is not a relative UTF-8 path inside the work "
                   "directory: use a name like “data/input.csv”",
                   name);
      return FALSE;
    }
  parts = g_strsplit (name, "/", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    {
      if (g_str_equal (parts[i], "..") || g_str_equal (parts[i], ".") || parts[i][0] == '\0' ||
          strlen (parts[i]) > 255)
        {
          g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_INVALID_INPUT,
                       "File name “%s” has a “%s” component: names must stay inside "
                       "the work directory (no “..”, “.” or empty parts)",
                       name, parts[i]);
          return FALSE;
        }
    }
  return TRUE;
}

static const struct
{
  const char *suffix;
  const char *mime_type;
} mime_table[] = {
  { ".csv", "text/csv" },          { ".tsv", "text/tab-separated-values" },
  { ".txt", "text/plain" },        { ".md", "text/markdown" },
  { ".json", "application/json" }, { ".html", "text/html" },
  { ".htm", "text/html" },         { ".xml", "application/xml" },
  { ".py", "text/x-python" },      { ".js", "text/javascript" },
  { ".sh", "application/x-sh" },   { ".png", "image/png" },
  { ".jpg", "image/jpeg" },        { ".jpeg", "image/jpeg" },
  { ".gif", "image/gif" },         { ".svg", "image/svg+xml" },
  { ".webp", "image/webp" },       { ".pdf", "application/pdf" },
  { ".zip", "application/zip" },   { ".gz", "application/gzip" },
  { ".tar", "application/x-tar" }, { ".parquet", "application/vnd.apache.parquet" },
  { ".yaml", "application/yaml" }, { ".yml", "application/yaml" },
};

/*
 * _agentexec_file_guess_mime:
 *
 * MIME type from the name's extension, else from magic bytes, else text/plain
 * for valid UTF-8 and application/octet-stream otherwise.
 */
char *
_agentexec_file_guess_mime (const char *name, const guint8 *data, gsize len)
{
  g_autofree char *lower = g_ascii_strdown (name != NULL ? name : "", -1);

  for (guint i = 0; i < G_N_ELEMENTS (mime_table); i++)
    if (g_str_has_suffix (lower, mime_table[i].suffix))
      return g_strdup (mime_table[i].mime_type);

  if (data == NULL || len == 0)
    return g_strdup ("text/plain");
  if (len >= 8 && memcmp (data, "\x89PNG\r\n\x1a\n", 8) == 0)
    return g_strdup ("image/png");
  if (len >= 3 && memcmp (data, "\xff\xd8\xff", 3) == 0)
    return g_strdup ("image/jpeg");
  if (len >= 5 && memcmp (data, "%PDF-", 5) == 0)
    return g_strdup ("application/pdf");
  if (memchr (data, '\0', len) == NULL && g_utf8_validate ((const char *) data, len, NULL))
    return g_strdup ("text/plain");
  return g_strdup ("application/octet-stream");
}
