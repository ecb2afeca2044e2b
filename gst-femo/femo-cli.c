/* gst-femo: argument parsing shared by the subcommands (see femo-cli.h)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "femo-cli.h"

#include <stdio.h>

int
femo_cli_usage_error (const gchar * prog, const gchar * format, ...)
{
  g_autofree gchar *message = NULL;
  va_list ap;

  va_start (ap, format);
  message = g_strdup_vprintf (format, ap);
  va_end (ap);
  fprintf (stderr, "%s: %s (see --help)\n", prog, message);
  return 2;
}

gboolean
femo_cli_parse (GOptionContext * ctx, int *argc, char ***argv)
{
  g_autoptr (GError) error = NULL;
  const gchar *prog = (*argv)[0];

  if (!g_option_context_parse (ctx, argc, argv, &error)) {
    femo_cli_usage_error (prog, "%s", error->message);
    return FALSE;
  }
  return TRUE;
}
