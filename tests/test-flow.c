/* test-flow.c: genai helpers and the agent-loop flow, ADK behaviour by behaviour
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include <glib/gstdio.h>

#include "libagentexec.h"
#include "agentexec-execution-result-private.h"
#include "agentexec-sse-private.h"

/* ------------------------------------------------------------------ */
/* A fake executor. Its "code" is a tiny script, one command a line:   */
/*   print TEXT   → TEXT and a newline on stdout                       */
/*   error TEXT   → TEXT and a newline on stderr                       */
/*   exit N       → exit code N                                        */
/*   save NAME    → an output file NAME                                */
/* Other lines are ignored. Every run is recorded.                     */

#define TEST_TYPE_FAKE_EXECUTOR (test_fake_executor_get_type ())
G_DECLARE_FINAL_TYPE (
    TestFakeExecutor, test_fake_executor, TEST, FAKE_EXECUTOR, AgentExecBaseExecutor)

struct _TestFakeExecutor
{
  AgentExecBaseExecutor parent_instance;
  GPtrArray *runs;      /* AgentExecExecutionInput */
  gboolean unavailable; /* fail every run as an unreachable backend */
  guint llm_requests;
};

G_DEFINE_FINAL_TYPE (TestFakeExecutor, test_fake_executor, AGENTEXEC_TYPE_BASE_EXECUTOR)

static AgentExecExecutionResult *
fake_run (AgentExecBaseExecutor *base,
          AgentExecExecutorContext *context,
          AgentExecExecutionInput *input,
          const char *language,
          GCancellable *cancellable,
          GError **error)
{
  TestFakeExecutor *self = TEST_FAKE_EXECUTOR (base);
  g_auto (GStrv) lines = g_strsplit (agentexec_execution_input_get_code (input), "\n", -1);
  g_autoptr (GString) out = g_string_new (NULL);
  g_autoptr (GString) err = g_string_new (NULL);
  g_autoptr (GPtrArray) files = g_ptr_array_new_with_free_func (g_object_unref);
  int exit_code = 0;

  g_ptr_array_add (self->runs, g_object_ref (input));
  if (self->unavailable)
    {
      g_set_error_literal (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_BACKEND_UNAVAILABLE,
                           "fake engine is down");
      return NULL;
    }
  for (guint i = 0; lines[i] != NULL; i++)
    {
      if (g_str_has_prefix (lines[i], "print "))
        g_string_append_printf (out, "%s\n", lines[i] + 6);
      else if (g_str_has_prefix (lines[i], "error "))
        {
          g_string_append_printf (err, "%s\n", lines[i] + 6);
          exit_code = 1;
        }
      else if (g_str_has_prefix (lines[i], "exit "))
        exit_code = atoi (lines[i] + 5);
      else if (g_str_has_prefix (lines[i], "save "))
        {
          g_autoptr (GBytes) bytes = g_bytes_new_static ("data", 4);

          g_ptr_array_add (files, agentexec_file_new (lines[i] + 5, NULL, bytes));
        }
    }
  return agentexec_execution_result_new (AGENTEXEC_OUTCOME_OK, out->str, err->str, exit_code,
                                         files);
}

static gboolean
fake_process_llm_request (AgentExecBaseExecutor *base, JsonObject *request, GError **error)
{
  TestFakeExecutor *self = TEST_FAKE_EXECUTOR (base);
  JsonArray *tools = json_array_new ();

  self->llm_requests++;
  json_array_add_object_element (tools, json_object_new ());
  json_object_set_array_member (request, "tools", tools);
  return TRUE;
}

static void
test_fake_executor_finalize (GObject *object)
{
  g_clear_pointer (&TEST_FAKE_EXECUTOR (object)->runs, g_ptr_array_unref);

  G_OBJECT_CLASS (test_fake_executor_parent_class)->finalize (object);
}

static void
test_fake_executor_class_init (TestFakeExecutorClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = test_fake_executor_finalize;
  AGENTEXEC_BASE_EXECUTOR_CLASS (klass)->run = fake_run;
  AGENTEXEC_BASE_EXECUTOR_CLASS (klass)->process_llm_request = fake_process_llm_request;
}

static void
test_fake_executor_init (TestFakeExecutor *self)
{
  self->runs = g_ptr_array_new_with_free_func (g_object_unref);
}

static AgentExecExecutionInput *
last_run (TestFakeExecutor *fake)
{
  g_assert_cmpuint (fake->runs->len, >, 0);
  return g_ptr_array_index (fake->runs, fake->runs->len - 1);
}

/* A minimal executor that implements the interface alone (no properties). */
#define TEST_TYPE_PLAIN_EXECUTOR (test_plain_executor_get_type ())
G_DECLARE_FINAL_TYPE (TestPlainExecutor, test_plain_executor, TEST, PLAIN_EXECUTOR, GObject)

struct _TestPlainExecutor
{
  GObject parent_instance;
  guint runs;
};

static AgentExecExecutionResult *
plain_execute_code (AgentExecCodeExecutor *executor,
                    AgentExecExecutorContext *context,
                    AgentExecExecutionInput *input,
                    GCancellable *cancellable,
                    GError **error)
{
  TEST_PLAIN_EXECUTOR (executor)->runs++;
  return agentexec_execution_result_new (AGENTEXEC_OUTCOME_OK, "", "always fails\n", 1, NULL);
}

static void
plain_iface_init (AgentExecCodeExecutorInterface *iface)
{
  iface->execute_code = plain_execute_code;
}

G_DEFINE_FINAL_TYPE_WITH_CODE (TestPlainExecutor,
                               test_plain_executor,
                               G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (AGENTEXEC_TYPE_CODE_EXECUTOR,
                                                      plain_iface_init))

static void
test_plain_executor_class_init (TestPlainExecutorClass *klass)
{
}

static void
test_plain_executor_init (TestPlainExecutor *self)
{
}

/* Implements the interface alone, with properties named as the base
 * executor's: the flow must not look them up by name. */
#define TEST_TYPE_LOOKALIKE_EXECUTOR (test_lookalike_executor_get_type ())
G_DECLARE_FINAL_TYPE (
    TestLookalikeExecutor, test_lookalike_executor, TEST, LOOKALIKE_EXECUTOR, GObject)

struct _TestLookalikeExecutor
{
  GObject parent_instance;
  guint runs;
};

static AgentExecExecutionResult *lookalike_execute_code (AgentExecCodeExecutor *executor,
                                                         AgentExecExecutorContext *context,
                                                         AgentExecExecutionInput *input,
                                                         GCancellable *cancellable,
                                                         GError **error);

static void
lookalike_iface_init (AgentExecCodeExecutorInterface *iface)
{
  iface->execute_code = lookalike_execute_code;
}

G_DEFINE_FINAL_TYPE_WITH_CODE (TestLookalikeExecutor,
                               test_lookalike_executor,
                               G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (AGENTEXEC_TYPE_CODE_EXECUTOR,
                                                      lookalike_iface_init))

static AgentExecExecutionResult *
lookalike_execute_code (AgentExecCodeExecutor *executor,
                        AgentExecExecutorContext *context,
                        AgentExecExecutionInput *input,
                        GCancellable *cancellable,
                        GError **error)
{
  TEST_LOOKALIKE_EXECUTOR (executor)->runs++;
  return agentexec_execution_result_new (AGENTEXEC_OUTCOME_OK, "", "always fails\n", 1, NULL);
}

static void
lookalike_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  static const char *const odd[] = { "<c>", "</c>", NULL };

  switch (prop_id)
    {
    case 1:
    case 2:
    case 5:
      g_value_set_boolean (value, TRUE); /* stateful, optimize-data-file, builtin */
      break;
    case 3:
      g_value_set_uint (value, 0); /* error-retry-attempts */
      break;
    case 4:
      g_value_set_boxed (value, odd); /* code-block-delimiters */
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
test_lookalike_executor_class_init (TestLookalikeExecutorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;

  object_class->get_property = lookalike_get_property;
  g_object_class_install_property (object_class, 1,
                                   g_param_spec_boolean ("stateful", NULL, NULL, TRUE, flags));
  g_object_class_install_property (
      object_class, 2, g_param_spec_boolean ("optimize-data-file", NULL, NULL, TRUE, flags));
  g_object_class_install_property (
      object_class, 3, g_param_spec_uint ("error-retry-attempts", NULL, NULL, 0, 10, 0, flags));
  g_object_class_install_property (
      object_class, 4,
      g_param_spec_boxed ("code-block-delimiters", NULL, NULL, G_TYPE_STRV, flags));
  g_object_class_install_property (object_class, 5,
                                   g_param_spec_boolean ("builtin", NULL, NULL, TRUE, flags));
}

static void
test_lookalike_executor_init (TestLookalikeExecutor *self)
{
}

/* ------------------------------------------------------------------ */
/* Helpers.                                                            */

static JsonObject *
object_from (const char *json)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) node = json_from_string (json, &error);

  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
  return json_object_ref (json_node_get_object (node));
}

static void
assert_json (JsonObject *object, const char *expected)
{
  g_autoptr (JsonNode) actual_node = json_node_new (JSON_NODE_OBJECT);
  g_autoptr (JsonNode) expected_node = NULL;

  g_assert_nonnull (object);
  json_node_set_object (actual_node, object);
  expected_node = json_from_string (expected, NULL);
  g_assert_nonnull (expected_node);
  if (!json_node_equal (actual_node, expected_node))
    {
      g_autofree char *a = json_to_string (actual_node, FALSE);
      g_autofree char *e = json_to_string (expected_node, FALSE);

      g_error ("JSON differs:\n actual:   %s\n expected: %s", a, e);
    }
}

static AgentExecExecutionResult *
result_of (const char *out, const char *err, int exit_code, const char *file1, const char *file2)
{
  g_autoptr (GPtrArray) files = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GBytes) bytes = g_bytes_new_static ("x", 1);

  if (file1 != NULL)
    g_ptr_array_add (files, agentexec_file_new (file1, NULL, bytes));
  if (file2 != NULL)
    g_ptr_array_add (files, agentexec_file_new (file2, NULL, bytes));
  return agentexec_execution_result_new (AGENTEXEC_OUTCOME_OK, out, err, exit_code, files);
}

static void
assert_result_part (AgentExecExecutionResult *result, const char *outcome, const char *output)
{
  g_autoptr (JsonObject) part = agentexec_genai_build_code_execution_result_part (result);
  JsonObject *inner = json_object_get_object_member (part, "codeExecutionResult");

  g_assert_cmpuint (json_object_get_size (part), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (inner, "outcome"), ==, outcome);
  g_assert_cmpstr (json_object_get_string_member (inner, "output"), ==, output);
}

/* ------------------------------------------------------------------ */
/* genai parts.                                                        */

static void
test_genai_executable_code_part (void)
{
  g_autoptr (JsonObject) part = agentexec_genai_build_executable_code_part ("print(1)");

  assert_json (part, "{\"executableCode\": {\"language\": \"PYTHON\", \"code\": \"print(1)\"}}");
}

/* ADK: OUTCOME_OK, "Code execution result:\n" + stdout + "\n". */
static void
test_genai_result_stdout (void)
{
  g_autoptr (AgentExecExecutionResult) result = result_of ("4\n", "", 0, NULL, NULL);

  assert_result_part (result, "OUTCOME_OK", "Code execution result:\n4\n\n");
}

/* ADK: no stdout and no files still says "Code execution result:\n\n". */
static void
test_genai_result_empty (void)
{
  g_autoptr (AgentExecExecutionResult) result = result_of ("", "", 0, NULL, NULL);

  assert_result_part (result, "OUTCOME_OK", "Code execution result:\n\n");
}

/* ADK: stderr → OUTCOME_FAILED with the stderr as output. */
static void
test_genai_result_stderr (void)
{
  g_autoptr (AgentExecExecutionResult) result = result_of ("", "NameError: x\n", 1, NULL, NULL);

  assert_result_part (result, "OUTCOME_FAILED", "NameError: x\n");
}

/* ADK drops stdout on error; here it is kept in front of the error. */
static void
test_genai_result_stderr_keeps_stdout (void)
{
  g_autoptr (AgentExecExecutionResult) result = result_of ("partial\n", "boom\n", 1, NULL, NULL);

  assert_result_part (result, "OUTCOME_FAILED",
                      "Code execution result:\npartial\n\n\nError:\nboom\n");
}

/* ADK: files only → "Saved artifacts:\n`a`,`b`"; with stdout, both joined
 * by a blank line. */
static void
test_genai_result_artifacts (void)
{
  g_autoptr (AgentExecExecutionResult) files_only = result_of ("", "", 0, "plot.png", "out.csv");
  g_autoptr (AgentExecExecutionResult) both = result_of ("done", "", 0, "plot.png", NULL);

  assert_result_part (files_only, "OUTCOME_OK", "Saved artifacts:\n`plot.png`,`out.csv`");
  assert_result_part (both, "OUTCOME_OK",
                      "Code execution result:\ndone\n\n\nSaved artifacts:\n`plot.png`");
}

/* A silent failure or a timeout is never reported as OK. */
static void
test_genai_result_failed_outcomes (void)
{
  g_autoptr (AgentExecExecutionResult) silent = result_of ("", "", 3, NULL, NULL);
  g_autoptr (AgentExecExecutionResult) timeout =
      agentexec_execution_result_new (AGENTEXEC_OUTCOME_DEADLINE_EXCEEDED, "", "", 0, NULL);
  g_autoptr (JsonObject) part = agentexec_genai_build_code_execution_result_part (timeout);

  assert_result_part (silent, "OUTCOME_FAILED", "Code execution result:\n\n");
  g_assert_cmpstr (json_object_get_string_member (
                       json_object_get_object_member (part, "codeExecutionResult"), "outcome"),
                   ==, "OUTCOME_DEADLINE_EXCEEDED");
}

/* History rewrite: a trailing executable code part becomes delimited text. */
static void
test_genai_convert_trailing_code (void)
{
  g_autoptr (JsonObject) content =
      object_from ("{\"role\": \"model\", \"parts\": [{\"text\": \"Let me check.\"},"
                   " {\"executableCode\": {\"language\": \"PYTHON\", \"code\": \"print(1)\"}}]}");

  g_assert_true (agentexec_genai_convert_code_execution_parts (content, NULL, NULL));
  assert_json (content, "{\"role\": \"model\", \"parts\": [{\"text\": \"Let me check.\"},"
                        " {\"text\": \"```tool_code\\nprint(1)\\n```\"}]}");
}

/* History rewrite: a content holding only a result becomes result-delimited
 * text with role "user". */
static void
test_genai_convert_single_result (void)
{
  g_autoptr (JsonObject) content = object_from (
      "{\"role\": \"model\", \"parts\": [{\"code_execution_result\": {\"outcome\": \"OUTCOME_OK\","
      " \"output\": \"Code execution result:\\n1\\n\\n\"}}]}");
  const char *result_pair[] = { "<out>", "</out>", NULL };
  const char *code_pair[] = { "<code>", "</code>", NULL };

  g_assert_true (agentexec_genai_convert_code_execution_parts (content, code_pair, result_pair));
  assert_json (content, "{\"role\": \"user\", \"parts\":"
                        " [{\"text\": \"<out>Code execution result:\\n1\\n\\n</out>\"}]}");
}

/* Contents the rewrite leaves: code not trailing, a result among other
 * parts, plain text, no parts. */
static void
test_genai_convert_untouched (void)
{
  const char *cases[] = {
    "{\"role\": \"model\", \"parts\": [{\"executableCode\": {\"code\": \"1\"}},"
    " {\"codeExecutionResult\": {\"outcome\": \"OUTCOME_OK\", \"output\": \"1\"}}]}",
    "{\"role\": \"model\", \"parts\": [{\"text\": \"a\"},"
    " {\"codeExecutionResult\": {\"outcome\": \"OUTCOME_OK\", \"output\": \"1\"}},"
    " {\"text\": \"b\"}]}",
    "{\"role\": \"user\", \"parts\": [{\"text\": \"hello\"}]}",
    "{\"role\": \"user\", \"parts\": []}",
    "{\"role\": \"user\"}",
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (JsonObject) content = object_from (cases[i]);

      g_assert_false (agentexec_genai_convert_code_execution_parts (content, NULL, NULL));
      assert_json (content, cases[i]);
    }
}

/* ADK: only the first code block is extracted. */
static void
test_genai_extract_first_block (void)
{
  g_autoptr (JsonObject) content = object_from (
      "{\"role\": \"model\", \"parts\": [{\"text\": \"First:\\n```python\\nprint(1)\\n```\\n"
      "Then:\\n```python\\nprint(2)\\n```\\n\"}]}");
  g_autofree char *code = agentexec_genai_extract_code_and_truncate_content (content, NULL);

  g_assert_cmpstr (code, ==, "print(1)");
  assert_json (content, "{\"role\": \"model\", \"parts\": [{\"text\": \"First:\\n\"},"
                        " {\"executableCode\": {\"language\": \"PYTHON\","
                        " \"code\": \"print(1)\"}}]}");
}

/* ADK: the text after the block (and later parts) is dropped. */
static void
test_genai_extract_tail_dropped (void)
{
  g_autoptr (JsonObject) content =
      object_from ("{\"role\": \"model\", \"parts\": [{\"text\": \"```tool_code\\nx = 2\\n```\"},"
                   " {\"text\": \"The answer is 42, trust me.\"}]}");
  g_autofree char *code = agentexec_genai_extract_code_and_truncate_content (content, NULL);

  g_assert_cmpstr (code, ==, "x = 2");
  assert_json (content, "{\"role\": \"model\", \"parts\": ["
                        " {\"executableCode\": {\"language\": \"PYTHON\", \"code\": \"x = 2\"}}]}");
}

/* ADK: an empty block is no code; the content is left alone. */
static void
test_genai_extract_empty_block (void)
{
  const char *json = "{\"role\": \"model\","
                     " \"parts\": [{\"text\": \"Nothing: ```python\\n\\n```\"}]}";
  g_autoptr (JsonObject) content = object_from (json);
  g_autofree char *code = agentexec_genai_extract_code_and_truncate_content (content, NULL);

  g_assert_null (code);
  assert_json (content, json);
}

/* Text parts are joined with "\n" before looking for the block; the
 * earliest start delimiter wins whatever its pair's rank. */
static void
test_genai_extract_joined_parts (void)
{
  g_autoptr (JsonObject) content = object_from (
      "{\"role\": \"model\", \"parts\": [{\"text\": \"Run ```python\", \"thought\": false},"
      " {\"text\": \"print(3)\\n```\"}, {\"text\": \"```tool_code\\nlater\\n```\"}]}");
  g_autofree char *code = agentexec_genai_extract_code_and_truncate_content (content, NULL);

  g_assert_cmpstr (code, ==, "print(3)");
  /* The prefix part is a copy of the first text part: other members kept. */
  assert_json (content, "{\"role\": \"model\", \"parts\": ["
                        " {\"text\": \"Run \", \"thought\": false},"
                        " {\"executableCode\": {\"language\": \"PYTHON\","
                        " \"code\": \"print(3)\"}}]}");
}

/* ADK: a native executableCode part without its result is the code; the
 * parts after it are dropped. One followed by its result is history. */
static void
test_genai_extract_native_part (void)
{
  g_autoptr (JsonObject) content =
      object_from ("{\"role\": \"model\", \"parts\": ["
                   " {\"executableCode\": {\"language\": \"PYTHON\", \"code\": \"old()\"}},"
                   " {\"codeExecutionResult\": {\"outcome\": \"OUTCOME_OK\", \"output\": \"\"}},"
                   " {\"executable_code\": {\"language\": \"PYTHON\", \"code\": \"new()\"}},"
                   " {\"text\": \"```python\\nignored()\\n```\"}]}");
  g_autofree char *code = agentexec_genai_extract_code_and_truncate_content (content, NULL);
  JsonArray *parts = json_object_get_array_member (content, "parts");

  g_assert_cmpstr (code, ==, "new()");
  g_assert_cmpuint (json_array_get_length (parts), ==, 3);
}

/* Custom delimiter pairs; no code at all leaves the content alone. */
static void
test_genai_extract_delimiters (void)
{
  const char *pairs[] = { "<run>", "</run>", NULL };
  g_autoptr (JsonObject) content =
      object_from ("{\"role\": \"model\", \"parts\": [{\"text\": \"go <run>ls</run> now\"}]}");
  g_autoptr (JsonObject) plain = object_from (
      "{\"role\": \"model\", \"parts\": [{\"text\": \"```python\\nprint(1)\\n```\"}]}");
  g_autofree char *code = agentexec_genai_extract_code_and_truncate_content (content, pairs);
  g_autofree char *none = agentexec_genai_extract_code_and_truncate_content (plain, pairs);

  g_assert_cmpstr (code, ==, "ls");
  g_assert_null (none);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (plain, "parts")), ==, 1);
}

/* ------------------------------------------------------------------ */
/* The flow: postprocess_response.                                     */

typedef struct
{
  TestFakeExecutor *fake;
  AgentExecCodeExecutionFlow *flow;
  AgentExecExecutorContext *context;
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  f->fake = g_object_new (TEST_TYPE_FAKE_EXECUTOR, NULL);
  f->flow = agentexec_code_execution_flow_new (AGENTEXEC_CODE_EXECUTOR (f->fake));
  f->context = agentexec_executor_context_new (NULL);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_clear_object (&f->flow);
  g_clear_object (&f->fake);
  g_clear_object (&f->context);
}

static AgentExecCodeExecutionStep *
reply (Fixture *f, const char *invocation, const char *text)
{
  g_autoptr (JsonObject) content = json_object_new ();
  g_autoptr (JsonArray) parts = json_array_new ();
  g_autoptr (GError) error = NULL;
  JsonObject *part = json_object_new ();
  AgentExecCodeExecutionStep *step;

  json_object_set_string_member (part, "text", text);
  json_array_add_object_element (parts, part);
  json_object_set_string_member (content, "role", "model");
  json_object_set_array_member (content, "parts", json_array_ref (parts));
  step = agentexec_code_execution_flow_postprocess_response (f->flow, f->context, invocation,
                                                             content, FALSE, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (step);
  return step;
}

static guint
count (Fixture *f, const char *invocation)
{
  return agentexec_executor_context_get_error_count (f->context, invocation);
}

/* The first block runs; the step holds the truncated reply and the result. */
static void
test_flow_runs_first_block (Fixture *f, gconstpointer data)
{
  g_autoptr (AgentExecCodeExecutionStep) step =
      reply (f, "inv", "Computing.\n```python\nprint 42\n```\nMore text\n```python\nprint 7\n```");

  g_assert_true (agentexec_code_execution_step_get_executed (step));
  g_assert_false (agentexec_code_execution_step_get_gated (step));
  g_assert_cmpuint (f->fake->runs->len, ==, 1);
  g_assert_cmpstr (agentexec_execution_input_get_code (last_run (f->fake)), ==, "print 42");
  g_assert_cmpstr (agentexec_execution_input_get_language (last_run (f->fake)), ==, "python");
  g_assert_cmpstr (agentexec_code_execution_step_get_code (step), ==, "print 42");
  assert_json (agentexec_code_execution_step_get_model_content (step),
               "{\"role\": \"model\", \"parts\": [{\"text\": \"Computing.\\n\"},"
               " {\"executableCode\": {\"language\": \"PYTHON\", \"code\": \"print 42\"}}]}");
  assert_json (agentexec_code_execution_step_get_result_content (step),
               "{\"role\": \"model\", \"parts\": [{\"codeExecutionResult\":"
               " {\"outcome\": \"OUTCOME_OK\","
               " \"output\": \"Code execution result:\\n42\\n\\n\"}}]}");
  g_assert_cmpstr (agentexec_execution_result_get_stdout (
                       agentexec_code_execution_step_get_execution_result (step)),
                   ==, "42\n");
}

/* A partial (streamed) response is never executed. */
static void
test_flow_partial_skipped (Fixture *f, gconstpointer data)
{
  g_autoptr (JsonObject) content =
      object_from ("{\"role\": \"model\", \"parts\": [{\"text\": \"```python\\nprint 1\\n```\"}]}");
  g_autoptr (AgentExecCodeExecutionStep) step = NULL;

  step = agentexec_code_execution_flow_postprocess_response (f->flow, f->context, "inv", content,
                                                             TRUE, NULL, NULL);
  g_assert_false (agentexec_code_execution_step_get_executed (step));
  g_assert_cmpuint (f->fake->runs->len, ==, 0);
  g_assert_null (agentexec_code_execution_step_get_result_content (step));
  assert_json (agentexec_code_execution_step_get_model_content (step),
               "{\"role\": \"model\", \"parts\": [{\"text\": \"```python\\nprint 1\\n```\"}]}");
}

/* A reply without code (a final answer) passes through untouched. */
static void
test_flow_no_code (Fixture *f, gconstpointer data)
{
  g_autoptr (AgentExecCodeExecutionStep) step = reply (f, "inv", "The answer is 42.");
  g_autoptr (AgentExecCodeExecutionStep) empty = reply (f, "inv", "```python\n\n```");

  g_assert_false (agentexec_code_execution_step_get_executed (step));
  g_assert_false (agentexec_code_execution_step_get_executed (empty));
  g_assert_cmpuint (f->fake->runs->len, ==, 0);
  assert_json (agentexec_code_execution_step_get_model_content (step),
               "{\"role\": \"model\", \"parts\": [{\"text\": \"The answer is 42.\"}]}");
}

/* A code error increments the invocation's count; other invocations are
 * not affected. */
static void
test_flow_error_increments (Fixture *f, gconstpointer data)
{
  g_autoptr (AgentExecCodeExecutionStep) first = reply (f, "inv", "```python\nerror boom\n```");
  g_autoptr (AgentExecCodeExecutionStep) silent = reply (f, "inv", "```python\nexit 2\n```");

  g_assert_true (agentexec_code_execution_step_get_executed (first));
  g_assert_cmpuint (count (f, "inv"), ==, 2);
  g_assert_cmpuint (count (f, "other"), ==, 0);
  assert_json (agentexec_code_execution_step_get_result_content (first),
               "{\"role\": \"model\", \"parts\": [{\"codeExecutionResult\":"
               " {\"outcome\": \"OUTCOME_FAILED\", \"output\": \"boom\\n\"}}]}");
}

/* Acceptance: a block that keeps failing is run error_retry_attempts (2)
 * times; the third reply passes through unexecuted; a success resets. */
static void
test_flow_gate (Fixture *f, gconstpointer data)
{
  const char *failing = "Try:\n```python\nerror ZeroDivisionError\n```\n";

  for (guint i = 1; i <= 2; i++)
    {
      g_autoptr (AgentExecCodeExecutionStep) step = reply (f, "inv", failing);

      g_assert_true (agentexec_code_execution_step_get_executed (step));
      g_assert_cmpuint (count (f, "inv"), ==, i);
    }
  for (guint i = 0; i < 2; i++)
    {
      g_autoptr (AgentExecCodeExecutionStep) step = reply (f, "inv", failing);

      g_assert_false (agentexec_code_execution_step_get_executed (step));
      g_assert_true (agentexec_code_execution_step_get_gated (step));
      g_assert_null (agentexec_code_execution_step_get_result_content (step));
      assert_json (agentexec_code_execution_step_get_model_content (step),
                   "{\"role\": \"model\", \"parts\": [{\"text\": "
                   "\"Try:\\n```python\\nerror ZeroDivisionError\\n```\\n\"}]}");
    }
  g_assert_cmpuint (f->fake->runs->len, ==, 2);

  /* Another invocation is not gated. */
  {
    g_autoptr (AgentExecCodeExecutionStep) step = reply (f, "next", "```python\nprint ok\n```");

    g_assert_true (agentexec_code_execution_step_get_executed (step));
  }
}

/* error-retry-attempts 3: three failing runs, then the gate; a success in
 * between resets the count (ADK removes it). */
static void
test_flow_success_resets (Fixture *f, gconstpointer data)
{
  const char *failing = "```python\nerror boom\n```";

  g_object_set (f->fake, "error-retry-attempts", 3, NULL);
  g_assert_cmpuint (agentexec_code_execution_flow_get_error_retry_attempts (f->flow), ==, 3);
  g_clear_object (&(AgentExecCodeExecutionStep *){ reply (f, "inv", failing) });
  g_clear_object (&(AgentExecCodeExecutionStep *){ reply (f, "inv", failing) });
  g_assert_cmpuint (count (f, "inv"), ==, 2);
  g_clear_object (&(AgentExecCodeExecutionStep *){ reply (f, "inv", "```python\nprint ok\n```") });
  g_assert_cmpuint (count (f, "inv"), ==, 0);
  g_assert_false (json_object_has_member (
      json_object_get_object_member (agentexec_executor_context_get_session_state (f->context),
                                     "_code_executor_error_counts"),
      "inv"));
  for (guint i = 0; i < 3; i++)
    g_clear_object (&(AgentExecCodeExecutionStep *){ reply (f, "inv", failing) });
  g_assert_cmpuint (f->fake->runs->len, ==, 6);
  {
    g_autoptr (AgentExecCodeExecutionStep) step = reply (f, "inv", failing);

    g_assert_true (agentexec_code_execution_step_get_gated (step));
    g_assert_cmpuint (f->fake->runs->len, ==, 6);
  }
}

/* An executor without the property gates at ADK's default, 2. */
static void
test_flow_gate_default (void)
{
  g_autoptr (TestPlainExecutor) plain = g_object_new (TEST_TYPE_PLAIN_EXECUTOR, NULL);
  g_autoptr (AgentExecCodeExecutionFlow) flow =
      agentexec_code_execution_flow_new (AGENTEXEC_CODE_EXECUTOR (plain));
  g_autoptr (AgentExecExecutorContext) context = agentexec_executor_context_new (NULL);

  g_assert_cmpuint (agentexec_code_execution_flow_get_error_retry_attempts (flow), ==, 2);
  for (guint i = 0; i < 4; i++)
    {
      g_autoptr (AgentExecCodeExecutionStep) step = agentexec_code_execution_flow_process_text (
          flow, context, "inv", "```tool_code\nfail()\n```", NULL, NULL);

      g_assert_true (agentexec_code_execution_step_get_executed (step) == (i < 2));
    }
  g_assert_cmpuint (plain->runs, ==, 2);
}

/* The flow asks the interface or the base class, never a property by
 * name: a look-alike's properties change nothing (ADK's defaults). */
static void
test_flow_settings_not_by_name (void)
{
  g_autoptr (TestLookalikeExecutor) lookalike = g_object_new (TEST_TYPE_LOOKALIKE_EXECUTOR, NULL);
  g_autoptr (AgentExecCodeExecutionFlow) flow =
      agentexec_code_execution_flow_new (AGENTEXEC_CODE_EXECUTOR (lookalike));
  g_autoptr (AgentExecExecutorContext) context = agentexec_executor_context_new (NULL);
  g_autoptr (AgentExecCodeExecutionStep) step = NULL;
  g_autoptr (AgentExecCodeExecutionStep) odd = NULL;
  g_autofree char *id = NULL;

  g_assert_cmpuint (agentexec_code_execution_flow_get_error_retry_attempts (flow), ==, 2);
  step = agentexec_code_execution_flow_process_text (flow, context, "inv",
                                                     "```tool_code\nfail()\n```", NULL, NULL);
  /* Not builtin (the code ran), not gated at 0, not stateful (no session). */
  g_assert_true (agentexec_code_execution_step_get_executed (step));
  g_assert_cmpuint (lookalike->runs, ==, 1);
  id = agentexec_executor_context_get_execution_id (context);
  g_assert_null (id);
  /* ADK's delimiters, not the look-alike's. */
  odd =
      agentexec_code_execution_flow_process_text (flow, context, "inv2", "<c>x()</c>", NULL, NULL);
  g_assert_false (agentexec_code_execution_step_get_executed (odd));
}

/* A base executor built with builtin=TRUE is left alone by the flow. */
static void
test_flow_builtin_flag (void)
{
  g_autoptr (TestFakeExecutor) fake = g_object_new (TEST_TYPE_FAKE_EXECUTOR, "builtin", TRUE, NULL);
  g_autoptr (TestFakeExecutor) plain = g_object_new (TEST_TYPE_FAKE_EXECUTOR, NULL);
  g_autoptr (AgentExecCodeExecutionFlow) flow =
      agentexec_code_execution_flow_new (AGENTEXEC_CODE_EXECUTOR (fake));
  g_autoptr (AgentExecExecutorContext) context = agentexec_executor_context_new (NULL);
  g_autoptr (JsonObject) content =
      object_from ("{\"role\": \"model\", \"parts\": [{\"text\": \"```python\\nprint 1\\n```\"}]}");
  g_autoptr (AgentExecCodeExecutionStep) step = NULL;
  g_autoptr (AgentExecBuiltInExecutor) builtin = agentexec_built_in_executor_new ();

  g_assert_true (agentexec_base_executor_get_builtin (AGENTEXEC_BASE_EXECUTOR (fake)));
  g_assert_false (agentexec_base_executor_get_builtin (AGENTEXEC_BASE_EXECUTOR (plain)));
  g_assert_true (agentexec_base_executor_get_builtin (AGENTEXEC_BASE_EXECUTOR (builtin)));
  step = agentexec_code_execution_flow_postprocess_response (flow, context, "inv", content, FALSE,
                                                             NULL, NULL);
  g_assert_false (agentexec_code_execution_step_get_executed (step));
  g_assert_cmpuint (fake->runs->len, ==, 0);
}

/* The state delta: only `_code_execution_context`, as ADK's event holds it;
 * the run goes into the results history. */
static void
test_flow_state_delta (Fixture *f, gconstpointer data)
{
  g_autoptr (AgentExecCodeExecutionStep) step = NULL;
  g_autoptr (JsonArray) history = NULL;
  JsonObject *entry;

  g_object_set (f->fake, "stateful", TRUE, NULL);
  step = reply (f, "inv", "```python\nprint 1\nerror warn\n```");
  history = agentexec_executor_context_get_code_execution_results (f->context, "inv");
  {
    g_autofree char *id = agentexec_executor_context_get_execution_id (f->context);
    g_autofree char *expected = g_strdup_printf ("{\"_code_execution_context\":"
                                                 " {\"execution_session_id\": \"%s\"}}",
                                                 id);

    g_assert_nonnull (id);
    g_assert_cmpstr (agentexec_execution_input_get_execution_id (last_run (f->fake)), ==, id);
    assert_json (agentexec_code_execution_step_get_state_delta (step), expected);
  }
  g_assert_cmpuint (json_array_get_length (history), ==, 1);
  entry = json_array_get_object_element (history, 0);
  g_assert_cmpstr (json_object_get_string_member (entry, "code"), ==, "print 1\nerror warn");
  g_assert_cmpstr (json_object_get_string_member (entry, "result_stdout"), ==, "1\n");
  g_assert_cmpstr (json_object_get_string_member (entry, "result_stderr"), ==, "warn\n");
}

/* A stateless executor gets no execution id; the context's input files go
 * with every run; output files come back as artifacts. */
static void
test_flow_files (Fixture *f, gconstpointer data)
{
  g_autoptr (GPtrArray) inputs = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GBytes) bytes = g_bytes_new_static ("a,b\n", 4);
  g_autoptr (AgentExecCodeExecutionStep) step = NULL;
  GPtrArray *artifacts, *sent;

  g_ptr_array_add (inputs, agentexec_file_new ("data_1_1.csv", "text/csv", bytes));
  agentexec_executor_context_add_input_files (f->context, inputs);
  step = reply (f, "inv", "```python\nsave chart.png\nsave table.csv\n```");

  g_assert_null (agentexec_execution_input_get_execution_id (last_run (f->fake)));
  sent = agentexec_execution_input_get_files (last_run (f->fake));
  g_assert_cmpuint (sent->len, ==, 1);
  g_assert_cmpstr (agentexec_file_get_name (g_ptr_array_index (sent, 0)), ==, "data_1_1.csv");
  artifacts = agentexec_code_execution_step_get_saved_artifacts (step);
  g_assert_cmpuint (artifacts->len, ==, 2);
  g_assert_cmpstr (agentexec_file_get_name (g_ptr_array_index (artifacts, 1)), ==, "table.csv");
  assert_json (agentexec_code_execution_step_get_result_content (step),
               "{\"role\": \"model\", \"parts\": [{\"codeExecutionResult\": {\"outcome\":"
               " \"OUTCOME_OK\", \"output\": \"Saved artifacts:\\n`chart.png`,`table.csv`\"}}]}");
}

/* A backend failure is an error; the counts and history are unchanged. */
static void
test_flow_executor_error (Fixture *f, gconstpointer data)
{
  g_autoptr (JsonObject) content =
      object_from ("{\"role\": \"model\", \"parts\": [{\"text\": \"```python\\nprint 1\\n```\"}]}");
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecCodeExecutionStep) step = NULL;
  g_autoptr (JsonArray) history = NULL;

  f->fake->unavailable = TRUE;
  step = agentexec_code_execution_flow_postprocess_response (f->flow, f->context, "inv", content,
                                                             FALSE, NULL, &error);
  g_assert_null (step);
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_BACKEND_UNAVAILABLE);
  g_assert_cmpuint (count (f, "inv"), ==, 0);
  history = agentexec_executor_context_get_code_execution_results (f->context, "inv");
  g_assert_cmpuint (json_array_get_length (history), ==, 0);
}

static void
got_async (GObject *source, GAsyncResult *res, gpointer data)
{
  *(GAsyncResult **) data = g_object_ref (res);
}

static GAsyncResult *
wait_for (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);
  return *slot;
}

/* The async twin behaves the same: run, then the gate. */
static void
test_flow_postprocess_async (Fixture *f, gconstpointer data)
{
  g_autoptr (JsonObject) content = object_from (
      "{\"role\": \"model\", \"parts\": [{\"text\": \"```python\\nerror no\\n```\"}]}");

  for (guint i = 0; i < 3; i++)
    {
      g_autoptr (GAsyncResult) res = NULL;
      g_autoptr (AgentExecCodeExecutionStep) step = NULL;
      g_autoptr (GError) error = NULL;

      agentexec_code_execution_flow_postprocess_response_async (f->flow, f->context, "inv", content,
                                                                FALSE, NULL, got_async, &res);
      step = agentexec_code_execution_flow_postprocess_response_finish (f->flow, wait_for (&res),
                                                                        &error);
      g_assert_no_error (error);
      g_assert_true (agentexec_code_execution_step_get_executed (step) == (i < 2));
      g_assert_true (agentexec_code_execution_step_get_gated (step) == (i == 2));
    }
  g_assert_cmpuint (f->fake->runs->len, ==, 2);
  {
    g_autoptr (GAsyncResult) res = NULL;
    g_autoptr (GError) error = NULL;

    f->fake->unavailable = TRUE;
    agentexec_code_execution_flow_postprocess_response_async (f->flow, f->context, "other", content,
                                                              FALSE, NULL, got_async, &res);
    g_assert_null (agentexec_code_execution_flow_postprocess_response_finish (
        f->flow, wait_for (&res), &error));
    g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_BACKEND_UNAVAILABLE);
  }
}

/* ------------------------------------------------------------------ */
/* Plain chat text.                                                    */

static void
test_text_result_appended (Fixture *f, gconstpointer data)
{
  g_autoptr (AgentExecCodeExecutionStep) step = NULL;

  step = agentexec_code_execution_flow_process_text (
      f->flow, f->context, "inv",
      "Let me compute.\n```python\nprint 4\n```\nSo the answer is 5.\n```python\nprint 5\n```",
      NULL, NULL);
  g_assert_true (agentexec_code_execution_step_get_executed (step));
  g_assert_cmpstr (agentexec_code_execution_step_get_result_text (step), ==,
                   "```tool_output\nCode execution result:\n4\n\n\n```");
  g_assert_cmpstr (agentexec_code_execution_step_get_text (step), ==,
                   "Let me compute.\n```python\nprint 4\n```\n"
                   "```tool_output\nCode execution result:\n4\n\n\n```");
  g_assert_null (agentexec_code_execution_step_get_model_content (step));
  g_assert_nonnull (agentexec_code_execution_step_get_result_content (step));
  g_assert_cmpuint (f->fake->runs->len, ==, 1);
}

static void
test_text_passes_through (Fixture *f, gconstpointer data)
{
  const char *failing = "```tool_code\nerror nope\n```";
  g_autoptr (AgentExecCodeExecutionStep) plain = NULL;

  plain = agentexec_code_execution_flow_process_text (f->flow, f->context, "inv",
                                                      "Final answer: 42", NULL, NULL);
  g_assert_false (agentexec_code_execution_step_get_executed (plain));
  g_assert_cmpstr (agentexec_code_execution_step_get_text (plain), ==, "Final answer: 42");
  for (guint i = 0; i < 3; i++)
    {
      g_autoptr (AgentExecCodeExecutionStep) step = agentexec_code_execution_flow_process_text (
          f->flow, f->context, "inv", failing, NULL, NULL);

      if (i < 2)
        g_assert_true (g_str_has_suffix (agentexec_code_execution_step_get_text (step),
                                         "```tool_output\nnope\n\n```"));
      else
        g_assert_cmpstr (agentexec_code_execution_step_get_text (step), ==, failing);
    }
  g_assert_cmpuint (f->fake->runs->len, ==, 2);
}

/* The executor's delimiters are used; the block's language goes with it. */
static void
test_text_custom_delimiters (Fixture *f, gconstpointer data)
{
  const char *code_pairs[] = { "```bash\n", "\n```", "<py>", "</py>", NULL };
  const char *result_pair[] = { "<result>", "</result>", NULL };
  g_autoptr (AgentExecCodeExecutionStep) step = NULL;
  g_autoptr (AgentExecCodeExecutionStep) second = NULL;

  g_object_set (f->fake, "code-block-delimiters", code_pairs, "execution-result-delimiters",
                result_pair, NULL);
  step = agentexec_code_execution_flow_process_text (f->flow, f->context, "inv",
                                                     "x ```bash\nprint hi\n``` y", NULL, NULL);
  g_assert_cmpstr (agentexec_code_execution_step_get_text (step), ==,
                   "x ```bash\nprint hi\n```\n<result>Code execution result:\nhi\n\n</result>");
  g_assert_cmpstr (agentexec_execution_input_get_language (last_run (f->fake)), ==, "bash");
  second = agentexec_code_execution_flow_process_text (f->flow, f->context, "inv",
                                                       "<py>print a</py>", NULL, NULL);
  g_assert_cmpstr (agentexec_execution_input_get_language (last_run (f->fake)), ==, "python");
}

static void
test_text_async (Fixture *f, gconstpointer data)
{
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (AgentExecCodeExecutionStep) step = NULL;
  g_autoptr (GError) error = NULL;

  agentexec_code_execution_flow_process_text_async (
      f->flow, f->context, "inv", "```python\nprint async\n```", NULL, got_async, &res);
  step = agentexec_code_execution_flow_process_text_finish (f->flow, wait_for (&res), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (agentexec_code_execution_step_get_result_text (step), ==,
                   "```tool_output\nCode execution result:\nasync\n\n\n```");
}

/* ------------------------------------------------------------------ */
/* The streaming entry point.                                          */

/* Replies that cover the cases: text after the block, no code, an empty
 * first block, two blocks, an unclosed block, tool_code, CRLF, UTF-8 split
 * anywhere, a block whose end only the last byte completes. */
static const char *const stream_replies[] = {
  "Let me compute.\n```python\nprint 42\n```\nThe answer follows.",
  "No code at all, just ``` some ticks ```.",
  "```python\n\n```\nthen ```python\nprint late\n```",
  "First:\n```tool_code\nprint one\nerror warn\n```\nSecond:\n```python\nprint two\n```\nbye",
  "```python\nprint never closed",
  "crlf\r\n```python\nprint é ✓\r\n```\r\n",
  "```python\nprint a\n```\n```python\nprint b\n```\n```python\nprint c\n```",
  "tail end ```python\nprint last\n```",
};

typedef struct
{
  AgentExecExecutorContext *context;
  TestFakeExecutor *fake;
  GPtrArray *steps;
  GPtrArray *signalled;
  char *text;
  guint error_count;
  guint history;
} StreamRun;

static void
stream_run_clear (StreamRun *run)
{
  g_clear_object (&run->context);
  g_clear_object (&run->fake);
  g_clear_pointer (&run->steps, g_ptr_array_unref);
  g_clear_pointer (&run->signalled, g_ptr_array_unref);
  g_clear_pointer (&run->text, g_free);
}

static void
on_stream_step (AgentExecCodeExecutionStream *stream,
                AgentExecCodeExecutionStep *step,
                gpointer user_data)
{
  g_ptr_array_add (user_data, g_object_ref (step));
}

/* Feeds @reply in pieces of @chunk bytes (0: whole) to a fresh flow. */
static void
stream_reply (StreamRun *run, const char *reply, gsize chunk, gboolean all_blocks)
{
  g_autoptr (AgentExecCodeExecutionFlow) flow = NULL;
  g_autoptr (AgentExecCodeExecutionStream) stream = NULL;
  g_autoptr (JsonArray) history = NULL;
  g_autoptr (GError) error = NULL;
  gsize len = strlen (reply);

  run->context = agentexec_executor_context_new (NULL);
  run->fake = g_object_new (TEST_TYPE_FAKE_EXECUTOR, NULL);
  run->signalled = g_ptr_array_new_with_free_func (g_object_unref);
  flow = agentexec_code_execution_flow_new (AGENTEXEC_CODE_EXECUTOR (run->fake));
  g_object_set (flow, "all-blocks", all_blocks, NULL);
  stream = agentexec_code_execution_flow_stream_text (flow, run->context, "inv", NULL);
  g_assert_true (agentexec_code_execution_stream_get_all_blocks (stream) == all_blocks);
  g_signal_connect (stream, "step", G_CALLBACK (on_stream_step), run->signalled);
  for (gsize at = 0; at < len; at += chunk == 0 ? len : chunk)
    agentexec_code_execution_stream_feed_full (stream, reply + at,
                                               MIN (chunk == 0 ? len : chunk, len - at));
  g_assert_null (agentexec_code_execution_stream_get_text (stream));
  run->steps = agentexec_code_execution_stream_end (stream, &error);
  g_assert_no_error (error);
  run->text = g_strdup (agentexec_code_execution_stream_get_text (stream));
  run->error_count = agentexec_executor_context_get_error_count (run->context, "inv");
  history = agentexec_executor_context_get_code_execution_results (run->context, "inv");
  run->history = history != NULL ? json_array_get_length (history) : 0;
  g_assert_cmpuint (agentexec_code_execution_stream_get_pending (stream), ==, 0);
}

static void
assert_same_step (AgentExecCodeExecutionStep *a, AgentExecCodeExecutionStep *b)
{
  AgentExecExecutionResult *ra = agentexec_code_execution_step_get_execution_result (a);
  AgentExecExecutionResult *rb = agentexec_code_execution_step_get_execution_result (b);

  g_assert_cmpint (agentexec_code_execution_step_get_executed (a), ==,
                   agentexec_code_execution_step_get_executed (b));
  g_assert_cmpint (agentexec_code_execution_step_get_gated (a), ==,
                   agentexec_code_execution_step_get_gated (b));
  g_assert_cmpstr (agentexec_code_execution_step_get_code (a), ==,
                   agentexec_code_execution_step_get_code (b));
  g_assert_cmpstr (agentexec_code_execution_step_get_language (a), ==,
                   agentexec_code_execution_step_get_language (b));
  g_assert_cmpstr (agentexec_code_execution_step_get_text (a), ==,
                   agentexec_code_execution_step_get_text (b));
  g_assert_cmpstr (agentexec_code_execution_step_get_result_text (a), ==,
                   agentexec_code_execution_step_get_result_text (b));
  g_assert_true ((ra == NULL) == (rb == NULL));
  if (ra != NULL)
    {
      g_assert_cmpstr (agentexec_execution_result_get_stdout (ra), ==,
                       agentexec_execution_result_get_stdout (rb));
      g_assert_cmpstr (agentexec_execution_result_get_stderr (ra), ==,
                       agentexec_execution_result_get_stderr (rb));
      g_assert_cmpint (agentexec_execution_result_get_exit_code (ra), ==,
                       agentexec_execution_result_get_exit_code (rb));
    }
  g_assert_true ((agentexec_code_execution_step_get_state_delta (a) == NULL) ==
                 (agentexec_code_execution_step_get_state_delta (b) == NULL));
  if (agentexec_code_execution_step_get_state_delta (a) != NULL)
    {
      g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);
      g_autofree char *expected = NULL;

      json_node_set_object (node, agentexec_code_execution_step_get_state_delta (b));
      expected = json_to_string (node, FALSE);
      assert_json (agentexec_code_execution_step_get_state_delta (a), expected);
    }
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (StreamRun, stream_run_clear)

static void
assert_same_runs (StreamRun *a, StreamRun *b)
{
  g_assert_cmpstr (a->text, ==, b->text);
  g_assert_cmpuint (a->steps->len, ==, b->steps->len);
  g_assert_cmpuint (a->signalled->len, ==, a->steps->len);
  g_assert_cmpuint (a->error_count, ==, b->error_count);
  g_assert_cmpuint (a->history, ==, b->history);
  g_assert_cmpuint (a->fake->runs->len, ==, b->fake->runs->len);
  for (guint i = 0; i < a->steps->len; i++)
    {
      assert_same_step (g_ptr_array_index (a->steps, i), g_ptr_array_index (b->steps, i));
      /* The signal delivered the same steps, in order. */
      g_assert_true (g_ptr_array_index (a->signalled, i) == g_ptr_array_index (a->steps, i));
    }
  for (guint i = 0; i < a->fake->runs->len; i++)
    g_assert_cmpstr (agentexec_execution_input_get_code (g_ptr_array_index (a->fake->runs, i)), ==,
                     agentexec_execution_input_get_code (g_ptr_array_index (b->fake->runs, i)));
}

/* First-block mode: 1 byte at a time, 7 at a time and the whole reply give
 * the same steps, and the same as process_text on the whole reply. */
static void
test_stream_first_block (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (stream_replies); i++)
    {
      g_auto (StreamRun) whole = { 0 };
      g_auto (StreamRun) bytes = { 0 };
      g_auto (StreamRun) sevens = { 0 };
      g_autoptr (TestFakeExecutor) fake = g_object_new (TEST_TYPE_FAKE_EXECUTOR, NULL);
      g_autoptr (AgentExecCodeExecutionFlow) flow =
          agentexec_code_execution_flow_new (AGENTEXEC_CODE_EXECUTOR (fake));
      g_autoptr (AgentExecExecutorContext) context = agentexec_executor_context_new (NULL);
      g_autoptr (AgentExecCodeExecutionStep) step = NULL;

      g_test_message ("reply %u", i);
      stream_reply (&whole, stream_replies[i], 0, FALSE);
      stream_reply (&bytes, stream_replies[i], 1, FALSE);
      stream_reply (&sevens, stream_replies[i], 7, FALSE);
      assert_same_runs (&bytes, &whole);
      assert_same_runs (&sevens, &whole);

      step = agentexec_code_execution_flow_process_text (flow, context, "inv", stream_replies[i],
                                                         NULL, NULL);
      g_assert_cmpuint (whole.steps->len, ==, 1);
      assert_same_step (g_ptr_array_index (whole.steps, 0), step);
      g_assert_cmpstr (whole.text, ==, agentexec_code_execution_step_get_text (step));
      g_assert_cmpuint (whole.fake->runs->len, ==, fake->runs->len);
      g_assert_cmpuint (whole.error_count, ==,
                        agentexec_executor_context_get_error_count (context, "inv"));
    }
}

/* All-blocks mode: every block runs in order, however the reply is split. */
static void
test_stream_all_blocks (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (stream_replies); i++)
    {
      g_auto (StreamRun) whole = { 0 };
      g_auto (StreamRun) bytes = { 0 };

      g_test_message ("reply %u", i);
      stream_reply (&whole, stream_replies[i], 0, TRUE);
      stream_reply (&bytes, stream_replies[i], 1, TRUE);
      assert_same_runs (&bytes, &whole);
    }

  {
    g_auto (StreamRun) run = { 0 };
    AgentExecCodeExecutionStep *first, *second;

    stream_reply (&run, stream_replies[3], 1, TRUE);
    g_assert_cmpuint (run.steps->len, ==, 2);
    g_assert_cmpuint (run.fake->runs->len, ==, 2);
    first = g_ptr_array_index (run.steps, 0);
    second = g_ptr_array_index (run.steps, 1);
    g_assert_cmpstr (agentexec_code_execution_step_get_code (first), ==, "print one\nerror warn");
    g_assert_cmpstr (agentexec_code_execution_step_get_code (second), ==, "print two");
    /* The error of the first was counted, the success of the second reset it. */
    g_assert_cmpuint (run.error_count, ==, 0);
    g_assert_cmpuint (run.history, ==, 2);
    g_assert_cmpstr (run.text, ==,
                     "First:\n```tool_code\nprint one\nerror warn\n```\n"
                     "```tool_output\nCode execution result:\none\n\n\nError:\nwarn\n\n```\n"
                     "Second:\n```python\nprint two\n```\n"
                     "```tool_output\nCode execution result:\ntwo\n\n\n```\nbye");
    g_assert_true (g_str_has_prefix (run.text, agentexec_code_execution_step_get_text (second)));
  }
}

/* All-blocks mode and the retry gate: two errors in a row hold the third
 * block back. */
static void
test_stream_gate (void)
{
  g_auto (StreamRun) run = { 0 };
  AgentExecCodeExecutionStep *third;

  stream_reply (&run, "```python\nerror 1\n```\n```python\nerror 2\n```\n```python\nprint 3\n```\n",
                1, TRUE);
  g_assert_cmpuint (run.steps->len, ==, 3);
  g_assert_cmpuint (run.fake->runs->len, ==, 2);
  g_assert_cmpuint (run.error_count, ==, 2);
  third = g_ptr_array_index (run.steps, 2);
  g_assert_true (agentexec_code_execution_step_get_gated (third));
  g_assert_false (agentexec_code_execution_step_get_executed (third));
  g_assert_true (g_str_has_suffix (run.text, "```python\nprint 3\n```\n"));
}

typedef struct
{
  guint steps;
  gint64 settled_at;
} Arrival;

static void
on_arrival (AgentExecCodeExecutionStream *stream,
            AgentExecCodeExecutionStep *step,
            gpointer user_data)
{
  Arrival *arrival = user_data;

  arrival->steps++;
  arrival->settled_at = g_get_monotonic_time ();
}

/* The block runs once its end delimiter is fed, before the reply ends. */
static void
test_stream_runs_before_end (Fixture *f, gconstpointer data)
{
  static const char head[] = "Computing:\n```python\nprint early\n``";
  g_autoptr (AgentExecCodeExecutionStream) stream =
      agentexec_code_execution_stream_new (f->flow, f->context, "inv", NULL);
  g_autoptr (GPtrArray) steps = NULL;
  g_autoptr (GError) error = NULL;
  Arrival arrival = { 0 };

  g_signal_connect (stream, "step", G_CALLBACK (on_arrival), &arrival);
  agentexec_code_execution_stream_feed (stream, head);
  /* Not complete yet: "\n``" may still become the end delimiter. */
  for (guint i = 0; i < 20; i++)
    g_main_context_iteration (NULL, FALSE);
  g_assert_cmpuint (f->fake->runs->len, ==, 0);
  g_assert_cmpuint (agentexec_code_execution_stream_get_pending (stream), ==, 0);
  agentexec_code_execution_stream_feed (stream, "`");
  g_assert_cmpuint (agentexec_code_execution_stream_get_pending (stream), ==, 1);
  while (arrival.steps == 0)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (f->fake->runs->len, ==, 1);
  {
    g_autoptr (GPtrArray) so_far = agentexec_code_execution_stream_get_steps (stream);

    g_assert_cmpuint (so_far->len, ==, 1);
    g_assert_cmpstr (agentexec_code_execution_step_get_result_text (g_ptr_array_index (so_far, 0)),
                     ==, "```tool_output\nCode execution result:\nearly\n\n\n```");
  }
  /* The model goes on writing; nothing else runs (first-block mode). */
  agentexec_code_execution_stream_feed (stream, "\nMore text.\n```python\nprint late\n```\n");
  steps = agentexec_code_execution_stream_end (stream, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (steps->len, ==, 1);
  g_assert_cmpuint (f->fake->runs->len, ==, 1);
  g_assert_cmpuint (arrival.steps, ==, 1);
  g_assert_cmpstr (agentexec_code_execution_stream_get_text (stream), ==,
                   "Computing:\n```python\nprint early\n```\n"
                   "```tool_output\nCode execution result:\nearly\n\n\n```");
}

static void
got_end (GObject *source, GAsyncResult *res, gpointer data)
{
  *(GAsyncResult **) data = g_object_ref (res);
}

/* A block that cannot be run ends the stream with the error; later blocks
 * do not run. */
static void
test_stream_executor_error (Fixture *f, gconstpointer data)
{
  g_autoptr (AgentExecCodeExecutionStream) stream = NULL;
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GPtrArray) steps = NULL;
  g_autoptr (GError) error = NULL;

  f->fake->unavailable = TRUE;
  agentexec_code_execution_flow_set_all_blocks (f->flow, TRUE);
  stream = agentexec_code_execution_stream_new (f->flow, f->context, "inv", NULL);
  agentexec_code_execution_stream_feed (stream, "```python\nprint 1\n```\n```python\nprint 2\n```");
  agentexec_code_execution_stream_end_async (stream, got_end, &res);
  steps = agentexec_code_execution_stream_end_finish (stream, wait_for (&res), &error);
  g_assert_null (steps);
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_BACKEND_UNAVAILABLE);
  g_assert_nonnull (strstr (error->message, "fake engine is down"));
  g_assert_cmpuint (f->fake->runs->len, ==, 1);
}

/* A cancelled stream ends with the cancellation. */
static void
test_stream_cancelled (Fixture *f, gconstpointer data)
{
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (AgentExecCodeExecutionStream) stream =
      agentexec_code_execution_stream_new (f->flow, f->context, "inv", cancellable);
  g_autoptr (GPtrArray) steps = NULL;
  g_autoptr (GError) error = NULL;

  g_cancellable_cancel (cancellable);
  agentexec_code_execution_stream_feed (stream, "```python\nprint 1\n```");
  steps = agentexec_code_execution_stream_end (stream, &error);
  g_assert_null (steps);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (f->fake->runs->len, ==, 0);
}

/* A NUL byte ends the reply, however the reply is split. */
static void
test_stream_nul (Fixture *f, gconstpointer data)
{
  static const char reply[] = "```python\nprint 1\n```\0```python\nprint 2\n```";
  g_autoptr (AgentExecCodeExecutionStream) stream = NULL;
  g_autoptr (GPtrArray) steps = NULL;

  agentexec_code_execution_flow_set_all_blocks (f->flow, TRUE);
  stream = agentexec_code_execution_stream_new (f->flow, f->context, "inv", NULL);
  for (gsize i = 0; i < sizeof reply - 1; i++)
    agentexec_code_execution_stream_feed_full (stream, reply + i, 1);
  steps = agentexec_code_execution_stream_end (stream, NULL);
  g_assert_cmpuint (steps->len, ==, 1);
  g_assert_cmpstr (agentexec_code_execution_stream_get_text (stream), ==,
                   "```python\nprint 1\n```\n```tool_output\nCode execution result:\n1\n\n\n```");
}

/* Text deltas as a Gemini streamGenerateContent answer carries them: the
 * library's SSE parser feeds each event's text parts to the stream. */
static gboolean
feed_sse_event (const char *data, gsize len, gpointer user_data, GError **error)
{
  g_autoptr (JsonNode) root = json_from_string (data, error);
  JsonArray *parts;

  if (root == NULL)
    return FALSE;
  parts = json_object_get_array_member (
      json_object_get_object_member (
          json_array_get_object_element (
              json_object_get_array_member (json_node_get_object (root), "candidates"), 0),
          "content"),
      "parts");
  for (guint i = 0; i < json_array_get_length (parts); i++)
    agentexec_code_execution_stream_feed (
        user_data,
        json_object_get_string_member (json_array_get_object_element (parts, i), "text"));
  return TRUE;
}

static void
test_stream_from_sse (Fixture *f, gconstpointer data)
{
  static const char reply[] = "Let me see.\n```python\nprint sse\n```\nThat was it.";
  g_autoptr (GString) sse = g_string_new (NULL);
  g_autoptr (AgentExecCodeExecutionStream) stream =
      agentexec_code_execution_stream_new (f->flow, f->context, "inv", NULL);
  g_autoptr (AgentExecSseParser) parser = _agentexec_sse_parser_new (feed_sse_event, stream);
  g_autoptr (GPtrArray) steps = NULL;
  g_autoptr (GError) error = NULL;

  /* The model's deltas, 5 bytes each, one event each, as JSON strings. */
  for (gsize at = 0; at < sizeof reply - 1; at += 5)
    {
      g_autoptr (JsonNode) text = json_node_new (JSON_NODE_VALUE);
      g_autofree char *delta = g_strndup (reply + at, 5);
      g_autofree char *quoted = NULL;

      json_node_set_string (text, delta);
      quoted = json_to_string (text, FALSE);
      g_string_append_printf (sse,
                              "data: {\"candidates\": [{\"content\": {\"role\": \"model\","
                              " \"parts\": [{\"text\": %s}]}, \"index\": 0}]}\r\n\r\n",
                              quoted);
    }
  /* The transport splits it anywhere: one byte at a time. */
  for (gsize i = 0; i < sse->len; i++)
    g_assert_true (_agentexec_sse_parser_feed (parser, sse->str + i, 1, &error));
  g_assert_true (_agentexec_sse_parser_finish (parser, &error));
  g_assert_no_error (error);
  steps = agentexec_code_execution_stream_end (stream, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (steps->len, ==, 1);
  g_assert_cmpuint (f->fake->runs->len, ==, 1);
  g_assert_cmpstr (agentexec_code_execution_stream_get_text (stream), ==,
                   "Let me see.\n```python\nprint sse\n```\n"
                   "```tool_output\nCode execution result:\nsse\n\n\n```");
}

/* With the real local backend, streamed byte by byte. */
static void
test_stream_local (void)
{
  static const char reply[] = "Sure.\n```python\nx = 6 * 7\nprint(x)\n```\nDone.";
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecLocalExecutor) local = agentexec_local_executor_new (TRUE, &error);
  g_autoptr (AgentExecCodeExecutionFlow) flow = NULL;
  g_autoptr (AgentExecExecutorContext) context = agentexec_executor_context_new (NULL);
  g_autoptr (AgentExecCodeExecutionStream) stream = NULL;
  g_autoptr (GPtrArray) steps = NULL;
  AgentExecExecutionResult *result;

  if (local == NULL || !g_file_test ("/usr/bin/python3", G_FILE_TEST_IS_EXECUTABLE))
    {
      g_test_skip (local == NULL ? error->message : "no /usr/bin/python3");
      return;
    }
  flow = agentexec_code_execution_flow_new (AGENTEXEC_CODE_EXECUTOR (local));
  stream = agentexec_code_execution_flow_stream_text (flow, context, "inv", NULL);
  for (gsize i = 0; i < sizeof reply - 1; i++)
    agentexec_code_execution_stream_feed_full (stream, reply + i, 1);
  steps = agentexec_code_execution_stream_end (stream, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (steps->len, ==, 1);
  result = agentexec_code_execution_step_get_execution_result (g_ptr_array_index (steps, 0));
  g_assert_cmpstr (agentexec_execution_result_get_stdout (result), ==, "42\n");
  g_assert_cmpstr (agentexec_code_execution_stream_get_text (stream), ==,
                   "Sure.\n```python\nx = 6 * 7\nprint(x)\n```\n"
                   "```tool_output\nCode execution result:\n42\n\n\n```");
}

/* ------------------------------------------------------------------ */
/* preprocess_request.                                                 */

#define CSV_REQUEST                                                                                \
  "{\"contents\": ["                                                                               \
  " {\"role\": \"user\", \"parts\": ["                                                             \
  "   {\"inlineData\": {\"mimeType\": \"text/csv\", \"data\": \"Y2l0eSx0ZW1wCk9zbG8sMwo=\"}},"     \
  "   {\"text\": \"Summarise these.\"}]},"                                                         \
  " {\"role\": \"model\", \"parts\": [{\"text\": \"Sure.\"}]},"                                    \
  " {\"role\": \"user\", \"parts\": [{\"text\": \"And this:\"}, {\"text\": \"two\"},"              \
  "   {\"inline_data\": {\"mime_type\": \"text/csv\", \"data\": \"YSxiCjEsMgo=\"}},"               \
  "   {\"inlineData\": {\"mimeType\": \"image/png\", \"data\": \"iVBO\"}}]}]}"

/* ADK's data-file optimisation: the part text and the file names. */
static void
test_preprocess_csv (Fixture *f, gconstpointer data)
{
  g_autoptr (JsonObject) request = object_from (CSV_REQUEST);
  g_autoptr (GPtrArray) steps = NULL;
  g_autoptr (GPtrArray) files = NULL;
  g_auto (GStrv) processed = NULL;
  g_autoptr (GError) error = NULL;
  JsonArray *contents;
  JsonObject *part;

  g_object_set (f->fake, "optimize-data-file", TRUE, NULL);
  steps = agentexec_code_execution_flow_preprocess_request (f->flow, f->context, "inv", request,
                                                            NULL, &error);
  g_assert_no_error (error);
  contents = json_object_get_array_member (request, "contents");
  part = json_array_get_object_element (
      json_object_get_array_member (json_array_get_object_element (contents, 0), "parts"), 0);
  assert_json (part, "{\"text\": \"\\nAvailable file: `data_1_1.csv`\\n\"}");
  part = json_array_get_object_element (
      json_object_get_array_member (json_array_get_object_element (contents, 2), "parts"), 2);
  assert_json (part, "{\"text\": \"\\nAvailable file: `data_3_3.csv`\\n\"}");
  /* Other inline data stays. */
  part = json_array_get_object_element (
      json_object_get_array_member (json_array_get_object_element (contents, 2), "parts"), 3);
  g_assert_true (json_object_has_member (part, "inlineData"));

  files = agentexec_executor_context_get_input_files (f->context);
  g_assert_cmpuint (files->len, ==, 2);
  g_assert_cmpstr (agentexec_file_get_name (g_ptr_array_index (files, 1)), ==, "data_3_3.csv");
  g_assert_cmpstr (agentexec_file_get_mime_type (g_ptr_array_index (files, 1)), ==, "text/csv");
  processed = agentexec_executor_context_get_processed_file_names (f->context);
  g_assert_cmpstrv (processed, ((const char *[]){ "data_1_1.csv", "data_3_3.csv", NULL }));

  /* One exploration per file, each with its file only. */
  g_assert_cmpuint (steps->len, ==, 2);
  g_assert_cmpuint (f->fake->runs->len, ==, 2);
  {
    AgentExecExecutionInput *first = g_ptr_array_index (f->fake->runs, 0);
    GPtrArray *sent = agentexec_execution_input_get_files (first);
    g_autofree char *expected = agentexec_code_execution_flow_get_data_file_code ("data_1_1.csv");

    g_assert_cmpuint (sent->len, ==, 1);
    g_assert_cmpstr (agentexec_file_get_name (g_ptr_array_index (sent, 0)), ==, "data_1_1.csv");
    g_assert_cmpstr (agentexec_execution_input_get_code (first), ==, expected);
  }
  /* Code and result were appended, then rewritten as text (ADK's order). */
  g_assert_cmpuint (json_array_get_length (contents), ==, 7);
  {
    JsonObject *code = json_array_get_object_element (contents, 3);
    JsonObject *result = json_array_get_object_element (contents, 4);
    JsonArray *code_parts = json_object_get_array_member (code, "parts");
    const char *code_text =
        json_object_get_string_member (json_array_get_object_element (code_parts, 1), "text");

    g_assert_cmpstr (json_object_get_string_member (code, "role"), ==, "model");
    g_assert_cmpstr (
        json_object_get_string_member (json_array_get_object_element (code_parts, 0), "text"), ==,
        "Processing input file: `data_1_1.csv`");
    g_assert_true (g_str_has_prefix (code_text, "```tool_code\n"));
    g_assert_cmpstr (json_object_get_string_member (result, "role"), ==, "user");
    g_assert_true (g_str_has_prefix (
        json_object_get_string_member (
            json_array_get_object_element (json_object_get_array_member (result, "parts"), 0),
            "text"),
        "```tool_output\n"));
  }
  /* The step carries ADK's event content: label, then executable code. */
  {
    AgentExecCodeExecutionStep *step = g_ptr_array_index (steps, 0);
    JsonArray *parts = json_object_get_array_member (
        agentexec_code_execution_step_get_model_content (step), "parts");

    g_assert_true (
        json_object_has_member (json_array_get_object_element (parts, 1), "executableCode"));
    g_assert_nonnull (agentexec_code_execution_step_get_state_delta (step));
  }
  g_assert_cmpuint (f->fake->llm_requests, ==, 1);
  g_assert_true (json_object_has_member (request, "tools"));
}

/* Files already processed are not explored again. */
static void
test_preprocess_csv_once (Fixture *f, gconstpointer data)
{
  g_autoptr (GPtrArray) steps = NULL;
  g_autoptr (GPtrArray) again = NULL;
  g_autoptr (JsonObject) first = object_from (CSV_REQUEST);
  g_autoptr (JsonObject) second = object_from (CSV_REQUEST);

  g_object_set (f->fake, "optimize-data-file", TRUE, NULL);
  steps = agentexec_code_execution_flow_preprocess_request (f->flow, f->context, "inv", first, NULL,
                                                            NULL);
  again = agentexec_code_execution_flow_preprocess_request (f->flow, f->context, "inv", second,
                                                            NULL, NULL);
  g_assert_cmpuint (steps->len, ==, 2);
  g_assert_cmpuint (again->len, ==, 0);
  g_assert_cmpuint (f->fake->runs->len, ==, 2);
  {
    g_autoptr (GPtrArray) files = agentexec_executor_context_get_input_files (f->context);

    g_assert_cmpuint (files->len, ==, 2);
  }
}

/* Without optimize-data-file (the default) inline data stays; the history
 * is still rewritten. */
static void
test_preprocess_history_rewrite (Fixture *f, gconstpointer data)
{
  g_autoptr (JsonObject) request = object_from (
      "{\"contents\": ["
      " {\"role\": \"user\", \"parts\": [{\"inlineData\": {\"mimeType\": \"text/csv\","
      "   \"data\": \"YQ==\"}}]},"
      " {\"role\": \"model\", \"parts\": [{\"text\": \"Run:\"},"
      "   {\"executableCode\": {\"language\": \"PYTHON\", \"code\": \"print(1)\"}}]},"
      " {\"role\": \"model\", \"parts\": [{\"codeExecutionResult\": {\"outcome\": \"OUTCOME_OK\","
      "   \"output\": \"1\"}}]}]}");
  g_autoptr (GPtrArray) steps = NULL;

  steps = agentexec_code_execution_flow_preprocess_request (f->flow, f->context, "inv", request,
                                                            NULL, NULL);
  g_assert_cmpuint (steps->len, ==, 0);
  g_assert_cmpuint (f->fake->runs->len, ==, 0);
  assert_json (request,
               "{\"tools\": [{}], \"contents\": ["
               " {\"role\": \"user\", \"parts\": [{\"inlineData\": {\"mimeType\": \"text/csv\","
               "   \"data\": \"YQ==\"}}]},"
               " {\"role\": \"model\", \"parts\": [{\"text\": \"Run:\"},"
               "   {\"text\": \"```tool_code\\nprint(1)\\n```\"}]},"
               " {\"role\": \"user\", \"parts\": [{\"text\": \"```tool_output\\n1\\n```\"}]}]}");
}

/* The retry gate also stops the data-file exploration. */
static void
test_preprocess_gated (Fixture *f, gconstpointer data)
{
  g_autoptr (JsonObject) request = object_from (CSV_REQUEST);
  g_autoptr (GPtrArray) steps = NULL;

  g_object_set (f->fake, "optimize-data-file", TRUE, NULL);
  agentexec_executor_context_increment_error_count (f->context, "inv");
  agentexec_executor_context_increment_error_count (f->context, "inv");
  steps = agentexec_code_execution_flow_preprocess_request (f->flow, f->context, "inv", request,
                                                            NULL, NULL);
  g_assert_cmpuint (steps->len, ==, 0);
  g_assert_cmpuint (f->fake->runs->len, ==, 0);
}

static void
test_preprocess_async (Fixture *f, gconstpointer data)
{
  g_autoptr (JsonObject) request = object_from (CSV_REQUEST);
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GPtrArray) steps = NULL;
  g_autoptr (GError) error = NULL;

  g_object_set (f->fake, "optimize-data-file", TRUE, NULL);
  agentexec_code_execution_flow_preprocess_request_async (f->flow, f->context, "inv", request, NULL,
                                                          got_async, &res);
  steps =
      agentexec_code_execution_flow_preprocess_request_finish (f->flow, wait_for (&res), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (steps->len, ==, 2);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (request, "contents")), ==,
                    7);
}

/* ------------------------------------------------------------------ */
/* With the BuiltIn executor (Gemini runs the code itself).            */

/* preprocess: the executor adds Gemini's code-execution tool; no data-file
 * work; the history is still rewritten (ADK does it for every executor). */
static void
test_builtin_preprocess (void)
{
  g_autoptr (AgentExecBuiltInExecutor) builtin = agentexec_built_in_executor_new ();
  g_autoptr (AgentExecCodeExecutionFlow) flow =
      agentexec_code_execution_flow_new (AGENTEXEC_CODE_EXECUTOR (builtin));
  g_autoptr (AgentExecExecutorContext) context = agentexec_executor_context_new (NULL);
  g_autoptr (JsonObject) request = object_from (
      "{\"model\": \"gemini-2.0-flash\", \"contents\": ["
      " {\"role\": \"user\", \"parts\": [{\"inlineData\": {\"mimeType\": \"text/csv\","
      "   \"data\": \"YQ==\"}}]},"
      " {\"role\": \"model\", \"parts\": [{\"executableCode\": {\"code\": \"1+1\"}}]}]}");
  g_autoptr (GPtrArray) steps = NULL;
  g_autoptr (GError) error = NULL;

  g_object_set (builtin, "optimize-data-file", TRUE, NULL);
  steps = agentexec_code_execution_flow_preprocess_request (flow, context, "inv", request, NULL,
                                                            &error);
  g_assert_no_error (error);
  g_assert_cmpuint (steps->len, ==, 0);
  assert_json (request,
               "{\"model\": \"gemini-2.0-flash\","
               " \"config\": {\"tools\": [{\"codeExecution\": {}}]},"
               " \"contents\": ["
               " {\"role\": \"user\", \"parts\": [{\"inlineData\": {\"mimeType\": \"text/csv\","
               "   \"data\": \"YQ==\"}}]},"
               " {\"role\": \"model\", \"parts\": [{\"text\": \"```tool_code\\n1+1\\n```\"}]}]}");
}

/* ADK: other models fail with "Gemini code execution tool is not supported
 * for model <m>". */
static void
test_builtin_unsupported_model (void)
{
  g_autoptr (AgentExecBuiltInExecutor) builtin = agentexec_built_in_executor_new ();
  g_autoptr (AgentExecCodeExecutionFlow) flow =
      agentexec_code_execution_flow_new (AGENTEXEC_CODE_EXECUTOR (builtin));
  g_autoptr (AgentExecExecutorContext) context = agentexec_executor_context_new (NULL);
  g_autoptr (JsonObject) request =
      object_from ("{\"model\": \"gemini-1.5-pro\", \"contents\": []}");
  g_autoptr (GPtrArray) steps = NULL;
  g_autoptr (GError) error = NULL;

  steps = agentexec_code_execution_flow_preprocess_request (flow, context, "inv", request, NULL,
                                                            &error);
  g_assert_null (steps);
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_INVALID_INPUT);
  g_assert_nonnull (strstr (error->message, "Gemini code execution tool is not supported "
                                            "for model gemini-1.5-pro"));
}

/* postprocess: nothing runs here; inline images become artifacts and their
 * parts "Saved as artifact: <name>. " (ADK). */
static void
test_builtin_postprocess (void)
{
  g_autoptr (AgentExecBuiltInExecutor) builtin = agentexec_built_in_executor_new ();
  g_autoptr (AgentExecCodeExecutionFlow) flow =
      agentexec_code_execution_flow_new (AGENTEXEC_CODE_EXECUTOR (builtin));
  g_autoptr (AgentExecExecutorContext) context = agentexec_executor_context_new (NULL);
  g_autoptr (JsonObject) reply =
      object_from ("{\"role\": \"model\", \"parts\": ["
                   " {\"executableCode\": {\"language\": \"PYTHON\", \"code\": \"plot()\"}},"
                   " {\"codeExecutionResult\": {\"outcome\": \"OUTCOME_OK\", \"output\": \"\"}},"
                   " {\"inlineData\": {\"mimeType\": \"image/png\", \"data\": \"iVBORw==\","
                   "   \"displayName\": \"chart.png\"}},"
                   " {\"inline_data\": {\"mime_type\": \"image/jpeg\", \"data\": \"/9j/\"}},"
                   " {\"text\": \"```python\\nnot_run()\\n```\"}]}");
  g_autoptr (AgentExecCodeExecutionStep) step = NULL;
  g_autoptr (GRegex) stamp = g_regex_new ("^[0-9]{8}_[0-9]{6}\\.jpeg$", 0, 0, NULL);
  JsonArray *parts;
  GPtrArray *artifacts;
  AgentExecFile *second;
  gsize len;

  step = agentexec_code_execution_flow_postprocess_response (flow, context, "inv", reply, FALSE,
                                                             NULL, NULL);
  g_assert_false (agentexec_code_execution_step_get_executed (step));
  g_assert_null (agentexec_code_execution_step_get_result_content (step));
  artifacts = agentexec_code_execution_step_get_saved_artifacts (step);
  g_assert_cmpuint (artifacts->len, ==, 2);
  g_assert_cmpstr (agentexec_file_get_name (g_ptr_array_index (artifacts, 0)), ==, "chart.png");
  g_assert_cmpstr (agentexec_file_get_mime_type (g_ptr_array_index (artifacts, 0)), ==,
                   "image/png");
  g_bytes_get_data (agentexec_file_get_content (g_ptr_array_index (artifacts, 0)), &len);
  g_assert_cmpuint (len, ==, 4);
  second = g_ptr_array_index (artifacts, 1);
  g_assert_true (g_regex_match (stamp, agentexec_file_get_name (second), 0, NULL));
  parts = json_object_get_array_member (agentexec_code_execution_step_get_model_content (step),
                                        "parts");
  g_assert_cmpuint (json_array_get_length (parts), ==, 5);
  assert_json (json_array_get_object_element (parts, 2),
               "{\"text\": \"Saved as artifact: chart.png. \"}");
  g_assert_false (json_object_has_member (json_array_get_object_element (parts, 3), "inline_data"));
}

/* End to end with the local backend: the CSV part becomes an input file
 * that the exploration snippet reads in the run's work directory, then a
 * reply's code reads the same file. */
static void
test_local_csv_end_to_end (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecLocalExecutor) local = agentexec_local_executor_new (TRUE, &error);
  g_autoptr (AgentExecCodeExecutionFlow) flow = NULL;
  g_autoptr (AgentExecExecutorContext) context = agentexec_executor_context_new (NULL);
  g_autoptr (JsonObject) request =
      object_from ("{\"contents\": [{\"role\": \"user\", \"parts\": ["
                   " {\"inlineData\": {\"mimeType\": \"text/csv\","
                   "   \"data\": \"Y2l0eSx0ZW1wCk9zbG8sMwpMaW1hLDE5Cg==\"}},"
                   " {\"text\": \"Mean temperature?\"}]}]}");
  g_autoptr (JsonObject) reply =
      object_from ("{\"role\": \"model\", \"parts\": [{\"text\": \"```python\\nimport csv\\n"
                   "rows = list(csv.DictReader(open('data_1_1.csv')))\\n"
                   "print(sum(int(r['temp']) for r in rows) / len(rows))\\n```\"}]}");
  g_autoptr (GPtrArray) steps = NULL;
  g_autoptr (AgentExecCodeExecutionStep) step = NULL;
  AgentExecExecutionResult *result;

  if (local == NULL || !g_file_test ("/usr/bin/python3", G_FILE_TEST_IS_EXECUTABLE))
    {
      g_test_skip (local == NULL ? error->message : "no /usr/bin/python3");
      return;
    }
  g_object_set (local, "optimize-data-file", TRUE, NULL);
  flow = agentexec_code_execution_flow_new (AGENTEXEC_CODE_EXECUTOR (local));
  steps = agentexec_code_execution_flow_preprocess_request (flow, context, "inv", request, NULL,
                                                            &error);
  g_assert_no_error (error);
  g_assert_cmpuint (steps->len, ==, 1);
  result = agentexec_code_execution_step_get_execution_result (g_ptr_array_index (steps, 0));
  g_assert_cmpstr (agentexec_execution_result_get_stderr (result), ==, "");
  g_assert_nonnull (strstr (agentexec_execution_result_get_stdout (result), "Total rows: 2"));

  step = agentexec_code_execution_flow_postprocess_response (flow, context, "inv", reply, FALSE,
                                                             NULL, &error);
  g_assert_no_error (error);
  result = agentexec_code_execution_step_get_execution_result (step);
  g_assert_cmpstr (agentexec_execution_result_get_stdout (result), ==, "11.0\n");
  g_assert_cmpuint (agentexec_executor_context_get_error_count (context, "inv"), ==, 0);
}

/* The exploration snippet defines what it calls, and runs. */
static void
test_data_file_code (void)
{
  g_autofree char *code = agentexec_code_execution_flow_get_data_file_code ("data_1_1.csv");
  g_autofree char *odd = agentexec_code_execution_flow_get_data_file_code ("1st it's.csv");
  g_autofree char *dir = NULL;
  g_autofree char *csv = NULL;
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GSubprocess) proc = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_nonnull (strstr (code, "def explore_df("));
  g_assert_nonnull (strstr (code, "def crop("));
  g_assert_nonnull (strstr (code, "data_1_1 = pd.read_csv('data_1_1.csv')"));
  g_assert_true (g_str_has_suffix (code, "explore_df(data_1_1)\n"));
  g_assert_nonnull (strstr (odd, "_1st_it_s = pd.read_csv('1st it\\'s.csv')"));

  if (!g_file_test ("/usr/bin/python3", G_FILE_TEST_IS_EXECUTABLE))
    {
      g_test_skip ("no /usr/bin/python3 to run the snippet");
      return;
    }
  dir = g_dir_make_tmp ("agentexec-flow-XXXXXX", &error);
  g_assert_no_error (error);
  csv = g_build_filename (dir, "data_1_1.csv", NULL);
  g_file_set_contents (csv, "city,temp\nOslo,3\nLima,19\nOslo,\n", -1, &error);
  g_assert_no_error (error);
  launcher =
      g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_set_cwd (launcher, dir);
  proc = g_subprocess_launcher_spawn (launcher, &error, "/usr/bin/python3", "-c", code, NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (proc, NULL, NULL, &out, &err, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (err, ==, "");
  g_assert_true (g_subprocess_get_successful (proc));
  g_assert_nonnull (strstr (out, "Total rows: 3"));
  g_assert_nonnull (strstr (out, "Total columns: 2"));
  g_assert_nonnull (strstr (out, "city"));

  /* ADK's test of crop: never more than max_chars characters. */
  {
    g_autofree char *checks =
        g_strconcat (code,
                     "\nassert crop('abcdef', max_chars=2) == 'ab', crop('abcdef', max_chars=2)\n"
                     "assert crop('abcdef', max_chars=3) == 'abc'\n"
                     "assert crop('abcdef', max_chars=0) == ''\n"
                     "assert crop('abcdef', max_chars=-1) == ''\n"
                     "assert crop('abcdef', max_chars=5) == 'ab...'\n"
                     "assert crop('abcdef', max_chars=6) == 'abcdef'\n"
                     "assert crop('x' * 100) == 'x' * 61 + '...'\n"
                     "for n in range(-2, 12):\n"
                     "  assert len(crop('abcdefghij', n)) <= max(n, 0), n\n"
                     "print('crop ok')\n",
                     NULL);
    g_autoptr (GSubprocess) check = NULL;

    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
    check = g_subprocess_launcher_spawn (launcher, &error, "/usr/bin/python3", "-c", checks, NULL);
    g_assert_no_error (error);
    g_subprocess_communicate_utf8 (check, NULL, NULL, &out, &err, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (err, ==, "");
    g_assert_true (g_str_has_suffix (out, "crop ok\n"));
  }
  g_remove (csv);
  g_rmdir (dir);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/agentexec/flow/genai/executable-code-part", test_genai_executable_code_part);
  g_test_add_func ("/agentexec/flow/genai/result/stdout", test_genai_result_stdout);
  g_test_add_func ("/agentexec/flow/genai/result/empty", test_genai_result_empty);
  g_test_add_func ("/agentexec/flow/genai/result/stderr", test_genai_result_stderr);
  g_test_add_func ("/agentexec/flow/genai/result/stderr-keeps-stdout",
                   test_genai_result_stderr_keeps_stdout);
  g_test_add_func ("/agentexec/flow/genai/result/artifacts", test_genai_result_artifacts);
  g_test_add_func ("/agentexec/flow/genai/result/failed-outcomes",
                   test_genai_result_failed_outcomes);
  g_test_add_func ("/agentexec/flow/genai/rewrite/trailing-code", test_genai_convert_trailing_code);
  g_test_add_func ("/agentexec/flow/genai/rewrite/single-result", test_genai_convert_single_result);
  g_test_add_func ("/agentexec/flow/genai/rewrite/untouched", test_genai_convert_untouched);
  g_test_add_func ("/agentexec/flow/genai/extract/first-block-only",
                   test_genai_extract_first_block);
  g_test_add_func ("/agentexec/flow/genai/extract/tail-dropped", test_genai_extract_tail_dropped);
  g_test_add_func ("/agentexec/flow/genai/extract/empty-block", test_genai_extract_empty_block);
  g_test_add_func ("/agentexec/flow/genai/extract/joined-parts", test_genai_extract_joined_parts);
  g_test_add_func ("/agentexec/flow/genai/extract/native-part", test_genai_extract_native_part);
  g_test_add_func ("/agentexec/flow/genai/extract/delimiters", test_genai_extract_delimiters);

#define ADD(path, func)                                                                            \
  g_test_add ("/agentexec/flow/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("postprocess/first-block", test_flow_runs_first_block);
  ADD ("postprocess/partial-skipped", test_flow_partial_skipped);
  ADD ("postprocess/no-code", test_flow_no_code);
  ADD ("postprocess/error-increments", test_flow_error_increments);
  ADD ("postprocess/gate", test_flow_gate);
  ADD ("postprocess/success-resets", test_flow_success_resets);
  ADD ("postprocess/state-delta", test_flow_state_delta);
  ADD ("postprocess/files", test_flow_files);
  ADD ("postprocess/executor-error", test_flow_executor_error);
  ADD ("postprocess/async", test_flow_postprocess_async);
  ADD ("text/result-appended", test_text_result_appended);
  ADD ("text/passes-through", test_text_passes_through);
  ADD ("text/custom-delimiters", test_text_custom_delimiters);
  ADD ("text/async", test_text_async);
  ADD ("preprocess/csv", test_preprocess_csv);
  ADD ("preprocess/csv-once", test_preprocess_csv_once);
  ADD ("preprocess/history-rewrite", test_preprocess_history_rewrite);
  ADD ("preprocess/gated", test_preprocess_gated);
  ADD ("preprocess/async", test_preprocess_async);
  ADD ("stream/runs-before-end", test_stream_runs_before_end);
  ADD ("stream/executor-error", test_stream_executor_error);
  ADD ("stream/cancelled", test_stream_cancelled);
  ADD ("stream/nul", test_stream_nul);
  ADD ("stream/from-sse", test_stream_from_sse);
#undef ADD
  g_test_add_func ("/agentexec/flow/stream/first-block", test_stream_first_block);
  g_test_add_func ("/agentexec/flow/stream/all-blocks", test_stream_all_blocks);
  g_test_add_func ("/agentexec/flow/stream/gate", test_stream_gate);
  g_test_add_func ("/agentexec/flow/stream/local", test_stream_local);
  g_test_add_func ("/agentexec/flow/postprocess/gate-default", test_flow_gate_default);
  g_test_add_func ("/agentexec/flow/settings/not-by-name", test_flow_settings_not_by_name);
  g_test_add_func ("/agentexec/flow/settings/builtin-flag", test_flow_builtin_flag);
  g_test_add_func ("/agentexec/flow/preprocess/data-file-code", test_data_file_code);
  g_test_add_func ("/agentexec/flow/local/csv-end-to-end", test_local_csv_end_to_end);
  g_test_add_func ("/agentexec/flow/builtin/preprocess", test_builtin_preprocess);
  g_test_add_func ("/agentexec/flow/builtin/unsupported-model", test_builtin_unsupported_model);
  g_test_add_func ("/agentexec/flow/builtin/postprocess", test_builtin_postprocess);

  return g_test_run ();
}
