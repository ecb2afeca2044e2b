/* gst-femo: face tracks over time
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One call per frame where detection ran (femo_tracker_update), predicted
 * boxes for the frames in between (femo_tracker_predict), and one call per
 * classification (femo_tracker_set_probs). Everything is sized on first use
 * and regrown when a frame brings more faces than any before, up to the
 * caps of femo-tracker.h, so steady state allocates nothing.
 *
 * Defaults (FEMO_TRACKER_PARAMS_INIT) come from bench-tracker on the shared
 * clips (Haar default cascade at femodetect's defaults, every frame):
 *  - IoU of the main face between consecutive frames inside a shot: min 0.84
 *    (1280x720 montage), 0.90 (640x480 clip); 0.3 leaves room for fast
 *    moves. IoU cannot see the montage's cuts (up to 0.83 across them, the
 *    speaker sits where he sat): the frame signature does.
 *  - appearance of a face against its own track (the better of the slow and
 *    the last descriptor): min 0.81 on the montage, 0.66 on the hamilton
 *    clip (moving camera, turning heads); other faces landing near an old
 *    box there score 0.13-0.38, so 0.5. Two frontal faces framed alike can
 *    score 0.6 (astronaut against Grace Hopper): this coarse check only
 *    tells clearly different crops apart.
 *  - frame signature distance between consecutive frames: at most 0.025
 *    inside the montage's shots and 0.15 in the hamilton clip's camera
 *    moves; 0.43-1.0 at the montage's cuts to another room and 0.35-0.39 at
 *    the hamilton clip's cuts (frames 20, 82, 211), so 0.3. Two montage cuts
 *    (441, 627) join sentences recorded in the same room and framing: 0.02,
 *    like any two frames of a shot, so the speaker keeps his id there.
 *  - label hysteresis: see bench-tracker --model for label changes per
 *    track-second, raw argmax against the shown label.
 */
#include "femo-tracker.h"
#include "femo-error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Appearance descriptor: the crop averaged over 4x4 blocks. Coarse on
 * purpose: detection boxes jitter by a few pixels from frame to frame, and
 * at 12x12 that is under one cell. */
#define DESC_SIDE 12
#define DESC_BLOCK (FEMO_TRACKER_CROP_SIZE / DESC_SIDE)
#define DESC_LEN (DESC_SIDE * DESC_SIDE)
/* The descriptor follows slow changes of a face (turning, lighting) with
 * this time constant, in seconds, but not a sudden swap of faces. */
#define APPEARANCE_TAU 1.0
/* Velocities are averaged over about this long (seconds), so they are not
 * just the detector's jitter. */
#define VELOCITY_TAU 0.1
/* A prediction coasts on the velocity with this decay (seconds): a track
 * lost for long stays near where it was last seen instead of flying off. */
#define COAST_TAU 0.5

typedef struct
{
  guint32 id;
  guint64 first_ns;
  guint64 last_ns;
  /* the last detection: centre and size in pixels, and their rates of
   * change in pixels per second */
  gdouble cx, cy, w, h;
  gdouble vx, vy, vw, vh;
  guint misses;
  guint n_detections;
  gboolean matched;
  /* appearance: a slow average, which ignores a frame of blur or an odd
   * crop, and the last detection's, which follows a head that turns */
  gboolean has_desc;
  gfloat desc[DESC_LEN];
  gfloat last_desc[DESC_LEN];

  guint n_classified;
  guint since_classify;
  gdouble classified_side;
  guint64 probs_ns;
  gint label;
  gint candidate;
  guint candidate_count;
  guint n_label_changes;
  gfloat probs[FEMO_TRACKER_MAX_CLASSES];
  gdouble mass[FEMO_TRACKER_MAX_CLASSES];
} Track;

/* A candidate match, or when update makes room for new tracks, a track
 * that could end (@score its misses): either way the highest score comes
 * first, then the older track, then the earlier box. */
typedef struct
{
  gdouble score;
  guint track;
  guint box;
} Pair;

/* what update works out about each detection it tracks */
typedef struct
{
  guint index;                  /* in the caller's boxes */
  gboolean has_desc;
  gboolean used;
  gfloat desc[DESC_LEN];
} BoxScratch;

struct _FemoTracker
{
  FemoTrackerParams params;
  guint32 next_id;
  guint64 last_ns;

  /* capacities are gsize and grown by grow(); FEMO_TRACKER_MAX_TRACKS
   * and FEMO_TRACKER_MAX_BOXES bound what they reach */
  Track *tracks;
  guint n_tracks;
  gsize tracks_capacity;

  FemoTrackRecord *ended;
  guint n_ended;
  gsize ended_capacity;

  Pair *pairs;
  gsize pairs_capacity;
  BoxScratch *boxes;
  gsize boxes_capacity;

  gboolean has_signature;
  FemoFrameSignature signature;
};

void
femo_tracker_params_init (FemoTrackerParams * params)
{
  const FemoTrackerParams init = FEMO_TRACKER_PARAMS_INIT;

  *params = init;
}

static gboolean
check_params (const FemoTrackerParams * params, GError ** error)
{
  if (!(params->iou_threshold > 0.0 && params->iou_threshold <= 1.0)
      || !(params->appearance_threshold >= -1.0
          && params->appearance_threshold <= 1.0)
      || !(params->cut_threshold >= 0.0 && params->cut_threshold <= 1.0)
      || !(params->tau >= 0.0 && isfinite (params->tau))
      || !(params->label_margin >= 0.0 && params->label_margin <= 1.0)
      || !(params->reclassify_growth >= 0.0
          && isfinite (params->reclassify_growth))
      || params->n_classes < 1 || params->n_classes > FEMO_TRACKER_MAX_CLASSES) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_ARGUMENT,
        "tracker parameters out of range (iou %g, appearance %g, cut %g, "
        "tau %g, margin %g, growth %g, classes %u)", params->iou_threshold,
        params->appearance_threshold, params->cut_threshold, params->tau,
        params->label_margin, params->reclassify_growth, params->n_classes);
    return FALSE;
  }
  return TRUE;
}

FemoTracker *
femo_tracker_new (const FemoTrackerParams * params, GError ** error)
{
  FemoTracker *tracker;

  g_return_val_if_fail (params != NULL, NULL);

  if (!check_params (params, error))
    return NULL;

  tracker = g_new0 (FemoTracker, 1);
  tracker->params = *params;
  tracker->next_id = 1;
  return tracker;
}

void
femo_tracker_free (FemoTracker * tracker)
{
  if (tracker == NULL)
    return;
  g_free (tracker->tracks);
  g_free (tracker->ended);
  g_free (tracker->pairs);
  g_free (tracker->boxes);
  g_free (tracker);
}

gboolean
femo_tracker_set_params (FemoTracker * tracker,
    const FemoTrackerParams * params, GError ** error)
{
  g_return_val_if_fail (params != NULL, FALSE);

  if (!check_params (params, error))
    return FALSE;
  tracker->params = *params;
  return TRUE;
}

const FemoTrackerParams *
femo_tracker_get_params (const FemoTracker * tracker)
{
  return &tracker->params;
}

void
femo_tracker_reset (FemoTracker * tracker)
{
  tracker->n_tracks = 0;
  tracker->n_ended = 0;
  tracker->has_signature = FALSE;
  tracker->last_ns = 0;
}

/* ------------------------------------------------------------------ */
/* Frame signatures and appearance                                      */

void
femo_tracker_frame_signature (const FemoImageView * frame,
    FemoFrameSignature * signature)
{
  const gint t = FEMO_TRACKER_THUMB_SIZE;
  /* about 160x120 samples whatever the frame size: enough for a histogram
   * and an 8x8 thumbnail, cheap at 4K */
  const gint step_x = MAX (1, frame->width / 160);
  const gint step_y = MAX (1, frame->height / 120);
  guint counts[FEMO_TRACKER_THUMB_SIZE * FEMO_TRACKER_THUMB_SIZE] = { 0 };
  guint n = 0;

  memset (signature, 0, sizeof (*signature));
  for (gint y = 0; y < frame->height; y += step_y) {
    const guint8 *row = frame->data + (gsize) y * frame->stride;
    gint ty = y * t / frame->height;

    for (gint x = 0; x < frame->width; x += step_x) {
      guint8 v = row[(gsize) x * frame->pixel_stride];
      gint cell = ty * t + x * t / frame->width;

      signature->hist[v * FEMO_TRACKER_HIST_BINS / 256] += 1.0f;
      signature->thumb[cell] += v;
      counts[cell]++;
      n++;
    }
  }
  for (gint i = 0; i < FEMO_TRACKER_HIST_BINS && n > 0; i++)
    signature->hist[i] /= n;
  for (gint i = 0; i < t * t; i++)
    if (counts[i] > 0)
      signature->thumb[i] /= counts[i];
}

gdouble
femo_tracker_signature_distance (const FemoFrameSignature * a,
    const FemoFrameSignature * b)
{
  const gint n_thumb = FEMO_TRACKER_THUMB_SIZE * FEMO_TRACKER_THUMB_SIZE;
  gdouble hist = 0.0, thumb = 0.0;

  for (gint i = 0; i < FEMO_TRACKER_HIST_BINS; i++)
    hist += fabs ((gdouble) a->hist[i] - b->hist[i]);
  for (gint i = 0; i < n_thumb; i++)
    thumb += fabs ((gdouble) a->thumb[i] - b->thumb[i]);
  /* A cut changes the histogram (new lighting) or, between similar rooms,
   * at least the layout; 64 grey levels of mean change is "nothing alike" */
  return MAX (hist / 2.0, MIN (1.0, thumb / n_thumb / 64.0));
}

/* Zero-mean, unit-norm block means of a crop; FALSE for a flat crop, which
 * says nothing about who is in it. */
static gboolean
compute_descriptor (const guint8 * crop, gfloat * desc)
{
  gdouble mean = 0.0, norm = 0.0;

  for (gint by = 0; by < DESC_SIDE; by++)
    for (gint bx = 0; bx < DESC_SIDE; bx++) {
      guint sum = 0;

      for (gint y = 0; y < DESC_BLOCK; y++) {
        const guint8 *p = crop + (by * DESC_BLOCK + y) *
            FEMO_TRACKER_CROP_SIZE + bx * DESC_BLOCK;
        for (gint x = 0; x < DESC_BLOCK; x++)
          sum += p[x];
      }
      desc[by * DESC_SIDE + bx] = sum;
      mean += sum;
    }
  mean /= DESC_LEN;
  for (gint i = 0; i < DESC_LEN; i++) {
    desc[i] -= mean;
    norm += (gdouble) desc[i] * desc[i];
  }
  if (norm < 1e-6 * DESC_BLOCK * DESC_BLOCK * DESC_LEN) {
    memset (desc, 0, sizeof (gfloat) * DESC_LEN);
    return FALSE;
  }
  norm = 1.0 / sqrt (norm);
  for (gint i = 0; i < DESC_LEN; i++)
    desc[i] *= norm;
  return TRUE;
}

static gdouble
descriptor_dot (const gfloat * a, const gfloat * b)
{
  gdouble dot = 0.0;

  for (gint i = 0; i < DESC_LEN; i++)
    dot += (gdouble) a[i] * b[i];
  return dot;
}

gdouble
femo_tracker_appearance_similarity (const guint8 * crop_a,
    const guint8 * crop_b)
{
  gfloat a[DESC_LEN], b[DESC_LEN];

  if (!compute_descriptor (crop_a, a) || !compute_descriptor (crop_b, b))
    return 0.0;
  return descriptor_dot (a, b);
}

/* ------------------------------------------------------------------ */
/* Tracks                                                               */

/* Room for @needed elements of @elem bytes; g_realloc_n() aborts rather
 * than wrap if capacity * elem does not fit in a gsize. */
static gpointer
grow (gpointer array, gsize * capacity, gsize needed, gsize elem)
{
  if (needed <= *capacity)
    return array;
  *capacity = MAX (needed, MAX (8, *capacity <= G_MAXSIZE / 2 ?
          *capacity * 2 : G_MAXSIZE));
  return g_realloc_n (array, *capacity, elem);
}

static Track *
find_track (const FemoTracker * tracker, guint32 id)
{
  for (guint i = 0; i < tracker->n_tracks; i++)
    if (tracker->tracks[i].id == id)
      return &tracker->tracks[i];
  return NULL;
}

static gdouble
seconds_between (guint64 from_ns, guint64 to_ns)
{
  return to_ns > from_ns ? (to_ns - from_ns) / 1e9 : 0.0;
}

/* The box at @timestamp_ns: moving on at the last velocity, slowing down
 * with COAST_TAU (the integral of v e^(-t/COAST_TAU)). */
static void
predict_box (const Track * t, guint64 timestamp_ns, gdouble * cx,
    gdouble * cy, gdouble * w, gdouble * h)
{
  gdouble dt = seconds_between (t->last_ns, timestamp_ns);
  gdouble k = COAST_TAU * (1.0 - exp (-dt / COAST_TAU));

  *cx = t->cx + t->vx * k;
  *cy = t->cy + t->vy * k;
  /* never let a shrinking box vanish */
  *w = MAX (t->w * 0.5, t->w + t->vw * k);
  *h = MAX (t->h * 0.5, t->h + t->vh * k);
}

static gdouble
iou (gdouble ax, gdouble ay, gdouble aw, gdouble ah, const FemoRect * b)
{
  gdouble x0 = MAX (ax - aw / 2, b->x), y0 = MAX (ay - ah / 2, b->y);
  gdouble x1 = MIN (ax + aw / 2, b->x + b->width);
  gdouble y1 = MIN (ay + ah / 2, b->y + b->height);
  gdouble inter, uni;

  if (x1 <= x0 || y1 <= y0)
    return 0.0;
  inter = (x1 - x0) * (y1 - y0);
  uni = aw * ah + (gdouble) b->width * b->height - inter;
  return uni > 0 ? inter / uni : 0.0;
}

static gdouble
appearance (const Track * t, const gfloat * desc)
{
  return MAX (descriptor_dot (t->desc, desc),
      descriptor_dot (t->last_desc, desc));
}

static gint
compare_pairs (gconstpointer pa, gconstpointer pb)
{
  const Pair *a = pa, *b = pb;

  if (a->score != b->score)
    return a->score > b->score ? -1 : 1;
  /* ties: older track, then earlier box, so runs are reproducible */
  if (a->track != b->track)
    return a->track < b->track ? -1 : 1;
  return a->box < b->box ? -1 : (a->box > b->box);
}

static void
record_end (FemoTracker * tracker, const Track * t, gboolean cut)
{
  const guint k = tracker->params.n_classes;
  FemoTrackRecord *r;
  gdouble total = 0.0;
  gint best = -1;

  tracker->ended = grow (tracker->ended, &tracker->ended_capacity,
      tracker->n_ended + 1, sizeof (FemoTrackRecord));
  r = &tracker->ended[tracker->n_ended++];
  r->track_id = t->id;
  r->first_ns = t->first_ns;
  r->last_ns = t->last_ns;
  r->duration_ns = t->last_ns - t->first_ns;
  r->n_detections = t->n_detections;
  r->n_classified = t->n_classified;
  r->n_label_changes = t->n_label_changes;
  r->cut = cut;
  for (guint c = 0; c < k && t->n_classified > 0; c++) {
    total += t->mass[c];
    if (best < 0 || t->mass[c] > t->mass[best])
      best = c;
  }
  r->dominant_label = best;
  r->dominant_share = (best >= 0 && total > 0) ? t->mass[best] / total : 0.0;
}

static void
start_track (FemoTracker * tracker, guint64 timestamp_ns, const FemoRect * b,
    const gfloat * desc, gboolean has_desc)
{
  Track *t;

  tracker->tracks = grow (tracker->tracks, &tracker->tracks_capacity,
      tracker->n_tracks + 1, sizeof (Track));
  t = &tracker->tracks[tracker->n_tracks++];
  memset (t, 0, sizeof (*t));
  t->id = tracker->next_id++;
  /* a 32-bit id space outlives any stream (136 years of 1 new face/s);
   * skip 0, which means "no track" */
  if (tracker->next_id == 0)
    tracker->next_id = 1;
  t->first_ns = t->last_ns = timestamp_ns;
  t->cx = b->x + b->width / 2.0;
  t->cy = b->y + b->height / 2.0;
  t->w = b->width;
  t->h = b->height;
  t->n_detections = 1;
  t->matched = TRUE;
  t->has_desc = has_desc;
  if (has_desc) {
    memcpy (t->desc, desc, sizeof (t->desc));
    memcpy (t->last_desc, desc, sizeof (t->last_desc));
  }
  t->label = -1;
  t->candidate = -1;
}

static void
continue_track (Track * t, guint64 timestamp_ns, const FemoRect * b,
    const gfloat * desc, gboolean has_desc)
{
  gdouble dt = seconds_between (t->last_ns, timestamp_ns);
  gdouble cx = b->x + b->width / 2.0, cy = b->y + b->height / 2.0;

  if (dt > 0) {
    /* time-based gains, so the filter is the same at any frame rate */
    gdouble a = 1.0 - exp (-dt / VELOCITY_TAU);

    t->vx += a * ((cx - t->cx) / dt - t->vx);
    t->vy += a * ((cy - t->cy) / dt - t->vy);
    t->vw += a * ((b->width - t->w) / dt - t->vw);
    t->vh += a * ((b->height - t->h) / dt - t->vh);
  }
  t->cx = cx;
  t->cy = cy;
  t->w = b->width;
  t->h = b->height;
  t->last_ns = timestamp_ns;
  t->misses = 0;
  t->n_detections++;
  t->since_classify++;
  t->matched = TRUE;

  if (has_desc && !t->has_desc) {
    memcpy (t->desc, desc, sizeof (t->desc));
    t->has_desc = TRUE;
  } else if (has_desc) {
    gdouble a = 1.0 - exp (-dt / APPEARANCE_TAU), norm = 0.0;

    for (gint i = 0; i < DESC_LEN; i++) {
      t->desc[i] += a * (desc[i] - t->desc[i]);
      norm += (gdouble) t->desc[i] * t->desc[i];
    }
    /* the blend of two unit vectors is shorter; keep it a correlation */
    if (norm > 0) {
      norm = 1.0 / sqrt (norm);
      for (gint i = 0; i < DESC_LEN; i++)
        t->desc[i] *= norm;
    }
  }
  if (has_desc)
    memcpy (t->last_desc, desc, sizeof (t->last_desc));
}

static void
end_all (FemoTracker * tracker, gboolean cut)
{
  for (guint i = 0; i < tracker->n_tracks; i++)
    record_end (tracker, &tracker->tracks[i], cut);
  tracker->n_tracks = 0;
}

/* Which of boxes @a and @b an update keeps when it cannot track every box:
 * the larger, then the earlier. */
static gboolean
box_before (const FemoRect * boxes, guint a, guint b)
{
  gdouble area_a = (gdouble) boxes[a].width * boxes[a].height;
  gdouble area_b = (gdouble) boxes[b].width * boxes[b].height;

  return area_a != area_b ? area_a > area_b : a < b;
}

/* Moves heap[k] down the heap of @n boxes whose root is the one that
 * box_before() puts last. */
static void
sift_down (BoxScratch * heap, guint n, guint k, const FemoRect * boxes)
{
  for (;;) {
    guint last = k, tmp;

    for (guint c = 2 * k + 1; c <= 2 * k + 2 && c < n; c++)
      if (box_before (boxes, heap[last].index, heap[c].index))
        last = c;
    if (last == k)
      return;
    tmp = heap[k].index;
    heap[k].index = heap[last].index;
    heap[last].index = tmp;
    k = last;
  }
}

static gint
compare_index (gconstpointer pa, gconstpointer pb)
{
  const BoxScratch *a = pa, *b = pb;

  return a->index < b->index ? -1 : (a->index > b->index);
}

/* Chooses the boxes an update tracks into tracker->boxes[].index, in the
 * caller's order, and returns how many: all of them, or the
 * FEMO_TRACKER_MAX_BOXES largest (the earlier of equals), kept in a heap
 * whose root is the one to drop next, so that neither memory nor the
 * association grows with the boxes beyond the cap. */
static guint
select_boxes (FemoTracker * tracker, const FemoRect * boxes, guint n_boxes)
{
  const guint n = MIN (n_boxes, FEMO_TRACKER_MAX_BOXES);
  BoxScratch *kept;

  tracker->boxes = grow (tracker->boxes, &tracker->boxes_capacity, n,
      sizeof (BoxScratch));
  kept = tracker->boxes;
  for (guint k = 0; k < n; k++)
    kept[k].index = k;
  if (n == n_boxes)
    return n;
  for (guint k = n / 2; k-- > 0;)
    sift_down (kept, n, k, boxes);
  for (guint b = n; b < n_boxes; b++) {
    if (!box_before (boxes, b, kept[0].index))
      continue;
    kept[0].index = b;
    sift_down (kept, n, 0, boxes);
  }
  qsort (kept, n, sizeof (BoxScratch), compare_index);
  return n;
}

static void
add_pair (FemoTracker * tracker, gsize n_pairs, gdouble score, guint track,
    guint box)
{
  Pair *pr;

  tracker->pairs = grow (tracker->pairs, &tracker->pairs_capacity,
      n_pairs + 1, sizeof (Pair));
  pr = &tracker->pairs[n_pairs];
  pr->score = score;
  pr->track = track;
  pr->box = box;
}

/* Ends tracks this update did not match, those unseen longest first (the
 * older of equals), until @n_new more fit in FEMO_TRACKER_MAX_TRACKS. They
 * end as if timed out, a little early. There are enough of them: the
 * matched tracks are at most FEMO_TRACKER_MAX_BOXES - @n_new. */
static void
make_room (FemoTracker * tracker, guint n_new)
{
  guint excess, n = 0, kept = 0;

  G_STATIC_ASSERT (FEMO_TRACKER_MAX_BOXES <= FEMO_TRACKER_MAX_TRACKS);
  if (tracker->n_tracks + n_new <= FEMO_TRACKER_MAX_TRACKS)
    return;
  excess = tracker->n_tracks + n_new - FEMO_TRACKER_MAX_TRACKS;
  /* the pairs are used up: they list the tracks that could end */
  for (guint i = 0; i < tracker->n_tracks; i++)
    if (!tracker->tracks[i].matched)
      add_pair (tracker, n++, tracker->tracks[i].misses, i, 0);
  g_assert (n >= excess);
  qsort (tracker->pairs, n, sizeof (Pair), compare_pairs);
  for (guint k = 0; k < excess; k++) {
    Track *t = &tracker->tracks[tracker->pairs[k].track];

    record_end (tracker, t, FALSE);
    t->id = 0;                  /* "no track": dropped below */
  }
  for (guint i = 0; i < tracker->n_tracks; i++) {
    if (tracker->tracks[i].id == 0)
      continue;
    if (kept != i)
      tracker->tracks[kept] = tracker->tracks[i];
    kept++;
  }
  tracker->n_tracks = kept;
}

guint
femo_tracker_update (FemoTracker * tracker, guint64 timestamp_ns,
    const FemoFrameSignature * signature, const FemoRect * boxes,
    guint n_boxes, const guint8 * crops, FemoTrackAssignment * out)
{
  const FemoTrackerParams *p = &tracker->params;
  gsize n_pairs = 0;
  guint n_tracked, n_new = 0, kept = 0;

  g_return_val_if_fail (n_boxes == 0 || (boxes != NULL && out != NULL), 0);

  tracker->n_ended = 0;
  timestamp_ns = MAX (timestamp_ns, tracker->last_ns);
  tracker->last_ns = timestamp_ns;

  if (signature != NULL) {
    if (tracker->has_signature && p->cut_threshold > 0
        && femo_tracker_signature_distance (&tracker->signature,
            signature) > p->cut_threshold)
      end_all (tracker, TRUE);
    tracker->signature = *signature;
    tracker->has_signature = TRUE;
  }

  for (guint b = 0; b < n_boxes; b++) {
    out[b].track_id = 0;
    out[b].is_new = FALSE;
  }
  n_tracked = select_boxes (tracker, boxes, n_boxes);
  for (guint k = 0; k < n_tracked; k++) {
    BoxScratch *bs = &tracker->boxes[k];

    bs->used = FALSE;
    bs->has_desc = crops != NULL &&
        compute_descriptor (crops + (gsize) bs->index *
        FEMO_TRACKER_CROP_SIZE * FEMO_TRACKER_CROP_SIZE, bs->desc);
  }

  /* candidate pairs that pass both gates */
  for (guint i = 0; i < tracker->n_tracks; i++) {
    Track *t = &tracker->tracks[i];
    gdouble cx, cy, w, h;

    t->matched = FALSE;
    predict_box (t, timestamp_ns, &cx, &cy, &w, &h);
    for (guint k = 0; k < n_tracked; k++) {
      const BoxScratch *bs = &tracker->boxes[k];
      gdouble o = iou (cx, cy, w, h, &boxes[bs->index]);

      if (o < p->iou_threshold)
        continue;
      if (t->has_desc && bs->has_desc
          && appearance (t, bs->desc) < p->appearance_threshold)
        continue;
      add_pair (tracker, n_pairs++, o, i, k);
    }
  }
  /* Greedy, best overlap first: with a handful of faces that are rarely
   * close to each other it agrees with an optimal assignment. */
  if (n_pairs > 1)
    qsort (tracker->pairs, n_pairs, sizeof (Pair), compare_pairs);
  for (gsize k = 0; k < n_pairs; k++) {
    const Pair *pr = &tracker->pairs[k];
    Track *t = &tracker->tracks[pr->track];
    BoxScratch *bs = &tracker->boxes[pr->box];

    if (t->matched || bs->used)
      continue;
    continue_track (t, timestamp_ns, &boxes[bs->index], bs->desc,
        bs->has_desc);
    bs->used = TRUE;
    out[bs->index].track_id = t->id;
  }

  /* unmatched tracks coast, or end; keep the rest in creation order */
  for (guint i = 0; i < tracker->n_tracks; i++) {
    Track *t = &tracker->tracks[i];

    if (!t->matched && ++t->misses > p->timeout) {
      record_end (tracker, t, FALSE);
      continue;
    }
    if (kept != i)
      tracker->tracks[kept] = *t;
    kept++;
  }
  tracker->n_tracks = kept;

  for (guint k = 0; k < n_tracked; k++)
    n_new += !tracker->boxes[k].used;
  make_room (tracker, n_new);
  for (guint k = 0; k < n_tracked; k++) {
    const BoxScratch *bs = &tracker->boxes[k];

    if (bs->used)
      continue;
    start_track (tracker, timestamp_ns, &boxes[bs->index], bs->desc,
        bs->has_desc);
    out[bs->index].track_id = tracker->tracks[tracker->n_tracks - 1].id;
    out[bs->index].is_new = TRUE;
  }
  return tracker->n_ended;
}

guint
femo_tracker_predict (const FemoTracker * tracker, guint64 timestamp_ns,
    FemoTrackBox * out, guint capacity)
{
  guint n = MIN (capacity, tracker->n_tracks);

  for (guint i = 0; i < n; i++) {
    const Track *t = &tracker->tracks[i];
    gdouble cx, cy, w, h;

    predict_box (t, timestamp_ns, &cx, &cy, &w, &h);
    out[i].track_id = t->id;
    out[i].x = cx - w / 2;
    out[i].y = cy - h / 2;
    out[i].width = w;
    out[i].height = h;
    out[i].misses = t->misses;
    out[i].label = t->label;
  }
  return n;
}

guint
femo_tracker_get_n_tracks (const FemoTracker * tracker)
{
  return tracker->n_tracks;
}

gboolean
femo_tracker_needs_classify (const FemoTracker * tracker, guint32 track_id,
    guint classify_interval)
{
  const Track *t = find_track (tracker, track_id);

  if (t == NULL)
    return FALSE;
  if (t->n_classified == 0 || t->since_classify >= MAX (1, classify_interval))
    return TRUE;
  return sqrt (t->w * t->h) > t->classified_side *
      (1.0 + tracker->params.reclassify_growth);
}

static void
fill_label (const Track * t, gint previous, FemoLabelUpdate * update)
{
  update->label = t->label;
  update->previous = previous;
  update->changed = t->label != previous;
  update->probs = t->probs;
}

gboolean
femo_tracker_set_probs (FemoTracker * tracker, guint32 track_id,
    guint64 timestamp_ns, const gfloat * probs, FemoLabelUpdate * update)
{
  const FemoTrackerParams *p = &tracker->params;
  Track *t = find_track (tracker, track_id);
  gint best = 0, previous;

  if (t == NULL)
    return FALSE;

  if (t->n_classified == 0 || p->tau <= 0) {
    memcpy (t->probs, probs, sizeof (gfloat) * p->n_classes);
  } else {
    gdouble a = 1.0 - exp (-seconds_between (t->probs_ns,
            timestamp_ns) / p->tau);

    for (guint c = 0; c < p->n_classes; c++)
      t->probs[c] += a * (probs[c] - t->probs[c]);
  }
  t->probs_ns = MAX (timestamp_ns, t->probs_ns);
  t->n_classified++;
  t->since_classify = 0;
  t->classified_side = sqrt (t->w * t->h);

  for (guint c = 0; c < p->n_classes; c++) {
    t->mass[c] += t->probs[c];
    if (t->probs[c] > t->probs[best])
      best = c;
  }

  previous = t->label;
  if (t->label < 0 || best == t->label) {
    t->label = best;
    t->candidate = -1;
    t->candidate_count = 0;
  } else {
    if (best == t->candidate)
      t->candidate_count++;
    else {
      t->candidate = best;
      t->candidate_count = 1;
    }
    if (t->probs[best] >= t->probs[t->label] + p->label_margin
        || (p->label_hold > 0 && t->candidate_count >= p->label_hold)) {
      t->label = best;
      t->candidate = -1;
      t->candidate_count = 0;
      t->n_label_changes++;
    }
  }
  if (update)
    fill_label (t, previous, update);
  return TRUE;
}

gboolean
femo_tracker_get_label (const FemoTracker * tracker, guint32 track_id,
    FemoLabelUpdate * label)
{
  const Track *t = find_track (tracker, track_id);

  if (t == NULL)
    return FALSE;
  fill_label (t, t->label, label);
  return TRUE;
}

gboolean
femo_tracker_get_times (const FemoTracker * tracker, guint32 track_id,
    guint64 * first_ns, guint64 * last_ns)
{
  const Track *t = find_track (tracker, track_id);

  if (t == NULL)
    return FALSE;
  *first_ns = t->first_ns;
  *last_ns = t->last_ns;
  return TRUE;
}

guint
femo_tracker_finish (FemoTracker * tracker)
{
  tracker->n_ended = 0;
  end_all (tracker, FALSE);
  return tracker->n_ended;
}

const FemoTrackRecord *
femo_tracker_get_ended (const FemoTracker * tracker, guint * n_ended)
{
  *n_ended = tracker->n_ended;
  return tracker->ended;
}
