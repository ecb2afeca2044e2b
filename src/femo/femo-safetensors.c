/* gst-femo: safetensors reader and writer
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "femo-safetensors.h"
#include "femo-error.h"
#include "femo-json.h"

#include <string.h>

struct _FemoSafetensors
{
  const guint8 *data;           /* the data area */
  guint64 data_size;
  GPtrArray *tensors;           /* FemoSafetensorsTensor*, header order */
  GPtrArray *meta_keys;
  GPtrArray *meta_values;
};

static void
tensor_free (gpointer p)
{
  FemoSafetensorsTensor *t = p;
  g_free (t->name);
  g_free (t->dtype);
  g_free (t);
}

void
femo_safetensors_free (FemoSafetensors * st)
{
  if (!st)
    return;
  g_ptr_array_unref (st->tensors);
  g_ptr_array_unref (st->meta_keys);
  g_ptr_array_unref (st->meta_values);
  g_free (st);
}

static guint
dtype_size (const gchar * dtype)
{
  static const struct
  {
    const gchar *name;
    guint size;
  } sizes[] = {
    {"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"I64", 8}, {"I32", 4},
    {"I16", 2}, {"I8", 1}, {"U64", 8}, {"U32", 4}, {"U16", 2}, {"U8", 1},
    {"BOOL", 1}, {"F8_E4M3", 1}, {"F8_E5M2", 1},
  };
  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    if (strcmp (dtype, sizes[i].name) == 0)
      return sizes[i].size;
  return 0;
}

static gboolean
parse_metadata (FemoSafetensors * st, const FemoJson * meta, GError ** error)
{
  if (femo_json_get_node_type (meta) != FEMO_JSON_OBJECT) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
        "safetensors: __metadata__ is a %s, not an object",
        femo_json_type_name (femo_json_get_node_type (meta)));
    return FALSE;
  }
  for (guint i = 0; i < femo_json_get_length (meta); i++) {
    const gchar *key = femo_json_object_key_at (meta, i);
    const FemoJson *v = femo_json_object_value_at (meta, i);
    if (femo_json_get_node_type (v) != FEMO_JSON_STRING) {
      g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
          "safetensors: metadata '%s' is a %s, not a string", key,
          femo_json_type_name (femo_json_get_node_type (v)));
      return FALSE;
    }
    g_ptr_array_add (st->meta_keys, g_strdup (key));
    g_ptr_array_add (st->meta_values, g_strdup (femo_json_get_string (v)));
  }
  return TRUE;
}

static gboolean
parse_tensor (FemoSafetensors * st, const gchar * name, const FemoJson * obj,
    GError ** error)
{
  const FemoJson *dtype, *shape, *offsets;
  FemoSafetensorsTensor *t;
  guint64 bytes;
  guint esize;

  if (femo_json_get_node_type (obj) != FEMO_JSON_OBJECT) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
        "safetensors: tensor '%s' is a %s, not an object", name,
        femo_json_type_name (femo_json_get_node_type (obj)));
    return FALSE;
  }
  for (guint i = 0; i < femo_json_get_length (obj); i++) {
    const gchar *key = femo_json_object_key_at (obj, i);
    if (strcmp (key, "dtype") && strcmp (key, "shape")
        && strcmp (key, "data_offsets")) {
      g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
          "safetensors: tensor '%s' has an unexpected field '%s'", name, key);
      return FALSE;
    }
  }
  dtype = femo_json_object_get (obj, "dtype");
  shape = femo_json_object_get (obj, "shape");
  offsets = femo_json_object_get (obj, "data_offsets");
  if (!dtype || femo_json_get_node_type (dtype) != FEMO_JSON_STRING) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
        "safetensors: tensor '%s' has no dtype string", name);
    return FALSE;
  }
  esize = dtype_size (femo_json_get_string (dtype));
  if (!esize) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
        "safetensors: tensor '%s' has unknown dtype '%s'", name,
        femo_json_get_string (dtype));
    return FALSE;
  }
  if (!shape || femo_json_get_node_type (shape) != FEMO_JSON_ARRAY
      || femo_json_get_length (shape) > FEMO_SAFETENSORS_MAX_DIMS) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
        "safetensors: tensor '%s' has no shape array of at most %d sizes",
        name, FEMO_SAFETENSORS_MAX_DIMS);
    return FALSE;
  }
  if (!offsets || femo_json_get_node_type (offsets) != FEMO_JSON_ARRAY
      || femo_json_get_length (offsets) != 2) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
        "safetensors: tensor '%s' has no data_offsets pair", name);
    return FALSE;
  }

  t = g_new0 (FemoSafetensorsTensor, 1);
  t->name = g_strdup (name);
  t->dtype = g_strdup (femo_json_get_string (dtype));
  g_ptr_array_add (st->tensors, t);
  t->n_dims = femo_json_get_length (shape);
  bytes = esize;
  for (guint d = 0; d < t->n_dims; d++) {
    const FemoJson *v = femo_json_array_get (shape, d);
    if (femo_json_get_node_type (v) != FEMO_JSON_INT
        || femo_json_get_int (v) < 0) {
      g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
          "safetensors: tensor '%s' has a shape entry that is not a "
          "non-negative integer", name);
      return FALSE;
    }
    t->shape[d] = femo_json_get_int (v);
    if (t->shape[d] && bytes > G_MAXUINT64 / t->shape[d]) {
      g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
          "safetensors: tensor '%s' has an absurd shape", name);
      return FALSE;
    }
    bytes *= t->shape[d];
  }
  for (guint d = 0; d < 2; d++) {
    const FemoJson *v = femo_json_array_get (offsets, d);
    if (femo_json_get_node_type (v) != FEMO_JSON_INT
        || femo_json_get_int (v) < 0) {
      g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
          "safetensors: tensor '%s' has a data offset that is not a "
          "non-negative integer", name);
      return FALSE;
    }
  }
  t->begin = femo_json_get_int (femo_json_array_get (offsets, 0));
  t->end = femo_json_get_int (femo_json_array_get (offsets, 1));
  if (t->end < t->begin || t->end > st->data_size) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
        "safetensors: tensor '%s' has data_offsets [%" G_GUINT64_FORMAT
        ", %" G_GUINT64_FORMAT "] outside the data area of %" G_GUINT64_FORMAT
        " bytes", name, t->begin, t->end, st->data_size);
    return FALSE;
  }
  if (t->end - t->begin != bytes) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
        "safetensors: tensor '%s' holds %" G_GUINT64_FORMAT " bytes but its "
        "dtype and shape need %" G_GUINT64_FORMAT, name, t->end - t->begin,
        bytes);
    return FALSE;
  }
  return TRUE;
}

static gint
compare_begin (gconstpointer a, gconstpointer b)
{
  const FemoSafetensorsTensor *ta = *(FemoSafetensorsTensor * const *) a;
  const FemoSafetensorsTensor *tb = *(FemoSafetensorsTensor * const *) b;
  if (ta->begin != tb->begin)
    return ta->begin < tb->begin ? -1 : 1;
  return ta->end < tb->end ? -1 : ta->end > tb->end;
}

/* Ranges must tile the data area: sorted by start, each begins where the
 * previous ended, the first at 0 and the last at the end. */
static gboolean
check_layout (FemoSafetensors * st, GError ** error)
{
  g_autoptr (GPtrArray) sorted = g_ptr_array_new ();
  guint64 pos = 0;
  const gchar *prev = NULL;

  for (guint i = 0; i < st->tensors->len; i++)
    g_ptr_array_add (sorted, st->tensors->pdata[i]);
  g_ptr_array_sort (sorted, compare_begin);
  for (guint i = 0; i < sorted->len; i++) {
    const FemoSafetensorsTensor *t = sorted->pdata[i];
    if (t->begin < pos) {
      g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
          "safetensors: tensor '%s' overlaps '%s'", t->name, prev);
      return FALSE;
    }
    if (t->begin > pos) {
      g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
          "safetensors: %" G_GUINT64_FORMAT " unused bytes before tensor '%s'",
          t->begin - pos, t->name);
      return FALSE;
    }
    pos = t->end;
    prev = t->name;
  }
  if (pos != st->data_size) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
        "safetensors: %" G_GUINT64_FORMAT " bytes after the last tensor",
        st->data_size - pos);
    return FALSE;
  }
  return TRUE;
}

FemoSafetensors *
femo_safetensors_parse (const guint8 * file, gsize length, GError ** error)
{
  g_autoptr (FemoSafetensors) st = NULL;
  g_autoptr (FemoJson) header = NULL;
  g_autoptr (GError) json_error = NULL;
  guint64 hlen = 0;

  if (length < 8) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
        "safetensors: truncated file of %" G_GSIZE_FORMAT " bytes (no "
        "header length)", length);
    return NULL;
  }
  for (gint b = 7; b >= 0; b--)
    hlen = (hlen << 8) | file[b];
  if (hlen > FEMO_SAFETENSORS_MAX_HEADER) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
        "safetensors: header length %" G_GUINT64_FORMAT " is over the "
        "limit of %d bytes", hlen, FEMO_SAFETENSORS_MAX_HEADER);
    return NULL;
  }
  if (hlen > length - 8) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
        "safetensors: header length %" G_GUINT64_FORMAT " runs past the end "
        "of the file (%" G_GSIZE_FORMAT " bytes): truncated?", hlen, length);
    return NULL;
  }
  header = femo_json_parse ((const gchar *) file + 8, hlen, &json_error);
  if (!header) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_PARSE,
        "safetensors header: %s", json_error->message);
    return NULL;
  }
  if (femo_json_get_node_type (header) != FEMO_JSON_OBJECT) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
        "safetensors: the header is a %s, not an object",
        femo_json_type_name (femo_json_get_node_type (header)));
    return NULL;
  }

  st = g_new0 (FemoSafetensors, 1);
  st->data = file + 8 + hlen;
  st->data_size = length - 8 - hlen;
  st->tensors = g_ptr_array_new_with_free_func (tensor_free);
  st->meta_keys = g_ptr_array_new_with_free_func (g_free);
  st->meta_values = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < femo_json_get_length (header); i++) {
    const gchar *key = femo_json_object_key_at (header, i);
    const FemoJson *v = femo_json_object_value_at (header, i);
    if (strcmp (key, "__metadata__") == 0) {
      if (!parse_metadata (st, v, error))
        return NULL;
    } else if (!parse_tensor (st, key, v, error)) {
      return NULL;
    }
  }
  if (!check_layout (st, error))
    return NULL;
  return g_steal_pointer (&st);
}

guint
femo_safetensors_get_n_tensors (const FemoSafetensors * st)
{
  return st->tensors->len;
}

const FemoSafetensorsTensor *
femo_safetensors_get_tensor (const FemoSafetensors * st, guint index)
{
  g_return_val_if_fail (index < st->tensors->len, NULL);
  return st->tensors->pdata[index];
}

const FemoSafetensorsTensor *
femo_safetensors_find (const FemoSafetensors * st, const gchar * name)
{
  for (guint i = 0; i < st->tensors->len; i++) {
    const FemoSafetensorsTensor *t = st->tensors->pdata[i];
    if (strcmp (t->name, name) == 0)
      return t;
  }
  return NULL;
}

guint
femo_safetensors_get_n_metadata (const FemoSafetensors * st)
{
  return st->meta_keys->len;
}

const gchar *
femo_safetensors_get_metadata_key (const FemoSafetensors * st, guint index)
{
  g_return_val_if_fail (index < st->meta_keys->len, NULL);
  return st->meta_keys->pdata[index];
}

const gchar *
femo_safetensors_get_metadata (const FemoSafetensors * st, const gchar * key)
{
  for (guint i = 0; i < st->meta_keys->len; i++)
    if (strcmp (st->meta_keys->pdata[i], key) == 0)
      return st->meta_values->pdata[i];
  return NULL;
}

void
femo_safetensors_read_f32 (const FemoSafetensors * st,
    const FemoSafetensorsTensor * tensor, gfloat * dst)
{
  const gsize n = (tensor->end - tensor->begin) / 4;

  g_return_if_fail (strcmp (tensor->dtype, "F32") == 0);
  memcpy (dst, st->data + tensor->begin, n * 4);
#if G_BYTE_ORDER == G_BIG_ENDIAN
  for (gsize i = 0; i < n; i++) {
    guint32 v;
    memcpy (&v, dst + i, 4);
    v = GUINT32_SWAP_LE_BE (v);
    memcpy (dst + i, &v, 4);
  }
#endif
}

static void
append_json_string (GString * s, const gchar * str)
{
  g_string_append_c (s, '"');
  for (const guchar * p = (const guchar *) str; *p; p++) {
    if (*p == '"' || *p == '\\')
      g_string_append_printf (s, "\\%c", *p);
    else if (*p < 0x20)
      g_string_append_printf (s, "\\u%04x", *p);
    else
      g_string_append_c (s, *p);
  }
  g_string_append_c (s, '"');
}

gchar *
femo_safetensors_shape_string (guint n_dims, const guint64 * shape)
{
  GString *s = g_string_new ("[");
  for (guint d = 0; d < n_dims; d++)
    g_string_append_printf (s, d ? ", %" G_GUINT64_FORMAT : "%"
        G_GUINT64_FORMAT, shape[d]);
  g_string_append_c (s, ']');
  return g_string_free (s, FALSE);
}

GBytes *
femo_safetensors_write (const FemoSafetensorsOut * tensors, guint n_tensors,
    const gchar * const *meta_keys, const gchar * const *meta_values,
    guint n_meta)
{
  GString *h = g_string_new ("{");
  GByteArray *out;
  guint64 pos = 0, hlen;
  guint8 prefix[8];

  if (n_meta) {
    g_string_append (h, "\"__metadata__\":{");
    for (guint i = 0; i < n_meta; i++) {
      if (i)
        g_string_append_c (h, ',');
      append_json_string (h, meta_keys[i]);
      g_string_append_c (h, ':');
      append_json_string (h, meta_values[i]);
    }
    g_string_append_c (h, '}');
  }
  for (guint i = 0; i < n_tensors; i++) {
    guint64 count = 1;
    if (i || n_meta)
      g_string_append_c (h, ',');
    append_json_string (h, tensors[i].name);
    g_string_append (h, ":{\"dtype\":\"F32\",\"shape\":[");
    for (guint d = 0; d < tensors[i].n_dims; d++) {
      g_string_append_printf (h, d ? ",%" G_GUINT64_FORMAT : "%"
          G_GUINT64_FORMAT, tensors[i].shape[d]);
      count *= tensors[i].shape[d];
    }
    g_string_append_printf (h, "],\"data_offsets\":[%" G_GUINT64_FORMAT
        ",%" G_GUINT64_FORMAT "]}", pos, pos + 4 * count);
    pos += 4 * count;
  }
  g_string_append_c (h, '}');
  /* Padding keeps the data area 8-byte aligned, as safetensors does. */
  while (h->len % 8)
    g_string_append_c (h, ' ');

  hlen = h->len;
  for (gint b = 0; b < 8; b++)
    prefix[b] = (guint8) (hlen >> (8 * b));
  out = g_byte_array_sized_new (8 + hlen + pos);
  g_byte_array_append (out, prefix, 8);
  g_byte_array_append (out, (const guint8 *) h->str, h->len);
  g_string_free (h, TRUE);
  for (guint i = 0; i < n_tensors; i++) {
    guint64 count = 1;
    for (guint d = 0; d < tensors[i].n_dims; d++)
      count *= tensors[i].shape[d];
#if G_BYTE_ORDER == G_BIG_ENDIAN
    for (guint64 j = 0; j < count; j++) {
      guint32 v;
      memcpy (&v, tensors[i].data + j, 4);
      v = GUINT32_TO_LE (v);
      g_byte_array_append (out, (const guint8 *) &v, 4);
    }
#else
    g_byte_array_append (out, (const guint8 *) tensors[i].data, 4 * count);
#endif
  }
  return g_byte_array_free_to_bytes (out);
}
