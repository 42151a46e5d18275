// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The verifier: nothing reaches an engine unless it passed here.
 */
#include "lavm.h"

static uint32_t fbits(float f)
{
	union { float f; uint32_t u; } c = { .f = f };
	return c.u;
}

static int fail(struct lavm_verify_err *err, int code, uint32_t insn, uint32_t opnd)
{
	if (err) {
		err->code = code;
		err->insn = insn;
		err->operand = opnd;
	}
	return code;
}

size_t lavm_verify_scratch_size(const struct lavm_prog *prog)
{
	return prog->ninsns;
}

/*
 * need[i]: the most call frames a path from i pushes before it returns or
 * halts.  A monotone fixed point over the intra-frame control flow; values
 * saturate at LAVM_MAX_CALL_DEPTH + 1, which recursion always reaches.
 * Returns -1 for recursion, and for programs with invalid opcodes or targets
 * (the assembler asks before the verifier has run).
 */
int lavm_call_depth(const struct lavm_prog *prog, void *scratch, size_t scratch_len)
{
	const uint8_t cap = LAVM_MAX_CALL_DEPTH + 1;
	uint8_t *need = scratch;
	uint32_t n = prog->ninsns;
	bool changed = true;
	uint64_t back = 0;

	if (scratch_len < n || prog->entry >= n)
		return -1;
	/*
	 * A backward sweep carries values along forward edges at once; each
	 * backward edge on a path costs one more sweep, and each value rises
	 * at most cap times: (back + 1) * (cap + 1) sweeps always converge.
	 */
	for (uint32_t i = 0; i < n; i++) {
		const struct lavm_insn *in = &prog->insns[i];
		const struct lavm_isa *isa = lavm_isa(in->op);

		need[i] = 0;
		if (!isa)
			return -1;
		if (in->op == LAVM_OP_JUMP || in->op == LAVM_OP_CALL ||
		    (isa->cls == LAVM_CLASS_BRANCH && in->op != LAVM_OP_RETURN))
			if (in->a[in->op == LAVM_OP_JUMP || in->op == LAVM_OP_CALL ? 0 : 1] >= n)
				return -1;
		if (in->op == LAVM_OP_JUMP || in->op == LAVM_OP_CALL)
			back += in->a[0] <= i;
		else if (isa->cls == LAVM_CLASS_BRANCH && in->op != LAVM_OP_RETURN)
			back += in->a[1] <= i;
	}
	for (uint64_t sweep = 0; changed; sweep++) {
		if (sweep > (back + 1) * (cap + 1u))
			return -1;
		changed = false;
		for (uint32_t i = n; i-- > 0;) {
			const struct lavm_insn *in = &prog->insns[i];
			const struct lavm_isa *isa = lavm_isa(in->op);
			uint32_t v = 0, t;

			if (isa->falls_through && i + 1 < n)
				v = need[i + 1];
			switch (in->op) {
			case LAVM_OP_JUMP:
				v = need[in->a[0]];
				break;
			case LAVM_OP_CALL:
				t = need[in->a[0]] + 1u;
				v = v > t ? v : t;
				break;
			default:
				if (isa->cls == LAVM_CLASS_BRANCH && in->op != LAVM_OP_RETURN) {
					t = need[in->a[1]];
					v = v > t ? v : t;
				}
			}
			if (v > cap)
				v = cap;
			if (v > need[i]) {
				need[i] = v;
				changed = true;
			}
		}
	}
	return need[prog->entry] >= cap ? -1 : need[prog->entry];
}

int lavm_verify(struct lavm_prog *prog, void *scratch, size_t scratch_len,
		struct lavm_verify_err *err)
{
	uint32_t n = prog->ninsns, nlin = 0, flags = 0;

	if (n == 0 || n > LAVM_MAX_INSNS || prog->max_call_depth > LAVM_MAX_CALL_DEPTH ||
	    prog->shared_size > LAVM_MAX_SHARED)
		return fail(err, LAVM_E_LIMIT, ~0u, ~0u);
	if (prog->entry >= n)
		return fail(err, LAVM_E_ENTRY, ~0u, ~0u);

	for (uint32_t i = 0; i < n; i++) {
		const struct lavm_insn *in = &prog->insns[i];
		const struct lavm_isa *isa = lavm_isa(in->op);

		if (!isa)
			return fail(err, LAVM_E_OPCODE, i, ~0u);
		for (uint32_t k = 0; k < 4; k++) {
			uint32_t v = in->a[k];
			bool ok;

			switch (isa->kind[k]) {
			case LAVM_OPND_REG: ok = v < LAVM_NREGS; break;
			case LAVM_OPND_MEM: ok = v < LAVM_NMEM; break;
			case LAVM_OPND_IMM: ok = true; break;
			case LAVM_OPND_TARGET:
				if (v >= n)
					return fail(err, LAVM_E_TARGET, i, k);
				ok = true;
				break;
			default: ok = v == 0; break;
			}
			if (!ok)
				return fail(err, LAVM_E_OPERAND, i, k);
		}
		if (isa->falls_through && i + 1 == n)
			return fail(err, LAVM_E_FALLOFF, i, ~0u);
		if (isa->cls == LAVM_CLASS_LINEAR) {
			if (nlin >= prog->nlinear)
				return fail(err, LAVM_E_NLINEAR, i, ~0u);
			const float *got = prog->matrices + (size_t)nlin * LAVM_MAT;

			/* entry by entry: no 2 KB matrix on a kernel stack */
			for (int e = 0; e < LAVM_MAT; e++)
				if (fbits(got[e]) != fbits(lavm_matrix_entry(in, e / LAVM_DIM,
									     e % LAVM_DIM)))
					return fail(err, LAVM_E_MATRIX, i, ~0u);
			nlin++;
		}
		if (in->op == LAVM_OP_READ)
			flags |= LAVM_PROG_HAS_READ;
		if (in->op == LAVM_OP_WRITE)
			flags |= LAVM_PROG_HAS_WRITE;
		if (in->op == LAVM_OP_CALL)
			flags |= LAVM_PROG_HAS_CALL;
	}
	if (nlin != prog->nlinear)
		return fail(err, LAVM_E_NLINEAR, ~0u, ~0u);
	if (flags & LAVM_PROG_HAS_CALL) {
		int d = lavm_call_depth(prog, scratch, scratch_len);

		if (scratch_len < lavm_verify_scratch_size(prog))
			return fail(err, LAVM_E_SHORT, ~0u, ~0u);
		if (d < 0 || (uint32_t)d > prog->max_call_depth)
			return fail(err, LAVM_E_DEPTH, ~0u, ~0u);
	}
	prog->flags = flags | LAVM_PROG_VERIFIED;
	return LAVM_OK;
}
