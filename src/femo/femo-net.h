/* gst-femo: the emotion CNN (mini-Xception, docs/mini-xception.md):
 * weights files, batched inference and training (forward + backward).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Two objects:
 *
 * - #FemoNet is the training form: trainable parameters, their gradients
 *   and the batch-norm running statistics, each in one flat slab, plus
 *   labels, channel widths and metadata. It loads and saves weights files
 *   and runs training steps (forward in train mode + backward) split over
 *   n_threads worker threads. It does NOT update the parameters: the
 *   optimizer (Adam with weight decay) lives in femo-optim.c and works on
 *   the slabs returned by femo_net_get_params() / femo_net_get_grads(),
 *   using femo_net_get_tensors() to tell decayed weights from BN/bias
 *   parameters when it wants to.
 *
 * - #FemoModel is the inference form: read-only, reference counted so that
 *   element instances share one, with batch norm folded into the
 *   convolutions (the weights keep PyTorch's OIHW layout, in one slab; the
 *   kernels read them as they are). It holds no scratch memory; each
 *   thread that runs it owns a #FemoInfer, a workspace for the few faces
 *   it runs at once (INFER_CHUNK in femo-infer.c): bigger batches run in
 *   turns, so once it has held that many faces nothing more is allocated.
 *
 * Semantics are PyTorch's: NCHW, OIHW, float32. Batch norm in train mode
 * normalises with the statistics of the whole batch (biased variance, as
 * PyTorch) even when the batch is split over threads, and updates the
 * running averages as PyTorch does (momentum 0.1 unless
 * femo_net_set_bn_momentum says otherwise):
 *   running = 0.9 * running + 0.1 * batch   (running_var takes the unbiased
 *   batch variance, n/(n-1), as PyTorch does).
 * Epsilon is stored in metadata `femo.bn_eps` (default 1e-5, PyTorch).
 */
#pragma once

#include <glib.h>

#include "femo-safetensors.h"

G_BEGIN_DECLS

#define FEMO_NET_INPUT_SIZE 48
#define FEMO_NET_INPUT_PIXELS (FEMO_NET_INPUT_SIZE * FEMO_NET_INPUT_SIZE)
/* stem conv1, stem conv2, block1..block4 */
#define FEMO_NET_N_WIDTHS 6
#define FEMO_NET_MAX_LABELS 64
#define FEMO_NET_MAX_WIDTH 1024
#define FEMO_NET_DEFAULT_BN_EPS 1e-5f

/* 8,8,16,32,64,128 */
extern const guint femo_net_default_channels[FEMO_NET_N_WIDTHS];
/* angry,disgust,fear,happy,sad,surprise,neutral (FER2013 order) */
extern const gchar *const femo_net_default_labels[7];

typedef struct _FemoNet FemoNet;
typedef struct _FemoModel FemoModel;
typedef struct _FemoInfer FemoInfer;

/* Checks one label list against the contract: 2..FEMO_NET_MAX_LABELS labels,
 * each matching [a-z][a-z0-9_-]*, unique, none of label, label_id,
 * confidence, track_id. FEMO_ERROR_INVALID naming the bad label. */
gboolean femo_net_check_labels (const gchar * const *labels, guint n_labels,
    GError ** error);

/* ------------------------------------------------------------------ */
/* Training form                                                        */

/**
 * femo_net_new:
 * @channels: (nullable): FEMO_NET_N_WIDTHS widths, NULL for the default
 * @labels: class names, index order of the output
 * @n_labels: number of labels (K)
 * @bn_eps: batch-norm epsilon (use FEMO_NET_DEFAULT_BN_EPS)
 * @seed: seed of the library's own PRNG
 *
 * A freshly initialised net as PyTorch initialises one: conv weights
 * kaiming_uniform(a=sqrt(5)), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)), head
 * bias the same bound, BN weight 1, bias 0, running mean 0, var 1. The
 * same seed and widths give the same bytes. Metadata starts with the
 * femo.* keys of the contract.
 */
FemoNet *femo_net_new (const guint * channels, const gchar * const *labels,
    guint n_labels, gfloat bn_eps, guint64 seed, GError ** error);
/* Reads and validates a weights file (see femo-safetensors.h for the
 * rules); FEMO_ERROR_IO / _PARSE / _INVALID / _UNSUPPORTED. */
FemoNet *femo_net_load (const gchar * path, GError ** error);
FemoNet *femo_net_load_from_data (const guint8 * data, gsize length,
    GError ** error);
/* The same checks on a container already parsed (which must outlive the
 * call only). */
FemoNet *femo_net_load_from_safetensors (const FemoSafetensors * st,
    GError ** error);
/* Writes the weights file: deterministic bytes (metadata keys sorted,
 * tensors in the contract's order), F32 only, no num_batches_tracked.
 * Atomic (g_file_set_contents). */
gboolean femo_net_save (FemoNet * net, const gchar * path, GError ** error);
GBytes *femo_net_serialize (FemoNet * net);
FemoNet *femo_net_copy (FemoNet * net);
void femo_net_free (FemoNet * net);

const guint *femo_net_get_channels (FemoNet * net);        /* FEMO_NET_N_WIDTHS */
guint femo_net_get_n_labels (FemoNet * net);
const gchar *const *femo_net_get_labels (FemoNet * net);
gfloat femo_net_get_bn_eps (FemoNet * net);
/* Weight of each training batch in the BN running statistics (0 < m <= 1,
 * default 0.1 as PyTorch): running = (1 - m) * running + m * batch. Not
 * saved in weights files. */
void femo_net_set_bn_momentum (FemoNet * net, gdouble momentum);
gdouble femo_net_get_bn_momentum (FemoNet * net);

/* Metadata (string -> string), saved as safetensors __metadata__. The
 * femo.arch, femo.format, femo.labels, femo.input, femo.normalize,
 * femo.bn_eps and femo.channels keys are owned by the net and cannot be
 * set (returns FALSE). Put provenance here (data sha256, options, seed,
 * epochs, val accuracy), never dates or host names. */
gboolean femo_net_set_metadata (FemoNet * net, const gchar * key,
    const gchar * value);
const gchar *femo_net_get_metadata (FemoNet * net, const gchar * key);
/* Sorted keys, NULL-terminated; free with g_strfreev. */
gchar **femo_net_list_metadata (FemoNet * net);

/**
 * FemoNetTensorKind:
 * @FEMO_NET_TENSOR_CONV_WEIGHT: a convolution weight (decayed)
 * @FEMO_NET_TENSOR_BIAS: head.bias
 * @FEMO_NET_TENSOR_BN_WEIGHT: a BN scale (gamma)
 * @FEMO_NET_TENSOR_BN_BIAS: a BN shift (beta)
 * @FEMO_NET_TENSOR_BN_RUNNING_MEAN: running statistics: not trainable,
 *   live in a separate slab (femo_net_get_running_stats)
 * @FEMO_NET_TENSOR_BN_RUNNING_VAR: likewise
 */
typedef enum
{
  FEMO_NET_TENSOR_CONV_WEIGHT,
  FEMO_NET_TENSOR_BIAS,
  FEMO_NET_TENSOR_BN_WEIGHT,
  FEMO_NET_TENSOR_BN_BIAS,
  FEMO_NET_TENSOR_BN_RUNNING_MEAN,
  FEMO_NET_TENSOR_BN_RUNNING_VAR,
} FemoNetTensorKind;

/**
 * FemoNetTensor:
 * @name: the contract's name, e.g. "block1.sep1.pointwise.weight"
 * @kind: what it is
 * @offset: index of its first float in its slab (the parameter slab for
 *   trainable kinds, the running-stats slab for running statistics); the
 *   gradient of a parameter is at the same offset in the gradient slab
 * @length: number of floats
 * @n_dims: 1 or 4
 * @shape: PyTorch shape (unused trailing dims are 0)
 */
typedef struct
{
  const gchar *name;
  FemoNetTensorKind kind;
  gsize offset;
  gsize length;
  guint n_dims;
  guint shape[4];
} FemoNetTensor;

/* All tensors in the contract's order (80 for the default net). */
const FemoNetTensor *femo_net_get_tensors (FemoNet * net, guint * n_tensors);

/* The slabs. Parameters and gradients have the same layout (same
 * offsets); contents are plain PyTorch layout (OIHW), so an optimizer is
 * one loop over floats. */
gfloat *femo_net_get_params (FemoNet * net, gsize * n_params);
gfloat *femo_net_get_grads (FemoNet * net, gsize * n_params);
gfloat *femo_net_get_running_stats (FemoNet * net, gsize * n_stats);

/* Worker threads for femo_net_train_step (persistent, 1 = the calling
 * thread only). The batch is split into n_threads contiguous parts; each
 * thread has its own activation and gradient slabs and the per-thread
 * gradients and BN sums are reduced in thread order, so the same seed,
 * data and thread count give byte-identical results. */
void femo_net_set_n_threads (FemoNet * net, guint n_threads);

/**
 * FemoNetStepResult:
 * @loss: mean cross-entropy over the batch (with smoothing applied to the
 *   targets, as PyTorch's CrossEntropyLoss(label_smoothing=...))
 * @n_correct: samples whose arg-max logit equals the label (or the
 *   arg-max of the soft target row)
 */
typedef struct
{
  gdouble loss;
  guint n_correct;
} FemoNetStepResult;

/**
 * femo_net_train_step:
 * @inputs: [n][1][48][48] floats, already normalised (x/127.5-1) and
 *   augmented by the caller
 * @labels: (nullable): [n] class indices; or
 * @targets: (nullable): [n][K] soft targets (rows summing to 1, e.g.
 *   mixup); exactly one of @labels / @targets is non-NULL
 * @n: batch size, >= 2 (BN needs a batch); any size, the workspace grows
 * @label_smoothing: 0..1; target = (1 - s) * target + s / K
 *
 * Forward in train mode (batch statistics; running statistics updated),
 * then backward: the gradient slab is OVERWRITTEN with d(mean loss)/dparam.
 * Call the optimizer afterwards.
 */
gboolean femo_net_train_step (FemoNet * net, const gfloat * inputs,
    const guint * labels, const gfloat * targets, guint n,
    gfloat label_smoothing, FemoNetStepResult * result, GError ** error);

/**
 * femo_net_update_bn_stats:
 * @inputs: [n][1][48][48] normalised floats
 * @n: batch size, >= 2
 *
 * The train-mode forward pass up to the last batch norm, for its side
 * effect only: every BN running average takes this batch's statistics
 * with the current momentum. Parameters and gradients are untouched.
 * With momentum 1/(i+1) for the i-th call (from 0) the running statistics
 * become the mean over all batches: the "precise BN" recalibration done
 * after weight averaging.
 */
gboolean femo_net_update_bn_stats (FemoNet * net, const gfloat * inputs,
    guint n, GError ** error);

/* ------------------------------------------------------------------ */
/* Inference form                                                       */

FemoModel *femo_model_load (const gchar * path, GError ** error);
FemoModel *femo_model_load_from_data (const guint8 * data, gsize length,
    GError ** error);
/* Snapshot of a net in inference mode (BN running statistics folded):
 * what the trainer evaluates with. */
FemoModel *femo_model_new_from_net (FemoNet * net);
FemoModel *femo_model_ref (FemoModel * model);
void femo_model_unref (FemoModel * model);

guint femo_model_get_n_labels (const FemoModel * model);
const gchar *const *femo_model_get_labels (const FemoModel * model);
const gchar *femo_model_get_metadata (const FemoModel * model,
    const gchar * key);
/* Multiply-adds per face (5,520,448 for the default net, K = 7). */
guint64 femo_model_get_macs (const FemoModel * model);

/* A per-thread workspace for one model (holds a ref). */
FemoInfer *femo_infer_new (FemoModel * model);
void femo_infer_free (FemoInfer * infer);
FemoModel *femo_infer_get_model (FemoInfer * infer);

/**
 * femo_infer_run:
 * @crops: [n][48][48] 8-bit luma, each crop 2304 contiguous bytes
 * @n: batch size (0 is a no-op)
 * @probs: (nullable): [n][K] softmax probabilities, caller-owned
 * @logits: (nullable): [n][K] pre-softmax scores, caller-owned
 *
 * Normalises (x/127.5-1) and runs the net in inference mode, a few faces
 * at a time. Allocates only until the workspace has held a full group.
 */
void femo_infer_run (FemoInfer * infer, const guint8 * crops, guint n,
    gfloat * probs, gfloat * logits);
/* Horizontal-flip averaging: with @flip, femo_infer_run also runs each crop
 * mirrored left-right and gives the mean of the two probabilities (and
 * logits), at twice the cost. Off by default. */
void femo_infer_set_flip (FemoInfer * infer, gboolean flip);
gboolean femo_infer_get_flip (const FemoInfer * infer);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FemoNet, femo_net_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FemoModel, femo_model_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FemoInfer, femo_infer_free)

G_END_DECLS
