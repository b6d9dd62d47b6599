/* bench-parser.c: throughput of the code-block parser on a 2 MB model reply
 * with 2000 blocks and on pathological inputs, in process.
 *
 *   bench-parser [--write DIR] [--runs N]
 *
 * Prints the median and the best of N runs (default 21) and the throughput
 * of the best run (the machine is shared: the best run is the least
 * disturbed one).
 *
 * --write DIR also saves each input as DIR/<name>.md, so bench/parser.sh can
 * time cmark-gfm and agentexec-extract on the same bytes.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libagentexec.h"

typedef struct
{
  const char *name;
  char *text;
} Input;

static char *
repeat (const char *unit, guint times)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < times; i++)
    g_string_append (out, unit);
  return g_string_free (out, FALSE);
}

/* Prose, a list, a quote and a fenced block per step, like a long agent
 * transcript: 2000 blocks, about 2 MB. */
static char *
make_reply (void)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < 2000; i++)
    {
      g_string_append_printf (
          out,
          "### Step %u\n\n"
          "We now compute the *next* value from the `previous` one; see the notes below.\n"
          "1. load the data\n2. transform it\n\n"
          "> Note: the function is pure, so it can be retried.\n\n"
          "```python\n",
          i);
      for (guint j = 0; j < 16; j++)
        g_string_append_printf (out, "value_%u = transform(value_%u, factor=%u)  # step %u\n",
                                j + 1, j, j * 7 + 3, i);
      g_string_append (out, "print(value_16)\n```\n\n");
    }
  return g_string_free (out, FALSE);
}

static double
median (double *v, guint n)
{
  for (guint i = 1; i < n; i++)
    for (guint j = i; j > 0 && v[j - 1] > v[j]; j--)
      {
        double t = v[j];
        v[j] = v[j - 1];
        v[j - 1] = t;
      }
  return v[n / 2];
}

static void
measure (AgentExecCodeBlockParser *parser, const Input *input, guint runs)
{
  gsize len = strlen (input->text);
  double *seconds = g_new (double, runs);
  guint blocks = 0;
  double mid, best;

  for (guint r = 0; r < runs; r++)
    {
      gint64 start = g_get_monotonic_time ();
      g_autoptr (GPtrArray) found =
          agentexec_code_block_parser_extract_code_blocks_full (parser, input->text, len);

      seconds[r] = (g_get_monotonic_time () - start) / 1e6;
      blocks = found->len;
    }
  mid = median (seconds, runs);
  best = seconds[0]; /* sorted by median () */
  printf ("%-28s %10zu %7u %10.3f %10.3f %10.1f\n", input->name, len, blocks, mid * 1e3, best * 1e3,
          len / 1e6 / best);
  g_free (seconds);
}

int
main (int argc, char *argv[])
{
  g_autoptr (AgentExecCodeBlockParser) parser = agentexec_code_block_parser_new ();
  const char *dir = NULL;
  guint runs = 21;
  g_autofree char *dashes = repeat ("- ", 50000);
  Input inputs[] = {
    { "reply-2mb-2000-blocks", make_reply () },
    { "backticks-100k-one-line", repeat ("`", 100000) },
    { "unclosed-fences-20k", repeat ("```a\n", 20000) },
    { "empty-fences-10k", repeat ("```\n```\n", 10000) },
    { "nested-quotes-20k", repeat (">", 20000) },
    { "list-markers-50k", g_strconcat (dashes, "x\n", NULL) },
  };

  for (int i = 1; i < argc; i++)
    {
      if (g_str_equal (argv[i], "--write") && i + 1 < argc)
        dir = argv[++i];
      else if (g_str_equal (argv[i], "--runs") && i + 1 < argc)
        {
          int n = atoi (argv[++i]);

          runs = n > 0 ? (guint) n : 1;
        }
      else
        {
          fprintf (stderr, "usage: bench-parser [--write DIR] [--runs N]\n");
          return 2;
        }
    }

  printf ("%-28s %10s %7s %10s %10s %10s\n", "input (in process)", "bytes", "blocks", "median ms",
          "best ms", "MB/s");
  for (guint i = 0; i < G_N_ELEMENTS (inputs); i++)
    {
      if (dir != NULL)
        {
          g_autofree char *name = g_strconcat (inputs[i].name, ".md", NULL);
          g_autofree char *path = g_build_filename (dir, name, NULL);
          g_autoptr (GError) error = NULL;

          if (!g_file_set_contents (path, inputs[i].text, -1, &error))
            {
              fprintf (stderr, "bench-parser: %s\n", error->message);
              return 1;
            }
        }
      measure (parser, &inputs[i], runs);
      g_free (inputs[i].text);
    }
  return 0;
}
