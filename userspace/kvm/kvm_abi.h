/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The contract between the KVM monitor (hyperaether-kvm) and the LAVM
 * guest image: the guest-physical memory layout the monitor sets up, the
 * boot block it writes, and the hypercall ABI.  Documentation/kvm.rst is
 * the prose version.  Included by freestanding guest code and by the
 * monitor, so only fixed-width types and no libc.
 *
 * A hypercall is one `outl %eax, $port` where %eax is the guest-physical
 * address of the call's argument block (in guest RAM, naturally aligned).
 * The monitor validates the block, acts, writes the Out fields and resumes
 * the guest after the `out`.  Any other exit stops the guest.
 */
#ifndef HYPERAETHER_KVM_ABI_H
#define HYPERAETHER_KVM_ABI_H

#include <stdint.h>

#define HAKVM_ABI_VERSION	1
#define HAKVM_BOOT_MAGIC	0x4d564b48u	/* "HKVM" */

/*
 * Guest-physical layout.  The monitor enters the guest directly in long
 * mode: 2 MiB pages identity-map [0, HAKVM_MAP_BYTES), of which the first
 * ram_bytes are guest RAM (the fabric VM's memory); the rest has no memory
 * slot, so a guest access there is an exit the monitor refuses.
 */
#define HAKVM_PML4_GPA		0x1000ull
#define HAKVM_PDPT_GPA		0x2000ull
#define HAKVM_PD_GPA		0x3000ull	/* 512 x 2 MiB = HAKVM_MAP_BYTES */
#define HAKVM_BOOT_GPA		0x4000ull	/* struct hakvm_boot */
#define HAKVM_STACK_TOP		0x100000ull	/* grows down towards 0x10000 */
#define HAKVM_IMAGE_GPA		0x100000ull	/* the guest image; entry = first byte */
#define HAKVM_IMAGE_MAX		0x100000ull
#define HAKVM_HEAP_GPA		0x200000ull	/* bundle, inputs, then the guest's arrays */
#define HAKVM_MAP_BYTES		(1ull << 30)
#define HAKVM_RAM_MAX		HAKVM_MAP_BYTES

/* Hypercall ports (outl of the argument block's GPA). */
enum hakvm_port {
	HAKVM_HC_START = 0x500,	/* first instruction of the image; no block (eax 0) */
	HAKVM_HC_HALT,		/* struct hakvm_halt: the job is done, stop */
	HAKVM_HC_FAULT,		/* struct hakvm_fault: the guest gives up, stop */
	HAKVM_HC_YIELD,		/* struct hakvm_yield: a slice of epochs ran */
	HAKVM_HC_SEND,		/* struct hakvm_msg: a fabric channel send */
	HAKVM_HC_RECV,		/* struct hakvm_msg: a fabric channel receive */
	HAKVM_HC_NOP,		/* no block: a round trip (benchmark) */
	HAKVM_HC_END,
};

#define HAKVM_NO_PEER		0xffffffffu

/*
 * struct hakvm_boot - written by the monitor at HAKVM_BOOT_GPA before the
 * first instruction; read-only to the guest.  Every *_gpa range lies in RAM.
 * @bundle_gpa/@bundle_len: the .lavm bundle; the guest decodes and verifies it
 * @heap_gpa:     first free byte after the monitor's inputs (the guest's arrays)
 * @init_gpa:     0, or @nvms struct lavm_vm start states
 * @shared_gpa:   0, or @nshared f32 words of initial shared memory
 * @slice_epochs: epochs between two HAKVM_HC_YIELD calls (>= 1)
 * @recv_shared:  1: before the run, receive one message and copy its payload
 *                over shared[0..]
 * @send_dst:     a fabric VM id, or HAKVM_NO_PEER: after the run, send
 *                shared[0..] (at most 4096 bytes) to that VM
 * @nop_calls:    HAKVM_HC_NOP round trips to make first (benchmark)
 */
struct hakvm_boot {
	uint32_t magic;
	uint32_t abi;
	uint64_t ram_bytes;
	uint64_t bundle_gpa;
	uint64_t bundle_len;
	uint64_t heap_gpa;
	uint64_t init_gpa;
	uint64_t shared_gpa;
	uint32_t nvms;
	uint32_t nshared;
	uint32_t max_epochs;
	uint32_t slice_epochs;
	uint32_t recv_shared;
	uint32_t send_dst;
	uint32_t nop_calls;
	uint32_t pad;
};

/*
 * struct hakvm_halt - the result: where the final arrays are and what the
 * channel calls returned.  The monitor checks every range and count.
 */
struct hakvm_halt {
	uint32_t epochs;
	uint32_t nvms;
	uint32_t nshared;
	uint32_t depth;		/* call frames per VM in the stack array */
	uint64_t vms_gpa;	/* nvms struct lavm_vm */
	uint64_t stack_gpa;	/* nvms * depth struct lavm_frame */
	uint64_t shared_gpa;	/* nshared f32 */
	int32_t recv_ret;	/* bytes received, -errno, or 0 if not asked */
	int32_t send_ret;	/* 0, -errno, or 0 if not asked */
};

/* Why a guest gives up (struct hakvm_fault.code). */
enum hakvm_guest_fault {
	HAKVM_GF_BOOT = 1,	/* bad boot block */
	HAKVM_GF_BUNDLE,	/* lavm_bundle_load failed: detail = enum lavm_err */
	HAKVM_GF_VERIFY,	/* lavm_verify failed: detail = enum lavm_err, where = insn */
	HAKVM_GF_NOMEM,		/* the arrays do not fit in RAM */
	HAKVM_GF_SHARED,	/* nshared below the program's .shared */
};

struct hakvm_fault {
	uint32_t code;
	int32_t detail;
	uint32_t where;
	uint32_t pad;
};

/* struct hakvm_yield - @epochs: epochs run so far (In); never above max_epochs. */
struct hakvm_yield {
	uint32_t epochs;
	uint32_t pad;
};

/*
 * struct hakvm_msg - one channel operation through the monitor's VM fd.
 * SEND: @peer (In) the destination, @buf_gpa/@len (In) the payload.
 * RECV: @buf_gpa/@len (In) the buffer; @flags (In) 0 or HAKVM_MSG_NONBLOCK;
 *       @peer (Out) the sender, @ret (Out) payload bytes copied.
 * @ret: Out: 0 / bytes, or -errno (the module's answer: -EACCES for a
 *       capability it refused, -EAGAIN for a full or empty inbox).
 */
#define HAKVM_MSG_NONBLOCK	0x1u
struct hakvm_msg {
	uint32_t peer;
	uint32_t flags;
	uint64_t buf_gpa;
	uint32_t len;
	int32_t ret;
};

#endif /* HYPERAETHER_KVM_ABI_H */
