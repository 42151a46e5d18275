/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * Hyper-Aether fabric device: /dev/hyperaether.
 *
 * The only ABI between the hyperaether.ko module and userspace.  Rules
 * (Documentation/process/botching-up-ioctls.rst):
 *
 *  - fixed-width types only, pointers as __u64, every struct padded to a
 *    multiple of 8 bytes with explicit padding that must be zero;
 *  - every struct carries a flags field; unknown bits are rejected with
 *    -EINVAL so that they can be given a meaning later;
 *  - structs grow by appending fields.  The size is encoded in the ioctl
 *    number: the kernel accepts a shorter (older) struct and zero-extends
 *    it, and accepts a longer (newer) one only if the bytes it does not
 *    know are zero (else -E2BIG);
 *  - capabilities are discovered with HYPERAETHER_IOC_GET_INFO, never
 *    guessed from a version number.
 */
#ifndef _UAPI_LINUX_HYPERAETHER_H
#define _UAPI_LINUX_HYPERAETHER_H

#include <linux/const.h>
#include <linux/ioctl.h>
#include <linux/types.h>

#define HYPERAETHER_DEVICE_NAME		"hyperaether"

/* ABI version: major changes never happen, minor grows with each feature. */
#define HYPERAETHER_API_MAJOR		1
#define HYPERAETHER_API_MINOR		0

/* Feature bits reported in &hyperaether_info.features. */
/** @HYPERAETHER_FEAT_INFO: HYPERAETHER_IOC_GET_INFO is implemented. */
#define HYPERAETHER_FEAT_INFO		_BITULL(0)

/**
 * struct hyperaether_info - device and ABI description
 *
 * Argument of %HYPERAETHER_IOC_GET_INFO.
 */
struct hyperaether_info {
	/** @flags: In: must be 0. */
	__u32 flags;
	/** @pad: In: must be 0. */
	__u32 pad;
	/** @api_major: Out: %HYPERAETHER_API_MAJOR of the running module. */
	__u32 api_major;
	/** @api_minor: Out: %HYPERAETHER_API_MINOR of the running module. */
	__u32 api_minor;
	/** @features: Out: mask of HYPERAETHER_FEAT_* the module implements. */
	__u64 features;
	/**
	 * @struct_size: Out: size in bytes of this struct as the module knows
	 * it; a caller with a larger struct sees which tail is valid.
	 */
	__u32 struct_size;
	/** @pad2: Out: 0. */
	__u32 pad2;
};

#define HYPERAETHER_IOC_MAGIC		0xB9

/* All ioctl numbers, in one table; numbers are never reused. */
#define HYPERAETHER_IOC_GET_INFO \
	_IOWR(HYPERAETHER_IOC_MAGIC, 0x00, struct hyperaether_info)

#endif /* _UAPI_LINUX_HYPERAETHER_H */
