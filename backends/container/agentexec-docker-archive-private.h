/* agentexec-docker-archive-private.h: tar archives for the Engine API, via libarchive
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

GBytes *_agentexec_docker_archive_pack (GPtrArray *files, guint uid, guint gid, GError **error);
GPtrArray *_agentexec_docker_archive_unpack (GBytes *archive, gboolean strip_first, GError **error);

G_END_DECLS
