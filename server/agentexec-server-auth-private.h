/* agentexec-server-auth-private.h: the access token of `agentexec serve`
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The E2B SDKs send the sandbox's traffic access token in the
 * E2B-Traffic-Access-Token header on every call (X-Access-Token, envd's,
 * only on runCode), so that is the header checked. The comparison takes the
 * same time whatever the header holds: both sides are hashed with SHA-256
 * and the digests compared without an early exit.
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define AGENTEXEC_SERVER_TOKEN_HEADER "E2B-Traffic-Access-Token"

typedef struct _AgentExecServerAuth AgentExecServerAuth;

AgentExecServerAuth *_agentexec_server_auth_new (const char *token);
void _agentexec_server_auth_free (AgentExecServerAuth *auth);
gboolean _agentexec_server_auth_check (const AgentExecServerAuth *auth, const char *presented);
gboolean _agentexec_server_address_is_loopback (const char *host);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AgentExecServerAuth, _agentexec_server_auth_free)

G_END_DECLS
