/* agentexec-local-seccomp.c: the sandbox's system call filter
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A libseccomp filter that allows everything but what sandboxed code never
 * needs and what would widen its view or reach the kernel's rarely used
 * surface: tracing other processes, mounting, new namespaces, BPF, perf,
 * userfaultfd, keyrings, kexec, modules, reboot, io_uring, faking terminal
 * input. Those fail with EPERM (clone3 with ENOSYS, so that the C library
 * falls back to clone, whose flags the filter can see). System calls of
 * another architecture (i386, x32) kill the process. The program is built
 * once, in the parent, and exported as BPF: the child, between clone and
 * exec, only calls prctl() with it.
 */

#include "config.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <linux/seccomp.h>
#include <seccomp.h>

#ifdef HAVE_VALGRIND
#include <valgrind/valgrind.h>
#endif

#include "agentexec-enums.h"
#include "agentexec-local-seccomp-private.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static const char *const refused[] = {
  "ptrace",
  "process_vm_readv",
  "process_vm_writev",
  "kcmp",
  "pidfd_getfd",
  "mount",
  "umount",
  "umount2",
  "pivot_root",
  "chroot",
  "move_mount",
  "open_tree",
  "fsopen",
  "fsconfig",
  "fsmount",
  "fspick",
  "mount_setattr",
  "open_tree_attr",
  "unshare",
  "setns",
  "bpf",
  "perf_event_open",
  "userfaultfd",
  "keyctl",
  "add_key",
  "request_key",
  "kexec_load",
  "kexec_file_load",
  "init_module",
  "finit_module",
  "delete_module",
  "reboot",
  "swapon",
  "swapoff",
  "syslog",
  "acct",
  "quotactl",
  "quotactl_fd",
  "lookup_dcookie",
  "iopl",
  "ioperm",
  "vhangup",
  "uselib",
  "nfsservctl",
  "_sysctl",
  "open_by_handle_at",
  "name_to_handle_at",
  "fanotify_init",
  "io_uring_setup",
  "io_uring_enter",
  "io_uring_register",
  "settimeofday",
  "clock_settime",
  "clock_adjtime",
  "adjtimex",
  "sethostname",
  "setdomainname",
};

static const unsigned long namespace_flags[] = {
  CLONE_NEWNS,  CLONE_NEWUSER, CLONE_NEWPID,    CLONE_NEWNET,
  CLONE_NEWIPC, CLONE_NEWUTS,  CLONE_NEWCGROUP, CLONE_NEWTIME,
};

static struct sock_fprog program;
static GError *build_error;
static gint64 build_us;

static gboolean
add_rules (scmp_filter_ctx ctx)
{
  int rc = 0;

  for (guint i = 0; i < G_N_ELEMENTS (refused) && rc == 0; i++)
    {
      int nr = seccomp_syscall_resolve_name (refused[i]);

      if (nr != __NR_SCMP_ERROR)
        rc = seccomp_rule_add (ctx, SCMP_ACT_ERRNO (EPERM), nr, 0);
    }
  for (guint i = 0; i < G_N_ELEMENTS (namespace_flags) && rc == 0; i++)
    rc = seccomp_rule_add (ctx, SCMP_ACT_ERRNO (EPERM), SCMP_SYS (clone), 1,
                           SCMP_A0 (SCMP_CMP_MASKED_EQ, namespace_flags[i], namespace_flags[i]));
  if (rc == 0)
    rc = seccomp_rule_add (ctx, SCMP_ACT_ERRNO (ENOSYS), SCMP_SYS (clone3), 0);
  if (rc == 0)
    rc = seccomp_rule_add (ctx, SCMP_ACT_ERRNO (EPERM), SCMP_SYS (ioctl), 1,
                           SCMP_A1 (SCMP_CMP_MASKED_EQ, 0xffffffffu, TIOCSTI));
  if (rc == 0)
    rc = seccomp_rule_add (ctx, SCMP_ACT_ERRNO (EPERM), SCMP_SYS (ioctl), 1,
                           SCMP_A1 (SCMP_CMP_MASKED_EQ, 0xffffffffu, TIOCLINUX));
  return rc == 0;
}

/* Exports the filter as BPF into memory (libseccomp 2.5 writes to an fd). */
static gboolean
export_program (scmp_filter_ctx ctx)
{
  int fd = memfd_create ("agentexec-seccomp", MFD_CLOEXEC);
  off_t len;
  gboolean ok = FALSE;

  if (fd < 0)
    return FALSE;
  if (seccomp_export_bpf (ctx, fd) == 0 && (len = lseek (fd, 0, SEEK_END)) > 0 &&
      len % sizeof (struct sock_filter) == 0)
    {
      struct sock_filter *filter = g_malloc (len);

      ok = pread (fd, filter, len, 0) == len;
      if (ok)
        {
          program.filter = filter;
          program.len = (unsigned short) (len / sizeof (struct sock_filter));
        }
      else
        g_free (filter);
    }
  close (fd);
  return ok;
}

/* Valgrind (3.19) does not know seccomp(2) and fails it with ENOSYS, so
 * libseccomp's probe of the kernel would settle on API level 2 and refuse
 * SCMP_ACT_KILL_PROCESS. The filter is only exported here, never loaded by
 * libseccomp, and the kernel under valgrind is the same one: tell libseccomp
 * the level instead of letting it probe. Outside valgrind nothing changes. */
static void
skip_api_probe_under_valgrind (void)
{
#ifdef HAVE_VALGRIND
  if (RUNNING_ON_VALGRIND)
    seccomp_api_set (3);
#endif
}

static gpointer
build (gpointer data)
{
  gint64 start = g_get_monotonic_time ();
  scmp_filter_ctx ctx;

  skip_api_probe_under_valgrind ();
  ctx = seccomp_init (SCMP_ACT_ALLOW);

  if (ctx == NULL || seccomp_attr_set (ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS) != 0 ||
      seccomp_attr_set (ctx, SCMP_FLTATR_CTL_NNP, 0) != 0 ||
      /* A binary tree of system call numbers, not a list: every call the
       * code makes goes through the filter. */
      seccomp_attr_set (ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2) != 0 || !add_rules (ctx) ||
      !export_program (ctx))
    build_error = g_error_new_literal (
        AGENTEXEC_ERROR, AGENTEXEC_ERROR_BACKEND_UNAVAILABLE,
        "Could not build the sandbox's seccomp filter with libseccomp: check that libseccomp "
        "2.5 or later is installed (Debian: libseccomp2)");
  if (ctx != NULL)
    seccomp_release (ctx);
  build_us = g_get_monotonic_time () - start;
  return NULL;
}

/*
 * _agentexec_local_seccomp_program:
 *
 * Returns: (transfer none): the filter, built on the first call, or %NULL
 *   with @error set when libseccomp could not build it
 */
const struct sock_fprog *
_agentexec_local_seccomp_program (GError **error)
{
  static GOnce once = G_ONCE_INIT;

  g_once (&once, build, NULL);
  if (build_error != NULL)
    {
      g_propagate_error (error, g_error_copy (build_error));
      return NULL;
    }
  return &program;
}

/* How long building the filter took (once per process), in µs. */
gint64
_agentexec_local_seccomp_build_us (void)
{
  return build_us;
}

/* Runs in the sandbox's child: async-signal-safe. Needs no_new_privs. */
gboolean
_agentexec_local_seccomp_install (const struct sock_fprog *filter)
{
  return prctl (PR_SET_SECCOMP, SECCOMP_MODE_FILTER, filter, 0, 0) == 0;
}
