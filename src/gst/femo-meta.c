/* gst-femo: the reader of the metadata contract (see femo-meta.h)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "femo-meta.h"
#include "femo-analytics.h"

#include <string.h>

/* The landmarks' field names, x then y of each, in FemoFaceInfo's order. */
static const gchar *const landmark_fields[2 * FEMO_META_N_LANDMARKS] = {
  FEMO_META_LANDMARK_LEFT_EYE "_x", FEMO_META_LANDMARK_LEFT_EYE "_y",
  FEMO_META_LANDMARK_RIGHT_EYE "_x", FEMO_META_LANDMARK_RIGHT_EYE "_y",
  FEMO_META_LANDMARK_NOSE "_x", FEMO_META_LANDMARK_NOSE "_y",
  FEMO_META_LANDMARK_LEFT_MOUTH "_x", FEMO_META_LANDMARK_LEFT_MOUTH "_y",
  FEMO_META_LANDMARK_RIGHT_MOUTH "_x", FEMO_META_LANDMARK_RIGHT_MOUTH "_y",
};

/* Label and confidence of an emotion structure into @label and
 * @confidence, its classes into @face when given. */
static void
read_emotion (const GstStructure * s, const gchar ** label,
    gdouble * confidence, FemoFaceInfo * face)
{
  const gchar *name_of_label = gst_structure_get_string (s,
      FEMO_META_EMOTION_FIELD_LABEL);
  const gchar *best = NULL;
  gdouble best_p = -1.0;
  gint n = gst_structure_n_fields (s);

  if (!gst_structure_get_double (s, FEMO_META_EMOTION_FIELD_CONFIDENCE,
          confidence))
    *confidence = -1.0;
  for (gint i = 0; i < n; i++) {
    const gchar *field = gst_structure_nth_field_name (s, i);
    const GValue *v = gst_structure_get_value (s, field);
    const gchar *name;
    gdouble p;

    if (!G_VALUE_HOLDS_DOUBLE (v) ||
        strcmp (field, FEMO_META_EMOTION_FIELD_CONFIDENCE) == 0)
      continue;
    /* GStreamer 1.22 keeps field names as quark strings, 1.26 and later in
     * the structure: interned, the names outlive the buffer */
    name = g_intern_string (field);
    p = g_value_get_double (v);
    if (p > best_p) {
      best_p = p;
      best = name;
    }
    if (face && face->n_classes < FEMO_FACE_INFO_MAX_CLASSES) {
      face->class_names[face->n_classes] = name;
      face->probs[face->n_classes++] = p;
    }
  }
  if (name_of_label == NULL) {
    /* the probabilities alone still name the winner */
    *label = best;
    *confidence = best_p;
    return;
  }
  *label = g_intern_string (name_of_label);
  if (*confidence < 0) {
    /* the contract makes the confidence optional: the label's probability */
    const GValue *v = gst_structure_get_value (s, name_of_label);
    if (v && G_VALUE_HOLDS_DOUBLE (v))
      *confidence = g_value_get_double (v);
  }
}

void
femo_face_info_read (FemoFaceInfo * face, GstVideoRegionOfInterestMeta * roi)
{
  const GstStructure *emotion, *raw, *object, *detection, *landmarks;
  gint id;

  memset (face, 0, sizeof (*face));
  face->roi = roi;
  face->type = roi->roi_type;
  face->x = roi->x;
  face->y = roi->y;
  face->width = roi->w;
  face->height = roi->h;
  face->label_id = face->neighbors = -1;
  face->confidence = face->raw_confidence = face->detection_confidence = -1.0;

  emotion = gst_video_region_of_interest_meta_get_param (roi,
      FEMO_META_EMOTION_PARAMS_NAME);
  if (emotion) {
    const GValue *track = gst_structure_get_value (emotion,
        FEMO_META_EMOTION_FIELD_TRACK_ID);

    read_emotion (emotion, &face->label, &face->confidence, face);
    if (!gst_structure_get_int (emotion, FEMO_META_EMOTION_FIELD_LABEL_ID,
            &face->label_id))
      face->label_id = -1;
    if (track && G_VALUE_HOLDS_UINT (track))
      face->track_id = g_value_get_uint (track);
    else if (track && G_VALUE_HOLDS_INT (track))
      face->track_id = MAX (g_value_get_int (track), 0);
  }
  /* A tracker also names the track in an "object_id" structure (DL
   * Streamer's convention). The meta's own id is not used: detectors
   * number their boxes there without tracking anything. */
  object = gst_video_region_of_interest_meta_get_param (roi,
      FEMO_META_OBJECT_ID_PARAMS_NAME);
  if (face->track_id == 0 && object
      && gst_structure_get_int (object, FEMO_META_OBJECT_ID_FIELD_ID, &id)
      && id > 0)
    face->track_id = id;

  raw = gst_video_region_of_interest_meta_get_param (roi,
      FEMO_META_EMOTION_RAW_PARAMS_NAME);
  if (raw)
    read_emotion (raw, &face->raw_label, &face->raw_confidence, NULL);

  detection = gst_video_region_of_interest_meta_get_param (roi,
      FEMO_META_DETECTION_PARAMS_NAME);
  if (detection) {
    face->detected = TRUE;
    if (!gst_structure_get_double (detection,
            FEMO_META_DETECTION_FIELD_CONFIDENCE,
            &face->detection_confidence))
      face->detection_confidence = -1.0;
    if (!gst_structure_get_int (detection,
            FEMO_META_DETECTION_FIELD_NEIGHBORS, &face->neighbors))
      face->neighbors = -1;
  }

  landmarks = gst_video_region_of_interest_meta_get_param (roi,
      FEMO_META_LANDMARKS_PARAMS_NAME);
  face->has_landmarks = landmarks != NULL;
  for (guint k = 0; face->has_landmarks && k < G_N_ELEMENTS (landmark_fields);
      k++)
    face->has_landmarks = gst_structure_get_double (landmarks,
        landmark_fields[k], &face->landmarks[k]);
}

gdouble
femo_face_info_get_prob (const FemoFaceInfo * face, const gchar * class_name)
{
  for (guint k = 0; k < face->n_classes; k++)
    if (strcmp (face->class_names[k], class_name) == 0)
      return face->probs[k];
  return -1.0;
}

static gboolean
has_roi_of_type (GstBuffer * buffer, GQuark type)
{
  gpointer state = NULL;
  GstMeta *meta;

  while ((meta = gst_buffer_iterate_meta_filtered (buffer, &state,
              GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE)))
    if (((GstVideoRegionOfInterestMeta *) meta)->roi_type == type)
      return TRUE;
  return FALSE;
}

/* The iterators' state: a GstMetaItem (aligned, so its low bit is 0) while
 * ROI metas are read, then the id of the next mtd of the relation meta to
 * read, shifted up past a low bit of 1. */
#define STATE_IS_ANALYTICS(state) ((GPOINTER_TO_SIZE (state) & 1) != 0)
#define STATE_ANALYTICS(next_id) GSIZE_TO_POINTER (((gsize) (next_id) << 1) | 1)
#define STATE_NEXT_ID(state) ((guint) (GPOINTER_TO_SIZE (state) >> 1))

/* The next region of type @type (0: any) after @state. */
static gboolean
iterate_regions (GstBuffer * buffer, gpointer * state, FemoFaceInfo * face,
    GQuark type)
{
  guint next_id;
  GstMeta *meta;

  if (!STATE_IS_ANALYTICS (*state)) {
    while ((meta = gst_buffer_iterate_meta_filtered (buffer, state,
                GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
      GstVideoRegionOfInterestMeta *roi =
          (GstVideoRegionOfInterestMeta *) meta;

      if (type == 0 || roi->roi_type == type) {
        femo_face_info_read (face, roi);
        return TRUE;
      }
    }
    *state = STATE_ANALYTICS (0);
  }
  next_id = STATE_NEXT_ID (*state);
  /* ROI metas win: a detection whose type has one is that face again */
  while (femo_analytics_read_detection (buffer, &next_id, face))
    if ((type == 0 || face->type == type)
        && !has_roi_of_type (buffer, face->type)) {
      *state = STATE_ANALYTICS (next_id);
      return TRUE;
    }
  *state = STATE_ANALYTICS (next_id);
  return FALSE;
}

gboolean
femo_buffer_iterate_faces (GstBuffer * buffer, gpointer * state,
    FemoFaceInfo * face)
{
  return iterate_regions (buffer, state, face,
      g_quark_from_static_string (FEMO_META_ROI_TYPE_FACE));
}

gboolean
femo_buffer_iterate_regions (GstBuffer * buffer, gpointer * state,
    FemoFaceInfo * region)
{
  return iterate_regions (buffer, state, region, 0);
}

guint
femo_buffer_get_faces (GstBuffer * buffer, GArray * faces)
{
  gpointer state = NULL;
  FemoFaceInfo face;
  guint n = 0;

  while (femo_buffer_iterate_faces (buffer, &state, &face)) {
    g_array_append_val (faces, face);
    n++;
  }
  return n;
}

GstVideoRegionOfInterestMeta *
femo_meta_add_face (GstBuffer * buffer, guint x, guint y, guint width,
    guint height, gint id)
{
  GstVideoRegionOfInterestMeta *roi;

  roi = gst_buffer_add_video_region_of_interest_meta (buffer,
      FEMO_META_ROI_TYPE_FACE, x, y, width, height);
  /* GStreamer leaves every id 0; numbered, the metas can be fetched with
   * gst_buffer_get_video_region_of_interest_meta_id (Python can't iterate
   * metas). */
  roi->id = id;
  return roi;
}

void
femo_meta_add_detection (GstVideoRegionOfInterestMeta * roi,
    gdouble confidence, gint neighbors, gint frame_width, gint frame_height)
{
  GstStructure *s = gst_structure_new (FEMO_META_DETECTION_PARAMS_NAME,
      FEMO_META_DETECTION_FIELD_LABEL_ID, G_TYPE_INT,
      FEMO_META_DETECTION_LABEL_ID_FACE,
      FEMO_META_DETECTION_FIELD_CONFIDENCE, G_TYPE_DOUBLE, confidence, NULL);

  if (neighbors >= 0)
    gst_structure_set (s, FEMO_META_DETECTION_FIELD_NEIGHBORS, G_TYPE_INT,
        neighbors, NULL);
  gst_structure_set (s,
      FEMO_META_DETECTION_FIELD_X_MIN, G_TYPE_DOUBLE,
      (gdouble) roi->x / frame_width,
      FEMO_META_DETECTION_FIELD_X_MAX, G_TYPE_DOUBLE,
      (gdouble) (roi->x + roi->w) / frame_width,
      FEMO_META_DETECTION_FIELD_Y_MIN, G_TYPE_DOUBLE,
      (gdouble) roi->y / frame_height,
      FEMO_META_DETECTION_FIELD_Y_MAX, G_TYPE_DOUBLE,
      (gdouble) (roi->y + roi->h) / frame_height, NULL);
  gst_video_region_of_interest_meta_add_param (roi, s);
}

GstStructure *
femo_meta_new_landmarks (const gdouble * xy)
{
  GstStructure *s = gst_structure_new_empty (FEMO_META_LANDMARKS_PARAMS_NAME);

  for (guint k = 0; k < G_N_ELEMENTS (landmark_fields); k++)
    gst_structure_set (s, landmark_fields[k], G_TYPE_DOUBLE, xy[k], NULL);
  return s;
}

void
femo_meta_add_landmarks (GstVideoRegionOfInterestMeta * roi,
    const gdouble * xy)
{
  gst_video_region_of_interest_meta_add_param (roi,
      femo_meta_new_landmarks (xy));
}

void
femo_meta_add_object_id (GstVideoRegionOfInterestMeta * roi, gint id)
{
  gst_video_region_of_interest_meta_add_param (roi,
      gst_structure_new (FEMO_META_OBJECT_ID_PARAMS_NAME,
          FEMO_META_OBJECT_ID_FIELD_ID, G_TYPE_INT, id, NULL));
}

GstStructure *
femo_meta_new_emotion (const gchar * params_name,
    const gchar * const *class_names, const gfloat * probs, guint n_classes,
    guint label, guint track_id)
{
  GstStructure *s;
  guint k;

  g_return_val_if_fail (label < n_classes, NULL);

  s = gst_structure_new (params_name,
      FEMO_META_EMOTION_FIELD_LABEL, G_TYPE_STRING, class_names[label],
      FEMO_META_EMOTION_FIELD_LABEL_ID, G_TYPE_INT, (gint) label,
      FEMO_META_EMOTION_FIELD_CONFIDENCE, G_TYPE_DOUBLE,
      (gdouble) probs[label], NULL);
  for (k = 0; k < n_classes; k++)
    gst_structure_set (s, class_names[k], G_TYPE_DOUBLE, (gdouble) probs[k],
        NULL);
  if (track_id != 0)
    gst_structure_set (s, FEMO_META_EMOTION_FIELD_TRACK_ID, G_TYPE_UINT,
        track_id, NULL);
  return s;
}

void
femo_meta_set_emotion (GstVideoRegionOfInterestMeta * roi,
    const gchar * params_name, const gchar * const *class_names,
    const gfloat * probs, guint n_classes, guint label, guint track_id)
{
  GList *l, *next;

  g_return_if_fail (label < n_classes);

  for (l = roi->params; l != NULL; l = next) {
    next = l->next;
    if (gst_structure_has_name (l->data, params_name)) {
      gst_structure_free (l->data);
      roi->params = g_list_delete_link (roi->params, l);
    }
  }
  gst_video_region_of_interest_meta_add_param (roi,
      femo_meta_new_emotion (params_name, class_names, probs, n_classes,
          label, track_id));
}

GstStructure *
femo_meta_new_frame_message (GstClockTime timestamp, GstClockTime stream_time,
    GstClockTime running_time, GstClockTime duration)
{
  GstStructure *s;
  GValue faces = G_VALUE_INIT;

  s = gst_structure_new (FEMO_META_DETECT_MESSAGE_NAME,
      FEMO_META_FIELD_TIMESTAMP, G_TYPE_UINT64, timestamp,
      FEMO_META_FIELD_STREAM_TIME, G_TYPE_UINT64, stream_time,
      FEMO_META_FIELD_RUNNING_TIME, G_TYPE_UINT64, running_time,
      FEMO_META_FIELD_DURATION, G_TYPE_UINT64, duration, NULL);
  g_value_init (&faces, GST_TYPE_LIST);
  gst_structure_take_value (s, FEMO_META_FIELD_FACES, &faces);
  return s;
}

void
femo_meta_frame_message_add_box (GstStructure * message, guint x, guint y,
    guint width, guint height, const GstStructure * emotion, guint track_id)
{
  const GValue *faces = gst_structure_get_value (message,
      FEMO_META_FIELD_FACES);
  GValue face = G_VALUE_INIT;
  GstStructure *f;

  g_return_if_fail (faces != NULL && GST_VALUE_HOLDS_LIST (faces));

  f = gst_structure_new (FEMO_META_FACE_STRUCTURE_NAME,
      FEMO_META_FIELD_X, G_TYPE_UINT, x,
      FEMO_META_FIELD_Y, G_TYPE_UINT, y,
      FEMO_META_FIELD_WIDTH, G_TYPE_UINT, width,
      FEMO_META_FIELD_HEIGHT, G_TYPE_UINT, height, NULL);
  if (emotion != NULL)
    gst_structure_set (f, FEMO_META_FIELD_EMOTION, GST_TYPE_STRUCTURE,
        emotion, NULL);
  if (track_id != 0)
    gst_structure_set (f, FEMO_META_FIELD_TRACK_ID, G_TYPE_UINT, track_id,
        NULL);
  g_value_init (&face, GST_TYPE_STRUCTURE);
  g_value_take_boxed (&face, f);
  gst_value_list_append_and_take_value ((GValue *) faces, &face);
}

void
femo_meta_frame_message_set_detection (GstStructure * message,
    gdouble confidence, const GstStructure * landmarks)
{
  const GValue *faces = gst_structure_get_value (message,
      FEMO_META_FIELD_FACES);
  guint n;
  GstStructure *f;

  g_return_if_fail (faces != NULL && GST_VALUE_HOLDS_LIST (faces));
  n = gst_value_list_get_size (faces);
  g_return_if_fail (n > 0);

  /* the list holds the structure itself: set on it in place */
  f = (GstStructure *) gst_value_get_structure (gst_value_list_get_value
      (faces, n - 1));
  if (confidence >= 0)
    gst_structure_set (f, FEMO_META_FIELD_DETECTION_CONFIDENCE, G_TYPE_DOUBLE,
        confidence, NULL);
  if (landmarks != NULL)
    gst_structure_set (f, FEMO_META_FIELD_LANDMARKS, GST_TYPE_STRUCTURE,
        landmarks, NULL);
}

void
femo_meta_frame_message_add_face (GstStructure * message,
    GstVideoRegionOfInterestMeta * roi, guint track_id)
{
  const GstStructure *detection =
      gst_video_region_of_interest_meta_get_param (roi,
      FEMO_META_DETECTION_PARAMS_NAME);
  gdouble confidence = -1.0;

  femo_meta_frame_message_add_box (message, roi->x, roi->y, roi->w, roi->h,
      gst_video_region_of_interest_meta_get_param (roi,
          FEMO_META_EMOTION_PARAMS_NAME), track_id);
  if (detection == NULL || !gst_structure_get_double (detection,
          FEMO_META_DETECTION_FIELD_CONFIDENCE, &confidence))
    confidence = -1.0;
  femo_meta_frame_message_set_detection (message, confidence,
      gst_video_region_of_interest_meta_get_param (roi,
          FEMO_META_LANDMARKS_PARAMS_NAME));
}

GstStructure *
femo_meta_new_label_changed (guint track_id, const gchar * old_label,
    const gchar * new_label, GstClockTime timestamp, GstClockTime running_time)
{
  return gst_structure_new (FEMO_META_LABEL_CHANGED_MESSAGE_NAME,
      FEMO_META_FIELD_TRACK_ID, G_TYPE_UINT, track_id,
      FEMO_META_FIELD_OLD_LABEL, G_TYPE_STRING, old_label,
      FEMO_META_FIELD_NEW_LABEL, G_TYPE_STRING, new_label,
      FEMO_META_FIELD_TIMESTAMP, G_TYPE_UINT64, timestamp,
      FEMO_META_FIELD_RUNNING_TIME, G_TYPE_UINT64, running_time, NULL);
}

GstStructure *
femo_meta_new_track_ended (guint track_id, GstClockTime first_timestamp,
    GstClockTime last_timestamp, GstClockTime duration, guint frames,
    guint label_changes, const gchar * dominant_label, const gchar * reason)
{
  GstStructure *s = gst_structure_new (FEMO_META_TRACK_ENDED_MESSAGE_NAME,
      FEMO_META_FIELD_TRACK_ID, G_TYPE_UINT, track_id,
      FEMO_META_FIELD_FIRST_TIMESTAMP, G_TYPE_UINT64, first_timestamp,
      FEMO_META_FIELD_LAST_TIMESTAMP, G_TYPE_UINT64, last_timestamp,
      FEMO_META_FIELD_DURATION, G_TYPE_UINT64, duration,
      FEMO_META_FIELD_FRAMES, G_TYPE_UINT, frames,
      FEMO_META_FIELD_LABEL_CHANGES, G_TYPE_UINT, label_changes,
      FEMO_META_FIELD_REASON, G_TYPE_STRING, reason, NULL);

  if (dominant_label != NULL)
    gst_structure_set (s, FEMO_META_FIELD_DOMINANT_LABEL, G_TYPE_STRING,
        dominant_label, NULL);
  return s;
}
