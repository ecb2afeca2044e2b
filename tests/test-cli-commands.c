/* gst-femo tests: the user commands (image, video, live) run as a user would
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * argv[1] is the gst-femo binary of the build. Each test compares what the
 * tool writes with femodetect's metas read here, in this process, on the
 * same input, and decodes the files it writes.
 */
#include "config.h"
#include "femo-face-detector.h"
#include "femo-json.h"
#include "femo-meta.h"
#include "test-util.h"

#include <glib/gstdio.h>
#include <gst/audio/audio.h>
#include <gst/video/video.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>
#include <sys/wait.h>

#define HAMILTON "media/video/short_hamilton_clip.mp4"
/* seconds of the clip the video test analyses, to stay short */
#define VIDEO_SECONDS 3
/* the tool prints probabilities with 6 decimals */
#define PROB_TOLERANCE 5.1e-7

static const gchar *gst_femo;

/* ---- running the tool ---- */

typedef struct
{
  gint status;
  gchar *out, *err;
} Run;

static void
run_clear (Run * run)
{
  g_free (run->out);
  g_free (run->err);
}

/* Runs gst-femo with the NULL-terminated arguments, @env_extra (NAME=VALUE
 * or NULL) added to the environment. */
static Run
run_tool_env (const gchar * env_extra, const gchar * first, ...)
{
  GPtrArray *args = g_ptr_array_new ();
  gchar **env = g_get_environ ();
  GError *error = NULL;
  Run run = { 0, };
  gint wait_status;
  const gchar *arg;
  va_list ap;

  g_ptr_array_add (args, (gpointer) gst_femo);
  va_start (ap, first);
  arg = first;
  while (arg) {
    g_ptr_array_add (args, (gpointer) arg);
    arg = va_arg (ap, const gchar *);
  }
  va_end (ap);
  g_ptr_array_add (args, NULL);
  if (env_extra) {
    gchar **kv = g_strsplit (env_extra, "=", 2);
    env = g_environ_setenv (env, kv[0], kv[1], TRUE);
    g_strfreev (kv);
  }
  g_spawn_sync (NULL, (gchar **) args->pdata, env, G_SPAWN_DEFAULT, NULL,
      NULL, &run.out, &run.err, &wait_status, &error);
  g_assert_no_error (error);
  g_assert_true (WIFEXITED (wait_status));
  run.status = WEXITSTATUS (wait_status);
  g_test_message ("gst-femo %s ... -> %d\nstdout: %s\nstderr: %s", first,
      run.status, run.out, run.err);
  g_ptr_array_unref (args);
  g_strfreev (env);
  return run;
}

#define run_tool(...) run_tool_env (NULL, __VA_ARGS__)

/* A failure: non-zero status and one line on stderr containing @needle. */
static void
assert_one_line_error (const Run * run, const gchar * needle)
{
  const gchar *nl = strchr (run->err, '\n');

  g_assert_cmpint (run->status, !=, 0);
  g_assert_nonnull (nl);
  g_assert_cmpstr (nl + 1, ==, "");
  if (strstr (run->err, needle) == NULL)
    g_error ("expected \"%s\" in: %s", needle, run->err);
}

static void
assert_dir_empty (const gchar * dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  const gchar *name = d ? g_dir_read_name (d) : NULL;

  if (name)
    g_error ("%s left in %s", name, dir);
  g_dir_close (d);
}

/* ---- femodetect's metas, read here ---- */

typedef struct
{
  guint64 frame;
  GstClockTime pts;
  FemoFaceInfo face;
} RefFace;

typedef struct
{
  GstClockTime limit;
  gboolean detect;
  /* results */
  guint64 video_frames;
  GstClockTime video_first, video_end;
  guint64 audio_samples;
  gint audio_rate;
  gint width, height;
  GArray *faces;                /* RefFace */
} Media;

static void
read_faces (GstBuffer * buf, guint64 frame, GArray * faces)
{
  gpointer state = NULL;
  RefFace f = { frame, GST_BUFFER_PTS (buf), };

  while (femo_buffer_iterate_faces (buf, &state, &f.face))
    g_array_append_val (faces, f);
}

static GstPadProbeReturn
on_decoded (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  Media *m = user_data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);

  if (m->limit != GST_CLOCK_TIME_NONE && GST_BUFFER_PTS (buf) >= m->limit)
    return GST_PAD_PROBE_DROP;
  return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn
on_video (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  Media *m = user_data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);

  if (m->video_frames == 0) {
    GstCaps *caps = gst_pad_get_current_caps (pad);
    GstStructure *s = gst_caps_get_structure (caps, 0);
    gst_structure_get_int (s, "width", &m->width);
    gst_structure_get_int (s, "height", &m->height);
    gst_caps_unref (caps);
    m->video_first = GST_BUFFER_PTS (buf);
  }
  m->video_end = GST_BUFFER_PTS (buf) + GST_BUFFER_DURATION (buf);
  read_faces (buf, m->video_frames++, m->faces);
  return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn
on_audio (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  Media *m = user_data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  GstCaps *caps = gst_pad_get_current_caps (pad);
  GstAudioInfo ainfo;

  g_assert_true (gst_audio_info_from_caps (&ainfo, caps));
  gst_caps_unref (caps);
  m->audio_rate = GST_AUDIO_INFO_RATE (&ainfo);
  m->audio_samples += gst_buffer_get_size (buf) / GST_AUDIO_INFO_BPF (&ainfo);
  return GST_PAD_PROBE_OK;
}

static void
on_pad_added (GstElement * decodebin, GstPad * pad, gpointer user_data)
{
  Media *m = user_data;
  GstCaps *caps = gst_pad_query_caps (pad, NULL);
  const gchar *name = gst_structure_get_name (gst_caps_get_structure (caps,
          0));
  gboolean video = g_str_has_prefix (name, "video/");
  GstElement *bin, *sink;
  GstPad *sinkpad;

  bin = gst_parse_bin_from_description (video && m->detect ?
      "videoconvert ! femodetect n-threads=1 post-messages=false ! "
      "fakesink name=sink sync=false" : "fakesink name=sink sync=false",
      TRUE, NULL);
  gst_bin_add (GST_BIN (GST_ELEMENT_PARENT (decodebin)), bin);
  sinkpad = gst_element_get_static_pad (bin, "sink");
  g_assert_cmpint (gst_pad_link (pad, sinkpad), ==, GST_PAD_LINK_OK);
  gst_object_unref (sinkpad);
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, on_decoded, m, NULL);
  sink = gst_bin_get_by_name (GST_BIN (bin), "sink");
  sinkpad = gst_element_get_static_pad (sink, "sink");
  gst_pad_add_probe (sinkpad, GST_PAD_PROBE_TYPE_BUFFER,
      video ? on_video : on_audio, m, NULL);
  gst_object_unref (sinkpad);
  gst_object_unref (sink);
  gst_element_sync_state_with_parent (bin);
  gst_caps_unref (caps);
}

/* Decodes @path (video frames before @limit), running femodetect on the
 * video when @detect. */
static void
media_decode (const gchar * path, gboolean detect, GstClockTime limit,
    Media * m)
{
  GstElement *pipeline = gst_pipeline_new (NULL);
  GstElement *src = gst_element_factory_make ("filesrc", NULL);
  GstElement *dec = gst_element_factory_make ("decodebin", NULL);
  GstBus *bus;
  GstMessage *msg;

  memset (m, 0, sizeof (*m));
  m->limit = limit;
  m->detect = detect;
  m->faces = g_array_new (FALSE, TRUE, sizeof (RefFace));
  g_object_set (src, "location", path, NULL);
  gst_bin_add_many (GST_BIN (pipeline), src, dec, NULL);
  gst_element_link (src, dec);
  g_signal_connect (dec, "pad-added", G_CALLBACK (on_pad_added), m);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  bus = gst_element_get_bus (pipeline);
  msg = gst_bus_timed_pop_filtered (bus, 60 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  g_assert_nonnull (msg);
  g_assert_cmpint (GST_MESSAGE_TYPE (msg), ==, GST_MESSAGE_EOS);
  gst_message_unref (msg);
  gst_object_unref (bus);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
}

/* Class names of the first face that has them: the CSV's p_ columns. */
static const RefFace *
face_with_classes (GArray * faces)
{
  for (guint i = 0; i < faces->len; i++)
    if (g_array_index (faces, RefFace, i).face.n_classes > 0)
      return &g_array_index (faces, RefFace, i);
  return NULL;
}

static void
assert_prob (gdouble got, gdouble want, const gchar * what)
{
  if (fabs (got - want) > PROB_TOLERANCE)
    g_error ("%s: %.9f, femodetect says %.9f (difference %.3g)", what, got,
        want, fabs (got - want));
}

/* The five points of a JSON "landmarks" object, in femo-meta.h's order,
 * each [x, y] inside the face's box (a tenth of it around). */
static void
assert_json_landmarks (const FemoJson * face, const FemoJson * landmarks)
{
  static const gchar *const names[] = { "left_eye", "right_eye", "nose",
    "left_mouth", "right_mouth"
  };
  gdouble x = femo_json_get_int (femo_json_object_get (face, "x"));
  gdouble y = femo_json_get_int (femo_json_object_get (face, "y"));
  gdouble w = femo_json_get_int (femo_json_object_get (face, "width"));
  gdouble h = femo_json_get_int (femo_json_object_get (face, "height"));

  g_assert_nonnull (landmarks);
  g_assert_cmpuint (femo_json_get_length (landmarks), ==, G_N_ELEMENTS (names));
  for (guint k = 0; k < G_N_ELEMENTS (names); k++) {
    const FemoJson *point = femo_json_object_value_at (landmarks, k);
    gdouble px = femo_json_get_double (femo_json_array_get (point, 0));
    gdouble py = femo_json_get_double (femo_json_array_get (point, 1));

    g_assert_cmpstr (femo_json_object_key_at (landmarks, k), ==, names[k]);
    g_assert_cmpuint (femo_json_get_length (point), ==, 2);
    g_assert_cmpfloat (px, >=, x - w / 10);
    g_assert_cmpfloat (px, <=, x + w * 1.1);
    g_assert_cmpfloat (py, >=, y - h / 10);
    g_assert_cmpfloat (py, <=, y + h * 1.1);
  }
}

/* ---- gst-femo image ---- */

static const gchar *const images[] = {
  "media/facerec_two_people.jpg", "media/skimage_astronaut.png",
};

static void
test_image_json (void)
{
  GError *error = NULL;
  gchar *paths[G_N_ELEMENTS (images)];
  FemoJson *json;
  Run run;

  for (guint i = 0; i < G_N_ELEMENTS (images); i++)
    paths[i] = femo_test_shared_path (images[i]);
  run = run_tool ("image", "--json", "--threads", "1", paths[0], paths[1],
      NULL);
  g_assert_cmpint (run.status, ==, 0);
  g_assert_cmpstr (run.err, ==, "");
  json = femo_json_parse (run.out, strlen (run.out), &error);
  g_assert_no_error (error);
  g_assert_cmpint (femo_json_get_length (json), ==, G_N_ELEMENTS (images));

  for (guint i = 0; i < G_N_ELEMENTS (images); i++) {
    const FemoJson *item = femo_json_array_get (json, i);
    const FemoJson *faces = femo_json_object_get (item, "faces");
    Media ref;

    media_decode (paths[i], TRUE, GST_CLOCK_TIME_NONE, &ref);
    g_assert_cmpstr (femo_json_get_string (femo_json_object_get (item,
                "file")), ==, paths[i]);
    g_assert_cmpint (femo_json_get_int (femo_json_object_get (item, "width")),
        ==, ref.width);
    g_assert_cmpint (femo_json_get_int (femo_json_object_get (item,
                "height")), ==, ref.height);
    g_assert_cmpuint (ref.faces->len, >, 0);
    g_assert_cmpuint (femo_json_get_length (faces), ==, ref.faces->len);
    for (guint j = 0; j < ref.faces->len; j++) {
      const RefFace *want = &g_array_index (ref.faces, RefFace, j);
      const FemoJson *face = femo_json_array_get (faces, j);
      const FemoJson *probs = femo_json_object_get (face, "probabilities");
      const FemoJson *label = femo_json_object_get (face, "label");

      g_assert_cmpint (femo_json_get_int (femo_json_object_get (face, "x")),
          ==, want->face.x);
      g_assert_cmpint (femo_json_get_int (femo_json_object_get (face, "y")),
          ==, want->face.y);
      g_assert_cmpint (femo_json_get_int (femo_json_object_get (face,
                  "width")), ==, want->face.width);
      g_assert_cmpint (femo_json_get_int (femo_json_object_get (face,
                  "height")), ==, want->face.height);
      assert_prob (femo_json_get_double (femo_json_object_get (face,
                  "detection_confidence")), want->face.detection_confidence,
          "detection_confidence");
      /* landmarks when the detector gave them (YuNet, the default) */
      if (want->face.has_landmarks)
        assert_json_landmarks (face, femo_json_object_get (face,
                "landmarks"));
      else
        g_assert_null (femo_json_object_get (face, "landmarks"));
      if (want->face.label == NULL) {
        g_assert_cmpint (femo_json_get_node_type (label), ==, FEMO_JSON_NULL);
        continue;
      }
      g_assert_cmpstr (femo_json_get_string (label), ==, want->face.label);
      assert_prob (femo_json_get_double (femo_json_object_get (face,
                  "confidence")), want->face.confidence, "confidence");
      g_assert_cmpuint (femo_json_get_length (probs), ==,
          want->face.n_classes);
      for (guint k = 0; k < want->face.n_classes; k++) {
        g_assert_cmpstr (femo_json_object_key_at (probs, k), ==,
            want->face.class_names[k]);
        assert_prob (femo_json_get_double (femo_json_object_value_at (probs,
                    k)), want->face.probs[k], want->face.class_names[k]);
      }
    }
    /* the table names the file and counts its faces */
    {
      gchar *line = g_strdup_printf ("%s: %dx%d, %u face", paths[i],
          ref.width, ref.height, ref.faces->len);
      Run table = run_tool ("image", "--threads", "1", paths[i], NULL);
      g_assert_cmpint (table.status, ==, 0);
      g_assert_true (g_str_has_prefix (table.out, line));
      run_clear (&table);
      g_free (line);
    }
    g_array_unref (ref.faces);
  }
  femo_json_free (json);
  run_clear (&run);
  for (guint i = 0; i < G_N_ELEMENTS (images); i++)
    g_free (paths[i]);
}

/* Mean absolute difference of RGB pixels over a rectangle. */
static gdouble
mean_difference (const guint8 * a, const guint8 * b, gint stride, gint x,
    gint y, gint w, gint h)
{
  guint64 sum = 0;

  for (gint j = y; j < y + h; j++)
    for (gint i = 3 * x; i < 3 * (x + w); i++)
      sum += ABS (a[j * stride + i] - b[j * stride + i]);
  return (gdouble) sum / (3.0 * w * h);
}

static void
test_image_annotated (void)
{
  gchar *dir, *paths[G_N_ELEMENTS (images)];
  static const guint8 jpeg_magic[] = { 0xff, 0xd8, 0xff };
  static const guint8 png_magic[] = { 0x89, 'P', 'N', 'G' };
  Run run;

  for (guint i = 0; i < G_N_ELEMENTS (images); i++)
    paths[i] = femo_test_shared_path (images[i]);
  dir = g_dir_make_tmp ("femo-cli-XXXXXX", NULL);
  run = run_tool ("image", "--threads", "1", "-o", dir, paths[0], paths[1],
      NULL);
  g_assert_cmpint (run.status, ==, 0);

  for (guint i = 0; i < G_N_ELEMENTS (images); i++) {
    gchar *base = g_path_get_basename (paths[i]);
    gchar *out = g_build_filename (dir, base, NULL);
    gboolean jpeg = g_str_has_suffix (base, ".jpg");
    gsize length;
    gchar *bytes = femo_test_read_file (out, &length);
    gint w0, h0, w1, h1;
    guint8 *orig, *annotated;
    GError *error = NULL;
    Media ref;
    const RefFace *f;

    /* same format as the input */
    g_assert_cmpuint (length, >, 8);
    g_assert_cmpmem (bytes, jpeg ? 3 : 4, jpeg ? jpeg_magic : png_magic,
        jpeg ? 3 : 4);
    orig = femo_test_load_image (paths[i], GST_VIDEO_FORMAT_RGB, &w0, &h0,
        &error);
    g_assert_no_error (error);
    annotated = femo_test_load_image (out, GST_VIDEO_FORMAT_RGB, &w1, &h1,
        &error);
    g_assert_no_error (error);
    g_assert_cmpint (w0, ==, w1);
    g_assert_cmpint (h0, ==, h1);

    /* the first face's box is drawn; a corner far from faces is not
     * (beyond JPEG's re-encoding) */
    media_decode (paths[i], TRUE, GST_CLOCK_TIME_NONE, &ref);
    f = &g_array_index (ref.faces, RefFace, 0);
    g_assert_cmpfloat (mean_difference (orig, annotated, 3 * w0, f->face.x,
            f->face.y + f->face.height - 1, f->face.width, 1), >, 30);
    g_assert_cmpfloat (mean_difference (orig, annotated, 3 * w0, w0 - 16,
            h0 - 16, 16, 16), <, 6);
    g_array_unref (ref.faces);
    g_unlink (out);
    g_free (orig);
    g_free (annotated);
    g_free (bytes);
    g_free (out);
    g_free (base);
  }
  assert_dir_empty (dir);
  g_rmdir (dir);
  run_clear (&run);
  for (guint i = 0; i < G_N_ELEMENTS (images); i++)
    g_free (paths[i]);
  g_free (dir);
}

static void
test_image_errors (void)
{
  gchar *video = femo_test_shared_path (HAMILTON);
  gchar *image = femo_test_shared_path (images[1]);
  gchar *text = g_build_filename (FEMO_SOURCE_ROOT, "README.md", NULL);
  Run run;

  run = run_tool ("image", "/nonexistent/face.jpg", NULL);
  assert_one_line_error (&run, "/nonexistent/face.jpg: no such file");
  run_clear (&run);
  run = run_tool ("image", text, NULL);
  assert_one_line_error (&run, "not an image");
  run_clear (&run);
  run = run_tool ("image", video, NULL);
  assert_one_line_error (&run, "not an image");
  run_clear (&run);
  run = run_tool ("image", "--no-such-option", image, NULL);
  assert_one_line_error (&run, "--no-such-option");
  run_clear (&run);
  /* a bad file among good ones: the good ones are still reported */
  run = run_tool ("image", "--threads", "1", image, "/nonexistent/x.png", NULL);
  assert_one_line_error (&run, "/nonexistent/x.png");
  g_assert_nonnull (strstr (run.out, "skimage_astronaut.png: 512x512"));
  run_clear (&run);
  run = run_tool ("image", "--help", NULL);
  g_assert_cmpint (run.status, ==, 0);
  g_assert_nonnull (strstr (run.out, "Examples"));
  run_clear (&run);
  g_free (text);
  g_free (image);
  g_free (video);
}

/* Option habits shared by every command that runs the network: -j is
 * --threads, short values can be glued on, negative counts are refused. */
static void
test_image_options (void)
{
  gchar *image = femo_test_shared_path (images[0]);
  gchar *text = g_build_filename (FEMO_SOURCE_ROOT, "README.md", NULL);
  static const gchar *const counts[] = {
    "--threads", "--min-size", "--min-neighbors", "--process-width"
  };
  GError *error = NULL;
  const FemoJson *faces;
  FemoJson *json;
  guint n_all;
  Run run;

  run = run_tool ("image", "-j1", "--json", image, NULL);
  g_assert_cmpint (run.status, ==, 0);
  json = femo_json_parse (run.out, strlen (run.out), &error);
  g_assert_no_error (error);
  g_assert_cmpint (femo_json_get_length (json), ==, 1);
  femo_json_free (json);
  run_clear (&run);
  run = run_tool ("image", "--help", NULL);
  g_assert_nonnull (strstr (run.out, "-j, --threads=N"));
  g_assert_nonnull (strstr (run.out, "  --json "));
  run_clear (&run);

  for (guint i = 0; i < G_N_ELEMENTS (counts); i++) {
    gchar *message = g_strdup_printf ("%s must be", counts[i]);

    run = run_tool ("image", counts[i], "-1", image, NULL);
    assert_one_line_error (&run, message);
    g_assert_cmpint (run.status, ==, 2);
    run_clear (&run);
    g_free (message);
  }
  run = run_tool ("image", "-j-2", image, NULL);
  assert_one_line_error (&run, "--threads must be 0 to 256, not -2");
  run_clear (&run);
  /* the cascade's own options: refused with YuNet, else they choose the
   * cascade (no landmarks) */
  run = run_tool ("image", "--detector", "yunet", "--min-neighbors", "5",
      image, NULL);
  assert_one_line_error (&run, "do not go with --detector yunet");
  g_assert_cmpint (run.status, ==, 2);
  run_clear (&run);
  run = run_tool ("image", "-j1", "--json", "--min-neighbors", "5", image,
      NULL);
  g_assert_cmpint (run.status, ==, 0);
  json = femo_json_parse (run.out, strlen (run.out), &error);
  g_assert_no_error (error);
  faces = femo_json_object_get (femo_json_array_get (json, 0), "faces");
  g_assert_cmpuint (femo_json_get_length (faces), >, 0);
  for (guint i = 0; i < femo_json_get_length (faces); i++)
    g_assert_null (femo_json_object_get (femo_json_array_get (faces, i),
            "landmarks"));
  femo_json_free (json);
  run_clear (&run);
  /* --min-confidence reaches femodetect: fewer faces than the cascade's
   * (all of its faces by default), each that confident */
  run = run_tool ("image", "-j1", "--json", "--detector", "cascade", image,
      NULL);
  json = femo_json_parse (run.out, strlen (run.out), &error);
  g_assert_no_error (error);
  n_all = femo_json_get_length (femo_json_object_get (femo_json_array_get
          (json, 0), "faces"));
  femo_json_free (json);
  run_clear (&run);
  run = run_tool ("image", "-j1", "--json", "--detector", "cascade",
      "--min-confidence", "0.5", image, NULL);
  g_assert_cmpint (run.status, ==, 0);
  json = femo_json_parse (run.out, strlen (run.out), &error);
  g_assert_no_error (error);
  faces = femo_json_object_get (femo_json_array_get (json, 0), "faces");
  g_assert_cmpuint (femo_json_get_length (faces), >, 0);
  g_assert_cmpuint (femo_json_get_length (faces), <, n_all);
  for (guint i = 0; i < femo_json_get_length (faces); i++)
    g_assert_cmpfloat (femo_json_get_double (femo_json_object_get
            (femo_json_array_get (faces, i), "detection_confidence")), >=,
        0.5);
  femo_json_free (json);
  run_clear (&run);

  run = run_tool ("image", "--min-confidence", "1.5", image, NULL);
  assert_one_line_error (&run, "--min-confidence must be 0 to 1 (or -1, the "
      "detector's default), not 1.5");
  g_assert_cmpint (run.status, ==, 2);
  run_clear (&run);
  run = run_tool ("image", "--min-confidence", "-0.5", image, NULL);
  assert_one_line_error (&run, "--min-confidence must be 0 to 1");
  run_clear (&run);
  run = run_tool ("image", "--min-confidence", "high", image, NULL);
  assert_one_line_error (&run, "--min-confidence");
  run_clear (&run);

  /* a model file that is not one: plain words, no header figures */
  run = run_tool ("image", "--model", text, image, NULL);
  assert_one_line_error (&run, "README.md is not a model: not a safetensors "
      "file");
  g_assert_null (strstr (run.err, "header"));
  run_clear (&run);
  g_free (text);
  g_free (image);
}

/* --detector yunet: faces with YuNet's score and landmarks (last in each
 * face), at its default minimum confidence unless --min-confidence; the
 * table shows the score; a detector that does not exist is named. */
static void
test_image_yunet (void)
{
  gchar *image = femo_test_shared_path (images[0]);
  GError *error = NULL;
  const FemoJson *faces;
  FemoJson *json;
  guint n_default;
  Run run;

  run = run_tool ("image", "-j1", "--json", "--detector", "yunet", image,
      NULL);
  g_assert_cmpint (run.status, ==, 0);
  json = femo_json_parse (run.out, strlen (run.out), &error);
  g_assert_no_error (error);
  faces = femo_json_object_get (femo_json_array_get (json, 0), "faces");
  n_default = femo_json_get_length (faces);
  g_assert_cmpuint (n_default, >=, 2);
  for (guint i = 0; i < n_default; i++) {
    const FemoJson *face = femo_json_array_get (faces, i);
    guint n_keys = femo_json_get_length (face);

    g_assert_cmpfloat (femo_json_get_double (femo_json_object_get (face,
                "detection_confidence")), >=,
        FEMO_YUNET_DEFAULT_MIN_CONFIDENCE);
    g_assert_cmpstr (femo_json_object_key_at (face, n_keys - 1), ==,
        "landmarks");
    assert_json_landmarks (face, femo_json_object_get (face, "landmarks"));
  }
  femo_json_free (json);
  run_clear (&run);

  run = run_tool ("image", "-j1", "--json", "--detector", "yunet",
      "--min-confidence", "0.2", "--min-size", "0", image, NULL);
  json = femo_json_parse (run.out, strlen (run.out), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (femo_json_get_length (femo_json_object_get
          (femo_json_array_get (json, 0), "faces")), >, n_default);
  femo_json_free (json);
  run_clear (&run);

  run = run_tool ("image", "-j1", "--detector", "yunet", image, NULL);
  g_assert_cmpint (run.status, ==, 0);
  g_assert_nonnull (strstr (run.out, "detect  emotion"));
  g_assert_nonnull (strstr (run.out, "  94%  "));
  run_clear (&run);

  run = run_tool ("image", "--detector", "yolo", image, NULL);
  assert_one_line_error (&run, "--detector must be cascade or yunet, not "
      "\"yolo\"");
  g_assert_cmpint (run.status, ==, 2);
  run_clear (&run);
  g_free (image);
}

/* Two inputs of one name in different folders would write one annotated
 * copy: the second is refused, the first's copy stays. */
static void
test_image_same_name (void)
{
  gchar *dir = g_dir_make_tmp ("femo-cli-XXXXXX", NULL);
  gchar *out = g_build_filename (dir, "new", "annotated", NULL);
  gchar *glued = g_strconcat ("-o", out, NULL);
  gchar *inputs[2], *copy, *bytes;
  gsize length;
  Run run;

  for (guint i = 0; i < 2; i++) {
    gchar *sub = g_build_filename (dir, i ? "b" : "a", NULL);
    gchar *source = femo_test_shared_path (i ? "media/facerec_obama.jpg" :
        images[0]);

    g_assert_cmpint (g_mkdir (sub, 0755), ==, 0);
    inputs[i] = g_build_filename (sub, "face.jpg", NULL);
    bytes = femo_test_read_file (source, &length);
    g_assert_true (g_file_set_contents (inputs[i], bytes, length, NULL));
    g_free (bytes);
    g_free (source);
    g_free (sub);
  }
  run = run_tool ("image", "-j1", glued, inputs[0], inputs[1], NULL);
  assert_one_line_error (&run, "b/face.jpg: skipped: its annotated copy ");
  g_assert_nonnull (strstr (run.err, "would replace that of "));
  g_assert_nonnull (strstr (run.out, "a/face.jpg: "));
  g_assert_null (strstr (run.out, "b/face.jpg"));
  copy = g_build_filename (out, "face.jpg", NULL);
  g_assert_true (g_file_test (copy, G_FILE_TEST_IS_REGULAR));
  run_clear (&run);

  g_unlink (copy);
  g_rmdir (out);
  g_free (out);
  out = g_build_filename (dir, "new", NULL);
  g_rmdir (out);
  for (guint i = 0; i < 2; i++) {
    gchar *sub = g_path_get_dirname (inputs[i]);
    g_unlink (inputs[i]);
    g_rmdir (sub);
    g_free (sub);
    g_free (inputs[i]);
  }
  assert_dir_empty (dir);
  g_rmdir (dir);
  g_free (copy);
  g_free (glued);
  g_free (out);
  g_free (dir);
}

/* ---- gst-femo video ---- */

/* CSV lines of @path, the header first. */
static gchar **
read_lines (const gchar * path)
{
  gsize length;
  gchar *text = femo_test_read_file (path, &length);
  gchar **lines;

  g_assert_true (length > 0 && text[length - 1] == '\n');
  text[length - 1] = '\0';
  lines = g_strsplit (text, "\n", -1);
  g_free (text);
  return lines;
}

typedef struct
{
  guint panels;
  guint series;                 /* in the current panel */
  GHashTable *emotions;         /* of the current panel */
  GPtrArray *classes;           /* expected */
} SvgCheck;

static void
svg_start (GMarkupParseContext * ctx, const gchar * element,
    const gchar ** names, const gchar ** values, gpointer user_data,
    GError ** error)
{
  SvgCheck *c = user_data;
  const gchar *cls = NULL, *emotion = NULL;

  for (guint i = 0; names[i]; i++) {
    if (strcmp (names[i], "class") == 0)
      cls = values[i];
    else if (strcmp (names[i], "data-emotion") == 0)
      emotion = values[i];
  }
  if (g_strcmp0 (cls, "panel") == 0) {
    c->panels++;
    g_hash_table_remove_all (c->emotions);
  } else if (g_strcmp0 (cls, "series") == 0) {
    g_assert_cmpstr (element, ==, "path");
    g_assert_nonnull (emotion);
    g_assert_false (g_hash_table_contains (c->emotions, emotion));
    g_hash_table_add (c->emotions, g_strdup (emotion));
  }
}

static void
svg_end (GMarkupParseContext * ctx, const gchar * element,
    gpointer user_data, GError ** error)
{
  SvgCheck *c = user_data;

  /* every panel has one series per class */
  if (strcmp (element, "g") == 0 && g_hash_table_size (c->emotions) > 0) {
    g_assert_cmpuint (g_hash_table_size (c->emotions), ==, c->classes->len);
    for (guint k = 0; k < c->classes->len; k++)
      g_assert_true (g_hash_table_contains (c->emotions,
              g_ptr_array_index (c->classes, k)));
    c->series++;
    g_hash_table_remove_all (c->emotions);
  }
}

static void
test_video (void)
{
  gchar *input = femo_test_shared_path (HAMILTON);
  gchar *dir = g_dir_make_tmp ("femo-cli-XXXXXX", NULL);
  gchar *out = g_build_filename (dir, "out.mp4", NULL);
  gchar *csv = g_build_filename (dir, "out.csv", NULL);
  gchar *jsonl = g_build_filename (dir, "out.jsonl", NULL);
  gchar *svg = g_build_filename (dir, "out.svg", NULL);
  gchar *seconds = g_strdup_printf ("%d", VIDEO_SECONDS);
  GString *header = g_string_new ("frame,pts_s,track_id,x,y,width,height,"
      "detection_confidence,label,confidence,raw_label,raw_confidence");
  GHashTable *tracks = g_hash_table_new (NULL, NULL);
  GError *error = NULL;
  gchar **rows, **jrows, **columns;
  const RefFace *with_classes;
  Media ref, result;
  gchar *frames_line;
  Run run;

  run = run_tool ("video", input, "-o", out, "--csv", csv, "--jsonl", jsonl,
      "--plot", svg, "--duration", seconds, "--threads", "1", NULL);
  g_assert_cmpint (run.status, ==, 0);
  g_assert_null (strstr (run.err, "looks cut"));

  /* the input's frames and faces, counted here */
  media_decode (input, TRUE, VIDEO_SECONDS * GST_SECOND, &ref);
  g_assert_cmpuint (ref.video_frames, >, 80);
  g_assert_cmpuint (ref.faces->len, >, 10);
  frames_line = g_strdup_printf ("%" G_GUINT64_FORMAT " frames, %u faces",
      ref.video_frames, ref.faces->len);
  g_assert_true (g_str_has_prefix (run.out, frames_line));

  /* CSV: the header, then one row per face per frame, as femodetect said */
  with_classes = face_with_classes (ref.faces);
  g_assert_nonnull (with_classes);
  for (guint k = 0; with_classes && k < with_classes->face.n_classes; k++)
    g_string_append_printf (header, ",p_%s",
        with_classes->face.class_names[k]);
  rows = read_lines (csv);
  g_assert_cmpstr (rows[0], ==, header->str);
  g_assert_cmpuint (g_strv_length (rows), ==, ref.faces->len + 1);
  columns = g_strsplit (header->str, ",", -1);
  jrows = read_lines (jsonl);
  g_assert_cmpuint (g_strv_length (jrows), ==, ref.faces->len);
  for (guint i = 0; i < ref.faces->len; i++) {
    const RefFace *f = &g_array_index (ref.faces, RefFace, i);
    gchar **v = g_strsplit (rows[i + 1], ",", -1);
    FemoJson *obj = femo_json_parse (jrows[i], strlen (jrows[i]), &error);

    g_assert_no_error (error);
    g_assert_cmpuint (g_strv_length (v), ==, g_strv_length (columns));
    g_assert_cmpuint (g_ascii_strtoull (v[0], NULL, 10), ==, f->frame);
    g_assert_cmpfloat_with_epsilon (g_ascii_strtod (v[1], NULL),
        (gdouble) f->pts / GST_SECOND, 0.0006);
    g_assert_cmpuint (g_ascii_strtoull (v[2], NULL, 10), ==,
        f->face.track_id);
    g_assert_cmpuint (g_ascii_strtoull (v[3], NULL, 10), ==, f->face.x);
    g_assert_cmpuint (g_ascii_strtoull (v[4], NULL, 10), ==, f->face.y);
    g_assert_cmpuint (g_ascii_strtoull (v[5], NULL, 10), ==, f->face.width);
    g_assert_cmpuint (g_ascii_strtoull (v[6], NULL, 10), ==, f->face.height);
    /* empty on frames where a track carried the face */
    if (f->face.detected)
      assert_prob (g_ascii_strtod (v[7], NULL),
          f->face.detection_confidence, "detection_confidence");
    else
      g_assert_cmpstr (v[7], ==, "");
    g_assert_cmpstr (v[8], ==, f->face.label ? f->face.label : "");
    if (f->face.label)
      assert_prob (g_ascii_strtod (v[9], NULL), f->face.confidence,
          "confidence");
    g_assert_cmpstr (v[10], ==, f->face.raw_label ? f->face.raw_label : "");
    if (f->face.raw_label)
      assert_prob (g_ascii_strtod (v[11], NULL), f->face.raw_confidence,
          "raw_confidence");
    for (guint k = 0; k < f->face.n_classes; k++)
      assert_prob (g_ascii_strtod (v[12 + k], NULL), f->face.probs[k],
          f->face.class_names[k]);
    g_hash_table_add (tracks, GUINT_TO_POINTER (f->face.track_id));

    /* the JSON line: the same names in the same order, the same values,
     * then the landmarks when the detector gave them */
    g_assert_cmpuint (femo_json_get_length (obj), ==, g_strv_length (columns)
        + (f->face.has_landmarks ? 1 : 0));
    if (f->face.has_landmarks)
      assert_json_landmarks (obj, femo_json_object_get (obj, "landmarks"));
    for (guint k = 0; columns[k]; k++) {
      const FemoJson *value = femo_json_object_value_at (obj, k);
      g_assert_cmpstr (femo_json_object_key_at (obj, k), ==, columns[k]);
      if (v[k][0] == '\0')
        g_assert_cmpint (femo_json_get_node_type (value), ==, FEMO_JSON_NULL);
      else if (femo_json_get_node_type (value) == FEMO_JSON_STRING)
        g_assert_cmpstr (femo_json_get_string (value), ==, v[k]);
      else
        g_assert_cmpfloat_with_epsilon (femo_json_get_double (value),
            g_ascii_strtod (v[k], NULL), 1e-9);
    }
    femo_json_free (obj);
    g_strfreev (v);
  }

  /* the plot: well-formed, a panel per track, a series per emotion each */
  {
    GMarkupParser parser = { svg_start, svg_end, NULL, NULL, NULL };
    SvgCheck check = { 0, 0, g_hash_table_new_full (g_str_hash, g_str_equal,
          g_free, NULL), g_ptr_array_new (),
    };
    GMarkupParseContext *ctx;
    gsize length;
    gchar *text = femo_test_read_file (svg, &length);

    for (guint k = 0; k < with_classes->face.n_classes; k++)
      g_ptr_array_add (check.classes,
          (gpointer) with_classes->face.class_names[k]);
    ctx = g_markup_parse_context_new (&parser, 0, &check, NULL);
    g_assert_true (g_markup_parse_context_parse (ctx, text, length, &error));
    g_assert_true (g_markup_parse_context_end_parse (ctx, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (check.panels, ==, MIN (g_hash_table_size (tracks), 12));
    g_assert_cmpuint (check.series, ==, check.panels);
    g_markup_parse_context_free (ctx);
    g_hash_table_unref (check.emotions);
    g_ptr_array_unref (check.classes);
    g_free (text);
  }

  /* the video: every analysed frame, as long, with the sound */
  media_decode (out, FALSE, GST_CLOCK_TIME_NONE, &result);
  g_assert_cmpuint (result.video_frames, ==, ref.video_frames);
  g_assert_cmpint (result.width, ==, ref.width);
  g_assert_cmpint (result.height, ==, ref.height);
  g_assert_cmpfloat_with_epsilon ((gdouble) (result.video_end -
          result.video_first) / GST_SECOND,
      (gdouble) (ref.video_end - ref.video_first) / GST_SECOND, 0.002);
  g_assert_cmpint (result.audio_rate, >, 0);
  g_assert_cmpfloat_with_epsilon ((gdouble) result.audio_samples /
      result.audio_rate, (gdouble) (ref.video_end - ref.video_first) /
      GST_SECOND, 0.1);

  g_array_unref (result.faces);
  g_array_unref (ref.faces);
  g_strfreev (columns);
  g_strfreev (rows);
  g_strfreev (jrows);
  g_free (frames_line);
  g_hash_table_unref (tracks);
  g_string_free (header, TRUE);
  run_clear (&run);
  g_assert_cmpint (g_unlink (out), ==, 0);
  g_assert_cmpint (g_unlink (csv), ==, 0);
  g_assert_cmpint (g_unlink (jsonl), ==, 0);
  g_assert_cmpint (g_unlink (svg), ==, 0);
  assert_dir_empty (dir);
  g_rmdir (dir);
  g_free (seconds);
  g_free (svg);
  g_free (jsonl);
  g_free (csv);
  g_free (out);
  g_free (dir);
  g_free (input);
}

static void
test_video_errors (void)
{
  gchar *input = femo_test_shared_path (HAMILTON);
  gchar *image = femo_test_shared_path (images[1]);
  gchar *text = g_build_filename (FEMO_SOURCE_ROOT, "README.md", NULL);
  gchar *dir = g_dir_make_tmp ("femo-cli-XXXXXX", NULL);
  gchar *out = g_build_filename (dir, "out.mp4", NULL);
  gchar *csv = g_build_filename (dir, "out.csv", NULL);
  gchar *junk = g_build_filename (dir, "junk.mp4", NULL);
  gchar *blocked;
  guint8 noise[4096];
  Run run;

  run = run_tool ("video", "/nonexistent/talk.mp4", NULL);
  assert_one_line_error (&run, "/nonexistent/talk.mp4: no such file");
  run_clear (&run);
  run = run_tool ("video", text, "-o", out, NULL);
  assert_one_line_error (&run, "not a video");
  run_clear (&run);
  run = run_tool ("video", image, "-o", out, NULL);
  assert_one_line_error (&run, "gst-femo image");
  run_clear (&run);
  run = run_tool ("video", "--frobnicate", input, NULL);
  assert_one_line_error (&run, "--frobnicate");
  g_assert_cmpint (run.status, ==, 2);
  run_clear (&run);
  /* a folder that cannot be made: a file is in its path */
  g_assert_true (g_file_set_contents (junk, "", 0, NULL));
  blocked = g_build_filename (junk, "dir", "out.mp4", NULL);
  run = run_tool ("video", input, "-o", blocked, NULL);
  assert_one_line_error (&run, "cannot write");
  g_assert_nonnull (strstr (run.err, "junk.mp4/dir: Not a directory"));
  run_clear (&run);
  g_unlink (junk);
  run = run_tool ("video", input, "--plot", "emotions.png", NULL);
  assert_one_line_error (&run, "--plot writes SVG");
  run_clear (&run);
  run = run_tool ("video", input, "-o", csv, NULL);
  assert_one_line_error (&run, "format");
  run_clear (&run);

  /* bytes no typefinder knows, under a video's name */
  for (guint i = 0; i < sizeof (noise); i++)
    noise[i] = (guint8) (g_test_rand_int () & 0xff);
  g_assert_true (g_file_set_contents (junk, (const gchar *) noise,
          sizeof (noise), NULL));
  run = run_tool ("video", junk, "-o", out, "--csv", csv, NULL);
  assert_one_line_error (&run, "junk.mp4: not a media file");
  run_clear (&run);
  g_unlink (junk);

  /* no H.264 decoder: the missing plugin is named, nothing is left */
  run = run_tool_env ("GST_PLUGIN_FEATURE_RANK=avdec_h264:NONE,"
      "openh264dec:NONE,vah264dec:NONE,vaapih264dec:NONE,nvh264dec:NONE,"
      "v4l2slh264dec:NONE,v4l2h264dec:NONE", "video", input, "-o", out,
      "--csv", csv, "--threads", "1", NULL);
  assert_one_line_error (&run, "H.264");
  run_clear (&run);
  assert_dir_empty (dir);

  run = run_tool ("video", "--help", NULL);
  g_assert_cmpint (run.status, ==, 0);
  g_assert_nonnull (strstr (run.out, "Examples"));
  g_assert_nonnull (strstr (run.out, "--plot"));
  run_clear (&run);

  g_rmdir (dir);
  g_free (blocked);
  g_free (junk);
  g_free (csv);
  g_free (out);
  g_free (dir);
  g_free (text);
  g_free (image);
  g_free (input);
}

/* -o makes the folders it needs; short values glued on */
static void
test_video_options (void)
{
  gchar *input = femo_test_shared_path (HAMILTON);
  gchar *dir = g_dir_make_tmp ("femo-cli-XXXXXX", NULL);
  gchar *out = g_build_filename (dir, "new", "sub", "out.mp4", NULL);
  gchar *glued = g_strconcat ("-o", out, NULL);
  gchar *sub;
  Run run;

  run = run_tool ("video", "-q30", "-j1", glued, "--duration", "0.3", input,
      NULL);
  g_assert_cmpint (run.status, ==, 0);
  g_assert_true (g_file_test (out, G_FILE_TEST_IS_REGULAR));
  run_clear (&run);
  g_unlink (out);
  sub = g_path_get_dirname (out);
  g_rmdir (sub);
  g_free (sub);
  sub = g_build_filename (dir, "new", NULL);
  g_rmdir (sub);
  g_free (sub);
  assert_dir_empty (dir);
  g_rmdir (dir);
  g_free (glued);
  g_free (out);
  g_free (dir);
  g_free (input);
}

/* --detector yunet: JSON lines end with the landmarks of each face the
 * detector found. */
static void
test_video_yunet (void)
{
  gchar *input = femo_test_shared_path (HAMILTON);
  gchar *dir = g_dir_make_tmp ("femo-cli-XXXXXX", NULL);
  gchar *jsonl = g_build_filename (dir, "out.jsonl", NULL);
  GError *error = NULL;
  gchar **rows;
  guint n_landmarks = 0;
  Run run;

  run = run_tool ("video", "-j1", "--detector", "yunet", "--no-output-video",
      "--jsonl", jsonl, "--duration", "0.5", input, NULL);
  g_assert_cmpint (run.status, ==, 0);
  rows = read_lines (jsonl);
  g_assert_nonnull (rows[0]);
  for (guint i = 0; rows[i]; i++) {
    FemoJson *row = femo_json_parse (rows[i], strlen (rows[i]), &error);
    const FemoJson *landmarks = femo_json_object_get (row, "landmarks");

    g_assert_no_error (error);
    if (landmarks != NULL) {
      g_assert_cmpstr (femo_json_object_key_at (row,
              femo_json_get_length (row) - 1), ==, "landmarks");
      assert_json_landmarks (row, landmarks);
      n_landmarks++;
    }
    femo_json_free (row);
  }
  g_assert_cmpuint (n_landmarks, ==, g_strv_length (rows));
  g_strfreev (rows);
  g_unlink (jsonl);
  g_rmdir (dir);
  run_clear (&run);
  g_free (jsonl);
  g_free (dir);
  g_free (input);
}

/* A file cut short (a download that stopped) keeps its header's duration:
 * its first bytes of a clip whose index comes first. */
static void
test_video_cut (void)
{
  gchar *clip = femo_test_shared_path ("media/video/"
      "obama_montage_640x480_300f.mp4");
  gchar *dir = g_dir_make_tmp ("femo-cli-XXXXXX", NULL);
  gchar *cut = g_build_filename (dir, "cut.mp4", NULL);
  gsize length;
  gchar *bytes = femo_test_read_file (clip, &length);
  Run run;

  g_assert_cmpuint (length, >, 80000);
  g_assert_true (g_file_set_contents (cut, bytes, 80000, NULL));
  run = run_tool ("video", "--no-output-video", "-j1", cut, NULL);
  g_assert_cmpint (run.status, ==, 0);
  if (!g_pattern_match_simple ("*: * frames, 0.* s of 10.0 s: the file looks "
          "cut\n", run.err))
    g_error ("expected the cut to be reported, got: %s", run.err);
  run_clear (&run);
  /* --duration within what is there: nothing is missing */
  run = run_tool ("video", "--no-output-video", "-j1", "--duration", "0.5",
      cut, NULL);
  g_assert_cmpint (run.status, ==, 0);
  g_assert_cmpstr (run.err, ==, "");
  run_clear (&run);
  g_unlink (cut);
  g_rmdir (dir);
  g_free (bytes);
  g_free (cut);
  g_free (dir);
  g_free (clip);
}

/* ---- gst-femo live ---- */

static void
test_live_errors (void)
{
  Run run;

  run = run_tool ("live", "/nonexistent/video9", NULL);
  assert_one_line_error (&run, "no camera at /nonexistent/video9");
  run_clear (&run);
  /* a device node that is no camera: v4l2src's reason, on one line */
  run = run_tool ("live", "--sink", "fakesink", "/dev/null", NULL);
  g_assert_cmpint (run.status, ==, 1);
  g_assert_nonnull (strstr (run.err, "/dev/null: "));
  run_clear (&run);
  run = run_tool ("live", "--help", NULL);
  g_assert_cmpint (run.status, ==, 0);
  g_assert_nonnull (strstr (run.out, "Examples"));
  run_clear (&run);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  femo_test_require_default_cascade ();
  gst_femo = argc > 1 ? argv[1] : g_getenv ("FEMO_GST_FEMO");
  if (gst_femo == NULL)
    g_error ("usage: %s PATH-OF-gst-femo [-p TEST]", argv[0]);

  g_test_add_func ("/cli/image/json", test_image_json);
  g_test_add_func ("/cli/image/annotated", test_image_annotated);
  g_test_add_func ("/cli/image/errors", test_image_errors);
  g_test_add_func ("/cli/image/options", test_image_options);
  g_test_add_func ("/cli/image/same-name", test_image_same_name);
  g_test_add_func ("/cli/image/yunet", test_image_yunet);
  g_test_add_func ("/cli/video/outputs", test_video);
  g_test_add_func ("/cli/video/errors", test_video_errors);
  g_test_add_func ("/cli/video/options", test_video_options);
  g_test_add_func ("/cli/video/cut", test_video_cut);
  g_test_add_func ("/cli/video/yunet", test_video_yunet);
  g_test_add_func ("/cli/live/errors", test_live_errors);
  return g_test_run ();
}
