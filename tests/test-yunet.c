/* gst-femo: the YuNet network layer by layer against upstream's own
 * tensors, its weights loader on bad files, odd and tiny image sizes,
 * and thread counts
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * argv[1]: tests/decode-cv2.py, which decodes images as upstream's
 * example does (OpenCV's imread).
 */
#include "test-util.h"
#include "femo-error.h"
#include "femo-json.h"
#include "femo-safetensors.h"
#include "femo-yunet.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#define TESTVEC "third_party/libfacedetection/testvec_obama_small"
#define OBAMA "media/facerec_obama_small.jpg"
#define CAPACITY FEMO_YUNET_KEEP_TOP_K

static const gchar *decode_script;
static const FemoRgbLayout rgb = { 3, 0, 1, 2 };

static gchar *
model_path (void)
{
  return g_build_filename (g_getenv ("FEMO_MODEL_DIR"), "yunet.safetensors",
      NULL);
}

static FemoYunet *
load_net (guint n_threads)
{
  g_autofree gchar *path = model_path ();
  g_autoptr (GError) error = NULL;
  FemoYunet *net = femo_yunet_new_from_file (path, n_threads, &error);

  g_assert_no_error (error);
  return net;
}

/* The shared photo @relative as upstream's example decodes it: packed
 * RGB (the layout puts blue at byte 2). */
static guint8 *
load_photo (const gchar * relative, gint * width, gint * height)
{
  g_autofree gchar *path = femo_test_shared_path (relative);
  g_autofree gchar *dir = g_dir_make_tmp ("test-yunet-XXXXXX", NULL);
  g_autofree gchar *base = g_path_get_basename (path);
  g_autofree gchar *name = g_strconcat (base, ".ppm", NULL);
  g_autofree gchar *ppm = g_build_filename (dir, name, NULL);
  const gchar *paths[] = { path, NULL };
  guint8 *pixels;

  femo_test_decode_cv2 (decode_script, dir, paths);
  pixels = femo_test_read_ppm (ppm, width, height);
  g_unlink (ppm);
  g_rmdir (dir);
  return pixels;
}

/* One of upstream's dumped tensors (xz-compressed float32, rows x cols x
 * channels as index.json says). */
static gfloat *
read_testvec (const FemoJson * index, const gchar * name, guint * rows,
    guint * cols, guint * channels)
{
  const FemoJson *shape = femo_json_object_get (index, name);
  g_autofree gchar *file = g_strconcat (TESTVEC "/", name, ".f32.xz", NULL);
  g_autofree gchar *path = femo_test_shared_path (file);
  g_autoptr (GSubprocess) xz = NULL;
  g_autoptr (GBytes) out = NULL, err = NULL;
  g_autoptr (GError) error = NULL;
  gsize n;

  g_assert_nonnull (shape);
  *rows = femo_json_get_int (femo_json_object_get (shape, "rows"));
  *cols = femo_json_get_int (femo_json_object_get (shape, "cols"));
  *channels = femo_json_get_int (femo_json_object_get (shape, "channels"));
  n = (gsize) * rows * *cols * *channels;
  /* GLib reads no xz: Debian's xz-utils is always there */
  xz = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
      G_SUBPROCESS_FLAGS_STDERR_PIPE, &error, "xz", "-dc", path, NULL);
  if (!xz && g_error_matches (error, G_SPAWN_ERROR, G_SPAWN_ERROR_NOENT))
    femo_test_missing ("xz (Debian's xz-utils)");
  g_assert_no_error (error);
  g_assert_true (g_subprocess_communicate (xz, NULL, NULL, &out, &err,
          &error));
  g_assert_no_error (error);
  if (!g_subprocess_get_successful (xz))
    g_error ("xz -dc %s failed: %.*s", path, (gint) g_bytes_get_size (err),
        (const gchar *) g_bytes_get_data (err, NULL));
  g_assert_cmpuint (g_bytes_get_size (out), ==, n * sizeof (gfloat));
  return g_memdup2 (g_bytes_get_data (out, NULL), n * sizeof (gfloat));
}

/* Every stage upstream dumped (all but its im2col buffer, which our stem
 * does not build), in the order the network computes them. The heads are
 * one 16-channel map per level here: @ch0 and the tensor's channel count
 * pick the head. */
static const struct
{
  const gchar *name;
  FemoYunetStage stage;
  guint ch0;
} stages[] = {
  {"01_L0_conv3x3s2_relu_s2", FEMO_YUNET_STAGE_STEM, 0},
  {"02_L1L2_dp_s2", FEMO_YUNET_STAGE_MODEL0, 0},
  {"03_pool_s4", FEMO_YUNET_STAGE_POOL0, 0},
  {"04_model1_s4", FEMO_YUNET_STAGE_MODEL1, 0},
  {"05_model2_s4", FEMO_YUNET_STAGE_MODEL2, 0},
  {"06_model3_fb1_s8", FEMO_YUNET_STAGE_MODEL3, 0},
  {"07_model4_fb2_s16", FEMO_YUNET_STAGE_MODEL4, 0},
  {"08_model5_fb3_s32", FEMO_YUNET_STAGE_MODEL5, 0},
  {"09_neck2_s32", FEMO_YUNET_STAGE_NECK32, 0},
  {"10_head_s32_cls_raw", FEMO_YUNET_STAGE_HEAD32, 0},
  {"10_head_s32_bbox_raw", FEMO_YUNET_STAGE_HEAD32, 1},
  {"10_head_s32_obj_raw", FEMO_YUNET_STAGE_HEAD32, 5},
  {"10_head_s32_kps_raw", FEMO_YUNET_STAGE_HEAD32, 6},
  {"11_up_add_s16", FEMO_YUNET_STAGE_UP_ADD16, 0},
  {"12_neck1_s16", FEMO_YUNET_STAGE_NECK16, 0},
  {"13_head_s16_cls_raw", FEMO_YUNET_STAGE_HEAD16, 0},
  {"13_head_s16_bbox_raw", FEMO_YUNET_STAGE_HEAD16, 1},
  {"13_head_s16_obj_raw", FEMO_YUNET_STAGE_HEAD16, 5},
  {"13_head_s16_kps_raw", FEMO_YUNET_STAGE_HEAD16, 6},
  {"14_up_add_s8", FEMO_YUNET_STAGE_UP_ADD8, 0},
  {"15_neck0_s8", FEMO_YUNET_STAGE_NECK8, 0},
  {"16_head_s8_cls_raw", FEMO_YUNET_STAGE_HEAD8, 0},
  {"16_head_s8_bbox_raw", FEMO_YUNET_STAGE_HEAD8, 1},
  {"16_head_s8_obj_raw", FEMO_YUNET_STAGE_HEAD8, 5},
  {"16_head_s8_kps_raw", FEMO_YUNET_STAGE_HEAD8, 6},
  {"17_all_cls_sigmoid", FEMO_YUNET_STAGE_DECODED, 0},
  {"17_all_bbox_decoded_x1y1x2y2", FEMO_YUNET_STAGE_DECODED, 1},
  {"17_all_obj_sigmoid", FEMO_YUNET_STAGE_DECODED, 5},
  {"17_all_kps_decoded", FEMO_YUNET_STAGE_DECODED, 6},
};

/* Each stage of ours against upstream's tensor on the same pixels. Upstream
 * sums in another order (and fuses other multiply-adds), so the values
 * differ by float rounding, which grows with a value's magnitude and the
 * depth of the stage: |ours - upstream| <= 1e-4 * (1 + |upstream|) holds
 * with a margin of 10 or more (the largest differences are printed). */
static void
test_stages (void)
{
  g_autofree gchar *index_path = femo_test_shared_path (TESTVEC
      "/index.json");
  gsize len;
  g_autofree gchar *index_text = femo_test_read_file (index_path, &len);
  g_autoptr (FemoJson) index = femo_json_parse (index_text, len, NULL);
  g_autoptr (FemoYunet) net = load_net (1);
  gint width, height;
  g_autofree guint8 *pixels = load_photo (OBAMA, &width, &height);
  gdouble worst_all = 0.0;

  g_assert_nonnull (index);
  g_assert_cmpint (width, ==, 320);
  g_assert_cmpint (height, ==, 240);
  for (guint s = 0; s < G_N_ELEMENTS (stages); s++) {
    guint rows, cols, channels, our_rows, our_cols, our_channels;
    g_autofree gfloat *ref = read_testvec (index, stages[s].name, &rows,
        &cols, &channels);
    gsize cap = (gsize) 64 * 128 * 160, n_cells;
    g_autofree gfloat *ours = g_new (gfloat, cap);
    g_autoptr (GError) error = NULL;
    gdouble worst = 0.0, worst_abs = 0.0, worst_ref = 0.0;

    g_assert_true (femo_yunet_run_stage (net, pixels, width, height,
            3 * width, &rgb, stages[s].stage, ours, cap, &our_rows, &our_cols,
            &our_channels, &error));
    g_assert_no_error (error);
    /* the decoded cells come as one vector per quantity upstream */
    if (stages[s].stage == FEMO_YUNET_STAGE_DECODED) {
      n_cells = our_rows;
      g_assert_cmpuint (channels % n_cells, ==, 0);
      channels /= n_cells;
      rows = n_cells;
    } else {
      g_assert_cmpuint (our_rows, ==, rows);
      g_assert_cmpuint (our_cols, ==, cols);
    }
    g_assert_cmpuint (stages[s].ch0 + channels, <=, our_channels);
    for (gsize q = 0; q < (gsize) rows * cols; q++)
      for (guint c = 0; c < channels; c++) {
        const gfloat r = ref[q * channels + c];
        const gfloat o = ours[q * our_channels + stages[s].ch0 + c];
        const gdouble d = fabs ((gdouble) o - r) / (1.0 + fabs (r));
        if (d > worst || isnan (d)) {
          worst = isnan (d) ? INFINITY : d;
          worst_abs = fabs ((gdouble) o - r);
          worst_ref = r;
        }
      }
    g_printerr ("%-30s %3ux%3ux%2u  largest difference %.3g (%.3g at "
        "upstream %.4g)\n", stages[s].name, rows, cols, channels, worst,
        worst_abs, worst_ref);
    g_assert_cmpfloat (worst, <=, 1e-4);
    worst_all = MAX (worst_all, worst);
  }
  g_printerr ("all stages: largest relative difference %.3g\n", worst_all);
}

/* ---- weights files ---- */

/* The shipped file's tensors, to be written back changed. */
typedef struct
{
  FemoSafetensorsOut t[128];
  gfloat *data[128];
  guint n;
} Tensors;

static void
tensors_read (Tensors * ts, const guint8 * file, gsize length)
{
  g_autoptr (FemoSafetensors) st = femo_safetensors_parse (file, length,
      NULL);

  g_assert_nonnull (st);
  ts->n = femo_safetensors_get_n_tensors (st);
  g_assert_cmpuint (ts->n, ==, 106);
  for (guint i = 0; i < ts->n; i++) {
    const FemoSafetensorsTensor *t = femo_safetensors_get_tensor (st, i);
    ts->data[i] = g_malloc ((t->end - t->begin) + sizeof (gfloat));
    femo_safetensors_read_f32 (st, t, ts->data[i]);
    ts->t[i].name = g_strdup (t->name);
    ts->t[i].n_dims = t->n_dims;
    memcpy (ts->t[i].shape, t->shape, sizeof (t->shape));
    ts->t[i].data = ts->data[i];
  }
}

static void
tensors_clear (Tensors * ts)
{
  for (guint i = 0; i < ts->n; i++) {
    g_free ((gchar *) ts->t[i].name);
    g_free (ts->data[i]);
  }
}

static guint
tensors_find (const Tensors * ts, const gchar * name)
{
  for (guint i = 0; i < ts->n; i++)
    if (g_str_equal (ts->t[i].name, name))
      return i;
  g_error ("no tensor %s", name);
}

static GBytes *
tensors_write (const Tensors * ts, const gchar * arch)
{
  const gchar *keys[] = { "femo.arch", "femo.format" };
  const gchar *values[] = { arch, "1" };

  return femo_safetensors_write (ts->t, ts->n, arch ? keys : keys + 1,
      arch ? values : values + 1, arch ? 2 : 1);
}

/* Loading @bytes fails with @code and a message that names the file
 * ("bad.safetensors") and contains @what. */
static void
expect_load_error (GBytes * bytes, gint code, const gchar * what)
{
  g_autoptr (GError) error = NULL;
  gsize size;
  const guint8 *data = g_bytes_get_data (bytes, &size);
  FemoYunet *net = femo_yunet_new_from_data (data, size, "bad.safetensors",
      1, &error);

  g_assert_null (net);
  g_assert_error (error, FEMO_ERROR, code);
  g_printerr ("  %s\n", error->message);
  g_assert_true (g_str_has_prefix (error->message, "bad.safetensors: "));
  g_assert_nonnull (strstr (error->message, what));
}

static void
test_bad_weights (void)
{
  g_autofree gchar *path = model_path ();
  gsize length;
  g_autofree guint8 *file = (guint8 *) femo_test_read_file (path, &length);
  g_autoptr (GError) error = NULL;
  Tensors ts;
  guint i;

  tensors_read (&ts, file, length);
  {
    /* as it is, through the same writer: it loads */
    g_autoptr (GBytes) same = tensors_write (&ts, "yunet");
    gsize size;
    const guint8 *data = g_bytes_get_data (same, &size);
    g_autoptr (FemoYunet) net = femo_yunet_new_from_data (data, size, "ok",
        1, &error);
    g_assert_no_error (error);
    g_assert_nonnull (net);
  }
  {
    /* a misspelt name */
    g_autoptr (GBytes) b = NULL;
    const gchar *keep;
    i = tensors_find (&ts, "neck.lateral_convs.1.dw.bias");
    keep = ts.t[i].name;
    ts.t[i].name = "neck.lateral_convs.1.dw.bais";
    b = tensors_write (&ts, "yunet");
    ts.t[i].name = keep;
    expect_load_error (b, FEMO_ERROR_INVALID,
        "unexpected tensor 'neck.lateral_convs.1.dw.bais'");
  }
  {
    /* one left out (swapped to the end, not written) */
    g_autoptr (GBytes) b = NULL;
    FemoSafetensorsOut keep;
    i = tensors_find (&ts, "bbox_head.multi_level_kps.2.dw.weight");
    keep = ts.t[i];
    ts.t[i] = ts.t[ts.n - 1];
    ts.n--;
    b = tensors_write (&ts, "yunet");
    ts.n++;
    ts.t[ts.n - 1] = ts.t[i];
    ts.t[i] = keep;
    expect_load_error (b, FEMO_ERROR_INVALID,
        "missing tensor 'bbox_head.multi_level_kps.2.dw.weight'");
  }
  {
    /* the same number of values in the wrong shape */
    g_autoptr (GBytes) b = NULL;
    i = tensors_find (&ts, "backbone.model2.dp2.pw.weight");
    ts.t[i].shape[0] = 32;
    ts.t[i].shape[1] = 64;
    b = tensors_write (&ts, "yunet");
    expect_load_error (b, FEMO_ERROR_INVALID, "tensor "
        "'backbone.model2.dp2.pw.weight' has shape [32, 64, 1, 1], "
        "expected [64, 32, 1, 1]");
    ts.t[i].shape[0] = 64;
    ts.t[i].shape[1] = 32;
  }
  {
    /* a rank too few */
    g_autoptr (GBytes) b = NULL;
    i = tensors_find (&ts, "backbone.model0.conv.weight");
    ts.t[i].n_dims = 3;
    ts.t[i].shape[2] = 9;
    b = tensors_write (&ts, "yunet");
    expect_load_error (b, FEMO_ERROR_INVALID, "'backbone.model0.conv.weight' "
        "has shape [16, 3, 9], expected [16, 3, 3, 3]");
    ts.t[i].n_dims = 4;
    ts.t[i].shape[2] = 3;
  }
  {
    g_autoptr (GBytes) b = NULL;
    gfloat keep;
    i = tensors_find (&ts, "bbox_head.multi_level_obj.1.pw.bias");
    keep = ts.data[i][0];
    ts.data[i][0] = NAN;
    b = tensors_write (&ts, "yunet");
    ts.data[i][0] = keep;
    expect_load_error (b, FEMO_ERROR_INVALID, "non-finite value at index 0");
  }
  {
    g_autoptr (GBytes) other = tensors_write (&ts, "mini-xception");
    g_autoptr (GBytes) none = tensors_write (&ts, NULL);
    expect_load_error (other, FEMO_ERROR_UNSUPPORTED, "'mini-xception', "
        "not yunet");
    expect_load_error (none, FEMO_ERROR_INVALID, "femo.arch is missing");
  }
  {
    /* F32 -> I32 in the header: same sizes, another type */
    g_autoptr (GBytes) b = tensors_write (&ts, "yunet");
    gsize size;
    const guint8 *orig = g_bytes_get_data (b, &size);
    guint8 *data = g_memdup2 (orig, size);
    guint8 *at = (guint8 *) g_strstr_len ((gchar *) data + 8, size - 8,
        "\"F32\"");
    GBytes *patched;
    g_assert_nonnull (at);
    at[1] = 'I';
    patched = g_bytes_new_take (data, size);
    expect_load_error (patched, FEMO_ERROR_INVALID,
        "has dtype I32, expected F32");
    g_bytes_unref (patched);
  }
  {
    /* truncated: the container's checks, with the file's name */
    g_autoptr (GBytes) b = g_bytes_new (file, length - 100);
    expect_load_error (b, FEMO_ERROR_INVALID, "");
  }
  tensors_clear (&ts);
  {
    g_assert_null (femo_yunet_new_from_file ("/nonexistent/yunet."
            "safetensors", 1, &error));
    g_assert_error (error, FEMO_ERROR, FEMO_ERROR_IO);
    g_assert_nonnull (strstr (error->message, "/nonexistent/yunet"));
    g_clear_error (&error);
  }
}

/* ---- image sizes, layouts, threads ---- */

static gsize
detect (FemoYunet * net, const guint8 * pixels, gint width, gint height,
    gint stride, const FemoRgbLayout * layout, FemoYunetFace * faces)
{
  g_autoptr (GError) error = NULL;
  gsize n = femo_yunet_detect (net, pixels, width, height, stride, layout,
      FEMO_YUNET_UPSTREAM_THRESHOLD, faces, CAPACITY, &error);

  g_assert_no_error (error);
  return n;
}

static void
assert_same_faces (const FemoYunetFace * a, gsize na,
    const FemoYunetFace * b, gsize nb)
{
  g_assert_cmpuint (na, ==, nb);
  g_assert_cmpmem (a, na * sizeof (FemoYunetFace), b,
      nb * sizeof (FemoYunetFace));
}

/* Upstream zero-pads every image at the bottom and right to a multiple of
 * 32: a crop of a photo (read in place, stride of the photo) gives the
 * bits that the same crop pasted into a black 32-multiple canvas gives,
 * read through another layout (4 bytes, colours elsewhere, junk in the
 * fourth). Sizes from 1x1 up run and give sane faces. */
static void
test_sizes (void)
{
  g_autoptr (FemoYunet) net = load_net (2);
  gint width, height;
  g_autofree guint8 *photo = load_photo (OBAMA, &width, &height);
  const FemoRgbLayout xbgr = { 4, 3, 2, 1 };
  const gint crops[][4] = {
    {5, 3, 301, 229}, {0, 0, 320, 240}, {40, 10, 200, 97}, {100, 50, 33, 31},
    {0, 0, 31, 33}, {7, 9, 1, 1}, {0, 0, 1, 40}, {0, 0, 40, 1},
    {3, 4, 100, 7}, {3, 4, 7, 100}, {0, 0, 64, 64},
  };
  g_autofree FemoYunetFace *a = g_new (FemoYunetFace, CAPACITY);
  g_autofree FemoYunetFace *b = g_new (FemoYunetFace, CAPACITY);

  for (guint i = 0; i < G_N_ELEMENTS (crops); i++) {
    const gint x0 = crops[i][0], y0 = crops[i][1], cw = crops[i][2],
        ch = crops[i][3];
    const gint pw = (cw + 31) / 32 * 32, ph = (ch + 31) / 32 * 32;
    g_autofree guint8 *canvas = g_new0 (guint8, (gsize) pw * ph * 4);
    const guint8 *crop = photo + (gsize) y0 *width * 3 + x0 * 3;
    gsize na, nb;

    for (gint y = 0; y < ph; y++)
      for (gint x = 0; x < pw; x++) {
        guint8 *p = canvas + ((gsize) y * pw + x) * 4;
        p[0] = 0xa5;
        if (y < ch && x < cw)
          for (gint c = 0; c < 3; c++)
            p[3 - c] = crop[(gsize) y * width * 3 + x * 3 + c];
      }
    na = detect (net, crop, cw, ch, width * 3, &rgb, a);
    nb = detect (net, canvas, pw, ph, pw * 4, &xbgr, b);
    g_printerr ("%dx%d at (%d, %d): %" G_GSIZE_FORMAT " faces\n", cw, ch,
        x0, y0, na);
    assert_same_faces (a, na, b, nb);
    for (gsize k = 0; k < na; k++) {
      g_assert_cmpfloat (a[k].score, >=, FEMO_YUNET_UPSTREAM_THRESHOLD);
      g_assert_cmpfloat (a[k].score, <=, 1.0f);
      g_assert_cmpfloat (a[k].x2, >, a[k].x1);
      g_assert_cmpfloat (a[k].y2, >, a[k].y1);
      if (k)
        g_assert_cmpfloat (a[k].score, <=, a[k - 1].score);
    }
  }
  /* the whole photo has the one face, where upstream finds it
   * (reference-yunet.json: score 0.947713, box 107, 38, 104 x 148) */
  g_assert_cmpuint (detect (net, photo, width, height, width * 3, &rgb, a),
      ==, 1);
  g_assert_cmpfloat (fabsf (a[0].score - 0.947713f), <, 1e-4f);
  g_assert_cmpint ((gint) a[0].x1, ==, 107);
  g_assert_cmpint ((gint) a[0].y1, ==, 38);
  g_assert_cmpint ((gint) (a[0].x2 - a[0].x1), ==, 104);
  g_assert_cmpint ((gint) (a[0].y2 - a[0].y1), ==, 148);
}

/* Sizes, strides and layouts out of range are argument errors that say
 * what is wrong, and the net works on after them. */
static void
test_bad_images (void)
{
  g_autoptr (FemoYunet) net = load_net (1);
  const FemoRgbLayout bad_bpp = { 2, 0, 1, 1 }, bad_offset = { 3, 0, 1, 3 };
  const struct
  {
    gint width, height, stride;
    const FemoRgbLayout *layout;
    const gchar *what;
  } cases[] = {
    {0, 10, 30, &rgb, "image size 0x10 is outside"},
    {10, -1, 30, &rgb, "image size 10x-1 is outside"},
    {FEMO_YUNET_MAX_SIDE + 1, 1, G_MAXINT, &rgb, "is outside 1x1 .. "},
    {10, 10, 29, &rgb, "row stride 29 is less than 10 pixels of 3 bytes"},
    {10, 10, 30, &bad_bpp, "not 3 or 4 bytes"},
    {10, 10, 30, &bad_offset, "B at 3"},
  };
  guint8 pixels[300] = { 0 };
  FemoYunetFace faces[4];

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (GError) error = NULL;
    g_assert_cmpuint (femo_yunet_detect (net, pixels, cases[i].width,
            cases[i].height, cases[i].stride, cases[i].layout, 0.2f, faces,
            4, &error), ==, 0);
    g_assert_error (error, FEMO_ERROR, FEMO_ERROR_ARGUMENT);
    g_assert_nonnull (strstr (error->message, cases[i].what));
  }
  /* capacity 0: the network runs, no face is written */
  g_assert_cmpuint (femo_yunet_detect (net, pixels, 10, 10, 30, &rgb, 0.2f,
          NULL, 0, NULL), ==, 0);
}

/* A frame whose buffers cannot be allocated fails with NO_MEMORY (in a
 * subprocess under a memory limit) and the net detects as before after
 * it. */
static void
test_no_memory (void)
{
#ifdef __SANITIZE_ADDRESS__
  g_test_skip ("an address-space limit stops AddressSanitizer itself");
  return;
#endif
  if (g_test_subprocess ()) {
    g_autoptr (FemoYunet) net = load_net (1);
    gint width, height;
    g_autofree guint8 *photo = load_photo (OBAMA, &width, &height);
    g_autofree FemoYunetFace *a = g_new (FemoYunetFace, CAPACITY);
    g_autofree FemoYunetFace *b = g_new (FemoYunetFace, CAPACITY);
    g_autoptr (GError) error = NULL;
    struct rlimit old;
    gsize na, nb;

    na = detect (net, photo, width, height, width * 3, &rgb, a);
    femo_test_limit_memory (64 << 20, &old);
    /* 64k x 64k: tens of GB; the pixels are never read */
    g_assert_cmpuint (femo_yunet_detect (net, photo, FEMO_YUNET_MAX_SIDE,
            FEMO_YUNET_MAX_SIDE, FEMO_YUNET_MAX_SIDE * 3, &rgb, 0.2f, a,
            CAPACITY, &error), ==, 0);
    g_assert_error (error, FEMO_ERROR, FEMO_ERROR_NO_MEMORY);
    g_printerr ("%s\n", error->message);
    nb = detect (net, photo, width, height, width * 3, &rgb, b);
    assert_same_faces (a, na, b, nb);
    return;
  }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stderr ("*no memory for the *65536x65536 image needs*");
}

/* 1 to 7 threads (and the thread count changed on a running net) give
 * the same bits: faces and the stride-8 heads, on two sizes. */
static void
test_threads (void)
{
  g_autoptr (FemoYunet) one = load_net (1);
  g_autoptr (FemoYunet) many = load_net (3);
  gint width, height;
  g_autofree guint8 *photo = load_photo (OBAMA, &width, &height);
  g_autofree FemoYunetFace *a = g_new (FemoYunetFace, CAPACITY);
  g_autofree FemoYunetFace *b = g_new (FemoYunetFace, CAPACITY);
  const gsize cap = (gsize) 16 * 32 * 40;
  g_autofree gfloat *ha = g_new (gfloat, cap);
  g_autofree gfloat *hb = g_new (gfloat, cap);
  const gint sizes[][2] = { {320, 240}, {250, 173} };

  g_assert_cmpuint (femo_yunet_get_threads_used (one), ==, 1);
  g_assert_cmpuint (femo_yunet_get_threads_used (many), ==, 3);
  for (guint s = 0; s < G_N_ELEMENTS (sizes); s++) {
    const gint w = sizes[s][0], h = sizes[s][1];
    guint rows, cols, ch;
    const gsize na = detect (one, photo, w, h, width * 3, &rgb, a);

    g_assert_true (femo_yunet_run_stage (one, photo, w, h, width * 3, &rgb,
            FEMO_YUNET_STAGE_HEAD8, ha, cap, &rows, &cols, &ch, NULL));
    for (guint t = 2; t <= 7; t++) {
      gsize nb;
      femo_yunet_set_n_threads (many, t);
      g_assert_cmpuint (femo_yunet_get_threads_used (many), ==, t);
      nb = detect (many, photo, w, h, width * 3, &rgb, b);
      assert_same_faces (a, na, b, nb);
      g_assert_true (femo_yunet_run_stage (many, photo, w, h, width * 3,
              &rgb, FEMO_YUNET_STAGE_HEAD8, hb, cap, &rows, &cols, &ch,
              NULL));
      g_assert_cmpmem (ha, (gsize) rows * cols * ch * sizeof (gfloat), hb,
          (gsize) rows * cols * ch * sizeof (gfloat));
    }
  }
  femo_yunet_set_n_threads (many, 0);
  g_assert_cmpuint (femo_yunet_get_threads_used (many), ==,
      MIN (g_get_num_processors (), 64));
}

/* The faces at a threshold are the faces at upstream's 0.2 whose score
 * reaches it (greedy NMS in score order), and a capacity of k gives the
 * first k. femo_yunet_nms, the same NMS for faces of several calls,
 * keeps them as they are, and each given twice (as two scans of one image
 * would find it) once. */
static void
test_threshold_capacity (void)
{
  g_autoptr (FemoYunet) net = load_net (2);
  gint width, height;
  g_autofree guint8 *photo = load_photo ("media/deepface_couple.jpg", &width,
      &height);
  g_autofree FemoYunetFace *all = g_new (FemoYunetFace, CAPACITY);
  g_autofree FemoYunetFace *some = g_new (FemoYunetFace, CAPACITY);
  g_autofree FemoYunetFace *twice = g_new (FemoYunetFace, 2 * CAPACITY);
  const gsize n = detect (net, photo, width, height, width * 3, &rgb, all);

  g_assert_cmpuint (n, >=, 5);
  for (gfloat t = 0.3f; t < 1.0f; t += 0.1f) {
    gsize k = 0, m;
    while (k < n && all[k].score >= t)
      k++;
    m = femo_yunet_detect (net, photo, width, height, width * 3, &rgb, t,
        some, CAPACITY, NULL);
    assert_same_faces (all, k, some, m);
  }
  g_assert_cmpuint (femo_yunet_detect (net, photo, width, height, width * 3,
          &rgb, 0.2f, some, 2, NULL), ==, 2);
  assert_same_faces (all, 2, some, 2);

  memcpy (twice, all, n * sizeof (FemoYunetFace));
  g_assert_cmpuint (femo_yunet_nms (twice, n, CAPACITY), ==, n);
  g_assert_cmpmem (twice, n * sizeof (FemoYunetFace), all,
      n * sizeof (FemoYunetFace));
  for (gsize i = 0; i < n; i++)
    twice[2 * i] = twice[2 * i + 1] = all[i];
  g_assert_cmpuint (femo_yunet_nms (twice, 2 * n, CAPACITY), ==, n);
  g_assert_cmpmem (twice, n * sizeof (FemoYunetFace), all,
      n * sizeof (FemoYunetFace));
}

/* femo_yunet_nms: an IoU above FEMO_YUNET_NMS_IOU with a kept face drops
 * the lower one, below keeps it; a box that overflowed (NaN) is dropped
 * after any kept face; max_out stops it. */
static void
test_nms (void)
{
  /* 10x10 boxes: shifted by 1 (IoU 81/119), by 3 (49/151 < 0.45) */
  FemoYunetFace faces[4] = {
    {0.9f, 0, 0, 10, 10},
    {0.8f, 1, 1, 11, 11},
    {0.7f, 3, 3, 13, 13},
    {0.6f, 0, 0, NAN, 10},
  };

  g_assert_cmpuint (femo_yunet_nms (faces, 4, 4), ==, 2);
  g_assert_cmpfloat (faces[0].score, ==, 0.9f);
  g_assert_cmpfloat (faces[1].score, ==, 0.7f);
  g_assert_cmpuint (femo_yunet_nms (faces, 2, 1), ==, 1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  /* subprocesses of g_test_trap_subprocess get no arguments */
  if (argc == 2)
    g_setenv ("FEMO_TEST_DECODE_CV2", argv[1], TRUE);
  decode_script = g_getenv ("FEMO_TEST_DECODE_CV2");
  g_assert_nonnull (decode_script);
  g_test_add_func ("/yunet/stages", test_stages);
  g_test_add_func ("/yunet/bad-weights", test_bad_weights);
  g_test_add_func ("/yunet/sizes", test_sizes);
  g_test_add_func ("/yunet/bad-images", test_bad_images);
  g_test_add_func ("/yunet/no-memory", test_no_memory);
  g_test_add_func ("/yunet/threads", test_threads);
  g_test_add_func ("/yunet/threshold-capacity", test_threshold_capacity);
  g_test_add_func ("/yunet/nms", test_nms);
  return g_test_run ();
}
