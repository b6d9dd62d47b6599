/* cmark-diff.h: the fenced code blocks libcmark finds, in the terms of the
 * agentexec-extract contract, and a field-by-field comparison with ours.
 * Shared by tests/test-parser.c and the libFuzzer target (header-only).
 *
 * libcmark 0.30 exposes neither whether a code block is fenced nor whether
 * its closing fence was seen, so both are derived from source positions:
 *
 * - fenced: the block's start column points at a run of 3+ backticks or
 *   tildes, and either the info string is not empty or the code does not
 *   begin with the rest of that source line (an indented code block's
 *   first line is exactly that rest; a fenced block's content never is);
 * - closed: cmark ends a fence that its container cut short on the line
 *   that ended the container (the container itself ends one line
 *   earlier), and a fence still open at the end of input on the last line,
 *   with its last source line holding code. Everything else saw its
 *   closing fence.
 *
 * Lines are counted as cmark counts them (LF, CRLF, CR), so line numbers
 * become byte offsets of the original input, NUL bytes included.
 *
 * Known differences between cmark 0.30.2 and the CommonMark 0.31.2 spec,
 * where we follow the spec (see tests/data/parser/README.md):
 * - info strings: the spec trims spaces and tabs, then resolves escapes and
 *   references in one pass; cmark resolves references first, then trims
 *   any ASCII white space, then resolves backslash escapes;
 * - cmark caps a fence's length at 255 characters.
 * cmark_diff_explained() recognises inputs where these apply.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <string.h>
#include <cmark.h>
#include <glib.h>

#include "libagentexec.h"

typedef struct
{
  char *language;
  char *info;
  char *code;
  guint64 start;
  guint64 end;
  gboolean closed;
} RefBlock;

static void
ref_block_free (gpointer data)
{
  RefBlock *b = data;

  g_free (b->language);
  g_free (b->info);
  g_free (b->code);
  g_free (b);
}

typedef struct
{
  GArray *starts; /* guint64 offset of each line, 1-based (index 0 unused) */
  GArray *lens;   /* content length of each line */
  GArray *eols;   /* line-ending length of each line */
} LineTable;

static void
line_table_init (LineTable *t, const char *text, gsize len)
{
  gsize pos = 0;
  guint64 zero = 0;

  t->starts = g_array_new (FALSE, FALSE, sizeof (guint64));
  t->lens = g_array_new (FALSE, FALSE, sizeof (guint64));
  t->eols = g_array_new (FALSE, FALSE, sizeof (guint64));
  g_array_append_val (t->starts, zero);
  g_array_append_val (t->lens, zero);
  g_array_append_val (t->eols, zero);
  while (pos < len)
    {
      guint64 start = pos, content, eol = 0;

      while (pos < len && text[pos] != '\n' && text[pos] != '\r')
        pos++;
      content = pos - start;
      if (pos < len && text[pos] == '\r')
        pos++, eol++;
      if (pos < len && text[pos] == '\n' && (eol == 0 || text[pos - 1] == '\r'))
        pos++, eol++;
      g_array_append_val (t->starts, start);
      g_array_append_val (t->lens, content);
      g_array_append_val (t->eols, eol);
    }
}

static void
line_table_clear (LineTable *t)
{
  g_array_unref (t->starts);
  g_array_unref (t->lens);
  g_array_unref (t->eols);
}

#define LINE_START(t, n) g_array_index ((t)->starts, guint64, (n))
#define LINE_LEN(t, n) g_array_index ((t)->lens, guint64, (n))
#define LINE_EOL(t, n) g_array_index ((t)->eols, guint64, (n))

static guint
count_lines (const char *s)
{
  guint n = 0;

  for (; *s; s++)
    n += *s == '\n';
  return n;
}

/* The source text of line @line from byte column @column (1-based, as cmark
 * counts it: after the BOM on the first line), NUL bytes as U+FFFD. */
static char *
source_from_column (LineTable *t, const char *text, int line, int column)
{
  guint64 start = LINE_START (t, line);
  guint64 llen = LINE_LEN (t, line);
  guint64 skip = (guint64) column - 1;
  GString *out = g_string_new (NULL);

  if (line == 1 && llen >= 3 && memcmp (text, "\xEF\xBB\xBF", 3) == 0)
    skip += 3;
  for (guint64 i = skip; i < llen; i++)
    {
      if (text[start + i] == '\0')
        g_string_append (out, "\xEF\xBF\xBD");
      else
        g_string_append_c (out, text[start + i]);
    }
  return g_string_free (out, FALSE);
}

static gboolean
cmark_block_is_fenced (cmark_node *node, LineTable *t, const char *text)
{
  g_autofree char *rest = source_from_column (t, text, cmark_node_get_start_line (node),
                                              cmark_node_get_start_column (node));
  const char *info = cmark_node_get_fence_info (node);
  const char *literal = cmark_node_get_literal (node);
  gsize rest_len = strlen (rest);
  char c = rest[0];

  if ((c != '`' && c != '~') || rest[1] != c || rest[2] != c)
    return FALSE;
  if (info != NULL && info[0] != '\0')
    return TRUE;
  return !(literal != NULL && strncmp (literal, rest, rest_len) == 0 && literal[rest_len] == '\n');
}

static RefBlock *
ref_block_from_node (cmark_node *node, LineTable *t, gsize len)
{
  RefBlock *b = g_new0 (RefBlock, 1);
  const char *info = cmark_node_get_fence_info (node);
  const char *literal = cmark_node_get_literal (node);
  cmark_node *parent = cmark_node_parent (node);
  int start_line = cmark_node_get_start_line (node);
  int end_line = cmark_node_get_end_line (node);
  guint n_lines = t->starts->len - 1;

  b->info = g_strdup (info != NULL ? info : "");
  b->language = g_strndup (b->info, strcspn (b->info, " \t"));
  b->code = g_strdup (literal != NULL ? literal : "");
  b->start = LINE_START (t, start_line);

  if (cmark_node_get_type (parent) != CMARK_NODE_DOCUMENT &&
      end_line > cmark_node_get_end_line (parent))
    {
      b->closed = FALSE; /* its container ended first */
      b->end = LINE_START (t, end_line);
    }
  else if ((guint) end_line >= n_lines && count_lines (b->code) == (guint) (end_line - start_line))
    {
      b->closed = FALSE; /* the input ended first */
      b->end = len;
    }
  else
    {
      b->closed = TRUE;
      b->end = LINE_START (t, end_line) + LINE_LEN (t, end_line) + LINE_EOL (t, end_line);
    }
  return b;
}

/* (element-type RefBlock) */
static GPtrArray *
cmark_fenced_blocks (const char *text, gsize len)
{
  GPtrArray *blocks = g_ptr_array_new_with_free_func (ref_block_free);
  cmark_node *doc = cmark_parse_document (text, len, CMARK_OPT_DEFAULT);
  cmark_iter *iter = cmark_iter_new (doc);
  cmark_event_type ev;
  LineTable t;

  line_table_init (&t, text, len);
  while ((ev = cmark_iter_next (iter)) != CMARK_EVENT_DONE)
    {
      cmark_node *node = cmark_iter_get_node (iter);

      if (ev == CMARK_EVENT_ENTER && cmark_node_get_type (node) == CMARK_NODE_CODE_BLOCK &&
          cmark_block_is_fenced (node, &t, text))
        g_ptr_array_add (blocks, ref_block_from_node (node, &t, len));
    }
  cmark_iter_free (iter);
  cmark_node_free (doc);
  line_table_clear (&t);
  return blocks;
}

/* Inputs where cmark 0.30 and the 0.31 spec legitimately differ:
 * - a run of 256+ fence characters (cmark caps fence lengths at 255);
 * - "<!" and a lowercase letter: an HTML block of type 4 in 0.31, text
 *   for cmark 0.30 (which wants an uppercase letter);
 * - a list marker followed by a vertical tab or form feed: the spec wants a
 *   space or tab there, cmark takes any ASCII white space;
 * - a fence followed by a vertical tab or form feed (see below);
 * - "<![cdata[" in another case than "<![CDATA[": the spec names the string
 *   (type 5), cmark compares without case;
 * - a vertical tab or form feed after "<" on a line: the spec's HTML
 *   conditions take spaces and tabs, cmark any ASCII white space. */
static gboolean
cmark_diff_explained (const char *text, gsize len)
{
  gsize run = 0;

  for (gsize i = 0; i < len; i++)
    {
      char c = text[i];

      run = (i > 0 && c == text[i - 1]) ? run + 1 : 1;
      if (run >= 256 && (c == '`' || c == '~'))
        return TRUE;
      if (c == '<' && i + 2 < len && text[i + 1] == '!' && g_ascii_islower (text[i + 2]))
        return TRUE;
      if (c == '<' && i + 8 < len && memcmp (text + i + 1, "![", 2) == 0 &&
          g_ascii_strncasecmp (text + i + 3, "CDATA[", 6) == 0 &&
          memcmp (text + i + 3, "CDATA[", 6) != 0)
        return TRUE;
      if ((c == '\v' || c == '\f') && i > 0)
        {
          gsize j = i;

          /* After a tag name: cmark's "space" includes VT and FF. */
          while (j > 0 && text[j - 1] != '\n' && text[j - 1] != '\r' && text[j - 1] != '<')
            j--;
          if (j > 0 && text[j - 1] == '<')
            return TRUE;
          j = i;

          if (strchr ("-+*.)", text[i - 1]) != NULL)
            return TRUE;
          /* A fence followed by white space cmark trims and the spec keeps:
           * cmark's empty info then makes a fenced block look like an
           * indented one to cmark_block_is_fenced(). */
          while (j > 0 && strchr (" \t\v\f", text[j - 1]) != NULL)
            j--;
          if (j > 0 && (text[j - 1] == '`' || text[j - 1] == '~'))
            return TRUE;
        }
    }
  return FALSE;
}

/* An info string difference the spec explains: trimming happens before
 * references are resolved (so "&#32;x" keeps its space), only spaces and
 * tabs are trimmed (so a form feed stays), and escapes and references are
 * resolved in one pass (so "\\&amp;" is "&amp;" and "&#92;*" is "\\*"). */
static gboolean
info_diff_explained (const char *ours)
{
  gsize n = strlen (ours);

  if (strchr (ours, '&') != NULL || strchr (ours, '\\') != NULL)
    return TRUE;
  return n > 0 &&
         (strchr (" \t\n\v\f\r", ours[0]) != NULL || strchr (" \t\n\v\f\r", ours[n - 1]) != NULL);
}

/* Returns NULL when @ours (element-type AgentExecCodeBlock) equals cmark's
 * blocks of @text, else a description of the first difference. */
static char *
cmark_diff (const char *text, gsize len, GPtrArray *ours)
{
  g_autoptr (GPtrArray) ref = cmark_fenced_blocks (text, len);

  if (ours->len != ref->len)
    return g_strdup_printf ("%u blocks, cmark finds %u", ours->len, ref->len);

  for (guint i = 0; i < ref->len; i++)
    {
      AgentExecCodeBlock *a = g_ptr_array_index (ours, i);
      RefBlock *b = g_ptr_array_index (ref, i);
      const char *info = agentexec_code_block_get_info (a);

      if (g_strcmp0 (agentexec_code_block_get_code (a), b->code) != 0)
        return g_strdup_printf ("block %u: code \"%s\", cmark \"%s\"", i,
                                agentexec_code_block_get_code (a), b->code);
      if (g_strcmp0 (info, b->info) != 0 && !info_diff_explained (info))
        return g_strdup_printf ("block %u: info \"%s\", cmark \"%s\"", i, info, b->info);
      if (g_strcmp0 (info, b->info) == 0 &&
          g_strcmp0 (agentexec_code_block_get_language (a), b->language) != 0)
        return g_strdup_printf ("block %u: language \"%s\", cmark \"%s\"", i,
                                agentexec_code_block_get_language (a), b->language);
      if (agentexec_code_block_get_start (a) != b->start)
        return g_strdup_printf ("block %u: start %" G_GUINT64_FORMAT ", cmark %" G_GUINT64_FORMAT,
                                i, agentexec_code_block_get_start (a), b->start);
      if (agentexec_code_block_get_end (a) != b->end)
        return g_strdup_printf ("block %u: end %" G_GUINT64_FORMAT ", cmark %" G_GUINT64_FORMAT, i,
                                agentexec_code_block_get_end (a), b->end);
      if (agentexec_code_block_get_closed (a) != b->closed)
        return g_strdup_printf ("block %u: closed %d, cmark %d", i,
                                agentexec_code_block_get_closed (a), b->closed);
    }
  return NULL;
}
