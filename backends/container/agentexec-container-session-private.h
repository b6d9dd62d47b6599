/* agentexec-container-session-private.h: stateful sessions, one container each
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "agentexec-container-pool-private.h"

G_BEGIN_DECLS

typedef struct _AgentExecContainerSessions AgentExecContainerSessions;

typedef struct
{
  char *key;
  char *language;
  AgentExecWarmContainer *warm;
  GHashTable *known; /* file name → GBytes: /workspace as last seen */
  char *stamp;       /* its stamp after the last run, if still valid */
  gint64 last_used;
  gboolean busy;
  gboolean lost; /* the container died: the next run restarts it */
} AgentExecContainerSession;

AgentExecContainerSessions *_agentexec_container_sessions_new (AgentExecContainerRuntime *runtime);
void _agentexec_container_sessions_free (AgentExecContainerSessions *sessions);
AgentExecContainerSession *
_agentexec_container_sessions_acquire (AgentExecContainerSessions *sessions,
                                       const char *execution_id,
                                       const char *language,
                                       guint max_sessions,
                                       guint idle_timeout_ms,
                                       gboolean *restarted,
                                       GError **error);
void _agentexec_container_sessions_release (AgentExecContainerSessions *sessions,
                                            AgentExecContainerSession *session,
                                            gboolean lost);
void _agentexec_container_sessions_close (AgentExecContainerSessions *sessions);
void _agentexec_container_sessions_end (AgentExecContainerSessions *sessions,
                                        const char *execution_id);
guint _agentexec_container_sessions_count (AgentExecContainerSessions *sessions);
void _agentexec_container_sessions_stop_reaper (AgentExecContainerSessions *sessions);

G_END_DECLS
