/* agentexec-mock-server.c: a small HTTP/1.1 server for backend tests
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One thread runs a GSocketService on a GMainContext of its own; each
 * accepted connection is served by a joinable thread with blocking I/O on a
 * shared GCancellable, so that agentexec_mock_server_free() can interrupt
 * every read, write and delay and join every thread.
 */

#include "config.h"

#include <errno.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <glib/gstdio.h>
#include <gio/gunixsocketaddress.h>

#include "agentexec-mock-server.h"

#define MAX_HEADER_BYTES (1024 * 1024)

typedef enum
{
  RESPONSE_HTTP,
  RESPONSE_RAW,
  RESPONSE_DROP,
} ResponseKind;

typedef struct
{
  GBytes *data;
  guint delay_ms;
} Chunk;

struct _AgentExecMockResponse
{
  gatomicrefcount ref_count;
  ResponseKind kind;
  guint status;
  GPtrArray *headers; /* "Name: value" */
  GBytes *body;
  GArray *chunks; /* Chunk; NULL unless streamed */
  char *method;
  char *path_prefix;
  guint delay_ms;
  gsize truncate_at;
  gboolean truncate;
};

struct _AgentExecMockRequest
{
  gatomicrefcount ref_count;
  char *method;
  char *path;
  GPtrArray *headers; /* "Name: value", NULL-terminated */
  GByteArray *body;   /* NUL-terminated after len */
};

struct _AgentExecMockServer
{
  GMutex mutex;
  GCond cond;
  GThread *thread;
  GMainContext *context;
  GMainLoop *loop;
  GSocketService *service;
  GCancellable *cancellable;
  GSocketAddress *address;
  GError *start_error;
  char *socket_path;
  guint16 port;
  gboolean started;
  gboolean stopping;
  gboolean keep_alive;

  GQueue responses;
  GPtrArray *requests;
  GPtrArray *conn_threads;
  guint n_connections;
  AgentExecMockHandler handler;
  gpointer handler_data;
  GDestroyNotify handler_destroy;
};

typedef struct
{
  AgentExecMockServer *server;
  GSocketConnection *connection;
} ConnData;

/* Buffered reading from a connection */

typedef struct
{
  GInputStream *in;
  GCancellable *cancellable;
  GByteArray *buf;
  gsize pos;
} Reader;

static gboolean
reader_fill (Reader *reader)
{
  guint8 tmp[4096];
  gssize n;

  if (reader->pos > 0 && reader->pos == reader->buf->len)
    {
      g_byte_array_set_size (reader->buf, 0);
      reader->pos = 0;
    }
  n = g_input_stream_read (reader->in, tmp, sizeof tmp, reader->cancellable, NULL);
  if (n <= 0)
    return FALSE;
  g_byte_array_append (reader->buf, tmp, n);
  return TRUE;
}

/* A line without its CRLF (or LF), or NULL at EOF/error/overlong. */
static char *
reader_read_line (Reader *reader)
{
  for (;;)
    {
      const guint8 *start = reader->buf->data + reader->pos;
      gsize avail = reader->buf->len - reader->pos;
      const guint8 *nl = avail > 0 ? memchr (start, '\n', avail) : NULL;

      if (nl != NULL)
        {
          gsize len = nl - start;
          char *line;

          if (len > 0 && start[len - 1] == '\r')
            len--;
          line = g_strndup ((const char *) start, len);
          reader->pos += (nl - start) + 1;
          return line;
        }
      if (avail > MAX_HEADER_BYTES || !reader_fill (reader))
        return NULL;
    }
}

static gboolean
reader_read_into (Reader *reader, gsize n, GByteArray *out)
{
  while (n > 0)
    {
      gsize avail = reader->buf->len - reader->pos;
      gsize take = MIN (avail, n);

      if (take > 0)
        {
          g_byte_array_append (out, reader->buf->data + reader->pos, take);
          reader->pos += take;
          n -= take;
        }
      else if (!reader_fill (reader))
        return FALSE;
    }
  return TRUE;
}

/* Requests */

static AgentExecMockRequest *
request_new (void)
{
  AgentExecMockRequest *self = g_new0 (AgentExecMockRequest, 1);

  g_atomic_ref_count_init (&self->ref_count);
  self->headers = g_ptr_array_new_with_free_func (g_free);
  self->body = g_byte_array_new ();
  return self;
}

AgentExecMockRequest *
agentexec_mock_request_ref (AgentExecMockRequest *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

void
agentexec_mock_request_unref (AgentExecMockRequest *self)
{
  if (self == NULL || !g_atomic_ref_count_dec (&self->ref_count))
    return;
  g_free (self->method);
  g_free (self->path);
  g_ptr_array_unref (self->headers);
  g_byte_array_unref (self->body);
  g_free (self);
}

const char *
agentexec_mock_request_get_method (const AgentExecMockRequest *self)
{
  return self->method;
}

const char *
agentexec_mock_request_get_path (const AgentExecMockRequest *self)
{
  return self->path;
}

const char *
agentexec_mock_request_get_header (const AgentExecMockRequest *self, const char *name)
{
  gsize name_len = strlen (name);

  for (guint i = 0; i < self->headers->len; i++)
    {
      const char *line = g_ptr_array_index (self->headers, i);

      if (line != NULL && g_ascii_strncasecmp (line, name, name_len) == 0 && line[name_len] == ':')
        return line + name_len + 1 + strspn (line + name_len + 1, " \t");
    }
  return NULL;
}

const char *const *
agentexec_mock_request_get_headers (const AgentExecMockRequest *self)
{
  return (const char *const *) self->headers->pdata;
}

const char *
agentexec_mock_request_get_body (const AgentExecMockRequest *self, gsize *len)
{
  if (len != NULL)
    *len = self->body->len;
  return (const char *) self->body->data;
}

static gboolean
read_chunked_body (Reader *reader, GByteArray *body)
{
  for (;;)
    {
      g_autofree char *size_line = reader_read_line (reader);
      g_autofree char *crlf = NULL;
      guint64 size;

      if (size_line == NULL)
        return FALSE;
      size = g_ascii_strtoull (size_line, NULL, 16);
      if (size == 0)
        break;
      if (size > G_MAXINT32 || !reader_read_into (reader, size, body))
        return FALSE;
      crlf = reader_read_line (reader);
      if (crlf == NULL)
        return FALSE;
    }
  for (;;) /* trailers up to the empty line */
    {
      g_autofree char *line = reader_read_line (reader);

      if (line == NULL)
        return FALSE;
      if (line[0] == '\0')
        return TRUE;
    }
}

static gboolean
read_body (Reader *reader, GOutputStream *out, AgentExecMockRequest *request)
{
  const char *expect = agentexec_mock_request_get_header (request, "Expect");
  const char *te = agentexec_mock_request_get_header (request, "Transfer-Encoding");
  const char *cl = agentexec_mock_request_get_header (request, "Content-Length");
  static const char continue_line[] = "HTTP/1.1 100 Continue\r\n\r\n";

  if (expect != NULL && g_ascii_strcasecmp (expect, "100-continue") == 0 &&
      !g_output_stream_write_all (out, continue_line, strlen (continue_line), NULL,
                                  reader->cancellable, NULL))
    return FALSE;
  if (te != NULL && g_ascii_strcasecmp (te, "chunked") == 0)
    return read_chunked_body (reader, request->body);
  if (cl != NULL)
    {
      guint64 len = g_ascii_strtoull (cl, NULL, 10);

      if (len > G_MAXINT32)
        return FALSE;
      return reader_read_into (reader, len, request->body);
    }
  return TRUE;
}

/* One request, or NULL when the connection ended (or sent garbage). */
static AgentExecMockRequest *
read_request (Reader *reader, GOutputStream *out)
{
  g_autoptr (AgentExecMockRequest) request = request_new ();
  g_autofree char *request_line = NULL;
  g_auto (GStrv) parts = NULL;
  static const guint8 nul = 0;

  do
    {
      g_free (request_line);
      request_line = reader_read_line (reader);
      if (request_line == NULL)
        return NULL;
    }
  while (request_line[0] == '\0');
  parts = g_strsplit (request_line, " ", 3);
  if (g_strv_length (parts) != 3)
    return NULL;
  request->method = g_strdup (parts[0]);
  request->path = g_strdup (parts[1]);
  for (;;)
    {
      char *line = reader_read_line (reader);

      if (line == NULL)
        return NULL;
      if (line[0] == '\0')
        {
          g_free (line);
          break;
        }
      g_ptr_array_add (request->headers, line);
    }
  g_ptr_array_add (request->headers, NULL);
  if (!read_body (reader, out, request))
    return NULL;
  g_byte_array_append (request->body, &nul, 1);
  g_byte_array_set_size (request->body, request->body->len - 1);
  return g_steal_pointer (&request);
}

/* Responses */

static AgentExecMockResponse *
response_alloc (ResponseKind kind)
{
  AgentExecMockResponse *self = g_new0 (AgentExecMockResponse, 1);

  g_atomic_ref_count_init (&self->ref_count);
  self->kind = kind;
  self->headers = g_ptr_array_new_with_free_func (g_free);
  return self;
}

static GBytes *
bytes_from (const char *data, gssize len)
{
  if (data == NULL)
    return g_bytes_new (NULL, 0);
  return g_bytes_new (data, len < 0 ? strlen (data) : (gsize) len);
}

AgentExecMockResponse *
agentexec_mock_response_new (guint status, const char *body, gssize len)
{
  AgentExecMockResponse *self = response_alloc (RESPONSE_HTTP);

  self->status = status;
  self->body = bytes_from (body, len);
  return self;
}

AgentExecMockResponse *
agentexec_mock_response_new_raw (const char *data, gssize len)
{
  AgentExecMockResponse *self = response_alloc (RESPONSE_RAW);

  self->body = bytes_from (data, len);
  return self;
}

AgentExecMockResponse *
agentexec_mock_response_new_drop (void)
{
  return response_alloc (RESPONSE_DROP);
}

AgentExecMockResponse *
agentexec_mock_response_ref (AgentExecMockResponse *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

static void
chunk_clear (gpointer data)
{
  Chunk *chunk = data;

  g_clear_pointer (&chunk->data, g_bytes_unref);
}

void
agentexec_mock_response_unref (AgentExecMockResponse *self)
{
  if (self == NULL || !g_atomic_ref_count_dec (&self->ref_count))
    return;
  g_ptr_array_unref (self->headers);
  g_clear_pointer (&self->body, g_bytes_unref);
  g_clear_pointer (&self->chunks, g_array_unref);
  g_free (self->method);
  g_free (self->path_prefix);
  g_free (self);
}

void
agentexec_mock_response_add_header (AgentExecMockResponse *self,
                                    const char *name,
                                    const char *value)
{
  g_return_if_fail (self != NULL && name != NULL && value != NULL);
  g_ptr_array_add (self->headers, g_strdup_printf ("%s: %s", name, value));
}

void
agentexec_mock_response_set_delay_ms (AgentExecMockResponse *self, guint delay_ms)
{
  g_return_if_fail (self != NULL);
  self->delay_ms = delay_ms;
}

void
agentexec_mock_response_set_route (AgentExecMockResponse *self,
                                   const char *method,
                                   const char *path_prefix)
{
  g_return_if_fail (self != NULL);
  g_free (self->method);
  self->method = g_strdup (method);
  g_free (self->path_prefix);
  self->path_prefix = g_strdup (path_prefix);
}

void
agentexec_mock_response_add_chunk (AgentExecMockResponse *self,
                                   const char *data,
                                   gssize len,
                                   guint delay_ms)
{
  Chunk chunk;

  g_return_if_fail (self != NULL && self->kind == RESPONSE_HTTP && data != NULL);
  if (self->chunks == NULL)
    {
      self->chunks = g_array_new (FALSE, TRUE, sizeof (Chunk));
      g_array_set_clear_func (self->chunks, chunk_clear);
    }
  chunk.data = bytes_from (data, len);
  chunk.delay_ms = delay_ms;
  g_array_append_val (self->chunks, chunk);
}

void
agentexec_mock_response_set_truncate (AgentExecMockResponse *self, gsize body_bytes)
{
  g_return_if_fail (self != NULL);
  self->truncate = TRUE;
  self->truncate_at = body_bytes;
}

static gboolean
is_routed (AgentExecMockResponse *response)
{
  return response->method != NULL || response->path_prefix != NULL;
}

static gboolean
response_matches (AgentExecMockResponse *response, const AgentExecMockRequest *request)
{
  if (response->method != NULL && g_strcmp0 (response->method, request->method) != 0)
    return FALSE;
  if (response->path_prefix != NULL && !g_str_has_prefix (request->path, response->path_prefix))
    return FALSE;
  return TRUE;
}

/* Server side: waiting and writing */

/* Sleeps @delay_ms unless the server stops first; returns FALSE if it did. */
static gboolean
server_wait (AgentExecMockServer *self, guint delay_ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) delay_ms * 1000;
  gboolean stopping;

  g_mutex_lock (&self->mutex);
  while (!self->stopping && g_cond_wait_until (&self->cond, &self->mutex, end))
    ;
  stopping = self->stopping;
  g_mutex_unlock (&self->mutex);
  return !stopping;
}

static gboolean
write_bytes (AgentExecMockServer *self, GOutputStream *out, const void *data, gsize len)
{
  return len == 0 || g_output_stream_write_all (out, data, len, NULL, self->cancellable, NULL);
}

static gboolean
has_header (AgentExecMockResponse *response, const char *name)
{
  gsize name_len = strlen (name);

  for (guint i = 0; i < response->headers->len; i++)
    {
      const char *line = g_ptr_array_index (response->headers, i);

      if (g_ascii_strncasecmp (line, name, name_len) == 0 && line[name_len] == ':')
        return TRUE;
    }
  return FALSE;
}

static GString *
response_head (AgentExecMockResponse *response, gboolean keep_alive)
{
  GString *head = g_string_new (NULL);
  const char *reason = response->status < 300   ? "OK"
                       : response->status < 400 ? "Redirect"
                       : response->status < 500 ? "Client Error"
                                                : "Server Error";

  g_string_append_printf (head, "HTTP/1.1 %u %s\r\n", response->status, reason);
  for (guint i = 0; i < response->headers->len; i++)
    g_string_append_printf (head, "%s\r\n", (char *) g_ptr_array_index (response->headers, i));
  if (response->chunks != NULL)
    g_string_append (head, "Transfer-Encoding: chunked\r\n");
  else if (!has_header (response, "Content-Length"))
    g_string_append_printf (head, "Content-Length: %" G_GSIZE_FORMAT "\r\n",
                            g_bytes_get_size (response->body));
  if (!has_header (response, "Connection"))
    g_string_append (head, keep_alive ? "Connection: keep-alive\r\n" : "Connection: close\r\n");
  g_string_append (head, "\r\n");
  return head;
}

static gboolean
write_chunk (AgentExecMockServer *self, GOutputStream *out, GBytes *data)
{
  g_autofree char *size_line =
      g_strdup_printf ("%" G_GSIZE_MODIFIER "x\r\n", g_bytes_get_size (data));
  gsize len;
  const char *bytes = g_bytes_get_data (data, &len);

  return write_bytes (self, out, size_line, strlen (size_line)) &&
         write_bytes (self, out, bytes, len) && write_bytes (self, out, "\r\n", 2);
}

/* Returns whether the connection may serve another request. */
static gboolean
write_streamed (AgentExecMockServer *self, GOutputStream *out, AgentExecMockResponse *response)
{
  guint sent = 0;

  if (g_bytes_get_size (response->body) > 0)
    {
      if (response->truncate && response->truncate_at == 0)
        return FALSE;
      if (!write_chunk (self, out, response->body))
        return FALSE;
      sent++;
    }
  for (guint i = 0; i < response->chunks->len; i++)
    {
      Chunk *chunk = &g_array_index (response->chunks, Chunk, i);

      if (response->truncate && sent >= response->truncate_at)
        return FALSE;
      if (!server_wait (self, chunk->delay_ms) || !write_chunk (self, out, chunk->data))
        return FALSE;
      sent++;
    }
  if (response->truncate)
    return FALSE;
  return write_bytes (self, out, "0\r\n\r\n", 5);
}

static gboolean
write_response (AgentExecMockServer *self,
                GOutputStream *out,
                AgentExecMockResponse *response,
                gboolean keep_alive)
{
  g_autoptr (GString) message = NULL;
  gsize body_len;
  const char *body;

  if (response->delay_ms > 0 && !server_wait (self, response->delay_ms))
    return FALSE;
  if (response->kind == RESPONSE_DROP)
    return FALSE;
  body = g_bytes_get_data (response->body, &body_len);
  if (response->kind == RESPONSE_RAW)
    {
      write_bytes (self, out, body, body_len);
      return FALSE;
    }
  message = response_head (response, keep_alive);
  if (response->chunks != NULL)
    return write_bytes (self, out, message->str, message->len) &&
           write_streamed (self, out, response) && keep_alive;
  if (response->truncate)
    body_len = MIN (body_len, response->truncate_at);
  g_string_append_len (message, body, body_len);
  return write_bytes (self, out, message->str, message->len) && !response->truncate && keep_alive;
}

/* Records @request and picks its response (transfer full). */
static AgentExecMockResponse *
take_response (AgentExecMockServer *self, AgentExecMockRequest *request)
{
  AgentExecMockResponse *response = NULL;
  AgentExecMockHandler handler;
  gpointer handler_data;

  g_mutex_lock (&self->mutex);
  g_ptr_array_add (self->requests, agentexec_mock_request_ref (request));
  g_cond_broadcast (&self->cond);
  for (guint pass = 0; pass < 2 && response == NULL; pass++)
    for (GList *l = self->responses.head; l != NULL; l = l->next)
      if (is_routed (l->data) == (pass == 0) && response_matches (l->data, request))
        {
          response = l->data;
          g_queue_delete_link (&self->responses, l);
          break;
        }
  handler = self->handler;
  handler_data = self->handler_data;
  g_mutex_unlock (&self->mutex);

  if (response == NULL && handler != NULL)
    response = handler (self, request, handler_data);
  if (response == NULL)
    {
      g_autofree char *body = g_strdup_printf ("mock server: no response queued for %s %s\n",
                                               request->method, request->path);

      response = agentexec_mock_response_new (500, body, -1);
      agentexec_mock_response_add_header (response, "Content-Type", "text/plain");
    }
  return response;
}

static gboolean
request_wants_close (AgentExecMockRequest *request)
{
  const char *connection = agentexec_mock_request_get_header (request, "Connection");

  return connection != NULL && g_ascii_strcasecmp (connection, "close") == 0;
}

static gpointer
connection_thread (gpointer data)
{
  ConnData *conn = data;
  AgentExecMockServer *self = conn->server;
  GIOStream *stream = G_IO_STREAM (conn->connection);
  GOutputStream *out = g_io_stream_get_output_stream (stream);
  Reader reader = { g_io_stream_get_input_stream (stream), self->cancellable, g_byte_array_new (),
                    0 };
  gboolean more = TRUE;

  while (more)
    {
      g_autoptr (AgentExecMockRequest) request = read_request (&reader, out);
      g_autoptr (AgentExecMockResponse) response = NULL;
      gboolean keep_alive;

      if (request == NULL)
        break;
      response = take_response (self, request);
      g_mutex_lock (&self->mutex);
      keep_alive = self->keep_alive && !request_wants_close (request);
      g_mutex_unlock (&self->mutex);
      more = write_response (self, out, response, keep_alive);
    }
  g_io_stream_close (stream, NULL, NULL);
  g_byte_array_unref (reader.buf);
  g_object_unref (conn->connection);
  g_free (conn);
  return NULL;
}

static gboolean
on_incoming (GSocketService *service,
             GSocketConnection *connection,
             GObject *source_object,
             gpointer user_data)
{
  AgentExecMockServer *self = user_data;
  ConnData *conn;
  GSocket *socket = g_socket_connection_get_socket (connection);

  if (g_socket_get_family (socket) != G_SOCKET_FAMILY_UNIX)
    g_socket_set_option (socket, IPPROTO_TCP, TCP_NODELAY, 1, NULL);
  g_mutex_lock (&self->mutex);
  self->n_connections++;
  if (!self->stopping)
    {
      conn = g_new0 (ConnData, 1);
      conn->server = self;
      conn->connection = g_object_ref (connection);
      g_ptr_array_add (self->conn_threads,
                       g_thread_new ("mock-http-conn", connection_thread, conn));
    }
  g_mutex_unlock (&self->mutex);
  return TRUE;
}

/* The server thread */

static void
drain_context (GMainContext *context)
{
  for (guint i = 0; i < 10; i++)
    while (g_main_context_iteration (context, FALSE))
      ;
}

static gboolean
start_listening (AgentExecMockServer *self)
{
  g_autoptr (GSocketAddress) effective = NULL;

  self->service = g_socket_service_new ();
  if (!g_socket_listener_add_address (G_SOCKET_LISTENER (self->service), self->address,
                                      G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT, NULL,
                                      &effective, &self->start_error))
    return FALSE;
  if (G_IS_INET_SOCKET_ADDRESS (effective))
    self->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));
  g_signal_connect (self->service, "incoming", G_CALLBACK (on_incoming), self);
  g_socket_service_start (self->service);
  return TRUE;
}

static gpointer
server_thread (gpointer data)
{
  AgentExecMockServer *self = data;
  gboolean ok;

  g_main_context_push_thread_default (self->context);
  ok = start_listening (self);
  g_mutex_lock (&self->mutex);
  self->started = TRUE;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->mutex);
  if (ok)
    g_main_loop_run (self->loop);
  g_socket_service_stop (self->service);
  g_socket_listener_close (G_SOCKET_LISTENER (self->service));
  drain_context (self->context);
  g_clear_object (&self->service);
  drain_context (self->context);
  g_main_context_pop_thread_default (self->context);
  return NULL;
}

static AgentExecMockServer *
server_start (GSocketAddress *address, const char *socket_path, GError **error)
{
  AgentExecMockServer *self = g_new0 (AgentExecMockServer, 1);

  g_mutex_init (&self->mutex);
  g_cond_init (&self->cond);
  g_queue_init (&self->responses);
  self->requests = g_ptr_array_new_with_free_func ((GDestroyNotify) agentexec_mock_request_unref);
  self->conn_threads = g_ptr_array_new ();
  self->cancellable = g_cancellable_new ();
  self->context = g_main_context_new ();
  self->loop = g_main_loop_new (self->context, FALSE);
  self->address = address;
  self->socket_path = g_strdup (socket_path);
  self->thread = g_thread_new ("mock-http-server", server_thread, self);

  g_mutex_lock (&self->mutex);
  while (!self->started)
    g_cond_wait (&self->cond, &self->mutex);
  g_mutex_unlock (&self->mutex);
  if (self->start_error != NULL)
    {
      g_propagate_prefixed_error (error, g_steal_pointer (&self->start_error),
                                  "mock server: cannot listen: ");
      g_clear_pointer (&self->socket_path, g_free); /* not ours to remove */
      agentexec_mock_server_free (self);
      return NULL;
    }
  return self;
}

AgentExecMockServer *
agentexec_mock_server_new_tcp (GError **error)
{
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);

  return server_start (g_inet_socket_address_new (loopback, 0), NULL, error);
}

AgentExecMockServer *
agentexec_mock_server_new_unix (const char *path, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);

  if (g_unlink (path) != 0 && errno != ENOENT)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "mock server: cannot remove the stale socket %s: %s", path,
                   g_strerror (saved_errno));
      return NULL;
    }
  return server_start (g_unix_socket_address_new (path), path, error);
}

static gboolean
quit_loop (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

void
agentexec_mock_server_free (AgentExecMockServer *self)
{
  GSource *quit;

  if (self == NULL)
    return;

  g_mutex_lock (&self->mutex);
  self->stopping = TRUE;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->mutex);
  g_cancellable_cancel (self->cancellable);
  /* Through a source, so that a loop that has not started running yet
   * still sees it (g_main_loop_quit before g_main_loop_run is lost). */
  quit = g_idle_source_new ();
  g_source_set_callback (quit, quit_loop, self->loop, NULL);
  g_source_attach (quit, self->context);
  g_source_unref (quit);
  g_thread_join (self->thread);
  /* No new connection threads now: the service is gone. */
  for (guint i = 0; i < self->conn_threads->len; i++)
    g_thread_join (g_ptr_array_index (self->conn_threads, i));
  g_ptr_array_unref (self->conn_threads);

  if (self->socket_path != NULL)
    g_unlink (self->socket_path);
  if (self->handler_destroy != NULL)
    self->handler_destroy (self->handler_data);
  g_queue_clear_full (&self->responses, (GDestroyNotify) agentexec_mock_response_unref);
  g_ptr_array_unref (self->requests);
  g_clear_error (&self->start_error);
  g_object_unref (self->address);
  g_object_unref (self->cancellable);
  g_main_loop_unref (self->loop);
  g_main_context_unref (self->context);
  g_free (self->socket_path);
  g_mutex_clear (&self->mutex);
  g_cond_clear (&self->cond);
  g_free (self);
}

guint16
agentexec_mock_server_get_port (AgentExecMockServer *self)
{
  return self->port;
}

char *
agentexec_mock_server_get_url (AgentExecMockServer *self)
{
  if (self->socket_path != NULL)
    return g_strdup ("http://localhost");
  return g_strdup_printf ("http://127.0.0.1:%u", self->port);
}

const char *
agentexec_mock_server_get_socket_path (AgentExecMockServer *self)
{
  return self->socket_path;
}

void
agentexec_mock_server_set_keep_alive (AgentExecMockServer *self, gboolean keep_alive)
{
  g_mutex_lock (&self->mutex);
  self->keep_alive = keep_alive;
  g_mutex_unlock (&self->mutex);
}

void
agentexec_mock_server_enqueue (AgentExecMockServer *self, AgentExecMockResponse *response)
{
  g_return_if_fail (self != NULL && response != NULL);

  g_mutex_lock (&self->mutex);
  g_queue_push_tail (&self->responses, response);
  g_mutex_unlock (&self->mutex);
}

void
agentexec_mock_server_enqueue_simple (AgentExecMockServer *self,
                                      guint status,
                                      const char *content_type,
                                      const char *body)
{
  AgentExecMockResponse *response = agentexec_mock_response_new (status, body, -1);

  if (content_type != NULL)
    agentexec_mock_response_add_header (response, "Content-Type", content_type);
  agentexec_mock_server_enqueue (self, response);
}

guint
agentexec_mock_server_get_n_pending (AgentExecMockServer *self)
{
  guint n;

  g_mutex_lock (&self->mutex);
  n = self->responses.length;
  g_mutex_unlock (&self->mutex);
  return n;
}

void
agentexec_mock_server_set_handler (AgentExecMockServer *self,
                                   AgentExecMockHandler handler,
                                   gpointer user_data,
                                   GDestroyNotify destroy)
{
  gpointer old_data;
  GDestroyNotify old_destroy;

  g_mutex_lock (&self->mutex);
  old_data = self->handler_data;
  old_destroy = self->handler_destroy;
  self->handler = handler;
  self->handler_data = user_data;
  self->handler_destroy = destroy;
  g_mutex_unlock (&self->mutex);
  if (old_destroy != NULL)
    old_destroy (old_data);
}

guint
agentexec_mock_server_get_n_requests (AgentExecMockServer *self)
{
  guint n;

  g_mutex_lock (&self->mutex);
  n = self->requests->len;
  g_mutex_unlock (&self->mutex);
  return n;
}

AgentExecMockRequest *
agentexec_mock_server_get_request (AgentExecMockServer *self, guint index)
{
  AgentExecMockRequest *request = NULL;

  g_mutex_lock (&self->mutex);
  if (index < self->requests->len)
    request = agentexec_mock_request_ref (g_ptr_array_index (self->requests, index));
  g_mutex_unlock (&self->mutex);
  return request;
}

gboolean
agentexec_mock_server_wait_for_requests (AgentExecMockServer *self, guint n, guint timeout_ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  gboolean reached;

  g_mutex_lock (&self->mutex);
  while (self->requests->len < n && !self->stopping &&
         g_cond_wait_until (&self->cond, &self->mutex, end))
    ;
  reached = self->requests->len >= n;
  g_mutex_unlock (&self->mutex);
  return reached;
}

void
agentexec_mock_server_clear_requests (AgentExecMockServer *self)
{
  g_mutex_lock (&self->mutex);
  g_ptr_array_set_size (self->requests, 0);
  g_mutex_unlock (&self->mutex);
}

guint
agentexec_mock_server_get_n_connections (AgentExecMockServer *self)
{
  guint n;

  g_mutex_lock (&self->mutex);
  n = self->n_connections;
  g_mutex_unlock (&self->mutex);
  return n;
}
