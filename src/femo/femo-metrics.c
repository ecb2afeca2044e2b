/* gst-femo: classification metrics and SVG charts for training and eval
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "femo-metrics.h"

#include <math.h>
#include <string.h>

FemoConfusion *
femo_confusion_new (guint n_classes)
{
  FemoConfusion *confusion;

  g_return_val_if_fail (n_classes > 0 && n_classes <= 1024, NULL);

  confusion = g_new0 (FemoConfusion, 1);
  confusion->n_classes = n_classes;
  confusion->counts = g_new0 (guint64, (gsize) n_classes * n_classes);
  return confusion;
}

void
femo_confusion_free (FemoConfusion * confusion)
{
  if (!confusion)
    return;
  g_free (confusion->counts);
  g_free (confusion);
}

void
femo_confusion_add (FemoConfusion * confusion, guint truth, guint predicted)
{
  g_return_if_fail (truth < confusion->n_classes);
  g_return_if_fail (predicted < confusion->n_classes);

  confusion->counts[truth * confusion->n_classes + predicted]++;
}

guint64
femo_confusion_total (const FemoConfusion * confusion)
{
  guint64 total = 0;
  guint i;

  for (i = 0; i < confusion->n_classes * confusion->n_classes; i++)
    total += confusion->counts[i];
  return total;
}

guint64
femo_confusion_support (const FemoConfusion * confusion, guint cls)
{
  guint64 sum = 0;
  guint j;

  g_return_val_if_fail (cls < confusion->n_classes, 0);
  for (j = 0; j < confusion->n_classes; j++)
    sum += confusion->counts[cls * confusion->n_classes + j];
  return sum;
}

static guint64
predicted_count (const FemoConfusion * confusion, guint cls)
{
  guint64 sum = 0;
  guint i;

  for (i = 0; i < confusion->n_classes; i++)
    sum += confusion->counts[i * confusion->n_classes + cls];
  return sum;
}

static guint64
hits (const FemoConfusion * confusion, guint cls)
{
  return confusion->counts[cls * confusion->n_classes + cls];
}

gdouble
femo_confusion_accuracy (const FemoConfusion * confusion)
{
  guint64 total = femo_confusion_total (confusion), right = 0;
  guint i;

  for (i = 0; i < confusion->n_classes; i++)
    right += hits (confusion, i);
  return total ? (gdouble) right / total : 0.0;
}

gdouble
femo_confusion_precision (const FemoConfusion * confusion, guint cls)
{
  guint64 n;

  g_return_val_if_fail (cls < confusion->n_classes, 0.0);
  n = predicted_count (confusion, cls);
  return n ? (gdouble) hits (confusion, cls) / n : 0.0;
}

gdouble
femo_confusion_recall (const FemoConfusion * confusion, guint cls)
{
  guint64 n;

  g_return_val_if_fail (cls < confusion->n_classes, 0.0);
  n = femo_confusion_support (confusion, cls);
  return n ? (gdouble) hits (confusion, cls) / n : 0.0;
}

gdouble
femo_confusion_f1 (const FemoConfusion * confusion, guint cls)
{
  gdouble p = femo_confusion_precision (confusion, cls);
  gdouble r = femo_confusion_recall (confusion, cls);

  return p + r > 0.0 ? 2.0 * p * r / (p + r) : 0.0;
}

gdouble
femo_confusion_macro_f1 (const FemoConfusion * confusion)
{
  gdouble sum = 0.0;
  guint i;

  for (i = 0; i < confusion->n_classes; i++)
    sum += femo_confusion_f1 (confusion, i);
  return sum / confusion->n_classes;
}

/* ---- text and JSON ---- */

/* Appends @value printed with @format ("%.4f" and the like) in the C locale
 * whatever the user's locale says: SVG, JSON and CSV need a dot. */
static void
append_num (GString * s, const gchar * format, gdouble value)
{
  gchar buf[G_ASCII_DTOSTR_BUF_SIZE];

  g_string_append (s, g_ascii_formatd (buf, sizeof (buf), format, value));
}

gchar *
femo_confusion_to_text (const FemoConfusion * confusion,
    const gchar * const *labels)
{
  GString *s = g_string_new (NULL);
  guint n = confusion->n_classes, i, j;
  gint width = 9;
  guint64 total = femo_confusion_total (confusion);

  for (i = 0; i < n; i++)
    width = MAX (width, (gint) strlen (labels[i]) + 1);

  g_string_append (s, "accuracy ");
  append_num (s, "%.4f", femo_confusion_accuracy (confusion));
  g_string_append (s, ", macro-F1 ");
  append_num (s, "%.4f", femo_confusion_macro_f1 (confusion));
  g_string_append_printf (s, ", %" G_GUINT64_FORMAT " images\n\n", total);

  g_string_append_printf (s, "%-*s %9s %9s %9s %9s\n", width, "class",
      "precision", "recall", "f1", "support");
  for (i = 0; i < n; i++) {
    g_string_append_printf (s, "%-*s ", width, labels[i]);
    append_num (s, "%9.4f", femo_confusion_precision (confusion, i));
    g_string_append_c (s, ' ');
    append_num (s, "%9.4f", femo_confusion_recall (confusion, i));
    g_string_append_c (s, ' ');
    append_num (s, "%9.4f", femo_confusion_f1 (confusion, i));
    g_string_append_printf (s, " %9" G_GUINT64_FORMAT "\n",
        femo_confusion_support (confusion, i));
  }

  g_string_append (s, "\nconfusion matrix (rows: true class, columns: "
      "predicted class)\n");
  g_string_append_printf (s, "%-*s", width, "");
  for (j = 0; j < n; j++)
    g_string_append_printf (s, " %*s", width, labels[j]);
  g_string_append_c (s, '\n');
  for (i = 0; i < n; i++) {
    g_string_append_printf (s, "%-*s", width, labels[i]);
    for (j = 0; j < n; j++)
      g_string_append_printf (s, " %*" G_GUINT64_FORMAT, width,
          confusion->counts[i * n + j]);
    g_string_append_c (s, '\n');
  }
  return g_string_free (s, FALSE);
}

static void
append_json_string (GString * s, const gchar * text)
{
  const gchar *p;

  g_string_append_c (s, '"');
  for (p = text; *p; p++) {
    guchar c = *p;

    if (c == '"' || c == '\\')
      g_string_append_printf (s, "\\%c", c);
    else if (c < 0x20)
      g_string_append_printf (s, "\\u%04x", c);
    else
      g_string_append_c (s, c);
  }
  g_string_append_c (s, '"');
}

gchar *
femo_confusion_to_json (const FemoConfusion * confusion,
    const gchar * const *labels)
{
  GString *s = g_string_new (NULL);
  guint n = confusion->n_classes, i, j;

  g_string_append_printf (s, "{\n  \"n\": %" G_GUINT64_FORMAT ",\n"
      "  \"accuracy\": ", femo_confusion_total (confusion));
  append_num (s, "%.6f", femo_confusion_accuracy (confusion));
  g_string_append (s, ",\n  \"macro_f1\": ");
  append_num (s, "%.6f", femo_confusion_macro_f1 (confusion));
  g_string_append (s, ",\n  \"labels\": [");
  for (i = 0; i < n; i++) {
    g_string_append (s, i ? ", " : "");
    append_json_string (s, labels[i]);
  }
  g_string_append (s, "],\n  \"per_class\": [\n");
  for (i = 0; i < n; i++) {
    g_string_append (s, "    {\"label\": ");
    append_json_string (s, labels[i]);
    g_string_append (s, ", \"precision\": ");
    append_num (s, "%.6f", femo_confusion_precision (confusion, i));
    g_string_append (s, ", \"recall\": ");
    append_num (s, "%.6f", femo_confusion_recall (confusion, i));
    g_string_append (s, ", \"f1\": ");
    append_num (s, "%.6f", femo_confusion_f1 (confusion, i));
    g_string_append_printf (s, ", \"support\": %" G_GUINT64_FORMAT "}%s\n",
        femo_confusion_support (confusion, i), i + 1 < n ? "," : "");
  }
  g_string_append (s, "  ],\n  \"confusion\": [\n");
  for (i = 0; i < n; i++) {
    g_string_append (s, "    [");
    for (j = 0; j < n; j++)
      g_string_append_printf (s, "%s%" G_GUINT64_FORMAT, j ? ", " : "",
          confusion->counts[i * n + j]);
    g_string_append_printf (s, "]%s\n", i + 1 < n ? "," : "");
  }
  g_string_append (s, "  ]\n}\n");
  return g_string_free (s, FALSE);
}

/* ---- SVG ---- */

static void
svg_begin (GString * s, gint width, gint height)
{
  g_string_append_printf (s,
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
      "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"13\">\n"
      "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n",
      width, height, width, height, width, height);
}

/* <text> at (x, y) with escaped @text; @attrs adds attributes. */
static void
svg_text (GString * s, gdouble x, gdouble y, const gchar * attrs,
    const gchar * text)
{
  g_autofree gchar *escaped = g_markup_escape_text (text, -1);

  g_string_append (s, "<text x=\"");
  append_num (s, "%.1f", x);
  g_string_append (s, "\" y=\"");
  append_num (s, "%.1f", y);
  g_string_append_printf (s, "\"%s%s>%s</text>\n", attrs ? " " : "",
      attrs ? attrs : "", escaped);
}

static void
svg_line (GString * s, gdouble x1, gdouble y1, gdouble x2, gdouble y2,
    const gchar * stroke)
{
  g_string_append (s, "<line x1=\"");
  append_num (s, "%.1f", x1);
  g_string_append (s, "\" y1=\"");
  append_num (s, "%.1f", y1);
  g_string_append (s, "\" x2=\"");
  append_num (s, "%.1f", x2);
  g_string_append (s, "\" y2=\"");
  append_num (s, "%.1f", y2);
  g_string_append_printf (s, "\" stroke=\"%s\"/>\n", stroke);
}

gchar *
femo_confusion_to_svg (const FemoConfusion * confusion,
    const gchar * const *labels, const gchar * title)
{
  const gint cell = 64, left = 120, top = 70;
  guint n = confusion->n_classes, i, j;
  gint size = cell * n;
  GString *s = g_string_new (NULL);
  g_autofree gchar *summary = NULL;
  gchar acc[G_ASCII_DTOSTR_BUF_SIZE], f1[G_ASCII_DTOSTR_BUF_SIZE];

  svg_begin (s, left + size + 30, top + size + 60);
  svg_text (s, left, 24, "font-size=\"16\" font-weight=\"bold\"",
      title ? title : "Confusion matrix");
  summary = g_strdup_printf ("accuracy %s, macro-F1 %s, %" G_GUINT64_FORMAT
      " images; colour: share of the true class",
      g_ascii_formatd (acc, sizeof (acc), "%.4f",
          femo_confusion_accuracy (confusion)),
      g_ascii_formatd (f1, sizeof (f1), "%.4f",
          femo_confusion_macro_f1 (confusion)),
      femo_confusion_total (confusion));
  svg_text (s, left, 44, "font-size=\"12\" fill=\"#444\"", summary);

  for (i = 0; i < n; i++) {
    guint64 support = femo_confusion_support (confusion, i);

    svg_text (s, left - 8, top + cell * i + cell / 2 + 5,
        "text-anchor=\"end\"", labels[i]);
    svg_text (s, left + cell * i + cell / 2, top - 8,
        "text-anchor=\"middle\"", labels[i]);
    for (j = 0; j < n; j++) {
      guint64 count = confusion->counts[i * n + j];
      gdouble share = support ? (gdouble) count / support : 0.0;
      /* White to a deep blue, lighter text on darker cells. */
      gint r = (gint) round (255 - share * (255 - 8));
      gint g = (gint) round (255 - share * (255 - 48));
      gint b = (gint) round (255 - share * (255 - 107));
      gchar text[32];

      g_string_append_printf (s, "<rect x=\"%d\" y=\"%d\" width=\"%d\" "
          "height=\"%d\" fill=\"#%02x%02x%02x\" stroke=\"#ccc\"/>\n",
          left + cell * (gint) j, top + cell * (gint) i, cell, cell, r, g, b);
      g_snprintf (text, sizeof (text), "%" G_GUINT64_FORMAT, count);
      svg_text (s, left + cell * j + cell / 2, top + cell * i + cell / 2 + 5,
          share > 0.5 ? "text-anchor=\"middle\" fill=\"white\"" :
          "text-anchor=\"middle\"", text);
    }
  }
  svg_text (s, left + size / 2, top + size + 24, "text-anchor=\"middle\"",
      "predicted class");
  g_string_append_printf (s, "<text x=\"0\" y=\"0\" text-anchor=\"middle\" "
      "transform=\"translate(20 %d) rotate(-90)\">true class</text>\n",
      top + size / 2);
  g_string_append (s, "</svg>\n");
  return g_string_free (s, FALSE);
}

typedef struct
{
  const gchar *name;
  const gchar *colour;
  gsize offset;                 /* of a gdouble in FemoEpochMetrics */
} Series;

/* 1, 2 or 5 times a power of ten, about @range / @n. */
static gdouble
nice_step (gdouble range, gint n)
{
  gdouble raw = range / n, base = pow (10.0, floor (log10 (raw)));
  gdouble f = raw / base;

  return (f < 1.5 ? 1.0 : f < 3.5 ? 2.0 : f < 7.5 ? 5.0 : 10.0) * base;
}

static gdouble
series_value (const FemoEpochMetrics * e, const Series * series)
{
  return G_STRUCT_MEMBER (gdouble, e, series->offset);
}

static void
plot_panel (GString * s, gdouble px, gdouble py, gdouble pw, gdouble ph,
    const gchar * title, const FemoEpochMetrics * epochs, guint n,
    const Series * series, guint n_series, gdouble ymin, gdouble ymax,
    const gchar * value_format)
{
  guint first = epochs[0].epoch, last = epochs[n - 1].epoch;
  gdouble xspan = MAX (1.0, (gdouble) last - first);
  gdouble ystep = nice_step (ymax - ymin, 5), v;
  guint xstep = (guint) MAX (1.0, nice_step (xspan, 8)), e, i, k;

#define X(ep) (px + pw * ((gdouble) (ep) - first) / xspan)
#define Y(val) (py + ph - ph * ((val) - ymin) / (ymax - ymin))

  svg_text (s, px + pw / 2, py - 30, "text-anchor=\"middle\" "
      "font-weight=\"bold\"", title);
  /* Grid and axis labels. */
  for (v = ceil (ymin / ystep) * ystep; v <= ymax + ystep * 1e-6; v += ystep) {
    gchar buf[G_ASCII_DTOSTR_BUF_SIZE];

    svg_line (s, px, Y (v), px + pw, Y (v), "#e4e4e4");
    svg_text (s, px - 6, Y (v) + 4, "text-anchor=\"end\" font-size=\"11\"",
        g_ascii_formatd (buf, sizeof (buf), value_format, v));
  }
  for (e = (first + xstep - 1) / xstep * xstep; e <= last; e += xstep) {
    gchar buf[16];

    if (e == 0)
      continue;
    g_snprintf (buf, sizeof (buf), "%u", e);
    svg_line (s, X (e), py + ph, X (e), py + ph + 4, "#444");
    svg_text (s, X (e), py + ph + 17, "text-anchor=\"middle\" "
        "font-size=\"11\"", buf);
  }
  svg_line (s, px, py, px, py + ph, "#444");
  svg_line (s, px, py + ph, px + pw, py + ph, "#444");
  svg_text (s, px + pw / 2, py + ph + 34, "text-anchor=\"middle\"", "epoch");

  for (k = 0; k < n_series; k++) {
    /* Legend, then the line (and dots, which show single epochs too). */
    g_string_append_printf (s, "<rect x=\"%d\" y=\"%d\" width=\"14\" "
        "height=\"4\" fill=\"%s\"/>\n", (gint) px + 130 * (gint) k,
        (gint) py - 16, series[k].colour);
    svg_text (s, px + 130 * k + 18, py - 10, "font-size=\"12\"",
        series[k].name);

    g_string_append_printf (s, "<polyline fill=\"none\" stroke=\"%s\" "
        "stroke-width=\"2\" points=\"", series[k].colour);
    for (i = 0; i < n; i++) {
      v = series_value (&epochs[i], &series[k]);
      if (!isfinite (v))
        continue;
      append_num (s, "%.1f", X (epochs[i].epoch));
      g_string_append_c (s, ',');
      append_num (s, "%.1f", Y (CLAMP (v, ymin, ymax)));
      g_string_append_c (s, ' ');
    }
    g_string_append (s, "\"/>\n");
    for (i = 0; i < n; i++) {
      v = series_value (&epochs[i], &series[k]);
      if (!isfinite (v))
        continue;
      g_string_append (s, "<circle cx=\"");
      append_num (s, "%.1f", X (epochs[i].epoch));
      g_string_append (s, "\" cy=\"");
      append_num (s, "%.1f", Y (CLAMP (v, ymin, ymax)));
      g_string_append_printf (s, "\" r=\"2\" fill=\"%s\"/>\n",
          series[k].colour);
    }
  }
#undef X
#undef Y
}

/* The range of the finite values of @series over @epochs. */
static void
series_range (const FemoEpochMetrics * epochs, guint n,
    const Series * series, guint n_series, gdouble * lo, gdouble * hi)
{
  guint i, k;

  *lo = G_MAXDOUBLE;
  *hi = -G_MAXDOUBLE;
  for (k = 0; k < n_series; k++) {
    for (i = 0; i < n; i++) {
      gdouble v = series_value (&epochs[i], &series[k]);

      if (isfinite (v)) {
        *lo = MIN (*lo, v);
        *hi = MAX (*hi, v);
      }
    }
  }
  if (*lo > *hi) {
    *lo = 0.0;
    *hi = 1.0;
  }
}

gchar *
femo_curves_to_svg (const FemoEpochMetrics * epochs, guint n_epochs,
    const gchar * title)
{
  static const Series loss[] = {
    {"training", "#1f77b4", G_STRUCT_OFFSET (FemoEpochMetrics, train_loss)},
    {"validation", "#ff7f0e", G_STRUCT_OFFSET (FemoEpochMetrics, val_loss)},
  };
  static const Series accuracy[] = {
    {"training", "#1f77b4",
        G_STRUCT_OFFSET (FemoEpochMetrics, train_accuracy)},
    {"validation", "#ff7f0e", G_STRUCT_OFFSET (FemoEpochMetrics,
            val_accuracy)},
  };
  GString *s = g_string_new (NULL);
  gdouble lo, hi;
  guint i, best = 0;

  svg_begin (s, 980, 420);
  svg_text (s, 490, 24, "text-anchor=\"middle\" font-size=\"16\" "
      "font-weight=\"bold\"", title ? title : "Training curves");
  if (n_epochs == 0) {
    svg_text (s, 490, 210, "text-anchor=\"middle\"", "no epochs yet");
    g_string_append (s, "</svg>\n");
    return g_string_free (s, FALSE);
  }

  series_range (epochs, n_epochs, loss, G_N_ELEMENTS (loss), &lo, &hi);
  hi = hi > 0.0 ? hi * 1.05 : 1.0;
  plot_panel (s, 70, 90, 380, 260, "loss (cross-entropy)", epochs, n_epochs,
      loss, G_N_ELEMENTS (loss), 0.0, hi, "%.2f");

  series_range (epochs, n_epochs, accuracy, G_N_ELEMENTS (accuracy), &lo, &hi);
  lo = MAX (0.0, floor (lo * 10.0 - 1e-9) / 10.0);
  hi = MIN (1.0, ceil (hi * 10.0 + 1e-9) / 10.0);
  if (hi <= lo)
    hi = lo + 0.1;
  plot_panel (s, 560, 90, 380, 260, "accuracy", epochs, n_epochs, accuracy,
      G_N_ELEMENTS (accuracy), lo, hi, "%.2f");

  for (i = 1; i < n_epochs; i++)
    if (epochs[i].val_accuracy > epochs[best].val_accuracy)
      best = i;
  if (isfinite (epochs[best].val_accuracy)) {
    gchar buf[G_ASCII_DTOSTR_BUF_SIZE];
    g_autofree gchar *note = g_strdup_printf ("best validation accuracy %s "
        "at epoch %u", g_ascii_formatd (buf, sizeof (buf), "%.4f",
            epochs[best].val_accuracy), epochs[best].epoch);

    svg_text (s, 750, 406, "text-anchor=\"middle\" font-size=\"12\"", note);
  }
  g_string_append (s, "</svg>\n");
  return g_string_free (s, FALSE);
}
