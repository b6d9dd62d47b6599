/* agentexec-container-run-private.h: one stateless run in a fresh container
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "agentexec-container-executor.h"
#include "agentexec-container-runtime-private.h"
#include "agentexec-docker-client-private.h"

G_BEGIN_DECLS

struct _AgentExecContainerSessions;
struct _AgentExecContainerPool;

JsonNode *_agentexec_container_create_body (const AgentExecContainerSpec *spec,
                                            const char *const *argv,
                                            const char *const *env);
AgentExecExecutionResult *_agentexec_container_run_stateless (AgentExecContainerExecutor *self,
                                                              AgentExecContainerRuntime *runtime,
                                                              struct _AgentExecContainerPool *pool,
                                                              AgentExecExecutionInput *input,
                                                              const char *language,
                                                              GMainContext *output_context,
                                                              GCancellable *cancellable,
                                                              GError **error);

AgentExecExecutionResult *
_agentexec_container_run_stateful (AgentExecContainerExecutor *self,
                                   AgentExecContainerRuntime *runtime,
                                   struct _AgentExecContainerSessions *sessions,
                                   AgentExecExecutionInput *input,
                                   const char *language,
                                   guint max_sessions,
                                   guint idle_timeout_ms,
                                   GMainContext *output_context,
                                   GCancellable *cancellable,
                                   GError **error);

G_END_DECLS
