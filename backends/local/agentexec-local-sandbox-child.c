/* agentexec-local-sandbox-child.c: the sandbox's child, between clone and exec
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Runs in the child of a raw clone() of a possibly multi-threaded caller:
 * async-signal-safe calls only (system calls, no allocation, no lock). The
 * child is the pid namespace's init: it writes the user namespace's maps,
 * builds the file system view from the plan's operations, pivot_root()s
 * into it, brings up its loopback, drops every capability, hides the
 * caller's command line and environment, sets no_new_privs, restricts
 * itself with Landlock and seccomp, forks the code's process and reaps.
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/capability.h>

#ifdef HAVE_VALGRIND
#include <valgrind/memcheck.h>
#endif

#include "agentexec-local-sandbox-child-private.h"
#include "agentexec-local-seccomp-private.h"

gint64
_agentexec_local_sandbox_now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (gint64) ts.tv_sec * G_GINT64_CONSTANT (1000000000) + ts.tv_nsec;
}

static void G_GNUC_NORETURN
child_fail (AgentExecSandboxChild *child, int step, int err)
{
  child->msg.kind = MSG_FAILED;
  child->msg.step = step;
  child->msg.value = err;
  if (write (child->status_fd, &child->msg, sizeof child->msg) < 0)
    {
      /* The parent sees the exit instead. */
    }
  _exit (125);
}

static int
write_text (const char *path, const char *text)
{
  int fd = open (path, O_WRONLY | O_CLOEXEC);
  gssize len = (gssize) strlen (text);
  int rc = 0;

  if (fd < 0)
    return errno;
  if (write (fd, text, len) != len)
    rc = errno != 0 ? errno : EIO;
  close (fd);
  return rc;
}

static int
create_file (const char *path, const char *contents)
{
  int fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, contents != NULL ? 0644 : 0444);
  int rc = 0;

  if (fd < 0)
    return errno;
  if (contents != NULL && write (fd, contents, strlen (contents)) != (gssize) strlen (contents))
    rc = errno != 0 ? errno : EIO;
  close (fd);
  return rc;
}

/* The flags a read-only remount must keep (a user namespace cannot clear
 * the locked ones). */
static unsigned long
kept_flags (const char *path)
{
  struct statfs st;
  unsigned long flags = 0;

  if (statfs (path, &st) != 0)
    return 0;
  if (st.f_flags & ST_NOSUID)
    flags |= MS_NOSUID;
  if (st.f_flags & ST_NODEV)
    flags |= MS_NODEV;
  if (st.f_flags & ST_NOEXEC)
    flags |= MS_NOEXEC;
  if (st.f_flags & ST_NOATIME)
    flags |= MS_NOATIME;
  if (st.f_flags & ST_NODIRATIME)
    flags |= MS_NODIRATIME;
  if (st.f_flags & ST_RELATIME)
    flags |= MS_RELATIME;
  return flags;
}

static int
bind_op (const AgentExecSandboxOp *op)
{
  unsigned long flags = MS_BIND | MS_REMOUNT | MS_NOSUID;

  if (mount (op->source, op->target, NULL, MS_BIND, NULL) != 0)
    return errno;
  flags |= kept_flags (op->target);
  if (!(op->flags & OP_FLAG_WRITABLE))
    flags |= MS_RDONLY;
  if (op->flags & OP_FLAG_DEVICE)
    flags |= MS_NOEXEC;
  else
    flags |= MS_NODEV;
  return mount (NULL, op->target, NULL, flags, NULL) == 0 ? 0 : errno;
}

static int
run_op (const AgentExecSandboxOp *op)
{
  switch (op->kind)
    {
    case OP_MKDIR:
      return mkdir (op->target, 0755) == 0 || errno == EEXIST ? 0 : errno;
    case OP_SYMLINK:
      return symlink (op->source, op->target) == 0 ? 0 : errno;
    case OP_FILE:
      return create_file (op->target, op->source);
    case OP_BIND:
      return bind_op (op);
    case OP_TMPFS:
      return mount ("tmpfs", op->target, "tmpfs", MS_NOSUID | MS_NODEV, op->source) == 0 ? 0
                                                                                         : errno;
    case OP_PROC:
      return mount ("proc", op->target, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) == 0
                 ? 0
                 : errno;
    default:
      return EINVAL;
    }
}

/* Puts the child's fds on 0-4 and the status pipe on 5 (close-on-exec),
 * and closes every other one. */
static void
child_fds (AgentExecSandboxChild *child)
{
  int moved[6];

  /* Out of the way first: a source may sit on another's target number. */
  for (int i = 0; i < 6; i++)
    {
      int fd = i < 5 ? child->fds[i] : child->status_fd;

      moved[i] = fd >= 0 ? fcntl (fd, F_DUPFD_CLOEXEC, 64 + i) : -1;
      if (fd >= 0 && moved[i] < 0)
        child_fail (child, STEP_FDS, errno);
    }
  for (int i = 0; i < 6; i++)
    if (moved[i] >= 0 ? dup2 (moved[i], i) < 0 : (close (i), FALSE))
      child_fail (child, STEP_FDS, errno);
  child->status_fd = STATUS_FD;
  if (fcntl (STATUS_FD, F_SETFD, FD_CLOEXEC) != 0)
    child_fail (child, STEP_FDS, errno);
  if (syscall (SYS_close_range, STATUS_FD + 1, ~0U, 0) != 0)
    for (int fd = STATUS_FD + 1; fd < 1024; fd++)
      close (fd);
}

static void
child_signals (void)
{
  struct sigaction dfl;
  sigset_t none;

  memset (&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; sig++)
    if (sig != SIGKILL && sig != SIGSTOP)
      sigaction (sig, &dfl, NULL);
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
}

static void
child_user_namespace (AgentExecSandboxChild *child)
{
  int rc;

  if (!child->plan->user_namespace)
    return;
  rc = write_text ("/proc/self/uid_map", child->plan->uid_map);
  if (rc == 0)
    rc = write_text ("/proc/self/setgroups", "deny");
  if (rc == 0)
    rc = write_text ("/proc/self/gid_map", child->plan->gid_map);
  if (rc != 0)
    child_fail (child, STEP_USERNS, rc);
}

static void
child_mounts (AgentExecSandboxChild *child)
{
  const AgentExecLocalSandboxPlan *plan = child->plan;
  const AgentExecSandboxOp *ops = (const AgentExecSandboxOp *) (void *) plan->ops->data;

  if (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
      mount ("tmpfs", plan->new_root, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=4194304") != 0)
    child_fail (child, STEP_MOUNT_PRIVATE, errno);
  for (guint i = 0; i < plan->ops->len; i++)
    {
      int rc = run_op (&ops[i]);

      if (rc != 0)
        child_fail (child, STEP_OP + (int) i, rc);
    }
  /* The old root goes: pivot onto itself, then detach what lies below. */
  if (chdir (plan->new_root) != 0 || syscall (SYS_pivot_root, ".", ".") != 0 ||
      umount2 (".", MNT_DETACH) != 0 || chdir ("/") != 0 ||
      mount (NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) != 0)
    child_fail (child, STEP_PIVOT, errno);
  /* /dev's tmpfs too (its devices and /dev/shm are mounts of their own): in
   * a user namespace the code owns it, and without Landlock nothing else
   * would refuse a write there. */
  if (mount (NULL, "/dev", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) !=
      0)
    child_fail (child, STEP_PIVOT, errno);
}

static void
child_network (AgentExecSandboxChild *child)
{
  struct ifreq ifr;
  int fd;

  if (sethostname (SANDBOX_HOSTNAME, strlen (SANDBOX_HOSTNAME)) != 0)
    child_fail (child, STEP_NETWORK, errno);
  if (child->plan->network)
    return;
  memset (&ifr, 0, sizeof ifr);
  memcpy (ifr.ifr_name, "lo", 3);
  fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || ioctl (fd, SIOCGIFFLAGS, &ifr) != 0)
    child_fail (child, STEP_NETWORK, errno);
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  if (ioctl (fd, SIOCSIFFLAGS, &ifr) != 0)
    child_fail (child, STEP_NETWORK, errno);
  close (fd);
}

/* Fields 48-51 of /proc/self/stat (arg_start, arg_end, env_start,
 * env_end), parsed without the C library's stdio. */
static gboolean
read_arg_env_area (guintptr area[4])
{
  char buffer[2048];
  int fd = open ("/proc/self/stat", O_RDONLY | O_CLOEXEC);
  gssize n = fd >= 0 ? read (fd, buffer, sizeof buffer - 1) : -1;
  int field = 2;
  gssize i;

  if (fd >= 0)
    close (fd);
  if (n <= 0)
    return FALSE;
  buffer[n] = '\0';
  for (i = n - 1; i >= 0 && buffer[i] != ')'; i--)
    ;
  if (i < 0)
    return FALSE;
  memset (area, 0, 4 * sizeof area[0]);
  for (i++; i < n && field <= 51; i++)
    {
      if (buffer[i] == ' ')
        field++;
      else if (field >= 48 && buffer[i] >= '0' && buffer[i] <= '9')
        area[field - 48] = area[field - 48] * 10 + (guintptr) (buffer[i] - '0');
    }
  return area[1] > area[0] && area[3] >= area[2];
}

/* init is a copy of the caller, never exec'd: the code must not read the
 * caller's command line (world-readable in /proc/1/cmdline), environment
 * or memory there. */
static void
child_hide_caller (AgentExecSandboxChild *child)
{
  guintptr area[4];

  if (prctl (PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
    child_fail (child, STEP_CAPS, errno);
  prctl (PR_SET_NAME, (unsigned long) "agentexec-init", 0, 0, 0);
  if (!read_arg_env_area (area))
    child_fail (child, STEP_CAPS, ENOENT);
#ifdef HAVE_VALGRIND
  /* Under valgrind these are valgrind's own arguments and environment,
   * outside the memory it gives the program: tell memcheck it may write. */
  VALGRIND_MAKE_MEM_UNDEFINED (area[0], area[1] - area[0]);
  VALGRIND_MAKE_MEM_UNDEFINED (area[2], area[3] - area[2]);
#endif
  memset ((void *) area[0], 0, area[1] - area[0]);
  if (area[3] > area[2])
    memset ((void *) area[2], 0, area[3] - area[2]);
}

/* No capability is left, in any set, and none can come back. */
static void
child_privileges (AgentExecSandboxChild *child)
{
  struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
  struct __user_cap_data_struct data[2];

  for (int cap = 0; cap <= child->plan->last_cap; cap++)
    if (prctl (PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL)
      child_fail (child, STEP_CAPS, errno);
  /* rlimits, and as root the run's uid (which clears the capabilities). */
  child->setup (child->setup_data);
  memset (data, 0, sizeof data);
  if (syscall (SYS_capset, &header, data) != 0 ||
      prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0)
    child_fail (child, STEP_CAPS, errno);
  if (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    child_fail (child, STEP_NNP, errno);
}

static void G_GNUC_NORETURN
child_exec (AgentExecSandboxChild *child, int exec_pipe)
{
  int err;

  umask (child->caller_umask);
  if (chdir (child->cwd) == 0)
    execve (child->argv[0], (char *const *) child->argv, (char *const *) child->envp);
  err = errno;
  if (write (exec_pipe, &err, sizeof err) < 0)
    {
      /* init sees the exit. */
    }
  _exit (127);
}

/* Moves both ends of @pipe_fds above the child's fds 0-5, which may have
 * gaps (no fd 3 and 4 without a driver) that pipe2() would fill. */
static gboolean
above_child_fds (int pipe_fds[2])
{
  for (int i = 0; i < 2; i++)
    {
      int moved = fcntl (pipe_fds[i], F_DUPFD_CLOEXEC, STATUS_FD + 1);

      if (moved < 0)
        return FALSE;
      close (pipe_fds[i]);
      pipe_fds[i] = moved;
    }
  return TRUE;
}

/* The pid namespace's init: reaps, and reports the code's wait status. */
static void G_GNUC_NORETURN
child_init (AgentExecSandboxChild *child, pid_t code, int exec_pipe)
{
  int err = 0, status = 0;
  gssize n;

  for (int fd = 0; fd < 5; fd++)
    close (fd);
  do
    n = read (exec_pipe, &err, sizeof err);
  while (n < 0 && errno == EINTR);
  child->msg.times[T_EXEC] = _agentexec_local_sandbox_now_ns ();
  if (n > 0)
    child_fail (child, STEP_EXEC, err);
  child->msg.kind = MSG_READY;
  if (write (child->status_fd, &child->msg, sizeof child->msg) < 0)
    _exit (125);
  for (;;)
    {
      pid_t pid = waitpid (-1, &status, 0);

      if (pid == code)
        break;
      if (pid < 0 && errno != EINTR)
        _exit (125);
    }
  child->msg.kind = MSG_EXITED;
  child->msg.value = status;
  child->msg.times[T_EXITED] = _agentexec_local_sandbox_now_ns ();
  if (write (child->status_fd, &child->msg, sizeof child->msg) < 0)
    {
      /* The parent then reports init's own exit. */
    }
  _exit (0);
}

void
_agentexec_local_sandbox_child_main (AgentExecSandboxChild *child)
{
  int exec_pipe[2];
  pid_t code;
  int rc;

  child->msg.times[T_CHILD] = _agentexec_local_sandbox_now_ns ();
  /* The folders of the view (mount points on the new root's tmpfs) must be
   * searchable by the code's uid whatever the caller's umask (077 in a pod):
   * build them with 022, give the code the caller's umask back at exec. */
  child->caller_umask = umask (022);
  child_signals ();
  if (setsid () < 0)
    child_fail (child, STEP_FDS, errno);
  child_fds (child);
  child_user_namespace (child);
  child->msg.times[T_USERNS] = _agentexec_local_sandbox_now_ns ();
  child_mounts (child);
  child->msg.times[T_MOUNTS] = _agentexec_local_sandbox_now_ns ();
  child_network (child);
  child->msg.times[T_NETWORK] = _agentexec_local_sandbox_now_ns ();
  child_privileges (child);
  child_hide_caller (child);
  child->msg.times[T_PRIVS] = _agentexec_local_sandbox_now_ns ();
  rc = _agentexec_local_landlock_restrict (&child->plan->landlock);
  if (rc != 0)
    child_fail (child, STEP_LANDLOCK, -rc);
  child->msg.times[T_LANDLOCK] = _agentexec_local_sandbox_now_ns ();
  if (!_agentexec_local_seccomp_install (child->plan->seccomp))
    child_fail (child, STEP_SECCOMP, errno);
  child->msg.times[T_SECCOMP] = _agentexec_local_sandbox_now_ns ();
  if (pipe2 (exec_pipe, O_CLOEXEC) != 0 || !above_child_fds (exec_pipe))
    child_fail (child, STEP_FORK, errno);
  code = (pid_t) syscall (SYS_clone, SIGCHLD, NULL, NULL, NULL, NULL);
  if (code < 0)
    child_fail (child, STEP_FORK, errno);
  if (code == 0)
    {
      close (exec_pipe[0]);
      child_exec (child, exec_pipe[1]);
    }
  close (exec_pipe[1]);
  child_init (child, code, exec_pipe[0]);
}

/* The probe's child: the namespaces, the maps, a private mount, a fresh /proc. */
void
_agentexec_local_sandbox_probe_child (const char *uid_map,
                                      const char *gid_map,
                                      gboolean user_namespace)
{
  if (user_namespace && (write_text ("/proc/self/uid_map", uid_map) != 0 ||
                         write_text ("/proc/self/setgroups", "deny") != 0 ||
                         write_text ("/proc/self/gid_map", gid_map) != 0))
    _exit (10);
  if (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
    _exit (11);
  if (mount ("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "size=4096") != 0)
    _exit (12);
  /* Every run mounts a fresh /proc for its pid namespace: a kernel refuses
   * that in a user namespace when the host's /proc has masked parts (a
   * container's), so try it here, where init() can still say why. */
  if (mount ("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0)
    _exit (13);
  _exit (0);
}
