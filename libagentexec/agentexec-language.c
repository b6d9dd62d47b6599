/* agentexec-language.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>
#include <pcre2.h>

#include "agentexec-autocleanups-private.h"
#include "agentexec-enums.h"
#include "agentexec-language-private.h"
#include "agentexec-language-table-private.h"
#include "agentexec-pcre2-private.h"

/* How much of the code detection looks at: enough for any real snippet, and
 * it keeps detection cheap on megabytes of pasted data. */
#define DETECT_WINDOW (64 * 1024)
#define DETECT_OPTIONS (PCRE2_MULTILINE | PCRE2_UTF | PCRE2_MATCH_INVALID_UTF)

/**
 * agentexec_language_resolve:
 * @name: a language name or alias, in any case (`PY`, `Python3`, `node`,
 *   `tool_code`, `sh`)
 * @error: return location for a #GError
 *
 * Resolves @name to its canonical language name. Surrounding white space is
 * ignored.
 *
 * Returns: (transfer none): the canonical name (`python`, `javascript`,
 *   `bash`, `r`, `java`), or %NULL with %AGENTEXEC_ERROR_UNSUPPORTED_LANGUAGE
 *   naming the supported set
 *
 * Since: 1.0
 */
const char *
agentexec_language_resolve (const char *name, GError **error)
{
  g_autofree char *stripped = NULL;
  g_autofree char *list = NULL;
  const char *canonical;

  g_return_val_if_fail (name != NULL, NULL);

  canonical = _agentexec_language_canonical (name);
  if (canonical != NULL)
    return canonical;

  stripped = g_strstrip (g_strdup (name));
  list = g_strjoinv (", ", (char **) _agentexec_language_names);
  g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_UNSUPPORTED_LANGUAGE,
               "Unsupported language “%s”: use one of %s (aliases such as py, js, "
               "node, sh and tool_code are accepted)",
               stripped, list);
  return NULL;
}

/**
 * agentexec_language_get_supported:
 *
 * Gets the canonical names of the languages the library knows.
 *
 * Returns: (transfer none) (array zero-terminated=1): the canonical language names
 *
 * Since: 1.0
 */
const char *const *
agentexec_language_get_supported (void)
{
  return _agentexec_language_names;
}

/**
 * agentexec_language_get_extension:
 * @language: a language name or alias
 *
 * Gets the file name extension of the canonical language @language (`py` for
 * `python`).
 *
 * Returns: (transfer none) (nullable): the usual file extension with its dot
 *   (`.py`), or %NULL for an unknown language
 *
 * Since: 1.0
 */
const char *
agentexec_language_get_extension (const char *language)
{
  const AgentExecLanguageEntry *found;

  g_return_val_if_fail (language != NULL, NULL);

  found = _agentexec_language_lookup (language);
  return found != NULL ? found->extension : NULL;
}

static gpointer
compile_all (gpointer data)
{
  pcre2_code **codes = g_new0 (pcre2_code *, _agentexec_n_languages + 1);

  for (guint i = 0; i < _agentexec_n_languages; i++)
    codes[i] = _agentexec_pcre2_compile (_agentexec_languages[i].pattern, DETECT_OPTIONS);
  codes[_agentexec_n_languages] = _agentexec_pcre2_compile (
      "\\A#![ \\t]*(?:\\S*/)?(?:env[ \\t]+(?:-\\S+[ \\t]+)*)?([A-Za-z][\\w.+-]*)", DETECT_OPTIONS);
  return codes;
}

static pcre2_code **
patterns (void)
{
  static GOnce once = G_ONCE_INIT;

  return g_once (&once, compile_all, NULL);
}

static guint
count_matches (pcre2_code *code, const char *text, gsize len)
{
  g_autoptr (pcre2_match_data) match = pcre2_match_data_create_from_pattern (code, NULL);
  PCRE2_SIZE offset = 0;
  guint count = 0;

  while (offset < len && count < 64)
    {
      PCRE2_SIZE *ovector;
      int rc = pcre2_match (code, (PCRE2_SPTR) text, len, offset, 0, match, NULL);

      if (rc < 0)
        break;
      ovector = pcre2_get_ovector_pointer (match);
      count++;
      offset = ovector[1] > ovector[0] ? ovector[1] : ovector[0] + 1;
    }
  return count;
}

static const char *
detect_shebang (const char *code, gsize len)
{
  pcre2_code *shebang = patterns ()[_agentexec_n_languages];
  g_autoptr (pcre2_match_data) match = pcre2_match_data_create_from_pattern (shebang, NULL);
  g_autofree char *interpreter = NULL;
  PCRE2_SIZE *ovector;
  const AgentExecLanguageEntry *found;
  gsize n;

  if (pcre2_match (shebang, (PCRE2_SPTR) code, len, 0, 0, match, NULL) < 2)
    return NULL;
  ovector = pcre2_get_ovector_pointer (match);
  interpreter = g_strndup (code + ovector[2], ovector[3] - ovector[2]);
  /* python3.11 → python3, node18 → node */
  n = strcspn (interpreter, ".0123456789");
  found = _agentexec_language_lookup (interpreter);
  if (found == NULL && n > 0)
    {
      interpreter[n] = '\0';
      found = _agentexec_language_lookup (interpreter);
    }
  if (found == NULL && g_str_equal (interpreter, "dash"))
    found = _agentexec_language_lookup ("bash");
  return found != NULL ? found->name : NULL;
}

/**
 * agentexec_language_detect:
 * @code: source code
 *
 * Guesses the language of @code: a shebang line decides first
 * (`#!/usr/bin/env python3`, `#!/bin/sh`), then cheap patterns typical of
 * each language are counted and the language with the most wins (ties go to
 * the earlier of python, javascript, bash, r, java).
 *
 * Returns: (transfer none) (nullable): the canonical name, or %NULL when
 *   nothing looks like any supported language
 *
 * Since: 1.0
 */
const char *
agentexec_language_detect (const char *code)
{
  const char *by_shebang;
  const char *best = NULL;
  guint best_count = 0;
  gsize len;

  g_return_val_if_fail (code != NULL, NULL);

  len = strnlen (code, DETECT_WINDOW);
  by_shebang = detect_shebang (code, len);
  if (by_shebang != NULL)
    return by_shebang;

  for (guint i = 0; i < _agentexec_n_languages; i++)
    {
      guint count = count_matches (patterns ()[i], code, len);

      if (count > best_count)
        {
          best_count = count;
          best = _agentexec_languages[i].name;
        }
    }
  return best;
}

/*
 * _agentexec_language_for_input:
 *
 * The canonical language an input runs as: the given one resolved, else the
 * detected one, else python (what ADK assumes for an unlabelled block).
 */
const char *
_agentexec_language_for_input (AgentExecExecutionInput *input, GError **error)
{
  const char *given = agentexec_execution_input_get_language (input);
  const char *detected;

  if (given != NULL && given[0] != '\0')
    return agentexec_language_resolve (given, error);
  detected = agentexec_language_detect (agentexec_execution_input_get_code (input));
  return detected != NULL ? detected : "python";
}
