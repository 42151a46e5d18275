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

void lavm_matrix_compile(const struct lavm_insn *in, float m[LAVM_MAT])
{
	const uint32_t *a = in->a;
	int row = -1;

	for (int i = 0; i < LAVM_MAT; i++)
		m[i] = 0.0f;
	for (int i = 0; i < LAVM_DIM; i++)
		m[i * LAVM_DIM + i] = 1.0f;
	m[LAVM_X_IP * LAVM_DIM + LAVM_X_ONE] = 1.0f;	/* IP += 1 */

	switch (in->op) {
	case LAVM_OP_ADD: case LAVM_OP_SUB: case LAVM_OP_MOV: case LAVM_OP_SETI:
	case LAVM_OP_LOAD: case LAVM_OP_CLEAR: case LAVM_OP_NEG: case LAVM_OP_SCALE:
		row = LAVM_X_R0 + (a[0] & 3);
		break;
	case LAVM_OP_STORE:
		row = LAVM_X_MEM0 + (a[1] & 15);
		break;
	case LAVM_OP_COPY:
		row = LAVM_X_MEM0 + (a[0] & 15);
		break;
	default:
		return;
	}
	for (int c = 0; c < LAVM_DIM; c++)
		m[row * LAVM_DIM + c] = 0.0f;
	float *r = &m[row * LAVM_DIM];

	switch (in->op) {
	case LAVM_OP_ADD:
		r[LAVM_X_R0 + (a[1] & 3)] += 1.0f;
		r[LAVM_X_R0 + (a[2] & 3)] += 1.0f;
		break;
	case LAVM_OP_SUB:
		r[LAVM_X_R0 + (a[1] & 3)] += 1.0f;
		r[LAVM_X_R0 + (a[2] & 3)] -= 1.0f;
		break;
	case LAVM_OP_MOV:
		r[LAVM_X_R0 + (a[1] & 3)] = 1.0f;
		break;
	case LAVM_OP_SETI:
		r[LAVM_X_ONE] = imm(a[1]);
		break;
	case LAVM_OP_LOAD:
		r[LAVM_X_MEM0 + (a[1] & 15)] = 1.0f;
		break;
	case LAVM_OP_STORE:
		r[LAVM_X_R0 + (a[0] & 3)] = 1.0f;
		break;
	case LAVM_OP_COPY:
		r[LAVM_X_MEM0 + (a[1] & 15)] = 1.0f;
		break;
	case LAVM_OP_CLEAR:
		break;
	case LAVM_OP_NEG:
		r[LAVM_X_R0 + (a[1] & 3)] = -1.0f;
		break;
	case LAVM_OP_SCALE:
		r[LAVM_X_R0 + (a[1] & 3)] = imm(a[2]);
		break;
	}
}
