/* agentexec-uninitialised.c: checks that an executor refuses every run path
 * until its g_initable_init() succeeded (shared by the backend suites).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include "agentexec-uninitialised.h"

#define PROBE "print('the code ran')\n"

static void
assert_refusal (const GError *error)
{
  g_assert_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_NOT_INITIALIZED);
  g_assert_nonnull (strstr (error->message, "not initialised"));
  g_assert_nonnull (strstr (error->message, "g_initable_new()"));
}

static void
on_output (AgentExecCodeExecutor *executor,
           AgentExecExecutionInput *input,
           AgentExecStream stream,
           GBytes *chunk,
           gpointer user_data)
{
  g_error ("an uninitialised executor produced output");
}

static void
got_async (GObject *source, GAsyncResult *res, gpointer user_data)
{
  GError **error = user_data;
  AgentExecExecutionResult *result;

  result =
      agentexec_code_executor_execute_code_finish (AGENTEXEC_CODE_EXECUTOR (source), res, error);
  g_assert_null (result);
  g_assert_nonnull (*error);
}

static void
check_sync (AgentExecCodeExecutor *executor, AgentExecExecutionInput *input)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecExecutionResult) result = NULL;

  result = agentexec_code_executor_execute_code (executor, NULL, input, NULL, &error);
  g_assert_null (result);
  assert_refusal (error);
}

static void
check_async (AgentExecCodeExecutor *executor, AgentExecExecutionInput *input)
{
  g_autoptr (GError) error = NULL;

  agentexec_code_executor_execute_code_async (executor, NULL, input, NULL, got_async, &error);
  while (error == NULL)
    g_main_context_iteration (NULL, TRUE);
  assert_refusal (error);
}

static void
no_output (AgentExecExecutionInput *input, AgentExecStream stream, GBytes *chunk, gpointer data)
{
  g_error ("an uninitialised executor produced per-call output");
}

static void
got_with_output (GObject *source, GAsyncResult *res, gpointer user_data)
{
  GError **error = user_data;
  AgentExecExecutionResult *result;

  result = agentexec_code_executor_execute_code_with_output_finish (
      AGENTEXEC_CODE_EXECUTOR (source), res, error);
  g_assert_null (result);
  g_assert_nonnull (*error);
}

/* The per-call output paths (execute_code_with_output and its async twin). */
static void
check_with_output (AgentExecCodeExecutor *executor, AgentExecExecutionInput *input)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecExecutionResult) result = NULL;

  result = agentexec_code_executor_execute_code_with_output (executor, NULL, input, no_output, NULL,
                                                             NULL, NULL, &error);
  g_assert_null (result);
  assert_refusal (error);
  g_clear_error (&error);
  agentexec_code_executor_execute_code_with_output_async (executor, NULL, input, no_output, NULL,
                                                          NULL, NULL, got_with_output, &error);
  while (error == NULL)
    g_main_context_iteration (NULL, TRUE);
  assert_refusal (error);
}

static void
check_base_run (AgentExecCodeExecutor *executor, AgentExecExecutionInput *input)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AgentExecExecutionResult) result = NULL;

  result = agentexec_base_executor_run (AGENTEXEC_BASE_EXECUTOR (executor), NULL, input, "python",
                                        NULL, &error);
  g_assert_null (result);
  assert_refusal (error);
}

/* The flow reports the executor's error, and never a result of the code. */
static void
check_flow (AgentExecCodeExecutor *executor)
{
  g_autoptr (AgentExecCodeExecutionFlow) flow = agentexec_code_execution_flow_new (executor);
  g_autoptr (AgentExecExecutorContext) context = agentexec_executor_context_new (NULL);
  g_autoptr (AgentExecCodeExecutionStep) step = NULL;
  g_autoptr (GError) error = NULL;

  step = agentexec_code_execution_flow_process_text (
      flow, context, "inv", "Run it:\n```python\n" PROBE "```\n", NULL, &error);
  g_assert_null (step);
  assert_refusal (error);
}

/* The streaming flow too: the block is refused, its end reports it. */
static void
check_stream (AgentExecCodeExecutor *executor)
{
  g_autoptr (AgentExecCodeExecutionFlow) flow = agentexec_code_execution_flow_new (executor);
  g_autoptr (AgentExecExecutorContext) context = agentexec_executor_context_new (NULL);
  g_autoptr (AgentExecCodeExecutionStream) stream =
      agentexec_code_execution_flow_stream_text (flow, context, "inv", NULL);
  g_autoptr (GPtrArray) steps = NULL;
  g_autoptr (GError) error = NULL;

  agentexec_code_execution_stream_feed (stream, "Run it:\n```python\n" PROBE "```\n");
  steps = agentexec_code_execution_stream_end (stream, &error);
  g_assert_null (steps);
  assert_refusal (error);
}

/**
 * agentexec_test_assert_refuses_uninitialised:
 * @executor: an executor created with g_object_new(), without init()
 *
 * Asserts that the sync, async, stateful, flow, streaming flow and direct (base class) run
 * paths all fail with %AGENTEXEC_ERROR_NOT_INITIALIZED and run nothing.
 */
void
agentexec_test_assert_refuses_uninitialised (AgentExecCodeExecutor *executor)
{
  g_autoptr (AgentExecExecutionInput) input = agentexec_execution_input_new (PROBE, "python");
  gulong handler = g_signal_connect (executor, "output", G_CALLBACK (on_output), NULL);

  for (int stateful = 0; stateful <= 1; stateful++)
    {
      agentexec_base_executor_set_stateful (AGENTEXEC_BASE_EXECUTOR (executor), stateful);
      agentexec_execution_input_set_execution_id (input, stateful ? "session-1" : NULL);
      check_sync (executor, input);
      check_async (executor, input);
      check_with_output (executor, input);
      check_base_run (executor, input);
      check_flow (executor);
      check_stream (executor);
    }
  agentexec_code_executor_close (executor);
  g_signal_handler_disconnect (executor, handler);
}
