/* test-container.c: the container backend against a real Docker engine
 *
 * Needs a running engine (DOCKER_HOST, else /var/run/docker.sock) with the
 * image agentexec-runtime:latest (scripts/build-runtime-image.sh). Without
 * an engine the tests skip, except under CI=true, where they fail.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "libagentexec.h"
#include "agentexec-container-labels-private.h"
#include "agentexec-container-executor-private.h"
#include "agentexec-container-pool-private.h"
#include "agentexec-container-run-private.h"
#include "agentexec-docker-client-private.h"

#define IMAGE "agentexec-runtime:latest"

static gboolean
running_in_ci (void)
{
  return g_strcmp0 (g_getenv ("CI"), "true") == 0;
}

/* An executor with @first_property... set, or NULL (test skipped) when no
 * engine answers outside CI. Under CI=true a missing engine fails. */
static AgentExecContainerExecutor *
new_executor (const char *first_property, ...)
{
  g_autoptr (GError) error = NULL;
  GObject *executor;
  va_list args;

  va_start (args, first_property);
  executor =
      g_initable_new_valist (AGENTEXEC_TYPE_CONTAINER_EXECUTOR, first_property, args, NULL, &error);
  va_end (args);
  if (executor == NULL && !running_in_ci () &&
      g_error_matches (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_BACKEND_UNAVAILABLE))
    {
      g_test_skip (error->message);
      return NULL;
    }
  g_assert_no_error (error);
  return AGENTEXEC_CONTAINER_EXECUTOR (executor);
}

static AgentExecExecutionResult *
run_code (AgentExecContainerExecutor *executor,
          const char *code,
          const char *language,
          guint timeout_ms)
{
  g_autoptr (AgentExecExecutionInput) input = agentexec_execution_input_new (code, language);
  g_autoptr (GError) error = NULL;
  AgentExecExecutionResult *result;

  agentexec_execution_input_set_timeout_ms (input, timeout_ms);
  result = agentexec_code_executor_execute_code (AGENTEXEC_CODE_EXECUTOR (executor), NULL, input,
                                                 NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (result);
  return result;
}

static AgentExecExecutionResult *
run_code_error (AgentExecContainerExecutor *executor,
                const char *code,
                const char *language,
                GError **error)
{
  g_autoptr (AgentExecExecutionInput) input = agentexec_execution_input_new (code, language);

  return agentexec_code_executor_execute_code (AGENTEXEC_CODE_EXECUTOR (executor), NULL, input,
                                               NULL, error);
}

static guint
count_labelled_full (const char *filter, gboolean only_mine)
{
  g_autoptr (AgentExecDockerClient) client = _agentexec_docker_client_new (NULL, NULL);
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) ids = NULL;
  g_auto (GStrv) owners = NULL;
  guint count = 0;

  g_assert_nonnull (client);
  g_assert_true (_agentexec_docker_client_negotiate (client, NULL, &error));
  ids = _agentexec_container_list_labelled (client, filter, &owners, NULL, &error);
  g_assert_no_error (error);
  for (guint i = 0; owners != NULL && owners[i] != NULL; i++)
    count += !only_mine || g_strcmp0 (owners[i], _agentexec_container_owner_label ()) == 0;
  return count;
}

static guint
count_labelled (const char *filter)
{
  return count_labelled_full (filter, FALSE);
}

/* This process's containers: the engine is shared (other test runs, other
 * users), so theirs do not count. */
static guint
count_mine (void)
{
  return count_labelled_full (AGENTEXEC_LABEL_MANAGED "=1", TRUE);
}

static AgentExecFile *
text_file (const char *name, const char *text)
{
  g_autoptr (GBytes) bytes = g_bytes_new (text, strlen (text));

  return agentexec_file_new (name, NULL, bytes);
}

static void
add_text_file (AgentExecExecutionInput *input, const char *name, const char *text)
{
  g_autoptr (AgentExecFile) file = text_file (name, text);

  agentexec_execution_input_add_file (input, file);
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

static void
test_python_streams (void)
{
  g_autoptr (AgentExecContainerExecutor) executor = new_executor (NULL);
  g_autoptr (AgentExecExecutionResult) result = NULL;

  if (executor == NULL)
    return;
  result =
      run_code (executor, "import sys\nprint('out')\nprint('err', file=sys.stderr)\n", "py", 0);
  g_assert_cmpstr (agentexec_execution_result_get_stdout (result), ==, "out\n");
  g_assert_cmpstr (agentexec_execution_result_get_stderr (result), ==, "err\n");
  g_assert_cmpint (agentexec_execution_result_get_exit_code (result), ==, 0);
  g_assert_cmpint (agentexec_execution_result_get_outcome (result), ==, AGENTEXEC_OUTCOME_OK);
  g_assert_cmpstr (agentexec_execution_result_get_language (result), ==, "python");
  g_assert_cmpuint (agentexec_execution_result_get_attempts (result), ==, 1);
  g_assert_cmpstr (agentexec_container_executor_get_image (executor), ==, IMAGE);
}

static void
test_languages (void)
{
  g_autoptr (AgentExecContainerExecutor) executor = new_executor (NULL);
  g_autoptr (AgentExecExecutionResult) js = NULL;
  g_autoptr (AgentExecExecutionResult) sh = NULL;
  g_autoptr (AgentExecExecutionResult) fail = NULL;

  if (executor == NULL)
    return;
  js = run_code (executor, "console.log(6 * 7); console.error('e')", "node", 0);
  g_assert_cmpstr (agentexec_execution_result_get_stdout (js), ==, "42\n");
  g_assert_cmpstr (agentexec_execution_result_get_stderr (js), ==, "e\n");
  sh = run_code (executor, "echo $((2 + 3)) $0; echo oops >&2", "bash", 0);
  g_assert_cmpstr (agentexec_execution_result_get_stdout (sh), ==, "5 bash\n");
  g_assert_cmpstr (agentexec_execution_result_get_stderr (sh), ==, "oops\n");
  fail = run_code (executor, "exit 3", "sh", 0);
  g_assert_cmpint (agentexec_execution_result_get_exit_code (fail), ==, 3);
  g_assert_cmpint (agentexec_execution_result_get_outcome (fail), ==, AGENTEXEC_OUTCOME_FAILED);
}

static void
test_missing_language (void)
{
  g_autoptr (AgentExecContainerExecutor) executor = new_executor (NULL);
  g_autoptr (AgentExecExecutionInput) input = agentexec_execution_input_new ("print(1)", "r");
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecExecutionResult) result = NULL;
  gint64 start;

  if (executor == NULL)
    return;
  result = agentexec_code_executor_execute_code (AGENTEXEC_CODE_EXECUTOR (executor), NULL, input,
                                                 NULL, &error);
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_UNSUPPORTED_LANGUAGE);
  g_assert_nonnull (strstr (error->message, "Rscript"));
  g_assert_null (result);
  g_clear_error (&error);
  /* The answer is cached per image: the second attempt starts no container. */
  start = g_get_monotonic_time ();
  result = agentexec_code_executor_execute_code (AGENTEXEC_CODE_EXECUTOR (executor), NULL, input,
                                                 NULL, &error);
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_UNSUPPORTED_LANGUAGE);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 50 * 1000);
}

static void
test_files (void)
{
  g_autoptr (AgentExecContainerExecutor) executor = new_executor (NULL);
  g_autoptr (AgentExecExecutionInput) input = NULL;
  g_autoptr (AgentExecExecutionResult) result = NULL;
  g_autoptr (GError) error = NULL;
  AgentExecFile *file;
  const char *code = "print(open('in.txt').read())\n"
                     "print(open('data/nums.csv').read().strip())\n"
                     "open('data/nums.csv', 'a').write('3\\n')\n"
                     "open('out.json', 'w').write('{\"a\": 1}')\n"
                     "import os; os.makedirs('plots', exist_ok=True)\n"
                     "open('plots/p.png', 'wb').write(b'\\x89PNG\\r\\n\\x1a\\n' + bytes(8))\n";

  if (executor == NULL)
    return;
  input = agentexec_execution_input_new (code, "python");
  add_text_file (input, "in.txt", "hello");
  add_text_file (input, "data/nums.csv", "1\n2\n");
  result = agentexec_code_executor_execute_code (AGENTEXEC_CODE_EXECUTOR (executor), NULL, input,
                                                 NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (agentexec_execution_result_get_stderr (result), ==, "");
  g_assert_cmpstr (agentexec_execution_result_get_stdout (result), ==, "hello\n1\n2\n");
  g_assert_null (find_file (result, "in.txt"));
  file = find_file (result, "data/nums.csv");
  g_assert_nonnull (file);
  g_assert_cmpstr (agentexec_file_get_mime_type (file), ==, "text/csv");
  g_assert_cmpmem (g_bytes_get_data (agentexec_file_get_content (file), NULL), 6, "1\n2\n3\n", 6);
  g_assert_cmpstr (agentexec_file_get_mime_type (find_file (result, "out.json")), ==,
                   "application/json");
  g_assert_cmpstr (agentexec_file_get_mime_type (find_file (result, "plots/p.png")), ==,
                   "image/png");
  g_assert_cmpuint (agentexec_execution_result_get_output_files (result)->len, ==, 3);
}

static void
test_bad_file_names (void)
{
  g_autoptr (AgentExecContainerExecutor) executor = new_executor (NULL);
  const char *names[] = { "../escape.txt", "/etc/passwd", "a/../../b", "./x/../../y" };

  if (executor == NULL)
    return;
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autoptr (AgentExecExecutionInput) input =
          agentexec_execution_input_new ("print(1)", "python");
      g_autoptr (AgentExecExecutionResult) result = NULL;
      g_autoptr (GError) error = NULL;

      add_text_file (input, names[i], "x");
      result = agentexec_code_executor_execute_code (AGENTEXEC_CODE_EXECUTOR (executor), NULL,
                                                     input, NULL, &error);
      g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_INVALID_INPUT);
      g_assert_null (result);
    }
}

static void
test_symlink_not_followed (void)
{
  g_autoptr (AgentExecContainerExecutor) executor = new_executor (NULL);
  g_autoptr (AgentExecExecutionResult) result = NULL;

  if (executor == NULL)
    return;
  /* A symlink to a file outside /workspace must not bring its content back. */
  result = run_code (executor,
                     "import os\nos.symlink('/etc/passwd', 'leak')\n"
                     "os.symlink('/etc', 'dir')\nopen('ok.txt', 'w').write('ok')\n",
                     "python", 0);
  g_assert_cmpint (agentexec_execution_result_get_outcome (result), ==, AGENTEXEC_OUTCOME_OK);
  g_assert_null (find_file (result, "leak"));
  g_assert_null (find_file (result, "dir/passwd"));
  g_assert_nonnull (find_file (result, "ok.txt"));
  g_assert_cmpuint (agentexec_execution_result_get_output_files (result)->len, ==, 1);
}

static void
test_env_argv_large_code (void)
{
  g_autoptr (AgentExecContainerExecutor) executor = new_executor (NULL);
  g_autoptr (AgentExecExecutionInput) input = NULL;
  g_autoptr (AgentExecExecutionResult) result = NULL;
  g_autoptr (GString) code = g_string_new ("import os, sys\n");
  g_autoptr (GError) error = NULL;
  const char *env[] = { "GREETING=hi there", NULL };
  const char *argv[] = { "one", "two", NULL };

  if (executor == NULL)
    return;
  /* Past 64 KiB the code travels as a file, not as an argument. */
  while (code->len < 100 * 1024)
    g_string_append (code, "x = 1  # padding padding padding padding padding padding\n");
  g_string_append (code, "print(os.environ['GREETING'], sys.argv[1:])\n");
  input = agentexec_execution_input_new (code->str, "python");
  agentexec_execution_input_set_env (input, env);
  agentexec_execution_input_set_argv (input, argv);
  result = agentexec_code_executor_execute_code (AGENTEXEC_CODE_EXECUTOR (executor), NULL, input,
                                                 NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (agentexec_execution_result_get_stderr (result), ==, "");
  g_assert_cmpstr (agentexec_execution_result_get_stdout (result), ==, "hi there ['one', 'two']\n");
  g_assert_cmpuint (agentexec_execution_result_get_output_files (result)->len, ==, 0);
}

static void
test_secure_defaults (void)
{
  g_autoptr (AgentExecContainerExecutor) executor = new_executor (NULL);
  g_autoptr (AgentExecExecutionResult) result = NULL;
  g_autofree char *network_mode = NULL;
  g_autofree char *user = NULL;
  guint64 memory = 0;
  guint pids = 0;
  double cpus = 0;
  gboolean read_only = FALSE;

  if (executor == NULL)
    return;
  g_object_get (executor, "network-mode", &network_mode, "user", &user, "memory-bytes", &memory,
                "pids-limit", &pids, "cpus", &cpus, "read-only-root", &read_only, NULL);
  g_assert_cmpstr (network_mode, ==, "none");
  g_assert_cmpstr (user, ==, "1000:1000");
  g_assert_cmpuint (memory, ==, 512 * 1024 * 1024);
  g_assert_cmpuint (pids, ==, 256);
  g_assert_cmpfloat (cpus, ==, 1.0);
  g_assert_true (read_only);
  result = run_code (executor,
                     "id -u; id -g\n"
                     "grep -E '^(CapEff|NoNewPrivs)' /proc/self/status\n"
                     "cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || "
                     "  cat /sys/fs/cgroup/memory.max\n"
                     "cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max\n"
                     "ulimit -Hn\n",
                     "bash", 0);
  g_assert_cmpstr (agentexec_execution_result_get_stdout (result), ==,
                   "1000\n1000\nCapEff:\t0000000000000000\nNoNewPrivs:\t1\n"
                   "536870912\n256\n4096\n");
}

static void
test_read_only_root (void)
{
  g_autoptr (AgentExecContainerExecutor) executor = new_executor (NULL);
  g_autoptr (AgentExecExecutionResult) result = NULL;

  if (executor == NULL)
    return;
  result =
      run_code (executor,
                "for p in ['/etc/evil', '/home/runner/evil', '/usr/evil', '/workspace/../x']:\n"
                "    try:\n"
                "        open(p, 'w').write('x'); print('WROTE', p)\n"
                "    except OSError as e:\n"
                "        print('denied', e.errno)\n"
                "open('/tmp/t', 'w').write('tmp ok'); print(open('/tmp/t').read())\n",
                "python", 0);
  g_assert_cmpstr (agentexec_execution_result_get_stdout (result), ==,
                   "denied 30\ndenied 30\ndenied 30\ndenied 30\ntmp ok\n");
  g_assert_cmpint (agentexec_execution_result_get_outcome (result), ==, AGENTEXEC_OUTCOME_OK);
}

static void
test_network_denied (void)
{
  g_autoptr (AgentExecContainerExecutor) executor = new_executor (NULL);
  g_autoptr (AgentExecExecutionResult) result = NULL;

  if (executor == NULL)
    return;
  result = run_code (executor,
                     "import socket, subprocess\n"
                     "print(sorted(n for n in socket.if_nameindex() for n in [n[1]]))\n"
                     "for addr in [('1.1.1.1', 53), ('172.17.0.1', 2375)]:\n"
                     "    s = socket.socket(); s.settimeout(2)\n"
                     "    try:\n"
                     "        s.connect(addr); print('CONNECTED', addr)\n"
                     "    except OSError as e:\n"
                     "        print('refused', type(e).__name__)\n",
                     "python", 20000);
  g_assert_cmpstr (agentexec_execution_result_get_stdout (result), ==,
                   "['lo']\nrefused OSError\nrefused OSError\n");
}

static void
test_timeout (void)
{
  g_autoptr (AgentExecContainerExecutor) executor = new_executor (NULL);
  g_autoptr (AgentExecExecutionResult) result = NULL;
  gint64 start = g_get_monotonic_time ();

  if (executor == NULL)
    return;
  result = run_code (executor,
                     "import sys\nprint('before', flush=True)\n"
                     "print('err before', file=sys.stderr, flush=True)\nwhile True: pass\n",
                     "python", 1500);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 10 * G_USEC_PER_SEC);
  g_assert_cmpint (agentexec_execution_result_get_outcome (result), ==,
                   AGENTEXEC_OUTCOME_DEADLINE_EXCEEDED);
  g_assert_cmpstr (agentexec_execution_result_get_stdout (result), ==, "before\n");
  g_assert_true (g_str_has_prefix (agentexec_execution_result_get_stderr (result),
                                   "err before\nCode execution timed out after 1.5 seconds."));
  g_assert_cmpint (agentexec_execution_result_get_signal (result), ==, 9);
}

static void
test_memory_limit (void)
{
  g_autoptr (AgentExecContainerExecutor) executor =
      new_executor ("memory-bytes", (guint64) 64 * 1024 * 1024, NULL);
  g_autoptr (AgentExecExecutionResult) result = NULL;

  if (executor == NULL)
    return;
  result = run_code (executor,
                     "print('start', flush=True)\nblocks = []\n"
                     "while True: blocks.append(bytearray(16 * 1024 * 1024))\n",
                     "python", 30000);
  g_assert_cmpint (agentexec_execution_result_get_outcome (result), ==,
                   AGENTEXEC_OUTCOME_RESOURCE_EXHAUSTED);
  g_assert_cmpstr (agentexec_execution_result_get_stdout (result), ==, "start\n");
  g_assert_nonnull (strstr (agentexec_execution_result_get_stderr (result), "memory limit"));
  g_assert_cmpint (agentexec_execution_result_get_exit_code (result), ==, 137);
}

static void
test_pids_limit (void)
{
  g_autoptr (AgentExecContainerExecutor) executor = new_executor ("pids-limit", 64, NULL);
  g_autoptr (AgentExecExecutionResult) counted = NULL;
  g_autoptr (AgentExecExecutionResult) bomb = NULL;
  gint64 n;

  if (executor == NULL)
    return;
  counted = run_code (executor,
                      "import subprocess\nprocs = []\n"
                      "try:\n"
                      "    for i in range(500): procs.append(subprocess.Popen(['sleep', '30']))\n"
                      "except OSError as e:\n"
                      "    print(len(procs))\n",
                      "python", 30000);
  n = g_ascii_strtoll (agentexec_execution_result_get_stdout (counted), NULL, 10);
  g_assert_cmpint (n, >, 10);
  g_assert_cmpint (n, <, 64);
  /* A classic fork bomb: held by the pids limit, then killed at the timeout. */
  bomb = run_code (executor, "b() { b | b & }; b; sleep 60", "bash", 3000);
  g_assert_cmpint (agentexec_execution_result_get_outcome (bomb), !=, AGENTEXEC_OUTCOME_OK);
}

static void
test_output_cap (void)
{
  g_autoptr (AgentExecContainerExecutor) executor = new_executor (NULL);
  g_autoptr (AgentExecExecutionResult) result = NULL;
  const char *out;

  if (executor == NULL)
    return;
  /* 100 MiB on stdout, a little on stderr. */
  result = run_code (executor,
                     "import sys\nchunk = 'x' * (1 << 20)\n"
                     "for i in range(100): sys.stdout.write(chunk)\n"
                     "sys.stdout.flush(); print('small', file=sys.stderr)\n",
                     "python", 120000);
  out = agentexec_execution_result_get_stdout (result);
  g_assert_true (agentexec_execution_result_get_stdout_truncated (result));
  g_assert_false (agentexec_execution_result_get_stderr_truncated (result));
  g_assert_cmpuint (strlen (out), <, 1024 * 1024 + 256);
  g_assert_cmpuint (strspn (out, "x"), ==, 1024 * 1024);
  g_assert_nonnull (strstr (out, "[agentexec: stdout truncated: 103809024 of 104857600 bytes"));
  g_assert_cmpstr (agentexec_execution_result_get_stderr (result), ==, "small\n");
  g_assert_cmpint (agentexec_execution_result_get_outcome (result), ==, AGENTEXEC_OUTCOME_OK);
}

typedef struct
{
  GMainLoop *loop;
  AgentExecExecutionResult *result;
  GError *error;
  GString *streamed[2];
  gint64 first_chunk;
  gint64 finished;
} StreamData;

static void
on_output (AgentExecCodeExecutor *executor,
           AgentExecExecutionInput *input,
           AgentExecStream stream,
           GBytes *chunk,
           StreamData *data)
{
  gsize len;
  const char *bytes = g_bytes_get_data (chunk, &len);

  if (data->first_chunk == 0)
    data->first_chunk = g_get_monotonic_time ();
  g_string_append_len (data->streamed[stream], bytes, len);
}

static void
on_done (GObject *source, GAsyncResult *res, gpointer user_data)
{
  StreamData *data = user_data;

  data->finished = g_get_monotonic_time ();
  data->result = agentexec_code_executor_execute_code_finish (AGENTEXEC_CODE_EXECUTOR (source), res,
                                                              &data->error);
  g_main_loop_quit (data->loop);
}

static void
test_streaming (void)
{
  g_autoptr (AgentExecContainerExecutor) executor = new_executor (NULL);
  g_autoptr (AgentExecExecutionInput) input = NULL;
  StreamData data = {
    0,
  };

  if (executor == NULL)
    return;
  input = agentexec_execution_input_new ("import sys, time\nprint('first', flush=True)\n"
                                         "print('warn', file=sys.stderr, flush=True)\n"
                                         "time.sleep(1.5)\nprint('second')\n",
                                         "python");
  data.loop = g_main_loop_new (NULL, FALSE);
  data.streamed[0] = g_string_new (NULL);
  data.streamed[1] = g_string_new (NULL);
  g_signal_connect (executor, "output", G_CALLBACK (on_output), &data);
  agentexec_code_executor_execute_code_async (AGENTEXEC_CODE_EXECUTOR (executor), NULL, input, NULL,
                                              on_done, &data);
  g_main_loop_run (data.loop);
  g_assert_no_error (data.error);
  g_assert_cmpstr (data.streamed[0]->str, ==, "first\nsecond\n");
  g_assert_cmpstr (data.streamed[1]->str, ==, "warn\n");
  g_assert_cmpstr (agentexec_execution_result_get_stdout (data.result), ==, "first\nsecond\n");
  /* The first chunk arrived while the code was still sleeping. */
  g_assert_cmpint (data.finished - data.first_chunk, >, G_USEC_PER_SEC);
  g_object_unref (data.result);
  g_string_free (data.streamed[0], TRUE);
  g_string_free (data.streamed[1], TRUE);
  g_main_loop_unref (data.loop);
}

typedef struct
{
  GMainLoop *loop;
  guint pending;
  guint ok;
} ConcurrentData;

typedef struct
{
  ConcurrentData *data;
  char *expected;
} ConcurrentCall;

static void
on_concurrent_done (GObject *source, GAsyncResult *res, gpointer user_data)
{
  ConcurrentCall *call = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecExecutionResult) result = NULL;

  result =
      agentexec_code_executor_execute_code_finish (AGENTEXEC_CODE_EXECUTOR (source), res, &error);
  g_assert_no_error (error);
  if (g_strcmp0 (agentexec_execution_result_get_stdout (result), call->expected) == 0 &&
      agentexec_execution_result_get_outcome (result) == AGENTEXEC_OUTCOME_OK)
    call->data->ok++;
  if (--call->data->pending == 0)
    g_main_loop_quit (call->data->loop);
  g_free (call->expected);
  g_free (call);
}

static void
test_concurrent (void)
{
  g_autoptr (AgentExecContainerExecutor) executor = new_executor (NULL);
  ConcurrentData data = {
    0,
  };
  gint64 start = g_get_monotonic_time ();

  if (executor == NULL)
    return;
  data.loop = g_main_loop_new (NULL, FALSE);
  data.pending = 16;
  for (guint i = 0; i < 16; i++)
    {
      g_autofree char *code = g_strdup_printf ("import os\nopen('id', 'w').write('%u')\n"
                                               "print(%u * 2, sorted(os.listdir('.')))",
                                               i, i);
      g_autoptr (AgentExecExecutionInput) input = agentexec_execution_input_new (code, "python");
      ConcurrentCall *call = g_new0 (ConcurrentCall, 1);

      call->data = &data;
      call->expected = g_strdup_printf ("%u ['id']\n", i * 2);
      agentexec_code_executor_execute_code_async (AGENTEXEC_CODE_EXECUTOR (executor), NULL, input,
                                                  NULL, on_concurrent_done, call);
    }
  g_main_loop_run (data.loop);
  g_assert_cmpuint (data.ok, ==, 16);
  g_test_message ("16 concurrent runs took %.2f s",
                  (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC);
  g_main_loop_unref (data.loop);
}

static void
cancel_soon (GCancellable *cancellable)
{
  g_usleep (G_USEC_PER_SEC);
  g_cancellable_cancel (cancellable);
}

static void
got_cancel_result (GObject *source, GAsyncResult *res, gpointer user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (res);
}

/* The async run's clean-up may finish in its worker thread just after the
 * callback: wait (boundedly) for the engine to hold nothing of ours. */
static void
wait_unlabelled (void)
{
  for (guint i = 0; i < 100 && count_mine () != 0; i++)
    g_usleep (100 * 1000);
  g_assert_cmpuint (count_mine (), ==, 0);
}

/* Sync and async cancels end the same way (G_IO_ERROR_CANCELLED). */
static void
test_cancel (void)
{
  g_autoptr (AgentExecContainerExecutor) executor = new_executor ("pool-size", 0, NULL);
  g_autoptr (AgentExecExecutionInput) input = agentexec_execution_input_new ("sleep 60", "bash");
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (AgentExecExecutionResult) result = NULL;
  g_autoptr (GError) error = NULL;
  GThread *thread;
  gint64 start = g_get_monotonic_time ();

  if (executor == NULL)
    return;
  thread = g_thread_new ("cancel", (GThreadFunc) cancel_soon, cancellable);
  result = agentexec_code_executor_execute_code (AGENTEXEC_CODE_EXECUTOR (executor), NULL, input,
                                                 cancellable, &error);
  g_thread_join (thread);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (result);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 10 * G_USEC_PER_SEC);
  g_assert_cmpuint (count_mine (), ==, 0);

  /* The async path ends the same way: G_IO_ERROR_CANCELLED, nothing left. */
  {
    g_autoptr (GCancellable) again = g_cancellable_new ();
    g_autoptr (GAsyncResult) res = NULL;
    g_autoptr (GError) async_error = NULL;
    g_autoptr (AgentExecExecutionResult) async_result = NULL;

    thread = g_thread_new ("cancel", (GThreadFunc) cancel_soon, again);
    start = g_get_monotonic_time ();
    agentexec_code_executor_execute_code_async (AGENTEXEC_CODE_EXECUTOR (executor), NULL, input,
                                                again, got_cancel_result, &res);
    while (res == NULL)
      g_main_context_iteration (NULL, TRUE);
    g_thread_join (thread);
    async_result = agentexec_code_executor_execute_code_finish (AGENTEXEC_CODE_EXECUTOR (executor),
                                                                res, &async_error);
    g_assert_null (async_result);
    g_assert_error (async_error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    g_assert_cmpint (g_get_monotonic_time () - start, <, 10 * G_USEC_PER_SEC);
    wait_unlabelled ();
  }
}

typedef struct
{
  AgentExecContainerExecutor *executor;
  AgentExecExecutionResult *result;
  GError *error;
} CloseData;

static gpointer
run_long (gpointer user_data)
{
  CloseData *data = user_data;
  g_autoptr (AgentExecExecutionInput) input = agentexec_execution_input_new ("sleep 60", "bash");

  data->result = agentexec_code_executor_execute_code (AGENTEXEC_CODE_EXECUTOR (data->executor),
                                                       NULL, input, NULL, &data->error);
  return NULL;
}

static void
test_close_removes (void)
{
  g_autoptr (AgentExecContainerExecutor) executor = new_executor ("pool-size", 0, NULL);
  CloseData data = {
    0,
  };
  g_autofree char *executor_id = NULL;
  GThread *thread;
  gint64 start;

  if (executor == NULL)
    return;
  data.executor = executor;
  thread = g_thread_new ("long", run_long, &data);
  /* Wait until its container exists. */
  for (guint i = 0; i < 100 && count_mine () == 0; i++)
    g_usleep (100 * 1000);
  g_assert_cmpuint (count_mine (), ==, 1);
  start = g_get_monotonic_time ();
  agentexec_code_executor_close (AGENTEXEC_CODE_EXECUTOR (executor));
  g_thread_join (thread);
  /* The run ends at once, with an error rather than a made-up result. */
  g_assert_cmpint (g_get_monotonic_time () - start, <, 15 * G_USEC_PER_SEC);
  g_assert_true (data.result == NULL ||
                 agentexec_execution_result_get_outcome (data.result) != AGENTEXEC_OUTCOME_OK);
  g_assert_true (data.result != NULL || data.error != NULL);
  g_clear_object (&data.result);
  g_clear_error (&data.error);
  g_assert_cmpuint (count_mine (), ==, 0);
}

static GPid
dead_pid (void)
{
  GPid pid = fork ();

  if (pid == 0)
    _exit (0);
  waitpid (pid, NULL, 0);
  return pid;
}

static void
test_reaper (void)
{
  g_autoptr (AgentExecContainerExecutor) probe = new_executor (NULL);
  g_autoptr (AgentExecContainerExecutor) executor = NULL;
  g_autoptr (AgentExecDockerClient) client = NULL;
  g_autoptr (JsonNode) body = NULL;
  g_autoptr (JsonNode) answer = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *owner = NULL;
  g_autofree char *filter = NULL;
  AgentExecContainerSpec spec;
  const char *argv[] = { "sleep", "300", NULL };
  JsonObject *labels;

  if (probe == NULL)
    return;
  /* A container left behind by a process that is gone... */
  _agentexec_container_runtime_get_spec (_agentexec_container_executor_get_runtime (probe), &spec);
  body = _agentexec_container_create_body (&spec, argv, NULL);
  owner = _agentexec_container_owner_for_pid (dead_pid ());
  g_assert_true (_agentexec_container_owner_is_gone (owner));
  g_assert_false (_agentexec_container_owner_is_gone (_agentexec_container_owner_label ()));
  labels = json_object_get_object_member (json_node_get_object (body), "Labels");
  json_object_set_string_member (labels, AGENTEXEC_LABEL_OWNER, owner);
  client = _agentexec_docker_client_new (NULL, &error);
  g_assert_true (_agentexec_docker_client_negotiate (client, NULL, &error));
  answer = _agentexec_docker_client_request_json (client, "POST", "/containers/create", body, NULL,
                                                  NULL, &error);
  g_assert_no_error (error);
  filter = g_strdup_printf (AGENTEXEC_LABEL_OWNER "=%s", owner);
  g_assert_cmpuint (count_labelled (filter), ==, 1);
  /* ...is removed by the next executor; ours are left alone. */
  executor = new_executor (NULL);
  g_assert_cmpuint (count_labelled (filter), ==, 0);
}

static void
test_unreachable (void)
{
  g_autoptr (GError) error = NULL;
  GObject *executor;

  executor = g_initable_new (AGENTEXEC_TYPE_CONTAINER_EXECUTOR, NULL, &error, "docker-host",
                             "unix:///nonexistent/docker.sock", NULL);
  g_assert_null (executor);
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_BACKEND_UNAVAILABLE);
  g_assert_nonnull (strstr (error->message, "unix:///nonexistent/docker.sock"));
  g_clear_error (&error);
  executor = g_initable_new (AGENTEXEC_TYPE_CONTAINER_EXECUTOR, NULL, &error, "docker-host",
                             "ftp://example.org", NULL);
  g_assert_null (executor);
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_INVALID_INPUT);
}

static void
test_missing_image (void)
{
  g_autoptr (AgentExecContainerExecutor) probe = new_executor (NULL);
  g_autoptr (GError) error = NULL;
  GObject *executor;

  if (probe == NULL)
    return;
  executor = g_initable_new (AGENTEXEC_TYPE_CONTAINER_EXECUTOR, NULL, &error, "image",
                             "agentexec-no-such-image:never", NULL);
  g_assert_null (executor);
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "agentexec-no-such-image:never"));
  g_assert_nonnull (strstr (error->message, "scripts/build-runtime-image.sh"));
}

static void
test_dockerfile (void)
{
  g_autofree char *dockerfile =
      g_strdup_printf ("FROM " IMAGE "\nENV AGENTEXEC_TEST=%d\n", (int) getpid ());
  g_autoptr (AgentExecContainerExecutor) built = NULL;
  g_autoptr (AgentExecContainerExecutor) reused = NULL;
  g_autoptr (AgentExecExecutionResult) result = NULL;
  g_autoptr (AgentExecDockerClient) client = NULL;
  g_autoptr (GBytes) answer = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *expected = g_strdup_printf ("%d\n", (int) getpid ());
  g_autofree char *sum = NULL;
  g_autofree char *path = NULL;
  gint64 start;

  built = new_executor ("dockerfile", dockerfile, NULL);
  if (built == NULL)
    return;
  result = run_code (built, "echo $AGENTEXEC_TEST", "bash", 0);
  g_assert_cmpstr (agentexec_execution_result_get_stdout (result), ==, expected);
  /* Unchanged text: the tagged image is reused, not rebuilt. */
  start = g_get_monotonic_time ();
  reused = new_executor ("dockerfile", dockerfile, NULL);
  g_assert_cmpint (g_get_monotonic_time () - start, <, G_USEC_PER_SEC);
  g_clear_object (&built);
  g_clear_object (&reused);
  sum = g_compute_checksum_for_string (G_CHECKSUM_SHA256, dockerfile, -1);
  path = g_strdup_printf ("/images/agentexec-custom:%.16s?force=1", sum);
  client = _agentexec_docker_client_new (NULL, NULL);
  g_assert_true (_agentexec_docker_client_negotiate (client, NULL, &error));
  answer =
      _agentexec_docker_client_request (client, "DELETE", path, NULL, NULL, 0, NULL, NULL, &error);
  g_assert_no_error (error);
  /* A broken Dockerfile: the daemon's message comes through. */
  built = AGENTEXEC_CONTAINER_EXECUTOR (
      g_initable_new (AGENTEXEC_TYPE_CONTAINER_EXECUTOR, NULL, &error, "dockerfile",
                      "FROM agentexec-no-such-base:never\n", NULL));
  g_assert_null (built);
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_FAILED);
  g_assert_nonnull (
      strstr (error->message, "Building the image from the dockerfile property failed: "));
}

/* A proxy from 127.0.0.1:<port> to the engine's unix socket, in a thread of
 * its own, so one test talks to the engine over tcp:// without touching the
 * running daemon's configuration. */
typedef struct
{
  GThread *thread;
  GMainContext *context;
  GMainLoop *loop;
  GSocketService *service;
  GPtrArray *streams;
  guint16 port;
  GMutex lock;
  GCond cond;
  gboolean ready;
} Proxy;

/* The unix socket of the engine under test (DOCKER_HOST, else the default). */
static const char *
engine_socket_path (void)
{
  const char *host = g_getenv ("DOCKER_HOST");

  if (host != NULL && g_str_has_prefix (host, "unix://"))
    return host + strlen ("unix://");
  if (host != NULL && host[0] == '/')
    return host;
  return "/var/run/docker.sock";
}

static void
spliced (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_io_stream_splice_finish (res, NULL);
}

static gboolean
on_incoming (GSocketService *service,
             GSocketConnection *connection,
             GObject *source,
             gpointer user_data)
{
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GSocketAddress) address = g_unix_socket_address_new (engine_socket_path ());
  g_autoptr (GSocketConnection) upstream = NULL;
  Proxy *proxy = user_data;

  upstream = g_socket_client_connect (client, G_SOCKET_CONNECTABLE (address), NULL, NULL);
  if (upstream == NULL)
    return TRUE;
  g_ptr_array_add (proxy->streams, g_object_ref (connection));
  g_ptr_array_add (proxy->streams, g_object_ref (upstream));
  g_io_stream_splice_async (G_IO_STREAM (connection), G_IO_STREAM (upstream),
                            G_IO_STREAM_SPLICE_CLOSE_STREAM1 | G_IO_STREAM_SPLICE_CLOSE_STREAM2,
                            G_PRIORITY_DEFAULT, NULL, spliced, NULL);
  return TRUE;
}

static gpointer
proxy_thread (gpointer user_data)
{
  Proxy *proxy = user_data;
  g_autoptr (GError) error = NULL;

  g_main_context_push_thread_default (proxy->context);
  g_autoptr (GSocketAddress) address =
      g_inet_socket_address_new_from_string ("127.0.0.1", proxy->port);
  g_autoptr (GSocketAddress) bound = NULL;

  /* Loopback only: the engine must not be reachable from the network. */
  proxy->service = g_socket_service_new ();
  g_socket_listener_add_address (G_SOCKET_LISTENER (proxy->service), address, G_SOCKET_TYPE_STREAM,
                                 G_SOCKET_PROTOCOL_TCP, NULL, &bound, &error);
  g_assert_no_error (error);
  proxy->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g_signal_connect (proxy->service, "incoming", G_CALLBACK (on_incoming), proxy);
  g_socket_service_start (proxy->service);
  g_mutex_lock (&proxy->lock);
  proxy->ready = TRUE;
  g_cond_signal (&proxy->cond);
  g_mutex_unlock (&proxy->lock);
  g_main_loop_run (proxy->loop);
  g_socket_service_stop (proxy->service);
  g_socket_listener_close (G_SOCKET_LISTENER (proxy->service));
  g_clear_object (&proxy->service);
  /* Like an engine that went away: every open connection is cut. */
  for (guint i = 0; i < proxy->streams->len; i++)
    g_io_stream_close (g_ptr_array_index (proxy->streams, i), NULL, NULL);
  while (g_main_context_iteration (proxy->context, FALSE))
    ;
  g_main_context_pop_thread_default (proxy->context);
  return NULL;
}

static Proxy *
proxy_start (guint16 port)
{
  Proxy *proxy = g_new0 (Proxy, 1);

  proxy->port = port;
  g_mutex_init (&proxy->lock);
  g_cond_init (&proxy->cond);
  proxy->context = g_main_context_new ();
  proxy->streams = g_ptr_array_new_with_free_func (g_object_unref);
  proxy->loop = g_main_loop_new (proxy->context, FALSE);
  proxy->thread = g_thread_new ("proxy", proxy_thread, proxy);
  g_mutex_lock (&proxy->lock);
  while (!proxy->ready)
    g_cond_wait (&proxy->cond, &proxy->lock);
  g_mutex_unlock (&proxy->lock);
  return proxy;
}

static void
proxy_stop (Proxy *proxy)
{
  g_main_loop_quit (proxy->loop);
  g_thread_join (proxy->thread);
  g_main_loop_unref (proxy->loop);
  g_main_context_unref (proxy->context);
  g_ptr_array_unref (proxy->streams);
  g_mutex_clear (&proxy->lock);
  g_cond_clear (&proxy->cond);
  g_free (proxy);
}

static void
test_tcp (void)
{
  g_autoptr (AgentExecContainerExecutor) probe = new_executor (NULL);
  g_autoptr (AgentExecContainerExecutor) executor = NULL;
  g_autoptr (AgentExecExecutionResult) result = NULL;
  g_autoptr (AgentExecExecutionInput) input = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *host = NULL;
  Proxy *proxy;

  if (probe == NULL)
    return;
  proxy = proxy_start (0);
  host = g_strdup_printf ("tcp://127.0.0.1:%u", proxy->port);
  executor = new_executor ("docker-host", host, "max-retries", 2, "retry-delay-ms", 10, NULL);
  g_assert_cmpstr (agentexec_container_executor_get_docker_host (executor), ==, host);
  input = agentexec_execution_input_new ("import sys\nprint('over tcp')\n"
                                         "print('e', file=sys.stderr)",
                                         "python");
  add_text_file (input, "in.txt", "x");
  result = agentexec_code_executor_execute_code (AGENTEXEC_CODE_EXECUTOR (executor), NULL, input,
                                                 NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (agentexec_execution_result_get_stdout (result), ==, "over tcp\n");
  g_assert_cmpstr (agentexec_execution_result_get_stderr (result), ==, "e\n");
  g_clear_object (&result);
  /* The engine goes away: the base class retries, then gives up. */
  agentexec_code_executor_close (AGENTEXEC_CODE_EXECUTOR (executor));
  proxy_stop (proxy);
  result = agentexec_code_executor_execute_code (AGENTEXEC_CODE_EXECUTOR (executor), NULL, input,
                                                 NULL, &error);
  g_assert_null (result);
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_RETRIES_EXHAUSTED);
  g_assert_nonnull (strstr (error->message, "3 attempts"));
}

static gpointer
cut_engine_soon (gpointer data)
{
  Proxy *proxy = data;

  g_usleep (2 * G_USEC_PER_SEC);
  proxy_stop (proxy);
  return NULL;
}

static void
test_engine_lost_mid_run (void)
{
  g_autoptr (AgentExecContainerExecutor) probe = new_executor (NULL);
  g_autoptr (AgentExecContainerExecutor) executor = NULL;
  g_autoptr (AgentExecExecutionResult) result = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *host = NULL;
  GThread *cutter;
  Proxy *proxy;
  guint16 port;
  gint64 start;

  if (probe == NULL)
    return;
  proxy = proxy_start (0);
  port = proxy->port;
  host = g_strdup_printf ("tcp://127.0.0.1:%u", port);
  executor = new_executor ("docker-host", host, "pool-size", 0, NULL);
  cutter = g_thread_new ("cut", cut_engine_soon, proxy);
  start = g_get_monotonic_time ();
  result = run_code_error (executor, "echo started; sleep 30", "bash", &error);
  g_thread_join (cutter);
  /* A clean error, promptly, not a made-up result. */
  g_assert_null (result);
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_BACKEND_UNAVAILABLE);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 10 * G_USEC_PER_SEC);
  /* Its container could not be removed while the engine was away... */
  g_assert_cmpuint (count_mine (), ==, 1);
  /* ...and is when the engine is back. */
  proxy = proxy_start (port);
  agentexec_code_executor_close (AGENTEXEC_CODE_EXECUTOR (executor));
  g_assert_cmpuint (count_mine (), ==, 0);
  proxy_stop (proxy);
}

/* An executor whose pool holds @n warm containers of @language. */
static AgentExecContainerExecutor *
new_warm_executor (const char *language, guint n)
{
  AgentExecContainerExecutor *executor = new_executor ("pool-size", n, NULL);
  AgentExecContainerPool *pool;
  g_autoptr (AgentExecExecutionResult) first = NULL;

  if (executor == NULL)
    return NULL;
  /* The first run of a language is a miss and asks for it to be kept warm. */
  first = run_code (executor, g_str_equal (language, "javascript") ? "1" : "true", language, 0);
  pool = _agentexec_container_executor_get_pool (executor);
  for (guint i = 0; i < 300 && _agentexec_container_pool_get_n_warm (pool) < n; i++)
    g_usleep (100 * 1000);
  g_assert_cmpuint (_agentexec_container_pool_get_n_warm (pool), ==, n);
  return executor;
}

static void
test_pool_runs (void)
{
  g_autoptr (AgentExecContainerExecutor) executor = new_warm_executor ("python", 2);
  g_autoptr (AgentExecExecutionInput) input = NULL;
  g_autoptr (AgentExecExecutionResult) result = NULL;
  g_autoptr (AgentExecExecutionResult) exited = NULL;
  g_autoptr (AgentExecExecutionResult) preloaded = NULL;
  g_autoptr (GError) error = NULL;
  gint64 start;

  if (executor == NULL)
    return;
  /* A pool container imported the data libraries (where the image has them)
   * before it answered ready; the variable that asked for it is gone. */
  preloaded = run_code (executor,
                        "import importlib.util, os, sys\n"
                        "print('AGENTEXEC_PRELOAD' in os.environ, "
                        "importlib.util.find_spec('numpy') is None or 'numpy' in sys.modules)",
                        "python", 0);
  g_assert_cmpstr (agentexec_execution_result_get_stdout (preloaded), ==, "False True\n");
  g_assert_cmpstr (agentexec_execution_result_get_stderr (preloaded), ==, "");
  input = agentexec_execution_input_new ("import sys\nprint(open('in.txt').read())\n"
                                         "print('warn', file=sys.stderr)\n"
                                         "open('out.txt', 'w').write('made')\nsys.exit(3)\n",
                                         "python");
  add_text_file (input, "in.txt", "hello");
  start = g_get_monotonic_time ();
  result = agentexec_code_executor_execute_code (AGENTEXEC_CODE_EXECUTOR (executor), NULL, input,
                                                 NULL, &error);
  g_assert_no_error (error);
  g_test_message ("pooled run with a file in and out: %.1f ms",
                  (g_get_monotonic_time () - start) / 1000.0);
  g_assert_cmpstr (agentexec_execution_result_get_stdout (result), ==, "hello\n");
  g_assert_true (g_str_has_prefix (agentexec_execution_result_get_stderr (result), "warn\n"));
  g_assert_cmpint (agentexec_execution_result_get_exit_code (result), ==, 3);
  g_assert_cmpint (agentexec_execution_result_get_outcome (result), ==, AGENTEXEC_OUTCOME_FAILED);
  g_assert_nonnull (find_file (result, "out.txt"));
  g_assert_cmpuint (agentexec_execution_result_get_output_files (result)->len, ==, 1);
  /* A program that ends the interpreter itself: the container's exit code. */
  exited = run_code (executor, "import os\nprint('bye', flush=True)\nos._exit(5)", "python", 0);
  g_assert_cmpstr (agentexec_execution_result_get_stdout (exited), ==, "bye\n");
  g_assert_cmpint (agentexec_execution_result_get_exit_code (exited), ==, 5);
}

static void
test_pool_isolation (void)
{
  g_autoptr (AgentExecContainerExecutor) executor = new_warm_executor ("python", 2);
  g_autoptr (AgentExecExecutionResult) writer = NULL;
  g_autoptr (AgentExecExecutionResult) reader = NULL;

  if (executor == NULL)
    return;
  writer = run_code (executor,
                     "open('/workspace/secret', 'w').write('s')\n"
                     "open('/tmp/secret', 'w').write('s')\nx = 42\n",
                     "python", 0);
  g_assert_cmpint (agentexec_execution_result_get_outcome (writer), ==, AGENTEXEC_OUTCOME_OK);
  reader = run_code (executor,
                     "import os\nprint(os.path.exists('/workspace/secret'), "
                     "os.path.exists('/tmp/secret'), 'x' in globals())\n",
                     "python", 0);
  g_assert_cmpstr (agentexec_execution_result_get_stdout (reader), ==, "False False False\n");
}

static void
test_pool_timeout_and_languages (void)
{
  g_autoptr (AgentExecContainerExecutor) executor = new_warm_executor ("python", 1);
  g_autoptr (AgentExecExecutionResult) looped = NULL;
  g_autoptr (AgentExecExecutionResult) js = NULL;
  g_autoptr (AgentExecExecutionResult) sh = NULL;

  if (executor == NULL)
    return;
  looped = run_code (executor, "print('before', flush=True)\nwhile True: pass\n", "python", 1500);
  g_assert_cmpint (agentexec_execution_result_get_outcome (looped), ==,
                   AGENTEXEC_OUTCOME_DEADLINE_EXCEEDED);
  g_assert_cmpstr (agentexec_execution_result_get_stdout (looped), ==, "before\n");
  g_clear_object (&executor);

  executor = new_warm_executor ("javascript", 1);
  js = run_code (executor, "console.log(6 * 7); process.exit(4)", "javascript", 0);
  g_assert_cmpstr (agentexec_execution_result_get_stdout (js), ==, "42\n");
  g_assert_cmpint (agentexec_execution_result_get_exit_code (js), ==, 4);
  g_clear_object (&executor);

  executor = new_warm_executor ("bash", 1);
  sh = run_code (executor, "echo $((2 + 3)); echo oops >&2; false", "bash", 0);
  g_assert_cmpstr (agentexec_execution_result_get_stdout (sh), ==, "5\n");
  g_assert_cmpstr (agentexec_execution_result_get_stderr (sh), ==, "oops\n");
  g_assert_cmpint (agentexec_execution_result_get_outcome (sh), ==, AGENTEXEC_OUTCOME_FAILED);
}

static AgentExecFile *
sized_file (const char *name, gsize size)
{
  g_autofree char *data = g_malloc (size);
  g_autoptr (GBytes) bytes = NULL;

  for (gsize i = 0; i < size; i++)
    data[i] = "0123456789,\n"[i % 12];
  bytes = g_bytes_new_take (g_steal_pointer (&data), size);
  return agentexec_file_new (name, "text/csv", bytes);
}

static AgentExecExecutionResult *
run_with_files (AgentExecContainerExecutor *executor,
                const char *execution_id,
                const char *code,
                AgentExecFile **files,
                GError **error)
{
  g_autoptr (AgentExecExecutionInput) input = agentexec_execution_input_new (code, "python");

  if (execution_id != NULL)
    agentexec_execution_input_set_execution_id (input, execution_id);
  for (guint i = 0; files != NULL && files[i] != NULL; i++)
    agentexec_execution_input_add_file (input, files[i]);
  return agentexec_code_executor_execute_code (AGENTEXEC_CODE_EXECUTOR (executor), NULL, input,
                                               NULL, error);
}

/* Files in and out through a pool container's driver: nested names, a
 * rewrite with the same size, a rewrite with the same content (not
 * returned), a matplotlib figure, symlinks that are never followed. */
static void
test_pool_driver_files (void)
{
  g_autoptr (AgentExecContainerExecutor) executor = new_warm_executor ("python", 1);
  g_autoptr (AgentExecFile) csv = sized_file ("data/in.csv", 1024 * 1024);
  g_autoptr (AgentExecFile) same = text_file ("same.txt", "same");
  g_autoptr (AgentExecFile) edit = text_file ("deep/er/edit.txt", "abc");
  g_autoptr (AgentExecFile) empty = text_file ("empty.txt", "");
  AgentExecFile *files[] = { csv, empty, same, edit, NULL };
  g_autoptr (AgentExecExecutionResult) result = NULL;
  g_autoptr (GError) error = NULL;
  AgentExecFile *file;

  if (executor == NULL)
    return;
  result =
      run_with_files (executor, NULL,
                      "import os\n"
                      "print(os.path.getsize('data/in.csv'), open('deep/er/edit.txt').read(),\n"
                      "      os.path.getsize('empty.txt'), open('same.txt').read())\n"
                      "open('deep/er/edit.txt', 'w').write('xyz')\n"
                      "open('same.txt', 'w').write('same')\n"
                      "os.symlink('/etc/passwd', 'leak'); os.symlink('/etc', 'etcdir')\n"
                      "try:\n"
                      "    import matplotlib.pyplot as plt\n"
                      "    plt.plot([1, 2, 3]); plt.show()\n"
                      "except ImportError:\n"
                      "    open('figure_1.png', 'wb').write(b'\\x89PNG\\r\\n\\x1a\\n')\n",
                      files, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (agentexec_execution_result_get_stderr (result), ==, "");
  g_assert_cmpstr (agentexec_execution_result_get_stdout (result), ==, "1048576 abc 0 same\n");
  file = find_file (result, "deep/er/edit.txt");
  g_assert_nonnull (file);
  g_assert_cmpmem (g_bytes_get_data (agentexec_file_get_content (file), NULL), 3, "xyz", 3);
  g_assert_cmpstr (agentexec_file_get_mime_type (file), ==, "text/plain");
  file = find_file (result, "figure_1.png");
  g_assert_nonnull (file);
  g_assert_cmpstr (agentexec_file_get_mime_type (file), ==, "image/png");
  g_assert_cmpmem (g_bytes_get_data (agentexec_file_get_content (file), NULL), 4, "\x89PNG", 4);
  g_assert_null (find_file (result, "data/in.csv"));
  g_assert_null (find_file (result, "same.txt"));
  g_assert_null (find_file (result, "leak"));
  g_assert_null (find_file (result, "etcdir/passwd"));
  g_assert_cmpuint (agentexec_execution_result_get_output_files (result)->len, ==, 2);
}

/* Files bigger than what the driver carries go through the archive API,
 * both ways, with the same content; past the workspace's cap a notice says
 * the files were not returned. */
static void
test_pool_big_files (void)
{
  g_autoptr (AgentExecContainerExecutor) executor = new_warm_executor ("python", 1);
  g_autoptr (AgentExecFile) big = sized_file ("big.csv", 17 * 1024 * 1024);
  AgentExecFile *files[] = { big, NULL };
  g_autoptr (AgentExecExecutionResult) result = NULL;
  g_autoptr (AgentExecExecutionResult) capped = NULL;
  g_autoptr (GError) error = NULL;
  AgentExecFile *file;

  if (executor == NULL)
    return;
  result = run_with_files (executor, NULL,
                           "data = open('big.csv', 'rb').read()\n"
                           "print(len(data), data[:12] == b'0123456789,\\n')\n"
                           "open('out.bin', 'wb').write(data[::-1])\n",
                           files, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (agentexec_execution_result_get_stdout (result), ==, "17825792 True\n");
  file = find_file (result, "out.bin");
  g_assert_nonnull (file);
  g_assert_cmpuint (g_bytes_get_size (agentexec_file_get_content (file)), ==, 17 * 1024 * 1024);
  g_assert_cmpint (((const char *) g_bytes_get_data (agentexec_file_get_content (file), NULL))[0],
                   ==, "0123456789,\n"[(17 * 1024 * 1024 - 1) % 12]);
  g_assert_cmpuint (agentexec_execution_result_get_output_files (result)->len, ==, 1);

  /* 70 MB of output files: more than the workspace copy's 64 MiB cap. */
  capped = run_code (executor,
                     "for i in range(7): open('f%d.bin' % i, 'wb').write(bytes(10 * 1000 * 1000))\n"
                     "print('done')\n",
                     "python", 0);
  g_assert_cmpstr (agentexec_execution_result_get_stdout (capped), ==, "done\n");
  g_assert_nonnull (strstr (agentexec_execution_result_get_stderr (capped),
                            "[agentexec: output files not returned: "));
  g_assert_cmpuint (agentexec_execution_result_get_output_files (capped)->len, ==, 0);
}

/* Bad names are refused before anything runs, in the pool as without. */
static void
test_pool_bad_file_names (void)
{
  g_autoptr (AgentExecContainerExecutor) executor = new_warm_executor ("python", 1);
  const char *names[] = { "../escape.txt", "/etc/passwd", "a/../../b", "" };

  if (executor == NULL)
    return;
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autoptr (AgentExecFile) file = text_file (names[i], "x");
      AgentExecFile *files[] = { file, NULL };
      g_autoptr (AgentExecExecutionResult) result = NULL;
      g_autoptr (GError) error = NULL;

      result = run_with_files (executor, NULL, "print(1)", files, &error);
      g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_INVALID_INPUT);
      g_assert_null (result);
    }
  g_assert_cmpuint (
      _agentexec_container_pool_get_n_warm (_agentexec_container_executor_get_pool (executor)), <=,
      1);
}

#define SESSION_FILES_OK(executor, id, code, files)                                                \
  G_STMT_START                                                                                     \
  {                                                                                                \
    g_autoptr (GError) e_ = NULL;                                                                  \
    g_clear_object (&result);                                                                      \
    result = run_with_files (executor, id, code, files, &e_);                                      \
    g_assert_no_error (e_);                                                                        \
    g_assert_cmpstr (agentexec_execution_result_get_stderr (result), ==, "");                      \
  }                                                                                                \
  G_STMT_END

/* A stateful session: the driver reports what the code created, changed and
 * deleted; a deleted file made again comes back; an input file whose
 * directory the code turned into a symlink is refused without losing the
 * session, and nothing is written where the symlink points. */
static void
test_stateful_driver_files (void)
{
  g_autoptr (AgentExecContainerExecutor) executor =
      new_executor ("stateful", TRUE, "pool-size", 0, NULL);
  g_autoptr (AgentExecFile) csv = text_file ("t.csv", "a,b\n1,2\n");
  g_autoptr (AgentExecFile) through_link = text_file ("link/x.txt", "x");
  AgentExecFile *files[] = { csv, NULL };
  AgentExecFile *bad[] = { through_link, NULL };
  g_autoptr (AgentExecExecutionResult) result = NULL;
  g_autoptr (GError) error = NULL;

  if (executor == NULL)
    return;
  SESSION_FILES_OK (executor, "f", "n = 1\nprint(open('t.csv').read().count('\\n'))", files);
  g_assert_cmpstr (agentexec_execution_result_get_stdout (result), ==, "2\n");
  g_assert_cmpuint (agentexec_execution_result_get_output_files (result)->len, ==, 0);
  SESSION_FILES_OK (executor, "f", "import os\nos.remove('t.csv')\nos.mkdir('sub')\n", NULL);
  g_assert_cmpuint (agentexec_execution_result_get_output_files (result)->len, ==, 0);
  SESSION_FILES_OK (executor, "f", "print(os.path.exists('t.csv'))", NULL);
  g_assert_cmpstr (agentexec_execution_result_get_stdout (result), ==, "False\n");
  /* The same content as before it was deleted: new again, so returned. */
  SESSION_FILES_OK (executor, "f", "open('t.csv', 'w').write('a,b\\n1,2\\n')", NULL);
  g_assert_nonnull (find_file (result, "t.csv"));
  g_assert_cmpuint (agentexec_execution_result_get_output_files (result)->len, ==, 1);
  SESSION_FILES_OK (executor, "f", "open('sub/s.txt', 'w').write('s')\n", NULL);
  g_assert_nonnull (find_file (result, "sub/s.txt"));
  g_assert_cmpuint (agentexec_execution_result_get_output_files (result)->len, ==, 1);

  SESSION_FILES_OK (executor, "f", "os.symlink('/tmp', 'link')", NULL);
  g_clear_object (&result);
  result = run_with_files (executor, "f", "print('ran')", bad, &error);
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_INVALID_INPUT);
  g_assert_nonnull (strstr (error->message, "link/x.txt"));
  g_assert_null (result);
  SESSION_FILES_OK (executor, "f", "print(n, os.path.exists('/tmp/x.txt'))", NULL);
  g_assert_cmpstr (agentexec_execution_result_get_stdout (result), ==, "1 False\n");
  g_assert_false (agentexec_execution_result_get_session_restarted (result));
  agentexec_code_executor_close (AGENTEXEC_CODE_EXECUTOR (executor));
}

static AgentExecExecutionResult *
run_in_session (AgentExecContainerExecutor *executor,
                const char *execution_id,
                const char *code,
                guint timeout_ms,
                GError **error)
{
  g_autoptr (AgentExecExecutionInput) input = agentexec_execution_input_new (code, "python");

  agentexec_execution_input_set_execution_id (input, execution_id);
  agentexec_execution_input_set_timeout_ms (input, timeout_ms);
  return agentexec_code_executor_execute_code (AGENTEXEC_CODE_EXECUTOR (executor), NULL, input,
                                               NULL, error);
}

#define SESSION_STDOUT(executor, id, code)                                                         \
  G_STMT_START                                                                                     \
  {                                                                                                \
    g_autoptr (GError) e_ = NULL;                                                                  \
    g_autoptr (AgentExecExecutionResult) r_ = run_in_session (executor, id, code, 0, &e_);         \
    g_assert_no_error (e_);                                                                        \
    g_clear_pointer (&last_stdout, g_free);                                                        \
    last_stdout = g_strdup (agentexec_execution_result_get_stdout (r_));                           \
    last_restarted = agentexec_execution_result_get_session_restarted (r_);                        \
  }                                                                                                \
  G_STMT_END

static void
test_stateful_sessions (void)
{
  g_autoptr (AgentExecContainerExecutor) executor = new_executor (
      "stateful", TRUE, "pool-size", 0, "max-sessions", 2, "session-idle-timeout-ms", 0, NULL);
  g_autoptr (AgentExecExecutionResult) result = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *last_stdout = NULL;
  gboolean last_restarted = FALSE;
  gint64 start;

  if (executor == NULL)
    return;
  SESSION_STDOUT (executor, "a", "x = 41\nimport json");
  start = g_get_monotonic_time ();
  SESSION_STDOUT (executor, "a", "x += 1\nprint(x, json.dumps([1]))");
  g_test_message ("stateful round trip: %.2f ms", (g_get_monotonic_time () - start) / 1000.0);
  g_assert_cmpstr (last_stdout, ==, "42 [1]\n");
  /* Sessions share nothing. */
  SESSION_STDOUT (executor, "b", "print('x' in globals())");
  g_assert_cmpstr (last_stdout, ==, "False\n");
  /* Files persist in a session; only new or changed ones come back. */
  result = run_in_session (executor, "a", "open('f.txt', 'w').write('one')", 0, &error);
  g_assert_no_error (error);
  g_assert_nonnull (find_file (result, "f.txt"));
  g_clear_object (&result);
  result = run_in_session (executor, "a", "print(open('f.txt').read())", 0, &error);
  g_assert_cmpstr (agentexec_execution_result_get_stdout (result), ==, "one\n");
  g_assert_cmpuint (agentexec_execution_result_get_output_files (result)->len, ==, 0);
  g_clear_object (&result);
  /* The cap on live sessions. */
  result = run_in_session (executor, "c", "print(1)", 0, &error);
  g_assert_null (result);
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_RESOURCE_LIMIT);
  g_clear_error (&error);
  /* A crash ends the session's interpreter: the next run says state was lost. */
  result = run_in_session (executor, "a", "import os\nprint('dying', flush=True)\nos._exit(3)", 0,
                           &error);
  g_assert_no_error (error);
  g_assert_cmpint (agentexec_execution_result_get_exit_code (result), ==, 3);
  g_assert_cmpstr (agentexec_execution_result_get_stdout (result), ==, "dying\n");
  g_clear_object (&result);
  SESSION_STDOUT (executor, "a", "print('x' in globals())");
  g_assert_cmpstr (last_stdout, ==, "False\n");
  g_assert_true (last_restarted);
  /* So does a timeout, which kills that session's code, not the executor. */
  result = run_in_session (executor, "b", "y = 1\nwhile True: pass", 1000, &error);
  g_assert_no_error (error);
  g_assert_cmpint (agentexec_execution_result_get_outcome (result), ==,
                   AGENTEXEC_OUTCOME_DEADLINE_EXCEEDED);
  g_clear_object (&result);
  SESSION_STDOUT (executor, "b", "print('y' in globals())");
  g_assert_cmpstr (last_stdout, ==, "False\n");
  g_assert_true (last_restarted);
  SESSION_STDOUT (executor, "a", "print('still here')");
  g_assert_false (last_restarted);
  agentexec_code_executor_close (AGENTEXEC_CODE_EXECUTOR (executor));
  g_assert_cmpuint (count_mine (), ==, 0);
}

static void
test_stateful_idle_reaped (void)
{
  g_autoptr (AgentExecContainerExecutor) executor =
      new_executor ("stateful", TRUE, "pool-size", 0, "session-idle-timeout-ms", 500, NULL);
  g_autofree char *last_stdout = NULL;
  gboolean last_restarted = FALSE;

  if (executor == NULL)
    return;
  SESSION_STDOUT (executor, "old", "z = 1");
  g_assert_cmpuint (count_mine (), ==, 1);
  g_usleep (1200 * 1000);
  SESSION_STDOUT (executor, "new", "print(2)");
  /* Had "old" not been reaped when "new" started, z would still be there. */
  SESSION_STDOUT (executor, "old", "print('z' in globals())");
  g_assert_cmpstr (last_stdout, ==, "False\n");
  g_assert_false (last_restarted);
  agentexec_code_executor_close (AGENTEXEC_CODE_EXECUTOR (executor));
  g_assert_cmpuint (count_mine (), ==, 0);
}

/* An idle session is reaped by the executor's timer, though the executor
 * is not used again (and no main loop runs). */
static void
test_stateful_idle_timer (void)
{
  g_autoptr (AgentExecContainerExecutor) executor =
      new_executor ("stateful", TRUE, "pool-size", 0, "session-idle-timeout-ms", 1000, NULL);
  g_autofree char *last_stdout = NULL;
  gboolean last_restarted = FALSE;
  gint64 idle_since;

  if (executor == NULL)
    return;
  SESSION_STDOUT (executor, "idle", "z = 1");
  idle_since = g_get_monotonic_time ();
  g_assert_cmpuint (count_mine (), ==, 1);
  /* Generous bound: the container goes at about 1 s. */
  for (guint i = 0; i < 300 && count_mine () != 0; i++)
    g_usleep (100 * 1000);
  g_assert_cmpuint (count_mine (), ==, 0);
  g_assert_cmpint (g_get_monotonic_time () - idle_since, >=, 1000 * 1000);
  /* The session is gone: a new one starts, without the old state. */
  SESSION_STDOUT (executor, "idle", "print('z' in globals())");
  g_assert_cmpstr (last_stdout, ==, "False\n");
  g_assert_false (last_restarted); /* a new session, not a restarted one */
  agentexec_code_executor_close (AGENTEXEC_CODE_EXECUTOR (executor));
  g_assert_cmpuint (count_mine (), ==, 0);
}

typedef struct
{
  GMainLoop *loop;
  guint pending;
  GError *error;
} ManyData;

static void
on_many_done (GObject *source, GAsyncResult *res, gpointer user_data)
{
  ManyData *data = user_data;
  g_autoptr (AgentExecExecutionResult) result = NULL;

  result = agentexec_code_executor_execute_code_finish (AGENTEXEC_CODE_EXECUTOR (source), res,
                                                        data->error == NULL ? &data->error : NULL);
  if (--data->pending == 0)
    g_main_loop_quit (data->loop);
}

static void
test_stateful_concurrent (void)
{
  g_autoptr (AgentExecContainerExecutor) executor =
      new_executor ("stateful", TRUE, "pool-size", 0, NULL);
  g_autofree char *last_stdout = NULL;
  gboolean last_restarted = FALSE;
  ManyData data = {
    0,
  };
  const char *ids[] = { "s0", "s1", "s2", "s3" };

  if (executor == NULL)
    return;
  for (guint s = 0; s < G_N_ELEMENTS (ids); s++)
    SESSION_STDOUT (executor, ids[s], "n = 0");
  /* 32 callers at once across four sessions: runs of one session take turns. */
  data.loop = g_main_loop_new (NULL, FALSE);
  data.pending = 32;
  for (guint i = 0; i < 32; i++)
    {
      g_autoptr (AgentExecExecutionInput) input = agentexec_execution_input_new (
          "m = n\nimport time\ntime.sleep(0.01)\nn = m + 1", "python");

      agentexec_execution_input_set_execution_id (input, ids[i % G_N_ELEMENTS (ids)]);
      agentexec_code_executor_execute_code_async (AGENTEXEC_CODE_EXECUTOR (executor), NULL, input,
                                                  NULL, on_many_done, &data);
    }
  g_main_loop_run (data.loop);
  g_assert_no_error (data.error);
  for (guint s = 0; s < G_N_ELEMENTS (ids); s++)
    {
      SESSION_STDOUT (executor, ids[s], "print(n)");
      g_assert_cmpstr (last_stdout, ==, "8\n");
      g_assert_false (last_restarted);
    }
  g_main_loop_unref (data.loop);
}

static void
test_stateful_cancel (void)
{
  g_autoptr (AgentExecContainerExecutor) executor =
      new_executor ("stateful", TRUE, "pool-size", 0, NULL);
  g_autoptr (AgentExecExecutionInput) input = agentexec_execution_input_new ("import time\n"
                                                                             "time.sleep(60)",
                                                                             "python");
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (AgentExecExecutionResult) result = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *last_stdout = NULL;
  gboolean last_restarted = FALSE;
  GThread *thread;
  gint64 start;

  if (executor == NULL)
    return;
  SESSION_STDOUT (executor, "c", "kept = 1");
  agentexec_execution_input_set_execution_id (input, "c");
  thread = g_thread_new ("cancel", (GThreadFunc) cancel_soon, cancellable);
  start = g_get_monotonic_time ();
  result = agentexec_code_executor_execute_code (AGENTEXEC_CODE_EXECUTOR (executor), NULL, input,
                                                 cancellable, &error);
  g_thread_join (thread);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 10 * G_USEC_PER_SEC);
  /* The cancelled code is gone, and with it the session's state. */
  SESSION_STDOUT (executor, "c", "print('kept' in globals())");
  g_assert_cmpstr (last_stdout, ==, "False\n");
  g_assert_true (last_restarted);
}

/* Must stay the last test: nothing labelled may be left in the engine. */

static void
test_no_leftovers (void)
{
  g_autoptr (AgentExecContainerExecutor) probe = new_executor (NULL);

  if (probe == NULL)
    return;
  g_clear_object (&probe);
  g_assert_cmpuint (count_mine (), ==, 0);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/agentexec/backend/container/python-streams", test_python_streams);
  g_test_add_func ("/agentexec/backend/container/languages", test_languages);
  g_test_add_func ("/agentexec/backend/container/missing-language", test_missing_language);
  g_test_add_func ("/agentexec/backend/container/files", test_files);
  g_test_add_func ("/agentexec/backend/container/bad-file-names", test_bad_file_names);
  g_test_add_func ("/agentexec/backend/container/symlink-not-followed", test_symlink_not_followed);
  g_test_add_func ("/agentexec/backend/container/env-argv-large-code", test_env_argv_large_code);
  g_test_add_func ("/agentexec/backend/container/secure-defaults", test_secure_defaults);
  g_test_add_func ("/agentexec/backend/container/read-only-root", test_read_only_root);
  g_test_add_func ("/agentexec/backend/container/network-denied", test_network_denied);
  g_test_add_func ("/agentexec/backend/container/timeout", test_timeout);
  g_test_add_func ("/agentexec/backend/container/memory-limit", test_memory_limit);
  g_test_add_func ("/agentexec/backend/container/pids-limit", test_pids_limit);
  g_test_add_func ("/agentexec/backend/container/output-cap", test_output_cap);
  g_test_add_func ("/agentexec/backend/container/streaming", test_streaming);
  g_test_add_func ("/agentexec/backend/container/concurrent", test_concurrent);
  g_test_add_func ("/agentexec/backend/container/cancel", test_cancel);
  g_test_add_func ("/agentexec/backend/container/close-removes", test_close_removes);
  g_test_add_func ("/agentexec/backend/container/reaper", test_reaper);
  g_test_add_func ("/agentexec/backend/container/unreachable", test_unreachable);
  g_test_add_func ("/agentexec/backend/container/missing-image", test_missing_image);
  g_test_add_func ("/agentexec/backend/container/dockerfile", test_dockerfile);
  g_test_add_func ("/agentexec/backend/container/tcp", test_tcp);
  g_test_add_func ("/agentexec/backend/container/engine-lost-mid-run", test_engine_lost_mid_run);
  g_test_add_func ("/agentexec/backend/container/pool-runs", test_pool_runs);
  g_test_add_func ("/agentexec/backend/container/pool-isolation", test_pool_isolation);
  g_test_add_func ("/agentexec/backend/container/pool-timeout-and-languages",
                   test_pool_timeout_and_languages);
  g_test_add_func ("/agentexec/backend/container/pool-driver-files", test_pool_driver_files);
  g_test_add_func ("/agentexec/backend/container/pool-big-files", test_pool_big_files);
  g_test_add_func ("/agentexec/backend/container/pool-bad-file-names", test_pool_bad_file_names);
  g_test_add_func ("/agentexec/backend/container/stateful-driver-files",
                   test_stateful_driver_files);
  g_test_add_func ("/agentexec/backend/container/stateful-sessions", test_stateful_sessions);
  g_test_add_func ("/agentexec/backend/container/stateful-idle-reaped", test_stateful_idle_reaped);
  g_test_add_func ("/agentexec/backend/container/stateful-idle-timer", test_stateful_idle_timer);
  g_test_add_func ("/agentexec/backend/container/stateful-concurrent", test_stateful_concurrent);
  g_test_add_func ("/agentexec/backend/container/stateful-cancel", test_stateful_cancel);
  g_test_add_func ("/agentexec/backend/container/zz-no-leftovers", test_no_leftovers);

  return g_test_run ();
}
