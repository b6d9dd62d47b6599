/* agentexec-docker-hijack.c: a hijacked (upgraded) Engine API connection
 *
 * POST .../attach with `Upgrade: tcp` turns the HTTP connection into a raw
 * two-way stream: what we send is the container's stdin, what we receive is
 * its multiplexed stdout and stderr. libcurl does the connecting (unix
 * socket, tcp, TLS) with CURLOPT_CONNECT_ONLY; the bytes then go through
 * curl_easy_send() and curl_easy_recv(), polled with a deadline and the
 * cancellable.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <poll.h>
#include <string.h>

#include "agentexec-curl-private.h"
#include "agentexec-docker-hijack-private.h"

#define MAX_HEAD (16 * 1024)

struct _AgentExecDockerHijack
{
  AgentExecDockerClient *client;
  CURL *easy;
  curl_socket_t fd;
  AgentExecDockerDemux *demux;
  char error_buffer[CURL_ERROR_SIZE];
};

void
_agentexec_docker_hijack_free (AgentExecDockerHijack *self)
{
  g_clear_pointer (&self->easy, curl_easy_cleanup);
  g_clear_pointer (&self->demux, _agentexec_docker_demux_free);
  g_clear_pointer (&self->client, _agentexec_docker_client_unref);
  g_free (self);
}

/* Waits until the socket is ready for @events, the deadline passes (FALSE
 * with *timed_out) or @cancellable fires (FALSE with an error). */
static gboolean
wait_socket (AgentExecDockerHijack *self,
             short events,
             gint64 deadline,
             GCancellable *cancellable,
             gboolean *timed_out,
             GError **error)
{
  struct pollfd fds[2] = { { self->fd, events, 0 }, { -1, POLLIN, 0 } };
  gint64 left = deadline == G_MAXINT64 ? -1 : deadline - g_get_monotonic_time ();
  int n;

  *timed_out = FALSE;
  if (deadline != G_MAXINT64 && left <= 0)
    {
      *timed_out = TRUE;
      return FALSE;
    }
  if (cancellable != NULL)
    fds[1].fd = g_cancellable_get_fd (cancellable);
  n = poll (fds, fds[1].fd >= 0 ? 2 : 1, left < 0 ? -1 : (int) MIN (left / 1000 + 1, G_MAXINT));
  if (cancellable != NULL)
    g_cancellable_release_fd (cancellable);
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;
  if (n == 0)
    *timed_out = TRUE;
  return n > 0;
}

gboolean
_agentexec_docker_hijack_send (AgentExecDockerHijack *self,
                               const void *data,
                               gsize len,
                               GError **error)
{
  gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;

  while (len > 0)
    {
      size_t sent = 0;
      gboolean timed_out;
      CURLcode code = curl_easy_send (self->easy, data, len, &sent);

      if (code == CURLE_AGAIN)
        {
          if (!wait_socket (self, POLLOUT, deadline, NULL, &timed_out, error) && !timed_out)
            return FALSE;
          if (timed_out)
            {
              g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_BACKEND_UNAVAILABLE,
                           "The Docker engine at %s stopped reading the container's input",
                           _agentexec_docker_client_get_host (self->client));
              return FALSE;
            }
          continue;
        }
      if (!_agentexec_curl_check (code, self->error_buffer, NULL,
                                  "Writing to the container's input", error))
        return FALSE;
      data = (const char *) data + sent;
      len -= sent;
    }
  return TRUE;
}

static gssize
receive (AgentExecDockerHijack *self,
         char *buffer,
         gsize size,
         gint64 deadline,
         GCancellable *cancellable,
         GError **error)
{
  for (;;)
    {
      size_t got = 0;
      gboolean timed_out;
      CURLcode code = curl_easy_recv (self->easy, buffer, size, &got);

      if (code == CURLE_OK)
        return (gssize) got;
      if (code != CURLE_AGAIN)
        {
          _agentexec_curl_check (code == CURLE_UNSUPPORTED_PROTOCOL ? CURLE_RECV_ERROR : code,
                                 self->error_buffer, cancellable, "Reading the container's output",
                                 error);
          return -1;
        }
      if (!wait_socket (self, POLLIN, deadline, cancellable, &timed_out, error))
        return timed_out ? -2 : -1;
    }
}

static gboolean
read_head (AgentExecDockerHijack *self, const char *path, GCancellable *cancellable, GError **error)
{
  g_autoptr (GByteArray) head = g_byte_array_new ();
  gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  g_autofree char *status_line = NULL;
  const guint8 *end = NULL;
  guint status = 0;

  while (end == NULL)
    {
      char buffer[4096];
      gssize n = receive (self, buffer, sizeof buffer, deadline, cancellable, error);

      if (n == -2 || n == 0 || head->len > MAX_HEAD)
        {
          g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_BACKEND_UNAVAILABLE,
                       "The Docker engine at %s did not answer POST %s",
                       _agentexec_docker_client_get_host (self->client), path);
          return FALSE;
        }
      if (n < 0)
        return FALSE;
      g_byte_array_append (head, (const guint8 *) buffer, (guint) n);
      end = memmem (head->data, head->len, "\r\n\r\n", 4);
    }
  status_line = g_strndup ((const char *) head->data, (const guint8 *) end - head->data);
  if (sscanf (status_line, "HTTP/1.%*d %u", &status) != 1 || (status != 101 && status != 200))
    {
      gsize head_len = end + 4 - head->data;

      _agentexec_docker_client_set_status_error (
          self->client, "POST", path, status, head->data + head_len, head->len - head_len, error);
      return FALSE;
    }
  end += 4;
  return _agentexec_docker_demux_feed (self->demux, (const char *) end,
                                       head->len - (end - head->data), error);
}

/*
 * _agentexec_docker_client_hijack:
 * @path: e.g. /containers/ID/attach?stream=1&stdin=1&stdout=1&stderr=1
 * @func: receives the demultiplexed output
 *
 * POSTs @path asking for the connection to be upgraded, and returns the raw
 * two-way stream once the engine agreed.
 */
AgentExecDockerHijack *
_agentexec_docker_client_hijack (AgentExecDockerClient *client,
                                 const char *path,
                                 AgentExecDockerFrameFunc func,
                                 gpointer user_data,
                                 GCancellable *cancellable,
                                 GError **error)
{
  g_autoptr (AgentExecDockerHijack) self = g_new0 (AgentExecDockerHijack, 1);
  g_autofree char *target = _agentexec_docker_client_request_target (client, path);
  g_autofree char *request = NULL;
  g_autofree char *what = g_strdup_printf ("POST %s on the Docker engine at %s", path,
                                           _agentexec_docker_client_get_host (client));

  self->client = _agentexec_docker_client_ref (client);
  self->demux = _agentexec_docker_demux_new (func, user_data);
  self->easy =
      _agentexec_docker_client_new_easy (client, path, cancellable, self->error_buffer, error);
  if (self->easy == NULL)
    return NULL;
  curl_easy_setopt (self->easy, CURLOPT_SHARE, NULL);
  curl_easy_setopt (self->easy, CURLOPT_CONNECT_ONLY, 1L);
  if (!_agentexec_curl_check (curl_easy_perform (self->easy), self->error_buffer, cancellable, what,
                              error))
    return NULL;
  if (curl_easy_getinfo (self->easy, CURLINFO_ACTIVESOCKET, &self->fd) != CURLE_OK ||
      self->fd == CURL_SOCKET_BAD)
    {
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_BACKEND_UNAVAILABLE,
                   "%s: no socket after connecting", what);
      return NULL;
    }
  request = g_strdup_printf ("POST %s HTTP/1.1\r\nHost: docker\r\nUser-Agent: libagentexec\r\n"
                             "Connection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n",
                             target);
  if (!_agentexec_docker_hijack_send (self, request, strlen (request), error) ||
      !read_head (self, path, cancellable, error))
    return NULL;
  return g_steal_pointer (&self);
}

/*
 * _agentexec_docker_hijack_pump:
 * @deadline: monotonic time (µs); G_MAXINT64 for none
 *
 * Waits for output and delivers what arrived (DONE), or reports that the
 * deadline passed with nothing new (DEADLINE), or fails (ERROR): cancelled,
 * a cut frame (PROTOCOL), or the stream closed (BACKEND_UNAVAILABLE, with
 * G_IO_ERROR_CONNECTION_CLOSED as the cause in the message).
 */
AgentExecDockerWait
_agentexec_docker_hijack_pump (AgentExecDockerHijack *self,
                               gint64 deadline,
                               GCancellable *cancellable,
                               GError **error)
{
  char buffer[64 * 1024];
  gssize n = receive (self, buffer, sizeof buffer, deadline, cancellable, error);

  if (n == -2)
    return AGENTEXEC_DOCKER_WAIT_DEADLINE;
  if (n < 0)
    return AGENTEXEC_DOCKER_WAIT_ERROR;
  if (n == 0)
    {
      if (_agentexec_docker_demux_finish (self->demux, error))
        g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_BACKEND_UNAVAILABLE,
                     "The container's output stream on the Docker engine at %s closed",
                     _agentexec_docker_client_get_host (self->client));
      return AGENTEXEC_DOCKER_WAIT_ERROR;
    }
  if (!_agentexec_docker_demux_feed (self->demux, buffer, (gsize) n, error))
    return AGENTEXEC_DOCKER_WAIT_ERROR;
  return AGENTEXEC_DOCKER_WAIT_DONE;
}
