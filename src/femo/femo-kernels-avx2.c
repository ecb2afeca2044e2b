/* gst-femo: AVX2/FMA kernels (x86-64), chosen at run time
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "femo-kernels.h"

/* GCC vector extensions (__builtin_shuffle, #pragma GCC target): clang
 * builds (the fuzz build) run the reference kernels. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)

#pragma GCC push_options
#pragma GCC target ("avx2,fma")

/* 16 ymm registers: 4 output channels x 3 vectors of 8 = 12 accumulators,
 * 3 input vectors and a broadcast. */
#define BODY_VW 8
#define BODY_NO 4
#define BODY_QB 3
#define BODY_NAME "avx2"
#define BODY_TABLE avx2_kernels
#include "femo-kernels-body.h"

#pragma GCC pop_options

const FemoKernels *
femo_kernels_avx2 (void)
{
  __builtin_cpu_init ();
  if (__builtin_cpu_supports ("avx2") && __builtin_cpu_supports ("fma"))
    return &avx2_kernels;
  return NULL;
}

#else

const FemoKernels *
femo_kernels_avx2 (void)
{
  return NULL;
}

#endif
