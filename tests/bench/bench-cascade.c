/* gst-femo benchmark: femo_detector_detect on raw frames, frames per second.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * bench-cascade FILE WIDTH HEIGHT FRAMES CASCADE SCALE_FACTOR MIN_NEIGHBORS
 *   [THREADS]
 * FILE holds FRAMES raw GRAY8 or I420 frames (told apart by its size); only
 * the luma plane is used. Minimum face size 30x30 as GStreamer's facedetect.
 * Prints fps and the number of boxes; a benchmark, never a test.
 */
#include "femo-cascade.h"

#include <stdlib.h>
#include <sys/resource.h>

/* CPU seconds of all threads: robust to other load on a shared machine */
static gdouble
cpu_seconds (void)
{
  struct rusage ru;

  getrusage (RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec
      + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GMappedFile) file = NULL;
  g_autoptr (FemoCascade) cascade = NULL;
  g_autoptr (FemoDetector) detector = NULL;
  FemoDetectParams params = FEMO_DETECT_PARAMS_INIT;
  FemoRect faces[64];
  gint width, height, frames, i;
  guint threads = 0;
  gsize frame_size, size, total = 0;
  const guint8 *data;
  gint64 t0, t1;
  gdouble c0, c1;

  if (argc < 8) {
    g_printerr ("usage: %s FILE WIDTH HEIGHT FRAMES CASCADE SCALE_FACTOR "
        "MIN_NEIGHBORS [THREADS]\n", argv[0]);
    return 2;
  }
  width = atoi (argv[2]);
  height = atoi (argv[3]);
  frames = atoi (argv[4]);
  params.scale_factor = g_ascii_strtod (argv[6], NULL);
  params.min_neighbors = atoi (argv[7]);
  if (argc > 8)
    threads = atoi (argv[8]);
  if (width <= 0 || height <= 0 || frames <= 0 || params.scale_factor <= 1.0) {
    g_printerr ("bad size, frame count or scale factor\n");
    return 2;
  }

  file = g_mapped_file_new (argv[1], FALSE, &error);
  if (file == NULL) {
    g_printerr ("%s\n", error->message);
    return 1;
  }
  size = g_mapped_file_get_length (file);
  data = (const guint8 *) g_mapped_file_get_contents (file);
  if (size == (gsize) width * height * frames)
    frame_size = width * (gsize) height;
  else if (size == (gsize) width * height * 3 / 2 * frames)
    frame_size = width * (gsize) height * 3 / 2;
  else {
    g_printerr ("%s: %" G_GSIZE_FORMAT " bytes is neither %d GRAY8 nor I420 "
        "frames of %dx%d\n", argv[1], size, frames, width, height);
    return 1;
  }

  cascade = femo_cascade_new_from_file (argv[5], &error);
  if (cascade == NULL) {
    g_printerr ("%s\n", error->message);
    return 1;
  }
  detector = femo_detector_new (cascade, threads);

  t0 = g_get_monotonic_time ();
  c0 = cpu_seconds ();
  for (i = 0; i < frames; i++) {
    FemoImageView view = { data + frame_size * i, width, height, width, 1 };
    total += femo_detector_detect (detector, &view, &params, faces,
        G_N_ELEMENTS (faces));
  }
  t1 = g_get_monotonic_time ();
  c1 = cpu_seconds ();

  g_print ("%d frames %dx%d, sf %.2f mn %d, %u threads: %.1f fps "
      "(%.2f ms/frame), %.2f CPU ms/frame, %" G_GSIZE_FORMAT " boxes\n",
      frames, width, height, params.scale_factor, params.min_neighbors,
      femo_detector_get_n_threads (detector),
      frames * 1e6 / (gdouble) (t1 - t0), (t1 - t0) / 1e3 / frames,
      (c1 - c0) * 1e3 / frames, total);
  return 0;
}
