/* gst-femo: OpenCV's Haar and LBP cascades behind the face-detector
 * interface
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "femo-face-detector-private.h"

typedef struct
{
  FemoFaceDetector parent;
  FemoCascade *cascade;
  FemoDetector *scanner;
} CascadeFaceDetector;

static const gchar *
cascade_describe (const FemoFaceDetector * detector)
{
  const CascadeFaceDetector *self = (const CascadeFaceDetector *) detector;

  return femo_cascade_get_kind (self->cascade) == FEMO_CASCADE_LBP ?
      "LBP cascade" : "Haar cascade";
}

static guint
cascade_get_threads_used (const FemoFaceDetector * detector)
{
  const CascadeFaceDetector *self = (const CascadeFaceDetector *) detector;

  return femo_detector_get_n_threads (self->scanner);
}

static void
cascade_set_n_threads (FemoFaceDetector * detector, guint n_threads)
{
  CascadeFaceDetector *self = (CascadeFaceDetector *) detector;

  femo_detector_free (self->scanner);
  self->scanner = femo_detector_new (self->cascade, n_threads);
}

static gsize
cascade_detect (FemoFaceDetector * detector, const FemoImageView * image,
    const FemoDetectParams * params, FemoRect * faces, gdouble * confidence,
    gsize capacity, GError ** error)
{
  CascadeFaceDetector *self = (CascadeFaceDetector *) detector;
  gsize i, n;

  n = femo_detector_detect_full (self->scanner, image, params, faces,
      capacity, error);
  for (i = 0; i < n; i++) {
    gint neighbors = MAX (faces[i].neighbors, 0);

    confidence[i] = neighbors / (neighbors +
        FEMO_FACE_DETECTOR_NEIGHBORS_HALF);
  }
  return n;
}

static void
cascade_free (FemoFaceDetector * detector)
{
  CascadeFaceDetector *self = (CascadeFaceDetector *) detector;

  /* The scanner points into the cascade: it goes first. */
  femo_detector_free (self->scanner);
  femo_cascade_unref (self->cascade);
  g_free (self);
}

static const FemoFaceDetectorVTable cascade_vtable = {
  cascade_describe,
  cascade_get_threads_used,
  cascade_set_n_threads,
  cascade_detect,
  cascade_free,
};

FemoFaceDetector *
femo_face_detector_cascade_new_from_file (const gchar * path,
    guint n_threads, GError ** error)
{
  CascadeFaceDetector *self;
  FemoCascade *cascade;

  cascade = femo_cascade_new_from_file (path, error);
  if (cascade == NULL)
    return NULL;
  self = g_new0 (CascadeFaceDetector, 1);
  self->parent.vtable = &cascade_vtable;
  self->cascade = cascade;
  self->scanner = femo_detector_new (cascade, n_threads);
  return &self->parent;
}
