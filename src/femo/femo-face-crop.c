/* gst-femo: where the emotion network looks, given a face box
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "femo-face-crop.h"

void
femo_face_crop_region (gint x, gint y, gint width, gint height,
    gdouble margin, gint par_n, gint par_d, gdouble * crop_x,
    gdouble * crop_y, gdouble * crop_width, gdouble * crop_height)
{
  /* Display units: one unit = the display height of a pixel row. */
  gdouble par = (par_n > 0 && par_d > 0) ? (gdouble) par_n / par_d : 1.0;
  gdouble side = MAX (width * par, (gdouble) height) * (1.0 + 2.0 * margin);
  gdouble cx = x + width / 2.0;
  gdouble cy = y + height / 2.0;

  side = MAX (side, 1.0);
  *crop_width = side / par;
  *crop_height = side;
  *crop_x = cx - *crop_width / 2.0;
  *crop_y = cy - *crop_height / 2.0;
}
