/* test-parser.c: the code-block parser against libcmark, the CommonMark
 * spec, ADK's delimiter semantics, and every split of a stream
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "libagentexec.h"
#include "agentexec-fence-scanner-private.h"
#include "agentexec-info-string-private.h"
#include "fuzz/cmark-diff.h"

/* Spec examples where cmark 0.30.2 and the 0.31.2 spec disagree about a
 * fenced code block; we follow the spec's expected HTML (asserted below
 * against that HTML). */
typedef struct
{
  int example;
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
parse_all (const char *text, gsize len)
{
  g_autoptr (AgentExecCodeBlockParser) parser = agentexec_code_block_parser_new ();

  return agentexec_code_block_parser_extract_code_blocks_full (parser, text, len);
}

static char *
describe_block (AgentExecCodeBlock *b)
{
  return g_strdup_printf ("[%s|%s|%s|%" G_GUINT64_FORMAT "|%" G_GUINT64_FORMAT "|%d]",
                          agentexec_code_block_get_language (b), agentexec_code_block_get_info (b),
                          agentexec_code_block_get_code (b), agentexec_code_block_get_start (b),
                          agentexec_code_block_get_end (b), agentexec_code_block_get_closed (b));
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
count_signal (AgentExecCodeBlockStream *stream, AgentExecCodeBlock *block, gpointer user_data)
{
  (*(guint *) user_data)++;
}

static char *
stream_parse (
    AgentExecCodeBlockParser *parser, const char *text, gsize len, const gsize *cuts, guint n_cuts)
{
  g_autoptr (AgentExecCodeBlockStream) stream = agentexec_code_block_stream_new (parser);
  g_autoptr (GPtrArray) blocks = NULL;
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
assert_all_splits (AgentExecCodeBlockParser *parser, const char *text, gsize len)
{
  g_autoptr (GPtrArray) whole =
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

typedef struct
{
  int example;
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
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
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
  g_autoptr (GPtrArray) ours = parse_all (ex->markdown, strlen (ex->markdown));
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
  g_autoptr (AgentExecCodeBlockParser) parser = agentexec_code_block_parser_new ();

  for (guint i = 0; i < spec_examples->len; i++)
    {
      SpecExample *ex = g_ptr_array_index (spec_examples, i);

      assert_all_splits (parser, ex->markdown, strlen (ex->markdown));
    }
}

/* ---- LLM replies and fuzz regressions against cmark ----------------------- */

static GPtrArray *
list_data_files (const char *folder)
{
  g_autofree char *dir_path = g_test_build_filename (G_TEST_DIST, "data", "parser", folder, NULL);
  g_autoptr (GDir) dir = g_dir_open (dir_path, 0, NULL);
  GPtrArray *files = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (files, g_build_filename (dir_path, name, NULL));
  g_ptr_array_sort (files, (GCompareFunc) g_strcmp0);
  return files;
}

static void
test_data_file (gconstpointer data)
{
  const char *path = data;
  g_autofree char *text = NULL;
  g_autoptr (GPtrArray) ours = NULL;
  g_autoptr (AgentExecCodeBlockParser) parser = agentexec_code_block_parser_new ();
  g_autofree char *diff = NULL;
  gsize len = 0;

  g_assert_true (g_file_get_contents (path, &text, &len, NULL));
  ours = parse_all (text, len);
  if (cmark_diff_explained (text, len))
    g_test_message ("%s: cmark caps fence length; compared with the stream only", path);
  else if ((diff = cmark_diff (text, len, ours)) != NULL)
    g_error ("%s: %s", path, diff);
  if (len <= 4096)
    assert_all_splits (parser, text, len);
}

static AgentExecCodeBlock *
block_at (GPtrArray *blocks, guint i)
{
  g_assert_cmpuint (i, <, blocks->len);
  return g_ptr_array_index (blocks, i);
}

static GPtrArray *
parse_fixture (const char *name)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "parser", "llm", name, NULL);
  g_autofree char *text = NULL;
  gsize len = 0;

  g_assert_true (g_file_get_contents (path, &text, &len, NULL));
  return parse_all (text, len);
}

/* What the differential tests establish, spelled out for a few replies. */
static void
test_llm_semantics (void)
{
  g_autoptr (GPtrArray) details = parse_fixture ("07-details-no-blank.md");
  g_autoptr (GPtrArray) indented = parse_fixture ("12-indented-not-fence.md");
  g_autoptr (GPtrArray) four = parse_fixture ("08-four-backticks.md");
  g_autoptr (GPtrArray) steps = parse_fixture ("03-numbered-steps.md");
  g_autoptr (GPtrArray) steps_crlf = parse_fixture ("03-numbered-steps-crlf.md");
  g_autoptr (GPtrArray) cut = parse_fixture ("54-streamed-cut-fence-line.md");
  g_autoptr (GPtrArray) quote = parse_fixture ("20-quote-ends-fence.md");
  g_autoptr (GPtrArray) entity = parse_fixture ("14-entity-info.md");

  /* A fence inside an HTML block is not one. */
  g_assert_cmpuint (details->len, ==, 1);
  g_assert_cmpstr (agentexec_code_block_get_code (block_at (details, 0)), ==,
                   "print(\"this one is real\")\n");
  /* Indented four spaces is indented code, not a fence. */
  g_assert_cmpuint (indented->len, ==, 1);
  /* Four backticks hold a three-backtick example verbatim. */
  g_assert_cmpuint (four->len, ==, 1);
  g_assert_nonnull (strstr (agentexec_code_block_get_code (block_at (four, 0)), "```python\n"));
  /* List items: container indentation removed; CRLF normalised; offsets
   * grow by one byte per CRLF line. */
  g_assert_cmpuint (steps->len, ==, 3);
  g_assert_cmpstr (agentexec_code_block_get_code (block_at (steps, 0)), ==,
                   "python3 -m venv .venv\nsource .venv/bin/activate\n");
  g_assert_cmpuint (steps_crlf->len, ==, 3);
  for (guint i = 0; i < 3; i++)
    {
      g_assert_cmpstr (agentexec_code_block_get_code (block_at (steps, i)), ==,
                       agentexec_code_block_get_code (block_at (steps_crlf, i)));
      g_assert_cmpuint (agentexec_code_block_get_start (block_at (steps_crlf, i)), >,
                        agentexec_code_block_get_start (block_at (steps, i)));
    }
  /* A reply cut inside the fence line: an open block, no code yet. */
  g_assert_cmpuint (cut->len, ==, 1);
  g_assert_cmpstr (agentexec_code_block_get_info (block_at (cut, 0)), ==, "pyth");
  g_assert_cmpstr (agentexec_code_block_get_code (block_at (cut, 0)), ==, "");
  g_assert_false (agentexec_code_block_get_closed (block_at (cut, 0)));
  /* The end of a block quote ends its fence. */
  g_assert_cmpuint (quote->len, ==, 2);
  g_assert_false (agentexec_code_block_get_closed (block_at (quote, 0)));
  /* Entity references in the info string. */
  g_assert_cmpstr (agentexec_code_block_get_language (block_at (entity, 0)), ==, "c++");
  g_assert_cmpstr (agentexec_code_block_get_language (block_at (entity, 1)), ==, "py&thon");
  g_assert_cmpstr (agentexec_code_block_get_language (block_at (entity, 2)), ==, "foo_bar");
}

static void
test_info_string (void)
{
  struct
  {
    const char *raw;
    const char *info;
  } cases[] = {
    { "  python  ", "python" },
    { "\tpy\tthon\t", "py\tthon" },
    { "&#32;x", " x" },     /* trimmed before references: spec order */
    { "\\&amp;", "&amp;" }, /* an escaped '&' starts no reference */
    { "&#92;*", "\\*" },    /* a reference yields no escape */
    { "&#0;&#xD800;&#x110000;", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD" },
    { "&#12345678;", "&#12345678;" },
    { "&CounterClockwiseContourIntegral;&ngE;", "\xE2\x88\xB3\xE2\x89\xA7\xCC\xB8" },
    { "&nosuchentity;&amp", "&nosuchentity;&amp" },
    { "a\\b\\-c", "a\\b-c" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *info = _agentexec_decode_info_string (cases[i].raw, strlen (cases[i].raw));

      g_assert_cmpstr (info, ==, cases[i].info);
    }
}

static void
test_nul_bytes (void)
{
  static const char text[] = "```py\0x\nprint(\0)\n```\n";
  g_autoptr (GPtrArray) blocks = parse_all (text, sizeof text - 1);
  g_autofree char *diff = cmark_diff (text, sizeof text - 1, blocks);

  g_assert_null (diff);
  g_assert_cmpuint (blocks->len, ==, 1);
  g_assert_cmpstr (agentexec_code_block_get_info (block_at (blocks, 0)), ==, "py\xEF\xBF\xBDx");
  g_assert_cmpstr (agentexec_code_block_get_code (block_at (blocks, 0)), ==,
                   "print(\xEF\xBF\xBD)\n");
  g_assert_cmpuint (agentexec_code_block_get_end (block_at (blocks, 0)), ==, sizeof text - 1);
}

/* Inputs where cmark 0.30.2 differs from the 0.31.2 spec (kept from the
 * fuzz run in data/parser/fuzz/): what the spec says. */
static void
test_spec_over_cmark (void)
{
  struct
  {
    const char *text;
    guint blocks;
    const char *info;
  } cases[] = {
    { "<!f\n~~~\n", 0, NULL }, /* "<!" + any ASCII letter: HTML type 4 */
    { "<!DOCTYPE html\n~~~\n", 0, NULL },
    { "-\v\n    ~~~\n", 0, NULL }, /* "-" + VT is no list marker */
    { "````\vaaa\n", 1, "\vaaa" }, /* only spaces and tabs are trimmed */
    { "``` &#32;py\n", 1, " py" }, /* trimmed before references */
    { "~~~ \\&amp;\n", 1, "&amp;" },
    { "<![CDATa[\n```\n", 1, "" }, /* "<![CDATA[" is case-sensitive */
    { "<td\f\n```\n", 1, "" },     /* FF does not end a tag name */
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GPtrArray) blocks = parse_all (cases[i].text, strlen (cases[i].text));

      g_assert_cmpuint (blocks->len, ==, cases[i].blocks);
      if (cases[i].info != NULL)
        g_assert_cmpstr (agentexec_code_block_get_info (block_at (blocks, 0)), ==, cases[i].info);
    }
}

/* A paragraph of link reference definitions does not become a setext
 * heading; a later lazy line then keeps its container (and the fence after
 * it) open. Each case against cmark. */
static void
test_link_reference_setext (void)
{
  static const char *cases[] = {
    "> [a]: /u\n> ===\nlazy\n> ```\n> x\n> ```\n",
    "> [a]: /u\n> ---\nlazy\n> ```\nx\n",
    "- [a]: /u 'title'\n  ===\nb\n  ```\n  c\n  ```\n",
    "> [a]:\n> /url\n> 'multi\n> line'\n> ===\nlazy\n> ```\n",
    "> [a]: <b c>\n> ===\nz\n> ~~~\n",
    "> [a]: /u 'bad\n> ===\nz\n> ~~~\n",
    "> [a]: /u\n> [b]: /v \"t\"\n> ===\nz\n> ```\n",
    "> [ ]: /u\n> ===\nz\n> ```\n",
    "> [a]: /u(x)\n> ===\nz\n> ```\n",
    "> [a]: /u(x\n> ===\nz\n> ```\n",
    "> [a]:  \n> ===\nz\n> ```\n",
    "> [a]: /u\nlazy\n> ===\nz\n> ```\n",
    "> [a]: /u \"t\" x\n> ===\nz\n> ```\n",
    "> [a]: <>\n> ===\nz\n> ```\n",
    "> [a\\]]: /u\n> ===\nz\n> ```\n",
    "> [a]: /u\n> ===\n> ===\nz\n> ```\n",
    "1. [a]: /u\n   ---\n   ```\n   x\n",
    "> [a]: /u (t)\n> ---\nz\n> ```\n",
    /* These differ from treating the underline as a heading: */
    "- [a]: /u\n  ===\nb\n  ```\n c\n  ```\n",
    "1. [a]: /u\n   ===\nb\n   ```\n  x\n   ```\n",
    "- [a]: /u\n  ---\nb\n  ~~~\n  x\nc\n",
    "- [a]: /u \"t\"\n  ---\nb\n  ~~~\n  x\nc\n",
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GPtrArray) blocks = parse_all (cases[i], strlen (cases[i]));
      g_autofree char *diff = cmark_diff (cases[i], strlen (cases[i]), blocks);

      if (diff != NULL)
        g_error ("case %u: %s\n%s", i, diff, cases[i]);
    }
}

/* ---- delimiter mode: ADK's semantics --------------------------------------- */

typedef struct
{
  const char *text;
  const char *pairs[7]; /* empty: ADK's */
  const char *code;     /* NULL: no block */
  guint64 start;
  guint64 end;
} AdkCase;

/* Expected values are what ADK's regex gives (checked with Python's re). */
static const AdkCase adk_cases[] = {
  { "pre ```tool_code\nprint(2)\n``` post ```python\nx\n```", { NULL }, "print(2)", 4, 29 },
  { "```python\nno end here ```tool_code\nx\n```", { NULL }, "no end here ```tool_code\nx", 0, 40 },
  { "```python\n\n```", { NULL }, "", 0, 14 },
  { "```python\n```", { NULL }, NULL, 0, 0 },
  { "text ```python\nprint(1)", { NULL }, NULL, 0, 0 },
  { "ABC", { "ABC", "Z", "A", "C", NULL }, "B", 0, 3 },
  { "<<<x>>>", { "<<", ">>", "<<<", ">>>", NULL }, "<x", 0, 6 },
  { "<ab>x</ab>", { "<a>", "</a>", "<ab>", "</ab>", NULL }, "x", 0, 10 },
  { "a```tool_code\nb\n```c```python\nd\n```", { NULL }, "b", 1, 19 },
};

static AgentExecCodeBlockParser *
adk_parser (const AdkCase *c)
{
  return agentexec_code_block_parser_new_with_delimiters (c->pairs[0] != NULL ? c->pairs : NULL);
}

static void
test_delimiters_first (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (adk_cases); i++)
    {
      const AdkCase *c = &adk_cases[i];
      g_autoptr (AgentExecCodeBlockParser) parser = adk_parser (c);
      g_autoptr (AgentExecCodeBlock) block =
          agentexec_code_block_parser_extract_first_code_block (parser, c->text);

      if (c->code == NULL || c->code[0] == '\0')
        {
          g_assert_null (block);
          continue;
        }
      g_assert_nonnull (block);
      g_assert_cmpstr (agentexec_code_block_get_code (block), ==, c->code);
      g_assert_cmpuint (agentexec_code_block_get_start (block), ==, c->start);
      g_assert_cmpuint (agentexec_code_block_get_end (block), ==, c->end);
      g_assert_true (agentexec_code_block_get_closed (block));
    }
}

static void
test_delimiters_language (void)
{
  g_autoptr (AgentExecCodeBlockParser) parser =
      agentexec_code_block_parser_new_with_delimiters (NULL);
  g_autoptr (GPtrArray) blocks = agentexec_code_block_parser_extract_code_blocks (
      parser, "```tool_code\na = 1\n```\n```python\nb = 2\n```\n```python\n\n```");
  const char *const *pairs = agentexec_code_block_parser_get_delimiters (parser);

  g_assert_false (agentexec_code_block_parser_get_commonmark (parser));
  g_assert_cmpstr (pairs[0], ==, "```tool_code\n");
  g_assert_cmpstr (pairs[3], ==, "\n```");
  g_assert_null (pairs[4]);
  /* Empty blocks are left out of the list. */
  g_assert_cmpuint (blocks->len, ==, 2);
  g_assert_cmpstr (agentexec_code_block_get_language (block_at (blocks, 0)), ==, "python");
  g_assert_cmpstr (agentexec_code_block_get_info (block_at (blocks, 0)), ==, "tool_code");
  g_assert_cmpstr (agentexec_code_block_get_code (block_at (blocks, 1)), ==, "b = 2");
}

static void
test_delimiters_stream (void)
{
  static const char *const custom[] = { "<<", ">>", "<<<", ">>>", "[[", "]]", NULL };
  static const char *texts[] = {
    "pre ```tool_code\nprint(2)\n``` post ```python\nx\n```",
    "```python\nno end here ```tool_code\nx\n```",
    "a```tool_code\nb\n```c```python\nd\n```\n```python\n\n```tail",
    "x <<<y>>> [[z]] <<a>> <<<",
  };
  g_autoptr (AgentExecCodeBlockParser) adk = agentexec_code_block_parser_new_with_delimiters (NULL);
  g_autoptr (AgentExecCodeBlockParser) other =
      agentexec_code_block_parser_new_with_delimiters (custom);

  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    {
      assert_all_splits (adk, texts[i], strlen (texts[i]));
      assert_all_splits (other, texts[i], strlen (texts[i]));
    }
}

static void
test_delimiters_invalid (void)
{
  static const char *const odd[] = { "<<", NULL };
  static const char *const empty[] = { "", ">>", NULL };

  g_test_expect_message ("AgentExec", G_LOG_LEVEL_CRITICAL, "*delimiters_valid*");
  g_assert_null (agentexec_code_block_parser_new_with_delimiters (odd));
  g_test_expect_message ("AgentExec", G_LOG_LEVEL_CRITICAL, "*delimiters_valid*");
  g_assert_null (agentexec_code_block_parser_new_with_delimiters (empty));
  g_test_assert_expected_messages ();
}

/* ---- filter_by_language ---------------------------------------------------- */

static void
test_filter_by_language (void)
{
  g_autoptr (AgentExecCodeBlockParser) parser = agentexec_code_block_parser_new ();
  g_autoptr (GPtrArray) blocks = agentexec_code_block_parser_extract_code_blocks (
      parser, "```Python\na\n```\n```py\nb\n```\n```JS\nc\n```\n```\nd\n```\n"
              "```Haskell\ne\n```\n```tool_code\nf\n```\n");
  static const char *const python[] = { "PYTHON3", NULL };
  static const char *const js_and_haskell[] = { "node", "haskell", NULL };
  static const char *const none[] = { NULL };
  g_autoptr (GPtrArray) py = agentexec_code_block_parser_filter_by_language (blocks, python);
  g_autoptr (GPtrArray) other =
      agentexec_code_block_parser_filter_by_language (blocks, js_and_haskell);
  g_autoptr (GPtrArray) nothing = agentexec_code_block_parser_filter_by_language (blocks, none);

  g_assert_cmpuint (blocks->len, ==, 6);
  g_assert_cmpuint (py->len, ==, 3);
  g_assert_cmpstr (agentexec_code_block_get_code (block_at (py, 0)), ==, "a\n");
  g_assert_cmpstr (agentexec_code_block_get_code (block_at (py, 1)), ==, "b\n");
  g_assert_cmpstr (agentexec_code_block_get_code (block_at (py, 2)), ==, "f\n");
  g_assert_cmpuint (other->len, ==, 2);
  g_assert_cmpstr (agentexec_code_block_get_code (block_at (other, 0)), ==, "c\n");
  g_assert_cmpstr (agentexec_code_block_get_code (block_at (other, 1)), ==, "e\n");
  g_assert_cmpuint (nothing->len, ==, 0);
}

/* ---- stream behaviour -------------------------------------------------------- */

static void
append_block (AgentExecCodeBlockStream *stream, AgentExecCodeBlock *block, gpointer user_data)
{
  g_ptr_array_add (user_data, g_object_ref (block));
}

static void
test_stream_early (void)
{
  g_autoptr (AgentExecCodeBlockStream) stream = agentexec_code_block_stream_new (NULL);
  g_autoptr (GPtrArray) seen = g_ptr_array_new_with_free_func (g_object_unref);

  g_signal_connect (stream, "block", G_CALLBACK (append_block), seen);
  agentexec_code_block_stream_feed (stream, "Sure:\n\n```python\nprint(1)\n");
  g_assert_cmpuint (seen->len, ==, 0);
  agentexec_code_block_stream_feed (stream, "```");
  g_assert_cmpuint (seen->len, ==, 0); /* the closing line has not ended */
  agentexec_code_block_stream_feed (stream, "\nMore text, then\n```sh\nls\n");
  g_assert_cmpuint (seen->len, ==, 1); /* before the stream ends */
  g_assert_true (agentexec_code_block_get_closed (block_at (seen, 0)));
  g_assert_false (agentexec_code_block_stream_is_finished (stream));
  agentexec_code_block_stream_finish (stream);
  g_assert_true (agentexec_code_block_stream_is_finished (stream));
  g_assert_cmpuint (seen->len, ==, 2); /* the open tail */
  g_assert_false (agentexec_code_block_get_closed (block_at (seen, 1)));
  g_assert_cmpstr (agentexec_code_block_get_code (block_at (seen, 1)), ==, "ls\n");

  g_test_expect_message ("AgentExec", G_LOG_LEVEL_CRITICAL, "*finished*");
  agentexec_code_block_stream_feed (stream, "more");
  g_test_assert_expected_messages ();
}

static void
test_stream_crlf_splits (void)
{
  static const char text[] = "> ```py\r\n> a\r\n> ```\r\n\r- ```\r  b\r\n  ```\r\n\r\n```\rtail\r";
  g_autoptr (AgentExecCodeBlockParser) parser = agentexec_code_block_parser_new ();
  g_autoptr (GPtrArray) blocks = parse_all (text, sizeof text - 1);
  g_autofree char *diff = cmark_diff (text, sizeof text - 1, blocks);

  g_assert_null (diff);
  g_assert_cmpuint (blocks->len, ==, 3);
  assert_all_splits (parser, text, sizeof text - 1);
}

static char *
repeat (const char *unit, guint times)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < times; i++)
    g_string_append (out, unit);
  return g_string_free (out, FALSE);
}

/* Linear time, bounded generously and robustly: each input at its full size
 * and at a quarter of it, the best of three runs each (a scheduler pause is
 * not the parser's time). Linear work grows 4x, quadratic 16x; allow 8x
 * (plus 0.5 s for timer noise: ASan on a loaded CI machine once took 0.267 s
 * over the 0.25 s this floor used to be), and 30 s absolute against hangs. */
static void
assert_linear (double t_small, double t_full)
{
  g_assert_cmpfloat (t_full, <, MAX (8 * t_small, 0.5));
  g_assert_cmpfloat (t_full, <, 30.0);
}

static double
time_delimited (AgentExecCodeBlockParser *parser, const char *unit, guint count, guint *n_blocks)
{
  g_autofree char *text = repeat (unit, count);
  g_autoptr (AgentExecCodeBlockStream) stream = agentexec_code_block_stream_new (parser);
  g_autoptr (GPtrArray) streamed = NULL;
  g_autoptr (GPtrArray) blocks = NULL;
  gint64 start = g_get_monotonic_time ();
  gsize len = strlen (text);

  blocks = agentexec_code_block_parser_extract_code_blocks (parser, text);
  for (gsize pos = 0; pos < len; pos += 7)
    agentexec_code_block_stream_feed_full (stream, text + pos, MIN (7, len - pos));
  agentexec_code_block_stream_finish (stream);
  streamed = agentexec_code_block_stream_get_blocks (stream);
  g_assert_cmpuint (streamed->len, ==, blocks->len);
  *n_blocks = blocks->len;
  return (g_get_monotonic_time () - start) / 1e6;
}

/* Whole and streamed in 7-byte chunks; see assert_linear(). */
static void
test_delimiters_linear (void)
{
  g_autoptr (AgentExecCodeBlockParser) parser =
      agentexec_code_block_parser_new_with_delimiters (NULL);
  struct
  {
    const char *unit;
    guint count;
    guint blocks;
  } cases[] = {
    { "```tool_code\nx ", 20000, 0 }, /* starts without an end */
    { "\n```", 50000, 0 },            /* ends without a start */
    { "```tool_code\nx\n```", 5000, 5000 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *unit = g_strescape (cases[i].unit, NULL);
      guint n_small = 0, n_full = 0;
      double t_small = G_MAXDOUBLE, t_full = G_MAXDOUBLE;

      for (guint run = 0; run < 3; run++)
        {
          t_small =
              MIN (t_small, time_delimited (parser, cases[i].unit, cases[i].count / 4, &n_small));
          t_full = MIN (t_full, time_delimited (parser, cases[i].unit, cases[i].count, &n_full));
        }

      g_test_message ("delimiters, %u x \"%s\": %u blocks, %.3f s (a quarter: %.3f s)",
                      cases[i].count, unit, n_full, t_full, t_small);
      g_assert_cmpuint (n_full, ==, cases[i].blocks);
      assert_linear (t_small, t_full);
    }
}

/* ---- agentexec-extract ------------------------------------------------------- */

static char *
extract_tool (void)
{
  const char *build = g_getenv ("AGENTEXEC_BUILD_DIR");

  if (build == NULL)
    return NULL;
  return g_build_filename (build, "tools", "agentexec-extract", NULL);
}

static int
run_tool (const char *const *args, const char *input, char **out)
{
  g_autofree char *tool = extract_tool ();
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GSubprocess) proc = NULL;
  g_autoptr (GBytes) stdin_bytes = NULL;
  g_autoptr (GBytes) stdout_bytes = NULL;
  g_autoptr (GError) error = NULL;

  g_ptr_array_add (argv, tool);
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  proc = g_subprocess_newv ((const char *const *) argv->pdata,
                            G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                G_SUBPROCESS_FLAGS_STDERR_SILENCE,
                            &error);
  g_assert_no_error (error);
  stdin_bytes = g_bytes_new (input != NULL ? input : "", input != NULL ? strlen (input) : 0);
  g_subprocess_communicate (proc, stdin_bytes, NULL, &stdout_bytes, NULL, &error);
  g_assert_no_error (error);
  *out = g_strndup (g_bytes_get_data (stdout_bytes, NULL), g_bytes_get_size (stdout_bytes));
  return g_subprocess_get_exit_status (proc);
}

static void
assert_json_matches (const char *json, GPtrArray *blocks)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  JsonArray *array;

  json_parser_load_from_data (parser, json, -1, &error);
  g_assert_no_error (error);
  array = json_node_get_array (json_parser_get_root (parser));
  g_assert_cmpuint (json_array_get_length (array), ==, blocks->len);
  for (guint i = 0; i < blocks->len; i++)
    {
      JsonObject *o = json_array_get_object_element (array, i);
      AgentExecCodeBlock *b = g_ptr_array_index (blocks, i);

      g_assert_cmpstr (json_object_get_string_member (o, "info"), ==,
                       agentexec_code_block_get_info (b));
      g_assert_cmpstr (json_object_get_string_member (o, "language"), ==,
                       agentexec_code_block_get_language (b));
      g_assert_cmpstr (json_object_get_string_member (o, "code"), ==,
                       agentexec_code_block_get_code (b));
      g_assert_cmpint (json_object_get_int_member (o, "start"), ==,
                       agentexec_code_block_get_start (b));
      g_assert_cmpint (json_object_get_int_member (o, "end"), ==, agentexec_code_block_get_end (b));
      g_assert_cmpint (json_object_get_boolean_member (o, "closed"), ==,
                       agentexec_code_block_get_closed (b));
    }
}

static void
test_extract_tool (void)
{
  g_autofree char *tool = extract_tool ();
  g_autoptr (GPtrArray) files = NULL;
  g_autoptr (AgentExecCodeBlockParser) adk = agentexec_code_block_parser_new_with_delimiters (NULL);
  g_autoptr (GPtrArray) adk_blocks = NULL;
  g_autofree char *out = NULL;
  static const char adk_text[] = "x ```tool_code\nprint(1)\n``` y ```python\nz\n```";

  if (tool == NULL || !g_file_test (tool, G_FILE_TEST_IS_EXECUTABLE))
    {
      g_test_skip ("agentexec-extract is not built (run through meson test)");
      return;
    }

  /* --json on every LLM reply: the library's blocks, field by field. */
  files = list_data_files ("llm");
  for (guint i = 0; i < files->len; i++)
    {
      const char *args[] = { "--json", g_ptr_array_index (files, i), NULL };
      g_autofree char *json = NULL;
      g_autofree char *text = NULL;
      g_autoptr (GPtrArray) blocks = NULL;
      gsize len;

      g_assert_cmpint (run_tool (args, NULL, &json), ==, 0);
      g_assert_true (g_file_get_contents (g_ptr_array_index (files, i), &text, &len, NULL));
      blocks = parse_all (text, len);
      assert_json_matches (json, blocks);
    }

  /* Delimiter mode from standard input; plain output. */
  {
    const char *args[] = { "--mode", "delimiters", "--json", NULL };
    g_autofree char *json = NULL;

    g_assert_cmpint (run_tool (args, adk_text, &json), ==, 0);
    adk_blocks = agentexec_code_block_parser_extract_code_blocks (adk, adk_text);
    assert_json_matches (json, adk_blocks);
  }
  {
    const char *args[] = { "--delimiter", "<c>", "</c>", "--delimiter", "[\\n", "\\n]", "-", NULL };

    g_assert_cmpint (run_tool (args, "a <c>one</c> [\ntwo\n] <c></c>", &out), ==, 0);
    g_assert_cmpstr (out, ==, "one\n\ntwo\n");
    g_clear_pointer (&out, g_free);
  }
  {
    const char *args[] = { "--language", "py", NULL };

    g_assert_cmpint (run_tool (args, "```js\na\n```\n```Python\nb\n```\n```\nc\n", &out), ==, 0);
    g_assert_cmpstr (out, ==, "b\n");
    g_clear_pointer (&out, g_free);
  }
  {
    const char *args[] = { "--json", NULL };

    g_assert_cmpint (run_tool (args, "no code here\n", &out), ==, 0);
    g_assert_cmpstr (out, ==, "[]\n");
    g_clear_pointer (&out, g_free);
  }

  /* Exit codes: 1 unreadable input, 2 bad usage. */
  {
    const char *missing[] = { "/nonexistent/reply.md", NULL };
    const char *bad_mode[] = { "--mode", "regex", NULL };
    const char *unknown[] = { "--frobnicate", NULL };
    const char *two_files[] = { "a.md", "b.md", NULL };
    const char *half_pair[] = { "--delimiter", "<c>", NULL };
    const char *clash[] = { "--mode", "commonmark", "--delimiter", "a", "b", NULL };

    g_assert_cmpint (run_tool (missing, NULL, &out), ==, 1);
    g_clear_pointer (&out, g_free);
    g_assert_cmpint (run_tool (bad_mode, NULL, &out), ==, 2);
    g_clear_pointer (&out, g_free);
    g_assert_cmpint (run_tool (unknown, NULL, &out), ==, 2);
    g_clear_pointer (&out, g_free);
    g_assert_cmpint (run_tool (two_files, NULL, &out), ==, 2);
    g_clear_pointer (&out, g_free);
    g_assert_cmpint (run_tool (half_pair, NULL, &out), ==, 2);
    g_clear_pointer (&out, g_free);
    g_assert_cmpint (run_tool (clash, NULL, &out), ==, 2);
  }
}

/* A text of several of the tool's 128 KiB reads: CRLF endings, one CRLF
 * split exactly at the first read boundary, and code that needs every kind
 * of JSON escape (quotes, backslashes, control characters, DEL, non-ASCII,
 * invalid UTF-8). */
static GString *
make_big_reply (void)
{
  GString *text = g_string_new (NULL);

  while (text->len < 131071)
    g_string_append_c (text, 'a');
  g_string_truncate (text, 131071);
  g_string_append (text, "\r\n\r\n");
  for (guint i = 0; text->len < 400 * 1024; i++)
    {
      g_string_append_printf (text, "Step %u\r\n\r\n```py title=\"s&amp;%u\"\r\n", i, i);
      for (guint j = 0; j < i % 7 + 1; j++)
        g_string_append_printf (text,
                                "s = \"q\\\"%u\\\\ \t\x01\x1f\x7f \xc3\xa9 \xf0\x9f\x98\x80 "
                                "\xff\xfe \xe2\x82 end\"\r\n",
                                j);
      g_string_append (text, i % 5 == 0 ? "\r\n" : "```\r\n\r\n");
    }
  return text;
}

/* The tool's JSON for @text against the library's blocks; strings compare
 * after invalid UTF-8 becomes U+FFFD, as the tool prints it. */
static void
assert_tool_json (const char *json, const char *text, gsize len)
{
  g_autoptr (GPtrArray) blocks = parse_all (text, len);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  JsonArray *array;

  json_parser_load_from_data (parser, json, -1, &error);
  g_assert_no_error (error);
  array = json_node_get_array (json_parser_get_root (parser));
  g_assert_cmpuint (blocks->len, >, 50);
  g_assert_cmpuint (json_array_get_length (array), ==, blocks->len);
  for (guint i = 0; i < blocks->len; i++)
    {
      JsonObject *o = json_array_get_object_element (array, i);
      AgentExecCodeBlock *b = g_ptr_array_index (blocks, i);
      g_autofree char *code = g_utf8_make_valid (agentexec_code_block_get_code (b), -1);
      g_autofree char *info = g_utf8_make_valid (agentexec_code_block_get_info (b), -1);

      g_assert_cmpstr (json_object_get_string_member (o, "code"), ==, code);
      g_assert_cmpstr (json_object_get_string_member (o, "info"), ==, info);
      g_assert_cmpstr (json_object_get_string_member (o, "language"), ==,
                       agentexec_code_block_get_language (b));
      g_assert_cmpint (json_object_get_int_member (o, "start"), ==,
                       agentexec_code_block_get_start (b));
      g_assert_cmpint (json_object_get_int_member (o, "end"), ==, agentexec_code_block_get_end (b));
      g_assert_cmpint (json_object_get_boolean_member (o, "closed"), ==,
                       agentexec_code_block_get_closed (b));
    }
}

static void
test_extract_tool_big (void)
{
  g_autofree char *tool = extract_tool ();
  g_autoptr (GString) text = make_big_reply ();
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;
  g_autofree char *from_file = NULL;
  g_autofree char *from_stdin = NULL;
  g_autofree char *plain = NULL;
  g_autoptr (GError) error = NULL;

  if (tool == NULL || !g_file_test (tool, G_FILE_TEST_IS_EXECUTABLE))
    {
      g_test_skip ("agentexec-extract is not built (run through meson test)");
      return;
    }
  g_assert_cmpuint (strlen (text->str), ==, text->len);
  dir = g_dir_make_tmp ("agentexec-extract-XXXXXX", &error);
  g_assert_no_error (error);
  path = g_build_filename (dir, "reply.md", NULL);
  g_assert_true (g_file_set_contents (path, text->str, text->len, &error));

  /* From a file: reads of exactly 128 KiB, the first one ending in a CR. */
  {
    const char *args[] = { "--json", path, NULL };

    g_assert_cmpint (run_tool (args, NULL, &from_file), ==, 0);
    assert_tool_json (from_file, text->str, text->len);
  }
  /* From a pipe: reads of whatever size the pipe gives. */
  {
    const char *args[] = { "--json", NULL };

    g_assert_cmpint (run_tool (args, text->str, &from_stdin), ==, 0);
    g_assert_cmpstr (from_stdin, ==, from_file);
  }
  /* Plain output: the code of each block, the bytes as they are. */
  {
    const char *args[] = { path, NULL };
    g_autoptr (GPtrArray) blocks = parse_all (text->str, text->len);
    g_autoptr (GString) expected = g_string_new (NULL);

    for (guint i = 0; i < blocks->len; i++)
      {
        const char *code = agentexec_code_block_get_code (g_ptr_array_index (blocks, i));

        if (i > 0)
          g_string_append_c (expected, '\n');
        g_string_append (expected, code);
        if (code[0] != '\0' && code[strlen (code) - 1] != '\n')
          g_string_append_c (expected, '\n');
      }
    g_assert_cmpint (run_tool (args, NULL, &plain), ==, 0);
    g_assert_cmpstr (plain, ==, expected->str);
  }
  g_assert_cmpint (g_unlink (path), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

/* ---- linear time ------------------------------------------------------------------ */

static double
time_parse (const char *text, gsize len, guint *n_blocks)
{
  g_autoptr (GPtrArray) blocks = NULL;
  gint64 start = g_get_monotonic_time ();

  blocks = parse_all (text, len);
  *n_blocks = blocks->len;
  return (g_get_monotonic_time () - start) / 1e6;
}

typedef struct
{
  const char *name;
  guint count; /* the size */
  guint blocks_per_unit;
  char *(*make) (guint count);
} Pathological;

static char *
make_backticks (guint n)
{
  return repeat ("`", n);
}
static char *
make_unclosed (guint n)
{
  return repeat ("```a\n", n);
}
static char *
make_empty_fences (guint n)
{
  return repeat ("```\n```\n", n);
}
static char *
make_quotes (guint n)
{
  return repeat (">", n);
}
static char *
make_items (guint n)
{
  return repeat ("- ", n);
}
static char *
make_html (guint n)
{
  return repeat ("<a b='c' d=e f\n", n);
}

static char *
make_markers_then_x (guint n)
{
  g_autofree char *dashes = repeat ("- ", n);

  return g_strconcat (dashes, "x\n", NULL);
}

static char *
make_reply (guint n)
{
  g_autofree char *line = repeat ("x = compute(value) + 1  # a line of generated code\n", 19);
  GString *reply = g_string_new (NULL);

  for (guint i = 0; i < n; i++)
    g_string_append_printf (reply, "Step %u: we compute the next value.\n\n```python\n%s```\n\n", i,
                            line);
  return g_string_free (reply, FALSE);
}

/* Each input at the size and at a quarter of it; see
 * assert_linear(). */
static void
test_pathological (void)
{
  static const Pathological cases[] = {
    { "100k backticks on one line", 100000, 0, make_backticks },
    { "20k unclosed fences", 20000, 0, make_unclosed },
    { "10k empty fences", 10000, 1, make_empty_fences },
    { "20k nested quotes", 20000, 0, make_quotes },
    { "10k nested list items", 10000, 0, make_items },
    { "'- ' * 50k then x", 50000, 0, make_markers_then_x },
    { "20k '<a' lines", 20000, 0, make_html },
    { "a 2 MB reply with 2000 blocks", 2000, 1, make_reply },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *small = cases[i].make (cases[i].count / 4);
      g_autofree char *full = cases[i].make (cases[i].count);
      guint n_small = 0, n_full = 0;
      double t_small = G_MAXDOUBLE, t_full = G_MAXDOUBLE;
      guint expected = cases[i].blocks_per_unit * cases[i].count;

      for (guint run = 0; run < 3; run++)
        {
          t_small = MIN (t_small, time_parse (small, strlen (small), &n_small));
          t_full = MIN (t_full, time_parse (full, strlen (full), &n_full));
        }

      g_test_message ("%s: %zu bytes, %u blocks, %.3f s (a quarter: %.3f s)", cases[i].name,
                      strlen (full), n_full, t_full, t_small);
      if (i <= 1)
        expected = 1; /* one fence runs to the end */
      g_assert_cmpuint (n_full, ==, expected);
      assert_linear (t_small, t_full);
    }
}

int
main (int argc, char *argv[])
{
  g_autoptr (GPtrArray) files = NULL;
  g_autoptr (GPtrArray) fuzz_files = NULL;

  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  load_spec ();
  for (guint i = 0; i < spec_examples->len; i++)
    {
      SpecExample *ex = g_ptr_array_index (spec_examples, i);
      g_autofree char *path = g_strdup_printf ("/agentexec/parser/spec/%03d", ex->example);

      g_test_add_data_func (path, ex, test_spec_example);
    }
  g_test_add_func ("/agentexec/parser/stream/spec-splits", test_spec_streaming);

  files = list_data_files ("llm");
  g_assert_cmpuint (files->len, >=, 50);
  for (guint i = 0; i < files->len; i++)
    {
      g_autofree char *base = g_path_get_basename (g_ptr_array_index (files, i));
      g_autofree char *path = g_strdup_printf ("/agentexec/parser/llm/%s", base);

      g_test_add_data_func (path, g_ptr_array_index (files, i), test_data_file);
    }
  fuzz_files = list_data_files ("fuzz");
  for (guint i = 0; i < fuzz_files->len; i++)
    {
      g_autofree char *base = g_path_get_basename (g_ptr_array_index (fuzz_files, i));
      g_autofree char *path = g_strdup_printf ("/agentexec/parser/fuzz/%s", base);

      g_test_add_data_func (path, g_ptr_array_index (fuzz_files, i), test_data_file);
    }
  g_test_add_func ("/agentexec/parser/fenced/llm-semantics", test_llm_semantics);
  g_test_add_func ("/agentexec/parser/fenced/info-string", test_info_string);
  g_test_add_func ("/agentexec/parser/fenced/nul-bytes", test_nul_bytes);
  g_test_add_func ("/agentexec/parser/fenced/spec-over-cmark", test_spec_over_cmark);
  g_test_add_func ("/agentexec/parser/fenced/link-reference-setext", test_link_reference_setext);
  g_test_add_func ("/agentexec/parser/delimiters/adk-first", test_delimiters_first);
  g_test_add_func ("/agentexec/parser/delimiters/language", test_delimiters_language);
  g_test_add_func ("/agentexec/parser/delimiters/stream-splits", test_delimiters_stream);
  g_test_add_func ("/agentexec/parser/delimiters/invalid", test_delimiters_invalid);
  g_test_add_func ("/agentexec/parser/delimiters/linear", test_delimiters_linear);
  g_test_add_func ("/agentexec/parser/filter-by-language", test_filter_by_language);
  g_test_add_func ("/agentexec/parser/stream/early", test_stream_early);
  g_test_add_func ("/agentexec/parser/stream/crlf-splits", test_stream_crlf_splits);
  g_test_add_func ("/agentexec/parser/pathological", test_pathological);
  g_test_add_func ("/agentexec/parser/extract-tool", test_extract_tool);
  g_test_add_func ("/agentexec/parser/extract-tool-big", test_extract_tool_big);

  return g_test_run ();
}
