/* agentexec-built-in-executor.c: Gemini's own code execution
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "agentexec-base-executor-private.h"
#include "agentexec-built-in-executor.h"
#include "agentexec-code-executor-private.h"
#include "agentexec-enums.h"
#include "agentexec-gemini-client-private.h"
#include "agentexec-gemini-private.h"
#include "agentexec-gemini-reply-private.h"

/**
 * AgentExecBuiltInExecutor:
 *
 * Runs Python code with Gemini's own code execution (the model's
 * `codeExecution` tool), over the Gemini REST API.
 *
 * As in Google ADK, [method@AgentExec.CodeExecutor.process_llm_request]
 * adds the code-execution tool to a model request, so that the model runs
 * the code it writes; for Gemini 2 and later models only. Beyond ADK,
 * [method@AgentExec.CodeExecutor.execute_code] runs given code on demand: it
 * asks the model (`generateContent`, with the tool and an instruction to
 * run the code verbatim) and maps the answer into an
 * [class@AgentExec.ExecutionResult]: the `codeExecutionResult` outcome
 * (`OUTCOME_OK`, `OUTCOME_FAILED` with the output as stderr,
 * `OUTCOME_DEADLINE_EXCEEDED`) and output, and `inlineData` parts (plots)
 * as output files, named as ADK names them when the service gives no name.
 * Only Python can run there. Input files are sent as inline data. Gemini
 * runs every request in a fresh sandbox, so `stateful` has no effect here,
 * and command-line arguments or environment variables cannot be passed.
 *
 * The API key comes from [method@AgentExec.BuiltInExecutor.set_api_key],
 * else from `GEMINI_API_KEY`, else from `GOOGLE_API_KEY`; it is sent in the
 * `x-goog-api-key` header and never appears in logs or error messages.
 * Rate limiting (429) and server errors (5xx) are retried under
 * `max-retries`, waiting at least what `Retry-After` asks. When a handler
 * is connected to [signal@AgentExec.CodeExecutor::output] (or `streaming`
 * is set), the answer is streamed (`streamGenerateContent?alt=sse`) and
 * execution output is emitted as it arrives.
 *
 * ```c
 * g_autoptr(AgentExecBuiltInExecutor) executor = agentexec_built_in_executor_new ();
 * g_autoptr(AgentExecExecutionInput) input =
 *   agentexec_execution_input_new ("print(6 * 7)", "python");
 * g_autoptr(AgentExecExecutionResult) result =
 *   agentexec_code_executor_execute_code (AGENTEXEC_CODE_EXECUTOR (executor),
 *                                         NULL, input, NULL, &error);
 * ```
 *
 * Since: 1.0
 */

struct _AgentExecBuiltInExecutor
{
  AgentExecBaseExecutor parent_instance;

  GMutex mutex;
  char *model;
  char *base_url;
  char *api_key;
  guint request_timeout_ms;
  guint streaming : 1;
  guint model_fallback : 1;
};

G_DEFINE_FINAL_TYPE (AgentExecBuiltInExecutor,
                     agentexec_built_in_executor,
                     AGENTEXEC_TYPE_BASE_EXECUTOR)

enum
{
  PROP_0,
  PROP_MODEL,
  PROP_BASE_URL,
  PROP_API_KEY,
  PROP_REQUEST_TIMEOUT_MS,
  PROP_STREAMING,
  PROP_MODEL_FALLBACK,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* The settings one run uses, copied under the lock. */
typedef struct
{
  char *model;
  char *base_url;
  char *api_key;
  guint request_timeout_ms;
  gboolean streaming;
} Settings;

static void
settings_clear (Settings *settings)
{
  g_free (settings->model);
  g_free (settings->base_url);
  if (settings->api_key != NULL)
    memset (settings->api_key, 0, strlen (settings->api_key));
  g_free (settings->api_key);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Settings, settings_clear)

static const char *
env_api_key (void)
{
  const char *key = g_getenv ("GEMINI_API_KEY");

  if (key == NULL || *key == '\0')
    key = g_getenv ("GOOGLE_API_KEY");
  return key != NULL && *key != '\0' ? key : NULL;
}

static void
settings_init (AgentExecBuiltInExecutor *self, Settings *settings)
{
  g_mutex_lock (&self->mutex);
  settings->model = g_strdup (self->model);
  settings->base_url = g_strdup (self->base_url);
  settings->api_key = g_strdup (self->api_key != NULL ? self->api_key : env_api_key ());
  settings->request_timeout_ms = self->request_timeout_ms;
  settings->streaming = self->streaming;
  g_mutex_unlock (&self->mutex);
}

static void
agentexec_built_in_executor_finalize (GObject *object)
{
  AgentExecBuiltInExecutor *self = AGENTEXEC_BUILT_IN_EXECUTOR (object);

  g_free (self->model);
  g_free (self->base_url);
  if (self->api_key != NULL)
    memset (self->api_key, 0, strlen (self->api_key));
  g_free (self->api_key);
  g_mutex_clear (&self->mutex);

  G_OBJECT_CLASS (agentexec_built_in_executor_parent_class)->finalize (object);
}

static void
agentexec_built_in_executor_get_property (GObject *object,
                                          guint prop_id,
                                          GValue *value,
                                          GParamSpec *pspec)
{
  AgentExecBuiltInExecutor *self = AGENTEXEC_BUILT_IN_EXECUTOR (object);

  switch (prop_id)
    {
    case PROP_MODEL:
      g_value_take_string (value, agentexec_built_in_executor_dup_model (self));
      break;
    case PROP_BASE_URL:
      g_value_take_string (value, agentexec_built_in_executor_dup_base_url (self));
      break;
    case PROP_REQUEST_TIMEOUT_MS:
      g_value_set_uint (value, agentexec_built_in_executor_get_request_timeout_ms (self));
      break;
    case PROP_STREAMING:
      g_value_set_boolean (value, agentexec_built_in_executor_get_streaming (self));
      break;
    case PROP_MODEL_FALLBACK:
      g_value_set_boolean (value, agentexec_built_in_executor_get_model_fallback (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

/* Sets *field under the lock; TRUE if it changed. */
static gboolean
set_string (AgentExecBuiltInExecutor *self, char **field, const char *value)
{
  gboolean changed;

  g_mutex_lock (&self->mutex);
  changed = g_strcmp0 (*field, value) != 0;
  if (changed)
    {
      if (*field != NULL && field == &self->api_key)
        memset (*field, 0, strlen (*field));
      g_free (*field);
      *field = g_strdup (value);
    }
  g_mutex_unlock (&self->mutex);
  return changed;
}

static void
agentexec_built_in_executor_set_property (GObject *object,
                                          guint prop_id,
                                          const GValue *value,
                                          GParamSpec *pspec)
{
  AgentExecBuiltInExecutor *self = AGENTEXEC_BUILT_IN_EXECUTOR (object);

  switch (prop_id)
    {
    case PROP_MODEL:
      agentexec_built_in_executor_set_model (self, g_value_get_string (value));
      break;
    case PROP_BASE_URL:
      agentexec_built_in_executor_set_base_url (self, g_value_get_string (value));
      break;
    case PROP_API_KEY:
      agentexec_built_in_executor_set_api_key (self, g_value_get_string (value));
      break;
    case PROP_REQUEST_TIMEOUT_MS:
      agentexec_built_in_executor_set_request_timeout_ms (self, g_value_get_uint (value));
      break;
    case PROP_STREAMING:
      agentexec_built_in_executor_set_streaming (self, g_value_get_boolean (value));
      break;
    case PROP_MODEL_FALLBACK:
      agentexec_built_in_executor_set_model_fallback (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

/* The key must never reach a message: replace it wherever it shows up. */
static void
redact_error (GError *error, const char *api_key)
{
  char *redacted;

  if (error == NULL || api_key == NULL || *api_key == '\0' ||
      strstr (error->message, api_key) == NULL)
    return;
  redacted = _agentexec_gemini_redact (error->message, api_key);
  g_free (error->message);
  error->message = redacted;
}

typedef struct
{
  AgentExecCodeExecutor *executor;
  AgentExecExecutionInput *input;
  GMainContext *output_context;
} OutputTarget;

static void
emit_output (gboolean is_stderr, const char *data, gsize len, gpointer user_data)
{
  OutputTarget *target = user_data;

  _agentexec_code_executor_emit_output_in (
      target->executor, target->output_context, target->input,
      is_stderr ? AGENTEXEC_STREAM_STDERR : AGENTEXEC_STREAM_STDOUT, data, len);
}

static gboolean
check_input (AgentExecExecutionInput *input,
             const char *language,
             const Settings *settings,
             GError **error)
{
  const char *const *argv = agentexec_execution_input_get_argv (input);
  const char *const *env = agentexec_execution_input_get_env (input);

  if (g_strcmp0 (language, "python") != 0)
    {
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_UNSUPPORTED_LANGUAGE,
                   "Gemini code execution runs only Python, not “%s”; use the local or "
                   "container backend for other languages",
                   language);
      return FALSE;
    }
  if ((argv != NULL && argv[0] != NULL) || (env != NULL && env[0] != NULL))
    {
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_INVALID_INPUT,
                   "Gemini code execution cannot pass command-line arguments or environment "
                   "variables; put the values in the code instead");
      return FALSE;
    }
  if (settings->api_key == NULL)
    {
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_FAILED,
                   "No Gemini API key: set GEMINI_API_KEY (or GOOGLE_API_KEY) in the "
                   "environment, or the executor's api-key property");
      return FALSE;
    }
  return TRUE;
}

static AgentExecExecutionResult *
run_call (AgentExecBuiltInExecutor *self,
          AgentExecExecutionInput *input,
          const Settings *settings,
          guint timeout_ms,
          GCancellable *cancellable,
          GError **error)
{
  OutputTarget target = { AGENTEXEC_CODE_EXECUTOR (self), input,
                          _agentexec_code_executor_get_output_context () };
  gboolean streaming =
      settings->streaming || _agentexec_code_executor_has_output_handler (target.executor);
  const char *code = agentexec_execution_input_get_code (input);
  g_autoptr (AgentExecGeminiReply) reply = _agentexec_gemini_reply_new (emit_output, &target);
  g_autofree char *url = NULL;
  g_autofree char *body = NULL;
  AgentExecGeminiCall call = {
    0,
  };

  url = _agentexec_gemini_model_url (settings->base_url, settings->model, streaming, error);
  if (url == NULL)
    return NULL;
  body = _agentexec_gemini_build_request (code, agentexec_execution_input_get_files (input),
                                          &call.body_len);
  call.url = url;
  call.api_key = settings->api_key;
  call.model = settings->model;
  call.body = body;
  call.streaming = streaming;
  call.timeout_ms = timeout_ms;
  if (!_agentexec_gemini_post (&call, reply, cancellable, error))
    return NULL;
  return _agentexec_gemini_reply_to_result (
      reply, code, agentexec_base_executor_get_max_output_bytes (AGENTEXEC_BASE_EXECUTOR (self)),
      error);
}

static AgentExecExecutionResult *
agentexec_built_in_executor_run (AgentExecBaseExecutor *base,
                                 AgentExecExecutorContext *context,
                                 AgentExecExecutionInput *input,
                                 const char *language,
                                 GCancellable *cancellable,
                                 GError **error)
{
  AgentExecBuiltInExecutor *self = AGENTEXEC_BUILT_IN_EXECUTOR (base);
  g_auto (Settings) settings = {
    NULL,
  };
  g_autoptr (GError) local_error = NULL;
  AgentExecExecutionResult *result;
  guint timeout_ms;

  settings_init (self, &settings);
  if (!check_input (input, language, &settings, error))
    return NULL;
  timeout_ms = settings.request_timeout_ms != 0
                   ? settings.request_timeout_ms
                   : _agentexec_base_executor_effective_timeout_ms (base, input);
  result = run_call (self, input, &settings, timeout_ms, cancellable, &local_error);
  if (result == NULL)
    {
      redact_error (local_error, settings.api_key);
      g_propagate_error (error, g_steal_pointer (&local_error));
    }
  return result;
}

static gboolean
agentexec_built_in_executor_process_llm_request (AgentExecBaseExecutor *base,
                                                 JsonObject *request,
                                                 GError **error)
{
  AgentExecBuiltInExecutor *self = AGENTEXEC_BUILT_IN_EXECUTOR (base);
  g_autofree char *model = agentexec_built_in_executor_get_model_fallback (self)
                               ? agentexec_built_in_executor_dup_model (self)
                               : NULL;

  return _agentexec_gemini_add_code_execution_tool (request, model, error);
}

static void
agentexec_built_in_executor_class_init (AgentExecBuiltInExecutorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  AgentExecBaseExecutorClass *base_class = AGENTEXEC_BASE_EXECUTOR_CLASS (klass);
  GParamFlags flags = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->finalize = agentexec_built_in_executor_finalize;
  object_class->get_property = agentexec_built_in_executor_get_property;
  object_class->set_property = agentexec_built_in_executor_set_property;
  base_class->run = agentexec_built_in_executor_run;
  base_class->process_llm_request = agentexec_built_in_executor_process_llm_request;

  /**
   * AgentExecBuiltInExecutor:model:
   *
   * The Gemini model that runs the code (and the model
   * [method@AgentExec.CodeExecutor.process_llm_request] checks when the
   * request names none and [property@AgentExec.BuiltInExecutor:model-fallback]
   * is set), such as `gemini-2.5-flash` or
   * `models/gemini-2.0-flash`. %NULL restores the default.
   *
   * Since: 1.0
   */
  properties[PROP_MODEL] =
      g_param_spec_string ("model", NULL, NULL, AGENTEXEC_GEMINI_DEFAULT_MODEL, flags);

  /**
   * AgentExecBuiltInExecutor:base-url:
   *
   * The Gemini API endpoint, by default
   * `https://generativelanguage.googleapis.com/v1beta`; set it for a proxy
   * or a test server. %NULL restores the default.
   *
   * Since: 1.0
   */
  properties[PROP_BASE_URL] =
      g_param_spec_string ("base-url", NULL, NULL, AGENTEXEC_GEMINI_DEFAULT_BASE_URL, flags);

  /**
   * AgentExecBuiltInExecutor:api-key:
   *
   * The Gemini API key (write-only). When unset, `GEMINI_API_KEY` and then
   * `GOOGLE_API_KEY` are used.
   *
   * Since: 1.0
   */
  properties[PROP_API_KEY] =
      g_param_spec_string ("api-key", NULL, NULL, NULL,
                           G_PARAM_WRITABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * AgentExecBuiltInExecutor:request-timeout-ms:
   *
   * How long one request to Gemini may take, in milliseconds; 0 (the
   * default) uses the run's timeout ([property@AgentExec.BaseExecutor:timeout-ms]
   * or the input's). A request that takes longer fails with
   * %AGENTEXEC_ERROR_TIMEOUT.
   *
   * Since: 1.0
   */
  properties[PROP_REQUEST_TIMEOUT_MS] =
      g_param_spec_uint ("request-timeout-ms", NULL, NULL, 0, G_MAXUINT, 0, flags);

  /**
   * AgentExecBuiltInExecutor:streaming:
   *
   * Whether to always stream the answer (`streamGenerateContent`); it is
   * streamed anyway while a handler is connected to
   * [signal@AgentExec.CodeExecutor::output].
   *
   * Since: 1.0
   */
  properties[PROP_STREAMING] = g_param_spec_boolean ("streaming", NULL, NULL, FALSE, flags);

  /**
   * AgentExecBuiltInExecutor:model-fallback:
   *
   * What [method@AgentExec.CodeExecutor.process_llm_request] does with a
   * request that names no `model`. %FALSE (the default) fails as ADK does
   * ("Gemini code execution tool is not supported for model None"); %TRUE
   * checks [property@AgentExec.BuiltInExecutor:model] instead, for callers
   * that add the model to the request only later. A request that names a
   * model is always checked against that model.
   *
   * Since: 1.0
   */
  properties[PROP_MODEL_FALLBACK] =
      g_param_spec_boolean ("model-fallback", NULL, NULL, FALSE, flags);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
agentexec_built_in_executor_init (AgentExecBuiltInExecutor *self)
{
  g_mutex_init (&self->mutex);
  _agentexec_base_executor_set_builtin (AGENTEXEC_BASE_EXECUTOR (self), TRUE);
  self->model = g_strdup (AGENTEXEC_GEMINI_DEFAULT_MODEL);
  self->base_url = g_strdup (AGENTEXEC_GEMINI_DEFAULT_BASE_URL);
}

/**
 * agentexec_built_in_executor_new:
 *
 * Creates an executor that runs Python with Gemini's code execution, with
 * the default model and endpoint and the key from the environment.
 *
 * Returns: (transfer full): a new [class@AgentExec.BuiltInExecutor]
 *
 * Since: 1.0
 */
AgentExecBuiltInExecutor *
agentexec_built_in_executor_new (void)
{
  return g_object_new (AGENTEXEC_TYPE_BUILT_IN_EXECUTOR, NULL);
}

/**
 * agentexec_built_in_executor_dup_model:
 * @self: a [class@AgentExec.BuiltInExecutor]
 *
 * Gets a copy of the [property@AgentExec.BuiltInExecutor:model] property.
 *
 * Returns: (transfer full): the value of [property@AgentExec.BuiltInExecutor:model]
 *
 * Since: 1.0
 */
char *
agentexec_built_in_executor_dup_model (AgentExecBuiltInExecutor *self)
{
  char *model;

  g_return_val_if_fail (AGENTEXEC_IS_BUILT_IN_EXECUTOR (self), NULL);

  g_mutex_lock (&self->mutex);
  model = g_strdup (self->model);
  g_mutex_unlock (&self->mutex);
  return model;
}

/**
 * agentexec_built_in_executor_set_model:
 * @self: a [class@AgentExec.BuiltInExecutor]
 * @model: (nullable): a Gemini model name, or %NULL for the default
 *
 * Sets [property@AgentExec.BuiltInExecutor:model].
 *
 * Since: 1.0
 */
void
agentexec_built_in_executor_set_model (AgentExecBuiltInExecutor *self, const char *model)
{
  g_return_if_fail (AGENTEXEC_IS_BUILT_IN_EXECUTOR (self));

  if (set_string (self, &self->model, model != NULL ? model : AGENTEXEC_GEMINI_DEFAULT_MODEL))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MODEL]);
}

/**
 * agentexec_built_in_executor_dup_base_url:
 * @self: a [class@AgentExec.BuiltInExecutor]
 *
 * Gets a copy of the [property@AgentExec.BuiltInExecutor:base-url] property.
 *
 * Returns: (transfer full): the value of [property@AgentExec.BuiltInExecutor:base-url]
 *
 * Since: 1.0
 */
char *
agentexec_built_in_executor_dup_base_url (AgentExecBuiltInExecutor *self)
{
  char *base_url;

  g_return_val_if_fail (AGENTEXEC_IS_BUILT_IN_EXECUTOR (self), NULL);

  g_mutex_lock (&self->mutex);
  base_url = g_strdup (self->base_url);
  g_mutex_unlock (&self->mutex);
  return base_url;
}

/**
 * agentexec_built_in_executor_set_base_url:
 * @self: a [class@AgentExec.BuiltInExecutor]
 * @base_url: (nullable): the API endpoint, or %NULL for the public Gemini API
 *
 * Sets [property@AgentExec.BuiltInExecutor:base-url].
 *
 * Since: 1.0
 */
void
agentexec_built_in_executor_set_base_url (AgentExecBuiltInExecutor *self, const char *base_url)
{
  g_return_if_fail (AGENTEXEC_IS_BUILT_IN_EXECUTOR (self));

  if (set_string (self, &self->base_url,
                  base_url != NULL ? base_url : AGENTEXEC_GEMINI_DEFAULT_BASE_URL))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BASE_URL]);
}

/**
 * agentexec_built_in_executor_set_api_key:
 * @self: a [class@AgentExec.BuiltInExecutor]
 * @api_key: (nullable): the Gemini API key, or %NULL to use the environment
 *
 * Sets [property@AgentExec.BuiltInExecutor:api-key].
 *
 * Since: 1.0
 */
void
agentexec_built_in_executor_set_api_key (AgentExecBuiltInExecutor *self, const char *api_key)
{
  g_return_if_fail (AGENTEXEC_IS_BUILT_IN_EXECUTOR (self));

  if (api_key != NULL && *api_key == '\0')
    api_key = NULL;
  if (set_string (self, &self->api_key, api_key))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_API_KEY]);
}

/**
 * agentexec_built_in_executor_has_api_key:
 * @self: a [class@AgentExec.BuiltInExecutor]
 *
 * Whether a key is available: set with
 * [method@AgentExec.BuiltInExecutor.set_api_key], or in `GEMINI_API_KEY`
 * or `GOOGLE_API_KEY`. Without one, runs fail with a message saying so.
 *
 * Returns: %TRUE if runs have an API key
 *
 * Since: 1.0
 */
gboolean
agentexec_built_in_executor_has_api_key (AgentExecBuiltInExecutor *self)
{
  gboolean has_key;

  g_return_val_if_fail (AGENTEXEC_IS_BUILT_IN_EXECUTOR (self), FALSE);

  g_mutex_lock (&self->mutex);
  has_key = self->api_key != NULL || env_api_key () != NULL;
  g_mutex_unlock (&self->mutex);
  return has_key;
}

/**
 * agentexec_built_in_executor_get_request_timeout_ms:
 * @self: a [class@AgentExec.BuiltInExecutor]
 *
 * Gets the [property@AgentExec.BuiltInExecutor:request-timeout-ms] property.
 *
 * Returns: the value of [property@AgentExec.BuiltInExecutor:request-timeout-ms]
 *
 * Since: 1.0
 */
guint
agentexec_built_in_executor_get_request_timeout_ms (AgentExecBuiltInExecutor *self)
{
  guint timeout_ms;

  g_return_val_if_fail (AGENTEXEC_IS_BUILT_IN_EXECUTOR (self), 0);

  g_mutex_lock (&self->mutex);
  timeout_ms = self->request_timeout_ms;
  g_mutex_unlock (&self->mutex);
  return timeout_ms;
}

/**
 * agentexec_built_in_executor_set_request_timeout_ms:
 * @self: a [class@AgentExec.BuiltInExecutor]
 * @timeout_ms: the limit of one request in milliseconds, 0 for the run's timeout
 *
 * Sets [property@AgentExec.BuiltInExecutor:request-timeout-ms].
 *
 * Since: 1.0
 */
void
agentexec_built_in_executor_set_request_timeout_ms (AgentExecBuiltInExecutor *self,
                                                    guint timeout_ms)
{
  gboolean changed;

  g_return_if_fail (AGENTEXEC_IS_BUILT_IN_EXECUTOR (self));

  g_mutex_lock (&self->mutex);
  changed = self->request_timeout_ms != timeout_ms;
  self->request_timeout_ms = timeout_ms;
  g_mutex_unlock (&self->mutex);
  if (changed)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_REQUEST_TIMEOUT_MS]);
}

/**
 * agentexec_built_in_executor_get_streaming:
 * @self: a [class@AgentExec.BuiltInExecutor]
 *
 * Gets the [property@AgentExec.BuiltInExecutor:streaming] property.
 *
 * Gets the [property@AgentExec.BuiltInExecutor:streaming] property.
 *
 * Returns: the value of [property@AgentExec.BuiltInExecutor:streaming]
 *
 * Since: 1.0
 */
gboolean
agentexec_built_in_executor_get_streaming (AgentExecBuiltInExecutor *self)
{
  gboolean streaming;

  g_return_val_if_fail (AGENTEXEC_IS_BUILT_IN_EXECUTOR (self), FALSE);

  g_mutex_lock (&self->mutex);
  streaming = self->streaming;
  g_mutex_unlock (&self->mutex);
  return streaming;
}

/**
 * agentexec_built_in_executor_set_streaming:
 * @self: a [class@AgentExec.BuiltInExecutor]
 * @streaming: whether to always stream the answer
 *
 * Sets [property@AgentExec.BuiltInExecutor:streaming].
 *
 * Since: 1.0
 */
void
agentexec_built_in_executor_set_streaming (AgentExecBuiltInExecutor *self, gboolean streaming)
{
  gboolean changed;

  g_return_if_fail (AGENTEXEC_IS_BUILT_IN_EXECUTOR (self));

  g_mutex_lock (&self->mutex);
  changed = self->streaming != !!streaming;
  self->streaming = !!streaming;
  g_mutex_unlock (&self->mutex);
  if (changed)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STREAMING]);
}

/**
 * agentexec_built_in_executor_get_model_fallback:
 * @self: a [class@AgentExec.BuiltInExecutor]
 *
 * Gets the [property@AgentExec.BuiltInExecutor:model-fallback] property.
 *
 * Returns: the value of [property@AgentExec.BuiltInExecutor:model-fallback]
 *
 * Since: 1.0
 */
gboolean
agentexec_built_in_executor_get_model_fallback (AgentExecBuiltInExecutor *self)
{
  gboolean model_fallback;

  g_return_val_if_fail (AGENTEXEC_IS_BUILT_IN_EXECUTOR (self), FALSE);

  g_mutex_lock (&self->mutex);
  model_fallback = self->model_fallback;
  g_mutex_unlock (&self->mutex);
  return model_fallback;
}

/**
 * agentexec_built_in_executor_set_model_fallback:
 * @self: a [class@AgentExec.BuiltInExecutor]
 * @model_fallback: whether a request without a model is checked against
 *   [property@AgentExec.BuiltInExecutor:model]
 *
 * Sets [property@AgentExec.BuiltInExecutor:model-fallback].
 *
 * Since: 1.0
 */
void
agentexec_built_in_executor_set_model_fallback (AgentExecBuiltInExecutor *self,
                                                gboolean model_fallback)
{
  gboolean changed;

  g_return_if_fail (AGENTEXEC_IS_BUILT_IN_EXECUTOR (self));

  g_mutex_lock (&self->mutex);
  changed = self->model_fallback != !!model_fallback;
  self->model_fallback = !!model_fallback;
  g_mutex_unlock (&self->mutex);
  if (changed)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MODEL_FALLBACK]);
}
