/* agentexec-base-executor-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "agentexec-base-executor.h"

G_BEGIN_DECLS

void _agentexec_base_executor_set_initialized (AgentExecBaseExecutor *self, gboolean initialized);
gboolean _agentexec_base_executor_check_initialized (AgentExecBaseExecutor *self, GError **error);

guint _agentexec_base_executor_effective_timeout_ms (AgentExecBaseExecutor *self,
                                                     AgentExecExecutionInput *input);
gboolean _agentexec_error_is_transient (const GError *error);
char *_agentexec_timeout_sentence (guint timeout_ms);
void _agentexec_base_executor_set_builtin (AgentExecBaseExecutor *self, gboolean builtin);
guint _agentexec_retry_delay_ms (guint base_delay_ms, guint attempt);
void _agentexec_retry_after_hint (guint delay_ms);
gboolean _agentexec_sleep_ms (guint delay_ms, GCancellable *cancellable, GError **error);

G_END_DECLS
