/* agentexec-kube-client-private.h: a small Kubernetes REST API client (libcurl + json-glib)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "agentexec-kube-config-private.h"

G_BEGIN_DECLS

typedef struct _AgentExecKubeClient AgentExecKubeClient;

/* One line of a streamed answer (watch events, NDJSON), without its "\n".
 * Return FALSE to end the stream early (not an error). */
typedef gboolean (*AgentExecKubeLineFunc) (const char *line, gsize len, gpointer user_data);

AgentExecKubeClient *_agentexec_kube_client_new (AgentExecKubeConfig *config, guint timeout_ms);
AgentExecKubeClient *_agentexec_kube_client_ref (AgentExecKubeClient *self);
void _agentexec_kube_client_unref (AgentExecKubeClient *self);
const char *_agentexec_kube_client_get_server (AgentExecKubeClient *self);
const char *_agentexec_kube_client_get_namespace (AgentExecKubeClient *self);
const char *_agentexec_kube_client_get_source (AgentExecKubeClient *self);
char *
_agentexec_kube_client_pods_path (AgentExecKubeClient *self, const char *name, const char *suffix);

JsonNode *_agentexec_kube_client_request (AgentExecKubeClient *self,
                                          const char *method,
                                          const char *path,
                                          const char *content_type,
                                          JsonNode *body,
                                          guint *status,
                                          GCancellable *cancellable,
                                          GError **error);
gboolean _agentexec_kube_client_stream (AgentExecKubeClient *self,
                                        const char *method,
                                        const char *path,
                                        const char *const *headers,
                                        JsonNode *body,
                                        guint timeout_ms,
                                        AgentExecKubeLineFunc func,
                                        gpointer user_data,
                                        guint *status,
                                        GCancellable *cancellable,
                                        GError **error);
gboolean _agentexec_kube_client_check_version (AgentExecKubeClient *self,
                                               GCancellable *cancellable,
                                               GError **error);
char *_agentexec_kube_json_to_string (JsonNode *node);
const char *_agentexec_kube_get_string (JsonObject *object, const char *path);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AgentExecKubeClient, _agentexec_kube_client_unref)

G_END_DECLS
