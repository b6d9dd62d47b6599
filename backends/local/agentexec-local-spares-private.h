/* agentexec-local-spares-private.h: what the Local backend's runs need, made ahead
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _AgentExecLocalSpares AgentExecLocalSpares;

AgentExecLocalSpares *_agentexec_local_spares_new (void);
AgentExecLocalSpares *_agentexec_local_spares_ref (AgentExecLocalSpares *self);
void _agentexec_local_spares_unref (AgentExecLocalSpares *self);
char *_agentexec_local_spares_take_root (AgentExecLocalSpares *self,
                                         gint64 owner,
                                         gboolean sandboxed,
                                         GError **error);
void _agentexec_local_spares_drop_root (AgentExecLocalSpares *self, char *root);
const char *_agentexec_local_spares_get_mount_point (AgentExecLocalSpares *self, GError **error);
int _agentexec_local_spares_take_netns (AgentExecLocalSpares *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AgentExecLocalSpares, _agentexec_local_spares_unref)

G_END_DECLS
