/* gst-femo tests: femodetect with detector=yunet (GstHarness)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A shared photo, converted by GStreamer's converter to every format of
 * the sink caps, in its default colorimetry for that format: YuNet finds
 * the same faces in each (within the formats' rounding and chroma
 * subsampling), with a "detection" param without neighbours and a
 * "landmarks" param; the properties, their defaults and their errors.
 */
#include "config.h"
#include "femo-meta.h"
#include "femo-face-detector.h"
#include "test-util.h"

#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include <math.h>
#include <string.h>

/* three faces of different sizes and scores */
#define PHOTO "media/dlib_2008_002506.jpg"

static GstBuffer *photo;        /* RGB */
static GstVideoInfo photo_info;

static void
load_photo (void)
{
  gchar *path = femo_test_shared_path (PHOTO);
  GError *error = NULL;
  gint width, height;
  guint8 *rgb = femo_test_load_image (path, GST_VIDEO_FORMAT_RGB, &width,
      &height, &error);

  g_assert_no_error (error);
  gst_video_info_set_format (&photo_info, GST_VIDEO_FORMAT_RGB, width,
      height);
  photo = femo_test_packed_buffer (&photo_info, rgb);
  g_free (rgb);
  g_free (path);
}

/* The photo in @format (its default colorimetry), and @info for caps. */
static GstBuffer *
photo_as (GstVideoFormat format, GstVideoInfo * info)
{
  GstVideoConverter *converter;
  GstVideoFrame src, dst;
  GstBuffer *out;

  gst_video_info_set_format (info, format, photo_info.width,
      photo_info.height);
  out = gst_buffer_new_allocate (NULL, info->size, NULL);
  converter = gst_video_converter_new (&photo_info, info, NULL);
  g_assert_true (gst_video_frame_map (&src, &photo_info, photo,
          GST_MAP_READ));
  g_assert_true (gst_video_frame_map (&dst, info, out, GST_MAP_WRITE));
  gst_video_converter_frame (converter, &src, &dst);
  gst_video_frame_unmap (&dst);
  gst_video_frame_unmap (&src);
  gst_video_converter_free (converter);
  return out;
}

/* The faces femodetect (@h) gives the photo in @format. */
static GArray *
faces_of (GstHarness * h, GstVideoFormat format)
{
  GstVideoInfo info;
  GstBuffer *in = photo_as (format, &info), *out;
  GArray *faces = g_array_new (FALSE, FALSE, sizeof (FemoFaceInfo));

  gst_harness_set_src_caps (h, gst_video_info_to_caps (&info));
  g_assert_cmpint (gst_harness_push (h, in), ==, GST_FLOW_OK);
  out = gst_harness_pull (h);
  femo_buffer_get_faces (out, faces);
  gst_buffer_unref (out);
  return faces;
}

static gdouble
iou (const FemoFaceInfo * a, const FemoFaceInfo * b)
{
  gdouble iw = MIN (a->x + a->width, b->x + b->width) -
      (gdouble) MAX (a->x, b->x);
  gdouble ih = MIN (a->y + a->height, b->y + b->height) -
      (gdouble) MAX (a->y, b->y);
  gdouble inter = iw > 0 && ih > 0 ? iw * ih : 0;

  return inter / ((gdouble) a->width * a->height +
      (gdouble) b->width * b->height - inter);
}

/* A face as femodetect writes it with YuNet. */
static void
assert_yunet_face (const FemoFaceInfo * f)
{
  g_assert_true (f->detected);
  g_assert_cmpint (f->neighbors, ==, -1);
  g_assert_cmpfloat (f->detection_confidence, >=,
      FEMO_YUNET_DEFAULT_MIN_CONFIDENCE);
  g_assert_cmpfloat (f->detection_confidence, <=, 1.0);
  g_assert_true (f->has_landmarks);
  for (guint k = 0; k < FEMO_META_N_LANDMARKS; k++) {
    g_assert_cmpfloat (f->landmarks[2 * k], >, f->x);
    g_assert_cmpfloat (f->landmarks[2 * k], <, f->x + f->width);
    g_assert_cmpfloat (f->landmarks[2 * k + 1], >, f->y);
    g_assert_cmpfloat (f->landmarks[2 * k + 1], <, f->y + f->height);
  }
}

/* femodetect at its defaults (YuNet): the frame message carries each
 * face's detection confidence and landmarks, the same as its ROI meta. */
static void
test_message (void)
{
  GstHarness *h = femo_test_detect_harness_new ("classify", FALSE, NULL);
  GstBus *bus = gst_element_get_bus (h->element);
  GArray *faces = faces_of (h, GST_VIDEO_FORMAT_RGB);
  GstMessage *msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT);
  const GValue *list;

  g_assert_nonnull (msg);
  g_assert_true (gst_message_has_name (msg, FEMO_META_DETECT_MESSAGE_NAME));
  list = gst_structure_get_value (gst_message_get_structure (msg),
      FEMO_META_FIELD_FACES);
  g_assert_cmpuint (faces->len, ==, 3);
  g_assert_cmpuint (gst_value_list_get_size (list), ==, faces->len);
  for (guint i = 0; i < faces->len; i++) {
    const FemoFaceInfo *f = &g_array_index (faces, FemoFaceInfo, i);
    const GstStructure *face =
        gst_value_get_structure (gst_value_list_get_value (list, i));
    const GstStructure *points;
    gdouble c, x;
    guint u;

    assert_yunet_face (f);
    g_assert_true (gst_structure_get_uint (face, FEMO_META_FIELD_X, &u));
    g_assert_cmpuint (u, ==, f->x);
    g_assert_true (gst_structure_get_double (face,
            FEMO_META_FIELD_DETECTION_CONFIDENCE, &c));
    g_assert_cmpfloat (c, ==, f->detection_confidence);
    g_assert_true (gst_structure_get (face, FEMO_META_FIELD_LANDMARKS,
            GST_TYPE_STRUCTURE, &points, NULL));
    g_assert_true (gst_structure_get_double (points, "nose_y", &x));
    g_assert_cmpfloat (x, ==, f->landmarks[5]);
    gst_structure_free ((GstStructure *) points);
  }
  gst_message_unref (msg);
  g_array_unref (faces);
  gst_object_unref (bus);
  femo_test_detect_harness_teardown (h);
}

/* Every format of the sink caps: the faces of the RGB photo, within the
 * format's rounding (gray: no colour, and the faces still found). */
static void
test_formats (void)
{
  GstHarness *h = femo_test_detect_harness_new ("detector", 1, "classify",
      FALSE, "tracking", FALSE, "post-messages", FALSE, NULL);
  GPtrArray *formats = femo_test_femodetect_formats ();
  GArray *want = faces_of (h, GST_VIDEO_FORMAT_RGB);

  g_assert_cmpuint (want->len, ==, 3);
  for (guint i = 0; i < want->len; i++)
    assert_yunet_face (&g_array_index (want, FemoFaceInfo, i));
  for (guint f = 0; f < formats->len; f++) {
    const gchar *name = g_ptr_array_index (formats, f);
    GstVideoFormat format = gst_video_format_from_string (name);
    gboolean gray = format == GST_VIDEO_FORMAT_GRAY8;
    GArray *got = faces_of (h, format);
    gdouble worst_iou = 1, worst_score = 0;

    g_assert_cmpuint (got->len, ==, want->len);
    for (guint i = 0; i < got->len; i++) {
      const FemoFaceInfo *g = &g_array_index (got, FemoFaceInfo, i);
      const FemoFaceInfo *w = &g_array_index (want, FemoFaceInfo, i);

      assert_yunet_face (g);
      worst_iou = MIN (worst_iou, iou (g, w));
      worst_score = MAX (worst_score, fabs (g->detection_confidence -
              w->detection_confidence));
    }
    g_test_message ("%s: IoU %.3f or more, scores within %.4f", name,
        worst_iou, worst_score);
    g_assert_cmpfloat (worst_iou, >=, gray ? 0.8 : 0.9);
    g_assert_cmpfloat (worst_score, <=, gray ? 0.1 : 0.02);
    g_array_unref (got);
  }
  g_array_unref (want);
  g_ptr_array_unref (formats);
  femo_test_detect_harness_teardown (h);
}

static void
test_properties (void)
{
  GstElement *e = gst_element_factory_make ("femodetect", NULL);
  GParamSpec *pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (e),
      "detector");
  GEnumClass *kinds;
  gchar *file;
  gint detector;

  g_object_get (e, "detector", &detector, "yunet-model", &file, NULL);
  g_assert_cmpint (detector, ==, 1);    /* YuNet is the default */
  /* The tests run with FEMO_MODEL_DIR=<source>/models. */
  g_assert_cmpstr (file, ==, FEMO_SOURCE_ROOT "/models/yunet.safetensors");
  g_free (file);
  kinds = g_type_class_ref (pspec->value_type);
  g_assert_cmpstr (g_enum_get_value (kinds, 0)->value_nick, ==, "cascade");
  g_assert_cmpstr (g_enum_get_value (kinds, 1)->value_nick, ==, "yunet");
  g_assert_null (g_enum_get_value (kinds, 2));
  g_type_class_unref (kinds);
  g_assert_true (pspec->flags & GST_PARAM_MUTABLE_PLAYING);

  gst_util_set_object_arg (G_OBJECT (e), "detector", "cascade");
  g_object_get (e, "detector", &detector, NULL);
  g_assert_cmpint (detector, ==, 0);
  gst_util_set_object_arg (G_OBJECT (e), "detector", "yunet");
  g_object_get (e, "detector", &detector, NULL);
  g_assert_cmpint (detector, ==, 1);
  g_object_set (e, "yunet-model", "/x.safetensors", NULL);
  g_object_set (e, "yunet-model", NULL, NULL);
  g_object_get (e, "yunet-model", &file, NULL);
  g_assert_cmpstr (file, ==, FEMO_SOURCE_ROOT "/models/yunet.safetensors");
  g_free (file);
  gst_object_unref (e);
}

static void
count_notify (GObject * object, GParamSpec * pspec, gpointer data)
{
  (*(guint *) data)++;
}

/* A cascade-file set before any detector selects the cascade (pipelines
 * from when it was the only detector), with notify::detector; set after
 * detector=yunet, the cascade is not used and starting says so. */
static void
test_cascade_file_implies (void)
{
  GstElement *e = gst_element_factory_make ("femodetect", NULL);
  gchar *cascade = femo_test_cascade_path (FEMO_TEST_DEFAULT_CASCADE);
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  GError *error = NULL;
  gchar *debug = NULL;
  guint notified = 0;
  gint detector;

  g_signal_connect (e, "notify::detector", G_CALLBACK (count_notify),
      &notified);
  g_object_set (e, "cascade-file", cascade, NULL);
  g_object_get (e, "detector", &detector, NULL);
  g_assert_cmpint (detector, ==, FEMO_TEST_CASCADE);
  g_assert_cmpuint (notified, ==, 1);
  /* the application's own choice stands, in either order */
  g_object_set (e, "detector", FEMO_TEST_YUNET, NULL);
  g_object_set (e, "cascade-file", cascade, NULL);
  g_object_get (e, "detector", &detector, NULL);
  g_assert_cmpint (detector, ==, FEMO_TEST_YUNET);
  gst_object_unref (e);

  /* resetting the file to its default selects nothing */
  e = gst_element_factory_make ("femodetect", NULL);
  g_object_set (e, "cascade-file", NULL, NULL);
  g_object_get (e, "detector", &detector, NULL);
  g_assert_cmpint (detector, ==, FEMO_TEST_YUNET);
  gst_object_unref (e);

  e = gst_element_factory_make ("femodetect", NULL);
  g_object_set (e, "detector", FEMO_TEST_YUNET, "cascade-file", cascade,
      "classify", FALSE, NULL);
  gst_element_set_bus (e, bus);
  g_assert_cmpint (gst_element_set_state (e, GST_STATE_PAUSED), !=,
      GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING);
  g_assert_nonnull (msg);
  gst_message_parse_warning (msg, &error, &debug);
  g_assert_nonnull (strstr (error->message, "cascade-file is set but "
          "detector=yunet"));
  g_assert_nonnull (strstr (debug, cascade));
  g_error_free (error);
  g_free (debug);
  gst_message_unref (msg);
  gst_element_set_state (e, GST_STATE_NULL);

  /* no warning without a cascade-file */
  gst_object_unref (e);
  e = gst_element_factory_make ("femodetect", NULL);
  g_object_set (e, "classify", FALSE, NULL);
  gst_element_set_bus (e, bus);
  g_assert_cmpint (gst_element_set_state (e, GST_STATE_PAUSED), !=,
      GST_STATE_CHANGE_FAILURE);
  g_assert_null (gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING));
  gst_element_set_state (e, GST_STATE_NULL);
  gst_element_set_bus (e, NULL);
  gst_object_unref (e);
  gst_object_unref (bus);
  g_free (cascade);
}

/* A yunet-model that does not load fails the start with a RESOURCE error
 * naming it; a cascade-file that would not load does not matter then. */
static void
test_bad_model (void)
{
  GstElement *e = gst_element_factory_make ("femodetect", NULL);
  GstBus *bus = gst_bus_new ();
  gchar *cascade = femo_test_cascade_path (FEMO_TEST_DEFAULT_CASCADE);
  GstMessage *msg;
  GError *error = NULL;
  gchar *debug = NULL;

  g_object_set (e, "detector", 1, "yunet-model", cascade, "cascade-file",
      "/nonexistent/cascade.xml", "classify", FALSE, NULL);
  gst_element_set_bus (e, bus);
  g_assert_cmpint (gst_element_set_state (e, GST_STATE_PAUSED), ==,
      GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  g_assert_nonnull (msg);
  gst_message_parse_error (msg, &error, &debug);
  g_test_message ("%s (%s)", error->message, debug);
  g_assert_true (error->domain == GST_RESOURCE_ERROR);
  g_assert_nonnull (strstr (error->message, "YuNet model"));
  g_assert_nonnull (strstr (error->message, cascade));
  g_assert_nonnull (strstr (debug, "yunet-model="));
  g_error_free (error);
  g_free (debug);
  gst_message_unref (msg);
  gst_element_set_state (e, GST_STATE_NULL);
  gst_element_set_bus (e, NULL);
  gst_object_unref (bus);
  gst_object_unref (e);
  g_free (cascade);
}

/* Switched while playing, from the cascade: from the next frame, YuNet's
 * faces with landmarks, then the cascade's without; a yunet-model that
 * fails then posts a warning and YuNet goes on. */
static void
test_switch_while_playing (void)
{
  GstHarness *h = femo_test_detect_harness_new ("detector", FEMO_TEST_CASCADE,
      "classify", FALSE, "tracking", FALSE, "post-messages", FALSE, NULL);
  GArray *faces;
  GstMessage *msg;
  GstBus *bus = gst_element_get_bus (h->element);

  faces = faces_of (h, GST_VIDEO_FORMAT_I420);
  g_assert_cmpuint (faces->len, >, 0);
  g_assert_false (g_array_index (faces, FemoFaceInfo, 0).has_landmarks);
  g_assert_cmpint (g_array_index (faces, FemoFaceInfo, 0).neighbors, >, 0);
  g_array_unref (faces);

  gst_util_set_object_arg (G_OBJECT (h->element), "detector", "yunet");
  faces = faces_of (h, GST_VIDEO_FORMAT_I420);
  g_assert_cmpuint (faces->len, ==, 3);
  assert_yunet_face (&g_array_index (faces, FemoFaceInfo, 0));
  g_array_unref (faces);

  g_object_set (h->element, "yunet-model", "/nonexistent/yunet.safetensors",
      NULL);
  faces = faces_of (h, GST_VIDEO_FORMAT_I420);
  g_assert_cmpuint (faces->len, ==, 3);
  assert_yunet_face (&g_array_index (faces, FemoFaceInfo, 0));
  g_array_unref (faces);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING);
  g_assert_nonnull (msg);
  gst_message_unref (msg);

  gst_util_set_object_arg (G_OBJECT (h->element), "detector", "cascade");
  faces = faces_of (h, GST_VIDEO_FORMAT_I420);
  g_assert_cmpuint (faces->len, >, 0);
  g_assert_false (g_array_index (faces, FemoFaceInfo, 0).has_landmarks);
  g_array_unref (faces);
  gst_object_unref (bus);
  femo_test_detect_harness_teardown (h);
}

int
main (int argc, char **argv)
{
  gint ret;

  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  femo_test_require_default_cascade ();
  load_photo ();
  g_test_add_func ("/femodetect-yunet/properties", test_properties);
  g_test_add_func ("/femodetect-yunet/formats", test_formats);
  g_test_add_func ("/femodetect-yunet/message", test_message);
  g_test_add_func ("/femodetect-yunet/bad-model", test_bad_model);
  g_test_add_func ("/femodetect-yunet/cascade-file-implies",
      test_cascade_file_implies);
  g_test_add_func ("/femodetect-yunet/switch-while-playing",
      test_switch_while_playing);
  ret = g_test_run ();
  gst_buffer_unref (photo);
  return ret;
}
