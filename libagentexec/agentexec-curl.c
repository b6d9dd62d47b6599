/* agentexec-curl.c: libcurl set-up shared by the container and builtin backends
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
