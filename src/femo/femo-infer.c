/* gst-femo: the emotion CNN's inference form: a read-only model with batch
 * norm folded into the convolutions, run in chunks of a few faces.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "femo-net-private.h"
#include "femo-layers.h"

#include <string.h>

/* Inference runs at most this many faces at once: enough to fill the
 * vectors of the 3x3 blocks, few enough that a layer's activations stay
 * in L2 (64 streamed them through memory: batch 64 was 10% slower). */
#define INFER_CHUNK 4

typedef struct
{
  gsize sc_w, sc_b, dw1, pw1_w, pw1_b, dw2, pw2_w, pw2_b;
} FoldedBlock;

struct _FemoModel
{
  gint ref_count;
  guint ch[FEMO_NET_N_WIDTHS];
  guint k;
  guint h[N_BLOCKS];
  gchar **labels;
  GHashTable *meta;
  guint64 macs;
  /* batch norm folded into the convolution before it */
  gfloat *w;
  gsize conv1_w, conv1_b, conv2_w, conv2_b, head_w, head_b;
  FoldedBlock blk[N_BLOCKS];
};

struct _FemoInfer
{
  FemoModel *model;
  const FemoKernels *kern;
  guint cap;
  gboolean flip;                /* also run each face mirrored, average */
  gfloat *slab;
  gfloat *x0, *p, *q, *t1, *t2, *logits, *probs, *scratch;
};

/* Copies conv weights [co][rest] scaled per output channel by the BN
 * after it, and the BN's shift as bias. */
static void
fold_conv (FemoNet * net, gsize w_off, gsize rest, const BnIdx * bn,
    gfloat * dst_w, gfloat * dst_b)
{
  g_autofree gfloat *scale = g_new (gfloat, bn->c);

  femo_bn_fold (net->params + bn->gamma, net->params + bn->beta,
      net->stats + bn->mean, net->stats + bn->var, net->bn_eps, bn->c, scale,
      dst_b);
  for (guint o = 0; o < bn->c; o++)
    for (gsize j = 0; j < rest; j++)
      dst_w[o * rest + j] = net->params[w_off + o * rest + j] * scale[o];
}

FemoModel *
femo_model_new_from_net (FemoNet * net)
{
  const Layout *L = &net->L;
  FemoModel *m = g_new0 (FemoModel, 1);
  gsize pos = 0;
  GHashTableIter it;
  gpointer key, value;
  const guint *ch = L->ch;

  m->ref_count = 1;
  memcpy (m->ch, ch, sizeof (m->ch));
  m->k = L->k;
  m->labels = g_strdupv (net->labels);
  m->meta = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_hash_table_iter_init (&it, net->meta);
  while (g_hash_table_iter_next (&it, &key, &value))
    g_hash_table_insert (m->meta, g_strdup (key), g_strdup (value));

  /* the folded net has the same weights plus one bias per BN */
  m->w = g_new0 (gfloat, L->n_params);
#define ALLOC(field, n) (m->field = pos, pos += (n))
  ALLOC (conv1_w, (gsize) ch[0] * 9);
  ALLOC (conv1_b, ch[0]);
  fold_conv (net, L->conv1, 9, &L->bn1, m->w + m->conv1_w, m->w + m->conv1_b);
  ALLOC (conv2_w, (gsize) ch[1] * ch[0] * 9);
  ALLOC (conv2_b, ch[1]);
  fold_conv (net, L->conv2, (gsize) ch[0] * 9, &L->bn2, m->w + m->conv2_w,
      m->w + m->conv2_b);
  m->macs = (guint64) ch[0] * 46 * 46 * 9 + (guint64) ch[1] * ch[0] * 44 * 44
      * 9;
  for (guint b = 0; b < N_BLOCKS; b++) {
    const BlockIdx *B = &L->blk[b];
    FoldedBlock *F = &m->blk[b];
    const guint64 hh = (guint64) B->h * B->h, oo = (guint64) ((B->h + 1) / 2)
        * ((B->h + 1) / 2);
    m->h[b] = B->h;
    ALLOC (blk[b].sc_w, (gsize) B->c * B->cin);
    ALLOC (blk[b].sc_b, B->c);
    fold_conv (net, B->sc, B->cin, &B->sc_bn, m->w + F->sc_w, m->w + F->sc_b);
    ALLOC (blk[b].dw1, (gsize) B->cin * 9);
    memcpy (m->w + F->dw1, net->params + B->dw1, B->cin * 9 * sizeof (gfloat));
    ALLOC (blk[b].pw1_w, (gsize) B->c * B->cin);
    ALLOC (blk[b].pw1_b, B->c);
    fold_conv (net, B->pw1, B->cin, &B->bn1, m->w + F->pw1_w,
        m->w + F->pw1_b);
    ALLOC (blk[b].dw2, (gsize) B->c * 9);
    memcpy (m->w + F->dw2, net->params + B->dw2, B->c * 9 * sizeof (gfloat));
    ALLOC (blk[b].pw2_w, (gsize) B->c * B->c);
    ALLOC (blk[b].pw2_b, B->c);
    fold_conv (net, B->pw2, B->c, &B->bn2, m->w + F->pw2_w, m->w + F->pw2_b);
    m->macs += oo * B->c * B->cin + hh * B->cin * 9 + hh * B->c * B->cin +
        hh * B->c * 9 + hh * B->c * B->c;
  }
  ALLOC (head_w, (gsize) L->k * ch[5] * 9);
  ALLOC (head_b, L->k);
#undef ALLOC
  g_assert (pos <= L->n_params);
  memcpy (m->w + m->head_w, net->params + L->head_w,
      (gsize) L->k * ch[5] * 9 * sizeof (gfloat));
  memcpy (m->w + m->head_b, net->params + L->head_b, L->k * sizeof (gfloat));
  m->macs += (guint64) L->k * ch[5] * 9 * 9;
  return m;
}

FemoModel *
femo_model_load_from_data (const guint8 * data, gsize length, GError ** error)
{
  g_autoptr (FemoNet) net = femo_net_load_from_data (data, length, error);
  return net ? femo_model_new_from_net (net) : NULL;
}

FemoModel *
femo_model_load (const gchar * path, GError ** error)
{
  g_autoptr (FemoNet) net = femo_net_load (path, error);
  return net ? femo_model_new_from_net (net) : NULL;
}

FemoModel *
femo_model_ref (FemoModel * model)
{
  g_return_val_if_fail (model != NULL, NULL);
  g_atomic_int_inc (&model->ref_count);
  return model;
}

void
femo_model_unref (FemoModel * model)
{
  if (!model || !g_atomic_int_dec_and_test (&model->ref_count))
    return;
  g_strfreev (model->labels);
  g_hash_table_unref (model->meta);
  g_free (model->w);
  g_free (model);
}

guint
femo_model_get_n_labels (const FemoModel * model)
{
  return model->k;
}

const gchar *const *
femo_model_get_labels (const FemoModel * model)
{
  return (const gchar * const *) model->labels;
}

const gchar *
femo_model_get_metadata (const FemoModel * model, const gchar * key)
{
  return g_hash_table_lookup (model->meta, key);
}

guint64
femo_model_get_macs (const FemoModel * model)
{
  return model->macs;
}

FemoInfer *
femo_infer_new (FemoModel * model)
{
  FemoInfer *inf = g_new0 (FemoInfer, 1);

  inf->model = femo_model_ref (model);
  inf->kern = femo_kernels_get ();
  return inf;
}

void
femo_infer_free (FemoInfer * infer)
{
  if (!infer)
    return;
  g_aligned_free (infer->slab);
  femo_model_unref (infer->model);
  g_free (infer);
}

FemoModel *
femo_infer_get_model (FemoInfer * infer)
{
  return infer->model;
}

static gsize
infer_plan (FemoInfer * inf, guint n, gfloat * base)
{
  const FemoModel *m = inf->model;
  const guint *ch = m->ch;
  gsize pos = 0, act, scratch;
#define PLACE(ptr, floats) do { gsize o_ = femo_net_take (&pos, (floats)); \
    if (base) (ptr) = base + o_; } while (0)

  act = MAX ((gsize) ch[0] * 46 * 46, (gsize) ch[1] * 44 * 44);
  scratch = MAX (femo_conv3x3_scratch_size (1, ch[0], n, 48, 48),
      femo_conv3x3_scratch_size (ch[0], ch[1], n, 46, 46));
  for (guint b = 0; b < N_BLOCKS; b++) {
    const guint cin = b ? ch[1 + b] : ch[1], c = ch[2 + b], h = m->h[b];
    act = MAX (act, (gsize) MAX (c, cin) * h * h);
    scratch = MAX (scratch, femo_shortcut_scratch_size (cin, c, n, h, h));
  }
  scratch = MAX (scratch, femo_conv3x3_gap_scratch_size (ch[5]));
  PLACE (inf->x0, (gsize) n * FEMO_NET_INPUT_PIXELS);
  PLACE (inf->p, act * n);
  PLACE (inf->q, act * n);
  PLACE (inf->t1, act * n);
  PLACE (inf->t2, act * n);
  PLACE (inf->logits, (gsize) m->k * n);
  PLACE (inf->probs, (gsize) m->k * n);
  PLACE (inf->scratch, scratch);
#undef PLACE
  return pos;
}

static void
infer_reserve (FemoInfer * inf, guint n)
{
  if (inf->slab && inf->cap >= n)
    return;
  g_aligned_free (inf->slab);
  inf->cap = n;
  inf->slab = g_aligned_alloc0 (infer_plan (inf, n, NULL), sizeof (gfloat),
      64);
  infer_plan (inf, n, inf->slab);
}

/* The net on inf->x0 (n normalised images) into logits [n][k]. */
static void
infer_chunk (FemoInfer * inf, guint n, gfloat * logits)
{
  const FemoModel *m = inf->model;
  const FemoKernels *k = inf->kern;
  const guint *ch = m->ch;
  const gfloat *W = m->w;
  gfloat *S = inf->scratch, *x = inf->q, *o = inf->p;
  guint cin = ch[1];

  femo_conv3x3_forward (k, inf->x0, 1, n, 48, 48, 0, W + m->conv1_w,
      W + m->conv1_b, ch[0], FEMO_CONV_RELU, inf->p, S);
  femo_conv3x3_forward (k, inf->p, ch[0], n, 46, 46, 0, W + m->conv2_w,
      W + m->conv2_b, ch[1], FEMO_CONV_RELU, inf->q, S);
  for (guint b = 0; b < N_BLOCKS; b++) {
    const FoldedBlock *F = &m->blk[b];
    const guint c = ch[2 + b], h = m->h[b];
    const gsize cnt = (gsize) n * h * h;
    gfloat *swap;

    femo_shortcut_forward (k, x, cin, n, h, h, W + F->sc_w, W + F->sc_b, c, o,
        S);
    femo_depthwise_forward (k, x, cin, n, h, h, W + F->dw1, inf->t1);
    femo_pointwise_forward (k, inf->t1, cin, cnt, W + F->pw1_w, W + F->pw1_b,
        c, FEMO_CONV_RELU, inf->t2);
    femo_depthwise_forward (k, inf->t2, c, n, h, h, W + F->dw2, inf->t1);
    femo_pointwise_forward (k, inf->t1, c, cnt, W + F->pw2_w, W + F->pw2_b, c,
        0, inf->t2);
    femo_maxpool_add_infer (k, inf->t2, c, n, h, h, o);
    swap = x;
    x = o;
    o = swap;
    cin = c;
  }
  femo_conv3x3_gap_forward (k, x, ch[5], n, 3, 3, W + m->head_w,
      W + m->head_b, m->k, logits, S);
}

void
femo_infer_set_flip (FemoInfer * infer, gboolean flip)
{
  infer->flip = flip;
}

gboolean
femo_infer_get_flip (const FemoInfer * infer)
{
  return infer->flip;
}

/* Normalises @c crops into x0; with flip, their mirror images follow. */
static void
infer_load (FemoInfer * inf, const guint8 * src, guint c)
{
  const gsize pixels = (gsize) c * FEMO_NET_INPUT_PIXELS;
  const guint side = FEMO_NET_INPUT_SIZE;

  for (gsize i = 0; i < pixels; i++)
    inf->x0[i] = src[i] / 127.5f - 1.0f;
  if (!inf->flip)
    return;
  for (gsize row = 0; row < (gsize) c * side; row++) {
    const gfloat *in = inf->x0 + row * side;
    gfloat *out = inf->x0 + pixels + row * side;

    for (guint x = 0; x < side; x++)
      out[x] = in[side - 1 - x];
  }
}

void
femo_infer_run (FemoInfer * infer, const guint8 * crops, guint n,
    gfloat * probs, gfloat * logits)
{
  const guint k = infer->model->k;
  const guint views = infer->flip ? 2 : 1;

  for (guint done = 0; done < n;) {
    const guint c = MIN (n - done, INFER_CHUNK);
    const gsize out = (gsize) c * k;
    gfloat *lg = logits ? logits + (gsize) done * k : NULL;
    gfloat *pr = probs ? probs + (gsize) done * k : NULL;

    infer_reserve (infer, c * views);
    infer_load (infer, crops + (gsize) done * FEMO_NET_INPUT_PIXELS, c);
    /* the x0 slack stays zero: only the loaded floats are ever written,
     * and a smaller chunk leaves finite values the kernels read as junk */
    infer_chunk (infer, c * views, infer->logits);
    if (views == 1) {
      if (lg)
        memcpy (lg, infer->logits, out * sizeof (gfloat));
      if (pr)
        femo_softmax (infer->logits, c, k, pr);
    } else {
      /* the mean of the two views' probabilities (and of their logits) */
      femo_softmax (infer->logits, 2 * c, k, infer->probs);
      for (gsize i = 0; i < out; i++) {
        if (lg)
          lg[i] = 0.5f * (infer->logits[i] + infer->logits[out + i]);
        if (pr)
          pr[i] = 0.5f * (infer->probs[i] + infer->probs[out + i]);
      }
    }
    done += c;
  }
}
