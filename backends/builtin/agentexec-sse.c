/* agentexec-sse.c: an incremental Server-Sent Events parser
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The part of the EventSource format that streamGenerateContent?alt=sse
 * uses: lines end with LF, CRLF or CR; "data:" lines (one optional space
 * after the colon) accumulate; an empty line dispatches the event; comment
 * lines (":") and other fields ("event:", "id:", "retry:") are ignored.
 */

#include "config.h"

#include <string.h>

#include "agentexec-sse-private.h"

struct _AgentExecSseParser
{
  AgentExecSseEventFunc func;
  gpointer user_data;
  GString *line;
  GString *data;
  guint n_events;
  gboolean has_data;
  gboolean after_cr;
};

AgentExecSseParser *
_agentexec_sse_parser_new (AgentExecSseEventFunc func, gpointer user_data)
{
  AgentExecSseParser *self = g_new0 (AgentExecSseParser, 1);

  self->func = func;
  self->user_data = user_data;
  self->line = g_string_new (NULL);
  self->data = g_string_new (NULL);
  return self;
}

void
_agentexec_sse_parser_free (AgentExecSseParser *self)
{
  if (self == NULL)
    return;
  g_string_free (self->line, TRUE);
  g_string_free (self->data, TRUE);
  g_free (self);
}

guint
_agentexec_sse_parser_get_n_events (AgentExecSseParser *self)
{
  return self->n_events;
}

static gboolean
dispatch (AgentExecSseParser *self, GError **error)
{
  gboolean ok = TRUE;

  if (self->has_data)
    {
      self->n_events++;
      ok = self->func (self->data->str, self->data->len, self->user_data, error);
    }
  g_string_truncate (self->data, 0);
  self->has_data = FALSE;
  return ok;
}

static gboolean
process_line (AgentExecSseParser *self, GError **error)
{
  const char *line = self->line->str;
  const char *value;

  if (self->line->len == 0)
    return dispatch (self, error);
  if (!g_str_has_prefix (line, "data"))
    return TRUE;
  value = line + 4;
  if (*value == ':')
    value++;
  else if (*value != '\0')
    return TRUE; /* a field such as "datax": ignored */
  if (*value == ' ')
    value++;
  if (self->has_data)
    g_string_append_c (self->data, '\n');
  g_string_append (self->data, value);
  self->has_data = TRUE;
  return TRUE;
}

gboolean
_agentexec_sse_parser_feed (AgentExecSseParser *self, const char *data, gsize len, GError **error)
{
  for (gsize i = 0; i < len; i++)
    {
      char c = data[i];
      gboolean ok;

      if (c == '\n' && self->after_cr)
        {
          self->after_cr = FALSE;
          continue;
        }
      self->after_cr = c == '\r';
      if (c != '\n' && c != '\r')
        {
          g_string_append_c (self->line, c);
          continue;
        }
      ok = process_line (self, error);
      g_string_truncate (self->line, 0);
      if (!ok)
        return FALSE;
    }
  return TRUE;
}

/* The stream ended: an event without its closing blank line still counts. */
gboolean
_agentexec_sse_parser_finish (AgentExecSseParser *self, GError **error)
{
  if (self->line->len > 0)
    {
      gboolean ok = process_line (self, error);

      g_string_truncate (self->line, 0);
      if (!ok)
        return FALSE;
    }
  return dispatch (self, error);
}
