/* agentexec-built-in-executor.h: Gemini's own code execution
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(AGENTEXEC_INSIDE) && !defined(AGENTEXEC_COMPILATION)
#error "Only <libagentexec.h> can be included directly."
#endif

#include "agentexec-base-executor.h"
#include "agentexec-version-macros.h"

G_BEGIN_DECLS

#define AGENTEXEC_TYPE_BUILT_IN_EXECUTOR (agentexec_built_in_executor_get_type ())

AGENTEXEC_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (AgentExecBuiltInExecutor,
                      agentexec_built_in_executor,
                      AGENTEXEC,
                      BUILT_IN_EXECUTOR,
                      AgentExecBaseExecutor)

AGENTEXEC_AVAILABLE_IN_ALL
AgentExecBuiltInExecutor *agentexec_built_in_executor_new (void);
AGENTEXEC_AVAILABLE_IN_ALL
char *agentexec_built_in_executor_dup_model (AgentExecBuiltInExecutor *self);
AGENTEXEC_AVAILABLE_IN_ALL
void agentexec_built_in_executor_set_model (AgentExecBuiltInExecutor *self, const char *model);
AGENTEXEC_AVAILABLE_IN_ALL
char *agentexec_built_in_executor_dup_base_url (AgentExecBuiltInExecutor *self);
AGENTEXEC_AVAILABLE_IN_ALL
void agentexec_built_in_executor_set_base_url (AgentExecBuiltInExecutor *self,
                                               const char *base_url);
AGENTEXEC_AVAILABLE_IN_ALL
void agentexec_built_in_executor_set_api_key (AgentExecBuiltInExecutor *self, const char *api_key);
AGENTEXEC_AVAILABLE_IN_ALL
gboolean agentexec_built_in_executor_has_api_key (AgentExecBuiltInExecutor *self);
AGENTEXEC_AVAILABLE_IN_ALL
guint agentexec_built_in_executor_get_request_timeout_ms (AgentExecBuiltInExecutor *self);
AGENTEXEC_AVAILABLE_IN_ALL
void agentexec_built_in_executor_set_request_timeout_ms (AgentExecBuiltInExecutor *self,
                                                         guint timeout_ms);
AGENTEXEC_AVAILABLE_IN_ALL
gboolean agentexec_built_in_executor_get_streaming (AgentExecBuiltInExecutor *self);
AGENTEXEC_AVAILABLE_IN_ALL
void agentexec_built_in_executor_set_streaming (AgentExecBuiltInExecutor *self, gboolean streaming);

AGENTEXEC_AVAILABLE_IN_ALL
gboolean agentexec_built_in_executor_get_model_fallback (AgentExecBuiltInExecutor *self);
AGENTEXEC_AVAILABLE_IN_ALL
void agentexec_built_in_executor_set_model_fallback (AgentExecBuiltInExecutor *self,
                                                     gboolean model_fallback);

G_END_DECLS
