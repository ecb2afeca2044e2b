/* gst-femo: how femodetect hands the pixels of a raw video frame to libfemo
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/video/video.h>
#include "femo-analyzer.h"

G_BEGIN_DECLS

/**
 * FemoVideoFormat:
 * @is_rgb: packed RGB: the analyzer reads the pixels through @rgb
 * @rgb: where red, green and blue sit in a pixel
 * @chroma: for YUV formats, the chroma's subsampling and colorimetry (its
 *   views are set per frame); u.data NULL for GRAY8 and RGB
 *
 * What caps say about a frame's pixels, worked out once per caps.
 */
typedef struct
{
  gboolean is_rgb;
  FemoRgbLayout rgb;
  gboolean has_chroma;
  FemoChroma chroma;
} FemoVideoFormat;

void femo_video_format_init (FemoVideoFormat * format,
    const GstVideoInfo * info);
/* Points @f's image, rgb and chroma at the pixels of the mapped @frame
 * (borrowed while it stays mapped; @f->rgb points into @format). */
void femo_video_format_describe (const FemoVideoFormat * format,
    const GstVideoFrame * frame, FemoAnalyzerFrame * f);

G_END_DECLS
