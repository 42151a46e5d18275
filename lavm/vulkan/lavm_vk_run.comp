#version 450
/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The run kernel: one invocation per VM.  A VM first performs the READ or
 * WRITE it waits at if the previous round granted that epoch (READs see
 * shared memory as at the start of the epoch: no WRITE of it has landed;
 * WRITEs stay pending for the commit kernel), then runs ahead on its own
 * until its next READ/WRITE, a stop, max_epochs or its instruction budget,
 * and reports where it waits.
 */
#extension GL_GOOGLE_include_directive : require
#include "lavm_vk_common.glsl"
#include "lavm_vk_math.glsl"

uint v[22];

bool acl_allows(uint i, uint addr)
{
	uint seg = addr / pc.acl_seg_words;

	if (seg >= pc.acl_nseg)
		return false;
	uvec2 m = acl_allow[acl_dom[i]];
	return ((seg < 32u ? m.x >> seg : m.y >> (seg - 32u)) & 1u) != 0u;
}

/* lavm_shared_access(): 0 and @addr, or the fault */
uint shared_access(uint i, uint x, out uint addr)
{
	if (!bits_index(x, pc.nshared, addr))
		return F_SHARED_ADDR;
	if (pc.acl_nseg != 0u && !acl_allows(i, addr))
		return F_ACCESS;
	return 0u;
}

uint alu(uint op, uint a, uint b, uint imm)
{
	switch (op) {
	case 0u: return f_add(a, b);
	case 1u: return f_sub(a, b);
	case 3u: return imm;
	case 7u: return 0u;
	case 8u: return a ^ SIGN;
	case 9u: return f_mul(a, imm);
	case 10u: return f_mul(a, b);
	case 11u: return f_div(a, b);
	case 12u: return f_mod(a, b);
	case 13u: return f_sub(a, b);
	case 14u: return f_min(a, b);
	case 15u: return f_max(a, b);
	case 16u: return a & 0x7fffffffu;
	case 17u: return f_sqrt(a);
	case 18u: return f_sin(a);
	case 19u: return f_cos(a);
	}
	return a;		/* MOV, LOAD, STORE, COPY */
}

void main()
{
	uint i = gl_GlobalInvocationID.x;
	uint prev = (pc.round + 1u) & 1u;
	uvec2 last = ctl[prev];
	uint grant = last.x < last.y ? last.x : EPOCH_NONE;

	if (i >= pc.nvms || (last.x == EPOCH_NONE && last.y == EPOCH_NONE))
		return;
	uint base = i * VM_WORDS;
	uint status = vms[base + VM_STATUS];

	if (status != ST_RUNNING && status != ST_YIELDED)
		return;
	for (int k = 0; k < 22; k++)
		v[k] = vms[base + k];
	uint sp = vms[base + VM_SP], epochs = vms[base + VM_EPOCHS];
	uint fault = 0u, steps = 0u, fbase = i * pc.depth;
	bool stop = false, reported = false;

	while (!stop && epochs < pc.max_epochs) {
		uint ip, addr;

		if (steps == pc.budget)
			break;		/* reported below */
		steps++;
		if (status == ST_YIELDED) {
			epochs++;
			status = ST_RUNNING;
			continue;
		}
		if (!bits_index(v[0], pc.ninsns, ip)) {
			fault = F_BAD_IP;
			epochs++;
			break;
		}
		uint c = ip * 5u, op = code[c], next = ip + 1u;

		if (op < 20u) {
			v[code[c + 1u]] = alu(op, v[code[c + 2u]], v[code[c + 3u]], code[c + 4u]);
		} else if (op >= 50u && op <= 56u) {
			if (branch_taken(op, v[code[c + 2u]]))
				next = code[c + 4u];
		} else {
			switch (op) {
			case 20u: /* READ rd, ra: dst slot, address slot */
			case 21u: /* WRITE ra, rs: address slot, value slot */
				fault = shared_access(i, v[code[c + 2u]], addr);
				if (fault != 0u)
					break;
				if (epochs != grant) {
					/* wait here until every WRITE before this epoch landed */
					atomicMin(ctl[pc.round & 1u].x, epochs);
					stop = reported = true;
					break;
				}
				grant = EPOCH_NONE;
				if (op == 20u) {
					v[code[c + 1u]] = shared_mem[addr];
				} else {
					vms[base + VM_PEND_ADDR] = addr;
					vms[base + VM_PEND_VAL] = v[code[c + 3u]];
					atomicMax(owner[addr], i + 1u);
				}
				break;
			case 22u: /* YIELD */
				status = ST_YIELDED;
				break;
			case 23u: /* HALT: IP stays on it */
				status = ST_HALTED;
				next = ip;
				stop = true;
				break;
			case 60u: /* CALL */
				if (sp >= pc.depth) {
					fault = F_STACK_OVERFLOW;
					break;
				}
				uint f = (fbase + sp) * 4u;
				stack[f] = next;
				stack[f + 1u] = v[2];
				stack[f + 2u] = v[3];
				stack[f + 3u] = v[4];
				sp++;
				next = code[c + 4u];
				break;
			case 61u: /* RETURN */
				if (sp == 0u) {
					fault = F_STACK_UNDERFLOW;
					break;
				}
				sp--;
				uint g = (fbase + sp) * 4u;
				next = stack[g];
				v[2] = stack[g + 1u];
				v[3] = stack[g + 2u];
				v[4] = stack[g + 3u];
				break;
			}
			if (fault != 0u) {
				epochs++;
				break;
			}
			if (stop && status != ST_HALTED)
				break;		/* waiting: the instruction has not run */
		}
		v[0] = floatBitsToUint(float(next));
		epochs++;
	}
	/*
	 * Stopped on the budget, or by the driver: lavapipe ends a shader's
	 * loops after 65535 iterations in all.  The VM goes on next round.
	 */
	if (!reported && fault == 0u && status != ST_HALTED && epochs < pc.max_epochs)
		atomicMin(ctl[pc.round & 1u].y, epochs);
	for (int k = 0; k < 22; k++)
		vms[base + k] = v[k];
	vms[base + VM_SP] = sp;
	vms[base + VM_STATUS] = fault != 0u ? ST_FAULTED : status;
	vms[base + VM_FAULT] = fault;
	vms[base + VM_EPOCHS] = epochs;
}
