/* gst-femo tests: femooverlay, drawing faces from ROI metadata
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Frames are synthetic (a dark pattern no overlay colour can match) with
 * ROI metas built here, so that the changed pixels can be compared with
 * where the boxes and labels must be. The golden test draws on the NASA
 * astronaut photograph and compares with tests/data/overlay-golden-astronaut.png;
 * after a deliberate change of the drawing, rewrite it with
 *   FEMO_UPDATE_GOLDEN=1 meson test -C build femooverlay
 * and look at it. FEMO_OVERLAY_DUMP=DIR also writes the frames of
 * test_frame_sizes there as PNG, to be looked at.
 */
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include <string.h>

#include "femo-font.h"
#include "femo-meta.h"
#include "test-util.h"

/* The layout of gstfemooverlay.c, in font pixels (times the font scale):
 * labels have 2 columns of padding left and right, 2 rows above the glyphs
 * and 1 below; the font scale is (height + 150) / 300 at font-scale=1. */
#define LABEL_PAD_X 2
#define LABEL_HEIGHT (2 + FEMO_FONT_GLYPH_HEIGHT + 1)

#define ASTRONAUT "media/skimage_astronaut.png"
#define HAPPY_RGB 0xffc107
#define ANGRY_RGB 0xe53935
#define PLAIN_RGB 0x00e5ff

typedef struct
{
  gint x, y, w, h;
} Rect;

static guint
auto_scale (gint height)
{
  return MAX ((height + 150) / 300, 1);
}

/* ASCII only: one advance per character, less the last spacing column. */
static gint
text_width (const gchar * text, guint scale)
{
  return ((gint) strlen (text) * FEMO_FONT_ADVANCE - 1) * (gint) scale;
}

static Rect
label_rect (const gchar * text, Rect box, guint scale)
{
  Rect r;

  r.w = text_width (text, scale) + 2 * LABEL_PAD_X * scale;
  r.h = LABEL_HEIGHT * scale;
  r.x = box.x;
  r.y = box.y >= r.h ? box.y - r.h : box.y + box.h;
  return r;
}

/* ---- frames ---- */

/* The formats below unpack to 8-bit AYUV or ARGB lines. */
static void
check_unpack_format (const GstVideoInfo * info)
{
  GstVideoFormat f = info->finfo->unpack_format;
  fail_unless (f == GST_VIDEO_FORMAT_AYUV || f == GST_VIDEO_FORMAT_ARGB,
      "%s unpacks to %s", GST_VIDEO_INFO_NAME (info),
      gst_video_format_to_string (f));
}

/* Components in [30, 100): darker than any box colour, and neither 0 nor 16
 * (black text in full and limited range). */
static GstBuffer *
make_frame (const GstVideoInfo * info)
{
  const GstVideoFormatInfo *finfo = info->finfo;
  gint width = GST_VIDEO_INFO_WIDTH (info);
  GstBuffer *buf = gst_buffer_new_allocate (NULL, info->size, NULL);
  guint8 *line = g_malloc ((gsize) width * 4);
  GstVideoFrame frame;

  check_unpack_format (info);
  gst_buffer_memset (buf, 0, 0, info->size);
  fail_unless (gst_video_frame_map (&frame, info, buf, GST_MAP_WRITE));
  for (gint y = 0; y < GST_VIDEO_INFO_HEIGHT (info); y++) {
    for (gint x = 0; x < width; x++) {
      line[4 * x] = 255;
      line[4 * x + 1] = 30 + (x * 7 + y * 3) % 70;
      line[4 * x + 2] = 30 + (x * 3 + y * 5) % 70;
      line[4 * x + 3] = 30 + (x * 5 + y * 7) % 70;
    }
    finfo->pack_func (finfo, GST_VIDEO_PACK_FLAG_NONE, line, 0, frame.data,
        frame.info.stride, info->chroma_site, y, width);
  }
  gst_video_frame_unmap (&frame);
  g_free (line);
  return buf;
}

/* One byte per pixel: whether any component differs between the frames. */
static guint8 *
changed_pixels (const GstVideoInfo * info, GstBuffer * before,
    GstBuffer * after)
{
  const GstVideoFormatInfo *finfo = info->finfo;
  gint width = GST_VIDEO_INFO_WIDTH (info);
  gint height = GST_VIDEO_INFO_HEIGHT (info);
  guint8 *mask = g_malloc0 ((gsize) width * height);
  guint8 *a = g_malloc ((gsize) width * 4), *b = g_malloc ((gsize) width * 4);
  GstVideoFrame fa, fb;

  fail_unless (gst_video_frame_map (&fa, info, before, GST_MAP_READ));
  fail_unless (gst_video_frame_map (&fb, info, after, GST_MAP_READ));
  for (gint y = 0; y < height; y++) {
    finfo->unpack_func (finfo, GST_VIDEO_PACK_FLAG_NONE, a, fa.data,
        fa.info.stride, 0, y, width);
    finfo->unpack_func (finfo, GST_VIDEO_PACK_FLAG_NONE, b, fb.data,
        fb.info.stride, 0, y, width);
    for (gint x = 0; x < width; x++)
      mask[(gsize) y * width + x] = memcmp (a + 4 * x, b + 4 * x, 4) != 0;
  }
  gst_video_frame_unmap (&fa);
  gst_video_frame_unmap (&fb);
  g_free (a);
  g_free (b);
  return mask;
}

/* Marks @r grown by @grow pixels on every side, clipped to the frame. */
static void
mask_rect (guint8 * mask, gint width, gint height, Rect r, gint grow)
{
  for (gint y = MAX (r.y - grow, 0); y < MIN (r.y + r.h + grow, height); y++)
    for (gint x = MAX (r.x - grow, 0); x < MIN (r.x + r.w + grow, width); x++)
      mask[(gsize) y * width + x] = 1;
}

/* The outline of @box, @line pixels wide, inside it. */
static void
mask_outline (guint8 * mask, gint width, gint height, Rect box, gint line,
    gint grow)
{
  Rect edges[] = {
    {box.x, box.y, box.w, line},
    {box.x, box.y + box.h - line, box.w, line},
    {box.x, box.y, line, box.h},
    {box.x + box.w - line, box.y, line, box.h},
  };
  for (guint i = 0; i < G_N_ELEMENTS (edges); i++)
    mask_rect (mask, width, height, edges[i], grow);
}

/* Changed pixels must lie in @allowed; every pixel of @required must have
 * changed. Prints the first offender. */
static void
check_changes (const GstVideoInfo * info, const guint8 * changed,
    const guint8 * allowed, const guint8 * required)
{
  gint width = GST_VIDEO_INFO_WIDTH (info);
  gint height = GST_VIDEO_INFO_HEIGHT (info);
  guint n_changed = 0;

  for (gint y = 0; y < height; y++) {
    for (gint x = 0; x < width; x++) {
      gsize i = (gsize) y * width + x;
      n_changed += changed[i];
      fail_if (changed[i] && !allowed[i],
          "%s: pixel (%d, %d) changed outside the boxes and labels",
          GST_VIDEO_INFO_NAME (info), x, y);
      fail_if (required[i] && !changed[i],
          "%s: pixel (%d, %d) of a box or label did not change",
          GST_VIDEO_INFO_NAME (info), x, y);
    }
  }
  fail_unless (n_changed > 0);
}

static void
rgb_at (GstBuffer * buf, const GstVideoInfo * info, gint x, gint y,
    guint32 expected)
{
  GstVideoFrame frame;
  const guint8 *p;
  guint32 rgb;

  fail_unless (gst_video_frame_map (&frame, info, buf, GST_MAP_READ));
  p = (const guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&frame, 0) +
      y * GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0) + 3 * x;
  rgb = (p[0] << 16) | (p[1] << 8) | p[2];
  gst_video_frame_unmap (&frame);
  fail_unless_equals_int_hex (rgb, expected);
}

/* Every pixel of @mask in the RGB frame @buf is @expected; prints the
 * first that is not. */
static void
check_colour (GstBuffer * buf, const GstVideoInfo * info, const guint8 * mask,
    guint32 expected)
{
  GstVideoFrame frame;
  guint n = 0;

  fail_unless (gst_video_frame_map (&frame, info, buf, GST_MAP_READ));
  for (gint y = 0; y < GST_VIDEO_INFO_HEIGHT (info); y++) {
    const guint8 *row = (const guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&frame,
        0) + y * GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0);

    for (gint x = 0; x < GST_VIDEO_INFO_WIDTH (info); x++) {
      const guint8 *p = row + 3 * x;
      guint32 rgb = (p[0] << 16) | (p[1] << 8) | p[2];

      if (!mask[(gsize) y * GST_VIDEO_INFO_WIDTH (info) + x])
        continue;
      fail_unless (rgb == expected, "pixel (%d, %d) is %06x, not %06x", x, y,
          rgb, expected);
      n++;
    }
  }
  gst_video_frame_unmap (&frame);
  fail_unless (n > 0);
}

/* ---- metadata ---- */

static GstVideoRegionOfInterestMeta *
add_face (GstBuffer * buf, const gchar * type, Rect box)
{
  return gst_buffer_add_video_region_of_interest_meta (buf, type, box.x,
      box.y, box.w, box.h);
}

/* A femo/emotion structure as the emotion stage attaches it: the winner,
 * its confidence, the seven classes of FER2013 in order, a track id. */
static void
add_emotion (GstVideoRegionOfInterestMeta * roi, const gchar * label,
    guint track_id)
{
  static const gchar *names[] = { "angry", "disgust", "fear", "happy", "sad",
    "surprise", "neutral"
  };
  static const gdouble probs[] = { 0.02, 0.01, 0.03, 0.87, 0.02, 0.04, 0.01 };
  GstStructure *s = gst_structure_new (FEMO_META_EMOTION_PARAMS_NAME,
      FEMO_META_EMOTION_FIELD_LABEL, G_TYPE_STRING, label,
      FEMO_META_EMOTION_FIELD_LABEL_ID, G_TYPE_INT, 3,
      FEMO_META_EMOTION_FIELD_CONFIDENCE, G_TYPE_DOUBLE, 0.87, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    gst_structure_set (s, names[i], G_TYPE_DOUBLE, probs[i], NULL);
  if (track_id)
    gst_structure_set (s, FEMO_META_EMOTION_FIELD_TRACK_ID, G_TYPE_UINT,
        track_id, NULL);
  gst_video_region_of_interest_meta_add_param (roi, s);
}

static gchar *
caps_string (GstVideoFormat format, gint width, gint height,
    const gchar * features)
{
  return g_strdup_printf ("video/x-raw%s%s%s,format=%s,width=%d,height=%d,"
      "framerate=30/1", features ? "(" : "", features ? features : "",
      features ? ")" : "", gst_video_format_to_string (format), width, height);
}

/* femooverlay between plain caps on both sides: it must blend. */
static GstHarness *
blend_harness (const GstVideoInfo * info)
{
  GstHarness *h = gst_harness_new ("femooverlay");
  gchar *caps = caps_string (GST_VIDEO_INFO_FORMAT (info),
      GST_VIDEO_INFO_WIDTH (info), GST_VIDEO_INFO_HEIGHT (info), NULL);

  gst_harness_set_src_caps_str (h, caps);
  gst_harness_set_sink_caps_str (h, caps);
  g_free (caps);
  return h;
}

/* Pushes @in (taken) and returns which pixels the output changed; the
 * output goes to @out when wanted. */
static guint8 *
push_changes (GstHarness * h, const GstVideoInfo * info, GstBuffer * in,
    GstBuffer ** out)
{
  GstBuffer *before = gst_buffer_copy_deep (in), *after;
  guint8 *changed;

  fail_unless_equals_int (gst_harness_push (h, in), GST_FLOW_OK);
  after = gst_harness_pull (h);
  changed = changed_pixels (info, before, after);
  gst_buffer_unref (before);
  if (out)
    *out = after;
  else
    gst_buffer_unref (after);
  return changed;
}

static void
write_png (GstBuffer * rgb, gint width, gint height, const gchar * path)
{
  GstHarness *h = gst_harness_new ("pngenc");
  gchar *caps = caps_string (GST_VIDEO_FORMAT_RGB, width, height, NULL);
  GstBuffer *png;
  GstMapInfo map;
  GError *error = NULL;

  gst_harness_set_src_caps_str (h, caps);
  fail_unless_equals_int (gst_harness_push (h, gst_buffer_ref (rgb)),
      GST_FLOW_OK);
  png = gst_harness_pull (h);
  fail_unless (gst_buffer_map (png, &map, GST_MAP_READ));
  if (!g_file_set_contents (path, (const gchar *) map.data, map.size, &error))
    g_error ("cannot write %s: %s", path, error->message);
  gst_buffer_unmap (png, &map);
  gst_buffer_unref (png);
  gst_harness_teardown (h);
  g_free (caps);
}

/* ---- tests ---- */

GST_START_TEST (test_untouched_without_faces)
{
  const Rect car = { 20, 20, 60, 40 };
  GstVideoInfo info;
  GstHarness *h;

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_RGB, 320, 240);
  h = blend_harness (&info);

  /* not writable (we keep a ref): anything but the same buffer is a copy */
  for (guint i = 0; i < 2; i++) {
    GstBuffer *in = make_frame (&info), *before, *out;
    GstMapInfo map;

    if (i == 1)
      add_face (in, "car", car);        /* not a roi-types type */
    before = gst_buffer_copy_deep (in);
    fail_unless_equals_int (gst_harness_push (h, gst_buffer_ref (in)),
        GST_FLOW_OK);
    out = gst_harness_pull (h);
    fail_unless (out == in, "the buffer was copied");
    fail_unless (gst_buffer_map (before, &map, GST_MAP_READ));
    fail_unless (gst_buffer_memcmp (out, 0, map.data, map.size) == 0,
        "frame bytes changed");
    gst_buffer_unmap (before, &map);
    gst_buffer_unref (out);
    gst_buffer_unref (in);
    gst_buffer_unref (before);
  }
  gst_harness_teardown (h);
}

GST_END_TEST;

/* An emotion face in every format of the test list: the outline and the
 * label change, nothing else does. Subsampled chroma may spread a change to
 * the neighbouring pixel. Two frames, the second with the canvases of the
 * first. */
GST_START_TEST (test_formats)
{
  static const GstVideoFormat formats[] = { GST_VIDEO_FORMAT_RGB,
    GST_VIDEO_FORMAT_BGRx, GST_VIDEO_FORMAT_RGBA, GST_VIDEO_FORMAT_I420,
    GST_VIDEO_FORMAT_NV12, GST_VIDEO_FORMAT_YUY2, GST_VIDEO_FORMAT_GRAY8
  };
  const Rect box = { 101, 61, 90, 100 };
  const gint line = 3;

  for (guint f = 0; f < G_N_ELEMENTS (formats); f++) {
    GstVideoInfo info;
    GstHarness *h;
    gint grow;
    gsize n;

    gst_video_info_set_format (&info, formats[f], 320, 240);
    n = (gsize) info.width * info.height;
    grow = info.finfo->w_sub[1] || info.finfo->h_sub[1] ? 1 : 0;
    h = blend_harness (&info);
    g_object_set (h->element, "line-width", line, NULL);

    for (guint i = 0; i < 2; i++) {
      GstBuffer *in = make_frame (&info), *out;
      guint8 *allowed = g_malloc0 (n), *required = g_malloc0 (n), *changed;
      Rect label = label_rect ("#3 happy 87%", box, auto_scale (info.height));

      add_emotion (add_face (in, "face", box), "happy", 3);
      changed = push_changes (h, &info, in, &out);
      fail_unless (gst_buffer_get_video_overlay_composition_meta (out) == NULL);
      mask_outline (allowed, info.width, info.height, box, line, grow);
      mask_rect (allowed, info.width, info.height, label, grow);
      mask_outline (required, info.width, info.height, box, line, 0);
      mask_rect (required, info.width, info.height, label, 0);
      check_changes (&info, changed, allowed, required);
      g_free (changed);
      g_free (allowed);
      g_free (required);
      gst_buffer_unref (out);
    }
    gst_harness_teardown (h);
  }
}

GST_END_TEST;

/* facedetect's faces: no params, a plain box in the default colour or in
 * box-color, and no label. */
GST_START_TEST (test_plain_face)
{
  const Rect box = { 40, 50, 80, 70 };
  GstVideoInfo info;
  GstHarness *h;
  guint8 *band;

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_RGB, 320, 240);
  band = g_malloc0 ((gsize) info.width * info.height);
  mask_outline (band, info.width, info.height, box, 2, 0);
  h = blend_harness (&info);
  g_object_set (h->element, "line-width", 2, NULL);

  for (guint i = 0; i < 2; i++) {
    guint32 color = i == 0 ? PLAIN_RGB : 0x102030;
    GstBuffer *in = make_frame (&info), *out;
    guint8 *changed;

    if (i == 1)
      g_object_set (h->element, "box-color", 0xff000000 | color, NULL);
    add_face (in, "face", box);
    changed = push_changes (h, &info, in, &out);
    check_changes (&info, changed, band, band);
    rgb_at (out, &info, box.x + 1, box.y + 1, color);
    rgb_at (out, &info, box.x + box.w - 1, box.y + box.h - 1, color);
    g_free (changed);
    gst_buffer_unref (out);
  }
  g_free (band);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* show-landmarks: a dot in the box's colour, a 24th of the box's shorter
 * side (at least 3 pixels; with a dark rim from 5), centred on each
 * landmark of the meta, a point whose dot would leave the frame left out;
 * off (the default), only the outline. A tall box (YuNet's are not
 * square) is outlined whole. */
GST_START_TEST (test_landmarks)
{
  const Rect box = { 60, 40, 130, 190 };
  /* the last point's dot would leave the frame at the bottom */
  const gdouble xy[2 * FEMO_META_N_LANDMARKS] = {
    95.5, 100.25, 150.0, 98.5, 122.75, 140.0, 100.0, 180.5, 147.5, 238.5,
  };
  const gint side = 130 / 24, line = 2;
  GstVideoInfo info;
  GstHarness *h;
  gsize n;

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_RGB, 320, 240);
  n = (gsize) info.width * info.height;
  h = blend_harness (&info);
  g_object_set (h->element, "line-width", line, NULL);
  for (guint i = 0; i < 2; i++) {
    GstBuffer *in = make_frame (&info), *out;
    guint8 *outline = g_malloc0 (n), *allowed = g_malloc0 (n), *changed;

    if (i == 1)
      g_object_set (h->element, "show-landmarks", TRUE, NULL);
    femo_meta_add_landmarks (add_face (in, "face", box), xy);
    changed = push_changes (h, &info, in, &out);
    mask_outline (outline, info.width, info.height, box, line, 0);
    memcpy (allowed, outline, n);
    for (guint k = 0; i == 1 && k < FEMO_META_N_LANDMARKS - 1; k++) {
      Rect dot = { (gint) (xy[2 * k] - side / 2.0 + 0.5),
        (gint) (xy[2 * k + 1] - side / 2.0 + 0.5), side, side
      };
      Rect inside = { dot.x + 1, dot.y + 1, side - 2, side - 2 };
      guint8 *fill = g_malloc0 (n), *rim = g_malloc0 (n);

      mask_rect (allowed, info.width, info.height, dot, 0);
      mask_rect (fill, info.width, info.height, inside, 0);
      check_colour (out, &info, fill, PLAIN_RGB);
      /* the rim: dark, not the face's colour nor the frame's */
      mask_rect (rim, info.width, info.height, dot, 0);
      for (gsize p = 0; p < n; p++)
        rim[p] &= !fill[p];
      check_colour (out, &info, rim, 0x000000);
      g_free (fill);
      g_free (rim);
    }
    check_changes (&info, changed, allowed, outline);
    check_colour (out, &info, outline, PLAIN_RGB);
    g_free (outline);
    g_free (allowed);
    g_free (changed);
    gst_buffer_unref (out);
  }
  gst_harness_teardown (h);
}

GST_END_TEST;

/* The colour follows the label, and a face at the top edge has its label
 * below the box, where it hides none of it. */
GST_START_TEST (test_colour_and_top_edge)
{
  const Rect box = { 150, 0, 100, 90 };
  GstVideoInfo info;
  GstHarness *h;
  GstBuffer *in, *out;
  guint8 *allowed, *changed;
  Rect label;

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_RGB, 320, 240);
  h = blend_harness (&info);
  g_object_set (h->element, "line-width", 2, "show-track-id", FALSE, NULL);

  in = make_frame (&info);
  add_emotion (add_face (in, "face", box), "angry", 7);
  changed = push_changes (h, &info, in, &out);
  label = label_rect ("angry 87%", box, 1);
  fail_unless_equals_int (label.y, box.y + box.h);
  allowed = g_malloc0 ((gsize) info.width * info.height);
  mask_outline (allowed, info.width, info.height, box, 2, 0);
  mask_rect (allowed, info.width, info.height, label, 0);
  check_changes (&info, changed, allowed, allowed);
  /* the outline's corners */
  rgb_at (out, &info, box.x, box.y, ANGRY_RGB);
  rgb_at (out, &info, box.x + box.w - 1, box.y + box.h - 1, ANGRY_RGB);
  /* the label's background, left of its first glyph */
  rgb_at (out, &info, label.x + 1, label.y + label.h - 1, ANGRY_RGB);

  g_free (changed);
  g_free (allowed);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* show-scores: a panel right of the box, or left of it at the right edge
 * of the frame, one row per class, and only there; a face without emotion
 * gets none. */
GST_START_TEST (test_scores)
{
  const Rect boxes[] = { {40, 60, 80, 80}, {230, 60, 80, 80} };
  const Rect plain = { 140, 180, 40, 40 };
  const guint scale = 1, line = 2;
  GstVideoInfo info;
  GstHarness *h;
  gsize n;

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_RGB, 320, 240);
  n = (gsize) info.width * info.height;
  h = blend_harness (&info);
  g_object_set (h->element, "line-width", line, "show-scores", TRUE, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (boxes); i++) {
    const Rect box = boxes[i];
    GstBuffer *in = make_frame (&info);
    guint8 *allowed = g_malloc0 (n), *required = g_malloc0 (n), *changed;
    Rect label = label_rect ("happy 87%", box, scale), panel;
    guint n_panel = 0;

    add_emotion (add_face (in, "face", box), "happy", 0);
    add_face (in, "face", plain);
    changed = push_changes (h, &info, in, NULL);

    /* 7 rows of 10 + 1 font pixels; names of up to 8 glyphs and a blank,
     * a bar of 32, a blank, "100%"; max (line, scale) away from the box */
    panel.w = (2 * 2 + 9 * FEMO_FONT_ADVANCE + 32 + FEMO_FONT_ADVANCE) *
        scale + text_width ("100%", scale);
    panel.h = (2 * 2 + 7 * (FEMO_FONT_LINE_HEIGHT + 1) - 1) * scale;
    panel.x = i == 0 ? box.x + box.w + (gint) line :
        box.x - (gint) line - panel.w;
    panel.y = box.y;
    fail_unless (panel.x + panel.w <= info.width);

    mask_outline (allowed, info.width, info.height, box, line, 0);
    mask_outline (allowed, info.width, info.height, plain, line, 0);
    mask_rect (allowed, info.width, info.height, label, 0);
    memcpy (required, allowed, n);
    mask_rect (allowed, info.width, info.height, panel, 0);
    check_changes (&info, changed, allowed, required);
    for (gint y = panel.y; y < panel.y + panel.h; y++)
      for (gint x = panel.x; x < panel.x + panel.w; x++)
        n_panel += changed[y * info.width + x];
    /* a translucent panel changes (nearly) every pixel it covers */
    fail_unless (n_panel > (guint) (panel.w * panel.h * 9 / 10),
        "%u of %d panel pixels changed", n_panel, panel.w * panel.h);

    g_free (changed);
    g_free (allowed);
    g_free (required);
  }
  gst_harness_teardown (h);
}

GST_END_TEST;

/* roi-types: "" draws every region, labelled with its type. */
GST_START_TEST (test_roi_types)
{
  const Rect box = { 60, 100, 50, 50 };
  GstVideoInfo info;
  GstHarness *h;
  GstBuffer *in;
  gchar *types = NULL;
  guint8 *allowed, *changed;

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_RGB, 320, 240);
  h = blend_harness (&info);
  g_object_get (h->element, "roi-types", &types, NULL);
  fail_unless_equals_string (types, "face");
  g_free (types);
  g_object_set (h->element, "roi-types", "", "line-width", 1, NULL);

  in = make_frame (&info);
  add_face (in, "car", box);
  changed = push_changes (h, &info, in, NULL);
  allowed = g_malloc0 ((gsize) info.width * info.height);
  mask_outline (allowed, info.width, info.height, box, 1, 0);
  mask_rect (allowed, info.width, info.height, label_rect ("car", box, 1), 0);
  check_changes (&info, changed, allowed, allowed);

  g_free (changed);
  g_free (allowed);
  gst_harness_teardown (h);
}

GST_END_TEST;

static GstHarness *
meta_harness (const GstVideoInfo * info, gboolean alloc_meta)
{
  GstHarness *h = gst_harness_new ("femooverlay");
  gchar *in = caps_string (GST_VIDEO_INFO_FORMAT (info), info->width,
      info->height, NULL);
  gchar *out = caps_string (GST_VIDEO_INFO_FORMAT (info), info->width,
      info->height, GST_CAPS_FEATURE_MEMORY_SYSTEM_MEMORY ", "
      GST_CAPS_FEATURE_META_GST_VIDEO_OVERLAY_COMPOSITION);

  if (alloc_meta)
    gst_harness_add_propose_allocation_meta (h,
        GST_VIDEO_OVERLAY_COMPOSITION_META_API_TYPE, NULL);
  gst_harness_set_src_caps_str (h, in);
  gst_harness_set_sink_caps_str (h, out);
  g_free (in);
  g_free (out);
  return h;
}

/* Downstream negotiates the caps feature and lists the meta: the meta is
 * attached, one rectangle per edge and one for the label, and the pixels
 * are left alone. */
GST_START_TEST (test_composition_meta)
{
  const Rect box = { 30, 40, 60, 50 };
  GstVideoInfo info;
  GstHarness *h;
  GstBuffer *in, *out;
  GstVideoOverlayCompositionMeta *meta;
  GstCaps *caps;
  guint8 *changed, *none;
  gint x, y;
  guint w, ht;

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_I420, 320, 240);
  h = meta_harness (&info, TRUE);
  g_object_set (h->element, "line-width", 4, NULL);

  in = make_frame (&info);
  add_emotion (add_face (in, "face", box), "sad", 0);
  changed = push_changes (h, &info, in, &out);

  caps = gst_pad_get_current_caps (h->sinkpad);
  fail_unless (gst_caps_features_contains (gst_caps_get_features (caps, 0),
          GST_CAPS_FEATURE_META_GST_VIDEO_OVERLAY_COMPOSITION));
  gst_caps_unref (caps);
  meta = gst_buffer_get_video_overlay_composition_meta (out);
  fail_unless (meta != NULL);
  fail_unless_equals_int (gst_video_overlay_composition_n_rectangles
      (meta->overlay), 5);
  gst_video_overlay_rectangle_get_render_rectangle
      (gst_video_overlay_composition_get_rectangle (meta->overlay, 0), &x, &y,
      &w, &ht);
  fail_unless (x == box.x && y == box.y && w == (guint) box.w && ht == 4,
      "top edge at %d,%d %ux%u", x, y, w, ht);

  none = g_malloc0 ((gsize) info.width * info.height);
  fail_unless (memcmp (changed, none, (gsize) info.width * info.height) == 0,
      "pixels changed although the meta was attached");

  g_free (none);
  g_free (changed);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}

GST_END_TEST;

static gboolean
rects_overlap (Rect a, Rect b)
{
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h
      && b.y < a.y + a.h;
}

static Rect
rectangle_at (GstVideoOverlayComposition * comp, guint i)
{
  Rect r;
  guint w, h;

  gst_video_overlay_rectangle_get_render_rectangle
      (gst_video_overlay_composition_get_rectangle (comp, i), &r.x, &r.y, &w,
      &h);
  r.w = w;
  r.h = h;
  return r;
}

/* Labels that would cover each other or another face, or come near
 * another face, move: two faces side by side whose labels, both above
 * their boxes and left aligned, would overlap; then three in a row with no
 * room above. No label covers another or a face; each touches its own box,
 * or in the crowded row, stacked below the boxes, is at most three label
 * heights away from it (joined to it by a leader: see test_crowds). */
GST_START_TEST (test_label_placement)
{
  static const Rect rows[][3] = {
    {{40, 60, 40, 40}, {100, 60, 40, 40}, {0, 0, 0, 0}},
    {{20, 0, 40, 40}, {70, 0, 40, 40}, {120, 0, 40, 40}},
  };
  GstVideoInfo info;

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_I420, 320, 240);
  for (guint r = 0; r < G_N_ELEMENTS (rows); r++) {
    GstHarness *h = meta_harness (&info, TRUE);
    GstBuffer *in = make_frame (&info), *out;
    GstVideoOverlayCompositionMeta *meta;
    guint n = 0, n_rects;
    Rect labels[3];

    g_object_set (h->element, "line-width", 2, NULL);
    for (guint i = 0; i < 3 && rows[r][i].w; i++, n++)
      add_emotion (add_face (in, "face", rows[r][i]), "surprise", 0);
    g_free (push_changes (h, &info, in, &out));
    meta = gst_buffer_get_video_overlay_composition_meta (out);
    fail_unless (meta != NULL);
    /* four edges per face, leaders, then the labels, drawn last */
    n_rects = gst_video_overlay_composition_n_rectangles (meta->overlay);
    fail_unless (n_rects >= 5 * n, "%u rectangles", n_rects);
    for (guint i = 0; i < n; i++) {
      Rect box = rows[r][i], grown;
      gint reach;

      labels[i] = rectangle_at (meta->overlay, n_rects - n + i);
      reach = r == 0 ? 1 : 3 * labels[i].h + 1;
      grown.x = box.x - reach;
      grown.y = box.y - reach;
      grown.w = box.w + 2 * reach;
      grown.h = box.h + 2 * reach;
      fail_unless (rects_overlap (labels[i], grown),
          "row %u: label %u at %d,%d %dx%d is away from its box", r, i,
          labels[i].x, labels[i].y, labels[i].w, labels[i].h);
      for (guint j = 0; j < n; j++)
        fail_if (j != i && rects_overlap (labels[i], rows[r][j]),
            "row %u: label %u covers face %u", r, i, j);
      for (guint j = 0; j < i; j++)
        fail_if (rects_overlap (labels[i], labels[j]),
            "row %u: labels %u and %u overlap", r, j, i);
    }
    /* the first label stays above its box, right aligned: left aligned,
     * it would reach over the second box */
    if (r == 0)
      fail_unless (labels[0].x + labels[0].w == rows[0][0].x + rows[0][0].w
          && labels[0].y + labels[0].h == rows[0][0].y);
    gst_buffer_unref (out);
    gst_harness_teardown (h);
  }
}

GST_END_TEST;

/* A score panel with no free place at the frame's scale is drawn smaller
 * where that finds one: a face with plain faces just beyond a half-size
 * panel on all four sides. */
GST_START_TEST (test_scores_shrink)
{
  const Rect face = { 280, 200, 60, 60 };
  GstVideoInfo info;
  Rect full = { 0 }, panel, blockers[4];
  gint gap = 2, n_rects;

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_I420, 640, 480);
  for (guint pass = 0; pass < 2; pass++) {
    GstHarness *h = meta_harness (&info, TRUE);
    GstBuffer *in = make_frame (&info), *out;
    GstVideoOverlayCompositionMeta *meta;

    g_object_set (h->element, "line-width", gap, "show-scores", TRUE, NULL);
    add_emotion (add_face (in, "face", face), "happy", 0);
    if (pass == 1) {
      /* full is the panel's size alone in the frame (pass 0) */
      const Rect b[4] = {
        {face.x + face.w + gap + full.w / 2 + 4, face.y, 20, 20},
        {face.x - gap - full.w / 2 - 24, face.y, 20, 20},
        {face.x, face.y + face.h + gap + full.h / 2 + 4, 20, 20},
        {face.x, face.y - gap - full.h / 2 - 24, 20, 20},
      };
      memcpy (blockers, b, sizeof b);
      for (guint i = 0; i < 4; i++)
        add_face (in, "face", blockers[i]);
    }
    g_free (push_changes (h, &info, in, &out));
    meta = gst_buffer_get_video_overlay_composition_meta (out);
    fail_unless (meta != NULL);
    /* four edges per face, the panel, the label */
    n_rects = gst_video_overlay_composition_n_rectangles (meta->overlay);
    fail_unless_equals_int (n_rects, pass == 0 ? 6 : 22);
    panel = rectangle_at (meta->overlay, n_rects - 2);
    if (pass == 0) {
      full = panel;
      fail_unless (full.x == face.x + face.w + gap && full.y == face.y,
          "panel alone at %d,%d", full.x, full.y);
    } else {
      fail_unless (panel.w < full.w && panel.h < full.h,
          "panel not smaller: %dx%d, alone %dx%d", panel.w, panel.h, full.w,
          full.h);
      fail_unless (panel.x == face.x + face.w + gap && panel.y == face.y,
          "panel at %d,%d", panel.x, panel.y);
      for (guint i = 0; i < 4; i++)
        fail_if (rects_overlap (panel, blockers[i]), "panel covers face %u", i);
    }
    gst_buffer_unref (out);
    gst_harness_teardown (h);
  }
}

GST_END_TEST;

/* ---- crowds ---- */

/* Group photographs and the faces femodetect finds in them with its
 * defaults (gst-femo image, at b94e465): boxes that touch, overlap or
 * nest, a small face at the top edge (deepface_couple), faces at the
 * bottom. */
typedef struct
{
  const gchar *photo;
  guint n_faces;
  Rect boxes[12];
} Crowd;

static const Crowd crowds[] = {
  {"media/ulfd_3.jpg", 10, {{288, 185, 98, 98}, {537, 237, 96, 96},
          {154, 242, 77, 77}, {181, 243, 79, 79}, {398, 257, 94, 94},
          {736, 263, 107, 107}, {327, 285, 83, 83}, {834, 326, 109, 109},
          {413, 348, 63, 63}, {550, 679, 51, 51}}},
  {"media/deepface_couple.jpg", 3, {{846, 44, 54, 54}, {1434, 339, 679, 679},
          {320, 536, 776, 776}}},
  {"media/ulfd_20.jpg", 12, {{446, 48, 69, 69}, {859, 61, 68, 68},
          {125, 68, 69, 69}, {275, 81, 62, 62}, {258, 85, 55, 55},
          {733, 86, 60, 60}, {604, 89, 66, 66}, {221, 239, 70, 70},
          {374, 244, 75, 75}, {733, 250, 73, 73}, {810, 251, 42, 42},
          {554, 252, 70, 70}}},
  {"media/faceclass_test_image.jpg", 12, {{1172, 335, 142, 142},
          {306, 347, 116, 116}, {845, 374, 105, 105}, {1533, 381, 95, 95},
          {1188, 402, 100, 100}, {574, 420, 111, 111}, {437, 844, 70, 70},
          {767, 848, 576, 576}, {521, 1065, 62, 62}, {1608, 1211, 57, 57},
          {1609, 1256, 57, 57}, {1422, 1401, 52, 52}}},
  {"media/ulfd_9.jpg", 8, {{309, 108, 114, 114}, {135, 129, 154, 154},
          {497, 134, 129, 129}, {691, 177, 135, 135}, {345, 270, 167, 167},
          {556, 317, 161, 161}, {826, 318, 136, 136}, {126, 333, 162, 162}}},
  {"media/dlib_2008_002079.jpg", 6, {{42, 123, 52, 52}, {62, 129, 40, 40},
          {347, 135, 35, 35}, {404, 160, 45, 45}, {432, 164, 58, 58},
          {24, 182, 61, 61}}},
};

/* A label per face whose colours all differ (the palette's, then colours
 * from names), so that the pixels tell whose a drawn pixel is. */
static const gchar *crowd_labels[] = { "angry", "disgust", "fear", "happy",
  "sad", "surprise", "neutral", "contempt", "bored", "calm", "proud", "tired"
};

/* @box's outermost ring of pixels */
static gboolean
on_ring (Rect box, gint x, gint y)
{
  return x >= box.x && x < box.x + box.w && y >= box.y && y < box.y + box.h
      && (x == box.x || x == box.x + box.w - 1 || y == box.y
      || y == box.y + box.h - 1);
}

static gboolean
inside (Rect r, gint x, gint y)
{
  return x >= r.x && x < r.x + r.w && y >= r.y && y < r.y + r.h;
}

/* Whether @a grown by @margin and @b overlap */
static gboolean
rects_near (Rect a, gint margin, Rect b)
{
  Rect g = { a.x - margin, a.y - margin, a.w + 2 * margin, a.h + 2 * margin };
  return rects_overlap (g, b);
}

static guint32
rgb_of (const guint8 * rgb, gint width, gint x, gint y)
{
  const guint8 *p = rgb + ((gsize) y * width + x) * 3;
  return (p[0] << 16) | (p[1] << 8) | p[2];
}

/* Whether the pixels drawn in @color that are 4-connected to (@x, @y)
 * reach the outline of @box. */
static gboolean
reaches_box (const guint8 * rgb, const guint8 * changed, gint width,
    gint height, gint x, gint y, guint32 color, Rect box)
{
  guint8 *seen = g_malloc0 ((gsize) width * height);
  GArray *stack = g_array_new (FALSE, FALSE, sizeof (gint));
  gboolean reached = FALSE;
  gint at = y * width + x;

  g_array_append_val (stack, at);
  seen[at] = 1;
  while (stack->len && !reached) {
    static const gint dx[] = { 1, -1, 0, 0 }, dy[] = { 0, 0, 1, -1 };
    gint p = g_array_index (stack, gint, stack->len - 1);
    gint px = p % width, py = p / width;

    g_array_set_size (stack, stack->len - 1);
    reached = on_ring (box, px, py);
    for (guint d = 0; d < 4; d++) {
      gint nx = px + dx[d], ny = py + dy[d], q = ny * width + nx;
      if (nx < 0 || ny < 0 || nx >= width || ny >= height || seen[q] ||
          !changed[q] || rgb_of (rgb, width, nx, ny) != color)
        continue;
      seen[q] = 1;
      g_array_append_val (stack, q);
    }
  }
  g_array_free (stack, TRUE);
  g_free (seen);
  return reached;
}

/* What a rectangle of the composition shows: a panel (translucent), a
 * label (more than one colour, opaque) or a solid edge or leader; *@color
 * is its first pixel, RGB. */
typedef enum
{
  DRAWN_SOLID,
  DRAWN_LABEL,
  DRAWN_PANEL,
} Drawn;

static Drawn
drawn_kind (GstVideoOverlayComposition * comp, guint i, guint32 * color)
{
  GstVideoOverlayRectangle *rect =
      gst_video_overlay_composition_get_rectangle (comp, i);
  GstBuffer *pixels = gst_video_overlay_rectangle_get_pixels_unscaled_argb
      (rect, GST_VIDEO_OVERLAY_FORMAT_FLAG_NONE);
  GstVideoMeta *vmeta = gst_buffer_get_video_meta (pixels);
  Drawn kind = DRAWN_SOLID;
  GstMapInfo map;
  const guint32 *argb;

  fail_unless (gst_buffer_map (pixels, &map, GST_MAP_READ));
  argb = (const guint32 *) map.data;
  *color = argb[0] & 0xffffff;
  if (argb[0] >> 24 != 0xff)
    kind = DRAWN_PANEL;
  for (gsize p = 0; kind == DRAWN_SOLID &&
      p < (gsize) vmeta->width * vmeta->height; p++)
    if (argb[p] != argb[0])
      kind = DRAWN_LABEL;
  gst_buffer_unmap (pixels, &map);
  return kind;
}

/* The crowd photographs, with the default drawing and with scores at twice
 * the text size. From the placement (the composition meta): no label or
 * panel covers a face's box, its own included, or another label or panel,
 * and no label touches another face's box; every face has its label at
 * the default size. From the blended pixels: every label's colour runs on
 * to its own box's outline (the label lies against it, or a leader joins
 * them), and the outline of every box is there wherever no other box
 * overlaps it or a leader of such a box crosses it. */
GST_START_TEST (test_crowds)
{
  for (guint c = 0; c < G_N_ELEMENTS (crowds); c++) {
    const Crowd *crowd = &crowds[c];
    gchar *path = femo_test_shared_path (crowd->photo);
    GError *error = NULL;
    gint width, height;
    guint8 *photo = femo_test_load_image (path, GST_VIDEO_FORMAT_RGB, &width,
        &height, &error);
    GstVideoInfo info;

    fail_unless (photo != NULL, "%s", error ? error->message : path);
    gst_video_info_set_format (&info, GST_VIDEO_FORMAT_RGB, width, height);
    for (guint scores = 0; scores < 2; scores++) {
      const guint n = crowd->n_faces;
      GstHarness *hm = meta_harness (&info, TRUE), *hb = blend_harness (&info);
      GstBuffer *in = gst_buffer_new_allocate (NULL, info.size, NULL), *out;
      GstVideoOverlayCompositionMeta *meta;
      GstVideoFrame frame;
      guint32 colors[12];
      Rect labels[12], drawn[48];
      gboolean has_label[12] = { FALSE, };
      guint n_drawn = 0, n_rects, n_labels = 0;
      guint8 *changed, *rgb;

      fail_unless (gst_video_frame_map (&frame, &info, in, GST_MAP_WRITE));
      for (gint y = 0; y < height; y++)
        memcpy ((guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&frame, 0) +
            y * GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0),
            photo + (gsize) y * width * 3, width * 3);
      gst_video_frame_unmap (&frame);
      for (guint i = 0; i < n; i++)
        add_emotion (add_face (in, "face", crowd->boxes[i]), crowd_labels[i],
            i + 1);
      for (guint k = 0; scores && k < 2; k++)
        g_object_set ((k ? hm : hb)->element, "show-scores", TRUE,
            "font-scale", 2.0, NULL);

      /* the placement */
      g_free (push_changes (hm, &info, gst_buffer_copy_deep (in), &out));
      meta = gst_buffer_get_video_overlay_composition_meta (out);
      fail_unless (meta != NULL);
      n_rects = gst_video_overlay_composition_n_rectangles (meta->overlay);
      for (guint i = 0; i < n; i++) {
        guint r = 0;
        /* the box's top edge, or the whole of a thin box */
        for (; r < n_rects; r++) {
          Rect e = rectangle_at (meta->overlay, r);
          if (e.x == crowd->boxes[i].x && e.y == crowd->boxes[i].y &&
              e.w == crowd->boxes[i].w)
            break;
        }
        fail_unless (r < n_rects, "%s: no edge of box %u", crowd->photo, i);
        drawn_kind (meta->overlay, r, &colors[i]);
        for (guint j = 0; j < i; j++)
          fail_unless (colors[i] != colors[j], "%s and %s have one colour",
              crowd_labels[i], crowd_labels[j]);
      }
      for (guint r = 0; r < n_rects; r++) {
        guint32 color;
        Drawn kind = drawn_kind (meta->overlay, r, &color);
        Rect rect = rectangle_at (meta->overlay, r);

        if (kind == DRAWN_SOLID)
          continue;
        for (guint i = 0; i < n; i++)
          fail_if (rects_overlap (rect, crowd->boxes[i]),
              "%s%s: %s at %d,%d %dx%d covers box %u", crowd->photo,
              scores ? " with scores" : "", kind == DRAWN_LABEL ? "a label" :
              "a panel", rect.x, rect.y, rect.w, rect.h, i);
        for (guint j = 0; j < n_drawn; j++)
          fail_if (rects_overlap (rect, drawn[j]), "%s: %d,%d %dx%d covers "
              "%d,%d %dx%d", crowd->photo, rect.x, rect.y, rect.w, rect.h,
              drawn[j].x, drawn[j].y, drawn[j].w, drawn[j].h);
        drawn[n_drawn++] = rect;
        if (kind == DRAWN_PANEL)
          continue;
        n_labels++;
        for (guint i = 0; i < n; i++) {
          if (color != colors[i])
            continue;
          fail_if (has_label[i], "%s: two labels of box %u", crowd->photo, i);
          has_label[i] = TRUE;
          labels[i] = rect;
          for (guint j = 0; j < n; j++)
            fail_if (j != i && rects_near (rect, 1, crowd->boxes[j]),
                "%s%s: the label of box %u touches box %u", crowd->photo,
                scores ? " with scores" : "", i, j);
        }
      }
      for (guint i = 0; i < n; i++)
        fail_unless (has_label[i] || scores, "%s: box %u has no label",
            crowd->photo, i);
      fail_unless (n_labels > 0);
      gst_buffer_unref (out);

      /* the pixels */
      changed = push_changes (hb, &info, in, &out);
      fail_unless (gst_video_frame_map (&frame, &info, out, GST_MAP_READ));
      rgb = g_malloc ((gsize) width * height * 3);
      for (gint y = 0; y < height; y++)
        memcpy (rgb + (gsize) y * width * 3,
            (const guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&frame, 0) +
            y * GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0), width * 3);
      gst_video_frame_unmap (&frame);
      for (guint i = 0; i < n; i++) {
        const Rect box = crowd->boxes[i];

        /* the label's top left corner is padding, in the box's colour */
        fail_unless (!has_label[i] || reaches_box (rgb, changed, width, height,
                labels[i].x, labels[i].y, colors[i], box),
            "%s%s: the label of box %u at %d,%d %dx%d is not joined to it",
            crowd->photo, scores ? " with scores" : "", i, labels[i].x,
            labels[i].y, labels[i].w, labels[i].h);
        for (gint y = box.y; y < box.y + box.h; y++) {
          for (gint x = box.x; x < box.x + box.w; x++) {
            gboolean overlapped = FALSE;

            if (!on_ring (box, x, y))
              continue;
            /* inside another box, or under the leader of one that
             * overlaps this box, which has to cross its outline */
            for (guint j = 0; j < n; j++)
              overlapped |= j != i && (inside (crowd->boxes[j], x, y) ||
                  (rects_overlap (box, crowd->boxes[j]) &&
                      rgb_of (rgb, width, x, y) == colors[j]));
            fail_unless (overlapped || rgb_of (rgb, width, x, y) == colors[i],
                "%s%s: pixel (%d, %d) of box %u's outline is hidden",
                crowd->photo, scores ? " with scores" : "", x, y, i);
          }
        }
      }
      g_free (rgb);
      g_free (changed);
      gst_buffer_unref (out);
      gst_harness_teardown (hm);
      gst_harness_teardown (hb);
    }
    g_free (photo);
    g_free (path);
  }
}

GST_END_TEST;

/* A sink that takes any caps feature but does not list the meta in the
 * allocation query (fakesink, appsink) would drop it: blend instead. */
GST_START_TEST (test_feature_without_allocation_meta)
{
  const Rect box = { 30, 40, 60, 50 };
  GstVideoInfo info;
  GstHarness *h;
  GstBuffer *in, *out;
  guint8 *changed;

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_RGB, 320, 240);
  h = meta_harness (&info, FALSE);

  in = make_frame (&info);
  add_face (in, "face", box);
  changed = push_changes (h, &info, in, &out);
  fail_unless (gst_buffer_get_video_overlay_composition_meta (out) == NULL);
  fail_unless (changed[box.y * info.width + box.x], "not blended");

  g_free (changed);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* The sizes follow the frame: at 1080p the label is 4 times as tall as at
 * 240p and the outline 5 pixels wide. Every palette colour, one label
 * outside it, and a plain face in the corner; two columns, so that every
 * label has room above its box. */
GST_START_TEST (test_frame_sizes)
{
  static const gchar *labels[] = { "angry", "disgust", "fear", "happy", "sad",
    "surprise", "neutral", "bored"
  };
  static const gint sizes[][2] = { {320, 240}, {1920, 1080} };
  const gchar *dump = g_getenv ("FEMO_OVERLAY_DUMP");

  for (guint s = 0; s < G_N_ELEMENTS (sizes); s++) {
    gint width = sizes[s][0], height = sizes[s][1];
    guint scale = auto_scale (height);
    gint line = MAX (MIN (width, height) / 200, 1);
    gsize n = (gsize) width * height;
    GstVideoInfo info;
    GstHarness *h;
    GstBuffer *in, *out;
    guint8 *required, *changed;
    Rect box;

    gst_video_info_set_format (&info, GST_VIDEO_FORMAT_RGB, width, height);
    h = blend_harness (&info);
    in = make_frame (&info);
    required = g_malloc0 (n);
    for (guint i = 0; i < G_N_ELEMENTS (labels); i++) {
      gchar text[32];

      box.w = width / 10;
      box.h = box.w * 3 / 4;
      box.x = width / 40 + (i % 2) * width / 2;
      box.y = height / 10 + (i / 2) * height * 2 / 9;
      add_emotion (add_face (in, "face", box), labels[i], i + 1);
      mask_outline (required, width, height, box, line, 0);
      g_snprintf (text, sizeof (text), "#%u %s 87%%", i + 1, labels[i]);
      mask_rect (required, width, height, label_rect (text, box, scale), 0);
    }
    box.x = width - width / 8;
    box.y = height - height / 6;
    box.w = width / 8;
    box.h = height / 6;
    add_face (in, "face", box);
    mask_outline (required, width, height, box, line, 0);

    changed = push_changes (h, &info, in, &out);
    for (gsize i = 0; i < n; i++)
      fail_if (required[i] && !changed[i], "%dx%d: pixel (%d, %d) unchanged",
          width, height, (gint) (i % width), (gint) (i / width));
    if (dump) {
      gchar *name = g_strdup_printf ("%s/femooverlay-%dx%d.png", dump, width,
          height);
      write_png (out, width, height, name);
      g_free (name);
    }
    g_free (changed);
    g_free (required);
    gst_buffer_unref (out);
    gst_harness_teardown (h);
  }
}

GST_END_TEST;

/* The astronaut (512x512) and OpenCV's detection of her face; the golden
 * image is the part of the frame where the drawing with scores is. */
static const Rect astronaut_box = { 177, 66, 95, 95 };
static const Rect astronaut_crop = { 168, 32, 344, 208 };

/* The photograph as an RGB buffer with the face and a happy emotion. */
static GstBuffer *
astronaut_frame (GstVideoInfo * info)
{
  gchar *path = femo_test_shared_path (ASTRONAUT);
  GError *error = NULL;
  gint width, height;
  guint8 *photo;
  GstVideoFrame frame;
  GstBuffer *in;

  photo = femo_test_load_image (path, GST_VIDEO_FORMAT_RGB, &width, &height,
      &error);
  fail_unless (photo != NULL, "%s", error ? error->message : path);
  gst_video_info_set_format (info, GST_VIDEO_FORMAT_RGB, width, height);
  in = gst_buffer_new_allocate (NULL, info->size, NULL);
  fail_unless (gst_video_frame_map (&frame, info, in, GST_MAP_WRITE));
  for (gint y = 0; y < height; y++)
    memcpy ((guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&frame, 0) +
        y * GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0), photo + y * width * 3,
        width * 3);
  gst_video_frame_unmap (&frame);
  add_emotion (add_face (in, "face", astronaut_box), "happy", 3);
  g_free (photo);
  g_free (path);
  return in;
}

/* What the golden image cannot tell, on the same photograph: the whole
 * outline (2 pixels at 512x512) and the label's padding are the happy
 * colour; the face inside the outline and everything away from the box,
 * its label and (with scores) the panel right of the box are the input's
 * pixels, unchanged. */
GST_START_TEST (test_astronaut_drawing)
{
  const Rect box = astronaut_box;
  const gint line = 512 / 200;
  const guint scale = auto_scale (512);
  const Rect label = label_rect ("#3 happy 87%", box, scale);
  const Rect label_pad = { label.x, label.y, LABEL_PAD_X * scale, label.h };

  for (guint show_scores = 0; show_scores < 2; show_scores++) {
    GstVideoInfo info;
    GstBuffer *in = astronaut_frame (&info), *out;
    GstHarness *h = blend_harness (&info);
    gsize n = (gsize) info.width * info.height;
    guint8 *gold = g_malloc0 (n), *allowed = g_malloc0 (n), *changed;

    g_object_set (h->element, "show-scores", (gboolean) show_scores, NULL);
    changed = push_changes (h, &info, in, &out);
    mask_outline (gold, info.width, info.height, box, line, 0);
    mask_rect (gold, info.width, info.height, label_pad, 0);
    check_colour (out, &info, gold, HAPPY_RGB);

    mask_outline (allowed, info.width, info.height, box, line, 0);
    mask_rect (allowed, info.width, info.height, label, 0);
    if (show_scores) {
      const Rect panel = { box.x + box.w, label.y,
        info.width - (box.x + box.w),
        astronaut_crop.y + astronaut_crop.h - label.y
      };
      mask_rect (allowed, info.width, info.height, panel, 0);
    }
    check_changes (&info, changed, allowed, gold);

    g_free (changed);
    g_free (allowed);
    g_free (gold);
    gst_buffer_unref (out);
    gst_harness_teardown (h);
  }
}

GST_END_TEST;

/* The drawing of one face on a real photograph, pixel for pixel against the
 * committed golden image; nothing outside it may change. */
GST_START_TEST (test_golden_astronaut)
{
  const Rect crop = astronaut_crop;
  /* the drawing is integer arithmetic: allow only small rounding
   * differences of the blend, on few pixels */
  const gint max_tolerated = 2;
  const gdouble max_fraction = 0.001;
  gchar *golden_path = femo_test_data_path ("overlay-golden-astronaut.png");
  GError *error = NULL;
  gint gw, gh, max_diff = 0, at_x = 0, at_y = 0;
  guint n_diff = 0;
  guint8 *golden, *changed, *inside;
  GstVideoInfo info, crop_info;
  GstVideoFrame frame, crop_frame;
  GstHarness *h;
  GstBuffer *in, *out, *cropped;

  in = astronaut_frame (&info);
  h = blend_harness (&info);
  g_object_set (h->element, "show-scores", TRUE, NULL);
  changed = push_changes (h, &info, in, &out);
  inside = g_malloc0 ((gsize) info.width * info.height);
  mask_rect (inside, info.width, info.height, crop, 0);
  check_changes (&info, changed, inside, changed);

  gst_video_info_set_format (&crop_info, GST_VIDEO_FORMAT_RGB, crop.w,
      crop.h);
  cropped = gst_buffer_new_allocate (NULL, crop_info.size, NULL);
  fail_unless (gst_video_frame_map (&frame, &info, out, GST_MAP_READ));
  fail_unless (gst_video_frame_map (&crop_frame, &crop_info, cropped,
          GST_MAP_WRITE));
  for (gint y = 0; y < crop.h; y++)
    memcpy ((guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&crop_frame, 0) +
        y * GST_VIDEO_FRAME_PLANE_STRIDE (&crop_frame, 0),
        (const guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&frame, 0) +
        (crop.y + y) * GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0) + 3 * crop.x,
        3 * crop.w);
  gst_video_frame_unmap (&frame);

  if (g_getenv ("FEMO_UPDATE_GOLDEN")) {
    gchar *dir = g_path_get_dirname (golden_path);
    g_mkdir_with_parents (dir, 0755);
    g_free (dir);
    write_png (cropped, crop.w, crop.h, golden_path);
    g_print ("wrote %s\n", golden_path);
  }

  fail_unless (g_file_test (golden_path, G_FILE_TEST_EXISTS),
      "%s is missing (FEMO_UPDATE_GOLDEN=1 writes it)", golden_path);
  golden = femo_test_load_image (golden_path, GST_VIDEO_FORMAT_RGB, &gw, &gh,
      &error);
  fail_unless (golden != NULL, "%s", error ? error->message : golden_path);
  fail_unless (gw == crop.w && gh == crop.h, "golden image is %dx%d", gw, gh);
  for (gint y = 0; y < crop.h; y++) {
    const guint8 *o = (const guint8 *)
        GST_VIDEO_FRAME_PLANE_DATA (&crop_frame, 0) +
        y * GST_VIDEO_FRAME_PLANE_STRIDE (&crop_frame, 0);
    const guint8 *g = golden + y * crop.w * 3;

    for (gint x = 0; x < crop.w; x++) {
      gint d = 0;
      for (gint c = 0; c < 3; c++)
        d = MAX (d, ABS ((gint) o[3 * x + c] - (gint) g[3 * x + c]));
      if (d > max_diff) {
        max_diff = d;
        at_x = crop.x + x;
        at_y = crop.y + y;
      }
      n_diff += d > 0;
    }
  }
  gst_video_frame_unmap (&crop_frame);
  fail_unless (max_diff <= max_tolerated &&
      n_diff <= max_fraction * crop.w * crop.h,
      "differs from the golden image: %u pixels, largest difference %d "
      "at (%d, %d) of the frame", n_diff, max_diff, at_x, at_y);

  g_free (inside);
  g_free (changed);
  g_free (golden);
  g_free (golden_path);
  gst_buffer_unref (cropped);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Defaults and ranges, as gst-inspect shows them. */
GST_START_TEST (test_properties)
{
  static const gchar *names[] = { "roi-types", "line-width", "font-scale",
    "box-color", "text-color", "show-label", "show-confidence", "show-scores",
    "show-track-id", "show-landmarks"
  };
  GstElement *e = gst_element_factory_make ("femooverlay", NULL);
  GObjectClass *klass = G_OBJECT_GET_CLASS (e);
  GParamSpec *pspec;
  guint line_width, box_color, text_color;
  gdouble font_scale;
  gboolean label, confidence, scores, track, landmarks;

  fail_unless (e != NULL);
  g_object_get (e, "line-width", &line_width, "font-scale", &font_scale,
      "box-color", &box_color, "text-color", &text_color, "show-label", &label,
      "show-confidence", &confidence, "show-scores", &scores,
      "show-track-id", &track, "show-landmarks", &landmarks, NULL);
  fail_unless_equals_int (line_width, 0);
  fail_unless_equals_float (font_scale, 1.0);
  fail_unless_equals_int (box_color, 0);
  fail_unless_equals_int (text_color, 0);
  fail_unless (label && confidence && !scores && track && !landmarks);

  pspec = g_object_class_find_property (klass, "font-scale");
  fail_unless (G_PARAM_SPEC_DOUBLE (pspec)->minimum > 0);
  fail_unless (pspec->flags & GST_PARAM_MUTABLE_PLAYING);
  for (guint i = 0; i < G_N_ELEMENTS (names); i++) {
    pspec = g_object_class_find_property (klass, names[i]);
    fail_unless (pspec != NULL, "%s", names[i]);
    fail_unless (strlen (g_param_spec_get_blurb (pspec)) > 10, "%s", names[i]);
  }
  gst_object_unref (e);
}

GST_END_TEST;

static Suite *
femooverlay_suite (void)
{
  Suite *s = suite_create ("femooverlay");
  TCase *tc = tcase_create ("general");

  /* here, before check forks: a test that exits 77 in the fork fails */
  g_free (femo_test_shared_path (ASTRONAUT));
  for (guint c = 0; c < G_N_ELEMENTS (crowds); c++)
    g_free (femo_test_shared_path (crowds[c].photo));

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_properties);
  tcase_add_test (tc, test_untouched_without_faces);
  tcase_add_test (tc, test_formats);
  tcase_add_test (tc, test_plain_face);
  tcase_add_test (tc, test_landmarks);
  tcase_add_test (tc, test_colour_and_top_edge);
  tcase_add_test (tc, test_scores);
  tcase_add_test (tc, test_roi_types);
  tcase_add_test (tc, test_composition_meta);
  tcase_add_test (tc, test_label_placement);
  tcase_add_test (tc, test_scores_shrink);
  tcase_add_test (tc, test_crowds);
  tcase_add_test (tc, test_feature_without_allocation_meta);
  tcase_add_test (tc, test_frame_sizes);
  tcase_add_test (tc, test_astronaut_drawing);
  tcase_add_test (tc, test_golden_astronaut);
  return s;
}

GST_CHECK_MAIN (femooverlay);
