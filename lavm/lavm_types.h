/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The one place where the LAVM core touches its environment: fixed-width
 * types.  The kernel gets them from <linux/types.h> (which also defines the
 * C99 names uint32_t, int64_t, size_t, bool), userspace from the
 * freestanding C headers, which need no libc.
 */
#ifndef LAVM_TYPES_H
#define LAVM_TYPES_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#endif

#endif /* LAVM_TYPES_H */
