/* agentexec-language-table-private.h: the languages the library knows,
 * their aliases, extensions and detection patterns (plain data, no GObject:
 * the parser core and agentexec-extract use it too)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  const char *name;
  const char *extension;
  const char *aliases[8];
  const char *pattern; /* PCRE2, for agentexec_language_detect () */
} AgentExecLanguageEntry;

extern const AgentExecLanguageEntry _agentexec_languages[];
extern const guint _agentexec_n_languages;
extern const char *const _agentexec_language_names[];

const AgentExecLanguageEntry *_agentexec_language_lookup (const char *name);
const char *_agentexec_language_canonical (const char *name);
gboolean _agentexec_language_wanted (const char *language, const char *const *languages);

G_END_DECLS
