/* agentexec-execution-result.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "agentexec-enum-types.h"
#include "agentexec-execution-result-private.h"

/**
 * AgentExecExecutionResult:
 *
 * What an execution produced: standard output and error (valid UTF-8, each
 * capped by the executor's `max-output-bytes`), exit code or signal, the
 * [enum@AgentExec.Outcome], output files, duration and the number of attempts
 * the retry policy made.
 *
 * A non-zero exit with empty standard error is %AGENTEXEC_OUTCOME_FAILED,
 * never OK.
 *
 * Since: 1.0
 */

struct _AgentExecExecutionResult
{
  GObject           parent_instance;
  char             *stdout_text;
  char             *stderr_text;
  int               exit_code;
  int               signum;
  AgentExecOutcome  outcome;
  GPtrArray        *output_files;
  gint64            duration_us;
  guint             attempts;
  char             *language;
  char *value;
  guint             stdout_truncated : 1;
  guint             stderr_truncated : 1;
  guint             session_restarted : 1;
  guint deadline_ms;
};

G_DEFINE_FINAL_TYPE (AgentExecExecutionResult, agentexec_execution_result, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_STDOUT,
  PROP_STDERR,
  PROP_EXIT_CODE,
  PROP_SIGNAL,
  PROP_OUTCOME,
  PROP_DURATION_US,
  PROP_STDOUT_TRUNCATED,
  PROP_STDERR_TRUNCATED,
  PROP_ATTEMPTS,
  PROP_LANGUAGE,
  PROP_SESSION_RESTARTED,
  PROP_VALUE,
  N_PROPS
};

static GParamSpec *properties [N_PROPS];

static void
agentexec_execution_result_finalize (GObject *object)
{
  AgentExecExecutionResult *self = AGENTEXEC_EXECUTION_RESULT (object);

  g_clear_pointer (&self->stdout_text, g_free);
  g_clear_pointer (&self->stderr_text, g_free);
  g_clear_pointer (&self->output_files, g_ptr_array_unref);
  g_clear_pointer (&self->language, g_free);
  g_clear_pointer (&self->value, g_free);

  G_OBJECT_CLASS (agentexec_execution_result_parent_class)->finalize (object);
}

static void
agentexec_execution_result_get_property (GObject    *object,
                                         guint       prop_id,
                                         GValue     *value,
                                         GParamSpec *pspec)
{
  AgentExecExecutionResult *self = AGENTEXEC_EXECUTION_RESULT (object);

  switch (prop_id)
    {
    case PROP_STDOUT:
      g_value_set_string (value, self->stdout_text);
      break;
    case PROP_STDERR:
      g_value_set_string (value, self->stderr_text);
      break;
    case PROP_EXIT_CODE:
      g_value_set_int (value, self->exit_code);
      break;
    case PROP_SIGNAL:
      g_value_set_int (value, self->signum);
      break;
    case PROP_OUTCOME:
      g_value_set_enum (value, self->outcome);
      break;
    case PROP_DURATION_US:
      g_value_set_int64 (value, self->duration_us);
      break;
    case PROP_STDOUT_TRUNCATED:
      g_value_set_boolean (value, self->stdout_truncated);
      break;
    case PROP_STDERR_TRUNCATED:
      g_value_set_boolean (value, self->stderr_truncated);
      break;
    case PROP_ATTEMPTS:
      g_value_set_uint (value, self->attempts);
      break;
    case PROP_LANGUAGE:
      g_value_set_string (value, self->language);
      break;
    case PROP_VALUE:
      g_value_set_string (value, self->value);
      break;
    case PROP_SESSION_RESTARTED:
      g_value_set_boolean (value, self->session_restarted);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
agentexec_execution_result_set_property (GObject      *object,
                                         guint         prop_id,
                                         const GValue *value,
                                         GParamSpec   *pspec)
{
  AgentExecExecutionResult *self = AGENTEXEC_EXECUTION_RESULT (object);

  switch (prop_id)
    {
    case PROP_STDOUT:
      _agentexec_execution_result_set_stdout (self, g_value_get_string (value), -1);
      break;
    case PROP_STDERR:
      _agentexec_execution_result_set_stderr (self, g_value_get_string (value), -1);
      break;
    case PROP_EXIT_CODE:
      self->exit_code = g_value_get_int (value);
      break;
    case PROP_SIGNAL:
      self->signum = g_value_get_int (value);
      break;
    case PROP_OUTCOME:
      self->outcome = g_value_get_enum (value);
      break;
    case PROP_DURATION_US:
      self->duration_us = g_value_get_int64 (value);
      break;
    case PROP_STDOUT_TRUNCATED:
      self->stdout_truncated = g_value_get_boolean (value);
      break;
    case PROP_STDERR_TRUNCATED:
      self->stderr_truncated = g_value_get_boolean (value);
      break;
    case PROP_ATTEMPTS:
      self->attempts = g_value_get_uint (value);
      break;
    case PROP_LANGUAGE:
      _agentexec_execution_result_set_language (self, g_value_get_string (value));
      break;
    case PROP_VALUE:
      _agentexec_execution_result_set_value (self, g_value_get_string (value));
      break;
    case PROP_SESSION_RESTARTED:
      self->session_restarted = g_value_get_boolean (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static GParamSpec *
string_property (const char *name)
{
  return g_param_spec_string (name, NULL, NULL, "",
                              (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                               G_PARAM_STATIC_STRINGS));
}

static GParamSpec *
boolean_property (const char *name)
{
  return g_param_spec_boolean (name, NULL, NULL, FALSE,
                               (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                                G_PARAM_STATIC_STRINGS));
}

static void
agentexec_execution_result_class_init (AgentExecExecutionResultClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS;

  object_class->finalize = agentexec_execution_result_finalize;
  object_class->get_property = agentexec_execution_result_get_property;
  object_class->set_property = agentexec_execution_result_set_property;

  /**
   * AgentExecExecutionResult:stdout:
   *
   * Standard output as valid UTF-8 (invalid bytes and NULs become U+FFFD).
   *
   * Since: 1.0
   */
  properties [PROP_STDOUT] = string_property ("stdout");

  /**
   * AgentExecExecutionResult:stderr:
   *
   * Standard error as valid UTF-8.
   *
   * Since: 1.0
   */
  properties [PROP_STDERR] = string_property ("stderr");

  /**
   * AgentExecExecutionResult:exit-code:
   *
   * The exit status, or -1 when the program did not exit normally.
   *
   * Since: 1.0
   */
  properties [PROP_EXIT_CODE] =
    g_param_spec_int ("exit-code", NULL, NULL, G_MININT, G_MAXINT, 0, flags);

  /**
   * AgentExecExecutionResult:signal:
   *
   * The signal that ended the program, or 0.
   *
   * Since: 1.0
   */
  properties [PROP_SIGNAL] = g_param_spec_int ("signal", NULL, NULL, 0, G_MAXINT, 0, flags);

  /**
   * AgentExecExecutionResult:outcome:
   *
   * How the run ended.
   *
   * Since: 1.0
   */
  properties [PROP_OUTCOME] =
    g_param_spec_enum ("outcome", NULL, NULL, AGENTEXEC_TYPE_OUTCOME,
                       AGENTEXEC_OUTCOME_OK, flags);

  /**
   * AgentExecExecutionResult:duration-us:
   *
   * Wall-clock time of the run in microseconds.
   *
   * Since: 1.0
   */
  properties [PROP_DURATION_US] =
    g_param_spec_int64 ("duration-us", NULL, NULL, 0, G_MAXINT64, 0, flags);

  /**
   * AgentExecExecutionResult:stdout-truncated:
   *
   * Whether standard output was cut at `max-output-bytes`.
   *
   * Since: 1.0
   */
  properties [PROP_STDOUT_TRUNCATED] = boolean_property ("stdout-truncated");

  /**
   * AgentExecExecutionResult:stderr-truncated:
   *
   * Whether standard error was cut at `max-output-bytes`.
   *
   * Since: 1.0
   */
  properties [PROP_STDERR_TRUNCATED] = boolean_property ("stderr-truncated");

  /**
   * AgentExecExecutionResult:attempts:
   *
   * How many attempts the executor made (1 unless infrastructure failures
   * were retried under `max-retries`).
   *
   * Since: 1.0
   */
  properties [PROP_ATTEMPTS] =
    g_param_spec_uint ("attempts", NULL, NULL, 0, G_MAXUINT, 1, flags);

  /**
   * AgentExecExecutionResult:language:
   *
   * The canonical language the code ran as (detected when the input had none).
   *
   * Since: 1.0
   */
  properties [PROP_LANGUAGE] =
    g_param_spec_string ("language", NULL, NULL, NULL, flags);

  /**
   * AgentExecExecutionResult:session-restarted:
   *
   * Whether a stateful session was restarted before or because of this run,
   * so the variables of earlier runs are gone.
   *
   * Since: 1.0
   */
  properties [PROP_SESSION_RESTARTED] = boolean_property ("session-restarted");

  /**
   * AgentExecExecutionResult:value:
   *
   * The text of the value of the code's last expression, as an interactive
   * interpreter shows it (`repr()`, Jupyter semantics: only when the last
   * statement is an expression whose value is not `None`, and not when it
   * ends with `;`). Set by Python stateful sessions; %NULL otherwise.
   *
   * Since: 1.0
   */
  properties[PROP_VALUE] = g_param_spec_string ("value", NULL, NULL, NULL, flags);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
agentexec_execution_result_init (AgentExecExecutionResult *self)
{
  self->stdout_text = g_strdup ("");
  self->stderr_text = g_strdup ("");
  self->attempts = 1;
  self->output_files = g_ptr_array_new_with_free_func (g_object_unref);
}

/**
 * agentexec_execution_result_new:
 * @outcome: the outcome
 * @stdout_text: (nullable): standard output
 * @stderr_text: (nullable): standard error
 * @exit_code: the exit code
 * @output_files: (nullable) (element-type AgentExecFile): output files
 *
 * Creates a result; meant for executors written outside libagentexec (in
 * Python or JavaScript, say) and for tests. @outcome is settled as the
 * backends do: an OK outcome with a non-zero @exit_code becomes FAILED.
 *
 * Returns: (transfer full): a new [class@AgentExec.ExecutionResult]
 *
 * Since: 1.0
 */
AgentExecExecutionResult *
agentexec_execution_result_new (AgentExecOutcome  outcome,
                                const char       *stdout_text,
                                const char       *stderr_text,
                                int               exit_code,
                                GPtrArray        *output_files)
{
  AgentExecExecutionResult *self = _agentexec_execution_result_new_empty ();

  self->outcome = outcome;
  self->exit_code = exit_code;
  _agentexec_execution_result_set_stdout (self, stdout_text, -1);
  _agentexec_execution_result_set_stderr (self, stderr_text, -1);
  for (guint i = 0; output_files != NULL && i < output_files->len; i++)
    _agentexec_execution_result_add_output_file (self, g_ptr_array_index (output_files, i));
  _agentexec_execution_result_settle_outcome (self);

  return self;
}

/**
 * agentexec_execution_result_get_stdout:
 * @self: a [class@AgentExec.ExecutionResult]
 *
 * Gets the [property@AgentExec.ExecutionResult:stdout] property.
 *
 * Gets the [property@AgentExec.ExecutionResult:stdout] property.
 *
 * Returns: (transfer none): standard output
 *
 * Since: 1.0
 */
const char *
agentexec_execution_result_get_stdout (AgentExecExecutionResult *self)
{
  g_return_val_if_fail (AGENTEXEC_IS_EXECUTION_RESULT (self), NULL);

  return self->stdout_text;
}

/**
 * agentexec_execution_result_get_stderr:
 * @self: a [class@AgentExec.ExecutionResult]
 *
 * Gets the [property@AgentExec.ExecutionResult:stderr] property.
 *
 * Gets the [property@AgentExec.ExecutionResult:stderr] property.
 *
 * Returns: (transfer none): standard error
 *
 * Since: 1.0
 */
const char *
agentexec_execution_result_get_stderr (AgentExecExecutionResult *self)
{
  g_return_val_if_fail (AGENTEXEC_IS_EXECUTION_RESULT (self), NULL);

  return self->stderr_text;
}

/**
 * agentexec_execution_result_get_exit_code:
 * @self: a [class@AgentExec.ExecutionResult]
 *
 * Gets the [property@AgentExec.ExecutionResult:exit-code] property.
 *
 * Gets the [property@AgentExec.ExecutionResult:exit-code] property.
 *
 * Returns: the exit code, -1 when killed by a signal
 *
 * Since: 1.0
 */
int
agentexec_execution_result_get_exit_code (AgentExecExecutionResult *self)
{
  g_return_val_if_fail (AGENTEXEC_IS_EXECUTION_RESULT (self), -1);

  return self->exit_code;
}

/**
 * agentexec_execution_result_get_signal:
 * @self: a [class@AgentExec.ExecutionResult]
 *
 * Gets the [property@AgentExec.ExecutionResult:signal] property.
 *
 * Gets the [property@AgentExec.ExecutionResult:signal] property.
 *
 * Returns: the terminating signal, or 0
 *
 * Since: 1.0
 */
int
agentexec_execution_result_get_signal (AgentExecExecutionResult *self)
{
  g_return_val_if_fail (AGENTEXEC_IS_EXECUTION_RESULT (self), 0);

  return self->signum;
}

/**
 * agentexec_execution_result_get_outcome:
 * @self: a [class@AgentExec.ExecutionResult]
 *
 * Gets the [property@AgentExec.ExecutionResult:outcome] property.
 *
 * Gets the [property@AgentExec.ExecutionResult:outcome] property.
 *
 * Returns: the outcome
 *
 * Since: 1.0
 */
AgentExecOutcome
agentexec_execution_result_get_outcome (AgentExecExecutionResult *self)
{
  g_return_val_if_fail (AGENTEXEC_IS_EXECUTION_RESULT (self), AGENTEXEC_OUTCOME_ERROR);

  return self->outcome;
}

/**
 * agentexec_execution_result_get_output_files:
 * @self: a [class@AgentExec.ExecutionResult]
 *
 * Gets the files the code created or changed.
 *
 * Returns: (transfer none) (element-type AgentExecFile): files the code
 *   created or changed
 *
 * Since: 1.0
 */
GPtrArray *
agentexec_execution_result_get_output_files (AgentExecExecutionResult *self)
{
  g_return_val_if_fail (AGENTEXEC_IS_EXECUTION_RESULT (self), NULL);

  return self->output_files;
}

/**
 * agentexec_execution_result_get_duration_us:
 * @self: a [class@AgentExec.ExecutionResult]
 *
 * Gets the [property@AgentExec.ExecutionResult:duration-us] property.
 *
 * Gets the [property@AgentExec.ExecutionResult:duration-us] property.
 *
 * Returns: the wall-clock duration in microseconds
 *
 * Since: 1.0
 */
gint64
agentexec_execution_result_get_duration_us (AgentExecExecutionResult *self)
{
  g_return_val_if_fail (AGENTEXEC_IS_EXECUTION_RESULT (self), 0);

  return self->duration_us;
}

/**
 * agentexec_execution_result_get_stdout_truncated:
 * @self: a [class@AgentExec.ExecutionResult]
 *
 * Gets the [property@AgentExec.ExecutionResult:stdout-truncated] property.
 *
 * Gets the [property@AgentExec.ExecutionResult:stdout-truncated] property.
 *
 * Returns: whether standard output was truncated
 *
 * Since: 1.0
 */
gboolean
agentexec_execution_result_get_stdout_truncated (AgentExecExecutionResult *self)
{
  g_return_val_if_fail (AGENTEXEC_IS_EXECUTION_RESULT (self), FALSE);

  return self->stdout_truncated;
}

/**
 * agentexec_execution_result_get_stderr_truncated:
 * @self: a [class@AgentExec.ExecutionResult]
 *
 * Gets the [property@AgentExec.ExecutionResult:stderr-truncated] property.
 *
 * Gets the [property@AgentExec.ExecutionResult:stderr-truncated] property.
 *
 * Returns: whether standard error was truncated
 *
 * Since: 1.0
 */
gboolean
agentexec_execution_result_get_stderr_truncated (AgentExecExecutionResult *self)
{
  g_return_val_if_fail (AGENTEXEC_IS_EXECUTION_RESULT (self), FALSE);

  return self->stderr_truncated;
}

/**
 * agentexec_execution_result_get_attempts:
 * @self: a [class@AgentExec.ExecutionResult]
 *
 * Gets the [property@AgentExec.ExecutionResult:attempts] property.
 *
 * Gets the [property@AgentExec.ExecutionResult:attempts] property.
 *
 * Returns: the number of attempts made
 *
 * Since: 1.0
 */
guint
agentexec_execution_result_get_attempts (AgentExecExecutionResult *self)
{
  g_return_val_if_fail (AGENTEXEC_IS_EXECUTION_RESULT (self), 0);

  return self->attempts;
}

/**
 * agentexec_execution_result_get_language:
 * @self: a [class@AgentExec.ExecutionResult]
 *
 * Gets the [property@AgentExec.ExecutionResult:language] property.
 *
 * Gets the [property@AgentExec.ExecutionResult:language] property.
 *
 * Returns: (transfer none) (nullable): the canonical language used
 *
 * Since: 1.0
 */
const char *
agentexec_execution_result_get_language (AgentExecExecutionResult *self)
{
  g_return_val_if_fail (AGENTEXEC_IS_EXECUTION_RESULT (self), NULL);

  return self->language;
}

/**
 * agentexec_execution_result_get_value:
 * @self: a [class@AgentExec.ExecutionResult]
 *
 * Gets the [property@AgentExec.ExecutionResult:value] property.
 *
 * Returns: (transfer none) (nullable): the text of the last expression's
 *   value (see [property@AgentExec.ExecutionResult:value])
 *
 * Since: 1.0
 */
const char *
agentexec_execution_result_get_value (AgentExecExecutionResult *self)
{
  g_return_val_if_fail (AGENTEXEC_IS_EXECUTION_RESULT (self), NULL);

  return self->value;
}

/**
 * agentexec_execution_result_get_session_restarted:
 * @self: a [class@AgentExec.ExecutionResult]
 *
 * Gets the [property@AgentExec.ExecutionResult:session-restarted] property.
 *
 * Gets the [property@AgentExec.ExecutionResult:session-restarted] property.
 *
 * Returns: whether the stateful session lost its state
 *
 * Since: 1.0
 */
gboolean
agentexec_execution_result_get_session_restarted (AgentExecExecutionResult *self)
{
  g_return_val_if_fail (AGENTEXEC_IS_EXECUTION_RESULT (self), FALSE);

  return self->session_restarted;
}

/**
 * agentexec_execution_result_is_error:
 * @self: a [class@AgentExec.ExecutionResult]
 *
 * Whether the run counts as an error for the retry gate: a non-zero exit,
 * a signal, an outcome other than OK, or (ADK semantics) non-empty standard
 * error.
 *
 * Returns: %TRUE for an error
 *
 * Since: 1.0
 */
gboolean
agentexec_execution_result_is_error (AgentExecExecutionResult *self)
{
  g_return_val_if_fail (AGENTEXEC_IS_EXECUTION_RESULT (self), TRUE);

  return self->exit_code != 0 ||
         self->signum != 0 ||
         self->outcome != AGENTEXEC_OUTCOME_OK ||
         self->stderr_text[0] != '\0';
}

/**
 * agentexec_execution_result_to_json:
 * @self: a [class@AgentExec.ExecutionResult]
 *
 * Serialises the result (files as ADK file objects with base64 content).
 *
 * Returns: (transfer full): a JSON object node
 *
 * Since: 1.0
 */
JsonNode *
agentexec_execution_result_to_json (AgentExecExecutionResult *self)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  g_return_val_if_fail (AGENTEXEC_IS_EXECUTION_RESULT (self), NULL);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "outcome");
  json_builder_add_string_value (builder, agentexec_outcome_to_string (self->outcome));
  json_builder_set_member_name (builder, "stdout");
  json_builder_add_string_value (builder, self->stdout_text);
  json_builder_set_member_name (builder, "stderr");
  json_builder_add_string_value (builder, self->stderr_text);
  json_builder_set_member_name (builder, "exit_code");
  json_builder_add_int_value (builder, self->exit_code);
  json_builder_set_member_name (builder, "signal");
  json_builder_add_int_value (builder, self->signum);
  json_builder_set_member_name (builder, "language");
  json_builder_add_string_value (builder, self->language);
  json_builder_set_member_name (builder, "duration_us");
  json_builder_add_int_value (builder, self->duration_us);
  json_builder_set_member_name (builder, "stdout_truncated");
  json_builder_add_boolean_value (builder, self->stdout_truncated);
  json_builder_set_member_name (builder, "stderr_truncated");
  json_builder_add_boolean_value (builder, self->stderr_truncated);
  json_builder_set_member_name (builder, "attempts");
  json_builder_add_int_value (builder, self->attempts);
  json_builder_set_member_name (builder, "session_restarted");
  json_builder_add_boolean_value (builder, self->session_restarted);
  json_builder_set_member_name (builder, "output_files");
  json_builder_begin_array (builder);
  for (guint i = 0; i < self->output_files->len; i++)
    json_builder_add_value (builder,
                            agentexec_file_to_json (g_ptr_array_index (self->output_files, i)));
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

/* Private API for the backends */

AgentExecExecutionResult *
_agentexec_execution_result_new_empty (void)
{
  return g_object_new (AGENTEXEC_TYPE_EXECUTION_RESULT, NULL);
}

/*
 * _agentexec_text_from_bytes:
 *
 * Program output as a C string: invalid UTF-8 and NUL bytes become U+FFFD, so
 * nothing is lost silently and nothing cuts the string short.
 */
char *
_agentexec_text_from_bytes (const char *data,
                            gssize      len)
{
  GString *out;
  const char *p, *end;

  if (data == NULL)
    return g_strdup ("");
  if (len < 0)
    len = strlen (data);
  if (memchr (data, '\0', len) == NULL && g_utf8_validate (data, len, NULL))
    return g_strndup (data, len);

  out = g_string_sized_new (len + 16);
  p = data;
  end = data + len;
  while (p < end)
    {
      const char *bad;

      if (g_utf8_validate (p, end - p, &bad))
        bad = end;
      g_string_append_len (out, p, bad - p);
      if (bad == end)
        break;
      g_string_append (out, "\xef\xbf\xbd");
      p = bad + 1;
    }
  return g_string_free (out, FALSE);
}

void
_agentexec_execution_result_set_stdout (AgentExecExecutionResult *self,
                                        const char               *data,
                                        gssize                    len)
{
  g_free (self->stdout_text);
  self->stdout_text = _agentexec_text_from_bytes (data, len);
}

void
_agentexec_execution_result_set_stderr (AgentExecExecutionResult *self,
                                        const char               *data,
                                        gssize                    len)
{
  g_free (self->stderr_text);
  self->stderr_text = _agentexec_text_from_bytes (data, len);
}

/*
 * _agentexec_execution_result_set_deadline_ms:
 *
 * For a backend whose run was stopped by a limit other than the run's
 * timeout (Gemini's own): the limit that struck, which the base class names
 * in the timeout sentence instead of the run's timeout.
 */
void
_agentexec_execution_result_set_deadline_ms (AgentExecExecutionResult *self, guint deadline_ms)
{
  self->deadline_ms = deadline_ms;
}

guint
_agentexec_execution_result_get_deadline_ms (AgentExecExecutionResult *self)
{
  return self->deadline_ms;
}

void
_agentexec_execution_result_set_exit_code (AgentExecExecutionResult *self,
                                           int                       exit_code)
{
  self->exit_code = exit_code;
}

void
_agentexec_execution_result_set_signal (AgentExecExecutionResult *self,
                                        int                       signum)
{
  self->signum = signum;
}

void
_agentexec_execution_result_set_outcome (AgentExecExecutionResult *self,
                                         AgentExecOutcome          outcome)
{
  self->outcome = outcome;
}

void
_agentexec_execution_result_add_output_file (AgentExecExecutionResult *self,
                                             AgentExecFile            *file)
{
  g_ptr_array_add (self->output_files, g_object_ref (file));
}

void
_agentexec_execution_result_set_duration_us (AgentExecExecutionResult *self,
                                             gint64                    duration_us)
{
  self->duration_us = duration_us;
}

void
_agentexec_execution_result_set_truncated (AgentExecExecutionResult *self,
                                           gboolean                  stdout_truncated,
                                           gboolean                  stderr_truncated)
{
  self->stdout_truncated = !!stdout_truncated;
  self->stderr_truncated = !!stderr_truncated;
}

void
_agentexec_execution_result_set_attempts (AgentExecExecutionResult *self,
                                          guint                     attempts)
{
  self->attempts = attempts;
}

void
_agentexec_execution_result_set_language (AgentExecExecutionResult *self,
                                          const char               *language)
{
  g_free (self->language);
  self->language = g_strdup (language);
}

void
_agentexec_execution_result_set_value (AgentExecExecutionResult *self, const char *value)
{
  g_free (self->value);
  self->value = g_strdup (value);
}

void
_agentexec_execution_result_set_session_restarted (AgentExecExecutionResult *self,
                                                   gboolean                  restarted)
{
  self->session_restarted = !!restarted;
}

/*
 * _agentexec_execution_result_settle_outcome:
 *
 * An OK outcome with a non-zero exit or a signal is FAILED: a program that
 * failed silently must never look like a success.
 */
void
_agentexec_execution_result_settle_outcome (AgentExecExecutionResult *self)
{
  if (self->outcome == AGENTEXEC_OUTCOME_OK && (self->exit_code != 0 || self->signum != 0))
    self->outcome = AGENTEXEC_OUTCOME_FAILED;
}
