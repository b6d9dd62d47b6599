/* agentexec-local-spares.c: what the Local backend's runs need, made ahead
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A one-shot run needs a private directory (its root: the script, `work`,
 * and `tmp` outside the sandbox), and as root a network namespace of its
 * own; and it leaves its directory behind. On ext4 every directory made or
 * removed costs ~0.1 ms and a network namespace ~0.6 ms of a 14 ms Python
 * run, so one executor's spares make them on a thread of their own while
 * the code runs: a run takes a spare root (and namespace) made before it,
 * and its used root is removed after its result is back. A run that finds
 * no spare makes its own, as before; nothing is shared between runs.
 *
 * Spares are made for the kinds of runs the executor has had, at most a
 * few of each; the last reference removes them, and every root still
 * waiting for removal, before it returns. The view's mount point of the
 * sandbox (one empty directory per executor: each run mounts its view on
 * it in a mount namespace of its own) lives here too.
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agentexec-enums.h"
#include "agentexec-local-spares-private.h"
#include "agentexec-local-workdir-private.h"

/* Spares kept of each kind. */
#define SPARE_ROOTS 2
#define SPARE_NETNS 2
/* Used roots waiting for the thread: past this, a run removes its own. */
#define MAX_DOOMED 64

struct _AgentExecLocalSpares
{
  GMutex lock;
  GCond cond;
  GThread *thread;
  gboolean stopping;
  GQueue roots[2];    /* spare roots (char *), [sandboxed] */
  gboolean wanted[2]; /* the kind was taken once: keep spares of it */
  GQueue doomed;      /* used roots (char *) to remove */
  GQueue netns;       /* spare network namespaces, GINT_TO_POINTER (fd + 1) */
  gboolean netns_wanted;
  gboolean netns_refused; /* unshare() refused: the runs make their own */
  char *mount_point;
};

/* Roots */

/* A root, owned by the caller and closed to others (0700): `work`, and
 * `tmp` unless @sandboxed (there /tmp is private already, and HOME). */
static char *
make_root (gboolean sandboxed, GError **error)
{
  g_autofree char *root = g_dir_make_tmp ("agentexec-XXXXXX", error);
  const char *subdirs[] = { "work", "tmp" };

  if (root == NULL)
    return NULL;
  for (guint i = 0; i < G_N_ELEMENTS (subdirs) - (sandboxed ? 1 : 0); i++)
    {
      g_autofree char *dir = g_build_filename (root, subdirs[i], NULL);

      if (mkdir (dir, 0700) != 0)
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

/* Hands @root to @owner (a run's uid; -1: the caller keeps it). */
static gboolean
own_root (const char *root, gint64 owner, gboolean sandboxed, GError **error)
{
  const char *subdirs[] = { "work", "tmp" };

  if (owner < 0)
    return TRUE;
  for (guint i = 0; i < G_N_ELEMENTS (subdirs) - (sandboxed ? 1 : 0); i++)
    {
      g_autofree char *dir = g_build_filename (root, subdirs[i], NULL);

      if (chown (dir, (uid_t) owner, (gid_t) owner) != 0)
        {
          g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_FAILED,
                       "Cannot give %s to the run's uid %" G_GINT64_FORMAT ": %s", dir, owner,
                       g_strerror (errno));
          return FALSE;
        }
    }
  /* The run's uid reaches its folders and the script, and nothing else. */
  if (chmod (root, 0755) != 0)
    {
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_FAILED,
                   "Cannot open %s to the run's uid: %s", root, g_strerror (errno));
      return FALSE;
    }
  return TRUE;
}

/* Network namespaces */

/* A new network namespace (only a loopback, down), made on this thread and
 * left at once: unshare() moves the calling thread only. As root only. */
static int
make_netns (int home)
{
  int fd;

  if (home < 0 || unshare (CLONE_NEWNET) != 0)
    return -1;
  fd = open ("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (setns (home, CLONE_NEWNET) != 0)
    g_debug ("agentexec: the local spares' thread stays in a spare network namespace: %s",
             g_strerror (errno));
  return fd;
}

/* The thread */

/* Under the lock: the next thing to do, done without it. */
static gboolean
do_one (AgentExecLocalSpares *self, int home_net)
{
  for (int kind = 0; kind < 2; kind++)
    if (self->wanted[kind] && self->roots[kind].length < SPARE_ROOTS)
      {
        char *root;

        g_mutex_unlock (&self->lock);
        root = make_root (kind, NULL);
        g_mutex_lock (&self->lock);
        if (root != NULL)
          g_queue_push_tail (&self->roots[kind], root);
        else
          self->wanted[kind] = FALSE; /* the runs will say why */
        return TRUE;
      }
  if (self->netns_wanted && !self->netns_refused && self->netns.length < SPARE_NETNS)
    {
      int fd;

      g_mutex_unlock (&self->lock);
      fd = make_netns (home_net);
      g_mutex_lock (&self->lock);
      if (fd >= 0)
        g_queue_push_tail (&self->netns, GINT_TO_POINTER (fd + 1));
      else
        self->netns_refused = TRUE;
      return TRUE;
    }
  if (self->doomed.length > 0)
    {
      g_autofree char *root = g_queue_pop_head (&self->doomed);

      g_mutex_unlock (&self->lock);
      _agentexec_local_remove_tree (root);
      g_mutex_lock (&self->lock);
      return TRUE;
    }
  return FALSE;
}

static gpointer
spares_thread (gpointer data)
{
  AgentExecLocalSpares *self = data;
  int home_net = geteuid () == 0 ? open ("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC) : -1;

  g_mutex_lock (&self->lock);
  while (!self->stopping)
    if (!do_one (self, home_net))
      g_cond_wait (&self->cond, &self->lock);
  g_mutex_unlock (&self->lock);
  if (home_net >= 0)
    close (home_net);
  return NULL;
}

/* Under the lock: wakes the thread, started at the first need. */
static void
wake (AgentExecLocalSpares *self)
{
  if (self->thread == NULL && !self->stopping)
    self->thread = g_thread_try_new ("agentexec-local-spares", spares_thread, self, NULL);
  g_cond_signal (&self->cond);
}

/* The object */

AgentExecLocalSpares *
_agentexec_local_spares_new (void)
{
  AgentExecLocalSpares *self = g_atomic_rc_box_new0 (AgentExecLocalSpares);

  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  return self;
}

AgentExecLocalSpares *
_agentexec_local_spares_ref (AgentExecLocalSpares *self)
{
  return g_atomic_rc_box_acquire (self);
}

static void
spares_clear (gpointer data)
{
  AgentExecLocalSpares *self = data;
  char *root;
  gpointer fd;

  g_mutex_lock (&self->lock);
  self->stopping = TRUE;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  if (self->thread != NULL)
    g_thread_join (g_steal_pointer (&self->thread));
  for (int kind = 0; kind < 2; kind++)
    while ((root = g_queue_pop_head (&self->roots[kind])) != NULL)
      {
        _agentexec_local_remove_tree (root);
        g_free (root);
      }
  while ((root = g_queue_pop_head (&self->doomed)) != NULL)
    {
      _agentexec_local_remove_tree (root);
      g_free (root);
    }
  while ((fd = g_queue_pop_head (&self->netns)) != NULL)
    close (GPOINTER_TO_INT (fd) - 1);
  if (self->mount_point != NULL)
    rmdir (self->mount_point);
  g_free (self->mount_point);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
}

/* The last reference removes every spare and every used root left. */
void
_agentexec_local_spares_unref (AgentExecLocalSpares *self)
{
  g_atomic_rc_box_release_full (self, spares_clear);
}

/*
 * _agentexec_local_spares_take_root:
 * @owner: the run's uid, which gets `work` (and `tmp`); -1: the caller's
 * @sandboxed: a root for the sandbox (no `tmp`: the sandbox has its own)
 *
 * Returns: (transfer full): a fresh root for one run or session, or %NULL
 *   with @error set; give it back with _agentexec_local_spares_drop_root()
 */
char *
_agentexec_local_spares_take_root (AgentExecLocalSpares *self,
                                   gint64 owner,
                                   gboolean sandboxed,
                                   GError **error)
{
  g_autofree char *root = NULL;

  g_mutex_lock (&self->lock);
  root = g_queue_pop_head (&self->roots[sandboxed ? 1 : 0]);
  self->wanted[sandboxed ? 1 : 0] = TRUE;
  wake (self);
  g_mutex_unlock (&self->lock);
  if (root == NULL && (root = make_root (sandboxed, error)) == NULL)
    return NULL;
  if (!own_root (root, owner, sandboxed, error))
    {
      _agentexec_local_spares_drop_root (self, g_steal_pointer (&root));
      return NULL;
    }
  return g_steal_pointer (&root);
}

/*
 * _agentexec_local_spares_drop_root:
 * @root: (transfer full) (nullable): a root taken from @self, its processes gone
 *
 * Closes @root to everyone but the caller at once, so that its uid may go
 * to the next run right after, and removes it later.
 */
void
_agentexec_local_spares_drop_root (AgentExecLocalSpares *self, char *root)
{
  if (root == NULL)
    return;
  if (chmod (root, 0700) != 0)
    g_debug ("agentexec: cannot close %s: %s", root, g_strerror (errno));
  g_mutex_lock (&self->lock);
  if (self->thread != NULL && !self->stopping && self->doomed.length < MAX_DOOMED)
    {
      g_queue_push_tail (&self->doomed, root);
      root = NULL;
      wake (self);
    }
  g_mutex_unlock (&self->lock);
  if (root != NULL)
    {
      _agentexec_local_remove_tree (root);
      g_free (root);
    }
}

/*
 * _agentexec_local_spares_get_mount_point:
 *
 * Returns: (transfer none): an empty directory the sandbox's runs mount
 *   their views on (each in its own mount namespace), or %NULL with @error
 */
const char *
_agentexec_local_spares_get_mount_point (AgentExecLocalSpares *self, GError **error)
{
  const char *path;

  g_mutex_lock (&self->lock);
  if (self->mount_point == NULL)
    self->mount_point = g_dir_make_tmp ("agentexec-view-XXXXXX", error);
  path = self->mount_point;
  g_mutex_unlock (&self->lock);
  return path;
}

/*
 * _agentexec_local_spares_take_netns:
 *
 * Returns: (transfer full): a fresh network namespace (an fd of it, nobody
 *   in it yet), or -1 when there is none spare (the run makes its own); as
 *   root only
 */
int
_agentexec_local_spares_take_netns (AgentExecLocalSpares *self)
{
  gpointer fd;

  if (geteuid () != 0)
    return -1;
  g_mutex_lock (&self->lock);
  fd = g_queue_pop_head (&self->netns);
  self->netns_wanted = TRUE;
  wake (self);
  g_mutex_unlock (&self->lock);
  return fd != NULL ? GPOINTER_TO_INT (fd) - 1 : -1;
}
