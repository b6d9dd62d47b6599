/* agent-loop.c: an agent loop over a scripted model
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The "model" is a file of canned replies (examples/data/agent-loop.json),
 * so the loop runs offline. For each task the loop hands every reply to
 * AgentExecCodeExecutionFlow: the first code block runs on the host's
 * Python (AgentExecLocalExecutor, an explicit opt-in), its result goes back
 * into the conversation, and the loop stops on a reply without code (the
 * final answer) or when the retry gate holds after repeated code errors.
 *
 *   agent-loop [REPLIES.json]
 */

#include <locale.h>

#include <libagentexec.h>

typedef struct
{
  AgentExecCodeExecutionFlow *flow;
  AgentExecExecutorContext *context;
  JsonArray *messages; /* the conversation, OpenAI style */
} Loop;

static void
print_indented (const char *label, const char *text)
{
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    g_print ("%-8s│ %s\n", i == 0 ? label : "", lines[i]);
}

static void
add_message (Loop *loop, const char *role, const char *content)
{
  JsonObject *message = json_object_new ();

  json_object_set_string_member (message, "role", role);
  json_object_set_string_member (message, "content", content);
  json_array_add_object_element (loop->messages, message);
}

static void
print_run (AgentExecCodeExecutionStep *step)
{
  AgentExecExecutionResult *result = agentexec_code_execution_step_get_execution_result (step);

  g_print ("%-8s│ %s, exit %d, %.1f ms, attempt %u\n", "run",
           agentexec_code_execution_step_get_language (step),
           agentexec_execution_result_get_exit_code (result),
           agentexec_execution_result_get_duration_us (result) / 1000.0,
           agentexec_execution_result_get_attempts (result));
  print_indented ("result", agentexec_code_execution_step_get_result_text (step));
}

/* One reply of the scripted model; FALSE when the task is over. */
static gboolean
handle_reply (Loop *loop, const char *invocation, const char *reply, GError **error)
{
  g_autoptr (AgentExecCodeExecutionStep) step = NULL;

  print_indented ("model", reply);
  step = agentexec_code_execution_flow_process_text (loop->flow, loop->context, invocation, reply,
                                                     NULL, error);
  if (step == NULL)
    return FALSE;
  if (agentexec_code_execution_step_get_executed (step))
    {
      print_run (step);
      /* The model sees its text up to the block, then the result. */
      add_message (loop, "assistant", agentexec_code_execution_step_get_text (step));
      return TRUE;
    }
  add_message (loop, "assistant", reply);
  if (agentexec_code_execution_step_get_gated (step))
    g_print ("%-8s│ %u code errors in a row (error-retry-attempts %u): the reply passes "
             "through unexecuted\n",
             "gate", agentexec_executor_context_get_error_count (loop->context, invocation),
             agentexec_code_execution_flow_get_error_retry_attempts (loop->flow));
  else
    g_print ("%-8s│ no code: this is the final answer\n", "done");
  return FALSE;
}

static gboolean
run_task (Loop *loop, JsonObject *task, GError **error)
{
  const char *invocation = json_object_get_string_member (task, "invocation");
  const char *question = json_object_get_string_member (task, "question");
  JsonArray *replies = json_object_get_array_member (task, "replies");

  g_print ("\n══ %s ══\n", invocation);
  print_indented ("user", question);
  add_message (loop, "user", question);
  for (guint i = 0; i < json_array_get_length (replies); i++)
    {
      if (!handle_reply (loop, invocation, json_array_get_string_element (replies, i), error))
        return error == NULL || *error == NULL;
    }
  g_print ("%-8s│ the scripted model ran out of replies\n", "end");
  return TRUE;
}

/* What the session state (ADK's keys) holds at the end. */
static void
print_summary (Loop *loop, JsonArray *tasks)
{
  g_autoptr (JsonObject) delta = agentexec_executor_context_get_state_delta (loop->context);
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  g_autofree char *delta_json = NULL;

  json_node_set_object (node, delta);
  delta_json = json_to_string (node, FALSE);
  g_print ("\n%u messages in the conversation. Session state:\n",
           json_array_get_length (loop->messages));
  for (guint i = 0; i < json_array_get_length (tasks); i++)
    {
      const char *invocation =
          json_object_get_string_member (json_array_get_object_element (tasks, i), "invocation");
      g_autoptr (JsonArray) history =
          agentexec_executor_context_get_code_execution_results (loop->context, invocation);

      g_print ("  %s: %u runs in _code_execution_results, error count %u\n", invocation,
               json_array_get_length (history),
               agentexec_executor_context_get_error_count (loop->context, invocation));
    }
  g_print ("  state delta: %s\n", delta_json);
}

static JsonArray *
load_tasks (const char *path, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonNode *root;
  JsonObject *object;

  if (!json_parser_load_from_file (parser, path, error))
    return NULL;
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root) ||
      !json_object_has_member (object = json_node_get_object (root), "tasks"))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "%s is not a replies file: expected {\"tasks\": [...]}", path);
      return NULL;
    }
  return json_array_ref (json_object_get_array_member (object, "tasks"));
}

int
main (int argc, char *argv[])
{
  const char *path = argc > 1 ? argv[1] : EXAMPLES_DATA_DIR "/agent-loop.json";
  g_autoptr (AgentExecLocalExecutor) executor = NULL;
  g_autoptr (JsonArray) tasks = NULL;
  g_autoptr (GError) error = NULL;
  Loop loop = { 0 };

  setlocale (LC_ALL, "");
  tasks = load_tasks (path, &error);
  /* Host execution is an explicit opt-in: these replies are ours. */
  if (tasks != NULL)
    executor = agentexec_local_executor_new (TRUE, &error);
  if (executor == NULL)
    {
      g_printerr ("agent-loop: %s\n", error->message);
      return 1;
    }
  agentexec_base_executor_set_timeout_ms (AGENTEXEC_BASE_EXECUTOR (executor), 10000);
  loop.flow = agentexec_code_execution_flow_new (AGENTEXEC_CODE_EXECUTOR (executor));
  loop.context = agentexec_executor_context_new (NULL);
  loop.messages = json_array_new ();

  for (guint i = 0; i < json_array_get_length (tasks) && error == NULL; i++)
    run_task (&loop, json_array_get_object_element (tasks, i), &error);

  if (error == NULL)
    print_summary (&loop, tasks);
  else
    g_printerr ("agent-loop: %s\n", error->message);
  agentexec_code_executor_close (AGENTEXEC_CODE_EXECUTOR (executor));
  g_clear_object (&loop.flow);
  g_clear_object (&loop.context);
  g_clear_pointer (&loop.messages, json_array_unref);
  return error == NULL ? 0 : 1;
}
