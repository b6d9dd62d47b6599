/* agentexec-code-block-parser-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "agentexec-code-block-parser.h"
#include "agentexec-delimiter-scanner-private.h"

G_BEGIN_DECLS

AgentExecCodeBlock *_agentexec_code_block_parser_make_delimited (
    AgentExecCodeBlockParser *self, const char *text, const AgentExecDelimiterMatch *match);

G_END_DECLS
