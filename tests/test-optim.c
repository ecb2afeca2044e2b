/* gst-femo tests: AdamW against the update rule written out in doubles
 * (torch.optim.AdamW's documented algorithm)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "femo-optim.h"

#include <math.h>

#define N 4

static void
test_adamw_reference (void)
{
  const guint8 decay[N] = { 1, 1, 0, 1 };
  const gdouble lr = 0.01, wd = 0.1;
  gfloat params[N] = { 0.5f, -1.25f, 2.0f, 0.0f };
  gdouble ref[N], m[N] = { 0 }, v[N] = { 0 };
  g_autoptr (FemoAdam) adam = femo_adam_new (N, decay);
  guint step, i;
  gdouble worst = 0.0;

  for (i = 0; i < N; i++)
    ref[i] = params[i];
  for (step = 1; step <= 20; step++) {
    gfloat grads[N];

    for (i = 0; i < N; i++)
      grads[i] = (gfloat) (sin (step * 0.7 + i) * (i + 1) * 0.3);
    femo_adam_update (adam, params, grads, lr, wd);

    for (i = 0; i < N; i++) {
      gdouble mh, vh;

      if (decay[i])
        ref[i] -= lr * wd * ref[i];
      m[i] = 0.9 * m[i] + 0.1 * grads[i];
      v[i] = 0.999 * v[i] + 0.001 * grads[i] * (gdouble) grads[i];
      mh = m[i] / (1.0 - pow (0.9, step));
      vh = v[i] / (1.0 - pow (0.999, step));
      ref[i] -= lr * mh / (sqrt (vh) + 1e-8);
      worst = MAX (worst, fabs (params[i] - ref[i]));
    }
  }
  g_assert_cmpuint (adam->step, ==, 20);
  if (worst > 2e-6)
    g_error ("AdamW differs from the reference by %g", worst);
}

static void
test_first_step_and_decay (void)
{
  const guint8 decay[N] = { 0, 1, 0, 1 };
  gfloat params[N] = { 1.0f, 1.0f, 3.0f, -3.0f };
  const gfloat grads[N] = { 0.5f, 0.0f, -1e-3f, 0.0f };
  const gfloat zero[N] = { 0 };
  g_autoptr (FemoAdam) adam = femo_adam_new (N, decay);
  guint i;

  /* Adam's first step moves each parameter by lr against the sign of its
   * gradient, whatever the gradient's size. */
  femo_adam_update (adam, params, grads, 0.1, 0.0);
  g_assert_cmpfloat_with_epsilon (params[0], 0.9f, 1e-6);
  g_assert_cmpfloat_with_epsilon (params[2], 3.1f, 1e-5);
  g_assert_cmpfloat (params[1], ==, 1.0f);

  /* Without gradients only the decayed parameters move: by (1 - lr wd). */
  for (i = 0; i < 10; i++)
    femo_adam_update (adam, params, zero, 0.1, 0.5);
  g_assert_cmpfloat_with_epsilon (params[1], pow (0.95, 10), 1e-6);
  g_assert_cmpfloat_with_epsilon (params[3], -3.0 * pow (0.95, 10), 1e-5);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/optim/adamw-reference", test_adamw_reference);
  g_test_add_func ("/optim/first-step-and-decay", test_first_step_and_decay);
  return g_test_run ();
}
