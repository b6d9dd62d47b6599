/* agentexec-kube-executor-private.h: what the run code asks of the executor
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "agentexec-kubernetes-executor.h"
#include "agentexec-kube-client-private.h"
#include "agentexec-kube-pool-private.h"

G_BEGIN_DECLS

AgentExecKubeClient *_agentexec_kubernetes_executor_get_client (AgentExecKubernetesExecutor *self);
AgentExecKubePool *_agentexec_kubernetes_executor_get_pool (AgentExecKubernetesExecutor *self);
guint _agentexec_kubernetes_executor_get_port (AgentExecKubernetesExecutor *self);
void _agentexec_kubernetes_executor_delete_later (AgentExecKubernetesExecutor *self,
                                                  const char *pod);
void _agentexec_kubernetes_executor_get_spec (AgentExecKubernetesExecutor *self,
                                              AgentExecKubePodSpec *spec);

G_END_DECLS
