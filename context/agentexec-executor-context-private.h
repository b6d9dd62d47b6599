/* agentexec-executor-context-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "agentexec-executor-context.h"

G_BEGIN_DECLS

JsonNode *_agentexec_json_node_deep_copy (JsonNode *node);

G_END_DECLS
