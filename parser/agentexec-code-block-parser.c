/* agentexec-code-block-parser.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "agentexec-code-block-parser-private.h"
#include "agentexec-code-block-private.h"
#include "agentexec-fence-scanner-private.h"
#include "agentexec-language-table-private.h"

/**
 * AgentExecCodeBlockParser:
 *
 * Finds the code blocks of a model's reply, in one of two modes.
 *
 * CommonMark mode ([ctor@AgentExec.CodeBlockParser.new]) returns exactly the
 * fenced code blocks a CommonMark 0.31 renderer shows: in block quotes and
 * list items too, never a "fence" inside an HTML block or indented four
 * spaces, with the info string's escapes and entity references resolved and
 * the code's container indentation removed. A block still open when the
 * text ends is returned with [property@AgentExec.CodeBlock:closed] %FALSE.
 *
 * Delimiter mode ([ctor@AgentExec.CodeBlockParser.new_with_delimiters])
 * follows Google ADK: literal (start, end) delimiter pairs, the earliest
 * start delimiter (ties in list order), then the first end delimiter of any
 * pair after it. The language comes from the start delimiter
 * (`` ```tool_code `` gives `python`).
 *
 * Both modes run in linear time. For text that arrives in pieces, see
 * [class@AgentExec.CodeBlockStream].
 *
 * ```c
 * g_autoptr(AgentExecCodeBlockParser) parser = agentexec_code_block_parser_new ();
 * g_autoptr(GPtrArray) blocks =
 *   agentexec_code_block_parser_extract_code_blocks (parser, reply);
 * const char * const python[] = { "python", NULL };
 * g_autoptr(GPtrArray) runnable =
 *   agentexec_code_block_parser_filter_by_language (blocks, python);
 * ```
 *
 * Since: 1.0
 */

struct _AgentExecCodeBlockParser
{
  GObject parent_instance;
  GStrv delimiters; /* NULL in CommonMark mode */
  GStrv infos;      /* per pair */
  GStrv languages;  /* per pair */
};

G_DEFINE_FINAL_TYPE (AgentExecCodeBlockParser, agentexec_code_block_parser, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_DELIMITERS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static const char *const adk_delimiters[] = { "```tool_code\n", "\n```", "```python\n", "\n```",
                                              NULL };

static gboolean
delimiters_valid (const char *const *pairs)
{
  guint n = 0;

  for (; pairs[n] != NULL; n++)
    if (pairs[n][0] == '\0')
      return FALSE;
  return n > 0 && n % 2 == 0;
}

static void
set_delimiters (AgentExecCodeBlockParser *self, const char *const *pairs)
{
  guint n_pairs;

  if (pairs == NULL)
    return;
  if (!delimiters_valid (pairs))
    {
      g_critical ("AgentExecCodeBlockParser:delimiters needs start and end delimiters in "
                  "pairs, none of them empty; using ADK's pairs instead");
      pairs = adk_delimiters;
    }

  self->delimiters = g_strdupv ((char **) pairs);
  n_pairs = g_strv_length (self->delimiters) / 2;
  self->infos = g_new0 (char *, n_pairs + 1);
  self->languages = g_new0 (char *, n_pairs + 1);
  for (guint i = 0; i < n_pairs; i++)
    _agentexec_delimiter_pair_describe (pairs[2 * i], &self->infos[i], &self->languages[i]);
}

static void
agentexec_code_block_parser_finalize (GObject *object)
{
  AgentExecCodeBlockParser *self = (AgentExecCodeBlockParser *) object;

  g_strfreev (self->delimiters);
  g_strfreev (self->infos);
  g_strfreev (self->languages);

  G_OBJECT_CLASS (agentexec_code_block_parser_parent_class)->finalize (object);
}

static void
agentexec_code_block_parser_get_property (GObject *object,
                                          guint prop_id,
                                          GValue *value,
                                          GParamSpec *pspec)
{
  AgentExecCodeBlockParser *self = AGENTEXEC_CODE_BLOCK_PARSER (object);

  switch (prop_id)
    {
    case PROP_DELIMITERS:
      g_value_set_boxed (value, self->delimiters);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
agentexec_code_block_parser_set_property (GObject *object,
                                          guint prop_id,
                                          const GValue *value,
                                          GParamSpec *pspec)
{
  AgentExecCodeBlockParser *self = AGENTEXEC_CODE_BLOCK_PARSER (object);

  switch (prop_id)
    {
    case PROP_DELIMITERS:
      set_delimiters (self, g_value_get_boxed (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
agentexec_code_block_parser_class_init (AgentExecCodeBlockParserClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = agentexec_code_block_parser_finalize;
  object_class->get_property = agentexec_code_block_parser_get_property;
  object_class->set_property = agentexec_code_block_parser_set_property;

  /**
   * AgentExecCodeBlockParser:delimiters:
   *
   * The delimiter pairs, flat (start, end, start, end…), or %NULL for
   * CommonMark mode.
   *
   * Since: 1.0
   */
  properties[PROP_DELIMITERS] =
      g_param_spec_boxed ("delimiters", NULL, NULL, G_TYPE_STRV,
                          (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
agentexec_code_block_parser_init (AgentExecCodeBlockParser *self)
{
}

/**
 * agentexec_code_block_parser_new:
 *
 * Creates a parser in CommonMark mode.
 *
 * Returns: (transfer full): a new #AgentExecCodeBlockParser
 *
 * Since: 1.0
 */
AgentExecCodeBlockParser *
agentexec_code_block_parser_new (void)
{
  return g_object_new (AGENTEXEC_TYPE_CODE_BLOCK_PARSER, NULL);
}

/**
 * agentexec_code_block_parser_new_with_delimiters:
 * @pairs: (nullable) (array zero-terminated=1): delimiter pairs, flat:
 *   start, end, start, end…; %NULL for ADK's pairs
 *   (`` ```tool_code\n ``, `` \n``` ``) and (`` ```python\n ``, `` \n``` ``)
 *
 * Creates a parser in delimiter-pair mode. Delimiters are literal text (not
 * regular expressions) and must not be empty.
 *
 * Returns: (transfer full): a new #AgentExecCodeBlockParser
 *
 * Since: 1.0
 */
AgentExecCodeBlockParser *
agentexec_code_block_parser_new_with_delimiters (const char *const *pairs)
{
  if (pairs == NULL)
    pairs = adk_delimiters;
  g_return_val_if_fail (delimiters_valid (pairs), NULL);

  return g_object_new (AGENTEXEC_TYPE_CODE_BLOCK_PARSER, "delimiters", pairs, NULL);
}

/**
 * agentexec_code_block_parser_get_commonmark:
 * @self: a #AgentExecCodeBlockParser
 *
 * Tells whether @self is in CommonMark mode (created with
 * [ctor@AgentExec.CodeBlockParser.new]) or in delimiter-pair mode (created
 * with [ctor@AgentExec.CodeBlockParser.new_with_delimiters]).
 *
 * Returns: whether @self is in CommonMark mode
 *
 * Since: 1.0
 */
gboolean
agentexec_code_block_parser_get_commonmark (AgentExecCodeBlockParser *self)
{
  g_return_val_if_fail (AGENTEXEC_IS_CODE_BLOCK_PARSER (self), FALSE);

  return self->delimiters == NULL;
}

/**
 * agentexec_code_block_parser_get_delimiters:
 * @self: a #AgentExecCodeBlockParser
 *
 * Gets [property@AgentExec.CodeBlockParser:delimiters].
 *
 * Returns: (nullable) (transfer none) (array zero-terminated=1): the
 *   delimiter pairs, flat, or %NULL in CommonMark mode
 *
 * Since: 1.0
 */
const char *const *
agentexec_code_block_parser_get_delimiters (AgentExecCodeBlockParser *self)
{
  g_return_val_if_fail (AGENTEXEC_IS_CODE_BLOCK_PARSER (self), NULL);

  return (const char *const *) self->delimiters;
}

AgentExecCodeBlock *
_agentexec_code_block_parser_make_delimited (AgentExecCodeBlockParser *self,
                                             const char *text,
                                             const AgentExecDelimiterMatch *match)
{
  AgentExecRawBlock raw;

  _agentexec_delimiter_match_to_block (text, match, self->infos[match->pair],
                                       self->languages[match->pair], &raw);
  return _agentexec_code_block_new_take (&raw);
}

static void
collect_block (AgentExecRawBlock *block, gpointer user_data)
{
  g_ptr_array_add (user_data, _agentexec_code_block_new_take (block));
}

static GPtrArray *
extract_delimited (AgentExecCodeBlockParser *self, const char *text, gsize len, gboolean first_only)
{
  GPtrArray *blocks = g_ptr_array_new_with_free_func (g_object_unref);
  AgentExecDelimiterScanner scanner;
  AgentExecDelimiterMatch match;

  _agentexec_delimiter_scanner_init (&scanner, (const char *const *) self->delimiters);
  while (_agentexec_delimiter_scanner_next (&scanner, text, len, TRUE, &match) == DELIMITER_FOUND)
    {
      if (match.code_end == match.code_start)
        {
          if (first_only)
            break;
          continue;
        }
      g_ptr_array_add (blocks, _agentexec_code_block_parser_make_delimited (self, text, &match));
      if (first_only)
        break;
    }
  return blocks;
}

/**
 * agentexec_code_block_parser_extract_code_blocks_full:
 * @self: a #AgentExecCodeBlockParser
 * @text: (array length=len) (element-type guint8): the text, any bytes
 * @len: the length of @text, or -1 when it is NUL-terminated
 *
 * Like [method@AgentExec.CodeBlockParser.extract_code_blocks] for text that
 * may hold NUL bytes (CommonMark turns them into U+FFFD in code and info).
 * Offsets count bytes of @text.
 *
 * Returns: (transfer container) (element-type AgentExecCodeBlock): the
 *   blocks, in document order
 *
 * Since: 1.0
 */
GPtrArray *
agentexec_code_block_parser_extract_code_blocks_full (AgentExecCodeBlockParser *self,
                                                      const char *text,
                                                      gssize len)
{
  g_autoptr (AgentExecFenceScanner) scanner = NULL;
  GPtrArray *blocks;

  g_return_val_if_fail (AGENTEXEC_IS_CODE_BLOCK_PARSER (self), NULL);
  g_return_val_if_fail (text != NULL || len == 0, NULL);

  if (len < 0)
    len = strlen (text);
  if (self->delimiters != NULL)
    return extract_delimited (self, text, len, FALSE);

  blocks = g_ptr_array_new_with_free_func (g_object_unref);
  scanner = _agentexec_fence_scanner_new (collect_block, blocks);
  _agentexec_fence_scanner_feed (scanner, text, len);
  _agentexec_fence_scanner_finish (scanner);
  return blocks;
}

/**
 * agentexec_code_block_parser_extract_code_blocks:
 * @self: a #AgentExecCodeBlockParser
 * @text: the text, usually a model's reply
 *
 * Finds the code blocks of @text. In CommonMark mode: every fenced code
 * block, closed or not. In delimiter mode: every non-empty delimited block,
 * each search starting after the previous block.
 *
 * Returns: (transfer container) (element-type AgentExecCodeBlock): the
 *   blocks, in document order
 *
 * Since: 1.0
 */
GPtrArray *
agentexec_code_block_parser_extract_code_blocks (AgentExecCodeBlockParser *self, const char *text)
{
  g_return_val_if_fail (AGENTEXEC_IS_CODE_BLOCK_PARSER (self), NULL);
  g_return_val_if_fail (text != NULL, NULL);

  return agentexec_code_block_parser_extract_code_blocks_full (self, text, -1);
}

static void
keep_first (AgentExecRawBlock *block, gpointer user_data)
{
  AgentExecCodeBlock **first = user_data;

  if (*first == NULL)
    *first = _agentexec_code_block_new_take (block);
}

/**
 * agentexec_code_block_parser_extract_first_code_block:
 * @self: a #AgentExecCodeBlockParser
 * @text: the text, usually a model's reply
 *
 * Finds the first code block of @text.
 *
 * In delimiter mode this is exactly ADK's `extract_code_and_truncate_content`:
 * the earliest start delimiter (ties in list order), then the first end
 * delimiter of any pair after it; %NULL when there is none or when the code
 * between them is empty. The block's start is the offset of the start
 * delimiter (ADK keeps `text[0:start]` as the reply's prefix) and its end
 * the offset just past the end delimiter.
 *
 * In CommonMark mode it is the first fenced code block, closed or not.
 *
 * Returns: (nullable) (transfer full): the block, or %NULL
 *
 * Since: 1.0
 */
AgentExecCodeBlock *
agentexec_code_block_parser_extract_first_code_block (AgentExecCodeBlockParser *self,
                                                      const char *text)
{
  g_autoptr (AgentExecFenceScanner) scanner = NULL;
  AgentExecCodeBlock *first = NULL;

  g_return_val_if_fail (AGENTEXEC_IS_CODE_BLOCK_PARSER (self), NULL);
  g_return_val_if_fail (text != NULL, NULL);

  if (self->delimiters != NULL)
    {
      g_autoptr (GPtrArray) blocks = extract_delimited (self, text, strlen (text), TRUE);

      return blocks->len > 0 ? g_object_ref (g_ptr_array_index (blocks, 0)) : NULL;
    }

  scanner = _agentexec_fence_scanner_new (keep_first, &first);
  _agentexec_fence_scanner_feed (scanner, text, strlen (text));
  _agentexec_fence_scanner_finish (scanner);
  return first;
}

/**
 * agentexec_code_block_parser_filter_by_language:
 * @blocks: (element-type AgentExecCodeBlock): blocks
 * @languages: (array zero-terminated=1): the languages to keep
 *
 * Keeps the blocks whose language is one of @languages. Names compare
 * case-insensitively with aliases resolved through the language registry
 * (`py`, `Python3` and `tool_code` all match `python`); names the registry
 * does not know compare literally, ignoring case.
 *
 * Returns: (transfer container) (element-type AgentExecCodeBlock): the
 *   matching blocks, in their order
 *
 * Since: 1.0
 */
GPtrArray *
agentexec_code_block_parser_filter_by_language (GPtrArray *blocks, const char *const *languages)
{
  GPtrArray *kept;

  g_return_val_if_fail (blocks != NULL, NULL);
  g_return_val_if_fail (languages != NULL, NULL);

  kept = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < blocks->len; i++)
    {
      AgentExecCodeBlock *block = g_ptr_array_index (blocks, i);

      g_return_val_if_fail (AGENTEXEC_IS_CODE_BLOCK (block), kept);
      if (_agentexec_language_wanted (agentexec_code_block_get_language (block), languages))
        g_ptr_array_add (kept, g_object_ref (block));
    }
  return kept;
}
