/* gst-femo: the command-line tool
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "commands.h"

#include <glib.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

typedef struct
{
  const char *name;
  int (*run) (int argc, char **argv);
  const char *summary;
} Command;

static const Command commands[] = {
  {"image", femo_cmd_image,
      "faces and emotions of images, as a table or JSON; annotated copies"},
  {"video", femo_cmd_video,
      "faces and emotions of a video: annotated video, CSV, plot, summary"},
  {"live", femo_cmd_live,
      "faces and emotions of a camera, shown in a window"},
  {"train", femo_cmd_train,
      "train the emotion network on FER2013 (fer2013.csv[.gz])"},
  {"eval", femo_cmd_eval,
      "measure a model's accuracy on FER2013 rows"},
};

static void
print_usage (FILE * out)
{
  fprintf (out, "Usage: gst-femo COMMAND [OPTION...]\n\n"
      "Facial emotion recognition for GStreamer pipelines.\n\nCommands:\n");
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    fprintf (out, "  %-8s %s\n", commands[i].name, commands[i].summary);
  fprintf (out,
      "\nRun 'gst-femo COMMAND --help' for the options of one command.\n"
      "gst-femo %s\n", VERSION);
}

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  /* CSV, JSON and SVG numbers need a decimal point whatever the locale */
  setlocale (LC_NUMERIC, "C");

  if (argc < 2) {
    print_usage (stderr);
    return 2;
  }
  if (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0
      || strcmp (argv[1], "help") == 0) {
    print_usage (stdout);
    return 0;
  }
  if (strcmp (argv[1], "--version") == 0) {
    printf ("gst-femo %s\n", VERSION);
    return 0;
  }
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++) {
    if (strcmp (argv[1], commands[i].name) == 0) {
      g_autofree gchar *prog = g_strdup_printf ("gst-femo %s", argv[1]);
      argv[1] = prog;
      return commands[i].run (argc - 1, argv + 1);
    }
  }
  fprintf (stderr, "gst-femo: unknown command '%s'\n", argv[1]);
  print_usage (stderr);
  return 2;
}
