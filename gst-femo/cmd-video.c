/* gst-femo video: faces of every frame of a video file
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The tool only builds a pipeline; femodetect does the work, and a pad probe
 * behind it turns each buffer's face metas into CSV rows:
 *
 *   filesrc ! decodebin ! videoconvert ! femodetect [! femooverlay]
 *       ! videoconvert ! x264enc ! mp4mux ! filesink
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "commands.h"
#include "femo-meta.h"

#include <gst/gst.h>
#include <gst/video/video.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

typedef struct
{
  FILE *csv;
  guint64 frames;
  guint64 faces;
  gint64 duration;
  gboolean tty;
  gint64 start_us;
} VideoJob;

static GstPadProbeReturn
on_buffer (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  VideoJob *job = user_data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  gpointer state = NULL;
  GstMeta *meta;
  gdouble pts_s = GST_BUFFER_PTS_IS_VALID (buf) ?
      (gdouble) GST_BUFFER_PTS (buf) / GST_SECOND : -1.0;

  while ((meta = gst_buffer_iterate_meta_filtered (buf, &state,
              GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
    GstVideoRegionOfInterestMeta *roi = (GstVideoRegionOfInterestMeta *) meta;
    if (roi->roi_type != g_quark_from_static_string (FEMO_META_ROI_TYPE_FACE))
      continue;
    if (job->csv)
      fprintf (job->csv, "%" G_GUINT64_FORMAT ",%.6f,%u,%u,%u,%u\n",
          job->frames, pts_s, roi->x, roi->y, roi->w, roi->h);
    job->faces++;
  }
  job->frames++;

  if (job->tty && job->frames % 10 == 0) {
    gdouble elapsed = (g_get_monotonic_time () - job->start_us) / 1e6;
    gdouble fps = elapsed > 0 ? job->frames / elapsed : 0;
    if (job->duration > 0 && pts_s >= 0)
      fprintf (stderr, "\r  %5.1f%%  frame %" G_GUINT64_FORMAT "  %.1f fps  ",
          100.0 * pts_s * GST_SECOND / job->duration, job->frames, fps);
    else
      fprintf (stderr, "\r  frame %" G_GUINT64_FORMAT "  %.1f fps  ",
          job->frames, fps);
  }
  return GST_PAD_PROBE_OK;
}

/* Runs the pipeline to EOS; returns FALSE after printing the first error. */
static gboolean
run_pipeline (GstElement * pipeline, VideoJob * job)
{
  GstBus *bus = gst_element_get_bus (pipeline);
  gboolean ok = FALSE, done = FALSE;

  if (gst_element_set_state (pipeline,
          GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    /* The error itself is on the bus. */
  }
  while (!done) {
    GstMessage *msg = gst_bus_timed_pop_filtered (bus, 200 * GST_MSECOND,
        GST_MESSAGE_ERROR | GST_MESSAGE_EOS | GST_MESSAGE_DURATION_CHANGED |
        GST_MESSAGE_ASYNC_DONE);
    if (msg == NULL)
      continue;
    switch (GST_MESSAGE_TYPE (msg)) {
      case GST_MESSAGE_EOS:
        ok = done = TRUE;
        break;
      case GST_MESSAGE_ERROR:{
        g_autoptr (GError) err = NULL;
        g_autofree gchar *dbg = NULL;
        gst_message_parse_error (msg, &err, &dbg);
        if (job->tty)
          fputc ('\n', stderr);
        fprintf (stderr, "gst-femo video: %s\n", err->message);
        done = TRUE;
        break;
      }
      default:
        if (job->duration <= 0)
          gst_element_query_duration (pipeline, GST_FORMAT_TIME,
              &job->duration);
        break;
    }
    gst_message_unref (msg);
  }
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (bus);
  return ok;
}

int
femo_cmd_video (int argc, char **argv)
{
  g_autofree gchar *output = NULL, *csv_path = NULL, *cascade = NULL;
  gboolean no_video = FALSE;
  gdouble scale_factor = 1.1;
  gint min_neighbors = 3, min_size = 30;
  g_autoptr (GError) error = NULL;
  g_autoptr (GOptionContext) ctx = NULL;
  g_autofree gchar *desc = NULL, *in_escaped = NULL, *out_escaped = NULL,
      *tmp_csv = NULL;
  GstElement *pipeline, *detect;
  GstPad *pad;
  VideoJob job = { 0 };
  gboolean have_overlay, ok;
  const GOptionEntry entries[] = {
    {"output", 'o', 0, G_OPTION_ARG_FILENAME, &output,
        "Annotated video to write (MP4/H.264; default: IN-faces.mp4)", "OUT"},
    {"csv", 0, 0, G_OPTION_ARG_FILENAME, &csv_path,
          "Faces as CSV, one row per face per frame (default: OUT with .csv)",
        "FILE"},
    {"no-output-video", 0, 0, G_OPTION_ARG_NONE, &no_video,
        "Only analyse: write the CSV, no video", NULL},
    {"cascade", 0, 0, G_OPTION_ARG_FILENAME, &cascade,
        "OpenCV cascade XML (default: femodetect's)", "FILE"},
    {"scale-factor", 0, 0, G_OPTION_ARG_DOUBLE, &scale_factor,
        "Ratio between detection scales (default 1.1)", "F"},
    {"min-neighbors", 0, 0, G_OPTION_ARG_INT, &min_neighbors,
        "Detections needed to keep a face (default 3)", "N"},
    {"min-size", 0, 0, G_OPTION_ARG_INT, &min_size,
        "Smallest face in pixels (default 30)", "PX"},
    {NULL}
  };

  ctx = g_option_context_new ("IN - find the faces in a video file");
  g_option_context_set_summary (ctx,
      "Decodes IN, finds the faces of every frame with femodetect and writes\n"
      "them as CSV (frame,pts_s,x,y,width,height) plus an annotated MP4.");
  g_option_context_set_description (ctx,
      "Examples:\n"
      "  gst-femo video talk.mp4                # talk-faces.mp4 + talk-faces.csv\n"
      "  gst-femo video talk.mp4 -o out.mp4 --csv faces.csv\n"
      "  gst-femo video talk.mkv --no-output-video --csv faces.csv\n");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    fprintf (stderr, "%s: %s\n", argv[0], error->message);
    return 2;
  }
  if (argc != 2) {
    fprintf (stderr, "%s: expected one input file (see --help)\n", argv[0]);
    return 2;
  }
  if (!g_file_test (argv[1], G_FILE_TEST_IS_REGULAR)) {
    fprintf (stderr, "%s: %s: no such file\n", argv[0], argv[1]);
    return 1;
  }
  if (scale_factor <= 1.0 || min_neighbors < 0 || min_size < 1) {
    fprintf (stderr, "%s: --scale-factor must be > 1, --min-neighbors >= 0 "
        "and --min-size >= 1\n", argv[0]);
    return 2;
  }
  if (output == NULL) {
    g_autofree gchar *stem = g_strdup (argv[1]);
    gchar *dot = strrchr (stem, '.');
    if (dot && !strchr (dot, G_DIR_SEPARATOR))
      *dot = '\0';
    output = g_strdup_printf ("%s-faces.mp4", stem);
  }
  if (csv_path == NULL) {
    g_autofree gchar *stem = g_strdup (output);
    gchar *dot = strrchr (stem, '.');
    if (dot && !strchr (dot, G_DIR_SEPARATOR))
      *dot = '\0';
    csv_path = g_strdup_printf ("%s.csv", stem);
  }

  /* The CSV goes to a temporary name first so a failed run leaves no
   * half-written file behind. */
  tmp_csv = g_strdup_printf ("%s.part", csv_path);
  job.csv = fopen (tmp_csv, "w");
  if (job.csv == NULL) {
    fprintf (stderr, "%s: cannot write %s: %s\n", argv[0], csv_path,
        g_strerror (errno));
    return 1;
  }
  fprintf (job.csv, "frame,pts_s,x,y,width,height\n");

  {
    GstPluginFeature *overlay = gst_registry_lookup_feature (gst_registry_get (),
        "femooverlay");
    have_overlay = overlay != NULL;
    g_clear_object (&overlay);
  }
  in_escaped = g_strescape (argv[1], NULL);
  out_escaped = g_strescape (output, NULL);
  if (no_video)
    desc = g_strdup_printf ("filesrc location=\"%s\" ! decodebin ! "
        "videoconvert ! femodetect name=detect ! fakesink sync=false",
        in_escaped);
  else
    desc = g_strdup_printf ("filesrc location=\"%s\" ! decodebin ! "
        "videoconvert ! femodetect name=detect %s ! videoconvert ! "
        "x264enc speed-preset=faster ! mp4mux ! filesink location=\"%s.part\"",
        in_escaped, have_overlay ? "! femooverlay" : "", out_escaped);
  pipeline = gst_parse_launch (desc, &error);
  if (pipeline == NULL) {
    fprintf (stderr, "%s: cannot build the pipeline: %s\n", argv[0],
        error->message);
    fclose (job.csv);
    g_unlink (tmp_csv);
    return 1;
  }
  detect = gst_bin_get_by_name (GST_BIN (pipeline), "detect");
  g_object_set (detect, "scale-factor", scale_factor, "min-neighbors",
      min_neighbors, "min-size", min_size, "post-messages", FALSE, NULL);
  if (cascade)
    g_object_set (detect, "cascade-file", cascade, NULL);
  pad = gst_element_get_static_pad (detect, "src");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, on_buffer, &job, NULL);
  gst_object_unref (pad);
  gst_object_unref (detect);

  job.tty = isatty (fileno (stderr));
  job.start_us = g_get_monotonic_time ();
  ok = run_pipeline (pipeline, &job);
  gst_object_unref (pipeline);
  if (job.tty)
    fputc ('\n', stderr);

  if (fclose (job.csv) != 0)
    ok = FALSE;
  if (ok && g_rename (tmp_csv, csv_path) != 0) {
    fprintf (stderr, "%s: cannot write %s: %s\n", argv[0], csv_path,
        g_strerror (errno));
    ok = FALSE;
  }
  if (!no_video) {
    g_autofree gchar *tmp_out = g_strdup_printf ("%s.part", output);
    if (ok && g_rename (tmp_out, output) != 0) {
      fprintf (stderr, "%s: cannot write %s: %s\n", argv[0], output,
          g_strerror (errno));
      ok = FALSE;
    }
    if (!ok)
      g_unlink (tmp_out);
  }
  if (!ok) {
    g_unlink (tmp_csv);
    return 1;
  }

  printf ("%" G_GUINT64_FORMAT " frames, %" G_GUINT64_FORMAT " faces "
      "(%.2f per frame) in %.1f s\n", job.frames, job.faces,
      job.frames ? (gdouble) job.faces / job.frames : 0.0,
      (g_get_monotonic_time () - job.start_us) / 1e6);
  printf ("faces:  %s\n", csv_path);
  if (!no_video)
    printf ("video:  %s%s\n", output,
        have_overlay ? "" : " (femooverlay not found: frames unannotated)");
  return 0;
}
