/* agentexec-language.h: the language registry
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (AGENTEXEC_INSIDE) && !defined (AGENTEXEC_COMPILATION)
#error "Only <libagentexec.h> can be included directly."
#endif

#include <glib.h>

#include "agentexec-version-macros.h"

G_BEGIN_DECLS

AGENTEXEC_AVAILABLE_IN_ALL
const char         *agentexec_language_resolve        (const char  *name,
                                                       GError     **error);
AGENTEXEC_AVAILABLE_IN_ALL
const char         *agentexec_language_detect         (const char  *code);
AGENTEXEC_AVAILABLE_IN_ALL
const char * const *agentexec_language_get_supported  (void);
AGENTEXEC_AVAILABLE_IN_ALL
const char         *agentexec_language_get_extension  (const char  *language);

G_END_DECLS
