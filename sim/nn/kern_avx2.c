/* kern_avx2: the kernels of kern_impl.h compiled for AVX2 (without FMA: separate multiply and add,
 * the same roundings as the baseline). Only called after kern_simd_avx2() checked the CPU. */
#if defined(__x86_64__)
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2"))), apply_to = function)
#else
#pragma GCC target("avx2")
#endif
#define KERN_AVX2 1
#include "kern_impl.h"
#if defined(__clang__)
#pragma clang attribute pop
#endif
#else
typedef int kern_avx2_unused_t; /* not x86-64: nothing to build */
#endif
