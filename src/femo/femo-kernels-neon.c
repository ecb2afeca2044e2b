/* gst-femo: NEON kernels (arm64, where NEON is always present)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "femo-kernels.h"

#if defined(__aarch64__) && defined(__GNUC__)

/* 32 q registers: 8 output channels x 3 vectors of 4 = 24 accumulators. */
#define BODY_VW 4
#define BODY_NO 8
#define BODY_QB 3
#define BODY_NAME "neon"
#define BODY_TABLE neon_kernels
#include "femo-kernels-body.h"

const FemoKernels *
femo_kernels_neon (void)
{
  return &neon_kernels;
}

#else

const FemoKernels *
femo_kernels_neon (void)
{
  return NULL;
}

#endif
