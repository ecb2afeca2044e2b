/* gst-femo: how femodetect hands the pixels of a raw video frame to libfemo
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "femo-video-format.h"

#include <string.h>

/* The caps' colour matrix, or the nearest of those libfemo knows: FCC's
 * weights are BT.601's within 0.004, SMPTE 240M's BT.709's within 0.015;
 * an unknown one is BT.601, videoconvert's default too. */
static FemoYuvMatrix
yuv_matrix (GstVideoColorMatrix matrix)
{
  switch (matrix) {
    case GST_VIDEO_COLOR_MATRIX_BT709:
    case GST_VIDEO_COLOR_MATRIX_SMPTE240M:
      return FEMO_YUV_MATRIX_BT709;
    case GST_VIDEO_COLOR_MATRIX_BT2020:
      return FEMO_YUV_MATRIX_BT2020;
    default:
      return FEMO_YUV_MATRIX_BT601;
  }
}

void
femo_video_format_init (FemoVideoFormat * format, const GstVideoInfo * info)
{
  const GstVideoFormatInfo *finfo = info->finfo;

  memset (format, 0, sizeof (*format));
  format->is_rgb = GST_VIDEO_INFO_IS_RGB (info);
  if (format->is_rgb) {
    format->rgb.bytes_per_pixel =
        GST_VIDEO_INFO_COMP_PSTRIDE (info, GST_VIDEO_COMP_R);
    format->rgb.r_offset = GST_VIDEO_INFO_COMP_POFFSET (info,
        GST_VIDEO_COMP_R);
    format->rgb.g_offset = GST_VIDEO_INFO_COMP_POFFSET (info,
        GST_VIDEO_COMP_G);
    format->rgb.b_offset = GST_VIDEO_INFO_COMP_POFFSET (info,
        GST_VIDEO_COMP_B);
    return;
  }
  format->has_chroma = GST_VIDEO_INFO_IS_YUV (info);
  if (!format->has_chroma)
    return;
  format->chroma.x_shift = GST_VIDEO_FORMAT_INFO_W_SUB (finfo,
      GST_VIDEO_COMP_U);
  format->chroma.y_shift = GST_VIDEO_FORMAT_INFO_H_SUB (finfo,
      GST_VIDEO_COMP_U);
  format->chroma.matrix = yuv_matrix (info->colorimetry.matrix);
  format->chroma.full_range =
      info->colorimetry.range == GST_VIDEO_COLOR_RANGE_0_255;
}

static void
component_view (const GstVideoFrame * frame, gint component,
    FemoImageView * view)
{
  view->data = GST_VIDEO_FRAME_COMP_DATA (frame, component);
  view->width = GST_VIDEO_FRAME_COMP_WIDTH (frame, component);
  view->height = GST_VIDEO_FRAME_COMP_HEIGHT (frame, component);
  view->stride = GST_VIDEO_FRAME_COMP_STRIDE (frame, component);
  view->pixel_stride = GST_VIDEO_FRAME_COMP_PSTRIDE (frame, component);
}

/* The Y plane or the Y samples of a packed format as they are, RGB as it
 * is (converted to gray or BGR only if the frame needs it), the chroma
 * where it lies. */
void
femo_video_format_describe (const FemoVideoFormat * format,
    const GstVideoFrame * frame, FemoAnalyzerFrame * f)
{
  FemoImageView *view = &f->image;

  if (format->is_rgb) {
    view->data = GST_VIDEO_FRAME_PLANE_DATA (frame, 0);
    view->width = GST_VIDEO_FRAME_WIDTH (frame);
    view->height = GST_VIDEO_FRAME_HEIGHT (frame);
    view->stride = GST_VIDEO_FRAME_PLANE_STRIDE (frame, 0);
    view->pixel_stride = format->rgb.bytes_per_pixel;
    f->rgb = &format->rgb;
    return;
  }
  component_view (frame, GST_VIDEO_COMP_Y, view);
  f->rgb = NULL;
  memset (&f->chroma, 0, sizeof (f->chroma));
  if (format->has_chroma) {
    /* VYUY is V0 Y0 U0 Y1 (V4L2's and GStreamer's own packers), but
     * GStreamer's format table (1.22 to 1.28) gives it UYVY's offsets */
    gboolean swap = GST_VIDEO_FRAME_FORMAT (frame) == GST_VIDEO_FORMAT_VYUY;

    f->chroma = format->chroma;
    component_view (frame, swap ? GST_VIDEO_COMP_V : GST_VIDEO_COMP_U,
        &f->chroma.u);
    component_view (frame, swap ? GST_VIDEO_COMP_U : GST_VIDEO_COMP_V,
        &f->chroma.v);
  }
}
