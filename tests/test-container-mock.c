/* test-container-mock.c: the container backend's error paths against a mock
 * Engine API on a temporary unix socket (no Docker needed)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include <glib/gstdio.h>

#include "libagentexec.h"
#include "agentexec-uninitialised.h"
#include "agentexec-container-labels-private.h"
#include "agentexec-docker-archive-private.h"
#include "agentexec-docker-client-private.h"
#include "agentexec-docker-hijack-private.h"
#include "agentexec-mock-server.h"

#define ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* Stream frames */

typedef struct
{
  GString *out;
  GString *err;
} Demuxed;

static void
on_frame (AgentExecStream stream, const char *data, gsize len, gpointer user_data)
{
  Demuxed *d = user_data;

  g_string_append_len (stream == AGENTEXEC_STREAM_STDOUT ? d->out : d->err, data, len);
}

static void
append_frame (GString *buffer, guint8 type, const char *payload)
{
  guint32 len = (guint32) strlen (payload);
  guint8 header[8] = {
    type, 0, 0, 0, len >> 24, (len >> 16) & 0xff, (len >> 8) & 0xff, len & 0xff
  };

  g_string_append_len (buffer, (const char *) header, 8);
  g_string_append_len (buffer, payload, len);
}

static GString *
sample_frames (void)
{
  GString *frames = g_string_new (NULL);

  append_frame (frames, 1, "hello ");
  append_frame (frames, 2, "warning\n");
  append_frame (frames, 1, "");
  append_frame (frames, 1, "world\n");
  return frames;
}

static void
test_demux_any_split (void)
{
  g_autoptr (GString) frames = sample_frames ();

  /* Every way of cutting the stream in two gives the same result. */
  for (gsize cut = 0; cut <= frames->len; cut++)
    {
      Demuxed d = { g_string_new (NULL), g_string_new (NULL) };
      g_autoptr (AgentExecDockerDemux) demux = _agentexec_docker_demux_new (on_frame, &d);
      g_autoptr (GError) error = NULL;

      g_assert_true (_agentexec_docker_demux_feed (demux, frames->str, cut, &error));
      g_assert_true (
          _agentexec_docker_demux_feed (demux, frames->str + cut, frames->len - cut, &error));
      g_assert_true (_agentexec_docker_demux_finish (demux, &error));
      g_assert_no_error (error);
      g_assert_cmpstr (d.out->str, ==, "hello world\n");
      g_assert_cmpstr (d.err->str, ==, "warning\n");
      g_string_free (d.out, TRUE);
      g_string_free (d.err, TRUE);
    }
}

static void
test_demux_errors (void)
{
  g_autoptr (GString) frames = sample_frames ();
  Demuxed d = { g_string_new (NULL), g_string_new (NULL) };
  g_autoptr (GError) error = NULL;

  /* Cut inside a payload, then inside a header. */
  for (guint i = 0; i < 2; i++)
    {
      g_autoptr (AgentExecDockerDemux) demux = _agentexec_docker_demux_new (on_frame, &d);
      gsize len = i == 0 ? frames->len - 3 : 8 + 6 + 4;

      g_assert_true (_agentexec_docker_demux_feed (demux, frames->str, len, &error));
      g_assert_false (_agentexec_docker_demux_finish (demux, &error));
      g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_PROTOCOL);
      g_assert_nonnull (strstr (error->message, i == 0 ? "frame payload" : "frame header"));
      g_clear_error (&error);
    }
  /* A TTY stream (no frame headers) is refused rather than misread. */
  {
    g_autoptr (AgentExecDockerDemux) demux = _agentexec_docker_demux_new (on_frame, &d);

    g_assert_false (_agentexec_docker_demux_feed (demux, "plain text output", 17, &error));
    g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_PROTOCOL);
  }
  g_string_free (d.out, TRUE);
  g_string_free (d.err, TRUE);
}

static void
test_archive_round_trip (void)
{
  g_autoptr (GPtrArray) files = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GBytes) a = g_bytes_new_static ("alpha", 5);
  g_autoptr (GBytes) b = g_bytes_new_static ("\x89PNG\r\n\x1a\n....", 12);
  g_autoptr (GBytes) tar = NULL;
  g_autoptr (GPtrArray) back = NULL;
  g_autoptr (GError) error = NULL;

  g_ptr_array_add (files, agentexec_file_new ("workspace/a.txt", NULL, a));
  g_ptr_array_add (files, agentexec_file_new ("workspace/deep/dir/b", NULL, b));
  tar = _agentexec_docker_archive_pack (files, 1000, 1000, &error);
  g_assert_no_error (error);
  back = _agentexec_docker_archive_unpack (tar, TRUE, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (back->len, ==, 2);
  g_assert_cmpstr (agentexec_file_get_name (g_ptr_array_index (back, 0)), ==, "a.txt");
  g_assert_true (g_bytes_equal (agentexec_file_get_content (g_ptr_array_index (back, 0)), a));
  g_assert_cmpstr (agentexec_file_get_name (g_ptr_array_index (back, 1)), ==, "deep/dir/b");
  g_assert_cmpstr (agentexec_file_get_mime_type (g_ptr_array_index (back, 1)), ==, "image/png");

  /* Names that leave the directory are refused when packing. */
  g_ptr_array_add (files, agentexec_file_new ("../evil", NULL, a));
  g_clear_pointer (&tar, g_bytes_unref);
  tar = _agentexec_docker_archive_pack (files, 0, 0, &error);
  g_assert_null (tar);
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_INVALID_INPUT);
  g_clear_error (&error);

  /* Garbage is an error, not a crash. */
  {
    g_autoptr (GBytes) junk = g_bytes_new_static ("definitely not a tar archive", 28);
    g_autoptr (GPtrArray) none = _agentexec_docker_archive_unpack (junk, TRUE, &error);

    g_assert_null (none);
    g_assert_nonnull (error);
  }
}

/* A scripted engine */

typedef struct
{
  char *dir;
  char *socket;
  char *host;
  AgentExecMockServer *server;
  /* What the engine answers */
  const char *api_version;
  guint create_status;
  const char *create_body;
  guint create_delay_ms;
  GString *attach_body;
  const char *inspect_body;
  GBytes *archive;
} Engine;

static AgentExecMockResponse *
json_response (guint status, const char *body)
{
  AgentExecMockResponse *response = agentexec_mock_response_new (status, body, -1);

  agentexec_mock_response_add_header (response, "Content-Type", "application/json");
  return response;
}

static AgentExecMockResponse *
engine_answer (AgentExecMockServer *server, const AgentExecMockRequest *request, gpointer user_data)
{
  Engine *engine = user_data;
  const char *method = agentexec_mock_request_get_method (request);
  const char *path = agentexec_mock_request_get_path (request);
  AgentExecMockResponse *response;

  if (g_str_equal (path, "/_ping"))
    {
      response = agentexec_mock_response_new (200, "OK", -1);
      if (engine->api_version != NULL)
        agentexec_mock_response_add_header (response, "API-Version", engine->api_version);
      return response;
    }
  if (g_str_equal (path, "/version"))
    return json_response (200, "{\"ApiVersion\": \"1.40\", \"Version\": \"19.03\"}");
  if (strstr (path, "/images/") != NULL)
    return json_response (200, "{\"Id\": \"sha256:1\"}");
  if (g_str_has_suffix (path, "/containers/create"))
    {
      response = json_response (engine->create_status, engine->create_body);
      agentexec_mock_response_set_delay_ms (response, engine->create_delay_ms);
      return response;
    }
  if (strstr (path, "/containers/json") != NULL)
    return json_response (200, "[]");
  if (strstr (path, "/attach") != NULL)
    {
      g_autoptr (GString) raw =
          g_string_new ("HTTP/1.1 200 OK\r\n"
                        "Content-Type: application/vnd.docker.raw-stream\r\n\r\n");

      g_string_append_len (raw, engine->attach_body->str, engine->attach_body->len);
      return agentexec_mock_response_new_raw (raw->str, raw->len);
    }
  if (g_str_has_suffix (path, "/start") || g_str_has_suffix (path, "/kill") ||
      g_str_equal (method, "DELETE"))
    return agentexec_mock_response_new (204, NULL, 0);
  if (g_str_has_suffix (path, "/" ID "/json"))
    return json_response (200, engine->inspect_body);
  if (strstr (path, "/archive") != NULL && g_str_equal (method, "GET"))
    {
      gsize len;
      const char *data = g_bytes_get_data (engine->archive, &len);

      response = agentexec_mock_response_new (200, data, len);
      agentexec_mock_response_add_header (response, "Content-Type", "application/x-tar");
      return response;
    }
  if (strstr (path, "/archive") != NULL)
    return agentexec_mock_response_new (200, NULL, 0);
  return NULL;
}

static void
engine_setup (Engine *engine, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) files = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GBytes) out = g_bytes_new_static ("made", 4);

  engine->dir = g_dir_make_tmp ("agentexec-mock-engine-XXXXXX", &error);
  g_assert_no_error (error);
  engine->socket = g_build_filename (engine->dir, "docker.sock", NULL);
  engine->host = g_strconcat ("unix://", engine->socket, NULL);
  engine->server = agentexec_mock_server_new_unix (engine->socket, &error);
  g_assert_no_error (error);
  engine->api_version = "1.43";
  engine->create_status = 201;
  engine->create_body = "{\"Id\": \"" ID "\", \"Warnings\": []}";
  engine->attach_body = sample_frames ();
  engine->inspect_body = "{\"State\": {\"ExitCode\": 0, \"OOMKilled\": false}}";
  g_ptr_array_add (files, agentexec_file_new ("workspace/out.txt", NULL, out));
  engine->archive = _agentexec_docker_archive_pack (files, 1000, 1000, &error);
  g_assert_no_error (error);
  agentexec_mock_server_set_handler (engine->server, engine_answer, engine, NULL);
}

static void
engine_teardown (Engine *engine, gconstpointer data)
{
  g_clear_pointer (&engine->server, agentexec_mock_server_free);
  g_string_free (engine->attach_body, TRUE);
  g_bytes_unref (engine->archive);
  g_rmdir (engine->dir);
  g_free (engine->dir);
  g_free (engine->socket);
  g_free (engine->host);
}

static AgentExecContainerExecutor *
engine_executor (Engine *engine, GError **error)
{
  return AGENTEXEC_CONTAINER_EXECUTOR (
      g_initable_new (AGENTEXEC_TYPE_CONTAINER_EXECUTOR, NULL, error, "docker-host", engine->host,
                      "request-timeout-ms", 1000, "retry-delay-ms", 1, "pool-size", 0, NULL));
}

static AgentExecExecutionResult *
engine_run (AgentExecContainerExecutor *executor, GError **error)
{
  g_autoptr (AgentExecExecutionInput) input = agentexec_execution_input_new ("print(1)", "python");

  return agentexec_code_executor_execute_code (AGENTEXEC_CODE_EXECUTOR (executor), NULL, input,
                                               NULL, error);
}

static guint
count_requests (Engine *engine, const char *method, const char *suffix)
{
  guint n = 0;

  for (guint i = 0; i < agentexec_mock_server_get_n_requests (engine->server); i++)
    {
      g_autoptr (AgentExecMockRequest) request =
          agentexec_mock_server_get_request (engine->server, i);

      if (g_str_equal (agentexec_mock_request_get_method (request), method) &&
          strstr (agentexec_mock_request_get_path (request), suffix) != NULL)
        n++;
    }
  return n;
}

static JsonObject *
create_body (Engine *engine, JsonParser *parser)
{
  for (guint i = 0; i < agentexec_mock_server_get_n_requests (engine->server); i++)
    {
      g_autoptr (AgentExecMockRequest) request =
          agentexec_mock_server_get_request (engine->server, i);
      const char *body;
      gsize len;

      if (!g_str_has_suffix (agentexec_mock_request_get_path (request), "/containers/create"))
        continue;
      body = agentexec_mock_request_get_body (request, &len);
      g_assert_true (json_parser_load_from_data (parser, body, len, NULL));
      return json_node_get_object (json_parser_get_root (parser));
    }
  g_assert_not_reached ();
}

static void
test_happy_path (Engine *engine, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecContainerExecutor) executor = engine_executor (engine, &error);
  g_autoptr (AgentExecExecutionResult) result = NULL;
  g_autoptr (AgentExecMockRequest) first = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *body, *host_config, *labels;
  JsonArray *ulimits;

  g_assert_no_error (error);
  result = engine_run (executor, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (agentexec_execution_result_get_stdout (result), ==, "hello world\n");
  g_assert_cmpstr (agentexec_execution_result_get_stderr (result), ==, "warning\n");
  g_assert_cmpuint (agentexec_execution_result_get_output_files (result)->len, ==, 1);
  /* The engine speaks 1.43; we ask in the newest version we know. */
  first = agentexec_mock_server_get_request (engine->server, 1);
  g_assert_true (g_str_has_prefix (agentexec_mock_request_get_path (first), "/v1.41/"));
  g_assert_cmpuint (count_requests (engine, "POST", "/start"), ==, 1);
  /* Removal happens off the result's path; close() waits for it. */
  agentexec_code_executor_close (AGENTEXEC_CODE_EXECUTOR (executor));
  g_assert_cmpuint (count_requests (engine, "DELETE", "/containers/" ID), ==, 1);

  body = create_body (engine, parser);
  host_config = json_object_get_object_member (body, "HostConfig");
  g_assert_cmpstr (json_object_get_string_member (host_config, "NetworkMode"), ==, "none");
  g_assert_cmpstr (
      json_array_get_string_element (json_object_get_array_member (host_config, "CapDrop"), 0), ==,
      "ALL");
  g_assert_cmpstr (
      json_array_get_string_element (json_object_get_array_member (host_config, "SecurityOpt"), 0),
      ==, "no-new-privileges");
  g_assert_true (json_object_get_boolean_member (host_config, "ReadonlyRootfs"));
  g_assert_cmpint (json_object_get_int_member (host_config, "Memory"), ==, 512 * 1024 * 1024);
  g_assert_cmpint (json_object_get_int_member (host_config, "MemorySwap"), ==, 512 * 1024 * 1024);
  g_assert_cmpint (json_object_get_int_member (host_config, "NanoCpus"), ==, 1000000000);
  g_assert_cmpint (json_object_get_int_member (host_config, "PidsLimit"), ==, 256);
  ulimits = json_object_get_array_member (host_config, "Ulimits");
  g_assert_cmpuint (json_array_get_length (ulimits), ==, 2);
  g_assert_cmpstr (
      json_object_get_string_member (json_array_get_object_element (ulimits, 0), "Name"), ==,
      "nofile");
  g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (ulimits, 0), "Hard"),
                   <=, 20000);
  g_assert_cmpstr (
      json_object_get_string_member (json_array_get_object_element (ulimits, 1), "Name"), ==,
      "nproc");
  g_assert_cmpstr (json_object_get_string_member (body, "User"), ==, "1000:1000");
  labels = json_object_get_object_member (body, "Labels");
  g_assert_cmpstr (json_object_get_string_member (labels, AGENTEXEC_LABEL_MANAGED), ==, "1");
  g_assert_cmpstr (json_object_get_string_member (labels, AGENTEXEC_LABEL_OWNER), ==,
                   _agentexec_container_owner_label ());
  g_assert_true (json_object_has_member (labels, AGENTEXEC_LABEL_EXECUTOR));
}

static void
test_older_engine (Engine *engine, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecContainerExecutor) executor = NULL;
  g_autoptr (AgentExecMockRequest) request = NULL;

  /* No API-Version header: /version says 1.40, which is then used. */
  engine->api_version = NULL;
  executor = engine_executor (engine, &error);
  g_assert_no_error (error);
  request = agentexec_mock_server_get_request (engine->server, 2);
  g_assert_true (g_str_has_prefix (agentexec_mock_request_get_path (request), "/v1.40/"));
  g_clear_object (&executor);

  engine->api_version = "1.12";
  executor = engine_executor (engine, &error);
  g_assert_null (executor);
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_BACKEND_UNAVAILABLE);
  g_assert_nonnull (strstr (error->message, "“1.12”"));
}

static void
test_server_error (Engine *engine, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecContainerExecutor) executor = engine_executor (engine, &error);
  g_autoptr (AgentExecExecutionResult) result = NULL;

  g_assert_no_error (error);
  engine->create_status = 500;
  engine->create_body = "{\"message\": \"devmapper: thin pool is full\"}";
  /* A 5xx is an infrastructure failure: retried under max-retries. */
  g_object_set (executor, "max-retries", 2, NULL);
  result = engine_run (executor, &error);
  g_assert_null (result);
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_RETRIES_EXHAUSTED);
  g_assert_nonnull (strstr (error->message, "devmapper: thin pool is full"));
  g_assert_cmpuint (count_requests (engine, "POST", "/containers/create"), ==, 3);
  g_clear_error (&error);

  /* A 4xx is not: the daemon's message comes through at once. */
  engine->create_status = 400;
  engine->create_body = "{\"message\": \"invalid reference format\"}";
  result = engine_run (executor, &error);
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_INVALID_INPUT);
  g_assert_nonnull (strstr (error->message, "invalid reference format"));
  g_assert_nonnull (strstr (error->message, engine->host));
  g_assert_cmpuint (count_requests (engine, "POST", "/containers/create"), ==, 4);
}

/* 401/403: a dedicated error naming what to check, never retried. */
static void
test_permission_denied (Engine *engine, gconstpointer data)
{
  static const guint statuses[] = { 401, 403 };
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecContainerExecutor) executor = engine_executor (engine, &error);

  g_assert_no_error (error);
  g_object_set (executor, "max-retries", 3, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (statuses); i++)
    {
      g_autoptr (AgentExecExecutionResult) result = NULL;
      guint before = count_requests (engine, "POST", "/containers/create");

      engine->create_status = statuses[i];
      engine->create_body = "{\"message\": \"authorization denied by plugin opa: "
                            "request rejected\"}";
      result = engine_run (executor, &error);
      g_assert_null (result);
      g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_PERMISSION_DENIED);
      g_assert_nonnull (strstr (error->message, "authorization denied by plugin opa"));
      g_assert_nonnull (strstr (error->message, engine->host));
      g_assert_nonnull (strstr (error->message, "retrying will not help"));
      g_assert_cmpuint (count_requests (engine, "POST", "/containers/create"), ==, before + 1);
      g_clear_error (&error);
    }
}

static void
test_malformed_json (Engine *engine, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecContainerExecutor) executor = engine_executor (engine, &error);
  g_autoptr (AgentExecExecutionResult) result = NULL;

  g_assert_no_error (error);
  engine->create_body = "{\"Id\": \"abc\", ";
  result = engine_run (executor, &error);
  g_assert_null (result);
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_PROTOCOL);
  g_assert_nonnull (strstr (error->message, "malformed JSON"));
  g_clear_error (&error);

  engine->create_body = "[\"not\", \"an\", \"object\"]";
  result = engine_run (executor, &error);
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_PROTOCOL);
  g_clear_error (&error);

  engine->create_body = "{\"Id\": \"" ID "\"}";
  engine->inspect_body = "{\"State\": {}}";
  result = engine_run (executor, &error);
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_PROTOCOL);
  g_assert_nonnull (strstr (error->message, "ExitCode"));
  /* The container was removed all the same. */
  g_assert_cmpuint (count_requests (engine, "DELETE", "/containers/" ID), ==, 1);
}

static void
test_truncated_frames (Engine *engine, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecContainerExecutor) executor = engine_executor (engine, &error);
  g_autoptr (AgentExecExecutionResult) result = NULL;

  g_assert_no_error (error);
  g_string_truncate (engine->attach_body, engine->attach_body->len - 2);
  result = engine_run (executor, &error);
  g_assert_null (result);
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_PROTOCOL);
  g_assert_nonnull (strstr (error->message, "inside a frame"));
  g_assert_cmpuint (count_requests (engine, "DELETE", "/containers/" ID), ==, 1);
}

static void
test_slow_engine (Engine *engine, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecContainerExecutor) executor = engine_executor (engine, &error);
  g_autoptr (AgentExecExecutionResult) result = NULL;
  gint64 start;

  g_assert_no_error (error);
  engine->create_delay_ms = 5000;
  start = g_get_monotonic_time ();
  result = engine_run (executor, &error);
  g_assert_null (result);
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_TIMEOUT);
  g_assert_nonnull (strstr (error->message, "/containers/create"));
  /* request-timeout-ms is 1000 */
  g_assert_cmpint (g_get_monotonic_time () - start, <, 3 * G_USEC_PER_SEC);
}

static void
test_oom_and_exit (Engine *engine, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecContainerExecutor) executor = engine_executor (engine, &error);
  g_autoptr (AgentExecExecutionResult) oom = NULL;
  g_autoptr (AgentExecExecutionResult) failed = NULL;

  g_assert_no_error (error);
  engine->inspect_body = "{\"State\": {\"ExitCode\": 137, \"OOMKilled\": true}}";
  oom = engine_run (executor, &error);
  g_assert_no_error (error);
  g_assert_cmpint (agentexec_execution_result_get_outcome (oom), ==,
                   AGENTEXEC_OUTCOME_RESOURCE_EXHAUSTED);
  g_assert_cmpint (agentexec_execution_result_get_signal (oom), ==, 9);
  engine->inspect_body = "{\"State\": {\"ExitCode\": 2, \"OOMKilled\": false}}";
  failed = engine_run (executor, &error);
  g_assert_no_error (error);
  g_assert_cmpint (agentexec_execution_result_get_outcome (failed), ==, AGENTEXEC_OUTCOME_FAILED);
  g_assert_cmpint (agentexec_execution_result_get_exit_code (failed), ==, 2);
}

static void
test_output_cap_mock (Engine *engine, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecContainerExecutor) executor = engine_executor (engine, &error);
  g_autoptr (AgentExecExecutionResult) result = NULL;

  g_assert_no_error (error);
  g_object_set (executor, "max-output-bytes", (guint64) 8, NULL);
  result = engine_run (executor, &error);
  g_assert_no_error (error);
  g_assert_true (agentexec_execution_result_get_stdout_truncated (result));
  g_assert_false (agentexec_execution_result_get_stderr_truncated (result));
  g_assert_true (g_str_has_prefix (agentexec_execution_result_get_stdout (result),
                                   "hello wo\n[agentexec: stdout truncated: 4 of 12 bytes"));
  g_assert_cmpstr (agentexec_execution_result_get_stderr (result), ==, "warning\n");
}

static void
test_no_engine (void)
{
  g_autofree char *dir = g_dir_make_tmp ("agentexec-no-engine-XXXXXX", NULL);
  g_autofree char *host = g_strconcat ("unix://", dir, "/docker.sock", NULL);
  g_autoptr (GError) error = NULL;
  GObject *executor;

  executor =
      g_initable_new (AGENTEXEC_TYPE_CONTAINER_EXECUTOR, NULL, &error, "docker-host", host, NULL);
  g_assert_null (executor);
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_BACKEND_UNAVAILABLE);
  g_assert_nonnull (strstr (error->message, host));
  g_assert_nonnull (strstr (error->message, "scripts/start-dockerd.sh"));
  g_rmdir (dir);
}

static void
test_docker_host_env (void)
{
  g_autoptr (AgentExecDockerClient) unix_client = NULL;
  g_autoptr (AgentExecDockerClient) tcp_client = NULL;
  g_autoptr (GError) error = NULL;

  g_setenv ("DOCKER_HOST", "unix:///run/podman/podman.sock", TRUE);
  unix_client = _agentexec_docker_client_new (NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (_agentexec_docker_client_get_host (unix_client), ==,
                   "unix:///run/podman/podman.sock");
  g_setenv ("DOCKER_HOST", "tcp://10.0.0.1:2376", TRUE);
  g_setenv ("DOCKER_TLS_VERIFY", "1", TRUE);
  tcp_client = _agentexec_docker_client_new (NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (_agentexec_docker_client_get_host (tcp_client), ==, "tcp://10.0.0.1:2376");
  g_unsetenv ("DOCKER_HOST");
  g_unsetenv ("DOCKER_TLS_VERIFY");
  g_assert_null (_agentexec_docker_client_new ("http//nonsense", &error));
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_INVALID_INPUT);
}

static void
test_stateful_unsupported (Engine *engine, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecContainerExecutor) executor = engine_executor (engine, &error);
  g_autoptr (AgentExecExecutionInput) input = agentexec_execution_input_new ("1", "r");
  g_autoptr (AgentExecExecutionResult) result = NULL;

  g_assert_no_error (error);
  agentexec_base_executor_set_stateful (AGENTEXEC_BASE_EXECUTOR (executor), TRUE);
  result = agentexec_code_executor_execute_code (AGENTEXEC_CODE_EXECUTOR (executor), NULL, input,
                                                 NULL, &error);
  g_assert_null (result);
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_UNSUPPORTED_LANGUAGE);
  g_assert_nonnull (strstr (error->message, "Stateful container sessions"));
  g_assert_cmpuint (count_requests (engine, "POST", "/containers/create"), ==, 0);
}

static void
test_hijack (Engine *engine, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecDockerClient) client = _agentexec_docker_client_new (engine->host, &error);
  g_autoptr (AgentExecDockerHijack) conn = NULL;
  g_autoptr (AgentExecMockRequest) request = NULL;
  g_autoptr (GString) raw = g_string_new ("HTTP/1.1 101 UPGRADED\r\n"
                                          "Content-Type: application/vnd.docker.raw-stream\r\n"
                                          "Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n");
  AgentExecMockResponse *response;
  Demuxed d = { g_string_new (NULL), g_string_new (NULL) };
  AgentExecDockerWait wait;

  g_string_append_len (raw, engine->attach_body->str, engine->attach_body->len);
  response = agentexec_mock_response_new_raw (raw->str, raw->len);
  agentexec_mock_response_set_route (response, "POST", "/v1.41/containers/x/attach");
  agentexec_mock_server_enqueue (engine->server, response);
  conn = _agentexec_docker_client_hijack (client, "/containers/x/attach?stream=1&stdin=1", on_frame,
                                          &d, NULL, &error);
  g_assert_no_error (error);
  /* (The mock closes at once, so writing is left to the real-engine tests.) */
  do
    wait = _agentexec_docker_hijack_pump (conn, g_get_monotonic_time () + 5 * G_USEC_PER_SEC, NULL,
                                          &error);
  while (wait == AGENTEXEC_DOCKER_WAIT_DONE);
  /* The engine closed the stream after the output. */
  g_assert_cmpint (wait, ==, AGENTEXEC_DOCKER_WAIT_ERROR);
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_BACKEND_UNAVAILABLE);
  g_assert_cmpstr (d.out->str, ==, "hello world\n");
  g_assert_cmpstr (d.err->str, ==, "warning\n");
  request = agentexec_mock_server_get_request (engine->server, 0);
  g_assert_cmpstr (agentexec_mock_request_get_header (request, "Upgrade"), ==, "tcp");
  g_assert_cmpstr (agentexec_mock_request_get_path (request), ==,
                   "/v1.41/containers/x/attach?stream=1&stdin=1");
  g_clear_error (&error);
  g_clear_pointer (&conn, _agentexec_docker_hijack_free);

  /* A refusal carries the daemon's message. */
  response = json_response (404, "{\"message\": \"No such container: y\"}");
  agentexec_mock_response_set_route (response, "POST", "/v1.41/containers/y/attach");
  agentexec_mock_server_enqueue (engine->server, response);
  conn = _agentexec_docker_client_hijack (client, "/containers/y/attach?stream=1", on_frame, &d,
                                          NULL, &error);
  g_assert_null (conn);
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "No such container: y"));
  g_string_free (d.out, TRUE);
  g_string_free (d.err, TRUE);
}

#define ENGINE_TEST(path, func)                                                                    \
  g_test_add ("/agentexec/backend/container-mock/" path, Engine, NULL, engine_setup, func,         \
              engine_teardown)

/* g_object_new() skips init(), which connects to the engine: every run path
 * must refuse before it talks to any engine. */
static void
test_not_initialised (void)
{
  g_autoptr (AgentExecContainerExecutor) executor =
      g_object_new (AGENTEXEC_TYPE_CONTAINER_EXECUTOR, "docker-host", "unix:///nonexistent", NULL);

  agentexec_test_assert_refuses_uninitialised (AGENTEXEC_CODE_EXECUTOR (executor));
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/agentexec/backend/container-mock/demux-any-split", test_demux_any_split);
  g_test_add_func ("/agentexec/backend/container-mock/demux-errors", test_demux_errors);
  g_test_add_func ("/agentexec/backend/container-mock/archive", test_archive_round_trip);
  g_test_add_func ("/agentexec/backend/container-mock/no-engine", test_no_engine);
  g_test_add_func ("/agentexec/backend/container-mock/not-initialised", test_not_initialised);
  g_test_add_func ("/agentexec/backend/container-mock/docker-host-env", test_docker_host_env);
  ENGINE_TEST ("happy-path", test_happy_path);
  ENGINE_TEST ("older-engine", test_older_engine);
  ENGINE_TEST ("server-error", test_server_error);
  ENGINE_TEST ("permission-denied", test_permission_denied);
  ENGINE_TEST ("malformed-json", test_malformed_json);
  ENGINE_TEST ("truncated-frames", test_truncated_frames);
  ENGINE_TEST ("slow-engine", test_slow_engine);
  ENGINE_TEST ("oom-and-exit", test_oom_and_exit);
  ENGINE_TEST ("output-cap", test_output_cap_mock);
  ENGINE_TEST ("stateful-unsupported", test_stateful_unsupported);
  ENGINE_TEST ("hijack", test_hijack);

  return g_test_run ();
}
