/* agentexec-container-session.c: stateful sessions, one container each
 *
 * A session is one container per (execution-id, language) running the
 * language's persistent driver, attached over the Engine API: variables and
 * imports persist between runs, sessions share nothing. A session whose
 * container died (crash, timeout kill, memory limit) is restarted on its
 * next run, which then says that state was lost. Sessions idle longer than
 * `session-idle-timeout-ms` are removed by a reaper thread when their time
 * is up (whether or not the executor is used again, and without needing a
 * main loop), and on the executor's next run; at most `max-sessions` live
 * at once.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "agentexec-container-run-private.h"
#include "agentexec-container-session-private.h"

struct _AgentExecContainerSessions
{
  AgentExecContainerRuntime *runtime;
  GMutex lock;
  GCond cond;
  GHashTable *table; /* key → AgentExecContainerSession */
  guint idle_timeout_ms;
  GThread *reaper;
  GCond reaper_cond;   /* a session went idle, or stop */
  gint64 reaper_wakes; /* when the reaper wakes up next (G_MAXINT64: not before a signal) */
  gboolean stopping;
};

static void
session_drop_container (AgentExecContainerSessions *sessions, AgentExecContainerSession *session)
{
  if (session->warm == NULL)
    return;
  _agentexec_container_runtime_remove_later (sessions->runtime, session->warm->id);
  g_clear_pointer (&session->warm, _agentexec_warm_container_free);
}

static void
session_free (gpointer data)
{
  AgentExecContainerSession *session = data;

  g_clear_pointer (&session->warm, _agentexec_warm_container_free);
  g_hash_table_unref (session->known);
  g_free (session->stamp);
  g_free (session->key);
  g_free (session->language);
  g_free (session);
}

AgentExecContainerSessions *
_agentexec_container_sessions_new (AgentExecContainerRuntime *runtime)
{
  AgentExecContainerSessions *sessions = g_new0 (AgentExecContainerSessions, 1);

  sessions->runtime = runtime;
  g_mutex_init (&sessions->lock);
  g_cond_init (&sessions->cond);
  g_cond_init (&sessions->reaper_cond);
  sessions->table = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, session_free);
  return sessions;
}

/*
 * _agentexec_container_sessions_free:
 *
 * Removes every session's container (the caller made sure none is busy).
 */
void
_agentexec_container_sessions_free (AgentExecContainerSessions *sessions)
{
  GHashTableIter iter;
  gpointer value;

  _agentexec_container_sessions_stop_reaper (sessions);
  g_hash_table_iter_init (&iter, sessions->table);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    session_drop_container (sessions, value);
  g_hash_table_unref (sessions->table);
  g_mutex_clear (&sessions->lock);
  g_cond_clear (&sessions->cond);
  g_cond_clear (&sessions->reaper_cond);
  g_free (sessions);
}

/*
 * _agentexec_container_sessions_close:
 *
 * Removes every idle session and its container; a session in use is marked
 * lost (its run fails once close() removed the container).
 */
void
_agentexec_container_sessions_close (AgentExecContainerSessions *sessions)
{
  GHashTableIter iter;
  gpointer value;

  g_mutex_lock (&sessions->lock);
  g_hash_table_iter_init (&iter, sessions->table);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      AgentExecContainerSession *session = value;

      if (session->busy)
        {
          session->lost = TRUE;
          continue;
        }
      session_drop_container (sessions, session);
      g_hash_table_iter_remove (&iter);
    }
  g_mutex_unlock (&sessions->lock);
}

/*
 * _agentexec_container_sessions_end:
 *
 * Removes the sessions of @execution_id (every language) and their
 * containers, once a run in progress in one of them has been released.
 */
void
_agentexec_container_sessions_end (AgentExecContainerSessions *sessions, const char *execution_id)
{
  g_autofree char *prefix = g_strdup_printf ("%s/", execution_id);
  GHashTableIter iter;
  gpointer key, value;
  gboolean again = TRUE;

  g_mutex_lock (&sessions->lock);
  while (again)
    {
      again = FALSE;
      g_hash_table_iter_init (&iter, sessions->table);
      while (g_hash_table_iter_next (&iter, &key, &value))
        {
          AgentExecContainerSession *session = value;

          if (!g_str_has_prefix (key, prefix) || strchr ((char *) key + strlen (prefix), '/'))
            continue;
          if (session->busy)
            {
              g_cond_wait (&sessions->cond, &sessions->lock);
              again = TRUE;
              break;
            }
          session_drop_container (sessions, session);
          g_hash_table_iter_remove (&iter);
        }
    }
  g_mutex_unlock (&sessions->lock);
}

guint
_agentexec_container_sessions_count (AgentExecContainerSessions *sessions)
{
  guint n;

  g_mutex_lock (&sessions->lock);
  n = g_hash_table_size (sessions->table);
  g_mutex_unlock (&sessions->lock);
  return n;
}

/* Under the lock. */
static void
reap_idle (AgentExecContainerSessions *sessions, guint idle_timeout_ms)
{
  gint64 oldest = g_get_monotonic_time () - (gint64) idle_timeout_ms * 1000;
  GHashTableIter iter;
  gpointer value;

  if (idle_timeout_ms == 0)
    return;
  g_hash_table_iter_init (&iter, sessions->table);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      AgentExecContainerSession *session = value;

      if (session->busy || session->last_used > oldest)
        continue;
      g_debug ("Session %s was idle for more than %u ms: removing it", session->key,
               idle_timeout_ms);
      session_drop_container (sessions, session);
      g_hash_table_iter_remove (&iter);
    }
}

/* Under the lock: when the first idle session expires, G_MAXINT64 for never. */
static gint64
next_expiry (AgentExecContainerSessions *sessions)
{
  gint64 next = G_MAXINT64;
  GHashTableIter iter;
  gpointer value;

  if (sessions->idle_timeout_ms == 0)
    return next;
  g_hash_table_iter_init (&iter, sessions->table);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      AgentExecContainerSession *session = value;

      if (!session->busy && session->last_used != 0)
        next = MIN (next, session->last_used + (gint64) sessions->idle_timeout_ms * 1000);
    }
  return next;
}

/* Sleeps until the first idle session expires (or a change), reaps, again. */
static gpointer
reaper_thread (gpointer data)
{
  AgentExecContainerSessions *sessions = data;

  g_mutex_lock (&sessions->lock);
  while (!sessions->stopping)
    {
      gint64 next = next_expiry (sessions);

      sessions->reaper_wakes = next;
      if (next == G_MAXINT64)
        g_cond_wait (&sessions->reaper_cond, &sessions->lock);
      else if (!g_cond_wait_until (&sessions->reaper_cond, &sessions->lock, next))
        reap_idle (sessions, sessions->idle_timeout_ms);
    }
  g_mutex_unlock (&sessions->lock);
  return NULL;
}

/* Under the lock: a session went idle; start the reaper, or wake it when it
 * would sleep past this session's expiry (not after every run of a busy
 * session: a thread wake-up per run costs more than the run's own work). */
static void
notify_reaper (AgentExecContainerSessions *sessions, AgentExecContainerSession *session)
{
  gint64 expiry = session->last_used + (gint64) sessions->idle_timeout_ms * 1000;

  if (sessions->idle_timeout_ms == 0 || sessions->stopping)
    return;
  if (sessions->reaper == NULL)
    {
      sessions->reaper_wakes = 0; /* until it has computed its own */
      sessions->reaper = g_thread_new ("agentexec-reaper", reaper_thread, sessions);
    }
  if (expiry < sessions->reaper_wakes)
    g_cond_signal (&sessions->reaper_cond);
}

/*
 * _agentexec_container_sessions_stop_reaper:
 *
 * Stops the reaper thread for good (before the executor stops removing
 * containers). Sessions are still removed on the next run.
 */
void
_agentexec_container_sessions_stop_reaper (AgentExecContainerSessions *sessions)
{
  GThread *reaper;

  g_mutex_lock (&sessions->lock);
  sessions->stopping = TRUE;
  reaper = g_steal_pointer (&sessions->reaper);
  g_cond_broadcast (&sessions->reaper_cond);
  g_mutex_unlock (&sessions->lock);
  if (reaper != NULL)
    g_thread_join (reaper);
}

/* Under the lock: the session for @key, created if there is room. */
static AgentExecContainerSession *
find_or_add (AgentExecContainerSessions *sessions,
             const char *key,
             const char *language,
             guint max_sessions,
             GError **error)
{
  AgentExecContainerSession *session = g_hash_table_lookup (sessions->table, key);

  if (session != NULL)
    return session;
  if (max_sessions > 0 && g_hash_table_size (sessions->table) >= max_sessions)
    {
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_RESOURCE_LIMIT,
                   "There are already %u live container sessions (max-sessions): close the "
                   "executor, wait for idle sessions to be reaped, or raise max-sessions",
                   max_sessions);
      return NULL;
    }
  session = g_new0 (AgentExecContainerSession, 1);
  session->key = g_strdup (key);
  session->language = g_strdup (language);
  session->known =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_bytes_unref);
  g_hash_table_insert (sessions->table, session->key, session);
  return session;
}

/*
 * _agentexec_container_sessions_acquire:
 * @restarted: (out): set when the session had state that is now lost
 *
 * The session of @execution_id for @language, for the caller's exclusive
 * use (runs of one session wait for each other), with its container
 * running. Release it with _agentexec_container_sessions_release().
 */
AgentExecContainerSession *
_agentexec_container_sessions_acquire (AgentExecContainerSessions *sessions,
                                       const char *execution_id,
                                       const char *language,
                                       guint max_sessions,
                                       guint idle_timeout_ms,
                                       gboolean *restarted,
                                       GError **error)
{
  g_autofree char *key =
      g_strdup_printf ("%s/%s", execution_id != NULL ? execution_id : "", language);
  AgentExecContainerSession *session;
  AgentExecWarmContainer *warm;

  *restarted = FALSE;
  g_mutex_lock (&sessions->lock);
  sessions->idle_timeout_ms = idle_timeout_ms;
  reap_idle (sessions, idle_timeout_ms);
  while ((session = find_or_add (sessions, key, language, max_sessions, error)) != NULL &&
         session->busy)
    g_cond_wait (&sessions->cond, &sessions->lock);
  if (session != NULL)
    session->busy = TRUE;
  g_mutex_unlock (&sessions->lock);
  if (session == NULL || session->warm != NULL)
    return session;

  /* New, or lost: start its container outside the lock. */
  warm = _agentexec_container_warm_up (sessions->runtime, language, FALSE, error);
  if (warm == NULL)
    {
      _agentexec_container_sessions_release (sessions, session, FALSE);
      return NULL;
    }
  *restarted = session->lost;
  session->lost = FALSE;
  session->warm = warm;
  g_hash_table_remove_all (session->known);
  g_clear_pointer (&session->stamp, g_free);
  return session;
}

/*
 * _agentexec_container_sessions_release:
 * @lost: the container died or was killed: remove it; the next run
 *   restarts the session
 */
void
_agentexec_container_sessions_release (AgentExecContainerSessions *sessions,
                                       AgentExecContainerSession *session,
                                       gboolean lost)
{
  g_mutex_lock (&sessions->lock);
  if (lost && session->warm != NULL)
    {
      session_drop_container (sessions, session);
      session->lost = TRUE;
    }
  session->busy = FALSE;
  session->last_used = g_get_monotonic_time ();
  g_cond_broadcast (&sessions->cond);
  notify_reaper (sessions, session);
  g_mutex_unlock (&sessions->lock);
}
