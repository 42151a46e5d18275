// SPDX-License-Identifier: GPL-2.0
/*
 * Fabric VMs atop KVM (userspace/kvm): LAVM programs run in hardware-isolated
 * guests whose RAM is the fabric VM's memory, with results bit for bit those
 * of lavm_ref_run() in this process (the corrected seed examples and random
 * verified programs); guests talk only through capability-checked channels;
 * hostile guests (access outside RAM, triple fault, spinning forever, stray
 * port I/O, HLT, bad hypercall blocks, a program the guest's own verifier
 * rejects) are each stopped with their reason while a second guest running
 * alongside is unaffected.  Runs on the stock kernel only (see
 * Documentation/testing.rst: nested SVM in the debug kernel).
 */
#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <time.h>

#include <json-c/json.h>

#include "hyperaether.h"
#include "accel.h"
#include "kvm_abi.h"
#include "kvm_monitor.h"
#include "accel_examples.h"

#define KVM_FABRIC_MEM	(512u << 20)
#define KVM_VM_MEM	(32u << 20)

FIXTURE(kvm) {
	int owner;
};

FIXTURE_SETUP(kvm)
{
	struct hyperaether_quota q = { .mem_bytes = KVM_FABRIC_MEM };

	ASSERT_EQ(0, access("/dev/kvm", R_OK | W_OK)) TH_LOG("/dev/kvm: %s", strerror(errno));
	self->owner = ha_open();
	ASSERT_GE(self->owner, 0) TH_LOG("ha_open: %s", strerror(-self->owner));
	ASSERT_EQ(0, ha_fabric_create(self->owner, &q, NULL));
}

FIXTURE_TEARDOWN(kvm)
{
	close(self->owner);
}

/* A KVM-backed fabric VM with KVM_VM_MEM of memory; returns a VM fd acting as it. */
static int kvm_vm(struct __test_metadata *_metadata, int owner, const char *name, uint32_t *id)
{
	struct hyperaether_quota q = { .mem_bytes = KVM_VM_MEM };
	int fd;

	EXPECT_EQ(0, ha_vm_add(owner, name, HYPERAETHER_BACKEND_KVM, &q, 0, id));
	fd = ha_vm_export(owner, *id, HYPERAETHER_VMFD_MAP | HYPERAETHER_VMFD_SEND |
			  HYPERAETHER_VMFD_RECV, 0);
	EXPECT_GE(fd, 0) TH_LOG("VM_EXPORT: %s", strerror(-fd));
	return fd;
}

/* The monitor's config for @p over @r's inputs (start states unless r->init). */
static struct hakvm_config kvm_config(const struct accel_prog *p, const struct accel_run *r, int vmfd)
{
	return (struct hakvm_config){
		.vmfd = vmfd, .bundle = p->bundle, .bundle_len = p->size,
		.nvms = r->nvms, .nshared = r->nshared, .max_epochs = r->max_epochs,
		.init = r->init ? NULL : r->vms, .shared_in = r->shared,
		.send_dst = HAKVM_NO_PEER, .timeout_ms = 60000, .slice_epochs = 37,
	};
}

/*
 * The guest's result as an accel_run to compare with the reference @x: the
 * job counters are functions of the VM states, which are compared word for
 * word, so they are taken from @x except the epoch count.
 */
static int kvm_cmp(const struct hakvm_result *res, const struct accel_run *x, char *why, size_t wl)
{
	struct accel_run d = *x;

	if (res->stop != HAKVM_STOP_HALT)
		return snprintf(why, wl, "stopped (%s): %s", hakvm_stop_name(res->stop), res->why), -1;
	if (res->nvms != x->nvms || res->nshared != x->nshared || res->depth != x->depth)
		return snprintf(why, wl, "shape %u/%u/%u", res->nvms, res->nshared, res->depth), -1;
	d.vms = res->vms;
	d.shared = res->shared;
	d.stack = res->stack;
	d.st.epochs = res->epochs;
	return accel_run_cmp(&d, x, why, wl);
}

/*
 * Runs @cfg in a KVM guest (the result in @res, for the caller to inspect
 * and free) and @p on the reference over @ref; fails the test unless the
 * two agree.  @who names the guest in the message.
 */
static void guest_vs_ref(struct __test_metadata *_metadata, const struct hakvm_config *cfg,
			 const struct accel_prog *p, struct accel_run *ref,
			 struct hakvm_result *res, const char *who)
{
	char why[256];

	ASSERT_EQ(0, hakvm_run(cfg, res));
	accel_run_ref(p, ref);
	EXPECT_EQ(0, kvm_cmp(res, ref, why, sizeof(why))) TH_LOG("%s%s", who, why);
}

/* Run @p on @r in a KVM guest and on the reference; 0 if they agree. */
static int kvm_vs_ref(struct __test_metadata *_metadata, const struct accel_prog *p,
		      struct accel_run *ref, int vmfd, char *why, size_t wl)
{
	struct hakvm_config cfg = kvm_config(p, ref, vmfd);
	struct hakvm_result res;
	int ret;

	ret = hakvm_run(&cfg, &res);
	EXPECT_EQ(0, ret) TH_LOG("hakvm_run: %s", strerror(-ret));
	if (ret)
		return snprintf(why, wl, "hakvm_run: %s", strerror(-ret)), -1;
	accel_run_ref(p, ref);
	ret = kvm_cmp(&res, ref, why, wl);
	hakvm_result_free(&res);
	return ret;
}

/* ------------------------------------------------------------ examples */

TEST_F_TIMEOUT(kvm, examples_match_reference, 300)
{
	uint32_t id;
	int vmfd = kvm_vm(_metadata, self->owner, "examples", &id);
	char why[256];

	for (size_t e = 0; e < sizeof(examples) / sizeof(examples[0]); e++) {
		const struct accel_example *ex = &examples[e];
		json_object *expect = json_tokener_parse(ex->json), *v, *sh;
		struct accel_prog p;
		struct accel_run ref;
		uint32_t nvms;

		ASSERT_NE(NULL, expect);
		ASSERT_EQ(0, accel_prog_asm(&p, ex->name, ex->lasm));
		ASSERT_TRUE(json_object_object_get_ex(expect, "vms", &v));
		nvms = json_object_get_int(v);
		ASSERT_EQ(0, accel_run_alloc(&ref, nvms, json_object_object_get_ex(expect, "shared_in", &sh) ?
					     2001 : p.img.prog.shared_size, p.img.prog.max_call_depth));
		ref.max_epochs = 1000000;
		ref.init = 1;
		if (json_object_object_get_ex(expect, "shared_in", &sh)) {
			json_object_object_foreach(sh, key, val)
				ref.shared[atoi(key)] = (float)json_object_get_double(val);
		}
		EXPECT_EQ(0, kvm_vs_ref(_metadata, &p, &ref, vmfd, why, sizeof(why)))
			TH_LOG("%s: %s", ex->name, why);
		ASSERT_TRUE(json_object_object_get_ex(expect, "epochs", &v));
		EXPECT_EQ(json_object_get_int(v), ref.st.epochs) TH_LOG("%s: epochs", ex->name);
		accel_run_free(&ref);
		accel_prog_free(&p);
		json_object_put(expect);
	}
	close(vmfd);
}

/* ------------------------------------------------------ random programs */

/*
 * Random verified programs (calls, yields, faults, shared memory), random
 * start states (bad IPs and statuses included) or the default ones, 1-64
 * VMs per guest, epoch budgets 1-300: the guest equals the reference.
 */
TEST_F_TIMEOUT(kvm, random_programs_match_reference, 600)
{
	struct accel_rng g = { 0x2545f4914f6cdd1dull };
	const uint32_t nprog = 200, nshared = 16;
	uint32_t id, fails = 0;
	int vmfd = kvm_vm(_metadata, self->owner, "random", &id);
	char why[256];

	for (uint32_t k = 0; k < nprog; k++) {
		struct accel_prog p;
		struct accel_run ref;

		ASSERT_EQ(0, accel_prog_random(&p, &g, 40, nshared));
		ASSERT_EQ(0, accel_run_alloc(&ref, 1 + accel_below(&g, 64), nshared,
					     p.img.prog.max_call_depth));
		ref.max_epochs = 1 + accel_below(&g, 300);
		accel_run_random_inputs(&ref, &g, &p);
		ref.init = k % 4 == 0;
		/* Half of them in anonymous memory, half in the fabric VM's. */
		if (kvm_vs_ref(_metadata, &p, &ref, k % 2 ? vmfd : -1, why, sizeof(why))) {
			if (fails++ < 5)
				TH_LOG("program %u (%u insns, %u VMs): %s", k, p.img.prog.ninsns,
				       ref.nvms, why);
		}
		accel_run_free(&ref);
		accel_prog_free(&p);
	}
	EXPECT_EQ(0, fails);
	close(vmfd);
}

/* ------------------------------------------------------------ fabric */

/* After a run the fabric VM's memory holds what the monitor and guest put there. */
TEST_F_TIMEOUT(kvm, guest_ram_is_the_fabric_vms_memory, 120)
{
	struct hyperaether_vm_query q = { 0 };
	struct hakvm_result res;
	struct accel_prog p;
	struct accel_run r;
	struct hakvm_boot boot;
	uint32_t id;
	int vmfd = kvm_vm(_metadata, self->owner, "ram", &id);
	void *mem;

	ASSERT_EQ(0, accel_prog_asm(&p, "halt", "SETI r1, 7\nHALT\n"));
	ASSERT_EQ(0, accel_run_alloc(&r, 3, 0, 0));
	r.max_epochs = 100;
	r.init = 1;
	{
		struct hakvm_config cfg = kvm_config(&p, &r, vmfd);

		ASSERT_EQ(0, hakvm_run(&cfg, &res));
	}
	ASSERT_EQ(HAKVM_STOP_HALT, res.stop) TH_LOG("%s", res.why);
	ASSERT_EQ(0, ha_vm_query(self->owner, id, &q));
	EXPECT_EQ(HYPERAETHER_BACKEND_KVM, q.backend);
	ASSERT_EQ(0, ha_vm_mmap(vmfd, id, 0, 4u << 20, &mem));
	memcpy(&boot, (char *)mem + HAKVM_BOOT_GPA, sizeof(boot));
	EXPECT_EQ(HAKVM_BOOT_MAGIC, boot.magic);
	EXPECT_EQ(3, boot.nvms);
	EXPECT_EQ(0, memcmp((char *)mem + boot.bundle_gpa, p.bundle, p.size));
	/* The guest's final states live in that memory too. */
	EXPECT_EQ(7.0f, res.vms[2].v[LAVM_X_R0 + 1]);
	munmap(mem, 4u << 20);
	hakvm_result_free(&res);
	accel_run_free(&r);
	accel_prog_free(&p);
	close(vmfd);
}

/* Each VM doubles its word and adds one: shared[i] = 2 * shared[i] + 1. */
static const char twice_plus_one[] =
	".shared 4\n"
	"SYSCALL_READ r1, r0\n"
	"ADD r1, r1, r1\n"
	"SETI r2, 1\n"
	"ADD r1, r1, r2\n"
	"SYSCALL_WRITE r0, r1\n"
	"HALT\n";

/* twice_plus_one on 4 VMs from their default start, shared memory zero. */
static void twice_plus_one_job(struct __test_metadata *_metadata, struct accel_prog *p,
			       struct accel_run *ref)
{
	ASSERT_EQ(0, accel_prog_asm(p, "twice_plus_one", twice_plus_one));
	ASSERT_EQ(0, accel_run_alloc(ref, 4, 4, 0));
	ref->max_epochs = 100;
	ref->init = 1;
}

/*
 * Guest a sends its shared memory to guest b through the fabric (cap
 * SEND on (a, b), RECV on (b, a)); b runs on what it received.  Both equal
 * the reference: [1 2 3 4] -> [3 5 7 9] -> [7 11 15 19].
 */
TEST_F_TIMEOUT(kvm, channel_between_guests, 120)
{
	uint32_t a, b;
	int fa = kvm_vm(_metadata, self->owner, "a", &a), fb = kvm_vm(_metadata, self->owner, "b", &b);
	struct hakvm_result ra, rb;
	struct hakvm_config cfg;
	struct accel_prog p;
	struct accel_run ref;

	ASSERT_EQ(0, ha_cap_set(self->owner, a, b, HYPERAETHER_CAP_SEND));
	ASSERT_EQ(0, ha_cap_set(self->owner, b, a, HYPERAETHER_CAP_RECV));
	twice_plus_one_job(_metadata, &p, &ref);
	for (int i = 0; i < 4; i++)
		ref.shared[i] = i + 1;

	cfg = kvm_config(&p, &ref, fa);
	cfg.send_dst = b;
	guest_vs_ref(_metadata, &cfg, &p, &ref, &ra, "a: ");
	EXPECT_EQ(0, ra.send_ret) TH_LOG("a's send: %s", strerror(-ra.send_ret));
	EXPECT_EQ(9.0f, ref.shared[3]);

	cfg = kvm_config(&p, &ref, fb);
	cfg.shared_in = NULL;		/* b gets its input only from the channel */
	cfg.recv_shared = 1;
	guest_vs_ref(_metadata, &cfg, &p, &ref, &rb, "b: ");	/* ref.shared still holds a's output */
	EXPECT_EQ(16, rb.recv_ret);
	EXPECT_EQ(19.0f, rb.shared[3]);

	hakvm_result_free(&ra);
	hakvm_result_free(&rb);
	accel_run_free(&ref);
	accel_prog_free(&p);
	close(fa);
	close(fb);
}

/*
 * A fabric mixing backends: a LAVM-backend VM (this process, acting through
 * its VM fd) sends the input to a KVM guest, which runs on it and sends its
 * result back; the same cap rules as between any two fabric VMs.
 */
TEST_F_TIMEOUT(kvm, guest_and_lavm_vm_exchange_messages, 120)
{
	struct hyperaether_quota q = { 0 };
	const float in[4] = { 10, 20, 30, 40 };
	uint32_t k, l;
	int fk = kvm_vm(_metadata, self->owner, "guest", &k), fl;
	struct hyperaether_msg_hdr *hdr;
	struct hakvm_result res;
	struct hakvm_config cfg;
	struct accel_prog p;
	struct accel_run ref;
	char buf[sizeof(*hdr) + 64];
	uint32_t len = sizeof(buf);

	ASSERT_EQ(0, ha_vm_add(self->owner, "lavm", HYPERAETHER_BACKEND_LAVM, &q, 0, &l));
	fl = ha_vm_export(self->owner, l, HYPERAETHER_VMFD_SEND | HYPERAETHER_VMFD_RECV, 0);
	ASSERT_GE(fl, 0);
	/* cap(l, k) = cap(k, l) = 1 in the seed's sense: SEND|RECV on both edges. */
	ASSERT_EQ(0, ha_cap_set(self->owner, l, k, HYPERAETHER_CAP_SEND | HYPERAETHER_CAP_RECV));
	ASSERT_EQ(0, ha_cap_set(self->owner, k, l, HYPERAETHER_CAP_SEND | HYPERAETHER_CAP_RECV));
	ASSERT_EQ(0, ha_msg_send(fl, k, in, sizeof(in)));

	twice_plus_one_job(_metadata, &p, &ref);
	memcpy(ref.shared, in, sizeof(in));
	cfg = kvm_config(&p, &ref, fk);
	cfg.shared_in = NULL;
	cfg.recv_shared = 1;
	cfg.send_dst = l;
	guest_vs_ref(_metadata, &cfg, &p, &ref, &res, "");
	EXPECT_EQ(16, res.recv_ret);
	EXPECT_EQ(0, res.send_ret);

	ASSERT_EQ(0, ha_msg_recv(fl, buf, &len, HYPERAETHER_MSG_NONBLOCK));
	hdr = (struct hyperaether_msg_hdr *)buf;
	EXPECT_EQ(k, hdr->src);
	ASSERT_EQ(16, hdr->len);
	EXPECT_EQ(0, memcmp(buf + sizeof(*hdr), ref.shared, 16));
	EXPECT_EQ(81.0f, ref.shared[3]);
	hakvm_result_free(&res);
	accel_run_free(&ref);
	accel_prog_free(&p);
	close(fk);
	close(fl);
}

/*
 * A guest that sends on cap = 0: the module refuses (-EACCES), the guest
 * sees the error and still halts with its result; the peer's inbox stays
 * empty and the refusal is counted against the sender.
 */
TEST_F_TIMEOUT(kvm, send_without_cap_is_refused, 120)
{
	struct hyperaether_vm_query q = { 0 };
	uint32_t a, c;
	int fa = kvm_vm(_metadata, self->owner, "sender", &a);
	int fc = kvm_vm(_metadata, self->owner, "peer", &c);
	struct hakvm_result res;
	struct hakvm_config cfg;
	struct accel_prog p;
	struct accel_run ref;
	char buf[256];
	uint32_t len = sizeof(buf);

	ASSERT_EQ(0, ha_cap_set(self->owner, c, a, HYPERAETHER_CAP_RECV));	/* c would accept */
	twice_plus_one_job(_metadata, &p, &ref);
	cfg = kvm_config(&p, &ref, fa);
	cfg.send_dst = c;
	guest_vs_ref(_metadata, &cfg, &p, &ref, &res, "");
	EXPECT_EQ(-EACCES, res.send_ret);
	EXPECT_EQ(-EAGAIN, ha_msg_recv(fc, buf, &len, HYPERAETHER_MSG_NONBLOCK));
	ASSERT_EQ(0, ha_vm_query(self->owner, a, &q));
	EXPECT_GE(q.usage.denials, 1);
	hakvm_result_free(&res);
	accel_run_free(&ref);
	accel_prog_free(&p);
	close(fa);
	close(fc);
}

/*
 * With cfg.seccomp the monitor confines its process once the guest is set
 * up (this test runs in its own child of the harness): the guest still
 * runs, sends and halts; the process can no longer open /dev/kvm or use
 * the fabric owner fd.
 */
TEST_F_TIMEOUT(kvm, monitor_confined_by_seccomp, 120)
{
	uint32_t a, b, id;
	int fa = kvm_vm(_metadata, self->owner, "confined", &a);
	int fb = kvm_vm(_metadata, self->owner, "sink", &b);
	struct hakvm_result res;
	struct hakvm_config cfg;
	struct accel_prog p;
	struct accel_run ref;

	ASSERT_EQ(0, ha_cap_set(self->owner, a, b, HYPERAETHER_CAP_SEND));
	ASSERT_EQ(0, ha_cap_set(self->owner, b, a, HYPERAETHER_CAP_RECV));
	twice_plus_one_job(_metadata, &p, &ref);
	cfg = kvm_config(&p, &ref, fa);
	cfg.send_dst = b;
	cfg.seccomp = 1;
	guest_vs_ref(_metadata, &cfg, &p, &ref, &res, "");
	EXPECT_EQ(0, res.send_ret);
	EXPECT_EQ(-1, open("/dev/kvm", O_RDWR));
	EXPECT_EQ(EACCES, errno);
	EXPECT_EQ(-EACCES, ha_vm_add(self->owner, "escape", HYPERAETHER_BACKEND_KVM, NULL, 0, &id));
	hakvm_result_free(&res);
	accel_run_free(&ref);
	accel_prog_free(&p);
	close(fa);
	close(fb);
}

/* ------------------------------------------------------ hostile guests */

/* A well-behaved guest on another thread, to show the hostile one harms nobody. */
struct bystander {
	struct accel_prog p;
	struct accel_run ref;
	struct hakvm_config cfg;
	struct hakvm_result res;
	int ret;
	pthread_t thread;
};

static void *bystander_run(void *arg)
{
	struct bystander *b = arg;

	b->ret = hakvm_run(&b->cfg, &b->res);
	return NULL;
}

static void bystander_start(struct __test_metadata *_metadata, struct bystander *b, int vmfd)
{
	static const char loop[] =
		"SETI r1, 0\nSETI r2, 1\nSETI r3, 3000\n"
		"top: ADD r1, r1, r2\nCMP r0, r1, r3\nBRANCH_LT r0, top\nHALT\n";

	ASSERT_EQ(0, accel_prog_asm(&b->p, "bystander", loop));
	ASSERT_EQ(0, accel_run_alloc(&b->ref, 5, 0, 0));
	b->ref.max_epochs = 1000000;
	b->ref.init = 1;
	b->cfg = kvm_config(&b->p, &b->ref, vmfd);
	ASSERT_EQ(0, pthread_create(&b->thread, NULL, bystander_run, b));
}

static void bystander_check(struct __test_metadata *_metadata, struct bystander *b)
{
	char why[256];

	pthread_join(b->thread, NULL);
	ASSERT_EQ(0, b->ret);
	accel_run_ref(&b->p, &b->ref);
	EXPECT_EQ(0, kvm_cmp(&b->res, &b->ref, why, sizeof(why))) TH_LOG("bystander: %s", why);
	EXPECT_EQ(9004, b->res.epochs);
	hakvm_result_free(&b->res);
	accel_run_free(&b->ref);
	accel_prog_free(&b->p);
}

/*
 * Run raw long-mode code (entered at HAKVM_IMAGE_GPA, RAM of 4 MiB) beside a
 * bystander; it must stop with @want, within its 2 s wall-clock budget plus
 * slack.
 */
static void hostile(struct __test_metadata *_metadata, int owner, const char *name,
		    const unsigned char *code, size_t len, enum hakvm_stop want)
{
	struct hakvm_config cfg = {
		.image = code, .image_len = len, .ram_bytes = 4u << 20, .timeout_ms = 2000,
		.send_dst = HAKVM_NO_PEER,
	};
	struct bystander b;
	struct hakvm_result res;
	struct timespec t0, t1;
	uint32_t ida, idb;
	int fa = kvm_vm(_metadata, owner, name, &ida);
	char other[32];
	int fb;

	snprintf(other, sizeof(other), "%s-peer", name);
	fb = kvm_vm(_metadata, owner, other, &idb);
	cfg.vmfd = fa;
	bystander_start(_metadata, &b, fb);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ASSERT_EQ(0, hakvm_run(&cfg, &res));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	EXPECT_EQ(want, res.stop) TH_LOG("%s: stopped (%s): %s", name, hakvm_stop_name(res.stop), res.why);
	TH_LOG("%s: %s: %s", name, hakvm_stop_name(res.stop), res.why);
	EXPECT_LT(t1.tv_sec - t0.tv_sec, 30);
	hakvm_result_free(&res);
	bystander_check(_metadata, &b);
	close(fa);
	close(fb);
}

#define MOVABS_RAX(a) 0x48, 0xb8, (a) & 0xff, ((a) >> 8) & 0xff, ((a) >> 16) & 0xff, \
	((a) >> 24) & 0xff, 0, 0, 0, 0

TEST_F_TIMEOUT(kvm, read_outside_ram_is_stopped, 120)
{
	/* mov $512MiB, %rax; mov (%rax), %eax: mapped by the page tables, no memory slot */
	static const unsigned char code[] = { MOVABS_RAX(0x20000000), 0x8b, 0x00, 0xf4 };

	hostile(_metadata, self->owner, "oob-read", code, sizeof(code), HAKVM_STOP_MMIO);
}

TEST_F_TIMEOUT(kvm, write_outside_ram_is_stopped, 120)
{
	/* mov $(4 MiB + 8), %rax; movl $0x41, (%rax): just past the end of RAM */
	static const unsigned char code[] = {
		MOVABS_RAX(0x400008), 0xc7, 0x00, 0x41, 0, 0, 0, 0xf4,
	};

	hostile(_metadata, self->owner, "oob-write", code, sizeof(code), HAKVM_STOP_MMIO);
}

TEST_F_TIMEOUT(kvm, spinning_guest_is_stopped_by_its_budget, 120)
{
	static const unsigned char code[] = { 0xeb, 0xfe };	/* jmp . */

	hostile(_metadata, self->owner, "spin", code, sizeof(code), HAKVM_STOP_TIMEOUT);
}

TEST_F_TIMEOUT(kvm, triple_fault_is_stopped, 120)
{
	static const unsigned char code[] = { 0x0f, 0x0b };	/* ud2, no IDT */

	hostile(_metadata, self->owner, "triple", code, sizeof(code), HAKVM_STOP_SHUTDOWN);
}

TEST_F_TIMEOUT(kvm, stray_port_io_is_stopped, 120)
{
	static const unsigned char code[] = { 0xb0, 0x41, 0xe6, 0x80, 0xf4 };	/* out %al, $0x80 */

	hostile(_metadata, self->owner, "port", code, sizeof(code), HAKVM_STOP_BAD_IO);
}

TEST_F_TIMEOUT(kvm, hlt_is_stopped, 120)
{
	static const unsigned char code[] = { 0xf4 };

	hostile(_metadata, self->owner, "hlt", code, sizeof(code), HAKVM_STOP_HLT);
}

TEST_F_TIMEOUT(kvm, hypercall_block_outside_ram_is_stopped, 120)
{
	/* mov $0x7ffffff0, %eax; mov $0x504, %dx (SEND); out %eax, %dx */
	static const unsigned char code[] = {
		0xb8, 0xf0, 0xff, 0xff, 0x7f, 0x66, 0xba, 0x04, 0x05, 0xef, 0xf4,
	};

	hostile(_metadata, self->owner, "badcall", code, sizeof(code), HAKVM_STOP_BAD_CALL);
}

/* A bundle whose CRCs are right but whose program is not: the guest's verifier refuses it. */
TEST_F_TIMEOUT(kvm, guest_verifies_the_program, 120)
{
	struct lavm_insn insns[2] = {
		{ .op = LAVM_OP_ADD, .a = { 7, 0, 0 } },	/* r7 does not exist */
		{ .op = LAVM_OP_HALT },
	};
	static float mat[LAVM_MAT];
	struct lavm_prog prog = {
		.insns = insns, .matrices = mat, .ninsns = 2, .nlinear = 1,
	};
	struct hakvm_config cfg = {
		.vmfd = -1, .nvms = 1, .max_epochs = 10, .timeout_ms = 5000,
		.send_dst = HAKVM_NO_PEER,
	};
	struct hakvm_result res;
	char bundle[4096];
	long n = lavm_bundle_write(&prog, bundle, sizeof(bundle));

	ASSERT_GT(n, 0);
	cfg.bundle = bundle;
	cfg.bundle_len = n;
	ASSERT_EQ(0, hakvm_run(&cfg, &res));
	EXPECT_EQ(HAKVM_STOP_GUEST_FAULT, res.stop) TH_LOG("%s", res.why);
	EXPECT_EQ(HAKVM_GF_VERIFY, res.fault.code);
	EXPECT_EQ(LAVM_E_OPERAND, res.fault.detail);
	EXPECT_EQ(0, res.fault.where);
}

/* An endless LAVM loop ends at max_epochs, yielding to the monitor on the way. */
TEST_F_TIMEOUT(kvm, endless_program_ends_at_max_epochs, 120)
{
	struct hakvm_result res;
	struct accel_prog p;
	struct accel_run ref;
	struct hakvm_config cfg;

	ASSERT_EQ(0, accel_prog_asm(&p, "forever", "top: JUMP top\n"));
	ASSERT_EQ(0, accel_run_alloc(&ref, 2, 0, 0));
	ref.max_epochs = 5000;
	ref.init = 1;
	cfg = kvm_config(&p, &ref, -1);
	cfg.slice_epochs = 1000;
	guest_vs_ref(_metadata, &cfg, &p, &ref, &res, "");
	EXPECT_EQ(5000, res.epochs);
	EXPECT_EQ(5, res.yields);
	hakvm_result_free(&res);
	accel_run_free(&ref);
	accel_prog_free(&p);
}

TEST_HARNESS_MAIN
