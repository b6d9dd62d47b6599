/* agentexec-enums.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "agentexec-enums.h"

/**
 * agentexec_error_quark:
 *
 * The error domain of libagentexec, [error@AgentExec.Error]; C code uses
 * the `AGENTEXEC_ERROR` macro.
 *
 * Returns: the quark of the `agentexec-error-quark` domain
 *
 * Since: 1.0
 */
G_DEFINE_QUARK (agentexec-error-quark, agentexec_error)

/**
 * agentexec_outcome_to_string:
 * @outcome: an [enum@AgentExec.Outcome]
 *
 * Gives the name genai uses for @outcome (`OUTCOME_OK`, `OUTCOME_FAILED`,
 * `OUTCOME_DEADLINE_EXCEEDED`, ...), as in a `codeExecutionResult` part.
 *
 * Returns: (transfer none): a static string
 *
 * Since: 1.0
 */
const char *
agentexec_outcome_to_string (AgentExecOutcome outcome)
{
  switch (outcome)
    {
    case AGENTEXEC_OUTCOME_OK:
      return "OUTCOME_OK";
    case AGENTEXEC_OUTCOME_FAILED:
      return "OUTCOME_FAILED";
    case AGENTEXEC_OUTCOME_DEADLINE_EXCEEDED:
      return "OUTCOME_DEADLINE_EXCEEDED";
    case AGENTEXEC_OUTCOME_CANCELLED:
      return "OUTCOME_CANCELLED";
    case AGENTEXEC_OUTCOME_RESOURCE_EXHAUSTED:
      return "OUTCOME_RESOURCE_EXHAUSTED";
    case AGENTEXEC_OUTCOME_ERROR:
    default:
      return "OUTCOME_UNSPECIFIED";
    }
}
