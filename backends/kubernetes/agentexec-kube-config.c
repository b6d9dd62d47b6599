/* agentexec-kube-config.c: kubeconfig files (YAML, through libyaml) and in-cluster config
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>
#include <yaml.h>
#include <json-glib/json-glib.h>

#include "agentexec-enums.h"
#include "agentexec-kube-config-private.h"

#define SERVICE_ACCOUNT_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

void
_agentexec_kube_config_free (AgentExecKubeConfig *config)
{
  if (config == NULL)
    return;
  g_free (config->source);
  g_free (config->server);
  g_free (config->namespace_);
  g_free (config->user);
  g_clear_pointer (&config->ca_pem, g_bytes_unref);
  g_clear_pointer (&config->cert_pem, g_bytes_unref);
  g_clear_pointer (&config->key_pem, g_bytes_unref);
  if (config->token != NULL)
    memset (config->token, 0, strlen (config->token));
  g_free (config->token);
  g_free (config);
}

/* YAML documents as JSON trees (scalars as strings): kubeconfig uses only
 * maps, sequences and scalars. */

static JsonNode *
yaml_to_json (yaml_document_t *document, yaml_node_t *node, guint depth)
{
  JsonNode *json;

  if (node == NULL || depth > 64)
    return json_node_new (JSON_NODE_NULL);
  switch (node->type)
    {
    case YAML_SCALAR_NODE:
      json = json_node_new (JSON_NODE_VALUE);
      json_node_set_string (json, (const char *) node->data.scalar.value);
      return json;
    case YAML_SEQUENCE_NODE:
      {
        JsonArray *array = json_array_new ();

        for (yaml_node_item_t *item = node->data.sequence.items.start;
             item < node->data.sequence.items.top; item++)
          json_array_add_element (
              array, yaml_to_json (document, yaml_document_get_node (document, *item), depth + 1));
        json = json_node_new (JSON_NODE_ARRAY);
        json_node_take_array (json, array);
        return json;
      }
    case YAML_MAPPING_NODE:
      {
        JsonObject *object = json_object_new ();

        for (yaml_node_pair_t *pair = node->data.mapping.pairs.start;
             pair < node->data.mapping.pairs.top; pair++)
          {
            yaml_node_t *key = yaml_document_get_node (document, pair->key);

            if (key == NULL || key->type != YAML_SCALAR_NODE)
              continue;
            json_object_set_member (
                object, (const char *) key->data.scalar.value,
                yaml_to_json (document, yaml_document_get_node (document, pair->value), depth + 1));
          }
        json = json_node_new (JSON_NODE_OBJECT);
        json_node_take_object (json, object);
        return json;
      }
    case YAML_NO_NODE:
    default:
      return json_node_new (JSON_NODE_NULL);
    }
}

static JsonNode *
parse_yaml_file (const char *path, GError **error)
{
  g_autofree char *text = NULL;
  gsize len = 0;
  yaml_parser_t parser;
  yaml_document_t document;
  JsonNode *root;

  if (!g_file_get_contents (path, &text, &len, error))
    {
      g_prefix_error (error, "Could not read the kubeconfig: ");
      return NULL;
    }
  yaml_parser_initialize (&parser);
  yaml_parser_set_input_string (&parser, (const unsigned char *) text, len);
  if (!yaml_parser_load (&parser, &document))
    {
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_INVALID_INPUT,
                   "The kubeconfig %s is not valid YAML (line %zu: %s)", path,
                   parser.problem_mark.line + 1,
                   parser.problem != NULL ? parser.problem : "parse error");
      yaml_parser_delete (&parser);
      return NULL;
    }
  root = yaml_to_json (&document, yaml_document_get_root_node (&document), 0);
  yaml_document_delete (&document);
  yaml_parser_delete (&parser);
  return root;
}

/* Merged view of the files of KUBECONFIG: the first file that names a
 * cluster, user or context (or sets current-context) wins, as kubectl does. */

typedef struct
{
  GHashTable *clusters; /* name -> JsonObject (ref) */
  GHashTable *users;
  GHashTable *contexts;
  GHashTable *dirs; /* JsonObject * -> directory of its file, for relative paths */
  char *current_context;
  GPtrArray *roots;
  char *paths;
} Merged;

static void
merged_clear (Merged *merged)
{
  g_clear_pointer (&merged->clusters, g_hash_table_unref);
  g_clear_pointer (&merged->users, g_hash_table_unref);
  g_clear_pointer (&merged->contexts, g_hash_table_unref);
  g_clear_pointer (&merged->dirs, g_hash_table_unref);
  g_clear_pointer (&merged->roots, g_ptr_array_unref);
  g_clear_pointer (&merged->current_context, g_free);
  g_clear_pointer (&merged->paths, g_free);
}

static const char *
string_member (JsonObject *object, const char *name)
{
  JsonNode *node;

  if (object == NULL || !json_object_has_member (object, name))
    return NULL;
  node = json_object_get_member (object, name);
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

static JsonObject *
object_member (JsonObject *object, const char *name)
{
  JsonNode *node;

  if (object == NULL || !json_object_has_member (object, name))
    return NULL;
  node = json_object_get_member (object, name);
  return JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

static void
merge_named (Merged *merged,
             GHashTable *table,
             JsonObject *root,
             const char *list,
             const char *inner,
             const char *dir)
{
  JsonNode *node = json_object_has_member (root, list) ? json_object_get_member (root, list) : NULL;
  JsonArray *array =
      node != NULL && JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;

  for (guint i = 0; array != NULL && i < json_array_get_length (array); i++)
    {
      JsonNode *element = json_array_get_element (array, i);
      JsonObject *entry = JSON_NODE_HOLDS_OBJECT (element) ? json_node_get_object (element) : NULL;
      const char *name = string_member (entry, "name");
      JsonObject *body = object_member (entry, inner);

      if (name == NULL || body == NULL || g_hash_table_contains (table, name))
        continue;
      g_hash_table_insert (table, g_strdup (name), body);
      g_hash_table_insert (merged->dirs, body, g_strdup (dir));
    }
}

static gboolean
merge_file (Merged *merged, const char *path, GError **error)
{
  g_autoptr (JsonNode) root = parse_yaml_file (path, error);
  g_autofree char *dir = NULL;
  JsonObject *object;

  if (root == NULL)
    return FALSE;
  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_INVALID_INPUT,
                   "The kubeconfig %s is not a Config mapping (clusters, users, contexts)", path);
      return FALSE;
    }
  object = json_node_get_object (root);
  dir = g_path_get_dirname (path);
  merge_named (merged, merged->clusters, object, "clusters", "cluster", dir);
  merge_named (merged, merged->users, object, "users", "user", dir);
  merge_named (merged, merged->contexts, object, "contexts", "context", dir);
  if (merged->current_context == NULL && string_member (object, "current-context") != NULL &&
      string_member (object, "current-context")[0] != '\0')
    merged->current_context = g_strdup (string_member (object, "current-context"));
  g_ptr_array_add (merged->roots, g_steal_pointer (&root));
  return TRUE;
}

static GPtrArray *
kubeconfig_paths (const char *explicit_path)
{
  GPtrArray *paths = g_ptr_array_new_with_free_func (g_free);
  const char *env = g_getenv ("KUBECONFIG");

  if (explicit_path != NULL && explicit_path[0] != '\0')
    {
      g_ptr_array_add (paths, g_strdup (explicit_path));
      return paths;
    }
  if (env != NULL && env[0] != '\0')
    {
      g_auto (GStrv) parts = g_strsplit (env, G_SEARCHPATH_SEPARATOR_S, -1);

      for (guint i = 0; parts[i] != NULL; i++)
        if (parts[i][0] != '\0' && g_file_test (parts[i], G_FILE_TEST_EXISTS))
          g_ptr_array_add (paths, g_strdup (parts[i]));
      return paths;
    }
  {
    g_autofree char *home = g_build_filename (g_get_home_dir (), ".kube", "config", NULL);

    if (g_file_test (home, G_FILE_TEST_EXISTS))
      g_ptr_array_add (paths, g_steal_pointer (&home));
  }
  return paths;
}

/* Credentials and certificates: inline *-data (base64) or a file, relative to
 * the kubeconfig that named it. */
static GBytes *
data_or_file (JsonObject *object,
              const char *data_key,
              const char *file_key,
              const char *dir,
              const char *what,
              GError **error)
{
  const char *data = string_member (object, data_key);
  const char *file = string_member (object, file_key);
  g_autofree char *path = NULL;
  g_autofree char *contents = NULL;
  gsize len = 0;

  if (data != NULL)
    {
      guchar *decoded = g_base64_decode (data, &len);

      if (len == 0)
        {
          g_free (decoded);
          g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_INVALID_INPUT,
                       "The kubeconfig's %s (%s) is not base64: fix or regenerate the "
                       "kubeconfig",
                       what, data_key);
          return NULL;
        }
      return g_bytes_new_take (decoded, len);
    }
  if (file == NULL)
    return NULL;
  path = g_path_is_absolute (file) ? g_strdup (file) : g_build_filename (dir, file, NULL);
  if (!g_file_get_contents (path, &contents, &len, error))
    {
      g_prefix_error (error, "Could not read the kubeconfig's %s (%s): ", what, file_key);
      return NULL;
    }
  return g_bytes_new_take (g_steal_pointer (&contents), len);
}

static gboolean
read_user (AgentExecKubeConfig *config, JsonObject *user, const char *dir, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  const char *token_file = string_member (user, "tokenFile");

  if (object_member (user, "exec") != NULL || object_member (user, "auth-provider") != NULL)
    {
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_INVALID_INPUT,
                   "The kubeconfig user “%s” logs in through an exec or auth-provider plugin, "
                   "which libagentexec does not run: give a token (the token property, or a "
                   "service-account token in the kubeconfig) or a client certificate",
                   config->user);
      return FALSE;
    }
  config->cert_pem = data_or_file (user, "client-certificate-data", "client-certificate", dir,
                                   "client certificate", &local_error);
  if (local_error == NULL)
    config->key_pem =
        data_or_file (user, "client-key-data", "client-key", dir, "client key", &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  if (string_member (user, "token") != NULL)
    config->token = g_strdup (string_member (user, "token"));
  else if (token_file != NULL)
    {
      g_autofree char *path = g_path_is_absolute (token_file)
                                  ? g_strdup (token_file)
                                  : g_build_filename (dir, token_file, NULL);
      g_autofree char *text = NULL;

      if (!g_file_get_contents (path, &text, NULL, error))
        {
          g_prefix_error (error, "Could not read the kubeconfig's tokenFile: ");
          return FALSE;
        }
      config->token = g_strdup (g_strstrip (text));
    }
  if ((config->cert_pem == NULL) != (config->key_pem == NULL))
    {
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_INVALID_INPUT,
                   "The kubeconfig user “%s” has a client certificate without its key (or a "
                   "key without its certificate): give both",
                   config->user);
      return FALSE;
    }
  return TRUE;
}

static gboolean
read_cluster (AgentExecKubeConfig *config, JsonObject *cluster, const char *dir, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  const char *server = string_member (cluster, "server");
  const char *insecure = string_member (cluster, "insecure-skip-tls-verify");

  if (server != NULL)
    config->server = g_strdup (server);
  config->insecure_skip_tls_verify = insecure != NULL && g_ascii_strcasecmp (insecure, "true") == 0;
  config->ca_pem = data_or_file (cluster, "certificate-authority-data", "certificate-authority",
                                 dir, "certificate authority", &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  return TRUE;
}

static gboolean
resolve_context (AgentExecKubeConfig *config,
                 Merged *merged,
                 const char *context_name,
                 GError **error)
{
  JsonObject *context = g_hash_table_lookup (merged->contexts, context_name);
  const char *cluster_name = string_member (context, "cluster");
  const char *user_name = string_member (context, "user");
  JsonObject *cluster, *user;

  if (context == NULL)
    {
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_INVALID_INPUT,
                   "The kubeconfig (%s) has no context “%s”: list them with `kubectl config "
                   "get-contexts`, and set the context property to one of them",
                   merged->paths, context_name);
      return FALSE;
    }
  cluster = cluster_name != NULL ? g_hash_table_lookup (merged->clusters, cluster_name) : NULL;
  if (cluster == NULL)
    {
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_INVALID_INPUT,
                   "The kubeconfig context “%s” names cluster “%s”, which the kubeconfig (%s) "
                   "does not define",
                   context_name, cluster_name != NULL ? cluster_name : "", merged->paths);
      return FALSE;
    }
  if (string_member (context, "namespace") != NULL)
    config->namespace_ = g_strdup (string_member (context, "namespace"));
  config->user = g_strdup (user_name != NULL ? user_name : "(none)");
  if (!read_cluster (config, cluster, g_hash_table_lookup (merged->dirs, cluster), error))
    return FALSE;
  user = user_name != NULL ? g_hash_table_lookup (merged->users, user_name) : NULL;
  if (user_name != NULL && user == NULL)
    {
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_INVALID_INPUT,
                   "The kubeconfig context “%s” names user “%s”, which the kubeconfig (%s) does "
                   "not define",
                   context_name, user_name, merged->paths);
      return FALSE;
    }
  return user == NULL || read_user (config, user, g_hash_table_lookup (merged->dirs, user), error);
}

static char *
join_paths (GPtrArray *paths)
{
  GString *text = g_string_new (NULL);

  for (guint i = 0; i < paths->len; i++)
    g_string_append_printf (text, "%s%s", i > 0 ? G_SEARCHPATH_SEPARATOR_S : "",
                            (const char *) g_ptr_array_index (paths, i));
  return g_string_free (text, FALSE);
}

static AgentExecKubeConfig *
load_kubeconfig (GPtrArray *paths, const char *context_name, GError **error)
{
  g_autoptr (AgentExecKubeConfig) config = g_new0 (AgentExecKubeConfig, 1);
  Merged merged = { 0 };
  gboolean ok = TRUE;

  merged.clusters = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  merged.users = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  merged.contexts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  merged.dirs = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  merged.roots = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  merged.paths = join_paths (paths);
  for (guint i = 0; ok && i < paths->len; i++)
    ok = merge_file (&merged, g_ptr_array_index (paths, i), error);
  if (ok && context_name == NULL)
    context_name = merged.current_context;
  if (ok && context_name == NULL)
    {
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_INVALID_INPUT,
                   "The kubeconfig (%s) sets no current-context: run `kubectl config "
                   "use-context NAME` or set the context property",
                   merged.paths);
      ok = FALSE;
    }
  if (ok)
    ok = resolve_context (config, &merged, context_name, error);
  if (ok)
    config->source = g_strdup_printf ("kubeconfig %s (context “%s”)", merged.paths, context_name);
  merged_clear (&merged);
  return ok ? g_steal_pointer (&config) : NULL;
}

/*
 * _agentexec_kube_config_load_in_cluster:
 * @service_account_dir: (nullable): where the token, ca.crt and namespace are;
 *   NULL for the standard /var/run/secrets/kubernetes.io/serviceaccount
 *
 * The configuration of a pod's own service account: KUBERNETES_SERVICE_HOST
 * and _PORT, with the mounted token and CA.
 */
AgentExecKubeConfig *
_agentexec_kube_config_load_in_cluster (const char *service_account_dir, GError **error)
{
  g_autoptr (AgentExecKubeConfig) config = g_new0 (AgentExecKubeConfig, 1);
  const char *host = g_getenv ("KUBERNETES_SERVICE_HOST");
  const char *port = g_getenv ("KUBERNETES_SERVICE_PORT");
  const char *dir = service_account_dir != NULL ? service_account_dir : SERVICE_ACCOUNT_DIR;
  g_autofree char *token_path = g_build_filename (dir, "token", NULL);
  g_autofree char *ca_path = g_build_filename (dir, "ca.crt", NULL);
  g_autofree char *ns_path = g_build_filename (dir, "namespace", NULL);
  g_autofree char *token = NULL;
  g_autofree char *ca = NULL;
  g_autofree char *ns = NULL;
  gsize ca_len = 0;

  if (host == NULL || host[0] == '\0' || port == NULL || port[0] == '\0')
    {
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_BACKEND_UNAVAILABLE,
                   "Not running in a Kubernetes pod (KUBERNETES_SERVICE_HOST/PORT unset)");
      return NULL;
    }
  if (!g_file_get_contents (token_path, &token, NULL, error) ||
      !g_file_get_contents (ca_path, &ca, &ca_len, error))
    {
      g_prefix_error (error, "In-cluster configuration: the pod's service-account token or CA "
                             "is missing (is automountServiceAccountToken off?): ");
      return NULL;
    }
  if (g_file_get_contents (ns_path, &ns, NULL, NULL))
    config->namespace_ = g_strdup (g_strstrip (ns));
  config->server = strchr (host, ':') != NULL ? g_strdup_printf ("https://[%s]:%s", host, port)
                                              : g_strdup_printf ("https://%s:%s", host, port);
  config->token = g_strdup (g_strstrip (token));
  config->ca_pem = g_bytes_new_take (g_steal_pointer (&ca), ca_len);
  config->user = g_strdup ("the pod's service account");
  config->source = g_strdup_printf ("in-cluster service account (%s)", dir);
  return g_steal_pointer (&config);
}

static gboolean
in_cluster_available (void)
{
  const char *host = g_getenv ("KUBERNETES_SERVICE_HOST");

  return host != NULL && host[0] != '\0';
}

static void
apply_overrides (AgentExecKubeConfig *config, const AgentExecKubeConfigOverrides *overrides)
{
  if (overrides->server != NULL)
    {
      g_free (config->server);
      config->server = g_strdup (overrides->server);
    }
  if (overrides->namespace_ != NULL)
    {
      g_free (config->namespace_);
      config->namespace_ = g_strdup (overrides->namespace_);
    }
  if (overrides->token != NULL)
    {
      g_free (config->token);
      config->token = g_strdup (overrides->token);
    }
  if (config->namespace_ == NULL || config->namespace_[0] == '\0')
    {
      g_free (config->namespace_);
      config->namespace_ = g_strdup ("default");
    }
  while (config->server != NULL && g_str_has_suffix (config->server, "/"))
    config->server[strlen (config->server) - 1] = '\0';
}

/*
 * _agentexec_kube_config_load:
 *
 * The kubeconfig named by @overrides->kubeconfig, else the files of
 * KUBECONFIG, else ~/.kube/config, else the in-cluster service account;
 * then the overrides. Fails with a message that says where it looked.
 */
AgentExecKubeConfig *
_agentexec_kube_config_load (const AgentExecKubeConfigOverrides *overrides, GError **error)
{
  g_autoptr (GPtrArray) paths = kubeconfig_paths (overrides->kubeconfig);
  g_autoptr (AgentExecKubeConfig) config = NULL;

  if (overrides->kubeconfig != NULL && overrides->kubeconfig[0] != '\0' &&
      !g_file_test (overrides->kubeconfig, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_BACKEND_UNAVAILABLE,
                   "The kubeconfig %s does not exist: give the path of a kubeconfig for your "
                   "cluster (kubeconfig property, KUBECONFIG)",
                   overrides->kubeconfig);
      return NULL;
    }
  if (paths->len > 0)
    config = load_kubeconfig (paths, overrides->context, error);
  else if (in_cluster_available ())
    config = _agentexec_kube_config_load_in_cluster (
        g_getenv ("AGENTEXEC_KUBERNETES_SERVICE_ACCOUNT_DIR"), error);
  else if (overrides->server != NULL)
    {
      config = g_new0 (AgentExecKubeConfig, 1);
      config->source = g_strdup ("the server property");
      config->user = g_strdup (overrides->token != NULL ? "(token property)" : "(anonymous)");
    }
  else
    g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_BACKEND_UNAVAILABLE,
                 "No Kubernetes configuration found: no kubeconfig (KUBECONFIG is %s, "
                 "~/.kube/config is missing) and not running in a pod "
                 "(KUBERNETES_SERVICE_HOST unset). Point KUBECONFIG or the kubeconfig property "
                 "at your cluster's kubeconfig (try scripts/start-kube-test.sh for a test "
                 "server)",
                 g_getenv ("KUBECONFIG") != NULL && g_getenv ("KUBECONFIG")[0] != '\0'
                     ? "set but names no existing file"
                     : "unset");
  if (config == NULL)
    return NULL;
  apply_overrides (config, overrides);
  if (config->server == NULL || config->server[0] == '\0')
    {
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_INVALID_INPUT,
                   "The %s names no API server: set the cluster's server in the kubeconfig or "
                   "the server property",
                   config->source);
      return NULL;
    }
  if (!g_str_has_prefix (config->server, "https://") &&
      !g_str_has_prefix (config->server, "http://"))
    {
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_INVALID_INPUT,
                   "The API server address “%s” (from the %s) is not an http:// or https:// URL",
                   config->server, config->source);
      return NULL;
    }
  return g_steal_pointer (&config);
}
