/* agentexec-local-executor.c: runs code in host processes, in a kernel sandbox
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agentexec-base-executor-private.h"
#include "agentexec-code-executor-private.h"
#include "agentexec-enum-types.h"
#include "agentexec-execution-result-private.h"
#include "agentexec-language.h"
#include "agentexec-local-executor.h"
#include "agentexec-local-sandbox-private.h"
#include "agentexec-local-session-private.h"
#include "agentexec-local-workdir-private.h"

/**
 * AgentExecLocalExecutor:
 *
 * Runs code in processes on this host, with no daemon. By default
 * ([property@AgentExec.LocalExecutor:sandbox] `namespaces`) each run, and
 * each stateful session for its whole life, is sandboxed by the kernel
 * alone: new pid, mount, network, ipc, uts and cgroup namespaces (plus a
 * user namespace when the caller is not root); the code never runs as root
 * and holds no capability; it sees a read-only minimal view of the system
 * (`/usr` and the few `/etc` entries interpreters need, CA certificates, a
 * fresh `/proc`, `/dev/null`, `zero`, `full`, `random`, `urandom`), with
 * only its run directory, a private `/tmp` and `/dev/shm` writable; its
 * network is its own loopback (unless [property@AgentExec.LocalExecutor:network]);
 * no_new_privs, a seccomp filter and a Landlock ruleset (where the kernel
 * has one) close the rest. When the kernel refuses namespaces, construction
 * fails with an error that names the cause and its fix: the executor never
 * runs unsandboxed silently. With the sandbox set to `none`, the code runs
 * with the caller's rights, which needs
 * [property@AgentExec.LocalExecutor:allow-unsafe].
 *
 * Every run gets a fresh temporary work directory (or
 * [property@AgentExec.LocalExecutor:work-dir]) holding the input files; files
 * the code creates or changes there come back as output files. The process
 * runs in its own session and process group, with stdin on `/dev/null`, an
 * environment reduced to [property@AgentExec.LocalExecutor:environment-allow-list]
 * plus the input's `env`, and rlimits on data size, CPU time, processes, file
 * size and open files. Running as root (which RLIMIT_NPROC does not bound),
 * each run or session runs as a uid of its own (from 2100000000 up, without a
 * passwd entry): its processes are then bounded, cannot touch the caller's
 * private files, and are all killed when the run ends, even those that left
 * the process group. In the sandbox, a given work-dir is bound at its own
 * path and must be writable by that uid; without the sandbox the code keeps
 * the caller's uid there and, as root, a cgroup of the run bounds
 * processes and memory where the cgroup v1 `pids` and `memory` hierarchies
 * are writable. At the timeout or on
 * cancellation the whole group gets SIGTERM, then SIGKILL after
 * [property@AgentExec.LocalExecutor:kill-grace-ms]; background processes
 * still holding the output pipes when the code exits are killed as well (in
 * the sandbox, every process of the run's pid namespace ends with it).
 *
 * With [property@AgentExec.BaseExecutor:stateful], each `execution-id` keeps
 * one interpreter (Python, Node or bash) running a small driver, so
 * variables, imports and functions persist across runs. Idle sessions end
 * after [property@AgentExec.LocalExecutor:session-idle-timeout-ms].
 *
 * In Python, Matplotlib figures that are shown or left open are saved as
 * `figure_<n>.png` output files.
 *
 * ```c
 * g_autoptr(GError) error = NULL;
 * g_autoptr(AgentExecLocalExecutor) executor = agentexec_local_executor_new (FALSE, &error);
 * g_autoptr(AgentExecExecutionInput) input = agentexec_execution_input_new ("print(6 * 7)",
 * "python"); g_autoptr(AgentExecExecutionResult) result = agentexec_code_executor_execute_code
 * (AGENTEXEC_CODE_EXECUTOR (executor), NULL, input, NULL, &error);
 * ```
 *
 * Since: 1.0
 */

/* Output files a run may return, in bytes. */
#define MAX_OUTPUT_FILES_BYTES (256 * 1024 * 1024)
#define SYSTEM_PATH "/usr/local/bin:/usr/bin:/bin"

typedef struct
{
  GMutex lock;
  AgentExecLocalSession *session;
  gint64 last_used;
  gatomicrefcount ref;
} SessionEntry;

struct _AgentExecLocalExecutor
{
  AgentExecBaseExecutor parent_instance;

  GMutex lock;
  GCond cond;
  char *work_dir;
  GStrv env_allow_list;
  AgentExecLocalLimits limits;
  guint session_idle_timeout_ms;
  guint kill_grace_ms;
  GHashTable *interpreters; /* language → configured path */
  GHashTable *sessions;     /* language \x1f execution-id → SessionEntry */
  guint n_ending;           /* taken out of sessions, processes not yet gone */
  GThread *reaper;
  gboolean disposing;
  gboolean allow_unsafe;
  gboolean network;
  AgentExecLocalSandbox sandbox;
};

/* The settings of one run, copied under the lock. */
typedef struct
{
  char *work_dir;
  GStrv env_allow_list;
  AgentExecLocalLimits limits;
  guint kill_grace_ms;
  guint64 max_output_bytes;
  gboolean sandboxed;
  gboolean network;
} RunSettings;

enum
{
  PROP_0,
  PROP_ALLOW_UNSAFE,
  PROP_WORK_DIR,
  PROP_ENVIRONMENT_ALLOW_LIST,
  PROP_MAX_MEMORY_BYTES,
  PROP_MAX_CPU_SECONDS,
  PROP_MAX_PROCESSES,
  PROP_MAX_FILE_BYTES,
  PROP_MAX_OPEN_FILES,
  PROP_SESSION_IDLE_TIMEOUT_MS,
  PROP_KILL_GRACE_MS,
  PROP_SANDBOX,
  PROP_NETWORK,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static const char *const default_env_allow_list[] = { "PATH",       "LANG",     "LANGUAGE",
                                                      "LC_ALL",     "LC_CTYPE", "LC_MESSAGES",
                                                      "LC_NUMERIC", "TZ",       "TERM",
                                                      "USER",       "LOGNAME",  NULL };

static const struct
{
  const char *language;
  const char *programs[3];
} default_interpreters[] = {
  { "python", { "python3", NULL } }, { "javascript", { "node", "nodejs", NULL } },
  { "bash", { "bash", NULL } },      { "r", { "Rscript", NULL } },
  { "java", { "java", NULL } },
};

static void initable_iface_init (GInitableIface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (AgentExecLocalExecutor,
                               agentexec_local_executor,
                               AGENTEXEC_TYPE_BASE_EXECUTOR,
                               G_IMPLEMENT_INTERFACE (G_TYPE_INITABLE, initable_iface_init))

static SessionEntry *
session_entry_ref (SessionEntry *entry)
{
  g_atomic_ref_count_inc (&entry->ref);
  return entry;
}

static void
session_entry_unref (SessionEntry *entry)
{
  if (!g_atomic_ref_count_dec (&entry->ref))
    return;
  g_clear_pointer (&entry->session, _agentexec_local_session_free);
  g_mutex_clear (&entry->lock);
  g_free (entry);
}

static void
run_settings_clear (RunSettings *s)
{
  g_free (s->work_dir);
  g_strfreev (s->env_allow_list);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (RunSettings, run_settings_clear)

static void
read_settings (AgentExecLocalExecutor *self, RunSettings *s)
{
  g_mutex_lock (&self->lock);
  s->work_dir = g_strdup (self->work_dir);
  s->env_allow_list = g_strdupv (self->env_allow_list);
  s->limits = self->limits;
  s->kill_grace_ms = self->kill_grace_ms;
  s->sandboxed = self->sandbox == AGENTEXEC_LOCAL_SANDBOX_NAMESPACES;
  s->network = self->network;
  g_mutex_unlock (&self->lock);
  s->max_output_bytes =
      agentexec_base_executor_get_max_output_bytes (AGENTEXEC_BASE_EXECUTOR (self));
}

/* Sessions */

/* Ends the sessions idle since before @idle_before (0: all), or, with
 * @execution_id, the sessions of that id (whatever their age). */
static void
end_sessions_of (AgentExecLocalExecutor *self, gint64 idle_before, const char *execution_id)
{
  g_autoptr (GPtrArray) ended =
      g_ptr_array_new_with_free_func ((GDestroyNotify) session_entry_unref);
  GHashTableIter iter;
  gpointer key, value;

  g_mutex_lock (&self->lock);
  g_hash_table_iter_init (&iter, self->sessions);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      SessionEntry *entry = value;
      const char *sep = strchr (key, '\x1f');

      if (execution_id != NULL && (sep == NULL || !g_str_equal (sep + 1, execution_id)))
        continue;
      if (idle_before > 0 && (entry->last_used >= idle_before || !g_mutex_trylock (&entry->lock)))
        continue;
      if (idle_before > 0)
        g_mutex_unlock (&entry->lock);
      g_hash_table_iter_steal (&iter);
      g_free (key);
      g_ptr_array_add (ended, entry);
    }
  self->n_ending += ended->len;
  g_mutex_unlock (&self->lock);

  /* Outside the executor's lock: a run in progress holds its entry's lock. */
  for (guint i = 0; i < ended->len; i++)
    {
      SessionEntry *entry = g_ptr_array_index (ended, i);

      g_mutex_lock (&entry->lock);
      g_clear_pointer (&entry->session, _agentexec_local_session_free);
      g_mutex_unlock (&entry->lock);
    }
  /* Only now are their processes gone: the session count says so. */
  g_mutex_lock (&self->lock);
  self->n_ending -= ended->len;
  g_mutex_unlock (&self->lock);
}

static void
end_sessions (AgentExecLocalExecutor *self, gint64 idle_before)
{
  end_sessions_of (self, idle_before, NULL);
}

static gpointer
reaper_thread (gpointer data)
{
  AgentExecLocalExecutor *self = data;

  g_mutex_lock (&self->lock);
  while (!self->disposing)
    {
      guint timeout_ms = self->session_idle_timeout_ms;
      gint64 interval = CLAMP ((gint64) timeout_ms / 4, 20, 30000) * 1000;

      g_cond_wait_until (&self->cond, &self->lock, g_get_monotonic_time () + interval);
      if (self->disposing || timeout_ms == 0)
        continue;
      g_mutex_unlock (&self->lock);
      end_sessions (self, g_get_monotonic_time () - (gint64) timeout_ms * 1000);
      g_mutex_lock (&self->lock);
    }
  g_mutex_unlock (&self->lock);
  return NULL;
}

static SessionEntry *
lookup_session (AgentExecLocalExecutor *self, const char *key)
{
  SessionEntry *entry;

  g_mutex_lock (&self->lock);
  entry = g_hash_table_lookup (self->sessions, key);
  if (entry == NULL)
    {
      entry = g_new0 (SessionEntry, 1);
      g_mutex_init (&entry->lock);
      g_atomic_ref_count_init (&entry->ref);
      entry->last_used = g_get_monotonic_time ();
      g_hash_table_insert (self->sessions, g_strdup (key), entry);
    }
  if (self->reaper == NULL)
    self->reaper = g_thread_new ("agentexec-local-reaper", reaper_thread, self);
  session_entry_ref (entry);
  g_mutex_unlock (&self->lock);
  return entry;
}

/* Interpreters */

static char *
find_program (const char *name)
{
  g_auto (GStrv) dirs = NULL;

  if (g_path_is_absolute (name))
    return g_file_test (name, G_FILE_TEST_IS_EXECUTABLE) ? g_strdup (name) : NULL;
  /* The system's interpreters first: shims (pyenv, nvm) depend on the
   * environment that the sandbox scrubs. */
  dirs = g_strsplit (SYSTEM_PATH, ":", -1);
  for (guint i = 0; dirs[i] != NULL; i++)
    {
      g_autofree char *path = g_build_filename (dirs[i], name, NULL);

      if (g_file_test (path, G_FILE_TEST_IS_EXECUTABLE))
        return g_steal_pointer (&path);
    }
  return g_find_program_in_path (name);
}

static guint
interpreter_index (const char *language)
{
  for (guint i = 0; i < G_N_ELEMENTS (default_interpreters); i++)
    if (g_str_equal (default_interpreters[i].language, language))
      return i;
  return G_MAXUINT;
}

static char *
resolve_interpreter (AgentExecLocalExecutor *self, const char *language, GError **error)
{
  g_autofree char *configured = NULL;
  guint index = interpreter_index (language);

  g_mutex_lock (&self->lock);
  configured = g_strdup (g_hash_table_lookup (self->interpreters, language));
  g_mutex_unlock (&self->lock);
  if (configured != NULL)
    {
      char *path = find_program (configured);

      if (path == NULL)
        g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_UNSUPPORTED_LANGUAGE,
                     "The %s interpreter “%s” set for the local executor is not an "
                     "executable program: fix the path given to "
                     "agentexec_local_executor_set_interpreter()",
                     language, configured);
      return path;
    }
  for (guint i = 0; index != G_MAXUINT && default_interpreters[index].programs[i] != NULL; i++)
    {
      char *path = find_program (default_interpreters[index].programs[i]);

      if (path != NULL)
        return path;
    }
  g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_UNSUPPORTED_LANGUAGE,
               "No %s interpreter (%s) was found on this host: install it, set its path "
               "with agentexec_local_executor_set_interpreter(), or use another language "
               "or backend",
               language, index != G_MAXUINT ? default_interpreters[index].programs[0] : language);
  return NULL;
}

/* Environment */

/* Matplotlib's cache (font list) is built once and shared by the runs; the
 * sandbox uids need to write it. */
static void
ensure_shared_dir (const char *path)
{
  struct stat st;

  if (lstat (path, &st) != 0 && mkdir (path, 01777) != 0)
    return;
  if (lstat (path, &st) == 0 && S_ISDIR (st.st_mode) && st.st_uid == geteuid () &&
      (st.st_mode & 07777) != 01777)
    chmod (path, 01777);
}

static GStrv
build_env (const RunSettings *s, AgentExecExecutionInput *input, const char *root, const char *work)
{
  g_autofree char *home = g_build_filename (root, "home", NULL);
  /* In the sandbox, /tmp is the run's own size-limited tmpfs. */
  g_autofree char *tmp = s->sandboxed ? g_strdup ("/tmp") : g_build_filename (root, "tmp", NULL);
  g_autofree char *mpl =
      g_strdup_printf ("%s/agentexec-matplotlib-%u", g_get_tmp_dir (), (guint) getuid ());
  const char *const *extra = agentexec_execution_input_get_env (input);
  char **env = NULL;

  if (s->limits.uid >= 0 && !s->sandboxed)
    ensure_shared_dir (mpl);
  for (guint i = 0; s->env_allow_list != NULL && s->env_allow_list[i] != NULL; i++)
    {
      const char *value = g_getenv (s->env_allow_list[i]);

      if (value != NULL)
        env = g_environ_setenv (env, s->env_allow_list[i], value, TRUE);
    }
  if (g_environ_getenv (env, "PATH") == NULL)
    env = g_environ_setenv (env, "PATH", SYSTEM_PATH, TRUE);
  env = g_environ_setenv (env, "HOME", home, TRUE);
  env = g_environ_setenv (env, "TMPDIR", tmp, TRUE);
  env = g_environ_setenv (env, "PYTHONUNBUFFERED", "1", TRUE);
  env = g_environ_setenv (env, "PYTHONDONTWRITEBYTECODE", "1", TRUE);
  /* In the sandbox, Matplotlib's cache is the run's own (under HOME):
   * a cache shared by the runs would be a channel between them. */
  if (!s->sandboxed)
    env = g_environ_setenv (env, "MPLCONFIGDIR", mpl, TRUE);
  /* Modules the code writes or receives in its work directory import. */
  env = g_environ_setenv (env, "PYTHONPATH", work, TRUE);
  for (guint i = 0; extra != NULL && extra[i] != NULL; i++)
    {
      const char *eq = strchr (extra[i], '=');
      g_autofree char *name = eq != NULL ? g_strndup (extra[i], eq - extra[i]) : NULL;

      if (name != NULL && name[0] != '\0')
        env = g_environ_setenv (env, name, eq + 1, TRUE);
    }
  return env;
}

/* Makes a private root (home, work, and tmp unless @sandboxed: there /tmp
 * is private already) for a run or a session, owned by @owner when it is not
 * -1. On ext4 each directory made and removed costs ~0.13 ms of a 14 ms
 * Python run: no more of them than needed. */
static char *
make_root (gint64 owner, gboolean sandboxed, GError **error)
{
  g_autofree char *root = g_dir_make_tmp ("agentexec-XXXXXX", error);
  const char *subdirs[] = { "home", "work", "tmp" };

  if (root == NULL)
    return NULL;
  if (owner >= 0 && chmod (root, 0755) != 0)
    owner = -2;
  for (guint i = 0; i < G_N_ELEMENTS (subdirs) - (sandboxed ? 1 : 0); i++)
    {
      g_autofree char *dir = g_build_filename (root, subdirs[i], NULL);

      if (mkdir (dir, 0700) != 0 || owner == -2 ||
          (owner >= 0 && chown (dir, (uid_t) owner, (gid_t) owner) != 0))
        {
          g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_FAILED,
                       "Cannot create %s: %s; check the temporary directory", dir,
                       g_strerror (errno));
          _agentexec_local_remove_tree (root);
          return NULL;
        }
    }
  return g_steal_pointer (&root);
}

/* The sandbox */

/* As root, the sandbox needs a uid for the code (never root itself). */
static gboolean
check_sandbox_uid (const RunSettings *s, GError **error)
{
  if (!s->sandboxed || geteuid () != 0 || s->limits.uid >= 0)
    return TRUE;
  g_set_error_literal (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_FAILED,
                       "The local sandbox runs the code as a uid of its own when the caller is "
                       "root, and none was given (AGENTEXEC_LOCAL_NO_SANDBOX_UID is set): unset "
                       "it, or run the caller as an ordinary user");
  return FALSE;
}

static AgentExecLocalSandboxPlan *
new_sandbox (const RunSettings *s, const char *root, const char *interpreter, GError **error)
{
  AgentExecLocalSandboxConfig config = { 0 };

  config.run_root = root;
  config.work_dir = s->work_dir;
  config.interpreter = interpreter;
  config.network = s->network;
  config.tmp_bytes =
      s->limits.max_file_bytes > 0 ? s->limits.max_file_bytes : G_GUINT64_CONSTANT (1) << 30;
  config.uid = s->limits.uid;
  return _agentexec_local_sandbox_new (&config, error);
}

/* One-shot runs */

/* Python code that may draw runs through the driver, which saves the
 * figures; other code starts the interpreter directly (a few ms sooner). */
static gboolean
may_plot (const char *code)
{
  const char *words[] = { "plot", "matplotlib", "pylab", "seaborn", "figure", "plt" };

  for (guint i = 0; code != NULL && i < G_N_ELEMENTS (words); i++)
    if (strstr (code, words[i]) != NULL)
      return TRUE;
  return FALSE;
}

static GStrv
build_argv (const char *language,
            const char *interpreter,
            const char *script,
            AgentExecExecutionInput *input)
{
  const char *const *args = agentexec_execution_input_get_argv (input);
  g_autoptr (GStrvBuilder) builder = NULL;

  if (g_str_equal (language, "python") && may_plot (agentexec_execution_input_get_code (input)))
    return _agentexec_driver_build_run_argv (interpreter, script, args);
  builder = g_strv_builder_new ();
  g_strv_builder_add_many (builder, interpreter, script, NULL);
  if (args != NULL)
    g_strv_builder_addv (builder, (const char **) args);
  return g_strv_builder_end (builder);
}

static char *
write_script (const char *root, const char *language, const char *code, GError **error)
{
  g_autofree char *name = g_strconcat ("main", agentexec_language_get_extension (language), NULL);
  g_autofree char *path =
      g_build_filename (root, g_str_equal (language, "java") ? "Main.java" : name, NULL);
  gsize len = code != NULL ? strlen (code) : 0;
  int fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  gssize written = 0;

  /* Readable by the run's own uid whatever the caller's umask (077 in a pod). */
  if (fd >= 0 && fchmod (fd, 0644) != 0)
    {
      close (fd);
      fd = -1;
    }
  while (fd >= 0 && (gsize) written < len)
    {
      gssize n = write (fd, code + written, len - written);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      written += n;
    }
  if (fd >= 0)
    close (fd);
  if (fd < 0 || (gsize) written != len)
    {
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_FAILED,
                   "Cannot write the code to %s: %s; check the temporary directory", path,
                   g_strerror (errno));
      return NULL;
    }
  return g_steal_pointer (&path);
}

/* An interpreter that reports running out of memory hit the data limit. */
static gboolean
reports_out_of_memory (AgentExecExecutionResult *result)
{
  const char *err = agentexec_execution_result_get_stderr (result);

  return strstr (err, "MemoryError") != NULL ||
         strstr (err, "JavaScript heap out of memory") != NULL ||
         strstr (err, "Cannot allocate memory") != NULL ||
         strstr (err, "java.lang.OutOfMemoryError") != NULL;
}

static void
settle_once (AgentExecLocalProcess *process,
             AgentExecLocalEnd end,
             AgentExecExecutionResult *result)
{
  gboolean failed;

  _agentexec_local_process_fill_result (process, result);
  if (end == AGENTEXEC_LOCAL_END_TIMEOUT)
    _agentexec_execution_result_set_outcome (result, AGENTEXEC_OUTCOME_DEADLINE_EXCEEDED);
  else if (end == AGENTEXEC_LOCAL_END_CANCELLED)
    _agentexec_execution_result_set_outcome (result, AGENTEXEC_OUTCOME_CANCELLED);
  failed = agentexec_execution_result_get_exit_code (result) != 0 ||
           agentexec_execution_result_get_signal (result) != 0;
  /* A refused fork or an OOM kill counts even when the main process exited
   * 0: the code's other processes were cut short. */
  if (end == AGENTEXEC_LOCAL_END_EXITED &&
      (_agentexec_local_process_hit_limit (process) || (failed && reports_out_of_memory (result))))
    _agentexec_execution_result_set_outcome (result, AGENTEXEC_OUTCOME_RESOURCE_EXHAUSTED);
}

static AgentExecExecutionResult *
run_once (AgentExecLocalExecutor *self,
          RunSettings *s,
          AgentExecExecutionInput *input,
          const char *language,
          const char *interpreter,
          gint64 deadline,
          GCancellable *cancellable,
          const AgentExecLocalStream *stream,
          GError **error)
{
  g_autofree char *root = NULL;
  g_autofree char *work = NULL;
  g_autofree char *script = NULL;
  g_autoptr (GHashTable) before = NULL;
  g_autoptr (AgentExecLocalProcess) process = NULL;
  g_autoptr (AgentExecLocalSandboxPlan) sandbox = NULL;
  g_autoptr (AgentExecExecutionResult) result = NULL;
  g_auto (GStrv) argv = NULL;
  g_auto (GStrv) envp = NULL;
  AgentExecLocalEnd end;

  /* As root, in a private directory: a uid of its own (a given work-dir
   * stays the caller's, so there cgroups bound the code). A sandbox never
   * runs the code as root. */
  s->limits.uid = s->work_dir == NULL || s->sandboxed ? _agentexec_local_uid_acquire () : -1;
  if (s->sandboxed && !check_sandbox_uid (s, error))
    return NULL;
  root = make_root (s->limits.uid, s->sandboxed, error);
  if (root == NULL ||
      (s->sandboxed && (sandbox = new_sandbox (s, root, interpreter, error)) == NULL))
    goto fail;
  work = s->work_dir != NULL ? g_strdup (s->work_dir) : g_build_filename (root, "work", NULL);
  if (!_agentexec_local_write_input_files (work, agentexec_execution_input_get_files (input),
                                           s->limits.uid, error) ||
      (script = write_script (root, language, agentexec_execution_input_get_code (input), error)) ==
          NULL)
    goto fail;
  before = _agentexec_local_snapshot (work);
  argv = build_argv (language, interpreter, script, input);
  envp = build_env (s, input, root, work);
  process =
      _agentexec_local_process_spawn ((const char *const *) argv, (const char *const *) envp, work,
                                      &s->limits, sandbox, FALSE, s->max_output_bytes, error);
  if (process == NULL)
    goto fail;
  end = _agentexec_local_process_wait (process, deadline, s->kill_grace_ms, cancellable, stream,
                                       NULL, NULL);
  result = _agentexec_execution_result_new_empty ();
  settle_once (process, end, result);
  g_clear_pointer (&process, _agentexec_local_process_free);
  g_clear_pointer (&sandbox, _agentexec_local_sandbox_free);
  /* Waiting for the process swept its uid (SIGKILL) already. */
  _agentexec_local_uid_release (s->limits.uid, TRUE);
  _agentexec_local_collect_outputs (work, before, MAX_OUTPUT_FILES_BYTES, result);
  _agentexec_local_remove_tree (root);
  return g_steal_pointer (&result);

fail:
  g_clear_pointer (&process, _agentexec_local_process_free);
  g_clear_pointer (&sandbox, _agentexec_local_sandbox_free);
  _agentexec_local_uid_release (s->limits.uid, s->sandboxed);
  _agentexec_local_remove_tree (root);
  return NULL;
}

/* Stateful runs */

static char *
session_key (AgentExecExecutorContext *context,
             AgentExecExecutionInput *input,
             const char *language)
{
  const char *id = agentexec_execution_input_get_execution_id (input);
  g_autofree char *from_context = NULL;

  if (id == NULL && context != NULL)
    id = from_context = agentexec_executor_context_get_execution_id (context);
  return g_strdup_printf ("%s\x1f%s", language, id != NULL ? id : "");
}

static AgentExecExecutionResult *
run_in_session (AgentExecLocalExecutor *self,
                RunSettings *s,
                AgentExecExecutorContext *context,
                AgentExecExecutionInput *input,
                const char *language,
                const char *interpreter,
                gint64 deadline,
                GCancellable *cancellable,
                const AgentExecLocalStream *stream,
                GError **error)
{
  g_autofree char *key = session_key (context, input, language);
  SessionEntry *entry = lookup_session (self, key);
  AgentExecExecutionResult *result = NULL;

  g_mutex_lock (&entry->lock);
  if (entry->session != NULL && !_agentexec_local_session_is_usable (entry->session))
    g_clear_pointer (&entry->session, _agentexec_local_session_free);
  if (entry->session == NULL)
    {
      g_autofree char *root = NULL;
      g_autofree char *work = NULL;
      g_auto (GStrv) envp = NULL;

      /* A session always has a private directory, so always its own uid.
       * RLIMIT_CPU would add up over the session's life: the timeout of each
       * run bounds it instead. */
      AgentExecLocalSandboxPlan *sandbox = NULL;

      s->limits.uid = _agentexec_local_uid_acquire ();
      s->limits.max_cpu_seconds = 0;
      g_clear_pointer (&s->work_dir, g_free); /* a session always has its own */
      root = check_sandbox_uid (s, error) ? make_root (s->limits.uid, s->sandboxed, error) : NULL;
      if (root != NULL && s->sandboxed)
        sandbox = new_sandbox (s, root, interpreter, error);
      if (root != NULL && (sandbox != NULL || !s->sandboxed))
        {
          work = g_build_filename (root, "work", NULL);
          envp = build_env (s, input, root, work);
          /* The session owns the uid and the sandbox from here on, also
           * when it fails. */
          entry->session = _agentexec_local_session_new (
              language, interpreter, (const char *const *) envp, root, &s->limits, sandbox,
              s->max_output_bytes, cancellable, error);
          if (entry->session == NULL)
            _agentexec_local_remove_tree (root);
        }
      else
        {
          _agentexec_local_uid_release (s->limits.uid, s->sandboxed);
          _agentexec_local_remove_tree (root);
        }
    }
  if (entry->session != NULL)
    result = _agentexec_local_session_run (entry->session, input, deadline, s->kill_grace_ms,
                                           cancellable, stream, error);
  entry->last_used = g_get_monotonic_time ();
  g_mutex_unlock (&entry->lock);
  session_entry_unref (entry);
  return result;
}

static AgentExecExecutionResult *
agentexec_local_executor_run (AgentExecBaseExecutor *base,
                              AgentExecExecutorContext *context,
                              AgentExecExecutionInput *input,
                              const char *language,
                              GCancellable *cancellable,
                              GError **error)
{
  AgentExecLocalExecutor *self = AGENTEXEC_LOCAL_EXECUTOR (base);
  AgentExecLocalStream stream = { AGENTEXEC_CODE_EXECUTOR (self), input,
                                  _agentexec_code_executor_get_output_context () };
  g_auto (RunSettings) s = { 0 };
  g_autofree char *interpreter = NULL;
  guint timeout_ms = _agentexec_base_executor_effective_timeout_ms (base, input);
  gint64 deadline = timeout_ms > 0 ? g_get_monotonic_time () + (gint64) timeout_ms * 1000 : 0;

  read_settings (self, &s);
  s.limits.uid = -1;
  interpreter = resolve_interpreter (self, language, error);
  if (interpreter == NULL)
    return NULL;
  if (agentexec_base_executor_get_stateful (base))
    return run_in_session (self, &s, context, input, language, interpreter, deadline, cancellable,
                           &stream, error);
  return run_once (self, &s, input, language, interpreter, deadline, cancellable, &stream, error);
}

static void
agentexec_local_executor_close (AgentExecBaseExecutor *base)
{
  end_sessions (AGENTEXEC_LOCAL_EXECUTOR (base), 0);
}

static void
agentexec_local_executor_end_session (AgentExecBaseExecutor *base, const char *execution_id)
{
  end_sessions_of (AGENTEXEC_LOCAL_EXECUTOR (base), 0, execution_id);
}

/* GObject */

static gboolean
agentexec_local_executor_initable_init (GInitable *initable,
                                        GCancellable *cancellable,
                                        GError **error)
{
  AgentExecLocalExecutor *self = AGENTEXEC_LOCAL_EXECUTOR (initable);

  if (self->sandbox == AGENTEXEC_LOCAL_SANDBOX_NAMESPACES)
    {
      if (!_agentexec_local_sandbox_check (error))
        return FALSE;
    }
  else if (!self->allow_unsafe)
    {
      g_set_error_literal (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_UNSAFE_NOT_ALLOWED,
                           "With sandbox set to none, the local executor runs model-written "
                           "code directly on this host with your user's rights: the code can "
                           "read and change your files, start programs and use the network. "
                           "Set allow-unsafe to TRUE only for trusted code on a disposable "
                           "machine; otherwise keep the default sandbox (namespaces) or use "
                           "the container executor (AgentExecContainerExecutor), which runs "
                           "the code in an isolated container");
      return FALSE;
    }
  _agentexec_base_executor_set_initialized (AGENTEXEC_BASE_EXECUTOR (self), TRUE);
  return TRUE;
}

static void
initable_iface_init (GInitableIface *iface)
{
  iface->init = agentexec_local_executor_initable_init;
}

static void
agentexec_local_executor_dispose (GObject *object)
{
  AgentExecLocalExecutor *self = AGENTEXEC_LOCAL_EXECUTOR (object);

  g_mutex_lock (&self->lock);
  self->disposing = TRUE;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  if (self->reaper != NULL)
    g_clear_pointer (&self->reaper, g_thread_join);
  end_sessions (self, 0);

  G_OBJECT_CLASS (agentexec_local_executor_parent_class)->dispose (object);
}

static void
agentexec_local_executor_finalize (GObject *object)
{
  AgentExecLocalExecutor *self = AGENTEXEC_LOCAL_EXECUTOR (object);

  g_clear_pointer (&self->work_dir, g_free);
  g_clear_pointer (&self->env_allow_list, g_strfreev);
  g_clear_pointer (&self->interpreters, g_hash_table_unref);
  g_clear_pointer (&self->sessions, g_hash_table_unref);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);

  G_OBJECT_CLASS (agentexec_local_executor_parent_class)->finalize (object);
}

static void
agentexec_local_executor_get_property (GObject *object,
                                       guint prop_id,
                                       GValue *value,
                                       GParamSpec *pspec)
{
  AgentExecLocalExecutor *self = AGENTEXEC_LOCAL_EXECUTOR (object);

  g_mutex_lock (&self->lock);
  switch (prop_id)
    {
    case PROP_ALLOW_UNSAFE:
      g_value_set_boolean (value, self->allow_unsafe);
      break;
    case PROP_WORK_DIR:
      g_value_set_string (value, self->work_dir);
      break;
    case PROP_ENVIRONMENT_ALLOW_LIST:
      g_value_set_boxed (value, self->env_allow_list);
      break;
    case PROP_MAX_MEMORY_BYTES:
      g_value_set_uint64 (value, self->limits.max_memory_bytes);
      break;
    case PROP_MAX_CPU_SECONDS:
      g_value_set_uint (value, self->limits.max_cpu_seconds);
      break;
    case PROP_MAX_PROCESSES:
      g_value_set_uint (value, self->limits.max_processes);
      break;
    case PROP_MAX_FILE_BYTES:
      g_value_set_uint64 (value, self->limits.max_file_bytes);
      break;
    case PROP_MAX_OPEN_FILES:
      g_value_set_uint (value, self->limits.max_open_files);
      break;
    case PROP_SESSION_IDLE_TIMEOUT_MS:
      g_value_set_uint (value, self->session_idle_timeout_ms);
      break;
    case PROP_KILL_GRACE_MS:
      g_value_set_uint (value, self->kill_grace_ms);
      break;
    case PROP_SANDBOX:
      g_value_set_enum (value, self->sandbox);
      break;
    case PROP_NETWORK:
      g_value_set_boolean (value, self->network);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
  g_mutex_unlock (&self->lock);
}

static void
agentexec_local_executor_set_property (GObject *object,
                                       guint prop_id,
                                       const GValue *value,
                                       GParamSpec *pspec)
{
  AgentExecLocalExecutor *self = AGENTEXEC_LOCAL_EXECUTOR (object);

  g_mutex_lock (&self->lock);
  switch (prop_id)
    {
    case PROP_ALLOW_UNSAFE:
      self->allow_unsafe = g_value_get_boolean (value);
      break;
    case PROP_WORK_DIR:
      g_free (self->work_dir);
      self->work_dir = g_value_dup_string (value);
      break;
    case PROP_ENVIRONMENT_ALLOW_LIST:
      g_strfreev (self->env_allow_list);
      self->env_allow_list = g_value_get_boxed (value) != NULL
                                 ? g_value_dup_boxed (value)
                                 : g_strdupv ((char **) default_env_allow_list);
      break;
    case PROP_MAX_MEMORY_BYTES:
      self->limits.max_memory_bytes = g_value_get_uint64 (value);
      break;
    case PROP_MAX_CPU_SECONDS:
      self->limits.max_cpu_seconds = g_value_get_uint (value);
      break;
    case PROP_MAX_PROCESSES:
      self->limits.max_processes = g_value_get_uint (value);
      break;
    case PROP_MAX_FILE_BYTES:
      self->limits.max_file_bytes = g_value_get_uint64 (value);
      break;
    case PROP_MAX_OPEN_FILES:
      self->limits.max_open_files = g_value_get_uint (value);
      break;
    case PROP_SESSION_IDLE_TIMEOUT_MS:
      self->session_idle_timeout_ms = g_value_get_uint (value);
      g_cond_broadcast (&self->cond);
      break;
    case PROP_KILL_GRACE_MS:
      self->kill_grace_ms = g_value_get_uint (value);
      break;
    case PROP_SANDBOX:
      self->sandbox = g_value_get_enum (value);
      break;
    case PROP_NETWORK:
      self->network = g_value_get_boolean (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
  g_mutex_unlock (&self->lock);
}

static void
agentexec_local_executor_class_init (AgentExecLocalExecutorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  AgentExecBaseExecutorClass *base_class = AGENTEXEC_BASE_EXECUTOR_CLASS (klass);
  GParamFlags flags = G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS;

  object_class->dispose = agentexec_local_executor_dispose;
  object_class->finalize = agentexec_local_executor_finalize;
  object_class->get_property = agentexec_local_executor_get_property;
  object_class->set_property = agentexec_local_executor_set_property;
  base_class->run = agentexec_local_executor_run;
  base_class->close = agentexec_local_executor_close;
  base_class->end_session = agentexec_local_executor_end_session;

  /**
   * AgentExecLocalExecutor:allow-unsafe:
   *
   * The opt-in for [property@AgentExec.LocalExecutor:sandbox] `none`: the
   * executor can then only be created when this is %TRUE, because the code
   * runs on the host with the caller's rights. The sandbox needs no opt-in.
   *
   * Since: 1.0
   */
  properties[PROP_ALLOW_UNSAFE] =
      g_param_spec_boolean ("allow-unsafe", NULL, NULL, FALSE,
                            G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * AgentExecLocalExecutor:work-dir:
   *
   * A directory to run one-shot code in, instead of a fresh temporary one
   * per run; it is kept afterwards, and runs at the same time share it. The
   * code keeps the caller's uid there. %NULL (the default): a temporary
   * directory with a uid of its own (as root), removed after the run.
   *
   * Since: 1.0
   */
  properties[PROP_WORK_DIR] = g_param_spec_string ("work-dir", NULL, NULL, NULL, flags);

  /**
   * AgentExecLocalExecutor:environment-allow-list:
   *
   * The variables of the caller's environment that the code sees (besides
   * `HOME` and `TMPDIR`, which point into the run's private directory, or
   * in the sandbox `TMPDIR=/tmp`, its private tmpfs, and the input's `env`). %NULL restores the
   * default: `PATH`, the locale variables, `TZ`, `TERM`, `USER`, `LOGNAME`.
   *
   * Since: 1.0
   */
  properties[PROP_ENVIRONMENT_ALLOW_LIST] =
      g_param_spec_boxed ("environment-allow-list", NULL, NULL, G_TYPE_STRV, flags);

  /**
   * AgentExecLocalExecutor:max-memory-bytes:
   *
   * The memory each process of a run may use (RLIMIT_DATA; for a root run
   * in a given work-dir, also a memory cgroup for the whole run; 0: no
   * limit). The default is 1 GiB.
   *
   * Since: 1.0
   */
  properties[PROP_MAX_MEMORY_BYTES] = g_param_spec_uint64 (
      "max-memory-bytes", NULL, NULL, 0, G_MAXUINT64, G_GUINT64_CONSTANT (1) << 30, flags);

  /**
   * AgentExecLocalExecutor:max-cpu-seconds:
   *
   * The CPU time a one-shot run may use, in seconds (RLIMIT_CPU; 0: no
   * limit). Stateful sessions rely on the timeout instead.
   *
   * Since: 1.0
   */
  properties[PROP_MAX_CPU_SECONDS] =
      g_param_spec_uint ("max-cpu-seconds", NULL, NULL, 0, G_MAXUINT, 120, flags);

  /**
   * AgentExecLocalExecutor:max-processes:
   *
   * How many processes a run may have at once (RLIMIT_NPROC of the run's
   * own uid; for a root run in a given work-dir, a pids cgroup; 0: no
   * limit). Without root, RLIMIT_NPROC counts all processes of the user.
   *
   * Since: 1.0
   */
  properties[PROP_MAX_PROCESSES] =
      g_param_spec_uint ("max-processes", NULL, NULL, 0, G_MAXUINT, 256, flags);

  /**
   * AgentExecLocalExecutor:max-file-bytes:
   *
   * The largest file a run may write (RLIMIT_FSIZE; 0: no limit). The
   * default is 1 GiB.
   *
   * Since: 1.0
   */
  properties[PROP_MAX_FILE_BYTES] = g_param_spec_uint64 (
      "max-file-bytes", NULL, NULL, 0, G_MAXUINT64, G_GUINT64_CONSTANT (1) << 30, flags);

  /**
   * AgentExecLocalExecutor:max-open-files:
   *
   * How many files a process of the run may have open (RLIMIT_NOFILE; 0:
   * inherited).
   *
   * Since: 1.0
   */
  properties[PROP_MAX_OPEN_FILES] =
      g_param_spec_uint ("max-open-files", NULL, NULL, 0, G_MAXUINT, 1024, flags);

  /**
   * AgentExecLocalExecutor:session-idle-timeout-ms:
   *
   * A stateful session unused for this long ends (0: sessions end only
   * with [method@AgentExec.CodeExecutor.close]). The default is 10 minutes.
   *
   * Since: 1.0
   */
  properties[PROP_SESSION_IDLE_TIMEOUT_MS] =
      g_param_spec_uint ("session-idle-timeout-ms", NULL, NULL, 0, G_MAXUINT, 600000, flags);

  /**
   * AgentExecLocalExecutor:kill-grace-ms:
   *
   * At a timeout or cancellation, how long the code has between SIGTERM and
   * SIGKILL.
   *
   * Since: 1.0
   */
  properties[PROP_KILL_GRACE_MS] =
      g_param_spec_uint ("kill-grace-ms", NULL, NULL, 0, 60000, 200, flags);

  /**
   * AgentExecLocalExecutor:sandbox:
   *
   * How the code is isolated. %AGENTEXEC_LOCAL_SANDBOX_NAMESPACES (the
   * default) runs each run, and each stateful session for its whole life,
   * in new pid, mount, network, ipc, uts and cgroup namespaces (plus a user
   * namespace when the caller is not root), never as root and without
   * capabilities, with no_new_privs, a seccomp filter and a Landlock
   * ruleset, in a read-only minimal view of the file system; construction
   * fails when the kernel refuses namespaces. %AGENTEXEC_LOCAL_SANDBOX_NONE
   * runs the code directly on the host and needs
   * [property@AgentExec.LocalExecutor:allow-unsafe].
   *
   * Since: 1.0
   */
  properties[PROP_SANDBOX] = g_param_spec_enum (
      "sandbox", NULL, NULL, AGENTEXEC_TYPE_LOCAL_SANDBOX, AGENTEXEC_LOCAL_SANDBOX_NAMESPACES,
      G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * AgentExecLocalExecutor:network:
   *
   * Whether sandboxed code may use the network. %FALSE (the default): the
   * sandbox has its own network namespace with only its own loopback
   * interface (nothing the host listens on, not even on 127.0.0.1, and no
   * DNS). %TRUE: the sandbox shares the host's network namespace, so the
   * code can reach every network the host can, including services that
   * listen on the host's loopback and abstract unix sockets, and sees the
   * host's `/etc/hosts` and `/etc/resolv.conf`. Without a sandbox the code
   * always has the host's network.
   *
   * Since: 1.0
   */
  properties[PROP_NETWORK] = g_param_spec_boolean ("network", NULL, NULL, FALSE, flags);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
agentexec_local_executor_init (AgentExecLocalExecutor *self)
{
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  self->interpreters = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->sessions =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) session_entry_unref);
}

/**
 * agentexec_local_executor_new:
 * @allow_unsafe: the opt-in for running unsandboxed (sandbox `none`); the
 *   default sandbox needs none
 * @error: return location for a #GError
 *
 * Creates a local executor with the default sandbox (`namespaces`). It
 * fails with %AGENTEXEC_ERROR_BACKEND_UNAVAILABLE when the kernel refuses
 * the sandbox's namespaces (the message names the cause and the fix).
 *
 * Returns: (transfer full): the executor, or %NULL with @error set
 *
 * Since: 1.0
 */
AgentExecLocalExecutor *
agentexec_local_executor_new (gboolean allow_unsafe, GError **error)
{
  return g_initable_new (AGENTEXEC_TYPE_LOCAL_EXECUTOR, NULL, error, "allow-unsafe", allow_unsafe,
                         NULL);
}

/**
 * agentexec_local_executor_get_allow_unsafe:
 * @self: a [class@AgentExec.LocalExecutor]
 *
 * Gets the [property@AgentExec.LocalExecutor:allow-unsafe] property.
 *
 * Gets the [property@AgentExec.LocalExecutor:allow-unsafe] property.
 *
 * Returns: the value of [property@AgentExec.LocalExecutor:allow-unsafe]
 *
 * Since: 1.0
 */
gboolean
agentexec_local_executor_get_allow_unsafe (AgentExecLocalExecutor *self)
{
  g_return_val_if_fail (AGENTEXEC_IS_LOCAL_EXECUTOR (self), FALSE);

  return self->allow_unsafe;
}

/**
 * agentexec_local_executor_get_sandbox:
 * @self: a [class@AgentExec.LocalExecutor]
 *
 * Gets how the executor isolates the code it runs.
 *
 * Returns: the value of [property@AgentExec.LocalExecutor:sandbox]
 *
 * Since: 1.0
 */
AgentExecLocalSandbox
agentexec_local_executor_get_sandbox (AgentExecLocalExecutor *self)
{
  g_return_val_if_fail (AGENTEXEC_IS_LOCAL_EXECUTOR (self), AGENTEXEC_LOCAL_SANDBOX_NONE);

  return self->sandbox;
}

/**
 * agentexec_local_executor_get_interpreter:
 * @self: a [class@AgentExec.LocalExecutor]
 * @language: a language name or alias
 *
 * Gets the interpreter command the executor runs for @language.
 *
 * Returns: (transfer full) (nullable): the path of the interpreter that runs
 *   @language, or %NULL when none is configured or found
 *
 * Since: 1.0
 */
char *
agentexec_local_executor_get_interpreter (AgentExecLocalExecutor *self, const char *language)
{
  const char *canonical;

  g_return_val_if_fail (AGENTEXEC_IS_LOCAL_EXECUTOR (self), NULL);
  g_return_val_if_fail (language != NULL, NULL);

  canonical = agentexec_language_resolve (language, NULL);
  return canonical != NULL ? resolve_interpreter (self, canonical, NULL) : NULL;
}

/**
 * agentexec_local_executor_set_interpreter:
 * @self: a [class@AgentExec.LocalExecutor]
 * @language: a language name or alias
 * @path: (nullable): the interpreter: an absolute path or a program name
 *   looked up in `/usr/local/bin:/usr/bin:/bin` then `PATH`; %NULL restores
 *   the default (`python3`, `node`, `bash`, `Rscript`, `java`)
 * @error: return location for a #GError
 *
 * Chooses the program that runs @language. Stateful sessions already
 * running keep their interpreter.
 *
 * Returns: %TRUE, or %FALSE with %AGENTEXEC_ERROR_UNSUPPORTED_LANGUAGE when
 *   @language is unknown
 *
 * Since: 1.0
 */
gboolean
agentexec_local_executor_set_interpreter (AgentExecLocalExecutor *self,
                                          const char *language,
                                          const char *path,
                                          GError **error)
{
  const char *canonical;

  g_return_val_if_fail (AGENTEXEC_IS_LOCAL_EXECUTOR (self), FALSE);
  g_return_val_if_fail (language != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  canonical = agentexec_language_resolve (language, error);
  if (canonical == NULL)
    return FALSE;
  g_mutex_lock (&self->lock);
  if (path != NULL)
    g_hash_table_insert (self->interpreters, g_strdup (canonical), g_strdup (path));
  else
    g_hash_table_remove (self->interpreters, canonical);
  g_mutex_unlock (&self->lock);
  return TRUE;
}

/**
 * agentexec_local_executor_get_session_count:
 * @self: a [class@AgentExec.LocalExecutor]
 *
 * Gets the number of stateful sessions the executor holds.
 *
 * Returns: how many stateful sessions the executor holds (running, idle,
 *   or being ended: a session counts until its processes are gone)
 *
 * Since: 1.0
 */
guint
agentexec_local_executor_get_session_count (AgentExecLocalExecutor *self)
{
  guint count;

  g_return_val_if_fail (AGENTEXEC_IS_LOCAL_EXECUTOR (self), 0);

  g_mutex_lock (&self->lock);
  count = g_hash_table_size (self->sessions) + self->n_ending;
  g_mutex_unlock (&self->lock);
  return count;
}
