/* agentexec-gemini-client.c: one generateContent call over libcurl
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * POSTs the request, feeds the answer into an AgentExecGeminiReply (as SSE
 * events while they arrive when streaming, else the whole body), and maps
 * transport and HTTP failures to GErrors: a refused or dropped connection,
 * a truncated body, 429 and 5xx are AGENTEXEC_ERROR_BACKEND_UNAVAILABLE,
 * which the base executor retries (waiting at least a Retry-After).
 */

#include "config.h"

#include <string.h>

#include "agentexec-base-executor-private.h"
#include "agentexec-curl-private.h"
#include "agentexec-enums.h"
#include "agentexec-gemini-client-private.h"
#include "agentexec-sse-private.h"

#define MAX_BODY_BYTES (64 * 1024 * 1024)
#define CONNECT_TIMEOUT_MS 15000

typedef struct
{
  const AgentExecGeminiCall *call;
  CURL *curl;
  AgentExecGeminiReply *reply;
  AgentExecSseParser *sse;
  GByteArray *body;
  char *retry_after;
  GError *error;
} Transfer;

static long
response_status (CURL *curl)
{
  long status = 0;

  curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &status);
  return status;
}

/* A stream request answered with plain JSON (a proxy, an error page) is read
 * as a whole document. */
static gboolean
answer_is_json (CURL *curl)
{
  const char *content_type = NULL;

  curl_easy_getinfo (curl, CURLINFO_CONTENT_TYPE, &content_type);
  return content_type != NULL && g_ascii_strncasecmp (content_type, "application/json", 16) == 0;
}

static size_t
on_write (char *ptr, size_t size, size_t nmemb, void *data)
{
  Transfer *t = data;
  size_t len = size * nmemb;
  long status = response_status (t->curl);

  if (t->call->streaming && status >= 200 && status < 300 && !answer_is_json (t->curl))
    return _agentexec_sse_parser_feed (t->sse, ptr, len, &t->error) ? len : 0;
  if (t->body->len + len > MAX_BODY_BYTES)
    {
      g_set_error (&t->error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_PROTOCOL,
                   "Gemini's answer is larger than %d MiB; check base-url",
                   MAX_BODY_BYTES / (1024 * 1024));
      return 0;
    }
  g_byte_array_append (t->body, (const guint8 *) ptr, len);
  return len;
}

static size_t
on_header (char *ptr, size_t size, size_t nmemb, void *data)
{
  Transfer *t = data;
  size_t len = size * nmemb;
  static const char name[] = "retry-after:";

  if (len > strlen (name) && g_ascii_strncasecmp (ptr, name, strlen (name)) == 0)
    {
      g_free (t->retry_after);
      t->retry_after = g_strstrip (g_strndup (ptr + strlen (name), len - strlen (name)));
    }
  return len;
}

static gboolean
on_event (const char *data, gsize len, gpointer user_data, GError **error)
{
  Transfer *t = user_data;

  return _agentexec_gemini_reply_add_json (t->reply, data, len, t->call->model, error);
}

static CURL *
setup (Transfer *t, struct curl_slist **headers, GCancellable *cancellable, char *error_buffer)
{
  g_autofree char *key_header = g_strconcat ("x-goog-api-key: ", t->call->api_key, NULL);
  CURL *curl = _agentexec_curl_easy_new (cancellable, error_buffer);

  if (curl == NULL)
    return NULL;
  *headers = curl_slist_append (*headers, "Content-Type: application/json");
  *headers = curl_slist_append (*headers, t->call->streaming ? "Accept: text/event-stream"
                                                             : "Accept: application/json");
  *headers = curl_slist_append (*headers, "Expect:");
  *headers = curl_slist_append (*headers, key_header);
  memset (key_header, 0, strlen (key_header));
  curl_easy_setopt (curl, CURLOPT_URL, t->call->url);
  curl_easy_setopt (curl, CURLOPT_HTTPHEADER, *headers);
  curl_easy_setopt (curl, CURLOPT_POST, 1L);
  curl_easy_setopt (curl, CURLOPT_POSTFIELDS, t->call->body);
  curl_easy_setopt (curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) t->call->body_len);
  curl_easy_setopt (curl, CURLOPT_USERAGENT, "libagentexec/" PACKAGE_VERSION);
  curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt (curl, CURLOPT_WRITEDATA, t);
  curl_easy_setopt (curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt (curl, CURLOPT_HEADERDATA, t);
  curl_easy_setopt (curl, CURLOPT_TIMEOUT_MS, (long) t->call->timeout_ms);
  curl_easy_setopt (curl, CURLOPT_CONNECTTIMEOUT_MS,
                    (long) (t->call->timeout_ms != 0 ? MIN (t->call->timeout_ms, CONNECT_TIMEOUT_MS)
                                                     : CONNECT_TIMEOUT_MS));
  return curl;
}

static gboolean
check_transport (
    Transfer *t, CURLcode code, const char *error_buffer, GCancellable *cancellable, GError **error)
{
  g_autoptr (GError) local_error = NULL;

  if (t->error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&t->error));
      return FALSE;
    }
  if (_agentexec_curl_check (code, error_buffer, cancellable, "The Gemini request", &local_error))
    return TRUE;
  if (g_error_matches (local_error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_TIMEOUT))
    g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_TIMEOUT,
                 "%s; raise request-timeout-ms (or timeout-ms)", local_error->message);
  else
    g_propagate_error (error, g_steal_pointer (&local_error));
  return FALSE;
}

static gboolean
check_status (Transfer *t, GError **error)
{
  long status = response_status (t->curl);
  guint retry_after_ms = 0;
  GError *http_error;

  if (status >= 200 && status < 300)
    return TRUE;
  http_error = _agentexec_gemini_http_error (status, (const char *) t->body->data, t->body->len,
                                             t->call->model, t->retry_after, &retry_after_ms);
  if (retry_after_ms > 0)
    _agentexec_retry_after_hint (retry_after_ms);
  g_propagate_error (error, http_error);
  return FALSE;
}

static gboolean
read_answer (Transfer *t, GError **error)
{
  if (!t->call->streaming || answer_is_json (t->curl))
    return _agentexec_gemini_reply_add_json (t->reply, (const char *) t->body->data, t->body->len,
                                             t->call->model, error);
  if (!_agentexec_sse_parser_finish (t->sse, error))
    return FALSE;
  if (_agentexec_sse_parser_get_n_events (t->sse) == 0)
    {
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_PROTOCOL,
                   "Gemini's event stream held no data event; check that base-url points at "
                   "the Gemini API");
      return FALSE;
    }
  return TRUE;
}

/*
 * _agentexec_gemini_post:
 *
 * Runs @call and adds the answer to @reply. Blocking; cancellable.
 */
gboolean
_agentexec_gemini_post (const AgentExecGeminiCall *call,
                        AgentExecGeminiReply *reply,
                        GCancellable *cancellable,
                        GError **error)
{
  char error_buffer[CURL_ERROR_SIZE];
  struct curl_slist *headers = NULL;
  Transfer t = { call, NULL, reply, NULL, g_byte_array_new (), NULL, NULL };
  gboolean ok = FALSE;
  CURLcode code;

  t.sse = _agentexec_sse_parser_new (on_event, &t);
  t.curl = setup (&t, &headers, cancellable, error_buffer);
  if (t.curl == NULL)
    g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_FAILED,
                 "Could not create a libcurl handle (out of memory?)");
  else
    {
      code = curl_easy_perform (t.curl);
      ok = check_transport (&t, code, error_buffer, cancellable, error) &&
           check_status (&t, error) && read_answer (&t, error);
      curl_easy_cleanup (t.curl);
    }
  for (struct curl_slist *h = headers; h != NULL; h = h->next)
    memset (h->data, 0, strlen (h->data));
  curl_slist_free_all (headers);
  _agentexec_sse_parser_free (t.sse);
  g_byte_array_unref (t.body);
  g_free (t.retry_after);
  g_clear_error (&t.error);
  return ok;
}
