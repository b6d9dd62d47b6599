/* agentexec-language-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "agentexec-language.h"
#include "agentexec-execution-input.h"

G_BEGIN_DECLS

const char *_agentexec_language_for_input (AgentExecExecutionInput  *input,
                                           GError                  **error);

G_END_DECLS
