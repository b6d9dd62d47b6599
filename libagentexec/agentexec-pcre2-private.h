/* agentexec-pcre2-private.h: compiling the library's own PCRE2 patterns
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>
#include <pcre2.h>

G_BEGIN_DECLS

pcre2_code *_agentexec_pcre2_compile (const char *pattern, guint32 options);

G_END_DECLS
