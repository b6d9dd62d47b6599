/* test-builtin.c: the BuiltIn (Gemini) backend against a loopback server
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>
#include <curl/curl.h>
#include <glib/gstdio.h>

#include "libagentexec.h"
#include "agentexec-mock-server.h"

/* A plain libcurl client, to test the mock server on its own. */

typedef struct {
  long        status;
  GString    *body;
  GString    *headers;
  CURLcode    code;
  double      seconds;
} Fetch;

static size_t
collect (char *ptr, size_t size, size_t nmemb, void *data)
{
  g_string_append_len (data, ptr, size * nmemb);
  return size * nmemb;
}

static void
fetch_clear (Fetch *fetch)
{
  g_string_free (fetch->body, TRUE);
  g_string_free (fetch->headers, TRUE);
}

static Fetch
fetch (AgentExecMockServer *server,
       const char          *method,
       const char          *path,
       const char          *body,
       const char          *extra_header)
{
  g_autofree char *base = agentexec_mock_server_get_url (server);
  g_autofree char *url = g_strconcat (base, path, NULL);
  struct curl_slist *headers = NULL;
  Fetch result = { 0, g_string_new (NULL), g_string_new (NULL), CURLE_OK, 0 };
  CURL *curl = curl_easy_init ();
  gint64 start = g_get_monotonic_time ();

  curl_easy_setopt (curl, CURLOPT_URL, url);
  curl_easy_setopt (curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (curl, CURLOPT_TIMEOUT_MS, 5000L);
  curl_easy_setopt (curl, CURLOPT_CUSTOMREQUEST, method);
  if (agentexec_mock_server_get_socket_path (server) != NULL)
    curl_easy_setopt (curl, CURLOPT_UNIX_SOCKET_PATH, agentexec_mock_server_get_socket_path (server));
  if (body != NULL)
    curl_easy_setopt (curl, CURLOPT_POSTFIELDS, body);
  if (extra_header != NULL)
    headers = curl_slist_append (headers, extra_header);
  curl_easy_setopt (curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt (curl, CURLOPT_WRITEDATA, result.body);
  curl_easy_setopt (curl, CURLOPT_HEADERFUNCTION, collect);
  curl_easy_setopt (curl, CURLOPT_HEADERDATA, result.headers);
  result.code = curl_easy_perform (curl);
  curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &result.status);
  result.seconds = (g_get_monotonic_time () - start) / 1e6;
  curl_slist_free_all (headers);
  curl_easy_cleanup (curl);
  return result;
}

static void
test_mock_basic (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AgentExecMockServer) server = agentexec_mock_server_new_tcp (&error);
  g_autoptr(AgentExecMockRequest) request = NULL;
  g_autoptr(AgentExecMockResponse) response = agentexec_mock_response_new (201, "{\"a\":1}", -1);
  Fetch f;
  gsize len;

  g_assert_no_error (error);
  g_assert_cmpuint (agentexec_mock_server_get_port (server), >, 0);
  agentexec_mock_response_add_header (response, "Retry-After", "7");
  agentexec_mock_server_enqueue (server, agentexec_mock_response_ref (response));
  g_assert_cmpuint (agentexec_mock_server_get_n_pending (server), ==, 1);

  f = fetch (server, "POST", "/v1/thing?x=1", "hello body", "X-Test: yes");
  g_assert_cmpint (f.code, ==, CURLE_OK);
  g_assert_cmpint (f.status, ==, 201);
  g_assert_cmpstr (f.body->str, ==, "{\"a\":1}");
  g_assert_nonnull (strstr (f.headers->str, "Retry-After: 7\r\n"));
  fetch_clear (&f);

  g_assert_cmpuint (agentexec_mock_server_get_n_pending (server), ==, 0);
  g_assert_cmpuint (agentexec_mock_server_get_n_requests (server), ==, 1);
  request = agentexec_mock_server_get_request (server, 0);
  g_assert_cmpstr (agentexec_mock_request_get_method (request), ==, "POST");
  g_assert_cmpstr (agentexec_mock_request_get_path (request), ==, "/v1/thing?x=1");
  g_assert_cmpstr (agentexec_mock_request_get_header (request, "x-test"), ==, "yes");
  g_assert_cmpstr (agentexec_mock_request_get_body (request, &len), ==, "hello body");
  g_assert_cmpuint (len, ==, 10);
  g_assert_null (agentexec_mock_server_get_request (server, 1));

  /* Nothing queued: a 500 that names the request. */
  f = fetch (server, "GET", "/nothing", NULL, NULL);
  g_assert_cmpint (f.status, ==, 500);
  g_assert_nonnull (strstr (f.body->str, "GET /nothing"));
  fetch_clear (&f);
  agentexec_mock_server_clear_requests (server);
  g_assert_cmpuint (agentexec_mock_server_get_n_requests (server), ==, 0);
}

static void
test_mock_unix (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("mock-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "engine.sock", NULL);
  AgentExecMockServer *server;
  AgentExecMockResponse *response;
  Fetch f;

  g_assert_no_error (error);
  server = agentexec_mock_server_new_unix (path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (agentexec_mock_server_get_socket_path (server), ==, path);
  g_assert_cmpuint (agentexec_mock_server_get_port (server), ==, 0);
  g_assert_true (g_file_test (path, G_FILE_TEST_EXISTS));

  /* Routed responses answer their route first, whatever the queue order. */
  agentexec_mock_server_enqueue_simple (server, 200, "application/json", "[\"any\"]");
  response = agentexec_mock_response_new (204, NULL, 0);
  agentexec_mock_response_set_route (response, "DELETE", "/containers/");
  agentexec_mock_server_enqueue (server, response);

  f = fetch (server, "DELETE", "/containers/abc?force=1", NULL, NULL);
  g_assert_cmpint (f.status, ==, 204);
  fetch_clear (&f);
  f = fetch (server, "GET", "/info", NULL, NULL);
  g_assert_cmpint (f.status, ==, 200);
  g_assert_cmpstr (f.body->str, ==, "[\"any\"]");
  fetch_clear (&f);

  agentexec_mock_server_free (server);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  g_rmdir (dir);
}

static void
test_mock_chunked (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AgentExecMockServer) server = agentexec_mock_server_new_tcp (&error);
  AgentExecMockResponse *response = agentexec_mock_response_new (200, "data: 1\r\n\r\n", -1);
  Fetch f;

  g_assert_no_error (error);
  agentexec_mock_response_add_header (response, "Content-Type", "text/event-stream");
  agentexec_mock_response_add_chunk (response, "data: 2\r\n\r\n", -1, 100);
  agentexec_mock_response_add_chunk (response, "data: 3\r\n\r\n", -1, 100);
  agentexec_mock_server_enqueue (server, response);
  f = fetch (server, "GET", "/sse", NULL, NULL);
  g_assert_cmpint (f.code, ==, CURLE_OK);
  g_assert_cmpstr (f.body->str, ==, "data: 1\r\n\r\ndata: 2\r\n\r\ndata: 3\r\n\r\n");
  g_assert_nonnull (strstr (f.headers->str, "Transfer-Encoding: chunked"));
  g_assert_cmpfloat (f.seconds, >=, 0.19);
  fetch_clear (&f);

  /* Truncated stream: two chunks, then the connection closes. */
  response = agentexec_mock_response_new (200, "data: 1\r\n\r\n", -1);
  agentexec_mock_response_add_chunk (response, "data: 2\r\n\r\n", -1, 0);
  agentexec_mock_response_add_chunk (response, "data: 3\r\n\r\n", -1, 0);
  agentexec_mock_response_set_truncate (response, 2);
  agentexec_mock_server_enqueue (server, response);
  f = fetch (server, "GET", "/sse", NULL, NULL);
  g_assert_cmpint (f.code, ==, CURLE_PARTIAL_FILE);
  g_assert_cmpstr (f.body->str, ==, "data: 1\r\n\r\ndata: 2\r\n\r\n");
  fetch_clear (&f);
}

static void
test_mock_failures (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AgentExecMockServer) server = agentexec_mock_server_new_tcp (&error);
  AgentExecMockResponse *response;
  Fetch f;

  g_assert_no_error (error);
  agentexec_mock_server_enqueue (server, agentexec_mock_response_new_drop ());
  f = fetch (server, "GET", "/", NULL, NULL);
  g_assert_cmpint (f.code, ==, CURLE_GOT_NOTHING);
  fetch_clear (&f);

  response = agentexec_mock_response_new (200, "0123456789", -1);
  agentexec_mock_response_set_truncate (response, 4);
  agentexec_mock_server_enqueue (server, response);
  f = fetch (server, "GET", "/", NULL, NULL);
  g_assert_cmpint (f.code, ==, CURLE_PARTIAL_FILE);
  g_assert_cmpstr (f.body->str, ==, "0123");
  fetch_clear (&f);

  agentexec_mock_server_enqueue (server, agentexec_mock_response_new_raw ("garbage\r\n\r\n", -1));
  f = fetch (server, "GET", "/", NULL, NULL);
  g_assert_cmpint (f.code, !=, CURLE_OK);
  fetch_clear (&f);

  response = agentexec_mock_response_new (200, "late", -1);
  agentexec_mock_response_set_delay_ms (response, 300);
  agentexec_mock_server_enqueue (server, response);
  f = fetch (server, "GET", "/", NULL, NULL);
  g_assert_cmpstr (f.body->str, ==, "late");
  g_assert_cmpfloat (f.seconds, >=, 0.29);
  fetch_clear (&f);
  g_assert_cmpuint (agentexec_mock_server_get_n_requests (server), ==, 4);
  g_assert_cmpuint (agentexec_mock_server_get_n_connections (server), ==, 4);
}

static void
test_mock_keep_alive (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AgentExecMockServer) server = agentexec_mock_server_new_tcp (&error);
  g_autofree char *base = NULL;
  g_autofree char *url = NULL;
  g_autofree char *big = g_strnfill (200000, 'x');
  g_autoptr(AgentExecMockRequest) request = NULL;
  GString *sink = g_string_new (NULL);
  CURL *curl = curl_easy_init ();
  struct curl_slist *headers = curl_slist_append (NULL, "Transfer-Encoding: chunked");
  gsize len;

  g_assert_no_error (error);
  agentexec_mock_server_set_keep_alive (server, TRUE);
  base = agentexec_mock_server_get_url (server);
  url = g_strconcat (base, "/upload", NULL);
  agentexec_mock_server_enqueue_simple (server, 200, NULL, "one");
  agentexec_mock_server_enqueue_simple (server, 200, NULL, "two");
  curl_easy_setopt (curl, CURLOPT_URL, url);
  curl_easy_setopt (curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt (curl, CURLOPT_WRITEDATA, sink);
  curl_easy_setopt (curl, CURLOPT_POSTFIELDS, big);
  curl_easy_setopt (curl, CURLOPT_HTTPHEADER, headers);
  g_assert_cmpint (curl_easy_perform (curl), ==, CURLE_OK);
  g_assert_cmpint (curl_easy_perform (curl), ==, CURLE_OK);
  g_assert_cmpstr (sink->str, ==, "onetwo");
  g_assert_cmpuint (agentexec_mock_server_get_n_connections (server), ==, 1);
  request = agentexec_mock_server_get_request (server, 1);
  g_assert_cmpuint (strlen (agentexec_mock_request_get_body (request, &len)), ==, 200000);
  g_assert_cmpuint (len, ==, 200000);
  curl_slist_free_all (headers);
  curl_easy_cleanup (curl);
  g_string_free (sink, TRUE);
}

static gpointer
late_fetch (gpointer data)
{
  Fetch f = fetch (data, "GET", "/slow", NULL, NULL);
  CURLcode code = f.code;

  fetch_clear (&f);
  return GINT_TO_POINTER (code);
}

static AgentExecMockResponse *
echo_handler (AgentExecMockServer        *server,
              const AgentExecMockRequest *request,
              gpointer                    user_data)
{
  return agentexec_mock_response_new (200, agentexec_mock_request_get_path (request), -1);
}

static void
test_mock_shutdown (void)
{
  g_autoptr(GError) error = NULL;
  AgentExecMockServer *server = agentexec_mock_server_new_tcp (&error);
  AgentExecMockResponse *response = agentexec_mock_response_new (200, "never", -1);
  GThread *thread;
  gint64 start;
  Fetch f;

  g_assert_no_error (error);
  agentexec_mock_server_set_handler (server, echo_handler, g_strdup ("x"), g_free);
  f = fetch (server, "GET", "/echo/me", NULL, NULL);
  g_assert_cmpstr (f.body->str, ==, "/echo/me");
  fetch_clear (&f);

  /* A response delayed for a minute must not hold up free(). */
  agentexec_mock_response_set_delay_ms (response, 60000);
  agentexec_mock_server_enqueue (server, response);
  thread = g_thread_new ("late-fetch", late_fetch, server);
  g_assert_true (agentexec_mock_server_wait_for_requests (server, 2, 5000));
  g_assert_false (agentexec_mock_server_wait_for_requests (server, 3, 50));
  start = g_get_monotonic_time ();
  agentexec_mock_server_free (server);
  g_assert_cmpint (g_get_monotonic_time () - start, <, G_USEC_PER_SEC);
  g_assert_cmpint (GPOINTER_TO_INT (g_thread_join (thread)), !=, CURLE_OK);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  curl_global_init (CURL_GLOBAL_DEFAULT);

  g_test_add_func ("/agentexec/mock-server/basic", test_mock_basic);
  g_test_add_func ("/agentexec/mock-server/unix", test_mock_unix);
  g_test_add_func ("/agentexec/mock-server/chunked", test_mock_chunked);
  g_test_add_func ("/agentexec/mock-server/failures", test_mock_failures);
  g_test_add_func ("/agentexec/mock-server/keep-alive", test_mock_keep_alive);
  g_test_add_func ("/agentexec/mock-server/shutdown", test_mock_shutdown);

  return g_test_run ();
}
