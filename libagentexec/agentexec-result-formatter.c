/* agentexec-result-formatter.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "agentexec-result-formatter.h"

/**
 * AgentExecResultFormatter:
 *
 * Turns an [class@AgentExec.ExecutionResult] into the text a model sees, as
 * Google ADK does, and finds such results in text again.
 *
 * [method@AgentExec.ResultFormatter.format_result] gives ADK's
 * `code_execution_result` output: standard error when there is any;
 * otherwise `Code execution result:\n` + stdout + `\n` (when stdout is not
 * empty or there are no output files) and `Saved artifacts:\n` + the
 * comma-joined, backquoted file names, joined by a blank line. Where ADK loses
 * data it does better: when a failing program also printed to standard
 * output, that output is kept before the error.
 *
 * [method@AgentExec.ResultFormatter.format_inline_result] wraps it in the
 * result delimiters (```` ```tool_output\n ```` … `\n```` ` by default). When
 * the output itself holds a run of three or more backticks, the fences are
 * made one backtick longer than the longest run, so that
 * [method@AgentExec.ResultFormatter.extract_execution_results] gets back
 * exactly what was written.
 *
 * Since: 1.0
 */

struct _AgentExecResultFormatter
{
  GObject  parent_instance;
  char    *start;
  char    *end;
};

G_DEFINE_FINAL_TYPE (AgentExecResultFormatter, agentexec_result_formatter, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_START_DELIMITER,
  PROP_END_DELIMITER,
  N_PROPS
};

static GParamSpec *properties [N_PROPS];

static void
agentexec_result_formatter_finalize (GObject *object)
{
  AgentExecResultFormatter *self = AGENTEXEC_RESULT_FORMATTER (object);

  g_clear_pointer (&self->start, g_free);
  g_clear_pointer (&self->end, g_free);

  G_OBJECT_CLASS (agentexec_result_formatter_parent_class)->finalize (object);
}

static void
agentexec_result_formatter_get_property (GObject    *object,
                                         guint       prop_id,
                                         GValue     *value,
                                         GParamSpec *pspec)
{
  AgentExecResultFormatter *self = AGENTEXEC_RESULT_FORMATTER (object);

  switch (prop_id)
    {
    case PROP_START_DELIMITER:
      g_value_set_string (value, self->start);
      break;
    case PROP_END_DELIMITER:
      g_value_set_string (value, self->end);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
set_delimiter (char       **field,
               const char  *value,
               const char  *fallback)
{
  g_free (*field);
  *field = g_strdup (value != NULL && value[0] != '\0' ? value : fallback);
}

static void
agentexec_result_formatter_set_property (GObject      *object,
                                         guint         prop_id,
                                         const GValue *value,
                                         GParamSpec   *pspec)
{
  AgentExecResultFormatter *self = AGENTEXEC_RESULT_FORMATTER (object);

  switch (prop_id)
    {
    case PROP_START_DELIMITER:
      set_delimiter (&self->start, g_value_get_string (value), "```tool_output\n");
      break;
    case PROP_END_DELIMITER:
      set_delimiter (&self->end, g_value_get_string (value), "\n```");
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
agentexec_result_formatter_class_init (AgentExecResultFormatterClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS;

  object_class->finalize = agentexec_result_formatter_finalize;
  object_class->get_property = agentexec_result_formatter_get_property;
  object_class->set_property = agentexec_result_formatter_set_property;

  /**
   * AgentExecResultFormatter:start-delimiter:
   *
   * What opens a result in text; ADK's ```` ```tool_output\n ```` by default.
   *
   * Since: 1.0
   */
  properties [PROP_START_DELIMITER] =
    g_param_spec_string ("start-delimiter", NULL, NULL, "```tool_output\n", flags);

  /**
   * AgentExecResultFormatter:end-delimiter:
   *
   * What closes a result in text; `\n```` ` by default.
   *
   * Since: 1.0
   */
  properties [PROP_END_DELIMITER] =
    g_param_spec_string ("end-delimiter", NULL, NULL, "\n```", flags);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
agentexec_result_formatter_init (AgentExecResultFormatter *self)
{
}

/**
 * agentexec_result_formatter_new:
 *
 * Creates a formatter with ADK's result delimiters.
 *
 * Returns: (transfer full): a new [class@AgentExec.ResultFormatter]
 *
 * Since: 1.0
 */
AgentExecResultFormatter *
agentexec_result_formatter_new (void)
{
  return g_object_new (AGENTEXEC_TYPE_RESULT_FORMATTER, NULL);
}

/**
 * agentexec_result_formatter_new_with_delimiters:
 * @start: the start delimiter
 * @end: the end delimiter
 *
 * Creates a formatter that wraps inline results in @start and @end instead
 * of ADK's `tool_output` pair.
 *
 * Returns: (transfer full): a new [class@AgentExec.ResultFormatter]
 *
 * Since: 1.0
 */
AgentExecResultFormatter *
agentexec_result_formatter_new_with_delimiters (const char *start,
                                                const char *end)
{
  g_return_val_if_fail (start != NULL && start[0] != '\0', NULL);
  g_return_val_if_fail (end != NULL && end[0] != '\0', NULL);

  return g_object_new (AGENTEXEC_TYPE_RESULT_FORMATTER,
                       "start-delimiter", start,
                       "end-delimiter", end,
                       NULL);
}

/**
 * agentexec_result_formatter_get_start_delimiter:
 * @self: a [class@AgentExec.ResultFormatter]
 *
 * Gets the [property@AgentExec.ResultFormatter:start-delimiter] property.
 *
 * Gets the delimiter that starts an inline result.
 *
 * Returns: (transfer none): the start delimiter
 *
 * Since: 1.0
 */
const char *
agentexec_result_formatter_get_start_delimiter (AgentExecResultFormatter *self)
{
  g_return_val_if_fail (AGENTEXEC_IS_RESULT_FORMATTER (self), NULL);

  return self->start;
}

/**
 * agentexec_result_formatter_get_end_delimiter:
 * @self: a [class@AgentExec.ResultFormatter]
 *
 * Gets the [property@AgentExec.ResultFormatter:end-delimiter] property.
 *
 * Gets the delimiter that ends an inline result.
 *
 * Returns: (transfer none): the end delimiter
 *
 * Since: 1.0
 */
const char *
agentexec_result_formatter_get_end_delimiter (AgentExecResultFormatter *self)
{
  g_return_val_if_fail (AGENTEXEC_IS_RESULT_FORMATTER (self), NULL);

  return self->end;
}

static void
append_saved_artifacts (GString   *out,
                        GPtrArray *files)
{
  g_string_append (out, "Saved artifacts:\n");
  for (guint i = 0; i < files->len; i++)
    g_string_append_printf (out, "%s`%s`", i > 0 ? "," : "",
                            agentexec_file_get_name (g_ptr_array_index (files, i)));
}

/**
 * agentexec_result_formatter_format_result:
 * @self: a [class@AgentExec.ResultFormatter]
 * @result: an execution result
 *
 * Formats @result as the output of ADK's `code_execution_result` part (see
 * the class description).
 *
 * Returns: (transfer full): the text
 *
 * Since: 1.0
 */
char *
agentexec_result_formatter_format_result (AgentExecResultFormatter *self,
                                          AgentExecExecutionResult *result)
{
  const char *out, *err;
  GPtrArray *files;
  GString *text;

  g_return_val_if_fail (AGENTEXEC_IS_RESULT_FORMATTER (self), NULL);
  g_return_val_if_fail (AGENTEXEC_IS_EXECUTION_RESULT (result), NULL);

  out = agentexec_execution_result_get_stdout (result);
  err = agentexec_execution_result_get_stderr (result);
  files = agentexec_execution_result_get_output_files (result);

  if (err[0] != '\0')
    {
      if (out[0] == '\0')
        return g_strdup (err);
      return g_strdup_printf ("Code execution result:\n%s\n\nError:\n%s", out, err);
    }

  text = g_string_new (NULL);
  if (out[0] != '\0' || files->len == 0)
    g_string_append_printf (text, "Code execution result:\n%s\n", out);
  if (files->len > 0)
    {
      if (text->len > 0)
        g_string_append (text, "\n\n");
      append_saved_artifacts (text, files);
    }
  return g_string_free (text, FALSE);
}

static gsize
longest_backtick_run (const char *text)
{
  gsize longest = 0, run = 0;

  for (const char *p = text; *p != '\0'; p++)
    {
      run = *p == '`' ? run + 1 : 0;
      longest = MAX (longest, run);
    }
  return longest;
}

/* Delimiters shaped like ADK's: "```" + word + "\n" ... "\n```". */
static gboolean
is_fence_style (AgentExecResultFormatter *self)
{
  return g_str_has_prefix (self->start, "```") && g_str_has_suffix (self->start, "\n") &&
         g_str_equal (self->end, "\n```");
}

static gsize
fence_length (const char *start)
{
  gsize n = 0;

  while (start[n] == '`')
    n++;
  return n;
}

/**
 * agentexec_result_formatter_wrap:
 * @self: a [class@AgentExec.ResultFormatter]
 * @output: a result's text
 *
 * Wraps @output in the result delimiters, lengthening backtick fences when
 * @output holds a run of three or more backticks.
 *
 * Returns: (transfer full): the delimited text
 *
 * Since: 1.0
 */
char *
agentexec_result_formatter_wrap (AgentExecResultFormatter *self,
                                 const char               *output)
{
  gsize run;
  g_autofree char *fence = NULL;

  g_return_val_if_fail (AGENTEXEC_IS_RESULT_FORMATTER (self), NULL);
  g_return_val_if_fail (output != NULL, NULL);

  run = longest_backtick_run (output);
  if (!is_fence_style (self) || run < fence_length (self->start))
    return g_strconcat (self->start, output, self->end, NULL);

  fence = g_strnfill (run + 1, '`');
  return g_strdup_printf ("%s%s%s\n%s", fence, self->start + fence_length (self->start),
                          output, fence);
}

/**
 * agentexec_result_formatter_format_inline_result:
 * @self: a [class@AgentExec.ResultFormatter]
 * @result: an execution result
 *
 * [method@AgentExec.ResultFormatter.format_result] wrapped in the result
 * delimiters, as ADK puts results into the conversation of a model without
 * native code-execution parts.
 *
 * Returns: (transfer full): the delimited text
 *
 * Since: 1.0
 */
char *
agentexec_result_formatter_format_inline_result (AgentExecResultFormatter *self,
                                                 AgentExecExecutionResult *result)
{
  g_autofree char *output = NULL;

  g_return_val_if_fail (AGENTEXEC_IS_RESULT_FORMATTER (self), NULL);
  g_return_val_if_fail (AGENTEXEC_IS_EXECUTION_RESULT (result), NULL);

  output = agentexec_result_formatter_format_result (self, result);
  return agentexec_result_formatter_wrap (self, output);
}

/* Finds "\n" + fence at a line end (followed by "\n", "\r" or the end). */
static const char *
find_closing_fence (const char *from,
                    const char *fence,
                    gsize       fence_len)
{
  const char *p = from;

  while ((p = strstr (p, fence)) != NULL)
    {
      const char *after = p + fence_len;

      if ((p == from || p[-1] == '\n') &&
          (*after == '\0' || *after == '\n' || *after == '\r'))
        return p;
      p = after;
      while (*p == '`')
        p++;
    }
  return NULL;
}

static void
extract_fenced (AgentExecResultFormatter *self,
                const char               *text,
                GPtrArray                *out)
{
  const char *tag = self->start + fence_length (self->start);
  gsize tag_len = strlen (tag);
  const char *p = text;

  while ((p = strchr (p, '`')) != NULL)
    {
      gsize n = fence_length (p);
      g_autofree char *fence = NULL;
      const char *body, *close;

      if ((p != text && p[-1] != '\n') || n < 3 || strncmp (p + n, tag, tag_len) != 0)
        {
          p += n;
          continue;
        }
      body = p + n + tag_len;
      fence = g_strnfill (n, '`');
      close = find_closing_fence (body, fence, n);
      if (close == NULL || close == body)
        {
          /* "```tool_output\n```": an empty body has no newline before the fence */
          if (close == body)
            g_ptr_array_add (out, g_strdup (""));
          if (close == NULL)
            return;
          p = close + n;
          continue;
        }
      g_ptr_array_add (out, g_strndup (body, close - 1 - body));
      p = close + n;
    }
}

static void
extract_literal (AgentExecResultFormatter *self,
                 const char               *text,
                 GPtrArray                *out)
{
  const char *p = text;
  gsize start_len = strlen (self->start);

  while ((p = strstr (p, self->start)) != NULL)
    {
      const char *body = p + start_len;
      const char *close = strstr (body, self->end);

      if (close == NULL)
        return;
      g_ptr_array_add (out, g_strndup (body, close - body));
      p = close + strlen (self->end);
    }
}

/**
 * agentexec_result_formatter_extract_execution_results:
 * @self: a [class@AgentExec.ResultFormatter]
 * @text: text holding delimited results
 *
 * Finds every result in @text that
 * [method@AgentExec.ResultFormatter.format_inline_result] or
 * [method@AgentExec.ResultFormatter.wrap] wrote, in order, and gives back
 * the text between the delimiters exactly. An unclosed result at the end is
 * not returned.
 *
 * Returns: (transfer full): the results' texts
 *
 * Since: 1.0
 */
GStrv
agentexec_result_formatter_extract_execution_results (AgentExecResultFormatter *self,
                                                      const char               *text)
{
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func (g_free);

  g_return_val_if_fail (AGENTEXEC_IS_RESULT_FORMATTER (self), NULL);
  g_return_val_if_fail (text != NULL, NULL);

  if (is_fence_style (self))
    extract_fenced (self, text, out);
  else
    extract_literal (self, text, out);
  g_ptr_array_add (out, NULL);
  return (GStrv) g_ptr_array_free (g_steal_pointer (&out), FALSE);
}
