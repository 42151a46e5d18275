/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* Minimal TAP output and helpers shared by the lavm tests. */
#ifndef LAVM_TAP_H
#define LAVM_TAP_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lavm_host.h"
#include "tap.h"

static __attribute__((unused)) uint32_t fbits(float f)
{
	uint32_t u;

	memcpy(&u, &f, 4);
	return u;
}

static __attribute__((unused)) float bitsf(uint32_t u)
{
	float f;

	memcpy(&f, &u, 4);
	return f;
}

/* Engine configurations every semantic test runs on. */
struct engine_cfg {
	const char *name;
	enum lavm_engine_kind kind;
	const char *isa;	/* LAVM_ISA for the epoch engine */
	unsigned int threads;
	unsigned int slice;	/* epoch engine in slices of this many epochs */
};

static const struct engine_cfg engine_cfgs[] = {
	{ "ref", LAVM_ENGINE_REF, NULL, 1 },
	{ "switch", LAVM_ENGINE_SWITCH, NULL, 1 },
	{ "epoch/generic/1", LAVM_ENGINE_EPOCH, "generic", 1 },
	{ "epoch/avx2/2", LAVM_ENGINE_EPOCH, "avx2", 2 },
	{ "epoch/avx512/3", LAVM_ENGINE_EPOCH, "avx512", 3 },
	{ "epoch/generic/sliced", LAVM_ENGINE_EPOCH, NULL, 1, 3 },
};
#define NENGINES (sizeof(engine_cfgs) / sizeof(engine_cfgs[0]))

/*
 * The generic epoch engine driven as the kernel driver drives it: loaded
 * once, run in slices of @slice epochs joined by lavm_epoch_extend(),
 * written back once.
 */
static __attribute__((unused)) long run_sliced(struct lavm_job *job, uint32_t slice)
{
	uint32_t budget = job->max_epochs, target, old, most;
	struct lavm_epoch_wait w;
	struct lavm_epoch eng;
	size_t len;
	void *mem;

	if (!budget)
		return lavm_engine_run(job, LAVM_ENGINE_EPOCH, 1);
	if (job->acl && lavm_acl_check(job->acl, job->nvms))
		return -EINVAL;
	len = lavm_epoch_mem_size(job->prog, job->nvms);
	mem = aligned_alloc(4096, (len + 4095) & ~(size_t)4095);
	if (!mem)
		abort();
	target = slice < budget ? slice : budget;
	job->max_epochs = target;
	if (lavm_epoch_setup(&eng, job, mem, len))
		abort();
	lavm_epoch_load(&eng, 0, eng.nblocks);
	for (;;) {
		do {
			lavm_epoch_run_blocks(&eng, 0, eng.nblocks);
			lavm_epoch_min_io(&eng, 0, eng.nblocks, &w);
		} while (lavm_epoch_io(&eng, &w));
		most = lavm_epoch_most(&eng, 0, eng.nblocks, NULL);
		if (most < target || target == budget)
			break;
		old = target;
		target = budget - target > slice ? target + slice : budget;
		job->max_epochs = target;
		lavm_epoch_extend(&eng, 0, eng.nblocks, old);
	}
	most = lavm_epoch_finish(&eng, 0, eng.nblocks);
	job->max_epochs = budget;
	free(mem);
	return most;
}

static __attribute__((unused)) long run_cfg(const struct engine_cfg *c, struct lavm_job *job)
{
	if (c->slice)
		return run_sliced(job, c->slice);
	if (c->isa)
		setenv("LAVM_ISA", c->isa, 1);
	return lavm_engine_run(job, c->kind, c->threads);
}

static __attribute__((unused)) int assemble_str(const char *src, struct lavm_image *img)
{
	return lavm_assemble("<test>", src, strlen(src), img, stderr);
}

#endif
