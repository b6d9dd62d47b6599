/* agentexec-code-execution-step-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "agentexec-code-execution-step.h"

G_BEGIN_DECLS

struct _AgentExecCodeExecutionStep
{
  GObject parent_instance;
  char *code;
  char *language;
  JsonObject *model_content;
  JsonObject *result_content;
  JsonObject *state_delta;
  GPtrArray *saved_artifacts;
  AgentExecExecutionResult *execution_result;
  char *text;
  char *result_text;
  guint executed : 1;
  guint gated : 1;
};

AgentExecCodeExecutionStep *_agentexec_code_execution_step_new (void);

G_END_DECLS
