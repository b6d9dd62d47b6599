/* agentexec-docker-hijack-private.h: a hijacked (upgraded) Engine API connection
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "agentexec-docker-client-private.h"

G_BEGIN_DECLS

typedef struct _AgentExecDockerHijack AgentExecDockerHijack;

AgentExecDockerHijack *_agentexec_docker_client_hijack (AgentExecDockerClient *client,
                                                        const char *path,
                                                        AgentExecDockerFrameFunc func,
                                                        gpointer user_data,
                                                        GCancellable *cancellable,
                                                        GError **error);
gboolean _agentexec_docker_hijack_send (AgentExecDockerHijack *self,
                                        const void *data,
                                        gsize len,
                                        GError **error);
AgentExecDockerWait _agentexec_docker_hijack_pump (AgentExecDockerHijack *self,
                                                   gint64 deadline,
                                                   GCancellable *cancellable,
                                                   GError **error);
void _agentexec_docker_hijack_free (AgentExecDockerHijack *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AgentExecDockerHijack, _agentexec_docker_hijack_free)

G_END_DECLS
