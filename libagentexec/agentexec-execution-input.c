/* agentexec-execution-input.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "agentexec-execution-input.h"

/**
 * AgentExecExecutionInput:
 *
 * What to execute: the code, its language, the stateful session it belongs to,
 * input files, extra arguments, extra environment and a per-run timeout.
 *
 * ```c
 * g_autoptr(AgentExecExecutionInput) input =
 *   agentexec_execution_input_new ("print(6 * 7)", "python");
 * agentexec_execution_input_set_execution_id (input, "session-1");
 * ```
 *
 * Since: 1.0
 */

struct _AgentExecExecutionInput
{
  GObject    parent_instance;
  char      *code;
  char      *language;
  char      *execution_id;
  GPtrArray *files;
  GStrv      argv;
  GStrv      env;
  guint      timeout_ms;
};

G_DEFINE_FINAL_TYPE (AgentExecExecutionInput, agentexec_execution_input, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_CODE,
  PROP_LANGUAGE,
  PROP_EXECUTION_ID,
  PROP_ARGV,
  PROP_ENV,
  PROP_TIMEOUT_MS,
  N_PROPS
};

static GParamSpec *properties [N_PROPS];

static void
agentexec_execution_input_finalize (GObject *object)
{
  AgentExecExecutionInput *self = AGENTEXEC_EXECUTION_INPUT (object);

  g_clear_pointer (&self->code, g_free);
  g_clear_pointer (&self->language, g_free);
  g_clear_pointer (&self->execution_id, g_free);
  g_clear_pointer (&self->files, g_ptr_array_unref);
  g_clear_pointer (&self->argv, g_strfreev);
  g_clear_pointer (&self->env, g_strfreev);

  G_OBJECT_CLASS (agentexec_execution_input_parent_class)->finalize (object);
}

static void
agentexec_execution_input_get_property (GObject    *object,
                                        guint       prop_id,
                                        GValue     *value,
                                        GParamSpec *pspec)
{
  AgentExecExecutionInput *self = AGENTEXEC_EXECUTION_INPUT (object);

  switch (prop_id)
    {
    case PROP_CODE:
      g_value_set_string (value, self->code);
      break;
    case PROP_LANGUAGE:
      g_value_set_string (value, self->language);
      break;
    case PROP_EXECUTION_ID:
      g_value_set_string (value, self->execution_id);
      break;
    case PROP_ARGV:
      g_value_set_boxed (value, self->argv);
      break;
    case PROP_ENV:
      g_value_set_boxed (value, self->env);
      break;
    case PROP_TIMEOUT_MS:
      g_value_set_uint (value, self->timeout_ms);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
agentexec_execution_input_set_property (GObject      *object,
                                        guint         prop_id,
                                        const GValue *value,
                                        GParamSpec   *pspec)
{
  AgentExecExecutionInput *self = AGENTEXEC_EXECUTION_INPUT (object);

  switch (prop_id)
    {
    case PROP_CODE:
      agentexec_execution_input_set_code (self, g_value_get_string (value));
      break;
    case PROP_LANGUAGE:
      agentexec_execution_input_set_language (self, g_value_get_string (value));
      break;
    case PROP_EXECUTION_ID:
      agentexec_execution_input_set_execution_id (self, g_value_get_string (value));
      break;
    case PROP_ARGV:
      agentexec_execution_input_set_argv (self, g_value_get_boxed (value));
      break;
    case PROP_ENV:
      agentexec_execution_input_set_env (self, g_value_get_boxed (value));
      break;
    case PROP_TIMEOUT_MS:
      agentexec_execution_input_set_timeout_ms (self, g_value_get_uint (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
agentexec_execution_input_class_init (AgentExecExecutionInputClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->finalize = agentexec_execution_input_finalize;
  object_class->get_property = agentexec_execution_input_get_property;
  object_class->set_property = agentexec_execution_input_set_property;

  /**
   * AgentExecExecutionInput:code:
   *
   * The source code to run. May contain NUL-free UTF-8 of any length.
   *
   * Since: 1.0
   */
  properties [PROP_CODE] = g_param_spec_string ("code", NULL, NULL, "", flags);

  /**
   * AgentExecExecutionInput:language:
   *
   * The language (`python`, `js`, `Bash`...; case-insensitive, aliases
   * resolved by [func@AgentExec.language_resolve]). %NULL or empty: detected
   * from the code.
   *
   * Since: 1.0
   */
  properties [PROP_LANGUAGE] = g_param_spec_string ("language", NULL, NULL, NULL, flags);

  /**
   * AgentExecExecutionInput:execution-id:
   *
   * The stateful session this run belongs to; runs with the same id share
   * variables when the executor is stateful.
   *
   * Since: 1.0
   */
  properties [PROP_EXECUTION_ID] =
    g_param_spec_string ("execution-id", NULL, NULL, NULL, flags);

  /**
   * AgentExecExecutionInput:argv:
   *
   * Extra command-line arguments given to the program (`sys.argv[1:]`).
   *
   * Since: 1.0
   */
  properties [PROP_ARGV] = g_param_spec_boxed ("argv", NULL, NULL, G_TYPE_STRV, flags);

  /**
   * AgentExecExecutionInput:env:
   *
   * Extra environment variables as `KEY=VALUE` strings, added to the
   * backend's allow-listed environment.
   *
   * Since: 1.0
   */
  properties [PROP_ENV] = g_param_spec_boxed ("env", NULL, NULL, G_TYPE_STRV, flags);

  /**
   * AgentExecExecutionInput:timeout-ms:
   *
   * The timeout of this run in milliseconds; 0 uses the executor's
   * `timeout-ms`.
   *
   * Since: 1.0
   */
  properties [PROP_TIMEOUT_MS] =
    g_param_spec_uint ("timeout-ms", NULL, NULL, 0, G_MAXUINT, 0, flags);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
agentexec_execution_input_init (AgentExecExecutionInput *self)
{
  self->code = g_strdup ("");
  self->files = g_ptr_array_new_with_free_func (g_object_unref);
}

/**
 * agentexec_execution_input_new:
 * @code: the code
 * @language: (nullable): the language, or %NULL to detect it
 *
 * Creates the input of one execution: @code in @language (an alias or any
 * case; %NULL to detect it from the code). The other fields (execution id,
 * files, argv, environment, timeout) are set with the setters.
 *
 * Returns: (transfer full): a new [class@AgentExec.ExecutionInput]
 *
 * Since: 1.0
 */
AgentExecExecutionInput *
agentexec_execution_input_new (const char *code,
                               const char *language)
{
  g_return_val_if_fail (code != NULL, NULL);

  return g_object_new (AGENTEXEC_TYPE_EXECUTION_INPUT,
                       "code", code,
                       "language", language,
                       NULL);
}

static void
set_string (AgentExecExecutionInput  *self,
            char                    **field,
            const char               *value,
            guint                     prop_id)
{
  if (g_strcmp0 (*field, value) == 0)
    return;
  g_free (*field);
  *field = g_strdup (value);
  g_object_notify_by_pspec (G_OBJECT (self), properties [prop_id]);
}

static void
set_strv (AgentExecExecutionInput  *self,
          GStrv                    *field,
          const char * const       *value,
          guint                     prop_id)
{
  if (*field == NULL && value == NULL)
    return;
  if (*field != NULL && value != NULL &&
      g_strv_equal ((const char * const *) *field, value))
    return;
  g_strfreev (*field);
  *field = g_strdupv ((char **) value);
  g_object_notify_by_pspec (G_OBJECT (self), properties [prop_id]);
}

/**
 * agentexec_execution_input_get_code:
 * @self: a [class@AgentExec.ExecutionInput]
 *
 * Gets the [property@AgentExec.ExecutionInput:code] property.
 *
 * Gets the [property@AgentExec.ExecutionInput:code] property.
 *
 * Returns: (transfer none): the code
 *
 * Since: 1.0
 */
const char *
agentexec_execution_input_get_code (AgentExecExecutionInput *self)
{
  g_return_val_if_fail (AGENTEXEC_IS_EXECUTION_INPUT (self), NULL);

  return self->code;
}

/**
 * agentexec_execution_input_set_code:
 * @self: a [class@AgentExec.ExecutionInput]
 * @code: the code
 *
 * Sets the [property@AgentExec.ExecutionInput:code] property.
 *
 * Sets the [property@AgentExec.ExecutionInput:code] property.
 *
 * Since: 1.0
 */
void
agentexec_execution_input_set_code (AgentExecExecutionInput *self,
                                    const char              *code)
{
  g_return_if_fail (AGENTEXEC_IS_EXECUTION_INPUT (self));

  set_string (self, &self->code, code != NULL ? code : "", PROP_CODE);
}

/**
 * agentexec_execution_input_get_language:
 * @self: a [class@AgentExec.ExecutionInput]
 *
 * Gets the [property@AgentExec.ExecutionInput:language] property.
 *
 * Gets the [property@AgentExec.ExecutionInput:language] property.
 *
 * Returns: (transfer none) (nullable): the language as given
 *
 * Since: 1.0
 */
const char *
agentexec_execution_input_get_language (AgentExecExecutionInput *self)
{
  g_return_val_if_fail (AGENTEXEC_IS_EXECUTION_INPUT (self), NULL);

  return self->language;
}

/**
 * agentexec_execution_input_set_language:
 * @self: a [class@AgentExec.ExecutionInput]
 * @language: (nullable): the language, or %NULL to detect it
 *
 * Sets the [property@AgentExec.ExecutionInput:language] property.
 *
 * Sets the [property@AgentExec.ExecutionInput:language] property.
 *
 * Since: 1.0
 */
void
agentexec_execution_input_set_language (AgentExecExecutionInput *self,
                                        const char              *language)
{
  g_return_if_fail (AGENTEXEC_IS_EXECUTION_INPUT (self));

  set_string (self, &self->language, language, PROP_LANGUAGE);
}

/**
 * agentexec_execution_input_get_execution_id:
 * @self: a [class@AgentExec.ExecutionInput]
 *
 * Gets the [property@AgentExec.ExecutionInput:execution-id] property.
 *
 * Gets the [property@AgentExec.ExecutionInput:execution-id] property.
 *
 * Returns: (transfer none) (nullable): the stateful session id
 *
 * Since: 1.0
 */
const char *
agentexec_execution_input_get_execution_id (AgentExecExecutionInput *self)
{
  g_return_val_if_fail (AGENTEXEC_IS_EXECUTION_INPUT (self), NULL);

  return self->execution_id;
}

/**
 * agentexec_execution_input_set_execution_id:
 * @self: a [class@AgentExec.ExecutionInput]
 * @execution_id: (nullable): the stateful session id
 *
 * Sets the [property@AgentExec.ExecutionInput:execution-id] property.
 *
 * Sets the [property@AgentExec.ExecutionInput:execution-id] property.
 *
 * Since: 1.0
 */
void
agentexec_execution_input_set_execution_id (AgentExecExecutionInput *self,
                                            const char              *execution_id)
{
  g_return_if_fail (AGENTEXEC_IS_EXECUTION_INPUT (self));

  set_string (self, &self->execution_id, execution_id, PROP_EXECUTION_ID);
}

/**
 * agentexec_execution_input_get_files:
 * @self: a [class@AgentExec.ExecutionInput]
 *
 * Gets the files written into the work directory before the code runs.
 *
 * Returns: (transfer none) (element-type AgentExecFile): the input files
 *
 * Since: 1.0
 */
GPtrArray *
agentexec_execution_input_get_files (AgentExecExecutionInput *self)
{
  g_return_val_if_fail (AGENTEXEC_IS_EXECUTION_INPUT (self), NULL);

  return self->files;
}

/**
 * agentexec_execution_input_add_file:
 * @self: a [class@AgentExec.ExecutionInput]
 * @file: an input file
 *
 * Adds @file to the files written into the work directory before the code
 * runs. A later file with the same name replaces an earlier one.
 *
 * Since: 1.0
 */
void
agentexec_execution_input_add_file (AgentExecExecutionInput *self,
                                    AgentExecFile           *file)
{
  g_return_if_fail (AGENTEXEC_IS_EXECUTION_INPUT (self));
  g_return_if_fail (AGENTEXEC_IS_FILE (file));

  for (guint i = 0; i < self->files->len; i++)
    {
      AgentExecFile *existing = g_ptr_array_index (self->files, i);

      if (g_str_equal (agentexec_file_get_name (existing), agentexec_file_get_name (file)))
        {
          g_ptr_array_remove_index (self->files, i);
          break;
        }
    }
  g_ptr_array_add (self->files, g_object_ref (file));
}

/**
 * agentexec_execution_input_clear_files:
 * @self: a [class@AgentExec.ExecutionInput]
 *
 * Removes every input file.
 *
 * Since: 1.0
 */
void
agentexec_execution_input_clear_files (AgentExecExecutionInput *self)
{
  g_return_if_fail (AGENTEXEC_IS_EXECUTION_INPUT (self));

  g_ptr_array_set_size (self->files, 0);
}

/**
 * agentexec_execution_input_get_argv:
 * @self: a [class@AgentExec.ExecutionInput]
 *
 * Gets the [property@AgentExec.ExecutionInput:argv] property.
 *
 * Returns: (transfer none) (nullable) (array zero-terminated=1): extra arguments
 *
 * Since: 1.0
 */
const char * const *
agentexec_execution_input_get_argv (AgentExecExecutionInput *self)
{
  g_return_val_if_fail (AGENTEXEC_IS_EXECUTION_INPUT (self), NULL);

  return (const char * const *) self->argv;
}

/**
 * agentexec_execution_input_set_argv:
 * @self: a [class@AgentExec.ExecutionInput]
 * @argv: (nullable) (array zero-terminated=1): extra arguments
 *
 * Sets the [property@AgentExec.ExecutionInput:argv] property.
 *
 * Sets the [property@AgentExec.ExecutionInput:argv] property.
 *
 * Since: 1.0
 */
void
agentexec_execution_input_set_argv (AgentExecExecutionInput *self,
                                    const char * const      *argv)
{
  g_return_if_fail (AGENTEXEC_IS_EXECUTION_INPUT (self));

  set_strv (self, &self->argv, argv, PROP_ARGV);
}

/**
 * agentexec_execution_input_get_env:
 * @self: a [class@AgentExec.ExecutionInput]
 *
 * Gets the [property@AgentExec.ExecutionInput:env] property.
 *
 * Gets the [property@AgentExec.ExecutionInput:env] property.
 *
 * Returns: (transfer none) (nullable) (array zero-terminated=1): extra
 *   `KEY=VALUE` environment entries
 *
 * Since: 1.0
 */
const char * const *
agentexec_execution_input_get_env (AgentExecExecutionInput *self)
{
  g_return_val_if_fail (AGENTEXEC_IS_EXECUTION_INPUT (self), NULL);

  return (const char * const *) self->env;
}

/**
 * agentexec_execution_input_set_env:
 * @self: a [class@AgentExec.ExecutionInput]
 * @env: (nullable) (array zero-terminated=1): `KEY=VALUE` entries
 *
 * Sets the [property@AgentExec.ExecutionInput:env] property.
 *
 * Sets the [property@AgentExec.ExecutionInput:env] property.
 *
 * Since: 1.0
 */
void
agentexec_execution_input_set_env (AgentExecExecutionInput *self,
                                   const char * const      *env)
{
  g_return_if_fail (AGENTEXEC_IS_EXECUTION_INPUT (self));

  set_strv (self, &self->env, env, PROP_ENV);
}

/**
 * agentexec_execution_input_get_timeout_ms:
 * @self: a [class@AgentExec.ExecutionInput]
 *
 * Gets the [property@AgentExec.ExecutionInput:timeout-ms] property.
 *
 * Gets the [property@AgentExec.ExecutionInput:timeout-ms] property.
 *
 * Returns: the timeout in milliseconds; 0 means the executor's default
 *
 * Since: 1.0
 */
guint
agentexec_execution_input_get_timeout_ms (AgentExecExecutionInput *self)
{
  g_return_val_if_fail (AGENTEXEC_IS_EXECUTION_INPUT (self), 0);

  return self->timeout_ms;
}

/**
 * agentexec_execution_input_set_timeout_ms:
 * @self: a [class@AgentExec.ExecutionInput]
 * @timeout_ms: the timeout in milliseconds, 0 for the executor's default
 *
 * Sets the [property@AgentExec.ExecutionInput:timeout-ms] property.
 *
 * Sets the [property@AgentExec.ExecutionInput:timeout-ms] property.
 *
 * Since: 1.0
 */
void
agentexec_execution_input_set_timeout_ms (AgentExecExecutionInput *self,
                                          guint                    timeout_ms)
{
  g_return_if_fail (AGENTEXEC_IS_EXECUTION_INPUT (self));

  if (self->timeout_ms == timeout_ms)
    return;
  self->timeout_ms = timeout_ms;
  g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_TIMEOUT_MS]);
}
