/* gst-femo tests: agreement of our cascade detector with OpenCV 4.6's
 * detectMultiScale on the shared photographs (exact gray inputs).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Haar: ../shared/media/reference.json (haarcascade_frontalface_default);
 * LBP: tests/data/reference-lbp.json (lbpcascade_frontalface_improved, made
 * by tests/data/make_lbp_reference.py). Every box of every image and
 * parameter set must equal OpenCV's, as the README promises; the first
 * differences are printed when they do not.
 */
#include "femo-cascade.h"
#include "femo-json.h"
#include "test-util.h"

#include <stdlib.h>
#include <string.h>

#define MAX_BOXES 256
/* differences printed per parameter set before the test fails */
#define MAX_SHOWN 10

typedef struct
{
  gchar *name;
  guint8 *pixels;
  gint width, height;
} Image;

typedef struct
{
  GPtrArray *images;            /* Image*, decoded once */
} Fixture;

static void
image_free (Image * im)
{
  g_free (im->name);
  g_free (im->pixels);
  g_free (im);
}

/* The reference's order: by y, x, width, height. */
static gint
compare_rects (gconstpointer pa, gconstpointer pb)
{
  const FemoRect *a = pa, *b = pb;

  if (a->y != b->y)
    return a->y < b->y ? -1 : 1;
  if (a->x != b->x)
    return a->x < b->x ? -1 : 1;
  if (a->width != b->width)
    return a->width < b->width ? -1 : 1;
  if (a->height != b->height)
    return a->height < b->height ? -1 : 1;
  return 0;
}

static gboolean
rect_equal (const FemoRect * a, const FemoRect * b)
{
  return compare_rects (a, b) == 0;
}

static void
print_rect (const gchar * who, const FemoRect * r)
{
  if (r)
    g_print ("      %s [%d, %d, %d, %d]\n", who, r->x, r->y, r->width,
        r->height);
  else
    g_print ("      %s -\n", who);
}

/* Compares two sorted lists box by box and prints the pairs that differ
 * (only while *@shown < MAX_SHOWN); returns how many positions differ. */
static guint
count_differences (const FemoRect * theirs, guint nt, const FemoRect * ours,
    guint no, guint * shown)
{
  guint differ = 0;

  for (guint i = 0; i < MAX (nt, no); i++) {
    const FemoRect *t = i < nt ? &theirs[i] : NULL;
    const FemoRect *o = i < no ? &ours[i] : NULL;

    if (t && o && rect_equal (t, o))
      continue;
    differ++;
    if ((*shown)++ < MAX_SHOWN) {
      g_print ("    box %u:\n", i);
      print_rect ("opencv", t);
      print_rect ("ours  ", o);
    }
  }
  return differ;
}

static const FemoJson *
get_member (const FemoJson * obj, const gchar * key, FemoJsonType type)
{
  const FemoJson *v = femo_json_object_get (obj, key);

  if (v == NULL || femo_json_get_node_type (v) != type)
    g_error ("reference: '%s' missing or not a %s", key,
        femo_json_type_name (type));
  return v;
}

static guint
read_boxes (const FemoJson * list, FemoRect * out)
{
  guint n = femo_json_get_length (list);

  g_assert_cmpuint (n, <=, MAX_BOXES);
  for (guint i = 0; i < n; i++) {
    const FemoJson *r = femo_json_array_get (list, i);
    g_assert_cmpuint (femo_json_get_length (r), ==, 4);
    out[i].x = femo_json_get_int (femo_json_array_get (r, 0));
    out[i].y = femo_json_get_int (femo_json_array_get (r, 1));
    out[i].width = femo_json_get_int (femo_json_array_get (r, 2));
    out[i].height = femo_json_get_int (femo_json_array_get (r, 3));
    out[i].neighbors = 0;
  }
  return n;
}

static Image *
find_image (Fixture * fx, const gchar * name)
{
  for (guint i = 0; i < fx->images->len; i++) {
    Image *im = g_ptr_array_index (fx->images, i);
    if (strcmp (im->name, name) == 0)
      return im;
  }
  return NULL;
}

/* Decodes the gray PNG of every reference image once and checks that its
 * pixels are exactly the ones OpenCV was given. */
static Image *
get_image (Fixture * fx, const gchar * name, const gchar * sha256)
{
  Image *im = find_image (fx, name);
  g_autofree gchar *base = NULL, *rel = NULL, *path = NULL, *digest = NULL;
  g_autoptr (GError) error = NULL;
  const gchar *dot;

  if (im)
    return im;
  dot = strrchr (name, '.');
  base = dot ? g_strndup (name, dot - name) : g_strdup (name);
  rel = g_strdup_printf ("media/gray/%s.png", base);
  path = femo_test_shared_path (rel);
  im = g_new0 (Image, 1);
  im->name = g_strdup (name);
  im->pixels = femo_test_load_image (path, GST_VIDEO_FORMAT_GRAY8,
      &im->width, &im->height, &error);
  g_assert_no_error (error);
  digest = g_compute_checksum_for_data (G_CHECKSUM_SHA256, im->pixels,
      (gsize) im->width * im->height);
  if (strcmp (digest, sha256) != 0)
    g_error ("%s: gray pixels hash to %s, reference says %s", path, digest,
        sha256);
  g_ptr_array_add (fx->images, im);
  return im;
}

static void
run_reference (Fixture * fx, const gchar * ref_path, const gchar * cascade_file)
{
  g_autofree gchar *cascade_path = femo_test_cascade_path (cascade_file);
  g_autoptr (GError) error = NULL;
  g_autoptr (FemoJson) ref = NULL;
  g_autoptr (FemoCascade) cascade = NULL;
  g_autoptr (FemoDetector) detector = NULL;
  g_autofree gchar *text = NULL, *want_sha = NULL;
  const FemoJson *params, *images, *sha;
  gsize len;

  text = femo_test_read_file (ref_path, &len);
  ref = femo_json_parse (text, len, &error);
  g_assert_no_error (error);

  /* the reference belongs to one exact cascade file */
  sha = femo_json_object_get (ref, "cascade_sha256");
  if (sha) {
    g_autofree gchar *xml = femo_test_read_file (cascade_path, &len);
    g_autofree gchar *digest = g_compute_checksum_for_string
        (G_CHECKSUM_SHA256, xml, len);
    if (strcmp (digest, femo_json_get_string (sha)) != 0)
      femo_test_missing ("%s is not the cascade the reference was made with",
          cascade_path);
  }

  cascade = femo_cascade_new_from_file (cascade_path, &error);
  g_assert_no_error (error);
  detector = femo_detector_new (cascade, 0);
  params = get_member (ref, "params", FEMO_JSON_OBJECT);
  images = get_member (ref, "images", FEMO_JSON_OBJECT);
  g_assert_cmpuint (femo_json_get_length (images), >, 0);

  for (guint k = 0; k < femo_json_get_length (params); k++) {
    const gchar *key = femo_json_object_key_at (params, k);
    const FemoJson *p = femo_json_object_value_at (params, k);
    const FemoJson *min_size = get_member (p, "minSize", FEMO_JSON_ARRAY);
    FemoDetectParams dp = FEMO_DETECT_PARAMS_INIT;
    guint ref_total = 0, differ_total = 0, shown = 0, exact = 0;

    dp.scale_factor = femo_json_get_double (get_member (p, "scaleFactor",
            FEMO_JSON_DOUBLE));
    dp.min_neighbors = femo_json_get_int (get_member (p, "minNeighbors",
            FEMO_JSON_INT));
    dp.min_width = femo_json_get_int (femo_json_array_get (min_size, 0));
    dp.min_height = femo_json_get_int (femo_json_array_get (min_size, 1));

    g_print ("%s %s:\n", cascade_path, key);
    for (guint i = 0; i < femo_json_get_length (images); i++) {
      const gchar *name = femo_json_object_key_at (images, i);
      const FemoJson *entry = femo_json_object_value_at (images, i);
      const FemoJson *dets = get_member (entry, "detections",
          FEMO_JSON_OBJECT);
      Image *im = get_image (fx, name, femo_json_get_string (get_member
              (entry, "gray_sha256", FEMO_JSON_STRING)));
      FemoImageView view = { im->pixels, im->width, im->height, im->width, 1 };
      FemoRect theirs[MAX_BOXES], ours[MAX_BOXES];
      guint nt, no, differ;

      nt = read_boxes (get_member (dets, key, FEMO_JSON_ARRAY), theirs);
      no = femo_detector_detect (detector, &view, &dp, ours, MAX_BOXES);
      g_assert_cmpuint (no, <, MAX_BOXES);
      qsort (ours, no, sizeof (FemoRect), compare_rects);
      g_print ("  %-36s opencv %2u ours %2u\n", name, nt, no);
      differ = count_differences (theirs, nt, ours, no, &shown);
      ref_total += nt;
      differ_total += differ;
      exact += differ == 0;
    }
    g_print ("  %u boxes from OpenCV, %u positions differ; %u of %u images "
        "identical\n", ref_total, differ_total, exact,
        femo_json_get_length (images));
    g_assert_cmpuint (ref_total, >, 0);
    g_assert_cmpuint (differ_total, ==, 0);
  }
}

static void
test_haar (Fixture * fx, gconstpointer data)
{
  g_autofree gchar *ref = femo_test_shared_path ("media/reference.json");

  run_reference (fx, ref, FEMO_TEST_DEFAULT_CASCADE);
}

static void
test_lbp (Fixture * fx, gconstpointer data)
{
  g_autofree gchar *ref = femo_test_data_path ("reference-lbp.json");

  run_reference (fx, ref, "lbpcascades/lbpcascade_frontalface_improved.xml");
}

static void
fixture_setup (Fixture * fx, gconstpointer data)
{
  fx->images = g_ptr_array_new_with_free_func ((GDestroyNotify) image_free);
}

static void
fixture_teardown (Fixture * fx, gconstpointer data)
{
  g_ptr_array_free (fx->images, TRUE);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/cascade-reference/haar", Fixture, NULL, fixture_setup,
      test_haar, fixture_teardown);
  g_test_add ("/cascade-reference/lbp", Fixture, NULL, fixture_setup,
      test_lbp, fixture_teardown);
  return g_test_run ();
}
