/* gst-femo tests: bad input gives a clear error or a correct result
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Missing, unreadable and corrupt model and cascade files, wrong tensor
 * shapes, frames of odd sizes and strides, featureless frames, faces at the
 * frame's edge, and malformed FER2013 CSV rows: each either fails with a
 * message that says what is wrong, or works, never crashes.
 */
#include "config.h"
#include "femo-cascade.h"
#include "femo-error.h"
#include "femo-fer.h"
#include "femo-meta.h"
#include "femo-net.h"
#include "femo-safetensors.h"
#include "test-util.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include <math.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define FACE_IMAGE "media/facedetect_grace_hopper_512x512.jpg"

static gchar *tmp_dir;

static gchar *
model_path (void)
{
  return g_build_filename (g_getenv ("FEMO_MODEL_DIR"),
      "fer2013-mini-xception.safetensors", NULL);
}

static gchar *
write_tmp (const gchar * name, const void *data, gsize length)
{
  gchar *path = g_build_filename (tmp_dir, name, NULL);
  GError *error = NULL;

  g_file_set_contents (path, data, length, &error);
  g_assert_no_error (error);
  return path;
}

/* Plays femodetect with @property = @path; it must stop with a RESOURCE
 * error whose message contains @what and the file name. */
static void
check_element_refuses (const gchar * property, const gchar * path,
    const gchar * what)
{
  GError *error = NULL;
  GstElement *pipeline = gst_parse_launch ("videotestsrc num-buffers=1 "
      "! video/x-raw,width=64,height=64 ! femodetect name=detect "
      "! fakesink", &error);
  GstElement *detect;
  GstBus *bus;
  GstMessage *msg;
  g_autofree gchar *base = g_path_get_basename (path);
  gchar *debug = NULL;

  g_assert_no_error (error);
  detect = gst_bin_get_by_name (GST_BIN (pipeline), "detect");
  /* a cascade file is only read by the cascade */
  if (strcmp (property, "cascade-file") == 0)
    g_object_set (detect, "detector", FEMO_TEST_CASCADE, NULL);
  g_object_set (detect, property, path, NULL);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  bus = gst_element_get_bus (pipeline);
  msg = gst_bus_timed_pop_filtered (bus, 30 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  g_assert_nonnull (msg);
  g_assert_cmpint (GST_MESSAGE_TYPE (msg), ==, GST_MESSAGE_ERROR);
  g_assert_true (GST_MESSAGE_SRC (msg) == GST_OBJECT (detect));
  gst_message_parse_error (msg, &error, &debug);
  g_test_message ("%s=%s: %s", property, path, error->message);
  g_assert_true (error->domain == GST_RESOURCE_ERROR);
  g_assert_nonnull (strstr (error->message, what));
  g_assert_nonnull (strstr (error->message, base));
  g_clear_error (&error);
  g_free (debug);
  gst_message_unref (msg);
  gst_object_unref (bus);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (detect);
  gst_object_unref (pipeline);
}

/* The shipped model's container with the first tensor's dimensions
 * reordered (same bytes, wrong shape) or with one element dropped. */
static GBytes *
model_with_bad_shape (gboolean truncate_data)
{
  g_autofree gchar *path = model_path ();
  gsize length;
  g_autofree gchar *file = femo_test_read_file (path, &length);
  GError *error = NULL;
  g_autoptr (FemoSafetensors) st = femo_safetensors_parse ((guint8 *) file,
      length, &error);
  const guint n = femo_safetensors_get_n_tensors (st);
  const guint n_meta = femo_safetensors_get_n_metadata (st);
  g_autofree FemoSafetensorsOut *out = g_new0 (FemoSafetensorsOut, n);
  g_autofree const gchar **keys = g_new0 (const gchar *, n_meta + 1);
  g_autofree const gchar **values = g_new0 (const gchar *, n_meta + 1);
  GPtrArray *data = g_ptr_array_new_with_free_func (g_free);
  GBytes *bytes;

  g_assert_no_error (error);
  for (guint i = 0; i < n_meta; i++) {
    keys[i] = femo_safetensors_get_metadata_key (st, i);
    values[i] = femo_safetensors_get_metadata (st, keys[i]);
  }
  for (guint i = 0; i < n; i++) {
    const FemoSafetensorsTensor *t = femo_safetensors_get_tensor (st, i);
    gfloat *floats = g_malloc ((t->end - t->begin) + sizeof (gfloat));

    g_assert_cmpstr (t->dtype, ==, "F32");
    femo_safetensors_read_f32 (st, t, floats);
    g_ptr_array_add (data, floats);
    out[i].name = t->name;
    out[i].n_dims = t->n_dims;
    memcpy (out[i].shape, t->shape, sizeof t->shape);
    out[i].data = floats;
  }
  g_assert_cmpuint (out[0].n_dims, >=, 2);
  if (truncate_data) {
    out[0].shape[0]--;
  } else {
    /* A 4-D conv weight [O, I, kh, kw] read as [I, O, kh, kw] or a 2-D
     * [O, I] as [I, O]: a transposed export. Needs O != I to differ. */
    guint64 o = out[0].shape[0];
    out[0].shape[0] = out[0].shape[1];
    out[0].shape[1] = o;
    if (out[0].shape[0] == out[0].shape[1]) {
      out[0].shape[0] *= out[0].shape[1];
      out[0].shape[1] = 1;
    }
  }
  bytes = femo_safetensors_write (out, n, keys, values, n_meta);
  g_ptr_array_unref (data);
  return bytes;
}

static void
test_model_files (void)
{
  static const guint8 garbage[] = "\x0a\x00\x00\x00\x00\x00\x00\x00{not json}";
  g_autofree gchar *missing = g_build_filename (tmp_dir, "missing.safetensors",
      NULL);
  g_autofree gchar *corrupt = write_tmp ("corrupt.safetensors", garbage,
      sizeof garbage - 1);
  g_autofree gchar *real = model_path ();
  gsize length;
  g_autofree gchar *contents = femo_test_read_file (real, &length);
  g_autofree gchar *truncated = write_tmp ("truncated.safetensors", contents,
      length / 2);
  const struct
  {
    const gchar *path;
    gint code;
    const gchar *reason;
  } cases[] = {
    {missing, FEMO_ERROR_IO, "missing.safetensors"},
    {tmp_dir, FEMO_ERROR_IO, NULL},     /* a directory: unreadable */
    {corrupt, FEMO_ERROR_PARSE, NULL},
    {truncated, FEMO_ERROR_INVALID, "outside the data area"},
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    GError *error = NULL;
    FemoModel *model = femo_model_load (cases[i].path, &error);

    g_assert_null (model);
    g_assert_nonnull (error);
    g_test_message ("%s: %s", cases[i].path, error->message);
    g_assert_true (error->domain == FEMO_ERROR);
    g_assert_cmpint (error->code, ==, cases[i].code);
    g_assert_nonnull (strstr (error->message, cases[i].path));
    if (cases[i].reason)
      g_assert_nonnull (strstr (error->message, cases[i].reason));
    g_error_free (error);
    check_element_refuses ("model-file", cases[i].path, "emotion model");
  }
}

static void
test_tensor_shapes (void)
{
  for (guint truncate = 0; truncate < 2; truncate++) {
    g_autoptr (GBytes) bytes = model_with_bad_shape (truncate);
    gsize length;
    const guint8 *data = g_bytes_get_data (bytes, &length);
    g_autofree gchar *path = write_tmp ("shape.safetensors", data, length);
    GError *error = NULL;
    FemoModel *model = femo_model_load_from_data (data, length, &error);

    g_assert_null (model);
    g_assert_error (error, FEMO_ERROR, FEMO_ERROR_INVALID);
    g_test_message ("%s", error->message);
    g_assert_nonnull (strstr (error->message, "shape"));
    g_error_free (error);
    check_element_refuses ("model-file", path, "emotion model");
  }
}

static void
test_cascade_files (void)
{
  static const gchar garbage[] = "<?xml version=\"1.0\"?><opencv_storage>"
      "<cascade><stageType>BOOST</stageType><featureType>HAAR";
  g_autofree gchar *missing = g_build_filename (tmp_dir, "missing.xml", NULL);
  g_autofree gchar *corrupt = write_tmp ("corrupt.xml", garbage,
      sizeof garbage - 1);
  g_autofree gchar *haar = femo_test_cascade_path (FEMO_TEST_DEFAULT_CASCADE);
  gsize length;
  g_autofree gchar *contents = femo_test_read_file (haar, &length);
  g_autofree gchar *truncated = write_tmp ("truncated.xml", contents,
      length / 2);
  const gchar *const paths[] = { missing, tmp_dir, corrupt, truncated };

  for (guint i = 0; i < G_N_ELEMENTS (paths); i++) {
    GError *error = NULL;
    FemoCascade *cascade = femo_cascade_new_from_file (paths[i], &error);

    g_assert_null (cascade);
    g_assert_nonnull (error);
    g_test_message ("%s: %s", paths[i], error->message);
    g_assert_true (error->domain == FEMO_ERROR);
    g_assert_nonnull (strstr (error->message, paths[i]));
    g_error_free (error);
    check_element_refuses ("cascade-file", paths[i], "face cascade");
  }
}

typedef struct
{
  guint n;
  GstVideoRegionOfInterestMeta first;
  gboolean classified;
} Faces;

/* Faces on @buf: how many, the first one, whether every face has valid
 * probabilities. */
static Faces
faces_of (GstBuffer * buf)
{
  Faces f = { 0, {{0}}, TRUE };
  gpointer state = NULL;
  FemoFaceInfo face;

  while (femo_buffer_iterate_faces (buf, &state, &face)) {
    gdouble sum = 0;

    if (f.n++ == 0)
      f.first = *face.roi;
    if (face.label == NULL) {
      f.classified = FALSE;
      continue;
    }
    for (guint k = 0; k < face.n_classes; k++) {
      g_assert_true (isfinite (face.probs[k]) && face.probs[k] >= 0
          && face.probs[k] <= 1);
      sum += face.probs[k];
    }
    g_assert_cmpfloat_with_epsilon (sum, 1.0, 1e-4);
  }
  return f;
}

/* Pushes @buf (taken) with @info's caps through a fresh femodetect. */
static Faces
detect (const GstVideoInfo * info, GstBuffer * buf, const gchar * props)
{
  g_autofree gchar *launch = g_strdup_printf ("femodetect %s",
      props ? props : "");
  GstHarness *h = gst_harness_new_parse (launch);
  GstBuffer *out;
  Faces f;

  gst_harness_set_src_caps (h, gst_video_info_to_caps (info));
  g_assert_cmpint (gst_harness_push (h, buf), ==, GST_FLOW_OK);
  out = gst_harness_pull (h);
  g_assert_nonnull (out);
  f = faces_of (out);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
  return f;
}

static GstBuffer *
filled (const GstVideoInfo * info, gint value)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, info->size, NULL);
  GstMapInfo map;

  gst_buffer_map (buf, &map, GST_MAP_WRITE);
  if (value >= 0) {
    memset (map.data, value, map.size);
  } else {
    guint32 s = 12345;

    for (gsize i = 0; i < map.size; i++) {
      s = s * 1103515245 + 12345;
      map.data[i] = s >> 24;
    }
  }
  gst_buffer_unmap (buf, &map);
  return buf;
}

static void
test_frame_sizes (void)
{
  GstHarness *h = gst_harness_new ("femodetect");
  GstCaps *zero = gst_caps_from_string ("video/x-raw,format=GRAY8,width=0,"
      "height=0,framerate=30/1");
  static const struct
  {
    GstVideoFormat format;
    gint width, height;
  } sizes[] = {
    {GST_VIDEO_FORMAT_GRAY8, 1, 1}, {GST_VIDEO_FORMAT_I420, 1, 1},
    {GST_VIDEO_FORMAT_I420, 33, 17}, {GST_VIDEO_FORMAT_YUY2, 35, 19},
    {GST_VIDEO_FORMAT_RGB, 101, 51}, {GST_VIDEO_FORMAT_GRAY8, 8200, 100},
    {GST_VIDEO_FORMAT_GRAY8, 100, 8200},
  };

  /* Zero-size frames: the caps are refused. */
  g_assert_false (gst_pad_query_accept_caps (GST_PAD_PEER (h->srcpad), zero));
  gst_caps_unref (zero);
  gst_harness_teardown (h);

  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++) {
    GstVideoInfo info;
    Faces f;

    gst_video_info_set_format (&info, sizes[i].format, sizes[i].width,
        sizes[i].height);
    f = detect (&info, filled (&info, 128), NULL);
    g_assert_cmpuint (f.n, ==, 0);
  }
}

static void
test_featureless (void)
{
  GstVideoInfo info;
  Faces f;

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_I420, 320, 240);
  g_assert_cmpuint (detect (&info, filled (&info, 0), NULL).n, ==, 0);
  g_assert_cmpuint (detect (&info, filled (&info, 255), NULL).n, ==, 0);
  /* Noise may give a false face now and then: only no crash, and any face
   * is classified properly. */
  f = detect (&info, filled (&info, -1), "min-neighbors=0");
  g_assert_true (f.classified);
}

/* The photo packed (stride 3 x width) and with padded rows announced by a
 * GstVideoMeta: the same face. */
static void
test_odd_stride (void)
{
  g_autofree gchar *path = femo_test_shared_path (FACE_IMAGE);
  GError *error = NULL;
  gint w, h;
  g_autofree guint8 *rgb = femo_test_load_image (path, GST_VIDEO_FORMAT_RGB,
      &w, &h, &error);
  const gint stride = w * 3 + 13;
  gsize offset[GST_VIDEO_MAX_PLANES] = { 0 };
  gint strides[GST_VIDEO_MAX_PLANES] = { stride };
  GstVideoInfo info;
  GstBuffer *padded;
  GstMapInfo map;
  Faces packed, odd;

  g_assert_no_error (error);
  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_RGB, w, h);
  packed = detect (&info, gst_buffer_new_memdup (rgb, (gsize) w * h * 3), NULL);
  g_assert_cmpuint (packed.n, ==, 1);

  padded = gst_buffer_new_allocate (NULL, (gsize) stride * h, NULL);
  gst_buffer_map (padded, &map, GST_MAP_WRITE);
  memset (map.data, 0xee, map.size);
  for (gint y = 0; y < h; y++)
    memcpy (map.data + (gsize) y * stride, rgb + (gsize) y * w * 3, w * 3);
  gst_buffer_unmap (padded, &map);
  gst_buffer_add_video_meta_full (padded, GST_VIDEO_FRAME_FLAG_NONE,
      GST_VIDEO_FORMAT_RGB, w, h, 1, offset, strides);
  odd = detect (&info, padded, NULL);
  g_assert_cmpuint (odd.n, ==, packed.n);
  g_assert_cmpuint (odd.first.x, ==, packed.first.x);
  g_assert_cmpuint (odd.first.y, ==, packed.first.y);
  g_assert_cmpuint (odd.first.w, ==, packed.first.w);
  g_assert_true (odd.classified && packed.classified);
}

/* femodetect detect=false on @buf carrying one upstream face box. */
static Faces
detect_given (const GstVideoInfo * info, GstBuffer * buf, guint x, guint y,
    guint w, guint h)
{
  gst_buffer_add_video_region_of_interest_meta (buf, FEMO_META_ROI_TYPE_FACE,
      x, y, w, h);
  return detect (info, buf, "detect=false");
}

/* Faces given upstream (detect=false) in the corners and past the edge:
 * the crop around them reaches outside the frame and is padded by
 * replicating the border. */
static void
test_edge_boxes (void)
{
  g_autofree gchar *path = femo_test_shared_path (FACE_IMAGE);
  GError *error = NULL;
  gint w, h;
  g_autofree guint8 *gray = femo_test_load_image (path,
      GST_VIDEO_FORMAT_GRAY8, &w, &h, &error);
  const gint boxes[][4] = {
    {0, 0, 120, 120}, {w - 120, h - 120, 120, 120}, {0, h / 2, 1, 1},
    {w - 1, 0, 1, h}, {w - 60, h - 60, 120, 120},
  };
  GstVideoInfo info;

  g_assert_no_error (error);
  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_GRAY8, w, h);
  for (guint i = 0; i < G_N_ELEMENTS (boxes); i++) {
    Faces f = detect_given (&info, gst_buffer_new_memdup (gray,
            (gsize) w * h), boxes[i][0], boxes[i][1], boxes[i][2],
        boxes[i][3]);

    g_assert_cmpuint (f.n, ==, 1);
    g_assert_true (f.classified);
  }
}

/* Boxes another element gives (detect=false) are clipped to the frame
 * before they are cropped: absurd sizes cost no more than the frame, and
 * a box wholly outside the frame is left without an emotion. */
static void
test_absurd_upstream_boxes (void)
{
  const guint boxes[][4] = {
    {0, 0, 60000, 60000}, {0, 0, 4000000000u, 3}, {10, 20, 3, 4000000000u},
    {4000000000u, 4000000000u, 4000000000u, 4000000000u}, {64, 0, 10, 10},
    {0, 64, 10, 10},
  };
  const gboolean inside[] = { TRUE, TRUE, TRUE, FALSE, FALSE, FALSE };
  GstVideoInfo info;

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_GRAY8, 64, 64);
  for (guint i = 0; i < G_N_ELEMENTS (boxes); i++) {
    Faces f = detect_given (&info, filled (&info, -1), boxes[i][0],
        boxes[i][1], boxes[i][2], boxes[i][3]);

    g_assert_cmpuint (f.n, ==, 1);
    /* the meta itself is upstream's and keeps its box */
    g_assert_cmpuint (f.first.w, ==, boxes[i][2]);
    g_assert_cmpint (f.classified, ==, inside[i]);
  }
}

/* A frame whose scan needs more memory than the system gives (a cascade
 * that accepts every window, under an address-space limit): femodetect
 * fails with an error message instead of aborting the application. */
static void
test_out_of_memory (void)
{
  g_autofree gchar *cascade = femo_test_data_path ("cascade-accept-all.xml");
  GstHarness *h;
  GstVideoInfo info;
  GstMessage *msg;
  GstBus *bus;
  GError *error = NULL;
  struct rlimit old;

#ifdef __SANITIZE_ADDRESS__
  g_test_skip ("an address-space limit stops AddressSanitizer itself");
  return;
#endif
  if (!g_test_subprocess ()) {
    g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
    g_test_trap_assert_passed ();
    return;
  }
  h = femo_test_detect_harness_new ("detector", FEMO_TEST_CASCADE,
      "cascade-file", cascade, "classify", FALSE, "min-neighbors", 0,
      "min-size", 0, "n-threads", 1, NULL);
  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_GRAY8, 512, 512);
  gst_harness_set_src_caps (h, gst_video_info_to_caps (&info));
  bus = gst_element_get_bus (h->element);

  femo_test_limit_memory (24 * 1024 * 1024, &old);
  g_assert_cmpint (gst_harness_push (h, filled (&info, -1)), ==,
      GST_FLOW_ERROR);
  g_assert_cmpint (setrlimit (RLIMIT_AS, &old), ==, 0);

  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  g_assert_nonnull (msg);
  gst_message_parse_error (msg, &error, NULL);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "out of memory scanning a "
          "512x512 frame"));
  g_error_free (error);
  gst_message_unref (msg);
  gst_object_unref (bus);
  femo_test_detect_harness_teardown (h);
}

/* FER2013 CSV: malformed rows fail with FILE:LINE and the reason; CRLF
 * lines read the same as LF ones. */
static void
test_csv (void)
{
  GString *good = g_string_new ("emotion,pixels,Usage\n3,");
  g_autofree gchar *crlf = NULL;

  for (guint i = 0; i < FEMO_FER_PIXELS; i++)
    g_string_append_printf (good, "%s%u", i ? " " : "", (i * 7) % 256);
  g_string_append (good, ",Training\n");

  {
    g_auto (GStrv) lines = g_strsplit (good->str, "\n", -1);
    crlf = g_strjoinv ("\r\n", lines);
  }
  {
    const struct
    {
      const gchar *text;
      const gchar *reason;
    } bad[] = {
      {"emotion,pixels,Usage\n3,1 2 3,Training\n", "bad.csv:2: expected"},
      {"emotion,pixels,Usage\n9,1 2,Training\n",
            "bad.csv:2: emotion '9' is not a label"},
      {"emotion,pixels,Usage\n3,1 2 x 4,Training\n", "is not a number"},
      {"emotion,pixels,Usage\n3,1 2 300,Training\n", "out of range"},
      {"emotion,pixels\n3,1 2 3\n", "bad.csv:1: header has no 'Usage'"},
      {"emotion,pixels,Usage\n3,1 2 3\n", "bad.csv:2: expected"},
      {"emotion,pixels,Usage\n3,1 2 3,Holidays\n", NULL},
      {"", "missing header"},
    };

    for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
      g_autoptr (GInputStream) s = g_memory_input_stream_new_from_data
          (bad[i].text, -1, NULL);
      GError *error = NULL;
      FemoFerData *data = femo_fer_load_stream (s, "bad.csv",
          FEMO_FER_FLAGS_NONE, NULL, &error);

      g_assert_null (data);
      g_assert_error (error, FEMO_ERROR, FEMO_ERROR_PARSE);
      g_test_message ("%s", error->message);
      g_assert_true (g_str_has_prefix (error->message, "bad.csv:"));
      if (bad[i].reason)
        g_assert_nonnull (strstr (error->message, bad[i].reason));
      g_error_free (error);
    }
  }
  for (guint k = 0; k < 2; k++) {
    const gchar *text = k ? crlf : good->str;
    g_autoptr (GInputStream) s = g_memory_input_stream_new_from_data (text,
        -1, NULL);
    GError *error = NULL;
    FemoFerData *data = femo_fer_load_stream (s, "good.csv",
        FEMO_FER_FLAGS_NONE, NULL, &error);
    const FemoFerSplit *train;

    g_assert_no_error (error);
    train = &data->splits[FEMO_FER_TRAINING];
    g_assert_cmpuint (train->n, ==, 1);
    g_assert_cmpuint (train->labels[0], ==, 3);
    for (guint i = 0; i < FEMO_FER_PIXELS; i++)
      g_assert_cmpuint (train->pixels[i], ==, (i * 7) % 256);
    femo_fer_data_free (data);
  }
  g_string_free (good, TRUE);
}

int
main (int argc, char **argv)
{
  int ret;

  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  femo_test_require_default_cascade ();
  /* before the temporary folder, which a skip would leave behind */
  g_free (femo_test_shared_path (FACE_IMAGE));
  tmp_dir = g_dir_make_tmp ("femo-bad-input-XXXXXX", NULL);
  g_assert_nonnull (tmp_dir);

  g_test_add_func ("/bad-input/model-files", test_model_files);
  g_test_add_func ("/bad-input/tensor-shapes", test_tensor_shapes);
  g_test_add_func ("/bad-input/cascade-files", test_cascade_files);
  g_test_add_func ("/bad-input/frame-sizes", test_frame_sizes);
  g_test_add_func ("/bad-input/featureless", test_featureless);
  g_test_add_func ("/bad-input/odd-stride", test_odd_stride);
  g_test_add_func ("/bad-input/edge-boxes", test_edge_boxes);
  g_test_add_func ("/bad-input/absurd-upstream-boxes",
      test_absurd_upstream_boxes);
  g_test_add_func ("/bad-input/out-of-memory", test_out_of_memory);
  g_test_add_func ("/bad-input/csv", test_csv);
  ret = g_test_run ();

  {
    g_autoptr (GDir) dir = g_dir_open (tmp_dir, 0, NULL);
    const gchar *name;

    while (dir && (name = g_dir_read_name (dir))) {
      g_autofree gchar *p = g_build_filename (tmp_dir, name, NULL);
      g_unlink (p);
    }
  }
  g_rmdir (tmp_dir);
  g_free (tmp_dir);
  return ret;
}
