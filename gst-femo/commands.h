/* gst-femo: the subcommands of the command-line tool
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

/* Each takes the arguments after the command name (argv[0] = "gst-femo CMD")
 * and returns the process exit status. */
int femo_cmd_train (int argc, char **argv);
int femo_cmd_eval (int argc, char **argv);
int femo_cmd_video (int argc, char **argv);
int femo_cmd_image (int argc, char **argv);
int femo_cmd_live (int argc, char **argv);
