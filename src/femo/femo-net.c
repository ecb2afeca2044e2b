/* gst-femo: the emotion CNN (mini-Xception): weights files, batched
 * inference with folded batch norm, and threaded training steps
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "femo-net.h"
#include "femo-error.h"
#include "femo-layers.h"
#include "femo-rng.h"
#include "femo-safetensors.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SLACK FEMO_KERNEL_SLACK
#define N_BLOCKS 4
#define N_BN (2 + 3 * N_BLOCKS)
/* Inference runs at most this many faces at once: enough to fill the
 * vectors of the 3x3 blocks, few enough that a layer's activations stay
 * in L2 (64 streamed them through memory: batch 64 was 10% slower). */
#define INFER_CHUNK 4

const guint femo_net_default_channels[FEMO_NET_N_WIDTHS] =
    { 8, 8, 16, 32, 64, 128 };
const gchar *const femo_net_default_labels[7] =
    { "angry", "disgust", "fear", "happy", "sad", "surprise", "neutral" };

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

static gsize
add_tensor (Layout * L, const gchar * name, FemoNetTensorKind kind,
    guint n_dims, guint d0, guint d1, guint d2, guint d3)
{
  FemoNetTensor t = { 0 };
  const gboolean stat = kind == FEMO_NET_TENSOR_BN_RUNNING_MEAN
      || kind == FEMO_NET_TENSOR_BN_RUNNING_VAR;

  t.name = g_string_chunk_insert (L->names, name);
  t.kind = kind;
  t.n_dims = n_dims;
  t.shape[0] = d0;
  t.shape[1] = d1;
  t.shape[2] = d2;
  t.shape[3] = d3;
  t.length = (gsize) d0 * (n_dims > 1 ? (gsize) d1 * d2 * d3 : 1);
  t.offset = stat ? L->n_stats : L->n_params;
  if (stat)
    L->n_stats += t.length;
  else
    L->n_params += t.length;
  g_array_append_val (L->tensors, t);
  g_hash_table_insert (L->by_name, (gpointer) t.name,
      GUINT_TO_POINTER (L->tensors->len));
  return t.offset;
}

static gsize
add_conv (Layout * L, const gchar * name, guint co, guint ci, guint ks)
{
  g_autofree gchar *full = g_strconcat (name, ".weight", NULL);
  return add_tensor (L, full, FEMO_NET_TENSOR_CONV_WEIGHT, 4, co, ci, ks, ks);
}

static void
add_bn (Layout * L, const gchar * name, guint c, guint * n_bn, BnIdx * bn)
{
  static const gchar *suffix[4] =
      { ".weight", ".bias", ".running_mean", ".running_var" };
  gsize off[4];

  for (guint i = 0; i < 4; i++) {
    g_autofree gchar *full = g_strconcat (name, suffix[i], NULL);
    off[i] = add_tensor (L, full, FEMO_NET_TENSOR_BN_WEIGHT + i, 1, c, 0, 0, 0);
  }
  bn->index = (*n_bn)++;
  bn->c = c;
  bn->gamma = off[0];
  bn->beta = off[1];
  bn->mean = off[2];
  bn->var = off[3];
}

static void
layout_init (Layout * L, const guint * ch, guint k)
{
  guint n_bn = 0, h = FEMO_NET_INPUT_SIZE - 4, cin = ch[1];

  memset (L, 0, sizeof (*L));
  memcpy (L->ch, ch, sizeof (L->ch));
  L->k = k;
  L->tensors = g_array_new (FALSE, TRUE, sizeof (FemoNetTensor));
  L->names = g_string_chunk_new (1024);
  L->by_name = g_hash_table_new (g_str_hash, g_str_equal);

  L->conv1 = add_conv (L, "stem.conv1", ch[0], 1, 3);
  add_bn (L, "stem.bn1", ch[0], &n_bn, &L->bn1);
  L->conv2 = add_conv (L, "stem.conv2", ch[1], ch[0], 3);
  add_bn (L, "stem.bn2", ch[1], &n_bn, &L->bn2);
  for (guint b = 0; b < N_BLOCKS; b++) {
    BlockIdx *B = &L->blk[b];
    const guint c = ch[2 + b];
    gchar p[64];

    B->cin = cin;
    B->c = c;
    B->h = h;
#define NAME(s) (g_snprintf (p, sizeof (p), "block%u." s, b + 1), p)
    B->sc = add_conv (L, NAME ("shortcut"), c, cin, 1);
    add_bn (L, NAME ("shortcut_bn"), c, &n_bn, &B->sc_bn);
    B->dw1 = add_conv (L, NAME ("sep1.depthwise"), cin, 1, 3);
    B->pw1 = add_conv (L, NAME ("sep1.pointwise"), c, cin, 1);
    add_bn (L, NAME ("bn1"), c, &n_bn, &B->bn1);
    B->dw2 = add_conv (L, NAME ("sep2.depthwise"), c, 1, 3);
    B->pw2 = add_conv (L, NAME ("sep2.pointwise"), c, c, 1);
    add_bn (L, NAME ("bn2"), c, &n_bn, &B->bn2);
#undef NAME
    cin = c;
    h = (h + 1) / 2;
  }
  L->head_w = add_conv (L, "head", k, cin, 3);
  L->head_b = add_tensor (L, "head.bias", FEMO_NET_TENSOR_BIAS, 1, k, 0, 0, 0);
}

static void
layout_clear (Layout * L)
{
  if (L->tensors)
    g_array_unref (L->tensors);
  if (L->names)
    g_string_chunk_free (L->names);
  if (L->by_name)
    g_hash_table_unref (L->by_name);
  memset (L, 0, sizeof (*L));
}

/* ------------------------------------------------------------------ */
/* Threads                                                               */

typedef struct
{
  GMutex lock;
  GCond cond;
  guint n, waiting, generation;
} Barrier;

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
typedef struct
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
} Worker;

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
  Worker *workers;
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

/* ------------------------------------------------------------------ */
/* Labels and metadata                                                   */

gboolean
femo_net_check_labels (const gchar * const *labels, guint n_labels,
    GError ** error)
{
  static const gchar *reserved[] =
      { "label", "label_id", "confidence", "track_id" };

  if (n_labels < 2 || n_labels > FEMO_NET_MAX_LABELS) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
        "femo.labels: %u labels, expected 2 to %d", n_labels,
        FEMO_NET_MAX_LABELS);
    return FALSE;
  }
  for (guint i = 0; i < n_labels; i++) {
    const gchar *l = labels[i];
    gboolean ok = l[0] >= 'a' && l[0] <= 'z';
    for (const gchar * p = l + 1; ok && *p; p++)
      ok = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'
          || *p == '-';
    if (!ok) {
      g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
          "femo.labels: label '%s' does not match [a-z][a-z0-9_-]*", l);
      return FALSE;
    }
    for (guint r = 0; r < G_N_ELEMENTS (reserved); r++)
      if (strcmp (l, reserved[r]) == 0) {
        g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
            "femo.labels: '%s' is a reserved name", l);
        return FALSE;
      }
    for (guint j = 0; j < i; j++)
      if (strcmp (l, labels[j]) == 0) {
        g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
            "femo.labels: label '%s' appears twice", l);
        return FALSE;
      }
  }
  return TRUE;
}

static const gchar *owned_keys[] = {
  "femo.arch", "femo.format", "femo.labels", "femo.input", "femo.normalize",
  "femo.bn_eps", "femo.channels",
};

static gboolean
is_owned_key (const gchar * key)
{
  for (guint i = 0; i < G_N_ELEMENTS (owned_keys); i++)
    if (strcmp (key, owned_keys[i]) == 0)
      return TRUE;
  return FALSE;
}

static gchar *
channels_string (const guint * ch)
{
  return g_strdup_printf ("%u,%u,%u,%u,%u,%u", ch[0], ch[1], ch[2], ch[3],
      ch[4], ch[5]);
}

/* The femo.* keys from the net's own fields; @eps_text keeps a loaded
 * file's spelling so that a round trip gives the same bytes. */
static void
set_owned_metadata (GHashTable * meta, const guint * ch,
    const gchar * const *labels, const gchar * eps_text)
{
  g_hash_table_insert (meta, g_strdup ("femo.arch"),
      g_strdup ("mini-xception"));
  g_hash_table_insert (meta, g_strdup ("femo.format"), g_strdup ("1"));
  g_hash_table_insert (meta, g_strdup ("femo.labels"),
      g_strjoinv (",", (gchar **) labels));
  g_hash_table_insert (meta, g_strdup ("femo.input"), g_strdup ("48x48"));
  g_hash_table_insert (meta, g_strdup ("femo.normalize"),
      g_strdup ("x/127.5-1"));
  g_hash_table_insert (meta, g_strdup ("femo.bn_eps"), g_strdup (eps_text));
  g_hash_table_insert (meta, g_strdup ("femo.channels"),
      channels_string (ch));
}

/* ------------------------------------------------------------------ */
/* Construction                                                          */

static FemoNet *
net_alloc (const guint * ch, const gchar * const *labels, guint k,
    gfloat eps, const gchar * eps_text)
{
  FemoNet *net = g_new0 (FemoNet, 1);

  layout_init (&net->L, ch, k);
  net->labels = g_new0 (gchar *, k + 1);
  for (guint i = 0; i < k; i++)
    net->labels[i] = g_strdup (labels[i]);
  net->bn_eps = eps;
  net->bn_momentum = 0.1;
  net->params = g_new0 (gfloat, net->L.n_params);
  net->grads = g_new0 (gfloat, net->L.n_params);
  net->stats = g_new0 (gfloat, net->L.n_stats);
  net->meta = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  set_owned_metadata (net->meta, ch, labels, eps_text);
  net->kern = femo_kernels_get ();
  net->n_threads = 1;
  g_mutex_init (&net->start.lock);
  g_cond_init (&net->start.cond);
  g_mutex_init (&net->sync.lock);
  g_cond_init (&net->sync.cond);
  return net;
}

static gboolean
check_channels (const guint * ch, GError ** error)
{
  for (guint i = 0; i < FEMO_NET_N_WIDTHS; i++)
    if (ch[i] < 1 || ch[i] > FEMO_NET_MAX_WIDTH) {
      g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
          "femo.channels: width %u is out of range 1..%d", ch[i],
          FEMO_NET_MAX_WIDTH);
      return FALSE;
    }
  return TRUE;
}

FemoNet *
femo_net_new (const guint * channels, const gchar * const *labels,
    guint n_labels, gfloat bn_eps, guint64 seed, GError ** error)
{
  const guint *ch = channels ? channels : femo_net_default_channels;
  gchar eps_text[G_ASCII_DTOSTR_BUF_SIZE];
  FemoNet *net;
  FemoRng rng;

  if (!check_channels (ch, error)
      || !femo_net_check_labels (labels, n_labels, error))
    return NULL;
  if (!(bn_eps > 0.0f && bn_eps < 1.0f)) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_ARGUMENT,
        "batch-norm epsilon %g is not in (0, 1)", bn_eps);
    return NULL;
  }
  g_ascii_formatd (eps_text, sizeof (eps_text), "%g", bn_eps);
  net = net_alloc (ch, labels, n_labels, bn_eps, eps_text);

  /* PyTorch's defaults: kaiming_uniform_(a=sqrt(5)) on conv weights is
   * U(-1/sqrt(fan_in), 1/sqrt(fan_in)), the bias uses the same bound. */
  femo_rng_init (&rng, seed, 0);
  for (guint i = 0; i < net->L.tensors->len; i++) {
    const FemoNetTensor *t = &g_array_index (net->L.tensors, FemoNetTensor, i);
    const FemoNetTensor *w = t - 1;
    gfloat *dst = t->kind <= FEMO_NET_TENSOR_BN_BIAS ? net->params + t->offset
        : net->stats + t->offset;
    gdouble bound;

    switch (t->kind) {
      case FEMO_NET_TENSOR_CONV_WEIGHT:
      case FEMO_NET_TENSOR_BIAS:
        if (t->kind == FEMO_NET_TENSOR_BIAS)
          bound = 1.0 / sqrt ((gdouble) w->shape[1] * w->shape[2] *
              w->shape[3]);
        else
          bound = 1.0 / sqrt ((gdouble) t->shape[1] * t->shape[2] *
              t->shape[3]);
        for (gsize j = 0; j < t->length; j++)
          dst[j] = (gfloat) femo_rng_range (&rng, -bound, bound);
        break;
      case FEMO_NET_TENSOR_BN_WEIGHT:
      case FEMO_NET_TENSOR_BN_RUNNING_VAR:
        for (gsize j = 0; j < t->length; j++)
          dst[j] = 1.0f;
        break;
      default:
        break;
    }
  }
  return net;
}

static void workers_stop (FemoNet * net);

void
femo_net_free (FemoNet * net)
{
  if (!net)
    return;
  workers_stop (net);
  layout_clear (&net->L);
  g_strfreev (net->labels);
  g_free (net->params);
  g_free (net->grads);
  g_free (net->stats);
  g_hash_table_unref (net->meta);
  g_mutex_clear (&net->start.lock);
  g_cond_clear (&net->start.cond);
  g_mutex_clear (&net->sync.lock);
  g_cond_clear (&net->sync.cond);
  g_free (net);
}

const guint *
femo_net_get_channels (FemoNet * net)
{
  return net->L.ch;
}

guint
femo_net_get_n_labels (FemoNet * net)
{
  return net->L.k;
}

const gchar *const *
femo_net_get_labels (FemoNet * net)
{
  return (const gchar * const *) net->labels;
}

gfloat
femo_net_get_bn_eps (FemoNet * net)
{
  return net->bn_eps;
}

void
femo_net_set_bn_momentum (FemoNet * net, gdouble momentum)
{
  g_return_if_fail (momentum > 0.0 && momentum <= 1.0);
  net->bn_momentum = momentum;
}

gdouble
femo_net_get_bn_momentum (FemoNet * net)
{
  return net->bn_momentum;
}

gboolean
femo_net_set_metadata (FemoNet * net, const gchar * key, const gchar * value)
{
  g_return_val_if_fail (key != NULL && value != NULL, FALSE);
  if (is_owned_key (key) || !g_utf8_validate (key, -1, NULL)
      || !g_utf8_validate (value, -1, NULL))
    return FALSE;
  g_hash_table_insert (net->meta, g_strdup (key), g_strdup (value));
  return TRUE;
}

const gchar *
femo_net_get_metadata (FemoNet * net, const gchar * key)
{
  return g_hash_table_lookup (net->meta, key);
}

static gint
compare_str (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const gchar * const *) a, *(const gchar * const *) b);
}

gchar **
femo_net_list_metadata (FemoNet * net)
{
  guint n;
  gchar **keys = (gchar **) g_hash_table_get_keys_as_array (net->meta, &n);
  gchar **copy = g_new0 (gchar *, n + 1);

  qsort (keys, n, sizeof (gchar *), compare_str);
  for (guint i = 0; i < n; i++)
    copy[i] = g_strdup (keys[i]);
  g_free (keys);
  return copy;
}

const FemoNetTensor *
femo_net_get_tensors (FemoNet * net, guint * n_tensors)
{
  *n_tensors = net->L.tensors->len;
  return (const FemoNetTensor *) net->L.tensors->data;
}

gfloat *
femo_net_get_params (FemoNet * net, gsize * n_params)
{
  if (n_params)
    *n_params = net->L.n_params;
  return net->params;
}

gfloat *
femo_net_get_grads (FemoNet * net, gsize * n_params)
{
  if (n_params)
    *n_params = net->L.n_params;
  return net->grads;
}

gfloat *
femo_net_get_running_stats (FemoNet * net, gsize * n_stats)
{
  if (n_stats)
    *n_stats = net->L.n_stats;
  return net->stats;
}

/* ------------------------------------------------------------------ */
/* Weights files                                                         */

static gchar *
shape_string (guint n_dims, const guint64 * shape)
{
  GString *s = g_string_new ("[");
  for (guint d = 0; d < n_dims; d++)
    g_string_append_printf (s, d ? ", %" G_GUINT64_FORMAT : "%"
        G_GUINT64_FORMAT, shape[d]);
  g_string_append_c (s, ']');
  return g_string_free (s, FALSE);
}

/* Reads the metadata the net needs: architecture, labels, widths, eps. */
static gboolean
read_metadata (const FemoSafetensors * st, guint * ch, gchar *** labels,
    gfloat * eps, GError ** error)
{
  const gchar *arch = femo_safetensors_get_metadata (st, "femo.arch");
  const gchar *format = femo_safetensors_get_metadata (st, "femo.format");
  const gchar *lab = femo_safetensors_get_metadata (st, "femo.labels");
  const gchar *chs = femo_safetensors_get_metadata (st, "femo.channels");
  const gchar *epss = femo_safetensors_get_metadata (st, "femo.bn_eps");
  const gchar *input = femo_safetensors_get_metadata (st, "femo.input");
  const gchar *norm = femo_safetensors_get_metadata (st, "femo.normalize");
  g_auto (GStrv) parts = NULL;
  gchar *end;

  if (!arch) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
        "weights: metadata femo.arch is missing (not a femo model?)");
    return FALSE;
  }
  if (strcmp (arch, "mini-xception") != 0) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_UNSUPPORTED,
        "weights: unknown femo.arch '%s' (this version reads "
        "mini-xception)", arch);
    return FALSE;
  }
  if (!format || strcmp (format, "1") != 0) {
    g_set_error (error, FEMO_ERROR, format ? FEMO_ERROR_UNSUPPORTED :
        FEMO_ERROR_INVALID, "weights: femo.format is %s%s%s, expected 1",
        format ? "'" : "", format ? format : "missing", format ? "'" : "");
    return FALSE;
  }
  if (input && strcmp (input, "48x48") != 0) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_UNSUPPORTED,
        "weights: femo.input '%s' is not 48x48", input);
    return FALSE;
  }
  if (norm && strcmp (norm, "x/127.5-1") != 0) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_UNSUPPORTED,
        "weights: femo.normalize '%s' is not x/127.5-1", norm);
    return FALSE;
  }
  if (!lab) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
        "weights: metadata femo.labels is missing");
    return FALSE;
  }
  parts = g_strsplit (lab, ",", -1);
  if (!femo_net_check_labels ((const gchar * const *) parts,
          g_strv_length (parts), error))
    return FALSE;
  *labels = g_steal_pointer (&parts);

  memcpy (ch, femo_net_default_channels, sizeof (guint) * FEMO_NET_N_WIDTHS);
  if (chs) {
    g_auto (GStrv) w = g_strsplit (chs, ",", -1);
    gboolean ok = g_strv_length (w) == FEMO_NET_N_WIDTHS;
    for (guint i = 0; ok && i < FEMO_NET_N_WIDTHS; i++) {
      guint64 v;
      ok = g_ascii_string_to_unsigned (w[i], 10, 1, FEMO_NET_MAX_WIDTH, &v,
          NULL);
      ch[i] = (guint) v;
    }
    if (!ok) {
      g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
          "weights: femo.channels '%s' is not %d widths in 1..%d", chs,
          FEMO_NET_N_WIDTHS, FEMO_NET_MAX_WIDTH);
      return FALSE;
    }
  }
  *eps = FEMO_NET_DEFAULT_BN_EPS;
  if (epss) {
    gdouble v = g_ascii_strtod (epss, &end);
    if (end == epss || *end || !(v > 0.0 && v < 1.0)) {
      g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
          "weights: femo.bn_eps '%s' is not a number in (0, 1)", epss);
      return FALSE;
    }
    *eps = (gfloat) v;
  }
  return TRUE;
}

static gboolean
read_tensors (FemoNet * net, const FemoSafetensors * st, GError ** error)
{
  const Layout *L = &net->L;
  g_autofree gboolean *seen = g_new0 (gboolean, L->tensors->len);

  for (guint i = 0; i < femo_safetensors_get_n_tensors (st); i++) {
    const FemoSafetensorsTensor *t = femo_safetensors_get_tensor (st, i);
    const FemoNetTensor *want;
    guint idx;
    gboolean shape_ok;
    gfloat *dst;

    if (g_str_has_suffix (t->name, ".num_batches_tracked")
        && strcmp (t->dtype, "I64") == 0 && t->n_dims == 0)
      continue;
    idx = GPOINTER_TO_UINT (g_hash_table_lookup (L->by_name, t->name));
    if (!idx) {
      g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
          "weights: unexpected tensor '%s'", t->name);
      return FALSE;
    }
    want = &g_array_index (L->tensors, FemoNetTensor, idx - 1);
    if (strcmp (t->dtype, "F32") != 0) {
      g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
          "weights: tensor '%s' has dtype %s, expected F32", t->name,
          t->dtype);
      return FALSE;
    }
    shape_ok = t->n_dims == want->n_dims;
    for (guint d = 0; shape_ok && d < want->n_dims; d++)
      shape_ok = t->shape[d] == want->shape[d];
    if (!shape_ok) {
      guint64 w64[4];
      g_autofree gchar *got = shape_string (t->n_dims, t->shape);
      g_autofree gchar *exp = NULL;
      for (guint d = 0; d < 4; d++)
        w64[d] = want->shape[d];
      exp = shape_string (want->n_dims, w64);
      /* The head's output count is what a labels edit breaks: say so. */
      if (g_str_has_prefix (t->name, "head.") && t->n_dims == want->n_dims
          && t->shape[0] != want->shape[0]) {
        g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
            "weights: tensor '%s' has %" G_GUINT64_FORMAT " outputs but "
            "femo.labels names %u labels", t->name, t->shape[0], L->k);
        return FALSE;
      }
      g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
          "weights: tensor '%s' has shape %s, expected %s", t->name, got, exp);
      return FALSE;
    }
    seen[idx - 1] = TRUE;
    dst = want->kind >= FEMO_NET_TENSOR_BN_RUNNING_MEAN ?
        net->stats + want->offset : net->params + want->offset;
    femo_safetensors_read_f32 (st, t, dst);
    for (gsize j = 0; j < want->length; j++) {
      if (!isfinite (dst[j])) {
        g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
            "weights: tensor '%s' has a non-finite value at index %"
            G_GSIZE_FORMAT, t->name, j);
        return FALSE;
      }
      if (want->kind == FEMO_NET_TENSOR_BN_RUNNING_VAR && dst[j] < 0.0f) {
        g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
            "weights: tensor '%s' has a negative variance at index %"
            G_GSIZE_FORMAT, t->name, j);
        return FALSE;
      }
    }
  }
  for (guint i = 0; i < L->tensors->len; i++)
    if (!seen[i]) {
      g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
          "weights: missing tensor '%s'",
          g_array_index (L->tensors, FemoNetTensor, i).name);
      return FALSE;
    }
  return TRUE;
}

FemoNet *
femo_net_load_from_data (const guint8 * data, gsize length, GError ** error)
{
  g_autoptr (FemoSafetensors) st = femo_safetensors_parse (data, length,
      error);

  return st ? femo_net_load_from_safetensors (st, error) : NULL;
}

FemoNet *
femo_net_load_from_safetensors (const FemoSafetensors * st, GError ** error)
{
  g_auto (GStrv) labels = NULL;
  guint ch[FEMO_NET_N_WIDTHS];
  gfloat eps;
  FemoNet *net;
  const gchar *eps_text;

  if (!read_metadata (st, ch, &labels, &eps, error))
    return NULL;
  eps_text = femo_safetensors_get_metadata (st, "femo.bn_eps");
  net = net_alloc (ch, (const gchar * const *) labels, g_strv_length (labels),
      eps, eps_text ? eps_text : "1e-05");
  if (!read_tensors (net, st, error)) {
    femo_net_free (net);
    return NULL;
  }
  for (guint i = 0; i < femo_safetensors_get_n_metadata (st); i++) {
    const gchar *key = femo_safetensors_get_metadata_key (st, i);
    if (!is_owned_key (key))
      g_hash_table_insert (net->meta, g_strdup (key),
          g_strdup (femo_safetensors_get_metadata (st, key)));
  }
  return net;
}

FemoNet *
femo_net_load (const gchar * path, GError ** error)
{
  g_autofree gchar *data = NULL;
  gsize length;
  g_autoptr (GError) local = NULL;
  FemoNet *net;

  if (!g_file_get_contents (path, &data, &length, &local)) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_IO, "%s", local->message);
    return NULL;
  }
  net = femo_net_load_from_data ((const guint8 *) data, length, &local);
  if (!net) {
    g_set_error (error, FEMO_ERROR, local->code, "%s: %s", path,
        local->message);
    return NULL;
  }
  return net;
}

GBytes *
femo_net_serialize (FemoNet * net)
{
  const Layout *L = &net->L;
  g_autofree FemoSafetensorsOut *out = g_new0 (FemoSafetensorsOut,
      L->tensors->len);
  g_auto (GStrv) keys = femo_net_list_metadata (net);
  const guint n_meta = g_strv_length (keys);
  g_autofree const gchar **values = g_new0 (const gchar *, n_meta + 1);

  for (guint i = 0; i < L->tensors->len; i++) {
    const FemoNetTensor *t = &g_array_index (L->tensors, FemoNetTensor, i);
    out[i].name = t->name;
    out[i].n_dims = t->n_dims;
    for (guint d = 0; d < t->n_dims; d++)
      out[i].shape[d] = t->shape[d];
    out[i].data = (t->kind >= FEMO_NET_TENSOR_BN_RUNNING_MEAN ? net->stats :
        net->params) + t->offset;
  }
  for (guint i = 0; i < n_meta; i++)
    values[i] = g_hash_table_lookup (net->meta, keys[i]);
  return femo_safetensors_write (out, L->tensors->len,
      (const gchar * const *) keys, values, n_meta);
}

gboolean
femo_net_save (FemoNet * net, const gchar * path, GError ** error)
{
  g_autoptr (GBytes) bytes = femo_net_serialize (net);
  g_autoptr (GError) local = NULL;
  gsize size;
  const gchar *data = g_bytes_get_data (bytes, &size);

  if (!g_file_set_contents (path, data, size, &local)) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_IO, "%s", local->message);
    return FALSE;
  }
  return TRUE;
}

FemoNet *
femo_net_copy (FemoNet * net)
{
  g_autoptr (GBytes) bytes = femo_net_serialize (net);
  gsize size;
  const guint8 *data = g_bytes_get_data (bytes, &size);
  FemoNet *copy = femo_net_load_from_data (data, size, NULL);

  g_assert (copy);
  femo_net_set_n_threads (copy, net->n_threads);
  copy->bn_momentum = net->bn_momentum;
  return copy;
}

/* ------------------------------------------------------------------ */
/* Training                                                              */

static gsize
take (gsize * pos, gsize floats)
{
  const gsize at = *pos;
  /* zeroed slack after every buffer (the kernels read whole vectors past
   * the end); 64-byte aligned starts */
  *pos += (floats + SLACK + 15) & ~(gsize) 15;
  return at;
}

/* Sizes (base NULL) or places (base set) the buffers of @wk for @n
 * samples; returns the floats needed. */
static gsize
worker_plan (Worker * wk, const Layout * L, guint n, gfloat * base)
{
  gsize pos = 0, scratch = 0, g = 0;
  const guint *ch = L->ch;
#define PLACE(ptr, floats) do { gsize o_ = take (&pos, (floats)); \
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
worker_reserve (Worker * wk, guint n)
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
reduce (Worker * wk, guint len)
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
bn_train_forward (Worker * wk, const BnIdx * bn, const gfloat * x, guint hw,
    gboolean relu, gfloat * y)
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
bn_train_backward (Worker * wk, const BnIdx * bn, gfloat * dy,
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
worker_step (Worker * wk)
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
    femo_depthwise_forward (k, xin, B->cin, n, h, h, P + B->dw1, wk->d1[b], S);
    femo_pointwise_forward (k, wk->d1[b], B->cin, (gsize) n * h * h,
        P + B->pw1, NULL, B->c, 0, wk->e1[b]);
    bn_train_forward (wk, &B->bn1, wk->e1[b], h * h, TRUE, wk->f1[b]);
    femo_depthwise_forward (k, wk->f1[b], B->c, n, h, h, P + B->dw2,
        wk->d2[b], S);
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
  Worker *wk = data;
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

  net->workers = g_new0 (Worker, T);
  net->red = g_new0 (gdouble, (gsize) 2 * T * 2 * FEMO_NET_MAX_WIDTH);
  net->start.n = net->sync.n = T;
  net->quit = FALSE;
  for (guint t = 0; t < T; t++) {
    Worker *wk = &net->workers[t];
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

static void
workers_stop (FemoNet * net)
{
  if (!net->workers)
    return;
  net->quit = TRUE;
  barrier_wait (&net->start);
  for (guint t = 0; t < net->n_threads; t++) {
    Worker *wk = &net->workers[t];
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
  workers_stop (net);
  net->n_threads = n_threads;
}

guint
femo_net_get_n_threads (FemoNet * net)
{
  return net->n_threads;
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
    Worker *wk = &net->workers[t];
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

/* ------------------------------------------------------------------ */
/* Inference                                                             */

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
  gfloat *slab;
  gfloat *x0, *p, *q, *t1, *t2, *logits, *scratch;
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
#define PLACE(ptr, floats) do { gsize o_ = take (&pos, (floats)); \
    if (base) (ptr) = base + o_; } while (0)

  act = MAX ((gsize) ch[0] * 46 * 46, (gsize) ch[1] * 44 * 44);
  scratch = MAX (femo_conv3x3_scratch_size (1, ch[0], n, 48, 48),
      femo_conv3x3_scratch_size (ch[0], ch[1], n, 46, 46));
  for (guint b = 0; b < N_BLOCKS; b++) {
    const guint cin = b ? ch[1 + b] : ch[1], c = ch[2 + b], h = m->h[b];
    act = MAX (act, (gsize) MAX (c, cin) * h * h);
    scratch = MAX (scratch, femo_shortcut_scratch_size (cin, c, n, h, h));
    scratch = MAX (scratch, femo_depthwise_scratch_size (MAX (c, cin), n, h,
            h));
  }
  scratch = MAX (scratch, femo_conv3x3_gap_scratch_size (ch[5]));
  PLACE (inf->x0, (gsize) n * FEMO_NET_INPUT_PIXELS);
  PLACE (inf->p, act * n);
  PLACE (inf->q, act * n);
  PLACE (inf->t1, act * n);
  PLACE (inf->t2, act * n);
  PLACE (inf->logits, (gsize) m->k * n);
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
    femo_depthwise_forward (k, x, cin, n, h, h, W + F->dw1, inf->t1, S);
    femo_pointwise_forward (k, inf->t1, cin, cnt, W + F->pw1_w, W + F->pw1_b,
        c, FEMO_CONV_RELU, inf->t2);
    femo_depthwise_forward (k, inf->t2, c, n, h, h, W + F->dw2, inf->t1, S);
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

static void
infer_run (FemoInfer * inf, const guint8 * crops, const gfloat * inputs,
    guint n, gfloat * probs, gfloat * logits)
{
  const guint k = inf->model->k;

  for (guint done = 0; done < n;) {
    const guint c = MIN (n - done, INFER_CHUNK);
    const gsize pixels = (gsize) c * FEMO_NET_INPUT_PIXELS;
    gfloat *lg = logits ? logits + (gsize) done * k : NULL;

    infer_reserve (inf, c);
    if (crops) {
      const guint8 *src = crops + (gsize) done * FEMO_NET_INPUT_PIXELS;
      for (gsize i = 0; i < pixels; i++)
        inf->x0[i] = src[i] / 127.5f - 1.0f;
    } else {
      memcpy (inf->x0, inputs + (gsize) done * FEMO_NET_INPUT_PIXELS,
          pixels * sizeof (gfloat));
    }
    /* the x0 slack stays zero: only @pixels floats are ever written, and
     * a smaller chunk leaves finite values the kernels read as junk */
    infer_chunk (inf, c, lg ? lg : inf->logits);
    if (probs)
      femo_softmax (lg ? lg : inf->logits, c, k, probs + (gsize) done * k);
    done += c;
  }
}

void
femo_infer_run (FemoInfer * infer, const guint8 * crops, guint n,
    gfloat * probs, gfloat * logits)
{
  infer_run (infer, crops, NULL, n, probs, logits);
}

void
femo_infer_run_float (FemoInfer * infer, const gfloat * inputs, guint n,
    gfloat * probs, gfloat * logits)
{
  infer_run (infer, NULL, inputs, n, probs, logits);
}
