/* agentexec-gemini-client-private.h: one generateContent call over libcurl
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "agentexec-gemini-private.h"
#include "agentexec-gemini-reply-private.h"

G_BEGIN_DECLS

typedef struct
{
  const char *url;     /* from _agentexec_gemini_model_url () */
  const char *api_key; /* sent as x-goog-api-key, never logged */
  const char *model;   /* for error messages */
  const char *body;
  gsize body_len;
  gboolean streaming; /* the url is streamGenerateContent?alt=sse */
  guint timeout_ms;   /* 0: none */
} AgentExecGeminiCall;

gboolean _agentexec_gemini_post (const AgentExecGeminiCall *call,
                                 AgentExecGeminiReply *reply,
                                 GCancellable *cancellable,
                                 GError **error);

G_END_DECLS
