/* gst-femo: one plain forward pass of a model over FER2013 images
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "femo-evaluate.h"
#include "femo-augment.h"
#include "femo-error.h"

#include <math.h>
#include <string.h>

/* Images per femo_infer_run call: the workspace stays small. */
#define CHUNK 64

gboolean
femo_evaluate_map_labels (const FemoModel * model,
    guint output_of_class[FEMO_FER_N_CLASSES], GError ** error)
{
  g_auto (GStrv) fer = g_strsplit (FEMO_FER_LABELS, ",", -1);
  const gchar *const *labels = femo_model_get_labels (model);
  guint n = femo_model_get_n_labels (model), c, k;

  if (n != FEMO_FER_N_CLASSES) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
        "the model has %u labels, FER2013 has %d (%s)", n,
        FEMO_FER_N_CLASSES, FEMO_FER_LABELS);
    return FALSE;
  }
  for (c = 0; c < FEMO_FER_N_CLASSES; c++) {
    for (k = 0; k < n; k++)
      if (strcmp (labels[k], fer[c]) == 0)
        break;
    if (k == n) {
      g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
          "the model has no label '%s' (it has %s, ...)", fer[c], labels[0]);
      return FALSE;
    }
    output_of_class[c] = k;
  }
  return TRUE;
}

typedef struct
{
  FemoModel *model;
  const FemoFerSplit *split;
  guint start;
  guint end;
  gfloat *logits;               /* [end - start][K], the worker's scratch */
  guint8 *predicted;            /* per image of the split */
  gdouble *losses;              /* per image of the split */
  gfloat *probs;                /* [split->n][K] softmax, or NULL */
  const guint *output_of_class;
  gboolean flip;                /* average each face with its mirror image */
} Slice;

/* One image's outcome from its logits @z: arg-max, cross-entropy of
 * @truth, softmax into @probs (may be NULL). */
static guint
score_logits (const gfloat * z, guint k, guint truth, gdouble * loss,
    gfloat * probs)
{
  guint best = 0, c;
  gdouble max, sum = 0.0;

  for (c = 1; c < k; c++)
    if (z[c] > z[best])
      best = c;
  max = z[best];
  for (c = 0; c < k; c++)
    sum += exp ((gdouble) z[c] - max);
  *loss = log (sum) + max - z[truth];
  for (c = 0; probs && c < k; c++)
    probs[c] = exp ((gdouble) z[c] - max) / sum;
  return best;
}

/* The same from averaged probabilities @p (flip averaging). */
static guint
score_probs (const gfloat * p, guint k, guint truth, gdouble * loss,
    gfloat * probs)
{
  guint best = 0, c;

  for (c = 1; c < k; c++)
    if (p[c] > p[best])
      best = c;
  *loss = -log (MAX ((gdouble) p[truth], 1e-30));
  if (probs)
    memcpy (probs, p, k * sizeof (gfloat));
  return best;
}

static gpointer
run_slice (gpointer data)
{
  Slice *s = data;
  FemoInfer *infer = femo_infer_new (s->model);
  guint k = femo_model_get_n_labels (s->model);
  guint i, j;

  femo_infer_set_flip (infer, s->flip);
  for (i = s->start; i < s->end; i += CHUNK) {
    guint n = MIN (CHUNK, s->end - i);
    const guint8 *pixels = s->split->pixels + (gsize) i * FEMO_FER_PIXELS;

    /* the scratch holds logits, or with flip the averaged probabilities */
    femo_infer_run (infer, pixels, n, s->flip ? s->logits : NULL,
        s->flip ? NULL : s->logits);
    for (j = 0; j < n; j++) {
      const gfloat *z = s->logits + (gsize) j * k;
      guint truth = s->split->labels[i + j];
      gfloat *probs = s->probs ? s->probs + (gsize) (i + j) * k : NULL;

      if (s->output_of_class)
        truth = s->output_of_class[truth];
      s->predicted[i + j] = s->flip ?
          score_probs (z, k, truth, &s->losses[i + j], probs) :
          score_logits (z, k, truth, &s->losses[i + j], probs);
    }
  }
  femo_infer_free (infer);
  return NULL;
}

static gdouble
evaluate (FemoModel * model, const FemoFerSplit * split,
    const guint * output_of_class, guint n_threads, gboolean flip,
    FemoConfusion * confusion, gfloat * probs)
{
  guint k = femo_model_get_n_labels (model);
  guint i, t, per;
  Slice *slices;
  GThread **threads;
  gdouble *losses, total = 0.0;
  guint8 *predicted;

  g_return_val_if_fail (!confusion || confusion->n_classes == k, NAN);
  if (split->n == 0)
    return 0.0;

  n_threads = CLAMP (n_threads, 1, MAX (1, split->n / CHUNK));
  per = (split->n + n_threads - 1) / n_threads;
  slices = g_new0 (Slice, n_threads);
  threads = g_new0 (GThread *, n_threads);
  losses = g_new (gdouble, split->n);
  predicted = g_new (guint8, split->n);

  for (t = 0; t < n_threads; t++) {
    Slice *s = &slices[t];

    s->model = model;
    s->split = split;
    s->start = MIN (split->n, t * per);
    s->end = MIN (split->n, s->start + per);
    s->logits = g_new (gfloat, (gsize) CHUNK * k);
    s->predicted = predicted;
    s->losses = losses;
    s->probs = probs;
    s->output_of_class = output_of_class;
    s->flip = flip;
    /* The calling thread takes the first slice itself. */
    if (t > 0)
      threads[t] = g_thread_new ("femo-eval", run_slice, s);
  }
  run_slice (&slices[0]);
  for (t = 0; t < n_threads; t++) {
    if (threads[t])
      g_thread_join (threads[t]);
    g_free (slices[t].logits);
  }

  for (i = 0; i < split->n; i++) {
    guint truth = split->labels[i];

    if (confusion)
      femo_confusion_add (confusion,
          output_of_class ? output_of_class[truth] : truth, predicted[i]);
    total += losses[i];
  }
  g_free (losses);
  g_free (predicted);
  g_free (slices);
  g_free (threads);
  return total / split->n;
}

gdouble
femo_evaluate_split (FemoModel * model, const FemoFerSplit * split,
    const guint * output_of_class, guint n_threads, gboolean flip,
    FemoConfusion * confusion)
{
  return evaluate (model, split, output_of_class, n_threads, flip, confusion,
      NULL);
}

void
femo_evaluate_probabilities (FemoModel * model, const FemoFerSplit * split,
    guint n_threads, gfloat * probs)
{
  evaluate (model, split, NULL, n_threads, FALSE, NULL, probs);
}

gboolean
femo_evaluate_recalibrate_bn (FemoNet * net, const FemoFerSplit * split,
    guint n_images, guint batch, GError ** error)
{
  const gdouble momentum = femo_net_get_bn_momentum (net);
  g_autofree gfloat *inputs = NULL;
  guint n_batches, b, i;

  n_images = MIN (n_images, split->n);
  batch = MIN (batch, n_images);
  if (batch < 2) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_ARGUMENT,
        "BN statistics need at least 2 images, the split has %u", split->n);
    return FALSE;
  }
  n_batches = n_images / batch;
  inputs = g_new (gfloat, (gsize) batch * FEMO_FER_PIXELS);
  for (b = 0; b < n_batches; b++) {
    for (i = 0; i < batch; i++) {
      /* evenly spread over the split, in file order */
      const guint64 j = (guint64) (b * batch + i) * split->n /
          (n_batches * batch);

      femo_augment_normalize (split->pixels + j * FEMO_FER_PIXELS,
          FEMO_FER_PIXELS, inputs + (gsize) i * FEMO_FER_PIXELS);
    }
    /* momentum 1/(b+1): the running statistics become the plain mean of
     * the batches' statistics */
    femo_net_set_bn_momentum (net, 1.0 / (b + 1));
    if (!femo_net_update_bn_stats (net, inputs, batch, error)) {
      femo_net_set_bn_momentum (net, momentum);
      return FALSE;
    }
  }
  femo_net_set_bn_momentum (net, momentum);
  return TRUE;
}
