/* gst-femo benchmark: femodetect's merge-overlaps on the shared photos
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   bench-merge-overlaps [THRESHOLD...]    (run through meson devenv or
 *                                           with FEMO_SHARED_DIR set)
 *
 * For each threshold (default: 0 = off, then 0.5 to 0.9) the analyzer runs
 * on every photo of ../shared/media/reference.json with femodetect's
 * default detection (sf 1.1, mn 3, min size 30; gray decoded as the
 * cascade-reference test does) and prints how many boxes merging removed
 * and on which photos, and recall and precision at IoU 0.5 against the
 * ground truth of the dlib_* photos (greedy one-to-one matching, best IoU
 * first, as reference.json's own evaluation). Prints figures; never fails
 * on them.
 */
#include "config.h"
#include "femo-analyzer.h"
#include "femo-json.h"
#include "test-util.h"

#include <stdlib.h>

typedef struct
{
  gchar *name;
  guint8 *gray;
  gint width, height;
  GArray *truth;                /* FemoRect */
} Photo;

static gdouble
iou (const FemoRect * a, const FemoRect * b)
{
  gdouble iw = MIN (a->x + a->width, b->x + b->width) - MAX (a->x, b->x);
  gdouble ih = MIN (a->y + a->height, b->y + b->height) - MAX (a->y, b->y);
  gdouble inter;

  if (iw <= 0 || ih <= 0)
    return 0;
  inter = iw * ih;
  return inter / ((gdouble) a->width * a->height
      + (gdouble) b->width * b->height - inter);
}

/* True positives of @faces against @truth at IoU >= 0.5. */
static guint
match (const FemoAnalyzedFace * faces, guint n, GArray * truth)
{
  gboolean *used_face = g_new0 (gboolean, n);
  gboolean *used_truth = g_new0 (gboolean, truth->len);
  guint tp = 0;

  for (;;) {
    gdouble best = 0.5;
    guint bi = 0, bj = 0;
    gboolean found = FALSE;

    for (guint i = 0; i < n; i++)
      for (guint j = 0; j < truth->len; j++) {
        gdouble o;

        if (used_face[i] || used_truth[j])
          continue;
        o = iou (&faces[i].box, &g_array_index (truth, FemoRect, j));
        if (o >= best) {
          best = o;
          bi = i;
          bj = j;
          found = TRUE;
        }
      }
    if (!found)
      break;
    used_face[bi] = used_truth[bj] = TRUE;
    tp++;
  }
  g_free (used_face);
  g_free (used_truth);
  return tp;
}

static GPtrArray *
load_photos (void)
{
  gchar *path = femo_test_shared_path ("media/reference.json");
  gsize length;
  gchar *text = femo_test_read_file (path, &length);
  GError *error = NULL;
  FemoJson *json = femo_json_parse (text, length, &error);
  const FemoJson *images;
  GPtrArray *photos = g_ptr_array_new ();

  g_assert_no_error (error);
  images = femo_json_object_get (json, "images");
  for (guint i = 0; i < femo_json_get_length (images); i++) {
    const FemoJson *truth = femo_json_object_get (femo_json_object_value_at
        (images, i), "ground_truth");
    Photo *p = g_new0 (Photo, 1);
    gchar *relative;
    gchar *file;

    p->name = g_strdup (femo_json_object_key_at (images, i));
    relative = g_build_filename ("media", p->name, NULL);
    file = femo_test_shared_path (relative);
    p->gray = femo_test_load_image (file, GST_VIDEO_FORMAT_GRAY8, &p->width,
        &p->height, &error);
    g_assert_no_error (error);
    p->truth = g_array_new (FALSE, FALSE, sizeof (FemoRect));
    for (guint j = 0; truth != NULL && j < femo_json_get_length (truth); j++) {
      const FemoJson *r = femo_json_array_get (truth, j);
      FemoRect box = {
        femo_json_get_int (femo_json_array_get (r, 0)),
        femo_json_get_int (femo_json_array_get (r, 1)),
        femo_json_get_int (femo_json_array_get (r, 2)),
        femo_json_get_int (femo_json_array_get (r, 3)), 0
      };
      g_array_append_val (p->truth, box);
    }
    g_ptr_array_add (photos, p);
    g_free (file);
    g_free (relative);
  }
  femo_json_free (json);
  g_free (text);
  g_free (path);
  return photos;
}

int
main (int argc, char **argv)
{
  const gdouble defaults[] = { 0, 0.5, 0.6, 0.7, 0.8, 0.9 };
  GArray *thresholds = g_array_new (FALSE, FALSE, sizeof (gdouble));
  gchar *cascade = NULL;
  FemoAnalyzer *a = femo_analyzer_new ();
  GError *error = NULL;
  GPtrArray *photos;

  gst_init (&argc, &argv);
  for (gint i = 1; i < argc; i++) {
    gdouble t = g_ascii_strtod (argv[i], NULL);

    g_array_append_val (thresholds, t);
  }
  if (thresholds->len == 0)
    g_array_append_vals (thresholds, defaults, G_N_ELEMENTS (defaults));
  cascade = femo_test_cascade_path (FEMO_TEST_DEFAULT_CASCADE);
  if (!femo_analyzer_load_detector (a, FEMO_FACE_DETECTOR_CASCADE, cascade, 0,
          &error))
    g_error ("%s", error->message);
  photos = load_photos ();

  g_print ("threshold  boxes  removed  photos  GT: tp  fp  fn  recall  "
      "precision\n");
  for (guint t = 0; t < thresholds->len; t++) {
    FemoAnalyzerSettings s;
    guint boxes = 0, removed = 0, n_photos = 0, tp = 0, fp = 0, fn = 0;
    GString *where = g_string_new (NULL);

    femo_analyzer_settings_init (&s);
    s.classify = FALSE;
    s.tracking = FALSE;
    for (guint i = 0; i < photos->len; i++) {
      Photo *p = g_ptr_array_index (photos, i);
      FemoAnalyzerFrame f = { {p->gray, p->width, p->height, p->width, 1}, };
      FemoAnalyzerResult r;
      guint all;

      f.par_n = f.par_d = 1;
      f.time_ns = FEMO_ANALYZER_TIME_NONE;
      s.merge_overlaps = 0;
      g_assert_true (femo_analyzer_process (a, &s, &f, &r, NULL));
      all = r.n_faces;
      s.merge_overlaps = g_array_index (thresholds, gdouble, t);
      g_assert_true (femo_analyzer_process (a, &s, &f, &r, NULL));
      boxes += r.n_faces;
      if (r.n_faces < all) {
        removed += all - r.n_faces;
        n_photos++;
        g_string_append_printf (where, " %s(-%u)", p->name,
            (guint) (all - r.n_faces));
      }
      if (p->truth->len > 0) {
        guint m = match (r.faces, r.n_faces, p->truth);

        tp += m;
        fp += r.n_faces - m;
        fn += p->truth->len - m;
      }
    }
    g_print ("%9.2f  %5u  %7u  %6u  %6u %3u %3u  %6.3f  %9.3f\n",
        g_array_index (thresholds, gdouble, t), boxes, removed, n_photos, tp,
        fp, fn, (gdouble) tp / (tp + fn), (gdouble) tp / (tp + fp));
    if (where->len > 0)
      g_print ("           removed on:%s\n", where->str);
    g_string_free (where, TRUE);
  }
  femo_analyzer_free (a);
  g_free (cascade);
  return 0;
}
