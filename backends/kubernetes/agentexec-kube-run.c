/* agentexec-kube-run.c: running code in a pod through the API server's pod proxy
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The pod runs `agentexec serve` (the E2B code-interpreter protocol). A run
 * is POST /api/v1/namespaces/NS/pods/POD:PORT/proxy/execute, whose answer is
 * NDJSON read as it streams: stdout/stderr events are delivered while the
 * code runs, `error` becomes stderr and a non-zero exit, PNG results become
 * output files, `end_of_execution` ends it. The pod's secret goes in
 * E2B-Traffic-Access-Token: the API server strips Authorization.
 */

#include "config.h"

#include <string.h>

#include "agentexec-base-executor-private.h"
#include "agentexec-code-executor-private.h"
#include "agentexec-enums.h"
#include "agentexec-execution-result-private.h"
#include "agentexec-file.h"
#include "agentexec-kube-run-private.h"

#define PROXY_GRACE_MS 10000

typedef struct
{
  AgentExecKubernetesExecutor *executor;
  AgentExecExecutionInput *input;
  GMainContext *output_context;
  GString *out;
  GString *err;
  guint64 max_bytes;
  gboolean out_truncated;
  gboolean err_truncated;
  gboolean ended;
  gboolean failed;
  guint figures;
  char *executor_error; /* the pod's backend failed, not the code */
  AgentExecExecutionResult *result;
} Run;

static void
append_capped (Run *run, AgentExecStream stream, const char *text, gsize len)
{
  GString *buffer = stream == AGENTEXEC_STREAM_STDOUT ? run->out : run->err;
  gboolean *truncated =
      stream == AGENTEXEC_STREAM_STDOUT ? &run->out_truncated : &run->err_truncated;
  gsize room = run->max_bytes > buffer->len ? run->max_bytes - buffer->len : 0;

  if (run->max_bytes == 0)
    room = len;
  if (len > room)
    *truncated = TRUE;
  g_string_append_len (buffer, text, MIN (len, room));
  _agentexec_code_executor_emit_output_in (AGENTEXEC_CODE_EXECUTOR (run->executor),
                                           run->output_context, run->input, stream, text, len);
}

static void
on_error_event (Run *run, JsonObject *event)
{
  const char *name = _agentexec_kube_get_string (event, "name");
  const char *value = _agentexec_kube_get_string (event, "value");
  const char *traceback = _agentexec_kube_get_string (event, "traceback");
  g_autofree char *text = NULL;

  /* The pod's server could not run the code at all (its own backend
   * failed): that is this backend's failure, not the code's, and must not
   * look like a run that printed nothing. */
  if (g_strcmp0 (name, "ExecutorError") == 0 && run->executor_error == NULL)
    run->executor_error = g_strdup (value != NULL ? value : "");
  run->failed = TRUE;
  if (traceback != NULL && traceback[0] != '\0')
    text = g_str_has_suffix (traceback, "\n") ? g_strdup (traceback)
                                              : g_strconcat (traceback, "\n", NULL);
  else
    text = g_strdup_printf ("%s: %s\n", name != NULL ? name : "Error", value != NULL ? value : "");
  append_capped (run, AGENTEXEC_STREAM_STDERR, text, strlen (text));
}

static void
on_result_event (Run *run, JsonObject *event)
{
  const char *png = _agentexec_kube_get_string (event, "png");
  g_autofree guchar *data = NULL;
  g_autofree char *name = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (AgentExecFile) file = NULL;
  gsize len = 0;

  if (png == NULL)
    return;
  data = g_base64_decode (png, &len);
  if (len == 0)
    return;
  name = g_strdup_printf ("figure_%u.png", ++run->figures);
  bytes = g_bytes_new_take (g_steal_pointer (&data), len);
  file = agentexec_file_new (name, "image/png", bytes);
  _agentexec_execution_result_add_output_file (run->result, file);
}

static gboolean
on_line (const char *line, gsize len, gpointer user_data)
{
  Run *run = user_data;
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *event;
  const char *type, *text;

  if (!json_parser_load_from_data (parser, line, len, NULL) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_debug ("The pod's server sent a line that is not a JSON object; ignored");
      return TRUE;
    }
  event = json_node_get_object (json_parser_get_root (parser));
  type = _agentexec_kube_get_string (event, "type");
  text = _agentexec_kube_get_string (event, "text");
  if (type == NULL)
    return TRUE;
  if (g_str_equal (type, "stdout") && text != NULL)
    append_capped (run, AGENTEXEC_STREAM_STDOUT, text, strlen (text));
  else if (g_str_equal (type, "stderr") && text != NULL)
    append_capped (run, AGENTEXEC_STREAM_STDERR, text, strlen (text));
  else if (g_str_equal (type, "error"))
    on_error_event (run, event);
  else if (g_str_equal (type, "result"))
    on_result_event (run, event);
  else if (g_str_equal (type, "end_of_execution"))
    {
      run->ended = TRUE;
      return FALSE;
    }
  return TRUE;
}

static JsonNode *
execute_body (AgentExecExecutionInput *input, const char *language, const char *context_id)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  const char *const *env = agentexec_execution_input_get_env (input);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "code");
  json_builder_add_string_value (b, agentexec_execution_input_get_code (input));
  json_builder_set_member_name (b, context_id != NULL ? "context_id" : "language");
  json_builder_add_string_value (b, context_id != NULL ? context_id : language);
  if (env != NULL && env[0] != NULL)
    {
      json_builder_set_member_name (b, "env_vars");
      json_builder_begin_object (b);
      for (guint i = 0; env[i] != NULL; i++)
        {
          const char *eq = strchr (env[i], '=');
          g_autofree char *key = eq != NULL ? g_strndup (env[i], eq - env[i]) : NULL;

          if (key == NULL || key[0] == '\0')
            continue;
          json_builder_set_member_name (b, key);
          json_builder_add_string_value (b, eq + 1);
        }
      json_builder_end_object (b);
    }
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static char *
proxy_path (AgentExecKubernetesExecutor *self, const char *pod, const char *what)
{
  g_autofree char *target =
      g_strdup_printf ("%s:%u", pod, _agentexec_kubernetes_executor_get_port (self));
  g_autofree char *suffix = g_strdup_printf ("/proxy/%s", what);

  return _agentexec_kube_client_pods_path (_agentexec_kubernetes_executor_get_client (self), target,
                                           suffix);
}

static gboolean
check_input (AgentExecExecutionInput *input, GError **error)
{
  GPtrArray *files = agentexec_execution_input_get_files (input);
  const char *const *argv = agentexec_execution_input_get_argv (input);

  if (files != NULL && files->len > 0)
    {
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_INVALID_INPUT,
                   "The Kubernetes backend cannot pass input files yet (the pod's E2B server "
                   "has no file API): embed the data in the code, or use the container backend");
      return FALSE;
    }
  if (argv != NULL && argv[0] != NULL)
    {
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_INVALID_INPUT,
                   "The Kubernetes backend runs code in an interpreter session and takes no "
                   "argv: set sys.argv (or the like) in the code instead");
      return FALSE;
    }
  return TRUE;
}

/*
 * Runs @input in @pod. Returns the result (DEADLINE_EXCEEDED with the
 * output so far at the timeout; *timed_out set), or NULL with an error when
 * the pod could not be reached or the stream ended before end_of_execution.
 */
static AgentExecExecutionResult *
execute_in_pod (AgentExecKubernetesExecutor *self,
                AgentExecKubeClaim *claim,
                AgentExecExecutionInput *input,
                const char *language,
                const char *context_id,
                GMainContext *output_context,
                gboolean *timed_out,
                GCancellable *cancellable,
                GError **error)
{
  AgentExecBaseExecutor *base = AGENTEXEC_BASE_EXECUTOR (self);
  g_autoptr (AgentExecExecutionResult) result = _agentexec_execution_result_new_empty ();
  g_autoptr (JsonNode) body = execute_body (input, language, context_id);
  g_autofree char *path = proxy_path (self, claim->name, "execute");
  g_autofree char *token_header = g_strdup_printf ("E2B-Traffic-Access-Token: %s", claim->token);
  const char *headers[] = { token_header, "Accept: application/x-ndjson", NULL };
  guint timeout_ms = _agentexec_base_executor_effective_timeout_ms (base, input);
  g_autoptr (GError) local_error = NULL;
  g_autofree char *executor_error = NULL;
  Run run = { self,
              input,
              output_context,
              g_string_new (NULL),
              g_string_new (NULL),
              agentexec_base_executor_get_max_output_bytes (base) };
  gboolean ok;

  run.result = result;
  *timed_out = FALSE;
  ok = _agentexec_kube_client_stream (_agentexec_kubernetes_executor_get_client (self), "POST",
                                      path, headers, body, timeout_ms, on_line, &run, NULL,
                                      cancellable, &local_error);
  executor_error = g_steal_pointer (&run.executor_error);
  memset (token_header, 0, strlen (token_header));
  _agentexec_execution_result_set_stdout (result, run.out->str, run.out->len);
  _agentexec_execution_result_set_stderr (result, run.err->str, run.err->len);
  _agentexec_execution_result_set_truncated (result, run.out_truncated, run.err_truncated);
  g_string_free (run.out, TRUE);
  g_string_free (run.err, TRUE);
  if (!ok && g_error_matches (local_error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_TIMEOUT))
    {
      *timed_out = TRUE;
      _agentexec_execution_result_set_outcome (result, AGENTEXEC_OUTCOME_DEADLINE_EXCEEDED);
      _agentexec_execution_result_set_exit_code (result, -1);
      return g_steal_pointer (&result);
    }
  if (!ok)
    {
      g_propagate_prefixed_error (
          error, g_steal_pointer (&local_error),
          "Running code in pod %s through the API server's proxy: ", claim->name);
      return NULL;
    }
  if (executor_error != NULL)
    {
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_FAILED,
                   "The server in pod %s could not run the code: %s (check the pod's image "
                   "and the agentexec serve options of its template)",
                   claim->name, executor_error);
      return NULL;
    }
  if (!run.ended)
    {
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_BACKEND_UNAVAILABLE,
                   "The answer from pod %s ended before end_of_execution (the pod or the "
                   "connection went away mid-run)",
                   claim->name);
      return NULL;
    }
  _agentexec_execution_result_set_exit_code (result, run.failed ? 1 : 0);
  return g_steal_pointer (&result);
}

/* Stateless: a pod of its own for every run, deleted afterwards */

AgentExecExecutionResult *
_agentexec_kube_run_stateless (AgentExecKubernetesExecutor *self,
                               AgentExecExecutionInput *input,
                               const char *language,
                               GMainContext *output_context,
                               GCancellable *cancellable,
                               GError **error)
{
  g_autoptr (AgentExecKubeClaim) claim = NULL;
  AgentExecExecutionResult *result;
  gboolean timed_out = FALSE;

  if (!check_input (input, error))
    return NULL;
  claim = _agentexec_kube_pool_claim (_agentexec_kubernetes_executor_get_pool (self), cancellable,
                                      error);
  if (claim == NULL)
    return NULL;
  result = execute_in_pod (self, claim, input, language, NULL, output_context, &timed_out,
                           cancellable, error);
  /* Used once, whatever happened: deleting it also ends code that outlived a
   * timeout. */
  _agentexec_kubernetes_executor_delete_later (self, claim->name);
  return result;
}

/* Stateful: one claimed pod per execution-id, one E2B context per language */

typedef struct
{
  AgentExecKubeClaim *claim;
  GHashTable *contexts; /* language -> context id */
  GMutex lock;          /* one run at a time per session */
  gboolean restarted;
} Session;

struct _AgentExecKubeSessions
{
  GMutex lock;
  GHashTable *sessions; /* execution-id -> Session */
};

static void
session_free (Session *session)
{
  _agentexec_kube_claim_free (session->claim);
  g_hash_table_unref (session->contexts);
  g_mutex_clear (&session->lock);
  g_free (session);
}

AgentExecKubeSessions *
_agentexec_kube_sessions_new (void)
{
  AgentExecKubeSessions *sessions = g_new0 (AgentExecKubeSessions, 1);

  g_mutex_init (&sessions->lock);
  sessions->sessions =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) session_free);
  return sessions;
}

void
_agentexec_kube_sessions_close (AgentExecKubeSessions *sessions, AgentExecKubeClient *client)
{
  GHashTableIter iter;
  gpointer value;

  g_mutex_lock (&sessions->lock);
  g_hash_table_iter_init (&iter, sessions->sessions);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Session *session = value;

      g_mutex_lock (&session->lock);
      if (session->claim != NULL && client != NULL)
        _agentexec_kube_delete_pod (client, session->claim->name, NULL, NULL);
      g_mutex_unlock (&session->lock);
    }
  g_hash_table_remove_all (sessions->sessions);
  g_mutex_unlock (&sessions->lock);
}

/*
 * _agentexec_kube_sessions_end:
 *
 * Ends the session of @execution_id: its pod is deleted (after a run in
 * flight, which holds the session's lock, has finished).
 */
void
_agentexec_kube_sessions_end (AgentExecKubeSessions *sessions,
                              AgentExecKubernetesExecutor *self,
                              const char *execution_id)
{
  Session *session;

  g_mutex_lock (&sessions->lock);
  session = g_hash_table_lookup (sessions->sessions, execution_id);
  if (session != NULL)
    g_hash_table_steal (sessions->sessions, execution_id);
  g_mutex_unlock (&sessions->lock);
  if (session == NULL)
    return;
  g_mutex_lock (&session->lock);
  if (session->claim != NULL)
    _agentexec_kubernetes_executor_delete_later (self, session->claim->name);
  g_mutex_unlock (&session->lock);
  session_free (session);
}

void
_agentexec_kube_sessions_free (AgentExecKubeSessions *sessions)
{
  if (sessions == NULL)
    return;
  g_hash_table_unref (sessions->sessions);
  g_mutex_clear (&sessions->lock);
  g_free (sessions);
}

static Session *
lookup_session (AgentExecKubeSessions *sessions, const char *id)
{
  Session *session;

  g_mutex_lock (&sessions->lock);
  session = g_hash_table_lookup (sessions->sessions, id);
  if (session == NULL)
    {
      session = g_new0 (Session, 1);
      session->contexts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
      g_mutex_init (&session->lock);
      g_hash_table_insert (sessions->sessions, g_strdup (id), session);
    }
  g_mutex_unlock (&sessions->lock);
  return session;
}

static gboolean
line_to_node (const char *line, gsize len, gpointer user_data)
{
  GString *text = user_data;

  g_string_append_len (text, line, len);
  return TRUE;
}

static char *
create_context (AgentExecKubernetesExecutor *self,
                Session *session,
                const char *language,
                GCancellable *cancellable,
                GError **error)
{
  g_autofree char *path = proxy_path (self, session->claim->name, "contexts");
  g_autofree char *token_header =
      g_strdup_printf ("E2B-Traffic-Access-Token: %s", session->claim->token);
  const char *headers[] = { token_header, NULL };
  g_autoptr (JsonNode) body = json_node_new (JSON_NODE_OBJECT);
  g_autoptr (JsonObject) object = json_object_new ();
  g_autoptr (GString) answer = g_string_new (NULL);
  g_autoptr (JsonParser) parser = json_parser_new ();
  const char *id = NULL;

  json_object_set_string_member (object, "language", language);
  /* No cwd: the server's own, the pod's workingDir (/workspace). */
  json_node_set_object (body, object);
  if (!_agentexec_kube_client_stream (_agentexec_kubernetes_executor_get_client (self), "POST",
                                      path, headers, body, 60000, line_to_node, answer, NULL,
                                      cancellable, error))
    return NULL;
  if (json_parser_load_from_data (parser, answer->str, answer->len, NULL) &&
      JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    id = _agentexec_kube_get_string (json_node_get_object (json_parser_get_root (parser)), "id");
  if (id == NULL)
    g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_PROTOCOL,
                 "The server in pod %s answered POST /contexts without a context id",
                 session->claim->name);
  return g_strdup (id);
}

static void
drop_pod (AgentExecKubernetesExecutor *self, Session *session)
{
  if (session->claim == NULL)
    return;
  _agentexec_kubernetes_executor_delete_later (self, session->claim->name);
  g_clear_pointer (&session->claim, _agentexec_kube_claim_free);
  g_hash_table_remove_all (session->contexts);
  session->restarted = TRUE;
}

static const char *
ensure_context (AgentExecKubernetesExecutor *self,
                Session *session,
                const char *language,
                gboolean *fresh,
                GCancellable *cancellable,
                GError **error)
{
  char *id;

  *fresh = FALSE;
  if (session->claim == NULL)
    {
      session->claim = _agentexec_kube_pool_claim (_agentexec_kubernetes_executor_get_pool (self),
                                                   cancellable, error);
      if (session->claim == NULL)
        return NULL;
      *fresh = TRUE;
    }
  id = g_hash_table_lookup (session->contexts, language);
  if (id != NULL)
    return id;
  id = create_context (self, session, language, cancellable, error);
  if (id == NULL)
    return NULL;
  g_hash_table_insert (session->contexts, g_strdup (language), id);
  return id;
}

AgentExecExecutionResult *
_agentexec_kube_run_stateful (AgentExecKubernetesExecutor *self,
                              AgentExecKubeSessions *sessions,
                              AgentExecExecutionInput *input,
                              const char *language,
                              GMainContext *output_context,
                              GCancellable *cancellable,
                              GError **error)
{
  const char *id = agentexec_execution_input_get_execution_id (input);
  AgentExecExecutionResult *result = NULL;
  const char *context_id;
  gboolean timed_out = FALSE, fresh = FALSE;
  Session *session;

  if (!check_input (input, error))
    return NULL;
  session = lookup_session (sessions, id != NULL ? id : "");
  g_mutex_lock (&session->lock);
  context_id = ensure_context (self, session, language, &fresh, cancellable, error);
  if (context_id != NULL)
    result = execute_in_pod (self, session->claim, input, language, context_id, output_context,
                             &timed_out, cancellable, error);
  if (result != NULL && session->restarted && fresh)
    _agentexec_execution_result_set_session_restarted (result, TRUE);
  if (result != NULL && fresh)
    session->restarted = FALSE;
  /* A timed-out session's interpreter is interrupted in the pod; the pod is
   * deleted as well so that nothing it started lives on. The next run gets
   * a fresh pod (and says so). A pod that went away goes the same way. */
  if (timed_out || (result == NULL && session->claim != NULL))
    drop_pod (self, session);
  g_mutex_unlock (&session->lock);
  return result;
}
