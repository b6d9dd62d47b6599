/* agentexec-fence-scanner-private.h: incremental CommonMark block scanner
 * that reports fenced code blocks
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

#include "agentexec-raw-block-private.h"

G_BEGIN_DECLS

typedef struct _AgentExecFenceScanner AgentExecFenceScanner;

AgentExecFenceScanner *_agentexec_fence_scanner_new (AgentExecBlockFunc func, gpointer user_data);
void _agentexec_fence_scanner_free (AgentExecFenceScanner *self);
void _agentexec_fence_scanner_feed (AgentExecFenceScanner *self, const char *data, gsize len);
void _agentexec_fence_scanner_finish (AgentExecFenceScanner *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AgentExecFenceScanner, _agentexec_fence_scanner_free)

G_END_DECLS
