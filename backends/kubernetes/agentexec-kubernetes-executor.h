/* agentexec-kubernetes-executor.h: runs code in pods on a Kubernetes cluster
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(AGENTEXEC_INSIDE) && !defined(AGENTEXEC_COMPILATION)
#error "Only <libagentexec.h> can be included directly."
#endif

#include <gio/gio.h>

#include "agentexec-base-executor.h"
#include "agentexec-version-macros.h"

G_BEGIN_DECLS

#define AGENTEXEC_TYPE_KUBERNETES_EXECUTOR (agentexec_kubernetes_executor_get_type ())

AGENTEXEC_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (AgentExecKubernetesExecutor,
                      agentexec_kubernetes_executor,
                      AGENTEXEC,
                      KUBERNETES_EXECUTOR,
                      AgentExecBaseExecutor)

AGENTEXEC_AVAILABLE_IN_ALL
AgentExecKubernetesExecutor *agentexec_kubernetes_executor_new (GCancellable *cancellable,
                                                                GError **error);
AGENTEXEC_AVAILABLE_IN_ALL
const char *agentexec_kubernetes_executor_get_namespace (AgentExecKubernetesExecutor *self);
AGENTEXEC_AVAILABLE_IN_ALL
const char *agentexec_kubernetes_executor_get_server (AgentExecKubernetesExecutor *self);
AGENTEXEC_AVAILABLE_IN_ALL
char *agentexec_kubernetes_executor_dup_pod_manifest (AgentExecKubernetesExecutor *self,
                                                      const char *token);

G_END_DECLS
