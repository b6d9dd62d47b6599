/* agentexec-code-block-stream.h: code blocks of a reply that arrives in pieces
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(AGENTEXEC_INSIDE) && !defined(AGENTEXEC_COMPILATION)
#error "Only <libagentexec.h> can be included directly."
#endif

#include <glib-object.h>

#include "agentexec-code-block-parser.h"
#include "agentexec-version-macros.h"

G_BEGIN_DECLS

#define AGENTEXEC_TYPE_CODE_BLOCK_STREAM (agentexec_code_block_stream_get_type ())

AGENTEXEC_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (
    AgentExecCodeBlockStream, agentexec_code_block_stream, AGENTEXEC, CODE_BLOCK_STREAM, GObject)

AGENTEXEC_AVAILABLE_IN_ALL
AgentExecCodeBlockStream *agentexec_code_block_stream_new (AgentExecCodeBlockParser *parser);
AGENTEXEC_AVAILABLE_IN_ALL
AgentExecCodeBlockParser *agentexec_code_block_stream_get_parser (AgentExecCodeBlockStream *self);
AGENTEXEC_AVAILABLE_IN_ALL
void agentexec_code_block_stream_feed (AgentExecCodeBlockStream *self, const char *chunk);
AGENTEXEC_AVAILABLE_IN_ALL
void agentexec_code_block_stream_feed_full (AgentExecCodeBlockStream *self,
                                            const char *data,
                                            gssize len);
AGENTEXEC_AVAILABLE_IN_ALL
void agentexec_code_block_stream_finish (AgentExecCodeBlockStream *self);
AGENTEXEC_AVAILABLE_IN_ALL
gboolean agentexec_code_block_stream_is_finished (AgentExecCodeBlockStream *self);
AGENTEXEC_AVAILABLE_IN_ALL
GPtrArray *agentexec_code_block_stream_get_blocks (AgentExecCodeBlockStream *self);

G_END_DECLS
