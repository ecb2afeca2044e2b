/* gst-femo live: faces and emotions of a camera, in a window
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   v4l2src device=DEVICE ! decodebin ! videoconvert ! femodetect
 *       ! femooverlay ! videoconvert ! autovideosink
 *
 * (decodebin passes raw video through and decodes the MJPEG of cameras
 * that offer nothing else.) Ctrl-C sends EOS, so the sink ends cleanly.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "commands.h"
#include "femo-detect-options.h"
#include "femo-pipeline.h"
#include "femo-cli.h"

#include <gst/gst.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define DEFAULT_DEVICE "/dev/video0"

static void
send_eos (gpointer user_data)
{
  fprintf (stderr, "stopping (Ctrl-C again to quit at once)\n");
  gst_element_send_event (GST_ELEMENT (user_data), gst_event_new_eos ());
}

/* "/dev/video0 /dev/video2" or NULL: the video devices there are. */
static gchar *
list_video_devices (void)
{
  g_autoptr (GDir) dir = g_dir_open ("/dev", 0, NULL);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const gchar *name;

  while (dir && (name = g_dir_read_name (dir)))
    if (g_str_has_prefix (name, "video"))
      g_ptr_array_add (names, g_build_filename ("/dev", name, NULL));
  if (names->len == 0)
    return NULL;
  g_ptr_array_sort (names, (GCompareFunc) g_strcmp0);
  g_ptr_array_add (names, NULL);
  return g_strjoinv (" ", (gchar **) names->pdata);
}

int
femo_cmd_live (int argc, char **argv)
{
  const gchar *prog = argv[0];
  g_auto (FemoDetectOptions) detect = FEMO_DETECT_OPTIONS_INIT;
  g_autofree gchar *sink_name = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GOptionContext) ctx = NULL;
  g_autofree gchar *desc = NULL;
  const gchar *device;
  GstElement *pipeline, *element;
  GStatBuf st;
  gboolean ok;
  const GOptionEntry entries[] = {
    {"sink", 0, 0, G_OPTION_ARG_STRING, &sink_name,
        "Video sink element (default autovideosink)", "ELEMENT"},
    {NULL}
  };

  ctx = g_option_context_new ("[DEVICE] - faces and emotions of a camera");
  g_option_context_set_summary (ctx,
      "Shows the camera DEVICE (default " DEFAULT_DEVICE ") in a window with\n"
      "each face boxed and labelled with its emotion. Ctrl-C stops.");
  g_option_context_set_description (ctx,
      "Examples:\n"
      "  gst-femo live\n"
      "  gst-femo live /dev/video2 --min-size 60\n");
  femo_cli_add_entries (ctx, entries);
  if (!femo_detect_options_parse (ctx, &detect, &argc, &argv))
    return 2;
  if (argc > 2)
    return femo_cli_usage_error (prog, "one camera at most");
  device = argc == 2 ? argv[1] : DEFAULT_DEVICE;

  if (g_stat (device, &st) != 0) {
    g_autofree gchar *devices = list_video_devices ();
    if (devices)
      fprintf (stderr, "%s: no camera at %s (video devices here: %s)\n",
          prog, device, devices);
    else
      fprintf (stderr, "%s: no camera at %s: this machine has no video "
          "device (/dev/video*); is a camera connected?\n", prog, device);
    return 1;
  }
  if (!S_ISCHR (st.st_mode)) {
    fprintf (stderr, "%s: %s is not a camera (not a device node)\n", prog,
        device);
    return 1;
  }
  /* autovideosink without a display tries sinks that can crash */
  if (sink_name == NULL && !g_getenv ("DISPLAY")
      && !g_getenv ("WAYLAND_DISPLAY")) {
    fprintf (stderr, "%s: no display to show the camera on (DISPLAY and "
        "WAYLAND_DISPLAY are unset); run it in a desktop session or give "
        "--sink\n", prog);
    return 1;
  }
  if (!femo_check_plugin (&error)) {
    fprintf (stderr, "%s: %s\n", prog, error->message);
    return 1;
  }

  desc = g_strdup_printf ("v4l2src name=src ! decodebin ! videoconvert ! "
      "femodetect name=detect ! femooverlay ! videoconvert ! %s",
      sink_name ? sink_name : "autovideosink");
  pipeline = gst_parse_launch (desc, &error);
  if (pipeline == NULL) {
    fprintf (stderr, "%s: %s\n", prog, error->message);
    return 1;
  }
  element = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  g_object_set (element, "device", device, NULL);
  gst_object_unref (element);
  element = gst_bin_get_by_name (GST_BIN (pipeline), "detect");
  femo_detect_options_apply (&detect, element);
  gst_object_unref (element);

  fprintf (stderr, "%s: showing %s; Ctrl-C to stop\n", prog, device);
  ok = femo_pipeline_run (pipeline, device, send_eos, NULL, pipeline, NULL,
      &error);
  gst_object_unref (pipeline);
  if (!ok) {
    fprintf (stderr, "%s: %s: %s\n", prog, device, error->message);
    return 1;
  }
  return 0;
}
