/* agentexec-extract.c: prints the code blocks of a text
 *
 *   agentexec-extract [--json] [--mode commonmark|delimiters]
 *                     [--delimiter START END]... [--language L]... [FILE|-]
 *
 * Exit status: 0 on success (also when no block is found), 1 when the input
 * cannot be read, 2 on bad usage.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "libagentexec.h"

#define EXIT_UNREADABLE 1
#define EXIT_USAGE 2

static const char usage[] =
    "Usage: agentexec-extract [OPTION]... [FILE|-]\n"
    "Prints the code blocks of FILE (standard input when absent or -).\n"
    "\n"
    "  --json                  a JSON array: one object per block with info,\n"
    "                          language, code, start, end (byte offsets), closed\n"
    "  --mode commonmark       fenced code blocks as CommonMark 0.31 finds them\n"
    "                          (the default)\n"
    "  --mode delimiters       ADK's delimiter pairs: (```tool_code\\n, \\n```) and\n"
    "                          (```python\\n, \\n```) unless --delimiter is given\n"
    "  --delimiter START END   a delimiter pair, C escapes allowed (\\n, \\t);\n"
    "                          repeatable; implies --mode delimiters\n"
    "  --language L            only blocks in language L (aliases resolved,\n"
    "                          case-insensitive); repeatable\n"
    "  -h, --help              this help\n"
    "\n"
    "Without --json, the code of each block, separated by a blank line.\n"
    "Exit status: 0 on success (also when no block is found), 1 when the input\n"
    "cannot be read, 2 on bad usage.\n";

typedef struct
{
  gboolean json;
  gboolean delimiters;
  gboolean commonmark_asked;
  GPtrArray *pairs;     /* char *, flat, NULL-terminated at the end */
  GPtrArray *languages; /* char * */
  char *file;
} Options;

static void
options_clear (Options *o)
{
  g_clear_pointer (&o->pairs, g_ptr_array_unref);
  g_clear_pointer (&o->languages, g_ptr_array_unref);
  g_clear_pointer (&o->file, g_free);
}

static int
usage_error (const char *message)
{
  fprintf (stderr, "agentexec-extract: %s\nTry 'agentexec-extract --help'.\n", message);
  return EXIT_USAGE;
}

/* Value of "--name VALUE" or "--name=VALUE" at argv[*i]; NULL if absent. */
static const char *
option_value (int argc, char **argv, int *i, const char *name)
{
  gsize n = strlen (name);

  if (strncmp (argv[*i], name, n) != 0)
    return NULL;
  if (argv[*i][n] == '=')
    return argv[*i] + n + 1;
  if (argv[*i][n] != '\0' || *i + 1 >= argc)
    return NULL;
  return argv[++*i];
}

static int
parse_mode (Options *o, const char *mode)
{
  if (g_str_equal (mode, "commonmark"))
    o->commonmark_asked = TRUE;
  else if (g_str_equal (mode, "delimiters"))
    o->delimiters = TRUE;
  else
    return usage_error ("--mode takes 'commonmark' or 'delimiters'");
  return 0;
}

static int
parse_delimiter (Options *o, int argc, char **argv, int *i)
{
  char *start, *end;

  if (*i + 2 >= argc)
    return usage_error ("--delimiter takes two arguments: START END");
  start = g_strcompress (argv[*i + 1]);
  end = g_strcompress (argv[*i + 2]);
  *i += 2;
  g_ptr_array_add (o->pairs, start);
  g_ptr_array_add (o->pairs, end);
  if (start[0] == '\0' || end[0] == '\0')
    return usage_error ("--delimiter: START and END must not be empty");
  o->delimiters = TRUE;
  return 0;
}

static int
parse_args (Options *o, int argc, char **argv)
{
  gboolean only_files = FALSE;

  for (int i = 1; i < argc; i++)
    {
      const char *arg = argv[i];
      const char *value;
      int r = 0;

      if (!only_files && (g_str_equal (arg, "-h") || g_str_equal (arg, "--help")))
        {
          fputs (usage, stdout);
          return -1;
        }
      else if (!only_files && g_str_equal (arg, "--"))
        only_files = TRUE;
      else if (!only_files && g_str_equal (arg, "--json"))
        o->json = TRUE;
      else if (!only_files && g_str_has_prefix (arg, "--mode"))
        r = (value = option_value (argc, argv, &i, "--mode")) != NULL
                ? parse_mode (o, value)
                : usage_error ("--mode needs a value");
      else if (!only_files && g_str_equal (arg, "--delimiter"))
        r = parse_delimiter (o, argc, argv, &i);
      else if (!only_files && g_str_has_prefix (arg, "--language"))
        {
          if ((value = option_value (argc, argv, &i, "--language")) == NULL || *value == '\0')
            r = usage_error ("--language needs a value");
          else
            g_ptr_array_add (o->languages, g_strdup (value));
        }
      else if (!only_files && arg[0] == '-' && arg[1] != '\0')
        {
          g_autofree char *message = g_strdup_printf ("unknown option '%s'", arg);
          r = usage_error (message);
        }
      else if (o->file != NULL)
        r = usage_error ("only one FILE can be given");
      else
        o->file = g_strdup (arg);
      if (r != 0)
        return r;
    }

  if (o->delimiters && o->commonmark_asked)
    return usage_error ("--delimiter and --mode delimiters do not go with --mode commonmark");
  return 0;
}

static gboolean
read_input (const char *file, char **text, gsize *len, GError **error)
{
  g_autoptr (GByteArray) buffer = NULL;
  char chunk[65536];
  ssize_t n;

  if (file != NULL && !g_str_equal (file, "-"))
    return g_file_get_contents (file, text, len, error);

  buffer = g_byte_array_new ();
  while ((n = read (STDIN_FILENO, chunk, sizeof chunk)) != 0)
    {
      if (n < 0)
        {
          int saved = errno;

          if (saved == EINTR)
            continue;
          g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved), "%s",
                       g_strerror (saved));
          return FALSE;
        }
      g_byte_array_append (buffer, (const guint8 *) chunk, n);
    }
  *len = buffer->len;
  g_byte_array_append (buffer, (const guint8 *) "", 1);
  *text = (char *) g_byte_array_free (g_steal_pointer (&buffer), FALSE);
  return TRUE;
}

/* 0: copied as is; 1: escaped; 2: non-ASCII (copied, UTF-8 checked). */
static guint8 json_class[256];

static void
init_json_class (void)
{
  for (guint c = 0; c < 256; c++)
    json_class[c] = c < 0x20 || c == '"' || c == '\\' || c == 0x7f ? 1 : c >= 0x80 ? 2 : 0;
}

/* Appends @s JSON-escaped; returns whether it holds non-ASCII bytes. */
static gboolean
append_json_escaped (GString *out, const char *s)
{
  const unsigned char *p = (const unsigned char *) s;
  gboolean high = FALSE;

  for (;;)
    {
      const unsigned char *run = p;
      unsigned char c;

      while (json_class[*p] == 0 || (json_class[*p] == 2 && (high = TRUE)))
        p++;
      g_string_append_len (out, (const char *) run, p - run);
      c = *p++;
      switch (c)
        {
        case '\0':
          return high;
        case '"':
          g_string_append (out, "\\\"");
          break;
        case '\\':
          g_string_append (out, "\\\\");
          break;
        case '\n':
          g_string_append (out, "\\n");
          break;
        case '\r':
          g_string_append (out, "\\r");
          break;
        case '\t':
          g_string_append (out, "\\t");
          break;
        default:
          g_string_append_printf (out, "\\u%04x", c);
        }
    }
}

/* A JSON string; invalid UTF-8 becomes U+FFFD. */
static void
append_json_string (GString *out, const char *s)
{
  gsize mark = out->len;

  g_string_append_c (out, '"');
  if (append_json_escaped (out, s) && !g_utf8_validate (s, -1, NULL))
    {
      g_autofree char *valid = g_utf8_make_valid (s, -1);

      g_string_truncate (out, mark + 1);
      append_json_escaped (out, valid);
    }
  g_string_append_c (out, '"');
}

static void
append_number (GString *out, guint64 n)
{
  char digits[24];
  int i = sizeof digits;

  do
    digits[--i] = (char) ('0' + n % 10);
  while ((n /= 10) > 0);
  g_string_append_len (out, digits + i, sizeof digits - i);
}

/* One block at a time through stdio's buffer: no copy of the whole output. */
static void
print_json (GPtrArray *blocks)
{
  GString *out = g_string_new (NULL);

  fputs ("[", stdout);
  for (guint i = 0; i < blocks->len; i++)
    {
      AgentExecCodeBlock *b = g_ptr_array_index (blocks, i);

      g_string_truncate (out, 0);
      g_string_append (out, i == 0 ? "\n  {\"info\": " : ",\n  {\"info\": ");
      append_json_string (out, agentexec_code_block_get_info (b));
      g_string_append (out, ", \"language\": ");
      append_json_string (out, agentexec_code_block_get_language (b));
      g_string_append (out, ", \"code\": ");
      append_json_string (out, agentexec_code_block_get_code (b));
      g_string_append (out, ", \"start\": ");
      append_number (out, agentexec_code_block_get_start (b));
      g_string_append (out, ", \"end\": ");
      append_number (out, agentexec_code_block_get_end (b));
      g_string_append (out, agentexec_code_block_get_closed (b) ? ", \"closed\": true}"
                                                                : ", \"closed\": false}");
      fwrite (out->str, 1, out->len, stdout);
    }
  fputs (blocks->len > 0 ? "\n]\n" : "]\n", stdout);
  g_string_free (out, TRUE);
}

static void
print_code (GPtrArray *blocks)
{
  for (guint i = 0; i < blocks->len; i++)
    {
      const char *code = agentexec_code_block_get_code (g_ptr_array_index (blocks, i));
      gsize n = strlen (code);

      if (i > 0)
        fputc ('\n', stdout);
      fwrite (code, 1, n, stdout);
      if (n > 0 && code[n - 1] != '\n')
        fputc ('\n', stdout);
    }
}

static AgentExecCodeBlockParser *
make_parser (Options *o)
{
  if (!o->delimiters)
    return agentexec_code_block_parser_new ();
  if (o->pairs->len == 0)
    return agentexec_code_block_parser_new_with_delimiters (NULL);
  g_ptr_array_add (o->pairs, NULL);
  return agentexec_code_block_parser_new_with_delimiters ((const char *const *) o->pairs->pdata);
}

int
main (int argc, char *argv[])
{
  Options o = {
    0,
  };
  g_autoptr (AgentExecCodeBlockParser) parser = NULL;
  g_autoptr (GPtrArray) blocks = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  gsize len = 0;
  int r;

  o.pairs = g_ptr_array_new_with_free_func (g_free);
  o.languages = g_ptr_array_new_with_free_func (g_free);
  r = parse_args (&o, argc, argv);
  if (r != 0)
    {
      options_clear (&o);
      return r < 0 ? 0 : r;
    }

  if (!read_input (o.file, &text, &len, &error))
    {
      fprintf (stderr,
               "agentexec-extract: cannot read %s: %s (check the path and its "
               "permissions, or pipe the text to standard input)\n",
               o.file != NULL && !g_str_equal (o.file, "-") ? o.file : "standard input",
               error->message);
      options_clear (&o);
      return EXIT_UNREADABLE;
    }

  parser = make_parser (&o);
  blocks = agentexec_code_block_parser_extract_code_blocks_full (parser, text, len);
  if (o.languages->len > 0)
    {
      GPtrArray *kept;

      g_ptr_array_add (o.languages, NULL);
      kept = agentexec_code_block_parser_filter_by_language (
          blocks, (const char *const *) o.languages->pdata);
      g_ptr_array_unref (blocks);
      blocks = kept;
    }

  if (o.json)
    {
      init_json_class ();
      print_json (blocks);
    }
  else
    print_code (blocks);
  options_clear (&o);
  return fflush (stdout) == 0 ? 0 : EXIT_UNREADABLE;
}
