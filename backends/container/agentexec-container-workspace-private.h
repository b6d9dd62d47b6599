/* agentexec-container-workspace-private.h: files in and out of /workspace
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "agentexec-docker-client-private.h"
#include "agentexec-file.h"

G_BEGIN_DECLS

#define WORKSPACE "/workspace"
#define CODE_DIR ".agentexec"

gboolean _agentexec_container_workspace_upload (AgentExecDockerClient *client,
                                                const char *base_path,
                                                GPtrArray *files,
                                                const char *user,
                                                GCancellable *cancellable,
                                                GError **error);
char *_agentexec_container_workspace_stamp (AgentExecDockerClient *client,
                                            const char *base_path,
                                            GPtrArray *files);
GPtrArray *_agentexec_container_workspace_changes (AgentExecDockerClient *client,
                                                   const char *base_path,
                                                   GPtrArray *known,
                                                   GError **error);

GPtrArray *_agentexec_container_workspace_filter (GPtrArray *files, GPtrArray *known);

G_END_DECLS
