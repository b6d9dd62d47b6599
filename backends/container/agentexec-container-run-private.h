/* agentexec-container-run-private.h: one stateless run in a fresh container
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "agentexec-container-executor.h"
#include "agentexec-docker-client-private.h"

G_BEGIN_DECLS

struct _AgentExecContainerSessions;
struct _AgentExecContainerPool;

typedef struct
{
  const char *image;
  const char *network_mode;
  const char *user;
  const char *executor_id;
  guint64 memory_bytes;
  double cpus;
  guint pids_limit;
  gboolean drop_capabilities;
  gboolean no_new_privileges;
  gboolean read_only_root;
} AgentExecContainerSpec;

AgentExecDockerClient *_agentexec_container_executor_get_client (AgentExecContainerExecutor *self);
void _agentexec_container_executor_get_spec (AgentExecContainerExecutor *self,
                                             AgentExecContainerSpec *spec);
void _agentexec_container_executor_track (AgentExecContainerExecutor *self,
                                          const char *id,
                                          gboolean live);
struct _AgentExecContainerPool *
_agentexec_container_executor_get_pool (AgentExecContainerExecutor *self);
void _agentexec_container_executor_remove_later (AgentExecContainerExecutor *self, const char *id);
gboolean _agentexec_container_executor_program_missing (AgentExecContainerExecutor *self,
                                                        const char *program);
void _agentexec_container_executor_set_program_missing (AgentExecContainerExecutor *self,
                                                        const char *program);

JsonNode *_agentexec_container_create_body (const AgentExecContainerSpec *spec,
                                            const char *const *argv,
                                            const char *const *env);
AgentExecExecutionResult *_agentexec_container_run_stateless (AgentExecContainerExecutor *self,
                                                              AgentExecExecutionInput *input,
                                                              const char *language,
                                                              GMainContext *output_context,
                                                              GCancellable *cancellable,
                                                              GError **error);

AgentExecExecutionResult *
_agentexec_container_run_stateful (AgentExecContainerExecutor *self,
                                   struct _AgentExecContainerSessions *sessions,
                                   AgentExecExecutionInput *input,
                                   const char *language,
                                   guint max_sessions,
                                   guint idle_timeout_ms,
                                   GMainContext *output_context,
                                   GCancellable *cancellable,
                                   GError **error);

G_END_DECLS
