// SPDX-License-Identifier: GPL-2.0
/*
 * Prints the host's TSC frequency in kHz, measured against
 * CLOCK_MONOTONIC_RAW over 200 ms.  Under TCG the guest's RDTSC reads the
 * host's TSC, so this is the guest's TSC frequency too; run.sh passes it
 * as tsc_early_khz= so that the test kernel never boots with an unknown
 * TSC frequency (Documentation/testing.rst: with tsc_khz == 0 KVM never
 * enters a guest).
 */
#include <stdio.h>
#include <time.h>
#include <x86intrin.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(void)
{
	struct timespec nap = { .tv_nsec = 200000000 };
	unsigned long long c0, c1;
	double t0, t1;

	t0 = now();
	c0 = __rdtsc();
	nanosleep(&nap, NULL);
	c1 = __rdtsc();
	t1 = now();
	if (c1 <= c0 || t1 <= t0)
		return 1;
	printf("%.0f\n", (double)(c1 - c0) / (t1 - t0) / 1000.0);
	return 0;
}
