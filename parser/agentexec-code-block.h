/* agentexec-code-block.h: one code block found in a model's reply
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(AGENTEXEC_INSIDE) && !defined(AGENTEXEC_COMPILATION)
#error "Only <libagentexec.h> can be included directly."
#endif

#include <glib-object.h>

#include "agentexec-version-macros.h"

G_BEGIN_DECLS

#define AGENTEXEC_TYPE_CODE_BLOCK (agentexec_code_block_get_type ())

AGENTEXEC_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (AgentExecCodeBlock, agentexec_code_block, AGENTEXEC, CODE_BLOCK, GObject)

AGENTEXEC_AVAILABLE_IN_ALL
const char *agentexec_code_block_get_language (AgentExecCodeBlock *self);
AGENTEXEC_AVAILABLE_IN_ALL
const char *agentexec_code_block_get_info (AgentExecCodeBlock *self);
AGENTEXEC_AVAILABLE_IN_ALL
const char *agentexec_code_block_get_code (AgentExecCodeBlock *self);
AGENTEXEC_AVAILABLE_IN_ALL
guint64 agentexec_code_block_get_start (AgentExecCodeBlock *self);
AGENTEXEC_AVAILABLE_IN_ALL
guint64 agentexec_code_block_get_end (AgentExecCodeBlock *self);
AGENTEXEC_AVAILABLE_IN_ALL
gboolean agentexec_code_block_get_closed (AgentExecCodeBlock *self);

G_END_DECLS
