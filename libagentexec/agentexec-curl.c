/* agentexec-curl.c: libcurl set-up shared by the backends that speak HTTP
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "agentexec-curl-private.h"
#include "agentexec-enums.h"

static gpointer
global_init (gpointer data)
{
  curl_global_init (CURL_GLOBAL_DEFAULT);
  return NULL;
}

/*
 * _agentexec_curl_global_init:
 *
 * curl_global_init() once per process, thread-safely.
 */
void
_agentexec_curl_global_init (void)
{
  static GOnce once = G_ONCE_INIT;

  g_once (&once, global_init, NULL);
}

static int
xferinfo_cancel (
    void *clientp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
  return g_cancellable_is_cancelled (clientp) ? 1 : 0;
}

/*
 * _agentexec_curl_easy_new:
 * @cancellable: (nullable): aborts the transfer when cancelled
 * @error_buffer: CURL_ERROR_SIZE bytes for CURLOPT_ERRORBUFFER
 *
 * A new easy handle with the settings every transfer of the library uses:
 * NOSIGNAL (threads), an error buffer, only http/https, and a progress
 * callback that aborts the transfer when @cancellable is cancelled.
 */
CURL *
_agentexec_curl_easy_new (GCancellable *cancellable, char *error_buffer)
{
  CURL *curl;

  _agentexec_curl_global_init ();
  curl = curl_easy_init ();
  if (curl == NULL)
    return NULL;
  error_buffer[0] = '\0';
  curl_easy_setopt (curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (curl, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt (curl, CURLOPT_PROTOCOLS_STR, "http,https");
  if (cancellable != NULL)
    {
      curl_easy_setopt (curl, CURLOPT_NOPROGRESS, 0L);
      curl_easy_setopt (curl, CURLOPT_XFERINFOFUNCTION, xferinfo_cancel);
      curl_easy_setopt (curl, CURLOPT_XFERINFODATA, cancellable);
    }
  return curl;
}

/*
 * _agentexec_curl_check:
 *
 * Maps a CURLcode to a GError: an abort by the progress callback is
 * G_IO_ERROR_CANCELLED, a timeout AGENTEXEC_ERROR_TIMEOUT, a failure to
 * connect or a dropped connection AGENTEXEC_ERROR_BACKEND_UNAVAILABLE (which
 * the base executor retries).
 */
gboolean
_agentexec_curl_check (CURLcode code,
                       const char *error_buffer,
                       GCancellable *cancellable,
                       const char *what,
                       GError **error)
{
  const char *detail;

  if (code == CURLE_OK)
    return TRUE;
  detail =
      error_buffer != NULL && error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror (code);
  switch (code)
    {
    case CURLE_ABORTED_BY_CALLBACK:
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "%s was cancelled", what);
      return FALSE;
    case CURLE_OPERATION_TIMEDOUT:
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_TIMEOUT, "%s timed out: %s", what,
                   detail);
      return FALSE;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_BACKEND_UNAVAILABLE, "%s failed: %s",
                   what, detail);
      return FALSE;
    default:
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_PROTOCOL, "%s failed: %s", what, detail);
      return FALSE;
    }
}

/* Connection sharing between the easy handles (and threads) of one client */

struct _AgentExecCurlShare
{
  CURLSH *share;
  GMutex locks[CURL_LOCK_DATA_LAST];
};

static void
share_lock (CURL *handle, curl_lock_data data, curl_lock_access access, void *userptr)
{
  AgentExecCurlShare *self = userptr;

  g_mutex_lock (&self->locks[data]);
}

static void
share_unlock (CURL *handle, curl_lock_data data, void *userptr)
{
  AgentExecCurlShare *self = userptr;

  g_mutex_unlock (&self->locks[data]);
}

/*
 * _agentexec_curl_share_new:
 * @tls_sessions: also share TLS sessions (for https peers)
 *
 * A connection cache that the easy handles of one client share, each
 * attached with _agentexec_curl_share_attach(), from any thread.
 */
AgentExecCurlShare *
_agentexec_curl_share_new (gboolean tls_sessions)
{
  AgentExecCurlShare *self = g_new0 (AgentExecCurlShare, 1);

  for (guint i = 0; i < CURL_LOCK_DATA_LAST; i++)
    g_mutex_init (&self->locks[i]);
  _agentexec_curl_global_init ();
  self->share = curl_share_init ();
  curl_share_setopt (self->share, CURLSHOPT_LOCKFUNC, share_lock);
  curl_share_setopt (self->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
  curl_share_setopt (self->share, CURLSHOPT_USERDATA, self);
  curl_share_setopt (self->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
  if (tls_sessions)
    curl_share_setopt (self->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  return self;
}

/* Frees @share; no easy handle may be using it any more. */
void
_agentexec_curl_share_free (AgentExecCurlShare *self)
{
  if (self == NULL)
    return;
  curl_share_cleanup (self->share);
  for (guint i = 0; i < CURL_LOCK_DATA_LAST; i++)
    g_mutex_clear (&self->locks[i]);
  g_free (self);
}

void
_agentexec_curl_share_attach (AgentExecCurlShare *self, CURL *easy)
{
  curl_easy_setopt (easy, CURLOPT_SHARE, self->share);
}
