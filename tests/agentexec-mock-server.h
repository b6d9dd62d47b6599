/* agentexec-mock-server.h: a small HTTP/1.1 server for backend tests
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The server runs a GSocketService in a thread of its own (with its own
 * GMainContext) and answers each request with the next canned response of a
 * queue, so tests can drive every path of an HTTP client: status codes,
 * headers, slow answers, dropped connections, truncated bodies and streamed
 * (chunked) bodies such as Server-Sent Events. Every request it receives is
 * recorded (method, target with query, headers, body) for assertions.
 *
 * It listens on 127.0.0.1 (a free port chosen by the kernel) or on a unix
 * socket path. Every function is thread-safe; responses are picked and
 * requests recorded under one lock.
 *
 * |[<!-- language="C" -->
 * g_autoptr(AgentExecMockServer) server = agentexec_mock_server_new_tcp (&error);
 * g_autofree char *url = agentexec_mock_server_get_url (server);
 *
 * agentexec_mock_server_enqueue_simple (server, 200, "application/json", "{}");
 * ... point the client at url and run it ...
 * g_autoptr(AgentExecMockRequest) request = agentexec_mock_server_get_request (server, 0);
 * g_assert_cmpstr (agentexec_mock_request_get_method (request), ==, "POST");
 * ]|
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _AgentExecMockServer AgentExecMockServer;
typedef struct _AgentExecMockResponse AgentExecMockResponse;
typedef struct _AgentExecMockRequest AgentExecMockRequest;

/**
 * AgentExecMockHandler:
 * @server: the server
 * @request: the request just received
 * @user_data: the data given to agentexec_mock_server_set_handler()
 *
 * Called in a connection thread of the server when no queued response
 * matches @request. Must be thread-safe.
 *
 * Returns: (transfer full) (nullable): the response, or %NULL for the
 *   server's fallback (a 500 naming the request)
 */
typedef AgentExecMockResponse *(*AgentExecMockHandler) (AgentExecMockServer *server,
                                                        const AgentExecMockRequest *request,
                                                        gpointer user_data);

/* Server */

/* Starts a server on 127.0.0.1 with a free port (see get_port / get_url). */
AgentExecMockServer *agentexec_mock_server_new_tcp (GError **error);
/* Starts a server on the unix socket @path (a stale socket file there is
 * replaced; the file is removed again by agentexec_mock_server_free()). */
AgentExecMockServer *agentexec_mock_server_new_unix (const char *path, GError **error);
/* Stops the server: pending waits and delays end at once, connections are
 * closed, every thread is joined, and all memory is freed. NULL is ignored. */
void agentexec_mock_server_free (AgentExecMockServer *self);
/* The bound TCP port (0 for a unix socket server). */
guint16 agentexec_mock_server_get_port (AgentExecMockServer *self);
/* "http://127.0.0.1:PORT" for TCP, "http://localhost" for a unix socket
 * server (used with CURLOPT_UNIX_SOCKET_PATH). Free with g_free(). */
char *agentexec_mock_server_get_url (AgentExecMockServer *self);
/* The socket path of a unix socket server, else NULL. */
const char *agentexec_mock_server_get_socket_path (AgentExecMockServer *self);
/* Whether a connection serves more than one request (HTTP keep-alive).
 * Default FALSE: every response carries "Connection: close". */
void agentexec_mock_server_set_keep_alive (AgentExecMockServer *self, gboolean keep_alive);

/* Queues @response (takes ownership). Each response is used once: a request
 * gets the first queued response with a route matching it (see
 * agentexec_mock_response_set_route()), else the first without a route,
 * else the handler's answer, else a 500 naming the request. */
void agentexec_mock_server_enqueue (AgentExecMockServer *self, AgentExecMockResponse *response);
/* Shorthand: queues a plain response with a Content-Type (nullable). */
void agentexec_mock_server_enqueue_simple (AgentExecMockServer *self,
                                           guint status,
                                           const char *content_type,
                                           const char *body);
/* The number of queued responses not used yet. */
guint agentexec_mock_server_get_n_pending (AgentExecMockServer *self);
/* Answers requests no queued response matches; called in a connection thread.
 * @destroy frees @user_data when the handler is replaced or the server freed. */
void agentexec_mock_server_set_handler (AgentExecMockServer *self,
                                        AgentExecMockHandler handler,
                                        gpointer user_data,
                                        GDestroyNotify destroy);

/* Requests, in the order they were received (recorded before answering). */
guint agentexec_mock_server_get_n_requests (AgentExecMockServer *self);
/* Returns (transfer full) the request number @index (0-based); NULL if
 * there is no such request. Free with agentexec_mock_request_unref(). */
AgentExecMockRequest *agentexec_mock_server_get_request (AgentExecMockServer *self, guint index);
/* Waits until at least @n requests were received or @timeout_ms passed;
 * returns whether they were. */
gboolean
agentexec_mock_server_wait_for_requests (AgentExecMockServer *self, guint n, guint timeout_ms);
/* Forgets the recorded requests. */
void agentexec_mock_server_clear_requests (AgentExecMockServer *self);
/* The number of connections accepted so far. */
guint agentexec_mock_server_get_n_connections (AgentExecMockServer *self);

/* Responses */

/* A response with @status and @body (@len -1: NUL-terminated; @body may be
 * NULL for an empty body). Content-Length is added unless the body is
 * streamed (see add_chunk). */
AgentExecMockResponse *agentexec_mock_response_new (guint status, const char *body, gssize len);
/* A response written exactly as @data (no status line or headers added),
 * after which the connection is closed: for malformed answers, or for
 * protocols that take over the connection. */
AgentExecMockResponse *agentexec_mock_response_new_raw (const char *data, gssize len);
/* A "response" that closes the connection without answering. */
AgentExecMockResponse *agentexec_mock_response_new_drop (void);
AgentExecMockResponse *agentexec_mock_response_ref (AgentExecMockResponse *self);
void agentexec_mock_response_unref (AgentExecMockResponse *self);
/* Adds a header line (several with the same name are allowed). */
void agentexec_mock_response_add_header (AgentExecMockResponse *self,
                                         const char *name,
                                         const char *value);
/* Waits @delay_ms after the request was read before answering. */
void agentexec_mock_response_set_delay_ms (AgentExecMockResponse *self, guint delay_ms);
/* Answers only requests whose method is @method (NULL: any) and whose target
 * (path with query) starts with @path_prefix (NULL: any). */
void agentexec_mock_response_set_route (AgentExecMockResponse *self,
                                        const char *method,
                                        const char *path_prefix);
/* Makes the body streamed with "Transfer-Encoding: chunked": each added
 * chunk is sent @delay_ms after the previous one (the body given to _new is
 * sent first, as its own chunk, if not empty). */
void agentexec_mock_response_add_chunk (AgentExecMockResponse *self,
                                        const char *data,
                                        gssize len,
                                        guint delay_ms);
/* Ends the answer early and closes the connection: a plain body stops after
 * @body_bytes bytes (Content-Length still announces the whole body); a
 * streamed body stops after its first @body_bytes chunks, without the final
 * zero-size chunk. */
void agentexec_mock_response_set_truncate (AgentExecMockResponse *self, gsize body_bytes);

/* Recorded requests (immutable, reference counted) */

AgentExecMockRequest *agentexec_mock_request_ref (AgentExecMockRequest *self);
void agentexec_mock_request_unref (AgentExecMockRequest *self);
const char *agentexec_mock_request_get_method (const AgentExecMockRequest *self);
/* The request target as sent: the path with its query, e.g. "/v1/x?alt=sse". */
const char *agentexec_mock_request_get_path (const AgentExecMockRequest *self);
/* The value of the first header called @name (case-insensitive), or NULL. */
const char *agentexec_mock_request_get_header (const AgentExecMockRequest *self, const char *name);
/* All header lines as "Name: value" strings, in order (NULL-terminated). */
const char *const *agentexec_mock_request_get_headers (const AgentExecMockRequest *self);
/* The body (chunked uploads decoded), never NULL; NUL-terminated after @len. */
const char *agentexec_mock_request_get_body (const AgentExecMockRequest *self, gsize *len);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AgentExecMockServer, agentexec_mock_server_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AgentExecMockResponse, agentexec_mock_response_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AgentExecMockRequest, agentexec_mock_request_unref)

G_END_DECLS
