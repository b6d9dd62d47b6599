/* agentexec-code-execution-stream.h: run a model's code while the reply streams in
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(AGENTEXEC_INSIDE) && !defined(AGENTEXEC_COMPILATION)
#error "Only <libagentexec.h> can be included directly."
#endif

#include <gio/gio.h>

#include "agentexec-code-execution-flow.h"
#include "agentexec-code-execution-step.h"
#include "agentexec-executor-context.h"
#include "agentexec-version-macros.h"

G_BEGIN_DECLS

#define AGENTEXEC_TYPE_CODE_EXECUTION_STREAM (agentexec_code_execution_stream_get_type ())

AGENTEXEC_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (AgentExecCodeExecutionStream,
                      agentexec_code_execution_stream,
                      AGENTEXEC,
                      CODE_EXECUTION_STREAM,
                      GObject)

/* The flow's streaming entry point (declared here, where the type is). */
AGENTEXEC_AVAILABLE_IN_ALL
AgentExecCodeExecutionStream *
agentexec_code_execution_flow_stream_text (AgentExecCodeExecutionFlow *self,
                                           AgentExecExecutorContext *context,
                                           const char *invocation_id,
                                           GCancellable *cancellable);
AGENTEXEC_AVAILABLE_IN_ALL
AgentExecCodeExecutionStream *
agentexec_code_execution_stream_new (AgentExecCodeExecutionFlow *flow,
                                     AgentExecExecutorContext *context,
                                     const char *invocation_id,
                                     GCancellable *cancellable);
AGENTEXEC_AVAILABLE_IN_ALL
AgentExecCodeExecutionFlow *
agentexec_code_execution_stream_get_flow (AgentExecCodeExecutionStream *self);
AGENTEXEC_AVAILABLE_IN_ALL
const char *agentexec_code_execution_stream_get_invocation_id (AgentExecCodeExecutionStream *self);
AGENTEXEC_AVAILABLE_IN_ALL
gboolean agentexec_code_execution_stream_get_all_blocks (AgentExecCodeExecutionStream *self);
AGENTEXEC_AVAILABLE_IN_ALL
void agentexec_code_execution_stream_feed (AgentExecCodeExecutionStream *self, const char *delta);
AGENTEXEC_AVAILABLE_IN_ALL
void agentexec_code_execution_stream_feed_full (AgentExecCodeExecutionStream *self,
                                                const char *data,
                                                gssize len);
AGENTEXEC_AVAILABLE_IN_ALL
void agentexec_code_execution_stream_end_async (AgentExecCodeExecutionStream *self,
                                                GAsyncReadyCallback callback,
                                                gpointer user_data);
AGENTEXEC_AVAILABLE_IN_ALL
GPtrArray *agentexec_code_execution_stream_end_finish (AgentExecCodeExecutionStream *self,
                                                       GAsyncResult *result,
                                                       GError **error);
AGENTEXEC_AVAILABLE_IN_ALL
GPtrArray *agentexec_code_execution_stream_end (AgentExecCodeExecutionStream *self, GError **error);
AGENTEXEC_AVAILABLE_IN_ALL
GPtrArray *agentexec_code_execution_stream_get_steps (AgentExecCodeExecutionStream *self);
AGENTEXEC_AVAILABLE_IN_ALL
guint agentexec_code_execution_stream_get_pending (AgentExecCodeExecutionStream *self);
AGENTEXEC_AVAILABLE_IN_ALL
const char *agentexec_code_execution_stream_get_text (AgentExecCodeExecutionStream *self);

G_END_DECLS
