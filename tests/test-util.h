/* gst-femo tests: shared helpers (image decoding via GStreamer, paths)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "femo-cascade.h"

#include <gst/gst.h>
#include <gst/video/video.h>
#include <gst/check/gstharness.h>
#include <stdarg.h>
#include <sys/resource.h>

G_BEGIN_DECLS

/* A file or folder a test program needs is not there, so the program can
 * neither pass nor fail: it stops with exit code 77, which meson reports as
 * SKIP (a g_test_skip() of one case would still let the program pass).
 * Under CI=true everything is installed, so the same is a failure. */
void femo_test_missing (const gchar * format, ...) G_GNUC_PRINTF (1, 2)
    G_GNUC_NORETURN;

/* $FEMO_SHARED_DIR/@relative (the read-only ../shared of the checkout);
 * femo_test_missing() when it does not exist. */
gchar *femo_test_shared_path (const gchar * relative);
/* femodetect's default cascade, below FEMO_CASCADE_DIR */
#define FEMO_TEST_DEFAULT_CASCADE \
    "haarcascades/haarcascade_frontalface_default.xml"
/* FEMO_CASCADE_DIR/@relative (Debian's opencv-data, e.g.
 * "haarcascades/haarcascade_frontalface_default.xml");
 * femo_test_missing() when it does not exist. */
gchar *femo_test_cascade_path (const gchar * relative);
/* femodetect without a cascade-file loads FEMO_TEST_DEFAULT_CASCADE: a
 * program that runs the element calls this first. */
void femo_test_require_default_cascade (void);
/* The cascade FEMO_CASCADE_DIR/@relative, loaded (the test fails when it
 * does not load). */
FemoCascade *femo_test_cascade_new (const gchar * relative);
/* $FEMO_TEST_DATA/@relative (tests/data, committed synthetic fixtures). */
gchar *femo_test_data_path (const gchar * relative);

/* Decodes any image GStreamer can (filesrc ! decodebin ! videoconvert) into
 * tightly packed pixels of @format (GST_VIDEO_FORMAT_GRAY8, RGB, ...).
 * Returns a g_malloc'd buffer of width*height*bpp bytes, or NULL + @error. */
guint8 *femo_test_load_image (const gchar * path, GstVideoFormat format,
    gint * width, gint * height, GError ** error);

/* Frames 100-200 of the shared 640x480 montage, the segment the tracking
 * tests use: shot cuts at frames 115 and 181, one speaker per shot, faces
 * about 235 pixels wide, 30000/1001 frames a second. */
#define FEMO_TEST_MONTAGE "media/video/obama_montage_640x480_300f.mp4"
#define FEMO_TEST_MONTAGE_FIRST 100
#define FEMO_TEST_MONTAGE_LAST 200
#define FEMO_TEST_MONTAGE_CUT_1 115
#define FEMO_TEST_MONTAGE_CUT_2 181
#define FEMO_TEST_MONTAGE_FPS_N 30000
#define FEMO_TEST_MONTAGE_FPS_D 1001

/* Frames @first..@last of the shared H.264 MP4 @relative (relative to
 * FEMO_SHARED_DIR) as tightly packed GRAY8 buffers whose timestamps are
 * those of their frame numbers at @fps_n/@fps_d. */
GPtrArray *femo_test_decode_video_gray (const gchar * relative, guint first,
    guint last, gint fps_n, gint fps_d, gint * width, gint * height);

/* The address of femodetect's loaded model (NULL when none), for checking
 * which elements share one: the reference its "model" property gives is
 * released at once. */
gconstpointer femo_test_model_of (GstElement * detect);

/* Limits the process's address space to what it uses now plus @headroom
 * bytes (for out-of-memory tests, in a subprocess); the limit before goes
 * to @old, for setrlimit (RLIMIT_AS, @old). */
void femo_test_limit_memory (gsize headroom, struct rlimit *old);

/* Reads a whole file; aborts the test with a message when it can't. */
gchar *femo_test_read_file (const gchar * path, gsize * length);

/* femodetect's "detector" values (the enum's), for tests that need one:
 * the cascade's results are OpenCV's, YuNet is the default. */
#define FEMO_TEST_CASCADE 0
#define FEMO_TEST_YUNET 1

/* A GstHarness around @element (or a new femodetect when NULL) with the
 * properties given set, and a bus of its own so that its element messages
 * can be popped. Tear it down with femo_test_detect_harness_teardown(). */
GstHarness *femo_test_detect_harness_new (const gchar * first_property, ...);
GstHarness *femo_test_detect_harness_new_valist (GstElement * element,
    const gchar * first_property, va_list args);
/* The same with femodetect's "metadata" set to @metadata (its nick: roi,
 * analytics, both) before it starts. */
GstHarness *femo_test_detect_harness_new_metadata (const gchar * metadata,
    const gchar * first_property, ...);
void femo_test_detect_harness_teardown (GstHarness * h);

/* Decodes the images @paths (NULL-terminated) as libfacedetection's
 * examples do (OpenCV's cv2.imread, 8-bit BGR) with @script
 * (tests/decode-cv2.py, Debian's python3-opencv) into binary PPM files
 * @dir/<basename>.ppm; femo_test_missing() without python3-opencv. */
void femo_test_decode_cv2 (const gchar * script, const gchar * dir,
    const gchar * const *paths);
/* A binary PPM (P6, maxval 255) as packed RGB, rows 3 * width bytes
 * apart; aborts the test when the file is not one. */
guint8 *femo_test_read_ppm (const gchar * path, gint * width, gint * height);

/* The formats of femodetect's sink template, in its order (strings). */
GPtrArray *femo_test_femodetect_formats (void);

/* A buffer laid out as @info (one plane) holding the packed pixels
 * @pixels (rows of width x pixel stride bytes). */
GstBuffer *femo_test_packed_buffer (const GstVideoInfo * info,
    const guint8 * pixels);

G_END_DECLS
