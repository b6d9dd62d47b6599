/* agentexec-link-reference-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

gboolean _agentexec_only_link_reference_definitions (const char *text, gsize len);

G_END_DECLS
