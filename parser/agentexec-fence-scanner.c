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
#include <pcre2.h>

#include "agentexec-code-block-private.h"
#include "agentexec-fence-scanner-private.h"
#include "agentexec-html-entities-private.h"
#include "agentexec-pcre2-private.h"

#define TAB_STOP 4
#define CODE_INDENT 4

typedef enum {
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

typedef struct {
  guint8 type;
  guint8 html_type;
  guint8 ordered;
  guint8 has_child;
  char   marker;          /* bullet character, or '.' / ')' of an ordered list */
  gsize  marker_offset;
  gsize  padding;
} Node;

struct _AgentExecFenceScanner
{
  AgentExecBlockFunc  func;
  gpointer            user_data;

  Node               *nodes;
  guint               n_nodes;
  guint               nodes_alloc;

  /* The open fenced code block (at most one: it is always the innermost). */
  char                fence_char;
  gsize               fence_length;
  gsize               fence_offset;
  char               *info;
  GString            *code;
  guint64             fence_start;
  gboolean            fence_fresh;

  /* The line being processed, without its line ending. */
  const char         *line;
  gsize               len;
  gsize               offset;
  gsize               column;
  gsize               first_nonspace;
  gsize               first_nonspace_column;
  gsize               indent;
  gsize               kill_pos;
  gboolean            blank;
  gboolean            partially_consumed_tab;
  gboolean            opened;

  guint64             line_start;
  guint64             line_number;
  GString            *pending;

  pcre2_match_data   *match_data;
};

/* Line classification with PCRE2: the HTML block start and end conditions.
 * They are compiled with PCRE2_UTF | PCRE2_MATCH_INVALID_UTF: invalid UTF-8
 * never makes a match fail with an error (or crash), and no pattern item
 * matches an invalid sequence, so "rest of the line" conditions stop at
 * one, as they do in the reference implementation's UTF-8 scanners. */
static const char html_start_pattern[] =
  "^(?:"
  "(<(?i:script|pre|style|textarea)(?:[ \\t>]|$))"
  "|(<!--)"
  "|(<\\?)"
  "|(<![A-Za-z])"
  "|(<!\\[CDATA\\[)"
  "|(</?(?i:address|article|aside|base|basefont|blockquote|body|caption|center|"
  "col|colgroup|dd|details|dialog|dir|div|dl|dt|fieldset|figcaption|figure|"
  "footer|form|frame|frameset|h1|h2|h3|h4|h5|h6|head|header|hr|html|iframe|"
  "legend|li|link|main|menu|menuitem|nav|noframes|ol|optgroup|option|p|param|"
  "search|section|summary|table|tbody|td|tfoot|th|thead|title|tr|track|ul)"
  "(?:[ \\t]|$|/?>))"
  ")";

/* Type 7: a complete open or closing tag alone on its line. Possessive
 * quantifiers keep the match linear in the line length. */
static const char html_tag_pattern[] =
  "^(?:<([A-Za-z][A-Za-z0-9-]*+)"
  "(?:[ \\t]++[A-Za-z_:][A-Za-z0-9_.:-]*+"
  "(?:[ \\t]*+=[ \\t]*+(?:[^ \\t\"'=<>`]++|'[^']*+'|\"[^\"]*+\"))?+)*+"
  "[ \\t]*+/?>"
  "|</[A-Za-z][A-Za-z0-9-]*+[ \\t]*+>)"
  "[ \\t]*+$";

/* End conditions of HTML blocks 1-5: the line contains… */
static const char * const html_end_patterns[] = {
  "^.*?</(?i:script|pre|style|textarea)>",
  "^.*?-->",
  "^.*?\\?>",
  "^.*?>",
  "^.*?\\]\\]>",
};

enum { RE_HTML_START, RE_HTML_TAG, RE_HTML_END1, N_RES = RE_HTML_END1 + 5 };

#define PATTERN_OPTIONS (PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_DOLLAR_ENDONLY)

static pcre2_code **
get_patterns (void)
{
  static pcre2_code *res[N_RES];
  static gsize initialized = 0;

  if (g_once_init_enter (&initialized))
    {
      res[RE_HTML_START] = _agentexec_pcre2_compile (html_start_pattern, PATTERN_OPTIONS);
      res[RE_HTML_TAG] = _agentexec_pcre2_compile (html_tag_pattern, PATTERN_OPTIONS);
      for (guint i = 0; i < G_N_ELEMENTS (html_end_patterns); i++)
        res[RE_HTML_END1 + i] = _agentexec_pcre2_compile (html_end_patterns[i], PATTERN_OPTIONS);
      g_once_init_leave (&initialized, 1);
    }
  return res;
}

/* ---- characters and columns ------------------------------------------ */

static inline char
peek (AgentExecFenceScanner *self,
      gsize                  pos)
{
  /* Past the content the line ends: its newline is virtual. A NUL byte is
   * an ordinary character here (CommonMark turns it into U+FFFD). */
  return pos < self->len ? self->line[pos] : '\n';
}

static inline gboolean
is_space_or_tab (char c)
{
  return c == ' ' || c == '\t';
}

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
advance_offset (AgentExecFenceScanner *self,
                gsize                  count,
                gboolean               columns)
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

/* Valid UTF-8, where a NUL counts as the U+FFFD it stands for. */
static gboolean
utf8_valid (const char *p,
            gsize       len)
{
  const char *end = p + len;

  while (p < end)
    {
      const char *stop;

      if (!g_utf8_validate_len (p, end - p, &stop))
        {
          if (*stop != '\0')
            return FALSE;
          p = stop + 1;
        }
      else
        break;
    }
  return TRUE;
}

/* ---- the stack of open blocks ----------------------------------------- */

static inline Node *
top (AgentExecFenceScanner *self)
{
  return &self->nodes[self->n_nodes - 1];
}

static void
emit_fence (AgentExecFenceScanner *self,
            guint64                end,
            gboolean               closed)
{
  g_autofree char *language = _agentexec_info_get_language (self->info);
  AgentExecCodeBlock *block;

  block = _agentexec_code_block_new (language, self->info,
                                     g_string_free (g_steal_pointer (&self->code), FALSE),
                                     self->fence_start, end, closed);
  g_clear_pointer (&self->info, g_free);
  self->func (block, self->user_data);
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
close_unmatched (AgentExecFenceScanner *self,
                 guint                  matched)
{
  while (self->n_nodes > matched)
    pop (self);
}

static gboolean
can_contain (NodeType parent,
             NodeType child)
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
add_child (AgentExecFenceScanner *self,
           NodeType               type)
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

/* ---- block starts ------------------------------------------------------- */

static gsize
scan_atx_heading_start (AgentExecFenceScanner *self,
                        gsize                  pos)
{
  gsize start = pos;

  while (peek (self, pos) == '#' && pos - start < 7)
    pos++;
  if (pos - start < 1 || pos - start > 6)
    return 0;
  if (!is_space_or_tab (peek (self, pos)) && pos < self->len)
    return 0;
  return pos - start;
}

static gsize
scan_open_code_fence (AgentExecFenceScanner *self,
                      gsize                  pos)
{
  char c = peek (self, pos);
  gsize start = pos;

  if (c != '`' && c != '~')
    return 0;
  while (pos < self->len && self->line[pos] == c)
    pos++;
  if (pos - start < 3)
    return 0;
  if (c == '`' && memchr (self->line + pos, '`', self->len - pos) != NULL)
    return 0;
  /* The info string is characters: invalid UTF-8 makes it no fence. */
  if (!utf8_valid (self->line + pos, self->len - pos))
    return 0;
  return pos - start;
}

static gsize
scan_close_code_fence (AgentExecFenceScanner *self,
                       gsize                  pos)
{
  gsize start = pos;
  gsize count;

  while (pos < self->len && self->line[pos] == self->fence_char)
    pos++;
  count = pos - start;
  while (pos < self->len && is_space_or_tab (self->line[pos]))
    pos++;
  return pos == self->len ? count : 0;
}

static gboolean
scan_setext_heading_line (AgentExecFenceScanner *self,
                          gsize                  pos)
{
  char c = peek (self, pos);

  if (c != '=' && c != '-')
    return FALSE;
  while (pos < self->len && self->line[pos] == c)
    pos++;
  while (pos < self->len && is_space_or_tab (self->line[pos]))
    pos++;
  return pos == self->len;
}

static gboolean
scan_thematic_break (AgentExecFenceScanner *self,
                     gsize                  pos)
{
  char c = peek (self, pos);
  guint count = 1;

  if (c != '*' && c != '_' && c != '-')
    {
      self->kill_pos = pos;
      return FALSE;
    }
  for (pos++; pos < self->len; pos++)
    {
      char next = self->line[pos];

      if (next == c)
        count++;
      else if (!is_space_or_tab (next))
        break;
    }
  if (count >= 3 && pos == self->len)
    return TRUE;
  /* Any later start before this character fails on it too: that keeps a
   * line like "- - - - … x" linear. */
  self->kill_pos = pos;
  return FALSE;
}

static gboolean
rest_is_blank (AgentExecFenceScanner *self,
               gsize                  pos)
{
  while (pos < self->len && is_space_or_tab (self->line[pos]))
    pos++;
  return pos >= self->len;
}

static gsize
parse_list_marker (AgentExecFenceScanner *self,
                   gsize                  pos,
                   gboolean               interrupts_paragraph,
                   Node                  *data)
{
  gsize start = pos;
  char c = peek (self, pos);

  if (c == '*' || c == '-' || c == '+')
    {
      pos++;
      if (!is_space_or_tab (peek (self, pos)) && pos < self->len)
        return 0;
      if (interrupts_paragraph && rest_is_blank (self, pos))
        return 0;
      data->ordered = FALSE;
      data->marker = c;
    }
  else if (g_ascii_isdigit (c))
    {
      guint64 number = 0;
      guint digits = 0;

      do
        {
          number = number * 10 + (guint64) (peek (self, pos) - '0');
          pos++;
          digits++;
        }
      while (digits < 9 && g_ascii_isdigit (peek (self, pos)));

      if (interrupts_paragraph && number != 1)
        return 0;
      c = peek (self, pos);
      if (c != '.' && c != ')')
        return 0;
      pos++;
      if (!is_space_or_tab (peek (self, pos)) && pos < self->len)
        return 0;
      if (interrupts_paragraph && rest_is_blank (self, pos))
        return 0;
      data->ordered = TRUE;
      data->marker = c;
    }
  else
    return 0;

  return pos - start;
}

static guint
scan_html_block_start (AgentExecFenceScanner *self,
                       gsize                  pos,
                       gboolean               allow_type_7)
{
  pcre2_code **res = get_patterns ();
  const char *subject = self->line + pos;
  gsize length = self->len - pos;
  PCRE2_SIZE *ovector;
  int rc;

  if (peek (self, pos) != '<')
    return 0;

  rc = pcre2_match (res[RE_HTML_START], (PCRE2_SPTR) subject, length, 0, 0,
                    self->match_data, NULL);
  if (rc > 1)
    {
      ovector = pcre2_get_ovector_pointer (self->match_data);
      for (int group = 1; group < rc; group++)
        if (ovector[2 * group] != PCRE2_UNSET)
          return (guint) group;
    }
  if (!allow_type_7)
    return 0;

  rc = pcre2_match (res[RE_HTML_TAG], (PCRE2_SPTR) subject, length, 0, 0,
                    self->match_data, NULL);
  if (rc < 1)
    return 0;
  ovector = pcre2_get_ovector_pointer (self->match_data);
  if (rc > 1 && ovector[2] != PCRE2_UNSET)
    {
      /* An open tag named like a type 1 block is not type 7. */
      static const char * const excluded[] = { "pre", "script", "style", "textarea" };
      gsize name_len = ovector[3] - ovector[2];

      for (guint i = 0; i < G_N_ELEMENTS (excluded); i++)
        if (strlen (excluded[i]) == name_len &&
            g_ascii_strncasecmp (subject + ovector[2], excluded[i], name_len) == 0)
          return 0;
    }
  return 7;
}

static gboolean
html_block_ends (AgentExecFenceScanner *self,
                 guint                  type,
                 gsize                  pos)
{
  gsize length = pos < self->len ? self->len - pos : 0;

  if (type < 1 || type > 5)
    return FALSE;
  return pcre2_match (get_patterns ()[RE_HTML_END1 + type - 1],
                      (PCRE2_SPTR) (self->line + pos), length, 0, 0,
                      self->match_data, NULL) > 0;
}

/* ---- the fence ----------------------------------------------------------- */

static void
open_fence (AgentExecFenceScanner *self,
            gsize                  length)
{
  gsize info_start = self->first_nonspace + length;

  add_child (self, NODE_FENCED_CODE);
  self->fence_char = self->line[self->first_nonspace];
  self->fence_length = length;
  self->fence_offset = self->first_nonspace - self->offset;
  self->fence_start = self->line_start;
  self->fence_fresh = TRUE;
  self->info = _agentexec_decode_info_string (self->line + info_start, self->len - info_start);
  self->code = g_string_new (NULL);
  advance_offset (self, info_start - self->offset, FALSE);
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
      for (gsize i = 0; i < chars_to_tab; i++)
        g_string_append_c (self->code, ' ');
    }

  p = self->line + MIN (self->offset, self->len);
  end = self->line + self->len;
  while (p < end)
    {
      const char *nul = memchr (p, '\0', end - p);

      if (nul == NULL)
        {
          g_string_append_len (self->code, p, end - p);
          break;
        }
      g_string_append_len (self->code, p, nul - p);
      g_string_append (self->code, "\xEF\xBF\xBD");
      p = nul + 1;
    }
  g_string_append_c (self->code, '\n');
}

/* Returns %FALSE when the line is the closing fence (and is consumed). */
static gboolean
continue_fence (AgentExecFenceScanner *self,
                gsize                  eol_len)
{
  gsize matched = 0;

  if (self->indent <= 3 && peek (self, self->first_nonspace) == self->fence_char)
    matched = scan_close_code_fence (self, self->first_nonspace);

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
match_item (AgentExecFenceScanner *self,
            Node                  *item)
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
check_open_blocks (AgentExecFenceScanner *self,
                   gsize                  eol_len)
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
start_new_block (AgentExecFenceScanner *self,
                 guint                  matched)
{
  if (!self->opened)
    {
      close_unmatched (self, matched);
      self->opened = TRUE;
    }
}

static gboolean
open_list_item (AgentExecFenceScanner *self,
                guint                  matched,
                NodeType               cont_type)
{
  Node data = { 0, };
  gsize marker_len;
  gsize save_offset, save_column, spaces;
  gboolean save_partial;
  Node *list;
  Node *item;

  marker_len = parse_list_marker (self, self->first_nonspace,
                                  cont_type == NODE_PARAGRAPH, &data);
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
open_one_block (AgentExecFenceScanner *self,
                guint                  matched,
                NodeType               cont_type,
                gboolean               maybe_lazy)
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
  else if (!indented && scan_atx_heading_start (self, self->first_nonspace))
    {
      start_new_block (self, matched);
      add_child (self, NODE_HEADING);
      advance_to_end (self);
    }
  else if (!indented && (length = scan_open_code_fence (self, self->first_nonspace)))
    {
      start_new_block (self, matched);
      open_fence (self, length);
    }
  else if (!indented &&
           (html_type = scan_html_block_start (self, self->first_nonspace,
                                               cont_type != NODE_PARAGRAPH && !maybe_lazy)))
    {
      start_new_block (self, matched);
      add_child (self, NODE_HTML)->html_type = html_type;
    }
  else if (!indented && cont_type == NODE_PARAGRAPH &&
           scan_setext_heading_line (self, self->first_nonspace))
    {
      /* The paragraph becomes a heading, which ends with this line. */
      top (self)->type = NODE_HEADING;
      advance_to_end (self);
    }
  else if (!indented && self->kill_pos <= self->first_nonspace &&
           scan_thematic_break (self, self->first_nonspace))
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
open_new_blocks (AgentExecFenceScanner *self,
                 guint                  matched)
{
  NodeType cont_type = self->nodes[matched - 1].type;
  gboolean maybe_lazy = top (self)->type == NODE_PARAGRAPH;

  while (cont_type != NODE_FENCED_CODE && cont_type != NODE_INDENTED_CODE &&
         cont_type != NODE_HTML)
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
add_text (AgentExecFenceScanner *self,
          guint                  matched)
{
  Node *container;

  find_first_nonspace (self);

  /* A lazy continuation line: the open paragraph goes on, whatever prefixes
   * did not match stay open. */
  if (!self->opened && self->n_nodes > matched && !self->blank &&
      top (self)->type == NODE_PARAGRAPH)
    return;

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
      if (html_block_ends (self, container->html_type, self->first_nonspace))
        pop (self);
      break;
    case NODE_INDENTED_CODE:
    case NODE_PARAGRAPH:
    case NODE_HEADING:
    case NODE_THEMATIC_BREAK:
      break;
    default:
      if (!self->blank)
        add_child (self, NODE_PARAGRAPH);
    }

  /* Headings and thematic breaks never take a second line. */
  container = top (self);
  if (container->type == NODE_HEADING || container->type == NODE_THEMATIC_BREAK)
    self->n_nodes--;
}

static void
process_line (AgentExecFenceScanner *self,
              const char            *line,
              gsize                  len,
              gsize                  eol_len)
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
_agentexec_fence_scanner_new (AgentExecBlockFunc func,
                              gpointer           user_data)
{
  AgentExecFenceScanner *self = g_new0 (AgentExecFenceScanner, 1);

  get_patterns ();
  self->func = func;
  self->user_data = user_data;
  self->nodes_alloc = 16;
  self->nodes = g_new0 (Node, self->nodes_alloc);
  self->n_nodes = 1;
  self->nodes[0].type = NODE_DOCUMENT;
  self->pending = g_string_new (NULL);
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
  if (self->code != NULL)
    g_string_free (self->code, TRUE);
  g_string_free (self->pending, TRUE);
  pcre2_match_data_free (self->match_data);
  g_free (self);
}

/* Index of the first CR or LF in @p, or @len. */
static gsize
find_eol (const char *p,
          gsize       len)
{
  const char *nl = memchr (p, '\n', len);
  gsize limit = nl != NULL ? (gsize) (nl - p) : len;
  const char *cr = memchr (p, '\r', limit);

  return cr != NULL ? (gsize) (cr - p) : limit;
}

/* Completes the buffered partial line with the first bytes of @data. */
static void
feed_pending (AgentExecFenceScanner *self,
              const char           **data,
              gsize                 *len)
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

  k = find_eol (*data, *len);
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
_agentexec_fence_scanner_feed (AgentExecFenceScanner *self,
                               const char            *data,
                               gsize                  len)
{
  feed_pending (self, &data, &len);

  while (len > 0)
    {
      gsize k = find_eol (data, len);
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

/* ---- info strings ----------------------------------------------------------------- */

static void
append_code_point (GString  *out,
                   gunichar  c)
{
  char buf[8];
  int n;

  if (c == 0 || (c >= 0xD800 && c < 0xE000) || c > 0x10FFFF)
    c = 0xFFFD;
  n = g_unichar_to_utf8 (c, buf);
  g_string_append_len (out, buf, n);
}

/* Resolves an entity or numeric character reference at @p (which points at
 * '&'). Returns the bytes consumed, 0 when there is none. */
static gsize
decode_reference (const char *p,
                  gsize       len,
                  GString    *out)
{
  gsize i = 1;

  if (i < len && p[i] == '#')
    {
      gboolean hex = i + 1 < len && (p[i + 1] == 'x' || p[i + 1] == 'X');
      guint max_digits = hex ? 6 : 7;
      gunichar c = 0;
      gsize digits_start;

      i += hex ? 2 : 1;
      digits_start = i;
      while (i < len && i - digits_start < max_digits &&
             (hex ? g_ascii_isxdigit (p[i]) : g_ascii_isdigit (p[i])))
        {
          c = c * (hex ? 16 : 10) + (gunichar) (hex ? g_ascii_xdigit_value (p[i]) : p[i] - '0');
          i++;
        }
      if (i == digits_start || i >= len || p[i] != ';')
        return 0;
      append_code_point (out, c);
      return i + 1;
    }

  while (i < len && i <= AGENTEXEC_HTML_ENTITY_MAX_NAME && g_ascii_isalnum (p[i]))
    i++;
  if (i > 1 && i < len && p[i] == ';')
    {
      const char *utf8 = _agentexec_html_entity_lookup (p + 1, i - 1);

      if (utf8 != NULL)
        {
          g_string_append (out, utf8);
          return i + 1;
        }
    }
  return 0;
}

/**
 * _agentexec_decode_info_string:
 * @raw: the rest of an opening fence line after the fence characters
 * @len: its length
 *
 * Trims spaces and tabs, then resolves backslash escapes of ASCII
 * punctuation and entity and numeric character references, in one pass as
 * CommonMark 0.31 does. NUL becomes U+FFFD.
 *
 * Returns: (transfer full): the info string
 */
char *
_agentexec_decode_info_string (const char *raw,
                               gsize       len)
{
  GString *out;
  gsize i = 0;

  while (len > 0 && is_space_or_tab (raw[0]))
    raw++, len--;
  while (len > 0 && is_space_or_tab (raw[len - 1]))
    len--;

  out = g_string_sized_new (len);
  while (i < len)
    {
      char c = raw[i];
      gsize used;

      if (c == '\\' && i + 1 < len && g_ascii_ispunct (raw[i + 1]))
        {
          g_string_append_c (out, raw[i + 1]);
          i += 2;
        }
      else if (c == '&' && (used = decode_reference (raw + i, len - i, out)) > 0)
        i += used;
      else if (c == '\0')
        {
          g_string_append (out, "\xEF\xBF\xBD");
          i++;
        }
      else
        {
          g_string_append_c (out, c);
          i++;
        }
    }
  return g_string_free (out, FALSE);
}

/**
 * _agentexec_info_get_language:
 * @info: a decoded info string
 *
 * Returns: (transfer full): @info up to its first space or tab
 */
char *
_agentexec_info_get_language (const char *info)
{
  return g_strndup (info, strcspn (info, " \t"));
}
