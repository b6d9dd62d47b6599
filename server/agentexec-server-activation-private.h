/* agentexec-server-activation-private.h: listening sockets passed by systemd
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

gboolean _agentexec_server_activation_take (gboolean *activated,
                                            GSocket **api,
                                            GSocket **health,
                                            GError **error);

G_END_DECLS
