/* agentexec-container-executor-private.h: what tests may look at
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "agentexec-container-executor.h"
#include "agentexec-container-pool-private.h"
#include "agentexec-container-runtime-private.h"

G_BEGIN_DECLS

AgentExecContainerRuntime *
_agentexec_container_executor_get_runtime (AgentExecContainerExecutor *self);
AgentExecContainerPool *_agentexec_container_executor_get_pool (AgentExecContainerExecutor *self);

G_END_DECLS
