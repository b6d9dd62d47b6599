/* agentexec-server-events-private.h: an ExecutionResult as E2B events
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What a finished run adds to its /execute stream before end_of_execution:
 * one `result` per figure the Python driver saved (png, base64), the main
 * `result` (text of the last expression's value, Jupyter semantics), and an
 * `error` {name, value, traceback} when the code failed.
 */

#pragma once

#include "libagentexec.h"

G_BEGIN_DECLS

GPtrArray *_agentexec_server_result_lines (AgentExecExecutionResult *result,
                                           const char *language,
                                           guint timeout_ms);
char *_agentexec_server_error_line (const char *name, const char *value, const char *traceback);
char *_agentexec_server_env_prologue (const char *language, JsonObject *env);
const char *_agentexec_server_env_epilogue (const char *language);

G_END_DECLS
