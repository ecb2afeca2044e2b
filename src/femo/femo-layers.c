/* gst-femo: the CNN's layers as forward/backward pairs over raw floats
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "femo-layers.h"

#include <math.h>
#include <string.h>

#define SLACK FEMO_KERNEL_SLACK

/* Tap offsets of a 3x3 window over rows of @stride floats. */
static void
taps3x3 (guint stride, gint * offs)
{
  for (guint t = 0; t < 9; t++)
    offs[t] = (gint) ((t / 3) * stride + t % 3);
}

/* dst[0 .. n) = src[0 .. n), inline: the rows copied here are short (6 to
 * 48 floats) and copied by the thousand per training step, where a libc
 * call per row cost more than the copy. */
static inline void
copy_row (gfloat * dst, const gfloat * src, guint n)
{
  guint x = 0;

  for (; x + 4 <= n; x += 4)
    memcpy (dst + x, src + x, 4 * sizeof (gfloat));
  for (; x < n; x++)
    dst[x] = src[x];
}

/* Places the h x w image @src at (@off, @off) inside the zeroed dh x dw
 * image @dst; the caller zeroes any slack after it. */
static void
embed_image (const gfloat * src, guint h, guint w, guint dh, guint dw,
    guint off, gfloat * dst)
{
  memset (dst, 0, (gsize) dh * dw * sizeof (gfloat));
  for (guint y = 0; y < h; y++)
    copy_row (dst + (y + off) * dw + off, src + y * w, w);
}

/* Top-left h x w of one sh x sw image into dst (h x w), added or copied. */
static void
image_crop (const FemoKernels * k, const gfloat * src, guint sw, guint h,
    guint w, gboolean add, gfloat * dst)
{
  for (guint y = 0; y < h; y++) {
    if (add)
      k->add (src + y * sw, w, dst + y * w);
    else
      copy_row (dst + y * w, src + y * sw, w);
  }
}

/* The 3x3 convolutions run one image at a time so that the padded copies
 * and the flat outputs (a few planes of one image) stay in L1/L2 instead
 * of streaming whole batches through memory. */

gsize
femo_conv3x3_scratch_size (guint ci, guint co, guint n, guint h, guint w)
{
  return (gsize) 2 * (ci + co) * (h + 4) * (w + 4) + (gsize) 9 * ci * co +
      6 * SLACK;
}

/* Places @c planes of image @img of x [c][n][h][w] at (@off, @off) in
 * zeroed gh x gw planes [c][gh*gw] (+ zeroed slack). */
static void
image_place (const gfloat * x, guint c, guint n, guint img, guint h, guint w,
    guint gh, guint gw, guint off, gfloat * dst)
{
  const gsize plane = (gsize) h * w;
  for (guint ch = 0; ch < c; ch++)
    embed_image (x + ((gsize) ch * n + img) * plane, h, w, gh, gw, off,
        dst + (gsize) ch * gh * gw);
  memset (dst + (gsize) c * gh * gw, 0, SLACK * sizeof (gfloat));
}

void
femo_conv3x3_forward (const FemoKernels * k, const gfloat * x, guint ci,
    guint n, guint h, guint w, guint pad, const gfloat * wt,
    const gfloat * bias, guint co, guint flags, gfloat * y, gfloat * scratch)
{
  const guint hp = h + 2 * pad, wp = w + 2 * pad, ho = hp - 2, wo = wp - 2;
  const gsize grid = (gsize) hp * wp;
  /* outputs at q sit at the top-left corner of their window: the last
   * valid one is (ho - 1, wo - 1); the rest of each row is junk */
  const gsize nq = (gsize) (ho - 1) * wp + wo;
  gfloat *xp = scratch;
  gfloat *flat = scratch + ci * grid + SLACK;
  gint offs[9];

  taps3x3 (wp, offs);
  for (guint img = 0; img < n; img++) {
    const gfloat *xi = x + (gsize) img * h * w;
    gsize xs = (gsize) n * h * w;
    if (pad) {
      image_place (x, ci, n, img, h, w, hp, wp, pad, xp);
      xi = xp;
      xs = grid;
    }
    k->conv_forward (wt, bias, co, ci, 9, offs, xi, xs, flat, grid, nq,
        flags & ~FEMO_CONV_ACCUMULATE);
    for (guint o = 0; o < co; o++)
      image_crop (k, flat + o * grid, wp, ho, wo,
          (flags & FEMO_CONV_ACCUMULATE) != 0,
          y + ((gsize) o * n + img) * ho * wo);
  }
}

void
femo_conv3x3_backward (const FemoKernels * k, const gfloat * x, guint ci,
    guint n, guint h, guint w, guint pad, const gfloat * wt, guint co,
    const gfloat * dy, gfloat * dx, gfloat * dwt, gfloat * dbias,
    gfloat * scratch)
{
  const guint hp = h + 2 * pad, wp = w + 2 * pad, ho = hp - 2, wo = wp - 2;
  const guint gh = h + 2, gw = w + 2;
  const gsize grid = (gsize) hp * wp, grid2 = (gsize) gh * gw;
  const gsize nq = (gsize) (ho - 1) * wp + wo;
  const gsize nq2 = (gsize) (h - 1) * gw + w;
  gfloat *xp = scratch;
  gfloat *dys = xp + ci * grid + SLACK;
  gfloat *dyp = dys + co * grid + SLACK;
  gfloat *flat = dyp + co * grid2 + SLACK;
  gfloat *wtt = flat + ci * grid2 + SLACK;
  gint offs[9], offs2[9];

  taps3x3 (wp, offs);
  taps3x3 (gw, offs2);
  for (guint o = 0; o < co; o++)
    for (guint i = 0; i < ci; i++)
      for (guint t = 0; t < 9; t++)
        wtt[((gsize) i * co + o) * 9 + t] = wt[((gsize) o * ci + i) * 9 + 8 - t];
  if (dbias) {
    for (guint o = 0; o < co; o++)
      dbias[o] += (gfloat) k->sum (dy + (gsize) o * n * ho * wo,
          (gsize) n * ho * wo);
  }

  for (guint img = 0; img < n; img++) {
    const gfloat *xi = x + (gsize) img * h * w;
    gsize xs = (gsize) n * h * w;
    if (pad) {
      image_place (x, ci, n, img, h, w, hp, wp, pad, xp);
      xi = xp;
      xs = grid;
    }
    /* dW[o][i][t] = sum over the grid of dy (zero on junk positions)
     * times the shifted input */
    image_place (dy, co, n, img, ho, wo, hp, wp, 0, dys);
    k->conv_weight_grad (dys, grid, co, xi, xs, ci, 9, offs, nq, dwt);
    if (dx) {
      /* dx is the full correlation of dy with the flipped kernel: pad dy
       * by 2 - pad and run a valid convolution with W^T flipped */
      image_place (dy, co, n, img, ho, wo, gh, gw, 2 - pad, dyp);
      k->conv_forward (wtt, NULL, ci, co, 9, offs2, dyp, grid2, flat, grid2,
          nq2, 0);
      for (guint i = 0; i < ci; i++)
        image_crop (k, flat + i * grid2, gw, h, w, TRUE,
            dx + ((gsize) i * n + img) * h * w);
    }
  }
}

gsize
femo_conv3x3_gap_scratch_size (guint ci)
{
  return (gsize) 9 * ci;
}

void
femo_conv3x3_gap_forward (const FemoKernels * k, const gfloat * x, guint ci,
    guint n, guint h, guint w, const gfloat * wt, const gfloat * bias,
    guint co, gfloat * out, gfloat * scratch)
{
  const gsize plane = (gsize) h * w;

  /* Tap (ky, kx) sees every input row but the last (ky = 0), all of them
   * (ky = 1) or all but the first (ky = 2), and likewise for columns. */
  for (guint img = 0; img < n; img++) {
    for (guint i = 0; i < ci; i++) {
      const gfloat *xi = x + ((gsize) i * n + img) * plane;
      gfloat all[3] = { 0 }, first[3] = { 0 }, last[3] = { 0 };
      for (guint r = 0; r < h; r++) {
        const gfloat *row = xi + r * w;
        gfloat s = 0.0f, cols[3];
        for (guint c = 0; c < w; c++)
          s += row[c];
        /* this row's sum over the columns each kx sees */
        cols[0] = s - row[w - 1];
        cols[1] = s;
        cols[2] = s - row[0];
        for (guint kx = 0; kx < 3; kx++) {
          all[kx] += cols[kx];
          if (r == 0)
            first[kx] = cols[kx];
          if (r == h - 1)
            last[kx] = cols[kx];
        }
      }
      for (guint kx = 0; kx < 3; kx++) {
        scratch[i * 9 + kx] = all[kx] - last[kx];
        scratch[i * 9 + 3 + kx] = all[kx];
        scratch[i * 9 + 6 + kx] = all[kx] - first[kx];
      }
    }
    for (guint o = 0; o < co; o++)
      out[(gsize) img * co + o] = bias[o] + (gfloat) (k->dot (wt +
              (gsize) o * ci * 9, scratch, (gsize) ci * 9) / plane);
  }
}

gsize
femo_depthwise_scratch_size (guint c, guint n, guint h, guint w)
{
  return (gsize) 3 * (h + 2) * (w + 2) + (gsize) 9 * c + 4 * SLACK;
}

void
femo_depthwise_forward (const FemoKernels * k, const gfloat * x, guint c,
    guint n, guint h, guint w, const gfloat * wt, gfloat * y)
{
  const gsize plane = (gsize) n * h * w;

  k->depthwise3x3 (wt, c, x, plane, h, w, plane, y, plane, 0);
}

void
femo_depthwise_backward (const FemoKernels * k, const gfloat * x, guint c,
    guint n, guint h, guint w, const gfloat * wt, const gfloat * dy,
    gfloat * dx, gfloat * dwt, gfloat * scratch)
{
  const guint gw = w + 2;
  const gsize grid = (gsize) (h + 2) * gw, plane = (gsize) h * w;
  const gsize nq = (gsize) (h - 1) * gw + w;
  gfloat *xp = scratch;
  gfloat *dyp = xp + grid + SLACK;
  gfloat *wflip = dyp + grid + SLACK;
  gint offs[9];

  taps3x3 (gw, offs);
  for (guint ch = 0; ch < c; ch++)
    for (guint t = 0; t < 9; t++)
      wflip[ch * 9 + t] = wt[ch * 9 + 8 - t];
  /* dx is dy correlated with the flipped kernel, padding 1 */
  if (dx)
    k->depthwise3x3 (wflip, c, dy, plane * n, h, w, plane * n, dx, plane * n,
        FEMO_CONV_ACCUMULATE);
  memset (xp + grid, 0, SLACK * sizeof (gfloat));
  memset (dyp + grid, 0, SLACK * sizeof (gfloat));
  for (gsize im = 0; im < (gsize) c * n; im++) {
    embed_image (x + im * plane, h, w, h + 2, gw, 1, xp);
    embed_image (dy + im * plane, h, w, h + 2, gw, 1, dyp);
    /* dy padded by one, seen from (1, 1), is dy on the padded grid with
     * zeros on the junk positions: what the weight gradient needs */
    k->depthwise_weight_grad (dyp + gw + 1, grid, xp, grid, 1, 9, offs, nq,
        dwt + (im / n) * 9);
  }
}

gsize
femo_pointwise_scratch_size (guint ci, guint co)
{
  return (gsize) ci * co;
}

static const gint offs_zero[1] = { 0 };

void
femo_pointwise_forward (const FemoKernels * k, const gfloat * x, guint ci,
    gsize count, const gfloat * wt, const gfloat * bias, guint co,
    guint flags, gfloat * y)
{
  k->conv_forward (wt, bias, co, ci, 1, offs_zero, x, count, y, count, count,
      flags);
}

void
femo_pointwise_backward (const FemoKernels * k, const gfloat * x, guint ci,
    gsize count, const gfloat * wt, guint co, const gfloat * dy, gfloat * dx,
    guint dx_flags, gfloat * dwt, gfloat * scratch)
{
  k->conv_weight_grad (dy, count, co, x, count, ci, 1, offs_zero, count, dwt);
  if (dx) {
    for (guint o = 0; o < co; o++)
      for (guint i = 0; i < ci; i++)
        scratch[(gsize) i * co + o] = wt[(gsize) o * ci + i];
    k->conv_forward (scratch, NULL, ci, co, 1, offs_zero, dy, count, dx,
        count, count, dx_flags & FEMO_CONV_ACCUMULATE);
  }
}

/* Every second pixel of every second row: [c][n][h][w] ->
 * [c][n][ceil(h/2)][ceil(w/2)], plus zero slack. */
static void
planes_subsample (const gfloat * x, guint c, guint n, guint h, guint w,
    gfloat * y)
{
  const guint ho = (h + 1) / 2, wo = (w + 1) / 2;
  const gsize images = (gsize) c * n;

  for (gsize im = 0; im < images; im++)
    for (guint oy = 0; oy < ho; oy++)
      for (guint ox = 0; ox < wo; ox++)
        y[(im * ho + oy) * wo + ox] = x[(im * h + 2 * oy) * w + 2 * ox];
  memset (y + images * ho * wo, 0, SLACK * sizeof (gfloat));
}

gsize
femo_shortcut_scratch_size (guint ci, guint co, guint n, guint h, guint w)
{
  return (gsize) 2 * ci * n * ((h + 1) / 2) * ((w + 1) / 2) +
      femo_pointwise_scratch_size (ci, co) + 2 * SLACK;
}

void
femo_shortcut_forward (const FemoKernels * k, const gfloat * x, guint ci,
    guint n, guint h, guint w, const gfloat * wt, const gfloat * bias,
    guint co, gfloat * y, gfloat * scratch)
{
  const gsize count = (gsize) n * ((h + 1) / 2) * ((w + 1) / 2);

  planes_subsample (x, ci, n, h, w, scratch);
  femo_pointwise_forward (k, scratch, ci, count, wt, bias, co, 0, y);
}

void
femo_shortcut_backward (const FemoKernels * k, const gfloat * x, guint ci,
    guint n, guint h, guint w, const gfloat * wt, guint co,
    const gfloat * dy, gfloat * dx, gfloat * dwt, gfloat * scratch)
{
  const guint ho = (h + 1) / 2, wo = (w + 1) / 2;
  const gsize count = (gsize) n * ho * wo;
  gfloat *xs = scratch;
  gfloat *dxs = xs + ci * count + SLACK;
  gfloat *wtt = dxs + ci * count + SLACK;

  planes_subsample (x, ci, n, h, w, xs);
  if (!dx) {
    femo_pointwise_backward (k, xs, ci, count, wt, co, dy, NULL, 0, dwt, wtt);
    return;
  }
  femo_pointwise_backward (k, xs, ci, count, wt, co, dy, dxs, 0, dwt, wtt);
  for (gsize im = 0; im < (gsize) ci * n; im++)
    for (guint oy = 0; oy < ho; oy++)
      for (guint ox = 0; ox < wo; ox++)
        dx[(im * h + 2 * oy) * w + 2 * ox] += dxs[(im * ho + oy) * wo + ox];
}

void
femo_bn_partial_sum (const FemoKernels * k, const gfloat * x, guint c,
    gsize count, gdouble * sum)
{
  for (guint ch = 0; ch < c; ch++)
    sum[ch] = k->sum (x + ch * count, count);
}

void
femo_bn_partial_sq (const FemoKernels * k, const gfloat * x, guint c,
    gsize count, const gfloat * mean, gdouble * sq)
{
  for (guint ch = 0; ch < c; ch++)
    sq[ch] = k->sum_sq_dev (x + ch * count, count, mean[ch]);
}

void
femo_bn_forward (const FemoKernels * k, const gfloat * x, guint c,
    gsize count, const gfloat * mean, const gfloat * invstd,
    const gfloat * gamma, const gfloat * beta, gboolean relu, gfloat * y)
{
  for (guint ch = 0; ch < c; ch++) {
    const gfloat a = gamma[ch] * invstd[ch];
    k->affine (x + ch * count, count, a, beta[ch] - mean[ch] * a, relu,
        y + ch * count);
  }
}

void
femo_bn_backward_partial (const FemoKernels * k, gfloat * dy,
    const gfloat * relu_y, const gfloat * x, guint c, gsize count,
    const gfloat * mean, const gfloat * invstd, gdouble * sum_dy,
    gdouble * sum_dy_xhat)
{
  for (guint ch = 0; ch < c; ch++) {
    gdouble s, sx;
    k->sum_dot (dy + ch * count, relu_y ? relu_y + ch * count : NULL,
        x + ch * count, count, &s, &sx);
    sum_dy[ch] = s;
    /* sum dy * (x - mean) * invstd, without a pass that forms xhat */
    sum_dy_xhat[ch] = (sx - mean[ch] * s) * invstd[ch];
  }
}

void
femo_bn_backward (const FemoKernels * k, const gfloat * dy, const gfloat * x,
    guint c, gsize count, const gfloat * mean, const gfloat * invstd,
    const gfloat * gamma, const gfloat * mean_dy,
    const gfloat * mean_dy_xhat, gfloat * dx)
{
  for (guint ch = 0; ch < c; ch++)
    k->bn_backward (dy + ch * count, x + ch * count, count,
        gamma[ch] * invstd[ch], mean_dy[ch], mean[ch],
        invstd[ch] * mean_dy_xhat[ch], dx + ch * count);
}

void
femo_bn_fold (const gfloat * gamma, const gfloat * beta,
    const gfloat * running_mean, const gfloat * running_var, gfloat eps,
    guint c, gfloat * scale, gfloat * shift)
{
  for (guint ch = 0; ch < c; ch++) {
    const gdouble s = gamma[ch] / sqrt ((gdouble) running_var[ch] + eps);
    scale[ch] = (gfloat) s;
    shift[ch] = (gfloat) (beta[ch] - running_mean[ch] * s);
  }
}

void
femo_maxpool_forward (const FemoKernels * k, const gfloat * x, guint c,
    guint n, guint h, guint w, gboolean add, gfloat * y, guint16 * arg)
{
  g_return_if_fail (w <= FEMO_MAXPOOL_MAX_W);
  /* winners are 16-bit indices inside their image */
  g_return_if_fail (arg == NULL || (gsize) h * w <= G_MAXUINT16 + 1);
  k->maxpool_arg (x, (gsize) c * n, h, w, add, y, arg);
}

void
femo_maxpool_add_infer (const FemoKernels * k, const gfloat * x, guint c,
    guint n, guint h, guint w, gfloat * y)
{
  k->maxpool_add (x, (gsize) c * n, h, w, y);
}

void
femo_maxpool_backward (const gfloat * dy, guint c, guint n, guint h, guint w,
    const guint16 * arg, gfloat * dx)
{
  const gsize per = (gsize) ((h + 1) / 2) * ((w + 1) / 2);
  const gsize images = (gsize) c * n;

  for (gsize im = 0; im < images; im++)
    for (gsize o = 0; o < per; o++)
      dx[im * h * w + arg[im * per + o]] += dy[im * per + o];
}

void
femo_gap_forward (const gfloat * x, guint k, guint n, guint hw, gfloat * out)
{
  for (guint c = 0; c < k; c++)
    for (guint im = 0; im < n; im++) {
      const gfloat *xi = x + ((gsize) c * n + im) * hw;
      gfloat s = 0.0f;
      for (guint p = 0; p < hw; p++)
        s += xi[p];
      out[(gsize) im * k + c] = s / hw;
    }
}

void
femo_gap_backward (const gfloat * dout, guint k, guint n, guint hw,
    gfloat * dx)
{
  for (guint c = 0; c < k; c++)
    for (guint im = 0; im < n; im++) {
      gfloat *di = dx + ((gsize) c * n + im) * hw;
      const gfloat g = dout[(gsize) im * k + c] / hw;
      for (guint p = 0; p < hw; p++)
        di[p] += g;
    }
}

static guint
argmax (const gfloat * v, guint k)
{
  guint best = 0;
  for (guint c = 1; c < k; c++)
    if (v[c] > v[best])
      best = c;
  return best;
}

gdouble
femo_softmax_xent (const gfloat * logits, guint n, guint k,
    const guint * labels, const gfloat * targets, gfloat smoothing,
    gfloat grad_scale, gfloat * probs, gfloat * dlogits, guint * correct)
{
  gdouble loss = 0.0;

  for (guint im = 0; im < n; im++) {
    const gfloat *z = logits + (gsize) im * k;
    const gfloat zmax = z[argmax (z, k)];
    gdouble sum = 0.0, lse;
    guint truth;

    for (guint c = 0; c < k; c++)
      sum += exp ((gdouble) z[c] - zmax);
    lse = zmax + log (sum);
    truth = labels ? labels[im] : argmax (targets + (gsize) im * k, k);
    if (correct && argmax (z, k) == truth)
      (*correct)++;
    for (guint c = 0; c < k; c++) {
      const gdouble p = exp ((gdouble) z[c] - lse);
      gdouble t = labels ? (c == labels[im]) : targets[(gsize) im * k + c];
      t = (1.0 - smoothing) * t + smoothing / k;
      if (t != 0.0)
        loss -= t * ((gdouble) z[c] - lse);
      if (probs)
        probs[(gsize) im * k + c] = (gfloat) p;
      if (dlogits)
        dlogits[(gsize) im * k + c] = (gfloat) ((p - t) * grad_scale);
    }
  }
  return loss;
}

void
femo_softmax (const gfloat * logits, guint n, guint k, gfloat * probs)
{
  for (guint im = 0; im < n; im++) {
    const gfloat *z = logits + (gsize) im * k;
    gfloat *p = probs + (gsize) im * k;
    const gfloat zmax = z[argmax (z, k)];
    gdouble sum = 0.0;
    for (guint c = 0; c < k; c++)
      sum += exp ((gdouble) z[c] - zmax);
    for (guint c = 0; c < k; c++)
      p[c] = (gfloat) (exp ((gdouble) z[c] - zmax) / sum);
  }
}
