/* gst-femo: speed of the emotion CNN. Prints figures, never fails on time.
 *   bench-net [--threads N] [--batch B] [--seconds S] [--model FILE]
 *             [--crops FILE --logits-out FILE]
 * --model benches inference on a weights file instead of a fresh net;
 * --crops/--logits-out write the logits of raw 48x48 8-bit crops as
 * float32 (for comparisons with other engines, tests/bench/bench-net-peers.sh).
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
  g_autofree gfloat *probs = g_new (gfloat, (gsize) batch *
      femo_model_get_n_labels (model));
  FemoRng rng;
  gint64 t0, t;
  guint64 faces = 0;
  clock_t c0;

  femo_rng_init (&rng, 1, 0);
  for (gsize i = 0; i < (gsize) batch * FEMO_NET_INPUT_PIXELS; i++)
    crops[i] = femo_rng_below (&rng, 256);
  femo_infer_run (infer, crops, batch, probs, NULL);
  c0 = clock ();
  t0 = g_get_monotonic_time ();
  do {
    femo_infer_run (infer, crops, batch, probs, NULL);
    faces += batch;
    t = g_get_monotonic_time ();
  } while (t - t0 < seconds * 1e6);
  /* CPU time too: on a loaded machine it is what an idle core would give */
  printf ("inference batch %3u, 1 thread: %.4f ms/face wall, %.1f GFLOP/s; "
      "%.4f ms/face of CPU time\n", batch, (t - t0) / 1e3 / faces,
      2.0 * femo_model_get_macs (model) * faces / ((t - t0) * 1e3),
      (gdouble) (clock () - c0) / CLOCKS_PER_SEC * 1e3 / faces);
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

/* Logits of every crop of @crops_path (n x 2304 bytes) into @out_path. */
static gboolean
dump_logits (FemoModel * model, const gchar * crops_path,
    const gchar * out_path, GError ** error)
{
  g_autoptr (FemoInfer) infer = femo_infer_new (model);
  g_autofree gchar *crops = NULL;
  g_autofree gfloat *logits = NULL;
  gsize len;
  guint n;

  if (!g_file_get_contents (crops_path, &crops, &len, error))
    return FALSE;
  n = len / FEMO_NET_INPUT_PIXELS;
  logits = g_new (gfloat, (gsize) n * femo_model_get_n_labels (model));
  femo_infer_run (infer, (const guint8 *) crops, n, NULL, logits);
  return g_file_set_contents (out_path, (const gchar *) logits,
      (gssize) n * femo_model_get_n_labels (model) * sizeof (gfloat), error);
}

int
main (int argc, char **argv)
{
  gint threads = 0, batch = 64;
  g_autofree gchar *model_path = NULL, *crops_path = NULL, *logits_path =
      NULL;
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
    {"model", 'm', 0, G_OPTION_ARG_FILENAME, &model_path,
        "Weights file for inference (default: a fresh net)", "FILE"},
    {"crops", 0, 0, G_OPTION_ARG_FILENAME, &crops_path,
        "Raw 48x48 8-bit crops whose logits to write", "FILE"},
    {"logits-out", 0, 0, G_OPTION_ARG_FILENAME, &logits_path,
        "Where to write those logits (float32 [n][K])", "FILE"},
    {NULL}
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- CNN speed");
  g_autoptr (GError) error = NULL;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    g_printerr ("%s\n", error->message);
    return 2;
  }
  if (!crops_path != !logits_path) {
    g_printerr ("--crops and --logits-out go together\n");
    return 2;
  }
  printf ("kernels: %s\n", femo_kernels_get ()->name);
  if (!no_infer || crops_path) {
    g_autoptr (FemoNet) net = femo_net_new (NULL, femo_net_default_labels, 7,
        FEMO_NET_DEFAULT_BN_EPS, 1, NULL);
    g_autoptr (FemoModel) model = model_path ?
        femo_model_load (model_path, &error) : femo_model_new_from_net (net);
    if (!model) {
      g_printerr ("%s\n", error->message);
      return 1;
    }
    if (crops_path && !dump_logits (model, crops_path, logits_path, &error)) {
      g_printerr ("%s\n", error->message);
      return 1;
    }
    if (!no_infer) {
      printf ("%" G_GUINT64_FORMAT " multiply-adds per face\n",
          femo_model_get_macs (model));
      bench_inference (model, 1);
      bench_inference (model, 64);
    }
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
