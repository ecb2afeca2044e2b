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

/* g_option_context_add_main_entries, remembering which options take a value
 * so that femo_cli_parse can split glued short ones (-j1, -oDIR). @entries
 * must live until femo_cli_parse has returned. */
void femo_cli_add_entries (GOptionContext * ctx, const GOptionEntry * entries);

/* g_option_context_parse, after splitting "-Xvalue" into "-X" "value" for the
 * short options added with femo_cli_add_entries that take a value; FALSE
 * after femo_cli_usage_error with the parser's message (the command then
 * exits with 2). */
gboolean femo_cli_parse (GOptionContext * ctx, int *argc, char ***argv);

/* FALSE + @error saying so in plain words when @path exists but is not a
 * safetensors file (text, an image, ...); TRUE otherwise, also when it
 * cannot be read: the model loader then names the problem. */
gboolean femo_cli_check_model_file (const gchar * path, GError ** error);

G_END_DECLS
