/* gst-femo: borrowed 8-bit image views, luma extraction and conversion to
 * BGR
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

/* The layout of B, G, R bytes (OpenCV's order, which YuNet reads). */
#define FEMO_RGB_LAYOUT_BGR { 3, 2, 1, 0 }

/**
 * FemoColorView:
 * @data: first pixel of the first row (borrowed)
 * @width, @height: pixels
 * @stride: bytes from one row to the next
 * @layout: where red, green and blue sit in a pixel
 *
 * A view of packed colour pixels that someone else owns.
 */
typedef struct
{
  const guint8 *data;
  gint width;
  gint height;
  gint stride;
  FemoRgbLayout layout;
} FemoColorView;

void femo_rgb_to_gray (const guint8 * src, gint src_stride,
    const FemoRgbLayout * layout, gint width, gint height,
    guint8 * dst, gint dst_stride);

/* How Y'CbCr encodes R'G'B': the luma weights of ITU-R BT.601 (SD),
 * BT.709 (HD) or BT.2020 (UHD). */
typedef enum
{
  FEMO_YUV_MATRIX_BT601,
  FEMO_YUV_MATRIX_BT709,
  FEMO_YUV_MATRIX_BT2020,
} FemoYuvMatrix;

/**
 * FemoChroma:
 * @u, @v: the Cb and Cr samples of a YUV frame: a plane each (pixel_stride
 *   1), interleaved (NV12: 2) or inside packed pixels (YUY2: 4); their
 *   width and height are those of the subsampled grid. @u.data NULL: the
 *   frame has no chroma (GRAY8), B = G = R = Y.
 * @x_shift, @y_shift: one chroma sample covers 1 << @x_shift luma pixels
 *   across and 1 << @y_shift down (I420, NV12: 1, 1; YUY2, Y42B: 1, 0;
 *   Y41B: 2, 0; Y444: 0, 0)
 * @matrix: the colour matrix (the caps' colorimetry)
 * @full_range: Y', Cb, Cr use 0..255; FALSE: Y' 16..235 and Cb, Cr 16..240
 *   (the usual video range)
 */
typedef struct
{
  FemoImageView u;
  FemoImageView v;
  gint x_shift;
  gint y_shift;
  FemoYuvMatrix matrix;
  gboolean full_range;
} FemoChroma;

/* Converts @luma (with @chroma, nullable, as above) to packed B, G, R bytes
 * at @dst: @luma->width x @luma->height pixels, rows @dst_stride bytes
 * apart. Each chroma sample applies to the luma pixels it covers (no
 * interpolation); values are rounded and clipped to 0..255. */
void femo_yuv_to_bgr (const FemoImageView * luma, const FemoChroma * chroma,
    guint8 * dst, gint dst_stride);

/**
 * femo_image_to_bgr:
 * @image: a frame: its luma, or its packed pixels when @rgb is set
 * @rgb: (nullable): the layout of packed RGB pixels
 * @chroma: (nullable): with a luma @image, its chroma (FemoChroma)
 * @dst: (out caller-allocates): @width x @height B, G, R bytes, rows
 *   @dst_stride bytes apart
 * @width, @height: @image's size, or smaller: then area averaged as
 *   femo_image_resample() does (YUV before it is converted: the conversion
 *   is affine, so the colours are the same but where they clip, and fewer
 *   pixels are converted)
 * @scratch: room for 3 * @width * @height bytes, used when @width x
 *   @height is smaller than a luma @image; else unused (may be NULL)
 *
 * The frame in colour, as YuNet reads it.
 */
void femo_image_to_bgr (const FemoImageView * image,
    const FemoRgbLayout * rgb, const FemoChroma * chroma, guint8 * dst,
    gint width, gint height, gint dst_stride, guint8 * scratch);

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
/* The value at continuous coordinates (@x, @y) (pixel centres at +0.5),
 * interpolated bilinearly; outside, the nearest edge pixel repeats. */
gdouble femo_image_sample (const FemoImageView * image, gdouble x, gdouble y);
/* The same into pixels @dst_pixel_stride bytes apart in rows @dst_stride
 * bytes apart (one channel of a packed colour image). */
void femo_image_resample_to (const FemoImageView * image, gdouble x,
    gdouble y, gdouble width, gdouble height, guint8 * dst, gint dst_width,
    gint dst_height, gint dst_stride, gint dst_pixel_stride);

/**
 * femo_image_shrink_to_bgr:
 * @image: packed colour pixels
 * @factor: 1 or more
 * @dst: (out caller-allocates): the shrunk image, B, G, R bytes:
 *   ceil (width / @factor) x ceil (height / @factor) pixels, rows
 *   @dst_stride bytes apart
 * @sums: scratch: room for @image->width * @image->layout.bytes_per_pixel
 *   values
 *
 * Shrinks @image by a whole factor: each destination pixel is the mean of
 * a @factor x @factor block of source pixels (at the right and bottom
 * edges, of the part of the block inside the image), rounded. That is the
 * area average femo_image_resample() computes for this ratio, in one
 * cheap pass over the source.
 */
void femo_image_shrink_to_bgr (const FemoColorView * image, gint factor,
    guint8 * dst, gint dst_stride, guint32 * sums);

G_END_DECLS
