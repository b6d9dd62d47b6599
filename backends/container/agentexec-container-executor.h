/* agentexec-container-executor.h: runs code in Docker (or Podman) containers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(AGENTEXEC_INSIDE) && !defined(AGENTEXEC_COMPILATION)
#error "Only <libagentexec.h> can be included directly."
#endif

#include <gio/gio.h>

#include "agentexec-base-executor.h"
#include "agentexec-version-macros.h"

G_BEGIN_DECLS

#define AGENTEXEC_TYPE_CONTAINER_EXECUTOR (agentexec_container_executor_get_type ())

AGENTEXEC_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (AgentExecContainerExecutor,
                      agentexec_container_executor,
                      AGENTEXEC,
                      CONTAINER_EXECUTOR,
                      AgentExecBaseExecutor)

AGENTEXEC_AVAILABLE_IN_ALL
AgentExecContainerExecutor *
agentexec_container_executor_new (const char *image, GCancellable *cancellable, GError **error);
AGENTEXEC_AVAILABLE_IN_ALL
const char *agentexec_container_executor_get_image (AgentExecContainerExecutor *self);
AGENTEXEC_AVAILABLE_IN_ALL
const char *agentexec_container_executor_get_docker_host (AgentExecContainerExecutor *self);

G_END_DECLS
