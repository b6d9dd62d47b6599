/* agentexec-test-procs.h: looking for processes of this host from a test
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

gboolean agentexec_test_command_alive (const char *marker);

G_END_DECLS
