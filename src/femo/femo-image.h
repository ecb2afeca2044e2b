/* gst-femo: borrowed 8-bit image views and luma extraction
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * FemoImageView:
 * @data: first pixel of the first row (borrowed, never freed by libfemo)
 * @width: pixels per row
 * @height: rows
 * @stride: bytes from one row to the next
 * @pixel_stride: bytes from one pixel to the next: 1 for a plane,
 *   2 for the Y of packed YUY2/UYVY
 *
 * A view of single-channel 8-bit pixels that someone else owns.
 */
typedef struct
{
  const guint8 *data;
  gint width;
  gint height;
  gint stride;
  gint pixel_stride;
} FemoImageView;

/**
 * FemoRgbLayout:
 * @bytes_per_pixel: 3 or 4
 * @r_offset: byte offset of red inside a pixel (same for green, blue)
 */
typedef struct
{
  gint bytes_per_pixel;
  gint r_offset;
  gint g_offset;
  gint b_offset;
} FemoRgbLayout;

void femo_rgb_to_gray (const guint8 * src, gint src_stride,
    const FemoRgbLayout * layout, gint width, gint height,
    guint8 * dst, gint dst_stride);

/**
 * femo_image_resample:
 * @image: source pixels
 * @x, @y, @width, @height: the source region in pixels (may reach past the
 *   image: outside pixels repeat the nearest edge pixel)
 * @dst: @dst_width x @dst_height bytes, rows packed
 *
 * Resamples a region to a small image: each destination pixel is the exact
 * area average of the source pixels it covers when shrinking (like OpenCV's
 * INTER_AREA, so no aliasing), bilinear interpolation when enlarging.
 */
void femo_image_resample (const FemoImageView * image, gdouble x, gdouble y,
    gdouble width, gdouble height, guint8 * dst, gint dst_width,
    gint dst_height);

G_END_DECLS
