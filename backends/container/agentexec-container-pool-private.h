/* agentexec-container-pool-private.h: warm containers for stateless runs
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "agentexec-container-runtime-private.h"
#include "agentexec-docker-hijack-private.h"
#include "agentexec-driver-private.h"

G_BEGIN_DECLS

#define AGENTEXEC_LABEL_POOL "io.agentexec.pool"

typedef struct _AgentExecContainerPool AgentExecContainerPool;

/* A started container whose interpreter driver is attached and ready for
 * one request. Used once, then removed. */
typedef struct
{
  char *id;
  char *language;
  AgentExecDockerHijack *conn;
  AgentExecDriverReader *readers[2];
  AgentExecDriverReply *reply;
  GError *error;
  gboolean done[2];
  gboolean exited;
  gboolean driver_files; /* the driver takes and reports files itself */
  AgentExecDockerFrameFunc sink;
  gpointer sink_data;
} AgentExecWarmContainer;

AgentExecContainerPool *_agentexec_container_pool_new (AgentExecContainerRuntime *runtime,
                                                       guint size);
void _agentexec_container_pool_free (AgentExecContainerPool *pool);
AgentExecWarmContainer *_agentexec_container_pool_take (AgentExecContainerPool *pool,
                                                        const char *language);
void _agentexec_container_pool_refill (AgentExecContainerPool *pool);
guint _agentexec_container_pool_get_n_warm (AgentExecContainerPool *pool);

AgentExecWarmContainer *_agentexec_container_warm_up (AgentExecContainerRuntime *runtime,
                                                      const char *language,
                                                      gboolean preload,
                                                      GError **error);
gboolean
_agentexec_warm_container_send (AgentExecWarmContainer *warm, const char *code, GError **error);
gboolean _agentexec_warm_container_send_with_files (AgentExecWarmContainer *warm,
                                                    const char *code,
                                                    GPtrArray *files,
                                                    gint64 report_files,
                                                    GError **error);
AgentExecDockerWait _agentexec_warm_container_wait (AgentExecWarmContainer *warm,
                                                    gint64 deadline,
                                                    GCancellable *cancellable,
                                                    GError **error);
void _agentexec_warm_container_free (AgentExecWarmContainer *warm);

G_END_DECLS
