/* gst-femo: femodetect's settings as command-line options
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

typedef struct
{
  /* NULL: the element's default */
  gchar *detector;              /* "cascade" or "yunet" */
  gchar *cascade, *model;
  gdouble scale_factor;         /* 0: default */
  /* FEMO_DETECT_OPTION_UNSET: the element's default (threads: one per
   * core); any other negative value is refused */
  gint min_neighbors, min_size, process_width, threads;
  /* -1: the detector's default, as femodetect's */
  gdouble min_confidence;
} FemoDetectOptions;

#define FEMO_DETECT_OPTION_UNSET G_MININT
#define FEMO_DETECT_OPTIONS_INIT { NULL, NULL, NULL, 0.0, \
    FEMO_DETECT_OPTION_UNSET, FEMO_DETECT_OPTION_UNSET, \
    FEMO_DETECT_OPTION_UNSET, FEMO_DETECT_OPTION_UNSET, -1.0 }

void femo_detect_options_apply (const FemoDetectOptions * o,
    GstElement * detect);
void femo_detect_options_clear (FemoDetectOptions * o);
/* Adds --model, --detector, --cascade, --scale-factor, --min-neighbors,
 * --min-size, --min-confidence, --process-width and --threads (-j) to the
 * main group of @ctx, and GStreamer's options; parses
 * (femo_cli_parse) and checks the values (a --model that is not a
 * safetensors file included); FALSE after printing the usage error (exit
 * status 2). */
gboolean femo_detect_options_parse (GOptionContext * ctx,
    FemoDetectOptions * o, int *argc, char ***argv);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (FemoDetectOptions, femo_detect_options_clear)

G_END_DECLS
