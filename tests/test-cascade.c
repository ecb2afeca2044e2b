/* gst-femo tests: cascade loading (every Debian cascade, broken files) and
 * detector behaviour (threads, sizes, max-faces).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "femo-cascade.h"
#include "femo-error.h"
#include "test-util.h"

#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* the folders of Debian's opencv-data below FEMO_CASCADE_DIR */
static const gchar *const cascade_dirs[] = { "haarcascades", "lbpcascades" };

/* A valid two-stage Haar cascade with a 6x6 window; the tests break it in
 * one place at a time. */
static const gchar *const good_haar =
    "<?xml version=\"1.0\"?>\n<opencv_storage>\n"
    "<cascade type_id=\"opencv-cascade-classifier\">"
    "<stageType>BOOST</stageType><featureType>@TYPE@</featureType>"
    "<height>6</height><width>6</width>"
    "<featureParams><maxCatCount>0</maxCatCount></featureParams>"
    "<stages>"
    "<_><maxWeakCount>1</maxWeakCount><stageThreshold>-1.5</stageThreshold>"
    "<weakClassifiers><_><internalNodes>0 -1 @FEAT@ 0.5</internalNodes>"
    "<leafValues>@LEAVES@</leafValues></_></weakClassifiers></_>"
    "@STAGE2@"
    "</stages><features>"
    "<_><rects><_>0 0 6 6 -1.</_><_>@RECT@</_></rects></_>"
    "<_><rects><_>2 0 2 2 1.</_><_>2 2 2 2 -1.</_></rects><tilted>1</tilted></_>"
    "</features></cascade></opencv_storage>\n";

static gchar *
make_xml (const gchar * type, const gchar * feat, const gchar * leaves,
    const gchar * stage2, const gchar * rect)
{
  const gchar *keys[] =
      { "@TYPE@", "@FEAT@", "@LEAVES@", "@STAGE2@", "@RECT@" };
  const gchar *vals[] = { type, feat, leaves, stage2, rect };
  gchar *s = g_strdup (good_haar);

  for (guint i = 0; i < G_N_ELEMENTS (keys); i++) {
    gchar **parts = g_strsplit (s, keys[i], -1);
    g_free (s);
    s = g_strjoinv (vals[i], parts);
    g_strfreev (parts);
  }
  return s;
}

static const gchar *const stage2_ok =
    "<_><maxWeakCount>1</maxWeakCount><stageThreshold>-1.0</stageThreshold>"
    "<weakClassifiers><_><internalNodes>0 -1 1 0.0</internalNodes>"
    "<leafValues>1. -1.</leafValues></_></weakClassifiers></_>";

static gchar *
make_good (void)
{
  return make_xml ("HAAR", "0", "1. -1.", stage2_ok, "0 0 3 6 2.");
}

static void
check_broken (const gchar * xml, gssize len, gint code, const gchar * what)
{
  g_autoptr (GError) error = NULL;
  FemoCascade *c = femo_cascade_new_from_data (xml, len < 0 ? strlen (xml)
      : (gsize) len, "broken.xml", &error);

  g_assert_null (c);
  g_assert_error (error, FEMO_ERROR, code);
  /* the message names the file and the problem */
  g_assert_nonnull (strstr (error->message, "broken.xml"));
  if (what && !strstr (error->message, what))
    g_error ("'%s' does not mention '%s'", error->message, what);
}

static void
test_load_good_synthetic (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *xml = make_good ();
  g_autoptr (FemoCascade) c = femo_cascade_new_from_data (xml, strlen (xml),
      "good.xml", &error);
  gint w, h;

  g_assert_no_error (error);
  g_assert_nonnull (c);
  g_assert_cmpint (femo_cascade_get_kind (c), ==, FEMO_CASCADE_HAAR);
  femo_cascade_get_window_size (c, &w, &h);
  g_assert_cmpint (w, ==, 6);
  g_assert_cmpint (h, ==, 6);
  g_assert_cmpuint (femo_cascade_get_n_stages (c), ==, 2);
  g_assert_cmpuint (femo_cascade_get_n_features (c), ==, 2);
}

static void
test_load_broken (void)
{
  g_autofree gchar *good = make_good ();
  gchar *xml;

  /* truncated at many places: never a crash, always an error */
  for (gsize n = 0; n < strlen (good) - 20; n += 7) {
    g_autoptr (GError) error = NULL;
    FemoCascade *c = femo_cascade_new_from_data (good, n, "cut.xml", &error);
    g_assert_null (c);
    g_assert_nonnull (error);
    g_assert_nonnull (strstr (error->message, "cut.xml"));
  }
  check_broken ("", 0, FEMO_ERROR_PARSE, NULL);
  check_broken ("<opencv_storage><cascade>", -1, FEMO_ERROR_PARSE, NULL);
  check_broken ("<opencv_storage></opencv_storage>", -1, FEMO_ERROR_INVALID,
      "cascade");

  xml = make_xml ("HAAR", "0", "1. -1.", stage2_ok, "0 0 3 6 2.");
  {
    /* no stages */
    gchar *start = strstr (xml, "<stages>") + strlen ("<stages>");
    gchar *end = strstr (xml, "</stages>");
    g_autofree gchar *nostages = g_strdup_printf ("%.*s%s",
        (gint) (start - xml), xml, end);
    check_broken (nostages, -1, FEMO_ERROR_INVALID, "no stages");
  }
  g_free (xml);

  xml = make_xml ("HAAR", "0", "1. -1.", stage2_ok, "4 0 3 6 2.");
  check_broken (xml, -1, FEMO_ERROR_INVALID, "outside");
  g_free (xml);
  xml = make_xml ("HAAR", "0", "1. -1.", stage2_ok, "0 -1 3 6 2.");
  check_broken (xml, -1, FEMO_ERROR_INVALID, "outside");
  g_free (xml);
  /* corners whose int sums wrap around to inside the window */
  xml = make_xml ("HAAR", "0", "1. -1.", stage2_ok, "1 0 2147483647 6 2.");
  check_broken (xml, -1, FEMO_ERROR_INVALID, "outside");
  g_free (xml);
  xml = make_xml ("HAAR", "2", "1. -1.", stage2_ok, "0 0 3 6 2.");
  check_broken (xml, -1, FEMO_ERROR_INVALID, "feature index 2");
  g_free (xml);
  xml = make_xml ("HAAR", "-1", "1. -1.", stage2_ok, "0 0 3 6 2.");
  check_broken (xml, -1, FEMO_ERROR_INVALID, "feature index");
  g_free (xml);
  xml = make_xml ("HOG", "0", "1. -1.", stage2_ok, "0 0 3 6 2.");
  check_broken (xml, -1, FEMO_ERROR_UNSUPPORTED, "HOG");
  g_free (xml);
  xml = make_xml ("HAAR", "0", "1. -1. 3.", stage2_ok, "0 0 3 6 2.");
  check_broken (xml, -1, FEMO_ERROR_INVALID, "leaves");
  g_free (xml);
  xml = make_xml ("HAAR", "0", "1. nan", stage2_ok, "0 0 3 6 2.");
  check_broken (xml, -1, FEMO_ERROR_INVALID, "nan");
  g_free (xml);
  xml = make_xml ("HAAR", "0", "1. 1e999", stage2_ok, "0 0 3 6 2.");
  check_broken (xml, -1, FEMO_ERROR_INVALID, "1e999");
  g_free (xml);
  xml = make_xml ("HAAR", "0x1", "1. -1.", stage2_ok, "0 0 3 6 2.");
  check_broken (xml, -1, FEMO_ERROR_INVALID, "0x1");
  g_free (xml);
  xml = make_xml ("HAAR", "99999999999", "1. -1.", stage2_ok, "0 0 3 6 2.");
  check_broken (xml, -1, FEMO_ERROR_INVALID, "integer");
  g_free (xml);
  xml = make_xml ("HAAR", "0", "1. -1.", stage2_ok, "0 0 3 6 2. 7");
  check_broken (xml, -1, FEMO_ERROR_INVALID, "extra");
  g_free (xml);
  xml = make_xml ("HAAR", "0", "1. -1.", stage2_ok, "0 0 3");
  check_broken (xml, -1, FEMO_ERROR_INVALID, "too few");
  g_free (xml);
  /* the tilted feature leaves the window when the stage uses it widely */
  xml = make_xml ("HAAR", "0", "1. -1.", stage2_ok, "0 0 3 6 2.");
  {
    gchar **parts = g_strsplit (xml, "2 0 2 2 1.", -1);
    g_autofree gchar *bad = g_strjoinv ("1 0 2 2 1.", parts);
    g_strfreev (parts);
    check_broken (bad, -1, FEMO_ERROR_INVALID, "tilted rectangle");
  }
  g_free (xml);

  check_broken ("<opencv_storage><cascade type_id=\"opencv-haar-classifier\">"
      "<size>20 20</size></cascade></opencv_storage>", -1,
      FEMO_ERROR_UNSUPPORTED, "old-format");

  {
    g_autoptr (GError) error = NULL;
    g_assert_null (femo_cascade_new_from_file ("/nonexistent/c.xml", &error));
    g_assert_error (error, FEMO_ERROR, FEMO_ERROR_IO);
    g_assert_nonnull (strstr (error->message, "/nonexistent/c.xml"));
  }
}

/* Flipping single bytes of a real cascade must never crash. */
static void
test_load_mutations (void)
{
  g_autofree gchar *good = make_good ();
  gsize len = strlen (good);
  guint32 seed = 12345;

  for (gint i = 0; i < 2000; i++) {
    g_autofree gchar *m = g_strdup (good);
    g_autoptr (GError) error = NULL;
    FemoCascade *c;
    seed = seed * 1103515245u + 12345u;
    m[(seed >> 8) % len] = " <>/_01-9.eE\"x"[(seed >> 20) % 14];
    c = femo_cascade_new_from_data (m, len, "mutant.xml", &error);
    g_assert_true ((c == NULL) == (error != NULL));
    if (c)
      femo_cascade_unref (c);
  }
}

static void
test_load_debian (void)
{
  guint n_loaded = 0;

  for (guint d = 0; d < G_N_ELEMENTS (cascade_dirs); d++) {
    g_autofree gchar *folder = femo_test_cascade_path (cascade_dirs[d]);
    g_autoptr (GDir) dir = g_dir_open (folder, 0, NULL);
    const gchar *name;
    guint n_before = n_loaded;

    g_assert_nonnull (dir);
    while ((name = g_dir_read_name (dir))) {
      g_autofree gchar *path = g_build_filename (folder, name, NULL);
      g_autoptr (GError) error = NULL;
      g_autoptr (FemoCascade) c = NULL;
      if (!g_str_has_suffix (name, ".xml"))
        continue;
      c = femo_cascade_new_from_file (path, &error);
      if (strstr (name, "licence_plate_rus_16stages")) {
        /* the only old-format (opencv-haar-classifier) file */
        g_assert_error (error, FEMO_ERROR, FEMO_ERROR_UNSUPPORTED);
        continue;
      }
      g_assert_no_error (error);
      g_assert_cmpint (femo_cascade_get_kind (c), ==, d == 0
          ? FEMO_CASCADE_HAAR : FEMO_CASCADE_LBP);
      g_assert_cmpuint (femo_cascade_get_n_stages (c), >, 0);
      n_loaded++;
    }
    g_assert_cmpuint (n_loaded, >, n_before);
  }
  g_test_message ("%u Debian cascades loaded", n_loaded);
}

static guint8 *
load_gray (const gchar * name, gint * w, gint * h)
{
  g_autofree gchar *rel = g_strdup_printf ("media/gray/%s", name);
  g_autofree gchar *path = femo_test_shared_path (rel);
  g_autoptr (GError) error = NULL;
  guint8 *px = femo_test_load_image (path, GST_VIDEO_FORMAT_GRAY8, w, h,
      &error);

  g_assert_no_error (error);
  return px;
}

static gboolean
same_rects (const FemoRect * a, gsize na, const FemoRect * b, gsize nb)
{
  return na == nb && memcmp (a, b, na * sizeof (FemoRect)) == 0;
}

static void
test_detect_threads (void)
{
  g_autoptr (FemoCascade) c = NULL;
  gint w, h;
  g_autofree guint8 *px = NULL;
  FemoDetectParams p = FEMO_DETECT_PARAMS_INIT;
  FemoRect r1[64], r2[64], r3[64];
  gsize n1, n2, n3;

  c = femo_test_cascade_new (FEMO_TEST_DEFAULT_CASCADE);
  px = load_gray ("ulfd_20.png", &w, &h);
  {
    FemoImageView v = { px, w, h, w, 1 };
    g_autoptr (FemoDetector) d1 = femo_detector_new (c, 1);
    g_autoptr (FemoDetector) d2 = femo_detector_new (c, 2);
    g_autoptr (FemoDetector) d5 = femo_detector_new (c, 5);

    g_assert_cmpuint (femo_detector_get_n_threads (d2), ==, 2);
    n1 = femo_detector_detect (d1, &v, &p, r1, 64);
    n2 = femo_detector_detect (d2, &v, &p, r2, 64);
    n3 = femo_detector_detect (d5, &v, &p, r3, 64);
    g_assert_cmpuint (n1, >=, 5);
    g_assert_true (same_rects (r1, n1, r2, n2));
    g_assert_true (same_rects (r1, n1, r3, n3));
    /* again, reusing the buffers, and after a smaller image */
    {
      FemoImageView small = { px, w / 2, h / 2, w, 1 };
      femo_detector_detect (d2, &small, &p, r3, 64);
    }
    n3 = femo_detector_detect (d2, &v, &p, r3, 64);
    g_assert_true (same_rects (r1, n1, r3, n3));
    /* sorted by y, then x */
    for (gsize i = 1; i < n1; i++)
      g_assert_true (r1[i - 1].y < r1[i].y || (r1[i - 1].y == r1[i].y
              && r1[i - 1].x <= r1[i].x));
    for (gsize i = 0; i < n1; i++)
      g_assert_cmpint (r1[i].neighbors, >, p.min_neighbors);

    /* the Y of a packed 2-byte format gives the same boxes */
    {
      g_autofree guint8 *packed = g_malloc ((gsize) w * h * 2);
      FemoImageView pv = { packed, w, h, w * 2, 2 };
      for (gsize i = 0; i < (gsize) w * h; i++) {
        packed[2 * i] = px[i];
        packed[2 * i + 1] = 0x80;
      }
      n3 = femo_detector_detect (d2, &pv, &p, r3, 64);
      g_assert_true (same_rects (r1, n1, r3, n3));
    }
  }
}

static void
test_detect_sizes (void)
{
  g_autoptr (FemoCascade) c = NULL;
  g_autoptr (FemoDetector) d = NULL;
  gint w, h;
  g_autofree guint8 *px = NULL;
  FemoDetectParams p = FEMO_DETECT_PARAMS_INIT;
  FemoRect all[64], r[64];
  gsize n_all, n, i;
  gint largest = 0, smallest = G_MAXINT;
  FemoImageView v;

  c = femo_test_cascade_new (FEMO_TEST_DEFAULT_CASCADE);
  d = femo_detector_new (c, 2);
  px = load_gray ("ulfd_20.png", &w, &h);
  v = (FemoImageView) {
  px, w, h, w, 1};

  n_all = femo_detector_detect (d, &v, &p, all, 64);
  g_assert_cmpuint (n_all, >=, 5);
  for (i = 0; i < n_all; i++) {
    largest = MAX (largest, all[i].width);
    smallest = MIN (smallest, all[i].width);
  }
  g_assert_cmpint (largest, >, smallest);

  /* max_faces keeps the largest, still sorted by position */
  p.max_faces = 2;
  n = femo_detector_detect (d, &v, &p, r, 64);
  g_assert_cmpuint (n, ==, 2);
  for (i = 0; i < n; i++) {
    guint bigger = 0;
    for (gsize j = 0; j < n_all; j++)
      bigger += all[j].width * all[j].height > r[i].width * r[i].height;
    g_assert_cmpuint (bigger, <, 2);
  }
  g_assert_cmpint (r[0].y, <=, r[1].y);
  /* capacity acts the same way */
  p.max_faces = 0;
  g_assert_cmpuint (femo_detector_detect (d, &v, &p, r, 1), ==, 1);
  g_assert_cmpint (r[0].width, ==, largest);

  /* min size: no box below it; max size: none above */
  p.min_width = p.min_height = largest;
  n = femo_detector_detect (d, &v, &p, r, 64);
  for (i = 0; i < n; i++)
    g_assert_cmpint (r[i].width, >=, largest * 8 / 10);
  g_assert_cmpuint (n, <, n_all);
  p.min_width = p.min_height = 30;
  p.max_width = p.max_height = smallest + 10;
  n = femo_detector_detect (d, &v, &p, r, 64);
  g_assert_cmpuint (n, >, 0);
  g_assert_cmpuint (n, <, n_all);
  for (i = 0; i < n; i++)
    g_assert_cmpint (r[i].width, <=, (smallest + 10) * 12 / 10);

  /* an image smaller than the window finds nothing */
  p.max_width = p.max_height = 0;
  v.width = v.height = 20;
  g_assert_cmpuint (femo_detector_detect (d, &v, &p, r, 64), ==, 0);
  /* a flat image neither */
  {
    guint8 flat[64 * 64];
    FemoImageView fv = { flat, 64, 64, 64, 1 };
    memset (flat, 77, sizeof flat);
    g_assert_cmpuint (femo_detector_detect (d, &fv, &p, r, 64), ==, 0);
  }
  /* scale factors below 1.01 are refused: more levels than the scan plans
   * for (it used to stop at its limit without a word) */
  p.scale_factor = 1.005;
  g_test_expect_message ("femo", G_LOG_LEVEL_CRITICAL, "*scale_factor*");
  g_assert_cmpuint (femo_detector_detect (d, &v, &p, r, 64), ==, 0);
  g_test_assert_expected_messages ();
  /* rows whose last pixel lies past the stride, by more than an int holds
   * ((width - 1) * pixel_stride wrapped to negative) */
  p.scale_factor = 1.1;
  v = (FemoImageView) {
  px, 32768, 1, 100, 1 << 20};
  g_test_expect_message ("femo", G_LOG_LEVEL_CRITICAL, "*stride*");
  g_assert_cmpuint (femo_detector_detect (d, &v, &p, r, 64), ==, 0);
  g_test_assert_expected_messages ();
}

/* Raw candidates (min_neighbors 0) of the SIMD path and of the scalar
 * path forced by FEMO_CASCADE_SIMD=0: the same for every Debian cascade, on
 * a face image with a flat band (flat windows) and an odd width (groups of
 * windows cut by the row end), at both window steps.  The scalar detectors
 * have one thread, so the environment changes before any thread starts. */
static void
test_detect_simd (void)
{
  g_autoptr (GPtrArray) cascades =
      g_ptr_array_new_with_free_func ((GDestroyNotify) femo_cascade_unref);
  g_autoptr (GPtrArray) scalar =
      g_ptr_array_new_with_free_func ((GDestroyNotify) femo_detector_free);
  gint w, h;
  g_autofree guint8 *px = load_gray ("ulfd_20.png", &w, &h);
  const gsize cap = 100000;
  g_autofree FemoRect *r1 = g_new (FemoRect, cap);
  g_autofree FemoRect *r2 = g_new (FemoRect, cap);
  FemoImageView v = { px, w - 1, h, w, 1 };
  FemoDetectParams p = FEMO_DETECT_PARAMS_INIT;
  gsize total = 0;

  for (gint y = h / 3; y < h / 2; y++)
    memset (px + (gsize) y * w, 90, w);
  p.scale_factor = 1.15;
  p.min_neighbors = 0;
  p.min_width = p.min_height = 0;

  g_setenv ("FEMO_CASCADE_SIMD", "0", TRUE);
  for (guint di = 0; di < G_N_ELEMENTS (cascade_dirs); di++) {
    g_autofree gchar *folder = femo_test_cascade_path (cascade_dirs[di]);
    g_autoptr (GDir) dir = g_dir_open (folder, 0, NULL);
    const gchar *name;

    g_assert_nonnull (dir);
    while ((name = g_dir_read_name (dir))) {
      g_autofree gchar *path = g_build_filename (folder, name, NULL);
      FemoCascade *c;
      if (!g_str_has_suffix (name, ".xml"))
        continue;
      c = femo_cascade_new_from_file (path, NULL);
      if (c == NULL)
        continue;
      g_ptr_array_add (cascades, c);
      g_ptr_array_add (scalar, femo_detector_new (c, 1));
    }
  }
  g_unsetenv ("FEMO_CASCADE_SIMD");

  for (guint ci = 0; ci < cascades->len; ci++) {
    g_autoptr (FemoDetector) simd =
        femo_detector_new (g_ptr_array_index (cascades, ci), 2);
    gsize n1, n2, i;

    n1 = femo_detector_detect (g_ptr_array_index (scalar, ci), &v, &p, r1,
        cap);
    n2 = femo_detector_detect (simd, &v, &p, r2, cap);
    for (i = 0; i < MIN (n1, n2); i++)
      if (memcmp (&r1[i], &r2[i], sizeof (FemoRect)) != 0)
        break;
    if (i < MAX (n1, n2))
      g_error ("cascade %u: scalar %" G_GSIZE_FORMAT " candidates, SIMD %"
          G_GSIZE_FORMAT "; first difference at %" G_GSIZE_FORMAT, ci, n1,
          n2, i);
    g_assert_cmpuint (n1, <, cap);
    total += n1;
  }
  g_assert_cmpuint (total, >, 1000);
  g_test_message ("%u cascades, %" G_GSIZE_FORMAT " candidates identical",
      cascades->len, total);
}

/* The widest frame femo_detector_detect takes, 32768 pixels (32 x 2 copies
 * of a photo): one thread scans it in stripes of bounded height (a stripe
 * of a whole scale took 9 bytes per pixel of the scale, 200 MB here and
 * gigabytes on a tall frame), with the boxes of 5 threads' stripes. In a
 * subprocess, for its peak memory. */
static void
test_detect_wide_frame (void)
{
  g_autoptr (FemoCascade) c = NULL;
  g_autofree guint8 *px = NULL, *wide = NULL;
  g_autofree FemoRect *r1 = g_new (FemoRect, 4096);
  g_autofree FemoRect *r5 = g_new (FemoRect, 4096);
  FemoDetectParams p = FEMO_DETECT_PARAMS_INIT;
  const gint ww = 32768;
  struct rusage before, after;
  gsize n1, n5;
  gint w, h;

  if (!g_test_subprocess ()) {
    g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
    g_test_trap_assert_passed ();
    return;
  }
  c = femo_test_cascade_new (FEMO_TEST_DEFAULT_CASCADE);
  px = load_gray ("ulfd_20.png", &w, &h);
  wide = g_malloc ((gsize) ww * 2 * h);
  for (gint y = 0; y < 2 * h; y++)
    for (gint x = 0; x < ww; x += w)
      memcpy (wide + (gsize) y * ww + x, px + (gsize) (y % h) * w,
          MIN (w, ww - x));
  /* the small faces only: a few scales, 1.25 to 2 */
  p.max_width = p.max_height = 48;
  {
    FemoImageView v = { wide, ww, 2 * h, ww, 1 };
    g_autoptr (FemoDetector) d1 = femo_detector_new (c, 1);
    g_autoptr (FemoDetector) d5 = femo_detector_new (c, 5);

    getrusage (RUSAGE_SELF, &before);
    n1 = femo_detector_detect (d1, &v, &p, r1, 4096);
    getrusage (RUSAGE_SELF, &after);
    n5 = femo_detector_detect (d5, &v, &p, r5, 4096);
  }
  g_printerr ("%" G_GSIZE_FORMAT " boxes; one thread's scan raised the peak "
      "memory by %ld kB\n", n1, after.ru_maxrss - before.ru_maxrss);
  g_assert_cmpuint (n1, >=, 10);
  g_assert_cmpuint (n1, <, 4096);
  g_assert_true (same_rects (r1, n1, r5, n5));
  g_assert_cmpint (after.ru_maxrss - before.ru_maxrss, <, 100 * 1024);
}

/* A cascade that accepts every window (not flat) on noise: millions of
 * raw windows. With less memory than they take, the scan gives no boxes
 * and a warning instead of aborting the process, and the next scan with
 * enough memory works. In a subprocess, under an address-space limit
 * (which AddressSanitizer cannot run under). */
static void
test_detect_out_of_memory (void)
{
  g_autofree gchar *xml = make_xml ("HAAR", "0", "1. 1.", stage2_ok,
      "0 0 3 6 2.");
  g_autoptr (FemoCascade) c = NULL;
  g_autoptr (FemoDetector) d = NULL;
  g_autofree guint8 *px = g_malloc (512 * 512);
  FemoImageView v = { px, 512, 512, 512, 1 };
  FemoDetectParams p = FEMO_DETECT_PARAMS_INIT;
  FemoRect r[16];
  struct rlimit old;

#ifdef __SANITIZE_ADDRESS__
  g_test_skip ("an address-space limit stops AddressSanitizer itself");
  return;
#endif
  if (!g_test_subprocess ()) {
    g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
    g_test_trap_assert_passed ();
    return;
  }
  c = femo_cascade_new_from_data (xml, strlen (xml), "all.xml", NULL);
  d = femo_detector_new (c, 1);
  for (gsize i = 0; i < 512 * 512; i++)
    px[i] = g_test_rand_int_range (0, 256);
  p.min_neighbors = 0;
  p.min_width = p.min_height = 0;

  femo_test_limit_memory (16 * 1024 * 1024, &old);
  g_test_expect_message ("femo", G_LOG_LEVEL_WARNING,
      "out of memory scanning a 512x512 frame*");
  g_assert_cmpuint (femo_detector_detect (d, &v, &p, r, 16), ==, 0);
  g_test_assert_expected_messages ();
  g_assert_cmpint (setrlimit (RLIMIT_AS, &old), ==, 0);
  g_assert_cmpuint (femo_detector_detect (d, &v, &p, r, 16), ==, 16);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/cascade/load/synthetic", test_load_good_synthetic);
  g_test_add_func ("/cascade/load/broken", test_load_broken);
  g_test_add_func ("/cascade/load/mutations", test_load_mutations);
  g_test_add_func ("/cascade/load/debian", test_load_debian);
  g_test_add_func ("/cascade/detect/threads", test_detect_threads);
  g_test_add_func ("/cascade/detect/sizes", test_detect_sizes);
  g_test_add_func ("/cascade/detect/simd", test_detect_simd);
  g_test_add_func ("/cascade/detect/wide-frame", test_detect_wide_frame);
  g_test_add_func ("/cascade/detect/out-of-memory",
      test_detect_out_of_memory);
  return g_test_run ();
}
