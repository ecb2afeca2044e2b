/* gst-femo: where the emotion network looks, given a face box or its eyes
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>
#include "femo-image.h"

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

/* Where the eyes of FER2013's mean Training face are, in its 48x48 pixels
 * (continuous coordinates: 0.0 is the left or top edge; "left" = the eye
 * on the image's left). femo-face-crop.c says how they were found. */
#define FEMO_FACE_CROP_FER_SIZE 48
#define FEMO_FACE_CROP_FER_LEFT_EYE_X 14.9
#define FEMO_FACE_CROP_FER_RIGHT_EYE_X 32.3
#define FEMO_FACE_CROP_FER_EYE_Y 17.9

/* Largest @size femo_face_crop_aligned() takes. */
#define FEMO_FACE_CROP_MAX_ALIGNED_SIZE 64

/**
 * femo_face_crop_aligned:
 * @image: the frame's luma
 * @left_x, @left_y, @right_x, @right_y: the eye on the image's left and
 *   the one on its right, in pixels of the frame (continuous coordinates)
 * @par_n, @par_d: pixel aspect ratio of the frame, as for
 *   femo_face_crop_region()
 * @dst: (out caller-allocates): @size x @size bytes, rows packed
 * @size: the crop's side in pixels, up to FEMO_FACE_CROP_MAX_ALIGNED_SIZE
 *
 * Crops the face rotated and scaled so that its eyes sit level, where the
 * eyes of FER2013's mean face sit (FEMO_FACE_CROP_FER_* scaled to @size):
 * a square on the display, resampled as femo_image_resample does (area
 * averages when shrinking), then turned with bilinear interpolation at the
 * crop's own scale. Outside the frame, the edge repeats. Returns FALSE, and
 * leaves @dst alone, when the eyes are less than a pixel apart on the
 * display.
 */
gboolean femo_face_crop_aligned (const FemoImageView * image,
    gdouble left_x, gdouble left_y, gdouble right_x, gdouble right_y,
    gint par_n, gint par_d, guint8 * dst, gint size);

G_END_DECLS
