/* gst-femo: femodetect, Haar/LBP face detection as ROI metadata
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * SECTION:element-femodetect
 * @title: femodetect
 * @see_also: facedetect
 *
 * Finds faces with an OpenCV cascade (Haar or LBP, read from OpenCV's XML
 * files; no OpenCV needed) and attaches one #GstVideoRegionOfInterestMeta
 * with roi_type "face" per face to the buffer. With #GstFemoDetect:post-messages
 * it also posts an element message per frame with the same schema as
 * gst-plugins-bad's facedetect (structure name "femodetect"; see
 * <gst/femo/femo-meta.h> for the names of every field).
 *
 * The element never changes a pixel and never copies one: it maps frames
 * read-only and works on the luma plane in place (also the Y samples of
 * packed YUY2/UYVY). Only RGB input is converted to gray first, the way
 * OpenCV's COLOR_RGB2GRAY does, into a buffer sized once per caps.
 *
 * The cascade is loaded when the element goes from READY to PAUSED; a missing
 * or broken file fails that state change with a RESOURCE error that names the
 * file. A #GstFemoDetect:cascade-file set while running is loaded by the
 * streaming thread before the next frame; if it cannot be loaded the element
 * posts a warning and keeps detecting with the cascade it had.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 -m videotestsrc num-buffers=30 ! femodetect ! fakesink
 * ]| Runs on a test pattern and prints the (empty) femodetect messages.
 * |[
 * gst-launch-1.0 -m filesrc location=face.png ! pngdec ! videoconvert \
 *     ! femodetect ! fakesink
 * ]| Prints the faces found in a picture.
 * |[
 * gst-launch-1.0 v4l2src ! videoconvert ! femodetect scale-factor=1.2 \
 *     min-neighbors=5 min-size=60 max-faces=4 ! videoconvert ! autovideosink
 * ]| Detects up to four faces of at least 60x60 pixels in a webcam stream.
 * |[
 * gst-launch-1.0 -m filesrc location=video.mp4 ! decodebin ! femodetect \
 *     cascade-file=/usr/share/opencv4/lbpcascades/lbpcascade_frontalface_improved.xml \
 *     ! fakesink
 * ]| Uses OpenCV's faster LBP cascade.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstfemodetect.h"
#include "femo-meta.h"
#include "femo-cascade.h"
#include "femo-error.h"
#include "femo-image.h"

#include <string.h>

GST_DEBUG_CATEGORY_STATIC (gst_femo_detect_debug);
#define GST_CAT_DEFAULT gst_femo_detect_debug

#define DEFAULT_CASCADE_SUBPATH "haarcascades/haarcascade_frontalface_default.xml"
#define DEFAULT_SCALE_FACTOR 1.1
#define DEFAULT_MIN_NEIGHBORS 3
#define DEFAULT_MIN_SIZE 30
#define DEFAULT_MAX_SIZE 0
#define DEFAULT_MAX_FACES 0
#define DEFAULT_N_THREADS 0
#define DEFAULT_POST_MESSAGES TRUE

#define MAX_THREADS 64          /* libfemo's limit */
/* Room for the faces of one frame, grown when a frame fills it. */
#define INITIAL_FACE_CAPACITY 64
#define MAX_FACE_CAPACITY (1 << 20)

enum
{
  PROP_0,
  PROP_CASCADE_FILE,
  PROP_SCALE_FACTOR,
  PROP_MIN_NEIGHBORS,
  PROP_MIN_SIZE,
  PROP_MAX_SIZE,
  PROP_MAX_FACES,
  PROP_N_THREADS,
  PROP_POST_MESSAGES,
};

struct _GstFemoDetect
{
  GstVideoFilter parent;

  /* Properties, under the object lock. */
  gchar *cascade_file;
  gboolean cascade_file_changed;        /* to be loaded by the streaming thread */
  gdouble scale_factor;
  gint min_neighbors;
  gint min_size;
  gint max_size;
  gint max_faces;
  guint n_threads;
  gboolean post_messages;

  /* Between start and stop, owned by the streaming thread. */
  FemoCascade *cascade;
  FemoDetector *detector;
  guint detector_threads;       /* n-threads it was made with, 0 = all cores */
  FemoRect *faces;
  gsize face_capacity;

  /* From set_info: how to get luma out of a frame. */
  gboolean is_rgb;
  FemoRgbLayout rgb_layout;
  guint8 *gray;                 /* width x height luma of RGB frames */
  gsize gray_size;
};

#define VIDEO_FORMATS "{ GRAY8, I420, YV12, NV12, NV21, Y42B, Y444, Y41B, " \
  "NV16, NV61, NV24, A420, YUY2, UYVY, YVYU, VYUY, RGB, BGR, RGBA, BGRA, " \
  "RGBx, BGRx, xRGB, xBGR, ARGB, ABGR }"

/* libfemo scans images up to 32768 pixels a side. */
#define VIDEO_CAPS "video/x-raw, format = (string) " VIDEO_FORMATS ", " \
  "width = (int) [ 1, 32768 ], height = (int) [ 1, 32768 ], " \
  "framerate = " GST_VIDEO_FPS_RANGE

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK,
    GST_PAD_ALWAYS,
    GST_STATIC_CAPS (VIDEO_CAPS));

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC,
    GST_PAD_ALWAYS,
    GST_STATIC_CAPS (VIDEO_CAPS));

#define gst_femo_detect_parent_class parent_class
G_DEFINE_TYPE (GstFemoDetect, gst_femo_detect, GST_TYPE_VIDEO_FILTER);
GST_ELEMENT_REGISTER_DEFINE (femodetect, "femodetect", GST_RANK_NONE,
    GST_TYPE_FEMO_DETECT);

/* Resolved once, when the class is made: FEMO_CASCADE_DIR from the
 * environment wins over the build-time directory. */
static gchar *default_cascade_file;

static void gst_femo_detect_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_femo_detect_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static void gst_femo_detect_finalize (GObject * object);
static gboolean gst_femo_detect_start (GstBaseTransform * trans);
static gboolean gst_femo_detect_stop (GstBaseTransform * trans);
static GstFlowReturn gst_femo_detect_transform_ip (GstBaseTransform * trans,
    GstBuffer * buf);
static gboolean gst_femo_detect_set_info (GstVideoFilter * filter,
    GstCaps * incaps, GstVideoInfo * in_info, GstCaps * outcaps,
    GstVideoInfo * out_info);

static gchar *
gst_femo_detect_make_default_cascade_file (void)
{
  const gchar *dir = g_getenv ("FEMO_CASCADE_DIR");

  if (dir == NULL || *dir == '\0')
    dir = FEMO_CASCADE_DIR;
  return g_build_filename (dir, DEFAULT_CASCADE_SUBPATH, NULL);
}

static void
gst_femo_detect_class_init (GstFemoDetectClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);
  GstVideoFilterClass *vfilter_class = GST_VIDEO_FILTER_CLASS (klass);
  const GParamFlags flags = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_PLAYING;

  GST_DEBUG_CATEGORY_INIT (gst_femo_detect_debug, "femodetect", 0,
      "femo face detector");

  default_cascade_file = gst_femo_detect_make_default_cascade_file ();

  gobject_class->set_property = gst_femo_detect_set_property;
  gobject_class->get_property = gst_femo_detect_get_property;
  gobject_class->finalize = gst_femo_detect_finalize;

  /**
   * GstFemoDetect:cascade-file:
   *
   * The OpenCV cascade XML (Haar or LBP) to detect faces with. Setting it
   * while running loads it before the next frame; a file that fails to load
   * then posts a warning and the previous cascade stays in use.
   */
  g_object_class_install_property (gobject_class, PROP_CASCADE_FILE,
      g_param_spec_string ("cascade-file", "Cascade file",
          "OpenCV face cascade XML, Haar or LBP (default: "
          "$FEMO_CASCADE_DIR/" DEFAULT_CASCADE_SUBPATH ", FEMO_CASCADE_DIR "
          "defaulting to " FEMO_CASCADE_DIR "). Set while running, it is "
          "loaded before the next frame; if that fails a warning is posted "
          "and the previous cascade stays in use", default_cascade_file,
          flags));
  g_object_class_install_property (gobject_class, PROP_SCALE_FACTOR,
      g_param_spec_double ("scale-factor", "Scale factor",
          "Ratio between two scanned face sizes (OpenCV scaleFactor); "
          "smaller finds more faces, more slowly", 1.01, 10.0,
          DEFAULT_SCALE_FACTOR, flags));
  g_object_class_install_property (gobject_class, PROP_MIN_NEIGHBORS,
      g_param_spec_int ("min-neighbors", "Minimum neighbors",
          "How many overlapping raw detections a face needs (OpenCV "
          "minNeighbors); 0 reports every raw window", 0, 1000,
          DEFAULT_MIN_NEIGHBORS, flags));
  g_object_class_install_property (gobject_class, PROP_MIN_SIZE,
      g_param_spec_int ("min-size", "Minimum size",
          "Smallest face to find, in pixels (width and height; OpenCV "
          "minSize)", 0, G_MAXINT, DEFAULT_MIN_SIZE, flags));
  g_object_class_install_property (gobject_class, PROP_MAX_SIZE,
      g_param_spec_int ("max-size", "Maximum size",
          "Largest face to find, in pixels (width and height; OpenCV "
          "maxSize); 0 = no limit", 0, G_MAXINT, DEFAULT_MAX_SIZE, flags));
  g_object_class_install_property (gobject_class, PROP_MAX_FACES,
      g_param_spec_int ("max-faces", "Maximum faces",
          "Report at most this many faces per frame, the largest ones; "
          "0 = no limit", 0, G_MAXINT, DEFAULT_MAX_FACES, flags));
  g_object_class_install_property (gobject_class, PROP_N_THREADS,
      g_param_spec_uint ("n-threads", "Threads",
          "Threads that scan one frame; 0 = one per CPU core", 0, MAX_THREADS,
          DEFAULT_N_THREADS, flags));
  g_object_class_install_property (gobject_class, PROP_POST_MESSAGES,
      g_param_spec_boolean ("post-messages", "Post messages",
          "Post a \"" FEMO_META_DETECT_MESSAGE_NAME "\" element message with "
          "the faces of every frame (same schema as facedetect's message)",
          DEFAULT_POST_MESSAGES, flags));

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class, "Face detector",
      "Filter/Analyzer/Video",
      "Finds faces with an OpenCV Haar or LBP cascade and attaches them as "
      "region-of-interest metadata", "gst-femo developers");

  trans_class->start = GST_DEBUG_FUNCPTR (gst_femo_detect_start);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_femo_detect_stop);
  /* Our own transform_ip, not GstVideoFilter's: that one maps the frame
   * writable, which copies the pixels of a shared buffer. */
  trans_class->transform_ip = GST_DEBUG_FUNCPTR (gst_femo_detect_transform_ip);
  vfilter_class->set_info = GST_DEBUG_FUNCPTR (gst_femo_detect_set_info);
}

static void
gst_femo_detect_init (GstFemoDetect * self)
{
  self->cascade_file = g_strdup (default_cascade_file);
  self->scale_factor = DEFAULT_SCALE_FACTOR;
  self->min_neighbors = DEFAULT_MIN_NEIGHBORS;
  self->min_size = DEFAULT_MIN_SIZE;
  self->max_size = DEFAULT_MAX_SIZE;
  self->max_faces = DEFAULT_MAX_FACES;
  self->n_threads = DEFAULT_N_THREADS;
  self->post_messages = DEFAULT_POST_MESSAGES;

  /* Metadata only: the buffer goes through in place (basetransform makes it
   * writable, a shallow copy at most) and no pixel is written. */
  gst_base_transform_set_in_place (GST_BASE_TRANSFORM (self), TRUE);
}

static void
gst_femo_detect_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstFemoDetect *self = GST_FEMO_DETECT (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_CASCADE_FILE:{
      const gchar *path = g_value_get_string (value);

      g_free (self->cascade_file);
      self->cascade_file = g_strdup (path ? path : default_cascade_file);
      self->cascade_file_changed = TRUE;
      break;
    }
    case PROP_SCALE_FACTOR:
      self->scale_factor = g_value_get_double (value);
      break;
    case PROP_MIN_NEIGHBORS:
      self->min_neighbors = g_value_get_int (value);
      break;
    case PROP_MIN_SIZE:
      self->min_size = g_value_get_int (value);
      break;
    case PROP_MAX_SIZE:
      self->max_size = g_value_get_int (value);
      break;
    case PROP_MAX_FACES:
      self->max_faces = g_value_get_int (value);
      break;
    case PROP_N_THREADS:
      self->n_threads = g_value_get_uint (value);
      break;
    case PROP_POST_MESSAGES:
      self->post_messages = g_value_get_boolean (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_femo_detect_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstFemoDetect *self = GST_FEMO_DETECT (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_CASCADE_FILE:
      g_value_set_string (value, self->cascade_file);
      break;
    case PROP_SCALE_FACTOR:
      g_value_set_double (value, self->scale_factor);
      break;
    case PROP_MIN_NEIGHBORS:
      g_value_set_int (value, self->min_neighbors);
      break;
    case PROP_MIN_SIZE:
      g_value_set_int (value, self->min_size);
      break;
    case PROP_MAX_SIZE:
      g_value_set_int (value, self->max_size);
      break;
    case PROP_MAX_FACES:
      g_value_set_int (value, self->max_faces);
      break;
    case PROP_N_THREADS:
      g_value_set_uint (value, self->n_threads);
      break;
    case PROP_POST_MESSAGES:
      g_value_set_boolean (value, self->post_messages);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_femo_detect_clear_cascade (GstFemoDetect * self)
{
  /* The detector may point into the cascade: free it first. */
  g_clear_pointer (&self->detector, femo_detector_free);
  g_clear_pointer (&self->cascade, femo_cascade_unref);
}

/* libfemo's messages usually name the file already. */
static gchar *
cascade_error_text (const gchar * path, const GError * error)
{
  if (strstr (error->message, path) != NULL)
    return g_strdup_printf ("Could not load the face cascade: %s",
        error->message);
  return g_strdup_printf ("Could not load the face cascade \"%s\": %s", path,
      error->message);
}

/* Replaces the cascade and detector only when @path loads. */
static gboolean
gst_femo_detect_load_cascade (GstFemoDetect * self, const gchar * path,
    guint n_threads, GError ** error)
{
  FemoCascade *cascade;

  cascade = femo_cascade_new_from_file (path, error);
  if (cascade == NULL)
    return FALSE;

  gst_femo_detect_clear_cascade (self);
  self->cascade = cascade;
  self->detector_threads = n_threads;
  self->detector = femo_detector_new (cascade, n_threads);
  GST_INFO_OBJECT (self, "loaded %s cascade %s, %u threads",
      femo_cascade_get_kind (cascade) == FEMO_CASCADE_LBP ? "LBP" : "Haar",
      path, femo_detector_get_n_threads (self->detector));
  return TRUE;
}

static gboolean
gst_femo_detect_start (GstBaseTransform * trans)
{
  GstFemoDetect *self = GST_FEMO_DETECT (trans);
  GError *error = NULL;
  gchar *path;
  guint n_threads;
  gboolean ok;

  GST_OBJECT_LOCK (self);
  path = g_strdup (self->cascade_file);
  n_threads = self->n_threads;
  self->cascade_file_changed = FALSE;
  GST_OBJECT_UNLOCK (self);

  ok = gst_femo_detect_load_cascade (self, path, n_threads, &error);
  if (!ok) {
    gchar *text = cascade_error_text (path, error);

    if (g_error_matches (error, FEMO_ERROR, FEMO_ERROR_IO))
      GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ, ("%s", text),
          ("cascade-file=%s", path));
    else
      GST_ELEMENT_ERROR (self, RESOURCE, READ, ("%s", text),
          ("cascade-file=%s", path));
    g_free (text);
    g_error_free (error);
  } else {
    self->face_capacity = INITIAL_FACE_CAPACITY;
    self->faces = g_new (FemoRect, self->face_capacity);
  }
  g_free (path);
  return ok;
}

static gboolean
gst_femo_detect_stop (GstBaseTransform * trans)
{
  GstFemoDetect *self = GST_FEMO_DETECT (trans);

  gst_femo_detect_clear_cascade (self);
  g_clear_pointer (&self->faces, g_free);
  self->face_capacity = 0;
  /* self->gray stays: GstVideoFilter keeps its negotiated info across a
   * restart, so it is freed in finalize. */
  return TRUE;
}

static void
gst_femo_detect_finalize (GObject * object)
{
  GstFemoDetect *self = GST_FEMO_DETECT (object);

  gst_femo_detect_clear_cascade (self);
  g_free (self->faces);
  g_free (self->gray);
  g_free (self->cascade_file);

  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static gboolean
gst_femo_detect_set_info (GstVideoFilter * filter, GstCaps * incaps,
    GstVideoInfo * in_info, GstCaps * outcaps, GstVideoInfo * out_info)
{
  GstFemoDetect *self = GST_FEMO_DETECT (filter);

  self->is_rgb = GST_VIDEO_INFO_IS_RGB (in_info);
  if (self->is_rgb) {
    gsize size = (gsize) GST_VIDEO_INFO_WIDTH (in_info) *
        GST_VIDEO_INFO_HEIGHT (in_info);

    self->rgb_layout.bytes_per_pixel =
        GST_VIDEO_INFO_COMP_PSTRIDE (in_info, GST_VIDEO_COMP_R);
    self->rgb_layout.r_offset =
        GST_VIDEO_INFO_COMP_POFFSET (in_info, GST_VIDEO_COMP_R);
    self->rgb_layout.g_offset =
        GST_VIDEO_INFO_COMP_POFFSET (in_info, GST_VIDEO_COMP_G);
    self->rgb_layout.b_offset =
        GST_VIDEO_INFO_COMP_POFFSET (in_info, GST_VIDEO_COMP_B);
    if (size > self->gray_size) {
      g_free (self->gray);
      self->gray = g_malloc (size);
      self->gray_size = size;
    }
  }
  GST_DEBUG_OBJECT (self, "%s %dx%d", GST_VIDEO_INFO_NAME (in_info),
      GST_VIDEO_INFO_WIDTH (in_info), GST_VIDEO_INFO_HEIGHT (in_info));
  return TRUE;
}

/* Points @view at the frame's luma: the Y plane or the Y samples of a packed
 * format as they are, RGB converted into self->gray. */
static void
gst_femo_detect_get_luma (GstFemoDetect * self, GstVideoFrame * frame,
    FemoImageView * view)
{
  gint width = GST_VIDEO_FRAME_WIDTH (frame);
  gint height = GST_VIDEO_FRAME_HEIGHT (frame);

  view->width = width;
  view->height = height;
  if (self->is_rgb) {
    femo_rgb_to_gray (GST_VIDEO_FRAME_PLANE_DATA (frame, 0),
        GST_VIDEO_FRAME_PLANE_STRIDE (frame, 0), &self->rgb_layout,
        width, height, self->gray, width);
    view->data = self->gray;
    view->stride = width;
    view->pixel_stride = 1;
  } else {
    view->data = GST_VIDEO_FRAME_COMP_DATA (frame, GST_VIDEO_COMP_Y);
    view->stride = GST_VIDEO_FRAME_COMP_STRIDE (frame, GST_VIDEO_COMP_Y);
    view->pixel_stride = GST_VIDEO_FRAME_COMP_PSTRIDE (frame, GST_VIDEO_COMP_Y);
  }
}

/* Runs the detector into self->faces. libfemo keeps the largest boxes when
 * they do not fit, so a full array may have lost some: grow it and run again
 * (rare: the array keeps its size afterwards). */
static gsize
gst_femo_detect_run (GstFemoDetect * self, const FemoImageView * view,
    const FemoDetectParams * params)
{
  gsize n;

  for (;;) {
    n = femo_detector_detect (self->detector, view, params, self->faces,
        self->face_capacity);
    if (n < self->face_capacity || self->face_capacity >= MAX_FACE_CAPACITY
        || (params->max_faces > 0
            && (gsize) params->max_faces <= self->face_capacity))
      break;
    self->face_capacity *= 2;
    self->faces = g_renew (FemoRect, self->faces, self->face_capacity);
    GST_DEBUG_OBJECT (self, "room for %" G_GSIZE_FORMAT " faces now",
        self->face_capacity);
  }
  return n;
}

static void
gst_femo_detect_post_message (GstFemoDetect * self, GstBuffer * buf,
    gsize n_faces)
{
  GstSegment *segment = &GST_BASE_TRANSFORM (self)->segment;
  GstClockTime timestamp = GST_BUFFER_PTS (buf);
  GstClockTime running_time = GST_CLOCK_TIME_NONE;
  GstClockTime stream_time = GST_CLOCK_TIME_NONE;
  GValue faces = G_VALUE_INIT;
  GstStructure *s;
  gsize i;

  if (segment->format == GST_FORMAT_TIME) {
    running_time = gst_segment_to_running_time (segment, GST_FORMAT_TIME,
        timestamp);
    stream_time = gst_segment_to_stream_time (segment, GST_FORMAT_TIME,
        timestamp);
  }

  g_value_init (&faces, GST_TYPE_LIST);
  for (i = 0; i < n_faces; i++) {
    const FemoRect *r = &self->faces[i];
    GValue face = G_VALUE_INIT;

    g_value_init (&face, GST_TYPE_STRUCTURE);
    g_value_take_boxed (&face, gst_structure_new (FEMO_META_FACE_STRUCTURE_NAME,
            FEMO_META_FIELD_X, G_TYPE_UINT, (guint) r->x,
            FEMO_META_FIELD_Y, G_TYPE_UINT, (guint) r->y,
            FEMO_META_FIELD_WIDTH, G_TYPE_UINT, (guint) r->width,
            FEMO_META_FIELD_HEIGHT, G_TYPE_UINT, (guint) r->height, NULL));
    gst_value_list_append_and_take_value (&faces, &face);
  }

  s = gst_structure_new (FEMO_META_DETECT_MESSAGE_NAME,
      FEMO_META_FIELD_TIMESTAMP, G_TYPE_UINT64, timestamp,
      FEMO_META_FIELD_STREAM_TIME, G_TYPE_UINT64, stream_time,
      FEMO_META_FIELD_RUNNING_TIME, G_TYPE_UINT64, running_time,
      FEMO_META_FIELD_DURATION, G_TYPE_UINT64, GST_BUFFER_DURATION (buf), NULL);
  gst_structure_take_value (s, FEMO_META_FIELD_FACES, &faces);
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self), s));
}

/* Streaming thread: applies a cascade-file or n-threads change made while
 * running. A cascade that fails to load leaves the running one in place. */
static void
gst_femo_detect_apply_changes (GstFemoDetect * self, gchar * new_cascade,
    guint n_threads)
{
  if (new_cascade != NULL) {
    GError *error = NULL;

    if (!gst_femo_detect_load_cascade (self, new_cascade, n_threads, &error)) {
      gchar *text = cascade_error_text (new_cascade, error);

      GST_ELEMENT_WARNING (self, RESOURCE, READ,
          ("%s; keeping the previous one", text),
          ("cascade-file=%s", new_cascade));
      g_free (text);
      g_error_free (error);
    }
  }
  if (n_threads != self->detector_threads) {
    g_clear_pointer (&self->detector, femo_detector_free);
    self->detector_threads = n_threads;
    self->detector = femo_detector_new (self->cascade, n_threads);
  }
}

static GstFlowReturn
gst_femo_detect_transform_ip (GstBaseTransform * trans, GstBuffer * buf)
{
  GstFemoDetect *self = GST_FEMO_DETECT (trans);
  GstVideoFilter *filter = GST_VIDEO_FILTER (trans);
  FemoDetectParams params = FEMO_DETECT_PARAMS_INIT;
  GstVideoFrame frame;
  FemoImageView view;
  gchar *new_cascade = NULL;
  gboolean post_messages;
  guint n_threads;
  gsize n_faces, i;

  if (G_UNLIKELY (!filter->negotiated))
    goto not_negotiated;

  GST_OBJECT_LOCK (self);
  params.scale_factor = self->scale_factor;
  params.min_neighbors = self->min_neighbors;
  params.min_width = params.min_height = self->min_size;
  params.max_width = params.max_height = self->max_size;
  params.max_faces = self->max_faces;
  post_messages = self->post_messages;
  n_threads = self->n_threads;
  if (self->cascade_file_changed) {
    new_cascade = g_strdup (self->cascade_file);
    self->cascade_file_changed = FALSE;
  }
  GST_OBJECT_UNLOCK (self);

  gst_femo_detect_apply_changes (self, new_cascade, n_threads);
  g_free (new_cascade);

  if (!gst_video_frame_map (&frame, &filter->in_info, buf,
          GST_MAP_READ | GST_VIDEO_FRAME_MAP_FLAG_NO_REF))
    goto map_failed;
  gst_femo_detect_get_luma (self, &frame, &view);
  n_faces = gst_femo_detect_run (self, &view, &params);
  gst_video_frame_unmap (&frame);

  GST_LOG_OBJECT (self, "%" G_GSIZE_FORMAT " faces in %" GST_PTR_FORMAT,
      n_faces, buf);

  /* libfemo clips the boxes to the frame: they fit the unsigned fields. */
  for (i = 0; i < n_faces; i++) {
    const FemoRect *r = &self->faces[i];

    gst_buffer_add_video_region_of_interest_meta (buf,
        FEMO_META_ROI_TYPE_FACE, r->x, r->y, r->width, r->height);
  }

  if (post_messages)
    gst_femo_detect_post_message (self, buf, n_faces);

  return GST_FLOW_OK;

  /* ERRORS */
not_negotiated:
  {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION, (NULL), ("buffer before caps"));
    return GST_FLOW_NOT_NEGOTIATED;
  }
map_failed:
  {
    GST_ELEMENT_ERROR (self, STREAM, FAILED, (NULL),
        ("could not map %" GST_PTR_FORMAT " as %s %dx%d", buf,
            GST_VIDEO_INFO_NAME (&filter->in_info),
            GST_VIDEO_INFO_WIDTH (&filter->in_info),
            GST_VIDEO_INFO_HEIGHT (&filter->in_info)));
    return GST_FLOW_ERROR;
  }
}
