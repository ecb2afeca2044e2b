/* gst-femo tests: femodetect's emotions and the metadata contract
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Real faces of the shared media set go through femodetect; every face's
 * "femo/emotion" and "detection" structures are checked field by field,
 * and the probabilities against the same crop classified here, outside
 * the element (femo_face_crop_region + femo_image_resample + the model).
 */
#include "config.h"
#include "femo-face-crop.h"
#include "femo-image.h"
#include "femo-meta.h"
#include "femo-model-cache.h"
#include "femo-net.h"
#include "test-util.h"

#include <glib/gstdio.h>
#include <gst/app/gstappsink.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include <math.h>
#include <string.h>

#define PROB_SUM_TOLERANCE 1e-4
/* The element and this test run the same code on the same bytes. */
#define PROB_TOLERANCE 1e-6

typedef struct
{
  guint8 *gray;
  gint width;
  gint height;
} Image;

static FemoModel *test_model;

static gchar *
model_path (void)
{
  return g_build_filename (g_getenv ("FEMO_MODEL_DIR"),
      "fer2013-mini-xception.safetensors", NULL);
}

static void
load_image (const gchar * stem, Image * image)
{
  gchar *relative = g_strdup_printf ("media/gray/%s.png", stem);
  gchar *path = femo_test_shared_path (relative);
  GError *error = NULL;

  image->gray = femo_test_load_image (path, GST_VIDEO_FORMAT_GRAY8,
      &image->width, &image->height, &error);
  g_assert_no_error (error);
  g_free (path);
  g_free (relative);
}

static GstBuffer *
gray_buffer (const Image * image)
{
  return gst_buffer_new_memdup (image->gray,
      (gsize) image->width * image->height);
}

static void
set_gray_caps (GstHarness * h, const Image * image, gint par_n, gint par_d)
{
  GstVideoInfo info;

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_GRAY8, image->width,
      image->height);
  info.par_n = par_n;
  info.par_d = par_d;
  gst_harness_set_src_caps (h, gst_video_info_to_caps (&info));
}

/* The element message of the last frame, or NULL. */
static GstMessage *
pop_message (GstHarness * h)
{
  GstBus *bus = gst_element_get_bus (h->element);
  GstMessage *msg;

  /* the per-frame message; tracks' messages are test-femodetect-track's */
  while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT))
      && !gst_message_has_name (msg, FEMO_META_DETECT_MESSAGE_NAME))
    gst_message_unref (msg);
  gst_object_unref (bus);
  return msg;
}

/* The face ROI metas of @buf, in buffer order. */
static GPtrArray *
face_rois (GstBuffer * buf)
{
  GPtrArray *rois = g_ptr_array_new ();
  gpointer state = NULL;
  FemoFaceInfo face;

  while (femo_buffer_iterate_faces (buf, &state, &face))
    g_ptr_array_add (rois, face.roi);
  return rois;
}

/* The first ROI meta of @type on @buf. */
static GstVideoRegionOfInterestMeta *
find_roi (GstBuffer * buf, const gchar * type)
{
  gpointer state = NULL;
  GstMeta *meta;

  while ((meta = gst_buffer_iterate_meta_filtered (buf, &state,
              GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
    GstVideoRegionOfInterestMeta *roi = (GstVideoRegionOfInterestMeta *) meta;

    if (roi->roi_type == g_quark_from_string (type))
      return roi;
  }
  return NULL;
}

/* What the model says about @roi's box, cropped here as the element
 * should: @margin, pixel aspect ratio @par_n/@par_d. */
static void
reference_probs (const Image * image, const GstVideoRegionOfInterestMeta * roi,
    gdouble margin, gint par_n, gint par_d, gfloat * probs)
{
  FemoImageView view = { image->gray, image->width, image->height,
    image->width, 1
  };
  guint8 crop[FEMO_NET_INPUT_PIXELS];
  FemoInfer *infer = femo_infer_new (test_model);
  gdouble x, y, w, h;

  femo_face_crop_region (roi->x, roi->y, roi->w, roi->h, margin, par_n, par_d,
      &x, &y, &w, &h);
  femo_image_resample (&view, x, y, w, h, crop, FEMO_NET_INPUT_SIZE,
      FEMO_NET_INPUT_SIZE);
  femo_infer_run (infer, crop, 1, probs, NULL);
  femo_infer_free (infer);
}

/* Checks @s is a complete "femo/emotion" structure and, when @expected is
 * given, that it holds those probabilities. */
static void
check_emotion (const GstStructure * s, const gfloat * expected)
{
  guint n_labels = femo_model_get_n_labels (test_model);
  const gchar *const *labels = femo_model_get_labels (test_model);
  gdouble sum = 0, best = -1, confidence, worst = 0;
  gint label_id, best_id = -1;
  guint k;

  g_assert_true (gst_structure_has_name (s, FEMO_META_EMOTION_PARAMS_NAME)
      || gst_structure_has_name (s, FEMO_META_EMOTION_RAW_PARAMS_NAME));
  /* then a track id when tracking */
  if (gst_structure_has_field (s, FEMO_META_EMOTION_FIELD_TRACK_ID)) {
    g_assert_cmpint (gst_structure_n_fields (s), ==, 4 + n_labels);
    g_assert_cmpstr (gst_structure_nth_field_name (s, 3 + n_labels), ==,
        FEMO_META_EMOTION_FIELD_TRACK_ID);
    g_assert_true (gst_structure_get_field_type (s,
            FEMO_META_EMOTION_FIELD_TRACK_ID) == G_TYPE_UINT);
  } else {
    g_assert_cmpint (gst_structure_n_fields (s), ==, 3 + n_labels);
  }
  g_assert_cmpstr (gst_structure_nth_field_name (s, 0), ==,
      FEMO_META_EMOTION_FIELD_LABEL);
  g_assert_cmpstr (gst_structure_nth_field_name (s, 1), ==,
      FEMO_META_EMOTION_FIELD_LABEL_ID);
  g_assert_cmpstr (gst_structure_nth_field_name (s, 2), ==,
      FEMO_META_EMOTION_FIELD_CONFIDENCE);
  g_assert_true (gst_structure_get_field_type (s,
          FEMO_META_EMOTION_FIELD_LABEL) == G_TYPE_STRING);
  g_assert_true (gst_structure_get_int (s, FEMO_META_EMOTION_FIELD_LABEL_ID,
          &label_id));
  g_assert_true (gst_structure_get_double (s,
          FEMO_META_EMOTION_FIELD_CONFIDENCE, &confidence));

  for (k = 0; k < n_labels; k++) {
    gdouble p;

    g_assert_cmpstr (gst_structure_nth_field_name (s, 3 + k), ==, labels[k]);
    g_assert_true (gst_structure_get_field_type (s, labels[k]) ==
        G_TYPE_DOUBLE);
    g_assert_true (gst_structure_get_double (s, labels[k], &p));
    g_assert_cmpfloat (p, >=, 0.0);
    g_assert_cmpfloat (p, <=, 1.0);
    sum += p;
    if (p > best) {
      best = p;
      best_id = k;
    }
    if (expected)
      worst = MAX (worst, fabs (p - expected[k]));
  }
  g_assert_cmpfloat_with_epsilon (sum, 1.0, PROB_SUM_TOLERANCE);
  g_assert_cmpint (label_id, ==, best_id);
  g_assert_cmpstr (gst_structure_get_string (s, FEMO_META_EMOTION_FIELD_LABEL),
      ==, labels[best_id]);
  g_assert_cmpfloat (confidence, ==, best);
  if (worst > PROB_TOLERANCE)
    g_test_fail_printf ("probabilities differ from the reference crop's by "
        "up to %g (tolerance %g)", worst, PROB_TOLERANCE);
}

static void
check_detection (const GstVideoRegionOfInterestMeta * roi, gint width,
    gint height, gint min_neighbors)
{
  const GstStructure *s = gst_video_region_of_interest_meta_get_param (
      (GstVideoRegionOfInterestMeta *) roi, FEMO_META_DETECTION_PARAMS_NAME);
  gdouble confidence, x_min, x_max, y_min, y_max;
  gint label_id, neighbors;

  g_assert_nonnull (s);
  g_assert_cmpint (gst_structure_n_fields (s), ==, 7);
  g_assert_true (gst_structure_get_int (s, FEMO_META_DETECTION_FIELD_LABEL_ID,
          &label_id));
  g_assert_cmpint (label_id, ==, FEMO_META_DETECTION_LABEL_ID_FACE);
  g_assert_true (gst_structure_get_int (s,
          FEMO_META_DETECTION_FIELD_NEIGHBORS, &neighbors));
  g_assert_cmpint (neighbors, >=, MAX (min_neighbors, 1));
  g_assert_true (gst_structure_get_double (s,
          FEMO_META_DETECTION_FIELD_CONFIDENCE, &confidence));
  g_assert_cmpfloat (confidence, >, 0.0);
  g_assert_cmpfloat (confidence, <, 1.0);
  g_assert_cmpfloat_with_epsilon (confidence,
      neighbors / (neighbors + FEMO_META_DETECTION_NEIGHBORS_HALF), 1e-12);
  g_assert_true (gst_structure_get_double (s, FEMO_META_DETECTION_FIELD_X_MIN,
          &x_min));
  g_assert_true (gst_structure_get_double (s, FEMO_META_DETECTION_FIELD_X_MAX,
          &x_max));
  g_assert_true (gst_structure_get_double (s, FEMO_META_DETECTION_FIELD_Y_MIN,
          &y_min));
  g_assert_true (gst_structure_get_double (s, FEMO_META_DETECTION_FIELD_Y_MAX,
          &y_max));
  g_assert_cmpfloat (0.0, <=, x_min);
  g_assert_cmpfloat (x_min, <, x_max);
  g_assert_cmpfloat (x_max, <=, 1.0);
  g_assert_cmpfloat (0.0, <=, y_min);
  g_assert_cmpfloat (y_min, <, y_max);
  g_assert_cmpfloat (y_max, <=, 1.0);
  g_assert_cmpfloat_with_epsilon (x_min * width, roi->x, 1e-9);
  g_assert_cmpfloat_with_epsilon (x_max * width, roi->x + roi->w, 1e-9);
  g_assert_cmpfloat_with_epsilon (y_min * height, roi->y, 1e-9);
  g_assert_cmpfloat_with_epsilon (y_max * height, roi->y + roi->h, 1e-9);
}

/* Each face of the message has the box of the ROI at the same index and
 * a copy of its emotion (or none when @classified is false). */
static void
check_message (GstMessage * msg, GPtrArray * rois, gboolean classified)
{
  const GValue *faces =
      gst_structure_get_value (gst_message_get_structure (msg),
      FEMO_META_FIELD_FACES);
  guint i;

  g_assert_cmpuint (gst_value_list_get_size (faces), ==, rois->len);
  for (i = 0; i < rois->len; i++) {
    GstVideoRegionOfInterestMeta *roi = g_ptr_array_index (rois, i);
    const GstStructure *face =
        gst_value_get_structure (gst_value_list_get_value (faces, i));
    const GstStructure *meta_emotion =
        gst_video_region_of_interest_meta_get_param (roi,
        FEMO_META_EMOTION_PARAMS_NAME);
    const GValue *v = gst_structure_get_value (face, FEMO_META_FIELD_EMOTION);
    guint x, y, w, h;

    g_assert_true (gst_structure_get (face, FEMO_META_FIELD_X, G_TYPE_UINT,
            &x, FEMO_META_FIELD_Y, G_TYPE_UINT, &y, FEMO_META_FIELD_WIDTH,
            G_TYPE_UINT, &w, FEMO_META_FIELD_HEIGHT, G_TYPE_UINT, &h, NULL));
    g_assert_cmpuint (x, ==, roi->x);
    g_assert_cmpuint (y, ==, roi->y);
    g_assert_cmpuint (w, ==, roi->w);
    g_assert_cmpuint (h, ==, roi->h);
    if (!classified) {
      g_assert_null (v);
      g_assert_null (meta_emotion);
      /* the box, then the track id, detection confidence and landmarks
       * where the face has them */
      g_assert_cmpint (gst_structure_n_fields (face), ==, 4
          + gst_structure_has_field (face, FEMO_META_FIELD_TRACK_ID)
          + gst_structure_has_field (face,
              FEMO_META_FIELD_DETECTION_CONFIDENCE)
          + gst_structure_has_field (face, FEMO_META_FIELD_LANDMARKS));
      continue;
    }
    g_assert_nonnull (v);
    g_assert_nonnull (meta_emotion);
    g_assert_true (G_VALUE_TYPE (v) == GST_TYPE_STRUCTURE);
    g_assert_true (gst_structure_is_equal (gst_value_get_structure (v),
            meta_emotion));
  }
}

/* ---- tests ---- */

static void
check_faces (const gchar * stem, guint n_faces, gint par_n, gint par_d)
{
  /* the cascade's faces: a known count, no landmarks */
  GstHarness *h = femo_test_detect_harness_new ("detector", FEMO_TEST_CASCADE,
      NULL);
  guint n_labels = femo_model_get_n_labels (test_model);
  gfloat *probs = g_new (gfloat, n_labels);
  GstBuffer *out;
  GstMessage *msg;
  GPtrArray *rois;
  gdouble margin;
  Image image;
  guint i;

  load_image (stem, &image);
  set_gray_caps (h, &image, par_n, par_d);
  g_object_get (h->element, "crop-margin", &margin, NULL);
  g_assert_cmpint (gst_harness_push (h, gray_buffer (&image)), ==,
      GST_FLOW_OK);
  out = gst_harness_pull (h);
  rois = face_rois (out);
  g_test_message ("%s: %u faces", stem, rois->len);
  g_assert_cmpuint (rois->len, ==, n_faces);
  for (i = 0; i < rois->len; i++) {
    GstVideoRegionOfInterestMeta *roi = g_ptr_array_index (rois, i);
    const GstStructure *emotion =
        gst_video_region_of_interest_meta_get_param (roi,
        FEMO_META_EMOTION_PARAMS_NAME);
    gchar *text;

    /* detection, the track's object_id, femo/emotion and, the track being
     * new, femo/emotion-raw, equal to it */
    g_assert_cmpuint (g_list_length (roi->params), ==, 4);
    g_assert_cmpint (roi->id, >, 0);
    g_assert_true (gst_buffer_get_video_region_of_interest_meta_id (out,
            roi->id) == roi);
    g_assert_nonnull (emotion);
    text = gst_structure_to_string (emotion);
    g_test_message ("  [%u,%u,%u,%u] %s", roi->x, roi->y, roi->w, roi->h,
        text);
    g_free (text);
    reference_probs (&image, roi, margin, par_n, par_d, probs);
    check_emotion (emotion, probs);
    check_emotion (gst_video_region_of_interest_meta_get_param (roi,
            FEMO_META_EMOTION_RAW_PARAMS_NAME), probs);
    check_detection (roi, image.width, image.height, 3);
  }
  msg = pop_message (h);
  g_assert_nonnull (msg);
  check_message (msg, rois, TRUE);

  gst_message_unref (msg);
  g_ptr_array_unref (rois);
  gst_buffer_unref (out);
  femo_test_detect_harness_teardown (h);
  g_free (image.gray);
  g_free (probs);
}

static void
test_astronaut (void)
{
  check_faces ("skimage_astronaut", 1, 1, 1);
}

static void
test_grace_hopper (void)
{
  check_faces ("facedetect_grace_hopper_512x512", 1, 1, 1);
}

static void
test_group (void)
{
  /* OpenCV finds 6 at femodetect's defaults (reference.json, sf1.1_mn3) */
  check_faces ("dlib_2008_002079", 6, 1, 1);
}

/* Non-square pixels: the element must crop square on the display (the
 * reference crop uses the same PAR; a crop square in pixels would give
 * other probabilities). */
static void
test_pixel_aspect_ratio (void)
{
  check_faces ("skimage_astronaut", 1, 4, 3);
  check_faces ("skimage_astronaut", 1, 2, 3);
}

static void
test_crop_geometry (void)
{
  gdouble x, y, w, h;

  femo_face_crop_region (10, 20, 40, 40, 0.0, 1, 1, &x, &y, &w, &h);
  g_assert_cmpfloat (x, ==, 10);
  g_assert_cmpfloat (y, ==, 20);
  g_assert_cmpfloat (w, ==, 40);
  g_assert_cmpfloat (h, ==, 40);

  femo_face_crop_region (10, 20, 40, 40, 0.25, 1, 1, &x, &y, &w, &h);
  g_assert_cmpfloat (x, ==, 0);
  g_assert_cmpfloat (y, ==, 10);
  g_assert_cmpfloat (w, ==, 60);
  g_assert_cmpfloat (h, ==, 60);

  /* Pixels twice as wide as high: the 40x40-pixel box is 80x40 on the
   * display; the crop is 120x120 on the display = 60x120 pixels. */
  femo_face_crop_region (100, 100, 40, 40, 0.25, 2, 1, &x, &y, &w, &h);
  g_assert_cmpfloat (w, ==, 60);
  g_assert_cmpfloat (h, ==, 120);
  g_assert_cmpfloat (x + w / 2, ==, 120);
  g_assert_cmpfloat (y + h / 2, ==, 120);

  /* Pixels half as wide: the box is 20x40 on the display, the crop
   * 40x40 = 80x40 pixels. */
  femo_face_crop_region (100, 100, 40, 40, 0.0, 1, 2, &x, &y, &w, &h);
  g_assert_cmpfloat (w, ==, 80);
  g_assert_cmpfloat (h, ==, 40);
  g_assert_cmpfloat (x, ==, 80);
  g_assert_cmpfloat (y, ==, 100);

  /* A negative margin shrinks it; a wide box takes the longer side. */
  femo_face_crop_region (0, 0, 50, 30, -0.1, 1, 1, &x, &y, &w, &h);
  g_assert_cmpfloat_with_epsilon (w, 40, 1e-12);
  g_assert_cmpfloat_with_epsilon (h, 40, 1e-12);
  g_assert_cmpfloat_with_epsilon (x, 5, 1e-12);
  g_assert_cmpfloat_with_epsilon (y, -5, 1e-12);
}

/* classify=false: detection only, and the model file is never opened. */
static void
test_classify_off (void)
{
  GstHarness *h = femo_test_detect_harness_new ("detector", FEMO_TEST_CASCADE,
      "classify", FALSE, "model-file",
      "/nonexistent/femo-missing-model.safetensors", NULL);
  GstBuffer *out;
  GstMessage *msg;
  GPtrArray *rois;
  Image image;
  guint i;

  load_image ("skimage_astronaut", &image);
  set_gray_caps (h, &image, 1, 1);
  g_assert_cmpint (gst_harness_push (h, gray_buffer (&image)), ==,
      GST_FLOW_OK);
  g_assert_cmpint (GST_STATE (h->element), ==, GST_STATE_PLAYING);
  out = gst_harness_pull (h);
  rois = face_rois (out);
  g_assert_cmpuint (rois->len, ==, 1);
  for (i = 0; i < rois->len; i++) {
    GstVideoRegionOfInterestMeta *roi = g_ptr_array_index (rois, i);

    g_assert_null (gst_video_region_of_interest_meta_get_param (roi,
            FEMO_META_EMOTION_PARAMS_NAME));
    check_detection (roi, image.width, image.height, 3);
  }
  msg = pop_message (h);
  g_assert_nonnull (msg);
  check_message (msg, rois, FALSE);
  g_assert_null (femo_test_model_of (h->element));

  gst_message_unref (msg);
  g_ptr_array_unref (rois);
  gst_buffer_unref (out);
  femo_test_detect_harness_teardown (h);
  g_free (image.gray);
}

static void
check_bad_model (const gchar * path)
{
  GstElement *element = gst_element_factory_make ("femodetect", NULL);
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  GError *error = NULL;
  gchar *debug = NULL;

  g_object_set (element, "model-file", path, NULL);
  gst_element_set_bus (element, bus);
  g_assert_cmpint (gst_element_set_state (element, GST_STATE_READY), ==,
      GST_STATE_CHANGE_SUCCESS);
  g_assert_cmpint (gst_element_set_state (element, GST_STATE_PAUSED), ==,
      GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  g_assert_nonnull (msg);
  gst_message_parse_error (msg, &error, &debug);
  g_test_message ("%s: %s (%s)", path, error->message, debug);
  g_assert_true (error->domain == GST_RESOURCE_ERROR);
  g_assert_nonnull (strstr (error->message, path));
  g_assert_nonnull (strstr (error->message, "emotion model"));

  g_error_free (error);
  g_free (debug);
  gst_message_unref (msg);
  gst_element_set_state (element, GST_STATE_NULL);
  gst_element_set_bus (element, NULL);
  gst_object_unref (bus);
  gst_object_unref (element);
}

static void
test_bad_model (void)
{
  static const guint8 garbage[] = {
    0x20, 0, 0, 0, 0, 0, 0, 0, '{', '"', 'x', '"', ':', ' ', '1', '}',
    ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ',
    ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', 0xde, 0xad,
  };
  gchar *good = model_path (), *bytes, *corrupt = NULL;
  GError *error = NULL;
  gsize length;
  gint fd;

  check_bad_model ("/nonexistent/femo-missing-model.safetensors");

  fd = g_file_open_tmp ("femo-garbage-XXXXXX.safetensors", &corrupt, &error);
  g_assert_no_error (error);
  g_close (fd, NULL);
  g_assert_true (g_file_set_contents (corrupt, (const gchar *) garbage,
          sizeof (garbage), &error));
  check_bad_model (corrupt);

  /* The real file cut short. */
  g_assert_true (g_file_get_contents (good, &bytes, &length, &error));
  g_assert_true (g_file_set_contents (corrupt, bytes, length / 2, &error));
  check_bad_model (corrupt);

  g_unlink (corrupt);
  g_free (corrupt);
  g_free (bytes);
  g_free (good);
}

/* detect=false classifies the "face" ROIs already there (here added by
 * hand) and leaves other ROIs alone; with classify=false too the buffer
 * passes untouched and nothing is posted. */
static void
test_detect_off (void)
{
  GstHarness *h = femo_test_detect_harness_new ("detect", FALSE, NULL);
  guint n_labels = femo_model_get_n_labels (test_model);
  gfloat *probs = g_new (gfloat, n_labels);
  GstVideoRegionOfInterestMeta *face, *car;
  GstBuffer *buf, *out;
  GstMessage *msg;
  GPtrArray *rois;
  gdouble margin;
  Image image;

  load_image ("skimage_astronaut", &image);
  set_gray_caps (h, &image, 1, 1);
  g_object_get (h->element, "crop-margin", &margin, NULL);

  buf = gray_buffer (&image);
  gst_buffer_add_video_region_of_interest_meta (buf, FEMO_META_ROI_TYPE_FACE,
      180, 60, 90, 90);
  gst_buffer_add_video_region_of_interest_meta (buf, "car", 10, 10, 60, 40);
  g_assert_cmpint (gst_harness_push (h, buf), ==, GST_FLOW_OK);
  out = gst_harness_pull (h);
  rois = face_rois (out);
  g_assert_cmpuint (rois->len, ==, 1);
  face = g_ptr_array_index (rois, 0);
  g_assert_cmpuint (face->x, ==, 180);
  g_assert_cmpuint (face->w, ==, 90);
  g_assert_null (gst_video_region_of_interest_meta_get_param (face,
          FEMO_META_DETECTION_PARAMS_NAME));
  reference_probs (&image, face, margin, 1, 1, probs);
  check_emotion (gst_video_region_of_interest_meta_get_param (face,
          FEMO_META_EMOTION_PARAMS_NAME), probs);
  car = find_roi (out, "car");
  g_assert_nonnull (car);
  g_assert_cmpstr (g_quark_to_string (car->roi_type), ==, "car");
  g_assert_null (car->params);
  msg = pop_message (h);
  g_assert_nonnull (msg);
  check_message (msg, rois, TRUE);
  gst_message_unref (msg);
  g_ptr_array_unref (rois);

  /* Classified again (as by a second femodetect): still one emotion. */
  g_assert_cmpint (gst_harness_push (h, out), ==, GST_FLOW_OK);
  out = gst_harness_pull (h);
  face = find_roi (out, FEMO_META_ROI_TYPE_FACE);
  g_assert_cmpuint (g_list_length (face->params), ==, 1);
  gst_message_unref (pop_message (h));
  gst_buffer_unref (out);

  g_object_set (h->element, "classify", FALSE, NULL);
  buf = gray_buffer (&image);
  gst_buffer_add_video_region_of_interest_meta (buf, FEMO_META_ROI_TYPE_FACE,
      180, 60, 90, 90);
  g_assert_cmpint (gst_harness_push (h, buf), ==, GST_FLOW_OK);
  out = gst_harness_pull (h);
  face = find_roi (out, FEMO_META_ROI_TYPE_FACE);
  g_assert_nonnull (face);
  g_assert_null (face->params);
  g_assert_null (pop_message (h));
  gst_buffer_unref (out);

  femo_test_detect_harness_teardown (h);
  g_free (image.gray);
  g_free (probs);
}

/* Keeps the last buffer and lets EOS through without it being pulled. */
#define LAST_SAMPLE_SINK \
  "appsink name=sink wait-on-eos=false max-buffers=1 drop=true"

/* Runs @description to EOS (60 s at most) and returns the last sample of
 * its appsink "sink" (NULL when there is none). */
static GstSample *
run_pipeline (const gchar * description)
{
  GError *error = NULL;
  GstElement *pipeline = gst_parse_launch (description, &error);
  GstElement *sink;
  GstSample *sample;
  GstBus *bus;
  GstMessage *msg;

  g_assert_no_error (error);
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  bus = gst_element_get_bus (pipeline);
  g_assert_cmpint (gst_element_set_state (pipeline, GST_STATE_PLAYING), !=,
      GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_timed_pop_filtered (bus, 60 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  g_assert_nonnull (msg);
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    gchar *debug = NULL;

    gst_message_parse_error (msg, &error, &debug);
    g_error ("%s: %s (%s)", description, error->message, debug);
  }
  gst_message_unref (msg);
  sample = sink && GST_IS_APP_SINK (sink) ?
      gst_app_sink_try_pull_sample (GST_APP_SINK (sink), 0) : NULL;
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_clear_object (&sink);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
  return sample;
}

/* facedetect (gst-plugins-bad, OpenCV) finds the faces, femodetect
 * detect=false tells their emotions. */
static void
test_after_facedetect (void)
{
  GstElementFactory *factory = gst_element_factory_find ("facedetect");
  gchar *path, *description;
  GstSample *sample;
  GstVideoRegionOfInterestMeta *roi;

  if (factory == NULL)
    femo_test_missing ("no facedetect (gstreamer1.0-opencv) in the registry");
  gst_object_unref (factory);
  path = femo_test_shared_path ("media/skimage_astronaut.png");
  description = g_strdup_printf ("filesrc location=\"%s\" ! pngdec "
      "! videoconvert ! video/x-raw,format=RGB ! facedetect display=false "
      "! femodetect detect=false ! " LAST_SAMPLE_SINK, path);
  sample = run_pipeline (description);
  g_assert_nonnull (sample);
  roi = find_roi (gst_sample_get_buffer (sample), FEMO_META_ROI_TYPE_FACE);
  g_assert_nonnull (roi);
  check_emotion (gst_video_region_of_interest_meta_get_param (roi,
          FEMO_META_EMOTION_PARAMS_NAME), NULL);
  gst_sample_unref (sample);
  g_free (description);
  g_free (path);
}

/* Elements that use one model file share one loaded model; another file
 * is another model; stopped elements hold none. */
static void
test_shared_model (void)
{
  GstElement *a = gst_element_factory_make ("femodetect", NULL);
  GstElement *b = gst_element_factory_make ("femodetect", NULL);
  GstElement *c = gst_element_factory_make ("femodetect", NULL);
  gchar *good = model_path (), *bytes, *copy = NULL;
  gconstpointer ma, mb, mc;
  gpointer held = NULL;
  GParamSpec *pspec;
  GError *error = NULL;
  gsize length;
  gint fd;

  fd = g_file_open_tmp ("femo-model-copy-XXXXXX.safetensors", &copy, &error);
  g_assert_no_error (error);
  g_close (fd, NULL);
  g_assert_true (g_file_get_contents (good, &bytes, &length, &error));
  g_assert_true (g_file_set_contents (copy, bytes, length, &error));
  g_object_set (c, "model-file", copy, NULL);

  g_assert_cmpint (gst_element_set_state (a, GST_STATE_PAUSED), ==,
      GST_STATE_CHANGE_SUCCESS);
  g_assert_cmpint (gst_element_set_state (b, GST_STATE_PAUSED), ==,
      GST_STATE_CHANGE_SUCCESS);
  g_assert_cmpint (gst_element_set_state (c, GST_STATE_PAUSED), ==,
      GST_STATE_CHANGE_SUCCESS);
  ma = femo_test_model_of (a);
  mb = femo_test_model_of (b);
  mc = femo_test_model_of (c);
  g_assert_nonnull (ma);
  g_assert_true (ma == mb);
  g_assert_nonnull (mc);
  g_assert_true (mc != ma);
  /* the property gives a reference that outlives the element's */
  g_object_get (c, "model", &held, NULL);
  g_assert_true (held == mc);

  gst_element_set_state (a, GST_STATE_NULL);
  g_assert_null (femo_test_model_of (a));
  g_assert_true (femo_test_model_of (b) == mb);
  gst_element_set_state (b, GST_STATE_NULL);
  gst_element_set_state (c, GST_STATE_NULL);
  g_assert_null (femo_test_model_of (c));
  g_assert_cmpuint (femo_model_get_n_labels (held), ==, 7);
  pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (c), "model");
  g_boxed_free (G_PARAM_SPEC_VALUE_TYPE (pspec), held);

  gst_object_unref (a);
  gst_object_unref (b);
  gst_object_unref (c);
  g_unlink (copy);
  g_free (copy);
  g_free (bytes);
  g_free (good);
}

/* The cache itself (this process's copy of libfemo). */
static void
test_model_cache (void)
{
  gchar *path = model_path ();
  GError *error = NULL;
  FemoModel *m1, *m2;

  g_assert_cmpuint (femo_model_cache_get_n_models (), ==, 0);
  m1 = femo_model_cache_acquire (path, &error);
  g_assert_no_error (error);
  m2 = femo_model_cache_acquire (path, &error);
  g_assert_no_error (error);
  g_assert_true (m1 == m2);
  g_assert_cmpuint (femo_model_cache_get_n_models (), ==, 1);
  g_assert_cmpuint (femo_model_cache_get_n_users (m1), ==, 2);
  g_assert_null (femo_model_cache_acquire ("/nonexistent/m.safetensors",
          &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_assert_cmpuint (femo_model_cache_get_n_models (), ==, 1);
  femo_model_cache_release (m1);
  g_assert_cmpuint (femo_model_cache_get_n_users (m2), ==, 1);
  femo_model_cache_release (m2);
  g_assert_cmpuint (femo_model_cache_get_n_models (), ==, 0);
  g_free (path);
}

/* The camera-to-display pipeline without videoconvert: femodetect reads
 * the luma of YUY2/NV12/I420 and femooverlay blends into them. A real face
 * (the astronaut, frozen) so that boxes and labels are drawn. */
static void
test_yuv_pipelines (void)
{
  static const gchar *const formats[] = { "YUY2", "NV12", "I420" };
  gchar *path = femo_test_shared_path ("media/skimage_astronaut.png");
  guint i;

  for (i = 0; i < G_N_ELEMENTS (formats); i++) {
    gchar *description = g_strdup_printf ("videotestsrc num-buffers=3 "
        "! video/x-raw,format=%s,width=320,height=240 ! femodetect "
        "! femooverlay ! " LAST_SAMPLE_SINK, formats[i]);
    GstSample *sample = run_pipeline (description);
    GstStructure *s;

    g_assert_nonnull (sample);
    s = gst_caps_get_structure (gst_sample_get_caps (sample), 0);
    g_assert_cmpstr (gst_structure_get_string (s, "format"), ==, formats[i]);
    gst_sample_unref (sample);
    g_free (description);

    description = g_strdup_printf ("filesrc location=\"%s\" ! pngdec "
        "! videoconvert ! video/x-raw,format=%s ! imagefreeze num-buffers=2 "
        "! femodetect ! femooverlay ! " LAST_SAMPLE_SINK, path, formats[i]);
    sample = run_pipeline (description);
    g_assert_nonnull (sample);
    g_assert_nonnull (find_roi (gst_sample_get_buffer (sample),
            FEMO_META_ROI_TYPE_FACE));
    gst_sample_unref (sample);
    g_free (description);
  }
  g_free (path);
}

/* FEMO_MODEL_DIR in the environment moves the default model (a fresh
 * process: the default is fixed when the class is made). */
static void
test_model_dir_env (void)
{
  if (g_test_subprocess ()) {
    GstElement *e;
    gchar *file;

    g_setenv ("FEMO_MODEL_DIR", "/opt/femo-models", TRUE);
    e = gst_element_factory_make ("femodetect", NULL);
    g_object_get (e, "model-file", &file, NULL);
    g_assert_cmpstr (file, ==,
        "/opt/femo-models/fer2013-mini-xception.safetensors");
    g_free (file);
    gst_object_unref (e);
    return;
  }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

int
main (int argc, char **argv)
{
  GError *error = NULL;
  gchar *path;
  gint ret;

  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  femo_test_require_default_cascade ();

  path = model_path ();
  test_model = femo_model_load (path, &error);
  g_assert_no_error (error);
  g_free (path);

  g_test_add_func ("/femodetect-emotion/model-dir-env", test_model_dir_env);
  g_test_add_func ("/femodetect-emotion/crop-geometry", test_crop_geometry);
  g_test_add_func ("/femodetect-emotion/model-cache", test_model_cache);
  g_test_add_func ("/femodetect-emotion/astronaut", test_astronaut);
  g_test_add_func ("/femodetect-emotion/grace-hopper", test_grace_hopper);
  g_test_add_func ("/femodetect-emotion/group", test_group);
  g_test_add_func ("/femodetect-emotion/pixel-aspect-ratio",
      test_pixel_aspect_ratio);
  g_test_add_func ("/femodetect-emotion/classify-off", test_classify_off);
  g_test_add_func ("/femodetect-emotion/bad-model", test_bad_model);
  g_test_add_func ("/femodetect-emotion/detect-off", test_detect_off);
  g_test_add_func ("/femodetect-emotion/after-facedetect",
      test_after_facedetect);
  g_test_add_func ("/femodetect-emotion/shared-model", test_shared_model);
  g_test_add_func ("/femodetect-emotion/yuv-pipelines", test_yuv_pipelines);

  ret = g_test_run ();
  femo_model_unref (test_model);
  return ret;
}
