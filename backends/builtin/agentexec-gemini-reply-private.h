/* agentexec-gemini-reply-private.h: reading Gemini's answer into an ExecutionResult
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <json-glib/json-glib.h>

#include "agentexec-execution-result.h"

G_BEGIN_DECLS

typedef struct _AgentExecGeminiReply AgentExecGeminiReply;

/* Called for each piece of execution output as it arrives. */
typedef void (*AgentExecGeminiOutputFunc) (gboolean is_stderr,
                                           const char *data,
                                           gsize len,
                                           gpointer user_data);

AgentExecGeminiReply *_agentexec_gemini_reply_new (AgentExecGeminiOutputFunc func,
                                                   gpointer user_data);
void _agentexec_gemini_reply_free (AgentExecGeminiReply *reply);
gboolean _agentexec_gemini_reply_add_json (
    AgentExecGeminiReply *reply, const char *json, gsize len, const char *model, GError **error);
AgentExecExecutionResult *_agentexec_gemini_reply_to_result (AgentExecGeminiReply *reply,
                                                             const char *code,
                                                             guint64 max_bytes,
                                                             GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AgentExecGeminiReply, _agentexec_gemini_reply_free)

G_END_DECLS
