// SPDX-License-Identifier: GPL-2.0
/*
 * The LAVM epoch engine built a second time with AVX2 (256-bit vectors),
 * its entry points renamed with an _avx2 suffix, as userspace does; the
 * CPU engine picks it when the CPU and the kernel's FPU state have AVX2.
 */
#include "ha_lavm_epoch.h"

#define LAVM_EPOCH_NAME(x) x##_avx2
#include "lavm_epoch.c"
