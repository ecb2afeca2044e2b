/* gst-femo: speed of the emotion CNN. Prints figures, never fails on time.
 *   bench-net [--threads N] [--batch B] [--seconds S]
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <glib.h>
#include <stdio.h>
#include <time.h>

#include "femo-kernels.h"
#include "femo-net.h"
#include "femo-rng.h"

#define FER_TRAIN_IMAGES 28709

static gdouble seconds = 2.0;

static void
bench_inference (FemoModel * model, guint batch)
{
  g_autoptr (FemoInfer) infer = femo_infer_new (model);
  g_autofree guint8 *crops = g_new (guint8, (gsize) batch *
      FEMO_NET_INPUT_PIXELS);
  g_autofree gfloat *probs = g_new (gfloat, (gsize) batch * 7);
  FemoRng rng;
  gint64 t0, t;
  guint64 faces = 0;

  femo_rng_init (&rng, 1, 0);
  for (gsize i = 0; i < (gsize) batch * FEMO_NET_INPUT_PIXELS; i++)
    crops[i] = femo_rng_below (&rng, 256);
  femo_infer_run (infer, crops, batch, probs, NULL);
  t0 = g_get_monotonic_time ();
  do {
    femo_infer_run (infer, crops, batch, probs, NULL);
    faces += batch;
    t = g_get_monotonic_time ();
  } while (t - t0 < seconds * 1e6);
  printf ("inference batch %3u, 1 thread: %.4f ms/face, %.1f GFLOP/s\n",
      batch, (t - t0) / 1e3 / faces,
      2.0 * femo_model_get_macs (model) * faces / ((t - t0) * 1e3));
}

static void
bench_training (guint threads, guint batch)
{
  g_autoptr (FemoNet) net = femo_net_new (NULL, femo_net_default_labels, 7,
      FEMO_NET_DEFAULT_BN_EPS, 1, NULL);
  g_autofree gfloat *x = g_new (gfloat, (gsize) batch *
      FEMO_NET_INPUT_PIXELS);
  g_autofree guint *labels = g_new (guint, batch);
  FemoNetStepResult r;
  FemoRng rng;
  gint64 t0, t;
  guint64 samples = 0;
  gdouble rate, cpu;
  clock_t c0;

  femo_rng_init (&rng, 2, 0);
  for (gsize i = 0; i < (gsize) batch * FEMO_NET_INPUT_PIXELS; i++)
    x[i] = (gfloat) femo_rng_range (&rng, -1.0, 1.0);
  for (guint i = 0; i < batch; i++)
    labels[i] = femo_rng_below (&rng, 7);
  femo_net_set_n_threads (net, threads);
  femo_net_train_step (net, x, labels, NULL, batch, 0.0f, &r, NULL);
  c0 = clock ();
  t0 = g_get_monotonic_time ();
  do {
    femo_net_train_step (net, x, labels, NULL, batch, 0.0f, &r, NULL);
    samples += batch;
    t = g_get_monotonic_time ();
  } while (t - t0 < seconds * 1e6);
  cpu = (gdouble) (clock () - c0) / CLOCKS_PER_SEC;
  rate = samples / ((t - t0) / 1e6);
  printf ("training batch %u, %u thread%s: %.0f samples/s, %.2f ms/step, "
      "FER2013 epoch (%d images) %.1f s (forward+backward only); "
      "%.0f samples per CPU second (what an idle machine would give per "
      "core)\n", batch, threads, threads > 1 ? "s" : "", rate,
      batch / rate * 1e3, FER_TRAIN_IMAGES, FER_TRAIN_IMAGES / rate,
      samples / cpu);
}

int
main (int argc, char **argv)
{
  gint threads = 0, batch = 64;
  gboolean no_infer = FALSE, no_train = FALSE;
  GOptionEntry entries[] = {
    {"threads", 't', 0, G_OPTION_ARG_INT, &threads,
        "Training threads (0: 1 and 2)", "N"},
    {"batch", 'b', 0, G_OPTION_ARG_INT, &batch, "Training batch", "B"},
    {"seconds", 's', 0, G_OPTION_ARG_DOUBLE, &seconds, "Time per figure",
        "S"},
    {"no-inference", 0, 0, G_OPTION_ARG_NONE, &no_infer, "Skip inference",
        NULL},
    {"no-training", 0, 0, G_OPTION_ARG_NONE, &no_train, "Skip training",
        NULL},
    {NULL}
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- CNN speed");
  g_autoptr (GError) error = NULL;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    g_printerr ("%s\n", error->message);
    return 2;
  }
  printf ("kernels: %s\n", femo_kernels_get ()->name);
  if (!no_infer) {
    g_autoptr (FemoNet) net = femo_net_new (NULL, femo_net_default_labels, 7,
        FEMO_NET_DEFAULT_BN_EPS, 1, NULL);
    g_autoptr (FemoModel) model = femo_model_new_from_net (net);
    printf ("%" G_GUINT64_FORMAT " multiply-adds per face\n",
        femo_model_get_macs (model));
    bench_inference (model, 1);
    bench_inference (model, 64);
  }
  if (!no_train) {
    if (threads > 0) {
      bench_training (threads, batch);
    } else {
      bench_training (1, batch);
      bench_training (2, batch);
    }
  }
  return 0;
}
