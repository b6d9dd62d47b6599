/* agentexec-base-executor.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "agentexec-base-executor-private.h"
#include "agentexec-code-executor-private.h"
#include "agentexec-execution-result-private.h"
#include "agentexec-language-private.h"

/**
 * AgentExecBaseExecutor:
 *
 * The base class of the built-in backends. It holds the settings every
 * executor has (`stateful`, `timeout-ms`, `max-output-bytes`, the ADK
 * delimiters and retry counts), resolves or detects the language, and wraps
 * the backend's [vfunc@AgentExec.BaseExecutor.run] in the one retry policy of
 * the library: an infrastructure failure
 * (%AGENTEXEC_ERROR_BACKEND_UNAVAILABLE, a refused or dropped connection) is
 * retried up to `max-retries` times, waiting `retry-delay-ms` doubled at each
 * attempt (capped at 30 s, with ±25 % jitter, cancellable). Code errors are
 * never retried here: they are results, and the LLM retries them under
 * `error-retry-attempts`.
 *
 * A cancelled run ends the same way in every backend, sync and async: when
 * the cancellable is cancelled before the run returns, the code is stopped
 * and the call fails with %G_IO_ERROR_CANCELLED (the output written until
 * then was delivered by [signal@AgentExec.CodeExecutor::output]), never
 * with a result. (An async call whose cancellable is cancelled after the
 * run but before its callback also fails so, as GIO's tasks do.)
 *
 * A run stopped at its timeout (outcome %AGENTEXEC_OUTCOME_DEADLINE_EXCEEDED)
 * keeps the output it wrote, and its standard error ends with ADK's
 * sentence "Code execution timed out after N seconds." (N as ADK prints its
 * `timeout_seconds`: `5`, or `1.5` for 1500 ms), whatever the backend.
 *
 * Executors written in Python or JavaScript may subclass it (implementing
 * `do_run`) or implement [iface@AgentExec.CodeExecutor] directly.
 *
 * Since: 1.0
 */

#define MAX_RETRY_DELAY_MS 30000
#define MAX_RETRY_AFTER_MS (5 * 60 * 1000)

/* A wait the peer asked for (HTTP Retry-After), set by run in this thread. */
static GPrivate retry_after_hint = G_PRIVATE_INIT (NULL);

typedef struct
{
  GStrv code_block_delimiters;
  GStrv execution_result_delimiters;
  guint64 max_output_bytes;
  guint error_retry_attempts;
  guint max_retries;
  guint retry_delay_ms;
  guint timeout_ms;
  guint stateful : 1;
  guint long_running : 1;
  guint optimize_data_file : 1;
  guint builtin : 1;
  guint initialized : 1;
} AgentExecBaseExecutorPrivate;

static void code_executor_iface_init (AgentExecCodeExecutorInterface *iface);

G_DEFINE_ABSTRACT_TYPE_WITH_CODE (AgentExecBaseExecutor,
                                  agentexec_base_executor,
                                  G_TYPE_OBJECT,
                                  G_ADD_PRIVATE (AgentExecBaseExecutor)
                                      G_IMPLEMENT_INTERFACE (AGENTEXEC_TYPE_CODE_EXECUTOR,
                                                             code_executor_iface_init))

enum
{
  PROP_0,
  PROP_STATEFUL,
  PROP_LONG_RUNNING,
  PROP_OPTIMIZE_DATA_FILE,
  PROP_ERROR_RETRY_ATTEMPTS,
  PROP_MAX_RETRIES,
  PROP_RETRY_DELAY_MS,
  PROP_TIMEOUT_MS,
  PROP_MAX_OUTPUT_BYTES,
  PROP_CODE_BLOCK_DELIMITERS,
  PROP_EXECUTION_RESULT_DELIMITERS,
  PROP_BUILTIN,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum
{
  RETRY,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static const char *const default_code_block_delimiters[] = { "```tool_code\n", "\n```",
                                                             "```python\n", "\n```", NULL };
static const char *const default_execution_result_delimiters[] = { "```tool_output\n", "\n```",
                                                                   NULL };

#define PRIV(self)                                                                                 \
  ((AgentExecBaseExecutorPrivate *) agentexec_base_executor_get_instance_private (self))

static void
agentexec_base_executor_finalize (GObject *object)
{
  AgentExecBaseExecutorPrivate *priv = PRIV (AGENTEXEC_BASE_EXECUTOR (object));

  g_clear_pointer (&priv->code_block_delimiters, g_strfreev);
  g_clear_pointer (&priv->execution_result_delimiters, g_strfreev);

  G_OBJECT_CLASS (agentexec_base_executor_parent_class)->finalize (object);
}

static void
agentexec_base_executor_get_property (GObject *object,
                                      guint prop_id,
                                      GValue *value,
                                      GParamSpec *pspec)
{
  AgentExecBaseExecutorPrivate *priv = PRIV (AGENTEXEC_BASE_EXECUTOR (object));

  switch (prop_id)
    {
    case PROP_STATEFUL:
      g_value_set_boolean (value, priv->stateful);
      break;
    case PROP_LONG_RUNNING:
      g_value_set_boolean (value, priv->long_running);
      break;
    case PROP_OPTIMIZE_DATA_FILE:
      g_value_set_boolean (value, priv->optimize_data_file);
      break;
    case PROP_ERROR_RETRY_ATTEMPTS:
      g_value_set_uint (value, priv->error_retry_attempts);
      break;
    case PROP_MAX_RETRIES:
      g_value_set_uint (value, priv->max_retries);
      break;
    case PROP_RETRY_DELAY_MS:
      g_value_set_uint (value, priv->retry_delay_ms);
      break;
    case PROP_TIMEOUT_MS:
      g_value_set_uint (value, priv->timeout_ms);
      break;
    case PROP_MAX_OUTPUT_BYTES:
      g_value_set_uint64 (value, priv->max_output_bytes);
      break;
    case PROP_CODE_BLOCK_DELIMITERS:
      g_value_set_boxed (value, priv->code_block_delimiters);
      break;
    case PROP_EXECUTION_RESULT_DELIMITERS:
      g_value_set_boxed (value, priv->execution_result_delimiters);
      break;
    case PROP_BUILTIN:
      g_value_set_boolean (value, priv->builtin);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static gboolean
delimiters_valid (const char *const *pairs)
{
  guint n = pairs != NULL ? g_strv_length ((char **) pairs) : 0;

  if (n == 0 || n % 2 != 0)
    return FALSE;
  for (guint i = 0; i < n; i++)
    if (pairs[i][0] == '\0')
      return FALSE;
  return TRUE;
}

static void
set_delimiters (GObject *object,
                GStrv *field,
                const char *const *value,
                const char *const *fallback,
                guint prop_id)
{
  if (value != NULL && !delimiters_valid (value))
    {
      g_critical ("%s: “%s” takes pairs of non-empty strings (start, end, start, end...); "
                  "keeping the ADK defaults",
                  G_OBJECT_TYPE_NAME (object), properties[prop_id]->name);
      value = NULL;
    }
  if (value == NULL)
    value = fallback;
  if (*field != NULL && g_strv_equal ((const char *const *) *field, value))
    return;
  g_strfreev (*field);
  *field = g_strdupv ((char **) value);
  g_object_notify_by_pspec (object, properties[prop_id]);
}

static void
set_flag (GObject *object, guint *field_value, gboolean value, guint prop_id)
{
  if (*field_value == (guint) !!value)
    return;
  *field_value = !!value;
  g_object_notify_by_pspec (object, properties[prop_id]);
}

static void
set_uint (GObject *object, guint *field, guint value, guint prop_id)
{
  if (*field == value)
    return;
  *field = value;
  g_object_notify_by_pspec (object, properties[prop_id]);
}

static void
agentexec_base_executor_set_property (GObject *object,
                                      guint prop_id,
                                      const GValue *value,
                                      GParamSpec *pspec)
{
  AgentExecBaseExecutorPrivate *priv = PRIV (AGENTEXEC_BASE_EXECUTOR (object));
  guint flag;

  switch (prop_id)
    {
    case PROP_STATEFUL:
      flag = priv->stateful;
      set_flag (object, &flag, g_value_get_boolean (value), prop_id);
      priv->stateful = flag;
      break;
    case PROP_LONG_RUNNING:
      flag = priv->long_running;
      set_flag (object, &flag, g_value_get_boolean (value), prop_id);
      priv->long_running = flag;
      break;
    case PROP_OPTIMIZE_DATA_FILE:
      flag = priv->optimize_data_file;
      set_flag (object, &flag, g_value_get_boolean (value), prop_id);
      priv->optimize_data_file = flag;
      break;
    case PROP_ERROR_RETRY_ATTEMPTS:
      set_uint (object, &priv->error_retry_attempts, g_value_get_uint (value), prop_id);
      break;
    case PROP_MAX_RETRIES:
      set_uint (object, &priv->max_retries, g_value_get_uint (value), prop_id);
      break;
    case PROP_RETRY_DELAY_MS:
      set_uint (object, &priv->retry_delay_ms, g_value_get_uint (value), prop_id);
      break;
    case PROP_TIMEOUT_MS:
      set_uint (object, &priv->timeout_ms, g_value_get_uint (value), prop_id);
      break;
    case PROP_MAX_OUTPUT_BYTES:
      if (priv->max_output_bytes != g_value_get_uint64 (value))
        {
          priv->max_output_bytes = g_value_get_uint64 (value);
          g_object_notify_by_pspec (object, pspec);
        }
      break;
    case PROP_CODE_BLOCK_DELIMITERS:
      set_delimiters (object, &priv->code_block_delimiters, g_value_get_boxed (value),
                      default_code_block_delimiters, prop_id);
      break;
    case PROP_EXECUTION_RESULT_DELIMITERS:
      set_delimiters (object, &priv->execution_result_delimiters, g_value_get_boxed (value),
                      default_execution_result_delimiters, prop_id);
      break;
    case PROP_BUILTIN:
      /* Construct-only: a subclass may have set it in its instance init. */
      priv->builtin = priv->builtin || g_value_get_boolean (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
real_close (AgentExecBaseExecutor *self)
{
}

static gboolean
real_process_llm_request (AgentExecBaseExecutor *self, JsonObject *request, GError **error)
{
  return TRUE;
}

static GParamSpec *
flag_property (const char *name, gboolean default_value)
{
  return g_param_spec_boolean (
      name, NULL, NULL, default_value,
      (G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));
}

static GParamSpec *
uint_property (const char *name, guint maximum, guint default_value)
{
  return g_param_spec_uint (
      name, NULL, NULL, 0, maximum, default_value,
      (G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));
}

static void
agentexec_base_executor_class_init (AgentExecBaseExecutorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags =
      (G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  object_class->finalize = agentexec_base_executor_finalize;
  object_class->get_property = agentexec_base_executor_get_property;
  object_class->set_property = agentexec_base_executor_set_property;
  klass->close = real_close;
  klass->process_llm_request = real_process_llm_request;

  /**
   * AgentExecBaseExecutor:stateful:
   *
   * Whether runs with the same `execution-id` share one persistent
   * interpreter, so variables, imports and functions persist.
   *
   * Since: 1.0
   */
  properties[PROP_STATEFUL] = flag_property ("stateful", FALSE);

  /**
   * AgentExecBaseExecutor:long-running:
   *
   * Whether the executor is meant for long-running code (ADK's flag; a hint
   * for callers and frameworks).
   *
   * Since: 1.0
   */
  properties[PROP_LONG_RUNNING] = flag_property ("long-running", FALSE);

  /**
   * AgentExecBaseExecutor:optimize-data-file:
   *
   * Whether the agent-loop flow turns inline text/csv parts into input files
   * plus an exploration snippet (ADK's data-file optimisation).
   *
   * Since: 1.0
   */
  properties[PROP_OPTIMIZE_DATA_FILE] = flag_property ("optimize-data-file", FALSE);

  /**
   * AgentExecBaseExecutor:error-retry-attempts:
   *
   * How many consecutive code errors in one invocation the LLM may retry
   * before the flow stops executing its code (ADK's `error_retry_attempts`).
   *
   * Since: 1.0
   */
  properties[PROP_ERROR_RETRY_ATTEMPTS] = uint_property ("error-retry-attempts", 1000, 2);

  /**
   * AgentExecBaseExecutor:max-retries:
   *
   * How many times an infrastructure failure (backend unreachable, dropped
   * connection) is retried before the run fails with
   * %AGENTEXEC_ERROR_RETRIES_EXHAUSTED.
   *
   * Since: 1.0
   */
  properties[PROP_MAX_RETRIES] = uint_property ("max-retries", 100, 0);

  /**
   * AgentExecBaseExecutor:retry-delay-ms:
   *
   * The delay before the first retry; doubled at each further one (capped at
   * 30 s, with jitter).
   *
   * Since: 1.0
   */
  properties[PROP_RETRY_DELAY_MS] = uint_property ("retry-delay-ms", 600000, 250);

  /**
   * AgentExecBaseExecutor:timeout-ms:
   *
   * The default timeout of a run in milliseconds (0: none). The code is
   * killed when it passes, with outcome DEADLINE_EXCEEDED.
   *
   * Since: 1.0
   */
  properties[PROP_TIMEOUT_MS] = uint_property ("timeout-ms", G_MAXUINT, 60000);

  /**
   * AgentExecBaseExecutor:max-output-bytes:
   *
   * How much of each output stream is kept; the rest is dropped (without
   * buffering it) and the result's truncated flag set.
   *
   * Since: 1.0
   */
  properties[PROP_MAX_OUTPUT_BYTES] =
      g_param_spec_uint64 ("max-output-bytes", NULL, NULL, 0, G_MAXUINT64, 1024 * 1024, flags);

  /**
   * AgentExecBaseExecutor:code-block-delimiters:
   *
   * Start and end delimiters of code blocks, as a flat list of pairs; ADK's
   * default is ```` ```tool_code\n ````, `\n```` ` then ```` ```python\n ````,
   * `\n```` `.
   *
   * Since: 1.0
   */
  properties[PROP_CODE_BLOCK_DELIMITERS] =
      g_param_spec_boxed ("code-block-delimiters", NULL, NULL, G_TYPE_STRV, flags);

  /**
   * AgentExecBaseExecutor:execution-result-delimiters:
   *
   * The start and end delimiters of execution results in text; ADK's
   * default is ```` ```tool_output\n ```` and `\n```` `.
   *
   * Since: 1.0
   */
  properties[PROP_EXECUTION_RESULT_DELIMITERS] =
      g_param_spec_boxed ("execution-result-delimiters", NULL, NULL, G_TYPE_STRV, flags);

  /**
   * AgentExecBaseExecutor:builtin:
   *
   * Whether the model runs the code itself (Gemini's code execution, as
   * [class@AgentExec.BuiltInExecutor]): then
   * [class@AgentExec.CodeExecutionFlow] runs nothing from the model's
   * replies and does no data-file work, as ADK does for its
   * `BuiltInCodeExecutor`. Set at construction.
   *
   * Since: 1.0
   */
  properties[PROP_BUILTIN] =
      g_param_spec_boolean ("builtin", NULL, NULL, FALSE,
                            G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * AgentExecBaseExecutor::retry:
   * @self: the executor
   * @input: the input being run
   * @attempt: the attempt that failed (from 1)
   * @delay_ms: how long the executor waits before the next attempt
   * @error: why the attempt failed (an infrastructure failure)
   *
   * Emitted when an attempt failed with an infrastructure failure and the
   * executor is about to wait and try again (see
   * [property@AgentExec.BaseExecutor:max-retries]). Like
   * [signal@AgentExec.CodeExecutor::output], it is emitted in the calling
   * thread for a sync call and in the caller's thread-default main context
   * for an async one.
   *
   * Since: 1.0
   */
  signals[RETRY] = g_signal_new ("retry", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                 NULL, NULL, G_TYPE_NONE, 4, AGENTEXEC_TYPE_EXECUTION_INPUT,
                                 G_TYPE_UINT, G_TYPE_UINT, G_TYPE_ERROR);
}

static void
agentexec_base_executor_init (AgentExecBaseExecutor *self)
{
}

/**
 * _agentexec_base_executor_set_initialized:
 * @self: an executor
 * @initialized: whether its g_initable_init() succeeded
 *
 * Called by every backend that implements [iface@Gio.Initable] at the end of
 * its init(): until then the executor refuses to run anything (a keyword
 * constructor in Python or g_object_new() in C and GJS does not call init(),
 * which is where the backends check their safety settings).
 */
void
_agentexec_base_executor_set_initialized (AgentExecBaseExecutor *self, gboolean initialized)
{
  PRIV (self)->initialized = initialized;
}

/**
 * _agentexec_base_executor_check_initialized:
 * @self: an executor
 * @error: return location for a #GError
 *
 * Returns: %TRUE when @self may run code: it is not a [iface@Gio.Initable],
 *   or its init() succeeded; else %FALSE with %AGENTEXEC_ERROR_NOT_INITIALIZED
 */
gboolean
_agentexec_base_executor_check_initialized (AgentExecBaseExecutor *self, GError **error)
{
  const char *type_name = G_OBJECT_TYPE_NAME (self);

  if (!G_IS_INITABLE (self) || PRIV (self)->initialized)
    return TRUE;
  g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_NOT_INITIALIZED,
               "This %s was not initialised, so it refuses to run code: it was created "
               "without g_initable_init() (a Python keyword constructor or g_object_new() "
               "skips it), or its init() failed. Create it with its _new() function or "
               "g_initable_new(), or call init() and check its error before running code",
               type_name);
  return FALSE;
}

static AgentExecExecutionResult *
run_once (AgentExecBaseExecutor *self,
          AgentExecExecutorContext *context,
          AgentExecExecutionInput *input,
          const char *language,
          GCancellable *cancellable,
          GError **error)
{
  AgentExecBaseExecutorClass *klass = AGENTEXEC_BASE_EXECUTOR_GET_CLASS (self);

  if (!_agentexec_base_executor_check_initialized (self, error))
    return NULL;
  if (klass->run == NULL)
    {
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_FAILED,
                   "%s does not implement run: a subclass of AgentExecBaseExecutor must",
                   G_OBJECT_TYPE_NAME (self));
      return NULL;
    }
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;
  return klass->run (self, context, input, language, cancellable, error);
}

static gboolean
give_up (AgentExecBaseExecutor *self, guint attempt, GError *cause, GError **error)
{
  AgentExecBaseExecutorPrivate *priv = PRIV (self);

  if (!_agentexec_error_is_transient (cause) || attempt > priv->max_retries)
    {
      if (attempt > 1 && _agentexec_error_is_transient (cause))
        g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_RETRIES_EXHAUSTED,
                     "Gave up after %u attempts (max-retries is %u): %s. Check that the "
                     "backend is running, or raise max-retries",
                     attempt, priv->max_retries, cause->message);
      else
        g_propagate_error (error, g_error_copy (cause));
      return TRUE;
    }
  return FALSE;
}

typedef struct
{
  AgentExecBaseExecutor *self;
  AgentExecExecutionInput *input;
  guint attempt;
  guint delay_ms;
  GError *error;
} RetryEmission;

static void
retry_emission_free (gpointer data)
{
  RetryEmission *e = data;

  g_object_unref (e->self);
  g_object_unref (e->input);
  g_error_free (e->error);
  g_free (e);
}

static gboolean
emit_retry_in_context (gpointer data)
{
  RetryEmission *e = data;

  g_signal_emit (e->self, signals[RETRY], 0, e->input, e->attempt, e->delay_ms, e->error);
  return G_SOURCE_REMOVE;
}

/* ::retry, in the caller's context (the output context of an async run). */
static void
emit_retry (AgentExecBaseExecutor *self,
            AgentExecExecutionInput *input,
            guint attempt,
            guint delay_ms,
            const GError *error)
{
  GMainContext *context = _agentexec_code_executor_get_output_context ();
  RetryEmission *e;

  if (!g_signal_has_handler_pending (self, signals[RETRY], 0, TRUE))
    return;
  e = g_new0 (RetryEmission, 1);
  e->self = g_object_ref (self);
  e->input = g_object_ref (input);
  e->attempt = attempt;
  e->delay_ms = delay_ms;
  e->error = g_error_copy (error);
  if (context == NULL)
    {
      emit_retry_in_context (e);
      retry_emission_free (e);
      return;
    }
  g_main_context_invoke_full (context, G_PRIORITY_DEFAULT, emit_retry_in_context, e,
                              retry_emission_free);
}

static guint
take_retry_after_hint (void)
{
  guint delay_ms = GPOINTER_TO_UINT (g_private_get (&retry_after_hint));

  g_private_set (&retry_after_hint, NULL);
  return delay_ms;
}

/* @ms in seconds as ADK prints its timeout_seconds: "5" for a whole number,
 * else the shortest decimal ("1.5", "0.25"). */
static char *
format_seconds (guint ms)
{
  char buffer[G_ASCII_DTOSTR_BUF_SIZE];
  gsize len;

  if (ms % 1000 == 0)
    return g_strdup_printf ("%u", ms / 1000);
  g_ascii_formatd (buffer, sizeof buffer, "%.3f", ms / 1000.0);
  len = strlen (buffer);
  while (len > 0 && buffer[len - 1] == '0')
    buffer[--len] = '\0';
  return g_strdup (buffer);
}

/*
 * _agentexec_timeout_sentence:
 *
 * ADK's sentence for a run stopped at its timeout:
 * "Code execution timed out after N seconds.".
 */
char *
_agentexec_timeout_sentence (guint timeout_ms)
{
  g_autofree char *seconds = format_seconds (timeout_ms);

  return g_strdup_printf ("Code execution timed out after %s seconds.", seconds);
}

/* The one timeout path of every backend: a run stopped at its deadline keeps
 * the output it had, and its standard error ends with ADK's sentence. */
static void
note_timeout (AgentExecBaseExecutor *self,
              AgentExecExecutionInput *input,
              AgentExecExecutionResult *result)
{
  const char *err = agentexec_execution_result_get_stderr (result);
  guint deadline_ms = _agentexec_execution_result_get_deadline_ms (result);
  g_autofree char *sentence = NULL;
  g_autofree char *joined = NULL;
  gsize len = strlen (err);

  if (agentexec_execution_result_get_outcome (result) != AGENTEXEC_OUTCOME_DEADLINE_EXCEEDED)
    return;
  if (deadline_ms == 0)
    deadline_ms = _agentexec_base_executor_effective_timeout_ms (self, input);
  sentence = _agentexec_timeout_sentence (deadline_ms);
  if (strstr (err, sentence) != NULL)
    return;
  joined = g_strconcat (err, len > 0 && err[len - 1] != '\n' ? "\n" : "", sentence, NULL);
  _agentexec_execution_result_set_stderr (result, joined, -1);
}

/* One way to end a cancelled run, sync and async alike (the async path's
 * GTask reports a cancelled cancellable as G_IO_ERROR_CANCELLED whatever the
 * run returned): a run whose cancellable was cancelled before it returned
 * fails with G_IO_ERROR_CANCELLED, also when the backend stopped the code
 * and gave a result with outcome CANCELLED. */
static gboolean
ended_cancelled (AgentExecExecutionResult *result, GCancellable *cancellable, GError **error)
{
  if (agentexec_execution_result_get_outcome (result) != AGENTEXEC_OUTCOME_CANCELLED &&
      !g_cancellable_is_cancelled (cancellable))
    return FALSE;
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
               "The run was cancelled and its code stopped (%zu bytes of standard output "
               "and %zu of standard error were streamed before)",
               strlen (agentexec_execution_result_get_stdout (result)),
               strlen (agentexec_execution_result_get_stderr (result)));
  return TRUE;
}

static AgentExecExecutionResult *
base_execute_code (AgentExecCodeExecutor *executor,
                   AgentExecExecutorContext *context,
                   AgentExecExecutionInput *input,
                   GCancellable *cancellable,
                   GError **error)
{
  AgentExecBaseExecutor *self = AGENTEXEC_BASE_EXECUTOR (executor);
  gint64 start = g_get_monotonic_time ();
  const char *language;

  if (!_agentexec_base_executor_check_initialized (self, error))
    return NULL;
  language = _agentexec_language_for_input (input, error);
  if (language == NULL)
    return NULL;

  for (guint attempt = 1;; attempt++)
    {
      g_autoptr (GError) local_error = NULL;
      AgentExecExecutionResult *result;
      guint retry_after_ms, delay_ms;

      take_retry_after_hint ();
      result = run_once (self, context, input, language, cancellable, &local_error);
      if (result != NULL && ended_cancelled (result, cancellable, error))
        {
          g_object_unref (result);
          return NULL;
        }
      if (result != NULL)
        {
          _agentexec_execution_result_set_attempts (result, attempt);
          if (agentexec_execution_result_get_language (result) == NULL)
            _agentexec_execution_result_set_language (result, language);
          if (agentexec_execution_result_get_duration_us (result) == 0)
            _agentexec_execution_result_set_duration_us (result, g_get_monotonic_time () - start);
          _agentexec_execution_result_settle_outcome (result);
          note_timeout (self, input, result);
          return result;
        }
      retry_after_ms = take_retry_after_hint ();
      if (give_up (self, attempt, local_error, error))
        return NULL;
      if (retry_after_ms > MAX_RETRY_AFTER_MS)
        {
          /* The peer asks for a longer wait than a run should block: report it. */
          g_propagate_error (error, g_steal_pointer (&local_error));
          return NULL;
        }
      g_debug ("Attempt %u failed (%s); retrying", attempt, local_error->message);
      delay_ms =
          MAX (_agentexec_retry_delay_ms (PRIV (self)->retry_delay_ms, attempt), retry_after_ms);
      emit_retry (self, input, attempt, delay_ms, local_error);
      if (!_agentexec_sleep_ms (delay_ms, cancellable, error))
        return NULL;
    }
}

static void
base_close (AgentExecCodeExecutor *executor)
{
  AgentExecBaseExecutor *self = AGENTEXEC_BASE_EXECUTOR (executor);

  AGENTEXEC_BASE_EXECUTOR_GET_CLASS (self)->close (self);
}

static void
base_end_session (AgentExecCodeExecutor *executor, const char *execution_id)
{
  AgentExecBaseExecutor *self = AGENTEXEC_BASE_EXECUTOR (executor);

  if (AGENTEXEC_BASE_EXECUTOR_GET_CLASS (self)->end_session != NULL)
    AGENTEXEC_BASE_EXECUTOR_GET_CLASS (self)->end_session (self, execution_id);
}

static gboolean
base_process_llm_request (AgentExecCodeExecutor *executor, JsonObject *request, GError **error)
{
  AgentExecBaseExecutor *self = AGENTEXEC_BASE_EXECUTOR (executor);

  return AGENTEXEC_BASE_EXECUTOR_GET_CLASS (self)->process_llm_request (self, request, error);
}

static void
code_executor_iface_init (AgentExecCodeExecutorInterface *iface)
{
  iface->execute_code = base_execute_code;
  iface->close = base_close;
  iface->end_session = base_end_session;
  iface->process_llm_request = base_process_llm_request;
}

/**
 * agentexec_base_executor_run: (virtual run)
 * @self: a [class@AgentExec.BaseExecutor]
 * @context: (nullable): the invocation's context
 * @input: what to run
 * @language: the canonical language to run it as
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Runs @input once, without the retry policy, language resolution or
 * timing that [method@AgentExec.CodeExecutor.execute_code] adds. Subclasses
 * implement it; callers normally use
 * [method@AgentExec.CodeExecutor.execute_code].
 *
 * Returns: (transfer full): the result, or %NULL with @error set
 *
 * Since: 1.0
 */
AgentExecExecutionResult *
agentexec_base_executor_run (AgentExecBaseExecutor *self,
                             AgentExecExecutorContext *context,
                             AgentExecExecutionInput *input,
                             const char *language,
                             GCancellable *cancellable,
                             GError **error)
{
  g_return_val_if_fail (AGENTEXEC_IS_BASE_EXECUTOR (self), NULL);
  g_return_val_if_fail (AGENTEXEC_IS_EXECUTION_INPUT (input), NULL);
  g_return_val_if_fail (language != NULL, NULL);

  return run_once (self, context, input, language, cancellable, error);
}

/**
 * agentexec_base_executor_get_stateful:
 * @self: a [class@AgentExec.BaseExecutor]
 *
 * Gets the [property@AgentExec.BaseExecutor:stateful] property.
 *
 * Gets the [property@AgentExec.BaseExecutor:stateful] property.
 *
 * Returns: the value of [property@AgentExec.BaseExecutor:stateful]
 *
 * Since: 1.0
 */
gboolean
agentexec_base_executor_get_stateful (AgentExecBaseExecutor *self)
{
  g_return_val_if_fail (AGENTEXEC_IS_BASE_EXECUTOR (self), FALSE);

  return PRIV (self)->stateful;
}

/**
 * agentexec_base_executor_set_stateful:
 * @self: a [class@AgentExec.BaseExecutor]
 * @stateful: whether sessions persist
 *
 * Sets [property@AgentExec.BaseExecutor:stateful].
 *
 * Since: 1.0
 */
void
agentexec_base_executor_set_stateful (AgentExecBaseExecutor *self, gboolean stateful)
{
  g_return_if_fail (AGENTEXEC_IS_BASE_EXECUTOR (self));

  g_object_set (self, "stateful", stateful, NULL);
}

/**
 * agentexec_base_executor_get_error_retry_attempts:
 * @self: a [class@AgentExec.BaseExecutor]
 *
 * Gets the [property@AgentExec.BaseExecutor:error-retry-attempts] property.
 *
 * Gets the [property@AgentExec.BaseExecutor:error-retry-attempts] property.
 *
 * Returns: the value of [property@AgentExec.BaseExecutor:error-retry-attempts]
 *
 * Since: 1.0
 */
guint
agentexec_base_executor_get_error_retry_attempts (AgentExecBaseExecutor *self)
{
  g_return_val_if_fail (AGENTEXEC_IS_BASE_EXECUTOR (self), 0);

  return PRIV (self)->error_retry_attempts;
}

/**
 * agentexec_base_executor_get_max_retries:
 * @self: a [class@AgentExec.BaseExecutor]
 *
 * Gets the [property@AgentExec.BaseExecutor:max-retries] property.
 *
 * Gets the [property@AgentExec.BaseExecutor:max-retries] property.
 *
 * Returns: the value of [property@AgentExec.BaseExecutor:max-retries]
 *
 * Since: 1.0
 */
guint
agentexec_base_executor_get_max_retries (AgentExecBaseExecutor *self)
{
  g_return_val_if_fail (AGENTEXEC_IS_BASE_EXECUTOR (self), 0);

  return PRIV (self)->max_retries;
}

/**
 * agentexec_base_executor_get_retry_delay_ms:
 * @self: a [class@AgentExec.BaseExecutor]
 *
 * Gets the [property@AgentExec.BaseExecutor:retry-delay-ms] property.
 *
 * Gets the [property@AgentExec.BaseExecutor:retry-delay-ms] property.
 *
 * Returns: the value of [property@AgentExec.BaseExecutor:retry-delay-ms]
 *
 * Since: 1.0
 */
guint
agentexec_base_executor_get_retry_delay_ms (AgentExecBaseExecutor *self)
{
  g_return_val_if_fail (AGENTEXEC_IS_BASE_EXECUTOR (self), 0);

  return PRIV (self)->retry_delay_ms;
}

/**
 * agentexec_base_executor_get_timeout_ms:
 * @self: a [class@AgentExec.BaseExecutor]
 *
 * Gets the [property@AgentExec.BaseExecutor:timeout-ms] property.
 *
 * Gets the [property@AgentExec.BaseExecutor:timeout-ms] property.
 *
 * Returns: the value of [property@AgentExec.BaseExecutor:timeout-ms]
 *
 * Since: 1.0
 */
guint
agentexec_base_executor_get_timeout_ms (AgentExecBaseExecutor *self)
{
  g_return_val_if_fail (AGENTEXEC_IS_BASE_EXECUTOR (self), 0);

  return PRIV (self)->timeout_ms;
}

/**
 * agentexec_base_executor_set_timeout_ms:
 * @self: a [class@AgentExec.BaseExecutor]
 * @timeout_ms: the default timeout in milliseconds, 0 for none
 *
 * Sets [property@AgentExec.BaseExecutor:timeout-ms].
 *
 * Since: 1.0
 */
void
agentexec_base_executor_set_timeout_ms (AgentExecBaseExecutor *self, guint timeout_ms)
{
  g_return_if_fail (AGENTEXEC_IS_BASE_EXECUTOR (self));

  g_object_set (self, "timeout-ms", timeout_ms, NULL);
}

/**
 * agentexec_base_executor_get_max_output_bytes:
 * @self: a [class@AgentExec.BaseExecutor]
 *
 * Gets the [property@AgentExec.BaseExecutor:max-output-bytes] property.
 *
 * Gets the [property@AgentExec.BaseExecutor:max-output-bytes] property.
 *
 * Returns: the value of [property@AgentExec.BaseExecutor:max-output-bytes]
 *
 * Since: 1.0
 */
guint64
agentexec_base_executor_get_max_output_bytes (AgentExecBaseExecutor *self)
{
  g_return_val_if_fail (AGENTEXEC_IS_BASE_EXECUTOR (self), 0);

  return PRIV (self)->max_output_bytes;
}

/**
 * agentexec_base_executor_get_code_block_delimiters:
 * @self: a [class@AgentExec.BaseExecutor]
 *
 * Gets the [property@AgentExec.BaseExecutor:code-block-delimiters] property.
 *
 * Gets the [property@AgentExec.BaseExecutor:code-block-delimiters] property.
 *
 * Returns: (transfer none) (array zero-terminated=1): the code block
 *   delimiters as a flat list of (start, end) pairs
 *
 * Since: 1.0
 */
const char *const *
agentexec_base_executor_get_code_block_delimiters (AgentExecBaseExecutor *self)
{
  g_return_val_if_fail (AGENTEXEC_IS_BASE_EXECUTOR (self), NULL);

  return (const char *const *) PRIV (self)->code_block_delimiters;
}

/**
 * agentexec_base_executor_get_execution_result_delimiters:
 * @self: a [class@AgentExec.BaseExecutor]
 *
 * Gets the [property@AgentExec.BaseExecutor:execution-result-delimiters]
 * property.
 *
 * Gets the [property@AgentExec.BaseExecutor:execution-result-delimiters]
 * property.
 *
 * Returns: (transfer none) (array zero-terminated=1): the start and end
 *   delimiters of execution results
 *
 * Since: 1.0
 */
const char *const *
agentexec_base_executor_get_execution_result_delimiters (AgentExecBaseExecutor *self)
{
  g_return_val_if_fail (AGENTEXEC_IS_BASE_EXECUTOR (self), NULL);

  return (const char *const *) PRIV (self)->execution_result_delimiters;
}

/**
 * agentexec_base_executor_get_optimize_data_file:
 * @self: a [class@AgentExec.BaseExecutor]
 *
 * Gets the [property@AgentExec.BaseExecutor:optimize-data-file] property.
 *
 * Returns: the value of [property@AgentExec.BaseExecutor:optimize-data-file]
 *
 * Since: 1.0
 */
gboolean
agentexec_base_executor_get_optimize_data_file (AgentExecBaseExecutor *self)
{
  g_return_val_if_fail (AGENTEXEC_IS_BASE_EXECUTOR (self), FALSE);

  return PRIV (self)->optimize_data_file;
}

/**
 * agentexec_base_executor_get_builtin:
 * @self: a [class@AgentExec.BaseExecutor]
 *
 * Gets the [property@AgentExec.BaseExecutor:builtin] property.
 *
 * Returns: the value of [property@AgentExec.BaseExecutor:builtin]: whether
 *   the model runs the code itself
 *
 * Since: 1.0
 */
gboolean
agentexec_base_executor_get_builtin (AgentExecBaseExecutor *self)
{
  g_return_val_if_fail (AGENTEXEC_IS_BASE_EXECUTOR (self), FALSE);

  return PRIV (self)->builtin;
}

/**
 * agentexec_base_executor_dup_code_block_delimiters:
 * @self: a [class@AgentExec.BaseExecutor]
 *
 * Gets a copy of the [property@AgentExec.BaseExecutor:code-block-delimiters]
 * property.
 *
 * Returns: (transfer full) (array zero-terminated=1): a copy of the code
 *   block delimiters as a flat list of (start, end) pairs
 *
 * Since: 1.0
 */
GStrv
agentexec_base_executor_dup_code_block_delimiters (AgentExecBaseExecutor *self)
{
  g_return_val_if_fail (AGENTEXEC_IS_BASE_EXECUTOR (self), NULL);

  return g_strdupv (PRIV (self)->code_block_delimiters);
}

/**
 * agentexec_base_executor_dup_execution_result_delimiters:
 * @self: a [class@AgentExec.BaseExecutor]
 *
 * Gets a copy of the
 * [property@AgentExec.BaseExecutor:execution-result-delimiters] property.
 *
 * Returns: (transfer full) (array zero-terminated=1): a copy of the start
 *   and end delimiters of execution results
 *
 * Since: 1.0
 */
GStrv
agentexec_base_executor_dup_execution_result_delimiters (AgentExecBaseExecutor *self)
{
  g_return_val_if_fail (AGENTEXEC_IS_BASE_EXECUTOR (self), NULL);

  return g_strdupv (PRIV (self)->execution_result_delimiters);
}

/* Private API */

/* For a subclass's instance init: the model runs its code. */
void
_agentexec_base_executor_set_builtin (AgentExecBaseExecutor *self, gboolean builtin)
{
  PRIV (self)->builtin = !!builtin;
}

guint
_agentexec_base_executor_effective_timeout_ms (AgentExecBaseExecutor *self,
                                               AgentExecExecutionInput *input)
{
  guint per_input = agentexec_execution_input_get_timeout_ms (input);

  return per_input != 0 ? per_input : PRIV (self)->timeout_ms;
}

/*
 * _agentexec_error_is_transient:
 *
 * Infrastructure failures worth another attempt. Backends report an engine
 * or service they cannot reach (refused, reset, 5xx) as BACKEND_UNAVAILABLE.
 */
gboolean
_agentexec_error_is_transient (const GError *error)
{
  if (error == NULL)
    return FALSE;
  if (error->domain == AGENTEXEC_ERROR)
    return error->code == AGENTEXEC_ERROR_BACKEND_UNAVAILABLE;
  if (error->domain == G_IO_ERROR)
    return error->code == G_IO_ERROR_CONNECTION_REFUSED ||
           error->code == G_IO_ERROR_CONNECTION_CLOSED || error->code == G_IO_ERROR_BROKEN_PIPE ||
           error->code == G_IO_ERROR_HOST_UNREACHABLE ||
           error->code == G_IO_ERROR_NETWORK_UNREACHABLE || error->code == G_IO_ERROR_BUSY;
  return FALSE;
}

/*
 * _agentexec_retry_delay_ms:
 *
 * Exponential backoff: base × 2^(attempt-1) with ±25 % jitter, so that many
 * callers retrying together spread out, capped at 30 s.
 */
guint
_agentexec_retry_delay_ms (guint base_delay_ms, guint attempt)
{
  guint64 delay = base_delay_ms;
  double jitter;

  for (guint i = 1; i < attempt && delay < MAX_RETRY_DELAY_MS; i++)
    delay *= 2;
  delay = MIN (delay, MAX_RETRY_DELAY_MS);
  jitter = g_random_double_range (0.75, 1.25);
  /* The cap holds after the jitter too: never wait longer than 30 s. */
  return (guint) MIN (delay * jitter, (double) MAX_RETRY_DELAY_MS);
}

/*
 * _agentexec_retry_after_hint:
 * @delay_ms: the shortest wait the peer asked for before another attempt
 *
 * For a backend's run, in the thread that runs it, when it fails with a
 * transient error whose peer said when to come back (an HTTP Retry-After):
 * the base class then waits at least @delay_ms (its own backoff otherwise)
 * before the next attempt, and does not retry when the peer asks for more
 * than 5 minutes. The hint is cleared at every attempt.
 */
void
_agentexec_retry_after_hint (guint delay_ms)
{
  g_private_set (&retry_after_hint, GUINT_TO_POINTER (delay_ms));
}

/*
 * _agentexec_sleep_ms:
 *
 * Sleeps, waking at once when @cancellable is cancelled (then FALSE with
 * G_IO_ERROR_CANCELLED).
 */
gboolean
_agentexec_sleep_ms (guint delay_ms, GCancellable *cancellable, GError **error)
{
  GPollFD pollfd;
  gint64 deadline = g_get_monotonic_time () + (gint64) delay_ms * 1000;

  if (cancellable == NULL || !g_cancellable_make_pollfd (cancellable, &pollfd))
    {
      g_usleep ((gulong) delay_ms * 1000);
      return TRUE;
    }
  while (!g_cancellable_is_cancelled (cancellable))
    {
      gint64 left = deadline - g_get_monotonic_time ();

      if (left <= 0)
        break;
      g_poll (&pollfd, 1, (int) ((left + 999) / 1000));
    }
  g_cancellable_release_fd (cancellable);
  return !g_cancellable_set_error_if_cancelled (cancellable, error);
}
