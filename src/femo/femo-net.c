/* gst-femo: the emotion CNN (mini-Xception): its layout of tensors in the
 * slabs, labels and metadata, construction and accessors. Weights files
 * are in femo-net-io.c, training steps in femo-net-train.c, inference in
 * femo-infer.c.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "femo-net-private.h"
#include "femo-error.h"
#include "femo-rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const guint femo_net_default_channels[FEMO_NET_N_WIDTHS] =
    { 8, 8, 16, 32, 64, 128 };
const gchar *const femo_net_default_labels[7] =
    { "angry", "disgust", "fear", "happy", "sad", "surprise", "neutral" };

/* ------------------------------------------------------------------ */
/* Layout: where every tensor lives in the slabs                         */

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

gboolean
femo_net_is_owned_key (const gchar * key)
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

FemoNet *
femo_net_alloc (const guint * ch, const gchar * const *labels, guint k,
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
  net = femo_net_alloc (ch, labels, n_labels, bn_eps, eps_text);

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

void
femo_net_free (FemoNet * net)
{
  if (!net)
    return;
  femo_net_workers_stop (net);
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
  if (femo_net_is_owned_key (key) || !g_utf8_validate (key, -1, NULL)
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
