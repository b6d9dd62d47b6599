/* agentexec-kube-client.c: a small Kubernetes REST API client over libcurl
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "agentexec-base-executor-private.h"
#include "agentexec-curl-private.h"
#include "agentexec-enums.h"
#include "agentexec-kube-client-private.h"

#define CONNECT_TIMEOUT_MS 15000
#define MAX_JSON_RESPONSE (32 * 1024 * 1024)
#define MAX_LINE (64 * 1024 * 1024)

struct _AgentExecKubeClient
{
  gatomicrefcount ref_count;
  AgentExecKubeConfig *config;
  char *auth_header;
  guint timeout_ms;
  AgentExecCurlShare *share; /* connections and TLS sessions of every request */
};

/*
 * _agentexec_kube_client_new:
 * @config: (transfer full): where the API server is and how to log in
 * @timeout_ms: the timeout of each plain request
 */
AgentExecKubeClient *
_agentexec_kube_client_new (AgentExecKubeConfig *config, guint timeout_ms)
{
  AgentExecKubeClient *self = g_new0 (AgentExecKubeClient, 1);

  g_atomic_ref_count_init (&self->ref_count);
  self->config = config;
  self->timeout_ms = timeout_ms;
  if (config->token != NULL && config->token[0] != '\0')
    self->auth_header = g_strdup_printf ("Authorization: Bearer %s", config->token);
  self->share = _agentexec_curl_share_new (TRUE);
  return self;
}

AgentExecKubeClient *
_agentexec_kube_client_ref (AgentExecKubeClient *self)
{
  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

void
_agentexec_kube_client_unref (AgentExecKubeClient *self)
{
  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;
  _agentexec_curl_share_free (self->share);
  if (self->auth_header != NULL)
    memset (self->auth_header, 0, strlen (self->auth_header));
  g_free (self->auth_header);
  _agentexec_kube_config_free (self->config);
  g_free (self);
}

const char *
_agentexec_kube_client_get_server (AgentExecKubeClient *self)
{
  return self->config->server;
}

const char *
_agentexec_kube_client_get_namespace (AgentExecKubeClient *self)
{
  return self->config->namespace_;
}

const char *
_agentexec_kube_client_get_source (AgentExecKubeClient *self)
{
  return self->config->source;
}

/*
 * _agentexec_kube_client_pods_path:
 * @name: (nullable): a pod, or NULL for the collection
 * @suffix: (nullable): appended as is ("?watch=1", "/proxy/execute")
 */
char *
_agentexec_kube_client_pods_path (AgentExecKubeClient *self, const char *name, const char *suffix)
{
  g_autofree char *ns = g_uri_escape_string (self->config->namespace_, NULL, FALSE);
  g_autofree char *escaped = name != NULL ? g_uri_escape_string (name, ":", FALSE) : NULL;

  return g_strdup_printf ("/api/v1/namespaces/%s/pods%s%s%s", ns, escaped != NULL ? "/" : "",
                          escaped != NULL ? escaped : "", suffix != NULL ? suffix : "");
}

/* JSON helpers */

char *
_agentexec_kube_json_to_string (JsonNode *node)
{
  g_autoptr (JsonGenerator) generator = json_generator_new ();

  json_generator_set_root (generator, node);
  return json_generator_to_data (generator, NULL);
}

/*
 * _agentexec_kube_get_string:
 * @path: members separated by dots: "metadata.name"
 *
 * Returns: (nullable): the string there, or NULL.
 */
const char *
_agentexec_kube_get_string (JsonObject *object, const char *path)
{
  g_auto (GStrv) parts = g_strsplit (path, ".", -1);

  for (guint i = 0; object != NULL && parts[i] != NULL; i++)
    {
      JsonNode *node;

      if (!json_object_has_member (object, parts[i]))
        return NULL;
      node = json_object_get_member (object, parts[i]);
      if (parts[i + 1] == NULL)
        return JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING
                   ? json_node_get_string (node)
                   : NULL;
      object = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
    }
  return NULL;
}

/* Errors from the API server: a Status object, mapped to what the user must do */

static void
verb_of (const char *method, const char *path, const char **verb, const char **resource)
{
  const char *query = strchr (path, '?');
  g_autofree char *bare = query != NULL ? g_strndup (path, query - path) : g_strdup (path);

  *resource = strstr (bare, "/proxy") != NULL ? "pods/proxy" : "pods";
  if (g_str_equal (method, "GET"))
    {
      if (strstr (*resource, "proxy") != NULL)
        *verb = "get";
      else if (query != NULL && strstr (query, "watch=") != NULL)
        *verb = "watch";
      else
        *verb = g_str_has_suffix (bare, "/pods") ? "list" : "get";
    }
  else if (g_str_equal (method, "POST"))
    *verb = "create";
  else if (g_str_equal (method, "PATCH"))
    *verb = "patch";
  else if (g_str_equal (method, "DELETE"))
    *verb = "delete";
  else
    *verb = "update";
}

static char *
status_message (const guint8 *data, gsize len)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autofree char *text = NULL;

  if (len > 0 && json_parser_load_from_data (parser, (const char *) data, len, NULL) &&
      JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      const char *message = _agentexec_kube_get_string (
          json_node_get_object (json_parser_get_root (parser)), "message");

      if (message != NULL)
        return g_strdup (message);
    }
  if (len == 0)
    return g_strdup ("no message");
  text = g_utf8_make_valid ((const char *) data, MIN (len, 400));
  return g_strdup (g_strstrip (text));
}

static void
set_status_error (AgentExecKubeClient *self,
                  const char *method,
                  const char *path,
                  guint status,
                  const guint8 *body,
                  gsize len,
                  guint retry_after_s,
                  GError **error)
{
  g_autofree char *message = status_message (body, len);
  const char *server = self->config->server;
  const char *verb, *resource;

  verb_of (method, path, &verb, &resource);
  if (status == 401)
    g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_FAILED,
                 "The Kubernetes API server at %s rejected the credentials of user “%s” from "
                 "the %s (401 Unauthorized): the token or client certificate is wrong or "
                 "expired; refresh the kubeconfig or the token property",
                 server, self->config->user, self->config->source);
  else if (status == 403 && strstr (message, "exceeded quota") != NULL)
    g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_RESOURCE_LIMIT,
                 "The ResourceQuota of namespace “%s” refuses another pod (%s): lower "
                 "pool-size or the number of concurrent runs, or raise the quota",
                 self->config->namespace_, message);
  else if (status == 403)
    g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_FAILED,
                 "User “%s” may not %s %s in namespace “%s” (403 Forbidden: %s): grant the "
                 "verb “%s” on “%s” in the Role bound to it (docs/kubernetes.md lists the "
                 "verbs the backend needs)",
                 self->config->user, verb, resource, self->config->namespace_, message, verb,
                 resource);
  else if (status == 429 || status >= 500)
    {
      if (retry_after_s > 0)
        _agentexec_retry_after_hint (MIN (retry_after_s, 3600) * 1000);
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_BACKEND_UNAVAILABLE,
                   "The Kubernetes API server at %s could not serve %s %s (HTTP %u: %s); "
                   "retry later, or raise max-retries",
                   server, method, path, status, message);
    }
  else
    g_set_error (error, AGENTEXEC_ERROR,
                 status == 400 || status == 422 ? AGENTEXEC_ERROR_INVALID_INPUT
                                                : AGENTEXEC_ERROR_FAILED,
                 "The Kubernetes API server at %s refused %s %s (HTTP %u): %s", server, method,
                 path, status, message);
}

/* Transfers */

typedef struct
{
  GByteArray *data;
  gsize max;
  gboolean overflow;
  /* streaming */
  long status;
  CURL *easy;
  AgentExecKubeLineFunc func;
  gpointer user_data;
  gboolean stopped;
  guint retry_after_s;
} Sink;

static size_t
capture_header (char *buffer, size_t size, size_t nitems, void *userdata)
{
  Sink *sink = userdata;
  gsize len = size * nitems;

  if (len > 12 && g_ascii_strncasecmp (buffer, "Retry-After:", 12) == 0)
    {
      g_autofree char *value = g_strndup (buffer + 12, len - 12);

      sink->retry_after_s = (guint) g_ascii_strtoull (g_strstrip (value), NULL, 10);
    }
  return len;
}

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

static gboolean
deliver_lines (Sink *sink)
{
  guint8 *start = sink->data->data;
  guint8 *end = start + sink->data->len;
  guint8 *newline;

  while ((newline = memchr (start, '\n', end - start)) != NULL)
    {
      gsize len = newline - start;

      if (len > 0 && !sink->func ((const char *) start, len, sink->user_data))
        {
          sink->stopped = TRUE;
          return FALSE;
        }
      start = newline + 1;
    }
  g_byte_array_remove_range (sink->data, 0, start - sink->data->data);
  return TRUE;
}

static size_t
stream_write (char *ptr, size_t size, size_t nmemb, void *userdata)
{
  Sink *sink = userdata;
  gsize len = size * nmemb;

  if (sink->status == 0)
    curl_easy_getinfo (sink->easy, CURLINFO_RESPONSE_CODE, &sink->status);
  if (sink->data->len + len > sink->max)
    {
      sink->overflow = TRUE;
      return 0;
    }
  g_byte_array_append (sink->data, (const guint8 *) ptr, len);
  /* An error answer is collected whole for its Status message. */
  if (sink->status >= 200 && sink->status < 300 && !deliver_lines (sink))
    return 0;
  return len;
}

static CURL *
new_easy (AgentExecKubeClient *self,
          const char *method,
          const char *path,
          GCancellable *cancellable,
          char *error_buffer,
          GError **error)
{
  g_autofree char *url = g_strconcat (self->config->server, path, NULL);
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
  curl_easy_setopt (easy, CURLOPT_TCP_KEEPALIVE, 1L);
  if (self->config->ca_pem != NULL)
    {
      struct curl_blob blob = { (void *) g_bytes_get_data (self->config->ca_pem, NULL),
                                g_bytes_get_size (self->config->ca_pem), CURL_BLOB_COPY };

      curl_easy_setopt (easy, CURLOPT_CAINFO_BLOB, &blob);
    }
  if (self->config->cert_pem != NULL && self->config->key_pem != NULL)
    {
      struct curl_blob cert = { (void *) g_bytes_get_data (self->config->cert_pem, NULL),
                                g_bytes_get_size (self->config->cert_pem), CURL_BLOB_COPY };
      struct curl_blob key = { (void *) g_bytes_get_data (self->config->key_pem, NULL),
                               g_bytes_get_size (self->config->key_pem), CURL_BLOB_COPY };

      curl_easy_setopt (easy, CURLOPT_SSLCERT_BLOB, &cert);
      curl_easy_setopt (easy, CURLOPT_SSLCERTTYPE, "PEM");
      curl_easy_setopt (easy, CURLOPT_SSLKEY_BLOB, &key);
      curl_easy_setopt (easy, CURLOPT_SSLKEYTYPE, "PEM");
    }
  if (self->config->insecure_skip_tls_verify)
    {
      curl_easy_setopt (easy, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt (easy, CURLOPT_SSL_VERIFYHOST, 0L);
    }
  if (!g_str_equal (method, "GET") && !g_str_equal (method, "POST"))
    curl_easy_setopt (easy, CURLOPT_CUSTOMREQUEST, method);
  return easy;
}

static AgentExecCurlSlist *
base_headers (AgentExecKubeClient *self, const char *content_type)
{
  AgentExecCurlSlist *headers = curl_slist_append (NULL, "Expect:");

  headers = curl_slist_append (headers, "Accept: application/json");
  headers = curl_slist_append (headers, "User-Agent: libagentexec/" PACKAGE_VERSION);
  if (self->auth_header != NULL)
    headers = curl_slist_append (headers, self->auth_header);
  if (content_type != NULL)
    {
      g_autofree char *line = g_strdup_printf ("Content-Type: %s", content_type);

      headers = curl_slist_append (headers, line);
    }
  return headers;
}

static void
set_body (CURL *easy, const char *method, const char *text)
{
  if (text != NULL)
    {
      curl_easy_setopt (easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) strlen (text));
      curl_easy_setopt (easy, CURLOPT_COPYPOSTFIELDS, text);
    }
  else if (g_str_equal (method, "POST"))
    curl_easy_setopt (easy, CURLOPT_POSTFIELDS, "");
}

static gboolean
is_broken_connection (CURLcode code)
{
  return code == CURLE_SEND_ERROR || code == CURLE_RECV_ERROR || code == CURLE_GOT_NOTHING;
}

static CURLcode
perform (CURL *easy, gboolean may_repeat)
{
  CURLcode code = curl_easy_perform (easy);
  long connects = 1;

  /* A kept-alive connection closed by the server while idle fails on first
   * use: reconnect once (nothing reached the server). */
  if (may_repeat && is_broken_connection (code) &&
      curl_easy_getinfo (easy, CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK && connects == 0)
    {
      curl_easy_setopt (easy, CURLOPT_FRESH_CONNECT, 1L);
      code = curl_easy_perform (easy);
    }
  return code;
}

static gboolean
check_transfer (AgentExecKubeClient *self,
                CURLcode code,
                const char *error_buffer,
                const char *method,
                const char *path,
                Sink *sink,
                GCancellable *cancellable,
                GError **error)
{
  g_autofree char *what = NULL;

  if (code == CURLE_WRITE_ERROR && sink->stopped)
    return TRUE;
  what = g_strdup_printf ("%s %s on the Kubernetes API server at %s", method, path,
                          self->config->server);
  if (code == CURLE_WRITE_ERROR && sink->overflow)
    {
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_PROTOCOL,
                   "%s: the answer is larger than %" G_GSIZE_FORMAT " bytes", what, sink->max);
      return FALSE;
    }
  if (code == CURLE_SSL_CACERT || code == CURLE_PEER_FAILED_VERIFICATION)
    {
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_FAILED,
                   "%s failed: the server's TLS certificate is not signed by the CA of the %s "
                   "(%s): fix certificate-authority(-data) in the kubeconfig",
                   what, self->config->source, error_buffer);
      return FALSE;
    }
  return _agentexec_curl_check (code, error_buffer, cancellable, what, error);
}

/*
 * _agentexec_kube_client_request:
 * @body: (nullable): sent as JSON with @content_type (default application/json)
 * @status: (out) (optional): the HTTP status, also when the request fails
 *
 * One request with the client's timeout. HTTP >= 400 is a GError from the
 * answer's Status: 401 and 403 say which credentials or verb are missing,
 * a quota refusal is RESOURCE_LIMIT, 429 and 5xx BACKEND_UNAVAILABLE (which
 * the base policy retries, waiting Retry-After). Returns the answer.
 */
JsonNode *
_agentexec_kube_client_request (AgentExecKubeClient *self,
                                const char *method,
                                const char *path,
                                const char *content_type,
                                JsonNode *body,
                                guint *status,
                                GCancellable *cancellable,
                                GError **error)
{
  char error_buffer[CURL_ERROR_SIZE];
  g_autoptr (CURL) easy = NULL;
  g_autoptr (AgentExecCurlSlist) headers = NULL;
  g_autoptr (GByteArray) data = g_byte_array_new ();
  g_autoptr (JsonParser) parser = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autofree char *text = body != NULL ? _agentexec_kube_json_to_string (body) : NULL;
  Sink sink = { data, MAX_JSON_RESPONSE, FALSE };
  CURLcode code;
  long http = 0;

  if (status != NULL)
    *status = 0;
  easy = new_easy (self, method, path, cancellable, error_buffer, error);
  if (easy == NULL)
    return NULL;
  headers = base_headers (
      self, body != NULL ? (content_type != NULL ? content_type : "application/json") : NULL);
  curl_easy_setopt (easy, CURLOPT_HTTPHEADER, headers);
  set_body (easy, method, text);
  curl_easy_setopt (easy, CURLOPT_WRITEFUNCTION, sink_write);
  curl_easy_setopt (easy, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt (easy, CURLOPT_HEADERFUNCTION, capture_header);
  curl_easy_setopt (easy, CURLOPT_HEADERDATA, &sink);
  curl_easy_setopt (easy, CURLOPT_TIMEOUT_MS, (long) self->timeout_ms);
  code = perform (easy, TRUE);
  if (!check_transfer (self, code, error_buffer, method, path, &sink, cancellable, error))
    return NULL;
  curl_easy_getinfo (easy, CURLINFO_RESPONSE_CODE, &http);
  if (status != NULL)
    *status = (guint) http;
  if (http >= 400 || http < 100)
    {
      set_status_error (self, method, path, (guint) http, data->data, data->len, sink.retry_after_s,
                        error);
      return NULL;
    }
  if (data->len == 0)
    return json_node_new (JSON_NODE_NULL);
  parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, (const char *) data->data, data->len, &local_error))
    {
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_PROTOCOL,
                   "The Kubernetes API server at %s answered %s %s with malformed JSON (%s): is "
                   "the server address right?",
                   self->config->server, method, path, local_error->message);
      return NULL;
    }
  return json_node_copy (json_parser_get_root (parser));
}

/*
 * _agentexec_kube_client_stream:
 * @headers: (nullable) (array zero-terminated=1): extra header lines
 * @timeout_ms: the whole transfer's limit (0: none; the connection is
 *   kept alive with TCP keepalive)
 * @func: called with each line of a 2xx answer as soon as it arrives
 *
 * A streamed request (watch, the pod proxy's NDJSON). Returns TRUE when
 * the answer ended cleanly or @func stopped it; a connection that drops
 * before the end is BACKEND_UNAVAILABLE ("dropped mid-stream").
 */
gboolean
_agentexec_kube_client_stream (AgentExecKubeClient *self,
                               const char *method,
                               const char *path,
                               const char *const *headers,
                               JsonNode *body,
                               guint timeout_ms,
                               AgentExecKubeLineFunc func,
                               gpointer user_data,
                               guint *status,
                               GCancellable *cancellable,
                               GError **error)
{
  char error_buffer[CURL_ERROR_SIZE];
  g_autoptr (CURL) easy = NULL;
  g_autoptr (AgentExecCurlSlist) list = NULL;
  g_autoptr (GByteArray) data = g_byte_array_new ();
  g_autofree char *text = body != NULL ? _agentexec_kube_json_to_string (body) : NULL;
  Sink sink = { data, MAX_LINE, FALSE };
  CURLcode code;

  if (status != NULL)
    *status = 0;
  easy = new_easy (self, method, path, cancellable, error_buffer, error);
  if (easy == NULL)
    return FALSE;
  sink.easy = easy;
  sink.func = func;
  sink.user_data = user_data;
  list = base_headers (self, body != NULL ? "application/json" : NULL);
  for (guint i = 0; headers != NULL && headers[i] != NULL; i++)
    list = curl_slist_append (list, headers[i]);
  curl_easy_setopt (easy, CURLOPT_HTTPHEADER, list);
  set_body (easy, method, text);
  curl_easy_setopt (easy, CURLOPT_WRITEFUNCTION, stream_write);
  curl_easy_setopt (easy, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt (easy, CURLOPT_HEADERFUNCTION, capture_header);
  curl_easy_setopt (easy, CURLOPT_HEADERDATA, &sink);
  curl_easy_setopt (easy, CURLOPT_TIMEOUT_MS, (long) timeout_ms);
  code = perform (easy, FALSE);
  curl_easy_getinfo (easy, CURLINFO_RESPONSE_CODE, &sink.status);
  if (status != NULL)
    *status = (guint) sink.status;
  if (sink.status >= 400)
    {
      set_status_error (self, method, path, (guint) sink.status, data->data, data->len,
                        sink.retry_after_s, error);
      return FALSE;
    }
  if (code == CURLE_PARTIAL_FILE || code == CURLE_RECV_ERROR)
    {
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_BACKEND_UNAVAILABLE,
                   "The stream of %s %s from the Kubernetes API server at %s dropped "
                   "mid-stream (%s)",
                   method, path, self->config->server,
                   error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror (code));
      return FALSE;
    }
  if (!check_transfer (self, code, error_buffer, method, path, &sink, cancellable, error))
    return FALSE;
  if (!sink.stopped && data->len > 0 && sink.status < 300)
    func ((const char *) data->data, data->len, user_data);
  return TRUE;
}

/*
 * _agentexec_kube_client_check_version:
 *
 * GET /version: that something answers, and is a Kubernetes API server.
 * Fails with BACKEND_UNAVAILABLE naming the server and the configuration
 * it came from when nothing answers.
 */
gboolean
_agentexec_kube_client_check_version (AgentExecKubeClient *self,
                                      GCancellable *cancellable,
                                      GError **error)
{
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GError) local_error = NULL;

  root = _agentexec_kube_client_request (self, "GET", "/version", NULL, NULL, NULL, cancellable,
                                         &local_error);
  if (root == NULL)
    {
      if (g_error_matches (local_error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_BACKEND_UNAVAILABLE) ||
          g_error_matches (local_error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_TIMEOUT))
        g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_BACKEND_UNAVAILABLE,
                     "No Kubernetes API server answers at %s (from the %s): %s. Check that the "
                     "cluster is up and reachable from here (`kubectl get pods`)",
                     self->config->server, self->config->source, local_error->message);
      else
        g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  if (!JSON_NODE_HOLDS_OBJECT (root) ||
      _agentexec_kube_get_string (json_node_get_object (root), "gitVersion") == NULL)
    {
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_PROTOCOL,
                   "%s (from the %s) answered /version without a gitVersion: it is not a "
                   "Kubernetes API server",
                   self->config->server, self->config->source);
      return FALSE;
    }
  return TRUE;
}
