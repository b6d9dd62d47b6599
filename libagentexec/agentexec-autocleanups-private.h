/* agentexec-autocleanups-private.h: g_autoptr for the C libraries we use
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>
#include <pcre2.h>
#include <curl/curl.h>

G_BEGIN_DECLS

G_DEFINE_AUTOPTR_CLEANUP_FUNC (pcre2_code, pcre2_code_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (pcre2_match_data, pcre2_match_data_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CURL, curl_easy_cleanup)

typedef struct curl_slist AgentExecCurlSlist;
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AgentExecCurlSlist, curl_slist_free_all)

G_END_DECLS
