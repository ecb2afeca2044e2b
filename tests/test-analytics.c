/* gst-femo tests: faces as GstAnalyticsRelationMeta (GStreamer 1.24+)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Built only where gstreamer-analytics-1.0 was found. What femodetect
 * writes is read back through upstream's API and must say what its ROI
 * metas say, face by face; upstream's objectdetectionoverlay must draw our
 * faces; femooverlay, femodetect detect=false and the reader must take
 * faces that another element (a stand-in for an ONNX detector's tensor
 * decoder, below) put in a relation meta, including bad ones.
 */
#include "femo-meta.h"
#include "test-util.h"

#include <gst/analytics/analytics.h>
#include <gst/base/gstbasetransform.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include <math.h>
#include <string.h>

#define GRACE_HOPPER "media/facedetect_grace_hopper_512x512.jpg"
#define ASTRONAUT "media/skimage_astronaut.png"
/* the levels are gfloat, the ROI's probabilities the same gfloat widened */
#define LEVEL_TOLERANCE 1e-7

/* ---- a stand-in for another element's detector ----
 *
 * femotestdetections attaches what add_detections() puts on each buffer,
 * as an ONNX detector with a tensor decoder would. */

typedef void (*AddDetections) (GstBuffer * buf);
static AddDetections add_detections;

#define TEST_TYPE_DETECTIONS (test_detections_get_type ())
G_DECLARE_FINAL_TYPE (TestDetections, test_detections, TEST, DETECTIONS,
    GstBaseTransform);
struct _TestDetections
{
  GstBaseTransform parent;
};
G_DEFINE_TYPE (TestDetections, test_detections, GST_TYPE_BASE_TRANSFORM);

static GstStaticPadTemplate any_sink = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);
static GstStaticPadTemplate any_src = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

static GstFlowReturn
test_detections_transform_ip (GstBaseTransform * trans, GstBuffer * buf)
{
  add_detections (buf);
  return GST_FLOW_OK;
}

static void
test_detections_class_init (TestDetectionsClass * klass)
{
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);

  gst_element_class_add_static_pad_template (element_class, &any_sink);
  gst_element_class_add_static_pad_template (element_class, &any_src);
  gst_element_class_set_static_metadata (element_class, "Test detections",
      "Filter/Analyzer/Video", "Attaches the test's relation meta",
      "gst-femo tests");
  GST_BASE_TRANSFORM_CLASS (klass)->transform_ip = test_detections_transform_ip;
}

static void
test_detections_init (TestDetections * self)
{
  gst_base_transform_set_in_place (GST_BASE_TRANSFORM (self), TRUE);
}

/* ---- helpers ---- */

static GstAnalyticsRelationMeta *
relation_meta (GstBuffer * buf)
{
  GstAnalyticsRelationMeta *rmeta = gst_buffer_get_analytics_relation_meta
      (buf);

  return rmeta ? rmeta : gst_buffer_add_analytics_relation_meta (buf);
}

/* Adds a detection of @type with classes @names (NULL-terminated, may be
 * NULL for none) at @levels and a track @track_id (0: none); returns its
 * id. */
static guint
add_od (GstBuffer * buf, const gchar * type, gint x, gint y, gint w, gint h,
    gfloat confidence, const gchar * const *names, const gfloat * levels,
    guint64 track_id)
{
  GstAnalyticsRelationMeta *rmeta = relation_meta (buf);
  GstAnalyticsODMtd od;

  g_assert_true (gst_analytics_relation_meta_add_od_mtd (rmeta,
          g_quark_from_string (type), x, y, w, h, confidence, &od));
  if (names != NULL) {
    guint n = g_strv_length ((gchar **) names);
    GQuark *quarks = g_new (GQuark, n);
    GstAnalyticsClsMtd cls;

    for (guint k = 0; k < n; k++)
      quarks[k] = g_quark_from_string (names[k]);
    g_assert_true (gst_analytics_relation_meta_add_cls_mtd (rmeta, n,
            (gfloat *) levels, quarks, &cls));
    g_assert_true (gst_analytics_relation_meta_set_relation (rmeta,
            GST_ANALYTICS_REL_TYPE_RELATE_TO, od.id, cls.id));
    g_free (quarks);
  }
  if (track_id != 0) {
    GstAnalyticsTrackingMtd track;

    g_assert_true (gst_analytics_relation_meta_add_tracking_mtd (rmeta,
            track_id, GST_SECOND, &track));
    g_assert_true (gst_analytics_relation_meta_set_relation (rmeta,
            GST_ANALYTICS_REL_TYPE_RELATE_TO, od.id, track.id));
  }
  return od.id;
}

/* The ids of @buf's object detections, in order. */
static GArray *
od_ids (GstBuffer * buf)
{
  GstAnalyticsRelationMeta *rmeta = gst_buffer_get_analytics_relation_meta
      (buf);
  GArray *ids = g_array_new (FALSE, FALSE, sizeof (guint));
  GstAnalyticsMtd mtd;
  gpointer state = NULL;

  while (rmeta && gst_analytics_relation_meta_iterate (rmeta, &state,
          gst_analytics_od_mtd_get_mtd_type (), &mtd))
    g_array_append_val (ids, mtd.id);
  return ids;
}

/* How many mtds of @type are related from @od_id. */
static guint
n_related (GstAnalyticsRelationMeta * rmeta, guint od_id,
    GstAnalyticsMtdType type)
{
  GstAnalyticsMtd mtd;
  gpointer state = NULL;
  guint n = 0;

  while (gst_analytics_relation_meta_get_direct_related (rmeta, od_id,
          GST_ANALYTICS_REL_TYPE_RELATE_TO, type, &state, &mtd))
    n++;
  return n;
}

/* The face ROI metas of @buf, in order. */
static GPtrArray *
face_rois (GstBuffer * buf)
{
  GPtrArray *rois = g_ptr_array_new ();
  gpointer state = NULL;
  GstMeta *meta;

  while ((meta = gst_buffer_iterate_meta_filtered (buf, &state,
              GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE)))
    if (((GstVideoRegionOfInterestMeta *) meta)->roi_type ==
        g_quark_from_string (FEMO_META_ROI_TYPE_FACE))
      g_ptr_array_add (rois, meta);
  return rois;
}

static GstBuffer *
load_frame (const gchar * relative, GstVideoFormat format, GstVideoInfo * info)
{
  gchar *path = femo_test_shared_path (relative);
  GError *error = NULL;
  gint width, height;
  guint8 *pixels = femo_test_load_image (path, format, &width, &height,
      &error);

  g_assert_no_error (error);
  gst_video_info_set_format (info, format, width, height);
  g_assert_cmpint (GST_VIDEO_INFO_SIZE (info), ==,
      (gsize) width * height * GST_VIDEO_INFO_COMP_PSTRIDE (info, 0));
  g_free (path);
  return gst_buffer_new_wrapped (pixels, GST_VIDEO_INFO_SIZE (info));
}

/* The per-frame message femodetect posted last, or NULL. */
static GstStructure *
pop_frame_message (GstHarness * h)
{
  GstBus *bus = gst_element_get_bus (h->element);
  GstStructure *s = NULL;
  GstMessage *msg;

  while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT))) {
    if (gst_message_has_name (msg, FEMO_META_DETECT_MESSAGE_NAME)) {
      g_clear_pointer (&s, gst_structure_free);
      s = gst_structure_copy (gst_message_get_structure (msg));
    }
    gst_message_unref (msg);
  }
  gst_object_unref (bus);
  return s;
}

/* Which bytes of the frames differ: a 0/1 mask of width x height. */
static guint8 *
changed_pixels (const GstVideoInfo * info, GstBuffer * a, GstBuffer * b,
    guint * n_changed)
{
  gint width = GST_VIDEO_INFO_WIDTH (info), height =
      GST_VIDEO_INFO_HEIGHT (info);
  gint pstride = GST_VIDEO_INFO_COMP_PSTRIDE (info, 0);
  guint8 *mask = g_new0 (guint8, (gsize) width * height);
  GstMapInfo ma, mb;

  g_assert_true (gst_buffer_map (a, &ma, GST_MAP_READ));
  g_assert_true (gst_buffer_map (b, &mb, GST_MAP_READ));
  *n_changed = 0;
  for (gsize i = 0; i < (gsize) width * height; i++)
    if (memcmp (ma.data + i * pstride, mb.data + i * pstride, pstride) != 0) {
      mask[i] = 1;
      (*n_changed)++;
    }
  gst_buffer_unmap (a, &ma);
  gst_buffer_unmap (b, &mb);
  return mask;
}

/* Pushes a copy of @frame through @h and returns the changed pixels. */
static guint8 *
push_and_compare (GstHarness * h, const GstVideoInfo * info,
    GstBuffer * frame, guint * n_changed, GstBuffer ** out)
{
  GstBuffer *result;
  guint8 *mask;

  g_assert_cmpint (gst_harness_push (h, gst_buffer_copy_deep (frame)), ==,
      GST_FLOW_OK);
  result = gst_harness_pull (h);
  mask = changed_pixels (info, frame, result, n_changed);
  if (out)
    *out = result;
  else
    gst_buffer_unref (result);
  return mask;
}

/* ---- what femodetect writes, read through upstream's API ---- */

/* Every face of @buf's ROI metas against its relation meta: same order and
 * box, the detection's confidence, the classification (shown label first,
 * every probability), the track. @first_seen maps track ids to the running
 * time the test first saw them. Counts the faces into @n_faces, those
 * carried by their tracks into @n_carried. */
static void
check_agreement (GstBuffer * buf, GstClockTime running_time,
    GHashTable * first_seen, guint * n_faces, guint * n_carried)
{
  GstAnalyticsRelationMeta *rmeta = gst_buffer_get_analytics_relation_meta
      (buf);
  GPtrArray *rois = face_rois (buf);
  GArray *ids = od_ids (buf);
  guint n = rois->len;

  g_assert_cmpuint (ids->len, ==, rois->len);
  g_assert_true (n == 0 || rmeta != NULL);
  for (guint i = 0; i < n; i++) {
    GstVideoRegionOfInterestMeta *roi = g_ptr_array_index (rois, i);
    const GstStructure *detection =
        gst_video_region_of_interest_meta_get_param (roi,
        FEMO_META_DETECTION_PARAMS_NAME);
    const GstStructure *emotion =
        gst_video_region_of_interest_meta_get_param (roi,
        FEMO_META_EMOTION_PARAMS_NAME);
    const GstStructure *object =
        gst_video_region_of_interest_meta_get_param (roi,
        FEMO_META_OBJECT_ID_PARAMS_NAME);
    GstAnalyticsODMtd od;
    GstAnalyticsClsMtd cls;
    GstAnalyticsTrackingMtd track;
    gint x, y, w, h, track_id;
    gfloat level;
    gdouble confidence;

    g_assert_true (gst_analytics_relation_meta_get_od_mtd (rmeta,
            g_array_index (ids, guint, i), &od));
    g_assert_cmpstr (g_quark_to_string (gst_analytics_od_mtd_get_obj_type
            (&od)), ==, FEMO_META_ROI_TYPE_FACE);
    g_assert_true (gst_analytics_od_mtd_get_location (&od, &x, &y, &w, &h,
            &level));
    g_assert_cmpint (x, ==, roi->x);
    g_assert_cmpint (y, ==, roi->y);
    g_assert_cmpint (w, ==, roi->w);
    g_assert_cmpint (h, ==, roi->h);
    if (detection) {
      g_assert_true (gst_structure_get_double (detection,
              FEMO_META_DETECTION_FIELD_CONFIDENCE, &confidence));
      g_assert_cmpfloat_with_epsilon (level, confidence, LEVEL_TOLERANCE);
      g_assert_cmpfloat (level, >, 0);
    } else {
      g_assert_cmpfloat (level, ==, 0); /* carried by its track */
      (*n_carried)++;
    }

    g_assert_cmpuint (n_related (rmeta, od.id,
            gst_analytics_cls_mtd_get_mtd_type ()), ==, emotion ? 1 : 0);
    if (emotion) {
      gsize n_classes;

      g_assert_true (gst_analytics_relation_meta_get_direct_related (rmeta,
              od.id, GST_ANALYTICS_REL_TYPE_RELATE_TO,
              gst_analytics_cls_mtd_get_mtd_type (), NULL, &cls));
      n_classes = gst_analytics_cls_mtd_get_length (&cls);
      /* label, label_id, confidence, the classes[, track_id] */
      g_assert_cmpuint (n_classes, ==, gst_structure_n_fields (emotion) - 3
          - gst_structure_has_field (emotion,
              FEMO_META_EMOTION_FIELD_TRACK_ID));
      g_assert_cmpstr (g_quark_to_string (gst_analytics_cls_mtd_get_quark (&cls,
                  0)), ==, gst_structure_get_string (emotion,
              FEMO_META_EMOTION_FIELD_LABEL));
      g_assert_true (gst_structure_get_double (emotion,
              FEMO_META_EMOTION_FIELD_CONFIDENCE, &confidence));
      g_assert_cmpfloat_with_epsilon (gst_analytics_cls_mtd_get_level (&cls, 0),
          confidence, LEVEL_TOLERANCE);
      for (gsize k = 0; k < n_classes; k++) {
        const gchar *name = g_quark_to_string (gst_analytics_cls_mtd_get_quark
            (&cls, k));
        gdouble p;

        g_assert_true (gst_structure_get_double (emotion, name, &p));
        g_assert_cmpfloat_with_epsilon (gst_analytics_cls_mtd_get_level (&cls,
                k), p, LEVEL_TOLERANCE);
      }
    }

    g_assert_cmpuint (n_related (rmeta, od.id,
            gst_analytics_tracking_mtd_get_mtd_type ()), ==, object ? 1 : 0);
    if (object) {
      guint64 id;
      GstClockTime first, last;
      gboolean lost;
      gpointer seen;

      g_assert_true (gst_structure_get_int (object,
              FEMO_META_OBJECT_ID_FIELD_ID, &track_id));
      g_assert_true (gst_analytics_relation_meta_get_direct_related (rmeta,
              od.id, GST_ANALYTICS_REL_TYPE_RELATE_TO,
              gst_analytics_tracking_mtd_get_mtd_type (), NULL, &track));
      g_assert_true (gst_analytics_tracking_mtd_get_info (&track, &id, &first,
              &last, &lost));
      g_assert_cmpuint (id, ==, track_id);
      g_assert_cmpint (roi->id, ==, track_id);
      g_assert_false (lost);
      if (!g_hash_table_lookup_extended (first_seen, GINT_TO_POINTER (track_id),
              NULL, &seen)) {
        seen = GSIZE_TO_POINTER (running_time);
        g_hash_table_insert (first_seen, GINT_TO_POINTER (track_id), seen);
      }
      g_assert_cmpuint (first, ==, GPOINTER_TO_SIZE (seen));
      g_assert_cmpuint (first, <=, last);
      /* detected now, or carried since its last detection */
      if (detection)
        g_assert_cmpuint (last, ==, running_time);
      else
        g_assert_cmpuint (last, <, running_time);
    }
  }
  *n_faces += n;
  g_ptr_array_unref (rois);
  g_array_unref (ids);
}

/* The reader gives the same faces from either form (femodetect
 * metadata=roi and metadata=analytics on the same frame), but for what only
 * the ROI form has. */
static void
check_same_faces (GstBuffer * roi_buf, GstBuffer * analytics_buf)
{
  GArray *a = g_array_new (FALSE, FALSE, sizeof (FemoFaceInfo));
  GArray *b = g_array_new (FALSE, FALSE, sizeof (FemoFaceInfo));

  g_assert_cmpuint (femo_buffer_get_faces (roi_buf, a), ==,
      femo_buffer_get_faces (analytics_buf, b));
  for (guint i = 0; i < a->len; i++) {
    const FemoFaceInfo *r = &g_array_index (a, FemoFaceInfo, i);
    const FemoFaceInfo *f = &g_array_index (b, FemoFaceInfo, i);

    g_assert_nonnull (r->roi);
    g_assert_null (r->analytics);
    g_assert_null (f->roi);
    g_assert_true (f->analytics == (GstMeta *)
        gst_buffer_get_analytics_relation_meta (analytics_buf));
    g_assert_true (f->type == r->type);
    g_assert_cmpuint (f->x, ==, r->x);
    g_assert_cmpuint (f->y, ==, r->y);
    g_assert_cmpuint (f->width, ==, r->width);
    g_assert_cmpuint (f->height, ==, r->height);
    g_assert_cmpuint (f->track_id, ==, r->track_id);
    g_assert_true (f->label == r->label);
    g_assert_cmpfloat_with_epsilon (f->confidence, r->confidence,
        LEVEL_TOLERANCE);
    g_assert_cmpuint (f->n_classes, ==, r->n_classes);
    for (guint k = 0; k < r->n_classes; k++)
      g_assert_cmpfloat_with_epsilon (femo_face_info_get_prob (f,
              r->class_names[k]), r->probs[k], LEVEL_TOLERANCE);
    g_assert_true (f->detected);
    g_assert_cmpint (f->neighbors, ==, -1);
    g_assert_cmpint (f->label_id, ==, -1);
    g_assert_null (f->raw_label);
    if (r->detected)
      g_assert_cmpfloat_with_epsilon (f->detection_confidence,
          r->detection_confidence, LEVEL_TOLERANCE);
    else
      g_assert_cmpfloat (f->detection_confidence, ==, 0);
  }
  g_array_unref (a);
  g_array_unref (b);
}

/* Frames of the montage (a shot cut among them) through femodetect with
 * both forms, detection on every other frame so that tracks carry faces
 * between; and through femodetect metadata=roi and metadata=analytics. */
static void
test_agreement (void)
{
  const guint first = FEMO_TEST_MONTAGE_FIRST, last = first + 30;
  GstHarness *both =
      femo_test_detect_harness_new_metadata ("both", "detect-interval", 2,
      NULL);
  GstHarness *roi = femo_test_detect_harness_new_metadata ("roi", NULL);
  GstHarness *analytics =
      femo_test_detect_harness_new_metadata ("analytics", NULL);
  GHashTable *first_seen = g_hash_table_new (NULL, NULL);
  GstClockTime frame = gst_util_uint64_scale (GST_SECOND,
      FEMO_TEST_MONTAGE_FPS_D, FEMO_TEST_MONTAGE_FPS_N);
  guint n_faces = 0, n_carried = 0, n_compared = 0;
  gint width, height;
  GPtrArray *frames = femo_test_decode_video_gray (FEMO_TEST_MONTAGE, first,
      last, FEMO_TEST_MONTAGE_FPS_N, FEMO_TEST_MONTAGE_FPS_D, &width,
      &height);
  gchar *caps = g_strdup_printf ("video/x-raw,format=GRAY8,width=%d,"
      "height=%d,framerate=%d/%d", width, height, FEMO_TEST_MONTAGE_FPS_N,
      FEMO_TEST_MONTAGE_FPS_D);

  gst_harness_set_src_caps_str (both, caps);
  gst_harness_set_src_caps_str (roi, caps);
  gst_harness_set_src_caps_str (analytics, caps);
  for (guint i = 0; i < frames->len; i++) {
    GstBuffer *in = g_ptr_array_index (frames, i), *out, *a, *b;
    GstStructure *ma, *mb;

    GST_BUFFER_PTS (in) = i * frame;
    GST_BUFFER_DURATION (in) = frame;
    g_assert_cmpint (gst_harness_push (both, gst_buffer_ref (in)), ==,
        GST_FLOW_OK);
    out = gst_harness_pull (both);
    check_agreement (out, GST_BUFFER_PTS (in), first_seen, &n_faces,
        &n_carried);
    gst_buffer_unref (out);

    g_assert_cmpint (gst_harness_push (roi, gst_buffer_ref (in)), ==,
        GST_FLOW_OK);
    g_assert_cmpint (gst_harness_push (analytics, gst_buffer_ref (in)), ==,
        GST_FLOW_OK);
    a = gst_harness_pull (roi);
    b = gst_harness_pull (analytics);
    g_assert_null (gst_buffer_get_analytics_relation_meta (a));
    g_assert_cmpuint (gst_buffer_get_n_meta (b,
            GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE), ==, 0);
    check_same_faces (a, b);
    n_compared += gst_buffer_get_n_meta (a,
        GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE);
    /* the message does not depend on where the faces went */
    ma = pop_frame_message (roi);
    mb = pop_frame_message (analytics);
    g_assert_nonnull (ma);
    g_assert_nonnull (mb);
    g_assert_true (gst_structure_is_equal (ma, mb));
    gst_structure_free (ma);
    gst_structure_free (mb);
    gst_buffer_unref (a);
    gst_buffer_unref (b);
  }
  g_print ("# %u faces agree (%u carried), %u read alike from either form, "
      "%u tracks\n", n_faces, n_carried, n_compared,
      g_hash_table_size (first_seen));
  g_assert_cmpuint (n_faces, >=, frames->len / 2);
  g_assert_cmpuint (n_carried, >, 0);
  g_assert_cmpuint (n_compared, >=, frames->len / 2);
  g_assert_cmpuint (g_hash_table_size (first_seen), >=, 2);

  g_free (caps);
  g_ptr_array_unref (frames);
  g_hash_table_unref (first_seen);
  femo_test_detect_harness_teardown (both);
  femo_test_detect_harness_teardown (roi);
  femo_test_detect_harness_teardown (analytics);
}

/* ---- the reader, on what other elements may write ---- */

/* A second classification of the detection @od_id: class @quark at 0.5. */
static void
add_one_class (GstAnalyticsRelationMeta * rmeta, guint od_id, GQuark quark)
{
  GstAnalyticsClsMtd cls;

  g_assert_true (gst_analytics_relation_meta_add_one_cls_mtd (rmeta, 0.5f,
          quark, &cls));
  g_assert_true (gst_analytics_relation_meta_set_relation (rmeta,
          GST_ANALYTICS_REL_TYPE_RELATE_TO, od_id, cls.id));
}

static const gchar *const emotions[] = { "happy", "sad", "neutral", NULL };
static const gfloat emotion_levels[] = { 0.75f, 0.125f, 0.125f };

/* Reads back relation metas as an upstream element may make them, good and
 * bad, alone and beside ROI metas. */
static void
test_reader (void)
{
  static const gchar *const odd[] = { "", "person", "sad", "worse", NULL };
  const gfloat odd_levels[] = { 0.5f, 7.0f, -3.0f, NAN };
  GstBuffer *buf = gst_buffer_new ();
  GstAnalyticsRelationMeta *rmeta;
  GArray *faces = g_array_new (FALSE, FALSE, sizeof (FemoFaceInfo));
  const FemoFaceInfo *f;
  gpointer state = NULL;
  FemoFaceInfo face;
  guint good, partly_outside, car, odd_classes, bare, twice, empty, big_id;
  GstVideoRegionOfInterestMeta *roi;

  good = add_od (buf, "face", 10, 20, 30, 40, 0.5f, emotions, emotion_levels,
      7);
  partly_outside = add_od (buf, "face", -10, -5, 30, 25, 1.5f, NULL, NULL, 0);
  car = add_od (buf, "car", 0, 0, 5, 5, 0.25f, NULL, NULL, 0);
  /* no area: skipped */
  add_od (buf, "face", 50, 50, 0, 10, 0.5f, NULL, NULL, 0);
  add_od (buf, "face", 50, 50, -20, 10, 0.5f, NULL, NULL, 0);
  add_od (buf, "face", -100, 50, 60, 10, 0.5f, NULL, NULL, 0);
  /* no type name: skipped */
  rmeta = relation_meta (buf);
  g_assert_true (gst_analytics_relation_meta_add_od_mtd (rmeta, 0, 1, 1, 9, 9,
          0.5f, NULL));
  /* names that mean nothing here, a level out of range and NaN; an
   * upstream tracker's first id (0) */
  odd_classes = add_od (buf, "face", 100, 100, 20, 20, NAN, odd, odd_levels, 0);
  bare = add_od (buf, "face", G_MAXINT - 5, 3, G_MAXINT, 4, 0.25f, NULL, NULL,
      0);
  twice = add_od (buf, "face", 200, 10, 10, 10, 0.5f, emotions,
      emotion_levels, G_MAXUINT64);
  add_one_class (rmeta, twice, g_quark_from_static_string ("surprise"));
  /* a class that has no name at all (quark 0) */
  empty = add_od (buf, "face", 300, 10, 10, 10, 0.5f, NULL, NULL, 0);
  add_one_class (rmeta, empty, 0);
  big_id = add_od (buf, "face", 400, 10, 10, 10, 0.5f, NULL, NULL,
      (guint64) G_MAXUINT + 1);

  g_assert_cmpuint (femo_buffer_get_faces (buf, faces), ==, 7);
  f = &g_array_index (faces, FemoFaceInfo, 0);
  g_assert_null (f->roi);
  g_assert_true (f->analytics == (GstMeta *) rmeta);
  g_assert_cmpuint (f->analytics_id, ==, good);
  g_assert_cmpstr (g_quark_to_string (f->type), ==, "face");
  g_assert_cmpuint (f->x, ==, 10);
  g_assert_cmpuint (f->y, ==, 20);
  g_assert_cmpuint (f->width, ==, 30);
  g_assert_cmpuint (f->height, ==, 40);
  g_assert_true (f->detected);
  g_assert_cmpfloat (f->detection_confidence, ==, 0.5);
  g_assert_cmpint (f->neighbors, ==, -1);
  g_assert_cmpuint (f->track_id, ==, 7);
  g_assert_true (f->label == g_intern_static_string ("happy"));
  g_assert_cmpfloat (f->confidence, ==, 0.75);
  g_assert_cmpint (f->label_id, ==, -1);
  g_assert_cmpuint (f->n_classes, ==, 3);
  g_assert_cmpfloat (femo_face_info_get_prob (f, "sad"), ==, 0.125);
  g_assert_cmpfloat (femo_face_info_get_prob (f, "neutral"), ==, 0.125);
  g_assert_null (f->raw_label);

  /* cut at the frame's top-left, its level clamped, no emotion */
  f = &g_array_index (faces, FemoFaceInfo, 1);
  g_assert_cmpuint (f->analytics_id, ==, partly_outside);
  g_assert_cmpuint (f->x, ==, 0);
  g_assert_cmpuint (f->y, ==, 0);
  g_assert_cmpuint (f->width, ==, 20);
  g_assert_cmpuint (f->height, ==, 20);
  g_assert_cmpfloat (f->detection_confidence, ==, 1.0);
  g_assert_null (f->label);
  g_assert_cmpfloat (f->confidence, ==, -1);
  g_assert_cmpuint (f->n_classes, ==, 0);
  g_assert_cmpuint (f->track_id, ==, 0);

  /* the nameless class and NaN are dropped, 7 and -3 clamped */
  f = &g_array_index (faces, FemoFaceInfo, 2);
  g_assert_cmpuint (f->analytics_id, ==, odd_classes);
  g_assert_cmpfloat (f->detection_confidence, ==, -1);
  g_assert_cmpuint (f->n_classes, ==, 2);
  g_assert_true (f->label == g_intern_static_string ("person"));
  g_assert_cmpfloat (f->confidence, ==, 1.0);
  g_assert_cmpfloat (femo_face_info_get_prob (f, "sad"), ==, 0.0);
  g_assert_cmpfloat (femo_face_info_get_prob (f, "worse"), ==, -1);
  g_assert_cmpuint (f->track_id, ==, 0);

  /* x + w past G_MAXINT is no overflow */
  f = &g_array_index (faces, FemoFaceInfo, 3);
  g_assert_cmpuint (f->analytics_id, ==, bare);
  g_assert_cmpuint (f->x, ==, G_MAXINT - 5);
  g_assert_cmpuint (f->width, ==, G_MAXINT);

  /* the later classification wins; a track id beyond 32 bits is none */
  f = &g_array_index (faces, FemoFaceInfo, 4);
  g_assert_cmpuint (f->analytics_id, ==, twice);
  g_assert_true (f->label == g_intern_static_string ("surprise"));
  g_assert_cmpuint (f->n_classes, ==, 1);
  g_assert_cmpuint (f->track_id, ==, 0);
  f = &g_array_index (faces, FemoFaceInfo, 5);
  g_assert_cmpuint (f->analytics_id, ==, empty);
  g_assert_null (f->label);
  g_assert_cmpuint (f->n_classes, ==, 0);
  f = &g_array_index (faces, FemoFaceInfo, 6);
  g_assert_cmpuint (f->analytics_id, ==, big_id);
  g_assert_cmpuint (f->track_id, ==, 0);

  /* regions: every type; then nothing more, however often asked */
  g_array_set_size (faces, 0);
  while (femo_buffer_iterate_regions (buf, &state, &face))
    g_array_append_val (faces, face);
  g_assert_cmpuint (faces->len, ==, 8);
  f = &g_array_index (faces, FemoFaceInfo, 2);
  g_assert_cmpuint (f->analytics_id, ==, car);
  g_assert_cmpstr (g_quark_to_string (f->type), ==, "car");
  g_assert_false (femo_buffer_iterate_regions (buf, &state, &face));
  g_assert_false (femo_buffer_iterate_regions (buf, &state, &face));

  /* With a face ROI meta, the faces are the ROI metas (femodetect writes
   * both forms); the car has none, so its detection stays a region. */
  roi = femo_meta_add_face (buf, 10, 20, 30, 40, 7);
  g_array_set_size (faces, 0);
  g_assert_cmpuint (femo_buffer_get_faces (buf, faces), ==, 1);
  g_assert_true (g_array_index (faces, FemoFaceInfo, 0).roi == roi);
  g_array_set_size (faces, 0);
  state = NULL;
  while (femo_buffer_iterate_regions (buf, &state, &face))
    g_array_append_val (faces, face);
  g_assert_cmpuint (faces->len, ==, 2);
  g_assert_true (g_array_index (faces, FemoFaceInfo, 0).roi == roi);
  g_assert_cmpuint (g_array_index (faces, FemoFaceInfo, 1).analytics_id, ==,
      car);

  /* the writer's lookup of the detection of a ROI meta's box */
  g_assert_cmpint (femo_meta_find_analytics_face (buf, 10, 20, 30, 40), ==,
      good);
  g_assert_cmpint (femo_meta_find_analytics_face (buf, 10, 20, 30, 41), ==, -1);
  g_assert_cmpint (femo_meta_find_analytics_face (buf, 0, 0, 5, 5), ==, -1);

  g_array_unref (faces);
  gst_buffer_unref (buf);
}

/* The writer: the shown label first, then the others in their order,
 * related from the detection as objectdetectionoverlay looks for it. */
static void
test_writer (void)
{
  static const gchar *const names[] = { "angry", "happy", "sad" };
  const gfloat probs[] = { 0.25f, 0.125f, 0.625f };
  GstBuffer *buf = gst_buffer_new ();
  GstAnalyticsRelationMeta *rmeta;
  GstAnalyticsODMtd od;
  GstAnalyticsClsMtd cls;
  GstAnalyticsTrackingMtd track;
  guint64 track_id;
  GstClockTime first, last;
  gint id, x, y, w, h;
  gfloat level;

  g_assert_true (femo_meta_has_analytics ());
  id = femo_meta_add_analytics_face (buf, 1, 2, 3, 4, 2.0);
  g_assert_cmpint (id, >=, 0);
  g_assert_true (femo_meta_add_analytics_emotion (buf, id, names, probs, 3, 1));
  g_assert_true (femo_meta_add_analytics_track (buf, id, 9, GST_SECOND,
          3 * GST_SECOND));
  /* one relation meta per buffer */
  g_assert_cmpint (femo_meta_add_analytics_face (buf, 5, 6, 7, 8, 0.5), >, id);
  g_assert_cmpuint (gst_buffer_get_n_meta (buf,
          GST_ANALYTICS_RELATION_META_API_TYPE), ==, 1);

  rmeta = gst_buffer_get_analytics_relation_meta (buf);
  g_assert_true (gst_analytics_relation_meta_get_od_mtd (rmeta, id, &od));
  g_assert_true (gst_analytics_od_mtd_get_location (&od, &x, &y, &w, &h,
          &level));
  g_assert_cmpint (x, ==, 1);
  g_assert_cmpint (h, ==, 4);
  g_assert_cmpfloat (level, ==, 1.0);
  g_assert_true (gst_analytics_relation_meta_get_direct_related (rmeta, id,
          GST_ANALYTICS_REL_TYPE_RELATE_TO,
          gst_analytics_cls_mtd_get_mtd_type (), NULL, &cls));
  g_assert_cmpuint (gst_analytics_cls_mtd_get_length (&cls), ==, 3);
  g_assert_cmpstr (g_quark_to_string (gst_analytics_cls_mtd_get_quark (&cls,
              0)), ==, "happy");
  g_assert_cmpstr (g_quark_to_string (gst_analytics_cls_mtd_get_quark (&cls,
              1)), ==, "angry");
  g_assert_cmpstr (g_quark_to_string (gst_analytics_cls_mtd_get_quark (&cls,
              2)), ==, "sad");
  g_assert_cmpfloat (gst_analytics_cls_mtd_get_level (&cls, 0), ==, 0.125f);
  g_assert_cmpfloat (gst_analytics_cls_mtd_get_level (&cls, 2), ==, 0.625f);
  g_assert_true (gst_analytics_relation_meta_get_direct_related (rmeta, id,
          GST_ANALYTICS_REL_TYPE_RELATE_TO,
          gst_analytics_tracking_mtd_get_mtd_type (), NULL, &track));
  g_assert_true (gst_analytics_tracking_mtd_get_info (&track, &track_id,
          &first, &last, NULL));
  g_assert_cmpuint (track_id, ==, 9);
  g_assert_cmpuint (first, ==, GST_SECOND);
  g_assert_cmpuint (last, ==, 3 * GST_SECOND);
  gst_buffer_unref (buf);
}

/* ---- femodetect detect=false on faces of a relation meta ---- */

/* The astronaut's face (tests/test-femodetect-emotion.c), and a box that
 * runs out of the 512x512 frame at the left and bottom. */
#define FACE_X 180
#define FACE_Y 60
#define FACE_SIZE 90
#define OUTSIDE_X (-20)
#define OUTSIDE_Y 400
#define OUTSIDE_W 200
#define OUTSIDE_H 1000

/* An upstream detector's faces with a classification of its own (a label
 * femo does not know) and a track. */
static void
add_upstream_faces (GstBuffer * buf)
{
  static const gchar *const person[] = { "person", NULL };
  const gfloat level[] = { 0.875f };

  add_od (buf, "face", FACE_X, FACE_Y, FACE_SIZE, FACE_SIZE, 0.75f, person,
      level, 3);
  add_od (buf, "face", OUTSIDE_X, OUTSIDE_Y, OUTSIDE_W, OUTSIDE_H, 0.5f, NULL,
      NULL, 0);
}

/* The same faces as ROI metas, boxes clipped as femodetect clips them. */
static void
add_roi_faces (GstBuffer * buf)
{
  femo_meta_add_face (buf, FACE_X, FACE_Y, FACE_SIZE, FACE_SIZE, 0);
  femo_meta_add_face (buf, 0, OUTSIDE_Y, OUTSIDE_X + OUTSIDE_W,
      512 - OUTSIDE_Y, 1);
}

static GstBuffer *
push_gray (GstHarness * h, GstBuffer * frame, const GstVideoInfo * info)
{
  gst_harness_set_src_caps (h, gst_video_info_to_caps (info));
  g_assert_cmpint (gst_harness_push (h, gst_buffer_copy_deep (frame)), ==,
      GST_FLOW_OK);
  return gst_harness_pull (h);
}

static void
check_same_emotion (const FemoFaceInfo * a, const FemoFaceInfo * b)
{
  g_assert_nonnull (a->label);
  g_assert_true (a->label == b->label);
  g_assert_cmpuint (a->n_classes, ==, b->n_classes);
  for (guint k = 0; k < a->n_classes; k++)
    g_assert_cmpfloat_with_epsilon (femo_face_info_get_prob (b,
            a->class_names[k]), a->probs[k], LEVEL_TOLERANCE);
}

static void
test_detect_off (void)
{
  GstHarness *reference =
      femo_test_detect_harness_new_metadata ("roi", "detect", FALSE, NULL);
  GstHarness *both =
      gst_harness_new_parse ("femotestdetections ! femodetect detect=false");
  GstHarness *analytics =
      gst_harness_new_parse ("femotestdetections "
      "! femodetect detect=false metadata=analytics");
  GArray *expected = g_array_new (FALSE, FALSE, sizeof (FemoFaceInfo));
  GArray *faces = g_array_new (FALSE, FALSE, sizeof (FemoFaceInfo));
  GstAnalyticsRelationMeta *rmeta;
  GstBuffer *frame, *in, *ref, *out;
  const FemoFaceInfo *f;
  GstVideoInfo info;
  GArray *ids;

  frame = load_frame ("media/gray/skimage_astronaut.png",
      GST_VIDEO_FORMAT_GRAY8, &info);
  g_assert_cmpint (GST_VIDEO_INFO_WIDTH (&info), ==, 512);
  g_assert_cmpint (GST_VIDEO_INFO_HEIGHT (&info), ==, 512);
  add_detections = add_upstream_faces;

  /* what femodetect says about these boxes given as ROI metas */
  in = gst_buffer_copy_deep (frame);
  add_roi_faces (in);
  ref = push_gray (reference, in, &info);
  gst_buffer_unref (in);
  g_assert_cmpuint (femo_buffer_get_faces (ref, expected), ==, 2);

  /* both: the upstream detections keep their ids and gain our
   * classification; ROI metas say the same, with the upstream track */
  out = push_gray (both, frame, &info);
  rmeta = gst_buffer_get_analytics_relation_meta (out);
  ids = od_ids (out);
  g_assert_cmpuint (ids->len, ==, 2);
  for (guint i = 0; i < 2; i++)
    g_assert_cmpuint (n_related (rmeta, g_array_index (ids, guint, i),
            gst_analytics_cls_mtd_get_mtd_type ()), ==, i == 0 ? 2 : 1);
  g_assert_cmpuint (femo_buffer_get_faces (out, faces), ==, 2);
  for (guint i = 0; i < 2; i++) {
    const FemoFaceInfo *e = &g_array_index (expected, FemoFaceInfo, i);

    f = &g_array_index (faces, FemoFaceInfo, i);
    g_assert_nonnull (f->roi);
    g_assert_cmpuint (f->x, ==, e->x);
    g_assert_cmpuint (f->y, ==, e->y);
    g_assert_cmpuint (f->width, ==, e->width);
    g_assert_cmpuint (f->height, ==, e->height);
    g_assert_cmpuint (f->track_id, ==, i == 0 ? 3 : 0);
    g_assert_cmpint (f->roi->id, ==, i == 0 ? 3 : 1);
    check_same_emotion (e, f);
  }
  g_array_unref (ids);
  gst_buffer_unref (out);

  /* analytics: no ROI metas; the relation meta alone says it */
  out = push_gray (analytics, frame, &info);
  g_assert_cmpuint (gst_buffer_get_n_meta (out,
          GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE), ==, 0);
  g_array_set_size (faces, 0);
  g_assert_cmpuint (femo_buffer_get_faces (out, faces), ==, 2);
  f = &g_array_index (faces, FemoFaceInfo, 0);
  g_assert_cmpuint (f->track_id, ==, 3);
  g_assert_cmpuint (f->x, ==, FACE_X);
  check_same_emotion (&g_array_index (expected, FemoFaceInfo, 0), f);
  f = &g_array_index (faces, FemoFaceInfo, 1);
  /* the reader cuts at the top-left only; femodetect clipped the rest */
  g_assert_cmpuint (f->x, ==, 0);
  g_assert_cmpuint (f->width, ==, OUTSIDE_X + OUTSIDE_W);
  g_assert_cmpuint (f->height, ==, OUTSIDE_H);
  check_same_emotion (&g_array_index (expected, FemoFaceInfo, 1), f);
  gst_buffer_unref (out);

  gst_buffer_unref (ref);
  gst_buffer_unref (frame);
  g_array_unref (expected);
  g_array_unref (faces);
  femo_test_detect_harness_teardown (reference);
  gst_harness_teardown (both);
  gst_harness_teardown (analytics);
}

/* A detecting femodetect and a classifying one, both writing both forms:
 * the second classifies the first one's detections, one classification
 * each, and the two forms still agree. */
static void
test_chained (void)
{
  GstHarness *h = gst_harness_new_parse ("femodetect classify=false "
      "! femodetect detect=false");
  GHashTable *first_seen = g_hash_table_new (NULL, NULL);
  guint n_faces = 0, n_carried = 0;
  GstBuffer *frame, *out;
  GstVideoInfo info;

  frame = load_frame ("media/gray/dlib_2008_001322.png",
      GST_VIDEO_FORMAT_GRAY8, &info);
  out = push_gray (h, frame, &info);
  check_agreement (out, 0, first_seen, &n_faces, &n_carried);
  g_print ("# %u faces\n", n_faces);
  g_assert_cmpuint (n_faces, >=, 2);
  g_assert_cmpuint (n_carried, ==, 0);
  gst_buffer_unref (out);
  gst_buffer_unref (frame);
  g_hash_table_unref (first_seen);
  gst_harness_teardown (h);
}

/* ---- drawing ---- */

typedef struct
{
  gint x, y, w, h;
} Box;

/* The share of @box's outline (within 3 pixels) where some pixel changed. */
static gdouble
outline_changed (const guint8 * mask, gint width, gint height, Box box)
{
  guint hits = 0, total = 0;

  for (gint t = 0; t < 2 * (box.w + box.h); t++) {
    gint x, y, found = 0;

    if (t < box.w)
      x = box.x + t, y = box.y;
    else if (t < 2 * box.w)
      x = box.x + t - box.w, y = box.y + box.h - 1;
    else if (t < 2 * box.w + box.h)
      x = box.x, y = box.y + t - 2 * box.w;
    else
      x = box.x + box.w - 1, y = box.y + t - 2 * box.w - box.h;
    for (gint dy = -3; dy <= 3 && !found; dy++)
      for (gint dx = -3; dx <= 3 && !found; dx++)
        found = x + dx >= 0 && x + dx < width && y + dy >= 0
            && y + dy < height && mask[(y + dy) * width + x + dx];
    hits += found;
    total++;
  }
  return (gdouble) hits / total;
}

/* How many changed pixels lie farther than @margin from @box. */
static guint
changed_outside (const guint8 * mask, gint width, gint height, Box box,
    gint margin)
{
  guint n = 0;

  for (gint y = 0; y < height; y++)
    for (gint x = 0; x < width; x++)
      n += mask[y * width + x] && (x < box.x - margin
          || x >= box.x + box.w + margin || y < box.y - margin
          || y >= box.y + box.h + margin);
  return n;
}

static gchar *
frame_caps (const GstVideoInfo * info)
{
  return g_strdup_printf ("video/x-raw,format=%s,width=%d,height=%d,"
      "framerate=30/1", GST_VIDEO_INFO_NAME (info), GST_VIDEO_INFO_WIDTH (info),
      GST_VIDEO_INFO_HEIGHT (info));
}

static GstHarness *
drawing_harness (const gchar * description, const GstVideoInfo * info)
{
  GstHarness *h = gst_harness_new_parse (description);
  gchar *caps = frame_caps (info);

  gst_harness_set_src_caps_str (h, caps);
  gst_harness_set_sink_caps_str (h, caps);
  g_free (caps);
  return h;
}

/* Upstream's objectdetectionoverlay draws femodetect's faces: the outline
 * of each face's box, and nothing far from it; from ROI metas alone it
 * draws nothing (what femodetect gave before GstAnalytics). */
static void
test_objectdetectionoverlay (void)
{
  GstElementFactory *factory =
      gst_element_factory_find ("objectdetectionoverlay");
  GstHarness *detect, *drawn, *roi_only;
  GstVideoRegionOfInterestMeta *roi;
  GstBuffer *frame, *out;
  GstVideoInfo info;
  guint8 *mask;
  guint n_changed;
  Box box;

  if (factory == NULL)
    femo_test_missing ("no objectdetectionoverlay (gst-plugins-bad's "
        "analyticsoverlay) in the registry");
  gst_object_unref (factory);
  frame = load_frame (GRACE_HOPPER, GST_VIDEO_FORMAT_BGRx, &info);

  detect = drawing_harness ("femodetect metadata=roi", &info);
  g_assert_cmpint (gst_harness_push (detect, gst_buffer_copy_deep (frame)),
      ==, GST_FLOW_OK);
  out = gst_harness_pull (detect);
  g_assert_cmpuint (gst_buffer_get_n_meta (out,
          GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE), ==, 1);
  roi = gst_buffer_get_video_region_of_interest_meta_id (out, 1);
  g_assert_nonnull (roi);
  box = (Box) {
  roi->x, roi->y, roi->w, roi->h};
  gst_buffer_unref (out);
  gst_harness_teardown (detect);

  drawn = drawing_harness ("femodetect ! objectdetectionoverlay", &info);
  mask = push_and_compare (drawn, &info, frame, &n_changed, NULL);
  g_print ("# objectdetectionoverlay changed %u pixels; %.3f of the outline "
      "of the face at %d,%d %dx%d\n", n_changed,
      outline_changed (mask, 512, 512, box), box.x, box.y, box.w, box.h);
  g_assert_cmpfloat (outline_changed (mask, 512, 512, box), >=, 0.95);
  g_assert_cmpuint (changed_outside (mask, 512, 512, box, 40), ==, 0);
  g_free (mask);
  gst_harness_teardown (drawn);

  roi_only = drawing_harness ("femodetect metadata=roi "
      "! objectdetectionoverlay", &info);
  g_free (push_and_compare (roi_only, &info, frame, &n_changed, NULL));
  g_assert_cmpuint (n_changed, ==, 0);
  gst_harness_teardown (roi_only);
  gst_buffer_unref (frame);
}

#define DRAWN_X 150
#define DRAWN_Y 80
#define DRAWN_SIZE 230

/* A classified, tracked face; a box running out of the frame; a car. */
static void
add_drawn_detections (GstBuffer * buf)
{
  add_od (buf, "face", DRAWN_X, DRAWN_Y, DRAWN_SIZE, DRAWN_SIZE, 0.75f,
      emotions, emotion_levels, 7);
  add_od (buf, "face", -50, 400, 200, 300, 0.5f, NULL, NULL, 0);
  add_od (buf, "car", 10, 10, 60, 40, 0.5f, NULL, NULL, 0);
}

/* The same as ROI metas, as femodetect would write them. */
static void
add_drawn_rois (GstBuffer * buf)
{
  GstVideoRegionOfInterestMeta *roi;
  gfloat probs[G_N_ELEMENTS (emotion_levels)];

  for (guint k = 0; k < G_N_ELEMENTS (probs); k++)
    probs[k] = emotion_levels[k];
  roi = femo_meta_add_face (buf, DRAWN_X, DRAWN_Y, DRAWN_SIZE, DRAWN_SIZE, 7);
  femo_meta_add_object_id (roi, 7);
  femo_meta_set_emotion (roi, FEMO_META_EMOTION_PARAMS_NAME, emotions, probs,
      G_N_ELEMENTS (probs), 0, 7);
  femo_meta_add_face (buf, 0, 400, 150, 300, 1);
}

static void
add_drawn_both (GstBuffer * buf)
{
  add_drawn_detections (buf);
  add_drawn_rois (buf);
}

/* femooverlay draws faces that another element put in a relation meta
 * exactly as it draws the same faces given as ROI metas; given both, it
 * draws them once. */
static void
test_femooverlay (void)
{
  GstHarness *from_rois, *from_relation, *from_both;
  GstBuffer *frame, *in, *a, *b, *c;
  GstMapInfo ma, mb, mc;
  GstVideoInfo info;
  guint n_changed;
  Box box = { DRAWN_X, DRAWN_Y, DRAWN_SIZE, DRAWN_SIZE };
  guint8 *mask;

  frame = load_frame (GRACE_HOPPER, GST_VIDEO_FORMAT_BGRx, &info);
  from_rois = drawing_harness ("femooverlay show-scores=true", &info);
  in = gst_buffer_copy_deep (frame);
  add_drawn_rois (in);
  g_assert_cmpint (gst_harness_push (from_rois, in), ==, GST_FLOW_OK);
  a = gst_harness_pull (from_rois);

  add_detections = add_drawn_detections;
  from_relation = drawing_harness ("femotestdetections "
      "! femooverlay show-scores=true", &info);
  mask = push_and_compare (from_relation, &info, frame, &n_changed, &b);
  g_print ("# femooverlay changed %u pixels; %.3f of the face's outline\n",
      n_changed, outline_changed (mask, 512, 512, box));
  g_assert_cmpuint (n_changed, >, 1000);
  g_assert_cmpfloat (outline_changed (mask, 512, 512, box), >=, 0.95);

  add_detections = add_drawn_both;
  from_both = drawing_harness ("femotestdetections "
      "! femooverlay show-scores=true", &info);
  g_free (push_and_compare (from_both, &info, frame, &n_changed, &c));

  g_assert_true (gst_buffer_map (a, &ma, GST_MAP_READ));
  g_assert_true (gst_buffer_map (b, &mb, GST_MAP_READ));
  g_assert_true (gst_buffer_map (c, &mc, GST_MAP_READ));
  g_assert_cmpuint (ma.size, ==, mb.size);
  g_assert_true (memcmp (ma.data, mb.data, ma.size) == 0);
  g_assert_true (memcmp (ma.data, mc.data, ma.size) == 0);
  gst_buffer_unmap (a, &ma);
  gst_buffer_unmap (b, &mb);
  gst_buffer_unmap (c, &mc);

  g_free (mask);
  gst_buffer_unref (a);
  gst_buffer_unref (b);
  gst_buffer_unref (c);
  gst_buffer_unref (frame);
  gst_harness_teardown (from_rois);
  gst_harness_teardown (from_relation);
  gst_harness_teardown (from_both);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  femo_test_require_default_cascade ();
  g_assert_true (gst_element_register (NULL, "femotestdetections",
          GST_RANK_NONE, TEST_TYPE_DETECTIONS));

  g_test_add_func ("/analytics/writer", test_writer);
  g_test_add_func ("/analytics/reader", test_reader);
  g_test_add_func ("/analytics/agreement", test_agreement);
  g_test_add_func ("/analytics/detect-off", test_detect_off);
  g_test_add_func ("/analytics/chained", test_chained);
  g_test_add_func ("/analytics/objectdetectionoverlay",
      test_objectdetectionoverlay);
  g_test_add_func ("/analytics/femooverlay", test_femooverlay);
  return g_test_run ();
}
