/* gst-femo: the training checkpoint file (see femo-checkpoint.h)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "femo-checkpoint.h"
#include "femo-error.h"

#include <string.h>

#define CHECKPOINT_MAGIC "FEMOCKPT"

static void
append_section (GByteArray * out, const guint8 * data, guint64 length)
{
  guint64 le = GUINT64_TO_LE (length);

  g_byte_array_append (out, (const guint8 *) &le, 8);
  g_byte_array_append (out, data, length);
}

/* A section of @n little-endian floats from one or two arrays. */
static void
append_floats (GByteArray * out, const gfloat * first, const gfloat * second,
    gsize n)
{
  const gfloat *parts[2] = { first, second };
  guint64 le = GUINT64_TO_LE ((guint64) (second ? 2 * n : n) * 4);
  guint p;
  gsize i;

  g_byte_array_append (out, (const guint8 *) &le, 8);
  for (p = 0; p < 2 && parts[p]; p++)
    for (i = 0; i < n; i++) {
      guint32 bits;

      memcpy (&bits, &parts[p][i], 4);
      bits = GUINT32_TO_LE (bits);
      g_byte_array_append (out, (const guint8 *) &bits, 4);
    }
}

GBytes *
femo_checkpoint_serialize (GKeyFile * state, FemoNet * net,
    const FemoAdam * adam, const gfloat * swa)
{
  g_autoptr (GBytes) weights = femo_net_serialize (net);
  g_autofree gchar *text = NULL;
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  GByteArray *out = g_byte_array_new ();
  guint8 digest[32];
  gsize text_len, digest_len = sizeof (digest);
  guint32 header[2] = { GUINT32_TO_LE (FEMO_CHECKPOINT_VERSION), 0 };

  text = g_key_file_to_data (state, &text_len, NULL);
  g_byte_array_append (out, (const guint8 *) CHECKPOINT_MAGIC, 8);
  g_byte_array_append (out, (const guint8 *) header, 8);
  append_section (out, (const guint8 *) text, text_len);
  append_section (out, g_bytes_get_data (weights, NULL),
      g_bytes_get_size (weights));
  append_floats (out, adam->m, adam->v, adam->n);
  if (swa)
    append_floats (out, swa, NULL, adam->n);
  g_checksum_update (sum, out->data, out->len);
  g_checksum_get_digest (sum, digest, &digest_len);
  g_byte_array_append (out, digest, sizeof (digest));
  return g_byte_array_free_to_bytes (out);
}

/* Reads a section at *@pos of @data (@size bytes) into @section/@length. */
static gboolean
next_section (const guint8 * data, gsize size, gsize * pos,
    const guint8 ** section, gsize * length)
{
  guint64 le;

  if (size - *pos < 8)
    return FALSE;
  memcpy (&le, data + *pos, 8);
  le = GUINT64_FROM_LE (le);
  *pos += 8;
  if (le > size - *pos)
    return FALSE;
  *section = data + *pos;
  *length = le;
  *pos += le;
  return TRUE;
}

/* The next section as floats; FALSE unless it holds whole floats. */
static gboolean
next_floats (const guint8 * data, gsize size, gsize * pos, gfloat ** values,
    gsize * n)
{
  const guint8 *section;
  gsize length, i;

  if (!next_section (data, size, pos, &section, &length) || length % 4 != 0)
    return FALSE;
  *n = length / 4;
  *values = g_new (gfloat, *n);
  for (i = 0; i < *n; i++) {
    guint32 bits;

    memcpy (&bits, section + 4 * i, 4);
    bits = GUINT32_FROM_LE (bits);
    memcpy (&(*values)[i], &bits, 4);
  }
  return TRUE;
}

gboolean
femo_checkpoint_read (const gchar * path, FemoCheckpoint * c, GError ** error)
{
  g_autofree gchar *contents = NULL;
  gsize size, pos = 16, len;
  const guint8 *data, *section;
  guint32 version;
  gchar digest_hex[65];
  g_autofree gchar *expected = NULL;
  GError *sub = NULL;
  guint i;

  if (!g_file_get_contents (path, &contents, &size, &sub)) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_IO, "%s", sub->message);
    g_error_free (sub);
    return FALSE;
  }
  data = (const guint8 *) contents;
  if (size < 16 + 32 || memcmp (data, CHECKPOINT_MAGIC, 8) != 0)
    goto invalid;
  memcpy (&version, data + 8, 4);
  if (GUINT32_FROM_LE (version) != FEMO_CHECKPOINT_VERSION) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_UNSUPPORTED,
        "%s: checkpoint version %u, this gst-femo reads %u", path,
        GUINT32_FROM_LE (version), FEMO_CHECKPOINT_VERSION);
    return FALSE;
  }
  expected = g_compute_checksum_for_data (G_CHECKSUM_SHA256, data, size - 32);
  for (i = 0; i < 32; i++)
    g_snprintf (digest_hex + 2 * i, 3, "%02x", data[size - 32 + i]);
  if (strcmp (expected, digest_hex) != 0) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
        "%s: checkpoint checksum mismatch (truncated or damaged)", path);
    return FALSE;
  }
  size -= 32;

  if (!next_section (data, size, &pos, &section, &len))
    goto invalid;
  c->state = g_key_file_new ();
  {
    g_autofree gchar *text = g_strndup ((const gchar *) section, len);

    if (!g_key_file_load_from_data (c->state, text, len, G_KEY_FILE_NONE, &sub)) {
      g_set_error (error, FEMO_ERROR, FEMO_ERROR_PARSE,
          "%s: checkpoint state: %s", path, sub->message);
      g_error_free (sub);
      return FALSE;
    }
  }
  if (!next_section (data, size, &pos, &section, &len))
    goto invalid;
  c->net = femo_net_load_from_data (section, len, &sub);
  if (!c->net) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
        "%s: checkpoint weights: %s", path, sub->message);
    g_error_free (sub);
    return FALSE;
  }
  if (!next_floats (data, size, &pos, &c->moments, &c->n_moments))
    goto invalid;
  if (pos < size && !next_floats (data, size, &pos, &c->swa, &c->n_swa))
    goto invalid;
  if (pos != size)
    goto invalid;
  return TRUE;

invalid:
  g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
      "%s: not a gst-femo training checkpoint", path);
  return FALSE;
}

void
femo_checkpoint_clear (FemoCheckpoint * c)
{
  g_clear_pointer (&c->state, g_key_file_unref);
  g_clear_pointer (&c->net, femo_net_free);
  g_clear_pointer (&c->moments, g_free);
  g_clear_pointer (&c->swa, g_free);
}
