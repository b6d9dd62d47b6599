/* agentexec-code-execution-flow.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "agentexec-base-executor.h"
#include "agentexec-code-execution-flow-private.h"
#include "agentexec-code-execution-step-private.h"
#include "agentexec-code-execution-stream.h"
#include "agentexec-executor-context-private.h"
#include "agentexec-genai-private.h"
#include "agentexec-result-formatter.h"

/**
 * AgentExecCodeExecutionFlow:
 *
 * The agent-loop step of Google ADK's code-execution flow, around any
 * [iface@AgentExec.CodeExecutor], over genai Content JSON or plain chat text:
 *
 * - [method@AgentExec.CodeExecutionFlow.preprocess_request] before each model
 *   call: lets the executor adjust the request (the BuiltIn backend adds
 *   Gemini's code-execution tool), turns inline `text/csv` parts into input
 *   files and runs an exploration snippet on each new one (when the
 *   executor's `optimize-data-file` is set), and rewrites code-execution
 *   parts of the history into delimited text;
 * - [method@AgentExec.CodeExecutionFlow.postprocess_response] after each
 *   model reply: unless the reply is partial or the invocation has had
 *   `error-retry-attempts` code errors in a row (the retry gate), runs the
 *   first code block, records it in the [class@AgentExec.ExecutorContext]
 *   and returns the truncated reply, the result content, the state delta and
 *   the output files;
 * - [method@AgentExec.CodeExecutionFlow.process_text]: the same for plain
 *   chat text (OpenAI-style messages), returning the text up to the block
 *   with the result appended in the execution-result delimiters;
 * - [method@AgentExec.CodeExecutionFlow.stream_text]: the same for a reply
 *   that is still streaming in, each block running the moment its end
 *   delimiter arrives (a [class@AgentExec.CodeExecutionStream]; every block
 *   in order with [property@AgentExec.CodeExecutionFlow:all-blocks]).
 *
 * The flow asks a [class@AgentExec.BaseExecutor] (every backend is one) for
 * its settings through its getters: `error-retry-attempts`,
 * `optimize-data-file`, `stateful`, `code-block-delimiters`,
 * `execution-result-delimiters` and `builtin` (the model runs the code
 * itself). Another implementation of [iface@AgentExec.CodeExecutor] gets
 * ADK's defaults: 2 attempts, no data-file work, stateless, ADK's
 * delimiters, and its code is run by the flow.
 *
 * ```c
 * flow = agentexec_code_execution_flow_new (executor);
 * step = agentexec_code_execution_flow_process_text (flow, context, "inv-1", reply,
 *                                                    NULL, &error);
 * if (agentexec_code_execution_step_get_executed (step))
 *   send_to_model (agentexec_code_execution_step_get_text (step));
 * ```
 *
 * Since: 1.0
 */

#define DEFAULT_ERROR_RETRY_ATTEMPTS 2
#define CSV_MIME_TYPE "text/csv"

struct _AgentExecCodeExecutionFlow
{
  GObject parent_instance;
  AgentExecCodeExecutor *executor;
  gboolean all_blocks;
};

G_DEFINE_FINAL_TYPE (AgentExecCodeExecutionFlow, agentexec_code_execution_flow, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_EXECUTOR,
  PROP_ALL_BLOCKS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* One call: what to run and what to fill in once it ran. */
typedef struct
{
  AgentExecExecutorContext *context;
  char *invocation_id;
  AgentExecCodeExecutionStep *step;
  AgentExecExecutionInput *input;
  AgentExecFile *data_file; /* preprocess: the file explored */
  char *text;               /* process_text: the model text */
  gsize block_end;
  JsonObject *request; /* preprocess */
  GPtrArray *pending;  /* preprocess: files to explore */
  GPtrArray *steps;    /* preprocess: steps done */
} Job;

static void
job_free (Job *job)
{
  g_clear_object (&job->context);
  g_clear_pointer (&job->invocation_id, g_free);
  g_clear_object (&job->step);
  g_clear_object (&job->input);
  g_clear_object (&job->data_file);
  g_clear_pointer (&job->text, g_free);
  g_clear_pointer (&job->request, json_object_unref);
  g_clear_pointer (&job->pending, g_ptr_array_unref);
  g_clear_pointer (&job->steps, g_ptr_array_unref);
  g_free (job);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Job, job_free)

static Job *
job_new (AgentExecExecutorContext *context, const char *invocation_id)
{
  Job *job = g_new0 (Job, 1);

  job->context = g_object_ref (context);
  job->invocation_id = g_strdup (invocation_id);
  return job;
}

static void
agentexec_code_execution_flow_dispose (GObject *object)
{
  AgentExecCodeExecutionFlow *self = AGENTEXEC_CODE_EXECUTION_FLOW (object);

  g_clear_object (&self->executor);

  G_OBJECT_CLASS (agentexec_code_execution_flow_parent_class)->dispose (object);
}

static void
agentexec_code_execution_flow_get_property (GObject *object,
                                            guint prop_id,
                                            GValue *value,
                                            GParamSpec *pspec)
{
  AgentExecCodeExecutionFlow *self = AGENTEXEC_CODE_EXECUTION_FLOW (object);

  switch (prop_id)
    {
    case PROP_EXECUTOR:
      g_value_set_object (value, self->executor);
      break;
    case PROP_ALL_BLOCKS:
      g_value_set_boolean (value, self->all_blocks);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
agentexec_code_execution_flow_set_property (GObject *object,
                                            guint prop_id,
                                            const GValue *value,
                                            GParamSpec *pspec)
{
  AgentExecCodeExecutionFlow *self = AGENTEXEC_CODE_EXECUTION_FLOW (object);

  switch (prop_id)
    {
    case PROP_EXECUTOR:
      self->executor = g_value_dup_object (value);
      break;
    case PROP_ALL_BLOCKS:
      agentexec_code_execution_flow_set_all_blocks (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
agentexec_code_execution_flow_class_init (AgentExecCodeExecutionFlowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = agentexec_code_execution_flow_dispose;
  object_class->get_property = agentexec_code_execution_flow_get_property;
  object_class->set_property = agentexec_code_execution_flow_set_property;

  /**
   * AgentExecCodeExecutionFlow:executor:
   *
   * The executor that runs the code.
   *
   * Since: 1.0
   */
  properties[PROP_EXECUTOR] =
      g_param_spec_object ("executor", NULL, NULL, AGENTEXEC_TYPE_CODE_EXECUTOR,
                           G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * AgentExecCodeExecutionFlow:all-blocks:
   *
   * Whether a [class@AgentExec.CodeExecutionStream] runs every code block
   * of a reply, one after the other in reply order, instead of only the
   * first (ADK's rule, the default). The other entry points always run the
   * first block only.
   *
   * Since: 1.0
   */
  properties[PROP_ALL_BLOCKS] =
      g_param_spec_boolean ("all-blocks", NULL, NULL, FALSE,
                            G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
agentexec_code_execution_flow_init (AgentExecCodeExecutionFlow *self)
{
}

/**
 * agentexec_code_execution_flow_new:
 * @executor: the executor that runs the code
 *
 * Creates a flow that runs the code of model replies with @executor, with
 * ADK's bookkeeping (error counts, retry gate, results history) kept in the
 * [class@AgentExec.ExecutorContext] given to each call.
 *
 * Returns: (transfer full): a new [class@AgentExec.CodeExecutionFlow]
 *
 * Since: 1.0
 */
AgentExecCodeExecutionFlow *
agentexec_code_execution_flow_new (AgentExecCodeExecutor *executor)
{
  g_return_val_if_fail (AGENTEXEC_IS_CODE_EXECUTOR (executor), NULL);

  return g_object_new (AGENTEXEC_TYPE_CODE_EXECUTION_FLOW, "executor", executor, NULL);
}

/**
 * agentexec_code_execution_flow_get_executor:
 * @self: a [class@AgentExec.CodeExecutionFlow]
 *
 * Gets the [property@AgentExec.CodeExecutionFlow:executor] property.
 *
 * Gets the executor that runs the code of @self.
 *
 * Returns: (transfer none): the executor
 *
 * Since: 1.0
 */
AgentExecCodeExecutor *
agentexec_code_execution_flow_get_executor (AgentExecCodeExecutionFlow *self)
{
  g_return_val_if_fail (AGENTEXEC_IS_CODE_EXECUTION_FLOW (self), NULL);

  return self->executor;
}

/**
 * agentexec_code_execution_flow_get_all_blocks:
 * @self: a [class@AgentExec.CodeExecutionFlow]
 *
 * Gets the [property@AgentExec.CodeExecutionFlow:all-blocks] property.
 *
 * Returns: the value of [property@AgentExec.CodeExecutionFlow:all-blocks]
 *
 * Since: 1.0
 */
gboolean
agentexec_code_execution_flow_get_all_blocks (AgentExecCodeExecutionFlow *self)
{
  g_return_val_if_fail (AGENTEXEC_IS_CODE_EXECUTION_FLOW (self), FALSE);

  return self->all_blocks;
}

/**
 * agentexec_code_execution_flow_set_all_blocks:
 * @self: a [class@AgentExec.CodeExecutionFlow]
 * @all_blocks: whether streams run every block of a reply
 *
 * Sets [property@AgentExec.CodeExecutionFlow:all-blocks].
 *
 * Since: 1.0
 */
void
agentexec_code_execution_flow_set_all_blocks (AgentExecCodeExecutionFlow *self, gboolean all_blocks)
{
  g_return_if_fail (AGENTEXEC_IS_CODE_EXECUTION_FLOW (self));

  if (self->all_blocks == !!all_blocks)
    return;
  self->all_blocks = !!all_blocks;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ALL_BLOCKS]);
}

/**
 * agentexec_code_execution_flow_stream_text:
 * @self: a [class@AgentExec.CodeExecutionFlow]
 * @context: the session's [class@AgentExec.ExecutorContext]
 * @invocation_id: the current invocation
 * @cancellable: (nullable): cancels the runs
 *
 * The streaming entry point: the same step as
 * [method@AgentExec.CodeExecutionFlow.process_text] for a reply fed in
 * pieces while the model writes it, each code block running as soon as its
 * end delimiter arrives. See [class@AgentExec.CodeExecutionStream].
 *
 * Returns: (transfer full): a new [class@AgentExec.CodeExecutionStream]
 *
 * Since: 1.0
 */
AgentExecCodeExecutionStream *
agentexec_code_execution_flow_stream_text (AgentExecCodeExecutionFlow *self,
                                           AgentExecExecutorContext *context,
                                           const char *invocation_id,
                                           GCancellable *cancellable)
{
  return agentexec_code_execution_stream_new (self, context, invocation_id, cancellable);
}

/* Executor settings: what a [class@AgentExec.BaseExecutor] says, ADK's
 * defaults for other implementations of the interface. */

static AgentExecBaseExecutor *
base_executor (AgentExecCodeExecutionFlow *self)
{
  return AGENTEXEC_IS_BASE_EXECUTOR (self->executor) ? AGENTEXEC_BASE_EXECUTOR (self->executor)
                                                     : NULL;
}

static gboolean
executor_stateful (AgentExecCodeExecutionFlow *self)
{
  AgentExecBaseExecutor *base = base_executor (self);

  return base != NULL && agentexec_base_executor_get_stateful (base);
}

static gboolean
executor_optimizes_data_files (AgentExecCodeExecutionFlow *self)
{
  AgentExecBaseExecutor *base = base_executor (self);

  return base != NULL && agentexec_base_executor_get_optimize_data_file (base);
}

typedef enum
{
  CODE_BLOCK_DELIMITERS,
  EXECUTION_RESULT_DELIMITERS,
} Delimiters;

/* A copy: the executor's list may change while the flow uses it. */
static GStrv
executor_delimiters (AgentExecCodeExecutionFlow *self, Delimiters which)
{
  AgentExecBaseExecutor *base = base_executor (self);
  GStrv value = NULL;

  if (base != NULL)
    value = which == CODE_BLOCK_DELIMITERS
                ? agentexec_base_executor_dup_code_block_delimiters (base)
                : agentexec_base_executor_dup_execution_result_delimiters (base);
  if (value != NULL)
    return value;
  return g_strdupv ((char **) (which == CODE_BLOCK_DELIMITERS
                                   ? _agentexec_default_code_block_delimiters
                                   : _agentexec_default_execution_result_delimiters));
}

/**
 * agentexec_code_execution_flow_get_error_retry_attempts:
 * @self: a [class@AgentExec.CodeExecutionFlow]
 *
 * The retry gate's limit: the executor's
 * [property@AgentExec.BaseExecutor:error-retry-attempts] when it is a
 * [class@AgentExec.BaseExecutor], else ADK's 2.
 *
 * Returns: how many code errors in a row an invocation may have before its
 *   code stops being run
 *
 * Since: 1.0
 */
guint
agentexec_code_execution_flow_get_error_retry_attempts (AgentExecCodeExecutionFlow *self)
{
  AgentExecBaseExecutor *base;

  g_return_val_if_fail (AGENTEXEC_IS_CODE_EXECUTION_FLOW (self), DEFAULT_ERROR_RETRY_ATTEMPTS);

  base = base_executor (self);
  return base != NULL ? agentexec_base_executor_get_error_retry_attempts (base)
                      : DEFAULT_ERROR_RETRY_ATTEMPTS;
}

static gboolean
is_gated (AgentExecCodeExecutionFlow *self, Job *job)
{
  return _agentexec_code_execution_flow_is_gated (self, job->context, job->invocation_id);
}

/* Gemini runs the code itself: the flow leaves replies alone (ADK). */
static gboolean
is_builtin (AgentExecCodeExecutionFlow *self)
{
  AgentExecBaseExecutor *base = base_executor (self);

  return base != NULL && agentexec_base_executor_get_builtin (base);
}

static AgentExecExecutionInput *make_input_for (AgentExecCodeExecutionFlow *self,
                                                AgentExecExecutorContext *context,
                                                const char *code,
                                                const char *language,
                                                GPtrArray *files);

/* ADK's _get_or_set_execution_id: stateful executors keep one session id
 * in the context (a new random one when the context has none). */
static char *
execution_id (AgentExecCodeExecutionFlow *self, AgentExecExecutorContext *context)
{
  char *id;

  if (!executor_stateful (self))
    return NULL;
  id = agentexec_executor_context_get_execution_id (context);
  if (id == NULL)
    {
      id = g_uuid_string_random ();
      agentexec_executor_context_set_execution_id (context, id);
    }
  return id;
}

static AgentExecExecutionInput *
make_input_for (AgentExecCodeExecutionFlow *self,
                AgentExecExecutorContext *context,
                const char *code,
                const char *language,
                GPtrArray *files)
{
  AgentExecExecutionInput *input = agentexec_execution_input_new (code, language);
  g_autofree char *id = execution_id (self, context);

  if (id != NULL)
    agentexec_execution_input_set_execution_id (input, id);
  for (guint i = 0; files != NULL && i < files->len; i++)
    agentexec_execution_input_add_file (input, g_ptr_array_index (files, i));
  return input;
}

static AgentExecExecutionInput *
make_input (AgentExecCodeExecutionFlow *self,
            Job *job,
            const char *code,
            const char *language,
            GPtrArray *files)
{
  return make_input_for (self, job->context, code, language, files);
}

static JsonObject *
deep_copy_object (JsonObject *object)
{
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  g_autoptr (JsonNode) copy = NULL;

  json_node_set_object (node, object);
  copy = _agentexec_json_node_deep_copy (node);
  return json_object_ref (json_node_get_object (copy));
}

/* ADK's _post_process_code_execution_result, after the history entry:
 * result content, state delta (taken before the counts change), error
 * count, artifacts. */
static void
record_result (AgentExecExecutorContext *context,
               const char *invocation_id,
               AgentExecCodeExecutionStep *step,
               AgentExecExecutionResult *result)
{
  g_autoptr (JsonObject) part = agentexec_genai_build_code_execution_result_part (result);
  GPtrArray *files = agentexec_execution_result_get_output_files (result);

  step->executed = TRUE;
  step->execution_result = g_object_ref (result);
  step->result_content = agentexec_genai_build_content ("model", part);
  step->state_delta = agentexec_executor_context_get_state_delta (context);
  if (agentexec_execution_result_is_error (result))
    agentexec_executor_context_increment_error_count (context, invocation_id);
  else
    agentexec_executor_context_reset_error_count (context, invocation_id);
  for (guint i = 0; i < files->len; i++)
    g_ptr_array_add (step->saved_artifacts, g_object_ref (g_ptr_array_index (files, i)));
}

static void
record_history (AgentExecExecutorContext *context,
                const char *invocation_id,
                AgentExecExecutionInput *input,
                AgentExecExecutionResult *result)
{
  agentexec_executor_context_update_code_execution_result (
      context, invocation_id, agentexec_execution_input_get_code (input),
      agentexec_execution_result_get_stdout (result),
      agentexec_execution_result_get_stderr (result));
}

static void
finish_text (AgentExecCodeExecutionFlow *self, Job *job, AgentExecExecutionResult *result)
{
  g_autofree char *head = g_strndup (job->text, job->block_end);

  job->step->result_text = _agentexec_code_execution_flow_format_result (self, result);
  job->step->text = g_strconcat (head, "\n", job->step->result_text, NULL);
}

/* Everything after a run: history entry, processed file, result. */
static void
finish_run (AgentExecCodeExecutionFlow *self, Job *job, AgentExecExecutionResult *result)
{
  record_history (job->context, job->invocation_id, job->input, result);
  if (job->data_file != NULL)
    agentexec_executor_context_add_processed_file_names (
        job->context, (const char *[]){ agentexec_file_get_name (job->data_file), NULL });
  record_result (job->context, job->invocation_id, job->step, result);
  if (job->text != NULL)
    finish_text (self, job, result);
}

/* ------------------------------------------------------------------ */
/* Planning: decide what to run, without running it.                   */

/* The name ADK gives an inline image: its display name, else the local time
 * and the MIME subtype ("20250101_120000.png"). */
static char *
image_name (JsonObject *inline_data, const char *mime_type)
{
  const char *display = _agentexec_genai_object_string (inline_data, "displayName", "display_name");
  g_autoptr (GDateTime) now = NULL;
  g_autofree char *stamp = NULL;

  if (display != NULL && display[0] != '\0')
    return g_strdup (display);
  now = g_date_time_new_now_local ();
  stamp = g_date_time_format (now, "%Y%m%d_%H%M%S");
  return g_strdup_printf ("%s.%s", stamp, strrchr (mime_type, '/') + 1);
}

/* A BuiltIn reply (Gemini ran the code): as ADK, each inline image becomes
 * an artifact and the part the text "Saved as artifact: NAME. ". */
static void
save_inline_images (AgentExecCodeExecutionStep *step)
{
  JsonArray *parts = _agentexec_genai_content_parts (step->model_content);

  for (guint i = 0; parts != NULL && i < json_array_get_length (parts); i++)
    {
      JsonNode *node = json_array_get_element (parts, i);
      JsonObject *part, *inline_data;
      g_autofree char *name = NULL;
      g_autofree char *text = NULL;
      g_autofree guchar *data = NULL;
      g_autoptr (GBytes) bytes = NULL;
      const char *mime, *base64;
      gsize len = 0;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        continue;
      part = json_node_get_object (node);
      inline_data = _agentexec_genai_part_member (part, "inlineData", "inline_data");
      mime = inline_data != NULL
                 ? _agentexec_genai_object_string (inline_data, "mimeType", "mime_type")
                 : NULL;
      if (mime == NULL || !g_str_has_prefix (mime, "image/"))
        continue;
      base64 = _agentexec_genai_object_string (inline_data, "data", NULL);
      data = g_base64_decode (base64 != NULL ? base64 : "", &len);
      bytes = g_bytes_new (data, len);
      name = image_name (inline_data, mime);
      g_ptr_array_add (step->saved_artifacts, agentexec_file_new (name, mime, bytes));
      text = g_strdup_printf ("Saved as artifact: %s. ", name);
      json_object_remove_member (part, json_object_has_member (part, "inlineData") ? "inlineData"
                                                                                   : "inline_data");
      json_object_set_string_member (part, "text", text);
    }
}

static void
plan_response (AgentExecCodeExecutionFlow *self, Job *job, JsonObject *content, gboolean partial)
{
  g_auto (GStrv) delimiters = NULL;
  g_autoptr (GPtrArray) files = NULL;
  g_autofree char *language = NULL;
  g_autofree char *code = NULL;
  AgentExecCodeExecutionStep *step = job->step;

  step->model_content = deep_copy_object (content);
  if (partial)
    return;
  if (is_builtin (self))
    {
      save_inline_images (step);
      return;
    }
  if (is_gated (self, job))
    {
      step->gated = TRUE;
      return;
    }
  delimiters = executor_delimiters (self, CODE_BLOCK_DELIMITERS);
  code = _agentexec_genai_extract_code (step->model_content, (const char *const *) delimiters,
                                        &language);
  if (code == NULL || code[0] == '\0')
    {
      g_clear_pointer (&step->model_content, json_object_unref);
      step->model_content = deep_copy_object (content);
      return;
    }
  files = agentexec_executor_context_get_input_files (job->context);
  step->code = g_strdup (code);
  step->language = g_strdup (language != NULL ? language : "python");
  job->input = make_input (self, job, code, step->language, files);
}

static void
plan_text (AgentExecCodeExecutionFlow *self, Job *job, const char *text)
{
  g_auto (GStrv) delimiters = NULL;
  g_autoptr (GPtrArray) files = NULL;
  g_autofree char *language = NULL;
  g_autofree char *code = NULL;
  gsize start = 0, end = 0;
  AgentExecCodeExecutionStep *step = job->step;

  step->text = g_strdup (text);
  if (is_gated (self, job))
    {
      step->gated = TRUE;
      return;
    }
  delimiters = executor_delimiters (self, CODE_BLOCK_DELIMITERS);
  code = _agentexec_find_first_code_block (text, (const char *const *) delimiters, &start, &end,
                                           &language);
  if (code == NULL)
    return;
  g_clear_pointer (&step->text, g_free);
  files = agentexec_executor_context_get_input_files (job->context);
  job->text = g_strdup (text);
  job->block_end = end;
  step->code = g_strdup (code);
  step->language = g_strdup (language != NULL ? language : "python");
  job->input = make_input (self, job, code, step->language, files);
}

/* ------------------------------------------------------------------ */
/* Data files (ADK's data-file optimisation).                          */

static const char data_file_helper[] =
    "import csv\n"
    "\n"
    "try:\n"
    "  import pandas as pd\n"
    "except ImportError:  # explore with the standard library when pandas is missing\n"
    "  pd = None\n"
    "\n"
    "\n"
    "def crop(s: str, max_chars: int = 64) -> str:\n"
    "  \"\"\"Crops a string to max_chars characters (never more).\"\"\"\n"
    "  if len(s) <= max_chars:\n"
    "    return s\n"
    "  if max_chars <= 3:  # no room for the ellipsis\n"
    "    return s[: max(max_chars, 0)]\n"
    "  return s[: max_chars - 3] + '...'\n"
    "\n"
    "\n"
    "def read_rows(path):\n"
    "  \"\"\"A CSV file as (header, rows) with the csv module.\"\"\"\n"
    "  with open(path, newline='') as f:\n"
    "    rows = list(csv.reader(f))\n"
    "  return (rows[0] if rows else [], rows[1:])\n"
    "\n"
    "\n"
    "def explore_rows(table) -> None:\n"
    "  \"\"\"Prints some information about a (header, rows) table.\"\"\"\n"
    "  header, rows = table\n"
    "  print(f'Total rows: {len(rows)}')\n"
    "  print(f'Total columns: {len(header)}')\n"
    "  print()\n"
    "  print('Columns | Non-Null Count | Unique Values Count | Unique Values')\n"
    "  for i, name in enumerate(header):\n"
    "    values = [row[i] if i < len(row) else '' for row in rows]\n"
    "    present = [v for v in values if v != '']\n"
    "    unique = list(dict.fromkeys(values))\n"
    "    print(f'{name} | {len(present)} / {len(rows)} non-null | {len(unique)} | '\n"
    "          f'{crop(str(unique))}')\n"
    "\n"
    "\n"
    "def explore_df(df) -> None:\n"
    "  \"\"\"Prints some information about a pandas DataFrame.\"\"\"\n"
    "  if pd is None or not isinstance(df, pd.DataFrame):\n"
    "    explore_rows(df)\n"
    "    return\n"
    "  with pd.option_context(\n"
    "      'display.max_columns', None, 'display.expand_frame_repr', False\n"
    "  ):\n"
    "    # Print the column names to never encounter KeyError when selecting one.\n"
    "    df_dtypes = df.dtypes\n"
    "\n"
    "    # Obtain information about data types and missing values.\n"
    "    df_nulls = (len(df) - df.isnull().sum()).apply(\n"
    "        lambda x: f'{x} / {df.shape[0]} non-null'\n"
    "    )\n"
    "\n"
    "    # Explore unique total values in columns using `.unique()`.\n"
    "    df_unique_count = df.apply(lambda x: len(x.unique()))\n"
    "\n"
    "    # Explore unique values in columns using `.unique()`.\n"
    "    df_unique = df.apply(lambda x: crop(str(list(x.unique()))))\n"
    "\n"
    "    df_info = pd.concat(\n"
    "        (\n"
    "            df_dtypes.rename('Dtype'),\n"
    "            df_nulls.rename('Non-Null Count'),\n"
    "            df_unique_count.rename('Unique Values Count'),\n"
    "            df_unique.rename('Unique Values'),\n"
    "        ),\n"
    "        axis=1,\n"
    "    )\n"
    "    df_info.index.name = 'Columns'\n"
    "    print(f\"\"\"Total rows: {df.shape[0]}\n"
    "Total columns: {df.shape[1]}\n"
    "\n"
    "{df_info}\"\"\")\n";

/* ADK's _get_normalized_file_name: the extension dropped, other characters
 * than [A-Za-z0-9_] made "_", "_" in front of a leading digit. */
static char *
variable_name (const char *file_name)
{
  const char *dot = strrchr (file_name, '.');
  gsize len = dot != NULL && dot != file_name ? (gsize) (dot - file_name) : strlen (file_name);
  GString *name = g_string_sized_new (len + 1);

  for (gsize i = 0; i < len; i++)
    g_string_append_c (name,
                       g_ascii_isalnum (file_name[i]) || file_name[i] == '_' ? file_name[i] : '_');
  if (name->len == 0 || g_ascii_isdigit (name->str[0]))
    g_string_prepend_c (name, '_');
  return g_string_free (name, FALSE);
}

/* @s as a single-quoted Python string literal. */
static char *
python_literal (const char *s)
{
  GString *out = g_string_new ("'");

  for (const char *p = s; *p != '\0'; p++)
    {
      if (*p == '\\' || *p == '\'')
        g_string_append_c (out, '\\');
      if (*p == '\n')
        g_string_append (out, "\\n");
      else
        g_string_append_c (out, *p);
    }
  g_string_append_c (out, '\'');
  return g_string_free (out, FALSE);
}

/**
 * agentexec_code_execution_flow_get_data_file_code:
 * @file_name: the name of a CSV input file
 *
 * The exploration snippet ADK runs on a new CSV file: it loads the file
 * with pandas' `read_csv` into a variable named after the file and calls
 * `explore_df` on it, which prints the row and column counts and, per
 * column, the type, non-null count and unique values. Unlike ADK's, every
 * helper it calls is defined in the snippet, and it falls back to Python's
 * `csv` module when pandas is not installed.
 *
 * Returns: (transfer full): Python code
 *
 * Since: 1.0
 */
char *
agentexec_code_execution_flow_get_data_file_code (const char *file_name)
{
  g_autofree char *var = NULL;
  g_autofree char *literal = NULL;

  g_return_val_if_fail (file_name != NULL && file_name[0] != '\0', NULL);

  var = variable_name (file_name);
  literal = python_literal (file_name);
  return g_strdup_printf ("\n%s\n# Load the dataframe.\n"
                          "%s = pd.read_csv(%s) if pd is not None else read_rows(%s)\n\n"
                          "# Use `explore_df` to guide my analysis.\n"
                          "explore_df(%s)\n",
                          data_file_helper, var, literal, literal, var);
}

static JsonObject *
text_part (const char *text)
{
  JsonObject *part = json_object_new ();

  json_object_set_string_member (part, "text", text);
  return part;
}

static gboolean
is_csv_inline_part (JsonObject *part, const char **data)
{
  JsonObject *inline_data = _agentexec_genai_part_member (part, "inlineData", "inline_data");
  const char *mime;

  if (inline_data == NULL)
    return FALSE;
  mime = _agentexec_genai_object_string (inline_data, "mimeType", "mime_type");
  *data = _agentexec_genai_object_string (inline_data, "data", NULL);
  return mime != NULL && g_str_equal (mime, CSV_MIME_TYPE) && *data != NULL;
}

static gboolean
file_listed (GPtrArray *files, const char *name)
{
  for (guint i = 0; i < files->len; i++)
    if (g_str_equal (agentexec_file_get_name (g_ptr_array_index (files, i)), name))
      return TRUE;
  return FALSE;
}

/* ADK's _extract_and_replace_inline_files: each inline text/csv part of a
 * user content (content i, part j, from 1) becomes the text
 * "\nAvailable file: `data_<i>_<j>.csv`\n" and an input file. */
static GPtrArray *
extract_inline_files (Job *job)
{
  GPtrArray *all = agentexec_executor_context_get_input_files (job->context);
  g_autoptr (GPtrArray) added = g_ptr_array_new_with_free_func (g_object_unref);
  JsonNode *node = json_object_get_member (job->request, "contents");
  JsonArray *contents =
      node != NULL && JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;

  for (guint i = 0; contents != NULL && i < json_array_get_length (contents); i++)
    {
      JsonNode *content_node = json_array_get_element (contents, i);
      JsonObject *content;
      JsonArray *parts;
      const char *role;

      if (!JSON_NODE_HOLDS_OBJECT (content_node))
        continue;
      content = json_node_get_object (content_node);
      role = _agentexec_genai_object_string (content, "role", NULL);
      if ((role != NULL && !g_str_equal (role, "user")) ||
          (parts = _agentexec_genai_content_parts (content)) == NULL)
        continue;
      for (guint j = 0; j < json_array_get_length (parts); j++)
        {
          JsonNode *part_node = json_array_get_element (parts, j);
          g_autofree char *name = NULL;
          g_autofree char *text = NULL;
          g_autofree guchar *bytes = NULL;
          g_autoptr (JsonObject) placeholder = json_object_new ();
          const char *data = NULL;
          gsize len = 0;

          if (!JSON_NODE_HOLDS_OBJECT (part_node) ||
              !is_csv_inline_part (json_node_get_object (part_node), &data))
            continue;
          name = g_strdup_printf ("data_%u_%u.csv", i + 1, j + 1);
          bytes = g_base64_decode (data, &len);
          text = g_strdup_printf ("\nAvailable file: `%s`\n", name);
          json_object_set_string_member (placeholder, "text", text);
          json_node_set_object (part_node, placeholder);
          if (!file_listed (all, name))
            {
              g_autoptr (GBytes) content_bytes = g_bytes_new (bytes, len);
              AgentExecFile *file = agentexec_file_new (name, CSV_MIME_TYPE, content_bytes);

              g_ptr_array_add (all, g_object_ref (file));
              g_ptr_array_add (added, file);
            }
        }
    }
  if (added->len > 0)
    agentexec_executor_context_add_input_files (job->context, added);
  return all;
}

/* The files not explored yet, in order. */
static GPtrArray *
files_to_explore (Job *job, GPtrArray *all)
{
  g_auto (GStrv) processed = agentexec_executor_context_get_processed_file_names (job->context);
  GPtrArray *pending = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < all->len; i++)
    {
      AgentExecFile *file = g_ptr_array_index (all, i);

      if (!g_strv_contains ((const char *const *) processed, agentexec_file_get_name (file)) &&
          g_strcmp0 (agentexec_file_get_mime_type (file), CSV_MIME_TYPE) == 0)
        g_ptr_array_add (pending, g_object_ref (file));
    }
  return pending;
}

/* Step 0 of preprocess_request: the executor's hook, then the data files. */
static gboolean
plan_request (AgentExecCodeExecutionFlow *self, Job *job, GError **error)
{
  g_autoptr (GPtrArray) all = NULL;

  job->steps = g_ptr_array_new_with_free_func (g_object_unref);
  if (!agentexec_code_executor_process_llm_request (self->executor, job->request, error))
    return FALSE;
  if (is_builtin (self) || !executor_optimizes_data_files (self) || is_gated (self, job))
    {
      job->pending = g_ptr_array_new_with_free_func (g_object_unref);
      return TRUE;
    }
  all = extract_inline_files (job);
  job->pending = files_to_explore (job, all);
  return TRUE;
}

static void
append_content (JsonObject *request, JsonObject *content)
{
  JsonNode *node = json_object_get_member (request, "contents");

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    json_object_set_array_member (request, "contents", json_array_new ());
  json_array_add_object_element (json_object_get_array_member (request, "contents"),
                                 deep_copy_object (content));
}

/* Sets up the run of the next pending file; FALSE when none is left. */
static gboolean
plan_next_file (AgentExecCodeExecutionFlow *self, Job *job)
{
  g_autoptr (AgentExecFile) file = NULL;
  g_autoptr (GPtrArray) files = g_ptr_array_new ();
  g_autoptr (JsonObject) code_part = NULL;
  g_autofree char *code = NULL;
  g_autofree char *label = NULL;
  JsonArray *parts;

  if (job->pending->len == 0)
    return FALSE;
  file = g_ptr_array_steal_index (job->pending, 0);
  code = agentexec_code_execution_flow_get_data_file_code (agentexec_file_get_name (file));
  g_clear_object (&job->step);
  g_clear_object (&job->input);
  g_clear_object (&job->data_file);
  job->step = _agentexec_code_execution_step_new ();
  job->step->code = g_strdup (code);
  job->step->language = g_strdup ("python");
  label = g_strdup_printf ("Processing input file: `%s`", agentexec_file_get_name (file));
  code_part = agentexec_genai_build_executable_code_part (code);
  /* ADK's content: the label text, then the code. */
  job->step->model_content = agentexec_genai_build_content ("model", code_part);
  parts = json_object_get_array_member (job->step->model_content, "parts");
  json_array_remove_element (parts, 0);
  json_array_add_object_element (parts, text_part (label));
  json_array_add_object_element (parts, g_steal_pointer (&code_part));
  append_content (job->request, job->step->model_content);
  g_ptr_array_add (files, file);
  job->input = make_input (self, job, code, "python", files);
  job->data_file = g_steal_pointer (&file);
  return TRUE;
}

static void
finish_file (AgentExecCodeExecutionFlow *self, Job *job, AgentExecExecutionResult *result)
{
  finish_run (self, job, result);
  append_content (job->request, job->step->result_content);
  g_ptr_array_add (job->steps, g_steal_pointer (&job->step));
}

/* ADK converts every content of the request last, the new ones too. */
static void
rewrite_history (AgentExecCodeExecutionFlow *self, JsonObject *request)
{
  g_auto (GStrv) code = executor_delimiters (self, CODE_BLOCK_DELIMITERS);
  g_auto (GStrv) results = executor_delimiters (self, EXECUTION_RESULT_DELIMITERS);
  JsonNode *node = json_object_get_member (request, "contents");
  JsonArray *contents =
      node != NULL && JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
  const char *first_pair[] = { code[0], code[1], NULL };

  for (guint i = 0; contents != NULL && i < json_array_get_length (contents); i++)
    {
      JsonNode *content = json_array_get_element (contents, i);

      if (JSON_NODE_HOLDS_OBJECT (content))
        agentexec_genai_convert_code_execution_parts (json_node_get_object (content), first_pair,
                                                      (const char *const *) results);
    }
}

/* ------------------------------------------------------------------ */
/* Public API: sync.                                                   */

static AgentExecExecutionResult *
run_sync (AgentExecCodeExecutionFlow *self, Job *job, GCancellable *cancellable, GError **error)
{
  return agentexec_code_executor_execute_code (self->executor, job->context, job->input,
                                               cancellable, error);
}

/**
 * agentexec_code_execution_flow_preprocess_request:
 * @self: a [class@AgentExec.CodeExecutionFlow]
 * @context: the session's [class@AgentExec.ExecutorContext]
 * @invocation_id: the current invocation
 * @request: a genai request object (`{"contents": [...], ...}`), changed in
 *   place
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Prepares @request before a model call, as ADK's request processor:
 *
 * 1. [method@AgentExec.CodeExecutor.process_llm_request] (the BuiltIn
 *    backend adds Gemini's `{"codeExecution": {}}` tool);
 * 2. when the executor's `optimize-data-file` is set and the retry gate is
 *    open: each inline `text/csv` part of a user content becomes the text
 *    "\nAvailable file: `data_<i>_<j>.csv`\n" (content i, part j, from 1)
 *    and an input file of @context; each file not processed yet is explored
 *    with [func@AgentExec.CodeExecutionFlow.get_data_file_code], and the
 *    code and its result are appended to the contents;
 * 3. every content is rewritten by
 *    [func@AgentExec.genai_convert_code_execution_parts] with the executor's
 *    first code delimiter pair and its result delimiters.
 *
 * Returns: (transfer container) (element-type AgentExecCodeExecutionStep):
 *   one step per data file explored (often none), or %NULL with @error set
 *
 * Since: 1.0
 */
GPtrArray *
agentexec_code_execution_flow_preprocess_request (AgentExecCodeExecutionFlow *self,
                                                  AgentExecExecutorContext *context,
                                                  const char *invocation_id,
                                                  JsonObject *request,
                                                  GCancellable *cancellable,
                                                  GError **error)
{
  g_autoptr (Job) job = NULL;

  g_return_val_if_fail (AGENTEXEC_IS_CODE_EXECUTION_FLOW (self), NULL);
  g_return_val_if_fail (AGENTEXEC_IS_EXECUTOR_CONTEXT (context), NULL);
  g_return_val_if_fail (invocation_id != NULL, NULL);
  g_return_val_if_fail (request != NULL, NULL);

  job = job_new (context, invocation_id);
  job->request = json_object_ref (request);
  if (!plan_request (self, job, error))
    return NULL;
  while (plan_next_file (self, job))
    {
      g_autoptr (AgentExecExecutionResult) result = run_sync (self, job, cancellable, error);

      if (result == NULL)
        return NULL;
      finish_file (self, job, result);
    }
  rewrite_history (self, request);
  return g_steal_pointer (&job->steps);
}

/**
 * agentexec_code_execution_flow_postprocess_response:
 * @self: a [class@AgentExec.CodeExecutionFlow]
 * @context: the session's [class@AgentExec.ExecutorContext]
 * @invocation_id: the current invocation
 * @content: the model's reply, a genai Content object (not changed)
 * @partial: whether @content is a partial (streamed) response
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Runs the code of a model reply, as ADK's response processor. Nothing runs
 * when @partial is set, when the executor is the BuiltIn one (Gemini ran
 * it: its inline images become the step's saved artifacts, and their parts
 * the text "Saved as artifact: NAME. "), when the invocation has had
 * `error-retry-attempts` code errors in a row (the retry gate: the reply
 * passes through, and the step says
 * [method@AgentExec.CodeExecutionStep.get_gated]) or when the reply holds no
 * code. Otherwise the first code block runs with @context's input files;
 * the step holds the reply truncated after that block, the result content,
 * the state delta and the output files. The run goes into @context's
 * history, and a code error (non-empty standard error, a failed exit)
 * increments the invocation's error count while a success resets it.
 *
 * Returns: (transfer full): the step, or %NULL with @error set when the
 *   code could not be run (backend unavailable, retries exhausted,
 *   cancelled)
 *
 * Since: 1.0
 */
AgentExecCodeExecutionStep *
agentexec_code_execution_flow_postprocess_response (AgentExecCodeExecutionFlow *self,
                                                    AgentExecExecutorContext *context,
                                                    const char *invocation_id,
                                                    JsonObject *content,
                                                    gboolean partial,
                                                    GCancellable *cancellable,
                                                    GError **error)
{
  g_autoptr (Job) job = NULL;
  g_autoptr (AgentExecExecutionResult) result = NULL;

  g_return_val_if_fail (AGENTEXEC_IS_CODE_EXECUTION_FLOW (self), NULL);
  g_return_val_if_fail (AGENTEXEC_IS_EXECUTOR_CONTEXT (context), NULL);
  g_return_val_if_fail (invocation_id != NULL, NULL);
  g_return_val_if_fail (content != NULL, NULL);

  job = job_new (context, invocation_id);
  job->step = _agentexec_code_execution_step_new ();
  plan_response (self, job, content, partial);
  if (job->input == NULL)
    return g_steal_pointer (&job->step);
  result = run_sync (self, job, cancellable, error);
  if (result == NULL)
    return NULL;
  finish_run (self, job, result);
  return g_steal_pointer (&job->step);
}

/**
 * agentexec_code_execution_flow_process_text:
 * @self: a [class@AgentExec.CodeExecutionFlow]
 * @context: the session's [class@AgentExec.ExecutorContext]
 * @invocation_id: the current invocation
 * @text: the model's reply as plain text
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * The same step as [method@AgentExec.CodeExecutionFlow.postprocess_response]
 * for plain chat text (OpenAI-style `messages` content): the first code
 * block runs, and the step's [method@AgentExec.CodeExecutionStep.get_text]
 * is @text up to the end of that block, a newline and the result in the
 * execution-result delimiters (the rest of @text is dropped). When nothing
 * runs (no code, an empty block, the retry gate) the text is @text.
 *
 * Returns: (transfer full): the step, or %NULL with @error set
 *
 * Since: 1.0
 */
AgentExecCodeExecutionStep *
agentexec_code_execution_flow_process_text (AgentExecCodeExecutionFlow *self,
                                            AgentExecExecutorContext *context,
                                            const char *invocation_id,
                                            const char *text,
                                            GCancellable *cancellable,
                                            GError **error)
{
  g_autoptr (Job) job = NULL;
  g_autoptr (AgentExecExecutionResult) result = NULL;

  g_return_val_if_fail (AGENTEXEC_IS_CODE_EXECUTION_FLOW (self), NULL);
  g_return_val_if_fail (AGENTEXEC_IS_EXECUTOR_CONTEXT (context), NULL);
  g_return_val_if_fail (invocation_id != NULL, NULL);
  g_return_val_if_fail (text != NULL, NULL);

  job = job_new (context, invocation_id);
  job->step = _agentexec_code_execution_step_new ();
  plan_text (self, job, text);
  if (job->input == NULL)
    return g_steal_pointer (&job->step);
  result = run_sync (self, job, cancellable, error);
  if (result == NULL)
    return NULL;
  finish_run (self, job, result);
  return g_steal_pointer (&job->step);
}

/* ------------------------------------------------------------------ */
/* Public API: async. The executor's own async call does the running.  */

static void run_async (GTask *task);

static void
run_done (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  AgentExecCodeExecutionFlow *self = g_task_get_source_object (task);
  Job *job = g_task_get_task_data (task);
  g_autoptr (AgentExecExecutionResult) result = NULL;
  GError *error = NULL;

  result =
      agentexec_code_executor_execute_code_finish (AGENTEXEC_CODE_EXECUTOR (source), res, &error);
  if (result == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  if (job->request == NULL)
    {
      finish_run (self, job, result);
      g_task_return_pointer (task, g_steal_pointer (&job->step), g_object_unref);
      return;
    }
  finish_file (self, job, result);
  run_async (g_steal_pointer (&task));
}

/* Runs job->input, or (preprocess) the next file, or completes the task. */
static void
run_async (GTask *task)
{
  AgentExecCodeExecutionFlow *self = g_task_get_source_object (task);
  Job *job = g_task_get_task_data (task);

  if (job->request != NULL && !plan_next_file (self, job))
    {
      rewrite_history (self, job->request);
      g_task_return_pointer (task, g_steal_pointer (&job->steps),
                             (GDestroyNotify) g_ptr_array_unref);
      g_object_unref (task);
      return;
    }
  if (job->input == NULL)
    {
      g_task_return_pointer (task, g_steal_pointer (&job->step), g_object_unref);
      g_object_unref (task);
      return;
    }
  agentexec_code_executor_execute_code_async (self->executor, job->context, job->input,
                                              g_task_get_cancellable (task), run_done, task);
}

static GTask *
task_new (AgentExecCodeExecutionFlow *self,
          Job *job,
          GCancellable *cancellable,
          GAsyncReadyCallback callback,
          gpointer user_data,
          gpointer source_tag,
          const char *name)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, source_tag);
  g_task_set_name (task, name);
  g_task_set_task_data (task, job, (GDestroyNotify) job_free);
  return task;
}

/**
 * agentexec_code_execution_flow_preprocess_request_async:
 * @self: a [class@AgentExec.CodeExecutionFlow]
 * @context: the session's [class@AgentExec.ExecutorContext]
 * @invocation_id: the current invocation
 * @request: a genai request object, changed in place
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: (closure): data for @callback
 *
 * Asynchronous [method@AgentExec.CodeExecutionFlow.preprocess_request]; do
 * not touch @request until it completes.
 *
 * Since: 1.0
 */
void
agentexec_code_execution_flow_preprocess_request_async (AgentExecCodeExecutionFlow *self,
                                                        AgentExecExecutorContext *context,
                                                        const char *invocation_id,
                                                        JsonObject *request,
                                                        GCancellable *cancellable,
                                                        GAsyncReadyCallback callback,
                                                        gpointer user_data)
{
  GError *error = NULL;
  Job *job;
  GTask *task;

  g_return_if_fail (AGENTEXEC_IS_CODE_EXECUTION_FLOW (self));
  g_return_if_fail (AGENTEXEC_IS_EXECUTOR_CONTEXT (context));
  g_return_if_fail (invocation_id != NULL);
  g_return_if_fail (request != NULL);

  job = job_new (context, invocation_id);
  job->request = json_object_ref (request);
  task = task_new (self, job, cancellable, callback, user_data,
                   agentexec_code_execution_flow_preprocess_request_async,
                   "agentexec_code_execution_flow_preprocess_request_async");
  if (!plan_request (self, job, &error))
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  run_async (task);
}

/**
 * agentexec_code_execution_flow_preprocess_request_finish:
 * @self: a [class@AgentExec.CodeExecutionFlow]
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@AgentExec.CodeExecutionFlow.preprocess_request_async].
 *
 * Returns: (transfer container) (element-type AgentExecCodeExecutionStep):
 *   one step per data file explored, or %NULL with @error set
 *
 * Since: 1.0
 */
GPtrArray *
agentexec_code_execution_flow_preprocess_request_finish (AgentExecCodeExecutionFlow *self,
                                                         GAsyncResult *result,
                                                         GError **error)
{
  g_return_val_if_fail (AGENTEXEC_IS_CODE_EXECUTION_FLOW (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * agentexec_code_execution_flow_postprocess_response_async:
 * @self: a [class@AgentExec.CodeExecutionFlow]
 * @context: the session's [class@AgentExec.ExecutorContext]
 * @invocation_id: the current invocation
 * @content: the model's reply, a genai Content object (not changed)
 * @partial: whether @content is a partial (streamed) response
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: (closure): data for @callback
 *
 * Asynchronous [method@AgentExec.CodeExecutionFlow.postprocess_response].
 *
 * Since: 1.0
 */
void
agentexec_code_execution_flow_postprocess_response_async (AgentExecCodeExecutionFlow *self,
                                                          AgentExecExecutorContext *context,
                                                          const char *invocation_id,
                                                          JsonObject *content,
                                                          gboolean partial,
                                                          GCancellable *cancellable,
                                                          GAsyncReadyCallback callback,
                                                          gpointer user_data)
{
  Job *job;
  GTask *task;

  g_return_if_fail (AGENTEXEC_IS_CODE_EXECUTION_FLOW (self));
  g_return_if_fail (AGENTEXEC_IS_EXECUTOR_CONTEXT (context));
  g_return_if_fail (invocation_id != NULL);
  g_return_if_fail (content != NULL);

  job = job_new (context, invocation_id);
  job->step = _agentexec_code_execution_step_new ();
  task = task_new (self, job, cancellable, callback, user_data,
                   agentexec_code_execution_flow_postprocess_response_async,
                   "agentexec_code_execution_flow_postprocess_response_async");
  plan_response (self, job, content, partial);
  run_async (task);
}

/**
 * agentexec_code_execution_flow_postprocess_response_finish:
 * @self: a [class@AgentExec.CodeExecutionFlow]
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@AgentExec.CodeExecutionFlow.postprocess_response_async].
 *
 * Returns: (transfer full): the step, or %NULL with @error set
 *
 * Since: 1.0
 */
AgentExecCodeExecutionStep *
agentexec_code_execution_flow_postprocess_response_finish (AgentExecCodeExecutionFlow *self,
                                                           GAsyncResult *result,
                                                           GError **error)
{
  g_return_val_if_fail (AGENTEXEC_IS_CODE_EXECUTION_FLOW (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * agentexec_code_execution_flow_process_text_async:
 * @self: a [class@AgentExec.CodeExecutionFlow]
 * @context: the session's [class@AgentExec.ExecutorContext]
 * @invocation_id: the current invocation
 * @text: the model's reply as plain text
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: (closure): data for @callback
 *
 * Asynchronous [method@AgentExec.CodeExecutionFlow.process_text].
 *
 * Since: 1.0
 */
void
agentexec_code_execution_flow_process_text_async (AgentExecCodeExecutionFlow *self,
                                                  AgentExecExecutorContext *context,
                                                  const char *invocation_id,
                                                  const char *text,
                                                  GCancellable *cancellable,
                                                  GAsyncReadyCallback callback,
                                                  gpointer user_data)
{
  Job *job;
  GTask *task;

  g_return_if_fail (AGENTEXEC_IS_CODE_EXECUTION_FLOW (self));
  g_return_if_fail (AGENTEXEC_IS_EXECUTOR_CONTEXT (context));
  g_return_if_fail (invocation_id != NULL);
  g_return_if_fail (text != NULL);

  job = job_new (context, invocation_id);
  job->step = _agentexec_code_execution_step_new ();
  task = task_new (self, job, cancellable, callback, user_data,
                   agentexec_code_execution_flow_process_text_async,
                   "agentexec_code_execution_flow_process_text_async");
  plan_text (self, job, text);
  run_async (task);
}

/**
 * agentexec_code_execution_flow_process_text_finish:
 * @self: a [class@AgentExec.CodeExecutionFlow]
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@AgentExec.CodeExecutionFlow.process_text_async].
 *
 * Returns: (transfer full): the step, or %NULL with @error set
 *
 * Since: 1.0
 */
AgentExecCodeExecutionStep *
agentexec_code_execution_flow_process_text_finish (AgentExecCodeExecutionFlow *self,
                                                   GAsyncResult *result,
                                                   GError **error)
{
  g_return_val_if_fail (AGENTEXEC_IS_CODE_EXECUTION_FLOW (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ------------------------------------------------------------------ */
/* Private API, for AgentExecCodeExecutionStream.                      */

gboolean
_agentexec_code_execution_flow_is_gated (AgentExecCodeExecutionFlow *self,
                                         AgentExecExecutorContext *context,
                                         const char *invocation_id)
{
  return agentexec_executor_context_get_error_count (context, invocation_id) >=
         agentexec_code_execution_flow_get_error_retry_attempts (self);
}

GStrv
_agentexec_code_execution_flow_dup_code_block_delimiters (AgentExecCodeExecutionFlow *self)
{
  return executor_delimiters (self, CODE_BLOCK_DELIMITERS);
}

/* The input for a block of the model's reply: its code, language, the
 * context's input files and (stateful executor) the session id. */
AgentExecExecutionInput *
_agentexec_code_execution_flow_make_input (AgentExecCodeExecutionFlow *self,
                                           AgentExecExecutorContext *context,
                                           const char *code,
                                           const char *language)
{
  g_autoptr (GPtrArray) files = agentexec_executor_context_get_input_files (context);

  return make_input_for (self, context, code, language, files);
}

/* ADK's bookkeeping after a run: history entry, result content, state delta,
 * error count, artifacts; and the result in the result delimiters. */
void
_agentexec_code_execution_flow_record (AgentExecCodeExecutionFlow *self,
                                       AgentExecExecutorContext *context,
                                       const char *invocation_id,
                                       AgentExecCodeExecutionStep *step,
                                       AgentExecExecutionInput *input,
                                       AgentExecExecutionResult *result)
{
  record_history (context, invocation_id, input, result);
  record_result (context, invocation_id, step, result);
  step->result_text = _agentexec_code_execution_flow_format_result (self, result);
}

char *
_agentexec_code_execution_flow_format_result (AgentExecCodeExecutionFlow *self,
                                              AgentExecExecutionResult *result)
{
  g_auto (GStrv) delimiters = executor_delimiters (self, EXECUTION_RESULT_DELIMITERS);
  g_autoptr (AgentExecResultFormatter) formatter =
      agentexec_result_formatter_new_with_delimiters (delimiters[0], delimiters[1]);

  return agentexec_result_formatter_format_inline_result (formatter, result);
}
