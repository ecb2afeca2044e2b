/* gst-femo: the CNN's hot loops, one table per instruction set.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * All convolutions of the net reduce to two shapes over "flat" planes: a
 * plane of a channel is a run of floats (all images of a batch back to
 * back), and a 3x3 valid convolution over rows of stride W is a sum of 9
 * shifted copies of the plane (offsets ky*W+kx); outputs that fall on the
 * last two columns or rows of an image are junk and get dropped by the
 * caller. A 1x1 convolution is the same with one tap at offset 0. So one
 * register-blocked kernel serves 3x3, pointwise, and (with transposed,
 * flipped weights) their backward-data passes.
 *
 * Kernels read up to FEMO_KERNEL_SLACK floats past the last element they
 * use (whole vectors); callers allocate that much zeroed slack after every
 * plane run. They never write past @nq outputs.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define FEMO_KERNEL_SLACK 256

/* Widest image maxpool_arg takes (its row buffers live on the stack). */
#define FEMO_MAXPOOL_MAX_W 1024

#define FEMO_CONV_RELU 1u
#define FEMO_CONV_ACCUMULATE 2u

typedef struct
{
  const gchar *name;

  /* y[o*ys + q] (+)= relu?(bias?[o] + sum_i sum_t w[(o*ci + i)*ntaps + t]
   *                     * x[i*xs + q + offs[t]]),   q in [0, nq);
   * @flags: FEMO_CONV_RELU, FEMO_CONV_ACCUMULATE (add into y; the sum
   * then goes through the ReLU if asked) */
  void (*conv_forward) (const gfloat * w, const gfloat * bias, guint co,
      guint ci, guint ntaps, const gint * offs, const gfloat * x, gsize xs,
      gfloat * y, gsize ys, gsize nq, guint flags);

  /* dw[(o*ci + i)*ntaps + t] += sum_q dy[o*dys + q] * x[i*xs + q + offs[t]] */
  void (*conv_weight_grad) (const gfloat * dy, gsize dys, guint co,
      const gfloat * x, gsize xs, guint ci, guint ntaps, const gint * offs,
      gsize nq, gfloat * dw);

  /* dw[c*ntaps + t] += sum_q dy[c*dys + q] * x[c*xs + q + offs[t]] */
  void (*depthwise_weight_grad) (const gfloat * dy, gsize dys,
      const gfloat * x, gsize xs, guint c, guint ntaps, const gint * offs,
      gsize nq, gfloat * dw);

  /* Depthwise 3x3, stride 1, padding 1 done by masking (no padded copy):
   * @nq = n*h*wd positions of n images h x wd back to back in each plane;
   * y[c*ys + q] (+)= sum over the taps that fall inside q's own image of
   * w[c*9 + t] * x[c*xs + q + (t/3-1)*wd + t%3-1]. Reads (masked) up to
   * wd+1 floats around each plane, never before x. @flags:
   * FEMO_CONV_ACCUMULATE. */
  void (*depthwise3x3) (const gfloat * w, guint c, const gfloat * x,
      gsize xs, guint h, guint wd, gsize nq, gfloat * y, gsize ys,
      guint flags);

  /* Max pool 3x3, stride 2, padding 1 (padded cells never win) ADDED into
   * y: @nimg images h x w back to back -> ceil(h/2) x ceil(w/2) each. */
  void (*maxpool_add) (const gfloat * x, gsize nimg, guint h, guint w,
      gfloat * y);

  /* Training form of the max pool (same windows): y = max, or y += max
   * with @add, and the winner's index inside its image (row * w + column)
   * in @arg (nullable); exact ties go to the topmost row of a column, then
   * the leftmost column. @w is at most FEMO_MAXPOOL_MAX_W. */
  void (*maxpool_arg) (const gfloat * x, gsize nimg, guint h, guint w,
      gboolean add, gfloat * y, guint16 * arg);

  /* Reductions for batch norm (float lanes, summed in double at the end). */
  gdouble (*sum) (const gfloat * x, gsize n);
  gdouble (*sum_sq_dev) (const gfloat * x, gsize n, gfloat mean);
  gdouble (*dot) (const gfloat * a, const gfloat * b, gsize n);
  /* sum and dot of one pass, with sum's and dot's arithmetic: *sum = sum
   * a, *dot = sum a*b; with @relu_y, a is first set to 0 in place where
   * relu_y <= 0 (batch norm backward after a ReLU). */
  void (*sum_dot) (gfloat * a, const gfloat * relu_y, const gfloat * b,
      gsize n, gdouble * sum, gdouble * dot);

  /* Element-wise passes of batch norm and ReLU (branch-free).
   * y = x * a + b, then max (0, .) when @relu; y may be x. */
  void (*affine) (const gfloat * x, gsize n, gfloat a, gfloat b,
      gboolean relu, gfloat * y);
  /* dx = a * (dy - mdy - (x - m) * s); dx may be dy */
  void (*bn_backward) (const gfloat * dy, const gfloat * x, gsize n,
      gfloat a, gfloat mdy, gfloat m, gfloat s, gfloat * dx);
  /* y += x */
  void (*add) (const gfloat * x, gsize n, gfloat * y);

  /* Row kernels of the YuNet detector (femo-yunet.c), which streams its
   * maps a row at a time. */
  /* One row of a depthwise 3x3 convolution, stride 1, zero padding 1:
   * y[j] = relu?(bias + sum over rows k = @up, @mid, @down and kx = 0..2
   * of w[3*k + kx] * row_k[j + kx - 1]), j in [0, n), summed in that order;
   * a NULL row lies outside the map (its taps count as 0). Each row is read
   * from index -1 to n (the caller zeroes both ends) and up to
   * FEMO_KERNEL_SLACK floats further; exactly n outputs are written. */
  void (*depthwise3x3_row) (const gfloat * w, gfloat bias, const gfloat * up,
      const gfloat * mid, const gfloat * down, gsize n, gboolean relu,
      gfloat * y);
  /* Max pool 2x2, stride 2, of two rows: y[j] = max (a[2j], a[2j+1],
   * b[2j], b[2j+1]), j in [0, n). Reads up to FEMO_KERNEL_SLACK floats past
   * 2n. */
  void (*maxpool2x2_row) (const gfloat * a, const gfloat * b, gsize n,
      gfloat * y);
  /* Nearest-neighbour upsampling x2 of a row, added: y[2j] += x[j],
   * y[2j+1] += x[j], j in [0, n). */
  void (*upsample2x_add_row) (const gfloat * x, gsize n, gfloat * y);
} FemoKernels;

/* Plain C, the reference the others are tested against. */
const FemoKernels *femo_kernels_reference (void);
/* The fastest this CPU runs (FEMO_KERNELS=reference|avx2|avx512|neon in the
 * environment forces one, for tests and benchmarks). */
const FemoKernels *femo_kernels_get (void);
/* NULL when not built in or not supported by this CPU. */
const FemoKernels *femo_kernels_get_by_name (const gchar * name);

/* Provided by femo-kernels-<isa>.c; NULL when the CPU lacks the ISA. */
const FemoKernels *femo_kernels_avx512 (void);
const FemoKernels *femo_kernels_avx2 (void);
const FemoKernels *femo_kernels_neon (void);

G_END_DECLS
