/* test-builtin.c: the BuiltIn (Gemini) backend against a loopback server
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>
#include <curl/curl.h>
#include <glib/gstdio.h>

#include "libagentexec.h"
#include "agentexec-base-executor-private.h"
#include "agentexec-gemini-private.h"
#include "agentexec-gemini-reply-private.h"
#include "agentexec-sse-private.h"
#include "agentexec-mock-server.h"

/* A plain libcurl client, to test the mock server on its own. */

typedef struct
{
  long status;
  GString *body;
  GString *headers;
  CURLcode code;
  double seconds;
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
       const char *method,
       const char *path,
       const char *body,
       const char *extra_header)
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
    curl_easy_setopt (curl, CURLOPT_UNIX_SOCKET_PATH,
                      agentexec_mock_server_get_socket_path (server));
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
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecMockServer) server = agentexec_mock_server_new_tcp (&error);
  g_autoptr (AgentExecMockRequest) request = NULL;
  g_autoptr (AgentExecMockResponse) response = agentexec_mock_response_new (201, "{\"a\":1}", -1);
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
  g_autoptr (GError) error = NULL;
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
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecMockServer) server = agentexec_mock_server_new_tcp (&error);
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
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecMockServer) server = agentexec_mock_server_new_tcp (&error);
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
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecMockServer) server = agentexec_mock_server_new_tcp (&error);
  g_autofree char *base = NULL;
  g_autofree char *url = NULL;
  g_autofree char *big = g_strnfill (200000, 'x');
  g_autoptr (AgentExecMockRequest) request = NULL;
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
echo_handler (AgentExecMockServer *server, const AgentExecMockRequest *request, gpointer user_data)
{
  return agentexec_mock_response_new (200, agentexec_mock_request_get_path (request), -1);
}

static void
test_mock_shutdown (void)
{
  g_autoptr (GError) error = NULL;
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

/* The BuiltIn executor */

#define TEST_KEY "AIzaTEST-key-0123456789-secret"
#define MODEL_PATH "/v1beta/models/gemini-2.5-flash:generateContent"
#define STREAM_PATH "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"

/* Every log line of the process, to prove the key never reaches one. */
static GMutex log_mutex;
static GString *log_text;

static GLogWriterOutput
capture_writer (GLogLevelFlags log_level,
                const GLogField *fields,
                gsize n_fields,
                gpointer user_data)
{
  g_mutex_lock (&log_mutex);
  for (gsize i = 0; i < n_fields; i++)
    if (g_str_equal (fields[i].key, "MESSAGE") && fields[i].length < 0)
      g_string_append_printf (log_text, "%s\n", (const char *) fields[i].value);
  g_mutex_unlock (&log_mutex);
  if (log_level & G_LOG_LEVEL_DEBUG)
    return G_LOG_WRITER_HANDLED;
  return g_log_writer_default (log_level, fields, n_fields, user_data);
}

typedef struct
{
  AgentExecMockServer *server;
  AgentExecBuiltInExecutor *executor;
} Fixture;

static void
fixture_setup (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *url = NULL;
  g_autofree char *base_url = NULL;

  fixture->server = agentexec_mock_server_new_tcp (&error);
  g_assert_no_error (error);
  url = agentexec_mock_server_get_url (fixture->server);
  base_url = g_strconcat (url, "/v1beta", NULL);
  fixture->executor =
      g_object_new (AGENTEXEC_TYPE_BUILT_IN_EXECUTOR, "base-url", base_url, "api-key", TEST_KEY,
                    "max-retries", 0, "retry-delay-ms", 10, NULL);
}

static void
fixture_teardown (Fixture *fixture, gconstpointer data)
{
  g_clear_object (&fixture->executor);
  g_clear_pointer (&fixture->server, agentexec_mock_server_free);
}

static char *
load_data (const char *name)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "builtin", name, NULL);
  char *contents = NULL;

  g_file_get_contents (path, &contents, NULL, &error);
  g_assert_no_error (error);
  return contents;
}

static AgentExecMockResponse *
json_response (guint status, const char *file)
{
  g_autofree char *body = load_data (file);
  AgentExecMockResponse *response = agentexec_mock_response_new (status, body, -1);

  agentexec_mock_response_add_header (response, "Content-Type", "application/json; charset=UTF-8");
  return response;
}

static void
enqueue_file (Fixture *fixture, guint status, const char *file)
{
  agentexec_mock_server_enqueue (fixture->server, json_response (status, file));
}

static AgentExecExecutionResult *
run_code (Fixture *fixture, const char *code, GError **error)
{
  g_autoptr (AgentExecExecutionInput) input = agentexec_execution_input_new (code, "python");

  return agentexec_code_executor_execute_code (AGENTEXEC_CODE_EXECUTOR (fixture->executor), NULL,
                                               input, NULL, error);
}

static JsonObject *
request_json (AgentExecMockRequest *request, JsonParser *parser)
{
  g_autoptr (GError) error = NULL;
  gsize len;
  const char *body = agentexec_mock_request_get_body (request, &len);

  json_parser_load_from_data (parser, body, len, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));
  return json_node_get_object (json_parser_get_root (parser));
}

/* What the server received: POST to the model path, the key header, a body
 * holding exactly the code-execution tool and the code. */
static void
assert_gemini_request (Fixture *fixture, guint index, const char *path, const char *code)
{
  g_autoptr (AgentExecMockRequest) request =
      agentexec_mock_server_get_request (fixture->server, index);
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *body;
  JsonArray *tools, *contents, *parts;
  JsonObject *last;

  g_assert_nonnull (request);
  g_assert_cmpstr (agentexec_mock_request_get_method (request), ==, "POST");
  g_assert_cmpstr (agentexec_mock_request_get_path (request), ==, path);
  g_assert_cmpstr (agentexec_mock_request_get_header (request, "x-goog-api-key"), ==, TEST_KEY);
  g_assert_cmpstr (agentexec_mock_request_get_header (request, "Content-Type"), ==,
                   "application/json");
  body = request_json (request, parser);
  tools = json_object_get_array_member (body, "tools");
  g_assert_cmpuint (json_array_get_length (tools), ==, 1);
  g_assert_true (
      json_object_has_member (json_array_get_object_element (tools, 0), "codeExecution"));
  g_assert_true (json_object_has_member (body, "systemInstruction"));
  contents = json_object_get_array_member (body, "contents");
  g_assert_cmpuint (json_array_get_length (contents), ==, 1);
  g_assert_cmpstr (
      json_object_get_string_member (json_array_get_object_element (contents, 0), "role"), ==,
      "user");
  parts = json_object_get_array_member (json_array_get_object_element (contents, 0), "parts");
  last = json_array_get_object_element (parts, json_array_get_length (parts) - 1);
  g_assert_nonnull (strstr (json_object_get_string_member (last, "text"), code));
}

static void
test_model_support (void)
{
  static const struct
  {
    const char *model;
    gboolean supported;
  } cases[] = {
    { "gemini-2.0-flash", TRUE },
    { "gemini-2.5-pro", TRUE },
    { "gemini-2.0-flash-exp", TRUE },
    { "gemini-2.0-flash-001", TRUE },
    { "gemini-2.5-flash-preview-05-20", TRUE },
    { "gemini-2.0-flash-thinking-exp-01-21", TRUE },
    { "gemini-3-pro-preview", TRUE },
    { "gemini-10.0-ultra", TRUE },
    { "models/gemini-2.5-flash", TRUE },
    { "models/gemini-2.0-flash-latest", TRUE },
    { "projects/p/locations/us-central1/publishers/google/models/gemini-2.0-flash-001", TRUE },
    { "gemini-flash-latest", TRUE },
    { "gemini-pro-latest", TRUE },
    { "gemini-1.5-flash", FALSE },
    { "gemini-1.5-pro-latest", FALSE },
    { "models/gemini-1.0-pro", FALSE },
    { "gemini-exp-1206", FALSE },
    { "gemini-pro", FALSE },
    { "gemini-", FALSE },
    { "gemini-2x-flash", FALSE },
    { "tunedModels/my-gemini-2-tune-abc123", FALSE },
    { "gemma-3-27b-it", FALSE },
    { "claude-3-5-sonnet", FALSE },
    { "", FALSE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_test_message ("model %s", cases[i].model);
      g_assert_cmpint (_agentexec_gemini_model_is_2_or_above (cases[i].model), ==,
                       cases[i].supported);
    }
  g_assert_false (_agentexec_gemini_model_is_2_or_above (NULL));
}

static JsonNode *
parse_json (const char *text)
{
  g_autoptr (GError) error = NULL;
  JsonNode *node = json_from_string (text, &error);

  g_assert_no_error (error);
  return node;
}

static void
assert_json_equal (JsonNode *node, const char *expected)
{
  g_autoptr (JsonNode) want = parse_json (expected);

  if (!json_node_equal (node, want))
    {
      g_autofree char *got = json_to_string (node, FALSE);

      g_error ("JSON differs:\n got  %s\n want %s", got, expected);
    }
}

static gboolean
process_request (AgentExecBuiltInExecutor *executor, JsonNode *node, GError **error)
{
  return agentexec_code_executor_process_llm_request (AGENTEXEC_CODE_EXECUTOR (executor),
                                                      json_node_get_object (node), error);
}

static void
test_process_request_rest (void)
{
  g_autoptr (AgentExecBuiltInExecutor) executor = agentexec_built_in_executor_new ();
  g_autoptr (GError) error = NULL;
  /* A REST body names its model in the URL: the executor's model stands in. */
  agentexec_built_in_executor_set_model_fallback (executor, TRUE);
  g_autoptr (JsonNode) node = parse_json (
      "{\"contents\": [{\"role\": \"user\", \"parts\": [{\"text\": \"hi\"}]}],"
      " \"systemInstruction\": {\"parts\": [{\"text\": \"be brief\"}]},"
      " \"tools\": [{\"googleSearch\": {}}, {\"functionDeclarations\": [{\"name\": \"f\"}]}],"
      " \"generationConfig\": {\"temperature\": 0.5, \"topK\": 3}}");
  static const char expected[] =
      "{\"contents\": [{\"role\": \"user\", \"parts\": [{\"text\": \"hi\"}]}],"
      " \"systemInstruction\": {\"parts\": [{\"text\": \"be brief\"}]},"
      " \"tools\": [{\"googleSearch\": {}}, {\"functionDeclarations\": [{\"name\": \"f\"}]},"
      "            {\"codeExecution\": {}}],"
      " \"generationConfig\": {\"temperature\": 0.5, \"topK\": 3}}";

  g_assert_true (process_request (executor, node, &error));
  g_assert_no_error (error);
  assert_json_equal (node, expected);
  /* Idempotent. */
  g_assert_true (process_request (executor, node, &error));
  g_assert_true (process_request (executor, node, &error));
  assert_json_equal (node, expected);
}

static void
test_process_request_adk (void)
{
  g_autoptr (AgentExecBuiltInExecutor) executor = agentexec_built_in_executor_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) snake =
      parse_json ("{\"model\": \"models/gemini-2.0-flash\","
                  " \"contents\": [{\"role\": \"user\","
                  "   \"parts\": [{\"inline_data\": {\"mime_type\": \"text/csv\","
                  "   \"data\": \"YQ==\"}}]}],"
                  " \"config\": {\"system_instruction\": \"x\", \"max_output_tokens\": 10}}");
  g_autoptr (JsonNode) bare = parse_json ("{\"model\": \"gemini-2.5-pro\", \"contents\": []}");
  g_autoptr (JsonNode) nulls = parse_json ("{\"model\": \"gemini-2.5-pro\", \"config\": null}");
  g_autoptr (JsonNode) camel_config =
      parse_json ("{\"model\": \"gemini-2.5-pro\", \"config\": {\"systemInstruction\": \"x\","
                  " \"tools\": [{\"googleSearch\": {}}]}}");

  g_assert_true (process_request (executor, snake, &error));
  g_assert_no_error (error);
  assert_json_equal (snake,
                     "{\"model\": \"models/gemini-2.0-flash\","
                     " \"contents\": [{\"role\": \"user\","
                     "   \"parts\": [{\"inline_data\": {\"mime_type\": \"text/csv\","
                     "   \"data\": \"YQ==\"}}]}],"
                     " \"config\": {\"system_instruction\": \"x\", \"max_output_tokens\": 10,"
                     "              \"tools\": [{\"code_execution\": {}}]}}");

  g_assert_true (process_request (executor, bare, &error));
  g_assert_no_error (error);
  assert_json_equal (bare, "{\"model\": \"gemini-2.5-pro\", \"contents\": [],"
                           " \"config\": {\"tools\": [{\"codeExecution\": {}}]}}");
  g_assert_true (process_request (executor, bare, &error));
  assert_json_equal (bare, "{\"model\": \"gemini-2.5-pro\", \"contents\": [],"
                           " \"config\": {\"tools\": [{\"codeExecution\": {}}]}}");

  g_assert_true (process_request (executor, nulls, &error));
  assert_json_equal (nulls, "{\"model\": \"gemini-2.5-pro\","
                            " \"config\": {\"tools\": [{\"codeExecution\": {}}]}}");

  g_assert_true (process_request (executor, camel_config, &error));
  assert_json_equal (camel_config,
                     "{\"model\": \"gemini-2.5-pro\", \"config\": {\"systemInstruction\": \"x\","
                     " \"tools\": [{\"googleSearch\": {}}, {\"codeExecution\": {}}]}}");
}

static void
test_process_request_existing (void)
{
  g_autoptr (AgentExecBuiltInExecutor) executor = agentexec_built_in_executor_new ();
  g_autoptr (GError) error = NULL;

  agentexec_built_in_executor_set_model_fallback (executor, TRUE);
  g_autoptr (JsonNode) snake =
      parse_json ("{\"tools\": [{\"code_execution\": {}}, {\"google_search\": {}}]}");
  g_autoptr (JsonNode) twice = parse_json (
      "{\"tools\": [{\"googleSearch\": {}}, {\"codeExecution\": {}},"
      "             {\"codeExecution\": {}, \"urlContext\": {}}, {\"code_execution\": {}}]}");

  /* Already there (either spelling): unchanged. */
  g_assert_true (process_request (executor, snake, &error));
  g_assert_no_error (error);
  assert_json_equal (snake, "{\"tools\": [{\"code_execution\": {}}, {\"google_search\": {}}]}");
  /* Several: exactly one stays, other tools stay. */
  g_assert_true (process_request (executor, twice, &error));
  assert_json_equal (twice, "{\"tools\": [{\"googleSearch\": {}}, {\"codeExecution\": {}},"
                            " {\"urlContext\": {}}]}");
}

static void
test_process_request_unsupported (void)
{
  g_autoptr (AgentExecBuiltInExecutor) executor = agentexec_built_in_executor_new ();
  static const char *models[] = { "gemini-1.5-pro", "tunedModels/abc-123", "gpt-4o" };

  for (guint i = 0; i < G_N_ELEMENTS (models); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *text = g_strdup_printf ("{\"model\": \"%s\", \"contents\": []}", models[i]);
      g_autofree char *message =
          g_strdup_printf ("Gemini code execution tool is not supported for model %s", models[i]);
      g_autoptr (JsonNode) node = parse_json (text);

      g_assert_false (process_request (executor, node, &error));
      g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_INVALID_INPUT);
      g_assert_cmpstr (error->message, ==, message);
      assert_json_equal (node, text); /* untouched */
    }

  /* Without "model" in the request: ADK's failure, whatever the executor's model
   * (its own model is a Gemini 2 one here). */
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (JsonNode) node = parse_json ("{\"contents\": []}");

    g_assert_false (agentexec_built_in_executor_get_model_fallback (executor));
    g_assert_false (process_request (executor, node, &error));
    g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_INVALID_INPUT);
    g_assert_cmpstr (error->message, ==,
                     "Gemini code execution tool is not supported for model None");
    assert_json_equal (node, "{\"contents\": []}");
  }

  /* With model-fallback, the executor's model decides, both ways. */
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (JsonNode) node = parse_json ("{\"contents\": []}");

    g_object_set (executor, "model-fallback", TRUE, NULL);
    g_assert_true (process_request (executor, node, &error));
    g_assert_no_error (error);
    assert_json_equal (node,
                       "{\"contents\": [], \"config\": {\"tools\": [{\"codeExecution\": {}}]}}");
    agentexec_built_in_executor_set_model (executor, "gemini-1.0-pro");
    g_clear_pointer (&node, json_node_unref);
    node = parse_json ("{\"contents\": []}");
    g_assert_false (process_request (executor, node, &error));
    g_assert_cmpstr (error->message, ==,
                     "Gemini code execution tool is not supported for model gemini-1.0-pro");
  }

  /* A model in the request is checked even with model-fallback. */
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (JsonNode) node = parse_json ("{\"model\": \"gemini-1.5-pro\"}");

    agentexec_built_in_executor_set_model (executor, "gemini-2.5-pro");
    g_assert_false (process_request (executor, node, &error));
    g_assert_cmpstr (error->message, ==,
                     "Gemini code execution tool is not supported for model gemini-1.5-pro");
  }
}

static void
test_process_request_malformed (void)
{
  g_autoptr (AgentExecBuiltInExecutor) executor = agentexec_built_in_executor_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) config = parse_json ("{\"model\": \"gemini-2.0-flash\", \"config\": 3}");
  g_autoptr (JsonNode) tools =
      parse_json ("{\"model\": \"gemini-2.0-flash\", \"tools\": {\"codeExecution\": {}}}");

  g_assert_false (process_request (executor, config, &error));
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_INVALID_INPUT);
  g_assert_nonnull (strstr (error->message, "config"));
  g_clear_error (&error);
  g_assert_false (process_request (executor, tools, &error));
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_INVALID_INPUT);
  g_assert_nonnull (strstr (error->message, "tools"));
}

static void
test_properties (void)
{
  g_autoptr (AgentExecBuiltInExecutor) executor = agentexec_built_in_executor_new ();
  g_autofree char *model = agentexec_built_in_executor_dup_model (executor);
  g_autofree char *base_url = agentexec_built_in_executor_dup_base_url (executor);
  g_autofree char *set_url = NULL;
  GParamSpec *pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (executor), "api-key");

  g_assert_cmpstr (model, ==, "gemini-2.5-flash");
  g_assert_cmpstr (base_url, ==, "https://generativelanguage.googleapis.com/v1beta");
  g_assert_cmpuint (agentexec_built_in_executor_get_request_timeout_ms (executor), ==, 0);
  g_assert_false (agentexec_built_in_executor_get_streaming (executor));
  /* The key can be set, never read back. */
  g_assert_nonnull (pspec);
  g_assert_false (pspec->flags & G_PARAM_READABLE);
  g_object_set (executor, "base-url", "http://example.invalid/v1", "model", "gemini-2.0-flash",
                "request-timeout-ms", 5, "streaming", TRUE, NULL);
  g_object_get (executor, "base-url", &set_url, NULL);
  g_assert_cmpstr (set_url, ==, "http://example.invalid/v1");
  agentexec_built_in_executor_set_base_url (executor, NULL);
  g_clear_pointer (&base_url, g_free);
  base_url = agentexec_built_in_executor_dup_base_url (executor);
  g_assert_cmpstr (base_url, ==, "https://generativelanguage.googleapis.com/v1beta");
  g_assert_cmpuint (agentexec_built_in_executor_get_request_timeout_ms (executor), ==, 5);
  g_assert_true (agentexec_built_in_executor_get_streaming (executor));
  g_assert_true (AGENTEXEC_IS_CODE_EXECUTOR (executor));
}

static void
test_api_key_sources (void)
{
  g_autoptr (AgentExecBuiltInExecutor) executor = NULL;

  g_unsetenv ("GEMINI_API_KEY");
  g_unsetenv ("GOOGLE_API_KEY");
  executor = agentexec_built_in_executor_new ();
  g_assert_false (agentexec_built_in_executor_has_api_key (executor));
  g_setenv ("GOOGLE_API_KEY", "g-key", TRUE);
  g_assert_true (agentexec_built_in_executor_has_api_key (executor));
  g_unsetenv ("GOOGLE_API_KEY");
  g_setenv ("GEMINI_API_KEY", "", TRUE);
  g_assert_false (agentexec_built_in_executor_has_api_key (executor));
  agentexec_built_in_executor_set_api_key (executor, "k");
  g_assert_true (agentexec_built_in_executor_has_api_key (executor));
  agentexec_built_in_executor_set_api_key (executor, NULL);
  g_assert_false (agentexec_built_in_executor_has_api_key (executor));
  g_unsetenv ("GEMINI_API_KEY");
}

/* The key from the environment: GEMINI_API_KEY first, then GOOGLE_API_KEY. */
static void
test_env_key_sent (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecExecutionResult) result = NULL;
  g_autoptr (AgentExecMockRequest) first = NULL;
  g_autoptr (AgentExecMockRequest) second = NULL;

  agentexec_built_in_executor_set_api_key (fixture->executor, NULL);
  g_setenv ("GEMINI_API_KEY", "gemini-env-key", TRUE);
  g_setenv ("GOOGLE_API_KEY", "google-env-key", TRUE);
  enqueue_file (fixture, 200, "success.json");
  result = run_code (fixture, "print(sum(range(10)))", &error);
  g_assert_no_error (error);
  g_clear_object (&result);
  g_unsetenv ("GEMINI_API_KEY");
  enqueue_file (fixture, 200, "success.json");
  result = run_code (fixture, "print(sum(range(10)))", &error);
  g_assert_no_error (error);
  g_unsetenv ("GOOGLE_API_KEY");
  first = agentexec_mock_server_get_request (fixture->server, 0);
  second = agentexec_mock_server_get_request (fixture->server, 1);
  g_assert_cmpstr (agentexec_mock_request_get_header (first, "x-goog-api-key"), ==,
                   "gemini-env-key");
  g_assert_cmpstr (agentexec_mock_request_get_header (second, "x-goog-api-key"), ==,
                   "google-env-key");
}

static void
test_no_key (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecExecutionResult) result = NULL;

  g_unsetenv ("GEMINI_API_KEY");
  g_unsetenv ("GOOGLE_API_KEY");
  agentexec_built_in_executor_set_api_key (fixture->executor, NULL);
  result = run_code (fixture, "print(1)", &error);
  g_assert_null (result);
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "GEMINI_API_KEY"));
  g_assert_cmpuint (agentexec_mock_server_get_n_requests (fixture->server), ==, 0);
}

static void
test_success (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecExecutionResult) result = NULL;

  enqueue_file (fixture, 200, "success.json");
  result = run_code (fixture, "print(sum(range(10)))", &error);
  g_assert_no_error (error);
  g_assert_cmpint (agentexec_execution_result_get_outcome (result), ==, AGENTEXEC_OUTCOME_OK);
  g_assert_cmpstr (agentexec_execution_result_get_stdout (result), ==, "45\n");
  g_assert_cmpstr (agentexec_execution_result_get_stderr (result), ==, "");
  g_assert_cmpint (agentexec_execution_result_get_exit_code (result), ==, 0);
  g_assert_cmpuint (agentexec_execution_result_get_attempts (result), ==, 1);
  g_assert_cmpstr (agentexec_execution_result_get_language (result), ==, "python");
  g_assert_cmpuint (agentexec_execution_result_get_output_files (result)->len, ==, 0);
  g_assert_cmpint (agentexec_execution_result_get_duration_us (result), >, 0);
  g_assert_cmpuint (agentexec_mock_server_get_n_requests (fixture->server), ==, 1);
  assert_gemini_request (fixture, 0, MODEL_PATH, "print(sum(range(10)))");
}

static void
test_model_path (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecExecutionResult) result = NULL;
  g_autoptr (AgentExecMockRequest) request = NULL;

  agentexec_built_in_executor_set_model (fixture->executor, "models/gemini-2.0-flash-001");
  enqueue_file (fixture, 200, "success.json");
  result = run_code (fixture, "print(sum(range(10)))", &error);
  g_assert_no_error (error);
  request = agentexec_mock_server_get_request (fixture->server, 0);
  g_assert_cmpstr (agentexec_mock_request_get_path (request), ==,
                   "/v1beta/models/gemini-2.0-flash-001:generateContent");

  /* A name that would change the URL is refused before any request. */
  g_clear_object (&result);
  agentexec_built_in_executor_set_model (fixture->executor, "gemini-2.0?x=1#");
  result = run_code (fixture, "print(1)", &error);
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_INVALID_INPUT);
  g_assert_cmpuint (agentexec_mock_server_get_n_requests (fixture->server), ==, 1);
}

static void
test_failure (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecExecutionResult) result = NULL;

  enqueue_file (fixture, 200, "failure.json");
  result = run_code (fixture, "print(1 / 0)", &error);
  g_assert_no_error (error);
  g_assert_cmpint (agentexec_execution_result_get_outcome (result), ==, AGENTEXEC_OUTCOME_FAILED);
  g_assert_cmpstr (agentexec_execution_result_get_stdout (result), ==, "");
  g_assert_true (g_str_has_prefix (agentexec_execution_result_get_stderr (result),
                                   "Traceback (most recent call last):"));
  g_assert_nonnull (strstr (agentexec_execution_result_get_stderr (result), "ZeroDivisionError"));
  g_assert_cmpint (agentexec_execution_result_get_exit_code (result), !=, 0);
  g_assert_true (agentexec_execution_result_is_error (result));
}

static void
test_deadline (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecExecutionResult) result = NULL;

  enqueue_file (fixture, 200, "deadline.json");
  result = run_code (fixture, "import time\nprint('start')\ntime.sleep(600)", &error);
  g_assert_no_error (error);
  g_assert_cmpint (agentexec_execution_result_get_outcome (result), ==,
                   AGENTEXEC_OUTCOME_DEADLINE_EXCEEDED);
  g_assert_cmpstr (agentexec_execution_result_get_stdout (result), ==, "start\n");
  g_assert_nonnull (
      strstr (agentexec_execution_result_get_stderr (result), "OUTCOME_DEADLINE_EXCEEDED"));
  /* ADK's sentence, with Gemini's own limit. */
  g_assert_true (g_str_has_suffix (agentexec_execution_result_get_stderr (result),
                                   "\nCode execution timed out after 30 seconds."));
}

static void
test_image (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecExecutionResult) result = NULL;
  g_autoptr (GRegex) adk_name = g_regex_new ("^[0-9]{8}_[0-9]{6}\\.png$", 0, 0, NULL);
  g_autoptr (GRegex) second_name = g_regex_new ("^[0-9]{8}_[0-9]{6}(_2)?\\.png$", 0, 0, NULL);
  GPtrArray *files;
  AgentExecFile *png, *png2, *csv;
  gsize len;
  const guint8 *bytes;

  enqueue_file (fixture, 200, "image.json");
  result = run_code (fixture, "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3])\nplt.show()",
                     &error);
  g_assert_no_error (error);
  g_assert_cmpint (agentexec_execution_result_get_outcome (result), ==, AGENTEXEC_OUTCOME_OK);
  g_assert_cmpstr (agentexec_execution_result_get_stdout (result), ==, "");
  files = agentexec_execution_result_get_output_files (result);
  g_assert_cmpuint (files->len, ==, 3);
  png = g_ptr_array_index (files, 0);
  png2 = g_ptr_array_index (files, 1);
  csv = g_ptr_array_index (files, 2);
  /* ADK names an unnamed image <YYYYmmdd_HHMMSS>.<subtype>; names stay unique. */
  g_assert_true (g_regex_match (adk_name, agentexec_file_get_name (png), 0, NULL));
  g_assert_true (g_regex_match (second_name, agentexec_file_get_name (png2), 0, NULL));
  g_assert_cmpstr (agentexec_file_get_name (png), !=, agentexec_file_get_name (png2));
  g_assert_cmpstr (agentexec_file_get_mime_type (png), ==, "image/png");
  bytes = g_bytes_get_data (agentexec_file_get_content (png), &len);
  g_assert_cmpuint (len, ==, 70);
  g_assert_cmpmem (bytes, 8, "\x89PNG\r\n\x1a\n", 8);
  g_assert_cmpstr (agentexec_file_get_name (csv), ==, "table.csv");
  g_assert_cmpstr (agentexec_file_get_mime_type (csv), ==, "text/csv");
  bytes = g_bytes_get_data (agentexec_file_get_content (csv), &len);
  g_assert_cmpmem (bytes, len, "a,b\n1,2\n", 8);
}

static void
test_multiple (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecExecutionResult) result = NULL;

  /* The model ran other code before and after ours: ours is the one reported. */
  enqueue_file (fixture, 200, "multiple.json");
  result = run_code (fixture, "x = 6 * 7\nprint(x)", &error);
  g_assert_no_error (error);
  g_assert_cmpint (agentexec_execution_result_get_outcome (result), ==, AGENTEXEC_OUTCOME_OK);
  g_assert_cmpstr (agentexec_execution_result_get_stdout (result), ==, "42\n");

  /* No executed code equals ours: the first result. */
  g_clear_object (&result);
  enqueue_file (fixture, 200, "multiple.json");
  result = run_code (fixture, "print('something else')", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (agentexec_execution_result_get_stdout (result), ==, "warm-up\n");
}

typedef struct
{
  const char *file;
  int code;
  const char *needle;
} ReplyErrorCase;

static void
test_reply_errors (Fixture *fixture, gconstpointer data)
{
  static const ReplyErrorCase cases[] = {
    { "blocked.json", AGENTEXEC_ERROR_INVALID_INPUT, "blockReason SAFETY" },
    { "finish-safety.json", AGENTEXEC_ERROR_FAILED, "finishReason SAFETY" },
    { "no-candidates.json", AGENTEXEC_ERROR_PROTOCOL, "without any candidate" },
    { "text-only.json", AGENTEXEC_ERROR_FAILED, "I cannot run code that deletes files." },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (AgentExecExecutionResult) result = NULL;

      g_test_message ("%s", cases[i].file);
      enqueue_file (fixture, 200, cases[i].file);
      result = run_code (fixture, "print(1)", &error);
      g_assert_null (result);
      g_assert_error (error, AGENTEXEC_ERROR, cases[i].code);
      g_assert_nonnull (strstr (error->message, cases[i].needle));
    }
}

typedef struct
{
  guint status;
  const char *file;
  int code;
  const char *needles[3];
} HttpErrorCase;

static void
test_http_errors (Fixture *fixture, gconstpointer data)
{
  static const HttpErrorCase cases[] = {
    { 400,
      "error-400.json",
      AGENTEXEC_ERROR_INVALID_INPUT,
      { "HTTP 400 INVALID_ARGUMENT", "Request contains an invalid argument.", NULL } },
    { 400,
      "error-key.json",
      AGENTEXEC_ERROR_PERMISSION_DENIED,
      { "API key not valid", "GEMINI_API_KEY", NULL } },
    { 401,
      "error-403.json",
      AGENTEXEC_ERROR_PERMISSION_DENIED,
      { "HTTP 401", "api-key", "retrying will not help" } },
    { 403,
      "error-403.json",
      AGENTEXEC_ERROR_PERMISSION_DENIED,
      { "HTTP 403 PERMISSION_DENIED", "unregistered callers", "GEMINI_API_KEY" } },
    { 404,
      "error-404.json",
      AGENTEXEC_ERROR_FAILED,
      { "“gemini-2.5-flash”", "HTTP 404 NOT_FOUND", "is not found for API version" } },
    { 409, "error-400.json", AGENTEXEC_ERROR_PROTOCOL, { "HTTP 409", NULL, NULL } },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (AgentExecExecutionResult) result = NULL;

      g_test_message ("HTTP %u %s", cases[i].status, cases[i].file);
      enqueue_file (fixture, cases[i].status, cases[i].file);
      result = run_code (fixture, "print(1)", &error);
      g_assert_null (result);
      g_assert_error (error, AGENTEXEC_ERROR, cases[i].code);
      for (guint j = 0; j < 3 && cases[i].needles[j] != NULL; j++)
        g_assert_nonnull (strstr (error->message, cases[i].needles[j]));
      g_assert_null (strstr (error->message, TEST_KEY));
    }
  /* None of them was retried (max-retries is 0 here, and they are not transient anyway). */
  g_assert_cmpuint (agentexec_mock_server_get_n_requests (fixture->server), ==,
                    G_N_ELEMENTS (cases));
}

static void
test_not_retried_with_retries (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecExecutionResult) result = NULL;

  g_object_set (fixture->executor, "max-retries", 3, NULL);
  enqueue_file (fixture, 404, "error-404.json");
  result = run_code (fixture, "print(1)", &error);
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_FAILED);
  g_assert_cmpuint (agentexec_mock_server_get_n_requests (fixture->server), ==, 1);
}

/* 401 and 403 are never retried, whatever max-retries says. */
static void
test_permission_denied_not_retried (Fixture *fixture, gconstpointer data)
{
  static const guint statuses[] = { 401, 403 };

  g_object_set (fixture->executor, "max-retries", 3, "retry-delay-ms", 1, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (statuses); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (AgentExecExecutionResult) result = NULL;
      guint before = agentexec_mock_server_get_n_requests (fixture->server);

      enqueue_file (fixture, statuses[i], "error-403.json");
      /* Were it retried, the next attempt would get this success. */
      enqueue_file (fixture, 200, "success.json");
      result = run_code (fixture, "print(1)", &error);
      g_assert_null (result);
      g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_PERMISSION_DENIED);
      g_assert_cmpuint (agentexec_mock_server_get_n_requests (fixture->server), ==, before + 1);
      /* Use up the success answer so the next case starts clean. */
      g_clear_object (&result);
      g_clear_error (&error);
      result = run_code (fixture, "print(1)", &error);
      g_assert_no_error (error);
    }
}

static void
test_retry_429 (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecExecutionResult) result = NULL;
  AgentExecMockResponse *limited = json_response (429, "error-429.json");
  gint64 start;

  g_object_set (fixture->executor, "max-retries", 2, NULL);
  agentexec_mock_response_add_header (limited, "Retry-After", "1");
  agentexec_mock_server_enqueue (fixture->server, limited);
  enqueue_file (fixture, 200, "success.json");
  start = g_get_monotonic_time ();
  result = run_code (fixture, "print(sum(range(10)))", &error);
  g_assert_no_error (error);
  /* Retry-After (1 s) wins over retry-delay-ms (10 ms). */
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 950 * 1000);
  g_assert_cmpstr (agentexec_execution_result_get_stdout (result), ==, "45\n");
  g_assert_cmpuint (agentexec_execution_result_get_attempts (result), ==, 2);
  assert_gemini_request (fixture, 0, MODEL_PATH, "print(sum(range(10)))");
  assert_gemini_request (fixture, 1, MODEL_PATH, "print(sum(range(10)))");
}

static void
test_429_without_retries (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecExecutionResult) result = NULL;
  AgentExecMockResponse *limited = json_response (429, "error-429.json");
  gint64 start = g_get_monotonic_time ();

  agentexec_mock_response_add_header (limited, "Retry-After", "100000");
  agentexec_mock_server_enqueue (fixture->server, limited);
  result = run_code (fixture, "print(1)", &error);
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_BACKEND_UNAVAILABLE);
  g_assert_nonnull (strstr (error->message, "HTTP 429 RESOURCE_EXHAUSTED"));
  g_assert_nonnull (strstr (error->message, "retry after"));

  /* With retries allowed, a wait longer than the base class accepts is
   * reported at once instead of blocking for it. */
  g_clear_error (&error);
  g_object_set (fixture->executor, "max-retries", 3, NULL);
  limited = json_response (429, "error-429.json");
  agentexec_mock_response_add_header (limited, "Retry-After", "3600");
  agentexec_mock_server_enqueue (fixture->server, limited);
  result = run_code (fixture, "print(1)", &error);
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_BACKEND_UNAVAILABLE);
  g_assert_nonnull (strstr (error->message, "retry after 3600 s"));
  g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * G_USEC_PER_SEC);
  g_assert_cmpuint (agentexec_mock_server_get_n_requests (fixture->server), ==, 2);
}

static void
test_retry_500 (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecExecutionResult) result = NULL;

  enqueue_file (fixture, 500, "error-500.json");
  result = run_code (fixture, "print(1)", &error);
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_BACKEND_UNAVAILABLE);
  g_assert_nonnull (strstr (error->message, "HTTP 500 INTERNAL"));
  g_assert_nonnull (strstr (error->message, "An internal error has occurred"));
  g_clear_error (&error);

  /* 503 twice, then success. */
  g_object_set (fixture->executor, "max-retries", 2, NULL);
  agentexec_mock_server_enqueue_simple (fixture->server, 503, "text/html",
                                        "<html><body>Service Unavailable</body></html>");
  enqueue_file (fixture, 500, "error-500.json");
  enqueue_file (fixture, 200, "success.json");
  result = run_code (fixture, "print(sum(range(10)))", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (agentexec_execution_result_get_attempts (result), ==, 3);
  g_clear_object (&result);

  /* Always 500: retries exhausted, naming the cause. */
  for (guint i = 0; i < 3; i++)
    enqueue_file (fixture, 500, "error-500.json");
  result = run_code (fixture, "print(1)", &error);
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_RETRIES_EXHAUSTED);
  g_assert_nonnull (strstr (error->message, "HTTP 500"));
  g_assert_cmpuint (agentexec_mock_server_get_n_requests (fixture->server), ==, 7);
}

static void
test_malformed (Fixture *fixture, gconstpointer data)
{
  static const char *bodies[] = { "{\"candidates\": [", "<html>oops</html>", "", "[1, 2]",
                                  "\"text\"" };

  for (guint i = 0; i < G_N_ELEMENTS (bodies); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (AgentExecExecutionResult) result = NULL;

      g_test_message ("body %s", bodies[i]);
      agentexec_mock_server_enqueue_simple (fixture->server, 200, "application/json", bodies[i]);
      result = run_code (fixture, "print(1)", &error);
      g_assert_null (result);
      g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_PROTOCOL);
      g_assert_nonnull (strstr (error->message, "base-url"));
    }
}

static void
test_truncated (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecExecutionResult) result = NULL;
  AgentExecMockResponse *response = json_response (200, "success.json");

  agentexec_mock_response_set_truncate (response, 100);
  agentexec_mock_server_enqueue (fixture->server, response);
  result = run_code (fixture, "print(1)", &error);
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_BACKEND_UNAVAILABLE);
  g_clear_error (&error);

  /* Retried: the second answer is whole. */
  g_object_set (fixture->executor, "max-retries", 1, NULL);
  response = json_response (200, "success.json");
  agentexec_mock_response_set_truncate (response, 100);
  agentexec_mock_server_enqueue (fixture->server, response);
  enqueue_file (fixture, 200, "success.json");
  result = run_code (fixture, "print(sum(range(10)))", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (agentexec_execution_result_get_attempts (result), ==, 2);
}

static void
test_dropped_and_refused (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecExecutionResult) result = NULL;
  g_autoptr (GSocket) socket = NULL;
  g_autoptr (GSocketAddress) address = NULL;
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) bound = NULL;
  g_autofree char *url = NULL;

  agentexec_mock_server_enqueue (fixture->server, agentexec_mock_response_new_drop ());
  result = run_code (fixture, "print(1)", &error);
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_BACKEND_UNAVAILABLE);
  g_clear_error (&error);

  /* A port nobody listens on (bound, never listened). */
  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  address = g_inet_socket_address_new (loopback, 0);
  g_socket_bind (socket, address, FALSE, &error);
  g_assert_no_error (error);
  bound = g_socket_get_local_address (socket, &error);
  url = g_strdup_printf ("http://127.0.0.1:%u/v1beta",
                         g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
  agentexec_built_in_executor_set_base_url (fixture->executor, url);
  result = run_code (fixture, "print(1)", &error);
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_BACKEND_UNAVAILABLE);
  g_assert_null (strstr (error->message, TEST_KEY));
}

static void
test_timeout (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecExecutionResult) result = NULL;
  g_autoptr (AgentExecExecutionInput) input = agentexec_execution_input_new ("print(1)", "python");
  AgentExecMockResponse *response = json_response (200, "success.json");
  gint64 start;

  agentexec_mock_response_set_delay_ms (response, 3000);
  agentexec_mock_server_enqueue (fixture->server, response);
  agentexec_built_in_executor_set_request_timeout_ms (fixture->executor, 300);
  start = g_get_monotonic_time ();
  result = run_code (fixture, "print(1)", &error);
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_TIMEOUT);
  g_assert_nonnull (strstr (error->message, "request-timeout-ms"));
  g_assert_cmpint (g_get_monotonic_time () - start, <, 2 * G_USEC_PER_SEC);
  g_clear_error (&error);

  /* Without request-timeout-ms the input's timeout bounds the request. */
  response = json_response (200, "success.json");
  agentexec_mock_response_set_delay_ms (response, 3000);
  agentexec_mock_server_enqueue (fixture->server, response);
  agentexec_built_in_executor_set_request_timeout_ms (fixture->executor, 0);
  g_object_set (input, "timeout-ms", 300, NULL);
  start = g_get_monotonic_time ();
  result = agentexec_code_executor_execute_code (AGENTEXEC_CODE_EXECUTOR (fixture->executor), NULL,
                                                 input, NULL, &error);
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_TIMEOUT);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 2 * G_USEC_PER_SEC);
}

static gpointer
cancel_thread (gpointer data)
{
  g_usleep (200 * 1000);
  g_cancellable_cancel (data);
  return NULL;
}

static void
test_cancel (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecExecutionResult) result = NULL;
  g_autoptr (AgentExecExecutionInput) input = agentexec_execution_input_new ("print(1)", "python");
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  AgentExecMockResponse *response = json_response (200, "success.json");
  GThread *thread;
  gint64 start;

  agentexec_mock_response_set_delay_ms (response, 10000);
  agentexec_mock_server_enqueue (fixture->server, response);
  thread = g_thread_new ("cancel", cancel_thread, cancellable);
  start = g_get_monotonic_time ();
  result = agentexec_code_executor_execute_code (AGENTEXEC_CODE_EXECUTOR (fixture->executor), NULL,
                                                 input, cancellable, &error);
  g_thread_join (thread);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 3 * G_USEC_PER_SEC);
}

static void
test_unsupported_input (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecExecutionResult) result = NULL;
  g_autoptr (AgentExecExecutionInput) js = agentexec_execution_input_new ("console.log(1)", "js");
  g_autoptr (AgentExecExecutionInput) args = agentexec_execution_input_new ("print(1)", "python");
  static const char *const argv[] = { "a", NULL };

  result = agentexec_code_executor_execute_code (AGENTEXEC_CODE_EXECUTOR (fixture->executor), NULL,
                                                 js, NULL, &error);
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_UNSUPPORTED_LANGUAGE);
  g_assert_nonnull (strstr (error->message, "javascript"));
  g_clear_error (&error);
  agentexec_execution_input_set_argv (args, argv);
  result = agentexec_code_executor_execute_code (AGENTEXEC_CODE_EXECUTOR (fixture->executor), NULL,
                                                 args, NULL, &error);
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_INVALID_INPUT);
  g_assert_cmpuint (agentexec_mock_server_get_n_requests (fixture->server), ==, 0);
}

static void
test_input_files (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecExecutionResult) result = NULL;
  g_autoptr (AgentExecExecutionInput) input =
      agentexec_execution_input_new ("print(sum(range(10)))", "python");
  g_autoptr (GBytes) content = g_bytes_new_static ("a,b\n1,2\n", 8);
  g_autoptr (AgentExecFile) file = agentexec_file_new ("data.csv", "text/csv", content);
  g_autoptr (AgentExecMockRequest) request = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonArray *parts;
  JsonObject *label, *blob;

  agentexec_execution_input_add_file (input, file);
  enqueue_file (fixture, 200, "success.json");
  result = agentexec_code_executor_execute_code (AGENTEXEC_CODE_EXECUTOR (fixture->executor), NULL,
                                                 input, NULL, &error);
  g_assert_no_error (error);
  request = agentexec_mock_server_get_request (fixture->server, 0);
  parts = json_object_get_array_member (
      json_array_get_object_element (
          json_object_get_array_member (request_json (request, parser), "contents"), 0),
      "parts");
  g_assert_cmpuint (json_array_get_length (parts), ==, 3);
  label = json_array_get_object_element (parts, 0);
  g_assert_nonnull (strstr (json_object_get_string_member (label, "text"), "data.csv"));
  blob = json_object_get_object_member (json_array_get_object_element (parts, 1), "inlineData");
  g_assert_cmpstr (json_object_get_string_member (blob, "mimeType"), ==, "text/csv");
  g_assert_cmpstr (json_object_get_string_member (blob, "data"), ==, "YSxiCjEsMgo=");
}

static void
test_max_output (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecExecutionResult) result = NULL;

  g_object_set (fixture->executor, "max-output-bytes", (guint64) 3, NULL);
  agentexec_mock_server_enqueue_simple (
      fixture->server, 200, "application/json",
      "{\"candidates\": [{\"content\": {\"parts\": [{\"executableCode\": {\"code\": \"x\"}},"
      " {\"codeExecutionResult\": {\"outcome\": \"OUTCOME_OK\", \"output\": "
      "\"ab\\u00e9cd\"}}]}}]}");
  result = run_code (fixture, "x", &error);
  g_assert_no_error (error);
  /* Cut at 3 bytes, but never inside a UTF-8 character. */
  g_assert_cmpstr (agentexec_execution_result_get_stdout (result), ==, "ab");
  g_assert_true (agentexec_execution_result_get_stdout_truncated (result));
  g_assert_false (agentexec_execution_result_get_stderr_truncated (result));
}

typedef struct
{
  GString *stdout_text;
  GString *stderr_text;
  guint n_chunks;
  gint64 first_chunk_us;
  GThread *thread;
} Collected;

static void
on_output (AgentExecCodeExecutor *executor,
           AgentExecExecutionInput *input,
           AgentExecStream stream,
           GBytes *chunk,
           gpointer user_data)
{
  Collected *collected = user_data;
  gsize len;
  const char *data = g_bytes_get_data (chunk, &len);

  if (collected->n_chunks++ == 0)
    collected->first_chunk_us = g_get_monotonic_time ();
  collected->thread = g_thread_self ();
  g_string_append_len (stream == AGENTEXEC_STREAM_STDOUT ? collected->stdout_text
                                                         : collected->stderr_text,
                       data, len);
}

static AgentExecMockResponse *
stream_response (guint pause_ms)
{
  AgentExecMockResponse *response = agentexec_mock_response_new (200, NULL, 0);

  agentexec_mock_response_add_header (response, "Content-Type", "text/event-stream");
  for (guint i = 1; i <= 5; i++)
    {
      g_autofree char *name = g_strdup_printf ("stream-%u.sse", i);
      g_autofree char *event = load_data (name);

      agentexec_mock_response_add_chunk (response, event, -1, i == 5 ? 3 * pause_ms : pause_ms);
    }
  return response;
}

static void
test_streaming (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecExecutionResult) result = NULL;
  Collected collected = { g_string_new (NULL), g_string_new (NULL), 0, 0, NULL };
  static const char code[] = "for i in range(3):\n    print(i)\n";
  gint64 end;
  gulong id;

  id = g_signal_connect (fixture->executor, "output", G_CALLBACK (on_output), &collected);
  agentexec_mock_server_enqueue (fixture->server, stream_response (100));
  result = run_code (fixture, code, &error);
  end = g_get_monotonic_time ();
  g_assert_no_error (error);
  g_assert_cmpint (agentexec_execution_result_get_outcome (result), ==, AGENTEXEC_OUTCOME_OK);
  g_assert_cmpstr (agentexec_execution_result_get_stdout (result), ==, "0\n1\n2\n");
  assert_gemini_request (fixture, 0, STREAM_PATH, code);
  /* Two pieces of output, delivered in the calling thread before the stream ended. */
  g_assert_cmpuint (collected.n_chunks, ==, 2);
  g_assert_cmpstr (collected.stdout_text->str, ==, "0\n1\n2\n");
  g_assert_cmpstr (collected.stderr_text->str, ==, "");
  g_assert_true (collected.thread == g_thread_self ());
  g_assert_cmpint (end - collected.first_chunk_us, >=, 250 * 1000);
  g_signal_handler_disconnect (fixture->executor, id);
  g_clear_object (&result);

  /* The streaming property streams without a handler, with the same result. */
  agentexec_built_in_executor_set_streaming (fixture->executor, TRUE);
  agentexec_mock_server_enqueue (fixture->server, stream_response (0));
  result = run_code (fixture, code, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (agentexec_execution_result_get_stdout (result), ==, "0\n1\n2\n");
  assert_gemini_request (fixture, 1, STREAM_PATH, code);
  g_clear_object (&result);

  /* A stream request answered with one JSON document (a proxy) is read as one. */
  enqueue_file (fixture, 200, "success.json");
  result = run_code (fixture, "print(sum(range(10)))", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (agentexec_execution_result_get_stdout (result), ==, "45\n");
  assert_gemini_request (fixture, 2, STREAM_PATH, "print(sum(range(10)))");
  g_string_free (collected.stdout_text, TRUE);
  g_string_free (collected.stderr_text, TRUE);
}

static void
test_streaming_errors (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecExecutionResult) result = NULL;
  g_autofree char *first = load_data ("stream-1.sse");
  AgentExecMockResponse *response;

  agentexec_built_in_executor_set_streaming (fixture->executor, TRUE);

  /* An error document in the stream. */
  response = agentexec_mock_response_new (200, first, -1);
  agentexec_mock_response_add_chunk (
      response,
      "data: {\"error\": {\"code\": 503, \"message\": \"The model is overloaded.\","
      " \"status\": \"UNAVAILABLE\"}}\n\n",
      -1, 0);
  agentexec_mock_server_enqueue (fixture->server, response);
  result = run_code (fixture, "print(1)", &error);
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_BACKEND_UNAVAILABLE);
  g_assert_nonnull (strstr (error->message, "The model is overloaded."));
  g_clear_error (&error);

  /* A stream cut before its end. */
  response = stream_response (0);
  agentexec_mock_response_set_truncate (response, 2);
  agentexec_mock_server_enqueue (fixture->server, response);
  result = run_code (fixture, "print(1)", &error);
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_BACKEND_UNAVAILABLE);
  g_clear_error (&error);

  /* A malformed event. */
  response = agentexec_mock_response_new (200, "data: {\"candidates\": [\n\n", -1);
  agentexec_mock_response_add_chunk (response, first, -1, 0);
  agentexec_mock_server_enqueue (fixture->server, response);
  result = run_code (fixture, "print(1)", &error);
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_PROTOCOL);
  g_clear_error (&error);

  /* A 429 answer to a stream request is read as JSON, not as events. */
  enqueue_file (fixture, 429, "error-429.json");
  result = run_code (fixture, "print(1)", &error);
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_BACKEND_UNAVAILABLE);
  g_assert_nonnull (strstr (error->message, "retry after 1 s"));
  g_clear_error (&error);

  /* A stream without any event. */
  response = agentexec_mock_response_new (200, ": keep-alive\n\n", -1);
  agentexec_mock_server_enqueue (fixture->server, response);
  result = run_code (fixture, "print(1)", &error);
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_PROTOCOL);
}

typedef struct
{
  AgentExecExecutionResult *result;
  GError *error;
  gboolean done;
} AsyncState;

static void
on_async_done (GObject *source, GAsyncResult *res, gpointer user_data)
{
  AsyncState *state = user_data;

  state->result = agentexec_code_executor_execute_code_finish (AGENTEXEC_CODE_EXECUTOR (source),
                                                               res, &state->error);
  state->done = TRUE;
}

static void
test_streaming_async (Fixture *fixture, gconstpointer data)
{
  g_autoptr (AgentExecExecutionInput) input =
      agentexec_execution_input_new ("for i in range(3):\n    print(i)\n", "python");
  Collected collected = { g_string_new (NULL), g_string_new (NULL), 0, 0, NULL };
  AsyncState state = { NULL, NULL, FALSE };

  g_signal_connect (fixture->executor, "output", G_CALLBACK (on_output), &collected);
  agentexec_mock_server_enqueue (fixture->server, stream_response (50));
  agentexec_code_executor_execute_code_async (AGENTEXEC_CODE_EXECUTOR (fixture->executor), NULL,
                                              input, NULL, on_async_done, &state);
  while (!state.done)
    g_main_context_iteration (NULL, TRUE);
  g_assert_no_error (state.error);
  g_assert_cmpstr (agentexec_execution_result_get_stdout (state.result), ==, "0\n1\n2\n");
  /* Emitted in this (the caller's) thread, through its main context. */
  g_assert_cmpstr (collected.stdout_text->str, ==, "0\n1\n2\n");
  g_assert_true (collected.thread == g_thread_self ());
  g_clear_object (&state.result);
  g_string_free (collected.stdout_text, TRUE);
  g_string_free (collected.stderr_text, TRUE);
}

static void
test_key_never_in_messages (Fixture *fixture, gconstpointer data)
{
  g_autofree char *echo = g_strdup_printf (
      "{\"error\": {\"code\": %%d, \"message\": \"API key %s is not valid for %s\","
      " \"status\": \"X\"}}",
      TEST_KEY, TEST_KEY);
  static const guint statuses[] = { 400, 403, 404, 429, 500 };

  g_log_set_debug_enabled (TRUE);
  g_mutex_lock (&log_mutex);
  g_string_truncate (log_text, 0);
  g_mutex_unlock (&log_mutex);
  g_object_set (fixture->executor, "max-retries", 1, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (statuses); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (AgentExecExecutionResult) result = NULL;
      g_autofree char *body = g_strdup_printf (echo, statuses[i]);

      /* 429 and 500 are retried once (max-retries 1): they answer twice. */
      for (guint n = 0; n < (statuses[i] >= 429 ? 2 : 1); n++)
        agentexec_mock_server_enqueue_simple (fixture->server, statuses[i], "application/json",
                                              body);
      result = run_code (fixture, "print(1)", &error);
      g_assert_nonnull (error);
      g_test_message ("%u: %s", statuses[i], error->message);
      g_assert_null (strstr (error->message, TEST_KEY));
      g_assert_nonnull (strstr (error->message, "[redacted]"));
    }
  g_log_set_debug_enabled (FALSE);
  g_mutex_lock (&log_mutex);
  /* The retries were logged (with the message), never with the key. */
  g_assert_nonnull (strstr (log_text->str, "retrying"));
  g_assert_null (strstr (log_text->str, TEST_KEY));
  g_mutex_unlock (&log_mutex);
}

static void
test_retry_after_parsing (void)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr (GDateTime) later = g_date_time_add_seconds (now, 120);
  g_autofree char *http_date = g_date_time_format (later, "%a, %d %b %Y %H:%M:%S GMT");
  g_autofree char *long_page = g_strnfill (5000, 'x');
  static const char body[] = "{\"error\": {\"code\": 503, \"message\": \"overloaded\","
                             " \"status\": \"UNAVAILABLE\"}}";
  GError *error;
  guint wait_ms = 7;

  error = _agentexec_gemini_http_error (503, body, strlen (body), "m", "3", &wait_ms);
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_BACKEND_UNAVAILABLE);
  g_assert_cmpuint (wait_ms, ==, 3000);
  g_assert_nonnull (strstr (error->message, "(HTTP 503 UNAVAILABLE): overloaded"));
  g_clear_error (&error);

  /* An HTTP date: the time left until then. */
  error = _agentexec_gemini_http_error (503, body, strlen (body), "m", http_date, &wait_ms);
  g_assert_cmpuint (wait_ms, >=, 110 * 1000);
  g_assert_cmpuint (wait_ms, <=, 120 * 1000);
  g_clear_error (&error);

  /* Past dates, garbage and errors that are not retried: no wait. */
  error = _agentexec_gemini_http_error (503, body, strlen (body), "m",
                                        "Thu, 01 Jan 1998 00:00:00 GMT", &wait_ms);
  g_assert_cmpuint (wait_ms, ==, 0);
  g_clear_error (&error);
  error = _agentexec_gemini_http_error (503, body, strlen (body), "m", "soon", &wait_ms);
  g_assert_cmpuint (wait_ms, ==, 0);
  g_clear_error (&error);
  error = _agentexec_gemini_http_error (400, body, strlen (body), "m", "30", &wait_ms);
  g_assert_cmpuint (wait_ms, ==, 0);
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_INVALID_INPUT);
  g_clear_error (&error);

  /* Not JSON (a proxy's page): its text, shortened. */
  error = _agentexec_gemini_http_error (502, long_page, 5000, "m", NULL, &wait_ms);
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_BACKEND_UNAVAILABLE);
  g_assert_nonnull (strstr (error->message, "(HTTP 502): xxx"));
  g_assert_cmpuint (strlen (error->message), <, 700);
  g_clear_error (&error);
  error = _agentexec_gemini_http_error (500, NULL, 0, "m", NULL, NULL);
  g_assert_nonnull (strstr (error->message, "no message"));
  g_clear_error (&error);
}

static AgentExecMockResponse *
success_handler (AgentExecMockServer *server,
                 const AgentExecMockRequest *request,
                 gpointer user_data)
{
  AgentExecMockResponse *response = json_response (200, "success.json");

  agentexec_mock_response_set_delay_ms (response, 50);
  return response;
}

static void
count_done (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecExecutionResult) result = NULL;
  guint *n_done = user_data;

  result =
      agentexec_code_executor_execute_code_finish (AGENTEXEC_CODE_EXECUTOR (source), res, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (agentexec_execution_result_get_stdout (result), ==, "45\n");
  (*n_done)++;
}

/* One executor, many calls at once (each in a worker thread of its own). */
static void
test_concurrent (Fixture *fixture, gconstpointer data)
{
  g_autoptr (AgentExecExecutionInput) input =
      agentexec_execution_input_new ("print(sum(range(10)))", "python");
  guint n_done = 0;

  agentexec_mock_server_set_handler (fixture->server, success_handler, NULL, NULL);
  for (guint i = 0; i < 8; i++)
    agentexec_code_executor_execute_code_async (AGENTEXEC_CODE_EXECUTOR (fixture->executor), NULL,
                                                input, NULL, count_done, &n_done);
  while (n_done < 8)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (agentexec_mock_server_get_n_requests (fixture->server), ==, 8);
  for (guint i = 0; i < 8; i++)
    assert_gemini_request (fixture, i, MODEL_PATH, "print(sum(range(10)))");
}

/* Chunks of one answer merge: split text, code and output continue the
 * previous part; the result of the code that was sent is picked. */
static void
test_reply_merging (void)
{
  g_autoptr (AgentExecGeminiReply) reply = _agentexec_gemini_reply_new (NULL, NULL);
  g_autoptr (AgentExecExecutionResult) result = NULL;
  g_autoptr (GError) error = NULL;
  static const char *const chunks[] = {
    "{\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"Run\"}]}}]}",
    "{\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"ning\"},"
    " {\"executableCode\": {\"language\": \"PYTHON\", \"code\": \"a = 1\\n\"}}]}}]}",
    "{\"candidates\": [{\"content\": {\"parts\": ["
    " {\"executable_code\": {\"code\": \"print(a)\"}}]}}]}",
    "{\"candidates\": [{\"content\": {\"parts\": [{\"thought\": true, \"text\": \"hmm\"},"
    " {\"code_execution_result\": {\"outcome\": \"OUTCOME_OK\", \"output\": \"1\"}}]}}]}",
    "[{\"candidates\": [{\"content\": {\"parts\": ["
    " {\"codeExecutionResult\": {\"output\": \"\\n\"}}]},"
    "  \"finishReason\": \"STOP\"}]}]",
  };

  for (guint i = 0; i < G_N_ELEMENTS (chunks); i++)
    {
      g_assert_true (
          _agentexec_gemini_reply_add_json (reply, chunks[i], strlen (chunks[i]), "m", &error));
      g_assert_no_error (error);
    }
  result = _agentexec_gemini_reply_to_result (reply, "a = 1\nprint(a)\n", 1024, &error);
  g_assert_no_error (error);
  g_assert_cmpint (agentexec_execution_result_get_outcome (result), ==, AGENTEXEC_OUTCOME_OK);
  g_assert_cmpstr (agentexec_execution_result_get_stdout (result), ==, "1\n");
}

static gboolean
count_event (const char *data, gsize len, gpointer user_data, GError **error)
{
  g_ptr_array_add (user_data, g_strndup (data, len));
  return TRUE;
}

static void
test_sse_parser (void)
{
  g_autoptr (GPtrArray) events = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (AgentExecSseParser) parser = _agentexec_sse_parser_new (count_event, events);
  static const char stream[] = ": comment\r\n"
                               "event: message\r\n"
                               "data: one\r\n\r\n"
                               "data:two\n"
                               "data:  three\n\n"
                               "id: 7\rdata: four\r\r"
                               "datax: ignored\n\n"
                               "data: last";
  g_autoptr (GError) error = NULL;

  /* Byte by byte: events do not depend on how the stream is cut. */
  for (gsize i = 0; i < strlen (stream); i++)
    g_assert_true (_agentexec_sse_parser_feed (parser, stream + i, 1, &error));
  g_assert_cmpuint (events->len, ==, 3);
  g_assert_true (_agentexec_sse_parser_finish (parser, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (events->len, ==, 4);
  g_assert_cmpstr (g_ptr_array_index (events, 0), ==, "one");
  g_assert_cmpstr (g_ptr_array_index (events, 1), ==, "two\n three");
  g_assert_cmpstr (g_ptr_array_index (events, 2), ==, "four");
  g_assert_cmpstr (g_ptr_array_index (events, 3), ==, "last");
  g_assert_cmpuint (_agentexec_sse_parser_get_n_events (parser), ==, 4);
}

static void
test_live (void)
{
  g_autoptr (AgentExecBuiltInExecutor) executor = NULL;
  g_autoptr (AgentExecExecutionInput) input = NULL;
  g_autoptr (AgentExecExecutionResult) result = NULL;
  g_autoptr (GError) error = NULL;
  const char *key = g_getenv ("AGENTEXEC_TEST_GEMINI_API_KEY");

  if (key == NULL || *key == '\0')
    {
      g_test_skip ("set GEMINI_API_KEY (or GOOGLE_API_KEY) to run against the real service");
      return;
    }
  executor = g_object_new (AGENTEXEC_TYPE_BUILT_IN_EXECUTOR, "api-key", key, "max-retries", 2,
                           "retry-delay-ms", 2000, NULL);
  if (g_getenv ("AGENTEXEC_TEST_GEMINI_MODEL") != NULL)
    agentexec_built_in_executor_set_model (executor, g_getenv ("AGENTEXEC_TEST_GEMINI_MODEL"));
  input = agentexec_execution_input_new ("print(sum(i * i for i in range(100)))", "python");
  result = agentexec_code_executor_execute_code (AGENTEXEC_CODE_EXECUTOR (executor), NULL, input,
                                                 NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (agentexec_execution_result_get_outcome (result), ==, AGENTEXEC_OUTCOME_OK);
  g_assert_nonnull (strstr (agentexec_execution_result_get_stdout (result), "328350"));
}

#define ADD(path, func)                                                                            \
  g_test_add ("/agentexec/backend/builtin/" path, Fixture, NULL, fixture_setup, func,              \
              fixture_teardown)

int
main (int argc, char *argv[])
{
  const char *live_key = g_getenv ("GEMINI_API_KEY");

  /* The live test keeps the caller's key; the other tests set their own. */
  if (live_key == NULL || *live_key == '\0')
    live_key = g_getenv ("GOOGLE_API_KEY");
  if (live_key != NULL && *live_key != '\0')
    g_setenv ("AGENTEXEC_TEST_GEMINI_API_KEY", live_key, TRUE);
  g_unsetenv ("GEMINI_API_KEY");
  g_unsetenv ("GOOGLE_API_KEY");

  log_text = g_string_new (NULL);
  g_log_set_writer_func (capture_writer, NULL, NULL);
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  curl_global_init (CURL_GLOBAL_DEFAULT);

  g_test_add_func ("/agentexec/mock-server/basic", test_mock_basic);
  g_test_add_func ("/agentexec/mock-server/unix", test_mock_unix);
  g_test_add_func ("/agentexec/mock-server/chunked", test_mock_chunked);
  g_test_add_func ("/agentexec/mock-server/failures", test_mock_failures);
  g_test_add_func ("/agentexec/mock-server/keep-alive", test_mock_keep_alive);
  g_test_add_func ("/agentexec/mock-server/shutdown", test_mock_shutdown);

  g_test_add_func ("/agentexec/backend/builtin/sse-parser", test_sse_parser);
  g_test_add_func ("/agentexec/backend/builtin/model-support", test_model_support);
  g_test_add_func ("/agentexec/backend/builtin/retry-after", test_retry_after_parsing);
  g_test_add_func ("/agentexec/backend/builtin/reply-merging", test_reply_merging);
  g_test_add_func ("/agentexec/backend/builtin/properties", test_properties);
  g_test_add_func ("/agentexec/backend/builtin/api-key-sources", test_api_key_sources);
  g_test_add_func ("/agentexec/backend/builtin/process-llm-request/rest",
                   test_process_request_rest);
  g_test_add_func ("/agentexec/backend/builtin/process-llm-request/adk", test_process_request_adk);
  g_test_add_func ("/agentexec/backend/builtin/process-llm-request/existing",
                   test_process_request_existing);
  g_test_add_func ("/agentexec/backend/builtin/process-llm-request/unsupported",
                   test_process_request_unsupported);
  g_test_add_func ("/agentexec/backend/builtin/process-llm-request/malformed",
                   test_process_request_malformed);

  ADD ("execute/success", test_success);
  ADD ("execute/model-path", test_model_path);
  ADD ("execute/env-key", test_env_key_sent);
  ADD ("execute/no-key", test_no_key);
  ADD ("execute/failure", test_failure);
  ADD ("execute/deadline", test_deadline);
  ADD ("execute/image", test_image);
  ADD ("execute/multiple", test_multiple);
  ADD ("execute/input-files", test_input_files);
  ADD ("execute/max-output", test_max_output);
  ADD ("execute/unsupported-input", test_unsupported_input);
  ADD ("errors/reply", test_reply_errors);
  ADD ("errors/http", test_http_errors);
  ADD ("errors/not-retried", test_not_retried_with_retries);
  ADD ("errors/permission-denied-not-retried", test_permission_denied_not_retried);
  ADD ("errors/429-retry-after", test_retry_429);
  ADD ("errors/429-no-retry", test_429_without_retries);
  ADD ("errors/500-retry", test_retry_500);
  ADD ("errors/malformed", test_malformed);
  ADD ("errors/truncated", test_truncated);
  ADD ("errors/dropped-refused", test_dropped_and_refused);
  ADD ("errors/timeout", test_timeout);
  ADD ("errors/cancel", test_cancel);
  ADD ("errors/key-never-in-messages", test_key_never_in_messages);
  ADD ("execute/concurrent", test_concurrent);
  ADD ("stream/sync", test_streaming);
  ADD ("stream/errors", test_streaming_errors);
  ADD ("stream/async", test_streaming_async);
  g_test_add_func ("/agentexec/backend/builtin/live", test_live);

  return g_test_run ();
}
