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
 * only makes system calls (raw clone, so no atfork handler runs).
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
#include "agentexec-local-sandbox-private.h"
#include "agentexec-local-seccomp-private.h"

#define SANDBOX_HOSTNAME "agentexec"
#define SETUP_TIMEOUT_MS 30000
#define STATUS_FD 5
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

typedef enum
{
  OP_MKDIR,
  OP_SYMLINK, /* source: the link's target */
  OP_FILE,    /* source: the contents (NULL: empty, a mount point) */
  OP_BIND,    /* read-only unless OP_FLAG_WRITABLE */
  OP_TMPFS,   /* source: the mount options */
  OP_PROC,
} OpKind;

enum
{
  OP_FLAG_WRITABLE = 1 << 0,
  OP_FLAG_DEVICE = 1 << 1,
};

typedef struct
{
  OpKind kind;
  int flags;
  const char *source;
  const char *target; /* absolute, under the new root's mount point */
} Op;

struct _AgentExecLocalSandboxPlan
{
  GStringChunk *strings;
  GArray *ops;      /* Op */
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
} Step;

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
} Message;

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
  Message msg;
} Child;

G_LOCK_DEFINE_STATIC (timings);
static AgentExecLocalSandboxTimings last_timings;

static gint64
now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (gint64) ts.tv_sec * G_GINT64_CONSTANT (1000000000) + ts.tv_nsec;
}

/* The plan, built in the parent */

static const char *
keep (AgentExecLocalSandboxPlan *self, const char *text)
{
  return text != NULL ? g_string_chunk_insert_const (self->strings, text) : NULL;
}

static void
add_op (
    AgentExecLocalSandboxPlan *self, OpKind kind, int flags, const char *source, const char *inside)
{
  g_autofree char *target = g_build_filename (self->new_root, inside, NULL);
  Op op = { kind, flags, keep (self, source), keep (self, target) };

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
  self->ops = g_array_new (FALSE, FALSE, sizeof (Op));
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

/* The child (async-signal-safe from here to the end of the section) */

static void G_GNUC_NORETURN
child_fail (Child *child, int step, int err)
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
bind_op (const Op *op)
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
run_op (const Op *op)
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
child_fds (Child *child)
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
child_user_namespace (Child *child)
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
child_mounts (Child *child)
{
  const AgentExecLocalSandboxPlan *plan = child->plan;
  const Op *ops = (const Op *) (void *) plan->ops->data;

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
}

static void
child_network (Child *child)
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
child_hide_caller (Child *child)
{
  guintptr area[4];

  if (prctl (PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
    child_fail (child, STEP_CAPS, errno);
  prctl (PR_SET_NAME, (unsigned long) "agentexec-init", 0, 0, 0);
  if (!read_arg_env_area (area))
    child_fail (child, STEP_CAPS, ENOENT);
  memset ((void *) area[0], 0, area[1] - area[0]);
  if (area[3] > area[2])
    memset ((void *) area[2], 0, area[3] - area[2]);
}

/* No capability is left, in any set, and none can come back. */
static void
child_privileges (Child *child)
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
child_exec (Child *child, int exec_pipe)
{
  int err;

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
child_init (Child *child, pid_t code, int exec_pipe)
{
  int err = 0, status = 0;
  gssize n;

  for (int fd = 0; fd < 5; fd++)
    close (fd);
  do
    n = read (exec_pipe, &err, sizeof err);
  while (n < 0 && errno == EINTR);
  child->msg.times[T_EXEC] = now_ns ();
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
  child->msg.times[T_EXITED] = now_ns ();
  if (write (child->status_fd, &child->msg, sizeof child->msg) < 0)
    {
      /* The parent then reports init's own exit. */
    }
  _exit (0);
}

static void G_GNUC_NORETURN
child_main (Child *child)
{
  int exec_pipe[2];
  pid_t code;
  int rc;

  child->msg.times[T_CHILD] = now_ns ();
  child_signals ();
  if (setsid () < 0)
    child_fail (child, STEP_FDS, errno);
  child_fds (child);
  child_user_namespace (child);
  child->msg.times[T_USERNS] = now_ns ();
  child_mounts (child);
  child->msg.times[T_MOUNTS] = now_ns ();
  child_network (child);
  child->msg.times[T_NETWORK] = now_ns ();
  child_privileges (child);
  child_hide_caller (child);
  child->msg.times[T_PRIVS] = now_ns ();
  rc = _agentexec_local_landlock_restrict (&child->plan->landlock);
  if (rc != 0)
    child_fail (child, STEP_LANDLOCK, -rc);
  child->msg.times[T_LANDLOCK] = now_ns ();
  if (!_agentexec_local_seccomp_install (child->plan->seccomp))
    child_fail (child, STEP_SECCOMP, errno);
  child->msg.times[T_SECCOMP] = now_ns ();
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
  const Op *op;

  if (step >= 0 && step < STEP_OP)
    return g_strdup (names[step]);
  if (step - STEP_OP >= (int) self->ops->len || step < STEP_OP)
    return g_strdup ("setting up the sandbox");
  op = &g_array_index (self->ops, Op, step - STEP_OP);
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
store_timings (const Message *msg, gint64 before_clone)
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
read_message (int fd, int timeout_ms, Message *msg)
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
clone_child (AgentExecLocalSandboxPlan *self, Child *child)
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
    child_main (child);
  pthread_sigmask (SIG_SETMASK, &saved, NULL);
  return pid;
}

static void
set_spawn_error (AgentExecLocalSandboxPlan *self,
                 const char *program,
                 const Message *msg,
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
  Child child = { self, argv, envp, cwd, { 0 }, -1, child_setup, child_data, { 0 } };
  int status[2];
  gint64 before;
  pid_t pid;
  Message msg = { 0 };

  memcpy (child.fds, child_fds, sizeof child.fds);
  if (pipe2 (status, O_CLOEXEC) != 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
                   "Cannot create a pipe for the sandbox: %s", g_strerror (errno));
      return 0;
    }
  child.status_fd = status[1];
  before = now_ns ();
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
  Message msg;

  g_unix_set_fd_nonblocking (status_fd, TRUE, NULL);
  if (!read_message (status_fd, -1, &msg) || msg.kind != MSG_EXITED)
    return FALSE;
  *wait_status = msg.value;
  G_LOCK (timings);
  last_timings.teardown_us = (now_ns () - msg.times[T_EXITED]) / 1000;
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

/* The probe's child: the namespaces, the maps, a private mount. */
static void G_GNUC_NORETURN
probe_child (const char *uid_map, const char *gid_map, gboolean user_namespace)
{
  if (user_namespace && (write_text ("/proc/self/uid_map", uid_map) != 0 ||
                         write_text ("/proc/self/setgroups", "deny") != 0 ||
                         write_text ("/proc/self/gid_map", gid_map) != 0))
    _exit (10);
  if (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
    _exit (11);
  if (mount ("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "size=4096") != 0)
    _exit (12);
  _exit (0);
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
    probe_child (uid_map, gid_map, user_namespace);
  err = errno;
  pthread_sigmask (SIG_SETMASK, &saved, NULL);
  if (pid > 0)
    while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
      ;
  if (pid > 0 && WIFEXITED (status) && WEXITSTATUS (status) == 0)
    return TRUE;
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
