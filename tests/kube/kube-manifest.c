/* kube-manifest.c: prints the pod manifest the Kubernetes backend creates
 *
 *   kube-manifest NAME TOKEN [IMAGE [PORT]]
 *
 * The manifest is the backend's own (agentexec_kubernetes_executor_dup_pod_manifest);
 * only metadata.generateName becomes metadata.name = NAME, which the API server
 * would otherwise choose, so that `podman kube play` can run it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdio.h>

#include "libagentexec.h"

int
main (int argc, char **argv)
{
  g_autoptr (AgentExecKubernetesExecutor) executor = NULL;
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autofree char *text = NULL;
  JsonObject *metadata;

  if (argc < 3)
    {
      fprintf (stderr, "usage: kube-manifest NAME TOKEN [IMAGE [PORT]]\n");
      return 2;
    }
  executor =
      g_object_new (AGENTEXEC_TYPE_KUBERNETES_EXECUTOR, "image", argc > 3 ? argv[3] : NULL, "port",
                    argc > 4 ? (guint) g_ascii_strtoull (argv[4], NULL, 10) : 49999, NULL);
  text = agentexec_kubernetes_executor_dup_pod_manifest (executor, argv[2]);
  root = json_from_string (text, &error);
  if (root == NULL)
    {
      fprintf (stderr, "kube-manifest: %s\n", error->message);
      return 1;
    }
  metadata = json_object_get_object_member (json_node_get_object (root), "metadata");
  json_object_remove_member (metadata, "generateName");
  json_object_set_string_member (metadata, "name", argv[1]);
  json_generator_set_root (generator, root);
  json_generator_set_pretty (generator, TRUE);
  g_clear_pointer (&text, g_free);
  text = json_generator_to_data (generator, NULL);
  puts (text);
  return 0;
}
