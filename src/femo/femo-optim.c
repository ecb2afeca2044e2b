/* gst-femo: Adam with decoupled weight decay
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "femo-optim.h"

#include <math.h>
#include <string.h>

FemoAdam *
femo_adam_new (gsize n, const guint8 * decay)
{
  FemoAdam *adam = g_new0 (FemoAdam, 1);

  adam->n = n;
  adam->m = g_new0 (gfloat, n);
  adam->v = g_new0 (gfloat, n);
  adam->decay = g_new (guint8, n);
  if (decay)
    memcpy (adam->decay, decay, n);
  else
    memset (adam->decay, 1, n);
  adam->beta1 = 0.9;
  adam->beta2 = 0.999;
  adam->eps = 1e-8;
  return adam;
}

void
femo_adam_free (FemoAdam * adam)
{
  if (!adam)
    return;
  g_free (adam->m);
  g_free (adam->v);
  g_free (adam->decay);
  g_free (adam);
}

void
femo_adam_update (FemoAdam * adam, gfloat * params, const gfloat * grads,
    gdouble lr, gdouble weight_decay)
{
  const gfloat b1 = (gfloat) adam->beta1, b2 = (gfloat) adam->beta2;
  gfloat step_size, bias2_sqrt, eps, shrink;
  gsize i;

  adam->step++;
  /* The bias corrections folded into one step size and the denominator,
   * as PyTorch's single-tensor AdamW. */
  step_size = (gfloat) (lr / (1.0 - pow (adam->beta1, (gdouble) adam->step)));
  bias2_sqrt = (gfloat) sqrt (1.0 - pow (adam->beta2, (gdouble) adam->step));
  eps = (gfloat) adam->eps;
  shrink = (gfloat) (1.0 - lr * weight_decay);

  for (i = 0; i < adam->n; i++) {
    gfloat g = grads[i];
    gfloat m = b1 * adam->m[i] + (1.0f - b1) * g;
    gfloat v = b2 * adam->v[i] + (1.0f - b2) * g * g;
    gfloat p = adam->decay[i] ? params[i] * shrink : params[i];

    adam->m[i] = m;
    adam->v[i] = v;
    params[i] = p - step_size * m / (sqrtf (v) / bias2_sqrt + eps);
  }
}
