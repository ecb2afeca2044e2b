/* gst-femo tests: FemoAnalyzer driven directly (no GStreamer element) on
 * the shared photos and video frames
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The video part uses frames 100-200 of the shared 640x480 montage: shot
 * cuts at frames 115 and 181, one speaker per shot, faces about 235 pixels
 * wide. min-size=120 keeps the cascade fast and min-neighbors=8 away from
 * a false face on the second speaker's shirt: every frame then has exactly
 * one face (as in test-femodetect-track.c, which checks the element).
 */
#include "config.h"

#include "test-util.h"
#include "femo-analyzer.h"
#include "femo-face-crop.h"

#include <math.h>
#include <string.h>

/* short names for the montage segment of test-util.h */
#define M_FIRST FEMO_TEST_MONTAGE_FIRST
#define M_LAST FEMO_TEST_MONTAGE_LAST
#define M_CUT_1 FEMO_TEST_MONTAGE_CUT_1
#define M_CUT_2 FEMO_TEST_MONTAGE_CUT_2
#define PHOTO "media/facerec_two_people.jpg"
/* several faces of several confidences */
#define CONFIDENCE_PHOTO "media/dlib_2008_002506.jpg"

static GPtrArray *frames;       /* GstBuffer of frame M_FIRST + i */
static gint frame_width, frame_height;

static gchar *
cascade_path (void)
{
  return femo_test_cascade_path (FEMO_TEST_DEFAULT_CASCADE);
}

static gchar *
model_path (void)
{
  return g_build_filename (g_getenv ("FEMO_MODEL_DIR"),
      "fer2013-mini-xception.safetensors", NULL);
}

static FemoAnalyzer *
analyzer_new (guint n_threads)
{
  FemoAnalyzer *a = femo_analyzer_new ();
  gchar *cascade = cascade_path (), *model = model_path ();
  GError *error = NULL;

  g_assert_true (femo_analyzer_load_detector (a, FEMO_FACE_DETECTOR_CASCADE,
          cascade, n_threads, &error));
  g_assert_no_error (error);
  g_assert_true (femo_analyzer_load_model (a, model, &error));
  g_assert_no_error (error);
  g_free (cascade);
  g_free (model);
  return a;
}

static void
video_settings (FemoAnalyzerSettings * s)
{
  femo_analyzer_settings_init (s);
  s->min_size = 120;
  s->min_neighbors = 8;
}

/* Frame @n of the clip as the analyzer sees it; unmap with
 * gst_buffer_unmap (buffer, map). */
static void
video_frame (guint n, FemoAnalyzerFrame * f, GstMapInfo * map)
{
  GstBuffer *buf = g_ptr_array_index (frames, n - M_FIRST);

  memset (f, 0, sizeof (*f));
  g_assert_true (gst_buffer_map (buf, map, GST_MAP_READ));
  f->image.data = map->data;
  f->image.width = frame_width;
  f->image.height = frame_height;
  f->image.stride = frame_width;
  f->image.pixel_stride = 1;
  f->par_n = f->par_d = 1;
  f->time_ns = GST_BUFFER_PTS (buf);
  f->duration_ns = GST_BUFFER_DURATION (buf);
}

static void
process_video_frame (FemoAnalyzer * a, const FemoAnalyzerSettings * s,
    guint n, gboolean late, FemoAnalyzerResult * result)
{
  GstBuffer *buf = g_ptr_array_index (frames, n - M_FIRST);
  FemoAnalyzerFrame f;
  GstMapInfo map;

  video_frame (n, &f, &map);
  f.late = late;
  g_assert_true (femo_analyzer_process (a, s, &f, result, NULL));
  gst_buffer_unmap (buf, &map);
}

static guint
count_events (const FemoAnalyzerResult * r, FemoTrackEventType type,
    FemoTrackEndReason reason)
{
  guint i, n = 0;

  for (i = 0; i < r->n_events; i++)
    if (r->events[i].type == type && (type != FEMO_TRACK_EVENT_ENDED
            || r->events[i].reason == reason))
      n++;
  return n;
}

static gdouble
sum (const gfloat * p, guint n)
{
  gdouble total = 0;
  guint k;

  for (k = 0; k < n; k++)
    total += p[k];
  return total;
}

/* Defaults: a detection and a classification per frame, one track per
 * shot with ids 1, 2, 3, the shot cuts end the tracks as "cut", the end of
 * the stream ends the last one as "eos" with its summary. */
static void
test_video_tracks (void)
{
  FemoAnalyzer *a = analyzer_new (1);
  guint n_labels = femo_model_get_n_labels (femo_analyzer_get_model (a));
  FemoAnalyzerSettings s;
  FemoAnalyzerResult r;
  guint n, label_changes = 0;

  video_settings (&s);
  for (n = M_FIRST; n <= M_LAST; n++) {
    guint32 expected_id = n < M_CUT_1 ? 1 : n < M_CUT_2 ? 2 : 3;
    const FemoAnalyzedFace *face;

    process_video_frame (a, &s, n, FALSE, &r);
    g_assert_true (r.analysed);
    g_assert_true (r.detected);
    g_assert_true (r.tracked);
    g_assert_cmpuint (r.n_faces, ==, 1);
    g_assert_cmpuint (r.n_classified, ==, 1);
    face = &r.faces[0];
    g_assert_cmpuint (face->track_id, ==, expected_id);
    g_assert_true (face->detected);
    g_assert_cmpint (face->box.width, >=, 120);
    g_assert_cmpint (face->box.neighbors, >=, 8);
    g_assert_cmpfloat_with_epsilon (face->confidence,
        face->box.neighbors / (face->box.neighbors + 10.0), 1e-12);
    g_assert_cmpint (face->label, >=, 0);
    g_assert_cmpint (face->label, <, (gint) n_labels);
    g_assert_cmpint (face->raw_label, >=, 0);
    g_assert_cmpfloat_with_epsilon (sum (face->probs, n_labels), 1.0, 1e-4);
    g_assert_cmpfloat_with_epsilon (sum (face->raw_probs, n_labels), 1.0,
        1e-4);
    /* the first classification of a track is shown as it is */
    if (n == M_FIRST || n == M_CUT_1 || n == M_CUT_2) {
      g_assert_cmpint (face->label, ==, face->raw_label);
      g_assert_cmpmem (face->probs, n_labels * sizeof (gfloat),
          face->raw_probs, n_labels * sizeof (gfloat));
    }
    if (n == M_CUT_1 || n == M_CUT_2) {
      g_assert_cmpuint (count_events (&r, FEMO_TRACK_EVENT_ENDED,
              FEMO_TRACK_END_CUT), ==, 1);
      g_assert_cmpuint (r.events[0].track_id, ==, expected_id - 1);
      g_assert_cmpuint (r.events[0].record.n_detections, ==,
          n == M_CUT_1 ? M_CUT_1 - M_FIRST : M_CUT_2 - M_CUT_1);
    } else {
      g_assert_cmpuint (count_events (&r, FEMO_TRACK_EVENT_ENDED,
              FEMO_TRACK_END_CUT), ==, 0);
    }
    label_changes += count_events (&r, FEMO_TRACK_EVENT_LABEL_CHANGED, 0);
  }

  femo_analyzer_finish (a, FEMO_TRACK_END_EOS, &r);
  g_assert_cmpuint (r.n_faces, ==, 0);
  g_assert_cmpuint (r.n_events, ==, 1);
  g_assert_cmpint (r.events[0].type, ==, FEMO_TRACK_EVENT_ENDED);
  g_assert_cmpint (r.events[0].reason, ==, FEMO_TRACK_END_EOS);
  g_assert_cmpuint (r.events[0].track_id, ==, 3);
  g_assert_cmpuint (r.events[0].record.n_detections, ==,
      M_LAST - M_CUT_2 + 1);
  g_assert_cmpuint (r.events[0].record.first_ns, ==,
      GST_BUFFER_PTS (g_ptr_array_index (frames, M_CUT_2 - M_FIRST)));
  g_assert_cmpuint (r.events[0].record.last_ns, ==,
      GST_BUFFER_PTS (g_ptr_array_index (frames, M_LAST - M_FIRST)));
  g_assert_cmpuint (r.events[0].record.n_label_changes, <=, label_changes);
  /* finishing twice ends nothing more */
  femo_analyzer_finish (a, FEMO_TRACK_END_EOS, &r);
  g_assert_cmpuint (r.n_events, ==, 0);
  femo_analyzer_free (a);
}

/* detect-interval 3 and classify-interval 2: the frames between carry the
 * track (same id, predicted box, shown emotion, no raw output), and the
 * network runs at every second detection. */
static void
test_video_intervals (void)
{
  FemoAnalyzer *a = analyzer_new (1);
  FemoAnalyzerSettings s;
  FemoAnalyzerResult r;
  guint n, detections = 0, classified = 0;
  const guint last = M_CUT_1 - 1;

  video_settings (&s);
  s.detect_interval = 3;
  s.classify_interval = 2;
  for (n = M_FIRST; n <= last; n++) {
    gboolean due = (n - M_FIRST) % 3 == 0;

    process_video_frame (a, &s, n, FALSE, &r);
    g_assert_cmpint (r.detected, ==, due);
    g_assert_cmpuint (r.n_faces, ==, 1);
    g_assert_cmpuint (r.faces[0].track_id, ==, 1);
    g_assert_cmpint (r.faces[0].detected, ==, due);
    g_assert_cmpint (r.faces[0].label, >=, 0);
    if (!due) {
      g_assert_cmpint (r.faces[0].raw_label, ==, -1);
      g_assert_cmpuint (r.n_classified, ==, 0);
      g_assert_cmpint (r.faces[0].box.neighbors, ==, 0);
    }
    g_assert_cmpint (r.faces[0].raw_label >= 0, ==, r.n_classified == 1);
    detections += r.detected;
    classified += r.n_classified;
  }
  g_assert_cmpuint (detections, ==, 5);
  /* detections 1, 3 and 5 of the track */
  g_assert_cmpuint (classified, ==, 3);
  femo_analyzer_free (a);
}

/* Late frames (QoS) carry the tracks instead of detecting; without
 * tracking a late frame is not analysed at all. */
static void
test_video_late (void)
{
  FemoAnalyzer *a = analyzer_new (1);
  FemoAnalyzerSettings s;
  FemoAnalyzerResult r;

  video_settings (&s);
  /* the first frame is always detected: there is nothing to carry */
  process_video_frame (a, &s, M_FIRST, TRUE, &r);
  g_assert_true (r.detected);
  g_assert_cmpuint (r.n_faces, ==, 1);
  process_video_frame (a, &s, M_FIRST + 1, TRUE, &r);
  g_assert_true (r.analysed);
  g_assert_false (r.detected);
  g_assert_cmpuint (r.n_faces, ==, 1);
  g_assert_cmpuint (r.faces[0].track_id, ==, 1);
  g_assert_false (r.faces[0].detected);
  process_video_frame (a, &s, M_FIRST + 2, FALSE, &r);
  g_assert_true (r.detected);

  /* tracking off ends the live track as "stopped" */
  s.tracking = FALSE;
  process_video_frame (a, &s, M_FIRST + 3, TRUE, &r);
  g_assert_false (r.analysed);
  g_assert_cmpuint (r.n_faces, ==, 0);
  g_assert_cmpuint (r.n_events, ==, 1);
  g_assert_cmpint (r.events[0].reason, ==, FEMO_TRACK_END_STOPPED);
  g_assert_cmpuint (r.events[0].track_id, ==, 1);
  process_video_frame (a, &s, M_FIRST + 4, FALSE, &r);
  g_assert_true (r.analysed);
  g_assert_false (r.tracked);
  g_assert_cmpuint (r.n_events, ==, 0);
  g_assert_cmpuint (r.n_faces, ==, 1);
  g_assert_cmpuint (r.faces[0].track_id, ==, 0);
  g_assert_cmpint (r.faces[0].raw_label, ==, -1);
  g_assert_cmpint (r.faces[0].label, >=, 0);
  femo_analyzer_free (a);
}

/* A reset forgets the tracks without an event; frames without timestamps
 * are a frame duration apart. */
static void
test_reset_and_untimed (void)
{
  FemoAnalyzer *a = analyzer_new (1);
  FemoAnalyzerSettings s;
  FemoAnalyzerResult r;
  const guint64 d = 40 * G_TIME_SPAN_MILLISECOND * 1000;
  guint n;

  video_settings (&s);
  process_video_frame (a, &s, M_FIRST, FALSE, &r);
  g_assert_cmpuint (r.faces[0].track_id, ==, 1);
  femo_analyzer_reset (a);
  for (n = M_FIRST; n < M_FIRST + 3; n++) {
    GstBuffer *buf = g_ptr_array_index (frames, n - M_FIRST);
    FemoAnalyzerFrame f;
    GstMapInfo map;

    video_frame (n, &f, &map);
    f.time_ns = FEMO_ANALYZER_TIME_NONE;
    f.duration_ns = d;
    g_assert_true (femo_analyzer_process (a, &s, &f, &r, NULL));
    gst_buffer_unmap (buf, &map);
    g_assert_cmpuint (r.n_events, ==, 0);
    g_assert_cmpuint (r.n_faces, ==, 1);
    /* ids go on after a reset: an id is never given twice */
    g_assert_cmpuint (r.faces[0].track_id, ==, 2);
  }
  femo_analyzer_finish (a, FEMO_TRACK_END_EOS, &r);
  g_assert_cmpuint (r.n_events, ==, 1);
  g_assert_cmpuint (r.events[0].record.first_ns, ==, 0);
  g_assert_cmpuint (r.events[0].record.last_ns, ==, 2 * d);
  femo_analyzer_free (a);
}

/* @face shows its own frame's emotion, untracked: the network's output on
 * the crop femo_face_crop_region describes (pixel aspect ratio @par_n /
 * @par_d), its arg-max as the label, and no raw emotion. */
static void
assert_own_emotion (const FemoAnalyzedFace * face, const FemoImageView * image,
    gdouble crop_margin, gint par_n, gint par_d, FemoInfer * infer)
{
  guint n_labels = femo_model_get_n_labels (femo_infer_get_model (infer));
  guint8 crop[FEMO_NET_INPUT_PIXELS];
  gfloat probs[FEMO_NET_MAX_LABELS];
  gdouble x, y, w, h;
  guint k;

  g_assert_cmpuint (face->track_id, ==, 0);
  g_assert_cmpint (face->raw_label, ==, -1);
  g_assert_null (face->raw_probs);
  femo_face_crop_region (face->box.x, face->box.y, face->box.width,
      face->box.height, crop_margin, par_n, par_d, &x, &y, &w, &h);
  femo_image_resample (image, x, y, w, h, crop, FEMO_NET_INPUT_SIZE,
      FEMO_NET_INPUT_SIZE);
  femo_infer_run (infer, crop, 1, probs, NULL);
  g_assert_nonnull (face->probs);
  g_assert_cmpmem (face->probs, n_labels * sizeof (gfloat), probs,
      n_labels * sizeof (gfloat));
  for (k = 0; k < n_labels; k++)
    g_assert_cmpfloat (face->probs[face->label], >=, face->probs[k]);
}

/* One photo, untracked: the analyzer's faces are the cascade's (same
 * boxes, same order) and each face's emotion is the network's output on
 * the crop femo_face_crop_region describes. Packed RGB input gives the
 * same result as its gray conversion. */
static void
test_photo_untracked (void)
{
  gchar *path = femo_test_shared_path (PHOTO);
  gchar *cascade_file = cascade_path ();
  FemoAnalyzer *a = analyzer_new (2);
  FemoModel *model = femo_analyzer_get_model (a);
  guint n_labels = femo_model_get_n_labels (model);
  FemoDetectParams params = FEMO_DETECT_PARAMS_INIT;
  FemoRgbLayout layout = { 3, 0, 1, 2 };
  FemoAnalyzerSettings s;
  FemoAnalyzerFrame f = { {0}, };
  FemoAnalyzerResult r;
  FemoRect expected[64];
  FemoCascade *cascade;
  FemoDetector *detector;
  FemoInfer *infer;
  GError *error = NULL;
  guint8 *rgb, *gray;
  gfloat *first_probs;
  gint width, height, first_label;
  gsize i, n;

  rgb = femo_test_load_image (path, GST_VIDEO_FORMAT_RGB, &width, &height,
      &error);
  g_assert_no_error (error);
  gray = g_malloc ((gsize) width * height);
  femo_rgb_to_gray (rgb, width * 3, &layout, width, height, gray, width);

  cascade = femo_cascade_new_from_file (cascade_file, &error);
  g_assert_no_error (error);
  detector = femo_detector_new (cascade, 1);
  n = femo_detector_detect (detector, &(FemoImageView) {
      gray, width, height, width, 1}, &params, expected, 64);
  g_assert_cmpuint (n, >=, 2);

  femo_analyzer_settings_init (&s);
  s.tracking = FALSE;
  f.image = (FemoImageView) {
  gray, width, height, width, 1};
  f.par_n = f.par_d = 1;
  f.time_ns = FEMO_ANALYZER_TIME_NONE;
  g_assert_true (femo_analyzer_process (a, &s, &f, &r, NULL));
  g_assert_true (r.analysed);
  g_assert_false (r.tracked);
  g_assert_cmpuint (r.n_faces, ==, n);
  g_assert_cmpuint (r.n_classified, ==, n);
  infer = femo_infer_new (model);
  for (i = 0; i < n; i++) {
    const FemoAnalyzedFace *face = &r.faces[i];

    g_assert_cmpmem (&face->box, sizeof (FemoRect), &expected[i],
        sizeof (FemoRect));
    g_assert_cmpuint (face->track_id, ==, 0);
    assert_own_emotion (face, &f.image, s.crop_margin, 1, 1, infer);
  }
  first_label = r.faces[0].label;
  first_probs = g_memdup2 (r.faces[0].probs, n_labels * sizeof (gfloat));

  /* flip: the mean of the crop's and its mirror image's probabilities */
  s.flip = TRUE;
  g_assert_true (femo_analyzer_process (a, &s, &f, &r, NULL));
  g_assert_cmpuint (r.n_faces, ==, n);
  {
    const FemoRect *b = &r.faces[0].box;
    guint8 crop[FEMO_NET_INPUT_PIXELS], mirror[FEMO_NET_INPUT_PIXELS];
    gfloat *mirrored = g_new (gfloat, n_labels);
    gdouble x, y, w, h;
    guint k, row;

    femo_face_crop_region (b->x, b->y, b->width, b->height, s.crop_margin, 1,
        1, &x, &y, &w, &h);
    femo_image_resample (&f.image, x, y, w, h, crop, FEMO_NET_INPUT_SIZE,
        FEMO_NET_INPUT_SIZE);
    for (row = 0; row < FEMO_NET_INPUT_SIZE; row++)
      for (k = 0; k < FEMO_NET_INPUT_SIZE; k++)
        mirror[row * FEMO_NET_INPUT_SIZE + k] =
            crop[row * FEMO_NET_INPUT_SIZE + FEMO_NET_INPUT_SIZE - 1 - k];
    femo_infer_run (infer, mirror, 1, mirrored, NULL);
    for (k = 0; k < n_labels; k++)
      g_assert_cmpfloat_with_epsilon (r.faces[0].probs[k],
          0.5 * (first_probs[k] + mirrored[k]), 1e-6);
    g_assert_cmpfloat (fabs (mirrored[0] - first_probs[0]), >, 1e-6);
    g_free (mirrored);
  }
  s.flip = FALSE;

  f.image = (FemoImageView) {
  rgb, width, height, width * 3, 3};
  f.rgb = &layout;
  g_assert_true (femo_analyzer_process (a, &s, &f, &r, NULL));
  g_assert_cmpuint (r.n_faces, ==, n);
  g_assert_cmpmem (&r.faces[0].box, sizeof (FemoRect), &expected[0],
      sizeof (FemoRect));
  g_assert_cmpint (r.faces[0].label, ==, first_label);
  g_assert_cmpmem (r.faces[0].probs, n_labels * sizeof (gfloat), first_probs,
      n_labels * sizeof (gfloat));

  /* detection off: the caller's boxes are classified as they are */
  s.detect = FALSE;
  f.faces = expected;
  f.n_faces = 1;
  g_assert_true (femo_analyzer_process (a, &s, &f, &r, NULL));
  g_assert_true (r.analysed);
  g_assert_false (r.detected);
  g_assert_cmpuint (r.n_faces, ==, 1);
  g_assert_false (r.faces[0].detected);
  g_assert_cmpmem (r.faces[0].probs, n_labels * sizeof (gfloat), first_probs,
      n_labels * sizeof (gfloat));
  /* ... and with classification off too, nothing is done */
  s.classify = FALSE;
  g_assert_true (femo_analyzer_process (a, &s, &f, &r, NULL));
  g_assert_false (r.analysed);
  g_assert_cmpuint (r.n_faces, ==, 0);

  femo_infer_free (infer);
  femo_detector_free (detector);
  femo_cascade_unref (cascade);
  femo_analyzer_free (a);
  g_free (first_probs);
  g_free (gray);
  g_free (rgb);
  g_free (cascade_file);
  g_free (path);
}

static gint64
overlap (const FemoRect * a, const FemoRect * b)
{
  gint64 iw = MIN (a->x + a->width, b->x + b->width) - MAX (a->x, b->x);
  gint64 ih = MIN (a->y + a->height, b->y + b->height) - MAX (a->y, b->y);

  return iw > 0 && ih > 0 ? iw * ih : 0;
}

static gint64
area (const FemoRect * r)
{
  return (gint64) r->width * r->height;
}

/* The photo at @path as gray (returned, to be freed) in @f, and settings
 * @s for detection alone, untracked, with merge-overlaps off. */
static guint8 *
photo_detection (const gchar * path, FemoAnalyzerSettings * s,
    FemoAnalyzerFrame * f)
{
  GError *error = NULL;
  gint width, height;
  guint8 *gray = femo_test_load_image (path, GST_VIDEO_FORMAT_GRAY8, &width,
      &height, &error);

  g_assert_no_error (error);
  femo_analyzer_settings_init (s);
  s->tracking = FALSE;
  s->classify = FALSE;
  s->merge_overlaps = 0;
  memset (f, 0, sizeof (*f));
  f->image = (FemoImageView) {
  gray, width, height, width, 1};
  f->par_n = f->par_d = 1;
  f->time_ns = FEMO_ANALYZER_TIME_NONE;
  return gray;
}

/* merge-overlaps: of boxes that overlap by more than the threshold of the
 * smaller one, only the one with more neighbours stays; the others keep
 * the detector's order. On this photo OpenCV's grouping leaves a second,
 * weaker box over one face. */
static void
test_merge_overlaps (void)
{
  gchar *path = femo_test_shared_path ("media/dlib_2009_004587.jpg");
  FemoAnalyzer *a = analyzer_new (2);
  FemoAnalyzerSettings s;
  FemoAnalyzerFrame f;
  FemoAnalyzerResult r;
  FemoRect all[64];
  guint8 *gray;
  gsize n_all, i, j, k = 0;

  gray = photo_detection (path, &s, &f);
  g_assert_true (femo_analyzer_process (a, &s, &f, &r, NULL));
  n_all = r.n_faces;
  g_assert_cmpuint (n_all, <=, G_N_ELEMENTS (all));
  for (i = 0; i < n_all; i++)
    all[i] = r.faces[i].box;

  s.merge_overlaps = FEMO_ANALYZER_DEFAULT_MERGE_OVERLAPS;
  g_assert_true (femo_analyzer_process (a, &s, &f, &r, NULL));
  g_test_message ("%" G_GSIZE_FORMAT " boxes, %" G_GSIZE_FORMAT " kept",
      n_all, r.n_faces);
  g_assert_cmpuint (r.n_faces, <, n_all);
  /* what is kept overlaps nothing else kept by more than the threshold */
  for (i = 0; i < r.n_faces; i++)
    for (j = i + 1; j < r.n_faces; j++)
      g_assert_cmpfloat (overlap (&r.faces[i].box, &r.faces[j].box), <=,
          s.merge_overlaps * MIN (area (&r.faces[i].box),
              area (&r.faces[j].box)));
  /* each dropped box overlaps a kept one with at least its neighbours */
  for (i = 0; i < n_all; i++) {
    gboolean covered = FALSE;

    if (k < r.n_faces && memcmp (&all[i], &r.faces[k].box,
            sizeof (FemoRect)) == 0) {
      k++;
      continue;
    }
    for (j = 0; j < r.n_faces; j++)
      covered |= overlap (&all[i], &r.faces[j].box) > s.merge_overlaps
          * MIN (area (&all[i]), area (&r.faces[j].box))
          && r.faces[j].box.neighbors >= all[i].neighbors;
    g_assert_true (covered);
  }
  /* the kept ones are a subsequence of the detector's boxes */
  g_assert_cmpuint (k, ==, r.n_faces);

  femo_analyzer_free (a);
  g_free (gray);
  g_free (path);
}

/* min-confidence on the cascade: at the default (negative) and at 0 every
 * face, with the confidence neighbours / (neighbours + 10); above, only
 * the faces that confident, in the detector's order; and max-faces then
 * takes the largest of those, not of all boxes (on this photo the largest
 * box is among the least confident). */
static void
test_min_confidence_cascade (void)
{
  gchar *path = femo_test_shared_path (CONFIDENCE_PHOTO);
  FemoAnalyzer *a = analyzer_new (2);
  FemoAnalyzerSettings s;
  FemoAnalyzerFrame f;
  FemoAnalyzerResult r;
  FemoRect all[64];
  gdouble threshold;
  guint8 *gray;
  gsize n_all, i, k, largest = 0;

  gray = photo_detection (path, &s, &f);
  g_assert_cmpfloat (s.min_confidence, <, 0);
  g_assert_true (femo_analyzer_process (a, &s, &f, &r, NULL));
  n_all = r.n_faces;
  g_assert_cmpuint (n_all, >=, 3);
  g_assert_cmpuint (n_all, <=, G_N_ELEMENTS (all));
  for (i = 0; i < n_all; i++) {
    all[i] = r.faces[i].box;
    g_assert_cmpfloat (r.faces[i].confidence, ==, all[i].neighbors /
        (all[i].neighbors + 10.0));
    if (area (&all[i]) > area (&all[largest]))
      largest = i;
  }
  s.min_confidence = 0;
  g_assert_true (femo_analyzer_process (a, &s, &f, &r, NULL));
  g_assert_cmpuint (r.n_faces, ==, n_all);
  for (i = 0; i < n_all; i++)
    g_assert_cmpmem (&r.faces[i].box, sizeof (FemoRect), &all[i],
        sizeof (FemoRect));

  /* just above the largest box's confidence */
  threshold = (all[largest].neighbors + 0.5) / (all[largest].neighbors +
      0.5 + 10.0);
  s.min_confidence = threshold;
  g_assert_true (femo_analyzer_process (a, &s, &f, &r, NULL));
  g_test_message ("%" G_GSIZE_FORMAT " boxes, %" G_GSIZE_FORMAT " at "
      "confidence %.3f or more", n_all, r.n_faces, threshold);
  g_assert_cmpuint (r.n_faces, >, 0);
  g_assert_cmpuint (r.n_faces, <, n_all);
  for (i = 0, k = 0; i < n_all; i++) {
    if (all[i].neighbors / (all[i].neighbors + 10.0) < threshold)
      continue;
    g_assert_cmpuint (k, <, r.n_faces);
    g_assert_cmpmem (&r.faces[k].box, sizeof (FemoRect), &all[i],
        sizeof (FemoRect));
    g_assert_cmpfloat (r.faces[k].confidence, >=, threshold);
    k++;
  }
  g_assert_cmpuint (k, ==, r.n_faces);

  s.max_faces = 1;
  g_assert_true (femo_analyzer_process (a, &s, &f, &r, NULL));
  g_assert_cmpuint (r.n_faces, ==, 1);
  g_assert_cmpfloat (r.faces[0].confidence, >=, threshold);
  for (i = 0; i < n_all; i++)
    if (all[i].neighbors / (all[i].neighbors + 10.0) >= threshold)
      g_assert_cmpint (area (&all[i]), <=, area (&r.faces[0].box));

  femo_analyzer_free (a);
  g_free (gray);
  g_free (path);
}

/* More faces than the tracker takes (min-neighbors=0 and a fine scale
 * step: the cascade's raw windows, about 400 on these frames, more than
 * FEMO_TRACKER_MAX_BOXES): the largest are tracked as usual, the others
 * have no track id and show their own frame's emotion, as without
 * tracking, at every detection; events name only tracks, and a frame
 * without detection carries only the tracks. */
static void
test_untracked_overflow (void)
{
  FemoAnalyzer *a = analyzer_new (2);
  FemoInfer *infer = femo_infer_new (femo_analyzer_get_model (a));
  FemoAnalyzerSettings s;
  FemoAnalyzerResult r;
  GstMapInfo map;
  FemoAnalyzerFrame f;
  guint n, i;

  video_settings (&s);
  s.min_neighbors = 0;
  s.merge_overlaps = 0;
  s.min_size = 60;
  s.scale_factor = 1.02;
  s.classify_interval = 2;
  for (n = M_FIRST; n < M_FIRST + 2; n++) {
    gsize n_tracked = 0, n_untracked = 0;
    gdouble smallest_tracked = G_MAXDOUBLE, largest_untracked = 0;

    video_frame (n, &f, &map);
    g_assert_true (femo_analyzer_process (a, &s, &f, &r, NULL));
    g_assert_true (r.detected);
    g_assert_true (r.tracked);
    g_test_message ("frame %u: %" G_GSIZE_FORMAT " faces, %u classified", n,
        r.n_faces, r.n_classified);
    g_assert_cmpuint (r.n_faces, >, FEMO_TRACKER_MAX_BOXES);
    for (i = 0; i < r.n_faces; i++) {
      const FemoAnalyzedFace *face = &r.faces[i];
      gdouble area = (gdouble) face->box.width * face->box.height;

      if (face->track_id == 0) {
        /* the network's output on one in 16 (it is the same code) */
        if (n_untracked++ % 16 == 0)
          assert_own_emotion (face, &f.image, s.crop_margin, 1, 1, infer);
        g_assert_cmpint (face->label, >=, 0);
        largest_untracked = MAX (largest_untracked, area);
        continue;
      }
      n_tracked++;
      smallest_tracked = MIN (smallest_tracked, area);
      g_assert_cmpint (face->label, >=, 0);
      g_assert_nonnull (face->probs);
    }
    gst_buffer_unmap (g_ptr_array_index (frames, n - M_FIRST), &map);
    g_assert_cmpuint (n_tracked, ==, FEMO_TRACKER_MAX_BOXES);
    g_assert_cmpfloat (largest_untracked, <=, smallest_tracked);
    /* every untracked face each time; tracks at their first detection
     * (all of them on the first frame), not at their second */
    if (n == M_FIRST)
      g_assert_cmpuint (r.n_classified, ==, r.n_faces);
    else
      g_assert_cmpuint (r.n_classified, <, r.n_faces);
    g_assert_cmpuint (r.n_classified, >=, n_untracked);
    for (i = 0; i < r.n_events; i++)
      g_assert_cmpuint (r.events[i].track_id, !=, 0);
  }

  process_video_frame (a, &s, M_FIRST + 2, TRUE, &r);
  g_assert_false (r.detected);
  g_assert_cmpuint (r.n_faces, >, 0);
  g_assert_cmpuint (r.n_faces, <=, FEMO_TRACKER_MAX_BOXES);
  g_assert_cmpuint (r.n_classified, ==, 0);
  for (i = 0; i < r.n_faces; i++) {
    g_assert_cmpuint (r.faces[i].track_id, !=, 0);
    g_assert_cmpint (r.faces[i].label, >=, 0);
  }
  femo_infer_free (infer);
  femo_analyzer_free (a);
}

/* Detection off: the caller's boxes (an upstream meta may carry any box)
 * are clipped to the frame and keep their places; one with nothing inside
 * it is an empty face without emotion, the others show the network's
 * output on their clipped box. Crops take a bounded pixel aspect ratio. */
static void
test_given_boxes_clipped (void)
{
  FemoAnalyzer *a = analyzer_new (1);
  FemoInfer *infer = femo_infer_new (femo_analyzer_get_model (a));
  const FemoRect given[] = {
    {100, 50, 200, 200, 0},
    {500, 400, 60000, 60000, 0},
    {G_MAXINT - 10, 5, G_MAXINT, 3, 0},
    {-10, -20, 4000, 30, 0},
    {G_MININT, G_MININT, G_MAXINT, G_MAXINT, 0},
  };
  const FemoRect clipped[] = {
    {100, 50, 200, 200, 0},
    {500, 400, frame_width - 500, frame_height - 400, 0},
    {frame_width, 5, 0, 3, 0},
    {0, 0, frame_width, 10, 0},
    {0, 0, 0, 0, 0},
  };
  FemoAnalyzerSettings s;
  FemoAnalyzerFrame f;
  FemoAnalyzerResult r;
  GstMapInfo map;
  guint i;

  video_settings (&s);
  s.detect = FALSE;
  video_frame (M_FIRST, &f, &map);
  f.faces = given;
  f.n_faces = G_N_ELEMENTS (given);
  g_assert_true (femo_analyzer_process (a, &s, &f, &r, NULL));
  g_assert_true (r.analysed);
  g_assert_cmpuint (r.n_faces, ==, G_N_ELEMENTS (given));
  g_assert_cmpuint (r.n_classified, ==, 3);
  for (i = 0; i < r.n_faces; i++) {
    const FemoAnalyzedFace *face = &r.faces[i];

    g_assert_cmpmem (&face->box, sizeof (FemoRect), &clipped[i],
        sizeof (FemoRect));
    if (face->box.width > 0 && face->box.height > 0) {
      assert_own_emotion (face, &f.image, s.crop_margin, 1, 1, infer);
    } else {
      g_assert_cmpint (face->label, ==, -1);
      g_assert_null (face->probs);
    }
  }

  /* a pixel aspect ratio beyond FEMO_ANALYZER_MAX_PAR (caps may carry
   * any) is cropped as that one, not as a crop 1000 times as wide */
  f.n_faces = 1;
  f.par_n = 1;
  f.par_d = 1000;
  g_assert_true (femo_analyzer_process (a, &s, &f, &r, NULL));
  assert_own_emotion (&r.faces[0], &f.image, s.crop_margin, 1,
      FEMO_ANALYZER_MAX_PAR, infer);
  f.par_n = G_MAXINT;
  f.par_d = 1;
  g_assert_true (femo_analyzer_process (a, &s, &f, &r, NULL));
  assert_own_emotion (&r.faces[0], &f.image, s.crop_margin,
      FEMO_ANALYZER_MAX_PAR, 1, infer);
  gst_buffer_unmap (g_ptr_array_index (frames, 0), &map);
  femo_infer_free (infer);
  femo_analyzer_free (a);
}

/* process-width: a frame scanned at half its width gives about the same
 * boxes, in full-frame pixels. */
static void
test_process_width (void)
{
  FemoAnalyzer *a = analyzer_new (2);
  FemoAnalyzerSettings s;
  FemoAnalyzerResult r;
  FemoRect full;
  gdouble ix, iy, iou;
  const FemoRect *b;

  video_settings (&s);
  s.tracking = FALSE;
  process_video_frame (a, &s, M_FIRST, FALSE, &r);
  g_assert_cmpuint (r.n_faces, ==, 1);
  full = r.faces[0].box;
  s.process_width = frame_width / 2;
  process_video_frame (a, &s, M_FIRST, FALSE, &r);
  g_assert_cmpuint (r.n_faces, ==, 1);
  b = &r.faces[0].box;
  ix = MIN (b->x + b->width, full.x + full.width) - MAX (b->x, full.x);
  iy = MIN (b->y + b->height, full.y + full.height) - MAX (b->y, full.y);
  iou = ix * iy / ((gdouble) b->width * b->height
      + (gdouble) full.width * full.height - ix * iy);
  g_test_message ("full %dx%d+%d+%d, half width %dx%d+%d+%d: IoU %.3f",
      full.width, full.height, full.x, full.y, b->width, b->height, b->x,
      b->y, iou);
  g_assert_cmpfloat (iou, >, 0.85);
  femo_analyzer_free (a);
}

/* A file that does not load leaves the analyzer as it was. */
static void
test_load_errors (void)
{
  FemoAnalyzer *a = analyzer_new (1);
  FemoModel *model = femo_analyzer_get_model (a);
  const FemoFaceDetector *detector = femo_analyzer_get_detector (a);
  GError *error = NULL;

  g_assert_false (femo_analyzer_load_detector (a, FEMO_FACE_DETECTOR_CASCADE,
          "/nonexistent/cascade.xml", 1, &error));
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "/nonexistent/cascade.xml"));
  g_clear_error (&error);
  g_assert_true (femo_analyzer_get_detector (a) == detector);
  g_assert_false (femo_analyzer_load_model (a, "/nonexistent/m.safetensors",
          &error));
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "/nonexistent/m.safetensors"));
  g_clear_error (&error);
  g_assert_true (femo_analyzer_get_model (a) == model);
  g_assert_cmpstr (femo_face_detector_describe (detector), ==,
      "Haar cascade");
  femo_analyzer_set_n_threads (a, 2);
  g_assert_cmpuint (femo_face_detector_get_n_threads (detector), ==, 2);
  g_assert_cmpuint (femo_face_detector_get_threads_used (detector), ==, 2);
  femo_analyzer_free (a);
}

int
main (int argc, char **argv)
{
  gint ret;

  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  femo_test_require_default_cascade ();
  frames = femo_test_decode_video_gray (FEMO_TEST_MONTAGE, M_FIRST, M_LAST,
      FEMO_TEST_MONTAGE_FPS_N, FEMO_TEST_MONTAGE_FPS_D, &frame_width,
      &frame_height);
  g_test_add_func ("/analyzer/video-tracks", test_video_tracks);
  g_test_add_func ("/analyzer/video-intervals", test_video_intervals);
  g_test_add_func ("/analyzer/video-late", test_video_late);
  g_test_add_func ("/analyzer/reset-untimed", test_reset_and_untimed);
  g_test_add_func ("/analyzer/photo-untracked", test_photo_untracked);
  g_test_add_func ("/analyzer/untracked-overflow", test_untracked_overflow);
  g_test_add_func ("/analyzer/given-boxes-clipped", test_given_boxes_clipped);
  g_test_add_func ("/analyzer/process-width", test_process_width);
  g_test_add_func ("/analyzer/merge-overlaps", test_merge_overlaps);
  g_test_add_func ("/analyzer/min-confidence-cascade",
      test_min_confidence_cascade);
  g_test_add_func ("/analyzer/load-errors", test_load_errors);
  ret = g_test_run ();
  g_ptr_array_unref (frames);
  return ret;
}
