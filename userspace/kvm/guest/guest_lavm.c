// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The LAVM guest: a freestanding x86-64 image that decodes and verifies the
 * .lavm bundle the monitor placed in its RAM, runs the reference
 * semantics (the core's lavm_ref_step epoch by epoch) over a job whose
 * arrays live in guest RAM, with a YIELD hypercall every slice of epochs,
 * and halts with a
 * hypercall that says where the results are.  Optionally it receives its
 * shared memory from a fabric channel first and sends it on afterwards.
 *
 * No globals: the allocator is a local bump pointer over the RAM the boot
 * block says is free.
 */
#include "lavm.h"
#include "kvm_abi.h"

/* The core needs these two; GCC may also emit calls to them. */
void *memcpy(void *dst, const void *src, size_t n)
{
	void *d = dst;

	__asm__ volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(n) : : "memory");
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	void *d = dst;

	__asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
	return dst;
}

static void hypercall(uint16_t port, const volatile void *block)
{
	uint32_t gpa = (uint32_t)(uintptr_t)block;

	__asm__ volatile("outl %0, %1" : : "a"(gpa), "Nd"(port) : "memory");
}

static void __attribute__((noreturn)) give_up(uint32_t code, int32_t detail, uint32_t where)
{
	struct hakvm_fault f = { .code = code, .detail = detail, .where = where };

	for (;;)
		hypercall(HAKVM_HC_FAULT, &f);
}

struct heap {
	uint64_t next, end;
};

static void *heap_alloc(struct heap *h, uint64_t bytes)
{
	uint64_t at = (h->next + 63) & ~63ull;

	if (bytes > h->end || at > h->end - bytes)
		give_up(HAKVM_GF_NOMEM, 0, 0);
	h->next = at + bytes;
	return (void *)(uintptr_t)at;
}

void __attribute__((noreturn)) guest_main(void);
void __attribute__((noreturn)) guest_main(void)
{
	const volatile struct hakvm_boot *bp = (const volatile struct hakvm_boot *)HAKVM_BOOT_GPA;
	struct hakvm_boot b = *(const struct hakvm_boot *)bp;
	struct hakvm_halt halt = { 0 };
	struct lavm_bundle_info info;
	struct lavm_verify_err verr;
	struct lavm_prog prog;
	struct lavm_job job;
	struct heap h;
	uint32_t total = 0;
	void *scratch;
	int ret;

	if (b.magic != HAKVM_BOOT_MAGIC || b.abi != HAKVM_ABI_VERSION || !b.nvms ||
	    !b.slice_epochs || b.ram_bytes > HAKVM_RAM_MAX || b.heap_gpa > b.ram_bytes)
		give_up(HAKVM_GF_BOOT, 0, 0);
	for (uint32_t i = 0; i < b.nop_calls; i++)
		hypercall(HAKVM_HC_NOP, NULL);
	h.next = b.heap_gpa;
	h.end = b.ram_bytes;

	/* The guest trusts nothing it was given: decode and verify here. */
	ret = lavm_bundle_peek((const void *)(uintptr_t)b.bundle_gpa, b.bundle_len, &info);
	if (ret)
		give_up(HAKVM_GF_BUNDLE, ret, 0);
	{
		struct lavm_insn *insns = heap_alloc(&h, (uint64_t)info.ninsns * sizeof(*insns));
		float *mats = heap_alloc(&h, (uint64_t)info.nlinear * LAVM_MAT * sizeof(float));

		ret = lavm_bundle_load((const void *)(uintptr_t)b.bundle_gpa, b.bundle_len, &prog,
				       insns, info.ninsns, mats, (size_t)info.nlinear * LAVM_MAT);
		if (ret)
			give_up(HAKVM_GF_BUNDLE, ret, 0);
	}
	scratch = heap_alloc(&h, lavm_verify_scratch_size(&prog));
	ret = lavm_verify(&prog, scratch, lavm_verify_scratch_size(&prog), &verr);
	if (ret)
		give_up(HAKVM_GF_VERIFY, ret, verr.insn);
	if (b.nshared < prog.shared_size)
		give_up(HAKVM_GF_SHARED, 0, prog.shared_size);

	job = (struct lavm_job){
		.prog = &prog,
		.nvms = b.nvms,
		.nshared = b.nshared,
		.vms = heap_alloc(&h, (uint64_t)b.nvms * sizeof(struct lavm_vm)),
		.stack = heap_alloc(&h, lavm_stack_size(&prog, b.nvms) + 1),
		.shared = heap_alloc(&h, (uint64_t)b.nshared * sizeof(float) + 1),
	};
	for (uint32_t i = 0; i < b.nvms; i++) {
		if (b.init_gpa)
			job.vms[i] = ((const struct lavm_vm *)(uintptr_t)b.init_gpa)[i];
		else
			lavm_vm_init(&job.vms[i], &prog, i);
	}
	if (b.shared_gpa)
		memcpy(job.shared, (const void *)(uintptr_t)b.shared_gpa, b.nshared * sizeof(float));
	else
		memset(job.shared, 0, b.nshared * sizeof(float));

	if (b.recv_shared) {
		struct hakvm_msg m = {
			.buf_gpa = (uintptr_t)job.shared,
			.len = b.nshared * sizeof(float) < 4096 ? b.nshared * sizeof(float) : 4096,
		};

		hypercall(HAKVM_HC_RECV, &m);
		halt.recv_ret = m.ret;
	}

	/*
	 * lavm_ref_run()'s epoch loop, with a YIELD every slice_epochs epochs so
	 * that the monitor sees progress (the steps are the core's own).
	 */
	job.max_epochs = b.max_epochs;
	for (uint32_t i = 0; i < b.nvms; i++)
		lavm_vm_check(&job.vms[i], &prog);
	while (total < b.max_epochs) {
		bool any = false;

		for (uint32_t i = 0; i < b.nvms; i++) {
			if (lavm_vm_active(&job.vms[i])) {
				any = true;
				lavm_ref_step(&job, i);
			}
		}
		if (!any)
			break;
		lavm_commit_writes(&job, 0, b.nvms);
		if (++total % b.slice_epochs == 0) {
			struct hakvm_yield y = { .epochs = total };

			hypercall(HAKVM_HC_YIELD, &y);
		}
	}

	if (b.send_dst != HAKVM_NO_PEER) {
		struct hakvm_msg m = {
			.peer = b.send_dst,
			.buf_gpa = (uintptr_t)job.shared,
			.len = b.nshared * sizeof(float) < 4096 ? b.nshared * sizeof(float) : 4096,
		};

		hypercall(HAKVM_HC_SEND, &m);
		halt.send_ret = m.ret;
	}

	halt.epochs = total;
	halt.nvms = b.nvms;
	halt.nshared = b.nshared;
	halt.depth = prog.max_call_depth;
	halt.vms_gpa = (uintptr_t)job.vms;
	halt.stack_gpa = (uintptr_t)job.stack;
	halt.shared_gpa = (uintptr_t)job.shared;
	for (;;)
		hypercall(HAKVM_HC_HALT, &halt);
}
