/* gst-femo: the face-detector interface
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "femo-face-detector-private.h"

#include <stdlib.h>
#include <string.h>

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
    case FEMO_FACE_DETECTOR_YUNET:
      detector = femo_face_detector_yunet_new_from_file (path, n_threads,
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

FemoFaceDetectorInputKind
femo_face_detector_get_input_kind (const FemoFaceDetector * detector)
{
  return detector->vtable->input_kind;
}

gboolean
femo_face_detector_has_landmarks (const FemoFaceDetector * detector)
{
  return detector->vtable->has_landmarks;
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
    const FemoFaceDetectorInput * input, const FemoFaceDetectParams * params,
    FemoRect * faces, gdouble * confidence, FemoLandmarks * landmarks,
    gsize capacity, GError ** error)
{
  g_return_val_if_fail (detector != NULL && input != NULL, 0);
  g_return_val_if_fail (params != NULL, 0);
  g_return_val_if_fail (capacity == 0 || (faces != NULL
          && confidence != NULL), 0);
  g_return_val_if_fail (error == NULL || *error == NULL, 0);
  return detector->vtable->detect (detector, input, params, faces,
      confidence, detector->vtable->has_landmarks ? landmarks : NULL,
      capacity, error);
}

/* Larger first, then earlier. */
static gint
compare_larger (gconstpointer pa, gconstpointer pb, gpointer user_data)
{
  const FemoRect *faces = user_data;
  gsize ia = *(const gsize *) pa, ib = *(const gsize *) pb;
  gint64 area_a = (gint64) faces[ia].width * faces[ia].height;
  gint64 area_b = (gint64) faces[ib].width * faces[ib].height;

  if (area_a != area_b)
    return area_a > area_b ? -1 : 1;
  return ia < ib ? -1 : 1;
}

static gint
compare_index (gconstpointer pa, gconstpointer pb)
{
  gsize a = *(const gsize *) pa, b = *(const gsize *) pb;

  return a < b ? -1 : a > b;
}

gsize
femo_face_detector_write_largest (const FemoDetectParams * scan,
    gsize capacity, FemoRect * found, gdouble * found_confidence,
    FemoLandmarks * found_landmarks, gsize n, gsize * order,
    FemoRect * faces, gdouble * confidence, FemoLandmarks * landmarks)
{
  gsize i, keep = capacity;

  if (scan->max_faces > 0)
    keep = MIN (keep, (gsize) scan->max_faces);
  if (keep < n) {
    for (i = 0; i < n; i++)
      order[i] = i;
    g_qsort_with_data (order, n, sizeof (gsize), compare_larger, found);
    /* the kept ones, back in their order; each moves down, never up */
    qsort (order, keep, sizeof (gsize), compare_index);
    for (i = 0; i < keep; i++) {
      found[i] = found[order[i]];
      found_confidence[i] = found_confidence[order[i]];
      if (found_landmarks != NULL)
        found_landmarks[i] = found_landmarks[order[i]];
    }
    n = keep;
  }
  memcpy (faces, found, n * sizeof (FemoRect));
  memcpy (confidence, found_confidence, n * sizeof (gdouble));
  if (found_landmarks != NULL && landmarks != NULL)
    memcpy (landmarks, found_landmarks, n * sizeof (FemoLandmarks));
  return n;
}
