/* SPDX-License-Identifier: LGPL-2.1 OR MIT */
/*
 * The KVM monitor: one fabric VM as a hardware-isolated KVM guest that runs
 * a LAVM program (in the spirit of Solo5's hvt: small, and any exit it does
 * not expect stops the guest).  Guest RAM is the fabric VM's own memory,
 * mapped through a VM fd; channel hypercalls go through that VM fd, so the
 * module checks them against cap.  See Documentation/kvm.rst.
 *
 * Functions return 0 or -errno.
 */
#ifndef HYPERAETHER_KVM_MONITOR_H
#define HYPERAETHER_KVM_MONITOR_H

#include <stddef.h>
#include <stdint.h>

#include "lavm.h"

/* Why the guest stopped. */
enum hakvm_stop {
	HAKVM_STOP_NONE = 0,
	HAKVM_STOP_HALT,	/* HALT hypercall: results are valid */
	HAKVM_STOP_GUEST_FAULT,	/* FAULT hypercall: the guest gave up (bad bundle, ...) */
	HAKVM_STOP_TIMEOUT,	/* the wall-clock budget ran out */
	HAKVM_STOP_EPOCHS,	/* the guest claimed more epochs than max_epochs */
	HAKVM_STOP_MMIO,	/* an access outside guest RAM */
	HAKVM_STOP_SHUTDOWN,	/* triple fault */
	HAKVM_STOP_BAD_IO,	/* port I/O that is not a hypercall */
	HAKVM_STOP_BAD_CALL,	/* a hypercall with a bad argument block */
	HAKVM_STOP_HLT,		/* HLT outside a hypercall */
	HAKVM_STOP_INTERNAL,	/* KVM internal error, failed entry, other exits */
};

/*
 * struct hakvm_config - one guest.
 * @vmfd:       a fabric VM fd with HYPERAETHER_VMFD_MAP (and SEND/RECV for
 *              channel hypercalls): guest RAM is that VM's memory.  -1:
 *              anonymous memory and no channels.
 * @ram_bytes:  guest RAM; 0: hakvm_ram_size()
 * @image:      NULL: the built-in LAVM guest; else a raw image entered in
 *              long mode at HAKVM_IMAGE_GPA (tests of hostile guests)
 * @bundle:     the .lavm bundle (LAVM guest)
 * @init:       NULL, or @nvms start states
 * @shared_in:  NULL, or @nshared words
 * @timeout_ms: wall-clock budget of the run (0: 10 s)
 * @nop_calls:  NOP hypercalls the guest makes first (benchmark)
 * @seccomp:    once the guest is set up, confine this process for good to
 *              what running it needs (see Documentation/kvm.rst): for
 *              one-shot processes such as hyperaether-kvm
 */
struct hakvm_config {
	int vmfd;
	size_t ram_bytes;
	const void *image;
	size_t image_len;
	const void *bundle;
	size_t bundle_len;
	uint32_t nvms, nshared, max_epochs, slice_epochs;
	const struct lavm_vm *init;
	const float *shared_in;
	uint32_t send_dst;	/* HAKVM_NO_PEER or a fabric VM id */
	int recv_shared;
	uint32_t timeout_ms;
	uint32_t nop_calls;
	int seccomp;
};

/*
 * struct hakvm_result - what came out.  With HAKVM_STOP_HALT the arrays
 * (copies, free with hakvm_result_free) hold the final VM states, the call
 * frames (nvms * depth) and shared memory.
 */
struct hakvm_result {
	enum hakvm_stop stop;
	char why[192];
	uint32_t epochs, nvms, nshared, depth;
	struct lavm_vm *vms;
	struct lavm_frame *stack;
	float *shared;
	int32_t send_ret, recv_ret;
	struct hakvm_fault_info {
		uint32_t code;
		int32_t detail;
		uint32_t where;
	} fault;
	uint64_t exits, hypercalls, yields;
	uint64_t kicks;			/* KVM_RUN interrupted by a signal */
	/* CLOCK_MONOTONIC ns from the start of hakvm_run(). */
	uint64_t ns_first_insn;		/* the START hypercall */
	uint64_t ns_nop_first, ns_nop_last;	/* first and last NOP hypercall */
	uint64_t ns_end;
};

/* Guest RAM the LAVM guest needs for @cfg (bundle, inputs, arrays), 2 MiB aligned. */
int hakvm_ram_size(const struct hakvm_config *cfg, size_t *bytes);

/*
 * Create the KVM VM, run the guest to its end and tear it down.  Returns 0
 * when the guest ran (res->stop says how it ended: only HAKVM_STOP_HALT
 * is a result), -errno when the monitor could not set it up.
 */
int hakvm_run(const struct hakvm_config *cfg, struct hakvm_result *res);
void hakvm_result_free(struct hakvm_result *res);
const char *hakvm_stop_name(enum hakvm_stop stop);

#endif /* HYPERAETHER_KVM_MONITOR_H */
