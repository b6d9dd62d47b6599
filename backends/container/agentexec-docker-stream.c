/* agentexec-docker-stream.c: output streams of the Engine API
 *
 * Containers without a TTY multiplex stdout and stderr on one stream: each
 * payload comes after an 8-byte header (stream type, 3 zero bytes, big-endian
 * size). The demultiplexer keeps the two apart whatever the chunking; the
 * attached stream reads a container's output with libcurl's multi interface,
 * with a deadline and the cancellable.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "agentexec-curl-private.h"
#include "agentexec-docker-client-private.h"

struct _AgentExecDockerDemux
{
  AgentExecDockerFrameFunc func;
  gpointer user_data;
  guint8 header[8];
  guint header_len;
  guint32 remaining;
  AgentExecStream stream;
};

struct _AgentExecDockerStream
{
  AgentExecDockerClient *client;
  CURLM *multi;
  CURL *easy;
  AgentExecCurlSlist *headers;
  AgentExecDockerDemux *demux;
  GCancellable *cancellable;
  GByteArray *error_body;
  GError *demux_error;
  char error_buffer[CURL_ERROR_SIZE];
  CURLcode result;
  gboolean headers_done;
  gboolean done;
};

/* Stream frames: an 8-byte header (stream type, 3 zero bytes, big-endian
 * payload size) before each payload. */

AgentExecDockerDemux *
_agentexec_docker_demux_new (AgentExecDockerFrameFunc func, gpointer user_data)
{
  AgentExecDockerDemux *demux = g_new0 (AgentExecDockerDemux, 1);

  demux->func = func;
  demux->user_data = user_data;
  return demux;
}

void
_agentexec_docker_demux_free (AgentExecDockerDemux *demux)
{
  g_free (demux);
}

static gboolean
take_header (AgentExecDockerDemux *demux, GError **error)
{
  const guint8 *h = demux->header;

  demux->header_len = 0;
  if (h[0] > 3 || h[1] != 0 || h[2] != 0 || h[3] != 0)
    {
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_PROTOCOL,
                   "The Docker engine sent a stream frame with a bad header "
                   "(%02x %02x %02x %02x): the container must run without a TTY",
                   h[0], h[1], h[2], h[3]);
      return FALSE;
    }
  demux->stream = h[0] == 2 || h[0] == 3 ? AGENTEXEC_STREAM_STDERR : AGENTEXEC_STREAM_STDOUT;
  demux->remaining =
      ((guint32) h[4] << 24) | ((guint32) h[5] << 16) | ((guint32) h[6] << 8) | (guint32) h[7];
  return TRUE;
}

/*
 * _agentexec_docker_demux_feed:
 *
 * Splits raw stream bytes (any chunking) into stdout and stderr pieces.
 */
gboolean
_agentexec_docker_demux_feed (AgentExecDockerDemux *demux,
                              const char *data,
                              gsize len,
                              GError **error)
{
  while (len > 0)
    {
      if (demux->remaining == 0)
        {
          guint take = MIN (8 - demux->header_len, len);

          memcpy (demux->header + demux->header_len, data, take);
          demux->header_len += take;
          data += take;
          len -= take;
          if (demux->header_len == 8 && !take_header (demux, error))
            return FALSE;
          continue;
        }
      else
        {
          gsize take = MIN ((gsize) demux->remaining, len);

          demux->func (demux->stream, data, take, demux->user_data);
          demux->remaining -= take;
          data += take;
          len -= take;
        }
    }
  return TRUE;
}

/*
 * _agentexec_docker_demux_finish:
 *
 * The stream ended: a frame cut short is a PROTOCOL error.
 */
gboolean
_agentexec_docker_demux_finish (AgentExecDockerDemux *demux, GError **error)
{
  if (demux->header_len == 0 && demux->remaining == 0)
    return TRUE;
  g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_PROTOCOL,
               "The Docker engine's output stream ended inside a frame (%s); the "
               "connection was cut: output may be incomplete",
               demux->header_len > 0 ? "in a frame header" : "in a frame payload");
  return FALSE;
}

/* Attached output streams */

static size_t
stream_write (char *ptr, size_t size, size_t nmemb, void *userdata)
{
  AgentExecDockerStream *stream = userdata;
  gsize len = size * nmemb;
  long status = 0;

  curl_easy_getinfo (stream->easy, CURLINFO_RESPONSE_CODE, &status);
  if (status >= 400)
    {
      if (stream->error_body->len < 64 * 1024)
        g_byte_array_append (stream->error_body, (const guint8 *) ptr, len);
      return len;
    }
  if (!_agentexec_docker_demux_feed (stream->demux, ptr, len, &stream->demux_error))
    return 0;
  return len;
}

static size_t
stream_header (char *buffer, size_t size, size_t nitems, void *userdata)
{
  AgentExecDockerStream *stream = userdata;
  gsize len = size * nitems;

  if ((len == 2 && buffer[0] == '\r' && buffer[1] == '\n') || (len == 1 && buffer[0] == '\n'))
    stream->headers_done = TRUE;
  return len;
}

/* One round of transfer, then (unless @until_headers and they are in, or
 * the transfer is over) a wait of at most @timeout_ms for more. */
static void
stream_pump (AgentExecDockerStream *stream, gboolean until_headers, int timeout_ms)
{
  struct curl_waitfd extra[1];
  guint n_extra = 0;
  int running = 0;
  CURLMsg *msg;
  int left;

  if (stream->cancellable != NULL)
    {
      int fd = g_cancellable_get_fd (stream->cancellable);

      if (fd >= 0)
        {
          extra[0].fd = fd;
          extra[0].events = CURL_WAIT_POLLIN;
          extra[0].revents = 0;
          n_extra = 1;
        }
    }
  curl_multi_perform (stream->multi, &running);
  while ((msg = curl_multi_info_read (stream->multi, &left)) != NULL)
    if (msg->msg == CURLMSG_DONE)
      {
        stream->done = TRUE;
        stream->result = msg->data.result;
      }
  if (!stream->done && !(until_headers && stream->headers_done) && timeout_ms > 0)
    curl_multi_poll (stream->multi, extra, n_extra, timeout_ms, NULL);
  if (n_extra > 0)
    g_cancellable_release_fd (stream->cancellable);
}

static gboolean
stream_failed (AgentExecDockerStream *stream, const char *path, GError **error)
{
  g_autofree char *what = NULL;
  long status = 0;

  what = g_strdup_printf ("The output stream of %s on the Docker engine at %s", path,
                          _agentexec_docker_client_get_host (stream->client));
  if (stream->demux_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&stream->demux_error));
      return TRUE;
    }
  if (!_agentexec_curl_check (stream->result, stream->error_buffer, stream->cancellable, what,
                              error))
    return TRUE;
  curl_easy_getinfo (stream->easy, CURLINFO_RESPONSE_CODE, &status);
  if (status >= 400)
    {
      _agentexec_docker_client_set_status_error (stream->client, "POST", path, (guint) status,
                                                 stream->error_body->data, stream->error_body->len,
                                                 error);
      return TRUE;
    }
  return FALSE;
}

/*
 * _agentexec_docker_client_attach:
 * @path: e.g. /containers/ID/attach?stream=1&stdout=1&stderr=1
 * @func: receives the demultiplexed output
 *
 * POSTs @path and returns once the engine has answered with its headers
 * (so that a container started afterwards loses no output). Drive the
 * stream with _agentexec_docker_stream_wait().
 */
AgentExecDockerStream *
_agentexec_docker_client_attach (AgentExecDockerClient *self,
                                 const char *path,
                                 AgentExecDockerFrameFunc func,
                                 gpointer user_data,
                                 GCancellable *cancellable,
                                 GError **error)
{
  g_autoptr (AgentExecDockerStream) stream = g_new0 (AgentExecDockerStream, 1);
  gint64 deadline =
      g_get_monotonic_time () + (gint64) _agentexec_docker_client_get_timeout_ms (self) * 1000;

  stream->client = _agentexec_docker_client_ref (self);
  stream->cancellable = cancellable != NULL ? g_object_ref (cancellable) : NULL;
  stream->demux = _agentexec_docker_demux_new (func, user_data);
  stream->error_body = g_byte_array_new ();
  stream->easy =
      _agentexec_docker_client_new_easy (self, path, cancellable, stream->error_buffer, error);
  if (stream->easy == NULL)
    return NULL;
  stream->headers = curl_slist_append (NULL, "Expect:");
  curl_easy_setopt (stream->easy, CURLOPT_HTTPHEADER, stream->headers);
  curl_easy_setopt (stream->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) 0);
  curl_easy_setopt (stream->easy, CURLOPT_POSTFIELDS, "");
  curl_easy_setopt (stream->easy, CURLOPT_WRITEFUNCTION, stream_write);
  curl_easy_setopt (stream->easy, CURLOPT_WRITEDATA, stream);
  curl_easy_setopt (stream->easy, CURLOPT_HEADERFUNCTION, stream_header);
  curl_easy_setopt (stream->easy, CURLOPT_HEADERDATA, stream);
  /* The engine closes the connection at the end of the stream. */
  curl_easy_setopt (stream->easy, CURLOPT_FORBID_REUSE, 1L);
  stream->multi = curl_multi_init ();
  curl_multi_add_handle (stream->multi, stream->easy);

  while (!stream->headers_done && !stream->done)
    {
      gint64 left = deadline - g_get_monotonic_time ();

      if (left <= 0)
        {
          g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_BACKEND_UNAVAILABLE,
                       "The Docker engine at %s did not answer %s within %u ms",
                       _agentexec_docker_client_get_host (self), path,
                       _agentexec_docker_client_get_timeout_ms (self));
          return NULL;
        }
      stream_pump (stream, TRUE, (int) MIN (left / 1000 + 1, 100));
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return NULL;
    }
  if (stream->done && stream_failed (stream, path, error))
    return NULL;
  return g_steal_pointer (&stream);
}

/*
 * _agentexec_docker_stream_wait:
 * @deadline: monotonic time (µs) to give up at; G_MAXINT64 for none
 *
 * Delivers output until the stream ends (DONE), @deadline passes (DEADLINE;
 * the stream stays usable), or it fails or is cancelled (ERROR, with @error
 * set: a cut connection is BACKEND_UNAVAILABLE, a cut frame PROTOCOL).
 */
AgentExecDockerWait
_agentexec_docker_stream_wait (AgentExecDockerStream *stream, gint64 deadline, GError **error)
{
  char *url = NULL;

  while (!stream->done)
    {
      gint64 left = deadline - g_get_monotonic_time ();

      if (left <= 0)
        return AGENTEXEC_DOCKER_WAIT_DEADLINE;
      stream_pump (stream, FALSE, (int) MIN (left / 1000 + 1, 1000));
      if (!stream->done && g_cancellable_set_error_if_cancelled (stream->cancellable, error))
        return AGENTEXEC_DOCKER_WAIT_ERROR;
    }
  curl_easy_getinfo (stream->easy, CURLINFO_EFFECTIVE_URL, &url);
  if (stream_failed (stream, url != NULL ? url : "attach", error))
    return AGENTEXEC_DOCKER_WAIT_ERROR;
  if (!_agentexec_docker_demux_finish (stream->demux, error))
    return AGENTEXEC_DOCKER_WAIT_ERROR;
  return AGENTEXEC_DOCKER_WAIT_DONE;
}

void
_agentexec_docker_stream_free (AgentExecDockerStream *stream)
{
  if (stream->multi != NULL)
    {
      curl_multi_remove_handle (stream->multi, stream->easy);
      curl_multi_cleanup (stream->multi);
    }
  g_clear_pointer (&stream->easy, curl_easy_cleanup);
  g_clear_pointer (&stream->headers, curl_slist_free_all);
  g_clear_pointer (&stream->demux, _agentexec_docker_demux_free);
  g_clear_pointer (&stream->error_body, g_byte_array_unref);
  g_clear_error (&stream->demux_error);
  g_clear_object (&stream->cancellable);
  g_clear_pointer (&stream->client, _agentexec_docker_client_unref);
  g_free (stream);
}
