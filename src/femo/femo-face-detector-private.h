/* gst-femo: what a face detector implements (femo-face-detector-*.c)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "femo-face-detector.h"

G_BEGIN_DECLS

typedef struct
{
  const gchar *(*describe) (const FemoFaceDetector * detector);
  guint (*get_threads_used) (const FemoFaceDetector * detector);
  /* Called only when the count changes. */
  void (*set_n_threads) (FemoFaceDetector * detector, guint n_threads);
  gsize (*detect) (FemoFaceDetector * detector, const FemoImageView * image,
      const FemoDetectParams * params, FemoRect * faces,
      gdouble * confidence, gsize capacity, GError ** error);
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

G_END_DECLS
