/* agentexec-local-session-private.h: one persistent interpreter on the host
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "agentexec-local-process-private.h"

G_BEGIN_DECLS

typedef struct _AgentExecLocalSession AgentExecLocalSession;

AgentExecLocalSession *_agentexec_local_session_new (const char *language,
                                                     const char *interpreter,
                                                     const char *const *envp,
                                                     const char *root_dir,
                                                     const AgentExecLocalLimits *limits,
                                                     AgentExecLocalSandboxPlan *sandbox,
                                                     guint64 max_output_bytes,
                                                     GCancellable *cancellable,
                                                     GError **error);
void _agentexec_local_session_free (AgentExecLocalSession *self);
gboolean _agentexec_local_session_is_usable (AgentExecLocalSession *self);
AgentExecExecutionResult *_agentexec_local_session_run (AgentExecLocalSession *self,
                                                        AgentExecExecutionInput *input,
                                                        gint64 deadline,
                                                        guint grace_ms,
                                                        GCancellable *cancellable,
                                                        const AgentExecLocalStream *stream,
                                                        GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AgentExecLocalSession, _agentexec_local_session_free)

G_END_DECLS
