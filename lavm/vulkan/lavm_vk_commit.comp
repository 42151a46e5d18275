#version 450
/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The commit kernel: the WRITEs of the granted epoch land; where several
 * VMs wrote one word the highest index wins (owner[] holds it, set with
 * atomicMax by the run kernel), as lavm_commit_writes() in index order.
 * Invocation 0 also clears the counters the next round reports to.
 */
#extension GL_GOOGLE_include_directive : require
#include "lavm_vk_common.glsl"

void main()
{
	uint i = gl_GlobalInvocationID.x;

	if (i == 0u)
		ctl[(pc.round + 1u) & 1u] = uvec2(EPOCH_NONE, EPOCH_NONE);
	if (i >= pc.nvms)
		return;
	uint base = i * VM_WORDS, addr = vms[base + VM_PEND_ADDR];

	if (addr == NO_WRITE)
		return;
	if (owner[addr] == i + 1u) {
		shared_mem[addr] = vms[base + VM_PEND_VAL];
		owner[addr] = 0u;	/* only the winner reads its own index */
	}
	vms[base + VM_PEND_ADDR] = NO_WRITE;
}
