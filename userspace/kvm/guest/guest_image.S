/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* The flat LAVM guest image, built into the monitor (GUEST_BIN: its path). */
	.section .rodata, "a"
	.balign 64
	.globl hakvm_guest_lavm_start, hakvm_guest_lavm_end
hakvm_guest_lavm_start:
	.incbin GUEST_BIN
hakvm_guest_lavm_end:

	.section .note.GNU-stack, "", @progbits
