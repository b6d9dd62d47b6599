/* agentexec-code-execution-flow-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "agentexec-code-execution-flow.h"

G_BEGIN_DECLS

gboolean _agentexec_code_execution_flow_is_gated (AgentExecCodeExecutionFlow *self,
                                                  AgentExecExecutorContext *context,
                                                  const char *invocation_id);
GStrv _agentexec_code_execution_flow_dup_code_block_delimiters (AgentExecCodeExecutionFlow *self);
AgentExecExecutionInput *
_agentexec_code_execution_flow_make_input (AgentExecCodeExecutionFlow *self,
                                           AgentExecExecutorContext *context,
                                           const char *code,
                                           const char *language);
void _agentexec_code_execution_flow_record (AgentExecCodeExecutionFlow *self,
                                            AgentExecExecutorContext *context,
                                            const char *invocation_id,
                                            AgentExecCodeExecutionStep *step,
                                            AgentExecExecutionInput *input,
                                            AgentExecExecutionResult *result);
char *_agentexec_code_execution_flow_format_result (AgentExecCodeExecutionFlow *self,
                                                    AgentExecExecutionResult *result);

G_END_DECLS
