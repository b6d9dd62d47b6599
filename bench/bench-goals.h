/* bench-goals.h: the goal rows of bench/run
 *
 * Each benchmark reports the rows of its goals with bench_goal (); when
 * bench/run drives it, AGENTEXEC_BENCH_GOALS names a file that collects
 * them (one line each: id, path, measured, goal, met or not met, separated
 * by tabs) and bench/run prints them all as one table at the end. Run on
 * its own, a benchmark prints each row as it goes.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <stdio.h>

#include <glib.h>

G_GNUC_PRINTF (5, 6)
static inline void
bench_goal (
    const char *id, const char *path, const char *goal, gboolean met, const char *format, ...)
{
  const char *file = g_getenv ("AGENTEXEC_BENCH_GOALS");
  g_autofree char *measured = NULL;
  va_list args;

  va_start (args, format);
  measured = g_strdup_vprintf (format, args);
  va_end (args);
  g_print ("goal: %s: %s (goal %s): %s\n", path, measured, goal, met ? "met" : "not met");
  if (file != NULL)
    {
      FILE *out = fopen (file, "a");

      if (out == NULL)
        return;
      fprintf (out, "%s\t%s\t%s\t%s\t%s\n", id, path, measured, goal, met ? "met" : "not met");
      fclose (out);
    }
}
