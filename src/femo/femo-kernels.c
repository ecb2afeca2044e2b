/* gst-femo: plain C reference kernels and run-time dispatch
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "femo-kernels.h"

static void
ref_conv_forward (const gfloat * w, const gfloat * bias, guint co, guint ci,
    guint ntaps, const gint * offs, const gfloat * x, gsize xs, gfloat * y,
    gsize ys, gsize nq, guint flags)
{
  const gboolean relu = (flags & FEMO_CONV_RELU) != 0;

  for (guint o = 0; o < co; o++) {
    for (gsize q = 0; q < nq; q++) {
      gfloat acc = bias ? bias[o] : 0.0f;
      if (flags & FEMO_CONV_ACCUMULATE)
        acc += y[o * ys + q];
      for (guint i = 0; i < ci; i++)
        for (guint t = 0; t < ntaps; t++)
          acc += w[((gsize) o * ci + i) * ntaps + t] * x[i * xs + q + offs[t]];
      y[o * ys + q] = (relu && acc < 0.0f) ? 0.0f : acc;
    }
  }
}

static void
ref_conv_weight_grad (const gfloat * dy, gsize dys, guint co,
    const gfloat * x, gsize xs, guint ci, guint ntaps, const gint * offs,
    gsize nq, gfloat * dw)
{
  for (guint o = 0; o < co; o++)
    for (guint i = 0; i < ci; i++)
      for (guint t = 0; t < ntaps; t++) {
        gdouble acc = 0.0;
        for (gsize q = 0; q < nq; q++)
          acc += (gdouble) dy[o * dys + q] * x[i * xs + q + offs[t]];
        dw[((gsize) o * ci + i) * ntaps + t] += (gfloat) acc;
      }
}

static void
ref_depthwise_weight_grad (const gfloat * dy, gsize dys, const gfloat * x,
    gsize xs, guint c, guint ntaps, const gint * offs, gsize nq, gfloat * dw)
{
  for (guint ch = 0; ch < c; ch++)
    for (guint t = 0; t < ntaps; t++) {
      gdouble acc = 0.0;
      for (gsize q = 0; q < nq; q++)
        acc += (gdouble) dy[ch * dys + q] * x[ch * xs + q + offs[t]];
      dw[ch * ntaps + t] += (gfloat) acc;
    }
}

static void
ref_depthwise3x3 (const gfloat * w, guint c, const gfloat * x, gsize xs,
    guint h, guint wd, gsize nq, gfloat * y, gsize ys, guint flags)
{
  for (guint ch = 0; ch < c; ch++)
    for (gsize q = 0; q < nq; q++) {
      const gint col = q % wd, row = (q / wd) % h;
      gfloat acc = 0.0f;
      for (gint t = 0; t < 9; t++) {
        const gint dy = t / 3 - 1, dx = t % 3 - 1;
        if (row + dy < 0 || row + dy >= (gint) h || col + dx < 0
            || col + dx >= (gint) wd)
          continue;
        acc += w[ch * 9 + t] * x[ch * xs + q + (gssize) dy * wd + dx];
      }
      if (flags & FEMO_CONV_ACCUMULATE)
        y[ch * ys + q] += acc;
      else
        y[ch * ys + q] = acc;
    }
}

static void
ref_maxpool_add (const gfloat * x, gsize nimg, guint h, guint w, gfloat * y)
{
  const guint ho = (h + 1) / 2, wo = (w + 1) / 2;

  for (gsize im = 0; im < nimg; im++)
    for (guint oy = 0; oy < ho; oy++)
      for (guint ox = 0; ox < wo; ox++) {
        gfloat m = -G_MAXFLOAT;
        for (guint r = oy ? 2 * oy - 1 : 0; r <= MIN (2 * oy + 1, h - 1); r++)
          for (guint s = ox ? 2 * ox - 1 : 0; s <= MIN (2 * ox + 1, w - 1);
              s++)
            m = MAX (m, x[(im * h + r) * w + s]);
        y[(im * ho + oy) * wo + ox] += m;
      }
}

static void
ref_maxpool_arg (const gfloat * x, gsize nimg, guint h, guint w,
    gboolean add, gfloat * y, guint16 * arg)
{
  const guint ho = (h + 1) / 2, wo = (w + 1) / 2;
  gfloat vmax[FEMO_MAXPOOL_MAX_W];
  guint16 vrow[FEMO_MAXPOOL_MAX_W];

  /* Separable and branch-free (random data makes branches mispredict):
   * the max of each column over the window's rows, then of each window
   * over those columns. */
  for (gsize im = 0; im < nimg; im++) {
    const gfloat *xi = x + im * h * w;
    for (guint oy = 0; oy < ho; oy++) {
      const guint r0 = oy ? 2 * oy - 1 : 0, r1 = MIN (2 * oy + 1, h - 1);
      gfloat *yo = y + (im * ho + oy) * wo;
      for (guint ix = 0; ix < w; ix++) {
        gfloat m = xi[r0 * w + ix];
        guint r = r0;
        for (guint rr = r0 + 1; rr <= r1; rr++) {
          const gfloat v = xi[rr * w + ix];
          r = v > m ? rr : r;
          m = v > m ? v : m;
        }
        vmax[ix] = m;
        vrow[ix] = (guint16) r;
      }
      for (guint ox = 0; ox < wo; ox++) {
        const guint x0 = ox ? 2 * ox - 1 : 0, x1 = MIN (2 * ox + 1, w - 1);
        gfloat m = vmax[x0];
        guint bx = x0;
        for (guint xx = x0 + 1; xx <= x1; xx++) {
          bx = vmax[xx] > m ? xx : bx;
          m = vmax[xx] > m ? vmax[xx] : m;
        }
        yo[ox] = add ? yo[ox] + m : m;
        if (arg)
          arg[(im * ho + oy) * wo + ox] = (guint16) (vrow[bx] * w + bx);
      }
    }
  }
}

static gdouble
ref_sum (const gfloat * x, gsize n)
{
  gdouble s = 0.0;
  for (gsize i = 0; i < n; i++)
    s += x[i];
  return s;
}

static gdouble
ref_sum_sq_dev (const gfloat * x, gsize n, gfloat mean)
{
  gdouble s = 0.0;
  for (gsize i = 0; i < n; i++) {
    gdouble d = (gdouble) x[i] - mean;
    s += d * d;
  }
  return s;
}

static gdouble
ref_dot (const gfloat * a, const gfloat * b, gsize n)
{
  gdouble s = 0.0;
  for (gsize i = 0; i < n; i++)
    s += (gdouble) a[i] * b[i];
  return s;
}

static void
ref_sum_dot (gfloat * a, const gfloat * relu_y, const gfloat * b, gsize n,
    gdouble * sum, gdouble * dot)
{
  gdouble s = 0.0, d = 0.0;
  for (gsize i = 0; i < n; i++) {
    if (relu_y && !(relu_y[i] > 0.0f))
      a[i] = 0.0f;
    s += a[i];
    d += (gdouble) a[i] * b[i];
  }
  *sum = s;
  *dot = d;
}

static void
ref_affine (const gfloat * x, gsize n, gfloat a, gfloat b, gboolean relu,
    gfloat * y)
{
  for (gsize i = 0; i < n; i++) {
    const gfloat v = x[i] * a + b;
    y[i] = relu && v < 0.0f ? 0.0f : v;
  }
}

static void
ref_bn_backward (const gfloat * dy, const gfloat * x, gsize n, gfloat a,
    gfloat mdy, gfloat m, gfloat s, gfloat * dx)
{
  for (gsize i = 0; i < n; i++)
    dx[i] = a * (dy[i] - mdy - (x[i] - m) * s);
}

static void
ref_add (const gfloat * x, gsize n, gfloat * y)
{
  for (gsize i = 0; i < n; i++)
    y[i] += x[i];
}

static void
ref_depthwise3x3_row (const gfloat * w, gfloat bias, const gfloat * up,
    const gfloat * mid, const gfloat * down, gsize n, gboolean relu,
    gfloat * y)
{
  const gfloat *rows[3] = { up, mid, down };

  for (gsize j = 0; j < n; j++) {
    gfloat acc = bias;
    for (gint k = 0; k < 3; k++)
      for (gint kx = 0; rows[k] && kx < 3; kx++)
        acc += w[3 * k + kx] * rows[k][(gssize) j + kx - 1];
    /* not (acc < 0): a -0 sum becomes +0, as the SIMD kernels' mask does */
    y[j] = relu && !(acc > 0.0f) ? 0.0f : acc;
  }
}

static void
ref_maxpool2x2_row (const gfloat * a, const gfloat * b, gsize n, gfloat * y)
{
  for (gsize j = 0; j < n; j++)
    y[j] = MAX (MAX (a[2 * j], b[2 * j]), MAX (a[2 * j + 1], b[2 * j + 1]));
}

static void
ref_upsample2x_add_row (const gfloat * x, gsize n, gfloat * y)
{
  for (gsize j = 0; j < n; j++) {
    y[2 * j] += x[j];
    y[2 * j + 1] += x[j];
  }
}

static const FemoKernels reference_kernels = {
  "reference",
  ref_conv_forward,
  ref_conv_weight_grad,
  ref_depthwise_weight_grad,
  ref_depthwise3x3,
  ref_maxpool_add,
  ref_maxpool_arg,
  ref_sum,
  ref_sum_sq_dev,
  ref_dot,
  ref_sum_dot,
  ref_affine,
  ref_bn_backward,
  ref_add,
  ref_depthwise3x3_row,
  ref_maxpool2x2_row,
  ref_upsample2x_add_row,
};

const FemoKernels *
femo_kernels_reference (void)
{
  return &reference_kernels;
}

const FemoKernels *
femo_kernels_get_by_name (const gchar * name)
{
  if (g_strcmp0 (name, "reference") == 0)
    return &reference_kernels;
  if (g_strcmp0 (name, "avx512") == 0)
    return femo_kernels_avx512 ();
  if (g_strcmp0 (name, "avx2") == 0)
    return femo_kernels_avx2 ();
  if (g_strcmp0 (name, "neon") == 0)
    return femo_kernels_neon ();
  return NULL;
}

static gpointer
pick_kernels (gpointer unused)
{
  const gchar *forced = g_getenv ("FEMO_KERNELS");
  const FemoKernels *k;

  if (forced && *forced) {
    k = femo_kernels_get_by_name (forced);
    if (k)
      return (gpointer) k;
    g_warning ("FEMO_KERNELS=%s is not available here, choosing", forced);
  }
  if ((k = femo_kernels_avx512 ()) || (k = femo_kernels_avx2 ())
      || (k = femo_kernels_neon ()))
    return (gpointer) k;
  return (gpointer) & reference_kernels;
}

const FemoKernels *
femo_kernels_get (void)
{
  static GOnce once = G_ONCE_INIT;

  g_once (&once, pick_kernels, NULL);
  return once.retval;
}
