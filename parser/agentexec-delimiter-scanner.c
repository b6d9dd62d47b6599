/* agentexec-delimiter-scanner.c
 *
 * ADK finds a code block with the regular expression
 * `(?P<prefix>.*?)(START1|START2…)(?P<code>.*?)(END1|END2…)(?P<suffix>.*?)$`
 * (DOTALL): the earliest position where a start delimiter matches (at one
 * position the pairs are tried in order), then the first position after it
 * where any end delimiter matches. When no end follows a start, the regex
 * backtracks to the next pair at that position, then to later positions.
 * Python's engine does that in quadratic time on long replies; this scanner
 * gives the same match in one pass: a start is only tried when some end
 * delimiter occurs at or after its code (known once the text is complete),
 * and every end search resumes where the last one stopped.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "agentexec-delimiter-scanner-private.h"
#include "agentexec-language-table-private.h"

void
_agentexec_delimiter_scanner_init (AgentExecDelimiterScanner *self, const char *const *pairs)
{
  memset (self, 0, sizeof *self);
  self->pairs = pairs;
  while (pairs[2 * self->n_pairs] != NULL)
    {
      self->max_start = MAX (self->max_start, strlen (pairs[2 * self->n_pairs]));
      self->n_pairs++;
    }
}

/* Does @needle occur at @pos? %-1 when the text is too short to tell yet. */
static int
occurs_at (const char *text, gsize len, gboolean eof, guint64 pos, const char *needle)
{
  gsize n = strlen (needle);

  if (pos + n > len)
    return eof ? 0 : -1;
  return memcmp (text + pos, needle, n) == 0;
}

/* The pair whose end delimiter occurs first at @pos, -1 for none, -2 when
 * more text is needed to decide. */
static int
end_at (AgentExecDelimiterScanner *self, const char *text, gsize len, gboolean eof, guint64 pos)
{
  for (guint i = 0; i < self->n_pairs; i++)
    {
      int r = occurs_at (text, len, eof, pos, self->pairs[2 * i + 1]);

      if (r < 0)
        return -2;
      if (r > 0)
        return (int) i;
    }
  return -1;
}

static void
find_last_end (AgentExecDelimiterScanner *self, const char *text, gsize len)
{
  self->last_end_known = TRUE;
  for (guint64 pos = len; pos > self->scan; pos--)
    if (end_at (self, text, len, TRUE, pos - 1) >= 0)
      {
        self->any_end = TRUE;
        self->last_end = pos - 1;
        return;
      }
}

/* Once the text is complete, a start is worth trying only when an end
 * delimiter occurs at or after its code. */
static gboolean
viable (AgentExecDelimiterScanner *self, guint64 code_start)
{
  return self->any_end && self->last_end >= code_start;
}

static AgentExecDelimiterResult
find_candidate (AgentExecDelimiterScanner *self, const char *text, gsize len, gboolean eof)
{
  while (self->scan < len)
    {
      for (; self->alt < self->n_pairs; self->alt++)
        {
          const char *start = self->pairs[2 * self->alt];
          int r;

          if (text[self->scan] != start[0])
            continue;
          r = occurs_at (text, len, eof, self->scan, start);
          if (r < 0)
            return DELIMITER_MORE;
          if (r == 0 || (eof && !viable (self, self->scan + strlen (start))))
            continue;

          self->have_candidate = TRUE;
          self->cand_start = self->scan;
          self->cand_pair = self->alt;
          self->end_scan = self->scan + strlen (start);
          self->alt++;
          return DELIMITER_FOUND;
        }
      self->scan++;
      self->alt = 0;
    }
  return eof ? DELIMITER_NONE : DELIMITER_MORE;
}

static AgentExecDelimiterResult
find_end (AgentExecDelimiterScanner *self,
          const char *text,
          gsize len,
          gboolean eof,
          AgentExecDelimiterMatch *match)
{
  for (; self->end_scan < len; self->end_scan++)
    {
      int pair = end_at (self, text, len, eof, self->end_scan);

      if (pair == -2)
        return DELIMITER_MORE;
      if (pair < 0)
        continue;

      match->start = self->cand_start;
      match->code_start = self->cand_start + strlen (self->pairs[2 * self->cand_pair]);
      match->code_end = self->end_scan;
      match->end = self->end_scan + strlen (self->pairs[2 * pair + 1]);
      match->pair = self->cand_pair;
      self->have_candidate = FALSE;
      self->scan = match->end;
      self->alt = 0;
      return DELIMITER_FOUND;
    }
  return eof ? DELIMITER_NONE : DELIMITER_MORE;
}

/**
 * _agentexec_delimiter_scanner_next:
 * @self: the scanner
 * @text: all the text seen so far (the scanner keeps offsets into it)
 * @len: its length
 * @eof: whether @text is complete
 * @match: (out): the match
 *
 * Finds the next match after the previous one. %DELIMITER_MORE means the
 * answer depends on text that has not arrived yet.
 */
AgentExecDelimiterResult
_agentexec_delimiter_scanner_next (AgentExecDelimiterScanner *self,
                                   const char *text,
                                   gsize len,
                                   gboolean eof,
                                   AgentExecDelimiterMatch *match)
{
  if (eof && !self->last_end_known)
    find_last_end (self, text, len);

  for (;;)
    {
      AgentExecDelimiterResult r;

      if (!self->have_candidate)
        {
          r = find_candidate (self, text, len, eof);
          if (r != DELIMITER_FOUND)
            return r;
        }
      r = find_end (self, text, len, eof, match);
      if (r != DELIMITER_NONE)
        return r;
      /* No end after this start: backtrack to the next pair or position. */
      self->have_candidate = FALSE;
    }
}

/**
 * _agentexec_delimiter_pair_describe:
 * @start_delimiter: a start delimiter such as "```tool_code\n"
 * @info: (out) (transfer full): the word after its fence characters ("" when
 *   the delimiter does not start with a fence of 3+ backticks or tildes)
 * @language: (out) (transfer full): the canonical language that word names,
 *   or the word itself when it names none
 */
void
_agentexec_delimiter_pair_describe (const char *start_delimiter, char **info, char **language)
{
  const char *p = start_delimiter;
  const char *canonical;
  gsize n;

  const char *fence;

  while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
    p++;
  fence = p;
  while (*p == fence[0] && (*p == '`' || *p == '~'))
    p++;
  while (*p == ' ' || *p == '\t')
    p++;
  /* Only a fence-like delimiter names a language. */
  n = p - fence >= 3 ? strcspn (p, " \t\r\n`~{}") : 0;
  *info = g_strndup (p, n);
  canonical = n > 0 ? _agentexec_language_canonical (*info) : NULL;
  *language = g_strdup (canonical != NULL ? canonical : *info);
}

/* Delimited code is the exact bytes between the delimiters; a NUL becomes
 * U+FFFD so the code stays one C string. */
static char *
copy_code (const char *p, gsize len, gsize *out_len)
{
  GString *out = g_string_sized_new (len);
  const char *end = p + len;

  while (p < end)
    {
      const char *nul = memchr (p, '\0', end - p);

      if (nul == NULL)
        {
          g_string_append_len (out, p, end - p);
          break;
        }
      g_string_append_len (out, p, nul - p);
      g_string_append (out, "\xEF\xBF\xBD");
      p = nul + 1;
    }
  *out_len = out->len;
  return g_string_free (out, FALSE);
}

/*
 * _agentexec_delimiter_match_to_block:
 * @text: the text @match was found in
 * @match: a match
 * @info: the info of the matched pair (see _agentexec_delimiter_pair_describe())
 * @language: the language of the matched pair
 * @block: (out caller-allocates): the block, to clear with
 *   _agentexec_raw_block_clear()
 */
void
_agentexec_delimiter_match_to_block (const char *text,
                                     const AgentExecDelimiterMatch *match,
                                     const char *info,
                                     const char *language,
                                     AgentExecRawBlock *block)
{
  block->language = g_strdup (language);
  block->info = g_strdup (info);
  block->code = copy_code (text + match->code_start, match->code_end - match->code_start,
                           &block->code_length);
  block->start = match->start;
  block->end = match->end;
  block->closed = TRUE;
}
