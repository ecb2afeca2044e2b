/* gst-femo tests: confusion-matrix metrics and the SVG/JSON writers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "femo-metrics.h"
#include "femo-json.h"

#include <math.h>
#include <string.h>

static const gchar *const labels3[] = { "cat", "dog", "<bird & co>" };

/* Rows true, columns predicted:
 *        cat dog bird
 *  cat     5   1    0
 *  dog     2   3    1
 *  bird    0   0    0   (never the truth, never predicted) */
static FemoConfusion *
hand_made (void)
{
  static const guint pairs[][3] = { {0, 0, 5}, {0, 1, 1}, {1, 0, 2},
  {1, 1, 3}, {1, 2, 1}
  };
  FemoConfusion *c = femo_confusion_new (3);
  guint i, k;

  for (i = 0; i < G_N_ELEMENTS (pairs); i++)
    for (k = 0; k < pairs[i][2]; k++)
      femo_confusion_add (c, pairs[i][0], pairs[i][1]);
  return c;
}

static void
test_numbers (void)
{
  g_autoptr (FemoConfusion) c = hand_made ();
  const gdouble p_cat = 5.0 / 7, r_cat = 5.0 / 6, p_dog = 3.0 / 4,
      r_dog = 3.0 / 6;
  const gdouble f_cat = 2 * p_cat * r_cat / (p_cat + r_cat);
  const gdouble f_dog = 2 * p_dog * r_dog / (p_dog + r_dog);

  g_assert_cmpuint (femo_confusion_total (c), ==, 12);
  g_assert_cmpuint (femo_confusion_support (c, 1), ==, 6);
  g_assert_cmpfloat_with_epsilon (femo_confusion_accuracy (c), 8.0 / 12, 1e-12);
  g_assert_cmpfloat_with_epsilon (femo_confusion_precision (c, 0), p_cat,
      1e-12);
  g_assert_cmpfloat_with_epsilon (femo_confusion_recall (c, 0), r_cat, 1e-12);
  g_assert_cmpfloat_with_epsilon (femo_confusion_precision (c, 1), p_dog,
      1e-12);
  g_assert_cmpfloat_with_epsilon (femo_confusion_recall (c, 1), r_dog, 1e-12);
  /* Predicted once, never right, never the truth: all zero, no NaN. */
  g_assert_cmpfloat (femo_confusion_precision (c, 2), ==, 0.0);
  g_assert_cmpfloat (femo_confusion_recall (c, 2), ==, 0.0);
  g_assert_cmpfloat (femo_confusion_f1 (c, 2), ==, 0.0);
  g_assert_cmpfloat_with_epsilon (femo_confusion_f1 (c, 0), f_cat, 1e-12);
  g_assert_cmpfloat_with_epsilon (femo_confusion_macro_f1 (c),
      (f_cat + f_dog) / 3, 1e-12);
}

static void
test_text_and_json (void)
{
  g_autoptr (FemoConfusion) c = hand_made ();
  g_autofree gchar *text = femo_confusion_to_text (c, labels3);
  g_autofree gchar *json = femo_confusion_to_json (c, labels3);
  g_autoptr (GError) error = NULL;
  g_autoptr (FemoJson) root = femo_json_parse (json, strlen (json), &error);
  const FemoJson *rows, *per_class;

  g_assert_true (g_str_has_prefix (text, "accuracy 0.6667, macro-F1 0.4564, "
          "12 images\n"));
  g_assert_nonnull (strstr (text, "dog             0.7500    0.5000    0.6000 "
          "        6\n"));

  g_assert_no_error (error);
  g_assert_cmpint (femo_json_get_int (femo_json_object_get (root, "n")), ==,
      12);
  g_assert_cmpfloat_with_epsilon (femo_json_get_double (femo_json_object_get
          (root, "accuracy")), 8.0 / 12, 1e-6);
  g_assert_cmpfloat_with_epsilon (femo_json_get_double (femo_json_object_get
          (root, "macro_f1")), femo_confusion_macro_f1 (c), 1e-6);
  rows = femo_json_object_get (root, "confusion");
  g_assert_cmpuint (femo_json_get_length (rows), ==, 3);
  g_assert_cmpint (femo_json_get_int (femo_json_array_get
          (femo_json_array_get (rows, 1), 2)), ==, 1);
  per_class = femo_json_object_get (root, "per_class");
  g_assert_cmpstr (femo_json_get_string (femo_json_object_get
          (femo_json_array_get (per_class, 2), "label")), ==, "<bird & co>");
}

typedef struct
{
  guint elements;
  GString *text;
} SvgInfo;

static void
svg_start (GMarkupParseContext * context, const gchar * element,
    const gchar ** names, const gchar ** values, gpointer user_data,
    GError ** error)
{
  ((SvgInfo *) user_data)->elements++;
}

static void
svg_text (GMarkupParseContext * context, const gchar * text, gsize len,
    gpointer user_data, GError ** error)
{
  g_string_append_len (((SvgInfo *) user_data)->text, text, len);
  g_string_append_c (((SvgInfo *) user_data)->text, '|');
}

/* Parses @svg with GMarkup (a strict XML subset): fails the test when it is
 * not well-formed; returns the text content, '|'-separated. */
static gchar *
check_svg (const gchar * svg, guint * n_elements)
{
  static const GMarkupParser parser = { svg_start, NULL, svg_text, NULL,
    NULL
  };
  SvgInfo info = { 0, g_string_new (NULL) };
  GMarkupParseContext *context;
  GError *error = NULL;
  const gchar *body = strstr (svg, "<svg");

  g_assert_true (g_str_has_prefix (svg, "<?xml version=\"1.0\""));
  g_assert_nonnull (body);
  context = g_markup_parse_context_new (&parser, 0, &info, NULL);
  g_markup_parse_context_parse (context, body, -1, &error);
  g_assert_no_error (error);
  g_markup_parse_context_end_parse (context, &error);
  g_assert_no_error (error);
  g_markup_parse_context_free (context);
  *n_elements = info.elements;
  return g_string_free (info.text, FALSE);
}

static void
test_confusion_svg (void)
{
  g_autoptr (FemoConfusion) c = hand_made ();
  g_autofree gchar *svg = femo_confusion_to_svg (c, labels3, "pets & <birds>");
  guint n;
  g_autofree gchar *text = check_svg (svg, &n);

  /* The svg, the background, 9 cells, and at least the texts below. */
  g_assert_cmpuint (n, >=, 1 + 1 + 9 + 9 + 6);
  g_assert_nonnull (strstr (text, "|pets & <birds>|"));
  g_assert_nonnull (strstr (text, "|<bird & co>|"));
  g_assert_nonnull (strstr (text, "accuracy 0.6667, macro-F1 0.4564"));
  g_assert_nonnull (strstr (text, "|5|"));
  g_assert_nonnull (strstr (text, "|true class|"));
  g_assert_nonnull (strstr (text, "|predicted class|"));
}

static void
test_curves_svg (void)
{
  FemoEpochMetrics epochs[30];
  guint i, n;

  for (i = 0; i < G_N_ELEMENTS (epochs); i++) {
    epochs[i].epoch = i + 1;
    epochs[i].lr = 1e-3;
    epochs[i].train_loss = 1.8 * exp (-0.05 * i) + 0.3;
    epochs[i].train_accuracy = 0.3 + 0.015 * i;
    epochs[i].val_loss = i == 3 ? NAN : 1.7 * exp (-0.04 * i) + 0.4;
    epochs[i].val_accuracy = i == 22 ? 0.6612 : 0.3 + 0.01 * i;
  }
  for (n = 0; n <= G_N_ELEMENTS (epochs); n += n < 2 ? 1 : 14) {
    g_autofree gchar *svg = femo_curves_to_svg (epochs, n, "run <1>");
    guint n_elements;
    g_autofree gchar *text = check_svg (svg, &n_elements);

    g_assert_nonnull (strstr (text, "|run <1>|"));
    g_assert_null (strstr (svg, "nan"));
    g_assert_null (strstr (svg, "inf"));
    if (n == 0) {
      g_assert_nonnull (strstr (text, "no epochs yet"));
    } else {
      g_assert_nonnull (strstr (text, "|accuracy|"));
      g_assert_nonnull (strstr (text, "|validation|"));
      g_assert_nonnull (strstr (text, "|epoch|"));
    }
    if (n == 30)
      g_assert_nonnull (strstr (text,
              "best validation accuracy 0.6612 at epoch 23"));
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/metrics/numbers", test_numbers);
  g_test_add_func ("/metrics/text-and-json", test_text_and_json);
  g_test_add_func ("/metrics/confusion-svg", test_confusion_svg);
  g_test_add_func ("/metrics/curves-svg", test_curves_svg);
  return g_test_run ();
}
