/* gst-femo tests: shared helpers (image decoding via GStreamer, paths)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>
#include <gst/video/video.h>

G_BEGIN_DECLS

/* $FEMO_SHARED_DIR/@relative (the read-only ../shared of the checkout). */
gchar *femo_test_shared_path (const gchar * relative);
/* $FEMO_TEST_DATA/@relative (tests/data, committed synthetic fixtures). */
gchar *femo_test_data_path (const gchar * relative);

/* Decodes any image GStreamer can (filesrc ! decodebin ! videoconvert) into
 * tightly packed pixels of @format (GST_VIDEO_FORMAT_GRAY8, RGB, ...).
 * Returns a g_malloc'd buffer of width*height*bpp bytes, or NULL + @error. */
guint8 *femo_test_load_image (const gchar * path, GstVideoFormat format,
    gint * width, gint * height, GError ** error);

/* Reads a whole file; aborts the test with a message when it can't. */
gchar *femo_test_read_file (const gchar * path, gsize * length);

G_END_DECLS
