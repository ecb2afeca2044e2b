/* gst-femo: the emotion CNN's training steps, forward in train mode and
 * backward, with the batch split over worker threads.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "femo-net-private.h"
#include "femo-error.h"
#include "femo-layers.h"

#include <math.h>
#include <string.h>

static void
barrier_wait (Barrier * b)
{
  guint gen;

  if (b->n == 1)
    return;
  g_mutex_lock (&b->lock);
  gen = b->generation;
  if (++b->waiting == b->n) {
    b->waiting = 0;
    b->generation++;
    g_cond_broadcast (&b->cond);
  } else {
    while (gen == b->generation)
      g_cond_wait (&b->cond, &b->lock);
  }
  g_mutex_unlock (&b->lock);
}

/* One thread's part of a training step: its activations, gradient
 * temporaries, scratch and its own gradient slab. */
struct _FemoNetWorker
{
  FemoNet *net;
  guint index;
  GThread *thread;
  guint cap;                    /* samples the slab is sized for */
  gfloat *slab;
  gfloat *grads;
  guint16 *args[N_BLOCKS];
  /* activations */
  gfloat *x0, *c1, *b1, *c2, *b2, *hout, *logits, *dlogits;
  gfloat *sc[N_BLOCKS], *d1[N_BLOCKS], *e1[N_BLOCKS], *f1[N_BLOCKS],
      *d2[N_BLOCKS], *e2[N_BLOCKS], *out[N_BLOCKS];
  gfloat *g[5];                 /* gradient temporaries */
  gsize g_size;
  gfloat *scratch;
  /* batch statistics of the current step, per BN */
  gfloat *bn_mean[N_BN], *bn_invstd[N_BN];
  gfloat *bn_mem;
  guint parity;
  gdouble part[2 * FEMO_NET_MAX_WIDTH], tot[2 * FEMO_NET_MAX_WIDTH];
  gfloat tmp_a[FEMO_NET_MAX_WIDTH], tmp_b[FEMO_NET_MAX_WIDTH];
  /* this step */
  guint start, n;
  gdouble loss;
  guint correct;
};

/* Sizes (base NULL) or places (base set) the buffers of @wk for @n
 * samples; returns the floats needed. */
static gsize
worker_plan (FemoNetWorker * wk, const Layout * L, guint n, gfloat * base)
{
  gsize pos = 0, scratch = 0, g = 0;
  const guint *ch = L->ch;
#define PLACE(ptr, floats) do { gsize o_ = femo_net_take (&pos, (floats)); \
    if (base) (ptr) = base + o_; } while (0)

  PLACE (wk->x0, (gsize) n * FEMO_NET_INPUT_PIXELS);
  PLACE (wk->c1, (gsize) ch[0] * n * 46 * 46);
  PLACE (wk->b1, (gsize) ch[0] * n * 46 * 46);
  PLACE (wk->c2, (gsize) ch[1] * n * 44 * 44);
  PLACE (wk->b2, (gsize) ch[1] * n * 44 * 44);
  scratch = MAX (femo_conv3x3_scratch_size (1, ch[0], n, 48, 48),
      femo_conv3x3_scratch_size (ch[0], ch[1], n, 46, 46));
  g = MAX ((gsize) ch[0] * 46 * 46, (gsize) ch[1] * 44 * 44);
  for (guint b = 0; b < N_BLOCKS; b++) {
    const BlockIdx *B = &L->blk[b];
    const gsize hh = (gsize) B->h * B->h, oo = (gsize) ((B->h + 1) / 2) *
        ((B->h + 1) / 2);
    PLACE (wk->sc[b], B->c * n * oo);
    PLACE (wk->d1[b], B->cin * n * hh);
    PLACE (wk->e1[b], B->c * n * hh);
    PLACE (wk->f1[b], B->c * n * hh);
    PLACE (wk->d2[b], B->c * n * hh);
    PLACE (wk->e2[b], B->c * n * hh);
    PLACE (wk->out[b], B->c * n * oo);
    scratch = MAX (scratch, femo_shortcut_scratch_size (B->cin, B->c, n,
            B->h, B->h));
    scratch = MAX (scratch, femo_depthwise_scratch_size (B->c, n, B->h,
            B->h));
    scratch = MAX (scratch, femo_pointwise_scratch_size (B->c, B->c));
    scratch = MAX (scratch, femo_pointwise_scratch_size (B->cin, B->c));
    g = MAX (g, MAX (B->c, B->cin) * hh);
  }
  PLACE (wk->hout, (gsize) L->k * n * 9);
  PLACE (wk->logits, (gsize) L->k * n);
  PLACE (wk->dlogits, (gsize) L->k * n);
  scratch = MAX (scratch, femo_conv3x3_scratch_size (ch[5], L->k, n, 3, 3));
  g = MAX (g, (gsize) MAX (ch[5], L->k) * 9);
  wk->g_size = g * n;
  for (guint i = 0; i < G_N_ELEMENTS (wk->g); i++)
    PLACE (wk->g[i], wk->g_size);
  PLACE (wk->scratch, scratch);
#undef PLACE
  return pos;
}

static void
worker_reserve (FemoNetWorker * wk, guint n)
{
  const Layout *L = &wk->net->L;

  if (wk->slab && wk->cap >= n)
    return;
  g_aligned_free (wk->slab);
  for (guint b = 0; b < N_BLOCKS; b++)
    g_free (wk->args[b]);
  wk->cap = MAX (n, 1);
  wk->slab = g_aligned_alloc0 (worker_plan (wk, L, wk->cap, NULL),
      sizeof (gfloat), 64);
  worker_plan (wk, L, wk->cap, wk->slab);
  for (guint b = 0; b < N_BLOCKS; b++) {
    const guint o = (L->blk[b].h + 1) / 2;
    wk->args[b] = g_new0 (guint16, (gsize) L->blk[b].c * wk->cap * o * o);
  }
}

/* Sums @len doubles over the threads, in thread order, into wk->tot. */
static void
reduce (FemoNetWorker * wk, guint len)
{
  FemoNet *net = wk->net;
  const guint T = net->n_threads;
  const gsize stride = 2 * FEMO_NET_MAX_WIDTH;

  if (T == 1) {
    memcpy (wk->tot, wk->part, len * sizeof (gdouble));
    return;
  }
  /* two alternating sets: a thread can only reach the next write to a
   * set after everyone passed the barrier that follows its reads */
  memcpy (net->red + (wk->parity * T + wk->index) * stride, wk->part,
      len * sizeof (gdouble));
  barrier_wait (&net->sync);
  for (guint j = 0; j < len; j++) {
    gdouble s = 0.0;
    for (guint t = 0; t < T; t++)
      s += net->red[(wk->parity * T + t) * stride + j];
    wk->tot[j] = s;
  }
  wk->parity ^= 1;
}

static void
bn_train_forward (FemoNetWorker * wk, const BnIdx * bn, const gfloat * x,
    guint hw, gboolean relu, gfloat * y)
{
  FemoNet *net = wk->net;
  const guint c = bn->c;
  const gsize count = (gsize) wk->n * hw;
  const gdouble total = (gdouble) net->job_n * hw;
  gfloat *mean = wk->bn_mean[bn->index], *invstd = wk->bn_invstd[bn->index];

  femo_bn_partial_sum (net->kern, x, c, count, wk->part);
  reduce (wk, c);
  for (guint i = 0; i < c; i++)
    mean[i] = (gfloat) (wk->tot[i] / total);
  femo_bn_partial_sq (net->kern, x, c, count, mean, wk->part);
  reduce (wk, c);
  for (guint i = 0; i < c; i++) {
    const gdouble var = wk->tot[i] / total;
    invstd[i] = (gfloat) (1.0 / sqrt (var + net->bn_eps));
    if (wk->index == 0) {
      /* PyTorch: momentum 0.1 by default, unbiased variance in the
       * running average */
      const gdouble m = net->bn_momentum;
      const gfloat mf = (gfloat) m;
      gfloat *rm = net->stats + bn->mean, *rv = net->stats + bn->var;
      rm[i] = (1.0f - mf) * rm[i] + mf * mean[i];
      rv[i] = (1.0f - mf) * rv[i] + (gfloat) (m * var * total / (total - 1.0));
    }
  }
  femo_bn_forward (net->kern, x, c, count, mean, invstd, net->params + bn->gamma,
      net->params + bn->beta, relu, y);
}

/* With @relu_y (the output of the ReLU after this BN), dy is first masked
 * by that ReLU, in place. */
static void
bn_train_backward (FemoNetWorker * wk, const BnIdx * bn, gfloat * dy,
    const gfloat * relu_y, const gfloat * x, guint hw, gfloat * dx)
{
  FemoNet *net = wk->net;
  const guint c = bn->c;
  const gsize count = (gsize) wk->n * hw;
  const gdouble total = (gdouble) net->job_n * hw;
  const gfloat *mean = wk->bn_mean[bn->index];
  const gfloat *invstd = wk->bn_invstd[bn->index];

  femo_bn_backward_partial (net->kern, dy, relu_y, x, c, count, mean, invstd,
      wk->part, wk->part + c);
  for (guint i = 0; i < c; i++) {
    wk->grads[bn->gamma + i] += (gfloat) wk->part[c + i];
    wk->grads[bn->beta + i] += (gfloat) wk->part[i];
  }
  reduce (wk, 2 * c);
  for (guint i = 0; i < c; i++) {
    wk->tmp_a[i] = (gfloat) (wk->tot[i] / total);
    wk->tmp_b[i] = (gfloat) (wk->tot[c + i] / total);
  }
  femo_bn_backward (net->kern, dy, x, c, count, mean, invstd, net->params + bn->gamma,
      wk->tmp_a, wk->tmp_b, dx);
}

static void
zero (gfloat * p, gsize n)
{
  memset (p, 0, n * sizeof (gfloat));
}

static void
worker_step (FemoNetWorker * wk)
{
  FemoNet *net = wk->net;
  const Layout *L = &net->L;
  const FemoKernels *k = net->kern;
  const guint n = wk->n, K = L->k;
  const guint *ch = L->ch;
  const gfloat *P = net->params;
  gfloat *G = wk->grads;
  gfloat *S, *dout, *gx;
  const gfloat *xin;

  worker_reserve (wk, n);
  S = wk->scratch;
  zero (G, L->n_params);

  /* forward, train mode */
  memcpy (wk->x0, net->inputs + (gsize) wk->start * FEMO_NET_INPUT_PIXELS,
      (gsize) n * FEMO_NET_INPUT_PIXELS * sizeof (gfloat));
  femo_conv3x3_forward (k, wk->x0, 1, n, 48, 48, 0, P + L->conv1, NULL,
      ch[0], 0, wk->c1, S);
  bn_train_forward (wk, &L->bn1, wk->c1, 46 * 46, TRUE, wk->b1);
  femo_conv3x3_forward (k, wk->b1, ch[0], n, 46, 46, 0, P + L->conv2, NULL,
      ch[1], 0, wk->c2, S);
  bn_train_forward (wk, &L->bn2, wk->c2, 44 * 44, TRUE, wk->b2);
  xin = wk->b2;
  for (guint b = 0; b < N_BLOCKS; b++) {
    const BlockIdx *B = &L->blk[b];
    const guint h = B->h, ho = (h + 1) / 2;
    femo_shortcut_forward (k, xin, B->cin, n, h, h, P + B->sc, NULL, B->c,
        wk->sc[b], S);
    bn_train_forward (wk, &B->sc_bn, wk->sc[b], ho * ho, FALSE, wk->out[b]);
    femo_depthwise_forward (k, xin, B->cin, n, h, h, P + B->dw1, wk->d1[b]);
    femo_pointwise_forward (k, wk->d1[b], B->cin, (gsize) n * h * h,
        P + B->pw1, NULL, B->c, 0, wk->e1[b]);
    bn_train_forward (wk, &B->bn1, wk->e1[b], h * h, TRUE, wk->f1[b]);
    femo_depthwise_forward (k, wk->f1[b], B->c, n, h, h, P + B->dw2,
        wk->d2[b]);
    femo_pointwise_forward (k, wk->d2[b], B->c, (gsize) n * h * h,
        P + B->pw2, NULL, B->c, 0, wk->e2[b]);
    bn_train_forward (wk, &B->bn2, wk->e2[b], h * h, FALSE, wk->g[0]);
    femo_maxpool_forward (k, wk->g[0], B->c, n, h, h, TRUE, wk->out[b],
        wk->args[b]);
    xin = wk->out[b];
  }
  if (net->job_stats_only)
    return;
  femo_conv3x3_forward (k, xin, ch[5], n, 3, 3, 1, P + L->head_w,
      P + L->head_b, K, 0, wk->hout, S);
  femo_gap_forward (wk->hout, K, n, 9, wk->logits);
  wk->correct = 0;
  wk->loss = femo_softmax_xent (wk->logits, n, K,
      net->job_labels ? net->job_labels + wk->start : NULL,
      net->job_targets ? net->job_targets + (gsize) wk->start * K : NULL,
      net->smoothing, 1.0f / net->job_n, NULL, wk->dlogits, &wk->correct);

  /* backward */
  zero (wk->g[0], (gsize) K * n * 9);
  femo_gap_backward (wk->dlogits, K, n, 9, wk->g[0]);
  dout = wk->g[1];
  zero (dout, (gsize) ch[5] * n * 9);
  femo_conv3x3_backward (k, xin, ch[5], n, 3, 3, 1, P + L->head_w, K,
      wk->g[0], dout, G + L->head_w, G + L->head_b, S);
  for (gint b = N_BLOCKS - 1; b >= 0; b--) {
    const BlockIdx *B = &L->blk[b];
    const guint h = B->h, ho = (h + 1) / 2;
    const gsize cnt = (gsize) n * h * h;
    const gfloat *xb = b ? wk->out[b - 1] : wk->b2;
    gfloat *din = dout == wk->g[1] ? wk->g[2] : wk->g[1];
    gfloat *ga = wk->g[0], *gb = wk->g[3], *gc = wk->g[4];

    zero (din, B->cin * cnt);
    /* shortcut path */
    bn_train_backward (wk, &B->sc_bn, dout, NULL, wk->sc[b], ho * ho, ga);
    femo_shortcut_backward (k, xb, B->cin, n, h, h, P + B->sc, B->c, ga, din,
        G + B->sc, S);
    /* main path */
    zero (gb, B->c * cnt);
    femo_maxpool_backward (dout, B->c, n, h, h, wk->args[b], gb);
    bn_train_backward (wk, &B->bn2, gb, NULL, wk->e2[b], h * h, gb);
    femo_pointwise_backward (k, wk->d2[b], B->c, cnt, P + B->pw2, B->c, gb, gc,
        0, G + B->pw2, S);
    zero (gb, B->c * cnt);
    femo_depthwise_backward (k, wk->f1[b], B->c, n, h, h, P + B->dw2, gc, gb,
        G + B->dw2, S);
    bn_train_backward (wk, &B->bn1, gb, wk->f1[b], wk->e1[b], h * h, gb);
    femo_pointwise_backward (k, wk->d1[b], B->cin, cnt, P + B->pw1, B->c, gb,
        gc, 0, G + B->pw1, S);
    femo_depthwise_backward (k, xb, B->cin, n, h, h, P + B->dw1, gc, din,
        G + B->dw1, S);
    dout = din;
  }
  bn_train_backward (wk, &L->bn2, dout, wk->b2, wk->c2, 44 * 44, dout);
  gx = dout == wk->g[1] ? wk->g[2] : wk->g[1];
  zero (gx, (gsize) ch[0] * n * 46 * 46);
  femo_conv3x3_backward (k, wk->b1, ch[0], n, 46, 46, 0, P + L->conv2, ch[1],
      dout, gx, G + L->conv2, NULL, S);
  bn_train_backward (wk, &L->bn1, gx, wk->b1, wk->c1, 46 * 46, gx);
  femo_conv3x3_backward (k, wk->x0, 1, n, 48, 48, 0, P + L->conv1, ch[0], gx,
      NULL, G + L->conv1, NULL, S);
}

static gpointer
worker_main (gpointer data)
{
  FemoNetWorker *wk = data;
  FemoNet *net = wk->net;

  for (;;) {
    barrier_wait (&net->start);
    if (net->quit)
      break;
    worker_step (wk);
    barrier_wait (&net->sync);
  }
  return NULL;
}

static void
workers_start (FemoNet * net)
{
  const guint T = net->n_threads;

  net->workers = g_new0 (FemoNetWorker, T);
  net->red = g_new0 (gdouble, (gsize) 2 * T * 2 * FEMO_NET_MAX_WIDTH);
  net->start.n = net->sync.n = T;
  net->quit = FALSE;
  for (guint t = 0; t < T; t++) {
    FemoNetWorker *wk = &net->workers[t];
    guint off = 0;
    wk->net = net;
    wk->index = t;
    wk->grads = g_new0 (gfloat, net->L.n_params);
    wk->bn_mem = g_new0 (gfloat, (gsize) 2 * N_BN * FEMO_NET_MAX_WIDTH);
    for (guint i = 0; i < N_BN; i++) {
      wk->bn_mean[i] = wk->bn_mem + off;
      wk->bn_invstd[i] = wk->bn_mem + off + FEMO_NET_MAX_WIDTH;
      off += 2 * FEMO_NET_MAX_WIDTH;
    }
    if (t > 0) {
      g_autofree gchar *name = g_strdup_printf ("femo-train-%u", t);
      wk->thread = g_thread_new (name, worker_main, wk);
    }
  }
}

void
femo_net_workers_stop (FemoNet * net)
{
  if (!net->workers)
    return;
  net->quit = TRUE;
  barrier_wait (&net->start);
  for (guint t = 0; t < net->n_threads; t++) {
    FemoNetWorker *wk = &net->workers[t];
    if (wk->thread)
      g_thread_join (wk->thread);
    g_aligned_free (wk->slab);
    for (guint b = 0; b < N_BLOCKS; b++)
      g_free (wk->args[b]);
    g_free (wk->grads);
    g_free (wk->bn_mem);
  }
  g_clear_pointer (&net->workers, g_free);
  g_clear_pointer (&net->red, g_free);
}

void
femo_net_set_n_threads (FemoNet * net, guint n_threads)
{
  n_threads = CLAMP (n_threads, 1, 64);
  if (n_threads == net->n_threads)
    return;
  femo_net_workers_stop (net);
  net->n_threads = n_threads;
}


/* Runs one batch over the workers: thread t takes a contiguous part. */
static void
run_job (FemoNet * net, const gfloat * inputs, const guint * labels,
    const gfloat * targets, guint n, gfloat label_smoothing,
    gboolean stats_only)
{
  const guint T = net->n_threads;
  guint start = 0;

  if (!net->workers)
    workers_start (net);
  net->inputs = inputs;
  net->job_labels = labels;
  net->job_targets = targets;
  net->job_n = n;
  net->smoothing = label_smoothing;
  net->job_stats_only = stats_only;
  for (guint t = 0; t < T; t++) {
    FemoNetWorker *wk = &net->workers[t];
    wk->start = start;
    wk->n = n / T + (t < n % T);
    start += wk->n;
  }
  barrier_wait (&net->start);
  worker_step (&net->workers[0]);
  barrier_wait (&net->sync);
}

gboolean
femo_net_update_bn_stats (FemoNet * net, const gfloat * inputs, guint n,
    GError ** error)
{
  if (n < 2 || !inputs) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_ARGUMENT,
        "BN statistics: need a batch of 2 or more images");
    return FALSE;
  }
  run_job (net, inputs, NULL, NULL, n, 0.0f, TRUE);
  return TRUE;
}

gboolean
femo_net_train_step (FemoNet * net, const gfloat * inputs,
    const guint * labels, const gfloat * targets, guint n,
    gfloat label_smoothing, FemoNetStepResult * result, GError ** error)
{
  const guint T = net->n_threads, K = net->L.k;
  gdouble loss = 0.0;
  guint correct = 0;

  if (n < 2 || !inputs || (labels == NULL) == (targets == NULL)
      || !(label_smoothing >= 0.0f && label_smoothing <= 1.0f)) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_ARGUMENT,
        "train step: need a batch of 2 or more, inputs, exactly one of "
        "labels and targets, smoothing in [0, 1]");
    return FALSE;
  }
  for (guint i = 0; labels && i < n; i++)
    if (labels[i] >= K) {
      g_set_error (error, FEMO_ERROR, FEMO_ERROR_ARGUMENT,
          "train step: label %u of sample %u is not below %u", labels[i], i,
          K);
      return FALSE;
    }

  run_job (net, inputs, labels, targets, n, label_smoothing, FALSE);

  /* fixed order: thread 0, 1, ... */
  if (T == 1) {
    memcpy (net->grads, net->workers[0].grads,
        net->L.n_params * sizeof (gfloat));
  } else {
    for (gsize i = 0; i < net->L.n_params; i++) {
      gfloat s = 0.0f;
      for (guint t = 0; t < T; t++)
        s += net->workers[t].grads[i];
      net->grads[i] = s;
    }
  }
  for (guint t = 0; t < T; t++) {
    loss += net->workers[t].loss;
    correct += net->workers[t].correct;
  }
  if (result) {
    result->loss = loss / n;
    result->n_correct = correct;
  }
  return TRUE;
}
