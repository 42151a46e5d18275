// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * libhyperaether: synchronous ioctl wrappers over /dev/hyperaether.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "hyperaether.h"

int ha_open(void)
{
	int fd = open(HA_DEV_PATH, O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

static int ha_ioctl(int fd, unsigned long cmd, void *arg)
{
	int ret;

	do {
		ret = ioctl(fd, cmd, arg);
	} while (ret < 0 && errno == EINTR);
	return ret < 0 ? -errno : ret;
}

int ha_get_info(int fd, struct hyperaether_info *info)
{
	memset(info, 0, sizeof(*info));
	return ha_ioctl(fd, HYPERAETHER_IOC_GET_INFO, info);
}
