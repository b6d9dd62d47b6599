/* agentexec-fence-scanner.c: the CommonMark 0.31 block structure, just enough
 * of it to find fenced code blocks exactly
 *
 * The scanner follows the reference algorithm (cmark's blocks.c, which the
 * spec describes in its appendix): each line first matches the prefixes of
 * the open containers (block quotes, list items, the open leaf), then opens
 * new blocks, then goes to the innermost block or continues a paragraph
 * lazily. Only what decides where fences are is kept: the stack of open
 * blocks, the open fence and its code. Inline content is never parsed, and
 * every byte is looked at a bounded number of times, so the scan is linear.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "agentexec-fence-scanner-private.h"
#include "agentexec-info-string-private.h"
#include "agentexec-line-scan-private.h"
#include "agentexec-link-reference-private.h"

#define TAB_STOP 4
#define CODE_INDENT 4

typedef enum
{
  NODE_DOCUMENT,
  NODE_BLOCK_QUOTE,
  NODE_LIST,
  NODE_ITEM,
  NODE_PARAGRAPH,
  NODE_HEADING,
  NODE_THEMATIC_BREAK,
  NODE_FENCED_CODE,
  NODE_INDENTED_CODE,
  NODE_HTML,
} NodeType;

typedef struct
{
  guint8 type;
  guint8 html_type;
  guint8 ordered;
  guint8 has_child;
  char marker; /* bullet character, or '.' / ')' of an ordered list */
  gsize marker_offset;
  gsize padding;
} Node;

struct _AgentExecFenceScanner
{
  AgentExecBlockFunc func;
  gpointer user_data;

  Node *nodes;
  guint n_nodes;
  guint nodes_alloc;

  /* The open fenced code block (at most one: it is always the innermost). */
  char fence_char;
  gsize fence_length;
  gsize fence_offset;
  char *info;
  char *code; /* NULL until the first byte; NUL-terminated after it */
  gsize code_len;
  gsize code_alloc;
  guint64 fence_start;
  gboolean fence_fresh;

  /* The line being processed, without its line ending. */
  const char *line;
  gsize len;
  gsize offset;
  gsize column;
  gsize first_nonspace;
  gsize first_nonspace_column;
  gsize indent;
  gsize kill_pos;
  gboolean blank;
  gboolean partially_consumed_tab;
  gboolean opened;

  /* The open paragraph's text, kept while it may be nothing but link
   * reference definitions (it starts with '['). */
  GString *para;
  gboolean para_refs;

  guint64 line_start;
  guint64 line_number;
  GString *pending;

  pcre2_match_data *match_data;
};

/* ---- characters and columns ------------------------------------------ */

static inline char
peek (AgentExecFenceScanner *self, gsize pos)
{
  return _agentexec_line_peek (self->line, self->len, pos);
}

#define is_space_or_tab(c) _agentexec_is_space_or_tab (c)

static void
find_first_nonspace (AgentExecFenceScanner *self)
{
  if (self->first_nonspace <= self->offset)
    {
      gsize chars_to_tab = TAB_STOP - (self->column % TAB_STOP);
      gsize pos = self->offset;
      gsize column = self->column;

      while (pos < self->len)
        {
          char c = self->line[pos];

          if (c == ' ')
            {
              pos++;
              column++;
              if (--chars_to_tab == 0)
                chars_to_tab = TAB_STOP;
            }
          else if (c == '\t')
            {
              pos++;
              column += chars_to_tab;
              chars_to_tab = TAB_STOP;
            }
          else
            break;
        }
      self->first_nonspace = pos;
      self->first_nonspace_column = column;
    }
  self->indent = self->first_nonspace_column - self->column;
  self->blank = self->first_nonspace >= self->len;
}

static void
advance_offset (AgentExecFenceScanner *self, gsize count, gboolean columns)
{
  while (count > 0 && self->offset < self->len)
    {
      if (self->line[self->offset] == '\t')
        {
          gsize chars_to_tab = TAB_STOP - (self->column % TAB_STOP);

          if (columns)
            {
              gsize step = MIN (count, chars_to_tab);

              self->partially_consumed_tab = chars_to_tab > count;
              self->column += step;
              self->offset += self->partially_consumed_tab ? 0 : 1;
              count -= step;
            }
          else
            {
              self->partially_consumed_tab = FALSE;
              self->column += chars_to_tab;
              self->offset++;
              count--;
            }
        }
      else
        {
          self->partially_consumed_tab = FALSE;
          self->offset++;
          self->column++;
          count--;
        }
    }
}

static void
advance_to_end (AgentExecFenceScanner *self)
{
  advance_offset (self, self->len - self->offset, FALSE);
}

/* ---- the stack of open blocks ----------------------------------------- */

static inline Node *
top (AgentExecFenceScanner *self)
{
  return &self->nodes[self->n_nodes - 1];
}

static void
emit_fence (AgentExecFenceScanner *self, guint64 end, gboolean closed)
{
  AgentExecRawBlock block;

  block.language = _agentexec_info_get_language (self->info);
  block.info = g_steal_pointer (&self->info);
  block.code_length = self->code_len;
  block.code = self->code != NULL ? g_steal_pointer (&self->code) : g_strdup ("");
  self->code_len = self->code_alloc = 0;
  block.start = self->fence_start;
  block.end = end;
  block.closed = closed;
  self->func (&block, self->user_data);
  _agentexec_raw_block_clear (&block);
}

/* Closes the innermost open block. A fence that ends here without its
 * closing fence runs to the start of the current line (or the end of the
 * input at finish). */
static void
pop (AgentExecFenceScanner *self)
{
  g_assert (self->n_nodes > 1);

  if (top (self)->type == NODE_FENCED_CODE)
    emit_fence (self, self->line_start, FALSE);
  self->n_nodes--;
}

static void
close_unmatched (AgentExecFenceScanner *self, guint matched)
{
  while (self->n_nodes > matched)
    pop (self);
}

static gboolean
can_contain (NodeType parent, NodeType child)
{
  switch (parent)
    {
    case NODE_DOCUMENT:
    case NODE_BLOCK_QUOTE:
    case NODE_ITEM:
      return child != NODE_ITEM;
    case NODE_LIST:
      return child == NODE_ITEM;
    default:
      return FALSE;
    }
}

static Node *
add_child (AgentExecFenceScanner *self, NodeType type)
{
  Node *node;

  while (!can_contain (top (self)->type, type))
    pop (self);

  top (self)->has_child = TRUE;
  if (self->n_nodes == self->nodes_alloc)
    {
      self->nodes_alloc *= 2;
      self->nodes = g_renew (Node, self->nodes, self->nodes_alloc);
    }
  node = &self->nodes[self->n_nodes++];
  memset (node, 0, sizeof *node);
  node->type = type;
  return node;
}

/* ---- the fence ----------------------------------------------------------- */

static void
open_fence (AgentExecFenceScanner *self, gsize length)
{
  gsize info_start = self->first_nonspace + length;

  add_child (self, NODE_FENCED_CODE);
  self->fence_char = self->line[self->first_nonspace];
  self->fence_length = length;
  self->fence_offset = self->first_nonspace - self->offset;
  self->fence_start = self->line_start;
  self->fence_fresh = TRUE;
  self->info = _agentexec_decode_info_string (self->line + info_start, self->len - info_start);
  g_clear_pointer (&self->code, g_free);
  self->code_len = self->code_alloc = 0;
  advance_offset (self, info_start - self->offset, FALSE);
}

/* Appends @n bytes and, with @newline, a '\n' to the fence's code. */
static inline void
code_append (AgentExecFenceScanner *self, const char *p, gsize n, gboolean newline)
{
  gsize need = self->code_len + n + 2;

  if (need > self->code_alloc)
    {
      self->code_alloc = MAX (MAX (self->code_alloc * 2, need), 64);
      self->code = g_realloc (self->code, self->code_alloc);
    }
  memcpy (self->code + self->code_len, p, n);
  self->code_len += n;
  if (newline)
    self->code[self->code_len++] = '\n';
  self->code[self->code_len] = '\0';
}

static void
append_code_line (AgentExecFenceScanner *self)
{
  const char *p;
  const char *end;

  if (self->partially_consumed_tab)
    {
      gsize chars_to_tab = TAB_STOP - (self->column % TAB_STOP);

      self->offset++;
      code_append (self, "    ", chars_to_tab, FALSE);
    }

  /* NUL bytes become U+FFFD, as CommonMark wants. */
  p = self->line + MIN (self->offset, self->len);
  end = self->line + self->len;
  for (;;)
    {
      const char *nul = memchr (p, '\0', end - p);

      if (nul == NULL)
        {
          code_append (self, p, end - p, TRUE);
          return;
        }
      code_append (self, p, nul - p, FALSE);
      code_append (self, "\xEF\xBF\xBD", 3, FALSE);
      p = nul + 1;
    }
}

/* Returns %FALSE when the line is the closing fence (and is consumed). */
static gboolean
continue_fence (AgentExecFenceScanner *self, gsize eol_len)
{
  gsize matched = 0;

  if (self->indent <= 3 && peek (self, self->first_nonspace) == self->fence_char)
    matched = _agentexec_scan_close_code_fence (self->line, self->len, self->first_nonspace,
                                                self->fence_char);

  if (matched >= self->fence_length)
    {
      emit_fence (self, self->line_start + self->len + eol_len, TRUE);
      self->n_nodes--;
      return FALSE;
    }

  for (gsize i = self->fence_offset; i > 0 && is_space_or_tab (peek (self, self->offset)); i--)
    advance_offset (self, 1, TRUE);
  return TRUE;
}

/* ---- one line -------------------------------------------------------------- */

static gboolean
match_item (AgentExecFenceScanner *self, Node *item)
{
  if (self->indent >= item->marker_offset + item->padding)
    {
      advance_offset (self, item->marker_offset + item->padding, TRUE);
      return TRUE;
    }
  if (self->blank && item->has_child)
    {
      advance_offset (self, self->first_nonspace - self->offset, FALSE);
      return TRUE;
    }
  return FALSE;
}

static gboolean
match_block_quote (AgentExecFenceScanner *self)
{
  if (self->indent <= 3 && peek (self, self->first_nonspace) == '>')
    {
      advance_offset (self, self->indent + 1, TRUE);
      if (is_space_or_tab (peek (self, self->offset)))
        advance_offset (self, 1, TRUE);
      return TRUE;
    }
  return FALSE;
}

/* Matches the open blocks against the line's prefixes. Returns how many
 * matched (the document always does), or 0 when the line closed the fence. */
static guint
check_open_blocks (AgentExecFenceScanner *self, gsize eol_len)
{
  guint i;

  for (i = 1; i < self->n_nodes; i++)
    {
      Node *node = &self->nodes[i];
      gboolean ok = TRUE;

      find_first_nonspace (self);
      switch (node->type)
        {
        case NODE_BLOCK_QUOTE:
          ok = match_block_quote (self);
          break;
        case NODE_ITEM:
          ok = match_item (self, node);
          break;
        case NODE_FENCED_CODE:
          if (!continue_fence (self, eol_len))
            return 0;
          break;
        case NODE_INDENTED_CODE:
          if (self->indent >= CODE_INDENT)
            advance_offset (self, CODE_INDENT, TRUE);
          else if (self->blank)
            advance_offset (self, self->first_nonspace - self->offset, FALSE);
          else
            ok = FALSE;
          break;
        case NODE_HTML:
          ok = !(self->blank && node->html_type >= 6);
          break;
        case NODE_PARAGRAPH:
          ok = !self->blank;
          break;
        case NODE_HEADING:
        case NODE_THEMATIC_BREAK:
          ok = FALSE;
          break;
        default:
          break;
        }
      if (!ok)
        break;
    }
  return i;
}

/* New blocks replace the unmatched ones: close those first. */
static void
start_new_block (AgentExecFenceScanner *self, guint matched)
{
  if (!self->opened)
    {
      close_unmatched (self, matched);
      self->opened = TRUE;
    }
}

static gboolean
open_list_item (AgentExecFenceScanner *self, guint matched, NodeType cont_type)
{
  Node data = {
    0,
  };
  gsize marker_len;
  gsize save_offset, save_column, spaces;
  gboolean save_partial;
  Node *list;
  Node *item;
  gboolean ordered = FALSE;
  char marker = 0;

  marker_len = _agentexec_parse_list_marker (self->line, self->len, self->first_nonspace,
                                             cont_type == NODE_PARAGRAPH, &ordered, &marker);
  if (marker_len == 0)
    return FALSE;

  advance_offset (self, self->first_nonspace + marker_len - self->offset, FALSE);
  save_partial = self->partially_consumed_tab;
  save_offset = self->offset;
  save_column = self->column;
  while (self->column - save_column <= 5 && is_space_or_tab (peek (self, self->offset)))
    advance_offset (self, 1, TRUE);

  spaces = self->column - save_column;
  if (spaces >= 5 || spaces < 1 || self->offset >= self->len)
    {
      data.padding = marker_len + 1;
      self->offset = save_offset;
      self->column = save_column;
      self->partially_consumed_tab = save_partial;
      if (spaces > 0)
        advance_offset (self, 1, TRUE);
    }
  else
    data.padding = marker_len + spaces;
  data.marker_offset = self->indent;
  data.ordered = ordered;
  data.marker = marker;

  start_new_block (self, matched);
  list = top (self);
  if (list->type != NODE_LIST || list->ordered != data.ordered || list->marker != data.marker)
    {
      list = add_child (self, NODE_LIST);
      list->ordered = data.ordered;
      list->marker = data.marker;
    }
  item = add_child (self, NODE_ITEM);
  item->ordered = data.ordered;
  item->marker = data.marker;
  item->marker_offset = data.marker_offset;
  item->padding = data.padding;
  return TRUE;
}

static gboolean
open_one_block (AgentExecFenceScanner *self, guint matched, NodeType cont_type, gboolean maybe_lazy)
{
  gboolean indented;
  gsize length;
  guint html_type;

  find_first_nonspace (self);
  indented = self->indent >= CODE_INDENT;

  if (!indented && peek (self, self->first_nonspace) == '>')
    {
      advance_offset (self, self->first_nonspace + 1 - self->offset, FALSE);
      if (is_space_or_tab (peek (self, self->offset)))
        advance_offset (self, 1, TRUE);
      start_new_block (self, matched);
      add_child (self, NODE_BLOCK_QUOTE);
    }
  else if (!indented &&
           _agentexec_scan_atx_heading_start (self->line, self->len, self->first_nonspace))
    {
      start_new_block (self, matched);
      add_child (self, NODE_HEADING);
      advance_to_end (self);
    }
  else if (!indented &&
           (length = _agentexec_scan_open_code_fence (self->line, self->len, self->first_nonspace)))
    {
      start_new_block (self, matched);
      open_fence (self, length);
    }
  else if (!indented && (html_type = _agentexec_scan_html_block_start (
                             self->line, self->len, self->first_nonspace,
                             cont_type != NODE_PARAGRAPH && !maybe_lazy, self->match_data)))
    {
      start_new_block (self, matched);
      add_child (self, NODE_HTML)->html_type = html_type;
    }
  else if (!indented && cont_type == NODE_PARAGRAPH &&
           _agentexec_scan_setext_heading_line (self->line, self->len, self->first_nonspace))
    {
      /* The paragraph becomes a heading, which ends with this line; unless
       * it is only link reference definitions: then the underline is its
       * next line of text. */
      if (!self->para_refs ||
          !_agentexec_only_link_reference_definitions (self->para->str, self->para->len))
        {
          top (self)->type = NODE_HEADING;
          advance_to_end (self);
        }
    }
  else if (!indented && self->kill_pos <= self->first_nonspace &&
           _agentexec_scan_thematic_break (self->line, self->len, self->first_nonspace,
                                           &self->kill_pos))
    {
      start_new_block (self, matched);
      add_child (self, NODE_THEMATIC_BREAK);
      advance_to_end (self);
    }
  else if (!indented && open_list_item (self, matched, cont_type))
    ;
  else if (indented && !maybe_lazy && !self->blank)
    {
      advance_offset (self, CODE_INDENT, TRUE);
      start_new_block (self, matched);
      add_child (self, NODE_INDENTED_CODE);
    }
  else
    return FALSE;

  return TRUE;
}

static void
open_new_blocks (AgentExecFenceScanner *self, guint matched)
{
  NodeType cont_type = self->nodes[matched - 1].type;
  gboolean maybe_lazy = top (self)->type == NODE_PARAGRAPH;

  while (cont_type != NODE_FENCED_CODE && cont_type != NODE_INDENTED_CODE && cont_type != NODE_HTML)
    {
      if (!open_one_block (self, matched, cont_type, maybe_lazy))
        break;

      cont_type = top (self)->type;
      if (cont_type == NODE_PARAGRAPH || cont_type == NODE_HEADING ||
          cont_type == NODE_FENCED_CODE || cont_type == NODE_INDENTED_CODE)
        break;
      maybe_lazy = FALSE;
    }
}

static void
keep_paragraph_text (AgentExecFenceScanner *self, gsize from)
{
  if (!self->para_refs || from > self->len)
    return;
  g_string_append_len (self->para, self->line + from, self->len - from);
  g_string_append_c (self->para, '\n');
}

static void
add_text (AgentExecFenceScanner *self, guint matched)
{
  Node *container;

  find_first_nonspace (self);

  /* A lazy continuation line: the open paragraph goes on, whatever prefixes
   * did not match stay open. */
  if (!self->opened && self->n_nodes > matched && !self->blank &&
      top (self)->type == NODE_PARAGRAPH)
    {
      keep_paragraph_text (self, self->offset);
      return;
    }

  if (!self->opened)
    close_unmatched (self, matched);

  container = top (self);
  switch (container->type)
    {
    case NODE_FENCED_CODE:
      if (!self->fence_fresh)
        append_code_line (self);
      break;
    case NODE_HTML:
      if (_agentexec_html_block_ends (self->line, self->len, self->first_nonspace,
                                      container->html_type, self->match_data))
        pop (self);
      break;
    case NODE_PARAGRAPH:
      keep_paragraph_text (self, self->first_nonspace);
      break;
    case NODE_INDENTED_CODE:
    case NODE_HEADING:
    case NODE_THEMATIC_BREAK:
      break;
    default:
      if (!self->blank)
        {
          add_child (self, NODE_PARAGRAPH);
          self->para_refs = self->line[self->first_nonspace] == '[';
          g_string_truncate (self->para, 0);
          keep_paragraph_text (self, self->first_nonspace);
        }
    }

  /* Headings and thematic breaks never take a second line. */
  container = top (self);
  if (container->type == NODE_HEADING || container->type == NODE_THEMATIC_BREAK)
    self->n_nodes--;
}

static void
process_line (AgentExecFenceScanner *self, const char *line, gsize len, gsize eol_len)
{
  guint matched;

  self->line = line;
  self->len = len;
  self->offset = 0;
  self->column = 0;
  self->first_nonspace = 0;
  self->first_nonspace_column = 0;
  self->indent = 0;
  self->kill_pos = 0;
  self->blank = FALSE;
  self->partially_consumed_tab = FALSE;
  self->opened = FALSE;
  self->fence_fresh = FALSE;

  /* A byte order mark is not part of the first line. */
  if (self->line_number == 0 && len >= 3 && memcmp (line, "\xEF\xBB\xBF", 3) == 0)
    self->offset = 3;

  matched = check_open_blocks (self, eol_len);
  if (matched > 0)
    {
      open_new_blocks (self, matched);
      add_text (self, matched);
    }

  self->line_number++;
  self->line_start += len + eol_len;
}

/* ---- feeding ------------------------------------------------------------------ */

AgentExecFenceScanner *
_agentexec_fence_scanner_new (AgentExecBlockFunc func, gpointer user_data)
{
  AgentExecFenceScanner *self = g_new0 (AgentExecFenceScanner, 1);

  self->func = func;
  self->user_data = user_data;
  self->nodes_alloc = 16;
  self->nodes = g_new0 (Node, self->nodes_alloc);
  self->n_nodes = 1;
  self->nodes[0].type = NODE_DOCUMENT;
  self->pending = g_string_new (NULL);
  self->para = g_string_new (NULL);
  self->match_data = pcre2_match_data_create (8, NULL);
  return self;
}

void
_agentexec_fence_scanner_free (AgentExecFenceScanner *self)
{
  if (self == NULL)
    return;

  g_free (self->nodes);
  g_free (self->info);
  g_free (self->code);
  g_string_free (self->pending, TRUE);
  g_string_free (self->para, TRUE);
  pcre2_match_data_free (self->match_data);
  g_free (self);
}

/* Index of the first CR or LF in @p, or @len. With @no_cr (the caller knows
 * @p holds no CR) one search is enough. */
static inline gsize
find_eol (const char *p, gsize len, gboolean no_cr)
{
  const char *nl = memchr (p, '\n', len);
  gsize limit = nl != NULL ? (gsize) (nl - p) : len;
  const char *cr;

  if (no_cr)
    return limit;
  cr = memchr (p, '\r', limit);
  return cr != NULL ? (gsize) (cr - p) : limit;
}

/* Completes the buffered partial line with the first bytes of @data. */
static void
feed_pending (AgentExecFenceScanner *self, const char **data, gsize *len)
{
  GString *pending = self->pending;
  gsize k;
  gsize eol_len;

  if (pending->len == 0 || *len == 0)
    return;

  if (pending->str[pending->len - 1] == '\r')
    {
      /* A CR held back at the end of the last chunk: is it a CRLF? */
      eol_len = **data == '\n' ? 2 : 1;
      process_line (self, pending->str, pending->len - 1, eol_len);
      g_string_truncate (pending, 0);
      *data += eol_len - 1;
      *len -= eol_len - 1;
      return;
    }

  k = find_eol (*data, *len, FALSE);
  if (k == *len || ((*data)[k] == '\r' && k + 1 == *len))
    {
      g_string_append_len (pending, *data, *len);
      *data += *len;
      *len = 0;
      return;
    }
  eol_len = (*data)[k] == '\r' && (*data)[k + 1] == '\n' ? 2 : 1;
  g_string_append_len (pending, *data, k);
  process_line (self, pending->str, pending->len, eol_len);
  g_string_truncate (pending, 0);
  *data += k + eol_len;
  *len -= k + eol_len;
}

void
_agentexec_fence_scanner_feed (AgentExecFenceScanner *self, const char *data, gsize len)
{
  gboolean no_cr;

  feed_pending (self, &data, &len);

  /* Most texts end lines with LF alone: one search for CR over the whole
   * chunk spares a second search per line. */
  no_cr = memchr (data, '\r', len) == NULL;
  while (len > 0)
    {
      gsize k = find_eol (data, len, no_cr);
      gsize eol_len;

      if (k == len || (data[k] == '\r' && k + 1 == len))
        {
          g_string_append_len (self->pending, data, len);
          return;
        }
      eol_len = data[k] == '\r' && data[k + 1] == '\n' ? 2 : 1;
      process_line (self, data, k, eol_len);
      data += k + eol_len;
      len -= k + eol_len;
    }
}

void
_agentexec_fence_scanner_finish (AgentExecFenceScanner *self)
{
  if (self->pending->len > 0)
    {
      gsize content = self->pending->len;
      gsize eol_len = 0;

      if (self->pending->str[content - 1] == '\r')
        {
          content--;
          eol_len = 1;
        }
      process_line (self, self->pending->str, content, eol_len);
      g_string_truncate (self->pending, 0);
    }
  close_unmatched (self, 1);
}
