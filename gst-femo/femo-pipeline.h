/* gst-femo: running a pipeline to its end, and what it needs
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

/* Called on the first Ctrl-C (SIGINT/SIGTERM) to stop cleanly, typically by
 * sending EOS; a second one makes femo_pipeline_run() fail at once. */
typedef void (*FemoStopFunc) (gpointer user_data);

/* Plays @pipeline until EOS. @tick (may be NULL) is called every 250 ms.
 * On failure returns FALSE with @error holding one line for the user,
 * naming @input: a missing decoder (from missing-plugin messages), an
 * unknown file type, or the first error message. *@interrupted tells
 * whether the user stopped the run. */
gboolean femo_pipeline_run (GstElement * pipeline, const gchar * input,
    FemoStopFunc stop, GSourceFunc tick, gpointer user_data,
    gboolean * interrupted, GError ** error);

/* FALSE + @error when femodetect or femooverlay cannot be found. */
gboolean femo_check_plugin (GError ** error);

/* The media type of a file from its first bytes ("video/quicktime",
 * "image/jpeg", ...), or NULL when GStreamer cannot tell. */
gchar *femo_typefind_file (const gchar * path);

G_END_DECLS
