/* gst-femo: YuNet (femo-yunet.h) behind the face-detector interface
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The network scans the whole image itself: of the scan's parameters only
 * the sizes (a filter on its boxes) and max_faces apply. Its threshold is
 * the minimum confidence, so that at upstream's 0.2 the faces are
 * upstream's but for the large ones below (docs/yunet.md: filtering after
 * NMS equals running at that threshold).
 *
 * Large faces: the network's strides (8, 16, 32) fit faces up to some 400
 * pixels. A larger face scores lower and falls apart into several partial
 * boxes (a 1,500 pixel face: none at 0.6), so an image that can hold one
 * (FEMO_YUNET_SHRINK_ABOVE) is scanned again shrunk, and both scans'
 * faces are merged (docs/yunet.md, section 6, has the measurements). Each
 * scan's threshold filter and NMS commute as upstream's do, so the merged
 * faces at a threshold are still those of a lower one with that score.
 */
#include "femo-face-detector-private.h"
#include "femo-error.h"
#include "femo-yunet.h"

#include <math.h>
#include <string.h>

G_STATIC_ASSERT (FEMO_YUNET_N_LANDMARKS == FEMO_N_LANDMARKS);

typedef struct
{
  FemoFaceDetector parent;
  FemoYunet *net;
  /* the shrunk copy's B, G, R bytes, then the row sums that make it;
   * grown to the largest image seen */
  guint8 *small;
  gsize small_size;
  /* the network's faces: the image's scan's, then from
   * FEMO_YUNET_KEEP_TOP_K on the shrunk copy's */
  FemoYunetFace *found;
  /* both scans' faces in score order, for the NMS: 2 *
   * FEMO_YUNET_KEEP_TOP_K */
  FemoYunetFace *merged;
  /* the faces as the interface gives them, and the order write_largest
   * needs: FEMO_YUNET_KEEP_TOP_K each */
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

/* The whole factor @image is shrunk by for its second scan, to a shorter
 * side of at most FEMO_YUNET_SHRUNK_SIDE; 0: none. */
static gint
shrink_factor (const FemoColorView * image)
{
  gint side = MIN (image->width, image->height);

  if (side <= FEMO_YUNET_SHRINK_ABOVE)
    return 0;
  return (side + FEMO_YUNET_SHRUNK_SIDE - 1) / FEMO_YUNET_SHRUNK_SIDE;
}

/* YuNet on @image shrunk by @factor: its faces, in @image's pixels, ->
 * self->found + FEMO_YUNET_KEEP_TOP_K; returns how many. */
static gsize
detect_small (YunetFaceDetector * self, const FemoColorView * image,
    gint factor, gfloat threshold, GError ** error)
{
  const FemoRgbLayout bgr = FEMO_RGB_LAYOUT_BGR;
  FemoYunetFace *found = self->found + FEMO_YUNET_KEEP_TOP_K;
  const gint w = (image->width + factor - 1) / factor;
  const gint h = (image->height + factor - 1) / factor;
  /* the sums aligned after the pixels */
  const gsize pixels = ((gsize) w * h * 3 + 3) / 4 * 4;
  const gsize size = pixels +
      (gsize) image->width * image->layout.bytes_per_pixel * sizeof (guint32);
  const gfloat scale = (gfloat) factor;
  gsize i, n;

  if (size > self->small_size) {
    guint8 *p = g_try_realloc (self->small, size);

    if (p == NULL) {
      g_set_error (error, FEMO_ERROR, FEMO_ERROR_NO_MEMORY, "yunet: out of "
          "memory for the %dx%d copy of a %dx%d image", w, h, image->width,
          image->height);
      return 0;
    }
    self->small = p;
    self->small_size = size;
  }
  femo_image_shrink_to_bgr (image, factor, self->small, w * 3,
      (guint32 *) (self->small + pixels));
  n = femo_yunet_detect (self->net, self->small, w, h, w * 3, &bgr,
      threshold, found, FEMO_YUNET_KEEP_TOP_K, error);
  /* each pixel of the copy is factor x factor of the image's: pixel
   * coordinates (0 = the left edge) scale exactly */
  for (i = 0; i < n; i++) {
    FemoYunetFace *f = &found[i];

    f->x1 *= scale;
    f->y1 *= scale;
    f->x2 *= scale;
    f->y2 *= scale;
    for (gint k = 0; k < 2 * FEMO_YUNET_N_LANDMARKS; k++)
      f->landmarks[k] *= scale;
  }
  return n;
}

static gfloat
larger_side (const FemoYunetFace * f)
{
  return MAX (f->x2 - f->x1, f->y2 - f->y1);
}

/* The @n_full faces of the image's scan up to FEMO_YUNET_FULL_SCAN_LIMIT
 * and the @n_small of the shrunk one from half that (a face both see is
 * kept by one of them even where they measure it up to twice as large as
 * each other; in between the better scored wins), merged in score order
 * (of equal ones the image's first) -> self->merged, then YuNet's NMS.
 * Returns how many it keeps. */
static gsize
merge_scans (YunetFaceDetector * self, gsize n_full, gsize n_small)
{
  const FemoYunetFace *full = self->found;
  const FemoYunetFace *small = self->found + FEMO_YUNET_KEEP_TOP_K;
  gsize i = 0, j = 0, n = 0;

  for (;;) {
    while (i < n_full && larger_side (&full[i]) > FEMO_YUNET_FULL_SCAN_LIMIT)
      i++;
    while (j < n_small
        && larger_side (&small[j]) < FEMO_YUNET_FULL_SCAN_LIMIT / 2)
      j++;
    if (i == n_full && j == n_small)
      break;
    if (j == n_small || (i < n_full && full[i].score >= small[j].score))
      self->merged[n++] = full[i++];
    else
      self->merged[n++] = small[j++];
  }
  return femo_yunet_nms (self->merged, n, FEMO_YUNET_KEEP_TOP_K);
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
  const gint factor = shrink_factor (image);
  const FemoYunetFace *found = self->found;
  GError *local = NULL;
  gsize i, n, n_small, k = 0;

  /* The network compares scores in float: where the nearest float is
   * below min_confidence, a score equal to it would be kept below the
   * minimum. */
  if (threshold < min_confidence)
    threshold = nextafterf (threshold, G_MAXFLOAT);
  n = femo_yunet_detect (self->net, image->data, image->width, image->height,
      image->stride, &image->layout, threshold, self->found,
      FEMO_YUNET_KEEP_TOP_K, &local);
  if (local == NULL && factor > 0) {
    n_small = detect_small (self, image, factor, threshold, &local);
    n = merge_scans (self, n, n_small);
    found = self->merged;
  }
  if (local != NULL) {
    g_propagate_error (error, local);
    return 0;
  }
  for (i = 0; i < n; i++) {
    const FemoYunetFace *f = &found[i];
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
  g_free (self->small);
  g_free (self->found);
  g_free (self->merged);
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
  self->found = g_new (FemoYunetFace, 2 * FEMO_YUNET_KEEP_TOP_K);
  self->merged = g_new (FemoYunetFace, 2 * FEMO_YUNET_KEEP_TOP_K);
  self->rects = g_new (FemoRect, FEMO_YUNET_KEEP_TOP_K);
  self->confidence = g_new (gdouble, FEMO_YUNET_KEEP_TOP_K);
  self->landmarks = g_new (FemoLandmarks, FEMO_YUNET_KEEP_TOP_K);
  self->order = g_new (gsize, FEMO_YUNET_KEEP_TOP_K);
  return &self->parent;
}
