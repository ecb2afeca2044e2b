/* gst-femo: output files that appear whole or not at all
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A temporary file beside the output's path (same directory, so the rename
 * is atomic) is created at once, which also proves the directory writable
 * (missing directories are created first, as mkdir -p does);
 * commit renames it to the path, discard deletes it.
 */
#pragma once

#include <glib.h>
#include <stdio.h>

G_BEGIN_DECLS

typedef struct _FemoOutputFile FemoOutputFile;

FemoOutputFile *femo_output_file_new (const gchar * path, GError ** error);
/* Where to write (e.g. a filesink location). */
const gchar *femo_output_file_get_temp_path (const FemoOutputFile * file);
/* A stdio stream on the temporary file, opened on first call. */
FILE *femo_output_file_get_stream (FemoOutputFile * file, GError ** error);
/* Closes the stream (a write error fails the commit) and renames; frees
 * @file in every case, deleting the temporary file on failure. */
gboolean femo_output_file_commit (FemoOutputFile * file, GError ** error);
/* Deletes the temporary file and frees @file; NULL is ignored. */
void femo_output_file_discard (FemoOutputFile * file);

/* Whether @a and @b name the same file (the same path, or the same inode). */
gboolean femo_same_file (const gchar * a, const gchar * b);

G_END_DECLS
