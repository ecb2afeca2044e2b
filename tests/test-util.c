/* gst-femo tests: shared helpers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"
#include "test-util.h"

#include <gst/app/gstappsink.h>
#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#endif
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static gchar *
env_path (const gchar * var, const gchar * relative)
{
  const gchar *dir = g_getenv (var);
  if (dir == NULL)
    g_error ("%s is not set: run the tests through 'meson test'", var);
  return g_build_filename (dir, relative, NULL);
}

void
femo_test_missing (const gchar * format, ...)
{
  g_autofree gchar *what = NULL;
  va_list args;

  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);
  if (g_strcmp0 (g_getenv ("CI"), "true") == 0)
    g_error ("%s (a failure under CI=true)", what);
  g_print ("# SKIP %s\n", what);
  exit (77);
}

static gchar *
existing_path (gchar * path, const gchar * from)
{
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    femo_test_missing ("%s is missing (%s)", path, from);
  return path;
}

gchar *
femo_test_shared_path (const gchar * relative)
{
  return existing_path (env_path ("FEMO_SHARED_DIR", relative), "../shared");
}

gchar *
femo_test_cascade_path (const gchar * relative)
{
  return existing_path (g_build_filename (FEMO_CASCADE_DIR, relative, NULL),
      "Debian's opencv-data");
}

void
femo_test_require_default_cascade (void)
{
  g_free (femo_test_cascade_path (FEMO_TEST_DEFAULT_CASCADE));
}

FemoCascade *
femo_test_cascade_new (const gchar * relative)
{
  g_autofree gchar *path = femo_test_cascade_path (relative);
  g_autoptr (GError) error = NULL;
  FemoCascade *cascade = femo_cascade_new_from_file (path, &error);

  g_assert_no_error (error);
  return cascade;
}

gchar *
femo_test_data_path (const gchar * relative)
{
  return env_path ("FEMO_TEST_DATA", relative);
}

gchar *
femo_test_read_file (const gchar * path, gsize * length)
{
  gchar *contents = NULL;
  GError *error = NULL;
  if (!g_file_get_contents (path, &contents, length, &error))
    g_error ("cannot read %s: %s", path, error->message);
  return contents;
}

guint8 *
femo_test_load_image (const gchar * path, GstVideoFormat format,
    gint * width, gint * height, GError ** error)
{
  GstElement *pipeline, *sink;
  GstSample *sample;
  gchar *escaped, *desc;
  guint8 *pixels = NULL;

  if (!gst_is_initialized ())
    gst_init (NULL, NULL);

  escaped = g_strescape (path, NULL);
  desc = g_strdup_printf ("filesrc location=\"%s\" ! decodebin ! videoconvert "
      "! video/x-raw,format=%s ! appsink name=sink sync=false", escaped,
      gst_video_format_to_string (format));
  pipeline = gst_parse_launch (desc, error);
  g_free (desc);
  g_free (escaped);
  if (pipeline == NULL)
    return NULL;

  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  sample = gst_app_sink_pull_preroll (GST_APP_SINK (sink));
  if (sample == NULL) {
    g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_DECODE,
        "%s: could not decode an image", path);
  } else {
    GstVideoInfo info;
    GstVideoFrame frame;
    gst_video_info_from_caps (&info, gst_sample_get_caps (sample));
    if (gst_video_frame_map (&frame, &info, gst_sample_get_buffer (sample),
            GST_MAP_READ)) {
      const GstVideoFormatInfo *finfo = info.finfo;
      gint row = GST_VIDEO_INFO_WIDTH (&info) *
          GST_VIDEO_FORMAT_INFO_PSTRIDE (finfo, 0);
      g_assert (GST_VIDEO_FORMAT_INFO_N_PLANES (finfo) == 1);
      *width = GST_VIDEO_INFO_WIDTH (&info);
      *height = GST_VIDEO_INFO_HEIGHT (&info);
      pixels = g_malloc ((gsize) row * *height);
      for (gint y = 0; y < *height; y++)
        memcpy (pixels + (gsize) y * row,
            (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&frame, 0) +
            (gsize) y * GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0), row);
      gst_video_frame_unmap (&frame);
    }
    gst_sample_unref (sample);
  }
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (sink);
  gst_object_unref (pipeline);
  return pixels;
}

GstHarness *
femo_test_detect_harness_new_valist (GstElement * element,
    const gchar * first_property, va_list args)
{
  GstBus *bus = gst_bus_new ();
  GstHarness *h;

  if (element == NULL)
    element = gst_element_factory_make ("femodetect", NULL);
  else
    gst_object_ref (element);
  g_assert_nonnull (element);
  if (first_property)
    g_object_set_valist (G_OBJECT (element), first_property, args);
  gst_element_set_bus (element, bus);
  gst_object_unref (bus);
  h = gst_harness_new_with_element (element, "sink", "src");
  gst_object_unref (element);
  return h;
}

GstHarness *
femo_test_detect_harness_new (const gchar * first_property, ...)
{
  GstHarness *h;
  va_list args;

  va_start (args, first_property);
  h = femo_test_detect_harness_new_valist (NULL, first_property, args);
  va_end (args);
  return h;
}

GstHarness *
femo_test_detect_harness_new_metadata (const gchar * metadata,
    const gchar * first_property, ...)
{
  GstElement *detect = gst_element_factory_make ("femodetect", NULL);
  GstHarness *h;
  va_list args;

  g_assert_nonnull (detect);
  gst_util_set_object_arg (G_OBJECT (detect), "metadata", metadata);
  va_start (args, first_property);
  h = femo_test_detect_harness_new_valist (detect, first_property, args);
  va_end (args);
  gst_object_unref (detect);
  return h;
}

void
femo_test_detect_harness_teardown (GstHarness * h)
{
  /* Queued messages hold the element: drop them with the bus. */
  gst_element_set_bus (h->element, NULL);
  gst_harness_teardown (h);
}

GPtrArray *
femo_test_decode_video_gray (const gchar * relative, guint first, guint last,
    gint fps_n, gint fps_d, gint * width, gint * height)
{
  gchar *path = femo_test_shared_path (relative);
  gchar *desc = g_strdup_printf ("filesrc location=\"%s\" ! qtdemux "
      "! h264parse ! avdec_h264 ! videoconvert "
      "! video/x-raw,format=GRAY8 ! appsink name=sink sync=false", path);
  GError *error = NULL;
  GstElement *pipeline = gst_parse_launch (desc, &error);
  GstElement *sink;
  GPtrArray *out = g_ptr_array_new_with_free_func (
      (GDestroyNotify) gst_buffer_unref);
  guint n = 0;

  g_assert_no_error (error);
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  g_assert_cmpint (gst_element_set_state (pipeline, GST_STATE_PLAYING), !=,
      GST_STATE_CHANGE_FAILURE);
  while (n <= last) {
    GstSample *sample = gst_app_sink_pull_sample (GST_APP_SINK (sink));
    GstVideoInfo info;
    GstVideoFrame frame;
    GstBuffer *copy;
    GstMapInfo map;
    gint y;

    g_assert_nonnull (sample);
    if (n >= first) {
      g_assert_true (gst_video_info_from_caps (&info,
              gst_sample_get_caps (sample)));
      g_assert_true (gst_video_frame_map (&frame, &info,
              gst_sample_get_buffer (sample), GST_MAP_READ));
      *width = info.width;
      *height = info.height;
      copy = gst_buffer_new_allocate (NULL, (gsize) info.width * info.height,
          NULL);
      gst_buffer_map (copy, &map, GST_MAP_WRITE);
      for (y = 0; y < info.height; y++)
        memcpy (map.data + (gsize) y * info.width,
            (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&frame, 0) +
            (gsize) y * GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0), info.width);
#ifdef VALGRIND_MAKE_MEM_DEFINED
      /* Under valgrind (tests/run-valgrind.sh) memcheck loses track of
       * definedness in the decoder's SIMD code and reports the frames as
       * partly undefined wherever they are used. The decoder is not ours:
       * declare its pixels defined so that memcheck checks our code on
       * them. A no-op outside valgrind. */
      VALGRIND_MAKE_MEM_DEFINED (map.data, map.size);
#endif
      gst_buffer_unmap (copy, &map);
      gst_video_frame_unmap (&frame);
      GST_BUFFER_PTS (copy) = gst_util_uint64_scale (n, GST_SECOND * fps_d,
          fps_n);
      GST_BUFFER_DURATION (copy) = gst_util_uint64_scale (n + 1,
          GST_SECOND * fps_d, fps_n) - GST_BUFFER_PTS (copy);
      g_ptr_array_add (out, copy);
    }
    gst_sample_unref (sample);
    n++;
  }
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (sink);
  gst_object_unref (pipeline);
  g_free (desc);
  g_free (path);
  return out;
}

gconstpointer
femo_test_model_of (GstElement * detect)
{
  GParamSpec *pspec = g_object_class_find_property (G_OBJECT_GET_CLASS
      (detect), "model");
  gpointer model = NULL;

  g_object_get (detect, "model", &model, NULL);
  if (model != NULL)
    g_boxed_free (G_PARAM_SPEC_VALUE_TYPE (pspec), model);
  return model;
}

void
femo_test_limit_memory (gsize headroom, struct rlimit *old)
{
  g_autofree gchar *statm = NULL;
  struct rlimit lim;
  guint64 pages;

  g_assert_true (g_file_get_contents ("/proc/self/statm", &statm, NULL,
          NULL));
  pages = g_ascii_strtoull (statm, NULL, 10);
  g_assert_cmpint (getrlimit (RLIMIT_AS, old), ==, 0);
  lim = *old;
  lim.rlim_cur = pages * sysconf (_SC_PAGESIZE) + headroom;
  g_assert_cmpint (setrlimit (RLIMIT_AS, &lim), ==, 0);
}

void
femo_test_decode_cv2 (const gchar * script, const gchar * dir,
    const gchar * const *paths)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  g_autofree gchar *err = NULL;
  gint status;

  g_ptr_array_add (argv, (gpointer) script);
  g_ptr_array_add (argv, (gpointer) dir);
  for (guint i = 0; paths[i]; i++)
    g_ptr_array_add (argv, (gpointer) paths[i]);
  g_ptr_array_add (argv, NULL);
  if (!g_spawn_sync (NULL, (gchar **) argv->pdata, NULL, G_SPAWN_DEFAULT,
          NULL, NULL, NULL, &err, &status, &error))
    g_error ("cannot run %s: %s", script, error->message);
  if (WIFEXITED (status) && WEXITSTATUS (status) == 77)
    femo_test_missing ("Debian's python3-opencv (gst-femo/setup.sh --tests)");
  if (!g_spawn_check_wait_status (status, &error))
    g_error ("%s: %s\n%s", script, error->message, err);
}

guint8 *
femo_test_read_ppm (const gchar * path, gint * width, gint * height)
{
  gsize length, header;
  g_autofree gchar *data = femo_test_read_file (path, &length);
  gint maxval, n = 0;

  if (sscanf (data, "P6 %d %d %d%n", width, height, &maxval, &n) != 3
      || maxval != 255 || *width < 1 || *height < 1 || n < 1
      || !g_ascii_isspace (data[n]))
    g_error ("%s is not a binary PPM with maxval 255", path);
  header = n + 1;
  if (length - header != (gsize) * width * *height * 3)
    g_error ("%s: %" G_GSIZE_FORMAT " bytes of pixels for %dx%d", path,
        length - header, *width, *height);
  return g_memdup2 (data + header, length - header);
}

GPtrArray *
femo_test_femodetect_formats (void)
{
  GstElementFactory *factory = gst_element_factory_find ("femodetect");
  const GList *l;
  GPtrArray *formats = g_ptr_array_new_with_free_func (g_free);

  g_assert_nonnull (factory);
  for (l = gst_element_factory_get_static_pad_templates (factory); l;
      l = l->next) {
    GstStaticPadTemplate *templ = l->data;
    GstCaps *caps;
    const GValue *list;
    guint i;

    if (templ->direction != GST_PAD_SINK)
      continue;
    caps = gst_static_caps_get (&templ->static_caps);
    list = gst_structure_get_value (gst_caps_get_structure (caps, 0), "format");
    g_assert_true (GST_VALUE_HOLDS_LIST (list));
    for (i = 0; i < gst_value_list_get_size (list); i++)
      g_ptr_array_add (formats,
          g_value_dup_string (gst_value_list_get_value (list, i)));
    gst_caps_unref (caps);
  }
  gst_object_unref (factory);
  return formats;
}

GstBuffer *
femo_test_packed_buffer (const GstVideoInfo * info, const guint8 * pixels)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, info->size, NULL);
  gsize row = (gsize) GST_VIDEO_INFO_WIDTH (info) *
      GST_VIDEO_INFO_COMP_PSTRIDE (info, 0);
  GstVideoFrame frame;

  g_assert_cmpuint (GST_VIDEO_INFO_N_PLANES (info), ==, 1);
  g_assert_true (gst_video_frame_map (&frame, info, buf, GST_MAP_WRITE));
  for (gint y = 0; y < GST_VIDEO_INFO_HEIGHT (info); y++)
    memcpy ((guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&frame, 0) +
        (gsize) y * GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0),
        pixels + y * row, row);
  gst_video_frame_unmap (&frame);
  return buf;
}
