/* gst-femo: where the emotion network looks, given a face box or its eyes
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "femo-face-crop.h"

#include <math.h>

/* FEMO_FACE_CROP_FER_*, FER2013's eyes, are YuNet's on its Training
 * images (tests/bench/bench-fer-eyes.c, every one of the 28,709 enlarged
 * 4x; a centred face of score 0.5 or more in 28,352): mean left eye
 * 14.90, 17.80 (median 14.54, 18.14; standard deviation 3.8, 3.6 pixels),
 * right eye 32.30, 17.96 (32.71, 18.28; 3.9, 3.5), tilt 0.5 degrees
 * (7.5). The eyes go level at their mean height. Cross-check: the darkest
 * spots of the mean Training face (darkness-weighted centroids around its
 * two minima) are at 14.9, 17.7 and 33.3, 17.4. */

/* Display units: one unit = the display height of a pixel row. */
static gdouble
pixel_aspect (gint par_n, gint par_d)
{
  return (par_n > 0 && par_d > 0) ? (gdouble) par_n / par_d : 1.0;
}

void
femo_face_crop_region (gint x, gint y, gint width, gint height,
    gdouble margin, gint par_n, gint par_d, gdouble * crop_x,
    gdouble * crop_y, gdouble * crop_width, gdouble * crop_height)
{
  gdouble par = pixel_aspect (par_n, par_d);
  gdouble side = MAX (width * par, (gdouble) height) * (1.0 + 2.0 * margin);
  gdouble cx = x + width / 2.0;
  gdouble cy = y + height / 2.0;

  side = MAX (side, 1.0);
  *crop_width = side / par;
  *crop_height = side;
  *crop_x = cx - *crop_width / 2.0;
  *crop_y = cy - *crop_height / 2.0;
}

/* The intermediate image's largest side: more than a square of
 * MAX_ALIGNED_SIZE turned by 45 degrees (sqrt (2) / 2 < 3 / 4), and a
 * pixel on each side. */
#define MAX_GRID (2 * (FEMO_FACE_CROP_MAX_ALIGNED_SIZE * 3 / 4 + 2))

/* The crop is a similarity (turn, scale, shift) of the display. A rotated
 * area average would need each destination pixel's turned footprint; the
 * same result, short of a little bilinear blur, comes in two steps: an
 * upright area-averaged resample of the region the turned crop covers, to
 * a grid of the crop's own pixel size, then the turn, bilinear on that
 * grid. Unturned, the grid and the crop share their pixel centres, so the
 * second step copies. */
gboolean
femo_face_crop_aligned (const FemoImageView * image, gdouble left_x,
    gdouble left_y, gdouble right_x, gdouble right_y, gint par_n,
    gint par_d, guint8 * dst, gint size)
{
  guint8 grid[MAX_GRID * MAX_GRID];
  FemoImageView view = { grid, 0, 0, 0, 1 };
  gdouble par = pixel_aspect (par_n, par_d);
  gdouble to_size = (gdouble) size / FEMO_FACE_CROP_FER_SIZE;
  gdouble t0x = FEMO_FACE_CROP_FER_LEFT_EYE_X * to_size;
  gdouble t0y = FEMO_FACE_CROP_FER_EYE_Y * to_size;
  gdouble t1x = FEMO_FACE_CROP_FER_RIGHT_EYE_X * to_size;
  /* the eyes on the display */
  gdouble e0x = left_x * par, e0y = left_y;
  gdouble dx = right_x * par - e0x, dy = right_y - left_y;
  gdouble length = hypot (dx, dy);
  gdouble c, s, unit, cx, cy, ox, oy;
  gint n;

  g_return_val_if_fail (size > 0 && size <= FEMO_FACE_CROP_MAX_ALIGNED_SIZE,
      FALSE);

  if (!(length >= 1.0))
    return FALSE;
  c = dx / length;
  s = dy / length;
  /* display units per crop pixel */
  unit = length / (t1x - t0x);
  /* the crop's centre on the display: crop point p lands at
   * e0 + unit * R (p - t0), R turning by the eyes' angle */
  cx = e0x + unit * (c * (size / 2.0 - t0x) - s * (size / 2.0 - t0y));
  cy = e0y + unit * (s * (size / 2.0 - t0x) + c * (size / 2.0 - t0y));
  /* an even grid wide enough for the turned crop */
  n = 2 * ((gint) ceil (size / 2.0 * (fabs (c) + fabs (s))) + 1);
  n = MIN (n, MAX_GRID);
  ox = cx - n / 2.0 * unit;
  oy = cy - n / 2.0 * unit;
  view.width = view.height = view.stride = n;
  femo_image_resample (image, ox / par, oy, n * unit / par, n * unit, grid,
      n, n);

  for (gint j = 0; j < size; j++) {
    for (gint i = 0; i < size; i++) {
      gdouble px = i + 0.5 - size / 2.0, py = j + 0.5 - size / 2.0;
      /* in grid pixels from the grid's corner */
      gdouble gx = n / 2.0 + c * px - s * py;
      gdouble gy = n / 2.0 + s * px + c * py;
      gdouble v = femo_image_sample (&view, gx, gy);

      dst[(gsize) j * size + i] = (guint8) CLAMP (v + 0.5, 0, 255);
    }
  }
  return TRUE;
}
