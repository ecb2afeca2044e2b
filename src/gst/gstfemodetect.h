/* gst-femo: femodetect, Haar/LBP face detection as ROI metadata
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>
#include <gst/video/video.h>
#include <gst/video/gstvideofilter.h>

G_BEGIN_DECLS

#define GST_TYPE_FEMO_DETECT (gst_femo_detect_get_type ())
G_DECLARE_FINAL_TYPE (GstFemoDetect, gst_femo_detect, GST, FEMO_DETECT,
    GstVideoFilter)

GST_ELEMENT_REGISTER_DECLARE (femodetect);

G_END_DECLS
