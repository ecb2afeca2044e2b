/* gst-femo: the emotion CNN's weights files: safetensors in, checked
 * against the contract (docs/mini-xception.md), and out.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "femo-net-private.h"
#include "femo-error.h"
#include "femo-safetensors.h"

#include <math.h>
#include <string.h>

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
      g_autofree gchar *got = femo_safetensors_shape_string (t->n_dims,
          t->shape);
      g_autofree gchar *exp = NULL;
      for (guint d = 0; d < 4; d++)
        w64[d] = want->shape[d];
      exp = femo_safetensors_shape_string (want->n_dims, w64);
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
  net = femo_net_alloc (ch, (const gchar * const *) labels,
      g_strv_length (labels), eps, eps_text ? eps_text : "1e-05");
  if (!read_tensors (net, st, error)) {
    femo_net_free (net);
    return NULL;
  }
  for (guint i = 0; i < femo_safetensors_get_n_metadata (st); i++) {
    const gchar *key = femo_safetensors_get_metadata_key (st, i);
    if (!femo_net_is_owned_key (key))
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
