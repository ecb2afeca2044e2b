/* gst-femo: error domain of libfemo
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define FEMO_ERROR (femo_error_quark ())

/**
 * FemoError:
 * @FEMO_ERROR_IO: a file could not be opened or read
 * @FEMO_ERROR_PARSE: a file is not well-formed (XML, JSON, CSV syntax)
 * @FEMO_ERROR_INVALID: a file is well-formed but its content breaks the rules
 * @FEMO_ERROR_UNSUPPORTED: a valid input that this version does not handle
 * @FEMO_ERROR_ARGUMENT: a caller passed a value out of range
 * @FEMO_ERROR_NO_MEMORY: an input needs more memory than the system gives
 */
typedef enum
{
  FEMO_ERROR_IO,
  FEMO_ERROR_PARSE,
  FEMO_ERROR_INVALID,
  FEMO_ERROR_UNSUPPORTED,
  FEMO_ERROR_ARGUMENT,
  FEMO_ERROR_NO_MEMORY,
} FemoError;

GQuark femo_error_quark (void);

G_END_DECLS
