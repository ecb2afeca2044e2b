/* gst-femo: where the emotion network looks, given a face box
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * femo_face_crop_region:
 * @x, @y, @width, @height: the face box in pixels of the frame
 * @margin: added on each side, as a fraction of the box side (0 = the box
 *   itself; 0.1 makes the crop 1.2 times the box); may be negative down to
 *   -0.4
 * @par_n, @par_d: pixel aspect ratio of the frame (display width of one
 *   pixel / its display height); 1/1 for square pixels
 * @crop_x, @crop_y, @crop_width, @crop_height: (out): the crop in pixels of
 *   the frame, centred on the box. It is square in DISPLAY space: its side
 *   is the box's longer display side times (1 + 2 @margin), so in pixels
 *   @crop_width * par_n / par_d == @crop_height. It may reach past the
 *   frame (femo_image_resample repeats the edge there).
 */
void femo_face_crop_region (gint x, gint y, gint width, gint height,
    gdouble margin, gint par_n, gint par_d, gdouble * crop_x,
    gdouble * crop_y, gdouble * crop_width, gdouble * crop_height);

G_END_DECLS
