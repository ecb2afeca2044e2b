/* gst-femo: a small seeded PRNG (xoshiro256**) with the same stream on every
 * platform, so that the same seed gives the same training run.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * FemoRng:
 * @s: the 256-bit state; plain data, so it can be saved in a checkpoint and
 *   restored by copying it back
 *
 * xoshiro256** (Blackman and Vigna, 2018), seeded through splitmix64.
 */
typedef struct
{
  guint64 s[4];
} FemoRng;

/* Seeds @rng from @seed. Different @stream values give independent streams of
 * the same seed (one per epoch and sample, so that work can be split across
 * threads without changing the numbers). */
void femo_rng_init (FemoRng * rng, guint64 seed, guint64 stream);

guint64 femo_rng_next (FemoRng * rng);

/* Uniform in [0, 1), 53 random bits. */
gdouble femo_rng_uniform (FemoRng * rng);

/* Uniform in [lo, hi). */
gdouble femo_rng_range (FemoRng * rng, gdouble lo, gdouble hi);

/* Uniform integer in [0, n), without modulo bias; n > 0. */
guint32 femo_rng_below (FemoRng * rng, guint32 n);

/* Fisher-Yates shuffle of @n indices. */
void femo_rng_shuffle (FemoRng * rng, guint32 * values, guint32 n);

/* Standard normal (Box-Muller, one of the pair). */
gdouble femo_rng_normal (FemoRng * rng);

/* Gamma(@shape, 1), @shape > 0 (Marsaglia and Tsang, 2000). */
gdouble femo_rng_gamma (FemoRng * rng, gdouble shape);

/* Beta(@a, @b) in [0, 1], @a, @b > 0, as X / (X + Y) of two gammas. */
gdouble femo_rng_beta (FemoRng * rng, gdouble a, gdouble b);

G_END_DECLS
