/* gst-femo: borrowed 8-bit image views, luma extraction and conversion to
 * BGR
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "femo-image.h"

#include <math.h>
#include <string.h>

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

/* Y'CbCr to R'G'B' in 16-bit fixed point: with the luma weights Kr, Kb
 * (Kg = 1 - Kr - Kb), R = Y + 2 (1 - Kr) Cr, B = Y + 2 (1 - Kb) Cb,
 * G = Y - 2 Kb (1 - Kb) / Kg Cb - 2 Kr (1 - Kr) / Kg Cr, with Y, Cb, Cr
 * first scaled from video range (219 and 224 steps) to 255 steps. */
#define YUV_SHIFT 16

typedef struct
{
  gint y_offset, y_scale;
  gint r_cr, g_cb, g_cr, b_cb;
} YuvCoefficients;

static void
yuv_coefficients (FemoYuvMatrix matrix, gboolean full_range,
    YuvCoefficients * c)
{
  static const gdouble weights[][2] = {
    [FEMO_YUV_MATRIX_BT601] = {0.299, 0.114},
    [FEMO_YUV_MATRIX_BT709] = {0.2126, 0.0722},
    [FEMO_YUV_MATRIX_BT2020] = {0.2627, 0.0593},
  };
  const gdouble one = 1 << YUV_SHIFT;
  gdouble kr = weights[matrix][0], kb = weights[matrix][1];
  gdouble kg = 1.0 - kr - kb;
  gdouble ys = full_range ? 1.0 : 255.0 / 219.0;
  gdouble cs = full_range ? 1.0 : 255.0 / 224.0;

  c->y_offset = full_range ? 0 : 16;
  c->y_scale = lround (ys * one);
  c->r_cr = lround (2.0 * (1.0 - kr) * cs * one);
  c->b_cb = lround (2.0 * (1.0 - kb) * cs * one);
  c->g_cb = lround (2.0 * kb * (1.0 - kb) / kg * cs * one);
  c->g_cr = lround (2.0 * kr * (1.0 - kr) / kg * cs * one);
}

static inline guint8
clip_fixed (gint v)
{
  v = (v + (1 << (YUV_SHIFT - 1))) >> YUV_SHIFT;
  return (guint8) CLAMP (v, 0, 255);
}

void
femo_yuv_to_bgr (const FemoImageView * luma, const FemoChroma * chroma,
    guint8 * dst, gint dst_stride)
{
  YuvCoefficients c;

  g_return_if_fail (luma != NULL && dst != NULL);

  if (chroma == NULL || chroma->u.data == NULL) {
    for (gint y = 0; y < luma->height; y++) {
      const guint8 *s = luma->data + (gsize) y * luma->stride;
      guint8 *d = dst + (gsize) y * dst_stride;

      for (gint x = 0; x < luma->width; x++, s += luma->pixel_stride, d += 3)
        d[0] = d[1] = d[2] = *s;
    }
    return;
  }

  yuv_coefficients (chroma->matrix, chroma->full_range, &c);
  for (gint y = 0; y < luma->height; y++) {
    const guint8 *s = luma->data + (gsize) y * luma->stride;
    const guint8 *u = chroma->u.data +
        (gsize) (y >> chroma->y_shift) * chroma->u.stride;
    const guint8 *v = chroma->v.data +
        (gsize) (y >> chroma->y_shift) * chroma->v.stride;
    guint8 *d = dst + (gsize) y * dst_stride;

    for (gint x = 0; x < luma->width; x++, s += luma->pixel_stride, d += 3) {
      gint cx = x >> chroma->x_shift;
      gint yv = (*s - c.y_offset) * c.y_scale;
      gint cb = u[(gsize) cx * chroma->u.pixel_stride] - 128;
      gint cr = v[(gsize) cx * chroma->v.pixel_stride] - 128;

      d[0] = clip_fixed (yv + c.b_cb * cb);
      d[1] = clip_fixed (yv - c.g_cb * cb - c.g_cr * cr);
      d[2] = clip_fixed (yv + c.r_cr * cr);
    }
  }
}

static inline guint8
pixel_at (const FemoImageView * image, gint x, gint y)
{
  x = CLAMP (x, 0, image->width - 1);
  y = CLAMP (y, 0, image->height - 1);
  return image->data[(gsize) y * image->stride + (gsize) x * image->pixel_stride];
}

gdouble
femo_image_sample (const FemoImageView * image, gdouble sx, gdouble sy)
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
  femo_image_resample_to (image, x, y, width, height, dst, dst_width,
      dst_height, dst_width, 1);
}

void
femo_image_resample_to (const FemoImageView * image, gdouble x, gdouble y,
    gdouble width, gdouble height, guint8 * dst, gint dst_width,
    gint dst_height, gint dst_stride, gint dst_pixel_stride)
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
        v = femo_image_sample (image, x + (i + 0.5) * step_x,
            y + (j + 0.5) * step_y);
      dst[(gsize) j * dst_stride + (gsize) i * dst_pixel_stride] =
          (guint8) CLAMP (v + 0.5, 0, 255);
    }
  }
}

void
femo_image_to_bgr (const FemoImageView * image, const FemoRgbLayout * rgb,
    const FemoChroma * chroma, guint8 * dst, gint width, gint height,
    gint dst_stride, guint8 * scratch)
{
  gboolean full = width == image->width && height == image->height;
  gsize area = (gsize) width * height;
  FemoImageView luma = { scratch, width, height, width, 1 };
  FemoChroma small;

  g_return_if_fail (width > 0 && width <= image->width);
  g_return_if_fail (height > 0 && height <= image->height);
  g_return_if_fail (rgb != NULL || full || scratch != NULL);

  if (rgb != NULL) {
    const gint offsets[3] = { rgb->b_offset, rgb->g_offset, rgb->r_offset };

    for (gint c = 0; c < 3; c++) {
      FemoImageView channel = { image->data + offsets[c], image->width,
        image->height, image->stride, rgb->bytes_per_pixel
      };

      femo_image_resample_to (&channel, 0, 0, image->width, image->height,
          dst + c, width, height, dst_stride, 3);
    }
    return;
  }
  if (full) {
    femo_yuv_to_bgr (image, chroma, dst, dst_stride);
    return;
  }
  femo_image_resample (image, 0, 0, image->width, image->height, scratch,
      width, height);
  if (chroma == NULL || chroma->u.data == NULL) {
    femo_yuv_to_bgr (&luma, NULL, dst, dst_stride);
    return;
  }
  /* the frame's extent in chroma samples (the last sample of an odd width
   * covers only part of its span) */
  small = *chroma;
  femo_image_resample (&chroma->u, 0, 0,
      (gdouble) image->width / (1 << chroma->x_shift),
      (gdouble) image->height / (1 << chroma->y_shift), scratch + area,
      width, height);
  femo_image_resample (&chroma->v, 0, 0,
      (gdouble) image->width / (1 << chroma->x_shift),
      (gdouble) image->height / (1 << chroma->y_shift), scratch + 2 * area,
      width, height);
  small.u = small.v = luma;
  small.u.data = scratch + area;
  small.v.data = scratch + 2 * area;
  small.x_shift = small.y_shift = 0;
  femo_yuv_to_bgr (&luma, &small, dst, dst_stride);
}

void
femo_image_shrink_to_bgr (const FemoColorView * image, gint factor,
    guint8 * dst, gint dst_stride, guint32 * sums)
{
  const gint bpp = image->layout.bytes_per_pixel;
  const gint offsets[3] = { image->layout.b_offset, image->layout.g_offset,
    image->layout.r_offset
  };
  const gsize row_bytes = (gsize) image->width * bpp;

  g_return_if_fail (factor >= 1);

  for (gint y0 = 0; y0 < image->height; y0 += factor) {
    const gint rows = MIN (factor, image->height - y0);
    guint8 *d = dst + (gsize) (y0 / factor) * dst_stride;

    /* the block's rows summed first, every byte of a pixel alike: one
     * pass over contiguous bytes that the compiler vectorises */
    memset (sums, 0, row_bytes * sizeof (guint32));
    for (gint y = y0; y < y0 + rows; y++) {
      const guint8 *src = image->data + (gsize) y * image->stride;
      for (gsize i = 0; i < row_bytes; i++)
        sums[i] += src[i];
    }
    for (gint x0 = 0; x0 < image->width; x0 += factor, d += 3) {
      const gint cols = MIN (factor, image->width - x0);
      const guint32 n = (guint32) (rows * cols);

      for (gint c = 0; c < 3; c++) {
        const guint32 *s = sums + (gsize) x0 * bpp + offsets[c];
        guint32 sum = 0;
        for (gint x = 0; x < cols; x++)
          sum += s[x * bpp];
        d[c] = (guint8) ((sum + n / 2) / n);
      }
    }
  }
}
