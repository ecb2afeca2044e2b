/* gst-femo: random geometric augmentation of training faces
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "femo-augment.h"

#include <math.h>

static inline gfloat
normalize (gfloat v)
{
  return v / 127.5f - 1.0f;
}

void
femo_augment_draw (FemoRng * rng, const FemoAugmentParams * params,
    gint width, gint height, FemoAffine * affine)
{
  /* Draw every value first so that the stream does not depend on params. */
  gdouble theta = femo_rng_range (rng, -params->rotation, params->rotation);
  gdouble tx = femo_rng_range (rng, -params->shift, params->shift) * width;
  gdouble ty = femo_rng_range (rng, -params->shift, params->shift) * height;
  gdouble zx = femo_rng_range (rng, 1.0 - params->zoom, 1.0 + params->zoom);
  gdouble zy = femo_rng_range (rng, 1.0 - params->zoom, 1.0 + params->zoom);
  gboolean flip = femo_rng_uniform (rng) < 0.5 && params->flip;
  gdouble cx = (width - 1) * 0.5, cy = (height - 1) * 0.5;
  gdouble c = cos (theta * G_PI / 180.0), s = sin (theta * G_PI / 180.0);
  gdouble fx = flip ? -1.0 : 1.0;
  gdouble *m = affine->m;

  /* input - centre = R(theta) Z(zx, zy) (F (output - centre)) + shift, as
   * Keras' rotation, shift and zoom matrices (about the centre), with the
   * flip applied to the output as Keras flips after the warp. */
  m[0] = c * zx * fx;
  m[1] = -s * zy;
  m[3] = s * zx * fx;
  m[4] = c * zy;
  m[2] = cx + tx - (m[0] * cx + m[1] * cy);
  m[5] = cy + ty - (m[3] * cx + m[4] * cy);
}

void
femo_augment_warp (const guint8 * src, gint width, gint height, gint stride,
    const FemoAffine * affine, gfloat * dst)
{
  const gdouble *m = affine->m;
  const gdouble max_x = width - 1, max_y = height - 1;
  gint x, y;

  g_return_if_fail (width > 0 && height > 0 && stride >= width);

  for (y = 0; y < height; y++) {
    for (x = 0; x < width; x++) {
      gdouble sx = m[0] * x + m[1] * y + m[2];
      gdouble sy = m[3] * x + m[4] * y + m[5];
      gint x0, y0, x1, y1;
      gfloat ax, ay, top, bottom;
      const guint8 *r0, *r1;

      /* Clamping the coordinate is edge replication (Keras "nearest"); the
       * negated test also catches NaN. */
      sx = !(sx > 0.0) ? 0.0 : sx > max_x ? max_x : sx;
      sy = !(sy > 0.0) ? 0.0 : sy > max_y ? max_y : sy;
      x0 = (gint) sx;
      y0 = (gint) sy;
      x1 = MIN (x0 + 1, width - 1);
      y1 = MIN (y0 + 1, height - 1);
      ax = (gfloat) (sx - x0);
      ay = (gfloat) (sy - y0);
      r0 = src + (gsize) y0 *stride;
      r1 = src + (gsize) y1 *stride;
      top = r0[x0] + ax * (r0[x1] - r0[x0]);
      bottom = r1[x0] + ax * (r1[x1] - r1[x0]);
      dst[(gsize) y * width + x] = normalize (top + ay * (bottom - top));
    }
  }
}

#define ERASE_AREA_MIN 0.02
#define ERASE_AREA_MAX 0.33
#define ERASE_ASPECT 3.3
#define ERASE_TRIES 10

gboolean
femo_augment_erase (FemoRng * rng, gdouble p, gint width, gint height,
    gfloat * dst)
{
  gint i;

  g_return_val_if_fail (width > 0 && height > 0, FALSE);

  if (!(femo_rng_uniform (rng) < p))
    return FALSE;
  /* A rectangle that does not fit is drawn again, as in the paper; after
   * ERASE_TRIES the image stays whole. */
  for (i = 0; i < ERASE_TRIES; i++) {
    gdouble area = femo_rng_range (rng, ERASE_AREA_MIN, ERASE_AREA_MAX)
        * width * height;
    gdouble aspect = exp (femo_rng_range (rng, -log (ERASE_ASPECT),
            log (ERASE_ASPECT)));
    gint w = (gint) round (sqrt (area * aspect));
    gint h = (gint) round (sqrt (area / aspect));
    gint x0, y0, x, y;

    if (w < 1 || h < 1 || w > width || h > height)
      continue;
    x0 = (gint) femo_rng_below (rng, (guint32) (width - w + 1));
    y0 = (gint) femo_rng_below (rng, (guint32) (height - h + 1));
    for (y = y0; y < y0 + h; y++)
      for (x = x0; x < x0 + w; x++)
        dst[(gsize) y * width + x] = (gfloat) femo_rng_range (rng, -1.0, 1.0);
    return TRUE;
  }
  return FALSE;
}

void
femo_augment_normalize (const guint8 * src, gsize n, gfloat * dst)
{
  gsize i;

  for (i = 0; i < n; i++)
    dst[i] = normalize (src[i]);
}
