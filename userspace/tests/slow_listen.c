// SPDX-License-Identifier: GPL-2.0
/*
 * LD_PRELOAD shim for daemon_test.py: listen() sleeps 300 ms first, so the
 * window between a socket's bind() and its listen() is wide enough for a
 * test to land in it every time.  A daemon whose socket file appears before
 * it listens then refuses the test's connect() (ECONNREFUSED).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

int listen(int fd, int backlog)
{
	int (*real_listen)(int, int) = (int (*)(int, int))dlsym(RTLD_NEXT, "listen");

	fprintf(stderr, "slow_listen: listen(%d) in 300 ms\n", fd);
	usleep(300000);
	return real_listen(fd, backlog);
}
