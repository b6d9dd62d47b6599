/* agentexec-result-formatter.h: execution results as text for the model
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (AGENTEXEC_INSIDE) && !defined (AGENTEXEC_COMPILATION)
#error "Only <libagentexec.h> can be included directly."
#endif

#include <gio/gio.h>

#include "agentexec-execution-result.h"
#include "agentexec-version-macros.h"

G_BEGIN_DECLS

#define AGENTEXEC_TYPE_RESULT_FORMATTER (agentexec_result_formatter_get_type ())

AGENTEXEC_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (AgentExecResultFormatter, agentexec_result_formatter, AGENTEXEC,
                      RESULT_FORMATTER, GObject)

AGENTEXEC_AVAILABLE_IN_ALL
AgentExecResultFormatter *agentexec_result_formatter_new                       (void);
AGENTEXEC_AVAILABLE_IN_ALL
AgentExecResultFormatter *agentexec_result_formatter_new_with_delimiters       (const char               *start,
                                                                                const char               *end);
AGENTEXEC_AVAILABLE_IN_ALL
const char               *agentexec_result_formatter_get_start_delimiter       (AgentExecResultFormatter *self);
AGENTEXEC_AVAILABLE_IN_ALL
const char               *agentexec_result_formatter_get_end_delimiter         (AgentExecResultFormatter *self);
AGENTEXEC_AVAILABLE_IN_ALL
char                     *agentexec_result_formatter_format_result             (AgentExecResultFormatter *self,
                                                                                AgentExecExecutionResult *result);
AGENTEXEC_AVAILABLE_IN_ALL
char                     *agentexec_result_formatter_format_inline_result      (AgentExecResultFormatter *self,
                                                                                AgentExecExecutionResult *result);
AGENTEXEC_AVAILABLE_IN_ALL
char                     *agentexec_result_formatter_wrap                      (AgentExecResultFormatter *self,
                                                                                const char               *output);
AGENTEXEC_AVAILABLE_IN_ALL
GStrv                     agentexec_result_formatter_extract_execution_results (AgentExecResultFormatter *self,
                                                                                const char               *text);

G_END_DECLS
