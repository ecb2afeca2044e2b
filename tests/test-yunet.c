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

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_assert_cmpint (argc, ==, 2);
  decode_script = argv[1];
  g_test_add_func ("/yunet/stages", test_stages);
  return g_test_run ();
}
