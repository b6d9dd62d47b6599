/* agentexec-kube-config-private.h: where the Kubernetes API is and how to log in
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  char *source; /* "kubeconfig /path (context c)" or "in-cluster service account" */
  char *server; /* https://host:port, no trailing slash */
  char *namespace_;
  char *user; /* for messages */
  GBytes *ca_pem;
  GBytes *cert_pem;
  GBytes *key_pem;
  char *token;
  gboolean insecure_skip_tls_verify;
} AgentExecKubeConfig;

/* What the properties of the executor override; every field may be NULL. */
typedef struct
{
  const char *kubeconfig;
  const char *context;
  const char *server;
  const char *namespace_;
  const char *token;
} AgentExecKubeConfigOverrides;

AgentExecKubeConfig *_agentexec_kube_config_load (const AgentExecKubeConfigOverrides *overrides,
                                                  GError **error);
AgentExecKubeConfig *_agentexec_kube_config_load_in_cluster (const char *service_account_dir,
                                                             GError **error);
void _agentexec_kube_config_free (AgentExecKubeConfig *config);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AgentExecKubeConfig, _agentexec_kube_config_free)

G_END_DECLS
