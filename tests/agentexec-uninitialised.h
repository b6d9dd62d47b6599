/* agentexec-uninitialised.h: checks that an executor refuses every run path
 * until its g_initable_init() succeeded (shared by the backend suites).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "libagentexec.h"

G_BEGIN_DECLS

void agentexec_test_assert_refuses_uninitialised (AgentExecCodeExecutor *executor);

G_END_DECLS
