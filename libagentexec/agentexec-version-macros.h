/* agentexec-version-macros.h: symbol visibility and versioning
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (AGENTEXEC_INSIDE) && !defined (AGENTEXEC_COMPILATION)
#error "Only <libagentexec.h> can be included directly."
#endif

#include <glib.h>

#include "agentexec-version.h"

#ifndef _AGENTEXEC_EXTERN
# if defined (AGENTEXEC_COMPILATION) && defined (__GNUC__)
#  define _AGENTEXEC_EXTERN __attribute__((visibility ("default"))) extern
# else
#  define _AGENTEXEC_EXTERN extern
# endif
#endif

#define AGENTEXEC_VERSION_1_0 (G_ENCODE_VERSION (1, 0))

#define AGENTEXEC_VERSION_CUR_STABLE \
  (G_ENCODE_VERSION (AGENTEXEC_MAJOR_VERSION, AGENTEXEC_MINOR_VERSION))

#ifndef AGENTEXEC_VERSION_MIN_REQUIRED
# define AGENTEXEC_VERSION_MIN_REQUIRED (AGENTEXEC_VERSION_CUR_STABLE)
#endif

#ifndef AGENTEXEC_VERSION_MAX_ALLOWED
# define AGENTEXEC_VERSION_MAX_ALLOWED (AGENTEXEC_VERSION_CUR_STABLE)
#endif

#if AGENTEXEC_VERSION_MAX_ALLOWED < AGENTEXEC_VERSION_MIN_REQUIRED
# error "AGENTEXEC_VERSION_MAX_ALLOWED must be >= AGENTEXEC_VERSION_MIN_REQUIRED"
#endif

#define AGENTEXEC_AVAILABLE_IN_ALL _AGENTEXEC_EXTERN

#define AGENTEXEC_AVAILABLE_IN_1_0 _AGENTEXEC_EXTERN

/**
 * AGENTEXEC_DEPRECATED_IN_1_0_FOR:
 * @f: the symbol that replaces the deprecated one
 *
 * Marks a symbol as deprecated since 1.0 in favour of @f: using it warns
 * when `AGENTEXEC_VERSION_MIN_REQUIRED` is 1.0 or later.
 *
 * Since: 1.0
 */
#if AGENTEXEC_VERSION_MIN_REQUIRED >= AGENTEXEC_VERSION_1_0
# define AGENTEXEC_DEPRECATED_IN_1_0 G_DEPRECATED _AGENTEXEC_EXTERN
# define AGENTEXEC_DEPRECATED_IN_1_0_FOR(f) G_DEPRECATED_FOR (f) _AGENTEXEC_EXTERN
#else
# define AGENTEXEC_DEPRECATED_IN_1_0 _AGENTEXEC_EXTERN
# define AGENTEXEC_DEPRECATED_IN_1_0_FOR(f) _AGENTEXEC_EXTERN
#endif
