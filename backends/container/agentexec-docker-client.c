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
#define CLIENT_API_MAJOR    1
#define CLIENT_API_MINOR    41
#define OLDEST_API_MINOR    25
#define DEFAULT_SOCKET      "/var/run/docker.sock"
#define DEFAULT_TIMEOUT_MS  30000
#define CONNECT_TIMEOUT_MS  5000
#define MAX_JSON_RESPONSE   (16 * 1024 * 1024)

struct _AgentExecDockerClient
{
  gatomicrefcount  ref_count;
  char            *host;
  char            *socket_path;
  char            *base_url;
  char            *ca_file;
  char            *cert_file;
  char            *key_file;
  char            *api_version;
  guint            timeout_ms;
  GMutex           lock;
  CURLSH          *share;
  GMutex           share_locks[CURL_LOCK_DATA_LAST];
};

struct _AgentExecDockerDemux
{
  AgentExecDockerFrameFunc func;
  gpointer                 user_data;
  guint8                   header[8];
  guint                    header_len;
  guint32                  remaining;
  AgentExecStream          stream;
};

struct _AgentExecDockerStream
{
  AgentExecDockerClient *client;
  CURLM                 *multi;
  CURL                  *easy;
  AgentExecCurlSlist    *headers;
  AgentExecDockerDemux  *demux;
  GCancellable          *cancellable;
  GByteArray            *error_body;
  GError                *demux_error;
  char                   error_buffer[CURL_ERROR_SIZE];
  CURLcode               result;
  gboolean               headers_done;
  gboolean               done;
};

/* Connection sharing between easy handles (and threads) */

static void
share_lock (CURL              *handle,
            curl_lock_data     data,
            curl_lock_access   access,
            void              *userptr)
{
  AgentExecDockerClient *self = userptr;

  g_mutex_lock (&self->share_locks[data]);
}

static void
share_unlock (CURL           *handle,
              curl_lock_data  data,
              void           *userptr)
{
  AgentExecDockerClient *self = userptr;

  g_mutex_unlock (&self->share_locks[data]);
}

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
parse_host (AgentExecDockerClient  *self,
            const char             *host,
            GError                **error)
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
      self->base_url = g_strdup_printf ("%s://%s%s", tls ? "https" : "http", authority,
                                        strchr (authority, ':') != NULL ? "" : (tls ? ":2376" : ":2375"));
      if (tls)
        setup_tls (self);
      return TRUE;
    }
bad:
  g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_INVALID_INPUT,
               "Docker host “%s” is not understood: use unix:///path/to/docker.sock or "
               "tcp://HOST:PORT (in docker-host or DOCKER_HOST)", host);
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
_agentexec_docker_client_new (const char  *host,
                              GError     **error)
{
  AgentExecDockerClient *self;

  if (host == NULL || host[0] == '\0')
    host = g_getenv ("DOCKER_HOST");
  if (host == NULL || host[0] == '\0')
    host = "unix://" DEFAULT_SOCKET;

  self = g_new0 (AgentExecDockerClient, 1);
  g_atomic_ref_count_init (&self->ref_count);
  g_mutex_init (&self->lock);
  for (guint i = 0; i < CURL_LOCK_DATA_LAST; i++)
    g_mutex_init (&self->share_locks[i]);
  self->host = g_strdup (host);
  self->api_version = g_strdup_printf ("%d.%d", CLIENT_API_MAJOR, CLIENT_API_MINOR);
  self->timeout_ms = DEFAULT_TIMEOUT_MS;
  if (!parse_host (self, host, error))
    {
      _agentexec_docker_client_unref (self);
      return NULL;
    }

  _agentexec_curl_global_init ();
  self->share = curl_share_init ();
  curl_share_setopt (self->share, CURLSHOPT_LOCKFUNC, share_lock);
  curl_share_setopt (self->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
  curl_share_setopt (self->share, CURLSHOPT_USERDATA, self);
  curl_share_setopt (self->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
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
  if (self->share != NULL)
    curl_share_cleanup (self->share);
  for (guint i = 0; i < CURL_LOCK_DATA_LAST; i++)
    g_mutex_clear (&self->share_locks[i]);
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

void
_agentexec_docker_client_set_timeout_ms (AgentExecDockerClient *self,
                                         guint                  timeout_ms)
{
  self->timeout_ms = timeout_ms;
}

char *
_agentexec_docker_uri_escape (const char *text)
{
  return g_uri_escape_string (text, NULL, FALSE);
}

static char *
build_url (AgentExecDockerClient *self,
           const char            *path)
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
new_easy (AgentExecDockerClient  *self,
          const char             *path,
          GCancellable           *cancellable,
          char                   *error_buffer,
          GError                **error)
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
  curl_easy_setopt (easy, CURLOPT_SHARE, self->share);
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
_agentexec_docker_client_new_easy (AgentExecDockerClient  *self,
                                   const char             *path,
                                   GCancellable           *cancellable,
                                   char                   *error_buffer,
                                   GError                **error)
{
  return new_easy (self, path, cancellable, error_buffer, error);
}

/*
 * _agentexec_docker_client_request_target:
 *
 * The request target for @path as sent on the wire: "/v1.41/path".
 */
char *
_agentexec_docker_client_request_target (AgentExecDockerClient *self,
                                         const char            *path)
{
  g_autofree char *url = build_url (self, path);

  return g_strdup (url + strlen (self->base_url));
}

/* Errors from the daemon */

static char *
daemon_message (const guint8 *data,
                gsize         len)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autofree char *text = NULL;

  if (len > 0 && json_parser_load_from_data (parser, (const char *) data, len, NULL))
    {
      JsonNode *root = json_parser_get_root (parser);

      if (JSON_NODE_HOLDS_OBJECT (root) &&
          json_object_has_member (json_node_get_object (root), "message"))
        {
          JsonNode *message = json_object_get_member (json_node_get_object (root), "message");

          if (JSON_NODE_HOLDS_VALUE (message) && json_node_get_value_type (message) == G_TYPE_STRING)
            return g_strdup (json_node_get_string (message));
        }
    }
  if (len == 0)
    return g_strdup ("no message");
  text = g_utf8_make_valid ((const char *) data, MIN (len, 400));
  return g_strdup (g_strstrip (text));
}

void
_agentexec_docker_client_set_status_error (AgentExecDockerClient  *self,
                  const char             *method,
                  const char             *path,
                  guint                   status,
                  const guint8           *body,
                  gsize                   len,
                  GError                **error)
{
  g_autofree char *message = daemon_message (body, len);
  AgentExecError code = AGENTEXEC_ERROR_FAILED;

  if (status >= 500)
    code = AGENTEXEC_ERROR_BACKEND_UNAVAILABLE;
  else if (status == 400)
    code = AGENTEXEC_ERROR_INVALID_INPUT;
  g_set_error (error, AGENTEXEC_ERROR, code,
               "Docker engine at %s refused %s %s (HTTP %u): %s",
               self->host, method, path, status, message);
}

/* Plain requests */

typedef struct {
  GByteArray *data;
  gsize       max;
  gboolean    overflow;
} Sink;

static size_t
sink_write (char   *ptr,
            size_t  size,
            size_t  nmemb,
            void   *userdata)
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

typedef struct {
  const char *name;
  char       *value;
} HeaderCapture;

static size_t
capture_header (char   *buffer,
                size_t  size,
                size_t  nitems,
                void   *userdata)
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
perform (AgentExecDockerClient *self,
         CURL                  *easy)
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
request_full (AgentExecDockerClient  *self,
              const char             *method,
              const char             *path,
              const char             *content_type,
              GBytes                 *body,
              gsize                   max_response,
              guint                  *status_out,
              HeaderCapture          *capture,
              GCancellable           *cancellable,
              GError                **error)
{
  char error_buffer[CURL_ERROR_SIZE];
  g_autoptr(AgentExecCurlSlist) headers = NULL;
  g_autoptr(CURL) easy = NULL;
  g_autoptr(GByteArray) data = g_byte_array_new ();
  g_autofree char *what = g_strdup_printf ("%s %s on the Docker engine at %s",
                                           method, path, self->host);
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
_agentexec_docker_client_request (AgentExecDockerClient  *self,
                                  const char             *method,
                                  const char             *path,
                                  const char             *content_type,
                                  GBytes                 *body,
                                  gsize                   max_response,
                                  guint                  *status,
                                  GCancellable           *cancellable,
                                  GError                **error)
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
_agentexec_docker_client_head (AgentExecDockerClient  *self,
                               const char             *path,
                               const char             *header,
                               GCancellable           *cancellable,
                               GError                **error)
{
  g_autoptr(GBytes) answer = NULL;
  HeaderCapture capture = { header, NULL };

  answer = request_full (self, "HEAD", path, NULL, NULL, 0, NULL, &capture, cancellable, error);
  if (answer == NULL)
    {
      g_free (capture.value);
      return NULL;
    }
  if (capture.value == NULL)
    g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_PROTOCOL,
                 "Docker engine at %s answered HEAD %s without a %s header",
                 self->host, path, header);
  return capture.value;
}

/* json-glib 1.6 writes some control characters (U+0001..U+001F other than
 * \b \f \n \r \t) into strings unescaped, which is not JSON and which the
 * engine refuses. Outside strings the generator writes none, so every such
 * byte can be escaped. Takes @text. */
static GBytes *
escape_controls (char  *text,
                 gsize  len)
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
_agentexec_docker_client_request_json (AgentExecDockerClient  *self,
                                       const char             *method,
                                       const char             *path,
                                       JsonNode               *body,
                                       guint                  *status,
                                       GCancellable           *cancellable,
                                       GError                **error)
{
  g_autoptr(GBytes) request = NULL;
  g_autoptr(GBytes) answer = NULL;
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GError) local_error = NULL;
  const char *data;
  gsize len;

  if (body != NULL)
    {
      g_autoptr(JsonGenerator) generator = json_generator_new ();
      gsize text_len;
      char *text;

      json_generator_set_root (generator, body);
      text = json_generator_to_data (generator, &text_len);
      request = escape_controls (text, text_len);
    }
  answer = _agentexec_docker_client_request (self, method, path,
                                             body != NULL ? "application/json" : NULL,
                                             request, 0, status, cancellable, error);
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
parse_version (const char *text,
               guint      *major,
               guint      *minor)
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
version_from_version_endpoint (AgentExecDockerClient  *self,
                               GCancellable           *cancellable,
                               GError                **error)
{
  g_autoptr(JsonNode) root = NULL;
  JsonObject *object;

  root = _agentexec_docker_client_request_json (self, "GET", "/version", NULL, NULL,
                                                cancellable, error);
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
_agentexec_docker_client_negotiate (AgentExecDockerClient  *self,
                                    GCancellable           *cancellable,
                                    GError                **error)
{
  g_autofree char *server = NULL;
  g_autoptr(GBytes) answer = NULL;
  g_autoptr(GError) local_error = NULL;
  HeaderCapture capture = { "API-Version", NULL };
  guint major = 0, minor = 0;

  answer = request_full (self, "GET", "/_ping", NULL, NULL, 4096, NULL, &capture,
                         cancellable, &local_error);
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
                   "%d.%d or newer: upgrade the engine", self->host, server,
                   CLIENT_API_MAJOR, OLDEST_API_MINOR);
      return FALSE;
    }
  g_mutex_lock (&self->lock);
  g_free (self->api_version);
  self->api_version = g_strdup_printf ("%u.%u", major, MIN (minor, CLIENT_API_MINOR));
  g_mutex_unlock (&self->lock);
  return TRUE;
}

/* Stream frames: an 8-byte header (stream type, 3 zero bytes, big-endian
 * payload size) before each payload. */

AgentExecDockerDemux *
_agentexec_docker_demux_new (AgentExecDockerFrameFunc func,
                             gpointer                 user_data)
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
take_header (AgentExecDockerDemux  *demux,
             GError               **error)
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
  demux->remaining = ((guint32) h[4] << 24) | ((guint32) h[5] << 16) |
                     ((guint32) h[6] << 8) | (guint32) h[7];
  return TRUE;
}

/*
 * _agentexec_docker_demux_feed:
 *
 * Splits raw stream bytes (any chunking) into stdout and stderr pieces.
 */
gboolean
_agentexec_docker_demux_feed (AgentExecDockerDemux  *demux,
                              const char            *data,
                              gsize                  len,
                              GError               **error)
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
_agentexec_docker_demux_finish (AgentExecDockerDemux  *demux,
                                GError               **error)
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
stream_write (char   *ptr,
              size_t  size,
              size_t  nmemb,
              void   *userdata)
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
stream_header (char   *buffer,
               size_t  size,
               size_t  nitems,
               void   *userdata)
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
stream_pump (AgentExecDockerStream *stream,
             gboolean               until_headers,
             int                    timeout_ms)
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
stream_failed (AgentExecDockerStream  *stream,
               const char             *path,
               GError                **error)
{
  g_autofree char *what = g_strdup_printf ("The output stream of %s on the Docker engine at %s",
                                           path, stream->client->host);
  long status = 0;

  if (stream->demux_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&stream->demux_error));
      return TRUE;
    }
  if (!_agentexec_curl_check (stream->result, stream->error_buffer, stream->cancellable,
                              what, error))
    return TRUE;
  curl_easy_getinfo (stream->easy, CURLINFO_RESPONSE_CODE, &status);
  if (status >= 400)
    {
      _agentexec_docker_client_set_status_error (stream->client, "POST", path, (guint) status,
                                                 stream->error_body->data,
                                                 stream->error_body->len, error);
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
_agentexec_docker_client_attach (AgentExecDockerClient     *self,
                                 const char                *path,
                                 AgentExecDockerFrameFunc   func,
                                 gpointer                   user_data,
                                 GCancellable              *cancellable,
                                 GError                   **error)
{
  g_autoptr(AgentExecDockerStream) stream = g_new0 (AgentExecDockerStream, 1);
  gint64 deadline = g_get_monotonic_time () + (gint64) self->timeout_ms * 1000;

  stream->client = _agentexec_docker_client_ref (self);
  stream->cancellable = cancellable != NULL ? g_object_ref (cancellable) : NULL;
  stream->demux = _agentexec_docker_demux_new (func, user_data);
  stream->error_body = g_byte_array_new ();
  stream->easy = new_easy (self, path, cancellable, stream->error_buffer, error);
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
                       self->host, path, self->timeout_ms);
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
_agentexec_docker_stream_wait (AgentExecDockerStream  *stream,
                               gint64                  deadline,
                               GError                **error)
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
