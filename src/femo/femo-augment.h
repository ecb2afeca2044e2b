/* gst-femo: random geometric augmentation of training faces
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>
#include "femo-rng.h"

G_BEGIN_DECLS

/**
 * FemoAugmentParams:
 * @rotation: degrees; the angle is uniform in [-rotation, rotation]
 * @shift: fraction of the width (height); each shift is uniform in
 *   [-shift, shift] times the size
 * @zoom: each axis is scaled by a factor uniform in [1 - zoom, 1 + zoom]
 * @flip: mirror left to right with probability 1/2
 *
 * The reference recipe (oarriaga/face_classification,
 * train_emotion_classifier.py: Keras ImageDataGenerator with rotation_range
 * 10, width/height_shift_range 0.1, zoom_range 0.1, horizontal_flip) is
 * %FEMO_AUGMENT_PARAMS_DEFAULT. Pixels outside the image repeat the nearest
 * edge pixel, as Keras' fill_mode "nearest".
 */
typedef struct
{
  gdouble rotation;
  gdouble shift;
  gdouble zoom;
  gboolean flip;
} FemoAugmentParams;

#define FEMO_AUGMENT_PARAMS_DEFAULT { 10.0, 0.1, 0.1, TRUE }

/**
 * FemoAffine:
 * @m: the output pixel (x, y) samples the input at
 *   (m[0] x + m[1] y + m[2], m[3] x + m[4] y + m[5]), pixel centres at
 *   integer coordinates
 */
typedef struct
{
  gdouble m[6];
} FemoAffine;

/* Draws one random transform for a @width x @height image. It always takes
 * the same number of values from @rng, whatever @params say. */
void femo_augment_draw (FemoRng * rng, const FemoAugmentParams * params,
    gint width, gint height, FemoAffine * affine);

/* Resamples @src (@width x @height, row @stride bytes) through @affine with
 * bilinear interpolation and edge replication, into the network's input
 * @dst: @width x @height floats, x / 127.5 - 1. */
void femo_augment_warp (const guint8 * src, gint width, gint height,
    gint stride, const FemoAffine * affine, gfloat * dst);

/* Random erasing (Zhong et al., AAAI 2020): with probability @p, one
 * rectangle of @dst (@width x @height network inputs) covering 2-33% of the
 * image, aspect ratio log-uniform in [0.3, 3.3], at a uniform position,
 * takes uniform noise in [-1, 1] (the input range), so the network cannot
 * lean on any one part of the face. Returns whether it erased. The values
 * taken from @rng depend only on the draws, not on @dst. */
gboolean femo_augment_erase (FemoRng * rng, gdouble p, gint width,
    gint height, gfloat * dst);

/* x / 127.5 - 1 for @n pixels: the same as warping with the identity. */
void femo_augment_normalize (const guint8 * src, gsize n, gfloat * dst);

G_END_DECLS
