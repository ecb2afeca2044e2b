/* gst-femo: output files that appear whole or not at all (see femo-output.h)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "femo-output.h"

#include <glib/gstdio.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

gboolean
femo_same_file (const gchar * a, const gchar * b)
{
  GStatBuf sa, sb;

  if (strcmp (a, b) == 0)
    return TRUE;
  return g_stat (a, &sa) == 0 && g_stat (b, &sb) == 0 &&
      sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

struct _FemoOutputFile
{
  gchar *path;
  gchar *temp_path;
  FILE *stream;
};

FemoOutputFile *
femo_output_file_new (const gchar * path, GError ** error)
{
  g_autofree gchar *dir = g_path_get_dirname (path);
  g_autofree gchar *base = g_path_get_basename (path);
  g_autofree gchar *name = g_strdup_printf (".%s.XXXXXX.part", base);
  FemoOutputFile *file;
  gint fd;

  if (g_file_test (path, G_FILE_TEST_IS_DIR)) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_ISDIR,
        "cannot write %s: it is a directory", path);
    return NULL;
  }
  if (g_mkdir_with_parents (dir, 0777) != 0) {
    int e = errno;
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (e),
        "cannot write %s: cannot create %s: %s", path, dir, g_strerror (e));
    return NULL;
  }
  file = g_new0 (FemoOutputFile, 1);
  file->path = g_strdup (path);
  file->temp_path = g_build_filename (dir, name, NULL);
  /* 0666 less the umask, as for any new file (g_mkstemp gives 0600) */
  fd = g_mkstemp_full (file->temp_path, O_RDWR, 0666);
  if (fd < 0) {
    int e = errno;
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (e),
        "cannot write %s: %s", path, g_strerror (e));
    g_free (file->temp_path);
    g_free (file->path);
    g_free (file);
    return NULL;
  }
  close (fd);
  return file;
}

const gchar *
femo_output_file_get_temp_path (const FemoOutputFile * file)
{
  return file->temp_path;
}

FILE *
femo_output_file_get_stream (FemoOutputFile * file, GError ** error)
{
  if (file->stream == NULL) {
    file->stream = g_fopen (file->temp_path, "w");
    if (file->stream == NULL) {
      int e = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (e),
          "cannot write %s: %s", file->path, g_strerror (e));
    }
  }
  return file->stream;
}

static void
output_file_free (FemoOutputFile * file)
{
  g_free (file->temp_path);
  g_free (file->path);
  g_free (file);
}

gboolean
femo_output_file_commit (FemoOutputFile * file, GError ** error)
{
  int e = 0;

  if (file->stream) {
    gboolean failed = ferror (file->stream);
    if (fclose (file->stream) != 0 || failed)
      e = errno ? errno : EIO;
    file->stream = NULL;
  }
  if (e == 0 && g_rename (file->temp_path, file->path) != 0)
    e = errno;
  if (e != 0) {
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (e),
        "cannot write %s: %s", file->path, g_strerror (e));
    g_unlink (file->temp_path);
  }
  output_file_free (file);
  return e == 0;
}

void
femo_output_file_discard (FemoOutputFile * file)
{
  if (file == NULL)
    return;
  if (file->stream)
    fclose (file->stream);
  g_unlink (file->temp_path);
  output_file_free (file);
}
