/* gst-femo: faces in GStreamer's GstAnalyticsRelationMeta (1.24+)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The writer (femo-meta.h's femo_meta_*_analytics_* functions) and the
 * reader behind femo_buffer_iterate_faces(). The mapping to the ROI metas
 * is femo-meta.h's table. Relations go from the object detection to what
 * describes it (RELATE_TO), as upstream's tensor decoders and trackers
 * write them and objectdetectionoverlay reads them.
 *
 * A relation meta may come from any element, so what is read is checked:
 * boxes are cut to non-negative coordinates and skipped without area,
 * detections and classes without a name (or an empty one) are skipped,
 * levels are clamped to 0..1 (NaN dropped), and track ids femo cannot
 * represent read as none.
 */
#include "femo-analytics.h"

#include <gst/analytics/analytics.h>
#include <math.h>
#include <string.h>

gboolean
femo_meta_has_analytics (void)
{
  return TRUE;
}

static GQuark
face_quark (void)
{
  return g_quark_from_static_string (FEMO_META_ROI_TYPE_FACE);
}

static gint
to_gint (guint v)
{
  return (gint) MIN (v, (guint) G_MAXINT);
}

gint
femo_meta_add_analytics_face (GstBuffer * buffer, guint x, guint y,
    guint width, guint height, gdouble confidence)
{
  GstAnalyticsRelationMeta *rmeta;
  GstAnalyticsODMtd od;

  rmeta = gst_buffer_get_analytics_relation_meta (buffer);
  if (rmeta == NULL)
    rmeta = gst_buffer_add_analytics_relation_meta (buffer);
  if (rmeta == NULL || !gst_analytics_relation_meta_add_od_mtd (rmeta,
          face_quark (), to_gint (x), to_gint (y), to_gint (width),
          to_gint (height), CLAMP (confidence, 0.0, 1.0), &od))
    return -1;
  return od.id;
}

gint
femo_meta_find_analytics_face (GstBuffer * buffer, guint x, guint y,
    guint width, guint height)
{
  GstAnalyticsRelationMeta *rmeta = gst_buffer_get_analytics_relation_meta
      (buffer);
  gsize n = rmeta ? gst_analytics_relation_get_length (rmeta) : 0;

  for (guint id = 0; id < n; id++) {
    GstAnalyticsODMtd od;
    gint ox, oy, ow, oh;

    if (gst_analytics_relation_meta_get_od_mtd (rmeta, id, &od)
        && gst_analytics_od_mtd_get_obj_type (&od) == face_quark ()
        && gst_analytics_od_mtd_get_location (&od, &ox, &oy, &ow, &oh, NULL)
        && ox == to_gint (x) && oy == to_gint (y) && ow == to_gint (width)
        && oh == to_gint (height))
      return id;
  }
  return -1;
}

/* The relation meta of @buffer when @face_id is an object detection in it. */
static GstAnalyticsRelationMeta *
face_relation_meta (GstBuffer * buffer, guint face_id)
{
  GstAnalyticsRelationMeta *rmeta = gst_buffer_get_analytics_relation_meta
      (buffer);
  GstAnalyticsODMtd od;

  g_return_val_if_fail (rmeta != NULL
      && face_id < gst_analytics_relation_get_length (rmeta)
      && gst_analytics_relation_meta_get_od_mtd (rmeta, face_id, &od), NULL);
  return rmeta;
}

gboolean
femo_meta_add_analytics_emotion (GstBuffer * buffer, guint face_id,
    const gchar * const *class_names, const gfloat * probs, guint n_classes,
    guint label)
{
  GstAnalyticsRelationMeta *rmeta = face_relation_meta (buffer, face_id);
  GstAnalyticsClsMtd cls;
  GQuark *classes;
  gfloat *levels;
  gboolean ok;
  guint j = 1;

  g_return_val_if_fail (label < n_classes, FALSE);
  if (rmeta == NULL)
    return FALSE;

  /* entry 0 is what objectdetectionoverlay draws: the shown label */
  classes = g_new (GQuark, n_classes);
  levels = g_new (gfloat, n_classes);
  classes[0] = g_quark_from_string (class_names[label]);
  levels[0] = probs[label];
  for (guint k = 0; k < n_classes; k++) {
    if (k == label)
      continue;
    classes[j] = g_quark_from_string (class_names[k]);
    levels[j++] = probs[k];
  }
  ok = gst_analytics_relation_meta_add_cls_mtd (rmeta, n_classes, levels,
      classes, &cls)
      && gst_analytics_relation_meta_set_relation (rmeta,
      GST_ANALYTICS_REL_TYPE_RELATE_TO, face_id, cls.id);
  g_free (classes);
  g_free (levels);
  return ok;
}

gboolean
femo_meta_add_analytics_track (GstBuffer * buffer, guint face_id,
    guint64 track_id, GstClockTime first_seen, GstClockTime last_seen)
{
  GstAnalyticsRelationMeta *rmeta = face_relation_meta (buffer, face_id);
  GstAnalyticsTrackingMtd track;

  return rmeta != NULL
      && gst_analytics_relation_meta_add_tracking_mtd (rmeta, track_id,
      first_seen, &track)
      && gst_analytics_tracking_mtd_update_last_seen (&track, last_seen)
      && gst_analytics_relation_meta_set_relation (rmeta,
      GST_ANALYTICS_REL_TYPE_RELATE_TO, face_id, track.id);
}

/* A name another element gave a class or a detection: NULL when it has
 * none (quark 0, the empty string or no quark at all). */
static const gchar *
read_name (GQuark quark)
{
  const gchar *name = g_quark_to_string (quark);

  return name != NULL && *name != '\0' ? name : NULL;
}

/* A confidence level another element wrote, as a probability: -1 (none)
 * for NaN. */
static gdouble
read_level (gfloat level)
{
  return isnan (level) ? -1.0 : CLAMP (level, 0.0f, 1.0f);
}

/* The last classification related from the detection @od_id (a later
 * classifier's, e.g. femodetect detect=false after a detector that
 * classified). */
static void
read_classification (GstAnalyticsRelationMeta * rmeta, guint od_id,
    FemoFaceInfo * face)
{
  GstAnalyticsClsMtd cls, last;
  gpointer state = NULL;
  gboolean found = FALSE;
  gsize n;

  while (gst_analytics_relation_meta_get_direct_related (rmeta, od_id,
          GST_ANALYTICS_REL_TYPE_ANY, gst_analytics_cls_mtd_get_mtd_type (),
          &state, &cls)) {
    last = cls;
    found = TRUE;
  }
  if (!found)
    return;
  n = gst_analytics_cls_mtd_get_length (&last);
  for (gsize k = 0; k < n && face->n_classes < FEMO_FACE_INFO_MAX_CLASSES;
      k++) {
    const gchar *name = read_name (gst_analytics_cls_mtd_get_quark (&last,
            k));
    gdouble p = read_level (gst_analytics_cls_mtd_get_level (&last, k));

    if (name == NULL || p < 0)
      continue;
    face->class_names[face->n_classes] = name;
    face->probs[face->n_classes++] = p;
  }
  if (face->n_classes > 0) {
    face->label = face->class_names[0];
    face->confidence = face->probs[0];
  }
}

static void
read_track (GstAnalyticsRelationMeta * rmeta, guint od_id, FemoFaceInfo * face)
{
  GstAnalyticsTrackingMtd track;
  guint64 id;

  /* femo's track ids are 1..G_MAXUINT, 0 meaning none */
  if (gst_analytics_relation_meta_get_direct_related (rmeta, od_id,
          GST_ANALYTICS_REL_TYPE_ANY,
          gst_analytics_tracking_mtd_get_mtd_type (), NULL, &track)
      && gst_analytics_tracking_mtd_get_info (&track, &id, NULL, NULL, NULL)
      && id >= 1 && id <= G_MAXUINT)
    face->track_id = id;
}

gboolean
femo_analytics_read_detection (GstBuffer * buffer, guint * next_id,
    FemoFaceInfo * face)
{
  GstAnalyticsRelationMeta *rmeta = gst_buffer_get_analytics_relation_meta
      (buffer);
  gsize n = rmeta ? gst_analytics_relation_get_length (rmeta) : 0;

  for (guint id = *next_id; id < n; id++) {
    GstAnalyticsODMtd od;
    gint x, y, w, h;
    gint64 x0, y0, x1, y1;
    gfloat level;
    GQuark type;

    if (!gst_analytics_relation_meta_get_od_mtd (rmeta, id, &od)
        || !gst_analytics_od_mtd_get_location (&od, &x, &y, &w, &h, &level))
      continue;
    type = gst_analytics_od_mtd_get_obj_type (&od);
    x0 = MAX (x, 0);
    y0 = MAX (y, 0);
    x1 = (gint64) x + w;
    y1 = (gint64) y + h;
    if (x1 <= x0 || y1 <= y0 || read_name (type) == NULL)
      continue;

    memset (face, 0, sizeof (*face));
    face->analytics = (GstMeta *) rmeta;
    face->analytics_id = id;
    face->type = type;
    face->x = x0;
    face->y = y0;
    face->width = x1 - x0;
    face->height = y1 - y0;
    face->label_id = face->neighbors = -1;
    face->confidence = face->raw_confidence = -1.0;
    face->detected = TRUE;
    face->detection_confidence = read_level (level);
    read_classification (rmeta, id, face);
    read_track (rmeta, id, face);
    *next_id = id + 1;
    return TRUE;
  }
  *next_id = MAX (*next_id, n);
  return FALSE;
}
