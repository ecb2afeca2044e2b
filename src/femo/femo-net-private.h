/* gst-femo: the emotion CNN's internals, shared by the net
 * (femo-net.c), its weights files (femo-net-io.c), its training threads
 * (femo-net-train.c) and inference (femo-infer.c).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "femo-net.h"
#include "femo-kernels.h"

G_BEGIN_DECLS

#define N_BLOCKS 4
#define N_BN (2 + 3 * N_BLOCKS)

/* ------------------------------------------------------------------ */
/* Layout: where every tensor lives in the slabs                         */

typedef struct
{
  guint index;                  /* 0..N_BN-1, for the saved batch stats */
  guint c;
  gsize gamma, beta;            /* in the parameter slab */
  gsize mean, var;              /* in the running-stats slab */
} BnIdx;

typedef struct
{
  guint cin, c, h;              /* input channels, output channels, input size */
  gsize sc, dw1, pw1, dw2, pw2;
  BnIdx sc_bn, bn1, bn2;
} BlockIdx;

typedef struct
{
  guint ch[FEMO_NET_N_WIDTHS];
  guint k;
  gsize conv1, conv2, head_w, head_b;
  BnIdx bn1, bn2;
  BlockIdx blk[N_BLOCKS];
  gsize n_params, n_stats;
  GArray *tensors;              /* FemoNetTensor, names owned (GStringChunk) */
  GStringChunk *names;
  GHashTable *by_name;          /* name -> index + 1 */
} Layout;

/* The training threads' start and sync points (femo-net-train.c). */
typedef struct
{
  GMutex lock;
  GCond cond;
  guint n, waiting, generation;
} Barrier;

/* One training thread's buffers (femo-net-train.c). */
typedef struct _FemoNetWorker FemoNetWorker;

struct _FemoNet
{
  Layout L;
  gchar **labels;
  gfloat bn_eps;
  gdouble bn_momentum;          /* weight of the batch in the running stats */
  gfloat *params, *grads, *stats;
  GHashTable *meta;             /* all keys, owned strings */

  const FemoKernels *kern;
  guint n_threads;
  FemoNetWorker *workers;
  Barrier start, sync;
  gboolean quit;
  gdouble *red;                 /* [2][n_threads][2 * MAX_WIDTH] */
  /* the job */
  const gfloat *inputs;
  const guint *job_labels;
  const gfloat *job_targets;
  guint job_n;
  gfloat smoothing;
  gboolean job_stats_only;      /* forward to the last BN, no loss/grads */
};

/* A net with its layout, owned metadata and zeroed slabs (femo-net.c). */
FemoNet *femo_net_alloc (const guint * ch, const gchar * const *labels,
    guint k, gfloat eps, const gchar * eps_text);
/* TRUE for the femo.* metadata keys that the net's own fields give
 * (femo-net.c). */
gboolean femo_net_is_owned_key (const gchar * key);
/* Joins the training threads and frees their buffers (femo-net-train.c). */
void femo_net_workers_stop (FemoNet * net);

/* The offset of the next buffer of @floats in a slab of which @pos floats
 * are placed, with zeroed slack after every buffer (the kernels read whole
 * vectors past the end) and 64-byte aligned starts. */
static inline gsize
femo_net_take (gsize * pos, gsize floats)
{
  const gsize at = *pos;

  *pos += (floats + FEMO_KERNEL_SLACK + 15) & ~(gsize) 15;
  return at;
}

G_END_DECLS
