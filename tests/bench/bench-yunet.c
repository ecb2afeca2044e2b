/* gst-femo: speed of the YuNet detector on one frame, the way
 * libfacedetection's detect_ref --bench times upstream: one warm-up call,
 * then N timed calls of femo_yunet_detect (threshold 0.2, upstream's), the
 * median printed. Prints figures, never fails on time.
 *   bench-yunet [--bench N] [--threads T] [--model FILE] [--detector]
 *     IMAGE.ppm
 * IMAGE.ppm: binary PPM (RGB); the network reads its blue, green and red
 * through the layout, as upstream's example feeds OpenCV's BGR.
 * --detector: times YuNet behind the face-detector interface instead
 * (femo_face_detector_detect, what femodetect runs: with its scan of a
 * shrunk copy of a large frame), at the same threshold and no size limit.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"
#include "test-util.h"
#include "femo-face-detector.h"
#include "femo-yunet.h"

#include <stdio.h>
#include <stdlib.h>

static gint
compare_double (gconstpointer a, gconstpointer b)
{
  const gdouble x = *(const gdouble *) a, y = *(const gdouble *) b;
  return x < y ? -1 : x > y;
}

int
main (int argc, char **argv)
{
  const FemoRgbLayout rgb = { 3, 0, 1, 2 };
  gint runs = 20, threads = 1;
  g_autofree gchar *model = NULL;
  const gchar *path = NULL;
  g_autoptr (FemoYunet) net = NULL;
  g_autoptr (FemoFaceDetector) detector = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree guint8 *pixels = NULL;
  g_autofree gdouble *ms = NULL;
  FemoYunetFace faces[FEMO_YUNET_KEEP_TOP_K];
  FemoRect rects[FEMO_YUNET_KEEP_TOP_K];
  gdouble confidence[FEMO_YUNET_KEEP_TOP_K];
  FemoFaceDetectParams params = FEMO_FACE_DETECT_PARAMS_INIT;
  FemoFaceDetectorInput input = { {0}, };
  gboolean use_detector = FALSE;
  gsize n = 0;
  gint width, height;

  for (gint i = 1; i < argc; i++) {
    if (g_str_equal (argv[i], "--bench") && i + 1 < argc)
      runs = atoi (argv[++i]);
    else if (g_str_equal (argv[i], "--threads") && i + 1 < argc)
      threads = atoi (argv[++i]);
    else if (g_str_equal (argv[i], "--model") && i + 1 < argc)
      model = g_strdup (argv[++i]);
    else if (g_str_equal (argv[i], "--detector"))
      use_detector = TRUE;
    else
      path = argv[i];
  }
  if (!path || runs < 1 || threads < 0) {
    fprintf (stderr, "usage: %s [--bench N] [--threads T] [--model FILE] "
        "[--detector] IMAGE.ppm\n", argv[0]);
    return 2;
  }
  if (!model)
    model = g_build_filename (g_getenv ("FEMO_MODEL_DIR") ?
        g_getenv ("FEMO_MODEL_DIR") : FEMO_SOURCE_ROOT "/models",
        "yunet.safetensors", NULL);
  if (use_detector)
    detector = femo_face_detector_new_from_file (FEMO_FACE_DETECTOR_YUNET,
        model, threads, &error);
  else
    net = femo_yunet_new_from_file (model, threads, &error);
  if (!net && !detector) {
    fprintf (stderr, "%s\n", error->message);
    return 1;
  }
  pixels = femo_test_read_ppm (path, &width, &height);
  input.color = (FemoColorView) {
  pixels, width, height, 3 * width, rgb};
  params.scan.min_width = params.scan.min_height = 0;
  params.min_confidence = FEMO_YUNET_UPSTREAM_THRESHOLD;
  ms = g_new (gdouble, runs);
  for (gint i = -1; i < runs; i++) {
    const gint64 t0 = g_get_monotonic_time ();
    if (use_detector)
      n = femo_face_detector_detect (detector, &input, &params, rects,
          confidence, NULL, G_N_ELEMENTS (rects), &error);
    else
      n = femo_yunet_detect (net, pixels, width, height, 3 * width, &rgb,
          FEMO_YUNET_UPSTREAM_THRESHOLD, faces, G_N_ELEMENTS (faces),
          &error);
    if (error) {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
    if (i >= 0)
      ms[i] = (g_get_monotonic_time () - t0) / 1e3;
  }
  printf ("{\"file\": \"%s\", \"width\": %d, \"height\": %d, \"threads\": %u, "
      "\"faces\": %" G_GSIZE_FORMAT ", \"runs_ms\": [", path, width, height,
      use_detector ? femo_face_detector_get_threads_used (detector) :
      femo_yunet_get_threads_used (net), n);
  for (gint i = 0; i < runs; i++)
    printf ("%s%.3f", i ? ", " : "", ms[i]);
  qsort (ms, runs, sizeof (gdouble), compare_double);
  printf ("], \"median_ms\": %.3f}\n", runs % 2 ? ms[runs / 2] :
      (ms[runs / 2 - 1] + ms[runs / 2]) / 2.0);
  return 0;
}
