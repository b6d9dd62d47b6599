/* agentexec-kube-pod.c: the secure pod template, labels, and reading a pod's status
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "agentexec-kube-client-private.h"
#include "agentexec-kube-pod-private.h"

/*
 * _agentexec_kube_label_value:
 *
 * @text made a valid label value: at most 63 of [A-Za-z0-9._-], starting
 * and ending with an alphanumeric character.
 */
char *
_agentexec_kube_label_value (const char *text)
{
  GString *out = g_string_new (NULL);

  for (const char *p = text; *p != '\0' && out->len < 63; p++)
    g_string_append_c (out, g_ascii_isalnum (*p) || *p == '.' || *p == '_' || *p == '-' ? *p : '-');
  while (out->len > 0 && !g_ascii_isalnum (out->str[out->len - 1]))
    g_string_truncate (out, out->len - 1);
  while (out->len > 0 && !g_ascii_isalnum (out->str[0]))
    g_string_erase (out, 0, 1);
  if (out->len == 0)
    g_string_append (out, "x");
  return g_string_free (out, FALSE);
}

/*
 * _agentexec_kube_owner_start:
 *
 * The start time of process @pid (field 22 of /proc/PID/stat), so that a
 * reused pid is not taken for the owner; NULL when it is gone.
 */
char *
_agentexec_kube_owner_start (guint pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%u/stat", pid);
  g_autofree char *text = NULL;
  g_auto (GStrv) fields = NULL;
  const char *after;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return NULL;
  after = strrchr (text, ')');
  if (after == NULL)
    return NULL;
  fields = g_strsplit (after + 2, " ", -1);
  /* after "pid (comm) ", state is field 3: starttime (22) is index 19 here */
  if (g_strv_length (fields) < 20)
    return NULL;
  return g_strdup (fields[19]);
}

static void
add_string (JsonBuilder *b, const char *name, const char *value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_string_value (b, value);
}

static void
add_labels (JsonBuilder *b, const AgentExecKubePodSpec *spec, const char *state)
{
  g_autofree char *pool = _agentexec_kube_label_value (spec->pool);
  g_autofree char *host = _agentexec_kube_label_value (spec->owner_host);
  g_autofree char *pid = g_strdup_printf ("%u", spec->owner_pid);

  json_builder_set_member_name (b, "labels");
  json_builder_begin_object (b);
  add_string (b, AGENTEXEC_KUBE_LABEL_MANAGED, AGENTEXEC_KUBE_MANAGED_VALUE);
  add_string (b, "app.kubernetes.io/name", "agentexec-sandbox");
  add_string (b, AGENTEXEC_KUBE_LABEL_POOL, pool);
  add_string (b, AGENTEXEC_KUBE_LABEL_STATE, state);
  add_string (b, AGENTEXEC_KUBE_LABEL_OWNER, spec->owner);
  add_string (b, AGENTEXEC_KUBE_LABEL_OWNER_HOST, host);
  add_string (b, AGENTEXEC_KUBE_LABEL_OWNER_PID, pid);
  json_builder_end_object (b);
}

static void
add_metadata (JsonBuilder *b, const AgentExecKubePodSpec *spec, const char *state)
{
  json_builder_set_member_name (b, "metadata");
  json_builder_begin_object (b);
  add_string (b, "generateName", "agentexec-");
  add_labels (b, spec, state);
  json_builder_set_member_name (b, "annotations");
  json_builder_begin_object (b);
  if (spec->owner_start != NULL)
    add_string (b, AGENTEXEC_KUBE_ANNOTATION_OWNER_START, spec->owner_start);
  json_builder_end_object (b);
  json_builder_end_object (b);
}

static void
add_resources (JsonBuilder *b, const AgentExecKubePodSpec *spec)
{
  json_builder_set_member_name (b, "resources");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "requests");
  json_builder_begin_object (b);
  add_string (b, "cpu", spec->cpu_request);
  add_string (b, "memory", spec->memory_request);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "limits");
  json_builder_begin_object (b);
  add_string (b, "cpu", spec->cpu_limit);
  add_string (b, "memory", spec->memory_limit);
  add_string (b, "ephemeral-storage", spec->ephemeral_storage_limit);
  json_builder_end_object (b);
  json_builder_end_object (b);
}

static void
add_security_context (JsonBuilder *b, const AgentExecKubePodSpec *spec)
{
  json_builder_set_member_name (b, "securityContext");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "runAsNonRoot");
  json_builder_add_boolean_value (b, TRUE);
  json_builder_set_member_name (b, "runAsUser");
  json_builder_add_int_value (b, spec->run_as_user);
  json_builder_set_member_name (b, "runAsGroup");
  json_builder_add_int_value (b, spec->run_as_user);
  json_builder_set_member_name (b, "readOnlyRootFilesystem");
  json_builder_add_boolean_value (b, TRUE);
  json_builder_set_member_name (b, "allowPrivilegeEscalation");
  json_builder_add_boolean_value (b, FALSE);
  json_builder_set_member_name (b, "privileged");
  json_builder_add_boolean_value (b, FALSE);
  json_builder_set_member_name (b, "capabilities");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "drop");
  json_builder_begin_array (b);
  json_builder_add_string_value (b, "ALL");
  json_builder_end_array (b);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "seccompProfile");
  json_builder_begin_object (b);
  add_string (b, "type", "RuntimeDefault");
  json_builder_end_object (b);
  json_builder_end_object (b);
}

static void
add_mount (JsonBuilder *b, const char *name, const char *path)
{
  json_builder_begin_object (b);
  add_string (b, "name", name);
  add_string (b, "mountPath", path);
  json_builder_end_object (b);
}

/* The pod's command, run directly (the image needs no shell): the server
 * takes its token from the environment (--token-env, which it unsets before
 * running any code), so the token is in neither the command line nor a
 * file. The pod is the sandbox: inside a container the local backend's own
 * kernel sandbox cannot start (a container's /proc is masked, so a fresh
 * proc cannot be mounted: "mounting proc at /proc: Operation not
 * permitted", seen under podman kube play), so it runs without it. */
static void
add_command (JsonBuilder *b, const AgentExecKubePodSpec *spec)
{
  g_autofree char *listen = g_strdup_printf ("0.0.0.0:%u", spec->port);
  g_autofree char *timeout = g_strdup_printf ("%u", spec->run_timeout_s);
  const char *argv[] = { "agentexec",
                         "serve",
                         "--listen",
                         listen,
                         "--backend",
                         "local",
                         "--no-sandbox",
                         "--allow-unsafe",
                         "--health-port",
                         "0",
                         "--token-env",
                         AGENTEXEC_KUBE_TOKEN_ENV,
                         NULL };

  json_builder_set_member_name (b, "command");
  json_builder_begin_array (b);
  for (guint i = 0; argv[i] != NULL; i++)
    json_builder_add_string_value (b, argv[i]);
  if (spec->run_timeout_s > 0)
    {
      json_builder_add_string_value (b, "--timeout");
      json_builder_add_string_value (b, timeout);
    }
  json_builder_end_array (b);
}

static void
add_container (JsonBuilder *b, const AgentExecKubePodSpec *spec, const char *token)
{
  json_builder_begin_object (b);
  add_string (b, "name", "sandbox");
  add_string (b, "image", spec->image);
  add_string (b, "imagePullPolicy", "IfNotPresent");
  add_command (b, spec);
  json_builder_set_member_name (b, "env");
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  add_string (b, "name", AGENTEXEC_KUBE_TOKEN_ENV);
  add_string (b, "value", token);
  json_builder_end_object (b);
  json_builder_begin_object (b);
  add_string (b, "name", "HOME");
  add_string (b, "value", "/tmp");
  json_builder_end_object (b);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "ports");
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  add_string (b, "name", "e2b");
  json_builder_set_member_name (b, "containerPort");
  json_builder_add_int_value (b, spec->port);
  add_string (b, "protocol", "TCP");
  json_builder_end_object (b);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "readinessProbe");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "httpGet");
  json_builder_begin_object (b);
  add_string (b, "path", "/health");
  json_builder_set_member_name (b, "port");
  json_builder_add_int_value (b, spec->port);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "periodSeconds");
  json_builder_add_int_value (b, 1);
  json_builder_end_object (b);
  add_resources (b, spec);
  add_security_context (b, spec);
  json_builder_set_member_name (b, "volumeMounts");
  json_builder_begin_array (b);
  add_mount (b, "tmp", "/tmp");
  add_mount (b, "workspace", "/workspace");
  json_builder_end_array (b);
  add_string (b, "workingDir", "/workspace");
  json_builder_end_object (b);
}

static void
add_volume (JsonBuilder *b, const char *name, const char *medium, const char *size)
{
  json_builder_begin_object (b);
  add_string (b, "name", name);
  json_builder_set_member_name (b, "emptyDir");
  json_builder_begin_object (b);
  if (medium != NULL)
    add_string (b, "medium", medium);
  add_string (b, "sizeLimit", size);
  json_builder_end_object (b);
  json_builder_end_object (b);
}

static void
add_pod_spec (JsonBuilder *b, const AgentExecKubePodSpec *spec, const char *token)
{
  json_builder_set_member_name (b, "spec");
  json_builder_begin_object (b);
  add_string (b, "restartPolicy", "Never");
  json_builder_set_member_name (b, "automountServiceAccountToken");
  json_builder_add_boolean_value (b, FALSE);
  json_builder_set_member_name (b, "enableServiceLinks");
  json_builder_add_boolean_value (b, FALSE);
  json_builder_set_member_name (b, "terminationGracePeriodSeconds");
  json_builder_add_int_value (b, 2);
  if (spec->max_lifetime_s > 0)
    {
      json_builder_set_member_name (b, "activeDeadlineSeconds");
      json_builder_add_int_value (b, spec->max_lifetime_s);
    }
  if (spec->runtime_class != NULL && spec->runtime_class[0] != '\0')
    add_string (b, "runtimeClassName", spec->runtime_class);
  json_builder_set_member_name (b, "securityContext");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "runAsNonRoot");
  json_builder_add_boolean_value (b, TRUE);
  json_builder_set_member_name (b, "seccompProfile");
  json_builder_begin_object (b);
  add_string (b, "type", "RuntimeDefault");
  json_builder_end_object (b);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "containers");
  json_builder_begin_array (b);
  add_container (b, spec, token);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "volumes");
  json_builder_begin_array (b);
  add_volume (b, "tmp", NULL, "256Mi");
  add_volume (b, "workspace", NULL, "1Gi");
  json_builder_end_array (b);
  json_builder_end_object (b);
}

/*
 * _agentexec_kube_pod_manifest:
 * @state: the state label (warm for the pool, claimed for a cold start)
 * @token: the pod's secret, which its server requires in
 *   E2B-Traffic-Access-Token
 *
 * The Pod object the backend creates: non-root, read-only root, no
 * capabilities, RuntimeDefault seccomp, no service-account token, requests
 * and limits, labels naming the pool and the owner.
 */
JsonNode *
_agentexec_kube_pod_manifest (const AgentExecKubePodSpec *spec,
                              const char *state,
                              const char *token)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  add_string (b, "apiVersion", "v1");
  add_string (b, "kind", "Pod");
  add_metadata (b, spec, state);
  add_pod_spec (b, spec, token);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

/* Status */

static JsonArray *
array_at (JsonObject *object, const char *a, const char *b)
{
  JsonNode *node;

  if (object == NULL || !json_object_has_member (object, a))
    return NULL;
  node = json_object_get_member (object, a);
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return NULL;
  object = json_node_get_object (node);
  if (!json_object_has_member (object, b))
    return NULL;
  node = json_object_get_member (object, b);
  return JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
}

static JsonObject *
element_object (JsonArray *array, guint i)
{
  JsonNode *node = json_array_get_element (array, i);

  return JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

const char *
_agentexec_kube_pod_label (JsonObject *pod, const char *label)
{
  JsonObject *metadata, *labels;
  JsonNode *node;

  if (!json_object_has_member (pod, "metadata"))
    return NULL;
  metadata = json_object_get_object_member (pod, "metadata");
  if (metadata == NULL || !json_object_has_member (metadata, "labels"))
    return NULL;
  node = json_object_get_member (metadata, "labels");
  labels = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
  /* Label keys hold dots: look the key up whole. */
  if (labels == NULL || !json_object_has_member (labels, label))
    return NULL;
  node = json_object_get_member (labels, label);
  return JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING
             ? json_node_get_string (node)
             : NULL;
}

gboolean
_agentexec_kube_pod_is_deleted (JsonObject *pod)
{
  return _agentexec_kube_get_string (pod, "metadata.deletionTimestamp") != NULL;
}

/*
 * _agentexec_kube_pod_is_ready:
 *
 * Running, its Ready condition True, and not being deleted.
 */
gboolean
_agentexec_kube_pod_is_ready (JsonObject *pod)
{
  JsonArray *conditions = array_at (pod, "status", "conditions");
  const char *phase = _agentexec_kube_get_string (pod, "status.phase");

  if (phase == NULL || !g_str_equal (phase, "Running") || _agentexec_kube_pod_is_deleted (pod))
    return FALSE;
  for (guint i = 0; conditions != NULL && i < json_array_get_length (conditions); i++)
    {
      JsonObject *c = element_object (conditions, i);
      const char *type = _agentexec_kube_get_string (c, "type");
      const char *status = _agentexec_kube_get_string (c, "status");

      if (type != NULL && status != NULL && g_str_equal (type, "Ready"))
        return g_str_equal (status, "True");
    }
  return FALSE;
}

static const char *const hopeless_waiting[] = {
  "ErrImagePull",      "ImagePullBackOff",           "InvalidImageName",
  "ErrImageNeverPull", "CreateContainerConfigError", "CreateContainerError",
  "RunContainerError", "CrashLoopBackOff",           NULL,
};

static char *
container_failure (JsonObject *pod)
{
  JsonArray *statuses = array_at (pod, "status", "containerStatuses");

  for (guint i = 0; statuses != NULL && i < json_array_get_length (statuses); i++)
    {
      JsonObject *s = element_object (statuses, i);
      const char *reason = _agentexec_kube_get_string (s, "state.waiting.reason");
      const char *message = _agentexec_kube_get_string (s, "state.waiting.message");
      const char *terminated = _agentexec_kube_get_string (s, "state.terminated.reason");

      if (reason != NULL && g_strv_contains (hopeless_waiting, reason))
        return g_strdup_printf ("%s: %s", reason, message != NULL ? message : "(no message)");
      if (terminated != NULL)
        {
          const char *tmessage = _agentexec_kube_get_string (s, "state.terminated.message");

          return g_strdup_printf ("its container terminated (%s%s%s)", terminated,
                                  tmessage != NULL ? ": " : "", tmessage != NULL ? tmessage : "");
        }
    }
  return NULL;
}

/*
 * _agentexec_kube_pod_failure:
 *
 * Why @pod will never become ready (the image cannot be pulled, it cannot
 * be scheduled, its container ended), or NULL while it still may.
 */
char *
_agentexec_kube_pod_failure (JsonObject *pod)
{
  JsonArray *conditions = array_at (pod, "status", "conditions");
  const char *phase = _agentexec_kube_get_string (pod, "status.phase");
  char *failure;

  if (phase != NULL && (g_str_equal (phase, "Failed") || g_str_equal (phase, "Succeeded")))
    {
      const char *reason = _agentexec_kube_get_string (pod, "status.reason");
      const char *message = _agentexec_kube_get_string (pod, "status.message");

      failure = container_failure (pod);
      if (failure != NULL || reason == NULL)
        return failure != NULL ? failure : g_strdup_printf ("the pod ended (%s)", phase);
      return g_strdup_printf ("%s: %s", reason, message != NULL ? message : phase);
    }
  if ((failure = container_failure (pod)) != NULL)
    return failure;
  for (guint i = 0; conditions != NULL && i < json_array_get_length (conditions); i++)
    {
      JsonObject *c = element_object (conditions, i);
      const char *type = _agentexec_kube_get_string (c, "type");
      const char *reason = _agentexec_kube_get_string (c, "reason");

      if (type != NULL && g_str_equal (type, "PodScheduled") && reason != NULL &&
          g_str_equal (reason, "Unschedulable"))
        {
          const char *message = _agentexec_kube_get_string (c, "message");

          return g_strdup_printf ("Unschedulable: %s", message != NULL ? message : "");
        }
    }
  return NULL;
}

/*
 * _agentexec_kube_pod_token:
 *
 * The pod's secret, from the environment of its container.
 */
char *
_agentexec_kube_pod_token (JsonObject *pod)
{
  JsonNode *spec_node =
      json_object_has_member (pod, "spec") ? json_object_get_member (pod, "spec") : NULL;
  JsonObject *spec = spec_node != NULL && JSON_NODE_HOLDS_OBJECT (spec_node)
                         ? json_node_get_object (spec_node)
                         : NULL;
  JsonNode *containers_node = spec != NULL && json_object_has_member (spec, "containers")
                                  ? json_object_get_member (spec, "containers")
                                  : NULL;
  JsonArray *containers = containers_node != NULL && JSON_NODE_HOLDS_ARRAY (containers_node)
                              ? json_node_get_array (containers_node)
                              : NULL;
  JsonObject *container = containers != NULL && json_array_get_length (containers) > 0
                              ? element_object (containers, 0)
                              : NULL;
  JsonNode *env_node = container != NULL && json_object_has_member (container, "env")
                           ? json_object_get_member (container, "env")
                           : NULL;
  JsonArray *env =
      env_node != NULL && JSON_NODE_HOLDS_ARRAY (env_node) ? json_node_get_array (env_node) : NULL;

  for (guint i = 0; env != NULL && i < json_array_get_length (env); i++)
    {
      JsonObject *item = element_object (env, i);
      const char *name = _agentexec_kube_get_string (item, "name");

      if (name != NULL && g_str_equal (name, AGENTEXEC_KUBE_TOKEN_ENV))
        return g_strdup (_agentexec_kube_get_string (item, "value"));
    }
  return NULL;
}
