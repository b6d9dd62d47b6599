/* agentexec-container-labels-private.h: labels on our containers, and the reaper
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "agentexec-docker-client-private.h"

G_BEGIN_DECLS

#define AGENTEXEC_LABEL_MANAGED "io.agentexec.managed"
#define AGENTEXEC_LABEL_OWNER "io.agentexec.owner"
#define AGENTEXEC_LABEL_EXECUTOR "io.agentexec.executor"

const char *_agentexec_container_owner_label (void);
char *_agentexec_container_owner_for_pid (GPid pid);
gboolean _agentexec_container_owner_is_gone (const char *owner);
gboolean
_agentexec_container_remove (AgentExecDockerClient *client, const char *id, GError **error);
GStrv _agentexec_container_list_labelled (AgentExecDockerClient *client,
                                          const char *label_filter,
                                          GStrv *owners,
                                          GCancellable *cancellable,
                                          GError **error);
guint _agentexec_container_reap_orphans (AgentExecDockerClient *client,
                                         GCancellable *cancellable,
                                         GError **error);
guint _agentexec_container_remove_labelled (AgentExecDockerClient *client,
                                            const char *label_filter,
                                            GError **error);

G_END_DECLS
