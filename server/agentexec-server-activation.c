/* agentexec-server-activation.c: listening sockets passed by systemd
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Socket activation, the sd_listen_fds() protocol without libsystemd: when
 * LISTEN_PID is this process and LISTEN_FDS is N, file descriptors 3 to
 * 3+N-1 are listening sockets. LISTEN_FDNAMES (colon separated, the
 * FileDescriptorName= of the socket unit) says which is which: "api" (or an
 * unnamed first one) serves the API, "health" GET /health only. The
 * variables are removed once read, and the descriptors made close-on-exec,
 * so that no code the server runs inherits them.
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "libagentexec.h"
#include "agentexec-server-activation-private.h"

#define FIRST_FD 3
#define MAX_FDS 2

static void
forget_environment (void)
{
  g_unsetenv ("LISTEN_PID");
  g_unsetenv ("LISTEN_FDS");
  g_unsetenv ("LISTEN_FDNAMES");
}

/* A listening stream socket at @fd, made close-on-exec. */
static GSocket *
take_socket (int fd, const char *name, GError **error)
{
  int listening = 0;
  socklen_t len = sizeof listening;
  g_autoptr (GError) local_error = NULL;
  GSocket *socket;

  if (fcntl (fd, F_SETFD, FD_CLOEXEC) < 0 ||
      getsockopt (fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0 || !listening)
    {
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_INVALID_INPUT,
                   "Socket activation: file descriptor %d (“%s”) is not a listening socket "
                   "(%s); the socket unit needs ListenStream=",
                   fd, name, errno != 0 ? g_strerror (errno) : "not listening");
      return NULL;
    }
  socket = g_socket_new_from_fd (fd, &local_error);
  if (socket == NULL)
    {
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_INVALID_INPUT,
                   "Socket activation: file descriptor %d (“%s”): %s", fd, name,
                   local_error->message);
      return NULL;
    }
  if (g_socket_get_socket_type (socket) != G_SOCKET_TYPE_STREAM)
    {
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_INVALID_INPUT,
                   "Socket activation: file descriptor %d (“%s”) is not a stream socket; the "
                   "socket unit needs ListenStream=",
                   fd, name);
      g_object_unref (socket);
      return NULL;
    }
  return socket;
}

static gboolean
read_count (guint *count, GError **error)
{
  const char *pid = g_getenv ("LISTEN_PID");
  const char *fds = g_getenv ("LISTEN_FDS");
  guint64 value;

  *count = 0;
  if (pid == NULL || fds == NULL)
    return TRUE;
  /* Meant for another process (a parent that did not clear them). */
  if (!g_ascii_string_to_unsigned (pid, 10, 1, G_MAXINT, &value, NULL) ||
      (pid_t) value != getpid ())
    return TRUE;
  if (!g_ascii_string_to_unsigned (fds, 10, 0, G_MAXINT, &value, NULL) || value > MAX_FDS)
    {
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_INVALID_INPUT,
                   "Socket activation: LISTEN_FDS=%s; agentexec serve takes one socket (the "
                   "API) or two (FileDescriptorName=api and health)",
                   fds);
      return FALSE;
    }
  *count = (guint) value;
  return TRUE;
}

/*
 * _agentexec_server_activation_take:
 * @activated: (out): whether sockets were passed to this process
 * @api: (out) (transfer full): the API's listening socket
 * @health: (out) (transfer full) (nullable): the /health one, if passed
 *
 * Returns: %FALSE with @error when what was passed cannot be used.
 */
gboolean
_agentexec_server_activation_take (gboolean *activated,
                                   GSocket **api,
                                   GSocket **health,
                                   GError **error)
{
  g_auto (GStrv) names = NULL;
  const char *names_value = g_getenv ("LISTEN_FDNAMES");
  guint count;

  *activated = FALSE;
  *api = *health = NULL;
  if (!read_count (&count, error))
    {
      forget_environment ();
      return FALSE;
    }
  if (names_value != NULL)
    names = g_strsplit (names_value, ":", -1);
  forget_environment ();
  if (count == 0)
    return TRUE;
  *activated = TRUE;
  for (guint i = 0; i < count; i++)
    {
      const char *name = names != NULL && i < g_strv_length (names) ? names[i] : "";
      GSocket **slot;

      if (g_str_equal (name, "health"))
        slot = health;
      else if (g_str_equal (name, "api") || (name[0] == '\0' && i == 0) ||
               g_str_has_suffix (name, ".socket"))
        slot = api;
      else
        {
          g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_INVALID_INPUT,
                       "Socket activation: a socket named “%s”; name them api and health "
                       "(FileDescriptorName=)",
                       name);
          goto fail;
        }
      if (*slot != NULL)
        {
          g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_INVALID_INPUT,
                       "Socket activation: two sockets for “%s”",
                       slot == health ? "health" : "api");
          goto fail;
        }
      *slot = take_socket (FIRST_FD + (int) i, name[0] != '\0' ? name : "api", error);
      if (*slot == NULL)
        goto fail;
    }
  if (*api == NULL)
    {
      g_set_error_literal (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_INVALID_INPUT,
                           "Socket activation: no socket for the API (name it api with "
                           "FileDescriptorName=, or pass it first)");
      goto fail;
    }
  return TRUE;

fail:
  g_clear_object (api);
  g_clear_object (health);
  return FALSE;
}
