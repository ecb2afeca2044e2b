/* gst-femo: one plain forward pass of a model over FER2013 images
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "femo-fer.h"
#include "femo-metrics.h"
#include "femo-net.h"

G_BEGIN_DECLS

/* Looks up each FER2013 class (angry ... neutral) among the labels of
 * @model: @output_of_class[c] is the output index of class c. Fails
 * (FEMO_ERROR_INVALID) naming a class the model lacks or an extra label. */
gboolean femo_evaluate_map_labels (const FemoModel * model,
    guint output_of_class[FEMO_FER_N_CLASSES], GError ** error);

/* Runs @model on every image of @split, @n_threads threads each with its
 * own workspace; with @flip each image is also run mirrored and the two
 * probabilities averaged (femo_infer_set_flip), else no test-time
 * augmentation. Adds each (true, predicted)
 * pair to @confusion (indexed by model output; the truth is mapped through
 * @output_of_class, NULL for the identity) and returns the mean
 * cross-entropy of the true class, summed in image order so that it does
 * not depend on the thread count. */
gdouble femo_evaluate_split (FemoModel * model, const FemoFerSplit * split,
    const guint * output_of_class, guint n_threads, gboolean flip,
    FemoConfusion * confusion);

/* The softmax probabilities of @model for every image of @split:
 * @probs is [split->n][K], K the model's labels in its output order; the
 * same forward pass as femo_evaluate_split. */
void femo_evaluate_probabilities (FemoModel * model,
    const FemoFerSplit * split, guint n_threads, gfloat * probs);

/* "Precise BN": replaces the batch-norm running statistics of @net by their
 * mean over @n_images images of @split (evenly spread, unaugmented, as
 * inference sees them) in batches of @batch, the weights unchanged. The
 * running averages of training follow the last few hundred images only,
 * and a weight average (SWA) has no statistics of its own. Deterministic
 * for the same net, split and thread count. */
gboolean femo_evaluate_recalibrate_bn (FemoNet * net,
    const FemoFerSplit * split, guint n_images, guint batch, GError ** error);

G_END_DECLS
