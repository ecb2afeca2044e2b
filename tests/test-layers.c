/* gst-femo: every layer's backward against central finite differences, and
 * every SIMD kernel against the plain C reference
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "femo-layers.h"
#include "femo-rng.h"

#define SLACK FEMO_KERNEL_SLACK

static FemoRng rng;

/* A zeroed buffer with the slack every activation needs, filled with
 * uniform values in [-1, 1). */
static gfloat *
rand_buf (gsize n)
{
  gfloat *b = g_new0 (gfloat, n + SLACK);
  for (gsize i = 0; i < n; i++)
    b[i] = (gfloat) femo_rng_range (&rng, -1.0, 1.0);
  return b;
}

/* One layer under test: forward of x (and w) into y; loss = sum g * y. */
typedef struct
{
  const gchar *name;
  gsize nx, nw, ny;
  gfloat *x, *w, *g, *y, *dx, *dw, *scratch;
  void (*forward) (gpointer self);
  void (*backward) (gpointer self);     /* adds into dx, dw */
  guint c, ci, co, n, h, wd, pad;
  gsize count;
} Case;

static gdouble
case_loss (Case * c)
{
  gdouble l = 0.0;
  c->forward (c);
  for (gsize i = 0; i < c->ny; i++)
    l += (gdouble) c->g[i] * c->y[i];
  return l;
}

static void
check_case (Case * c, gdouble eps, gdouble tol)
{
  gdouble worst = 0.0;
  const gchar *where = "";
  gfloat *targets[2] = { c->x, c->w };
  gfloat *grads[2] = { c->dx, c->dw };
  gsize sizes[2] = { c->nx, c->nw };

  memset (c->dx, 0, c->nx * sizeof (gfloat));
  if (c->dw)
    memset (c->dw, 0, c->nw * sizeof (gfloat));
  c->forward (c);
  c->backward (c);
  for (guint which = 0; which < 2; which++) {
    if (!targets[which] || !grads[which])
      continue;
    for (guint s = 0; s < 40; s++) {
      const gsize i = femo_rng_below (&rng, sizes[which]);
      const gfloat keep = targets[which][i];
      gdouble lp, lm, fd, d;
      targets[which][i] = keep + eps;
      lp = case_loss (c);
      targets[which][i] = keep - eps;
      lm = case_loss (c);
      targets[which][i] = keep;
      fd = (lp - lm) / (2 * eps);
      d = fabs (fd - grads[which][i]) / (1.0 + fabs (fd));
      if (d > worst) {
        worst = d;
        where = which ? "weights" : "input";
      }
    }
  }
  g_printerr ("%-10s largest relative difference %.3g (%s)\n", c->name,
      worst, where);
  g_assert_cmpfloat (worst, <, tol);
}

static const FemoKernels *K;

static void
conv_fwd (gpointer p)
{
  Case *c = p;
  femo_conv3x3_forward (K, c->x, c->ci, c->n, c->h, c->wd, c->pad, c->w, NULL,
      c->co, 0, c->y, c->scratch);
}

static void
conv_bwd (gpointer p)
{
  Case *c = p;
  femo_conv3x3_backward (K, c->x, c->ci, c->n, c->h, c->wd, c->pad, c->w,
      c->co, c->g, c->dx, c->dw, NULL, c->scratch);
}

static void
dw_fwd (gpointer p)
{
  Case *c = p;
  femo_depthwise_forward (K, c->x, c->c, c->n, c->h, c->wd, c->w, c->y);
}

static void
dw_bwd (gpointer p)
{
  Case *c = p;
  femo_depthwise_backward (K, c->x, c->c, c->n, c->h, c->wd, c->w, c->g,
      c->dx, c->dw, c->scratch);
}

static void
pw_fwd (gpointer p)
{
  Case *c = p;
  femo_pointwise_forward (K, c->x, c->ci, c->count, c->w, NULL, c->co, 0,
      c->y);
}

static void
pw_bwd (gpointer p)
{
  Case *c = p;
  femo_pointwise_backward (K, c->x, c->ci, c->count, c->w, c->co, c->g, c->dx,
      FEMO_CONV_ACCUMULATE, c->dw, c->scratch);
}

static void
sc_fwd (gpointer p)
{
  Case *c = p;
  femo_shortcut_forward (K, c->x, c->ci, c->n, c->h, c->wd, c->w, NULL, c->co,
      c->y, c->scratch);
}

static void
sc_bwd (gpointer p)
{
  Case *c = p;
  femo_shortcut_backward (K, c->x, c->ci, c->n, c->h, c->wd, c->w, c->co,
      c->g, c->dx, c->dw, c->scratch);
}

static void
pool_fwd (gpointer p)
{
  Case *c = p;
  femo_maxpool_forward (K, c->x, c->c, c->n, c->h, c->wd, FALSE, c->y,
      (guint16 *) c->scratch);
}

static void
pool_bwd (gpointer p)
{
  Case *c = p;
  femo_maxpool_backward (c->g, c->c, c->n, c->h, c->wd,
      (const guint16 *) c->scratch, c->dx);
}

/* Batch norm in train mode on one thread: the statistics are the batch's,
 * so the loss is a smooth function of x, gamma (w[0..c)) and beta. */
static void
bn_fwd (gpointer p)
{
  Case *c = p;
  gdouble sum[64], sq[64];
  gfloat mean[64], invstd[64];
  femo_bn_partial_sum (K, c->x, c->c, c->count, sum);
  for (guint i = 0; i < c->c; i++)
    mean[i] = sum[i] / c->count;
  femo_bn_partial_sq (K, c->x, c->c, c->count, mean, sq);
  for (guint i = 0; i < c->c; i++)
    invstd[i] = 1.0 / sqrt (sq[i] / c->count + 1e-5);
  femo_bn_forward (K, c->x, c->c, c->count, mean, invstd, c->w, c->w + c->c,
      FALSE, c->y);
  memcpy (c->scratch, mean, c->c * sizeof (gfloat));
  memcpy (c->scratch + 64, invstd, c->c * sizeof (gfloat));
}

static void
bn_bwd (gpointer p)
{
  Case *c = p;
  gdouble sdy[64], sdx[64];
  gfloat mdy[64], mdx[64];
  g_autofree gfloat *dx = g_new0 (gfloat, c->nx);
  femo_bn_backward_partial (K, c->g, NULL, c->x, c->c, c->count, c->scratch,
      c->scratch + 64, sdy, sdx);
  for (guint i = 0; i < c->c; i++) {
    mdy[i] = sdy[i] / c->count;
    mdx[i] = sdx[i] / c->count;
    c->dw[i] += sdx[i];
    c->dw[c->c + i] += sdy[i];
  }
  femo_bn_backward (K, c->g, c->x, c->c, c->count, c->scratch, c->scratch + 64,
      c->w, mdy, mdx, dx);
  for (gsize i = 0; i < c->nx; i++)
    c->dx[i] += dx[i];
}

static void
gap_fwd (gpointer p)
{
  Case *c = p;
  femo_gap_forward (c->x, c->c, c->n, c->h * c->wd, c->y);
}

static void
gap_bwd (gpointer p)
{
  Case *c = p;
  femo_gap_backward (c->g, c->c, c->n, c->h * c->wd, c->dx);
}

static Case
make_case (const gchar * name, gsize nx, gsize nw, gsize ny, gsize scratch)
{
  Case c = { 0 };
  c.name = name;
  c.nx = nx;
  c.nw = nw;
  c.ny = ny;
  c.x = rand_buf (nx);
  c.w = nw ? rand_buf (nw) : NULL;
  c.g = rand_buf (ny);
  c.y = g_new0 (gfloat, ny + SLACK);
  c.dx = g_new0 (gfloat, nx + SLACK);
  c.dw = nw ? g_new0 (gfloat, nw) : NULL;
  c.scratch = g_new0 (gfloat, scratch + 1024);
  return c;
}

static void
free_case (Case * c)
{
  g_free (c->x);
  g_free (c->w);
  g_free (c->g);
  g_free (c->y);
  g_free (c->dx);
  g_free (c->dw);
  g_free (c->scratch);
}

static void
test_backward (void)
{
  const guint n = 3;

  K = femo_kernels_get ();
  g_printerr ("kernels: %s\n", K->name);
  for (guint pad = 0; pad < 2; pad++) {
    const guint ci = 3, co = 5, h = 7, w = 6;
    const guint ho = h + 2 * pad - 2, wo = w + 2 * pad - 2;
    Case c = make_case (pad ? "conv3x3p1" : "conv3x3", ci * n * h * w,
        co * ci * 9, co * n * ho * wo,
        femo_conv3x3_scratch_size (ci, co, n, h, w));
    c.ci = ci;
    c.co = co;
    c.n = n;
    c.h = h;
    c.wd = w;
    c.pad = pad;
    c.forward = conv_fwd;
    c.backward = conv_bwd;
    check_case (&c, 1e-2, 2e-3);
    free_case (&c);
  }
  {
    const guint ch = 4, h = 6, w = 5;
    Case c = make_case ("depthwise", ch * n * h * w, ch * 9, ch * n * h * w,
        femo_depthwise_scratch_size (ch, n, h, w));
    c.c = ch;
    c.n = n;
    c.h = h;
    c.wd = w;
    c.forward = dw_fwd;
    c.backward = dw_bwd;
    check_case (&c, 1e-2, 2e-3);
    free_case (&c);
  }
  {
    const guint ci = 6, co = 9;
    const gsize count = 37;
    Case c = make_case ("pointwise", ci * count, co * ci, co * count,
        femo_pointwise_scratch_size (ci, co));
    c.ci = ci;
    c.co = co;
    c.count = count;
    c.forward = pw_fwd;
    c.backward = pw_bwd;
    check_case (&c, 1e-2, 2e-3);
    free_case (&c);
  }
  {
    const guint ci = 3, co = 4, h = 7, w = 6;
    Case c = make_case ("shortcut", ci * n * h * w, co * ci,
        co * n * 4 * 3, femo_shortcut_scratch_size (ci, co, n, h, w));
    c.ci = ci;
    c.co = co;
    c.n = n;
    c.h = h;
    c.wd = w;
    c.forward = sc_fwd;
    c.backward = sc_bwd;
    check_case (&c, 1e-2, 2e-3);
    free_case (&c);
  }
  {
    const guint ch = 3, h = 7, w = 6;
    Case c = make_case ("maxpool", ch * n * h * w, 0, ch * n * 4 * 3,
        ch * n * 4 * 3);
    c.c = ch;
    c.n = n;
    c.h = h;
    c.wd = w;
    c.forward = pool_fwd;
    c.backward = pool_bwd;
    check_case (&c, 1e-3, 2e-3);
    free_case (&c);
  }
  {
    const guint ch = 3;
    const gsize count = 50;
    Case c = make_case ("batchnorm", ch * count, 2 * ch, ch * count, 128);
    c.c = ch;
    c.count = count;
    c.forward = bn_fwd;
    c.backward = bn_bwd;
    check_case (&c, 1e-3, 5e-3);
    free_case (&c);
  }
  {
    const guint ch = 4;
    Case c = make_case ("gap", ch * n * 9, 0, n * ch, 0);
    c.c = ch;
    c.n = n;
    c.h = 3;
    c.wd = 3;
    c.forward = gap_fwd;
    c.backward = gap_bwd;
    check_case (&c, 1e-2, 1e-3);
    free_case (&c);
  }
}

/* Softmax cross-entropy: gradient of the mean loss, label smoothing and
 * soft targets, against finite differences of the loss itself. */
static void
test_xent (void)
{
  const guint n = 4, k = 7;
  g_autofree gfloat *z = rand_buf (n * k);
  g_autofree gfloat *t = g_new0 (gfloat, n * k);
  gfloat dz[28];
  gdouble worst = 0.0;
  guint labels[4] = { 0, 3, 6, 2 }, correct = 0;

  for (guint i = 0; i < n; i++) {
    t[i * k + labels[i]] = 0.7f;
    t[i * k + (labels[i] + 1) % k] = 0.3f;
  }
  for (guint mode = 0; mode < 2; mode++) {
    const guint *l = mode ? NULL : labels;
    const gfloat *tt = mode ? t : NULL;
    femo_softmax_xent (z, n, k, l, tt, 0.1f, 1.0f / n, NULL, dz, &correct);
    for (guint i = 0; i < n * k; i++) {
      const gfloat keep = z[i];
      gdouble lp, lm;
      z[i] = keep + 1e-2f;
      lp = femo_softmax_xent (z, n, k, l, tt, 0.1f, 0, NULL, NULL, NULL) / n;
      z[i] = keep - 1e-2f;
      lm = femo_softmax_xent (z, n, k, l, tt, 0.1f, 0, NULL, NULL, NULL) / n;
      z[i] = keep;
      worst = MAX (worst, fabs ((lp - lm) / 2e-2 - dz[i]));
    }
  }
  g_printerr ("softmax-xent largest difference %.3g\n", worst);
  g_assert_cmpfloat (worst, <, 1e-3);
  /* uniform logits: loss is log k whatever the smoothing */
  memset (z, 0, n * k * sizeof (gfloat));
  g_assert_cmpfloat_with_epsilon (femo_softmax_xent (z, n, k, labels, NULL,
          0.2f, 0, NULL, NULL, NULL) / n, log (7.0), 1e-6);
}

/* Padded cells never win, even when every real value is negative. */
static void
test_maxpool_padding (void)
{
  const gchar *names[] = { "reference", "avx512", "avx2", "neon" };

  for (guint n = 0; n < G_N_ELEMENTS (names); n++) {
    const FemoKernels *k = femo_kernels_get_by_name (names[n]);
    gfloat x[9 + SLACK] = { 0 }, y[4];
    guint16 arg[4];

    if (!k)
      continue;
    for (guint i = 0; i < 9; i++)
      x[i] = -1.0f - i;
    femo_maxpool_forward (k, x, 1, 1, 3, 3, FALSE, y, arg);
    g_assert_cmpfloat (y[0], ==, -1.0f);
    g_assert_cmpfloat (y[1], ==, -2.0f);
    g_assert_cmpfloat (y[2], ==, -4.0f);
    g_assert_cmpfloat (y[3], ==, -5.0f);
    g_assert_cmpuint (arg[3], ==, 4);
    /* winners past 16 bits are refused, not cut to 16 bits (the call
     * returns before reading x) */
    g_test_expect_message ("femo", G_LOG_LEVEL_CRITICAL, "*G_MAXUINT16*");
    femo_maxpool_forward (k, x, 1, 1, 257, 256, FALSE, y, arg);
    g_test_assert_expected_messages ();
  }
}

/* The fused head (3x3 conv, padding 1, bias, global average pool) against
 * the two layers it replaces, run with the reference kernels. */
static void
test_conv3x3_gap (void)
{
  const FemoKernels *ref = femo_kernels_reference ();
  const guint ci = 9, co = 7, n = 3;
  const guint hs[] = { 3, 4, 1, 6 }, ws[] = { 3, 5, 2, 1 };

  for (guint sz = 0; sz < G_N_ELEMENTS (hs); sz++) {
    const guint h = hs[sz], w = ws[sz];
    g_autofree gfloat *x = rand_buf ((gsize) ci * n * h * w);
    g_autofree gfloat *wt = rand_buf ((gsize) co * ci * 9);
    g_autofree gfloat *bias = rand_buf (co);
    g_autofree gfloat *y = rand_buf ((gsize) co * n * h * w);
    g_autofree gfloat *want = g_new (gfloat, n * co);
    g_autofree gfloat *got = g_new (gfloat, n * co);
    g_autofree gfloat *scratch = g_new0 (gfloat,
        MAX (femo_conv3x3_scratch_size (ci, co, n, h, w),
            femo_conv3x3_gap_scratch_size (ci)));
    gdouble worst = 0.0;

    femo_conv3x3_forward (ref, x, ci, n, h, w, 1, wt, bias, co, 0, y,
        scratch);
    femo_gap_forward (y, co, n, h * w, want);
    femo_conv3x3_gap_forward (femo_kernels_get (), x, ci, n, h, w, wt, bias,
        co, got, scratch);
    for (guint i = 0; i < n * co; i++)
      worst = MAX (worst, fabs (got[i] - want[i]) / (1.0 + fabs (want[i])));
    if (worst >= 1e-6)
      g_printerr ("%ux%u: largest relative difference %.3g\n", h, w, worst);
    g_assert_cmpfloat (worst, <, 1e-6);
  }
}

static gdouble
max_rel_diff (const gfloat * a, const gfloat * b, gsize n)
{
  gdouble worst = 0.0;
  for (gsize i = 0; i < n; i++)
    worst = MAX (worst, fabs (a[i] - b[i]) / (1.0 + fabs (b[i])));
  return worst;
}

/* A pointwise backward that writes dx gives the bits of one that adds into
 * zeros (what lets the net drop the zeroing passes). */
static void
write_is_add_to_zero (const FemoKernels * k, const gfloat * w,
    const gfloat * x, const gfloat * dy, gsize stride, guint co, guint ci)
{
  const gsize count = stride - 3;
  g_autofree gfloat *d0 = g_new0 (gfloat, ci * count + SLACK);
  g_autofree gfloat *d1 = g_new0 (gfloat, ci * count + SLACK);
  g_autofree gfloat *g0 = g_new0 (gfloat, co * ci);
  g_autofree gfloat *g1 = g_new0 (gfloat, co * ci);
  g_autofree gfloat *scratch = g_new (gfloat, co * ci);

  femo_pointwise_backward (k, x, ci, count, w, co, dy, d0,
      FEMO_CONV_ACCUMULATE, g0, scratch);
  for (gsize i = 0; i < ci * count; i++)
    d1[i] = i % 3 ? NAN : 1.0f;
  femo_pointwise_backward (k, x, ci, count, w, co, dy, d1, 0, g1, scratch);
  g_assert_cmpmem (d1, ci * count * sizeof (gfloat), d0,
      ci * count * sizeof (gfloat));
  g_assert_cmpmem (g1, co * ci * sizeof (gfloat), g0,
      co * ci * sizeof (gfloat));
}

/* @k's fused sum_dot gives the bits of its sum and dot (after masking by
 * the ReLU output when asked), on lengths around its unrolled loop. */
static void
sum_dot_matches (const FemoKernels * k, const gfloat * x, const gfloat * dy)
{
  for (gsize n = 0; n < 200; n += 7) {
    for (guint relu = 0; relu < 2; relu++) {
      g_autofree gfloat *a = g_memdup2 (dy, n * sizeof (gfloat) + 1);
      g_autofree gfloat *b = g_memdup2 (dy, n * sizeof (gfloat) + 1);
      gdouble s, d, s0, d0;
      for (gsize i = 0; relu && i < n; i++)
        if (!(x[3 + i] > 0.0f))
          b[i] = 0.0f;
      s0 = k->sum (b, n);
      d0 = k->dot (b, x, n);
      k->sum_dot (a, relu ? x + 3 : NULL, x, n, &s, &d);
      g_assert_cmpmem (&s, sizeof (s), &s0, sizeof (s0));
      g_assert_cmpmem (&d, sizeof (d), &d0, sizeof (d0));
      g_assert_cmpmem (a, n * sizeof (gfloat), b, n * sizeof (gfloat));
    }
  }
}

/* Every kernel of every ISA this CPU runs against the reference, on odd
 * sizes that exercise every remainder path. */
static void
test_kernels (void)
{
  const gchar *names[] = { "avx512", "avx2", "neon" };
  const guint floats_per_vector[] = { 16, 8, 4 };
  const FemoKernels *ref = femo_kernels_reference ();
  const guint ci = 11, co = 13;
  const gsize nq = 203, stride = 229;
  const gint offs9[9] = { 0, 1, 2, 15, 16, 17, 30, 31, 32 };
  const gint offs1[1] = { 0 };
  g_autofree gfloat *x = rand_buf (ci * stride + 64);
  g_autofree gfloat *dy = rand_buf (co * stride);
  g_autofree gfloat *w = rand_buf (co * ci * 9);
  g_autofree gfloat *bias = rand_buf (co);
  g_autofree gfloat *y0 = rand_buf (co * stride);
  g_autofree gfloat *y1 = g_memdup2 (y0, co * stride * sizeof (gfloat));
  g_autofree gfloat *g0 = g_new0 (gfloat, co * ci * 9);
  g_autofree gfloat *g1 = g_new0 (gfloat, co * ci * 9);
  guint tested = 0;

  for (guint n = 0; n < G_N_ELEMENTS (names); n++) {
    const FemoKernels *k = femo_kernels_get_by_name (names[n]);
    gdouble d, worst = 0.0;
    if (!k)
      continue;
    tested++;
    for (guint taps = 1; taps <= 9; taps += 8) {
      const gint *offs = taps == 1 ? offs1 : offs9;
      /* lengths whose last tile is 1, 2 or 3 vectors wide (AVX-512: 48
       * per tile, AVX2 and NEON: 24 or 12), and one shorter than a tile */
      for (guint len = 0; len < 4; len++) {
        const gsize nqs[] = { nq, 212, 206, 9 };
        for (guint flags = 0; flags < 4; flags++) {
          ref->conv_forward (w, flags & 1 ? bias : NULL, co, ci, taps, offs,
              x, stride, y0, stride, nqs[len], flags);
          k->conv_forward (w, flags & 1 ? bias : NULL, co, ci, taps, offs,
              x, stride, y1, stride, nqs[len], flags);
          /* outputs past nq must be untouched */
          d = max_rel_diff (y1, y0, co * stride);
          worst = MAX (worst, d);
        }
      }
      memset (g0, 0, co * ci * 9 * sizeof (gfloat));
      memset (g1, 0, co * ci * 9 * sizeof (gfloat));
      ref->conv_weight_grad (dy, stride, co, x, stride, ci, taps, offs, nq, g0);
      k->conv_weight_grad (dy, stride, co, x, stride, ci, taps, offs, nq, g1);
      worst = MAX (worst, max_rel_diff (g1, g0, co * ci * taps) / 10);
    }
    /* fewer positions than a vector (the head, 3x3 images padded to 5x5,
     * one at a time: 13): each weight is +0 plus its products in order, as
     * the reference sums them, so bitwise */
    for (gsize len = 1; len < floats_per_vector[n]; len += 2) {
      const gint offs5[9] = { 0, 1, 2, 5, 6, 7, 10, 11, 12 };
      for (guint i = 0; i < co * ci * 9; i++)
        g0[i] = g1[i] = 0.25f * (i % 5);
      ref->conv_weight_grad (dy, 25, co, x, 25, ci, 9, offs5, len, g0);
      k->conv_weight_grad (dy, 25, co, x, 25, ci, 9, offs5, len, g1);
      g_assert_cmpmem (g1, co * ci * 9 * sizeof (gfloat), g0,
          co * ci * 9 * sizeof (gfloat));
    }
    memset (g0, 0, co * 9 * sizeof (gfloat));
    memset (g1, 0, co * 9 * sizeof (gfloat));
    ref->depthwise_weight_grad (dy, stride, x, stride / 2, co, 9, offs9, nq,
        g0);
    k->depthwise_weight_grad (dy, stride, x, stride / 2, co, 9, offs9, nq, g1);
    worst = MAX (worst, max_rel_diff (g1, g0, co * 9) / 10);
    worst = MAX (worst, fabs (k->sum (x, 1001) - ref->sum (x, 1001)) / 100);
    worst = MAX (worst, fabs (k->sum_sq_dev (x, 1001, 0.1f) -
            ref->sum_sq_dev (x, 1001, 0.1f)) / 100);
    worst = MAX (worst, fabs (k->dot (x, dy, 1001) - ref->dot (x, dy,
                1001)) / 100);
    sum_dot_matches (ref, x, dy);
    sum_dot_matches (k, x, dy);
    write_is_add_to_zero (ref, w, x, dy, stride, co, ci);
    write_is_add_to_zero (k, w, x, dy, stride, co, ci);
    /* element-wise kernels, on an odd length */
    for (guint relu = 0; relu < 2; relu++) {
      ref->affine (x, nq, 0.7f, -0.2f, relu, y0);
      k->affine (x, nq, 0.7f, -0.2f, relu, y1);
      worst = MAX (worst, max_rel_diff (y1, y0, nq));
    }
    ref->bn_backward (dy, x, nq, 1.3f, 0.1f, -0.2f, 0.4f, y0);
    k->bn_backward (dy, x, nq, 1.3f, 0.1f, -0.2f, 0.4f, y1);
    worst = MAX (worst, max_rel_diff (y1, y0, nq));
    ref->add (x, nq, y0);
    k->add (x, nq, y1);
    worst = MAX (worst, max_rel_diff (y1, y0, nq));
    /* depthwise with padding by masks and the max pool, on image sizes
     * of the net and odd ones, several images per plane */
    for (guint sz = 0; sz < 5; sz++) {
      const guint hs[] = { 44, 11, 6, 3, 7 }, ws[] = { 44, 11, 6, 3, 5 };
      const guint ni = 3, h = hs[sz], wd = ws[sz];
      const gsize pl = (gsize) ni * h * wd, po = ni * ((h + 1) / 2) *
          ((wd + 1) / 2);
      g_autofree gfloat *xs = rand_buf (co * pl);
      g_autofree gfloat *z0 = rand_buf (co * pl);
      g_autofree gfloat *z1 = g_memdup2 (z0, (co * pl + SLACK) *
          sizeof (gfloat));
      for (guint acc = 0; acc < 2; acc++) {
        ref->depthwise3x3 (w, co, xs, pl, h, wd, pl, z0, pl,
            acc ? FEMO_CONV_ACCUMULATE : 0);
        k->depthwise3x3 (w, co, xs, pl, h, wd, pl, z1, pl,
            acc ? FEMO_CONV_ACCUMULATE : 0);
        worst = MAX (worst, max_rel_diff (z1, z0, co * pl + SLACK));
      }
      memcpy (z1, z0, (co * pl + SLACK) * sizeof (gfloat));
      ref->maxpool_add (xs, co * ni, h, wd, z0);
      k->maxpool_add (xs, co * ni, h, wd, z1);
      /* exact: a max and one addition */
      g_assert_cmpfloat (max_rel_diff (z1, z0, co * po + SLACK), ==, 0.0);
      /* the training form, bitwise, winners too; values rounded to
       * eighths so that ties happen, in rows, columns and across both */
      for (gsize i = 0; i < co * pl; i++)
        xs[i] = roundf (xs[i] * 8.0f) / 8.0f;
      for (guint add = 0; add < 2; add++) {
        const gsize bytes = (co * pl + SLACK) * sizeof (gfloat);
        g_autofree guint16 *a0 = g_new (guint16, co * po);
        g_autofree guint16 *a1 = g_new (guint16, co * po);
        memcpy (z1, z0, bytes);
        ref->maxpool_arg (xs, co * ni, h, wd, add, z0, a0);
        k->maxpool_arg (xs, co * ni, h, wd, add, z1, a1);
        g_assert_cmpmem (z1, bytes, z0, bytes);
        g_assert_cmpmem (a1, co * po * sizeof (guint16), a0,
            co * po * sizeof (guint16));
        ref->maxpool_arg (xs, co * ni, h, wd, add, z0, NULL);
        k->maxpool_arg (xs, co * ni, h, wd, add, z1, NULL);
        g_assert_cmpmem (z1, bytes, z0, bytes);
      }
    }
    g_printerr ("%s vs reference: largest relative difference %.3g\n",
        names[n], worst);
    g_assert_cmpfloat (worst, <, 1e-5);
  }
  if (!tested)
    g_test_skip ("no SIMD kernels on this CPU");
}

/* The depthwise kernels find each position's image edges at any batch
 * size: one call over more than 2^23 positions (4400 images of 44x44, as a
 * training batch of 4096 on one worker gives), unit weights and inputs so
 * that every output is the count of its taps inside the image, bitwise. */
static void
test_depthwise_large_batch (void)
{
  const gchar *names[] = { "avx512", "avx2", "neon" };
  const guint h = 44, wd = 44;
  const gsize nq = (gsize) 4400 * h * wd;
  const gfloat w[9] = { 1, 1, 1, 1, 1, 1, 1, 1, 1 };
  g_autofree gfloat *x = g_new (gfloat, nq + SLACK);
  g_autofree gfloat *y0 = g_new (gfloat, nq);
  g_autofree gfloat *y1 = g_new (gfloat, nq);
  guint tested = 0;

  g_assert_cmpuint (nq, >, 1u << 23);
  for (gsize i = 0; i < nq + SLACK; i++)
    x[i] = 1.0f;
  femo_kernels_reference ()->depthwise3x3 (w, 1, x, nq, h, wd, nq, y0, nq, 0);
  for (guint n = 0; n < G_N_ELEMENTS (names); n++) {
    const FemoKernels *k = femo_kernels_get_by_name (names[n]);
    gsize q = 0;
    if (!k)
      continue;
    tested++;
    k->depthwise3x3 (w, 1, x, nq, h, wd, nq, y1, nq, 0);
    while (q < nq && y1[q] == y0[q])
      q++;
    if (q < nq)
      g_error ("%s: image %" G_GSIZE_FORMAT ", row %" G_GSIZE_FORMAT
          ", column %" G_GSIZE_FORMAT ": %g, reference %g", names[n],
          q / (h * wd), q / wd % h, q % wd, y1[q], y0[q]);
  }
  if (!tested)
    g_test_skip ("no SIMD kernels on this CPU");
}

/* The YuNet row kernels of every ISA this CPU runs against the reference:
 * the depthwise row with and without the rows above and below, with and
 * without ReLU, on lengths around the vector and unroll sizes (within
 * 1e-5: FMA rounds once where the reference rounds twice); the pool and
 * the upsampling bitwise (maxima and one addition are exact). Outputs past
 * n stay as they were. */
static void
test_row_kernels (void)
{
  const gchar *names[] = { "avx512", "avx2", "neon" };
  const FemoKernels *ref = femo_kernels_reference ();
  const gsize lens[] = { 1, 3, 4, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65,
    100, 129, 321
  };
  const gsize maxn = 321, rs = maxn + 2;
  g_autofree gfloat *rows = rand_buf (3 * rs);
  g_autofree gfloat *w = rand_buf (9);
  g_autofree gfloat *y0 = rand_buf (2 * maxn);
  g_autofree gfloat *y1 = g_memdup2 (y0, (2 * maxn + SLACK) * sizeof (gfloat));
  guint tested = 0;

  for (guint n = 0; n < G_N_ELEMENTS (names); n++) {
    const FemoKernels *k = femo_kernels_get_by_name (names[n]);
    gdouble worst = 0.0;
    if (!k)
      continue;
    tested++;
    for (guint l = 0; l < G_N_ELEMENTS (lens); l++) {
      const gsize len = lens[l];
      gfloat *r[3];
      for (gsize i = 0; i < 3 * rs; i++)
        rows[i] = (gfloat) femo_rng_range (&rng, -1.0, 1.0);
      /* each row zero at -1 and n, as the caller pads it */
      for (guint i = 0; i < 3; i++) {
        r[i] = rows + i * rs + 1;
        r[i][-1] = 0.0f;
        r[i][len] = 0.0f;
      }
      for (guint edges = 0; edges < 4; edges++)
        for (guint relu = 0; relu < 2; relu++) {
          const gfloat *up = edges & 1 ? NULL : r[0];
          const gfloat *down = edges & 2 ? NULL : r[2];
          ref->depthwise3x3_row (w, 0.3f, up, r[1], down, len, relu, y0);
          k->depthwise3x3_row (w, 0.3f, up, r[1], down, len, relu, y1);
          worst = MAX (worst, max_rel_diff (y1, y0, 2 * maxn));
          for (gsize j = 0; relu && j < len; j++)
            g_assert_cmpfloat (y1[j], >=, 0.0f);
        }
      memcpy (y1, y0, 2 * maxn * sizeof (gfloat));
      ref->maxpool2x2_row (r[0], r[1], len / 2, y0);
      k->maxpool2x2_row (r[0], r[1], len / 2, y1);
      g_assert_cmpmem (y1, 2 * maxn * sizeof (gfloat), y0,
          2 * maxn * sizeof (gfloat));
      ref->upsample2x_add_row (r[2], len, y0);
      k->upsample2x_add_row (r[2], len, y1);
      g_assert_cmpmem (y1, 2 * maxn * sizeof (gfloat), y0,
          2 * maxn * sizeof (gfloat));
    }
    g_printerr ("%s row kernels vs reference: largest relative difference "
        "%.3g\n", names[n], worst);
    g_assert_cmpfloat (worst, <, 1e-5);
  }
  if (!tested)
    g_test_skip ("no SIMD kernels on this CPU");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  femo_rng_init (&rng, 1234, 0);
  g_test_add_func ("/layers/backward", test_backward);
  g_test_add_func ("/layers/softmax-xent", test_xent);
  g_test_add_func ("/layers/maxpool-padding", test_maxpool_padding);
  g_test_add_func ("/layers/kernels", test_kernels);
  g_test_add_func ("/layers/depthwise-large-batch",
      test_depthwise_large_batch);
  g_test_add_func ("/layers/conv3x3-gap", test_conv3x3_gap);
  g_test_add_func ("/layers/row-kernels", test_row_kernels);
  return g_test_run ();
}
