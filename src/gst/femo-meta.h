/* gst-femo: the metadata contract of the femo elements
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Installed as <gst/femo/femo-meta.h>. Everything downstream of femodetect
 * (the emotion element, the overlay, the gst-femo tool, applications) reads
 * faces through these names only.
 *
 * Buffers: one GstVideoRegionOfInterestMeta per face, with roi_type
 * FEMO_META_ROI_TYPE_FACE and the box in pixels of the frame.
 *
 * Bus: with post-messages=true, femodetect posts one element message per
 * frame, even when it found no face. Its structure has exactly the schema of
 * gst-plugins-bad's facedetect message (only the name differs), so code
 * written for facedetect works with a changed name:
 *
 * |[
 * femodetect,
 *     timestamp=(guint64)...,      buffer PTS (GST_CLOCK_TIME_NONE if none)
 *     stream-time=(guint64)...,    PTS in stream time
 *     running-time=(guint64)...,   PTS in running time
 *     duration=(guint64)...,       buffer duration
 *     faces=(GstValueList){ face, x=(uint)..., y=(uint)...,
 *                                 width=(uint)..., height=(uint)...; ... }
 * ]|
 */
#pragma once

#include <glib.h>

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

/* ---- Emotion parameters of a face (read by femooverlay) ----
 *
 * Each face ROI meta may carry a param structure named
 * FEMO_META_EMOTION_PARAMS_NAME with the winning class
 * (FEMO_META_EMOTION_FIELD_LABEL, G_TYPE_STRING; ..._LABEL_ID, G_TYPE_INT),
 * its probability (..._CONFIDENCE, G_TYPE_DOUBLE), one G_TYPE_DOUBLE field
 * per class of the model, named after the class, in the model's order, and
 * optionally ..._TRACK_ID (G_TYPE_UINT or G_TYPE_INT, > 0 when tracked).
 * Every G_TYPE_DOUBLE field other than the confidence is a class probability.
 */
#define FEMO_META_EMOTION_PARAMS_NAME "femo/emotion"
#define FEMO_META_EMOTION_FIELD_LABEL "label"
#define FEMO_META_EMOTION_FIELD_LABEL_ID "label_id"
#define FEMO_META_EMOTION_FIELD_CONFIDENCE "confidence"
#define FEMO_META_EMOTION_FIELD_TRACK_ID "track_id"

G_END_DECLS
