/* agentexec-code-block-parser.h: finds the code blocks of a model's reply
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(AGENTEXEC_INSIDE) && !defined(AGENTEXEC_COMPILATION)
#error "Only <libagentexec.h> can be included directly."
#endif

#include <glib-object.h>

#include "agentexec-code-block.h"
#include "agentexec-version-macros.h"

G_BEGIN_DECLS

#define AGENTEXEC_TYPE_CODE_BLOCK_PARSER (agentexec_code_block_parser_get_type ())

AGENTEXEC_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (
    AgentExecCodeBlockParser, agentexec_code_block_parser, AGENTEXEC, CODE_BLOCK_PARSER, GObject)

AGENTEXEC_AVAILABLE_IN_ALL
AgentExecCodeBlockParser *agentexec_code_block_parser_new (void);
AGENTEXEC_AVAILABLE_IN_ALL
AgentExecCodeBlockParser *
agentexec_code_block_parser_new_with_delimiters (const char *const *pairs);
AGENTEXEC_AVAILABLE_IN_ALL
gboolean agentexec_code_block_parser_get_commonmark (AgentExecCodeBlockParser *self);
AGENTEXEC_AVAILABLE_IN_ALL
const char *const *agentexec_code_block_parser_get_delimiters (AgentExecCodeBlockParser *self);
AGENTEXEC_AVAILABLE_IN_ALL
GPtrArray *agentexec_code_block_parser_extract_code_blocks (AgentExecCodeBlockParser *self,
                                                            const char *text);
AGENTEXEC_AVAILABLE_IN_ALL
GPtrArray *agentexec_code_block_parser_extract_code_blocks_full (AgentExecCodeBlockParser *self,
                                                                 const char *text,
                                                                 gssize len);
AGENTEXEC_AVAILABLE_IN_ALL
AgentExecCodeBlock *
agentexec_code_block_parser_extract_first_code_block (AgentExecCodeBlockParser *self,
                                                      const char *text);
AGENTEXEC_AVAILABLE_IN_ALL
GPtrArray *agentexec_code_block_parser_filter_by_language (GPtrArray *blocks,
                                                           const char *const *languages);

G_END_DECLS
