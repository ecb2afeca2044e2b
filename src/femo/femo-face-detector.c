/* gst-femo: the face-detector interface
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "femo-face-detector-private.h"

FemoFaceDetector *
femo_face_detector_new_from_file (FemoFaceDetectorKind kind,
    const gchar * path, guint n_threads, GError ** error)
{
  FemoFaceDetector *detector = NULL;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  switch (kind) {
    case FEMO_FACE_DETECTOR_CASCADE:
      detector = femo_face_detector_cascade_new_from_file (path, n_threads,
          error);
      break;
  }
  g_return_val_if_fail (detector != NULL || error == NULL || *error != NULL,
      NULL);
  if (detector != NULL) {
    detector->kind = kind;
    detector->n_threads = n_threads;
  }
  return detector;
}

void
femo_face_detector_free (FemoFaceDetector * detector)
{
  if (detector != NULL)
    detector->vtable->free (detector);
}

FemoFaceDetectorKind
femo_face_detector_get_kind (const FemoFaceDetector * detector)
{
  return detector->kind;
}

const gchar *
femo_face_detector_describe (const FemoFaceDetector * detector)
{
  return detector->vtable->describe (detector);
}

guint
femo_face_detector_get_n_threads (const FemoFaceDetector * detector)
{
  return detector->n_threads;
}

guint
femo_face_detector_get_threads_used (const FemoFaceDetector * detector)
{
  return detector->vtable->get_threads_used (detector);
}

void
femo_face_detector_set_n_threads (FemoFaceDetector * detector,
    guint n_threads)
{
  if (n_threads == detector->n_threads)
    return;
  detector->vtable->set_n_threads (detector, n_threads);
  detector->n_threads = n_threads;
}

gsize
femo_face_detector_detect (FemoFaceDetector * detector,
    const FemoImageView * image, const FemoDetectParams * params,
    FemoRect * faces, gdouble * confidence, gsize capacity, GError ** error)
{
  g_return_val_if_fail (detector != NULL, 0);
  g_return_val_if_fail (capacity == 0 || (faces != NULL
          && confidence != NULL), 0);
  g_return_val_if_fail (error == NULL || *error == NULL, 0);
  return detector->vtable->detect (detector, image, params, faces,
      confidence, capacity, error);
}
