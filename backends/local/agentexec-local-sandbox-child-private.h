/* agentexec-local-sandbox-child-private.h: the sandbox's child, between clone and exec
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What the parent (agentexec-local-sandbox.c) hands the child and what
 * init reports back. Everything the child touches is computed before the
 * clone: the child only makes system calls.
 */

#pragma once

#include <glib.h>

#include "agentexec-local-landlock-private.h"
#include "agentexec-local-sandbox-private.h"

G_BEGIN_DECLS

#define SANDBOX_HOSTNAME "agentexec"
#define STATUS_FD 5

typedef enum
{
  OP_MKDIR,
  OP_SYMLINK, /* source: the link's target */
  OP_FILE,    /* source: the contents (NULL: empty, a mount point) */
  OP_BIND,    /* read-only unless OP_FLAG_WRITABLE */
  OP_TMPFS,   /* source: the mount options */
  OP_PROC,
} AgentExecSandboxOpKind;

enum
{
  OP_FLAG_WRITABLE = 1 << 0,
  OP_FLAG_DEVICE = 1 << 1,
};

typedef struct
{
  AgentExecSandboxOpKind kind;
  int flags;
  const char *source;
  const char *target; /* absolute, under the new root's mount point */
} AgentExecSandboxOp;

struct _AgentExecLocalSandboxPlan
{
  GStringChunk *strings;
  GArray *ops;      /* AgentExecSandboxOp */
  GHashTable *made; /* targets already planned */
  char *new_root;   /* the mount point of the view, in the run's directory */
  gboolean network;
  gboolean user_namespace;
  char uid_map[64];
  char gid_map[64];
  AgentExecLocalLandlock landlock;
  const struct sock_fprog *seccomp;
  int last_cap;
};

/* What init reports on the status pipe. */
enum
{
  MSG_READY = 1,
  MSG_FAILED,
  MSG_EXITED,
};

typedef enum
{
  STEP_FDS,
  STEP_USERNS,
  STEP_MOUNT_PRIVATE,
  STEP_PIVOT,
  STEP_NETWORK,
  STEP_CAPS,
  STEP_NNP,
  STEP_LANDLOCK,
  STEP_SECCOMP,
  STEP_FORK,
  STEP_EXEC,
  STEP_OP, /* + index of the failed op */
} AgentExecSandboxStep;

enum
{
  T_CHILD,
  T_USERNS,
  T_MOUNTS,
  T_NETWORK,
  T_PRIVS,
  T_LANDLOCK,
  T_SECCOMP,
  T_EXEC,
  T_EXITED,
  N_TIMES
};

typedef struct
{
  int kind;
  int step;
  int value;
  gint64 times[N_TIMES]; /* CLOCK_MONOTONIC, ns */
} AgentExecSandboxMessage;

typedef struct
{
  const AgentExecLocalSandboxPlan *plan;
  const char *const *argv;
  const char *const *envp;
  const char *cwd;
  int fds[5];
  int status_fd;
  void (*setup) (gpointer data);
  gpointer setup_data;
  mode_t caller_umask; /* the code gets it back; the view is built with 022 */
  AgentExecSandboxMessage msg;
} AgentExecSandboxChild;

gint64 _agentexec_local_sandbox_now_ns (void);
G_GNUC_NORETURN void _agentexec_local_sandbox_child_main (AgentExecSandboxChild *child);
G_GNUC_NORETURN void _agentexec_local_sandbox_probe_child (const char *uid_map,
                                                           const char *gid_map,
                                                           gboolean user_namespace);

G_END_DECLS
