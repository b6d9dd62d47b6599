/* agentexec-code-block.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "agentexec-code-block-private.h"

/**
 * AgentExecCodeBlock:
 *
 * A code block found in a text by [class@AgentExec.CodeBlockParser]: its
 * code, the info string and language of its opening fence (or of its
 * delimiter), where it sits in the text and whether it was closed.
 *
 * ```c
 * g_autoptr(AgentExecCodeBlockParser) parser = agentexec_code_block_parser_new ();
 * g_autoptr(GPtrArray) blocks =
 *   agentexec_code_block_parser_extract_code_blocks (parser, reply);
 *
 * for (guint i = 0; i < blocks->len; i++)
 *   {
 *     AgentExecCodeBlock *block = g_ptr_array_index (blocks, i);
 *     g_print ("%s: %s", agentexec_code_block_get_language (block),
 *              agentexec_code_block_get_code (block));
 *   }
 * ```
 *
 * Since: 1.0
 */

struct _AgentExecCodeBlock
{
  GObject parent_instance;
  char *language;
  char *info;
  char *code;
  gsize code_length;
  guint64 start;
  guint64 end;
  gboolean closed;
};

G_DEFINE_FINAL_TYPE (AgentExecCodeBlock, agentexec_code_block, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_LANGUAGE,
  PROP_INFO,
  PROP_CODE,
  PROP_START,
  PROP_END,
  PROP_CLOSED,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* NULL fields (a NULL code given to the private constructor) read as "". */
static inline const char *
or_empty (const char *s)
{
  return s != NULL ? s : "";
}

static void
agentexec_code_block_finalize (GObject *object)
{
  AgentExecCodeBlock *self = (AgentExecCodeBlock *) object;

  g_free (self->language);
  g_free (self->info);
  g_free (self->code);

  G_OBJECT_CLASS (agentexec_code_block_parent_class)->finalize (object);
}

static void
agentexec_code_block_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  AgentExecCodeBlock *self = AGENTEXEC_CODE_BLOCK (object);

  switch (prop_id)
    {
    case PROP_LANGUAGE:
      g_value_set_string (value, or_empty (self->language));
      break;
    case PROP_INFO:
      g_value_set_string (value, or_empty (self->info));
      break;
    case PROP_CODE:
      g_value_set_string (value, or_empty (self->code));
      break;
    case PROP_START:
      g_value_set_uint64 (value, self->start);
      break;
    case PROP_END:
      g_value_set_uint64 (value, self->end);
      break;
    case PROP_CLOSED:
      g_value_set_boolean (value, self->closed);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
set_string (char **field, const GValue *value)
{
  const char *str = g_value_get_string (value);

  g_free (*field);
  *field = g_strdup (str != NULL ? str : "");
}

static void
agentexec_code_block_set_property (GObject *object,
                                   guint prop_id,
                                   const GValue *value,
                                   GParamSpec *pspec)
{
  AgentExecCodeBlock *self = AGENTEXEC_CODE_BLOCK (object);

  switch (prop_id)
    {
    case PROP_LANGUAGE:
      set_string (&self->language, value);
      break;
    case PROP_INFO:
      set_string (&self->info, value);
      break;
    case PROP_CODE:
      set_string (&self->code, value);
      self->code_length = strlen (self->code);
      break;
    case PROP_START:
      self->start = g_value_get_uint64 (value);
      break;
    case PROP_END:
      self->end = g_value_get_uint64 (value);
      break;
    case PROP_CLOSED:
      self->closed = g_value_get_boolean (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static GParamSpec *
string_property (const char *name)
{
  return g_param_spec_string (
      name, NULL, NULL, "", (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));
}

static GParamSpec *
offset_property (const char *name)
{
  return g_param_spec_uint64 (
      name, NULL, NULL, 0, G_MAXUINT64, 0,
      (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));
}

static void
agentexec_code_block_class_init (AgentExecCodeBlockClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = agentexec_code_block_finalize;
  object_class->get_property = agentexec_code_block_get_property;
  object_class->set_property = agentexec_code_block_set_property;

  /**
   * AgentExecCodeBlock:language:
   *
   * The language: in CommonMark mode the info string up to its first space
   * or tab, case kept; in delimiter mode the canonical name of the language
   * the start delimiter names (`tool_code` gives `python`). Empty when none.
   *
   * Since: 1.0
   */
  properties[PROP_LANGUAGE] = string_property ("language");

  /**
   * AgentExecCodeBlock:info:
   *
   * The info string of the opening fence: trimmed, with backslash escapes
   * and entity references resolved. In delimiter mode the word after the
   * fence characters of the start delimiter (`tool_code`).
   *
   * Since: 1.0
   */
  properties[PROP_INFO] = string_property ("info");

  /**
   * AgentExecCodeBlock:code:
   *
   * The literal content: container and fence indentation removed, line
   * endings normalised to `\n`, ending with the newline of its last line
   * (CommonMark mode). In delimiter mode the exact bytes between the
   * delimiters.
   *
   * Since: 1.0
   */
  properties[PROP_CODE] = string_property ("code");

  /**
   * AgentExecCodeBlock:start:
   *
   * Byte offset where the block starts: the start of the source line of the
   * opening fence (CommonMark mode) or of the start delimiter.
   *
   * Since: 1.0
   */
  properties[PROP_START] = offset_property ("start");

  /**
   * AgentExecCodeBlock:end:
   *
   * Byte offset just past the block: past the line ending of its last source
   * line (CommonMark mode) or past the end delimiter.
   *
   * Since: 1.0
   */
  properties[PROP_END] = offset_property ("end");

  /**
   * AgentExecCodeBlock:closed:
   *
   * Whether a closing fence (or end delimiter) ended the block; %FALSE when
   * the text, a list item or a block quote ended first.
   *
   * Since: 1.0
   */
  properties[PROP_CLOSED] =
      g_param_spec_boolean ("closed", NULL, NULL, FALSE,
                            (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
agentexec_code_block_init (AgentExecCodeBlock *self)
{
}

/* Steals @raw's strings. */
AgentExecCodeBlock *
_agentexec_code_block_new_take (AgentExecRawBlock *raw)
{
  AgentExecCodeBlock *self = g_object_new (AGENTEXEC_TYPE_CODE_BLOCK, NULL);

  /* Construct-only properties got their defaults during g_object_new (). */
  g_free (self->language);
  self->language = g_steal_pointer (&raw->language);
  g_free (self->info);
  self->info = g_steal_pointer (&raw->info);
  g_free (self->code);
  self->code = g_steal_pointer (&raw->code);
  self->code_length = raw->code_length;
  self->start = raw->start;
  self->end = raw->end;
  self->closed = !!raw->closed;

  return self;
}

gsize
_agentexec_code_block_get_code_length (AgentExecCodeBlock *self)
{
  return self->code_length;
}

/**
 * agentexec_code_block_get_language:
 * @self: a #AgentExecCodeBlock
 *
 * Gets [property@AgentExec.CodeBlock:language].
 *
 * Returns: the language, `""` when the block names none
 *
 * Since: 1.0
 */
const char *
agentexec_code_block_get_language (AgentExecCodeBlock *self)
{
  g_return_val_if_fail (AGENTEXEC_IS_CODE_BLOCK (self), NULL);

  return or_empty (self->language);
}

/**
 * agentexec_code_block_get_info:
 * @self: a #AgentExecCodeBlock
 *
 * Gets [property@AgentExec.CodeBlock:info].
 *
 * Returns: the info string, `""` when none
 *
 * Since: 1.0
 */
const char *
agentexec_code_block_get_info (AgentExecCodeBlock *self)
{
  g_return_val_if_fail (AGENTEXEC_IS_CODE_BLOCK (self), NULL);

  return or_empty (self->info);
}

/**
 * agentexec_code_block_get_code:
 * @self: a #AgentExecCodeBlock
 *
 * Gets [property@AgentExec.CodeBlock:code].
 *
 * Returns: the code
 *
 * Since: 1.0
 */
const char *
agentexec_code_block_get_code (AgentExecCodeBlock *self)
{
  g_return_val_if_fail (AGENTEXEC_IS_CODE_BLOCK (self), NULL);

  return or_empty (self->code);
}

/**
 * agentexec_code_block_get_start:
 * @self: a #AgentExecCodeBlock
 *
 * Gets [property@AgentExec.CodeBlock:start].
 *
 * Returns: the byte offset where the block starts
 *
 * Since: 1.0
 */
guint64
agentexec_code_block_get_start (AgentExecCodeBlock *self)
{
  g_return_val_if_fail (AGENTEXEC_IS_CODE_BLOCK (self), 0);

  return self->start;
}

/**
 * agentexec_code_block_get_end:
 * @self: a #AgentExecCodeBlock
 *
 * Gets [property@AgentExec.CodeBlock:end].
 *
 * Returns: the byte offset just past the block
 *
 * Since: 1.0
 */
guint64
agentexec_code_block_get_end (AgentExecCodeBlock *self)
{
  g_return_val_if_fail (AGENTEXEC_IS_CODE_BLOCK (self), 0);

  return self->end;
}

/**
 * agentexec_code_block_get_closed:
 * @self: a #AgentExecCodeBlock
 *
 * Gets [property@AgentExec.CodeBlock:closed].
 *
 * Returns: whether a closing fence or end delimiter ended the block
 *
 * Since: 1.0
 */
gboolean
agentexec_code_block_get_closed (AgentExecCodeBlock *self)
{
  g_return_val_if_fail (AGENTEXEC_IS_CODE_BLOCK (self), FALSE);

  return self->closed;
}
