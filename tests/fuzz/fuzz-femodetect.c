/* gst-femo fuzzing: what femodetect does with a stream, through the
 * analyzer (FemoAnalyzer, GLib only)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One input is a short stream: a byte of frame count, then per frame a
 * block of FRAME_BLOCK bytes (femodetect's settings, each within its
 * property's range and changed between frames; the frame's format and size,
 * time stamp, late flag, a flush before it; up to MAX_GIVEN caller boxes,
 * anywhere and of any size, as an upstream ROI meta carries them), then the
 * pixel pool the frames' bytes are taken from. Missing bytes read as 0.
 * The Debian default cascade and a narrow model of the shipped one's shape
 * (load_fuzz_model) are loaded once per process into one analyzer, reset
 * (and its tracks finished) after each input; its buffers keep their
 * sizes, as in a long stream.
 *
 * Frames are at most MAX_SIDE pixels a side: the cascade's 24-pixel window
 * fits at every scale below 2 (window step 2) and at 2 (step 1), the
 * analyzer scales down to process-width, crops are enlarged and shrunk;
 * larger frames only add scales and windows to the same code, and the
 * cascade's window loops took most of the time at 96.
 */
#include "config.h"
#include "fuzz-targets.h"
#include "femo-analyzer.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#define MAX_FRAMES 6
#define MAX_SIDE 48
#define MAX_GIVEN 4
/* The network runs once a face (twice with flip), about 0.6 ms under the
 * sanitizers with the fuzz model (load_fuzz_model): with classification
 * on, at most this many faces a frame (max-faces), so that the raw windows
 * of min-neighbors 0 do not make an input a hundred classifications. The
 * work per face is what this target checks. */
#define MAX_CLASSIFIED 4
/* flags 1, settings 42, frame 16, boxes 16 each and their count 1 */
#define FRAME_BLOCK (1 + 42 + 16 + 16 * MAX_GIVEN + 1)

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

static void
take_settings (Reader * r, FemoAnalyzerSettings * s, guint flags)
{
  gdouble x;

  /* settings the input does not choose (min-confidence, align-faces) keep
   * their defaults */
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

/* Checks what femodetect relies on: boxes inside the frame (it writes them
 * to unsigned ROI fields), labels that index the model's, probabilities
 * that are probabilities, track ids only when tracking. */
static void
check_result (const FemoAnalyzerResult * res, const FemoImageView * image,
    guint n_labels)
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

static FemoAnalyzer *
get_analyzer (void)
{
  static FemoAnalyzer *analyzer;
  g_autofree gchar *cascade = NULL;
  g_autoptr (GError) error = NULL;

  if (analyzer != NULL)
    return analyzer;
  analyzer = femo_analyzer_new ();
  cascade = g_build_filename (FEMO_CASCADE_DIR,
      "haarcascades/haarcascade_frontalface_default.xml", NULL);
  if (!femo_analyzer_load_detector (analyzer, FEMO_FACE_DETECTOR_CASCADE,
          cascade, 1, &error))
    g_error ("fuzz-femodetect: %s", error->message);
  load_fuzz_model (analyzer);
  return analyzer;
}

int
femo_fuzz_femodetect (const guint8 * data, gsize size)
{
  FemoAnalyzer *analyzer = get_analyzer ();
  guint n_labels = femo_model_get_n_labels (femo_analyzer_get_model
      (analyzer));
  Reader r = { data, size, 0 };
  guint n_frames = 1 + take (&r, 1) % MAX_FRAMES;
  gsize pool_start = MIN (size, 1 + (gsize) n_frames * FRAME_BLOCK);
  const guint8 *pool = data + pool_start;
  gsize pool_size = size - pool_start;
  guint64 last_time = 0;
  FemoAnalyzerResult res;
  gboolean ok;

  for (guint n = 0; n < n_frames; n++) {
    FemoAnalyzerSettings s;
    FemoAnalyzerFrame f = { {0}, };
    FemoRgbLayout layout;
    FemoRect given[MAX_GIVEN];
    g_autofree guint8 *pixels = NULL;
    guint flags = take (&r, 1), format, offset, bpp;
    guint64 time;
    gsize row, buffer_size;

    take_settings (&r, &s, flags);
    f.image.width = 1 + take (&r, 1) % MAX_SIDE;
    f.image.height = 1 + take (&r, 1) % MAX_SIDE;
    format = take (&r, 1);
    /* luma (GRAY8, a planar Y), Y of YUY2 or UYVY, packed RGB */
    bpp = format % 3 == 0 ? 1 : format % 3 == 1 ? 2 : 0;
    if (bpp == 0) {
      take_layout (format / 3, &layout);
      f.rgb = &layout;
      bpp = layout.bytes_per_pixel;
    }
    row = (gsize) f.image.width * bpp;
    f.image.stride = row + take (&r, 1) % 16;
    f.image.pixel_stride = bpp;
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
    g_assert (r.pos == 1 + (n + 1) * FRAME_BLOCK);

    /* An exact-size buffer as GStreamer maps it: a read past it is a
     * sanitizer report. Pixels from the pool, shifted per frame. */
    buffer_size = f.image.stride * (f.image.height - 1) + row;
    pixels = g_malloc (buffer_size);
    for (gsize i = 0; i < buffer_size; i++)
      pixels[i] = pool_size > 0 ? pool[(offset + i) % pool_size] : i * 7;
    /* UYVY has its Y at the odd bytes */
    f.image.data = pixels + (f.rgb == NULL && bpp == 2 ? offset & 1 : 0);

    if ((flags >> 4) & 1)
      femo_analyzer_reset (analyzer);
    /* frames this small never run out of memory */
    ok = femo_analyzer_process (analyzer, &s, &f, &res, NULL);
    g_assert (ok);
    check_result (&res, &f.image, n_labels);
  }
  femo_analyzer_finish (analyzer, FEMO_TRACK_END_EOS, &res);
  g_assert (res.n_faces == 0);
  check_result (&res, NULL, n_labels);
  femo_analyzer_reset (analyzer);
  return 0;
}

#ifdef FEMO_LIBFUZZER
FEMO_FUZZ_ENTRY_POINT (femo_fuzz_femodetect)
#endif
