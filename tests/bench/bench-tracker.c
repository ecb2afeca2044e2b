/* gst-femo benchmark: the face tracker on real video.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * bench-tracker [--model M.safetensors] [--scale-factor S] [--dump] VIDEO...
 * bench-tracker --worst-case
 *
 * Decodes each VIDEO (luma), detects faces on every frame with the default
 * Haar cascade (femodetect's defaults unless --scale-factor), crops them as
 * femodetect does (margin 0.1, 48x48) and feeds boxes, crops and frame
 * signatures to a tracker with default parameters. It prints per video:
 *   tracks      tracks created, and how many lived at least 1 s
 *   switches    times the main face (the largest box) changed id inside a
 *               continuous shot: should be 0 (only for the clips whose cuts
 *               are known: the shared montages and the original clips)
 *   new-at-cut  cuts after which the main face got an id never seen before
 *   main IoU / appearance / signature: the smallest IoU and appearance
 *               correlation of the main face between consecutive frames
 *               inside shots, and the largest frame signature distance
 *               inside shots, against the same figures across cuts: the
 *               margins the thresholds have
 *   labels      with --model: label changes per track-second of the raw
 *               per-frame argmax against the tracker's smoothed label
 * --dump prints those figures per frame. Measures; never fails.
 *
 * bench-tracker --worst-case times the largest update the tracker's caps
 * allow at femodetect's gates: FEMO_TRACKER_MAX_TRACKS tracks and
 * FEMO_TRACKER_MAX_BOXES boxes all on one spot (raw windows around one
 * face, min-neighbors=0) with crops that never look alike, so that every
 * pair passes the IoU gate, gets the appearance check, and none matches.
 */
#include "femo-cascade.h"
#include "femo-face-crop.h"
#include "femo-image.h"
#include "femo-net.h"
#include "femo-tracker.h"
#include "test-util.h"

#include <gst/app/gstappsink.h>
#include <string.h>

#define CASCADE "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml"
#define MAX_FACES 64
#define CROP_PIXELS (FEMO_TRACKER_CROP_SIZE * FEMO_TRACKER_CROP_SIZE)

/* First frames of the shots (media/README.md); a clip without an entry is
 * one shot when it is one of the original sentence clips. */
static const guint montage_cuts[] =
    { 0, 115, 181, 315, 441, 585, 627, 701, 762 };
static const guint montage300_cuts[] = { 0, 115, 181 };
static const guint single_shot[] = { 0 };

typedef struct
{
  guint frames, detections, tracks, long_tracks;
  guint switches, cuts, new_at_cut;
  gdouble min_iou_in, max_iou_cut;
  gdouble min_app_in, max_app_cut;
  gdouble max_sig_in, min_sig_cut;
  guint raw_changes, smooth_changes;
  gdouble track_seconds;
} Stats;

static gboolean
is_cut (const guint * cuts, guint n_cuts, guint frame)
{
  for (guint i = 1; i < n_cuts; i++)
    if (cuts[i] == frame)
      return TRUE;
  return FALSE;
}

static gdouble
rect_iou (const FemoRect * a, const FemoRect * b)
{
  gint x0 = MAX (a->x, b->x), y0 = MAX (a->y, b->y);
  gint x1 = MIN (a->x + a->width, b->x + b->width);
  gint y1 = MIN (a->y + a->height, b->y + b->height);
  gdouble inter;

  if (x1 <= x0 || y1 <= y0)
    return 0.0;
  inter = (gdouble) (x1 - x0) * (y1 - y0);
  return inter / ((gdouble) a->width * a->height +
      (gdouble) b->width * b->height - inter);
}

static void
account_ended (FemoTracker * tracker, Stats * s)
{
  guint n;
  const FemoTrackRecord *r = femo_tracker_get_ended (tracker, &n);

  for (guint i = 0; i < n; i++) {
    s->track_seconds += r[i].duration_ns / 1e9;
    if (r[i].duration_ns >= GST_SECOND)
      s->long_tracks++;
  }
}

static void
run_video (const gchar * path, FemoDetector * detector, FemoInfer * infer,
    gdouble scale_factor, gboolean dump)
{
  g_autofree gchar *base = g_path_get_basename (path);
  const guint *cuts = NULL;
  guint n_cuts = 0;
  FemoDetectParams dp = FEMO_DETECT_PARAMS_INIT;
  FemoTrackerParams tp;
  g_autoptr (FemoTracker) tracker = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) raw_labels =
      g_hash_table_new (g_direct_hash, g_direct_equal);
  GstElement *pipeline, *sink;
  g_autofree gchar *desc = NULL;
  FemoRect boxes[MAX_FACES], prev_main = { 0 };
  FemoTrackAssignment assign[MAX_FACES];
  g_autofree guint8 *crops = g_malloc (MAX_FACES * CROP_PIXELS);
  guint8 prev_crop[CROP_PIXELS];
  gfloat probs[MAX_FACES * FEMO_NET_MAX_LABELS];
  FemoFrameSignature sig, prev_sig;
  guint32 prev_id = 0;
  GHashTable *seen = g_hash_table_new (g_direct_hash, g_direct_equal);
  gboolean have_prev = FALSE, have_sig = FALSE;
  gint64 t0 = g_get_monotonic_time ();
  Stats s = { 0 };

  s.min_iou_in = s.min_app_in = s.min_sig_cut = 1.0;
  s.max_iou_cut = s.max_app_cut = -1.0;
  if (strcmp (base, "obama_weekly_address_montage_1280x720.mp4") == 0) {
    cuts = montage_cuts;
    n_cuts = G_N_ELEMENTS (montage_cuts);
  } else if (strcmp (base, "obama_montage_640x480_300f.mp4") == 0) {
    cuts = montage300_cuts;
    n_cuts = G_N_ELEMENTS (montage300_cuts);
  } else if (g_str_has_prefix (base, "wh_weekly_address_clip")) {
    cuts = single_shot;
    n_cuts = 1;
  }

  dp.scale_factor = scale_factor;
  femo_tracker_params_init (&tp);
  if (infer)
    tp.n_classes = femo_model_get_n_labels (femo_infer_get_model (infer));
  tracker = femo_tracker_new (&tp, &error);
  g_assert_no_error (error);

  desc = g_strdup_printf ("filesrc location=\"%s\" ! decodebin ! videoconvert"
      " ! video/x-raw,format=GRAY8 ! appsink name=sink sync=false", path);
  pipeline = gst_parse_launch (desc, &error);
  g_assert_no_error (error);
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  gst_element_set_state (pipeline, GST_STATE_PLAYING);

  for (;;) {
    GstSample *sample = gst_app_sink_pull_sample (GST_APP_SINK (sink));
    GstVideoInfo info;
    GstVideoFrame frame;
    FemoImageView view;
    guint64 ts;
    guint n, main = 0;
    gboolean cut;
    gdouble sig_d = -1, iou_d = -1, app_d = -2;

    if (sample == NULL)
      break;
    gst_video_info_from_caps (&info, gst_sample_get_caps (sample));
    if (!gst_video_frame_map (&frame, &info, gst_sample_get_buffer (sample),
            GST_MAP_READ))
      g_error ("cannot map a frame of %s", path);
    view.data = GST_VIDEO_FRAME_PLANE_DATA (&frame, 0);
    view.width = GST_VIDEO_FRAME_WIDTH (&frame);
    view.height = GST_VIDEO_FRAME_HEIGHT (&frame);
    view.stride = GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0);
    view.pixel_stride = 1;
    ts = GST_BUFFER_PTS (gst_sample_get_buffer (sample));
    cut = cuts && is_cut (cuts, n_cuts, s.frames);

    femo_tracker_frame_signature (&view, &sig);
    if (have_sig)
      sig_d = femo_tracker_signature_distance (&prev_sig, &sig);
    prev_sig = sig;
    have_sig = TRUE;

    n = femo_detector_detect (detector, &view, &dp, boxes, MAX_FACES);
    for (guint i = 0; i < n; i++) {
      gdouble x, y, w, h;

      femo_face_crop_region (boxes[i].x, boxes[i].y, boxes[i].width,
          boxes[i].height, 0.1, 1, 1, &x, &y, &w, &h);
      femo_image_resample (&view, x, y, w, h, crops + i * CROP_PIXELS,
          FEMO_TRACKER_CROP_SIZE, FEMO_TRACKER_CROP_SIZE);
      if (boxes[i].width > boxes[main].width)
        main = i;
    }
    gst_video_frame_unmap (&frame);
    gst_sample_unref (sample);

    femo_tracker_update (tracker, ts, &sig, boxes, n, crops, assign);
    account_ended (tracker, &s);
    s.detections += n;
    for (guint i = 0; i < n; i++)
      s.tracks += assign[i].is_new;

    if (infer && n > 0) {
      guint k = tp.n_classes;

      femo_infer_run (infer, crops, n, probs, NULL);
      for (guint i = 0; i < n; i++) {
        FemoLabelUpdate lu;
        gpointer key = GUINT_TO_POINTER (assign[i].track_id);
        gint raw = 0;

        for (guint c = 1; c < k; c++)
          if (probs[i * k + c] > probs[i * k + raw])
            raw = c;
        if (g_hash_table_contains (raw_labels, key)
            && GPOINTER_TO_INT (g_hash_table_lookup (raw_labels, key)) != raw)
          s.raw_changes++;
        g_hash_table_insert (raw_labels, key, GINT_TO_POINTER (raw));
        femo_tracker_set_probs (tracker, assign[i].track_id, ts,
            probs + i * k, &lu);
        s.smooth_changes += lu.changed && lu.previous >= 0;
      }
    }

    if (n > 0 && have_prev) {
      iou_d = rect_iou (&prev_main, &boxes[main]);
      app_d = femo_tracker_appearance_similarity (prev_crop,
          crops + main * CROP_PIXELS);
    }
    if (cuts && n > 0) {
      guint32 id = assign[main].track_id;

      if (cut) {
        s.cuts++;
        s.new_at_cut += !g_hash_table_contains (seen, GUINT_TO_POINTER (id));
        if (have_prev) {
          s.max_iou_cut = MAX (s.max_iou_cut, iou_d);
          s.max_app_cut = MAX (s.max_app_cut, app_d);
        }
      } else if (have_prev) {
        s.switches += id != prev_id;
        s.min_iou_in = MIN (s.min_iou_in, iou_d);
        s.min_app_in = MIN (s.min_app_in, app_d);
      }
      g_hash_table_add (seen, GUINT_TO_POINTER (id));
      prev_id = id;
    } else if (cut) {
      s.cuts++;
    }
    if (n > 0) {
      prev_main = boxes[main];
      memcpy (prev_crop, crops + main * CROP_PIXELS, CROP_PIXELS);
    }
    /* a frame without a face breaks the chain: compare only neighbours */
    have_prev = n > 0;
    if (sig_d >= 0) {
      if (cut || !cuts)
        s.min_sig_cut = MIN (s.min_sig_cut, sig_d);
      if (!cut)
        s.max_sig_in = MAX (s.max_sig_in, sig_d);
    }
    if (dump)
      g_print ("%s %4u faces %u id %u sig %.3f iou %.2f app %.2f%s\n", base,
          s.frames, n, n ? assign[main].track_id : 0, sig_d, iou_d, app_d,
          cut ? " CUT" : "");
    s.frames++;
  }
  femo_tracker_finish (tracker);
  account_ended (tracker, &s);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (sink);
  gst_object_unref (pipeline);
  g_hash_table_unref (seen);

  g_print ("%s: %u frames (%.1f s to run), %u detections, %u tracks "
      "(%u of >= 1 s)\n", base, s.frames,
      (g_get_monotonic_time () - t0) / 1e6, s.detections, s.tracks,
      s.long_tracks);
  if (cuts)
    g_print ("  main face: %u id switches inside shots, new id at %u of %u "
        "cuts\n  consecutive main faces: IoU min %.2f inside shots, max %.2f "
        "across cuts; appearance min %.2f inside, max %.2f across\n"
        "  signature distance: max %.3f inside shots, min %.3f at cuts\n",
        s.switches, s.new_at_cut, s.cuts, s.min_iou_in, s.max_iou_cut,
        s.min_app_in, s.max_app_cut, s.max_sig_in, s.min_sig_cut);
  else
    g_print ("  signature distance between consecutive frames: max %.3f, "
        "min %.3f\n", s.max_sig_in, s.min_sig_cut);
  if (infer)
    g_print ("  label changes per track-second: raw %.2f, smoothed %.2f "
        "(%u vs %u over %.1f track-s)\n",
        s.raw_changes / MAX (s.track_seconds, 1e-9),
        s.smooth_changes / MAX (s.track_seconds, 1e-9), s.raw_changes,
        s.smooth_changes, s.track_seconds);
}

static void
run_worst_case (void)
{
  const guint n_updates = 40, warmup = 4;
  FemoTrackerParams params;
  g_autoptr (FemoTracker) tracker = NULL;
  const FemoRect face = { 100, 100, 100, 100, 0 };
  FemoRect boxes[FEMO_TRACKER_MAX_BOXES];
  FemoTrackAssignment assign[FEMO_TRACKER_MAX_BOXES];
  g_autofree guint8 *crops = g_malloc (FEMO_TRACKER_MAX_BOXES * CROP_PIXELS);
  guint32 state = 2463534242u;
  gint64 busy = 0;

  femo_tracker_params_init (&params);
  params.timeout = G_MAXUINT;
  tracker = femo_tracker_new (&params, NULL);
  for (guint b = 0; b < FEMO_TRACKER_MAX_BOXES; b++)
    boxes[b] = face;
  for (guint f = 0; f < n_updates; f++) {
    gint64 start;

    for (gsize i = 0; i < FEMO_TRACKER_MAX_BOXES * CROP_PIXELS; i++) {
      state ^= state << 13;
      state ^= state >> 17;
      state ^= state << 5;
      crops[i] = (guint8) state;
    }
    start = g_get_monotonic_time ();
    femo_tracker_update (tracker, f * 33 * G_TIME_SPAN_MILLISECOND * 1000,
        NULL, boxes, FEMO_TRACKER_MAX_BOXES, crops, assign);
    if (f >= warmup)
      busy += g_get_monotonic_time () - start;
  }
  g_print ("worst case: %u tracks x %u boxes, %.1f ms per update\n",
      femo_tracker_get_n_tracks (tracker), FEMO_TRACKER_MAX_BOXES,
      busy / 1000.0 / (n_updates - warmup));
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *model_path = NULL;
  gdouble scale_factor = 1.1;
  gboolean dump = FALSE, worst_case = FALSE;
  GOptionEntry entries[] = {
    {"model", 'm', 0, G_OPTION_ARG_FILENAME, &model_path,
        "emotion model, for label-change figures", "PATH"},
    {"scale-factor", 's', 0, G_OPTION_ARG_DOUBLE, &scale_factor,
        "detector scale factor (default 1.1, femodetect's)", "S"},
    {"dump", 'd', 0, G_OPTION_ARG_NONE, &dump, "print every frame", NULL},
    {"worst-case", 0, 0, G_OPTION_ARG_NONE, &worst_case,
        "time the largest update the tracker's caps allow", NULL},
    {NULL}
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("VIDEO...");
  g_autoptr (FemoCascade) cascade = NULL;
  g_autoptr (FemoDetector) detector = NULL;
  g_autoptr (FemoModel) model = NULL;
  g_autoptr (FemoInfer) infer = NULL;

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (g_option_context_parse (ctx, &argc, &argv, &error) && worst_case) {
    run_worst_case ();
    return 0;
  }
  if (error != NULL || argc < 2) {
    g_printerr ("usage: bench-tracker [--model M] [--dump] VIDEO...%s%s\n",
        error ? ": " : "", error ? error->message : "");
    return 2;
  }
  cascade = femo_cascade_new_from_file (CASCADE, &error);
  if (cascade == NULL) {
    g_printerr ("%s\n", error->message);
    return 1;
  }
  detector = femo_detector_new (cascade, 1);
  if (model_path) {
    model = femo_model_load (model_path, &error);
    if (model == NULL) {
      g_printerr ("%s\n", error->message);
      return 1;
    }
    infer = femo_infer_new (model);
  }
  for (gint i = 1; i < argc; i++)
    run_video (argv[i], detector, infer, scale_factor, dump);
  return 0;
}
