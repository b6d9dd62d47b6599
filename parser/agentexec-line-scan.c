/* agentexec-line-scan.c: classifying one line of CommonMark block structure
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "agentexec-line-scan-private.h"
#include "agentexec-pcre2-private.h"

#define peek(pos) _agentexec_line_peek (line, len, (pos))
#define is_space_or_tab(c) _agentexec_is_space_or_tab (c)

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
static const char *const html_end_patterns[] = {
  "^.*?</(?i:script|pre|style|textarea)>", "^.*?-->", "^.*?\\?>", "^.*?>", "^.*?\\]\\]>",
};

enum
{
  RE_HTML_START,
  RE_HTML_TAG,
  RE_HTML_END1,
  N_RES = RE_HTML_END1 + 5
};

#define PATTERN_OPTIONS (PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_DOLLAR_ENDONLY)

/* Each pattern is compiled the first time a line needs it: most texts have
 * no HTML block, and a program that parses one reply should not pay for
 * seven compilations at start-up. */
static pcre2_code *
get_pattern (guint which)
{
  static pcre2_code *res[N_RES];
  static gsize initialized[N_RES];

  if (g_once_init_enter (&initialized[which]))
    {
      const char *pattern = which == RE_HTML_START ? html_start_pattern
                            : which == RE_HTML_TAG ? html_tag_pattern
                                                   : html_end_patterns[which - RE_HTML_END1];

      res[which] = _agentexec_pcre2_compile (pattern, PATTERN_OPTIONS);
      g_once_init_leave (&initialized[which], 1);
    }
  return res[which];
}

/* Valid UTF-8, where a NUL counts as the U+FFFD it stands for. */
gboolean
_agentexec_utf8_valid_or_nul (const char *p, gsize len)
{
  const char *end = p + len;

  while (p < end)
    {
      const char *stop;

      if (g_utf8_validate_len (p, end - p, &stop))
        break;
      if (*stop != '\0')
        return FALSE;
      p = stop + 1;
    }
  return TRUE;
}

/* "#" to "######" followed by a space, a tab or the end of the line. */
gsize
_agentexec_scan_atx_heading_start (const char *line, gsize len, gsize pos)
{
  gsize start = pos;

  while (peek (pos) == '#' && pos - start < 7)
    pos++;
  if (pos - start < 1 || pos - start > 6)
    return 0;
  if (!is_space_or_tab (peek (pos)) && pos < len)
    return 0;
  return pos - start;
}

/* An opening fence: 3+ backticks or tildes; a backtick fence's info string
 * holds no backtick, and an info string is characters (valid UTF-8).
 * Returns the fence length, 0 for none. */
gsize
_agentexec_scan_open_code_fence (const char *line, gsize len, gsize pos)
{
  char c = peek (pos);
  gsize start = pos;

  if (c != '`' && c != '~')
    return 0;
  while (pos < len && line[pos] == c)
    pos++;
  if (pos - start < 3)
    return 0;
  if (c == '`' && memchr (line + pos, '`', len - pos) != NULL)
    return 0;
  if (!_agentexec_utf8_valid_or_nul (line + pos, len - pos))
    return 0;
  return pos - start;
}

/* A run of @fence_char followed only by spaces and tabs: its length. */
gsize
_agentexec_scan_close_code_fence (const char *line, gsize len, gsize pos, char fence_char)
{
  gsize start = pos;
  gsize count;

  while (pos < len && line[pos] == fence_char)
    pos++;
  count = pos - start;
  while (pos < len && is_space_or_tab (line[pos]))
    pos++;
  return pos == len ? count : 0;
}

gboolean
_agentexec_scan_setext_heading_line (const char *line, gsize len, gsize pos)
{
  char c = peek (pos);

  if (c != '=' && c != '-')
    return FALSE;
  while (pos < len && line[pos] == c)
    pos++;
  while (pos < len && is_space_or_tab (line[pos]))
    pos++;
  return pos == len;
}

/* Three or more '*', '-' or '_' with only spaces and tabs around them. On
 * failure *@kill_pos is where it failed: any later start before it fails
 * there too, which keeps a line like "- - - - … x" linear. */
gboolean
_agentexec_scan_thematic_break (const char *line, gsize len, gsize pos, gsize *kill_pos)
{
  char c = peek (pos);
  guint count = 1;

  if (c != '*' && c != '_' && c != '-')
    {
      *kill_pos = pos;
      return FALSE;
    }
  for (pos++; pos < len; pos++)
    {
      char next = line[pos];

      if (next == c)
        count++;
      else if (!is_space_or_tab (next))
        break;
    }
  if (count >= 3 && pos == len)
    return TRUE;
  *kill_pos = pos;
  return FALSE;
}

static gboolean
rest_is_blank (const char *line, gsize len, gsize pos)
{
  while (pos < len && is_space_or_tab (line[pos]))
    pos++;
  return pos >= len;
}

/* A bullet ("-", "+", "*") or ordered ("1." / "1)", up to 9 digits) list
 * marker followed by a space, a tab or the end of the line. Interrupting a
 * paragraph, the item must not be empty and an ordered one must start at 1.
 * Returns the marker's length, 0 for none. */
gsize
_agentexec_parse_list_marker (const char *line,
                              gsize len,
                              gsize pos,
                              gboolean interrupts_paragraph,
                              gboolean *ordered,
                              char *marker)
{
  gsize start = pos;
  char c = peek (pos);

  if (c == '*' || c == '-' || c == '+')
    {
      pos++;
      *ordered = FALSE;
    }
  else if (g_ascii_isdigit (c))
    {
      guint64 number = 0;
      guint digits = 0;

      do
        {
          number = number * 10 + (guint64) (peek (pos) - '0');
          pos++;
          digits++;
        }
      while (digits < 9 && g_ascii_isdigit (peek (pos)));

      if (interrupts_paragraph && number != 1)
        return 0;
      c = peek (pos);
      if (c != '.' && c != ')')
        return 0;
      pos++;
      *ordered = TRUE;
    }
  else
    return 0;

  if (!is_space_or_tab (peek (pos)) && pos < len)
    return 0;
  if (interrupts_paragraph && rest_is_blank (line, len, pos))
    return 0;
  *marker = c;
  return pos - start;
}

/* The type (1-7) of the HTML block starting at @pos, 0 for none. */
guint
_agentexec_scan_html_block_start (
    const char *line, gsize len, gsize pos, gboolean allow_type_7, pcre2_match_data *match_data)
{
  const char *subject = line + pos;
  gsize length = len - pos;
  PCRE2_SIZE *ovector;
  int rc;

  if (peek (pos) != '<')
    return 0;

  rc = pcre2_match (get_pattern (RE_HTML_START), (PCRE2_SPTR) subject, length, 0, 0, match_data,
                    NULL);
  if (rc > 1)
    {
      ovector = pcre2_get_ovector_pointer (match_data);
      for (int group = 1; group < rc; group++)
        if (ovector[2 * group] != PCRE2_UNSET)
          return (guint) group;
    }
  if (!allow_type_7)
    return 0;

  rc =
      pcre2_match (get_pattern (RE_HTML_TAG), (PCRE2_SPTR) subject, length, 0, 0, match_data, NULL);
  if (rc < 1)
    return 0;
  ovector = pcre2_get_ovector_pointer (match_data);
  if (rc > 1 && ovector[2] != PCRE2_UNSET)
    {
      /* An open tag named like a type 1 block is not type 7. */
      static const char *const excluded[] = { "pre", "script", "style", "textarea" };
      gsize name_len = ovector[3] - ovector[2];

      for (guint i = 0; i < G_N_ELEMENTS (excluded); i++)
        if (strlen (excluded[i]) == name_len &&
            g_ascii_strncasecmp (subject + ovector[2], excluded[i], name_len) == 0)
          return 0;
    }
  return 7;
}

/* Whether the line from @pos meets the end condition of an HTML block of
 * @type (1-5; blocks 6 and 7 end at a blank line instead). */
gboolean
_agentexec_html_block_ends (
    const char *line, gsize len, gsize pos, guint type, pcre2_match_data *match_data)
{
  gsize length = pos < len ? len - pos : 0;

  if (type < 1 || type > 5)
    return FALSE;
  return pcre2_match (get_pattern (RE_HTML_END1 + type - 1), (PCRE2_SPTR) (line + pos), length, 0,
                      0, match_data, NULL) > 0;
}
