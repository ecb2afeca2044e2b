/* gst-femo: the analysis of one video frame after another
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "femo-analyzer.h"
#include "femo-error.h"
#include "femo-face-crop.h"
#include "femo-model-cache.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Room for the faces of one frame, grown when a frame fills it. */
#define INITIAL_FACE_CAPACITY 64
#define MAX_FACE_CAPACITY (1 << 20)

struct _FemoAnalyzer
{
  FemoFaceDetector *detector;
  FemoModel *model;             /* from the process-wide cache */
  FemoInfer *infer;
  FemoTracker *tracker;

  /* The faces of the frame, [face_capacity] each. */
  gsize face_capacity;
  FemoRect *rects;
  gdouble *confidence;
  FemoLandmarks *landmarks;
  gboolean *has_landmarks;
  FemoTrackAssignment *assign;  /* track of each face */
  gsize *batch;                 /* faces the network gets */
  gsize *order;                 /* detections by strength (merge-overlaps) */
  FemoAnalyzedFace *faces;
  /* The tracked faces with landmarks at the last detection, for the
   * frames that carry them: n_last of them, [face_capacity] each. */
  guint32 *last_ids;
  FemoRect *last_rects;
  FemoLandmarks *last_landmarks;
  gsize n_last;

  /* Network input and output, [crop_capacity] and [probs_capacity]. */
  guint8 *crops;                /* [n][48*48] */
  gsize crop_capacity;
  gfloat *probs;                /* [n][n_labels] */
  gsize probs_capacity;

  FemoTrackBox *track_boxes;    /* predictions of carried frames */
  guint track_box_capacity;
  FemoTrackEvent *events;
  gsize n_events;
  gsize event_capacity;

  guint8 *gray;                 /* luma of RGB frames */
  gsize gray_size;
  guint8 *small;                /* downscaled luma for process-width */
  gsize small_size;
  guint8 *color;                /* BGR for a detector that reads colour */
  gsize color_size;
  guint8 *planes;               /* femo_image_to_bgr's scratch */
  gsize planes_size;

  gboolean tracks_started;      /* a detection ran since the last reset */
  guint frames_since_detect;
  guint64 last_time;            /* the tracker's time of the last frame */
};

/* Chosen with tests/bench/bench-crop-margin.c: 124 faces the Haar cascade
 * (sf 1.1, mn 5) finds in the 40 gray pictures of the shared media set and
 * 11 frames of its videos, cropped at each margin, against FER2013's
 * Training faces (checkpoint model of 62% accuracy):
 *   margin  -0.05  0      0.025  0.05   0.1    0.15   0.2    0.3
 *   mcorr   0.874  0.931  0.932  0.915  0.830  0.703  0.568  0.354
 *   corr    0.412  0.423  0.412  0.393  0.337  0.273  0.214  0.131
 *   maxp    0.662  0.677  0.683  0.697  0.704  0.708  0.679  0.613
 * mcorr: correlation of the mean crop with the mean FER2013 face (framing
 * of the average face); corr: mean correlation of each crop with it; maxp:
 * the model's mean top probability. The framing matches FER2013 best at
 * 0..0.025 (the cascade's box is about FER2013's face); the model is a
 * little more confident with more context, up to 0.15, but confidence is
 * not accuracy and changes with the model (FEMO_ANALYZER_DEFAULT_CROP_MARGIN).
 *
 * merge-overlaps (tests/bench/bench-merge-overlaps.c, femodetect's default
 * detection on the 40 shared photos, ground truth of the 6 dlib photos at
 * IoU 0.5): off, 133 boxes, recall 0.783, precision 0.783; 0.5 and 0.6
 * remove 6 boxes on 6 photos (nested or shifted second boxes on one face,
 * and false boxes around a true one), recall 0.783, precision 0.857; 0.7
 * removes 3 (precision 0.818), 0.8 and 0.9 one. 0.6 is the most that
 * keeps every true face and removes every duplicate seen.
 *
 * align (aligned crops) is off: on YuNet's faces of the same photos the
 * aligned crops frame the mean face as well as the best box crops (mcorr
 * 0.916 against 0.915) but the shipped model is less sure of them (maxp
 * 0.701 against 0.732-0.735), and raw label changes per track-second on
 * the shared clips went down on two (4.02 -> 3.72, 3.47 -> 3.34) and up on
 * the third (2.47 -> 2.92); README.md has the commands.
 *
 * The tracker's defaults (femo-tracker.c says how they were chosen): 15
 * frames = half a second at 30 fps, a time constant of half a second, a
 * margin of 0.15. */
void
femo_analyzer_settings_init (FemoAnalyzerSettings * s)
{
  s->detect = TRUE;
  s->scale_factor = FEMO_ANALYZER_DEFAULT_SCALE_FACTOR;
  s->min_neighbors = FEMO_ANALYZER_DEFAULT_MIN_NEIGHBORS;
  s->min_size = FEMO_ANALYZER_DEFAULT_MIN_SIZE;
  s->max_size = FEMO_ANALYZER_DEFAULT_MAX_SIZE;
  s->max_faces = FEMO_ANALYZER_DEFAULT_MAX_FACES;
  s->min_confidence = FEMO_ANALYZER_DEFAULT_MIN_CONFIDENCE;
  s->merge_overlaps = FEMO_ANALYZER_DEFAULT_MERGE_OVERLAPS;
  s->process_width = FEMO_ANALYZER_DEFAULT_PROCESS_WIDTH;
  s->detect_interval = FEMO_ANALYZER_DEFAULT_DETECT_INTERVAL;
  s->classify = TRUE;
  s->flip = FALSE;
  s->crop_margin = FEMO_ANALYZER_DEFAULT_CROP_MARGIN;
  s->align = FEMO_ANALYZER_DEFAULT_ALIGN;
  s->classify_interval = FEMO_ANALYZER_DEFAULT_CLASSIFY_INTERVAL;
  s->tracking = TRUE;
  s->track_timeout = FEMO_ANALYZER_DEFAULT_TRACK_TIMEOUT;
  s->smoothing = FEMO_ANALYZER_DEFAULT_SMOOTHING;
  s->label_hysteresis = FEMO_ANALYZER_DEFAULT_LABEL_HYSTERESIS;
}

const gchar *
femo_track_end_reason_to_string (FemoTrackEndReason reason)
{
  switch (reason) {
    case FEMO_TRACK_END_TIMEOUT:
      return "timeout";
    case FEMO_TRACK_END_CUT:
      return "cut";
    case FEMO_TRACK_END_EOS:
      return "eos";
    case FEMO_TRACK_END_STOPPED:
      return "stopped";
  }
  return "unknown";
}

/* Room for @n faces. */
static void
ensure_faces (FemoAnalyzer * a, gsize n)
{
  if (n <= a->face_capacity)
    return;
  a->face_capacity = MAX (n, a->face_capacity * 2);
  a->rects = g_renew (FemoRect, a->rects, a->face_capacity);
  a->confidence = g_renew (gdouble, a->confidence, a->face_capacity);
  a->landmarks = g_renew (FemoLandmarks, a->landmarks, a->face_capacity);
  a->has_landmarks = g_renew (gboolean, a->has_landmarks, a->face_capacity);
  a->assign = g_renew (FemoTrackAssignment, a->assign, a->face_capacity);
  a->batch = g_renew (gsize, a->batch, a->face_capacity);
  a->order = g_renew (gsize, a->order, a->face_capacity);
  a->faces = g_renew (FemoAnalyzedFace, a->faces, a->face_capacity);
  a->last_ids = g_renew (guint32, a->last_ids, a->face_capacity);
  a->last_rects = g_renew (FemoRect, a->last_rects, a->face_capacity);
  a->last_landmarks = g_renew (FemoLandmarks, a->last_landmarks,
      a->face_capacity);
}

FemoAnalyzer *
femo_analyzer_new (void)
{
  FemoAnalyzer *a = g_new0 (FemoAnalyzer, 1);
  FemoTrackerParams params;

  /* The settings are applied per frame; these are valid. */
  femo_tracker_params_init (&params);
  a->tracker = femo_tracker_new (&params, NULL);
  a->last_time = FEMO_ANALYZER_TIME_NONE;
  ensure_faces (a, INITIAL_FACE_CAPACITY);
  return a;
}

static void
clear_model (FemoAnalyzer * a)
{
  g_clear_pointer (&a->infer, femo_infer_free);
  if (a->model != NULL)
    femo_model_cache_release (a->model);
  a->model = NULL;
}

void
femo_analyzer_free (FemoAnalyzer * a)
{
  if (a == NULL)
    return;
  femo_face_detector_free (a->detector);
  clear_model (a);
  femo_tracker_free (a->tracker);
  g_free (a->rects);
  g_free (a->confidence);
  g_free (a->landmarks);
  g_free (a->has_landmarks);
  g_free (a->assign);
  g_free (a->batch);
  g_free (a->order);
  g_free (a->faces);
  g_free (a->last_ids);
  g_free (a->last_rects);
  g_free (a->last_landmarks);
  g_free (a->crops);
  g_free (a->probs);
  g_free (a->track_boxes);
  g_free (a->events);
  g_free (a->gray);
  g_free (a->small);
  g_free (a->color);
  g_free (a->planes);
  g_free (a);
}

gboolean
femo_analyzer_load_detector (FemoAnalyzer * a, FemoFaceDetectorKind kind,
    const gchar * path, guint n_threads, GError ** error)
{
  FemoFaceDetector *detector;

  detector = femo_face_detector_new_from_file (kind, path, n_threads, error);
  if (detector == NULL)
    return FALSE;
  femo_face_detector_free (a->detector);
  a->detector = detector;
  return TRUE;
}

void
femo_analyzer_set_n_threads (FemoAnalyzer * a, guint n_threads)
{
  if (a->detector != NULL)
    femo_face_detector_set_n_threads (a->detector, n_threads);
}

const FemoFaceDetector *
femo_analyzer_get_detector (const FemoAnalyzer * a)
{
  return a->detector;
}

gboolean
femo_analyzer_load_model (FemoAnalyzer * a, const gchar * path,
    GError ** error)
{
  FemoModel *model = femo_model_cache_acquire (path, error);

  if (model == NULL)
    return FALSE;
  clear_model (a);
  a->model = model;
  a->infer = femo_infer_new (model);
  return TRUE;
}

FemoModel *
femo_analyzer_get_model (const FemoAnalyzer * a)
{
  return a->model;
}

static FemoTrackEvent *
add_event (FemoAnalyzer * a, FemoTrackEventType type, guint32 track_id)
{
  FemoTrackEvent *e;

  if (a->n_events == a->event_capacity) {
    a->event_capacity = MAX (16, a->event_capacity * 2);
    a->events = g_renew (FemoTrackEvent, a->events, a->event_capacity);
  }
  e = &a->events[a->n_events++];
  memset (e, 0, sizeof (*e));
  e->type = type;
  e->track_id = track_id;
  return e;
}

/* An ENDED event per track femo_tracker_update or femo_tracker_finish just
 * ended; @reason for those not cut. */
static void
add_ended_events (FemoAnalyzer * a, FemoTrackEndReason reason)
{
  const FemoTrackRecord *records;
  guint i, n;

  records = femo_tracker_get_ended (a->tracker, &n);
  for (i = 0; i < n; i++) {
    FemoTrackEvent *e = add_event (a, FEMO_TRACK_EVENT_ENDED,
        records[i].track_id);

    e->reason = records[i].cut ? FEMO_TRACK_END_CUT : reason;
    e->record = records[i];
  }
}

static void
finish_tracks (FemoAnalyzer * a, FemoTrackEndReason reason)
{
  femo_tracker_finish (a->tracker);
  add_ended_events (a, reason);
  a->tracks_started = FALSE;
  a->frames_since_detect = 0;
}

void
femo_analyzer_reset (FemoAnalyzer * a)
{
  femo_tracker_reset (a->tracker);
  a->tracks_started = FALSE;
  a->frames_since_detect = 0;
  a->last_time = FEMO_ANALYZER_TIME_NONE;
}

static void
begin_result (FemoAnalyzer * a, FemoAnalyzerResult * result)
{
  memset (result, 0, sizeof (*result));
  a->n_events = 0;
}

static void
end_result (FemoAnalyzer * a, FemoAnalyzerResult * result, gsize n_faces)
{
  result->faces = a->faces;
  result->n_faces = n_faces;
  result->events = a->events;
  result->n_events = a->n_events;
}

void
femo_analyzer_finish (FemoAnalyzer * a, FemoTrackEndReason reason,
    FemoAnalyzerResult * result)
{
  begin_result (a, result);
  finish_tracks (a, reason);
  end_result (a, result, 0);
}

/* Gives the tracker the frame's settings; the timeout is in frames of the
 * stream and the tracker counts detections. */
static void
configure_tracker (FemoAnalyzer * a, const FemoAnalyzerSettings * s)
{
  FemoTrackerParams params = *femo_tracker_get_params (a->tracker);
  GError *error = NULL;

  params.timeout = (s->track_timeout + s->detect_interval - 1)
      / s->detect_interval;
  params.tau = s->smoothing;
  params.label_margin = s->label_hysteresis;
  if (a->model != NULL
      && femo_model_get_n_labels (a->model) != params.n_classes) {
    /* the tracks' averages have the old model's classes */
    finish_tracks (a, FEMO_TRACK_END_STOPPED);
    params.n_classes = femo_model_get_n_labels (a->model);
  }
  /* Settings in their documented ranges keep the parameters valid. */
  if (!femo_tracker_set_params (a->tracker, &params, &error)) {
    g_warning ("%s", error->message);
    g_error_free (error);
  }
}

/* The time the tracker works in: the frame's, or for a frame without one,
 * the previous one plus a frame. */
static guint64
tracker_time (FemoAnalyzer * a, const FemoAnalyzerFrame * frame)
{
  guint64 t = frame->time_ns;

  if (t == FEMO_ANALYZER_TIME_NONE)
    t = a->last_time != FEMO_ANALYZER_TIME_NONE ?
        a->last_time + frame->duration_ns : 0;
  a->last_time = t;
  return t;
}

/* Room for @size bytes in *@buffer (of *@buffer_size); FALSE when the
 * system has no memory for them: how big a frame is is the stream's
 * choice. */
static gboolean
grow_buffer (guint8 ** buffer, gsize * buffer_size, gsize size)
{
  if (size <= *buffer_size)
    return TRUE;
  g_free (*buffer);
  *buffer = g_try_malloc (size);
  *buffer_size = *buffer != NULL ? size : 0;
  return *buffer != NULL;
}

/* The frame's luma: as it is, or RGB converted once into a->gray. */
static gboolean
get_luma (FemoAnalyzer * a, const FemoAnalyzerFrame * frame,
    FemoImageView * view, gboolean * have, GError ** error)
{
  const FemoImageView *image = &frame->image;

  if (*have)
    return TRUE;
  if (frame->rgb == NULL) {
    *view = *image;
    *have = TRUE;
    return TRUE;
  }
  if (!grow_buffer (&a->gray, &a->gray_size,
          (gsize) image->width * image->height)) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_NO_MEMORY, "out of memory "
        "for the gray copy of a %dx%d RGB frame", image->width,
        image->height);
    return FALSE;
  }
  *have = TRUE;
  femo_rgb_to_gray (image->data, image->stride, frame->rgb, image->width,
      image->height, a->gray, image->width);
  view->data = a->gray;
  view->width = image->width;
  view->height = image->height;
  view->stride = image->width;
  view->pixel_stride = 1;
  return TRUE;
}

static gint
compare_index (gconstpointer pa, gconstpointer pb)
{
  gsize a = *(const gsize *) pa, b = *(const gsize *) pb;

  return a < b ? -1 : a > b;
}

/* Stronger first: more neighbours (the cascade's evidence), then larger. */
static gint
compare_strength (gconstpointer pa, gconstpointer pb, gpointer user_data)
{
  const FemoRect *rects = user_data;
  const FemoRect *a = &rects[*(const gsize *) pa];
  const FemoRect *b = &rects[*(const gsize *) pb];
  gint64 area_a = (gint64) a->width * a->height;
  gint64 area_b = (gint64) b->width * b->height;

  if (a->neighbors != b->neighbors)
    return a->neighbors > b->neighbors ? -1 : 1;
  if (area_a != area_b)
    return area_a > area_b ? -1 : 1;
  return *(const gsize *) pa < *(const gsize *) pb ? -1 : 1;
}

/* Drops each of the first @n detections whose overlap with a stronger one
 * kept covers more than @threshold of the smaller box: nested or shifted
 * boxes on one face. The rest keep the detector's order. */
static gsize
merge_overlaps (FemoAnalyzer * a, gsize n, gdouble threshold)
{
  gsize i, k, n_kept = 0;

  for (i = 0; i < n; i++)
    a->order[i] = i;
  g_qsort_with_data (a->order, n, sizeof (gsize), compare_strength, a->rects);
  /* the kept ones move to the front of a->order as they are found */
  for (i = 0; i < n; i++) {
    const FemoRect *r = &a->rects[a->order[i]];
    gint64 area = (gint64) r->width * r->height;
    gboolean keep = TRUE;

    for (k = 0; k < n_kept && keep; k++) {
      const FemoRect *q = &a->rects[a->order[k]];
      gint64 iw = MIN (r->x + r->width, q->x + q->width) - MAX (r->x, q->x);
      gint64 ih = MIN (r->y + r->height, q->y + q->height) - MAX (r->y, q->y);

      if (iw > 0 && ih > 0 && iw * ih > threshold * MIN (area,
              (gint64) q->width * q->height))
        keep = FALSE;
    }
    if (keep)
      a->order[n_kept++] = a->order[i];
  }
  if (n_kept == n)
    return n;
  /* the kept ones, back in the detector's order */
  qsort (a->order, n_kept, sizeof (gsize), compare_index);
  for (k = 0; k < n_kept; k++) {
    a->rects[k] = a->rects[a->order[k]];
    a->confidence[k] = a->confidence[a->order[k]];
  }
  return n_kept;
}

/* Runs the detector into a->rects. The detector keeps the largest boxes
 * when they do not fit, so a full array may have lost some: grow it and run
 * again (rare: the array keeps its size afterwards). */
static gsize
run_detector (FemoAnalyzer * a, const FemoFaceDetectorInput * input,
    const FemoFaceDetectParams * params, GError ** error)
{
  gboolean landmarks = femo_face_detector_has_landmarks (a->detector);
  gsize i, n;

  for (;;) {
    GError *local = NULL;

    n = femo_face_detector_detect (a->detector, input, params, a->rects,
        a->confidence, a->landmarks, a->face_capacity, &local);
    if (local != NULL) {
      g_propagate_error (error, local);
      return 0;
    }
    if (n < a->face_capacity || a->face_capacity >= MAX_FACE_CAPACITY
        || (params->scan.max_faces > 0
            && (gsize) params->scan.max_faces <= a->face_capacity))
      break;
    ensure_faces (a, a->face_capacity * 2);
  }
  for (i = 0; i < n; i++)
    a->has_landmarks[i] = landmarks;
  return n;
}

/* The frame in colour at @w x @h (its size, or smaller for
 * process-width), converted once: packed RGB is read as it is at full
 * size, anything else becomes BGR in a->color. */
static gboolean
get_color (FemoAnalyzer * a, const FemoAnalyzerFrame * frame, gint w,
    gint h, FemoColorView * color, GError ** error)
{
  const FemoImageView *image = &frame->image;
  const FemoRgbLayout bgr = FEMO_RGB_LAYOUT_BGR;
  gboolean full = w == image->width && h == image->height;
  gsize area = (gsize) w * h;

  color->width = w;
  color->height = h;
  if (frame->rgb != NULL && full) {
    color->data = image->data;
    color->stride = image->stride;
    color->layout = *frame->rgb;
    return TRUE;
  }
  if (!grow_buffer (&a->color, &a->color_size, area * 3)
      || (frame->rgb == NULL && !full
          && !grow_buffer (&a->planes, &a->planes_size, area * 3))) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_NO_MEMORY, "out of memory "
        "for the %dx%d colour copy of a %dx%d frame", w, h, image->width,
        image->height);
    return FALSE;
  }
  femo_image_to_bgr (image, frame->rgb, &frame->chroma, a->color, w, h,
      w * 3, a->planes);
  color->data = a->color;
  color->stride = w * 3;
  color->layout = bgr;
  return TRUE;
}

/* What the detector reads of the frame, at @w x @h: its luma (shrunk into
 * a->small when smaller), or its colour. */
static gboolean
get_detector_input (FemoAnalyzer * a, const FemoAnalyzerFrame * frame,
    gint w, gint h, FemoImageView * luma, gboolean * have_luma,
    FemoFaceDetectorInput * input, GError ** error)
{
  if (femo_face_detector_get_input_kind (a->detector) ==
      FEMO_FACE_DETECTOR_INPUT_COLOR)
    return get_color (a, frame, w, h, &input->color, error);

  if (!get_luma (a, frame, luma, have_luma, error))
    return FALSE;
  input->luma = *luma;
  if (w == luma->width && h == luma->height)
    return TRUE;
  if (!grow_buffer (&a->small, &a->small_size, (gsize) w * h)) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_NO_MEMORY, "out of memory "
        "for the %dx%d process-width copy of the frame", w, h);
    return FALSE;
  }
  femo_image_resample (luma, 0, 0, luma->width, luma->height, a->small, w,
      h);
  input->luma.data = a->small;
  input->luma.width = input->luma.stride = w;
  input->luma.height = h;
  input->luma.pixel_stride = 1;
  return TRUE;
}

/* Runs the detector on the frame, or on a copy downscaled to
 * process-width when it is wider, scaling sizes, boxes and landmarks to
 * and from it. @luma: the frame's luma once something needed it. */
static gsize
scan (FemoAnalyzer * a, const FemoAnalyzerFrame * frame,
    FemoImageView * luma, gboolean * have_luma,
    const FemoAnalyzerSettings * s, GError ** error)
{
  FemoFaceDetectParams params = FEMO_FACE_DETECT_PARAMS_INIT;
  FemoFaceDetectorInput input;
  gint width = frame->image.width, height = frame->image.height;
  gint w = width, h = height;
  gdouble sx = 1.0, sy = 1.0;
  gsize i, n;

  memset (&input, 0, sizeof (input));
  params.scan.scale_factor = s->scale_factor;
  params.scan.min_neighbors = s->min_neighbors;
  params.scan.min_width = params.scan.min_height = s->min_size;
  params.scan.max_width = params.scan.max_height = s->max_size;
  params.scan.max_faces = s->max_faces;
  params.min_confidence = s->min_confidence;

  if (s->process_width > 0 && (gint) s->process_width < width) {
    w = s->process_width;
    h = MAX (1, (gint) (((gint64) height * w + width / 2) / width));
    sx = (gdouble) width / w;
    sy = (gdouble) height / h;
    /* sizes shrink down, so that no face the full frame allows is lost */
    params.scan.min_width = (gint) (params.scan.min_width / sx);
    params.scan.min_height = (gint) (params.scan.min_height / sy);
    if (params.scan.max_width > 0)
      params.scan.max_width = MAX (1, (gint) ceil (params.scan.max_width
              / sx));
    if (params.scan.max_height > 0)
      params.scan.max_height = MAX (1, (gint) ceil (params.scan.max_height
              / sy));
  }

  if (!get_detector_input (a, frame, w, h, luma, have_luma, &input, error))
    return 0;
  n = run_detector (a, &input, &params, error);
  if (s->merge_overlaps > 0 && n > 1
      && femo_face_detector_get_kind (a->detector) ==
      FEMO_FACE_DETECTOR_CASCADE)
    n = merge_overlaps (a, n, s->merge_overlaps);

  if (w != width) {
    for (i = 0; i < n; i++) {
      FemoRect *r = &a->rects[i];
      gfloat *p = a->landmarks[i].points;
      gint x0 = MIN ((gint) lround (r->x * sx), width - 1);
      gint y0 = MIN ((gint) lround (r->y * sy), height - 1);
      gint x1 = MIN ((gint) lround ((r->x + r->width) * sx), width);
      gint y1 = MIN ((gint) lround ((r->y + r->height) * sy), height);
      gint k;

      r->x = x0;
      r->y = y0;
      r->width = MAX (1, x1 - x0);
      r->height = MAX (1, y1 - y0);
      for (k = 0; a->has_landmarks[i] && k < FEMO_N_LANDMARKS; k++) {
        p[2 * k] *= sx;
        p[2 * k + 1] *= sy;
      }
    }
  }
  return n;
}

/* The frame's pixel aspect ratio for crops: a square on the display is
 * 1/PAR times as wide as high in pixels, and the resampler's work is the
 * crop's area: caps may carry any PAR, real ones are within
 * FEMO_ANALYZER_MAX_PAR. */
static void
crop_par (const FemoAnalyzerFrame * frame, gint * par_n, gint * par_d)
{
  *par_n = frame->par_n;
  *par_d = frame->par_d;
  if (*par_n > 0 && *par_d > 0) {
    if (*par_n > (gint64) * par_d * FEMO_ANALYZER_MAX_PAR) {
      *par_n = FEMO_ANALYZER_MAX_PAR;
      *par_d = 1;
    } else if (*par_d > (gint64) * par_n * FEMO_ANALYZER_MAX_PAR) {
      *par_n = 1;
      *par_d = FEMO_ANALYZER_MAX_PAR;
    }
  }
}

/* Face @i's crop into @crop: turned and scaled at its eyes with @align
 * when it has landmarks, else its box with the crop margin. */
static void
crop_face (FemoAnalyzer * a, const FemoImageView * view, gsize i,
    const FemoAnalyzerSettings * s, gboolean align,
    const FemoAnalyzerFrame * frame, guint8 * crop)
{
  const FemoRect *r = &a->rects[i];
  gdouble x, y, w, h;
  gint par_n, par_d;

  crop_par (frame, &par_n, &par_d);
  if (align && a->has_landmarks[i]) {
    const gfloat *p = a->landmarks[i].points;

    if (femo_face_crop_aligned (view, p[2 * FEMO_LANDMARK_LEFT_EYE],
            p[2 * FEMO_LANDMARK_LEFT_EYE + 1], p[2 * FEMO_LANDMARK_RIGHT_EYE],
            p[2 * FEMO_LANDMARK_RIGHT_EYE + 1], par_n, par_d, crop,
            FEMO_NET_INPUT_SIZE))
      return;
  }
  femo_face_crop_region (r->x, r->y, r->width, r->height, s->crop_margin,
      par_n, par_d, &x, &y, &w, &h);
  femo_image_resample (view, x, y, w, h, crop, FEMO_NET_INPUT_SIZE,
      FEMO_NET_INPUT_SIZE);
}

/* Crops the first @n faces for the network (aligned with @align) or the
 * tracker's appearance check (box crops, which its thresholds were
 * measured on) into a->crops. */
static void
crop_faces (FemoAnalyzer * a, const FemoImageView * view, gsize n,
    const FemoAnalyzerSettings * s, gboolean align,
    const FemoAnalyzerFrame * frame)
{
  gsize i;

  if (n > a->crop_capacity) {
    a->crop_capacity = MAX (n, a->crop_capacity * 2);
    a->crops = g_renew (guint8, a->crops,
        a->crop_capacity * FEMO_NET_INPUT_PIXELS);
  }
  for (i = 0; i < n; i++) {
    const FemoRect *r = &a->rects[i];

    /* an empty box (a given one outside the frame) is not classified */
    if (r->width > 0 && r->height > 0)
      crop_face (a, view, i, s, align, frame,
          a->crops + i * FEMO_NET_INPUT_PIXELS);
  }
}

/* The network on the first @n crops, in one batch. */
static void
infer (FemoAnalyzer * a, gsize n, const FemoAnalyzerSettings * s,
    FemoAnalyzerResult * result)
{
  gsize need = n * femo_model_get_n_labels (a->model);

  if (need > a->probs_capacity) {
    a->probs_capacity = MAX (need, a->probs_capacity * 2);
    a->probs = g_renew (gfloat, a->probs, a->probs_capacity);
  }
  femo_infer_set_flip (a->infer, s->flip);
  femo_infer_run (a->infer, a->crops, n, a->probs, NULL);
  result->n_classified += n;
}

/* The most probable class, the first of equals. */
static gint
arg_max (const gfloat * p, guint n)
{
  guint k, best = 0;

  for (k = 1; k < n; k++)
    if (p[k] > p[best])
      best = k;
  return best;
}

/* Puts face @i's crop at place @n of the network's batch (@n <= @i: the
 * batch keeps the faces' order). */
static void
add_to_batch (FemoAnalyzer * a, gsize i, gsize n)
{
  if (n != i)
    memcpy (a->crops + n * FEMO_NET_INPUT_PIXELS,
        a->crops + i * FEMO_NET_INPUT_PIXELS, FEMO_NET_INPUT_PIXELS);
  a->batch[n] = i;
}

/* Every face with a box shows this frame's output (not tracked). */
static void
classify_all (FemoAnalyzer * a, const FemoImageView * view, gsize n_faces,
    const FemoAnalyzerSettings * s, const FemoAnalyzerFrame * frame,
    FemoAnalyzerResult * result)
{
  guint n_labels = femo_model_get_n_labels (a->model);
  gsize i, n = 0;

  crop_faces (a, view, n_faces, s, s->align, frame);
  for (i = 0; i < n_faces; i++)
    if (a->rects[i].width > 0 && a->rects[i].height > 0)
      add_to_batch (a, i, n++);
  if (n > 0)
    infer (a, n, s, result);
  for (i = 0; i < n; i++) {
    FemoAnalyzedFace *face = &a->faces[a->batch[i]];

    face->probs = a->probs + i * n_labels;
    face->label = arg_max (face->probs, n_labels);
  }
}

/* Tracked faces show their track's smoothed emotion and shown label. */
static void
attach_track_emotions (FemoAnalyzer * a, gsize n)
{
  gsize i;

  for (i = 0; i < n; i++) {
    FemoLabelUpdate shown;

    if (femo_tracker_get_label (a->tracker, a->assign[i].track_id, &shown)
        && shown.label >= 0) {
      a->faces[i].label = shown.label;
      a->faces[i].probs = shown.probs;
    }
  }
}

/* Tracked faces just detected: the network runs, in one batch, on those
 * whose track is due (classify-interval, or a grown box), which also get
 * this frame's output as their raw emotion; then every face gets its
 * track's smoothed emotion. A face the tracker left out (track id 0, beyond
 * FEMO_TRACKER_MAX_BOXES) is classified every time, as without tracking,
 * and shows that output. The crops are those made for the tracker, but
 * aligned ones with align (a face's slot is free once it is passed). */
static void
classify_tracks (FemoAnalyzer * a, const FemoImageView * view,
    gsize n_faces, guint64 time, const FemoAnalyzerSettings * s,
    const FemoAnalyzerFrame * frame, FemoAnalyzerResult * result)
{
  guint n_labels = femo_model_get_n_labels (a->model);
  gsize i, n = 0;

  /* Move the crops that go to the network to the front, in order. */
  for (i = 0; i < n_faces; i++) {
    if (a->assign[i].track_id != 0
        && !femo_tracker_needs_classify (a->tracker, a->assign[i].track_id,
            s->classify_interval))
      continue;
    if (s->align && a->has_landmarks[i]) {
      crop_face (a, view, i, s, TRUE, frame,
          a->crops + n * FEMO_NET_INPUT_PIXELS);
      a->batch[n++] = i;
    } else {
      add_to_batch (a, i, n++);
    }
  }
  if (n > 0)
    infer (a, n, s, result);

  for (i = 0; i < n; i++) {
    FemoAnalyzedFace *face = &a->faces[a->batch[i]];
    guint32 id = a->assign[a->batch[i]].track_id;
    const gfloat *p = a->probs + i * n_labels;
    FemoLabelUpdate update;

    if (id == 0) {
      face->probs = p;
      face->label = arg_max (p, n_labels);
      continue;
    }
    face->raw_probs = p;
    face->raw_label = arg_max (p, n_labels);
    if (femo_tracker_set_probs (a->tracker, id, time, p, &update)
        && update.changed && update.previous >= 0) {
      FemoTrackEvent *e = add_event (a, FEMO_TRACK_EVENT_LABEL_CHANGED, id);

      e->old_label = update.previous;
      e->new_label = update.label;
    }
  }
  attach_track_emotions (a, n_faces);
}

/* Tracks the faces just detected: crops them (the appearance check needs
 * them; the network reuses them) and matches them to the tracks. */
static void
update_tracks (FemoAnalyzer * a, const FemoImageView * view, gsize n,
    guint64 time, const FemoAnalyzerSettings * s,
    const FemoAnalyzerFrame * frame)
{
  FemoFrameSignature signature;
  gsize i;

  crop_faces (a, view, n, s, FALSE, frame);
  femo_tracker_frame_signature (view, &signature);
  if (femo_tracker_update (a->tracker, time, &signature, a->rects, n,
          a->crops, a->assign) > 0)
    add_ended_events (a, FEMO_TRACK_END_TIMEOUT);
  /* what the frames until the next detection carry */
  a->n_last = 0;
  for (i = 0; i < n; i++) {
    if (a->assign[i].track_id == 0 || !a->has_landmarks[i])
      continue;
    a->last_ids[a->n_last] = a->assign[i].track_id;
    a->last_rects[a->n_last] = a->rects[i];
    a->last_landmarks[a->n_last++] = a->landmarks[i];
  }
  a->tracks_started = TRUE;
  a->frames_since_detect = 0;
}

/* The landmarks of @b's track at the last detection, moved and scaled as
 * its box moved from there to @b; FALSE when it had none. */
static gboolean
carry_landmarks (const FemoAnalyzer * a, const FemoTrackBox * b,
    FemoLandmarks * landmarks)
{
  gsize i;
  gint k;

  for (i = 0; i < a->n_last; i++) {
    const FemoRect *r = &a->last_rects[i];
    const gfloat *p = a->last_landmarks[i].points;
    gdouble kx = b->width / r->width, ky = b->height / r->height;

    if (a->last_ids[i] != b->track_id)
      continue;
    for (k = 0; k < FEMO_N_LANDMARKS; k++) {
      landmarks->points[2 * k] = b->x + (p[2 * k] - r->x) * kx;
      landmarks->points[2 * k + 1] = b->y + (p[2 * k + 1] - r->y) * ky;
    }
    return TRUE;
  }
  return FALSE;
}

/* Frames without detection: the faces are the tracks seen at the last
 * detection, at their boxes predicted for @time, clipped to the frame,
 * with their landmarks carried along. */
static gsize
carry_tracks (FemoAnalyzer * a, guint64 time, gint width, gint height)
{
  guint i, n, n_tracks = femo_tracker_get_n_tracks (a->tracker);
  gsize n_faces = 0;

  if (n_tracks > a->track_box_capacity) {
    a->track_box_capacity = MAX (n_tracks, a->track_box_capacity * 2);
    a->track_boxes = g_renew (FemoTrackBox, a->track_boxes,
        a->track_box_capacity);
  }
  n = femo_tracker_predict (a->tracker, time, a->track_boxes,
      a->track_box_capacity);
  ensure_faces (a, n);
  for (i = 0; i < n; i++) {
    const FemoTrackBox *b = &a->track_boxes[i];
    gint x0 = CLAMP (lround (b->x), 0, width);
    gint y0 = CLAMP (lround (b->y), 0, height);
    gint x1 = CLAMP (lround (b->x + b->width), 0, width);
    gint y1 = CLAMP (lround (b->y + b->height), 0, height);
    FemoRect *r = &a->rects[n_faces];

    if (b->misses > 0 || x1 <= x0 || y1 <= y0)
      continue;
    r->x = x0;
    r->y = y0;
    r->width = x1 - x0;
    r->height = y1 - y0;
    r->neighbors = 0;
    a->has_landmarks[n_faces] = carry_landmarks (a, b,
        &a->landmarks[n_faces]);
    a->assign[n_faces].track_id = b->track_id;
    a->assign[n_faces].is_new = FALSE;
    n_faces++;
  }
  return n_faces;
}

/* The faces the caller found (detection off), clipped to the frame: an
 * upstream box may be anywhere and of any size, and a crop costs its box's
 * area. A box with nothing inside the frame keeps its place (the caller
 * pairs faces with its boxes by index) with an empty box and no emotion. */
static gsize
take_given_faces (FemoAnalyzer * a, const FemoAnalyzerFrame * frame)
{
  gsize i;

  ensure_faces (a, frame->n_faces);
  for (i = 0; i < frame->n_faces; i++) {
    const FemoRect *given = &frame->faces[i];
    FemoRect *r = &a->rects[i];
    gint64 x0 = CLAMP (given->x, 0, frame->image.width);
    gint64 y0 = CLAMP (given->y, 0, frame->image.height);
    gint64 x1 = CLAMP ((gint64) given->x + given->width, x0,
        frame->image.width);
    gint64 y1 = CLAMP ((gint64) given->y + given->height, y0,
        frame->image.height);

    r->x = x0;
    r->y = y0;
    r->width = x1 - x0;
    r->height = y1 - y0;
    r->neighbors = given->neighbors;
    a->has_landmarks[i] = FALSE;
  }
  return frame->n_faces;
}

/* Fills a->faces from the boxes, before the emotions are known. */
static void
describe_faces (FemoAnalyzer * a, gsize n, gboolean detected,
    gboolean tracked)
{
  gsize i;

  for (i = 0; i < n; i++) {
    FemoAnalyzedFace *face = &a->faces[i];

    face->box = a->rects[i];
    face->detected = detected;
    face->confidence = detected ? a->confidence[i] : 0.0;
    face->has_landmarks = a->has_landmarks[i];
    if (face->has_landmarks)
      face->landmarks = a->landmarks[i];
    face->track_id = tracked ? a->assign[i].track_id : 0;
    face->first_ns = face->last_ns = FEMO_ANALYZER_TIME_NONE;
    if (face->track_id != 0)
      femo_tracker_get_times (a->tracker, face->track_id, &face->first_ns,
          &face->last_ns);
    face->label = -1;
    face->probs = NULL;
    face->raw_label = -1;
    face->raw_probs = NULL;
  }
}

gboolean
femo_analyzer_process (FemoAnalyzer * a, const FemoAnalyzerSettings * s,
    const FemoAnalyzerFrame * frame, FemoAnalyzerResult * result,
    GError ** error)
{
  gboolean tracking, classify, run_detect, have_luma = FALSE;
  GError *local = NULL;
  FemoImageView luma;
  guint64 time = 0;
  gsize n = 0;

  g_return_val_if_fail (a != NULL && s != NULL && frame != NULL, FALSE);
  g_return_val_if_fail (result != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  begin_result (a, result);
  tracking = s->tracking && s->detect && a->detector != NULL;
  if (!tracking && a->tracks_started)
    finish_tracks (a, FEMO_TRACK_END_STOPPED);
  /* Without a model (it failed to load while running) faces still go. */
  classify = s->classify && a->infer != NULL;
  if ((!s->detect && !s->classify) || (frame->late && !tracking))
    goto done;

  if (tracking) {
    configure_tracker (a, s);
    time = tracker_time (a, frame);
    /* Late (QoS): no time for detection; the tracks carry the faces. */
    run_detect = !a->tracks_started || (!frame->late
        && a->frames_since_detect + 1 >= s->detect_interval);
  } else {
    run_detect = s->detect && a->detector != NULL;
  }

  if (run_detect) {
    n = scan (a, frame, &luma, &have_luma, s, &local);
    if (local != NULL)
      goto failed;
    if (tracking) {
      if (!get_luma (a, frame, &luma, &have_luma, &local))
        goto failed;
      update_tracks (a, &luma, n, time, s, frame);
    }
  } else if (tracking) {
    a->frames_since_detect++;
    n = carry_tracks (a, time, frame->image.width, frame->image.height);
  } else if (!s->detect) {
    n = take_given_faces (a, frame);
  }
  describe_faces (a, n, run_detect, tracking);

  if (classify && n > 0) {
    if (tracking && run_detect) {
      classify_tracks (a, &luma, n, time, s, frame, result);
    } else if (tracking) {
      attach_track_emotions (a, n);
    } else {
      if (!get_luma (a, frame, &luma, &have_luma, &local))
        goto failed;
      classify_all (a, &luma, n, s, frame, result);
    }
  }
  result->analysed = TRUE;
  result->detected = run_detect;
  result->tracked = tracking;

done:
  end_result (a, result, n);
  return TRUE;

failed:
  /* the frame is not analysed; what happened before stays reported */
  memset (result, 0, sizeof (*result));
  end_result (a, result, 0);
  g_propagate_error (error, local);
  return FALSE;
}
