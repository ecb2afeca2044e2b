/* gst-femo: what the user commands share (see femo-report.h)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "femo-report.h"
#include "femo-cli.h"
#include "femo-meta.h"

#include <gst/video/video.h>
#include <gst/pbutils/missing-plugins.h>
#include <gst/base/gsttypefindhelper.h>
#include <glib/gstdio.h>
#include <glib-unix.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

/* ---- faces from metas ---- */

/* Label and confidence of an emotion structure; without a label field the
 * largest probability names the winner. Fills the classes when @face. */
static const gchar *
read_emotion (const GstStructure * s, gdouble * confidence, FemoFace * face)
{
  const gchar *label = gst_structure_get_string (s,
      FEMO_META_EMOTION_FIELD_LABEL);
  const gchar *best = NULL;
  gdouble best_p = -1.0;
  gint n = gst_structure_n_fields (s);

  if (!gst_structure_get_double (s, FEMO_META_EMOTION_FIELD_CONFIDENCE,
          confidence))
    *confidence = -1.0;
  for (gint i = 0; i < n; i++) {
    const gchar *name = gst_structure_nth_field_name (s, i);
    const GValue *v = gst_structure_get_value (s, name);
    gdouble p;

    if (!G_VALUE_HOLDS_DOUBLE (v) ||
        strcmp (name, FEMO_META_EMOTION_FIELD_CONFIDENCE) == 0)
      continue;
    p = g_value_get_double (v);
    if (p > best_p) {
      best_p = p;
      best = name;
    }
    if (face && face->n_classes < FEMO_REPORT_MAX_CLASSES) {
      face->class_names[face->n_classes] = g_intern_string (name);
      face->probs[face->n_classes++] = p;
    }
  }
  if (label == NULL) {
    label = best;
    *confidence = best_p;
  } else if (*confidence < 0 && best != NULL) {
    /* the contract makes the confidence optional: the label's probability */
    GValue const *v = gst_structure_get_value (s, label);
    if (v && G_VALUE_HOLDS_DOUBLE (v))
      *confidence = g_value_get_double (v);
  }
  return label ? g_intern_string (label) : NULL;
}

guint
femo_face_read_all (GstBuffer * buf, GArray * faces)
{
  GQuark face_type = g_quark_from_static_string (FEMO_META_ROI_TYPE_FACE);
  gpointer state = NULL;
  GstMeta *meta;
  guint n = 0;

  while ((meta = gst_buffer_iterate_meta_filtered (buf, &state,
              GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
    GstVideoRegionOfInterestMeta *roi = (GstVideoRegionOfInterestMeta *) meta;
    const GstStructure *emotion, *raw;
    FemoFace face = { 0, };

    if (roi->roi_type != face_type)
      continue;
    face.x = roi->x;
    face.y = roi->y;
    face.width = roi->w;
    face.height = roi->h;
    face.confidence = face.raw_confidence = -1.0;
    emotion = gst_video_region_of_interest_meta_get_param (roi,
        FEMO_META_EMOTION_PARAMS_NAME);
    if (emotion) {
      const GValue *track = gst_structure_get_value (emotion,
          FEMO_META_EMOTION_FIELD_TRACK_ID);
      face.label = read_emotion (emotion, &face.confidence, &face);
      if (track && G_VALUE_HOLDS_UINT (track))
        face.track_id = g_value_get_uint (track);
      else if (track && G_VALUE_HOLDS_INT (track))
        face.track_id = MAX (g_value_get_int (track), 0);
    }
    raw = gst_video_region_of_interest_meta_get_param (roi,
        FEMO_META_EMOTION_RAW_PARAMS_NAME);
    if (raw)
      face.raw_label = read_emotion (raw, &face.raw_confidence, NULL);
    g_array_append_val (faces, face);
    n++;
  }
  return n;
}

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

/* ---- detection options ---- */

static void
detect_options_add (GOptionContext * ctx, FemoDetectOptions * o)
{
  const GOptionEntry entries[] = {
    {"model", 0, 0, G_OPTION_ARG_FILENAME, &o->model,
        "Emotion model, safetensors (default: femodetect's)", "FILE"},
    {"cascade", 0, 0, G_OPTION_ARG_FILENAME, &o->cascade,
        "OpenCV face cascade XML (default: femodetect's)", "FILE"},
    {"scale-factor", 0, 0, G_OPTION_ARG_DOUBLE, &o->scale_factor,
        "Ratio between detection scales, 1.01 to 10 (default 1.1)", "F"},
    {"min-neighbors", 0, 0, G_OPTION_ARG_INT, &o->min_neighbors,
        "Detections needed to keep a face (default 3)", "N"},
    {"min-size", 0, 0, G_OPTION_ARG_INT, &o->min_size,
        "Smallest face in pixels (default 30)", "PX"},
    {"threads", 0, 0, G_OPTION_ARG_INT, &o->threads,
        "Threads to use (default: one per CPU core)", "N"},
    {NULL}
  };
  g_option_context_add_main_entries (ctx, entries, NULL);
}

/* FALSE + @error when a value is out of range. */
static gboolean
detect_options_check (const FemoDetectOptions * o, GError ** error)
{
  if (o->scale_factor != 0 && (o->scale_factor < 1.01 || o->scale_factor > 10))
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--scale-factor must be 1.01 to 10");
  else if (o->min_neighbors > 1000)
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--min-neighbors must be 0 to 1000");
  else if (o->threads > 256)
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--threads must be 0 to 256");
  else
    return TRUE;
  return FALSE;
}

gboolean
femo_detect_options_parse (GOptionContext * ctx, FemoDetectOptions * o,
    int *argc, char ***argv)
{
  g_autoptr (GError) error = NULL;

  detect_options_add (ctx, o);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!femo_cli_parse (ctx, argc, argv))
    return FALSE;
  if (!detect_options_check (o, &error)) {
    femo_cli_usage_error ((*argv)[0], "%s", error->message);
    return FALSE;
  }
  return TRUE;
}

void
femo_detect_options_apply (const FemoDetectOptions * o, GstElement * detect)
{
  g_object_set (detect, "post-messages", FALSE, NULL);
  if (o->cascade)
    g_object_set (detect, "cascade-file", o->cascade, NULL);
  if (o->model)
    g_object_set (detect, "model-file", o->model, NULL);
  if (o->scale_factor != 0)
    g_object_set (detect, "scale-factor", o->scale_factor, NULL);
  if (o->min_neighbors >= 0)
    g_object_set (detect, "min-neighbors", o->min_neighbors, NULL);
  if (o->min_size >= 0)
    g_object_set (detect, "min-size", o->min_size, NULL);
  if (o->threads >= 0)
    g_object_set (detect, "n-threads", (guint) o->threads, NULL);
}

void
femo_detect_options_clear (FemoDetectOptions * o)
{
  g_clear_pointer (&o->cascade, g_free);
  g_clear_pointer (&o->model, g_free);
}

gboolean
femo_same_file (const gchar * a, const gchar * b)
{
  GStatBuf sa, sb;

  if (strcmp (a, b) == 0)
    return TRUE;
  return g_stat (a, &sa) == 0 && g_stat (b, &sb) == 0 &&
      sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* ---- atomic outputs ---- */

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

/* ---- the report ---- */

/* Rows wait for the class names at most this many faces: a stream whose
 * first faces carry no emotion has none. */
#define MAX_PENDING_FACES 256

/* A track's probabilities in one frame: the sum over its faces there
 * (untracked faces all share track 0), in report class order. */
typedef struct
{
  gdouble t;
  guint n;
  gfloat sum[FEMO_REPORT_MAX_CLASSES];
} Sample;

typedef struct
{
  guint id;
  gdouble first_s, last_s;
  guint64 last_frame;
  guint64 n_frames, n_faces;
  /* faces per winning class; [n_classes]: no or another label */
  guint64 counts[FEMO_REPORT_MAX_CLASSES + 1];
  GArray *samples;
} Track;

typedef struct
{
  guint64 frame;
  gdouble pts_s;
  FemoFace face;
} PendingRow;

struct _FemoReport
{
  FILE *csv, *jsonl;
  gboolean classes_known;
  guint n_classes;
  const gchar *classes[FEMO_REPORT_MAX_CLASSES];
  GArray *pending;              /* PendingRow until the classes are known */
  GHashTable *tracks;           /* track id -> Track */
  guint64 n_frames, n_faces;
  gdouble last_pts_s;
};

static void
track_free (gpointer data)
{
  Track *t = data;
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
  fputs ("frame,pts_s,track_id,x,y,width,height,label,confidence,"
      "raw_label,raw_confidence", r->csv);
  for (guint k = 0; k < r->n_classes; k++)
    fprintf (r->csv, ",p_%s", r->classes[k]);
  fputc ('\n', r->csv);
}

static void
set_classes (FemoReport * r, const FemoFace * face)
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

static void
write_rows (FemoReport * r, guint64 frame, gdouble pts_s,
    const FemoFace * f, const gdouble * probs)
{
  if (r->csv) {
    fprintf (r->csv, "%" G_GUINT64_FORMAT ",%.3f,%u,%u,%u,%u,%u,", frame,
        pts_s, f->track_id, f->x, f->y, f->width, f->height);
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
        "\"label\":", frame, pts_s, f->track_id, f->x, f->y, f->width,
        f->height);
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
    fputs ("}\n", r->jsonl);
  }
}

static Track *
get_track (FemoReport * r, guint id)
{
  Track *t = g_hash_table_lookup (r->tracks, GUINT_TO_POINTER (id));

  if (t == NULL) {
    t = g_new0 (Track, 1);
    t->id = id;
    t->last_frame = G_MAXUINT64;
    t->samples = g_array_new (FALSE, FALSE, sizeof (Sample));
    g_hash_table_insert (r->tracks, GUINT_TO_POINTER (id), t);
  }
  return t;
}

/* One face, its classes known: a row, and into its track's statistics. */
static void
emit_face (FemoReport * r, guint64 frame, gdouble pts_s, const FemoFace * f)
{
  gdouble probs[FEMO_REPORT_MAX_CLASSES];
  Track *t = get_track (r, f->track_id);
  gint label = f->label ? class_index (r, f->label) : -1;
  Sample *s;

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
    Sample empty = { 0, };
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
  s = &g_array_index (t->samples, Sample, t->samples->len - 1);
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
    const FemoFace * faces, guint n_faces)
{
  r->n_frames++;
  r->last_pts_s = pts_s;
  for (guint i = 0; i < n_faces; i++) {
    const FemoFace *f = &faces[i];

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
  const Track *ta = *(Track * const *) a, *tb = *(Track * const *) b;

  /* most frames first, then by id */
  if (ta->n_frames != tb->n_frames)
    return ta->n_frames > tb->n_frames ? -1 : 1;
  return ta->id < tb->id ? -1 : ta->id > tb->id;
}

static GPtrArray *
sorted_tracks (FemoReport * r)
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

static gchar *
track_title (const Track * t)
{
  if (t->id == 0)
    return g_strdup ("all faces (untracked)");
  return g_strdup_printf ("track %u", t->id);
}

/* Index into counts of the most frequent label, -1 when none has one. */
static gint
dominant (const FemoReport * r, const Track * t)
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
  g_autoptr (GPtrArray) tracks = sorted_tracks (r);

  fprintf (out, "%" G_GUINT64_FORMAT " frames, %" G_GUINT64_FORMAT
      " faces (%.2f per frame)\n", r->n_frames, r->n_faces,
      r->n_frames ? (gdouble) r->n_faces / r->n_frames : 0.0);
  for (guint i = 0; i < MIN (tracks->len, MAX_SUMMARY_TRACKS); i++) {
    const Track *t = g_ptr_array_index (tracks, i);
    g_autofree gchar *title = track_title (t);
    gint best = dominant (r, t);

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

/* ---- the plot ---- */

#define PLOT_WIDTH 960
#define PLOT_LEFT 70            /* room for the y labels */
#define PLOT_RIGHT 150          /* the legend */
#define PLOT_TOP 56             /* the title */
#define PANEL_HEIGHT 170
#define PANEL_GAP 62            /* panel title and x labels */
#define MAX_PANELS 12

/* femooverlay's colours, neutral darker to show on white; other classes
 * cycle through the rest. */
static const struct
{
  const gchar *label;
  const gchar *color;
} plot_palette[] = {
  {"angry", "#e53935"}, {"disgust", "#8a9a1b"}, {"fear", "#9c4dcc"},
  {"happy", "#ffc107"}, {"sad", "#1e88e5"}, {"surprise", "#ff8f00"},
  {"neutral", "#757575"}, {"contempt", "#8d6e63"},
};

static const gchar *const spare_colors[] = {
  "#00897b", "#d81b60", "#3949ab", "#43a047", "#6d4c41", "#00acc1",
};

static const gchar *
class_color (const gchar * label, guint index)
{
  for (guint i = 0; i < G_N_ELEMENTS (plot_palette); i++)
    if (g_ascii_strcasecmp (label, plot_palette[i].label) == 0)
      return plot_palette[i].color;
  return spare_colors[index % G_N_ELEMENTS (spare_colors)];
}

static void
write_xml_text (FILE * out, const gchar * s)
{
  g_autofree gchar *escaped = g_markup_escape_text (s, -1);
  fputs (escaped, out);
}

/* A round step giving about @n ticks over @range. */
static gdouble
tick_step (gdouble range, guint n)
{
  gdouble raw = range / n, mag = pow (10, floor (log10 (raw)));
  gdouble norm = raw / mag;

  return (norm < 1.5 ? 1 : norm < 3.5 ? 2 : norm < 7.5 ? 5 : 10) * mag;
}

/* One class's series of a track as a path: points averaged per pixel
 * column, the line broken where the face was not seen. */
static void
write_series (FILE * out, const Track * t, guint k, gdouble t0,
    gdouble x_scale, gdouble y0, gdouble max_gap_s)
{
  gdouble prev_t = -G_MAXDOUBLE, acc = 0;
  gint col = G_MININT, acc_n = 0;
  gboolean pen_down = FALSE;

  for (guint i = 0; i <= t->samples->len; i++) {
    const Sample *s = i < t->samples->len ?
        &g_array_index (t->samples, Sample, i) : NULL;
    gint c = s ? (gint) floor ((s->t - t0) * x_scale) : G_MAXINT;
    gboolean gap = s && s->t - prev_t > max_gap_s;

    if (s && s->n == 0)
      continue;
    if ((c != col || gap) && acc_n > 0) {
      /* "l0 0" after a move: a frame seen alone still shows, as a dot */
      fprintf (out, "%c%.1f %.1f%s", pen_down ? 'L' : 'M',
          PLOT_LEFT + col + 0.5, y0 - PANEL_HEIGHT * acc / acc_n,
          pen_down ? "" : "l0 0");
      pen_down = TRUE;
      acc = 0;
      acc_n = 0;
    }
    if (s == NULL)
      break;
    if (gap)
      pen_down = FALSE;
    col = c;
    acc += s->sum[k] / s->n;
    acc_n++;
    prev_t = s->t;
  }
}

void
femo_report_write_svg (FemoReport * r, FILE * out, const gchar * title,
    gdouble frame_duration_s)
{
  g_autoptr (GPtrArray) tracks = sorted_tracks (r);
  guint n_panels = MAX (MIN (tracks->len, MAX_PANELS), 1);
  guint plot_w = PLOT_WIDTH - PLOT_LEFT - PLOT_RIGHT;
  guint height = PLOT_TOP + n_panels * (PANEL_HEIGHT + PANEL_GAP) + 10;
  gdouble t0 = 0, t1 = MAX (r->last_pts_s, 0) + frame_duration_s;
  gdouble x_scale, step;
  /* a face missed for a few frames (or a cut) breaks the line */
  gdouble max_gap_s = MAX (3.5 * frame_duration_s, 0.15);

  t1 = MAX (t1, t0 + 1e-3);
  x_scale = plot_w / (t1 - t0);
  step = tick_step (t1 - t0, 10);

  fprintf (out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%u\" "
      "viewBox=\"0 0 %d %u\" font-family=\"sans-serif\" font-size=\"12\">\n"
      "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
      "<text x=\"%d\" y=\"24\" font-size=\"16\" font-weight=\"bold\">",
      PLOT_WIDTH, height, PLOT_WIDTH, height, PLOT_LEFT);
  fputs ("Emotions over time: ", out);
  write_xml_text (out, title);
  fprintf (out, "</text>\n<text x=\"%d\" y=\"42\" fill=\"#555\">"
      "probability of each emotion per frame (mean over the faces of a "
      "panel)%s</text>\n", PLOT_LEFT, tracks->len > MAX_PANELS ?
      ", longest tracks only" : "");

  /* legend, shared by the panels */
  fprintf (out, "<g class=\"legend\">\n");
  for (guint k = 0; k < r->n_classes; k++) {
    gdouble y = PLOT_TOP + 16 + 20 * k;
    fprintf (out, "<line x1=\"%d\" y1=\"%.0f\" x2=\"%d\" y2=\"%.0f\" "
        "stroke=\"%s\" stroke-width=\"3\"/><text x=\"%d\" y=\"%.0f\">",
        PLOT_WIDTH - PLOT_RIGHT + 16, y - 4, PLOT_WIDTH - PLOT_RIGHT + 40,
        y - 4, class_color (r->classes[k], k), PLOT_WIDTH - PLOT_RIGHT + 46, y);
    write_xml_text (out, r->classes[k]);
    fputs ("</text>\n", out);
  }
  fputs ("</g>\n", out);

  for (guint p = 0; p < n_panels; p++) {
    const Track *t = p < tracks->len ? g_ptr_array_index (tracks, p) : NULL;
    g_autofree gchar *name = t ? track_title (t) : g_strdup ("no faces");
    gdouble top = PLOT_TOP + p * (PANEL_HEIGHT + PANEL_GAP) + 22;
    gdouble y0 = top + PANEL_HEIGHT;

    fprintf (out, "<g class=\"panel\" data-track=\"%u\">\n"
        "<text x=\"%d\" y=\"%.0f\"><tspan font-weight=\"bold\">",
        t ? t->id : 0, PLOT_LEFT, top - 8);
    write_xml_text (out, name);
    fputs ("</tspan>", out);
    if (t) {
      gint best = dominant (r, t);
      fprintf (out, "  seen %.2f s to %.2f s", t->first_s, t->last_s);
      if (best >= 0) {
        fputs (", mostly ", out);
        write_xml_text (out, r->classes[best]);
        fprintf (out, " (%.0f%%)", 100.0 * t->counts[best] / t->n_faces);
      }
    }
    fputs ("</text>\n", out);
    /* grid and y axis: 0 to 100 % */
    for (guint i = 0; i <= 4; i++) {
      gdouble y = y0 - PANEL_HEIGHT * i / 4.0;
      fprintf (out, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%u\" y2=\"%.1f\" "
          "stroke=\"%s\"/><text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">"
          "%u%%</text>\n", PLOT_LEFT, y, PLOT_LEFT + plot_w, y,
          i == 0 ? "#000" : "#ddd", PLOT_LEFT - 6, y + 4, 25 * i);
    }
    for (gdouble x = 0; x <= t1 - t0 + 1e-9; x += step) {
      gdouble px = PLOT_LEFT + x * x_scale;
      fprintf (out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
          "stroke=\"#eee\"/><text x=\"%.1f\" y=\"%.1f\" "
          "text-anchor=\"middle\">%g</text>\n", px, top, px, y0 + 4, px,
          y0 + 18, x + t0);
    }
    fprintf (out, "<text x=\"%u\" y=\"%.1f\" text-anchor=\"end\" "
        "fill=\"#555\">time (s)</text>\n", PLOT_LEFT + plot_w, y0 + 34);
    fprintf (out, "<text transform=\"translate(%d %.1f) rotate(-90)\" "
        "text-anchor=\"middle\" fill=\"#555\">probability</text>\n",
        PLOT_LEFT - 44, top + PANEL_HEIGHT / 2.0);
    if (t == NULL || r->n_classes == 0)
      fprintf (out, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\" "
          "fill=\"#555\">%s</text>\n", PLOT_LEFT + plot_w / 2.0,
          top + PANEL_HEIGHT / 2.0, t == NULL ? "no faces found" :
          "the faces carry no emotions");
    for (guint k = 0; t && k < r->n_classes; k++) {
      fprintf (out, "<path class=\"series\" data-emotion=\"%s\" fill=\"none\" "
          "stroke=\"%s\" stroke-width=\"1.5\" stroke-linejoin=\"round\" "
          "stroke-linecap=\"round\" d=\"",
          r->classes[k], class_color (r->classes[k], k));
      write_series (out, t, k, t0, x_scale, y0, max_gap_s);
      fputs ("\"/>\n", out);
    }
    fputs ("</g>\n", out);
  }
  fputs ("</svg>\n", out);
}

/* ---- running a pipeline ---- */

typedef struct
{
  GMainLoop *loop;
  const gchar *input;
  FemoStopFunc stop;
  GSourceFunc tick;
  gpointer user_data;
  GPtrArray *missing;           /* descriptions of missing decoders */
  GError *error;
  guint n_signals;
  gboolean ok;
} RunState;

static void
fail_with_message (RunState * s, GstMessage * msg)
{
  g_autoptr (GError) err = NULL;
  g_autofree gchar *dbg = NULL;

  gst_message_parse_error (msg, &err, &dbg);
  GST_DEBUG ("error from %s: %s (%s)", GST_MESSAGE_SRC_NAME (msg),
      err->message, GST_STR_NULL (dbg));
  if (s->missing->len > 0) {
    g_autofree gchar *list = NULL;
    g_ptr_array_add (s->missing, NULL);
    list = g_strjoinv (", ", (gchar **) s->missing->pdata);
    g_set_error (&s->error, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN,
        "%s: cannot decode it, GStreamer lacks: %s (install "
        "gstreamer1.0-libav or the gstreamer1.0-plugins-* package that has "
        "it)", s->input, list);
  } else if (g_error_matches (err, GST_STREAM_ERROR,
          GST_STREAM_ERROR_TYPE_NOT_FOUND)
      || g_error_matches (err, GST_STREAM_ERROR, GST_STREAM_ERROR_WRONG_TYPE)
      || g_error_matches (err, GST_STREAM_ERROR, GST_STREAM_ERROR_DEMUX))
    g_set_error (&s->error, err->domain, err->code,
        "%s: not a media file GStreamer can read (%s)", s->input, err->message);
  else {
    /* one line: GStreamer messages are sentences, some span lines */
    g_autofree gchar *line = g_strdelimit (g_strdup (err->message), "\n",
        ' ');
    g_set_error (&s->error, err->domain, err->code, "%s", line);
  }
  g_main_loop_quit (s->loop);
}

static gboolean
on_bus_message (GstBus * bus, GstMessage * msg, gpointer user_data)
{
  RunState *s = user_data;

  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_EOS:
      s->ok = TRUE;
      g_main_loop_quit (s->loop);
      break;
    case GST_MESSAGE_ERROR:
      if (s->error == NULL)
        fail_with_message (s, msg);
      break;
    case GST_MESSAGE_ELEMENT:
      if (gst_is_missing_plugin_message (msg)) {
        gchar *desc = gst_missing_plugin_message_get_description (msg);
        g_ptr_array_add (s->missing, desc);
      }
      break;
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

static gboolean
on_signal (gpointer user_data)
{
  RunState *s = user_data;

  if (++s->n_signals == 1 && s->stop) {
    s->stop (s->user_data);
    return G_SOURCE_CONTINUE;
  }
  g_set_error (&s->error, GST_CORE_ERROR, GST_CORE_ERROR_STATE_CHANGE,
      "interrupted");
  g_main_loop_quit (s->loop);
  return G_SOURCE_CONTINUE;
}

gboolean
femo_pipeline_run (GstElement * pipeline, const gchar * input,
    FemoStopFunc stop, GSourceFunc tick, gpointer user_data,
    gboolean * interrupted, GError ** error)
{
  g_autoptr (GMainContext) context = g_main_context_new ();
  RunState s = { 0, };
  GstBus *bus = gst_element_get_bus (pipeline);
  GSource *bus_source, *sources[3];
  guint n_sources = 0;

  g_main_context_push_thread_default (context);
  s.loop = g_main_loop_new (context, FALSE);
  s.input = input;
  s.stop = stop;
  s.tick = tick;
  s.user_data = user_data;
  s.missing = g_ptr_array_new_with_free_func (g_free);

  bus_source = gst_bus_create_watch (bus);
  g_source_set_callback (bus_source, (GSourceFunc) (GCallback) on_bus_message,
      &s, NULL);
  g_source_attach (bus_source, context);
  sources[n_sources++] = g_unix_signal_source_new (SIGINT);
  sources[n_sources++] = g_unix_signal_source_new (SIGTERM);
  for (guint i = 0; i < n_sources; i++)
    g_source_set_callback (sources[i], on_signal, &s, NULL);
  if (tick) {
    sources[n_sources] = g_timeout_source_new (250);
    g_source_set_callback (sources[n_sources++], tick, user_data, NULL);
  }
  for (guint i = 0; i < n_sources; i++)
    g_source_attach (sources[i], context);

  /* a failure here has its reason on the bus */
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  g_main_loop_run (s.loop);
  gst_element_set_state (pipeline, GST_STATE_NULL);

  for (guint i = 0; i < n_sources; i++) {
    g_source_destroy (sources[i]);
    g_source_unref (sources[i]);
  }
  g_source_destroy (bus_source);
  g_source_unref (bus_source);
  g_main_context_pop_thread_default (context);
  g_main_loop_unref (s.loop);
  gst_bus_set_flushing (bus, TRUE);
  gst_object_unref (bus);
  g_ptr_array_unref (s.missing);

  if (interrupted)
    *interrupted = s.n_signals > 0;
  if (s.error) {
    g_propagate_error (error, s.error);
    return FALSE;
  }
  return s.ok;
}

gboolean
femo_check_plugin (GError ** error)
{
  static const gchar *const elements[] = { "femodetect", "femooverlay" };

  for (guint i = 0; i < G_N_ELEMENTS (elements); i++) {
    GstPluginFeature *f = gst_registry_lookup_feature (gst_registry_get (),
        elements[i]);
    if (f == NULL) {
      g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN,
          "the %s element is not installed (running uninstalled: "
          "GST_PLUGIN_PATH=build/src/gst FEMO_MODEL_DIR=models in the source "
          "tree)", elements[i]);
      return FALSE;
    }
    gst_object_unref (f);
  }
  return TRUE;
}

gchar *
femo_typefind_file (const gchar * path)
{
  /* enough for the typefinders of images and containers */
  guint8 head[64 * 1024];
  g_autoptr (GstCaps) caps = NULL;
  g_autofree gchar *ext = NULL;
  const gchar *dot = strrchr (path, '.');
  FILE *f = g_fopen (path, "rb");
  gsize n;

  if (f == NULL)
    return NULL;
  n = fread (head, 1, sizeof (head), f);
  fclose (f);
  if (dot && !strchr (dot, G_DIR_SEPARATOR))
    ext = g_ascii_strdown (dot + 1, -1);
  caps = gst_type_find_helper_for_data_with_extension (NULL, head, n, ext,
      NULL);
  if (caps == NULL || gst_caps_is_empty (caps))
    return NULL;
  return g_strdup (gst_structure_get_name (gst_caps_get_structure (caps, 0)));
}
