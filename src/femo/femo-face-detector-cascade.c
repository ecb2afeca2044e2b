/* gst-femo: OpenCV's Haar and LBP cascades behind the face-detector
 * interface
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "femo-face-detector-private.h"
#include "femo-error.h"

/* Room for every box of a scan, grown until one fits (and kept): about
 * the limit of the analyzer's own face arrays. */
#define INITIAL_ALL_CAPACITY 64
#define MAX_ALL_CAPACITY (1 << 20)

typedef struct
{
  FemoFaceDetector parent;
  FemoCascade *cascade;
  FemoDetector *scanner;
  /* With a minimum confidence: all the boxes of a scan, theirs, and the
   * order write_largest needs, [all_capacity] each. */
  FemoRect *all;
  gdouble *all_confidence;
  gsize *all_order;
  gsize all_capacity;
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

static void
set_confidence (const FemoRect * faces, gdouble * confidence, gsize n)
{
  gsize i;

  for (i = 0; i < n; i++) {
    gint neighbors = MAX (faces[i].neighbors, 0);

    confidence[i] = neighbors / (neighbors +
        FEMO_FACE_DETECTOR_NEIGHBORS_HALF);
  }
}

static gboolean
grow_all (CascadeFaceDetector * self, const FemoImageView * image,
    GError ** error)
{
  gsize capacity = MAX (INITIAL_ALL_CAPACITY, self->all_capacity * 2);
  FemoRect *all = g_try_renew (FemoRect, self->all, capacity);
  gdouble *conf = all ? g_try_renew (gdouble, self->all_confidence,
      capacity) : NULL;
  gsize *order = conf ? g_try_renew (gsize, self->all_order, capacity) : NULL;

  /* what was renewed is kept, at the old capacity until all three grew */
  if (all != NULL)
    self->all = all;
  if (conf != NULL)
    self->all_confidence = conf;
  if (order == NULL) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_NO_MEMORY, "out of memory "
        "for the boxes of a %dx%d frame: no boxes", image->width,
        image->height);
    return FALSE;
  }
  self->all_order = order;
  self->all_capacity = capacity;
  return TRUE;
}

/* A minimum confidence drops boxes before max_faces keeps the largest, so
 * the scan keeps them all (grouping decides the neighbours; dropping after
 * it is not the same as a higher min_neighbors, which changes what OpenCV's
 * grouping removes inside other boxes). */
static gsize
cascade_detect_confident (CascadeFaceDetector * self,
    const FemoImageView * image, const FemoFaceDetectParams * params,
    FemoRect * faces, gdouble * confidence, gsize capacity, GError ** error)
{
  FemoDetectParams scan = params->scan;
  gsize i, n, n_kept = 0;

  scan.max_faces = 0;
  if (self->all_capacity == 0 && !grow_all (self, image, error))
    return 0;
  for (;;) {
    GError *local = NULL;

    n = femo_detector_detect_full (self->scanner, image, &scan, self->all,
        self->all_capacity, &local);
    if (local != NULL) {
      g_propagate_error (error, local);
      return 0;
    }
    if (n < self->all_capacity || self->all_capacity >= MAX_ALL_CAPACITY)
      break;
    if (!grow_all (self, image, error))
      return 0;
  }
  set_confidence (self->all, self->all_confidence, n);
  for (i = 0; i < n; i++) {
    if (self->all_confidence[i] < params->min_confidence)
      continue;
    self->all[n_kept] = self->all[i];
    self->all_confidence[n_kept++] = self->all_confidence[i];
  }
  return femo_face_detector_write_largest (&params->scan, capacity,
      self->all, self->all_confidence, NULL, n_kept, self->all_order, faces,
      confidence, NULL);
}

static gsize
cascade_detect (FemoFaceDetector * detector,
    const FemoFaceDetectorInput * input, const FemoFaceDetectParams * params,
    FemoRect * faces, gdouble * confidence, FemoLandmarks * landmarks,
    gsize capacity, GError ** error)
{
  CascadeFaceDetector *self = (CascadeFaceDetector *) detector;
  gsize n;

  /* every confidence is >= 0: no minimum is OpenCV's scan exactly */
  if (params->min_confidence > 0)
    return cascade_detect_confident (self, &input->luma, params, faces,
        confidence, capacity, error);
  n = femo_detector_detect_full (self->scanner, &input->luma, &params->scan,
      faces, capacity, error);
  set_confidence (faces, confidence, n);
  return n;
}

static void
cascade_free (FemoFaceDetector * detector)
{
  CascadeFaceDetector *self = (CascadeFaceDetector *) detector;

  /* The scanner points into the cascade: it goes first. */
  femo_detector_free (self->scanner);
  femo_cascade_unref (self->cascade);
  g_free (self->all);
  g_free (self->all_confidence);
  g_free (self->all_order);
  g_free (self);
}

static const FemoFaceDetectorVTable cascade_vtable = {
  FEMO_FACE_DETECTOR_INPUT_LUMA,
  FALSE,
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
