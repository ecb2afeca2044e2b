/* gst-femo tests: FemoAnalyzer with YuNet, on the shared photos (decoded
 * by GStreamer) and frames of the shared montage
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What the analyzer adds around the network (test-yunet.c tests the
 * network itself): the colour of each kind of frame, the threshold as the
 * minimum confidence, boxes clipped and filtered, process-width, landmarks
 * on faces and on the frames a track carries, and aligned crops.
 */
#include "config.h"

#include "test-util.h"
#include "femo-analyzer.h"
#include "femo-face-crop.h"
#include "femo-json.h"
#include "femo-yunet.h"

#include <math.h>
#include <string.h>

#define PHOTO "media/facerec_two_people.jpg"
/* Upstream's faces of the photos (libfacedetection on OpenCV's decoding). */
#define REFERENCE "media/reference-yunet.json"

typedef struct
{
  guint8 *rgb;
  gint width, height;
} Photo;

static const FemoRgbLayout rgb_layout = { 3, 0, 1, 2 };

static gchar *
yunet_path (void)
{
  return g_build_filename (g_getenv ("FEMO_MODEL_DIR"), "yunet.safetensors",
      NULL);
}

static FemoAnalyzer *
analyzer_new (void)
{
  FemoAnalyzer *a = femo_analyzer_new ();
  gchar *yunet = yunet_path ();
  gchar *model = g_build_filename (g_getenv ("FEMO_MODEL_DIR"),
      "fer2013-mini-xception.safetensors", NULL);
  GError *error = NULL;

  g_assert_true (femo_analyzer_load_detector (a, FEMO_FACE_DETECTOR_YUNET,
          yunet, 2, &error));
  g_assert_no_error (error);
  g_assert_true (femo_analyzer_load_model (a, model, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (femo_face_detector_describe (femo_analyzer_get_detector
          (a)), ==, "YuNet");
  g_free (yunet);
  g_free (model);
  return a;
}

static void
photo_load (const gchar * relative, Photo * p)
{
  gchar *path = femo_test_shared_path (relative);
  GError *error = NULL;

  p->rgb = femo_test_load_image (path, GST_VIDEO_FORMAT_RGB, &p->width,
      &p->height, &error);
  g_assert_no_error (error);
  g_free (path);
}

/* Untracked, unclassified detection: what these tests look at. */
static void
detect_settings (FemoAnalyzerSettings * s)
{
  femo_analyzer_settings_init (s);
  s->tracking = FALSE;
  s->classify = FALSE;
  s->min_size = 0;
}

static void
rgb_frame (const Photo * p, FemoAnalyzerFrame * f)
{
  memset (f, 0, sizeof (*f));
  f->image = (FemoImageView) {
  p->rgb, p->width, p->height, p->width * 3, 3};
  f->rgb = &rgb_layout;
  f->par_n = f->par_d = 1;
  f->time_ns = FEMO_ANALYZER_TIME_NONE;
}

/* The analyzer's faces, copied (its arrays change with the next call). */
static GArray *
process (FemoAnalyzer * a, const FemoAnalyzerSettings * s,
    const FemoAnalyzerFrame * f)
{
  FemoAnalyzerResult r;
  GError *error = NULL;
  GArray *faces = g_array_new (FALSE, FALSE, sizeof (FemoAnalyzedFace));

  g_assert_true (femo_analyzer_process (a, s, f, &r, &error));
  g_assert_no_error (error);
  g_assert_true (r.detected);
  g_array_append_vals (faces, r.faces, r.n_faces);
  return faces;
}

static gdouble
iou (const FemoRect * a, const FemoRect * b)
{
  gdouble iw = MIN (a->x + a->width, b->x + b->width) - MAX (a->x, b->x);
  gdouble ih = MIN (a->y + a->height, b->y + b->height) - MAX (a->y, b->y);
  gdouble inter = iw > 0 && ih > 0 ? iw * ih : 0;

  return inter / ((gdouble) a->width * a->height +
      (gdouble) b->width * b->height - inter);
}

/* The share of @inner's area that lies in @outer. */
static gdouble
covered (const FemoRect * inner, const FemoRect * outer)
{
  gdouble iw = MIN (inner->x + inner->width, outer->x + outer->width) -
      MAX (inner->x, outer->x);
  gdouble ih = MIN (inner->y + inner->height, outer->y + outer->height) -
      MAX (inner->y, outer->y);

  return iw > 0 && ih > 0 ? iw * ih / ((gdouble) inner->width *
      inner->height) : 0;
}

/* The face of @faces that best overlaps @box, or NULL below @min_iou. */
static const FemoAnalyzedFace *
match (GArray * faces, const FemoRect * box, gdouble min_iou)
{
  const FemoAnalyzedFace *best = NULL;
  gdouble best_iou = min_iou;

  for (guint i = 0; i < faces->len; i++) {
    const FemoAnalyzedFace *f = &g_array_index (faces, FemoAnalyzedFace, i);
    gdouble v = iou (&f->box, box);

    if (v >= best_iou) {
      best_iou = v;
      best = f;
    }
  }
  return best;
}

static gdouble
landmark_distance (const FemoLandmarks * a, const FemoLandmarks * b)
{
  gdouble worst = 0;

  for (gint k = 0; k < FEMO_N_LANDMARKS; k++)
    worst = MAX (worst, hypot (a->points[2 * k] - b->points[2 * k],
            a->points[2 * k + 1] - b->points[2 * k + 1]));
  return worst;
}

/* An upright face's landmarks lie in its box (a tenth of it around), the
 * eyes left and right of the nose and above the mouth corners. */
static void
assert_face_landmarks (const FemoAnalyzedFace * f)
{
  const gfloat *p = f->landmarks.points;
  gdouble mx = f->box.width / 10.0, my = f->box.height / 10.0;

  g_assert_true (f->has_landmarks);
  for (gint k = 0; k < FEMO_N_LANDMARKS; k++) {
    g_assert_cmpfloat (p[2 * k], >=, f->box.x - mx);
    g_assert_cmpfloat (p[2 * k], <=, f->box.x + f->box.width + mx);
    g_assert_cmpfloat (p[2 * k + 1], >=, f->box.y - my);
    g_assert_cmpfloat (p[2 * k + 1], <=, f->box.y + f->box.height + my);
  }
  g_assert_cmpfloat (p[2 * FEMO_LANDMARK_LEFT_EYE], <,
      p[2 * FEMO_LANDMARK_NOSE]);
  g_assert_cmpfloat (p[2 * FEMO_LANDMARK_NOSE], <,
      p[2 * FEMO_LANDMARK_RIGHT_EYE]);
  g_assert_cmpfloat (p[2 * FEMO_LANDMARK_LEFT_EYE + 1], <,
      p[2 * FEMO_LANDMARK_LEFT_MOUTH + 1]);
  g_assert_cmpfloat (p[2 * FEMO_LANDMARK_RIGHT_EYE + 1], <,
      p[2 * FEMO_LANDMARK_RIGHT_MOUTH + 1]);
}

/* Upstream's faces of the shared photos (REFERENCE). */
static FemoJson *
reference_load (void)
{
  gchar *path = femo_test_shared_path (REFERENCE);
  gsize length;
  gchar *text = femo_test_read_file (path, &length);
  GError *error = NULL;
  FemoJson *reference = femo_json_parse (text, length, &error);

  g_assert_no_error (error);
  g_free (text);
  g_free (path);
  return reference;
}

/* Upstream's faces of @photo, highest score first. */
static const FemoJson *
reference_detections (const FemoJson * reference, const gchar * photo)
{
  const FemoJson *d = femo_json_object_get (femo_json_object_get
      (femo_json_object_get (reference, "images"), photo), "detections");

  g_assert_nonnull (d);
  return d;
}

/* The upstream box @d of reference-yunet.json. */
static FemoRect
upstream_box (const FemoJson * d)
{
  const FemoJson *box = femo_json_object_get (d, "box");
  FemoRect r = {
    femo_json_get_int (femo_json_array_get (box, 0)),
    femo_json_get_int (femo_json_array_get (box, 1)),
    femo_json_get_int (femo_json_array_get (box, 2)),
    femo_json_get_int (femo_json_array_get (box, 3)), 0
  };

  return r;
}

/* A face larger than the image's own scan takes, in an image large
 * enough to be scanned shrunk too: upstream's (single scan) box of it is
 * partial, or one of several; here one face holds it, better scored. */
static void
assert_large_face (GArray * faces, const FemoRect * want, gdouble score,
    const gchar * photo)
{
  const FemoAnalyzedFace *got = NULL;

  for (guint j = 0; j < faces->len; j++) {
    const FemoAnalyzedFace *f = &g_array_index (faces, FemoAnalyzedFace, j);

    if (covered (want, &f->box) >= 0.8) {
      g_assert_null (got);
      got = f;
    }
  }
  if (got == NULL)
    g_error ("%s: no face holds upstream's %d,%d %dx%d (score %.3f)", photo,
        want->x, want->y, want->width, want->height, score);
  g_test_message ("%s: %d,%d %dx%d score %.3f holds upstream's %d,%d %dx%d "
      "(score %.3f)", photo, got->box.x, got->box.y, got->box.width,
      got->box.height, got->confidence, want->x, want->y, want->width,
      want->height, score);
  g_assert_cmpfloat (got->confidence, >, score);
  assert_face_landmarks (got);
}

/* The photos: upstream's faces of score 0.7 or more (its own decoding of
 * the JPEG differs from GStreamer's in the last bits) are found, with
 * about its score, box and landmarks, but for the large faces the image's
 * own scan leaves to the shrunk one (assert_large_face()); every face
 * found has the default minimum confidence, a box in the frame and
 * landmarks in its box. */
static void
test_photos (void)
{
  static const gchar *const photos[] = {
    "facerec_two_people.jpg", "facerec_obama_small.jpg",
    "dlib_2008_002506.jpg", "skimage_astronaut.png", "deepface_couple.jpg",
  };
  FemoJson *reference = reference_load ();
  FemoAnalyzer *a = analyzer_new ();
  FemoAnalyzerSettings s;

  detect_settings (&s);
  for (guint i = 0; i < G_N_ELEMENTS (photos); i++) {
    gchar *relative = g_strconcat ("media/", photos[i], NULL);
    const FemoJson *expected = reference_detections (reference, photos[i]);
    FemoAnalyzerFrame f;
    GArray *faces;
    Photo p;
    guint n_strong = 0;

    photo_load (relative, &p);
    rgb_frame (&p, &f);
    faces = process (a, &s, &f);
    for (guint j = 0; j < faces->len; j++) {
      const FemoAnalyzedFace *face = &g_array_index (faces,
          FemoAnalyzedFace, j);

      g_assert_true (face->detected);
      g_assert_cmpfloat (face->confidence, >=,
          FEMO_YUNET_DEFAULT_MIN_CONFIDENCE);
      g_assert_cmpint (face->box.x + face->box.width, <=, p.width);
      g_assert_cmpint (face->box.y + face->box.height, <=, p.height);
      g_assert_true (face->has_landmarks);
    }
    for (guint j = 0; j < femo_json_get_length (expected); j++) {
      const FemoJson *d = femo_json_array_get (expected, j);
      const FemoJson *points = femo_json_object_get (d, "landmarks");
      gdouble score = femo_json_get_double (femo_json_object_get (d,
              "score"));
      FemoRect want = upstream_box (d);
      FemoLandmarks want_points;
      const FemoAnalyzedFace *got;

      if (score < 0.7)
        continue;
      n_strong++;
      if (MIN (p.width, p.height) > FEMO_YUNET_SHRINK_ABOVE
          && MAX (want.width, want.height) > FEMO_YUNET_FULL_SCAN_LIMIT) {
        assert_large_face (faces, &want, score, photos[i]);
        continue;
      }
      for (gint k = 0; k < FEMO_N_LANDMARKS; k++)
        for (gint c = 0; c < 2; c++)
          want_points.points[2 * k + c] = femo_json_get_int
              (femo_json_array_get (femo_json_array_get (points, k), c));
      got = match (faces, &want, 0.85);
      if (got == NULL)
        g_error ("%s: upstream's face %d,%d %dx%d (score %.3f) not found",
            photos[i], want.x, want.y, want.width, want.height, score);
      g_test_message ("%s: %d,%d %dx%d score %.3f; upstream %.3f, IoU %.3f, "
          "landmarks within %.2f", photos[i], got->box.x, got->box.y,
          got->box.width, got->box.height, got->confidence, score,
          iou (&got->box, &want), landmark_distance (&got->landmarks,
              &want_points));
      g_assert_cmpfloat (fabs (got->confidence - score), <, 0.05);
      /* upstream's points are truncated to integers */
      g_assert_cmpfloat (landmark_distance (&got->landmarks, &want_points), <,
          3.0 + 0.02 * want.width);
      assert_face_landmarks (got);
    }
    g_assert_cmpuint (n_strong, >, 0);
    g_array_unref (faces);
    g_free (p.rgb);
    g_free (relative);
  }
  femo_analyzer_free (a);
  femo_json_free (reference);
}

/* PHOTO into @p and @f, its faces at upstream's threshold with the
 * settings @s of detect_settings(). */
static GArray *
upstream_faces (FemoAnalyzer * a, Photo * p, FemoAnalyzerSettings * s,
    FemoAnalyzerFrame * f)
{
  photo_load (PHOTO, p);
  rgb_frame (p, f);
  detect_settings (s);
  s->min_confidence = FEMO_YUNET_UPSTREAM_THRESHOLD;
  return process (a, s, f);
}

/* The minimum confidence is the network's threshold: at any threshold the
 * faces are those of the lowest one with that score, in the same order
 * and the same places (greedy NMS in score order); -1 is the default. A
 * face scored just below it is dropped also where the threshold's nearest
 * float is below it (the network's scores are floats). */
static void
test_min_confidence (void)
{
  static const gdouble thresholds[] = { 0.3, 0.5, -1.0, 0.9, 0.99 };
  FemoAnalyzer *a = analyzer_new ();
  FemoAnalyzerSettings s;
  FemoAnalyzerFrame f;
  Photo p;
  GArray *all = upstream_faces (a, &p, &s, &f);

  g_test_message ("%u faces at upstream's threshold", all->len);
  g_assert_cmpuint (all->len, >=, 3);
  for (guint t = 0; t < G_N_ELEMENTS (thresholds); t++) {
    gdouble threshold = thresholds[t] < 0 ?
        FEMO_YUNET_DEFAULT_MIN_CONFIDENCE : thresholds[t];
    GArray *some;
    guint k = 0;

    s.min_confidence = thresholds[t];
    some = process (a, &s, &f);
    for (guint i = 0; i < all->len; i++) {
      const FemoAnalyzedFace *want = &g_array_index (all, FemoAnalyzedFace,
          i);
      const FemoAnalyzedFace *got;

      if (want->confidence < threshold)
        continue;
      g_assert_cmpuint (k, <, some->len);
      got = &g_array_index (some, FemoAnalyzedFace, k++);
      g_assert_cmpmem (&got->box, sizeof (FemoRect), &want->box,
          sizeof (FemoRect));
      g_assert_cmpfloat (got->confidence, ==, want->confidence);
      g_assert_cmpmem (&got->landmarks, sizeof (FemoLandmarks),
          &want->landmarks, sizeof (FemoLandmarks));
    }
    g_assert_cmpuint (k, ==, some->len);
    if (thresholds[t] == 0.5)
      g_assert_cmpuint (some->len, <, all->len);
    g_array_unref (some);
  }
  for (guint i = 0; i < all->len; i++) {
    const FemoAnalyzedFace *want = &g_array_index (all, FemoAnalyzedFace, i);
    guint n_above = 0;
    GArray *some;

    /* the next double after the score rounds to the score as a float */
    s.min_confidence = nextafter (want->confidence, 2.0);
    g_assert_cmpfloat ((gfloat) s.min_confidence, ==, want->confidence);
    for (guint j = 0; j < all->len; j++)
      n_above += g_array_index (all, FemoAnalyzedFace, j).confidence >
          want->confidence;
    some = process (a, &s, &f);
    g_assert_cmpuint (some->len, ==, n_above);
    for (guint j = 0; j < some->len; j++)
      g_assert_cmpfloat (g_array_index (some, FemoAnalyzedFace,
              j).confidence, >, want->confidence);
    g_array_unref (some);
  }
  g_array_unref (all);
  g_free (p.rgb);
  femo_analyzer_free (a);
}

/* min-size and max-size drop YuNet's boxes by their larger side; max-faces
 * keeps the largest, in score order. */
static void
test_sizes_and_max_faces (void)
{
  FemoAnalyzer *a = analyzer_new ();
  FemoAnalyzerSettings s;
  FemoAnalyzerFrame f;
  GArray *all, *some;
  gint limit = 80;
  guint i, n_large = 0;
  gsize largest = 0;
  Photo p;

  all = upstream_faces (a, &p, &s, &f);
  for (i = 0; i < all->len; i++) {
    const FemoRect *b = &g_array_index (all, FemoAnalyzedFace, i).box;

    n_large += MAX (b->width, b->height) >= limit;
    if ((gint64) b->width * b->height > (gint64) g_array_index (all,
            FemoAnalyzedFace, largest).box.width * g_array_index (all,
            FemoAnalyzedFace, largest).box.height)
      largest = i;
  }
  g_assert_cmpuint (n_large, >, 0);
  g_assert_cmpuint (n_large, <, all->len);

  s.min_size = limit;
  some = process (a, &s, &f);
  g_assert_cmpuint (some->len, ==, n_large);
  for (i = 0; i < some->len; i++)
    g_assert_cmpint (MAX (g_array_index (some, FemoAnalyzedFace, i).box.width,
            g_array_index (some, FemoAnalyzedFace, i).box.height), >=, limit);
  g_array_unref (some);

  s.min_size = 0;
  s.max_size = limit;
  some = process (a, &s, &f);
  g_assert_cmpuint (some->len, >, 0);
  g_assert_cmpuint (some->len, <, all->len);
  for (i = 0; i < some->len; i++)
    g_assert_cmpint (MAX (g_array_index (some, FemoAnalyzedFace, i).box.width,
            g_array_index (some, FemoAnalyzedFace, i).box.height), <=, limit);
  g_array_unref (some);

  s.max_size = 0;
  s.max_faces = 1;
  some = process (a, &s, &f);
  g_assert_cmpuint (some->len, ==, 1);
  g_assert_cmpmem (&g_array_index (some, FemoAnalyzedFace, 0).box,
      sizeof (FemoRect), &g_array_index (all, FemoAnalyzedFace, largest).box,
      sizeof (FemoRect));
  g_array_unref (some);
  g_array_unref (all);
  g_free (p.rgb);
  femo_analyzer_free (a);
}

static void
assert_identical (GArray * got, GArray * want)
{
  g_assert_cmpuint (got->len, ==, want->len);
  for (guint i = 0; i < want->len; i++) {
    const FemoAnalyzedFace *g = &g_array_index (got, FemoAnalyzedFace, i);
    const FemoAnalyzedFace *w = &g_array_index (want, FemoAnalyzedFace, i);

    g_assert_cmpmem (&g->box, sizeof (FemoRect), &w->box, sizeof (FemoRect));
    g_assert_cmpfloat (g->confidence, ==, w->confidence);
    g_assert_cmpmem (&g->landmarks, sizeof (FemoLandmarks), &w->landmarks,
        sizeof (FemoLandmarks));
  }
}

/* BT.601 video range Y'CbCr of packed RGB, 4:2:0 (the mean of each 2x2
 * block's chroma): the I420 planes of @p, as an encoder makes them. */
static void
rgb_to_i420 (const Photo * p, guint8 * y, guint8 * u, guint8 * v)
{
  gint cw = (p->width + 1) / 2, ch = (p->height + 1) / 2;

  for (gint j = 0; j < p->height; j++)
    for (gint i = 0; i < p->width; i++) {
      const guint8 *s = p->rgb + ((gsize) j * p->width + i) * 3;

      y[(gsize) j * p->width + i] = (guint8) lround (16 + (65.481 * s[0] +
              128.553 * s[1] + 24.966 * s[2]) / 255);
    }
  for (gint j = 0; j < ch; j++)
    for (gint i = 0; i < cw; i++) {
      gdouble cb = 0, cr = 0;
      gint n = 0;

      for (gint dy = 0; dy < 2 && 2 * j + dy < p->height; dy++)
        for (gint dx = 0; dx < 2 && 2 * i + dx < p->width; dx++) {
          const guint8 *s = p->rgb + ((gsize) (2 * j + dy) * p->width + 2 * i
              + dx) * 3;

          cb += (-37.797 * s[0] - 74.203 * s[1] + 112.0 * s[2]) / 255;
          cr += (112.0 * s[0] - 93.786 * s[1] - 18.214 * s[2]) / 255;
          n++;
        }
      u[(gsize) j * cw + i] = (guint8) lround (128 + cb / n);
      v[(gsize) j * cw + i] = (guint8) lround (128 + cr / n);
    }
}

/* The strong faces of @got and @want agree: each of @want of score 0.8 or
 * more is in @got, IoU @min_iou, about the same score, landmarks within
 * @spread of its box's width. */
static void
assert_same_faces (GArray * got, GArray * want, gdouble min_iou,
    gdouble max_score_diff, gdouble spread, const gchar * what)
{
  guint n = 0;

  for (guint i = 0; i < want->len; i++) {
    const FemoAnalyzedFace *w = &g_array_index (want, FemoAnalyzedFace, i);
    const FemoAnalyzedFace *g;

    if (w->confidence < 0.8)
      continue;
    n++;
    g = match (got, &w->box, min_iou);
    if (g == NULL)
      g_error ("%s: no face at %d,%d %dx%d", what, w->box.x, w->box.y,
          w->box.width, w->box.height);
    g_test_message ("%s: score %.4f against %.4f, IoU %.3f, landmarks "
        "within %.2f", what, g->confidence, w->confidence,
        iou (&g->box, &w->box), landmark_distance (&g->landmarks,
            &w->landmarks));
    g_assert_cmpfloat (fabs (g->confidence - w->confidence), <=,
        max_score_diff);
    g_assert_cmpfloat (landmark_distance (&g->landmarks, &w->landmarks), <=,
        spread * w->box.width);
  }
  g_assert_cmpuint (n, >=, 2);
}

/* Each kind of frame reaches YuNet in colour: packed RGB in any layout
 * exactly, I420 through its chroma (the colours back within its
 * rounding), GRAY8 as gray; and at process-width the faces come back in
 * full-frame pixels. */
static void
test_frame_kinds (void)
{
  FemoAnalyzer *a = analyzer_new ();
  FemoAnalyzerSettings s;
  FemoAnalyzerFrame f;
  GArray *want, *got;
  const FemoRgbLayout xbgr = { 4, 3, 2, 1 };
  guint8 *packed, *y, *u, *v;
  gint cw, ch;
  Photo p;

  photo_load (PHOTO, &p);
  cw = (p.width + 1) / 2;
  ch = (p.height + 1) / 2;
  rgb_frame (&p, &f);
  detect_settings (&s);
  want = process (a, &s, &f);

  /* xBGR: the same pixels, the same faces exactly */
  packed = g_malloc ((gsize) p.width * p.height * 4);
  for (gsize i = 0; i < (gsize) p.width * p.height; i++) {
    packed[4 * i] = 0x55;
    packed[4 * i + 1] = p.rgb[3 * i + 2];
    packed[4 * i + 2] = p.rgb[3 * i + 1];
    packed[4 * i + 3] = p.rgb[3 * i];
  }
  f.image = (FemoImageView) {
  packed, p.width, p.height, p.width * 4, 4};
  f.rgb = &xbgr;
  got = process (a, &s, &f);
  assert_identical (got, want);
  g_array_unref (got);

  /* I420 */
  y = g_malloc ((gsize) p.width * p.height);
  u = g_malloc ((gsize) cw * ch);
  v = g_malloc ((gsize) cw * ch);
  rgb_to_i420 (&p, y, u, v);
  memset (&f, 0, sizeof (f));
  f.image = (FemoImageView) {
  y, p.width, p.height, p.width, 1};
  f.chroma = (FemoChroma) {
    {u, cw, ch, cw, 1}, {v, cw, ch, cw, 1}, 1, 1, FEMO_YUV_MATRIX_BT601,
    FALSE
  };
  f.par_n = f.par_d = 1;
  f.time_ns = FEMO_ANALYZER_TIME_NONE;
  got = process (a, &s, &f);
  assert_same_faces (got, want, 0.9, 0.02, 0.015, "I420");
  g_array_unref (got);

  /* process-width: the faces in full-frame pixels (the network's landmarks
   * on a face half the size are a little less sure: a face scaled down by
   * videoscale gives the same) */
  s.process_width = p.width / 2;
  got = process (a, &s, &f);
  assert_same_faces (got, want, 0.85, 0.05, 0.06, "I420 at half width");
  g_array_unref (got);
  rgb_frame (&p, &f);
  got = process (a, &s, &f);
  assert_same_faces (got, want, 0.85, 0.05, 0.06, "RGB at half width");
  g_array_unref (got);
  s.process_width = 0;

  /* the luma alone: gray, the faces still found */
  memset (&f, 0, sizeof (f));
  f.image = (FemoImageView) {
  y, p.width, p.height, p.width, 1};
  f.par_n = f.par_d = 1;
  f.time_ns = FEMO_ANALYZER_TIME_NONE;
  got = process (a, &s, &f);
  assert_same_faces (got, want, 0.8, 0.1, 0.08, "GRAY8");
  g_array_unref (got);

  g_array_unref (want);
  g_free (y);
  g_free (u);
  g_free (v);
  g_free (packed);
  g_free (p.rgb);
  femo_analyzer_free (a);
}

/* @p enlarged @times (bilinear, femo_image_resample_to) into @big. */
static void
photo_enlarge (const Photo * p, gint times, Photo * big)
{
  big->width = p->width * times;
  big->height = p->height * times;
  big->rgb = g_malloc ((gsize) big->width * big->height * 3);
  for (gint c = 0; c < 3; c++) {
    FemoImageView channel = { p->rgb + c, p->width, p->height, p->width * 3,
      3
    };

    femo_image_resample_to (&channel, 0, 0, p->width, p->height,
        big->rgb + c, big->width, big->height, big->width * 3, 3);
  }
}

/* Faces far larger than the network's strides fit: the public-domain
 * photos enlarged so that the face is some 700 and 1,000 pixels tall. The
 * image's own scan scores them below the default minimum confidence (or,
 * the astronaut, lower and beside partial boxes); with the shrunk scan
 * each is one face, scored as on the photo, where upstream finds it on
 * the photo, its landmarks in place; the same at 1 and 2 threads. */
static void
test_large_faces (void)
{
  static const struct
  {
    const gchar *photo;
    gint times;
  } cases[] = {
    {"skimage_astronaut.png", 6},
    {"facedetect_grace_hopper_512x512.jpg", 5},
  };
  FemoJson *reference = reference_load ();
  FemoAnalyzer *a = analyzer_new ();
  FemoAnalyzerSettings s;

  detect_settings (&s);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    gchar *relative = g_strconcat ("media/", cases[i].photo, NULL);
    const FemoJson *d = femo_json_array_get (reference_detections (reference,
            cases[i].photo), 0);
    FemoRect want = upstream_box (d);
    const FemoAnalyzedFace *got;
    FemoAnalyzerFrame f;
    GArray *faces, *one_thread;
    Photo small, p;

    photo_load (relative, &small);
    photo_enlarge (&small, cases[i].times, &p);
    want.x *= cases[i].times;
    want.y *= cases[i].times;
    want.width *= cases[i].times;
    want.height *= cases[i].times;
    rgb_frame (&p, &f);
    femo_analyzer_set_n_threads (a, 2);
    faces = process (a, &s, &f);
    /* one face on it (the enlarged texture elsewhere may give a small
     * false one) */
    got = NULL;
    for (guint j = 0; j < faces->len; j++) {
      const FemoAnalyzedFace *face = &g_array_index (faces, FemoAnalyzedFace,
          j);

      if (iou (&face->box, &want) > 0) {
        g_assert_null (got);
        got = face;
      }
    }
    if (got == NULL)
      g_error ("%s x%d: no face", cases[i].photo, cases[i].times);
    g_test_message ("%s x%d: %d,%d %dx%d score %.3f; upstream's on the "
        "photo, enlarged: %d,%d %dx%d score %.3f, IoU %.3f", cases[i].photo,
        cases[i].times, got->box.x, got->box.y, got->box.width,
        got->box.height, got->confidence, want.x, want.y, want.width,
        want.height, femo_json_get_double (femo_json_object_get (d,
                "score")), iou (&got->box, &want));
    g_assert_cmpint (MAX (want.width, want.height), >,
        FEMO_YUNET_FULL_SCAN_LIMIT);
    g_assert_cmpfloat (got->confidence, >=, 0.9);
    g_assert_cmpfloat (iou (&got->box, &want), >=, 0.8);
    assert_face_landmarks (got);

    femo_analyzer_set_n_threads (a, 1);
    one_thread = process (a, &s, &f);
    assert_identical (one_thread, faces);
    g_array_unref (one_thread);
    g_array_unref (faces);
    g_free (p.rgb);
    g_free (small.rgb);
    g_free (relative);
  }
  femo_analyzer_free (a);
  femo_json_free (reference);
}

/* A track carries its landmarks on the frames without detection, moved
 * and scaled with its box: where they sit in the box stays as at the
 * detection. */
static void
test_carried_landmarks (void)
{
  GPtrArray *frames;
  FemoAnalyzer *a = analyzer_new ();
  FemoAnalyzerSettings s;
  FemoLandmarks relative;
  gint width, height;
  guint n, n_carried = 0;

  frames = femo_test_decode_video_gray (FEMO_TEST_MONTAGE,
      FEMO_TEST_MONTAGE_FIRST, FEMO_TEST_MONTAGE_FIRST + 11,
      FEMO_TEST_MONTAGE_FPS_N, FEMO_TEST_MONTAGE_FPS_D, &width, &height);
  femo_analyzer_settings_init (&s);
  s.classify = FALSE;
  s.detect_interval = 3;
  for (n = 0; n < frames->len; n++) {
    GstBuffer *buf = g_ptr_array_index (frames, n);
    FemoAnalyzerFrame f = { {0}, };
    FemoAnalyzerResult r;
    const FemoAnalyzedFace *face;
    GstMapInfo map;

    g_assert_true (gst_buffer_map (buf, &map, GST_MAP_READ));
    f.image = (FemoImageView) {
    map.data, width, height, width, 1};
    f.par_n = f.par_d = 1;
    f.time_ns = GST_BUFFER_PTS (buf);
    f.duration_ns = GST_BUFFER_DURATION (buf);
    g_assert_true (femo_analyzer_process (a, &s, &f, &r, NULL));
    gst_buffer_unmap (buf, &map);
    g_assert_cmpuint (r.n_faces, ==, 1);
    face = &r.faces[0];
    g_assert_true (face->has_landmarks);
    g_assert_cmpuint (face->track_id, ==, 1);
    g_assert_cmpint (r.detected, ==, n % 3 == 0);
    for (gint k = 0; k < 2 * FEMO_N_LANDMARKS; k++) {
      gdouble start = k % 2 ? face->box.y : face->box.x;
      gdouble size = k % 2 ? face->box.height : face->box.width;
      gdouble at = (face->landmarks.points[k] - start) / size;

      /* carried boxes are rounded and clipped: a pixel */
      if (r.detected)
        relative.points[k] = at;
      else
        g_assert_cmpfloat (fabs (at - relative.points[k]), <=, 1.5 / size);
    }
    if (!r.detected)
      n_carried++;
    else
      assert_face_landmarks (face);
  }
  g_assert_cmpuint (n_carried, ==, 8);
  g_ptr_array_unref (frames);
  femo_analyzer_free (a);
}

/* align: faces with landmarks are classified on femo_face_crop_aligned's
 * crop of the luma, at their eyes; off, on the box crop; tracked or not
 * (the tracker's appearance check keeps box crops). */
static void
test_aligned_crops (void)
{
  FemoAnalyzer *a = analyzer_new ();
  FemoInfer *infer = femo_infer_new (femo_analyzer_get_model (a));
  guint n_labels = femo_model_get_n_labels (femo_analyzer_get_model (a));
  FemoAnalyzerSettings s;
  FemoAnalyzerFrame f;
  FemoAnalyzerResult r;
  FemoImageView luma;
  guint8 *gray;
  Photo p;

  photo_load (PHOTO, &p);
  gray = g_malloc ((gsize) p.width * p.height);
  femo_rgb_to_gray (p.rgb, p.width * 3, &rgb_layout, p.width, p.height, gray,
      p.width);
  luma = (FemoImageView) {
  gray, p.width, p.height, p.width, 1};
  rgb_frame (&p, &f);
  detect_settings (&s);
  s.classify = TRUE;
  for (gint mode = 0; mode < 4; mode++) {
    gint align = mode % 2;

    s.align = align;
    s.tracking = mode >= 2;
    femo_analyzer_reset (a);
    g_assert_true (femo_analyzer_process (a, &s, &f, &r, NULL));
    g_assert_cmpuint (r.n_faces, >=, 2);
    g_assert_cmpuint (r.n_classified, ==, r.n_faces);
    g_assert_cmpint (r.tracked, ==, s.tracking);
    for (gsize i = 0; i < r.n_faces; i++) {
      const FemoAnalyzedFace *face = &r.faces[i];
      /* tracked: this frame's output is the raw one */
      const gfloat *got = s.tracking ? face->raw_probs : face->probs;
      const gfloat *pt = face->landmarks.points;
      guint8 crop[FEMO_NET_INPUT_PIXELS];
      gfloat probs[FEMO_NET_MAX_LABELS];
      gdouble x, y, w, h;

      if (align) {
        g_assert_true (femo_face_crop_aligned (&luma, pt[0], pt[1], pt[2],
                pt[3], 1, 1, crop, FEMO_NET_INPUT_SIZE));
      } else {
        femo_face_crop_region (face->box.x, face->box.y, face->box.width,
            face->box.height, s.crop_margin, 1, 1, &x, &y, &w, &h);
        femo_image_resample (&luma, x, y, w, h, crop, FEMO_NET_INPUT_SIZE,
            FEMO_NET_INPUT_SIZE);
      }
      femo_infer_run (infer, crop, 1, probs, NULL);
      g_assert_cmpmem (got, n_labels * sizeof (gfloat), probs,
          n_labels * sizeof (gfloat));
    }
  }
  femo_infer_free (infer);
  g_free (gray);
  g_free (p.rgb);
  femo_analyzer_free (a);
}

/* A file that is not YuNet's weights is refused with its name, and the
 * detector in use stays. */
static void
test_load_errors (void)
{
  FemoAnalyzer *a = analyzer_new ();
  const FemoFaceDetector *detector = femo_analyzer_get_detector (a);
  gchar *cascade = femo_test_cascade_path (FEMO_TEST_DEFAULT_CASCADE);
  GError *error = NULL;

  g_assert_false (femo_analyzer_load_detector (a, FEMO_FACE_DETECTOR_YUNET,
          cascade, 1, &error));
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, cascade));
  g_clear_error (&error);
  g_assert_true (femo_analyzer_get_detector (a) == detector);
  g_assert_cmpint (femo_face_detector_get_input_kind (detector), ==,
      FEMO_FACE_DETECTOR_INPUT_COLOR);
  g_assert_true (femo_face_detector_has_landmarks (detector));
  femo_analyzer_set_n_threads (a, 1);
  g_assert_cmpuint (femo_face_detector_get_threads_used (detector), ==, 1);
  g_free (cascade);
  femo_analyzer_free (a);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/analyzer-yunet/photos", test_photos);
  g_test_add_func ("/analyzer-yunet/min-confidence", test_min_confidence);
  g_test_add_func ("/analyzer-yunet/sizes-and-max-faces",
      test_sizes_and_max_faces);
  g_test_add_func ("/analyzer-yunet/frame-kinds", test_frame_kinds);
  g_test_add_func ("/analyzer-yunet/large-faces", test_large_faces);
  g_test_add_func ("/analyzer-yunet/carried-landmarks",
      test_carried_landmarks);
  g_test_add_func ("/analyzer-yunet/aligned-crops", test_aligned_crops);
  g_test_add_func ("/analyzer-yunet/load-errors", test_load_errors);
  return g_test_run ();
}
