/* gst-femo: what a face detector implements (femo-face-detector-*.c)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "femo-face-detector.h"

G_BEGIN_DECLS

typedef struct
{
  FemoFaceDetectorInputKind input_kind;
  gboolean has_landmarks;
  const gchar *(*describe) (const FemoFaceDetector * detector);
  guint (*get_threads_used) (const FemoFaceDetector * detector);
  /* Called only when the count changes. */
  void (*set_n_threads) (FemoFaceDetector * detector, guint n_threads);
  /* @landmarks: NULL, or room for @capacity when has_landmarks */
  gsize (*detect) (FemoFaceDetector * detector,
      const FemoFaceDetectorInput * input, const FemoFaceDetectParams * params,
      FemoRect * faces, gdouble * confidence, FemoLandmarks * landmarks,
      gsize capacity, GError ** error);
  void (*free) (FemoFaceDetector * detector);
} FemoFaceDetectorVTable;

/* The first member of every detector's own struct. */
struct _FemoFaceDetector
{
  const FemoFaceDetectorVTable *vtable;
  FemoFaceDetectorKind kind;
  guint n_threads;
};

FemoFaceDetector *femo_face_detector_cascade_new_from_file (const gchar *
    path, guint n_threads, GError ** error);
FemoFaceDetector *femo_face_detector_yunet_new_from_file (const gchar *
    path, guint n_threads, GError ** error);

/* What a detector with its own arrays gives: the first @n faces of
 * @found, @found_confidence and @found_landmarks (nullable), all of them,
 * or when there are more than MIN (@capacity, @scan->max_faces) that many
 * of the largest (by area; of equal ones the first), in their order,
 * written to @faces, @confidence and @landmarks (nullable with
 * @found_landmarks). @found arrays are reordered; @order: room for @n
 * indices. Returns how many were written. */
gsize femo_face_detector_write_largest (const FemoDetectParams * scan,
    gsize capacity, FemoRect * found, gdouble * found_confidence,
    FemoLandmarks * found_landmarks, gsize n, gsize * order,
    FemoRect * faces, gdouble * confidence, FemoLandmarks * landmarks);

G_END_DECLS
