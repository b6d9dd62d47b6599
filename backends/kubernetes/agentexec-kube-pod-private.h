/* agentexec-kube-pod-private.h: the pod template, labels, and reading a pod's status
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define AGENTEXEC_KUBE_LABEL_MANAGED "app.kubernetes.io/managed-by"
#define AGENTEXEC_KUBE_MANAGED_VALUE "libagentexec"
#define AGENTEXEC_KUBE_LABEL_POOL "agentexec.dev/pool"
#define AGENTEXEC_KUBE_LABEL_STATE "agentexec.dev/state"
#define AGENTEXEC_KUBE_LABEL_OWNER "agentexec.dev/owner"
#define AGENTEXEC_KUBE_LABEL_OWNER_HOST "agentexec.dev/owner-host"
#define AGENTEXEC_KUBE_LABEL_OWNER_PID "agentexec.dev/owner-pid"
#define AGENTEXEC_KUBE_ANNOTATION_OWNER_START "agentexec.dev/owner-start"
#define AGENTEXEC_KUBE_TOKEN_ENV "AGENTEXEC_SERVE_TOKEN"
#define AGENTEXEC_KUBE_STATE_WARM "warm"
#define AGENTEXEC_KUBE_STATE_CLAIMED "claimed"

typedef struct
{
  const char *image;
  const char *pool;
  const char *owner; /* executor id */
  const char *owner_host;
  guint owner_pid;
  const char *owner_start;
  const char *runtime_class; /* nullable */
  const char *cpu_request;
  const char *cpu_limit;
  const char *memory_request;
  const char *memory_limit;
  const char *ephemeral_storage_limit;
  guint port;
  guint max_lifetime_s; /* activeDeadlineSeconds; 0: none */
  guint run_timeout_s;  /* the in-pod bound of one execution; 0: none */
  gint64 run_as_user;
} AgentExecKubePodSpec;

JsonNode *_agentexec_kube_pod_manifest (const AgentExecKubePodSpec *spec,
                                        const char *state,
                                        const char *token);
char *_agentexec_kube_label_value (const char *text);
char *_agentexec_kube_owner_start (guint pid);
gboolean _agentexec_kube_pod_is_ready (JsonObject *pod);
gboolean _agentexec_kube_pod_is_deleted (JsonObject *pod);
char *_agentexec_kube_pod_failure (JsonObject *pod);
char *_agentexec_kube_pod_token (JsonObject *pod);
const char *_agentexec_kube_pod_label (JsonObject *pod, const char *label);

G_END_DECLS
