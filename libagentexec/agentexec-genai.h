/* agentexec-genai.h: genai Content/Part helpers over JSON
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(AGENTEXEC_INSIDE) && !defined(AGENTEXEC_COMPILATION)
#error "Only <libagentexec.h> can be included directly."
#endif

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "agentexec-execution-result.h"
#include "agentexec-version-macros.h"

G_BEGIN_DECLS

AGENTEXEC_AVAILABLE_IN_ALL
JsonObject *agentexec_genai_build_executable_code_part (const char *code);
AGENTEXEC_AVAILABLE_IN_ALL
JsonObject *agentexec_genai_build_code_execution_result_part (AgentExecExecutionResult *result);
AGENTEXEC_AVAILABLE_IN_ALL
JsonObject *agentexec_genai_build_content (const char *role, JsonObject *part);
AGENTEXEC_AVAILABLE_IN_ALL
gboolean
agentexec_genai_convert_code_execution_parts (JsonObject *content,
                                              const char *const *code_block_delimiter,
                                              const char *const *execution_result_delimiters);
AGENTEXEC_AVAILABLE_IN_ALL
char *agentexec_genai_extract_code_and_truncate_content (JsonObject *content,
                                                         const char *const *code_block_delimiters);

G_END_DECLS
