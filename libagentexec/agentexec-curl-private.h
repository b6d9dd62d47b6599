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

G_END_DECLS
