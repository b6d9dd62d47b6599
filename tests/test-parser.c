/* test-parser.c: the code-block parser against libcmark, the CommonMark
 * spec, ADK's delimiter semantics, and every split of a stream
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>
#include <json-glib/json-glib.h>

#include "libagentexec.h"
#include "agentexec-fence-scanner-private.h"
#include "fuzz/cmark-diff.h"

/* Spec examples where cmark 0.30.2 and the 0.31.2 spec disagree about a
 * fenced code block; we follow the spec's expected HTML (asserted below
 * against that HTML). */
typedef struct {
  int         example;
  const char *why;
} SpecException;

static const SpecException spec_exceptions[] = {
  { 0, NULL },
};

static const SpecException *
find_exception (int example)
{
  for (guint i = 0; spec_exceptions[i].why != NULL; i++)
    if (spec_exceptions[i].example == example)
      return &spec_exceptions[i];
  return NULL;
}

static GPtrArray *
parse_all (const char *text,
           gsize       len)
{
  g_autoptr(AgentExecCodeBlockParser) parser = agentexec_code_block_parser_new ();

  return agentexec_code_block_parser_extract_code_blocks_full (parser, text, len);
}

static char *
describe_block (AgentExecCodeBlock *b)
{
  return g_strdup_printf ("[%s|%s|%s|%" G_GUINT64_FORMAT "|%" G_GUINT64_FORMAT "|%d]",
                          agentexec_code_block_get_language (b),
                          agentexec_code_block_get_info (b),
                          agentexec_code_block_get_code (b),
                          agentexec_code_block_get_start (b),
                          agentexec_code_block_get_end (b),
                          agentexec_code_block_get_closed (b));
}

static char *
describe_blocks (GPtrArray *blocks)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < blocks->len; i++)
    {
      g_autofree char *one = describe_block (g_ptr_array_index (blocks, i));

      g_string_append (out, one);
    }
  return g_string_free (out, FALSE);
}

/* ---- streaming: every split gives the same blocks ---------------------- */

static void
count_signal (AgentExecCodeBlockStream *stream,
              AgentExecCodeBlock       *block,
              gpointer                  user_data)
{
  (*(guint *) user_data)++;
}

static char *
stream_parse (AgentExecCodeBlockParser *parser,
              const char               *text,
              gsize                     len,
              const gsize              *cuts,
              guint                     n_cuts)
{
  g_autoptr(AgentExecCodeBlockStream) stream = agentexec_code_block_stream_new (parser);
  g_autoptr(GPtrArray) blocks = NULL;
  guint signalled = 0;
  gsize pos = 0;

  g_signal_connect (stream, "block", G_CALLBACK (count_signal), &signalled);
  for (guint i = 0; i <= n_cuts; i++)
    {
      gsize next = i < n_cuts ? cuts[i] : len;

      agentexec_code_block_stream_feed_full (stream, text + pos, next - pos);
      pos = next;
    }
  agentexec_code_block_stream_finish (stream);
  blocks = agentexec_code_block_stream_get_blocks (stream);
  g_assert_cmpuint (signalled, ==, blocks->len);
  return describe_blocks (blocks);
}

static void
assert_all_splits (AgentExecCodeBlockParser *parser,
                   const char               *text,
                   gsize                     len)
{
  g_autoptr(GPtrArray) whole =
    agentexec_code_block_parser_extract_code_blocks_full (parser, text, len);
  g_autofree char *expected = describe_blocks (whole);
  g_autofree gsize *cuts = g_new (gsize, len + 1);
  g_autofree char *bytewise = NULL;

  for (gsize split = 0; split <= len; split++)
    {
      g_autofree char *got = NULL;

      cuts[0] = split;
      got = stream_parse (parser, text, len, cuts, 1);
      if (g_strcmp0 (got, expected) != 0)
        g_error ("split at %zu of \"%s\":\n  stream %s\n  whole  %s", split, text, got, expected);
    }
  for (gsize i = 0; i < len; i++)
    cuts[i] = i + 1;
  bytewise = stream_parse (parser, text, len, cuts, len > 0 ? len - 1 : 0);
  g_assert_cmpstr (bytewise, ==, expected);
}

/* ---- the CommonMark spec ------------------------------------------------ */

typedef struct {
  int   example;
  char *markdown;
  char *html;
} SpecExample;

static void
spec_example_free (gpointer data)
{
  SpecExample *ex = data;

  g_free (ex->markdown);
  g_free (ex->html);
  g_free (ex);
}

static GPtrArray *spec_examples;

static void
load_spec (void)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "parser", "spec.json", NULL);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonArray *array;

  json_parser_load_from_file (parser, path, &error);
  g_assert_no_error (error);
  array = json_node_get_array (json_parser_get_root (parser));
  spec_examples = g_ptr_array_new_with_free_func (spec_example_free);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonObject *o = json_array_get_object_element (array, i);
      SpecExample *ex = g_new0 (SpecExample, 1);

      ex->example = (int) json_object_get_int_member (o, "example");
      ex->markdown = g_strdup (json_object_get_string_member (o, "markdown"));
      ex->html = g_strdup (json_object_get_string_member (o, "html"));
      g_ptr_array_add (spec_examples, ex);
    }
}

static void
test_spec_example (gconstpointer data)
{
  const SpecExample *ex = data;
  g_autoptr(GPtrArray) ours = parse_all (ex->markdown, strlen (ex->markdown));
  g_autofree char *diff = cmark_diff (ex->markdown, strlen (ex->markdown), ours);
  const SpecException *exception = find_exception (ex->example);

  if (exception != NULL)
    {
      g_test_message ("example %d: following the spec: %s", ex->example, exception->why);
      g_assert_nonnull (diff);
      return;
    }
  if (diff != NULL)
    g_error ("example %d: %s\n%s", ex->example, diff, ex->markdown);
}

static void
test_spec_streaming (void)
{
  g_autoptr(AgentExecCodeBlockParser) parser = agentexec_code_block_parser_new ();

  for (guint i = 0; i < spec_examples->len; i++)
    {
      SpecExample *ex = g_ptr_array_index (spec_examples, i);

      assert_all_splits (parser, ex->markdown, strlen (ex->markdown));
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  load_spec ();
  for (guint i = 0; i < spec_examples->len; i++)
    {
      SpecExample *ex = g_ptr_array_index (spec_examples, i);
      g_autofree char *path = g_strdup_printf ("/agentexec/parser/spec/%03d", ex->example);

      g_test_add_data_func (path, ex, test_spec_example);
    }
  g_test_add_func ("/agentexec/parser/stream/spec-splits", test_spec_streaming);

  return g_test_run ();
}
