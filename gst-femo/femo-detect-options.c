/* gst-femo: femodetect's settings as command-line options
 * (see femo-detect-options.h)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "femo-detect-options.h"
#include "femo-cli.h"
#include "femo-face-detector.h"

#include <stdio.h>

/* femodetect's "detector" values, as its enum's nicks. */
static const gchar *const detectors[] = { "cascade", "yunet" };

static gboolean
is_detector (const gchar * name)
{
  for (guint i = 0; i < G_N_ELEMENTS (detectors); i++)
    if (g_strcmp0 (name, detectors[i]) == 0)
      return TRUE;
  return FALSE;
}

/* Whether an option only the cascade reads was given. */
static gboolean
has_cascade_options (const FemoDetectOptions * o)
{
  return o->cascade != NULL || o->scale_factor != 0
      || o->min_neighbors != FEMO_DETECT_OPTION_UNSET;
}

/* FALSE + @error when a value is out of range. */
static gboolean
detect_options_check (const FemoDetectOptions * o, GError ** error)
{
  if (o->detector != NULL && !is_detector (o->detector))
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--detector must be cascade or yunet, not \"%s\"", o->detector);
  else if (g_strcmp0 (o->detector, "yunet") == 0 && has_cascade_options (o))
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--cascade, --scale-factor and --min-neighbors are the cascade's: "
        "they do not go with --detector yunet");
  else if (o->scale_factor != 0 && (o->scale_factor < 1.01 || o->scale_factor > 10))
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--scale-factor must be 1.01 to 10");
  else if (o->min_neighbors != FEMO_DETECT_OPTION_UNSET
      && (o->min_neighbors < 0 || o->min_neighbors > 1000))
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--min-neighbors must be 0 to 1000, not %d", o->min_neighbors);
  else if (o->min_size != FEMO_DETECT_OPTION_UNSET && o->min_size < 0)
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--min-size must be 0 or more pixels, not %d", o->min_size);
  else if (o->min_confidence != -1.0 && !(o->min_confidence >= 0
          && o->min_confidence <= 1))
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--min-confidence must be 0 to 1 (or -1, the detector's default), "
        "not %g", o->min_confidence);
  else if (o->process_width != FEMO_DETECT_OPTION_UNSET
      && (o->process_width < 0 || o->process_width > 32768))
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--process-width must be 0 (full size) to 32768 pixels, not %d",
        o->process_width);
  else if (o->threads != FEMO_DETECT_OPTION_UNSET
      && (o->threads < 0 || o->threads > 256))
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--threads must be 0 to 256, not %d", o->threads);
  else
    return TRUE;
  return FALSE;
}

gboolean
femo_detect_options_parse (GOptionContext * ctx, FemoDetectOptions * o,
    int *argc, char ***argv)
{
  g_autoptr (GError) error = NULL;
  const GOptionEntry entries[] = {
    {"model", 0, 0, G_OPTION_ARG_FILENAME, &o->model,
        "Emotion model, safetensors (default: femodetect's)", "FILE"},
    {"detector", 0, 0, G_OPTION_ARG_STRING, &o->detector,
          "Face detector: yunet (a CNN: faces turned too, five landmarks "
          "each; the default) or cascade (OpenCV's Haar cascade, with "
          "OpenCV's boxes; implied by --cascade, --scale-factor and "
          "--min-neighbors)",
        "NAME"},
    {"cascade", 0, 0, G_OPTION_ARG_FILENAME, &o->cascade,
        "OpenCV face cascade XML (default: femodetect's)", "FILE"},
    {"scale-factor", 0, 0, G_OPTION_ARG_DOUBLE, &o->scale_factor,
        "Cascade: ratio between detection scales, 1.01 to 10 (default "
          "1.1)", "F"},
    {"min-neighbors", 0, 0, G_OPTION_ARG_INT, &o->min_neighbors,
        "Cascade: detections needed to keep a face (default 3)", "N"},
    {"min-size", 0, 0, G_OPTION_ARG_INT, &o->min_size,
        "Smallest face in pixels (default 30)", "PX"},
    {"min-confidence", 0, 0, G_OPTION_ARG_DOUBLE, &o->min_confidence,
          "Drop faces of a lower detection confidence, 0 to 1 (default -1: "
          "the detector's own, YuNet's " G_STRINGIFY
          (FEMO_YUNET_DEFAULT_MIN_CONFIDENCE) ", the cascade's 0)", "X"},
    {"process-width", 0, 0, G_OPTION_ARG_INT, &o->process_width,
          "Look for faces in a copy of each frame shrunk to this width; "
          "0 = full size (default 0)", "PX"},
    {"threads", 'j', 0, G_OPTION_ARG_INT, &o->threads,
        "Threads to use (default: one per CPU core)", "N"},
    {NULL}
  };

  femo_cli_add_entries (ctx, entries);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!femo_cli_parse (ctx, argc, argv))
    return FALSE;
  if (!detect_options_check (o, &error)) {
    femo_cli_usage_error ((*argv)[0], "%s", error->message);
    return FALSE;
  }
  /* a cascade option says which detector is wanted */
  if (o->detector == NULL && has_cascade_options (o))
    o->detector = g_strdup ("cascade");
  if (o->model && !femo_cli_check_model_file (o->model, &error)) {
    fprintf (stderr, "%s: %s\n", (*argv)[0], error->message);
    return FALSE;
  }
  return TRUE;
}

void
femo_detect_options_apply (const FemoDetectOptions * o, GstElement * detect)
{
  g_object_set (detect, "post-messages", FALSE, NULL);
  if (o->detector)
    gst_util_set_object_arg (G_OBJECT (detect), "detector", o->detector);
  if (o->cascade)
    g_object_set (detect, "cascade-file", o->cascade, NULL);
  if (o->model)
    g_object_set (detect, "model-file", o->model, NULL);
  if (o->scale_factor != 0)
    g_object_set (detect, "scale-factor", o->scale_factor, NULL);
  if (o->min_neighbors != FEMO_DETECT_OPTION_UNSET)
    g_object_set (detect, "min-neighbors", o->min_neighbors, NULL);
  if (o->min_size != FEMO_DETECT_OPTION_UNSET)
    g_object_set (detect, "min-size", o->min_size, NULL);
  g_object_set (detect, "min-confidence", o->min_confidence, NULL);
  if (o->process_width != FEMO_DETECT_OPTION_UNSET)
    g_object_set (detect, "process-width", (guint) o->process_width, NULL);
  if (o->threads != FEMO_DETECT_OPTION_UNSET)
    g_object_set (detect, "n-threads", (guint) o->threads, NULL);
}

void
femo_detect_options_clear (FemoDetectOptions * o)
{
  g_clear_pointer (&o->detector, g_free);
  g_clear_pointer (&o->cascade, g_free);
  g_clear_pointer (&o->model, g_free);
}
