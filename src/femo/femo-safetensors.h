/* gst-femo: safetensors files (https://github.com/huggingface/safetensors):
 * an 8-byte little-endian header length, a JSON header (padded with spaces
 * to a multiple of 8 by our writer), then the raw little-endian tensors.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define FEMO_SAFETENSORS_MAX_HEADER (100 * 1000 * 1000)
#define FEMO_SAFETENSORS_MAX_DIMS 8

typedef struct
{
  gchar *name;
  gchar *dtype;                 /* "F32", "I64", ... */
  guint n_dims;
  guint64 shape[FEMO_SAFETENSORS_MAX_DIMS];
  guint64 begin;                /* byte range inside the data area */
  guint64 end;
} FemoSafetensorsTensor;

typedef struct _FemoSafetensors FemoSafetensors;

/**
 * femo_safetensors_parse:
 * @file: the whole file (borrowed: must outlive the result)
 *
 * Checks the container: length prefix vs file size, header under
 * FEMO_SAFETENSORS_MAX_HEADER, strict JSON without duplicate keys,
 * `__metadata__` string to string, every tensor with a known dtype, a
 * shape and data_offsets whose length matches, all ranges inside the data
 * area, contiguous, without gaps or overlaps and covering it exactly.
 * Errors name the tensor or field.
 */
FemoSafetensors *femo_safetensors_parse (const guint8 * file, gsize length,
    GError ** error);
void femo_safetensors_free (FemoSafetensors * st);

guint femo_safetensors_get_n_tensors (const FemoSafetensors * st);
const FemoSafetensorsTensor *femo_safetensors_get_tensor (const
    FemoSafetensors * st, guint index);
const FemoSafetensorsTensor *femo_safetensors_find (const FemoSafetensors *
    st, const gchar * name);
/* Metadata in file order; NULL when absent. */
guint femo_safetensors_get_n_metadata (const FemoSafetensors * st);
const gchar *femo_safetensors_get_metadata_key (const FemoSafetensors * st,
    guint index);
const gchar *femo_safetensors_get_metadata (const FemoSafetensors * st,
    const gchar * key);
/* Copies an F32 tensor's data out (the data may be unaligned). */
void femo_safetensors_read_f32 (const FemoSafetensors * st,
    const FemoSafetensorsTensor * tensor, gfloat * dst);

/* "[d0, d1, ...]", for messages about a tensor's shape. */
gchar *femo_safetensors_shape_string (guint n_dims, const guint64 * shape);

typedef struct
{
  const gchar *name;
  guint n_dims;
  guint64 shape[FEMO_SAFETENSORS_MAX_DIMS];
  const gfloat *data;           /* product of shape floats */
} FemoSafetensorsOut;

/* Writes F32 tensors in the given order with metadata in the given order:
 * the same input gives the same bytes. */
GBytes *femo_safetensors_write (const FemoSafetensorsOut * tensors,
    guint n_tensors, const gchar * const *meta_keys,
    const gchar * const *meta_values, guint n_meta);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FemoSafetensors, femo_safetensors_free)

G_END_DECLS
