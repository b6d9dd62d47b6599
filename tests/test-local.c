/* test-local.c: the Local backend without its kernel sandbox (sandbox none,
 * allow-unsafe: rlimits, uids, cgroups, process groups), sessions and
 * drivers; tests/test-local-sandbox.c covers the sandbox.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libagentexec.h"
#include "agentexec-test-procs.h"
#include "agentexec-driver-private.h"
#include "agentexec-uninitialised.h"

#define PYTHON "/usr/bin/python3"

static AgentExecLocalExecutor *
new_executor (gboolean stateful)
{
  g_autoptr (GError) error = NULL;
  AgentExecLocalExecutor *executor =
      g_initable_new (AGENTEXEC_TYPE_LOCAL_EXECUTOR, NULL, &error, "allow-unsafe", TRUE, "sandbox",
                      AGENTEXEC_LOCAL_SANDBOX_NONE, NULL);

  g_assert_no_error (error);
  /* Debian's python3 has PyGObject and Matplotlib; a pyenv shim on PATH may not. */
  g_assert_true (agentexec_local_executor_set_interpreter (executor, "python", PYTHON, &error));
  g_assert_no_error (error);
  agentexec_base_executor_set_stateful (AGENTEXEC_BASE_EXECUTOR (executor), stateful);
  return executor;
}

static AgentExecExecutionResult *
run_input (AgentExecLocalExecutor *executor, AgentExecExecutionInput *input)
{
  g_autoptr (GError) error = NULL;
  AgentExecExecutionResult *result = agentexec_code_executor_execute_code (
      AGENTEXEC_CODE_EXECUTOR (executor), NULL, input, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (result);
  return result;
}

static AgentExecExecutionResult *
run_code (AgentExecLocalExecutor *executor,
          const char *language,
          const char *code,
          guint timeout_ms)
{
  g_autoptr (AgentExecExecutionInput) input = agentexec_execution_input_new (code, language);

  agentexec_execution_input_set_timeout_ms (input, timeout_ms);
  return run_input (executor, input);
}

/* Whether any process still has @pgid as its process group (or is @pgid). */
static gboolean
group_alive (GPid pgid)
{
  g_autoptr (GDir) dir = g_dir_open ("/proc", 0, NULL);
  const char *name;

  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = NULL;
      g_autofree char *stat = NULL;
      const char *close_paren;
      char state;
      int ppid, pgrp;

      if (!g_ascii_isdigit (name[0]))
        continue;
      path = g_build_filename ("/proc", name, "stat", NULL);
      if (!g_file_get_contents (path, &stat, NULL, NULL))
        continue;
      close_paren = strrchr (stat, ')');
      if (close_paren == NULL || sscanf (close_paren + 2, "%c %d %d", &state, &ppid, &pgrp) != 3)
        continue;
      if (state != 'Z' && (pgrp == pgid || atoi (name) == pgid))
        return TRUE;
    }
  return FALSE;
}

static GPid
first_number (const char *text)
{
  while (*text != '\0' && !g_ascii_isdigit (*text))
    text++;
  return (GPid) atoi (text);
}

/* Without the sandbox, the host is only reached with the opt-in; with it
 * (the default) no opt-in is needed. */
static void
test_unsafe_not_allowed (void)
{
  g_autoptr (GError) sandbox_error = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecLocalExecutor) sandboxed =
      agentexec_local_executor_new (FALSE, &sandbox_error);
  g_autoptr (AgentExecLocalExecutor) executor =
      g_initable_new (AGENTEXEC_TYPE_LOCAL_EXECUTOR, NULL, &error, "sandbox",
                      AGENTEXEC_LOCAL_SANDBOX_NONE, "allow-unsafe", FALSE, NULL);

  g_assert_no_error (sandbox_error);
  g_assert_nonnull (sandboxed);
  g_assert_null (executor);
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_UNSAFE_NOT_ALLOWED);
  g_assert_nonnull (strstr (error->message, "allow-unsafe"));
  g_assert_nonnull (strstr (error->message, "container"));
}

/* g_object_new() skips init(), where allow-unsafe is checked: every run path
 * must still refuse, whether allow-unsafe is set or not, and a failed init()
 * leaves the executor refusing. */
static void
test_not_initialised (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecExecutionInput) input = agentexec_execution_input_new ("print(6 * 7)", "py");
  g_autoptr (AgentExecExecutionResult) result = NULL;

  for (int allow_unsafe = 0; allow_unsafe <= 1; allow_unsafe++)
    {
      g_autoptr (AgentExecLocalExecutor) executor =
          g_object_new (AGENTEXEC_TYPE_LOCAL_EXECUTOR, "allow-unsafe", allow_unsafe, NULL);

      agentexec_test_assert_refuses_uninitialised (AGENTEXEC_CODE_EXECUTOR (executor));
    }

  {
    g_autoptr (AgentExecLocalExecutor) executor =
        g_object_new (AGENTEXEC_TYPE_LOCAL_EXECUTOR, "allow-unsafe", FALSE, "sandbox",
                      AGENTEXEC_LOCAL_SANDBOX_NONE, NULL);

    g_assert_false (g_initable_init (G_INITABLE (executor), NULL, &error));
    g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_UNSAFE_NOT_ALLOWED);
    g_clear_error (&error);
    agentexec_test_assert_refuses_uninitialised (AGENTEXEC_CODE_EXECUTOR (executor));
  }

  {
    g_autoptr (AgentExecLocalExecutor) executor =
        g_object_new (AGENTEXEC_TYPE_LOCAL_EXECUTOR, "allow-unsafe", TRUE, NULL);

    g_assert_true (g_initable_init (G_INITABLE (executor), NULL, &error));
    g_assert_no_error (error);
    result = agentexec_code_executor_execute_code (AGENTEXEC_CODE_EXECUTOR (executor), NULL, input,
                                                   NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (agentexec_execution_result_get_stdout (result), ==, "42\n");
  }
}

static void
test_hello (gconstpointer data)
{
  const char *const *spec = data;
  g_autoptr (AgentExecLocalExecutor) executor = new_executor (FALSE);
  g_autoptr (AgentExecExecutionResult) result = run_code (executor, spec[0], spec[1], 30000);

  g_assert_cmpstr (agentexec_execution_result_get_stdout (result), ==, "hello 42\n");
  g_assert_cmpstr (agentexec_execution_result_get_stderr (result), ==, "");
  g_assert_cmpint (agentexec_execution_result_get_exit_code (result), ==, 0);
  g_assert_cmpint (agentexec_execution_result_get_outcome (result), ==, AGENTEXEC_OUTCOME_OK);
  g_assert_cmpstr (agentexec_execution_result_get_language (result), ==, spec[2]);
  g_assert_cmpuint (agentexec_execution_result_get_attempts (result), ==, 1);
  g_assert_cmpint (agentexec_execution_result_get_duration_us (result), >, 0);
}

static void
test_exit_codes (void)
{
  g_autoptr (AgentExecLocalExecutor) executor = new_executor (FALSE);
  g_autoptr (AgentExecExecutionResult) silent = run_code (executor, "bash", "exit 3", 30000);
  g_autoptr (AgentExecExecutionResult) traceback =
      run_code (executor, "python", "print('before')\nraise ValueError('bad value')\n", 30000);
  g_autoptr (AgentExecExecutionResult) killed = run_code (executor, "bash", "kill -9 $$", 30000);

  /* A non-zero exit with empty stderr is FAILED, never OK. */
  g_assert_cmpint (agentexec_execution_result_get_exit_code (silent), ==, 3);
  g_assert_cmpstr (agentexec_execution_result_get_stderr (silent), ==, "");
  g_assert_cmpint (agentexec_execution_result_get_outcome (silent), ==, AGENTEXEC_OUTCOME_FAILED);

  /* stdout is kept on error; the traceback starts in the user's code. */
  g_assert_cmpstr (agentexec_execution_result_get_stdout (traceback), ==, "before\n");
  g_assert_nonnull (
      strstr (agentexec_execution_result_get_stderr (traceback), "ValueError: bad value"));
  g_assert_null (strstr (agentexec_execution_result_get_stderr (traceback), "_ae_"));
  g_assert_cmpint (agentexec_execution_result_get_exit_code (traceback), ==, 1);
  g_assert_cmpint (agentexec_execution_result_get_outcome (traceback), ==,
                   AGENTEXEC_OUTCOME_FAILED);

  g_assert_cmpint (agentexec_execution_result_get_signal (killed), ==, SIGKILL);
  g_assert_cmpint (agentexec_execution_result_get_outcome (killed), ==, AGENTEXEC_OUTCOME_FAILED);
}

static AgentExecFile *
text_file (const char *name, const char *text)
{
  g_autoptr (GBytes) bytes = g_bytes_new (text, strlen (text));

  return agentexec_file_new (name, NULL, bytes);
}

static AgentExecFile *
find_file (AgentExecExecutionResult *result, const char *name)
{
  GPtrArray *files = agentexec_execution_result_get_output_files (result);

  for (guint i = 0; files != NULL && i < files->len; i++)
    if (g_str_equal (agentexec_file_get_name (g_ptr_array_index (files, i)), name))
      return g_ptr_array_index (files, i);
  return NULL;
}

static char *
file_text (AgentExecFile *file)
{
  gsize len;
  const char *data = g_bytes_get_data (agentexec_file_get_content (file), &len);

  return g_strndup (data, len);
}

static void
test_files (void)
{
  g_autoptr (AgentExecLocalExecutor) executor = new_executor (FALSE);
  g_autoptr (AgentExecExecutionInput) input = agentexec_execution_input_new (
      "import os\n"
      "rows = open('data/in.csv').read().splitlines()\n"
      "open('out.txt', 'w').write('rows=%d\\n' % len(rows))\n"
      "open('data/changed.txt', 'a').write('more\\n')\n"
      "open('r\\u00e9sum\\u00e9 \\U0001F4C4.txt', 'w').write('unicode')\n"
      "os.symlink('/etc/passwd', 'leak')\n"
      "print(sorted(os.listdir('.')))\n",
      "python");
  g_autoptr (AgentExecExecutionResult) result = NULL;
  g_autoptr (AgentExecFile) csv = text_file ("data/in.csv", "a,b\n1,2\n");
  g_autoptr (AgentExecFile) changed = text_file ("data/changed.txt", "start\n");
  g_autofree char *out = NULL;
  g_autofree char *more = NULL;
  AgentExecFile *file;

  agentexec_execution_input_add_file (input, csv);
  agentexec_execution_input_add_file (input, changed);
  result = run_input (executor, input);
  g_assert_cmpstr (agentexec_execution_result_get_stderr (result), ==, "");

  file = find_file (result, "out.txt");
  g_assert_nonnull (file);
  out = file_text (file);
  g_assert_cmpstr (out, ==, "rows=2\n");
  g_assert_cmpstr (agentexec_file_get_mime_type (file), ==, "text/plain");
  file = find_file (result, "data/changed.txt");
  g_assert_nonnull (file);
  more = file_text (file);
  g_assert_cmpstr (more, ==, "start\nmore\n");
  g_assert_nonnull (find_file (result, "r\xc3\xa9sum\xc3\xa9 \xf0\x9f\x93\x84.txt"));
  /* Unchanged inputs are not outputs; links are never followed. */
  g_assert_null (find_file (result, "data/in.csv"));
  g_assert_null (find_file (result, "leak"));
  g_assert_cmpuint (agentexec_execution_result_get_output_files (result)->len, ==, 3);
}

static void
test_bad_file_names (void)
{
  const char *names[] = { "../escape.txt", "/etc/evil", "a/../../b", "", "a//b" };
  g_autoptr (AgentExecLocalExecutor) executor = new_executor (FALSE);

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autoptr (AgentExecExecutionInput) input =
          agentexec_execution_input_new ("print(1)", "python");
      g_autoptr (AgentExecFile) file = text_file (names[i], "x");
      g_autoptr (GError) error = NULL;
      g_autoptr (AgentExecExecutionResult) result = NULL;

      agentexec_execution_input_add_file (input, file);
      result = agentexec_code_executor_execute_code (AGENTEXEC_CODE_EXECUTOR (executor), NULL,
                                                     input, NULL, &error);
      g_assert_null (result);
      g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_INVALID_INPUT);
    }
}

static void
test_symlink_escape (void)
{
  g_autoptr (AgentExecLocalExecutor) executor = new_executor (TRUE);
  g_autofree char *outside = g_dir_make_tmp ("agentexec-outside-XXXXXX", NULL);
  g_autofree char *quoted = g_strdup_printf ("'%s'", outside);
  g_autofree char *link_code = g_strdup_printf ("import os\nos.symlink(%s, 'd')\n", quoted);
  g_autoptr (AgentExecExecutionResult) first = NULL;
  g_autoptr (AgentExecExecutionInput) second = agentexec_execution_input_new ("print(1)", "python");
  g_autoptr (AgentExecFile) evil = text_file ("d/evil.txt", "x");
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecExecutionResult) refused = NULL;
  g_autofree char *evil_path = g_build_filename (outside, "evil.txt", NULL);

  first = run_code (executor, "python", link_code, 30000);
  g_assert_cmpint (agentexec_execution_result_get_outcome (first), ==, AGENTEXEC_OUTCOME_OK);
  agentexec_execution_input_add_file (second, evil);
  refused = agentexec_code_executor_execute_code (AGENTEXEC_CODE_EXECUTOR (executor), NULL, second,
                                                  NULL, &error);
  g_assert_null (refused);
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_INVALID_INPUT);
  g_assert_false (g_file_test (evil_path, G_FILE_TEST_EXISTS));
  rmdir (outside);
}

static void
test_timeout (void)
{
  g_autoptr (AgentExecLocalExecutor) executor = new_executor (FALSE);
  gint64 start = g_get_monotonic_time ();
  g_autoptr (AgentExecExecutionResult) result = run_code (
      executor, "python", "import os\nprint(os.getpid(), flush=True)\nwhile True: pass\n", 1000);
  gint64 elapsed = g_get_monotonic_time () - start;

  g_assert_cmpint (agentexec_execution_result_get_outcome (result), ==,
                   AGENTEXEC_OUTCOME_DEADLINE_EXCEEDED);
  g_assert_cmpint (elapsed, <, 2 * G_USEC_PER_SEC);
  /* Partial output is kept, and stderr holds ADK's sentence. */
  g_assert_cmpint (first_number (agentexec_execution_result_get_stdout (result)), >, 0);
  g_assert_false (group_alive (first_number (agentexec_execution_result_get_stdout (result))));
  g_assert_cmpstr (agentexec_execution_result_get_stderr (result), ==,
                   "Code execution timed out after 1 seconds.");
}

static void
test_term_ignored (void)
{
  g_autoptr (AgentExecLocalExecutor) executor = new_executor (FALSE);
  gint64 start = g_get_monotonic_time ();
  g_autoptr (AgentExecExecutionResult) result = run_code (
      executor, "bash", "trap '' TERM\necho $$\n(trap '' TERM; sleep 60) &\nsleep 60\n", 800);

  g_assert_cmpint (agentexec_execution_result_get_outcome (result), ==,
                   AGENTEXEC_OUTCOME_DEADLINE_EXCEEDED);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 1800 * 1000);
  g_assert_false (group_alive (first_number (agentexec_execution_result_get_stdout (result))));
}

static void
test_grandchild_keeps_pipe (void)
{
  g_autoptr (AgentExecLocalExecutor) executor = new_executor (FALSE);
  gint64 start = g_get_monotonic_time ();
  g_autoptr (AgentExecExecutionResult) result =
      run_code (executor, "bash", "echo $$\nsleep 30 &\necho parent done\n", 10000);

  g_assert_cmpint (g_get_monotonic_time () - start, <, 2 * G_USEC_PER_SEC);
  g_assert_cmpint (agentexec_execution_result_get_outcome (result), ==, AGENTEXEC_OUTCOME_OK);
  g_assert_nonnull (strstr (agentexec_execution_result_get_stdout (result), "parent done\n"));
  g_assert_false (group_alive (first_number (agentexec_execution_result_get_stdout (result))));
}

/* A process that leaves the session and group is found by its uid. */
static void
test_escaped_process (void)
{
  g_autoptr (AgentExecLocalExecutor) executor = new_executor (FALSE);
  g_autoptr (AgentExecExecutionResult) result = NULL;
  g_autoptr (AgentExecExecutionResult) who = NULL;

  if (geteuid () != 0)
    {
      g_test_skip ("needs root: sandbox uids");
      return;
    }
  result =
      run_code (executor, "bash",
                "setsid sh -c 'touch started; exec sleep 61.25' > /dev/null 2>&1 < /dev/null &\n"
                "while [ ! -e started ]; do sleep 0.01; done\necho started\n",
                10000);
  g_assert_cmpstr (agentexec_execution_result_get_stdout (result), ==, "started\n");
  g_assert_false (agentexec_test_command_alive ("sleep 61.25"));

  /* And the code does not run as root. */
  who = run_code (executor, "bash", "id -u; cat /proc/1/environ > /dev/null || echo denied", 10000);
  g_assert_cmpstr (agentexec_execution_result_get_stdout (who), !=, "0\n");
  g_assert_nonnull (strstr (agentexec_execution_result_get_stdout (who), "denied"));
}

static void
test_fork_bomb (void)
{
  g_autoptr (AgentExecLocalExecutor) executor = new_executor (FALSE);
  gint64 start = g_get_monotonic_time ();
  g_autoptr (AgentExecExecutionResult) result = NULL;
  g_autoptr (AgentExecExecutionResult) after = NULL;
  AgentExecOutcome outcome;

  g_object_set (executor, "max-processes", 64, NULL);
  result = run_code (executor, "bash", "echo $$\n:() { : | : & }\n:\nsleep 30\n", 2000);
  outcome = agentexec_execution_result_get_outcome (result);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 3 * G_USEC_PER_SEC);
  g_assert_true (outcome == AGENTEXEC_OUTCOME_DEADLINE_EXCEEDED ||
                 outcome == AGENTEXEC_OUTCOME_RESOURCE_EXHAUSTED);
  g_assert_false (group_alive (first_number (agentexec_execution_result_get_stdout (result))));

  /* The host is unaffected: the next run works. */
  after = run_code (executor, "bash", "echo fine", 10000);
  g_assert_cmpstr (agentexec_execution_result_get_stdout (after), ==, "fine\n");
}

static void
test_memory_hog (void)
{
  g_autoptr (AgentExecLocalExecutor) executor = new_executor (FALSE);
  gint64 start = g_get_monotonic_time ();
  g_autoptr (AgentExecExecutionResult) result = NULL;

  if (RUNNING_ON_VALGRIND)
    {
      /* Valgrind keeps RLIMIT_DATA to itself: the code would take the
       * host's memory until its timeout. */
      g_test_skip ("valgrind does not pass RLIMIT_DATA to the kernel");
      return;
    }
  g_object_set (executor, "max-memory-bytes", (guint64) 256 << 20, NULL);
  result = run_code (executor, "python",
                     "blocks = []\nwhile True:\n    blocks.append(bytearray(16 << 20))\n", 10000);
  g_assert_cmpint (agentexec_execution_result_get_outcome (result), ==,
                   AGENTEXEC_OUTCOME_RESOURCE_EXHAUSTED);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 11 * G_USEC_PER_SEC);
}

static void
test_huge_output (void)
{
  g_autoptr (AgentExecLocalExecutor) executor = new_executor (FALSE);
  g_autoptr (AgentExecExecutionResult) result = NULL;
  const char *out;

  g_object_set (executor, "max-output-bytes", (guint64) 1 << 20, NULL);
  result = run_code (executor, "python",
                     "import sys\nchunk = b'x' * 1000000\n"
                     "for _ in range(100): sys.stdout.buffer.write(chunk)\n"
                     "sys.stderr.write('done')\n",
                     30000);
  out = agentexec_execution_result_get_stdout (result);
  g_assert_cmpint (agentexec_execution_result_get_outcome (result), ==, AGENTEXEC_OUTCOME_OK);
  g_assert_true (agentexec_execution_result_get_stdout_truncated (result));
  g_assert_false (agentexec_execution_result_get_stderr_truncated (result));
  g_assert_cmpuint (strlen (out), <, (1 << 20) + 256);
  g_assert_cmpuint (strspn (out, "x"), ==, 1 << 20);
  g_assert_nonnull (strstr (out, "output truncated: 98951424 more bytes"));
  g_assert_cmpstr (agentexec_execution_result_get_stderr (result), ==, "done");
}

static void
test_odd_output (void)
{
  g_autoptr (AgentExecLocalExecutor) executor = new_executor (FALSE);
  g_autoptr (AgentExecExecutionResult) no_newline =
      run_code (executor, "python", "print('abc', end='')", 30000);
  g_autoptr (AgentExecExecutionResult) binary = run_code (
      executor, "python", "import sys\nsys.stdout.buffer.write(b'A\\xff\\xfeB\\x00C')\n", 30000);
  g_autoptr (AgentExecExecutionResult) nul = run_code (executor, "bash", "printf 'a\\0b'", 30000);

  g_assert_cmpstr (agentexec_execution_result_get_stdout (no_newline), ==, "abc");
  g_assert_true (g_utf8_validate (agentexec_execution_result_get_stdout (binary), -1, NULL));
  g_assert_cmpstr (agentexec_execution_result_get_stdout (binary), ==,
                   "A\xef\xbf\xbd\xef\xbf\xbd"
                   "B\xef\xbf\xbd"
                   "C");
  g_assert_cmpstr (agentexec_execution_result_get_stdout (nul), ==,
                   "a\xef\xbf\xbd"
                   "b");
}

static void
test_stdin_and_closed_stdout (void)
{
  g_autoptr (AgentExecLocalExecutor) executor = new_executor (FALSE);
  g_autoptr (AgentExecExecutionResult) py =
      run_code (executor, "python", "import sys\nprint(repr(sys.stdin.read()))\n", 5000);
  g_autoptr (AgentExecExecutionResult) sh =
      run_code (executor, "bash", "cat\nread line || echo eof\n", 5000);
  g_autoptr (AgentExecExecutionResult) js =
      run_code (executor, "javascript", "console.log(require('fs').readFileSync(0).length)", 5000);
  g_autoptr (AgentExecExecutionResult) closed =
      run_code (executor, "python",
                "import os, time\nprint('x', flush=True)\nos.close(1)\ntime.sleep(0.2)\n"
                "os.write(2, b'still here')\n",
                5000);

  g_assert_cmpstr (agentexec_execution_result_get_stdout (py), ==, "''\n");
  g_assert_cmpstr (agentexec_execution_result_get_stdout (sh), ==, "eof\n");
  g_assert_cmpstr (agentexec_execution_result_get_stdout (js), ==, "0\n");
  g_assert_cmpstr (agentexec_execution_result_get_stdout (closed), ==, "x\n");
  g_assert_cmpstr (agentexec_execution_result_get_stderr (closed), ==, "still here");
}

static void
test_environment (void)
{
  g_autoptr (AgentExecLocalExecutor) executor = new_executor (FALSE);
  g_autoptr (AgentExecExecutionInput) input = agentexec_execution_input_new (
      "import os\nprint(os.environ.get('AGENTEXEC_TEST_SECRET'), os.environ.get('FOO'),\n"
      "      os.environ['HOME'] != os.environ.get('REAL_HOME'), 'PATH' in os.environ)\n",
      "python");
  const char *env[] = { "FOO=bar", NULL };
  g_autoptr (AgentExecExecutionResult) result = NULL;

  g_setenv ("AGENTEXEC_TEST_SECRET", "hunter2", TRUE);
  agentexec_execution_input_set_env (input, env);
  result = run_input (executor, input);
  g_assert_cmpstr (agentexec_execution_result_get_stdout (result), ==, "None bar True True\n");
  g_unsetenv ("AGENTEXEC_TEST_SECRET");
}

static void
test_argv_and_work_dir (void)
{
  g_autoptr (AgentExecLocalExecutor) executor = new_executor (FALSE);
  g_autofree char *dir = g_dir_make_tmp ("agentexec-workdir-XXXXXX", NULL);
  g_autofree char *kept = g_build_filename (dir, "kept.txt", NULL);
  g_autoptr (AgentExecExecutionInput) input = agentexec_execution_input_new (
      "import sys\nopen('kept.txt', 'w').write('k')\nprint(sys.argv[1:])\n", "python");
  const char *argv[] = { "one", "two words", NULL };
  g_autoptr (AgentExecExecutionResult) result = NULL;

  g_object_set (executor, "work-dir", dir, NULL);
  agentexec_execution_input_set_argv (input, argv);
  result = run_input (executor, input);
  g_assert_cmpstr (agentexec_execution_result_get_stdout (result), ==, "['one', 'two words']\n");
  g_assert_nonnull (find_file (result, "kept.txt"));
  g_assert_true (g_file_test (kept, G_FILE_TEST_EXISTS));
  unlink (kept);
  rmdir (dir);
}

static void
test_languages (void)
{
  g_autoptr (AgentExecLocalExecutor) executor = new_executor (FALSE);
  g_autoptr (AgentExecExecutionInput) r = agentexec_execution_input_new ("print(1)", "r");
  g_autoptr (GError) error = NULL;
  g_autofree char *rscript = agentexec_local_executor_get_interpreter (executor, "r");
  g_autofree char *java = agentexec_local_executor_get_interpreter (executor, "java");
  g_autoptr (AgentExecExecutionResult) result = NULL;

  if (rscript == NULL)
    {
      result = agentexec_code_executor_execute_code (AGENTEXEC_CODE_EXECUTOR (executor), NULL, r,
                                                     NULL, &error);
      g_assert_null (result);
      g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_UNSUPPORTED_LANGUAGE);
      g_assert_nonnull (strstr (error->message, "Rscript"));
    }
  if (java != NULL)
    {
      g_autoptr (AgentExecExecutionResult) j =
          run_code (executor, "java",
                    "public class Main { public static void main(String[] a) {"
                    " System.out.println(\"hello java\"); } }",
                    60000);

      g_assert_cmpstr (agentexec_execution_result_get_stdout (j), ==, "hello java\n");
    }
  g_clear_error (&error);
  g_assert_false (
      agentexec_local_executor_set_interpreter (executor, "cobol", "/bin/true", &error));
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_UNSUPPORTED_LANGUAGE);
}

typedef struct
{
  GString *chunks;
  guint count;
  gint64 first_at;
  GThread *thread;
  int last_stream;
} Streamed;

static void
on_output (AgentExecCodeExecutor *executor,
           AgentExecExecutionInput *input,
           AgentExecStream stream,
           GBytes *chunk,
           gpointer data)
{
  Streamed *s = data;
  gsize len;
  const char *bytes = g_bytes_get_data (chunk, &len);

  if (s->count++ == 0)
    s->first_at = g_get_monotonic_time ();
  s->thread = g_thread_self ();
  /* Chunks are not lines: label each run of one stream once. */
  if (s->last_stream != (int) stream)
    g_string_append_printf (s->chunks, "%s:", stream == AGENTEXEC_STREAM_STDOUT ? "out" : "err");
  s->last_stream = stream;
  g_string_append_len (s->chunks, bytes, len);
}

static void
test_streaming_sync (gconstpointer data)
{
  gboolean stateful = GPOINTER_TO_INT (data);
  g_autoptr (AgentExecLocalExecutor) executor = new_executor (stateful);
  Streamed s = { g_string_new (NULL), 0, 0, NULL, -1 };
  g_autoptr (AgentExecExecutionResult) result = NULL;
  gint64 end;

  g_signal_connect (executor, "output", G_CALLBACK (on_output), &s);
  result = run_code (executor, "python",
                     "import sys, time\nprint('first')\ntime.sleep(0.4)\n"
                     "sys.stderr.write('second\\n')\n",
                     30000);
  end = g_get_monotonic_time ();
  g_assert_cmpstr (agentexec_execution_result_get_stdout (result), ==, "first\n");
  g_assert_cmpstr (s.chunks->str, ==, "out:first\nerr:second\n");
  g_assert_true (s.thread == g_thread_self ());
  /* The first chunk came while the code was still running. */
  g_assert_cmpint (end - s.first_at, >, 300 * 1000);
  g_string_free (s.chunks, TRUE);
}

static void
on_async_done (GObject *source, GAsyncResult *res, gpointer data)
{
  AgentExecExecutionResult **out = data;
  g_autoptr (GError) error = NULL;

  *out =
      agentexec_code_executor_execute_code_finish (AGENTEXEC_CODE_EXECUTOR (source), res, &error);
  g_assert_no_error (error);
}

static void
test_streaming_async (void)
{
  g_autoptr (AgentExecLocalExecutor) executor = new_executor (FALSE);
  g_autoptr (AgentExecExecutionInput) input =
      agentexec_execution_input_new ("for i in range(3): print(i)", "python");
  Streamed s = { g_string_new (NULL), 0, 0, NULL, -1 };
  g_autoptr (AgentExecExecutionResult) result = NULL;

  g_signal_connect (executor, "output", G_CALLBACK (on_output), &s);
  agentexec_code_executor_execute_code_async (AGENTEXEC_CODE_EXECUTOR (executor), NULL, input, NULL,
                                              on_async_done, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpstr (agentexec_execution_result_get_stdout (result), ==, "0\n1\n2\n");
  /* Emitted in the caller's context, before the callback. */
  g_assert_true (s.thread == g_thread_self ());
  g_assert_true (g_str_has_prefix (s.chunks->str, "out:"));
  g_string_free (s.chunks, TRUE);
}

static gpointer
cancel_soon (gpointer data)
{
  g_usleep (700 * 1000);
  g_cancellable_cancel (data);
  return NULL;
}

static void
collect_output_text (AgentExecCodeExecutor *executor,
                     AgentExecExecutionInput *input,
                     AgentExecStream stream,
                     GBytes *chunk,
                     gpointer data)
{
  gsize len;
  const char *bytes = g_bytes_get_data (chunk, &len);

  g_string_append_len (data, bytes, len);
}

static void
got_cancel_result (GObject *source, GAsyncResult *res, gpointer user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (res);
}

/* Sync and async, cancelled while the code runs: both fail with
 * G_IO_ERROR_CANCELLED, the code killed at once. */
static void
test_cancel (gconstpointer data)
{
  gboolean stateful = GPOINTER_TO_INT (data);
  g_autoptr (AgentExecLocalExecutor) executor = new_executor (stateful);
  g_autoptr (AgentExecExecutionInput) input =
      agentexec_execution_input_new ("import os, time\nprint(os.getpid(), flush=True)\n"
                                     "time.sleep(30)\n",
                                     "python");
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (AgentExecExecutionResult) result = NULL;
  g_autoptr (GError) error = NULL;
  gint64 start = g_get_monotonic_time ();
  GThread *canceller = g_thread_new ("cancel", cancel_soon, cancellable);

  g_autoptr (GString) chunks = g_string_new (NULL);
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (AgentExecExecutionResult) after = NULL;

  g_signal_connect (executor, "output", G_CALLBACK (collect_output_text), chunks);
  result = agentexec_code_executor_execute_code (AGENTEXEC_CODE_EXECUTOR (executor), NULL, input,
                                                 cancellable, &error);
  g_thread_join (canceller);
  g_assert_null (result);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_nonnull (strstr (error->message, "cancelled"));
  g_assert_cmpint (g_get_monotonic_time () - start, <, 2 * G_USEC_PER_SEC);
  /* The output came through the signal before; the process group is gone. */
  g_assert_cmpint (first_number (chunks->str), >, 0);
  g_assert_false (group_alive (first_number (chunks->str)));

  /* The async path ends the same way. */
  g_string_truncate (chunks, 0);
  g_clear_error (&error);
  g_clear_object (&cancellable);
  cancellable = g_cancellable_new ();
  canceller = g_thread_new ("cancel", cancel_soon, cancellable);
  start = g_get_monotonic_time ();
  agentexec_code_executor_execute_code_async (AGENTEXEC_CODE_EXECUTOR (executor), NULL, input,
                                              cancellable, got_cancel_result, &res);
  while (res == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_thread_join (canceller);
  result =
      agentexec_code_executor_execute_code_finish (AGENTEXEC_CODE_EXECUTOR (executor), res, &error);
  g_assert_null (result);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 2 * G_USEC_PER_SEC);
  g_assert_cmpint (first_number (chunks->str), >, 0);
  g_assert_false (group_alive (first_number (chunks->str)));

  /* The executor still works afterwards. */
  after = run_code (executor, "python", "print('after')", 5000);
  g_assert_cmpstr (agentexec_execution_result_get_stdout (after), ==, "after\n");
}

static AgentExecExecutionResult *
run_in (AgentExecLocalExecutor *executor, const char *id, const char *language, const char *code)
{
  g_autoptr (AgentExecExecutionInput) input = agentexec_execution_input_new (code, language);

  agentexec_execution_input_set_execution_id (input, id);
  agentexec_execution_input_set_timeout_ms (input, 1500);
  return run_input (executor, input);
}

static void
test_stateful (gconstpointer data)
{
  const char *const *spec = data;
  g_autoptr (AgentExecLocalExecutor) executor = new_executor (TRUE);
  g_autoptr (AgentExecExecutionResult) set = run_in (executor, "a", spec[0], spec[1]);
  g_autoptr (AgentExecExecutionResult) get = run_in (executor, "a", spec[0], spec[2]);
  g_autoptr (AgentExecExecutionResult) other = run_in (executor, "b", spec[0], spec[2]);

  g_assert_cmpint (agentexec_execution_result_get_outcome (set), ==, AGENTEXEC_OUTCOME_OK);
  g_assert_cmpstr (agentexec_execution_result_get_stdout (get), ==, "42\n");
  g_assert_cmpint (agentexec_execution_result_get_outcome (get), ==, AGENTEXEC_OUTCOME_OK);
  g_assert_false (agentexec_execution_result_get_session_restarted (get));
  /* Another execution-id does not see the state. */
  g_assert_cmpstr (agentexec_execution_result_get_stdout (other), !=, "42\n");
  g_assert_cmpuint (agentexec_local_executor_get_session_count (executor), ==, 2);
}

static void
test_stateful_errors (void)
{
  g_autoptr (AgentExecLocalExecutor) executor = new_executor (TRUE);
  g_autoptr (AgentExecExecutionResult) set = run_in (executor, "s", "python", "x = 41");
  g_autoptr (AgentExecExecutionResult) error = run_in (executor, "s", "python", "1/0");
  g_autoptr (AgentExecExecutionResult) exited =
      run_in (executor, "s", "python", "import sys; sys.exit(4)");
  g_autoptr (AgentExecExecutionResult) kept = run_in (executor, "s", "python", "print(x + 1)");
  g_autoptr (AgentExecExecutionResult) loop = run_in (executor, "s", "python",
                                                      "import os\nprint(os.getpid(), flush=True)\n"
                                                      "while True: pass");
  g_autoptr (AgentExecExecutionResult) fresh = run_in (executor, "s", "python", "print(x)");
  g_autoptr (AgentExecExecutionResult) crash =
      run_in (executor, "s", "python", "import os; os._exit(3)");
  g_autoptr (AgentExecExecutionResult) again = run_in (executor, "s", "python", "print('up')");

  g_assert_nonnull (strstr (agentexec_execution_result_get_stderr (error), "ZeroDivisionError"));
  g_assert_cmpint (agentexec_execution_result_get_outcome (error), ==, AGENTEXEC_OUTCOME_FAILED);
  g_assert_cmpint (agentexec_execution_result_get_exit_code (exited), ==, 4);
  g_assert_false (agentexec_execution_result_get_session_restarted (exited));
  g_assert_cmpstr (agentexec_execution_result_get_stdout (kept), ==, "42\n");

  g_assert_cmpint (agentexec_execution_result_get_outcome (loop), ==,
                   AGENTEXEC_OUTCOME_DEADLINE_EXCEEDED);
  g_assert_true (agentexec_execution_result_get_session_restarted (loop));
  g_assert_nonnull (strstr (agentexec_execution_result_get_stderr (loop), "killed at the timeout"));
  g_assert_true (g_str_has_suffix (agentexec_execution_result_get_stderr (loop),
                                   "\nCode execution timed out after 1.5 seconds."));
  g_assert_false (group_alive (first_number (agentexec_execution_result_get_stdout (loop))));
  g_assert_nonnull (strstr (agentexec_execution_result_get_stderr (fresh), "NameError"));

  g_assert_cmpint (agentexec_execution_result_get_exit_code (crash), ==, 3);
  g_assert_cmpint (agentexec_execution_result_get_outcome (crash), ==, AGENTEXEC_OUTCOME_FAILED);
  g_assert_true (agentexec_execution_result_get_session_restarted (crash));
  g_assert_cmpstr (agentexec_execution_result_get_stdout (again), ==, "up\n");
}

static void
test_stateful_reaping (void)
{
  g_autoptr (AgentExecLocalExecutor) executor = new_executor (TRUE);
  g_autoptr (AgentExecExecutionResult) pid1 = NULL;
  g_autoptr (AgentExecExecutionResult) pid2 = NULL;
  GPid idle_pid, closed_pid;

  g_object_set (executor, "session-idle-timeout-ms", 300, NULL);
  pid1 = run_in (executor, "idle", "bash", "echo $$");
  idle_pid = first_number (agentexec_execution_result_get_stdout (pid1));
  g_assert_true (group_alive (idle_pid));
  for (guint i = 0; i < 100 && agentexec_local_executor_get_session_count (executor) > 0; i++)
    g_usleep (20000);
  g_assert_cmpuint (agentexec_local_executor_get_session_count (executor), ==, 0);
  g_assert_false (group_alive (idle_pid));

  g_object_set (executor, "session-idle-timeout-ms", 0, NULL);
  pid2 = run_in (executor, "closed", "javascript", "console.log(process.pid)");
  closed_pid = first_number (agentexec_execution_result_get_stdout (pid2));
  g_assert_true (group_alive (closed_pid));
  agentexec_code_executor_close (AGENTEXEC_CODE_EXECUTOR (executor));
  g_assert_cmpuint (agentexec_local_executor_get_session_count (executor), ==, 0);
  g_assert_false (group_alive (closed_pid));
}

/* Python sessions report the value of the last expression (Jupyter rules). */
static void
test_stateful_value (void)
{
  g_autoptr (AgentExecLocalExecutor) executor = new_executor (TRUE);
  static const struct
  {
    const char *code, *value;
  } cases[] = {
    { "x = 6\nx * 7", "42" },
    { "x * 7;", NULL },
    { "x = 1", NULL },
    { "None", NULL },
    { "print('p')", NULL },
    { "'caf\xc3\xa9'", "'caf\xc3\xa9'" },
    { "if True:\n    y = 2\n[y,\n y]", "[2, 2]" },
    { "_", "[2, 2]" },
    { "1/0", NULL },
    { "", NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (AgentExecExecutionResult) result = run_in (executor, "v", "python", cases[i].code);

      g_test_message ("%s → %s", cases[i].code, agentexec_execution_result_get_value (result));
      g_assert_cmpstr (agentexec_execution_result_get_value (result), ==, cases[i].value);
    }
  {
    g_autoptr (AgentExecExecutionResult) err = run_in (executor, "v", "python", "1/0");
    g_autoptr (AgentExecExecutionResult) js = run_in (executor, "v", "javascript", "1 + 1");

    g_autoptr (AgentExecExecutionResult) syntax = run_in (executor, "v", "python", "x = (");

    /* The traceback still starts in the user's code, at the right line. */
    g_assert_nonnull (strstr (agentexec_execution_result_get_stderr (err), "line 1"));
    g_assert_null (strstr (agentexec_execution_result_get_stderr (err), "_ae_"));
    g_assert_nonnull (strstr (agentexec_execution_result_get_stderr (syntax), "SyntaxError"));
    g_assert_null (strstr (agentexec_execution_result_get_stderr (syntax), "_ae_"));
    g_assert_null (agentexec_execution_result_get_value (js));
  }
}

/* end_session() ends the sessions of one execution id, and only those. */
static void
test_stateful_end_session (void)
{
  g_autoptr (AgentExecLocalExecutor) executor = new_executor (TRUE);
  g_autoptr (AgentExecExecutionResult) a = run_in (executor, "a", "bash", "echo $$; v=1");
  g_autoptr (AgentExecExecutionResult) a_js = run_in (executor, "a", "javascript", "v = 1");
  g_autoptr (AgentExecExecutionResult) b = run_in (executor, "b", "bash", "v=2");
  g_autoptr (AgentExecExecutionResult) a_after = NULL;
  g_autoptr (AgentExecExecutionResult) b_after = NULL;
  GPid pid = first_number (agentexec_execution_result_get_stdout (a));

  g_assert_cmpuint (agentexec_local_executor_get_session_count (executor), ==, 3);
  agentexec_code_executor_end_session (AGENTEXEC_CODE_EXECUTOR (executor), "a");
  g_assert_cmpuint (agentexec_local_executor_get_session_count (executor), ==, 1);
  g_assert_false (group_alive (pid));
  agentexec_code_executor_end_session (AGENTEXEC_CODE_EXECUTOR (executor), "none-such");
  a_after = run_in (executor, "a", "bash", "echo \"[$v]\"");
  b_after = run_in (executor, "b", "bash", "echo \"[$v]\"");
  g_assert_cmpstr (agentexec_execution_result_get_stdout (a_after), ==, "[]\n");
  g_assert_cmpstr (agentexec_execution_result_get_stdout (b_after), ==, "[2]\n");
}

static void
test_matplotlib (gconstpointer data)
{
  gboolean stateful = GPOINTER_TO_INT (data);
  g_autoptr (AgentExecLocalExecutor) executor = new_executor (stateful);
  g_autoptr (AgentExecExecutionResult) left_open = NULL;
  g_autoptr (AgentExecExecutionResult) shown = NULL;
  g_autoptr (AgentExecExecutionResult) saved = NULL;
  AgentExecFile *png;
  gsize len;
  const guint8 *bytes;

  left_open = run_code (executor, "python",
                        "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3])\n", 60000);
  g_assert_cmpstr (agentexec_execution_result_get_stderr (left_open), ==, "");
  png = find_file (left_open, "figure_1.png");
  g_assert_nonnull (png);
  g_assert_cmpstr (agentexec_file_get_mime_type (png), ==, "image/png");
  bytes = g_bytes_get_data (agentexec_file_get_content (png), &len);
  g_assert_cmpuint (len, >, 8);
  g_assert_cmpint (memcmp (bytes, "\x89PNG", 4), ==, 0);

  shown = run_code (executor, "python",
                    "import matplotlib.pyplot as plt\nplt.figure(); plt.bar([1], [2])\n"
                    "plt.show()\nplt.figure(); plt.plot([3, 1])\nplt.show()\n",
                    60000);
  g_assert_cmpstr (agentexec_execution_result_get_stderr (shown), ==, "");
  g_assert_nonnull (find_file (shown, "figure_1.png"));

  /* A figure the code saved itself is not saved twice. */
  saved = run_code (executor, "python",
                    "import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.savefig('chart.png')\n",
                    60000);
  g_assert_nonnull (find_file (saved, "chart.png"));
  g_assert_cmpuint (agentexec_execution_result_get_output_files (saved)->len, ==, 1);
}

/* A stateful Python session left idle imports the data libraries on its
 * own (numpy and matplotlib are on the host; pandas may not be), without a
 * trace in the namespace or in the next run's output. */
static void
test_stateful_preload (void)
{
  g_autoptr (AgentExecLocalExecutor) executor = new_executor (TRUE);
  g_autoptr (AgentExecExecutionResult) first = run_in (executor, "p", "python", "x = 1");
  g_autoptr (AgentExecExecutionResult) names = NULL;
  g_autoptr (AgentExecExecutionResult) chart = NULL;
  gboolean loaded = FALSE;

  g_assert_cmpint (agentexec_execution_result_get_exit_code (first), ==, 0);
  /* Generous: the preload waits for 50 ms of idleness before each step. */
  for (guint i = 0; i < 150 && !loaded; i++)
    {
      g_autoptr (AgentExecExecutionResult) poll = NULL;

      g_usleep (200 * 1000);
      poll = run_in (executor, "p", "python",
                     "import sys as _s\nprint('numpy' in _s.modules and "
                     "'matplotlib.pyplot' in _s.modules)");
      g_assert_cmpstr (agentexec_execution_result_get_stderr (poll), ==, "");
      loaded = g_strcmp0 (agentexec_execution_result_get_stdout (poll), "True\n") == 0;
    }
  g_assert_true (loaded);

  names = run_in (executor, "p", "python",
                  "print(sorted(k for k in globals() if not k.startswith('__')))");
  g_assert_cmpstr (agentexec_execution_result_get_stdout (names), ==, "['_s', 'x']\n");
  g_assert_cmpstr (agentexec_execution_result_get_stderr (names), ==, "");

  /* The warm-up chart was closed: the next run's figure is figure 1, alone. */
  chart = run_in (executor, "p", "python", "import matplotlib.pyplot as plt\nplt.plot([1, 2])\n");
  g_assert_cmpstr (agentexec_execution_result_get_stderr (chart), ==, "");
  g_assert_nonnull (find_file (chart, "figure_1.png"));
  g_assert_cmpuint (agentexec_execution_result_get_output_files (chart)->len, ==, 1);
}

static char *
tool_path (void)
{
  const char *build = g_getenv ("AGENTEXEC_BUILD_DIR");
  g_autofree char *path =
      g_build_filename (build != NULL ? build : ".", "tools", "agentexec", NULL);

  return g_file_test (path, G_FILE_TEST_IS_EXECUTABLE) ? g_steal_pointer (&path) : NULL;
}

static int
run_tool (const char *const *args, const char *stdin_text, char **out, char **err)
{
  g_autoptr (GSubprocess) process = NULL;
  g_autoptr (GError) error = NULL;

  process = g_subprocess_newv (args,
                               G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                   G_SUBPROCESS_FLAGS_STDERR_PIPE,
                               &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_communicate_utf8 (process, stdin_text, NULL, out, err, &error));
  g_assert_no_error (error);
  return g_subprocess_get_exit_status (process);
}

static void
test_cli (void)
{
  g_autofree char *tool = tool_path ();
  g_autofree char *reply = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  const char *source = g_getenv ("AGENTEXEC_SOURCE_DIR");

  if (tool == NULL || source == NULL)
    {
      g_test_skip ("tools/agentexec is not built");
      return;
    }
  reply = g_build_filename (source, "scripts", "demo-reply.md", NULL);
  g_unsetenv ("AGENTEXEC_ALLOW_UNSAFE");

  {
    const char *args[] = { tool, "run", "-", NULL };

    /* Sandboxed by default, without any opt-in. */
    g_assert_cmpint (
        run_tool (args, "import os\nprint(os.uname().nodename, os.getpid())", &out, &err), ==, 0);
    g_assert_cmpstr (out, ==, "agentexec 2\n");
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
  }
  {
    const char *args[] = { tool, "run", "--no-sandbox", "-", NULL };

    g_assert_cmpint (run_tool (args, "print(1)", &out, &err), ==, 2);
    g_assert_nonnull (strstr (err, "--allow-unsafe"));
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
  }
  {
    const char *args[] = { tool, "run", "--no-sandbox", "--allow-unsafe", "-", NULL };

    g_assert_cmpint (run_tool (args, "import os\nprint(os.getpid() > 2)", &out, &err), ==, 0);
    g_assert_cmpstr (out, ==, "True\n");
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
  }
  {
    const char *args[] = { tool, "run", "--allow-unsafe", "--language", "py", "-", NULL };

    g_assert_cmpint (run_tool (args, "import sys\nprint('out')\nsys.exit(5)", &out, &err), ==, 5);
    g_assert_cmpstr (out, ==, "out\n");
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
  }
  {
    const char *args[] = { tool, "run", "--allow-unsafe", "--timeout", "0.5", "-", NULL };

    g_assert_cmpint (run_tool (args, "while True: pass", &out, &err), ==, 124);
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
  }
  {
    const char *args[] = { tool, "reply", "--allow-unsafe", "-q", reply, NULL };

    /* The sample reply ends with a block that fails on purpose. */
    g_assert_cmpint (run_tool (args, NULL, &out, &err), ==, 1);
    g_assert_nonnull (strstr (out, "```tool_output\nCode execution result:\nmean sales: 150.8\n"));
    g_assert_nonnull (strstr (out, "ZeroDivisionError: division by zero"));
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
  }
  {
    const char *args[] = { tool, "frobnicate", NULL };

    g_assert_cmpint (run_tool (args, NULL, &out, &err), ==, 2);
  }
}

typedef struct
{
  AgentExecLocalExecutor *executor;
  guint index;
  char *stdout_text;
} Caller;

static gpointer
concurrent_caller (gpointer data)
{
  Caller *c = data;
  g_autofree char *code = g_strdup_printf ("print(%u * 2)", c->index);
  g_autoptr (AgentExecExecutionResult) result = run_code (c->executor, "python", code, 60000);

  c->stdout_text = g_strdup (agentexec_execution_result_get_stdout (result));
  return NULL;
}

static void
on_concurrent_done (GObject *source, GAsyncResult *res, gpointer data)
{
  guint *done = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecExecutionResult) result =
      agentexec_code_executor_execute_code_finish (AGENTEXEC_CODE_EXECUTOR (source), res, &error);

  g_assert_no_error (error);
  g_assert_cmpint (agentexec_execution_result_get_outcome (result), ==, AGENTEXEC_OUTCOME_OK);
  (*done)++;
}

static void
test_concurrency (void)
{
  g_autoptr (AgentExecLocalExecutor) executor = new_executor (FALSE);
  Caller callers[32];
  GThread *threads[32];
  guint done = 0;

  for (guint i = 0; i < 32; i++)
    {
      callers[i] = (Caller){ executor, i, NULL };
      threads[i] = g_thread_new ("caller", concurrent_caller, &callers[i]);
    }
  for (guint i = 0; i < 32; i++)
    {
      g_autofree char *expected = g_strdup_printf ("%u\n", i * 2);

      g_thread_join (threads[i]);
      g_assert_cmpstr (callers[i].stdout_text, ==, expected);
      g_free (callers[i].stdout_text);
    }

  for (guint i = 0; i < 32; i++)
    {
      g_autoptr (AgentExecExecutionInput) input =
          agentexec_execution_input_new ("echo async", "bash");

      agentexec_code_executor_execute_code_async (AGENTEXEC_CODE_EXECUTOR (executor), NULL, input,
                                                  NULL, on_concurrent_done, &done);
    }
  while (done < 32)
    g_main_context_iteration (NULL, TRUE);
}

/* Drivers, without a local process: framing in both layouts. */

static void
test_driver_reader (void)
{
  g_autoptr (AgentExecDriverReader) reader = _agentexec_driver_reader_new ("<TOK>", FALSE);
  g_autoptr (AgentExecDriverReader) sentinel = _agentexec_driver_reader_new ("<TOK>", TRUE);
  g_autoptr (AgentExecDriverReader) broken = _agentexec_driver_reader_new (NULL, FALSE);
  g_autoptr (GByteArray) out = g_byte_array_new ();
  g_autoptr (AgentExecDriverReply) reply = NULL;
  g_autoptr (GError) error = NULL;
  const char *stream = "hello <T<TOK>16\n{\"exit_code\": 3}after";

  /* Byte by byte: a token or frame split anywhere is found. */
  for (const char *p = stream; *p != '\0' && reply == NULL; p++)
    {
      _agentexec_driver_reader_feed (reader, p, 1);
      g_assert_false (_agentexec_driver_reader_next (reader, out, &reply, &error) && reply == NULL);
      g_assert_no_error (error);
    }
  g_assert_nonnull (reply);
  g_assert_cmpint (reply->exit_code, ==, 3);
  g_assert_cmpmem (out->data, out->len, "hello <T", 8);

  _agentexec_driver_reader_feed (sentinel, "err text<TOK>\nnext", 18);
  g_byte_array_set_size (out, 0);
  g_clear_pointer (&reply, _agentexec_driver_reply_free);
  g_assert_true (_agentexec_driver_reader_next (sentinel, out, &reply, &error));
  g_assert_cmpmem (out->data, out->len, "err text", 8);

  g_assert_null (reply);
  _agentexec_driver_reader_feed (broken, "12x\n{}", 6);
  g_assert_false (_agentexec_driver_reader_next (broken, NULL, &reply, &error));
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_PROTOCOL);
}

/* Files in a request: named in valid JSON, their bytes after it; a reply's files with bad
 * names (or no data) are dropped, the others decoded with a MIME type. */
static void
test_driver_files_protocol (void)
{
  g_autoptr (GPtrArray) files = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GBytes) content = g_bytes_new_static ("a\"b\n\0c", 6);
  g_autoptr (GBytes) request = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (AgentExecDriverReply) reply = NULL;
  g_autoptr (GError) error = NULL;
  const char *frame, *nl;
  gsize payload_len;
  JsonObject *object;
  JsonObject *item;
  const char *payload = "{\"exit_code\": 0, \"files\": ["
                        "{\"name\": \"../up.txt\", \"data\": \"eA==\"},"
                        "{\"name\": \"/abs\", \"data\": \"eA==\"},"
                        "{\"name\": \"nodata.txt\"},"
                        "{\"name\": \"plots/p.png\", \"data\": \"iVBORw0KGgo=\"}],"
                        "\"deleted\": [\"gone.csv\"]}";

  g_ptr_array_add (files, agentexec_file_new ("d/q\"uote.csv", NULL, content));
  request = _agentexec_driver_encode_request_with_files ("print(\"é\")", files, 1024);
  frame = g_bytes_get_data (request, NULL);
  nl = strchr (frame, '\n');
  g_assert_nonnull (nl);
  /* The JSON payload, then the contents as they are. */
  payload_len = g_ascii_strtoull (frame, NULL, 10);
  g_assert_cmpuint (payload_len + 6, ==, g_bytes_get_size (request) - (nl + 1 - frame));
  g_assert_cmpmem (nl + 1 + payload_len, 6, "a\"b\n\0c", 6);
  g_assert_true (json_parser_load_from_data (parser, nl + 1, payload_len, &error));
  g_assert_no_error (error);
  object = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpstr (json_object_get_string_member (object, "code"), ==, "print(\"é\")");
  g_assert_cmpint (json_object_get_int_member (object, "report_files"), ==, 1024);
  item = json_array_get_object_element (json_object_get_array_member (object, "files"), 0);
  g_assert_cmpstr (json_object_get_string_member (item, "name"), ==, "d/q\"uote.csv");
  g_assert_cmpint (json_object_get_int_member (item, "size"), ==, 6);
  g_assert_false (json_object_has_member (item, "data"));

  reply = _agentexec_driver_reply_parse (payload, strlen (payload), &error);
  g_assert_no_error (error);
  g_assert_nonnull (reply->files);
  g_assert_cmpuint (reply->files->len, ==, 1);
  g_assert_cmpstr (agentexec_file_get_name (g_ptr_array_index (reply->files, 0)), ==,
                   "plots/p.png");
  g_assert_cmpstr (agentexec_file_get_mime_type (g_ptr_array_index (reply->files, 0)), ==,
                   "image/png");
  g_assert_cmpstr (reply->deleted[0], ==, "gone.csv");
  g_assert_false (reply->files_overflow);
  g_clear_pointer (&reply, _agentexec_driver_reply_free);
  reply = _agentexec_driver_reply_parse ("{\"exit_code\": 0}", 16, &error);
  g_assert_null (reply->files);
  g_assert_null (reply->deleted);
  g_assert_false (_agentexec_driver_reply_has_feature (reply, "files"));
}

static void
test_driver_one_channel (gconstpointer data)
{
  const char *const *spec = data;
  g_autofree char *token = _agentexec_driver_new_token ();
  g_auto (GStrv) argv = NULL;
  g_autoptr (GSubprocess) process = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecDriverReader) out_reader = _agentexec_driver_reader_new (token, FALSE);
  g_autoptr (AgentExecDriverReader) err_reader = _agentexec_driver_reader_new (token, TRUE);
  g_autoptr (GByteArray) out = g_byte_array_new ();
  g_autoptr (GByteArray) err = g_byte_array_new ();
  GOutputStream *in;
  GInputStream *outs, *errs;
  const char *codes[] = { spec[1], spec[2] };
  const char *interpreter = g_str_equal (spec[0], "python") ? PYTHON
                            : g_str_equal (spec[0], "bash") ? "bash"
                                                            : "node";

  argv = _agentexec_driver_build_argv (spec[0], interpreter, 0, 1, token, &error);
  g_assert_no_error (error);
  process = g_subprocess_newv ((const char *const *) argv,
                               G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                   G_SUBPROCESS_FLAGS_STDERR_PIPE,
                               &error);
  g_assert_no_error (error);
  in = g_subprocess_get_stdin_pipe (process);
  outs = g_subprocess_get_stdout_pipe (process);
  errs = g_subprocess_get_stderr_pipe (process);

  for (int i = -1; i < 2; i++)
    {
      g_autoptr (AgentExecDriverReply) reply = NULL;
      gboolean err_done = FALSE;
      char buffer[4096];

      if (i >= 0)
        {
          g_autoptr (GBytes) request = _agentexec_driver_encode_request (spec[0], codes[i], -1);

          g_assert_true (g_output_stream_write_all (in, g_bytes_get_data (request, NULL),
                                                    g_bytes_get_size (request), NULL, NULL,
                                                    &error));
        }
      g_byte_array_set_size (out, 0);
      g_byte_array_set_size (err, 0);
      while (reply == NULL)
        {
          gssize n = g_input_stream_read (outs, buffer, sizeof buffer, NULL, &error);

          g_assert_cmpint (n, >, 0);
          _agentexec_driver_reader_feed (out_reader, buffer, n);
          _agentexec_driver_reader_next (out_reader, out, &reply, &error);
          g_assert_no_error (error);
        }
      while (!err_done)
        {
          g_autoptr (AgentExecDriverReply) none = NULL;
          gssize n = g_input_stream_read (errs, buffer, sizeof buffer, NULL, &error);

          g_assert_cmpint (n, >, 0);
          _agentexec_driver_reader_feed (err_reader, buffer, n);
          err_done = _agentexec_driver_reader_next (err_reader, err, &none, &error);
        }
      if (i < 0)
        g_assert_true (reply->ready);
      else if (i == 1)
        {
          g_assert_cmpint (reply->exit_code, ==, 0);
          g_assert_cmpmem (out->data, out->len, "42\n", 3);
          g_assert_cmpuint (err->len, ==, 0);
        }
    }
  g_output_stream_close (in, NULL, NULL);
  g_assert_true (g_subprocess_wait (process, NULL, &error));
}

int
main (int argc, char **argv)
{
  static const char *py[] = { "python", "print('hello', 6 * 7)", "python" };
  static const char *js[] = { "js", "console.log('hello', 6 * 7)", "javascript" };
  static const char *sh[] = { "shell", "echo hello $((6 * 7))", "bash" };
  static const char *detected[] = { NULL, "#!/bin/bash\necho hello $((6 * 7))", "bash" };
  static const char *py_state[] = { "python", "x = 41", "print(x + 1)" };
  static const char *js_state[] = { "javascript", "let x = 41", "console.log(x + 1)" };
  static const char *sh_state[] = { "bash", "x=41", "echo $((x + 1))" };

  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/agentexec/backend/local/unsafe-not-allowed", test_unsafe_not_allowed);
  g_test_add_func ("/agentexec/backend/local/not-initialised", test_not_initialised);
  g_test_add_data_func ("/agentexec/backend/local/hello/python", py, test_hello);
  g_test_add_data_func ("/agentexec/backend/local/hello/javascript", js, test_hello);
  g_test_add_data_func ("/agentexec/backend/local/hello/bash", sh, test_hello);
  g_test_add_data_func ("/agentexec/backend/local/hello/detected", detected, test_hello);
  g_test_add_func ("/agentexec/backend/local/exit-codes", test_exit_codes);
  g_test_add_func ("/agentexec/backend/local/files", test_files);
  g_test_add_func ("/agentexec/backend/local/files/bad-names", test_bad_file_names);
  g_test_add_func ("/agentexec/backend/local/files/symlink-escape", test_symlink_escape);
  g_test_add_func ("/agentexec/backend/local/argv-and-work-dir", test_argv_and_work_dir);
  g_test_add_func ("/agentexec/backend/local/environment", test_environment);
  g_test_add_func ("/agentexec/backend/local/languages", test_languages);
  g_test_add_func ("/agentexec/backend/local/hostile/timeout", test_timeout);
  g_test_add_func ("/agentexec/backend/local/hostile/term-ignored", test_term_ignored);
  g_test_add_func ("/agentexec/backend/local/hostile/grandchild-keeps-pipe",
                   test_grandchild_keeps_pipe);
  g_test_add_func ("/agentexec/backend/local/hostile/fork-bomb", test_fork_bomb);
  g_test_add_func ("/agentexec/backend/local/hostile/escaped-process", test_escaped_process);
  g_test_add_func ("/agentexec/backend/local/hostile/memory-hog", test_memory_hog);
  g_test_add_func ("/agentexec/backend/local/hostile/huge-output", test_huge_output);
  g_test_add_func ("/agentexec/backend/local/hostile/odd-output", test_odd_output);
  g_test_add_func ("/agentexec/backend/local/hostile/stdin-and-closed-stdout",
                   test_stdin_and_closed_stdout);
  g_test_add_data_func ("/agentexec/backend/local/hostile/cancel", GINT_TO_POINTER (FALSE),
                        test_cancel);
  g_test_add_data_func ("/agentexec/backend/local/hostile/cancel-stateful", GINT_TO_POINTER (TRUE),
                        test_cancel);
  g_test_add_data_func ("/agentexec/backend/local/streaming/sync", GINT_TO_POINTER (FALSE),
                        test_streaming_sync);
  g_test_add_data_func ("/agentexec/backend/local/streaming/sync-stateful", GINT_TO_POINTER (TRUE),
                        test_streaming_sync);
  g_test_add_func ("/agentexec/backend/local/streaming/async", test_streaming_async);
  g_test_add_data_func ("/agentexec/backend/local/stateful/python", py_state, test_stateful);
  g_test_add_data_func ("/agentexec/backend/local/stateful/javascript", js_state, test_stateful);
  g_test_add_data_func ("/agentexec/backend/local/stateful/bash", sh_state, test_stateful);
  g_test_add_func ("/agentexec/backend/local/stateful/errors-and-restarts", test_stateful_errors);
  g_test_add_func ("/agentexec/backend/local/stateful/reaping-and-close", test_stateful_reaping);
  g_test_add_func ("/agentexec/backend/local/stateful/value", test_stateful_value);
  g_test_add_func ("/agentexec/backend/local/stateful/end-session", test_stateful_end_session);
  g_test_add_data_func ("/agentexec/backend/local/matplotlib", GINT_TO_POINTER (FALSE),
                        test_matplotlib);
  g_test_add_data_func ("/agentexec/backend/local/matplotlib-stateful", GINT_TO_POINTER (TRUE),
                        test_matplotlib);
  g_test_add_func ("/agentexec/backend/local/stateful-preload", test_stateful_preload);
  g_test_add_func ("/agentexec/backend/local/concurrency", test_concurrency);
  g_test_add_func ("/agentexec/backend/local/cli", test_cli);
  g_test_add_func ("/agentexec/backend/local/driver/reader", test_driver_reader);
  g_test_add_func ("/agentexec/backend/local/driver/files-protocol", test_driver_files_protocol);
  g_test_add_data_func ("/agentexec/backend/local/driver/one-channel/python", py_state,
                        test_driver_one_channel);
  g_test_add_data_func ("/agentexec/backend/local/driver/one-channel/javascript", js_state,
                        test_driver_one_channel);
  g_test_add_data_func ("/agentexec/backend/local/driver/one-channel/bash", sh_state,
                        test_driver_one_channel);

  return g_test_run ();
}
