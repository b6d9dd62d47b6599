/* agentexec-code-execution-step.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "agentexec-code-execution-step-private.h"

/**
 * AgentExecCodeExecutionStep:
 *
 * What one call of [class@AgentExec.CodeExecutionFlow] did: whether code
 * ran (or why not), the contents to add to the conversation and the state
 * delta and artifacts an ADK event would carry.
 *
 * ```c
 * step = agentexec_code_execution_flow_postprocess_response (flow, context, invocation,
 *                                                            reply, FALSE, NULL, &error);
 * history_append (agentexec_code_execution_step_get_model_content (step));
 * if (agentexec_code_execution_step_get_executed (step))
 *   history_append (agentexec_code_execution_step_get_result_content (step));
 * ```
 *
 * Since: 1.0
 */

G_DEFINE_FINAL_TYPE (AgentExecCodeExecutionStep, agentexec_code_execution_step, G_TYPE_OBJECT)

static void
agentexec_code_execution_step_finalize (GObject *object)
{
  AgentExecCodeExecutionStep *self = AGENTEXEC_CODE_EXECUTION_STEP (object);

  g_clear_pointer (&self->code, g_free);
  g_clear_pointer (&self->language, g_free);
  g_clear_pointer (&self->model_content, json_object_unref);
  g_clear_pointer (&self->result_content, json_object_unref);
  g_clear_pointer (&self->state_delta, json_object_unref);
  g_clear_pointer (&self->saved_artifacts, g_ptr_array_unref);
  g_clear_object (&self->execution_result);
  g_clear_pointer (&self->text, g_free);
  g_clear_pointer (&self->result_text, g_free);

  G_OBJECT_CLASS (agentexec_code_execution_step_parent_class)->finalize (object);
}

static void
agentexec_code_execution_step_class_init (AgentExecCodeExecutionStepClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = agentexec_code_execution_step_finalize;
}

static void
agentexec_code_execution_step_init (AgentExecCodeExecutionStep *self)
{
  self->saved_artifacts = g_ptr_array_new_with_free_func (g_object_unref);
}

AgentExecCodeExecutionStep *
_agentexec_code_execution_step_new (void)
{
  return g_object_new (AGENTEXEC_TYPE_CODE_EXECUTION_STEP, NULL);
}

/**
 * agentexec_code_execution_step_get_executed:
 * @self: a [class@AgentExec.CodeExecutionStep]
 *
 * Tells whether code ran in this step.
 *
 * Returns: whether code ran in this step (%FALSE: nothing to run, a
 *   partial response, or the retry gate held)
 *
 * Since: 1.0
 */
gboolean
agentexec_code_execution_step_get_executed (AgentExecCodeExecutionStep *self)
{
  g_return_val_if_fail (AGENTEXEC_IS_CODE_EXECUTION_STEP (self), FALSE);

  return self->executed;
}

/**
 * agentexec_code_execution_step_get_gated:
 * @self: a [class@AgentExec.CodeExecutionStep]
 *
 * Tells whether ADK's retry gate held in this step.
 *
 * Returns: whether the retry gate held: the invocation had as many code
 *   errors in a row as the executor's `error-retry-attempts`, so the model
 *   text passed through unexecuted
 *
 * Since: 1.0
 */
gboolean
agentexec_code_execution_step_get_gated (AgentExecCodeExecutionStep *self)
{
  g_return_val_if_fail (AGENTEXEC_IS_CODE_EXECUTION_STEP (self), FALSE);

  return self->gated;
}

/**
 * agentexec_code_execution_step_get_code:
 * @self: a [class@AgentExec.CodeExecutionStep]
 *
 * Gets the code that ran in this step.
 *
 * Returns: (transfer none) (nullable): the code that ran
 *
 * Since: 1.0
 */
const char *
agentexec_code_execution_step_get_code (AgentExecCodeExecutionStep *self)
{
  g_return_val_if_fail (AGENTEXEC_IS_CODE_EXECUTION_STEP (self), NULL);

  return self->code;
}

/**
 * agentexec_code_execution_step_get_language:
 * @self: a [class@AgentExec.CodeExecutionStep]
 *
 * Gets the canonical language the code of this step ran as.
 *
 * Returns: (transfer none) (nullable): the language it ran as
 *
 * Since: 1.0
 */
const char *
agentexec_code_execution_step_get_language (AgentExecCodeExecutionStep *self)
{
  g_return_val_if_fail (AGENTEXEC_IS_CODE_EXECUTION_STEP (self), NULL);

  return self->language;
}

/**
 * agentexec_code_execution_step_get_model_content:
 * @self: a [class@AgentExec.CodeExecutionStep]
 *
 * The model's content to keep in the history: for a response that ran
 * code, truncated after the first code block (the text before it and an
 * `executableCode` part); for one that did not, a copy of the response; for
 * a data file, ADK's "Processing input file" content.
 *
 * Returns: (transfer none) (nullable): a genai Content object, %NULL for
 *   plain text
 *
 * Since: 1.0
 */
JsonObject *
agentexec_code_execution_step_get_model_content (AgentExecCodeExecutionStep *self)
{
  g_return_val_if_fail (AGENTEXEC_IS_CODE_EXECUTION_STEP (self), NULL);

  return self->model_content;
}

/**
 * agentexec_code_execution_step_get_result_content:
 * @self: a [class@AgentExec.CodeExecutionStep]
 *
 * Gets the genai content that reports the run to the model.
 *
 * Returns: (transfer none) (nullable): the genai Content `{"role": "model",
 *   "parts": [{"codeExecutionResult": ...}]}` reporting the run
 *
 * Since: 1.0
 */
JsonObject *
agentexec_code_execution_step_get_result_content (AgentExecCodeExecutionStep *self)
{
  g_return_val_if_fail (AGENTEXEC_IS_CODE_EXECUTION_STEP (self), NULL);

  return self->result_content;
}

/**
 * agentexec_code_execution_step_get_state_delta:
 * @self: a [class@AgentExec.CodeExecutionStep]
 *
 * Gets the session-state delta of the run.
 *
 * Returns: (transfer none) (nullable): the session-state delta of the run
 *   (`{"_code_execution_context": ...}`, as ADK's event actions hold it)
 *
 * Since: 1.0
 */
JsonObject *
agentexec_code_execution_step_get_state_delta (AgentExecCodeExecutionStep *self)
{
  g_return_val_if_fail (AGENTEXEC_IS_CODE_EXECUTION_STEP (self), NULL);

  return self->state_delta;
}

/**
 * agentexec_code_execution_step_get_saved_artifacts:
 * @self: a [class@AgentExec.CodeExecutionStep]
 *
 * Gets the files the run produced.
 *
 * Returns: (transfer none) (element-type AgentExecFile): the files the run
 *   produced, for the caller to save as artifacts
 *
 * Since: 1.0
 */
GPtrArray *
agentexec_code_execution_step_get_saved_artifacts (AgentExecCodeExecutionStep *self)
{
  g_return_val_if_fail (AGENTEXEC_IS_CODE_EXECUTION_STEP (self), NULL);

  return self->saved_artifacts;
}

/**
 * agentexec_code_execution_step_get_execution_result:
 * @self: a [class@AgentExec.CodeExecutionStep]
 *
 * Gets the result of the code that ran in this step.
 *
 * Returns: (transfer none) (nullable): the result of the run
 *
 * Since: 1.0
 */
AgentExecExecutionResult *
agentexec_code_execution_step_get_execution_result (AgentExecCodeExecutionStep *self)
{
  g_return_val_if_fail (AGENTEXEC_IS_CODE_EXECUTION_STEP (self), NULL);

  return self->execution_result;
}

/**
 * agentexec_code_execution_step_get_text:
 * @self: a [class@AgentExec.CodeExecutionStep]
 *
 * For the plain-text step: the model text up to the end of the first code
 * block, then the result in the execution-result delimiters; the whole text
 * unchanged when nothing ran.
 *
 * Returns: (transfer none) (nullable): the text, %NULL for genai contents
 *
 * Since: 1.0
 */
const char *
agentexec_code_execution_step_get_text (AgentExecCodeExecutionStep *self)
{
  g_return_val_if_fail (AGENTEXEC_IS_CODE_EXECUTION_STEP (self), NULL);

  return self->text;
}

/**
 * agentexec_code_execution_step_get_result_text:
 * @self: a [class@AgentExec.CodeExecutionStep]
 *
 * Gets the run's result as text in the execution-result delimiters.
 *
 * Returns: (transfer none) (nullable): the result alone in the
 *   execution-result delimiters (plain-text step)
 *
 * Since: 1.0
 */
const char *
agentexec_code_execution_step_get_result_text (AgentExecCodeExecutionStep *self)
{
  g_return_val_if_fail (AGENTEXEC_IS_CODE_EXECUTION_STEP (self), NULL);

  return self->result_text;
}
