/* gst-femo: AVX-512 kernels (x86-64), chosen at run time
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "femo-kernels.h"

/* GCC vector extensions (__builtin_shuffle, #pragma GCC target): clang
 * builds (the fuzz build) run the reference kernels. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)

#pragma GCC push_options
#pragma GCC target ("avx512f,avx512vl,avx512dq,avx2,fma")

/* 32 zmm registers: 8 output channels x 3 vectors of 16 = 24 accumulators,
 * 3 input vectors and a broadcast. */
#define BODY_VW 16
#define BODY_NO 8
#define BODY_QB 3
#define BODY_NAME "avx512"
#define BODY_TABLE avx512_kernels
#include "femo-kernels-body.h"

#pragma GCC pop_options

const FemoKernels *
femo_kernels_avx512 (void)
{
  __builtin_cpu_init ();
  if (__builtin_cpu_supports ("avx512f") && __builtin_cpu_supports ("fma"))
    return &avx512_kernels;
  return NULL;
}

#else

const FemoKernels *
femo_kernels_avx512 (void)
{
  return NULL;
}

#endif
