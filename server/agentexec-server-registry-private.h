/* agentexec-server-registry-private.h: the contexts of a server
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Contexts by id, the default context of each language (made on first use,
 * as E2B's /execute without context_id does), the --max-contexts limit, and
 * the end of contexts left idle for --context-idle-timeout.
 */

#pragma once

#include "agentexec-server-context-private.h"

G_BEGIN_DECLS

#define AGENTEXEC_TYPE_SERVER_REGISTRY (agentexec_server_registry_get_type ())
G_DECLARE_FINAL_TYPE (
    AgentExecServerRegistry, agentexec_server_registry, AGENTEXEC, SERVER_REGISTRY, GObject)

AgentExecServerRegistry *_agentexec_server_registry_new (AgentExecCodeExecutor *executor,
                                                         guint max_contexts,
                                                         guint idle_timeout_s);
AgentExecServerContext *_agentexec_server_registry_create (AgentExecServerRegistry *self,
                                                           const char *language,
                                                           const char *cwd,
                                                           GError **error);
AgentExecServerContext *_agentexec_server_registry_lookup (AgentExecServerRegistry *self,
                                                           const char *id);
AgentExecServerContext *_agentexec_server_registry_get_default (AgentExecServerRegistry *self,
                                                                const char *language,
                                                                GError **error);
AgentExecServerContext *_agentexec_server_registry_remove (AgentExecServerRegistry *self,
                                                           const char *id);
JsonNode *_agentexec_server_registry_to_json (AgentExecServerRegistry *self);
GPtrArray *_agentexec_server_registry_list (AgentExecServerRegistry *self);
guint _agentexec_server_registry_get_pending (AgentExecServerRegistry *self);
void _agentexec_server_registry_cancel_all (AgentExecServerRegistry *self, const char *reason);

G_END_DECLS
