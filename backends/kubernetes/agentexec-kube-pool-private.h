/* agentexec-kube-pool-private.h: warm pool of ready pods, claims, cold starts, reaping
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "agentexec-kube-client-private.h"
#include "agentexec-kube-pod-private.h"

G_BEGIN_DECLS

typedef struct _AgentExecKubePool AgentExecKubePool;

typedef struct
{
  char *name;
  char *token;
  gboolean warm; /* came from the pool */
} AgentExecKubeClaim;

AgentExecKubePool *_agentexec_kube_pool_new (AgentExecKubeClient *client,
                                             const AgentExecKubePodSpec *spec,
                                             guint size,
                                             guint ready_timeout_ms);
AgentExecKubeClaim *
_agentexec_kube_pool_claim (AgentExecKubePool *self, GCancellable *cancellable, GError **error);
void _agentexec_kube_pool_free (AgentExecKubePool *self);
void _agentexec_kube_claim_free (AgentExecKubeClaim *claim);

JsonObject *_agentexec_kube_wait_ready (AgentExecKubeClient *client,
                                        const char *name,
                                        const char *resource_version,
                                        guint timeout_ms,
                                        GCancellable *cancellable,
                                        GError **error);
gboolean _agentexec_kube_delete_pod (AgentExecKubeClient *client,
                                     const char *name,
                                     GCancellable *cancellable,
                                     GError **error);
guint _agentexec_kube_reap_orphans (AgentExecKubeClient *client,
                                    const char *owner_host,
                                    GCancellable *cancellable,
                                    GError **error);
guint _agentexec_kube_delete_owned (AgentExecKubeClient *client, const char *owner, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AgentExecKubeClaim, _agentexec_kube_claim_free)

G_END_DECLS
