/* gst-femo: the emotion plot (SVG) of a report
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "femo-report.h"

G_BEGIN_DECLS

/* Emotion probabilities over time, one panel per track, one series per
 * class. @frame_duration_s (> 0) tells gaps from consecutive frames. */
void femo_plot_write_svg (const FemoReport * report, FILE * out,
    const gchar * title, gdouble frame_duration_s);

G_END_DECLS
