/* agentexec-server-execution.c: one POST /execute and its NDJSON stream
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The response headers go out at once (the SDKs time out on them); then
 * the stream: number_of_executions when the run starts (executions of a
 * context run one at a time, in order), stdout/stderr as the executor
 * delivers them to this call (execute_code_with_output_async), keepalive
 * lines while waiting or running, the result and error lines, and
 * end_of_execution last, always. A client that goes away cancels its run:
 * its socket is watched while it waits. Writing never blocks: libsoup sends
 * the queued lines when the client reads, so a slow reader only delays
 * itself.
 */

#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "agentexec-server-events-private.h"
#include "agentexec-server-execution-private.h"
#include "agentexec-server-ndjson-private.h"

enum
{
  FINISHED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* Output chunks this close together go out as one stdout/stderr event. */
#define COALESCE_MS 10

struct _AgentExecServerExecution
{
  GObject parent_instance;

  AgentExecCodeExecutor *executor;
  SoupServerMessage *msg; /* NULL once libsoup is done with it */
  char *code;
  char *language;
  char *execution_id;
  JsonObject *env;
  guint timeout_ms;
  guint count;

  GCancellable *cancellable;
  GPtrArray *steps; /* code: [prologue,] code[, epilogue] */
  guint step;
  guint main_step;
  AgentExecExecutionInput *input;   /* the step running */
  AgentExecExecutionResult *result; /* the main step's */
  GError *error;
  char *cancel_reason;
  gsize streamed[2];
  GByteArray *carry[2];

  guint keepalive_id;
  guint flush_id;
  GSource *socket_watch;
  gboolean started;
  gboolean finished;
  gboolean client_gone;
};

G_DEFINE_FINAL_TYPE (AgentExecServerExecution, agentexec_server_execution, G_TYPE_OBJECT)

static void run_step (AgentExecServerExecution *self);
static void finish (AgentExecServerExecution *self);

/* Writing */

static void
write_line (AgentExecServerExecution *self, char *line)
{
  SoupMessageBody *body;

  if (self->msg == NULL || self->client_gone)
    {
      g_free (line);
      return;
    }
  body = soup_server_message_get_response_body (self->msg);
  soup_message_body_append (body, SOUP_MEMORY_TAKE, line, strlen (line));
  soup_server_message_unpause (self->msg);
}

static JsonNode *
string_node (const char *text, gsize len)
{
  JsonNode *node = json_node_new (JSON_NODE_VALUE);
  g_autofree char *valid = g_utf8_make_valid (text, len);

  json_node_set_string (node, valid);
  return node;
}

static void
write_output (AgentExecServerExecution *self, AgentExecStream stream, const char *data, gsize len)
{
  g_autofree char *stamp = _agentexec_server_timestamp ();
  JsonNode *timestamp = json_node_new (JSON_NODE_VALUE);

  json_node_set_string (timestamp, stamp);
  write_line (self, _agentexec_server_event_line (
                        stream == AGENTEXEC_STREAM_STDOUT ? "stdout" : "stderr", "text",
                        string_node (data, len), "timestamp", timestamp, NULL));
}

/* Writes what @stream holds up to its last complete UTF-8 character. */
static void
flush_stream (AgentExecServerExecution *self, AgentExecStream stream)
{
  GByteArray *carry = self->carry[stream];
  gsize complete = _agentexec_server_utf8_complete_prefix ((const char *) carry->data, carry->len);

  if (complete == 0)
    return;
  write_output (self, stream, (const char *) carry->data, complete);
  g_byte_array_remove_range (carry, 0, complete);
}

static gboolean
on_flush_idle (gpointer data)
{
  AgentExecServerExecution *self = data;

  self->flush_id = 0;
  flush_stream (self, AGENTEXEC_STREAM_STDOUT);
  flush_stream (self, AGENTEXEC_STREAM_STDERR);
  return G_SOURCE_REMOVE;
}

/* Chunks delivered together (print() writes the text and the newline
 * apart) go out as one event, once the pending emissions are dispatched;
 * a switch of stream writes the other stream's first, keeping the order.
 * The executor delivers every chunk of the call before its completion. */
static void
on_output (AgentExecExecutionInput *input, AgentExecStream stream, GBytes *chunk, gpointer data)
{
  AgentExecServerExecution *self = data;

  if (self->finished || stream > AGENTEXEC_STREAM_STDERR)
    return;
  if (self->carry[1 - stream]->len > 0)
    flush_stream (self, 1 - stream);
  g_byte_array_append (self->carry[stream], g_bytes_get_data (chunk, NULL),
                       g_bytes_get_size (chunk));
  self->streamed[stream] += g_bytes_get_size (chunk);
  if (self->carry[stream]->len >= 64 * 1024)
    flush_stream (self, stream);
  else if (self->flush_id == 0)
    self->flush_id = g_timeout_add (COALESCE_MS, on_flush_idle, self);
}

/* What the result holds beyond what was streamed (no output is lost, also
 * when a backend delivers its last chunk late or not at all). */
static void
write_unstreamed (AgentExecServerExecution *self)
{
  const char *texts[2] = {
    agentexec_execution_result_get_stdout (self->result),
    agentexec_execution_result_get_stderr (self->result),
  };

  for (int s = 0; s < 2; s++)
    {
      gsize len = strlen (texts[s]);

      if (self->carry[s]->len > 0)
        write_output (self, s, (const char *) self->carry[s]->data, self->carry[s]->len);
      g_byte_array_set_size (self->carry[s], 0);
      if (self->streamed[s] < len)
        write_output (self, s, texts[s] + self->streamed[s], len - self->streamed[s]);
    }
}

static gboolean
on_keepalive (gpointer data)
{
  AgentExecServerExecution *self = data;

  write_line (self, _agentexec_server_event_line ("keepalive", NULL));
  return G_SOURCE_CONTINUE;
}

/* The client */

static void
client_left (AgentExecServerExecution *self)
{
  if (self->client_gone)
    return;
  self->client_gone = TRUE;
  g_debug ("execution %p: the client went away, cancelling its run", self);
  g_cancellable_cancel (self->cancellable);
  if (!self->started)
    finish (self);
}

static void
on_msg_finished (SoupServerMessage *msg, gpointer data)
{
  AgentExecServerExecution *self = data;

  g_signal_handlers_disconnect_by_data (msg, self);
  g_clear_object (&self->msg);
  if (!self->finished)
    client_left (self);
}

/* Readable with nothing to read: the client closed its side. */
static gboolean
on_socket_event (GSocket *socket, GIOCondition condition, gpointer data)
{
  AgentExecServerExecution *self = data;
  char byte;
  gssize got = recv (g_socket_get_fd (socket), &byte, 1, MSG_PEEK | MSG_DONTWAIT);

  if (got > 0)
    {
      /* A pipelined request: libsoup reads it after this response. */
      self->socket_watch = NULL;
      return G_SOURCE_REMOVE;
    }
  if (got < 0 && (errno == EAGAIN || errno == EINTR) && !(condition & (G_IO_HUP | G_IO_ERR)))
    return G_SOURCE_CONTINUE;
  self->socket_watch = NULL;
  client_left (self);
  return G_SOURCE_REMOVE;
}

static void
watch_client (AgentExecServerExecution *self)
{
  GSocket *socket = soup_server_message_get_socket (self->msg);

  if (socket == NULL)
    return;
  self->socket_watch = g_socket_create_source (socket, G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
  g_source_set_callback (self->socket_watch, G_SOURCE_FUNC (on_socket_event), self, NULL);
  g_source_set_static_name (self->socket_watch, "[agentexec] execute client");
  g_source_attach (self->socket_watch, NULL);
  g_source_unref (self->socket_watch);
}

/* Running */

static void
on_step_done (GObject *source, GAsyncResult *res, gpointer data)
{
  g_autoptr (AgentExecServerExecution) self = data;
  g_autoptr (AgentExecExecutionResult) result = NULL;
  g_autoptr (GError) error = NULL;

  result = agentexec_code_executor_execute_code_with_output_finish (self->executor, res, &error);
  if (self->step == self->main_step)
    {
      self->result = g_steal_pointer (&result);
      self->error = g_steal_pointer (&error);
    }
  else if (error != NULL && self->step < self->main_step)
    self->error = g_steal_pointer (&error);
  else if (result != NULL && self->step < self->main_step &&
           agentexec_execution_result_get_outcome (result) != AGENTEXEC_OUTCOME_OK)
    self->error =
        g_error_new (AGENTEXEC_ERROR, AGENTEXEC_ERROR_INVALID_INPUT, "Setting env_vars failed: %s",
                     agentexec_execution_result_get_stderr (result));
  g_clear_object (&self->input);
  self->step++;
  if (self->error != NULL || self->step >= self->steps->len ||
      g_cancellable_is_cancelled (self->cancellable))
    finish (self);
  else
    run_step (self);
}

static void
run_step (AgentExecServerExecution *self)
{
  gboolean main_step = self->step == self->main_step;

  self->input =
      agentexec_execution_input_new (g_ptr_array_index (self->steps, self->step), self->language);
  agentexec_execution_input_set_execution_id (self->input, self->execution_id);
  if (self->timeout_ms > 0)
    agentexec_execution_input_set_timeout_ms (self->input, self->timeout_ms);
  /* Only the code's own output streams, not the env_vars prologue's. */
  agentexec_code_executor_execute_code_with_output_async (
      self->executor, NULL, self->input, main_step ? on_output : NULL,
      main_step ? g_object_ref (self) : NULL, main_step ? g_object_unref : NULL, self->cancellable,
      on_step_done, g_object_ref (self));
}

static void
write_count (AgentExecServerExecution *self)
{
  JsonNode *count = json_node_new (JSON_NODE_VALUE);

  json_node_set_int (count, self->count);
  write_line (
      self, _agentexec_server_event_line ("number_of_executions", "execution_count", count, NULL));
}

/*
 * _agentexec_server_execution_start:
 *
 * Its turn in the context has come: runs the code (between the env_vars
 * prologue and epilogue when there are any).
 */
void
_agentexec_server_execution_start (AgentExecServerExecution *self)
{
  g_return_if_fail (!self->started);

  self->started = TRUE;
  if (self->finished)
    return;
  if (g_cancellable_is_cancelled (self->cancellable))
    {
      finish (self);
      return;
    }
  if (self->socket_watch != NULL)
    {
      g_source_destroy (self->socket_watch);
      self->socket_watch = NULL;
    }
  if (self->msg != NULL)
    watch_client (self);
  write_count (self);
  run_step (self);
}

static void
write_end (AgentExecServerExecution *self)
{
  if (self->result != NULL)
    {
      g_autoptr (GPtrArray) lines = NULL;

      write_unstreamed (self);
      lines = _agentexec_server_result_lines (self->result, self->language, self->timeout_ms);
      for (guint i = 0; i < lines->len; i++)
        write_line (self, g_strdup (g_ptr_array_index (lines, i)));
    }
  else if (self->error != NULL || self->cancel_reason != NULL)
    {
      on_flush_idle (self);
      gboolean cancelled =
          self->error == NULL || g_error_matches (self->error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

      write_line (self, _agentexec_server_error_line (
                            cancelled ? "ExecutionCancelled" : "ExecutorError",
                            cancelled && self->cancel_reason != NULL ? self->cancel_reason
                                                                     : self->error->message,
                            ""));
    }
  write_line (self, _agentexec_server_event_line ("end_of_execution", NULL));
  if (self->msg != NULL)
    {
      soup_message_body_complete (soup_server_message_get_response_body (self->msg));
      soup_server_message_unpause (self->msg);
    }
}

static void
finish (AgentExecServerExecution *self)
{
  if (self->finished)
    return;
  self->finished = TRUE;
  g_clear_handle_id (&self->keepalive_id, g_source_remove);
  g_clear_handle_id (&self->flush_id, g_source_remove);
  if (self->socket_watch != NULL)
    g_source_destroy (self->socket_watch);
  self->socket_watch = NULL;
  write_end (self);
  g_signal_emit (self, signals[FINISHED], 0);
}

/*
 * _agentexec_server_execution_cancel:
 * @reason: what the client's error line says
 *
 * Stops the run (it ends with an ExecutionCancelled error), or drops the
 * execution when it has not started yet.
 */
void
_agentexec_server_execution_cancel (AgentExecServerExecution *self, const char *reason)
{
  if (self->finished)
    return;
  if (self->cancel_reason == NULL)
    self->cancel_reason = g_strdup (reason);
  g_cancellable_cancel (self->cancellable);
  if (!self->started)
    finish (self);
}

gboolean
_agentexec_server_execution_is_finished (AgentExecServerExecution *self)
{
  return self->finished;
}

gboolean
_agentexec_server_execution_client_gone (AgentExecServerExecution *self)
{
  return self->client_gone;
}

void
_agentexec_server_execution_set_count (AgentExecServerExecution *self, guint count)
{
  self->count = count;
}

static void
build_steps (AgentExecServerExecution *self)
{
  self->steps = g_ptr_array_new_with_free_func (g_free);
  if (self->env != NULL && json_object_get_size (self->env) > 0)
    g_ptr_array_add (self->steps, _agentexec_server_env_prologue (self->language, self->env));
  self->main_step = self->steps->len;
  g_ptr_array_add (self->steps, g_strdup (self->code));
  if (self->main_step > 0)
    g_ptr_array_add (self->steps, g_strdup (_agentexec_server_env_epilogue (self->language)));
}

/*
 * _agentexec_server_execution_new:
 * @msg: the request; its response (200, chunked NDJSON) starts at once
 * @language: canonical
 * @env: (nullable): env_vars, checked
 * @timeout_ms: the server's limit for one run (0: none)
 */
AgentExecServerExecution *
_agentexec_server_execution_new (AgentExecCodeExecutor *executor,
                                 SoupServerMessage *msg,
                                 const char *code,
                                 const char *language,
                                 const char *execution_id,
                                 JsonObject *env,
                                 guint timeout_ms)
{
  AgentExecServerExecution *self = g_object_new (AGENTEXEC_TYPE_SERVER_EXECUTION, NULL);
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);

  self->executor = g_object_ref (executor);
  self->msg = g_object_ref (msg);
  self->code = g_strdup (code);
  self->language = g_strdup (language);
  self->execution_id = g_strdup (execution_id);
  self->env = env != NULL ? json_object_ref (env) : NULL;
  self->timeout_ms = timeout_ms;
  build_steps (self);

  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_message_headers_set_encoding (headers, SOUP_ENCODING_CHUNKED);
  soup_message_headers_set_content_type (headers, "application/x-ndjson", NULL);
  soup_message_headers_replace (headers, "Cache-Control", "no-store");
  g_signal_connect (msg, "finished", G_CALLBACK (on_msg_finished), self);
  self->keepalive_id = g_timeout_add (AGENTEXEC_SERVER_KEEPALIVE_MS, on_keepalive, self);
  g_source_set_static_name (g_main_context_find_source_by_id (NULL, self->keepalive_id),
                            "[agentexec] keepalive");
  watch_client (self);
  return self;
}

static void
agentexec_server_execution_dispose (GObject *object)
{
  AgentExecServerExecution *self = AGENTEXEC_SERVER_EXECUTION (object);

  g_clear_handle_id (&self->keepalive_id, g_source_remove);
  g_clear_handle_id (&self->flush_id, g_source_remove);
  if (self->socket_watch != NULL)
    g_source_destroy (self->socket_watch);
  self->socket_watch = NULL;
  if (self->msg != NULL)
    g_signal_handlers_disconnect_by_data (self->msg, self);
  g_clear_object (&self->msg);
  g_clear_object (&self->input);
  g_clear_object (&self->result);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->executor);
  g_clear_pointer (&self->env, json_object_unref);
  G_OBJECT_CLASS (agentexec_server_execution_parent_class)->dispose (object);
}

static void
agentexec_server_execution_finalize (GObject *object)
{
  AgentExecServerExecution *self = AGENTEXEC_SERVER_EXECUTION (object);

  g_clear_error (&self->error);
  g_clear_pointer (&self->steps, g_ptr_array_unref);
  g_byte_array_unref (self->carry[0]);
  g_byte_array_unref (self->carry[1]);
  g_free (self->code);
  g_free (self->language);
  g_free (self->execution_id);
  g_free (self->cancel_reason);
  G_OBJECT_CLASS (agentexec_server_execution_parent_class)->finalize (object);
}

static void
agentexec_server_execution_class_init (AgentExecServerExecutionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = agentexec_server_execution_dispose;
  object_class->finalize = agentexec_server_execution_finalize;

  /* Emitted once, after end_of_execution was queued (or the client left). */
  signals[FINISHED] = g_signal_new ("finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                    NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
agentexec_server_execution_init (AgentExecServerExecution *self)
{
  self->cancellable = g_cancellable_new ();
  self->carry[0] = g_byte_array_new ();
  self->carry[1] = g_byte_array_new ();
}
