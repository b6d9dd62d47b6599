/* agentexec-sse-private.h: an incremental Server-Sent Events parser
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _AgentExecSseParser AgentExecSseParser;

/* Called once per event with its data lines joined by "\n" (NUL-terminated);
 * returning FALSE (with @error set) stops the parser. */
typedef gboolean (*AgentExecSseEventFunc) (const char *data,
                                           gsize len,
                                           gpointer user_data,
                                           GError **error);

AgentExecSseParser *_agentexec_sse_parser_new (AgentExecSseEventFunc func, gpointer user_data);
gboolean
_agentexec_sse_parser_feed (AgentExecSseParser *self, const char *data, gsize len, GError **error);
gboolean _agentexec_sse_parser_finish (AgentExecSseParser *self, GError **error);
guint _agentexec_sse_parser_get_n_events (AgentExecSseParser *self);
void _agentexec_sse_parser_free (AgentExecSseParser *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AgentExecSseParser, _agentexec_sse_parser_free)

G_END_DECLS
