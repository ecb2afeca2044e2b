/* gst-femo: borrowed 8-bit image views and luma extraction
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "femo-image.h"

/* OpenCV's COLOR_RGB2GRAY on 8-bit data: BT.601 weights in 14-bit fixed
 * point with rounding. Using the same integers makes our gray frames, and so
 * our detections, identical to what OpenCV-based detectors see. */
#define GRAY_SHIFT 14
#define GRAY_R 4899
#define GRAY_G 9617
#define GRAY_B 1868

void
femo_rgb_to_gray (const guint8 * src, gint src_stride,
    const FemoRgbLayout * layout, gint width, gint height,
    guint8 * dst, gint dst_stride)
{
  const gint bpp = layout->bytes_per_pixel;
  const gint ro = layout->r_offset, go = layout->g_offset, bo =
      layout->b_offset;

  for (gint y = 0; y < height; y++) {
    const guint8 *s = src + (gsize) y * src_stride;
    guint8 *d = dst + (gsize) y * dst_stride;
    for (gint x = 0; x < width; x++, s += bpp)
      d[x] = (guint8) ((s[ro] * GRAY_R + s[go] * GRAY_G + s[bo] * GRAY_B +
              (1 << (GRAY_SHIFT - 1))) >> GRAY_SHIFT);
  }
}
