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
 * Faces are tracked (#GstFemoDetect:tracking): each face keeps a track id,
 * from 1, while it is the same face; it is the ROI meta's id and also in an
 * "object_id" param (DL Streamer's convention), in "femo/emotion" as
 * track_id and in the message as track-id. A track's "femo/emotion" holds
 * its probabilities smoothed over time (#GstFemoDetect:smoothing) and a
 * label with hysteresis (#GstFemoDetect:label-hysteresis); the frame's own
 * network output is in "femo/emotion-raw", present only when the network
 * ran for that face. The element posts "femodetect-label-changed" when a
 * track's shown label changes and "femodetect-track-ended" when a track
 * ends (timeout, shot cut, EOS). #GstFemoDetect:detect-interval and
 * #GstFemoDetect:classify-interval skip the cascade or the network on some
 * frames and carry the tracks instead; so does a frame that QoS says is
 * late (it is not dropped). FLUSH and STREAM_START forget the tracks.
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
 * |[
 * gst-launch-1.0 -m filesrc location=video.mp4 ! decodebin ! videoconvert \
 *     ! femodetect detect-interval=3 classify-interval=2 process-width=640 \
 *     ! femooverlay show-track-id=true ! videoconvert ! autovideosink
 * ]| Tracks faces, scanning every third frame at 640 pixels wide, and prints
 * when a face's emotion changes and when a face leaves.
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
#include "femo-tracker.h"

#include <math.h>
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
#define DEFAULT_TRACKING TRUE
/* The tracker's own defaults (femo-tracker.c says how they were chosen):
 * 15 frames = half a second at 30 fps, a time constant of half a second,
 * a margin of 0.15. */
#define DEFAULT_TRACK_TIMEOUT 15
#define MAX_TRACK_TIMEOUT 100000
#define DEFAULT_SMOOTHING 0.5
#define MAX_SMOOTHING 3600.0
#define DEFAULT_LABEL_HYSTERESIS 0.15
#define DEFAULT_DETECT_INTERVAL 1
#define DEFAULT_CLASSIFY_INTERVAL 1
#define MAX_INTERVAL 1000
#define DEFAULT_PROCESS_WIDTH 0
/* Frame duration assumed for buffers without timestamps when the caps
 * have no frame rate either. */
#define FALLBACK_FRAME_DURATION (40 * GST_MSECOND)

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
  PROP_TRACKING,
  PROP_TRACK_TIMEOUT,
  PROP_SMOOTHING,
  PROP_LABEL_HYSTERESIS,
  PROP_DETECT_INTERVAL,
  PROP_CLASSIFY_INTERVAL,
  PROP_PROCESS_WIDTH,
  PROP_DETECTIONS_RUN,
  PROP_FACES_CLASSIFIED,
};

/* What one frame is processed with, read under the object lock. */
typedef struct
{
  FemoDetectParams detect_params;
  gboolean post_messages;
  gboolean detect;
  gboolean classify;
  gboolean tracking;
  gdouble crop_margin;
  guint n_threads;
  guint track_timeout;
  gdouble smoothing;
  gdouble label_hysteresis;
  guint detect_interval;
  guint classify_interval;
  guint process_width;
  GstClockTime qos_earliest;
} FrameSettings;

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
  gboolean tracking;
  guint track_timeout;
  gdouble smoothing;
  gdouble label_hysteresis;
  guint detect_interval;
  guint classify_interval;
  guint process_width;
  /* diagnostics, also under the object lock */
  guint64 detections_run;
  guint64 faces_classified;
  /* running time before which frames are late, from the last QoS event */
  GstClockTime qos_earliest;

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

  /* Tracking, owned by the streaming thread (also in sink_event, which
   * serialized events reach under the stream lock). */
  FemoTracker *tracker;
  FemoTrackAssignment *assign;  /* [face_capacity] track of each face */
  gsize *batch;                 /* [face_capacity] faces the CNN gets */
  FemoTrackBox *track_boxes;    /* predictions, [track_box_capacity] */
  guint track_box_capacity;
  gboolean tracks_started;      /* a detection ran since the last reset */
  guint frames_since_detect;
  GstClockTime last_time;       /* running time the tracker saw last */
  guint8 *small;                /* downscaled luma for process-width */
  gsize small_size;

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
static GQuark emotion_raw_quark;
static GQuark track_id_quark;

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
static gboolean gst_femo_detect_sink_event (GstBaseTransform * trans,
    GstEvent * event);
static gboolean gst_femo_detect_src_event (GstBaseTransform * trans,
    GstEvent * event);

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
  emotion_raw_quark =
      g_quark_from_static_string (FEMO_META_EMOTION_RAW_PARAMS_NAME);
  track_id_quark =
      g_quark_from_static_string (FEMO_META_EMOTION_FIELD_TRACK_ID);

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

  /**
   * GstFemoDetect:tracking:
   *
   * Follow each face the cascade finds from frame to frame as a track with
   * a stable id (from 1; in the ROI meta's id, an "object_id" param, the
   * emotion's track_id and the message's track-id), smooth its emotion
   * over time and post "femodetect-label-changed" and
   * "femodetect-track-ended" messages. False: every frame stands alone,
   * the metas are numbered 0, 1, ... and the detect-interval,
   * classify-interval, smoothing and hysteresis do nothing. Faces from
   * upstream metas (detect=false) are not tracked.
   */
  g_object_class_install_property (gobject_class, PROP_TRACKING,
      g_param_spec_boolean ("tracking", "Tracking",
          "Give each face a track id that stays the same while it is the "
          "same face, smooth its emotion over time and post track messages; "
          "false = every frame on its own (metas numbered 0, 1, ...)",
          DEFAULT_TRACKING, flags));
  /**
   * GstFemoDetect:track-timeout:
   *
   * How many frames a track survives without a detection before it ends
   * (a face the cascade misses for a moment keeps its id). It is not
   * shown in the frames it was not detected in.
   */
  g_object_class_install_property (gobject_class, PROP_TRACK_TIMEOUT,
      g_param_spec_uint ("track-timeout", "Track timeout",
          "Frames a track survives without a detection before it ends (and "
          "the face gets a new id if it comes back)", 0, MAX_TRACK_TIMEOUT,
          DEFAULT_TRACK_TIMEOUT, flags));
  /**
   * GstFemoDetect:smoothing:
   *
   * Time constant, in seconds of buffer time, of the exponential moving
   * average of each track's emotion probabilities: a new classification
   * moves the average 1 - exp (-dt / smoothing) of the way, dt being the
   * time since the track's previous one, so it behaves the same at any
   * frame rate or classify-interval. 0 = no smoothing.
   */
  g_object_class_install_property (gobject_class, PROP_SMOOTHING,
      g_param_spec_double ("smoothing", "Smoothing",
          "Time constant in seconds of the moving average of each track's "
          "emotion probabilities (from buffer timestamps, so independent of "
          "the frame rate); 0 = off", 0.0, MAX_SMOOTHING, DEFAULT_SMOOTHING,
          flags));
  /**
   * GstFemoDetect:label-hysteresis:
   *
   * A track's shown label changes at once only when another class's
   * smoothed probability beats it by this margin, otherwise after that
   * class has led for 5 classifications in a row. 0 = the label is always
   * the most probable smoothed class.
   */
  g_object_class_install_property (gobject_class, PROP_LABEL_HYSTERESIS,
      g_param_spec_double ("label-hysteresis", "Label hysteresis",
          "Probability margin by which another emotion must beat a track's "
          "shown one to replace it at once (it also does after leading 5 "
          "classifications in a row); 0 = off", 0.0, 1.0,
          DEFAULT_LABEL_HYSTERESIS, flags));
  /**
   * GstFemoDetect:detect-interval:
   *
   * Run the cascade on every Nth frame only; the frames in between carry
   * the tracks (their boxes predicted from the last detections, their last
   * emotion), with no "detection" param on their metas. Needs tracking.
   */
  g_object_class_install_property (gobject_class, PROP_DETECT_INTERVAL,
      g_param_spec_uint ("detect-interval", "Detect interval",
          "Run the cascade every Nth frame; the frames between carry the "
          "tracked faces with predicted boxes (needs tracking=true)", 1,
          MAX_INTERVAL, DEFAULT_DETECT_INTERVAL, flags));
  /**
   * GstFemoDetect:classify-interval:
   *
   * Run the network on a track's face only at every Mth detection of it
   * (or when its box grew by more than a fifth since); in between its
   * smoothed emotion is reused and the metas have no "femo/emotion-raw".
   * Needs tracking.
   */
  g_object_class_install_property (gobject_class, PROP_CLASSIFY_INTERVAL,
      g_param_spec_uint ("classify-interval", "Classify interval",
          "Classify a tracked face every Mth time it is detected (sooner "
          "when its box grows); in between its smoothed emotion is reused "
          "(needs tracking=true)", 1, MAX_INTERVAL, DEFAULT_CLASSIFY_INTERVAL,
          flags));
  /**
   * GstFemoDetect:process-width:
   *
   * Frames wider than this are scanned by the cascade at this width (a
   * downscaled copy of the luma, aspect ratio kept; sizes and boxes are
   * scaled back to the frame). The network still sees the full-size face.
   * 0 = always scan at full size.
   */
  g_object_class_install_property (gobject_class, PROP_PROCESS_WIDTH,
      g_param_spec_uint ("process-width", "Process width",
          "Scan frames wider than this at this width (downscaled copy; boxes "
          "are scaled back, faces are classified at full size); 0 = full "
          "size", 0, 32768, DEFAULT_PROCESS_WIDTH, flags));
  /**
   * GstFemoDetect:detections-run:
   *
   * Diagnostic: frames the cascade scanned since the element started.
   */
  g_object_class_install_property (gobject_class, PROP_DETECTIONS_RUN,
      g_param_spec_uint64 ("detections-run", "Detections run",
          "Diagnostic: frames the cascade scanned since the element started",
          0, G_MAXUINT64, 0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  /**
   * GstFemoDetect:faces-classified:
   *
   * Diagnostic: faces the network classified since the element started.
   */
  g_object_class_install_property (gobject_class, PROP_FACES_CLASSIFIED,
      g_param_spec_uint64 ("faces-classified", "Faces classified",
          "Diagnostic: faces the emotion network classified since the "
          "element started", 0, G_MAXUINT64, 0,
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
  trans_class->sink_event = GST_DEBUG_FUNCPTR (gst_femo_detect_sink_event);
  trans_class->src_event = GST_DEBUG_FUNCPTR (gst_femo_detect_src_event);
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
  self->tracking = DEFAULT_TRACKING;
  self->track_timeout = DEFAULT_TRACK_TIMEOUT;
  self->smoothing = DEFAULT_SMOOTHING;
  self->label_hysteresis = DEFAULT_LABEL_HYSTERESIS;
  self->detect_interval = DEFAULT_DETECT_INTERVAL;
  self->classify_interval = DEFAULT_CLASSIFY_INTERVAL;
  self->process_width = DEFAULT_PROCESS_WIDTH;
  self->qos_earliest = GST_CLOCK_TIME_NONE;
  self->last_time = GST_CLOCK_TIME_NONE;

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
    case PROP_TRACKING:
      self->tracking = g_value_get_boolean (value);
      break;
    case PROP_TRACK_TIMEOUT:
      self->track_timeout = g_value_get_uint (value);
      break;
    case PROP_SMOOTHING:
      self->smoothing = g_value_get_double (value);
      break;
    case PROP_LABEL_HYSTERESIS:
      self->label_hysteresis = g_value_get_double (value);
      break;
    case PROP_DETECT_INTERVAL:
      self->detect_interval = g_value_get_uint (value);
      break;
    case PROP_CLASSIFY_INTERVAL:
      self->classify_interval = g_value_get_uint (value);
      break;
    case PROP_PROCESS_WIDTH:
      self->process_width = g_value_get_uint (value);
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
    case PROP_TRACKING:
      g_value_set_boolean (value, self->tracking);
      break;
    case PROP_TRACK_TIMEOUT:
      g_value_set_uint (value, self->track_timeout);
      break;
    case PROP_SMOOTHING:
      g_value_set_double (value, self->smoothing);
      break;
    case PROP_LABEL_HYSTERESIS:
      g_value_set_double (value, self->label_hysteresis);
      break;
    case PROP_DETECT_INTERVAL:
      g_value_set_uint (value, self->detect_interval);
      break;
    case PROP_CLASSIFY_INTERVAL:
      g_value_set_uint (value, self->classify_interval);
      break;
    case PROP_PROCESS_WIDTH:
      g_value_set_uint (value, self->process_width);
      break;
    case PROP_DETECTIONS_RUN:
      g_value_set_uint64 (value, self->detections_run);
      break;
    case PROP_FACES_CLASSIFIED:
      g_value_set_uint64 (value, self->faces_classified);
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
  self->assign = g_renew (FemoTrackAssignment, self->assign,
      self->face_capacity);
  self->batch = g_renew (gsize, self->batch, self->face_capacity);
  GST_DEBUG_OBJECT (self, "room for %" G_GSIZE_FORMAT " faces now",
      self->face_capacity);
}

/* Forgets the tracks without a word (FLUSH, a new stream, a restart). */
static void
gst_femo_detect_reset_tracks (GstFemoDetect * self)
{
  if (self->tracker)
    femo_tracker_reset (self->tracker);
  self->tracks_started = FALSE;
  self->frames_since_detect = 0;
  self->last_time = GST_CLOCK_TIME_NONE;
  GST_OBJECT_LOCK (self);
  self->qos_earliest = GST_CLOCK_TIME_NONE;
  GST_OBJECT_UNLOCK (self);
}

static void
gst_femo_detect_clear_tracking (GstFemoDetect * self)
{
  g_clear_pointer (&self->tracker, femo_tracker_free);
  g_clear_pointer (&self->track_boxes, g_free);
  self->track_box_capacity = 0;
  g_clear_pointer (&self->small, g_free);
  self->small_size = 0;
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
  if (ok) {
    FemoTrackerParams tracker_params;

    gst_femo_detect_ensure_faces (self, INITIAL_FACE_CAPACITY);
    /* The settings are applied per frame; these are valid. */
    femo_tracker_params_init (&tracker_params);
    self->tracker = femo_tracker_new (&tracker_params, NULL);
    gst_femo_detect_reset_tracks (self);
    GST_OBJECT_LOCK (self);
    self->detections_run = 0;
    self->faces_classified = 0;
    GST_OBJECT_UNLOCK (self);
  } else {
    gst_femo_detect_clear_cascade (self);
  }
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
  g_clear_pointer (&self->assign, g_free);
  g_clear_pointer (&self->batch, g_free);
  self->face_capacity = 0;
  gst_femo_detect_clear_tracking (self);
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
  g_free (self->assign);
  g_free (self->batch);
  gst_femo_detect_clear_tracking (self);
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

/* The buffer's running and stream time (GST_CLOCK_TIME_NONE without a
 * timestamp or a TIME segment). */
static void
gst_femo_detect_buffer_times (GstFemoDetect * self, GstBuffer * buf,
    GstClockTime * running_time, GstClockTime * stream_time)
{
  GstSegment *segment = &GST_BASE_TRANSFORM (self)->segment;

  *running_time = GST_CLOCK_TIME_NONE;
  *stream_time = GST_CLOCK_TIME_NONE;
  if (segment->format == GST_FORMAT_TIME) {
    *running_time = gst_segment_to_running_time (segment, GST_FORMAT_TIME,
        GST_BUFFER_PTS (buf));
    *stream_time = gst_segment_to_stream_time (segment, GST_FORMAT_TIME,
        GST_BUFFER_PTS (buf));
  }
}

/* A running time the tracker saw back as a buffer timestamp. */
static GstClockTime
gst_femo_detect_to_timestamp (GstFemoDetect * self, GstClockTime time)
{
  GstSegment *segment = &GST_BASE_TRANSFORM (self)->segment;

  if (segment->format != GST_FORMAT_TIME)
    return time;
  return gst_segment_position_from_running_time (segment, GST_FORMAT_TIME,
      time);
}

/* The time the tracker works in: the buffer's running time (which also
 * grows in reverse playback) or, for a buffer without a timestamp, the
 * previous one plus a frame. */
static GstClockTime
gst_femo_detect_tracker_time (GstFemoDetect * self, GstBuffer * buf,
    GstClockTime running_time)
{
  GstVideoInfo *info = &GST_VIDEO_FILTER (self)->in_info;
  GstClockTime t = running_time;

  if (!GST_CLOCK_TIME_IS_VALID (t)) {
    GstClockTime frame = FALLBACK_FRAME_DURATION;

    if (GST_BUFFER_DURATION_IS_VALID (buf))
      frame = GST_BUFFER_DURATION (buf);
    else if (GST_VIDEO_INFO_FPS_N (info) > 0)
      frame = gst_util_uint64_scale_int (GST_SECOND,
          GST_VIDEO_INFO_FPS_D (info), GST_VIDEO_INFO_FPS_N (info));
    t = GST_CLOCK_TIME_IS_VALID (self->last_time) ? self->last_time + frame : 0;
  }
  self->last_time = t;
  return t;
}

/* Attaches a meta per face of self->faces, numbered 0, 1, ... or, when
 * @tracked, by track (its id and an "object_id" param); with the cascade's
 * "detection" param when @detected (not on boxes the tracker carried). */
static void
gst_femo_detect_add_metas (GstFemoDetect * self, GstBuffer * buf,
    gsize n_faces, gint width, gint height, gboolean tracked, gboolean detected)
{
  gsize i;

  /* libfemo clips the boxes to the frame, and so does carry_tracks: they
   * fit the unsigned fields. */
  for (i = 0; i < n_faces; i++) {
    const FemoRect *r = &self->faces[i];
    GstVideoRegionOfInterestMeta *roi;
    gint neighbors = MAX (r->neighbors, 0);

    roi = gst_buffer_add_video_region_of_interest_meta_id (buf, face_quark,
        r->x, r->y, r->width, r->height);
    /* GStreamer leaves every id 0; numbered, the metas can be fetched with
     * gst_buffer_get_video_region_of_interest_meta_id (Python can't
     * iterate metas). Track ids are unique within a frame too. */
    roi->id = tracked ? (gint) self->assign[i].track_id : (gint) i;
    if (detected)
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
    if (tracked)
      gst_video_region_of_interest_meta_add_param (roi,
          gst_structure_new (FEMO_META_OBJECT_ID_PARAMS_NAME,
              FEMO_META_OBJECT_ID_FIELD_ID, G_TYPE_INT,
              (gint) self->assign[i].track_id, NULL));
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

/* A @name ("femo/emotion" or "femo/emotion-raw") structure of the
 * probabilities @p with the shown label @label (-1: their arg-max) and,
 * when not 0, the track id. */
static GstStructure *
gst_femo_detect_make_emotion (GstFemoDetect * self, GQuark name,
    const gfloat * p, gint label, guint32 track_id)
{
  guint n_labels = femo_model_get_n_labels (self->model);
  const gchar *const *labels = femo_model_get_labels (self->model);
  GstStructure *s;
  guint k, best = 0;

  if (label >= 0 && (guint) label < n_labels) {
    best = label;
  } else {
    for (k = 1; k < n_labels; k++)
      if (p[k] > p[best])
        best = k;
  }
  s = gst_structure_new_id (name,
      label_quark, G_TYPE_STRING, labels[best],
      label_id_quark, G_TYPE_INT, (gint) best,
      confidence_quark, G_TYPE_DOUBLE, (gdouble) p[best], NULL);
  for (k = 0; k < n_labels; k++)
    gst_structure_id_set (s, self->label_quarks[k], G_TYPE_DOUBLE,
        (gdouble) p[k], NULL);
  if (track_id != 0)
    gst_structure_id_set (s, track_id_quark, G_TYPE_UINT, track_id, NULL);
  return s;
}

/* Crops every face for the network (and the tracker's appearance check)
 * into self->crops. Buffers grow only when a frame has more faces than
 * ever. */
static void
gst_femo_detect_crop_faces (GstFemoDetect * self, const FemoImageView * view,
    gsize n_faces, gdouble margin, gint par_n, gint par_d)
{
  gsize i;

  if (n_faces > self->crop_capacity) {
    self->crop_capacity = MAX (n_faces, self->crop_capacity * 2);
    self->crops = g_renew (guint8, self->crops,
        self->crop_capacity * FEMO_NET_INPUT_PIXELS);
    if (self->model != NULL)
      self->probs = g_renew (gfloat, self->probs,
          self->crop_capacity * femo_model_get_n_labels (self->model));
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
}

/* The network on the first @n crops, in one batch. */
static void
gst_femo_detect_infer (GstFemoDetect * self, gsize n)
{
  femo_infer_run (self->infer, self->crops, n, self->probs, NULL);
  GST_OBJECT_LOCK (self);
  self->faces_classified += n;
  GST_OBJECT_UNLOCK (self);
}

/* Untracked: every face is classified and shows this frame's emotion. */
static void
gst_femo_detect_classify (GstFemoDetect * self, const FemoImageView * view,
    gsize n_faces, gdouble margin, gint par_n, gint par_d)
{
  guint n_labels = femo_model_get_n_labels (self->model);
  gsize i;

  gst_femo_detect_crop_faces (self, view, n_faces, margin, par_n, par_d);
  gst_femo_detect_infer (self, n_faces);
  for (i = 0; i < n_faces; i++)
    set_roi_param (self->rois[i], gst_femo_detect_make_emotion (self,
            emotion_quark, self->probs + i * n_labels, -1, 0));
}

/* Tracked faces show their track's smoothed emotion and shown label. */
static void
gst_femo_detect_attach_track_emotions (GstFemoDetect * self, gsize n_faces)
{
  gsize i;

  for (i = 0; i < n_faces; i++) {
    guint32 id = self->assign[i].track_id;
    FemoLabelUpdate shown;

    if (femo_tracker_get_label (self->tracker, id, &shown) && shown.label >= 0)
      set_roi_param (self->rois[i], gst_femo_detect_make_emotion (self,
              emotion_quark, shown.probs, shown.label, id));
  }
}

static void
gst_femo_detect_post_label_changed (GstFemoDetect * self, GstBuffer * buf,
    GstClockTime running_time, guint32 track_id, gint old_label, gint new_label)
{
  const gchar *const *labels = femo_model_get_labels (self->model);
  GstStructure *s;

  s = gst_structure_new (FEMO_META_LABEL_CHANGED_MESSAGE_NAME,
      FEMO_META_FIELD_TRACK_ID, G_TYPE_UINT, track_id,
      FEMO_META_FIELD_OLD_LABEL, G_TYPE_STRING, labels[old_label],
      FEMO_META_FIELD_NEW_LABEL, G_TYPE_STRING, labels[new_label],
      FEMO_META_FIELD_TIMESTAMP, G_TYPE_UINT64, GST_BUFFER_PTS (buf),
      FEMO_META_FIELD_RUNNING_TIME, G_TYPE_UINT64, running_time, NULL);
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self), s));
}

/* Tracked faces just detected: the network runs, in one batch, on those
 * whose track is due (@classify_interval, or a grown box), which also get
 * this frame's output as "femo/emotion-raw"; then every face gets its
 * track's smoothed emotion. The crops are self->crops, made for the
 * tracker. */
static void
gst_femo_detect_classify_tracks (GstFemoDetect * self, GstBuffer * buf,
    gsize n_faces, guint classify_interval, GstClockTime time,
    GstClockTime running_time, gboolean post_messages)
{
  guint n_labels = femo_model_get_n_labels (self->model);
  gsize i, n = 0;

  /* Move the crops that go to the network to the front, in order. */
  for (i = 0; i < n_faces; i++) {
    if (!femo_tracker_needs_classify (self->tracker, self->assign[i].track_id,
            classify_interval))
      continue;
    if (n != i)
      memcpy (self->crops + n * FEMO_NET_INPUT_PIXELS,
          self->crops + i * FEMO_NET_INPUT_PIXELS, FEMO_NET_INPUT_PIXELS);
    self->batch[n++] = i;
  }
  if (n > 0)
    gst_femo_detect_infer (self, n);

  for (i = 0; i < n; i++) {
    GstVideoRegionOfInterestMeta *roi = self->rois[self->batch[i]];
    guint32 id = self->assign[self->batch[i]].track_id;
    const gfloat *p = self->probs + i * n_labels;
    FemoLabelUpdate update;

    set_roi_param (roi, gst_femo_detect_make_emotion (self, emotion_raw_quark,
            p, -1, id));
    if (femo_tracker_set_probs (self->tracker, id, time, p, &update)
        && update.changed && update.previous >= 0 && post_messages)
      gst_femo_detect_post_label_changed (self, buf, running_time, id,
          update.previous, update.label);
  }
  gst_femo_detect_attach_track_emotions (self, n_faces);
}

/* Posts a "femodetect-track-ended" per track femo_tracker_update or
 * femo_tracker_finish just ended; @reason for those not cut. */
static void
gst_femo_detect_post_ended (GstFemoDetect * self, const gchar * reason)
{
  const FemoTrackRecord *records;
  guint i, n;

  records = femo_tracker_get_ended (self->tracker, &n);
  for (i = 0; i < n; i++) {
    const FemoTrackRecord *r = &records[i];
    GstStructure *s;

    s = gst_structure_new (FEMO_META_TRACK_ENDED_MESSAGE_NAME,
        FEMO_META_FIELD_TRACK_ID, G_TYPE_UINT, r->track_id,
        FEMO_META_FIELD_FIRST_TIMESTAMP, G_TYPE_UINT64,
        gst_femo_detect_to_timestamp (self, r->first_ns),
        FEMO_META_FIELD_LAST_TIMESTAMP, G_TYPE_UINT64,
        gst_femo_detect_to_timestamp (self, r->last_ns),
        FEMO_META_FIELD_DURATION, G_TYPE_UINT64, r->duration_ns,
        FEMO_META_FIELD_FRAMES, G_TYPE_UINT, r->n_detections,
        FEMO_META_FIELD_LABEL_CHANGES, G_TYPE_UINT, r->n_label_changes,
        FEMO_META_FIELD_REASON, G_TYPE_STRING, r->cut ? "cut" : reason, NULL);
    if (r->dominant_label >= 0 && self->model != NULL
        && (guint) r->dominant_label < femo_model_get_n_labels (self->model))
      gst_structure_set (s, FEMO_META_FIELD_DOMINANT_LABEL, G_TYPE_STRING,
          femo_model_get_labels (self->model)[r->dominant_label], NULL);
    gst_element_post_message (GST_ELEMENT (self),
        gst_message_new_element (GST_OBJECT (self), s));
  }
}

/* Ends every track (EOS, tracking switched off, a model with other
 * classes), telling the application when @post_messages. */
static void
gst_femo_detect_finish_tracks (GstFemoDetect * self, gboolean post_messages,
    const gchar * reason)
{
  if (self->tracker == NULL)
    return;
  femo_tracker_finish (self->tracker);
  if (post_messages)
    gst_femo_detect_post_ended (self, reason);
  self->tracks_started = FALSE;
  self->frames_since_detect = 0;
}

/* Gives the tracker the frame's settings; the timeout is in frames of the
 * stream and the tracker counts detections. */
static void
gst_femo_detect_configure_tracker (GstFemoDetect * self,
    const FrameSettings * settings)
{
  FemoTrackerParams params = *femo_tracker_get_params (self->tracker);
  GError *error = NULL;

  params.timeout = (settings->track_timeout + settings->detect_interval - 1)
      / settings->detect_interval;
  params.tau = settings->smoothing;
  params.label_margin = settings->label_hysteresis;
  if (self->model != NULL
      && femo_model_get_n_labels (self->model) != params.n_classes) {
    /* the tracks' averages have the old model's classes */
    gst_femo_detect_finish_tracks (self, settings->post_messages, "stopped");
    params.n_classes = femo_model_get_n_labels (self->model);
  }
  /* The property ranges keep the parameters valid. */
  if (!femo_tracker_set_params (self->tracker, &params, &error)) {
    GST_WARNING_OBJECT (self, "%s", error->message);
    g_error_free (error);
  }
}

/* Frames without detection: the faces are the tracks seen at the last
 * detection, at their boxes predicted for @time, clipped to the frame. */
static gsize
gst_femo_detect_carry_tracks (GstFemoDetect * self, GstClockTime time,
    gint width, gint height)
{
  guint i, n, n_tracks = femo_tracker_get_n_tracks (self->tracker);
  gsize n_faces = 0;

  if (n_tracks > self->track_box_capacity) {
    self->track_box_capacity = MAX (n_tracks, self->track_box_capacity * 2);
    self->track_boxes = g_renew (FemoTrackBox, self->track_boxes,
        self->track_box_capacity);
  }
  n = femo_tracker_predict (self->tracker, time, self->track_boxes,
      self->track_box_capacity);
  gst_femo_detect_ensure_faces (self, n);
  for (i = 0; i < n; i++) {
    const FemoTrackBox *b = &self->track_boxes[i];
    gint x0 = CLAMP (lround (b->x), 0, width);
    gint y0 = CLAMP (lround (b->y), 0, height);
    gint x1 = CLAMP (lround (b->x + b->width), 0, width);
    gint y1 = CLAMP (lround (b->y + b->height), 0, height);
    FemoRect *r = &self->faces[n_faces];

    if (b->misses > 0 || x1 <= x0 || y1 <= y0)
      continue;
    r->x = x0;
    r->y = y0;
    r->width = x1 - x0;
    r->height = y1 - y0;
    r->neighbors = 0;
    self->assign[n_faces].track_id = b->track_id;
    self->assign[n_faces].is_new = FALSE;
    n_faces++;
  }
  return n_faces;
}

/* Runs the cascade on @view, or on a copy of its luma downscaled to
 * @process_width when it is wider, scaling sizes and boxes to and from it. */
static gsize
gst_femo_detect_scan (GstFemoDetect * self, const FemoImageView * view,
    const FrameSettings * settings)
{
  FemoDetectParams params = settings->detect_params;
  FemoImageView scan = *view;
  gdouble sx = 1.0, sy = 1.0;
  gsize i, n;

  if (settings->process_width > 0
      && (gint) settings->process_width < view->width) {
    gint w = settings->process_width;
    gint h = MAX (1, (gint) (((gint64) view->height * w + view->width / 2)
            / view->width));

    if ((gsize) w * h > self->small_size) {
      self->small_size = (gsize) w *h;
      self->small = g_realloc (self->small, self->small_size);
    }
    femo_image_resample (view, 0, 0, view->width, view->height, self->small,
        w, h);
    scan.data = self->small;
    scan.width = scan.stride = w;
    scan.height = h;
    scan.pixel_stride = 1;
    sx = (gdouble) view->width / w;
    sy = (gdouble) view->height / h;
    /* sizes shrink down, so that no face the full frame allows is lost */
    params.min_width = (gint) (params.min_width / sx);
    params.min_height = (gint) (params.min_height / sy);
    if (params.max_width > 0)
      params.max_width = MAX (1, (gint) ceil (params.max_width / sx));
    if (params.max_height > 0)
      params.max_height = MAX (1, (gint) ceil (params.max_height / sy));
  }

  n = gst_femo_detect_run (self, &scan, &params);
  GST_OBJECT_LOCK (self);
  self->detections_run++;
  GST_OBJECT_UNLOCK (self);

  if (scan.data != view->data) {
    for (i = 0; i < n; i++) {
      FemoRect *r = &self->faces[i];
      gint x0 = MIN ((gint) lround (r->x * sx), view->width - 1);
      gint y0 = MIN ((gint) lround (r->y * sy), view->height - 1);
      gint x1 = MIN ((gint) lround ((r->x + r->width) * sx), view->width);
      gint y1 = MIN ((gint) lround ((r->y + r->height) * sy), view->height);

      r->x = x0;
      r->y = y0;
      r->width = MAX (1, x1 - x0);
      r->height = MAX (1, y1 - y0);
    }
  }
  return n;
}

/* Tracks the faces just detected: crops them (the appearance check needs
 * them; the network reuses them) and matches them to the tracks. */
static void
gst_femo_detect_update_tracks (GstFemoDetect * self,
    const FemoImageView * view, gsize n_faces, GstClockTime time,
    const FrameSettings * settings, gint par_n, gint par_d)
{
  FemoFrameSignature signature;

  gst_femo_detect_crop_faces (self, view, n_faces, settings->crop_margin,
      par_n, par_d);
  femo_tracker_frame_signature (view, &signature);
  if (femo_tracker_update (self->tracker, time, &signature, self->faces,
          n_faces, self->crops, self->assign) > 0 && settings->post_messages)
    gst_femo_detect_post_ended (self, "timeout");
  self->tracks_started = TRUE;
  self->frames_since_detect = 0;
}

static void
gst_femo_detect_post_message (GstFemoDetect * self, GstBuffer * buf,
    gsize n_faces, gboolean tracked, GstClockTime running_time,
    GstClockTime stream_time)
{
  GValue faces = G_VALUE_INIT;
  GstStructure *s;
  gsize i;

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
    if (tracked)
      gst_structure_set (f, FEMO_META_FIELD_TRACK_ID, G_TYPE_UINT,
          (guint) self->assign[i].track_id, NULL);
    g_value_init (&face, GST_TYPE_STRUCTURE);
    g_value_take_boxed (&face, f);
    gst_value_list_append_and_take_value (&faces, &face);
  }

  s = gst_structure_new (FEMO_META_DETECT_MESSAGE_NAME,
      FEMO_META_FIELD_TIMESTAMP, G_TYPE_UINT64, GST_BUFFER_PTS (buf),
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

/* Copies the properties a frame needs, under the object lock; a cascade or
 * model file to load comes back in @new_cascade / @new_model. */
static void
gst_femo_detect_read_settings (GstFemoDetect * self, FrameSettings * settings,
    gchar ** new_cascade, gchar ** new_model)
{
  FemoDetectParams params = FEMO_DETECT_PARAMS_INIT;

  GST_OBJECT_LOCK (self);
  params.scale_factor = self->scale_factor;
  params.min_neighbors = self->min_neighbors;
  params.min_width = params.min_height = self->min_size;
  params.max_width = params.max_height = self->max_size;
  params.max_faces = self->max_faces;
  settings->detect_params = params;
  settings->post_messages = self->post_messages;
  settings->n_threads = self->n_threads;
  settings->detect = self->detect;
  settings->classify = self->classify;
  settings->crop_margin = self->crop_margin;
  settings->tracking = self->tracking;
  settings->track_timeout = self->track_timeout;
  settings->smoothing = self->smoothing;
  settings->label_hysteresis = self->label_hysteresis;
  settings->detect_interval = self->detect_interval;
  settings->classify_interval = self->classify_interval;
  settings->process_width = self->process_width;
  settings->qos_earliest = self->qos_earliest;
  *new_cascade = *new_model = NULL;
  if (self->detect && self->cascade_file_changed) {
    *new_cascade = g_strdup (self->cascade_file);
    self->cascade_file_changed = FALSE;
  }
  if (self->classify && self->model_file_changed) {
    *new_model = g_strdup (self->model_file);
    self->model_file_changed = FALSE;
  }
  GST_OBJECT_UNLOCK (self);
}

static GstFlowReturn
gst_femo_detect_transform_ip (GstBaseTransform * trans, GstBuffer * buf)
{
  GstFemoDetect *self = GST_FEMO_DETECT (trans);
  GstVideoFilter *filter = GST_VIDEO_FILTER (trans);
  GstVideoInfo *info = &filter->in_info;
  gint width = GST_VIDEO_INFO_WIDTH (info);
  gint height = GST_VIDEO_INFO_HEIGHT (info);
  gint par_n = GST_VIDEO_INFO_PAR_N (info), par_d = GST_VIDEO_INFO_PAR_D (info);
  FrameSettings settings;
  GstVideoFrame frame;
  FemoImageView view;
  GstClockTime running_time, stream_time, time = 0;
  gchar *new_cascade, *new_model;
  gboolean classify, tracking, late, run_cascade, mapped = FALSE;
  gsize n_faces = 0;

  if (G_UNLIKELY (!filter->negotiated))
    goto not_negotiated;

  gst_femo_detect_read_settings (self, &settings, &new_cascade, &new_model);
  gst_femo_detect_apply_changes (self, new_cascade, new_model,
      settings.n_threads);
  g_free (new_cascade);
  g_free (new_model);

  tracking = settings.tracking && settings.detect && self->detector != NULL
      && self->tracker != NULL;
  if (!tracking && self->tracks_started)
    gst_femo_detect_finish_tracks (self, settings.post_messages, "stopped");
  if (!settings.detect && !settings.classify)
    return GST_FLOW_OK;
  /* Without a model (it failed to load while running) faces still go. */
  classify = settings.classify && self->infer != NULL;

  /* Late (QoS): no time for the cascade; the tracks carry the faces. */
  gst_femo_detect_buffer_times (self, buf, &running_time, &stream_time);
  late = gst_base_transform_is_qos_enabled (trans)
      && GST_CLOCK_TIME_IS_VALID (settings.qos_earliest)
      && GST_CLOCK_TIME_IS_VALID (running_time)
      && running_time <= settings.qos_earliest;
  if (late && !tracking) {
    GST_LOG_OBJECT (self, "late, not analysing %" GST_PTR_FORMAT, buf);
    return GST_FLOW_OK;
  }

  if (tracking) {
    gst_femo_detect_configure_tracker (self, &settings);
    time = gst_femo_detect_tracker_time (self, buf, running_time);
    run_cascade = !self->tracks_started
        || (!late && self->frames_since_detect + 1 >= settings.detect_interval);
  } else {
    run_cascade = settings.detect && self->detector != NULL;
  }

  if (!settings.detect)
    n_faces = gst_femo_detect_collect_metas (self, buf);

  if (run_cascade || (classify && n_faces > 0)) {
    if (!gst_video_frame_map (&frame, info, buf,
            GST_MAP_READ | GST_VIDEO_FRAME_MAP_FLAG_NO_REF))
      goto map_failed;
    mapped = TRUE;
    gst_femo_detect_get_luma (self, &frame, &view);
  }

  if (run_cascade) {
    n_faces = gst_femo_detect_scan (self, &view, &settings);
    if (tracking)
      gst_femo_detect_update_tracks (self, &view, n_faces, time, &settings,
          par_n, par_d);
    gst_femo_detect_add_metas (self, buf, n_faces, width, height, tracking,
        TRUE);
  } else if (tracking) {
    self->frames_since_detect++;
    n_faces = gst_femo_detect_carry_tracks (self, time, width, height);
    gst_femo_detect_add_metas (self, buf, n_faces, width, height, TRUE, FALSE);
  }

  if (classify && n_faces > 0) {
    if (tracking && run_cascade)
      gst_femo_detect_classify_tracks (self, buf, n_faces,
          settings.classify_interval, time, running_time,
          settings.post_messages);
    else if (tracking)
      gst_femo_detect_attach_track_emotions (self, n_faces);
    else
      gst_femo_detect_classify (self, &view, n_faces, settings.crop_margin,
          par_n, par_d);
  }
  if (mapped)
    gst_video_frame_unmap (&frame);

  GST_LOG_OBJECT (self, "%" G_GSIZE_FORMAT " faces (%s) in %" GST_PTR_FORMAT,
      n_faces, run_cascade ? "detected" : "carried", buf);

  if (settings.post_messages)
    gst_femo_detect_post_message (self, buf, n_faces, tracking, running_time,
        stream_time);

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
            GST_VIDEO_INFO_NAME (info), width, height));
    return GST_FLOW_ERROR;
  }
}

static gboolean
gst_femo_detect_sink_event (GstBaseTransform * trans, GstEvent * event)
{
  GstFemoDetect *self = GST_FEMO_DETECT (trans);

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_FLUSH_STOP:
    case GST_EVENT_STREAM_START:
      gst_femo_detect_reset_tracks (self);
      break;
    case GST_EVENT_EOS:{
      gboolean post_messages;

      GST_OBJECT_LOCK (self);
      post_messages = self->post_messages;
      GST_OBJECT_UNLOCK (self);
      /* before the EOS goes on: an application stops reading at EOS */
      gst_femo_detect_finish_tracks (self, post_messages, "eos");
      break;
    }
    default:
      break;
  }
  return GST_BASE_TRANSFORM_CLASS (parent_class)->sink_event (trans, event);
}

static gboolean
gst_femo_detect_src_event (GstBaseTransform * trans, GstEvent * event)
{
  GstFemoDetect *self = GST_FEMO_DETECT (trans);
  GstClockTimeDiff diff;
  GstClockTime timestamp;
  gdouble proportion;
  GstQOSType type;

  if (GST_EVENT_TYPE (event) != GST_EVENT_QOS)
    return GST_BASE_TRANSFORM_CLASS (parent_class)->src_event (trans, event);

  gst_event_parse_qos (event, &type, &proportion, &diff, &timestamp);
  GST_OBJECT_LOCK (self);
  if (!GST_CLOCK_TIME_IS_VALID (timestamp))
    self->qos_earliest = GST_CLOCK_TIME_NONE;
  else if (diff >= 0 || timestamp > (GstClockTime) - diff)
    self->qos_earliest = timestamp + diff;
  else
    self->qos_earliest = 0;
  GST_OBJECT_UNLOCK (self);
  GST_LOG_OBJECT (self, "QoS: proportion %g, diff %" GST_STIME_FORMAT,
      proportion, GST_STIME_ARGS (diff));
  /* Not the base class's handler: with its own record of the QoS it would
   * drop late buffers, and a late frame should rather go through with the
   * tracked faces carried. */
  return gst_pad_push_event (GST_BASE_TRANSFORM_SINK_PAD (trans), event);
}
