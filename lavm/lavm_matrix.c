// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The matrix compiler: the 22x22 form of each linear instruction.
 *
 * Engines execute a linear instruction by its sparse effect (one f32 add,
 * subtract, multiply or copy), which the matrix describes exactly; the
 * verifier checks that each matrix in a bundle is this compiled form, so the
 * two can never disagree.  Unlike the seed's compileLinearInstruction, the
 * destination row is cleared first: starting from the identity and adding
 * source columns computes r_dest + r_src1 + r_src2.
 */
#include "lavm.h"

static float imm(uint32_t bits)
{
	union { float f; uint32_t u; } c = { .u = bits };
	return c.f;
}

/* The state-vector row a linear instruction writes, or -1. */
static int dest_row(const struct lavm_insn *in)
{
	switch (in->op) {
	case LAVM_OP_ADD: case LAVM_OP_SUB: case LAVM_OP_MOV: case LAVM_OP_SETI:
	case LAVM_OP_LOAD: case LAVM_OP_CLEAR: case LAVM_OP_NEG: case LAVM_OP_SCALE:
		return LAVM_X_R0 + (in->a[0] & 3);
	case LAVM_OP_STORE:
		return LAVM_X_MEM0 + (in->a[1] & 15);
	case LAVM_OP_COPY:
		return LAVM_X_MEM0 + (in->a[0] & 15);
	}
	return -1;
}

/*
 * Entry (row, col) of the matrix of @in: the identity, IP += 1 through the
 * homogeneous coordinate, and the destination row replaced.
 */
float lavm_matrix_entry(const struct lavm_insn *in, int row, int col)
{
	const uint32_t *a = in->a;
	float v = 0.0f;

	if (row != dest_row(in)) {
		if (row == LAVM_X_IP && col == LAVM_X_ONE)
			return 1.0f;
		return row == col ? 1.0f : 0.0f;
	}
	switch (in->op) {
	case LAVM_OP_ADD:
		v += col == LAVM_X_R0 + (int)(a[1] & 3) ? 1.0f : 0.0f;
		v += col == LAVM_X_R0 + (int)(a[2] & 3) ? 1.0f : 0.0f;
		return v;
	case LAVM_OP_SUB:
		v += col == LAVM_X_R0 + (int)(a[1] & 3) ? 1.0f : 0.0f;
		v -= col == LAVM_X_R0 + (int)(a[2] & 3) ? 1.0f : 0.0f;
		return v;
	case LAVM_OP_MOV:
		return col == LAVM_X_R0 + (int)(a[1] & 3) ? 1.0f : 0.0f;
	case LAVM_OP_SETI:
		return col == LAVM_X_ONE ? imm(a[1]) : 0.0f;
	case LAVM_OP_LOAD:
		return col == LAVM_X_MEM0 + (int)(a[1] & 15) ? 1.0f : 0.0f;
	case LAVM_OP_STORE:
		return col == LAVM_X_R0 + (int)(a[0] & 3) ? 1.0f : 0.0f;
	case LAVM_OP_COPY:
		return col == LAVM_X_MEM0 + (int)(a[1] & 15) ? 1.0f : 0.0f;
	case LAVM_OP_NEG:
		return col == LAVM_X_R0 + (int)(a[1] & 3) ? -1.0f : 0.0f;
	case LAVM_OP_SCALE:
		return col == LAVM_X_R0 + (int)(a[1] & 3) ? imm(a[2]) : 0.0f;
	}
	return 0.0f;	/* CLEAR */
}

void lavm_matrix_compile(const struct lavm_insn *in, float m[LAVM_MAT])
{
	for (int r = 0; r < LAVM_DIM; r++)
		for (int c = 0; c < LAVM_DIM; c++)
			m[r * LAVM_DIM + c] = lavm_matrix_entry(in, r, c);
}
