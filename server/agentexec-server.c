/* agentexec-server.c: routing, limits, authentication, access log, shutdown
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <stdio.h>
#include <string.h>

#include "agentexec-server-auth-private.h"
#include "agentexec-server-ndjson-private.h"
#include "agentexec-server-private.h"
#include "agentexec-server-registry-private.h"

/* JSON around the code: env_vars, ids, and escapes (\uXXXX is 6 bytes). */
#define BODY_OVERHEAD (64 * 1024)
#define START_TIME_KEY "agentexec-server-start"
#define REMOTE_KEY "agentexec-server-remote"
/* RFC 6585; libsoup 3.2 has no name for it. */
#define STATUS_TOO_MANY_REQUESTS 429

struct _AgentExecServer
{
  GObject parent_instance;

  AgentExecCodeExecutor *executor;
  AgentExecServerOptions options;
  AgentExecServerAuth *auth;
  AgentExecServerRegistry *registry;
  SoupServer *soup;
  SoupServer *health;
  GPtrArray *executions; /* running or queued */
  guint in_flight;       /* requests being handled */
  gboolean stopping;
};

G_DEFINE_FINAL_TYPE (AgentExecServer, agentexec_server, G_TYPE_OBJECT)

/* Answers */

static void reply_text (SoupServerMessage *msg, guint status, const char *format, ...)
    G_GNUC_PRINTF (3, 4);

static void
reply_text (SoupServerMessage *msg, guint status, const char *format, ...)
{
  g_autofree char *text = NULL;
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "text/plain; charset=utf-8", SOUP_MEMORY_COPY, text,
                                    strlen (text));
}

static void
reply_json (SoupServerMessage *msg, guint status, JsonNode *node)
{
  char *line = _agentexec_server_json_to_ascii_line (node);

  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE, line, strlen (line));
}

static guint
status_for_error (const GError *error)
{
  if (g_error_matches (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_RESOURCE_LIMIT))
    return STATUS_TOO_MANY_REQUESTS;
  if (error->domain == AGENTEXEC_ERROR && (error->code == AGENTEXEC_ERROR_INVALID_INPUT ||
                                           error->code == AGENTEXEC_ERROR_UNSUPPORTED_LANGUAGE))
    return SOUP_STATUS_BAD_REQUEST;
  return SOUP_STATUS_INTERNAL_SERVER_ERROR;
}

/* Request bodies */

static JsonObject *
parse_body (SoupServerMessage *msg, gboolean required, GError **error)
{
  g_autoptr (GBytes) bytes = soup_message_body_flatten (soup_server_message_get_request_body (msg));
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) local_error = NULL;
  gsize len = g_bytes_get_size (bytes);

  if (len == 0 && !required)
    return json_object_new ();
  if (!json_parser_load_from_data (parser, g_bytes_get_data (bytes, NULL), len, &local_error) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_INVALID_INPUT,
                   "The request body must be a JSON object (%s)",
                   local_error != NULL ? local_error->message : "it is not an object");
      return NULL;
    }
  return json_object_ref (json_node_get_object (json_parser_get_root (parser)));
}

/* A string member; absent and null (the Python SDK sends null) are NULL. */
static gboolean
get_string (JsonObject *object, const char *name, const char **value, GError **error)
{
  JsonNode *node = json_object_get_member (object, name);

  *value = NULL;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    {
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_INVALID_INPUT, "“%s” must be a string",
                   name);
      return FALSE;
    }
  *value = json_node_get_string (node);
  return TRUE;
}

static gboolean
is_identifier (const char *name)
{
  if (!(g_ascii_isalpha (name[0]) || name[0] == '_'))
    return FALSE;
  for (const char *p = name; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && *p != '_')
      return FALSE;
  return TRUE;
}

/* env_vars: an object of names (identifiers) to strings, or null. */
static gboolean
get_env (JsonObject *object, JsonObject **env, GError **error)
{
  JsonNode *node = json_object_get_member (object, "env_vars");
  g_autoptr (GList) names = NULL;

  *env = NULL;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_OBJECT (node))
    goto bad;
  *env = json_node_get_object (node);
  names = json_object_get_members (*env);
  for (GList *l = names; l != NULL; l = l->next)
    {
      JsonNode *value = json_object_get_member (*env, l->data);

      if (!is_identifier (l->data) || !JSON_NODE_HOLDS_VALUE (value) ||
          json_node_get_value_type (value) != G_TYPE_STRING)
        goto bad;
    }
  return TRUE;

bad:
  *env = NULL;
  g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_INVALID_INPUT,
               "“env_vars” must be an object of variable names (letters, digits, _) to "
               "string values");
  return FALSE;
}

static const char *
resolve_language (const char *name, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  const char *language = agentexec_language_resolve (name != NULL ? name : "python", &local_error);

  if (language == NULL)
    g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_INVALID_INPUT, "%s", local_error->message);
  return language;
}

/* POST /execute */

static void
on_execution_finished (AgentExecServerExecution *execution, gpointer data)
{
  AgentExecServer *self = data;

  g_signal_handlers_disconnect_by_data (execution, self);
  g_ptr_array_remove_fast (self->executions, execution);
}

static AgentExecServerContext *
execute_context (
    AgentExecServer *self, JsonObject *body, const char **language, guint *status, GError **error)
{
  const char *context_id, *language_name;
  AgentExecServerContext *context;

  *status = SOUP_STATUS_BAD_REQUEST;
  if (!get_string (body, "context_id", &context_id, error) ||
      !get_string (body, "language", &language_name, error))
    return NULL;
  if (context_id != NULL && language_name != NULL)
    {
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_INVALID_INPUT,
                   "Give context_id or language, not both: a context has its language");
      return NULL;
    }
  if (context_id != NULL)
    {
      context = _agentexec_server_registry_lookup (self->registry, context_id);
      if (context == NULL)
        {
          *status = SOUP_STATUS_NOT_FOUND;
          g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_INVALID_INPUT,
                       "Context %s not found: create one with POST /contexts", context_id);
        }
      else
        *language = _agentexec_server_context_get_language (context);
      return context;
    }
  *language = resolve_language (language_name, error);
  if (*language == NULL)
    return NULL;
  context = _agentexec_server_registry_get_default (self->registry, *language, error);
  if (context == NULL)
    *status = STATUS_TOO_MANY_REQUESTS;
  return context;
}

static void
handle_execute (AgentExecServer *self, SoupServerMessage *msg)
{
  g_autoptr (JsonObject) body = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecServerExecution) execution = NULL;
  AgentExecServerContext *context;
  const char *code, *language = NULL;
  JsonObject *env;
  guint status = SOUP_STATUS_BAD_REQUEST;

  body = parse_body (msg, TRUE, &error);
  if (body == NULL || !get_string (body, "code", &code, &error) || !get_env (body, &env, &error))
    goto fail;
  if (code == NULL)
    {
      g_set_error (&error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_INVALID_INPUT,
                   "“code” is missing: send {\"code\": \"...\"}");
      goto fail;
    }
  if (strlen (code) > self->options.max_code_bytes)
    {
      status = SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE;
      g_set_error (&error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_RESOURCE_LIMIT,
                   "The code is %zu bytes, more than the server's --max-code-bytes (%zu)",
                   strlen (code), self->options.max_code_bytes);
      goto fail;
    }
  if (self->options.max_executions > 0 && self->executions->len >= self->options.max_executions)
    {
      status = STATUS_TOO_MANY_REQUESTS;
      g_set_error (&error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_RESOURCE_LIMIT,
                   "%u executions are already running or queued (--max-executions): retry "
                   "when some have finished",
                   self->executions->len);
      goto fail;
    }
  context = execute_context (self, body, &language, &status, &error);
  if (context == NULL)
    goto fail;

  execution = _agentexec_server_execution_new (self->executor, msg, code, language,
                                               _agentexec_server_context_get_execution_id (context),
                                               env, self->options.timeout_ms);
  g_ptr_array_add (self->executions, g_object_ref (execution));
  g_signal_connect (execution, "finished", G_CALLBACK (on_execution_finished), self);
  _agentexec_server_context_enqueue (context, execution);
  return;

fail:
  reply_text (msg, status, "%s", error->message);
}

/* /contexts */

typedef struct
{
  AgentExecServer *server;
  SoupServerMessage *msg;
} Pending;

static Pending *
pending_new (AgentExecServer *self, SoupServerMessage *msg)
{
  Pending *pending = g_new0 (Pending, 1);

  pending->server = g_object_ref (self);
  pending->msg = g_object_ref (msg);
  soup_server_message_pause (msg);
  return pending;
}

static void
pending_free (Pending *pending)
{
  soup_server_message_unpause (pending->msg);
  g_object_unref (pending->msg);
  g_object_unref (pending->server);
  g_free (pending);
}

static void
on_context_created (GObject *source, GAsyncResult *res, gpointer data)
{
  Pending *pending = data;
  AgentExecServerContext *context = AGENTEXEC_SERVER_CONTEXT (source);
  g_autoptr (GError) error = NULL;

  if (_agentexec_server_context_job_finish (context, res, &error))
    {
      g_autoptr (JsonNode) node = _agentexec_server_context_to_json (context);

      reply_json (pending->msg, SOUP_STATUS_OK, node);
    }
  else
    {
      g_autoptr (AgentExecServerContext) removed = _agentexec_server_registry_remove (
          pending->server->registry, _agentexec_server_context_get_id (context));

      reply_text (pending->msg, status_for_error (error), "%s", error->message);
      if (removed != NULL)
        _agentexec_server_context_reset_async (removed, "the context could not be created", FALSE,
                                               NULL, NULL);
    }
  pending_free (pending);
}

static void
handle_create_context (AgentExecServer *self, SoupServerMessage *msg)
{
  g_autoptr (JsonObject) body = NULL;
  g_autoptr (GError) error = NULL;
  const char *language_name, *cwd, *language;
  AgentExecServerContext *context;

  body = parse_body (msg, FALSE, &error);
  if (body == NULL || !get_string (body, "language", &language_name, &error) ||
      !get_string (body, "cwd", &cwd, &error) ||
      (language = resolve_language (language_name, &error)) == NULL)
    {
      reply_text (msg, SOUP_STATUS_BAD_REQUEST, "%s", error->message);
      return;
    }
  context = _agentexec_server_registry_create (self->registry, language, cwd, &error);
  if (context == NULL)
    {
      reply_text (msg, status_for_error (error), "%s", error->message);
      return;
    }
  _agentexec_server_context_setup_async (context, on_context_created, pending_new (self, msg));
}

static void
on_context_reset (GObject *source, GAsyncResult *res, gpointer data)
{
  Pending *pending = data;
  g_autoptr (GError) error = NULL;

  if (_agentexec_server_context_job_finish (AGENTEXEC_SERVER_CONTEXT (source), res, &error))
    soup_server_message_set_status (pending->msg, SOUP_STATUS_NO_CONTENT, NULL);
  else
    reply_text (pending->msg, status_for_error (error), "The context was restarted, but %s",
                error->message);
  pending_free (pending);
}

static void
handle_context (AgentExecServer *self, SoupServerMessage *msg, const char *method, char **parts)
{
  const char *id = parts[2];
  gboolean restart = parts[3] != NULL && g_str_equal (parts[3], "restart") && parts[4] == NULL;
  g_autoptr (AgentExecServerContext) context = NULL;

  if ((parts[3] != NULL && !restart) || (restart && !g_str_equal (method, "POST")) ||
      (!restart && !g_str_equal (method, "DELETE")))
    {
      reply_text (msg, SOUP_STATUS_METHOD_NOT_ALLOWED,
                  "Use DELETE /contexts/{id} or POST /contexts/{id}/restart");
      return;
    }
  if (restart)
    g_set_object (&context, _agentexec_server_registry_lookup (self->registry, id));
  else
    context = _agentexec_server_registry_remove (self->registry, id);
  if (context == NULL)
    {
      reply_text (msg, SOUP_STATUS_NOT_FOUND, "Context %s not found", id);
      return;
    }
  _agentexec_server_context_reset_async (
      context, restart ? "the context was restarted" : "the context was removed", restart,
      on_context_reset, pending_new (self, msg));
}

/* Routing */

static gboolean
check_token (AgentExecServer *self, SoupServerMessage *msg)
{
  const char *presented = soup_message_headers_get_one (
      soup_server_message_get_request_headers (msg), AGENTEXEC_SERVER_TOKEN_HEADER);

  if (_agentexec_server_auth_check (self->auth, presented))
    return TRUE;
  reply_text (msg, SOUP_STATUS_UNAUTHORIZED,
              "%s the " AGENTEXEC_SERVER_TOKEN_HEADER " header: pass the server's token "
              "(the E2B SDKs send the sandbox's trafficAccessToken there)",
              presented == NULL ? "Missing" : "Wrong token in");
  return FALSE;
}

static void
route (AgentExecServer *self, SoupServerMessage *msg, const char *method, const char *path)
{
  g_auto (GStrv) parts = g_strsplit (path, "/", 6);
  gboolean contexts = parts[0] != NULL && parts[1] != NULL && g_str_equal (parts[1], "contexts");

  if (g_str_equal (path, "/execute") && g_str_equal (method, "POST"))
    handle_execute (self, msg);
  else if (g_str_equal (path, "/contexts") && g_str_equal (method, "POST"))
    handle_create_context (self, msg);
  else if (g_str_equal (path, "/contexts") && g_str_equal (method, "GET"))
    {
      g_autoptr (JsonNode) list = _agentexec_server_registry_to_json (self->registry);

      reply_json (msg, SOUP_STATUS_OK, list);
    }
  else if (contexts && parts[2] != NULL && parts[2][0] != '\0')
    handle_context (self, msg, method, parts);
  else if (g_str_equal (path, "/execute") || g_str_equal (path, "/contexts"))
    reply_text (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "%s is not allowed on %s", method, path);
  else
    reply_text (msg, SOUP_STATUS_NOT_FOUND,
                "No such endpoint: %s (this is the E2B code-interpreter API: /execute, "
                "/contexts, /health)",
                path);
}

static void
on_request (
    SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query, gpointer data)
{
  AgentExecServer *self = data;
  const char *method = soup_server_message_get_method (msg);

  if (soup_server_message_get_status (msg) != 0)
    return; /* answered when its headers came (too large) */
  if (g_str_equal (path, "/health"))
    {
      soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
      soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_STATIC,
                                        "{\"status\":\"ok\"}\n", 16);
      return;
    }
  if (server == self->health)
    {
      reply_text (msg, SOUP_STATUS_NOT_FOUND, "This port only answers GET /health");
      return;
    }
  if (!check_token (self, msg))
    return;
  if (self->stopping)
    {
      reply_text (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "The server is shutting down");
      return;
    }
  route (self, msg, method, path);
}

/* Limits before the body is read, and the access log */

static void
on_got_headers (SoupServerMessage *msg, gpointer data)
{
  AgentExecServer *self = data;
  goffset length =
      soup_message_headers_get_content_length (soup_server_message_get_request_headers (msg));
  gsize limit = self->options.max_code_bytes * 6 + BODY_OVERHEAD;

  if (length > 0 && (guint64) length > limit)
    reply_text (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE,
                "The request body is %" G_GOFFSET_FORMAT " bytes, more than this server "
                "accepts (%zu; --max-code-bytes sets it)",
                length, limit);
}

static void
on_got_chunk (SoupServerMessage *msg, GBytes *chunk, gpointer data)
{
  AgentExecServer *self = data;
  SoupMessageBody *body = soup_server_message_get_request_body (msg);

  if ((gsize) body->length > self->options.max_code_bytes * 6 + BODY_OVERHEAD &&
      soup_server_message_get_status (msg) == 0)
    {
      reply_text (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE,
                  "The request body is larger than this server accepts");
      soup_message_body_truncate (body);
    }
}

/* The client's address, or NULL when it is already gone (a probe that
 * connects and resets at once). Read from the socket here: libsoup's
 * soup_server_message_get_remote_host() logs a warning for every such
 * client ("could not get remote address: Transport endpoint is not
 * connected"), which is no fault of the server's. */
static char *
dup_remote_host (SoupServerMessage *msg)
{
  GSocket *socket = soup_server_message_get_socket (msg);
  g_autoptr (GSocketAddress) address = NULL;
  g_autoptr (GError) error = NULL;

  if (socket == NULL)
    return NULL;
  address = g_socket_get_remote_address (socket, &error);
  if (address == NULL)
    {
      g_debug ("A client left before its address was read: %s", error->message);
      return NULL;
    }
  if (!G_IS_INET_SOCKET_ADDRESS (address))
    return NULL;
  return g_inet_address_to_string (
      g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (address)));
}

static void
on_request_started (SoupServer *server, SoupServerMessage *msg, gpointer data)
{
  AgentExecServer *self = data;
  gint64 *start = g_new (gint64, 1);

  *start = g_get_monotonic_time ();
  g_object_set_data_full (G_OBJECT (msg), START_TIME_KEY, start, g_free);
  /* Asked now: once the client is gone nobody can tell. */
  g_object_set_data_full (G_OBJECT (msg), REMOTE_KEY, dup_remote_host (msg), g_free);
  g_signal_connect_object (msg, "got-headers", G_CALLBACK (on_got_headers), self, 0);
  g_signal_connect_object (msg, "got-chunk", G_CALLBACK (on_got_chunk), self, 0);
  self->in_flight++;
}

static void
log_request (AgentExecServer *self, SoupServerMessage *msg, const char *event)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *stamp = _agentexec_server_timestamp ();
  g_autofree char *line = NULL;
  gint64 *start = g_object_get_data (G_OBJECT (msg), START_TIME_KEY);
  GUri *uri = soup_server_message_get_uri (msg);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "time");
  json_builder_add_string_value (builder, stamp);
  json_builder_set_member_name (builder, "event");
  json_builder_add_string_value (builder, event);
  json_builder_set_member_name (builder, "remote");
  if (g_object_get_data (G_OBJECT (msg), REMOTE_KEY) != NULL)
    json_builder_add_string_value (builder, g_object_get_data (G_OBJECT (msg), REMOTE_KEY));
  else
    json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "method");
  json_builder_add_string_value (builder, soup_server_message_get_method (msg));
  json_builder_set_member_name (builder, "path");
  json_builder_add_string_value (builder, uri != NULL ? g_uri_get_path (uri) : "");
  json_builder_set_member_name (builder, "status");
  json_builder_add_int_value (builder, soup_server_message_get_status (msg));
  json_builder_set_member_name (builder, "duration_us");
  json_builder_add_int_value (builder, start != NULL ? g_get_monotonic_time () - *start : 0);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  line = _agentexec_server_json_to_ascii_line (root);
  fputs (line, stderr);
}

static void
on_request_done (SoupServer *server, SoupServerMessage *msg, gpointer data)
{
  AgentExecServer *self = data;

  if (g_object_get_data (G_OBJECT (msg), START_TIME_KEY) == NULL)
    return;
  if (self->options.access_log)
    log_request (self, msg, "request");
  g_object_set_data (G_OBJECT (msg), START_TIME_KEY, NULL);
  self->in_flight--;
}

static void
on_request_aborted (SoupServer *server, SoupServerMessage *msg, gpointer data)
{
  AgentExecServer *self = data;

  if (g_object_get_data (G_OBJECT (msg), START_TIME_KEY) == NULL)
    return;
  if (self->options.access_log)
    log_request (self, msg, "aborted");
  g_object_set_data (G_OBJECT (msg), START_TIME_KEY, NULL);
  self->in_flight--;
}

static SoupServer *
new_soup_server (AgentExecServer *self)
{
  SoupServer *soup =
      soup_server_new ("server-header", "agentexec-serve/" PACKAGE_VERSION " ", NULL);

  soup_server_add_handler (soup, NULL, on_request, self, NULL);
  g_signal_connect (soup, "request-started", G_CALLBACK (on_request_started), self);
  g_signal_connect (soup, "request-finished", G_CALLBACK (on_request_done), self);
  g_signal_connect (soup, "request-aborted", G_CALLBACK (on_request_aborted), self);
  return soup;
}

static gboolean
listen_on (SoupServer *soup, const char *host, guint port, GError **error)
{
  g_autoptr (GInetAddress) address = NULL;
  g_autoptr (GSocketAddress) socket_address = NULL;
  g_autoptr (GError) local_error = NULL;

  address = g_inet_address_new_from_string (
      g_ascii_strcasecmp (host, "localhost") == 0 ? "127.0.0.1" : host);
  if (address == NULL)
    {
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_INVALID_INPUT,
                   "“%s” is not an IP address: use e.g. 127.0.0.1, 0.0.0.0 or ::1", host);
      return FALSE;
    }
  socket_address = g_inet_socket_address_new (address, port);
  if (!soup_server_listen (soup, socket_address, 0, &local_error))
    {
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_BACKEND_UNAVAILABLE,
                   "Cannot listen on %s port %u: %s", host, port, local_error->message);
      return FALSE;
    }
  return TRUE;
}

/*
 * _agentexec_server_listen:
 * @port: 0: any free port (see _agentexec_server_get_port())
 * @health_port: where GET /health is answered too; 0: nowhere else
 *
 * Refuses an address other clients can reach unless a token is set.
 */
gboolean
_agentexec_server_listen (
    AgentExecServer *self, const char *host, guint port, guint health_port, GError **error)
{
  if (self->auth == NULL && !_agentexec_server_address_is_loopback (host))
    {
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_UNSAFE_NOT_ALLOWED,
                   "Refusing to listen on %s without a token: anyone who reaches it could "
                   "run code. Pass --token-file FILE or --token-env NAME (clients send it "
                   "as " AGENTEXEC_SERVER_TOKEN_HEADER "), or listen on 127.0.0.1",
                   host);
      return FALSE;
    }
  if (!listen_on (self->soup, host, port, error))
    return FALSE;
  if (health_port == 0)
    return TRUE;
  self->health = new_soup_server (self);
  return listen_on (self->health, host, health_port, error);
}

/* The loopback rule for a socket given to the server: its local address. */
static gboolean
check_socket_address (AgentExecServer *self, GSocket *socket, GError **error)
{
  g_autoptr (GSocketAddress) address = g_socket_get_local_address (socket, NULL);
  g_autofree char *host = NULL;

  /* A Unix socket is reached through its file's permissions only. */
  if (address == NULL || !G_IS_INET_SOCKET_ADDRESS (address) || self->auth != NULL)
    return TRUE;
  host = g_inet_address_to_string (
      g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (address)));
  if (_agentexec_server_address_is_loopback (host))
    return TRUE;
  g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_UNSAFE_NOT_ALLOWED,
               "Refusing to serve on %s (a socket passed by systemd) without a token: anyone "
               "who reaches it could run code. Pass --token-file FILE or --token-env NAME, or "
               "make the socket unit listen on 127.0.0.1",
               host);
  return FALSE;
}

static gboolean
listen_socket (SoupServer *soup, GSocket *socket, GError **error)
{
  g_autoptr (GError) local_error = NULL;

  if (soup_server_listen_socket (soup, socket, 0, &local_error))
    return TRUE;
  g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_BACKEND_UNAVAILABLE,
               "Cannot serve on the socket passed by systemd: %s", local_error->message);
  return FALSE;
}

/*
 * _agentexec_server_listen_sockets:
 * @api: a listening socket (systemd's socket activation)
 * @health: (nullable): another, for GET /health only
 *
 * Like _agentexec_server_listen(), on sockets made by someone else.
 */
gboolean
_agentexec_server_listen_sockets (AgentExecServer *self,
                                  GSocket *api,
                                  GSocket *health,
                                  GError **error)
{
  if (!check_socket_address (self, api, error) ||
      (health != NULL && !check_socket_address (self, health, error)))
    return FALSE;
  if (!listen_socket (self->soup, api, error))
    return FALSE;
  if (health == NULL)
    return TRUE;
  self->health = new_soup_server (self);
  return listen_socket (self->health, health, error);
}

/* The port of the first listener (libsoup 3.2's soup_server_get_uris()
 * leaks a socket address per listener, so the socket is asked directly). */
guint
_agentexec_server_get_port (AgentExecServer *self)
{
  GSList *listeners = soup_server_get_listeners (self->soup);
  g_autoptr (GSocketAddress) address = NULL;
  guint port = 0;

  if (listeners != NULL)
    address = g_socket_get_local_address (listeners->data, NULL);
  if (address != NULL && G_IS_INET_SOCKET_ADDRESS (address))
    port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (address));
  g_slist_free (listeners);
  return port;
}

/* Shutdown */

typedef struct
{
  gint64 deadline;
  guint poll_id;
} Shutdown;

/* The close runs in a thread of its own (a backend may wait for its engine);
 * its task holds no reference, so nothing of the server is released there. */
static void
close_executor_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  agentexec_code_executor_close (data);
  g_task_return_boolean (task, TRUE);
}

static void
on_executor_closed (GObject *source, GAsyncResult *res, gpointer data)
{
  GTask *task = data;

  g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

static gboolean
on_shutdown_poll (gpointer data)
{
  GTask *task = data;
  AgentExecServer *self = g_task_get_source_object (task);
  Shutdown *shutdown = g_task_get_task_data (task);
  g_autoptr (GTask) close_task = NULL;

  if (g_get_monotonic_time () < shutdown->deadline &&
      (self->executions->len > 0 || _agentexec_server_registry_get_pending (self->registry) > 0 ||
       self->in_flight > 0))
    return G_SOURCE_CONTINUE;
  shutdown->poll_id = 0;
  soup_server_disconnect (self->soup);
  if (self->health != NULL)
    soup_server_disconnect (self->health);
  close_task = g_task_new (NULL, NULL, on_executor_closed, task);
  g_task_set_source_tag (close_task, close_executor_thread);
  g_task_set_task_data (close_task, self->executor, NULL);
  g_task_run_in_thread (close_task, close_executor_thread);
  return G_SOURCE_REMOVE;
}

/*
 * _agentexec_server_shutdown_async:
 * @grace_ms: how long running executions may take to end after their
 *   cancellation before the executor is closed anyway
 *
 * Answers new requests with 503, cancels every execution (their streams end
 * with an error line and end_of_execution), waits for them and for the
 * responses to go out, then closes the executor: every session ends, no
 * container or process is left.
 */
void
_agentexec_server_shutdown_async (AgentExecServer *self,
                                  guint grace_ms,
                                  GAsyncReadyCallback callback,
                                  gpointer user_data)
{
  GTask *task = g_task_new (self, NULL, callback, user_data);
  Shutdown *shutdown = g_new0 (Shutdown, 1);

  g_task_set_source_tag (task, _agentexec_server_shutdown_async);
  shutdown->deadline = g_get_monotonic_time () + (gint64) grace_ms * 1000;
  g_task_set_task_data (task, shutdown, g_free);
  self->stopping = TRUE;
  _agentexec_server_registry_cancel_all (self->registry, "the server is shutting down");
  shutdown->poll_id = g_timeout_add (20, on_shutdown_poll, task);
}

gboolean
_agentexec_server_shutdown_finish (AgentExecServer *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/*
 * _agentexec_server_new:
 * @executor: runs the code; stateful (the contexts are its sessions)
 */
AgentExecServer *
_agentexec_server_new (AgentExecCodeExecutor *executor, const AgentExecServerOptions *options)
{
  AgentExecServer *self = g_object_new (AGENTEXEC_TYPE_SERVER, NULL);

  self->executor = g_object_ref (executor);
  self->options = *options;
  self->options.token = NULL;
  if (options->token != NULL)
    self->auth = _agentexec_server_auth_new (options->token);
  if (self->options.max_code_bytes == 0)
    self->options.max_code_bytes = 1024 * 1024;
  self->registry =
      _agentexec_server_registry_new (executor, options->max_contexts, options->context_idle_s);
  self->soup = new_soup_server (self);
  return self;
}

static void
agentexec_server_dispose (GObject *object)
{
  AgentExecServer *self = AGENTEXEC_SERVER (object);

  if (self->soup != NULL)
    soup_server_disconnect (self->soup);
  if (self->health != NULL)
    soup_server_disconnect (self->health);
  g_clear_object (&self->soup);
  g_clear_object (&self->health);
  g_clear_object (&self->registry);
  g_clear_pointer (&self->executions, g_ptr_array_unref);
  g_clear_object (&self->executor);
  G_OBJECT_CLASS (agentexec_server_parent_class)->dispose (object);
}

static void
agentexec_server_finalize (GObject *object)
{
  AgentExecServer *self = AGENTEXEC_SERVER (object);

  g_clear_pointer (&self->auth, _agentexec_server_auth_free);
  G_OBJECT_CLASS (agentexec_server_parent_class)->finalize (object);
}

static void
agentexec_server_class_init (AgentExecServerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = agentexec_server_dispose;
  object_class->finalize = agentexec_server_finalize;
}

static void
agentexec_server_init (AgentExecServer *self)
{
  self->executions = g_ptr_array_new_with_free_func (g_object_unref);
}
