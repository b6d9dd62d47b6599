/* agentexec-local-landlock.c: the sandbox's Landlock ruleset
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The second layer under the mount namespace: after the sandbox's file
 * system view is built, the code's process restricts itself so that it may
 * only read and execute beneath `/` (which is then the minimal view), write
 * beneath its run directory, `/tmp` and `/dev/shm`, and use the few device
 * files. Where the kernel has Landlock ABI 6 or later, the domain is also
 * scoped: it cannot signal processes outside it nor connect to abstract
 * unix sockets created outside it. Rights the running kernel does not know
 * are left out (ABI check); without Landlock the sandbox keeps its other
 * layers and says so in a debug message.
 */

#include "config.h"

#include <errno.h>
#include <string.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "agentexec-local-landlock-private.h"

#define FS_READ                                                                                    \
  (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)
#define FS_ABI1                                                                                    \
  (FS_READ | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR |                       \
   LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR |   \
   LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO |     \
   LANDLOCK_ACCESS_FS_MAKE_BLOCK | LANDLOCK_ACCESS_FS_MAKE_SYM)
#define FS_DEVICES (LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_BLOCK)

/* Debian 12's kernel headers (6.1) stop at ABI 2. */
#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#define LANDLOCK_SCOPE_SIGNAL (1ULL << 1)
#endif

/* struct landlock_ruleset_attr as of ABI 6 (older headers lack `scoped`). */
typedef struct
{
  guint64 handled_access_fs;
  guint64 handled_access_net;
  guint64 scoped;
} RulesetAttr;

static gpointer
probe_abi (gpointer data)
{
  long abi = syscall (SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);

  if (abi < 0)
    g_debug ("Landlock is not available (%s): the local sandbox relies on its namespaces, "
             "mounts and seccomp filter without this second layer; enable it with the kernel's "
             "lsm= boot parameter (Linux 5.13 or later)",
             g_strerror (errno));
  return GINT_TO_POINTER ((int) MAX (abi, 0) + 1);
}

/* The kernel's Landlock ABI version, 0 without Landlock. */
int
_agentexec_local_landlock_abi (void)
{
  static GOnce once = G_ONCE_INIT;

  return GPOINTER_TO_INT (g_once (&once, probe_abi, NULL)) - 1;
}

static guint64
handled_for (int abi)
{
  guint64 rights = FS_ABI1;

  if (abi >= 2)
    rights |= LANDLOCK_ACCESS_FS_REFER;
  if (abi >= 3)
    rights |= LANDLOCK_ACCESS_FS_TRUNCATE;
  if (abi >= 5)
    rights |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
  return rights;
}

void
_agentexec_local_landlock_init (AgentExecLocalLandlock *self)
{
  memset (self, 0, sizeof *self);
  self->abi = _agentexec_local_landlock_abi ();
  if (self->abi == 0)
    return;
  self->handled = handled_for (self->abi);
  self->read_only = FS_READ;
  self->writable = self->handled & ~FS_DEVICES & ~LANDLOCK_ACCESS_FS_IOCTL_DEV;
  self->device = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE |
                 (self->handled & (LANDLOCK_ACCESS_FS_IOCTL_DEV | LANDLOCK_ACCESS_FS_TRUNCATE));
  if (self->abi >= 6)
    self->scoped = LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LANDLOCK_SCOPE_SIGNAL;
}

static gboolean
add_to (const char **paths, const char *path)
{
  for (guint i = 0; i < AGENTEXEC_LANDLOCK_MAX_PATHS; i++)
    if (paths[i] == NULL)
      {
        paths[i] = path;
        return TRUE;
      }
  return FALSE;
}

/* Adds a rule (the string must outlive the spawn). */
gboolean
_agentexec_local_landlock_add (AgentExecLocalLandlock *self,
                               const char *path,
                               AgentExecLandlockAccess access)
{
  switch (access)
    {
    case AGENTEXEC_LANDLOCK_READ:
      return add_to (self->read_only_paths, path);
    case AGENTEXEC_LANDLOCK_WRITE:
      return add_to (self->writable_paths, path);
    case AGENTEXEC_LANDLOCK_DEVICE:
    default:
      return add_to (self->device_paths, path);
    }
}

/* Runs in the child: async-signal-safe. */
static int
add_rules (int ruleset, const char *const *paths, guint64 rights)
{
  for (guint i = 0; i < AGENTEXEC_LANDLOCK_MAX_PATHS && paths[i] != NULL; i++)
    {
      struct landlock_path_beneath_attr rule = { rights, -1 };
      int rc;

      rule.parent_fd = open (paths[i], O_PATH | O_CLOEXEC);
      if (rule.parent_fd < 0)
        return -errno;
      rc = syscall (SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0);
      close (rule.parent_fd);
      if (rc != 0)
        return -errno;
    }
  return 0;
}

/*
 * _agentexec_local_landlock_restrict:
 *
 * Restricts the calling process (in the sandbox's child, after
 * no_new_privs; async-signal-safe).
 *
 * Returns: 0, or a negative errno
 */
int
_agentexec_local_landlock_restrict (const AgentExecLocalLandlock *self)
{
  RulesetAttr attr = { self->handled, 0, self->scoped };
  int ruleset, rc;

  if (self->abi == 0)
    return 0;
  /* Fields an older kernel does not know are zero, which it accepts. */
  ruleset = syscall (SYS_landlock_create_ruleset, &attr, sizeof attr, 0);
  if (ruleset < 0)
    return -errno;
  rc = add_rules (ruleset, self->read_only_paths, self->read_only);
  if (rc == 0)
    rc = add_rules (ruleset, self->writable_paths, self->writable);
  if (rc == 0)
    rc = add_rules (ruleset, self->device_paths, self->device);
  if (rc == 0 && syscall (SYS_landlock_restrict_self, ruleset, 0) != 0)
    rc = -errno;
  close (ruleset);
  return rc;
}
