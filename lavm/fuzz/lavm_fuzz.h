/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Shared by the fuzz targets: run a verified program on the reference
 * interpreter and on the epoch engine (the same core code the kernel runs)
 * and insist on bit-identical results.  Small VM counts and epoch budgets
 * keep each input fast.
 */
#ifndef LAVM_FUZZ_H
#define LAVM_FUZZ_H

#include <stdlib.h>
#include <string.h>
#include "lavm.h"

/*
 * @acl_bits: odd: both engines run under an access-control table drawn from
 * the other bits (segments of 1-4 words, 1-4 segments, 4-bit masks).
 */
static void fuzz_run_both(const struct lavm_prog *prog, uint32_t nvms, uint32_t max_epochs,
			  uint32_t acl_bits)
{
	uint8_t dom[8];
	uint64_t allow[4];
	struct lavm_acl acl = {
		dom, allow, 1 + (acl_bits >> 1) % 4, 1 + (acl_bits >> 3) % 4
	};
	uint32_t nshared = prog->shared_size ? prog->shared_size : 4;
	struct lavm_vm *a, *b;
	struct lavm_frame *sa, *sb;
	float *sha, *shb;
	struct lavm_job ja, jb;
	struct lavm_epoch eng;
	size_t elen;
	void *emem;
	uint32_t ea, eb;

	if (nshared > 65536 || nvms > 8)
		return;
	for (uint32_t i = 0; i < 8; i++)
		dom[i] = ((acl_bits >> 5) + i) % acl.nseg;
	for (uint32_t d = 0; d < 4; d++)
		allow[d] = acl_bits >> (8 + 4 * d) & 15;
	a = calloc(nvms, sizeof(*a));
	b = calloc(nvms, sizeof(*b));
	sa = calloc(lavm_stack_size(prog, nvms) + 16, 1);
	sb = calloc(lavm_stack_size(prog, nvms) + 16, 1);
	sha = calloc(nshared, 4);
	shb = calloc(nshared, 4);
	elen = lavm_epoch_mem_size(prog, nvms);
	emem = malloc(elen);
	for (uint32_t i = 0; i < nvms; i++) {
		lavm_vm_init(&a[i], prog, i);
		lavm_vm_init(&b[i], prog, i);
	}
	for (uint32_t i = 0; i < nshared; i++)
		sha[i] = shb[i] = (float)(i % 5);
	ja = (struct lavm_job){ prog, a, nvms, sa, sha, nshared, max_epochs,
				acl_bits & 1 ? &acl : NULL };
	jb = ja;
	jb.vms = b;
	jb.stack = sb;
	jb.shared = shb;
	ea = lavm_ref_run(&ja);
	if (lavm_epoch_setup(&eng, &jb, emem, elen))
		abort();
	eb = lavm_epoch_run(&eng);
	if (ea != eb)
		abort();
	for (uint32_t i = 0; i < nvms; i++)
		if (memcmp(a[i].v, b[i].v, sizeof(a[i].v)) || a[i].status != b[i].status ||
		    a[i].fault != b[i].fault || a[i].sp != b[i].sp || a[i].epochs != b[i].epochs)
			abort();
	if (memcmp(sha, shb, nshared * 4))
		abort();
	free(a); free(b); free(sa); free(sb); free(sha); free(shb); free(emem);
}

#endif
