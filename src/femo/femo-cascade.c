/* gst-femo: OpenCV cascade classifiers (Haar and LBP), loaded from OpenCV's
 * XML files.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * GMarkup builds a small element tree of the file; every count, index,
 * rectangle and number is checked before it is used, so that a broken file
 * gives a GError and never a crash.  The detector that evaluates a loaded
 * cascade is in femo-cascade-detect.c.
 */
#include "femo-cascade-private.h"
#include "femo-error.h"

#include <math.h>
#include <string.h>

#define MAX_XML_DEPTH 16
#define MAX_XML_ELEMENTS (4 * 1024 * 1024)
#define MAX_WINDOW 1024
#define MAX_STAGES 10000
#define MAX_COUNT (4 * 1024 * 1024)
#define THRESHOLD_EPS 1e-5f

/* ------------------------------------------------------------------------ */
/* XML element tree                                                          */

typedef struct _XmlNode XmlNode;
struct _XmlNode
{
  gchar *name;
  gchar *type_id;
  GString *text;
  GPtrArray *children;          /* XmlNode*, NULL when none */
  gint line;
};

typedef struct
{
  XmlNode *root;
  GPtrArray *stack;
  guint n_elements;
  GMarkupParseContext *context;
} XmlBuilder;

static void
xml_node_free (XmlNode * node)
{
  if (node == NULL)
    return;
  g_free (node->name);
  g_free (node->type_id);
  if (node->text)
    g_string_free (node->text, TRUE);
  if (node->children)
    g_ptr_array_free (node->children, TRUE);
  g_free (node);
}

static void
xml_start (GMarkupParseContext * context, const gchar * name,
    const gchar ** attr_names, const gchar ** attr_values, gpointer user_data,
    GError ** error)
{
  XmlBuilder *b = user_data;
  XmlNode *node;
  gint line = 0;
  guint i;

  if (b->stack->len >= MAX_XML_DEPTH) {
    g_set_error (error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT,
        "elements nested deeper than %d", MAX_XML_DEPTH);
    return;
  }
  if (++b->n_elements > MAX_XML_ELEMENTS) {
    g_set_error (error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT,
        "more than %d elements", MAX_XML_ELEMENTS);
    return;
  }
  g_markup_parse_context_get_position (context, &line, NULL);
  node = g_new0 (XmlNode, 1);
  node->name = g_strdup (name);
  node->line = line;
  for (i = 0; attr_names[i] != NULL; i++) {
    if (strcmp (attr_names[i], "type_id") == 0 && node->type_id == NULL)
      node->type_id = g_strdup (attr_values[i]);
  }
  if (b->stack->len == 0) {
    if (b->root != NULL) {
      xml_node_free (node);
      g_set_error (error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT,
          "more than one root element");
      return;
    }
    b->root = node;
  } else {
    XmlNode *parent = g_ptr_array_index (b->stack, b->stack->len - 1);
    if (parent->children == NULL)
      parent->children =
          g_ptr_array_new_with_free_func ((GDestroyNotify) xml_node_free);
    g_ptr_array_add (parent->children, node);
  }
  g_ptr_array_add (b->stack, node);
}

static void
xml_end (GMarkupParseContext * context, const gchar * name,
    gpointer user_data, GError ** error)
{
  XmlBuilder *b = user_data;

  if (b->stack->len > 0)
    g_ptr_array_set_size (b->stack, b->stack->len - 1);
}

static void
xml_text (GMarkupParseContext * context, const gchar * text, gsize len,
    gpointer user_data, GError ** error)
{
  XmlBuilder *b = user_data;
  XmlNode *node;

  if (b->stack->len == 0)
    return;
  node = g_ptr_array_index (b->stack, b->stack->len - 1);
  if (node->text == NULL)
    node->text = g_string_sized_new (len);
  g_string_append_len (node->text, text, len);
}

static const GMarkupParser xml_parser = {
  xml_start, xml_end, xml_text, NULL, NULL
};

static XmlNode *
xml_child (const XmlNode * node, const gchar * name)
{
  guint i;

  if (node == NULL || node->children == NULL)
    return NULL;
  for (i = 0; i < node->children->len; i++) {
    XmlNode *c = g_ptr_array_index (node->children, i);
    if (strcmp (c->name, name) == 0)
      return c;
  }
  return NULL;
}

static guint
xml_n_children (const XmlNode * node)
{
  return node && node->children ? node->children->len : 0;
}

static XmlNode *
xml_nth (const XmlNode * node, guint i)
{
  return g_ptr_array_index (node->children, i);
}

/* ------------------------------------------------------------------------ */
/* strict number parsing                                                     */

typedef struct
{
  const gchar *file;
  const gchar *p;
  const gchar *end;
  const XmlNode *node;
} NumReader;

static void
num_reader_init (NumReader * r, const gchar * file, const XmlNode * node)
{
  r->file = file;
  r->node = node;
  r->p = node && node->text ? node->text->str : "";
  r->end = node && node->text ? node->text->str + node->text->len : r->p;
}

/* Next white-space separated token into @buf; FALSE at the end. */
static gboolean
num_next_token (NumReader * r, gchar * buf, gsize size, GError ** error)
{
  const gchar *start;
  gsize len;

  while (r->p < r->end && g_ascii_isspace (*r->p))
    r->p++;
  if (r->p >= r->end)
    return FALSE;
  start = r->p;
  while (r->p < r->end && !g_ascii_isspace (*r->p))
    r->p++;
  len = r->p - start;
  if (len >= size) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
        "%s: line %d: <%s>: number too long", r->file, r->node->line,
        r->node->name);
    return FALSE;
  }
  memcpy (buf, start, len);
  buf[len] = '\0';
  return TRUE;
}

static gboolean
num_read_int (NumReader * r, gint * out, GError ** error)
{
  gchar buf[64];
  gchar *endp = NULL;
  gint64 v;
  const gchar *s;

  if (!num_next_token (r, buf, sizeof buf, error)) {
    if (error && *error == NULL)
      g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
          "%s: line %d: <%s>: too few numbers", r->file, r->node->line,
          r->node->name);
    return FALSE;
  }
  s = buf[0] == '-' || buf[0] == '+' ? buf + 1 : buf;
  if (*s == '\0' || strspn (s, "0123456789") != strlen (s) || strlen (s) > 11)
    goto bad;
  v = g_ascii_strtoll (buf, &endp, 10);
  if (endp == NULL || *endp != '\0' || v < G_MININT32 || v > G_MAXINT32)
    goto bad;
  *out = (gint) v;
  return TRUE;

bad:
  g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
      "%s: line %d: <%s>: '%s' is not an integer", r->file, r->node->line,
      r->node->name, buf);
  return FALSE;
}

/* OpenCV reads reals as double and narrows them to float where it stores
 * them; so do we. */
static gboolean
num_read_real (NumReader * r, gdouble * out, GError ** error)
{
  gchar buf[64];
  gchar *endp = NULL;
  gdouble v;

  if (!num_next_token (r, buf, sizeof buf, error)) {
    if (error && *error == NULL)
      g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
          "%s: line %d: <%s>: too few numbers", r->file, r->node->line,
          r->node->name);
    return FALSE;
  }
  /* no inf, nan or hex floats */
  if (strspn (buf, "0123456789+-.eE") != strlen (buf))
    goto bad;
  v = g_ascii_strtod (buf, &endp);
  if (endp == NULL || *endp != '\0' || endp == buf || !isfinite (v)
      || fabs (v) > 1e30)
    goto bad;
  *out = v;
  return TRUE;

bad:
  g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
      "%s: line %d: <%s>: '%s' is not a number", r->file, r->node->line,
      r->node->name, buf);
  return FALSE;
}

static gboolean
num_expect_end (NumReader * r, GError ** error)
{
  gchar buf[64];

  if (num_next_token (r, buf, sizeof buf, error)) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
        "%s: line %d: <%s>: unexpected extra value '%s'", r->file,
        r->node->line, r->node->name, buf);
    return FALSE;
  }
  return error == NULL || *error == NULL;
}

/* Counts the tokens of an element's text. */
static guint
num_count (const XmlNode * node)
{
  const gchar *p, *end;
  guint n = 0;

  if (node == NULL || node->text == NULL)
    return 0;
  p = node->text->str;
  end = p + node->text->len;
  while (p < end) {
    while (p < end && g_ascii_isspace (*p))
      p++;
    if (p >= end)
      break;
    n++;
    while (p < end && !g_ascii_isspace (*p))
      p++;
  }
  return n;
}

static gboolean
read_int_element (const gchar * file, const XmlNode * parent,
    const gchar * name, gint lo, gint hi, gint * out, GError ** error)
{
  XmlNode *node = xml_child (parent, name);
  NumReader r;

  if (node == NULL) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
        "%s: line %d: <%s> has no <%s>", file, parent->line, parent->name,
        name);
    return FALSE;
  }
  num_reader_init (&r, file, node);
  if (!num_read_int (&r, out, error) || !num_expect_end (&r, error))
    return FALSE;
  if (*out < lo || *out > hi) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
        "%s: line %d: <%s> is %d, not in [%d, %d]", file, node->line, name,
        *out, lo, hi);
    return FALSE;
  }
  return TRUE;
}

static gchar *
element_text (const XmlNode * node)
{
  if (node == NULL || node->text == NULL)
    return g_strdup ("");
  return g_strstrip (g_strdup (node->text->str));
}

/* ------------------------------------------------------------------------ */
/* loading                                                                   */

static gboolean
load_haar_features (FemoCascade * c, const gchar * file,
    const XmlNode * features, GError ** error)
{
  guint i, j;

  c->haar = g_new0 (HaarFeature, c->n_features);
  for (i = 0; i < (guint) c->n_features; i++) {
    XmlNode *f = xml_nth (features, i);
    XmlNode *rects = xml_child (f, "rects");
    XmlNode *tilted = xml_child (f, "tilted");
    HaarFeature *hf = &c->haar[i];
    guint n_rects = xml_n_children (rects);

    if (n_rects < 1 || n_rects > 3) {
      g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
          "%s: line %d: feature %u has %u rectangles (1 to 3 allowed)",
          file, f->line, i, n_rects);
      return FALSE;
    }
    if (tilted) {
      gint t;
      NumReader r;
      num_reader_init (&r, file, tilted);
      if (!num_read_int (&r, &t, error) || !num_expect_end (&r, error))
        return FALSE;
      hf->tilted = t != 0;
      c->has_tilted |= hf->tilted;
    }
    for (j = 0; j < n_rects; j++) {
      XmlNode *rn = xml_nth (rects, j);
      HaarRect *hr = &hf->rects[j];
      gdouble w;
      NumReader r;
      gboolean inside;

      num_reader_init (&r, file, rn);
      if (!num_read_int (&r, &hr->x, error) || !num_read_int (&r, &hr->y,
              error) || !num_read_int (&r, &hr->width, error)
          || !num_read_int (&r, &hr->height, error)
          || !num_read_real (&r, &w, error) || !num_expect_end (&r, error))
        return FALSE;
      hr->weight = (gfloat) w;
      /* every corner the feature reads must lie inside the window (sums
       * in 64 bits: the four numbers are any ints) */
      if (hf->tilted)
        inside = hr->x >= 0 && hr->y >= 0 && hr->width >= 0
            && hr->height >= 0 && hr->x - hr->height >= 0
            && (gint64) hr->x + hr->width <= c->win_width
            && (gint64) hr->y + hr->width + hr->height <= c->win_height;
      else
        inside = hr->x >= 0 && hr->y >= 0 && hr->width >= 0
            && hr->height >= 0 && (gint64) hr->x + hr->width <= c->win_width
            && (gint64) hr->y + hr->height <= c->win_height;
      if (!inside) {
        g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
            "%s: line %d: %srectangle %d %d %d %d of feature %u is outside "
            "the %dx%d window", file, rn->line, hf->tilted ? "tilted " : "",
            hr->x, hr->y, hr->width, hr->height, i, c->win_width,
            c->win_height);
        return FALSE;
      }
    }
  }
  return TRUE;
}

static gboolean
load_lbp_features (FemoCascade * c, const gchar * file,
    const XmlNode * features, GError ** error)
{
  guint i;

  c->lbp = g_new0 (LbpFeature, c->n_features);
  for (i = 0; i < (guint) c->n_features; i++) {
    XmlNode *f = xml_nth (features, i);
    XmlNode *rect = xml_child (f, "rect");
    LbpFeature *lf = &c->lbp[i];
    NumReader r;

    if (rect == NULL) {
      g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
          "%s: line %d: LBP feature %u has no <rect>", file, f->line, i);
      return FALSE;
    }
    num_reader_init (&r, file, rect);
    if (!num_read_int (&r, &lf->x, error) || !num_read_int (&r, &lf->y, error)
        || !num_read_int (&r, &lf->width, error)
        || !num_read_int (&r, &lf->height, error)
        || !num_expect_end (&r, error))
      return FALSE;
    /* the 3x3 grid of blocks must lie inside the window */
    if (lf->x < 0 || lf->y < 0 || lf->width <= 0 || lf->height <= 0
        || lf->width > c->win_width || lf->height > c->win_height
        || (gint64) lf->x + 3 * lf->width > c->win_width
        || (gint64) lf->y + 3 * lf->height > c->win_height) {
      g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
          "%s: line %d: LBP feature %u (%d %d %d %d) is outside the %dx%d "
          "window", file, rect->line, i, lf->x, lf->y, lf->width,
          lf->height, c->win_width, c->win_height);
      return FALSE;
    }
  }
  return TRUE;
}

/* Counts trees, nodes and leaves first so that everything is allocated
 * once, after the counts are known to be sane. */
static gboolean
load_stages (FemoCascade * c, const gchar * file, const XmlNode * stages,
    gint max_cat, GError ** error)
{
  gint node_step = 3 + (max_cat > 0 ? c->subset_size : 1);
  guint si, wi;
  gint64 n_trees = 0, n_nodes = 0, n_leaves = 0;
  gint t = 0, n = 0, l = 0;

  for (si = 0; si < xml_n_children (stages); si++) {
    XmlNode *st = xml_nth (stages, si);
    XmlNode *weak = xml_child (st, "weakClassifiers");
    guint nw = xml_n_children (weak);

    if (nw == 0) {
      g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
          "%s: line %d: stage %u has no weak classifiers", file, st->line, si);
      return FALSE;
    }
    for (wi = 0; wi < nw; wi++) {
      XmlNode *w = xml_nth (weak, wi);
      XmlNode *in = xml_child (w, "internalNodes");
      XmlNode *lv = xml_child (w, "leafValues");
      guint ni = num_count (in), nl = num_count (lv);

      if (ni == 0 || nl == 0 || ni % node_step != 0 || nl != ni / node_step + 1) {
        g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
            "%s: line %d: weak classifier %u of stage %u has %u internal "
            "node values and %u leaves (want a multiple of %d and one leaf "
            "more than nodes)", file, w->line, wi, si, ni, nl, node_step);
        return FALSE;
      }
      n_trees++;
      n_nodes += ni / node_step;
      n_leaves += nl;
      if (n_nodes > MAX_COUNT || n_trees > MAX_COUNT) {
        g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
            "%s: more than %d weak classifiers or nodes", file, MAX_COUNT);
        return FALSE;
      }
    }
  }

  c->n_stages = xml_n_children (stages);
  c->n_trees = n_trees;
  c->n_nodes = n_nodes;
  c->n_leaves = n_leaves;
  c->stages = g_new0 (CascadeStage, c->n_stages);
  c->trees = g_new0 (CascadeTree, c->n_trees);
  c->nodes = g_new0 (CascadeNode, c->n_nodes);
  c->leaves = g_new0 (gfloat, c->n_leaves);
  if (max_cat > 0)
    c->subsets = g_new0 (gint32, (gsize) c->n_nodes * c->subset_size);
  c->stumps = TRUE;

  for (si = 0; si < (guint) c->n_stages; si++) {
    XmlNode *st = xml_nth (stages, si);
    XmlNode *weak = xml_child (st, "weakClassifiers");
    XmlNode *thr = xml_child (st, "stageThreshold");
    CascadeStage *stage = &c->stages[si];
    NumReader r;
    gdouble v;

    if (thr == NULL) {
      g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
          "%s: line %d: stage %u has no <stageThreshold>", file, st->line, si);
      return FALSE;
    }
    num_reader_init (&r, file, thr);
    if (!num_read_real (&r, &v, error) || !num_expect_end (&r, error))
      return FALSE;
    stage->threshold = (gfloat) v - THRESHOLD_EPS;
    stage->first_tree = t;
    stage->n_trees = xml_n_children (weak);

    for (wi = 0; wi < (guint) stage->n_trees; wi++) {
      XmlNode *w = xml_nth (weak, wi);
      XmlNode *in = xml_child (w, "internalNodes");
      XmlNode *lv = xml_child (w, "leafValues");
      CascadeTree *tree = &c->trees[t++];
      gint k, j;

      tree->first_node = n;
      tree->n_nodes = num_count (in) / node_step;
      tree->first_leaf = l;
      if (tree->n_nodes != 1)
        c->stumps = FALSE;

      num_reader_init (&r, file, in);
      for (k = 0; k < tree->n_nodes; k++) {
        CascadeNode *node = &c->nodes[n];
        if (!num_read_int (&r, &node->left, error)
            || !num_read_int (&r, &node->right, error)
            || !num_read_int (&r, &node->feature, error))
          return FALSE;
        if (max_cat > 0) {
          for (j = 0; j < c->subset_size; j++) {
            gint word;
            if (!num_read_int (&r, &word, error))
              return FALSE;
            c->subsets[(gsize) n * c->subset_size + j] = word;
          }
        } else {
          if (!num_read_real (&r, &v, error))
            return FALSE;
          node->threshold = (gfloat) v;
        }
        if (node->feature < 0 || node->feature >= c->n_features) {
          g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
              "%s: line %d: feature index %d out of range (%d features)",
              file, in->line, node->feature, c->n_features);
          return FALSE;
        }
        /* children must come after their parent so that evaluation ends;
         * leaves are -index */
        if ((node->left > 0 && (node->left <= k || node->left >= tree->n_nodes))
            || (node->left <= 0 && -node->left > tree->n_nodes)
            || (node->right > 0 && (node->right <= k
                    || node->right >= tree->n_nodes))
            || (node->right <= 0 && -node->right > tree->n_nodes)) {
          g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
              "%s: line %d: tree node links %d %d out of range", file,
              in->line, node->left, node->right);
          return FALSE;
        }
        n++;
      }
      if (!num_expect_end (&r, error))
        return FALSE;

      num_reader_init (&r, file, lv);
      for (k = 0; k <= tree->n_nodes; k++) {
        if (!num_read_real (&r, &v, error))
          return FALSE;
        c->leaves[l++] = (gfloat) v;
      }
      if (!num_expect_end (&r, error))
        return FALSE;
    }
  }
  return TRUE;
}

static gboolean
load_cascade (FemoCascade * c, const gchar * file, const XmlNode * root,
    GError ** error)
{
  XmlNode *top, *fp, *stages, *features;
  gchar *s;
  gint max_cat = 0;

  if (root == NULL || strcmp (root->name, "opencv_storage") != 0
      || xml_n_children (root) == 0) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
        "%s: not an OpenCV storage file (no <opencv_storage> with a cascade)",
        file);
    return FALSE;
  }
  top = xml_nth (root, 0);
  if (top->type_id && strcmp (top->type_id, "opencv-haar-classifier") == 0) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_UNSUPPORTED,
        "%s: old-format cascade (opencv-haar-classifier) is not supported; "
        "convert it with OpenCV's traincascade or use a current cascade", file);
    return FALSE;
  }
  if (top->type_id && strcmp (top->type_id, "opencv-cascade-classifier")) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
        "%s: line %d: <%s> has type_id '%s', not a cascade classifier",
        file, top->line, top->name, top->type_id);
    return FALSE;
  }

  s = element_text (xml_child (top, "stageType"));
  if (strcmp (s, "BOOST") != 0) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_UNSUPPORTED,
        "%s: stageType '%s' is not supported (only BOOST)", file, s);
    g_free (s);
    return FALSE;
  }
  g_free (s);

  s = element_text (xml_child (top, "featureType"));
  if (strcmp (s, "HAAR") == 0)
    c->kind = FEMO_CASCADE_HAAR;
  else if (strcmp (s, "LBP") == 0)
    c->kind = FEMO_CASCADE_LBP;
  else {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_UNSUPPORTED,
        "%s: featureType '%s' is not supported (only HAAR and LBP)", file, s);
    g_free (s);
    return FALSE;
  }
  g_free (s);

  /* 3 at least: the variance uses the window less a 1-pixel border */
  if (!read_int_element (file, top, "width", 3, MAX_WINDOW, &c->win_width,
          error)
      || !read_int_element (file, top, "height", 3, MAX_WINDOW,
          &c->win_height, error))
    return FALSE;

  fp = xml_child (top, "featureParams");
  if (fp == NULL) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
        "%s: no <featureParams>", file);
    return FALSE;
  }
  if (!read_int_element (file, fp, "maxCatCount", 0, 1 << 16, &max_cat, error))
    return FALSE;
  if (c->kind == FEMO_CASCADE_HAAR && max_cat != 0) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_UNSUPPORTED,
        "%s: HAAR cascade with maxCatCount %d (categorical) is not supported",
        file, max_cat);
    return FALSE;
  }
  if (c->kind == FEMO_CASCADE_LBP && max_cat != 256) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
        "%s: LBP cascade needs maxCatCount 256, not %d", file, max_cat);
    return FALSE;
  }
  c->subset_size = (max_cat + 31) / 32;

  stages = xml_child (top, "stages");
  if (xml_n_children (stages) == 0) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
        "%s: the cascade has no stages", file);
    return FALSE;
  }
  if (xml_n_children (stages) > MAX_STAGES) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
        "%s: %u stages (at most %d)", file, xml_n_children (stages),
        MAX_STAGES);
    return FALSE;
  }
  features = xml_child (top, "features");
  c->n_features = xml_n_children (features);
  if (c->n_features == 0) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
        "%s: the cascade has no features", file);
    return FALSE;
  }
  if (c->kind == FEMO_CASCADE_HAAR) {
    if (!load_haar_features (c, file, features, error))
      return FALSE;
  } else if (!load_lbp_features (c, file, features, error))
    return FALSE;

  return load_stages (c, file, stages, max_cat, error);
}

FemoCascade *
femo_cascade_new_from_data (const gchar * xml, gsize length,
    const gchar * name, GError ** error)
{
  XmlBuilder b = { 0 };
  GError *perr = NULL;
  FemoCascade *c;
  gboolean ok;

  g_return_val_if_fail (xml != NULL || length == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  if (name == NULL)
    name = "(cascade data)";

  b.stack = g_ptr_array_new ();
  b.context = g_markup_parse_context_new (&xml_parser, 0, &b, NULL);
  ok = g_markup_parse_context_parse (b.context, xml ? xml : "",
      (gssize) length, &perr)
      && g_markup_parse_context_end_parse (b.context, &perr);
  g_markup_parse_context_free (b.context);
  g_ptr_array_free (b.stack, TRUE);
  if (!ok) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_PARSE, "%s: %s", name,
        perr->message);
    g_error_free (perr);
    xml_node_free (b.root);
    return NULL;
  }

  c = g_new0 (FemoCascade, 1);
  c->ref_count = 1;
  ok = load_cascade (c, name, b.root, error);
  xml_node_free (b.root);
  if (!ok) {
    femo_cascade_unref (c);
    return NULL;
  }
  return c;
}

FemoCascade *
femo_cascade_new_from_file (const gchar * path, GError ** error)
{
  gchar *data = NULL;
  gsize length = 0;
  GError *ferr = NULL;
  FemoCascade *c;

  g_return_val_if_fail (path != NULL, NULL);
  if (!g_file_get_contents (path, &data, &length, &ferr)) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_IO, "%s: %s", path,
        ferr->message);
    g_error_free (ferr);
    return NULL;
  }
  c = femo_cascade_new_from_data (data, length, path, error);
  g_free (data);
  return c;
}

FemoCascade *
femo_cascade_ref (FemoCascade * cascade)
{
  g_return_val_if_fail (cascade != NULL, NULL);
  g_atomic_int_inc (&cascade->ref_count);
  return cascade;
}

void
femo_cascade_unref (FemoCascade * cascade)
{
  if (cascade == NULL || !g_atomic_int_dec_and_test (&cascade->ref_count))
    return;
  g_free (cascade->stages);
  g_free (cascade->trees);
  g_free (cascade->nodes);
  g_free (cascade->leaves);
  g_free (cascade->subsets);
  g_free (cascade->haar);
  g_free (cascade->lbp);
  g_free (cascade);
}

FemoCascadeKind
femo_cascade_get_kind (const FemoCascade * cascade)
{
  g_return_val_if_fail (cascade != NULL, FEMO_CASCADE_HAAR);
  return cascade->kind;
}

void
femo_cascade_get_window_size (const FemoCascade * cascade, gint * width,
    gint * height)
{
  g_return_if_fail (cascade != NULL);
  if (width)
    *width = cascade->win_width;
  if (height)
    *height = cascade->win_height;
}

guint
femo_cascade_get_n_stages (const FemoCascade * cascade)
{
  g_return_val_if_fail (cascade != NULL, 0);
  return cascade->n_stages;
}

guint
femo_cascade_get_n_features (const FemoCascade * cascade)
{
  g_return_val_if_fail (cascade != NULL, 0);
  return cascade->n_features;
}
