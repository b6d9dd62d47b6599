/* agentexec-kube-run-private.h: running code in a pod through the API server's pod proxy
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "agentexec-execution-input.h"
#include "agentexec-execution-result.h"
#include "agentexec-kube-executor-private.h"
#include "agentexec-kube-pool-private.h"

G_BEGIN_DECLS

typedef struct _AgentExecKubeSessions AgentExecKubeSessions;

AgentExecExecutionResult *_agentexec_kube_run_stateless (AgentExecKubernetesExecutor *self,
                                                         AgentExecExecutionInput *input,
                                                         const char *language,
                                                         GMainContext *output_context,
                                                         GCancellable *cancellable,
                                                         GError **error);
AgentExecExecutionResult *_agentexec_kube_run_stateful (AgentExecKubernetesExecutor *self,
                                                        AgentExecKubeSessions *sessions,
                                                        AgentExecExecutionInput *input,
                                                        const char *language,
                                                        GMainContext *output_context,
                                                        GCancellable *cancellable,
                                                        GError **error);

AgentExecKubeSessions *_agentexec_kube_sessions_new (void);
void _agentexec_kube_sessions_close (AgentExecKubeSessions *sessions, AgentExecKubeClient *client);
void _agentexec_kube_sessions_end (AgentExecKubeSessions *sessions,
                                   AgentExecKubernetesExecutor *self,
                                   const char *execution_id);
void _agentexec_kube_sessions_free (AgentExecKubeSessions *sessions);

G_END_DECLS
