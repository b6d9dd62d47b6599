/* agentexec-container-run.c: one stateless run in a fresh container
 *
 * The sequence: create (with an anonymous volume on /workspace, so that
 * input files can be copied in before start even with a read-only root),
 * copy the input files in, attach to stdout/stderr, start, stream until the
 * container exits or the deadline passes (then kill), inspect the exit,
 * copy /workspace out, remove the container and its volume.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "agentexec-base-executor-private.h"
#include "agentexec-code-executor-private.h"
#include "agentexec-container-labels-private.h"
#include "agentexec-container-pool-private.h"
#include "agentexec-container-run-private.h"
#include "agentexec-container-session-private.h"
#include "agentexec-container-workspace-private.h"
#include "agentexec-docker-archive-private.h"
#include "agentexec-execution-result-private.h"
#include "agentexec-file-private.h"

#define MAX_INLINE_CODE (64 * 1024)
/* Input files up to this many bytes in all go through the attached driver,
 * when it takes files; bigger ones through the engine's archive API. */
#define MAX_DRIVER_INPUT (16 * 1024 * 1024)
/* The driver reports the run's files up to this many bytes; more are copied
 * out through the archive API (whose own cap is the workspace's, 64 MiB). */
#define MAX_DRIVER_OUTPUT (16 * 1024 * 1024)
#define DRAIN_MS 5000

typedef struct
{
  const char *language;
  const char *program;
  const char *inline_flag;
  const char *file_name;
} Program;

static const Program programs[] = {
  { "python", "python3", "-c", "main.py" }, { "javascript", "node", "-e", "main.js" },
  { "bash", "bash", "-c", "main.sh" },      { "r", "Rscript", "-e", "main.R" },
  { "java", "java", NULL, "Main.java" },
};

typedef struct
{
  AgentExecContainerExecutor *self;
  AgentExecExecutionInput *input;
  GMainContext *output_context;
  GByteArray *kept[2];
  guint64 seen[2];
  guint64 max;
} Collect;

typedef struct
{
  AgentExecDockerClient *client;
  AgentExecContainerRuntime *runtime;
  char *id;
  char *base_path;
  gboolean timed_out;
  gboolean oom_killed;
  gboolean refused; /* the driver could not write the input files */
  int exit_code;
} Run;

static const Program *
find_program (const char *language)
{
  for (guint i = 0; i < G_N_ELEMENTS (programs); i++)
    if (g_str_equal (programs[i].language, language))
      return &programs[i];
  return NULL;
}

/* Command line; code that is too long for one argument goes in a file. */
static GStrv
build_argv (const Program *program, AgentExecExecutionInput *input, GPtrArray *files)
{
  g_autoptr (GStrvBuilder) argv = g_strv_builder_new ();
  const char *code = agentexec_execution_input_get_code (input);
  const char *const *args = agentexec_execution_input_get_argv (input);

  g_strv_builder_add (argv, program->program);
  if (program->inline_flag != NULL && strlen (code) <= MAX_INLINE_CODE)
    {
      g_strv_builder_add_many (argv, program->inline_flag, code, NULL);
      if (g_str_equal (program->language, "bash"))
        g_strv_builder_add (argv, "bash");
    }
  else
    {
      g_autofree char *name = g_strconcat (CODE_DIR "/", program->file_name, NULL);
      g_autoptr (GBytes) content = g_bytes_new (code, strlen (code));

      g_autofree char *path = g_strconcat (WORKSPACE "/", name, NULL);

      g_ptr_array_add (files, agentexec_file_new (name, "text/plain", content));
      g_strv_builder_add (argv, path);
    }
  if (args != NULL)
    g_strv_builder_addv (argv, (const char **) args);
  return g_strv_builder_end (argv);
}

/* Output */

static void
collect_frame (AgentExecStream stream, const char *data, gsize len, gpointer user_data)
{
  Collect *collect = user_data;
  GByteArray *kept = collect->kept[stream];
  gsize room = kept->len < collect->max ? (gsize) MIN (collect->max - kept->len, G_MAXSIZE) : 0;
  gsize take = MIN (room, len);

  collect->seen[stream] += len;
  if (take == 0)
    return;
  g_byte_array_append (kept, (const guint8 *) data, (guint) take);
  _agentexec_code_executor_emit_output_in (AGENTEXEC_CODE_EXECUTOR (collect->self),
                                           collect->output_context, collect->input, stream, data,
                                           take);
}

static void
append_notice (GByteArray *kept, const char *notice)
{
  if (kept->len > 0 && kept->data[kept->len - 1] != '\n')
    g_byte_array_append (kept, (const guint8 *) "\n", 1);
  g_byte_array_append (kept, (const guint8 *) notice, (guint) strlen (notice));
}

static void
note_truncation (Collect *collect, guint stream, const char *name)
{
  g_autofree char *notice = NULL;

  if (collect->seen[stream] <= collect->max)
    return;
  notice = g_strdup_printf ("[agentexec: %s truncated: %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
                            " bytes dropped (max-output-bytes is %" G_GUINT64_FORMAT ")]\n",
                            name, collect->seen[stream] - collect->max, collect->seen[stream],
                            collect->max);
  append_notice (collect->kept[stream], notice);
}

/* Engine calls */

static gboolean
post_empty (Run *run, const char *action, guint *status, GCancellable *cancellable, GError **error)
{
  g_autofree char *path = g_strconcat (run->base_path, action, NULL);
  g_autoptr (GBytes) answer = NULL;

  answer = _agentexec_docker_client_request (run->client, "POST", path, NULL, NULL, 0, status,
                                             cancellable, error);
  return answer != NULL;
}

static void
kill_container (Run *run)
{
  g_autoptr (GError) error = NULL;
  guint status = 0;

  if (!post_empty (run, "/kill", &status, NULL, &error) && status != 409 && status != 404)
    g_debug ("Could not kill container %.12s: %s", run->id, error->message);
}

static gboolean
create_container (AgentExecContainerExecutor *self,
                  Run *run,
                  const char *const *argv,
                  AgentExecExecutionInput *input,
                  GCancellable *cancellable,
                  GError **error)
{
  AgentExecContainerSpec spec;
  g_autoptr (JsonNode) body = NULL;
  g_autoptr (JsonNode) answer = NULL;
  JsonObject *object;

  _agentexec_container_runtime_get_spec (run->runtime, &spec);
  body = _agentexec_container_create_body (&spec, argv, agentexec_execution_input_get_env (input));
  answer = _agentexec_docker_client_request_json (run->client, "POST", "/containers/create", body,
                                                  NULL, cancellable, error);
  if (answer == NULL)
    return FALSE;
  object = JSON_NODE_HOLDS_OBJECT (answer) ? json_node_get_object (answer) : NULL;
  if (object == NULL || !json_object_has_member (object, "Id"))
    {
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_PROTOCOL,
                   "Docker engine at %s created a container but sent no Id",
                   _agentexec_docker_client_get_host (run->client));
      return FALSE;
    }
  run->id = g_strdup (json_object_get_string_member (object, "Id"));
  run->base_path = g_strdup_printf ("/containers/%s", run->id);
  _agentexec_container_runtime_track (run->runtime, run->id, TRUE);
  return TRUE;
}

static gboolean
upload_files (AgentExecContainerExecutor *self,
              Run *run,
              GPtrArray *files,
              GCancellable *cancellable,
              GError **error)
{
  AgentExecContainerSpec spec;

  _agentexec_container_runtime_get_spec (run->runtime, &spec);
  return _agentexec_container_workspace_upload (run->client, run->base_path, files, spec.user,
                                                cancellable, error);
}

static char *
workspace_stamp (Run *run, GPtrArray *files)
{
  return _agentexec_container_workspace_stamp (run->client, run->base_path, files);
}

/* New and changed files of /workspace into @result; failing to copy them
 * out is a notice on stderr, not a failed run. */
static void
collect_files (Run *run,
               GPtrArray *known,
               AgentExecExecutionResult *result,
               GByteArray *stderr_kept)
{
  g_autoptr (GPtrArray) changed = NULL;
  g_autoptr (GError) error = NULL;

  changed = _agentexec_container_workspace_changes (run->client, run->base_path, known, &error);
  if (changed == NULL)
    {
      g_autofree char *notice =
          g_strdup_printf ("[agentexec: output files not returned: %s]\n", error->message);
      append_notice (stderr_kept, notice);
      return;
    }
  for (guint i = 0; i < changed->len; i++)
    _agentexec_execution_result_add_output_file (result, g_ptr_array_index (changed, i));
}

/* The engine could not start @program (dockerd says so at start, Podman
 * already at attach): remember it for the image, and say so. */
static gboolean
program_missing (AgentExecContainerRuntime *runtime,
                 const Program *program,
                 GError *cause,
                 GError **error)
{
  AgentExecContainerSpec spec;

  if (strstr (cause->message, "executable file not found") == NULL)
    {
      g_propagate_error (error, g_error_copy (cause));
      return FALSE;
    }
  _agentexec_container_runtime_get_spec (runtime, &spec);
  _agentexec_container_runtime_set_program_missing (runtime, program->program);
  g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_UNSUPPORTED_LANGUAGE,
               "Image “%s” has no “%s”, so it cannot run %s: use an image that has it "
               "(the image property)",
               spec.image, program->program, program->language);
  return FALSE;
}

static AgentExecDockerStream *
attach_container (AgentExecContainerExecutor *self,
                  Run *run,
                  const Program *program,
                  Collect *collect,
                  GCancellable *cancellable,
                  GError **error)
{
  g_autofree char *attach =
      g_strconcat (run->base_path, "/attach?stream=1&stdout=1&stderr=1", NULL);
  g_autoptr (GError) local_error = NULL;
  AgentExecDockerStream *stream;

  stream = _agentexec_docker_client_attach (run->client, attach, collect_frame, collect,
                                            cancellable, &local_error);
  if (stream == NULL)
    program_missing (run->runtime, program, local_error, error);
  return stream;
}

static gboolean
start_container (AgentExecContainerExecutor *self,
                 Run *run,
                 const Program *program,
                 GCancellable *cancellable,
                 GError **error)
{
  g_autoptr (GError) local_error = NULL;

  if (post_empty (run, "/start", NULL, cancellable, &local_error))
    return TRUE;
  return program_missing (run->runtime, program, local_error, error);
}

static gboolean
inspect_exit (Run *run, GError **error)
{
  g_autofree char *path = g_strconcat (run->base_path, "/json", NULL);
  g_autofree char *wait = g_strconcat (run->base_path, "/wait?condition=not-running", NULL);
  g_autoptr (JsonNode) waited = NULL;
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GError) wait_error = NULL;
  JsonObject *state = NULL;

  /* The output stream can end a moment before the engine has recorded the
   * exit (Podman then still thinks the container runs, and copying files
   * out fails): wait for it. */
  waited = _agentexec_docker_client_request_json (run->client, "POST", wait, NULL, NULL, NULL,
                                                  &wait_error);
  if (waited == NULL)
    g_debug ("Waiting for container %.12s failed: %s", run->id, wait_error->message);
  root = _agentexec_docker_client_request_json (run->client, "GET", path, NULL, NULL, NULL, error);
  if (root == NULL)
    return FALSE;
  if (JSON_NODE_HOLDS_OBJECT (root) &&
      json_object_has_member (json_node_get_object (root), "State"))
    state = json_object_get_object_member (json_node_get_object (root), "State");
  if (state == NULL || !json_object_has_member (state, "ExitCode"))
    {
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_PROTOCOL,
                   "Docker engine at %s described container %.12s without State.ExitCode",
                   _agentexec_docker_client_get_host (run->client), run->id);
      return FALSE;
    }
  run->exit_code = (int) json_object_get_int_member (state, "ExitCode");
  run->oom_killed = json_object_has_member (state, "OOMKilled") &&
                    json_object_get_boolean_member (state, "OOMKilled");
  return TRUE;
}

static void
settle_outcome (AgentExecContainerExecutor *self,
                Run *run,
                AgentExecExecutionResult *result,
                GByteArray *stderr_kept)
{
  AgentExecContainerSpec spec;
  g_autofree char *notice = NULL;

  _agentexec_container_runtime_get_spec (run->runtime, &spec);
  _agentexec_execution_result_set_exit_code (result, run->exit_code);
  if (run->timed_out)
    {
      /* The base class adds ADK's "Code execution timed out after N seconds." */
      _agentexec_execution_result_set_outcome (result, AGENTEXEC_OUTCOME_DEADLINE_EXCEEDED);
      if (run->exit_code == 137)
        _agentexec_execution_result_set_signal (result, 9);
    }
  else if (run->oom_killed || (run->exit_code == 137 && spec.memory_bytes > 0))
    {
      _agentexec_execution_result_set_outcome (result, AGENTEXEC_OUTCOME_RESOURCE_EXHAUSTED);
      notice = g_strdup_printf ("[agentexec: killed: the code went over the container's "
                                "memory limit of %" G_GUINT64_FORMAT " bytes (memory-bytes)]\n",
                                spec.memory_bytes);
    }
  if (notice != NULL)
    {
      append_notice (stderr_kept, notice);
      if (run->exit_code == 137)
        _agentexec_execution_result_set_signal (result, 9);
    }
}

static gboolean
stream_output (Run *run, AgentExecDockerStream *stream, guint timeout_ms, GError **error)
{
  gint64 deadline =
      timeout_ms > 0 ? g_get_monotonic_time () + (gint64) timeout_ms * 1000 : G_MAXINT64;

  switch (_agentexec_docker_stream_wait (stream, deadline, error))
    {
    case AGENTEXEC_DOCKER_WAIT_DONE:
      return TRUE;
    case AGENTEXEC_DOCKER_WAIT_ERROR:
      return FALSE;
    case AGENTEXEC_DOCKER_WAIT_DEADLINE:
    default:
      break;
    }
  run->timed_out = TRUE;
  kill_container (run);
  /* Drain what the code wrote before it was killed. */
  deadline = g_get_monotonic_time () + DRAIN_MS * 1000;
  return _agentexec_docker_stream_wait (stream, deadline, error) != AGENTEXEC_DOCKER_WAIT_ERROR;
}

static gboolean
upload_and_stamp (AgentExecContainerExecutor *self,
                  Run *run,
                  GPtrArray *files,
                  char **stamp,
                  GCancellable *cancellable,
                  GError **error)
{
  if (!upload_files (self, run, files, cancellable, error))
    return FALSE;
  *stamp = workspace_stamp (run, files);
  return TRUE;
}

static AgentExecExecutionResult *
build_result_full (AgentExecContainerExecutor *self,
                   Run *run,
                   const Program *program,
                   Collect *collect,
                   GPtrArray *files,
                   const char *stamp_before,
                   char **stamp_out,
                   AgentExecDriverReply *report)
{
  g_autoptr (AgentExecExecutionResult) result = _agentexec_execution_result_new_empty ();
  g_autofree char *stamp_after = NULL;

  _agentexec_execution_result_set_language (result, program->language);
  settle_outcome (self, run, result, collect->kept[AGENTEXEC_STREAM_STDERR]);
  if (report != NULL && report->files != NULL)
    {
      g_autoptr (GPtrArray) changed = _agentexec_container_workspace_filter (report->files, files);

      for (guint i = 0; i < changed->len; i++)
        _agentexec_execution_result_add_output_file (result, g_ptr_array_index (changed, i));
    }
  else
    {
      if (stamp_before != NULL)
        stamp_after = workspace_stamp (run, files);
      if (stamp_after == NULL || !g_str_equal (stamp_before, stamp_after))
        collect_files (run, files, result, collect->kept[AGENTEXEC_STREAM_STDERR]);
    }
  _agentexec_execution_result_set_truncated (result, collect->seen[0] > collect->max,
                                             collect->seen[1] > collect->max);
  note_truncation (collect, AGENTEXEC_STREAM_STDOUT, "stdout");
  note_truncation (collect, AGENTEXEC_STREAM_STDERR, "stderr");
  _agentexec_execution_result_set_stdout (result, (const char *) collect->kept[0]->data,
                                          collect->kept[0]->len);
  _agentexec_execution_result_set_stderr (result, (const char *) collect->kept[1]->data,
                                          collect->kept[1]->len);
  if (stamp_out != NULL)
    *stamp_out = g_steal_pointer (&stamp_after);
  return g_steal_pointer (&result);
}

static AgentExecExecutionResult *
build_result (AgentExecContainerExecutor *self,
              Run *run,
              const Program *program,
              Collect *collect,
              GPtrArray *files,
              const char *stamp_before)
{
  return build_result_full (self, run, program, collect, files, stamp_before, NULL, NULL);
}

static AgentExecExecutionResult *
execute (AgentExecContainerExecutor *self,
         Run *run,
         AgentExecExecutionInput *input,
         const Program *program,
         Collect *collect,
         GCancellable *cancellable,
         GError **error)
{
  g_autoptr (GPtrArray) files = g_ptr_array_new_with_free_func (g_object_unref);
  GPtrArray *inputs = agentexec_execution_input_get_files (input);
  g_autoptr (AgentExecDockerStream) stream = NULL;
  g_autofree char *stamp_before = NULL;
  g_auto (GStrv) argv = NULL;
  guint timeout_ms;

  for (guint i = 0; inputs != NULL && i < inputs->len; i++)
    g_ptr_array_add (files, g_object_ref (g_ptr_array_index (inputs, i)));
  argv = build_argv (program, input, files);
  if (!create_container (self, run, (const char *const *) argv, input, cancellable, error) ||
      !upload_and_stamp (self, run, files, &stamp_before, cancellable, error))
    return NULL;
  stream = attach_container (self, run, program, collect, cancellable, error);
  if (stream == NULL || !start_container (self, run, program, cancellable, error))
    return NULL;
  timeout_ms =
      _agentexec_base_executor_effective_timeout_ms (AGENTEXEC_BASE_EXECUTOR (self), input);
  if (!stream_output (run, stream, timeout_ms, error) || !inspect_exit (run, error))
    return NULL;

  return build_result (self, run, program, collect, files, stamp_before);
}

static gboolean
wait_pooled (Run *run,
             AgentExecWarmContainer *warm,
             guint timeout_ms,
             GCancellable *cancellable,
             GError **error)
{
  gint64 deadline =
      timeout_ms > 0 ? g_get_monotonic_time () + (gint64) timeout_ms * 1000 : G_MAXINT64;
  AgentExecDockerWait wait = _agentexec_warm_container_wait (warm, deadline, cancellable, error);

  if (wait == AGENTEXEC_DOCKER_WAIT_ERROR)
    return FALSE;
  if (wait == AGENTEXEC_DOCKER_WAIT_DEADLINE)
    {
      run->timed_out = TRUE;
      kill_container (run);
      deadline = g_get_monotonic_time () + DRAIN_MS * 1000;
      if (_agentexec_warm_container_wait (warm, deadline, NULL, error) ==
          AGENTEXEC_DOCKER_WAIT_ERROR)
        return FALSE;
    }
  if (warm->exited || run->timed_out)
    return inspect_exit (run, error);
  run->exit_code = warm->reply != NULL && warm->reply->exit_code >= 0 ? warm->reply->exit_code : 0;
  return TRUE;
}

static gsize
files_size (GPtrArray *files)
{
  gsize total = 0;

  for (guint i = 0; files != NULL && i < files->len; i++)
    total += g_bytes_get_size (agentexec_file_get_content (g_ptr_array_index (files, i)));
  return total;
}

/* For a driver that takes files: sends the code, with @files unless they are
 * too big (then they go through the archive API first), and asks for the
 * run's files in the reply, so that no engine request is needed per run. */
static gboolean
send_with_files (AgentExecContainerExecutor *self,
                 Run *run,
                 AgentExecWarmContainer *warm,
                 AgentExecExecutionInput *input,
                 GPtrArray *files,
                 GCancellable *cancellable,
                 GError **error)
{
  gboolean through_driver = files_size (files) <= MAX_DRIVER_INPUT;

  if (!through_driver && !upload_files (self, run, files, cancellable, error))
    return FALSE;
  return _agentexec_warm_container_send_with_files (
      warm, agentexec_execution_input_get_code (input), through_driver ? files : NULL,
      MAX_DRIVER_OUTPUT, error);
}

/* The driver's reply with the run's files, or NULL when there is none (the
 * run timed out, the interpreter ended, the files were too many): then the
 * workspace is copied out. */
static AgentExecDriverReply *
driver_report (Run *run, AgentExecWarmContainer *warm)
{
  if (!warm->driver_files || run->timed_out || warm->exited || warm->reply == NULL ||
      warm->reply->files == NULL)
    return NULL;
  return warm->reply;
}

static gboolean
check_refused (Run *run, AgentExecWarmContainer *warm, GError **error)
{
  if (warm->reply == NULL || warm->reply->input_error == NULL)
    return TRUE;
  run->refused = TRUE;
  g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_INVALID_INPUT,
               "The input files could not be put in the workspace, so the code did not run: "
               "%s; rename or remove what is in the way",
               warm->reply->input_error);
  return FALSE;
}

/* The same run in a warm container: its driver runs the code once. */
static AgentExecExecutionResult *
execute_pooled (AgentExecContainerExecutor *self,
                Run *run,
                AgentExecWarmContainer *warm,
                AgentExecExecutionInput *input,
                const Program *program,
                Collect *collect,
                GCancellable *cancellable,
                GError **error)
{
  g_autoptr (GPtrArray) files = g_ptr_array_new_with_free_func (g_object_unref);
  GPtrArray *inputs = agentexec_execution_input_get_files (input);
  g_autofree char *stamp_before = NULL;
  guint timeout_ms;

  for (guint i = 0; inputs != NULL && i < inputs->len; i++)
    g_ptr_array_add (files, g_object_ref (g_ptr_array_index (inputs, i)));
  run->id = g_strdup (warm->id);
  run->base_path = g_strdup_printf ("/containers/%s", run->id);
  if (!warm->driver_files &&
      !upload_and_stamp (self, run, files, &stamp_before, cancellable, error))
    return NULL;
  warm->sink = collect_frame;
  warm->sink_data = collect;
  if (warm->driver_files ? !send_with_files (self, run, warm, input, files, cancellable, error)
                         : !_agentexec_warm_container_send (
                               warm, agentexec_execution_input_get_code (input), error))
    return NULL;
  timeout_ms =
      _agentexec_base_executor_effective_timeout_ms (AGENTEXEC_BASE_EXECUTOR (self), input);
  if (!wait_pooled (run, warm, timeout_ms, cancellable, error) || !check_refused (run, warm, error))
    return NULL;
  warm->sink = NULL;
  return build_result_full (self, run, program, collect, files, stamp_before, NULL,
                            driver_report (run, warm));
}

static gboolean
check_input (AgentExecContainerRuntime *runtime,
             AgentExecExecutionInput *input,
             const Program *program,
             const char *language,
             GError **error)
{
  GPtrArray *files = agentexec_execution_input_get_files (input);

  if (program == NULL || _agentexec_container_runtime_program_missing (runtime, program->program))
    {
      AgentExecContainerSpec spec;

      _agentexec_container_runtime_get_spec (runtime, &spec);
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_UNSUPPORTED_LANGUAGE,
                   "The container backend cannot run %s in image “%s”: it runs python, "
                   "javascript and bash, and r or java when the image has Rscript or java",
                   language, spec.image);
      return FALSE;
    }
  for (guint i = 0; files != NULL && i < files->len; i++)
    if (!_agentexec_file_validate_name (agentexec_file_get_name (g_ptr_array_index (files, i)),
                                        error))
      return FALSE;
  return TRUE;
}

/* Runs with argv or environment of their own need the plain command line. */
static AgentExecWarmContainer *
take_warm (AgentExecContainerPool *pool, AgentExecExecutionInput *input, const char *language)
{
  const char *const *argv = agentexec_execution_input_get_argv (input);
  const char *const *env = agentexec_execution_input_get_env (input);
  AgentExecWarmContainer *warm;

  if ((argv != NULL && argv[0] != NULL) || (env != NULL && env[0] != NULL))
    return NULL;
  warm = pool != NULL ? _agentexec_container_pool_take (pool, language) : NULL;
  g_debug ("%s run: %s", language,
           warm != NULL ? "warm container from the pool" : "pool miss, starting a container");
  return warm;
}

/*
 * _agentexec_container_run_stateless:
 *
 * Runs @input in a container no other execution has used, and removes it.
 * Engine failures are GErrors (BACKEND_UNAVAILABLE when the engine is gone,
 * which the base class retries); code failures are results.
 */
AgentExecExecutionResult *
_agentexec_container_run_stateless (AgentExecContainerExecutor *self,
                                    AgentExecContainerRuntime *runtime,
                                    AgentExecContainerPool *pool,
                                    AgentExecExecutionInput *input,
                                    const char *language,
                                    GMainContext *output_context,
                                    GCancellable *cancellable,
                                    GError **error)
{
  const Program *program = find_program (language);
  AgentExecWarmContainer *warm = NULL;
  AgentExecExecutionResult *result;
  Collect collect = { self, input, output_context, { NULL, NULL }, { 0, 0 }, 0 };
  Run run = {
    _agentexec_container_runtime_get_client (runtime), runtime, NULL, NULL, FALSE, FALSE, FALSE, 0
  };

  if (!check_input (runtime, input, program, language, error))
    return NULL;
  collect.max = agentexec_base_executor_get_max_output_bytes (AGENTEXEC_BASE_EXECUTOR (self));
  collect.kept[0] = g_byte_array_new ();
  collect.kept[1] = g_byte_array_new ();

  warm = take_warm (pool, input, language);
  if (warm != NULL)
    result = execute_pooled (self, &run, warm, input, program, &collect, cancellable, error);
  else
    result = execute (self, &run, input, program, &collect, cancellable, error);
  if (warm != NULL)
    _agentexec_container_pool_refill (pool);
  g_clear_pointer (&warm, _agentexec_warm_container_free);

  /* After a result, removal need not delay it; after a failure (cancelled,
   * engine trouble) the container is gone before the error is reported. */
  if (run.id != NULL && result != NULL)
    _agentexec_container_runtime_remove_later (runtime, run.id);
  else if (run.id != NULL)
    _agentexec_container_runtime_remove_now (runtime, run.id);
  g_byte_array_unref (collect.kept[0]);
  g_byte_array_unref (collect.kept[1]);
  g_free (run.id);
  g_free (run.base_path);
  return result;
}

/* The files a session's workspace holds as far as we know: this run's input
 * files, then what earlier runs received or produced. */
static GPtrArray *
session_baseline (AgentExecContainerSession *session, GPtrArray *inputs)
{
  GPtrArray *baseline = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  GHashTableIter iter;
  gpointer key, value;

  for (guint i = 0; inputs != NULL && i < inputs->len; i++)
    {
      AgentExecFile *file = g_ptr_array_index (inputs, i);

      g_hash_table_add (seen, (gpointer) agentexec_file_get_name (file));
      g_ptr_array_add (baseline, g_object_ref (file));
    }
  g_hash_table_iter_init (&iter, session->known);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (!g_hash_table_contains (seen, key))
      g_ptr_array_add (baseline, agentexec_file_new (key, NULL, value));
  return baseline;
}

static void
session_remember (AgentExecContainerSession *session,
                  GPtrArray *inputs,
                  AgentExecExecutionResult *result)
{
  GPtrArray *outputs = agentexec_execution_result_get_output_files (result);
  GPtrArray *lists[2] = { inputs, outputs };

  for (guint l = 0; l < G_N_ELEMENTS (lists); l++)
    for (guint i = 0; lists[l] != NULL && i < lists[l]->len; i++)
      {
        AgentExecFile *file = g_ptr_array_index (lists[l], i);

        g_hash_table_insert (session->known, g_strdup (agentexec_file_get_name (file)),
                             g_bytes_ref (agentexec_file_get_content (file)));
      }
}

/* Files the driver saw the run delete are no longer in the workspace. */
static void
session_forget (AgentExecContainerSession *session, AgentExecDriverReply *report)
{
  for (guint i = 0; report != NULL && report->deleted != NULL && report->deleted[i] != NULL; i++)
    g_hash_table_remove (session->known, report->deleted[i]);
}

static AgentExecExecutionResult *
execute_in_session (AgentExecContainerExecutor *self,
                    AgentExecContainerSession *session,
                    Run *run,
                    AgentExecExecutionInput *input,
                    const Program *program,
                    Collect *collect,
                    GCancellable *cancellable,
                    GError **error)
{
  GPtrArray *inputs = agentexec_execution_input_get_files (input);
  g_autoptr (GPtrArray) uploads = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GPtrArray) baseline = session_baseline (session, inputs);
  AgentExecWarmContainer *warm = session->warm;
  g_autofree char *stamp_before = NULL;
  AgentExecExecutionResult *result;
  guint timeout_ms;

  for (guint i = 0; inputs != NULL && i < inputs->len; i++)
    g_ptr_array_add (uploads, g_object_ref (g_ptr_array_index (inputs, i)));
  run->id = g_strdup (warm->id);
  run->base_path = g_strdup_printf ("/containers/%s", run->id);
  if (!warm->driver_files && !upload_files (self, run, uploads, cancellable, error))
    return NULL;
  /* Nothing uploaded: the workspace is as the last run left it. A driver
   * that reports the run's files needs no stamp at all. */
  if (warm->driver_files)
    ;
  else if (uploads->len == 0 && session->stamp != NULL)
    stamp_before = g_steal_pointer (&session->stamp);
  else
    stamp_before = workspace_stamp (run, baseline);
  g_clear_pointer (&session->stamp, g_free);
  warm->sink = collect_frame;
  warm->sink_data = collect;
  if (warm->driver_files ? !send_with_files (self, run, warm, input, uploads, cancellable, error)
                         : !_agentexec_warm_container_send (
                               warm, agentexec_execution_input_get_code (input), error))
    return NULL;
  timeout_ms =
      _agentexec_base_executor_effective_timeout_ms (AGENTEXEC_BASE_EXECUTOR (self), input);
  if (!wait_pooled (run, warm, timeout_ms, cancellable, error) || !check_refused (run, warm, error))
    return NULL;
  warm->sink = NULL;
  result =
      build_result_full (self, run, program, collect, baseline, stamp_before,
                         warm->driver_files ? NULL : &session->stamp, driver_report (run, warm));
  if (warm->reply != NULL && !run->timed_out && !warm->exited)
    _agentexec_execution_result_set_value (result, warm->reply->value);
  session_forget (session, driver_report (run, warm));
  session_remember (session, inputs, result);
  /* New files change the baseline: stamp afresh next time. */
  if (agentexec_execution_result_get_output_files (result)->len > 0)
    g_clear_pointer (&session->stamp, g_free);
  return result;
}

/*
 * _agentexec_container_run_stateful:
 *
 * Runs @input in the session of its execution-id: one container per
 * execution-id and language, whose driver keeps variables and imports.
 */
AgentExecExecutionResult *
_agentexec_container_run_stateful (AgentExecContainerExecutor *self,
                                   AgentExecContainerRuntime *runtime,
                                   struct _AgentExecContainerSessions *sessions,
                                   AgentExecExecutionInput *input,
                                   const char *language,
                                   guint max_sessions,
                                   guint idle_timeout_ms,
                                   GMainContext *output_context,
                                   GCancellable *cancellable,
                                   GError **error)
{
  const Program *program = find_program (language);
  Collect collect = { self, input, output_context, { NULL, NULL }, { 0, 0 }, 0 };
  Run run = {
    _agentexec_container_runtime_get_client (runtime), runtime, NULL, NULL, FALSE, FALSE, FALSE, 0
  };
  AgentExecContainerSession *session;
  AgentExecExecutionResult *result;
  gboolean restarted = FALSE;

  if (!check_input (runtime, input, program, language, error))
    return NULL;
  if (!_agentexec_driver_supports (language))
    {
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_UNSUPPORTED_LANGUAGE,
                   "Stateful container sessions run python, javascript and bash, not %s: "
                   "run it with stateful off",
                   language);
      return NULL;
    }
  session = _agentexec_container_sessions_acquire (
      sessions, agentexec_execution_input_get_execution_id (input), language, max_sessions,
      idle_timeout_ms, &restarted, error);
  if (session == NULL)
    return NULL;
  collect.max = agentexec_base_executor_get_max_output_bytes (AGENTEXEC_BASE_EXECUTOR (self));
  collect.kept[0] = g_byte_array_new ();
  collect.kept[1] = g_byte_array_new ();

  result = execute_in_session (self, session, &run, input, program, &collect, cancellable, error);
  session->warm->sink = NULL;
  if (result != NULL && restarted)
    _agentexec_execution_result_set_session_restarted (result, TRUE);
  /* A killed or crashed interpreter, or a broken connection: state is gone. */
  _agentexec_container_sessions_release (sessions, session,
                                         (result == NULL && !run.refused) || run.timed_out ||
                                             session->warm->exited);
  g_byte_array_unref (collect.kept[0]);
  g_byte_array_unref (collect.kept[1]);
  g_free (run.id);
  g_free (run.base_path);
  return result;
}
