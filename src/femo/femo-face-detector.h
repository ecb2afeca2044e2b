/* gst-femo: the face-detector interface: one detector per kind, behind
 * one call that finds the faces of an image
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * FemoAnalyzer (femo-analyzer.c) sees detectors only through this header.
 * A new detector is one new file (femo-face-detector-KIND.c with its
 * constructor), one value of FemoFaceDetectorKind and one case in
 * femo_face_detector_new_from_file().
 */
#pragma once

#include <glib.h>
#include "femo-cascade.h"
#include "femo-image.h"

G_BEGIN_DECLS

typedef enum
{
  /* An OpenCV Haar or LBP cascade XML, evaluated as detectMultiScale. */
  FEMO_FACE_DETECTOR_CASCADE,
  /* YuNet, libfacedetection's CNN (femo-yunet.h): its safetensors
   * weights. Reads colour; finds landmarks. */
  FEMO_FACE_DETECTOR_YUNET,
} FemoFaceDetectorKind;

/* The cascade's detection confidence: a face found by n overlapping raw
 * windows gets n / (n + FEMO_FACE_DETECTOR_NEIGHBORS_HALF), 0.5 at 10. */
#define FEMO_FACE_DETECTOR_NEIGHBORS_HALF 10.0

/* YuNet's minimum confidence when none is given (its score, 0..1): the
 * lowest threshold that keeps the shared single-speaker clips within
 * 0.95-1.10 faces per frame (README.md, tests/bench/bench-detectors.py). */
#define FEMO_YUNET_DEFAULT_MIN_CONFIDENCE 0.65

/* YuNet and large faces: its network finds faces up to about
 * FEMO_YUNET_FULL_SCAN_LIMIT pixels (a box's larger side) well. An image
 * whose shorter side exceeds FEMO_YUNET_SHRINK_ABOVE is scanned a second
 * time, shrunk by a whole factor (area average) to a shorter side of at
 * most FEMO_YUNET_SHRUNK_SIDE; faces larger than FEMO_YUNET_FULL_SCAN_LIMIT
 * come from that scan, faces smaller than half of it from the image's
 * own, and YuNet's NMS merges the two. */
#define FEMO_YUNET_FULL_SCAN_LIMIT 400
#define FEMO_YUNET_SHRINK_ABOVE 480
#define FEMO_YUNET_SHRUNK_SIDE 320

/* The five landmarks of a face, in this order (YuNet's): "left" and "right"
 * as seen in the image (the left eye is the subject's right eye). */
typedef enum
{
  FEMO_LANDMARK_LEFT_EYE,
  FEMO_LANDMARK_RIGHT_EYE,
  FEMO_LANDMARK_NOSE,
  FEMO_LANDMARK_LEFT_MOUTH,
  FEMO_LANDMARK_RIGHT_MOUTH,
  FEMO_N_LANDMARKS
} FemoLandmark;

/**
 * FemoLandmarks:
 * @points: x, y of each #FemoLandmark in turn, in pixels of the image
 *   (continuous: 0.0 is the left edge of the first pixel); a point may lie
 *   a little outside the image
 */
typedef struct
{
  gfloat points[2 * FEMO_N_LANDMARKS];
} FemoLandmarks;

/* What a detector reads: the frame's luma, or its colour. */
typedef enum
{
  FEMO_FACE_DETECTOR_INPUT_LUMA,
  FEMO_FACE_DETECTOR_INPUT_COLOR,
} FemoFaceDetectorInputKind;

/**
 * FemoFaceDetectorInput:
 * @luma: the image's luma, for a detector that reads luma
 * @color: the same image in colour, for one that reads colour
 *
 * One image for femo_face_detector_detect(). Only the view the detector
 * reads (femo_face_detector_get_input_kind()) needs to be set: the caller
 * converts a frame to what its detector needs, and nothing else.
 */
typedef struct
{
  FemoImageView luma;
  FemoColorView color;
} FemoFaceDetectorInput;

/**
 * FemoFaceDetectParams:
 * @scan: the cascade's detectMultiScale parameters; for every detector,
 *   the size limits and max_faces (a detector without a scan of its own
 *   drops the faces outside the sizes)
 * @min_confidence: faces of a lower detection confidence are dropped
 *   before max_faces takes the largest; negative: the detector's default
 *   (the cascade: 0, every face; YuNet: FEMO_YUNET_DEFAULT_MIN_CONFIDENCE,
 *   and its network's threshold is this)
 */
typedef struct
{
  FemoDetectParams scan;
  gdouble min_confidence;
} FemoFaceDetectParams;

#define FEMO_FACE_DETECT_PARAMS_INIT { FEMO_DETECT_PARAMS_INIT, -1.0 }

typedef struct _FemoFaceDetector FemoFaceDetector;

/* Loads the detector of @kind from @path (the cascade XML, YuNet's
 * safetensors weights); @n_threads
 * scan one image, 0 = one per CPU core. NULL + a FEMO_ERROR naming the
 * file when it does not load. */
FemoFaceDetector *femo_face_detector_new_from_file (FemoFaceDetectorKind kind,
    const gchar * path, guint n_threads, GError ** error);
void femo_face_detector_free (FemoFaceDetector * detector);

FemoFaceDetectorKind femo_face_detector_get_kind (const FemoFaceDetector *
    detector);
/* Whether it reads luma or colour (FemoFaceDetectorInput). */
FemoFaceDetectorInputKind femo_face_detector_get_input_kind (const
    FemoFaceDetector * detector);
/* Whether it finds the landmarks of its faces. */
gboolean femo_face_detector_has_landmarks (const FemoFaceDetector * detector);
/* What was loaded, for logs (e.g. "Haar cascade"). */
const gchar *femo_face_detector_describe (const FemoFaceDetector * detector);
/* The thread count asked for (0 = one per core) and the one in use. */
guint femo_face_detector_get_n_threads (const FemoFaceDetector * detector);
guint femo_face_detector_get_threads_used (const FemoFaceDetector * detector);
void femo_face_detector_set_n_threads (FemoFaceDetector * detector,
    guint n_threads);

/* Finds the faces of @input with @params and writes at most @capacity of
 * them, largest first when they do not all fit, into @faces (boxes clipped
 * to the image, neighbours where the detector has them, else 0), their
 * detection confidences (0..1) into @confidence and, when the detector has
 * them and @landmarks is not NULL, their landmarks into @landmarks (all in
 * pixels of the image). Returns how many were written; 0 and @error set
 * when the scan could not get its memory (FEMO_ERROR_NO_MEMORY) or the
 * detector cannot take the image (FEMO_ERROR_ARGUMENT, e.g. one too small
 * for it). */
gsize femo_face_detector_detect (FemoFaceDetector * detector,
    const FemoFaceDetectorInput * input, const FemoFaceDetectParams * params,
    FemoRect * faces, gdouble * confidence, FemoLandmarks * landmarks,
    gsize capacity, GError ** error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FemoFaceDetector, femo_face_detector_free)

G_END_DECLS
