/* gst-femo: YuNet (femo-yunet.h) behind the face-detector interface
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The network scans the whole image itself: of the scan's parameters only
 * the sizes (a filter on its boxes) and max_faces apply. Its threshold is
 * the minimum confidence, so that at upstream's 0.2 the faces are
 * upstream's (docs/yunet.md: filtering after NMS equals running at that
 * threshold).
 */
#include "femo-face-detector-private.h"
#include "femo-yunet.h"

#include <math.h>
#include <string.h>

G_STATIC_ASSERT (FEMO_YUNET_N_LANDMARKS == FEMO_N_LANDMARKS);

typedef struct
{
  FemoFaceDetector parent;
  FemoYunet *net;
  /* the network's faces, then as the interface gives them, and the order
   * write_largest needs: FEMO_YUNET_KEEP_TOP_K each */
  FemoYunetFace *found;
  FemoRect *rects;
  gdouble *confidence;
  FemoLandmarks *landmarks;
  gsize *order;
} YunetFaceDetector;

static const gchar *
yunet_describe (const FemoFaceDetector * detector)
{
  return "YuNet";
}

static guint
yunet_get_threads_used (const FemoFaceDetector * detector)
{
  const YunetFaceDetector *self = (const YunetFaceDetector *) detector;

  return femo_yunet_get_threads_used (self->net);
}

static void
yunet_set_n_threads (FemoFaceDetector * detector, guint n_threads)
{
  YunetFaceDetector *self = (YunetFaceDetector *) detector;

  femo_yunet_set_n_threads (self->net, n_threads);
}

/* Upstream's (int) cast, truncating toward zero, held in range: the box
 * decoding does not clamp exp (dw), so a box may be huge or infinite. */
#define COORD_LIMIT (1 << 30)

static gint
truncate_coord (gfloat v)
{
  if (!(v > -COORD_LIMIT))
    return -COORD_LIMIT;        /* NaN too: an empty box after clipping */
  if (v > COORD_LIMIT)
    return COORD_LIMIT;
  return (gint) v;
}

/* Whether a face of @w x @h pixels passes the size limits (0 = none).
 * A face's size is its larger side: YuNet's boxes are taller than wide
 * (about 0.8:1) where the cascade's are square, and a face the cascade
 * finds at 37x37 comes out of YuNet at about 29x39; comparing the width
 * would drop it at the default min-size of 30. */
static gboolean
size_allowed (const FemoDetectParams * p, gint w, gint h)
{
  return (w >= p->min_width || h >= p->min_height)
      && (p->max_width <= 0 || w <= p->max_width)
      && (p->max_height <= 0 || h <= p->max_height);
}

static gsize
yunet_detect (FemoFaceDetector * detector,
    const FemoFaceDetectorInput * input, const FemoFaceDetectParams * params,
    FemoRect * faces, gdouble * confidence, FemoLandmarks * landmarks,
    gsize capacity, GError ** error)
{
  YunetFaceDetector *self = (YunetFaceDetector *) detector;
  const FemoColorView *image = &input->color;
  gdouble min_confidence = params->min_confidence >= 0 ?
      params->min_confidence : FEMO_YUNET_DEFAULT_MIN_CONFIDENCE;
  gfloat threshold = (gfloat) min_confidence;
  gsize i, n, k = 0;

  /* The network compares scores in float: where the nearest float is
   * below min_confidence, a score equal to it would be kept below the
   * minimum. */
  if (threshold < min_confidence)
    threshold = nextafterf (threshold, G_MAXFLOAT);
  n = femo_yunet_detect (self->net, image->data, image->width, image->height,
      image->stride, &image->layout, threshold, self->found,
      FEMO_YUNET_KEEP_TOP_K, error);
  for (i = 0; i < n; i++) {
    const FemoYunetFace *f = &self->found[i];
    /* upstream's integer box: corner and size truncated toward zero */
    gint x = truncate_coord (f->x1), y = truncate_coord (f->y1);
    gint w = truncate_coord (f->x2 - f->x1);
    gint h = truncate_coord (f->y2 - f->y1);
    /* clipped to the image, as the cascade's */
    gint64 x0 = CLAMP (x, 0, image->width), y0 = CLAMP (y, 0, image->height);
    gint64 x1 = CLAMP ((gint64) x + w, 0, image->width);
    gint64 y1 = CLAMP ((gint64) y + h, 0, image->height);
    FemoRect *r = &self->rects[k];

    if (x1 <= x0 || y1 <= y0 || !size_allowed (&params->scan, w, h))
      continue;
    r->x = x0;
    r->y = y0;
    r->width = x1 - x0;
    r->height = y1 - y0;
    r->neighbors = 0;
    self->confidence[k] = f->score;
    memcpy (self->landmarks[k].points, f->landmarks,
        sizeof (self->landmarks[k].points));
    k++;
  }
  return femo_face_detector_write_largest (&params->scan, capacity,
      self->rects, self->confidence, self->landmarks, k, self->order, faces,
      confidence, landmarks);
}

static void
yunet_free (FemoFaceDetector * detector)
{
  YunetFaceDetector *self = (YunetFaceDetector *) detector;

  femo_yunet_free (self->net);
  g_free (self->found);
  g_free (self->rects);
  g_free (self->confidence);
  g_free (self->landmarks);
  g_free (self->order);
  g_free (self);
}

static const FemoFaceDetectorVTable yunet_vtable = {
  FEMO_FACE_DETECTOR_INPUT_COLOR,
  TRUE,
  yunet_describe,
  yunet_get_threads_used,
  yunet_set_n_threads,
  yunet_detect,
  yunet_free,
};

FemoFaceDetector *
femo_face_detector_yunet_new_from_file (const gchar * path, guint n_threads,
    GError ** error)
{
  YunetFaceDetector *self;
  FemoYunet *net;

  net = femo_yunet_new_from_file (path, n_threads, error);
  if (net == NULL)
    return NULL;
  self = g_new0 (YunetFaceDetector, 1);
  self->parent.vtable = &yunet_vtable;
  self->net = net;
  self->found = g_new (FemoYunetFace, FEMO_YUNET_KEEP_TOP_K);
  self->rects = g_new (FemoRect, FEMO_YUNET_KEEP_TOP_K);
  self->confidence = g_new (gdouble, FEMO_YUNET_KEEP_TOP_K);
  self->landmarks = g_new (FemoLandmarks, FEMO_YUNET_KEEP_TOP_K);
  self->order = g_new (gsize, FEMO_YUNET_KEEP_TOP_K);
  return &self->parent;
}
