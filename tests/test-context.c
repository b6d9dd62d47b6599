/* test-context.c: ExecutorContext (ADK session state) and the shared retry policy
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include "libagentexec.h"
#include "agentexec-base-executor-private.h"
#include "agentexec-executor-context-private.h"
#include "agentexec-execution-result-private.h"

#define ADK_INVOCATION "e-7f3a21c0"

static JsonNode *
parse (const char *json)
{
  g_autoptr (GError) error = NULL;
  JsonNode *node = json_from_string (json, &error);

  g_assert_no_error (error);
  g_assert_nonnull (node);
  return node;
}

static char *
load_adk_state (void)
{
  g_autofree char *path =
      g_test_build_filename (G_TEST_DIST, "data", "context", "adk-state.json", NULL);
  g_autoptr (GError) error = NULL;
  char *contents = NULL;

  g_file_get_contents (path, &contents, NULL, &error);
  g_assert_no_error (error);
  return contents;
}

static JsonObject *
state_member (AgentExecExecutorContext *context, const char *key)
{
  JsonObject *state = agentexec_executor_context_get_session_state (context);

  g_assert_true (json_object_has_member (state, key));
  return json_object_get_object_member (state, key);
}

/* A fresh context creates `_code_execution_context` as ADK's setdefault does. */
static void
test_state_new (void)
{
  g_autoptr (AgentExecExecutorContext) context = agentexec_executor_context_new (NULL);
  g_autofree char *json = agentexec_executor_context_to_json (context);
  g_auto (GStrv) names = agentexec_executor_context_get_processed_file_names (context);
  g_autoptr (GPtrArray) files = agentexec_executor_context_get_input_files (context);
  g_autoptr (JsonArray) history = NULL;

  g_assert_cmpstr (json, ==, "{\"_code_execution_context\":{}}");
  g_assert_null (agentexec_executor_context_get_execution_id (context));
  g_assert_cmpuint (g_strv_length (names), ==, 0);
  g_assert_cmpuint (files->len, ==, 0);
  g_assert_cmpuint (agentexec_executor_context_get_error_count (context, "inv"), ==, 0);
  history = agentexec_executor_context_get_code_execution_results (context, "inv");
  g_assert_cmpuint (json_array_get_length (history), ==, 0);
}

/* A state document as ADK writes it is read field by field. */
static void
test_state_adk_read (void)
{
  g_autofree char *json = load_adk_state ();
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecExecutorContext) context =
      agentexec_executor_context_new_from_json (json, &error);
  g_autofree char *id = NULL;
  g_auto (GStrv) names = NULL;
  g_autoptr (GPtrArray) files = NULL;
  g_autoptr (JsonArray) history = NULL;
  JsonObject *entry;
  AgentExecFile *file;
  const char *data;
  gsize len;

  g_assert_no_error (error);
  id = agentexec_executor_context_get_execution_id (context);
  g_assert_cmpstr (id, ==, "8c3a0f5e-6b1d-4c2e-9f0a-1d2e3f4a5b6c");
  names = agentexec_executor_context_get_processed_file_names (context);
  g_assert_cmpstrv (names, ((const char *[]){ "data_1_1.csv", NULL }));

  files = agentexec_executor_context_get_input_files (context);
  g_assert_cmpuint (files->len, ==, 1);
  file = g_ptr_array_index (files, 0);
  g_assert_cmpstr (agentexec_file_get_name (file), ==, "data_1_1.csv");
  g_assert_cmpstr (agentexec_file_get_mime_type (file), ==, "text/csv");
  data = g_bytes_get_data (agentexec_file_get_content (file), &len);
  g_assert_cmpmem (data, len, "city,temp\nOslo,3\nLima,19\n", 25);

  g_assert_cmpuint (agentexec_executor_context_get_error_count (context, ADK_INVOCATION), ==, 1);
  g_assert_cmpuint (agentexec_executor_context_get_error_count (context, "other"), ==, 0);

  history = agentexec_executor_context_get_code_execution_results (context, ADK_INVOCATION);
  g_assert_cmpuint (json_array_get_length (history), ==, 2);
  entry = json_array_get_object_element (history, 1);
  g_assert_cmpstr (json_object_get_string_member (entry, "code"), ==, "print(df.temp.mean())");
  g_assert_cmpstr (json_object_get_string_member (entry, "result_stdout"), ==, "");
  g_assert_cmpstr (json_object_get_string_member (entry, "result_stderr"), ==,
                   "NameError: name 'df' is not defined\n");
  g_assert_cmpint (json_object_get_int_member (entry, "timestamp"), ==, 1732231034);
}

/* Reading and writing back an ADK document keeps it exactly, foreign keys too. */
static void
test_state_adk_round_trip (void)
{
  g_autofree char *json = load_adk_state ();
  g_autoptr (AgentExecExecutorContext) context =
      agentexec_executor_context_new_from_json (json, NULL);
  g_autofree char *written = agentexec_executor_context_to_json (context);
  g_autoptr (JsonNode) before = parse (json);
  g_autoptr (JsonNode) after = parse (written);

  g_assert_true (json_node_equal (before, after));
}

/* What this library writes has ADK's exact keys and value shapes, so ADK's
 * CodeExecutorContext (File(**file), dict lookups) can read it. */
static void
test_state_written_shape (void)
{
  g_autoptr (AgentExecExecutorContext) context = agentexec_executor_context_new (NULL);
  g_autoptr (GPtrArray) files = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GBytes) content = g_bytes_new_static ("a,b\n1,2\n", 8);
  g_autoptr (JsonNode) expected = NULL;
  g_autoptr (JsonNode) actual = NULL;
  g_autofree char *json = NULL;
  JsonObject *results, *entry;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  agentexec_executor_context_set_execution_id (context, "session-1");
  agentexec_executor_context_add_processed_file_names (context,
                                                       (const char *[]){ "data_1_1.csv", NULL });
  g_ptr_array_add (files, agentexec_file_new ("data_1_1.csv", "text/csv", content));
  agentexec_executor_context_add_input_files (context, files);
  agentexec_executor_context_increment_error_count (context, "inv");
  agentexec_executor_context_increment_error_count (context, "inv");
  agentexec_executor_context_update_code_execution_result (context, "inv", "print(2)", "2\n", "");

  /* The timestamp is Unix seconds, an integer as int(datetime.now().timestamp()). */
  results = state_member (context, "_code_execution_results");
  entry = json_array_get_object_element (json_object_get_array_member (results, "inv"), 0);
  g_assert_cmpint (json_node_get_value_type (json_object_get_member (entry, "timestamp")), ==,
                   G_TYPE_INT64);
  g_assert_cmpint (ABS (json_object_get_int_member (entry, "timestamp") - now), <=, 2);
  json_object_set_int_member (entry, "timestamp", 1700000000);

  json = agentexec_executor_context_to_json (context);
  actual = parse (json);
  expected = parse ("{\"_code_execution_context\": {\"execution_session_id\": \"session-1\","
                    " \"processed_input_files\": [\"data_1_1.csv\"]},"
                    " \"_code_executor_input_files\": [{\"name\": \"data_1_1.csv\","
                    " \"content\": \"YSxiCjEsMgo=\", \"mime_type\": \"text/csv\"}],"
                    " \"_code_executor_error_counts\": {\"inv\": 2},"
                    " \"_code_execution_results\": {\"inv\": [{\"code\": \"print(2)\","
                    " \"result_stdout\": \"2\\n\", \"result_stderr\": \"\","
                    " \"timestamp\": 1700000000}]}}");
  g_assert_true (json_node_equal (expected, actual));
}

/* The state delta holds only `_code_execution_context`, deep-copied. */
static void
test_delta_shape (void)
{
  g_autofree char *json = load_adk_state ();
  g_autoptr (AgentExecExecutorContext) context =
      agentexec_executor_context_new_from_json (json, NULL);
  g_autoptr (JsonObject) delta = agentexec_executor_context_get_state_delta (context);
  g_autoptr (GList) members = json_object_get_members (delta);
  JsonObject *inner = json_object_get_object_member (delta, "_code_execution_context");
  JsonArray *names;

  g_assert_cmpuint (g_list_length (members), ==, 1);
  g_assert_cmpstr (members->data, ==, "_code_execution_context");
  g_assert_cmpstr (json_object_get_string_member (inner, "execution_session_id"), ==,
                   "8c3a0f5e-6b1d-4c2e-9f0a-1d2e3f4a5b6c");

  /* Later changes to the context do not show in the delta, nor the other way round. */
  agentexec_executor_context_add_processed_file_names (context,
                                                       (const char *[]){ "data_2_1.csv", NULL });
  agentexec_executor_context_set_execution_id (context, "changed");
  names = json_object_get_array_member (inner, "processed_input_files");
  g_assert_cmpuint (json_array_get_length (names), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (inner, "execution_session_id"), ==,
                   "8c3a0f5e-6b1d-4c2e-9f0a-1d2e3f4a5b6c");
  json_array_add_string_element (names, "from-delta.csv");
  {
    g_auto (GStrv) now = agentexec_executor_context_get_processed_file_names (context);

    g_assert_cmpstrv (now, ((const char *[]){ "data_1_1.csv", "data_2_1.csv", NULL }));
  }
}

/* Error counts: per invocation, incremented, removed on reset as ADK does. */
static void
test_error_counts (void)
{
  g_autoptr (AgentExecExecutorContext) context = agentexec_executor_context_new (NULL);
  JsonObject *counts;

  agentexec_executor_context_reset_error_count (context, "a");
  g_assert_false (json_object_has_member (agentexec_executor_context_get_session_state (context),
                                          "_code_executor_error_counts"));
  for (guint i = 1; i <= 3; i++)
    {
      agentexec_executor_context_increment_error_count (context, "a");
      g_assert_cmpuint (agentexec_executor_context_get_error_count (context, "a"), ==, i);
    }
  agentexec_executor_context_increment_error_count (context, "b");
  g_assert_cmpuint (agentexec_executor_context_get_error_count (context, "b"), ==, 1);

  agentexec_executor_context_reset_error_count (context, "a");
  g_assert_cmpuint (agentexec_executor_context_get_error_count (context, "a"), ==, 0);
  g_assert_cmpuint (agentexec_executor_context_get_error_count (context, "b"), ==, 1);
  counts = state_member (context, "_code_executor_error_counts");
  g_assert_false (json_object_has_member (counts, "a"));
  g_assert_cmpint (json_object_get_int_member (counts, "b"), ==, 1);
}

/* The results history appends per invocation; the getter returns a copy. */
static void
test_results_history (void)
{
  g_autoptr (AgentExecExecutorContext) context = agentexec_executor_context_new (NULL);
  g_autoptr (JsonArray) first = NULL;
  g_autoptr (JsonArray) second = NULL;
  JsonObject *entry;

  agentexec_executor_context_update_code_execution_result (context, "a", "x = 1", "", "");
  agentexec_executor_context_update_code_execution_result (context, "a", "print(x)", "1\n", NULL);
  agentexec_executor_context_update_code_execution_result (context, "b", "boom", "", "Error\n");

  first = agentexec_executor_context_get_code_execution_results (context, "a");
  g_assert_cmpuint (json_array_get_length (first), ==, 2);
  entry = json_array_get_object_element (first, 1);
  g_assert_cmpstr (json_object_get_string_member (entry, "code"), ==, "print(x)");
  g_assert_cmpstr (json_object_get_string_member (entry, "result_stdout"), ==, "1\n");
  g_assert_cmpstr (json_object_get_string_member (entry, "result_stderr"), ==, "");
  json_object_set_string_member (entry, "code", "tampered");

  second = agentexec_executor_context_get_code_execution_results (context, "a");
  entry = json_array_get_object_element (second, 1);
  g_assert_cmpstr (json_object_get_string_member (entry, "code"), ==, "print(x)");
  g_clear_pointer (&second, json_array_unref);
  second = agentexec_executor_context_get_code_execution_results (context, "b");
  g_assert_cmpuint (json_array_get_length (second), ==, 1);
}

/* clear_input_files empties the files and the processed names (ADK). */
static void
test_input_files_clear (void)
{
  g_autofree char *json = load_adk_state ();
  g_autoptr (AgentExecExecutorContext) context =
      agentexec_executor_context_new_from_json (json, NULL);
  g_autoptr (GPtrArray) files = NULL;
  g_auto (GStrv) names = NULL;

  agentexec_executor_context_clear_input_files (context);
  files = agentexec_executor_context_get_input_files (context);
  names = agentexec_executor_context_get_processed_file_names (context);
  g_assert_cmpuint (files->len, ==, 0);
  g_assert_cmpuint (g_strv_length (names), ==, 0);
  g_assert_cmpuint (
      json_array_get_length (json_object_get_array_member (
          agentexec_executor_context_get_session_state (context), "_code_executor_input_files")),
      ==, 0);
}

/* The context works on the caller's object: changes show there. */
static void
test_state_shared (void)
{
  g_autoptr (JsonObject) state = json_object_new ();
  g_autoptr (AgentExecExecutorContext) context = NULL;

  json_object_set_string_member (state, "app:theme", "dark");
  context = agentexec_executor_context_new (state);
  agentexec_executor_context_increment_error_count (context, "inv");
  g_assert_true (agentexec_executor_context_get_session_state (context) == state);
  g_assert_true (json_object_has_member (state, "_code_execution_context"));
  g_assert_cmpint (json_object_get_int_member (
                       json_object_get_object_member (state, "_code_executor_error_counts"), "inv"),
                   ==, 1);
  g_assert_cmpstr (json_object_get_string_member (state, "app:theme"), ==, "dark");
}

static void
test_state_invalid (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecExecutorContext) context = NULL;

  context = agentexec_executor_context_new_from_json ("{\"_code_execution_context\": ", &error);
  g_assert_null (context);
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_INVALID_INPUT);
  g_assert_nonnull (strstr (error->message, "not valid JSON"));
  g_clear_error (&error);

  context = agentexec_executor_context_new_from_json ("[1, 2]", &error);
  g_assert_null (context);
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_INVALID_INPUT);
  g_assert_nonnull (strstr (error->message, "must be a JSON object"));
}

/* Members of the wrong type (hand-edited state) read as empty, never crash. */
static void
test_state_wrong_types (void)
{
  const char *json = "{\"_code_execution_context\": {\"execution_session_id\": 7,"
                     " \"processed_input_files\": [\"a.csv\", 3, null]},"
                     " \"_code_executor_input_files\": [{\"content\": \"aGk=\"}, 5,"
                     " {\"name\": \"ok.txt\", \"content\": \"aGk=\","
                     " \"mime_type\": \"text/plain\"}],"
                     " \"_code_executor_error_counts\": {\"inv\": \"many\"},"
                     " \"_code_execution_results\": {\"inv\": 3}}";
  g_autoptr (AgentExecExecutorContext) context =
      agentexec_executor_context_new_from_json (json, NULL);
  g_autoptr (GPtrArray) files = agentexec_executor_context_get_input_files (context);
  g_auto (GStrv) names = agentexec_executor_context_get_processed_file_names (context);
  g_autoptr (JsonArray) history =
      agentexec_executor_context_get_code_execution_results (context, "inv");

  g_assert_null (agentexec_executor_context_get_execution_id (context));
  g_assert_cmpstrv (names, ((const char *[]){ "a.csv", NULL }));
  g_assert_cmpuint (files->len, ==, 1);
  g_assert_cmpstr (agentexec_file_get_name (g_ptr_array_index (files, 0)), ==, "ok.txt");
  g_assert_cmpuint (json_array_get_length (history), ==, 0);
  agentexec_executor_context_increment_error_count (context, "inv");
  g_assert_cmpuint (agentexec_executor_context_get_error_count (context, "inv"), ==, 1);
}

#define N_THREADS 8
#define N_INCREMENTS 500

static gpointer
hammer (gpointer data)
{
  AgentExecExecutorContext *context = data;

  for (guint i = 0; i < N_INCREMENTS; i++)
    {
      g_autofree char *json = NULL;
      g_autoptr (JsonObject) delta = NULL;

      agentexec_executor_context_increment_error_count (context, "shared");
      agentexec_executor_context_update_code_execution_result (context, "shared", "x", "", "");
      agentexec_executor_context_add_processed_file_names (context,
                                                           (const char *[]){ "f.csv", NULL });
      if (i % 50 == 0)
        {
          json = agentexec_executor_context_to_json (context);
          delta = agentexec_executor_context_get_state_delta (context);
        }
    }
  return NULL;
}

static void
test_threads (void)
{
  g_autoptr (AgentExecExecutorContext) context = agentexec_executor_context_new (NULL);
  g_autoptr (JsonArray) history = NULL;
  g_auto (GStrv) names = NULL;
  GThread *threads[N_THREADS];

  for (guint i = 0; i < N_THREADS; i++)
    threads[i] = g_thread_new ("hammer", hammer, context);
  for (guint i = 0; i < N_THREADS; i++)
    g_thread_join (threads[i]);

  g_assert_cmpuint (agentexec_executor_context_get_error_count (context, "shared"), ==,
                    N_THREADS * N_INCREMENTS);
  history = agentexec_executor_context_get_code_execution_results (context, "shared");
  g_assert_cmpuint (json_array_get_length (history), ==, N_THREADS * N_INCREMENTS);
  names = agentexec_executor_context_get_processed_file_names (context);
  g_assert_cmpuint (g_strv_length (names), ==, N_THREADS * N_INCREMENTS);
}

/* ------------------------------------------------------------------ */
/* Retries: a fake backend that fails a chosen number of times.        */

#define TEST_TYPE_FLAKY_EXECUTOR (test_flaky_executor_get_type ())
G_DECLARE_FINAL_TYPE (
    TestFlakyExecutor, test_flaky_executor, TEST, FLAKY_EXECUTOR, AgentExecBaseExecutor)

struct _TestFlakyExecutor
{
  AgentExecBaseExecutor parent_instance;
  guint failures; /* how many runs fail before one succeeds */
  GQuark domain;
  int code;
  gboolean code_error; /* succeed with a failing program instead */
  guint runs;
  guint retry_after_ms; /* the peer's Retry-After, 0: none */
};

G_DEFINE_FINAL_TYPE (TestFlakyExecutor, test_flaky_executor, AGENTEXEC_TYPE_BASE_EXECUTOR)

static AgentExecExecutionResult *
flaky_run (AgentExecBaseExecutor *base,
           AgentExecExecutorContext *context,
           AgentExecExecutionInput *input,
           const char *language,
           GCancellable *cancellable,
           GError **error)
{
  TestFlakyExecutor *self = TEST_FLAKY_EXECUTOR (base);
  guint run = g_atomic_int_add (&self->runs, 1) + 1;

  if (run <= self->failures)
    {
      if (self->retry_after_ms > 0)
        _agentexec_retry_after_hint (self->retry_after_ms);
      g_set_error (error, self->domain, self->code, "engine said no (run %u)", run);
      return NULL;
    }
  if (self->code_error)
    return agentexec_execution_result_new (AGENTEXEC_OUTCOME_FAILED, "", "Traceback: boom\n", 1,
                                           NULL);
  return agentexec_execution_result_new (AGENTEXEC_OUTCOME_OK, "fine\n", "", 0, NULL);
}

static void
test_flaky_executor_class_init (TestFlakyExecutorClass *klass)
{
  AGENTEXEC_BASE_EXECUTOR_CLASS (klass)->run = flaky_run;
}

static void
test_flaky_executor_init (TestFlakyExecutor *self)
{
  self->domain = AGENTEXEC_ERROR;
  self->code = AGENTEXEC_ERROR_BACKEND_UNAVAILABLE;
}

static TestFlakyExecutor *
flaky_new (guint failures, guint max_retries, guint delay_ms)
{
  TestFlakyExecutor *self = g_object_new (TEST_TYPE_FLAKY_EXECUTOR, "max-retries", max_retries,
                                          "retry-delay-ms", delay_ms, NULL);

  self->failures = failures;
  return self;
}

static AgentExecExecutionResult *
run_flaky (TestFlakyExecutor *flaky, GCancellable *cancellable, GError **error)
{
  g_autoptr (AgentExecExecutionInput) input =
      agentexec_execution_input_new ("print('x')", "python");

  return agentexec_code_executor_execute_code (AGENTEXEC_CODE_EXECUTOR (flaky), NULL, input,
                                               cancellable, error);
}

/* Transient failures are retried and the attempts end up in the result. */
static void
test_retries_recover (void)
{
  g_autoptr (TestFlakyExecutor) flaky = flaky_new (2, 3, 1);
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecExecutionResult) result = run_flaky (flaky, NULL, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (flaky->runs, ==, 3);
  g_assert_cmpuint (agentexec_execution_result_get_attempts (result), ==, 3);
  g_assert_cmpstr (agentexec_execution_result_get_stdout (result), ==, "fine\n");
  g_assert_cmpint (agentexec_execution_result_get_outcome (result), ==, AGENTEXEC_OUTCOME_OK);
}

/* A first-time success reports one attempt. */
static void
test_retries_first_success (void)
{
  g_autoptr (TestFlakyExecutor) flaky = flaky_new (0, 3, 1);
  g_autoptr (AgentExecExecutionResult) result = run_flaky (flaky, NULL, NULL);

  g_assert_cmpuint (agentexec_execution_result_get_attempts (result), ==, 1);
  g_assert_cmpuint (flaky->runs, ==, 1);
}

/* Exhausted retries: RETRIES_EXHAUSTED with the attempt count and last cause. */
static void
test_retries_exhausted (void)
{
  g_autoptr (TestFlakyExecutor) flaky = flaky_new (100, 2, 1);
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecExecutionResult) result = run_flaky (flaky, NULL, &error);

  g_assert_null (result);
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_RETRIES_EXHAUSTED);
  g_assert_cmpuint (flaky->runs, ==, 3);
  g_assert_nonnull (strstr (error->message, "3 attempts"));
  g_assert_nonnull (strstr (error->message, "max-retries is 2"));
  g_assert_nonnull (strstr (error->message, "engine said no (run 3)"));
}

/* max-retries 0 (the default): the first failure is reported as it is. */
static void
test_retries_default_none (void)
{
  g_autoptr (TestFlakyExecutor) flaky = g_object_new (TEST_TYPE_FLAKY_EXECUTOR, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecExecutionResult) result = NULL;

  g_assert_cmpuint (agentexec_base_executor_get_max_retries (AGENTEXEC_BASE_EXECUTOR (flaky)), ==,
                    0);
  flaky->failures = 5;
  result = run_flaky (flaky, NULL, &error);
  g_assert_null (result);
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_BACKEND_UNAVAILABLE);
  g_assert_cmpuint (flaky->runs, ==, 1);
}

/* Errors that are not infrastructure failures are never retried. */
static void
test_retries_not_transient (void)
{
  struct
  {
    GQuark domain;
    int code;
  } cases[] = {
    { AGENTEXEC_ERROR, AGENTEXEC_ERROR_INVALID_INPUT },
    { AGENTEXEC_ERROR, AGENTEXEC_ERROR_PROTOCOL },
    { AGENTEXEC_ERROR, AGENTEXEC_ERROR_TIMEOUT },
    { G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED },
    { G_IO_ERROR, G_IO_ERROR_CANCELLED },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (TestFlakyExecutor) flaky = flaky_new (5, 4, 1);
      g_autoptr (GError) error = NULL;
      g_autoptr (AgentExecExecutionResult) result = NULL;

      flaky->domain = cases[i].domain;
      flaky->code = cases[i].code;
      result = run_flaky (flaky, NULL, &error);
      g_assert_null (result);
      g_assert_error (error, cases[i].domain, cases[i].code);
      g_assert_cmpuint (flaky->runs, ==, 1);
    }
}

/* Connection-type GIOErrors count as transient. */
static void
test_retries_io_errors (void)
{
  int codes[] = { G_IO_ERROR_CONNECTION_REFUSED,  G_IO_ERROR_CONNECTION_CLOSED,
                  G_IO_ERROR_BROKEN_PIPE,         G_IO_ERROR_HOST_UNREACHABLE,
                  G_IO_ERROR_NETWORK_UNREACHABLE, G_IO_ERROR_BUSY };

  for (guint i = 0; i < G_N_ELEMENTS (codes); i++)
    {
      g_autoptr (TestFlakyExecutor) flaky = flaky_new (1, 1, 1);
      g_autoptr (AgentExecExecutionResult) result = NULL;

      flaky->domain = G_IO_ERROR;
      flaky->code = codes[i];
      result = run_flaky (flaky, NULL, NULL);
      g_assert_nonnull (result);
      g_assert_cmpuint (agentexec_execution_result_get_attempts (result), ==, 2);
    }
}

/* A code error is a result, not a failure: no retry. */
static void
test_retries_code_error (void)
{
  g_autoptr (TestFlakyExecutor) flaky = flaky_new (0, 5, 1);
  g_autoptr (AgentExecExecutionResult) result = NULL;

  flaky->code_error = TRUE;
  result = run_flaky (flaky, NULL, NULL);
  g_assert_nonnull (result);
  g_assert_cmpuint (flaky->runs, ==, 1);
  g_assert_cmpuint (agentexec_execution_result_get_attempts (result), ==, 1);
  g_assert_true (agentexec_execution_result_is_error (result));
}

static gboolean
cancel_later (gpointer data)
{
  g_cancellable_cancel (data);
  return G_SOURCE_REMOVE;
}

static gpointer
cancel_thread (gpointer data)
{
  g_usleep (100 * 1000);
  g_cancellable_cancel (data);
  return NULL;
}

/* Cancelling during the backoff sleep wakes the caller at once. */
static void
test_retries_cancel_backoff (void)
{
  g_autoptr (TestFlakyExecutor) flaky = flaky_new (100, 5, 20000);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecExecutionResult) result = NULL;
  GThread *thread = g_thread_new ("cancel", cancel_thread, cancellable);
  gint64 start = g_get_monotonic_time ();

  result = run_flaky (flaky, cancellable, &error);
  g_thread_join (thread);
  g_assert_null (result);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (flaky->runs, ==, 1);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * G_USEC_PER_SEC);
}

/* A cancellable cancelled before the call: no run at all. */
static void
test_retries_cancel_before (void)
{
  g_autoptr (TestFlakyExecutor) flaky = flaky_new (0, 5, 1);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecExecutionResult) result = NULL;

  g_cancellable_cancel (cancellable);
  result = run_flaky (flaky, cancellable, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (flaky->runs, ==, 0);
}

static void
got_result (GObject *source, GAsyncResult *res, gpointer data)
{
  GAsyncResult **out = data;

  *out = g_object_ref (res);
}

/* The async path retries the same way, and cancels from the main loop. */
static void
test_retries_async (void)
{
  g_autoptr (TestFlakyExecutor) flaky = flaky_new (2, 3, 1);
  g_autoptr (TestFlakyExecutor) slow = flaky_new (100, 5, 20000);
  g_autoptr (AgentExecExecutionInput) input = agentexec_execution_input_new ("1", "python");
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GAsyncResult) res2 = NULL;
  g_autoptr (AgentExecExecutionResult) result = NULL;
  g_autoptr (GError) error = NULL;

  agentexec_code_executor_execute_code_async (AGENTEXEC_CODE_EXECUTOR (flaky), NULL, input, NULL,
                                              got_result, &res);
  while (res == NULL)
    g_main_context_iteration (NULL, TRUE);
  result =
      agentexec_code_executor_execute_code_finish (AGENTEXEC_CODE_EXECUTOR (flaky), res, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (agentexec_execution_result_get_attempts (result), ==, 3);

  agentexec_code_executor_execute_code_async (AGENTEXEC_CODE_EXECUTOR (slow), NULL, input,
                                              cancellable, got_result, &res2);
  g_timeout_add (100, cancel_later, cancellable);
  while (res2 == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_null (
      agentexec_code_executor_execute_code_finish (AGENTEXEC_CODE_EXECUTOR (slow), res2, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (slow->runs, ==, 1);
}

typedef struct
{
  guint count;
  guint attempts[8];
  guint delays[8];
  GThread *thread;
  char *last_message;
} RetrySeen;

static void
on_retry (AgentExecBaseExecutor *executor,
          AgentExecExecutionInput *input,
          guint attempt,
          guint delay_ms,
          GError *error,
          gpointer data)
{
  RetrySeen *seen = data;

  g_assert_true (AGENTEXEC_IS_EXECUTION_INPUT (input));
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_BACKEND_UNAVAILABLE);
  if (seen->count < G_N_ELEMENTS (seen->attempts))
    {
      seen->attempts[seen->count] = attempt;
      seen->delays[seen->count] = delay_ms;
    }
  seen->count++;
  seen->thread = g_thread_self ();
  g_free (seen->last_message);
  seen->last_message = g_strdup (error->message);
}

/* ::retry tells about each failed attempt before the backoff wait. */
static void
test_retries_signal (void)
{
  g_autoptr (TestFlakyExecutor) flaky = flaky_new (2, 3, 20);
  g_autoptr (AgentExecExecutionResult) result = NULL;
  RetrySeen seen = { 0 };

  g_signal_connect (flaky, "retry", G_CALLBACK (on_retry), &seen);
  result = run_flaky (flaky, NULL, NULL);
  g_assert_nonnull (result);
  g_assert_cmpuint (seen.count, ==, 2);
  g_assert_cmpuint (seen.attempts[0], ==, 1);
  g_assert_cmpuint (seen.attempts[1], ==, 2);
  g_assert_cmpuint (seen.delays[0], >=, 15);
  g_assert_cmpuint (seen.delays[0], <=, 25);
  g_assert_cmpuint (seen.delays[1], >=, 30);
  g_assert_cmpuint (seen.delays[1], <=, 50);
  g_assert_cmpstr (seen.last_message, ==, "engine said no (run 2)");
  g_free (seen.last_message);
}

/* For an async run, ::retry arrives in the caller's main context. */
static void
test_retries_signal_async (void)
{
  g_autoptr (TestFlakyExecutor) flaky = flaky_new (3, 3, 1);
  g_autoptr (AgentExecExecutionInput) input = agentexec_execution_input_new ("1", "python");
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (AgentExecExecutionResult) result = NULL;
  RetrySeen seen = { 0 };

  g_signal_connect (flaky, "retry", G_CALLBACK (on_retry), &seen);
  agentexec_code_executor_execute_code_async (AGENTEXEC_CODE_EXECUTOR (flaky), NULL, input, NULL,
                                              got_result, &res);
  while (res == NULL)
    g_main_context_iteration (NULL, TRUE);
  result = agentexec_code_executor_execute_code_finish (AGENTEXEC_CODE_EXECUTOR (flaky), res, NULL);
  g_assert_cmpuint (agentexec_execution_result_get_attempts (result), ==, 4);
  g_assert_cmpuint (seen.count, ==, 3);
  g_assert_true (seen.thread == g_thread_self ());
  g_free (seen.last_message);
}

/* A Retry-After from the peer makes the wait at least that long. */
static void
test_retries_retry_after (void)
{
  g_autoptr (TestFlakyExecutor) flaky = flaky_new (1, 2, 1);
  g_autoptr (AgentExecExecutionResult) result = NULL;
  gint64 start = g_get_monotonic_time ();

  flaky->retry_after_ms = 200;
  result = run_flaky (flaky, NULL, NULL);
  g_assert_nonnull (result);
  g_assert_cmpuint (agentexec_execution_result_get_attempts (result), ==, 2);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 200 * 1000);
}

/* A Retry-After longer than a run should block is reported at once. */
static void
test_retries_retry_after_too_long (void)
{
  g_autoptr (TestFlakyExecutor) flaky = flaky_new (1, 2, 1);
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecExecutionResult) result = NULL;
  gint64 start = g_get_monotonic_time ();

  flaky->retry_after_ms = 10 * 60 * 1000;
  result = run_flaky (flaky, NULL, &error);
  g_assert_null (result);
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_BACKEND_UNAVAILABLE);
  g_assert_cmpuint (flaky->runs, ==, 1);
  g_assert_cmpint (g_get_monotonic_time () - start, <, G_USEC_PER_SEC);
}

/* Backoff doubles per attempt, with ±25 % jitter, never past 30 s. */
static void
test_retries_backoff (void)
{
  for (guint round = 0; round < 200; round++)
    {
      guint d1 = _agentexec_retry_delay_ms (100, 1);
      guint d3 = _agentexec_retry_delay_ms (100, 3);
      guint big = _agentexec_retry_delay_ms (10000, 12);

      g_assert_cmpuint (d1, >=, 75);
      g_assert_cmpuint (d1, <=, 125);
      g_assert_cmpuint (d3, >=, 300);
      g_assert_cmpuint (d3, <=, 500);
      g_assert_cmpuint (big, >=, 22500);
      g_assert_cmpuint (big, <=, 30000);
    }
  g_assert_cmpuint (_agentexec_retry_delay_ms (0, 5), ==, 0);
}

/* The sleep itself: full length without cancellation, short with it. */
static void
test_retries_sleep (void)
{
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GError) error = NULL;
  gint64 start = g_get_monotonic_time ();

  g_assert_true (_agentexec_sleep_ms (50, cancellable, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 50 * 1000);

  g_cancellable_cancel (cancellable);
  start = g_get_monotonic_time ();
  g_assert_false (_agentexec_sleep_ms (10000, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (g_get_monotonic_time () - start, <, G_USEC_PER_SEC);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/agentexec/context/state/new", test_state_new);
  g_test_add_func ("/agentexec/context/state/adk-read", test_state_adk_read);
  g_test_add_func ("/agentexec/context/state/adk-round-trip", test_state_adk_round_trip);
  g_test_add_func ("/agentexec/context/state/written-shape", test_state_written_shape);
  g_test_add_func ("/agentexec/context/state/shared", test_state_shared);
  g_test_add_func ("/agentexec/context/state/invalid", test_state_invalid);
  g_test_add_func ("/agentexec/context/state/wrong-types", test_state_wrong_types);
  g_test_add_func ("/agentexec/context/delta/shape", test_delta_shape);
  g_test_add_func ("/agentexec/context/error-counts", test_error_counts);
  g_test_add_func ("/agentexec/context/results-history", test_results_history);
  g_test_add_func ("/agentexec/context/input-files/clear", test_input_files_clear);
  g_test_add_func ("/agentexec/context/threads", test_threads);
  g_test_add_func ("/agentexec/context/retries/recover", test_retries_recover);
  g_test_add_func ("/agentexec/context/retries/first-success", test_retries_first_success);
  g_test_add_func ("/agentexec/context/retries/exhausted", test_retries_exhausted);
  g_test_add_func ("/agentexec/context/retries/default-none", test_retries_default_none);
  g_test_add_func ("/agentexec/context/retries/not-transient", test_retries_not_transient);
  g_test_add_func ("/agentexec/context/retries/io-errors", test_retries_io_errors);
  g_test_add_func ("/agentexec/context/retries/code-error", test_retries_code_error);
  g_test_add_func ("/agentexec/context/retries/cancel-backoff", test_retries_cancel_backoff);
  g_test_add_func ("/agentexec/context/retries/cancel-before", test_retries_cancel_before);
  g_test_add_func ("/agentexec/context/retries/async", test_retries_async);
  g_test_add_func ("/agentexec/context/retries/signal", test_retries_signal);
  g_test_add_func ("/agentexec/context/retries/signal-async", test_retries_signal_async);
  g_test_add_func ("/agentexec/context/retries/retry-after", test_retries_retry_after);
  g_test_add_func ("/agentexec/context/retries/retry-after-too-long",
                   test_retries_retry_after_too_long);
  g_test_add_func ("/agentexec/context/retries/backoff", test_retries_backoff);
  g_test_add_func ("/agentexec/context/retries/sleep", test_retries_sleep);

  return g_test_run ();
}
