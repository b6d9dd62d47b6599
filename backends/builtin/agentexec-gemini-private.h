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
#define AGENTEXEC_GEMINI_DEFAULT_MODEL "gemini-2.5-flash"
/* Gemini stops the code it runs after 30 s (its documented limit). */
#define AGENTEXEC_GEMINI_CODE_TIME_LIMIT_MS 30000

gboolean _agentexec_gemini_model_is_2_or_above (const char *model);
gboolean _agentexec_gemini_add_code_execution_tool (JsonObject *request,
                                                    const char *fallback_model,
                                                    GError **error);
char *_agentexec_gemini_model_url (const char *base_url,
                                   const char *model,
                                   gboolean streaming,
                                   GError **error);
char *_agentexec_gemini_build_request (const char *code, GPtrArray *files, gsize *len);
GError *_agentexec_gemini_http_error (long status,
                                      const char *body,
                                      gsize len,
                                      const char *model,
                                      const char *retry_after_header,
                                      guint *retry_after_ms);
GError *_agentexec_gemini_service_error (JsonNode *node, const char *model);
char *_agentexec_gemini_redact (const char *text, const char *secret);
char *_agentexec_gemini_short_text (const char *text, gsize len);

G_END_DECLS
