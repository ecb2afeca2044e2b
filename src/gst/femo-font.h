/* gst-femo: a compact bitmap font for the overlay (printable ASCII)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Glyphs are 5x9 pixels in a 6x10 cell: rows 0-6 stand on the baseline
 * (capital height 7), rows 7-8 hold descenders (g j p q y , ;). One column
 * and one row of the cell stay empty so that glyphs never touch. Every
 * dimension is multiplied by an integer scale when drawn.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define FEMO_FONT_GLYPH_WIDTH 5
#define FEMO_FONT_GLYPH_HEIGHT 9
#define FEMO_FONT_ADVANCE 6
#define FEMO_FONT_LINE_HEIGHT 10

/* Number of glyphs @text is drawn with: one per printable ASCII byte, one
 * '?' per other UTF-8 character (continuation bytes take no room). */
guint femo_font_text_length (const gchar * text);

/* Width in pixels of @text at @scale, without the trailing spacing column;
 * 0 for an empty string. */
guint femo_font_text_width (const gchar * text, guint scale);

/* Draws @text into a native-endian ARGB (0xAARRGGBB) canvas of
 * @width x @height pixels, @stride pixels per row, with the top left corner
 * of the first glyph at (@x, @y). Ink outside the canvas is clipped;
 * characters outside printable ASCII are drawn as '?'. */
void femo_font_draw (guint32 * pixels, guint width, guint height,
    guint stride, gint x, gint y, const gchar * text, guint scale,
    guint32 argb);

G_END_DECLS
