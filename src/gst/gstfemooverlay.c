/* gst-femo: femooverlay, draws faces and their emotions from their metadata
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * SECTION:element-femooverlay
 * @title: femooverlay
 * @see_also: femodetect, facedetect, textoverlay
 *
 * Draws the faces found upstream, read from the #GstVideoRegionOfInterestMeta
 * of each buffer (roi_type "face"; see #GstFemoOverlay:roi-types), or, on
 * GStreamer 1.24+, from the object detections of type "face" of its
 * GstAnalyticsRelationMeta (an ONNX detector's tensor decoder, say; with
 * the classification and tracking mtds related to them) when it has no such
 * ROI meta (femo-meta.h's reader): a box
 * coloured by the emotion (angry red, disgust olive, fear purple, happy gold,
 * sad blue, surprise orange, neutral grey, other labels a colour derived from
 * their name), a label such as `#3 happy 87%` above it, and optionally bars
 * with the probability of every class beside it, and on request
 * (#GstFemoOverlay:show-landmarks) a dot on each landmark that the
 * detector found (eyes, nose tip, mouth corners). Faces that carry no
 * `femo/emotion` parameters, for instance those of gst-plugins-bad's
 * facedetect, are drawn as plain boxes.
 *
 * In a crowd, labels and panels cover no face's box, no other label or
 * panel, and keep their distance from other faces' boxes, so that each is
 * seen to belong to one face: a label that has no such place beside its box
 * (above, below, right or left of it) moves further away, joined to its box
 * by a thin leader line in the box's colour, or else is drawn smaller (down
 * to half size), or inside its own box within the outline; a panel moves or
 * shrinks likewise, never onto its own face. What finds no free place at all
 * is left out rather than drawn over a face.
 *
 * Text is drawn with a built-in bitmap font whose size follows the frame
 * height, readable from 320x240 to 4K. Everything goes through
 * #GstVideoOverlayComposition: when downstream handles the composition meta
 * (it negotiates the `meta:GstVideoOverlayComposition` caps feature and
 * lists the meta in the allocation query) the meta is attached and the
 * pixels stay untouched; otherwise the overlay is blended into the frame, in
 * any format the composition API can blend. Buffers without a matching ROI
 * pass through as they are, neither copied nor written.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 v4l2src ! videoconvert ! femodetect ! femooverlay ! videoconvert ! autovideosink
 * ]| Shows the faces of a webcam and their emotions.
 * |[
 * gst-launch-1.0 filesrc location=clip.mp4 ! decodebin ! videoconvert ! femodetect ! femooverlay show-scores=true ! videoconvert ! x264enc ! mp4mux ! filesink location=annotated.mp4
 * ]| Writes a copy of a clip with boxes, labels and the probability bars.
 * |[
 * gst-launch-1.0 v4l2src ! videoconvert ! facedetect display=false ! femooverlay box-color=0xff00ff00 ! videoconvert ! autovideosink
 * ]| Draws the plain face boxes of gst-plugins-bad's facedetect in green.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include "gstfemooverlay.h"
#include "femo-font.h"
#include "femo-meta.h"

GST_DEBUG_CATEGORY_STATIC (gst_femo_overlay_debug);
#define GST_CAT_DEFAULT gst_femo_overlay_debug

/* ROI types the roi-types property can list. */
#define MAX_ROI_TYPES 16

#define DEFAULT_ROI_TYPES FEMO_META_ROI_TYPE_FACE
#define DEFAULT_LINE_WIDTH 0
#define MAX_LINE_WIDTH 256
#define DEFAULT_FONT_SCALE 1.0
#define MIN_FONT_SCALE 0.1
#define MAX_FONT_SCALE 32.0
#define DEFAULT_BOX_COLOR 0
#define DEFAULT_TEXT_COLOR 0
#define DEFAULT_SHOW_LABEL TRUE
#define DEFAULT_SHOW_CONFIDENCE TRUE
#define DEFAULT_SHOW_SCORES FALSE
#define DEFAULT_SHOW_TRACK_ID TRUE
#define DEFAULT_SHOW_LANDMARKS FALSE

/* Box of faces without emotion when box-color is 0: cyan, unlike any
 * emotion of the palette. */
#define PLAIN_BOX_COLOR 0xff00e5ff
#define SCORES_BACKGROUND 0xc0101010
#define SCORES_TRACK 0xff505050
#define SCORES_TEXT 0xffffffff
#define BLACK 0xff000000
#define WHITE 0xffffffff

/* Sizes in font pixels, multiplied by the font scale. */
#define LABEL_PAD_X 2
#define LABEL_PAD_TOP 2
#define LABEL_PAD_BOTTOM 1
#define SCORES_PAD 2
#define SCORES_ROW_SPACING 1
#define SCORES_BAR_WIDTH 32
#define SCORES_BAR_TOP 1
#define SCORES_BAR_HEIGHT 5

enum
{
  PROP_0,
  PROP_ROI_TYPES,
  PROP_LINE_WIDTH,
  PROP_FONT_SCALE,
  PROP_BOX_COLOR,
  PROP_TEXT_COLOR,
  PROP_SHOW_LABEL,
  PROP_SHOW_CONFIDENCE,
  PROP_SHOW_SCORES,
  PROP_SHOW_TRACK_ID,
  PROP_SHOW_LANDMARKS,
};

typedef struct
{
  guint line_width;             /* 0: from the frame size */
  gdouble font_scale;
  guint32 box_color;            /* 0: PLAIN_BOX_COLOR */
  guint32 text_color;           /* 0: black or white, against the box */
  gboolean show_label;
  gboolean show_confidence;
  gboolean show_scores;
  gboolean show_track_id;
  gboolean show_landmarks;
  guint n_roi_types;            /* 0: every type */
  GQuark roi_types[MAX_ROI_TYPES];
} FemoOverlaySettings;

typedef struct
{
  gint x, y, w, h;
} FemoOverlayRect;

/* Where a label or score panel of a face goes, at which font scale, and the
 * leader that joins it to its box when it is not beside it: a line of the
 * box's colour and outline width. */
typedef struct
{
  FemoOverlayRect rect;         /* w == 0: not drawn */
  FemoOverlayRect leader;       /* w == 0: none */
  guint scale;
} FemoOverlayPlacement;

/* A region to draw, read from one ROI meta (only while the buffer is
 * processed). */
typedef struct
{
  FemoFaceInfo info;
  FemoOverlayRect box;          /* clipped to the frame, w and h > 0 */
  const gchar *label;           /* NULL: plain box */
  guint32 color;
  FemoOverlayPlacement label_at, scores_at;
  gboolean left_out;            /* its label or panel found no place */
} FemoOverlayFace;

/* A label, panel or leader placed, and whose it is. */
typedef struct
{
  FemoOverlayRect rect;
  guint owner;
} FemoOverlayPlaced;

/* Sizes of the current frame's drawing, in pixels. */
typedef struct
{
  gint frame_width, frame_height;
  guint line_width;
  guint scale;
  gint clearance;               /* between a label or panel and other boxes */
  gint spacing;                 /* between the labels and panels of faces */
  gint step;                    /* between the places tried for them */
  gint max_leader;              /* longest leader */
} FemoOverlayLayout;

/* An ARGB canvas of one part of a face's drawing, kept from frame to frame
 * so that an unchanged label is not drawn again and a canvas that nobody
 * holds any more is drawn into rather than reallocated. */
typedef struct
{
  GstBuffer *pixels;            /* with a GstVideoMeta, or NULL */
  GString *signature;           /* everything that decides its pixels */
} FemoOverlayCanvas;

/* Canvases per face; the two horizontal (and the two vertical) edges of a
 * box share theirs. */
enum
{
  PART_HORIZONTAL_EDGES,
  PART_VERTICAL_EDGES,
  PART_LABEL,
  PART_SCORES,
  PART_LABEL_LEADER,
  PART_SCORES_LEADER,
  PART_LANDMARKS,
  N_PARTS
};

struct _GstFemoOverlay
{
  GstVideoFilter parent;

  /* properties, under the object lock */
  FemoOverlaySettings settings;
  gchar *roi_types;

  /* streaming thread only */
  FemoOverlaySettings frame;    /* settings of the buffer being processed */
  gboolean in_caps_meta;        /* upstream negotiated the composition meta */
  gboolean out_caps_meta;       /* so did downstream */
  gboolean attach_decided;
  gboolean attach;              /* attach the meta rather than blend */
  GArray *faces;                /* FemoOverlayFace */
  GArray *canvases;             /* FemoOverlayCanvas, N_PARTS per face */
  GArray *placed;               /* FemoOverlayPlaced: this frame's labels,
                                 * panels and leaders placed so far */
  GArray *order;                /* guint: faces in the order they place */
  GString *text;
  GString *signature;
};

#define FEMO_OVERLAY_CAPS \
  GST_VIDEO_CAPS_MAKE (GST_VIDEO_OVERLAY_COMPOSITION_BLEND_FORMATS) "; " \
  GST_VIDEO_CAPS_MAKE_WITH_FEATURES (GST_CAPS_FEATURE_MEMORY_SYSTEM_MEMORY \
      ", " GST_CAPS_FEATURE_META_GST_VIDEO_OVERLAY_COMPOSITION, \
      GST_VIDEO_OVERLAY_COMPOSITION_BLEND_FORMATS)

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS (FEMO_OVERLAY_CAPS));

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS (FEMO_OVERLAY_CAPS));

/* roi_type of faces, set in class_init */
static GQuark face_quark;

#define gst_femo_overlay_parent_class parent_class
G_DEFINE_TYPE (GstFemoOverlay, gst_femo_overlay, GST_TYPE_VIDEO_FILTER);
GST_ELEMENT_REGISTER_DEFINE (femooverlay, "femooverlay", GST_RANK_NONE,
    GST_TYPE_FEMO_OVERLAY);

/* ---- colours ---- */

static const struct
{
  const gchar *label;
  guint32 color;
} palette[] = {
  {"angry", 0xffe53935},
  {"disgust", 0xff8a9a1b},
  {"fear", 0xff9c4dcc},
  {"happy", 0xffffc107},
  {"sad", 0xff1e88e5},
  {"surprise", 0xffff8f00},
  {"neutral", 0xffbdbdbd},
  {"contempt", 0xff8d6e63},
};

/* Labels outside the palette get a saturated colour from a hash of their
 * name, so that a class keeps its colour from frame to frame and run to run
 * (g_str_hash is not documented as stable, hence our own FNV-1a). */
static guint32
hashed_color (const gchar * name)
{
  guint32 hash = 2166136261u;
  guint hue, f, r, g, b;
  const guint v = 240, lo = 60;

  for (; *name; name++)
    hash = (hash ^ (guchar) g_ascii_tolower (*name)) * 16777619u;
  hue = hash % 360;
  f = (hue % 60) * (v - lo) / 60;
  switch (hue / 60) {
    case 0:
      r = v, g = lo + f, b = lo;
      break;
    case 1:
      r = v - f, g = v, b = lo;
      break;
    case 2:
      r = lo, g = v, b = lo + f;
      break;
    case 3:
      r = lo, g = v - f, b = v;
      break;
    case 4:
      r = lo + f, g = lo, b = v;
      break;
    default:
      r = v, g = lo, b = v - f;
      break;
  }
  return 0xff000000u | (r << 16) | (g << 8) | b;
}

static guint32
label_color (const gchar * label)
{
  for (guint i = 0; i < G_N_ELEMENTS (palette); i++)
    if (g_ascii_strcasecmp (label, palette[i].label) == 0)
      return palette[i].color;
  return hashed_color (label);
}

static guint32
contrasting_color (guint32 background)
{
  guint r = (background >> 16) & 0xff, g = (background >> 8) & 0xff,
      b = background & 0xff;

  return 299 * r + 587 * g + 114 * b >= 140 * 1000 ? BLACK : WHITE;
}

/* ---- reading the metadata ---- */

static gboolean
settings_accept (const FemoOverlaySettings * s, GQuark roi_type)
{
  if (s->n_roi_types == 0)
    return TRUE;
  for (guint i = 0; i < s->n_roi_types; i++)
    if (s->roi_types[i] == roi_type)
      return TRUE;
  return FALSE;
}

/* Regions come from ROI metas and from the object detections of a
 * GstAnalyticsRelationMeta (femo-meta.h's reader: a detection of a type
 * that also has ROI metas is not drawn twice). */
static gboolean
has_regions (const FemoOverlaySettings * s, GstBuffer * buf)
{
  gpointer state = NULL;
  FemoFaceInfo region;

  while (femo_buffer_iterate_regions (buf, &state, &region))
    if (region.width > 0 && region.height > 0
        && settings_accept (s, region.type))
      return TRUE;
  return FALSE;
}

/* Fills self->faces with the regions of @buf to draw, clipped to the frame. */
static void
collect_faces (GstFemoOverlay * self, GstBuffer * buf, gint frame_width,
    gint frame_height)
{
  gpointer state = NULL;
  FemoFaceInfo region;

  g_array_set_size (self->faces, 0);
  while (femo_buffer_iterate_regions (buf, &state, &region)) {
    FemoOverlayFace face = {.info = region };
    const FemoFaceInfo *info = &face.info;
    /* 64 bits: x + w can overflow a guint */
    guint64 x1 = MIN ((guint64) info->x + info->width, (guint64) frame_width);
    guint64 y1 = MIN ((guint64) info->y + info->height,
        (guint64) frame_height);

    if (!settings_accept (&self->frame, info->type) ||
        info->x >= x1 || info->y >= y1)
      continue;
    face.box.x = info->x;
    face.box.y = info->y;
    face.box.w = x1 - info->x;
    face.box.h = y1 - info->y;
    face.label = info->label;

    if (face.label)
      face.color = label_color (face.label);
    else if (info->type != face_quark) {
      /* name other regions, or boxes of several types look alike */
      face.label = g_quark_to_string (info->type);
      face.color = hashed_color (face.label);
    } else
      face.color = self->frame.box_color ? self->frame.box_color :
          PLAIN_BOX_COLOR;
    g_array_append_val (self->faces, face);
  }
}

/* ---- canvases and rectangles ---- */

/* Prepares the canvas @slot for what self->signature describes, at
 * @width x @height. Returns the pixels to draw into, with @map to unmap, or
 * NULL when the canvas already shows it; *@pixels is the canvas buffer. */
static guint32 *
canvas_begin (GstFemoOverlay * self, guint slot, guint width, guint height,
    GstBuffer ** pixels, GstMapInfo * map)
{
  FemoOverlayCanvas *canvas;

  if (slot >= self->canvases->len)
    g_array_set_size (self->canvases, slot + 1);
  canvas = &g_array_index (self->canvases, FemoOverlayCanvas, slot);
  if (canvas->signature == NULL)
    canvas->signature = g_string_new (NULL);

  if (canvas->pixels && g_string_equal (canvas->signature, self->signature)) {
    *pixels = canvas->pixels;
    return NULL;
  }

  /* a canvas still held by rectangles of earlier frames must not change */
  if (canvas->pixels == NULL || !gst_buffer_is_writable (canvas->pixels) ||
      gst_buffer_get_video_meta (canvas->pixels)->width != width ||
      gst_buffer_get_video_meta (canvas->pixels)->height != height) {
    gst_clear_buffer (&canvas->pixels);
    canvas->pixels = gst_buffer_new_allocate (NULL,
        (gsize) width * height * 4, NULL);
    gst_buffer_add_video_meta (canvas->pixels, GST_VIDEO_FRAME_FLAG_NONE,
        GST_VIDEO_OVERLAY_COMPOSITION_FORMAT_RGB, width, height);
  }
  g_string_assign (canvas->signature, self->signature->str);

  *pixels = canvas->pixels;
  if (!gst_buffer_map (canvas->pixels, map, GST_MAP_WRITE))
    g_assert_not_reached ();    /* our own writable system memory */
  return (guint32 *) map->data;
}

static void
canvas_end (GstBuffer * pixels, GstMapInfo * map)
{
  gst_buffer_unmap (pixels, map);
}

static void
release_canvases (GstFemoOverlay * self, guint from)
{
  for (guint i = from; i < self->canvases->len; i++) {
    FemoOverlayCanvas *canvas = &g_array_index (self->canvases,
        FemoOverlayCanvas, i);
    gst_clear_buffer (&canvas->pixels);
    if (canvas->signature)
      g_string_free (canvas->signature, TRUE);
    canvas->signature = NULL;
  }
  if (from < self->canvases->len)
    g_array_set_size (self->canvases, from);
}

static void
fill_rect (guint32 * pixels, guint stride, guint x, guint y, guint w,
    guint h, guint32 argb)
{
  for (guint row = y; row < y + h; row++)
    for (guint col = x; col < x + w; col++)
      pixels[(gsize) row * stride + col] = argb;
}

static void
add_rectangle (GstVideoOverlayComposition ** comp, GstBuffer * pixels,
    gint x, gint y, guint width, guint height)
{
  /* canvases are straight (not premultiplied) ARGB at their render size */
  GstVideoOverlayRectangle *rect = gst_video_overlay_rectangle_new_raw (pixels,
      x, y, width, height, GST_VIDEO_OVERLAY_FORMAT_FLAG_NONE);

  if (*comp == NULL)
    *comp = gst_video_overlay_composition_new (rect);
  else
    gst_video_overlay_composition_add_rectangle (*comp, rect);
  gst_video_overlay_rectangle_unref (rect);
}

/* A canvas of one colour, shown at each of @n_at positions. */
static void
render_solid (GstFemoOverlay * self, GstVideoOverlayComposition ** comp,
    guint slot, guint width, guint height, guint32 argb, const gint * at,
    guint n_at)
{
  GstBuffer *pixels;
  GstMapInfo map;
  guint32 *data;

  g_string_printf (self->signature, "solid %ux%u %08x", width, height, argb);
  data = canvas_begin (self, slot, width, height, &pixels, &map);
  if (data) {
    fill_rect (data, width, 0, 0, width, height, argb);
    canvas_end (pixels, &map);
  }
  for (guint i = 0; i < n_at; i++)
    add_rectangle (comp, pixels, at[2 * i], at[2 * i + 1], width, height);
}

/* Width of a face's outline: line-width, at most half its box. */
static gint
outline_width (const FemoOverlayFace * face, const FemoOverlayLayout * lay)
{
  return MAX (MIN (lay->line_width, (guint) MIN (face->box.w,
              face->box.h) / 2), 1);
}

/* The outline, inside the region so that it never leaves the frame. */
static void
render_box (GstFemoOverlay * self, GstVideoOverlayComposition ** comp,
    guint slot, const FemoOverlayFace * face, const FemoOverlayLayout * lay)
{
  const FemoOverlayRect *b = &face->box;
  const gint band = outline_width (face, lay);

  if (b->h <= 2 * band) {
    const gint at[] = { b->x, b->y };
    render_solid (self, comp, slot + PART_HORIZONTAL_EDGES, b->w, b->h,
        face->color, at, 1);
  } else {
    const gint h_at[] = { b->x, b->y, b->x, b->y + b->h - band };
    const gint v_at[] = { b->x, b->y + band, b->x + b->w - band, b->y + band };
    render_solid (self, comp, slot + PART_HORIZONTAL_EDGES, b->w, band,
        face->color, h_at, 2);
    render_solid (self, comp, slot + PART_VERTICAL_EDGES, band,
        b->h - 2 * band, face->color, v_at, 2);
  }
}

/* Side of a landmark's dot: a 24th of the box's shorter side, at least 3
 * pixels (visible on a small face, not covering the eye on a large one). */
static guint
landmark_size (const FemoOverlayFace * face)
{
  return MAX ((guint) MIN (face->box.w, face->box.h) / 24, 3);
}

/* A dot in the face's colour on each landmark it has, with a dark rim
 * when it is large enough for one (so it shows on skin of its colour);
 * dots that would leave the frame are left out. */
static void
render_landmarks (GstFemoOverlay * self, GstVideoOverlayComposition ** comp,
    guint slot, const FemoOverlayFace * face, const FemoOverlayLayout * lay)
{
  const guint side = landmark_size (face);
  const guint rim = side >= 5 ? 1 : 0;
  GstBuffer *pixels;
  GstMapInfo map;
  guint32 *data;

  if (!face->info.has_landmarks)
    return;
  g_string_printf (self->signature, "landmark %u %08x", side, face->color);
  data = canvas_begin (self, slot, side, side, &pixels, &map);
  if (data) {
    fill_rect (data, side, 0, 0, side, side, BLACK);
    fill_rect (data, side, rim, rim, side - 2 * rim, side - 2 * rim,
        face->color);
    canvas_end (pixels, &map);
  }
  for (guint k = 0; k < FEMO_META_N_LANDMARKS; k++) {
    gdouble x = face->info.landmarks[2 * k] - side / 2.0;
    gdouble y = face->info.landmarks[2 * k + 1] - side / 2.0;

    if (x >= 0 && y >= 0 && x + side <= lay->frame_width
        && y + side <= lay->frame_height)
      add_rectangle (comp, pixels, (gint) (x + 0.5), (gint) (y + 0.5), side,
          side);
  }
}

/* "#3 happy 87%", or as much of it as there is and the settings ask for. */
static void
format_label (const FemoOverlaySettings * s, const FemoOverlayFace * face,
    GString * text)
{
  g_string_truncate (text, 0);
  if (s->show_track_id && face->info.track_id > 0)
    g_string_append_printf (text, "#%u", face->info.track_id);
  if (s->show_label && face->label) {
    if (text->len)
      g_string_append_c (text, ' ');
    g_string_append (text, face->label);
    if (s->show_confidence && face->info.confidence >= 0)
      g_string_append_printf (text, " %u%%",
          (guint) (CLAMP (face->info.confidence, 0.0, 1.0) * 100 + 0.5));
  }
}

/* ---- placing labels and panels ---- */

/* Whether @a grown by @margin on every side and @b share a pixel. */
static gboolean
rects_meet (const FemoOverlayRect * a, gint margin, const FemoOverlayRect * b)
{
  return a->x - margin < b->x + b->w && b->x < a->x + a->w + margin &&
      a->y - margin < b->y + b->h && b->y < a->y + a->h + margin;
}

/* Whether face @owner may have @r and @leader (none when its w is 0): they
 * keep lay->spacing from what other faces have placed, cover nothing of
 * their own face's, and keep lay->clearance from the boxes of other faces,
 * so that each is seen to belong to its own face alone. A leader may cross
 * the boxes that overlap its own, which it could not leave otherwise. */
static gboolean
is_free (GstFemoOverlay * self, const FemoOverlayLayout * lay, guint owner,
    const FemoOverlayRect * r, const FemoOverlayRect * leader)
{
  const FemoOverlayRect *own = &g_array_index (self->faces, FemoOverlayFace,
      owner).box;

  for (guint i = 0; i < self->placed->len; i++) {
    const FemoOverlayPlaced *p = &g_array_index (self->placed,
        FemoOverlayPlaced, i);
    const gint margin = p->owner == owner ? 0 : lay->spacing;

    if (rects_meet (r, margin, &p->rect) || (leader->w &&
            rects_meet (leader, margin, &p->rect)))
      return FALSE;
  }
  for (guint i = 0; i < self->faces->len; i++) {
    const FemoOverlayRect *b = &g_array_index (self->faces, FemoOverlayFace,
        i).box;
    if (i == owner)
      continue;
    if (rects_meet (r, lay->clearance, b) || (leader->w &&
            rects_meet (leader, lay->clearance, b) && !rects_meet (own, 0, b)))
      return FALSE;
  }
  return TRUE;
}

/* Whether @r shares a pixel with the box of a face other than @owner. */
static gboolean
in_other_box (GstFemoOverlay * self, guint owner, const FemoOverlayRect * r)
{
  for (guint i = 0; i < self->faces->len; i++)
    if (i != owner && rects_meet (r, 0, &g_array_index (self->faces,
                FemoOverlayFace, i).box))
      return TRUE;
  return FALSE;
}

typedef enum
{
  SIDE_ABOVE,
  SIDE_BELOW,
  SIDE_RIGHT,
  SIDE_LEFT,
} FemoOverlaySide;

/* The sides of its box where a label, or a panel, goes first. */
static const FemoOverlaySide label_sides[] = { SIDE_ABOVE, SIDE_BELOW,
  SIDE_RIGHT, SIDE_LEFT
};

static const FemoOverlaySide scores_sides[] = { SIDE_RIGHT, SIDE_LEFT,
  SIDE_BELOW, SIDE_ABOVE
};

/* The first free place (see is_free) for a @w x @h rectangle of face
 * @owner, @gap away from its box on one of the @sides, in their order:
 * aligned with the box's start (left or top), else its end. With @far,
 * then slid out from there either way while the two still face each other
 * (they overlap by half the shorter), then the same lay->step after step
 * further away, up to lay->max_leader, with a leader. Places that would
 * leave the frame are slid along the side into it, never onto the box. */
static gboolean
find_place (GstFemoOverlay * self, const FemoOverlayLayout * lay,
    guint owner, gint w, gint h, const FemoOverlaySide * sides,
    guint n_sides, gint gap, gboolean far, FemoOverlayPlacement * p)
{
  const FemoOverlayFace *face = &g_array_index (self->faces, FemoOverlayFace,
      owner);
  const FemoOverlayRect *box = &face->box;
  const gint band = outline_width (face, lay);

  for (gint d = gap; d <= gap + (far ? lay->max_leader : 0); d += lay->step) {
    gboolean in_frame = FALSE;

    for (guint s = 0; s < n_sides; s++) {
      const gboolean vertical = sides[s] == SIDE_ABOVE
          || sides[s] == SIDE_BELOW;
      /* along the side: x above and below the box, y beside it */
      const gint length = vertical ? w : h;
      const gint start = vertical ? box->x : box->y;
      const gint end = start + (vertical ? box->w : box->h) - length;
      const gint room = (vertical ? lay->frame_width : lay->frame_height) -
          length;
      const gint overlap = MAX (MIN (length, end + length - start) / 2, 1);
      const gint lo = start + overlap - length, hi = end + length - overlap;
      const gint slide = MAX (lay->step, length / 4);
      FemoOverlayRect r = { 0, 0, w, h }, leader = { 0, 0, 0, 0 };

      switch (sides[s]) {
        case SIDE_ABOVE:
          r.y = box->y - d - h;
          break;
        case SIDE_BELOW:
          r.y = box->y + box->h + d;
          break;
        case SIDE_RIGHT:
          r.x = box->x + box->w + d;
          break;
        case SIDE_LEFT:
          r.x = box->x - d - w;
          break;
      }
      if (vertical ? r.y < 0 || r.y + h > lay->frame_height :
          r.x < 0 || r.x + w > lay->frame_width)
        continue;
      in_frame = TRUE;

      for (gint k = 0; k < (far ? G_MAXINT : 2) &&
          (start - k / 2 * slide >= lo || end + k / 2 * slide <= hi); k++) {
        gint along = k % 2 ? end + k / 2 * slide : start - k / 2 * slide;

        along = CLAMP (along, 0, MAX (room, 0));
        if (along < lo || along > hi)
          continue;
        if (vertical)
          r.x = along;
        else
          r.y = along;

        /* a leader at either end of the stretch where they face */
        for (guint e = 0; e < (d > gap ? 2u : 1u); e++) {
          const gint lx = e ? MIN (box->x + box->w, r.x + w) - band :
              MAX (box->x, r.x);
          const gint ly = e ? MIN (box->y + box->h, r.y + h) - band :
              MAX (box->y, r.y);
          const FemoOverlayRect leaders[] = {
            {lx, r.y + h, band, box->y - r.y - h},
            {lx, box->y + box->h, band, r.y - box->y - box->h},
            {box->x + box->w, ly, r.x - box->x - box->w, band},
            {r.x + w, ly, box->x - r.x - w, band},
          };

          /* where the leader meets the outline */
          const FemoOverlayRect joints[] = {
            {lx, box->y, band, band},
            {lx, box->y + box->h - band, band, band},
            {box->x + box->w - band, ly, band, band},
            {box->x, ly, band, band},
          };

          if (d > gap) {
            leader = leaders[sides[s]];
            if (in_other_box (self, owner, &joints[sides[s]]))
              continue;         /* it would seem to start from that box */
          }
          if (is_free (self, lay, owner, &r, &leader)) {
            p->rect = r;
            p->leader = leader;
            return TRUE;
          }
        }
      }
    }
    if (!in_frame)
      break;                    /* further away is out of the frame too */
  }
  return FALSE;
}

/* Records @p, found for face @owner at @scale, as placed. */
static void
place (GstFemoOverlay * self, guint owner, FemoOverlayPlacement * p,
    guint scale)
{
  FemoOverlayPlaced rect = { p->rect, owner }, leader = { p->leader, owner };

  p->scale = scale;
  g_array_append_val (self->placed, rect);
  if (p->leader.w)
    g_array_append_val (self->placed, leader);
}

/* The label's text into self->text and its size at @scale; FALSE when it
 * is empty. */
static gboolean
label_size (GstFemoOverlay * self, const FemoOverlayFace * face,
    const FemoOverlayLayout * lay, guint scale, gint * width, gint * height)
{
  format_label (&self->frame, face, self->text);
  if (self->text->len == 0)
    return FALSE;
  *width = MIN (femo_font_text_width (self->text->str, scale) +
      2 * LABEL_PAD_X * scale, (guint) lay->frame_width);
  *height = MIN ((LABEL_PAD_TOP + FEMO_FONT_GLYPH_HEIGHT + LABEL_PAD_BOTTOM) *
      scale, (guint) lay->frame_height);
  return TRUE;
}

/* Face @index's label: above its box, left aligned with it, or where
 * find_place finds it free beside the box. With @far, for the labels
 * that found no such place once every face had its turn: further away
 * with a leader, else inside the box's top left corner, within the
 * outline; else the same at smaller scales, down to half the frame's.
 * A label that is nowhere free is left out rather than drawn over another
 * face. Returns FALSE when this left it out. */
static gboolean
place_label (GstFemoOverlay * self, guint index, const FemoOverlayLayout * lay,
    gboolean far)
{
  FemoOverlayFace *face = &g_array_index (self->faces, FemoOverlayFace, index);
  const FemoOverlayRect *box = &face->box;
  const guint min_scale = far ? MAX ((lay->scale + 1) / 2, 1) : lay->scale;
  const gint band = outline_width (face, lay);
  FemoOverlayPlacement *p = &face->label_at;
  gint w, h;

  for (guint scale = lay->scale; scale >= min_scale; scale--) {
    if (!label_size (self, face, lay, scale, &w, &h))
      return TRUE;
    if (find_place (self, lay, index, w, h, label_sides,
            G_N_ELEMENTS (label_sides), 0, far, p)) {
      place (self, index, p, scale);
      return TRUE;
    }
    if (far && w <= box->w - 2 * band && h <= box->h - 2 * band) {
      const FemoOverlayRect inside = { box->x + band, box->y + band, w, h };
      const FemoOverlayRect none = { 0, 0, 0, 0 };

      if (is_free (self, lay, index, &inside, &none)) {
        p->rect = inside;
        p->leader = none;
        place (self, index, p, scale);
        return TRUE;
      }
    }
  }
  return FALSE;
}

/* Size of a score panel at @scale; @name_width: the names' column. */
static void
scores_size (const FemoOverlayFace * face, const FemoOverlayLayout * lay,
    guint scale, guint * name_width, gint * width, gint * height)
{
  guint name_length = 0;

  for (guint i = 0; i < face->info.n_classes; i++)
    name_length = MAX (name_length,
        femo_font_text_length (face->info.class_names[i]));
  /* one blank glyph between the longest name and the bars */
  *name_width = (name_length + 1) * FEMO_FONT_ADVANCE * scale;
  *width = MIN (2 * SCORES_PAD * scale + *name_width + SCORES_BAR_WIDTH * scale
      + FEMO_FONT_ADVANCE * scale + femo_font_text_width ("100%", scale),
      (guint) lay->frame_width);
  *height = MIN ((2 * SCORES_PAD + face->info.n_classes *
          (FEMO_FONT_LINE_HEIGHT + SCORES_ROW_SPACING) - SCORES_ROW_SPACING) *
      scale,
      (guint) lay->frame_height);
}

/* Face @index's score panel: right of its box, else left of it, below or
 * above it, max (line width, scale) away, where find_place finds it free,
 * at a smaller scale (down to half the frame's) if that finds a place; with
 * @far, for the panels that found none once every face had its turn,
 * further away with a leader. A panel that is nowhere free is left out:
 * returns FALSE when this left it out. */
static gboolean
place_scores (GstFemoOverlay * self, guint index,
    const FemoOverlayLayout * lay, gboolean far)
{
  FemoOverlayFace *face = &g_array_index (self->faces, FemoOverlayFace, index);
  const guint min_scale = MAX ((lay->scale + 1) / 2, 1);
  guint name_width;
  gint w, h;

  if (face->info.n_classes == 0)
    return TRUE;
  for (guint scale = lay->scale; scale >= min_scale; scale--) {
    scores_size (face, lay, scale, &name_width, &w, &h);
    if (find_place (self, lay, index, w, h, scores_sides,
            G_N_ELEMENTS (scores_sides), MAX (lay->line_width, scale), far,
            &face->scores_at)) {
      place (self, index, &face->scores_at, scale);
      return TRUE;
    }
  }
  return FALSE;
}

/* Places the labels, then the panels, of the faces in self->order: the
 * first @n_first wherever they can, then the others, each beside its box
 * before any of them moves away. Returns how many were left out, and moves
 * their faces to the front of self->order. */
static guint
place_all (GstFemoOverlay * self, const FemoOverlayLayout * lay, guint n_first)
{
  const guint n = self->faces->len;
  guint *order = (guint *) self->order->data;
  guint n_out = 0;

  g_array_set_size (self->placed, 0);
  for (guint i = 0; i < n; i++) {
    FemoOverlayFace *face = &g_array_index (self->faces, FemoOverlayFace, i);
    memset (&face->label_at, 0, sizeof (face->label_at));
    memset (&face->scores_at, 0, sizeof (face->scores_at));
    face->left_out = FALSE;
  }
  for (guint panels = 0; panels < (self->frame.show_scores ? 2u : 1u);
      panels++) {
    for (guint far = 0; far < 2; far++) {
      for (guint i = 0; i < n; i++) {
        FemoOverlayFace *face = &g_array_index (self->faces, FemoOverlayFace,
            order[i]);
        const gboolean anywhere = far || i < n_first;

        if ((panels ? face->scores_at : face->label_at).rect.w == 0 &&
            !(panels ? place_scores (self, order[i], lay, anywhere) :
                place_label (self, order[i], lay, anywhere)) && far)
          face->left_out = TRUE;
      }
    }
  }

  /* stable: the faces left out first, the others after them */
  for (guint i = 0; i < n; i++) {
    const guint o = order[i];

    if (g_array_index (self->faces, FemoOverlayFace, o).left_out) {
      memmove (order + n_out + 1, order + n_out, (i - n_out) * sizeof (guint));
      order[n_out++] = o;
    }
  }
  return n_out;
}

/* ---- drawing labels and panels ---- */

static void
render_leader (GstFemoOverlay * self, GstVideoOverlayComposition ** comp,
    guint slot, const FemoOverlayFace * face, const FemoOverlayPlacement * p)
{
  const gint at[] = { p->leader.x, p->leader.y };

  if (p->rect.w && p->leader.w)
    render_solid (self, comp, slot, p->leader.w, p->leader.h, face->color,
        at, 1);
}

/* Draws face @index's label where, and at the size, place_label put it. */
static void
render_label (GstFemoOverlay * self, GstVideoOverlayComposition ** comp,
    guint index, const FemoOverlayFace * face)
{
  const FemoOverlayRect *r = &face->label_at.rect;
  const guint scale = face->label_at.scale;
  const gint width = r->w, height = r->h;
  guint32 fg = self->frame.text_color ? self->frame.text_color :
      contrasting_color (face->color);
  GstBuffer *pixels;
  GstMapInfo map;
  guint32 *data;

  if (width == 0)
    return;                     /* no label */
  format_label (&self->frame, face, self->text);
  g_string_printf (self->signature, "label %ux%u %08x %08x %u %s", width,
      height, face->color, fg, scale, self->text->str);
  data = canvas_begin (self, index * N_PARTS + PART_LABEL, width, height,
      &pixels, &map);
  if (data) {
    fill_rect (data, width, 0, 0, width, height, face->color);
    femo_font_draw (data, width, height, width, LABEL_PAD_X * scale,
        LABEL_PAD_TOP * scale, self->text->str, scale, fg);
    canvas_end (pixels, &map);
  }
  add_rectangle (comp, pixels, r->x, r->y, width, height);
}

/* One row per class: name, a bar in the class colour, the percentage;
 * where, and at the size, place_scores put it. */
static void
render_scores (GstFemoOverlay * self, GstVideoOverlayComposition ** comp,
    guint index, const FemoOverlayFace * face, const FemoOverlayLayout * lay)
{
  const FemoOverlayRect *r = &face->scores_at.rect;
  const guint scale = face->scores_at.scale;
  guint32 fg = self->frame.text_color ? self->frame.text_color : SCORES_TEXT;
  guint percents[FEMO_FACE_INFO_MAX_CLASSES];
  guint pad, row_height, bar_width, name_width;
  gint width, height;
  GstBuffer *pixels;
  GstMapInfo map;
  guint32 *data;

  if (r->w == 0)
    return;                     /* no panel */
  scores_size (face, lay, scale, &name_width, &width, &height);
  pad = SCORES_PAD * scale;
  row_height = (FEMO_FONT_LINE_HEIGHT + SCORES_ROW_SPACING) * scale;
  bar_width = SCORES_BAR_WIDTH * scale;

  g_string_printf (self->signature, "scores %u %08x", scale, fg);
  for (guint i = 0; i < face->info.n_classes; i++) {
    percents[i] = CLAMP (face->info.probs[i], 0.0, 1.0) * 100 + 0.5;
    g_string_append_printf (self->signature, " %s=%u",
        face->info.class_names[i], percents[i]);
  }
  g_string_append_printf (self->signature, " %dx%d", width, height);
  data = canvas_begin (self, index * N_PARTS + PART_SCORES, width, height,
      &pixels, &map);
  if (data) {
    fill_rect (data, width, 0, 0, width, height, SCORES_BACKGROUND);
    for (guint i = 0; i < face->info.n_classes; i++) {
      guint row_y = pad + i * row_height;
      guint bar_x = pad + name_width;
      guint bar_y = row_y + SCORES_BAR_TOP * scale;
      gchar percent[8];

      femo_font_draw (data, width, height, width, pad, row_y,
          face->info.class_names[i], scale, fg);
      /* the panel may be cut to the frame: bars are clipped with it */
      if (bar_x < (guint) width && bar_y < (guint) height) {
        guint track = MIN (bar_width, width - bar_x);
        guint bar_h = MIN (SCORES_BAR_HEIGHT * scale, height - bar_y);
        fill_rect (data, width, bar_x, bar_y, track, bar_h, SCORES_TRACK);
        fill_rect (data, width, bar_x, bar_y,
            MIN (bar_width * percents[i] / 100, track), bar_h,
            label_color (face->info.class_names[i]));
      }
      g_snprintf (percent, sizeof (percent), "%u%%", percents[i]);
      femo_font_draw (data, width, height, width,
          width - (gint) (pad + femo_font_text_width (percent, scale)),
          row_y, percent, scale, fg);
    }
    canvas_end (pixels, &map);
  }
  add_rectangle (comp, pixels, r->x, r->y, width, height);
}

static GstVideoOverlayComposition *
render (GstFemoOverlay * self, gint frame_width, gint frame_height)
{
  const FemoOverlaySettings *s = &self->frame;
  const guint n = self->faces->len;
  GstVideoOverlayComposition *comp = NULL;
  FemoOverlayLayout lay;
  guint n_out;
  guint auto_scale = MAX ((frame_height + 150) / 300, 1);

  lay.frame_width = frame_width;
  lay.frame_height = frame_height;
  /* auto sizes grow with the frame: 1 pixel lines and 5x9 glyphs at 240p,
   * 5 pixel lines and 20x36 glyphs at 1080p */
  lay.line_width = s->line_width ? s->line_width :
      MAX ((guint) MIN (frame_width, frame_height) / 200, 1);
  lay.scale = MAX ((guint) (auto_scale * s->font_scale + 0.5), 1);
  lay.clearance = MAX (lay.line_width, lay.scale);
  lay.spacing = lay.scale;
  /* half a label's height */
  lay.step = MAX ((LABEL_PAD_TOP + FEMO_FONT_GLYPH_HEIGHT +
          LABEL_PAD_BOTTOM) * lay.scale / 2, 1);
  lay.max_leader = MAX (frame_width, frame_height) / 4;

  /* Faces in their order, and when that leaves some label or panel out,
   * those first: a face whose box is hemmed in by others finds a place
   * before its neighbours take every one near it. */
  g_array_set_size (self->order, n);
  for (guint i = 0; i < n; i++)
    g_array_index (self->order, guint, i) = i;
  n_out = place_all (self, &lay, 0);
  if (n_out) {
    const guint n_retry = place_all (self, &lay, n_out);

    if (n_retry > n_out) {
      for (guint i = 0; i < n; i++)
        g_array_index (self->order, guint, i) = i;
      place_all (self, &lay, 0);
    } else {
      n_out = n_retry;
    }
  }
  if (n_out)
    GST_LOG_OBJECT (self, "%u labels or panels left out: no free place",
        n_out);

  /* drawn: boxes, landmarks, leaders, panels, labels, so that text is on
   * top */
  for (guint i = 0; i < n; i++)
    render_box (self, &comp, i * N_PARTS, &g_array_index (self->faces,
            FemoOverlayFace, i), &lay);
  for (guint i = 0; s->show_landmarks && i < n; i++)
    render_landmarks (self, &comp, i * N_PARTS + PART_LANDMARKS,
        &g_array_index (self->faces, FemoOverlayFace, i), &lay);
  for (guint i = 0; i < n; i++) {
    const FemoOverlayFace *face = &g_array_index (self->faces,
        FemoOverlayFace, i);
    render_leader (self, &comp, i * N_PARTS + PART_LABEL_LEADER, face,
        &face->label_at);
    render_leader (self, &comp, i * N_PARTS + PART_SCORES_LEADER, face,
        &face->scores_at);
  }
  for (guint i = 0; i < n; i++)
    render_scores (self, &comp, i, &g_array_index (self->faces,
            FemoOverlayFace, i), &lay);
  for (guint i = 0; i < n; i++)
    render_label (self, &comp, i, &g_array_index (self->faces,
            FemoOverlayFace, i));
  /* canvases of faces that left do not outlive them */
  release_canvases (self, n * N_PARTS);
  return comp;
}

/* ---- negotiation and processing ---- */

static gboolean
caps_have_meta (GstCaps * caps)
{
  GstCapsFeatures *f = gst_caps_get_size (caps) ?
      gst_caps_get_features (caps, 0) : NULL;

  return f && !gst_caps_features_is_any (f) && gst_caps_features_contains (f,
      GST_CAPS_FEATURE_META_GST_VIDEO_OVERLAY_COMPOSITION);
}

/* Each format is offered downstream with the composition meta first: if it
 * accepts that, it draws the overlay and the frame is never written. */
static GstCaps *
gst_femo_overlay_transform_caps (GstBaseTransform * trans,
    GstPadDirection direction, GstCaps * caps, GstCaps * filter)
{
  GstCaps *result;

  if (gst_caps_is_any (caps)) {
    result = gst_caps_ref (caps);
  } else {
    result = gst_caps_new_empty ();
    for (guint i = 0; i < gst_caps_get_size (caps); i++) {
      const GstStructure *s = gst_caps_get_structure (caps, i);
      GstCapsFeatures *f = gst_caps_get_features (caps, i);
      gboolean any = gst_caps_features_is_any (f);
      gboolean has_meta = !any && gst_caps_features_contains (f,
          GST_CAPS_FEATURE_META_GST_VIDEO_OVERLAY_COMPOSITION);
      GstCapsFeatures *other = NULL;

      if (direction == GST_PAD_SINK && !any && !has_meta) {
        other = gst_caps_features_copy (f);
        gst_caps_features_add (other,
            GST_CAPS_FEATURE_META_GST_VIDEO_OVERLAY_COMPOSITION);
        result = gst_caps_merge_structure_full (result,
            gst_structure_copy (s), other);
      }
      result = gst_caps_merge_structure_full (result, gst_structure_copy (s),
          gst_caps_features_copy (f));
      if (direction == GST_PAD_SRC && has_meta) {
        /* what we may send with the meta, we can take without it */
        other = gst_caps_features_copy (f);
        gst_caps_features_remove (other,
            GST_CAPS_FEATURE_META_GST_VIDEO_OVERLAY_COMPOSITION);
        result = gst_caps_merge_structure_full (result,
            gst_structure_copy (s), other);
      }
    }
  }
  if (filter) {
    GstCaps *tmp = gst_caps_intersect_full (filter, result,
        GST_CAPS_INTERSECT_FIRST);
    gst_caps_unref (result);
    result = tmp;
  }
  GST_DEBUG_OBJECT (trans, "%s caps %" GST_PTR_FORMAT " -> %" GST_PTR_FORMAT,
      direction == GST_PAD_SINK ? "sink" : "src", caps, result);
  return result;
}

static gboolean
gst_femo_overlay_set_info (GstVideoFilter * filter, GstCaps * incaps,
    GstVideoInfo * in_info, GstCaps * outcaps, GstVideoInfo * out_info)
{
  GstFemoOverlay *self = GST_FEMO_OVERLAY (filter);

  self->in_caps_meta = caps_have_meta (incaps);
  self->out_caps_meta = caps_have_meta (outcaps);
  /* decided with the first frame that has something to draw, once the caps
   * have reached downstream */
  self->attach_decided = FALSE;
  return TRUE;
}

/* As textoverlay: attach when upstream already did, or when downstream
 * negotiated the caps feature and lists the meta in its allocation answer;
 * sinks that accept any caps feature would otherwise drop the overlay. */
static gboolean
decide_attach (GstFemoOverlay * self)
{
  GstPad *srcpad = GST_BASE_TRANSFORM_SRC_PAD (self);
  GstCaps *caps;
  GstQuery *query;
  gboolean supported = FALSE;

  if (self->in_caps_meta)
    return TRUE;
  if (!self->out_caps_meta)
    return FALSE;
  caps = gst_pad_get_current_caps (srcpad);
  if (caps == NULL)
    return FALSE;
  query = gst_query_new_allocation (caps, FALSE);
  if (gst_pad_peer_query (srcpad, query))
    supported = gst_query_find_allocation_meta (query,
        GST_VIDEO_OVERLAY_COMPOSITION_META_API_TYPE, NULL);
  gst_query_unref (query);
  gst_caps_unref (caps);
  GST_DEBUG_OBJECT (self, "downstream %s the composition meta",
      supported ? "supports" : "does not support");
  return supported;
}

/* Buffers with nothing to draw go on as they came, even when they are not
 * writable: the default would copy them (and their metas). */
static GstFlowReturn
gst_femo_overlay_prepare_output_buffer (GstBaseTransform * trans,
    GstBuffer * inbuf, GstBuffer ** outbuf)
{
  GstFemoOverlay *self = GST_FEMO_OVERLAY (trans);

  GST_OBJECT_LOCK (self);
  self->frame = self->settings;
  GST_OBJECT_UNLOCK (self);

  if (!has_regions (&self->frame, inbuf)) {
    *outbuf = inbuf;
    return GST_FLOW_OK;
  }
  return GST_BASE_TRANSFORM_CLASS (parent_class)->prepare_output_buffer (trans,
      inbuf, outbuf);
}

static void
attach_composition (GstBuffer * buf, GstVideoOverlayComposition * comp)
{
  GstVideoOverlayCompositionMeta *upstream =
      gst_buffer_get_video_overlay_composition_meta (buf);

  if (upstream) {
    /* one composition per buffer: ours goes on top of upstream's */
    GstVideoOverlayComposition *merged =
        gst_video_overlay_composition_copy (upstream->overlay);
    guint n = gst_video_overlay_composition_n_rectangles (comp);

    for (guint i = 0; i < n; i++)
      gst_video_overlay_composition_add_rectangle (merged,
          gst_video_overlay_composition_get_rectangle (comp, i));
    gst_buffer_remove_meta (buf, (GstMeta *) upstream);
    gst_buffer_add_video_overlay_composition_meta (buf, merged);
    gst_video_overlay_composition_unref (merged);
  } else {
    gst_buffer_add_video_overlay_composition_meta (buf, comp);
  }
}

static GstFlowReturn
gst_femo_overlay_transform_ip (GstBaseTransform * trans, GstBuffer * buf)
{
  GstFemoOverlay *self = GST_FEMO_OVERLAY (trans);
  GstVideoInfo *info = &GST_VIDEO_FILTER (self)->in_info;
  GstVideoOverlayComposition *comp;
  GstVideoFrame frame;
  GstFlowReturn ret = GST_FLOW_OK;

  collect_faces (self, buf, GST_VIDEO_INFO_WIDTH (info),
      GST_VIDEO_INFO_HEIGHT (info));
  if (self->faces->len == 0)
    return GST_FLOW_OK;
  comp = render (self, GST_VIDEO_INFO_WIDTH (info),
      GST_VIDEO_INFO_HEIGHT (info));
  if (comp == NULL)
    return GST_FLOW_OK;

  if (!self->attach_decided) {
    self->attach = decide_attach (self);
    self->attach_decided = TRUE;
  }
  if (self->attach) {
    attach_composition (buf, comp);
  } else if (gst_video_frame_map (&frame, info, buf, GST_MAP_READWRITE)) {
    gst_video_overlay_composition_blend (comp, &frame);
    gst_video_frame_unmap (&frame);
  } else {
    GST_ELEMENT_ERROR (self, STREAM, FAILED, (NULL),
        ("could not map the frame for writing"));
    ret = GST_FLOW_ERROR;
  }
  gst_video_overlay_composition_unref (comp);
  return ret;
}

static gboolean
gst_femo_overlay_stop (GstBaseTransform * trans)
{
  release_canvases (GST_FEMO_OVERLAY (trans), 0);
  return TRUE;
}

/* ---- properties ---- */

/* Called with the object lock held. */
static void
set_roi_types (GstFemoOverlay * self, const gchar * list)
{
  gchar **types = g_strsplit (list ? list : "", ",", -1);

  self->settings.n_roi_types = 0;
  for (guint i = 0; types[i]; i++) {
    const gchar *type = g_strstrip (types[i]);

    if (*type == '\0')
      continue;
    if (self->settings.n_roi_types == MAX_ROI_TYPES) {
      GST_WARNING_OBJECT (self, "more than %d ROI types, ignoring '%s'",
          MAX_ROI_TYPES, type);
      continue;
    }
    self->settings.roi_types[self->settings.n_roi_types++] =
        g_quark_from_string (type);
  }
  g_strfreev (types);
  g_free (self->roi_types);
  self->roi_types = g_strdup (list ? list : "");
}

static void
gst_femo_overlay_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstFemoOverlay *self = GST_FEMO_OVERLAY (object);
  FemoOverlaySettings *s = &self->settings;

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_ROI_TYPES:
      set_roi_types (self, g_value_get_string (value));
      break;
    case PROP_LINE_WIDTH:
      s->line_width = g_value_get_uint (value);
      break;
    case PROP_FONT_SCALE:
      s->font_scale = g_value_get_double (value);
      break;
    case PROP_BOX_COLOR:
      s->box_color = g_value_get_uint (value);
      break;
    case PROP_TEXT_COLOR:
      s->text_color = g_value_get_uint (value);
      break;
    case PROP_SHOW_LABEL:
      s->show_label = g_value_get_boolean (value);
      break;
    case PROP_SHOW_CONFIDENCE:
      s->show_confidence = g_value_get_boolean (value);
      break;
    case PROP_SHOW_SCORES:
      s->show_scores = g_value_get_boolean (value);
      break;
    case PROP_SHOW_TRACK_ID:
      s->show_track_id = g_value_get_boolean (value);
      break;
    case PROP_SHOW_LANDMARKS:
      s->show_landmarks = g_value_get_boolean (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_femo_overlay_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstFemoOverlay *self = GST_FEMO_OVERLAY (object);
  const FemoOverlaySettings *s = &self->settings;

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_ROI_TYPES:
      g_value_set_string (value, self->roi_types);
      break;
    case PROP_LINE_WIDTH:
      g_value_set_uint (value, s->line_width);
      break;
    case PROP_FONT_SCALE:
      g_value_set_double (value, s->font_scale);
      break;
    case PROP_BOX_COLOR:
      g_value_set_uint (value, s->box_color);
      break;
    case PROP_TEXT_COLOR:
      g_value_set_uint (value, s->text_color);
      break;
    case PROP_SHOW_LABEL:
      g_value_set_boolean (value, s->show_label);
      break;
    case PROP_SHOW_CONFIDENCE:
      g_value_set_boolean (value, s->show_confidence);
      break;
    case PROP_SHOW_SCORES:
      g_value_set_boolean (value, s->show_scores);
      break;
    case PROP_SHOW_TRACK_ID:
      g_value_set_boolean (value, s->show_track_id);
      break;
    case PROP_SHOW_LANDMARKS:
      g_value_set_boolean (value, s->show_landmarks);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_femo_overlay_finalize (GObject * object)
{
  GstFemoOverlay *self = GST_FEMO_OVERLAY (object);

  release_canvases (self, 0);
  g_array_free (self->canvases, TRUE);
  g_array_free (self->faces, TRUE);
  g_array_unref (self->placed);
  g_array_unref (self->order);
  g_string_free (self->text, TRUE);
  g_string_free (self->signature, TRUE);
  g_free (self->roi_types);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_femo_overlay_class_init (GstFemoOverlayClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);
  GstVideoFilterClass *filter_class = GST_VIDEO_FILTER_CLASS (klass);
  const GParamFlags flags = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_PLAYING;

  GST_DEBUG_CATEGORY_INIT (gst_femo_overlay_debug, "femooverlay", 0,
      "femo face and emotion overlay");
  face_quark = g_quark_from_static_string (FEMO_META_ROI_TYPE_FACE);

  gobject_class->set_property = gst_femo_overlay_set_property;
  gobject_class->get_property = gst_femo_overlay_get_property;
  gobject_class->finalize = gst_femo_overlay_finalize;

  /**
   * GstFemoOverlay:roi-types:
   *
   * Comma-separated roi_type values of the ROI metas to draw, and object
   * types of the GstAnalyticsRelationMeta detections (GStreamer 1.24+);
   * empty draws every region. Regions other than faces are labelled with
   * their type.
   */
  g_object_class_install_property (gobject_class, PROP_ROI_TYPES,
      g_param_spec_string ("roi-types", "ROI types",
          "Comma-separated types of the regions of interest to draw "
          "(empty: all)", DEFAULT_ROI_TYPES, flags));
  /**
   * GstFemoOverlay:line-width:
   *
   * Width of the box outlines in pixels; 0 derives it from the frame size
   * (1 pixel at 240p, 5 at 1080p).
   */
  g_object_class_install_property (gobject_class, PROP_LINE_WIDTH,
      g_param_spec_uint ("line-width", "Line width",
          "Width of the box outlines in pixels (0: from the frame size)",
          0, MAX_LINE_WIDTH, DEFAULT_LINE_WIDTH, flags));
  /**
   * GstFemoOverlay:font-scale:
   *
   * Multiplies the size of the text, which otherwise follows the frame
   * height (5x9 pixel glyphs up to 449 lines, twice that up to 749, ...).
   * The result is rounded to a whole multiple of the glyph size.
   */
  g_object_class_install_property (gobject_class, PROP_FONT_SCALE,
      g_param_spec_double ("font-scale", "Font scale",
          "Multiplies the text size derived from the frame height",
          MIN_FONT_SCALE, MAX_FONT_SCALE, DEFAULT_FONT_SCALE, flags));
  /**
   * GstFemoOverlay:box-color:
   *
   * Colour of faces that carry no emotion, as 0xAARRGGBB; 0 selects cyan.
   * Faces with an emotion take the colour of their label.
   */
  g_object_class_install_property (gobject_class, PROP_BOX_COLOR,
      g_param_spec_uint ("box-color", "Box colour",
          "Colour (0xAARRGGBB) of faces without an emotion (0: cyan)",
          0, G_MAXUINT32, DEFAULT_BOX_COLOR, flags));
  /**
   * GstFemoOverlay:text-color:
   *
   * Colour of the text, as 0xAARRGGBB; 0 picks black or white, whichever
   * reads better on the label's background.
   */
  g_object_class_install_property (gobject_class, PROP_TEXT_COLOR,
      g_param_spec_uint ("text-color", "Text colour",
          "Colour (0xAARRGGBB) of the text (0: black or white, for contrast)",
          0, G_MAXUINT32, DEFAULT_TEXT_COLOR, flags));
  /**
   * GstFemoOverlay:show-label:
   *
   * Writes the emotion of each face above its box.
   */
  g_object_class_install_property (gobject_class, PROP_SHOW_LABEL,
      g_param_spec_boolean ("show-label", "Show label",
          "Write the emotion above each face", DEFAULT_SHOW_LABEL, flags));
  /**
   * GstFemoOverlay:show-confidence:
   *
   * Follows the label with its probability in percent.
   */
  g_object_class_install_property (gobject_class, PROP_SHOW_CONFIDENCE,
      g_param_spec_boolean ("show-confidence", "Show confidence",
          "Follow the emotion with its probability in percent",
          DEFAULT_SHOW_CONFIDENCE, flags));
  /**
   * GstFemoOverlay:show-scores:
   *
   * Draws beside each face a bar per class of the model with its
   * probability.
   */
  g_object_class_install_property (gobject_class, PROP_SHOW_SCORES,
      g_param_spec_boolean ("show-scores", "Show scores",
          "Draw a bar with the probability of every class beside each face",
          DEFAULT_SHOW_SCORES, flags));
  /**
   * GstFemoOverlay:show-track-id:
   *
   * Starts the label with the face's track id (`#3`) when it has one.
   */
  g_object_class_install_property (gobject_class, PROP_SHOW_TRACK_ID,
      g_param_spec_boolean ("show-track-id", "Show track id",
          "Start the label with the track id of the face, when it has one",
          DEFAULT_SHOW_TRACK_ID, flags));
  /**
   * GstFemoOverlay:show-landmarks:
   *
   * Draws a dot in the box's colour on each landmark of a face (the
   * "landmarks" param of its ROI meta, from femodetect detector=yunet): the
   * eyes, the nose tip and the mouth corners. Its size follows the box.
   */
  g_object_class_install_property (gobject_class, PROP_SHOW_LANDMARKS,
      g_param_spec_boolean ("show-landmarks", "Show landmarks",
          "Draw a dot on each landmark of a face (eyes, nose tip, mouth "
          "corners) when its ROI meta has a \"" FEMO_META_LANDMARKS_PARAMS_NAME
          "\" param", DEFAULT_SHOW_LANDMARKS, flags));

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "Face emotion overlay", "Filter/Effect/Video",
      "Draws face boxes, emotions and their probabilities from region of "
      "interest metadata", "gst-femo developers");

  trans_class->transform_caps =
      GST_DEBUG_FUNCPTR (gst_femo_overlay_transform_caps);
  trans_class->prepare_output_buffer =
      GST_DEBUG_FUNCPTR (gst_femo_overlay_prepare_output_buffer);
  /* not GstVideoFilter's transform_frame_ip: it maps every frame writable,
   * which copies shared buffers even when there is nothing to draw */
  trans_class->transform_ip = GST_DEBUG_FUNCPTR (gst_femo_overlay_transform_ip);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_femo_overlay_stop);
  filter_class->set_info = GST_DEBUG_FUNCPTR (gst_femo_overlay_set_info);
}

static void
gst_femo_overlay_init (GstFemoOverlay * self)
{
  FemoOverlaySettings *s = &self->settings;

  s->line_width = DEFAULT_LINE_WIDTH;
  s->font_scale = DEFAULT_FONT_SCALE;
  s->box_color = DEFAULT_BOX_COLOR;
  s->text_color = DEFAULT_TEXT_COLOR;
  s->show_label = DEFAULT_SHOW_LABEL;
  s->show_confidence = DEFAULT_SHOW_CONFIDENCE;
  s->show_scores = DEFAULT_SHOW_SCORES;
  s->show_track_id = DEFAULT_SHOW_TRACK_ID;
  s->show_landmarks = DEFAULT_SHOW_LANDMARKS;
  set_roi_types (self, DEFAULT_ROI_TYPES);

  self->faces = g_array_new (FALSE, TRUE, sizeof (FemoOverlayFace));
  self->canvases = g_array_new (FALSE, TRUE, sizeof (FemoOverlayCanvas));
  self->placed = g_array_new (FALSE, FALSE, sizeof (FemoOverlayPlaced));
  self->order = g_array_new (FALSE, FALSE, sizeof (guint));
  self->text = g_string_new (NULL);
  self->signature = g_string_new (NULL);
}
