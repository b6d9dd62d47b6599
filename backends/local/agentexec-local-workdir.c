/* agentexec-local-workdir.c: input and output files of a host run
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every path is opened component by component from the work directory with
 * O_NOFOLLOW, so a symbolic link planted by the code (or a name with
 * "..") can never make us write or read outside the work directory.
 */

#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agentexec-execution-result-private.h"
#include "agentexec-file-private.h"
#include "agentexec-local-workdir-private.h"

#define MAX_SCAN_ENTRIES 10000
#define MAX_SCAN_DEPTH 16

/* Opens (creating when asked) the directory holding @name's last component;
 * returns its fd and points @leaf at that component. */
static int
open_parent (
    int root_fd, const char *name, gboolean create, gint64 owner, const char **leaf, GError **error)
{
  g_auto (GStrv) parts = g_strsplit (name, "/", -1);
  guint n = g_strv_length (parts);
  int fd = dup (root_fd);

  for (guint i = 0; fd >= 0 && i + 1 < n; i++)
    {
      /* Explicit modes: the caller's umask (077 in a pod) must not lock the
       * run's own uid out of its input files. */
      gboolean made =
          create && mkdirat (fd, parts[i], 0755) == 0 && fchmodat (fd, parts[i], 0755, 0) == 0;
      int next = -1;

      /* A folder that could not be made (or given to @owner) is not the
       * file's place: never fall back to writing it higher up. */
      if ((create && !made && errno != EEXIST) ||
          (made && owner >= 0 &&
           fchownat (fd, parts[i], (uid_t) owner, (gid_t) owner, AT_SYMLINK_NOFOLLOW) != 0))
        next = -1;
      else
        next = openat (fd, parts[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      close (fd);
      fd = next;
    }
  if (fd < 0 || n == 0)
    {
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_INVALID_INPUT,
                   "Cannot place file “%s” in the work directory (%s): a folder on its "
                   "path is missing, not a folder, or a symbolic link",
                   name, g_strerror (errno));
      if (fd >= 0)
        close (fd);
      return -1;
    }
  *leaf = name + strlen (name) - strlen (parts[n - 1]);
  return fd;
}

static gboolean
write_all (int fd, const guint8 *data, gsize len)
{
  while (len > 0)
    {
      gssize n = write (fd, data, len);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      data += n;
      len -= n;
    }
  return TRUE;
}

static gboolean
write_one (int root_fd, AgentExecFile *file, gint64 owner, GError **error)
{
  const char *name = agentexec_file_get_name (file);
  GBytes *content = agentexec_file_get_content (file);
  const char *leaf;
  gsize len = 0;
  const guint8 *data = content != NULL ? g_bytes_get_data (content, &len) : NULL;
  int dir_fd, fd;
  gboolean ok;

  if (!_agentexec_file_validate_name (name, error))
    return FALSE;
  dir_fd = open_parent (root_fd, name, TRUE, owner, &leaf, error);
  if (dir_fd < 0)
    return FALSE;
  fd = openat (dir_fd, leaf, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
  close (dir_fd);
  ok = fd >= 0 && fchmod (fd, 0644) == 0 && write_all (fd, data, len) &&
       (owner < 0 || fchown (fd, (uid_t) owner, (gid_t) owner) == 0);
  if (fd >= 0)
    close (fd);
  if (!ok)
    g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_INVALID_INPUT,
                 "Could not write input file “%s” (%s): check the name and free space", name,
                 g_strerror (errno));
  return ok;
}

/*
 * _agentexec_local_write_input_files:
 * @files: (element-type AgentExecFile) (nullable): the files
 *
 * @owner: the uid (and gid) that gets the files and folders, -1 to keep ours
 *
 * Writes the input files into @work_dir, creating folders as needed.
 */
gboolean
_agentexec_local_write_input_files (const char *work_dir,
                                    GPtrArray *files,
                                    gint64 owner,
                                    GError **error)
{
  int root_fd;
  gboolean ok = TRUE;

  if (files == NULL || files->len == 0)
    return TRUE;
  root_fd = open (work_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0)
    {
      g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_FAILED,
                   "Cannot open the work directory %s: %s", work_dir, g_strerror (errno));
      return FALSE;
    }
  for (guint i = 0; ok && i < files->len; i++)
    ok = write_one (root_fd, g_ptr_array_index (files, i), owner, error);
  close (root_fd);
  return ok;
}

typedef void (*VisitFunc) (
    int dir_fd, const char *leaf, const char *relative, const struct stat *st, gpointer data);

/* Walks regular files under @dir_fd without following links. */
static void
walk (int dir_fd, const char *prefix, guint depth, guint *budget, VisitFunc visit, gpointer data)
{
  DIR *dir = fdopendir (dir_fd);
  struct dirent *entry;

  if (dir == NULL)
    {
      close (dir_fd);
      return;
    }
  while ((entry = readdir (dir)) != NULL && *budget > 0)
    {
      g_autofree char *relative = NULL;
      struct stat st;

      if (g_str_equal (entry->d_name, ".") || g_str_equal (entry->d_name, ".."))
        continue;
      if (fstatat (dirfd (dir), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        continue;
      (*budget)--;
      relative = prefix[0] != '\0' ? g_strconcat (prefix, "/", entry->d_name, NULL)
                                   : g_strdup (entry->d_name);
      if (S_ISREG (st.st_mode))
        visit (dirfd (dir), entry->d_name, relative, &st, data);
      else if (S_ISDIR (st.st_mode) && depth < MAX_SCAN_DEPTH)
        {
          int sub =
              openat (dirfd (dir), entry->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

          if (sub >= 0)
            walk (sub, relative, depth + 1, budget, visit, data);
        }
    }
  closedir (dir);
}

static void
walk_root (const char *work_dir, VisitFunc visit, gpointer data)
{
  int fd = open (work_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  guint budget = MAX_SCAN_ENTRIES;

  if (fd >= 0)
    walk (fd, "", 0, &budget, visit, data);
}

static char *
stamp (const struct stat *st)
{
  return g_strdup_printf ("%" G_GINT64_FORMAT ":%ld.%09ld:%lu", (gint64) st->st_size,
                          (long) st->st_mtim.tv_sec, (long) st->st_mtim.tv_nsec,
                          (unsigned long) st->st_ino);
}

static void
snapshot_visit (
    int dir_fd, const char *leaf, const char *relative, const struct stat *st, gpointer data)
{
  g_hash_table_insert (data, g_strdup (relative), stamp (st));
}

/*
 * _agentexec_local_snapshot:
 *
 * Returns: (transfer full): relative path → size, mtime and inode of every
 *   regular file under @work_dir (links not followed)
 */
GHashTable *
_agentexec_local_snapshot (const char *work_dir)
{
  GHashTable *table = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  walk_root (work_dir, snapshot_visit, table);
  return table;
}

typedef struct
{
  GHashTable *before;
  AgentExecExecutionResult *result;
  guint64 budget;
  GPtrArray *names;
} Collect;

/* Reads at most @size bytes (a file may shrink or grow while we read). */
static GBytes *
read_all (int fd, gsize size)
{
  g_autoptr (GByteArray) data = g_byte_array_sized_new (size);
  guint8 buffer[65536];

  while (data->len < size)
    {
      gssize n = read (fd, buffer, MIN (sizeof buffer, size - data->len));

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      g_byte_array_append (data, buffer, n);
    }
  return g_byte_array_free_to_bytes (g_steal_pointer (&data));
}

static void
collect_visit (
    int dir_fd, const char *leaf, const char *relative, const struct stat *st, gpointer data)
{
  Collect *c = data;
  g_autofree char *now = stamp (st);
  const char *then = g_hash_table_lookup (c->before, relative);
  g_autoptr (GBytes) content = NULL;
  g_autoptr (AgentExecFile) file = NULL;
  int fd;

  if (then != NULL && g_str_equal (then, now))
    return;
  if ((guint64) st->st_size > c->budget || !_agentexec_file_validate_name (relative, NULL))
    {
      g_ptr_array_add (c->names, g_strdup (relative));
      return;
    }
  fd = openat (dir_fd, leaf, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return;
  content = read_all (fd, st->st_size);
  close (fd);
  if (g_bytes_get_size (content) == 0)
    {
      /* An empty GBytes may hold a NULL pointer; MIME sniffing wants one. */
      g_bytes_unref (content);
      content = g_bytes_new_static ("", 0);
    }
  c->budget -= g_bytes_get_size (content);
  file = agentexec_file_new (relative, NULL, content);
  _agentexec_execution_result_add_output_file (c->result, file);
}

/*
 * _agentexec_local_collect_outputs:
 * @before: the snapshot taken before the run
 * @max_total_bytes: how much file content a result may carry
 *
 * Adds the files that are new or changed since @before to @result as output
 * files (MIME type guessed from name and content). Files past the size
 * budget are named in a note on stdout instead.
 */
void
_agentexec_local_collect_outputs (const char *work_dir,
                                  GHashTable *before,
                                  guint64 max_total_bytes,
                                  AgentExecExecutionResult *result)
{
  g_autoptr (GPtrArray) skipped = g_ptr_array_new_with_free_func (g_free);
  Collect c = { before, result, max_total_bytes, skipped };

  walk_root (work_dir, collect_visit, &c);
  if (skipped->len > 0)
    {
      g_autoptr (GString) note = g_string_new (agentexec_execution_result_get_stdout (result));
      g_autofree char *names = NULL;

      g_ptr_array_add (skipped, NULL);
      names = g_strjoinv (", ", (char **) skipped->pdata);
      if (note->len > 0 && note->str[note->len - 1] != '\n')
        g_string_append_c (note, '\n');
      g_string_append_printf (note,
                              "[agentexec: output files not returned (past the size "
                              "budget, or an unusable name): %s]\n",
                              names);
      _agentexec_execution_result_set_stdout (result, note->str, note->len);
    }
}

static int
remove_entry (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  if (flag == FTW_DP)
    rmdir (path);
  else
    unlink (path);
  return 0;
}

/* Removes @path and everything under it, without following links. */
void
_agentexec_local_remove_tree (const char *path)
{
  if (path != NULL)
    nftw (path, remove_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}
