/* agentexec-line-scan-private.h: classifying one line of CommonMark block
 * structure (block starts, fences, HTML block conditions)
 *
 * Every function looks at @line (@len bytes, without the line ending) from
 * byte @pos on; past @len the line ends. A NUL byte is an ordinary
 * character (CommonMark reads it as U+FFFD).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>
#include <pcre2.h>

G_BEGIN_DECLS

static inline char
_agentexec_line_peek (const char *line, gsize len, gsize pos)
{
  return pos < len ? line[pos] : '\n';
}

static inline gboolean
_agentexec_is_space_or_tab (char c)
{
  return c == ' ' || c == '\t';
}

gboolean _agentexec_utf8_valid_or_nul (const char *p, gsize len);
gsize _agentexec_scan_atx_heading_start (const char *line, gsize len, gsize pos);
gsize _agentexec_scan_open_code_fence (const char *line, gsize len, gsize pos);
gsize _agentexec_scan_close_code_fence (const char *line, gsize len, gsize pos, char fence_char);
gboolean _agentexec_scan_setext_heading_line (const char *line, gsize len, gsize pos);
gboolean _agentexec_scan_thematic_break (const char *line, gsize len, gsize pos, gsize *kill_pos);
gsize _agentexec_parse_list_marker (const char *line,
                                    gsize len,
                                    gsize pos,
                                    gboolean interrupts_paragraph,
                                    gboolean *ordered,
                                    char *marker);
guint _agentexec_scan_html_block_start (
    const char *line, gsize len, gsize pos, gboolean allow_type_7, pcre2_match_data *match_data);
gboolean _agentexec_html_block_ends (
    const char *line, gsize len, gsize pos, guint type, pcre2_match_data *match_data);

G_END_DECLS
