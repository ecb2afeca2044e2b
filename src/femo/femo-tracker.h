/* gst-femo: face tracks over time: stable ids, predicted boxes between
 * detections, smoothed emotion probabilities with label hysteresis, and a
 * record of each track when it ends.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>
#include "femo-cascade.h"
#include "femo-image.h"

G_BEGIN_DECLS

/* Enough for any model femo-net can load (FEMO_NET_MAX_LABELS). */
#define FEMO_TRACKER_MAX_CLASSES 64
/* Side of the luma crops femo_tracker_update reads (the CNN input). */
#define FEMO_TRACKER_CROP_SIZE 48
#define FEMO_TRACKER_HIST_BINS 32
#define FEMO_TRACKER_THUMB_SIZE 8
/* Bounds on what a tracker takes on, so that its memory and the time of an
 * update (tracks x boxes candidate pairs) stay bounded whatever a detector
 * reports (femodetect with min-neighbors=0 reports up to about a million
 * raw windows a frame, and unmatched tracks live for timeout updates). An
 * update tracks at most FEMO_TRACKER_MAX_BOXES boxes, the largest; the
 * others get no track. At most FEMO_TRACKER_MAX_TRACKS tracks live at
 * once: when new ones need the room, the tracks unseen longest end early,
 * as if timed out. The busiest shared photo has 13 faces at femodetect's
 * defaults: 256 leaves room for crowds, and the tracks for four frames
 * of as many new faces. The largest update (every track against every
 * box: 262,144 candidate pairs, 4 MiB) takes about 120 ms on a 2-core x86
 * machine (bench-tracker --worst-case); a few faces take microseconds. */
#define FEMO_TRACKER_MAX_BOXES 256
#define FEMO_TRACKER_MAX_TRACKS 1024

typedef struct _FemoTracker FemoTracker;

/**
 * FemoTrackerParams:
 * @timeout: a track that no detection matched in this many consecutive
 *   femo_tracker_update() calls ends (kept, and predicted, until then). The
 *   count is of update calls, i.e. of frames where detection ran: with a
 *   detect interval N the caller passes frames / N.
 * @iou_threshold: a detection continues a track only when its IoU with the
 *   track's predicted box is at least this (0 < t <= 1)
 * @appearance_threshold: and, when crops are given, only when the Pearson
 *   correlation of its appearance descriptor with the track's is at least
 *   this; -1 disables the check. This is what gives a different person who
 *   lands on the old box a new id.
 * @cut_threshold: when frame signatures are given, a distance
 *   (femo_tracker_signature_distance()) above this from the previous
 *   update's signature is a shot cut: every track ends. 0 disables.
 * @tau: time constant, in seconds, of the exponential moving average of the
 *   probabilities: each femo_tracker_set_probs() moves the average by
 *   alpha = 1 - exp (-dt / tau) of the way to the new values, dt being the
 *   time since the previous one, so the average follows the same curve at
 *   any frame rate. 0 = no smoothing.
 * @label_margin: hysteresis of the shown label: the most probable smoothed
 *   class replaces the shown label at once when its probability beats the
 *   shown label's by at least this much ...
 * @label_hold: ... or when it has been the most probable class for this many
 *   consecutive updates (so a close second still takes over eventually).
 *   0 = only the margin rule; @label_margin 0 and @label_hold 1 = no
 *   hysteresis.
 * @reclassify_growth: femo_tracker_needs_classify() asks for a new
 *   classification, whatever the interval, when the box side has grown by
 *   more than this fraction since the last one (a face coming closer shows
 *   more detail).
 * @n_classes: how many probabilities femo_tracker_set_probs() takes
 *   (1..FEMO_TRACKER_MAX_CLASSES)
 */
typedef struct
{
  guint timeout;
  gdouble iou_threshold;
  gdouble appearance_threshold;
  gdouble cut_threshold;
  gdouble tau;
  gdouble label_margin;
  guint label_hold;
  gdouble reclassify_growth;
  guint n_classes;
} FemoTrackerParams;

/* Thresholds measured on the shared clips; see femo-tracker.c. */
#define FEMO_TRACKER_PARAMS_INIT \
  { 15, 0.3, 0.5, 0.3, 0.5, 0.15, 5, 0.2, 7 }

/**
 * FemoFrameSignature:
 *
 * A summary of a whole frame, to notice shot cuts: a luma histogram (which
 * a moving camera hardly changes) and an 8x8 thumbnail (which a cut to a
 * similar-looking room does change). Made by femo_tracker_frame_signature().
 */
typedef struct
{
  gfloat hist[FEMO_TRACKER_HIST_BINS];
  gfloat thumb[FEMO_TRACKER_THUMB_SIZE * FEMO_TRACKER_THUMB_SIZE];
} FemoFrameSignature;

/**
 * FemoTrackAssignment:
 * @track_id: the track this detection belongs to (ids start at 1 and are
 *   never reused by one tracker, not even after femo_tracker_reset())
 * @is_new: the track starts with this detection
 */
typedef struct
{
  guint32 track_id;
  gboolean is_new;
} FemoTrackAssignment;

/**
 * FemoTrackBox:
 * @track_id: the track
 * @x, @y, @width, @height: its box, predicted for the asked time from the
 *   last detections (constant velocity, damped)
 * @misses: consecutive updates without a detection (0 = seen at the last one)
 * @label: the shown label, -1 before the first femo_tracker_set_probs()
 */
typedef struct
{
  guint32 track_id;
  gdouble x;
  gdouble y;
  gdouble width;
  gdouble height;
  guint misses;
  gint label;
} FemoTrackBox;

/**
 * FemoTrackRecord:
 * @track_id: the track
 * @first_ns, @last_ns: timestamps of its first and last detection
 * @duration_ns: @last_ns - @first_ns
 * @n_detections: detections it was made of
 * @n_classified: femo_tracker_set_probs() calls it got
 * @n_label_changes: times its shown label changed (the first label is not
 *   a change)
 * @dominant_label: the class with the largest sum of smoothed probability
 *   over its femo_tracker_set_probs() calls (i.e. over its classified
 *   frames; with a classify interval these are evenly spaced, so this is its
 *   mean expression), -1 if never classified
 * @dominant_share: that class's share of the whole sum (0..1)
 * @cut: it ended at a shot cut (otherwise by timeout or at
 *   femo_tracker_finish())
 */
typedef struct
{
  guint32 track_id;
  guint64 first_ns;
  guint64 last_ns;
  guint64 duration_ns;
  guint n_detections;
  guint n_classified;
  guint n_label_changes;
  gint dominant_label;
  gdouble dominant_share;
  gboolean cut;
} FemoTrackRecord;

/**
 * FemoLabelUpdate:
 * @label: the shown label after this update
 * @previous: the shown label before it (-1 the first time)
 * @changed: @label != @previous (so also at the first classification)
 * @probs: the smoothed probabilities (n_classes), owned by the tracker,
 *   valid until the next call on it
 */
typedef struct
{
  gint label;
  gint previous;
  gboolean changed;
  const gfloat *probs;
} FemoLabelUpdate;

void femo_tracker_params_init (FemoTrackerParams * params);
/* Returns NULL + FEMO_ERROR_ARGUMENT for nonsense parameters. */
FemoTracker *femo_tracker_new (const FemoTrackerParams * params,
    GError ** error);
void femo_tracker_free (FemoTracker * tracker);
/* New parameters for the live tracks (a setting changed while a stream
 * plays); FALSE + FEMO_ERROR_ARGUMENT for nonsense, which changes
 * nothing. Change n_classes only without tracks (after femo_tracker_finish()
 * or femo_tracker_reset()): their probabilities have the old count. */
gboolean femo_tracker_set_params (FemoTracker * tracker,
    const FemoTrackerParams * params, GError ** error);
const FemoTrackerParams *femo_tracker_get_params (const FemoTracker * tracker);

/* Forgets every track without reporting it (FLUSH, a new stream). */
void femo_tracker_reset (FemoTracker * tracker);

void femo_tracker_frame_signature (const FemoImageView * frame,
    FemoFrameSignature * signature);
/* 0 = the same frame, 1 = nothing alike: the larger of the histograms'
 * half L1 distance and the thumbnails' mean absolute difference / 64. */
gdouble femo_tracker_signature_distance (const FemoFrameSignature * a,
    const FemoFrameSignature * b);
/* Pearson correlation (-1..1) of the appearance descriptors of two
 * FEMO_TRACKER_CROP_SIZE^2 crops, as the appearance check computes it. */
gdouble femo_tracker_appearance_similarity (const guint8 * crop_a,
    const guint8 * crop_b);

/**
 * femo_tracker_update:
 * @timestamp_ns: the frame's time; must not go backwards (it is clamped)
 * @signature: (nullable): the frame's signature, for cut detection
 * @boxes: this frame's detections
 * @crops: (nullable): @n_boxes crops of FEMO_TRACKER_CROP_SIZE^2 luma
 *   bytes, rows packed, one per box in order, for the appearance check
 * @out: @n_boxes assignments, one per box in order; a box beyond the
 *   FEMO_TRACKER_MAX_BOXES largest gets track_id 0 (not tracked)
 *
 * Matches the detections to the live tracks (greedy, highest IoU first,
 * among pairs that pass the IoU and appearance gates), starts a track for
 * each detection left over and ends the tracks that timed out or were cut,
 * and, beyond FEMO_TRACKER_MAX_TRACKS, those unseen longest. Returns how
 * many tracks ended; femo_tracker_get_ended() lists them.
 */
guint femo_tracker_update (FemoTracker * tracker, guint64 timestamp_ns,
    const FemoFrameSignature * signature, const FemoRect * boxes,
    guint n_boxes, const guint8 * crops, FemoTrackAssignment * out);

/* Writes at most @capacity live tracks, their boxes predicted for
 * @timestamp_ns (frames where detection is skipped); returns how many. */
guint femo_tracker_predict (const FemoTracker * tracker,
    guint64 timestamp_ns, FemoTrackBox * out, guint capacity);
guint femo_tracker_get_n_tracks (const FemoTracker * tracker);

/**
 * femo_tracker_needs_classify:
 * @classify_interval: M >= 1: classify a track every Mth detection
 *
 * Whether the CNN should run on this track's crop now: it never has, or M
 * detections went by since it last did, or its box grew by more than
 * reclassify_growth since. FALSE for an unknown id.
 */
gboolean femo_tracker_needs_classify (const FemoTracker * tracker,
    guint32 track_id, guint classify_interval);

/**
 * femo_tracker_set_probs:
 * @probs: n_classes probabilities from the CNN for this track's crop
 * @update: (out) (optional): the shown label and smoothed probabilities
 *
 * Folds a classification into the track's moving average and label.
 * Returns FALSE (and leaves @update alone) for an unknown id.
 */
gboolean femo_tracker_set_probs (FemoTracker * tracker, guint32 track_id,
    guint64 timestamp_ns, const gfloat * probs, FemoLabelUpdate * update);
/* The shown label and smoothed probabilities as the last set_probs left
 * them (@changed is FALSE here); FALSE for an unknown id. */
gboolean femo_tracker_get_label (const FemoTracker * tracker,
    guint32 track_id, FemoLabelUpdate * label);

/* The timestamps of the first and the last detection of a live track;
 * FALSE for an unknown id. */
gboolean femo_tracker_get_times (const FemoTracker * tracker,
    guint32 track_id, guint64 * first_ns, guint64 * last_ns);

/* Ends every track (EOS); returns how many, listed by
 * femo_tracker_get_ended(). */
guint femo_tracker_finish (FemoTracker * tracker);
/* The tracks that ended in the last femo_tracker_update() or
 * femo_tracker_finish() (none after femo_tracker_reset()); owned by the
 * tracker, valid until the next of these three calls. */
const FemoTrackRecord *femo_tracker_get_ended (const FemoTracker * tracker,
    guint * n_ended);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FemoTracker, femo_tracker_free)

G_END_DECLS
