/* agentexec-docker-archive.c: tar archives for the Engine API, via libarchive
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <string.h>

#include "agentexec-docker-archive-private.h"
#include "agentexec-enums.h"
#include "agentexec-file-private.h"

typedef struct archive ArchiveWrite;
typedef struct archive ArchiveRead;
typedef struct archive_entry ArchiveEntry;

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ArchiveWrite, archive_write_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ArchiveRead, archive_read_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ArchiveEntry, archive_entry_free)

static gboolean
archive_failed (struct archive *archive, const char *what, const char *name, GError **error)
{
  g_set_error (error, AGENTEXEC_ERROR, AGENTEXEC_ERROR_FAILED,
               "Could not %s “%s” in a tar archive: %s", what, name,
               archive_error_string (archive) != NULL ? archive_error_string (archive)
                                                      : "unknown libarchive error");
  return FALSE;
}

static gboolean
write_header (struct archive *archive,
              const char *name,
              mode_t type,
              int mode,
              gsize size,
              guint uid,
              guint gid,
              GError **error)
{
  g_autoptr (ArchiveEntry) entry = archive_entry_new ();

  archive_entry_set_pathname (entry, name);
  archive_entry_set_filetype (entry, type);
  archive_entry_set_perm (entry, mode);
  archive_entry_set_size (entry, (la_int64_t) size);
  archive_entry_set_uid (entry, uid);
  archive_entry_set_gid (entry, gid);
  archive_entry_set_mtime (entry, (time_t) (g_get_real_time () / G_USEC_PER_SEC), 0);
  if (archive_write_header (archive, entry) != ARCHIVE_OK)
    return archive_failed (archive, "add", name, error);
  return TRUE;
}

/* Parent directories first, each once, owned by the runner (so that the code
 * may write into them). */
static gboolean
write_parents (struct archive *archive,
               GHashTable *seen,
               const char *name,
               guint uid,
               guint gid,
               GError **error)
{
  g_autofree char *copy = g_strdup (name);

  for (char *slash = strchr (copy, '/'); slash != NULL; slash = strchr (slash + 1, '/'))
    {
      *slash = '\0';
      if (!g_hash_table_contains (seen, copy))
        {
          if (!write_header (archive, copy, AE_IFDIR, 0755, 0, uid, gid, error))
            return FALSE;
          g_hash_table_add (seen, g_strdup (copy));
        }
      *slash = '/';
    }
  return TRUE;
}

/*
 * _agentexec_docker_archive_pack:
 * @files: (element-type AgentExecFile): the files; names are validated
 *
 * A tar archive of @files (and their parent directories) owned by
 * @uid:@gid, for PUT /containers/{id}/archive.
 */
GBytes *
_agentexec_docker_archive_pack (GPtrArray *files, guint uid, guint gid, GError **error)
{
  /* Declared first so that it is freed after the archive that writes to it. */
  g_autofree guint8 *buffer = NULL;
  g_autoptr (ArchiveWrite) archive = archive_write_new ();
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  gsize total = 0;
  size_t used = 0;

  for (guint i = 0; i < files->len; i++)
    total += g_bytes_get_size (agentexec_file_get_content (g_ptr_array_index (files, i))) + 1024;
  total = total * 2 + 64 * 1024;
  buffer = g_malloc (total);
  archive_write_set_format_pax_restricted (archive);
  archive_write_set_bytes_in_last_block (archive, 1);
  if (archive_write_open_memory (archive, buffer, total, &used) != ARCHIVE_OK)
    {
      archive_failed (archive, "open", "memory", error);
      return NULL;
    }
  for (guint i = 0; i < files->len; i++)
    {
      AgentExecFile *file = g_ptr_array_index (files, i);
      const char *name = agentexec_file_get_name (file);
      gsize len;
      const void *data = g_bytes_get_data (agentexec_file_get_content (file), &len);

      if (!_agentexec_file_validate_name (name, error) ||
          !write_parents (archive, seen, name, uid, gid, error) ||
          !write_header (archive, name, AE_IFREG, 0644, len, uid, gid, error))
        return NULL;
      if (len > 0 && archive_write_data (archive, data, len) != (la_ssize_t) len)
        {
          archive_failed (archive, "write", name, error);
          return NULL;
        }
    }
  if (archive_write_close (archive) != ARCHIVE_OK)
    {
      archive_failed (archive, "finish", "memory", error);
      return NULL;
    }
  g_clear_pointer (&archive, archive_write_free);
  return g_bytes_new_take (g_realloc (g_steal_pointer (&buffer), MAX (used, 1)), used);
}

static char *
entry_name (const char *path, gboolean strip_first)
{
  const char *name = path;

  if (strip_first)
    {
      const char *slash = strchr (path, '/');

      if (slash == NULL)
        return NULL;
      name = slash + 1;
    }
  while (g_str_has_prefix (name, "./"))
    name += 2;
  if (name[0] == '\0' || !_agentexec_file_validate_name (name, NULL))
    return NULL;
  return g_strdup (name);
}

static GBytes *
read_content (struct archive *archive, const char *name, gint64 size, GError **error)
{
  g_autoptr (GByteArray) data =
      g_byte_array_sized_new (size > 0 ? (guint) MIN (size, G_MAXUINT) : 0);
  char buf[64 * 1024];
  la_ssize_t n;

  while ((n = archive_read_data (archive, buf, sizeof buf)) > 0)
    g_byte_array_append (data, (const guint8 *) buf, (guint) n);
  if (n < 0)
    {
      archive_failed (archive, "read", name, error);
      return NULL;
    }
  return g_byte_array_free_to_bytes (g_steal_pointer (&data));
}

/*
 * _agentexec_docker_archive_unpack:
 * @strip_first: drop the first path component (GET /archive prefixes the
 *   directory's own name)
 *
 * The regular files of a tar archive as AgentExecFile objects with guessed
 * MIME types. Directories, links and devices are skipped: a symlink is
 * never followed, so it cannot smuggle a host or container path out.
 *
 * Returns: (element-type AgentExecFile): the files
 */
GPtrArray *
_agentexec_docker_archive_unpack (GBytes *tar, gboolean strip_first, GError **error)
{
  g_autoptr (ArchiveRead) archive = archive_read_new ();
  g_autoptr (GPtrArray) files = g_ptr_array_new_with_free_func (g_object_unref);
  struct archive_entry *entry;
  gsize len;
  const void *data = g_bytes_get_data (tar, &len);
  int rc;

  archive_read_support_format_tar (archive);
  if (archive_read_open_memory (archive, data, len) != ARCHIVE_OK)
    {
      archive_failed (archive, "open", "answer", error);
      return NULL;
    }
  while ((rc = archive_read_next_header (archive, &entry)) == ARCHIVE_OK)
    {
      g_autofree char *name = entry_name (archive_entry_pathname (entry), strip_first);
      g_autoptr (GBytes) content = NULL;
      g_autofree char *mime = NULL;
      gsize size;
      const void *bytes;

      if (name == NULL || archive_entry_filetype (entry) != AE_IFREG)
        continue;
      content = read_content (archive, name, archive_entry_size (entry), error);
      if (content == NULL)
        return NULL;
      bytes = g_bytes_get_data (content, &size);
      mime = _agentexec_file_guess_mime (name, bytes, size);
      g_ptr_array_add (files, agentexec_file_new (name, mime, content));
    }
  if (rc != ARCHIVE_EOF)
    {
      archive_failed (archive, "read", "answer", error);
      return NULL;
    }
  return g_steal_pointer (&files);
}
