/* gst-femo: the FER2013 data set (Kaggle's fer2013.csv) and FER+ soft labels
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define FEMO_FER_SIZE 48
#define FEMO_FER_PIXELS (FEMO_FER_SIZE * FEMO_FER_SIZE)
#define FEMO_FER_N_CLASSES 7
/* The order of the output of the network: FER2013's label numbers. */
#define FEMO_FER_LABELS "angry,disgust,fear,happy,sad,surprise,neutral"

typedef enum
{
  FEMO_FER_TRAINING,
  FEMO_FER_PUBLIC_TEST,
  FEMO_FER_PRIVATE_TEST,
  FEMO_FER_N_USAGES
} FemoFerUsage;

/**
 * FemoFerFlags:
 * @FEMO_FER_SKIP_BAD: skip malformed rows and count them instead of failing
 *   (a bad header still fails)
 */
typedef enum
{
  FEMO_FER_FLAGS_NONE = 0,
  FEMO_FER_SKIP_BAD = 1 << 0,
} FemoFerFlags;

/**
 * FemoFerSplit:
 * @n: images
 * @pixels: @n x 48 x 48 luma bytes, image after image
 * @labels: @n class indices 0..6
 * @rows: @n data row numbers in the file (0 = the first row after the
 *   header), to line up other per-row files such as FER+
 * @soft: @n x 7 target probabilities once FER+ is applied, otherwise NULL
 *
 * The images of one Usage, in file order.
 */
typedef struct
{
  guint n;
  guint8 *pixels;
  guint8 *labels;
  guint32 *rows;
  gfloat *soft;
} FemoFerSplit;

/**
 * FemoFerData:
 * @splits: one per #FemoFerUsage (empty when the file has none)
 * @n_rows: data rows read, good and bad
 * @n_skipped: malformed rows skipped (only with %FEMO_FER_SKIP_BAD)
 * @first_skipped: why the first skipped row was bad ("file:line: reason"),
 *   or NULL
 * @sha256: lower-case hex digest of the file as stored (compressed or not);
 *   empty when loaded from a stream
 */
typedef struct
{
  FemoFerSplit splits[FEMO_FER_N_USAGES];
  guint n_rows;
  guint n_skipped;
  gchar *first_skipped;
  gchar sha256[65];
} FemoFerData;

/* Parses a Usage name ("Training", "PublicTest", "PrivateTest"); FALSE when
 * it is none of them. */
gboolean femo_fer_usage_from_name (const gchar * name, FemoFerUsage * usage);

/* Reads fer2013.csv, or the same gzip-compressed (recognised by its magic
 * bytes, whatever the file is called). Header `emotion,pixels,Usage` (any
 * column order), LF or CRLF lines, then one image per row: a label 0..6,
 * 2304 space-separated integers 0..255 and a Usage. A malformed row fails
 * with FEMO_ERROR_PARSE "NAME:LINE: reason" unless @flags skips it. */
FemoFerData *femo_fer_load (const gchar * path, FemoFerFlags flags,
    GError ** error);
/* The same from a stream; @name is used in messages. */
FemoFerData *femo_fer_load_stream (GInputStream * stream, const gchar * name,
    FemoFerFlags flags, GCancellable * cancellable, GError ** error);
void femo_fer_data_free (FemoFerData * data);
/* "skipped N malformed rows of M (first: WHY)", what a command loading with
 * %FEMO_FER_SKIP_BAD tells its user; NULL when no row was skipped. */
gchar *femo_fer_data_describe_skipped (const FemoFerData * data);

/**
 * FemoFerPlus:
 * @n_rows: rows of fer2013new.csv, one per FER2013 row in the same order
 * @usages: @n_rows Usage of each row
 * @targets: @n_rows x 7 probabilities in FER2013 label order; all zero for a
 *   row FER+ dropped (blank image name) or with no votes left
 * @n_empty: rows whose targets are all zero
 *
 * Microsoft's FER+ crowd votes turned into soft targets for FER2013's classes:
 * contempt, unknown and NF (not a face) are dropped and the rest renormalised.
 */
typedef struct
{
  guint n_rows;
  guint8 *usages;
  gfloat *targets;
  guint n_empty;
} FemoFerPlus;

/* Reads fer2013new.csv (header `Usage,Image name,neutral,happiness,surprise,
 * sadness,anger,disgust,fear,contempt,unknown,NF`, any column order). Errors
 * are FEMO_ERROR_PARSE "NAME:LINE: reason". */
FemoFerPlus *femo_ferplus_load (const gchar * path, GError ** error);
FemoFerPlus *femo_ferplus_load_stream (GInputStream * stream,
    const gchar * name, GCancellable * cancellable, GError ** error);
void femo_ferplus_free (FemoFerPlus * ferplus);

/* Gives each image of @split (of Usage @usage) its FER+ targets in @soft,
 * keyed by its row number, and drops the images FER+ has no targets for
 * (counted in @n_dropped). Fails (FEMO_ERROR_INVALID) when FER+ gives a row
 * another Usage: the files are not in the same order. */
gboolean femo_fer_split_apply_ferplus (FemoFerSplit * split,
    FemoFerUsage usage, const FemoFerPlus * ferplus, guint * n_dropped,
    GError ** error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FemoFerData, femo_fer_data_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FemoFerPlus, femo_ferplus_free)

G_END_DECLS
