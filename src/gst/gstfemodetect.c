/* gst-femo: femodetect, face detection (Haar/LBP cascade or YuNet) and
 * emotions as ROI metadata
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * SECTION:element-femodetect
 * @title: femodetect
 * @see_also: facedetect, femooverlay
 *
 * Finds faces (#GstFemoDetect:detector: YuNet, libfacedetection's CNN,
 * which also finds five landmarks per face, or an OpenCV Haar or LBP
 * cascade from OpenCV's XML files, no OpenCV needed), tells the emotion of each
 * with the mini-Xception network
 * (#GstFemoDetect:model-file), follows each face over time as a track, and
 * attaches one #GstVideoRegionOfInterestMeta "face" per face with its
 * "detection", "object_id", "femo/emotion" and "femo/emotion-raw" params
 * (and "landmarks" with YuNet), and, where built with GStreamer 1.24+'s
 * analytics library, the same faces as a GstAnalyticsRelationMeta
 * (#GstFemoDetect:metadata).
 * With #GstFemoDetect:post-messages it also posts a "femodetect" element
 * message per frame (facedetect's schema), "femodetect-label-changed" and
 * "femodetect-track-ended". <gst/femo/femo-meta.h> names every field and
 * has functions that read them (pkg-config gstreamer-femo-1.0).
 *
 * The analysis itself is libfemo's FemoAnalyzer (femo-analyzer.h): this
 * element maps each frame read-only (never copying or changing a pixel),
 * hands the analyzer its luma plane (or packed RGB; YUV chroma for YuNet,
 * which the analyzer converts to BGR once per frame), and turns the result
 * into metas and messages. Settings changed while playing apply from the
 * next frame; numeric ones are controllable. A late frame (QoS) is not
 * dropped: the tracks carry its faces. FLUSH and STREAM_START forget the
 * tracks; EOS ends them.
 *
 * The detector and the model are loaded from READY to PAUSED; a missing or
 * broken file fails that state change with a RESOURCE error naming it. A
 * file set while running is loaded before the next frame; if it fails, a
 * warning is posted and the previous one stays in use. Elements that use
 * the same model file share one loaded copy.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 -m filesrc location=face.png ! pngdec ! videoconvert \
 *     ! femodetect ! fakesink
 * ]| Prints the faces found in a picture and their emotions.
 * |[
 * gst-launch-1.0 v4l2src ! videoconvert ! femodetect min-size=60 \
 *     max-faces=4 ! femooverlay ! videoconvert ! autovideosink
 * ]| Shows up to four faces of at least 60x60 pixels of a webcam stream
 * with their emotions.
 * |[
 * gst-launch-1.0 -m filesrc location=face.png ! pngdec ! videoconvert \
 *     ! facedetect display=false ! videoconvert ! femodetect detect=false \
 *     ! fakesink
 * ]| Classifies the faces that facedetect found.
 * |[
 * gst-launch-1.0 filesrc location=face.png ! pngdec ! videoconvert \
 *     ! femodetect ! objectdetectionoverlay ! videoconvert ! autovideosink
 * ]| GStreamer 1.24+: upstream's overlay draws the faces and emotions from
 * the relation meta.
 * |[
 * gst-launch-1.0 -m filesrc location=video.mp4 ! decodebin ! videoconvert \
 *     ! femodetect detect-interval=3 classify-interval=2 process-width=640 \
 *     ! femooverlay show-track-id=true ! videoconvert ! autovideosink
 * ]| Scans every third frame at 640 pixels wide and prints when a face's
 * emotion changes and when a face leaves.
 * |[
 * gst-launch-1.0 v4l2src ! femodetect align-faces=true \
 *     ! femooverlay show-landmarks=true ! videoconvert ! autovideosink
 * ]| Finds faces with YuNet (in any of the raw formats a webcam gives),
 * crops them aligned on their eyes and draws their landmarks.
 * |[
 * gst-launch-1.0 v4l2src ! videoconvert ! femodetect detector=cascade \
 *     cascade-file=/usr/share/opencv4/lbpcascades/lbpcascade_frontalface_improved.xml \
 *     ! femooverlay ! videoconvert ! autovideosink
 * ]| Finds faces with OpenCV's LBP cascade instead.
 */


#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstfemodetect.h"
#include "femo-meta.h"
#include "femo-analyzer.h"
#include "femo-error.h"
#include "femo-video-format.h"

#include <string.h>

GST_DEBUG_CATEGORY_STATIC (gst_femo_detect_debug);
#define GST_CAT_DEFAULT gst_femo_detect_debug

#define DEFAULT_CASCADE_SUBPATH "haarcascades/haarcascade_frontalface_default.xml"
#define DEFAULT_MODEL_NAME "fer2013-mini-xception.safetensors"
#define DEFAULT_YUNET_NAME "yunet.safetensors"
#define DEFAULT_DETECTOR GST_FEMO_DETECTOR_YUNET
/* Frame duration assumed for buffers without timestamps when the caps
 * have no frame rate either. */
#define FALLBACK_FRAME_DURATION (40 * GST_MSECOND)
#define MAX_THREADS 64          /* libfemo's limit */

G_STATIC_ASSERT ((gint) FEMO_META_DETECTION_NEIGHBORS_HALF ==
    (gint) FEMO_FACE_DETECTOR_NEIGHBORS_HALF);
G_STATIC_ASSERT (FEMO_META_N_LANDMARKS == FEMO_N_LANDMARKS);
G_STATIC_ASSERT ((gint) GST_FEMO_DETECTOR_CASCADE ==
    (gint) FEMO_FACE_DETECTOR_CASCADE);
G_STATIC_ASSERT ((gint) GST_FEMO_DETECTOR_YUNET ==
    (gint) FEMO_FACE_DETECTOR_YUNET);

/* What a frame is processed with: every setting property is a member. */
typedef struct
{
  FemoAnalyzerSettings analysis;
  guint n_threads;
  gboolean post_messages;
  GstFemoDetectMetadata metadata;
} DetectSettings;

/* A setting property: its spec and where it lives in DetectSettings.
 * Booleans use min and max for nothing. Numbers are controllable (a
 * GstControlSource may change them with time) unless @fixed. */
typedef struct
{
  const gchar *name;
  const gchar *nick;
  const gchar *blurb;
  GType type;
  gsize offset;
  gdouble min;
  gdouble max;
  gdouble def;
  gboolean fixed;
} SettingSpec;

#define SETTING(field) G_STRUCT_OFFSET (DetectSettings, field)

/* Each setting is declared here once; gst-inspect-1.0 shows the blurbs. */
static const SettingSpec setting_specs[] = {
  {"scale-factor", "Scale factor",
        "Ratio between two scanned face sizes (OpenCV scaleFactor); smaller "
        "finds more faces, more slowly (cascade only)", G_TYPE_DOUBLE,
        SETTING (analysis.scale_factor), 1.01, 10.0,
      FEMO_ANALYZER_DEFAULT_SCALE_FACTOR},
  {"min-neighbors", "Minimum neighbors",
        "How many overlapping raw detections a face needs (OpenCV "
        "minNeighbors); 0 reports every raw window (cascade only)", G_TYPE_INT,
        SETTING (analysis.min_neighbors), 0, 1000,
      FEMO_ANALYZER_DEFAULT_MIN_NEIGHBORS},
  {"min-size", "Minimum size",
        "Smallest face to find, in pixels (the cascade: width and "
        "height, OpenCV minSize; YuNet: boxes whose larger side is "
        "smaller are dropped)", G_TYPE_INT,
        SETTING (analysis.min_size), 0, G_MAXINT,
      FEMO_ANALYZER_DEFAULT_MIN_SIZE},
  {"max-size", "Maximum size",
        "Largest face to find, in pixels (the cascade: width and height, "
        "OpenCV maxSize; YuNet: boxes with a larger side are dropped); "
        "0 = no limit",
        G_TYPE_INT, SETTING (analysis.max_size), 0,
      G_MAXINT, FEMO_ANALYZER_DEFAULT_MAX_SIZE},
  {"max-faces", "Maximum faces",
        "Report at most this many faces per frame, the largest ones; "
        "0 = no limit", G_TYPE_INT, SETTING (analysis.max_faces), 0, G_MAXINT,
      FEMO_ANALYZER_DEFAULT_MAX_FACES},
  {"merge-overlaps", "Merge overlaps",
        "Drop a face box that overlaps a stronger one (more neighbors, then "
        "larger) by more than this share of the smaller box's area: the "
        "nested or shifted second boxes that OpenCV's grouping leaves on one "
        "face; 0 = off, OpenCV's boxes exactly (cascade only: YuNet has its "
        "own non-maximum suppression)", G_TYPE_DOUBLE,
        SETTING (analysis.merge_overlaps), 0.0, 1.0,
      FEMO_ANALYZER_DEFAULT_MERGE_OVERLAPS},
  {"n-threads", "Threads",
        "Threads that scan one frame; 0 = one per CPU core", G_TYPE_UINT,
      SETTING (n_threads), 0, MAX_THREADS, 0, TRUE},
  {"post-messages", "Post messages",
        "Post a \"" FEMO_META_DETECT_MESSAGE_NAME "\" element message with "
        "the faces of every frame (same schema as facedetect's message)",
      G_TYPE_BOOLEAN, SETTING (post_messages), 0, 1, TRUE},
  {"classify", "Classify",
        "Tell the emotion of each face (a \"" FEMO_META_EMOTION_PARAMS_NAME
        "\" param structure on its ROI meta); false = the model is never "
        "loaded", G_TYPE_BOOLEAN, SETTING (analysis.classify), 0, 1, TRUE},
  {"detect", "Detect",
        "Find faces with the detector; false = classify the \""
        FEMO_META_ROI_TYPE_FACE "\" ROI metas already on the buffer (from "
        "facedetect or any other detector), or without any, the \""
        FEMO_META_ROI_TYPE_FACE "\" detections of its "
        "GstAnalyticsRelationMeta; with classify=false too, buffers pass "
        "through untouched", G_TYPE_BOOLEAN,
      SETTING (analysis.detect), 0, 1, TRUE},
  {"flip", "Flip averaging",
        "Also classify each face mirrored left-right and average the two "
        "emotions (twice the network's time per face; on FER2013's "
        "PublicTest the shipped model scores 0.6637 with it, 0.6654 "
        "without)", G_TYPE_BOOLEAN, SETTING (analysis.flip), 0, 1, FALSE},
  {"crop-margin", "Crop margin",
        "Margin added on each side of a face box before it is classified, "
        "as a fraction of the box side (the crop is square on the display "
        "and 1 + 2 * margin times the box)", G_TYPE_DOUBLE,
        SETTING (analysis.crop_margin), FEMO_ANALYZER_MIN_CROP_MARGIN,
      FEMO_ANALYZER_MAX_CROP_MARGIN, FEMO_ANALYZER_DEFAULT_CROP_MARGIN},
  {"tracking", "Tracking",
        "Give each face a track id that stays the same while it is the "
        "same face, smooth its emotion over time and post track messages; "
        "false = every frame on its own (metas numbered 0, 1, ...)",
      G_TYPE_BOOLEAN, SETTING (analysis.tracking), 0, 1, TRUE},
  {"track-timeout", "Track timeout",
        "Frames a track survives without a detection before it ends (and "
        "the face gets a new id if it comes back)", G_TYPE_UINT,
        SETTING (analysis.track_timeout), 0, FEMO_ANALYZER_MAX_TRACK_TIMEOUT,
      FEMO_ANALYZER_DEFAULT_TRACK_TIMEOUT},
  {"smoothing", "Smoothing",
        "Time constant in seconds of the moving average of each track's "
        "emotion probabilities (from buffer timestamps, so independent of "
        "the frame rate); 0 = off", G_TYPE_DOUBLE,
        SETTING (analysis.smoothing), 0.0, FEMO_ANALYZER_MAX_SMOOTHING,
      FEMO_ANALYZER_DEFAULT_SMOOTHING},
  {"label-hysteresis", "Label hysteresis",
        "Probability margin by which another emotion must beat a track's "
        "shown one to replace it at once (it also does after leading 5 "
        "classifications in a row); 0 = off", G_TYPE_DOUBLE,
        SETTING (analysis.label_hysteresis), 0.0, 1.0,
      FEMO_ANALYZER_DEFAULT_LABEL_HYSTERESIS},
  {"detect-interval", "Detect interval",
        "Run the detector every Nth frame; the frames between carry the "
        "tracked faces with predicted boxes (needs tracking=true)",
        G_TYPE_UINT, SETTING (analysis.detect_interval), 1,
      FEMO_ANALYZER_MAX_INTERVAL, FEMO_ANALYZER_DEFAULT_DETECT_INTERVAL},
  {"classify-interval", "Classify interval",
        "Classify a tracked face every Mth time it is detected (sooner "
        "when its box grows); in between its smoothed emotion is reused "
        "(needs tracking=true)", G_TYPE_UINT,
        SETTING (analysis.classify_interval), 1, FEMO_ANALYZER_MAX_INTERVAL,
      FEMO_ANALYZER_DEFAULT_CLASSIFY_INTERVAL},
  {"process-width", "Process width",
        "Scan frames wider than this at this width (downscaled copy; boxes "
        "are scaled back, faces are classified at full size); 0 = full "
        "size", G_TYPE_UINT, SETTING (analysis.process_width), 0,
      FEMO_ANALYZER_MAX_SIDE, FEMO_ANALYZER_DEFAULT_PROCESS_WIDTH},
  {"min-confidence", "Minimum confidence",
        "Drop faces whose detection confidence (the \""
        FEMO_META_DETECTION_PARAMS_NAME "\" param's, 0..1) is below this: "
        "the cascade's neighbors / (neighbors + 10), YuNet's score (its "
        "network's threshold: 0.2 gives libfacedetection's own faces); -1 = "
        "the detector's default (the cascade: 0, every face; YuNet: "
        G_STRINGIFY (FEMO_YUNET_DEFAULT_MIN_CONFIDENCE) ")", G_TYPE_DOUBLE,
        SETTING (analysis.min_confidence), -1.0, 1.0,
      FEMO_ANALYZER_DEFAULT_MIN_CONFIDENCE},
  {"align-faces", "Align faces",
        "Crop each face that has landmarks turned and scaled so that its "
        "eyes sit level where FER2013's mean face has them, before it is "
        "classified (crop-margin then does not apply); faces without "
        "landmarks (the cascade's) are cropped by their box", G_TYPE_BOOLEAN,
        SETTING (analysis.align), 0, 1, FEMO_ANALYZER_DEFAULT_ALIGN},
};

enum
{
  PROP_0,
  PROP_DETECTOR,
  PROP_CASCADE_FILE,
  PROP_YUNET_MODEL,
  PROP_MODEL_FILE,
  PROP_MODEL,
  PROP_DETECTIONS_RUN,
  PROP_FACES_CLASSIFIED,
  PROP_METADATA,
  /* then one per setting_specs[] row */
  PROP_FIRST_SETTING,
};

struct _GstFemoDetect
{
  GstVideoFilter parent;

  /* Properties, under the object lock. */
  DetectSettings settings;
  GstFemoDetectorKind detector;
  gchar *cascade_file;
  gchar *yunet_model;
  gboolean detector_changed;    /* to be loaded by the streaming thread */
  gboolean detector_set;        /* "detector" was set by the application */
  gboolean cascade_file_set;    /* and "cascade-file" */
  gchar *model_file;
  gboolean model_file_changed;  /* to be loaded by the streaming thread */
  FemoModel *model;             /* a reference for the "model" property */
  /* diagnostics */
  guint64 detections_run;
  guint64 faces_classified;
  /* running time before which frames are late, from the last QoS event */
  GstClockTime qos_earliest;

  /* Between start and stop, owned by the streaming thread (serialized
   * events reach sink_event under the stream lock). */
  FemoAnalyzer *analyzer;
  GstVideoRegionOfInterestMeta **rois;  /* the meta of each face */
  FemoRect *given;              /* detect=false: the faces of upstream metas */
  /* detect=false, per face: its detection in the relation meta, -1 when it
   * came from a ROI meta; and that detection's track (0: none) */
  gint *given_ids;
  guint *given_tracks;
  gsize face_capacity;
  /* the "metadata" value this build was last found able to attach */
  GstFemoDetectMetadata metadata_checked;

  /* From set_info: how to get luma and colour out of a frame. */
  FemoVideoFormat format;
};

#define VIDEO_FORMATS "{ GRAY8, I420, YV12, NV12, NV21, Y42B, Y444, Y41B, " \
  "NV16, NV61, NV24, A420, YUY2, UYVY, YVYU, VYUY, RGB, BGR, RGBA, BGRA, " \
  "RGBx, BGRx, xRGB, xBGR, ARGB, ABGR }"

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
GType
gst_femo_detector_kind_get_type (void)
{
  static const GEnumValue values[] = {
    {GST_FEMO_DETECTOR_CASCADE, "OpenCV Haar or LBP cascade (cascade-file)",
        "cascade"},
    {GST_FEMO_DETECTOR_YUNET, "YuNet, libfacedetection's CNN (yunet-model)",
        "yunet"},
    {0, NULL, NULL},
  };
  static gsize type = 0;

  if (g_once_init_enter (&type))
    g_once_init_leave (&type, g_enum_register_static ("GstFemoDetectorKind",
            values));
  return type;
}
GST_ELEMENT_REGISTER_DEFINE (femodetect, "femodetect", GST_RANK_NONE,
    GST_TYPE_FEMO_DETECT);

/* The "model" property hands out a reference: the element may drop its own
 * while the application still holds the model. */
G_DEFINE_BOXED_TYPE (FemoModel, gst_femo_model, femo_model_ref,
    femo_model_unref);

GType
gst_femo_detect_metadata_get_type (void)
{
  static const GEnumValue values[] = {
    {GST_FEMO_DETECT_METADATA_ROI,
        "GstVideoRegionOfInterestMeta per face", "roi"},
    {GST_FEMO_DETECT_METADATA_ANALYTICS,
        "GstAnalyticsRelationMeta (GStreamer 1.24+)", "analytics"},
    {GST_FEMO_DETECT_METADATA_BOTH, "Both", "both"},
    {0, NULL, NULL},
  };
  static GType type = 0;

  if (g_once_init_enter (&type))
    g_once_init_leave (&type,
        g_enum_register_static ("GstFemoDetectMetadata", values));
  return type;
}

/* Both where this build can write both (femo_meta_has_analytics()). */
static GstFemoDetectMetadata
default_metadata (void)
{
  return femo_meta_has_analytics ()? GST_FEMO_DETECT_METADATA_BOTH :
      GST_FEMO_DETECT_METADATA_ROI;
}

/* Resolved once, when the class is made: FEMO_CASCADE_DIR from the
 * environment wins over the build-time directory. */
static gchar *default_cascade_file;
/* Likewise FEMO_MODEL_DIR for the model and YuNet's weights. */
static gchar *default_model_file;
static gchar *default_yunet_model;

static void gst_femo_detect_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_femo_detect_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static void gst_femo_detect_finalize (GObject * object);
static gboolean gst_femo_detect_start (GstBaseTransform * trans);
static gboolean gst_femo_detect_stop (GstBaseTransform * trans);
static void gst_femo_detect_before_transform (GstBaseTransform * trans,
    GstBuffer * buf);
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

static GParamSpec *
make_setting_pspec (const SettingSpec * spec)
{
  GParamFlags flags = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_PLAYING;

  if (spec->type != G_TYPE_BOOLEAN && !spec->fixed)
    flags |= GST_PARAM_CONTROLLABLE;
  switch (spec->type) {
    case G_TYPE_BOOLEAN:
      return g_param_spec_boolean (spec->name, spec->nick, spec->blurb,
          spec->def != 0, flags);
    case G_TYPE_INT:
      return g_param_spec_int (spec->name, spec->nick, spec->blurb,
          spec->min, spec->max, spec->def, flags);
    case G_TYPE_UINT:
      return g_param_spec_uint (spec->name, spec->nick, spec->blurb,
          spec->min, spec->max, spec->def, flags);
    case G_TYPE_DOUBLE:
      return g_param_spec_double (spec->name, spec->nick, spec->blurb,
          spec->min, spec->max, spec->def, flags);
    default:
      g_assert_not_reached ();
  }
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
  const GParamFlags read_only = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;
  guint i;

  GST_DEBUG_CATEGORY_INIT (gst_femo_detect_debug, "femodetect", 0,
      "femo face detector");

  default_cascade_file = gst_femo_detect_make_default_file ("FEMO_CASCADE_DIR",
      FEMO_CASCADE_DIR, DEFAULT_CASCADE_SUBPATH);
  default_model_file = gst_femo_detect_make_default_file ("FEMO_MODEL_DIR",
      FEMO_MODEL_DIR, DEFAULT_MODEL_NAME);
  default_yunet_model = gst_femo_detect_make_default_file ("FEMO_MODEL_DIR",
      FEMO_MODEL_DIR, DEFAULT_YUNET_NAME);

  gobject_class->set_property = gst_femo_detect_set_property;
  gobject_class->get_property = gst_femo_detect_get_property;
  gobject_class->finalize = gst_femo_detect_finalize;

  /**
   * GstFemoDetect:detector:
   *
   * What finds the faces. `cascade`: an OpenCV Haar or LBP cascade
   * (#GstFemoDetect:cascade-file), detectMultiScale exactly, on the luma;
   * its confidence is neighbors / (neighbors + 10). `yunet`:
   * libfacedetection's YuNet CNN (#GstFemoDetect:yunet-model) on the
   * colour, which also finds turned and profile faces, gives each face a
   * score and five landmarks (the "landmarks" param), and boxes that are
   * not square; #GstFemoDetect:scale-factor, #GstFemoDetect:min-neighbors
   * and #GstFemoDetect:merge-overlaps do not apply to it. Changed while
   * running, the detector is loaded before the next frame (a warning if it
   * fails, and the previous one stays in use).
   */
  g_object_class_install_property (gobject_class, PROP_DETECTOR,
      g_param_spec_enum ("detector", "Detector",
          "What finds the faces: yunet (libfacedetection's YuNet CNN, "
          "yunet-model: faces at more angles, a score and five landmarks "
          "each) or cascade (an OpenCV Haar or LBP cascade, cascade-file, "
          "with OpenCV's boxes). Set while running, it is loaded before the "
          "next frame",
          GST_TYPE_FEMO_DETECTOR_KIND, DEFAULT_DETECTOR, flags));
  gst_type_mark_as_plugin_api (GST_TYPE_FEMO_DETECTOR_KIND, 0);
  /**
   * GstFemoDetect:cascade-file:
   *
   * The OpenCV cascade XML (Haar or LBP) to detect faces with. Setting it
   * while running loads it before the next frame; a file that fails to load
   * then posts a warning and the previous cascade stays in use. Setting a
   * file before #GstFemoDetect:detector was set selects the cascade
   * (pipelines written when it was the only detector keep working); with
   * detector=yunet set as well, starting posts a warning that the cascade is
   * not used.
   */
  g_object_class_install_property (gobject_class, PROP_CASCADE_FILE,
      g_param_spec_string ("cascade-file", "Cascade file",
          "OpenCV face cascade XML, Haar or LBP (default: "
          "$FEMO_CASCADE_DIR/" DEFAULT_CASCADE_SUBPATH ", FEMO_CASCADE_DIR "
          "defaulting to " FEMO_CASCADE_DIR "). Set while running, it is "
          "loaded before the next frame; if that fails a warning is posted "
          "and the previous cascade stays in use. Set while detector is "
          "not, it selects detector=cascade", default_cascade_file,
          flags));
  /**
   * GstFemoDetect:yunet-model:
   *
   * YuNet's weights for #GstFemoDetect:detector=yunet: the
   * yunet.safetensors shipped with gst-femo (converted from
   * libfacedetection's, see models/README.md), found in FEMO_MODEL_DIR as
   * the emotion model is. Setting it while running loads it before the
   * next frame; a file that fails to load then posts a warning and the
   * previous detector stays in use.
   */
  g_object_class_install_property (gobject_class, PROP_YUNET_MODEL,
      g_param_spec_string ("yunet-model", "YuNet model",
          "YuNet's weights, safetensors, for detector=yunet (default: "
          "$FEMO_MODEL_DIR/" DEFAULT_YUNET_NAME ", FEMO_MODEL_DIR defaulting "
          "to " FEMO_MODEL_DIR "). Set while running, it is loaded before the "
          "next frame; if that fails a warning is posted and the previous "
          "detector stays in use", default_yunet_model, flags));
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
   * GstFemoDetect:model:
   *
   * The loaded emotion model (a FemoModel reference, NULL when none is
   * loaded): elements that share a model give the same pointer. The
   * reference stays valid after the element stops; free it with
   * g_boxed_free().
   */
  g_object_class_install_property (gobject_class, PROP_MODEL,
      g_param_spec_boxed ("model", "Model",
          "The loaded emotion model (a reference to an opaque FemoModel; "
          "NULL when none is loaded); elements using the same model file "
          "give the same pointer", gst_femo_model_get_type (), read_only));
  g_object_class_install_property (gobject_class, PROP_DETECTIONS_RUN,
      g_param_spec_uint64 ("detections-run", "Detections run",
          "Diagnostic: frames the detector scanned since the element started",
          0, G_MAXUINT64, 0, read_only));
  g_object_class_install_property (gobject_class, PROP_FACES_CLASSIFIED,
      g_param_spec_uint64 ("faces-classified", "Faces classified",
          "Diagnostic: faces the emotion network classified since the "
          "element started", 0, G_MAXUINT64, 0, read_only));
  /**
   * GstFemoDetect:metadata:
   *
   * Which metadata the faces are attached as: ROI metas (the contract of
   * femo-meta.h), a GstAnalyticsRelationMeta (GStreamer 1.24+: one
   * object-detection, classification and tracking mtd per face), or both.
   * Both by default where gst-femo was built with gstreamer-analytics-1.0,
   * roi otherwise; there, starting with analytics fails with a LIBRARY
   * error and with both posts a warning and attaches ROI metas only (a
   * change while running is checked at the next frame: the error then
   * stops the stream).
   */
  g_object_class_install_property (gobject_class, PROP_METADATA,
      g_param_spec_enum ("metadata", "Metadata",
          "Attach the faces as ROI metas, as a GstAnalyticsRelationMeta "
          "(GStreamer 1.24+; objectdetectionoverlay and other analytics "
          "elements read it) or both (the default where built with "
          "gstreamer-analytics-1.0)", GST_TYPE_FEMO_DETECT_METADATA,
          default_metadata (), flags));
  for (i = 0; i < G_N_ELEMENTS (setting_specs); i++)
    g_object_class_install_property (gobject_class, PROP_FIRST_SETTING + i,
        make_setting_pspec (&setting_specs[i]));

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class, "Face detector",
      "Filter/Analyzer/Video",
      "Finds faces with YuNet (a CNN) or an OpenCV Haar or LBP cascade, "
      "tells their emotions and attaches them as region-of-interest metadata",
      "gst-femo developers");

  trans_class->start = GST_DEBUG_FUNCPTR (gst_femo_detect_start);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_femo_detect_stop);
  trans_class->before_transform =
      GST_DEBUG_FUNCPTR (gst_femo_detect_before_transform);
  /* Our own transform_ip, not GstVideoFilter's: that one maps the frame
   * writable, which copies the pixels of a shared buffer. */
  trans_class->transform_ip = GST_DEBUG_FUNCPTR (gst_femo_detect_transform_ip);
  trans_class->sink_event = GST_DEBUG_FUNCPTR (gst_femo_detect_sink_event);
  trans_class->src_event = GST_DEBUG_FUNCPTR (gst_femo_detect_src_event);
  vfilter_class->set_info = GST_DEBUG_FUNCPTR (gst_femo_detect_set_info);
}

static gpointer
setting_field (GstFemoDetect * self, guint prop_id)
{
  return G_STRUCT_MEMBER_P (&self->settings,
      setting_specs[prop_id - PROP_FIRST_SETTING].offset);
}

static void
gst_femo_detect_init (GstFemoDetect * self)
{
  guint i;

  femo_analyzer_settings_init (&self->settings.analysis);
  for (i = 0; i < G_N_ELEMENTS (setting_specs); i++) {
    const SettingSpec *spec = &setting_specs[i];
    gpointer field = setting_field (self, PROP_FIRST_SETTING + i);

    switch (spec->type) {
      case G_TYPE_BOOLEAN:
        *(gboolean *) field = spec->def != 0;
        break;
      case G_TYPE_INT:
        *(gint *) field = spec->def;
        break;
      case G_TYPE_UINT:
        *(guint *) field = spec->def;
        break;
      default:
        *(gdouble *) field = spec->def;
        break;
    }
  }
  self->detector = DEFAULT_DETECTOR;
  self->settings.metadata = default_metadata ();
  self->cascade_file = g_strdup (default_cascade_file);
  self->yunet_model = g_strdup (default_yunet_model);
  self->model_file = g_strdup (default_model_file);
  self->qos_earliest = GST_CLOCK_TIME_NONE;

  /* Metadata only: the buffer goes through in place (basetransform makes it
   * writable, a shallow copy at most) and no pixel is written. */
  gst_base_transform_set_in_place (GST_BASE_TRANSFORM (self), TRUE);
}

static void
gst_femo_detect_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstFemoDetect *self = GST_FEMO_DETECT (object);
  gboolean implied = FALSE;
  const gchar *path;

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_DETECTOR:
      self->detector_changed |=
          (gint) self->detector != g_value_get_enum (value);
      self->detector = g_value_get_enum (value);
      self->detector_set = TRUE;
      break;
    case PROP_CASCADE_FILE:
      path = g_value_get_string (value);
      g_free (self->cascade_file);
      self->cascade_file = g_strdup (path ? path : default_cascade_file);
      self->cascade_file_set = path != NULL;
      /* a cascade named, and no detector chosen: the cascade is meant */
      if (path && !self->detector_set
          && self->detector != GST_FEMO_DETECTOR_CASCADE) {
        self->detector = GST_FEMO_DETECTOR_CASCADE;
        implied = TRUE;
      }
      self->detector_changed |= self->detector == GST_FEMO_DETECTOR_CASCADE;
      break;
    case PROP_YUNET_MODEL:
      path = g_value_get_string (value);
      g_free (self->yunet_model);
      self->yunet_model = g_strdup (path ? path : default_yunet_model);
      self->detector_changed |= self->detector == GST_FEMO_DETECTOR_YUNET;
      break;
    case PROP_MODEL_FILE:
      path = g_value_get_string (value);
      g_free (self->model_file);
      self->model_file = g_strdup (path ? path : default_model_file);
      self->model_file_changed = TRUE;
      break;
    case PROP_METADATA:
      self->settings.metadata = g_value_get_enum (value);
      break;
    default:
      if (prop_id < PROP_FIRST_SETTING
          || prop_id >= PROP_FIRST_SETTING + G_N_ELEMENTS (setting_specs)) {
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      } else if (G_VALUE_HOLDS_BOOLEAN (value)) {
        *(gboolean *) setting_field (self, prop_id) =
            g_value_get_boolean (value);
      } else if (G_VALUE_HOLDS_INT (value)) {
        *(gint *) setting_field (self, prop_id) = g_value_get_int (value);
      } else if (G_VALUE_HOLDS_UINT (value)) {
        *(guint *) setting_field (self, prop_id) = g_value_get_uint (value);
      } else {
        *(gdouble *) setting_field (self, prop_id) =
            g_value_get_double (value);
      }
      break;
  }
  GST_OBJECT_UNLOCK (self);
  if (implied) {
    GST_INFO_OBJECT (self, "cascade-file set and no detector chosen: "
        "detector=cascade");
    g_object_notify (object, "detector");
  }
}

static void
gst_femo_detect_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstFemoDetect *self = GST_FEMO_DETECT (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_DETECTOR:
      g_value_set_enum (value, self->detector);
      break;
    case PROP_CASCADE_FILE:
      g_value_set_string (value, self->cascade_file);
      break;
    case PROP_YUNET_MODEL:
      g_value_set_string (value, self->yunet_model);
      break;
    case PROP_MODEL_FILE:
      g_value_set_string (value, self->model_file);
      break;
    case PROP_MODEL:
      g_value_set_boxed (value, self->model);
      break;
    case PROP_DETECTIONS_RUN:
      g_value_set_uint64 (value, self->detections_run);
      break;
    case PROP_FACES_CLASSIFIED:
      g_value_set_uint64 (value, self->faces_classified);
      break;
    case PROP_METADATA:
      g_value_set_enum (value, self->settings.metadata);
      break;
    default:
      if (prop_id < PROP_FIRST_SETTING
          || prop_id >= PROP_FIRST_SETTING + G_N_ELEMENTS (setting_specs)) {
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      } else if (G_VALUE_HOLDS_BOOLEAN (value)) {
        g_value_set_boolean (value,
            *(gboolean *) setting_field (self, prop_id));
      } else if (G_VALUE_HOLDS_INT (value)) {
        g_value_set_int (value, *(gint *) setting_field (self, prop_id));
      } else if (G_VALUE_HOLDS_UINT (value)) {
        g_value_set_uint (value, *(guint *) setting_field (self, prop_id));
      } else {
        g_value_set_double (value, *(gdouble *) setting_field (self, prop_id));
      }
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

/* The model the "model" property gives, NULL when none. */
static void
gst_femo_detect_publish_model (GstFemoDetect * self, FemoModel * model)
{
  FemoModel *old;

  if (model != NULL)
    femo_model_ref (model);
  GST_OBJECT_LOCK (self);
  old = self->model;
  self->model = model;
  GST_OBJECT_UNLOCK (self);
  if (old != NULL)
    femo_model_unref (old);
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

/* The file the detector @kind loads (a copy), under the object lock. */
static gchar *
gst_femo_detect_detector_file (GstFemoDetect * self, GstFemoDetectorKind kind)
{
  return g_strdup (kind == GST_FEMO_DETECTOR_YUNET ? self->yunet_model :
      self->cascade_file);
}

/* Replaces the detector only when @path loads. */
static gboolean
gst_femo_detect_load_detector (GstFemoDetect * self, GstFemoDetectorKind kind,
    const gchar * path, guint n_threads, gboolean fatal)
{
  gboolean yunet = kind == GST_FEMO_DETECTOR_YUNET;
  const FemoFaceDetector *detector;
  GError *error = NULL;

  if (!femo_analyzer_load_detector (self->analyzer,
          (FemoFaceDetectorKind) kind, path, n_threads, &error)) {
    gst_femo_detect_report_load_error (self, fatal,
        yunet ? "YuNet model" : "face cascade",
        yunet ? "yunet-model" : "cascade-file", path, error);
    g_error_free (error);
    return FALSE;
  }
  detector = femo_analyzer_get_detector (self->analyzer);
  GST_INFO_OBJECT (self, "loaded %s %s, %u threads",
      femo_face_detector_describe (detector), path,
      femo_face_detector_get_threads_used (detector));
  return TRUE;
}

/* Replaces the model (from the process-wide cache) only when @path loads. */
static gboolean
gst_femo_detect_load_model (GstFemoDetect * self, const gchar * path,
    gboolean fatal)
{
  GError *error = NULL;
  FemoModel *model;

  if (!femo_analyzer_load_model (self->analyzer, path, &error)) {
    gst_femo_detect_report_load_error (self, fatal, "emotion model",
        "model-file", path, error);
    g_error_free (error);
    return FALSE;
  }
  model = femo_analyzer_get_model (self->analyzer);
  gst_femo_detect_publish_model (self, model);
  GST_INFO_OBJECT (self, "emotion model %s (%p), %u classes", path, model,
      femo_model_get_n_labels (model));
  return TRUE;
}

/* Room for @n faces and their metas. */
static void
gst_femo_detect_ensure_faces (GstFemoDetect * self, gsize n)
{
  if (n <= self->face_capacity)
    return;
  self->face_capacity = MAX (n, self->face_capacity * 2);
  self->rois = g_renew (GstVideoRegionOfInterestMeta *, self->rois,
      self->face_capacity);
  self->given = g_renew (FemoRect, self->given, self->face_capacity);
  self->given_ids = g_renew (gint, self->given_ids, self->face_capacity);
  self->given_tracks = g_renew (guint, self->given_tracks, self->face_capacity);
}

static void
gst_femo_detect_clear (GstFemoDetect * self)
{
  gst_femo_detect_publish_model (self, NULL);
  g_clear_pointer (&self->analyzer, femo_analyzer_free);
  g_clear_pointer (&self->rois, g_free);
  g_clear_pointer (&self->given, g_free);
  g_clear_pointer (&self->given_ids, g_free);
  g_clear_pointer (&self->given_tracks, g_free);
  self->face_capacity = 0;
}

/* Forgets the QoS state (FLUSH, a new stream, a restart). */
static void
gst_femo_detect_reset_qos (GstFemoDetect * self)
{
  GST_OBJECT_LOCK (self);
  self->qos_earliest = GST_CLOCK_TIME_NONE;
  GST_OBJECT_UNLOCK (self);
}

/* A build without gstreamer-analytics-1.0 cannot attach a relation meta:
 * asked for that alone, it fails (the faces would go nowhere); asked for
 * both, it warns and attaches ROI metas. */
static gboolean
gst_femo_detect_check_metadata (GstFemoDetect * self,
    GstFemoDetectMetadata metadata)
{
  if (!(metadata & GST_FEMO_DETECT_METADATA_ANALYTICS)
      || femo_meta_has_analytics ())
    return TRUE;
  if (metadata == GST_FEMO_DETECT_METADATA_ANALYTICS) {
    GST_ELEMENT_ERROR (self, LIBRARY, SETTINGS,
        ("metadata=analytics needs GStreamer's analytics library "
            "(gstreamer-analytics-1.0, GStreamer 1.24 or later), which this "
            "build of gst-femo was made without; use metadata=roi"), (NULL));
    return FALSE;
  }
  GST_ELEMENT_WARNING (self, LIBRARY, SETTINGS,
      ("metadata=both: this build of gst-femo has no GstAnalytics "
          "(gstreamer-analytics-1.0, GStreamer 1.24 or later); attaching "
          "ROI metas only"), (NULL));
  return TRUE;
}

/* Loads what the first frame needs; what is switched off is loaded by the
 * streaming thread when it is switched on. */
static gboolean
gst_femo_detect_start (GstBaseTransform * trans)
{
  GstFemoDetect *self = GST_FEMO_DETECT (trans);
  gchar *detector_path = NULL, *model_path = NULL, *ignored;
  GstFemoDetectorKind kind;
  GstFemoDetectMetadata metadata;
  guint n_threads;
  gboolean ok = TRUE;

  GST_OBJECT_LOCK (self);
  kind = self->detector;
  metadata = self->settings.metadata;
  ignored = kind == GST_FEMO_DETECTOR_YUNET && self->cascade_file_set ?
      g_strdup (self->cascade_file) : NULL;
  GST_OBJECT_UNLOCK (self);
  if (ignored) {
    GST_ELEMENT_WARNING (self, RESOURCE, SETTINGS, ("cascade-file is set but "
            "detector=yunet: the cascade is not used (set detector=cascade "
            "to detect with it)"), ("cascade-file=%s", ignored));
    g_free (ignored);
  }
  if (!gst_femo_detect_check_metadata (self, metadata))
    return FALSE;
  self->metadata_checked = metadata;

  GST_OBJECT_LOCK (self);
  if (self->settings.analysis.detect)
    detector_path = gst_femo_detect_detector_file (self, kind);
  self->detector_changed = !self->settings.analysis.detect;
  if (self->settings.analysis.classify)
    model_path = g_strdup (self->model_file);
  self->model_file_changed = !self->settings.analysis.classify;
  n_threads = self->settings.n_threads;
  self->detections_run = 0;
  self->faces_classified = 0;
  GST_OBJECT_UNLOCK (self);

  self->analyzer = femo_analyzer_new ();
  if (detector_path)
    ok = gst_femo_detect_load_detector (self, kind, detector_path, n_threads,
        TRUE);
  if (ok && model_path)
    ok = gst_femo_detect_load_model (self, model_path, TRUE);
  if (ok)
    gst_femo_detect_reset_qos (self);
  else
    gst_femo_detect_clear (self);
  g_free (detector_path);
  g_free (model_path);
  return ok;
}

static gboolean
gst_femo_detect_stop (GstBaseTransform * trans)
{
  gst_femo_detect_clear (GST_FEMO_DETECT (trans));
  return TRUE;
}

static void
gst_femo_detect_finalize (GObject * object)
{
  GstFemoDetect *self = GST_FEMO_DETECT (object);

  gst_femo_detect_clear (self);
  g_free (self->cascade_file);
  g_free (self->yunet_model);
  g_free (self->model_file);

  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static gboolean
gst_femo_detect_set_info (GstVideoFilter * filter, GstCaps * incaps,
    GstVideoInfo * in_info, GstCaps * outcaps, GstVideoInfo * out_info)
{
  GstFemoDetect *self = GST_FEMO_DETECT (filter);

  femo_video_format_init (&self->format, in_info);
  GST_DEBUG_OBJECT (self, "%s %dx%d", GST_VIDEO_INFO_NAME (in_info),
      GST_VIDEO_INFO_WIDTH (in_info), GST_VIDEO_INFO_HEIGHT (in_info));
  return TRUE;
}

/* A running time the analyzer saw back as a buffer timestamp. */
static GstClockTime
gst_femo_detect_to_timestamp (GstFemoDetect * self, GstClockTime time)
{
  GstSegment *segment = &GST_BASE_TRANSFORM (self)->segment;

  if (segment->format != GST_FORMAT_TIME)
    return time;
  return gst_segment_position_from_running_time (segment, GST_FORMAT_TIME,
      time);
}

/* The class names of the loaded model and their count (NULL and 0 without
 * a model). */
static const gchar *const *
gst_femo_detect_labels (GstFemoDetect * self, guint * n_labels)
{
  FemoModel *model = femo_analyzer_get_model (self->analyzer);

  *n_labels = model ? femo_model_get_n_labels (model) : 0;
  return model ? femo_model_get_labels (model) : NULL;
}

/* Attaches a meta per face femodetect found or carried, numbered 0, 1, ...
 * or by track (its id, also in an "object_id" param; track ids are unique
 * within a frame too); with the detector's "detection" param on faces
 * detected in this frame, and the landmarks of those that have them. */
static void
gst_femo_detect_add_metas (GstFemoDetect * self, GstBuffer * buf,
    const FemoAnalyzerResult * result, gint width, gint height)
{
  const FemoFaceDetector *detector = femo_analyzer_get_detector (self->analyzer);
  /* only the cascade groups neighbours (no detector: no face either) */
  gboolean neighbors = detector != NULL
      && femo_face_detector_get_kind (detector) == FEMO_FACE_DETECTOR_CASCADE;
  gdouble xy[2 * FEMO_N_LANDMARKS];
  gsize i;
  gint k;

  gst_femo_detect_ensure_faces (self, result->n_faces);
  /* libfemo clips the boxes to the frame: they fit the unsigned fields. */
  for (i = 0; i < result->n_faces; i++) {
    const FemoAnalyzedFace *face = &result->faces[i];
    const FemoRect *r = &face->box;
    /* faces beyond what the tracker takes (femo-tracker.h's caps) have no
     * track: negative ids that no track has */
    gint id = !result->tracked ? (gint) i : face->track_id != 0 ?
        (gint) face->track_id : -1 - (gint) i;

    self->rois[i] = femo_meta_add_face (buf, r->x, r->y, r->width, r->height,
        id);
    if (face->detected)
      femo_meta_add_detection (self->rois[i], face->confidence,
          neighbors ? MAX (r->neighbors, 0) : -1, width, height);
    if (face->has_landmarks) {
      for (k = 0; k < 2 * FEMO_N_LANDMARKS; k++)
        xy[k] = face->landmarks.points[k];
      femo_meta_add_landmarks (self->rois[i], xy);
    }
    if (result->tracked && face->track_id != 0)
      femo_meta_add_object_id (self->rois[i], id);
  }
}

/* The emotions of the faces, on their metas (self->rois). */
static void
gst_femo_detect_add_emotions (GstFemoDetect * self,
    const FemoAnalyzerResult * result)
{
  guint n_labels;
  const gchar *const *labels = gst_femo_detect_labels (self, &n_labels);
  gsize i;

  for (i = 0; i < result->n_faces; i++) {
    const FemoAnalyzedFace *face = &result->faces[i];

    if (face->raw_label >= 0)
      femo_meta_set_emotion (self->rois[i], FEMO_META_EMOTION_RAW_PARAMS_NAME,
          labels, face->raw_probs, n_labels, face->raw_label, face->track_id);
    if (face->label >= 0)
      femo_meta_set_emotion (self->rois[i], FEMO_META_EMOTION_PARAMS_NAME,
          labels, face->probs, n_labels, face->label, face->track_id);
  }
}

/* detect=false: the faces already on @buf become the faces, as the reader
 * gives them: the "face" ROI metas, or without any, the "face" detections
 * of a GstAnalyticsRelationMeta. Their boxes are clipped to the frame
 * (another element may give any box: the crop's cost grows with its area);
 * boxes wholly outside are left alone. */
static gsize
gst_femo_detect_collect_metas (GstFemoDetect * self, GstBuffer * buf,
    gint width, gint height)
{
  gpointer state = NULL;
  FemoFaceInfo face;
  gsize n = 0;

  while (femo_buffer_iterate_faces (buf, &state, &face)) {
    guint64 x0 = MIN (face.x, (guint) width);
    guint64 y0 = MIN (face.y, (guint) height);
    guint64 x1 = MIN ((guint64) face.x + face.width, (guint64) width);
    guint64 y1 = MIN ((guint64) face.y + face.height, (guint64) height);
    FemoRect *r;

    if (x1 <= x0 || y1 <= y0)
      continue;
    gst_femo_detect_ensure_faces (self, n + 1);
    r = &self->given[n];
    r->x = x0;
    r->y = y0;
    r->width = x1 - x0;
    r->height = y1 - y0;
    r->neighbors = 0;
    self->given_ids[n] = face.roi ? -1 : (gint) face.analytics_id;
    self->given_tracks[n] = face.track_id;
    self->rois[n++] = face.roi;
  }
  return n;
}

/* detect=false: a ROI meta for each face read from a relation meta, so
 * that ROI readers see it too (numbered by its track when it had one,
 * else by its place). */
static void
gst_femo_detect_add_given_metas (GstFemoDetect * self, GstBuffer * buf,
    const FemoAnalyzerResult * result)
{
  gsize i;

  for (i = 0; i < result->n_faces; i++) {
    const FemoRect *r = &result->faces[i].box;
    guint track = MIN (self->given_tracks[i], (guint) G_MAXINT);

    if (self->rois[i] != NULL)
      continue;
    self->rois[i] = femo_meta_add_face (buf, r->x, r->y, r->width,
        r->height, track != 0 ? (gint) track : (gint) i);
    if (track != 0)
      femo_meta_add_object_id (self->rois[i], self->rois[i]->id);
  }
}

/* The faces as object detections of @buf's relation meta, with their
 * emotion (a classification) and track (a tracking mtd). A face read from
 * one keeps its detection; one from a ROI meta takes the detection an
 * earlier femodetect (metadata=both) gave that box, or a new one. */
static void
gst_femo_detect_add_analytics (GstFemoDetect * self, GstBuffer * buf,
    const FemoAnalyzerResult * result, gboolean detect)
{
  guint n_labels;
  const gchar *const *labels = gst_femo_detect_labels (self, &n_labels);
  gsize i;

  for (i = 0; i < result->n_faces; i++) {
    const FemoAnalyzedFace *face = &result->faces[i];
    const FemoRect *r = &face->box;
    gint id = -1;

    if (!detect && self->given_ids[i] >= 0)
      id = self->given_ids[i];
    else if (!detect)
      id = femo_meta_find_analytics_face (buf, self->rois[i]->x,
          self->rois[i]->y, self->rois[i]->w, self->rois[i]->h);
    if (id < 0)
      id = femo_meta_add_analytics_face (buf, r->x, r->y, r->width,
          r->height, face->detected ? face->confidence : 0.0);
    if (id < 0)
      continue;                 /* a build without GstAnalytics */
    if (face->label >= 0)
      femo_meta_add_analytics_emotion (buf, id, labels, face->probs, n_labels,
          face->label);
    if (face->track_id != 0)
      femo_meta_add_analytics_track (buf, id, face->track_id, face->first_ns,
          face->last_ns);
  }
}

static void
gst_femo_detect_post (GstFemoDetect * self, GstStructure * s)
{
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self), s));
}

/* The analyzer's track events as element messages, in their order. */
static void
gst_femo_detect_post_events (GstFemoDetect * self, GstBuffer * buf,
    GstClockTime running_time, const FemoAnalyzerResult * result)
{
  guint n_labels;
  const gchar *const *labels = gst_femo_detect_labels (self, &n_labels);
  gsize i;

  for (i = 0; i < result->n_events; i++) {
    const FemoTrackEvent *e = &result->events[i];
    const FemoTrackRecord *r = &e->record;

    /* labels: label changes happen only where a model classified */
    if (e->type == FEMO_TRACK_EVENT_LABEL_CHANGED)
      gst_femo_detect_post (self, femo_meta_new_label_changed (e->track_id,
              labels[e->old_label], labels[e->new_label],
              GST_BUFFER_PTS (buf), running_time));
    else
      gst_femo_detect_post (self, femo_meta_new_track_ended (e->track_id,
              gst_femo_detect_to_timestamp (self, r->first_ns),
              gst_femo_detect_to_timestamp (self, r->last_ns),
              r->duration_ns, r->n_detections, r->n_label_changes,
              r->dominant_label >= 0 && (guint) r->dominant_label < n_labels ?
              labels[r->dominant_label] : NULL,
              femo_track_end_reason_to_string (e->reason)));
  }
}

/* The frame's message, from the ROI metas when there are (@with_rois),
 * else from the analysis. */
static void
gst_femo_detect_post_message (GstFemoDetect * self, GstBuffer * buf,
    const FemoAnalyzerResult * result, gboolean with_rois,
    GstClockTime running_time, GstClockTime stream_time)
{
  guint n_labels;
  const gchar *const *labels = gst_femo_detect_labels (self, &n_labels);
  GstStructure *s = femo_meta_new_frame_message (GST_BUFFER_PTS (buf),
      stream_time, running_time, GST_BUFFER_DURATION (buf));
  gsize i;

  for (i = 0; i < result->n_faces; i++) {
    const FemoAnalyzedFace *face = &result->faces[i];
    guint track_id = result->tracked ? face->track_id : 0;
    GstStructure *emotion, *landmarks;
    gdouble xy[2 * FEMO_N_LANDMARKS];
    guint k;

    if (with_rois) {
      femo_meta_frame_message_add_face (s, self->rois[i], track_id);
      continue;
    }
    emotion = face->label < 0 ? NULL :
        femo_meta_new_emotion (FEMO_META_EMOTION_PARAMS_NAME, labels,
        face->probs, n_labels, face->label, face->track_id);
    femo_meta_frame_message_add_box (s, face->box.x, face->box.y,
        face->box.width, face->box.height, emotion, track_id);
    if (emotion != NULL)
      gst_structure_free (emotion);
    landmarks = NULL;
    if (face->has_landmarks) {
      for (k = 0; k < 2 * FEMO_N_LANDMARKS; k++)
        xy[k] = face->landmarks.points[k];
      landmarks = femo_meta_new_landmarks (xy);
    }
    femo_meta_frame_message_set_detection (s,
        face->detected ? face->confidence : -1.0, landmarks);
    if (landmarks != NULL)
      gst_structure_free (landmarks);
  }
  gst_femo_detect_post (self, s);
}

/* Copies the settings a frame needs, under the object lock; a detector
 * (@kind, from the file @new_detector) or model file to load comes back in
 * @new_detector / @new_model. */
static void
gst_femo_detect_read_settings (GstFemoDetect * self, DetectSettings * settings,
    GstClockTime * qos_earliest, GstFemoDetectorKind * kind,
    gchar ** new_detector, gchar ** new_model)
{
  GST_OBJECT_LOCK (self);
  *settings = self->settings;
  *qos_earliest = self->qos_earliest;
  *kind = self->detector;
  *new_detector = *new_model = NULL;
  if (settings->analysis.detect && self->detector_changed) {
    *new_detector = gst_femo_detect_detector_file (self, *kind);
    self->detector_changed = FALSE;
  }
  if (settings->analysis.classify && self->model_file_changed) {
    *new_model = g_strdup (self->model_file);
    self->model_file_changed = FALSE;
  }
  GST_OBJECT_UNLOCK (self);
}

/* Streaming thread: applies a detector, cascade-file, yunet-model,
 * model-file or n-threads change made while running (or detect / classify
 * switched on). What fails to load leaves what was running in place. */
static void
gst_femo_detect_apply_settings (GstFemoDetect * self,
    DetectSettings * settings, GstClockTime * qos_earliest)
{
  GstFemoDetectorKind kind;
  gchar *new_detector, *new_model;

  gst_femo_detect_read_settings (self, settings, qos_earliest, &kind,
      &new_detector, &new_model);
  if (new_detector != NULL)
    gst_femo_detect_load_detector (self, kind, new_detector,
        settings->n_threads, FALSE);
  if (new_model != NULL)
    gst_femo_detect_load_model (self, new_model, FALSE);
  femo_analyzer_set_n_threads (self->analyzer, settings->n_threads);
  g_free (new_detector);
  g_free (new_model);
}

/* Controlled properties take their values for this buffer's time. */
static void
gst_femo_detect_before_transform (GstBaseTransform * trans, GstBuffer * buf)
{
  GstClockTime stream_time = gst_segment_to_stream_time (&trans->segment,
      GST_FORMAT_TIME, GST_BUFFER_PTS (buf));

  if (GST_CLOCK_TIME_IS_VALID (stream_time))
    gst_object_sync_values (GST_OBJECT (trans), stream_time);
}

/* The length of one frame, for buffers without a timestamp. */
static GstClockTime
gst_femo_detect_frame_duration (GstFemoDetect * self, GstBuffer * buf)
{
  GstVideoInfo *info = &GST_VIDEO_FILTER (self)->in_info;

  if (GST_BUFFER_DURATION_IS_VALID (buf))
    return GST_BUFFER_DURATION (buf);
  if (GST_VIDEO_INFO_FPS_N (info) > 0)
    return gst_util_uint64_scale_int (GST_SECOND,
        GST_VIDEO_INFO_FPS_D (info), GST_VIDEO_INFO_FPS_N (info));
  return FALLBACK_FRAME_DURATION;
}

static GstFlowReturn
gst_femo_detect_transform_ip (GstBaseTransform * trans, GstBuffer * buf)
{
  GstFemoDetect *self = GST_FEMO_DETECT (trans);
  GstVideoFilter *filter = GST_VIDEO_FILTER (trans);
  GstVideoInfo *info = &filter->in_info;
  GstSegment *segment = &trans->segment;
  gint width = GST_VIDEO_INFO_WIDTH (info);
  gint height = GST_VIDEO_INFO_HEIGHT (info);
  FemoAnalyzerFrame f = { {0}, };
  FemoAnalyzerResult result;
  DetectSettings settings;
  GstVideoFrame frame;
  GstClockTime running_time = GST_CLOCK_TIME_NONE;
  GstClockTime stream_time = GST_CLOCK_TIME_NONE;
  GstClockTime qos_earliest;
  gboolean ok, mapped = FALSE, with_rois;
  GError *error = NULL;

  if (G_UNLIKELY (!filter->negotiated))
    goto not_negotiated;

  gst_femo_detect_apply_settings (self, &settings, &qos_earliest);
  if (settings.metadata != self->metadata_checked) {
    if (!gst_femo_detect_check_metadata (self, settings.metadata))
      return GST_FLOW_ERROR;
    self->metadata_checked = settings.metadata;
  }

  if (segment->format == GST_FORMAT_TIME) {
    running_time = gst_segment_to_running_time (segment, GST_FORMAT_TIME,
        GST_BUFFER_PTS (buf));
    stream_time = gst_segment_to_stream_time (segment, GST_FORMAT_TIME,
        GST_BUFFER_PTS (buf));
  }
  f.time_ns = GST_CLOCK_TIME_IS_VALID (running_time) ? running_time :
      FEMO_ANALYZER_TIME_NONE;
  f.duration_ns = gst_femo_detect_frame_duration (self, buf);
  f.par_n = GST_VIDEO_INFO_PAR_N (info);
  f.par_d = GST_VIDEO_INFO_PAR_D (info);
  /* Late (QoS): no time for detection; the tracks carry the faces. */
  f.late = gst_base_transform_is_qos_enabled (trans)
      && GST_CLOCK_TIME_IS_VALID (qos_earliest)
      && GST_CLOCK_TIME_IS_VALID (running_time)
      && running_time <= qos_earliest;
  f.image.width = width;
  f.image.height = height;

  if (!settings.analysis.detect) {
    f.n_faces = gst_femo_detect_collect_metas (self, buf, width, height);
    f.faces = self->given;
  }
  if (settings.analysis.detect || (settings.analysis.classify
          && f.n_faces > 0)) {
    if (!gst_video_frame_map (&frame, info, buf,
            GST_MAP_READ | GST_VIDEO_FRAME_MAP_FLAG_NO_REF))
      goto map_failed;
    mapped = TRUE;
    femo_video_format_describe (&self->format, &frame, &f);
  }

  ok = femo_analyzer_process (self->analyzer, &settings.analysis, &f, &result,
      &error);
  if (mapped)
    gst_video_frame_unmap (&frame);

  if (settings.post_messages)
    gst_femo_detect_post_events (self, buf, running_time, &result);
  if (!ok)
    goto analysis_failed;
  if (!result.analysed) {
    GST_LOG_OBJECT (self, "not analysing %" GST_PTR_FORMAT, buf);
    return GST_FLOW_OK;
  }
  GST_OBJECT_LOCK (self);
  self->detections_run += result.detected;
  self->faces_classified += result.n_classified;
  GST_OBJECT_UNLOCK (self);

  with_rois = (settings.metadata & GST_FEMO_DETECT_METADATA_ROI) != 0;
  if (with_rois && settings.analysis.detect)
    gst_femo_detect_add_metas (self, buf, &result, width, height);
  else if (with_rois)
    gst_femo_detect_add_given_metas (self, buf, &result);
  if (with_rois)
    gst_femo_detect_add_emotions (self, &result);
  if (settings.metadata & GST_FEMO_DETECT_METADATA_ANALYTICS)
    gst_femo_detect_add_analytics (self, buf, &result,
        settings.analysis.detect);

  GST_LOG_OBJECT (self, "%" G_GSIZE_FORMAT " faces (%s) in %" GST_PTR_FORMAT,
      result.n_faces, result.detected ? "detected" : "carried", buf);

  if (settings.post_messages)
    gst_femo_detect_post_message (self, buf, &result, with_rois,
        running_time, stream_time);

  return GST_FLOW_OK;

  /* ERRORS */
not_negotiated:
  {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION, (NULL), ("buffer before caps"));
    return GST_FLOW_NOT_NEGOTIATED;
  }
analysis_failed:
  {
    GST_ELEMENT_ERROR (self, STREAM, FAILED, ("%s", error->message),
        ("%s %dx%d", GST_VIDEO_INFO_NAME (info), width, height));
    g_error_free (error);
    return GST_FLOW_ERROR;
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
  FemoAnalyzerResult result;
  gboolean post_messages;

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_FLUSH_STOP:
    case GST_EVENT_STREAM_START:
      if (self->analyzer != NULL)
        femo_analyzer_reset (self->analyzer);
      gst_femo_detect_reset_qos (self);
      break;
    case GST_EVENT_EOS:
      if (self->analyzer == NULL)
        break;
      GST_OBJECT_LOCK (self);
      post_messages = self->settings.post_messages;
      GST_OBJECT_UNLOCK (self);
      /* before the EOS goes on: an application stops reading at EOS */
      femo_analyzer_finish (self->analyzer, FEMO_TRACK_END_EOS, &result);
      if (post_messages)
        gst_femo_detect_post_events (self, NULL, GST_CLOCK_TIME_NONE,
            &result);
      break;
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
