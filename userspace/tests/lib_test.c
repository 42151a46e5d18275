// SPDX-License-Identifier: GPL-2.0
/*
 * libhyperaether tests that need no device: errors come back as -errno and
 * the argument is never left half-initialised.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hyperaether.h"

static int n;

static void check(int cond, const char *name)
{
	printf("%sok %d - lib/%s\n", cond ? "" : "not ", ++n, name);
}

int main(void)
{
	struct hyperaether_info info;
	int fd, ret;

	/* /dev/null does not implement our ioctls: ENOTTY, as a negative value. */
	fd = open("/dev/null", O_RDWR);
	memset(&info, 0xff, sizeof(info));
	ret = ha_get_info(fd, &info);
	check(ret == -ENOTTY, "get_info_on_non_device_is_enotty");
	check(info.flags == 0 && info.pad == 0, "get_info_zeroes_inputs");
	close(fd);

	ret = ha_get_info(-1, &info);
	check(ret == -EBADF, "get_info_bad_fd_is_ebadf");

	ret = ha_open();
	if (access(HA_DEV_PATH, F_OK))
		check(ret == -ENOENT, "open_without_device_is_enoent");
	else
		check(ret >= 0 || ret == -EACCES, "open_with_device");
	if (ret >= 0)
		close(ret);
	printf("1..%d\n", n);
	return 0;
}
