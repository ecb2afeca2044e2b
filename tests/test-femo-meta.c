/* gst-femo tests: the reader of the metadata contract (gstreamer-femo-1.0)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * ROI metas built here as femodetect and other elements write them; the
 * reader must give each field, and -1/NULL/0 for what a meta lacks.
 */
#include <gst/gst.h>
#include <gst/video/video.h>

#include "femo-meta.h"

/* Adds a ROI meta numbered 0, 1, ... in order. */
static GstVideoRegionOfInterestMeta *
add_roi (GstBuffer * buf, const gchar * type, guint x, guint y, guint w,
    guint h)
{
  GstVideoRegionOfInterestMeta *roi =
      gst_buffer_add_video_region_of_interest_meta (buf, type, x, y, w, h);

  roi->id = gst_buffer_get_n_meta (buf,
      GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE) - 1;
  return roi;
}

/* A buffer with, in order: a face as femodetect writes it with tracking, a
 * "car", a face with an emotion of probabilities only and an object_id, a
 * face with a label but no confidence and a negative track_id, and a bare
 * face. */
static GstBuffer *
make_buffer (void)
{
  GstBuffer *buf = gst_buffer_new ();
  GstVideoRegionOfInterestMeta *roi;

  roi = add_roi (buf, FEMO_META_ROI_TYPE_FACE, 10, 20, 30, 40);
  gst_video_region_of_interest_meta_add_param (roi,
      gst_structure_new (FEMO_META_DETECTION_PARAMS_NAME,
          FEMO_META_DETECTION_FIELD_LABEL_ID, G_TYPE_INT,
          FEMO_META_DETECTION_LABEL_ID_FACE,
          FEMO_META_DETECTION_FIELD_CONFIDENCE, G_TYPE_DOUBLE, 0.375,
          FEMO_META_DETECTION_FIELD_NEIGHBORS, G_TYPE_INT, 6, NULL));
  gst_video_region_of_interest_meta_add_param (roi,
      gst_structure_new (FEMO_META_OBJECT_ID_PARAMS_NAME,
          FEMO_META_OBJECT_ID_FIELD_ID, G_TYPE_INT, 5, NULL));
  gst_video_region_of_interest_meta_add_param (roi,
      gst_structure_new (FEMO_META_EMOTION_PARAMS_NAME,
          FEMO_META_EMOTION_FIELD_LABEL, G_TYPE_STRING, "happy",
          FEMO_META_EMOTION_FIELD_LABEL_ID, G_TYPE_INT, 1,
          FEMO_META_EMOTION_FIELD_CONFIDENCE, G_TYPE_DOUBLE, 0.25,
          "sad", G_TYPE_DOUBLE, 0.5, "happy", G_TYPE_DOUBLE, 0.25,
          "neutral", G_TYPE_DOUBLE, 0.25,
          FEMO_META_EMOTION_FIELD_TRACK_ID, G_TYPE_UINT, 5, NULL));
  gst_video_region_of_interest_meta_add_param (roi,
      gst_structure_new (FEMO_META_EMOTION_RAW_PARAMS_NAME,
          FEMO_META_EMOTION_FIELD_LABEL, G_TYPE_STRING, "sad",
          FEMO_META_EMOTION_FIELD_LABEL_ID, G_TYPE_INT, 0,
          FEMO_META_EMOTION_FIELD_CONFIDENCE, G_TYPE_DOUBLE, 0.75,
          "sad", G_TYPE_DOUBLE, 0.75, "happy", G_TYPE_DOUBLE, 0.125,
          "neutral", G_TYPE_DOUBLE, 0.125, NULL));

  roi = add_roi (buf, "car", 0, 0, 8, 8);
  gst_video_region_of_interest_meta_add_param (roi,
      gst_structure_new (FEMO_META_EMOTION_PARAMS_NAME,
          "angry", G_TYPE_DOUBLE, 1.0, NULL));

  roi = add_roi (buf, FEMO_META_ROI_TYPE_FACE, 1, 2, 3, 4);
  gst_video_region_of_interest_meta_add_param (roi,
      gst_structure_new (FEMO_META_OBJECT_ID_PARAMS_NAME,
          FEMO_META_OBJECT_ID_FIELD_ID, G_TYPE_INT, 7, NULL));
  gst_video_region_of_interest_meta_add_param (roi,
      gst_structure_new (FEMO_META_EMOTION_PARAMS_NAME,
          "a", G_TYPE_DOUBLE, 0.2, "b", G_TYPE_DOUBLE, 0.7,
          "c", G_TYPE_DOUBLE, 0.1, NULL));

  roi = add_roi (buf, FEMO_META_ROI_TYPE_FACE, 5, 6, 7, 8);
  gst_video_region_of_interest_meta_add_param (roi,
      gst_structure_new (FEMO_META_EMOTION_PARAMS_NAME,
          FEMO_META_EMOTION_FIELD_LABEL, G_TYPE_STRING, "c",
          "a", G_TYPE_DOUBLE, 0.2, "b", G_TYPE_DOUBLE, 0.7,
          "c", G_TYPE_DOUBLE, 0.1,
          FEMO_META_EMOTION_FIELD_TRACK_ID, G_TYPE_INT, -3, NULL));

  add_roi (buf, FEMO_META_ROI_TYPE_FACE, 9, 9, 9, 9);
  return buf;
}

static void
test_tracked_face (void)
{
  GstBuffer *buf = make_buffer ();
  gpointer state = NULL;
  FemoFaceInfo face;

  g_assert_true (femo_buffer_iterate_faces (buf, &state, &face));
  g_assert_true (face.roi == gst_buffer_get_video_region_of_interest_meta_id
      (buf, 0));
  g_assert_cmpuint (face.x, ==, 10);
  g_assert_cmpuint (face.y, ==, 20);
  g_assert_cmpuint (face.width, ==, 30);
  g_assert_cmpuint (face.height, ==, 40);
  g_assert_cmpuint (face.track_id, ==, 5);
  /* the shown label, not the arg-max of the probabilities */
  g_assert_true (face.label == g_intern_static_string ("happy"));
  g_assert_cmpint (face.label_id, ==, 1);
  g_assert_cmpfloat (face.confidence, ==, 0.25);
  g_assert_cmpuint (face.n_classes, ==, 3);
  g_assert_cmpstr (face.class_names[0], ==, "sad");
  g_assert_cmpstr (face.class_names[1], ==, "happy");
  g_assert_cmpstr (face.class_names[2], ==, "neutral");
  g_assert_cmpfloat (face.probs[0], ==, 0.5);
  g_assert_cmpfloat (femo_face_info_get_prob (&face, "happy"), ==, 0.25);
  g_assert_cmpfloat (femo_face_info_get_prob (&face, "angry"), ==, -1.0);
  g_assert_cmpstr (face.raw_label, ==, "sad");
  g_assert_cmpfloat (face.raw_confidence, ==, 0.75);
  g_assert_true (face.detected);
  g_assert_cmpfloat (face.detection_confidence, ==, 0.375);
  g_assert_cmpint (face.neighbors, ==, 6);
  gst_buffer_unref (buf);
  /* interned: the strings outlive the buffer */
  g_assert_cmpstr (face.label, ==, "happy");
  g_assert_cmpstr (face.class_names[0], ==, "sad");
}

/* What the writer attaches, the reader gives back; an emotion set twice
 * replaces the first. */
static void
test_write_read (void)
{
  static const gchar *const classes[] = { "angry", "happy", "sad" };
  const gfloat probs[] = { 0.125f, 0.625f, 0.25f };
  const gfloat raw[] = { 0.5f, 0.25f, 0.25f };
  GstBuffer *buf = gst_buffer_new ();
  GstVideoRegionOfInterestMeta *roi;
  const GstStructure *s;
  gpointer state = NULL;
  FemoFaceInfo face;
  gdouble x_max;

  roi = femo_meta_add_face (buf, 40, 30, 20, 10, 9);
  femo_meta_add_detection (roi, 0.5, 10, 80, 60);
  femo_meta_add_object_id (roi, 9);
  femo_meta_set_emotion (roi, FEMO_META_EMOTION_RAW_PARAMS_NAME, classes,
      raw, 3, 0, 9);
  femo_meta_set_emotion (roi, FEMO_META_EMOTION_PARAMS_NAME, classes, raw, 3,
      0, 9);
  femo_meta_set_emotion (roi, FEMO_META_EMOTION_PARAMS_NAME, classes, probs,
      3, 1, 9);
  g_assert_cmpuint (g_list_length (roi->params), ==, 4);

  g_assert_true (femo_buffer_iterate_faces (buf, &state, &face));
  g_assert_cmpint (face.roi->id, ==, 9);
  g_assert_cmpuint (face.x, ==, 40);
  g_assert_cmpuint (face.width, ==, 20);
  g_assert_cmpuint (face.track_id, ==, 9);
  g_assert_cmpstr (face.label, ==, "happy");
  g_assert_cmpint (face.label_id, ==, 1);
  g_assert_cmpfloat (face.confidence, ==, 0.625);
  g_assert_cmpuint (face.n_classes, ==, 3);
  g_assert_cmpstr (face.class_names[2], ==, "sad");
  g_assert_cmpfloat (face.probs[0], ==, 0.125);
  g_assert_cmpstr (face.raw_label, ==, "angry");
  g_assert_cmpfloat (face.raw_confidence, ==, 0.5);
  g_assert_true (face.detected);
  g_assert_cmpfloat (face.detection_confidence, ==, 0.5);
  g_assert_cmpint (face.neighbors, ==, 10);
  s = gst_video_region_of_interest_meta_get_param (roi,
      FEMO_META_DETECTION_PARAMS_NAME);
  g_assert_true (gst_structure_get_double (s, FEMO_META_DETECTION_FIELD_X_MAX,
          &x_max));
  g_assert_cmpfloat (x_max, ==, 0.75);
  g_assert_false (femo_buffer_iterate_faces (buf, &state, &face));
  gst_buffer_unref (buf);
}

/* Landmarks and a detection without neighbours (YuNet's), written and
 * read back; the field names are the contract's; a landmarks param that
 * lacks a point gives none. */
static void
test_landmarks (void)
{
  const gdouble xy[2 * FEMO_META_N_LANDMARKS] = {
    21.5, 30.25, 48.75, 29.5, 35.0, 44.125, 24.5, 55.0, 46.25, 54.5,
  };
  GstBuffer *buf = gst_buffer_new ();
  GstVideoRegionOfInterestMeta *roi;
  const GstStructure *s;
  gpointer state = NULL;
  FemoFaceInfo face;
  gdouble v;

  roi = femo_meta_add_face (buf, 10, 12, 50, 60, 0);
  femo_meta_add_detection (roi, 0.875, -1, 100, 100);
  femo_meta_add_landmarks (roi, xy);
  s = gst_video_region_of_interest_meta_get_param (roi,
      FEMO_META_DETECTION_PARAMS_NAME);
  g_assert_false (gst_structure_has_field (s,
          FEMO_META_DETECTION_FIELD_NEIGHBORS));
  s = gst_video_region_of_interest_meta_get_param (roi,
      FEMO_META_LANDMARKS_PARAMS_NAME);
  g_assert_nonnull (s);
  g_assert_cmpint (gst_structure_n_fields (s), ==, 10);
  g_assert_true (gst_structure_get_double (s, "left_eye_x", &v));
  g_assert_cmpfloat (v, ==, 21.5);
  g_assert_true (gst_structure_get_double (s, "nose_y", &v));
  g_assert_cmpfloat (v, ==, 44.125);
  g_assert_true (gst_structure_get_double (s, "right_mouth_x", &v));
  g_assert_cmpfloat (v, ==, 46.25);

  g_assert_true (femo_buffer_iterate_faces (buf, &state, &face));
  g_assert_true (face.detected);
  g_assert_cmpfloat (face.detection_confidence, ==, 0.875);
  g_assert_cmpint (face.neighbors, ==, -1);
  g_assert_true (face.has_landmarks);
  for (guint k = 0; k < 2 * FEMO_META_N_LANDMARKS; k++)
    g_assert_cmpfloat (face.landmarks[k], ==, xy[k]);

  /* four points only: none */
  roi = femo_meta_add_face (buf, 10, 12, 50, 60, 1);
  gst_video_region_of_interest_meta_add_param (roi,
      gst_structure_new (FEMO_META_LANDMARKS_PARAMS_NAME,
          "left_eye_x", G_TYPE_DOUBLE, 1.0, "left_eye_y", G_TYPE_DOUBLE, 1.0,
          "right_eye_x", G_TYPE_DOUBLE, 1.0, "right_eye_y", G_TYPE_DOUBLE,
          1.0, "nose_x", G_TYPE_DOUBLE, 1.0, "nose_y", G_TYPE_DOUBLE, 1.0,
          "left_mouth_x", G_TYPE_DOUBLE, 1.0, "left_mouth_y", G_TYPE_DOUBLE,
          1.0, NULL));
  g_assert_true (femo_buffer_iterate_faces (buf, &state, &face));
  g_assert_false (face.has_landmarks);
  g_assert_false (face.detected);
  g_assert_false (femo_buffer_iterate_faces (buf, &state, &face));
  gst_buffer_unref (buf);
}

/* The messages femodetect posts, as the contract names their fields. */
static void
test_messages (void)
{
  static const gchar *const classes[] = { "angry", "happy" };
  const gfloat probs[] = { 0.25f, 0.75f };
  GstBuffer *buf = gst_buffer_new ();
  GstVideoRegionOfInterestMeta *roi = femo_meta_add_face (buf, 1, 2, 3, 4, 0);
  GstStructure *s = femo_meta_new_frame_message (40, 30, 20, 10);
  const GstStructure *face, *emotion;
  const GValue *faces;
  guint64 t;
  guint u;

  femo_meta_frame_message_add_face (s, roi, 0);
  femo_meta_set_emotion (roi, FEMO_META_EMOTION_PARAMS_NAME, classes, probs,
      2, 1, 6);
  femo_meta_frame_message_add_face (s, roi, 6);
  g_assert_true (gst_structure_has_name (s, FEMO_META_DETECT_MESSAGE_NAME));
  g_assert_true (gst_structure_get_uint64 (s, FEMO_META_FIELD_STREAM_TIME,
          &t));
  g_assert_cmpuint (t, ==, 30);
  faces = gst_structure_get_value (s, FEMO_META_FIELD_FACES);
  g_assert_cmpuint (gst_value_list_get_size (faces), ==, 2);
  face = gst_value_get_structure (gst_value_list_get_value (faces, 0));
  g_assert_true (gst_structure_get_uint (face, FEMO_META_FIELD_HEIGHT, &u));
  g_assert_cmpuint (u, ==, 4);
  g_assert_false (gst_structure_has_field (face, FEMO_META_FIELD_EMOTION));
  g_assert_false (gst_structure_has_field (face, FEMO_META_FIELD_TRACK_ID));
  face = gst_value_get_structure (gst_value_list_get_value (faces, 1));
  g_assert_true (gst_structure_get_uint (face, FEMO_META_FIELD_TRACK_ID, &u));
  g_assert_cmpuint (u, ==, 6);
  g_assert_true (gst_structure_get (face, FEMO_META_FIELD_EMOTION,
          GST_TYPE_STRUCTURE, &emotion, NULL));
  g_assert_cmpstr (gst_structure_get_string (emotion,
          FEMO_META_EMOTION_FIELD_LABEL), ==, "happy");
  gst_structure_free ((GstStructure *) emotion);
  /* neither detected here nor with landmarks */
  g_assert_false (gst_structure_has_field (face,
          FEMO_META_FIELD_DETECTION_CONFIDENCE));
  g_assert_false (gst_structure_has_field (face, FEMO_META_FIELD_LANDMARKS));
  gst_structure_free (s);

  /* a detected face with landmarks: its confidence and a copy of them */
  {
    const gdouble xy[2 * FEMO_META_N_LANDMARKS] = { 1, 2, 3, 4, 5, 6, 7, 8,
      9, 10
    };
    const GstStructure *points;
    gdouble c, x;

    femo_meta_add_detection (roi, 0.875, -1, 100, 100);
    femo_meta_add_landmarks (roi, xy);
    s = femo_meta_new_frame_message (40, 30, 20, 10);
    femo_meta_frame_message_add_face (s, roi, 6);
    face = gst_value_get_structure (gst_value_list_get_value
        (gst_structure_get_value (s, FEMO_META_FIELD_FACES), 0));
    g_assert_true (gst_structure_get_double (face,
            FEMO_META_FIELD_DETECTION_CONFIDENCE, &c));
    g_assert_cmpfloat (c, ==, 0.875);
    g_assert_true (gst_structure_get (face, FEMO_META_FIELD_LANDMARKS,
            GST_TYPE_STRUCTURE, &points, NULL));
    g_assert_true (gst_structure_is_equal (points,
            gst_video_region_of_interest_meta_get_param (roi,
                FEMO_META_LANDMARKS_PARAMS_NAME)));
    g_assert_true (gst_structure_get_double (points, "right_mouth_y", &x));
    g_assert_cmpfloat (x, ==, 10);
    gst_structure_free ((GstStructure *) points);
    gst_structure_free (s);
  }

  s = femo_meta_new_track_ended (6, 1, 2, 3, 4, 5, NULL, "cut");
  g_assert_false (gst_structure_has_field (s,
          FEMO_META_FIELD_DOMINANT_LABEL));
  g_assert_cmpstr (gst_structure_get_string (s, FEMO_META_FIELD_REASON), ==,
      "cut");
  gst_structure_free (s);
  s = femo_meta_new_label_changed (6, "angry", "happy", 7, 8);
  g_assert_cmpstr (gst_structure_get_string (s, FEMO_META_FIELD_NEW_LABEL),
      ==, "happy");
  g_assert_true (gst_structure_get_uint64 (s, FEMO_META_FIELD_RUNNING_TIME,
          &t));
  g_assert_cmpuint (t, ==, 8);
  gst_structure_free (s);
  gst_buffer_unref (buf);
}

static void
test_partial_faces (void)
{
  GstBuffer *buf = make_buffer ();
  GArray *faces = g_array_new (FALSE, FALSE, sizeof (FemoFaceInfo));
  const FemoFaceInfo *f;

  /* the "car" is no face */
  g_assert_cmpuint (femo_buffer_get_faces (buf, faces), ==, 4);
  g_assert_cmpuint (faces->len, ==, 4);

  /* probabilities only: the most probable names the label; object_id
   * gives the track */
  f = &g_array_index (faces, FemoFaceInfo, 1);
  g_assert_cmpuint (f->x, ==, 1);
  g_assert_cmpstr (f->label, ==, "b");
  g_assert_cmpfloat (f->confidence, ==, 0.7);
  g_assert_cmpint (f->label_id, ==, -1);
  g_assert_cmpuint (f->track_id, ==, 7);
  g_assert_null (f->raw_label);
  g_assert_cmpfloat (f->raw_confidence, ==, -1.0);
  g_assert_false (f->detected);
  g_assert_cmpfloat (f->detection_confidence, ==, -1.0);
  g_assert_cmpint (f->neighbors, ==, -1);
  g_assert_false (f->has_landmarks);

  /* a label without confidence: its probability; a negative id: none */
  f = &g_array_index (faces, FemoFaceInfo, 2);
  g_assert_cmpstr (f->label, ==, "c");
  g_assert_cmpfloat (f->confidence, ==, 0.1);
  g_assert_cmpuint (f->track_id, ==, 0);
  g_assert_cmpuint (f->n_classes, ==, 3);

  /* nothing but the box */
  f = &g_array_index (faces, FemoFaceInfo, 3);
  g_assert_cmpuint (f->width, ==, 9);
  g_assert_null (f->label);
  g_assert_cmpfloat (f->confidence, ==, -1.0);
  g_assert_cmpuint (f->n_classes, ==, 0);
  g_assert_cmpuint (f->track_id, ==, 0);
  g_assert_false (f->detected);

  g_array_unref (faces);
  gst_buffer_unref (buf);
}

/* Any region type reads the same way (femooverlay draws them all). */
static void
test_other_region (void)
{
  GstBuffer *buf = make_buffer ();
  FemoFaceInfo face;

  femo_face_info_read (&face,
      gst_buffer_get_video_region_of_interest_meta_id (buf, 1));
  g_assert_cmpuint (face.width, ==, 8);
  g_assert_cmpstr (face.label, ==, "angry");
  g_assert_cmpfloat (face.confidence, ==, 1.0);
  gst_buffer_unref (buf);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/femo-meta/tracked-face", test_tracked_face);
  g_test_add_func ("/femo-meta/partial-faces", test_partial_faces);
  g_test_add_func ("/femo-meta/other-region", test_other_region);
  g_test_add_func ("/femo-meta/write-read", test_write_read);
  g_test_add_func ("/femo-meta/messages", test_messages);
  g_test_add_func ("/femo-meta/landmarks", test_landmarks);
  return g_test_run ();
}
