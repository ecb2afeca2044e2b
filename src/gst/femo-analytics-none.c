/* gst-femo: libgstfemo-1.0 built without gstreamer-analytics-1.0
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * GStreamer before 1.24 has no GstAnalyticsRelationMeta: nothing to read,
 * and the writer says so (femo_meta_has_analytics()).
 */
#include "femo-analytics.h"

gboolean
femo_analytics_read_detection (GstBuffer * buffer, guint * next_id,
    FemoFaceInfo * face)
{
  return FALSE;
}

gboolean
femo_meta_has_analytics (void)
{
  return FALSE;
}

gint
femo_meta_add_analytics_face (GstBuffer * buffer, guint x, guint y,
    guint width, guint height, gdouble confidence)
{
  return -1;
}

gint
femo_meta_find_analytics_face (GstBuffer * buffer, guint x, guint y,
    guint width, guint height)
{
  return -1;
}

gboolean
femo_meta_add_analytics_emotion (GstBuffer * buffer, guint face_id,
    const gchar * const *class_names, const gfloat * probs, guint n_classes,
    guint label)
{
  return FALSE;
}

gboolean
femo_meta_add_analytics_track (GstBuffer * buffer, guint face_id,
    guint64 track_id, GstClockTime first_seen, GstClockTime last_seen)
{
  return FALSE;
}
