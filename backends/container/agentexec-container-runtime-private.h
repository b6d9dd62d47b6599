/* agentexec-container-runtime-private.h: what the container backend's parts
 * share — the engine client, the container spec, the containers in flight
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "agentexec-docker-client-private.h"

G_BEGIN_DECLS

/* What every container of an executor is created with (construct-only
 * properties of the executor, copied once it is initialised). */
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

typedef struct _AgentExecContainerRuntime AgentExecContainerRuntime;

AgentExecContainerRuntime *_agentexec_container_runtime_new (AgentExecDockerClient *client,
                                                             const AgentExecContainerSpec *spec);
void _agentexec_container_runtime_free (AgentExecContainerRuntime *runtime);

AgentExecDockerClient *_agentexec_container_runtime_get_client (AgentExecContainerRuntime *runtime);
void _agentexec_container_runtime_get_spec (AgentExecContainerRuntime *runtime,
                                            AgentExecContainerSpec *spec);

void _agentexec_container_runtime_track (AgentExecContainerRuntime *runtime,
                                         const char *id,
                                         gboolean live);
void _agentexec_container_runtime_remove_later (AgentExecContainerRuntime *runtime, const char *id);
void _agentexec_container_runtime_remove_now (AgentExecContainerRuntime *runtime, const char *id);
void _agentexec_container_runtime_wait_for_removals (AgentExecContainerRuntime *runtime);
void _agentexec_container_runtime_remove_all (AgentExecContainerRuntime *runtime);

gboolean _agentexec_container_runtime_program_missing (AgentExecContainerRuntime *runtime,
                                                       const char *program);
void _agentexec_container_runtime_set_program_missing (AgentExecContainerRuntime *runtime,
                                                       const char *program);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AgentExecContainerRuntime, _agentexec_container_runtime_free)

G_END_DECLS
