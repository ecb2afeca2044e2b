/* gst-femo fuzzing: the safetensors container and the model loaders
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "fuzz-targets.h"
#include "femo-net.h"
#include "femo-safetensors.h"

#include <string.h>

/* Every accessor on a container that was accepted, the way the net loader
 * uses them. */
static void
check_container (const FemoSafetensors * st)
{
  for (guint i = 0; i < femo_safetensors_get_n_metadata (st); i++) {
    const gchar *key = femo_safetensors_get_metadata_key (st, i);
    g_assert (femo_safetensors_get_metadata (st, key) != NULL);
  }
  for (guint i = 0; i < femo_safetensors_get_n_tensors (st); i++) {
    const FemoSafetensorsTensor *t = femo_safetensors_get_tensor (st, i);
    guint64 n = 1;

    g_assert (femo_safetensors_find (st, t->name) != NULL);
    for (guint d = 0; d < t->n_dims; d++)
      n *= t->shape[d];
    if (strcmp (t->dtype, "F32") == 0 && n * 4 == t->end - t->begin
        && n <= (1 << 20)) {
      g_autofree gfloat *dst = g_new (gfloat, MAX (n, 1));
      femo_safetensors_read_f32 (st, t, dst);
    }
  }
}

int
femo_fuzz_safetensors (const guint8 * data, gsize size)
{
  /* An exact-size copy: an over-read past the input is a sanitizer report. */
  g_autofree guint8 *file = g_memdup2 (data, size);
  g_autoptr (GError) error = NULL;
  g_autoptr (FemoSafetensors) st = NULL;
  g_autoptr (FemoNet) net = NULL;
  g_autoptr (FemoModel) model = NULL;

  /* femo_net_load_from_data is femo_safetensors_parse followed by
   * femo_net_load_from_safetensors: the header is parsed once here. */
  st = femo_safetensors_parse (file, size, &error);
  g_assert ((st == NULL) == (error != NULL));
  if (!st) {
    g_assert (error->message != NULL);
    return 0;
  }
  check_container (st);

  net = femo_net_load_from_safetensors (st, &error);
  g_assert ((net == NULL) == (error != NULL));
  if (net) {
    FemoInfer *infer;
    guint8 crop[48 * 48];
    gfloat probs[FEMO_NET_MAX_LABELS];

    /* Folding and packing for inference, then one inference. */
    model = femo_model_new_from_net (net);
    infer = femo_infer_new (model);
    g_assert (femo_model_get_n_labels (model) <= G_N_ELEMENTS (probs));
    memset (crop, 128, sizeof crop);
    femo_infer_run (infer, crop, 1, probs, NULL);
    femo_infer_free (infer);
  }
  return 0;
}

#ifdef FEMO_LIBFUZZER
FEMO_FUZZ_ENTRY_POINT (femo_fuzz_safetensors)
#endif
