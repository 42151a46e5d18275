// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * The KVM monitor (see kvm_monitor.h and Documentation/kvm.rst).
 *
 * One KVM VM with one vCPU per run.  Long mode is set up from outside with
 * KVM_SET_SREGS (identity-mapped 2 MiB pages written into guest RAM), so
 * the image needs no mode-switching code.  The run loop accepts exactly the
 * hypercall ports of kvm_abi.h; every other exit ends the run with a
 * reason.  A periodic timer signal kicks the vCPU out of KVM_RUN so that
 * the wall-clock budget holds for a guest that never exits.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/kvm.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>

#include "hyperaether.h"
#include "kvm_abi.h"
#include "kvm_monitor.h"

extern const unsigned char hakvm_guest_lavm_start[];
extern const unsigned char hakvm_guest_lavm_end[];

#define HAKVM_KICK_SIGNAL	(SIGRTMIN + 2)
#define HAKVM_KICK_NS		20000000ll	/* 20 ms */
#define HAKVM_SLICE_DEFAULT	4096
#define HAKVM_TIMEOUT_DEFAULT	10000

#define ALIGN_UP(x, a)		(((x) + (a) - 1) & ~((uint64_t)(a) - 1))

struct hakvm {
	const struct hakvm_config *cfg;
	struct hakvm_result *res;
	int kvm, vm, vcpu;
	struct kvm_run *run;
	size_t run_size;
	uint8_t *ram;
	size_t ram_bytes;
	int ram_is_fabric;
	timer_t timer;
	int have_timer;
	uint64_t t0, deadline;
	uint32_t max_epochs;
	uint32_t depth;		/* from the bundle, to check the HALT block */
	uint8_t msgbuf[sizeof(struct hyperaether_msg_hdr) + HYPERAETHER_MSG_MAX];
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

const char *hakvm_stop_name(enum hakvm_stop stop)
{
	static const char *const names[] = {
		[HAKVM_STOP_NONE] = "none", [HAKVM_STOP_HALT] = "halt",
		[HAKVM_STOP_GUEST_FAULT] = "guest_fault", [HAKVM_STOP_TIMEOUT] = "timeout",
		[HAKVM_STOP_EPOCHS] = "epochs", [HAKVM_STOP_MMIO] = "mmio",
		[HAKVM_STOP_SHUTDOWN] = "shutdown", [HAKVM_STOP_BAD_IO] = "bad_io",
		[HAKVM_STOP_BAD_CALL] = "bad_call", [HAKVM_STOP_HLT] = "hlt",
		[HAKVM_STOP_INTERNAL] = "internal",
	};

	return (unsigned int)stop < sizeof(names) / sizeof(names[0]) ? names[stop] : "?";
}

static void stop(struct hakvm *h, enum hakvm_stop why, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void stop(struct hakvm *h, enum hakvm_stop why, const char *fmt, ...)
{
	va_list ap;

	h->res->stop = why;
	va_start(ap, fmt);
	vsnprintf(h->res->why, sizeof(h->res->why), fmt, ap);
	va_end(ap);
}

/* Host pointer to [gpa, gpa + len) of guest RAM, or NULL if any of it is outside. */
static void *gpa_range(struct hakvm *h, uint64_t gpa, uint64_t len)
{
	if (gpa > h->ram_bytes || len > h->ram_bytes - gpa)
		return NULL;
	return h->ram + gpa;
}

/* ------------------------------------------------------------ sizing */

int hakvm_ram_size(const struct hakvm_config *cfg, size_t *bytes)
{
	struct lavm_bundle_info info;
	uint64_t need;
	int ret;

	if (cfg->image) {
		*bytes = HAKVM_HEAP_GPA;
		return 0;
	}
	ret = lavm_bundle_peek(cfg->bundle, cfg->bundle_len, &info);
	if (ret)
		return -EINVAL;
	need = HAKVM_HEAP_GPA + cfg->bundle_len + 64;
	need += (uint64_t)cfg->nvms * sizeof(struct lavm_vm) * (cfg->init ? 2 : 1);
	need += (uint64_t)cfg->nshared * sizeof(float) * (cfg->shared_in ? 2 : 1);
	need += (uint64_t)info.ninsns * sizeof(struct lavm_insn) +
		(uint64_t)info.nlinear * LAVM_MAT * sizeof(float);
	need += (uint64_t)info.ninsns * 8 + 4096;	/* verifier scratch (1 byte/insn today) */
	need += (uint64_t)cfg->nvms * info.max_call_depth * sizeof(struct lavm_frame);
	need += 16 * 64;				/* alignment of each array */
	need = ALIGN_UP(need, 2u << 20);
	if (need > HAKVM_RAM_MAX)
		return -E2BIG;
	*bytes = need;
	return 0;
}

/* ------------------------------------------------------------ setup */

static void kick(int sig)
{
	(void)sig;
}

static int setup_memory(struct hakvm *h)
{
	const struct hakvm_config *cfg = h->cfg;
	struct kvm_userspace_memory_region region = { .slot = 0 };
	void *addr;
	int ret;

	if (cfg->ram_bytes) {
		h->ram_bytes = ALIGN_UP(cfg->ram_bytes, 2u << 20);
	} else {
		ret = hakvm_ram_size(cfg, &h->ram_bytes);
		if (ret)
			return ret;
	}
	if (h->ram_bytes < HAKVM_HEAP_GPA || h->ram_bytes > HAKVM_RAM_MAX)
		return -EINVAL;
	if (cfg->vmfd >= 0) {
		struct hyperaether_vm_query q;

		ret = ha_vm_query(cfg->vmfd, HYPERAETHER_VM_SELF, &q);
		if (ret)
			return ret;
		if (q.quota.mem_bytes < h->ram_bytes)
			return -EDQUOT;
		ret = ha_vm_mmap(cfg->vmfd, q.id, 0, h->ram_bytes, &addr);
		if (ret)
			return ret;
		h->ram_is_fabric = 1;
	} else {
		addr = mmap(NULL, h->ram_bytes, PROT_READ | PROT_WRITE,
			    MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (addr == MAP_FAILED)
			return -errno;
	}
	h->ram = addr;
	region.memory_size = h->ram_bytes;
	region.userspace_addr = (uintptr_t)h->ram;
	if (ioctl(h->vm, KVM_SET_USER_MEMORY_REGION, &region))
		return -errno;
	return 0;
}

/* Page tables, boot block, image and the LAVM inputs into guest RAM. */
static int load_guest(struct hakvm *h)
{
	const struct hakvm_config *cfg = h->cfg;
	const void *image = cfg->image ? cfg->image : hakvm_guest_lavm_start;
	size_t image_len = cfg->image ? cfg->image_len :
			   (size_t)(hakvm_guest_lavm_end - hakvm_guest_lavm_start);
	uint64_t *pml4 = (uint64_t *)(h->ram + HAKVM_PML4_GPA);
	uint64_t *pdpt = (uint64_t *)(h->ram + HAKVM_PDPT_GPA);
	uint64_t *pd = (uint64_t *)(h->ram + HAKVM_PD_GPA);
	struct hakvm_boot *boot = (struct hakvm_boot *)(h->ram + HAKVM_BOOT_GPA);
	uint64_t heap = HAKVM_HEAP_GPA;

	if (image_len > HAKVM_IMAGE_MAX)
		return -E2BIG;
	/* The fabric VM's memory may hold a previous run: clear what we define. */
	memset(h->ram, 0, HAKVM_HEAP_GPA);
	pml4[0] = HAKVM_PDPT_GPA | 0x3;			/* present, writable */
	pdpt[0] = HAKVM_PD_GPA | 0x3;
	for (uint64_t i = 0; i < HAKVM_MAP_BYTES >> 21; i++)
		pd[i] = (i << 21) | 0x83;		/* present, writable, 2 MiB */
	memcpy(h->ram + HAKVM_IMAGE_GPA, image, image_len);

	*boot = (struct hakvm_boot){
		.magic = HAKVM_BOOT_MAGIC, .abi = HAKVM_ABI_VERSION,
		.ram_bytes = h->ram_bytes, .nvms = cfg->nvms, .nshared = cfg->nshared,
		.max_epochs = h->max_epochs,
		.slice_epochs = cfg->slice_epochs ? cfg->slice_epochs : HAKVM_SLICE_DEFAULT,
		.recv_shared = !!cfg->recv_shared, .send_dst = cfg->send_dst,
		.nop_calls = cfg->nop_calls,
	};
	if (cfg->image)
		return 0;
	if (!gpa_range(h, heap, cfg->bundle_len))
		return -E2BIG;
	memcpy(h->ram + heap, cfg->bundle, cfg->bundle_len);
	boot->bundle_gpa = heap;
	boot->bundle_len = cfg->bundle_len;
	heap = ALIGN_UP(heap + cfg->bundle_len, 64);
	if (cfg->init) {
		size_t len = (size_t)cfg->nvms * sizeof(struct lavm_vm);

		if (!gpa_range(h, heap, len))
			return -E2BIG;
		memcpy(h->ram + heap, cfg->init, len);
		boot->init_gpa = heap;
		heap = ALIGN_UP(heap + len, 64);
	}
	if (cfg->shared_in) {
		size_t len = (size_t)cfg->nshared * sizeof(float);

		if (!gpa_range(h, heap, len))
			return -E2BIG;
		memcpy(h->ram + heap, cfg->shared_in, len);
		boot->shared_gpa = heap;
		heap = ALIGN_UP(heap + len, 64);
	}
	boot->heap_gpa = heap;
	return 0;
}

static void set_seg(struct kvm_segment *s, uint16_t sel, uint8_t type, int code)
{
	*s = (struct kvm_segment){
		.base = 0, .limit = 0xffffffff, .selector = sel, .type = type,
		.present = 1, .dpl = 0, .db = !code, .s = 1, .l = code, .g = 1,
	};
}

static int setup_vcpu(struct hakvm *h)
{
	struct kvm_cpuid2 *cpuid;
	struct kvm_sregs sregs;
	struct kvm_regs regs = {
		.rip = HAKVM_IMAGE_GPA, .rsp = HAKVM_STACK_TOP, .rflags = 0x2,
	};
	int n, ret = 0;

	h->vcpu = ioctl(h->vm, KVM_CREATE_VCPU, 0UL);
	if (h->vcpu < 0)
		return -errno;
	n = ioctl(h->kvm, KVM_GET_VCPU_MMAP_SIZE, NULL);
	if (n < (int)sizeof(struct kvm_run))
		return -EINVAL;
	h->run_size = n;
	h->run = mmap(NULL, h->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, h->vcpu, 0);
	if (h->run == MAP_FAILED) {
		h->run = NULL;
		return -errno;
	}

	/* KVM checks EFER.LME against the guest's CPUID: give it the host's. */
	cpuid = calloc(1, sizeof(*cpuid) + 256 * sizeof(cpuid->entries[0]));
	if (!cpuid)
		return -ENOMEM;
	cpuid->nent = 256;
	if (ioctl(h->kvm, KVM_GET_SUPPORTED_CPUID, cpuid) ||
	    ioctl(h->vcpu, KVM_SET_CPUID2, cpuid))
		ret = -errno;
	free(cpuid);
	if (ret)
		return ret;

	if (ioctl(h->vcpu, KVM_GET_SREGS, &sregs))
		return -errno;
	set_seg(&sregs.cs, 0x08, 0xb, 1);
	set_seg(&sregs.ds, 0x10, 0x3, 0);
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	/* No IDT: any exception escalates to a triple fault (KVM_EXIT_SHUTDOWN). */
	sregs.idt.base = 0;
	sregs.idt.limit = 0;
	sregs.cr3 = HAKVM_PML4_GPA;
	sregs.cr4 = 0x20 | 0x200 | 0x400;		/* PAE, OSFXSR, OSXMMEXCPT */
	sregs.cr0 = 0x80000000u | 0x10000 | 0x20 | 0x10 | 0x2 | 0x1;	/* PG WP NE ET MP PE */
	sregs.efer = 0x100 | 0x400;			/* LME, LMA */
	if (ioctl(h->vcpu, KVM_SET_SREGS, &sregs))
		return -errno;
	if (ioctl(h->vcpu, KVM_SET_REGS, &regs))
		return -errno;
	return 0;
}

/* A periodic signal to this thread: KVM_RUN returns -EINTR and we look at the clock. */
static int setup_watchdog(struct hakvm *h)
{
	struct sigaction sa = { .sa_handler = kick };
	struct sigevent sev = {
		.sigev_notify = SIGEV_THREAD_ID,
		.sigev_signo = HAKVM_KICK_SIGNAL,
	};
	struct itimerspec its = {
		.it_value = { .tv_nsec = HAKVM_KICK_NS },
		.it_interval = { .tv_nsec = HAKVM_KICK_NS },
	};
	sigset_t set;

	sigemptyset(&sa.sa_mask);
	if (sigaction(HAKVM_KICK_SIGNAL, &sa, NULL))
		return -errno;
	sigemptyset(&set);
	sigaddset(&set, HAKVM_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	sev._sigev_un._tid = (pid_t)syscall(SYS_gettid);	/* sigev_notify_thread_id */
	if (timer_create(CLOCK_MONOTONIC, &sev, &h->timer))
		return -errno;
	h->have_timer = 1;
	if (timer_settime(h->timer, 0, &its, NULL))
		return -errno;
	return 0;
}

/*
 * Once the guest is set up, the process may do little more than run it:
 * ioctl only KVM_RUN on this vCPU and MSG_SEND/MSG_RECV on this VM fd,
 * memory management, signals, time, writing its output, closing and
 * exiting.  Anything else (opening a file, a new KVM VM, another fabric
 * ioctl) fails with EACCES.  The filter stays for the rest of the process.
 */
#define SC_ALLOW(nr) \
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)
#define SC_ARG_LO(n) offsetof(struct seccomp_data, args[n])

static int setup_seccomp(struct hakvm *h)
{
	uint32_t vmfd = h->cfg->vmfd >= 0 ? (uint32_t)h->cfg->vmfd : 0xffffffffu;
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		/* x32 system calls have bit 30 set: refuse them all. */
		BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000u, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EACCES),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_ioctl, 0, 12),
		/* ioctl(vcpu, KVM_RUN) or ioctl(vmfd, MSG_SEND | MSG_RECV) */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SC_ARG_LO(0)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)h->vcpu, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SC_ARG_LO(1)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)KVM_RUN, 6, 7),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EACCES),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, vmfd, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SC_ARG_LO(1)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)HYPERAETHER_IOC_MSG_SEND, 2, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)HYPERAETHER_IOC_MSG_RECV, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EACCES),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EACCES),
		SC_ALLOW(SYS_read), SC_ALLOW(SYS_write), SC_ALLOW(SYS_writev),
		SC_ALLOW(SYS_close), SC_ALLOW(SYS_mmap), SC_ALLOW(SYS_munmap),
		SC_ALLOW(SYS_mremap), SC_ALLOW(SYS_madvise), SC_ALLOW(SYS_brk),
		SC_ALLOW(SYS_rt_sigreturn), SC_ALLOW(SYS_rt_sigprocmask),
		SC_ALLOW(SYS_futex), SC_ALLOW(SYS_clock_gettime), SC_ALLOW(SYS_clock_nanosleep),
		SC_ALLOW(SYS_nanosleep), SC_ALLOW(SYS_timer_delete), SC_ALLOW(SYS_newfstatat),
		SC_ALLOW(SYS_fstat), SC_ALLOW(SYS_lseek), SC_ALLOW(SYS_getpid),
		SC_ALLOW(SYS_gettid), SC_ALLOW(SYS_tgkill), SC_ALLOW(SYS_restart_syscall),
		SC_ALLOW(SYS_exit), SC_ALLOW(SYS_exit_group),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EACCES),
	};
	struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]), .filter = f };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog))
		return -errno;
	return 0;
}

/* ------------------------------------------------------------ hypercalls */

static int hc_halt(struct hakvm *h, uint64_t gpa)
{
	const struct hakvm_config *cfg = h->cfg;
	struct hakvm_result *res = h->res;
	struct hakvm_halt b;
	const void *vms, *stack, *shared;
	size_t vms_len, stack_len, shared_len;
	void *blk = gpa_range(h, gpa, sizeof(b));

	if (!blk || cfg->image)
		return -EINVAL;
	memcpy(&b, blk, sizeof(b));
	if (b.nvms != cfg->nvms || b.nshared != cfg->nshared || b.depth != h->depth ||
	    b.epochs > h->max_epochs)
		return -EINVAL;
	vms_len = (size_t)b.nvms * sizeof(struct lavm_vm);
	stack_len = (size_t)b.nvms * b.depth * sizeof(struct lavm_frame);
	shared_len = (size_t)b.nshared * sizeof(float);
	vms = gpa_range(h, b.vms_gpa, vms_len);
	stack = gpa_range(h, b.stack_gpa, stack_len);
	shared = gpa_range(h, b.shared_gpa, shared_len);
	if (!vms || !stack || !shared)
		return -EINVAL;
	res->vms = malloc(vms_len + 1);
	res->stack = malloc(stack_len + 1);
	res->shared = malloc(shared_len + 1);
	if (!res->vms || !res->stack || !res->shared)
		return -ENOMEM;
	memcpy(res->vms, vms, vms_len);
	memcpy(res->stack, stack, stack_len);
	memcpy(res->shared, shared, shared_len);
	res->epochs = b.epochs;
	res->nvms = b.nvms;
	res->nshared = b.nshared;
	res->depth = b.depth;
	res->send_ret = b.send_ret;
	res->recv_ret = b.recv_ret;
	stop(h, HAKVM_STOP_HALT, "halted after %u epochs", b.epochs);
	return 0;
}

static int hc_msg(struct hakvm *h, uint16_t port, uint64_t gpa)
{
	struct hakvm_msg m, *blk = gpa_range(h, gpa, sizeof(m));
	void *buf;
	int ret;

	if (!blk)
		return -EINVAL;
	memcpy(&m, blk, sizeof(m));
	if (m.len > HYPERAETHER_MSG_MAX || m.flags & ~HAKVM_MSG_NONBLOCK)
		return -EINVAL;
	buf = gpa_range(h, m.buf_gpa, m.len);
	if (!buf)
		return -EINVAL;
	if (h->cfg->vmfd < 0) {
		ret = -ENOTCONN;
	} else if (port == HAKVM_HC_SEND) {
		/* The module checks SEND on (self, peer) and RECV on (peer, self). */
		ret = ha_msg_send(h->cfg->vmfd, m.peer, buf, m.len);
	} else {
		struct hyperaether_msg_hdr *hdr = (void *)h->msgbuf;
		uint32_t len;

		do {
			len = sizeof(h->msgbuf);
			ret = ha_msg_recv(h->cfg->vmfd, h->msgbuf, &len,
					  m.flags & HAKVM_MSG_NONBLOCK ? HYPERAETHER_MSG_NONBLOCK : 0);
		} while (ret == -EINTR && now_ns() < h->deadline);
		if (!ret) {
			uint32_t n = hdr->len < m.len ? hdr->len : m.len;

			memcpy(buf, h->msgbuf + sizeof(*hdr), n);
			m.peer = hdr->src;
			ret = n;
		}
	}
	m.ret = ret;
	memcpy(blk, &m, sizeof(m));
	return 0;
}

/* One OUT exit; 0 to resume the guest, 1 when the run is over. */
static int hypercall(struct hakvm *h)
{
	struct kvm_run *run = h->run;
	struct hakvm_result *res = h->res;
	uint16_t port = run->io.port;
	uint32_t gpa;
	uint64_t t = now_ns() - h->t0;
	int ret = 0;

	if (run->io.direction != KVM_EXIT_IO_OUT || run->io.size != 4 || run->io.count != 1 ||
	    port < HAKVM_HC_START || port >= HAKVM_HC_END) {
		stop(h, HAKVM_STOP_BAD_IO, "port I/O that is not a hypercall: %s port 0x%x, %u x %u bytes",
		     run->io.direction == KVM_EXIT_IO_OUT ? "out" : "in", port,
		     run->io.count, run->io.size);
		return 1;
	}
	memcpy(&gpa, (uint8_t *)run + run->io.data_offset, sizeof(gpa));
	res->hypercalls++;
	switch (port) {
	case HAKVM_HC_START:
		if (!res->ns_first_insn)
			res->ns_first_insn = t;
		return 0;
	case HAKVM_HC_NOP:
		if (!res->ns_nop_first)
			res->ns_nop_first = t;
		res->ns_nop_last = t;
		return 0;
	case HAKVM_HC_YIELD: {
		struct hakvm_yield y, *blk = gpa_range(h, gpa, sizeof(y));

		if (!blk) {
			ret = -EINVAL;
			break;
		}
		memcpy(&y, blk, sizeof(y));
		res->yields++;
		if (y.epochs > h->max_epochs) {
			stop(h, HAKVM_STOP_EPOCHS, "guest reports %u epochs, budget %u",
			     y.epochs, h->max_epochs);
			return 1;
		}
		return 0;
	}
	case HAKVM_HC_SEND:
	case HAKVM_HC_RECV:
		ret = hc_msg(h, port, gpa);
		break;
	case HAKVM_HC_FAULT: {
		struct hakvm_fault f, *blk = gpa_range(h, gpa, sizeof(f));

		if (!blk) {
			ret = -EINVAL;
			break;
		}
		memcpy(&f, blk, sizeof(f));
		res->fault.code = f.code;
		res->fault.detail = f.detail;
		res->fault.where = f.where;
		stop(h, HAKVM_STOP_GUEST_FAULT, "guest gave up: code %u (%s), insn %u",
		     f.code, f.code == HAKVM_GF_BUNDLE || f.code == HAKVM_GF_VERIFY ?
		     lavm_strerror(f.detail) : f.code == HAKVM_GF_NOMEM ? "out of memory" :
		     f.code == HAKVM_GF_SHARED ? "shared memory below .shared" : "bad boot block",
		     f.where);
		return 1;
	}
	case HAKVM_HC_HALT:
		ret = hc_halt(h, gpa);
		if (!ret)
			return 1;
		break;
	}
	if (ret) {
		stop(h, HAKVM_STOP_BAD_CALL, "hypercall 0x%x with argument block 0x%x: %s",
		     port, gpa, strerror(-ret));
		return 1;
	}
	return 0;
}

/* ------------------------------------------------------------ run */

static void run_loop(struct hakvm *h)
{
	struct kvm_run *run = h->run;
	struct hakvm_result *res = h->res;

	for (;;) {
		if (now_ns() >= h->deadline) {
			stop(h, HAKVM_STOP_TIMEOUT, "wall-clock budget of %u ms used up "
			     "(%llu exits, %llu interrupted entries, %u epochs)",
			     h->cfg->timeout_ms ? h->cfg->timeout_ms : HAKVM_TIMEOUT_DEFAULT,
			     (unsigned long long)res->exits, (unsigned long long)res->kicks,
			     res->epochs);
			return;
		}
		if (ioctl(h->vcpu, KVM_RUN, NULL)) {
			if (errno == EINTR || errno == EAGAIN) {
				res->kicks++;
				continue;
			}
			stop(h, HAKVM_STOP_INTERNAL, "KVM_RUN: %s", strerror(errno));
			return;
		}
		res->exits++;
		switch (run->exit_reason) {
		case KVM_EXIT_IO:
			if (hypercall(h))
				return;
			break;
		case KVM_EXIT_INTR:
			break;
		case KVM_EXIT_MMIO:
			stop(h, HAKVM_STOP_MMIO, "%s of %u bytes at 0x%llx, outside guest RAM (%zu bytes)",
			     run->mmio.is_write ? "write" : "read", run->mmio.len,
			     (unsigned long long)run->mmio.phys_addr, h->ram_bytes);
			return;
		case KVM_EXIT_SHUTDOWN:
			stop(h, HAKVM_STOP_SHUTDOWN, "triple fault (KVM_EXIT_SHUTDOWN)");
			return;
		case KVM_EXIT_HLT:
			stop(h, HAKVM_STOP_HLT, "HLT outside a hypercall");
			return;
		case KVM_EXIT_FAIL_ENTRY:
			stop(h, HAKVM_STOP_INTERNAL, "VM entry failed: reason 0x%llx",
			     (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
			return;
		case KVM_EXIT_INTERNAL_ERROR:
			stop(h, HAKVM_STOP_INTERNAL, "KVM internal error, suberror %u",
			     run->internal.suberror);
			return;
		default:
			stop(h, HAKVM_STOP_INTERNAL, "unexpected exit reason %u", run->exit_reason);
			return;
		}
	}
}

static void teardown(struct hakvm *h)
{
	if (h->have_timer)
		timer_delete(h->timer);
	if (h->run)
		munmap(h->run, h->run_size);
	if (h->vcpu >= 0)
		close(h->vcpu);
	if (h->ram)
		munmap(h->ram, h->ram_bytes);
	if (h->vm >= 0)
		close(h->vm);
	if (h->kvm >= 0)
		close(h->kvm);
}

int hakvm_run(const struct hakvm_config *cfg, struct hakvm_result *res)
{
	struct hakvm *h;
	int ret;

	memset(res, 0, sizeof(*res));
	if (!cfg->image) {
		struct lavm_bundle_info info;

		if (!cfg->bundle || !cfg->nvms ||
		    lavm_bundle_peek(cfg->bundle, cfg->bundle_len, &info))
			return -EINVAL;
		if (cfg->nshared < info.shared_size || cfg->nshared > LAVM_MAX_SHARED)
			return -EINVAL;
		/* The guest's depth is the verified program's, which is the bundle's. */
		res->depth = info.max_call_depth;
	}
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->cfg = cfg;
	h->res = res;
	h->kvm = h->vm = h->vcpu = -1;
	h->depth = res->depth;
	h->max_epochs = cfg->max_epochs;
	h->t0 = now_ns();
	h->deadline = h->t0 + (uint64_t)(cfg->timeout_ms ? cfg->timeout_ms : HAKVM_TIMEOUT_DEFAULT) * 1000000ull;

	h->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (h->kvm < 0) {
		ret = -errno;
		goto out;
	}
	if (ioctl(h->kvm, KVM_GET_API_VERSION, NULL) != KVM_API_VERSION) {
		ret = -ENOTSUP;
		goto out;
	}
	h->vm = ioctl(h->kvm, KVM_CREATE_VM, 0UL);
	if (h->vm < 0) {
		ret = -errno;
		goto out;
	}
	/* Intel needs a TSS area below 4 GiB; AMD ignores it. */
	ioctl(h->vm, KVM_SET_TSS_ADDR, 0xfffbd000UL);
	ret = setup_memory(h);
	if (!ret)
		ret = load_guest(h);
	if (!ret)
		ret = setup_vcpu(h);
	if (!ret)
		ret = setup_watchdog(h);
	if (!ret && cfg->seccomp)
		ret = setup_seccomp(h);
	if (ret)
		goto out;
	run_loop(h);
	res->ns_end = now_ns() - h->t0;
out:
	teardown(h);
	free(h);
	return ret;
}

void hakvm_result_free(struct hakvm_result *res)
{
	free(res->vms);
	free(res->stack);
	free(res->shared);
	res->vms = NULL;
	res->stack = NULL;
	res->shared = NULL;
}
