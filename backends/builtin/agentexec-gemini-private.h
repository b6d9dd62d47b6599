/* agentexec-gemini-private.h: Gemini REST documents for the BuiltIn backend
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <json-glib/json-glib.h>

#include "agentexec-execution-result.h"
#include "agentexec-file.h"

G_BEGIN_DECLS

#define AGENTEXEC_GEMINI_DEFAULT_BASE_URL "https://generativelanguage.googleapis.com/v1beta"
#define AGENTEXEC_GEMINI_DEFAULT_MODEL    "gemini-2.5-flash"

typedef struct _AgentExecGeminiReply AgentExecGeminiReply;

/* Called for each piece of execution output as it arrives. */
typedef void (*AgentExecGeminiOutputFunc) (gboolean    is_stderr,
                                           const char *data,
                                           gsize       len,
                                           gpointer    user_data);

gboolean  _agentexec_gemini_model_is_2_or_above     (const char  *model);
gboolean  _agentexec_gemini_add_code_execution_tool (JsonObject  *request,
                                                     const char  *fallback_model,
                                                     GError     **error);
char     *_agentexec_gemini_model_url               (const char  *base_url,
                                                     const char  *model,
                                                     gboolean     streaming,
                                                     GError     **error);
char     *_agentexec_gemini_build_request           (const char  *code,
                                                     GPtrArray   *files,
                                                     gsize       *len);
GError   *_agentexec_gemini_http_error              (long         status,
                                                     const char  *body,
                                                     gsize        len,
                                                     const char  *model,
                                                     const char  *retry_after_header,
                                                     guint       *retry_after_ms);
char     *_agentexec_gemini_redact                  (const char  *text,
                                                     const char  *secret);

AgentExecGeminiReply     *_agentexec_gemini_reply_new           (AgentExecGeminiOutputFunc  func,
                                                                 gpointer                   user_data);
void                      _agentexec_gemini_reply_free          (AgentExecGeminiReply      *reply);
gboolean                  _agentexec_gemini_reply_add_json      (AgentExecGeminiReply      *reply,
                                                                 const char                *json,
                                                                 gsize                      len,
                                                                 const char                *model,
                                                                 GError                   **error);
AgentExecExecutionResult *_agentexec_gemini_reply_to_result     (AgentExecGeminiReply      *reply,
                                                                 const char                *code,
                                                                 guint64                    max_output_bytes,
                                                                 GError                   **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AgentExecGeminiReply, _agentexec_gemini_reply_free)

G_END_DECLS
