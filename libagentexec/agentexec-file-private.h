/* agentexec-file-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "agentexec-file.h"

G_BEGIN_DECLS

gboolean  _agentexec_file_validate_name  (const char    *name,
                                          GError       **error);
char     *_agentexec_file_guess_mime     (const char    *name,
                                          const guint8  *data,
                                          gsize          len);

G_END_DECLS
