/* gst-femo train: the command line of libfemo's trainer (femo-trainer.h):
 * options in, progress and results out
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "commands.h"
#include "femo-cli.h"
#include "femo-trainer.h"

#include <stdio.h>
#include <unistd.h>

typedef struct
{
  FemoTrainer *trainer;
  gboolean tty;
  gdouble last_shown;           /* seconds into the epoch */
} TrainCli;

static void
print_notice (FemoTrainerNotice kind, const gchar * message, gpointer data)
{
  if (kind == FEMO_TRAINER_NOTICE_WARNING)
    g_printerr ("gst-femo train: %s\n", message);
  else
    g_print ("%s\n", message);
}

static void
format_duration (gchar * buf, gsize size, gdouble seconds)
{
  guint s = (guint) MAX (0.0, seconds);

  if (s >= 3600)
    g_snprintf (buf, size, "%u:%02u:%02u", s / 3600, s / 60 % 60, s % 60);
  else
    g_snprintf (buf, size, "%u:%02u", s / 60, s % 60);
}

/* One line on the terminal, redrawn at most four times a second: the ETA
 * counts the rest of the run at this epoch's speed (validation not
 * included). */
static void
show_batch (const FemoTrainerProgress * p, gpointer data)
{
  TrainCli *cli = data;
  gdouble rate = p->seconds > 0 ? p->images / p->seconds : 0.0;
  gchar eta[32];

  if (p->step == 1)
    cli->last_shown = -1.0;
  if (p->seconds - cli->last_shown < 0.25 && p->step != p->n_steps)
    return;
  cli->last_shown = p->seconds;
  format_duration (eta, sizeof (eta), rate > 0 ? p->images_left / rate : 0.0);
  fprintf (stderr, "\repoch %u/%u batch %u/%u  loss %.4f  acc %.4f  %.0f "
      "img/s  ETA %s   ", p->epoch, p->n_epochs, p->step, p->n_steps,
      p->loss, p->accuracy, rate, eta);
  fflush (stderr);
}

static void
print_epoch (const FemoEpochMetrics * m, const gchar * saved,
    gdouble seconds, gpointer data)
{
  TrainCli *cli = data;
  gchar swa[32] = "";

  if (cli->tty)
    fprintf (stderr, "\r%*s\r", 100, "");
  if (m->swa_accuracy >= 0)
    g_snprintf (swa, sizeof (swa), "  swa acc %.4f", m->swa_accuracy);
  g_print ("epoch %u/%" G_GINT64_FORMAT ": lr %.3g  train loss %.4f acc "
      "%.4f  val loss %.4f acc %.4f%s  %.1f s%s%s\n", m->epoch,
      femo_trainer_get_options (cli->trainer)->epochs, m->lr, m->train_loss,
      m->train_accuracy, m->val_loss, m->val_accuracy, swa, seconds,
      saved ? "  saved " : "", saved ? saved : "");
}

/* Appends "(default VALUE)" from the trainer's table to the description of
 * each option that has one: the help cannot disagree with the trainer.
 * The new descriptions go into @keep. */
static void
describe_defaults (GOptionEntry * entries, GPtrArray * keep)
{
  guint n_specs, i;
  const FemoTrainOptionSpec *specs = femo_train_option_specs (&n_specs);

  for (; entries->long_name; entries++)
    for (i = 0; i < n_specs; i++) {
      gchar *description;

      if (g_strcmp0 (specs[i].name, entries->long_name) != 0
          || specs[i].kind == FEMO_TRAIN_OPTION_FLAG)
        continue;
      description = g_strdup_printf ("%s (default %s)", entries->description,
          specs[i].default_value);
      g_ptr_array_add (keep, description);
      entries->description = description;
    }
}

/* What the run did, after it returned. */
static void
print_end (FemoTrainer * trainer)
{
  const FemoTrainOptions *o = femo_trainer_get_options (trainer);
  guint best_epoch;
  gdouble best = femo_trainer_get_best_accuracy (trainer, &best_epoch);

  if (!femo_trainer_is_finished (trainer)) {
    g_print ("stopping after %u epochs as asked; continue with --resume "
        "%s\n", (guint) o->stop_after,
        femo_trainer_get_checkpoint_path (trainer));
    return;
  }
  if (o->patience > 0 && femo_trainer_get_epoch (trainer) < o->epochs)
    g_print ("stopped early: no better validation accuracy for %"
        G_GINT64_FORMAT " epochs\n", o->patience);
  g_print ("best PublicTest accuracy %.4f at epoch %u: %s\n", best,
      best_epoch, o->out);
}

static gboolean
train (FemoTrainOptions * options, TrainCli * cli, GError ** error)
{
  FemoTrainerCallbacks callbacks = { print_notice,
    cli->tty ? show_batch : NULL, print_epoch, cli
  };
  g_autoptr (FemoTrainer) trainer = NULL;
  const FemoTrainOptions *o;

  trainer = femo_trainer_new (options, &callbacks, error);
  if (!trainer)
    return FALSE;
  cli->trainer = trainer;
  o = femo_trainer_get_options (trainer);
  if (femo_trainer_is_finished (trainer)) {
    guint best_epoch;
    gdouble best = femo_trainer_get_best_accuracy (trainer, &best_epoch);

    g_print ("%s: the run finished after epoch %u (best PublicTest accuracy "
        "%.4f at epoch %u); nothing to do\n", o->resume,
        femo_trainer_get_epoch (trainer), best, best_epoch);
    return TRUE;
  }
  g_print ("training on %u Training rows, validating on %u PublicTest rows "
      "of %s\n%s\n", femo_trainer_get_n_train (trainer),
      femo_trainer_get_n_val (trainer), o->data,
      femo_trainer_get_summary (trainer));
  if (o->resume)
    g_print ("resuming after epoch %u\n", femo_trainer_get_epoch (trainer));
  if (!femo_trainer_run (trainer, error))
    return FALSE;
  print_end (trainer);
  return TRUE;
}

int
femo_cmd_train (int argc, char **argv)
{
  FemoTrainOptions o;
  TrainCli cli = { NULL, FALSE, -1.0 };
  g_autoptr (GOptionContext) ctx = NULL;
  g_autoptr (GPtrArray) descriptions = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;
  g_autofree gchar *schedule_help = g_strdup_printf ("cosine: linear warm-up "
      "then cosine decay to %g%% of --lr; plateau: the reference recipe, x%g "
      "after %d epochs without a lower validation loss",
      100 * FEMO_TRAIN_COSINE_FLOOR, FEMO_TRAIN_PLATEAU_FACTOR,
      FEMO_TRAIN_PLATEAU_PATIENCE);
  GOptionEntry entries[] = {
    {"data", 'd', 0, G_OPTION_ARG_FILENAME, &o.data,
        "FER2013 CSV (fer2013.csv, or gzip-compressed)", "FILE"},
    {"out", 'o', 0, G_OPTION_ARG_FILENAME, &o.out,
        "Where the best model goes (NAME.safetensors)", "FILE"},
    {"epochs", 'e', 0, G_OPTION_ARG_INT64, &o.epochs, "Epochs to train", "N"},
    {"batch", 'b', 0, G_OPTION_ARG_INT64, &o.batch,
        "Images per optimiser step", "N"},
    {"lr", 0, 0, G_OPTION_ARG_DOUBLE, &o.lr, "Peak learning rate of AdamW",
        "RATE"},
    {"weight-decay", 0, 0, G_OPTION_ARG_DOUBLE, &o.weight_decay,
        "Decoupled weight decay on convolution weights", "WD"},
    {"schedule", 0, 0, G_OPTION_ARG_STRING, &o.schedule, schedule_help,
        "NAME"},
    {"warmup", 0, 0, G_OPTION_ARG_INT64, &o.warmup,
        "Warm-up epochs of the cosine schedule", "N"},
    {"label-smoothing", 0, 0, G_OPTION_ARG_DOUBLE, &o.label_smoothing,
        "Label smoothing of the targets, 0..1", "S"},
    {"ferplus", 0, 0, G_OPTION_ARG_FILENAME, &o.ferplus,
        "Train on FER+ soft targets (fer2013new.csv) instead of the "
          "FER2013 labels; validation keeps the FER2013 labels", "FILE"},
    {"ferplus-weight", 0, 0, G_OPTION_ARG_DOUBLE, &o.ferplus_weight,
          "With --ferplus: the share of the FER+ votes in each target, the "
          "rest being the FER2013 label, 0..1", "W"},
    {"teacher", 0, 0, G_OPTION_ARG_FILENAME, &o.teacher,
          "Distil from this model (FER2013 labels, any widths): each "
          "Training image's target mixes in the teacher's probabilities for "
          "it; several models, separated by commas, give the mean of their "
          "probabilities (an ensemble)", "MODEL[,MODEL...]"},
    {"distill", 0, 0, G_OPTION_ARG_DOUBLE, &o.distill,
          "Weight of the teacher's probabilities in the targets, 0..1", "W"},
    {"init", 0, 0, G_OPTION_ARG_FILENAME, &o.init,
          "Start from the weights of this model (same --channels, FER2013 "
          "labels) instead of a fresh net: a new schedule over a trained "
          "model, as in warm restarts", "MODEL"},
    {"seed", 0, 0, G_OPTION_ARG_INT64, &o.seed,
        "Seed of initialisation, shuffling and augmentation", "N"},
    {"threads", 'j', 0, G_OPTION_ARG_INT64, &o.threads,
        "Worker threads, 0 for all cores", "N"},
    {"patience", 0, 0, G_OPTION_ARG_INT64, &o.patience,
        "Stop after N epochs without a better validation accuracy; 0 never "
          "stops early", "N"},
    {"channels", 0, 0, G_OPTION_ARG_STRING, &o.channels,
        "Widths: stem, stem, block1..block4", "LIST"},
    {"no-augment", 0, 0, G_OPTION_ARG_NONE, &o.no_augment,
        "Train on the images as they are", NULL},
    {"skip-bad", 0, 0, G_OPTION_ARG_NONE, &o.skip_bad,
        "Skip malformed CSV rows (and count them) instead of failing", NULL},
    {"bn-images", 0, 0, G_OPTION_ARG_INT64, &o.bn_images,
          "Before each validation, recompute the batch-norm statistics as "
          "the mean over N Training images (unaugmented); 0 keeps the "
          "running averages of training", "N"},
    {"swa-start", 0, 0, G_OPTION_ARG_INT64, &o.swa_start,
          "From epoch N on, also validate the mean of the weights after "
          "each epoch (stochastic weight averaging); it becomes --out when "
          "better; 0: off", "N"},
    {"swa-lr", 0, 0, G_OPTION_ARG_DOUBLE, &o.swa_lr,
          "With --swa-start: a constant learning rate from that epoch on "
          "(the schedule is fitted into the epochs before it); 0 follows "
          "the schedule", "RATE"},
    {"mixup", 0, 0, G_OPTION_ARG_DOUBLE, &o.mixup,
          "Mixup: blend each batch with itself in reverse order, images and "
          "targets, by a weight drawn from Beta(A, A) per batch; 0: off",
        "A"},
    {"erase", 0, 0, G_OPTION_ARG_DOUBLE, &o.erase,
          "Random erasing: with this probability, a random rectangle of "
          "each training image (2-33% of it) becomes noise; 0: off", "P"},
    {"resume", 0, 0, G_OPTION_ARG_FILENAME, &o.resume,
        "Continue from a checkpoint (NAME.ckpt), with its options, exactly "
          "as if never interrupted", "CHECKPOINT"},
    {"stop-after", 0, 0, G_OPTION_ARG_INT64, &o.stop_after,
        "Stop after N epochs of this session (resume later)", "N"},
    {NULL}
  };
  gboolean ok;

  femo_train_options_init (&o);
  describe_defaults (entries, descriptions);
  ctx = g_option_context_new ("- train the emotion network on FER2013");
  g_option_context_set_summary (ctx,
      "Trains mini-Xception on the Training rows of FER2013 and keeps the "
      "model with the best\naccuracy on the PublicTest rows (PrivateTest "
      "rows are never used).\n\n"
      "Files next to --out DIR/NAME.safetensors:\n"
      "  DIR/NAME.safetensors              the best model so far\n"
      "  DIR/NAME.eEEE-0.AAAA.safetensors  each improvement: epoch EEE, "
      "PublicTest accuracy\n"
      "  DIR/NAME.eEEE-swa-0.AAAA.safetensors  the same for the weight "
      "average (--swa-start)\n"
      "  DIR/NAME.ckpt                     checkpoint after each epoch "
      "(for --resume)\n"
      "  DIR/NAME.metrics.csv              loss and accuracy per epoch\n"
      "  DIR/NAME.curves.svg               training curves\n"
      "Each is written to a temporary file and renamed. The same data, "
      "options, seed and\nthread count give the same bytes; a resumed run "
      "gives the bytes of an uninterrupted one.");
  g_option_context_set_description (ctx,
      "Examples:\n"
      "  gst-femo train --data fer2013.csv.gz --out models/emotion.safetensors\n"
      "  gst-femo train -d fer2013.csv.gz -o run/m.safetensors --epochs 80 "
      "--lr 0.005 -j 8\n"
      "  gst-femo train --resume run/m.ckpt\n"
      "  gst-femo train -d fer2013.csv.gz -o run/m.safetensors --ferplus "
      "fer2013new.csv\n");
  femo_cli_add_entries (ctx, entries);
  if (!femo_cli_parse (ctx, &argc, &argv)) {
    femo_train_options_clear (&o);
    return 2;
  }
  if (argc > 1) {
    femo_train_options_clear (&o);
    return femo_cli_usage_error (argv[0], "unexpected argument '%s'", argv[1]);
  }
  cli.tty = isatty (fileno (stderr));

  ok = train (&o, &cli, &error);
  femo_train_options_clear (&o);
  if (!ok) {
    if (cli.tty)
      fprintf (stderr, "\n");
    g_printerr ("%s: %s\n", argv[0], error->message);
    return 1;
  }
  return 0;
}
