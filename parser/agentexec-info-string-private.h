/* agentexec-info-string-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

char *_agentexec_decode_info_string (const char *raw, gsize len);
char *_agentexec_info_get_language (const char *info);

G_END_DECLS
