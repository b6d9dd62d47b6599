/* agentexec-local-session.c: one persistent interpreter on the host
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A session is an interpreter running its driver (backends/drivers/) in the
 * session's work directory, with requests on fd 3 and replies on fd 4; the
 * code's stdout and stderr are the interpreter's own, read and streamed like
 * a one-shot run. A timeout, a cancellation or a crash ends the interpreter:
 * the result says so (session-restarted) and the next run starts a new one.
 */

#include "config.h"

#include <string.h>

#include "agentexec-execution-result-private.h"
#include "agentexec-local-sandbox-private.h"
#include "agentexec-local-session-private.h"
#include "agentexec-local-workdir-private.h"

/* How long an interpreter may take to start and load its driver. */
#define START_TIMEOUT_MS 30000
/* Output files a run may return, in bytes. */
#define MAX_OUTPUT_FILES_BYTES (256 * 1024 * 1024)

struct _AgentExecLocalSession
{
  char *language;
  char *root_dir;
  char *work_dir;
  gint64 uid;
  AgentExecLocalProcess *process;
  AgentExecLocalSandboxPlan *sandbox;
  guint64 max_output_bytes;
  gboolean broken;
};

/*
 * _agentexec_local_session_new:
 * @root_dir: a fresh directory the session owns (removed with it); the code
 *   runs in its `work` folder
 * @limits: the limits; the session owns `limits->uid` (released with it)
 * @sandbox: (nullable) (transfer full): the sandbox the interpreter lives in
 *   for the session's whole life; %NULL: directly on the host
 *
 * Starts the interpreter and waits for its driver's ready reply.
 */
AgentExecLocalSession *
_agentexec_local_session_new (const char *language,
                              const char *interpreter,
                              const char *const *envp,
                              const char *root_dir,
                              const AgentExecLocalLimits *limits,
                              AgentExecLocalSandboxPlan *sandbox,
                              guint64 max_output_bytes,
                              GCancellable *cancellable,
                              GError **error)
{
  g_autoptr (AgentExecLocalSession) self = g_new0 (AgentExecLocalSession, 1);
  g_autoptr (AgentExecDriverReply) reply = NULL;
  g_auto (GStrv) argv = NULL;
  g_autoptr (GError) local_error = NULL;
  AgentExecLocalEnd end;

  self->language = g_strdup (language);
  self->root_dir = g_strdup (root_dir);
  self->work_dir = g_build_filename (root_dir, "work", NULL);
  self->max_output_bytes = max_output_bytes;
  self->uid = limits->uid;
  self->sandbox = sandbox;
  argv = _agentexec_driver_build_argv (language, interpreter, 3, 4, NULL, error);
  if (argv == NULL)
    return NULL;
  self->process = _agentexec_local_process_spawn ((const char *const *) argv, envp, self->work_dir,
                                                  limits, sandbox, TRUE, max_output_bytes, error);
  if (self->process == NULL)
    return NULL;

  end = _agentexec_local_process_wait (self->process,
                                       g_get_monotonic_time () + START_TIMEOUT_MS * 1000, 0,
                                       cancellable, NULL, &reply, &local_error);
  if (end == AGENTEXEC_LOCAL_END_REPLY && reply->ready)
    return g_steal_pointer (&self);

  if (end == AGENTEXEC_LOCAL_END_CANCELLED)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                 "Cancelled while the %s session was starting", language);
  else
    {
      g_autoptr (AgentExecExecutionResult) crashed = _agentexec_execution_result_new_empty ();

      _agentexec_local_process_fill_result (self->process, crashed);
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_BACKEND_UNAVAILABLE,
                   "The %s interpreter %s did not start its session driver (%s%s): %s", language,
                   interpreter, end == AGENTEXEC_LOCAL_END_TIMEOUT ? "timed out" : "it exited",
                   local_error != NULL ? ", protocol error" : "",
                   agentexec_execution_result_get_stderr (crashed)[0] != '\0'
                       ? agentexec_execution_result_get_stderr (crashed)
                       : "check that the interpreter works, or set its path with "
                         "agentexec_local_executor_set_interpreter()");
    }
  return NULL;
}

void
_agentexec_local_session_free (AgentExecLocalSession *self)
{
  if (self == NULL)
    return;
  if (self->process != NULL)
    _agentexec_local_process_kill (self->process, 0);
  g_clear_pointer (&self->process, _agentexec_local_process_free);
  _agentexec_local_uid_release (self->uid, self->sandbox != NULL);
  g_clear_pointer (&self->sandbox, _agentexec_local_sandbox_free);
  _agentexec_local_remove_tree (self->root_dir);
  g_free (self->language);
  g_free (self->root_dir);
  g_free (self->work_dir);
  g_free (self);
}

/* Whether the interpreter can take another run. */
gboolean
_agentexec_local_session_is_usable (AgentExecLocalSession *self)
{
  return !self->broken && _agentexec_local_process_is_alive (self->process);
}

static const char *
end_reason (AgentExecLocalEnd end)
{
  switch (end)
    {
    case AGENTEXEC_LOCAL_END_TIMEOUT:
      return "was killed at the timeout";
    case AGENTEXEC_LOCAL_END_CANCELLED:
      return "was killed because the run was cancelled";
    case AGENTEXEC_LOCAL_END_EXITED:
    case AGENTEXEC_LOCAL_END_REPLY:
    default:
      return "ended";
    }
}

/* The interpreter is gone: say so, and make the next run start afresh. */
static void
note_restart (AgentExecLocalSession *self,
              AgentExecLocalEnd end,
              const GError *protocol_error,
              AgentExecExecutionResult *result)
{
  g_autofree char *note = NULL;

  self->broken = TRUE;
  note = g_strdup_printf ("[agentexec: the %s session's interpreter %s%s%s; its variables "
                          "and imports are lost, the next run starts a new interpreter]\n",
                          self->language, end_reason (end), protocol_error != NULL ? ": " : "",
                          protocol_error != NULL ? protocol_error->message : "");
  _agentexec_local_process_append_stderr (self->process, note);
  _agentexec_execution_result_set_session_restarted (result, TRUE);
}

static void
settle (AgentExecLocalSession *self,
        AgentExecLocalEnd end,
        AgentExecDriverReply *reply,
        AgentExecExecutionResult *result)
{
  if (end == AGENTEXEC_LOCAL_END_REPLY)
    {
      _agentexec_execution_result_set_exit_code (result, MAX (reply->exit_code, 0));
      _agentexec_execution_result_set_value (result, reply->value);
      return;
    }
  if (end == AGENTEXEC_LOCAL_END_TIMEOUT)
    _agentexec_execution_result_set_outcome (result, AGENTEXEC_OUTCOME_DEADLINE_EXCEEDED);
  else if (end == AGENTEXEC_LOCAL_END_CANCELLED)
    _agentexec_execution_result_set_outcome (result, AGENTEXEC_OUTCOME_CANCELLED);
  else if (_agentexec_local_process_hit_limit (self->process))
    _agentexec_execution_result_set_outcome (result, AGENTEXEC_OUTCOME_RESOURCE_EXHAUSTED);
  else
    _agentexec_execution_result_set_outcome (result, AGENTEXEC_OUTCOME_FAILED);
}

/*
 * _agentexec_local_session_run:
 * @deadline: monotonic time (µs) at which the interpreter is killed, 0: none
 *
 * Sends @input's code to the driver and waits for its reply. Input files go
 * into the session's work directory first; new or changed files come back.
 *
 * Returns: the result, or %NULL with @error set when the code could not be
 *   sent (bad input files, a dead interpreter)
 */
AgentExecExecutionResult *
_agentexec_local_session_run (AgentExecLocalSession *self,
                              AgentExecExecutionInput *input,
                              gint64 deadline,
                              guint grace_ms,
                              GCancellable *cancellable,
                              const AgentExecLocalStream *stream,
                              GError **error)
{
  g_autoptr (AgentExecExecutionResult) result = _agentexec_execution_result_new_empty ();
  g_autoptr (AgentExecDriverReply) reply = NULL;
  g_autoptr (GHashTable) before = NULL;
  g_autoptr (GBytes) request = NULL;
  g_autoptr (GError) protocol_error = NULL;
  const char *code = agentexec_execution_input_get_code (input);
  AgentExecLocalEnd end;

  if (!_agentexec_local_write_input_files (
          self->work_dir, agentexec_execution_input_get_files (input), self->uid, error))
    return NULL;
  before = _agentexec_local_snapshot (self->work_dir);
  request = _agentexec_driver_encode_request (self->language, code != NULL ? code : "", -1);
  _agentexec_local_process_reset_output (self->process);
  if (!_agentexec_local_process_send (self->process, request, error))
    {
      self->broken = TRUE;
      return NULL;
    }

  end = _agentexec_local_process_wait (self->process, deadline, grace_ms, cancellable, stream,
                                       &reply, &protocol_error);
  settle (self, end, reply, result);
  if (end != AGENTEXEC_LOCAL_END_REPLY)
    note_restart (self, end, protocol_error, result);
  _agentexec_local_process_fill_result (self->process, result);
  if (end == AGENTEXEC_LOCAL_END_REPLY)
    _agentexec_execution_result_set_signal (result, 0);
  _agentexec_local_collect_outputs (self->work_dir, before, MAX_OUTPUT_FILES_BYTES, result);
  return g_steal_pointer (&result);
}
