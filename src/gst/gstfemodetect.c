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
 * with roi_type "face" per face to the buffer, then tells the emotion of
 * each face with the mini-Xception network (#GstFemoDetect:model-file).
 * With #GstFemoDetect:post-messages it also posts an element message per
 * frame with the same schema as gst-plugins-bad's facedetect (structure name
 * "femodetect"; see <gst/femo/femo-meta.h> for the names of every field).
 *
 * Each face's ROI meta carries two param structures: "femo/emotion" (label,
 * label_id, confidence and one probability per class of the model) and
 * "detection" (DL Streamer's convention: label_id, confidence, the box
 * normalised to 0..1, and the cascade's neighbour count). Each face of the
 * message has a field "emotion" with a copy of its "femo/emotion".
 *
 * The network sees a square crop (square on the display: the pixel aspect
 * ratio of the caps is respected) centred on the box and
 * #GstFemoDetect:crop-margin larger on each side, its luma resampled to
 * 48x48; all faces of a frame go through the network in one batch. Elements
 * that use the same model file share one loaded copy of it.
 *
 * With #GstFemoDetect:detect=false the cascade is not run: the element
 * classifies the "face" ROI metas already on the buffer (from facedetect or
 * any other detector). With #GstFemoDetect:classify=false the model is never
 * loaded and no "femo/emotion" is attached. With both false the element
 * passes buffers through untouched and posts nothing.
 *
 * The element never changes a pixel and never copies one: it maps frames
 * read-only and works on the luma plane in place (also the Y samples of
 * packed YUY2/UYVY). Only RGB input is converted to gray first, the way
 * OpenCV's COLOR_RGB2GRAY does, into a buffer sized once per caps.
 *
 * The cascade (when detecting) and the model (when classifying) are loaded
 * when the element goes from READY to PAUSED; a missing or broken file fails
 * that state change with a RESOURCE error that names the file. A
 * #GstFemoDetect:cascade-file or #GstFemoDetect:model-file set while running
 * (or detect / classify switched on) is loaded by the streaming thread
 * before the next frame; if it cannot be loaded the element posts a warning
 * and keeps the cascade or model it had.
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
 *     min-neighbors=5 min-size=60 max-faces=4 ! femooverlay ! videoconvert \
 *     ! autovideosink
 * ]| Shows up to four faces of at least 60x60 pixels of a webcam stream
 * with their emotions.
 * |[
 * gst-launch-1.0 -m filesrc location=face.png ! pngdec ! videoconvert \
 *     ! facedetect display=false ! videoconvert ! femodetect detect=false \
 *     ! fakesink
 * ]| Classifies the faces that facedetect found.
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
#include "femo-face-crop.h"
#include "femo-image.h"
#include "femo-model-cache.h"
#include "femo-net.h"

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
#define DEFAULT_MODEL_NAME "fer2013-mini-xception.safetensors"
#define DEFAULT_CLASSIFY TRUE
#define DEFAULT_DETECT TRUE
/* Chosen with tests/bench/bench-crop-margin.c: 124 faces the Haar cascade
 * (sf 1.1, mn 5) finds in the 40 gray pictures of the shared media set and
 * 11 frames of its videos, cropped at each margin, against FER2013's
 * Training faces (checkpoint model of 62% accuracy):
 *   margin  -0.05  0      0.025  0.05   0.1    0.15   0.2    0.3
 *   mcorr   0.874  0.931  0.932  0.915  0.830  0.703  0.568  0.354
 *   corr    0.412  0.423  0.412  0.393  0.337  0.273  0.214  0.131
 *   maxp    0.662  0.677  0.683  0.697  0.704  0.708  0.679  0.613
 * mcorr: correlation of the mean crop with the mean FER2013 face (framing
 * of the average face); corr: mean correlation of each crop with it; maxp:
 * the model's mean top probability. The framing matches FER2013 best at
 * 0..0.025 (the cascade's box is about FER2013's face); the model is a
 * little more confident with more context, up to 0.15, but confidence is
 * not accuracy and changes with the model. */
#define DEFAULT_CROP_MARGIN 0.025
#define MIN_CROP_MARGIN -0.4
#define MAX_CROP_MARGIN 1.0

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
  PROP_MODEL_FILE,
  PROP_CLASSIFY,
  PROP_DETECT,
  PROP_CROP_MARGIN,
  PROP_MODEL,
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
  gchar *model_file;
  gboolean model_file_changed;  /* to be loaded by the streaming thread */
  gboolean classify;
  gboolean detect;
  gdouble crop_margin;

  /* Between start and stop, owned by the streaming thread (the model
   * pointer is also read by get_property, under the object lock). */
  FemoCascade *cascade;
  FemoDetector *detector;
  guint detector_threads;       /* n-threads it was made with, 0 = all cores */
  FemoRect *faces;
  GstVideoRegionOfInterestMeta **rois;  /* the meta of each face */
  gsize face_capacity;
  FemoModel *model;             /* from the process-wide cache */
  FemoInfer *infer;
  GQuark *label_quarks;         /* field names of the class probabilities */
  guint8 *crops;                /* [crop_capacity][48*48] */
  gfloat *probs;                /* [crop_capacity][n_labels] */
  gsize crop_capacity;

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
/* Likewise FEMO_MODEL_DIR for the model. */
static gchar *default_model_file;

/* Names of the param structures and their fields, interned once. */
static GQuark face_quark;
static GQuark emotion_quark;
static GQuark label_quark;
static GQuark label_id_quark;
static GQuark confidence_quark;

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

/* @subpath under the directory of the environment variable @env_var, or
 * under @built_in when it is unset or empty. */
static gchar *
gst_femo_detect_make_default_file (const gchar * env_var,
    const gchar * built_in, const gchar * subpath)
{
  const gchar *dir = g_getenv (env_var);

  if (dir == NULL || *dir == '\0')
    dir = built_in;
  return g_build_filename (dir, subpath, NULL);
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

  default_cascade_file = gst_femo_detect_make_default_file ("FEMO_CASCADE_DIR",
      FEMO_CASCADE_DIR, DEFAULT_CASCADE_SUBPATH);
  default_model_file = gst_femo_detect_make_default_file ("FEMO_MODEL_DIR",
      FEMO_MODEL_DIR, DEFAULT_MODEL_NAME);
  face_quark = g_quark_from_static_string (FEMO_META_ROI_TYPE_FACE);
  emotion_quark = g_quark_from_static_string (FEMO_META_EMOTION_PARAMS_NAME);
  label_quark = g_quark_from_static_string (FEMO_META_EMOTION_FIELD_LABEL);
  label_id_quark =
      g_quark_from_static_string (FEMO_META_EMOTION_FIELD_LABEL_ID);
  confidence_quark =
      g_quark_from_static_string (FEMO_META_EMOTION_FIELD_CONFIDENCE);

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

  /**
   * GstFemoDetect:model-file:
   *
   * The emotion network's weights (a mini-Xception safetensors file, see
   * docs/mini-xception.md); its metadata names the classes. Loaded when the
   * element starts with #GstFemoDetect:classify on; elements that name the
   * same file share one loaded model. Setting it while running loads it
   * before the next frame; a file that fails to load then posts a warning
   * and the previous model stays in use.
   */
  g_object_class_install_property (gobject_class, PROP_MODEL_FILE,
      g_param_spec_string ("model-file", "Model file",
          "Emotion network weights, safetensors (default: $FEMO_MODEL_DIR/"
          DEFAULT_MODEL_NAME ", FEMO_MODEL_DIR defaulting to " FEMO_MODEL_DIR
          "). Set while running, it is loaded before the next frame; if that "
          "fails a warning is posted and the previous model stays in use",
          default_model_file, flags));
  /**
   * GstFemoDetect:classify:
   *
   * Tell the emotion of each face. When false the model is never loaded
   * and no "femo/emotion" structure is attached.
   */
  g_object_class_install_property (gobject_class, PROP_CLASSIFY,
      g_param_spec_boolean ("classify", "Classify",
          "Tell the emotion of each face (a \"" FEMO_META_EMOTION_PARAMS_NAME
          "\" param structure on its ROI meta); false = the model is never "
          "loaded", DEFAULT_CLASSIFY, flags));
  /**
   * GstFemoDetect:detect:
   *
   * Find faces with the cascade. When false the cascade is not loaded and
   * the element classifies the "face" ROI metas already on each buffer,
   * e.g. those of facedetect.
   */
  g_object_class_install_property (gobject_class, PROP_DETECT,
      g_param_spec_boolean ("detect", "Detect",
          "Find faces with the cascade; false = classify the \""
          FEMO_META_ROI_TYPE_FACE "\" ROI metas already on the buffer (from "
          "facedetect or any other detector); with classify=false too, "
          "buffers pass through untouched", DEFAULT_DETECT, flags));
  /**
   * GstFemoDetect:crop-margin:
   *
   * How much more than the face box the network sees, on each side, as a
   * fraction of the box side: the crop is a square (on the display) of
   * (1 + 2 * crop-margin) times the box side, centred on the box. The
   * default frames the cascade's boxes most like FER2013's faces.
   */
  g_object_class_install_property (gobject_class, PROP_CROP_MARGIN,
      g_param_spec_double ("crop-margin", "Crop margin",
          "Margin added on each side of a face box before it is classified, "
          "as a fraction of the box side (the crop is square on the display "
          "and 1 + 2 * margin times the box)", MIN_CROP_MARGIN,
          MAX_CROP_MARGIN, DEFAULT_CROP_MARGIN, flags));
  /**
   * GstFemoDetect:model:
   *
   * The loaded emotion model (an opaque FemoModel pointer), NULL when none
   * is loaded. Elements that share a model show the same pointer.
   */
  g_object_class_install_property (gobject_class, PROP_MODEL,
      g_param_spec_pointer ("model", "Model",
          "The loaded emotion model (opaque; NULL when none is loaded); "
          "elements using the same model file show the same pointer",
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

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
  self->model_file = g_strdup (default_model_file);
  self->classify = DEFAULT_CLASSIFY;
  self->detect = DEFAULT_DETECT;
  self->crop_margin = DEFAULT_CROP_MARGIN;

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
    case PROP_MODEL_FILE:{
      const gchar *path = g_value_get_string (value);

      g_free (self->model_file);
      self->model_file = g_strdup (path ? path : default_model_file);
      self->model_file_changed = TRUE;
      break;
    }
    case PROP_CLASSIFY:
      self->classify = g_value_get_boolean (value);
      break;
    case PROP_DETECT:
      self->detect = g_value_get_boolean (value);
      break;
    case PROP_CROP_MARGIN:
      self->crop_margin = g_value_get_double (value);
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
    case PROP_MODEL_FILE:
      g_value_set_string (value, self->model_file);
      break;
    case PROP_CLASSIFY:
      g_value_set_boolean (value, self->classify);
      break;
    case PROP_DETECT:
      g_value_set_boolean (value, self->detect);
      break;
    case PROP_CROP_MARGIN:
      g_value_set_double (value, self->crop_margin);
      break;
    case PROP_MODEL:
      g_value_set_pointer (value, self->model);
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

static void
gst_femo_detect_clear_model (GstFemoDetect * self)
{
  FemoModel *model;

  GST_OBJECT_LOCK (self);
  model = self->model;
  self->model = NULL;
  GST_OBJECT_UNLOCK (self);

  g_clear_pointer (&self->infer, femo_infer_free);
  g_clear_pointer (&self->label_quarks, g_free);
  /* Probabilities are sized for the model's classes. */
  g_clear_pointer (&self->probs, g_free);
  g_clear_pointer (&self->crops, g_free);
  self->crop_capacity = 0;
  if (model)
    femo_model_cache_release (model);
}

/* libfemo's messages usually name the file already. */
static gchar *
load_error_text (const gchar * what, const gchar * path, const GError * error)
{
  if (strstr (error->message, path) != NULL)
    return g_strdup_printf ("Could not load the %s: %s", what, error->message);
  return g_strdup_printf ("Could not load the %s \"%s\": %s", what, path,
      error->message);
}

/* Posts why @path could not be loaded: an error when @fatal (the state
 * change fails), else a warning (the element goes on with what it had). */
static void
gst_femo_detect_report_load_error (GstFemoDetect * self, gboolean fatal,
    const gchar * what, const gchar * property, const gchar * path,
    const GError * error)
{
  gchar *text = load_error_text (what, path, error);

  if (!fatal)
    GST_ELEMENT_WARNING (self, RESOURCE, READ,
        ("%s; keeping the previous one", text), ("%s=%s", property, path));
  else if (g_error_matches (error, FEMO_ERROR, FEMO_ERROR_IO))
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ, ("%s", text),
        ("%s=%s", property, path));
  else
    GST_ELEMENT_ERROR (self, RESOURCE, READ, ("%s", text),
        ("%s=%s", property, path));
  g_free (text);
}

/* Replaces the cascade and detector only when @path loads. */
static gboolean
gst_femo_detect_load_cascade (GstFemoDetect * self, const gchar * path,
    guint n_threads, gboolean fatal)
{
  FemoCascade *cascade;
  GError *error = NULL;

  cascade = femo_cascade_new_from_file (path, &error);
  if (cascade == NULL) {
    gst_femo_detect_report_load_error (self, fatal, "face cascade",
        "cascade-file", path, error);
    g_error_free (error);
    return FALSE;
  }

  gst_femo_detect_clear_cascade (self);
  self->cascade = cascade;
  self->detector_threads = n_threads;
  self->detector = femo_detector_new (cascade, n_threads);
  GST_INFO_OBJECT (self, "loaded %s cascade %s, %u threads",
      femo_cascade_get_kind (cascade) == FEMO_CASCADE_LBP ? "LBP" : "Haar",
      path, femo_detector_get_n_threads (self->detector));
  return TRUE;
}

/* Replaces the model (from the process-wide cache) only when @path loads. */
static gboolean
gst_femo_detect_load_model (GstFemoDetect * self, const gchar * path,
    gboolean fatal)
{
  const gchar *const *labels;
  GError *error = NULL;
  FemoModel *model;
  guint i, n_labels;

  model = femo_model_cache_acquire (path, &error);
  if (model == NULL) {
    gst_femo_detect_report_load_error (self, fatal, "emotion model",
        "model-file", path, error);
    g_error_free (error);
    return FALSE;
  }

  gst_femo_detect_clear_model (self);
  n_labels = femo_model_get_n_labels (model);
  labels = femo_model_get_labels (model);
  self->label_quarks = g_new (GQuark, n_labels);
  for (i = 0; i < n_labels; i++)
    self->label_quarks[i] = g_quark_from_string (labels[i]);
  self->infer = femo_infer_new (model);
  GST_OBJECT_LOCK (self);
  self->model = model;
  GST_OBJECT_UNLOCK (self);
  GST_INFO_OBJECT (self, "emotion model %s (%p, %u users), %u classes", path,
      model, femo_model_cache_get_n_users (model), n_labels);
  return TRUE;
}

/* Room for @n faces and their metas. */
static void
gst_femo_detect_ensure_faces (GstFemoDetect * self, gsize n)
{
  if (n <= self->face_capacity)
    return;
  self->face_capacity = MAX (n, self->face_capacity * 2);
  self->faces = g_renew (FemoRect, self->faces, self->face_capacity);
  self->rois = g_renew (GstVideoRegionOfInterestMeta *, self->rois,
      self->face_capacity);
  GST_DEBUG_OBJECT (self, "room for %" G_GSIZE_FORMAT " faces now",
      self->face_capacity);
}

/* Loads what the first frame needs; what is switched off is loaded by the
 * streaming thread when it is switched on. */
static gboolean
gst_femo_detect_start (GstBaseTransform * trans)
{
  GstFemoDetect *self = GST_FEMO_DETECT (trans);
  gchar *cascade_path = NULL, *model_path = NULL;
  guint n_threads;
  gboolean ok = TRUE;

  GST_OBJECT_LOCK (self);
  if (self->detect) {
    cascade_path = g_strdup (self->cascade_file);
    self->cascade_file_changed = FALSE;
  } else {
    self->cascade_file_changed = TRUE;
  }
  if (self->classify) {
    model_path = g_strdup (self->model_file);
    self->model_file_changed = FALSE;
  } else {
    self->model_file_changed = TRUE;
  }
  n_threads = self->n_threads;
  GST_OBJECT_UNLOCK (self);

  if (cascade_path)
    ok = gst_femo_detect_load_cascade (self, cascade_path, n_threads, TRUE);
  if (ok && model_path)
    ok = gst_femo_detect_load_model (self, model_path, TRUE);
  if (ok)
    gst_femo_detect_ensure_faces (self, INITIAL_FACE_CAPACITY);
  else
    gst_femo_detect_clear_cascade (self);
  g_free (cascade_path);
  g_free (model_path);
  return ok;
}

static gboolean
gst_femo_detect_stop (GstBaseTransform * trans)
{
  GstFemoDetect *self = GST_FEMO_DETECT (trans);

  gst_femo_detect_clear_cascade (self);
  gst_femo_detect_clear_model (self);
  g_clear_pointer (&self->faces, g_free);
  g_clear_pointer (&self->rois, g_free);
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
  gst_femo_detect_clear_model (self);
  g_free (self->faces);
  g_free (self->rois);
  g_free (self->gray);
  g_free (self->cascade_file);
  g_free (self->model_file);

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
    gst_femo_detect_ensure_faces (self, self->face_capacity * 2);
  }
  return n;
}

/* Gives @roi the param structure @s (transfer full), replacing one of the
 * same name that an element before us (another femodetect) attached. */
static void
set_roi_param (GstVideoRegionOfInterestMeta * roi, GstStructure * s)
{
  GList *l = roi->params;

  while (l != NULL) {
    GList *next = l->next;

    if (gst_structure_has_name (l->data, gst_structure_get_name (s))) {
      gst_structure_free (l->data);
      roi->params = g_list_delete_link (roi->params, l);
    }
    l = next;
  }
  gst_video_region_of_interest_meta_add_param (roi, s);
}

/* Attaches a meta per detected face, with its "detection" parameters. */
static void
gst_femo_detect_add_metas (GstFemoDetect * self, GstBuffer * buf,
    gsize n_faces, gint width, gint height)
{
  gsize i;

  /* libfemo clips the boxes to the frame: they fit the unsigned fields. */
  for (i = 0; i < n_faces; i++) {
    const FemoRect *r = &self->faces[i];
    GstVideoRegionOfInterestMeta *roi;
    gint neighbors = MAX (r->neighbors, 0);

    roi = gst_buffer_add_video_region_of_interest_meta_id (buf, face_quark,
        r->x, r->y, r->width, r->height);
    /* GStreamer leaves every id 0; numbered, the metas can be fetched with
     * gst_buffer_get_video_region_of_interest_meta_id (Python can't
     * iterate metas). */
    roi->id = (gint) i;
    gst_video_region_of_interest_meta_add_param (roi,
        gst_structure_new (FEMO_META_DETECTION_PARAMS_NAME,
            FEMO_META_DETECTION_FIELD_LABEL_ID, G_TYPE_INT,
            FEMO_META_DETECTION_LABEL_ID_FACE,
            FEMO_META_DETECTION_FIELD_CONFIDENCE, G_TYPE_DOUBLE,
            neighbors / (neighbors + FEMO_META_DETECTION_NEIGHBORS_HALF),
            FEMO_META_DETECTION_FIELD_NEIGHBORS, G_TYPE_INT, neighbors,
            FEMO_META_DETECTION_FIELD_X_MIN, G_TYPE_DOUBLE,
            (gdouble) r->x / width,
            FEMO_META_DETECTION_FIELD_X_MAX, G_TYPE_DOUBLE,
            (gdouble) (r->x + r->width) / width,
            FEMO_META_DETECTION_FIELD_Y_MIN, G_TYPE_DOUBLE,
            (gdouble) r->y / height,
            FEMO_META_DETECTION_FIELD_Y_MAX, G_TYPE_DOUBLE,
            (gdouble) (r->y + r->height) / height, NULL));
    self->rois[i] = roi;
  }
}

/* detect=false: the "face" ROI metas already on @buf become the faces. */
static gsize
gst_femo_detect_collect_metas (GstFemoDetect * self, GstBuffer * buf)
{
  gpointer state = NULL;
  GstMeta *meta;
  gsize n = 0;

  while ((meta = gst_buffer_iterate_meta_filtered (buf, &state,
              GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
    GstVideoRegionOfInterestMeta *roi = (GstVideoRegionOfInterestMeta *) meta;
    FemoRect *r;

    if (roi->roi_type != face_quark || roi->w == 0 || roi->h == 0)
      continue;
    gst_femo_detect_ensure_faces (self, n + 1);
    r = &self->faces[n];
    r->x = roi->x;
    r->y = roi->y;
    r->width = roi->w;
    r->height = roi->h;
    r->neighbors = 0;
    self->rois[n++] = roi;
  }
  return n;
}

/* The "femo/emotion" structure of one face's probabilities @p. */
static GstStructure *
gst_femo_detect_make_emotion (GstFemoDetect * self, const gfloat * p)
{
  guint n_labels = femo_model_get_n_labels (self->model);
  const gchar *const *labels = femo_model_get_labels (self->model);
  GstStructure *s;
  guint k, best = 0;

  for (k = 1; k < n_labels; k++)
    if (p[k] > p[best])
      best = k;
  s = gst_structure_new_id (emotion_quark,
      label_quark, G_TYPE_STRING, labels[best],
      label_id_quark, G_TYPE_INT, (gint) best,
      confidence_quark, G_TYPE_DOUBLE, (gdouble) p[best], NULL);
  for (k = 0; k < n_labels; k++)
    gst_structure_id_set (s, self->label_quarks[k], G_TYPE_DOUBLE,
        (gdouble) p[k], NULL);
  return s;
}

/* Crops every face, runs the network once on all of them and attaches the
 * emotions. Buffers grow only when a frame has more faces than ever. */
static void
gst_femo_detect_classify (GstFemoDetect * self, const FemoImageView * view,
    gsize n_faces, gdouble margin, gint par_n, gint par_d)
{
  guint n_labels = femo_model_get_n_labels (self->model);
  gsize i;

  if (n_faces > self->crop_capacity) {
    self->crop_capacity = MAX (n_faces, self->crop_capacity * 2);
    self->crops = g_renew (guint8, self->crops,
        self->crop_capacity * FEMO_NET_INPUT_PIXELS);
    self->probs = g_renew (gfloat, self->probs,
        self->crop_capacity * n_labels);
  }

  for (i = 0; i < n_faces; i++) {
    const FemoRect *r = &self->faces[i];
    gdouble x, y, w, h;

    femo_face_crop_region (r->x, r->y, r->width, r->height, margin, par_n,
        par_d, &x, &y, &w, &h);
    femo_image_resample (view, x, y, w, h,
        self->crops + i * FEMO_NET_INPUT_PIXELS, FEMO_NET_INPUT_SIZE,
        FEMO_NET_INPUT_SIZE);
  }
  femo_infer_run (self->infer, self->crops, n_faces, self->probs, NULL);

  for (i = 0; i < n_faces; i++)
    set_roi_param (self->rois[i],
        gst_femo_detect_make_emotion (self, self->probs + i * n_labels));
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
    const GstStructure *emotion =
        gst_video_region_of_interest_meta_get_param (self->rois[i],
        FEMO_META_EMOTION_PARAMS_NAME);
    GValue face = G_VALUE_INIT;
    GstStructure *f;

    f = gst_structure_new (FEMO_META_FACE_STRUCTURE_NAME,
        FEMO_META_FIELD_X, G_TYPE_UINT, (guint) r->x,
        FEMO_META_FIELD_Y, G_TYPE_UINT, (guint) r->y,
        FEMO_META_FIELD_WIDTH, G_TYPE_UINT, (guint) r->width,
        FEMO_META_FIELD_HEIGHT, G_TYPE_UINT, (guint) r->height, NULL);
    if (emotion != NULL)
      gst_structure_set (f, FEMO_META_FIELD_EMOTION, GST_TYPE_STRUCTURE,
          emotion, NULL);
    g_value_init (&face, GST_TYPE_STRUCTURE);
    g_value_take_boxed (&face, f);
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

/* Streaming thread: applies a cascade-file, model-file or n-threads change
 * made while running (or detect / classify switched on). What fails to
 * load leaves what was running in place. */
static void
gst_femo_detect_apply_changes (GstFemoDetect * self, const gchar * new_cascade,
    const gchar * new_model, guint n_threads)
{
  if (new_cascade != NULL)
    gst_femo_detect_load_cascade (self, new_cascade, n_threads, FALSE);
  if (new_model != NULL)
    gst_femo_detect_load_model (self, new_model, FALSE);
  if (self->cascade != NULL && n_threads != self->detector_threads) {
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
  GstVideoInfo *info = &filter->in_info;
  FemoDetectParams params = FEMO_DETECT_PARAMS_INIT;
  GstVideoFrame frame;
  FemoImageView view;
  gchar *new_cascade = NULL, *new_model = NULL;
  gboolean post_messages, detect, classify, mapped = FALSE;
  gdouble crop_margin;
  guint n_threads;
  gsize n_faces = 0;

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
  detect = self->detect;
  classify = self->classify;
  crop_margin = self->crop_margin;
  if (detect && self->cascade_file_changed) {
    new_cascade = g_strdup (self->cascade_file);
    self->cascade_file_changed = FALSE;
  }
  if (classify && self->model_file_changed) {
    new_model = g_strdup (self->model_file);
    self->model_file_changed = FALSE;
  }
  GST_OBJECT_UNLOCK (self);

  gst_femo_detect_apply_changes (self, new_cascade, new_model, n_threads);
  g_free (new_cascade);
  g_free (new_model);

  if (!detect && !classify)
    return GST_FLOW_OK;
  /* Without a model (it failed to load while running) faces still go. */
  classify = classify && self->infer != NULL;

  if (!detect)
    n_faces = gst_femo_detect_collect_metas (self, buf);

  if ((detect && self->detector != NULL) || (classify && n_faces > 0)) {
    if (!gst_video_frame_map (&frame, info, buf,
            GST_MAP_READ | GST_VIDEO_FRAME_MAP_FLAG_NO_REF))
      goto map_failed;
    mapped = TRUE;
    gst_femo_detect_get_luma (self, &frame, &view);
  }

  if (detect && self->detector != NULL) {
    n_faces = gst_femo_detect_run (self, &view, &params);
    gst_femo_detect_add_metas (self, buf, n_faces, GST_VIDEO_INFO_WIDTH (info),
        GST_VIDEO_INFO_HEIGHT (info));
  }
  if (classify && n_faces > 0)
    gst_femo_detect_classify (self, &view, n_faces, crop_margin,
        GST_VIDEO_INFO_PAR_N (info), GST_VIDEO_INFO_PAR_D (info));
  if (mapped)
    gst_video_frame_unmap (&frame);

  GST_LOG_OBJECT (self, "%" G_GSIZE_FORMAT " faces in %" GST_PTR_FORMAT,
      n_faces, buf);

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
            GST_VIDEO_INFO_NAME (info), GST_VIDEO_INFO_WIDTH (info),
            GST_VIDEO_INFO_HEIGHT (info)));
    return GST_FLOW_ERROR;
  }
}
