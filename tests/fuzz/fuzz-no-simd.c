/* gst-femo fuzzing: no SIMD CNN kernels in the clang fuzz build
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * femo-kernels-avx2.c and -avx512.c are written with GCC's vector
 * extensions (__builtin_shuffle, #pragma GCC target), which clang does not
 * compile. The fuzz targets are about the loaders, so the fuzz build links
 * these in their place and the net runs on the reference kernels.
 */
#include "femo-kernels.h"

const FemoKernels *
femo_kernels_avx2 (void)
{
  return NULL;
}

const FemoKernels *
femo_kernels_avx512 (void)
{
  return NULL;
}
