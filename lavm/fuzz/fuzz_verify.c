// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libFuzzer: the verifier on raw instruction streams.  Matrices are
 * compiled from the instructions (so that programs get past the matrix
 * check and reach the control-flow and depth checks), then one entry may be
 * perturbed; every accepted program runs on both engines.
 */
#include "lavm_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lavm_verify_err err;
	struct lavm_prog prog = { 0 };
	struct lavm_insn *insns;
	uint32_t n, nlin = 0;
	float *mats;
	uint8_t scratch[256];

	if (size < 4)
		return 0;
	n = (size - 4) / 20;
	if (n == 0 || n > 200)
		return 0;
	insns = calloc(n, sizeof(*insns));
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *p = data + 4 + 20 * i;

		/* small values are the interesting ones: fold the opcode into 0..63 */
		insns[i].op = p[0] % 64;
		for (int k = 0; k < 4; k++)
			memcpy(&insns[i].a[k], p + 4 + 4 * k, 4);
		if (p[1] & 1)	/* mostly small operands, sometimes raw bits */
			for (int k = 0; k < 4; k++)
				insns[i].a[k] %= (k == 0 ? 4 : 24);
		const struct lavm_isa *isa = lavm_isa(insns[i].op);

		nlin += isa && isa->cls == LAVM_CLASS_LINEAR;
	}
	mats = calloc((size_t)nlin * LAVM_MAT + 1, 4);
	nlin = 0;
	for (uint32_t i = 0; i < n; i++) {
		const struct lavm_isa *isa = lavm_isa(insns[i].op);

		if (isa && isa->cls == LAVM_CLASS_LINEAR) {
			struct lavm_insn c = insns[i];

			for (int k = 0; k < 4; k++)	/* keep the compiler in range */
				if (isa->kind[k] == LAVM_OPND_REG || isa->kind[k] == LAVM_OPND_MEM)
					c.a[k] &= 15;
			lavm_matrix_compile(&c, mats + (size_t)nlin++ * LAVM_MAT);
		}
	}
	if (nlin && (data[0] & 0x80))
		mats[data[1] % (nlin * LAVM_MAT)] += 1.0f;
	prog.insns = insns;
	prog.matrices = mats;
	prog.ninsns = n;
	prog.nlinear = nlin;
	prog.entry = data[2] % (n + 1);
	prog.max_call_depth = data[3] % 70;
	prog.shared_size = data[1] % 16;
	if (!lavm_verify(&prog, scratch, sizeof(scratch), &err))
		fuzz_run_both(&prog, 1 + data[3] % 6, 40,
			      (uint32_t)data[0] << 24 | (uint32_t)data[1] << 16 | data[2] << 8 | data[3]);
	free(insns);
	free(mats);
	return 0;
}
