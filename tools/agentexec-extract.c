/* agentexec-extract.c: prints the code blocks of a text
 *
 *   agentexec-extract [--json] [--mode commonmark|delimiters]
 *                     [--delimiter START END]... [--language L]... [FILE|-]
 *
 * Exit status: 0 on success (also when no block is found), 1 when the input
 * cannot be read, 2 on bad usage.
 *
 * It uses the parser core directly (no GObject: one plain struct per block,
 * printed as soon as it is found) and links nothing else, so it starts as
 * fast as a C program can.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agentexec-delimiter-scanner-private.h"
#include "agentexec-fence-scanner-private.h"
#include "agentexec-language-table-private.h"
#include "agentexec-raw-block-private.h"

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

/* ---- input ------------------------------------------------------------------ */

#define CHUNK (128 * 1024)

/* Opens FILE ("-" or NULL: standard input). Returns the descriptor, or -1
 * with @error set. */
static int
open_input (const char *file, GError **error)
{
  int fd;

  if (file == NULL || g_str_equal (file, "-"))
    return STDIN_FILENO;
  do
    fd = open (file, O_RDONLY | O_CLOEXEC);
  while (fd < 0 && errno == EINTR);
  if (fd < 0)
    {
      int saved = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved), "%s", g_strerror (saved));
    }
  return fd;
}

/* Up to @size bytes; 0 at the end; -1 with @error set. */
static gssize
read_some (int fd, char *buffer, gsize size, GError **error)
{
  for (;;)
    {
      gssize n = read (fd, buffer, size);

      if (n >= 0)
        return n;
      if (errno != EINTR)
        {
          int saved = errno;

          g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved), "%s",
                       g_strerror (saved));
          return -1;
        }
    }
}

/* The whole input, NUL-terminated (delimiter mode needs all of it). */
static gboolean
read_all (int fd, char **text, gsize *len, GError **error)
{
  g_autoptr (GByteArray) buffer = g_byte_array_new ();
  struct stat st;
  gssize n;

  if (fstat (fd, &st) == 0 && S_ISREG (st.st_mode) && st.st_size > 0)
    g_byte_array_set_size (buffer, MIN ((guint64) st.st_size, G_MAXUINT - 1) + 1);
  g_byte_array_set_size (buffer, 0);
  for (;;)
    {
      guint old = buffer->len;

      g_byte_array_set_size (buffer, old + CHUNK);
      n = read_some (fd, (char *) buffer->data + old, CHUNK, error);
      g_byte_array_set_size (buffer, old + MAX (n, 0));
      if (n < 0)
        return FALSE;
      if (n == 0)
        break;
    }
  *len = buffer->len;
  g_byte_array_append (buffer, (const guint8 *) "", 1);
  *text = (char *) g_byte_array_free (g_steal_pointer (&buffer), FALSE);
  return TRUE;
}

/* ---- output ------------------------------------------------------------------ */

/* Standard output through one buffer: no stdio locking per call, no copy of
 * a block into a string first. */
typedef struct
{
  char buf[64 * 1024];
  gsize n;
  gboolean failed;
} Output;

static void
out_write_fd (Output *o, const char *p, gsize n)
{
  while (n > 0 && !o->failed)
    {
      gssize w = write (STDOUT_FILENO, p, n);

      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0)
        {
          o->failed = TRUE;
          break;
        }
      p += w;
      n -= w;
    }
}

static void
out_flush (Output *o)
{
  out_write_fd (o, o->buf, o->n);
  o->n = 0;
}

static inline void
out_append (Output *o, const char *p, gsize n)
{
  if (o->n + n > sizeof o->buf)
    {
      out_flush (o);
      if (n > sizeof o->buf / 2)
        {
          out_write_fd (o, p, n);
          return;
        }
    }
  memcpy (o->buf + o->n, p, n);
  o->n += n;
}

#define out_literal(o, s) out_append ((o), (s), sizeof (s) - 1)

static inline void
out_char (Output *o, char c)
{
  if (o->n == sizeof o->buf)
    out_flush (o);
  o->buf[o->n++] = c;
}

/* 0: copied as is; 1: escaped; 2: non-ASCII (copied once UTF-8 is checked). */
static guint8 json_class[256];

static void
init_json_class (void)
{
  for (guint c = 0; c < 256; c++)
    json_class[c] = c < 0x20 || c == '"' || c == '\\' || c == 0x7f ? 1 : c >= 0x80 ? 2 : 0;
}

#define ONES G_GUINT64_CONSTANT (0x0101010101010101)
#define HIGHS G_GUINT64_CONSTANT (0x8080808080808080)

/* Whether one of the 8 bytes of @v needs a look: a control character, '"',
 * '\\', DEL, or (unless @utf8_checked) a non-ASCII byte. */
static inline gboolean
word_needs_look (guint64 v, gboolean utf8_checked)
{
  guint64 quote = v ^ (ONES * '"');
  guint64 backslash = v ^ (ONES * '\\');
  guint64 del = v ^ (ONES * 0x7f);
  guint64 hits = ((v - ONES * 0x20) & ~v) | ((quote - ONES) & ~quote) |
                 ((backslash - ONES) & ~backslash) | ((del - ONES) & ~del);

  if (!utf8_checked)
    hits |= v;
  return (hits & HIGHS) != 0;
}

static void out_escape (Output *o, const char *c, gsize len, gboolean utf8_checked);

/* The rest of a string from its first non-ASCII byte on: copied once it is
 * valid UTF-8, else with each invalid sequence as U+FFFD. */
static void
out_escape_non_ascii (Output *o, const char *p, gsize len)
{
  g_autofree char *valid = NULL;

  if (g_utf8_validate_len (p, len, NULL))
    {
      out_escape (o, p, len, TRUE);
      return;
    }
  valid = g_utf8_make_valid (p, len);
  out_escape (o, valid, strlen (valid), TRUE);
}

static void
out_escape (Output *o, const char *c, gsize len, gboolean utf8_checked)
{
  const guchar *p = (const guchar *) c;
  const guchar *end = p + len;

  while (p < end)
    {
      const guchar *run = p;
      guint64 v;

      while (end - p >= 8 && (memcpy (&v, p, 8), !word_needs_look (v, utf8_checked)))
        p += 8;
      while (p < end && (json_class[*p] == 0 || (utf8_checked && json_class[*p] == 2)))
        p++;
      out_append (o, (const char *) run, p - run);
      if (p == end)
        break;
      if (json_class[*p] == 2)
        {
          out_escape_non_ascii (o, (const char *) p, end - p);
          return;
        }
      switch (*p)
        {
        case '"':
          out_literal (o, "\\\"");
          break;
        case '\\':
          out_literal (o, "\\\\");
          break;
        case '\n':
          out_literal (o, "\\n");
          break;
        case '\r':
          out_literal (o, "\\r");
          break;
        case '\t':
          out_literal (o, "\\t");
          break;
        default:
          {
            char u[8];

            g_snprintf (u, sizeof u, "\\u%04x", *p);
            out_append (o, u, 6);
          }
        }
      p++;
    }
}

/* A JSON string; invalid UTF-8 becomes U+FFFD. */
static void
out_json_string (Output *o, const char *s, gsize len)
{
  out_char (o, '"');
  out_escape (o, s, len, FALSE);
  out_char (o, '"');
}

static void
out_number (Output *o, guint64 n)
{
  char digits[24];
  int i = sizeof digits;

  do
    digits[--i] = (char) ('0' + n % 10);
  while ((n /= 10) > 0);
  out_append (o, digits + i, sizeof digits - i);
}

/* ---- blocks ------------------------------------------------------------------ */

static const char adk_delimiters[] = "```tool_code\n\0\n```\0```python\n\0\n```";

typedef struct
{
  const char *const *languages; /* NULL: every block */
  gboolean json;
  guint printed;
  Output *out;
} Printer;

static void
print_json_block (Printer *p, const AgentExecRawBlock *b)
{
  Output *o = p->out;

  if (p->printed == 0)
    out_literal (o, "[\n  {\"info\": ");
  else
    out_literal (o, ",\n  {\"info\": ");
  out_json_string (o, b->info, strlen (b->info));
  out_literal (o, ", \"language\": ");
  out_json_string (o, b->language, strlen (b->language));
  out_literal (o, ", \"code\": ");
  out_json_string (o, b->code, b->code_length);
  out_literal (o, ", \"start\": ");
  out_number (o, b->start);
  out_literal (o, ", \"end\": ");
  out_number (o, b->end);
  if (b->closed)
    out_literal (o, ", \"closed\": true}");
  else
    out_literal (o, ", \"closed\": false}");
}

static void
print_code_block (Printer *p, const AgentExecRawBlock *b)
{
  if (p->printed > 0)
    out_char (p->out, '\n');
  out_append (p->out, b->code, b->code_length);
  if (b->code_length > 0 && b->code[b->code_length - 1] != '\n')
    out_char (p->out, '\n');
}

/* Each block as it is found: no list of blocks, no copy of the output. */
static void
print_block (AgentExecRawBlock *block, gpointer user_data)
{
  Printer *p = user_data;

  if (p->languages != NULL && !_agentexec_language_wanted (block->language, p->languages))
    return;
  if (p->json)
    print_json_block (p, block);
  else
    print_code_block (p, block);
  p->printed++;
}

static void
print_end (Printer *p)
{
  if (!p->json)
    return;
  if (p->printed > 0)
    out_literal (p->out, "\n]\n");
  else
    out_literal (p->out, "[]\n");
}

/* CommonMark mode reads and scans in chunks: blocks come out while the
 * input is still being read, and only the open block is kept. */
static gboolean
extract_commonmark (Printer *p, int fd, GError **error)
{
  static char chunk[CHUNK]; /* not malloc's: it would map and unmap it */
  g_autoptr (AgentExecFenceScanner) scanner = _agentexec_fence_scanner_new (print_block, p);
  gssize n;

  while ((n = read_some (fd, chunk, CHUNK, error)) > 0)
    _agentexec_fence_scanner_feed (scanner, chunk, n);
  if (n < 0)
    return FALSE;
  _agentexec_fence_scanner_finish (scanner);
  return TRUE;
}

/* ADK's pairs unless --delimiter gave some; every non-empty block. */
static gboolean
extract_delimited (Printer *p, Options *o, int fd, GError **error)
{
  g_autoptr (GPtrArray) pairs = g_ptr_array_new ();
  g_autoptr (GPtrArray) infos = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) languages = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *text = NULL;
  gsize len = 0;
  AgentExecDelimiterScanner scanner;
  AgentExecDelimiterMatch match;

  if (!read_all (fd, &text, &len, error))
    return FALSE;
  if (o->pairs->len == 0)
    for (const char *d = adk_delimiters; pairs->len < 4; d += strlen (d) + 1)
      g_ptr_array_add (pairs, (char *) d);
  else
    for (guint i = 0; i < o->pairs->len; i++)
      g_ptr_array_add (pairs, o->pairs->pdata[i]);
  for (guint i = 0; i < pairs->len; i += 2)
    {
      char *info, *language;

      _agentexec_delimiter_pair_describe (pairs->pdata[i], &info, &language);
      g_ptr_array_add (infos, info);
      g_ptr_array_add (languages, language);
    }
  g_ptr_array_add (pairs, NULL);

  _agentexec_delimiter_scanner_init (&scanner, (const char *const *) pairs->pdata);
  while (_agentexec_delimiter_scanner_next (&scanner, text, len, TRUE, &match) == DELIMITER_FOUND)
    {
      AgentExecRawBlock block;

      if (match.code_end == match.code_start)
        continue;
      _agentexec_delimiter_match_to_block (text, &match, infos->pdata[match.pair],
                                           languages->pdata[match.pair], &block);
      print_block (&block, p);
      _agentexec_raw_block_clear (&block);
    }
  return TRUE;
}

int
main (int argc, char *argv[])
{
  Options o = {
    0,
  };
  g_autoptr (GError) error = NULL;
  static Output out;
  Printer printer = {
    0,
  };
  gboolean read_ok;
  int fd;
  int r;

  o.pairs = g_ptr_array_new_with_free_func (g_free);
  o.languages = g_ptr_array_new_with_free_func (g_free);
  r = parse_args (&o, argc, argv);
  if (r != 0)
    {
      options_clear (&o);
      return r < 0 ? 0 : r;
    }

  if (o.languages->len > 0)
    {
      g_ptr_array_add (o.languages, NULL);
      printer.languages = (const char *const *) o.languages->pdata;
    }
  printer.json = o.json;
  printer.out = &out;
  if (o.json)
    init_json_class ();

  fd = open_input (o.file, &error);
  read_ok = fd >= 0 && (o.delimiters ? extract_delimited (&printer, &o, fd, &error)
                                     : extract_commonmark (&printer, fd, &error));
  if (fd > STDIN_FILENO)
    close (fd);
  if (!read_ok)
    {
      /* What is still buffered is dropped; a read error after more than a
       * buffer of output (an I/O error mid-file) leaves that part out. */
      out.n = 0;
      fprintf (stderr,
               "agentexec-extract: cannot read %s: %s (check the path and its "
               "permissions, or pipe the text to standard input)\n",
               o.file != NULL && !g_str_equal (o.file, "-") ? o.file : "standard input",
               error->message);
      options_clear (&o);
      return EXIT_UNREADABLE;
    }
  print_end (&printer);
  out_flush (&out);
  options_clear (&o);
  return out.failed ? EXIT_UNREADABLE : 0;
}
