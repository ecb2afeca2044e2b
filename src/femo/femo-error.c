/* gst-femo: error domain of libfemo
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "femo-error.h"

G_DEFINE_QUARK (femo-error-quark, femo_error)
