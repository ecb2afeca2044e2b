/* gst-femo benchmark: which crop margin frames real faces as FER2013 does.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * bench-crop-margin FER2013_CSV MODEL DETECTOR IMAGE...
 *
 * Finds the faces of each IMAGE (any picture GStreamer decodes; use the
 * gray PNGs of the shared media set and frames of its videos) with
 * DETECTOR: a cascade XML at femodetect's defaults but min-neighbors 5
 * (fewer false faces), or YuNet's .safetensors at its default minimum
 * confidence. For each crop margin it crops them as femodetect does
 * (square, resampled to 48x48 with femo_image_resample), and with YuNet
 * also aligned on the eyes (femo_face_crop_aligned, femodetect's
 * align-faces). It prints, per margin (and "aligned"):
 *   corr   mean Pearson correlation of each crop with the mean FER2013
 *          Training face (for scale: FER2013's own Training faces score
 *          "fer corr" against it; real frontal faces found by a cascade are
 *          more alike than FER2013's, so they score higher);
 *   mcorr  correlation of the mean crop with the mean FER2013 face: the
 *          framing of the average face, insensitive to each face's
 *          expression and lighting; the margin where it peaks frames the
 *          faces as FER2013 does;
 *   maxp   the model's mean maximum probability (a confident model suggests
 *          familiar framing);
 *   H      the mean entropy of its output, in nats (lower = more confident).
 * A measurement to choose femodetect's DEFAULT_CROP_MARGIN; it never fails.
 */
#include "femo-face-crop.h"
#include "femo-face-detector.h"
#include "femo-fer.h"
#include "femo-image.h"
#include "femo-net.h"
#include "test-util.h"

#include <math.h>

static const gdouble margins[] = {
  -0.1, -0.05, -0.025, 0.0, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3,
  0.35, 0.4,
};

/* Pearson correlation of 48x48 bytes with a float image. */
static gdouble
correlation (const guint8 * a, const gdouble * b)
{
  gdouble ma = 0, mb = 0, sab = 0, saa = 0, sbb = 0;
  guint i;

  for (i = 0; i < FEMO_FER_PIXELS; i++) {
    ma += a[i];
    mb += b[i];
  }
  ma /= FEMO_FER_PIXELS;
  mb /= FEMO_FER_PIXELS;
  for (i = 0; i < FEMO_FER_PIXELS; i++) {
    gdouble da = a[i] - ma, db = b[i] - mb;

    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return (saa > 0 && sbb > 0) ? sab / sqrt (saa * sbb) : 0.0;
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (FemoFerData) fer = NULL;
  g_autoptr (FemoModel) model = NULL;
  g_autoptr (FemoInfer) infer = NULL;
  g_autoptr (FemoFaceDetector) detector = NULL;
  FemoFaceDetectParams params = FEMO_FACE_DETECT_PARAMS_INIT;
  gboolean yunet;
  const FemoFerSplit *train;
  gdouble mean[FEMO_FER_PIXELS] = { 0 };
  gdouble fer_corr = 0;
  /* the last: aligned crops */
  GArray *crops[G_N_ELEMENTS (margins) + 1];
  guint n_faces = 0, n_labels, m, i, j;
  gfloat *probs;

  if (argc < 5) {
    g_printerr ("usage: %s FER2013_CSV MODEL DETECTOR IMAGE...\n", argv[0]);
    return 2;
  }
  gst_init (&argc, &argv);

  yunet = g_str_has_suffix (argv[3], ".safetensors");
  fer = femo_fer_load (argv[1], FEMO_FER_FLAGS_NONE, &error);
  if (fer != NULL)
    model = femo_model_load (argv[2], &error);
  if (model != NULL)
    detector = femo_face_detector_new_from_file (yunet ?
        FEMO_FACE_DETECTOR_YUNET : FEMO_FACE_DETECTOR_CASCADE, argv[3], 0,
        &error);
  if (detector == NULL) {
    g_printerr ("%s\n", error->message);
    return 1;
  }
  train = &fer->splits[FEMO_FER_TRAINING];
  for (i = 0; i < train->n; i++)
    for (j = 0; j < FEMO_FER_PIXELS; j++)
      mean[j] += train->pixels[(gsize) i * FEMO_FER_PIXELS + j];
  for (j = 0; j < FEMO_FER_PIXELS; j++)
    mean[j] /= MAX (train->n, 1);
  for (i = 0; i < train->n; i++)
    fer_corr += correlation (train->pixels + (gsize) i * FEMO_FER_PIXELS,
        mean);
  fer_corr /= MAX (train->n, 1);

  params.scan.min_neighbors = 5;
  for (m = 0; m < G_N_ELEMENTS (crops); m++)
    crops[m] = g_array_new (FALSE, FALSE, FEMO_FER_PIXELS);

  for (i = 4; i < (guint) argc; i++) {
    const FemoRgbLayout bgr = FEMO_RGB_LAYOUT_BGR;
    FemoFaceDetectorInput input;
    FemoRect faces[64];
    gdouble confidence[64];
    FemoLandmarks landmarks[64];
    FemoImageView view;
    guint8 *gray, *color = NULL;
    gint width, height;
    gsize n, f;

    gray = femo_test_load_image (argv[i], GST_VIDEO_FORMAT_GRAY8, &width,
        &height, &error);
    if (gray == NULL) {
      g_printerr ("%s: %s\n", argv[i], error->message);
      g_clear_error (&error);
      continue;
    }
    view.data = gray;
    view.width = width;
    view.height = height;
    view.stride = width;
    view.pixel_stride = 1;
    input.luma = view;
    if (yunet) {
      color = g_malloc ((gsize) width * height * 3);
      femo_yuv_to_bgr (&view, NULL, color, width * 3);
      input.color = (FemoColorView) {
      color, width, height, width * 3, bgr};
    }
    n = femo_face_detector_detect (detector, &input, &params, faces,
        confidence, landmarks, G_N_ELEMENTS (faces), &error);
    if (error != NULL) {
      g_printerr ("%s: %s\n", argv[i], error->message);
      return 1;
    }
    for (f = 0; f < n; f++) {
      guint8 crop[FEMO_FER_PIXELS];
      const gfloat *p = landmarks[f].points;

      if (yunet && femo_face_crop_aligned (&view, p[0], p[1], p[2], p[3], 1,
              1, crop, FEMO_FER_SIZE))
        g_array_append_vals (crops[G_N_ELEMENTS (margins)], crop, 1);
      for (m = 0; m < G_N_ELEMENTS (margins); m++) {
        guint8 crop[FEMO_FER_PIXELS];
        gdouble cx, cy, cw, ch;

        femo_face_crop_region (faces[f].x, faces[f].y, faces[f].width,
            faces[f].height, margins[m], 1, 1, &cx, &cy, &cw, &ch);
        femo_image_resample (&view, cx, cy, cw, ch, crop, FEMO_FER_SIZE,
            FEMO_FER_SIZE);
        g_array_append_vals (crops[m], crop, 1);
      }
    }
    n_faces += n;
    g_free (color);
    g_free (gray);
  }

  g_print ("%u faces in %d images; FER2013 Training faces against their "
      "mean: fer corr %.4f\n\n%7s %7s %7s %7s %7s\n", n_faces, argc - 4,
      fer_corr, "margin", "corr", "mcorr", "maxp", "H");
  n_labels = femo_model_get_n_labels (model);
  infer = femo_infer_new (model);
  probs = g_new (gfloat, (gsize) MAX (n_faces, 1) * n_labels);
  for (m = 0; m < G_N_ELEMENTS (crops); m++) {
    gdouble mean_crop[FEMO_FER_PIXELS] = { 0 };
    guint8 mean_crop8[FEMO_FER_PIXELS];
    guint n_crops = crops[m]->len;
    gdouble corr = 0, maxp = 0, entropy = 0, n = MAX (n_crops, 1);

    if (n_crops == 0)
      continue;
    femo_infer_run (infer, (const guint8 *) crops[m]->data, n_crops, probs,
        NULL);
    for (i = 0; i < n_crops; i++) {
      const gfloat *p = probs + (gsize) i * n_labels;
      const guint8 *crop = (const guint8 *) crops[m]->data +
          (gsize) i * FEMO_FER_PIXELS;
      gdouble best = 0;

      corr += correlation (crop, mean);
      for (j = 0; j < FEMO_FER_PIXELS; j++)
        mean_crop[j] += crop[j];
      for (j = 0; j < n_labels; j++) {
        best = MAX (best, p[j]);
        if (p[j] > 0)
          entropy -= p[j] * log (p[j]);
      }
      maxp += best;
    }
    for (j = 0; j < FEMO_FER_PIXELS; j++)
      mean_crop8[j] = (guint8) CLAMP (mean_crop[j] / n + 0.5, 0, 255);
    if (m < G_N_ELEMENTS (margins))
      g_print ("%7.3f", margins[m]);
    else
      g_print ("%7s", "aligned");
    g_print (" %7.4f %7.4f %7.4f %7.4f\n", corr / n,
        correlation (mean_crop8, mean), maxp / n, entropy / n);
    g_array_unref (crops[m]);
  }
  g_free (probs);
  return 0;
}
