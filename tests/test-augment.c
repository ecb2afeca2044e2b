/* gst-femo tests: the PRNG and the training augmentation
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "femo-augment.h"
#include "femo-rng.h"

#include <math.h>
#include <string.h>

#define W 48
#define H 48

static void
make_image (guint8 * img)
{
  guint x, y;

  for (y = 0; y < H; y++)
    for (x = 0; x < W; x++)
      img[y * W + x] = (guint8) ((x * 5 + y * 3 + (x * y) % 7) & 0xff);
}

static void
test_rng_reference (void)
{
  /* xoshiro256** from the state {1, 2, 3, 4}, as the authors' xoshiro256starstar.c. */
  static const guint64 expected[] = { 11520, 0, 1509978240,
    G_GUINT64_CONSTANT (1215971899390074240)
  };
  FemoRng rng = { {1, 2, 3, 4} };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (expected); i++)
    g_assert_cmpuint (femo_rng_next (&rng), ==, expected[i]);
}

static void
test_rng_streams (void)
{
  FemoRng a, b, c;
  guint i, same = 0;

  femo_rng_init (&a, 42, 7);
  femo_rng_init (&b, 42, 7);
  femo_rng_init (&c, 42, 8);
  for (i = 0; i < 100; i++) {
    guint64 x = femo_rng_next (&a);

    g_assert_cmpuint (x, ==, femo_rng_next (&b));
    same += x == femo_rng_next (&c);
  }
  g_assert_cmpuint (same, ==, 0);

  /* Uniform values stay in range and cover it. */
  {
    gdouble lo = 1.0, hi = 0.0;
    guint counts[10] = { 0 };

    for (i = 0; i < 10000; i++) {
      gdouble u = femo_rng_uniform (&a);
      guint32 k = femo_rng_below (&a, 10);

      g_assert_cmpfloat (u, >=, 0.0);
      g_assert_cmpfloat (u, <, 1.0);
      lo = MIN (lo, u);
      hi = MAX (hi, u);
      g_assert_cmpuint (k, <, 10);
      counts[k]++;
    }
    g_assert_cmpfloat (lo, <, 0.01);
    g_assert_cmpfloat (hi, >, 0.99);
    for (i = 0; i < 10; i++) {
      g_assert_cmpuint (counts[i], >, 850);
      g_assert_cmpuint (counts[i], <, 1150);
    }
  }
}

static void
test_rng_shuffle (void)
{
  guint32 values[100], seen[100] = { 0 };
  FemoRng rng;
  guint i, moved = 0;

  for (i = 0; i < 100; i++)
    values[i] = i;
  femo_rng_init (&rng, 1, 0);
  femo_rng_shuffle (&rng, values, 100);
  for (i = 0; i < 100; i++) {
    seen[values[i]]++;
    moved += values[i] != i;
  }
  for (i = 0; i < 100; i++)
    g_assert_cmpuint (seen[i], ==, 1);
  g_assert_cmpuint (moved, >, 80);
}

static void
test_identity (void)
{
  const FemoAugmentParams none = { 0.0, 0.0, 0.0, FALSE };
  guint8 img[W * H];
  gfloat expected[W * H], out[W * H];
  FemoAffine affine;
  FemoRng rng;
  guint i, s;

  make_image (img);
  femo_augment_normalize (img, W * H, expected);
  g_assert_cmpfloat (expected[0], ==, img[0] / 127.5f - 1.0f);
  for (s = 0; s < 20; s++) {
    femo_rng_init (&rng, 5, s);
    femo_augment_draw (&rng, &none, W, H, &affine);
    g_assert_cmpfloat (affine.m[0], ==, 1.0);
    g_assert_cmpfloat (affine.m[1], ==, 0.0);
    g_assert_cmpfloat (affine.m[2], ==, 0.0);
    g_assert_cmpfloat (affine.m[3], ==, 0.0);
    g_assert_cmpfloat (affine.m[4], ==, 1.0);
    g_assert_cmpfloat (affine.m[5], ==, 0.0);
    femo_augment_warp (img, W, H, W, &affine, out);
    g_assert_cmpmem (out, sizeof (out), expected, sizeof (expected));
  }
  for (i = 0; i < W * H; i++) {
    g_assert_cmpfloat (expected[i], >=, -1.0f);
    g_assert_cmpfloat (expected[i], <=, 1.0f);
  }
}

static void
test_exact_warps (void)
{
  /* 180 degrees about the centre, a one-pixel shift, half a pixel. */
  static const FemoAffine rot180 = { {-1, 0, W - 1, 0, -1, H - 1} };
  static const FemoAffine shift1 = { {1, 0, 1, 0, 1, 0} };
  static const FemoAffine half = { {1, 0, 0.5, 0, 1, 0} };
  guint8 img[W * H];
  gfloat out[W * H];
  guint x, y;

  make_image (img);
  femo_augment_warp (img, W, H, W, &rot180, out);
  for (y = 0; y < H; y++)
    for (x = 0; x < W; x++)
      g_assert_cmpfloat (out[y * W + x], ==,
          img[(H - 1 - y) * W + (W - 1 - x)] / 127.5f - 1.0f);

  /* The right edge repeats its last column. */
  femo_augment_warp (img, W, H, W, &shift1, out);
  for (y = 0; y < H; y++)
    for (x = 0; x < W; x++)
      g_assert_cmpfloat (out[y * W + x], ==,
          img[y * W + MIN (x + 1, W - 1)] / 127.5f - 1.0f);

  femo_augment_warp (img, W, H, W, &half, out);
  for (y = 0; y < H; y++)
    for (x = 0; x + 1 < W; x++)
      g_assert_cmpfloat_with_epsilon (out[y * W + x],
          (img[y * W + x] + img[y * W + x + 1]) / 2.0f / 127.5f - 1.0f, 1e-6);
}

static void
test_flip (void)
{
  const FemoAugmentParams flip_only = { 0.0, 0.0, 0.0, TRUE };
  guint8 img[W * H];
  gfloat plain[W * H], out[W * H];
  guint s, x, y, flipped = 0;

  make_image (img);
  femo_augment_normalize (img, W * H, plain);
  for (s = 0; s < 200; s++) {
    FemoAffine affine;
    FemoRng rng;

    femo_rng_init (&rng, 9, s);
    femo_augment_draw (&rng, &flip_only, W, H, &affine);
    femo_augment_warp (img, W, H, W, &affine, out);
    if (memcmp (out, plain, sizeof (out)) == 0)
      continue;
    flipped++;
    for (y = 0; y < H; y++)
      for (x = 0; x < W; x++)
        g_assert_cmpfloat (out[y * W + x], ==, plain[y * W + W - 1 - x]);
  }
  g_assert_cmpuint (flipped, >, 70);
  g_assert_cmpuint (flipped, <, 130);
}

static void
test_random_ranges (void)
{
  const FemoAugmentParams params = FEMO_AUGMENT_PARAMS_DEFAULT;
  guint8 img[W * H];
  gfloat a[W * H], b[W * H];
  gdouble max_angle = 0.0, max_shift = 0.0, min_scale = 2.0, max_scale = 0.0;
  guint s;

  make_image (img);
  for (s = 0; s < 2000; s++) {
    FemoAffine t1, t2;
    FemoRng r1, r2;
    gdouble sx, sy, col0, cx = (W - 1) / 2.0, cy = (H - 1) / 2.0;

    femo_rng_init (&r1, 3, s);
    femo_rng_init (&r2, 3, s);
    femo_augment_draw (&r1, &params, W, H, &t1);
    femo_augment_draw (&r2, &params, W, H, &t2);
    g_assert_cmpmem (&t1, sizeof (t1), &t2, sizeof (t2));

    /* The centre moves by the shift alone; the columns of the matrix have
     * the zoom factors as lengths and the angle in their direction. */
    sx = t1.m[0] * cx + t1.m[1] * cy + t1.m[2] - cx;
    sy = t1.m[3] * cx + t1.m[4] * cy + t1.m[5] - cy;
    max_shift = MAX (max_shift, MAX (fabs (sx) / W, fabs (sy) / H));
    col0 = hypot (t1.m[0], t1.m[3]);
    min_scale = MIN (min_scale, MIN (col0, hypot (t1.m[1], t1.m[4])));
    max_scale = MAX (max_scale, MAX (col0, hypot (t1.m[1], t1.m[4])));
    max_angle = MAX (max_angle, fabs (atan2 (-t1.m[1], t1.m[4])) * 180 / G_PI);

    if (s < 20) {
      femo_augment_warp (img, W, H, W, &t1, a);
      femo_augment_warp (img, W, H, W, &t2, b);
      g_assert_cmpmem (a, sizeof (a), b, sizeof (b));
    }
  }
  g_assert_cmpfloat (max_shift, <=, 0.1 + 1e-9);
  g_assert_cmpfloat (max_shift, >, 0.09);
  g_assert_cmpfloat (min_scale, >=, 0.9 - 1e-9);
  g_assert_cmpfloat (min_scale, <, 0.91);
  g_assert_cmpfloat (max_scale, <=, 1.1 + 1e-9);
  g_assert_cmpfloat (max_scale, >, 1.09);
  g_assert_cmpfloat (max_angle, <=, 10.0 + 1e-9);
  g_assert_cmpfloat (max_angle, >, 9.5);
}

/* Gamma and Beta draws: the same numbers from the same stream, and the
 * moments of the distributions (mean k for Gamma(k); mean a / (a + b) and
 * variance ab / ((a + b)^2 (a + b + 1)) for Beta(a, b)), shapes below and
 * above 1 alike. */
static void
test_rng_beta (void)
{
  static const gdouble shapes[][2] = { {0.2, 0.2}, {0.4, 0.4}, {1, 1},
    {2, 5}, {8, 3}
  };
  const guint n = 40000;
  guint s, i;

  for (s = 0; s < G_N_ELEMENTS (shapes); s++) {
    gdouble a = shapes[s][0], b = shapes[s][1];
    gdouble mean = a / (a + b), var = a * b / ((a + b) * (a + b) * (a + b + 1));
    gdouble sum = 0.0, sq = 0.0, gsum = 0.0;
    FemoRng r1, r2;

    femo_rng_init (&r1, 11, s);
    femo_rng_init (&r2, 11, s);
    for (i = 0; i < n; i++) {
      gdouble x = femo_rng_beta (&r1, a, b);

      g_assert_cmpfloat (x, ==, femo_rng_beta (&r2, a, b));
      g_assert_cmpfloat (x, >=, 0.0);
      g_assert_cmpfloat (x, <=, 1.0);
      sum += x;
      sq += (x - mean) * (x - mean);
      gsum += femo_rng_gamma (&r1, a);
      femo_rng_gamma (&r2, a);
    }
    /* a few standard errors of the mean */
    g_assert_cmpfloat (fabs (sum / n - mean), <, 5 * sqrt (var / n));
    g_assert_cmpfloat (fabs (sq / n / var - 1.0), <, 0.05);
    g_assert_cmpfloat (fabs (gsum / n - a), <, 5 * sqrt (a / n));
  }
}

/* Random erasing: p = 0 leaves the image alone; p = 1 always replaces one
 * axis-aligned rectangle of 2-33% of the image with noise in [-1, 1] (and
 * nothing outside it); over many images the rectangles cover every part of
 * the image, their sizes span the range, and about p of them are erased. */
static void
test_erase (void)
{
  gfloat img[W * H], orig[W * H];
  guint covered[W * H] = { 0, };
  guint i, n_erased = 0, small = 0, large = 0;
  gsize j;

  for (j = 0; j < W * H; j++)
    orig[j] = 2.0f;             /* outside the noise's range */

  for (i = 0; i < 2000; i++) {
    FemoRng rng;
    gint x0 = W, y0 = H, x1 = -1, y1 = -1, x, y, n = 0;
    gboolean erased;

    femo_rng_init (&rng, 7, i);
    memcpy (img, orig, sizeof img);
    erased = femo_augment_erase (&rng, i < 1000 ? 1.0 : 0.3, W, H, img);
    for (y = 0; y < H; y++)
      for (x = 0; x < W; x++) {
        gfloat v = img[y * W + x];

        if (v == 2.0f)
          continue;
        g_assert_cmpfloat (v, >=, -1.0f);
        g_assert_cmpfloat (v, <=, 1.0f);
        x0 = MIN (x0, x);
        y0 = MIN (y0, y);
        x1 = MAX (x1, x);
        y1 = MAX (y1, y);
        n++;
        covered[y * W + x]++;
      }
    g_assert_cmpint (erased, ==, n > 0);
    if (i < 1000)
      g_assert_true (erased);
    if (!erased)
      continue;
    n_erased++;
    /* one filled rectangle */
    g_assert_cmpint (n, ==, (x1 - x0 + 1) * (y1 - y0 + 1));
    g_assert_cmpfloat ((gdouble) n / (W * H), >=, 0.015);
    g_assert_cmpfloat ((gdouble) n / (W * H), <=, 0.35);
    small += n < 0.05 * W * H;
    large += n > 0.28 * W * H;
  }
  g_assert_cmpuint (n_erased, >, 1000 + 240);
  g_assert_cmpuint (n_erased, <, 1000 + 360);
  g_assert_cmpuint (small, >, 20);
  g_assert_cmpuint (large, >, 20);
  for (j = 0; j < W * H; j++)
    g_assert_cmpuint (covered[j], >, 0);

  {
    FemoRng rng;

    femo_rng_init (&rng, 7, 0);
    memcpy (img, orig, sizeof img);
    g_assert_false (femo_augment_erase (&rng, 0.0, W, H, img));
    g_assert_cmpmem (img, sizeof img, orig, sizeof orig);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/rng/reference", test_rng_reference);
  g_test_add_func ("/rng/streams", test_rng_streams);
  g_test_add_func ("/rng/shuffle", test_rng_shuffle);
  g_test_add_func ("/rng/beta", test_rng_beta);
  g_test_add_func ("/augment/identity", test_identity);
  g_test_add_func ("/augment/exact-warps", test_exact_warps);
  g_test_add_func ("/augment/flip", test_flip);
  g_test_add_func ("/augment/random-ranges", test_random_ranges);
  g_test_add_func ("/augment/erase", test_erase);
  return g_test_run ();
}
