/* agentexec-link-reference.c: does a paragraph hold nothing but link
 * reference definitions?
 *
 * Block structure needs this in one place only: a setext underline after
 * such a paragraph does not make a heading (the paragraph goes on, which can
 * keep a block quote or list item open for lazy lines). The definitions are
 * recognised as the reference implementation does (cmark's
 * cmark_parse_reference_inline): label, ':', destination, optional title,
 * then the end of the line.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "agentexec-line-scan-private.h"
#include "agentexec-link-reference-private.h"

#define MAX_LABEL_LENGTH 1000
#define MAX_PARENS 32

typedef struct
{
  const char *s;
  gsize len;
  gsize pos;
} Subject;

static inline char
peek_char (Subject *subj)
{
  return subj->pos < subj->len ? subj->s[subj->pos] : '\0';
}

static inline gboolean
at_end (Subject *subj)
{
  return subj->pos >= subj->len;
}

static void
skip_spaces (Subject *subj)
{
  while (peek_char (subj) == ' ' || peek_char (subj) == '\t')
    subj->pos++;
}

static gboolean
skip_line_end (Subject *subj)
{
  gboolean seen = FALSE;

  if (peek_char (subj) == '\r')
    subj->pos++, seen = TRUE;
  if (peek_char (subj) == '\n')
    subj->pos++, seen = TRUE;
  return seen || at_end (subj);
}

static void
spnl (Subject *subj)
{
  skip_spaces (subj);
  if (skip_line_end (subj))
    skip_spaces (subj);
}

static gboolean
is_label_space (char c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* "[label]" with at least one non-space character; no unescaped brackets. */
static gboolean
link_label (Subject *subj)
{
  gsize start = subj->pos;
  gsize length = 0;
  gboolean content = FALSE;

  if (peek_char (subj) != '[')
    return FALSE;
  subj->pos++;
  while (!at_end (subj) && peek_char (subj) != '[' && peek_char (subj) != ']')
    {
      char c = peek_char (subj);

      content |= !is_label_space (c);
      subj->pos++;
      length++;
      if (c == '\\' && g_ascii_ispunct (peek_char (subj)))
        {
          subj->pos++;
          length++;
        }
      if (length > MAX_LABEL_LENGTH)
        break;
    }
  if (length <= MAX_LABEL_LENGTH && peek_char (subj) == ']' && !at_end (subj) && content)
    {
      subj->pos++;
      return TRUE;
    }
  subj->pos = start;
  return FALSE;
}

/* A destination: "<…>" on one line, or a run without spaces or controls
 * with balanced parentheses. Returns its length, -1 for none. */
static gssize
link_destination (Subject *subj)
{
  const char *s = subj->s;
  gsize i = subj->pos;
  gsize parens = 0;

  if (i < subj->len && s[i] == '<')
    {
      for (i++; i < subj->len; i++)
        {
          if (s[i] == '>')
            return i + 1 < subj->len ? (gssize) (i + 1 - subj->pos) : -1;
          if (s[i] == '\\')
            i++;
          else if (s[i] == '\n' || s[i] == '<')
            return -1;
        }
      return -1;
    }

  while (i < subj->len)
    {
      char c = s[i];

      if (c == '\\' && i + 1 < subj->len && g_ascii_ispunct (s[i + 1]))
        i += 2;
      else if (c == '(')
        {
          if (++parens > MAX_PARENS)
            return -1;
          i++;
        }
      else if (c == ')')
        {
          if (parens == 0)
            break;
          parens--;
          i++;
        }
      else if (c != '\0' && (g_ascii_isspace (c) || g_ascii_iscntrl (c)))
        {
          if (i == subj->pos)
            return -1;
          break;
        }
      else
        i++;
    }
  if (i >= subj->len || parens != 0)
    return -1;
  return (gssize) (i - subj->pos);
}

/* A title in "…", '…' or (…), backslash escapes allowed, over lines. */
static gsize
link_title (Subject *subj)
{
  const char *s = subj->s;
  gsize i = subj->pos;
  char open = peek_char (subj);
  char close;

  if (open == '"' || open == '\'')
    close = open;
  else if (open == '(')
    close = ')';
  else
    return 0;

  for (i++; i < subj->len; i++)
    {
      char c = s[i];

      if (c == '\\' && i + 1 < subj->len && g_ascii_ispunct (s[i + 1]))
        i++;
      else if (c == close)
        {
          if (!_agentexec_utf8_valid_or_nul (s + subj->pos, i + 1 - subj->pos))
            return 0;
          return i + 1 - subj->pos;
        }
      else if (open == '(' && c == '(')
        return 0;
    }
  return 0;
}

/* One definition at the subject's position: its length, or 0. */
static gsize
parse_definition (Subject *subj)
{
  gsize start = subj->pos;
  gsize before_title;
  gssize dest;
  gsize title = 0;

  if (!link_label (subj) || peek_char (subj) != ':')
    goto fail;
  subj->pos++;
  spnl (subj);
  if ((dest = link_destination (subj)) < 0)
    goto fail;
  subj->pos += dest;

  before_title = subj->pos;
  spnl (subj);
  if (subj->pos != before_title)
    title = link_title (subj);
  if (title > 0)
    subj->pos += title;
  else
    subj->pos = before_title;

  skip_spaces (subj);
  if (!skip_line_end (subj))
    {
      if (title == 0)
        goto fail;
      subj->pos = before_title;
      skip_spaces (subj);
      if (!skip_line_end (subj))
        goto fail;
    }
  return subj->pos - start;

fail:
  subj->pos = start;
  return 0;
}

/**
 * _agentexec_only_link_reference_definitions:
 * @text: a paragraph's content, each line ending with '\n'
 * @len: its length
 *
 * Returns: whether @text is one or more link reference definitions and
 *   nothing else
 */
gboolean
_agentexec_only_link_reference_definitions (const char *text, gsize len)
{
  Subject subj = { text, len, 0 };

  while (peek_char (&subj) == '[' && !at_end (&subj) && parse_definition (&subj) > 0)
    ;
  return subj.pos > 0 && at_end (&subj);
}
