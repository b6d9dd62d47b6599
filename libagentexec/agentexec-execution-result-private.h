/* agentexec-execution-result-private.h: setters for the backends
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "agentexec-execution-result.h"

G_BEGIN_DECLS

AgentExecExecutionResult *_agentexec_execution_result_new_empty       (void);
void  _agentexec_execution_result_set_stdout         (AgentExecExecutionResult *self,
                                                      const char               *data,
                                                      gssize                    len);
void  _agentexec_execution_result_set_stderr         (AgentExecExecutionResult *self,
                                                      const char               *data,
                                                      gssize                    len);
void  _agentexec_execution_result_set_exit_code      (AgentExecExecutionResult *self,
                                                      int                       exit_code);
void  _agentexec_execution_result_set_signal         (AgentExecExecutionResult *self,
                                                      int                       signum);
void  _agentexec_execution_result_set_outcome        (AgentExecExecutionResult *self,
                                                      AgentExecOutcome          outcome);
void  _agentexec_execution_result_add_output_file    (AgentExecExecutionResult *self,
                                                      AgentExecFile            *file);
void  _agentexec_execution_result_set_duration_us    (AgentExecExecutionResult *self,
                                                      gint64                    duration_us);
void  _agentexec_execution_result_set_truncated      (AgentExecExecutionResult *self,
                                                      gboolean                  stdout_truncated,
                                                      gboolean                  stderr_truncated);
void  _agentexec_execution_result_set_attempts       (AgentExecExecutionResult *self,
                                                      guint                     attempts);
void  _agentexec_execution_result_set_language       (AgentExecExecutionResult *self,
                                                      const char               *language);
void _agentexec_execution_result_set_value (AgentExecExecutionResult *self, const char *value);
void  _agentexec_execution_result_set_session_restarted (AgentExecExecutionResult *self,
                                                         gboolean                  restarted);
void _agentexec_execution_result_set_deadline_ms (AgentExecExecutionResult *self,
                                                  guint deadline_ms);
guint _agentexec_execution_result_get_deadline_ms (AgentExecExecutionResult *self);
void  _agentexec_execution_result_settle_outcome     (AgentExecExecutionResult *self);
char *_agentexec_text_from_bytes                     (const char               *data,
                                                      gssize                    len);

G_END_DECLS
