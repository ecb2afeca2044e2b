/* gst-femo: running a pipeline to its end (see femo-pipeline.h)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "femo-pipeline.h"

#include <gst/pbutils/missing-plugins.h>
#include <gst/base/gsttypefindhelper.h>
#include <glib/gstdio.h>
#include <glib-unix.h>
#include <string.h>

typedef struct
{
  GMainLoop *loop;
  const gchar *input;
  FemoStopFunc stop;
  GSourceFunc tick;
  gpointer user_data;
  GPtrArray *missing;           /* descriptions of missing decoders */
  GError *error;
  guint n_signals;
  gboolean ok;
} RunState;

static void
fail_with_message (RunState * s, GstMessage * msg)
{
  g_autoptr (GError) err = NULL;
  g_autofree gchar *dbg = NULL;

  gst_message_parse_error (msg, &err, &dbg);
  GST_DEBUG ("error from %s: %s (%s)", GST_MESSAGE_SRC_NAME (msg),
      err->message, GST_STR_NULL (dbg));
  if (s->missing->len > 0) {
    g_autofree gchar *list = NULL;
    g_ptr_array_add (s->missing, NULL);
    list = g_strjoinv (", ", (gchar **) s->missing->pdata);
    g_set_error (&s->error, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN,
        "%s: cannot decode it, GStreamer lacks: %s (install "
        "gstreamer1.0-libav or the gstreamer1.0-plugins-* package that has "
        "it)", s->input, list);
  } else if (g_error_matches (err, GST_STREAM_ERROR,
          GST_STREAM_ERROR_TYPE_NOT_FOUND)
      || g_error_matches (err, GST_STREAM_ERROR, GST_STREAM_ERROR_WRONG_TYPE)
      || g_error_matches (err, GST_STREAM_ERROR, GST_STREAM_ERROR_DEMUX))
    g_set_error (&s->error, err->domain, err->code,
        "%s: not a media file GStreamer can read (%s)", s->input, err->message);
  else {
    /* one line: GStreamer messages are sentences, some span lines */
    g_autofree gchar *line = g_strdelimit (g_strdup (err->message), "\n",
        ' ');
    g_set_error (&s->error, err->domain, err->code, "%s", line);
  }
  g_main_loop_quit (s->loop);
}

static gboolean
on_bus_message (GstBus * bus, GstMessage * msg, gpointer user_data)
{
  RunState *s = user_data;

  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_EOS:
      s->ok = TRUE;
      g_main_loop_quit (s->loop);
      break;
    case GST_MESSAGE_ERROR:
      if (s->error == NULL)
        fail_with_message (s, msg);
      break;
    case GST_MESSAGE_ELEMENT:
      if (gst_is_missing_plugin_message (msg)) {
        gchar *desc = gst_missing_plugin_message_get_description (msg);
        g_ptr_array_add (s->missing, desc);
      }
      break;
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

static gboolean
on_signal (gpointer user_data)
{
  RunState *s = user_data;

  if (++s->n_signals == 1 && s->stop) {
    s->stop (s->user_data);
    return G_SOURCE_CONTINUE;
  }
  g_set_error (&s->error, GST_CORE_ERROR, GST_CORE_ERROR_STATE_CHANGE,
      "interrupted");
  g_main_loop_quit (s->loop);
  return G_SOURCE_CONTINUE;
}

gboolean
femo_pipeline_run (GstElement * pipeline, const gchar * input,
    FemoStopFunc stop, GSourceFunc tick, gpointer user_data,
    gboolean * interrupted, GError ** error)
{
  g_autoptr (GMainContext) context = g_main_context_new ();
  RunState s = { 0, };
  GstBus *bus = gst_element_get_bus (pipeline);
  GSource *bus_source, *sources[3];
  guint n_sources = 0;

  g_main_context_push_thread_default (context);
  s.loop = g_main_loop_new (context, FALSE);
  s.input = input;
  s.stop = stop;
  s.tick = tick;
  s.user_data = user_data;
  s.missing = g_ptr_array_new_with_free_func (g_free);

  bus_source = gst_bus_create_watch (bus);
  g_source_set_callback (bus_source, (GSourceFunc) (GCallback) on_bus_message,
      &s, NULL);
  g_source_attach (bus_source, context);
  sources[n_sources++] = g_unix_signal_source_new (SIGINT);
  sources[n_sources++] = g_unix_signal_source_new (SIGTERM);
  for (guint i = 0; i < n_sources; i++)
    g_source_set_callback (sources[i], on_signal, &s, NULL);
  if (tick) {
    sources[n_sources] = g_timeout_source_new (250);
    g_source_set_callback (sources[n_sources++], tick, user_data, NULL);
  }
  for (guint i = 0; i < n_sources; i++)
    g_source_attach (sources[i], context);

  /* a failure here has its reason on the bus */
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  g_main_loop_run (s.loop);
  gst_element_set_state (pipeline, GST_STATE_NULL);

  for (guint i = 0; i < n_sources; i++) {
    g_source_destroy (sources[i]);
    g_source_unref (sources[i]);
  }
  g_source_destroy (bus_source);
  g_source_unref (bus_source);
  g_main_context_pop_thread_default (context);
  g_main_loop_unref (s.loop);
  gst_bus_set_flushing (bus, TRUE);
  gst_object_unref (bus);
  g_ptr_array_unref (s.missing);

  if (interrupted)
    *interrupted = s.n_signals > 0;
  if (s.error) {
    g_propagate_error (error, s.error);
    return FALSE;
  }
  return s.ok;
}

gboolean
femo_check_plugin (GError ** error)
{
  static const gchar *const elements[] = { "femodetect", "femooverlay" };

  for (guint i = 0; i < G_N_ELEMENTS (elements); i++) {
    GstPluginFeature *f = gst_registry_lookup_feature (gst_registry_get (),
        elements[i]);
    if (f == NULL) {
      g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN,
          "the %s element is not installed (running uninstalled: "
          "GST_PLUGIN_PATH=build/src/gst FEMO_MODEL_DIR=models in the source "
          "tree)", elements[i]);
      return FALSE;
    }
    gst_object_unref (f);
  }
  return TRUE;
}

gchar *
femo_typefind_file (const gchar * path)
{
  /* enough for the typefinders of images and containers */
  guint8 head[64 * 1024];
  g_autoptr (GstCaps) caps = NULL;
  g_autofree gchar *ext = NULL;
  const gchar *dot = strrchr (path, '.');
  FILE *f = g_fopen (path, "rb");
  gsize n;

  if (f == NULL)
    return NULL;
  n = fread (head, 1, sizeof (head), f);
  fclose (f);
  if (dot && !strchr (dot, G_DIR_SEPARATOR))
    ext = g_ascii_strdown (dot + 1, -1);
  caps = gst_type_find_helper_for_data_with_extension (NULL, head, n, ext,
      NULL);
  if (caps == NULL || gst_caps_is_empty (caps))
    return NULL;
  return g_strdup (gst_structure_get_name (gst_caps_get_structure (caps, 0)));
}
