/* gst-femo: argument parsing shared by the subcommands (see femo-cli.h)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "femo-cli.h"

#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* The entry tables of this process's one command, and its arguments after
 * glued values were split: the command reads argv after parsing, so they
 * live as long as the process. The parser takes pointers out of the vector
 * it is given, so the strings are owned by split_args, not by the vector. */
static GPtrArray *entry_tables;
static GPtrArray *split_args;
static gchar **split_argv;

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

void
femo_cli_add_entries (GOptionContext * ctx, const GOptionEntry * entries)
{
  if (entry_tables == NULL)
    entry_tables = g_ptr_array_new ();
  g_ptr_array_add (entry_tables, (gpointer) entries);
  g_option_context_add_main_entries (ctx, entries, NULL);
}

static gboolean
takes_value (const GOptionEntry * e)
{
  if (e->flags & (G_OPTION_FLAG_OPTIONAL_ARG | G_OPTION_FLAG_NO_ARG))
    return FALSE;
  return e->arg != G_OPTION_ARG_NONE;
}

/* The entry that takes a value named by @arg ("-X" or "--name"), or NULL. */
static const GOptionEntry *
find_valued_entry (const gchar * arg)
{
  for (guint t = 0; entry_tables && t < entry_tables->len; t++)
    for (const GOptionEntry * e = entry_tables->pdata[t]; e->long_name; e++) {
      if (!takes_value (e))
        continue;
      if (arg[1] == '-' ? strcmp (arg + 2, e->long_name) == 0 :
          e->short_name != 0 && arg[1] == e->short_name)
        return e;
    }
  return NULL;
}

/* GLib reads "nan" and "inf" as numbers; no option of ours means either
 * (and a NaN would read as "not given"), so they are refused by name. */
static gboolean
check_doubles (const gchar * prog)
{
  for (guint i = 1; i < split_args->len; i++) {
    const gchar *arg = split_args->pdata[i], *eq, *value = NULL;
    g_autofree gchar *name = NULL;
    const GOptionEntry *e;
    gdouble v;

    if (strcmp (arg, "--") == 0)
      break;
    if (arg[0] != '-' || arg[1] == '\0')
      continue;
    eq = strchr (arg, '=');
    name = eq ? g_strndup (arg, eq - arg) : g_strdup (arg);
    e = find_valued_entry (name);
    if (e == NULL || e->arg != G_OPTION_ARG_DOUBLE)
      continue;
    if (eq)
      value = eq + 1;
    else if (i + 1 < split_args->len)
      value = split_args->pdata[++i];
    if (value == NULL)
      continue;                 /* GLib says the value is missing */
    v = g_ascii_strtod (value, NULL);
    if (isnan (v) || isinf (v)) {
      femo_cli_usage_error (prog, "--%s must be a finite number, not '%s'",
          e->long_name, value);
      return FALSE;
    }
  }
  return TRUE;
}

gboolean
femo_cli_parse (GOptionContext * ctx, int *argc, char ***argv)
{
  g_autoptr (GError) error = NULL;
  const gchar *prog = (*argv)[0];

  split_args = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (split_args, g_strdup (prog));
  for (gint i = 1; i < *argc; i++) {
    const gchar *arg = (*argv)[i];
    gboolean is_short = arg[0] == '-' && arg[1] && arg[1] != '-';

    if (strcmp (arg, "--") == 0) {
      for (; i < *argc; i++)
        g_ptr_array_add (split_args, g_strdup ((*argv)[i]));
      break;
    }
    if (arg[0] != '-' || arg[1] == '\0' || strchr (arg, '=')
        || find_valued_entry (arg) == NULL) {
      g_ptr_array_add (split_args, g_strdup (arg));
      continue;
    }
    if (is_short && arg[2]) {
      g_ptr_array_add (split_args, g_strndup (arg, 2));
      g_ptr_array_add (split_args, g_strdup (arg + 2));
      continue;
    }
    /* "-X VALUE" or "--name VALUE": the value is not an option, even when
     * it starts with '-' */
    g_ptr_array_add (split_args, g_strdup (arg));
    if (i + 1 < *argc)
      g_ptr_array_add (split_args, g_strdup ((*argv)[++i]));
  }
  if (!check_doubles (prog))
    return FALSE;
  *argc = split_args->len;
  split_argv = g_new0 (gchar *, split_args->len + 1);
  memcpy (split_argv, split_args->pdata, split_args->len * sizeof (gchar *));
  *argv = split_argv;

  if (!g_option_context_parse (ctx, argc, argv, &error)) {
    femo_cli_usage_error (prog, "%s", error->message);
    return FALSE;
  }
  return TRUE;
}

gboolean
femo_cli_check_model_file (const gchar * path, GError ** error)
{
  guint8 head[9];
  guint64 header_length = 0;
  gsize n;
  FILE *f = g_fopen (path, "rb");

  if (f == NULL)
    return TRUE;
  n = fread (head, 1, sizeof (head), f);
  fclose (f);
  for (gint b = 7; n == sizeof (head) && b >= 0; b--)
    header_length = (header_length << 8) | head[b];
  /* a safetensors file: an 8-byte little-endian length, then a JSON object;
   * a longer length than a weights file ever has means other bytes */
  if (n == sizeof (head) && head[8] == '{' && header_length >= 2
      && header_length < (1 << 30))
    return TRUE;
  g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
      "%s is not a model: not a safetensors file (the weights files that "
      "'gst-femo train' writes and models/ ships)", path);
  return FALSE;
}
