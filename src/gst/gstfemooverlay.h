/* gst-femo: femooverlay, draws faces and their emotions from ROI metadata
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>
#include <gst/video/video.h>
#include <gst/video/gstvideofilter.h>

G_BEGIN_DECLS

#define GST_TYPE_FEMO_OVERLAY (gst_femo_overlay_get_type ())
G_DECLARE_FINAL_TYPE (GstFemoOverlay, gst_femo_overlay, GST, FEMO_OVERLAY,
    GstVideoFilter)

GST_ELEMENT_REGISTER_DECLARE (femooverlay);

G_END_DECLS
