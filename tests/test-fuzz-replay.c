/* gst-femo tests: replays the fuzz corpora through the fuzz targets
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The libFuzzer executables need clang (tests/fuzz/run-fuzz.sh); this test
 * runs the same target functions over every seed and every saved
 * regression input (tests/fuzz/corpus/TARGET, tests/fuzz/regressions/TARGET)
 * with whatever compiler builds the suite, so that a loader change that
 * crashes on one of them fails here, and under tests/run-sanitizers.sh and
 * tests/run-valgrind.sh with their checks. It also checks that the valid
 * seeds do load, so the corpora keep exercising the loaders past the header.
 */
#include "fuzz-targets.h"
#include "femo-cascade.h"
#include "femo-fer.h"
#include "femo-net.h"
#include "test-util.h"

#include <gio/gio.h>

typedef int (*FuzzTarget) (const guint8 * data, gsize size);

/* Runs @target over every file below FEMO_FUZZ_DIR/@subdir/@name; returns
 * how many. A missing directory counts none. */
static guint
replay_dir (const gchar * subdir, const gchar * name, FuzzTarget target)
{
  g_autofree gchar *dir_path = g_build_filename (FEMO_FUZZ_DIR, subdir, name,
      NULL);
  g_autoptr (GDir) dir = g_dir_open (dir_path, 0, NULL);
  const gchar *entry;
  guint n = 0;

  if (!dir)
    return 0;
  while ((entry = g_dir_read_name (dir)) != NULL) {
    g_autofree gchar *path = g_build_filename (dir_path, entry, NULL);
    g_autofree gchar *contents = NULL;
    g_autoptr (GError) error = NULL;
    gsize length;

    if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
      continue;
    g_file_get_contents (path, &contents, &length, &error);
    g_assert_no_error (error);
    g_test_message ("%s/%s/%s (%" G_GSIZE_FORMAT " bytes)", subdir, name,
        entry, length);
    g_assert_cmpint (target ((const guint8 *) contents, length), ==, 0);
    n++;
  }
  return n;
}

static void
replay (const gchar * name, FuzzTarget target, guint min_seeds)
{
  guint seeds = replay_dir ("corpus", name, target);
  guint regressions = replay_dir ("regressions", name, target);

  g_test_message ("%s: %u seeds, %u regression inputs", name, seeds,
      regressions);
  g_assert_cmpuint (seeds, >=, min_seeds);
}

static gchar *
seed_contents (const gchar * name, const gchar * file, gsize * length)
{
  g_autofree gchar *path = g_build_filename (FEMO_FUZZ_DIR, "corpus", name,
      file, NULL);
  g_autoptr (GError) error = NULL;
  gchar *contents = NULL;

  g_file_get_contents (path, &contents, length, &error);
  g_assert_no_error (error);
  return contents;
}

static void
test_cascade (void)
{
  static const struct
  {
    const gchar *file;
    FemoCascadeKind kind;
    guint n_stages;
  } valid[] = {
    {"haar-tiny.xml", FEMO_CASCADE_HAAR, 2},
    {"lbp-tiny.xml", FEMO_CASCADE_LBP, 1},
    {"opencv-haar-frontalface-2-stages.xml", FEMO_CASCADE_HAAR, 2},
    {"opencv-lbp-frontalface-improved-2-stages.xml", FEMO_CASCADE_LBP, 2},
  };

  replay ("cascade", femo_fuzz_cascade, G_N_ELEMENTS (valid) + 3);
  for (guint i = 0; i < G_N_ELEMENTS (valid); i++) {
    gsize length;
    g_autofree gchar *xml = seed_contents ("cascade", valid[i].file, &length);
    g_autoptr (GError) error = NULL;
    g_autoptr (FemoCascade) c = femo_cascade_new_from_data (xml, length,
        valid[i].file, &error);

    g_assert_no_error (error);
    g_assert_cmpint (femo_cascade_get_kind (c), ==, valid[i].kind);
    g_assert_cmpuint (femo_cascade_get_n_stages (c), ==, valid[i].n_stages);
  }
}

static void
test_safetensors (void)
{
  gsize length;
  g_autofree gchar *golden = seed_contents ("safetensors",
      "golden-net.safetensors", &length);
  g_autoptr (GError) error = NULL;
  g_autoptr (FemoModel) model = NULL;

  replay ("safetensors", femo_fuzz_safetensors, 5);
  model = femo_model_load_from_data ((const guint8 *) golden, length, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (femo_model_get_n_labels (model), >=, 2);
}

static void
test_fer_csv (void)
{
  static const gchar *const valid[] = { "three-rows.csv",
    "three-rows-crlf.csv", "three-rows.csv.gz"
  };

  replay ("fer-csv", femo_fuzz_fer_csv, G_N_ELEMENTS (valid) + 3);
  for (guint i = 0; i < G_N_ELEMENTS (valid); i++) {
    gsize length;
    g_autofree gchar *csv = seed_contents ("fer-csv", valid[i], &length);
    g_autoptr (GInputStream) stream =
        g_memory_input_stream_new_from_data (csv, length, NULL);
    g_autoptr (GError) error = NULL;
    FemoFerData *fer = femo_fer_load_stream (stream, valid[i],
        FEMO_FER_FLAGS_NONE, NULL, &error);

    g_assert_no_error (error);
    g_assert_cmpuint (fer->n_rows, ==, 3);
    g_assert_cmpuint (fer->splits[FEMO_FER_TRAINING].n, ==, 1);
    g_assert_cmpuint (fer->splits[FEMO_FER_TRAINING].labels[0], ==, 3);
    g_assert_cmpuint (fer->splits[FEMO_FER_PRIVATE_TEST].labels[0], ==, 6);
    femo_fer_data_free (fer);
  }
}

/* Streams through the analyzer: seeds and saved regressions (each a case
 * the analyzer once crashed on or did wrong) run without a report. */
static void
test_femodetect (void)
{
  replay ("femodetect", femo_fuzz_femodetect, 6);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  femo_test_require_default_cascade ();
  g_test_add_func ("/fuzz-replay/cascade", test_cascade);
  g_test_add_func ("/fuzz-replay/safetensors", test_safetensors);
  g_test_add_func ("/fuzz-replay/fer-csv", test_fer_csv);
  g_test_add_func ("/fuzz-replay/femodetect", test_femodetect);
  return g_test_run ();
}
