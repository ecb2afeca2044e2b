/* gst-femo fuzzing: the FER2013 and FER+ CSV readers (plain and gzip)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "fuzz-targets.h"
#include "femo-fer.h"

#include <gio/gio.h>

static void
check_split (const FemoFerSplit * split)
{
  for (guint i = 0; i < split->n; i++)
    g_assert (split->labels[i] < FEMO_FER_N_CLASSES);
}

static void
fuzz_fer (GBytes * bytes, FemoFerFlags flags)
{
  g_autoptr (GInputStream) stream = g_memory_input_stream_new_from_bytes
      (bytes);
  g_autoptr (GError) error = NULL;
  FemoFerData *fer = femo_fer_load_stream (stream, "fuzz.csv", flags, NULL,
      &error);

  if (!fer) {
    g_assert (error != NULL && error->message != NULL);
    return;
  }
  for (guint u = 0; u < FEMO_FER_N_USAGES; u++)
    check_split (&fer->splits[u]);
  g_assert (fer->n_skipped <= fer->n_rows);
  femo_fer_data_free (fer);
}

static void
fuzz_ferplus (GBytes * bytes)
{
  g_autoptr (GInputStream) stream = g_memory_input_stream_new_from_bytes
      (bytes);
  g_autoptr (GError) error = NULL;
  FemoFerPlus *ferplus = femo_ferplus_load_stream (stream, "fuzz.csv", NULL,
      &error);

  if (!ferplus) {
    g_assert (error != NULL && error->message != NULL);
    return;
  }
  femo_ferplus_free (ferplus);
}

int
femo_fuzz_fer_csv (const guint8 * data, gsize size)
{
  g_autoptr (GBytes) bytes = g_bytes_new (data, size);

  fuzz_fer (bytes, FEMO_FER_FLAGS_NONE);
  fuzz_fer (bytes, FEMO_FER_SKIP_BAD);
  fuzz_ferplus (bytes);
  return 0;
}

#ifdef FEMO_LIBFUZZER
FEMO_FUZZ_ENTRY_POINT (femo_fuzz_fer_csv)
#endif
