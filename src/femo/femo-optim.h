/* gst-femo: the optimizer of the trainer: Adam with decoupled weight decay
 * (AdamW, Loshchilov and Hutter 2019), as PyTorch's torch.optim.AdamW.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * FemoAdam:
 * @n: parameters
 * @m: first moments
 * @v: second moments
 * @decay: 1 for a parameter that takes weight decay (convolution weights),
 *   0 for the others (biases, batch-norm scale and shift)
 * @step: updates done
 * @beta1: 0.9
 * @beta2: 0.999
 * @eps: 1e-8
 *
 * The state is plain data so that a checkpoint can save and restore it.
 */
typedef struct
{
  gsize n;
  gfloat *m;
  gfloat *v;
  guint8 *decay;
  guint64 step;
  gdouble beta1;
  gdouble beta2;
  gdouble eps;
} FemoAdam;

/* Zero moments; @decay (@n flags) is copied, NULL decays everything. */
FemoAdam *femo_adam_new (gsize n, const guint8 * decay);
void femo_adam_free (FemoAdam * adam);

/* One update of @params from @grads:
 *   p -= lr * wd * p                     (only where decay[i])
 *   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
 *   p -= lr * (m / (1 - b1^t)) / (sqrt (v / (1 - b2^t)) + eps) */
void femo_adam_update (FemoAdam * adam, gfloat * params, const gfloat * grads,
    gdouble lr, gdouble weight_decay);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FemoAdam, femo_adam_free)

G_END_DECLS
