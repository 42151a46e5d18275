/* SPDX-License-Identifier: LGPL-2.1 OR MIT */
/*
 * libhyperaether: the C API over /dev/hyperaether.
 *
 * Every function returns 0 (or a non-negative value) on success and a
 * negative errno on failure; print it with strerror(-ret).
 */
#ifndef HYPERAETHER_LIB_H
#define HYPERAETHER_LIB_H

#include <linux/hyperaether.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Path of the fabric device node. */
#define HA_DEV_PATH "/dev/" HYPERAETHER_DEVICE_NAME

/* Open the fabric device; returns an fd or -errno. */
int ha_open(void);

/* Query the module's ABI version and features. */
int ha_get_info(int fd, struct hyperaether_info *info);

#ifdef __cplusplus
}
#endif

#endif /* HYPERAETHER_LIB_H */
