/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The seed examples, built into the test binary (the test initramfs has no
 * repository): ACCEL_EXAMPLES is X(name) for every lavm/examples/NAME.lasm,
 * from the Makefile, and ACCEL_EXAMPLES_DIR where they are.  examples[]
 * holds each one's assembly and its hand-worked .expect.json.
 */
#ifndef ACCEL_EXAMPLES_H
#define ACCEL_EXAMPLES_H

#define ACCEL_INCBIN(sym, file)						\
	__asm__(".section .rodata\n.global " #sym "\n" #sym ":\n"	\
		".incbin \"" file "\"\n.byte 0\n.previous\n");		\
	extern const char sym[];
#define X(name)								\
	ACCEL_INCBIN(ex_lasm_##name, ACCEL_EXAMPLES_DIR "/" #name ".lasm")	\
	ACCEL_INCBIN(ex_json_##name, ACCEL_EXAMPLES_DIR "/" #name ".expect.json")
ACCEL_EXAMPLES
#undef X

static const struct accel_example {
	const char *name, *lasm, *json;
} examples[] = {
#define X(name) { #name, ex_lasm_##name, ex_json_##name },
	ACCEL_EXAMPLES
#undef X
};

#endif /* ACCEL_EXAMPLES_H */
