/* gst-femo: YuNet's detections on the 40 shared photos against upstream's
 * (../shared/media/reference-yunet.json: libfacedetection's facedetect_cnn
 * at threshold 0.2 on the pixels OpenCV's imread gives)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * argv[1]: tests/decode-cv2.py, which decodes the photos with OpenCV's
 * imread as upstream's example does, so both networks see the same bytes.
 * Boxes and landmarks are compared as upstream returns them, truncated to
 * integers. Upstream's own SIMD and scalar builds differ by a pixel in a
 * landmark, and float rounding differs between any two implementations, so
 * the agreement is: at least 99% of the boxes of each side have a box on
 * the other with IoU >= 0.9, and matched faces have scores within 0.01 and
 * landmarks within 2 pixels.
 */
#include "test-util.h"
#include "femo-json.h"
#include "femo-yunet.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#define MIN_IOU 0.9
#define MIN_MATCHED 0.99
#define MAX_SCORE_DIFF 0.01
#define MAX_LANDMARK_DIFF 2

static const gchar *decode_script;

/* A face as upstream's result buffer has it. */
typedef struct
{
  gdouble score;
  gint box[4];                  /* x, y, w, h */
  gint lm[2 * FEMO_YUNET_N_LANDMARKS];
} Face;

static Face
from_ours (const FemoYunetFace * f)
{
  Face r = { f->score, {(gint) f->x1, (gint) f->y1, (gint) (f->x2 - f->x1),
      (gint) (f->y2 - f->y1)}, {0}
  };

  for (guint k = 0; k < 2 * FEMO_YUNET_N_LANDMARKS; k++)
    r.lm[k] = (gint) f->landmarks[k];
  return r;
}

static Face
from_json (const FemoJson * d)
{
  const FemoJson *box = femo_json_object_get (d, "box");
  const FemoJson *lm = femo_json_object_get (d, "landmarks");
  Face r;

  r.score = femo_json_get_double (femo_json_object_get (d, "score"));
  for (guint i = 0; i < 4; i++)
    r.box[i] = femo_json_get_int (femo_json_array_get (box, i));
  g_assert_cmpuint (femo_json_get_length (lm), ==, FEMO_YUNET_N_LANDMARKS);
  for (guint k = 0; k < 2 * FEMO_YUNET_N_LANDMARKS; k++)
    r.lm[k] = femo_json_get_int (femo_json_array_get (femo_json_array_get (lm,
                k / 2), k % 2));
  return r;
}

static gdouble
box_iou (const Face * a, const Face * b)
{
  const gdouble iw = MIN (a->box[0] + a->box[2], b->box[0] + b->box[2]) -
      MAX (a->box[0], b->box[0]);
  const gdouble ih = MIN (a->box[1] + a->box[3], b->box[1] + b->box[3]) -
      MAX (a->box[1], b->box[1]);

  if (iw <= 0 || ih <= 0)
    return 0.0;
  return iw * ih / ((gdouble) a->box[2] * a->box[3] +
      (gdouble) b->box[2] * b->box[3] - iw * ih);
}

/* Index of @f's best match among @others (IoU >= MIN_IOU), or -1. */
static gint
best_match (const Face * f, const Face * others, guint n)
{
  gint best = -1;
  gdouble best_iou = MIN_IOU;

  for (guint i = 0; i < n; i++) {
    const gdouble v = box_iou (f, &others[i]);
    if (v >= best_iou) {
      best_iou = v;
      best = i;
    }
  }
  return best;
}

static void
test_reference (void)
{
  g_autofree gchar *ref_path = femo_test_shared_path
      ("media/reference-yunet.json");
  g_autofree gchar *media = femo_test_shared_path ("media");
  g_autofree gchar *model = g_build_filename (g_getenv ("FEMO_MODEL_DIR"),
      "yunet.safetensors", NULL);
  g_autofree gchar *dir = g_dir_make_tmp ("test-yunet-ref-XXXXXX", NULL);
  gsize len;
  g_autofree gchar *text = femo_test_read_file (ref_path, &len);
  g_autoptr (FemoJson) ref = femo_json_parse (text, len, NULL);
  const FemoJson *images;
  g_autoptr (GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;
  g_autoptr (FemoYunet) net = NULL;
  g_autofree FemoYunetFace *found = g_new (FemoYunetFace,
      FEMO_YUNET_KEEP_TOP_K);
  guint n_ref = 0, n_ours = 0, ref_matched = 0, ours_matched = 0, same = 0;
  gdouble worst_score = 0.0;
  gint worst_lm = 0;
  const gchar *worst_score_image = "-", *worst_lm_image = "-";

  g_assert_nonnull (ref);
  g_assert_cmpfloat ((gfloat) femo_json_get_double (femo_json_object_get (ref,
              "threshold")), ==, FEMO_YUNET_UPSTREAM_THRESHOLD);
  images = femo_json_object_get (ref, "images");
  g_assert_cmpuint (femo_json_get_length (images), ==, 40);
  for (guint i = 0; i < femo_json_get_length (images); i++)
    g_ptr_array_add (paths, g_build_filename (media,
            femo_json_object_key_at (images, i), NULL));
  g_ptr_array_add (paths, NULL);
  femo_test_decode_cv2 (decode_script, dir,
      (const gchar * const *) paths->pdata);

  /* one thread per core: the threads' split is part of what is checked */
  net = femo_yunet_new_from_file (model, 0, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < femo_json_get_length (images); i++) {
    const gchar *name = femo_json_object_key_at (images, i);
    const FemoJson *img = femo_json_object_value_at (images, i);
    const FemoJson *dets = femo_json_object_get (img, "detections");
    const FemoRgbLayout rgb = { 3, 0, 1, 2 };
    g_autofree gchar *base = g_strconcat (name, ".ppm", NULL);
    g_autofree gchar *ppm = g_build_filename (dir, base, NULL);
    g_autofree guint8 *pixels = NULL;
    g_autofree Face *theirs = NULL, *ours = NULL;
    guint nt, no, image_misses = 0;
    gint width, height;

    pixels = femo_test_read_ppm (ppm, &width, &height);
    g_unlink (ppm);
    g_assert_cmpint (width, ==, femo_json_get_int (femo_json_object_get (img,
                "width")));
    g_assert_cmpint (height, ==, femo_json_get_int (femo_json_object_get (img,
                "height")));
    no = femo_yunet_detect (net, pixels, width, height, 3 * width, &rgb,
        FEMO_YUNET_UPSTREAM_THRESHOLD, found, FEMO_YUNET_KEEP_TOP_K, &error);
    g_assert_no_error (error);
    nt = femo_json_get_length (dets);
    theirs = g_new (Face, nt + 1);
    ours = g_new (Face, no + 1);
    for (guint k = 0; k < nt; k++)
      theirs[k] = from_json (femo_json_array_get (dets, k));
    for (guint k = 0; k < no; k++)
      ours[k] = from_ours (&found[k]);

    for (guint k = 0; k < nt; k++) {
      const gint m = best_match (&theirs[k], ours, no);
      gint lm = 0;
      if (m < 0) {
        image_misses++;
        g_printerr ("%s: upstream's face %u (score %.3f, box %d,%d %dx%d) "
            "has no match\n", name, k, theirs[k].score, theirs[k].box[0],
            theirs[k].box[1], theirs[k].box[2], theirs[k].box[3]);
        continue;
      }
      ref_matched++;
      if (fabs (ours[m].score - theirs[k].score) > worst_score) {
        worst_score = fabs (ours[m].score - theirs[k].score);
        worst_score_image = name;
      }
      for (guint c = 0; c < 2 * FEMO_YUNET_N_LANDMARKS; c++)
        lm = MAX (lm, ABS (ours[m].lm[c] - theirs[k].lm[c]));
      if (!memcmp (ours[m].box, theirs[k].box, sizeof (ours[m].box))
          && !memcmp (ours[m].lm, theirs[k].lm, sizeof (ours[m].lm)))
        same++;
      if (lm > worst_lm) {
        worst_lm = lm;
        worst_lm_image = name;
      }
    }
    for (guint k = 0; k < no; k++) {
      if (best_match (&ours[k], theirs, nt) >= 0) {
        ours_matched++;
        continue;
      }
      image_misses++;
      g_printerr ("%s: our face %u (score %.3f, box %d,%d %dx%d) has no "
          "match\n", name, k, ours[k].score, ours[k].box[0], ours[k].box[1],
          ours[k].box[2], ours[k].box[3]);
    }
    g_printerr ("%-32s %4dx%-4d upstream %2u faces, ours %2u%s\n", name,
        width, height, nt, no, image_misses ? " (see above)" : "");
    n_ref += nt;
    n_ours += no;
  }
  g_rmdir (dir);
  g_printerr ("upstream's faces matched: %u of %u; ours matched: %u of %u; "
      "box and landmarks identical: %u\nlargest score difference %.6f (%s), "
      "landmark difference %d px (%s)\n", ref_matched, n_ref, ours_matched,
      n_ours, same, worst_score, worst_score_image, worst_lm,
      worst_lm_image);
  g_assert_cmpuint (n_ref, >, 0);
  g_assert_cmpfloat (ref_matched, >=, MIN_MATCHED * n_ref);
  g_assert_cmpfloat (ours_matched, >=, MIN_MATCHED * n_ours);
  g_assert_cmpfloat (worst_score, <=, MAX_SCORE_DIFF);
  g_assert_cmpint (worst_lm, <=, MAX_LANDMARK_DIFF);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_assert_cmpint (argc, ==, 2);
  decode_script = argv[1];
  g_test_add_func ("/yunet/reference", test_reference);
  return g_test_run ();
}
