/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* TAP output and spec helpers shared by the genclient tests. */
#ifndef GEN_TAP_H
#define GEN_TAP_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "genclient.h"
#include "tests/tap.h"	/* lavm/tests/ */

static __attribute__((unused)) double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Parses @json or fails the test with the parser's message. */
static __attribute__((unused)) struct gen_spec *spec_or_fail(const char *name, const char *json)
{
	struct gen_spec *spec;
	struct gen_error err;

	if (gen_spec_parse(json, strlen(json), name, &spec, &err)) {
		tap_ok(0, "%s: spec parses (%s)", name, err.msg);
		return NULL;
	}
	return spec;
}

/*
 * Runs @prog for @vm with inputs @in (all instances alike) on the
 * reference interpreter; @job is left for the caller to inspect and free.
 */
static __attribute__((unused)) int run_inputs(const struct gen_vm *vm, const struct lavm_prog *prog,
					      const float *in, const struct gen_word *shared,
					      uint32_t nshared, struct lavm_job *job)
{
	struct gen_example ex = { .nin = vm->ninputs, .shared_in = (struct gen_word *)shared,
				  .nshared_in = nshared };
	int ret;

	if (in)
		memcpy(ex.in, in, vm->ninputs * sizeof(float));
	ret = gen_job_setup(vm, prog, &ex, job);
	if (ret)
		return ret;
	lavm_ref_run(job);
	for (uint32_t i = 0; i < job->nvms; i++)
		if (job->vms[i].status != LAVM_HALTED)
			return -EINVAL;
	return 0;
}

#endif /* GEN_TAP_H */
