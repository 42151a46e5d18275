// SPDX-License-Identifier: GPL-2.0
/*
 * KVM smoke test: fabric VMs will sit on KVM, so the test kernels must run
 * a real guest.  A 16-bit real-mode guest adds two registers, writes the
 * ASCII digit to port 0x3f8 and halts; the test checks every exit.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "kselftest_harness.h"

#define GUEST_BASE	0x1000

static const unsigned char guest_code[] = {
	0xba, 0xf8, 0x03,	/* mov $0x3f8, %dx */
	0x00, 0xd8,		/* add %bl, %al */
	0x04, '0',		/* add $'0', %al */
	0xee,			/* out %al, (%dx) */
	0xb0, '\n',		/* mov $'\n', %al */
	0xee,			/* out %al, (%dx) */
	0xf4,			/* hlt */
};

FIXTURE(guest) {
	int kvm, vm, vcpu;
	void *mem;
	struct kvm_run *run;
	size_t run_size;
};

FIXTURE_SETUP(guest)
{
	struct kvm_userspace_memory_region region = {
		.slot = 0,
		.guest_phys_addr = GUEST_BASE,
		.memory_size = 0x1000,
	};
	struct kvm_sregs sregs;
	int ret;

	self->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	ASSERT_GE(self->kvm, 0) TH_LOG("open /dev/kvm: %s", strerror(errno));
	ASSERT_EQ(KVM_API_VERSION, ioctl(self->kvm, KVM_GET_API_VERSION, NULL));

	self->vm = ioctl(self->kvm, KVM_CREATE_VM, 0UL);
	ASSERT_GE(self->vm, 0) TH_LOG("KVM_CREATE_VM: %s", strerror(errno));

	self->mem = mmap(NULL, 0x1000, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->mem);
	memcpy(self->mem, guest_code, sizeof(guest_code));
	region.userspace_addr = (unsigned long)self->mem;
	ASSERT_EQ(0, ioctl(self->vm, KVM_SET_USER_MEMORY_REGION, &region));

	self->vcpu = ioctl(self->vm, KVM_CREATE_VCPU, 0UL);
	ASSERT_GE(self->vcpu, 0);
	ret = ioctl(self->kvm, KVM_GET_VCPU_MMAP_SIZE, NULL);
	ASSERT_GE(ret, (int)sizeof(*self->run));
	self->run_size = ret;
	self->run = mmap(NULL, self->run_size, PROT_READ | PROT_WRITE,
			 MAP_SHARED, self->vcpu, 0);
	ASSERT_NE(MAP_FAILED, self->run);

	ASSERT_EQ(0, ioctl(self->vcpu, KVM_GET_SREGS, &sregs));
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	ASSERT_EQ(0, ioctl(self->vcpu, KVM_SET_SREGS, &sregs));
}

FIXTURE_TEARDOWN(guest)
{
	munmap(self->run, self->run_size);
	close(self->vcpu);
	munmap(self->mem, 0x1000);
	close(self->vm);
	close(self->kvm);
}

static void set_regs(struct __test_metadata *_metadata, int vcpu,
		     unsigned long a, unsigned long b)
{
	struct kvm_regs regs = {
		.rip = GUEST_BASE,
		.rax = a,
		.rbx = b,
		.rflags = 0x2,	/* bit 1 is reserved and must be set */
	};

	ASSERT_EQ(0, ioctl(vcpu, KVM_SET_REGS, &regs));
}

static void expect_out(struct __test_metadata *_metadata, int vcpu,
		       struct kvm_run *run, char want)
{
	ASSERT_EQ(0, ioctl(vcpu, KVM_RUN, NULL));
	ASSERT_EQ(KVM_EXIT_IO, run->exit_reason)
		TH_LOG("exit_reason %u", run->exit_reason);
	EXPECT_EQ(KVM_EXIT_IO_OUT, run->io.direction);
	EXPECT_EQ(1, run->io.size);
	EXPECT_EQ(0x3f8, run->io.port);
	EXPECT_EQ(1, run->io.count);
	EXPECT_EQ(want, *((char *)run + run->io.data_offset));
}

TEST_F_TIMEOUT(guest, add_out_hlt, 300)
{
	set_regs(_metadata, self->vcpu, 2, 2);
	expect_out(_metadata, self->vcpu, self->run, '4');
	expect_out(_metadata, self->vcpu, self->run, '\n');
	ASSERT_EQ(0, ioctl(self->vcpu, KVM_RUN, NULL));
	EXPECT_EQ(KVM_EXIT_HLT, self->run->exit_reason);
}

TEST_F_TIMEOUT(guest, other_operands, 300)
{
	/* 3 + 6 = 9: a second data point so a constant answer cannot pass. */
	set_regs(_metadata, self->vcpu, 3, 6);
	expect_out(_metadata, self->vcpu, self->run, '9');
}

TEST_F_TIMEOUT(guest, rip_advances_past_hlt, 300)
{
	struct kvm_regs regs;

	set_regs(_metadata, self->vcpu, 1, 0);
	expect_out(_metadata, self->vcpu, self->run, '1');
	expect_out(_metadata, self->vcpu, self->run, '\n');
	ASSERT_EQ(0, ioctl(self->vcpu, KVM_RUN, NULL));
	ASSERT_EQ(KVM_EXIT_HLT, self->run->exit_reason);
	ASSERT_EQ(0, ioctl(self->vcpu, KVM_GET_REGS, &regs));
	EXPECT_EQ(GUEST_BASE + sizeof(guest_code), regs.rip);
}

TEST_HARNESS_MAIN
