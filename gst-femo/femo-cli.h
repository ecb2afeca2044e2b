/* gst-femo: argument parsing shared by the subcommands
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Prints "PROG: MESSAGE (see --help)" to stderr; returns 2, the exit
 * status of a usage error. */
int femo_cli_usage_error (const gchar * prog, const gchar * format, ...)
    G_GNUC_PRINTF (2, 3);

/* g_option_context_parse; FALSE after femo_cli_usage_error with the parser's
 * message (the command then exits with 2). */
gboolean femo_cli_parse (GOptionContext * ctx, int *argc, char ***argv);

G_END_DECLS
