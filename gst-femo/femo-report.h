/* gst-femo: what the user commands share: faces read from ROI metas,
 * outputs written atomically, per-face rows (CSV, JSON lines), the emotion
 * plot (SVG) and the per-track summary, and running a pipeline to its end.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>
#include <stdio.h>

G_BEGIN_DECLS

/* More classes than any emotion model has; the rest are ignored. */
#define FEMO_REPORT_MAX_CLASSES 16

/* One face of a frame as its ROI meta describes it. Strings are interned
 * (g_intern_string) and so outlive the buffer. */
typedef struct
{
  guint x, y, width, height;
  guint track_id;               /* 0: not tracked */
  const gchar *label;           /* NULL: the face has no emotion */
  gdouble confidence;
  const gchar *raw_label;       /* NULL: no raw (unsmoothed) output */
  gdouble raw_confidence;
  guint n_classes;
  const gchar *class_names[FEMO_REPORT_MAX_CLASSES];
  gdouble probs[FEMO_REPORT_MAX_CLASSES];
} FemoFace;

/* Appends to @faces (a GArray of FemoFace) every face ROI meta of @buf, in
 * meta order; returns how many. */
guint femo_face_read_all (GstBuffer * buf, GArray * faces);

/* Writes @s as a JSON string (quoted, escaped); NULL as null. */
void femo_json_write_string (FILE * out, const gchar * s);

/* ---- femodetect's settings as command-line options ---- */
typedef struct
{
  gchar *cascade, *model;       /* NULL: the element's default */
  gdouble scale_factor;         /* 0: default */
  gint min_neighbors, min_size; /* < 0: default */
  gint threads;                 /* < 0: default (one per core) */
} FemoDetectOptions;

#define FEMO_DETECT_OPTIONS_INIT { NULL, NULL, 0.0, -1, -1, -1 }

void femo_detect_options_apply (const FemoDetectOptions * o,
    GstElement * detect);
void femo_detect_options_clear (FemoDetectOptions * o);
/* Adds --model, --cascade, --scale-factor, --min-neighbors, --min-size and
 * --threads to the main group of @ctx, and GStreamer's options; parses
 * (femo_cli_parse) and checks the values; FALSE after printing the usage
 * error (exit status 2). */
gboolean femo_detect_options_parse (GOptionContext * ctx,
    FemoDetectOptions * o, int *argc, char ***argv);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (FemoDetectOptions, femo_detect_options_clear)

/* Whether @a and @b name the same file (the same path, or the same inode). */
gboolean femo_same_file (const gchar * a, const gchar * b);

/* ---- outputs that appear whole or not at all ----
 *
 * A temporary file beside @path (same directory, so the rename is atomic)
 * is created at once, which also proves the directory writable; commit
 * renames it to @path, discard deletes it. */
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

/* ---- the per-frame report of gst-femo video ---- */
typedef struct _FemoReport FemoReport;

/* Rows go to @csv and @jsonl (either may be NULL) as frames are added. The
 * CSV header names the classes, so rows wait until a face carries them (or
 * until enough faces show that none will). */
FemoReport *femo_report_new (FILE * csv, FILE * jsonl);
void femo_report_add_frame (FemoReport * report, guint64 frame,
    gdouble pts_s, const FemoFace * faces, guint n_faces);
/* Writes the rows still waiting; FALSE when a stream had a write error. */
gboolean femo_report_finish (FemoReport * report);
/* Emotion probabilities over time, one panel per track, one series per
 * class. @frame_duration_s (> 0) tells gaps from consecutive frames. */
void femo_report_write_svg (FemoReport * report, FILE * out,
    const gchar * title, gdouble frame_duration_s);
void femo_report_print_summary (FemoReport * report, FILE * out);
void femo_report_free (FemoReport * report);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FemoReport, femo_report_free)

/* ---- running a pipeline ---- */

/* Called on the first Ctrl-C (SIGINT/SIGTERM) to stop cleanly, typically by
 * sending EOS; a second one makes femo_pipeline_run() fail at once. */
typedef void (*FemoStopFunc) (gpointer user_data);

/* Plays @pipeline until EOS. @tick (may be NULL) is called every 250 ms.
 * On failure returns FALSE with @error holding one line for the user,
 * naming @input: a missing decoder (from missing-plugin messages), an
 * unknown file type, or the first error message. *@interrupted tells
 * whether the user stopped the run. */
gboolean femo_pipeline_run (GstElement * pipeline, const gchar * input,
    FemoStopFunc stop, GSourceFunc tick, gpointer user_data,
    gboolean * interrupted, GError ** error);

/* FALSE + @error when femodetect or femooverlay cannot be found. */
gboolean femo_check_plugin (GError ** error);

/* The media type of a file from its first bytes ("video/quicktime",
 * "image/jpeg", ...), or NULL when GStreamer cannot tell. */
gchar *femo_typefind_file (const gchar * path);

G_END_DECLS
