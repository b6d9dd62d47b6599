/* agentexec-html-entities-private.h: HTML5 named character references
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The longest name in the table ("CounterClockwiseContourIntegral"). */
#define AGENTEXEC_HTML_ENTITY_MAX_NAME 32

const char *_agentexec_html_entity_lookup (const char *name, gsize len);

G_END_DECLS
