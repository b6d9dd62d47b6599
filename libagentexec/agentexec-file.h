/* agentexec-file.h: a named file going into or coming out of an execution
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (AGENTEXEC_INSIDE) && !defined (AGENTEXEC_COMPILATION)
#error "Only <libagentexec.h> can be included directly."
#endif

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "agentexec-version-macros.h"

G_BEGIN_DECLS

#define AGENTEXEC_TYPE_FILE (agentexec_file_get_type ())

AGENTEXEC_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (AgentExecFile, agentexec_file, AGENTEXEC, FILE, GObject)

AGENTEXEC_AVAILABLE_IN_ALL
AgentExecFile *agentexec_file_new            (const char     *name,
                                              const char     *mime_type,
                                              GBytes         *content);
AGENTEXEC_AVAILABLE_IN_ALL
AgentExecFile *agentexec_file_new_from_json  (JsonNode       *node,
                                              GError        **error);
AGENTEXEC_AVAILABLE_IN_ALL
const char    *agentexec_file_get_name       (AgentExecFile  *self);
AGENTEXEC_AVAILABLE_IN_ALL
const char    *agentexec_file_get_mime_type  (AgentExecFile  *self);
AGENTEXEC_AVAILABLE_IN_ALL
GBytes        *agentexec_file_get_content    (AgentExecFile  *self);
AGENTEXEC_AVAILABLE_IN_ALL
JsonNode      *agentexec_file_to_json        (AgentExecFile  *self);
AGENTEXEC_AVAILABLE_IN_ALL
gboolean       agentexec_file_equal          (AgentExecFile  *self,
                                              AgentExecFile  *other);

G_END_DECLS
