/* agentexec-server-auth.c: token check in constant time
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>
#include <gio/gio.h>

#include "libagentexec.h"
#include "agentexec-server-auth-private.h"

#define DIGEST_LEN 32

struct _AgentExecServerAuth
{
  guint8 digest[DIGEST_LEN];
};

static void
sha256 (const char *text, guint8 digest[DIGEST_LEN])
{
  g_autoptr (GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  gsize len = DIGEST_LEN;

  g_checksum_update (checksum, (const guchar *) text, strlen (text));
  g_checksum_get_digest (checksum, digest, &len);
}

/*
 * _agentexec_server_auth_new:
 * @token: the token clients must present (not empty)
 */
AgentExecServerAuth *
_agentexec_server_auth_new (const char *token)
{
  AgentExecServerAuth *auth = g_new0 (AgentExecServerAuth, 1);

  g_return_val_if_fail (token != NULL && token[0] != '\0', NULL);
  sha256 (token, auth->digest);
  return auth;
}

void
_agentexec_server_auth_free (AgentExecServerAuth *auth)
{
  if (auth == NULL)
    return;
  memset (auth->digest, 0, sizeof auth->digest);
  g_free (auth);
}

/*
 * _agentexec_server_auth_check:
 * @auth: (nullable): %NULL: no token configured, everything passes
 * @presented: (nullable): the header's value
 */
gboolean
_agentexec_server_auth_check (const AgentExecServerAuth *auth, const char *presented)
{
  guint8 digest[DIGEST_LEN];
  guint8 diff = 0;

  if (auth == NULL)
    return TRUE;
  sha256 (presented != NULL ? presented : "", digest);
  for (gsize i = 0; i < DIGEST_LEN; i++)
    diff |= digest[i] ^ auth->digest[i];
  return presented != NULL && diff == 0;
}

/* Whether @host (an address, or "localhost") only accepts local clients. */
gboolean
_agentexec_server_address_is_loopback (const char *host)
{
  g_autoptr (GInetAddress) address = NULL;

  if (g_ascii_strcasecmp (host, "localhost") == 0)
    return TRUE;
  address = g_inet_address_new_from_string (host);
  return address != NULL && g_inet_address_get_is_loopback (address);
}
