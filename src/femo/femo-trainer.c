/* gst-femo: the trainer of the emotion network on FER2013 (see
 * femo-trainer.h)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "femo-trainer.h"
#include "femo-augment.h"
#include "femo-checkpoint.h"
#include "femo-error.h"
#include "femo-evaluate.h"
#include "femo-fer.h"
#include "femo-net.h"
#include "femo-optim.h"
#include "femo-rng.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

/* Images per forward pass when recomputing BN statistics (--bn-images). */
#define BN_BATCH 256

/* ---- options ---- */

#define OPT(name, kind, field, value, change) \
  { name, FEMO_TRAIN_OPTION_##kind, G_STRUCT_OFFSET (FemoTrainOptions, field), \
    value, change, NULL }
#define OPT_ADDED(name, kind, field, value, before) \
  { name, FEMO_TRAIN_OPTION_##kind, G_STRUCT_OFFSET (FemoTrainOptions, field), \
    value, FALSE, before }

/* The order is that of the checkpoint's [options] and of the provenance:
 * a new option goes at the end, with the value that behaves as before. */
static const FemoTrainOptionSpec opt_specs[] = {
  OPT ("epochs", INT, epochs, "60", FALSE),
  OPT ("batch", INT, batch, "32", FALSE),
  OPT ("lr", DOUBLE, lr, "0.003", FALSE),
  OPT ("weight-decay", DOUBLE, weight_decay, "0.01", FALSE),
  OPT ("schedule", STRING, schedule, "cosine", FALSE),
  OPT ("warmup", INT, warmup, "2", FALSE),
  OPT ("label-smoothing", DOUBLE, label_smoothing, "0", FALSE),
  OPT ("seed", INT, seed, "1", FALSE),
  OPT ("channels", STRING, channels, "8,8,16,32,64,128", FALSE),
  OPT ("patience", INT, patience, "25", TRUE),
  OPT ("threads", INT, threads, "0", TRUE),
  OPT ("skip-bad", FLAG, skip_bad, "false", FALSE),
  OPT ("no-augment", FLAG, no_augment, "false", FALSE),
  OPT_ADDED ("bn-images", INT, bn_images, "8192", "0"),
  OPT_ADDED ("swa-start", INT, swa_start, "0", "0"),
  OPT_ADDED ("swa-lr", DOUBLE, swa_lr, "0", "0"),
  OPT_ADDED ("distill", DOUBLE, distill, "0.5", "0.5"),
  OPT_ADDED ("ferplus-weight", DOUBLE, ferplus_weight, "1", "1"),
  OPT_ADDED ("mixup", DOUBLE, mixup, "0", "0"),
  OPT_ADDED ("erase", DOUBLE, erase, "0", "0"),
};

const FemoTrainOptionSpec *
femo_train_option_specs (guint * n_specs)
{
  *n_specs = G_N_ELEMENTS (opt_specs);
  return opt_specs;
}

static gint64 *
opt_int (FemoTrainOptions * o, const FemoTrainOptionSpec * spec)
{
  return &G_STRUCT_MEMBER (gint64, o, spec->offset);
}

static gdouble *
opt_double (FemoTrainOptions * o, const FemoTrainOptionSpec * spec)
{
  return &G_STRUCT_MEMBER (gdouble, o, spec->offset);
}

static gchar **
opt_string (FemoTrainOptions * o, const FemoTrainOptionSpec * spec)
{
  return &G_STRUCT_MEMBER (gchar *, o, spec->offset);
}

static gboolean *
opt_flag (FemoTrainOptions * o, const FemoTrainOptionSpec * spec)
{
  return &G_STRUCT_MEMBER (gboolean, o, spec->offset);
}

static gboolean
opt_is_set (FemoTrainOptions * o, const FemoTrainOptionSpec * spec)
{
  switch (spec->kind) {
    case FEMO_TRAIN_OPTION_INT:
      return *opt_int (o, spec) != FEMO_TRAIN_UNSET_INT;
    case FEMO_TRAIN_OPTION_DOUBLE:
      return !isnan (*opt_double (o, spec));
    case FEMO_TRAIN_OPTION_STRING:
      return *opt_string (o, spec) != NULL;
    case FEMO_TRAIN_OPTION_FLAG:
      return *opt_flag (o, spec);
  }
  return FALSE;
}

/* The value as the checkpoint keeps it: exact (doubles round-trip). */
static gchar *
opt_to_string (FemoTrainOptions * o, const FemoTrainOptionSpec * spec)
{
  gchar buf[G_ASCII_DTOSTR_BUF_SIZE];

  switch (spec->kind) {
    case FEMO_TRAIN_OPTION_INT:
      return g_strdup_printf ("%" G_GINT64_FORMAT, *opt_int (o, spec));
    case FEMO_TRAIN_OPTION_DOUBLE:
      return g_strdup (g_ascii_dtostr (buf, sizeof (buf),
              *opt_double (o, spec)));
    case FEMO_TRAIN_OPTION_STRING:
      return g_strdup (*opt_string (o, spec));
    case FEMO_TRAIN_OPTION_FLAG:
      return g_strdup (*opt_flag (o, spec) ? "true" : "false");
  }
  return NULL;
}

static gboolean
opt_from_string (FemoTrainOptions * o, const FemoTrainOptionSpec * spec,
    const gchar * value)
{
  gchar *end = NULL;

  switch (spec->kind) {
    case FEMO_TRAIN_OPTION_INT:
      *opt_int (o, spec) = g_ascii_strtoll (value, &end, 10);
      return end != value && *end == '\0';
    case FEMO_TRAIN_OPTION_DOUBLE:
      *opt_double (o, spec) = g_ascii_strtod (value, &end);
      return end != value && *end == '\0';
    case FEMO_TRAIN_OPTION_STRING:
      g_free (*opt_string (o, spec));
      *opt_string (o, spec) = g_strdup (value);
      return TRUE;
    case FEMO_TRAIN_OPTION_FLAG:
      *opt_flag (o, spec) = g_strcmp0 (value, "true") == 0;
      return g_strcmp0 (value, "true") == 0 || g_strcmp0 (value, "false") == 0;
  }
  return FALSE;
}

/* "--epochs 60 --batch 32 ...": every option that shapes the model, short
 * numbers, for the provenance metadata. */
static gchar *
options_summary (FemoTrainOptions * o)
{
  GPtrArray *parts = g_ptr_array_new_with_free_func (g_free);
  gchar *summary;
  guint i;

  for (i = 0; i < G_N_ELEMENTS (opt_specs); i++) {
    const FemoTrainOptionSpec *spec = &opt_specs[i];
    gchar buf[G_ASCII_DTOSTR_BUF_SIZE];

    /* An option added later, at the value that behaves as before it
     * existed, is left out: older runs keep their provenance bytes. */
    if (spec->before) {
      g_autofree gchar *v = opt_to_string (o, spec);

      if (strcmp (v, spec->before) == 0)
        continue;
    }
    switch (spec->kind) {
      case FEMO_TRAIN_OPTION_INT:
        g_ptr_array_add (parts, g_strdup_printf ("--%s %" G_GINT64_FORMAT,
                spec->name, *opt_int (o, spec)));
        break;
      case FEMO_TRAIN_OPTION_DOUBLE:
        g_ptr_array_add (parts, g_strdup_printf ("--%s %s", spec->name,
                g_ascii_formatd (buf, sizeof (buf), "%g",
                    *opt_double (o, spec))));
        break;
      case FEMO_TRAIN_OPTION_STRING:
        g_ptr_array_add (parts, g_strdup_printf ("--%s %s", spec->name,
                *opt_string (o, spec)));
        break;
      case FEMO_TRAIN_OPTION_FLAG:
        if (*opt_flag (o, spec))
          g_ptr_array_add (parts, g_strdup_printf ("--%s", spec->name));
        break;
    }
  }
  g_ptr_array_add (parts, NULL);
  summary = g_strjoinv (" ", (gchar **) parts->pdata);
  g_ptr_array_unref (parts);
  return summary;
}

/* The string fields outside the table: the files. */
static const gsize file_fields[] = {
  G_STRUCT_OFFSET (FemoTrainOptions, data),
  G_STRUCT_OFFSET (FemoTrainOptions, out),
  G_STRUCT_OFFSET (FemoTrainOptions, resume),
  G_STRUCT_OFFSET (FemoTrainOptions, ferplus),
  G_STRUCT_OFFSET (FemoTrainOptions, teacher),
  G_STRUCT_OFFSET (FemoTrainOptions, init),
};

/* Calls @func on the address of each string of @o. */
static void
options_foreach_string (FemoTrainOptions * o, void (*func) (gchar ** string))
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (opt_specs); i++)
    if (opt_specs[i].kind == FEMO_TRAIN_OPTION_STRING)
      func (opt_string (o, &opt_specs[i]));
  for (i = 0; i < G_N_ELEMENTS (file_fields); i++)
    func (&G_STRUCT_MEMBER (gchar *, o, file_fields[i]));
}

void
femo_train_options_init (FemoTrainOptions * o)
{
  guint i;

  memset (o, 0, sizeof (*o));
  for (i = 0; i < G_N_ELEMENTS (opt_specs); i++) {
    const FemoTrainOptionSpec *spec = &opt_specs[i];

    if (spec->kind == FEMO_TRAIN_OPTION_INT)
      *opt_int (o, spec) = FEMO_TRAIN_UNSET_INT;
    else if (spec->kind == FEMO_TRAIN_OPTION_DOUBLE)
      *opt_double (o, spec) = NAN;
  }
}

static void
string_free (gchar ** string)
{
  g_clear_pointer (string, g_free);
}

void
femo_train_options_clear (FemoTrainOptions * o)
{
  options_foreach_string (o, string_free);
}

static void
string_dup (gchar ** string)
{
  *string = g_strdup (*string);
}

static void
options_copy (FemoTrainOptions * dst, const FemoTrainOptions * src)
{
  *dst = *src;
  options_foreach_string (dst, string_dup);
}

/* Range checks; @channels gets the parsed widths. */
static gboolean
options_check (FemoTrainOptions * o, guint channels[FEMO_NET_N_WIDTHS],
    GError ** error)
{
  g_auto (GStrv) parts = g_strsplit (o->channels, ",", -1);
  guint i;

#define REJECT(...) G_STMT_START { \
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_ARGUMENT, __VA_ARGS__); \
    return FALSE; } G_STMT_END

  if (o->epochs < 1 || o->epochs > 100000)
    REJECT ("--epochs must be 1..100000, not %" G_GINT64_FORMAT, o->epochs);
  if (o->batch < 2 || o->batch > 65536)
    REJECT ("--batch must be 2..65536 (batch norm needs two images), not %"
        G_GINT64_FORMAT, o->batch);
  if (!(o->lr > 0.0 && o->lr < 10.0))
    REJECT ("--lr must be above 0 and below 10");
  if (!(o->weight_decay >= 0.0 && o->weight_decay * o->lr < 1.0))
    REJECT ("--weight-decay must be at least 0 and below 1/lr");
  if (g_strcmp0 (o->schedule, "cosine") != 0
      && g_strcmp0 (o->schedule, "plateau") != 0)
    REJECT ("--schedule must be cosine or plateau, not '%s'", o->schedule);
  if (o->warmup < 0 || o->warmup > o->epochs)
    REJECT ("--warmup must be 0..epochs, not %" G_GINT64_FORMAT, o->warmup);
  if (!(o->label_smoothing >= 0.0 && o->label_smoothing < 1.0))
    REJECT ("--label-smoothing must be in [0, 1)");
  if (o->seed < 0)
    REJECT ("--seed must not be negative");
  if (o->threads < 1 || o->threads > 1024)
    REJECT ("--threads must be 1..1024, not %" G_GINT64_FORMAT, o->threads);
  if (o->patience < 0)
    REJECT ("--patience must be 0 (never stop early) or more");
  if (o->bn_images != 0 && (o->bn_images < 2 || o->bn_images > 1000000))
    REJECT ("--bn-images must be 0 (keep the running averages) or 2..1000000, "
        "not %" G_GINT64_FORMAT, o->bn_images);
  if (o->swa_start < 0 || o->swa_start > o->epochs)
    REJECT ("--swa-start must be 0 (no weight averaging) or 1..epochs, not %"
        G_GINT64_FORMAT, o->swa_start);
  if (!(o->swa_lr >= 0.0 && o->swa_lr < 10.0))
    REJECT ("--swa-lr must be 0 (follow the schedule) or a rate below 10");
  if (o->swa_lr > 0.0 && (o->swa_start < 2 || o->warmup >= o->swa_start))
    REJECT ("--swa-lr needs --swa-start after the warm-up (the schedule "
        "runs before it)");
  if (!(o->distill >= 0.0 && o->distill <= 1.0))
    REJECT ("--distill must be in [0, 1]");
  if (!(o->ferplus_weight >= 0.0 && o->ferplus_weight <= 1.0))
    REJECT ("--ferplus-weight must be in [0, 1]");
  if (o->ferplus_weight != 1.0 && !o->ferplus)
    REJECT ("--ferplus-weight needs --ferplus");
  if (!(o->mixup >= 0.0 && o->mixup <= 100.0))
    REJECT ("--mixup must be 0 (off) or a Beta shape up to 100");
  if (!(o->erase >= 0.0 && o->erase <= 1.0))
    REJECT ("--erase must be a probability in [0, 1]");
  if (o->erase > 0.0 && o->no_augment)
    REJECT ("--erase is an augmentation: it cannot go with --no-augment");
  if (o->swa_start > 0 && o->bn_images == 0)
    REJECT ("--swa-start needs --bn-images: averaged weights have no batch "
        "statistics of their own");
  if (o->stop_after < 0)
    REJECT ("--stop-after must be 0 (run to the end) or more");
  if (g_strv_length (parts) != FEMO_NET_N_WIDTHS)
    REJECT ("--channels needs %d widths (stem, stem, block1..block4), "
        "not '%s'", FEMO_NET_N_WIDTHS, o->channels);
  for (i = 0; i < FEMO_NET_N_WIDTHS; i++) {
    gchar *end = NULL;
    gint64 w = g_ascii_strtoll (parts[i], &end, 10);

    if (end == parts[i] || *end || w < 1 || w > FEMO_NET_MAX_WIDTH)
      REJECT ("--channels: '%s' is not a width 1..%d", parts[i],
          FEMO_NET_MAX_WIDTH);
    channels[i] = w;
  }
#undef REJECT
  return TRUE;
}

/* ---- output names ---- */

/* DIR/NAME.safetensors -> DIR/NAME; other names are kept whole. */
static gchar *
output_stem (const gchar * out)
{
  if (g_str_has_suffix (out, ".safetensors"))
    return g_strndup (out, strlen (out) - strlen (".safetensors"));
  return g_strdup (out);
}

/* ---- the run ---- */

struct _FemoTrainer
{
  FemoTrainOptions opt;
  guint channels[FEMO_NET_N_WIDTHS];
  gchar *stem;
  gchar *checkpoint_path;
  gchar *summary;

  FemoFerData *data;
  FemoFerSplit *train;
  FemoFerSplit *val;
  gchar *ferplus_sha256;
  gchar *teacher_sha256;
  gchar *init_name;             /* --init: file name and sha256, provenance */
  gchar *init_sha256;

  FemoNet *net;
  FemoAdam *adam;
  gfloat *swa;                  /* mean of the weights after each epoch from
                                 * --swa-start on (n_params floats) */
  guint swa_count;

  /* Progress, all saved in the checkpoint. */
  guint epoch;                  /* epochs done */
  gboolean finished;
  gdouble best_accuracy;
  guint best_epoch;
  gdouble plateau_lr;
  gdouble plateau_best_loss;
  guint plateau_wait;
  GArray *history;              /* FemoEpochMetrics */

  FemoTrainerCallbacks callbacks;
};

void
femo_trainer_free (FemoTrainer * t)
{
  if (!t)
    return;
  femo_train_options_clear (&t->opt);
  g_free (t->stem);
  g_free (t->checkpoint_path);
  g_free (t->summary);
  femo_fer_data_free (t->data);
  g_free (t->ferplus_sha256);
  g_free (t->teacher_sha256);
  g_free (t->init_name);
  g_free (t->init_sha256);
  g_free (t->swa);
  if (t->net)
    femo_net_free (t->net);
  femo_adam_free (t->adam);
  if (t->history)
    g_array_unref (t->history);
  g_free (t);
}

static guint
steps_per_epoch (FemoTrainer * t)
{
  guint n = t->train->n, b = t->opt.batch;

  /* A last short batch is kept unless it has a single image. */
  return n / b + (n % b >= 2 ? 1 : 0);
}

/* The learning rate for optimiser step @step (0-based, counted over the
 * whole run). */
static gdouble
learning_rate (FemoTrainer * t, guint64 step)
{
  guint64 per = steps_per_epoch (t);
  guint64 warm = per * t->opt.warmup, total = per * t->opt.epochs;
  gdouble progress;

  /* --swa-lr: constant from --swa-start on, the schedule fits before */
  if (t->opt.swa_lr > 0.0) {
    total = per * (t->opt.swa_start - 1);
    if (step >= total)
      return t->opt.swa_lr;
  }
  if (g_strcmp0 (t->opt.schedule, "plateau") == 0)
    return t->plateau_lr;
  if (step < warm)
    return t->opt.lr * (step + 1) / warm;
  progress = total > warm ? (gdouble) (step - warm) / (total - warm) : 1.0;
  progress = MIN (progress, 1.0);
  return t->opt.lr * (FEMO_TRAIN_COSINE_FLOOR + (1.0 -
          FEMO_TRAIN_COSINE_FLOOR) * 0.5 * (1.0 + cos (G_PI * progress)));
}

/* ---- checkpoint ---- */

static gchar *
history_line (const FemoEpochMetrics * m)
{
  gchar a[G_ASCII_DTOSTR_BUF_SIZE], b[G_ASCII_DTOSTR_BUF_SIZE],
      c[G_ASCII_DTOSTR_BUF_SIZE], d[G_ASCII_DTOSTR_BUF_SIZE],
      e[G_ASCII_DTOSTR_BUF_SIZE], f[G_ASCII_DTOSTR_BUF_SIZE];

  return g_strdup_printf ("%s;%s;%s;%s;%s;%s",
      g_ascii_dtostr (a, sizeof (a), m->lr),
      g_ascii_dtostr (b, sizeof (b), m->train_loss),
      g_ascii_dtostr (c, sizeof (c), m->train_accuracy),
      g_ascii_dtostr (d, sizeof (d), m->val_loss),
      g_ascii_dtostr (e, sizeof (e), m->val_accuracy),
      g_ascii_dtostr (f, sizeof (f), m->swa_accuracy));
}

/* The [options], [files], [state] and [history] of the checkpoint. */
static GKeyFile *
checkpoint_state (FemoTrainer * t)
{
  GKeyFile *kf = g_key_file_new ();
  guint i;

  for (i = 0; i < G_N_ELEMENTS (opt_specs); i++) {
    g_autofree gchar *v = opt_to_string (&t->opt, &opt_specs[i]);

    g_key_file_set_string (kf, "options", opt_specs[i].name, v);
  }
  g_key_file_set_string (kf, "files", "data", t->opt.data);
  g_key_file_set_string (kf, "files", "data-sha256", t->data->sha256);
  {
    /* The checkpoint lies next to --out: keep the name only, so that the
     * directory can move. */
    g_autofree gchar *out_name = g_path_get_basename (t->opt.out);

    g_key_file_set_string (kf, "files", "out-name", out_name);
  }
  if (t->init_name) {
    g_key_file_set_string (kf, "files", "init-name", t->init_name);
    g_key_file_set_string (kf, "files", "init-sha256", t->init_sha256);
  }
  if (t->opt.ferplus) {
    g_key_file_set_string (kf, "files", "ferplus", t->opt.ferplus);
    g_key_file_set_string (kf, "files", "ferplus-sha256", t->ferplus_sha256);
  }
  if (t->opt.teacher) {
    g_key_file_set_string (kf, "files", "teacher", t->opt.teacher);
    g_key_file_set_string (kf, "files", "teacher-sha256", t->teacher_sha256);
  }
  g_key_file_set_uint64 (kf, "state", "epoch", t->epoch);
  g_key_file_set_uint64 (kf, "state", "finished", t->finished ? 1 : 0);
  g_key_file_set_double (kf, "state", "best-accuracy", t->best_accuracy);
  g_key_file_set_uint64 (kf, "state", "best-epoch", t->best_epoch);
  g_key_file_set_uint64 (kf, "state", "adam-step", t->adam->step);
  g_key_file_set_double (kf, "state", "plateau-lr", t->plateau_lr);
  g_key_file_set_double (kf, "state", "plateau-best-loss",
      t->plateau_best_loss);
  g_key_file_set_uint64 (kf, "state", "plateau-wait", t->plateau_wait);
  g_key_file_set_uint64 (kf, "state", "swa-count", t->swa_count);
  for (i = 0; i < t->history->len; i++) {
    const FemoEpochMetrics *m = &g_array_index (t->history,
        FemoEpochMetrics, i);
    g_autofree gchar *key = g_strdup_printf ("e%04u", m->epoch);
    g_autofree gchar *line = history_line (m);

    g_key_file_set_string (kf, "history", key, line);
  }
  return kf;
}

/* ---- files next to --out ---- */

static gboolean
write_file (const gchar * path, const gchar * contents, gsize length,
    GError ** error)
{
  GError *sub = NULL;

  if (!g_file_set_contents (path, contents, length, &sub)) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_IO, "%s", sub->message);
    g_error_free (sub);
    return FALSE;
  }
  return TRUE;
}

static gboolean
write_metrics (FemoTrainer * t, GError ** error)
{
  const FemoEpochMetrics *h = (const FemoEpochMetrics *) t->history->data;
  GString *csv = g_string_new ("epoch,lr,train_loss,train_accuracy,"
      "val_loss,val_accuracy,swa_val_accuracy\n");
  g_autofree gchar *csv_path = g_strconcat (t->stem, ".metrics.csv", NULL);
  g_autofree gchar *svg_path = g_strconcat (t->stem, ".curves.svg", NULL);
  g_autofree gchar *base = g_path_get_basename (t->stem);
  g_autofree gchar *title = g_strdup_printf ("%s: mini-Xception on FER2013 "
      "(validation: PublicTest)", base);
  g_autofree gchar *svg = NULL;
  gboolean ok;
  guint i;

  for (i = 0; i < t->history->len; i++) {
    gchar v[6][G_ASCII_DTOSTR_BUF_SIZE];

    /* swa_val_accuracy is empty for epochs without a weight average */
    g_string_append_printf (csv, "%u,%s,%s,%s,%s,%s,%s\n", h[i].epoch,
        g_ascii_formatd (v[0], sizeof (v[0]), "%.6g", h[i].lr),
        g_ascii_formatd (v[1], sizeof (v[1]), "%.6f", h[i].train_loss),
        g_ascii_formatd (v[2], sizeof (v[2]), "%.6f", h[i].train_accuracy),
        g_ascii_formatd (v[3], sizeof (v[3]), "%.6f", h[i].val_loss),
        g_ascii_formatd (v[4], sizeof (v[4]), "%.6f", h[i].val_accuracy),
        h[i].swa_accuracy < 0 ? "" :
        g_ascii_formatd (v[5], sizeof (v[5]), "%.6f", h[i].swa_accuracy));
  }
  ok = write_file (csv_path, csv->str, csv->len, error);
  g_string_free (csv, TRUE);
  if (!ok)
    return FALSE;
  svg = femo_curves_to_svg (h, t->history->len, title);
  return write_file (svg_path, svg, strlen (svg), error);
}

static gboolean
set_metadata (FemoNet * net, const gchar * key, const gchar * value,
    GError ** error)
{
  if (!femo_net_set_metadata (net, key, value)) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
        "cannot set metadata %s", key);
    return FALSE;
  }
  return TRUE;
}

/* Metadata that does not change during the run. */
static gboolean
set_provenance (FemoTrainer * t, GError ** error)
{
  g_autofree gchar *data_name = g_path_get_basename (t->opt.data);
  g_autofree gchar *seed = g_strdup_printf ("%" G_GINT64_FORMAT, t->opt.seed);
  g_autofree gchar *rows = g_strdup_printf ("%u", t->train->n);
  g_autofree gchar *val_rows = g_strdup_printf ("%u", t->val->n);

  if (!set_metadata (t->net, "femo.train.tool", "gst-femo " VERSION, error)
      || !set_metadata (t->net, "femo.train.data", data_name, error)
      || !set_metadata (t->net, "femo.train.data_sha256", t->data->sha256, error)
      || !set_metadata (t->net, "femo.train.options", t->summary, error)
      || !set_metadata (t->net, "femo.train.seed", seed, error)
      || !set_metadata (t->net, "femo.train.train_usage", "Training", error)
      || !set_metadata (t->net, "femo.train.train_rows", rows, error)
      || !set_metadata (t->net, "femo.train.val_usage", "PublicTest", error)
      || !set_metadata (t->net, "femo.train.val_rows", val_rows, error))
    return FALSE;
  if (t->init_name
      && (!set_metadata (t->net, "femo.train.init", t->init_name, error)
          || !set_metadata (t->net, "femo.train.init_sha256", t->init_sha256,
              error)))
    return FALSE;
  if (t->opt.ferplus) {
    g_autofree gchar *name = g_path_get_basename (t->opt.ferplus);

    if (!set_metadata (t->net, "femo.train.ferplus", name, error)
        || !set_metadata (t->net, "femo.train.ferplus_sha256", t->ferplus_sha256,
            error))
      return FALSE;
  }
  if (t->opt.teacher) {
    g_auto (GStrv) paths = g_strsplit (t->opt.teacher, ",", -1);
    g_autofree gchar *name = NULL;

    /* the file names without their folders, as for --init */
    for (guint i = 0; paths[i]; i++) {
      gchar *base = g_path_get_basename (paths[i]);

      g_free (paths[i]);
      paths[i] = base;
    }
    name = g_strjoinv (",", paths);
    if (!set_metadata (t->net, "femo.train.teacher", name, error)
        || !set_metadata (t->net, "femo.train.teacher_sha256",
            t->teacher_sha256, error))
      return FALSE;
  }
  return TRUE;
}

/* Maps the file an option names and takes its sha256 (the provenance
 * written into the model and checked on resume). */
static GBytes *
map_option_file (const gchar * option, const gchar * path, gchar ** sha256,
    GError ** error)
{
  g_autoptr (GMappedFile) file = NULL;
  GError *sub = NULL;
  GBytes *bytes;

  file = g_mapped_file_new (path, FALSE, &sub);
  if (!file) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_IO, "%s: %s", option,
        sub->message);
    g_error_free (sub);
    return NULL;
  }
  bytes = g_mapped_file_get_bytes (file);
  *sha256 = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, bytes);
  return bytes;
}

/* --init: the starting weights, which must fit the options. */
static gboolean
load_init (FemoTrainer * t, GError ** error)
{
  g_autoptr (GBytes) bytes = NULL;
  const guint *channels;
  guint i;

  bytes = map_option_file ("--init", t->opt.init, &t->init_sha256, error);
  if (!bytes)
    return FALSE;
  t->net = femo_net_load_from_data (g_bytes_get_data (bytes, NULL),
      g_bytes_get_size (bytes), error);
  if (!t->net) {
    g_prefix_error (error, "--init %s: ", t->opt.init);
    return FALSE;
  }
  channels = femo_net_get_channels (t->net);
  for (i = 0; i < FEMO_NET_N_WIDTHS; i++)
    if (channels[i] != t->channels[i]) {
      g_set_error (error, FEMO_ERROR, FEMO_ERROR_ARGUMENT,
          "--init %s has other widths than --channels %s", t->opt.init,
          t->opt.channels);
      return FALSE;
    }
  for (i = 0; i < FEMO_FER_N_CLASSES; i++)
    if (femo_net_get_n_labels (t->net) != FEMO_FER_N_CLASSES
        || g_strcmp0 (femo_net_get_labels (t->net)[i],
            femo_net_default_labels[i]) != 0) {
      g_set_error (error, FEMO_ERROR, FEMO_ERROR_ARGUMENT,
          "--init %s does not have FER2013's classes in FER2013's order",
          t->opt.init);
      return FALSE;
    }
  t->init_name = g_path_get_basename (t->opt.init);
  return TRUE;
}

/* Saves @net (the epoch's weights, or their average when @swa) as this
 * epoch's snapshot and as --out. */
static gboolean
save_best (FemoTrainer * t, FemoNet * net, guint epoch, gdouble accuracy,
    gboolean swa, gchar ** snapshot_name, GError ** error)
{
  gchar acc[G_ASCII_DTOSTR_BUF_SIZE];
  g_autofree gchar *epochs = g_strdup_printf ("%u", epoch);
  g_autofree gchar *snapshot = NULL;
  g_autoptr (GBytes) bytes = NULL;
  gsize size;
  const gchar *data;

  g_ascii_formatd (acc, sizeof (acc), "%.6f", accuracy);
  if (!set_metadata (net, "femo.train.epochs", epochs, error)
      || !set_metadata (net, "femo.train.val_accuracy", acc, error))
    return FALSE;
  if (swa) {
    g_autofree gchar *range = g_strdup_printf ("%" G_GINT64_FORMAT "-%u",
        t->opt.swa_start, epoch);

    if (!set_metadata (net, "femo.train.swa_epochs", range, error))
      return FALSE;
  }
  bytes = femo_net_serialize (net);
  data = g_bytes_get_data (bytes, &size);
  snapshot = g_strdup_printf ("%s.e%03u%s-%s.safetensors", t->stem, epoch,
      swa ? "-swa" : "",
      g_ascii_formatd (acc, sizeof (acc), "%.4f", accuracy));
  if (!write_file (snapshot, data, size, error)
      || !write_file (t->opt.out, data, size, error))
    return FALSE;
  *snapshot_name = g_path_get_basename (snapshot);
  return TRUE;
}

static gboolean
save_checkpoint (FemoTrainer * t, GError ** error)
{
  g_autoptr (GKeyFile) state = checkpoint_state (t);
  g_autoptr (GBytes) bytes = femo_checkpoint_serialize (state, t->net,
      t->adam, t->swa_count > 0 ? t->swa : NULL);
  gsize size;
  const gchar *data = g_bytes_get_data (bytes, &size);

  return write_file (t->checkpoint_path, data, size, error);
}

/* ---- training ---- */

static gboolean
build_decay_mask (FemoTrainer * t, guint8 ** mask, gsize * n, GError ** error)
{
  guint n_tensors, i;
  const FemoNetTensor *tensors = femo_net_get_tensors (t->net, &n_tensors);

  femo_net_get_params (t->net, n);
  *mask = g_new0 (guint8, *n);
  for (i = 0; i < n_tensors; i++) {
    const FemoNetTensor *tt = &tensors[i];

    /* Decoupled decay on convolution weights only, not on biases or the
     * batch-norm scale and shift. */
    if (tt->kind != FEMO_NET_TENSOR_CONV_WEIGHT)
      continue;
    if (tt->offset + tt->length > *n) {
      g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
          "tensor %s lies outside the parameters", tt->name);
      g_clear_pointer (mask, g_free);
      return FALSE;
    }
    memset (*mask + tt->offset, 1, tt->length);
  }
  return TRUE;
}

static void
one_hot (gfloat * row, guint label)
{
  memset (row, 0, FEMO_FER_N_CLASSES * sizeof (gfloat));
  row[label] = 1.0f;
}

/* Fills the batch at @first of the epoch's @order: augmented inputs and
 * labels (or soft targets). Each image has its own random stream, keyed
 * by epoch and position, so nothing depends on threads or batch timing. */
static void
fill_batch (FemoTrainer * t, const guint32 * order, guint first, guint n,
    gfloat * inputs, guint * labels, gfloat * targets)
{
  const FemoAugmentParams params = FEMO_AUGMENT_PARAMS_DEFAULT;
  guint i;

  for (i = 0; i < n; i++) {
    guint32 k = order[first + i];
    const guint8 *img = t->train->pixels + (gsize) k * FEMO_FER_PIXELS;
    gfloat *dst = inputs + (gsize) i * FEMO_FER_PIXELS;

    if (t->opt.no_augment) {
      femo_augment_normalize (img, FEMO_FER_PIXELS, dst);
    } else {
      FemoRng rng;
      FemoAffine affine;

      femo_rng_init (&rng, t->opt.seed,
          ((guint64) (t->epoch + 1) << 32) | (first + i));
      femo_augment_draw (&rng, &params, FEMO_FER_SIZE, FEMO_FER_SIZE, &affine);
      femo_augment_warp (img, FEMO_FER_SIZE, FEMO_FER_SIZE, FEMO_FER_SIZE,
          &affine, dst);
      /* After the warp's draws, so that runs without it keep their bytes. */
      if (t->opt.erase > 0.0)
        femo_augment_erase (&rng, t->opt.erase, FEMO_FER_SIZE, FEMO_FER_SIZE,
            dst);
    }
    labels[i] = t->train->labels[k];
    if (targets && t->train->soft)
      memcpy (targets + (gsize) i * FEMO_FER_N_CLASSES,
          t->train->soft + (gsize) k * FEMO_FER_N_CLASSES,
          FEMO_FER_N_CLASSES * sizeof (gfloat));
    else if (targets)
      one_hot (targets + (gsize) i * FEMO_FER_N_CLASSES, labels[i]);
  }
}

/* --mixup a (Zhang et al., 2018): the batch becomes lam x itself + (1 - lam)
 * x itself in reverse order, images and targets alike, with one lam per
 * batch drawn from Beta(a, a) and folded to lam >= 0.5, so each image stays
 * the larger part of its own slot. The batch's own random stream lies past
 * the images' (keyed by position) and the shuffle's (G_MAXUINT32). */
static void
mix_batch (FemoTrainer * t, guint step, guint n, gfloat * inputs,
    gfloat * targets, gfloat * scratch)
{
  const gsize px = FEMO_FER_PIXELS, k = FEMO_FER_N_CLASSES;
  FemoRng rng;
  gfloat lam, rest;
  guint i;
  gsize j;

  femo_rng_init (&rng, t->opt.seed, ((guint64) (t->epoch + 1) << 32) |
      (G_MAXUINT32 - 1 - step));
  lam = (gfloat) femo_rng_beta (&rng, t->opt.mixup, t->opt.mixup);
  lam = MAX (lam, 1.0f - lam);
  rest = 1.0f - lam;
  memcpy (scratch, inputs, n * px * sizeof (gfloat));
  for (i = 0; i < n; i++) {
    const gfloat *other = scratch + (gsize) (n - 1 - i) * px;
    gfloat *dst = inputs + (gsize) i * px;

    for (j = 0; j < px; j++)
      dst[j] = lam * dst[j] + rest * other[j];
  }
  memcpy (scratch, targets, n * k * sizeof (gfloat));
  for (i = 0; i < n; i++)
    for (j = 0; j < k; j++)
      targets[i * k + j] = lam * targets[i * k + j]
          + rest * scratch[(gsize) (n - 1 - i) * k + j];
}

/* Accuracy (and mean loss) of @net on PublicTest. With --bn-images the
 * net's BN statistics are first replaced by their mean over that many
 * Training images ("precise BN"): what @net is saved with. */
static gboolean
validate (FemoTrainer * t, FemoNet * net, gdouble * loss, gdouble * accuracy,
    GError ** error)
{
  g_autoptr (FemoConfusion) confusion = femo_confusion_new (FEMO_FER_N_CLASSES);
  g_autoptr (FemoModel) model = NULL;
  gdouble l;

  if (t->opt.bn_images > 0 && !femo_evaluate_recalibrate_bn (net, t->train,
          t->opt.bn_images, BN_BATCH, error))
    return FALSE;
  model = femo_model_new_from_net (net);
  l = femo_evaluate_split (model, t->val, NULL, t->opt.threads, FALSE,
      confusion);
  if (loss)
    *loss = l;
  *accuracy = femo_confusion_accuracy (confusion);
  return TRUE;
}

/* One epoch: trains, validates, saves. */
static gboolean
run_epoch (FemoTrainer * t, gchar ** saved, gdouble * seconds, GError ** error)
{
  guint n = t->train->n, batch = t->opt.batch;
  guint steps = steps_per_epoch (t), step;
  g_autofree guint32 *order = g_new (guint32, n);
  g_autofree gfloat *inputs = g_new (gfloat, (gsize) batch * FEMO_FER_PIXELS);
  g_autofree guint *labels = g_new (guint, batch);
  gboolean soft = t->train->soft || t->opt.mixup > 0.0;
  g_autofree gfloat *targets = soft ?
      g_new (gfloat, (gsize) batch * FEMO_FER_N_CLASSES) : NULL;
  g_autofree gfloat *scratch = t->opt.mixup > 0.0 ?
      g_new (gfloat, (gsize) batch * FEMO_FER_PIXELS) : NULL;
  g_autoptr (FemoNet) eval_net = NULL;
  g_autoptr (FemoNet) swa_net = NULL;
  g_autoptr (GTimer) timer = g_timer_new ();
  gsize n_params, n_grads;
  gfloat *params = femo_net_get_params (t->net, &n_params);
  const gfloat *grads = femo_net_get_grads (t->net, &n_grads);
  gdouble loss_sum = 0.0, lr = t->opt.lr;
  guint correct = 0, seen = 0, i;
  FemoEpochMetrics m = { 0, };
  FemoRng rng;

  g_return_val_if_fail (n_params == t->adam->n && n_grads == n_params, FALSE);
  for (i = 0; i < n; i++)
    order[i] = i;
  femo_rng_init (&rng, t->opt.seed, ((guint64) (t->epoch + 1) << 32) |
      G_MAXUINT32);
  femo_rng_shuffle (&rng, order, n);

  for (step = 0; step < steps; step++) {
    guint first = step * batch, count = MIN (batch, n - first);
    FemoNetStepResult result;

    fill_batch (t, order, first, count, inputs, labels, targets);
    if (scratch)
      mix_batch (t, step, count, inputs, targets, scratch);
    if (!femo_net_train_step (t->net, inputs, targets ? NULL : labels,
            targets, count, t->opt.label_smoothing, &result, error))
      return FALSE;
    lr = learning_rate (t, t->adam->step);
    femo_adam_update (t->adam, params, grads, lr, t->opt.weight_decay);
    loss_sum += result.loss * count;
    correct += result.n_correct;
    seen += count;

    if (t->callbacks.batch) {
      FemoTrainerProgress p = { t->epoch + 1, t->opt.epochs, step + 1, steps,
        loss_sum / seen, (gdouble) correct / seen, seen,
        (gdouble) n * (t->opt.epochs - t->epoch) - seen,
        g_timer_elapsed (timer, NULL)
      };

      t->callbacks.batch (&p, t->callbacks.user_data);
    }
  }

  m.epoch = t->epoch + 1;
  m.lr = lr;
  m.train_loss = loss_sum / MAX (seen, 1);
  m.train_accuracy = (gdouble) correct / MAX (seen, 1);
  m.swa_accuracy = -1.0;
  /* Validation on a copy: the training net keeps its running averages. */
  eval_net = femo_net_copy (t->net);
  if (!validate (t, eval_net, &m.val_loss, &m.val_accuracy, error))
    return FALSE;
  if (t->opt.swa_start > 0 && m.epoch >= t->opt.swa_start) {
    t->swa_count++;
    if (!t->swa)
      t->swa = g_new0 (gfloat, n_params);
    /* running mean: after k epochs, the plain mean of their weights */
    for (gsize j = 0; j < n_params; j++)
      t->swa[j] += (params[j] - t->swa[j]) / (gfloat) t->swa_count;
    swa_net = femo_net_copy (t->net);
    memcpy (femo_net_get_params (swa_net, NULL), t->swa,
        n_params * sizeof (gfloat));
    if (!validate (t, swa_net, NULL, &m.swa_accuracy, error))
      return FALSE;
  }
  t->epoch++;
  g_array_append_val (t->history, m);

  if (g_strcmp0 (t->opt.schedule, "plateau") == 0) {
    /* As Keras' ReduceLROnPlateau on val_loss (the reference recipe). */
    if (m.val_loss < t->plateau_best_loss - FEMO_TRAIN_PLATEAU_MIN_DELTA) {
      t->plateau_best_loss = m.val_loss;
      t->plateau_wait = 0;
    } else if (++t->plateau_wait >= FEMO_TRAIN_PLATEAU_PATIENCE) {
      t->plateau_lr *= FEMO_TRAIN_PLATEAU_FACTOR;
      t->plateau_wait = 0;
    }
  }

  if (m.val_accuracy > t->best_accuracy) {
    t->best_accuracy = m.val_accuracy;
    t->best_epoch = m.epoch;
    if (!save_best (t, eval_net, m.epoch, m.val_accuracy, FALSE, saved, error))
      return FALSE;
  }
  if (swa_net && m.swa_accuracy > t->best_accuracy) {
    g_free (*saved);
    *saved = NULL;
    t->best_accuracy = m.swa_accuracy;
    t->best_epoch = m.epoch;
    if (!save_best (t, swa_net, m.epoch, m.swa_accuracy, TRUE, saved, error))
      return FALSE;
  }
  if (t->opt.patience > 0 && t->epoch - t->best_epoch >= t->opt.patience)
    t->finished = TRUE;
  if (t->epoch >= t->opt.epochs)
    t->finished = TRUE;
  if (!write_metrics (t, error) || !save_checkpoint (t, error))
    return FALSE;
  *seconds = g_timer_elapsed (timer, NULL);
  return TRUE;
}

/* ---- setup ---- */

static void notify (FemoTrainer * t, FemoTrainerNotice kind,
    const gchar * format, ...) G_GNUC_PRINTF (3, 4);

static void
notify (FemoTrainer * t, FemoTrainerNotice kind, const gchar * format, ...)
{
  g_autofree gchar *message = NULL;
  va_list ap;

  if (!t->callbacks.notice)
    return;
  va_start (ap, format);
  message = g_strdup_vprintf (format, ap);
  va_end (ap);
  t->callbacks.notice (kind, message, t->callbacks.user_data);
}

/* --ferplus-weight w: each Training image's target becomes w x its FER+
 * votes + (1 - w) x its FER2013 label. The votes' majority differs from
 * the label on 35% of the Training images; the mix keeps the label that
 * PublicTest scores while the votes say how ambiguous the face is. */
static void
mix_ferplus (FemoFerSplit * split, gdouble weight)
{
  const gsize cls = FEMO_FER_N_CLASSES;
  guint i;
  gsize c;

  if (weight >= 1.0)
    return;
  for (i = 0; i < split->n; i++) {
    gfloat *t = split->soft + cls * i;

    for (c = 0; c < cls; c++)
      t[c] = (gfloat) (weight * t[c]
          + (1.0 - weight) * (split->labels[i] == c));
  }
}

/* Adds the probabilities of the teacher model at @path for each Training
 * image to @sum (in FER2013's class order); its sha256 goes to @sha256. */
static gboolean
add_teacher_probabilities (FemoTrainer * t, const gchar * path,
    gfloat * sum, gchar ** sha256, GError ** error)
{
  const FemoFerSplit *train = t->train;
  g_autoptr (FemoModel) teacher = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autofree gfloat *probs = NULL;
  guint output_of_class[FEMO_FER_N_CLASSES];
  guint i, c;

  bytes = map_option_file ("--teacher", path, sha256, error);
  if (!bytes)
    return FALSE;
  teacher = femo_model_load_from_data (g_bytes_get_data (bytes, NULL),
      g_bytes_get_size (bytes), error);
  if (!teacher || !femo_evaluate_map_labels (teacher, output_of_class, error)) {
    g_prefix_error (error, "--teacher %s: ", path);
    return FALSE;
  }
  probs = g_new (gfloat, (gsize) train->n * FEMO_FER_N_CLASSES);
  femo_evaluate_probabilities (teacher, train, t->opt.threads, probs);
  for (i = 0; i < train->n; i++)
    for (c = 0; c < FEMO_FER_N_CLASSES; c++)
      sum[(gsize) i * FEMO_FER_N_CLASSES + c] +=
          probs[(gsize) i * FEMO_FER_N_CLASSES + output_of_class[c]];
  return TRUE;
}

/* --teacher: each Training image's target becomes (1 - d) x its target
 * (the label, or FER+) + d x the teacher's probabilities for the image as
 * it is (--distill d), computed once. Several teachers (a comma-separated
 * list) give the mean of their probabilities: an ensemble's, which is
 * better than each of its members. */
static gboolean
apply_teacher (FemoTrainer * t, GError ** error)
{
  const gdouble d = t->opt.distill;
  FemoFerSplit *train = t->train;
  g_auto (GStrv) paths = g_strsplit (t->opt.teacher, ",", -1);
  g_autoptr (GPtrArray) shas = g_ptr_array_new_with_free_func (g_free);
  g_autofree gfloat *probs = NULL;
  guint n = g_strv_length (paths);
  guint i, c;

  if (n == 0 || g_strv_contains ((const gchar * const *) paths, "")) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_ARGUMENT,
        "--teacher \"%s\": an empty file name in the list", t->opt.teacher);
    return FALSE;
  }
  probs = g_new0 (gfloat, (gsize) train->n * FEMO_FER_N_CLASSES);
  for (i = 0; i < n; i++) {
    gchar *sha = NULL;

    if (!add_teacher_probabilities (t, paths[i], probs, &sha, error))
      return FALSE;
    g_ptr_array_add (shas, sha);
  }
  g_ptr_array_add (shas, NULL);
  g_free (t->teacher_sha256);
  t->teacher_sha256 = g_strjoinv (",", (gchar **) shas->pdata);

  if (!train->soft) {
    train->soft = g_new0 (gfloat, (gsize) train->n * FEMO_FER_N_CLASSES);
    for (i = 0; i < train->n; i++)
      one_hot (train->soft + (gsize) i * FEMO_FER_N_CLASSES, train->labels[i]);
  }
  for (i = 0; i < train->n; i++) {
    gfloat *row = train->soft + (gsize) i * FEMO_FER_N_CLASSES;
    const gfloat *p = probs + (gsize) i * FEMO_FER_N_CLASSES;

    for (c = 0; c < FEMO_FER_N_CLASSES; c++)
      row[c] = (gfloat) ((1.0 - d) * row[c] + d * p[c] / n);
  }
  notify (t, FEMO_TRAINER_NOTICE_INFO, "distilling from %s (weight %g)",
      t->opt.teacher, d);
  return TRUE;
}

static gboolean
load_data (FemoTrainer * t, GError ** error)
{
  g_autofree gchar *skipped = NULL;

  t->data = femo_fer_load (t->opt.data,
      t->opt.skip_bad ? FEMO_FER_SKIP_BAD : FEMO_FER_FLAGS_NONE, error);
  if (!t->data)
    return FALSE;
  skipped = femo_fer_data_describe_skipped (t->data);
  if (skipped)
    notify (t, FEMO_TRAINER_NOTICE_WARNING, "%s", skipped);
  t->train = &t->data->splits[FEMO_FER_TRAINING];
  t->val = &t->data->splits[FEMO_FER_PUBLIC_TEST];
  if (t->train->n < 2 || t->val->n < 1) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
        "%s has %u Training and %u PublicTest rows: training needs at "
        "least 2 and validation 1", t->opt.data, t->train->n, t->val->n);
    return FALSE;
  }

  if (t->opt.ferplus) {
    g_autoptr (FemoFerPlus) plus = NULL;
    g_autoptr (GBytes) bytes = NULL;
    g_autoptr (GInputStream) stream = NULL;
    g_autofree gchar *name = g_path_get_basename (t->opt.ferplus);
    guint dropped = 0;

    bytes = map_option_file ("--ferplus", t->opt.ferplus, &t->ferplus_sha256,
        error);
    if (!bytes)
      return FALSE;
    /* the bytes just hashed, not a second read of the file */
    stream = g_memory_input_stream_new_from_bytes (bytes);
    plus = femo_ferplus_load_stream (stream, name, NULL, error);
    if (!plus || !femo_fer_split_apply_ferplus (t->train, FEMO_FER_TRAINING,
            plus, &dropped, error))
      return FALSE;
    if (t->train->n < 2) {
      g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
          "%s leaves fewer than 2 Training rows", t->opt.ferplus);
      return FALSE;
    }
    mix_ferplus (t->train, t->opt.ferplus_weight);
    notify (t, FEMO_TRAINER_NOTICE_INFO, "FER+ soft targets from %s (weight "
        "%g); %u Training rows without FER+ votes left out", t->opt.ferplus,
        t->opt.ferplus_weight, dropped);
  }
  if (t->opt.teacher && !apply_teacher (t, error))
    return FALSE;
  return TRUE;
}

/* Takes the options from the checkpoint; explicit options must agree. */
static gboolean
apply_checkpoint_options (FemoTrainer * t, FemoCheckpoint * c, GError ** error)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (opt_specs); i++) {
    const FemoTrainOptionSpec *spec = &opt_specs[i];
    g_autofree gchar *stored = g_key_file_get_string (c->state, "options",
        spec->name, NULL);
    g_autofree gchar *given = NULL;

    if (!stored && spec->before)
      stored = g_strdup (spec->before);
    if (!stored) {
      g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
          "%s: checkpoint lacks option %s", t->opt.resume, spec->name);
      return FALSE;
    }
    if (opt_is_set (&t->opt, spec)) {
      given = opt_to_string (&t->opt, spec);
      if (strcmp (given, stored) == 0 || spec->resume_may_change) {
        if (strcmp (given, stored) != 0 && strcmp (spec->name, "threads") == 0)
          notify (t, FEMO_TRAINER_NOTICE_WARNING, "warning: the checkpoint "
              "was made with --threads %s: with %s the result will not be "
              "byte-identical to an uninterrupted run", stored, given);
        continue;
      }
      g_set_error (error, FEMO_ERROR, FEMO_ERROR_ARGUMENT,
          "--%s %s differs from the checkpoint's %s; a resumed run keeps "
          "its options", spec->name, given, stored);
      return FALSE;
    }
    if (!opt_from_string (&t->opt, spec, stored)) {
      g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
          "%s: bad option %s=%s in the checkpoint", t->opt.resume,
          spec->name, stored);
      return FALSE;
    }
  }
  if (!t->opt.data)
    t->opt.data = g_key_file_get_string (c->state, "files", "data", NULL);
  if (!t->opt.out) {
    g_autofree gchar *name = g_key_file_get_string (c->state, "files",
        "out-name", NULL);
    g_autofree gchar *dir = g_path_get_dirname (t->opt.resume);

    if (name)
      t->opt.out = g_build_filename (dir, name, NULL);
  }
  if (!t->opt.ferplus)
    t->opt.ferplus = g_key_file_get_string (c->state, "files", "ferplus", NULL);
  if (!t->opt.teacher)
    t->opt.teacher = g_key_file_get_string (c->state, "files", "teacher", NULL);
  t->init_name = g_key_file_get_string (c->state, "files", "init-name", NULL);
  t->init_sha256 = g_key_file_get_string (c->state, "files", "init-sha256",
      NULL);
  return TRUE;
}

/* Reads [state] @key; after a first error the rest are skipped. */
static guint64
state_uint (GKeyFile * state, const gchar * key, GError ** error)
{
  return *error ? 0 : g_key_file_get_uint64 (state, "state", key, error);
}

static gdouble
state_double (GKeyFile * state, const gchar * key, GError ** error)
{
  return *error ? 0.0 : g_key_file_get_double (state, "state", key, error);
}

/* Restores the run from the checkpoint, once the data are loaded. */
static gboolean
restore_checkpoint (FemoTrainer * t, FemoCheckpoint * c, GError ** error)
{
  g_autofree gchar *data_sha = g_key_file_get_string (c->state, "files",
      "data-sha256", NULL);
  g_autofree gchar *plus_sha = g_key_file_get_string (c->state, "files",
      "ferplus-sha256", NULL);
  g_autofree gchar *teacher_sha = g_key_file_get_string (c->state, "files",
      "teacher-sha256", NULL);
  g_auto (GStrv) keys = g_key_file_get_keys (c->state, "history", NULL, NULL);
  GError *sub = NULL;
  gsize n_params;
  guint i;

  if (g_strcmp0 (data_sha, t->data->sha256) != 0) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
        "%s is not the data the checkpoint was trained on (sha256 %s, "
        "expected %s)", t->opt.data, t->data->sha256, data_sha);
    return FALSE;
  }
  if (g_strcmp0 (plus_sha, t->ferplus_sha256) != 0) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
        "the FER+ file differs from the one the checkpoint was trained on");
    return FALSE;
  }
  if (g_strcmp0 (teacher_sha, t->teacher_sha256) != 0) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
        "the teacher model differs from the one the checkpoint was trained "
        "with");
    return FALSE;
  }
  t->net = g_steal_pointer (&c->net);
  femo_net_get_params (t->net, &n_params);
  if (c->n_moments != n_params * 2) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
        "%s: optimiser state for %" G_GSIZE_FORMAT " parameters, the net has %"
        G_GSIZE_FORMAT, t->opt.resume, c->n_moments / 2, n_params);
    return FALSE;
  }

  t->epoch = state_uint (c->state, "epoch", &sub);
  t->finished = state_uint (c->state, "finished", &sub) != 0;
  t->best_accuracy = state_double (c->state, "best-accuracy", &sub);
  t->best_epoch = state_uint (c->state, "best-epoch", &sub);
  t->plateau_lr = state_double (c->state, "plateau-lr", &sub);
  t->plateau_best_loss = state_double (c->state, "plateau-best-loss", &sub);
  t->plateau_wait = state_uint (c->state, "plateau-wait", &sub);
  /* absent from checkpoints made before --swa-start existed */
  if (!sub && g_key_file_has_key (c->state, "state", "swa-count", NULL))
    t->swa_count = state_uint (c->state, "swa-count", &sub);
  if (sub) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID, "%s: %s",
        t->opt.resume, sub->message);
    g_error_free (sub);
    return FALSE;
  }
  for (i = 0; keys && keys[i]; i++) {
    g_autofree gchar *line = g_key_file_get_string (c->state, "history",
        keys[i], NULL);
    g_auto (GStrv) f = g_strsplit (line ? line : "", ";", -1);
    FemoEpochMetrics m = { 0, };

    /* the sixth field (SWA accuracy) came with --swa-start */
    if (g_strv_length (f) != 5 && g_strv_length (f) != 6) {
      g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
          "%s: bad history entry %s", t->opt.resume, keys[i]);
      return FALSE;
    }
    m.epoch = i + 1;
    m.lr = g_ascii_strtod (f[0], NULL);
    m.train_loss = g_ascii_strtod (f[1], NULL);
    m.train_accuracy = g_ascii_strtod (f[2], NULL);
    m.val_loss = g_ascii_strtod (f[3], NULL);
    m.val_accuracy = g_ascii_strtod (f[4], NULL);
    m.swa_accuracy = f[5] ? g_ascii_strtod (f[5], NULL) : -1.0;
    g_array_append_val (t->history, m);
  }
  if ((t->swa_count > 0) != (c->swa != NULL)
      || (c->swa && c->n_swa != n_params)) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
        "%s: the weight average does not match its count or the net",
        t->opt.resume);
    return FALSE;
  }
  t->swa = g_steal_pointer (&c->swa);
  if (t->history->len != t->epoch) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
        "%s: %u epochs done but %u in the history", t->opt.resume, t->epoch,
        t->history->len);
    return FALSE;
  }
  return TRUE;
}

static gboolean
setup_optimizer (FemoTrainer * t, FemoCheckpoint * c, GError ** error)
{
  g_autofree guint8 *mask = NULL;
  gsize n;

  if (!build_decay_mask (t, &mask, &n, error))
    return FALSE;
  t->adam = femo_adam_new (n, mask);
  if (c) {
    GError *sub = NULL;

    memcpy (t->adam->m, c->moments, n * sizeof (gfloat));
    memcpy (t->adam->v, c->moments + n, n * sizeof (gfloat));
    t->adam->step = state_uint (c->state, "adam-step", &sub);
    if (sub) {
      g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID, "%s: %s",
          t->opt.resume, sub->message);
      g_error_free (sub);
      return FALSE;
    }
  }
  return TRUE;
}

FemoTrainer *
femo_trainer_new (const FemoTrainOptions * options,
    const FemoTrainerCallbacks * callbacks, GError ** error)
{
  g_autoptr (FemoTrainer) t = g_new0 (FemoTrainer, 1);
  FemoCheckpoint ckpt = { 0, };
  gboolean resumed = options->resume != NULL, warmup_given;
  guint i;

  options_copy (&t->opt, options);
  if (callbacks)
    t->callbacks = *callbacks;
  if (resumed) {
    if (!femo_checkpoint_read (t->opt.resume, &ckpt, error)
        || !apply_checkpoint_options (t, &ckpt, error))
      goto fail;
  }
  warmup_given = t->opt.warmup != FEMO_TRAIN_UNSET_INT;
  for (i = 0; i < G_N_ELEMENTS (opt_specs); i++) {
    const FemoTrainOptionSpec *spec = &opt_specs[i];

    if (!opt_is_set (&t->opt, spec))
      opt_from_string (&t->opt, spec, spec->default_value);
  }
  /* The default warm-up fits short runs too. */
  if (!warmup_given)
    t->opt.warmup = MIN (t->opt.warmup, t->opt.epochs);
  if (t->opt.threads == 0)
    t->opt.threads = MAX (1, g_get_num_processors ());
  if (!t->opt.data || !t->opt.out) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_ARGUMENT,
        "--data and --out are required (see --help)");
    goto fail;
  }
  if (!options_check (&t->opt, t->channels, error))
    goto fail;
  t->summary = options_summary (&t->opt);
  t->stem = output_stem (t->opt.out);
  t->checkpoint_path = g_strconcat (t->stem, ".ckpt", NULL);

  if (!load_data (t, error))
    goto fail;
  /* Fail now rather than after the first epoch. */
  {
    g_autofree gchar *dir = g_path_get_dirname (t->opt.out);

    if (g_mkdir_with_parents (dir, 0777) != 0 || g_access (dir, W_OK) != 0) {
      g_set_error (error, FEMO_ERROR, FEMO_ERROR_IO,
          "cannot write into %s: %s", dir, g_strerror (errno));
      goto fail;
    }
  }

  t->history = g_array_new (FALSE, TRUE, sizeof (FemoEpochMetrics));
  if (resumed) {
    if (!restore_checkpoint (t, &ckpt, error))
      goto fail;
  } else {
    if (t->opt.init) {
      if (!load_init (t, error))
        goto fail;
    } else {
      t->net = femo_net_new (t->channels, femo_net_default_labels,
          FEMO_FER_N_CLASSES, FEMO_NET_DEFAULT_BN_EPS, t->opt.seed, error);
    }
    if (!t->net)
      goto fail;
    t->best_accuracy = -1.0;
    t->plateau_lr = t->opt.lr;
    t->plateau_best_loss = G_MAXDOUBLE;
  }
  if (!setup_optimizer (t, resumed ? &ckpt : NULL, error))
    goto fail;
  femo_checkpoint_clear (&ckpt);
  femo_net_set_n_threads (t->net, t->opt.threads);
  if (!set_provenance (t, error))
    return NULL;
  return g_steal_pointer (&t);

fail:
  femo_checkpoint_clear (&ckpt);
  return NULL;
}

gboolean
femo_trainer_run (FemoTrainer * t, GError ** error)
{
  guint session = 0;

  g_return_val_if_fail (t != NULL, FALSE);

  while (!t->finished) {
    g_autofree gchar *saved = NULL;
    gdouble seconds = 0.0;

    if (!run_epoch (t, &saved, &seconds, error))
      return FALSE;
    if (t->callbacks.epoch)
      t->callbacks.epoch (&g_array_index (t->history, FemoEpochMetrics,
              t->history->len - 1), saved, seconds, t->callbacks.user_data);
    if (++session == t->opt.stop_after)
      break;
  }
  return TRUE;
}

const FemoTrainOptions *
femo_trainer_get_options (FemoTrainer * t)
{
  return &t->opt;
}

const gchar *
femo_trainer_get_summary (FemoTrainer * t)
{
  return t->summary;
}

const gchar *
femo_trainer_get_checkpoint_path (FemoTrainer * t)
{
  return t->checkpoint_path;
}

guint
femo_trainer_get_n_train (FemoTrainer * t)
{
  return t->train->n;
}

guint
femo_trainer_get_n_val (FemoTrainer * t)
{
  return t->val->n;
}

guint
femo_trainer_get_epoch (FemoTrainer * t)
{
  return t->epoch;
}

gboolean
femo_trainer_is_finished (FemoTrainer * t)
{
  return t->finished;
}

gdouble
femo_trainer_get_best_accuracy (FemoTrainer * t, guint * best_epoch)
{
  if (best_epoch)
    *best_epoch = t->best_epoch;
  return t->best_accuracy;
}
