/* gst-femo tests: libfemo's trainer end to end on a tiny synthetic data
 * set: determinism, exact resume, outputs, failures; and what `gst-femo
 * train` and `gst-femo eval` add to it, run as a user would (argv[1] is the
 * gst-femo binary of the build).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "femo-error.h"
#include "femo-evaluate.h"
#include "femo-fer.h"
#include "femo-json.h"
#include "femo-net.h"
#include "femo-trainer.h"

#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

static const gchar *gst_femo;
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

/* The short runs: two epochs of a tiny net. */
static void
short_run (FemoTrainOptions * o, const gchar * out)
{
  femo_train_options_init (o);
  o->data = g_strdup (data_path);
  o->out = g_strdup (out);
  o->epochs = 2;
  o->batch = 16;
  o->channels = g_strdup ("4,4,4,8,8,8");
  o->seed = 7;
  o->threads = 2;
  o->lr = 0.01;
  o->warmup = 1;
}

/* Sets up a trainer with @o and runs it; clears @o. */
static gboolean
train (FemoTrainOptions * o, GError ** error)
{
  g_autoptr (FemoTrainer) trainer = femo_trainer_new (o, NULL, error);

  femo_train_options_clear (o);
  return trainer && femo_trainer_run (trainer, error);
}

static void
train_ok (FemoTrainOptions * o)
{
  g_autoptr (GError) error = NULL;

  train (o, &error);
  g_assert_no_error (error);
}

/* A run that must fail with FEMO_ERROR @code. */
static void
train_fails (FemoTrainOptions * o, gint code)
{
  g_autoptr (GError) error = NULL;

  g_assert_false (train (o, &error));
  g_assert_error (error, FEMO_ERROR, code);
}

static void
resume_ok (const gchar * checkpoint)
{
  FemoTrainOptions o;

  femo_train_options_init (&o);
  o.resume = g_strdup (checkpoint);
  train_ok (&o);
}

/* Runs gst-femo with a NULL-terminated argument list; returns its exit
 * status, what it printed in @out and @err. */
static gint
run_tool (gchar ** out, gchar ** err, const gchar * first, ...)
{
  GPtrArray *args = g_ptr_array_new ();
  GError *error = NULL;
  gint wait_status;
  const gchar *a;
  va_list ap;

  g_ptr_array_add (args, (gpointer) gst_femo);
  va_start (ap, first);
  for (a = first; a; a = va_arg (ap, const gchar *))
    g_ptr_array_add (args, (gpointer) a);
  va_end (ap);
  g_ptr_array_add (args, NULL);
  g_spawn_sync (NULL, (gchar **) args->pdata, NULL, G_SPAWN_DEFAULT, NULL,
      NULL, out, err, &wait_status, &error);
  g_assert_no_error (error);
  g_assert_true (WIFEXITED (wait_status));
  g_ptr_array_unref (args);
  return WEXITSTATUS (wait_status);
}

/* The tiniest runs: one epoch of a net two channels wide. */
static void
tiny_run (FemoTrainOptions * o, const gchar * out)
{
  short_run (o, out);
  o->epochs = 1;
  o->batch = 8;
  g_free (o->channels);
  o->channels = g_strdup ("2,2,2,2,2,2");
  o->threads = 1;
}

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

/* The runs in two directories wrote the same model, checkpoint and
 * metrics. */
static void
assert_same_run (const gchar * dir1, const gchar * dir2)
{
  static const gchar *const same[] = { "m.safetensors", "m.ckpt",
    "m.metrics.csv"
  };

  for (guint i = 0; i < G_N_ELEMENTS (same); i++) {
    g_autofree gchar *p1 = path_in (dir1, same[i]);
    g_autofree gchar *p2 = path_in (dir2, same[i]);

    assert_same_file (p1, p2);
  }
}

/* Counts what the trainer reports. */
typedef struct
{
  guint batches, epochs, last_epoch, n_steps, images;
  gdouble last_loss;
} Reports;

static void
count_batch (const FemoTrainerProgress * p, gpointer data)
{
  Reports *r = data;

  r->batches++;
  r->n_steps = p->n_steps;
  r->images = p->images;
  g_assert_cmpuint (p->step, <=, p->n_steps);
  g_assert_cmpfloat (p->images_left, ==, 70.0 * (p->n_epochs - p->epoch + 1)
      - p->images);
}

static void
count_epoch (const FemoEpochMetrics * m, const gchar * saved, gdouble seconds,
    gpointer data)
{
  Reports *r = data;

  r->epochs++;
  r->last_epoch = m->epoch;
  r->last_loss = m->train_loss;
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
  FemoTrainOptions o;
  gsize data_len;
  guint i;

  /* Each run writes into "x" (the checkpoint records the data path), then
   * the directory is renamed. The first run reports each step and epoch:
   * 70 images in steps of 16, the last short one kept. */
  {
    Reports r = { 0, };
    FemoTrainerCallbacks callbacks = { NULL, count_batch, count_epoch, &r };
    g_autoptr (FemoTrainer) trainer = NULL;

    short_run (&o, x);
    trainer = femo_trainer_new (&o, &callbacks, &error);
    femo_train_options_clear (&o);
    g_assert_no_error (error);
    g_assert_true (femo_trainer_run (trainer, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (r.batches, ==, 10);
    g_assert_cmpuint (r.n_steps, ==, 5);
    g_assert_cmpuint (r.images, ==, 70);
    g_assert_cmpuint (r.epochs, ==, 2);
    g_assert_cmpuint (r.last_epoch, ==, 2);
    g_assert_true (femo_trainer_is_finished (trainer));
    g_assert_cmpuint (femo_trainer_get_epoch (trainer), ==, 2);
  }
  move_dir ("x", "a");
  short_run (&o, x);
  train_ok (&o);
  move_dir ("x", "c");
  /* Stopped after one epoch, then resumed from the checkpoint alone, in
   * another directory. */
  short_run (&o, x);
  o.stop_after = 1;
  train_ok (&o);
  move_dir ("x", "b");
  {
    g_autofree gchar *ckpt = path_in ("b", "m.ckpt");
    g_autofree gchar *wrong = path_in ("b", "wrong.safetensors");
    g_autoptr (FemoTrainer) trainer = NULL;

    /* Options that shape training cannot change on resume. */
    femo_train_options_init (&o);
    o.resume = g_strdup (ckpt);
    o.lr = 0.5;
    o.out = g_strdup (wrong);
    g_assert_false (train (&o, &error));
    g_assert_error (error, FEMO_ERROR, FEMO_ERROR_ARGUMENT);
    g_assert_cmpstr (error->message, ==, "--lr 0.5 differs from the "
        "checkpoint's 0.01; a resumed run keeps its options");
    g_clear_error (&error);
    g_assert_false (g_file_test (wrong, G_FILE_TEST_EXISTS));
    resume_ok (ckpt);
    /* A finished run has nothing left to do. */
    femo_train_options_init (&o);
    o.resume = g_strdup (ckpt);
    trainer = femo_trainer_new (&o, NULL, &error);
    femo_train_options_clear (&o);
    g_assert_no_error (error);
    g_assert_true (femo_trainer_is_finished (trainer));
    g_assert_cmpuint (femo_trainer_get_epoch (trainer), ==, 2);
    g_assert_cmpfloat (femo_trainer_get_options (trainer)->lr, ==, 0.01);
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

/* Options left unset take the values of the trainer's table, the one place
 * defaults are written (0 threads: all cores), and --help shows them. */
static void
test_defaults (void)
{
  g_autofree gchar *out = path_in ("d", "m.safetensors");
  g_autoptr (FemoTrainer) trainer = NULL;
  g_autoptr (GError) error = NULL;
  const FemoTrainOptionSpec *specs;
  const FemoTrainOptions *used;
  FemoTrainOptions o;
  g_autofree gchar *help = NULL;
  guint n_specs, i;

  femo_train_options_init (&o);
  o.data = g_strdup (data_path);
  o.out = g_strdup (out);
  trainer = femo_trainer_new (&o, NULL, &error);
  femo_train_options_clear (&o);
  g_assert_no_error (error);
  used = femo_trainer_get_options (trainer);
  g_assert_cmpint (used->threads, ==, g_get_num_processors ());

  g_assert_cmpint (run_tool (&help, NULL, "train", "--help", NULL), ==, 0);
  specs = femo_train_option_specs (&n_specs);
  for (i = 0; i < n_specs; i++) {
    const FemoTrainOptionSpec *spec = &specs[i];
    const gchar *value = spec->default_value;
    g_autofree gchar *option = g_strdup_printf (" --%s%s", spec->name,
        spec->kind == FEMO_TRAIN_OPTION_FLAG ? " " : "=");
    g_autofree gchar *shown = g_strdup_printf ("(default %s)", value);
    const gchar *line = strstr (help, option);
    const gchar *end = line ? strchr (line, '\n') : NULL;

    if (!end)
      g_error ("--help lacks %s", option);
    if (spec->kind != FEMO_TRAIN_OPTION_FLAG
        && (end - line < (gssize) strlen (shown)
            || strncmp (end - strlen (shown), shown, strlen (shown)) != 0))
      g_error ("--help does not give%s its default %s", option, value);

    switch (spec->kind) {
      case FEMO_TRAIN_OPTION_INT:
        if (strcmp (spec->name, "threads") != 0)
          g_assert_cmpint (G_STRUCT_MEMBER (gint64, used, spec->offset), ==,
              g_ascii_strtoll (value, NULL, 10));
        break;
      case FEMO_TRAIN_OPTION_DOUBLE:
        g_assert_cmpfloat (G_STRUCT_MEMBER (gdouble, used, spec->offset), ==,
            g_ascii_strtod (value, NULL));
        break;
      case FEMO_TRAIN_OPTION_STRING:
        g_assert_cmpstr (G_STRUCT_MEMBER (gchar *, used, spec->offset), ==,
            value);
        break;
      case FEMO_TRAIN_OPTION_FLAG:
        g_assert_false (G_STRUCT_MEMBER (gboolean, used, spec->offset));
        g_assert_cmpstr (value, ==, "false");
        break;
    }
  }
}

/* gst-femo eval on a model trained with the reference recipe's schedule. */
static void
test_eval (void)
{
  g_autofree gchar *model = path_in ("e", "m.safetensors");
  g_autofree gchar *svg = path_in ("e", "confusion.svg");
  g_autoptr (FemoJson) root = NULL;
  g_autoptr (GError) error = NULL;
  FemoTrainOptions o;
  gchar *out = NULL, *err = NULL;

  tiny_run (&o, model);
  o.schedule = g_strdup ("plateau");
  train_ok (&o);

  g_assert_cmpint (run_tool (&out, NULL, "eval", "--model", model, "--data",
          data_path, "--json", "--svg", svg, NULL), ==, 0);
  root = femo_json_parse (out, strlen (out), &error);
  g_free (out);
  g_assert_no_error (error);
  g_assert_cmpint (femo_json_get_int (femo_json_object_get (root, "n")), ==,
      21);
  g_assert_cmpuint (femo_json_get_length (femo_json_object_get (root,
              "confusion")), ==, 7);
  g_assert_nonnull (femo_json_object_get (root, "macro_f1"));
  g_assert_true (g_file_test (svg, G_FILE_TEST_EXISTS));

  /* No PrivateTest rows here: a clear failure. */
  g_assert_cmpint (run_tool (NULL, &err, "eval", "--model", model, "--data",
          data_path, "--usage", "PrivateTest", NULL), ==, 1);
  g_assert_nonnull (strstr (err, "has no PrivateTest rows"));
  g_free (err);
  g_assert_cmpint (run_tool (NULL, &err, "eval", "--model", model, "--data",
          data_path, "--usage", "Private", NULL), ==, 1);
  g_assert_nonnull (strstr (err, "--usage must be Training, PublicTest or "
          "PrivateTest, not 'Private'"));
  g_free (err);

  /* -j is --threads in every command, its value glued on as in other
   * tools */
  g_assert_cmpint (run_tool (&out, NULL, "eval", "-j1", "-m", model,
          "-d", data_path, "--json", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "\"confusion\""));
  g_free (out);
  /* 0: all cores, as train's -j 0 */
  g_assert_cmpint (run_tool (&out, NULL, "eval", "-j0", "-m", model,
          "-d", data_path, "--json", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "\"confusion\""));
  g_free (out);
  g_assert_cmpint (run_tool (NULL, &err, "eval", "-j-1", "-m", model,
          "-d", data_path, NULL), ==, 1);
  g_assert_nonnull (strstr (err, "--threads must be 0 (all cores) to 1024, "
          "not -1"));
  g_free (err);
  g_assert_cmpint (run_tool (NULL, &err, "train", "-j-1", "-d", data_path,
          "-o", model, NULL), ==, 1);
  g_assert_nonnull (strstr (err, "--threads must be 1..1024, not -1"));
  g_free (err);

  /* "nan" and "inf" parse as numbers, but no option means them */
  g_assert_cmpint (run_tool (NULL, &err, "train", "--lr", "nan", "-d",
          data_path, "-o", model, NULL), ==, 2);
  g_assert_nonnull (strstr (err, "--lr must be a finite number, not 'nan'"));
  g_free (err);
  g_assert_cmpint (run_tool (NULL, &err, "train", "--mixup=inf", "-d",
          data_path, "-o", model, NULL), ==, 2);
  g_assert_nonnull (strstr (err, "--mixup must be a finite number, not "
          "'inf'"));
  g_free (err);

  /* a file that is not a model: said in plain words, not with the figures
   * of a header that is not there */
  g_assert_cmpint (run_tool (NULL, &err, "eval", "--model", data_path,
          "--data", data_path, NULL), ==, 1);
  if (!strstr (err, "not a safetensors file") || strstr (err, "header"))
    g_error ("expected \"not a safetensors file\", got: %s", err);
  g_free (err);
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
  FemoTrainOptions o;
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

  tiny_run (&o, out);
  o.ferplus = g_strdup (plus);
  train_ok (&o);
  model = femo_model_load (out, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (femo_model_get_metadata (model, "femo.train.ferplus"), ==,
      "ferplus.csv");
  g_assert_cmpuint (strlen (femo_model_get_metadata (model,
              "femo.train.ferplus_sha256")), ==, 64);
  /* Row 3 has no FER+ image: 69 Training rows are left. */
  g_assert_cmpstr (femo_model_get_metadata (model, "femo.train.train_rows"),
      ==, "69");

  /* --ferplus-weight: half votes, half labels - other targets, so other
   * weights - recorded in the provenance; out of range or without
   * --ferplus, refused */
  {
    g_autofree gchar *mixed = path_in ("p", "mix.safetensors");
    g_autofree gchar *a = NULL, *b = NULL;
    g_autoptr (FemoModel) m = NULL;
    gsize la, lb;

    tiny_run (&o, mixed);
    o.ferplus = g_strdup (plus);
    o.ferplus_weight = 0.5;
    train_ok (&o);
    m = femo_model_load (mixed, &error);
    g_assert_no_error (error);
    g_assert_nonnull (strstr (femo_model_get_metadata (m,
                "femo.train.options"), "--ferplus-weight 0.5"));
    a = read_all (out, &la);
    b = read_all (mixed, &lb);
    g_assert_true (la != lb || memcmp (a, b, la) != 0);
  }
  tiny_run (&o, out);
  o.ferplus = g_strdup (plus);
  o.ferplus_weight = 1.5;
  train_fails (&o, FEMO_ERROR_ARGUMENT);
  tiny_run (&o, out);
  o.ferplus_weight = 0.5;
  train_fails (&o, FEMO_ERROR_ARGUMENT);
}

/* A double option that changes what the net sees (--mixup, --erase):
 * other bytes than the plain run, recorded in the provenance as
 * @provenance, a resumed run gives the bytes of an uninterrupted one (its
 * draws come from streams keyed by epoch and position), and each of @bad
 * is refused. */
static void
check_double_option (const gchar * tag, glong offset, gdouble value,
    const gchar * provenance, const gdouble * bad, guint n_bad)
{
  g_autofree gchar *x = path_in ("x", "m.safetensors");
  g_autofree gchar *plain_dir = g_strdup_printf ("%s0", tag);
  g_autofree gchar *once_dir = g_strdup_printf ("%s1", tag);
  g_autofree gchar *resumed_dir = g_strdup_printf ("%s2", tag);
  g_autofree gchar *plain = path_in (plain_dir, "m.safetensors");
  g_autofree gchar *changed = path_in (once_dir, "m.safetensors");
  g_autoptr (FemoModel) model = NULL;
  g_autoptr (GError) error = NULL;
  FemoTrainOptions o;
  guint i;

  short_run (&o, x);
  train_ok (&o);
  move_dir ("x", plain_dir);
  short_run (&o, x);
  G_STRUCT_MEMBER (gdouble, &o, offset) = value;
  train_ok (&o);
  move_dir ("x", once_dir);
  short_run (&o, x);
  G_STRUCT_MEMBER (gdouble, &o, offset) = value;
  o.stop_after = 1;
  train_ok (&o);
  {
    g_autofree gchar *ckpt = path_in ("x", "m.ckpt");

    resume_ok (ckpt);
  }
  move_dir ("x", resumed_dir);
  assert_same_run (once_dir, resumed_dir);
  {
    gsize la, lb;
    g_autofree gchar *a = read_all (plain, &la);
    g_autofree gchar *b = read_all (changed, &lb);

    g_assert_true (la != lb || memcmp (a, b, la) != 0);
  }
  model = femo_model_load (changed, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (femo_model_get_metadata (model,
              "femo.train.options"), provenance));

  for (i = 0; i < n_bad; i++) {
    short_run (&o, x);
    G_STRUCT_MEMBER (gdouble, &o, offset) = bad[i];
    train_fails (&o, FEMO_ERROR_ARGUMENT);
  }
}

static void
test_mixup (void)
{
  static const gdouble bad[] = { -0.5, 101.0, INFINITY };

  check_double_option ("u", G_STRUCT_OFFSET (FemoTrainOptions, mixup), 0.4,
      "--mixup 0.4", bad, G_N_ELEMENTS (bad));
}

/* --erase: as --mixup, and it is refused with --no-augment. */
static void
test_erase (void)
{
  static const gdouble bad[] = { -0.1, 1.5, INFINITY };
  g_autofree gchar *x = path_in ("x", "m.safetensors");
  FemoTrainOptions o;

  check_double_option ("r", G_STRUCT_OFFSET (FemoTrainOptions, erase), 0.5,
      "--erase 0.5", bad, G_N_ELEMENTS (bad));
  short_run (&o, x);
  o.erase = 0.5;
  o.no_augment = TRUE;
  train_fails (&o, FEMO_ERROR_ARGUMENT);
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
  FemoTrainOptions o;
  gsize len;

  short_run (&o, first);
  train_ok (&o);
  short_run (&o, second);
  o.init = g_strdup (first);
  train_ok (&o);
  model = femo_model_load (second, &error);
  g_assert_no_error (error);
  bytes = read_all (first, &len);
  digest = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (guchar *) bytes,
      len);
  g_assert_cmpstr (femo_model_get_metadata (model, "femo.train.init"), ==,
      "m.safetensors");
  g_assert_cmpstr (femo_model_get_metadata (model, "femo.train.init_sha256"),
      ==, digest);

  tiny_run (&o, wrong);
  o.init = g_strdup (first);
  train_fails (&o, FEMO_ERROR_ARGUMENT);
  g_assert_false (g_file_test (wrong, G_FILE_TEST_EXISTS));
}

/* Keeps each notice as "I MESSAGE" or "W MESSAGE". */
static void
keep_notice (FemoTrainerNotice kind, const gchar * message, gpointer data)
{
  g_ptr_array_add (data, g_strdup_printf ("%c %s",
          kind == FEMO_TRAINER_NOTICE_WARNING ? 'W' : 'I', message));
}

static void
test_bad_data (void)
{
  g_autofree gchar *good = synthetic_csv (20, 5);
  g_autofree gchar *bad_path = path_in ("", "bad.csv");
  g_autofree gchar *out = path_in ("f", "m.safetensors");
  g_autofree gchar *ckpt = path_in ("f", "m.ckpt");
  g_autoptr (GPtrArray) notices = g_ptr_array_new_with_free_func (g_free);
  FemoTrainerCallbacks callbacks = { keep_notice, NULL, NULL, notices };
  FemoTrainer *trainer;
  FemoTrainOptions o;
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

  femo_train_options_init (&o);
  o.data = g_strdup (bad_path);
  o.out = g_strdup (out);
  train_fails (&o, FEMO_ERROR_PARSE);
  g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (ckpt, G_FILE_TEST_EXISTS));
  /* Skipped, the row is reported; the four rows left have no PublicTest
   * row to validate on. */
  femo_train_options_init (&o);
  o.data = g_strdup (bad_path);
  o.out = g_strdup (out);
  o.skip_bad = TRUE;
  trainer = femo_trainer_new (&o, &callbacks, &error);
  femo_train_options_clear (&o);
  g_assert_null (trainer);
  g_assert_error (error, FEMO_ERROR, FEMO_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_cmpuint (notices->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (notices, 0), ==, "W skipped 1 "
      "malformed rows of 5 (first: bad.csv:6: expected 2304 pixels, found 3)");
  /* Bad options fail before anything is read. */
  short_run (&o, out);
  g_free (o.channels);
  o.channels = g_strdup ("8,8,16");
  train_fails (&o, FEMO_ERROR_ARGUMENT);
  short_run (&o, out);
  o.batch = 1;
  train_fails (&o, FEMO_ERROR_ARGUMENT);
  short_run (&o, out);
  g_clear_pointer (&o.out, g_free);
  train_fails (&o, FEMO_ERROR_ARGUMENT);
  g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
}

/* Weight averaging: the CSV shows the average's accuracy from --swa-start
 * on, and a run stopped and resumed in the averaging phase (the average is
 * in the checkpoint) gives the bytes of an uninterrupted one. */
static void
swa_run (FemoTrainOptions * o, const gchar * out)
{
  short_run (o, out);
  o->epochs = 3;
  o->swa_start = 2;
}

static void
test_swa (void)
{
  g_autofree gchar *x = path_in ("x", "m.safetensors");
  g_autofree gchar *csv_path = path_in ("s1", "m.metrics.csv");
  g_autofree gchar *csv = NULL;
  g_auto (GStrv) lines = NULL;
  FemoTrainOptions o;

  swa_run (&o, x);
  train_ok (&o);
  move_dir ("x", "s1");
  swa_run (&o, x);
  o.stop_after = 2;
  train_ok (&o);
  {
    g_autofree gchar *ckpt = path_in ("x", "m.ckpt");

    resume_ok (ckpt);
  }
  move_dir ("x", "s2");
  assert_same_run ("s1", "s2");
  csv = read_all (csv_path, NULL);
  lines = g_strsplit (csv, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 5);
  g_assert_true (g_str_has_suffix (lines[1], ","));     /* epoch 1: none */
  g_assert_false (g_str_has_suffix (lines[2], ","));
  g_assert_false (g_str_has_suffix (lines[3], ","));

  /* --swa-lr holds the rate from --swa-start on. */
  swa_run (&o, x);
  o.swa_lr = 0.002;
  train_ok (&o);
  move_dir ("x", "s3");
  {
    g_autofree gchar *p = path_in ("s3", "m.metrics.csv");
    g_autofree gchar *text = read_all (p, NULL);
    g_auto (GStrv) rows = g_strsplit (text, "\n", -1);

    g_assert_true (g_str_has_prefix (rows[1], "1,0.01,"));
    g_assert_true (g_str_has_prefix (rows[2], "2,0.002,"));
    g_assert_true (g_str_has_prefix (rows[3], "3,0.002,"));
  }
  short_run (&o, x);
  o.swa_lr = 0.002;
  train_fails (&o, FEMO_ERROR_ARGUMENT);

  /* An average needs recomputed BN statistics, and must start in the run. */
  short_run (&o, x);
  o.swa_start = 1;
  o.bn_images = 0;
  train_fails (&o, FEMO_ERROR_ARGUMENT);
  short_run (&o, x);
  o.swa_start = 3;
  train_fails (&o, FEMO_ERROR_ARGUMENT);
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
  FemoTrainOptions o;
  guint i, c, hits = 0;

  short_run (&o, teacher);
  train_ok (&o);
  short_run (&o, other);
  o.seed = 8;
  train_ok (&o);
  {
    g_autoptr (GPtrArray) notices = g_ptr_array_new_with_free_func (g_free);
    FemoTrainerCallbacks callbacks = { keep_notice, NULL, NULL, notices };
    g_autoptr (FemoTrainer) trainer = NULL;
    g_autofree gchar *expected = g_strdup_printf ("I distilling from %s "
        "(weight 0.7)", teacher);

    short_run (&o, student);
    o.teacher = g_strdup (teacher);
    o.distill = 0.7;
    o.stop_after = 1;
    trainer = femo_trainer_new (&o, &callbacks, &error);
    femo_train_options_clear (&o);
    g_assert_no_error (error);
    g_assert_true (femo_trainer_run (trainer, &error));
    g_assert_false (femo_trainer_is_finished (trainer));
    g_assert_cmpuint (notices->len, ==, 1);
    g_assert_cmpstr (g_ptr_array_index (notices, 0), ==, expected);
  }
  /* the teacher changed under the checkpoint */
  {
    g_autofree gchar *bytes = NULL;
    gsize len;
    GError *e = NULL;

    bytes = read_all (other, &len);
    g_file_set_contents (teacher, bytes, len, &e);
    g_assert_no_error (e);
  }
  femo_train_options_init (&o);
  o.resume = g_strdup (ckpt);
  train_fails (&o, FEMO_ERROR_INVALID);
  short_run (&o, other);
  o.teacher = g_strdup (teacher);
  o.distill = 1.5;
  train_fails (&o, FEMO_ERROR_ARGUMENT);

  model = femo_model_load (student, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (femo_model_get_metadata (model, "femo.train.teacher"), ==,
      "m.safetensors");
  g_assert_nonnull (strstr (femo_model_get_metadata (model,
              "femo.train.options"), "--distill 0.7"));

  /* an ensemble: the mean of the teachers' probabilities, so a teacher
   * twice gives the student of that teacher alone; both named in the
   * provenance; an empty name in the list is refused */
  {
    g_autofree gchar *single = path_in ("t4", "m.safetensors");
    g_autofree gchar *twice = path_in ("t5", "m.safetensors");
    g_autofree gchar *both = path_in ("t6", "m.safetensors");
    g_autoptr (FemoFerData) d = femo_fer_load (data_path,
        FEMO_FER_FLAGS_NONE, &error);
    const FemoFerSplit *val;
    const gchar *sha;
    gfloat *p[2];

    g_assert_no_error (error);
    val = &d->splits[FEMO_FER_PUBLIC_TEST];
    short_run (&o, single);
    o.teacher = g_strdup (teacher);
    train_ok (&o);
    short_run (&o, twice);
    o.teacher = g_strdup_printf ("%s,%s", teacher, teacher);
    train_ok (&o);
    for (i = 0; i < 2; i++) {
      g_autoptr (FemoModel) m = femo_model_load (i ? twice : single, &error);

      g_assert_no_error (error);
      p[i] = g_new (gfloat, (gsize) val->n * 7);
      femo_evaluate_probabilities (m, val, 1, p[i]);
    }
    g_assert_cmpmem (p[0], val->n * 7 * sizeof (gfloat), p[1],
        val->n * 7 * sizeof (gfloat));
    g_free (p[0]);
    g_free (p[1]);

    /* (the teacher file now holds other's bytes: see above) */
    short_run (&o, both);
    o.teacher = g_strdup_printf ("%s,%s", teacher, student);
    train_ok (&o);
    {
      g_autoptr (FemoModel) m = femo_model_load (both, &error);

      g_assert_no_error (error);
      g_assert_cmpstr (femo_model_get_metadata (m, "femo.train.teacher"), ==,
          "m.safetensors,m.safetensors");
      sha = femo_model_get_metadata (m, "femo.train.teacher_sha256");
      g_assert_cmpuint (strlen (sha), ==, 2 * 64 + 1);
      g_assert_cmpint (sha[64], ==, ',');
      g_assert_true (strncmp (sha, sha + 65, 64) != 0);
    }
    short_run (&o, both);
    o.teacher = g_strdup_printf ("%s,,%s", teacher, other);
    train_fails (&o, FEMO_ERROR_ARGUMENT);
  }

  data = femo_fer_load (data_path, FEMO_FER_FLAGS_NONE, &error);
  g_assert_no_error (error);
  split = &data->splits[FEMO_FER_PUBLIC_TEST];
  probs = g_new (gfloat, (gsize) split->n * 7);
  femo_evaluate_probabilities (model, split, 2, probs);
  femo_evaluate_split (model, split, NULL, 2, FALSE, confusion);
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

  /* with flip: the arg-max of the mean of each image's and its mirror
   * image's probabilities */
  {
    g_autoptr (FemoConfusion) flipped = femo_confusion_new (7);
    FemoInfer *infer = femo_infer_new (model);
    guint flip_hits = 0;
    gfloat p[7];

    femo_infer_set_flip (infer, TRUE);
    /* the loss moves: flip reached the forward pass */
    g_assert_cmpfloat (femo_evaluate_split (model, split, NULL, 2, TRUE,
            flipped), !=, femo_evaluate_split (model, split, NULL, 2, FALSE,
            NULL));
    for (i = 0; i < split->n; i++) {
      guint best = 0;

      femo_infer_run (infer, split->pixels + (gsize) i * FEMO_FER_PIXELS, 1,
          p, NULL);
      for (c = 1; c < 7; c++)
        if (p[c] > p[best])
          best = c;
      flip_hits += best == split->labels[i];
    }
    g_assert_cmpfloat (femo_confusion_accuracy (flipped), ==,
        (gdouble) flip_hits / split->n);
    femo_infer_free (infer);
  }
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
 * file, gst-femo prints it on one line, and nothing is written. */
static void
test_missing_file (gconstpointer data)
{
  const gchar *option = data;
  const gchar *missing = "/nonexistent/no-such-file";
  g_autofree gchar *out = path_in ("", "missing.safetensors");
  g_autofree gchar *pattern = g_strdup_printf ("gst-femo train: %s: Failed "
      "to open file*no-such-file*\n", option);
  g_autoptr (GError) error = NULL;
  g_autofree gchar *err = NULL;
  FemoTrainOptions o;

  short_run (&o, out);
  if (g_str_equal (option, "--init"))
    o.init = g_strdup (missing);
  else if (g_str_equal (option, "--teacher"))
    o.teacher = g_strdup (missing);
  else
    o.ferplus = g_strdup (missing);
  g_assert_false (train (&o, &error));
  g_assert_error (error, FEMO_ERROR, FEMO_ERROR_IO);

  g_assert_cmpint (run_tool (NULL, &err, "train", "--data", data_path,
          "--out", out, option, missing, NULL), ==, 1);
  if (!g_pattern_match_simple (pattern, err) || strchr (err, '\n')[1] != '\0')
    g_error ("expected one line \"%s\", got: %s", pattern, err);
  g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
}

int
main (int argc, char **argv)
{
  GError *error = NULL;
  g_autofree gchar *csv = synthetic_csv (70, 21);
  const gchar *const dirs[] = { "x", "e", "f", "p", "d" };
  int ret;
  guint i;

  g_test_init (&argc, &argv, NULL);
  gst_femo = argc > 1 ? argv[1] : g_getenv ("FEMO_GST_FEMO");
  if (!gst_femo)
    g_error ("usage: test-train GST-FEMO (or FEMO_GST_FEMO set)");
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
  g_test_add_func ("/train/defaults", test_defaults);
  g_test_add_func ("/train/eval", test_eval);
  g_test_add_func ("/train/ferplus", test_ferplus);
  g_test_add_func ("/train/init", test_init);
  g_test_add_func ("/train/mixup", test_mixup);
  g_test_add_func ("/train/erase", test_erase);
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
