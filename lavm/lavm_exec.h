/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Per-value semantics shared by every engine (internal to the core).
 * Arithmetic results that are NaN are canonicalised to 0x7fc00000, so
 * operand order and hardware NaN propagation rules never show.
 */
#ifndef LAVM_EXEC_H
#define LAVM_EXEC_H

#include "lavm.h"

static inline uint32_t lavm_fbits(float f)
{
	union { float f; uint32_t u; } c = { .f = f };
	return c.u;
}

static inline float lavm_bitsf(uint32_t u)
{
	union { float f; uint32_t u; } c = { .u = u };
	return c.f;
}

static inline float lavm_canon(float x)
{
	return x != x ? lavm_bitsf(LAVM_CANON_NAN) : x;
}

/* Linear and oracle opcodes on values: a = r[src1] (or mem), b = r[src2], imm. */
static inline float lavm_alu(uint32_t op, float a, float b, uint32_t imm)
{
	switch (op) {
	case LAVM_OP_ADD: return lavm_canon(a + b);
	case LAVM_OP_SUB: return lavm_canon(a - b);
	case LAVM_OP_MOV: case LAVM_OP_LOAD: case LAVM_OP_STORE: case LAVM_OP_COPY:
		return a;
	case LAVM_OP_SETI: return lavm_bitsf(imm);
	case LAVM_OP_CLEAR: return 0.0f;
	case LAVM_OP_NEG: return lavm_bitsf(lavm_fbits(a) ^ 0x80000000u);
	case LAVM_OP_SCALE: return lavm_canon(a * lavm_bitsf(imm));
	case LAVM_OP_MUL: return lavm_canon(a * b);
	case LAVM_OP_DIV: return lavm_canon(a / b);
	case LAVM_OP_MOD: return lavm_fmodf(a, b);
	case LAVM_OP_CMP: return lavm_canon(a - b);
	case LAVM_OP_MIN: return lavm_canon(lavm_minf(a, b));
	case LAVM_OP_MAX: return lavm_canon(lavm_maxf(a, b));
	case LAVM_OP_ABS: return lavm_bitsf(lavm_fbits(a) & 0x7fffffffu);
	case LAVM_OP_SQRT: return lavm_canon(lavm_sqrtf(a));
	case LAVM_OP_SIN: return lavm_sinf(a);
	case LAVM_OP_COS: return lavm_cosf(a);
	}
	return 0.0f;
}

/*
 * Where an ALU opcode reads and writes in the state vector v[]:
 * indices into [IP, r0..r3, mem0..15, 1].
 */
struct lavm_alu_slots {
	uint32_t dst, src1, src2;
};

static inline struct lavm_alu_slots lavm_alu_slots(const struct lavm_insn *in)
{
	struct lavm_alu_slots s = { LAVM_X_R0 + in->a[0], LAVM_X_R0 + in->a[1],
				    LAVM_X_R0 + in->a[2] };

	switch (in->op) {
	case LAVM_OP_SETI: case LAVM_OP_CLEAR:
		s.src1 = s.src2 = s.dst;
		break;
	case LAVM_OP_SCALE:
	case LAVM_OP_MOV: case LAVM_OP_NEG: case LAVM_OP_ABS: case LAVM_OP_SQRT:
	case LAVM_OP_SIN: case LAVM_OP_COS:
		s.src2 = s.src1;
		break;
	case LAVM_OP_LOAD:
		s.src1 = s.src2 = LAVM_X_MEM0 + in->a[1];
		break;
	case LAVM_OP_STORE:
		s.dst = LAVM_X_MEM0 + in->a[1];
		s.src1 = s.src2 = LAVM_X_R0 + in->a[0];
		break;
	case LAVM_OP_COPY:
		s.dst = LAVM_X_MEM0 + in->a[0];
		s.src1 = s.src2 = LAVM_X_MEM0 + in->a[1];
		break;
	}
	return s;
}

/* True if VM @vm's domain may use shared word @addr (lavm_acl_check()ed). */
static inline bool lavm_acl_allows(const struct lavm_acl *acl, uint32_t vm, uint32_t addr)
{
	uint32_t seg = addr / acl->seg_words;

	return seg < acl->nseg && (acl->allow[acl->dom[vm]] >> seg & 1);
}

/*
 * The index check of every READ and WRITE, for VM @vm with address register
 * value @x: LAVM_FAULT_NONE and *addr, or the fault it raises.
 */
static inline uint32_t lavm_shared_access(const struct lavm_job *job, uint32_t vm, float x,
					  uint32_t *addr)
{
	if (!lavm_shared_index(x, job->nshared, addr))
		return LAVM_FAULT_SHARED_ADDR;
	if (job->acl && !lavm_acl_allows(job->acl, vm, *addr))
		return LAVM_FAULT_ACCESS;
	return LAVM_FAULT_NONE;
}

/* The immediate operand of SETI (a[1]) and SCALE (a[2]). */
static inline uint32_t lavm_alu_imm(const struct lavm_insn *in)
{
	return in->op == LAVM_OP_SETI ? in->a[1] : in->a[2];
}

#endif /* LAVM_EXEC_H */
