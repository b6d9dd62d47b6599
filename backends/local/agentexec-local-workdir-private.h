/* agentexec-local-workdir-private.h: input and output files of a host run
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "agentexec-execution-result.h"

G_BEGIN_DECLS

gboolean _agentexec_local_write_input_files (const char *work_dir,
                                             GPtrArray *files,
                                             gint64 owner,
                                             GError **error);
GHashTable *_agentexec_local_snapshot (const char *work_dir);
void _agentexec_local_collect_outputs (const char *work_dir,
                                       GHashTable *before,
                                       guint64 max_total_bytes,
                                       AgentExecExecutionResult *result);
void _agentexec_local_remove_tree (const char *path);

G_END_DECLS
