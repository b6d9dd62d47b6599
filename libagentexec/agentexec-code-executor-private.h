/* agentexec-code-executor-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "agentexec-code-executor.h"

G_BEGIN_DECLS

/* The main context that streamed output must reach: the caller's context of an
 * async call (set in the worker thread by the default execute_code_async), or
 * NULL for a sync call (emit in the calling thread). Backends that hand work
 * to threads of their own capture it at the start of execute_code.
 *
 * _agentexec_code_executor_emit_output_in also delivers the chunk to the
 * per-call function of execute_code_with_output(_async), which it finds
 * through a thread-local set for the duration of the call: emit from the
 * thread that runs the backend's run (every backend does), or the chunk
 * reaches the ::output signal only. _has_output_handler is TRUE when either
 * listens. */
GMainContext *_agentexec_code_executor_get_output_context (void);
void          _agentexec_code_executor_emit_output_in     (AgentExecCodeExecutor   *self,
                                                           GMainContext            *output_context,
                                                           AgentExecExecutionInput *input,
                                                           AgentExecStream          stream,
                                                           const char              *data,
                                                           gsize                    len);
gboolean      _agentexec_code_executor_has_output_handler (AgentExecCodeExecutor   *self);

G_END_DECLS
