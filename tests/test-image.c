/* gst-femo tests: luma extraction and face-crop resampling
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "femo-face-crop.h"
#include "femo-image.h"

#include <math.h>

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

/* femo_image_shrink_to_bgr: where the factor divides the size, exactly
 * the area average femo_image_to_bgr() (femo_image_resample) gives, from
 * any layout; at the right and bottom edges the mean of the pixels left,
 * rounded. Rows with padding past the pixels. */
static void
test_shrink_to_bgr (void)
{
  const FemoRgbLayout xrgb = { 4, 1, 2, 3 };
  const gint width = 38, height = 23, stride = width * 4 + 5, factor = 3;
  const gint w = 13, h = 8;     /* ceil (38 / 3), ceil (23 / 3) */
  guint8 *src = g_malloc ((gsize) stride * height);
  guint8 got[13 * 8 * 3], want[13 * 8 * 3];
  guint32 sums[38 * 4];
  FemoColorView color = { src, width, height, stride, xrgb };
  /* the whole blocks: 36 x 21 */
  FemoImageView whole = { src, 36, 21, stride, 4 };

  for (gint i = 0; i < stride * height; i++)
    src[i] = (guint8) (i * 7919 >> 3);
  femo_image_shrink_to_bgr (&color, factor, got, w * 3, sums);

  femo_image_to_bgr (&whole, &xrgb, NULL, want, 12, 7, w * 3, NULL);
  for (gint y = 0; y < 7; y++)
    g_assert_cmpmem (got + y * w * 3, 12 * 3, want + y * w * 3, 12 * 3);

  for (gint y = 0; y < h; y++)
    for (gint x = 0; x < w; x++)
      for (gint c = 0; c < 3; c++) {
        const gint off = c == 0 ? 3 : c == 1 ? 2 : 1;   /* B, G, R */
        guint sum = 0, n = 0;

        for (gint sy = y * factor; sy < MIN ((y + 1) * factor, height); sy++)
          for (gint sx = x * factor; sx < MIN ((x + 1) * factor, width);
              sx++, n++)
            sum += src[sy * stride + sx * 4 + off];
        g_assert_cmpuint (got[(y * w + x) * 3 + c], ==, (sum + n / 2) / n);
      }
  g_free (src);
}

/* A gray frame with a dark disc of radius 2.5 display units at each eye
 * (display coordinates: x times the pixel aspect ratio @par). */
static guint8 *
draw_eyes (gint width, gint height, gdouble par, const gdouble eyes[4])
{
  guint8 *image = g_malloc (width * height);

  for (gint y = 0; y < height; y++)
    for (gint x = 0; x < width; x++) {
      gdouble dx = (x + 0.5) * par, dy = y + 0.5;
      gboolean eye = FALSE;

      for (gint e = 0; e < 2; e++)
        eye |= hypot (dx - eyes[2 * e], dy - eyes[2 * e + 1]) < 2.5;
      image[y * width + x] = eye ? 0 : 200;
    }
  return image;
}

/* The centre of darkness of the crop's left or right half. */
static void
dark_centre (const guint8 * crop, gint size, gboolean right, gdouble * cx,
    gdouble * cy)
{
  gdouble sum = 0, sx = 0, sy = 0;

  for (gint y = 0; y < size; y++)
    for (gint x = right ? size / 2 : 0; x < (right ? size : size / 2); x++) {
      gdouble w = 200 - crop[y * size + x];

      sum += w;
      sx += w * (x + 0.5);
      sy += w * (y + 0.5);
    }
  g_assert_cmpfloat (sum, >, 0);
  *cx = sx / sum;
  *cy = sy / sum;
}

/* Eyes turned, farther apart than in FER2013's crop (so shrunk), on square
 * and on wide pixels: in the crop they land where FER2013's mean face has
 * them, level. */
static void
test_crop_aligned_geometry (void)
{
  static const struct
  {
    gdouble angle_deg, distance, par;
    gint par_n, par_d;
  } cases[] = {
    {0, 36, 1.0, 1, 1}, {25, 40, 1.0, 1, 1}, {-40, 55, 1.0, 1, 1},
    {170, 30, 1.0, 1, 1}, {15, 44, 2.0, 2, 1}, {-20, 36, 0.75, 3, 4},
  };
  const gint size = FEMO_FACE_CROP_FER_SIZE;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    gdouble a = cases[i].angle_deg * G_PI / 180, par = cases[i].par;
    gdouble half = cases[i].distance / 2;
    /* display coordinates around the frame's centre */
    const gdouble eyes[4] = { 110 - half * cos (a), 90 - half * sin (a),
      110 + half * cos (a), 90 + half * sin (a)
    };
    gint width = (gint) (220 / par), height = 180;
    guint8 *image = draw_eyes (width, height, par, eyes);
    FemoImageView view = { image, width, height, width, 1 };
    guint8 crop[FEMO_FACE_CROP_FER_SIZE * FEMO_FACE_CROP_FER_SIZE];
    gdouble lx, ly, rx, ry;

    g_assert_true (femo_face_crop_aligned (&view, eyes[0] / par, eyes[1],
            eyes[2] / par, eyes[3], cases[i].par_n, cases[i].par_d, crop,
            size));
    dark_centre (crop, size, FALSE, &lx, &ly);
    dark_centre (crop, size, TRUE, &rx, &ry);
    if (fabs (lx - FEMO_FACE_CROP_FER_LEFT_EYE_X) > 0.3
        || fabs (rx - FEMO_FACE_CROP_FER_RIGHT_EYE_X) > 0.3
        || fabs (ly - FEMO_FACE_CROP_FER_EYE_Y) > 0.3
        || fabs (ry - FEMO_FACE_CROP_FER_EYE_Y) > 0.3)
      g_error ("case %u: eyes at %.2f,%.2f and %.2f,%.2f", i, lx, ly, rx,
          ry);
    g_free (image);
  }
}

/* Unturned and at the crop's own scale, the aligned crop is the box crop
 * of the same region; eyes less than a pixel apart give no crop. */
static void
test_crop_aligned_upright (void)
{
  const gint size = FEMO_FACE_CROP_FER_SIZE, width = 120, height = 100;
  const gdouble lx = 40.3, ly = 37.6;
  guint8 src[120 * 100], aligned[48 * 48], boxed[48 * 48];
  FemoImageView view = { src, width, height, width, 1 };

  for (gint i = 0; i < width * height; i++)
    src[i] = (guint8) (i * 37 + i / width * 11);
  g_assert_true (femo_face_crop_aligned (&view, lx, ly,
          lx + FEMO_FACE_CROP_FER_RIGHT_EYE_X - FEMO_FACE_CROP_FER_LEFT_EYE_X,
          ly, 1, 1, aligned, size));
  femo_image_resample (&view, lx - FEMO_FACE_CROP_FER_LEFT_EYE_X,
      ly - FEMO_FACE_CROP_FER_EYE_Y, size, size, boxed, size, size);
  g_assert_cmpmem (aligned, sizeof (aligned), boxed, sizeof (boxed));

  memset (aligned, 7, sizeof (aligned));
  g_assert_false (femo_face_crop_aligned (&view, lx, ly, lx + 0.5, ly + 0.5,
          1, 1, aligned, size));
  g_assert_cmpuint (aligned[0], ==, 7);
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
  g_test_add_func ("/image/shrink-to-bgr", test_shrink_to_bgr);
  g_test_add_func ("/image/crop-aligned/geometry",
      test_crop_aligned_geometry);
  g_test_add_func ("/image/crop-aligned/upright", test_crop_aligned_upright);
  return g_test_run ();
}
