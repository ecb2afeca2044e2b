/* gst-femo: OpenCV cascade classifiers (Haar and LBP), loaded from OpenCV's
 * XML files and evaluated the way OpenCV 4.6's CascadeClassifier does.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>
#include "femo-image.h"

G_BEGIN_DECLS

typedef struct _FemoCascade FemoCascade;
typedef struct _FemoDetector FemoDetector;

typedef enum
{
  FEMO_CASCADE_HAAR,
  FEMO_CASCADE_LBP,
} FemoCascadeKind;

/**
 * FemoRect:
 * @x, @y, @width, @height: the box in pixels of the input image
 * @neighbors: how many raw detections were grouped into this box
 */
typedef struct
{
  gint x;
  gint y;
  gint width;
  gint height;
  gint neighbors;
} FemoRect;

/**
 * FemoDetectParams:
 * @scale_factor: 1.01 to 100 (excluded), the ratio between two pyramid
 *   levels (OpenCV scaleFactor)
 * @min_neighbors: OpenCV minNeighbors (0 = return the ungrouped raw windows)
 * @min_width, @min_height: smallest face (OpenCV minSize)
 * @max_width, @max_height: largest face, 0 = no limit (OpenCV maxSize)
 * @max_faces: 0 = all; otherwise only the largest @max_faces boxes are kept
 */
typedef struct
{
  gdouble scale_factor;
  gint min_neighbors;
  gint min_width;
  gint min_height;
  gint max_width;
  gint max_height;
  gint max_faces;
} FemoDetectParams;

#define FEMO_DETECT_PARAMS_INIT { 1.1, 3, 30, 30, 0, 0, 0 }

FemoCascade *femo_cascade_new_from_file (const gchar * path, GError ** error);
FemoCascade *femo_cascade_new_from_data (const gchar * xml, gsize length,
    const gchar * name, GError ** error);
FemoCascade *femo_cascade_ref (FemoCascade * cascade);
void femo_cascade_unref (FemoCascade * cascade);
FemoCascadeKind femo_cascade_get_kind (const FemoCascade * cascade);
void femo_cascade_get_window_size (const FemoCascade * cascade,
    gint * width, gint * height);
guint femo_cascade_get_n_stages (const FemoCascade * cascade);
guint femo_cascade_get_n_features (const FemoCascade * cascade);

FemoDetector *femo_detector_new (FemoCascade * cascade, guint n_threads);
void femo_detector_free (FemoDetector * detector);
guint femo_detector_get_n_threads (const FemoDetector * detector);
/* Detects as OpenCV 4.6 detectMultiScale (flags 0) and writes at most
 * @capacity (and at most @params->max_faces) boxes, the largest ones when
 * there are more, sorted by y, x, width, height. Returns how many it wrote.
 * Frames of up to 32768 pixels a side; the scan's memory does not grow with
 * the frame's height. Out of memory (millions of raw windows from a weak
 * cascade on a large frame), it returns 0 and logs a warning.
 * Not thread-safe per detector: one call at a time. */
gsize femo_detector_detect (FemoDetector * detector,
    const FemoImageView * image, const FemoDetectParams * params,
    FemoRect * faces, gsize capacity);
/* The same; out of memory it returns 0 with FEMO_ERROR_NO_MEMORY in @error
 * instead of a warning. */
gsize femo_detector_detect_full (FemoDetector * detector,
    const FemoImageView * image, const FemoDetectParams * params,
    FemoRect * faces, gsize capacity, GError ** error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FemoCascade, femo_cascade_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FemoDetector, femo_detector_free)

G_END_DECLS
