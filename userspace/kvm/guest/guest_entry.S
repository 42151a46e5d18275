/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * First instructions of the LAVM guest.  The monitor enters here in long
 * mode (CS 64-bit, paging on, SSE enabled) with RSP at HAKVM_STACK_TOP.
 * The START hypercall marks the first guest instruction for the monitor
 * (the creation-to-first-instruction benchmark).
 */
	.section .text.entry, "ax"
	.globl _start
	.code64
_start:
	xorl	%eax, %eax
	movw	$0x500, %dx		/* HAKVM_HC_START */
	outl	%eax, %dx
	movq	$0x100000, %rsp		/* HAKVM_STACK_TOP, 16-byte aligned */
	call	guest_main
	/* guest_main never returns; a HLT here is an exit the monitor refuses. */
1:	hlt
	jmp	1b

	.section .note.GNU-stack, "", @progbits
