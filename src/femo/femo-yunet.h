/* gst-femo: YuNet, libfacedetection's CNN face detector, on our kernels
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The network, its decoding and NMS exactly as upstream's (docs/yunet.md;
 * ../shared/docs/yunet.md describes upstream in detail): raw 0..255
 * B,G,R bytes, zero padding to a multiple of 32 at the bottom and right,
 * stride 8/16/32 heads, score sqrt(sigmoid(cls) * sigmoid(obj)), greedy
 * NMS at IoU 0.45.
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

/* Widest and tallest image femo_yunet_detect() takes. */
#define FEMO_YUNET_MAX_SIDE 65536

/**
 * femo_yunet_detect:
 * @pixels: packed 3- or 4-byte pixels, rows @stride bytes apart
 * @layout: where blue, green and red sit in a pixel
 * @threshold: keep candidates with score >= this (upstream: 0.2)
 * @faces: (out caller-allocates): room for @capacity faces
 *
 * Runs the network on @width x @height pixels as they are (no resizing)
 * and writes the faces after NMS, highest score first, at most
 * min (@capacity, FEMO_YUNET_KEEP_TOP_K). Any size from 1 x 1 to
 * FEMO_YUNET_MAX_SIDE on each side runs: like upstream, the image is
 * zero-padded at the bottom and right to a multiple of 32 (a face needs
 * some 10 pixels to be found at all). Returns how many; 0 with @error set
 * when the size, stride or layout is out of range (FEMO_ERROR_ARGUMENT) or
 * the buffers for this size cannot be allocated (FEMO_ERROR_NO_MEMORY).
 * The buffers are sized at the first frame of a size and reused; one call
 * at a time per @net.
 */
gsize femo_yunet_detect (FemoYunet * net, const guint8 * pixels,
    gint width, gint height, gint stride, const FemoRgbLayout * layout,
    gfloat threshold, FemoYunetFace * faces, gsize capacity,
    GError ** error);

/**
 * femo_yunet_nms:
 * @faces: (inout): @n faces, highest score first (ties in the order they
 *   should win)
 * @max_out: keep at most this many
 *
 * femo_yunet_detect()'s greedy NMS over faces found by other calls (the
 * faces of one image at several scales, mapped to the same pixels): a face
 * is kept when its IoU with every face kept before it is <=
 * FEMO_YUNET_NMS_IOU. The kept faces move to the front, in their order;
 * returns how many.
 */
gsize femo_yunet_nms (FemoYunetFace * faces, gsize n, gsize max_out);

/**
 * FemoYunetStage:
 *
 * The network's intermediate maps, in the order they are computed, for
 * checking an implementation layer by layer (sN = the padded image's size
 * divided by N; channel counts after the name). The heads have 16
 * channels: cls, the 4 box offsets, obj, the 10 landmark offsets.
 * FEMO_YUNET_STAGE_DECODED is one row per cell, stride 8 cells first, then
 * 16, then 32, each level row by row: sigmoid (cls), the box corners
 * x1, y1, x2, y2, sigmoid (obj), the landmarks x0, y0, .. x4, y4.
 */
typedef enum
{
  FEMO_YUNET_STAGE_STEM,        /* s2, 16: 3x3 stride-2 conv + ReLU */
  FEMO_YUNET_STAGE_MODEL0,      /* s2, 16: the stem's DP unit */
  FEMO_YUNET_STAGE_POOL0,       /* s4, 16 */
  FEMO_YUNET_STAGE_MODEL1,      /* s4, 32 */
  FEMO_YUNET_STAGE_MODEL2,      /* s4, 64 */
  FEMO_YUNET_STAGE_MODEL3,      /* s8, 64 (C8) */
  FEMO_YUNET_STAGE_MODEL4,      /* s16, 64 (C16) */
  FEMO_YUNET_STAGE_MODEL5,      /* s32, 64 (C32) */
  FEMO_YUNET_STAGE_NECK32,      /* s32, 64 (P32) */
  FEMO_YUNET_STAGE_HEAD32,      /* s32, 16 */
  FEMO_YUNET_STAGE_UP_ADD16,    /* s16, 64: P32 upsampled + C16 */
  FEMO_YUNET_STAGE_NECK16,      /* s16, 64 (P16) */
  FEMO_YUNET_STAGE_HEAD16,      /* s16, 16 */
  FEMO_YUNET_STAGE_UP_ADD8,     /* s8, 64: P16 upsampled + C8 */
  FEMO_YUNET_STAGE_NECK8,       /* s8, 64 (P8) */
  FEMO_YUNET_STAGE_HEAD8,       /* s8, 16 */
  FEMO_YUNET_STAGE_DECODED,     /* cells x 1 x 16 */
  FEMO_YUNET_N_STAGES
} FemoYunetStage;

/**
 * femo_yunet_run_stage:
 * @out: (out caller-allocates): room for @capacity floats
 *
 * Runs the network on an image as femo_yunet_detect() does, up to @stage,
 * and copies that map out as rows x cols x channels floats (HWC, the order
 * of upstream's tensors). Returns FALSE with @error set as
 * femo_yunet_detect() does, or FEMO_ERROR_ARGUMENT when @capacity is too
 * small; *@rows, *@cols, *@channels are set either way once the size is
 * known. For tests: slower than femo_yunet_detect().
 */
gboolean femo_yunet_run_stage (FemoYunet * net, const guint8 * pixels,
    gint width, gint height, gint stride, const FemoRgbLayout * layout,
    FemoYunetStage stage, gfloat * out, gsize capacity, guint * rows,
    guint * cols, guint * channels, GError ** error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FemoYunet, femo_yunet_free)

G_END_DECLS
