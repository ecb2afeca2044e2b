/* gst-femo: the analysis of one video frame after another: faces found,
 * cropped, classified in one batch, tracked and smoothed
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * FemoAnalyzer is what femodetect does, without GStreamer: the element maps
 * a frame, hands it over as a borrowed view with its time, and turns the
 * result into metadata and messages. Everything the analysis needs between
 * frames (the detector, the model, the tracks, buffers sized once) lives
 * here; nothing is allocated per frame once the buffers have grown.
 *
 * Not thread-safe: one thread drives one analyzer (femodetect's streaming
 * thread). Analyzers share loaded models through femo-model-cache.c.
 */
#pragma once

#include <glib.h>
#include "femo-cascade.h"
#include "femo-face-detector.h"
#include "femo-image.h"
#include "femo-net.h"
#include "femo-tracker.h"

G_BEGIN_DECLS

/* The defaults of FemoAnalyzerSettings, which femodetect's properties take
 * too. Where they come from: femo-analyzer.c (crop margin) and
 * femo-tracker.c (timeout, smoothing, hysteresis). */
#define FEMO_ANALYZER_DEFAULT_SCALE_FACTOR 1.1
#define FEMO_ANALYZER_DEFAULT_MIN_NEIGHBORS 3
#define FEMO_ANALYZER_DEFAULT_MIN_SIZE 30
#define FEMO_ANALYZER_DEFAULT_MAX_SIZE 0
#define FEMO_ANALYZER_DEFAULT_MAX_FACES 0
#define FEMO_ANALYZER_DEFAULT_PROCESS_WIDTH 0
#define FEMO_ANALYZER_DEFAULT_MERGE_OVERLAPS 0.6
#define FEMO_ANALYZER_DEFAULT_DETECT_INTERVAL 1
#define FEMO_ANALYZER_DEFAULT_CROP_MARGIN 0.025
#define FEMO_ANALYZER_DEFAULT_CLASSIFY_INTERVAL 1
#define FEMO_ANALYZER_DEFAULT_TRACK_TIMEOUT 15
#define FEMO_ANALYZER_DEFAULT_SMOOTHING 0.5
#define FEMO_ANALYZER_DEFAULT_LABEL_HYSTERESIS 0.15
/* The detector's own default (FemoFaceDetectParams.min_confidence). */
#define FEMO_ANALYZER_DEFAULT_MIN_CONFIDENCE (-1.0)
#define FEMO_ANALYZER_DEFAULT_ALIGN FALSE

/* Ranges the analyzer accepts (femodetect's property ranges). */
#define FEMO_ANALYZER_MIN_CROP_MARGIN (-0.4)
#define FEMO_ANALYZER_MAX_CROP_MARGIN 1.0
#define FEMO_ANALYZER_MAX_INTERVAL 1000
#define FEMO_ANALYZER_MAX_TRACK_TIMEOUT 100000
#define FEMO_ANALYZER_MAX_SMOOTHING 3600.0
/* Crops take a pixel aspect ratio up to this (or down to its inverse);
 * beyond, this one. */
#define FEMO_ANALYZER_MAX_PAR 16
/* libfemo scans images up to this many pixels a side. */
#define FEMO_ANALYZER_MAX_SIDE 32768

/**
 * FemoAnalyzerSettings:
 * @detect: find faces with the detector; FALSE = the caller gives them
 *   (FemoAnalyzerFrame.faces) and they are only classified
 * @scale_factor, @min_neighbors, @min_size, @max_size, @max_faces: the
 *   detection (OpenCV's detectMultiScale parameters; sizes in pixels of
 *   the frame, 0 = no limit). A detector without a scan of its own (YuNet)
 *   takes only the sizes, as a filter, and max_faces.
 * @min_confidence: faces of a lower detection confidence (0..1; the
 *   cascade's is neighbours / (neighbours + 10)) are dropped; negative:
 *   the detector's default (the cascade: 0, every face)
 * @merge_overlaps: a cascade detection that overlaps a stronger one (more
 *   neighbours, then larger) by more than this share of the smaller box's
 *   area is dropped (nested or shifted boxes on one face, which OpenCV's
 *   grouping leaves); 0 = off, OpenCV's boxes as they are. Other detectors
 *   have their own non-maximum suppression and ignore it.
 * @process_width: frames wider than this are scanned at this width (an
 *   area-averaged copy of the luma, or of the colour for a detector that
 *   reads colour), 0 = full size; the network still gets full-size crops
 * @detect_interval: detect every Nth frame; the frames between carry the
 *   tracks (needs @tracking)
 * @classify: run the emotion network
 * @flip: also classify each face mirrored left-right and average the two
 *   probabilities (twice the network's work; off by default: on FER2013's
 *   PublicTest it gave 0.6637 against 0.6654 for the shipped model)
 * @crop_margin: the crop is a square on the display of 1 + 2 * margin
 *   times the box side, centred on the box
 * @align: faces with landmarks are cropped turned and scaled so that their
 *   eyes sit level where FER2013's mean face has them
 *   (femo_face_crop_aligned(); @crop_margin does not apply); faces without
 *   are cropped by their box
 * @classify_interval: classify a track at every Mth detection of it (or
 *   when its box grew), else show its smoothed emotion again
 * @tracking: give faces track ids, smooth their emotions, report track
 *   events; FALSE = every frame on its own
 * @track_timeout: frames a track survives without a detection
 * @smoothing: time constant in seconds of each track's moving average
 * @label_hysteresis: margin another class needs to replace the shown one
 *   at once
 */
typedef struct
{
  gboolean detect;
  gdouble scale_factor;
  gint min_neighbors;
  gint min_size;
  gint max_size;
  gint max_faces;
  gdouble min_confidence;
  gdouble merge_overlaps;
  guint process_width;
  guint detect_interval;
  gboolean classify;
  gboolean flip;
  gdouble crop_margin;
  gboolean align;
  guint classify_interval;
  gboolean tracking;
  guint track_timeout;
  gdouble smoothing;
  gdouble label_hysteresis;
} FemoAnalyzerSettings;

void femo_analyzer_settings_init (FemoAnalyzerSettings * settings);

/* FemoAnalyzerFrame.time_ns of a frame without a timestamp. */
#define FEMO_ANALYZER_TIME_NONE G_MAXUINT64

/**
 * FemoAnalyzerFrame:
 * @image: the frame's pixels (borrowed): its luma (a plane, or the Y
 *   samples of packed YUV with pixel_stride 2), or packed RGB when @rgb is
 *   set
 * @rgb: (nullable): the layout of packed RGB pixels, converted to gray as
 *   OpenCV's COLOR_RGB2GRAY only when the frame needs its luma
 * @chroma: a YUV frame's chroma and colorimetry, for a detector that reads
 *   colour (converted to BGR only then); zeroed: no chroma (GRAY8, or
 *   @rgb), the colour is gray
 * @par_n, @par_d: pixel aspect ratio (crops are square on the display;
 *   one beyond FEMO_ANALYZER_MAX_PAR or its inverse is taken as that)
 * @time_ns: the frame's time (e.g. running time), FEMO_ANALYZER_TIME_NONE
 *   when it has none: it is then taken as the previous frame's plus
 *   @duration_ns
 * @late: no time for detection (QoS): tracked faces are carried instead,
 *   and without tracking the frame is not analysed
 * @faces, @n_faces: with settings.detect off, the faces to classify
 *   (found upstream): boxes anywhere, clipped to the frame (one with
 *   nothing inside it becomes an empty face without emotion)
 */
typedef struct
{
  FemoImageView image;
  const FemoRgbLayout *rgb;
  FemoChroma chroma;
  gint par_n;
  gint par_d;
  guint64 time_ns;
  guint64 duration_ns;
  gboolean late;
  const FemoRect *faces;
  gsize n_faces;
} FemoAnalyzerFrame;

/**
 * FemoAnalyzedFace:
 * @box: in pixels of the frame; neighbors: the cascade's raw windows
 * @detected: found by this frame's detection (FALSE: carried by its track
 *   on a frame without detection, or given by the caller)
 * @confidence: the detection confidence (0..1) when @detected
 * @has_landmarks, @landmarks: the detector's landmarks of the face, in
 *   pixels of the frame; on frames without detection a track carries those
 *   of its last detection, moved and scaled as its box moved since
 * @track_id: 0 when not tracked: tracking is off, or on a frame where
 *   detection ran the face is beyond the FEMO_TRACKER_MAX_BOXES largest
 *   (it then shows its own frame's emotion, as without tracking)
 * @first_ns, @last_ns: the times (FemoAnalyzerFrame.time_ns) of the first
 *   and the last detection of its track, FEMO_ANALYZER_TIME_NONE without
 *   one
 * @label: the shown class (a track's after smoothing and hysteresis; the
 *   arg-max of this frame's output untracked), -1 = no emotion
 * @probs: (nullable): the shown probabilities, one per class of the model
 * @raw_label: arg-max of this frame's network output, -1 when the network
 *   did not run for this face or the face is not tracked (then @probs is
 *   this frame's output)
 * @raw_probs: (nullable): this frame's network output when tracked
 *
 * Pointers stay valid until the next call on the analyzer.
 */
typedef struct
{
  FemoRect box;
  gboolean detected;
  gdouble confidence;
  gboolean has_landmarks;
  FemoLandmarks landmarks;
  guint32 track_id;
  guint64 first_ns;
  guint64 last_ns;
  gint label;
  const gfloat *probs;
  gint raw_label;
  const gfloat *raw_probs;
} FemoAnalyzedFace;

typedef enum
{
  FEMO_TRACK_EVENT_LABEL_CHANGED,
  FEMO_TRACK_EVENT_ENDED,
} FemoTrackEventType;

typedef enum
{
  FEMO_TRACK_END_TIMEOUT,       /* not detected for track-timeout frames */
  FEMO_TRACK_END_CUT,           /* a shot cut */
  FEMO_TRACK_END_EOS,           /* femo_analyzer_finish() at the end */
  FEMO_TRACK_END_STOPPED,       /* tracking switched off, or a model with
                                 * other classes */
} FemoTrackEndReason;

/* "timeout", "cut", "eos", "stopped" */
const gchar *femo_track_end_reason_to_string (FemoTrackEndReason reason);

/**
 * FemoTrackEvent:
 * @old_label, @new_label: LABEL_CHANGED: the track's shown class before
 *   and now
 * @reason, @record: ENDED: why, and the track's summary (its times are
 *   those of FemoAnalyzerFrame.time_ns)
 */
typedef struct
{
  FemoTrackEventType type;
  guint32 track_id;
  gint old_label;
  gint new_label;
  FemoTrackEndReason reason;
  FemoTrackRecord record;
} FemoTrackEvent;

/**
 * FemoAnalyzerResult:
 * @analysed: FALSE when the frame was left alone (detect and classify
 *   off, or late without tracking): no faces; events may still be there
 * @detected: the detector ran on this frame
 * @tracked: tracking is on: the faces carry track ids (but for those
 *   beyond FEMO_TRACKER_MAX_BOXES, see FemoAnalyzedFace.track_id)
 * @n_classified: faces the network ran on
 * @faces, @n_faces: the frame's faces, in the detector's order (or the
 *   caller's, or the tracks')
 * @events, @n_events: in the order they happened
 */
typedef struct
{
  gboolean analysed;
  gboolean detected;
  gboolean tracked;
  guint n_classified;
  const FemoAnalyzedFace *faces;
  gsize n_faces;
  const FemoTrackEvent *events;
  gsize n_events;
} FemoAnalyzerResult;

typedef struct _FemoAnalyzer FemoAnalyzer;

FemoAnalyzer *femo_analyzer_new (void);
void femo_analyzer_free (FemoAnalyzer * analyzer);

/* Replaces the detector only when @path loads (NULL + FEMO_ERROR else). */
gboolean femo_analyzer_load_detector (FemoAnalyzer * analyzer,
    FemoFaceDetectorKind kind, const gchar * path, guint n_threads,
    GError ** error);
/* Detection threads, 0 = one per core; applied to the loaded detector. */
void femo_analyzer_set_n_threads (FemoAnalyzer * analyzer, guint n_threads);
/* (nullable): the loaded detector. */
const FemoFaceDetector *femo_analyzer_get_detector (const FemoAnalyzer *
    analyzer);
/* Replaces the model, from the process-wide cache (femo-model-cache.h),
 * only when @path loads. */
gboolean femo_analyzer_load_model (FemoAnalyzer * analyzer,
    const gchar * path, GError ** error);
/* (nullable) (transfer none): the loaded model. */
FemoModel *femo_analyzer_get_model (const FemoAnalyzer * analyzer);

/* Analyses one frame. @settings may change from frame to frame. FALSE with
 * @error (FEMO_ERROR_NO_MEMORY) when the frame needs more memory than the
 * system gives (a huge frame, a weak cascade): the frame is then not
 * analysed, and the events before the failure are still in @result. */
gboolean femo_analyzer_process (FemoAnalyzer * analyzer,
    const FemoAnalyzerSettings * settings, const FemoAnalyzerFrame * frame,
    FemoAnalyzerResult * result, GError ** error);
/* Ends every track (end of stream) with @reason; the ENDED events come
 * back in @result (no faces). */
void femo_analyzer_finish (FemoAnalyzer * analyzer, FemoTrackEndReason reason,
    FemoAnalyzerResult * result);
/* Forgets every track without an event (a seek, a new stream). */
void femo_analyzer_reset (FemoAnalyzer * analyzer);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FemoAnalyzer, femo_analyzer_free)

G_END_DECLS
