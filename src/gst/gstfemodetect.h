/* gst-femo: femodetect, face detection (Haar/LBP cascade or YuNet) and
 * emotions as ROI metadata
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

/* femodetect's "detector" property: libfemo's FemoFaceDetectorKind. */
typedef enum
{
  GST_FEMO_DETECTOR_CASCADE,
  GST_FEMO_DETECTOR_YUNET,
} GstFemoDetectorKind;

#define GST_TYPE_FEMO_DETECTOR_KIND (gst_femo_detector_kind_get_type ())
GType gst_femo_detector_kind_get_type (void);

/* femodetect's "metadata" property: which metadata the faces go in
 * (flags in effect: BOTH is ROI | ANALYTICS). */
typedef enum
{
  GST_FEMO_DETECT_METADATA_ROI = 1,
  GST_FEMO_DETECT_METADATA_ANALYTICS = 2,
  GST_FEMO_DETECT_METADATA_BOTH = 3,
} GstFemoDetectMetadata;

#define GST_TYPE_FEMO_DETECT_METADATA (gst_femo_detect_metadata_get_type ())
GType gst_femo_detect_metadata_get_type (void);

/* The boxed type of femodetect's "model" property: a reference to the
 * loaded emotion model (libfemo's FemoModel). */
#define GST_TYPE_FEMO_MODEL (gst_femo_model_get_type ())
GType gst_femo_model_get_type (void);

G_END_DECLS
