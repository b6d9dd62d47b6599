/* agentexec-docker-client.c: a small Docker Engine API client over libcurl
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "agentexec-curl-private.h"
#include "agentexec-docker-client-private.h"

/* The newest API version this client speaks; older engines are asked in their
 * own (negotiated) version, newer ones in this one. */
#define CLIENT_API_MAJOR 1
#define CLIENT_API_MINOR 41
#define OLDEST_API_MINOR 25
#define DEFAULT_SOCKET "/var/run/docker.sock"
#define DEFAULT_TIMEOUT_MS 30000
#define CONNECT_TIMEOUT_MS 5000
#define MAX_JSON_RESPONSE (16 * 1024 * 1024)

struct _AgentExecDockerClient
{
  gatomicrefcount ref_count;
  char *host;
  char *socket_path;
  char *base_url;
  char *ca_file;
  char *cert_file;
  char *key_file;
  char *api_version;
  guint timeout_ms;
  GMutex lock;
  AgentExecCurlShare *share; /* connections shared between easy handles (and threads) */
};

static gboolean
tls_verify_requested (void)
{
  const char *verify = g_getenv ("DOCKER_TLS_VERIFY");

  return verify != NULL && verify[0] != '\0' && !g_str_equal (verify, "0");
}

static void
setup_tls (AgentExecDockerClient *self)
{
  const char *cert_path = g_getenv ("DOCKER_CERT_PATH");
  g_autofree char *fallback = NULL;

  if (cert_path == NULL || cert_path[0] == '\0')
    cert_path = fallback = g_build_filename (g_get_home_dir (), ".docker", NULL);
  self->ca_file = g_build_filename (cert_path, "ca.pem", NULL);
  self->cert_file = g_build_filename (cert_path, "cert.pem", NULL);
  self->key_file = g_build_filename (cert_path, "key.pem", NULL);
}

static gboolean
parse_host (AgentExecDockerClient *self, const char *host, GError **error)
{
  if (g_str_has_prefix (host, "unix://") || host[0] == '/')
    {
      const char *path = host[0] == '/' ? host : host + strlen ("unix://");

      if (path[0] != '/')
        goto bad;
      self->socket_path = g_strdup (path);
      self->base_url = g_strdup ("http://localhost");
      return TRUE;
    }
  if (g_str_has_prefix (host, "tcp://") && host[strlen ("tcp://")] != '\0')
    {
      g_autofree char *authority = g_strdup (host + strlen ("tcp://"));
      gboolean tls = tls_verify_requested ();

      g_strdelimit (authority, "/", '\0');
      self->base_url =
          g_strdup_printf ("%s://%s%s", tls ? "https" : "http", authority,
                           strchr (authority, ':') != NULL ? "" : (tls ? ":2376" : ":2375"));
      if (tls)
        setup_tls (self);
      return TRUE;
    }
bad:
  g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_INVALID_INPUT,
               "Docker host “%s” is not understood: use unix:///path/to/docker.sock or "
               "tcp://HOST:PORT (in docker-host or DOCKER_HOST)",
               host);
  return FALSE;
}

/*
 * _agentexec_docker_client_new:
 * @host: (nullable): unix:///path, /path or tcp://host:port; NULL uses
 *   DOCKER_HOST, else the default socket
 *
 * A client for the engine at @host. Nothing is connected yet; see
 * _agentexec_docker_client_negotiate().
 */
AgentExecDockerClient *
_agentexec_docker_client_new (const char *host, GError **error)
{
  AgentExecDockerClient *self;

  if (host == NULL || host[0] == '\0')
    host = g_getenv ("DOCKER_HOST");
  if (host == NULL || host[0] == '\0')
    host = "unix://" DEFAULT_SOCKET;

  self = g_new0 (AgentExecDockerClient, 1);
  g_atomic_ref_count_init (&self->ref_count);
  g_mutex_init (&self->lock);
  self->host = g_strdup (host);
  self->api_version = g_strdup_printf ("%d.%d", CLIENT_API_MAJOR, CLIENT_API_MINOR);
  self->timeout_ms = DEFAULT_TIMEOUT_MS;
  if (!parse_host (self, host, error))
    {
      _agentexec_docker_client_unref (self);
      return NULL;
    }

  self->share = _agentexec_curl_share_new (FALSE);
  return self;
}

AgentExecDockerClient *
_agentexec_docker_client_ref (AgentExecDockerClient *self)
{
  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

void
_agentexec_docker_client_unref (AgentExecDockerClient *self)
{
  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;
  _agentexec_curl_share_free (self->share);
  g_mutex_clear (&self->lock);
  g_free (self->host);
  g_free (self->socket_path);
  g_free (self->base_url);
  g_free (self->ca_file);
  g_free (self->cert_file);
  g_free (self->key_file);
  g_free (self->api_version);
  g_free (self);
}

const char *
_agentexec_docker_client_get_host (AgentExecDockerClient *self)
{
  return self->host;
}

const char *
_agentexec_docker_client_get_api_version (AgentExecDockerClient *self)
{
  return self->api_version;
}

guint
_agentexec_docker_client_get_timeout_ms (AgentExecDockerClient *self)
{
  return self->timeout_ms;
}

void
_agentexec_docker_client_set_timeout_ms (AgentExecDockerClient *self, guint timeout_ms)
{
  self->timeout_ms = timeout_ms;
}

char *
_agentexec_docker_uri_escape (const char *text)
{
  return g_uri_escape_string (text, NULL, FALSE);
}

static char *
build_url (AgentExecDockerClient *self, const char *path)
{
  g_autofree char *version = NULL;

  if (g_str_equal (path, "/_ping") || g_str_equal (path, "/version"))
    return g_strconcat (self->base_url, path, NULL);
  g_mutex_lock (&self->lock);
  version = g_strdup (self->api_version);
  g_mutex_unlock (&self->lock);
  return g_strdup_printf ("%s/v%s%s", self->base_url, version, path);
}

static CURL *
new_easy (AgentExecDockerClient *self,
          const char *path,
          GCancellable *cancellable,
          char *error_buffer,
          GError **error)
{
  g_autofree char *url = build_url (self, path);
  CURL *easy = _agentexec_curl_easy_new (cancellable, error_buffer);

  if (easy == NULL)
    {
      g_set_error_literal (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_FAILED,
                           "Could not create a libcurl handle (out of memory?)");
      return NULL;
    }
  curl_easy_setopt (easy, CURLOPT_URL, url);
  _agentexec_curl_share_attach (self->share, easy);
  curl_easy_setopt (easy, CURLOPT_CONNECTTIMEOUT_MS, (long) CONNECT_TIMEOUT_MS);
  if (self->socket_path != NULL)
    curl_easy_setopt (easy, CURLOPT_UNIX_SOCKET_PATH, self->socket_path);
  if (self->ca_file != NULL)
    {
      curl_easy_setopt (easy, CURLOPT_CAINFO, self->ca_file);
      curl_easy_setopt (easy, CURLOPT_SSLCERT, self->cert_file);
      curl_easy_setopt (easy, CURLOPT_SSLKEY, self->key_file);
    }
  return easy;
}

/*
 * _agentexec_docker_client_new_easy:
 *
 * An easy handle aimed at @path (version prefix added), on the client's
 * socket or host, with its TLS settings.
 */
CURL *
_agentexec_docker_client_new_easy (AgentExecDockerClient *self,
                                   const char *path,
                                   GCancellable *cancellable,
                                   char *error_buffer,
                                   GError **error)
{
  return new_easy (self, path, cancellable, error_buffer, error);
}

/*
 * _agentexec_docker_client_request_target:
 *
 * The request target for @path as sent on the wire: "/v1.41/path".
 */
char *
_agentexec_docker_client_request_target (AgentExecDockerClient *self, const char *path)
{
  g_autofree char *url = build_url (self, path);

  return g_strdup (url + strlen (self->base_url));
}

/* Errors from the daemon */

static char *
daemon_message (const guint8 *data, gsize len)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autofree char *text = NULL;

  if (len > 0 && json_parser_load_from_data (parser, (const char *) data, len, NULL))
    {
      JsonNode *root = json_parser_get_root (parser);

      if (JSON_NODE_HOLDS_OBJECT (root) &&
          json_object_has_member (json_node_get_object (root), "message"))
        {
          JsonNode *message = json_object_get_member (json_node_get_object (root), "message");

          if (JSON_NODE_HOLDS_VALUE (message) &&
              json_node_get_value_type (message) == G_TYPE_STRING)
            return g_strdup (json_node_get_string (message));
        }
    }
  if (len == 0)
    return g_strdup ("no message");
  text = g_utf8_make_valid ((const char *) data, MIN (len, 400));
  return g_strdup (g_strstrip (text));
}

void
_agentexec_docker_client_set_status_error (AgentExecDockerClient *self,
                                           const char *method,
                                           const char *path,
                                           guint status,
                                           const guint8 *body,
                                           gsize len,
                                           GError **error)
{
  g_autofree char *message = daemon_message (body, len);
  AgentExecError code = AGENTEXEC_ERROR_FAILED;

  if (status == 401 || status == 403)
    {
      /* An authorization plugin, a proxy or a registry said no: never retried. */
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_PERMISSION_DENIED,
                   "Docker engine at %s denied %s %s (HTTP %u): %s. Check the engine's "
                   "authorization (authz plugin rules, the TLS client certificate in "
                   "DOCKER_CERT_PATH, registry credentials for the image); retrying will not "
                   "help",
                   self->host, method, path, status, message);
      return;
    }
  if (status >= 500)
    code = AGENTEXEC_ERROR_BACKEND_UNAVAILABLE;
  else if (status == 400)
    code = AGENTEXEC_ERROR_INVALID_INPUT;
  g_set_error (error, AGENTEXEC_ERROR, code, "Docker engine at %s refused %s %s (HTTP %u): %s",
               self->host, method, path, status, message);
}

/* Plain requests */

typedef struct
{
  GByteArray *data;
  gsize max;
  gboolean overflow;
} Sink;

static size_t
sink_write (char *ptr, size_t size, size_t nmemb, void *userdata)
{
  Sink *sink = userdata;
  gsize len = size * nmemb;

  if (sink->data->len + len > sink->max)
    {
      sink->overflow = TRUE;
      return 0;
    }
  g_byte_array_append (sink->data, (const guint8 *) ptr, len);
  return len;
}

typedef struct
{
  const char *name;
  char *value;
} HeaderCapture;

static size_t
capture_header (char *buffer, size_t size, size_t nitems, void *userdata)
{
  HeaderCapture *capture = userdata;
  gsize len = size * nitems;
  gsize name_len = strlen (capture->name);

  if (len > name_len && buffer[name_len] == ':' &&
      g_ascii_strncasecmp (buffer, capture->name, name_len) == 0)
    {
      g_autofree char *value = g_strndup (buffer + name_len + 1, len - name_len - 1);

      g_free (capture->value);
      capture->value = g_strdup (g_strstrip (value));
    }
  return len;
}

static gboolean
is_broken_connection (CURLcode code)
{
  return code == CURLE_SEND_ERROR || code == CURLE_RECV_ERROR || code == CURLE_GOT_NOTHING;
}

static CURLcode
perform (AgentExecDockerClient *self, CURL *easy)
{
  CURLcode code = curl_easy_perform (easy);
  long connects = 1;

  /* A kept-alive connection that the daemon (or a proxy) closed while idle
   * fails on its first use: reconnect once. */
  if (is_broken_connection (code) &&
      curl_easy_getinfo (easy, CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK && connects == 0)
    {
      g_debug ("Docker engine connection was broken while idle; reconnecting once");
      curl_easy_setopt (easy, CURLOPT_FRESH_CONNECT, 1L);
      code = curl_easy_perform (easy);
    }
  return code;
}

static GBytes *
request_full (AgentExecDockerClient *self,
              const char *method,
              const char *path,
              const char *content_type,
              GBytes *body,
              gsize max_response,
              guint *status_out,
              HeaderCapture *capture,
              GCancellable *cancellable,
              GError **error)
{
  char error_buffer[CURL_ERROR_SIZE];
  g_autoptr (AgentExecCurlSlist) headers = NULL;
  g_autoptr (CURL) easy = NULL;
  g_autoptr (GByteArray) data = g_byte_array_new ();
  g_autofree char *what =
      g_strdup_printf ("%s %s on the Docker engine at %s", method, path, self->host);
  Sink sink = { data, max_response > 0 ? max_response : MAX_JSON_RESPONSE, FALSE };
  CURLcode code;
  long status = 0;

  easy = new_easy (self, path, cancellable, error_buffer, error);
  if (easy == NULL)
    return NULL;
  headers = curl_slist_append (NULL, "Expect:");
  if (content_type != NULL)
    {
      g_autofree char *line = g_strdup_printf ("Content-Type: %s", content_type);
      headers = curl_slist_append (headers, line);
    }
  curl_easy_setopt (easy, CURLOPT_HTTPHEADER, headers);
  if (g_str_equal (method, "POST") || g_str_equal (method, "PUT"))
    {
      gsize len = 0;
      const void *bytes = body != NULL ? g_bytes_get_data (body, &len) : NULL;

      curl_easy_setopt (easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) len);
      curl_easy_setopt (easy, CURLOPT_POSTFIELDS, bytes != NULL ? bytes : "");
    }
  if (!g_str_equal (method, "GET") && !g_str_equal (method, "POST") &&
      !g_str_equal (method, "HEAD"))
    curl_easy_setopt (easy, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt (easy, CURLOPT_WRITEFUNCTION, sink_write);
  curl_easy_setopt (easy, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt (easy, CURLOPT_TIMEOUT_MS, (long) self->timeout_ms);
  if (g_str_equal (method, "HEAD"))
    curl_easy_setopt (easy, CURLOPT_NOBODY, 1L);
  if (capture != NULL)
    {
      curl_easy_setopt (easy, CURLOPT_HEADERFUNCTION, capture_header);
      curl_easy_setopt (easy, CURLOPT_HEADERDATA, capture);
    }

  code = perform (self, easy);
  if (code == CURLE_WRITE_ERROR && sink.overflow)
    {
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_PROTOCOL,
                   "%s: the answer is larger than %" G_GSIZE_FORMAT " bytes", what, sink.max);
      return NULL;
    }
  if (!_agentexec_curl_check (code, error_buffer, cancellable, what, error))
    return NULL;
  curl_easy_getinfo (easy, CURLINFO_RESPONSE_CODE, &status);
  if (status_out != NULL)
    *status_out = (guint) status;
  if (status >= 400 || status < 100)
    {
      _agentexec_docker_client_set_status_error (self, method, path, (guint) status, data->data,
                                                 data->len, error);
      return NULL;
    }
  return g_byte_array_free_to_bytes (g_steal_pointer (&data));
}

/*
 * _agentexec_docker_client_request:
 * @max_response: the largest answer accepted (0: 16 MiB)
 * @status: (out) (optional): the HTTP status
 *
 * One request with the client's timeout. An HTTP status >= 400 is a GError
 * carrying the daemon's `message` (5xx as BACKEND_UNAVAILABLE); so is a
 * connection failure. Returns the body.
 */
GBytes *
_agentexec_docker_client_request (AgentExecDockerClient *self,
                                  const char *method,
                                  const char *path,
                                  const char *content_type,
                                  GBytes *body,
                                  gsize max_response,
                                  guint *status,
                                  GCancellable *cancellable,
                                  GError **error)
{
  return request_full (self, method, path, content_type, body, max_response, status, NULL,
                       cancellable, error);
}

/*
 * _agentexec_docker_client_head:
 * @header: the response header wanted
 *
 * A HEAD request; returns the value of @header (NULL with an error when the
 * request fails, or when the answer lacks it: PROTOCOL).
 */
char *
_agentexec_docker_client_head (AgentExecDockerClient *self,
                               const char *path,
                               const char *header,
                               GCancellable *cancellable,
                               GError **error)
{
  g_autoptr (GBytes) answer = NULL;
  HeaderCapture capture = { header, NULL };

  answer = request_full (self, "HEAD", path, NULL, NULL, 0, NULL, &capture, cancellable, error);
  if (answer == NULL)
    {
      g_free (capture.value);
      return NULL;
    }
  if (capture.value == NULL)
    g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_PROTOCOL,
                 "Docker engine at %s answered HEAD %s without a %s header", self->host, path,
                 header);
  return capture.value;
}

/* json-glib 1.6 writes some control characters (U+0001..U+001F other than
 * \b \f \n \r \t) into strings unescaped, which is not JSON and which the
 * engine refuses. Outside strings the generator writes none, so every such
 * byte can be escaped. Takes @text. */
static GBytes *
escape_controls (char *text, gsize len)
{
  GString *out;

  for (gsize i = 0; i < len; i++)
    if ((guchar) text[i] < 0x20)
      goto escape;
  return g_bytes_new_take (text, len);

escape:
  out = g_string_sized_new (len + 64);
  for (gsize i = 0; i < len; i++)
    {
      if ((guchar) text[i] < 0x20)
        g_string_append_printf (out, "\\u%04x", (guchar) text[i]);
      else
        g_string_append_c (out, text[i]);
    }
  g_free (text);
  len = out->len;
  return g_bytes_new_take (g_string_free (out, FALSE), len);
}

/*
 * _agentexec_docker_client_request_json:
 *
 * Like _agentexec_docker_client_request() with a JSON body and answer. An
 * empty answer (204) is a JSON null node; an answer that is not JSON is a
 * PROTOCOL error.
 */
JsonNode *
_agentexec_docker_client_request_json (AgentExecDockerClient *self,
                                       const char *method,
                                       const char *path,
                                       JsonNode *body,
                                       guint *status,
                                       GCancellable *cancellable,
                                       GError **error)
{
  g_autoptr (GBytes) request = NULL;
  g_autoptr (GBytes) answer = NULL;
  g_autoptr (JsonParser) parser = NULL;
  g_autoptr (GError) local_error = NULL;
  const char *data;
  gsize len;

  if (body != NULL)
    {
      g_autoptr (JsonGenerator) generator = json_generator_new ();
      gsize text_len;
      char *text;

      json_generator_set_root (generator, body);
      text = json_generator_to_data (generator, &text_len);
      request = escape_controls (text, text_len);
    }
  answer = _agentexec_docker_client_request (self, method, path,
                                             body != NULL ? "application/json" : NULL, request, 0,
                                             status, cancellable, error);
  if (answer == NULL)
    return NULL;
  data = g_bytes_get_data (answer, &len);
  if (len == 0)
    return json_node_new (JSON_NODE_NULL);
  parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, data, len, &local_error))
    {
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_PROTOCOL,
                   "Docker engine at %s answered %s %s with malformed JSON (%s); "
                   "is docker-host really a Docker or Podman API socket?",
                   self->host, method, path, local_error->message);
      return NULL;
    }
  return json_node_copy (json_parser_get_root (parser));
}

static gboolean
parse_version (const char *text, guint *major, guint *minor)
{
  guint64 a, b;
  char *end = NULL;

  if (text == NULL || !g_ascii_isdigit (text[0]))
    return FALSE;
  a = g_ascii_strtoull (text, &end, 10);
  if (end == NULL || *end != '.' || !g_ascii_isdigit (end[1]))
    return FALSE;
  b = g_ascii_strtoull (end + 1, NULL, 10);
  *major = (guint) MIN (a, G_MAXUINT);
  *minor = (guint) MIN (b, G_MAXUINT);
  return TRUE;
}

static char *
version_from_version_endpoint (AgentExecDockerClient *self,
                               GCancellable *cancellable,
                               GError **error)
{
  g_autoptr (JsonNode) root = NULL;
  JsonObject *object;

  root = _agentexec_docker_client_request_json (self, "GET", "/version", NULL, NULL, cancellable,
                                                error);
  if (root == NULL)
    return NULL;
  object = JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
  if (object == NULL || !json_object_has_member (object, "ApiVersion"))
    {
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_PROTOCOL,
                   "Docker engine at %s did not report an API version in /_ping or /version",
                   self->host);
      return NULL;
    }
  return g_strdup (json_object_get_string_member (object, "ApiVersion"));
}

/*
 * _agentexec_docker_client_negotiate:
 *
 * Pings the engine and settles the API version: the engine's own (from the
 * `API-Version` header of /_ping, else /version), capped at the newest one
 * this client knows. Fails with BACKEND_UNAVAILABLE naming the host when no
 * engine answers.
 */
gboolean
_agentexec_docker_client_negotiate (AgentExecDockerClient *self,
                                    GCancellable *cancellable,
                                    GError **error)
{
  g_autofree char *server = NULL;
  g_autoptr (GBytes) answer = NULL;
  g_autoptr (GError) local_error = NULL;
  HeaderCapture capture = { "API-Version", NULL };
  guint major = 0, minor = 0;

  answer = request_full (self, "GET", "/_ping", NULL, NULL, 4096, NULL, &capture, cancellable,
                         &local_error);
  server = capture.value;
  if (answer == NULL)
    {
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_propagate_error (error, g_steal_pointer (&local_error));
      else
        g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_BACKEND_UNAVAILABLE,
                     "No Docker engine answers at %s (%s): start dockerd "
                     "(scripts/start-dockerd.sh) or Podman's API service, or point "
                     "docker-host / DOCKER_HOST at a running one",
                     self->host, local_error->message);
      return FALSE;
    }
  if (server == NULL && (server = version_from_version_endpoint (self, cancellable, error)) == NULL)
    return FALSE;
  if (!parse_version (server, &major, &minor) || major != CLIENT_API_MAJOR ||
      minor < OLDEST_API_MINOR)
    {
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_BACKEND_UNAVAILABLE,
                   "Docker engine at %s speaks API version “%s”; libagentexec needs "
                   "%d.%d or newer: upgrade the engine",
                   self->host, server, CLIENT_API_MAJOR, OLDEST_API_MINOR);
      return FALSE;
    }
  g_mutex_lock (&self->lock);
  g_free (self->api_version);
  self->api_version = g_strdup_printf ("%u.%u", major, MIN (minor, CLIENT_API_MINOR));
  g_mutex_unlock (&self->lock);
  return TRUE;
}
