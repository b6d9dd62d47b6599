/* agentexec-delimiter-scanner-private.h: ADK's delimiter-pair extraction,
 * linear and incremental
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

#include "agentexec-raw-block-private.h"

G_BEGIN_DECLS

typedef enum
{
  DELIMITER_FOUND,
  DELIMITER_NONE,
  DELIMITER_MORE,
} AgentExecDelimiterResult;

typedef struct
{
  guint64 start;      /* offset of the start delimiter */
  guint64 code_start; /* just past it */
  guint64 code_end;   /* offset of the end delimiter */
  guint64 end;        /* just past it */
  guint pair;         /* index of the pair whose start delimiter matched */
} AgentExecDelimiterMatch;

typedef struct
{
  const char *const *pairs; /* flat: start, end, start, end… (borrowed) */
  guint n_pairs;
  gsize max_start;
  /* search state */
  guint64 scan; /* next candidate position for a start */
  guint alt;    /* next pair to try at @scan */
  gboolean have_candidate;
  guint64 cand_start;
  guint cand_pair;
  guint64 end_scan; /* next position to try for an end */
  gboolean last_end_known;
  gboolean any_end;
  guint64 last_end; /* last position where an end delimiter occurs */
} AgentExecDelimiterScanner;

void _agentexec_delimiter_scanner_init (AgentExecDelimiterScanner *self, const char *const *pairs);
AgentExecDelimiterResult _agentexec_delimiter_scanner_next (AgentExecDelimiterScanner *self,
                                                            const char *text,
                                                            gsize len,
                                                            gboolean eof,
                                                            AgentExecDelimiterMatch *match);
void _agentexec_delimiter_pair_describe (const char *start_delimiter, char **info, char **language);
void _agentexec_delimiter_match_to_block (const char *text,
                                          const AgentExecDelimiterMatch *match,
                                          const char *info,
                                          const char *language,
                                          AgentExecRawBlock *block);

G_END_DECLS
