/* agentexec-test-procs.h: looking for processes of this host from a test
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

/* RUNNING_ON_VALGRIND, 0 where valgrind's header is missing: valgrind keeps
 * some of what a run's processes do (RLIMIT_DATA, a failed execve()) to
 * itself, and the checks of those skip under it. */
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

G_BEGIN_DECLS

gboolean agentexec_test_command_alive (const char *marker);

G_END_DECLS
