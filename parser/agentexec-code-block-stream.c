/* agentexec-code-block-stream.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "agentexec-code-block-parser-private.h"
#include "agentexec-code-block-private.h"
#include "agentexec-code-block-stream.h"
#include "agentexec-fence-scanner-private.h"

/**
 * AgentExecCodeBlockStream:
 *
 * Finds code blocks while a model's reply streams in. Feed the chunks as
 * they arrive; [signal@AgentExec.CodeBlockStream::block] fires for each
 * block as soon as it is complete (in CommonMark mode: once its closing
 * fence line has ended, or once a later line ends its container), and
 * [method@AgentExec.CodeBlockStream.finish] delivers a block still open at
 * the end. The blocks, their order and every field are the same as
 * [method@AgentExec.CodeBlockParser.extract_code_blocks] gives for the
 * whole text, however the text is split.
 *
 * ```python
 * stream = AgentExec.CodeBlockStream.new(AgentExec.CodeBlockParser.new())
 * stream.connect("block", lambda s, block: print(block.props.code))
 * for chunk in reply_chunks:
 *     stream.feed(chunk)
 * stream.finish()
 * ```
 *
 * Chunks may split lines, CRLF pairs and UTF-8 sequences anywhere. The
 * stream does its work in the thread that calls feed, and emits the signal
 * there.
 *
 * Since: 1.0
 */

struct _AgentExecCodeBlockStream
{
  GObject parent_instance;
  AgentExecCodeBlockParser *parser;
  AgentExecFenceScanner *scanner;       /* CommonMark mode */
  AgentExecDelimiterScanner delimiters; /* delimiter mode */
  GString *text;                        /* delimiter mode: all text so far */
  GPtrArray *blocks;
  gboolean finished;
  gboolean busy;
};

G_DEFINE_FINAL_TYPE (AgentExecCodeBlockStream, agentexec_code_block_stream, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_PARSER,
  N_PROPS
};

enum
{
  BLOCK,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void
deliver (AgentExecCodeBlockStream *self, AgentExecCodeBlock *block)
{
  g_ptr_array_add (self->blocks, block);
  g_signal_emit (self, signals[BLOCK], 0, block);
}

static void
deliver_raw (AgentExecRawBlock *raw, gpointer user_data)
{
  deliver (user_data, _agentexec_code_block_new_take (raw));
}

static void
agentexec_code_block_stream_constructed (GObject *object)
{
  AgentExecCodeBlockStream *self = (AgentExecCodeBlockStream *) object;

  G_OBJECT_CLASS (agentexec_code_block_stream_parent_class)->constructed (object);

  if (self->parser == NULL)
    self->parser = agentexec_code_block_parser_new ();
  if (agentexec_code_block_parser_get_commonmark (self->parser))
    self->scanner = _agentexec_fence_scanner_new (deliver_raw, self);
  else
    {
      self->text = g_string_new (NULL);
      _agentexec_delimiter_scanner_init (&self->delimiters,
                                         agentexec_code_block_parser_get_delimiters (self->parser));
    }
}

static void
agentexec_code_block_stream_dispose (GObject *object)
{
  AgentExecCodeBlockStream *self = (AgentExecCodeBlockStream *) object;

  g_clear_object (&self->parser);
  g_clear_pointer (&self->blocks, g_ptr_array_unref);

  G_OBJECT_CLASS (agentexec_code_block_stream_parent_class)->dispose (object);
}

static void
agentexec_code_block_stream_finalize (GObject *object)
{
  AgentExecCodeBlockStream *self = (AgentExecCodeBlockStream *) object;

  g_clear_pointer (&self->scanner, _agentexec_fence_scanner_free);
  if (self->text != NULL)
    g_string_free (self->text, TRUE);

  G_OBJECT_CLASS (agentexec_code_block_stream_parent_class)->finalize (object);
}

static void
agentexec_code_block_stream_get_property (GObject *object,
                                          guint prop_id,
                                          GValue *value,
                                          GParamSpec *pspec)
{
  AgentExecCodeBlockStream *self = AGENTEXEC_CODE_BLOCK_STREAM (object);

  switch (prop_id)
    {
    case PROP_PARSER:
      g_value_set_object (value, self->parser);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
agentexec_code_block_stream_set_property (GObject *object,
                                          guint prop_id,
                                          const GValue *value,
                                          GParamSpec *pspec)
{
  AgentExecCodeBlockStream *self = AGENTEXEC_CODE_BLOCK_STREAM (object);

  switch (prop_id)
    {
    case PROP_PARSER:
      self->parser = g_value_dup_object (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
agentexec_code_block_stream_class_init (AgentExecCodeBlockStreamClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = agentexec_code_block_stream_constructed;
  object_class->dispose = agentexec_code_block_stream_dispose;
  object_class->finalize = agentexec_code_block_stream_finalize;
  object_class->get_property = agentexec_code_block_stream_get_property;
  object_class->set_property = agentexec_code_block_stream_set_property;

  /**
   * AgentExecCodeBlockStream:parser:
   *
   * The parser whose mode (CommonMark or delimiter pairs) the stream uses;
   * a CommonMark parser when none is given.
   *
   * Since: 1.0
   */
  properties[PROP_PARSER] =
      g_param_spec_object ("parser", NULL, NULL, AGENTEXEC_TYPE_CODE_BLOCK_PARSER,
                           (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * AgentExecCodeBlockStream::block:
   * @self: the stream
   * @block: the block just completed
   *
   * Emitted for each code block, in document order, as soon as it is
   * complete, from the call to feed or finish that completed it.
   *
   * Since: 1.0
   */
  signals[BLOCK] = g_signal_new ("block", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                 NULL, NULL, G_TYPE_NONE, 1, AGENTEXEC_TYPE_CODE_BLOCK);
}

static void
agentexec_code_block_stream_init (AgentExecCodeBlockStream *self)
{
  self->blocks = g_ptr_array_new_with_free_func (g_object_unref);
}

/**
 * agentexec_code_block_stream_new:
 * @parser: (nullable): the parser whose mode to use, %NULL for CommonMark
 *
 * Creates a stream.
 *
 * Returns: (transfer full): a new #AgentExecCodeBlockStream
 *
 * Since: 1.0
 */
AgentExecCodeBlockStream *
agentexec_code_block_stream_new (AgentExecCodeBlockParser *parser)
{
  g_return_val_if_fail (parser == NULL || AGENTEXEC_IS_CODE_BLOCK_PARSER (parser), NULL);

  return g_object_new (AGENTEXEC_TYPE_CODE_BLOCK_STREAM, "parser", parser, NULL);
}

/**
 * agentexec_code_block_stream_get_parser:
 * @self: a #AgentExecCodeBlockStream
 *
 * Gets [property@AgentExec.CodeBlockStream:parser].
 *
 * Returns: (transfer none): the parser
 *
 * Since: 1.0
 */
AgentExecCodeBlockParser *
agentexec_code_block_stream_get_parser (AgentExecCodeBlockStream *self)
{
  g_return_val_if_fail (AGENTEXEC_IS_CODE_BLOCK_STREAM (self), NULL);

  return self->parser;
}

static void
scan_delimited (AgentExecCodeBlockStream *self, gboolean eof)
{
  AgentExecDelimiterMatch match;

  while (_agentexec_delimiter_scanner_next (&self->delimiters, self->text->str, self->text->len,
                                            eof, &match) == DELIMITER_FOUND)
    if (match.code_end > match.code_start)
      deliver (self,
               _agentexec_code_block_parser_make_delimited (self->parser, self->text->str, &match));
}

/**
 * agentexec_code_block_stream_feed_full:
 * @self: a #AgentExecCodeBlockStream
 * @data: (array length=len) (element-type guint8): the next bytes
 * @len: the length of @data, or -1 when it is NUL-terminated
 *
 * Adds the next bytes of the text, which may hold NUL bytes, and emits
 * [signal@AgentExec.CodeBlockStream::block] for each block they complete.
 *
 * Since: 1.0
 */
void
agentexec_code_block_stream_feed_full (AgentExecCodeBlockStream *self, const char *data, gssize len)
{
  g_return_if_fail (AGENTEXEC_IS_CODE_BLOCK_STREAM (self));
  g_return_if_fail (data != NULL || len == 0);
  g_return_if_fail (!self->finished);
  g_return_if_fail (!self->busy);

  if (len < 0)
    len = strlen (data);

  g_object_ref (self);
  self->busy = TRUE;
  if (self->scanner != NULL)
    _agentexec_fence_scanner_feed (self->scanner, data, len);
  else
    {
      g_string_append_len (self->text, data, len);
      scan_delimited (self, FALSE);
    }
  self->busy = FALSE;
  g_object_unref (self);
}

/**
 * agentexec_code_block_stream_feed:
 * @self: a #AgentExecCodeBlockStream
 * @chunk: the next piece of text
 *
 * Adds the next piece of the text and emits
 * [signal@AgentExec.CodeBlockStream::block] for each block it completes.
 * Not to be called from a handler of that signal, nor after
 * [method@AgentExec.CodeBlockStream.finish].
 *
 * Since: 1.0
 */
void
agentexec_code_block_stream_feed (AgentExecCodeBlockStream *self, const char *chunk)
{
  g_return_if_fail (chunk != NULL);

  agentexec_code_block_stream_feed_full (self, chunk, -1);
}

/**
 * agentexec_code_block_stream_finish:
 * @self: a #AgentExecCodeBlockStream
 *
 * Ends the text: emits [signal@AgentExec.CodeBlockStream::block] for what
 * its end completes (in CommonMark mode a block still open, with
 * [property@AgentExec.CodeBlock:closed] %FALSE).
 *
 * Since: 1.0
 */
void
agentexec_code_block_stream_finish (AgentExecCodeBlockStream *self)
{
  g_return_if_fail (AGENTEXEC_IS_CODE_BLOCK_STREAM (self));
  g_return_if_fail (!self->finished);
  g_return_if_fail (!self->busy);

  g_object_ref (self);
  self->busy = TRUE;
  self->finished = TRUE;
  if (self->scanner != NULL)
    _agentexec_fence_scanner_finish (self->scanner);
  else
    scan_delimited (self, TRUE);
  self->busy = FALSE;
  g_object_unref (self);
}

/**
 * agentexec_code_block_stream_is_finished:
 * @self: a #AgentExecCodeBlockStream
 *
 * Tells whether [method@AgentExec.CodeBlockStream.finish] was called: no more
 * text can be fed.
 *
 * Returns: whether [method@AgentExec.CodeBlockStream.finish] was called
 *
 * Since: 1.0
 */
gboolean
agentexec_code_block_stream_is_finished (AgentExecCodeBlockStream *self)
{
  g_return_val_if_fail (AGENTEXEC_IS_CODE_BLOCK_STREAM (self), FALSE);

  return self->finished;
}

/**
 * agentexec_code_block_stream_get_blocks:
 * @self: a #AgentExecCodeBlockStream
 *
 * Gets the blocks emitted so far.
 *
 * Returns: (transfer container) (element-type AgentExecCodeBlock): the
 *   blocks, in document order
 *
 * Since: 1.0
 */
GPtrArray *
agentexec_code_block_stream_get_blocks (AgentExecCodeBlockStream *self)
{
  GPtrArray *copy;

  g_return_val_if_fail (AGENTEXEC_IS_CODE_BLOCK_STREAM (self), NULL);

  copy = g_ptr_array_new_full (self->blocks->len, g_object_unref);
  for (guint i = 0; i < self->blocks->len; i++)
    g_ptr_array_add (copy, g_object_ref (g_ptr_array_index (self->blocks, i)));
  return copy;
}
