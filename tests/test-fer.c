/* gst-femo tests: the FER2013 CSV reader and FER+ soft labels (synthetic
 * files only; the real files are read from $FEMO_SHARED_DIR when present)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "femo-fer.h"
#include "femo-error.h"
#include "test-util.h"

#include <glib/gstdio.h>
#include <string.h>

#define FER2013 "data/fer2013.csv.gz"
#define FER2013_NEW "data/fer2013new.csv"

static gchar *tmp_dir;

/* Pixel i of synthetic image @seed. */
static guint
pixel_value (guint seed, guint i)
{
  return (seed * 37 + i * 11) % 256;
}

/* One row: @label, the 2304 pixels of image @seed, @usage. */
static void
append_row (GString * s, const gchar * label, guint seed, const gchar * usage,
    const gchar * eol)
{
  guint i;

  g_string_append_printf (s, "%s,", label);
  for (i = 0; i < FEMO_FER_PIXELS; i++)
    g_string_append_printf (s, "%s%u", i ? " " : "", pixel_value (seed, i));
  g_string_append_printf (s, ",%s%s", usage, eol);
}

static gchar *
good_csv (const gchar * eol)
{
  GString *s = g_string_new (NULL);

  g_string_append_printf (s, "emotion,pixels,Usage%s", eol);
  append_row (s, "0", 1, "Training", eol);
  append_row (s, "3", 2, "Training", eol);
  append_row (s, "6", 3, "PublicTest", eol);
  append_row (s, "5", 4, "Training", eol);
  append_row (s, "1", 5, "PrivateTest", eol);
  return g_string_free (s, FALSE);
}

static gchar *
write_file (const gchar * name, const gchar * contents, gssize length)
{
  gchar *path = g_build_filename (tmp_dir, name, NULL);
  GError *error = NULL;

  g_file_set_contents (path, contents, length, &error);
  g_assert_no_error (error);
  return path;
}

static GBytes *
gzip (const gchar * data, gsize length)
{
  g_autoptr (GZlibCompressor) compressor =
      g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP, 6);
  g_autoptr (GOutputStream) memory = g_memory_output_stream_new_resizable ();
  g_autoptr (GOutputStream) out =
      g_converter_output_stream_new (memory, G_CONVERTER (compressor));
  GError *error = NULL;

  g_output_stream_write_all (out, data, length, NULL, NULL, &error);
  g_assert_no_error (error);
  g_output_stream_close (out, NULL, &error);
  g_assert_no_error (error);
  return g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM
      (memory));
}

static void
check_good (const FemoFerData * data)
{
  const FemoFerSplit *train = &data->splits[FEMO_FER_TRAINING];
  const FemoFerSplit *pub = &data->splits[FEMO_FER_PUBLIC_TEST];
  const FemoFerSplit *priv = &data->splits[FEMO_FER_PRIVATE_TEST];
  guint i;

  g_assert_cmpuint (data->n_rows, ==, 5);
  g_assert_cmpuint (data->n_skipped, ==, 0);
  g_assert_cmpuint (train->n, ==, 3);
  g_assert_cmpuint (pub->n, ==, 1);
  g_assert_cmpuint (priv->n, ==, 1);
  g_assert_cmpuint (train->labels[0], ==, 0);
  g_assert_cmpuint (train->labels[1], ==, 3);
  g_assert_cmpuint (train->labels[2], ==, 5);
  g_assert_cmpuint (train->rows[2], ==, 3);
  g_assert_cmpuint (pub->labels[0], ==, 6);
  g_assert_cmpuint (pub->rows[0], ==, 2);
  g_assert_cmpuint (priv->labels[0], ==, 1);
  g_assert_null (train->soft);
  for (i = 0; i < FEMO_FER_PIXELS; i++) {
    g_assert_cmpuint (train->pixels[i], ==, pixel_value (1, i));
    g_assert_cmpuint (train->pixels[2 * FEMO_FER_PIXELS + i], ==,
        pixel_value (4, i));
    g_assert_cmpuint (priv->pixels[i], ==, pixel_value (5, i));
  }
}

static void
test_good (void)
{
  g_autofree gchar *csv = good_csv ("\n");
  g_autofree gchar *path = write_file ("good.csv", csv, -1);
  g_autofree gchar *digest = g_compute_checksum_for_string (G_CHECKSUM_SHA256,
      csv, -1);
  g_autoptr (GError) error = NULL;
  g_autoptr (FemoFerData) data = femo_fer_load (path, 0, &error);

  g_assert_no_error (error);
  check_good (data);
  g_assert_cmpstr (data->sha256, ==, digest);
}

static void
test_crlf_and_ends (void)
{
  g_autofree gchar *crlf = good_csv ("\r\n");
  g_autofree gchar *bare = good_csv ("\n");
  g_autofree gchar *trailing = g_strconcat (bare, "\n\n", NULL);
  const gchar *texts[3];
  guint i;

  /* No newline after the last row, or blank lines after it. */
  bare[strlen (bare) - 1] = '\0';
  texts[0] = crlf;
  texts[1] = bare;
  texts[2] = trailing;
  for (i = 0; i < G_N_ELEMENTS (texts); i++) {
    g_autofree gchar *path = write_file ("ends.csv", texts[i], -1);
    g_autoptr (GError) error = NULL;
    g_autoptr (FemoFerData) data = femo_fer_load (path, 0, &error);

    g_assert_no_error (error);
    check_good (data);
  }
}

static void
test_gzip (void)
{
  g_autofree gchar *csv = good_csv ("\n");
  g_autoptr (GBytes) gz = gzip (csv, strlen (csv));
  gsize gz_len;
  const gchar *gz_data = g_bytes_get_data (gz, &gz_len);
  /* Recognised by the magic bytes, not by the name. */
  g_autofree gchar *path = write_file ("compressed.csv", gz_data, gz_len);
  g_autofree gchar *cut = write_file ("cut.csv.gz", gz_data, gz_len / 2);
  g_autoptr (GError) error = NULL;
  g_autoptr (FemoFerData) data = femo_fer_load (path, 0, &error);
  g_autoptr (FemoFerData) none = NULL;

  g_assert_no_error (error);
  check_good (data);
  g_assert_cmpuint (strlen (data->sha256), ==, 64);

  none = femo_fer_load (cut, 0, &error);
  g_assert_null (none);
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "cut.csv.gz"));
}

static void
test_bad_rows (void)
{
  static const struct
  {
    const gchar *row;           /* %s = 2304 good pixels */
    const gchar *message;
  } cases[] = {
    {"3,%s", "bad.csv:3: expected 3 fields, found 2"},
    {"3,%s,Training,x", "bad.csv:3: expected 3 fields, found 4"},
    {"3,%s 7,Training", "bad.csv:3: expected 2304 pixels, found more"},
    {"3,1 2 3,Training", "bad.csv:3: expected 2304 pixels, found 3"},
    {"3,,Training", "bad.csv:3: expected 2304 pixels, found 0"},
    {"3,12a %s,Training", "bad.csv:3: pixel 1: '12a' is not a number"},
    {"3,-1 %s,Training", "bad.csv:3: pixel 1: '-1' is not a number"},
    {"3,256 %s,Training", "bad.csv:3: pixel 1: '256' is out of range 0..255"},
    {"7,%s,Training", "bad.csv:3: emotion '7' is not a label 0..6"},
    {",%s,Training", "bad.csv:3: emotion '' is not a label 0..6"},
    {"x,%s,Training", "bad.csv:3: emotion 'x' is not a label 0..6"},
    {"3,%s,Validation", "bad.csv:3: unknown Usage 'Validation' (expected "
          "Training, PublicTest or PrivateTest)"},
    {"3,%s,training", "bad.csv:3: unknown Usage 'training'"},
    {"", "bad.csv:3: empty line"},
  };
  GString *pixels = g_string_new (NULL);
  guint i, k;

  for (k = 0; k < FEMO_FER_PIXELS; k++)
    g_string_append_printf (pixels, "%s%u", k ? " " : "", k % 200);

  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    GString *s = g_string_new ("emotion,pixels,Usage\n");
    g_autofree gchar *path = NULL;
    g_autofree gchar *text = NULL;
    g_autoptr (GError) error = NULL;
    g_autoptr (FemoFerData) data = NULL;
    gchar **parts = g_strsplit (cases[i].row, "%s", -1);
    gchar *row = g_strjoinv (pixels->str, parts);

    g_strfreev (parts);
    append_row (s, "2", 9, "Training", "\n");
    g_string_append_printf (s, "%s\n", row);
    append_row (s, "4", 10, "PublicTest", "\n");
    g_free (row);
    text = g_string_free (s, FALSE);
    path = write_file ("bad.csv", text, -1);

    data = femo_fer_load (path, 0, &error);
    g_assert_null (data);
    g_assert_error (error, FEMO_ERROR, FEMO_ERROR_PARSE);
    if (!g_str_has_prefix (error->message, cases[i].message))
      g_error ("case %u: got \"%s\", expected \"%s\"", i, error->message,
          cases[i].message);
    g_clear_error (&error);

    /* Skipping keeps the rows around it. */
    data = femo_fer_load (path, FEMO_FER_SKIP_BAD, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (data->n_skipped, ==, 1);
    g_assert_cmpuint (data->n_rows, ==, 3);
    g_assert_cmpuint (data->splits[FEMO_FER_TRAINING].n, ==, 1);
    g_assert_cmpuint (data->splits[FEMO_FER_PUBLIC_TEST].n, ==, 1);
    g_assert_cmpuint (data->splits[FEMO_FER_PUBLIC_TEST].rows[0], ==, 2);
    g_assert_true (g_str_has_prefix (data->first_skipped, cases[i].message));
  }
  g_string_free (pixels, TRUE);
}

static void
test_skip_counts (void)
{
  GString *s = g_string_new ("emotion,pixels,Usage\r\n");
  g_autofree gchar *path = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (FemoFerData) data = NULL;

  append_row (s, "1", 1, "Training", "\r\n");
  g_string_append (s, "9,1 2,Training\r\n");
  append_row (s, "2", 2, "Training", "\r\n");
  g_string_append (s, "\r\n");
  g_string_append (s, "1,2,3,4\r\n");
  append_row (s, "3", 3, "Nowhere", "\r\n");
  append_row (s, "4", 4, "PublicTest", "\r\n");
  path = write_file ("skip.csv", s->str, s->len);
  g_string_free (s, TRUE);

  data = femo_fer_load (path, FEMO_FER_SKIP_BAD, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (data->n_rows, ==, 7);
  g_assert_cmpuint (data->n_skipped, ==, 4);
  g_assert_cmpstr (data->first_skipped, ==,
      "skip.csv:3: emotion '9' is not a label 0..6");
  g_assert_cmpuint (data->splits[FEMO_FER_TRAINING].n, ==, 2);
  g_assert_cmpuint (data->splits[FEMO_FER_TRAINING].rows[1], ==, 2);
  g_assert_cmpuint (data->splits[FEMO_FER_PUBLIC_TEST].n, ==, 1);
  g_assert_cmpuint (data->splits[FEMO_FER_PUBLIC_TEST].rows[0], ==, 6);
  g_assert_cmpuint (data->splits[FEMO_FER_PUBLIC_TEST].labels[0], ==, 4);
}

static void
test_headers (void)
{
  static const struct
  {
    const gchar *text;
    const gchar *message;
  } cases[] = {
    {"", "head.csv:1: missing header (expected emotion,pixels,Usage)"},
    {"\n", "head.csv:1: missing header"},
    {"emotion,pixels\n", "head.csv:1: header has no 'Usage' column "
          "(expected emotion,pixels,Usage)"},
    {"0,1 2 3,Training\n", "head.csv:1: header has no 'emotion' column"},
    {"emotion,pixels,Usage,emotion\n",
        "head.csv:1: header names column 'emotion' twice"},
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree gchar *path = write_file ("head.csv", cases[i].text, -1);
    g_autoptr (GError) error = NULL;
    g_autoptr (FemoFerData) data = femo_fer_load (path, FEMO_FER_SKIP_BAD,
        &error);

    g_assert_null (data);
    g_assert_error (error, FEMO_ERROR, FEMO_ERROR_PARSE);
    if (!g_str_has_prefix (error->message, cases[i].message))
      g_error ("case %u: got \"%s\", expected \"%s\"", i, error->message,
          cases[i].message);
  }

  {
    /* Another column order, a byte order mark, and an extra column. */
    GString *s = g_string_new ("\xef\xbb\xbfUsage,note,pixels,emotion\n");
    g_autofree gchar *path = NULL;
    g_autoptr (GError) error = NULL;
    g_autoptr (FemoFerData) data = NULL;
    guint k;

    g_string_append (s, "PublicTest,hello,");
    for (k = 0; k < FEMO_FER_PIXELS; k++)
      g_string_append_printf (s, "%s%u", k ? " " : "", 255 - k % 256);
    g_string_append (s, ",2\n");
    path = write_file ("order.csv", s->str, s->len);
    g_string_free (s, TRUE);
    data = femo_fer_load (path, 0, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (data->splits[FEMO_FER_PUBLIC_TEST].n, ==, 1);
    g_assert_cmpuint (data->splits[FEMO_FER_PUBLIC_TEST].labels[0], ==, 2);
    g_assert_cmpuint (data->splits[FEMO_FER_PUBLIC_TEST].pixels[1], ==, 254);
  }
}

static void
test_missing_file (void)
{
  g_autofree gchar *path = g_build_filename (tmp_dir, "absent.csv", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (FemoFerData) data = femo_fer_load (path, 0, &error);

  g_assert_null (data);
  g_assert_error (error, FEMO_ERROR, FEMO_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "absent.csv"));
}

static const gchar ferplus_text[] =
    "Usage,Image name,neutral,happiness,surprise,sadness,anger,disgust,fear,"
    "contempt,unknown,NF\n"
    "Training,fer0000000.png,4,0,0,1,3,2,0,0,0,0\n"
    "Training,fer0000001.png,2,0,0,0,0,0,0,3,4,1\n"
    "PublicTest,fer0000002.png,0,10,0,0,0,0,0,0,0,0\n"
    "Training,,0,0,0,0,0,0,0,0,0,10\n"
    "Training,fer0000004.png,0,0,0,0,0,0,0,1,2,7\n"
    "PrivateTest,fer0000005.png,0,0,5,0,0,0,5,0,0,0\n";

static void
test_ferplus (void)
{
  g_autofree gchar *path = write_file ("fer2013new.csv", ferplus_text, -1);
  g_autoptr (GError) error = NULL;
  g_autoptr (FemoFerPlus) plus = femo_ferplus_load (path, &error);
  /* FER2013 order: angry disgust fear happy sad surprise neutral. */
  static const gfloat expected[][FEMO_FER_N_CLASSES] = {
    {0.3f, 0.2f, 0.0f, 0.0f, 0.1f, 0.0f, 0.4f},
    {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 1.0f},
    {0.0f, 0.0f, 0.0f, 1.0f, 0.0f, 0.0f, 0.0f},
    {0},
    {0},
    {0.0f, 0.0f, 0.5f, 0.0f, 0.0f, 0.5f, 0.0f},
  };
  guint r, c;

  g_assert_no_error (error);
  g_assert_cmpuint (plus->n_rows, ==, 6);
  g_assert_cmpuint (plus->n_empty, ==, 2);
  g_assert_cmpuint (plus->usages[2], ==, FEMO_FER_PUBLIC_TEST);
  g_assert_cmpuint (plus->usages[5], ==, FEMO_FER_PRIVATE_TEST);
  for (r = 0; r < 6; r++)
    for (c = 0; c < FEMO_FER_N_CLASSES; c++)
      g_assert_cmpfloat_with_epsilon (plus->targets[r * 7 + c],
          expected[r][c], 1e-6);
}

static void
test_ferplus_apply (void)
{
  g_autofree gchar *plus_path = write_file ("plus.csv", ferplus_text, -1);
  GString *s = g_string_new ("emotion,pixels,Usage\n");
  g_autofree gchar *path = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (FemoFerPlus) plus = femo_ferplus_load (plus_path, &error);
  g_autoptr (FemoFerData) data = NULL;
  FemoFerSplit *train;
  guint dropped = 99;

  g_assert_no_error (error);
  /* Rows 0..5 as FER+ has them, and a seventh row FER+ does not cover. */
  append_row (s, "0", 0, "Training", "\n");
  append_row (s, "6", 1, "Training", "\n");
  append_row (s, "3", 2, "PublicTest", "\n");
  append_row (s, "2", 3, "Training", "\n");
  append_row (s, "6", 4, "Training", "\n");
  append_row (s, "5", 5, "PrivateTest", "\n");
  append_row (s, "4", 6, "Training", "\n");
  path = write_file ("data.csv", s->str, s->len);
  g_string_free (s, TRUE);
  data = femo_fer_load (path, 0, &error);
  g_assert_no_error (error);

  train = &data->splits[FEMO_FER_TRAINING];
  g_assert_cmpuint (train->n, ==, 5);
  g_assert_true (femo_fer_split_apply_ferplus (train, FEMO_FER_TRAINING, plus,
          &dropped, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (dropped, ==, 3);
  g_assert_cmpuint (train->n, ==, 2);
  g_assert_cmpuint (train->rows[0], ==, 0);
  g_assert_cmpuint (train->rows[1], ==, 1);
  g_assert_cmpuint (train->labels[1], ==, 6);
  g_assert_cmpuint (train->pixels[FEMO_FER_PIXELS + 5], ==, pixel_value (1, 5));
  g_assert_cmpfloat_with_epsilon (train->soft[0], 0.3f, 1e-6);
  g_assert_cmpfloat_with_epsilon (train->soft[7 + 6], 1.0f, 1e-6);

  /* Claiming PublicTest rows are Training means the files disagree. */
  g_assert_false (femo_fer_split_apply_ferplus (&data->splits
          [FEMO_FER_PUBLIC_TEST], FEMO_FER_TRAINING, plus, NULL, &error));
  g_assert_error (error, FEMO_ERROR, FEMO_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "not in the same order"));
}

static void
test_ferplus_errors (void)
{
  static const struct
  {
    const gchar *text;
    const gchar *message;
  } cases[] = {
    {"Usage,Image name,neutral\n", "p.csv:1: header has no 'anger' column"},
    {"Usage,Image name,neutral,happiness,surprise,sadness,anger,disgust,fear,"
          "contempt,unknown,NF\nTraining,a.png,1,2\n",
        "p.csv:2: expected 12 fields, found 4"},
    {"Usage,Image name,neutral,happiness,surprise,sadness,anger,disgust,fear,"
          "contempt,unknown,NF\nTraining,a.png,1,0,0,0,0,0,0,0,0,0\n"
          "Training,b.png,1,0,0,0,x,0,0,0,0,0\n",
        "p.csv:3: anger votes 'x' are not a count"},
    {"Usage,Image name,neutral,happiness,surprise,sadness,anger,disgust,fear,"
          "contempt,unknown,NF\nTest,a.png,1,0,0,0,0,0,0,0,0,0\n",
        "p.csv:2: unknown Usage 'Test'"},
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree gchar *path = write_file ("p.csv", cases[i].text, -1);
    g_autoptr (GError) error = NULL;
    g_autoptr (FemoFerPlus) plus = femo_ferplus_load (path, &error);

    g_assert_null (plus);
    g_assert_error (error, FEMO_ERROR, FEMO_ERROR_PARSE);
    if (!g_str_has_prefix (error->message, cases[i].message))
      g_error ("case %u: got \"%s\", expected \"%s\"", i, error->message,
          cases[i].message);
  }
}

/* The shared files, when this checkout has them: counts from
 * shared/data/README.md. */
static void
test_shared (void)
{
  static const guint train_counts[] = { 3995, 436, 4097, 7215, 4830, 3171,
    4965
  };
  static const guint public_counts[] = { 467, 56, 496, 895, 653, 415, 607 };
  g_autofree gchar *fer = femo_test_shared_path (FER2013);
  g_autofree gchar *new = femo_test_shared_path (FER2013_NEW);
  g_autoptr (GError) error = NULL;
  g_autoptr (FemoFerData) data = NULL;
  g_autoptr (FemoFerPlus) plus = NULL;
  guint counts[2][FEMO_FER_N_CLASSES] = { {0} };
  guint i, u, dropped;

  data = femo_fer_load (fer, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (data->sha256, ==,
      "afb45c919f8479afb15380862b17c6d35d88948be7b277c3b1ddee4f22a2ff8c");
  g_assert_cmpuint (data->n_rows, ==, 32298);
  g_assert_cmpuint (data->splits[FEMO_FER_TRAINING].n, ==, 28709);
  g_assert_cmpuint (data->splits[FEMO_FER_PUBLIC_TEST].n, ==, 3589);
  g_assert_cmpuint (data->splits[FEMO_FER_PRIVATE_TEST].n, ==, 0);
  for (u = 0; u < 2; u++)
    for (i = 0; i < data->splits[u].n; i++)
      counts[u][data->splits[u].labels[i]]++;
  for (i = 0; i < FEMO_FER_N_CLASSES; i++) {
    g_assert_cmpuint (counts[0][i], ==, train_counts[i]);
    g_assert_cmpuint (counts[1][i], ==, public_counts[i]);
  }

  plus = femo_ferplus_load (new, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (plus->n_rows, ==, 35887);
  g_assert_cmpuint (plus->n_empty, >=, 173);
  g_assert_true (femo_fer_split_apply_ferplus (&data->splits
          [FEMO_FER_TRAINING], FEMO_FER_TRAINING, plus, &dropped, &error));
  g_assert_no_error (error);
  /* Counted independently (Python's csv module): Training rows with a blank
   * image name or no votes for the seven classes. */
  g_assert_cmpuint (dropped, ==, 152);
  g_assert_cmpuint (data->splits[FEMO_FER_TRAINING].n, ==, 28709 - 152);
}

int
main (int argc, char **argv)
{
  GError *error = NULL;
  int ret;

  g_test_init (&argc, &argv, NULL);
  /* before the temporary folder, which a skip would leave behind */
  g_free (femo_test_shared_path (FER2013));
  g_free (femo_test_shared_path (FER2013_NEW));
  tmp_dir = g_dir_make_tmp ("femo-fer-XXXXXX", &error);
  g_assert_no_error (error);

  g_test_add_func ("/fer/good", test_good);
  g_test_add_func ("/fer/crlf-and-ends", test_crlf_and_ends);
  g_test_add_func ("/fer/gzip", test_gzip);
  g_test_add_func ("/fer/bad-rows", test_bad_rows);
  g_test_add_func ("/fer/skip-counts", test_skip_counts);
  g_test_add_func ("/fer/headers", test_headers);
  g_test_add_func ("/fer/missing-file", test_missing_file);
  g_test_add_func ("/fer/ferplus", test_ferplus);
  g_test_add_func ("/fer/ferplus-apply", test_ferplus_apply);
  g_test_add_func ("/fer/ferplus-errors", test_ferplus_errors);
  g_test_add_func ("/fer/shared", test_shared);
  ret = g_test_run ();

  {
    GDir *dir = g_dir_open (tmp_dir, 0, NULL);
    const gchar *name;

    while (dir && (name = g_dir_read_name (dir))) {
      g_autofree gchar *path = g_build_filename (tmp_dir, name, NULL);
      g_unlink (path);
    }
    if (dir)
      g_dir_close (dir);
    g_rmdir (tmp_dir);
  }
  return ret;
}
