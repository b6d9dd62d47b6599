/* agentexec-curl-private.h: what every libcurl user in the library shares
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>
#include <curl/curl.h>

#include "agentexec-autocleanups-private.h"

G_BEGIN_DECLS

void _agentexec_curl_global_init (void);
CURL *_agentexec_curl_easy_new (GCancellable *cancellable, char *error_buffer);
gboolean _agentexec_curl_check (CURLcode code,
                                const char *error_buffer,
                                GCancellable *cancellable,
                                const char *what,
                                GError **error);

/* Connections (and TLS sessions) shared by the easy handles of one client,
 * across threads. */
typedef struct _AgentExecCurlShare AgentExecCurlShare;

AgentExecCurlShare *_agentexec_curl_share_new (gboolean tls_sessions);
void _agentexec_curl_share_free (AgentExecCurlShare *share);
void _agentexec_curl_share_attach (AgentExecCurlShare *share, CURL *easy);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AgentExecCurlShare, _agentexec_curl_share_free)

G_END_DECLS
