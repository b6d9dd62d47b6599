/* test-core.c: core types, language registry, formatter, executor base
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include "libagentexec.h"
#include "agentexec-base-executor-private.h"
#include "agentexec-code-executor-private.h"
#include "agentexec-execution-result-private.h"
#include "agentexec-file-private.h"
#include "agentexec-language-private.h"

/* A test executor: echoes the code on stdout, streams it in two chunks, and
 * fails with the code's text as stderr when the code starts with "fail". */
#define TEST_TYPE_ECHO_EXECUTOR (test_echo_executor_get_type ())
G_DECLARE_FINAL_TYPE (
    TestEchoExecutor, test_echo_executor, TEST, ECHO_EXECUTOR, AgentExecBaseExecutor)

struct _TestEchoExecutor
{
  AgentExecBaseExecutor parent_instance;
  GThread *last_thread;
};

G_DEFINE_FINAL_TYPE (TestEchoExecutor, test_echo_executor, AGENTEXEC_TYPE_BASE_EXECUTOR)

static AgentExecExecutionResult *
test_echo_executor_run (AgentExecBaseExecutor *executor,
                        AgentExecExecutorContext *context,
                        AgentExecExecutionInput *input,
                        const char *language,
                        GCancellable *cancellable,
                        GError **error)
{
  TestEchoExecutor *self = TEST_ECHO_EXECUTOR (executor);
  const char *code = agentexec_execution_input_get_code (input);
  GMainContext *output_context = _agentexec_code_executor_get_output_context ();
  AgentExecExecutionResult *result = _agentexec_execution_result_new_empty ();
  gsize half = strlen (code) / 2;

  self->last_thread = g_thread_self ();
  _agentexec_code_executor_emit_output_in (AGENTEXEC_CODE_EXECUTOR (self), output_context, input,
                                           AGENTEXEC_STREAM_STDOUT, code, half);
  _agentexec_code_executor_emit_output_in (AGENTEXEC_CODE_EXECUTOR (self), output_context, input,
                                           AGENTEXEC_STREAM_STDOUT, code + half,
                                           strlen (code) - half);
  _agentexec_execution_result_set_stdout (result, code, -1);
  if (g_str_has_prefix (code, "hang"))
    {
      /* A backend's view of a run killed at its deadline: partial output. */
      _agentexec_execution_result_set_stderr (result, "partial err", -1);
      _agentexec_execution_result_set_outcome (result, AGENTEXEC_OUTCOME_DEADLINE_EXCEEDED);
    }
  if (g_str_has_prefix (code, "fail"))
    {
      _agentexec_execution_result_set_stderr (result, code, -1);
      _agentexec_execution_result_set_exit_code (result, 1);
    }
  return result;
}

static void
test_echo_executor_class_init (TestEchoExecutorClass *klass)
{
  AGENTEXEC_BASE_EXECUTOR_CLASS (klass)->run = test_echo_executor_run;
}

static void
test_echo_executor_init (TestEchoExecutor *self)
{
}

/* Languages */

static void
test_language_aliases (void)
{
  static const struct
  {
    const char *name;
    const char *canonical;
  } cases[] = {
    { "python", "python" },
    { "PY", "python" },
    { "Python3", "python" },
    { "tool_code", "python" },
    { " py ", "python" },
    { "node", "javascript" },
    { "JS", "javascript" },
    { "nodejs", "javascript" },
    { "JavaScript", "javascript" },
    { "sh", "bash" },
    { "Shell", "bash" },
    { "BASH", "bash" },
    { "r", "r" },
    { "R", "r" },
    { "java", "java" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      const char *resolved = agentexec_language_resolve (cases[i].name, &error);

      g_assert_no_error (error);
      g_assert_cmpstr (resolved, ==, cases[i].canonical);
    }
  g_assert_cmpstr (agentexec_language_get_extension ("PY"), ==, ".py");
  g_assert_cmpstr (agentexec_language_get_extension ("node"), ==, ".js");
  g_assert_cmpstr (agentexec_language_get_extension ("sh"), ==, ".sh");
  g_assert_null (agentexec_language_get_extension ("cobol"));
  g_assert_cmpuint (g_strv_length ((char **) agentexec_language_get_supported ()), ==, 5);
}

static void
test_language_unsupported (void)
{
  g_autoptr (GError) error = NULL;

  g_assert_null (agentexec_language_resolve ("cobol", &error));
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_UNSUPPORTED_LANGUAGE);
  g_assert_nonnull (strstr (error->message, "“cobol”"));
  g_assert_nonnull (strstr (error->message, "python, javascript, bash, r, java"));
  g_clear_error (&error);

  g_assert_null (agentexec_language_resolve ("", &error));
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_UNSUPPORTED_LANGUAGE);
}

static void
test_language_detect (void)
{
  static const struct
  {
    const char *code;
    const char *expected;
  } cases[] = {
    { "#!/usr/bin/env python3\nx = 1\n", "python" },
    { "#!/usr/bin/python3.11\n", "python" },
    { "#!/bin/bash\necho hi\n", "bash" },
    { "#!/bin/sh\nprint('looks like python')\n", "bash" },
    { "#!/usr/bin/env -S node --no-warnings\nconsole.log(1)\n", "javascript" },
    { "#!/usr/bin/env node\nprint(1)\n", "javascript" },
    { "import os\nprint(os.getcwd())\n", "python" },
    { "def f(x):\n    return x * 2\n\nprint(f(21))\n", "python" },
    { "for i in range(3):\n    print(i)\n", "python" },
    { "const x = [1, 2, 3];\nconsole.log(x.map(v => v * 2));\n", "javascript" },
    { "function add(a, b) { return a + b; }\n", "javascript" },
    { "let s = require('fs');\n", "javascript" },
    { "echo \"hello\"\nls -la\n", "bash" },
    { "for f in *.txt; do\n  cat \"$f\"\ndone\n", "bash" },
    { "x <- c(1, 2, 3)\nprint(mean(x))\n", "r" },
    { "public class Main {\n  public static void main(String[] a) {\n"
      "    System.out.println(1);\n  }\n}\n",
      "java" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_test_message ("detect %u: %s", i, cases[i].code);
      g_assert_cmpstr (agentexec_language_detect (cases[i].code), ==, cases[i].expected);
    }
  g_assert_null (agentexec_language_detect (""));
  g_assert_null (agentexec_language_detect ("hello there, nothing to run"));
}

static void
test_language_for_input (void)
{
  g_autoptr (AgentExecExecutionInput) input = agentexec_execution_input_new ("plain words", NULL);
  g_autoptr (GError) error = NULL;

  g_assert_cmpstr (_agentexec_language_for_input (input, &error), ==, "python");
  agentexec_execution_input_set_code (input, "console.log(1);");
  g_assert_cmpstr (_agentexec_language_for_input (input, &error), ==, "javascript");
  agentexec_execution_input_set_language (input, "SH");
  g_assert_cmpstr (_agentexec_language_for_input (input, &error), ==, "bash");
  agentexec_execution_input_set_language (input, "brainfuck");
  g_assert_null (_agentexec_language_for_input (input, &error));
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_UNSUPPORTED_LANGUAGE);
}

static void
test_language_detect_large (void)
{
  GString *code = g_string_new (NULL);
  gint64 start;

  /* 4 MB of one long line: detection looks at a bounded window only. */
  for (guint i = 0; i < 4 * 1024 * 1024 / 8; i++)
    g_string_append (code, "x = 1; y");
  start = g_get_monotonic_time ();
  agentexec_language_detect (code->str);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 2 * G_USEC_PER_SEC);
  g_string_free (code, TRUE);
}

/* Files */

static void
test_file_base64_binary (void)
{
  static const guint8 data[] = { 'a', 0, 0xff, 0xfe, 0, '\n', 0x80, 'z' };
  g_autoptr (GBytes) bytes = g_bytes_new_static (data, sizeof data);
  g_autoptr (AgentExecFile) file = agentexec_file_new ("blob.bin", NULL, bytes);
  g_autoptr (JsonNode) node = agentexec_file_to_json (file);
  g_autoptr (AgentExecFile) back = NULL;
  g_autoptr (GError) error = NULL;
  JsonObject *object = json_node_get_object (node);

  g_assert_cmpstr (agentexec_file_get_mime_type (file), ==, "application/octet-stream");
  g_assert_cmpstr (json_object_get_string_member (object, "name"), ==, "blob.bin");
  g_assert_cmpstr (json_object_get_string_member (object, "content"), ==, "YQD//gAKgHo=");
  g_assert_cmpstr (json_object_get_string_member (object, "mime_type"), ==,
                   "application/octet-stream");

  back = agentexec_file_new_from_json (node, &error);
  g_assert_no_error (error);
  g_assert_true (agentexec_file_equal (file, back));
  g_assert_cmpmem (g_bytes_get_data (agentexec_file_get_content (back), NULL), sizeof data, data,
                   sizeof data);
}

static void
test_file_from_json_errors (void)
{
  static const char *bad[] = {
    "[1, 2]", "{}", "{\"name\": 3}", "{\"name\": \"\"}", "\"x\"",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (JsonNode) node = json_from_string (bad[i], NULL);
      g_autoptr (GError) error = NULL;

      g_assert_null (agentexec_file_new_from_json (node, &error));
      g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_INVALID_INPUT);
    }

  {
    g_autoptr (JsonNode) node =
        json_from_string ("{\"name\": \"a.csv\", \"content\": \"YSxiCg==\", \"mimeType\": "
                          "\"text/csv\"}",
                          NULL);
    g_autoptr (AgentExecFile) file = agentexec_file_new_from_json (node, NULL);

    g_assert_cmpstr (agentexec_file_get_mime_type (file), ==, "text/csv");
    g_assert_cmpuint (g_bytes_get_size (agentexec_file_get_content (file)), ==, 4);
  }
}

static void
test_file_validate_name (void)
{
  static const char *good[] = { "a.csv", "dir/b.txt", "ünï cödé.txt", "x..y", ".hidden" };
  static const char *bad[] = {
    "", "/etc/passwd", "../x", "a/../../x", "a//b", "./a", "a/", "a\\b", "a/./b",
  };

  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    g_assert_true (_agentexec_file_validate_name (good[i], NULL));
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;

      g_assert_false (_agentexec_file_validate_name (bad[i], &error));
      g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_INVALID_INPUT);
    }
}

static void
test_file_mime (void)
{
  static const guint8 png[] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0 };
  g_autofree char *a = _agentexec_file_guess_mime ("plot.PNG", NULL, 0);
  g_autofree char *b = _agentexec_file_guess_mime ("noext", png, sizeof png);
  g_autofree char *c = _agentexec_file_guess_mime ("notes", (const guint8 *) "héllo", 6);
  g_autofree char *d = _agentexec_file_guess_mime ("data.csv", NULL, 0);
  g_autofree char *e = _agentexec_file_guess_mime ("empty", NULL, 0);
  g_autoptr (GBytes) nothing = g_bytes_new (NULL, 0);
  g_autoptr (AgentExecFile) empty = agentexec_file_new ("empty", NULL, nothing);

  g_assert_cmpstr (a, ==, "image/png");
  g_assert_cmpstr (b, ==, "image/png");
  g_assert_cmpstr (c, ==, "text/plain");
  g_assert_cmpstr (d, ==, "text/csv");
  g_assert_cmpstr (e, ==, "text/plain");
  g_assert_cmpstr (agentexec_file_get_mime_type (empty), ==, "text/plain");
}

/* Input and result */

static void
test_input_properties (void)
{
  g_autoptr (AgentExecExecutionInput) input = agentexec_execution_input_new ("print(1)", "py");
  g_autoptr (GBytes) one = g_bytes_new_static ("1", 1);
  g_autoptr (GBytes) two = g_bytes_new_static ("2", 1);
  g_autoptr (AgentExecFile) f1 = agentexec_file_new ("a.txt", NULL, one);
  g_autoptr (AgentExecFile) f2 = agentexec_file_new ("a.txt", NULL, two);
  const char *argv[] = { "--x", "y", NULL };
  const char *env[] = { "A=1", NULL };
  guint timeout = 0;

  agentexec_execution_input_add_file (input, f1);
  agentexec_execution_input_add_file (input, f2);
  g_assert_cmpuint (agentexec_execution_input_get_files (input)->len, ==, 1);
  g_assert_true (g_ptr_array_index (agentexec_execution_input_get_files (input), 0) == f2);
  agentexec_execution_input_set_argv (input, argv);
  agentexec_execution_input_set_env (input, env);
  g_assert_cmpstrv (agentexec_execution_input_get_argv (input), argv);
  g_assert_cmpstrv (agentexec_execution_input_get_env (input), env);
  g_object_set (input, "timeout-ms", 1500, NULL);
  g_object_get (input, "timeout-ms", &timeout, NULL);
  g_assert_cmpuint (timeout, ==, 1500);
  g_assert_cmpstr (agentexec_execution_input_get_language (input), ==, "py");
  agentexec_execution_input_clear_files (input);
  g_assert_cmpuint (agentexec_execution_input_get_files (input)->len, ==, 0);
}

static void
test_result_settle_outcome (void)
{
  g_autoptr (AgentExecExecutionResult) silent =
      agentexec_execution_result_new (AGENTEXEC_OUTCOME_OK, "partial", "", 3, NULL);
  g_autoptr (AgentExecExecutionResult) ok =
      agentexec_execution_result_new (AGENTEXEC_OUTCOME_OK, "fine", NULL, 0, NULL);
  g_autoptr (AgentExecExecutionResult) warned =
      agentexec_execution_result_new (AGENTEXEC_OUTCOME_OK, "", "DeprecationWarning", 0, NULL);
  g_autoptr (AgentExecExecutionResult) killed = _agentexec_execution_result_new_empty ();

  g_assert_cmpint (agentexec_execution_result_get_outcome (silent), ==, AGENTEXEC_OUTCOME_FAILED);
  g_assert_true (agentexec_execution_result_is_error (silent));
  g_assert_cmpint (agentexec_execution_result_get_outcome (ok), ==, AGENTEXEC_OUTCOME_OK);
  g_assert_false (agentexec_execution_result_is_error (ok));
  g_assert_cmpstr (agentexec_execution_result_get_stderr (ok), ==, "");
  /* ADK semantics: stderr alone makes an error, even with exit 0 */
  g_assert_cmpint (agentexec_execution_result_get_outcome (warned), ==, AGENTEXEC_OUTCOME_OK);
  g_assert_true (agentexec_execution_result_is_error (warned));

  _agentexec_execution_result_set_signal (killed, 9);
  _agentexec_execution_result_set_exit_code (killed, -1);
  _agentexec_execution_result_settle_outcome (killed);
  g_assert_cmpint (agentexec_execution_result_get_outcome (killed), ==, AGENTEXEC_OUTCOME_FAILED);
  g_assert_cmpuint (agentexec_execution_result_get_attempts (killed), ==, 1);
}

static void
test_result_text_from_bytes (void)
{
  static const char raw[] = { 'o', 'k', 0, (char) 0xff, 'x', (char) 0xc3 };
  g_autofree char *text = _agentexec_text_from_bytes (raw, sizeof raw);
  g_autofree char *plain = _agentexec_text_from_bytes ("héllo", -1);

  g_assert_cmpstr (text, ==, "ok\xef\xbf\xbd\xef\xbf\xbdx\xef\xbf\xbd");
  g_assert_true (g_utf8_validate (text, -1, NULL));
  g_assert_cmpstr (plain, ==, "héllo");
}

static void
test_result_to_json (void)
{
  g_autoptr (GBytes) bytes = g_bytes_new_static ("a,b\n", 4);
  g_autoptr (AgentExecFile) file = agentexec_file_new ("out.csv", NULL, bytes);
  g_autoptr (GPtrArray) files = g_ptr_array_new ();
  g_autoptr (AgentExecExecutionResult) result = NULL;
  g_autoptr (JsonNode) node = NULL;
  JsonObject *object;

  g_ptr_array_add (files, file);
  result = agentexec_execution_result_new (AGENTEXEC_OUTCOME_OK, "hi\n", "", 0, files);
  node = agentexec_execution_result_to_json (result);
  object = json_node_get_object (node);
  g_assert_cmpstr (json_object_get_string_member (object, "outcome"), ==, "OUTCOME_OK");
  g_assert_cmpstr (json_object_get_string_member (object, "stdout"), ==, "hi\n");
  g_assert_cmpint (json_object_get_int_member (object, "exit_code"), ==, 0);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (object, "output_files")),
                    ==, 1);
  g_assert_cmpstr (agentexec_outcome_to_string (AGENTEXEC_OUTCOME_DEADLINE_EXCEEDED), ==,
                   "OUTCOME_DEADLINE_EXCEEDED");
}

/* Formatter */

static AgentExecExecutionResult *
result_with (const char *out, const char *err, guint n_files)
{
  g_autoptr (GPtrArray) files = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GBytes) bytes = g_bytes_new_static ("x", 1);

  for (guint i = 0; i < n_files; i++)
    {
      g_autofree char *name = g_strdup_printf ("f%u.png", i + 1);

      g_ptr_array_add (files, agentexec_file_new (name, NULL, bytes));
    }
  return agentexec_execution_result_new (AGENTEXEC_OUTCOME_OK, out, err, 0, files);
}

static void
test_formatter_adk_text (void)
{
  g_autoptr (AgentExecResultFormatter) formatter = agentexec_result_formatter_new ();
  static const struct
  {
    const char *out, *err;
    guint files;
    const char *expected;
  } cases[] = {
    { "42\n", "", 0, "Code execution result:\n42\n\n" },
    { "", "", 0, "Code execution result:\n\n" },
    { "", "Traceback: boom", 0, "Traceback: boom" },
    { "", "", 2, "Saved artifacts:\n`f1.png`,`f2.png`" },
    { "done", "", 1, "Code execution result:\ndone\n\n\nSaved artifacts:\n`f1.png`" },
    /* ADK would lose "partial" here; we keep it before the error */
    { "partial", "boom", 0, "Code execution result:\npartial\n\nError:\nboom" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (AgentExecExecutionResult) result =
          result_with (cases[i].out, cases[i].err, cases[i].files);
      g_autofree char *text = agentexec_result_formatter_format_result (formatter, result);

      g_assert_cmpstr (text, ==, cases[i].expected);
    }

  {
    g_autoptr (AgentExecExecutionResult) result = result_with ("42\n", "", 0);
    g_autofree char *inline_text =
        agentexec_result_formatter_format_inline_result (formatter, result);

    g_assert_cmpstr (inline_text, ==, "```tool_output\nCode execution result:\n42\n\n\n```");
  }
}

static void
test_formatter_round_trip (void)
{
  g_autoptr (AgentExecResultFormatter) formatter = agentexec_result_formatter_new ();
  g_autoptr (AgentExecResultFormatter) custom =
      agentexec_result_formatter_new_with_delimiters ("<out>", "</out>");
  static const char *outputs[] = {
    "plain",
    "",
    "\n",
    "a\n```\nb",
    "````python\nx\n````",
    "``` inline ``` ticks",
    "ends with fence\n```",
    "```",
    "unicode ✓ — ok",
    "line\n\n```tool_output\nnested\n```\n",
  };
  GString *text = g_string_new ("Model said something.\n\n");
  g_auto (GStrv) found = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (outputs); i++)
    {
      g_autofree char *wrapped = agentexec_result_formatter_wrap (formatter, outputs[i]);
      g_auto (GStrv) single =
          agentexec_result_formatter_extract_execution_results (formatter, wrapped);

      g_assert_cmpuint (g_strv_length (single), ==, 1);
      g_assert_cmpstr (single[0], ==, outputs[i]);
      g_string_append_printf (text, "%s\nSome prose between.\n", wrapped);
    }
  found = agentexec_result_formatter_extract_execution_results (formatter, text->str);
  g_assert_cmpuint (g_strv_length (found), ==, G_N_ELEMENTS (outputs));
  for (guint i = 0; i < G_N_ELEMENTS (outputs); i++)
    g_assert_cmpstr (found[i], ==, outputs[i]);
  g_string_free (text, TRUE);

  {
    g_autofree char *wrapped = agentexec_result_formatter_wrap (custom, "x</ou");
    g_auto (GStrv) back = agentexec_result_formatter_extract_execution_results (custom, wrapped);

    g_assert_cmpstr (wrapped, ==, "<out>x</ou</out>");
    g_assert_cmpstrv (back, ((const char *[]){ "x</ou", NULL }));
  }
  {
    g_auto (GStrv) none = agentexec_result_formatter_extract_execution_results (
        formatter, "```tool_output\nunclosed result");

    g_assert_cmpuint (g_strv_length (none), ==, 0);
  }
}

/* Executor base */

static void
test_executor_defaults (void)
{
  g_autoptr (AgentExecBaseExecutor) executor = g_object_new (TEST_TYPE_ECHO_EXECUTOR, NULL);
  const char *const adk_code[] = { "```tool_code\n", "\n```", "```python\n", "\n```", NULL };
  const char *const adk_result[] = { "```tool_output\n", "\n```", NULL };
  guint64 max_output;
  gboolean stateful, long_running, optimize;

  g_object_get (executor, "max-output-bytes", &max_output, "stateful", &stateful, "long-running",
                &long_running, "optimize-data-file", &optimize, NULL);
  g_assert_cmpuint (agentexec_base_executor_get_error_retry_attempts (executor), ==, 2);
  g_assert_cmpuint (agentexec_base_executor_get_timeout_ms (executor), ==, 60000);
  g_assert_cmpuint (agentexec_base_executor_get_max_retries (executor), ==, 0);
  g_assert_cmpuint (max_output, ==, 1024 * 1024);
  g_assert_false (stateful);
  g_assert_false (long_running);
  g_assert_false (optimize);
  g_assert_cmpstrv (agentexec_base_executor_get_code_block_delimiters (executor), adk_code);
  g_assert_cmpstrv (agentexec_base_executor_get_execution_result_delimiters (executor), adk_result);
  g_assert_true (AGENTEXEC_IS_CODE_EXECUTOR (executor));
}

/* ADK's sentence, in the base class's timeout path, after the partial output. */
static void
test_executor_timeout_sentence (void)
{
  g_autoptr (AgentExecBaseExecutor) executor = g_object_new (TEST_TYPE_ECHO_EXECUTOR, NULL);
  static const struct
  {
    guint executor_ms, input_ms;
    const char *expected;
  } cases[] = {
    { 5000, 0, "partial err\nCode execution timed out after 5 seconds." },
    { 60000, 1500, "partial err\nCode execution timed out after 1.5 seconds." },
    { 60000, 250, "partial err\nCode execution timed out after 0.25 seconds." },
    { 1001, 0, "partial err\nCode execution timed out after 1.001 seconds." },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (AgentExecExecutionInput) input = agentexec_execution_input_new ("hang", "python");
      g_autoptr (AgentExecExecutionResult) result = NULL;
      g_autoptr (GError) error = NULL;

      agentexec_base_executor_set_timeout_ms (executor, cases[i].executor_ms);
      agentexec_execution_input_set_timeout_ms (input, cases[i].input_ms);
      result = agentexec_code_executor_execute_code (AGENTEXEC_CODE_EXECUTOR (executor), NULL,
                                                     input, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpint (agentexec_execution_result_get_outcome (result), ==,
                       AGENTEXEC_OUTCOME_DEADLINE_EXCEEDED);
      g_assert_cmpstr (agentexec_execution_result_get_stdout (result), ==, "hang");
      g_assert_cmpstr (agentexec_execution_result_get_stderr (result), ==, cases[i].expected);
    }
}

static void
test_executor_bad_delimiters (void)
{
  g_autoptr (AgentExecBaseExecutor) executor = g_object_new (TEST_TYPE_ECHO_EXECUTOR, NULL);
  const char *const odd[] = { "<a>", NULL };
  const char *const custom[] = { "<r>", "</r>", NULL };

  g_test_expect_message ("AgentExec", G_LOG_LEVEL_CRITICAL, "*pairs of non-empty strings*");
  g_object_set (executor, "execution-result-delimiters", odd, NULL);
  g_test_assert_expected_messages ();
  g_assert_cmpstr (agentexec_base_executor_get_execution_result_delimiters (executor)[0], ==,
                   "```tool_output\n");
  g_object_set (executor, "execution-result-delimiters", custom, NULL);
  g_assert_cmpstrv (agentexec_base_executor_get_execution_result_delimiters (executor), custom);
}

static void
collect_output (AgentExecCodeExecutor *executor,
                AgentExecExecutionInput *input,
                AgentExecStream stream,
                GBytes *chunk,
                gpointer user_data)
{
  GString *collected = user_data;

  g_assert_true (g_main_context_is_owner (g_main_context_default ()) ||
                 g_main_context_get_thread_default () == NULL);
  g_string_append_len (collected, g_bytes_get_data (chunk, NULL), g_bytes_get_size (chunk));
}

static void
test_executor_sync (void)
{
  g_autoptr (AgentExecBaseExecutor) executor = g_object_new (TEST_TYPE_ECHO_EXECUTOR, NULL);
  g_autoptr (AgentExecExecutionInput) input = agentexec_execution_input_new ("echo hi; ls", NULL);
  g_autoptr (AgentExecExecutionResult) result = NULL;
  g_autoptr (GError) error = NULL;
  GString *collected = g_string_new (NULL);

  g_signal_connect (executor, "output", G_CALLBACK (collect_output), collected);
  result = agentexec_code_executor_execute_code (AGENTEXEC_CODE_EXECUTOR (executor), NULL, input,
                                                 NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (collected->str, ==, "echo hi; ls");
  g_assert_true (TEST_ECHO_EXECUTOR (executor)->last_thread == g_thread_self ());
  g_assert_cmpstr (agentexec_execution_result_get_language (result), ==, "bash");
  g_assert_cmpuint (agentexec_execution_result_get_attempts (result), ==, 1);
  g_assert_cmpint (agentexec_execution_result_get_duration_us (result), >, 0);
  g_string_free (collected, TRUE);
}

static void
test_executor_failure_outcome (void)
{
  g_autoptr (AgentExecBaseExecutor) executor = g_object_new (TEST_TYPE_ECHO_EXECUTOR, NULL);
  g_autoptr (AgentExecExecutionInput) input = agentexec_execution_input_new ("fail now", "python");
  g_autoptr (AgentExecExecutionResult) result = NULL;

  result = agentexec_code_executor_execute_code (AGENTEXEC_CODE_EXECUTOR (executor), NULL, input,
                                                 NULL, NULL);
  g_assert_cmpint (agentexec_execution_result_get_outcome (result), ==, AGENTEXEC_OUTCOME_FAILED);
  g_assert_cmpstr (agentexec_execution_result_get_stderr (result), ==, "fail now");
}

static void
test_executor_unsupported_language (void)
{
  g_autoptr (AgentExecBaseExecutor) executor = g_object_new (TEST_TYPE_ECHO_EXECUTOR, NULL);
  g_autoptr (AgentExecExecutionInput) input = agentexec_execution_input_new ("x", "fortran77");
  g_autoptr (GError) error = NULL;

  g_assert_null (agentexec_code_executor_execute_code (AGENTEXEC_CODE_EXECUTOR (executor), NULL,
                                                       input, NULL, &error));
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_UNSUPPORTED_LANGUAGE);
}

static void
test_executor_cancelled_before_start (void)
{
  g_autoptr (AgentExecBaseExecutor) executor = g_object_new (TEST_TYPE_ECHO_EXECUTOR, NULL);
  g_autoptr (AgentExecExecutionInput) input = agentexec_execution_input_new ("print(1)", NULL);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GError) error = NULL;

  g_cancellable_cancel (cancellable);
  g_assert_null (agentexec_code_executor_execute_code (AGENTEXEC_CODE_EXECUTOR (executor), NULL,
                                                       input, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

static void
on_executed (GObject *source, GAsyncResult *res, gpointer user_data)
{
  AgentExecExecutionResult **out = user_data;
  GError *error = NULL;

  *out =
      agentexec_code_executor_execute_code_finish (AGENTEXEC_CODE_EXECUTOR (source), res, &error);
  g_assert_no_error (error);
}

static void
count_chunk (AgentExecCodeExecutor *executor,
             AgentExecExecutionInput *input,
             AgentExecStream stream,
             GBytes *chunk,
             gpointer user_data)
{
  GPtrArray *chunks = user_data;

  g_ptr_array_add (chunks, g_strndup (g_bytes_get_data (chunk, NULL), g_bytes_get_size (chunk)));
}

static void
test_executor_async (void)
{
  g_autoptr (AgentExecBaseExecutor) executor = g_object_new (TEST_TYPE_ECHO_EXECUTOR, NULL);
  g_autoptr (AgentExecExecutionInput) input = agentexec_execution_input_new ("print('abcd')", NULL);
  g_autoptr (GPtrArray) chunks = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GMainContext) context = g_main_context_new ();
  AgentExecExecutionResult *result = NULL;

  g_main_context_push_thread_default (context);
  g_signal_connect (executor, "output", G_CALLBACK (count_chunk), chunks);
  agentexec_code_executor_execute_code_async (AGENTEXEC_CODE_EXECUTOR (executor), NULL, input, NULL,
                                              on_executed, &result);
  while (result == NULL)
    g_main_context_iteration (context, TRUE);
  /* the chunks were emitted in this thread, in order, before completion */
  g_assert_cmpuint (chunks->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (chunks, 0), ==, "print(");
  g_assert_cmpstr (g_ptr_array_index (chunks, 1), ==, "'abcd')");
  g_assert_false (TEST_ECHO_EXECUTOR (executor)->last_thread == g_thread_self ());
  g_assert_cmpstr (agentexec_execution_result_get_stdout (result), ==, "print('abcd')");
  g_assert_cmpstr (agentexec_execution_result_get_language (result), ==, "python");
  g_main_context_pop_thread_default (context);
  g_object_unref (result);
}

static void
test_executor_process_llm_request_default (void)
{
  g_autoptr (AgentExecBaseExecutor) executor = g_object_new (TEST_TYPE_ECHO_EXECUTOR, NULL);
  g_autoptr (JsonNode) request = json_from_string ("{\"contents\": [], \"tools\": []}", NULL);
  g_autofree char *before = json_to_string (request, FALSE);
  g_autofree char *after = NULL;

  g_assert_true (agentexec_code_executor_process_llm_request (
      AGENTEXEC_CODE_EXECUTOR (executor), json_node_get_object (request), NULL));
  after = json_to_string (request, FALSE);
  g_assert_cmpstr (before, ==, after);
}

/* An interface implementation that forgot execute_code. */
#define TEST_TYPE_EMPTY_EXECUTOR (test_empty_executor_get_type ())
G_DECLARE_FINAL_TYPE (TestEmptyExecutor, test_empty_executor, TEST, EMPTY_EXECUTOR, GObject)
struct _TestEmptyExecutor
{
  GObject parent_instance;
};
static void
test_empty_executor_iface_init (AgentExecCodeExecutorInterface *iface)
{
}
G_DEFINE_FINAL_TYPE_WITH_CODE (TestEmptyExecutor,
                               test_empty_executor,
                               G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (AGENTEXEC_TYPE_CODE_EXECUTOR,
                                                      test_empty_executor_iface_init))
static void
test_empty_executor_class_init (TestEmptyExecutorClass *klass)
{
}
static void
test_empty_executor_init (TestEmptyExecutor *self)
{
}

static void
test_executor_not_implemented (void)
{
  g_autoptr (GObject) executor = g_object_new (TEST_TYPE_EMPTY_EXECUTOR, NULL);
  g_autoptr (AgentExecExecutionInput) input = agentexec_execution_input_new ("1", NULL);
  g_autoptr (GError) error = NULL;

  g_assert_null (agentexec_code_executor_execute_code (AGENTEXEC_CODE_EXECUTOR (executor), NULL,
                                                       input, NULL, &error));
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "TestEmptyExecutor"));
  agentexec_code_executor_close (AGENTEXEC_CODE_EXECUTOR (executor));
}

static void
test_misuse_criticals (void)
{
  g_autoptr (GError) error = NULL;

  if (g_test_subprocess ())
    {
      g_test_expect_message ("AgentExec", G_LOG_LEVEL_CRITICAL, "*AGENTEXEC_IS_CODE_EXECUTOR*");
      g_assert_null (agentexec_code_executor_execute_code (NULL, NULL, NULL, NULL, &error));
      g_test_assert_expected_messages ();
      g_test_expect_message ("AgentExec", G_LOG_LEVEL_CRITICAL, "*name != NULL*");
      g_assert_null (agentexec_language_resolve (NULL, NULL));
      g_test_assert_expected_messages ();
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/agentexec/core/language/aliases", test_language_aliases);
  g_test_add_func ("/agentexec/core/language/unsupported", test_language_unsupported);
  g_test_add_func ("/agentexec/core/language/detect", test_language_detect);
  g_test_add_func ("/agentexec/core/language/for-input", test_language_for_input);
  g_test_add_func ("/agentexec/core/language/detect-large", test_language_detect_large);
  g_test_add_func ("/agentexec/core/file/base64-binary", test_file_base64_binary);
  g_test_add_func ("/agentexec/core/file/from-json-errors", test_file_from_json_errors);
  g_test_add_func ("/agentexec/core/file/validate-name", test_file_validate_name);
  g_test_add_func ("/agentexec/core/file/mime", test_file_mime);
  g_test_add_func ("/agentexec/core/input/properties", test_input_properties);
  g_test_add_func ("/agentexec/core/result/settle-outcome", test_result_settle_outcome);
  g_test_add_func ("/agentexec/core/result/text-from-bytes", test_result_text_from_bytes);
  g_test_add_func ("/agentexec/core/result/to-json", test_result_to_json);
  g_test_add_func ("/agentexec/core/formatter/adk-text", test_formatter_adk_text);
  g_test_add_func ("/agentexec/core/formatter/round-trip", test_formatter_round_trip);
  g_test_add_func ("/agentexec/core/executor/defaults", test_executor_defaults);
  g_test_add_func ("/agentexec/core/executor/bad-delimiters", test_executor_bad_delimiters);
  g_test_add_func ("/agentexec/core/executor/timeout-sentence", test_executor_timeout_sentence);
  g_test_add_func ("/agentexec/core/executor/sync", test_executor_sync);
  g_test_add_func ("/agentexec/core/executor/failure-outcome", test_executor_failure_outcome);
  g_test_add_func ("/agentexec/core/executor/unsupported-language",
                   test_executor_unsupported_language);
  g_test_add_func ("/agentexec/core/executor/cancelled-before-start",
                   test_executor_cancelled_before_start);
  g_test_add_func ("/agentexec/core/executor/async", test_executor_async);
  g_test_add_func ("/agentexec/core/executor/process-llm-request-default",
                   test_executor_process_llm_request_default);
  g_test_add_func ("/agentexec/core/executor/not-implemented", test_executor_not_implemented);
  g_test_add_func ("/agentexec/core/misuse/criticals", test_misuse_criticals);

  return g_test_run ();
}
