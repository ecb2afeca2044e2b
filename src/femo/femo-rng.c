/* gst-femo: a small seeded PRNG (xoshiro256**)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "femo-rng.h"

#include <math.h>

static guint64
splitmix64 (guint64 * x)
{
  guint64 z = (*x += G_GUINT64_CONSTANT (0x9e3779b97f4a7c15));

  z = (z ^ (z >> 30)) * G_GUINT64_CONSTANT (0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * G_GUINT64_CONSTANT (0x94d049bb133111eb);
  return z ^ (z >> 31);
}

static inline guint64
rotl (guint64 x, gint k)
{
  return (x << k) | (x >> (64 - k));
}

void
femo_rng_init (FemoRng * rng, guint64 seed, guint64 stream)
{
  /* Mix the stream through splitmix first so that neighbouring (seed, stream)
   * pairs do not give overlapping splitmix sequences. */
  guint64 x = stream;
  guint64 m = seed ^ splitmix64 (&x);
  guint i;

  for (i = 0; i < 4; i++)
    rng->s[i] = splitmix64 (&m);
  /* An all-zero state would stay zero; splitmix64 never gives four zeros in a
   * row, but be explicit about the invariant. */
  if ((rng->s[0] | rng->s[1] | rng->s[2] | rng->s[3]) == 0)
    rng->s[0] = 1;
}

guint64
femo_rng_next (FemoRng * rng)
{
  guint64 *s = rng->s;
  guint64 result = rotl (s[1] * 5, 7) * 9;
  guint64 t = s[1] << 17;

  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl (s[3], 45);
  return result;
}

gdouble
femo_rng_uniform (FemoRng * rng)
{
  return (femo_rng_next (rng) >> 11) * (1.0 / 9007199254740992.0);
}

gdouble
femo_rng_range (FemoRng * rng, gdouble lo, gdouble hi)
{
  return lo + (hi - lo) * femo_rng_uniform (rng);
}

guint32
femo_rng_below (FemoRng * rng, guint32 n)
{
  /* Lemire's multiply-shift with rejection of the biased low band. */
  guint64 m = (femo_rng_next (rng) >> 32) * (guint64) n;
  guint32 low = (guint32) m;

  g_return_val_if_fail (n > 0, 0);

  if (low < n) {
    guint32 threshold = (guint32) (-n) % n;

    while (low < threshold) {
      m = (femo_rng_next (rng) >> 32) * (guint64) n;
      low = (guint32) m;
    }
  }
  return (guint32) (m >> 32);
}

void
femo_rng_shuffle (FemoRng * rng, guint32 * values, guint32 n)
{
  guint32 i;

  for (i = n; i > 1; i--) {
    guint32 j = femo_rng_below (rng, i);
    guint32 t = values[i - 1];

    values[i - 1] = values[j];
    values[j] = t;
  }
}

gdouble
femo_rng_normal (FemoRng * rng)
{
  /* 1 - u is in (0, 1]: the logarithm stays finite */
  gdouble u = 1.0 - femo_rng_uniform (rng);
  gdouble v = femo_rng_uniform (rng);

  return sqrt (-2.0 * log (u)) * cos (2.0 * G_PI * v);
}

gdouble
femo_rng_gamma (FemoRng * rng, gdouble shape)
{
  gdouble d, c, boost = 1.0;

  g_return_val_if_fail (shape > 0.0, 0.0);

  /* Below 1, Gamma(a) = Gamma(a + 1) x U^(1/a). */
  if (shape < 1.0) {
    boost = pow (1.0 - femo_rng_uniform (rng), 1.0 / shape);
    shape += 1.0;
  }
  d = shape - 1.0 / 3.0;
  c = 1.0 / sqrt (9.0 * d);
  for (;;) {
    gdouble x = femo_rng_normal (rng), v = 1.0 + c * x, u;

    if (v <= 0.0)
      continue;
    v = v * v * v;
    u = 1.0 - femo_rng_uniform (rng);
    if (u < 1.0 - 0.0331 * x * x * x * x
        || log (u) < 0.5 * x * x + d * (1.0 - v + log (v)))
      return d * v * boost;
  }
}

gdouble
femo_rng_beta (FemoRng * rng, gdouble a, gdouble b)
{
  gdouble x = femo_rng_gamma (rng, a), y = femo_rng_gamma (rng, b);

  /* both can underflow to 0 for tiny shapes: then either end is as likely */
  if (x + y <= 0.0)
    return femo_rng_uniform (rng) < a / (a + b) ? 1.0 : 0.0;
  return x / (x + y);
}
