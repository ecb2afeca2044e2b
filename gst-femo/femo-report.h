/* gst-femo: the per-frame report of gst-femo video: per-face rows (CSV,
 * JSON lines) and per-track statistics (the summary, and what femo-plot.h
 * draws).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "femo-meta.h"

#include <stdio.h>

G_BEGIN_DECLS

/* Writes @s as a JSON string (quoted, escaped); NULL as null. */
void femo_json_write_string (FILE * out, const gchar * s);
/* Writes @v with 6 decimals, or null when it is negative (not known). */
void femo_json_write_number (FILE * out, gdouble v);
/* Writes the landmarks of @face as a JSON object {"left_eye": [x, y], ...}
 * (femo-meta.h's names and order), in pixels of the frame. */
void femo_json_write_landmarks (FILE * out, const FemoFaceInfo * face);

typedef struct _FemoReport FemoReport;

/* Rows go to @csv and @jsonl (either may be NULL) as frames are added. The
 * CSV header names the classes, so rows wait until a face carries them (or
 * until enough faces show that none will). */
FemoReport *femo_report_new (FILE * csv, FILE * jsonl);
void femo_report_add_frame (FemoReport * report, guint64 frame,
    gdouble pts_s, const FemoFaceInfo * faces, guint n_faces);
/* Writes the rows still waiting; FALSE when a stream had a write error. */
gboolean femo_report_finish (FemoReport * report);
void femo_report_print_summary (FemoReport * report, FILE * out);
void femo_report_free (FemoReport * report);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FemoReport, femo_report_free)

/* ---- per-track statistics ---- */

/* A track's probabilities in one frame: the sum over its faces there
 * (untracked faces all share track 0), in report class order. */
typedef struct
{
  gdouble t;
  guint n;
  gfloat sum[FEMO_FACE_INFO_MAX_CLASSES];
} FemoReportSample;

typedef struct
{
  guint id;
  gdouble first_s, last_s;
  guint64 last_frame;
  guint64 n_frames, n_faces;
  /* faces per winning class; [n_classes]: no or another label */
  guint64 counts[FEMO_FACE_INFO_MAX_CLASSES + 1];
  GArray *samples;              /* FemoReportSample, one per frame */
} FemoReportTrack;

/* The classes of the columns, in order; *@n_classes of them. */
const gchar *const *femo_report_get_classes (const FemoReport * report,
    guint * n_classes);
/* The timestamp of the last frame added, in seconds. */
gdouble femo_report_get_last_pts (const FemoReport * report);
/* The tracks (FemoReportTrack, owned by @report), most frames first, then
 * by id. */
GPtrArray *femo_report_get_tracks (const FemoReport * report);
/* "track N", or what track 0 holds. */
gchar *femo_report_track_title (const FemoReportTrack * track);
/* Index of the class @track's faces most often had as label, -1 when none
 * had one. */
gint femo_report_track_dominant (const FemoReport * report,
    const FemoReportTrack * track);

G_END_DECLS
