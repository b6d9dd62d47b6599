/* fuzz-parser.c: libFuzzer target comparing the CommonMark-mode parser with
 * libcmark, and streamed parsing with whole-text parsing.
 *
 * Build and run: see README.md in this folder.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmark-diff.h"

static char *
describe (GPtrArray *blocks)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < blocks->len; i++)
    {
      AgentExecCodeBlock *b = g_ptr_array_index (blocks, i);

      g_string_append_printf (out, "[%s|%s|%" G_GUINT64_FORMAT "|%" G_GUINT64_FORMAT "|%d]",
                              agentexec_code_block_get_info (b), agentexec_code_block_get_code (b),
                              agentexec_code_block_get_start (b), agentexec_code_block_get_end (b),
                              agentexec_code_block_get_closed (b));
    }
  return g_string_free (out, FALSE);
}

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static AgentExecCodeBlockParser *parser;
  const char *text = (const char *) data;
  g_autoptr (GPtrArray) whole = NULL;
  g_autoptr (GPtrArray) streamed = NULL;
  g_autoptr (AgentExecCodeBlockStream) stream = NULL;
  g_autofree char *diff = NULL;
  g_autofree char *a = NULL;
  g_autofree char *b = NULL;
  gsize cut = size > 0 ? data[0] % (size + 1) : 0;

  if (parser == NULL)
    parser = agentexec_code_block_parser_new ();

  whole = agentexec_code_block_parser_extract_code_blocks_full (parser, text, size);
  if (!cmark_diff_explained (text, size))
    {
      diff = cmark_diff (text, size, whole);
      if (diff != NULL)
        {
          fprintf (stderr, "mismatch with cmark: %s\n", diff);
          abort ();
        }
    }

  /* Streamed in three pieces, the same blocks. */
  stream = agentexec_code_block_stream_new (parser);
  agentexec_code_block_stream_feed_full (stream, text, cut);
  agentexec_code_block_stream_feed_full (stream, text + cut, (size - cut) / 2);
  agentexec_code_block_stream_feed_full (stream, text + cut + (size - cut) / 2,
                                         size - cut - (size - cut) / 2);
  agentexec_code_block_stream_finish (stream);
  streamed = agentexec_code_block_stream_get_blocks (stream);
  a = describe (whole);
  b = describe (streamed);
  if (strcmp (a, b) != 0)
    {
      fprintf (stderr, "stream differs at cut %zu:\n%s\n%s\n", cut, a, b);
      abort ();
    }
  return 0;
}
