/* test-streaming.c: per-call output (execute_code_with_output), on every
 * backend, with 8 concurrent calls on one executor, sync and async
 *
 * The container cases need a running engine and agentexec-runtime:latest;
 * without one they skip, except under CI=true, where they fail.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include "libagentexec.h"
#include "agentexec-code-executor-private.h"
#include "agentexec-execution-result-private.h"
#include "agentexec-mock-server.h"

#define N_CALLS 8
#define PYTHON "/usr/bin/python3"
#define TEST_KEY "AIzaTEST-key-0123456789-secret"

/* What one call's output function received. */
typedef struct
{
  guint index;
  GString *out;
  GString *err;
  guint n_chunks;
  GThread *thread;       /* where the chunks arrived; NULL before the first */
  gboolean wrong_thread; /* a chunk arrived in another thread than the first */
  gboolean destroyed;    /* the output function's data was released */
  gboolean late;         /* a chunk arrived after the call returned */
  gboolean returned;
  AgentExecExecutionInput *input;
  AgentExecExecutionResult *result;
  GError *error;
} Call;

static void
call_clear (Call *call)
{
  g_string_free (call->out, TRUE);
  g_string_free (call->err, TRUE);
  g_clear_object (&call->input);
  g_clear_object (&call->result);
  g_clear_error (&call->error);
}

static void
collect_output (AgentExecExecutionInput *input,
                AgentExecStream stream,
                GBytes *chunk,
                gpointer user_data)
{
  Call *call = user_data;
  gsize len;
  const char *data = g_bytes_get_data (chunk, &len);

  g_assert_true (input == call->input);
  if (call->thread == NULL)
    call->thread = g_thread_self ();
  call->wrong_thread |= call->thread != g_thread_self ();
  call->late |= call->returned || call->destroyed;
  call->n_chunks++;
  g_string_append_len (stream == AGENTEXEC_STREAM_STDOUT ? call->out : call->err, data, len);
}

static void
mark_destroyed (gpointer user_data)
{
  Call *call = user_data;

  g_assert_false (call->destroyed);
  call->destroyed = TRUE;
}

/* The code of call @i for a language, and what it writes. */
typedef char *(*CodeFunc) (guint i);

static char *
python_code (guint i)
{
  return g_strdup_printf ("import sys, time\n"
                          "for k in range(4):\n"
                          "    print('call-%u line', k, flush=True)\n"
                          "    print('call-%u err', k, file=sys.stderr, flush=True)\n"
                          "    time.sleep(0.02)\n",
                          i, i);
}

static char *
expected_out (guint i)
{
  GString *s = g_string_new (NULL);

  for (guint k = 0; k < 4; k++)
    g_string_append_printf (s, "call-%u line %u\n", i, k);
  return g_string_free (s, FALSE);
}

static char *
expected_err (guint i)
{
  GString *s = g_string_new (NULL);

  for (guint k = 0; k < 4; k++)
    g_string_append_printf (s, "call-%u err %u\n", i, k);
  return g_string_free (s, FALSE);
}

static void
calls_init (Call *calls, CodeFunc code_func, gboolean stateful_ids)
{
  for (guint i = 0; i < N_CALLS; i++)
    {
      g_autofree char *code = code_func (i);

      memset (&calls[i], 0, sizeof calls[i]);
      calls[i].index = i;
      calls[i].out = g_string_new (NULL);
      calls[i].err = g_string_new (NULL);
      calls[i].input = agentexec_execution_input_new (code, "python");
      if (stateful_ids)
        {
          g_autofree char *id = g_strdup_printf ("session-%u", i);

          agentexec_execution_input_set_execution_id (calls[i].input, id);
        }
    }
}

/* Every call saw exactly its own output, all of it, before it returned. */
static void
calls_check (Call *calls, GThread *expected_thread, gboolean check_err)
{
  for (guint i = 0; i < N_CALLS; i++)
    {
      Call *call = &calls[i];
      g_autofree char *out = expected_out (i);
      g_autofree char *err = expected_err (i);

      g_assert_no_error (call->error);
      g_assert_nonnull (call->result);
      g_assert_cmpstr (agentexec_execution_result_get_stdout (call->result), ==, out);
      g_assert_cmpstr (call->out->str, ==, out);
      if (check_err)
        {
          g_assert_cmpstr (agentexec_execution_result_get_stderr (call->result), ==, err);
          g_assert_cmpstr (call->err->str, ==, err);
        }
      g_assert_cmpuint (call->n_chunks, >=, 1);
      g_assert_false (call->late);
      g_assert_false (call->wrong_thread);
      g_assert_true (call->destroyed);
      if (expected_thread != NULL)
        g_assert_true (call->thread == expected_thread);
    }
}

/* Sync: one thread per call, all on the same executor. */

typedef struct
{
  AgentExecCodeExecutor *executor;
  Call *call;
  GThread *thread;
} SyncCall;

static gpointer
sync_call_thread (gpointer data)
{
  SyncCall *sync = data;
  Call *call = sync->call;

  call->result = agentexec_code_executor_execute_code_with_output (
      sync->executor, NULL, call->input, collect_output, call, mark_destroyed, NULL, &call->error);
  g_assert_true (call->destroyed);
  call->returned = TRUE;
  g_assert_true (call->thread == NULL || call->thread == g_thread_self ());
  return NULL;
}

static void
run_sync (AgentExecCodeExecutor *executor, CodeFunc code_func, gboolean ids, gboolean check_err)
{
  Call calls[N_CALLS];
  SyncCall syncs[N_CALLS];

  calls_init (calls, code_func, ids);
  for (guint i = 0; i < N_CALLS; i++)
    {
      syncs[i] = (SyncCall){ executor, &calls[i], NULL };
      syncs[i].thread = g_thread_new ("sync-call", sync_call_thread, &syncs[i]);
    }
  for (guint i = 0; i < N_CALLS; i++)
    g_thread_join (syncs[i].thread);
  calls_check (calls, NULL, check_err);
  for (guint i = 0; i < N_CALLS; i++)
    call_clear (&calls[i]);
}

/* Async: all started from this thread, completed in its main context. */

static void
async_done (GObject *source, GAsyncResult *res, gpointer user_data)
{
  Call *call = user_data;

  /* Every chunk arrived, and the output function was released, before. */
  g_assert_true (call->destroyed);
  call->result = agentexec_code_executor_execute_code_with_output_finish (
      AGENTEXEC_CODE_EXECUTOR (source), res, &call->error);
  call->returned = TRUE;
}

static void
run_async (AgentExecCodeExecutor *executor, CodeFunc code_func, gboolean ids, gboolean check_err)
{
  Call calls[N_CALLS];
  guint n_returned = 0;

  calls_init (calls, code_func, ids);
  for (guint i = 0; i < N_CALLS; i++)
    agentexec_code_executor_execute_code_with_output_async (
        executor, NULL, calls[i].input, collect_output, &calls[i], mark_destroyed, NULL, async_done,
        &calls[i]);
  while (n_returned < N_CALLS)
    {
      g_main_context_iteration (NULL, TRUE);
      n_returned = 0;
      for (guint i = 0; i < N_CALLS; i++)
        n_returned += calls[i].returned;
    }
  calls_check (calls, g_thread_self (), check_err);
  for (guint i = 0; i < N_CALLS; i++)
    call_clear (&calls[i]);
}

/* The ::output signal still sees every call's output (told apart by input). */
typedef struct
{
  GMutex lock;          /* sync calls emit from their own threads */
  GHashTable *by_input; /* AgentExecExecutionInput → GString of its stdout */
} SignalSeen;

static void
on_signal_output (AgentExecCodeExecutor *executor,
                  AgentExecExecutionInput *input,
                  AgentExecStream stream,
                  GBytes *chunk,
                  gpointer user_data)
{
  SignalSeen *seen = user_data;
  g_autoptr (GMutexLocker) locker = NULL;
  GString *text;

  if (stream != AGENTEXEC_STREAM_STDOUT)
    return;
  locker = g_mutex_locker_new (&seen->lock);
  text = g_hash_table_lookup (seen->by_input, input);
  if (text == NULL)
    {
      text = g_string_new (NULL);
      g_hash_table_insert (seen->by_input, g_object_ref (input), text);
    }
  g_string_append_len (text, g_bytes_get_data (chunk, NULL), g_bytes_get_size (chunk));
}

static void
free_gstring (gpointer data)
{
  g_string_free (data, TRUE);
}

/* Every one of 2 * N_CALLS inputs was seen whole by the signal. */
static void
signal_seen_check (SignalSeen *seen)
{
  GHashTableIter iter;
  gpointer key, value;

  g_assert_cmpuint (g_hash_table_size (seen->by_input), ==, 2 * N_CALLS);
  g_hash_table_iter_init (&iter, seen->by_input);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      const char *code = agentexec_execution_input_get_code (key);
      guint i = (guint) g_ascii_strtoull (strstr (code, "call-") + 5, NULL, 10);
      g_autofree char *out = expected_out (i);

      g_assert_cmpstr (((GString *) value)->str, ==, out);
    }
}

/* Local backend */

static AgentExecCodeExecutor *
new_local (gboolean stateful)
{
  g_autoptr (GError) error = NULL;
  AgentExecLocalExecutor *executor = agentexec_local_executor_new (TRUE, &error);

  g_assert_no_error (error);
  g_assert_true (agentexec_local_executor_set_interpreter (executor, "python", PYTHON, &error));
  g_assert_no_error (error);
  agentexec_base_executor_set_stateful (AGENTEXEC_BASE_EXECUTOR (executor), stateful);
  return AGENTEXEC_CODE_EXECUTOR (executor);
}

static void
test_local (gconstpointer data)
{
  gboolean stateful = GPOINTER_TO_INT (data);
  g_autoptr (AgentExecCodeExecutor) executor = new_local (stateful);
  SignalSeen seen = { { 0 }, g_hash_table_new_full (NULL, NULL, g_object_unref, free_gstring) };
  gulong id = g_signal_connect (executor, "output", G_CALLBACK (on_signal_output), &seen);

  /* The inputs are freed after each run: the table keeps them alive, so
   * every key stays a distinct input. */
  run_sync (executor, python_code, stateful, TRUE);
  run_async (executor, python_code, stateful, TRUE);
  /* Both ways, every call's output also went through the executor's signal. */
  signal_seen_check (&seen);
  g_signal_handler_disconnect (executor, id);
  g_hash_table_unref (seen.by_input);
  g_mutex_clear (&seen.lock);
  agentexec_code_executor_close (executor);
}

/* Without a signal handler, the per-call function alone makes a backend stream. */
static void
test_local_no_signal (void)
{
  g_autoptr (AgentExecCodeExecutor) executor = new_local (FALSE);

  g_assert_false (_agentexec_code_executor_has_output_handler (executor));
  run_async (executor, python_code, FALSE, TRUE);
}

/* A NULL function is a plain run; an error still releases the data. */
static void
test_null_and_error (void)
{
  g_autoptr (AgentExecCodeExecutor) executor = new_local (FALSE);
  g_autoptr (AgentExecExecutionInput) input = agentexec_execution_input_new ("print(1)", "cobol");
  g_autoptr (AgentExecExecutionInput) ok = agentexec_execution_input_new ("print(1)", "python");
  g_autoptr (AgentExecExecutionResult) result = NULL;
  g_autoptr (GError) error = NULL;
  Call call = { 0 };

  call.out = g_string_new (NULL);
  call.err = g_string_new (NULL);
  call.input = g_object_ref (input);
  g_assert_null (agentexec_code_executor_execute_code_with_output (
      executor, NULL, input, collect_output, &call, mark_destroyed, NULL, &error));
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_UNSUPPORTED_LANGUAGE);
  g_assert_true (call.destroyed);
  g_clear_error (&error);
  result = agentexec_code_executor_execute_code_with_output (executor, NULL, ok, NULL, NULL, NULL,
                                                             NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (agentexec_execution_result_get_stdout (result), ==, "1\n");
  g_assert_cmpuint (call.n_chunks, ==, 0);
  call_clear (&call);
}

/* Async cancellation: the data is released, the call ends CANCELLED. */
static void
test_cancel_async (void)
{
  g_autoptr (AgentExecCodeExecutor) executor = new_local (FALSE);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  Call call = { 0 };

  call.out = g_string_new (NULL);
  call.err = g_string_new (NULL);
  call.input = agentexec_execution_input_new (
      "import time\nprint('started', flush=True)\ntime.sleep(60)\n", "python");
  agentexec_code_executor_execute_code_with_output_async (executor, NULL, call.input,
                                                          collect_output, &call, mark_destroyed,
                                                          cancellable, async_done, &call);
  while (strchr (call.out->str, '\n') == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_cancellable_cancel (cancellable);
  while (!call.returned)
    g_main_context_iteration (NULL, TRUE);
  g_assert_error (call.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpstr (call.out->str, ==, "started\n");
  g_assert_true (call.destroyed);
  call_clear (&call);
}

/* An in-process BaseExecutor subclass that emits from its run. */

#define TEST_TYPE_CHATTY_EXECUTOR (test_chatty_executor_get_type ())
G_DECLARE_FINAL_TYPE (
    TestChattyExecutor, test_chatty_executor, TEST, CHATTY_EXECUTOR, AgentExecBaseExecutor)

struct _TestChattyExecutor
{
  AgentExecBaseExecutor parent_instance;
};

G_DEFINE_FINAL_TYPE (TestChattyExecutor, test_chatty_executor, AGENTEXEC_TYPE_BASE_EXECUTOR)

/* Writes what python_code (i) would, chunk by chunk, yielding in between. */
static AgentExecExecutionResult *
test_chatty_executor_run (AgentExecBaseExecutor *executor,
                          AgentExecExecutorContext *context,
                          AgentExecExecutionInput *input,
                          const char *language,
                          GCancellable *cancellable,
                          GError **error)
{
  const char *code = agentexec_execution_input_get_code (input);
  const char *tag = strstr (code, "call-");
  guint i = (guint) g_ascii_strtoull (tag + 5, NULL, 10);
  g_autofree char *out = expected_out (i);
  g_autofree char *err = expected_err (i);
  AgentExecExecutionResult *result = _agentexec_execution_result_new_empty ();
  GMainContext *output_context = _agentexec_code_executor_get_output_context ();

  for (const char *p = out, *q = err; *p != '\0';
       p = strchr (p, '\n') + 1, q = strchr (q, '\n') + 1)
    {
      _agentexec_code_executor_emit_output_in (AGENTEXEC_CODE_EXECUTOR (executor), output_context,
                                               input, AGENTEXEC_STREAM_STDOUT, p,
                                               strchr (p, '\n') + 1 - p);
      _agentexec_code_executor_emit_output_in (AGENTEXEC_CODE_EXECUTOR (executor), output_context,
                                               input, AGENTEXEC_STREAM_STDERR, q,
                                               strchr (q, '\n') + 1 - q);
      g_usleep (1000);
    }
  _agentexec_execution_result_set_stdout (result, out, -1);
  _agentexec_execution_result_set_stderr (result, err, -1);
  return result;
}

static void
test_chatty_executor_class_init (TestChattyExecutorClass *klass)
{
  AGENTEXEC_BASE_EXECUTOR_CLASS (klass)->run = test_chatty_executor_run;
}

static void
test_chatty_executor_init (TestChattyExecutor *self)
{
}

static void
test_base (void)
{
  g_autoptr (AgentExecCodeExecutor) executor = g_object_new (TEST_TYPE_CHATTY_EXECUTOR, NULL);

  run_sync (executor, python_code, FALSE, TRUE);
  run_async (executor, python_code, FALSE, TRUE);
}

/* An executor with an execute_code_async of its own: emits ::output in the
 * caller's context from idles, as an executor written in JavaScript would. */

#define TEST_TYPE_ASYNC_EXECUTOR (test_async_executor_get_type ())
G_DECLARE_FINAL_TYPE (TestAsyncExecutor, test_async_executor, TEST, ASYNC_EXECUTOR, GObject)

struct _TestAsyncExecutor
{
  GObject parent_instance;
};

static void test_async_executor_iface_init (AgentExecCodeExecutorInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (TestAsyncExecutor,
                               test_async_executor,
                               G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (AGENTEXEC_TYPE_CODE_EXECUTOR,
                                                      test_async_executor_iface_init))

typedef struct
{
  GTask *task;
  char *out;
  char *err;
  const char *next_out;
  const char *next_err;
} AsyncRun;

static gboolean
async_run_step (gpointer data)
{
  AsyncRun *run = data;
  GObject *self = g_task_get_source_object (run->task);
  AgentExecExecutionInput *input = g_task_get_task_data (run->task);
  const char *end_out, *end_err;
  g_autoptr (GBytes) out = NULL;
  g_autoptr (GBytes) err = NULL;

  if (*run->next_out == '\0')
    {
      g_task_return_pointer (
          run->task,
          agentexec_execution_result_new (AGENTEXEC_OUTCOME_OK, run->out, run->err, 0, NULL),
          g_object_unref);
      g_object_unref (run->task);
      g_free (run->out);
      g_free (run->err);
      g_free (run);
      return G_SOURCE_REMOVE;
    }
  end_out = strchr (run->next_out, '\n') + 1;
  end_err = strchr (run->next_err, '\n') + 1;
  out = g_bytes_new (run->next_out, end_out - run->next_out);
  err = g_bytes_new (run->next_err, end_err - run->next_err);
  g_signal_emit_by_name (self, "output", input, AGENTEXEC_STREAM_STDOUT, out);
  g_signal_emit_by_name (self, "output", input, AGENTEXEC_STREAM_STDERR, err);
  run->next_out = end_out;
  run->next_err = end_err;
  return G_SOURCE_CONTINUE;
}

static void
test_async_executor_execute_code_async (AgentExecCodeExecutor *self,
                                        AgentExecExecutorContext *context,
                                        AgentExecExecutionInput *input,
                                        GCancellable *cancellable,
                                        GAsyncReadyCallback callback,
                                        gpointer user_data)
{
  const char *code = agentexec_execution_input_get_code (input);
  guint i = (guint) g_ascii_strtoull (strstr (code, "call-") + 5, NULL, 10);
  AsyncRun *run = g_new0 (AsyncRun, 1);

  run->task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_task_data (run->task, g_object_ref (input), g_object_unref);
  run->out = expected_out (i);
  run->err = expected_err (i);
  run->next_out = run->out;
  run->next_err = run->err;
  g_timeout_add (2 + i, async_run_step, run);
}

static AgentExecExecutionResult *
test_async_executor_execute_code_finish (AgentExecCodeExecutor *self,
                                         GAsyncResult *result,
                                         GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
test_async_executor_iface_init (AgentExecCodeExecutorInterface *iface)
{
  iface->execute_code_async = test_async_executor_execute_code_async;
  iface->execute_code_finish = test_async_executor_execute_code_finish;
}

static void
test_async_executor_class_init (TestAsyncExecutorClass *klass)
{
}

static void
test_async_executor_init (TestAsyncExecutor *self)
{
}

static void
test_own_async (void)
{
  g_autoptr (AgentExecCodeExecutor) executor = g_object_new (TEST_TYPE_ASYNC_EXECUTOR, NULL);

  run_async (executor, python_code, FALSE, TRUE);
  /* The relay was disconnected with the calls. */
  g_assert_false (g_signal_has_handler_pending (
      executor, g_signal_lookup ("output", AGENTEXEC_TYPE_CODE_EXECUTOR), 0, FALSE));
}

/* BuiltIn backend, against a mock Gemini that streams each call's answer. */

static char *
gemini_code (guint i)
{
  return g_strdup_printf ("print('call-%u')", i);
}

static char *
sse_event (const char *part)
{
  return g_strdup_printf ("data: {\"candidates\": [{\"content\": {\"parts\": [%s],"
                          "\"role\": \"model\"},\"index\": 0}],"
                          "\"modelVersion\": \"gemini-2.5-flash\"}\r\n\r\n",
                          part);
}

static AgentExecMockResponse *
gemini_handler (AgentExecMockServer *server,
                const AgentExecMockRequest *request,
                gpointer user_data)
{
  const char *body = agentexec_mock_request_get_body (request, NULL);
  const char *tag = strstr (body, "call-");
  AgentExecMockResponse *response = agentexec_mock_response_new (200, NULL, 0);
  guint i = (guint) g_ascii_strtoull (tag + 5, NULL, 10);
  g_autofree char *code = gemini_code (i);
  g_autofree char *part =
      g_strdup_printf ("{\"executableCode\": {\"language\": \"PYTHON\",\"code\": \"%s\"}}", code);
  g_autofree char *event = sse_event (part);

  agentexec_mock_response_add_header (response, "Content-Type", "text/event-stream");
  agentexec_mock_response_add_chunk (response, event, -1, 5);
  for (guint k = 0; k < 4; k++)
    {
      g_autofree char *result =
          g_strdup_printf ("{\"codeExecutionResult\": {\"outcome\": \"OUTCOME_OK\",\"output\": "
                           "\"call-%u line %u\\n\"}}",
                           i, k);
      g_autofree char *result_event = sse_event (result);

      agentexec_mock_response_add_chunk (response, result_event, -1, 10);
    }
  return response;
}

static void
test_builtin (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecMockServer) server = agentexec_mock_server_new_tcp (&error);
  g_autofree char *url = NULL;
  g_autofree char *base_url = NULL;
  g_autoptr (AgentExecCodeExecutor) executor = NULL;

  g_assert_no_error (error);
  agentexec_mock_server_set_handler (server, gemini_handler, NULL, NULL);
  url = agentexec_mock_server_get_url (server);
  base_url = g_strconcat (url, "/v1beta", NULL);
  executor = g_object_new (AGENTEXEC_TYPE_BUILT_IN_EXECUTOR, "base-url", base_url, "api-key",
                           TEST_KEY, "max-retries", 0, NULL);
  run_sync (executor, gemini_code, FALSE, FALSE);
  run_async (executor, gemini_code, FALSE, FALSE);
  /* Streamed because of the per-call functions alone (no signal handler). */
  for (guint i = 0; i < agentexec_mock_server_get_n_requests (server); i++)
    {
      g_autoptr (AgentExecMockRequest) request = agentexec_mock_server_get_request (server, i);

      g_assert_nonnull (
          strstr (agentexec_mock_request_get_path (request), "streamGenerateContent"));
    }
  g_assert_cmpuint (agentexec_mock_server_get_n_requests (server), ==, 2 * N_CALLS);
}

/* Container backend */

static void
test_container (gconstpointer data)
{
  gboolean stateful = GPOINTER_TO_INT (data);
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecContainerExecutor) executor = NULL;

  executor =
      g_initable_new (AGENTEXEC_TYPE_CONTAINER_EXECUTOR, NULL, &error, "stateful", stateful, NULL);
  if (executor == NULL && g_strcmp0 (g_getenv ("CI"), "true") != 0 &&
      g_error_matches (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_BACKEND_UNAVAILABLE))
    {
      g_test_skip (error->message);
      return;
    }
  g_assert_no_error (error);
  run_sync (AGENTEXEC_CODE_EXECUTOR (executor), python_code, stateful, TRUE);
  run_async (AGENTEXEC_CODE_EXECUTOR (executor), python_code, stateful, TRUE);
  agentexec_code_executor_close (AGENTEXEC_CODE_EXECUTOR (executor));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/agentexec/streaming/per-call/base", test_base);
  g_test_add_func ("/agentexec/streaming/per-call/own-async", test_own_async);
  g_test_add_data_func ("/agentexec/streaming/per-call/local/stateless", GINT_TO_POINTER (FALSE),
                        test_local);
  g_test_add_data_func ("/agentexec/streaming/per-call/local/stateful", GINT_TO_POINTER (TRUE),
                        test_local);
  g_test_add_func ("/agentexec/streaming/per-call/local/no-signal", test_local_no_signal);
  g_test_add_func ("/agentexec/streaming/per-call/null-and-error", test_null_and_error);
  g_test_add_func ("/agentexec/streaming/per-call/cancel-async", test_cancel_async);
  g_test_add_func ("/agentexec/streaming/per-call/builtin", test_builtin);
  g_test_add_data_func ("/agentexec/streaming/per-call/container/stateless",
                        GINT_TO_POINTER (FALSE), test_container);
  g_test_add_data_func ("/agentexec/streaming/per-call/container/stateful", GINT_TO_POINTER (TRUE),
                        test_container);
  return g_test_run ();
}
