/* gst-femo: per-face rows (CSV, JSON lines) and per-track statistics
 * (see femo-report.h)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "femo-report.h"

#include <string.h>

void
femo_json_write_string (FILE * out, const gchar * s)
{
  if (s == NULL) {
    fputs ("null", out);
    return;
  }
  fputc ('"', out);
  for (; *s; s++) {
    guchar c = *s;
    if (c == '"' || c == '\\')
      fprintf (out, "\\%c", c);
    else if (c < 0x20)
      fprintf (out, "\\u%04x", c);
    else
      fputc (c, out);
  }
  fputc ('"', out);
}

void
femo_json_write_landmarks (FILE * out, const FemoFaceInfo * face)
{
  static const gchar *const names[FEMO_META_N_LANDMARKS] = {
    FEMO_META_LANDMARK_LEFT_EYE, FEMO_META_LANDMARK_RIGHT_EYE,
    FEMO_META_LANDMARK_NOSE, FEMO_META_LANDMARK_LEFT_MOUTH,
    FEMO_META_LANDMARK_RIGHT_MOUTH,
  };

  fputc ('{', out);
  for (guint k = 0; k < FEMO_META_N_LANDMARKS; k++)
    fprintf (out, "%s\"%s\": [%.1f, %.1f]", k ? ", " : "", names[k],
        face->landmarks[2 * k], face->landmarks[2 * k + 1]);
  fputc ('}', out);
}

/* Rows wait for the class names at most this many faces: a stream whose
 * first faces carry no emotion has none. */
#define MAX_PENDING_FACES 256

typedef struct
{
  guint64 frame;
  gdouble pts_s;
  FemoFaceInfo face;
} PendingRow;

struct _FemoReport
{
  FILE *csv, *jsonl;
  gboolean classes_known;
  guint n_classes;
  const gchar *classes[FEMO_FACE_INFO_MAX_CLASSES];
  GArray *pending;              /* PendingRow until the classes are known */
  GHashTable *tracks;           /* track id -> FemoReportTrack */
  guint64 n_frames, n_faces;
  gdouble last_pts_s;
};

static void
track_free (gpointer data)
{
  FemoReportTrack *t = data;
  g_array_unref (t->samples);
  g_free (t);
}

FemoReport *
femo_report_new (FILE * csv, FILE * jsonl)
{
  FemoReport *r = g_new0 (FemoReport, 1);

  r->csv = csv;
  r->jsonl = jsonl;
  r->pending = g_array_new (FALSE, FALSE, sizeof (PendingRow));
  r->tracks = g_hash_table_new_full (NULL, NULL, NULL, track_free);
  return r;
}

void
femo_report_free (FemoReport * report)
{
  if (report == NULL)
    return;
  g_array_unref (report->pending);
  g_hash_table_unref (report->tracks);
  g_free (report);
}

const gchar *const *
femo_report_get_classes (const FemoReport * r, guint * n_classes)
{
  *n_classes = r->n_classes;
  return r->classes;
}

gdouble
femo_report_get_last_pts (const FemoReport * r)
{
  return r->last_pts_s;
}

static gint
class_index (const FemoReport * r, const gchar * interned)
{
  for (guint k = 0; k < r->n_classes; k++)
    if (r->classes[k] == interned)
      return k;
  return -1;
}

static void
write_csv_header (FemoReport * r)
{
  if (r->csv == NULL)
    return;
  fputs ("frame,pts_s,track_id,x,y,width,height,detection_confidence,label,"
      "confidence,raw_label,raw_confidence", r->csv);
  for (guint k = 0; k < r->n_classes; k++)
    fprintf (r->csv, ",p_%s", r->classes[k]);
  fputc ('\n', r->csv);
}

static void
set_classes (FemoReport * r, const FemoFaceInfo * face)
{
  r->classes_known = TRUE;
  if (face) {
    r->n_classes = face->n_classes;
    memcpy (r->classes, face->class_names, sizeof (r->classes));
  }
  write_csv_header (r);
}

/* Labels are class names: no comma or quote to escape in practice, but a
 * model file may say otherwise. */
static void
write_csv_text (FILE * out, const gchar * s)
{
  if (s == NULL)
    return;
  if (strpbrk (s, ",\"\n\r") == NULL) {
    fputs (s, out);
    return;
  }
  fputc ('"', out);
  for (; *s; s++) {
    if (*s == '"')
      fputc ('"', out);
    fputc (*s, out);
  }
  fputc ('"', out);
}

static void
write_number_or_empty (FILE * out, gdouble v, gboolean json)
{
  if (v >= 0)
    fprintf (out, "%.6f", v);
  else if (json)
    fputs ("null", out);
}

void
femo_json_write_number (FILE * out, gdouble v)
{
  write_number_or_empty (out, v, TRUE);
}

static void
write_rows (FemoReport * r, guint64 frame, gdouble pts_s,
    const FemoFaceInfo * f, const gdouble * probs)
{
  if (r->csv) {
    fprintf (r->csv, "%" G_GUINT64_FORMAT ",%.3f,%u,%u,%u,%u,%u,", frame,
        pts_s, f->track_id, f->x, f->y, f->width, f->height);
    write_number_or_empty (r->csv, f->detection_confidence, FALSE);
    fputc (',', r->csv);
    write_csv_text (r->csv, f->label);
    fputc (',', r->csv);
    write_number_or_empty (r->csv, f->label ? f->confidence : -1, FALSE);
    fputc (',', r->csv);
    write_csv_text (r->csv, f->raw_label);
    fputc (',', r->csv);
    write_number_or_empty (r->csv, f->raw_label ? f->raw_confidence : -1,
        FALSE);
    for (guint k = 0; k < r->n_classes; k++) {
      fputc (',', r->csv);
      write_number_or_empty (r->csv, probs[k], FALSE);
    }
    fputc ('\n', r->csv);
  }
  if (r->jsonl) {
    fprintf (r->jsonl, "{\"frame\":%" G_GUINT64_FORMAT ",\"pts_s\":%.3f,"
        "\"track_id\":%u,\"x\":%u,\"y\":%u,\"width\":%u,\"height\":%u,"
        "\"detection_confidence\":", frame, pts_s, f->track_id, f->x, f->y,
        f->width, f->height);
    write_number_or_empty (r->jsonl, f->detection_confidence, TRUE);
    fputs (",\"label\":", r->jsonl);
    femo_json_write_string (r->jsonl, f->label);
    fputs (",\"confidence\":", r->jsonl);
    write_number_or_empty (r->jsonl, f->label ? f->confidence : -1, TRUE);
    fputs (",\"raw_label\":", r->jsonl);
    femo_json_write_string (r->jsonl, f->raw_label);
    fputs (",\"raw_confidence\":", r->jsonl);
    write_number_or_empty (r->jsonl, f->raw_label ? f->raw_confidence : -1,
        TRUE);
    for (guint k = 0; k < r->n_classes; k++) {
      g_autofree gchar *key = g_strconcat ("p_", r->classes[k], NULL);
      fputc (',', r->jsonl);
      femo_json_write_string (r->jsonl, key);
      fputc (':', r->jsonl);
      write_number_or_empty (r->jsonl, probs[k], TRUE);
    }
    /* last: the other names are the CSV's columns, in their order */
    if (f->has_landmarks) {
      fputs (",\"landmarks\":", r->jsonl);
      femo_json_write_landmarks (r->jsonl, f);
    }
    fputs ("}\n", r->jsonl);
  }
}

static FemoReportTrack *
get_track (FemoReport * r, guint id)
{
  FemoReportTrack *t = g_hash_table_lookup (r->tracks, GUINT_TO_POINTER (id));

  if (t == NULL) {
    t = g_new0 (FemoReportTrack, 1);
    t->id = id;
    t->last_frame = G_MAXUINT64;
    t->samples = g_array_new (FALSE, FALSE, sizeof (FemoReportSample));
    g_hash_table_insert (r->tracks, GUINT_TO_POINTER (id), t);
  }
  return t;
}

/* One face, its classes known: a row, and into its track's statistics. */
static void
emit_face (FemoReport * r, guint64 frame, gdouble pts_s, const FemoFaceInfo * f)
{
  gdouble probs[FEMO_FACE_INFO_MAX_CLASSES];
  FemoReportTrack *t = get_track (r, f->track_id);
  gint label = f->label ? class_index (r, f->label) : -1;
  FemoReportSample *s;

  /* a model with the classes in another order still lands in the columns */
  for (guint k = 0; k < r->n_classes; k++)
    probs[k] = -1.0;
  for (guint k = 0; k < f->n_classes; k++) {
    gint i = class_index (r, f->class_names[k]);
    if (i >= 0)
      probs[i] = f->probs[k];
  }
  write_rows (r, frame, pts_s, f, probs);

  if (t->last_frame != frame) {
    FemoReportSample empty = { 0, };
    if (t->n_frames == 0)
      t->first_s = pts_s;
    t->last_s = pts_s;
    t->last_frame = frame;
    t->n_frames++;
    empty.t = pts_s;
    g_array_append_val (t->samples, empty);
  }
  t->n_faces++;
  t->counts[label >= 0 ? (guint) label : r->n_classes]++;
  s = &g_array_index (t->samples, FemoReportSample, t->samples->len - 1);
  if (f->n_classes > 0) {
    s->n++;
    for (guint k = 0; k < r->n_classes; k++)
      s->sum[k] += MAX (probs[k], 0.0);
  }
}

static void
flush_pending (FemoReport * r)
{
  for (guint i = 0; i < r->pending->len; i++) {
    PendingRow *p = &g_array_index (r->pending, PendingRow, i);
    emit_face (r, p->frame, p->pts_s, &p->face);
  }
  g_array_set_size (r->pending, 0);
}

void
femo_report_add_frame (FemoReport * r, guint64 frame, gdouble pts_s,
    const FemoFaceInfo * faces, guint n_faces)
{
  r->n_frames++;
  r->last_pts_s = pts_s;
  for (guint i = 0; i < n_faces; i++) {
    const FemoFaceInfo *f = &faces[i];

    r->n_faces++;
    if (!r->classes_known && f->n_classes > 0) {
      set_classes (r, f);
      flush_pending (r);
    }
    if (r->classes_known) {
      emit_face (r, frame, pts_s, f);
      continue;
    }
    {
      PendingRow p = { frame, pts_s, *f };
      g_array_append_val (r->pending, p);
    }
    if (r->pending->len >= MAX_PENDING_FACES) {
      set_classes (r, NULL);
      flush_pending (r);
    }
  }
}

gboolean
femo_report_finish (FemoReport * r)
{
  if (!r->classes_known) {
    set_classes (r, NULL);
    flush_pending (r);
  }
  return !(r->csv && ferror (r->csv)) && !(r->jsonl && ferror (r->jsonl));
}

static gint
compare_tracks (gconstpointer a, gconstpointer b)
{
  const FemoReportTrack *ta = *(FemoReportTrack * const *) a;
  const FemoReportTrack *tb = *(FemoReportTrack * const *) b;

  /* most frames first, then by id */
  if (ta->n_frames != tb->n_frames)
    return ta->n_frames > tb->n_frames ? -1 : 1;
  return ta->id < tb->id ? -1 : ta->id > tb->id;
}

GPtrArray *
femo_report_get_tracks (const FemoReport * r)
{
  GPtrArray *tracks = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, r->tracks);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (tracks, value);
  g_ptr_array_sort (tracks, compare_tracks);
  return tracks;
}

gchar *
femo_report_track_title (const FemoReportTrack * t)
{
  if (t->id == 0)
    return g_strdup ("all faces (untracked)");
  return g_strdup_printf ("track %u", t->id);
}

gint
femo_report_track_dominant (const FemoReport * r, const FemoReportTrack * t)
{
  gint best = -1;

  for (guint k = 0; k < r->n_classes; k++)
    if (t->counts[k] > 0 && (best < 0 || t->counts[k] > t->counts[best]))
      best = k;
  return best;
}

/* Tracks listed in the summary; the rest (the shortest) are counted. */
#define MAX_SUMMARY_TRACKS 20

void
femo_report_print_summary (FemoReport * r, FILE * out)
{
  g_autoptr (GPtrArray) tracks = femo_report_get_tracks (r);

  fprintf (out, "%" G_GUINT64_FORMAT " frames, %" G_GUINT64_FORMAT
      " faces (%.2f per frame)\n", r->n_frames, r->n_faces,
      r->n_frames ? (gdouble) r->n_faces / r->n_frames : 0.0);
  for (guint i = 0; i < MIN (tracks->len, MAX_SUMMARY_TRACKS); i++) {
    const FemoReportTrack *t = g_ptr_array_index (tracks, i);
    g_autofree gchar *title = femo_report_track_title (t);
    gint best = femo_report_track_dominant (r, t);

    fprintf (out, "%s: %.2f s to %.2f s (%" G_GUINT64_FORMAT " frame%s)",
        title, t->first_s, t->last_s, t->n_frames, t->n_frames == 1 ? "" :
        "s");
    if (best < 0) {
      fprintf (out, ", no emotions\n");
      continue;
    }
    fprintf (out, ", mostly %s;", r->classes[best]);
    for (guint k = 0; k < r->n_classes; k++)
      if (t->counts[k] > 0)
        fprintf (out, " %s %.0f%%", r->classes[k],
            100.0 * t->counts[k] / t->n_faces);
    fputc ('\n', out);
  }
  if (tracks->len > MAX_SUMMARY_TRACKS)
    fprintf (out, "... and %u shorter tracks\n",
        tracks->len - MAX_SUMMARY_TRACKS);
}
