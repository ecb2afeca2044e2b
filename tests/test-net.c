/* gst-femo: the whole network: gradients vs finite differences, threads,
 * determinism, inference vs a PyTorch forward pass (golden file)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <glib.h>
#include <math.h>
#include <string.h>

#include "femo-json.h"
#include "femo-net.h"
#include "femo-rng.h"

static void
random_batch (guint64 seed, guint n, gfloat * x, guint * labels, guint k)
{
  FemoRng rng;

  femo_rng_init (&rng, seed, 1);
  for (gsize i = 0; i < (gsize) n * FEMO_NET_INPUT_PIXELS; i++)
    x[i] = (gfloat) femo_rng_range (&rng, -1.0, 1.0);
  for (guint i = 0; i < n; i++)
    labels[i] = femo_rng_below (&rng, k);
}

static FemoNet *
new_net (guint64 seed)
{
  g_autoptr (GError) error = NULL;
  FemoNet *net = femo_net_new (NULL, femo_net_default_labels, 7,
      FEMO_NET_DEFAULT_BN_EPS, seed, &error);
  g_assert_no_error (error);
  return net;
}

/* The train step's gradient against central differences of the loss along
 * the gradient direction of each tensor (all its parameters at once: with
 * ten batch norms over a small batch the loss has many ReLU/max-pool kinks,
 * and single-parameter differences of early layers are too rough to
 * compare). Loss in train mode depends only on the parameters (batch
 * statistics), so this checks every layer's backward including batch norm
 * reduced across threads. */
static void
check_gradients (guint n_threads)
{
  g_autoptr (FemoNet) net = new_net (7);
  const guint n = 6;
  g_autofree gfloat *x = g_new (gfloat, n * FEMO_NET_INPUT_PIXELS);
  guint labels[6];
  guint n_tensors;
  const FemoNetTensor *tensors = femo_net_get_tensors (net, &n_tensors);
  gsize n_params;
  gfloat *params = femo_net_get_params (net, &n_params);
  g_autofree gfloat *grads = g_new (gfloat, n_params);
  g_autofree gfloat *keep = g_new (gfloat, n_params);
  FemoNetStepResult r;
  gdouble worst = 0.0;
  const gchar *worst_name = "";

  femo_net_set_n_threads (net, n_threads);
  random_batch (3, n, x, labels, 7);
  g_assert_true (femo_net_train_step (net, x, labels, NULL, n, 0.1f, &r,
          NULL));
  memcpy (grads, femo_net_get_grads (net, NULL), n_params * sizeof (gfloat));
  memcpy (keep, params, n_params * sizeof (gfloat));
  for (guint t = 0; t < n_tensors; t++) {
    const FemoNetTensor *ts = &tensors[t];
    const gdouble eps = 1e-3;
    gdouble norm = 0.0, lp, lm, fd, rel;
    if (ts->kind >= FEMO_NET_TENSOR_BN_RUNNING_MEAN)
      continue;
    for (gsize i = 0; i < ts->length; i++)
      norm += (gdouble) grads[ts->offset + i] * grads[ts->offset + i];
    norm = sqrt (norm);
    g_assert_cmpfloat (norm, >, 0.0);
    for (gint sign = -1; sign <= 1; sign += 2) {
      for (gsize i = 0; i < ts->length; i++)
        params[ts->offset + i] = keep[ts->offset + i] +
            sign * eps * grads[ts->offset + i] / norm;
      femo_net_train_step (net, x, labels, NULL, n, 0.1f, &r, NULL);
      if (sign < 0)
        lm = r.loss;
      else
        lp = r.loss;
    }
    memcpy (params + ts->offset, keep + ts->offset,
        ts->length * sizeof (gfloat));
    fd = (lp - lm) / (2 * eps);
    rel = fabs (fd - norm) / (norm + 1e-3);
    if (rel > worst) {
      worst = rel;
      worst_name = ts->name;
    }
    if (g_test_verbose () || rel > 0.05)
      g_printerr ("  %-32s |grad| %.6g, finite difference %.6g\n", ts->name,
          norm, fd);
  }
  g_printerr ("threads %u: largest relative difference %.3g (%s)\n",
      n_threads, worst, worst_name);
  g_assert_cmpfloat (worst, <, 0.05);
}

static void
test_gradients_1 (void)
{
  check_gradients (1);
}

static void
test_gradients_2 (void)
{
  check_gradients (2);
}

/* Same seed, data and thread count: the same bytes, twice. */
static void
test_determinism (void)
{
  const guint n = 16;
  g_autofree gfloat *x = g_new (gfloat, n * FEMO_NET_INPUT_PIXELS);
  guint labels[16];
  GBytes *out[2];
  /* Not g_autofree: on an array it frees only the first element. */
  gfloat *first[2] = { NULL, NULL };
  gsize np = 0;
  gdouble worst = 0.0;

  random_batch (5, n, x, labels, 7);
  for (guint run = 0; run < 3; run++) {
    g_autoptr (FemoNet) net = new_net (42);
    gfloat *p = femo_net_get_params (net, &np);
    femo_net_set_n_threads (net, run < 2 ? 2 : 1);
    for (guint step = 0; step < 3; step++) {
      FemoNetStepResult r;
      const gfloat *g = femo_net_get_grads (net, NULL);
      g_assert_true (femo_net_train_step (net, x, labels, NULL, n, 0.0f, &r,
              NULL));
      if (step == 0 && run > 0)
        first[run - 1] = g_memdup2 (g, np * sizeof (gfloat));
      for (gsize i = 0; i < np; i++)
        p[i] -= 0.01f * g[i];
    }
    if (run < 2)
      out[run] = femo_net_serialize (net);
  }
  g_assert_true (g_bytes_equal (out[0], out[1]));
  g_bytes_unref (out[0]);
  g_bytes_unref (out[1]);
  /* one thread sums in another order: the gradients agree up to rounding
   * (later steps drift apart through ReLU and max-pool switches) */
  for (gsize i = 0; i < np; i++)
    worst = MAX (worst, fabs (first[0][i] - first[1][i]));
  g_printerr ("1 vs 2 threads: largest gradient difference %.3g\n", worst);
  g_free (first[0]);
  g_free (first[1]);
  g_assert_cmpfloat (worst, <, 1e-5);
}

static gchar *
data_path (const gchar * name)
{
  const gchar *dir = g_getenv ("FEMO_TEST_DATA");
  return g_build_filename (dir ? dir : FEMO_SOURCE_ROOT "/tests/data", name,
      NULL);
}

static FemoJson *
read_golden (void)
{
  g_autofree gchar *path = data_path ("golden-net.json");
  g_autofree gchar *text = NULL;
  gsize len;
  g_autoptr (GError) error = NULL;
  FemoJson *json;

  g_assert_true (g_file_get_contents (path, &text, &len, &error));
  json = femo_json_parse (text, len, &error);
  g_assert_no_error (error);
  return json;
}

static gdouble
compare_array (const gchar * what, const FemoJson * want, const gfloat * got,
    gsize n)
{
  gdouble worst = 0.0, scale = 0.0;

  g_assert_cmpuint (femo_json_get_length (want), ==, n);
  for (gsize i = 0; i < n; i++)
    scale = MAX (scale, fabs (femo_json_get_double (femo_json_array_get (want,
                    i))));
  for (gsize i = 0; i < n; i++) {
    const gdouble w = femo_json_get_double (femo_json_array_get (want, i));
    worst = MAX (worst, fabs (w - got[i]) / (scale + 1e-6));
  }
  g_printerr ("  %-32s largest difference %.3g of its largest value %.3g\n",
      what, worst, scale);
  return worst;
}

/* Inference (folded batch norm, running statistics) against PyTorch's
 * eval-mode logits for the same weights and crops. */
static void
test_golden_inference (void)
{
  g_autoptr (FemoJson) golden = read_golden ();
  g_autofree gchar *path = data_path ("golden-net.safetensors");
  g_autoptr (GError) error = NULL;
  g_autoptr (FemoModel) model = femo_model_load (path, &error);
  g_autoptr (FemoInfer) infer = NULL;
  const FemoJson *crops = femo_json_object_get (golden, "crops");
  const FemoJson *logits = femo_json_object_get (golden, "eval_logits");
  const guint n = femo_json_get_length (crops), k = 5;
  g_autofree guint8 *pix = g_new (guint8, n * FEMO_NET_INPUT_PIXELS);
  g_autofree gfloat *got = g_new (gfloat, n * k);
  g_autofree gfloat *probs = g_new (gfloat, n * k);
  g_autofree gfloat *one = g_new (gfloat, k);

  g_assert_no_error (error);
  g_assert_cmpuint (femo_model_get_n_labels (model), ==, k);
  g_assert_cmpstr (femo_model_get_labels (model)[1], ==, "happy");
  infer = femo_infer_new (model);
  for (guint i = 0; i < n; i++)
    for (guint p = 0; p < FEMO_NET_INPUT_PIXELS; p++)
      pix[i * FEMO_NET_INPUT_PIXELS + p] =
          femo_json_get_int (femo_json_array_get (femo_json_array_get (crops,
                  i), p));
  femo_infer_run (infer, pix, n, probs, got);
  for (guint i = 0; i < n; i++) {
    gdouble sum = 0.0;
    g_assert_cmpfloat (compare_array ("eval logits",
            femo_json_array_get (logits, i), got + i * k, k), <, 1e-5);
    for (guint c = 0; c < k; c++)
      sum += probs[i * k + c];
    g_assert_cmpfloat_with_epsilon (sum, 1.0, 1e-5);
    /* batch 1 through the same workspace gives the same numbers */
    femo_infer_run (infer, pix + i * FEMO_NET_INPUT_PIXELS, 1, NULL, one);
    for (guint c = 0; c < k; c++)
      g_assert_cmpfloat_with_epsilon (one[c], got[i * k + c], 1e-5);
  }
}

/* One train-mode step against PyTorch: batch statistics, smoothed loss,
 * gradients and the momentum update of the running statistics. */
static void
test_golden_training (void)
{
  g_autoptr (FemoJson) golden = read_golden ();
  g_autofree gchar *path = data_path ("golden-net.safetensors");
  g_autoptr (GError) error = NULL;
  g_autoptr (FemoNet) net = femo_net_load (path, &error);
  const FemoJson *crops = femo_json_object_get (golden, "crops");
  const FemoJson *lab = femo_json_object_get (golden, "train_labels");
  const FemoJson *grads = femo_json_object_get (golden, "train_grads");
  const FemoJson *running = femo_json_object_get (golden, "train_running");
  const guint n = femo_json_get_length (crops);
  g_autofree gfloat *x = g_new (gfloat, n * FEMO_NET_INPUT_PIXELS);
  guint labels[16];
  guint n_tensors;
  const FemoNetTensor *tensors;
  FemoNetStepResult r;
  gdouble want_loss;

  g_assert_no_error (error);
  g_assert_cmpfloat (femo_net_get_bn_eps (net), ==, 1e-3f);
  for (guint i = 0; i < n; i++) {
    labels[i] = femo_json_get_int (femo_json_array_get (lab, i));
    for (guint p = 0; p < FEMO_NET_INPUT_PIXELS; p++)
      x[i * FEMO_NET_INPUT_PIXELS + p] =
          femo_json_get_int (femo_json_array_get (femo_json_array_get (crops,
                  i), p)) / 127.5f - 1.0f;
  }
  for (guint threads = 1; threads <= 2; threads++) {
    g_autoptr (FemoNet) copy = femo_net_copy (net);
    femo_net_set_n_threads (copy, threads);
    g_assert_true (femo_net_train_step (copy, x, labels, NULL, n,
            femo_json_get_double (femo_json_object_get (golden,
                    "train_smoothing")), &r, &error));
    want_loss = femo_json_get_double (femo_json_object_get (golden,
            "train_loss"));
    g_printerr ("threads %u: loss %.7f, PyTorch %.7f\n", threads, r.loss,
        want_loss);
    g_assert_cmpfloat_with_epsilon (r.loss, want_loss, 1e-5);
    tensors = femo_net_get_tensors (copy, &n_tensors);
    for (guint t = 0; t < n_tensors; t++) {
      const FemoJson *g = femo_json_object_get (grads, tensors[t].name);
      const FemoJson *rs = femo_json_object_get (running, tensors[t].name);
      if (g)
        g_assert_cmpfloat (compare_array (tensors[t].name, g,
                femo_net_get_grads (copy, NULL) + tensors[t].offset,
                tensors[t].length), <, 1e-4);
      if (rs)
        g_assert_cmpfloat (compare_array (tensors[t].name, rs,
                femo_net_get_running_stats (copy, NULL) + tensors[t].offset,
                tensors[t].length), <, 1e-5);
    }
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/net/gradients/1-thread", test_gradients_1);
  g_test_add_func ("/net/gradients/2-threads", test_gradients_2);
  g_test_add_func ("/net/determinism", test_determinism);
  g_test_add_func ("/net/golden/inference", test_golden_inference);
  g_test_add_func ("/net/golden/training", test_golden_training);
  return g_test_run ();
}
