/* agentexec-execution-input.h: what to execute
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (AGENTEXEC_INSIDE) && !defined (AGENTEXEC_COMPILATION)
#error "Only <libagentexec.h> can be included directly."
#endif

#include <gio/gio.h>

#include "agentexec-file.h"
#include "agentexec-version-macros.h"

G_BEGIN_DECLS

#define AGENTEXEC_TYPE_EXECUTION_INPUT (agentexec_execution_input_get_type ())

AGENTEXEC_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (AgentExecExecutionInput, agentexec_execution_input, AGENTEXEC,
                      EXECUTION_INPUT, GObject)

AGENTEXEC_AVAILABLE_IN_ALL
AgentExecExecutionInput *agentexec_execution_input_new              (const char              *code,
                                                                     const char              *language);
AGENTEXEC_AVAILABLE_IN_ALL
const char              *agentexec_execution_input_get_code         (AgentExecExecutionInput *self);
AGENTEXEC_AVAILABLE_IN_ALL
void                     agentexec_execution_input_set_code         (AgentExecExecutionInput *self,
                                                                     const char              *code);
AGENTEXEC_AVAILABLE_IN_ALL
const char              *agentexec_execution_input_get_language     (AgentExecExecutionInput *self);
AGENTEXEC_AVAILABLE_IN_ALL
void                     agentexec_execution_input_set_language     (AgentExecExecutionInput *self,
                                                                     const char              *language);
AGENTEXEC_AVAILABLE_IN_ALL
const char              *agentexec_execution_input_get_execution_id (AgentExecExecutionInput *self);
AGENTEXEC_AVAILABLE_IN_ALL
void                     agentexec_execution_input_set_execution_id (AgentExecExecutionInput *self,
                                                                     const char              *execution_id);
AGENTEXEC_AVAILABLE_IN_ALL
GPtrArray               *agentexec_execution_input_get_files        (AgentExecExecutionInput *self);
AGENTEXEC_AVAILABLE_IN_ALL
void                     agentexec_execution_input_add_file         (AgentExecExecutionInput *self,
                                                                     AgentExecFile           *file);
AGENTEXEC_AVAILABLE_IN_ALL
void                     agentexec_execution_input_clear_files      (AgentExecExecutionInput *self);
AGENTEXEC_AVAILABLE_IN_ALL
const char * const      *agentexec_execution_input_get_argv         (AgentExecExecutionInput *self);
AGENTEXEC_AVAILABLE_IN_ALL
void                     agentexec_execution_input_set_argv         (AgentExecExecutionInput *self,
                                                                     const char * const      *argv);
AGENTEXEC_AVAILABLE_IN_ALL
const char * const      *agentexec_execution_input_get_env          (AgentExecExecutionInput *self);
AGENTEXEC_AVAILABLE_IN_ALL
void                     agentexec_execution_input_set_env          (AgentExecExecutionInput *self,
                                                                     const char * const      *env);
AGENTEXEC_AVAILABLE_IN_ALL
guint                    agentexec_execution_input_get_timeout_ms   (AgentExecExecutionInput *self);
AGENTEXEC_AVAILABLE_IN_ALL
void                     agentexec_execution_input_set_timeout_ms   (AgentExecExecutionInput *self,
                                                                     guint                    timeout_ms);

G_END_DECLS
