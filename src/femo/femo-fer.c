/* gst-femo: the FER2013 data set (Kaggle's fer2013.csv) and FER+ soft labels
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "femo-fer.h"
#include "femo-error.h"

#include <string.h>

#define READ_CHUNK (64 * 1024)
/* A FER2013 row is about 9 KB; anything far longer is not this format. */
#define MAX_LINE (1024 * 1024)
#define MAX_COLUMNS 64

static const gchar *const usage_names[FEMO_FER_N_USAGES] = {
  "Training", "PublicTest", "PrivateTest"
};

static gboolean
usage_from_field (const gchar * s, gsize len, FemoFerUsage * usage)
{
  guint i;

  for (i = 0; i < FEMO_FER_N_USAGES; i++) {
    if (strlen (usage_names[i]) == len && memcmp (s, usage_names[i], len) == 0) {
      *usage = i;
      return TRUE;
    }
  }
  return FALSE;
}

gboolean
femo_fer_usage_from_name (const gchar * name, FemoFerUsage * usage)
{
  g_return_val_if_fail (name != NULL, FALSE);
  return usage_from_field (name, strlen (name), usage);
}

/* ---- lines ---- */

/* Called with each line, NUL-terminated, without its LF or CRLF; @lineno
 * counts from 1. */
typedef gboolean (*LineFunc) (gchar * line, gsize len, guint lineno,
    gpointer user_data, GError ** error);

static gboolean
emit_line (gchar * line, gsize len, guint lineno, LineFunc func,
    gpointer user_data, GError ** error)
{
  if (len > 0 && line[len - 1] == '\r')
    len--;
  line[len] = '\0';
  return func (line, len, lineno, user_data, error);
}

/* Reads @stream line by line, decompressing it first when it starts with
 * the gzip magic bytes 1f 8b. */
static gboolean
read_lines (GInputStream * stream, const gchar * name, LineFunc func,
    gpointer user_data, GCancellable * cancellable, GError ** error)
{
  g_autoptr (GInputStream) buffered = g_buffered_input_stream_new (stream);
  g_autoptr (GInputStream) input = NULL;
  g_autoptr (GByteArray) carry = g_byte_array_new ();
  g_autofree gchar *chunk = g_malloc (READ_CHUNK + 1);
  GError *read_error = NULL;
  guint lineno = 0;
  gssize got;

  /* The caller owns @stream: leave it open. */
  g_filter_input_stream_set_close_base_stream (G_FILTER_INPUT_STREAM
      (buffered), FALSE);
  if (g_buffered_input_stream_fill (G_BUFFERED_INPUT_STREAM (buffered), 2,
          cancellable, &read_error) < 0)
    goto read_failed;
  {
    gsize avail;
    const guint8 *head = g_buffered_input_stream_peek_buffer
        (G_BUFFERED_INPUT_STREAM (buffered), &avail);

    if (avail >= 2 && head[0] == 0x1f && head[1] == 0x8b) {
      g_autoptr (GZlibDecompressor) gunzip =
          g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP);

      input = g_converter_input_stream_new (buffered, G_CONVERTER (gunzip));
    } else {
      input = g_object_ref (buffered);
    }
  }

  while ((got = g_input_stream_read (input, chunk, READ_CHUNK, cancellable,
              &read_error)) > 0) {
    gchar *p = chunk, *end = chunk + got;
    gchar *nl;

    while ((nl = memchr (p, '\n', end - p)) != NULL) {
      lineno++;
      if (carry->len > 0) {
        g_byte_array_append (carry, (const guint8 *) p, nl - p);
        if (carry->len > MAX_LINE)
          goto too_long;
        g_byte_array_append (carry, (const guint8 *) "", 1);
        if (!emit_line ((gchar *) carry->data, carry->len - 1, lineno, func,
                user_data, error))
          return FALSE;
        g_byte_array_set_size (carry, 0);
      } else {
        if (nl - p > MAX_LINE)
          goto too_long;
        if (!emit_line (p, nl - p, lineno, func, user_data, error))
          return FALSE;
      }
      p = nl + 1;
    }
    g_byte_array_append (carry, (const guint8 *) p, end - p);
    if (carry->len > MAX_LINE) {
      lineno++;
      goto too_long;
    }
  }
  if (got < 0)
    goto read_failed;
  if (carry->len > 0) {
    g_byte_array_append (carry, (const guint8 *) "", 1);
    if (!emit_line ((gchar *) carry->data, carry->len - 1, lineno + 1, func,
            user_data, error))
      return FALSE;
  }
  return TRUE;

read_failed:
  g_set_error (error, FEMO_ERROR, FEMO_ERROR_IO, "%s: cannot read: %s", name,
      read_error->message);
  g_error_free (read_error);
  return FALSE;
too_long:
  g_set_error (error, FEMO_ERROR, FEMO_ERROR_PARSE,
      "%s:%u: line longer than %u bytes", name, lineno, MAX_LINE);
  return FALSE;
}

/* Splits @line at commas into at most @max fields; returns the count. */
static guint
split_fields (gchar * line, gsize len, gchar ** fields, gsize * lens, guint max)
{
  gchar *p = line, *end = line + len;
  guint n = 0;

  for (;;) {
    gchar *comma = memchr (p, ',', end - p);
    gchar *stop = comma ? comma : end;

    if (n < max) {
      fields[n] = p;
      lens[n] = stop - p;
    }
    n++;
    if (!comma)
      return n;
    p = comma + 1;
  }
}

static gboolean
field_is (const gchar * field, gsize len, const gchar * name)
{
  return strlen (name) == len && memcmp (field, name, len) == 0;
}

/* Finds each of @names among the header fields; the column index goes into
 * @columns. */
static gboolean
parse_header (gchar * line, gsize len, const gchar * file,
    const gchar * const *names, guint n_names, gint * columns,
    guint * n_columns, GError ** error)
{
  gchar *fields[MAX_COLUMNS];
  gsize lens[MAX_COLUMNS];
  guint n, i, j;
  g_autofree gchar *expected = g_strjoinv (",", (gchar **) names);

  /* A UTF-8 byte order mark, as some spreadsheet exports write. */
  if (len >= 3 && memcmp (line, "\xef\xbb\xbf", 3) == 0) {
    line += 3;
    len -= 3;
  }
  if (len == 0) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_PARSE,
        "%s:1: missing header (expected %s)", file, expected);
    return FALSE;
  }
  n = split_fields (line, len, fields, lens, MAX_COLUMNS);
  if (n > MAX_COLUMNS) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_PARSE,
        "%s:1: header has %u columns, more than %u", file, n, MAX_COLUMNS);
    return FALSE;
  }
  for (i = 0; i < n_names; i++) {
    columns[i] = -1;
    for (j = 0; j < n; j++) {
      if (field_is (fields[j], lens[j], names[i])) {
        if (columns[i] >= 0) {
          g_set_error (error, FEMO_ERROR, FEMO_ERROR_PARSE,
              "%s:1: header names column '%s' twice", file, names[i]);
          return FALSE;
        }
        columns[i] = j;
      }
    }
    if (columns[i] < 0) {
      g_set_error (error, FEMO_ERROR, FEMO_ERROR_PARSE,
          "%s:1: header has no '%s' column (expected %s)", file, names[i],
          expected);
      return FALSE;
    }
  }
  *n_columns = n;
  return TRUE;
}

/* A non-negative decimal integer, digits only, at most @max. */
static gboolean
parse_uint (const gchar * s, gsize len, guint max, guint * value)
{
  guint64 v = 0;
  gsize i;

  if (len == 0 || len > 9)
    return FALSE;
  for (i = 0; i < len; i++) {
    if (!g_ascii_isdigit (s[i]))
      return FALSE;
    v = v * 10 + (s[i] - '0');
  }
  if (v > max)
    return FALSE;
  *value = (guint) v;
  return TRUE;
}

/* A field quoted for a message: at most 20 bytes, escaped. */
static gchar *
quote_field (const gchar * s, gsize len)
{
  g_autofree gchar *cut = g_strndup (s, MIN (len, 20));
  g_autofree gchar *esc = g_strescape (cut, NULL);

  return g_strdup_printf ("'%s%s'", esc, len > 20 ? "..." : "");
}

/* ---- fer2013.csv ---- */

enum
{
  COL_EMOTION,
  COL_PIXELS,
  COL_USAGE,
  N_FER_COLUMNS
};

static const gchar *const fer_columns[] =
    { "emotion", "pixels", "Usage", NULL };

typedef struct
{
  const gchar *name;
  FemoFerFlags flags;
  FemoFerData *data;
  gboolean have_header;
  gint columns[N_FER_COLUMNS];
  guint n_columns;
  guint first_blank;            /* a run of blank lines not yet known to be trailing */
  guint n_blank;
  GByteArray *pixels[FEMO_FER_N_USAGES];
  GByteArray *labels[FEMO_FER_N_USAGES];
  GArray *rows[FEMO_FER_N_USAGES];
  guint8 image[FEMO_FER_PIXELS];
} FerParser;

/* Fails, or with FEMO_FER_SKIP_BAD counts the row and carries on. */
/* *INDENT-OFF* */
static gboolean bad_row (FerParser * p, guint lineno, GError ** error,
    const gchar * format, ...) G_GNUC_PRINTF (4, 5);
/* *INDENT-ON* */

static gboolean
bad_row (FerParser * p, guint lineno, GError ** error, const gchar * format,
    ...)
{
  g_autofree gchar *reason = NULL;
  va_list args;

  va_start (args, format);
  reason = g_strdup_vprintf (format, args);
  va_end (args);

  if (p->flags & FEMO_FER_SKIP_BAD) {
    p->data->n_skipped++;
    if (!p->data->first_skipped)
      p->data->first_skipped = g_strdup_printf ("%s:%u: %s", p->name, lineno,
          reason);
    return TRUE;
  }
  g_set_error (error, FEMO_ERROR, FEMO_ERROR_PARSE, "%s:%u: %s", p->name,
      lineno, reason);
  return FALSE;
}

static gboolean
parse_pixels (FerParser * p, const gchar * s, gsize len, guint lineno,
    gboolean * ok, GError ** error)
{
  const gchar *end = s + len;
  guint n = 0;

  *ok = FALSE;
  for (;;) {
    const gchar *tok;
    guint value;

    while (s < end && *s == ' ')
      s++;
    if (s == end)
      break;
    tok = s;
    while (s < end && *s != ' ')
      s++;
    if (n == FEMO_FER_PIXELS)
      return bad_row (p, lineno, error,
          "expected %u pixels, found more", FEMO_FER_PIXELS);
    if (!parse_uint (tok, s - tok, 255, &value)) {
      g_autofree gchar *q = quote_field (tok, s - tok);
      gsize i;

      for (i = 0; i < (gsize) (s - tok); i++)
        if (!g_ascii_isdigit (tok[i]))
          return bad_row (p, lineno, error, "pixel %u: %s is not a number",
              n + 1, q);
      return bad_row (p, lineno, error, "pixel %u: %s is out of range 0..255",
          n + 1, q);
    }
    p->image[n++] = value;
  }
  if (n != FEMO_FER_PIXELS)
    return bad_row (p, lineno, error, "expected %u pixels, found %u",
        FEMO_FER_PIXELS, n);
  *ok = TRUE;
  return TRUE;
}

static gboolean
fer_row (FerParser * p, gchar * line, gsize len, guint lineno, GError ** error)
{
  gchar *fields[MAX_COLUMNS];
  gsize lens[MAX_COLUMNS];
  guint n, label;
  guint8 label8;
  FemoFerUsage usage;
  gboolean ok;
  guint32 row = lineno - 2;

  n = split_fields (line, len, fields, lens, MAX_COLUMNS);
  if (n != p->n_columns)
    return bad_row (p, lineno, error, "expected %u fields, found %u",
        p->n_columns, n);

  if (!parse_uint (fields[p->columns[COL_EMOTION]],
          lens[p->columns[COL_EMOTION]], FEMO_FER_N_CLASSES - 1, &label)) {
    g_autofree gchar *q = quote_field (fields[p->columns[COL_EMOTION]],
        lens[p->columns[COL_EMOTION]]);
    return bad_row (p, lineno, error, "emotion %s is not a label 0..%d", q,
        FEMO_FER_N_CLASSES - 1);
  }
  if (!usage_from_field (fields[p->columns[COL_USAGE]],
          lens[p->columns[COL_USAGE]], &usage)) {
    g_autofree gchar *q = quote_field (fields[p->columns[COL_USAGE]],
        lens[p->columns[COL_USAGE]]);
    return bad_row (p, lineno, error,
        "unknown Usage %s (expected Training, PublicTest or PrivateTest)", q);
  }
  if (!parse_pixels (p, fields[p->columns[COL_PIXELS]],
          lens[p->columns[COL_PIXELS]], lineno, &ok, error))
    return FALSE;
  if (!ok)
    return TRUE;

  label8 = label;
  g_byte_array_append (p->pixels[usage], p->image, FEMO_FER_PIXELS);
  g_byte_array_append (p->labels[usage], &label8, 1);
  g_array_append_val (p->rows[usage], row);
  return TRUE;
}

static gboolean
fer_line (gchar * line, gsize len, guint lineno, gpointer user_data,
    GError ** error)
{
  FerParser *p = user_data;

  if (!p->have_header) {
    if (!parse_header (line, len, p->name, fer_columns, N_FER_COLUMNS,
            p->columns, &p->n_columns, error))
      return FALSE;
    p->have_header = TRUE;
    return TRUE;
  }
  /* Blank lines at the end of a file are harmless; elsewhere they are rows
   * with nothing in them. */
  if (len == 0) {
    if (p->n_blank++ == 0)
      p->first_blank = lineno;
    return TRUE;
  }
  for (; p->n_blank > 0; p->n_blank--, p->first_blank++)
    if (!bad_row (p, p->first_blank, error, "empty line"))
      return FALSE;
  p->data->n_rows = lineno - 1;
  return fer_row (p, line, len, lineno, error);
}

FemoFerData *
femo_fer_load_stream (GInputStream * stream, const gchar * name,
    FemoFerFlags flags, GCancellable * cancellable, GError ** error)
{
  g_autoptr (FemoFerData) data = g_new0 (FemoFerData, 1);
  FerParser *p = g_new0 (FerParser, 1);
  gboolean ok;
  guint u;

  g_return_val_if_fail (G_IS_INPUT_STREAM (stream), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  p->name = name;
  p->flags = flags;
  p->data = data;
  for (u = 0; u < FEMO_FER_N_USAGES; u++) {
    p->pixels[u] = g_byte_array_new ();
    p->labels[u] = g_byte_array_new ();
    p->rows[u] = g_array_new (FALSE, FALSE, sizeof (guint32));
  }

  ok = read_lines (stream, name, fer_line, p, cancellable, error);
  if (ok && !p->have_header) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_PARSE,
        "%s:1: missing header (expected emotion,pixels,Usage)", name);
    ok = FALSE;
  }

  for (u = 0; u < FEMO_FER_N_USAGES; u++) {
    FemoFerSplit *s = &data->splits[u];

    s->n = p->labels[u]->len;
    s->pixels = g_byte_array_free (p->pixels[u], FALSE);
    s->labels = g_byte_array_free (p->labels[u], FALSE);
    s->rows = (guint32 *) g_array_free (p->rows[u], FALSE);
  }
  g_free (p);
  return ok ? g_steal_pointer (&data) : NULL;
}

FemoFerData *
femo_fer_load (const gchar * path, FemoFerFlags flags, GError ** error)
{
  g_autoptr (GMappedFile) file = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GInputStream) stream = NULL;
  g_autofree gchar *name = NULL;
  g_autofree gchar *digest = NULL;
  GError *map_error = NULL;
  FemoFerData *data;

  g_return_val_if_fail (path != NULL, NULL);

  file = g_mapped_file_new (path, FALSE, &map_error);
  if (!file) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_IO, "%s", map_error->message);
    g_error_free (map_error);
    return NULL;
  }
  bytes = g_mapped_file_get_bytes (file);
  digest = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, bytes);
  stream = g_memory_input_stream_new_from_bytes (bytes);
  name = g_path_get_basename (path);

  data = femo_fer_load_stream (stream, name, flags, NULL, error);
  if (data)
    g_strlcpy (data->sha256, digest, sizeof (data->sha256));
  return data;
}

void
femo_fer_data_free (FemoFerData * data)
{
  guint u;

  if (!data)
    return;
  for (u = 0; u < FEMO_FER_N_USAGES; u++) {
    g_free (data->splits[u].pixels);
    g_free (data->splits[u].labels);
    g_free (data->splits[u].rows);
    g_free (data->splits[u].soft);
  }
  g_free (data->first_skipped);
  g_free (data);
}

gchar *
femo_fer_data_describe_skipped (const FemoFerData * data)
{
  if (data->n_skipped == 0)
    return NULL;
  return g_strdup_printf ("skipped %u malformed rows of %u (first: %s)",
      data->n_skipped, data->n_rows, data->first_skipped);
}

/* ---- FER+ (fer2013new.csv) ---- */

enum
{
  PLUS_USAGE,
  PLUS_IMAGE,
  PLUS_ANGER,                   /* the FER2013 classes, in their label order */
  PLUS_DISGUST,
  PLUS_FEAR,
  PLUS_HAPPINESS,
  PLUS_SADNESS,
  PLUS_SURPRISE,
  PLUS_NEUTRAL,
  PLUS_CONTEMPT,                /* votes with no FER2013 class: dropped */
  PLUS_UNKNOWN,
  PLUS_NF,
  N_PLUS_COLUMNS
};

static const gchar *const plus_columns[] = {
  "Usage", "Image name", "anger", "disgust", "fear", "happiness", "sadness",
  "surprise", "neutral", "contempt", "unknown", "NF", NULL
};

typedef struct
{
  const gchar *name;
  gboolean have_header;
  gint columns[N_PLUS_COLUMNS];
  guint n_columns;
  guint first_blank;
  GByteArray *usages;
  GArray *targets;
  guint n_empty;
} PlusParser;

static gboolean
plus_line (gchar * line, gsize len, guint lineno, gpointer user_data,
    GError ** error)
{
  PlusParser *p = user_data;
  gchar *fields[MAX_COLUMNS];
  gsize lens[MAX_COLUMNS];
  gfloat target[FEMO_FER_N_CLASSES];
  guint n, c, total = 0;
  FemoFerUsage usage;
  guint8 usage8;

  if (!p->have_header) {
    if (!parse_header (line, len, p->name, plus_columns, N_PLUS_COLUMNS,
            p->columns, &p->n_columns, error))
      return FALSE;
    p->have_header = TRUE;
    return TRUE;
  }
  if (len == 0) {
    if (p->first_blank == 0)
      p->first_blank = lineno;
    return TRUE;
  }
  if (p->first_blank != 0) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_PARSE, "%s:%u: empty line",
        p->name, p->first_blank);
    return FALSE;
  }

  n = split_fields (line, len, fields, lens, MAX_COLUMNS);
  if (n != p->n_columns) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_PARSE,
        "%s:%u: expected %u fields, found %u", p->name, lineno, p->n_columns,
        n);
    return FALSE;
  }
  if (!usage_from_field (fields[p->columns[PLUS_USAGE]],
          lens[p->columns[PLUS_USAGE]], &usage)) {
    g_autofree gchar *q = quote_field (fields[p->columns[PLUS_USAGE]],
        lens[p->columns[PLUS_USAGE]]);
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_PARSE,
        "%s:%u: unknown Usage %s (expected Training, PublicTest or "
        "PrivateTest)", p->name, lineno, q);
    return FALSE;
  }
  for (c = PLUS_ANGER; c < N_PLUS_COLUMNS; c++) {
    gint col = p->columns[c];
    guint votes;

    if (!parse_uint (fields[col], lens[col], 1000000, &votes)) {
      g_autofree gchar *q = quote_field (fields[col], lens[col]);

      g_set_error (error, FEMO_ERROR, FEMO_ERROR_PARSE,
          "%s:%u: %s votes %s are not a count", p->name, lineno,
          plus_columns[c], q);
      return FALSE;
    }
    if (c < PLUS_ANGER + FEMO_FER_N_CLASSES) {
      target[c - PLUS_ANGER] = votes;
      total += votes;
    }
  }
  /* FER+ left out rows without a usable face: their image name is blank. */
  if (lens[p->columns[PLUS_IMAGE]] == 0)
    total = 0;
  for (c = 0; c < FEMO_FER_N_CLASSES; c++)
    target[c] = total > 0 ? target[c] / total : 0.0f;
  if (total == 0)
    p->n_empty++;

  usage8 = usage;
  g_byte_array_append (p->usages, &usage8, 1);
  g_array_append_vals (p->targets, target, FEMO_FER_N_CLASSES);
  return TRUE;
}

FemoFerPlus *
femo_ferplus_load_stream (GInputStream * stream, const gchar * name,
    GCancellable * cancellable, GError ** error)
{
  PlusParser p = { 0, };
  FemoFerPlus *plus;
  gboolean ok;

  g_return_val_if_fail (G_IS_INPUT_STREAM (stream), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  p.name = name;
  p.usages = g_byte_array_new ();
  p.targets = g_array_new (FALSE, FALSE, sizeof (gfloat));
  ok = read_lines (stream, name, plus_line, &p, cancellable, error);
  if (ok && !p.have_header) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_PARSE,
        "%s:1: missing header (expected Usage,Image name,neutral,...)", name);
    ok = FALSE;
  }
  if (!ok) {
    g_byte_array_free (p.usages, TRUE);
    g_array_free (p.targets, TRUE);
    return NULL;
  }
  plus = g_new0 (FemoFerPlus, 1);
  plus->n_rows = p.usages->len;
  plus->n_empty = p.n_empty;
  plus->usages = g_byte_array_free (p.usages, FALSE);
  plus->targets = (gfloat *) g_array_free (p.targets, FALSE);
  return plus;
}

FemoFerPlus *
femo_ferplus_load (const gchar * path, GError ** error)
{
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GFileInputStream) stream = NULL;
  g_autofree gchar *name = g_path_get_basename (path);
  GError *open_error = NULL;

  stream = g_file_read (file, NULL, &open_error);
  if (!stream) {
    g_set_error (error, FEMO_ERROR, FEMO_ERROR_IO, "%s: %s", path,
        open_error->message);
    g_error_free (open_error);
    return NULL;
  }
  return femo_ferplus_load_stream (G_INPUT_STREAM (stream), name, NULL, error);
}

void
femo_ferplus_free (FemoFerPlus * ferplus)
{
  if (!ferplus)
    return;
  g_free (ferplus->usages);
  g_free (ferplus->targets);
  g_free (ferplus);
}

gboolean
femo_fer_split_apply_ferplus (FemoFerSplit * split, FemoFerUsage usage,
    const FemoFerPlus * ferplus, guint * n_dropped, GError ** error)
{
  const gsize cls = FEMO_FER_N_CLASSES;
  gfloat *soft;
  guint i, kept = 0;

  g_return_val_if_fail (split != NULL && ferplus != NULL, FALSE);
  g_return_val_if_fail (usage < FEMO_FER_N_USAGES, FALSE);

  for (i = 0; i < split->n; i++) {
    guint32 row = split->rows[i];

    if (row < ferplus->n_rows && ferplus->usages[row] != usage) {
      g_set_error (error, FEMO_ERROR, FEMO_ERROR_INVALID,
          "data row %u is %s but FER+ row %u is %s: the files are not in "
          "the same order", row + 1, usage_names[usage], row + 1,
          usage_names[ferplus->usages[row]]);
      return FALSE;
    }
  }

  soft = g_new (gfloat, (gsize) split->n * cls);
  for (i = 0; i < split->n; i++) {
    guint32 row = split->rows[i];
    const gfloat *t;

    if (row >= ferplus->n_rows)
      continue;
    t = ferplus->targets + cls * row;
    if (t[0] + t[1] + t[2] + t[3] + t[4] + t[5] + t[6] <= 0.0f)
      continue;
    memmove (split->pixels + (gsize) kept * FEMO_FER_PIXELS,
        split->pixels + (gsize) i * FEMO_FER_PIXELS, FEMO_FER_PIXELS);
    split->labels[kept] = split->labels[i];
    split->rows[kept] = row;
    memcpy (soft + (gsize) kept * cls, t, cls * sizeof (gfloat));
    kept++;
  }
  if (n_dropped)
    *n_dropped = split->n - kept;
  split->n = kept;
  g_free (split->soft);
  split->soft = soft;
  return TRUE;
}
