/* gst-femo fuzzing: the OpenCV cascade XML loader
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "fuzz-targets.h"
#include "femo-cascade.h"

#include <string.h>

/* Larger than the usual 20x20 and 24x24 windows, small enough that the
 * detection (every window of every level, twice) stays cheap. */
#define IMAGE_SIZE 40

int
femo_fuzz_cascade (const guint8 * data, gsize size)
{
  /* An exact-size copy: an over-read past the input is a sanitizer report. */
  g_autofree gchar *xml = g_memdup2 (data, size);
  g_autoptr (GError) error = NULL;
  g_autoptr (FemoCascade) cascade = NULL;
  g_autoptr (FemoDetector) detector = NULL;
  g_autofree guint8 *pixels = NULL;
  FemoDetectParams params = FEMO_DETECT_PARAMS_INIT;
  FemoImageView view = { NULL, IMAGE_SIZE, IMAGE_SIZE, IMAGE_SIZE, 1 };
  FemoRect faces[16];
  guint32 state = 2463534242u;

  cascade = femo_cascade_new_from_data (xml, size, "fuzz", &error);
  if (!cascade) {
    g_assert (error != NULL && error->message != NULL);
    return 0;
  }
  g_assert (error == NULL);

  /* Every window of every level is evaluated on a noise image: a stage or
   * feature that points outside the window reads outside the image. */
  pixels = g_malloc (IMAGE_SIZE * IMAGE_SIZE);
  for (gsize i = 0; i < IMAGE_SIZE * IMAGE_SIZE; i++) {
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    pixels[i] = (guint8) state;
  }
  view.data = pixels;
  params.min_neighbors = 0;
  params.min_width = params.min_height = 1;
  params.scale_factor = 1.25;
  /* The SIMD group kernels where the CPU has them, then the scalar path
   * (FEMO_CASCADE_SIMD=0 is read when a detector is made). */
  detector = femo_detector_new (cascade, 1);
  femo_detector_detect (detector, &view, &params, faces, G_N_ELEMENTS (faces));
  g_clear_pointer (&detector, femo_detector_free);
  g_setenv ("FEMO_CASCADE_SIMD", "0", TRUE);
  detector = femo_detector_new (cascade, 1);
  g_unsetenv ("FEMO_CASCADE_SIMD");
  femo_detector_detect (detector, &view, &params, faces, G_N_ELEMENTS (faces));
  return 0;
}

#ifdef FEMO_LIBFUZZER
FEMO_FUZZ_ENTRY_POINT (femo_fuzz_cascade)
#endif
