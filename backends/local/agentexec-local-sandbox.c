/* agentexec-local-sandbox.c: the Local backend's kernel sandbox
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * No daemon, no helper program: the parent computes a plan (the mounts of a
 * minimal file system view, the uid maps, the Landlock rules, the seccomp
 * program), then clone()s a child into new pid, mount, network, ipc, uts
 * and cgroup namespaces (plus a user namespace when the caller is not
 * root). That child is the pid namespace's init: it builds the view on a
 * tmpfs, pivot_root()s into it, brings up its own loopback, drops every
 * capability (as root by taking the run's uid), sets no_new_privs,
 * restricts itself with Landlock and seccomp, then forks the code's process
 * and waits. When the code's process exits, init reports its wait status on
 * a pipe and exits, and the kernel kills whatever is left in the namespace;
 * when the host kills init, the same happens.
 *
 * Between clone and exec the child of a multi-threaded process may only
 * make async-signal-safe calls: the plan holds every string and the child
 * (agentexec-local-sandbox-child.c) only makes system calls (raw clone, so
 * no atfork handler runs). This file is the parent's side: the plan, the
 * clone, the status pipe, and the kernel check at init().
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <pwd.h>
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
#include <pthread.h>

#include <glib-unix.h>
#include <gio/gio.h>

#include "agentexec-enums.h"
#include "agentexec-local-landlock-private.h"
#include "agentexec-local-sandbox-child-private.h"
#include "agentexec-local-sandbox-private.h"
#include "agentexec-local-seccomp-private.h"

#define SETUP_TIMEOUT_MS 30000
#define NAMESPACE_FLAGS (CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP)

/* The /etc entries interpreters and their libraries read, when present. */
static const char *const etc_entries[] = {
  "ld.so.cache",
  "ld.so.conf",
  "ld.so.conf.d",
  "alternatives",
  "ssl",
  "ca-certificates",
  "ca-certificates.conf",
  "localtime",
  "timezone",
  "nsswitch.conf",
  "host.conf",
  "gai.conf",
  "protocols",
  "services",
  "mime.types",
  "magic",
  "locale.alias",
  "locale.conf",
  "os-release",
  "debian_version",
  "fonts",
  "matplotlibrc",
  "python3",
  "python3.11",
  "python3.12",
  "java-17-openjdk",
  "java-21-openjdk",
  "R",
  "nodejs",
  "bash.bashrc",
  "inputrc",
  "environment",
};

/* The top-level entries of a merged-/usr system and their fallbacks. */
static const char *const top_entries[] = { "bin", "sbin", "lib", "lib32", "lib64", "libx32" };

static const char *const devices[] = { "null", "zero", "full", "random", "urandom" };

G_LOCK_DEFINE_STATIC (timings);
static AgentExecLocalSandboxTimings last_timings;

/* The plan, built in the parent */

static const char *
keep (AgentExecLocalSandboxPlan *self, const char *text)
{
  return text != NULL ? g_string_chunk_insert_const (self->strings, text) : NULL;
}

static void
add_op (AgentExecLocalSandboxPlan *self,
        AgentExecSandboxOpKind kind,
        int flags,
        const char *source,
        const char *inside)
{
  g_autofree char *target = g_build_filename (self->new_root, inside, NULL);
  AgentExecSandboxOp op = { kind, flags, keep (self, source), keep (self, target) };

  g_array_append_val (self->ops, op);
  if (kind != OP_BIND && kind != OP_TMPFS && kind != OP_PROC)
    g_hash_table_add (self->made, (gpointer) op.target);
}

/* Plans the directories leading to @inside (absolute inside the view). */
static void
make_parents (AgentExecLocalSandboxPlan *self, const char *inside, gboolean including_last)
{
  g_auto (GStrv) parts = g_strsplit (inside, "/", -1);
  g_autoptr (GString) path = g_string_new (NULL);
  guint n = g_strv_length (parts);

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *target = NULL;

      if (parts[i][0] == '\0' || (i + 1 == n && !including_last))
        continue;
      g_string_append_printf (path, "/%s", parts[i]);
      target = g_build_filename (self->new_root, path->str, NULL);
      if (!g_hash_table_contains (self->made, target))
        add_op (self, OP_MKDIR, 0, NULL, path->str);
    }
}

/* Makes @host visible at the same path, read-only unless @flags say so. */
static void
bind_path (AgentExecLocalSandboxPlan *self, const char *host, int flags)
{
  struct stat st;

  if (stat (host, &st) != 0)
    return;
  make_parents (self, host, FALSE);
  if (S_ISDIR (st.st_mode))
    make_parents (self, host, TRUE);
  else
    add_op (self, OP_FILE, 0, NULL, host);
  add_op (self, OP_BIND, flags, host, host);
}

/* A symlink is recreated as such, a directory or file bound read-only. */
static void
mirror_entry (AgentExecLocalSandboxPlan *self, const char *host)
{
  struct stat st;

  if (lstat (host, &st) != 0)
    return;
  if (S_ISLNK (st.st_mode))
    {
      g_autofree char *target = g_file_read_link (host, NULL);

      if (target != NULL)
        {
          make_parents (self, host, FALSE);
          add_op (self, OP_SYMLINK, 0, target, host);
        }
      return;
    }
  bind_path (self, host, 0);
}

/* The installation an interpreter outside /usr belongs to (PREFIX/bin/X
 * with PREFIX/lib), or NULL when that would be a home directory or a top
 * folder: then only the program itself is bound. */
static char *
interpreter_prefix (const char *real)
{
  g_autofree char *bin = g_path_get_dirname (real);
  g_autofree char *prefix = g_path_get_dirname (bin);
  g_autofree char *lib = g_build_filename (prefix, "lib", NULL);
  g_autofree char *parent = g_path_get_dirname (prefix);
  const char *home = g_get_home_dir ();
  struct passwd *pw = getpwuid (getuid ());

  if (!g_file_test (lib, G_FILE_TEST_IS_DIR) || g_str_equal (parent, "/") ||
      g_str_equal (parent, "/home") || (home != NULL && g_str_equal (prefix, home)) ||
      (pw != NULL && g_str_equal (prefix, pw->pw_dir)))
    return NULL;
  return g_steal_pointer (&prefix);
}

static void
plan_system (AgentExecLocalSandboxPlan *self, const char *interpreter)
{
  g_autofree char *real = interpreter != NULL ? realpath (interpreter, NULL) : NULL;

  bind_path (self, "/usr", 0);
  for (guint i = 0; i < G_N_ELEMENTS (top_entries); i++)
    {
      g_autofree char *host = g_strconcat ("/", top_entries[i], NULL);

      mirror_entry (self, host);
    }
  /* An interpreter installed elsewhere (pyenv, /opt): its prefix. */
  if (real != NULL && !g_str_has_prefix (real, "/usr/"))
    {
      g_autofree char *prefix = interpreter_prefix (real);

      bind_path (self, prefix != NULL ? prefix : real, 0);
    }
}

static void
plan_etc (AgentExecLocalSandboxPlan *self, gint64 uid, gint64 gid)
{
  g_autofree char *passwd = g_strdup_printf (
      "root:x:0:0:root:/root:/bin/sh\nsandbox:x:%" G_GINT64_FORMAT ":%" G_GINT64_FORMAT
      ":agentexec sandbox:/tmp:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
      uid, gid);
  g_autofree char *group =
      g_strdup_printf ("root:x:0:\nsandbox:x:%" G_GINT64_FORMAT ":\nnogroup:x:65534:\n", gid);

  make_parents (self, "/etc", TRUE);
  for (guint i = 0; i < G_N_ELEMENTS (etc_entries); i++)
    {
      g_autofree char *host = g_build_filename ("/etc", etc_entries[i], NULL);

      mirror_entry (self, host);
    }
  add_op (self, OP_FILE, 0, passwd, "/etc/passwd");
  add_op (self, OP_FILE, 0, group, "/etc/group");
  add_op (self, OP_FILE, 0, SANDBOX_HOSTNAME "\n", "/etc/hostname");
  if (self->network)
    {
      mirror_entry (self, "/etc/hosts");
      mirror_entry (self, "/etc/resolv.conf");
    }
  else
    add_op (self, OP_FILE, 0, "127.0.0.1\tlocalhost " SANDBOX_HOSTNAME "\n::1\tlocalhost\n",
            "/etc/hosts");
}

static void
plan_dev_proc_tmp (AgentExecLocalSandboxPlan *self, guint64 tmp_bytes)
{
  g_autofree char *tmp_options = g_strdup_printf ("mode=1777,size=%" G_GUINT64_FORMAT, tmp_bytes);

  make_parents (self, "/dev", TRUE);
  add_op (self, OP_TMPFS, 0, "mode=0755,size=65536,nr_inodes=64", "/dev");
  for (guint i = 0; i < G_N_ELEMENTS (devices); i++)
    {
      g_autofree char *dev = g_build_filename ("/dev", devices[i], NULL);

      add_op (self, OP_FILE, 0, NULL, dev);
      add_op (self, OP_BIND, OP_FLAG_WRITABLE | OP_FLAG_DEVICE, dev, dev);
    }
  add_op (self, OP_SYMLINK, 0, "/proc/self/fd", "/dev/fd");
  add_op (self, OP_SYMLINK, 0, "/proc/self/fd/0", "/dev/stdin");
  add_op (self, OP_SYMLINK, 0, "/proc/self/fd/1", "/dev/stdout");
  add_op (self, OP_SYMLINK, 0, "/proc/self/fd/2", "/dev/stderr");
  add_op (self, OP_MKDIR, 0, NULL, "/dev/shm");
  add_op (self, OP_TMPFS, 0, tmp_options, "/dev/shm");
  make_parents (self, "/proc", TRUE);
  add_op (self, OP_PROC, 0, NULL, "/proc");
  make_parents (self, "/tmp", TRUE);
  add_op (self, OP_TMPFS, 0, tmp_options, "/tmp");
  make_parents (self, "/var", TRUE);
  add_op (self, OP_SYMLINK, 0, "/tmp", "/var/tmp");
}

static void
plan_landlock (AgentExecLocalSandboxPlan *self, const AgentExecLocalSandboxConfig *config)
{
  AgentExecLocalLandlock *ll = &self->landlock;

  _agentexec_local_landlock_init (ll);
  if (ll->abi == 0)
    return;
  _agentexec_local_landlock_add (ll, "/", AGENTEXEC_LANDLOCK_READ);
  _agentexec_local_landlock_add (ll, keep (self, config->run_root), AGENTEXEC_LANDLOCK_WRITE);
  if (config->work_dir != NULL)
    _agentexec_local_landlock_add (ll, keep (self, config->work_dir), AGENTEXEC_LANDLOCK_WRITE);
  _agentexec_local_landlock_add (ll, "/tmp", AGENTEXEC_LANDLOCK_WRITE);
  _agentexec_local_landlock_add (ll, "/dev/shm", AGENTEXEC_LANDLOCK_WRITE);
  _agentexec_local_landlock_add (ll, "/dev", AGENTEXEC_LANDLOCK_DEVICE);
  _agentexec_local_landlock_add (ll, "/proc", AGENTEXEC_LANDLOCK_DEVICE);
}

static int
read_last_cap (void)
{
  g_autofree char *text = NULL;

  if (g_file_get_contents ("/proc/sys/kernel/cap_last_cap", &text, NULL, NULL))
    return (int) g_ascii_strtoll (text, NULL, 10);
  return 63;
}

/*
 * _agentexec_local_sandbox_new:
 *
 * Plans the sandbox of a run: its file system view, maps, rules and filter.
 * Creates the view's mount point in @config->run_root.
 *
 * Returns: the plan, or %NULL with @error set
 */
AgentExecLocalSandboxPlan *
_agentexec_local_sandbox_new (const AgentExecLocalSandboxConfig *config, GError **error)
{
  g_autoptr (AgentExecLocalSandboxPlan) self = g_new0 (AgentExecLocalSandboxPlan, 1);
  gint64 uid = config->uid >= 0 ? config->uid : (gint64) geteuid ();
  gint64 gid = config->uid >= 0 ? config->uid : (gint64) getegid ();

  self->strings = g_string_chunk_new (4096);
  self->ops = g_array_new (FALSE, FALSE, sizeof (AgentExecSandboxOp));
  self->made = g_hash_table_new (g_str_hash, g_str_equal);
  self->network = config->network;
  self->user_namespace = geteuid () != 0;
  self->last_cap = read_last_cap ();
  self->new_root = g_build_filename (config->run_root, ".sandbox-root", NULL);
  self->seccomp = _agentexec_local_seccomp_program (error);
  if (self->seccomp == NULL)
    return NULL;
  if (mkdir (self->new_root, 0700) != 0)
    {
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_FAILED,
                   "Cannot create the sandbox's mount point %s: %s; check the temporary "
                   "directory",
                   self->new_root, g_strerror (errno));
      return NULL;
    }
  /* Inside, the caller's uid and gid map to themselves. */
  g_snprintf (self->uid_map, sizeof self->uid_map, "%u %u 1\n", geteuid (), geteuid ());
  g_snprintf (self->gid_map, sizeof self->gid_map, "%u %u 1\n", getegid (), getegid ());
  /* The tmpfs mounts first: a bind below /tmp (an interpreter's
   * installation, the run's directory) goes on top of them. */
  plan_dev_proc_tmp (self, config->tmp_bytes);
  plan_system (self, config->interpreter);
  plan_etc (self, uid, gid);
  make_parents (self, config->run_root, TRUE);
  add_op (self, OP_BIND, OP_FLAG_WRITABLE, config->run_root, config->run_root);
  if (config->work_dir != NULL)
    {
      make_parents (self, config->work_dir, TRUE);
      add_op (self, OP_BIND, OP_FLAG_WRITABLE, config->work_dir, config->work_dir);
    }
  plan_landlock (self, config);
  return g_steal_pointer (&self);
}

void
_agentexec_local_sandbox_free (AgentExecLocalSandboxPlan *self)
{
  if (self == NULL)
    return;
  if (self->new_root != NULL)
    rmdir (self->new_root);
  g_clear_pointer (&self->ops, g_array_unref);
  g_clear_pointer (&self->made, g_hash_table_unref);
  g_clear_pointer (&self->strings, g_string_chunk_free);
  g_free (self->new_root);
  g_free (self);
}

/* The parent */

static char *
describe_step (const AgentExecLocalSandboxPlan *self, int step)
{
  static const char *const names[] = {
    [STEP_FDS] = "setting up the child's file descriptors",
    [STEP_USERNS] = "writing the user namespace's uid/gid maps",
    [STEP_MOUNT_PRIVATE] = "making the mounts private and mounting the view's tmpfs",
    [STEP_PIVOT] = "pivot_root into the view",
    [STEP_NETWORK] = "setting the hostname and bringing up the loopback interface",
    [STEP_CAPS] = "dropping capabilities",
    [STEP_NNP] = "setting no_new_privs",
    [STEP_LANDLOCK] = "applying the Landlock ruleset",
    [STEP_SECCOMP] = "loading the seccomp filter",
    [STEP_FORK] = "forking the code's process",
    [STEP_EXEC] = "starting the interpreter",
  };
  const AgentExecSandboxOp *op;

  if (step >= 0 && step < STEP_OP)
    return g_strdup (names[step]);
  if (step - STEP_OP >= (int) self->ops->len || step < STEP_OP)
    return g_strdup ("setting up the sandbox");
  op = &g_array_index (self->ops, AgentExecSandboxOp, step - STEP_OP);
  switch (op->kind)
    {
    case OP_BIND:
      return g_strdup_printf ("bind-mounting %s", op->source);
    case OP_TMPFS:
    case OP_PROC:
      return g_strdup_printf ("mounting %s at %s", op->kind == OP_PROC ? "proc" : "tmpfs",
                              op->target + strlen (self->new_root));
    case OP_MKDIR:
    case OP_SYMLINK:
    case OP_FILE:
    default:
      return g_strdup_printf ("creating %s", op->target + strlen (self->new_root));
    }
}

static void
store_timings (const AgentExecSandboxMessage *msg, gint64 before_clone)
{
  const gint64 *t = msg->times;

  G_LOCK (timings);
  last_timings.clone_us = (t[T_CHILD] - before_clone) / 1000;
  last_timings.userns_us = (t[T_USERNS] - t[T_CHILD]) / 1000;
  last_timings.mounts_us = (t[T_MOUNTS] - t[T_USERNS]) / 1000;
  last_timings.network_us = (t[T_NETWORK] - t[T_MOUNTS]) / 1000;
  last_timings.privs_us = (t[T_PRIVS] - t[T_NETWORK]) / 1000;
  last_timings.landlock_us = (t[T_LANDLOCK] - t[T_PRIVS]) / 1000;
  last_timings.seccomp_us = (t[T_SECCOMP] - t[T_LANDLOCK]) / 1000;
  last_timings.exec_us = (t[T_EXEC] - t[T_SECCOMP]) / 1000;
  last_timings.total_us = (t[T_EXEC] - before_clone) / 1000;
  G_UNLOCK (timings);
}

/* The where-set-up-time-went of the last spawn (for the benchmark). */
void
_agentexec_local_sandbox_get_timings (AgentExecLocalSandboxTimings *timings)
{
  G_LOCK (timings);
  *timings = last_timings;
  G_UNLOCK (timings);
}

static gboolean
read_message (int fd, int timeout_ms, AgentExecSandboxMessage *msg)
{
  struct pollfd pfd = { fd, POLLIN, 0 };
  gssize n;

  if (timeout_ms >= 0 && poll (&pfd, 1, timeout_ms) <= 0)
    return FALSE;
  do
    n = read (fd, msg, sizeof *msg);
  while (n < 0 && errno == EINTR);
  return n == (gssize) sizeof *msg;
}

static pid_t
clone_child (AgentExecLocalSandboxPlan *self, AgentExecSandboxChild *child)
{
  unsigned long flags = NAMESPACE_FLAGS | SIGCHLD;
  sigset_t all, saved;
  pid_t pid;

  if (!self->network)
    flags |= CLONE_NEWNET;
  if (self->user_namespace)
    flags |= CLONE_NEWUSER;
  /* No handler of the parent may run in the child before it resets them. */
  sigfillset (&all);
  pthread_sigmask (SIG_SETMASK, &all, &saved);
  pid = (pid_t) syscall (SYS_clone, flags, NULL, NULL, NULL, NULL);
  if (pid == 0)
    _agentexec_local_sandbox_child_main (child);
  pthread_sigmask (SIG_SETMASK, &saved, NULL);
  return pid;
}

static void
set_spawn_error (AgentExecLocalSandboxPlan *self,
                 const char *program,
                 const AgentExecSandboxMessage *msg,
                 GError **error)
{
  g_autofree char *step = describe_step (self, msg->step);

  if (msg->step == STEP_EXEC)
    g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_BACKEND_UNAVAILABLE,
                 "Could not start %s in the sandbox: %s. Check that the interpreter is "
                 "installed (under /usr, or set its path with "
                 "agentexec_local_executor_set_interpreter())",
                 program, g_strerror (msg->value));
  else
    g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_BACKEND_UNAVAILABLE,
                 "Could not set up the local sandbox (%s: %s). Check that the kernel allows "
                 "namespaces for this user, or set the local executor's sandbox to none "
                 "(with allow-unsafe) to run without it",
                 step, g_strerror (msg->value));
}

/*
 * _agentexec_local_sandbox_spawn:
 * @child_fds: the child's stdin, stdout, stderr, fd 3 and fd 4 (-1: none)
 * @child_setup: runs in init after the mounts, before privileges are
 *   dropped: rlimits, and as root the run's uid (async-signal-safe)
 * @status_fd: (out): where init reports the code's wait status (see
 *   _agentexec_local_sandbox_read_status())
 *
 * Starts @argv in a new sandbox and waits until it runs (or failed to).
 *
 * Returns: the host pid of the sandbox's init, or 0 with @error set
 */
GPid
_agentexec_local_sandbox_spawn (AgentExecLocalSandboxPlan *self,
                                const char *const *argv,
                                const char *const *envp,
                                const char *cwd,
                                const int child_fds[5],
                                void (*child_setup) (gpointer data),
                                gpointer child_data,
                                int *status_fd,
                                GError **error)
{
  AgentExecSandboxChild child = {
    .plan = self,
    .argv = argv,
    .envp = envp,
    .cwd = cwd,
    .status_fd = -1,
    .setup = child_setup,
    .setup_data = child_data,
  };
  int status[2];
  gint64 before;
  pid_t pid;
  AgentExecSandboxMessage msg = { 0 };

  memcpy (child.fds, child_fds, sizeof child.fds);
  if (pipe2 (status, O_CLOEXEC) != 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
                   "Cannot create a pipe for the sandbox: %s", g_strerror (errno));
      return 0;
    }
  child.status_fd = status[1];
  before = _agentexec_local_sandbox_now_ns ();
  pid = clone_child (self, &child);
  close (status[1]);
  if (pid < 0)
    {
      int err = errno;

      close (status[0]);
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_BACKEND_UNAVAILABLE,
                   "Could not create the local sandbox's namespaces (clone: %s). Check that "
                   "the kernel allows namespaces for this user, or set the local executor's "
                   "sandbox to none (with allow-unsafe) to run without it",
                   g_strerror (err));
      return 0;
    }
  if (read_message (status[0], SETUP_TIMEOUT_MS, &msg) && msg.kind == MSG_READY)
    {
      store_timings (&msg, before);
      *status_fd = status[0];
      return pid;
    }
  if (msg.kind != MSG_FAILED)
    {
      msg.step = STEP_FORK;
      msg.value = ETIMEDOUT;
    }
  kill (pid, SIGKILL);
  while (waitpid (pid, NULL, 0) < 0 && errno == EINTR)
    ;
  close (status[0]);
  set_spawn_error (self, argv[0], &msg, error);
  return 0;
}

/*
 * _agentexec_local_sandbox_read_status:
 *
 * After init was reaped: the code's own wait status, when init reported it
 * (else init was killed, and its wait status is the run's).
 */
gboolean
_agentexec_local_sandbox_read_status (int status_fd, int *wait_status)
{
  AgentExecSandboxMessage msg;

  g_unix_set_fd_nonblocking (status_fd, TRUE, NULL);
  if (!read_message (status_fd, -1, &msg) || msg.kind != MSG_EXITED)
    return FALSE;
  *wait_status = msg.value;
  G_LOCK (timings);
  last_timings.teardown_us = (_agentexec_local_sandbox_now_ns () - msg.times[T_EXITED]) / 1000;
  G_UNLOCK (timings);
  return TRUE;
}

/* The kernel's check */

static char *
read_sysctl (const char *path)
{
  g_autofree char *text = NULL;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return NULL;
  return g_strstrip (g_steal_pointer (&text));
}

/* Names the setting that refuses namespaces here, and its fix. */
static char *
refusal_cause (void)
{
  static const struct
  {
    const char *path;
    const char *refusing;
    const char *text;
  } knobs[] = {
    { "/proc/sys/kernel/unprivileged_userns_clone", "0",
      "kernel.unprivileged_userns_clone is 0 (fix: sysctl -w kernel.unprivileged_userns_clone=1)" },
    { "/proc/sys/kernel/apparmor_restrict_unprivileged_userns", "1",
      "AppArmor restricts unprivileged user namespaces (fix: sysctl -w "
      "kernel.apparmor_restrict_unprivileged_userns=0, or an AppArmor profile that allows "
      "userns for this program)" },
    { "/proc/sys/user/max_user_namespaces", "0",
      "user.max_user_namespaces is 0 (fix: sysctl -w user.max_user_namespaces=15000)" },
    { "/proc/sys/user/max_pid_namespaces", "0",
      "user.max_pid_namespaces is 0 (fix: sysctl -w user.max_pid_namespaces=15000)" },
    { "/proc/sys/user/max_mnt_namespaces", "0",
      "user.max_mnt_namespaces is 0 (fix: sysctl -w user.max_mnt_namespaces=15000)" },
    { "/proc/sys/user/max_net_namespaces", "0",
      "user.max_net_namespaces is 0 (fix: sysctl -w user.max_net_namespaces=15000)" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (knobs); i++)
    {
      g_autofree char *value = read_sysctl (knobs[i].path);

      if (value != NULL && g_str_equal (value, knobs[i].refusing))
        return g_strdup (knobs[i].text);
    }
  return g_strdup ("the kernel or a container runtime (seccomp profile, missing "
                   "CAP_SYS_ADMIN) refuses new namespaces (fix: allow unshare/clone of "
                   "namespaces, e.g. run the container with a seccomp profile that permits "
                   "them, or use the container executor)");
}

/*
 * _agentexec_local_sandbox_check:
 *
 * Whether this process can create the sandbox's namespaces: a child tries
 * them (with the user namespace's maps when not root) and a mount in them.
 *
 * Returns: %TRUE, or %FALSE with @error naming the cause and the fix
 */
gboolean
_agentexec_local_sandbox_check (GError **error)
{
  unsigned long flags = NAMESPACE_FLAGS | CLONE_NEWNET | SIGCHLD;
  gboolean user_namespace = geteuid () != 0;
  char uid_map[64], gid_map[64];
  g_autofree char *cause = NULL;
  const char *what;
  sigset_t all, saved;
  int status = 0, err = 0;
  pid_t pid;

  if (_agentexec_local_seccomp_program (error) == NULL)
    return FALSE;
  if (user_namespace)
    flags |= CLONE_NEWUSER;
  g_snprintf (uid_map, sizeof uid_map, "%u %u 1\n", geteuid (), geteuid ());
  g_snprintf (gid_map, sizeof gid_map, "%u %u 1\n", getegid (), getegid ());
  sigfillset (&all);
  pthread_sigmask (SIG_SETMASK, &all, &saved);
  pid = (pid_t) syscall (SYS_clone, flags, NULL, NULL, NULL, NULL);
  if (pid == 0)
    _agentexec_local_sandbox_probe_child (uid_map, gid_map, user_namespace);
  err = errno;
  pthread_sigmask (SIG_SETMASK, &saved, NULL);
  if (pid > 0)
    while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
      ;
  if (pid > 0 && WIFEXITED (status) && WEXITSTATUS (status) == 0)
    return TRUE;
  if (pid > 0 && WIFEXITED (status) && WEXITSTATUS (status) == 13)
    {
      g_set_error_literal (
          error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_BACKEND_UNAVAILABLE,
          "The local executor's sandbox mounts a fresh /proc for each run, and this kernel "
          "refused it: inside a container whose /proc has masked or read-only parts (the "
          "runtime's default), a new proc mount is not allowed. Fix that (e.g. Kubernetes "
          "securityContext procMount: Unmasked, podman/docker --security-opt "
          "systempaths=unconfined), or, where the container is itself the sandbox, set the "
          "local executor's sandbox to none with allow-unsafe, or use the container executor");
      return FALSE;
    }
  cause = refusal_cause ();
  what = pid < 0                      ? g_strerror (err)
         : !WIFEXITED (status)        ? "the probe process died"
         : WEXITSTATUS (status) == 10 ? "writing the user namespace's uid map was refused"
                                      : "mounting inside the new mount namespace was refused";
  g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_BACKEND_UNAVAILABLE,
               "The local executor's sandbox needs Linux namespaces (pid, mount, network, ipc, "
               "uts, cgroup%s), and this kernel refused them (%s): %s. Fix that, or use the "
               "container executor, or set the local executor's sandbox to none with "
               "allow-unsafe to run the code unsandboxed on this host",
               user_namespace ? ", user" : "", what, cause);
  return FALSE;
}
