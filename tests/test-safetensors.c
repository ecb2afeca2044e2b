/* gst-femo: weights files: bit-exact round trip and every loader error
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "femo-error.h"
#include "femo-net.h"
#include "femo-safetensors.h"

static GBytes *
default_file (void)
{
  g_autoptr (FemoNet) net = femo_net_new (NULL, femo_net_default_labels, 7,
      FEMO_NET_DEFAULT_BN_EPS, 99, NULL);
  g_assert_true (femo_net_set_metadata (net, "train.seed", "99"));
  g_assert_false (femo_net_set_metadata (net, "femo.arch", "other"));
  return femo_net_serialize (net);
}

static void
test_round_trip (void)
{
  g_autoptr (GBytes) a = default_file ();
  gsize size;
  const guint8 *data = g_bytes_get_data (a, &size);
  g_autoptr (GError) error = NULL;
  g_autoptr (FemoNet) net = femo_net_load_from_data (data, size, &error);
  g_autoptr (GBytes) b = NULL;
  g_autofree gchar *path = NULL;
  g_autoptr (FemoNet) from_disk = NULL;
  guint64 hlen = 0;
  guint n_tensors;
  gsize n_params;

  g_assert_no_error (error);
  b = femo_net_serialize (net);
  g_assert_true (g_bytes_equal (a, b));
  for (gint i = 7; i >= 0; i--)
    hlen = (hlen << 8) | data[i];
  g_assert_cmpuint (hlen % 8, ==, 0);
  g_assert_cmpint (data[8], ==, '{');
  g_assert_cmpstr (femo_net_get_metadata (net, "train.seed"), ==, "99");
  g_assert_cmpstr (femo_net_get_metadata (net, "femo.labels"), ==,
      "angry,disgust,fear,happy,sad,surprise,neutral");
  femo_net_get_tensors (net, &n_tensors);
  g_assert_cmpuint (n_tensors, ==, 80);
  femo_net_get_params (net, &n_params);
  g_assert_cmpuint (n_params, ==, 56951);
  /* 58,423 floats in all (contract) */
  g_assert_cmpuint (size - 8 - hlen, ==, 58423 * 4);

  path = g_build_filename (g_get_tmp_dir (), "femo-test-rt.safetensors",
      NULL);
  g_assert_true (femo_net_save (net, path, &error));
  from_disk = femo_net_load (path, &error);
  g_assert_no_error (error);
  g_bytes_unref (b);
  b = femo_net_serialize (from_disk);
  g_assert_true (g_bytes_equal (a, b));
  g_unlink (path);
}

/* Rebuilds a file from a header text and data bytes. */
static GBytes *
assemble (const gchar * header, const guint8 * data, gsize data_len)
{
  GByteArray *out = g_byte_array_new ();
  const guint64 hlen = strlen (header);
  guint8 prefix[8];

  for (gint i = 0; i < 8; i++)
    prefix[i] = (guint8) (hlen >> (8 * i));
  g_byte_array_append (out, prefix, 8);
  g_byte_array_append (out, (const guint8 *) header, hlen);
  g_byte_array_append (out, data, data_len);
  return g_byte_array_free_to_bytes (out);
}

/* The header and data of a good file, for editing. */
static void
split (GBytes * file, gchar ** header, const guint8 ** data, gsize * len)
{
  gsize size;
  const guint8 *p = g_bytes_get_data (file, &size);
  guint64 hlen = 0;
  for (gint i = 7; i >= 0; i--)
    hlen = (hlen << 8) | p[i];
  *header = g_strndup ((const gchar *) p + 8, hlen);
  *data = p + 8 + hlen;
  *len = size - 8 - hlen;
}

static void
expect_error (GBytes * file, gint code, const gchar * fragment)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (FemoNet) net = femo_net_load_from_data (g_bytes_get_data (file,
          NULL), g_bytes_get_size (file), &error);

  g_assert_null (net);
  g_assert_nonnull (error);
  if (g_test_verbose ())
    g_printerr ("  %s\n", error->message);
  g_assert_true (g_error_matches (error, FEMO_ERROR, code));
  if (!strstr (error->message, fragment))
    g_error ("error '%s' does not mention '%s'", error->message, fragment);
}

/* Replaces the first @from in the header by @to, keeping the data. */
static void
expect_edit_error (GBytes * good, const gchar * from, const gchar * to,
    gint code, const gchar * fragment)
{
  g_autofree gchar *header = NULL;
  const guint8 *data;
  gsize len;
  gchar *at;
  GString *s;
  g_autoptr (GBytes) bad = NULL;

  split (good, &header, &data, &len);
  at = strstr (header, from);
  g_assert_nonnull (at);
  s = g_string_new_len (header, at - header);
  g_string_append (s, to);
  g_string_append (s, at + strlen (from));
  bad = assemble (s->str, data, len);
  g_string_free (s, TRUE);
  expect_error (bad, code, fragment);
}

static void
test_errors (void)
{
  g_autoptr (GBytes) good = default_file ();
  gsize size;
  const guint8 *p = g_bytes_get_data (good, &size);
  g_autofree gchar *header = NULL;
  const guint8 *data;
  gsize len;

  split (good, &header, &data, &len);

  /* container */
  {
    g_autoptr (GBytes) b = g_bytes_new (p, 5);
    expect_error (b, FEMO_ERROR_INVALID, "truncated");
  }
  {
    g_autoptr (GBytes) b = g_bytes_new (p, size - 4);
    expect_error (b, FEMO_ERROR_INVALID, "'head.bias' has data_offsets");
  }
  {
    g_autofree guint8 *longer = g_malloc0 (size + 4);
    g_autoptr (GBytes) b = NULL;
    memcpy (longer, p, size);
    b = g_bytes_new (longer, size + 4);
    expect_error (b, FEMO_ERROR_INVALID, "4 bytes after the last tensor");
  }
  {
    g_autoptr (GBytes) b = g_bytes_new (p, 200);
    expect_error (b, FEMO_ERROR_INVALID, "runs past the end");
  }
  {
    guint8 big[16] = { 0, 0, 0, 0x10, 0, 0, 0, 0, '{', '}' };
    g_autoptr (GBytes) b = g_bytes_new (big, sizeof (big));
    expect_error (b, FEMO_ERROR_INVALID, "over the limit");
  }
  {
    g_autoptr (GBytes) b = assemble ("{\"a\":", data, len);
    expect_error (b, FEMO_ERROR_PARSE, "safetensors header");
  }
  {
    g_autoptr (GBytes) b = assemble ("[1,2]   ", data, 0);
    expect_error (b, FEMO_ERROR_INVALID, "not an object");
  }
  /* duplicate key: the second stem.conv1.weight */
  expect_edit_error (good, "\"stem.conv1.weight\"",
      "\"stem.conv1.weight\":{\"dtype\":\"F32\",\"shape\":[0],"
      "\"data_offsets\":[0,0]},\"stem.conv1.weight\"", FEMO_ERROR_PARSE,
      "safetensors header");
  /* layout */
  expect_edit_error (good, "\"data_offsets\":[0,288]",
      "\"data_offsets\":[4,292]", FEMO_ERROR_INVALID,
      "4 unused bytes before tensor 'stem.conv1.weight'");
  expect_edit_error (good, "\"data_offsets\":[288,320]",
      "\"data_offsets\":[284,316]", FEMO_ERROR_INVALID,
      "'stem.bn1.weight' overlaps 'stem.conv1.weight'");
  expect_edit_error (good, "\"data_offsets\":[0,288]",
      "\"data_offsets\":[0,284]", FEMO_ERROR_INVALID, "stem.conv1.weight");
  expect_edit_error (good, "\"data_offsets\":[0,288]",
      "\"data_offsets\":[0,999999999]", FEMO_ERROR_INVALID, "outside");
  expect_edit_error (good, "\"shape\":[8,1,3,3],\"data_offsets\":[0,288]",
      "\"shape\":[8,1,3,3],\"data_offsets\":[0,288],\"x\":1",
      FEMO_ERROR_INVALID, "unexpected field");
  /* tensors */
  expect_edit_error (good, "\"stem.conv1.weight\"", "\"stem.convX.weight\"",
      FEMO_ERROR_INVALID, "unexpected tensor 'stem.convX.weight'");
  expect_edit_error (good, "\"dtype\":\"F32\",\"shape\":[8,1,3,3]",
      "\"dtype\":\"I32\",\"shape\":[8,1,3,3]", FEMO_ERROR_INVALID,
      "stem.conv1.weight' has dtype I32");
  expect_edit_error (good, "\"shape\":[8,1,3,3]", "\"shape\":[1,8,3,3]",
      FEMO_ERROR_INVALID, "stem.conv1.weight' has shape [1, 8, 3, 3]");
  expect_edit_error (good, "\"head.bias\"", "\"head.biax\"",
      FEMO_ERROR_INVALID, "unexpected tensor 'head.biax'");
  /* metadata */
  expect_edit_error (good, "\"femo.arch\":\"mini-xception\"",
      "\"femo.arch\":\"resnet\"", FEMO_ERROR_UNSUPPORTED, "femo.arch");
  expect_edit_error (good, "\"femo.arch\"", "\"femo.arcx\"",
      FEMO_ERROR_INVALID, "femo.arch");
  expect_edit_error (good, "\"femo.format\":\"1\"", "\"femo.format\":\"2\"",
      FEMO_ERROR_UNSUPPORTED, "femo.format");
  expect_edit_error (good, "angry,", "Angry,", FEMO_ERROR_INVALID, "Angry");
  expect_edit_error (good, "angry,", "fear,", FEMO_ERROR_INVALID, "twice");
  expect_edit_error (good, "angry,", "track_id,", FEMO_ERROR_INVALID,
      "reserved");
  expect_edit_error (good, ",neutral\"", "\"", FEMO_ERROR_INVALID,
      "head.weight' has 7 outputs but femo.labels names 6");
  expect_edit_error (good, "\"femo.bn_eps\":\"1e-05\"",
      "\"femo.bn_eps\":\"-1\"", FEMO_ERROR_INVALID, "femo.bn_eps");
  expect_edit_error (good, "\"femo.channels\":\"8,8,16,32,64,128\"",
      "\"femo.channels\":\"8,8,16\"", FEMO_ERROR_INVALID, "femo.channels");
  expect_edit_error (good, "\"train.seed\":\"99\"", "\"train.seed\":99",
      FEMO_ERROR_INVALID, "train.seed");

  /* missing tensor: drop head.bias (the last, so offsets stay tiled) */
  {
    g_autofree gchar *h2 = g_strdup (header);
    gchar *at = strstr (h2, ",\"head.bias\"");
    g_autoptr (GBytes) b = NULL;
    g_assert_nonnull (at);
    strcpy (at, "}");
    b = assemble (h2, data, len - 7 * 4);
    expect_error (b, FEMO_ERROR_INVALID, "missing tensor 'head.bias'");
  }
  /* non-finite weight */
  {
    g_autofree guint8 *d2 = g_memdup2 (data, len);
    const gfloat nan = NAN;
    g_autoptr (GBytes) b = NULL;
    memcpy (d2 + 8, &nan, 4);
    b = assemble (header, d2, len);
    expect_error (b, FEMO_ERROR_INVALID, "stem.conv1.weight' has a "
        "non-finite value at index 2");
  }
}

/* PyTorch's num_batches_tracked (I64 scalars) are skipped; the data may
 * start at any byte (the header is not padded here). */
static void
test_pytorch_extras (void)
{
  g_autoptr (GBytes) good = default_file ();
  g_autofree gchar *header = NULL;
  const guint8 *data;
  gsize len;
  GString *h;
  GByteArray *d;
  g_autoptr (GBytes) b = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (FemoNet) net = NULL;
  const guint8 tracked[8] = { 5 };

  split (good, &header, &data, &len);
  g_strchomp (header);
  h = g_string_new_len (header, strlen (header) - 1);
  g_string_append_printf (h, ",\"stem.bn1.num_batches_tracked\":{\"dtype\":"
      "\"I64\",\"shape\":[],\"data_offsets\":[%" G_GSIZE_FORMAT ",%"
      G_GSIZE_FORMAT "]}}x", len, len + 8);
  h->str[h->len - 1] = '\0';
  h->len--;
  if (h->len % 8 == 0)
    g_string_append_c (h, ' ');
  d = g_byte_array_new ();
  g_byte_array_append (d, data, len);
  g_byte_array_append (d, tracked, 8);
  b = assemble (h->str, d->data, d->len);
  g_string_free (h, TRUE);
  g_byte_array_unref (d);
  net = femo_net_load_from_data (g_bytes_get_data (b, NULL),
      g_bytes_get_size (b), &error);
  g_assert_no_error (error);
  g_assert_nonnull (net);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/safetensors/round-trip", test_round_trip);
  g_test_add_func ("/safetensors/errors", test_errors);
  g_test_add_func ("/safetensors/pytorch-extras", test_pytorch_extras);
  return g_test_run ();
}
