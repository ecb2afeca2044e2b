/* gst-femo tests: luma extraction and face-crop resampling
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "femo-image.h"

#include <string.h>

/* OpenCV's RGB2GRAY for a few colours, computed with cv2.cvtColor
 * (python3-opencv 4.6): (r, g, b) -> gray. */
static void
test_rgb_to_gray (void)
{
  static const guint8 cases[][4] = {
    {0, 0, 0, 0}, {255, 255, 255, 255}, {255, 0, 0, 76}, {0, 255, 0, 150},
    {0, 0, 255, 29}, {12, 200, 99, 132}, {128, 128, 128, 128},
  };
  const FemoRgbLayout bgra = { 4, 2, 1, 0 };
  guint8 src[G_N_ELEMENTS (cases) * 4], dst[G_N_ELEMENTS (cases)];

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    src[i * 4 + 0] = cases[i][2];
    src[i * 4 + 1] = cases[i][1];
    src[i * 4 + 2] = cases[i][0];
    src[i * 4 + 3] = 0xA5;
  }
  femo_rgb_to_gray (src, sizeof (src), &bgra, G_N_ELEMENTS (cases), 1, dst,
      sizeof (dst));
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    g_assert_cmpuint (dst[i], ==, cases[i][3]);
}

static void
test_resample_area (void)
{
  /* A 96x96 checkerboard of 2x2 cells averages to flat grey at 48x48;
   * with aliasing (point sampling) it would be black or white. */
  guint8 src[96 * 96], dst[48 * 48];
  FemoImageView view = { src, 96, 96, 96, 1 };

  for (gint y = 0; y < 96; y++)
    for (gint x = 0; x < 96; x++)
      src[y * 96 + x] = ((x / 1 + y / 1) & 1) ? 255 : 0;
  femo_image_resample (&view, 0, 0, 96, 96, dst, 48, 48);
  for (gint i = 0; i < 48 * 48; i++)
    g_assert_cmpint (ABS ((gint) dst[i] - 128), <=, 1);
}

static void
test_resample_identity_and_edges (void)
{
  guint8 src[48 * 2 * 48], dst[48 * 48];
  /* pixel stride 2, as the Y of YUY2 */
  FemoImageView view = { src, 48, 48, 96, 2 };

  for (gint i = 0; i < 48 * 2 * 48; i++)
    src[i] = (i & 1) ? 0xEE : (guint8) (i * 7);
  femo_image_resample (&view, 0, 0, 48, 48, dst, 48, 48);
  for (gint y = 0; y < 48; y++)
    for (gint x = 0; x < 48; x++)
      g_assert_cmpuint (dst[y * 48 + x], ==, src[y * 96 + x * 2]);

  /* A region wholly left of the image repeats the left column. */
  femo_image_resample (&view, -100, 0, 48, 48, dst, 48, 48);
  for (gint y = 0; y < 48; y++)
    for (gint x = 0; x < 48; x++)
      g_assert_cmpuint (dst[y * 48 + x], ==, src[y * 96]);
}

static void
test_resample_enlarge (void)
{
  /* A 2x2 image enlarged to 48x48 stays within its range and keeps the
   * corners. */
  guint8 src[4] = { 0, 100, 200, 250 }, dst[48 * 48];
  FemoImageView view = { src, 2, 2, 2, 1 };

  femo_image_resample (&view, 0, 0, 2, 2, dst, 48, 48);
  g_assert_cmpuint (dst[0], ==, 0);
  g_assert_cmpuint (dst[47], ==, 100);
  g_assert_cmpuint (dst[47 * 48], ==, 200);
  g_assert_cmpuint (dst[48 * 48 - 1], ==, 250);
  for (gint i = 0; i < 48 * 48; i++)
    g_assert_cmpuint (dst[i], <=, 250);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/image/rgb-to-gray", test_rgb_to_gray);
  g_test_add_func ("/image/resample/area", test_resample_area);
  g_test_add_func ("/image/resample/identity-and-edges",
      test_resample_identity_and_edges);
  g_test_add_func ("/image/resample/enlarge", test_resample_enlarge);
  return g_test_run ();
}
