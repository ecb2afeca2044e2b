/* gst-femo tests: the colour a detector that reads colour (YuNet) gets
 * from every raw format femodetect accepts
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A synthetic BGR frame is converted by GStreamer's own converter (what
 * videoconvert runs) to each format of femodetect's sink caps, with several
 * colorimetries; femodetect's description of that frame
 * (femo-video-format.c) and libfemo's conversion (femo_image_to_bgr) must
 * give back the frame, within the formats' own rounding: in flat patches
 * (where chroma subsampling loses nothing) within PATCH_TOLERANCE, and on
 * average over gentle gradients. (GStreamer's conversion back to BGR is no
 * reference: its 8-bit paths are off by 3-5 levels on these gradients.) A
 * wrong matrix, range, plane or byte order is off by tens of levels.
 */
#include "config.h"

#include "femo-image.h"
#include "femo-video-format.h"
#include "test-util.h"

#include <gst/gst.h>
#include <gst/video/video.h>
#include <string.h>

/* Odd sizes: the last chroma sample of a row covers fewer pixels. */
#define WIDTH 71
#define HEIGHT 53
/* Flat patches of saturated colours, PATCH pixels wide and apart; inside
 * (EDGE pixels from their borders) chroma interpolation does not matter. */
#define PATCH 16
#define EDGE 4
/* Largest differences allowed: inside the patches, and on average (smooth
 * gradients, and patch borders where the chroma steps). */
#define PATCH_TOLERANCE 3
#define MEAN_TOLERANCE 2.0

static const guint8 patch_colors[][3] = {
  /* B, G, R */
  {0, 0, 255}, {0, 255, 0}, {255, 0, 0}, {0, 255, 255}, {255, 255, 0},
  {255, 0, 255}, {40, 90, 200}, {200, 190, 180},
};

/* Gradients over the whole frame, and a grid of flat patches. */
static void
make_bgr (guint8 * bgr)
{
  for (gint y = 0; y < HEIGHT; y++) {
    for (gint x = 0; x < WIDTH; x++) {
      guint8 *p = bgr + (y * WIDTH + x) * 3;
      gint cell = (y / PATCH) * (WIDTH / PATCH) + x / PATCH;

      p[0] = 40 + 60 * x / WIDTH;
      p[1] = 70 + 60 * y / HEIGHT;
      p[2] = 200 - 60 * (x + y) / (WIDTH + HEIGHT);
      if ((x / PATCH + y / PATCH) % 2 == 0 && x < WIDTH / PATCH * PATCH
          && y < HEIGHT / PATCH * PATCH)
        memcpy (p, patch_colors[cell % G_N_ELEMENTS (patch_colors)], 3);
    }
  }
}

static gboolean
in_patch_interior (gint x, gint y)
{
  gint px = x % PATCH, py = y % PATCH;

  return (x / PATCH + y / PATCH) % 2 == 0 && x < WIDTH / PATCH * PATCH
      && y < HEIGHT / PATCH * PATCH && px >= EDGE && px < PATCH - EDGE
      && py >= EDGE && py < PATCH - EDGE;
}

static GstBuffer *
convert (GstBuffer * in, GstVideoInfo * in_info, GstVideoInfo * out_info)
{
  GstStructure *config = gst_structure_new_empty ("config");
  GstVideoConverter *converter;
  GstVideoFrame src, dst;
  GstBuffer *out = gst_buffer_new_allocate (NULL, out_info->size, NULL);

  /* no dither: the reference is the formats' rounding alone */
  gst_structure_set (config, GST_VIDEO_CONVERTER_OPT_DITHER_METHOD,
      GST_TYPE_VIDEO_DITHER_METHOD, GST_VIDEO_DITHER_NONE, NULL);
  converter = gst_video_converter_new (in_info, out_info, config);
  g_assert_nonnull (converter);
  g_assert_true (gst_video_frame_map (&src, in_info, in, GST_MAP_READ));
  g_assert_true (gst_video_frame_map (&dst, out_info, out, GST_MAP_WRITE));
  gst_video_converter_frame (converter, &src, &dst);
  gst_video_frame_unmap (&dst);
  gst_video_frame_unmap (&src);
  gst_video_converter_free (converter);
  return out;
}

/* The differences of @got from @want (both BGR, WIDTH wide) over @w x @h:
 * the largest inside the patches (when @patches) and the mean. */
static void
compare (const guint8 * got, const guint8 * want, gint w, gint h,
    gboolean patches, gint * patch_max, gdouble * mean)
{
  gdouble sum = 0;

  *patch_max = 0;
  for (gint y = 0; y < h; y++) {
    for (gint x = 0; x < w; x++) {
      for (gint c = 0; c < 3; c++) {
        gint d = ABS ((gint) got[(y * w + x) * 3 + c] -
            (gint) want[(y * w + x) * 3 + c]);

        sum += d;
        if (patches && in_patch_interior (x, y))
          *patch_max = MAX (*patch_max, d);
      }
    }
  }
  *mean = sum / (w * h * 3);
}

/* @format in @colorimetry (NULL: GStreamer's default for it), made by
 * GStreamer's converter, back to BGR at full size and at half size (the
 * process-width path, against the same shrink of the BGR frame). */
static void
check_format (GstVideoFormat format, const gchar * colorimetry)
{
  GstVideoInfo bgr_info, info;
  GstBuffer *source, *frame_buf;
  GstVideoFrame frame;
  FemoVideoFormat fmt;
  FemoAnalyzerFrame f;
  guint8 *want, *got, *scratch, *small_want, *small_got;
  gint patch_max, w2 = WIDTH / 2, h2 = HEIGHT / 2;
  gdouble mean;

  gst_video_info_set_format (&bgr_info, GST_VIDEO_FORMAT_BGR, WIDTH, HEIGHT);
  gst_video_info_set_format (&info, format, WIDTH, HEIGHT);
  if (colorimetry != NULL)
    g_assert_true (gst_video_colorimetry_from_string (&info.colorimetry,
            colorimetry));
  /* BGR with the format's primaries and transfer: the converter then
   * applies matrix and range, nothing else */
  bgr_info.colorimetry.primaries = info.colorimetry.primaries;
  bgr_info.colorimetry.transfer = info.colorimetry.transfer;

  want = g_malloc (WIDTH * HEIGHT * 3);
  make_bgr (want);
  source = femo_test_packed_buffer (&bgr_info, want);
  frame_buf = convert (source, &bgr_info, &info);

  memset (&f, 0, sizeof (f));
  femo_video_format_init (&fmt, &info);
  g_assert_true (gst_video_frame_map (&frame, &info, frame_buf,
          GST_MAP_READ));
  femo_video_format_describe (&fmt, &frame, &f);
  g_assert_cmpint (f.image.width, ==, WIDTH);
  g_assert_cmpint (f.image.height, ==, HEIGHT);
  if (!GST_VIDEO_INFO_IS_RGB (&info) && !GST_VIDEO_INFO_IS_YUV (&info)) {
    /* gray: its own luma in B, G and R */
    for (gint y = 0; y < HEIGHT; y++)
      for (gint x = 0; x < WIDTH; x++)
        memset (want + (y * WIDTH + x) * 3, f.image.data[y * f.image.stride
                + x * f.image.pixel_stride], 3);
  }

  got = g_malloc (WIDTH * HEIGHT * 3);
  scratch = g_malloc (w2 * h2 * 3);
  femo_image_to_bgr (&f.image, f.rgb, &f.chroma, got, WIDTH, HEIGHT,
      WIDTH * 3, NULL);
  compare (got, want, WIDTH, HEIGHT, TRUE, &patch_max, &mean);
  if (patch_max > PATCH_TOLERANCE || mean > MEAN_TOLERANCE)
    g_error ("%s %s: largest difference in the patches %d, mean %.2f",
        gst_video_format_to_string (format),
        colorimetry ? colorimetry : "(default)", patch_max, mean);
  g_test_message ("%s %s: patches within %d, mean %.2f",
      gst_video_format_to_string (format),
      colorimetry ? colorimetry : "(default)", patch_max, mean);

  /* half size: our shrink of the frame against the same shrink of the
   * BGR frame, channel by channel */
  small_want = g_malloc (w2 * h2 * 3);
  small_got = g_malloc (w2 * h2 * 3);
  for (gint c = 0; c < 3; c++) {
    FemoImageView channel = { want + c, WIDTH, HEIGHT, WIDTH * 3, 3 };

    femo_image_resample_to (&channel, 0, 0, WIDTH, HEIGHT, small_want + c,
        w2, h2, w2 * 3, 3);
  }
  femo_image_to_bgr (&f.image, f.rgb, &f.chroma, small_got, w2, h2, w2 * 3,
      scratch);
  compare (small_got, small_want, w2, h2, FALSE, &patch_max, &mean);
  if (mean > MEAN_TOLERANCE)
    g_error ("%s %s at %dx%d: mean difference %.2f",
        gst_video_format_to_string (format),
        colorimetry ? colorimetry : "(default)", w2, h2, mean);
  gst_video_frame_unmap (&frame);

  g_free (small_got);
  g_free (small_want);
  g_free (scratch);
  g_free (got);
  g_free (want);
  gst_buffer_unref (frame_buf);
  gst_buffer_unref (source);
}

static void
test_every_format (void)
{
  GPtrArray *formats = femo_test_femodetect_formats ();

  g_assert_cmpuint (formats->len, >=, 26);
  for (guint i = 0; i < formats->len; i++)
    check_format (gst_video_format_from_string (g_ptr_array_index (formats,
                i)), NULL);
  g_ptr_array_unref (formats);
}

/* The matrices and both ranges, on planar, semi-planar and packed YUV. */
static void
test_colorimetry (void)
{
  static const gchar *const colorimetries[] = {
    "bt601", "bt709", "bt2020",
    /* full range (JPEG's): range:matrix:transfer:primaries */
    "1:4:0:0",
    "1:3:0:0",
  };
  static const GstVideoFormat formats[] = {
    GST_VIDEO_FORMAT_I420, GST_VIDEO_FORMAT_NV12, GST_VIDEO_FORMAT_YUY2,
    GST_VIDEO_FORMAT_Y444,
  };

  for (guint i = 0; i < G_N_ELEMENTS (formats); i++)
    for (guint k = 0; k < G_N_ELEMENTS (colorimetries); k++)
      check_format (formats[i], colorimetries[k]);
}

/* Known values: 100% colour bars in 8-bit video range, as tabulated for
 * BT.601 and BT.709 (ITU-R BT.801 and SMPTE RP 219), and BT.2020's from
 * its luma weights; full-range BT.601 (JPEG) red. */
static void
test_known_values (void)
{
  static const struct
  {
    FemoYuvMatrix matrix;
    gboolean full_range;
    guint8 y, u, v;
    guint8 b, g, r;
  } cases[] = {
    {FEMO_YUV_MATRIX_BT601, FALSE, 235, 128, 128, 255, 255, 255},
    {FEMO_YUV_MATRIX_BT601, FALSE, 16, 128, 128, 0, 0, 0},
    {FEMO_YUV_MATRIX_BT601, FALSE, 81, 90, 240, 0, 0, 255},
    {FEMO_YUV_MATRIX_BT601, FALSE, 145, 54, 34, 0, 255, 0},
    {FEMO_YUV_MATRIX_BT601, FALSE, 41, 240, 110, 255, 0, 0},
    {FEMO_YUV_MATRIX_BT601, FALSE, 210, 16, 146, 0, 255, 255},
    {FEMO_YUV_MATRIX_BT709, FALSE, 63, 102, 240, 0, 0, 255},
    {FEMO_YUV_MATRIX_BT709, FALSE, 173, 42, 26, 0, 255, 0},
    {FEMO_YUV_MATRIX_BT709, FALSE, 32, 240, 118, 255, 0, 0},
    {FEMO_YUV_MATRIX_BT709, FALSE, 188, 154, 16, 255, 255, 0},
    {FEMO_YUV_MATRIX_BT2020, FALSE, 74, 97, 240, 0, 0, 255},
    {FEMO_YUV_MATRIX_BT2020, FALSE, 29, 240, 119, 255, 0, 0},
    {FEMO_YUV_MATRIX_BT601, TRUE, 76, 85, 255, 0, 0, 255},
    {FEMO_YUV_MATRIX_BT601, TRUE, 255, 128, 128, 255, 255, 255},
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    guint8 y = cases[i].y, u = cases[i].u, v = cases[i].v, bgr[3];
    FemoImageView luma = { &y, 1, 1, 1, 1 };
    FemoChroma chroma = { {&u, 1, 1, 1, 1}, {&v, 1, 1, 1, 1}, 0, 0,
      cases[i].matrix, cases[i].full_range
    };

    femo_yuv_to_bgr (&luma, &chroma, bgr, 3);
    g_assert_cmpint (ABS (bgr[0] - cases[i].b), <=, 2);
    g_assert_cmpint (ABS (bgr[1] - cases[i].g), <=, 2);
    g_assert_cmpint (ABS (bgr[2] - cases[i].r), <=, 2);
  }
}

/* Packed YUY2: luma with pixel stride 2, Cb and Cr every 4 bytes, each for
 * two pixels; without chroma, gray. */
static void
test_packed_and_gray (void)
{
  /* two pixel pairs: red (BT.601 video range), then blue */
  const guint8 yuy2[8] = { 81, 90, 81, 240, 41, 240, 41, 110 };
  FemoImageView luma = { yuy2, 4, 1, 8, 2 };
  FemoChroma chroma = { {yuy2 + 1, 2, 1, 8, 4}, {yuy2 + 3, 2, 1, 8, 4},
    1, 0, FEMO_YUV_MATRIX_BT601, FALSE
  };
  guint8 bgr[12];

  femo_yuv_to_bgr (&luma, &chroma, bgr, 12);
  for (gint x = 0; x < 4; x++) {
    g_assert_cmpint (bgr[x * 3 + (x < 2 ? 2 : 0)], >=, 253);
    g_assert_cmpint (bgr[x * 3 + 1], <=, 2);
    g_assert_cmpint (bgr[x * 3 + (x < 2 ? 0 : 2)], <=, 2);
  }
  femo_yuv_to_bgr (&luma, NULL, bgr, 12);
  for (gint x = 0; x < 4; x++)
    for (gint c = 0; c < 3; c++)
      g_assert_cmpuint (bgr[x * 3 + c], ==, yuy2[x * 2]);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/color/known-values", test_known_values);
  g_test_add_func ("/color/packed-and-gray", test_packed_and_gray);
  g_test_add_func ("/color/every-format", test_every_format);
  g_test_add_func ("/color/colorimetry", test_colorimetry);
  return g_test_run ();
}
