/* agentexec-info-string.c: the info string of an opening code fence
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "agentexec-html-entities-private.h"
#include "agentexec-info-string-private.h"

#define IS_SPACE_OR_TAB(c) ((c) == ' ' || (c) == '\t')

static void
append_code_point (GString *out, gunichar c)
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
decode_reference (const char *p, gsize len, GString *out)
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
_agentexec_decode_info_string (const char *raw, gsize len)
{
  GString *out;
  gsize i = 0;

  while (len > 0 && IS_SPACE_OR_TAB (raw[0]))
    raw++, len--;
  while (len > 0 && IS_SPACE_OR_TAB (raw[len - 1]))
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
