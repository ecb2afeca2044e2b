/* gst-femo benchmark: where FER2013's faces have their eyes.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * bench-fer-eyes FER2013_CSV YUNET_SAFETENSORS [STEP]
 *
 * Runs YuNet on every STEPth (default 1) FER2013 Training image, enlarged
 * from 48x48 to 192x192 (bilinear; YuNet's smallest anchors are too coarse
 * for a 48-pixel face), and takes the best face whose box centre lies in
 * the middle half of the image (FER2013's faces are centred; a score of
 * 0.5 or more). It prints the mean, median and standard deviation of the
 * two eyes' positions in the 48x48 image (continuous coordinates: 0.0 is
 * the left or top edge), the same for the faces' tilt, and YuNet's eyes on
 * the mean Training face itself: where femo_face_crop_aligned() puts the
 * eyes (FEMO_FACE_CROP_FER_*). A measurement; it never fails.
 */
#include "femo-fer.h"
#include "femo-image.h"
#include "femo-yunet.h"

#include <math.h>
#include <stdlib.h>

#define SCALE 4
#define SIDE (FEMO_FER_SIZE * SCALE)
#define MIN_SCORE 0.5f

enum
{ LX, LY, RX, RY, TILT, N_STATS };

static const gchar *const stat_names[N_STATS] = {
  "left eye x", "left eye y", "right eye x", "right eye y", "tilt (deg)",
};

/* The eyes of the best centred face YuNet finds in @gray48, in 48x48
 * pixels, into @eyes (LX..RY); FALSE when there is none. */
static gboolean
find_eyes (FemoYunet * net, const guint8 * gray48, gfloat * score,
    gdouble * eyes)
{
  const FemoImageView view = { gray48, FEMO_FER_SIZE, FEMO_FER_SIZE,
    FEMO_FER_SIZE, 1
  };
  const FemoRgbLayout bgr = FEMO_RGB_LAYOUT_BGR;
  guint8 big[SIDE * SIDE], color[SIDE * SIDE * 3];
  const FemoImageView big_view = { big, SIDE, SIDE, SIDE, 1 };
  FemoYunetFace faces[16];
  GError *error = NULL;
  gsize n, i;

  femo_image_resample (&view, 0, 0, FEMO_FER_SIZE, FEMO_FER_SIZE, big, SIDE,
      SIDE);
  femo_yuv_to_bgr (&big_view, NULL, color, SIDE * 3);
  n = femo_yunet_detect (net, color, SIDE, SIDE, SIDE * 3, &bgr, MIN_SCORE,
      faces, G_N_ELEMENTS (faces), &error);
  if (error != NULL) {
    g_printerr ("%s\n", error->message);
    exit (1);
  }
  /* highest score first */
  for (i = 0; i < n; i++) {
    gfloat cx = (faces[i].x1 + faces[i].x2) / 2;
    gfloat cy = (faces[i].y1 + faces[i].y2) / 2;

    if (fabsf (cx - SIDE / 2) > SIDE / 4 || fabsf (cy - SIDE / 2) > SIDE / 4)
      continue;
    for (gint k = 0; k < 4; k++)
      eyes[k] = faces[i].landmarks[k] / SCALE;
    *score = faces[i].score;
    return TRUE;
  }
  return FALSE;
}

static gint
compare_double (gconstpointer a, gconstpointer b)
{
  gdouble x = *(const gdouble *) a, y = *(const gdouble *) b;

  return x < y ? -1 : x > y;
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (FemoFerData) fer = NULL;
  g_autoptr (FemoYunet) net = NULL;
  const FemoFerSplit *train;
  gdouble mean_face[FEMO_FER_PIXELS] = { 0 };
  guint8 mean8[FEMO_FER_PIXELS];
  GArray *stats[N_STATS];
  guint step = argc > 3 ? (guint) atoi (argv[3]) : 1, n_tried = 0, i, k;
  gdouble eyes[4];
  gfloat score;

  if (argc < 3 || step == 0) {
    g_printerr ("usage: %s FER2013_CSV YUNET_SAFETENSORS [STEP]\n", argv[0]);
    return 2;
  }
  fer = femo_fer_load (argv[1], FEMO_FER_FLAGS_NONE, &error);
  if (fer != NULL)
    net = femo_yunet_new_from_file (argv[2], 1, &error);
  if (net == NULL) {
    g_printerr ("%s\n", error->message);
    return 1;
  }
  train = &fer->splits[FEMO_FER_TRAINING];
  for (k = 0; k < N_STATS; k++)
    stats[k] = g_array_new (FALSE, FALSE, sizeof (gdouble));
  for (i = 0; i < train->n; i++) {
    const guint8 *pixels = train->pixels + (gsize) i * FEMO_FER_PIXELS;

    for (k = 0; k < FEMO_FER_PIXELS; k++)
      mean_face[k] += pixels[k];
    if (i % step != 0)
      continue;
    n_tried++;
    if (find_eyes (net, pixels, &score, eyes)) {
      gdouble tilt = atan2 (eyes[RY] - eyes[LY], eyes[RX] - eyes[LX]) *
          180 / G_PI;

      for (k = 0; k < 4; k++)
        g_array_append_val (stats[k], eyes[k]);
      g_array_append_val (stats[TILT], tilt);
    }
  }

  g_print ("FER2013 Training: %u images tried (every %u), YuNet found a "
      "centred face of score >= %.1f in %u (%.1f%%), at %dx enlargement\n\n",
      n_tried, step, MIN_SCORE, stats[0]->len,
      100.0 * stats[0]->len / MAX (n_tried, 1), SCALE);
  g_print ("%-12s %8s %8s %8s\n", "", "mean", "median", "stddev");
  for (k = 0; k < N_STATS; k++) {
    GArray *a = stats[k];
    gdouble sum = 0, sq = 0, mean;

    for (i = 0; i < a->len; i++)
      sum += g_array_index (a, gdouble, i);
    mean = sum / MAX (a->len, 1);
    for (i = 0; i < a->len; i++)
      sq += pow (g_array_index (a, gdouble, i) - mean, 2);
    g_array_sort (a, compare_double);
    g_print ("%-12s %8.2f %8.2f %8.2f\n", stat_names[k], mean,
        a->len ? g_array_index (a, gdouble, a->len / 2) : 0.0,
        sqrt (sq / MAX (a->len, 1)));
    g_array_unref (a);
  }

  for (k = 0; k < FEMO_FER_PIXELS; k++)
    mean8[k] = (guint8) (mean_face[k] / MAX (train->n, 1) + 0.5);
  if (find_eyes (net, mean8, &score, eyes))
    g_print ("\nthe mean Training face (score %.3f): eyes at %.2f,%.2f and "
        "%.2f,%.2f\n", score, eyes[LX], eyes[LY], eyes[RX], eyes[RY]);
  else
    g_print ("\nthe mean Training face: no face of score >= %.1f\n",
        MIN_SCORE);
  return 0;
}
