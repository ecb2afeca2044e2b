/* gst-femo: YuNet, libfacedetection's CNN face detector, on our kernels
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The network, its decoding and NMS exactly as docs/yunet.md (from
 * ../shared/docs/yunet.md) describes upstream's: raw 0..255 B,G,R bytes,
 * zero padding to a multiple of 32 at the bottom and right, stride 8/16/32
 * heads, score sqrt(sigmoid(cls) * sigmoid(obj)), greedy NMS at IoU 0.45.
 * Weights come from models/yunet.safetensors (models/convert-yunet.py
 * makes it from upstream's facedetectcnn-data.cpp).
 */
#pragma once

#include <glib.h>
#include "femo-image.h"

G_BEGIN_DECLS

/* Upstream's own limits: candidates kept before NMS, faces after it. */
#define FEMO_YUNET_TOP_K 1000
#define FEMO_YUNET_KEEP_TOP_K 512
#define FEMO_YUNET_NMS_IOU 0.45f
/* Upstream's score threshold (its output = ours at this threshold). */
#define FEMO_YUNET_UPSTREAM_THRESHOLD 0.2f
#define FEMO_YUNET_N_LANDMARKS 5

/**
 * FemoYunetFace:
 * @score: sqrt(sigmoid(cls) * sigmoid(obj)), 0..1
 * @x1, @y1, @x2, @y2: the box's float corners in input pixels, not
 *   clipped to the image (as upstream)
 * @landmarks: x, y of the eye on the image's left, the eye on its right,
 *   the nose tip, the mouth corner on the left, on the right; input
 *   pixels, not clipped
 */
typedef struct
{
  gfloat score;
  gfloat x1, y1, x2, y2;
  gfloat landmarks[2 * FEMO_YUNET_N_LANDMARKS];
} FemoYunetFace;

typedef struct _FemoYunet FemoYunet;

/* Loads the weights; NULL + a FEMO_ERROR naming the file and the tensor
 * when a name, dtype or shape is not the network's. @n_threads: 0 = one
 * per core. */
FemoYunet *femo_yunet_new_from_file (const gchar * path, guint n_threads,
    GError ** error);
FemoYunet *femo_yunet_new_from_data (const guint8 * data, gsize size,
    const gchar * name, guint n_threads, GError ** error);
void femo_yunet_free (FemoYunet * net);

void femo_yunet_set_n_threads (FemoYunet * net, guint n_threads);
guint femo_yunet_get_threads_used (const FemoYunet * net);

/**
 * femo_yunet_detect:
 * @pixels: packed 3- or 4-byte pixels, rows @stride bytes apart
 * @layout: where blue, green and red sit in a pixel
 * @threshold: keep candidates with score >= this (upstream: 0.2)
 * @faces: (out caller-allocates): room for @capacity faces
 *
 * Runs the network on @width x @height pixels as they are (no resizing)
 * and writes the faces after NMS, highest score first, at most
 * min (@capacity, FEMO_YUNET_KEEP_TOP_K). Returns how many; 0 with @error
 * set when the image is smaller than one stride-32 cell (FEMO_ERROR_ARGUMENT),
 * too large to address, or its buffers cannot be allocated
 * (FEMO_ERROR_NO_MEMORY).
 */
gsize femo_yunet_detect (FemoYunet * net, const guint8 * pixels,
    gint width, gint height, gint stride, const FemoRgbLayout * layout,
    gfloat threshold, FemoYunetFace * faces, gsize capacity,
    GError ** error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FemoYunet, femo_yunet_free)

G_END_DECLS
