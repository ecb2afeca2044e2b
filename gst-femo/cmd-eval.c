/* gst-femo eval: a model's accuracy on FER2013 rows
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "commands.h"
#include "femo-cli.h"
#include "femo-error.h"
#include "femo-evaluate.h"
#include "femo-fer.h"
#include "femo-metrics.h"
#include "femo-net.h"

#include <stdio.h>
#include <string.h>

typedef struct
{
  gchar *model;
  gchar *data;
  gchar *usage;
  gchar *svg;
  gboolean json;
  gboolean skip_bad;
  gboolean flip;
  gint threads;
} EvalOptions;

static gboolean
evaluate (EvalOptions * o, GError ** error)
{
  g_autoptr (FemoModel) model = NULL;
  g_autoptr (FemoFerData) data = NULL;
  g_autoptr (FemoConfusion) confusion = NULL;
  g_autofree gchar *report = NULL;
  g_autofree gchar *skipped = NULL;
  guint output_of_class[FEMO_FER_N_CLASSES];
  const FemoFerSplit *split;
  FemoFerUsage usage;
  GError *sub = NULL;

  if (!o->model || !o->data) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_ARGUMENT,
        "--model and --data are required (see --help)");
    return FALSE;
  }
  if (!femo_fer_usage_from_name (o->usage, &usage)) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_ARGUMENT,
        "--usage must be Training, PublicTest or PrivateTest, not '%s'",
        o->usage);
    return FALSE;
  }
  if (o->threads < 0 || o->threads > 1024) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_ARGUMENT,
        "--threads must be 0 (all cores) to 1024, not %d", o->threads);
    return FALSE;
  }
  if (o->threads == 0)
    o->threads = MAX (1, g_get_num_processors ());

  if (!femo_cli_check_model_file (o->model, error))
    return FALSE;
  model = femo_model_load (o->model, &sub);
  if (!model) {
    /* Name the file once. */
    if (strstr (sub->message, o->model))
      g_propagate_error (error, sub);
    else
      g_propagate_prefixed_error (error, sub, "%s: ", o->model);
    return FALSE;
  }
  if (!femo_evaluate_map_labels (model, output_of_class, &sub)) {
    g_propagate_prefixed_error (error, sub, "%s: ", o->model);
    return FALSE;
  }
  data = femo_fer_load (o->data, o->skip_bad ? FEMO_FER_SKIP_BAD :
      FEMO_FER_FLAGS_NONE, error);
  if (!data)
    return FALSE;
  skipped = femo_fer_data_describe_skipped (data);
  if (skipped)
    g_printerr ("gst-femo eval: %s\n", skipped);
  split = &data->splits[usage];
  if (split->n == 0) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID, "%s has no %s rows",
        o->data, o->usage);
    return FALSE;
  }

  confusion = femo_confusion_new (femo_model_get_n_labels (model));
  femo_evaluate_split (model, split, output_of_class, o->threads, o->flip,
      confusion);

  if (o->json) {
    report = femo_confusion_to_json (confusion, femo_model_get_labels (model));
  } else {
    g_autofree gchar *table = femo_confusion_to_text (confusion,
        femo_model_get_labels (model));
    g_autofree gchar *name = g_path_get_basename (o->model);
    g_autofree gchar *data_name = g_path_get_basename (o->data);

    report = g_strdup_printf ("%s on %u %s rows of %s\n%s", name, split->n,
        o->usage, data_name, table);
  }
  if (o->svg) {
    g_autofree gchar *name = g_path_get_basename (o->model);
    g_autofree gchar *title = g_strdup_printf ("%s on %s (%u images)", name,
        o->usage, split->n);
    g_autofree gchar *svg = femo_confusion_to_svg (confusion,
        femo_model_get_labels (model), title);

    if (!g_file_set_contents (o->svg, svg, -1, &sub)) {
      g_set_error (error, FEMO_ERROR, FEMO_ERROR_IO, "%s", sub->message);
      g_error_free (sub);
      return FALSE;
    }
  }
  fputs (report, stdout);
  fflush (stdout);
  return TRUE;
}

int
femo_cmd_eval (int argc, char **argv)
{
  EvalOptions o = { NULL, NULL, NULL, NULL, FALSE, FALSE, FALSE, 0 };
  g_autoptr (GOptionContext) ctx = NULL;
  g_autoptr (GError) error = NULL;
  const GOptionEntry entries[] = {
    {"model", 'm', 0, G_OPTION_ARG_FILENAME, &o.model,
        "Weights file (.safetensors)", "FILE"},
    {"data", 'd', 0, G_OPTION_ARG_FILENAME, &o.data,
        "FER2013 CSV (fer2013.csv, or gzip-compressed)", "FILE"},
    {"usage", 'u', 0, G_OPTION_ARG_STRING, &o.usage,
          "Rows to measure: PublicTest (default), PrivateTest or Training",
        "USAGE"},
    {"json", 0, 0, G_OPTION_ARG_NONE, &o.json,
          "Print JSON: n, accuracy, macro_f1, labels, per_class, confusion",
        NULL},
    {"svg", 0, 0, G_OPTION_ARG_FILENAME, &o.svg,
        "Also write the confusion matrix as an SVG heat map", "FILE"},
    {"threads", 'j', 0, G_OPTION_ARG_INT, &o.threads,
        "Worker threads, 0 for all cores (default 0)", "N"},
    {"flip", 0, 0, G_OPTION_ARG_NONE, &o.flip,
          "Also run each image mirrored left-right and average the two "
          "probabilities (as femodetect flip=true)", NULL},
    {"skip-bad", 0, 0, G_OPTION_ARG_NONE, &o.skip_bad,
        "Skip malformed CSV rows (and count them) instead of failing", NULL},
    {NULL}
  };
  gboolean ok;

  ctx = g_option_context_new ("- measure a model on FER2013 rows");
  g_option_context_set_summary (ctx,
      "Runs the model once on each image of one Usage (a plain forward pass, "
      "no test-time\naugmentation unless --flip) and prints accuracy, macro-F1, "
      "per-class precision and recall and the\nconfusion matrix (rows: "
      "true class, columns: predicted class).");
  g_option_context_set_description (ctx,
      "Examples:\n"
      "  gst-femo eval --model models/emotion.safetensors --data "
      "fer2013.csv.gz\n"
      "  gst-femo eval -m run/m.safetensors -d fer2013.csv --usage "
      "PrivateTest --json\n"
      "  gst-femo eval -m run/m.safetensors -d fer2013.csv.gz --svg "
      "confusion.svg\n");
  femo_cli_add_entries (ctx, entries);
  if (!femo_cli_parse (ctx, &argc, &argv))
    return 2;
  if (argc > 1)
    return femo_cli_usage_error (argv[0], "unexpected argument '%s'", argv[1]);
  if (!o.usage)
    o.usage = g_strdup ("PublicTest");

  ok = evaluate (&o, &error);
  if (!ok)
    g_printerr ("%s: %s\n", argv[0], error->message);
  g_free (o.model);
  g_free (o.data);
  g_free (o.usage);
  g_free (o.svg);
  return ok ? 0 : 1;
}
