/* agentexec-code-block-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "agentexec-code-block.h"
#include "agentexec-raw-block-private.h"

G_BEGIN_DECLS

AgentExecCodeBlock *_agentexec_code_block_new_take (AgentExecRawBlock *raw);
gsize _agentexec_code_block_get_code_length (AgentExecCodeBlock *self);

G_END_DECLS
