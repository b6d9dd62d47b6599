/* agentexec-local-executor.h: runs code in host processes, in a kernel sandbox
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(AGENTEXEC_INSIDE) && !defined(AGENTEXEC_COMPILATION)
#error "Only <libagentexec.h> can be included directly."
#endif

#include <gio/gio.h>

#include "agentexec-base-executor.h"
#include "agentexec-enums.h"
#include "agentexec-version-macros.h"

G_BEGIN_DECLS

#define AGENTEXEC_TYPE_LOCAL_EXECUTOR (agentexec_local_executor_get_type ())

AGENTEXEC_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (AgentExecLocalExecutor,
                      agentexec_local_executor,
                      AGENTEXEC,
                      LOCAL_EXECUTOR,
                      AgentExecBaseExecutor)

AGENTEXEC_AVAILABLE_IN_ALL
AgentExecLocalExecutor *agentexec_local_executor_new (gboolean allow_unsafe, GError **error);
AGENTEXEC_AVAILABLE_IN_ALL
gboolean agentexec_local_executor_get_allow_unsafe (AgentExecLocalExecutor *self);
AGENTEXEC_AVAILABLE_IN_ALL
AgentExecLocalSandbox agentexec_local_executor_get_sandbox (AgentExecLocalExecutor *self);
AGENTEXEC_AVAILABLE_IN_ALL
char *agentexec_local_executor_get_interpreter (AgentExecLocalExecutor *self, const char *language);
AGENTEXEC_AVAILABLE_IN_ALL
gboolean agentexec_local_executor_set_interpreter (AgentExecLocalExecutor *self,
                                                   const char *language,
                                                   const char *path,
                                                   GError **error);
AGENTEXEC_AVAILABLE_IN_ALL
guint agentexec_local_executor_get_session_count (AgentExecLocalExecutor *self);

G_END_DECLS
