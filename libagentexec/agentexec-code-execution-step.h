/* agentexec-code-execution-step.h: what one agent-loop step did
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(AGENTEXEC_INSIDE) && !defined(AGENTEXEC_COMPILATION)
#error "Only <libagentexec.h> can be included directly."
#endif

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "agentexec-execution-result.h"
#include "agentexec-version-macros.h"

G_BEGIN_DECLS

#define AGENTEXEC_TYPE_CODE_EXECUTION_STEP (agentexec_code_execution_step_get_type ())

AGENTEXEC_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (AgentExecCodeExecutionStep,
                      agentexec_code_execution_step,
                      AGENTEXEC,
                      CODE_EXECUTION_STEP,
                      GObject)

AGENTEXEC_AVAILABLE_IN_ALL
gboolean agentexec_code_execution_step_get_executed (AgentExecCodeExecutionStep *self);
AGENTEXEC_AVAILABLE_IN_ALL
gboolean agentexec_code_execution_step_get_gated (AgentExecCodeExecutionStep *self);
AGENTEXEC_AVAILABLE_IN_ALL
const char *agentexec_code_execution_step_get_code (AgentExecCodeExecutionStep *self);
AGENTEXEC_AVAILABLE_IN_ALL
const char *agentexec_code_execution_step_get_language (AgentExecCodeExecutionStep *self);
AGENTEXEC_AVAILABLE_IN_ALL
JsonObject *agentexec_code_execution_step_get_model_content (AgentExecCodeExecutionStep *self);
AGENTEXEC_AVAILABLE_IN_ALL
JsonObject *agentexec_code_execution_step_get_result_content (AgentExecCodeExecutionStep *self);
AGENTEXEC_AVAILABLE_IN_ALL
JsonObject *agentexec_code_execution_step_get_state_delta (AgentExecCodeExecutionStep *self);
AGENTEXEC_AVAILABLE_IN_ALL
GPtrArray *agentexec_code_execution_step_get_saved_artifacts (AgentExecCodeExecutionStep *self);
AGENTEXEC_AVAILABLE_IN_ALL
AgentExecExecutionResult *
agentexec_code_execution_step_get_execution_result (AgentExecCodeExecutionStep *self);
AGENTEXEC_AVAILABLE_IN_ALL
const char *agentexec_code_execution_step_get_text (AgentExecCodeExecutionStep *self);
AGENTEXEC_AVAILABLE_IN_ALL
const char *agentexec_code_execution_step_get_result_text (AgentExecCodeExecutionStep *self);

G_END_DECLS
