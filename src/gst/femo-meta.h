/* gst-femo: the metadata contract of the femo elements, and its reader
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Installed as <gst/femo/femo-meta.h>, with the library gstreamer-femo-1.0
 * (pkg-config) that reads it. Everything downstream of femodetect
 * (femooverlay, the gst-femo tool, applications) reads faces through these
 * names only, most simply with femo_buffer_iterate_faces() (at the end).
 *
 * Buffers: one GstVideoRegionOfInterestMeta per face, with roi_type
 * FEMO_META_ROI_TYPE_FACE and the box in pixels of the frame, in the order
 * of the faces of the message. The id of the metas femodetect adds is the
 * face's track id (see Tracks below), unique within a buffer, or with
 * tracking=false 0, 1, ... (gst_buffer_get_video_region_of_interest_meta_id
 * fetches them either way).
 *
 * Bus: with post-messages=true, femodetect posts one element message per
 * frame, even when it found no face. Its structure has the schema of
 * gst-plugins-bad's facedetect message (only the name differs, and each
 * face may have two more fields), so code written for facedetect works
 * with a changed name:
 *
 * |[
 * femodetect,
 *     timestamp=(guint64)...,      buffer PTS (GST_CLOCK_TIME_NONE if none)
 *     stream-time=(guint64)...,    PTS in stream time
 *     running-time=(guint64)...,   PTS in running time
 *     duration=(guint64)...,       buffer duration
 *     faces=(GstValueList){ face, x=(uint)..., y=(uint)...,
 *                                 width=(uint)..., height=(uint)...,
 *                                 [emotion=(structure)"femo/emotion\,...",]
 *                                 [track-id=(uint)...;]
 *                           ... }
 * ]|
 *
 * When femodetect classifies (classify=true, the default), each face
 * structure of the message also has a field FEMO_META_FIELD_EMOTION holding
 * a copy of the FEMO_META_EMOTION_PARAMS_NAME structure of its ROI meta
 * (below), so the message and the metadata say the same thing.
 *
 * Each ROI meta that femodetect's detector found (detect=true) carries a
 * param structure FEMO_META_DETECTION_PARAMS_NAME in the convention of
 * Intel's DL Streamer ("detection": label_id, confidence and the box
 * normalised to 0..1 as x_min, y_min, x_max, y_max), plus the cascade's
 * neighbour count, and when the detector finds them the face's landmarks
 * (FEMO_META_LANDMARKS_PARAMS_NAME). ROI metas femodetect did not make
 * (detect=false) are given an emotion only.
 *
 * GStreamer 1.24+ (where this library was built with
 * gstreamer-analytics-1.0, femo_meta_has_analytics()): femodetect also, or
 * instead (its "metadata" property), attaches the faces as a
 * GstAnalyticsRelationMeta, the form GStreamer's own analytics elements
 * (objectdetectionoverlay, the tensor decoders) read and write. Per face:
 *
 * |[
 *   ROI meta                          GstAnalyticsRelationMeta
 *   roi_type "face", x, y, w, h       object-detection mtd: type "face",
 *                                     the same box (gint pixels)
 *   detection: confidence             the detection's confidence level
 *                                     (0 on faces a tracker carried)
 *   femo/emotion: label, confidence,  classification mtd, related from the
 *     one probability per class         detection (RELATE_TO): entry 0 the
 *                                     shown label and its probability, then
 *                                     the other classes in the model's
 *                                     order (quarks of their names)
 *   object_id: id (the track)         tracking mtd, related from the
 *                                     detection (RELATE_TO): tracking id =
 *                                     track id, first and last seen = the
 *                                     running times of the track's first
 *                                     and last detection
 *   femo/emotion-raw, neighbors       (ROI metas only)
 * ]|
 *
 * The readers below take a face from either form (femo_buffer_iterate_faces
 * and femo_buffer_iterate_regions say which wins when a buffer has both).
 */
#pragma once

#include <gst/video/video.h>

G_BEGIN_DECLS

/* GstVideoRegionOfInterestMeta roi_type of a face box. */
#define FEMO_META_ROI_TYPE_FACE "face"

/* Name of the structure of femodetect's element message. */
#define FEMO_META_DETECT_MESSAGE_NAME "femodetect"

/* Fields of the message (all G_TYPE_UINT64, in nanoseconds). */
#define FEMO_META_FIELD_TIMESTAMP "timestamp"
#define FEMO_META_FIELD_STREAM_TIME "stream-time"
#define FEMO_META_FIELD_RUNNING_TIME "running-time"
#define FEMO_META_FIELD_DURATION "duration"

/* GST_TYPE_LIST of GstStructures named FEMO_META_FACE_STRUCTURE_NAME. */
#define FEMO_META_FIELD_FACES "faces"
#define FEMO_META_FACE_STRUCTURE_NAME "face"

/* Fields of a face structure (all G_TYPE_UINT, pixels of the frame). */
#define FEMO_META_FIELD_X "x"
#define FEMO_META_FIELD_Y "y"
#define FEMO_META_FIELD_WIDTH "width"
#define FEMO_META_FIELD_HEIGHT "height"
/* GST_TYPE_STRUCTURE, a copy of the face's FEMO_META_EMOTION_PARAMS_NAME
 * param structure; absent when the face was not classified. */
#define FEMO_META_FIELD_EMOTION "emotion"
/* G_TYPE_DOUBLE, 0..1: the detection param's confidence; absent on frames
 * where a tracker carried the face without detection. */
#define FEMO_META_FIELD_DETECTION_CONFIDENCE "detection-confidence"
/* GST_TYPE_STRUCTURE, a copy of the face's FEMO_META_LANDMARKS_PARAMS_NAME
 * param structure; absent when the detector finds no landmarks. */
#define FEMO_META_FIELD_LANDMARKS "landmarks"

/* ---- Detection parameters of a face (DL Streamer's "detection") ----
 *
 * A param structure FEMO_META_DETECTION_PARAMS_NAME on each ROI meta that
 * femodetect's detector found:
 *   label_id   (G_TYPE_INT)     FEMO_META_DETECTION_LABEL_ID_FACE
 *   confidence (G_TYPE_DOUBLE)  0..1, the cascade's neighbors / (neighbors
 *                               + FEMO_META_DETECTION_NEIGHBORS_HALF): grows
 *                               with the number of raw cascade windows
 *                               grouped into the box (0.5 at 10 windows;
 *                               0.23 at 3, femodetect's default minimum)
 *   neighbors  (G_TYPE_INT)     those raw windows (OpenCV's neighbour count);
 *                               only from the cascade
 *   x_min, x_max (G_TYPE_DOUBLE) the box's left and right edges / frame width
 *   y_min, y_max (G_TYPE_DOUBLE) its top and bottom edges / frame height
 * so x_min * width == roi->x and (x_max - x_min) * width == roi->w.
 */
#define FEMO_META_DETECTION_PARAMS_NAME "detection"
#define FEMO_META_DETECTION_FIELD_LABEL_ID "label_id"
#define FEMO_META_DETECTION_FIELD_CONFIDENCE "confidence"
#define FEMO_META_DETECTION_FIELD_NEIGHBORS "neighbors"
#define FEMO_META_DETECTION_FIELD_X_MIN "x_min"
#define FEMO_META_DETECTION_FIELD_X_MAX "x_max"
#define FEMO_META_DETECTION_FIELD_Y_MIN "y_min"
#define FEMO_META_DETECTION_FIELD_Y_MAX "y_max"
#define FEMO_META_DETECTION_LABEL_ID_FACE 0
#define FEMO_META_DETECTION_NEIGHBORS_HALF 10.0

/* ---- Landmarks of a face ----
 *
 * A param structure FEMO_META_LANDMARKS_PARAMS_NAME on each ROI meta whose
 * detector finds landmarks, on frames where it found the face and, with
 * tracking, on frames that carry it (moved and scaled with its box): five
 * points, each two G_TYPE_DOUBLE fields NAME_x and NAME_y, in pixels of
 * the frame (continuous coordinates: 0.0 is the left edge of the first
 * column, 0.5 its centre). "left" and "right" are the image's (the left
 * eye is the subject's right eye). A point may lie a little outside the
 * box, or the frame.
 *
 * |[
 * landmarks, left_eye_x=(double)254.1, left_eye_y=(double)188.7,
 *     right_eye_x=(double)310.6, right_eye_y=(double)190.2,
 *     nose_x=(double)282.4, nose_y=(double)222.9,
 *     left_mouth_x=(double)258.0, left_mouth_y=(double)251.3,
 *     right_mouth_x=(double)305.7, right_mouth_y=(double)252.6;
 * ]|
 */
#define FEMO_META_LANDMARKS_PARAMS_NAME "landmarks"
#define FEMO_META_N_LANDMARKS 5
#define FEMO_META_LANDMARK_LEFT_EYE "left_eye"
#define FEMO_META_LANDMARK_RIGHT_EYE "right_eye"
#define FEMO_META_LANDMARK_NOSE "nose"
#define FEMO_META_LANDMARK_LEFT_MOUTH "left_mouth"
#define FEMO_META_LANDMARK_RIGHT_MOUTH "right_mouth"

/* ---- Emotion parameters of a face (read by femooverlay) ----
 *
 * Each face ROI meta may carry a param structure named
 * FEMO_META_EMOTION_PARAMS_NAME with the winning class
 * (FEMO_META_EMOTION_FIELD_LABEL, G_TYPE_STRING; ..._LABEL_ID, G_TYPE_INT),
 * its probability (..._CONFIDENCE, G_TYPE_DOUBLE), one G_TYPE_DOUBLE field
 * per class of the model, named after the class, in the model's order, and
 * optionally ..._TRACK_ID (G_TYPE_UINT or G_TYPE_INT, > 0 when tracked).
 * Every G_TYPE_DOUBLE field other than the confidence is a class probability.
 *
 * femodetect writes, in this order: label, label_id (an index into the
 * model's labels), confidence (that label's probability), then the K
 * probabilities (softmax, summing to 1) named after the labels of the model
 * file (its femo.labels metadata; for FER2013: angry, disgust, fear, happy,
 * sad, surprise, neutral), then, when tracking, track_id (G_TYPE_UINT).
 * Without tracking the label is the arg-max of the frame's probabilities.
 * With tracking (femodetect's default) the structure holds what is shown:
 * the track's smoothed probabilities and its label after hysteresis (which
 * may briefly not be their arg-max), and the frame's own network output is
 * in a second structure FEMO_META_EMOTION_RAW_PARAMS_NAME of the same
 * layout, present only on frames where the network ran for that face.
 *
 * |[
 * femo/emotion, label=(string)happy, label_id=(int)3,
 *     confidence=(double)0.91, angry=(double)0.01, disgust=(double)0.00,
 *     fear=(double)0.01, happy=(double)0.91, sad=(double)0.02,
 *     surprise=(double)0.01, neutral=(double)0.04;
 * ]|
 */
#define FEMO_META_EMOTION_PARAMS_NAME "femo/emotion"
#define FEMO_META_EMOTION_FIELD_LABEL "label"
#define FEMO_META_EMOTION_FIELD_LABEL_ID "label_id"
#define FEMO_META_EMOTION_FIELD_CONFIDENCE "confidence"
#define FEMO_META_EMOTION_FIELD_TRACK_ID "track_id"
#define FEMO_META_EMOTION_RAW_PARAMS_NAME "femo/emotion-raw"

/* ---- Tracks ----
 *
 * With tracking, each face is a track with an id >= 1 (0 = no track), the
 * same for the same face from frame to frame; a face lost for longer than
 * femodetect's track-timeout, or a shot cut, starts a new id. The id is in
 * the ROI meta's id, in a param structure FEMO_META_OBJECT_ID_PARAMS_NAME
 * (DL Streamer's convention: FEMO_META_OBJECT_ID_FIELD_ID, G_TYPE_INT), in
 * the emotion's track_id and in the message's face structure as
 * FEMO_META_FIELD_TRACK_ID (G_TYPE_UINT). Faces carried between detections
 * (detect-interval, QoS) have the tracker's predicted box and no
 * FEMO_META_DETECTION_PARAMS_NAME structure. The tracker takes the 256
 * largest faces of a frame (FEMO_TRACKER_MAX_BOXES, e.g. with
 * min-neighbors=0): the others have no track (a negative ROI meta id, no
 * object_id, no track_id) and show their own frame's emotion.
 */
#define FEMO_META_OBJECT_ID_PARAMS_NAME "object_id"
#define FEMO_META_OBJECT_ID_FIELD_ID "id"
#define FEMO_META_FIELD_TRACK_ID "track-id"

/* Element message when a track's shown label changes (not at its first
 * label): track-id (G_TYPE_UINT), old-label, new-label (G_TYPE_STRING),
 * timestamp, running-time (G_TYPE_UINT64, of the buffer). */
#define FEMO_META_LABEL_CHANGED_MESSAGE_NAME "femodetect-label-changed"
#define FEMO_META_FIELD_OLD_LABEL "old-label"
#define FEMO_META_FIELD_NEW_LABEL "new-label"

/* Element message when a track ends (not at a flush): track-id
 * (G_TYPE_UINT), first-timestamp, last-timestamp (buffer timestamps of
 * its first and last detection), duration (their difference; all
 * G_TYPE_UINT64), frames (G_TYPE_UINT, frames it was detected in),
 * label-changes (G_TYPE_UINT), dominant-label (G_TYPE_STRING, the class of
 * largest summed smoothed probability; absent if never classified) and
 * reason (G_TYPE_STRING: "timeout" when the face was lost longer than
 * track-timeout, "cut" at a shot cut, "eos" at the end of the stream,
 * "stopped" when tracking is turned off while running or a model with
 * other classes is loaded). */
#define FEMO_META_TRACK_ENDED_MESSAGE_NAME "femodetect-track-ended"
#define FEMO_META_FIELD_FIRST_TIMESTAMP "first-timestamp"
#define FEMO_META_FIELD_LAST_TIMESTAMP "last-timestamp"
#define FEMO_META_FIELD_FRAMES "frames"
#define FEMO_META_FIELD_LABEL_CHANGES "label-changes"
#define FEMO_META_FIELD_DOMINANT_LABEL "dominant-label"
#define FEMO_META_FIELD_REASON "reason"


/* ---- Reading the faces of a buffer (libgstfemo-1.0) ----
 *
 * |[
 * gpointer state = NULL;
 * FemoFaceInfo face;
 *
 * while (femo_buffer_iterate_faces (buffer, &state, &face))
 *   if (face.label)
 *     g_print ("%u,%u %ux%u %s %.2f happy %.2f\n", face.x, face.y,
 *         face.width, face.height, face.label, face.confidence,
 *         femo_face_info_get_prob (&face, "happy"));
 * ]|
 */

/* Classes kept per face; a model with more has the rest ignored. */
#define FEMO_FACE_INFO_MAX_CLASSES 16

/* One face (or region) as the contract above describes it, read from a
 * ROI meta or from an object detection of a GstAnalyticsRelationMeta.
 * Strings are interned (g_intern_string): they outlive the buffer, and
 * equal names are equal pointers. Numbers that the meta lacks are -1. */
typedef struct
{
  /* the ROI meta read; valid while the buffer is. NULL when the face was
   * read from a relation meta: then @analytics is that meta (a
   * GstAnalyticsRelationMeta) and @analytics_id the id of its
   * object-detection mtd there */
  GstVideoRegionOfInterestMeta *roi;
  GstMeta *analytics;
  guint analytics_id;
  GQuark type;                  /* roi_type, or the detection's object type */
  /* the box, in pixels of the frame: a detection's box is cut at 0 on the
   * left and top (it has signed coordinates); the reader knows no frame
   * size, so callers clip the right and bottom */
  guint x, y, width, height;
  /* the emotion's track_id, else the object_id structure's id (from a
   * relation meta: the tracking mtd related to the detection, ids
   * 1..G_MAXUINT); 0: none */
  guint track_id;

  /* FEMO_META_EMOTION_PARAMS_NAME: what is shown (smoothed when tracking).
   * @label is NULL when the face has no emotion; without a label field it
   * is the most probable class, and without a confidence field the
   * confidence is the label's probability. From a relation meta: the
   * classification mtd related to the detection (the last one when there
   * are several), its entry 0 the label (as objectdetectionoverlay shows
   * it), entries without a name skipped, probabilities clamped to 0..1;
   * @label_id is -1 there. */
  const gchar *label;
  gint label_id;
  gdouble confidence;
  /* the class probabilities in the model's order (from a relation meta:
   * the classification's order, the label first; find one by name with
   * femo_face_info_get_prob()) */
  guint n_classes;
  const gchar *class_names[FEMO_FACE_INFO_MAX_CLASSES];
  gdouble probs[FEMO_FACE_INFO_MAX_CLASSES];

  /* FEMO_META_EMOTION_RAW_PARAMS_NAME, the network's own output on this
   * frame, read as above; NULL without tracking or when the network did
   * not run for the face */
  const gchar *raw_label;
  gdouble raw_confidence;

  /* FEMO_META_DETECTION_PARAMS_NAME: TRUE when the detector found the face
   * in this frame (FALSE when a tracker carried it, or another element made
   * the meta). Always TRUE from a relation meta, with its confidence level
   * (clamped to 0..1) and no neighbours. */
  gboolean detected;
  gdouble detection_confidence;
  gint neighbors;

  /* FEMO_META_LANDMARKS_PARAMS_NAME: x, y of each landmark in the order
   * above (left eye, right eye, nose, left and right mouth corners), in
   * pixels of the frame; @has_landmarks FALSE when the meta has none (or
   * not all five) */
  gboolean has_landmarks;
  gdouble landmarks[2 * FEMO_META_N_LANDMARKS];
} FemoFaceInfo;

/* Fills @face from @roi, whatever its roi_type. */
void femo_face_info_read (FemoFaceInfo * face,
    GstVideoRegionOfInterestMeta * roi);

/* The probability of class @class_name, or -1 when the face has none. */
gdouble femo_face_info_get_prob (const FemoFaceInfo * face,
    const gchar * class_name);

/* Reads the next face of @buffer into @face; @state starts at NULL. FALSE
 * after the last. The faces are the ROI metas of roi_type
 * FEMO_META_ROI_TYPE_FACE, in meta order; a buffer without one gives the
 * object detections of type "face" of its GstAnalyticsRelationMeta
 * instead, in mtd order (skipping boxes of no area), so a face attached in
 * both forms is read once. */
gboolean femo_buffer_iterate_faces (GstBuffer * buffer, gpointer * state,
    FemoFaceInfo * face);

/* Like femo_buffer_iterate_faces() for regions of every type: all the ROI
 * metas, then the relation meta's object detections of each type that no
 * ROI meta of the buffer has (femooverlay draws these). */
gboolean femo_buffer_iterate_regions (GstBuffer * buffer, gpointer * state,
    FemoFaceInfo * region);

/* Appends every face of @buffer, in meta order, to @faces (a GArray of
 * FemoFaceInfo); returns how many. */
guint femo_buffer_get_faces (GstBuffer * buffer, GArray * faces);

/* ---- Writing the contract (femodetect) ----
 *
 * What femodetect attaches, in one place with the reader above, so that
 * the two cannot drift apart. */

/* Attaches a FEMO_META_ROI_TYPE_FACE ROI meta with the box and @id. */
GstVideoRegionOfInterestMeta *femo_meta_add_face (GstBuffer * buffer,
    guint x, guint y, guint width, guint height, gint id);
/* Gives @roi a FEMO_META_DETECTION_PARAMS_NAME param: @confidence (0..1),
 * @neighbors (left out when negative: a detector without them), and its
 * box normalised to the @frame_width x @frame_height frame. */
void femo_meta_add_detection (GstVideoRegionOfInterestMeta * roi,
    gdouble confidence, gint neighbors, gint frame_width, gint frame_height);
/* Gives @roi a FEMO_META_LANDMARKS_PARAMS_NAME param: @xy holds x, y of
 * each landmark in the order of FemoFaceInfo.landmarks, in pixels of the
 * frame. */
void femo_meta_add_landmarks (GstVideoRegionOfInterestMeta * roi,
    const gdouble * xy);
/* The FEMO_META_LANDMARKS_PARAMS_NAME structure of @xy (as above). */
GstStructure *femo_meta_new_landmarks (const gdouble * xy);
/* Gives @roi a FEMO_META_OBJECT_ID_PARAMS_NAME param with @id. */
void femo_meta_add_object_id (GstVideoRegionOfInterestMeta * roi, gint id);
/* An emotion structure @params_name (FEMO_META_EMOTION_PARAMS_NAME or
 * FEMO_META_EMOTION_RAW_PARAMS_NAME): class @label of the @n_classes
 * named @class_names, its probability, every class's probability @probs,
 * and @track_id when not 0. */
GstStructure *femo_meta_new_emotion (const gchar * params_name,
    const gchar * const *class_names, const gfloat * probs, guint n_classes,
    guint label, guint track_id);
/* Gives @roi that emotion param; it replaces a param of the same name (from
 * an earlier element). */
void femo_meta_set_emotion (GstVideoRegionOfInterestMeta * roi,
    const gchar * params_name, const gchar * const *class_names,
    const gfloat * probs, guint n_classes, guint label, guint track_id);

/* GstAnalyticsRelationMeta (see the table at the top). Without
 * gstreamer-analytics-1.0 at build time femo_meta_has_analytics() is FALSE
 * and the functions after it change nothing and return -1 or FALSE. */
gboolean femo_meta_has_analytics (void);
/* Adds an object-detection mtd of type FEMO_META_ROI_TYPE_FACE with the
 * box and @confidence (0..1) to @buffer's relation meta, which it adds when
 * the buffer has none. Returns the mtd's id. */
gint femo_meta_add_analytics_face (GstBuffer * buffer, guint x, guint y,
    guint width, guint height, gdouble confidence);
/* The id of the first face detection in @buffer's relation meta with
 * exactly this box (where an earlier femodetect put the face of a ROI
 * meta), -1 when there is none. */
gint femo_meta_find_analytics_face (GstBuffer * buffer, guint x, guint y,
    guint width, guint height);
/* Adds a classification mtd related from the detection @face_id: entry 0
 * class @label of the @n_classes named @class_names with its probability,
 * then the other classes in their order. */
gboolean femo_meta_add_analytics_emotion (GstBuffer * buffer, guint face_id,
    const gchar * const *class_names, const gfloat * probs, guint n_classes,
    guint label);
/* Adds a tracking mtd @track_id related from the detection @face_id, first
 * seen at @first_seen and last seen at @last_seen. */
gboolean femo_meta_add_analytics_track (GstBuffer * buffer, guint face_id,
    guint64 track_id, GstClockTime first_seen, GstClockTime last_seen);

/* femodetect's per-frame message (FEMO_META_DETECT_MESSAGE_NAME) with no
 * face yet; times in nanoseconds (GST_CLOCK_TIME_NONE when unknown). */
GstStructure *femo_meta_new_frame_message (GstClockTime timestamp,
    GstClockTime stream_time, GstClockTime running_time,
    GstClockTime duration);
/* Appends a face to @message: its box, a copy of @emotion when not NULL,
 * and @track_id when not 0. */
void femo_meta_frame_message_add_box (GstStructure * message, guint x,
    guint y, guint width, guint height, const GstStructure * emotion,
    guint track_id);
/* Gives the face last appended to @message its detection confidence
 * (FEMO_META_FIELD_DETECTION_CONFIDENCE; left out when negative) and a
 * copy of @landmarks (FEMO_META_FIELD_LANDMARKS; nullable). */
void femo_meta_frame_message_set_detection (GstStructure * message,
    gdouble confidence, const GstStructure * landmarks);
/* Appends the face of @roi to @message: its box, a copy of its emotion
 * when it has one, @track_id when not 0, and its detection confidence and
 * landmarks when it has them. */
void femo_meta_frame_message_add_face (GstStructure * message,
    GstVideoRegionOfInterestMeta * roi, guint track_id);
/* FEMO_META_LABEL_CHANGED_MESSAGE_NAME: track @track_id now shows
 * @new_label, on the frame of @timestamp. */
GstStructure *femo_meta_new_label_changed (guint track_id,
    const gchar * old_label, const gchar * new_label, GstClockTime timestamp,
    GstClockTime running_time);
/* FEMO_META_TRACK_ENDED_MESSAGE_NAME: its summary; @dominant_label may be
 * NULL (never classified). */
GstStructure *femo_meta_new_track_ended (guint track_id,
    GstClockTime first_timestamp, GstClockTime last_timestamp,
    GstClockTime duration, guint frames, guint label_changes,
    const gchar * dominant_label, const gchar * reason);

G_END_DECLS
