/* gst-femo: the trainer of the emotion network on FER2013
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Trains on the Training rows, selects on the PublicTest rows (never trains
 * on them) and leaves the PrivateTest rows alone. AdamW, a cosine schedule
 * with linear warm-up (or the reference recipe's reduce-on-plateau), the
 * reference recipe's augmentation, early stopping on validation accuracy,
 * optionally FER+ soft targets, distillation from a teacher, precise BN
 * statistics and stochastic weight averaging.
 *
 * Everything written is a function of the data, the options and the thread
 * count: no dates, host names or durations, so that a run can be repeated
 * byte for byte and a resumed run gives the bytes of an uninterrupted one.
 * Every file is written whole to a temporary name and renamed: next to
 * --out DIR/NAME.safetensors go NAME.eEEE[-swa]-0.AAAA.safetensors (each
 * improvement), NAME.ckpt (femo-checkpoint.h), NAME.metrics.csv and
 * NAME.curves.svg.
 */
#pragma once

#include "femo-metrics.h"

G_BEGIN_DECLS

/* The cosine schedule ends at this fraction of the peak rate. */
#define FEMO_TRAIN_COSINE_FLOOR 0.01
/* --schedule plateau, as Keras' ReduceLROnPlateau on the validation loss in
 * the reference recipe: the rate is multiplied by the factor after
 * PATIENCE epochs without a loss lower by MIN_DELTA. */
#define FEMO_TRAIN_PLATEAU_PATIENCE 12
#define FEMO_TRAIN_PLATEAU_FACTOR 0.1
#define FEMO_TRAIN_PLATEAU_MIN_DELTA 1e-4

/* An int option not given: the default (or on resume the checkpoint's)
 * applies. A double not given is NaN, a string NULL. */
#define FEMO_TRAIN_UNSET_INT G_MININT64

/**
 * FemoTrainOptions:
 * @data: FER2013 CSV (or gzip-compressed)
 * @out: where the best model goes (NAME.safetensors)
 * @resume: a checkpoint to continue from, with its options
 * @ferplus: FER+ votes (fer2013new.csv): soft targets for training
 * @teacher: a model whose probabilities are mixed into the targets
 * @init: a model whose weights the run starts from
 * @stop_after: epochs of this session before femo_trainer_run() returns
 *   (0: to the end)
 *
 * The rest are the options that shape training, named, defaulted and
 * checked as femo_train_option_specs() lists them.
 */
typedef struct
{
  gchar *data;
  gchar *out;
  gchar *resume;
  gchar *ferplus;
  gchar *teacher;
  gchar *init;
  gint64 epochs;
  gint64 batch;
  gdouble lr;
  gdouble weight_decay;
  gchar *schedule;
  gint64 warmup;
  gdouble label_smoothing;
  gint64 seed;
  gint64 threads;
  gint64 patience;
  gchar *channels;
  gboolean skip_bad;
  gboolean no_augment;
  gint64 bn_images;
  gint64 swa_start;
  gdouble swa_lr;
  gdouble distill;
  gdouble ferplus_weight;
  gdouble mixup;
  gdouble erase;
  gint64 stop_after;
} FemoTrainOptions;

typedef enum
{
  FEMO_TRAIN_OPTION_INT,
  FEMO_TRAIN_OPTION_DOUBLE,
  FEMO_TRAIN_OPTION_STRING,
  FEMO_TRAIN_OPTION_FLAG,
} FemoTrainOptionKind;

/**
 * FemoTrainOptionSpec:
 * @name: the option's name on the command line, without "--", and in the
 *   checkpoint and the model's provenance
 * @kind: the type of its field
 * @offset: of its field in #FemoTrainOptions
 * @default_value: its default as text; "0" for --threads means all cores
 * @resume_may_change: a resumed run may be given another value
 * @before: the value that behaves as checkpoints made before the option
 *   existed did; NULL: every checkpoint has it
 *
 * One option that shapes training: the one place its default is written.
 */
typedef struct
{
  const gchar *name;
  FemoTrainOptionKind kind;
  gsize offset;
  const gchar *default_value;
  gboolean resume_may_change;
  const gchar *before;
} FemoTrainOptionSpec;

/* The options that shape training, in the order the checkpoint and the
 * provenance list them. */
const FemoTrainOptionSpec *femo_train_option_specs (guint * n_specs);

/* Every option unset, @stop_after 0. */
void femo_train_options_init (FemoTrainOptions * options);
/* Frees the strings. */
void femo_train_options_clear (FemoTrainOptions * options);

typedef enum
{
  FEMO_TRAINER_NOTICE_INFO,
  FEMO_TRAINER_NOTICE_WARNING,
} FemoTrainerNotice;

/**
 * FemoTrainerProgress:
 * @epoch: the epoch being trained, 1-based
 * @n_epochs: epochs of the whole run
 * @step: optimiser steps done in this epoch, of @n_steps
 * @loss: mean loss of the epoch's images so far
 * @accuracy: their accuracy
 * @images: images trained in this epoch so far
 * @images_left: images left to train in the run if it runs all its epochs
 * @seconds: since the epoch began
 */
typedef struct
{
  guint epoch;
  guint n_epochs;
  guint step;
  guint n_steps;
  gdouble loss;
  gdouble accuracy;
  guint images;
  gdouble images_left;
  gdouble seconds;
} FemoTrainerProgress;

/**
 * FemoTrainerCallbacks:
 * @notice: what the run does that the options do not say (FER+ rows left
 *   out, distillation: INFO) or that the user should know (malformed rows
 *   skipped, another thread count than the checkpoint's: WARNING)
 * @batch: after each optimiser step
 * @epoch: after each epoch, once its files are written: its metrics, the
 *   file name of the snapshot saved as the new best (NULL: none) and the
 *   epoch's seconds, validation included
 *
 * Each may be NULL.
 */
typedef struct
{
  void (*notice) (FemoTrainerNotice kind, const gchar * message,
      gpointer user_data);
  void (*batch) (const FemoTrainerProgress * progress, gpointer user_data);
  void (*epoch) (const FemoEpochMetrics * metrics, const gchar * saved,
      gdouble seconds, gpointer user_data);
  gpointer user_data;
} FemoTrainerCallbacks;

typedef struct _FemoTrainer FemoTrainer;

/* Sets up a run: reads the checkpoint of @options->resume (its options fill
 * the unset ones; a set one must agree unless it may change), fills the
 * other unset options with their defaults, checks them
 * (FEMO_ERROR_ARGUMENT), loads the data, FER+ targets and teacher, makes
 * the net (fresh, --init or the checkpoint's) and the optimiser. It makes
 * the directory of --out; no file is written before the first epoch ends.
 * @callbacks (may be NULL) is copied. */
FemoTrainer *femo_trainer_new (const FemoTrainOptions * options,
    const FemoTrainerCallbacks * callbacks, GError ** error);
void femo_trainer_free (FemoTrainer * trainer);

/* Trains epoch after epoch, saving after each, until the run is finished
 * (all epochs, or --patience epochs without a better validation accuracy)
 * or --stop-after epochs of this call are done. */
gboolean femo_trainer_run (FemoTrainer * trainer, GError ** error);

/* The options as the run uses them: defaults and checkpoint applied. */
const FemoTrainOptions *femo_trainer_get_options (FemoTrainer * trainer);
/* "--epochs 60 --batch 32 ...": the options that shape the model, as the
 * model's provenance (femo.train.options) says. */
const gchar *femo_trainer_get_summary (FemoTrainer * trainer);
/* DIR/NAME.ckpt next to --out. */
const gchar *femo_trainer_get_checkpoint_path (FemoTrainer * trainer);
/* Training rows trained on (FER+ leaves out rows without votes) and
 * PublicTest rows validated on. */
guint femo_trainer_get_n_train (FemoTrainer * trainer);
guint femo_trainer_get_n_val (FemoTrainer * trainer);
/* Epochs done, this session and before. */
guint femo_trainer_get_epoch (FemoTrainer * trainer);
gboolean femo_trainer_is_finished (FemoTrainer * trainer);
/* The best PublicTest accuracy so far and its epoch; -1 and epoch 0 before
 * the first epoch. */
gdouble femo_trainer_get_best_accuracy (FemoTrainer * trainer,
    guint * best_epoch);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FemoTrainer, femo_trainer_free)

G_END_DECLS
