/* agentexec-server-ndjson.c: ASCII-only JSON lines
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "agentexec-server-ndjson-private.h"

static void
append_escaped (GString *out, gunichar c)
{
  if (c > 0xFFFF)
    {
      c -= 0x10000;
      g_string_append_printf (out, "\\u%04x\\u%04x", 0xD800 + (c >> 10), 0xDC00 + (c & 0x3FF));
    }
  else
    g_string_append_printf (out, "\\u%04x", c);
}

/*
 * _agentexec_server_json_to_ascii_line:
 *
 * Returns: @node as one line of JSON, only ASCII, ending with "\n". Non-ASCII
 *   bytes only occur inside JSON strings, where a \uXXXX escape means the
 *   same character.
 */
char *
_agentexec_server_json_to_ascii_line (JsonNode *node)
{
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autofree char *text = NULL;
  GString *out;

  json_generator_set_root (generator, node);
  text = json_generator_to_data (generator, NULL);
  out = g_string_sized_new (strlen (text) + 2);
  for (const char *p = text; *p != '\0';)
    {
      if ((guchar) *p < 0x80)
        {
          /* json-glib leaves DEL and some C1 controls alone; all are legal. */
          g_string_append_c (out, *p++);
          continue;
        }
      append_escaped (out, g_utf8_get_char (p));
      p = g_utf8_next_char (p);
    }
  g_string_append_c (out, '\n');
  return g_string_free (out, FALSE);
}

/*
 * _agentexec_server_event_line:
 * @type: the event's `type`
 * @...: pairs of member name and JsonNode (transfer full), %NULL-terminated
 *
 * Returns: the line of an event {"type": @type, ...}
 */
char *
_agentexec_server_event_line (const char *type, ...)
{
  g_autoptr (JsonNode) root = json_node_new (JSON_NODE_OBJECT);
  JsonObject *object = json_object_new ();
  const char *name;
  va_list args;

  json_object_set_string_member (object, "type", type);
  va_start (args, type);
  while ((name = va_arg (args, const char *)) != NULL)
    json_object_set_member (object, name, va_arg (args, JsonNode *));
  va_end (args);
  json_node_take_object (root, object);
  return _agentexec_server_json_to_ascii_line (root);
}

/* Returns: the time now as RFC 3339 with microseconds, in UTC. */
char *
_agentexec_server_timestamp (void)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();

  return g_date_time_format (now, "%Y-%m-%dT%H:%M:%S.%fZ");
}

/*
 * _agentexec_server_utf8_complete_prefix:
 *
 * Returns: how many bytes of @data end on a character boundary: a chunk of
 *   output may stop inside a UTF-8 sequence, whose start is kept for the
 *   next chunk (at most 3 bytes)
 */
gsize
_agentexec_server_utf8_complete_prefix (const char *data, gsize len)
{
  gsize start = len;
  gsize need;
  guchar lead;

  while (start > 0 && len - start < 4 && ((guchar) data[start - 1] & 0xC0) == 0x80)
    start--;
  if (start == 0)
    return len;
  lead = (guchar) data[start - 1];
  if (lead < 0xC0)
    return len; /* ASCII, or a stray continuation byte: nothing to wait for */
  need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
  return len - (start - 1) >= need ? len : start - 1;
}
