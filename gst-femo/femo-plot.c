/* gst-femo: the emotion plot (SVG) (see femo-plot.h)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "femo-plot.h"

#include <math.h>

#define PLOT_WIDTH 960
#define PLOT_LEFT 70            /* room for the y labels */
#define PLOT_RIGHT 150          /* the legend */
#define PLOT_TOP 56             /* the title */
#define PANEL_HEIGHT 170
#define PANEL_GAP 62            /* panel title and x labels */
#define MAX_PANELS 12

/* femooverlay's colours, neutral darker to show on white; other classes
 * cycle through the rest. */
static const struct
{
  const gchar *label;
  const gchar *color;
} plot_palette[] = {
  {"angry", "#e53935"}, {"disgust", "#8a9a1b"}, {"fear", "#9c4dcc"},
  {"happy", "#ffc107"}, {"sad", "#1e88e5"}, {"surprise", "#ff8f00"},
  {"neutral", "#757575"}, {"contempt", "#8d6e63"},
};

static const gchar *const spare_colors[] = {
  "#00897b", "#d81b60", "#3949ab", "#43a047", "#6d4c41", "#00acc1",
};

static const gchar *
class_color (const gchar * label, guint index)
{
  for (guint i = 0; i < G_N_ELEMENTS (plot_palette); i++)
    if (g_ascii_strcasecmp (label, plot_palette[i].label) == 0)
      return plot_palette[i].color;
  return spare_colors[index % G_N_ELEMENTS (spare_colors)];
}

static void
write_xml_text (FILE * out, const gchar * s)
{
  g_autofree gchar *escaped = g_markup_escape_text (s, -1);
  fputs (escaped, out);
}

/* A round step giving about @n ticks over @range. */
static gdouble
tick_step (gdouble range, guint n)
{
  gdouble raw = range / n, mag = pow (10, floor (log10 (raw)));
  gdouble norm = raw / mag;

  return (norm < 1.5 ? 1 : norm < 3.5 ? 2 : norm < 7.5 ? 5 : 10) * mag;
}

/* One class's series of a track as a path: points averaged per pixel
 * column, the line broken where the face was not seen. */
static void
write_series (FILE * out, const FemoReportTrack * t, guint k, gdouble t0,
    gdouble x_scale, gdouble y0, gdouble max_gap_s)
{
  gdouble prev_t = -G_MAXDOUBLE, acc = 0;
  gint col = G_MININT, acc_n = 0;
  gboolean pen_down = FALSE;

  for (guint i = 0; i <= t->samples->len; i++) {
    const FemoReportSample *s = i < t->samples->len ?
        &g_array_index (t->samples, FemoReportSample, i) : NULL;
    gint c = s ? (gint) floor ((s->t - t0) * x_scale) : G_MAXINT;
    gboolean gap = s && s->t - prev_t > max_gap_s;

    if (s && s->n == 0)
      continue;
    if ((c != col || gap) && acc_n > 0) {
      /* "l0 0" after a move: a frame seen alone still shows, as a dot */
      fprintf (out, "%c%.1f %.1f%s", pen_down ? 'L' : 'M',
          PLOT_LEFT + col + 0.5, y0 - PANEL_HEIGHT * acc / acc_n,
          pen_down ? "" : "l0 0");
      pen_down = TRUE;
      acc = 0;
      acc_n = 0;
    }
    if (s == NULL)
      break;
    if (gap)
      pen_down = FALSE;
    col = c;
    acc += s->sum[k] / s->n;
    acc_n++;
    prev_t = s->t;
  }
}

void
femo_plot_write_svg (const FemoReport * report, FILE * out, const gchar * title,
    gdouble frame_duration_s)
{
  g_autoptr (GPtrArray) tracks = femo_report_get_tracks (report);
  guint n_classes;
  const gchar *const *classes = femo_report_get_classes (report, &n_classes);
  guint n_panels = MAX (MIN (tracks->len, MAX_PANELS), 1);
  guint plot_w = PLOT_WIDTH - PLOT_LEFT - PLOT_RIGHT;
  guint height = PLOT_TOP + n_panels * (PANEL_HEIGHT + PANEL_GAP) + 10;
  gdouble t0 = 0;
  gdouble t1 = MAX (femo_report_get_last_pts (report), 0) + frame_duration_s;
  gdouble x_scale, step;
  /* a face missed for a few frames (or a cut) breaks the line */
  gdouble max_gap_s = MAX (3.5 * frame_duration_s, 0.15);

  t1 = MAX (t1, t0 + 1e-3);
  x_scale = plot_w / (t1 - t0);
  step = tick_step (t1 - t0, 10);

  fprintf (out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%u\" "
      "viewBox=\"0 0 %d %u\" font-family=\"sans-serif\" font-size=\"12\">\n"
      "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
      "<text x=\"%d\" y=\"24\" font-size=\"16\" font-weight=\"bold\">",
      PLOT_WIDTH, height, PLOT_WIDTH, height, PLOT_LEFT);
  fputs ("Emotions over time: ", out);
  write_xml_text (out, title);
  fprintf (out, "</text>\n<text x=\"%d\" y=\"42\" fill=\"#555\">"
      "probability of each emotion per frame (mean over the faces of a "
      "panel)%s</text>\n", PLOT_LEFT, tracks->len > MAX_PANELS ?
      ", longest tracks only" : "");

  /* legend, shared by the panels */
  fprintf (out, "<g class=\"legend\">\n");
  for (guint k = 0; k < n_classes; k++) {
    gdouble y = PLOT_TOP + 16 + 20 * k;
    fprintf (out, "<line x1=\"%d\" y1=\"%.0f\" x2=\"%d\" y2=\"%.0f\" "
        "stroke=\"%s\" stroke-width=\"3\"/><text x=\"%d\" y=\"%.0f\">",
        PLOT_WIDTH - PLOT_RIGHT + 16, y - 4, PLOT_WIDTH - PLOT_RIGHT + 40,
        y - 4, class_color (classes[k], k), PLOT_WIDTH - PLOT_RIGHT + 46, y);
    write_xml_text (out, classes[k]);
    fputs ("</text>\n", out);
  }
  fputs ("</g>\n", out);

  for (guint p = 0; p < n_panels; p++) {
    const FemoReportTrack *t = p < tracks->len ?
        g_ptr_array_index (tracks, p) : NULL;
    g_autofree gchar *name = t ? femo_report_track_title (t) :
        g_strdup ("no faces");
    gdouble top = PLOT_TOP + p * (PANEL_HEIGHT + PANEL_GAP) + 22;
    gdouble y0 = top + PANEL_HEIGHT;

    fprintf (out, "<g class=\"panel\" data-track=\"%u\">\n"
        "<text x=\"%d\" y=\"%.0f\"><tspan font-weight=\"bold\">",
        t ? t->id : 0, PLOT_LEFT, top - 8);
    write_xml_text (out, name);
    fputs ("</tspan>", out);
    if (t) {
      gint best = femo_report_track_dominant (report, t);
      fprintf (out, "  seen %.2f s to %.2f s", t->first_s, t->last_s);
      if (best >= 0) {
        fputs (", mostly ", out);
        write_xml_text (out, classes[best]);
        fprintf (out, " (%.0f%%)", 100.0 * t->counts[best] / t->n_faces);
      }
    }
    fputs ("</text>\n", out);
    /* grid and y axis: 0 to 100 % */
    for (guint i = 0; i <= 4; i++) {
      gdouble y = y0 - PANEL_HEIGHT * i / 4.0;
      fprintf (out, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%u\" y2=\"%.1f\" "
          "stroke=\"%s\"/><text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">"
          "%u%%</text>\n", PLOT_LEFT, y, PLOT_LEFT + plot_w, y,
          i == 0 ? "#000" : "#ddd", PLOT_LEFT - 6, y + 4, 25 * i);
    }
    for (gdouble x = 0; x <= t1 - t0 + 1e-9; x += step) {
      gdouble px = PLOT_LEFT + x * x_scale;
      fprintf (out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
          "stroke=\"#eee\"/><text x=\"%.1f\" y=\"%.1f\" "
          "text-anchor=\"middle\">%g</text>\n", px, top, px, y0 + 4, px,
          y0 + 18, x + t0);
    }
    fprintf (out, "<text x=\"%u\" y=\"%.1f\" text-anchor=\"end\" "
        "fill=\"#555\">time (s)</text>\n", PLOT_LEFT + plot_w, y0 + 34);
    fprintf (out, "<text transform=\"translate(%d %.1f) rotate(-90)\" "
        "text-anchor=\"middle\" fill=\"#555\">probability</text>\n",
        PLOT_LEFT - 44, top + PANEL_HEIGHT / 2.0);
    if (t == NULL || n_classes == 0)
      fprintf (out, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\" "
          "fill=\"#555\">%s</text>\n", PLOT_LEFT + plot_w / 2.0,
          top + PANEL_HEIGHT / 2.0, t == NULL ? "no faces found" :
          "the faces carry no emotions");
    for (guint k = 0; t && k < n_classes; k++) {
      fprintf (out, "<path class=\"series\" data-emotion=\"%s\" fill=\"none\" "
          "stroke=\"%s\" stroke-width=\"1.5\" stroke-linejoin=\"round\" "
          "stroke-linecap=\"round\" d=\"",
          classes[k], class_color (classes[k], k));
      write_series (out, t, k, t0, x_scale, y0, max_gap_s);
      fputs ("\"/>\n", out);
    }
    fputs ("</g>\n", out);
  }
  fputs ("</svg>\n", out);
}
