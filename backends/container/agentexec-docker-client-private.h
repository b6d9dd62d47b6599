/* agentexec-docker-client-private.h: a small Docker Engine API client
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <curl/curl.h>

#include "agentexec-enums.h"

G_BEGIN_DECLS

typedef struct _AgentExecDockerClient AgentExecDockerClient;
typedef struct _AgentExecDockerStream AgentExecDockerStream;
typedef struct _AgentExecDockerDemux AgentExecDockerDemux;

/* Called for every demultiplexed piece of a stream frame, in order. */
typedef void (*AgentExecDockerFrameFunc) (AgentExecStream stream,
                                          const char *data,
                                          gsize len,
                                          gpointer user_data);

typedef enum
{
  AGENTEXEC_DOCKER_WAIT_DONE,
  AGENTEXEC_DOCKER_WAIT_DEADLINE,
  AGENTEXEC_DOCKER_WAIT_ERROR,
} AgentExecDockerWait;

AgentExecDockerClient *_agentexec_docker_client_new (const char *host, GError **error);
AgentExecDockerClient *_agentexec_docker_client_ref (AgentExecDockerClient *self);
void _agentexec_docker_client_unref (AgentExecDockerClient *self);
const char *_agentexec_docker_client_get_host (AgentExecDockerClient *self);
const char *_agentexec_docker_client_get_api_version (AgentExecDockerClient *self);
guint _agentexec_docker_client_get_timeout_ms (AgentExecDockerClient *self);
void _agentexec_docker_client_set_timeout_ms (AgentExecDockerClient *self, guint timeout_ms);
gboolean _agentexec_docker_client_negotiate (AgentExecDockerClient *self,
                                             GCancellable *cancellable,
                                             GError **error);
GBytes *_agentexec_docker_client_request (AgentExecDockerClient *self,
                                          const char *method,
                                          const char *path,
                                          const char *content_type,
                                          GBytes *body,
                                          gsize max_response,
                                          guint *status,
                                          GCancellable *cancellable,
                                          GError **error);
char *_agentexec_docker_client_head (AgentExecDockerClient *self,
                                     const char *path,
                                     const char *header,
                                     GCancellable *cancellable,
                                     GError **error);
JsonNode *_agentexec_docker_client_request_json (AgentExecDockerClient *self,
                                                 const char *method,
                                                 const char *path,
                                                 JsonNode *body,
                                                 guint *status,
                                                 GCancellable *cancellable,
                                                 GError **error);
AgentExecDockerStream *_agentexec_docker_client_attach (AgentExecDockerClient *self,
                                                        const char *path,
                                                        AgentExecDockerFrameFunc func,
                                                        gpointer user_data,
                                                        GCancellable *cancellable,
                                                        GError **error);

AgentExecDockerWait
_agentexec_docker_stream_wait (AgentExecDockerStream *stream, gint64 deadline, GError **error);
void _agentexec_docker_stream_free (AgentExecDockerStream *stream);

AgentExecDockerDemux *_agentexec_docker_demux_new (AgentExecDockerFrameFunc func,
                                                   gpointer user_data);
gboolean _agentexec_docker_demux_feed (AgentExecDockerDemux *demux,
                                       const char *data,
                                       gsize len,
                                       GError **error);
gboolean _agentexec_docker_demux_finish (AgentExecDockerDemux *demux, GError **error);
void _agentexec_docker_demux_free (AgentExecDockerDemux *demux);

CURL *_agentexec_docker_client_new_easy (AgentExecDockerClient *self,
                                         const char *path,
                                         GCancellable *cancellable,
                                         char *error_buffer,
                                         GError **error);
char *_agentexec_docker_client_request_target (AgentExecDockerClient *self, const char *path);
void _agentexec_docker_client_set_status_error (AgentExecDockerClient *self,
                                                const char *method,
                                                const char *path,
                                                guint status,
                                                const guint8 *body,
                                                gsize len,
                                                GError **error);
char *_agentexec_docker_uri_escape (const char *text);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AgentExecDockerClient, _agentexec_docker_client_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AgentExecDockerStream, _agentexec_docker_stream_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AgentExecDockerDemux, _agentexec_docker_demux_free)

G_END_DECLS
