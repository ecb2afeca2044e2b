/* gst-femo tests: the shipped emotion model still does its job
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A regression floor, not the acceptance figure: the shipped model must score
 * at least 65% on FER2013's PublicTest rows (../shared/data) through the C
 * engine with one plain forward pass, as models/README.md reports.
 */
#include "femo-fer.h"
#include "femo-net.h"
#include "test-util.h"

#define ACCURACY_FLOOR 0.65
#define CHUNK 64

static gchar *
shipped_model_path (void)
{
  const gchar *dir = g_getenv ("FEMO_MODEL_DIR");
  g_assert_nonnull (dir);
  return g_build_filename (dir, "fer2013-mini-xception.safetensors", NULL);
}

static void
test_metadata (void)
{
  g_autofree gchar *path = shipped_model_path ();
  g_autoptr (GError) error = NULL;
  g_autoptr (FemoModel) model = femo_model_load (path, &error);
  const gchar *const *labels;
  static const gchar *const fer[] = {
    "angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"
  };

  g_assert_no_error (error);
  g_assert_cmpstr (femo_model_get_metadata (model, "femo.arch"), ==,
      "mini-xception");
  g_assert_cmpuint (femo_model_get_n_labels (model), ==, G_N_ELEMENTS (fer));
  labels = femo_model_get_labels (model);
  for (guint i = 0; i < G_N_ELEMENTS (fer); i++)
    g_assert_cmpstr (labels[i], ==, fer[i]);
  /* Provenance says what it was trained and selected on. */
  g_assert_cmpstr (femo_model_get_metadata (model, "femo.train.train_usage"),
      ==, "Training");
  g_assert_cmpstr (femo_model_get_metadata (model, "femo.train.val_usage"),
      ==, "PublicTest");
}

static void
test_public_test_accuracy (void)
{
  g_autofree gchar *path = shipped_model_path ();
  g_autofree gchar *data_path = femo_test_shared_path ("data/fer2013.csv.gz");
  g_autoptr (GError) error = NULL;
  g_autoptr (FemoModel) model = NULL;
  g_autoptr (FemoFerData) data = NULL;
  g_autoptr (FemoInfer) infer = NULL;
  const FemoFerSplit *split;
  gfloat probs[CHUNK * FEMO_FER_N_CLASSES];
  guint correct = 0;
  gdouble accuracy;

  model = femo_model_load (path, &error);
  g_assert_no_error (error);
  data = femo_fer_load (data_path, FEMO_FER_FLAGS_NONE, &error);
  g_assert_no_error (error);
  split = &data->splits[FEMO_FER_PUBLIC_TEST];
  g_assert_cmpuint (split->n, ==, 3589);

  infer = femo_infer_new (model);
  for (guint start = 0; start < split->n; start += CHUNK) {
    guint n = MIN (CHUNK, split->n - start);
    femo_infer_run (infer, split->pixels + (gsize) start * FEMO_FER_PIXELS, n,
        probs, NULL);
    for (guint i = 0; i < n; i++) {
      const gfloat *p = probs + i * FEMO_FER_N_CLASSES;
      guint best = 0;
      for (guint c = 1; c < FEMO_FER_N_CLASSES; c++)
        if (p[c] > p[best])
          best = c;
      correct += best == split->labels[start + i];
    }
  }
  accuracy = (gdouble) correct / split->n;
  g_print ("# shipped model: PublicTest accuracy %.4f (%u of %u), floor %.2f\n",
      accuracy, correct, split->n, ACCURACY_FLOOR);
  g_assert_cmpfloat (accuracy, >=, ACCURACY_FLOOR);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/model/metadata", test_metadata);
  g_test_add_func ("/model/public-test-accuracy", test_public_test_accuracy);
  return g_test_run ();
}
