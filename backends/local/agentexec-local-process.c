/* agentexec-local-process.c: a sandboxed host process and its output
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A child runs in its own session and process group, with rlimits and stdin
 * on /dev/null. Root ignores RLIMIT_NPROC, so as root a run either gets a
 * sandbox uid of its own (then RLIMIT_NPROC bounds its processes, and
 * kill(-1) as that uid ends every one of them, even those that left the
 * process group), or, when it must keep the caller's uid (a given work-dir),
 * a cgroup of its own where the cgroup v1 `pids` and `memory` hierarchies are
 * writable. (Moving a process into a cgroup costs 5-15 ms here, a third of a
 * Python start, hence the uid first.) Output is read as it comes, capped per
 * stream without buffering the rest, and streamed to the `output` signal.
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib-unix.h>

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

#include "agentexec-code-executor-private.h"
#include "agentexec-execution-result-private.h"
#include "agentexec-local-process-private.h"
#include "agentexec-local-sandbox-private.h"

/* Running as root, each run (or session) gets a uid of its own from this
 * range, without a passwd entry: RLIMIT_NPROC, which root ignores, then
 * bounds its processes, and kill(-1) as that uid ends every one of them. */
#define SANDBOX_UID_BASE 2100000000
#define SANDBOX_UID_COUNT 65536

#define READ_CHUNK 65536
#define DRAIN_BOUND_MS 500
#define POLL_FALLBACK_MS 5

typedef struct
{
  GByteArray *data;
  guint64 max;
  guint64 dropped;
  int fd;
  AgentExecStream stream;
} Sink;

struct _AgentExecLocalProcess
{
  GPid pid;
  int pidfd;
  int wait_status;
  gboolean reaped;
  Sink out;
  Sink err;
  int request_fd;
  int reply_fd;
  AgentExecDriverReader *reader;
  char *cgroups[2]; /* pids, memory */
  gboolean limit_hit;
  gint64 uid;
  int status_fd; /* a sandbox's init reports the code's wait status here */
};

typedef struct
{
  AgentExecLocalLimits limits;
  char procs[2][4096];
  gboolean use_nproc;
} ChildSetup;

enum
{
  CGROUP_PIDS,
  CGROUP_MEMORY,
  N_CGROUPS
};
static const char *const cgroup_controllers[N_CGROUPS] = { "pids", "memory" };

/* The directory under which this process may create cgroups, per controller. */
static char *cgroup_bases[N_CGROUPS];

static char *
cgroup_base_for (const char *controller, const char *proc_self_cgroup)
{
  g_auto (GStrv) lines = g_strsplit (proc_self_cgroup, "\n", -1);
  g_autofree char *needle = g_strdup_printf (":%s:", controller);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *hit = strstr (lines[i], needle);
      g_autofree char *base = NULL;
      g_autofree char *procs = NULL;

      if (hit == NULL)
        continue;
      base = g_build_filename ("/sys/fs/cgroup", controller, hit + strlen (needle), NULL);
      procs = g_build_filename (base, "cgroup.procs", NULL);
      if (access (procs, W_OK) == 0)
        return g_steal_pointer (&base);
    }
  return NULL;
}

static gpointer
detect_cgroups (gpointer data)
{
  g_autofree char *contents = NULL;

  if (g_getenv ("AGENTEXEC_LOCAL_NO_CGROUPS") != NULL ||
      !g_file_get_contents ("/proc/self/cgroup", &contents, NULL, NULL))
    return NULL;
  for (guint i = 0; i < N_CGROUPS; i++)
    cgroup_bases[i] = cgroup_base_for (cgroup_controllers[i], contents);
  return NULL;
}

static gboolean
write_file (const char *dir, const char *name, const char *value)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  int fd = open (path, O_WRONLY | O_CLOEXEC);
  gboolean ok;

  if (fd < 0)
    return FALSE;
  ok = write (fd, value, strlen (value)) == (gssize) strlen (value);
  close (fd);
  return ok;
}

static char *
cgroup_create (guint which, const char *limit_file, guint64 limit)
{
  static int counter;
  g_autofree char *dir = NULL;
  char value[32];

  if (cgroup_bases[which] == NULL || limit == 0)
    return NULL;
  dir = g_strdup_printf ("%s/agentexec-%d-%d", cgroup_bases[which], (int) getpid (),
                         g_atomic_int_add (&counter, 1));
  if (mkdir (dir, 0755) != 0)
    return NULL;
  g_snprintf (value, sizeof value, "%" G_GUINT64_FORMAT, limit);
  if (!write_file (dir, limit_file, value))
    {
      rmdir (dir);
      return NULL;
    }
  return g_steal_pointer (&dir);
}

static GArray *
cgroup_pids (const char *dir)
{
  g_autofree char *path = g_build_filename (dir, "cgroup.procs", NULL);
  g_autofree char *contents = NULL;
  GArray *pids = g_array_new (FALSE, FALSE, sizeof (GPid));
  g_auto (GStrv) lines = NULL;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return pids;
  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      GPid pid = (GPid) g_ascii_strtoll (lines[i], NULL, 10);

      if (pid > 0)
        g_array_append_val (pids, pid);
    }
  return pids;
}

/* Sends @sig to the process group and to everything in the cgroups.
 * Returns how many cgroup members were found. */
/* Signals every process of @uid: a vfork()ed child takes the uid and calls
 * kill(-1), which reaches exactly the processes that uid may signal, all at
 * once (a process forking meanwhile is caught too). kill(-1) succeeds even
 * when it found nothing to signal, so there is nothing to count. */
static void
signal_uid (gint64 uid, int sig)
{
  int status = 0;
  pid_t pid;

  /* vfork() spares copying the page tables; valgrind's emulation of it
   * deadlocks in a busy multi-threaded process, so there a plain fork(). */
  pid = RUNNING_ON_VALGRIND ? fork () : vfork ();
  if (pid == 0)
    {
      /* Raw system calls: only this task changes its uid. */
      if (syscall (SYS_setuid, (uid_t) uid) != 0)
        _exit (2);
      _exit (syscall (SYS_kill, -1, sig) == 0 ? 0 : 1);
    }
  if (pid < 0)
    return;
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
}

static guint
signal_all (AgentExecLocalProcess *self, int sig)
{
  guint found = 0;

  kill (-self->pid, sig);
  /* In a sandbox, the pid namespace holds every process of the run: they
   * all end with its init, so there is no uid to sweep. */
  if (self->uid > 0 && self->status_fd < 0)
    signal_uid (self->uid, sig);
  for (guint i = 0; i < N_CGROUPS; i++)
    {
      g_autoptr (GArray) pids = NULL;

      if (self->cgroups[i] == NULL)
        continue;
      pids = cgroup_pids (self->cgroups[i]);
      for (guint j = 0; j < pids->len; j++)
        kill (g_array_index (pids, GPid, j), sig);
      found += pids->len;
    }
  return found;
}

static gboolean cgroups_hit_limit (AgentExecLocalProcess *self);

/* Kills what is left in the cgroups (a fork bomb refills them while it is
 * being killed), then removes them. */
static void
cgroups_destroy (AgentExecLocalProcess *self)
{
  if (self->cgroups[CGROUP_PIDS] == NULL && self->cgroups[CGROUP_MEMORY] == NULL)
    return;
  self->limit_hit |= cgroups_hit_limit (self);
  for (guint round = 0; round < 200 && signal_all (self, SIGKILL) > 0; round++)
    g_usleep (1000);
  for (guint i = 0; i < N_CGROUPS; i++)
    {
      if (self->cgroups[i] == NULL)
        continue;
      for (guint round = 0; round < 100 && rmdir (self->cgroups[i]) != 0 && errno == EBUSY; round++)
        g_usleep (1000);
      g_clear_pointer (&self->cgroups[i], g_free);
    }
}

static void
set_limit (int resource, guint64 value)
{
  struct rlimit rl = { (rlim_t) value, (rlim_t) value };

  setrlimit (resource, &rl);
}

/* Runs in the child between fork and exec: async-signal-safe calls only. */
static void
child_setup (gpointer data)
{
  const ChildSetup *setup = data;
  sigset_t all;

  setsid ();
  for (guint i = 0; i < N_CGROUPS; i++)
    {
      int fd;

      if (setup->procs[i][0] == '\0')
        continue;
      fd = open (setup->procs[i], O_WRONLY | O_CLOEXEC);
      if (fd >= 0)
        {
          if (write (fd, "0", 1) < 0)
            {
              /* Nothing to do: the process group and rlimits still apply. */
            }
          close (fd);
        }
    }
  if (setup->limits.max_memory_bytes > 0)
    set_limit (RLIMIT_DATA, setup->limits.max_memory_bytes);
  if (setup->limits.max_file_bytes > 0)
    set_limit (RLIMIT_FSIZE, setup->limits.max_file_bytes);
  if (setup->limits.max_cpu_seconds > 0)
    set_limit (RLIMIT_CPU, setup->limits.max_cpu_seconds);
  if (setup->limits.max_open_files > 0)
    set_limit (RLIMIT_NOFILE, setup->limits.max_open_files);
  if (setup->use_nproc)
    set_limit (RLIMIT_NPROC, setup->limits.max_processes);
  if (setup->limits.uid >= 0)
    {
      gid_t gid = (gid_t) setup->limits.uid;

      /* Raw system calls: glibc's wrappers synchronise the uid across
       * threads (setxid), which a forked child does not need and which can
       * block there (seen under valgrind). */
      if (syscall (SYS_setgroups, 1, &gid) != 0 || syscall (SYS_setgid, gid) != 0 ||
          syscall (SYS_setuid, (uid_t) setup->limits.uid) != 0)
        _exit (126);
    }
  signal (SIGPIPE, SIG_DFL);
  sigemptyset (&all);
  sigprocmask (SIG_SETMASK, &all, NULL);
}

static void
sink_init (Sink *sink, int fd, AgentExecStream stream, guint64 max)
{
  sink->data = g_byte_array_new ();
  sink->fd = fd;
  sink->stream = stream;
  sink->max = max;
  sink->dropped = 0;
  if (fd >= 0)
    g_unix_set_fd_nonblocking (fd, TRUE, NULL);
}

static void
sink_close (Sink *sink)
{
  if (sink->fd >= 0)
    close (sink->fd);
  sink->fd = -1;
}

/* Keeps what fits under the cap and streams it; counts the rest. */
static void
sink_take (Sink *sink, const char *data, gsize len, const AgentExecLocalStream *stream)
{
  guint64 room = sink->max > sink->data->len ? sink->max - sink->data->len : 0;
  gsize keep = (gsize) MIN ((guint64) len, room);

  if (keep > 0)
    {
      g_byte_array_append (sink->data, (const guint8 *) data, keep);
      if (stream != NULL && stream->executor != NULL)
        _agentexec_code_executor_emit_output_in (stream->executor, stream->context, stream->input,
                                                 sink->stream, data, keep);
    }
  sink->dropped += len - keep;
}

/* Reads what is available; closes the sink at end of file. */
static void
sink_read (Sink *sink, const AgentExecLocalStream *stream)
{
  char buffer[READ_CHUNK];

  while (sink->fd >= 0)
    {
      gssize n = read (sink->fd, buffer, sizeof buffer);

      if (n > 0)
        {
          sink_take (sink, buffer, n, stream);
          if (n < (gssize) sizeof buffer)
            return;
          continue;
        }
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN)
        return;
      sink_close (sink);
    }
}

static int
open_pidfd (GPid pid)
{
#ifdef SYS_pidfd_open
  int fd = (int) syscall (SYS_pidfd_open, pid, 0);

  if (fd >= 0)
    fcntl (fd, F_SETFD, FD_CLOEXEC);
  return fd;
#else
  return -1;
#endif
}

static void
prepare_child_setup (AgentExecLocalProcess *self,
                     ChildSetup *setup,
                     const AgentExecLocalLimits *limits,
                     gboolean sandboxed)
{
  static GOnce once = G_ONCE_INIT;

  g_once (&once, detect_cgroups, NULL);
  memset (setup, 0, sizeof *setup);
  setup->limits = *limits;
  self->uid = limits->uid;
  /* A run with a uid of its own is bounded by rlimits and swept by uid;
   * otherwise (root in a given work-dir) cgroups bound it. Moving a process
   * into a cgroup costs milliseconds, hence not for every run. A sandbox
   * never runs as root, and its user namespace counts RLIMIT_NPROC apart. */
  if (limits->uid < 0 && !sandboxed)
    {
      self->cgroups[CGROUP_PIDS] = cgroup_create (CGROUP_PIDS, "pids.max", limits->max_processes);
      self->cgroups[CGROUP_MEMORY] =
          cgroup_create (CGROUP_MEMORY, "memory.limit_in_bytes", limits->max_memory_bytes);
    }
  for (guint i = 0; i < N_CGROUPS; i++)
    if (self->cgroups[i] != NULL)
      g_snprintf (setup->procs[i], sizeof setup->procs[i], "%s/cgroup.procs", self->cgroups[i]);
  /* RLIMIT_NPROC counts every process of the user: only a fallback. */
  setup->use_nproc = self->cgroups[CGROUP_PIDS] == NULL && limits->max_processes > 0 &&
                     (getuid () != 0 || limits->uid > 0);
}

/* Starts @argv in @sandbox: the same fds as g_spawn would give it. */
static gboolean
spawn_sandboxed (AgentExecLocalProcess *self,
                 AgentExecLocalSandboxPlan *sandbox,
                 const char *const *argv,
                 const char *const *envp,
                 const char *cwd,
                 ChildSetup *setup,
                 const int driver[2],
                 int *out_fd,
                 int *err_fd,
                 GError **error)
{
  int out[2] = { -1, -1 }, err[2] = { -1, -1 };
  int null_fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  int fds[5];

  if (null_fd < 0 || !g_unix_open_pipe (out, FD_CLOEXEC, error) ||
      !g_unix_open_pipe (err, FD_CLOEXEC, error))
    {
      if (null_fd < 0)
        g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "Cannot open /dev/null: %s",
                     g_strerror (errno));
      for (guint i = 0; i < 2; i++)
        {
          if (out[i] >= 0)
            close (out[i]);
          if (err[i] >= 0)
            close (err[i]);
        }
      if (null_fd >= 0)
        close (null_fd);
      return FALSE;
    }
  fds[0] = null_fd;
  fds[1] = out[1];
  fds[2] = err[1];
  fds[3] = driver[0];
  fds[4] = driver[1];
  self->pid = _agentexec_local_sandbox_spawn (sandbox, argv, envp, cwd, fds, child_setup, setup,
                                              &self->status_fd, error);
  close (null_fd);
  close (out[1]);
  close (err[1]);
  *out_fd = out[0];
  *err_fd = err[0];
  if (self->pid <= 0)
    {
      close (out[0]);
      close (err[0]);
      *out_fd = *err_fd = -1;
      self->pid = 0;
      return FALSE;
    }
  return TRUE;
}

/*
 * _agentexec_local_process_spawn:
 * @sandbox: (nullable): run in this sandbox (see agentexec-local-sandbox.c);
 *   %NULL: directly on the host
 * @driver_fds: give the child fd 3 (requests) and fd 4 (replies), for an
 *   interpreter driver
 *
 * Returns: the running process, or %NULL with @error set
 *   (BACKEND_UNAVAILABLE when the program cannot be started)
 */
AgentExecLocalProcess *
_agentexec_local_process_spawn (const char *const *argv,
                                const char *const *envp,
                                const char *cwd,
                                const AgentExecLocalLimits *limits,
                                AgentExecLocalSandboxPlan *sandbox,
                                gboolean driver_fds,
                                guint64 max_output_bytes,
                                GError **error)
{
  g_autoptr (AgentExecLocalProcess) self = g_new0 (AgentExecLocalProcess, 1);
  g_autoptr (GError) local_error = NULL;
  ChildSetup setup;
  int request[2] = { -1, -1 }, reply[2] = { -1, -1 };
  int source_fds[2], target_fds[2] = { 3, 4 };
  int out_fd = -1, err_fd = -1;
  gboolean ok;

  self->pidfd = self->request_fd = self->reply_fd = self->status_fd = -1;
  self->out.fd = self->err.fd = -1;
  prepare_child_setup (self, &setup, limits, sandbox != NULL);
  if (driver_fds && (!g_unix_open_pipe (request, FD_CLOEXEC, error) ||
                     !g_unix_open_pipe (reply, FD_CLOEXEC, error)))
    return NULL;
  source_fds[0] = request[0];
  source_fds[1] = reply[1];

  if (sandbox != NULL)
    ok = spawn_sandboxed (self, sandbox, argv, envp, cwd, &setup, source_fds, &out_fd, &err_fd,
                          &local_error);
  else
    ok = g_spawn_async_with_pipes_and_fds (
        cwd, argv, envp, G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDIN_FROM_DEV_NULL, child_setup,
        &setup, -1, -1, -1, driver_fds ? source_fds : NULL, driver_fds ? target_fds : NULL,
        driver_fds ? 2 : 0, &self->pid, NULL, &out_fd, &err_fd, &local_error);
  if (driver_fds)
    {
      close (request[0]);
      close (reply[1]);
      self->request_fd = request[1];
      self->reply_fd = reply[0];
    }
  if (!ok && sandbox != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  if (!ok)
    {
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_BACKEND_UNAVAILABLE,
                   "Could not start %s: %s. Check that the interpreter is installed or set "
                   "its path with agentexec_local_executor_set_interpreter()",
                   argv[0], local_error->message);
      return NULL;
    }
  self->pidfd = open_pidfd (self->pid);
  sink_init (&self->out, out_fd, AGENTEXEC_STREAM_STDOUT, max_output_bytes);
  sink_init (&self->err, err_fd, AGENTEXEC_STREAM_STDERR, max_output_bytes);
  if (driver_fds)
    self->reader = _agentexec_driver_reader_new (NULL, FALSE);
  return g_steal_pointer (&self);
}

static gboolean
try_reap (AgentExecLocalProcess *self, gboolean block)
{
  int status;
  pid_t r;

  if (self->reaped)
    return TRUE;
  do
    r = waitpid (self->pid, &status, block ? 0 : WNOHANG);
  while (r < 0 && errno == EINTR);
  if (r == self->pid || (r < 0 && errno == ECHILD))
    {
      self->reaped = TRUE;
      self->wait_status = r == self->pid ? status : 0;
      /* A sandbox's init reports how the code itself ended. */
      if (self->status_fd >= 0)
        _agentexec_local_sandbox_read_status (self->status_fd, &self->wait_status);
    }
  return self->reaped;
}

void
_agentexec_local_process_free (AgentExecLocalProcess *self)
{
  if (self == NULL)
    return;
  if (self->pid > 0 && !self->reaped)
    {
      signal_all (self, SIGKILL);
      try_reap (self, TRUE);
    }
  cgroups_destroy (self);
  sink_close (&self->out);
  sink_close (&self->err);
  g_clear_pointer (&self->out.data, g_byte_array_unref);
  g_clear_pointer (&self->err.data, g_byte_array_unref);
  if (self->pidfd >= 0)
    close (self->pidfd);
  if (self->request_fd >= 0)
    close (self->request_fd);
  if (self->reply_fd >= 0)
    close (self->reply_fd);
  if (self->status_fd >= 0)
    close (self->status_fd);
  g_clear_pointer (&self->reader, _agentexec_driver_reader_free);
  g_free (self);
}

gboolean
_agentexec_local_process_is_alive (AgentExecLocalProcess *self)
{
  return !try_reap (self, FALSE) && self->reply_fd >= 0;
}

/*
 * _agentexec_local_process_send:
 *
 * Writes a request frame to the driver (blocking: the driver reads whole
 * requests before it runs them).
 */
gboolean
_agentexec_local_process_send (AgentExecLocalProcess *self, GBytes *request, GError **error)
{
  gsize len;
  const char *data = g_bytes_get_data (request, &len);

  while (len > 0)
    {
      gssize n = write (self->request_fd, data, len);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_PROTOCOL,
                       "Could not send the code to the interpreter driver (%s): the "
                       "session has ended",
                       g_strerror (errno));
          return FALSE;
        }
      data += n;
      len -= n;
    }
  return TRUE;
}

/* Reads the reply channel; TRUE when a reply or an end (EOF, bad frame) came. */
static gboolean
read_reply (AgentExecLocalProcess *self, AgentExecDriverReply **reply, GError **error)
{
  char buffer[4096];
  gssize n;

  if (_agentexec_driver_reader_next (self->reader, NULL, reply, error))
    return TRUE;
  if (error != NULL && *error != NULL)
    return TRUE;
  do
    n = read (self->reply_fd, buffer, sizeof buffer);
  while (n < 0 && errno == EINTR);
  if (n <= 0)
    {
      close (self->reply_fd);
      self->reply_fd = -1;
      return TRUE;
    }
  _agentexec_driver_reader_feed (self->reader, buffer, n);
  return _agentexec_driver_reader_next (self->reader, NULL, reply, error) ||
         (error != NULL && *error != NULL);
}

typedef struct
{
  struct pollfd fds[5];
  guint n;
  int out_i, err_i, reply_i, pid_i, cancel_i;
} PollSet;

static void
poll_set_add (PollSet *set, int fd, int *index)
{
  *index = -1;
  if (fd < 0)
    return;
  set->fds[set->n].fd = fd;
  set->fds[set->n].events = POLLIN;
  set->fds[set->n].revents = 0;
  *index = set->n++;
}

static gboolean
poll_ready (PollSet *set, int index)
{
  return index >= 0 && (set->fds[index].revents & (POLLIN | POLLHUP | POLLERR)) != 0;
}

/* One round of waiting: reads output, notices the exit. Returns FALSE when
 * nothing is left to wait for. */
static void
poll_once (AgentExecLocalProcess *self,
           int timeout_ms,
           int cancel_fd,
           gboolean want_reply,
           const AgentExecLocalStream *stream,
           PollSet *set)
{
  memset (set, 0, sizeof *set);
  poll_set_add (set, self->out.fd, &set->out_i);
  poll_set_add (set, self->err.fd, &set->err_i);
  poll_set_add (set, want_reply ? self->reply_fd : -1, &set->reply_i);
  poll_set_add (set, self->reaped ? -1 : self->pidfd, &set->pid_i);
  poll_set_add (set, cancel_fd, &set->cancel_i);
  if (self->pidfd < 0 && !self->reaped)
    timeout_ms = timeout_ms < 0 ? POLL_FALLBACK_MS : MIN (timeout_ms, POLL_FALLBACK_MS);
  if (poll (set->fds, set->n, timeout_ms) < 0)
    return;
  if (poll_ready (set, set->out_i))
    sink_read (&self->out, stream);
  if (poll_ready (set, set->err_i))
    sink_read (&self->err, stream);
  if (set->pid_i >= 0 ? poll_ready (set, set->pid_i) : self->pidfd < 0)
    try_reap (self, FALSE);
}

/* Reads output until both pipes are closed, at most @bound_ms. */
static void
drain (AgentExecLocalProcess *self, guint bound_ms, const AgentExecLocalStream *stream)
{
  gint64 end = g_get_monotonic_time () + (gint64) bound_ms * 1000;

  while (self->out.fd >= 0 || self->err.fd >= 0)
    {
      gint64 left = end - g_get_monotonic_time ();
      PollSet set;

      if (left <= 0)
        break;
      poll_once (self, (int) MAX (1, left / 1000), -1, FALSE, stream, &set);
    }
  sink_close (&self->out);
  sink_close (&self->err);
}

/* Reads what is in the pipes now, without waiting (the process lives on). */
static void
drain_available (AgentExecLocalProcess *self, const AgentExecLocalStream *stream)
{
  sink_read (&self->out, stream);
  sink_read (&self->err, stream);
}

/*
 * _agentexec_local_process_kill:
 *
 * SIGTERM to the group and the cgroups, up to @grace_ms for the process to
 * exit (reading its output meanwhile), then SIGKILL to all; reaps it.
 */
void
_agentexec_local_process_kill (AgentExecLocalProcess *self, guint grace_ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) grace_ms * 1000;

  if (!self->reaped && grace_ms > 0)
    {
      signal_all (self, SIGTERM);
      while (!try_reap (self, FALSE))
        {
          gint64 left = end - g_get_monotonic_time ();
          PollSet set;

          if (left <= 0)
            break;
          poll_once (self, (int) MAX (1, left / 1000), -1, FALSE, NULL, &set);
        }
    }
  signal_all (self, SIGKILL);
  try_reap (self, TRUE);
  cgroups_destroy (self);
}

static int
deadline_timeout_ms (gint64 deadline)
{
  gint64 left;

  if (deadline <= 0)
    return -1;
  left = deadline - g_get_monotonic_time ();
  return left <= 0 ? 0 : (int) MIN ((left + 999) / 1000, G_MAXINT);
}

/*
 * _agentexec_local_process_wait:
 * @deadline: monotonic time (µs) at which the code is killed, 0 for none
 * @reply: (out) (optional): for a driver, its reply
 *
 * Waits for the process to exit or, for a driver, for its reply, reading
 * and streaming output. On timeout or cancellation kills everything. After
 * an exit, kills what the code left behind (background processes holding
 * the pipes) and drains the pipes.
 */
AgentExecLocalEnd
_agentexec_local_process_wait (AgentExecLocalProcess *self,
                               gint64 deadline,
                               guint grace_ms,
                               GCancellable *cancellable,
                               const AgentExecLocalStream *stream,
                               AgentExecDriverReply **reply,
                               GError **error)
{
  GPollFD cancel_poll = { -1, 0, 0 };
  gboolean has_cancel_fd =
      cancellable != NULL && g_cancellable_make_pollfd (cancellable, &cancel_poll);
  gboolean want_reply = reply != NULL && self->reply_fd >= 0;
  AgentExecLocalEnd end;

  for (;;)
    {
      PollSet set;

      if (g_cancellable_is_cancelled (cancellable))
        {
          end = AGENTEXEC_LOCAL_END_CANCELLED;
          break;
        }
      if (deadline > 0 && g_get_monotonic_time () >= deadline)
        {
          end = AGENTEXEC_LOCAL_END_TIMEOUT;
          break;
        }
      poll_once (self, deadline_timeout_ms (deadline), has_cancel_fd ? cancel_poll.fd : -1,
                 want_reply, stream, &set);
      if (want_reply && poll_ready (&set, set.reply_i) && read_reply (self, reply, error))
        {
          if (*reply != NULL)
            {
              drain_available (self, stream);
              end = AGENTEXEC_LOCAL_END_REPLY;
              goto out;
            }
          want_reply = FALSE; /* the channel broke: wait for the exit */
          _agentexec_local_process_kill (self, 0);
        }
      if (self->reaped)
        {
          end = AGENTEXEC_LOCAL_END_EXITED;
          signal_all (self, SIGKILL);
          drain (self, DRAIN_BOUND_MS, stream);
          goto out;
        }
    }
  _agentexec_local_process_kill (self, grace_ms);
  drain (self, DRAIN_BOUND_MS, stream);

out:
  if (has_cancel_fd)
    g_cancellable_release_fd (cancellable);
  return end;
}

/* Forgets the output of the previous run (a session's process lives on). */
void
_agentexec_local_process_reset_output (AgentExecLocalProcess *self)
{
  g_byte_array_set_size (self->out.data, 0);
  g_byte_array_set_size (self->err.data, 0);
  self->out.dropped = self->err.dropped = 0;
}

void
_agentexec_local_process_append_stderr (AgentExecLocalProcess *self, const char *text)
{
  g_byte_array_append (self->err.data, (const guint8 *) text, strlen (text));
}

static GString *
sink_text (Sink *sink)
{
  GString *text = g_string_new_len ((const char *) sink->data->data, sink->data->len);

  if (sink->dropped > 0)
    g_string_append_printf (
        text,
        "%s[agentexec: output truncated: %" G_GUINT64_FORMAT
        " more bytes were dropped (max-output-bytes is %" G_GUINT64_FORMAT ")]\n",
        text->len > 0 && text->str[text->len - 1] != '\n' ? "\n" : "", sink->dropped, sink->max);
  return text;
}

/* Stores output, truncation flags, exit code and signal in @result. */
void
_agentexec_local_process_fill_result (AgentExecLocalProcess *self, AgentExecExecutionResult *result)
{
  g_autoptr (GString) out = sink_text (&self->out);
  g_autoptr (GString) err = sink_text (&self->err);

  _agentexec_execution_result_set_stdout (result, out->str, out->len);
  _agentexec_execution_result_set_stderr (result, err->str, err->len);
  _agentexec_execution_result_set_truncated (result, self->out.dropped > 0, self->err.dropped > 0);
  if (!self->reaped)
    return;
  if (WIFEXITED (self->wait_status))
    _agentexec_execution_result_set_exit_code (result, WEXITSTATUS (self->wait_status));
  else if (WIFSIGNALED (self->wait_status))
    {
      _agentexec_execution_result_set_signal (result, WTERMSIG (self->wait_status));
      _agentexec_execution_result_set_exit_code (result, 128 + WTERMSIG (self->wait_status));
    }
}

static guint64
cgroup_counter (const char *dir, const char *file, const char *key)
{
  g_autofree char *path = NULL;
  g_autofree char *contents = NULL;
  const char *hit;

  if (dir == NULL)
    return 0;
  path = g_build_filename (dir, file, NULL);
  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return 0;
  hit = strstr (contents, key);
  return hit != NULL ? g_ascii_strtoull (hit + strlen (key), NULL, 10) : 0;
}

/*
 * _agentexec_local_process_hit_limit:
 *
 * Whether the code ran into a resource limit: the CPU or file-size rlimit
 * killed it, its cgroup refused a fork, or the memory cgroup OOM-killed it.
 */
gboolean
_agentexec_local_process_hit_limit (AgentExecLocalProcess *self)
{
  if (self->reaped && WIFSIGNALED (self->wait_status) &&
      (WTERMSIG (self->wait_status) == SIGXCPU || WTERMSIG (self->wait_status) == SIGXFSZ))
    return TRUE;
  return self->limit_hit || cgroups_hit_limit (self);
}

static gboolean
cgroups_hit_limit (AgentExecLocalProcess *self)
{
  return cgroup_counter (self->cgroups[CGROUP_PIDS], "pids.events", "max ") > 0 ||
         cgroup_counter (self->cgroups[CGROUP_MEMORY], "memory.oom_control", "oom_kill ") > 0;
}

G_LOCK_DEFINE_STATIC (uids);
static GHashTable *uids_in_use;
static guint next_uid;

/*
 * _agentexec_local_uid_acquire:
 *
 * Returns: a sandbox uid no other run of this process uses (its processes
 *   were all killed when it was released); -1 when not running as root
 */
gint64
_agentexec_local_uid_acquire (void)
{
  gint64 uid = -1;

  if (geteuid () != 0 || g_getenv ("AGENTEXEC_LOCAL_NO_SANDBOX_UID") != NULL)
    return -1;
  G_LOCK (uids);
  if (uids_in_use == NULL)
    {
      uids_in_use = g_hash_table_new (g_direct_hash, g_direct_equal);
      next_uid = g_random_int_range (0, SANDBOX_UID_COUNT);
    }
  for (guint i = 0; i < SANDBOX_UID_COUNT && uid < 0; i++)
    {
      gint64 candidate = SANDBOX_UID_BASE + (next_uid++ % SANDBOX_UID_COUNT);

      if (!g_hash_table_contains (uids_in_use,
                                  GINT_TO_POINTER ((int) (candidate - SANDBOX_UID_BASE))))
        uid = candidate;
    }
  if (uid >= 0)
    g_hash_table_add (uids_in_use, GINT_TO_POINTER ((int) (uid - SANDBOX_UID_BASE)));
  G_UNLOCK (uids);
  return uid;
}

/* Ends what is left of @uid's processes and returns it to the pool.
 * @ended: they are all gone already (a sandbox's pid namespace ended them,
 * or the run's process was waited for or freed: both SIGKILL the uid with
 * kill(-1), which a fork cannot slip past: the kernel fails a fork whose
 * parent got a fatal signal meanwhile), so no second sweep. */
void
_agentexec_local_uid_release (gint64 uid, gboolean ended)
{
  if (uid < 0)
    return;
  if (!ended)
    signal_uid (uid, SIGKILL);
  G_LOCK (uids);
  g_hash_table_remove (uids_in_use, GINT_TO_POINTER ((int) (uid - SANDBOX_UID_BASE)));
  G_UNLOCK (uids);
}
