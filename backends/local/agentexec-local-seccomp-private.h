/* agentexec-local-seccomp-private.h: the sandbox's system call filter
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>
#include <linux/filter.h>

G_BEGIN_DECLS

const struct sock_fprog *_agentexec_local_seccomp_program (GError **error);
gint64 _agentexec_local_seccomp_build_us (void);
gboolean _agentexec_local_seccomp_install (const struct sock_fprog *program);

G_END_DECLS
