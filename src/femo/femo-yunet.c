/* gst-femo: YuNet, libfacedetection's CNN face detector, on our kernels
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What is computed is upstream's network exactly (docs/yunet.md); how:
 *
 * Every map is planar: per channel one plane of rows x cols floats (and
 * FEMO_KERNEL_SLACK), so a 1x1 convolution over a row is one conv_forward
 * over flat planes. A DP unit (1x1, then depthwise 3x3, then maybe ReLU)
 * streams its map a row at a time: the 1x1 outputs of three consecutive
 * rows live in a small ring per worker, zero-padded left and right, the
 * depthwise row reads them and writes the unit's output row, and the 2x2
 * max pool or the upsampled add into the finer level that follows a unit
 * is done on the same rows. So the 1x1 outputs never exist as whole maps
 * and the rows a unit touches stay in cache. The stem (3x3 stride-2
 * convolution, 3 -> 16) is computed the same way, a row at a time, into
 * the first unit's input: one conv_forward with 9 taps over the image
 * converted to float planes whose rows hold the odd columns (shifted by
 * one, after a zero) and then the even ones, so that the three taps of a
 * stride-2 row are plain offsets.
 *
 * Threads take bands of rows. A band also computes the 1x1 rows just
 * above and below it, and every output is the same sequence of operations
 * wherever the band boundaries fall: the results are identical for any
 * number of threads.
 */
#include "femo-yunet.h"
#include "femo-error.h"
#include "femo-kernels.h"
#include "femo-safetensors.h"
#include "femo-workers.h"

#include <math.h>
#include <string.h>

/* The four heads of a level run as one DP unit of 16 channels. */
#define HEAD_CLS 0
#define HEAD_BOX 1
#define HEAD_OBJ 5
#define HEAD_KPS 6
#define HEAD_CH 16
#define STEM_CH 16
#define N_LEVELS 5              /* maps at strides 2, 4, 8, 16, 32 */
#define FIRST_HEAD_LEVEL 2      /* stride 8 */
/* Floats before and after each ring row: [-1] and [cols] are the
 * depthwise convolution's zero padding; whole AVX-512 vectors keep rows
 * aligned alike. */
#define RING_PAD 16
/* Bands of at least this many rows (each recomputes two 1x1 rows), at most
 * this many per thread (smaller bands even out a busy core). */
#define MIN_BAND_ROWS 8
#define BANDS_PER_THREAD 2
#define SIGMOID_CLAMP 88.3762626647949f

typedef enum
{
  U_MODEL0, U_M1A, U_M1B, U_M2A, U_M2B, U_M3A, U_M3B, U_M4A, U_M4B,
  U_M5A, U_M5B, U_NECK8, U_NECK16, U_NECK32, U_HEAD8, U_HEAD16, U_HEAD32,
  N_UNITS
} UnitId;

/* A DP unit's weights, offsets into net->w: 1x1 [cout][cin] + bias, then
 * depthwise [cout][9] + bias. */
typedef struct
{
  guint cin, cout;
  gboolean relu;
  gsize pw_w, pw_b, dw_w, dw_b;
} Unit;

/* The activation buffers in the slab (planes at one level each), and
 * femo_yunet_run_stage()'s copy of what the normal run does not keep. */
typedef enum
{
  B_NONE = -1,
  B_S4A, B_S4B, B_S8A, B_S8B, B_S16A, B_S16B, B_S32A, B_S32B,
  B_HEAD8, B_HEAD16, B_HEAD32, N_BUFS,
  B_TAP = N_BUFS
} BufId;

/* One DP unit over a whole map: @in (NULL: the stem's output) -> @out
 * and/or 2x2-pooled into @pool (level + 1) and/or, upsampled, added into
 * @up_add (level - 1). */
typedef struct
{
  UnitId unit;
  guint level;
  BufId in, out, pool, up_add;
} StepDef;

static const StepDef steps[] = {
  {U_MODEL0, 0, B_NONE, B_NONE, B_S4A, B_NONE},
  {U_M1A, 1, B_S4A, B_S4B, B_NONE, B_NONE},
  {U_M1B, 1, B_S4B, B_S4A, B_NONE, B_NONE},
  {U_M2A, 1, B_S4A, B_S4B, B_NONE, B_NONE},
  {U_M2B, 1, B_S4B, B_NONE, B_S8A, B_NONE},
  {U_M3A, 2, B_S8A, B_S8B, B_NONE, B_NONE},
  {U_M3B, 2, B_S8B, B_S8A, B_S16A, B_NONE},     /* C8 */
  {U_M4A, 3, B_S16A, B_S16B, B_NONE, B_NONE},
  {U_M4B, 3, B_S16B, B_S16A, B_S32A, B_NONE},   /* C16 */
  {U_M5A, 4, B_S32A, B_S32B, B_NONE, B_NONE},
  {U_M5B, 4, B_S32B, B_S32A, B_NONE, B_NONE},   /* C32 */
  {U_NECK32, 4, B_S32A, B_S32B, B_NONE, B_S16A},        /* P32; C16 += up */
  {U_HEAD32, 4, B_S32B, B_HEAD32, B_NONE, B_NONE},
  {U_NECK16, 3, B_S16A, B_S16B, B_NONE, B_S8A}, /* P16; C8 += up */
  {U_HEAD16, 3, B_S16B, B_HEAD16, B_NONE, B_NONE},
  {U_NECK8, 2, B_S8A, B_S8B, B_NONE, B_NONE},   /* P8 */
  {U_HEAD8, 2, B_S8B, B_HEAD8, B_NONE, B_NONE},
};

#define N_STEPS G_N_ELEMENTS (steps)

/* Where femo_yunet_run_stage() finds each stage: after step @last, in
 * buffer @buf (B_TAP: a copy of step @last's whole output, or of the
 * stem's rows, which the normal run does not keep). */
static const struct
{
  guint last;
  BufId buf;
  guint level, channels;
} stage_info[] = {
  [FEMO_YUNET_STAGE_STEM] = {0, B_TAP, 0, STEM_CH},
  [FEMO_YUNET_STAGE_MODEL0] = {0, B_TAP, 0, 16},
  [FEMO_YUNET_STAGE_POOL0] = {0, B_S4A, 1, 16},
  [FEMO_YUNET_STAGE_MODEL1] = {2, B_S4A, 1, 32},
  [FEMO_YUNET_STAGE_MODEL2] = {4, B_TAP, 1, 64},
  [FEMO_YUNET_STAGE_MODEL3] = {6, B_S8A, 2, 64},
  [FEMO_YUNET_STAGE_MODEL4] = {8, B_S16A, 3, 64},
  [FEMO_YUNET_STAGE_MODEL5] = {10, B_S32A, 4, 64},
  [FEMO_YUNET_STAGE_NECK32] = {11, B_S32B, 4, 64},
  [FEMO_YUNET_STAGE_HEAD32] = {12, B_HEAD32, 4, HEAD_CH},
  [FEMO_YUNET_STAGE_UP_ADD16] = {11, B_S16A, 3, 64},
  [FEMO_YUNET_STAGE_NECK16] = {13, B_S16B, 3, 64},
  [FEMO_YUNET_STAGE_HEAD16] = {14, B_HEAD16, 3, HEAD_CH},
  [FEMO_YUNET_STAGE_UP_ADD8] = {13, B_S8A, 2, 64},
  [FEMO_YUNET_STAGE_NECK8] = {15, B_S8B, 2, 64},
  [FEMO_YUNET_STAGE_HEAD8] = {16, B_HEAD8, 2, HEAD_CH},
  [FEMO_YUNET_STAGE_DECODED] = {N_STEPS - 1, B_NONE, 0, HEAD_CH},
};

/* A map's size; 64-bit so that the slab's size is computed without
 * overflow on any machine before it is checked. */
typedef struct
{
  guint rows, cols;
  guint64 ps;                   /* floats from a channel's plane to the next */
} Level;

typedef struct
{
  gfloat score;
  guint32 cell;
} Candidate;

/* A worker thread's rows, in the slab. */
typedef struct
{
  gfloat *ring;                 /* 3 rows x cout x (cols + 2 RING_PAD) */
  gfloat *rows;                 /* cout x 2 rows of output, when only pooled */
  gfloat *stem;                 /* STEM_CH x the stride-2 map's cols */
} Worker;

struct _FemoYunet
{
  const FemoKernels *kern;
  gfloat *w;                    /* every weight */
  Unit units[N_UNITS];
  gsize stem_w, stem_b;         /* [16][3 colours][3][3], [16] */

  guint n_threads;
  FemoWorkers *team;
  Worker *workers;

  /* the slab, laid out for width x height (0 x 0: not yet, or the thread
   * count changed); it only ever grows */
  gint width, height;
  gfloat *slab;
  gsize slab_size;
  Level lv[N_LEVELS];
  guint64 img_rs, img_ps;       /* the converted image's row and plane */
  gint stem_offs[9];
  gfloat *img;
  gfloat *buf[N_BUFS];
  Candidate *cand, *cand_tmp;
  gsize n_cells;

  /* the current call */
  const guint8 *pixels;
  gint stride;
  gint offset[3];               /* of B, G, R in a pixel */
  gint bpp;
  const StepDef *step;
  gfloat *step_out;             /* step->out's buffer, or the tap */
  gfloat *stem_tap;             /* femo_yunet_run_stage()'s copy of the stem */
};

/* ---- weights ---- */

typedef struct
{
  gchar *name;
  guint n_dims;
  guint64 shape[4];
  gsize offset;
  gboolean seen;
} Spec;

static void
spec_clear (gpointer p)
{
  g_free (((Spec *) p)->name);
}

/* A bias [d0] (@k = 0) or a convolution weight [d0][d1][k][k]. */
static void
add_spec (GArray * specs, gchar * name, guint64 d0, guint64 d1, guint64 k,
    gsize offset)
{
  Spec s = { name, k ? 4 : 1, {d0, d1, k, k}, offset, FALSE };

  g_array_append_val (specs, s);
}

/* The four tensors of channels [ch0, ch0 + n) of a DP unit: the 1x1 and
 * the depthwise convolution, weight and bias each. */
static void
add_dp_specs (GArray * specs, const gchar * prefix, const Unit * u,
    guint ch0, guint n)
{
  add_spec (specs, g_strconcat (prefix, ".pw.weight", NULL), n, u->cin, 1,
      u->pw_w + (gsize) ch0 * u->cin);
  add_spec (specs, g_strconcat (prefix, ".pw.bias", NULL), n, 0, 0,
      u->pw_b + ch0);
  add_spec (specs, g_strconcat (prefix, ".dw.weight", NULL), n, 1, 3,
      u->dw_w + (gsize) ch0 * 9);
  add_spec (specs, g_strconcat (prefix, ".dw.bias", NULL), n, 0, 0,
      u->dw_b + ch0);
}

static void
alloc_unit (FemoYunet * net, gsize * pos, UnitId id, guint cin, guint cout,
    gboolean relu)
{
  Unit *u = &net->units[id];

  u->cin = cin;
  u->cout = cout;
  u->relu = relu;
  u->pw_w = *pos;
  u->pw_b = u->pw_w + (gsize) cout * cin;
  u->dw_w = u->pw_b + cout;
  u->dw_b = u->dw_w + (gsize) cout * 9;
  *pos = u->dw_b + cout;
}

/* Lays out the weights and lists every tensor the file must hold, with
 * its shape and place (docs/yunet.md, "Our weights file"). Returns the
 * number of floats. */
static gsize
layout_weights (FemoYunet * net, GArray * specs)
{
  static const guint widths[5][3] = {
    {16, 16, 32}, {32, 32, 64}, {64, 64, 64}, {64, 64, 64}, {64, 64, 64}
  };
  static const struct
  {
    const gchar *name;
    guint ch0, n;
  } heads[] = {
    {"cls", HEAD_CLS, 1}, {"bbox", HEAD_BOX, 4}, {"obj", HEAD_OBJ, 1},
    {"kps", HEAD_KPS, 10},
  };
  gsize pos = 0;

  net->stem_w = pos;
  net->stem_b = pos + STEM_CH * 27;
  pos = net->stem_b + STEM_CH;
  add_spec (specs, g_strdup ("backbone.model0.conv.weight"), STEM_CH, 3, 3,
      net->stem_w);
  add_spec (specs, g_strdup ("backbone.model0.conv.bias"), STEM_CH, 0, 0,
      net->stem_b);
  alloc_unit (net, &pos, U_MODEL0, STEM_CH, 16, TRUE);
  add_dp_specs (specs, "backbone.model0.dp", &net->units[U_MODEL0], 0, 16);
  for (guint m = 0; m < 5; m++)
    for (guint k = 0; k < 2; k++) {
      const UnitId id = U_M1A + 2 * m + k;
      g_autofree gchar *prefix = g_strdup_printf ("backbone.model%u.dp%u",
          m + 1, k + 1);
      alloc_unit (net, &pos, id, widths[m][k], widths[m][k + 1], TRUE);
      add_dp_specs (specs, prefix, &net->units[id], 0, widths[m][k + 1]);
    }
  for (guint l = 0; l < 3; l++) {
    g_autofree gchar *prefix = g_strdup_printf ("neck.lateral_convs.%u", l);
    alloc_unit (net, &pos, U_NECK8 + l, 64, 64, TRUE);
    add_dp_specs (specs, prefix, &net->units[U_NECK8 + l], 0, 64);
  }
  for (guint l = 0; l < 3; l++) {
    alloc_unit (net, &pos, U_HEAD8 + l, 64, HEAD_CH, FALSE);
    for (guint h = 0; h < G_N_ELEMENTS (heads); h++) {
      g_autofree gchar *prefix =
          g_strdup_printf ("bbox_head.multi_level_%s.%u", heads[h].name, l);
      add_dp_specs (specs, prefix, &net->units[U_HEAD8 + l], heads[h].ch0,
          heads[h].n);
    }
  }
  return pos;
}

static gboolean
check_metadata (const FemoSafetensors * st, const gchar * name,
    GError ** error)
{
  const gchar *arch = femo_safetensors_get_metadata (st, "femo.arch");
  const gchar *format = femo_safetensors_get_metadata (st, "femo.format");

  if (!arch) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
        "%s: metadata femo.arch is missing (not a femo model?)", name);
    return FALSE;
  }
  if (strcmp (arch, "yunet") != 0) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_UNSUPPORTED,
        "%s: femo.arch is '%s', not yunet", name, arch);
    return FALSE;
  }
  if (!format || strcmp (format, "1") != 0) {
    g_set_error (error, FEMO_ERROR, format ? FEMO_ERROR_UNSUPPORTED :
        FEMO_ERROR_INVALID, "%s: femo.format is %s%s%s, expected 1", name,
        format ? "'" : "", format ? format : "missing", format ? "'" : "");
    return FALSE;
  }
  return TRUE;
}

/* Copies every tensor to its place after checking its name, dtype, shape
 * and values; all of the network's tensors must be there. */
static gboolean
read_tensors (FemoYunet * net, const FemoSafetensors * st, GArray * specs,
    const gchar * name, GError ** error)
{
  for (guint i = 0; i < femo_safetensors_get_n_tensors (st); i++) {
    const FemoSafetensorsTensor *t = femo_safetensors_get_tensor (st, i);
    Spec *want = NULL;
    gboolean shape_ok;
    gsize n = 1;

    for (guint k = 0; !want && k < specs->len; k++)
      if (strcmp (g_array_index (specs, Spec, k).name, t->name) == 0)
        want = &g_array_index (specs, Spec, k);
    if (!want) {
      g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
          "%s: unexpected tensor '%s'", name, t->name);
      return FALSE;
    }
    if (strcmp (t->dtype, "F32") != 0) {
      g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
          "%s: tensor '%s' has dtype %s, expected F32", name, t->name,
          t->dtype);
      return FALSE;
    }
    shape_ok = t->n_dims == want->n_dims;
    for (guint d = 0; shape_ok && d < want->n_dims; d++) {
      shape_ok = t->shape[d] == want->shape[d];
      n *= want->shape[d];
    }
    if (!shape_ok) {
      g_autofree gchar *got = femo_safetensors_shape_string (t->n_dims,
          t->shape);
      g_autofree gchar *exp = femo_safetensors_shape_string (want->n_dims,
          want->shape);
      g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
          "%s: tensor '%s' has shape %s, expected %s", name, t->name, got,
          exp);
      return FALSE;
    }
    femo_safetensors_read_f32 (st, t, net->w + want->offset);
    for (gsize j = 0; j < n; j++)
      if (!isfinite (net->w[want->offset + j])) {
        g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
            "%s: tensor '%s' has a non-finite value at index %" G_GSIZE_FORMAT,
            name, t->name, j);
        return FALSE;
      }
    want->seen = TRUE;
  }
  for (guint k = 0; k < specs->len; k++)
    if (!g_array_index (specs, Spec, k).seen) {
      g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
          "%s: missing tensor '%s'", name, g_array_index (specs, Spec,
              k).name);
      return FALSE;
    }
  return TRUE;
}

/* ---- threads ---- */

/* 0: one per core; at most 64 */
static guint
resolve_threads (guint n_threads)
{
  return MIN (n_threads ? n_threads : g_get_num_processors (), 64);
}

static void
start_workers (FemoYunet * net, guint n_threads)
{
  net->n_threads = resolve_threads (n_threads);
  net->team = femo_workers_new (net->n_threads, "femo-yunet");
  net->workers = g_new0 (Worker, net->n_threads);
}

static void
stop_workers (FemoYunet * net)
{
  g_clear_pointer (&net->team, femo_workers_free);
  g_clear_pointer (&net->workers, g_free);
}

/* ---- buffers ---- */

static guint64
round16 (guint64 n)
{
  return (n + 15) & ~(guint64) 15;
}

/* Rows [*r0, *r1) of band @i of @n over @rows rows: boundaries on even
 * rows, so that a 2x2 pool's pair of rows is in one band. */
static void
band (guint rows, guint n, guint i, guint * r0, guint * r1)
{
  *r0 = (guint) ((guint64) rows * i / n) & ~1u;
  *r1 = i + 1 == n ? rows : (guint) ((guint64) rows * (i + 1) / n) & ~1u;
}

static guint
n_bands (const FemoYunet * net, guint rows)
{
  if (net->n_threads == 1)
    return 1;
  return CLAMP (rows / MIN_BAND_ROWS, 1, BANDS_PER_THREAD * net->n_threads);
}

static gboolean
check_image (gint width, gint height, gint stride,
    const FemoRgbLayout * layout, GError ** error)
{
  const gint bpp = layout->bytes_per_pixel;

  if (width < 1 || height < 1 || width > FEMO_YUNET_MAX_SIDE
      || height > FEMO_YUNET_MAX_SIDE) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_ARGUMENT,
        "yunet: image size %dx%d is outside 1x1 .. %dx%d", width, height,
        FEMO_YUNET_MAX_SIDE, FEMO_YUNET_MAX_SIDE);
    return FALSE;
  }
  if ((bpp != 3 && bpp != 4) || layout->r_offset < 0
      || layout->r_offset >= bpp || layout->g_offset < 0
      || layout->g_offset >= bpp || layout->b_offset < 0
      || layout->b_offset >= bpp) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_ARGUMENT,
        "yunet: pixel layout (%d bytes, R at %d, G at %d, B at %d) is not "
        "3 or 4 bytes with each colour inside", bpp, layout->r_offset,
        layout->g_offset, layout->b_offset);
    return FALSE;
  }
  if (stride < width * bpp) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_ARGUMENT,
        "yunet: row stride %d is less than %d pixels of %d bytes", stride,
        width, bpp);
    return FALSE;
  }
  return TRUE;
}

/* Lays the slab out for a @width x @height image, growing it when it is
 * too small: the maps of every level, the converted image, the heads,
 * the workers' rows and the candidates. */
static gboolean
layout_slab (FemoYunet * net, gint width, gint height, GError ** error)
{
  const guint hp = (height + 31) / 32 * 32, wp = (width + 31) / 32 * 32;
  const guint n_buf_ch[N_BUFS] = { 32, 32, 64, 64, 64, 64, 64, 64,
    HEAD_CH, HEAD_CH, HEAD_CH
  };
  const guint buf_level[N_BUFS] = { 1, 1, 2, 2, 3, 3, 4, 4, 2, 3, 4 };
  guint64 pos = 0, ring = 0, rows = 0, stem, per_worker, at[N_BUFS], img,
      workers, cand;
  gfloat *slab = net->slab;

  if (net->width == width && net->height == height)
    return TRUE;
  /* laid out for no size until this one is */
  net->width = net->height = 0;
  for (guint l = 0; l < N_LEVELS; l++) {
    net->lv[l].rows = hp >> (l + 1);
    net->lv[l].cols = wp >> (l + 1);
    net->lv[l].ps = round16 ((guint64) net->lv[l].rows * net->lv[l].cols +
        FEMO_KERNEL_SLACK);
  }
  /* image rows -1 .. hp-1, each [0, odd columns][even columns] */
  net->img_rs = 2 * (guint64) net->lv[0].cols + 1;
  net->img_ps = round16 ((hp + 1) * net->img_rs + FEMO_KERNEL_SLACK);
  for (guint ky = 0; ky < 3; ky++) {
    net->stem_offs[3 * ky] = ky * net->img_rs;
    net->stem_offs[3 * ky + 1] = ky * net->img_rs + net->lv[0].cols + 1;
    net->stem_offs[3 * ky + 2] = ky * net->img_rs + 1;
  }
  /* sizes in floats */
  img = pos;
  pos += 3 * net->img_ps;
  for (guint b = 0; b < N_BUFS; b++) {
    at[b] = pos;
    pos += n_buf_ch[b] * net->lv[buf_level[b]].ps;
  }
  for (guint s = 0; s < N_STEPS; s++) {
    const Level *L = &net->lv[steps[s].level];
    const guint cout = net->units[steps[s].unit].cout;
    ring = MAX (ring, 3 * cout * (L->cols + 2 * (guint64) RING_PAD));
    if (steps[s].out == B_NONE)
      rows = MAX (rows, 2 * cout * (guint64) L->cols);
  }
  stem = STEM_CH * (guint64) net->lv[0].cols;
  per_worker = round16 (ring + FEMO_KERNEL_SLACK) +
      round16 (rows + FEMO_KERNEL_SLACK) + round16 (stem + FEMO_KERNEL_SLACK);
  workers = pos;
  pos += net->n_threads * per_worker;
  net->n_cells = 0;
  for (guint l = FIRST_HEAD_LEVEL; l < N_LEVELS; l++)
    net->n_cells += net->lv[l].rows * net->lv[l].cols;
  cand = pos;
  pos += round16 (4 * net->n_cells);    /* two Candidate arrays */
  if (pos > G_MAXSIZE / sizeof (gfloat)) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_ARGUMENT,
        "yunet: a %dx%d image is too large to address", width, height);
    return FALSE;
  }
  if (pos * sizeof (gfloat) > net->slab_size) {
    /* zeroed: the kernels read (and drop) whole vectors past the data */
    slab = g_try_malloc0 (pos * sizeof (gfloat));
    if (!slab) {
      g_set_error (error, FEMO_ERROR, FEMO_ERROR_NO_MEMORY,
          "yunet: no memory for the %" G_GSIZE_FORMAT " MB a %dx%d image "
          "needs", pos * sizeof (gfloat) >> 20, width, height);
      return FALSE;
    }
    g_free (net->slab);
    net->slab = slab;
    net->slab_size = pos * sizeof (gfloat);
  }
  net->img = slab + img;
  for (guint b = 0; b < N_BUFS; b++)
    net->buf[b] = slab + at[b];
  for (guint i = 0; i < net->n_threads; i++) {
    Worker *wk = &net->workers[i];
    wk->ring = slab + workers + i * per_worker;
    wk->rows = wk->ring + round16 (ring + FEMO_KERNEL_SLACK);
    wk->stem = wk->rows + round16 (rows + FEMO_KERNEL_SLACK);
  }
  net->cand = (Candidate *) (slab + cand);
  net->cand_tmp = net->cand + net->n_cells;
  net->width = width;
  net->height = height;
  return TRUE;
}

/* ---- the network ---- */

/* Image rows [y0, y1) of the padded float planes, rows 0 .. hp: per
 * colour (B, G, R), row 1 + y holds image row y as [0, columns 1, 3, 5,
 * ...][columns 0, 2, 4, ...], zero past the image; row 0 and the rows
 * past the image are zero (the stem's padding). */
static void
convert_rows (FemoYunet * net, guint y0, guint y1)
{
  const guint w2 = net->lv[0].cols, width = net->width;
  const gsize bpp = net->bpp;
  /* locals: the stores below could alias net's fields (no strict
   * aliasing), which would reload them for every pixel */
  const gsize off[3] = { net->offset[0], net->offset[1], net->offset[2] };

  for (guint yy = y0; yy < y1; yy++) {
    gfloat *odd[3], *even[3];
    const guint8 *p;
    guint k = 0;

    for (guint c = 0; c < 3; c++) {
      odd[c] = net->img + c * net->img_ps + yy * net->img_rs;
      even[c] = odd[c] + w2 + 1;
      if (yy == 0 || yy > (guint) net->height)
        memset (odd[c], 0, net->img_rs * sizeof (gfloat));
      else
        odd[c][0] = 0.0f;
    }
    if (yy == 0 || yy > (guint) net->height)
      continue;
    /* a pair of pixels at a time, the three colours together: one pass
     * over the row's bytes */
    p = net->pixels + (gsize) (yy - 1) * net->stride;
    for (; 2 * k + 1 < width; k++, p += 2 * bpp)
      for (guint c = 0; c < 3; c++) {
        even[c][k] = p[off[c]];
        odd[c][k + 1] = p[bpp + off[c]];
      }
    for (guint c = 0; c < 3; c++) {
      guint j = k;
      if (2 * j < width) {
        even[c][j] = p[off[c]];
        odd[c][++j] = 0.0f;
      }
      for (; j < w2; j++)
        even[c][j] = odd[c][j + 1] = 0.0f;
    }
  }
}

static void
convert_task (gpointer data, guint worker, guint task)
{
  FemoYunet *net = data;
  const guint rows = net->lv[0].rows * 2 + 1;
  const guint n = n_bands (net, rows);

  convert_rows (net, (guint64) rows * task / n,
      (guint64) rows * (task + 1) / n);
}

/* Stem row @r -> wk->stem (16 x cols): 3x3 stride-2 convolution of the
 * padded image rows 2r-1 .. 2r+1, 3 -> 16 channels, + ReLU. */
static void
stem_row (FemoYunet * net, Worker * wk, guint r, gboolean own)
{
  const Level *L = &net->lv[0];

  net->kern->conv_forward (net->w + net->stem_w, net->w + net->stem_b,
      STEM_CH, 3, 9, net->stem_offs, net->img + 2 * r * net->img_rs,
      net->img_ps, wk->stem, L->cols, L->cols, FEMO_CONV_RELU);
  /* each band writes only its own rows: the ones above and below are
   * another band's */
  if (net->stem_tap && own)
    for (guint c = 0; c < STEM_CH; c++)
      memcpy (net->stem_tap + c * L->ps + (gsize) r * L->cols,
          wk->stem + c * L->cols, L->cols * sizeof (gfloat));
}

/* 1x1 convolution of row @r of the step's input (cin planes) -> @dst
 * (cout rows @rs apart), with bias, no activation. */
static void
pw_row (FemoYunet * net, Worker * wk, guint r, gboolean own, gfloat * dst,
    gsize rs)
{
  static const gint offs0[1] = { 0 };
  const StepDef *s = net->step;
  const Unit *u = &net->units[s->unit];
  const Level *L = &net->lv[s->level];
  const gfloat *x;
  gsize xs;

  if (s->in == B_NONE) {
    stem_row (net, wk, r, own);
    x = wk->stem;
    xs = L->cols;
  } else {
    x = net->buf[s->in] + (gsize) r * L->cols;
    xs = L->ps;
  }
  net->kern->conv_forward (net->w + u->pw_w, net->w + u->pw_b, u->cout,
      u->cin, 1, offs0, x, xs, dst, rs, L->cols, 0);
}

/* Output rows @r - 1 and @r (odd) of a DP unit, [cout][2 rows][cols] at
 * @y, @ys floats from channel to channel -> row @r / 2 of the 2x2 max pool,
 * [cout][cols / 2] in the next level's planes. */
static void
pool_row (FemoYunet * net, const gfloat * y, gsize ys, guint r)
{
  const StepDef *s = net->step;
  const guint cout = net->units[s->unit].cout;
  const Level *L = &net->lv[s->level], *P = &net->lv[s->level + 1];
  gfloat *py = net->buf[s->pool] + (gsize) (r / 2) * P->cols;

  for (guint c = 0; c < cout; c++)
    net->kern->maxpool2x2_row (y + c * ys - L->cols, y + c * ys, P->cols,
        py + c * P->ps);
}

/* Output row @r of a DP unit, [cout][cols] at @y, @ys floats from channel
 * to channel, upsampled x2 and added into rows 2r and 2r + 1 of the finer
 * level's planes, [cout][2 rows][2 cols]. */
static void
up_add_row (FemoYunet * net, const gfloat * y, gsize ys, guint r)
{
  const StepDef *s = net->step;
  const guint cout = net->units[s->unit].cout;
  const Level *L = &net->lv[s->level], *F = &net->lv[s->level - 1];
  gfloat *fy = net->buf[s->up_add] + 2 * (gsize) r * F->cols;

  for (guint c = 0; c < cout; c++) {
    net->kern->upsample2x_add_row (y + c * ys, L->cols, fy + c * F->ps);
    net->kern->upsample2x_add_row (y + c * ys, L->cols, fy + c * F->ps +
        F->cols);
  }
}

/* A DP unit (and what follows it) over rows [r0, r1) of its map: input
 * [cin][rows][cols] -> 1x1 + bias -> [cout] rows in the ring -> depthwise
 * 3x3 + bias (+ ReLU) -> output [cout][rows][cols], then per row the pool
 * or the upsampled add when the step has them. A head level is one such
 * unit of 16 channels without ReLU. */
static void
dp_band (FemoYunet * net, Worker * wk, guint r0, guint r1)
{
  const FemoKernels *K = net->kern;
  const StepDef *s = net->step;
  const Unit *u = &net->units[s->unit];
  const Level *L = &net->lv[s->level];
  const gsize rs = L->cols + 2 * RING_PAD;
  const gfloat *dw_w = net->w + u->dw_w, *dw_b = net->w + u->dw_b;
  gfloat *slot[3];

  if (r0 >= r1)
    return;
  for (guint i = 0; i < 3; i++) {
    slot[i] = wk->ring + i * u->cout * rs + RING_PAD;
    for (guint c = 0; c < u->cout; c++) {
      /* the row's pointer first: c * rs - 1 is unsigned, and at c = 0
       * the index wraps (pointer overflow, undefined) */
      gfloat *row = slot[i] + c * rs;

      row[-1] = row[L->cols] = 0.0f;
    }
  }
  if (r0 > 0)
    pw_row (net, wk, r0 - 1, FALSE, slot[(r0 - 1) % 3], rs);
  pw_row (net, wk, r0, TRUE, slot[r0 % 3], rs);
  for (guint r = r0; r < r1; r++) {
    const gboolean last = r + 1 == L->rows;
    const gfloat *up = r > 0 ? slot[(r + 2) % 3] : NULL;
    const gfloat *mid = slot[r % 3], *down = last ? NULL : slot[(r + 1) % 3];
    gfloat *y;
    gsize ys;

    if (!last)
      pw_row (net, wk, r + 1, r + 1 < r1, slot[(r + 1) % 3], rs);
    if (net->step_out) {
      y = net->step_out + (gsize) r * L->cols;
      ys = L->ps;
    } else {
      y = wk->rows + (r & 1) * L->cols;
      ys = 2 * L->cols;
    }
    for (guint c = 0; c < u->cout; c++)
      K->depthwise3x3_row (dw_w + c * 9, dw_b[c], up ? up + c * rs : NULL,
          mid + c * rs, down ? down + c * rs : NULL, L->cols, u->relu,
          y + c * ys);
    if (s->pool != B_NONE && (r & 1))
      pool_row (net, y, ys, r);
    if (s->up_add != B_NONE)
      up_add_row (net, y, ys, r);
  }
}

static void
dp_task (gpointer data, guint worker, guint task)
{
  FemoYunet *net = data;
  const guint rows = net->lv[net->step->level].rows;
  guint r0, r1;

  band (rows, n_bands (net, rows), task, &r0, &r1);
  dp_band (net, &net->workers[worker], r0, r1);
}

/* Runs steps 0 .. @last on the image; @tap (nullable) gets the full
 * output of step @last (or the stem's, with @stem_tap). */
static void
run_steps (FemoYunet * net, guint last, gfloat * tap, gboolean stem_tap)
{
  femo_workers_run (net->team, n_bands (net, 2 * net->lv[0].rows + 1),
      convert_task, net);
  for (guint i = 0; i <= last; i++) {
    net->step = &steps[i];
    net->step_out = steps[i].out != B_NONE ? net->buf[steps[i].out] : NULL;
    net->stem_tap = NULL;
    if (tap && i == last) {
      if (stem_tap)
        net->stem_tap = tap;
      else
        net->step_out = tap;
    }
    femo_workers_run (net->team, n_bands (net, net->lv[steps[i].level].rows),
        dp_task, net);
  }
}

static gboolean
start_call (FemoYunet * net, const guint8 * pixels, gint width, gint height,
    gint stride, const FemoRgbLayout * layout, GError ** error)
{
  if (!check_image (width, height, stride, layout, error)
      || !layout_slab (net, width, height, error))
    return FALSE;
  net->pixels = pixels;
  net->stride = stride;
  net->bpp = layout->bytes_per_pixel;
  net->offset[0] = layout->b_offset;
  net->offset[1] = layout->g_offset;
  net->offset[2] = layout->r_offset;
  return TRUE;
}

/* ---- decoding and NMS ---- */

static gfloat
sigmoid (gfloat v)
{
  v = CLAMP (v, -SIGMOID_CLAMP, SIGMOID_CLAMP);
  return 1.0f / (1.0f + expf (-v));
}

/* The level and the position in it of candidate cell @cell (stride 8
 * cells first, then 16, then 32, each row-major). */
static guint
cell_level (const FemoYunet * net, guint32 * cell)
{
  guint l = FIRST_HEAD_LEVEL;

  while (*cell >= net->lv[l].rows * net->lv[l].cols) {
    *cell -= net->lv[l].rows * net->lv[l].cols;
    l++;
  }
  return l;
}

/* The head outputs of one cell at one level, decoded as upstream does:
 * the prior point is the cell's top-left corner (c*s, r*s); box centre
 * offsets and landmarks scale by the stride s, sizes are exp() * s. */
static void
decode_box (const FemoYunet * net, guint l, guint32 q, FemoYunetFace * f)
{
  const gfloat *h = net->buf[B_HEAD8 + l - FIRST_HEAD_LEVEL] + q;
  const gsize ps = net->lv[l].ps;
  const gfloat s = (gfloat) (1u << (l + 1));
  const gfloat px = (gfloat) (q % net->lv[l].cols) * s;
  const gfloat py = (gfloat) (q / net->lv[l].cols) * s;
  const gfloat cx = h[HEAD_BOX * ps] * s + px;
  const gfloat cy = h[(HEAD_BOX + 1) * ps] * s + py;
  const gfloat w = expf (h[(HEAD_BOX + 2) * ps]) * s;
  const gfloat ht = expf (h[(HEAD_BOX + 3) * ps]) * s;

  f->x1 = cx - w / 2.0f;
  f->y1 = cy - ht / 2.0f;
  f->x2 = cx + w / 2.0f;
  f->y2 = cy + ht / 2.0f;
  for (guint k = 0; k < FEMO_YUNET_N_LANDMARKS; k++) {
    f->landmarks[2 * k] = h[(HEAD_KPS + 2 * k) * ps] * s + px;
    f->landmarks[2 * k + 1] = h[(HEAD_KPS + 2 * k + 1) * ps] * s + py;
  }
}

static gfloat
cell_score (const FemoYunet * net, guint l, guint32 q, gfloat * cls,
    gfloat * obj)
{
  const gfloat *h = net->buf[B_HEAD8 + l - FIRST_HEAD_LEVEL] + q;

  *cls = sigmoid (h[HEAD_CLS * net->lv[l].ps]);
  *obj = sigmoid (h[HEAD_OBJ * net->lv[l].ps]);
  return sqrtf (*cls * *obj);
}

/* Sorts @a by descending score, stably (ties keep the cells' order), as
 * upstream's std::stable_sort; bottom-up merges through @tmp. */
static Candidate *
sort_candidates (Candidate * a, Candidate * tmp, gsize n)
{
  for (gsize width = 1; width < n; width *= 2) {
    for (gsize lo = 0; lo < n; lo += 2 * width) {
      const gsize mid = MIN (lo + width, n), hi = MIN (lo + 2 * width, n);
      gsize i = lo, j = mid, k = lo;
      while (i < mid && j < hi)
        tmp[k++] = a[j].score > a[i].score ? a[j++] : a[i++];
      while (i < mid)
        tmp[k++] = a[i++];
      while (j < hi)
        tmp[k++] = a[j++];
    }
    {
      Candidate *t = a;
      a = tmp;
      tmp = t;
    }
  }
  return a;
}

/* Intersection over union of the float corners, 0 unless the
 * intersection has a positive width and height (upstream's
 * JaccardOverlap). */
static gfloat
iou (const FemoYunetFace * a, const FemoYunetFace * b)
{
  const gfloat iw = MIN (a->x2, b->x2) - MAX (a->x1, b->x1);
  const gfloat ih = MIN (a->y2, b->y2) - MAX (a->y1, b->y1);
  gfloat inter;

  if (!(iw > 0.0f && ih > 0.0f))
    return 0.0f;
  inter = iw * ih;
  return inter / ((a->x2 - a->x1) * (a->y2 - a->y1) +
      (b->x2 - b->x1) * (b->y2 - b->y1) - inter);
}

/* The cells (stride 8 first, then 16, 32; each level row-major) whose
 * score is >= @threshold -> net->cand; returns how many. */
static gsize
select_candidates (FemoYunet * net, gfloat threshold)
{
  gsize n = 0;
  guint32 cell = 0;

  for (guint l = FIRST_HEAD_LEVEL; l < N_LEVELS; l++)
    for (guint32 q = 0; q < net->lv[l].rows * net->lv[l].cols; q++, cell++) {
      gfloat cls, obj;
      const gfloat score = cell_score (net, l, q, &cls, &obj);
      if (score >= threshold) {
        net->cand[n].score = score;
        net->cand[n++].cell = cell;
      }
    }
  return n;
}

/* Whether greedy NMS keeps @f after the @n_kept boxes @kept: as
 * upstream, only when every IoU is <= FEMO_YUNET_NMS_IOU (a NaN from an
 * overflowing box is not). */
static gboolean
nms_keeps (const FemoYunetFace * f, const FemoYunetFace * kept,
    gsize n_kept)
{
  for (gsize k = 0; k < n_kept; k++)
    if (!(iou (f, &kept[k]) <= FEMO_YUNET_NMS_IOU))
      return FALSE;
  return TRUE;
}

/* Greedy NMS over @n candidates in score order: a box is kept when its IoU
 * with every box kept before it is <= FEMO_YUNET_NMS_IOU, until @max_out
 * are -> @faces, decoded; returns how many. */
static gsize
nms (const FemoYunet * net, const Candidate * sorted, gsize n,
    FemoYunetFace * faces, gsize max_out)
{
  gsize n_out = 0;

  for (gsize i = 0; i < n && n_out < max_out; i++) {
    FemoYunetFace *f = &faces[n_out];
    guint32 q = sorted[i].cell;
    const guint l = cell_level (net, &q);

    decode_box (net, l, q, f);
    if (nms_keeps (f, faces, n_out)) {
      f->score = sorted[i].score;
      n_out++;
    }
  }
  return n_out;
}

gsize
femo_yunet_nms (FemoYunetFace * faces, gsize n, gsize max_out)
{
  gsize n_out = 0;

  for (gsize i = 0; i < n && n_out < max_out; i++)
    if (nms_keeps (&faces[i], faces, n_out))
      faces[n_out++] = faces[i];
  return n_out;
}

/* Upstream's detection_output: the candidates, the best FEMO_YUNET_TOP_K
 * of them in stable score order, NMS, at most FEMO_YUNET_KEEP_TOP_K. */
static gsize
detect_faces (FemoYunet * net, gfloat threshold, FemoYunetFace * faces,
    gsize capacity)
{
  const gsize n = select_candidates (net, threshold);
  const Candidate *sorted = sort_candidates (net->cand, net->cand_tmp, n);

  return nms (net, sorted, MIN (n, (gsize) FEMO_YUNET_TOP_K), faces,
      MIN (capacity, (gsize) FEMO_YUNET_KEEP_TOP_K));
}

/* ---- public ---- */

FemoYunet *
femo_yunet_new_from_data (const guint8 * data, gsize size,
    const gchar * name, guint n_threads, GError ** error)
{
  g_autoptr (GError) local = NULL;
  g_autoptr (FemoSafetensors) st = femo_safetensors_parse (data, size,
      &local);
  g_autoptr (GArray) specs = g_array_new (FALSE, FALSE, sizeof (Spec));
  FemoYunet *net;
  gsize n_w;

  if (!st) {
    g_set_error (error, FEMO_ERROR, local->code, "%s: %s", name,
        local->message);
    return NULL;
  }
  if (!check_metadata (st, name, error))
    return NULL;
  g_array_set_clear_func (specs, spec_clear);
  net = g_new0 (FemoYunet, 1);
  n_w = layout_weights (net, specs);
  net->w = g_new0 (gfloat, n_w);
  if (!read_tensors (net, st, specs, name, error)) {
    g_free (net->w);
    g_free (net);
    return NULL;
  }
  net->kern = femo_kernels_get ();
  start_workers (net, n_threads);
  return net;
}

FemoYunet *
femo_yunet_new_from_file (const gchar * path, guint n_threads,
    GError ** error)
{
  g_autofree gchar *data = NULL;
  gsize length;
  g_autoptr (GError) local = NULL;

  if (!g_file_get_contents (path, &data, &length, &local)) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_IO, "%s", local->message);
    return NULL;
  }
  return femo_yunet_new_from_data ((const guint8 *) data, length, path,
      n_threads, error);
}

void
femo_yunet_free (FemoYunet * net)
{
  if (!net)
    return;
  stop_workers (net);
  g_free (net->slab);
  g_free (net->w);
  g_free (net);
}

void
femo_yunet_set_n_threads (FemoYunet * net, guint n_threads)
{
  g_return_if_fail (net != NULL);
  if (resolve_threads (n_threads) == net->n_threads)
    return;
  stop_workers (net);
  start_workers (net, n_threads);
  /* the workers' rows live in the slab: lay it out again */
  net->width = net->height = 0;
}

guint
femo_yunet_get_threads_used (const FemoYunet * net)
{
  g_return_val_if_fail (net != NULL, 0);
  return net->n_threads;
}

gsize
femo_yunet_detect (FemoYunet * net, const guint8 * pixels, gint width,
    gint height, gint stride, const FemoRgbLayout * layout,
    gfloat threshold, FemoYunetFace * faces, gsize capacity,
    GError ** error)
{
  g_return_val_if_fail (net != NULL && pixels != NULL && layout != NULL, 0);
  g_return_val_if_fail (faces != NULL || capacity == 0, 0);

  if (!start_call (net, pixels, width, height, stride, layout, error))
    return 0;
  run_steps (net, N_STEPS - 1, NULL, FALSE);
  return detect_faces (net, threshold, faces, capacity);
}

gboolean
femo_yunet_run_stage (FemoYunet * net, const guint8 * pixels, gint width,
    gint height, gint stride, const FemoRgbLayout * layout,
    FemoYunetStage stage, gfloat * out, gsize capacity, guint * rows,
    guint * cols, guint * channels, GError ** error)
{
  g_autofree gfloat *tap = NULL;
  const gfloat *src;
  const Level *L;
  gsize need;

  g_return_val_if_fail (net != NULL && pixels != NULL && layout != NULL,
      FALSE);
  g_return_val_if_fail (stage < FEMO_YUNET_N_STAGES, FALSE);

  if (!start_call (net, pixels, width, height, stride, layout, error))
    return FALSE;
  L = &net->lv[stage_info[stage].level];
  *channels = stage_info[stage].channels;
  if (stage == FEMO_YUNET_STAGE_DECODED) {
    *rows = net->n_cells;
    *cols = 1;
  } else {
    *rows = L->rows;
    *cols = L->cols;
  }
  need = (gsize) * rows * *cols * *channels;
  if (capacity < need) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_ARGUMENT,
        "yunet: stage %d needs %" G_GSIZE_FORMAT " floats, room for %"
        G_GSIZE_FORMAT, stage, need, capacity);
    return FALSE;
  }
  if (stage_info[stage].buf == B_TAP) {
    tap = g_try_malloc0 ((*channels * L->ps) * sizeof (gfloat));
    if (!tap) {
      g_set_error (error, FEMO_ERROR, FEMO_ERROR_NO_MEMORY,
          "yunet: no memory for stage %d", stage);
      return FALSE;
    }
  }
  run_steps (net, stage_info[stage].last, tap,
      stage == FEMO_YUNET_STAGE_STEM);
  if (stage == FEMO_YUNET_STAGE_DECODED) {
    guint32 cell = 0;
    for (guint l = FIRST_HEAD_LEVEL; l < N_LEVELS; l++)
      for (guint32 q = 0; q < net->lv[l].rows * net->lv[l].cols; q++) {
        gfloat *o = out + (gsize) cell++ * HEAD_CH;
        FemoYunetFace f;
        cell_score (net, l, q, &o[HEAD_CLS], &o[HEAD_OBJ]);
        decode_box (net, l, q, &f);
        o[HEAD_BOX] = f.x1;
        o[HEAD_BOX + 1] = f.y1;
        o[HEAD_BOX + 2] = f.x2;
        o[HEAD_BOX + 3] = f.y2;
        memcpy (o + HEAD_KPS, f.landmarks, sizeof (f.landmarks));
      }
    return TRUE;
  }
  src = tap ? tap : net->buf[stage_info[stage].buf];
  for (gsize q = 0; q < (gsize) * rows * *cols; q++)
    for (guint c = 0; c < *channels; c++)
      out[q * *channels + c] = src[c * L->ps + q];
  return TRUE;
}
