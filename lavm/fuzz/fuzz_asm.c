// SPDX-License-Identifier: GPL-2.0 OR MIT
/* libFuzzer: the assembler, then bundle round trip, then reference vs epoch engine. */
#include <stdio.h>
#include "lavm_host.h"
#include "lavm_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lavm_image img, back;
	struct lavm_bundle_info info;
	size_t len;
	uint8_t *buf;

	if (lavm_assemble("fuzz", (const char *)data, size, &img, NULL))
		return 0;
	len = lavm_bundle_size(&img.prog);
	buf = malloc(len);
	if (lavm_bundle_write(&img.prog, buf, len) != (long)len || lavm_bundle_peek(buf, len, &info))
		abort();
	back.insns = calloc(info.ninsns, sizeof(*back.insns));
	back.matrices = calloc((size_t)info.nlinear * LAVM_MAT + 1, 4);
	if (lavm_bundle_load(buf, len, &back.prog, back.insns, info.ninsns, back.matrices,
			     (size_t)info.nlinear * LAVM_MAT) ||
	    memcmp(back.insns, img.insns, info.ninsns * sizeof(*back.insns)))
		abort();
	/* the middle byte picks an access-control table (or none) */
	fuzz_run_both(&img.prog, 1 + size % 7, 64, data[size / 2] * 0x01010101u ^ data[size - 1]);
	free(back.insns);
	free(back.matrices);
	free(buf);
	lavm_image_free(&img);
	return 0;
}
