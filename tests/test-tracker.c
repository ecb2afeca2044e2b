/* gst-femo tests: the face tracker: ids on real video (stable within a shot,
 * new after a cut), a different face on the old box, timeouts, reset, the
 * ended-track records, prediction, classify interval, and the smoothing of
 * probabilities (fewer label changes, same curve at any frame rate).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "femo-cascade.h"
#include "femo-error.h"
#include "femo-image.h"
#include "femo-tracker.h"
#include "test-util.h"

#include <gst/app/gstappsink.h>
#include <math.h>
#include <string.h>

#define CROP FEMO_TRACKER_CROP_SIZE
#define CROP_PIXELS (CROP * CROP)
#define MAX_FACES 16
#define FRAME_NS(i, fps) ((guint64) ((i) * (1e9 / (fps)) + 0.5))

static FemoTracker *
new_tracker (const FemoTrackerParams * params)
{
  g_autoptr (GError) error = NULL;
  FemoTracker *tracker = femo_tracker_new (params, &error);

  g_assert_no_error (error);
  return tracker;
}

static FemoRect
rect (gint x, gint y, gint w, gint h)
{
  FemoRect r = { x, y, w, h, 0 };
  return r;
}

static guint32
update_one (FemoTracker * tracker, guint64 ts, gint x, gint y, gint size)
{
  FemoRect r = rect (x, y, size, size);
  FemoTrackAssignment a;

  femo_tracker_update (tracker, ts, NULL, &r, 1, NULL, &a);
  return a.track_id;
}

static void
crop_box (const FemoImageView * view, const FemoRect * r, guint8 * crop)
{
  femo_image_resample (view, r->x, r->y, r->width, r->height, crop, CROP, CROP);
}

/* ------------------------------------------------------------------ */
/* Real video                                                           */

/* The 640x480 montage: one speaker; cuts to other rooms at 115 and 181. */
#define CLIP "media/video/obama_montage_640x480_300f.mp4"
#define CLIP_FRAMES 200

typedef struct
{
  FemoDetector *detector;
  FemoTracker *tracker;
  guint32 main_id[CLIP_FRAMES];
  guint n_faces[CLIP_FRAMES];
  guint32 ended_id[CLIP_FRAMES];        /* the track that ended, 0: none */
  gboolean ended_by_cut[CLIP_FRAMES];
  gdouble signature_distance[CLIP_FRAMES];
  FemoFrameSignature previous;
  gboolean use_signature;
} VideoRun;

/* Decodes the first CLIP_FRAMES luma frames and tracks the faces. */
static void
run_clip (VideoRun * run)
{
  g_autofree gchar *path = femo_test_shared_path (CLIP);
  g_autofree gchar *desc = g_strdup_printf ("filesrc location=\"%s\" "
      "! decodebin ! videoconvert ! video/x-raw,format=GRAY8 "
      "! appsink name=sink sync=false max-buffers=4", path);
  g_autoptr (GError) error = NULL;
  GstElement *pipeline = gst_parse_launch (desc, &error);
  GstElement *sink;
  /* the face is 220-270 px wide here: a large minimum size and a coarse
   * pyramid keep the test fast without changing which face is found */
  FemoDetectParams dp = { 1.2, 5, 150, 150, 0, 0, 0 };
  guint8 crops[MAX_FACES * CROP_PIXELS];

  g_assert_no_error (error);
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  for (guint i = 0; i < CLIP_FRAMES; i++) {
    GstSample *sample = gst_app_sink_pull_sample (GST_APP_SINK (sink));
    GstVideoInfo info;
    GstVideoFrame frame;
    FemoImageView view;
    FemoFrameSignature sig;
    FemoRect boxes[MAX_FACES];
    FemoTrackAssignment assign[MAX_FACES];
    guint n, main = 0;

    g_assert_nonnull (sample);
    gst_video_info_from_caps (&info, gst_sample_get_caps (sample));
    g_assert_true (gst_video_frame_map (&frame, &info,
            gst_sample_get_buffer (sample), GST_MAP_READ));
    view.data = GST_VIDEO_FRAME_PLANE_DATA (&frame, 0);
    view.width = GST_VIDEO_FRAME_WIDTH (&frame);
    view.height = GST_VIDEO_FRAME_HEIGHT (&frame);
    view.stride = GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0);
    view.pixel_stride = 1;

    femo_tracker_frame_signature (&view, &sig);
    run->signature_distance[i] = i == 0 ? 0.0 :
        femo_tracker_signature_distance (&run->previous, &sig);
    run->previous = sig;
    n = femo_detector_detect (run->detector, &view, &dp, boxes, MAX_FACES);
    for (guint k = 0; k < n; k++) {
      crop_box (&view, &boxes[k], crops + k * CROP_PIXELS);
      if (boxes[k].width > boxes[main].width)
        main = k;
    }
    if (femo_tracker_update (run->tracker, GST_BUFFER_PTS
            (gst_sample_get_buffer (sample)), run->use_signature ? &sig : NULL,
            boxes, n, crops, assign) > 0) {
      guint n_ended;
      const FemoTrackRecord *rec = femo_tracker_get_ended (run->tracker,
          &n_ended);

      /* one speaker: at most one track ends at a time */
      g_assert_cmpuint (n_ended, ==, 1);
      run->ended_id[i] = rec->track_id;
      run->ended_by_cut[i] = rec->cut;
    }
    run->n_faces[i] = n;
    run->main_id[i] = n > 0 ? assign[main].track_id : 0;
    gst_video_frame_unmap (&frame);
    gst_sample_unref (sample);
  }
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (sink);
  gst_object_unref (pipeline);
}

/* Every frame of [first, last] has exactly the speaker's face, all with
 * the id @id, and no track ends before @last. */
static void
check_shot (const VideoRun * run, guint first, guint last, guint32 id)
{
  for (guint i = first; i <= last; i++) {
    if (run->n_faces[i] != 1)
      g_error ("frame %u: %u faces, not 1", i, run->n_faces[i]);
    if (run->main_id[i] != id)
      g_error ("frame %u: id %u inside the shot %u-%u, not %u", i,
          run->main_id[i], first, last, id);
    if (i > first && run->ended_id[i] != 0)
      g_error ("frame %u: track %u ended inside the shot %u-%u", i,
          run->ended_id[i], first, last);
  }
}

static void
test_video_ids (void)
{
  g_autoptr (FemoCascade) cascade =
      femo_test_cascade_new (FEMO_TEST_DEFAULT_CASCADE);
  g_autoptr (FemoDetector) detector = NULL;
  g_autoptr (FemoTracker) tracker = NULL;
  FemoTrackerParams params;
  g_autofree VideoRun *run = g_new0 (VideoRun, 1);
  gdouble max_inside = 0.0;

  detector = femo_detector_new (cascade, 1);
  femo_tracker_params_init (&params);
  tracker = new_tracker (&params);
  run->detector = detector;
  run->tracker = tracker;
  run->use_signature = TRUE;
  run_clip (run);

  /* ids 1, 2, 3 in order of appearance, one per shot; each cut ends the
   * shot's track as a cut */
  check_shot (run, 0, 114, 1);
  check_shot (run, 115, 180, 2);
  check_shot (run, 181, CLIP_FRAMES - 1, 3);
  g_assert_cmpuint (run->ended_id[0], ==, 0);
  g_assert_cmpuint (run->ended_id[115], ==, 1);
  g_assert_true (run->ended_by_cut[115]);
  g_assert_cmpuint (run->ended_id[181], ==, 2);
  g_assert_true (run->ended_by_cut[181]);

  /* the cut threshold sits well between the two kinds of frame pairs */
  for (guint i = 1; i < CLIP_FRAMES; i++)
    if (i != 115 && i != 181)
      max_inside = MAX (max_inside, run->signature_distance[i]);
  g_test_message ("signature distance: max %.3f inside shots, %.3f and %.3f "
      "at the cuts (threshold %.2f)", max_inside, run->signature_distance[115],
      run->signature_distance[181], params.cut_threshold);
  g_assert_cmpfloat (max_inside, <, params.cut_threshold / 3);
  g_assert_cmpfloat (run->signature_distance[115], >, params.cut_threshold * 2);
  g_assert_cmpfloat (run->signature_distance[181], >, params.cut_threshold * 2);
}

/* A different face appearing exactly on the old box: same box, other
 * person -> a new id; the same person a few pixels off -> the same id.
 * The 12x12 correlation is coarse: two frontal faces framed alike score
 * about 0.6 (the default threshold, 0.5, is set below what the same face
 * scores across frames of the hamilton clip, 0.66), so this uses a
 * threshold between the two measured scores. */
static void
test_appearance (void)
{
  const gchar *names[] = { "media/gray/skimage_astronaut.png",
    "media/gray/facedetect_grace_hopper_512x512.png"
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (FemoCascade) cascade =
      femo_test_cascade_new (FEMO_TEST_DEFAULT_CASCADE);
  g_autoptr (FemoDetector) detector = femo_detector_new (cascade, 1);
  g_autoptr (FemoTracker) tracker = NULL;
  FemoTrackerParams params;
  FemoDetectParams dp = FEMO_DETECT_PARAMS_INIT;
  guint8 crops[3][CROP_PIXELS];
  FemoRect box = rect (100, 100, 120, 120);
  FemoTrackAssignment a;
  guint32 first;
  gdouble same, other;

  for (guint i = 0; i < G_N_ELEMENTS (names); i++) {
    g_autofree gchar *path = femo_test_shared_path (names[i]);
    gint w, h;
    g_autofree guint8 *px = NULL;
    FemoImageView view;
    FemoRect face;

    px = femo_test_load_image (path, GST_VIDEO_FORMAT_GRAY8, &w, &h, &error);
    g_assert_no_error (error);
    view.data = px;
    view.width = view.stride = w;
    view.height = h;
    view.pixel_stride = 1;
    dp.max_faces = 1;
    g_assert_cmpuint (femo_detector_detect (detector, &view, &dp, &face, 1),
        ==, 1);
    crop_box (&view, &face, crops[i]);
    if (i == 0) {
      face.x += face.width / 20;
      face.y -= face.height / 20;
      crop_box (&view, &face, crops[2]);
    }
  }
  same = femo_tracker_appearance_similarity (crops[0], crops[2]);
  other = femo_tracker_appearance_similarity (crops[0], crops[1]);
  g_test_message ("appearance: same face shifted %.2f, other face %.2f",
      same, other);
  g_assert_cmpfloat (same, >, other + 0.1);
  g_assert_cmpfloat (femo_tracker_appearance_similarity (crops[1], crops[1]),
      >, 0.999);

  femo_tracker_params_init (&params);
  params.appearance_threshold = (same + other) / 2;
  tracker = new_tracker (&params);
  femo_tracker_update (tracker, 0, NULL, &box, 1, crops[0], &a);
  first = a.track_id;
  femo_tracker_update (tracker, FRAME_NS (1, 30), NULL, &box, 1, crops[2], &a);
  g_assert_cmpuint (a.track_id, ==, first);
  g_assert_false (a.is_new);
  femo_tracker_update (tracker, FRAME_NS (2, 30), NULL, &box, 1, crops[1], &a);
  g_assert_cmpuint (a.track_id, !=, first);
  g_assert_true (a.is_new);
  /* without crops, boxes alone cannot tell */
  femo_tracker_update (tracker, FRAME_NS (3, 30), NULL, &box, 1, NULL, &a);
  g_assert_false (a.is_new);
}

/* ------------------------------------------------------------------ */
/* Synthetic sequences                                                  */

static void
test_timeout_and_records (void)
{
  FemoTrackerParams params;
  g_autoptr (FemoTracker) tracker = NULL;
  const FemoTrackRecord *rec;
  FemoTrackBox pred[4];
  gfloat probs[7] = { 0 };
  guint32 id, id2;
  guint64 first_ns, last_ns;
  guint n, f = 0;

  femo_tracker_params_init (&params);
  params.timeout = 15;
  params.tau = 0.0;
  tracker = new_tracker (&params);

  /* 10 frames, a 5-frame gap, 10 more: one track */
  for (; f < 10; f++) {
    id = update_one (tracker, FRAME_NS (f, 30), 100 + f, 50, 80);
    g_assert_cmpuint (id, ==, 1);
    memset (probs, 0, sizeof (probs));
    probs[f < 7 ? 3 : 5] = 1.0f;
    femo_tracker_set_probs (tracker, id, FRAME_NS (f, 30), probs, NULL);
  }
  for (; f < 15; f++) {
    g_assert_cmpuint (femo_tracker_update (tracker, FRAME_NS (f, 30), NULL,
            NULL, 0, NULL, NULL), ==, 0);
    g_assert_cmpuint (femo_tracker_predict (tracker, FRAME_NS (f, 30), pred,
            G_N_ELEMENTS (pred)), ==, 1);
    g_assert_cmpuint (pred[0].misses, ==, f - 9);
  }
  for (; f < 25; f++)
    g_assert_cmpuint (update_one (tracker, FRAME_NS (f, 30), 100 + f, 50, 80),
        ==, 1);
  /* a live track's times: its first and its last detection */
  g_assert_true (femo_tracker_get_times (tracker, 1, &first_ns, &last_ns));
  g_assert_cmpuint (first_ns, ==, 0);
  g_assert_cmpuint (last_ns, ==, FRAME_NS (24, 30));
  g_assert_false (femo_tracker_get_times (tracker, 2, &first_ns, &last_ns));

  /* it survives 15 misses and ends at the 16th */
  for (; f < 40; f++)
    g_assert_cmpuint (femo_tracker_update (tracker, FRAME_NS (f, 30), NULL,
            NULL, 0, NULL, NULL), ==, 0);
  g_assert_cmpuint (femo_tracker_get_n_tracks (tracker), ==, 1);
  g_assert_cmpuint (femo_tracker_update (tracker, FRAME_NS (f, 30), NULL,
          NULL, 0, NULL, NULL), ==, 1);
  g_assert_cmpuint (femo_tracker_get_n_tracks (tracker), ==, 0);
  rec = femo_tracker_get_ended (tracker, &n);
  g_assert_cmpuint (n, ==, 1);
  g_assert_cmpuint (rec[0].track_id, ==, 1);
  g_assert_cmpuint (rec[0].first_ns, ==, 0);
  g_assert_cmpuint (rec[0].last_ns, ==, FRAME_NS (24, 30));
  g_assert_cmpuint (rec[0].duration_ns, ==, FRAME_NS (24, 30));
  g_assert_cmpuint (rec[0].n_detections, ==, 20);
  g_assert_cmpuint (rec[0].n_classified, ==, 10);
  g_assert_cmpuint (rec[0].n_label_changes, ==, 1);
  /* 7 frames of class 3 against 3 of class 5 */
  g_assert_cmpint (rec[0].dominant_label, ==, 3);
  g_assert_cmpfloat_with_epsilon (rec[0].dominant_share, 0.7, 1e-6);
  g_assert_false (rec[0].cut);

  /* the same place later is a new track; finish reports it */
  id2 = update_one (tracker, FRAME_NS (f, 30), 125, 50, 80);
  g_assert_cmpuint (id2, ==, 2);
  g_assert_cmpuint (femo_tracker_finish (tracker), ==, 1);
  rec = femo_tracker_get_ended (tracker, &n);
  g_assert_cmpuint (rec[0].track_id, ==, 2);
  g_assert_cmpuint (rec[0].n_detections, ==, 1);
  g_assert_cmpint (rec[0].dominant_label, ==, -1);
  g_assert_cmpuint (femo_tracker_get_n_tracks (tracker), ==, 0);
}

static void
test_reset (void)
{
  FemoTrackerParams params;
  g_autoptr (FemoTracker) tracker = NULL;
  FemoTrackBox pred[4];
  FemoLabelUpdate lu;
  gfloat probs[7] = { 0.1f, 0.1f, 0.1f, 0.4f, 0.1f, 0.1f, 0.1f };
  guint n;

  femo_tracker_params_init (&params);
  tracker = new_tracker (&params);
  g_assert_cmpuint (update_one (tracker, 0, 10, 10, 50), ==, 1);
  g_assert_true (femo_tracker_set_probs (tracker, 1, 0, probs, &lu));
  femo_tracker_reset (tracker);
  g_assert_cmpuint (femo_tracker_get_n_tracks (tracker), ==, 0);
  g_assert_cmpuint (femo_tracker_predict (tracker, 0, pred, 4), ==, 0);
  femo_tracker_get_ended (tracker, &n);
  g_assert_cmpuint (n, ==, 0);
  g_assert_false (femo_tracker_get_label (tracker, 1, &lu));
  g_assert_false (femo_tracker_set_probs (tracker, 1, 0, probs, &lu));
  g_assert_false (femo_tracker_needs_classify (tracker, 1, 1));
  /* the same box again is a new track, with a new id; timestamps may start
   * over after a flush */
  g_assert_cmpuint (update_one (tracker, 0, 10, 10, 50), ==, 2);
  g_assert_cmpuint (update_one (tracker, FRAME_NS (1, 30), 11, 10, 50), ==, 2);
}

/* 65,537 boxes in two updates (65,537^2 pairs overflowed a 32-bit count
 * and wrote past the pair array): the FEMO_TRACKER_MAX_BOXES largest are
 * tracked, the earlier of equal ones, and keep their tracks; the others get
 * no track (id 0), in both updates. */
#define MANY_BOXES 65537

static void
test_many_boxes (void)
{
  FemoTrackerParams params;
  g_autoptr (FemoTracker) tracker = NULL;
  g_autofree FemoRect *boxes = g_new (FemoRect, MANY_BOXES);
  g_autofree FemoTrackAssignment *out = g_new (FemoTrackAssignment,
      MANY_BOXES);
  g_autofree guint32 *first = g_new0 (guint32, MANY_BOXES);
  const guint big[] = { 40000, MANY_BOXES - 1 };

  femo_tracker_params_init (&params);
  tracker = new_tracker (&params);
  for (guint b = 0; b < MANY_BOXES; b++)
    boxes[b] = rect (10, 10, 20, 20);
  boxes[big[0]] = rect (100, 100, 30, 30);
  boxes[big[1]] = rect (200, 100, 40, 40);
  for (guint f = 0; f < 2; f++) {
    guint n_tracked = 0;

    g_assert_cmpuint (femo_tracker_update (tracker, FRAME_NS (f, 30), NULL,
            boxes, MANY_BOXES, NULL, out), ==, 0);
    for (guint b = 0; b < MANY_BOXES; b++) {
      if (b >= FEMO_TRACKER_MAX_BOXES - G_N_ELEMENTS (big) && b != big[0]
          && b != big[1]) {
        g_assert_cmpuint (out[b].track_id, ==, 0);
        g_assert_false (out[b].is_new);
        continue;
      }
      g_assert_cmpuint (out[b].track_id, !=, 0);
      g_assert_cmpint (out[b].is_new, ==, f == 0);
      if (f == 0)
        first[b] = out[b].track_id;
      g_assert_cmpuint (out[b].track_id, ==, first[b]);
      n_tracked++;
    }
    g_assert_cmpuint (n_tracked, ==, FEMO_TRACKER_MAX_BOXES);
    g_assert_cmpuint (femo_tracker_get_n_tracks (tracker), ==,
        FEMO_TRACKER_MAX_BOXES);
  }
}

/* Box @k of group @g: apart from every box of other groups. */
static FemoRect
grid_box (guint g, guint k)
{
  return rect ((g * FEMO_TRACKER_MAX_BOXES + k) * 100, 0, 50, 50);
}

/* Updates with @n_old boxes of group @old_group, then new ones of group
 * @g up to FEMO_TRACKER_MAX_BOXES; checks that the old ones keep ids from
 * @old_first on and the others start tracks, and returns how many tracks
 * ended. */
static guint
update_groups (FemoTracker * tracker, guint g, guint old_group, guint n_old,
    guint32 old_first)
{
  FemoRect boxes[FEMO_TRACKER_MAX_BOXES];
  FemoTrackAssignment out[FEMO_TRACKER_MAX_BOXES];
  guint n_ended;

  for (guint k = 0; k < FEMO_TRACKER_MAX_BOXES; k++)
    boxes[k] = k < n_old ? grid_box (old_group, k) : grid_box (g, k);
  n_ended = femo_tracker_update (tracker, FRAME_NS (g, 30), NULL, boxes,
      FEMO_TRACKER_MAX_BOXES, NULL, out);
  for (guint k = 0; k < FEMO_TRACKER_MAX_BOXES; k++) {
    g_assert_cmpint (out[k].is_new, ==, k >= n_old);
    if (k < n_old)
      g_assert_cmpuint (out[k].track_id, ==, old_first + k);
  }
  g_assert_cmpuint (femo_tracker_get_n_tracks (tracker), <=,
      FEMO_TRACKER_MAX_TRACKS);
  return n_ended;
}

/* Tracks pile up while boxes keep turning up elsewhere: at
 * FEMO_TRACKER_MAX_TRACKS the tracks unseen longest (the older of equals)
 * end to make room, as timed out (not cut), never one matched in the same
 * update, and every box still gets a track. */
static void
test_max_tracks (void)
{
  const guint per = FEMO_TRACKER_MAX_BOXES, half = per / 2;
  const guint full = FEMO_TRACKER_MAX_TRACKS / FEMO_TRACKER_MAX_BOXES;
  FemoTrackerParams params;
  g_autoptr (FemoTracker) tracker = NULL;
  const FemoTrackRecord *rec;
  guint n, g;

  femo_tracker_params_init (&params);
  params.timeout = 1000;
  tracker = new_tracker (&params);
  for (g = 0; g < full; g++)
    g_assert_cmpuint (update_groups (tracker, g, 0, 0, 0), ==, 0);
  g_assert_cmpuint (femo_tracker_get_n_tracks (tracker), ==,
      FEMO_TRACKER_MAX_TRACKS);

  /* group 0's tracks (ids 1..per) are the oldest unseen */
  g_assert_cmpuint (update_groups (tracker, g++, 0, 0, 0), ==, per);
  rec = femo_tracker_get_ended (tracker, &n);
  for (guint i = 0; i < n; i++) {
    g_assert_cmpuint (rec[i].track_id, ==, 1 + i);
    g_assert_false (rec[i].cut);
  }
  g_assert_cmpuint (femo_tracker_get_n_tracks (tracker), ==,
      FEMO_TRACKER_MAX_TRACKS);

  /* half of group 1 seen again keeps its tracks; the other half, now the
   * longest unseen, makes room for the new half */
  g_assert_cmpuint (update_groups (tracker, g++, 1, half, per + 1), ==, half);
  rec = femo_tracker_get_ended (tracker, &n);
  for (guint i = 0; i < n; i++)
    g_assert_cmpuint (rec[i].track_id, ==, per + half + 1 + i);
  g_assert_cmpuint (femo_tracker_get_n_tracks (tracker), ==,
      FEMO_TRACKER_MAX_TRACKS);
}

/* Two faces crossing paths with constant velocity keep their ids; the
 * prediction between detections (detect every 3rd frame) follows them. */
static void
test_predict_and_crossing (void)
{
  FemoTrackerParams params;
  g_autoptr (FemoTracker) tracker = NULL;
  FemoTrackBox pred[4];
  FemoTrackAssignment a[2];

  femo_tracker_params_init (&params);
  tracker = new_tracker (&params);
  for (guint f = 0; f < 90; f++) {
    FemoRect boxes[2] = { rect (100 + 4 * f, 200, 80, 80),
      rect (460 - 4 * f, 210, 80, 80)
    };
    guint64 ts = FRAME_NS (f, 30);

    if (f % 3 != 0) {
      g_assert_cmpuint (femo_tracker_predict (tracker, ts, pred, 4), ==, 2);
      for (guint k = 0; k < 2; k++) {
        const FemoRect *r = &boxes[pred[k].track_id - 1];

        /* constant velocity: the prediction is within a pixel or two once
         * the velocity has settled */
        if (f > 10) {
          g_assert_cmpfloat (fabs (pred[k].x - r->x), <, 3.0);
          g_assert_cmpfloat (fabs (pred[k].width - r->width), <, 1.0);
        }
      }
      continue;
    }
    femo_tracker_update (tracker, ts, NULL, boxes, 2, NULL, a);
    g_assert_cmpuint (a[0].track_id, ==, 1);
    g_assert_cmpuint (a[1].track_id, ==, 2);
  }
}

static void
test_needs_classify (void)
{
  FemoTrackerParams params;
  g_autoptr (FemoTracker) tracker = NULL;
  gfloat probs[7] = { 1, 0, 0, 0, 0, 0, 0 };
  guint classified = 0;

  femo_tracker_params_init (&params);
  params.reclassify_growth = 0.2;
  tracker = new_tracker (&params);
  g_assert_false (femo_tracker_needs_classify (tracker, 1, 3));
  for (guint f = 0; f < 12; f++) {
    guint32 id = update_one (tracker, FRAME_NS (f, 30), 100, 100, 100);

    if (femo_tracker_needs_classify (tracker, id, 3)) {
      g_assert_cmpuint (f % 3, ==, 0);
      femo_tracker_set_probs (tracker, id, FRAME_NS (f, 30), probs, NULL);
      classified++;
    }
  }
  g_assert_cmpuint (classified, ==, 4);
  /* frame 12 is due anyway; at 13 a box grown by 15% waits, by 25% not */
  update_one (tracker, FRAME_NS (12, 30), 100, 100, 100);
  femo_tracker_set_probs (tracker, 1, FRAME_NS (12, 30), probs, NULL);
  update_one (tracker, FRAME_NS (13, 30), 95, 95, 115);
  g_assert_false (femo_tracker_needs_classify (tracker, 1, 3));
  update_one (tracker, FRAME_NS (14, 30), 90, 90, 125);
  g_assert_true (femo_tracker_needs_classify (tracker, 1, 3));
  /* interval 1 = every detection */
  femo_tracker_set_probs (tracker, 1, FRAME_NS (14, 30), probs, NULL);
  update_one (tracker, FRAME_NS (15, 30), 90, 90, 125);
  g_assert_true (femo_tracker_needs_classify (tracker, 1, 1));
}

/* Noisy CNN output over a face whose true expression changes once: the
 * raw argmax flickers, the smoothed label follows the change and little
 * else. */
static void
test_smoothing_reduces_changes (void)
{
  FemoTrackerParams params;
  g_autoptr (FemoTracker) tracker = NULL;
  g_autoptr (GRand) rng = g_rand_new_with_seed (7);
  guint raw_changes = 0, smooth_changes = 0;
  gint raw_prev = -1;
  FemoLabelUpdate lu = { 0 };

  femo_tracker_params_init (&params);
  tracker = new_tracker (&params);
  update_one (tracker, 0, 100, 100, 100);
  for (guint f = 0; f < 240; f++) {
    gint truth = f < 120 ? 3 : 5;
    gfloat probs[7];
    gdouble sum = 0.0;
    gint raw = 0;

    /* softmax of (2 on the true class + Gaussian noise of sigma 1): the
     * raw argmax is wrong on about a third of the frames */
    for (guint c = 0; c < 7; c++) {
      gdouble u1 = g_rand_double (rng), u2 = g_rand_double (rng);
      gdouble z = sqrt (-2.0 * log (1.0 - u1)) * cos (2 * G_PI * u2);

      probs[c] = exp ((c == (guint) truth ? 2.0 : 0.0) + z);
      sum += probs[c];
    }
    for (guint c = 0; c < 7; c++) {
      probs[c] /= sum;
      if (probs[c] > probs[raw])
        raw = c;
    }
    raw_changes += raw_prev >= 0 && raw != raw_prev;
    raw_prev = raw;
    g_assert_true (femo_tracker_set_probs (tracker, 1, FRAME_NS (f, 30),
            probs, &lu));
    smooth_changes += lu.changed && lu.previous >= 0;
  }
  g_test_message ("label changes over 8 s: raw %u, smoothed %u",
      raw_changes, smooth_changes);
  g_assert_cmpuint (raw_changes, >, 40);
  g_assert_cmpuint (smooth_changes, >=, 1);
  g_assert_cmpuint (smooth_changes, <=, 3);
  g_assert_cmpint (lu.label, ==, 5);
  g_assert_cmpfloat (lu.probs[5], >, 0.3);
}

/* Feeds p(class 1) = @signal (t) at @fps for 3 s and samples the smoothed
 * value on a 15 fps grid (46 points). With @per_frame_alpha > 0 it is
 * smoothed by a fixed alpha per frame instead, the frame-rate dependent
 * way, for comparison. */
static void
smooth_curve (const FemoTrackerParams * params, guint fps,
    gdouble (*signal) (gdouble), gdouble per_frame_alpha, gdouble * curve)
{
  g_autoptr (FemoTracker) tracker = new_tracker (params);
  gdouble fixed = 0.0;

  update_one (tracker, 0, 100, 100, 100);
  for (guint f = 0; f <= 3 * fps; f++) {
    guint64 ts = FRAME_NS (f, fps);
    gdouble x = signal (ts / 1e9);
    gfloat probs[7] = { 1.0f - x, x, 0, 0, 0, 0, 0 };
    FemoLabelUpdate lu;

    femo_tracker_set_probs (tracker, 1, ts, probs, &lu);
    fixed = f == 0 ? x : fixed + per_frame_alpha * (x - fixed);
    if (f % (fps / 15) == 0)
      curve[f / (fps / 15)] = per_frame_alpha > 0 ? fixed : lu.probs[1];
  }
}

static gdouble
step_at_1s (gdouble t)
{
  return t < 1.0 ? 0.0 : 1.0;
}

static gdouble
sine_1hz (gdouble t)
{
  return 0.5 + 0.4 * sin (2 * G_PI * t);
}

static gdouble
max_difference (const gdouble * a, const gdouble * b)
{
  gdouble d = 0.0;

  for (guint i = 0; i < 46; i++)
    d = MAX (d, fabs (a[i] - b[i]));
  return d;
}

/* The same tau at 15 and 60 fps gives nearly the same curve; a fixed alpha
 * per frame (tuned for 15 fps) does not. The step can only differ by what
 * one 15 fps frame changes (1 - exp (-1/15/tau) = 0.125 at tau 0.5): a
 * sampled step arrives up to a frame early. */
static void
test_ema_frame_rate_independent (void)
{
  FemoTrackerParams params;
  gdouble c15[46], c60[46], f15[46], f60[46];
  gdouble alpha15, step, sine, fixed_step;

  femo_tracker_params_init (&params);
  params.tau = 0.5;
  alpha15 = 1.0 - exp (-1.0 / 15 / params.tau);

  smooth_curve (&params, 15, step_at_1s, 0, c15);
  smooth_curve (&params, 60, step_at_1s, 0, c60);
  step = max_difference (c15, c60);
  smooth_curve (&params, 15, step_at_1s, alpha15, f15);
  smooth_curve (&params, 60, step_at_1s, alpha15, f60);
  fixed_step = max_difference (f15, f60);
  /* time-based: exact at the sample times after the step */
  g_assert_cmpfloat (fabs (c15[15] - alpha15), <, 1e-5);
  g_assert_cmpfloat (fabs (c60[45] - (1.0 - exp (-(2.0 + 1.0 / 60) /
                  params.tau))), <, 1e-5);

  smooth_curve (&params, 15, sine_1hz, 0, c15);
  smooth_curve (&params, 60, sine_1hz, 0, c60);
  sine = max_difference (c15, c60);
  g_test_message ("15 vs 60 fps, max difference: step %.4f (a fixed alpha "
      "per frame: %.4f), 1 Hz sine %.4f", step, fixed_step, sine);
  g_assert_cmpfloat (step, <=, alpha15 + 1e-6);
  g_assert_cmpfloat (fixed_step, >, 3 * step);
  g_assert_cmpfloat (sine, <, 0.05);
}

static void
test_label_hysteresis (void)
{
  FemoTrackerParams params;
  g_autoptr (FemoTracker) tracker = NULL;
  gfloat a[7] = { 0.50f, 0.40f, 0.02f, 0.02f, 0.02f, 0.02f, 0.02f };
  gfloat b[7] = { 0.40f, 0.50f, 0.02f, 0.02f, 0.02f, 0.02f, 0.02f };
  gfloat c[7] = { 0.10f, 0.80f, 0.02f, 0.02f, 0.02f, 0.02f, 0.02f };
  FemoLabelUpdate lu;

  femo_tracker_params_init (&params);
  params.tau = 0.0;
  params.label_margin = 0.15;
  params.label_hold = 3;
  tracker = new_tracker (&params);
  update_one (tracker, 0, 100, 100, 100);
  femo_tracker_set_probs (tracker, 1, 0, a, &lu);
  g_assert_cmpint (lu.label, ==, 0);
  g_assert_cmpint (lu.previous, ==, -1);
  g_assert_true (lu.changed);
  /* class 1 leads by 0.1 < margin: shown only after 3 updates in a row */
  femo_tracker_set_probs (tracker, 1, 1, b, &lu);
  g_assert_cmpint (lu.label, ==, 0);
  g_assert_false (lu.changed);
  femo_tracker_set_probs (tracker, 1, 2, b, &lu);
  g_assert_cmpint (lu.label, ==, 0);
  femo_tracker_set_probs (tracker, 1, 3, b, &lu);
  g_assert_cmpint (lu.label, ==, 1);
  g_assert_cmpint (lu.previous, ==, 0);
  g_assert_true (lu.changed);
  /* back to 0 by a small lead, interrupted: the count starts over */
  femo_tracker_set_probs (tracker, 1, 4, a, &lu);
  femo_tracker_set_probs (tracker, 1, 5, a, &lu);
  femo_tracker_set_probs (tracker, 1, 6, b, &lu);
  femo_tracker_set_probs (tracker, 1, 7, a, &lu);
  g_assert_cmpint (lu.label, ==, 1);
  /* a clear lead wins at once */
  femo_tracker_set_probs (tracker, 1, 8, a, &lu);
  femo_tracker_set_probs (tracker, 1, 9, c, &lu);
  g_assert_cmpint (lu.label, ==, 1);
  a[0] = 0.9f;
  a[1] = 0.05f;
  femo_tracker_set_probs (tracker, 1, 10, a, &lu);
  g_assert_cmpint (lu.label, ==, 0);
  g_assert_true (lu.changed);
  g_assert_true (femo_tracker_get_label (tracker, 1, &lu));
  g_assert_cmpint (lu.label, ==, 0);
  g_assert_false (lu.changed);
  g_assert_cmpfloat (lu.probs[0], ==, 0.9f);
}

static void
test_bad_params (void)
{
  FemoTrackerParams params;
  g_autoptr (GError) error = NULL;

  femo_tracker_params_init (&params);
  params.n_classes = FEMO_TRACKER_MAX_CLASSES + 1;
  g_assert_null (femo_tracker_new (&params, &error));
  g_assert_error (error, FEMO_ERROR, FEMO_ERROR_ARGUMENT);
  g_clear_error (&error);
  femo_tracker_params_init (&params);
  params.iou_threshold = 0.0;
  g_assert_null (femo_tracker_new (&params, &error));
  g_assert_error (error, FEMO_ERROR, FEMO_ERROR_ARGUMENT);
  g_clear_error (&error);
  femo_tracker_params_init (&params);
  params.tau = -1.0;
  g_assert_null (femo_tracker_new (&params, &error));
  g_assert_error (error, FEMO_ERROR, FEMO_ERROR_ARGUMENT);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/tracker/video-ids", test_video_ids);
  g_test_add_func ("/tracker/appearance", test_appearance);
  g_test_add_func ("/tracker/timeout-records", test_timeout_and_records);
  g_test_add_func ("/tracker/reset", test_reset);
  g_test_add_func ("/tracker/many-boxes", test_many_boxes);
  g_test_add_func ("/tracker/max-tracks", test_max_tracks);
  g_test_add_func ("/tracker/predict-crossing", test_predict_and_crossing);
  g_test_add_func ("/tracker/needs-classify", test_needs_classify);
  g_test_add_func ("/tracker/smoothing", test_smoothing_reduces_changes);
  g_test_add_func ("/tracker/ema-frame-rate", test_ema_frame_rate_independent);
  g_test_add_func ("/tracker/label-hysteresis", test_label_hysteresis);
  g_test_add_func ("/tracker/bad-params", test_bad_params);
  return g_test_run ();
}
