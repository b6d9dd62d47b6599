/* agentexec-enums.h: the error domain and the enumerations of libagentexec
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (AGENTEXEC_INSIDE) && !defined (AGENTEXEC_COMPILATION)
#error "Only <libagentexec.h> can be included directly."
#endif

#include <glib.h>

#include "agentexec-version-macros.h"

G_BEGIN_DECLS

/**
 * AGENTEXEC_ERROR:
 *
 * The error domain of libagentexec; see [error@AgentExec.Error].
 */
#define AGENTEXEC_ERROR (agentexec_error_quark ())

/**
 * AgentExecError:
 * @AGENTEXEC_ERROR_UNSUPPORTED_LANGUAGE: the language is unknown, or the backend
 *   cannot run it; the message names the supported set
 * @AGENTEXEC_ERROR_UNSAFE_NOT_ALLOWED: a backend that runs code on the host was
 *   created without opting in to `allow-unsafe`
 * @AGENTEXEC_ERROR_BACKEND_UNAVAILABLE: the backend (interpreter, Docker engine,
 *   HTTP service) cannot be reached
 * @AGENTEXEC_ERROR_TIMEOUT: a deadline passed
 * @AGENTEXEC_ERROR_CANCELLED: the operation was cancelled
 * @AGENTEXEC_ERROR_INVALID_INPUT: the input (code, file name, argument, JSON) is
 *   not acceptable
 * @AGENTEXEC_ERROR_RETRIES_EXHAUSTED: an infrastructure failure persisted through
 *   every retry allowed by `max-retries`
 * @AGENTEXEC_ERROR_PROTOCOL: a peer (Docker engine, HTTP service, interpreter
 *   driver) answered something that does not follow its protocol
 * @AGENTEXEC_ERROR_RESOURCE_LIMIT: a configured limit (sessions, sizes) was reached
 * @AGENTEXEC_ERROR_FAILED: any other failure
 * @AGENTEXEC_ERROR_NOT_INITIALIZED: an executor that must be initialised
 *   ([iface@Gio.Initable]) was used before a successful g_initable_init();
 *   create it with its `_new()` function or g_initable_new()
 * @AGENTEXEC_ERROR_PERMISSION_DENIED: a service or engine refused the
 *   credentials or denied the request (HTTP 401 or 403, an invalid API key);
 *   never retried, the message says which credential to fix
 *
 * Error codes of the `AGENTEXEC_ERROR` domain. Every message says what failed
 * and what to do about it.
 *
 * Since: 1.0
 */
typedef enum
{
  AGENTEXEC_ERROR_UNSUPPORTED_LANGUAGE,
  AGENTEXEC_ERROR_UNSAFE_NOT_ALLOWED,
  AGENTEXEC_ERROR_BACKEND_UNAVAILABLE,
  AGENTEXEC_ERROR_TIMEOUT,
  AGENTEXEC_ERROR_CANCELLED,
  AGENTEXEC_ERROR_INVALID_INPUT,
  AGENTEXEC_ERROR_RETRIES_EXHAUSTED,
  AGENTEXEC_ERROR_PROTOCOL,
  AGENTEXEC_ERROR_RESOURCE_LIMIT,
  AGENTEXEC_ERROR_FAILED,
  AGENTEXEC_ERROR_NOT_INITIALIZED,
  AGENTEXEC_ERROR_PERMISSION_DENIED,
} AgentExecError;

/**
 * AgentExecOutcome:
 * @AGENTEXEC_OUTCOME_OK: the code ran to completion successfully
 * @AGENTEXEC_OUTCOME_FAILED: the code ran and failed (non-zero exit, signal,
 *   uncaught exception)
 * @AGENTEXEC_OUTCOME_DEADLINE_EXCEEDED: the code was killed at its timeout
 * @AGENTEXEC_OUTCOME_CANCELLED: the run was cancelled and the code killed (a
 *   [class@AgentExec.BaseExecutor] turns such a result into
 *   %G_IO_ERROR_CANCELLED, so that sync and async runs end alike)
 * @AGENTEXEC_OUTCOME_RESOURCE_EXHAUSTED: the code hit a resource limit (memory,
 *   processes) and was killed
 * @AGENTEXEC_OUTCOME_ERROR: the backend could not run the code at all
 *
 * How an execution ended.
 *
 * Since: 1.0
 */
typedef enum {
  AGENTEXEC_OUTCOME_OK,
  AGENTEXEC_OUTCOME_FAILED,
  AGENTEXEC_OUTCOME_DEADLINE_EXCEEDED,
  AGENTEXEC_OUTCOME_CANCELLED,
  AGENTEXEC_OUTCOME_RESOURCE_EXHAUSTED,
  AGENTEXEC_OUTCOME_ERROR,
} AgentExecOutcome;

/**
 * AgentExecStream:
 * @AGENTEXEC_STREAM_STDOUT: standard output
 * @AGENTEXEC_STREAM_STDERR: standard error
 *
 * Which output stream a chunk of streamed output belongs to.
 *
 * Since: 1.0
 */
typedef enum {
  AGENTEXEC_STREAM_STDOUT,
  AGENTEXEC_STREAM_STDERR,
} AgentExecStream;

/**
 * AgentExecLocalSandbox:
 * @AGENTEXEC_LOCAL_SANDBOX_NONE: no sandbox: the code runs on the host with
 *   the caller's rights (needs [property@AgentExec.LocalExecutor:allow-unsafe])
 * @AGENTEXEC_LOCAL_SANDBOX_NAMESPACES: Linux namespaces, a minimal read-only
 *   file system view, no capabilities, no_new_privs, seccomp and Landlock
 *
 * How [class@AgentExec.LocalExecutor] isolates the code it runs.
 *
 * Since: 1.0
 */
typedef enum
{
  AGENTEXEC_LOCAL_SANDBOX_NONE,
  AGENTEXEC_LOCAL_SANDBOX_NAMESPACES,
} AgentExecLocalSandbox;

AGENTEXEC_AVAILABLE_IN_ALL
GQuark       agentexec_error_quark        (void);

AGENTEXEC_AVAILABLE_IN_ALL
const char  *agentexec_outcome_to_string  (AgentExecOutcome outcome);

G_END_DECLS
