/* agentexec-genai-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "agentexec-genai.h"

G_BEGIN_DECLS

extern const char *const _agentexec_default_code_block_delimiters[];
extern const char *const _agentexec_default_execution_result_delimiters[];

JsonObject *_agentexec_genai_part_member (JsonObject *part, const char *camel, const char *snake);
const char *
_agentexec_genai_object_string (JsonObject *object, const char *camel, const char *snake);
const char *_agentexec_genai_part_text (JsonObject *part);
JsonArray *_agentexec_genai_content_parts (JsonObject *content);
char *_agentexec_genai_extract_code (JsonObject *content,
                                     const char *const *code_block_delimiters,
                                     char **language);
char *_agentexec_find_first_code_block (
    const char *text, const char *const *delimiters, gsize *start, gsize *end, char **language);

char *_agentexec_delimited_block_language (const char *block, const char *const *delimiters);

G_END_DECLS
