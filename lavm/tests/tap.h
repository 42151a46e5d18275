/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* TAP output for the userspace tests (lavm, genclient, executor). */
#ifndef HA_TAP_H
#define HA_TAP_H

#include <stdarg.h>
#include <stdio.h>

static int tap_count, tap_failed;

static __attribute__((format(printf, 2, 3), unused)) int tap_ok(int cond, const char *fmt, ...)
{
	va_list ap;

	tap_count++;
	if (!cond)
		tap_failed++;
	printf("%sok %d - ", cond ? "" : "not ", tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	return cond;
}

static __attribute__((unused)) int tap_done(void)
{
	printf("1..%d\n", tap_count);
	return tap_failed ? 1 : 0;
}

#endif /* HA_TAP_H */
