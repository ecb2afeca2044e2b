/* gst-femo video: the faces and emotions of every frame of a video file
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The tool only builds a pipeline; femodetect does the work. decodebin's
 * pads are linked as they appear, so files with or without audio work:
 *
 *   filesrc ! decodebin name=d
 *   d. ! queue ! videoconvert ! femodetect ! femooverlay ! videoconvert
 *      ! video/x-raw,format=I420 ! x264enc (vp8enc) ! mux.
 *   d. ! queue ! audioconvert ! audioresample ! avenc_aac (opusenc) ! mux.
 *   mp4mux (matroskamux, webmmux) name=mux ! filesink
 *
 * A pad probe behind femodetect turns each buffer's face metas into report
 * rows; probes on decodebin's pads end the streams at --duration or on
 * Ctrl-C, so the files written are complete either way.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "commands.h"
#include "femo-detect-options.h"
#include "femo-output.h"
#include "femo-pipeline.h"
#include "femo-plot.h"
#include "femo-report.h"
#include "femo-cli.h"

#include <gst/gst.h>
#include <gst/video/video.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

typedef struct
{
  const gchar *name;
  const gchar *extensions[3];
  const gchar *muxer;
  const gchar *video_encoders[2];
  const gchar *audio_encoders[3];
  const gchar *package;         /* of the video encoder */
} ContainerFormat;

static const ContainerFormat formats[] = {
  {"mp4", {"mp4", "m4v", "mov"}, "mp4mux", {"x264enc"},
      {"avenc_aac", "voaacenc"}, "gstreamer1.0-plugins-ugly"},
  {"mkv", {"mkv"}, "matroskamux", {"x264enc"},
      {"avenc_aac", "voaacenc", "opusenc"}, "gstreamer1.0-plugins-ugly"},
  {"webm", {"webm"}, "webmmux", {"vp8enc"}, {"opusenc", "vorbisenc"},
      "gstreamer1.0-plugins-good"},
};

/* x264's presets, fastest first; vp8enc gets a cpu-used of the same rank. */
static const gchar *const speeds[] = {
  "ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow",
  "slower", "veryslow",
};

static const gint vp8_cpu_used[G_N_ELEMENTS (speeds)] =
    { 16, 12, 8, 6, 5, 4, 3, 2, 1 };

#define DEFAULT_QUALITY 23
#define MAX_QUALITY 50
#define DEFAULT_SPEED "faster"

typedef struct
{
  /* set before the run */
  const gchar *prog;
  const gchar *input;
  GstElement *pipeline;
  GstElement *mux;              /* NULL: no video written */
  const ContainerFormat *format;
  const gchar *video_encoder, *audio_encoder;
  guint speed, quality, threads;
  const FemoDetectOptions *detect;
  GstClockTime limit;           /* GST_CLOCK_TIME_NONE: the whole file */
  gboolean tty;
  gint64 start_us;

  /* streaming threads */
  gboolean have_video, have_audio;
  gint stopping;                /* atomic: Ctrl-C seen */
  gint fps_n, fps_d;
  GArray *faces;
  FemoReport *report;

  GMutex lock;                  /* progress, read by the main thread */
  guint64 frames;
  GstClockTime position;
  gint64 duration;
  gboolean progress_shown;
} VideoJob;

static GstPadProbeReturn
on_detected (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  VideoJob *job = user_data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  GstClockTime pts = GST_BUFFER_PTS (buf);
  guint64 frame;
  gdouble pts_s;

  g_mutex_lock (&job->lock);
  frame = job->frames++;
  if (GST_CLOCK_TIME_IS_VALID (pts))
    job->position = pts;
  g_mutex_unlock (&job->lock);

  if (GST_CLOCK_TIME_IS_VALID (pts))
    pts_s = (gdouble) pts / GST_SECOND;
  else
    pts_s = frame * (gdouble) job->fps_d / job->fps_n;
  g_array_set_size (job->faces, 0);
  femo_buffer_get_faces (buf, job->faces);
  femo_report_add_frame (job->report, frame, pts_s,
      (const FemoFaceInfo *) job->faces->data, job->faces->len);
  return GST_PAD_PROBE_OK;
}

/* On decodebin's pads: past --duration or after Ctrl-C, the branch gets
 * EOS and decodebin is told to stop. */
static GstPadProbeReturn
on_decoded (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  VideoJob *job = user_data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  GstClockTime pts = GST_BUFFER_PTS (buf);
  GstPad *peer;

  if (!g_atomic_int_get (&job->stopping) && (job->limit == GST_CLOCK_TIME_NONE
          || !GST_CLOCK_TIME_IS_VALID (pts) || pts < job->limit))
    return GST_PAD_PROBE_OK;

  peer = gst_pad_get_peer (pad);
  if (peer) {
    gst_pad_send_event (peer, gst_event_new_eos ());
    gst_object_unref (peer);
  }
  gst_buffer_unref (buf);
  GST_PAD_PROBE_INFO_FLOW_RETURN (info) = GST_FLOW_EOS;
  return GST_PAD_PROBE_HANDLED;
}

static void
stop_job (gpointer user_data)
{
  VideoJob *job = user_data;

  if (job->tty)
    fputc ('\n', stderr);
  fprintf (stderr, "%s: stopping at the current frame (Ctrl-C again to "
      "abort)\n", job->prog);
  g_atomic_int_set (&job->stopping, 1);
}

static gchar *
format_time (gdouble s)
{
  guint t = (guint) MAX (s, 0);

  if (t >= 3600)
    return g_strdup_printf ("%u:%02u:%02u", t / 3600, t / 60 % 60, t % 60);
  return g_strdup_printf ("%u:%02u", t / 60, t % 60);
}

/* percent, frames, fps and ETA on one line of the terminal */
static gboolean
show_progress (gpointer user_data)
{
  VideoJob *job = user_data;
  gdouble elapsed = (g_get_monotonic_time () - job->start_us) / 1e6;
  GstClockTime position, end;
  guint64 frames;
  gdouble fps, fraction = -1;
  gchar bar[21];

  g_mutex_lock (&job->lock);
  if (job->duration <= 0)
    gst_element_query_duration (job->pipeline, GST_FORMAT_TIME, &job->duration);
  frames = job->frames;
  position = job->position;
  end = job->duration > 0 ? (GstClockTime) job->duration : GST_CLOCK_TIME_NONE;
  g_mutex_unlock (&job->lock);

  if (!job->tty || frames == 0)
    return G_SOURCE_CONTINUE;
  if (job->limit != GST_CLOCK_TIME_NONE)
    end = MIN (end, job->limit);
  fps = elapsed > 0 ? frames / elapsed : 0;
  if (GST_CLOCK_TIME_IS_VALID (end) && end > 0
      && GST_CLOCK_TIME_IS_VALID (position))
    fraction = CLAMP ((gdouble) position / end, 0.0, 1.0);

  if (fraction >= 0) {
    guint filled = (guint) (fraction * 20 + 0.5);
    g_autofree gchar *eta = format_time (fraction > 0.001 ?
        elapsed * (1 - fraction) / fraction : 0);
    memset (bar, '#', filled);
    memset (bar + filled, '-', 20 - filled);
    bar[20] = '\0';
    guint64 total = gst_util_uint64_scale (end, job->fps_n,
        job->fps_d * GST_SECOND);
    fprintf (stderr, "\r[%s] %3.0f%%  frame %" G_GUINT64_FORMAT " of ~%"
        G_GUINT64_FORMAT "  %.1f fps  ETA %s   ", bar, 100 * fraction, frames,
        total, fps, fraction > 0.001 ? eta : "?");
  } else {
    fprintf (stderr, "\rframe %" G_GUINT64_FORMAT "  %.1f fps   ", frames, fps);
  }
  job->progress_shown = TRUE;
  return G_SOURCE_CONTINUE;
}

/* Adds @desc's elements (a gst_parse_bin description with one unlinked
 * sink pad) to the pipeline, links @pad to it and starts it. */
static GstElement *
add_branch (VideoJob * job, GstPad * pad, const gchar * desc, GError ** error)
{
  GstElement *bin = gst_parse_bin_from_description (desc, TRUE, error);
  GstPad *sink;

  if (bin == NULL)
    return NULL;
  gst_bin_add (GST_BIN (job->pipeline), bin);
  sink = gst_element_get_static_pad (bin, "sink");
  if (gst_pad_link (pad, sink) != GST_PAD_LINK_OK) {
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_NEGOTIATION,
        "cannot link %s", desc);
    gst_object_unref (sink);
    return NULL;
  }
  gst_object_unref (sink);
  return bin;
}

/* Links the branch's last element to the muxer, then starts it. */
static gboolean
start_branch (VideoJob * job, GstElement * bin, const gchar * mux_pad)
{
  if (job->mux) {
    GstPad *src = gst_element_get_static_pad (bin, "src");
    GstPad *sink = gst_element_request_pad_simple (job->mux, mux_pad);
    gboolean ok = sink && gst_pad_link (src, sink) == GST_PAD_LINK_OK;

    gst_object_unref (src);
    g_clear_object (&sink);
    if (!ok)
      return FALSE;
  }
  return gst_element_sync_state_with_parent (bin);
}

static gchar *
video_branch_desc (VideoJob * job)
{
  GString *desc = g_string_new ("queue ! videoconvert ! femodetect "
      "name=detect");

  if (job->mux == NULL) {
    g_string_append (desc, " ! fakesink sync=false");
    return g_string_free (desc, FALSE);
  }
  g_string_append (desc, " ! femooverlay ! videoconvert ! "
      "video/x-raw,format=I420 ! ");
  if (strcmp (job->video_encoder, "x264enc") == 0)
    g_string_append_printf (desc, "x264enc pass=qual quantizer=%u "
        "speed-preset=%s threads=%u", job->quality, speeds[job->speed],
        job->threads);
  else
    g_string_append_printf (desc,
        "vp8enc end-usage=cq cq-level=%u target-bitrate=8000000 "
        "deadline=1 cpu-used=%d threads=%u", job->quality * 63 / MAX_QUALITY,
        vp8_cpu_used[job->speed], MAX (job->threads, 1));
  return g_string_free (desc, FALSE);
}

static void
fail_from_streaming_thread (VideoJob * job, const gchar * message)
{
  GError *err = g_error_new_literal (GST_STREAM_ERROR,
      GST_STREAM_ERROR_FAILED, message);
  gst_element_post_message (job->pipeline,
      gst_message_new_error (GST_OBJECT (job->pipeline), err, NULL));
  g_error_free (err);
}

static void
on_pad_added (GstElement * decodebin, GstPad * pad, gpointer user_data)
{
  VideoJob *job = user_data;
  g_autoptr (GstCaps) caps = gst_pad_query_caps (pad, NULL);
  const gchar *media = gst_structure_get_name (gst_caps_get_structure (caps,
          0));
  g_autoptr (GError) error = NULL;
  g_autofree gchar *desc = NULL;
  GstElement *bin;

  if (g_str_has_prefix (media, "video/x-raw") && !job->have_video) {
    GstElement *detect;
    GstPad *src;
    gint64 duration;
    const GstStructure *s = gst_caps_get_structure (caps, 0);

    if (!gst_structure_get_fraction (s, "framerate", &job->fps_n,
            &job->fps_d) || job->fps_n <= 0 || job->fps_d <= 0) {
      job->fps_n = 30;
      job->fps_d = 1;
    }
    desc = video_branch_desc (job);
    bin = add_branch (job, pad, desc, &error);
    if (bin == NULL)
      goto failed;
    detect = gst_bin_get_by_name (GST_BIN (bin), "detect");
    femo_detect_options_apply (job->detect, detect);
    src = gst_element_get_static_pad (detect, "src");
    gst_pad_add_probe (src, GST_PAD_PROBE_TYPE_BUFFER, on_detected, job, NULL);
    gst_object_unref (src);
    gst_object_unref (detect);
    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, on_decoded, job, NULL);
    /* the container's duration, for the progress and to tell a cut file */
    if (gst_pad_query_duration (pad, GST_FORMAT_TIME, &duration)
        && duration > 0) {
      g_mutex_lock (&job->lock);
      job->duration = duration;
      g_mutex_unlock (&job->lock);
    }
    if (!start_branch (job, bin, "video_%u"))
      goto failed;
    job->have_video = TRUE;
    return;
  }
  if (g_str_has_prefix (media, "audio/x-raw") && !job->have_audio && job->mux
      && job->audio_encoder) {
    desc = g_strdup_printf ("queue ! audioconvert ! audioresample ! %s",
        job->audio_encoder);
    bin = add_branch (job, pad, desc, &error);
    if (bin == NULL)
      goto failed;
    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, on_decoded, job, NULL);
    if (!start_branch (job, bin, "audio_%u"))
      goto failed;
    job->have_audio = TRUE;
    return;
  }
  /* other streams (more video, subtitles, audio not kept) are decoded for
   * nothing: cheap, and decodebin needs every pad linked */
  bin = add_branch (job, pad, "fakesink sync=false", &error);
  if (bin && start_branch (job, bin, NULL))
    return;

failed:
  {
    g_autofree gchar *msg = g_strdup_printf ("cannot handle the %s stream: %s",
        media, error ? error->message : "linking failed");
    fail_from_streaming_thread (job, msg);
  }
}

static void
on_no_more_pads (GstElement * decodebin, gpointer user_data)
{
  VideoJob *job = user_data;

  if (!job->have_video) {
    g_autofree gchar *msg = g_strdup_printf ("%s: no video stream in it",
        job->input);
    fail_from_streaming_thread (job, msg);
  }
}

static const gchar *
first_available (const gchar * const *factories, guint n)
{
  for (guint i = 0; i < n && factories[i]; i++) {
    GstElementFactory *f = gst_element_factory_find (factories[i]);
    if (f) {
      gst_object_unref (f);
      return factories[i];
    }
  }
  return NULL;
}

static const ContainerFormat *
format_by_name (const gchar * name)
{
  for (guint i = 0; i < G_N_ELEMENTS (formats); i++)
    if (g_ascii_strcasecmp (name, formats[i].name) == 0)
      return &formats[i];
  return NULL;
}

static gboolean
has_extension (const gchar * path, const gchar * extension)
{
  const gchar *dot = strrchr (path, '.');

  return dot && !strchr (dot, G_DIR_SEPARATOR)
      && g_ascii_strcasecmp (dot + 1, extension) == 0;
}

static const ContainerFormat *
format_by_extension (const gchar * path)
{
  for (guint i = 0; i < G_N_ELEMENTS (formats); i++)
    for (guint j = 0; j < G_N_ELEMENTS (formats[i].extensions); j++)
      if (formats[i].extensions[j]
          && has_extension (path, formats[i].extensions[j]))
        return &formats[i];
  return NULL;
}

/* A file whose frames end well before its container's duration was cut
 * short (a download or a copy that stopped): the analysis then covers only
 * part of what the user expects, so say so. */
static void
report_cut_file (const VideoJob * job, gboolean interrupted)
{
  GstClockTime expected = job->duration > 0 ?
      (GstClockTime) job->duration : GST_CLOCK_TIME_NONE;
  GstClockTime end;

  if (interrupted || job->frames == 0 || expected == GST_CLOCK_TIME_NONE)
    return;
  if (job->limit != GST_CLOCK_TIME_NONE)
    expected = MIN (expected, job->limit);
  end = job->position + gst_util_uint64_scale (GST_SECOND, job->fps_d,
      job->fps_n);
  /* a second: far more than timestamp rounding or a last frame's length */
  if (end + GST_SECOND > expected)
    return;
  fprintf (stderr, "%s: %s: %" G_GUINT64_FORMAT " frames, %.1f s of %.1f s: "
      "the file looks cut\n", job->prog, job->input, job->frames,
      (gdouble) end / GST_SECOND, (gdouble) expected / GST_SECOND);
}

/* IN without its extension, then @suffix. */
static gchar *
derived_name (const gchar * path, const gchar * suffix)
{
  g_autofree gchar *stem = g_strdup (path);
  gchar *dot = strrchr (stem, '.');

  if (dot && !strchr (dot, G_DIR_SEPARATOR) && dot != stem)
    *dot = '\0';
  return g_strconcat (stem, suffix, NULL);
}

typedef struct
{
  const gchar *what;
  gchar **path;                 /* the option's variable */
  FemoOutputFile *file;
} Output;

enum
{ OUT_VIDEO, OUT_CSV, OUT_JSONL, OUT_PLOT, N_OUTPUTS };

int
femo_cmd_video (int argc, char **argv)
{
  const gchar *prog = argv[0];
  g_autofree gchar *format_name = NULL, *speed = NULL;
  g_autofree gchar *media = NULL;
  gboolean no_video = FALSE, interrupted = FALSE, ok;
  gint quality = DEFAULT_QUALITY;
  gdouble duration_s = 0;
  g_autofree gchar *video_path = NULL, *csv_path = NULL, *jsonl_path = NULL,
      *plot_path = NULL;
  g_auto (FemoDetectOptions) detect = FEMO_DETECT_OPTIONS_INIT;
  Output out[N_OUTPUTS] = {
    {"video", &video_path}, {"csv", &csv_path}, {"jsonl", &jsonl_path},
    {"plot", &plot_path},
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (GOptionContext) ctx = NULL;
  VideoJob job = { 0 };
  GstElement *src, *decodebin, *sink;
  FILE *csv = NULL, *jsonl = NULL;
  int status = 1;
  const GOptionEntry entries[] = {
    {"output", 'o', 0, G_OPTION_ARG_FILENAME, &video_path,
        "Annotated video to write (default: IN-faces.mp4)", "OUT"},
    {"format", 'f', 0, G_OPTION_ARG_STRING, &format_name,
        "Container: mp4 (H.264+AAC), mkv (H.264+AAC) or webm (VP8+Opus); "
          "default: from OUT's extension", "FMT"},
    {"quality", 'q', 0, G_OPTION_ARG_INT, &quality,
        "Video quality, 0 (best, largest) to 50 (smallest); x264's CRF "
          "(default 23)", "Q"},
    {"speed", 0, 0, G_OPTION_ARG_STRING, &speed,
          "Encoder speed: ultrafast ... faster (default) ... veryslow",
        "PRESET"},
    {"no-output-video", 0, 0, G_OPTION_ARG_NONE, &no_video,
        "Only analyse: write no video", NULL},
    {"csv", 0, 0, G_OPTION_ARG_FILENAME, &csv_path,
        "One row per face per frame, as CSV", "FILE"},
    {"jsonl", 0, 0, G_OPTION_ARG_FILENAME, &jsonl_path,
        "The same rows as JSON lines", "FILE"},
    {"plot", 0, 0, G_OPTION_ARG_FILENAME, &plot_path,
          "Emotions over time as an SVG chart (the only format: FILE must "
          "end in .svg), one panel per face track", "FILE.svg"},
    {"duration", 0, 0, G_OPTION_ARG_DOUBLE, &duration_s,
        "Only the first SECONDS of IN", "SECONDS"},
    {NULL}
  };

  job.fps_n = 30;
  job.fps_d = 1;
  job.detect = &detect;
  ctx = g_option_context_new ("IN - faces and emotions of a video file");
  g_option_context_set_summary (ctx,
      "Decodes IN (any file GStreamer plays), finds the faces of every frame\n"
      "and their emotions with femodetect, and writes the video with boxes\n"
      "and labels drawn in (audio kept). At the end it prints, per face\n"
      "track, when it was seen and the share of each emotion.");
  g_option_context_set_description (ctx,
      "CSV columns (JSON lines use the same names):\n"
      "  frame,pts_s,track_id,x,y,width,height,detection_confidence,label,\n"
      "  confidence,raw_label,raw_confidence,p_<emotion>... (one per class\n"
      "  of the model)\n"
      "track_id is 0 for faces that are not tracked; detection_confidence is\n"
      "empty (null) on frames where a track carried the face without\n"
      "detection. JSON lines end with \"landmarks\" ({\"left_eye\": [x, y],\n"
      "\"right_eye\", \"nose\", \"left_mouth\", \"right_mouth\"}, in pixels) when\n"
      "the detector finds them (YuNet, the default).\n\n"
      "Examples:\n"
      "  gst-femo video talk.mp4                    # writes talk-faces.mp4\n"
      "  gst-femo video talk.mp4 -o out.mkv --csv faces.csv --plot faces.svg\n"
      "  gst-femo video talk.mp4 --no-output-video --jsonl faces.jsonl\n"
      "  gst-femo video talk.mp4 -o talk.webm --quality 30 --duration 10\n");
  femo_cli_add_entries (ctx, entries);
  if (!femo_detect_options_parse (ctx, &detect, &argc, &argv))
    return 2;
  if (argc != 2)
    return femo_cli_usage_error (prog, argc < 2 ? "no input file" :
        "one input file only");
  job.prog = prog;
  job.input = argv[1];
  if (quality < 0 || quality > MAX_QUALITY)
    return femo_cli_usage_error (prog, "--quality must be 0 to 50");
  job.quality = quality;
  job.speed = G_N_ELEMENTS (speeds);
  for (guint i = 0; i < G_N_ELEMENTS (speeds); i++)
    if (strcmp (speed ? speed : DEFAULT_SPEED, speeds[i]) == 0)
      job.speed = i;
  if (job.speed == G_N_ELEMENTS (speeds))
    return femo_cli_usage_error (prog, "--speed must be one of ultrafast, "
        "superfast, veryfast, faster, fast, medium, slow, slower, veryslow");
  if (duration_s < 0)
    return femo_cli_usage_error (prog, "--duration must be >= 0");
  job.threads = MAX (detect.threads, 0);
  job.limit = duration_s > 0 ?
      (GstClockTime) (duration_s * GST_SECOND) : GST_CLOCK_TIME_NONE;
  if (format_name && (job.format = format_by_name (format_name)) == NULL)
    return femo_cli_usage_error (prog, "--format must be mp4, mkv or webm");
  if (plot_path && !has_extension (plot_path, "svg"))
    return femo_cli_usage_error (prog, "--plot writes SVG: name the file "
        ".svg, not %s", plot_path);
  if (no_video && video_path)
    return femo_cli_usage_error (prog,
        "-o and --no-output-video exclude each other");

  if (!no_video) {
    if (video_path == NULL) {
      if (job.format == NULL)
        job.format = &formats[0];
      g_autofree gchar *suffix = g_strconcat ("-faces.",
          job.format->extensions[0], NULL);
      video_path = derived_name (job.input, suffix);
    } else if (job.format == NULL
        && (job.format = format_by_extension (video_path)) == NULL)
      return femo_cli_usage_error (prog, "cannot tell the format from OUT's "
          "extension: name it .mp4, .mkv or .webm, or give --format");
  }
  for (guint i = 0; i < N_OUTPUTS; i++)
    for (guint j = 0; j < i && *out[i].path; j++)
      if (*out[j].path && femo_same_file (*out[i].path, *out[j].path))
        return femo_cli_usage_error (prog,
            "the outputs must be different files");

  if (!g_file_test (job.input, G_FILE_TEST_EXISTS)) {
    fprintf (stderr, "%s: %s: no such file\n", prog, job.input);
    return 1;
  }
  if (g_file_test (job.input, G_FILE_TEST_IS_DIR)) {
    fprintf (stderr, "%s: %s: is a directory\n", prog, job.input);
    return 1;
  }
  if (access (job.input, R_OK) != 0) {
    fprintf (stderr, "%s: %s: cannot read it\n", prog, job.input);
    return 1;
  }
  for (guint i = 0; i < N_OUTPUTS; i++)
    if (*out[i].path && femo_same_file (*out[i].path, job.input)) {
      fprintf (stderr, "%s: %s would overwrite the input\n", prog,
          *out[i].path);
      return 1;
    }
  media = femo_typefind_file (job.input);
  if (media && g_str_has_prefix (media, "image/")) {
    fprintf (stderr, "%s: %s is a still image (%s), not a video: use "
        "'gst-femo image'\n", prog, job.input, media);
    return 1;
  }
  if (media && g_str_has_prefix (media, "text/")) {
    fprintf (stderr, "%s: %s is text (%s), not a video\n", prog, job.input,
        media);
    return 1;
  }
  if (!no_video) {
    job.video_encoder = first_available (job.format->video_encoders,
        G_N_ELEMENTS (job.format->video_encoders));
    if (job.video_encoder == NULL) {
      fprintf (stderr, "%s: no %s encoder for %s: install %s\n", prog,
          job.format->video_encoders[0], job.format->name, job.format->package);
      return 1;
    }
    job.audio_encoder = first_available (job.format->audio_encoders,
        G_N_ELEMENTS (job.format->audio_encoders));
  }
  if (!femo_check_plugin (&error)) {
    fprintf (stderr, "%s: %s\n", prog, error->message);
    return 1;
  }

  /* every output is created now, under a temporary name: an unwritable
   * place fails before any work */
  for (guint i = 0; i < N_OUTPUTS; i++) {
    if (*out[i].path == NULL)
      continue;
    out[i].file = femo_output_file_new (*out[i].path, &error);
    if (out[i].file == NULL)
      goto done;
  }
  if (out[OUT_CSV].file &&
      (csv = femo_output_file_get_stream (out[OUT_CSV].file, &error)) == NULL)
    goto done;
  if (out[OUT_JSONL].file && (jsonl =
          femo_output_file_get_stream (out[OUT_JSONL].file, &error)) == NULL)
    goto done;

  job.pipeline = gst_pipeline_new ("video");
  src = gst_element_factory_make ("filesrc", NULL);
  decodebin = gst_element_factory_make ("decodebin", NULL);
  g_object_set (src, "location", job.input, NULL);
  gst_bin_add_many (GST_BIN (job.pipeline), src, decodebin, NULL);
  gst_element_link (src, decodebin);
  if (!no_video) {
    job.mux = gst_element_factory_make (job.format->muxer, NULL);
    sink = gst_element_factory_make ("filesink", NULL);
    g_object_set (sink, "location",
        femo_output_file_get_temp_path (out[OUT_VIDEO].file), NULL);
    if (g_object_class_find_property (G_OBJECT_GET_CLASS (job.mux),
            "faststart"))
      g_object_set (job.mux, "faststart", TRUE, NULL);
    gst_bin_add_many (GST_BIN (job.pipeline), job.mux, sink, NULL);
    gst_element_link (job.mux, sink);
  }
  g_signal_connect (decodebin, "pad-added", G_CALLBACK (on_pad_added), &job);
  g_signal_connect (decodebin, "no-more-pads", G_CALLBACK (on_no_more_pads),
      &job);
  g_mutex_init (&job.lock);
  job.faces = g_array_new (FALSE, FALSE, sizeof (FemoFaceInfo));
  job.report = femo_report_new (csv, jsonl);
  job.tty = isatty (fileno (stderr));
  job.start_us = g_get_monotonic_time ();

  ok = femo_pipeline_run (job.pipeline, job.input, stop_job, show_progress,
      &job, &interrupted, &error);
  if (job.progress_shown)
    fputc ('\n', stderr);
  gst_object_unref (job.pipeline);
  g_mutex_clear (&job.lock);
  if (!ok)
    goto done;
  if (job.mux && !job.have_audio && job.audio_encoder == NULL)
    fprintf (stderr, "%s: note: no %s encoder, the video has no sound\n",
        prog, job.format->audio_encoders[0]);

  if (!femo_report_finish (job.report)) {
    g_set_error (&error, G_FILE_ERROR, G_FILE_ERROR_IO,
        "cannot write the rows: disk full?");
    goto done;
  }
  if (out[OUT_PLOT].file) {
    FILE *svg = femo_output_file_get_stream (out[OUT_PLOT].file, &error);
    g_autofree gchar *title = g_path_get_basename (job.input);
    if (svg == NULL)
      goto done;
    femo_plot_write_svg (job.report, svg, title,
        (gdouble) job.fps_d / job.fps_n);
  }
  for (guint i = 0; i < N_OUTPUTS; i++) {
    FemoOutputFile *file = g_steal_pointer (&out[i].file);
    if (file && !femo_output_file_commit (file, &error))
      goto done;
  }

  report_cut_file (&job, interrupted);
  femo_report_print_summary (job.report, stdout);
  printf ("analysed in %.1f s%s\n",
      (g_get_monotonic_time () - job.start_us) / 1e6,
      interrupted ? " (stopped early)" : "");
  for (guint i = 0; i < N_OUTPUTS; i++)
    if (*out[i].path)
      printf ("%-6s %s\n", out[i].what, *out[i].path);
  status = 0;

done:
  if (error)
    fprintf (stderr, "%s: %s\n", prog, error->message);
  for (guint i = 0; i < N_OUTPUTS; i++)
    femo_output_file_discard (out[i].file);
  femo_report_free (job.report);
  if (job.faces)
    g_array_unref (job.faces);
  return status;
}
