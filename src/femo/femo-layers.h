/* gst-femo: the CNN's layers as forward/backward pairs over raw floats
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Activations are planes in channel-major batch order, [C][n][H][W]
 * ("CNHW"): each channel holds the n images of a batch back to back, so a
 * 1x1 convolution over a whole batch is one matrix product and batch norm
 * reduces contiguous runs. Every activation buffer must be followed by
 * FEMO_KERNEL_SLACK zeroed floats (see femo-kernels.h); layers keep that
 * slack zero. Weights are PyTorch's OIHW.
 *
 * Backward functions ADD into weight gradients and into dx. @scratch is
 * a caller-owned buffer of at least the matching *_scratch_size() floats.
 */
#pragma once

#include "femo-kernels.h"

G_BEGIN_DECLS

/* 3x3 convolution, stride 1, padding @pad (0 or 1), optional bias:
 * x [ci][n][h][w] -> y [co][n][h+2pad-2][w+2pad-2]; wt [co][ci][3][3]. */
gsize femo_conv3x3_scratch_size (guint ci, guint co, guint n, guint h,
    guint w);
void femo_conv3x3_forward (const FemoKernels * k, const gfloat * x, guint ci,
    guint n, guint h, guint w, guint pad, const gfloat * wt,
    const gfloat * bias, guint co, guint flags, gfloat * y, gfloat * scratch);
/* @dx, @dbias nullable. */
void femo_conv3x3_backward (const FemoKernels * k, const gfloat * x,
    guint ci, guint n, guint h, guint w, guint pad, const gfloat * wt,
    guint co, const gfloat * dy, gfloat * dx, gfloat * dwt, gfloat * dbias,
    gfloat * scratch);

/* Inference: 3x3 convolution, padding 1, with bias, then the global
 * average pool, as one linear map: x [ci][n][h][w] -> out [n][co]. Both
 * are linear, so each tap contributes its weight times the mean of the
 * inputs it sees over all positions: 9 * ci * co multiply-adds per image
 * instead of h * w times that. */
gsize femo_conv3x3_gap_scratch_size (guint ci);
void femo_conv3x3_gap_forward (const FemoKernels * k, const gfloat * x,
    guint ci, guint n, guint h, guint w, const gfloat * wt,
    const gfloat * bias, guint co, gfloat * out, gfloat * scratch);

/* Depthwise 3x3, stride 1, padding 1, no bias:
 * x [c][n][h][w] -> y [c][n][h][w]; wt [c][1][3][3]. Only backward takes
 * scratch: forward pads by masking (see depthwise3x3 in femo-kernels.h). */
gsize femo_depthwise_scratch_size (guint c, guint n, guint h, guint w);
void femo_depthwise_forward (const FemoKernels * k, const gfloat * x,
    guint c, guint n, guint h, guint w, const gfloat * wt, gfloat * y);
void femo_depthwise_backward (const FemoKernels * k, const gfloat * x,
    guint c, guint n, guint h, guint w, const gfloat * wt, const gfloat * dy,
    gfloat * dx, gfloat * dwt, gfloat * scratch);

/* Pointwise 1x1 over @count positions: x [ci][count] -> y [co][count];
 * wt [co][ci][1][1]; bias nullable. Backward: @dx (nullable) is added to
 * with @dx_flags FEMO_CONV_ACCUMULATE, written with 0 (the bits of adding
 * into zeros: each sum starts from 0 instead of 0 + 0, without a pass
 * that zeroes dx). */
gsize femo_pointwise_scratch_size (guint ci, guint co);
void femo_pointwise_forward (const FemoKernels * k, const gfloat * x,
    guint ci, gsize count, const gfloat * wt, const gfloat * bias, guint co,
    guint flags, gfloat * y);
void femo_pointwise_backward (const FemoKernels * k, const gfloat * x,
    guint ci, gsize count, const gfloat * wt, guint co, const gfloat * dy,
    gfloat * dx, guint dx_flags, gfloat * dwt, gfloat * scratch);

/* 1x1 convolution with stride 2, no padding:
 * x [ci][n][h][w] -> y [co][n][ceil(h/2)][ceil(w/2)]; wt [co][ci][1][1]. */
gsize femo_shortcut_scratch_size (guint ci, guint co, guint n, guint h,
    guint w);
void femo_shortcut_forward (const FemoKernels * k, const gfloat * x,
    guint ci, guint n, guint h, guint w, const gfloat * wt,
    const gfloat * bias, guint co, gfloat * y, gfloat * scratch);
void femo_shortcut_backward (const FemoKernels * k, const gfloat * x,
    guint ci, guint n, guint h, guint w, const gfloat * wt, guint co,
    const gfloat * dy, gfloat * dx, gfloat * dwt, gfloat * scratch);

/* Batch norm in train mode over x [c][count]. The batch may be split
 * across threads: each computes partial sums, the caller reduces them (in
 * a fixed order) into the batch statistics, then applies.
 * Partials: sum[c] of x; then sq[c] of (x - mean)^2. */
void femo_bn_partial_sum (const FemoKernels * k, const gfloat * x, guint c,
    gsize count, gdouble * sum);
void femo_bn_partial_sq (const FemoKernels * k, const gfloat * x, guint c,
    gsize count, const gfloat * mean, gdouble * sq);
/* y = gamma * (x - mean) * invstd + beta, then ReLU when @relu.
 * y may be x. */
void femo_bn_forward (const FemoKernels * k, const gfloat * x, guint c, gsize count,
    const gfloat * mean, const gfloat * invstd, const gfloat * gamma,
    const gfloat * beta, gboolean relu, gfloat * y);
/* Partials of the backward pass: sum_dy[c] and sum_dy_xhat[c]. With
 * @relu_y (the output of a ReLU after this BN), dy is first masked in
 * place (the ReLU's backward pass: dy = 0 where relu_y <= 0), in the same
 * pass. */
void femo_bn_backward_partial (const FemoKernels * k, gfloat * dy,
    const gfloat * relu_y, const gfloat * x, guint c, gsize count,
    const gfloat * mean,
    const gfloat * invstd, gdouble * sum_dy, gdouble * sum_dy_xhat);
/* dx = gamma * invstd * (dy - mean_dy - xhat * mean_dy_xhat) where the
 * means are over the whole batch; dx may be dy (then overwritten, not
 * added). The caller adds the partial sums into dgamma (sum_dy_xhat) and
 * dbeta (sum_dy). */
void femo_bn_backward (const FemoKernels * k, const gfloat * dy, const gfloat * x, guint c,
    gsize count, const gfloat * mean, const gfloat * invstd,
    const gfloat * gamma, const gfloat * mean_dy,
    const gfloat * mean_dy_xhat, gfloat * dx);
/* Inference: the affine map y = x * scale + shift that BN becomes with
 * running statistics. */
void femo_bn_fold (const gfloat * gamma, const gfloat * beta,
    const gfloat * running_mean, const gfloat * running_var, gfloat eps,
    guint c, gfloat * scale, gfloat * shift);

/* Max pool 3x3, stride 2, padding 1 (padded cells never win; exact ties go
 * to the topmost row of a column, then the leftmost column):
 * x [c][n][h][w] -> y [c][n][ceil(h/2)][ceil(w/2)]. @arg (nullable)
 * records each winner's index inside its image for backward (images of
 * at most 65536 pixels then). With @add, y += max (the residual sum of a
 * block). */
void femo_maxpool_forward (const FemoKernels * k, const gfloat * x, guint c,
    guint n, guint h, guint w, gboolean add, gfloat * y, guint16 * arg);
/* Inference form: y += max pool of x, no winners recorded. */
void femo_maxpool_add_infer (const FemoKernels * k, const gfloat * x,
    guint c, guint n, guint h, guint w, gfloat * y);
void femo_maxpool_backward (const gfloat * dy, guint c, guint n, guint h,
    guint w, const guint16 * arg, gfloat * dx);

/* Global average pool: x [k][n][hw] -> out [n][k] (note: sample-major). */
void femo_gap_forward (const gfloat * x, guint k, guint n, guint hw,
    gfloat * out);
void femo_gap_backward (const gfloat * dout, guint k, guint n, guint hw,
    gfloat * dx);

/* Softmax cross-entropy of logits [n][k] against @labels [n] or soft
 * @targets [n][k], smoothed: t = (1 - s) * t + s / k. Returns the SUM of
 * the n losses; @dlogits (nullable) gets (softmax - t) * @grad_scale;
 * @probs (nullable) the softmax; @correct (nullable) += samples whose
 * arg-max logit is the label (or the target's arg-max). */
gdouble femo_softmax_xent (const gfloat * logits, guint n, guint k,
    const guint * labels, const gfloat * targets, gfloat smoothing,
    gfloat grad_scale, gfloat * probs, gfloat * dlogits, guint * correct);
/* Softmax of logits [n][k] (inference). */
void femo_softmax (const gfloat * logits, guint n, guint k, gfloat * probs);

G_END_DECLS
