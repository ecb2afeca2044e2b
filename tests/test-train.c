/* gst-femo tests: `gst-femo train` and `gst-femo eval` end to end on a tiny
 * synthetic data set: determinism, exact resume, outputs, failures.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "../gst-femo/commands.h"
#include "femo-evaluate.h"
#include "femo-fer.h"
#include "femo-json.h"
#include "femo-net.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static gchar *tmp_dir;
static gchar *data_path;

/* Class k: a bright bar at rows 6k..6k+5 over noise, so that a tiny net can
 * learn something in two epochs. */
static gchar *
synthetic_csv (guint n_train, guint n_val)
{
  GString *s = g_string_new ("emotion,pixels,Usage\n");
  guint32 state = 12345;
  guint i, p;

  for (i = 0; i < n_train + n_val; i++) {
    guint label = i % FEMO_FER_N_CLASSES;

    g_string_append_printf (s, "%u,", label);
    for (p = 0; p < FEMO_FER_PIXELS; p++) {
      guint row = p / FEMO_FER_SIZE, v;

      state = state * 1664525u + 1013904223u;
      v = (state >> 24) % 60 + (row / 6 == label ? 180 : 20);
      g_string_append_printf (s, "%s%u", p ? " " : "", v);
    }
    g_string_append_printf (s, ",%s\n", i < n_train ? "Training" :
        "PublicTest");
  }
  return g_string_free (s, FALSE);
}

static gchar *
path_in (const gchar * dir, const gchar * name)
{
  return g_build_filename (tmp_dir, dir, name, NULL);
}

/* Runs a command with a NULL-terminated argument list; returns its status. */
static int
run (int (*command) (int, char **), const gchar * first, ...)
{
  GPtrArray *args = g_ptr_array_new_with_free_func (g_free);
  gchar **argv;
  const gchar *a;
  va_list ap;
  int status;

  g_ptr_array_add (args, g_strdup ("gst-femo cmd"));
  va_start (ap, first);
  a = first;
  while (a) {
    g_ptr_array_add (args, g_strdup (a));
    a = va_arg (ap, const gchar *);
  }
  va_end (ap);
  g_ptr_array_add (args, NULL);
  /* The parser reorders argv; keep the strings owned by @args. */
  argv = g_memdup2 (args->pdata, sizeof (gchar *) * args->len);
  status = command (args->len - 1, argv);
  g_free (argv);
  g_ptr_array_unref (args);
  return status;
}

#define TRAIN_ARGS(out) "--data", data_path, "--out", out, "--epochs", "2", \
  "--batch", "16", "--channels", "4,4,4,8,8,8", "--seed", "7", "-j", "2", \
  "--lr", "0.01", "--warmup", "1"

static gchar *
read_all (const gchar * path, gsize * length)
{
  gchar *contents = NULL;
  GError *error = NULL;

  g_file_get_contents (path, &contents, length, &error);
  g_assert_no_error (error);
  return contents;
}

static void
assert_same_file (const gchar * a, const gchar * b)
{
  gsize la, lb;
  g_autofree gchar *ca = read_all (a, &la);
  g_autofree gchar *cb = read_all (b, &lb);

  if (la != lb || memcmp (ca, cb, la) != 0)
    g_error ("%s and %s differ (%" G_GSIZE_FORMAT " and %" G_GSIZE_FORMAT
        " bytes)", a, b, la, lb);
}

static void
move_dir (const gchar * from, const gchar * to)
{
  g_autofree gchar *src = g_build_filename (tmp_dir, from, NULL);
  g_autofree gchar *dst = g_build_filename (tmp_dir, to, NULL);

  g_assert_cmpint (g_rename (src, dst), ==, 0);
  g_assert_cmpint (g_mkdir (src, 0755), ==, 0);
}

static void
test_train_resume (void)
{
  g_autofree gchar *x = path_in ("x", "m.safetensors");
  g_autofree gchar *a = path_in ("a", "m.safetensors");
  static const gchar *const same[] = { "m.safetensors", "m.ckpt",
    "m.metrics.csv", "m.curves.svg"
  };
  g_autoptr (FemoModel) model = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *data = NULL;
  g_autofree gchar *digest = NULL;
  g_autofree gchar *csv_path = path_in ("a", "m.metrics.csv");
  g_autofree gchar *csv = NULL;
  g_auto (GStrv) lines = NULL;
  gsize data_len;
  guint i;

  /* Each run writes into "x" (the checkpoint records the data path), then
   * the directory is renamed. */
  g_assert_cmpint (run (femo_cmd_train, TRAIN_ARGS (x), NULL), ==, 0);
  move_dir ("x", "a");
  g_assert_cmpint (run (femo_cmd_train, TRAIN_ARGS (x), NULL), ==, 0);
  move_dir ("x", "c");
  /* Stopped after one epoch, then resumed from the checkpoint alone, in
   * another directory. */
  g_assert_cmpint (run (femo_cmd_train, TRAIN_ARGS (x), "--stop-after", "1",
          NULL), ==, 0);
  move_dir ("x", "b");
  {
    g_autofree gchar *ckpt = path_in ("b", "m.ckpt");
    g_autofree gchar *wrong = path_in ("b", "wrong.safetensors");

    /* Options that shape training cannot change on resume. */
    g_assert_cmpint (run (femo_cmd_train, "--resume", ckpt, "--lr", "0.5",
            "--out", wrong, NULL), !=, 0);
    g_assert_false (g_file_test (wrong, G_FILE_TEST_EXISTS));
    g_assert_cmpint (run (femo_cmd_train, "--resume", ckpt, NULL), ==, 0);
    /* A finished run has nothing left to do. */
    g_assert_cmpint (run (femo_cmd_train, "--resume", ckpt, NULL), ==, 0);
  }

  for (i = 0; i < G_N_ELEMENTS (same); i++) {
    g_autofree gchar *pa = path_in ("a", same[i]);
    g_autofree gchar *pb = path_in ("b", same[i]);
    g_autofree gchar *pc = path_in ("c", same[i]);

    assert_same_file (pa, pc);
    assert_same_file (pa, pb);
  }

  /* The metrics have a header and one row per epoch. */
  csv = read_all (csv_path, NULL);
  lines = g_strsplit (csv, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 4);
  g_assert_cmpstr (lines[0], ==,
      "epoch,lr,train_loss,train_accuracy,val_loss,val_accuracy,"
      "swa_val_accuracy");
  g_assert_true (g_str_has_prefix (lines[2], "2,"));

  /* The model loads and says where it came from. */
  model = femo_model_load (a, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (femo_model_get_n_labels (model), ==, 7);
  data = read_all (data_path, &data_len);
  digest = g_compute_checksum_for_data (G_CHECKSUM_SHA256,
      (const guchar *) data, data_len);
  g_assert_cmpstr (femo_model_get_metadata (model, "femo.train.data_sha256"),
      ==, digest);
  g_assert_cmpstr (femo_model_get_metadata (model, "femo.train.data"), ==,
      "synthetic.csv");
  g_assert_cmpstr (femo_model_get_metadata (model, "femo.train.seed"), ==, "7");
  g_assert_cmpstr (femo_model_get_metadata (model, "femo.channels"), ==,
      "4,4,4,8,8,8");
  g_assert_nonnull (femo_model_get_metadata (model, "femo.train.val_accuracy"));
  g_assert_nonnull (strstr (femo_model_get_metadata (model,
              "femo.train.options"), "--epochs 2 --batch 16 --lr 0.01"));

  /* The snapshot of the best epoch is the same file as --out. */
  {
    g_autofree gchar *epochs = g_strdup (femo_model_get_metadata (model,
            "femo.train.epochs"));
    const gchar *acc = femo_model_get_metadata (model,
        "femo.train.val_accuracy");
    g_autofree gchar *name = g_strdup_printf ("m.e%03d-%.4f.safetensors",
        atoi (epochs), g_ascii_strtod (acc, NULL));
    g_autofree gchar *snapshot = path_in ("a", name);

    assert_same_file (a, snapshot);
  }
}

static void
test_eval (void)
{
  g_autofree gchar *model = path_in ("e", "m.safetensors");
  g_autofree gchar *svg = path_in ("e", "confusion.svg");
  g_autofree gchar *out = path_in ("e", "stdout.json");
  g_autofree gchar *json = NULL;
  g_autoptr (FemoJson) root = NULL;
  g_autoptr (GError) error = NULL;
  int saved, fd, status;

  /* The reference recipe's schedule, for once. */
  g_assert_cmpint (run (femo_cmd_train, "--data", data_path, "--out", model,
          "--epochs", "1", "--batch", "8", "--channels", "2,2,2,2,2,2", "-j",
          "1", "--schedule", "plateau", NULL), ==, 0);

  fflush (stdout);
  saved = dup (STDOUT_FILENO);
  fd = open (out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  g_assert_cmpint (fd, >=, 0);
  dup2 (fd, STDOUT_FILENO);
  close (fd);
  status = run (femo_cmd_eval, "--model", model, "--data", data_path,
      "--json", "--svg", svg, NULL);
  fflush (stdout);
  dup2 (saved, STDOUT_FILENO);
  close (saved);
  g_assert_cmpint (status, ==, 0);

  json = read_all (out, NULL);
  root = femo_json_parse (json, strlen (json), &error);
  g_assert_no_error (error);
  g_assert_cmpint (femo_json_get_int (femo_json_object_get (root, "n")), ==,
      21);
  g_assert_cmpuint (femo_json_get_length (femo_json_object_get (root,
              "confusion")), ==, 7);
  g_assert_nonnull (femo_json_object_get (root, "macro_f1"));
  g_assert_true (g_file_test (svg, G_FILE_TEST_EXISTS));

  /* No PrivateTest rows here: a clear failure. */
  g_assert_cmpint (run (femo_cmd_eval, "--model", model, "--data", data_path,
          "--usage", "PrivateTest", NULL), ==, 1);
  g_assert_cmpint (run (femo_cmd_eval, "--model", model, "--data", data_path,
          "--usage", "Private", NULL), ==, 1);
}

/* FER+ votes for the synthetic rows: mostly the row's own class. */
static void
test_ferplus (void)
{
  GString *s = g_string_new ("Usage,Image name,neutral,happiness,surprise,"
      "sadness,anger,disgust,fear,contempt,unknown,NF\n");
  g_autofree gchar *plus = path_in ("", "ferplus.csv");
  g_autofree gchar *out = path_in ("p", "m.safetensors");
  g_autoptr (FemoModel) model = NULL;
  g_autoptr (GError) error = NULL;
  guint i, c;

  for (i = 0; i < 91; i++) {
    guint label = i % FEMO_FER_N_CLASSES;
    guint votes[FEMO_FER_N_CLASSES] = { 0 };

    votes[label] = 8;
    votes[(label + 1) % FEMO_FER_N_CLASSES] = 2;
    g_string_append_printf (s, "%s,%s", i < 70 ? "Training" : "PublicTest",
        i == 3 ? "" : "fer.png");
    /* The file's column order: neutral happiness surprise sadness anger
     * disgust fear. */
    for (c = 0; c < 7; c++) {
      static const guint order[7] = { 6, 3, 5, 4, 0, 1, 2 };

      g_string_append_printf (s, ",%u", votes[order[c]]);
    }
    g_string_append (s, ",0,0,0\n");
  }
  g_file_set_contents (plus, s->str, s->len, &error);
  g_assert_no_error (error);
  g_string_free (s, TRUE);

  g_assert_cmpint (run (femo_cmd_train, "--data", data_path, "--out", out,
          "--ferplus", plus, "--epochs", "1", "--batch", "8", "--channels",
          "2,2,2,2,2,2", "-j", "1", NULL), ==, 0);
  model = femo_model_load (out, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (femo_model_get_metadata (model, "femo.train.ferplus"), ==,
      "ferplus.csv");
  g_assert_cmpuint (strlen (femo_model_get_metadata (model,
              "femo.train.ferplus_sha256")), ==, 64);
  /* Row 3 has no FER+ image: 69 Training rows are left. */
  g_assert_cmpstr (femo_model_get_metadata (model, "femo.train.train_rows"),
      ==, "69");
}

/* --init starts from a trained model: the first epoch's loss is that of
 * the model, the provenance names it, and a model of other widths is
 * refused. */
static void
test_init (void)
{
  g_autofree gchar *first = path_in ("i1", "m.safetensors");
  g_autofree gchar *second = path_in ("i2", "m.safetensors");
  g_autofree gchar *wrong = path_in ("i3", "m.safetensors");
  g_autoptr (FemoModel) model = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *bytes = NULL;
  g_autofree gchar *digest = NULL;
  gsize len;

  g_assert_cmpint (run (femo_cmd_train, TRAIN_ARGS (first), NULL), ==, 0);
  g_assert_cmpint (run (femo_cmd_train, TRAIN_ARGS (second), "--init", first,
          NULL), ==, 0);
  model = femo_model_load (second, &error);
  g_assert_no_error (error);
  bytes = read_all (first, &len);
  digest = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (guchar *) bytes,
      len);
  g_assert_cmpstr (femo_model_get_metadata (model, "femo.train.init"), ==,
      "m.safetensors");
  g_assert_cmpstr (femo_model_get_metadata (model, "femo.train.init_sha256"),
      ==, digest);

  g_assert_cmpint (run (femo_cmd_train, "--data", data_path, "--out", wrong,
          "--epochs", "1", "--channels", "2,2,2,2,2,2", "--init", first,
          NULL), !=, 0);
  g_assert_false (g_file_test (wrong, G_FILE_TEST_EXISTS));
}

static void
test_bad_data (void)
{
  g_autofree gchar *good = synthetic_csv (20, 5);
  g_autofree gchar *bad_path = path_in ("", "bad.csv");
  g_autofree gchar *out = path_in ("f", "m.safetensors");
  g_autofree gchar *ckpt = path_in ("f", "m.ckpt");
  gchar *cut;
  GError *error = NULL;

  /* Row 5 loses its pixels. */
  cut = good;
  for (guint i = 0; i < 5; i++)
    cut = strchr (cut, '\n') + 1;
  memcpy (strchr (cut, ','), ",1 2 3,Training\n", 16);
  cut = strchr (cut, '\n');
  cut[1] = '\0';
  g_file_set_contents (bad_path, good, -1, &error);
  g_assert_no_error (error);

  g_assert_cmpint (run (femo_cmd_train, "--data", bad_path, "--out", out,
          NULL), ==, 1);
  g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (ckpt, G_FILE_TEST_EXISTS));
  /* Bad options fail before anything is read. */
  g_assert_cmpint (run (femo_cmd_train, "--data", data_path, "--out", out,
          "--channels", "8,8,16", NULL), ==, 1);
  g_assert_cmpint (run (femo_cmd_train, "--data", data_path, "--out", out,
          "--batch", "1", NULL), ==, 1);
  g_assert_cmpint (run (femo_cmd_train, "--data", data_path, NULL), ==, 1);
  g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
}

/* Weight averaging: the CSV shows the average's accuracy from --swa-start
 * on, and a run stopped and resumed in the averaging phase (the average is
 * in the checkpoint) gives the bytes of an uninterrupted one. */
static void
test_swa (void)
{
  g_autofree gchar *x = path_in ("x", "m.safetensors");
  g_autofree gchar *csv_path = path_in ("s1", "m.metrics.csv");
  g_autofree gchar *csv = NULL;
  g_auto (GStrv) lines = NULL;
  static const gchar *const same[] = { "m.safetensors", "m.ckpt",
    "m.metrics.csv"
  };

  g_assert_cmpint (run (femo_cmd_train, TRAIN_ARGS (x), "--epochs", "3",
          "--swa-start", "2", NULL), ==, 0);
  move_dir ("x", "s1");
  g_assert_cmpint (run (femo_cmd_train, TRAIN_ARGS (x), "--epochs", "3",
          "--swa-start", "2", "--stop-after", "2", NULL), ==, 0);
  {
    g_autofree gchar *ckpt = path_in ("x", "m.ckpt");

    g_assert_cmpint (run (femo_cmd_train, "--resume", ckpt, NULL), ==, 0);
  }
  move_dir ("x", "s2");
  for (guint i = 0; i < G_N_ELEMENTS (same); i++) {
    g_autofree gchar *p1 = path_in ("s1", same[i]);
    g_autofree gchar *p2 = path_in ("s2", same[i]);

    assert_same_file (p1, p2);
  }
  csv = read_all (csv_path, NULL);
  lines = g_strsplit (csv, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 5);
  g_assert_true (g_str_has_suffix (lines[1], ","));     /* epoch 1: none */
  g_assert_false (g_str_has_suffix (lines[2], ","));
  g_assert_false (g_str_has_suffix (lines[3], ","));

  /* --swa-lr holds the rate from --swa-start on. */
  g_assert_cmpint (run (femo_cmd_train, TRAIN_ARGS (x), "--epochs", "3",
          "--swa-start", "2", "--swa-lr", "0.002", NULL), ==, 0);
  move_dir ("x", "s3");
  {
    g_autofree gchar *p = path_in ("s3", "m.metrics.csv");
    g_autofree gchar *text = read_all (p, NULL);
    g_auto (GStrv) rows = g_strsplit (text, "\n", -1);

    g_assert_true (g_str_has_prefix (rows[1], "1,0.01,"));
    g_assert_true (g_str_has_prefix (rows[2], "2,0.002,"));
    g_assert_true (g_str_has_prefix (rows[3], "3,0.002,"));
  }
  g_assert_cmpint (run (femo_cmd_train, TRAIN_ARGS (x), "--swa-lr", "0.002",
          NULL), ==, 1);

  /* An average needs recomputed BN statistics, and must start in the run. */
  g_assert_cmpint (run (femo_cmd_train, TRAIN_ARGS (x), "--swa-start", "1",
          "--bn-images", "0", NULL), ==, 1);
  g_assert_cmpint (run (femo_cmd_train, TRAIN_ARGS (x), "--swa-start", "3",
          NULL), ==, 1);
  g_assert_false (g_file_test (x, G_FILE_TEST_EXISTS));
}

/* Precise BN: the running mean of the first BN becomes the mean of the
 * first convolution's outputs over the images, whatever it was before. */
static void
test_precise_bn (void)
{
  g_autoptr (FemoNet) net = NULL;
  g_autoptr (GError) error = NULL;
  FemoFerSplit split = { 0, };
  const FemoNetTensor *tensors;
  guint n_tensors, i, c;
  gsize n_stats;
  gfloat *stats;
  const gfloat *w = NULL, *mean = NULL;
  guint32 state = 99;
  guint8 lab[64] = { 0, };

  net = femo_net_new (NULL, femo_net_default_labels, 7,
      FEMO_NET_DEFAULT_BN_EPS, 3, &error);
  g_assert_no_error (error);
  femo_net_set_n_threads (net, 2);
  split.n = 64;
  split.labels = lab;
  split.pixels = g_malloc (64 * FEMO_FER_PIXELS);
  for (i = 0; i < 64 * FEMO_FER_PIXELS; i++) {
    state = state * 1664525u + 1013904223u;
    split.pixels[i] = state >> 24;
  }
  stats = femo_net_get_running_stats (net, &n_stats);
  for (i = 0; i < n_stats; i++)
    stats[i] = 5.0f;            /* whatever was there */
  g_assert_true (femo_evaluate_recalibrate_bn (net, &split, 64, 16, &error));
  g_assert_no_error (error);
  g_assert_cmpfloat (femo_net_get_bn_momentum (net), ==, 0.1);

  tensors = femo_net_get_tensors (net, &n_tensors);
  for (i = 0; i < n_tensors; i++) {
    if (strcmp (tensors[i].name, "stem.conv1.weight") == 0)
      w = femo_net_get_params (net, NULL) + tensors[i].offset;
    if (strcmp (tensors[i].name, "stem.bn1.running_mean") == 0)
      mean = stats + tensors[i].offset;
  }
  g_assert_nonnull (w);
  g_assert_nonnull (mean);
  for (c = 0; c < 8; c++) {
    gdouble sum = 0.0;

    for (guint n = 0; n < 64; n++)
      for (guint y = 0; y < 46; y++)
        for (guint x = 0; x < 46; x++)
          for (guint k = 0; k < 9; k++) {
            guint8 px = split.pixels[(gsize) n * FEMO_FER_PIXELS +
                (y + k / 3) * 48 + x + k % 3];

            sum += w[c * 9 + k] * (px / 127.5 - 1.0);
          }
    g_assert_cmpfloat_with_epsilon (mean[c], sum / (64 * 46 * 46), 1e-4);
  }
  g_free (split.pixels);
}

/* --teacher: the provenance names the teacher, a resumed run needs the same
 * one, and the teacher's probabilities are one plain forward pass (their
 * arg-max gives femo_evaluate_split's accuracy). */
static void
test_teacher (void)
{
  g_autofree gchar *teacher = path_in ("t1", "m.safetensors");
  g_autofree gchar *student = path_in ("t2", "m.safetensors");
  g_autofree gchar *ckpt = path_in ("t2", "m.ckpt");
  g_autofree gchar *other = path_in ("t3", "m.safetensors");
  g_autoptr (FemoModel) model = NULL;
  g_autoptr (FemoFerData) data = NULL;
  g_autoptr (FemoConfusion) confusion = femo_confusion_new (7);
  g_autoptr (GError) error = NULL;
  g_autofree gfloat *probs = NULL;
  FemoFerSplit *split;
  guint i, c, hits = 0;

  g_assert_cmpint (run (femo_cmd_train, TRAIN_ARGS (teacher), NULL), ==, 0);
  g_assert_cmpint (run (femo_cmd_train, TRAIN_ARGS (other), "--seed", "8",
          NULL), ==, 0);
  g_assert_cmpint (run (femo_cmd_train, TRAIN_ARGS (student), "--teacher",
          teacher, "--distill", "0.7", "--stop-after", "1", NULL), ==, 0);
  /* the teacher changed under the checkpoint */
  {
    g_autofree gchar *bytes = NULL;
    gsize len;
    GError *e = NULL;

    bytes = read_all (other, &len);
    g_file_set_contents (teacher, bytes, len, &e);
    g_assert_no_error (e);
  }
  g_assert_cmpint (run (femo_cmd_train, "--resume", ckpt, NULL), ==, 1);
  g_assert_cmpint (run (femo_cmd_train, TRAIN_ARGS (other), "--teacher",
          teacher, "--distill", "1.5", NULL), ==, 1);

  model = femo_model_load (student, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (femo_model_get_metadata (model, "femo.train.teacher"), ==,
      "m.safetensors");
  g_assert_nonnull (strstr (femo_model_get_metadata (model,
              "femo.train.options"), "--distill 0.7"));

  data = femo_fer_load (data_path, FEMO_FER_FLAGS_NONE, &error);
  g_assert_no_error (error);
  split = &data->splits[FEMO_FER_PUBLIC_TEST];
  probs = g_new (gfloat, (gsize) split->n * 7);
  femo_evaluate_probabilities (model, split, 2, probs);
  femo_evaluate_split (model, split, NULL, 2, confusion);
  for (i = 0; i < split->n; i++) {
    const gfloat *p = probs + (gsize) i * 7;
    gdouble sum = 0.0;
    guint best = 0;

    for (c = 0; c < 7; c++) {
      sum += p[c];
      if (p[c] > p[best])
        best = c;
    }
    g_assert_cmpfloat_with_epsilon (sum, 1.0, 1e-5);
    hits += best == split->labels[i];
  }
  g_assert_cmpfloat (femo_confusion_accuracy (confusion), ==,
      (gdouble) hits / split->n);
}

static void
remove_tree (const gchar * path)
{
  GDir *dir = g_dir_open (path, 0, NULL);
  const gchar *name;

  while (dir && (name = g_dir_read_name (dir))) {
    g_autofree gchar *child = g_build_filename (path, name, NULL);

    if (g_file_test (child, G_FILE_TEST_IS_DIR))
      remove_tree (child);
    else
      g_unlink (child);
  }
  if (dir)
    g_dir_close (dir);
  g_rmdir (path);
}

/* A file option naming a missing file: the error names the option and the
 * file, and nothing is written. */
static void
test_missing_file (gconstpointer data)
{
  const gchar *option = data;
  g_autofree gchar *out = path_in ("", "missing.safetensors");
  g_autofree gchar *pattern = g_strdup_printf ("*%s: Failed to open file*"
      "no-such-file*", option);

  if (g_test_subprocess ()) {
    int status = run (femo_cmd_train, TRAIN_ARGS (out), option,
        "/nonexistent/no-such-file", NULL);

    g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
    remove_tree (tmp_dir);
    exit (status);
  }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr (pattern);
}

int
main (int argc, char **argv)
{
  GError *error = NULL;
  g_autofree gchar *csv = synthetic_csv (70, 21);
  const gchar *const dirs[] = { "x", "e", "f", "p" };
  int ret;
  guint i;

  g_test_init (&argc, &argv, NULL);
  tmp_dir = g_dir_make_tmp ("femo-train-XXXXXX", &error);
  g_assert_no_error (error);
  for (i = 0; i < G_N_ELEMENTS (dirs); i++) {
    g_autofree gchar *d = g_build_filename (tmp_dir, dirs[i], NULL);

    g_mkdir (d, 0755);
  }
  data_path = g_build_filename (tmp_dir, "synthetic.csv", NULL);
  g_file_set_contents (data_path, csv, -1, &error);
  g_assert_no_error (error);

  g_test_add_func ("/train/resume-is-exact", test_train_resume);
  g_test_add_func ("/train/eval", test_eval);
  g_test_add_func ("/train/ferplus", test_ferplus);
  g_test_add_func ("/train/init", test_init);
  g_test_add_func ("/train/swa-resume-is-exact", test_swa);
  g_test_add_func ("/train/precise-bn", test_precise_bn);
  g_test_add_func ("/train/teacher", test_teacher);
  g_test_add_func ("/train/bad-data", test_bad_data);
  g_test_add_data_func ("/train/missing-init", "--init", test_missing_file);
  g_test_add_data_func ("/train/missing-teacher", "--teacher",
      test_missing_file);
  g_test_add_data_func ("/train/missing-ferplus", "--ferplus",
      test_missing_file);
  ret = g_test_run ();

  remove_tree (tmp_dir);
  g_free (data_path);
  g_free (tmp_dir);
  return ret;
}
