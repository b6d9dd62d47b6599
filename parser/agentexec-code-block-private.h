/* agentexec-code-block-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "agentexec-code-block.h"

G_BEGIN_DECLS

AgentExecCodeBlock *_agentexec_code_block_new (const char *language,
                                               const char *info,
                                               char *code,
                                               guint64 start,
                                               guint64 end,
                                               gboolean closed);
gsize _agentexec_code_block_get_code_length (AgentExecCodeBlock *self);

G_END_DECLS
