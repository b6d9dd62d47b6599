/* agentexec-execution-result.h: what an execution produced
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (AGENTEXEC_INSIDE) && !defined (AGENTEXEC_COMPILATION)
#error "Only <libagentexec.h> can be included directly."
#endif

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "agentexec-enums.h"
#include "agentexec-file.h"
#include "agentexec-version-macros.h"

G_BEGIN_DECLS

#define AGENTEXEC_TYPE_EXECUTION_RESULT (agentexec_execution_result_get_type ())

AGENTEXEC_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (AgentExecExecutionResult, agentexec_execution_result, AGENTEXEC,
                      EXECUTION_RESULT, GObject)

AGENTEXEC_AVAILABLE_IN_ALL
AgentExecExecutionResult *agentexec_execution_result_new                  (AgentExecOutcome          outcome,
                                                                           const char               *stdout_text,
                                                                           const char               *stderr_text,
                                                                           int                       exit_code,
                                                                           GPtrArray                *output_files);
AGENTEXEC_AVAILABLE_IN_ALL
const char               *agentexec_execution_result_get_stdout           (AgentExecExecutionResult *self);
AGENTEXEC_AVAILABLE_IN_ALL
const char               *agentexec_execution_result_get_stderr           (AgentExecExecutionResult *self);
AGENTEXEC_AVAILABLE_IN_ALL
int                       agentexec_execution_result_get_exit_code        (AgentExecExecutionResult *self);
AGENTEXEC_AVAILABLE_IN_ALL
int                       agentexec_execution_result_get_signal           (AgentExecExecutionResult *self);
AGENTEXEC_AVAILABLE_IN_ALL
AgentExecOutcome          agentexec_execution_result_get_outcome          (AgentExecExecutionResult *self);
AGENTEXEC_AVAILABLE_IN_ALL
GPtrArray                *agentexec_execution_result_get_output_files     (AgentExecExecutionResult *self);
AGENTEXEC_AVAILABLE_IN_ALL
gint64                    agentexec_execution_result_get_duration_us      (AgentExecExecutionResult *self);
AGENTEXEC_AVAILABLE_IN_ALL
gboolean                  agentexec_execution_result_get_stdout_truncated (AgentExecExecutionResult *self);
AGENTEXEC_AVAILABLE_IN_ALL
gboolean                  agentexec_execution_result_get_stderr_truncated (AgentExecExecutionResult *self);
AGENTEXEC_AVAILABLE_IN_ALL
guint                     agentexec_execution_result_get_attempts         (AgentExecExecutionResult *self);
AGENTEXEC_AVAILABLE_IN_ALL
const char               *agentexec_execution_result_get_language         (AgentExecExecutionResult *self);
AGENTEXEC_AVAILABLE_IN_ALL
const char *agentexec_execution_result_get_value (AgentExecExecutionResult *self);
AGENTEXEC_AVAILABLE_IN_ALL
gboolean                  agentexec_execution_result_get_session_restarted (AgentExecExecutionResult *self);
AGENTEXEC_AVAILABLE_IN_ALL
gboolean                  agentexec_execution_result_is_error             (AgentExecExecutionResult *self);
AGENTEXEC_AVAILABLE_IN_ALL
JsonNode                 *agentexec_execution_result_to_json              (AgentExecExecutionResult *self);

G_END_DECLS
