/* gst-femo: borrowed 8-bit image views and luma extraction
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "femo-image.h"

#include <math.h>

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

static inline guint8
pixel_at (const FemoImageView * image, gint x, gint y)
{
  x = CLAMP (x, 0, image->width - 1);
  y = CLAMP (y, 0, image->height - 1);
  return image->data[(gsize) y * image->stride + (gsize) x * image->pixel_stride];
}

/* Bilinear sample at continuous coordinates (pixel centres at +0.5). */
static gdouble
sample_bilinear (const FemoImageView * image, gdouble sx, gdouble sy)
{
  gdouble fx = sx - 0.5, fy = sy - 0.5;
  gint x0 = (gint) floor (fx), y0 = (gint) floor (fy);
  gdouble ax = fx - x0, ay = fy - y0;
  gdouble top = pixel_at (image, x0, y0) * (1 - ax) +
      pixel_at (image, x0 + 1, y0) * ax;
  gdouble bottom = pixel_at (image, x0, y0 + 1) * (1 - ax) +
      pixel_at (image, x0 + 1, y0 + 1) * ax;
  return top * (1 - ay) + bottom * ay;
}

/* Mean of the source over [x0,x1) x [y0,y1), each pixel weighted by the
 * fraction of it that lies inside the box. */
static gdouble
sample_area (const FemoImageView * image, gdouble x0, gdouble y0, gdouble x1,
    gdouble y1)
{
  gdouble sum = 0;
  gint iy0 = (gint) floor (y0), iy1 = (gint) ceil (y1);
  gint ix0 = (gint) floor (x0), ix1 = (gint) ceil (x1);

  for (gint y = iy0; y < iy1; y++) {
    gdouble wy = MIN (y1, y + 1.0) - MAX (y0, (gdouble) y);
    gdouble row = 0;
    for (gint x = ix0; x < ix1; x++) {
      gdouble wx = MIN (x1, x + 1.0) - MAX (x0, (gdouble) x);
      row += wx * pixel_at (image, x, y);
    }
    sum += wy * row;
  }
  return sum / ((x1 - x0) * (y1 - y0));
}

void
femo_image_resample (const FemoImageView * image, gdouble x, gdouble y,
    gdouble width, gdouble height, guint8 * dst, gint dst_width,
    gint dst_height)
{
  gdouble step_x = width / dst_width, step_y = height / dst_height;

  g_return_if_fail (image->width > 0 && image->height > 0);
  g_return_if_fail (width > 0 && height > 0);

  for (gint j = 0; j < dst_height; j++) {
    for (gint i = 0; i < dst_width; i++) {
      gdouble v;
      /* Shrinking along an axis averages; enlarging interpolates. Mixed
       * cases (a very flat region) use the area path, which is exact for
       * both. */
      if (step_x > 1.0 || step_y > 1.0)
        v = sample_area (image, x + i * step_x, y + j * step_y,
            x + (i + 1) * step_x, y + (j + 1) * step_y);
      else
        v = sample_bilinear (image, x + (i + 0.5) * step_x,
            y + (j + 0.5) * step_y);
      dst[(gsize) j * dst_width + i] = (guint8) CLAMP (v + 0.5, 0, 255);
    }
  }
}
