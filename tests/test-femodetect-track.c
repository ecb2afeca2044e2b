/* gst-femo tests: femodetect's tracking on real frames (GstHarness)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Frames 100-200 of the shared 640x480 montage (shot cuts at frames 115
 * and 181, one speaker per shot, faces about 235 pixels wide) go through
 * femodetect with the timestamps of a 30000/1001 fps stream. min-size=120
 * keeps the cascade fast, and min-neighbors=8 away from a false face on
 * the second speaker's shirt (at femodetect's 3 and 5 it shows up in some
 * frames): every frame then has exactly one face.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "test-util.h"
#include "femo-meta.h"

#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include <math.h>
#include <string.h>

#define CLIP FEMO_TEST_MONTAGE
#define CLIP_720P "media/video/obama_weekly_address_montage_1280x720.mp4"
#define FIRST_FRAME FEMO_TEST_MONTAGE_FIRST
#define LAST_FRAME FEMO_TEST_MONTAGE_LAST
#define CUT_1 FEMO_TEST_MONTAGE_CUT_1
#define CUT_2 FEMO_TEST_MONTAGE_CUT_2
#define FPS_N FEMO_TEST_MONTAGE_FPS_N
#define FPS_D FEMO_TEST_MONTAGE_FPS_D
#define MIN_SIZE 120
#define MIN_NEIGHBORS 8

static GPtrArray *frames;       /* GstBuffer of frame FIRST_FRAME + i */

static GstClockTime
frame_pts (guint n)
{
  return gst_util_uint64_scale (n, GST_SECOND * FPS_D, FPS_N);
}

static GstHarness *
track_harness_new (const gchar * first_property, ...)
{
  GstElement *element = gst_element_factory_make ("femodetect", NULL);
  GstHarness *h;
  va_list args;

  g_assert_nonnull (element);
  g_object_set (element, "min-size", MIN_SIZE, "min-neighbors", MIN_NEIGHBORS,
      NULL);
  va_start (args, first_property);
  h = femo_test_detect_harness_new_valist (element, first_property, args);
  va_end (args);
  gst_object_unref (element);
  gst_harness_set_src_caps_str (h, "video/x-raw, format=GRAY8, width=640, "
      "height=480, framerate=30000/1001");
  return h;
}

static guint64
get_counter (GstHarness * h, const gchar * name)
{
  guint64 v;

  g_object_get (h->element, name, &v, NULL);
  return v;
}

/* What came out for one frame: its face (the largest, if several) and the
 * track messages its push posted. */
typedef struct
{
  guint n_faces;
  guint track_id;               /* 0: no face */
  gint x, y, w, h;
  gboolean detected;            /* has a "detection" param */
  gchar *label;                 /* femo/emotion's, NULL if none */
  gchar *raw_label;             /* femo/emotion-raw's, NULL if none */
  guint n_changed;              /* femodetect-label-changed messages */
  guint changed_track;
  gchar *old_label, *new_label;
  GPtrArray *ended;             /* femodetect-track-ended structures */
} FrameResult;

static void
frame_result_clear (FrameResult * r)
{
  g_free (r->label);
  g_free (r->raw_label);
  g_free (r->old_label);
  g_free (r->new_label);
  g_ptr_array_unref (r->ended);
}

/* Reads the track messages on the bus into @r (which may be NULL when
 * only ended tracks matter: @ended). */
static void
collect_messages (GstHarness * h, FrameResult * r, GPtrArray * ended)
{
  GstBus *bus = gst_element_get_bus (h->element);
  GstMessage *msg;

  while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT))) {
    const GstStructure *s = gst_message_get_structure (msg);

    if (gst_structure_has_name (s, FEMO_META_LABEL_CHANGED_MESSAGE_NAME)) {
      g_assert_nonnull (r);
      r->n_changed++;
      g_assert_true (gst_structure_get_uint (s, FEMO_META_FIELD_TRACK_ID,
              &r->changed_track));
      g_free (r->old_label);
      g_free (r->new_label);
      r->old_label = g_strdup (gst_structure_get_string (s,
              FEMO_META_FIELD_OLD_LABEL));
      r->new_label = g_strdup (gst_structure_get_string (s,
              FEMO_META_FIELD_NEW_LABEL));
      g_assert_nonnull (r->old_label);
      g_assert_nonnull (r->new_label);
    } else if (gst_structure_has_name (s, FEMO_META_TRACK_ENDED_MESSAGE_NAME)) {
      g_ptr_array_add (r ? r->ended : ended, gst_structure_copy (s));
    }
    gst_message_unref (msg);
  }
  gst_object_unref (bus);
}

/* Pushes frame @n and describes what came out. */
static void
push_frame (GstHarness * h, guint n, FrameResult * r)
{
  GstBuffer *out;
  gpointer state = NULL;
  GstMeta *meta;
  GstVideoRegionOfInterestMeta *best = NULL;

  memset (r, 0, sizeof (*r));
  r->ended = g_ptr_array_new_with_free_func (
      (GDestroyNotify) gst_structure_free);
  g_assert_cmpint (gst_harness_push (h,
          gst_buffer_ref (g_ptr_array_index (frames, n - FIRST_FRAME))), ==,
      GST_FLOW_OK);
  out = gst_harness_pull (h);
  g_assert_nonnull (out);

  while ((meta = gst_buffer_iterate_meta_filtered (out, &state,
              GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
    GstVideoRegionOfInterestMeta *roi = (GstVideoRegionOfInterestMeta *) meta;
    const GstStructure *object, *emotion;
    gint object_id;
    guint track_id;

    r->n_faces++;
    /* the id in all three places */
    g_assert_cmpint (roi->id, >, 0);
    object = gst_video_region_of_interest_meta_get_param (roi,
        FEMO_META_OBJECT_ID_PARAMS_NAME);
    g_assert_nonnull (object);
    g_assert_true (gst_structure_get_int (object, FEMO_META_OBJECT_ID_FIELD_ID,
            &object_id));
    g_assert_cmpint (object_id, ==, roi->id);
    emotion = gst_video_region_of_interest_meta_get_param (roi,
        FEMO_META_EMOTION_PARAMS_NAME);
    if (emotion) {
      g_assert_true (gst_structure_get_uint (emotion,
              FEMO_META_EMOTION_FIELD_TRACK_ID, &track_id));
      g_assert_cmpuint (track_id, ==, roi->id);
    }
    if (best == NULL || roi->w > best->w)
      best = roi;
  }
  if (best) {
    FemoFaceInfo face;

    femo_face_info_read (&face, best);
    r->track_id = face.track_id;
    r->x = face.x;
    r->y = face.y;
    r->w = face.width;
    r->h = face.height;
    r->detected = face.detected;
    r->label = g_strdup (face.label);
    r->raw_label = g_strdup (face.raw_label);
  }
  gst_buffer_unref (out);
  collect_messages (h, r, NULL);
}

/* Pushes frames @first..@last into @results (indexed from @first). */
static FrameResult *
push_frames (GstHarness * h, guint first, guint last)
{
  FrameResult *results = g_new0 (FrameResult, last - first + 1);
  guint n;

  for (n = first; n <= last; n++)
    push_frame (h, n, &results[n - first]);
  return results;
}

static void
free_results (FrameResult * results, guint n)
{
  guint i;

  for (i = 0; i < n; i++)
    frame_result_clear (&results[i]);
  g_free (results);
}

static guint
shot_of (guint n)
{
  return n < CUT_1 ? 0 : n < CUT_2 ? 1 : 2;
}

static const GstStructure *
find_ended (GPtrArray * ended, guint track_id)
{
  guint i, id;

  for (i = 0; i < ended->len; i++)
    if (gst_structure_get_uint (g_ptr_array_index (ended, i),
            FEMO_META_FIELD_TRACK_ID, &id) && id == track_id)
      return g_ptr_array_index (ended, i);
  return NULL;
}

/* The track-ended record of @track_id against what the frames showed:
 * frames it was detected in, its first and last timestamps. */
static void
check_ended (const GstStructure * s, guint track_id, const FrameResult * r,
    guint first, guint last, const gchar * reason)
{
  guint64 first_ts, last_ts, duration;
  guint n, frames_seen = 0, n_frames;
  gint first_n = -1, last_n = -1;

  g_assert_nonnull (s);
  for (n = first; n <= last; n++)
    if (r[n - first].track_id == track_id && r[n - first].detected) {
      frames_seen++;
      if (first_n < 0)
        first_n = n;
      last_n = n;
    }
  g_assert_true (gst_structure_get (s,
          FEMO_META_FIELD_FIRST_TIMESTAMP, G_TYPE_UINT64, &first_ts,
          FEMO_META_FIELD_LAST_TIMESTAMP, G_TYPE_UINT64, &last_ts,
          FEMO_META_FIELD_DURATION, G_TYPE_UINT64, &duration,
          FEMO_META_FIELD_FRAMES, G_TYPE_UINT, &n_frames, NULL));
  g_test_message ("track %u ended (%s): frames %u, %" GST_TIME_FORMAT
      " .. %" GST_TIME_FORMAT ", dominant %s", track_id,
      gst_structure_get_string (s, FEMO_META_FIELD_REASON), n_frames,
      GST_TIME_ARGS (first_ts), GST_TIME_ARGS (last_ts),
      gst_structure_get_string (s, FEMO_META_FIELD_DOMINANT_LABEL));
  g_assert_cmpstr (gst_structure_get_string (s, FEMO_META_FIELD_REASON), ==,
      reason);
  g_assert_cmpuint (n_frames, ==, frames_seen);
  g_assert_cmpuint (first_ts, ==, frame_pts (first_n));
  g_assert_cmpuint (last_ts, ==, frame_pts (last_n));
  g_assert_cmpuint (duration, ==, last_ts - first_ts);
  g_assert_nonnull (gst_structure_get_string (s,
          FEMO_META_FIELD_DOMINANT_LABEL));
}

/* ---- tests ---- */

/* Frames 100-200 through @h: one id per shot, a new one at each cut, a
 * label-changed message for each change of the shown label, the ended
 * tracks reported at the cuts and at EOS. Counts the changes of the raw
 * and the shown labels of a track from frame to frame. */
static void
check_ids_labels_and_ends (GstHarness * h, guint * raw_changes_out,
    guint * shown_changes_out)
{
  FrameResult *r = push_frames (h, FIRST_FRAME, LAST_FRAME);
  guint shot_id[3] = { 0, 0, 0 };
  guint raw_changes = 0, shown_changes = 0, messages = 0, one_face = 0;
  GPtrArray *ended = g_ptr_array_new_with_free_func (
      (GDestroyNotify) gst_structure_free);
  guint n, i;

  for (n = FIRST_FRAME; n <= LAST_FRAME; n++) {
    FrameResult *f = &r[n - FIRST_FRAME];
    FrameResult *prev = n > FIRST_FRAME ? f - 1 : NULL;
    guint shot = shot_of (n);

    one_face += f->n_faces == 1;
    if (f->track_id == 0)
      continue;
    g_assert_true (f->detected);
    g_assert_nonnull (f->label);
    g_assert_nonnull (f->raw_label);    /* classify-interval 1 */
    if (shot_id[shot] == 0)
      shot_id[shot] = f->track_id;
    if (f->track_id != shot_id[shot])
      g_test_fail_printf ("frame %u: track %u, the shot's is %u", n,
          f->track_id, shot_id[shot]);

    if (prev && prev->track_id == f->track_id) {
      gboolean changed = g_strcmp0 (prev->label, f->label) != 0;

      raw_changes += g_strcmp0 (prev->raw_label, f->raw_label) != 0;
      shown_changes += changed;
      /* one message exactly when the shown label changed */
      g_assert_cmpuint (f->n_changed, ==, changed);
      if (changed) {
        g_assert_cmpuint (f->changed_track, ==, f->track_id);
        g_assert_cmpstr (f->old_label, ==, prev->label);
        g_assert_cmpstr (f->new_label, ==, f->label);
      }
    } else {
      /* not for a track's first label */
      g_assert_cmpuint (f->n_changed, ==, 0);
    }
    messages += f->n_changed;
  }
  g_test_message ("ids per shot %u %u %u; %u/%u frames with one face; "
      "label changes: raw %u, shown %u (%u messages)", shot_id[0], shot_id[1],
      shot_id[2], one_face, LAST_FRAME - FIRST_FRAME + 1, raw_changes,
      shown_changes, messages);
  g_assert_cmpuint (one_face, ==, LAST_FRAME - FIRST_FRAME + 1);
  /* a new element numbers its tracks 1, 2, ... in order of appearance */
  for (i = 0; i < 3; i++)
    g_assert_cmpuint (shot_id[i], ==, i + 1);
  /* the new id starts right at the cut */
  g_assert_cmpuint (r[CUT_1 - FIRST_FRAME].track_id, ==, shot_id[1]);
  g_assert_cmpuint (r[CUT_2 - FIRST_FRAME].track_id, ==, shot_id[2]);
  g_assert_cmpuint (messages, ==, shown_changes);
  *raw_changes_out = raw_changes;
  *shown_changes_out = shown_changes;

  /* cut tracks end at the cut's frame, and only there... */
  for (n = FIRST_FRAME; n <= LAST_FRAME; n++)
    g_assert_cmpuint (r[n - FIRST_FRAME].ended->len, ==, n == CUT_1
        || n == CUT_2);
  check_ended (find_ended (r[CUT_1 - FIRST_FRAME].ended, shot_id[0]),
      shot_id[0], r, FIRST_FRAME, LAST_FRAME, "cut");
  check_ended (find_ended (r[CUT_2 - FIRST_FRAME].ended, shot_id[1]),
      shot_id[1], r, FIRST_FRAME, LAST_FRAME, "cut");
  /* ...the live ones at EOS, before the EOS goes downstream */
  g_assert_true (gst_harness_push_event (h, gst_event_new_eos ()));
  collect_messages (h, NULL, ended);
  g_assert_cmpuint (ended->len, ==, 1);
  check_ended (find_ended (ended, shot_id[2]), shot_id[2], r, FIRST_FRAME,
      LAST_FRAME, "eos");

  g_ptr_array_unref (ended);
  free_results (r, LAST_FRAME - FIRST_FRAME + 1);
}

/* The defaults (smoothing 0.5 s, hysteresis 0.15) change the shown label
 * less often than the network's frame-by-frame output changes; without
 * them the shown label is the raw one. */
static void
test_ids_labels_and_ends (void)
{
  GstHarness *h = track_harness_new (NULL);
  guint raw, shown, raw_off, shown_off;

  check_ids_labels_and_ends (h, &raw, &shown);
  femo_test_detect_harness_teardown (h);
  h = track_harness_new ("smoothing", 0.0, "label-hysteresis", 0.0, NULL);
  check_ids_labels_and_ends (h, &raw_off, &shown_off);
  femo_test_detect_harness_teardown (h);

  g_test_message ("label changes in 101 frames: raw %u, shown %u (defaults); "
      "raw %u, shown %u (smoothing and hysteresis off)", raw, shown, raw_off,
      shown_off);
  g_assert_cmpuint (raw, >=, 2);
  g_assert_cmpuint (shown, <, raw);
  g_assert_cmpuint (raw_off, ==, raw);
  g_assert_cmpuint (shown_off, ==, raw_off);
}

/* detect-interval 3: the cascade runs on a third of the frames; the others
 * carry the face (no "detection" param) with its id. */
static void
test_detect_interval (void)
{
  const guint first = FIRST_FRAME, last = 159, n_frames = last - first + 1;
  GstHarness *h = track_harness_new ("detect-interval", 3, NULL);
  FrameResult *r = push_frames (h, first, last);
  guint n, carried = 0;

  g_test_message ("detections %" G_GUINT64_FORMAT " for %u frames, %"
      G_GUINT64_FORMAT " faces classified", get_counter (h,
          "detections-run"), n_frames, get_counter (h, "faces-classified"));
  g_assert_cmpuint (get_counter (h, "detections-run"), ==, (n_frames + 2) / 3);
  for (n = first; n <= last; n++) {
    FrameResult *f = &r[n - first];

    g_assert_cmpuint (f->n_faces, ==, 1);
    g_assert_cmpuint (f->track_id, ==, n < CUT_1 ? 1 : 2);
    g_assert_cmpint (f->detected, ==, (n - first) % 3 == 0);
    g_assert_nonnull (f->label);
    if (!f->detected) {
      carried++;
      g_assert_null (f->raw_label);
      /* the carried box is the tracked face's: same id, close by */
      g_assert_cmpuint (f->track_id, ==, (f - 1)->track_id);
      g_assert_cmpint (ABS (f->x - (f - 1)->x), <, f->w / 10);
      g_assert_cmpint (ABS (f->w - (f - 1)->w), <, f->w / 10);
    }
  }
  g_assert_cmpuint (carried, ==, n_frames - (n_frames + 2) / 3);
  /* the cut's frame is scanned (115 - 100 is a multiple of 3): the cut
   * ends track 1 there */
  check_ended (find_ended (r[CUT_1 - first].ended, 1), 1, r, first, last,
      "cut");
  free_results (r, n_frames);
  femo_test_detect_harness_teardown (h);
}

/* classify-interval 3: the network runs on a third of the detections;
 * femo/emotion-raw only on those frames, femo/emotion on all. */
static void
test_classify_interval (void)
{
  const guint first = FIRST_FRAME, last = 159, n_frames = last - first + 1;
  GstHarness *h = track_harness_new ("classify-interval", 3, NULL);
  FrameResult *r = push_frames (h, first, last);
  guint n, with_raw = 0, faces = 0;

  for (n = first; n <= last; n++) {
    faces += r[n - first].n_faces;
    if (r[n - first].track_id == 0)
      continue;
    g_assert_nonnull (r[n - first].label);
    with_raw += r[n - first].raw_label != NULL;
  }
  g_test_message ("%u of %u frames classified, %" G_GUINT64_FORMAT
      " faces classified of %u", with_raw, n_frames, get_counter (h,
          "faces-classified"), faces);
  /* one face per frame; every 3rd frame of each track from its first:
   * track 1 at 100, 103, .. 112 (5), track 2 at 115, 118, .. 157 (15) */
  g_assert_cmpuint (faces, ==, n_frames);
  g_assert_cmpuint (with_raw, ==, 20);
  g_assert_cmpuint (get_counter (h, "faces-classified"), ==, 20);
  free_results (r, n_frames);
  femo_test_detect_harness_teardown (h);
}

/* A flush forgets the tracks: the same face gets a new id after it. */
static void
test_flush_resets (void)
{
  GstHarness *h = track_harness_new (NULL);
  FrameResult *before = push_frames (h, 100, 104), *after;
  GstSegment segment;
  guint n;

  g_assert_true (gst_harness_push_event (h, gst_event_new_flush_start ()));
  g_assert_true (gst_harness_push_event (h, gst_event_new_flush_stop (TRUE)));
  gst_segment_init (&segment, GST_FORMAT_TIME);
  g_assert_true (gst_harness_push_event (h, gst_event_new_segment (&segment)));
  after = push_frames (h, 105, 109);

  /* ids go on counting after the flush */
  for (n = 0; n < 5; n++) {
    g_assert_cmpuint (before[n].n_faces, ==, 1);
    g_assert_cmpuint (before[n].track_id, ==, 1);
    g_assert_cmpuint (after[n].n_faces, ==, 1);
    g_assert_cmpuint (after[n].track_id, ==, 2);
  }
  /* no track-ended for the flushed track */
  for (n = 0; n < 5; n++)
    g_assert_cmpuint (after[n].ended->len, ==, 0);
  free_results (before, 5);
  free_results (after, 5);
  femo_test_detect_harness_teardown (h);
}

/* A QoS event saying the frames are late: the next frame is not scanned
 * but goes through with the face carried. */
static void
test_qos_carries (void)
{
  GstHarness *h = track_harness_new (NULL);
  FrameResult a, b, c;

  push_frame (h, 100, &a);
  g_assert_cmpuint (get_counter (h, "detections-run"), ==, 1);
  g_assert_cmpuint (a.n_faces, ==, 1);
  g_assert_cmpuint (a.track_id, ==, 1);
  /* frame 101 (running time = its PTS) is 1 s late */
  g_assert_true (gst_harness_push_upstream_event (h,
          gst_event_new_qos (GST_QOS_TYPE_UNDERFLOW, 2.0, GST_SECOND,
              frame_pts (100))));
  push_frame (h, 101, &b);
  g_assert_cmpuint (get_counter (h, "detections-run"), ==, 1);
  g_assert_cmpuint (b.n_faces, ==, 1);
  g_assert_cmpuint (b.track_id, ==, a.track_id);
  g_assert_false (b.detected);
  g_assert_nonnull (b.label);
  /* on time again */
  g_assert_true (gst_harness_push_upstream_event (h,
          gst_event_new_qos (GST_QOS_TYPE_UNDERFLOW, 1.0, 0, frame_pts (101))));
  push_frame (h, 105, &c);
  g_assert_cmpuint (get_counter (h, "detections-run"), ==, 2);
  g_assert_true (c.detected);
  g_assert_cmpuint (c.n_faces, ==, 1);
  g_assert_cmpuint (c.track_id, ==, a.track_id);
  frame_result_clear (&a);
  frame_result_clear (&b);
  frame_result_clear (&c);
  femo_test_detect_harness_teardown (h);
}

/* Settings changed from other threads while frames flow. */
static void
test_properties_while_playing (void)
{
  GstHarness *h = track_harness_new (NULL);
  GValue v = G_VALUE_INIT;
  GstHarnessThread *threads[10];
  guint i = 0, t, n, last_id = 1;
  FrameResult f;

  g_value_init (&v, G_TYPE_DOUBLE);
  g_value_set_double (&v, 0.0);
  threads[i++] = gst_harness_stress_property_start_full (h, "smoothing", &v,
      100);
  g_value_set_double (&v, 2.0);
  threads[i++] = gst_harness_stress_property_start_full (h, "smoothing", &v,
      100);
  g_value_set_double (&v, 0.5);
  threads[i++] = gst_harness_stress_property_start_full (h,
      "label-hysteresis", &v, 100);
  g_value_unset (&v);
  g_value_init (&v, G_TYPE_UINT);
  g_value_set_uint (&v, 1);
  threads[i++] = gst_harness_stress_property_start_full (h,
      "detect-interval", &v, 100);
  g_value_set_uint (&v, 4);
  threads[i++] = gst_harness_stress_property_start_full (h,
      "detect-interval", &v, 100);
  g_value_set_uint (&v, 1);
  threads[i++] = gst_harness_stress_property_start_full (h,
      "classify-interval", &v, 100);
  g_value_set_uint (&v, 5);
  threads[i++] = gst_harness_stress_property_start_full (h,
      "classify-interval", &v, 100);
  g_value_set_uint (&v, 320);
  threads[i++] = gst_harness_stress_property_start_full (h,
      "process-width", &v, 100);
  g_value_set_uint (&v, 0);
  threads[i++] = gst_harness_stress_property_start_full (h,
      "track-timeout", &v, 100);
  g_value_unset (&v);
  g_value_init (&v, G_TYPE_BOOLEAN);
  g_value_set_boolean (&v, TRUE);
  threads[i++] = gst_harness_stress_property_start_full (h, "tracking", &v,
      100);
  g_value_unset (&v);

  for (n = 100; n < 140; n++) {
    push_frame (h, n, &f);
    /* whatever the settings of the moment, the one speaker is one face
     * (found or carried), and a new track gets the next id */
    g_assert_cmpuint (f.n_faces, ==, 1);
    g_assert_cmpuint (f.track_id, >=, last_id);
    g_assert_cmpuint (f.track_id, <=, last_id + 1);
    last_id = f.track_id;
    frame_result_clear (&f);
  }
  for (t = 0; t < i; t++)
    g_assert_cmpuint (gst_harness_stress_thread_stop (threads[t]), >, 0);
  femo_test_detect_harness_teardown (h);
}

static gdouble
box_iou (const FrameResult * a, const FrameResult * b)
{
  gint x0 = MAX (a->x, b->x), y0 = MAX (a->y, b->y);
  gint x1 = MIN (a->x + a->w, b->x + b->w), y1 = MIN (a->y + a->h, b->y + b->h);
  gdouble inter = (x1 > x0 && y1 > y0) ? (gdouble) (x1 - x0) * (y1 - y0) : 0;

  return inter / ((gdouble) a->w * a->h + (gdouble) b->w * b->h - inter);
}

/* process-width on 1280x720 frames: the boxes of a half-size scan are
 * close to the full-size ones. */
static void
test_process_width (void)
{
  gint width, height;
  GPtrArray *hd = femo_test_decode_video_gray (CLIP_720P, 0, 4, FPS_N,
      FPS_D, &width, &height);
  gchar *caps = g_strdup_printf ("video/x-raw, format=GRAY8, width=%d, "
      "height=%d, framerate=30000/1001", width, height);
  GstHarness *full = track_harness_new ("classify", FALSE,
      "min-size", 2 * MIN_SIZE, NULL);
  GstHarness *half = track_harness_new ("classify", FALSE,
      "min-size", 2 * MIN_SIZE, "process-width", 640, NULL);
  GPtrArray *saved = frames;
  guint i;

  gst_harness_set_src_caps_str (full, caps);
  gst_harness_set_src_caps_str (half, caps);
  frames = hd;
  for (i = 0; i < hd->len; i++) {
    FrameResult a, b;
    gdouble iou;

    push_frame (full, FIRST_FRAME + i, &a);
    push_frame (half, FIRST_FRAME + i, &b);
    g_assert_cmpuint (a.n_faces, ==, 1);
    g_assert_cmpuint (b.n_faces, ==, 1);
    iou = box_iou (&a, &b);
    g_test_message ("frame %u: full %d,%d %dx%d, process-width 640 %d,%d "
        "%dx%d, IoU %.3f", i, a.x, a.y, a.w, a.h, b.x, b.y, b.w, b.h, iou);
    if (iou <= 0.8)
      g_test_fail_printf ("frame %u: IoU %.3f", i, iou);
    frame_result_clear (&a);
    frame_result_clear (&b);
  }
  frames = saved;
  femo_test_detect_harness_teardown (full);
  femo_test_detect_harness_teardown (half);
  g_ptr_array_unref (hd);
  g_free (caps);
}

int
main (int argc, char **argv)
{
  gint width, height;
  int ret;

  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  femo_test_require_default_cascade ();

  frames = femo_test_decode_video_gray (CLIP, FIRST_FRAME, LAST_FRAME,
      FPS_N, FPS_D, &width, &height);
  g_assert_cmpint (width, ==, 640);
  g_assert_cmpint (height, ==, 480);

  g_test_add_func ("/femodetect-track/ids-labels-and-ends",
      test_ids_labels_and_ends);
  g_test_add_func ("/femodetect-track/detect-interval", test_detect_interval);
  g_test_add_func ("/femodetect-track/classify-interval",
      test_classify_interval);
  g_test_add_func ("/femodetect-track/flush-resets", test_flush_resets);
  g_test_add_func ("/femodetect-track/qos-carries", test_qos_carries);
  g_test_add_func ("/femodetect-track/properties-while-playing",
      test_properties_while_playing);
  g_test_add_func ("/femodetect-track/process-width", test_process_width);
  ret = g_test_run ();
  g_ptr_array_unref (frames);
  return ret;
}
