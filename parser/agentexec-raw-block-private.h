/* agentexec-raw-block-private.h: a found code block as plain data
 *
 * The scanners hand blocks over as this struct, without GObject: the
 * library wraps each in an AgentExecCodeBlock, agentexec-extract prints it
 * as it comes.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  char *language;    /* owned, never NULL */
  char *info;        /* owned, never NULL */
  char *code;        /* owned, never NULL; a NUL byte never occurs inside */
  gsize code_length; /* strlen (code) */
  guint64 start;     /* byte offset where the block starts */
  guint64 end;       /* byte offset just past it */
  gboolean closed;
} AgentExecRawBlock;

/* Receives each block as soon as it is complete. The receiver may steal
 * any of its strings (setting the field to NULL); the rest is freed by the
 * caller after the call. */
typedef void (*AgentExecBlockFunc) (AgentExecRawBlock *block, gpointer user_data);

static inline void
_agentexec_raw_block_clear (AgentExecRawBlock *block)
{
  g_clear_pointer (&block->language, g_free);
  g_clear_pointer (&block->info, g_free);
  g_clear_pointer (&block->code, g_free);
}

G_END_DECLS
