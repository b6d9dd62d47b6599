/* agentexec-server-context.c: a context's session and its queue of jobs
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "agentexec-server-context-private.h"

typedef enum
{
  JOB_EXECUTION,
  JOB_SETUP,
  JOB_END_SESSION,
} JobKind;

typedef struct
{
  JobKind kind;
  AgentExecServerContext *context;
  AgentExecServerExecution *execution; /* JOB_EXECUTION */
  GTask *task;                         /* the others */
} Job;

struct _AgentExecServerContext
{
  GObject parent_instance;

  AgentExecCodeExecutor *executor;
  char *id;
  char *language;
  char *cwd;           /* as the interpreter reported it */
  char *requested_cwd; /* as the client asked, NULL: the backend's */
  char *execution_id;
  guint generation;
  gboolean is_default;
  guint count;
  gint64 last_used;
  GQueue jobs;
  Job *running;
};

G_DEFINE_FINAL_TYPE (AgentExecServerContext, agentexec_server_context, G_TYPE_OBJECT)

static void pump (AgentExecServerContext *self);

static void
job_free (Job *job)
{
  if (job->execution != NULL)
    g_signal_handlers_disconnect_by_data (job->execution, job);
  g_clear_object (&job->execution);
  g_clear_object (&job->task);
  g_free (job);
}

static void
job_done (AgentExecServerContext *self, Job *job)
{
  g_assert (self->running == job);
  self->running = NULL;
  self->last_used = g_get_monotonic_time ();
  job_free (job);
  pump (self);
}

static void
on_execution_finished (AgentExecServerExecution *execution, gpointer data)
{
  Job *job = data;
  AgentExecServerContext *self = job->context;

  if (self->running == job)
    job_done (self, job);
}

/* Setup: where the interpreter is (after moving to the asked cwd). */

static char *
setup_code (AgentExecServerContext *self)
{
  g_autofree char *quoted = NULL;
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_VALUE);
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  const char *cwd = self->requested_cwd;

  json_node_set_string (node, cwd != NULL ? cwd : "");
  json_generator_set_root (generator, node);
  quoted = json_generator_to_data (generator, NULL);
  if (g_str_equal (self->language, "python"))
    return g_strdup_printf ("__import__('os').chdir(%s or '.')\n"
                            "print(__import__('os').getcwd(), end='')\n",
                            quoted);
  if (g_str_equal (self->language, "javascript"))
    return g_strdup_printf ("process.chdir(%s || '.'); process.stdout.write(process.cwd());\n",
                            quoted);
  g_free (quoted);
  quoted = g_shell_quote (cwd != NULL ? cwd : ".");
  return g_strdup_printf ("cd %s && printf %%s \"$PWD\"\n", quoted);
}

static void
on_setup_done (GObject *source, GAsyncResult *res, gpointer data)
{
  Job *job = data;
  AgentExecServerContext *self = job->context;
  g_autoptr (AgentExecExecutionResult) result = NULL;
  GError *error = NULL;

  result = agentexec_code_executor_execute_code_finish (self->executor, res, &error);
  if (result != NULL && agentexec_execution_result_get_outcome (result) != AGENTEXEC_OUTCOME_OK)
    error = g_error_new (AGENTEXEC_ERROR, AGENTEXEC_ERROR_INVALID_INPUT,
                         "The %s interpreter could not change to the directory “%s”: %s",
                         self->language, self->requested_cwd != NULL ? self->requested_cwd : ".",
                         agentexec_execution_result_get_stderr (result));
  if (error != NULL)
    g_task_return_error (job->task, error);
  else
    {
      g_free (self->cwd);
      self->cwd = g_strdup (agentexec_execution_result_get_stdout (result));
      g_task_return_boolean (job->task, TRUE);
    }
  job_done (self, job);
}

static void
start_setup (AgentExecServerContext *self, Job *job)
{
  g_autofree char *code = setup_code (self);
  g_autoptr (AgentExecExecutionInput) input = agentexec_execution_input_new (code, self->language);

  agentexec_execution_input_set_execution_id (input, self->execution_id);
  agentexec_code_executor_execute_code_async (
      self->executor, NULL, input, g_task_get_cancellable (job->task), on_setup_done, job);
}

/* End of session: in a thread, a backend may wait for its engine. */

static void
end_session_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  AgentExecServerContext *self = source;

  agentexec_code_executor_end_session (self->executor, data);
  g_task_return_boolean (task, TRUE);
}

static void
on_end_session_done (GObject *source, GAsyncResult *res, gpointer data)
{
  Job *job = data;
  AgentExecServerContext *self = AGENTEXEC_SERVER_CONTEXT (source);

  if (job->kind == JOB_END_SESSION)
    g_task_return_boolean (job->task, TRUE);
  job_done (self, job);
}

static void
start_end_session (AgentExecServerContext *self, Job *job)
{
  g_autoptr (GTask) task = g_task_new (self, NULL, on_end_session_done, job);

  g_task_set_source_tag (task, start_end_session);
  g_task_set_task_data (task, g_strdup (self->execution_id), g_free);
  g_task_run_in_thread (task, end_session_thread);
}

static void
pump (AgentExecServerContext *self)
{
  Job *job;

  while (self->running == NULL && (job = g_queue_pop_head (&self->jobs)) != NULL)
    {
      self->running = job;
      switch (job->kind)
        {
        case JOB_EXECUTION:
          if (_agentexec_server_execution_is_finished (job->execution))
            {
              self->running = NULL;
              job_free (job);
              continue;
            }
          _agentexec_server_execution_set_count (job->execution, ++self->count);
          _agentexec_server_execution_start (job->execution);
          break;
        case JOB_SETUP:
          start_setup (self, job);
          break;
        case JOB_END_SESSION:
          start_end_session (self, job);
          break;
        default:
          g_assert_not_reached ();
        }
    }
}

static Job *
job_new (AgentExecServerContext *self,
         JobKind kind,
         GAsyncReadyCallback callback,
         gpointer user_data)
{
  Job *job = g_new0 (Job, 1);

  job->kind = kind;
  job->context = self;
  if (kind != JOB_EXECUTION)
    {
      job->task = g_task_new (self, NULL, callback, user_data);
      g_task_set_source_tag (job->task, job_new);
    }
  return job;
}

/*
 * _agentexec_server_context_enqueue:
 *
 * Queues @execution behind the context's other jobs.
 */
void
_agentexec_server_context_enqueue (AgentExecServerContext *self,
                                   AgentExecServerExecution *execution)
{
  Job *job = job_new (self, JOB_EXECUTION, NULL, NULL);

  job->execution = g_object_ref (execution);
  g_signal_connect (execution, "finished", G_CALLBACK (on_execution_finished), job);
  self->last_used = g_get_monotonic_time ();
  g_queue_push_tail (&self->jobs, job);
  pump (self);
}

/*
 * _agentexec_server_context_setup_async:
 *
 * Starts the interpreter in the context's cwd and learns its path; fails
 * (INVALID_INPUT) when it cannot go there.
 */
void
_agentexec_server_context_setup_async (AgentExecServerContext *self,
                                       GAsyncReadyCallback callback,
                                       gpointer user_data)
{
  g_queue_push_tail (&self->jobs, job_new (self, JOB_SETUP, callback, user_data));
  pump (self);
}

/*
 * _agentexec_server_context_cancel_all:
 *
 * Cancels the running execution and drops the queued ones.
 */
void
_agentexec_server_context_cancel_all (AgentExecServerContext *self, const char *reason)
{
  g_autoptr (GPtrArray) executions = g_ptr_array_new_with_free_func (g_object_unref);

  if (self->running != NULL && self->running->execution != NULL)
    g_ptr_array_add (executions, g_object_ref (self->running->execution));
  for (GList *l = self->jobs.head; l != NULL; l = l->next)
    {
      Job *job = l->data;

      if (job->execution != NULL)
        g_ptr_array_add (executions, g_object_ref (job->execution));
    }
  for (guint i = 0; i < executions->len; i++)
    _agentexec_server_execution_cancel (g_ptr_array_index (executions, i), reason);
}

/*
 * _agentexec_server_context_reset_async:
 * @reason: what the cancelled executions' error lines say
 * @set_up_again: restart: the fresh interpreter goes to the cwd again
 *
 * Cancels the context's executions, then ends its session (a fresh
 * interpreter starts with the next job). Completes when that is done.
 */
void
_agentexec_server_context_reset_async (AgentExecServerContext *self,
                                       const char *reason,
                                       gboolean set_up_again,
                                       GAsyncReadyCallback callback,
                                       gpointer user_data)
{
  _agentexec_server_context_cancel_all (self, reason);
  if (set_up_again)
    {
      g_queue_push_tail (&self->jobs, job_new (self, JOB_END_SESSION, NULL, NULL));
      g_queue_push_tail (&self->jobs, job_new (self, JOB_SETUP, callback, user_data));
    }
  else
    g_queue_push_tail (&self->jobs, job_new (self, JOB_END_SESSION, callback, user_data));
  pump (self);
}

gboolean
_agentexec_server_context_job_finish (AgentExecServerContext *self,
                                      GAsyncResult *result,
                                      GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

const char *
_agentexec_server_context_get_id (AgentExecServerContext *self)
{
  return self->id;
}

const char *
_agentexec_server_context_get_language (AgentExecServerContext *self)
{
  return self->language;
}

const char *
_agentexec_server_context_get_cwd (AgentExecServerContext *self)
{
  return self->cwd != NULL ? self->cwd : self->requested_cwd;
}

const char *
_agentexec_server_context_get_execution_id (AgentExecServerContext *self)
{
  return self->execution_id;
}

gboolean
_agentexec_server_context_is_default (AgentExecServerContext *self)
{
  return self->is_default;
}

gint64
_agentexec_server_context_get_last_used (AgentExecServerContext *self)
{
  return self->last_used;
}

/* Jobs queued or running. */
guint
_agentexec_server_context_get_pending (AgentExecServerContext *self)
{
  return self->jobs.length + (self->running != NULL ? 1 : 0);
}

/* Returns: {id, language, cwd} as the SDKs read a context. */
JsonNode *
_agentexec_server_context_to_json (AgentExecServerContext *self)
{
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);
  JsonObject *object = json_object_new ();
  const char *cwd = _agentexec_server_context_get_cwd (self);

  json_object_set_string_member (object, "id", self->id);
  json_object_set_string_member (object, "language", self->language);
  if (cwd != NULL)
    json_object_set_string_member (object, "cwd", cwd);
  else
    json_object_set_null_member (object, "cwd");
  json_node_take_object (node, object);
  return node;
}

/*
 * _agentexec_server_context_new:
 * @language: canonical
 * @cwd: (nullable): where the code runs, %NULL: the backend's work directory
 */
AgentExecServerContext *
_agentexec_server_context_new (AgentExecCodeExecutor *executor,
                               const char *language,
                               const char *cwd,
                               gboolean is_default)
{
  AgentExecServerContext *self = g_object_new (AGENTEXEC_TYPE_SERVER_CONTEXT, NULL);

  self->executor = g_object_ref (executor);
  self->id = g_uuid_string_random ();
  self->language = g_strdup (language);
  self->requested_cwd = g_strdup (cwd);
  self->execution_id = g_strdup_printf ("e2b-%s", self->id);
  self->is_default = is_default;
  self->last_used = g_get_monotonic_time ();
  return self;
}

static void
agentexec_server_context_dispose (GObject *object)
{
  AgentExecServerContext *self = AGENTEXEC_SERVER_CONTEXT (object);

  g_assert (self->running == NULL);
  g_queue_clear_full (&self->jobs, (GDestroyNotify) job_free);
  g_clear_object (&self->executor);
  G_OBJECT_CLASS (agentexec_server_context_parent_class)->dispose (object);
}

static void
agentexec_server_context_finalize (GObject *object)
{
  AgentExecServerContext *self = AGENTEXEC_SERVER_CONTEXT (object);

  g_free (self->id);
  g_free (self->language);
  g_free (self->cwd);
  g_free (self->requested_cwd);
  g_free (self->execution_id);
  G_OBJECT_CLASS (agentexec_server_context_parent_class)->finalize (object);
}

static void
agentexec_server_context_class_init (AgentExecServerContextClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = agentexec_server_context_dispose;
  object_class->finalize = agentexec_server_context_finalize;
}

static void
agentexec_server_context_init (AgentExecServerContext *self)
{
  g_queue_init (&self->jobs);
}
