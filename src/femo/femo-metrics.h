/* gst-femo: classification metrics and SVG charts for training and eval
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * FemoConfusion:
 * @n_classes: classes
 * @counts: @n_classes x @n_classes; counts[truth * n_classes + predicted]
 */
typedef struct
{
  guint n_classes;
  guint64 *counts;
} FemoConfusion;

FemoConfusion *femo_confusion_new (guint n_classes);
void femo_confusion_free (FemoConfusion * confusion);
void femo_confusion_add (FemoConfusion * confusion, guint truth,
    guint predicted);

guint64 femo_confusion_total (const FemoConfusion * confusion);
/* Images of class @cls (row sum). */
guint64 femo_confusion_support (const FemoConfusion * confusion, guint cls);
/* Fractions in [0, 1]; 0 where the denominator is 0 (as scikit-learn's
 * zero_division=0). */
gdouble femo_confusion_accuracy (const FemoConfusion * confusion);
gdouble femo_confusion_precision (const FemoConfusion * confusion, guint cls);
gdouble femo_confusion_recall (const FemoConfusion * confusion, guint cls);
gdouble femo_confusion_f1 (const FemoConfusion * confusion, guint cls);
/* Unweighted mean of the F1 of every class. */
gdouble femo_confusion_macro_f1 (const FemoConfusion * confusion);

/* A report for people: accuracy, macro-F1, a precision/recall/F1/support
 * table and the matrix (rows true, columns predicted). @labels has
 * n_classes names. */
gchar *femo_confusion_to_text (const FemoConfusion * confusion,
    const gchar * const *labels);
/* The same numbers as one JSON object: n, accuracy, macro_f1, labels,
 * per_class [{label, precision, recall, f1, support}], confusion [[...]]. */
gchar *femo_confusion_to_json (const FemoConfusion * confusion,
    const gchar * const *labels);
/* A heat map, each row coloured by its share of the true class, with the
 * count in each cell. */
gchar *femo_confusion_to_svg (const FemoConfusion * confusion,
    const gchar * const *labels, const gchar * title);

/**
 * FemoEpochMetrics:
 * @epoch: 1-based
 * @lr: the learning rate at the end of the epoch
 * @swa_accuracy: validation accuracy of the weight average (SWA) after this
 *   epoch, negative when there is none
 *
 * What one training epoch measured; losses are mean cross-entropies.
 */
typedef struct
{
  guint epoch;
  gdouble lr;
  gdouble train_loss;
  gdouble train_accuracy;
  gdouble val_loss;
  gdouble val_accuracy;
  gdouble swa_accuracy;
} FemoEpochMetrics;

/* Training curves: loss and accuracy per epoch, training and validation,
 * side by side, the best validation accuracy marked. */
gchar *femo_curves_to_svg (const FemoEpochMetrics * epochs, guint n_epochs,
    const gchar * title);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FemoConfusion, femo_confusion_free)

G_END_DECLS
