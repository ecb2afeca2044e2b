/* gst-femo: the face-detector interface: one detector per kind, behind
 * one call that finds the faces of a luma image
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
} FemoFaceDetectorKind;

/* The cascade's detection confidence: a face found by n overlapping raw
 * windows gets n / (n + FEMO_FACE_DETECTOR_NEIGHBORS_HALF), 0.5 at 10. */
#define FEMO_FACE_DETECTOR_NEIGHBORS_HALF 10.0

typedef struct _FemoFaceDetector FemoFaceDetector;

/* Loads the detector of @kind from @path (the cascade XML); @n_threads
 * scan one image, 0 = one per CPU core. NULL + a FEMO_ERROR naming the
 * file when it does not load. */
FemoFaceDetector *femo_face_detector_new_from_file (FemoFaceDetectorKind kind,
    const gchar * path, guint n_threads, GError ** error);
void femo_face_detector_free (FemoFaceDetector * detector);

FemoFaceDetectorKind femo_face_detector_get_kind (const FemoFaceDetector *
    detector);
/* What was loaded, for logs (e.g. "Haar cascade"). */
const gchar *femo_face_detector_describe (const FemoFaceDetector * detector);
/* The thread count asked for (0 = one per core) and the one in use. */
guint femo_face_detector_get_n_threads (const FemoFaceDetector * detector);
guint femo_face_detector_get_threads_used (const FemoFaceDetector * detector);
void femo_face_detector_set_n_threads (FemoFaceDetector * detector,
    guint n_threads);

/* Finds the faces of @image with @params and writes at most @capacity of
 * them, largest first when they do not all fit, into @faces (boxes clipped
 * to the image, neighbours where the detector has them, else 0) and their
 * detection confidences (0..1) into @confidence. Returns how many were
 * written; 0 and @error set (FEMO_ERROR_NO_MEMORY) when the scan could
 * not get its memory. */
gsize femo_face_detector_detect (FemoFaceDetector * detector,
    const FemoImageView * image, const FemoDetectParams * params,
    FemoRect * faces, gdouble * confidence, gsize capacity, GError ** error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FemoFaceDetector, femo_face_detector_free)

G_END_DECLS
