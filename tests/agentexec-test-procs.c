/* agentexec-test-procs.c: looking for processes of this host from a test
 * (shared by the local, sandbox and server suites)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agentexec-test-procs.h"

/**
 * agentexec_test_command_alive:
 * @marker: a string only the processes looked for carry in their arguments
 *
 * Returns: whether a live (not zombie) process of this host other than the
 *   test itself has @marker in its command line (sandboxed code has pids of
 *   its own namespace, so a marker is how a test finds it)
 */
gboolean
agentexec_test_command_alive (const char *marker)
{
  g_autoptr (GDir) dir = g_dir_open ("/proc", 0, NULL);
  const char *name;

  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = NULL;
      g_autofree char *cmdline = NULL;
      g_autofree char *stat = NULL;
      gsize len;

      if (!g_ascii_isdigit (name[0]) || atoi (name) == getpid ())
        continue;
      path = g_build_filename ("/proc", name, "cmdline", NULL);
      if (!g_file_get_contents (path, &cmdline, &len, NULL) || len == 0)
        continue;
      for (gsize i = 0; i + 1 < len; i++)
        if (cmdline[i] == '\0')
          cmdline[i] = ' ';
      g_free (path);
      path = g_build_filename ("/proc", name, "stat", NULL);
      if (strstr (cmdline, marker) != NULL && g_file_get_contents (path, &stat, NULL, NULL) &&
          strstr (stat, ") Z ") == NULL)
        return TRUE;
    }
  return FALSE;
}
