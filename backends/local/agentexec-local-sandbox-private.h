/* agentexec-local-sandbox-private.h: the Local backend's kernel sandbox
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

#include "agentexec-local-process-private.h"

G_BEGIN_DECLS

/* What one run (or one session, for its whole life) gets. */
typedef struct
{
  const char *run_root;    /* the run's private directory, writable, same path inside */
  const char *work_dir;    /* a given work dir outside run_root (writable), or NULL */
  const char *interpreter; /* its installation is made visible when outside /usr */
  gboolean network;        /* share the host's network namespace */
  guint64 tmp_bytes;       /* size of the private /tmp */
  gint64 uid;              /* as root: the uid the code runs as; -1: the caller's */
} AgentExecLocalSandboxConfig;

/* Where the set-up time of the last sandboxed spawn went, in µs. */
typedef struct
{
  gint64 clone_us;    /* clone() with the new namespaces, until the child runs */
  gint64 userns_us;   /* signals, session, fds, and the user namespace's maps */
  gint64 mounts_us;   /* the file system view, pivot_root, /proc */
  gint64 network_us;  /* hostname and loopback */
  gint64 privs_us;    /* rlimits, uid, capabilities, no_new_privs */
  gint64 landlock_us; /* the Landlock ruleset */
  gint64 seccomp_us;  /* loading the seccomp filter */
  gint64 exec_us;     /* fork of the code's process until its exec */
  gint64 total_us;    /* clone until the code runs */
  gint64 teardown_us; /* the code's exit until init is reaped (namespaces torn down) */
} AgentExecLocalSandboxTimings;

typedef struct _AgentExecLocalSandboxPlan AgentExecLocalSandboxPlan;

gboolean _agentexec_local_sandbox_check (GError **error);
AgentExecLocalSandboxPlan *_agentexec_local_sandbox_new (const AgentExecLocalSandboxConfig *config,
                                                         GError **error);
void _agentexec_local_sandbox_free (AgentExecLocalSandboxPlan *self);
GPid _agentexec_local_sandbox_spawn (AgentExecLocalSandboxPlan *self,
                                     const char *const *argv,
                                     const char *const *envp,
                                     const char *cwd,
                                     const int child_fds[5],
                                     void (*child_setup) (gpointer data),
                                     gpointer child_data,
                                     int *status_fd,
                                     GError **error);
gboolean _agentexec_local_sandbox_read_status (int status_fd, int *wait_status);
void _agentexec_local_sandbox_get_timings (AgentExecLocalSandboxTimings *timings);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AgentExecLocalSandboxPlan, _agentexec_local_sandbox_free)

G_END_DECLS
