// SPDX-License-Identifier: GPL-2.0 OR MIT
/* libFuzzer: the bundle loader and verifier on raw bytes; accepted programs run. */
#include "lavm_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lavm_bundle_info info;
	struct lavm_verify_err err;
	struct lavm_insn *insns;
	struct lavm_prog prog;
	float *mats;
	uint8_t *scratch;

	if (lavm_bundle_peek(data, size, &info))
		return 0;
	insns = calloc(info.ninsns, sizeof(*insns));
	mats = calloc((size_t)info.nlinear * LAVM_MAT + 1, 4);
	if (lavm_bundle_load(data, size, &prog, insns, info.ninsns, mats,
			     (size_t)info.nlinear * LAVM_MAT))
		abort();
	scratch = malloc(lavm_verify_scratch_size(&prog) + 1);
	if (!lavm_verify(&prog, scratch, lavm_verify_scratch_size(&prog), &err))
		fuzz_run_both(&prog, 1 + size % 5, 48, data[size - 1] * 0x01010101u);
	free(scratch);
	free(insns);
	free(mats);
	return 0;
}
