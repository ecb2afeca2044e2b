/* gst-femo: SIMD kernel bodies, written once over GCC vector types and
 * compiled per instruction set by femo-kernels-<isa>.c, which defines
 * BODY_VW (floats per vector), BODY_NO x BODY_QB (output channels x
 * vectors held in registers by conv_forward, sized to the ISA's register
 * file) and BODY_TABLE (the name of the FemoKernels it fills) before
 * including this file inside its target region.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Register blocking is written out explicitly (fixed-size accumulator
 * arrays, fully unrolled) so every accumulator lives in a register; loads
 * are unaligned because planes start anywhere; multiply-adds contract to
 * FMA where the target has it.
 */

#include <string.h>

typedef gfloat vf __attribute__((vector_size (BODY_VW * 4)));
typedef gint32 vi __attribute__((vector_size (BODY_VW * 4)));
typedef guint32 vu __attribute__((vector_size (BODY_VW * 4)));
typedef gfloat vfu __attribute__((vector_size (BODY_VW * 4), aligned (4),
        may_alias));

#define ALWAYS_INLINE static inline __attribute__((always_inline))

ALWAYS_INLINE vf
ld (const gfloat * p)
{
  return *(const vfu *) p;
}

ALWAYS_INLINE void
st (gfloat * p, vf v)
{
  *(vfu *) p = v;
}

/* ld into a register the compiler must keep: used once per vector by
 * several multiply-adds, it is otherwise folded into each of them as a
 * memory operand, and unaligned loads that straddle cache lines cost
 * twice. */
ALWAYS_INLINE vf
ld_once (const gfloat * p)
{
  vf v = ld (p);
#if defined(__x86_64__)
  __asm__ ("" : "+v" (v));
#endif
  return v;
}

/* s - 0, not 0 + s: the subtraction is an identity the compiler drops
 * (an addition of +0 turns -0 into +0, so it stays a real instruction and
 * kept the broadcast out of the FMA's memory operand). */
ALWAYS_INLINE vf
splat (gfloat s)
{
  const vf zero = { 0 };
  return s - zero;
}

ALWAYS_INLINE gdouble
hsum (vf v)
{
  gdouble s = 0.0;
  for (int l = 0; l < BODY_VW; l++)
    s += v[l];
  return s;
}

/* s[j] = hsum (acc[j]) for @m accumulators, taken lane by lane across all
 * of them: each sum has the same additions in the same order, but the @m
 * chains of dependent additions run side by side instead of one after
 * another (small weight-gradient tiles spent most of their time here). */
ALWAYS_INLINE void
hsum_many (const int m, const vf * acc, gdouble * s)
{
#pragma GCC unroll 18
  for (int j = 0; j < m; j++)
    s[j] = 0.0;
  for (int l = 0; l < BODY_VW; l++)
#pragma GCC unroll 18
    for (int j = 0; j < m; j++)
      s[j] += acc[j][l];
}

/* One output tile: @no x @qb (constants after inlining) channels x
 * vectors, @ntaps taps (a constant for pointwise convs, so their loop over
 * input channels has no inner tap loop); @nvalid outputs of the tile are
 * stored. Every output sums its products in the same order whatever the
 * tile shape. */
ALWAYS_INLINE void
conv_tile (const int no, const int qb, const guint ntaps, const gfloat * w,
    const gfloat * bias, guint ci, const gint * offs, const gfloat * x,
    gsize xs, gfloat * y, gsize ys, gsize nvalid, guint flags)
{
  vf acc[BODY_NO][BODY_QB];
  const gsize wstride = (gsize) ci * ntaps;

#pragma GCC unroll 16
  for (int o = 0; o < no; o++) {
#pragma GCC unroll 4
    for (int b = 0; b < qb; b++)
      acc[o][b] = splat (bias ? bias[o] : 0.0f);
    if ((flags & FEMO_CONV_ACCUMULATE) && nvalid == (gsize) qb * BODY_VW) {
#pragma GCC unroll 4
      for (int b = 0; b < qb; b++)
        acc[o][b] += ld (y + o * ys + b * BODY_VW);
    } else if (flags & FEMO_CONV_ACCUMULATE) {
      /* a short tile: its lanes past @nvalid add zeros, not what lies
       * past y's outputs */
      gfloat tmp[BODY_QB * BODY_VW] = { 0 };
      memcpy (tmp, y + o * ys, nvalid * sizeof (gfloat));
#pragma GCC unroll 4
      for (int b = 0; b < qb; b++)
        acc[o][b] += ld (tmp + b * BODY_VW);
    }
  }

  for (guint i = 0; i < ci; i++) {
    const gfloat *xi = x + i * xs;
    const gfloat *wi = w + (gsize) i * ntaps;
    for (guint t = 0; t < ntaps; t++) {
      const gfloat *xp = xi + offs[t];
      vf v[BODY_QB];
#pragma GCC unroll 4
      for (int b = 0; b < qb; b++)
        v[b] = ld (xp + b * BODY_VW);
#pragma GCC unroll 16
      for (int o = 0; o < no; o++) {
        const vf s = splat (wi[o * wstride + t]);
#pragma GCC unroll 4
        for (int b = 0; b < qb; b++)
          acc[o][b] += s * v[b];
      }
    }
  }

#pragma GCC unroll 16
  for (int o = 0; o < no; o++) {
    if (flags & FEMO_CONV_RELU) {
      const vf zero = { 0 };
#pragma GCC unroll 4
      for (int b = 0; b < qb; b++)
        acc[o][b] = (vf) ((vi) acc[o][b] & (acc[o][b] > zero));
    }
    if (nvalid == (gsize) qb * BODY_VW) {
#pragma GCC unroll 4
      for (int b = 0; b < qb; b++)
        st (y + o * ys + b * BODY_VW, acc[o][b]);
    } else {
      gfloat tmp[BODY_QB * BODY_VW];
#pragma GCC unroll 4
      for (int b = 0; b < qb; b++)
        st (tmp + b * BODY_VW, acc[o][b]);
      memcpy (y + o * ys, tmp, nvalid * sizeof (gfloat));
    }
  }
}

/* All output channels over one tile of @qb vectors. */
ALWAYS_INLINE void
conv_channels (const int qb, const guint ntaps, const gfloat * w,
    const gfloat * bias, guint co, guint ci, const gint * offs,
    const gfloat * x, gsize xs, gfloat * y, gsize ys, gsize nvalid,
    guint flags)
{
  const gsize wstride = (gsize) ci * ntaps;
  guint o = 0;

  for (; o + BODY_NO <= co; o += BODY_NO)
    conv_tile (BODY_NO, qb, ntaps, w + o * wstride, bias ? bias + o : NULL,
        ci, offs, x, xs, y + o * ys, ys, nvalid, flags);
  switch (co - o) {
#define REST(n) case n: conv_tile (n, qb, ntaps, w + o * wstride, \
        bias ? bias + o : NULL, ci, offs, x, xs, y + o * ys, ys, nvalid, \
        flags); break;
#if BODY_NO > 7
      REST (7) REST (6) REST (5) REST (4)
#endif
#if BODY_NO > 3
      REST (3) REST (2)
#endif
      REST (1)
#undef REST
    default:
      break;
  }
}

ALWAYS_INLINE void
conv_forward_taps (const guint ntaps, const gfloat * w, const gfloat * bias,
    guint co, guint ci, const gint * offs, const gfloat * x, gsize xs,
    gfloat * y, gsize ys, gsize nq, guint flags)
{
  /* q outermost: the input tile (ci planes x BODY_QB vectors) stays in L1
   * while every output channel block walks over it; a short last tile
   * runs only the vectors it needs (small maps at batch 1) */
  for (gsize q = 0; q < nq; q += BODY_QB * BODY_VW) {
    const gsize nvalid = MIN (nq - q, (gsize) BODY_QB * BODY_VW);
    const gsize nvec = (nvalid + BODY_VW - 1) / BODY_VW;
    if (nvec == 1)
      conv_channels (1, ntaps, w, bias, co, ci, offs, x + q, xs, y + q, ys,
          nvalid, flags);
    else if (nvec == 2 && BODY_QB > 2)
      conv_channels (2, ntaps, w, bias, co, ci, offs, x + q, xs, y + q, ys,
          nvalid, flags);
    else
      conv_channels (BODY_QB, ntaps, w, bias, co, ci, offs, x + q, xs, y + q,
          ys, nvalid, flags);
  }
}

static void
body_conv_forward (const gfloat * w, const gfloat * bias, guint co, guint ci,
    guint ntaps, const gint * offs, const gfloat * x, gsize xs, gfloat * y,
    gsize ys, gsize nq, guint flags)
{
  if (ntaps == 1)
    conv_forward_taps (1, w, bias, co, ci, offs, x, xs, y, ys, nq, flags);
  else
    conv_forward_taps (ntaps, w, bias, co, ci, offs, x, xs, y, ys, nq, flags);
}

/* Weight gradient of a pointwise conv: a tile of @no x @ni weights, all
 * accumulated over q in [0, nq). */
ALWAYS_INLINE void
wgrad_pw_tile (const int no, const int ni, const gfloat * dy, gsize dys,
    const gfloat * x, gsize xs, gsize nq, gfloat * dw, gsize dw_stride)
{
  vf acc[4][4];
  gsize q = 0;

#pragma GCC unroll 4
  for (int o = 0; o < no; o++)
#pragma GCC unroll 4
    for (int i = 0; i < ni; i++)
      acc[o][i] = splat (0.0f);
  for (; q + BODY_VW <= nq; q += BODY_VW) {
    vf d[4], v[4];
#pragma GCC unroll 4
    for (int o = 0; o < no; o++)
      d[o] = ld (dy + o * dys + q);
#pragma GCC unroll 4
    for (int i = 0; i < ni; i++)
      v[i] = ld (x + i * xs + q);
#pragma GCC unroll 4
    for (int o = 0; o < no; o++)
#pragma GCC unroll 4
      for (int i = 0; i < ni; i++)
        acc[o][i] += d[o] * v[i];
  }
  {
    vf a[16];
    gdouble s[16];
#pragma GCC unroll 4
    for (int o = 0; o < no; o++)
#pragma GCC unroll 4
      for (int i = 0; i < ni; i++)
        a[o * ni + i] = acc[o][i];
    hsum_many (no * ni, a, s);
    /* the rest of q, still one chain per weight, interleaved */
    for (gsize r = q; r < nq; r++)
#pragma GCC unroll 4
      for (int o = 0; o < no; o++)
#pragma GCC unroll 4
        for (int i = 0; i < ni; i++)
          s[o * ni + i] += (gdouble) dy[o * dys + r] * x[i * xs + r];
#pragma GCC unroll 4
    for (int o = 0; o < no; o++)
#pragma GCC unroll 4
      for (int i = 0; i < ni; i++)
        dw[o * dw_stride + i] += (gfloat) s[o * ni + i];
  }
}

/* Weight gradient of a 3x3 conv: @no output channels x 9 taps of one
 * input channel. */
ALWAYS_INLINE void
wgrad_taps9_tile (const int no, const gfloat * dy, gsize dys,
    const gfloat * x, const gint * offs, gsize nq, gfloat * dw,
    gsize dw_stride)
{
  vf acc[2][9];
  gsize q = 0;

#pragma GCC unroll 2
  for (int o = 0; o < no; o++)
#pragma GCC unroll 9
    for (int t = 0; t < 9; t++)
      acc[o][t] = splat (0.0f);
  for (; q + BODY_VW <= nq; q += BODY_VW) {
    vf d[2];
#pragma GCC unroll 2
    for (int o = 0; o < no; o++)
      d[o] = ld (dy + o * dys + q);
#pragma GCC unroll 9
    for (int t = 0; t < 9; t++) {
      const vf v = ld_once (x + q + offs[t]);
#pragma GCC unroll 2
      for (int o = 0; o < no; o++)
        acc[o][t] += d[o] * v;
    }
  }
  {
    gdouble s[18];
    hsum_many (no * 9, &acc[0][0], s);
    /* the rest of q, still one chain per weight, interleaved */
    for (gsize r = q; r < nq; r++)
#pragma GCC unroll 2
      for (int o = 0; o < no; o++)
#pragma GCC unroll 9
        for (int t = 0; t < 9; t++)
          s[o * 9 + t] += (gdouble) dy[o * dys + r] * x[r + offs[t]];
#pragma GCC unroll 2
    for (int o = 0; o < no; o++)
#pragma GCC unroll 9
      for (int t = 0; t < 9; t++)
        dw[o * dw_stride + t] += (gfloat) s[o * 9 + t];
  }
}

typedef gdouble vd __attribute__((vector_size (BODY_VW * 4)));
#define BODY_VD (BODY_VW / 2)
/* Positions of x wgrad_taps9_short takes (its copy lives on the stack). */
#define SHORT_MAX_POS 64

/* Weight gradient of a 3x3 conv over fewer than BODY_VW positions (the
 * head: 3x3 images, one at a time). wgrad_taps9_tile would only run its
 * scalar rest there: for each weight, +0 (the sum of all-zero lanes) plus
 * the products in q order, in double. Here those chains run side by side
 * over input channels, in vectors of doubles from a transposed copy of x:
 * the same additions in the same order (the products are exact in double,
 * fused or not). FALSE when the shape does not fit. */
static gboolean
wgrad_taps9_short (const gfloat * dy, gsize dys, guint co, const gfloat * x,
    gsize xs, guint ci, const gint * offs, gsize nq, gfloat * dw)
{
  vd xt[SHORT_MAX_POS];
  gint maxoff = 0;
  gsize npos;

  for (int t = 0; t < 9; t++) {
    if (offs[t] < 0)
      return FALSE;
    maxoff = MAX (maxoff, offs[t]);
  }
  npos = nq + maxoff;
  if (nq >= BODY_VW || npos > SHORT_MAX_POS)
    return FALSE;
  for (guint i0 = 0; i0 < ci; i0 += BODY_VD) {
    const guint ni = MIN ((guint) BODY_VD, ci - i0);
    for (gsize p = 0; p < npos; p++)
      for (guint l = 0; l < BODY_VD; l++)
        xt[p][l] = l < ni ? x[(i0 + l) * xs + p] : 0.0;
    for (guint o = 0; o < co; o++)
#pragma GCC unroll 9
      for (int t = 0; t < 9; t++) {
        const vd zero = { 0 };
        vd s = zero;
        for (gsize r = 0; r < nq; r++)
          s += ((gdouble) dy[o * dys + r] - zero) * xt[r + offs[t]];
        for (guint l = 0; l < ni; l++)
          dw[((gsize) o * ci + i0 + l) * 9 + t] += (gfloat) s[l];
      }
  }
  return TRUE;
}

/* Floats of q handled per pass so that the planes touched by one pass
 * stay in L2 (the weight tiles re-read them once per tile). */
static gsize
wgrad_chunk (guint co, guint ci)
{
  gsize chunk = (gsize) (256 * 1024 / 4) / (co + ci);
  chunk = MAX (chunk, (gsize) 16 * BODY_VW);
  return chunk / BODY_VW * BODY_VW;
}

static void
body_conv_weight_grad (const gfloat * dy, gsize dys, guint co,
    const gfloat * x, gsize xs, guint ci, guint ntaps, const gint * offs,
    gsize nq, gfloat * dw)
{
  const gsize chunk = wgrad_chunk (co, ci);

  for (gsize q0 = 0; q0 < nq; q0 += chunk) {
    const gsize len = MIN (chunk, nq - q0);
    const gfloat *dyq = dy + q0;
    const gfloat *xq = x + q0;

    if (ntaps == 1) {
      for (guint o = 0; o < co; o += 4) {
        const guint no = MIN (4u, co - o);
        for (guint i = 0; i < ci; i += 4) {
          const guint ni = MIN (4u, ci - i);
          const gfloat *d = dyq + o * dys;
          const gfloat *v = xq + i * xs;
          gfloat *g = dw + (gsize) o * ci + i;
          if (no == 4 && ni == 4)
            wgrad_pw_tile (4, 4, d, dys, v, xs, len, g, ci);
          else if (no == 4)
            for (guint k = 0; k < ni; k++)
              wgrad_pw_tile (4, 1, d, dys, v + k * xs, xs, len, g + k, ci);
          else
            for (guint m = 0; m < no; m++)
              for (guint k = 0; k < ni; k++)
                wgrad_pw_tile (1, 1, d + m * dys, dys, v + k * xs, xs, len,
                    g + (gsize) m * ci + k, ci);
        }
      }
    } else if (ntaps == 9) {
      if (wgrad_taps9_short (dyq, dys, co, xq, xs, ci, offs, len, dw))
        continue;
      for (guint o = 0; o < co; o += 2) {
        const guint no = MIN (2u, co - o);
        for (guint i = 0; i < ci; i++) {
          gfloat *g = dw + ((gsize) o * ci + i) * 9;
          if (no == 2)
            wgrad_taps9_tile (2, dyq + o * dys, dys, xq + i * xs, offs, len,
                g, (gsize) ci * 9);
          else
            wgrad_taps9_tile (1, dyq + o * dys, dys, xq + i * xs, offs, len,
                g, (gsize) ci * 9);
        }
      }
    } else {
      femo_kernels_reference ()->conv_weight_grad (dyq, dys, co, xq, xs, ci,
          ntaps, offs, len, dw);
    }
  }
}

static void
body_depthwise_weight_grad (const gfloat * dy, gsize dys, const gfloat * x,
    gsize xs, guint c, guint ntaps, const gint * offs, gsize nq, gfloat * dw)
{
  if (ntaps != 9) {
    femo_kernels_reference ()->depthwise_weight_grad (dy, dys, x, xs, c,
        ntaps, offs, nq, dw);
    return;
  }
  for (guint ch = 0; ch < c; ch++)
    wgrad_taps9_tile (1, dy + ch * dys, dys, x + ch * xs, offs, nq,
        dw + ch * 9, 0);
}

ALWAYS_INLINE vf
vmax (vf a, vf b)
{
  const vi gt = a > b;
  return (vf) ((gt & (vi) a) | (~gt & (vi) b));
}

ALWAYS_INLINE vf
vand (vf a, vi m)
{
  return (vf) ((vi) a & m);
}

/* x[i .. i + BODY_VW) with the elements before x read as zero. */
ALWAYS_INLINE vf
ld_guarded (const gfloat * x, gssize i)
{
  gfloat t[BODY_VW];

  if (G_LIKELY (i >= 0))
    return ld (x + i);
  for (int l = 0; l < BODY_VW; l++)
    t[l] = i + l >= 0 ? x[i + l] : 0.0f;
  return ld (t);
}

/* Depthwise positions handled per pass: their edge masks are computed
 * once and reused by every channel. */
#define DW_VECS 16

static void
body_depthwise3x3 (const gfloat * w, guint c, const gfloat * x, gsize xs,
    guint h, guint wd, gsize nq, gfloat * y, gsize ys, guint flags)
{
  /* per vector: left, right, upper, lower neighbour inside the image */
  vi m[DW_VECS][4];
  /* column and row inside its image of each lane of the next vector, in
   * integers (exact at any batch size, where float positions are not past
   * 2^22), stepped a vector at a time: a step wraps a lane at most @wraps
   * times past the end of a row */
  vu col, row;
  guint wraps;
  const gssize sw = wd;

  if (wd + 2 * BODY_VW + 2 > FEMO_KERNEL_SLACK) {
    femo_kernels_reference ()->depthwise3x3 (w, c, x, xs, h, wd, nq, y, ys,
        flags);
    return;
  }
  if (nq == 0)
    return;
  wraps = (BODY_VW + wd - 1) / wd;
  for (int l = 0; l < BODY_VW; l++) {
    col[l] = l % wd;
    row[l] = l / wd % h;
  }
  for (gsize q0 = 0; q0 < nq; q0 += DW_VECS * BODY_VW) {
    const guint nv = MIN ((nq - q0 + BODY_VW - 1) / BODY_VW, DW_VECS);

    for (guint v = 0; v < nv; v++) {
      m[v][0] = col > 0;
      m[v][1] = col < wd - 1;
      m[v][2] = row > 0;
      m[v][3] = row < h - 1;
      col += BODY_VW;
      for (guint k = 0; k < wraps; k++) {
        const vu next_row = (vu) (col >= wd);
        col -= next_row & wd;
        row += next_row & 1;
        row -= (vu) (row >= h) & h;
      }
    }
    for (guint ch = 0; ch < c; ch++) {
      const gfloat *xc = x + ch * xs;
      gfloat *yc = y + ch * ys;
      vf k[9];
#pragma GCC unroll 9
      for (int t = 0; t < 9; t++)
        k[t] = splat (w[ch * 9 + t]);
      for (guint v = 0; v < nv; v++) {
        const gssize q = q0 + v * BODY_VW;
        const gsize nvalid = MIN (nq - q, (gsize) BODY_VW);
        /* where the plane position sits in x: only the first sw + 1
         * floats of x need guarded loads (the ones before it are masked
         * but must not be read); earlier planes lie before the others */
        const gssize at = (gssize) (ch * xs) + q;
        vf a[9], acc;
        /* loads first, one arithmetic for both cases, so a position gives
         * the same bits wherever it sits in the batch */
        if (G_LIKELY (at > sw)) {
#pragma GCC unroll 4
          for (int t = 0; t < 4; t++)
            a[t] = ld (xc + q + (t / 3 - 1) * sw + t % 3 - 1);
        } else {
#pragma GCC unroll 4
          for (int t = 0; t < 4; t++)
            a[t] = ld_guarded (x, at + (t / 3 - 1) * sw + t % 3 - 1);
        }
#pragma GCC unroll 5
        for (int t = 4; t < 9; t++)
          a[t] = ld (xc + q + (t / 3 - 1) * sw + t % 3 - 1);
#pragma GCC unroll 3
        for (int t = 0; t < 9; t += 3) {
          a[t] = vand (a[t], m[v][0]);
          a[t + 2] = vand (a[t + 2], m[v][1]);
        }
        acc = k[3] * a[3] + k[4] * a[4] + k[5] * a[5] +
            vand (k[0] * a[0] + k[1] * a[1] + k[2] * a[2], m[v][2]) +
            vand (k[6] * a[6] + k[7] * a[7] + k[8] * a[8], m[v][3]);
        if (G_LIKELY (nvalid == BODY_VW)) {
          if (flags & FEMO_CONV_ACCUMULATE)
            acc += ld (yc + q);
          st (yc + q, acc);
        } else {
          gfloat tmp[BODY_VW];
          st (tmp, acc);
          for (gsize l = 0; l < nvalid; l++)
            yc[q + l] = (flags & FEMO_CONV_ACCUMULATE) ? yc[q + l] + tmp[l] :
                tmp[l];
        }
      }
    }
  }
}

ALWAYS_INLINE vf
vsel (vi m, vf a, vf b)
{
  return (vf) ((m & (vi) a) | (~m & (vi) b));
}

/* Output vectors per row body_maxpool_add takes (wider rows go to the
 * reference). */
#define POOL_GROUPS 4

/* Each group of two column vectors gives one vector of outputs: the even
 * columns, the odd ones and the odd ones shifted by a lane are the three
 * columns of each window. Whole vectors are read past a row (the next row
 * or the slack) and masked; y is read-modified-written by whole vectors,
 * lanes past the row keep the values read. */
static void
body_maxpool_add (const gfloat * x, gsize nimg, guint h, guint w, gfloat * y)
{
  const guint ho = (h + 1) / 2, wo = (w + 1) / 2;
  const guint ngroups = (wo + BODY_VW - 1) / BODY_VW;
  const vf ninf = splat (-G_MAXFLOAT);
  vi even, odd, prev, inside[2 * POOL_GROUPS], tail;

  if (ngroups > POOL_GROUPS) {
    femo_kernels_reference ()->maxpool_add (x, nimg, h, w, y);
    return;
  }
  for (int l = 0; l < BODY_VW; l++) {
    even[l] = 2 * l;
    odd[l] = 2 * l + 1;
    prev[l] = BODY_VW - 1 + l;
    tail[l] = (guint) l < wo - (ngroups - 1) * BODY_VW ? -1 : 0;
    for (guint v = 0; v < 2 * ngroups; v++)
      inside[v][l] = v * BODY_VW + l < w ? -1 : 0;
  }
  for (gsize im = 0; im < nimg; im++) {
    const gfloat *xi = x + im * h * w;
    for (guint oy = 0; oy < ho; oy++) {
      const guint r0 = oy ? 2 * oy - 1 : 0, r1 = MIN (2 * oy + 1, h - 1);
      gfloat *yo = y + (im * ho + oy) * wo;
      vf last_odd = ninf;
      for (guint g = 0; g < ngroups; g++) {
        vf c[2], e, o, m;
        for (guint half = 0; half < 2; half++) {
          const guint v = 2 * g + half;
          vf mx = ld (xi + r0 * w + v * BODY_VW);
          for (guint r = r0 + 1; r <= r1; r++)
            mx = vmax (mx, ld (xi + r * w + v * BODY_VW));
          c[half] = vsel (inside[v], mx, ninf);
        }
        e = __builtin_shuffle (c[0], c[1], even);
        o = __builtin_shuffle (c[0], c[1], odd);
        m = vmax (vmax (e, o), __builtin_shuffle (last_odd, o, prev));
        last_odd = o;
        if (g + 1 < ngroups)
          st (yo + g * BODY_VW, ld (yo + g * BODY_VW) + m);
        else
          st (yo + g * BODY_VW, vsel (tail, ld (yo + g * BODY_VW) + m,
                  ld (yo + g * BODY_VW)));
      }
    }
  }
}

/* Widest image body_maxpool_arg takes (wider ones go to the reference). */
#define POOL_ARG_MAX_W 128

ALWAYS_INLINE vi
vsel_i (vi m, vi a, vi b)
{
  return (m & a) | (~m & b);
}

/* The training max pool, with the reference's comparisons in the same
 * order (strict >, so the same winners and ties): first the max of each
 * column over the window's rows (whole vectors, reading past the row into
 * the next one or the slack; those lanes are never used), then each window
 * over the odd column before it, its even column and the odd one after it
 * (the first window has no column before it). */
static void
body_maxpool_arg (const gfloat * x, gsize nimg, guint h, guint w,
    gboolean add, gfloat * y, guint16 * arg)
{
  const guint ho = (h + 1) / 2, wo = (w + 1) / 2;
  const guint ngroups = (wo + BODY_VW - 1) / BODY_VW;
  const vf ninf = splat (-G_MAXFLOAT);
  const vi zero_i = { 0 };
  gfloat cm[POOL_ARG_MAX_W + 2 * BODY_VW];
  gint32 cr[POOL_ARG_MAX_W + 2 * BODY_VW] __attribute__((aligned (64)));
  vi even, odd, prev, first, col_even;

  if (w > POOL_ARG_MAX_W) {
    femo_kernels_reference ()->maxpool_arg (x, nimg, h, w, add, y, arg);
    return;
  }
  for (int l = 0; l < BODY_VW; l++) {
    even[l] = 2 * l;
    odd[l] = 2 * l + 1;
    prev[l] = BODY_VW - 1 + l;
    first[l] = l == 0 ? -1 : 0;
    col_even[l] = 2 * l;
  }
  for (gsize im = 0; im < nimg; im++) {
    const gfloat *xi = x + im * h * w;
    for (guint oy = 0; oy < ho; oy++) {
      const guint r0 = oy ? 2 * oy - 1 : 0, r1 = MIN (2 * oy + 1, h - 1);
      const gsize out = (im * ho + oy) * wo;
      vf last_o = ninf;
      vi last_or = zero_i;

      for (guint v = 0; v < 2 * ngroups; v++) {
        vf m = ld (xi + r0 * w + v * BODY_VW);
        vi r = zero_i + (gint32) r0;
        for (guint rr = r0 + 1; rr <= r1; rr++) {
          const vf val = ld (xi + rr * w + v * BODY_VW);
          const vi gt = val > m;
          r = vsel_i (gt, zero_i + (gint32) rr, r);
          m = vsel (gt, val, m);
        }
        st (cm + v * BODY_VW, m);
        *(vi *) (cr + v * BODY_VW) = r;
      }
      for (guint g = 0; g < ngroups; g++) {
        const vf c0 = ld (cm + 2 * g * BODY_VW);
        const vf c1 = ld (cm + (2 * g + 1) * BODY_VW);
        const vi r0v = *(const vi *) (cr + 2 * g * BODY_VW);
        const vi r1v = *(const vi *) (cr + (2 * g + 1) * BODY_VW);
        const vf e = __builtin_shuffle (c0, c1, even);
        const vf o = __builtin_shuffle (c0, c1, odd);
        const vi er = __builtin_shuffle (r0v, r1v, even);
        const vi orow = __builtin_shuffle (r0v, r1v, odd);
        const vi ce = col_even + (gint32) (2 * g * BODY_VW);
        const vi co = ce + 1;
        const gsize ox = (gsize) g * BODY_VW;
        const guint nvalid = MIN (wo - g * BODY_VW, (guint) BODY_VW);
        vf m = __builtin_shuffle (last_o, o, prev);
        vi br = __builtin_shuffle (last_or, orow, prev);
        vi bc = ce - 1;
        vi gt, a;

        if (g == 0) {
          m = vsel (first, e, m);
          br = vsel_i (first, er, br);
          bc = vsel_i (first, ce, bc);
        }
        gt = e > m;
        m = vsel (gt, e, m);
        br = vsel_i (gt, er, br);
        bc = vsel_i (gt, ce, bc);
        gt = (o > m) & (co < (gint32) w);
        m = vsel (gt, o, m);
        br = vsel_i (gt, orow, br);
        bc = vsel_i (gt, co, bc);
        last_o = o;
        last_or = orow;
        a = br * (gint32) w + bc;
        if (nvalid == BODY_VW) {
          st (y + out + ox, add ? ld (y + out + ox) + m : m);
        } else {
          gfloat tmp[BODY_VW];
          st (tmp, m);
          for (guint l = 0; l < nvalid; l++)
            y[out + ox + l] = add ? y[out + ox + l] + tmp[l] : tmp[l];
        }
        if (arg)
          for (guint l = 0; l < nvalid; l++)
            arg[out + ox + l] = (guint16) a[l];
      }
    }
  }
}

static gdouble
body_sum (const gfloat * x, gsize n)
{
  vf a0 = splat (0.0f), a1 = a0, a2 = a0, a3 = a0;
  gsize i = 0;
  gdouble s;

  for (; i + 4 * BODY_VW <= n; i += 4 * BODY_VW) {
    a0 += ld (x + i);
    a1 += ld (x + i + BODY_VW);
    a2 += ld (x + i + 2 * BODY_VW);
    a3 += ld (x + i + 3 * BODY_VW);
  }
  s = hsum (a0) + hsum (a1) + hsum (a2) + hsum (a3);
  for (; i < n; i++)
    s += x[i];
  return s;
}

static gdouble
body_sum_sq_dev (const gfloat * x, gsize n, gfloat mean)
{
  const vf m = splat (mean);
  vf a0 = splat (0.0f), a1 = a0, a2 = a0, a3 = a0, d;
  gsize i = 0;
  gdouble s;

  for (; i + 4 * BODY_VW <= n; i += 4 * BODY_VW) {
    d = ld (x + i) - m;
    a0 += d * d;
    d = ld (x + i + BODY_VW) - m;
    a1 += d * d;
    d = ld (x + i + 2 * BODY_VW) - m;
    a2 += d * d;
    d = ld (x + i + 3 * BODY_VW) - m;
    a3 += d * d;
  }
  s = hsum (a0) + hsum (a1) + hsum (a2) + hsum (a3);
  for (; i < n; i++) {
    gdouble e = (gdouble) x[i] - mean;
    s += e * e;
  }
  return s;
}

static gdouble
body_dot (const gfloat * a, const gfloat * b, gsize n)
{
  vf a0 = splat (0.0f), a1 = a0, a2 = a0, a3 = a0;
  gsize i = 0;
  gdouble s;

  for (; i + 4 * BODY_VW <= n; i += 4 * BODY_VW) {
    a0 += ld (a + i) * ld (b + i);
    a1 += ld (a + i + BODY_VW) * ld (b + i + BODY_VW);
    a2 += ld (a + i + 2 * BODY_VW) * ld (b + i + 2 * BODY_VW);
    a3 += ld (a + i + 3 * BODY_VW) * ld (b + i + 3 * BODY_VW);
  }
  s = hsum (a0) + hsum (a1) + hsum (a2) + hsum (a3);
  for (; i < n; i++)
    s += (gdouble) a[i] * b[i];
  return s;
}

/* body_sum and body_dot in one pass: the same accumulators, lanes and
 * order, so the same bits as the two calls. */
static void
body_sum_dot (gfloat * a, const gfloat * relu_y, const gfloat * b, gsize n,
    gdouble * sum, gdouble * dot)
{
  const vf zero = splat (0.0f);
  vf s[4] = { zero, zero, zero, zero }, d[4] = { zero, zero, zero, zero };
  gsize i = 0;
  gdouble ss, dd;

  for (; i + 4 * BODY_VW <= n; i += 4 * BODY_VW) {
#pragma GCC unroll 4
    for (int u = 0; u < 4; u++) {
      vf v = ld (a + i + u * BODY_VW);
      if (relu_y) {
        v = (vf) ((vi) v & (ld (relu_y + i + u * BODY_VW) > zero));
        st (a + i + u * BODY_VW, v);
      }
      s[u] += v;
      d[u] += v * ld (b + i + u * BODY_VW);
    }
  }
  ss = hsum (s[0]) + hsum (s[1]) + hsum (s[2]) + hsum (s[3]);
  dd = hsum (d[0]) + hsum (d[1]) + hsum (d[2]) + hsum (d[3]);
  for (; i < n; i++) {
    if (relu_y && !(relu_y[i] > 0.0f))
      a[i] = 0.0f;
    ss += a[i];
    dd += (gdouble) a[i] * b[i];
  }
  *sum = ss;
  *dot = dd;
}

static void
body_affine (const gfloat * x, gsize n, gfloat a, gfloat b, gboolean relu,
    gfloat * y)
{
  const vf va = splat (a), vb = splat (b), zero = splat (0.0f);
  gsize i = 0;

  if (relu) {
    for (; i + BODY_VW <= n; i += BODY_VW) {
      const vf v = ld (x + i) * va + vb;
      st (y + i, (vf) ((vi) v & (v > zero)));
    }
  } else {
    for (; i + BODY_VW <= n; i += BODY_VW)
      st (y + i, ld (x + i) * va + vb);
  }
  for (; i < n; i++) {
    const gfloat v = x[i] * a + b;
    y[i] = relu && v < 0.0f ? 0.0f : v;
  }
}

static void
body_bn_backward (const gfloat * dy, const gfloat * x, gsize n, gfloat a,
    gfloat mdy, gfloat m, gfloat s, gfloat * dx)
{
  const vf va = splat (a), vmdy = splat (mdy), vm = splat (m), vs = splat (s);
  gsize i = 0;

  for (; i + BODY_VW <= n; i += BODY_VW)
    st (dx + i, va * (ld (dy + i) - vmdy - (ld (x + i) - vm) * vs));
  for (; i < n; i++)
    dx[i] = a * (dy[i] - mdy - (x[i] - m) * s);
}

static void
body_add (const gfloat * x, gsize n, gfloat * y)
{
  gsize i = 0;

  for (; i + BODY_VW <= n; i += BODY_VW)
    st (y + i, ld (y + i) + ld (x + i));
  for (; i < n; i++)
    y[i] += x[i];
}

/* Vectors of a row body_depthwise3x3_row works on at once: four chains of
 * dependent multiply-adds side by side hide the FMA latency. */
#define DW_ROW_VECS 4

/* @nv vectors of outputs from @j on, each the reference's chain: the bias,
 * then the taps of the rows that exist in tap order. */
ALWAYS_INLINE void
dw_row_vecs (const int nv, const int has_up, const int has_down,
    const vf * k, const vf bias, const gfloat * up, const gfloat * mid,
    const gfloat * down, gsize j, vf * acc)
{
#pragma GCC unroll 4
  for (int v = 0; v < nv; v++)
    acc[v] = bias;
  if (has_up)
#pragma GCC unroll 3
    for (int kx = 0; kx < 3; kx++)
#pragma GCC unroll 4
      for (int v = 0; v < nv; v++)
        acc[v] += k[kx] * ld (up + j + v * BODY_VW + kx - 1);
#pragma GCC unroll 3
  for (int kx = 0; kx < 3; kx++)
#pragma GCC unroll 4
    for (int v = 0; v < nv; v++)
      acc[v] += k[3 + kx] * ld (mid + j + v * BODY_VW + kx - 1);
  if (has_down)
#pragma GCC unroll 3
    for (int kx = 0; kx < 3; kx++)
#pragma GCC unroll 4
      for (int v = 0; v < nv; v++)
        acc[v] += k[6 + kx] * ld (down + j + v * BODY_VW + kx - 1);
}

ALWAYS_INLINE void
dw_row (const int has_up, const int has_down, const gfloat * w, gfloat bias,
    const gfloat * up, const gfloat * mid, const gfloat * down, gsize n,
    gboolean relu, gfloat * y)
{
  const vf zero = { 0 }, b = splat (bias);
  vf k[9], acc[DW_ROW_VECS];
  gsize j = 0;

#pragma GCC unroll 9
  for (int t = 0; t < 9; t++)
    k[t] = splat (w[t]);
  for (; j + DW_ROW_VECS * BODY_VW <= n; j += DW_ROW_VECS * BODY_VW) {
    dw_row_vecs (DW_ROW_VECS, has_up, has_down, k, b, up, mid, down, j, acc);
#pragma GCC unroll 4
    for (int v = 0; v < DW_ROW_VECS; v++)
      st (y + j + v * BODY_VW, relu ? vand (acc[v], acc[v] > zero) : acc[v]);
  }
  for (; j < n; j += BODY_VW) {
    dw_row_vecs (1, has_up, has_down, k, b, up, mid, down, j, acc);
    if (relu)
      acc[0] = vand (acc[0], acc[0] > zero);
    if (j + BODY_VW <= n) {
      st (y + j, acc[0]);
    } else {
      gfloat tmp[BODY_VW];
      st (tmp, acc[0]);
      memcpy (y + j, tmp, (n - j) * sizeof (gfloat));
    }
  }
}

static void
body_depthwise3x3_row (const gfloat * w, gfloat bias, const gfloat * up,
    const gfloat * mid, const gfloat * down, gsize n, gboolean relu,
    gfloat * y)
{
  /* the map's first and last rows have no row above or below: one loop
   * per case, without a test inside */
  if (up && down)
    dw_row (1, 1, w, bias, up, mid, down, n, relu, y);
  else if (up)
    dw_row (1, 0, w, bias, up, mid, NULL, n, relu, y);
  else if (down)
    dw_row (0, 1, w, bias, NULL, mid, down, n, relu, y);
  else
    dw_row (0, 0, w, bias, NULL, mid, NULL, n, relu, y);
}

/* The vertical maxima of two vectors of column pairs, then the even lanes
 * against the odd ones: the reference's comparisons in its order. */
static void
body_maxpool2x2_row (const gfloat * a, const gfloat * b, gsize n, gfloat * y)
{
  vi even, odd;
  gsize j = 0;

  for (int l = 0; l < BODY_VW; l++) {
    even[l] = 2 * l;
    odd[l] = 2 * l + 1;
  }
  for (; j < n; j += BODY_VW) {
    const vf m0 = vmax (ld (a + 2 * j), ld (b + 2 * j));
    const vf m1 = vmax (ld (a + 2 * j + BODY_VW), ld (b + 2 * j + BODY_VW));
    const vf m = vmax (__builtin_shuffle (m0, m1, even),
        __builtin_shuffle (m0, m1, odd));
    if (j + BODY_VW <= n) {
      st (y + j, m);
    } else {
      gfloat tmp[BODY_VW];
      st (tmp, m);
      memcpy (y + j, tmp, (n - j) * sizeof (gfloat));
    }
  }
}

static void
body_upsample2x_add_row (const gfloat * x, gsize n, gfloat * y)
{
  vi lo, hi;
  gsize j = 0;

  for (int l = 0; l < BODY_VW; l++) {
    lo[l] = l / 2;
    hi[l] = BODY_VW / 2 + l / 2;
  }
  for (; j + BODY_VW <= n; j += BODY_VW) {
    const vf v = ld (x + j);
    st (y + 2 * j, ld (y + 2 * j) + __builtin_shuffle (v, lo));
    st (y + 2 * j + BODY_VW, ld (y + 2 * j + BODY_VW) +
        __builtin_shuffle (v, hi));
  }
  for (; j < n; j++) {
    y[2 * j] += x[j];
    y[2 * j + 1] += x[j];
  }
}

static const FemoKernels BODY_TABLE = {
  BODY_NAME,
  body_conv_forward,
  body_conv_weight_grad,
  body_depthwise_weight_grad,
  body_depthwise3x3,
  body_maxpool_add,
  body_maxpool_arg,
  body_sum,
  body_sum_sq_dev,
  body_dot,
  body_sum_dot,
  body_affine,
  body_bn_backward,
  body_add,
  body_depthwise3x3_row,
  body_maxpool2x2_row,
  body_upsample2x_add_row,
};
