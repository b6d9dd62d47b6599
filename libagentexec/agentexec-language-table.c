/* agentexec-language-table.c: the language table and alias lookup
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "agentexec-language-table-private.h"

const AgentExecLanguageEntry _agentexec_languages[] = {
  { "python",
    ".py",
    { "py", "python3", "python2", "tool_code", "ipython", "py3", NULL },
    "^[ \\t]*(?:def[ \\t]+\\w+[ \\t]*\\(|class[ \\t]+\\w+[ \\t]*[(:]|import[ \\t]+\\w|"
    "from[ \\t]+[\\w.]+[ \\t]+import[ \\t]|print[ \\t]*\\(|if[ \\t]+__name__|elif[ \\t]|"
    "for[ \\t]+\\w+(?:[ \\t]*,[ \\t]*\\w+)*[ \\t]+in[ \\t][^\\n;]*:[ \\t]*$|"
    "(?:while|with|if)[ \\t][^\\n;{]*:[ \\t]*$|try:[ \\t]*$|except\\b|return[ \\t]+\\w+$|"
    "\\w+[ \\t]*=[ \\t]*\\[[^\\]\\n]*\\][ \\t]*$)" },
  { "javascript",
    ".js",
    { "js", "node", "nodejs", "ecmascript", "mjs", NULL },
    "(?:console\\.(?:log|error)[ \\t]*\\(|\\b(?:const|let|var)[ \\t]+[\\w{\\[]|"
    "\\bfunction\\b[ \\t]*\\w*[ \\t]*\\(|=>|\\brequire[ \\t]*\\(|\\bmodule\\.exports\\b|"
    "^import[ \\t].*\\bfrom[ \\t]+['\"]|;[ \\t]*$|\\bprocess\\.\\w)" },
  { "bash",
    ".sh",
    { "sh", "shell", "zsh", "console", "shellscript", NULL },
    "^[ \\t]*(?:echo[ \\t]|printf[ \\t]|cd[ \\t]|ls\\b|export[ \\t]+\\w+=|if[ \\t]+\\[|"
    "for[ \\t]+\\w+[ \\t]+in[ \\t][^:\\n]*;[ \\t]*do\\b|fi[ \\t]*$|done[ \\t]*$|then[ \\t]*$|"
    "\\w+=\\$|grep[ \\t]|cat[ \\t]+[\\w/<]|mkdir[ \\t]|apt(?:-get)?[ \\t]|set[ \\t]+-\\w)|\\$\\(" },
  { "r",
    ".R",
    { "rscript", "rlang", NULL },
    "(?:\\w[ \\t]*<-[ \\t]|\\blibrary[ \\t]*\\(|\\bdata\\.frame[ \\t]*\\(|"
    "\\bggplot[ \\t]*\\(|\\bc\\([0-9])" },
  { "java",
    ".java",
    { "jav", NULL },
    "(?:\\bpublic[ \\t]+(?:static[ \\t]+)?(?:final[ \\t]+)?(?:class|void)\\b|"
    "System\\.out\\.print)" },
};

const guint _agentexec_n_languages = G_N_ELEMENTS (_agentexec_languages);

const char *const _agentexec_language_names[] = {
  "python", "javascript", "bash", "r", "java", NULL
};

/* The entry @name (exactly @len bytes, any case) names, or NULL. */
static const AgentExecLanguageEntry *
lookup_len (const char *name, gsize len)
{
  for (guint i = 0; i < G_N_ELEMENTS (_agentexec_languages); i++)
    {
      const AgentExecLanguageEntry *entry = &_agentexec_languages[i];

      if (strlen (entry->name) == len && g_ascii_strncasecmp (name, entry->name, len) == 0)
        return entry;
      for (guint j = 0; entry->aliases[j] != NULL; j++)
        if (strlen (entry->aliases[j]) == len &&
            g_ascii_strncasecmp (name, entry->aliases[j], len) == 0)
          return entry;
    }
  return NULL;
}

/* The entry @name names, or NULL (no white space stripped). */
const AgentExecLanguageEntry *
_agentexec_language_lookup (const char *name)
{
  return lookup_len (name, strlen (name));
}

/* The canonical name of @name with surrounding ASCII white space ignored
 * (what agentexec_language_resolve () accepts), or NULL. */
const char *
_agentexec_language_canonical (const char *name)
{
  const char *end = name + strlen (name);
  const AgentExecLanguageEntry *entry;

  while (g_ascii_isspace (*name))
    name++;
  while (end > name && g_ascii_isspace (end[-1]))
    end--;
  entry = lookup_len (name, end - name);
  return entry != NULL ? entry->name : NULL;
}

static const char *
canonical_or_self (const char *name)
{
  const char *resolved = _agentexec_language_canonical (name);

  return resolved != NULL ? resolved : name;
}

/* Whether @language is one of @languages: aliases resolved, case ignored;
 * names the table does not know compare literally, ignoring case. */
gboolean
_agentexec_language_wanted (const char *language, const char *const *languages)
{
  const char *mine = canonical_or_self (language);

  for (guint i = 0; languages[i] != NULL; i++)
    if (g_ascii_strcasecmp (mine, canonical_or_self (languages[i])) == 0)
      return TRUE;
  return FALSE;
}
