/* gst-femo image: the faces and emotions of still images
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One short pipeline per image; its first frame goes through femodetect,
 * where a pad probe reads the face metas:
 *
 *   filesrc ! decodebin ! videoconvert ! femodetect
 *       [! femooverlay ! videoconvert ! jpegenc|pngenc ! filesink]
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "commands.h"
#include "femo-detect-options.h"
#include "femo-output.h"
#include "femo-pipeline.h"
#include "femo-report.h"
#include "femo-cli.h"

#include <gst/gst.h>
#include <gst/video/video.h>
#include <glib/gstdio.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Input media types written back in their own format. */
static const struct
{
  const gchar *media;
  const gchar *encoder;
} encoders[] = {
  {"image/jpeg", "jpegenc quality=92"},
  {"image/png", "pngenc"},
};

#define FALLBACK_ENCODER "pngenc snapshot=true"
#define FALLBACK_EXTENSION ".png"

typedef struct
{
  gboolean seen;
  gint width, height;
  GArray *faces;
} ImageResult;

/* Only the first frame counts (an animated image has more). */
static GstPadProbeReturn
on_detected (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  ImageResult *r = user_data;
  GstVideoInfo vinfo;
  GstCaps *caps;

  if (r->seen)
    return GST_PAD_PROBE_DROP;
  r->seen = TRUE;
  caps = gst_pad_get_current_caps (pad);
  if (caps && gst_video_info_from_caps (&vinfo, caps)) {
    r->width = GST_VIDEO_INFO_WIDTH (&vinfo);
    r->height = GST_VIDEO_INFO_HEIGHT (&vinfo);
  }
  gst_clear_caps (&caps);
  femo_buffer_get_faces (GST_PAD_PROBE_INFO_BUFFER (info), r->faces);
  return GST_PAD_PROBE_OK;
}

/* The encoder for an image of type @media and the name of its annotated
 * copy in @dir; a notice when the format changes. */
static const gchar *
choose_output (const gchar * input, const gchar * media, const gchar * dir,
    gchar ** path, gchar ** notice)
{
  g_autofree gchar *base = g_path_get_basename (input);

  for (guint i = 0; media && i < G_N_ELEMENTS (encoders); i++)
    if (strcmp (media, encoders[i].media) == 0) {
      *path = g_build_filename (dir, base, NULL);
      return encoders[i].encoder;
    }
  {
    gchar *dot = strrchr (base, '.');
    g_autofree gchar *name = NULL;
    if (dot && dot != base)
      *dot = '\0';
    name = g_strconcat (base, FALLBACK_EXTENSION, NULL);
    *path = g_build_filename (dir, name, NULL);
  }
  *notice = g_strdup_printf ("no encoder for %s here: the annotated copy is "
      "PNG", media ? media : "this format");
  return FALLBACK_ENCODER;
}

/* Runs the pipeline of one image; FALSE + @error naming the problem. */
static gboolean
analyse_image (const gchar * input, const gchar * media,
    const FemoDetectOptions * detect_options, const gchar * encoder,
    const gchar * output, ImageResult * result, GError ** error)
{
  g_autofree gchar *desc = NULL;
  FemoOutputFile *file = NULL;
  GstElement *pipeline, *element;
  GstPad *pad;
  gboolean ok;

  if (output) {
    file = femo_output_file_new (output, error);
    if (file == NULL)
      return FALSE;
    desc = g_strdup_printf ("filesrc name=src ! decodebin ! videoconvert ! "
        "femodetect name=detect ! femooverlay ! videoconvert ! %s ! "
        "filesink name=sink", encoder);
  } else
    desc = g_strdup ("filesrc name=src ! decodebin ! videoconvert ! "
        "femodetect name=detect ! fakesink");
  pipeline = gst_parse_launch (desc, error);
  if (pipeline == NULL) {
    femo_output_file_discard (file);
    return FALSE;
  }
  element = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  g_object_set (element, "location", input, NULL);
  gst_object_unref (element);
  if (file) {
    element = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
    g_object_set (element, "location", femo_output_file_get_temp_path (file),
        NULL);
    gst_object_unref (element);
  }
  element = gst_bin_get_by_name (GST_BIN (pipeline), "detect");
  femo_detect_options_apply (detect_options, element);
  pad = gst_element_get_static_pad (element, "src");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, on_detected, result, NULL);
  gst_object_unref (pad);
  gst_object_unref (element);

  ok = femo_pipeline_run (pipeline, input, NULL, NULL, NULL, NULL, error);
  gst_object_unref (pipeline);
  if (ok && !result->seen) {
    g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_DECODE,
        "%s: no picture in it", input);
    ok = FALSE;
  }
  if (!ok) {
    femo_output_file_discard (file);
    return FALSE;
  }
  return file == NULL || femo_output_file_commit (file, error);
}

static void
print_json (const gchar * input, const ImageResult * r, gboolean first)
{
  g_autofree gchar *name = g_filename_display_name (input);

  printf ("%s\n  {\"file\": ", first ? "" : ",");
  femo_json_write_string (stdout, name);
  printf (", \"width\": %d, \"height\": %d, \"faces\": [", r->width, r->height);
  for (guint i = 0; i < r->faces->len; i++) {
    const FemoFaceInfo *f = &g_array_index (r->faces, FemoFaceInfo, i);

    printf ("%s\n    {\"x\": %u, \"y\": %u, \"width\": %u, \"height\": %u, "
        "\"detection_confidence\": ", i ? "," : "", f->x, f->y, f->width,
        f->height);
    femo_json_write_number (stdout, f->detection_confidence);
    printf (", \"label\": ");
    femo_json_write_string (stdout, f->label);
    if (f->label)
      printf (", \"confidence\": %.6f", f->confidence);
    else
      printf (", \"confidence\": null");
    printf (", \"probabilities\": {");
    for (guint k = 0; k < f->n_classes; k++) {
      printf ("%s", k ? ", " : "");
      femo_json_write_string (stdout, f->class_names[k]);
      printf (": %.6f", f->probs[k]);
    }
    printf ("}");
    if (f->has_landmarks) {
      printf (", \"landmarks\": ");
      femo_json_write_landmarks (stdout, f);
    }
    printf ("}");
  }
  printf ("%s]}", r->faces->len ? "\n  " : "");
}

static void
print_table (const gchar * input, const ImageResult * r)
{
  g_autofree gchar *name = g_filename_display_name (input);
  const FemoFaceInfo *first = r->faces->len ?
      &g_array_index (r->faces, FemoFaceInfo, 0) : NULL;

  printf ("%s: %dx%d, %u face%s\n", name, r->width, r->height, r->faces->len,
      r->faces->len == 1 ? "" : "s");
  if (first == NULL)
    return;
  printf ("  face     x     y  width height  detect  emotion     conf");
  for (guint k = 0; k < first->n_classes; k++)
    printf (" %8.8s", first->class_names[k]);
  printf ("\n");
  for (guint i = 0; i < r->faces->len; i++) {
    const FemoFaceInfo *f = &g_array_index (r->faces, FemoFaceInfo, i);

    printf ("  %4u %5u %5u %6u %6u", i + 1, f->x, f->y, f->width, f->height);
    if (f->detection_confidence >= 0)
      printf ("  %5.0f%%", 100 * f->detection_confidence);
    else
      printf ("       -");
    printf ("  %-10s", f->label ? f->label : "-");
    if (f->label)
      printf (" %4.0f%%", 100 * f->confidence);
    else
      printf ("     -");
    for (guint k = 0; k < f->n_classes; k++)
      printf (" %7.1f%%", 100 * f->probs[k]);
    printf ("\n");
  }
}

int
femo_cmd_image (int argc, char **argv)
{
  const gchar *prog = argv[0];
  g_autofree gchar *out_dir = NULL;
  g_auto (FemoDetectOptions) detect = FEMO_DETECT_OPTIONS_INIT;
  gboolean json = FALSE;
  g_autoptr (GError) error = NULL;
  g_autoptr (GOptionContext) ctx = NULL;
  g_autoptr (GArray) faces = NULL;
  /* annotated copy written -> its input: two inputs of one name (a/x.jpg,
   * b/x.jpg) would write one file */
  g_autoptr (GHashTable) written = g_hash_table_new_full (g_str_hash,
      g_str_equal, g_free, g_free);
  guint n_done = 0;
  int status = 0;
  const GOptionEntry entries[] = {
    {"json", 0, 0, G_OPTION_ARG_NONE, &json,
        "Print JSON instead of a table (no short option: -j is --threads, "
          "as in every command)", NULL},
    {"output-dir", 'o', 0, G_OPTION_ARG_FILENAME, &out_dir,
        "Write each image with its faces drawn in to DIR (same name and "
          "format; PNG where GStreamer has no encoder for the format)", "DIR"},
    {NULL}
  };

  ctx = g_option_context_new ("FILE... - faces and emotions of images");
  g_option_context_set_summary (ctx,
      "Finds the faces in each image (any format GStreamer decodes) and\n"
      "tells their emotions, as a table or as JSON.");
  g_option_context_set_description (ctx,
      "detect: the detection confidence (the cascade's neighbors / (neighbors "
      "+ 10),\nYuNet's score); conf: the emotion's probability.\n\n"
      "JSON: a list of {\"file\", \"width\", \"height\", \"faces\": [{\"x\", "
      "\"y\",\n\"width\", \"height\", \"detection_confidence\", \"label\", "
      "\"confidence\",\n\"probabilities\": {emotion: p}[, \"landmarks\": "
      "{\"left_eye\": [x, y], \"right_eye\",\n\"nose\", \"left_mouth\", "
      "\"right_mouth\"}]}]}; landmarks only from a detector that\nfinds "
      "them (YuNet, the default), in pixels of the image.\n\n"
      "Examples:\n"
      "  gst-femo image photo.jpg\n"
      "  gst-femo image --json *.jpg > faces.json\n"
      "  gst-femo image -o annotated/ photo.jpg scan.png\n");
  femo_cli_add_entries (ctx, entries);
  if (!femo_detect_options_parse (ctx, &detect, &argc, &argv))
    return 2;
  if (argc < 2)
    return femo_cli_usage_error (prog, "no input file");
  if (!femo_check_plugin (&error)) {
    fprintf (stderr, "%s: %s\n", prog, error->message);
    return 1;
  }
  if (out_dir && g_mkdir_with_parents (out_dir, 0777) != 0) {
    fprintf (stderr, "%s: cannot create %s: %s\n", prog, out_dir,
        g_strerror (errno));
    return 1;
  }

  faces = g_array_new (FALSE, FALSE, sizeof (FemoFaceInfo));
  if (json)
    printf ("[");
  for (gint i = 1; i < argc; i++) {
    const gchar *input = argv[i];
    g_autofree gchar *media = NULL, *output = NULL, *notice = NULL;
    const gchar *encoder = NULL;
    ImageResult result = { FALSE, 0, 0, faces };

    g_array_set_size (faces, 0);
    g_clear_error (&error);
    if (!g_file_test (input, G_FILE_TEST_EXISTS))
      g_set_error (&error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
          "%s: no such file", input);
    else if (!g_file_test (input, G_FILE_TEST_IS_REGULAR)
        || access (input, R_OK) != 0)
      g_set_error (&error, G_FILE_ERROR, G_FILE_ERROR_ACCES,
          "%s: not a file that can be read", input);
    else {
      media = femo_typefind_file (input);
      if (media == NULL || g_str_has_prefix (media, "text/"))
        g_set_error (&error, GST_STREAM_ERROR, GST_STREAM_ERROR_TYPE_NOT_FOUND,
            "%s: not an image GStreamer can read", input);
      else if (g_str_has_prefix (media, "video/")
          || g_str_has_prefix (media, "audio/"))
        g_set_error (&error, GST_STREAM_ERROR, GST_STREAM_ERROR_WRONG_TYPE,
            "%s: a %s file, not an image (videos: 'gst-femo video')", input,
            media);
    }
    if (error == NULL && out_dir) {
      encoder = choose_output (input, media, out_dir, &output, &notice);
      const gchar *earlier = g_hash_table_lookup (written, output);

      if (femo_same_file (output, input))
        g_set_error (&error, G_FILE_ERROR, G_FILE_ERROR_EXIST,
            "%s: -o would overwrite the input", input);
      else if (earlier)
        g_set_error (&error, G_FILE_ERROR, G_FILE_ERROR_EXIST,
            "%s: skipped: its annotated copy %s would replace that of %s "
            "(rename one of them)", input, output, earlier);
    }
    if (error == NULL)
      analyse_image (input, media, &detect, encoder, output, &result, &error);
    if (error) {
      fprintf (stderr, "%s: %s\n", prog, error->message);
      status = 1;
      continue;
    }
    if (output)
      g_hash_table_insert (written, g_strdup (output), g_strdup (input));
    if (notice)
      fprintf (stderr, "%s: %s: %s\n", prog, input, notice);
    if (json)
      print_json (input, &result, n_done == 0);
    else {
      print_table (input, &result);
      if (output)
        printf ("  annotated: %s\n", output);
    }
    n_done++;
  }
  if (json)
    printf ("%s]\n", n_done ? "\n" : "");
  return status;
}
