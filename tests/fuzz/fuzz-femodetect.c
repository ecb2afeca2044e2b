/* gst-femo fuzzing: what femodetect does with a stream, through the
 * analyzer (FemoAnalyzer, GLib only)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One input is a short stream: a byte of frame count and detector (the
 * default cascade, or YuNet when its high bit is set), then per frame a
 * block of FRAME_BLOCK bytes (femodetect's settings, each within its
 * property's range and changed between frames; the frame's format and size,
 * time stamp, late flag, a flush before it; up to MAX_GIVEN caller boxes,
 * anywhere and of any size, as an upstream ROI meta carries them; then
 * min-confidence, align-faces and the frame's chroma, all 0 in the layout
 * before YuNet), then the pixel pool the frames' bytes are taken from.
 * Missing bytes read as 0. Each detector has its own analyzer, loaded once
 * per process with the Debian default cascade or the shipped YuNet weights
 * (models/yunet.safetensors, as femodetect's detector=yunet) and a narrow
 * model of the shipped emotion model's shape (load_fuzz_model), reset (and
 * its tracks finished) after each input; its buffers keep their sizes, as
 * in a long stream. The detector is chosen per input, not switched within
 * one: reloading the cascade took 60-90 ms under the sanitizers, some
 * thirty inputs' worth.
 *
 * Frames are at most MAX_SIDE pixels a side: the cascade's 24-pixel window
 * fits at every scale below 2 (window step 2) and at 2 (step 1), the
 * analyzer scales down to process-width, crops are enlarged and shrunk;
 * larger frames only add scales and windows to the same code, and the
 * cascade's window loops took most of the time at 96. YuNet's frames are
 * at most MAX_SIDE_YUNET: it pads a frame to a multiple of 32 a side, and
 * its network, on the reference kernels, is most of a YuNet input's time.
 */
#include "config.h"
#include "fuzz-targets.h"
#include "femo-analyzer.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#define MAX_FRAMES 6
#define MAX_SIDE 48
/* One 32x32 pass of the network, where a side of 33..48 costs a 64x64 one,
 * four times the work (with 32 all three of its levels still run, the
 * coarsest at 1x1) */
#define MAX_SIDE_YUNET 32
#define MAX_GIVEN 4
/* The network runs once a face (twice with flip), about 0.6 ms under the
 * sanitizers with the fuzz model (load_fuzz_model): with classification
 * on, at most this many faces a frame (max-faces), so that the raw windows
 * of min-neighbors 0 do not make an input a hundred classifications. The
 * work per face is what this target checks. */
#define MAX_CLASSIFIED 4
/* flags 1, settings 42, frame 16, boxes 16 each and their count 1;
 * min-confidence 2, flags 1, chroma 1 */
#define FRAME_BLOCK (1 + 42 + 16 + 16 * MAX_GIVEN + 1 + 4)
/* The header byte: this bit YuNet, the others the frame count (modulo
 * MAX_FRAMES). */
#define HEADER_YUNET 0x80
/* A frame's second flags byte. */
#define FLAG2_ALIGN 1
/* Landmarks lie around their face's box, within this many times its
 * larger side or YuNet's coarsest cell (check_detection): a fresh one was
 * found at most 0.21 cells beyond its box, a carried one 0.91 (a box cut to
 * 1x1 in a corner by the frame's edge), in 24,000 inputs. */
#define LANDMARK_REACH 2
/* YuNet's coarsest stride: its largest cell, in pixels of the image it
 * scans */
#define YUNET_CELL 32

typedef struct
{
  const guint8 *data;
  gsize size;
  gsize pos;
} Reader;

/* @n_bytes (1..4) little-endian; 0 for bytes past the end */
static guint32
take (Reader * r, guint n_bytes)
{
  guint32 v = 0;

  for (guint i = 0; i < n_bytes; i++, r->pos++)
    if (r->pos < r->size)
      v |= (guint32) r->data[r->pos] << (8 * i);
  return v;
}

/* 0..@max, usually (high bit clear) 0..@small so that the usual values are
 * found quickly */
static guint32
take_biased (Reader * r, guint32 max, guint32 small)
{
  guint32 v = take (r, 4);

  if (!(v & 0x80000000u))
    return (v & 0xffff) % (small + 1);
  return max == G_MAXUINT32 ? v : v % (max + 1);
}

static gdouble
take_fraction (Reader * r)
{
  return take (r, 2) / 65535.0;
}

/* femodetect's scale-factor range, 1.01..10, all of it; but the bytes 0
 * (those of a short input, and a value libFuzzer likes) read as the
 * default 1.1, not as 1.01: a frame at 1.01 runs the same code over ten
 * times the scales, and most of the fuzzer's time went there. */
static gdouble
take_scale_factor (Reader * r)
{
  const gdouble span = 10.0 - 1.01;
  const guint32 zero = (guint32)
      lround ((FEMO_ANALYZER_DEFAULT_SCALE_FACTOR - 1.01) / span * 65535);

  return 1.01 + ((take (r, 2) + zero) % 65536) / 65535.0 * span;
}

/* The settings of the block's start; min-confidence and align-faces are
 * at its end (take_min_confidence, FLAG2_ALIGN). */
static void
take_settings (Reader * r, FemoAnalyzerSettings * s, guint flags)
{
  gdouble x;

  femo_analyzer_settings_init (s);
  s->detect = flags & 1;
  s->classify = (flags >> 1) & 1;
  s->tracking = (flags >> 2) & 1;
  s->scale_factor = take_scale_factor (r);
  s->min_neighbors = take_biased (r, 1000, 5);
  s->min_size = take_biased (r, G_MAXINT, 100);
  s->max_size = take_biased (r, G_MAXINT, 100);
  s->max_faces = take_biased (r, G_MAXINT, 8);
  if (s->classify && (s->max_faces == 0 || s->max_faces > MAX_CLASSIFIED))
    s->max_faces = MAX_CLASSIFIED;
  s->process_width = take_biased (r, FEMO_ANALYZER_MAX_SIDE, 100);
  s->detect_interval = 1 + take_biased (r, FEMO_ANALYZER_MAX_INTERVAL - 1, 4);
  s->classify_interval =
      1 + take_biased (r, FEMO_ANALYZER_MAX_INTERVAL - 1, 4);
  s->crop_margin = FEMO_ANALYZER_MIN_CROP_MARGIN + take_fraction (r)
      * (FEMO_ANALYZER_MAX_CROP_MARGIN - FEMO_ANALYZER_MIN_CROP_MARGIN);
  s->track_timeout = take_biased (r, FEMO_ANALYZER_MAX_TRACK_TIMEOUT, 20);
  x = take_fraction (r);
  s->smoothing = x * x * x * FEMO_ANALYZER_MAX_SMOOTHING;
  s->label_hysteresis = take_fraction (r);
  s->merge_overlaps = take_fraction (r);
  s->flip = (flags >> 7) & 1;
}

/* femodetect's min-confidence range, -1..1: the bytes 0 (the layout before
 * it) read as -1, the detector's default; 1..65535 as -1 + 1/32767 ..
 * 1 in steps of 1/32767, with 0 (every face) at 32768. */
static gdouble
take_min_confidence (Reader * r)
{
  guint32 v = take (r, 2);

  return v == 0 ? FEMO_ANALYZER_DEFAULT_MIN_CONFIDENCE :
      ((gdouble) v - 32768) / 32767;
}

/* The byte layouts of femodetect's packed RGB formats and more: any three
 * distinct offsets in a 3- or 4-byte pixel. */
static void
take_layout (guint code, FemoRgbLayout * layout)
{
  gint offsets[4] = { 0, 1, 2, 3 };
  gint bpp = 3 + (code & 1);

  code >>= 1;
  for (gint i = 0; i < 3; i++) {
    gint j = i + code % (bpp - i), tmp = offsets[i];

    code /= bpp - i;
    offsets[i] = offsets[j];
    offsets[j] = tmp;
  }
  layout->bytes_per_pixel = bpp;
  layout->r_offset = offsets[0];
  layout->g_offset = offsets[1];
  layout->b_offset = offsets[2];
}

/* A face's detection: its confidence, and its landmarks (see
 * check_result). */
static void
check_detection (const FemoAnalyzedFace * f, const FemoAnalyzerResult * res,
    const FemoAnalyzerSettings * s, const FemoFaceDetector * detector,
    gdouble cell)
{
  FemoFaceDetectorKind kind = femo_face_detector_get_kind (detector);
  gdouble min_confidence = s->min_confidence >= 0 ? s->min_confidence :
      kind == FEMO_FACE_DETECTOR_YUNET ? FEMO_YUNET_DEFAULT_MIN_CONFIDENCE : 0;
  /* a box cut by the frame's edge may be much smaller than its face */
  gdouble reach = LANDMARK_REACH * MAX (MAX (f->box.width, f->box.height),
      cell);

  if (!f->detected) {
    g_assert_cmpfloat (f->confidence, ==, 0.0);
  } else {
    g_assert_cmpfloat (f->confidence, <=, 1.0);
    g_assert_cmpfloat (f->confidence, >=, min_confidence);
    if (kind == FEMO_FACE_DETECTOR_CASCADE)
      g_assert_cmpfloat (f->confidence, ==, f->box.neighbors /
          (f->box.neighbors + FEMO_FACE_DETECTOR_NEIGHBORS_HALF));
  }
  /* from the detector, or carried by a track from its last detection;
   * never on a given box */
  g_assert (!f->has_landmarks || (femo_face_detector_has_landmarks (detector)
          && s->detect && (f->detected || res->tracked)));
  for (gint k = 0; f->has_landmarks && k < FEMO_N_LANDMARKS; k++) {
    gfloat x = f->landmarks.points[2 * k], y = f->landmarks.points[2 * k + 1];

    g_assert (isfinite (x) && isfinite (y));
    g_assert_cmpfloat (x, >=, f->box.x - reach);
    g_assert_cmpfloat (x, <=, f->box.x + f->box.width + reach);
    g_assert_cmpfloat (y, >=, f->box.y - reach);
    g_assert_cmpfloat (y, <=, f->box.y + f->box.height + reach);
  }
}

/* How much smaller the detector's image is than @image (the analyzer's
 * process-width copy). */
static gdouble
scan_scale (const FemoAnalyzerSettings * s, const FemoImageView * image)
{
  gint w = s->process_width, h;

  if (w == 0 || w >= image->width)
    return 1.0;
  h = MAX (1, (gint) (((gint64) image->height * w + image->width / 2)
          / image->width));
  return MAX ((gdouble) image->width / w, (gdouble) image->height / h);
}

/* The frame's bytes from the pool, from place @start on (an exact-size
 * buffer as GStreamer maps it: a read past it is a sanitizer report). */
static guint8 *
pool_bytes (const guint8 * pool, gsize pool_size, gsize start, gsize size)
{
  guint8 *bytes = g_malloc (size);

  for (gsize i = 0; i < size; i++)
    bytes[i] = pool_size > 0 ? pool[(start + i) % pool_size] : i * 7;
  return bytes;
}

/* The chroma byte of a frame block: where the chroma lies, how it is
 * subsampled, and the colorimetry. 0: none (GRAY8, or only the Y of packed
 * YUV), as before YuNet. */
#define CHROMA_LAYOUT(code) ((code) & 3)        /* 0 and 3: none */
#define CHROMA_PLANAR 1         /* I420, YV12, Y42B, Y444, Y41B, A420 */
#define CHROMA_SEMI_PLANAR 2    /* NV12, NV21, NV16, NV61, NV24 */
#define CHROMA_SUBSAMPLING(code) (((code) >> 2) & 3)
#define CHROMA_SWAP_UV(code) (((code) >> 4) & 1)
#define CHROMA_MATRIX(code) (((code) >> 5) & 3)
#define CHROMA_FULL_RANGE(code) ((code) >> 7)

/* x_shift, y_shift of femodetect's planar formats: I420 and NV12; Y42B and
 * NV16; Y444 and NV24; Y41B (no semi-planar twin, still a layout the
 * analyzer takes) */
static const gint chroma_shifts[4][2] = { {1, 1}, {1, 0}, {0, 0}, {2, 0} };

/* GStreamer's size of a subsampled plane (GST_VIDEO_SUB_SCALE) */
static gint
sub_scale (gint shift, gint size)
{
  return (size + (1 << shift) - 1) >> shift;
}

/**
 * take_chroma:
 * @code: the chroma byte
 * @image: the frame's luma view; a packed YUV one (pixel_stride 2, data
 *   in @pixels) has its chroma inside its pixels
 * @pixels: the packed frame's buffer
 * @pool_start: where the pool's bytes after the luma plane start
 * @pad: bytes after each row, as the luma's
 * @planes: (out): the chroma planes allocated, to free after the frame
 *
 * Describes the frame's chroma as femo_video_format_describe() does from
 * GStreamer's frame: planes after the luma (their pool bytes follow the
 * luma's, so that a seed's pool is the raw frame), the U and V of packed
 * YUV (YUY2, UYVY, YVYU, VYUY by the luma's offset and @code's swap).
 */
static void
take_chroma (guint code, const FemoImageView * image, guint8 * pixels,
    const guint8 * pool, gsize pool_size, gsize pool_start, gint pad,
    FemoChroma * chroma, guint8 * planes[2])
{
  const FemoYuvMatrix matrices[4] = { FEMO_YUV_MATRIX_BT601,
    FEMO_YUV_MATRIX_BT709, FEMO_YUV_MATRIX_BT2020,
    /* femodetect's default for other matrices */
    FEMO_YUV_MATRIX_BT601
  };
  gboolean swap = CHROMA_SWAP_UV (code);
  FemoImageView *first = swap ? &chroma->v : &chroma->u;
  FemoImageView *second = swap ? &chroma->u : &chroma->v;
  gint layout = CHROMA_LAYOUT (code);
  gint cw, ch;
  gsize size;

  memset (chroma, 0, sizeof (*chroma));
  planes[0] = planes[1] = NULL;
  if (layout == 0 || layout == 3)
    return;
  chroma->matrix = matrices[CHROMA_MATRIX (code)];
  chroma->full_range = CHROMA_FULL_RANGE (code);
  if (image->pixel_stride == 2) {
    /* Y0 C0 Y1 C1 when the Y is at even bytes (YUY2, YVYU), else
     * C0 Y0 C1 Y1 (UYVY, VYUY) */
    gint c0 = image->data == pixels;

    chroma->x_shift = 1;
    *first = *image;
    first->data = pixels + c0;
    first->width = sub_scale (1, image->width);
    first->pixel_stride = 4;
    *second = *first;
    second->data = first->data + 2;
    return;
  }
  chroma->x_shift = chroma_shifts[CHROMA_SUBSAMPLING (code)][0];
  chroma->y_shift = chroma_shifts[CHROMA_SUBSAMPLING (code)][1];
  cw = sub_scale (chroma->x_shift, image->width);
  ch = sub_scale (chroma->y_shift, image->height);
  first->width = second->width = cw;
  first->height = second->height = ch;
  if (layout == CHROMA_PLANAR) {
    first->stride = second->stride = cw + pad;
    first->pixel_stride = second->pixel_stride = 1;
    size = (gsize) first->stride * (ch - 1) + cw;
    first->data = planes[0] = pool_bytes (pool, pool_size, pool_start, size);
    second->data = planes[1] = pool_bytes (pool, pool_size,
        pool_start + size, size);
  } else {
    first->stride = second->stride = 2 * cw + pad;
    first->pixel_stride = second->pixel_stride = 2;
    size = (gsize) first->stride * (ch - 1) + 2 * cw;
    first->data = planes[0] = pool_bytes (pool, pool_size, pool_start, size);
    second->data = planes[0] + 1;
  }
}

/* Checks what femodetect relies on: boxes inside the frame (it writes them
 * to unsigned ROI fields), labels that index the model's, probabilities
 * that are probabilities, track ids only when tracking; detection
 * confidences in 0..1 and, on a fresh detection, not below min-confidence
 * (or the detector's default); landmarks only from a detector that finds
 * them, finite and near their face's box (they go into the ROI meta and
 * steer align-faces' crop). */
static void
check_result (const FemoAnalyzerResult * res, const FemoImageView * image,
    guint n_labels, const FemoAnalyzerSettings * s,
    const FemoFaceDetector * detector, gdouble cell)
{
  for (gsize i = 0; i < res->n_faces; i++) {
    const FemoAnalyzedFace *f = &res->faces[i];

    g_assert (f->box.x >= 0 && f->box.y >= 0);
    g_assert (f->box.width >= 0 && f->box.height >= 0);
    g_assert (f->box.x + f->box.width <= image->width);
    g_assert (f->box.y + f->box.height <= image->height);
    g_assert (f->track_id == 0 || res->tracked);
    g_assert (f->label >= -1 && f->label < (gint) n_labels);
    g_assert ((f->label >= 0) == (f->probs != NULL));
    g_assert (f->raw_label >= -1 && f->raw_label < (gint) n_labels);
    g_assert ((f->raw_label >= 0) == (f->raw_probs != NULL));
    if (f->probs != NULL) {
      gdouble sum = 0;

      for (guint k = 0; k < n_labels; k++) {
        g_assert (f->probs[k] >= 0.0f && f->probs[k] <= 1.0f);
        sum += f->probs[k];
      }
      g_assert (fabs (sum - 1.0) < 1e-3);
    }
    check_detection (f, res, s, detector, cell);
  }
  for (gsize i = 0; i < res->n_events; i++) {
    const FemoTrackEvent *e = &res->events[i];

    g_assert (e->track_id != 0);
    if (e->type == FEMO_TRACK_EVENT_LABEL_CHANGED)
      g_assert (e->old_label >= 0 && e->old_label < (gint) n_labels
          && e->new_label >= 0 && e->new_label < (gint) n_labels);
    else
      g_assert (e->record.dominant_label < (gint) n_labels);
  }
}

/* A model of the contract's shape with the narrowest widths and fixed
 * random weights (femo_net_new: the same seed, the same bytes), written to
 * a temporary file that the analyzer loads as femodetect's model property
 * does. The layers, the folding and the batching of faces are those of the
 * shipped model; only the channel loops are short, and the CNN no longer
 * takes most of an input's time. */
static void
load_fuzz_model (FemoAnalyzer * analyzer)
{
  /* every channel loop runs twice somewhere; the stem's first
   * convolution, on 48x48 pixels, the costliest, has one output */
  static const guint widths[FEMO_NET_N_WIDTHS] = { 1, 2, 2, 2, 2, 2 };
  g_autoptr (GError) error = NULL;
  g_autofree gchar *path = NULL;
  FemoNet *net;
  gint fd;
  gboolean ok;

  net = femo_net_new (widths, femo_net_default_labels,
      G_N_ELEMENTS (femo_net_default_labels), FEMO_NET_DEFAULT_BN_EPS, 13,
      &error);
  if (net == NULL)
    g_error ("fuzz-femodetect: %s", error->message);
  fd = g_file_open_tmp ("fuzz-femodetect-XXXXXX.safetensors", &path, &error);
  if (fd < 0)
    g_error ("fuzz-femodetect: %s", error->message);
  g_close (fd, NULL);
  ok = femo_net_save (net, path, &error)
      && femo_analyzer_load_model (analyzer, path, &error);
  femo_net_free (net);
  g_unlink (path);
  if (!ok)
    g_error ("fuzz-femodetect: %s", error->message);
}

/* The analyzer of @kind: the default cascade as femodetect's cascade-file,
 * or YuNet's shipped weights as its yunet-model (the source tree's, so
 * that the replay test and the fuzzer need no install); one thread, as
 * libFuzzer runs one input at a time. */
static FemoAnalyzer *
get_analyzer (FemoFaceDetectorKind kind)
{
  static FemoAnalyzer *analyzers[2];
  g_autofree gchar *path = NULL;
  g_autoptr (GError) error = NULL;

  if (analyzers[kind] != NULL)
    return analyzers[kind];
  analyzers[kind] = femo_analyzer_new ();
  if (kind == FEMO_FACE_DETECTOR_YUNET)
    path = g_build_filename (FEMO_SOURCE_ROOT, "models", "yunet.safetensors",
        NULL);
  else
    path = g_build_filename (FEMO_CASCADE_DIR,
        "haarcascades/haarcascade_frontalface_default.xml", NULL);
  if (!femo_analyzer_load_detector (analyzers[kind], kind, path, 1, &error))
    g_error ("fuzz-femodetect: %s", error->message);
  load_fuzz_model (analyzers[kind]);
  return analyzers[kind];
}

int
femo_fuzz_femodetect (const guint8 * data, gsize size)
{
  Reader r = { data, size, 0 };
  guint header = take (&r, 1);
  FemoFaceDetectorKind kind = header & HEADER_YUNET ?
      FEMO_FACE_DETECTOR_YUNET : FEMO_FACE_DETECTOR_CASCADE;
  FemoAnalyzer *analyzer = get_analyzer (kind);
  const FemoFaceDetector *detector = femo_analyzer_get_detector (analyzer);
  guint n_labels = femo_model_get_n_labels (femo_analyzer_get_model
      (analyzer));
  guint n_frames = 1 + (header & ~HEADER_YUNET) % MAX_FRAMES;
  guint max_side = kind == FEMO_FACE_DETECTOR_YUNET ? MAX_SIDE_YUNET : MAX_SIDE;
  gsize pool_start = MIN (size, 1 + (gsize) n_frames * FRAME_BLOCK);
  const guint8 *pool = data + pool_start;
  gsize pool_size = size - pool_start;
  guint64 last_time = 0;
  /* YuNet's coarsest cell in pixels of the frames so far (tracks carry
   * landmarks from one frame to the next) */
  gdouble cell = 0;
  FemoAnalyzerSettings s;
  FemoAnalyzerResult res;
  gboolean ok;

  for (guint n = 0; n < n_frames; n++) {
    FemoAnalyzerFrame f = { {0}, };
    FemoRgbLayout layout;
    FemoRect given[MAX_GIVEN];
    g_autofree guint8 *pixels = NULL;
    guint flags = take (&r, 1), format, offset, bpp, pad, flags2, chroma;
    guint8 *chroma_planes[2] = { NULL, NULL };
    guint64 time;
    gsize row, buffer_size;

    take_settings (&r, &s, flags);
    f.image.width = 1 + take (&r, 1) % max_side;
    f.image.height = 1 + take (&r, 1) % max_side;
    format = take (&r, 1);
    /* luma (GRAY8, a planar Y), Y of YUY2 or UYVY, packed RGB */
    bpp = format % 3 == 0 ? 1 : format % 3 == 1 ? 2 : 0;
    if (bpp == 0) {
      take_layout (format / 3, &layout);
      f.rgb = &layout;
      bpp = layout.bytes_per_pixel;
    }
    pad = take (&r, 1) % 16;
    f.par_n = take (&r, 2);
    f.par_d = take (&r, 2);
    time = take (&r, 4);
    switch ((flags >> 5) & 3) {
      case 0:
        f.time_ns = FEMO_ANALYZER_TIME_NONE;
        break;
      case 1:                  /* microseconds */
        f.time_ns = time * 1000;
        break;
      case 2:                  /* backwards */
        f.time_ns = last_time - MIN (last_time, time * 1000);
        break;
      default:                 /* near the end of time */
        f.time_ns = G_MAXUINT64 - 1 - time;
        break;
    }
    if (f.time_ns != FEMO_ANALYZER_TIME_NONE)
      last_time = f.time_ns;
    f.duration_ns = (guint64) take (&r, 2) * 100000;
    f.late = (flags >> 3) & 1;
    offset = take (&r, 2);
    for (guint i = 0; i < MAX_GIVEN; i++) {
      given[i].x = (gint32) take (&r, 4);
      given[i].y = (gint32) take (&r, 4);
      given[i].width = (gint32) take (&r, 4);
      given[i].height = (gint32) take (&r, 4);
      given[i].neighbors = 0;
    }
    f.faces = given;
    f.n_faces = take (&r, 1) % (MAX_GIVEN + 1);
    s.min_confidence = take_min_confidence (&r);
    flags2 = take (&r, 1);
    s.align = flags2 & FLAG2_ALIGN;
    chroma = take (&r, 1);
    g_assert (r.pos == 1 + (n + 1) * FRAME_BLOCK);

    /* Packed YUV with its chroma has whole macropixels (Y0 U Y1 V), as
     * GStreamer's rows of an odd width; without, only the Ys are read. */
    row = f.rgb == NULL && bpp == 2 && CHROMA_LAYOUT (chroma) % 3 != 0 ?
        (gsize) (f.image.width + 1) / 2 * 4 : (gsize) f.image.width * bpp;
    f.image.stride = row + pad;
    f.image.pixel_stride = bpp;
    buffer_size = f.image.stride * (f.image.height - 1) + row;
    pixels = pool_bytes (pool, pool_size, offset, buffer_size);
    /* UYVY has its Y at the odd bytes */
    f.image.data = pixels + (f.rgb == NULL && bpp == 2 ? offset & 1 : 0);
    if (f.rgb == NULL)
      take_chroma (chroma, &f.image, pixels, pool, pool_size,
          offset + buffer_size, pad, &f.chroma, chroma_planes);

    if ((flags >> 4) & 1)
      femo_analyzer_reset (analyzer);
    /* frames this small never run out of memory */
    ok = femo_analyzer_process (analyzer, &s, &f, &res, NULL);
    g_assert (ok);
    cell = MAX (cell, YUNET_CELL * scan_scale (&s, &f.image));
    check_result (&res, &f.image, n_labels, &s, detector, cell);
    g_free (chroma_planes[0]);
    g_free (chroma_planes[1]);
  }
  femo_analyzer_finish (analyzer, FEMO_TRACK_END_EOS, &res);
  g_assert (res.n_faces == 0);
  check_result (&res, NULL, n_labels, &s, detector, cell);
  femo_analyzer_reset (analyzer);
  return 0;
}

#ifdef FEMO_LIBFUZZER
FEMO_FUZZ_ENTRY_POINT (femo_fuzz_femodetect)
#endif
