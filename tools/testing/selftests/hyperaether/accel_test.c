// SPDX-License-Identifier: GPL-2.0
/*
 * The accel driver through /dev/accel/accelN: the corrected seed examples
 * and random verified programs give the same final states, call frames,
 * shared memory and epoch counts as the userspace reference interpreter,
 * bit for bit; every bad input gets its errno; capabilities on data (cap
 * SHARE between fabric VMs) and epoch quotas; runaway jobs, closed files
 * and killed processes leave the device usable; syncobj dependencies.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>

#include <json-c/json.h>
#include <xf86drm.h>

#include "hyperaether.h"
#include "accel.h"
#include "accel_examples.h"

FIXTURE(accel) {
	int fd;
};

FIXTURE_SETUP(accel)
{
	ACCEL_OPEN(self->fd);
}

FIXTURE_TEARDOWN(accel)
{
	if (self->fd >= 0)
		close(self->fd);
}

static uint64_t param(struct __test_metadata *_metadata, int fd, uint32_t p)
{
	uint64_t v = 0;

	EXPECT_EQ(0, ha_accel_get_param(fd, p, &v));
	return v;
}

TEST_F(accel, params)
{
	EXPECT_EQ(DRM_HYPERAETHER_API_VERSION, param(_metadata, self->fd, DRM_HYPERAETHER_PARAM_API_VERSION));
	EXPECT_TRUE(param(_metadata, self->fd, DRM_HYPERAETHER_PARAM_ENGINES) &
		    (1u << DRM_HYPERAETHER_ENGINE_CPU));
	EXPECT_GE(param(_metadata, self->fd, DRM_HYPERAETHER_PARAM_MAX_INSTANCES), 100000);
	EXPECT_GE(param(_metadata, self->fd, DRM_HYPERAETHER_PARAM_MAX_SHARED_WORDS), 2001);
	EXPECT_GE(param(_metadata, self->fd, DRM_HYPERAETHER_PARAM_MAX_EPOCHS), 1000);
	EXPECT_EQ(64, param(_metadata, self->fd, DRM_HYPERAETHER_PARAM_MAX_SEGMENTS));
	EXPECT_NE(0, param(_metadata, self->fd, DRM_HYPERAETHER_PARAM_SLICE_INSNS));
	EXPECT_NE(0, param(_metadata, self->fd, DRM_HYPERAETHER_PARAM_JOB_TIMEOUT_MS));
}

/* ------------------------------------------------------------ examples */

static bool json_num_is(json_object *w, float got)
{
	if (json_object_is_type(w, json_type_string)) {
		const char *s = json_object_get_string(w);

		if (!strcmp(s, "nan"))
			return got != got;
		return !strcmp(s, got > 0 ? "inf" : "-inf") && got == got && got - got != got - got;
	}
	return f2u((float)json_object_get_double(w)) == f2u(got);
}

/* One VM of the expect file ("status", "ip", "r", "mem", "fault"). */
static bool vm_as_expected(json_object *want, const struct lavm_vm *vm, char *why, size_t wl)
{
	json_object_object_foreach(want, key, w) {
		if (!strcmp(key, "status")) {
			if (strcmp(json_object_get_string(w), lavm_status_name(vm->status)))
				return snprintf(why, wl, "status %s", lavm_status_name(vm->status)), false;
		} else if (!strcmp(key, "fault")) {
			const char *f = vm->status == LAVM_FAULTED ? lavm_fault_name(vm->fault) : NULL;

			if (json_object_is_type(w, json_type_null) ? f != NULL :
			    !f || strcmp(f, json_object_get_string(w)))
				return snprintf(why, wl, "fault %s", f ? f : "null"), false;
		} else if (!strcmp(key, "ip")) {
			if (!json_num_is(w, vm->v[LAVM_X_IP]))
				return snprintf(why, wl, "ip %g", vm->v[LAVM_X_IP]), false;
		} else if (!strcmp(key, "r") || !strcmp(key, "mem")) {
			int base = key[0] == 'r' ? LAVM_X_R0 : LAVM_X_MEM0;

			for (size_t k = 0; k < json_object_array_length(w); k++)
				if (!json_num_is(json_object_array_get_idx(w, k), vm->v[base + k]))
					return snprintf(why, wl, "%s[%zu] = %g", key, k,
							vm->v[base + k]), false;
		}
	}
	return true;
}

/*
 * Each seed example on the device: bit for bit the reference's result,
 * and the values worked out by hand in its .expect.json.
 */
TEST_F(accel, examples_match_reference_and_expectation)
{
	for (size_t e = 0; e < sizeof(examples) / sizeof(examples[0]); e++) {
		const struct accel_example *ex = &examples[e];
		json_object *expect = json_tokener_parse(ex->json), *v, *sh, *all, *each;
		struct accel_run dev, ref;
		struct accel_bufs b;
		struct accel_prog p;
		uint32_t nvms, nshared;
		char why[256];

		ASSERT_NE(NULL, expect) TH_LOG("%s: expect file does not parse", ex->name);
		ASSERT_EQ(0, accel_prog_asm(&p, ex->name, ex->lasm)) TH_LOG("%s", ex->name);
		ASSERT_TRUE(json_object_object_get_ex(expect, "vms", &v));
		nvms = json_object_get_int(v);
		nshared = json_object_object_get_ex(expect, "shared_in", &sh) ? 2001 :
			  p.img.prog.shared_size;
		ASSERT_EQ(0, accel_run_alloc(&ref, nvms, nshared, p.img.prog.max_call_depth));
		ref.max_epochs = 1000000;
		ref.init = 1;
		if (json_object_object_get_ex(expect, "shared_in", &sh)) {
			json_object_object_foreach(sh, key, val)
				ref.shared[atoi(key)] = (float)json_object_get_double(val);
		}
		ASSERT_EQ(0, accel_run_alloc(&dev, nvms, nshared, p.img.prog.max_call_depth));
		accel_run_copy_in(&dev, &ref);
		ASSERT_EQ(0, accel_bufs_new(self->fd, &b, p.size, nvms, nshared,
					    p.img.prog.max_call_depth));
		accel_run_ref(&p, &ref);
		ASSERT_EQ(0, accel_run_dev(&b, &p, &dev, 20000)) TH_LOG("%s: log '%s'", ex->name, b.log);
		EXPECT_EQ(0, accel_run_cmp(&dev, &ref, why, sizeof(why)))
			TH_LOG("%s: %s", ex->name, why);

		ASSERT_TRUE(json_object_object_get_ex(expect, "epochs", &v));
		EXPECT_EQ(json_object_get_int(v), dev.st.epochs) TH_LOG("%s: epochs", ex->name);
		all = each = NULL;
		json_object_object_get_ex(expect, "all", &all);
		json_object_object_get_ex(expect, "each", &each);
		for (uint32_t i = 0; i < nvms; i++) {
			json_object *w = all ? all : each ? json_object_array_get_idx(each, i) : NULL;

			if (w)
				EXPECT_TRUE(vm_as_expected(w, &dev.vms[i], why, sizeof(why)))
					TH_LOG("%s: vm %u: %s", ex->name, i, why);
		}
		if (json_object_object_get_ex(expect, "shared", &sh)) {
			json_object_object_foreach(sh, key, val)
				EXPECT_TRUE(json_num_is(val, dev.shared[atoi(key)]))
					TH_LOG("%s: shared[%s] = %g", ex->name, key, dev.shared[atoi(key)]);
		}
		accel_bufs_free(&b);
		accel_run_free(&dev);
		accel_run_free(&ref);
		accel_prog_free(&p);
		json_object_put(expect);
	}
}

/* ------------------------------------------------------ random programs */

/*
 * Random verified programs with random start states (bad IPs and statuses
 * included), shared memory and call stacks, 1-300 instances (more than one
 * 256-lane block), epoch budgets 1-200: the device equals the reference.
 */
TEST_F_TIMEOUT(accel, random_programs_match_reference, 300)
{
	static const uint32_t counts[] = { 1, 2, 7, 33, 64, 257, 300 };
	struct accel_rng g = { 0x9e3779b97f4a7c15ull };
	const uint32_t nprog = 300, nshared = 24, maxd = LAVM_MAX_CALL_DEPTH;
	struct accel_bufs b;
	uint32_t fails = 0;

	ASSERT_EQ(0, accel_bufs_new(self->fd, &b, 64 * 1024, 300, nshared, maxd));
	for (uint32_t n = 0; n < nprog; n++) {
		struct accel_run dev, ref;
		struct accel_prog p;
		uint32_t nvms = counts[accel_below(&g, sizeof(counts) / sizeof(counts[0]))];
		char why[256];
		int ret;

		ASSERT_EQ(0, accel_prog_random(&p, &g, 40, nshared));
		ASSERT_EQ(0, accel_run_alloc(&ref, nvms, nshared, p.img.prog.max_call_depth));
		ASSERT_EQ(0, accel_run_alloc(&dev, nvms, nshared, p.img.prog.max_call_depth));
		ref.max_epochs = 1 + accel_below(&g, 200);
		ref.init = accel_below(&g, 4) == 0;
		accel_run_random_inputs(&ref, &g, &p);
		accel_run_copy_in(&dev, &ref);
		ret = accel_run_dev(&b, &p, &dev, 20000);
		accel_run_ref(&p, &ref);
		if (ret || accel_run_cmp(&dev, &ref, why, sizeof(why))) {
			if (ret)
				snprintf(why, sizeof(why), "submit/wait: %s (log '%s')", strerror(-ret), b.log);
			if (fails++ < 5) {
				TH_LOG("program %u (%u insns, %u VMs, %u epochs): %s", n,
				       p.img.prog.ninsns, nvms, ref.max_epochs, why);
				lavm_disassemble(&p.img.prog, stderr);
			}
		}
		accel_run_free(&dev);
		accel_run_free(&ref);
		accel_prog_free(&p);
	}
	accel_bufs_free(&b);
	EXPECT_EQ(0, fails) TH_LOG("%u of %u programs differ from the reference", fails, nprog);
}

/* ------------------------------------------------------------ bad input */

/* A program with shared memory and a call: every size check has a reason to look. */
static const char probe_src[] =
	".shared 4\n"
	"	CALL F\n"
	"	HALT\n"
	"F:	SYSCALL_READ r1, r0\n"
	"	RETURN\n";

FIXTURE(submit) {
	int fd;
	struct accel_prog p;
	struct accel_bufs b;
	struct accel_run r;
	struct drm_hyperaether_submit s;
};

FIXTURE_SETUP(submit)
{
	struct drm_hyperaether_submit s;
	struct drm_hyperaether_wait st;

	ACCEL_OPEN(self->fd);
	ASSERT_EQ(0, accel_prog_asm(&self->p, "probe", probe_src));
	ASSERT_EQ(1, self->p.img.prog.max_call_depth);
	ASSERT_EQ(0, accel_bufs_new(self->fd, &self->b, 4096, 4, 4, 1));
	ASSERT_EQ(0, accel_run_alloc(&self->r, 4, 4, 1));
	self->r.max_epochs = 100;
	self->r.init = 1;
	accel_bufs_load(&self->b, &self->p, &self->r);
	accel_submit_fill(&self->s, &self->b, &self->p, &self->r);
	/* The base submit is valid: each test breaks one thing. */
	s = self->s;
	ASSERT_EQ(0, accel_submit_wait(self->fd, &s, &st, 20000)) TH_LOG("log '%s'", self->b.log);
	ASSERT_EQ(4, st.halted);
}

FIXTURE_TEARDOWN(submit)
{
	accel_bufs_free(&self->b);
	accel_run_free(&self->r);
	accel_prog_free(&self->p);
	if (self->fd >= 0)
		close(self->fd);
}

/* errno of SUBMIT with @s. */
static int submit_err(int fd, struct drm_hyperaether_submit s)
{
	return -ha_accel_submit(fd, &s);
}

#define SUBMIT_ERR(want, field, value) do {				\
	struct drm_hyperaether_submit _s = self->s;			\
	_s.field = (value);						\
	EXPECT_EQ((want), submit_err(self->fd, _s))			\
		TH_LOG(#field " = " #value ": %s", strerror(submit_err(self->fd, _s))); \
} while (0)

/* Either of two errnos (where the header leaves the choice open). */
#define SUBMIT_ERR2(w1, w2, field, value) do {				\
	struct drm_hyperaether_submit _s = self->s;			\
	int _e;								\
	_s.field = (value);						\
	_e = submit_err(self->fd, _s);					\
	EXPECT_TRUE(_e == (w1) || _e == (w2)) TH_LOG(#field " = " #value ": %s", strerror(_e)); \
} while (0)

TEST_F(submit, bad_handles_are_enoent)
{
	SUBMIT_ERR2(ENOENT, EINVAL, prog_handle, 0);
	SUBMIT_ERR2(ENOENT, EINVAL, prog_handle, 0x7fff);
	SUBMIT_ERR2(ENOENT, EINVAL, state_handle, 0);
	SUBMIT_ERR2(ENOENT, EINVAL, state_handle, 0x7fff);
	SUBMIT_ERR2(ENOENT, EINVAL, shared_handle, 0x7fff);
	SUBMIT_ERR2(ENOENT, EINVAL, stack_handle, 0x7fff);
}

TEST_F(submit, foreign_bo_is_refused)
{
	struct ha_accel_bo other[8];
	int fd2 = ha_accel_open();

	ASSERT_GE(fd2, 0);
	/* Handles count up per file: past ours, the last one exists only in fd2. */
	for (int i = 0; i < 8; i++)
		ASSERT_EQ(0, ha_accel_bo_new(fd2, 64 * 1024, &other[i]));
	ASSERT_GT(other[7].handle, self->b.stack.handle);
	SUBMIT_ERR2(ENOENT, EINVAL, prog_handle, other[7].handle);
	SUBMIT_ERR2(ENOENT, EINVAL, state_handle, other[7].handle);
	SUBMIT_ERR2(ENOENT, EINVAL, shared_handle, other[7].handle);
	SUBMIT_ERR2(ENOENT, EINVAL, stack_handle, other[7].handle);
	for (int i = 0; i < 8; i++)
		ha_accel_bo_free(fd2, &other[i]);
	close(fd2);
}

TEST_F(submit, bad_sizes_are_einval)
{
	struct drm_hyperaether_submit s = self->s;
	struct ha_accel_bo st;

	SUBMIT_ERR(EINVAL, ninstances, 0);
	SUBMIT_ERR(EINVAL, ninstances, 33);			/* 4 KiB state BO holds 32 */
	SUBMIT_ERR(EINVAL, ninstances, 0xffffffffu);
	SUBMIT_ERR(EINVAL, max_epochs, 0);
	SUBMIT_ERR(EINVAL, max_epochs, 0xffffffffu);
	SUBMIT_ERR(EINVAL, nshared, 3);				/* the program's .shared is 4 */
	SUBMIT_ERR(EINVAL, nshared, 1025);			/* 4 KiB shared BO holds 1024 */
	SUBMIT_ERR(EINVAL, nshared, 0);
	SUBMIT_ERR(EINVAL, prog_size, 0);
	SUBMIT_ERR(EINVAL, prog_size, 4097);			/* past the program BO */
	SUBMIT_ERR(EINVAL, engine, DRM_HYPERAETHER_ENGINE_EXECUTOR + 1);
	/* A stack BO smaller than ninstances * max_call_depth frames. */
	ASSERT_EQ(0, ha_accel_bo_new(self->fd, 300 * 128, &st));
	s.state_handle = st.handle;
	s.ninstances = 300;					/* 4800 bytes of frames */
	s.shared_handle = 0;
	s.nshared = 0;
	EXPECT_EQ(EINVAL, submit_err(self->fd, s));		/* and .shared 4 > 0 */
	s.shared_handle = self->b.shared.handle;
	s.nshared = 4;
	EXPECT_EQ(EINVAL, submit_err(self->fd, s)) TH_LOG("stack of 4 KiB for 300 frames");
	s.stack_handle = 0;					/* kernel memory: fine */
	EXPECT_EQ(0, submit_err(self->fd, s));
	ha_accel_bo_free(self->fd, &st);
}

TEST_F(submit, bad_program_is_einval_with_a_log)
{
	struct ha_accel_bo bo;
	struct accel_prog bad;
	unsigned char *bytes;
	struct drm_hyperaether_submit s;

	/* A flipped bit: the bundle's checksum fails. */
	bytes = self->b.prog.map;
	bytes[LAVM_BUNDLE_HDR_SIZE + 2] ^= 0x10;
	s = self->s;
	EXPECT_EQ(EINVAL, submit_err(self->fd, s));
	EXPECT_NE(0, self->b.log[0]) TH_LOG("no verifier log for a corrupt bundle");
	TH_LOG("corrupt bundle: '%s'", self->b.log);
	bytes[LAVM_BUNDLE_HDR_SIZE + 2] ^= 0x10;

	/* A well-formed bundle the verifier rejects: a branch past the end. */
	memset(&bad, 0, sizeof(bad));
	bad.img.insns = calloc(2, sizeof(*bad.img.insns));
	ASSERT_NE(NULL, bad.img.insns);
	bad.img.insns[0].op = LAVM_OP_JUMP;
	bad.img.insns[0].a[0] = 7;
	bad.img.insns[1].op = LAVM_OP_HALT;
	bad.img.prog.ninsns = 2;
	bad.img.prog.insns = bad.img.insns;
	ASSERT_EQ(0, accel_prog_bundle(&bad));
	ASSERT_EQ(0, ha_accel_bo_new(self->fd, bad.size, &bo));
	memcpy(bo.map, bad.bundle, bad.size);
	s = self->s;
	s.prog_handle = bo.handle;
	s.prog_size = bad.size;
	self->b.log[0] = '\0';
	EXPECT_EQ(EINVAL, submit_err(self->fd, s));
	EXPECT_NE(NULL, strcasestr(self->b.log, "target"))
		TH_LOG("log does not name the reason (%s): '%s'", lavm_strerror(LAVM_E_TARGET),
		       self->b.log);
	TH_LOG("bad target: '%s'", self->b.log);

	/* No log buffer: still -EINVAL; a one-byte buffer gets a terminated string. */
	s.log_ptr = 0;
	s.log_size = 0;
	EXPECT_EQ(EINVAL, submit_err(self->fd, s));
	self->b.log[0] = 'x';
	self->b.log[1] = 'y';
	s.log_ptr = (uintptr_t)self->b.log;
	s.log_size = 1;
	EXPECT_EQ(EINVAL, submit_err(self->fd, s));
	EXPECT_EQ('\0', self->b.log[0]);
	ha_accel_bo_free(self->fd, &bo);
	accel_prog_free(&bad);
}

TEST_F(submit, unknown_flags_and_padding_are_einval)
{
	struct drm_hyperaether_get_param gp = { .param = DRM_HYPERAETHER_PARAM_API_VERSION, .pad = 1 };
	struct drm_hyperaether_ctx_create cc = { .flags = 1 };
	struct drm_hyperaether_ctx_destroy cd = { .ctx_id = self->b.ctx, .pad = 1 };
	struct drm_hyperaether_bo_create bc = { .size = 4096, .flags = 1 };
	struct drm_hyperaether_bo_info bi = { .handle = self->b.prog.handle, .pad = 1 };
	struct drm_hyperaether_wait w = { .job_id = 1, .flags = 1u << 31 };
	struct drm_hyperaether_submit s = self->s;
	struct drm_hyperaether_wait st;

	SUBMIT_ERR(EINVAL, flags, 1u << 31);
	SUBMIT_ERR(EINVAL, flags, DRM_HYPERAETHER_SUBMIT_FLAGS + 1);
	SUBMIT_ERR(EINVAL, pad, 1);
	EXPECT_EQ(-EINVAL, drmIoctl(self->fd, DRM_IOCTL_HYPERAETHER_GET_PARAM, &gp) ? -errno : 0);
	gp.pad = 0;
	gp.param = 0x1000;
	EXPECT_EQ(-EINVAL, drmIoctl(self->fd, DRM_IOCTL_HYPERAETHER_GET_PARAM, &gp) ? -errno : 0);
	EXPECT_EQ(-EINVAL, drmIoctl(self->fd, DRM_IOCTL_HYPERAETHER_CTX_CREATE, &cc) ? -errno : 0);
	cc.flags = 0;
	cc.pad = 1;
	EXPECT_EQ(-EINVAL, drmIoctl(self->fd, DRM_IOCTL_HYPERAETHER_CTX_CREATE, &cc) ? -errno : 0);
	cc.pad = 0;
	cc.priority = DRM_HYPERAETHER_PRIORITY_HIGH + 1;
	EXPECT_EQ(-EINVAL, drmIoctl(self->fd, DRM_IOCTL_HYPERAETHER_CTX_CREATE, &cc) ? -errno : 0);
	EXPECT_EQ(-EINVAL, drmIoctl(self->fd, DRM_IOCTL_HYPERAETHER_CTX_DESTROY, &cd) ? -errno : 0);
	EXPECT_EQ(-EINVAL, drmIoctl(self->fd, DRM_IOCTL_HYPERAETHER_BO_CREATE, &bc) ? -errno : 0);
	bc.flags = 0;
	bc.size = 0;
	EXPECT_EQ(-EINVAL, drmIoctl(self->fd, DRM_IOCTL_HYPERAETHER_BO_CREATE, &bc) ? -errno : 0);
	bc.size = (1ull << 32) + 1;
	EXPECT_EQ(-EINVAL, drmIoctl(self->fd, DRM_IOCTL_HYPERAETHER_BO_CREATE, &bc) ? -errno : 0);
	EXPECT_EQ(-EINVAL, drmIoctl(self->fd, DRM_IOCTL_HYPERAETHER_BO_INFO, &bi) ? -errno : 0);
	EXPECT_EQ(-EINVAL, drmIoctl(self->fd, DRM_IOCTL_HYPERAETHER_WAIT, &w) ? -errno : 0);
	w.flags = 0;
	w.pad = 1;
	EXPECT_EQ(-EINVAL, drmIoctl(self->fd, DRM_IOCTL_HYPERAETHER_WAIT, &w) ? -errno : 0);
	/* Nothing broke the device: the base submit still runs. */
	EXPECT_EQ(0, accel_submit_wait(self->fd, &s, &st, 20000));
}

TEST_F(submit, bad_ids_are_enoent)
{
	struct drm_hyperaether_wait st;
	struct drm_hyperaether_submit s = self->s;

	SUBMIT_ERR2(ENOENT, EINVAL, ctx_id, 0);
	SUBMIT_ERR2(ENOENT, EINVAL, ctx_id, 0x7fffffff);
	EXPECT_EQ(-ENOENT, ha_accel_ctx_destroy(self->fd, 0x7fffffff));
	EXPECT_EQ(-ENOENT, ha_accel_wait(self->fd, 0x7fffffff, 0, 0, &st));
	/* "-ENOENT for an unknown job", whatever its value. */
	EXPECT_EQ(-ENOENT, ha_accel_wait(self->fd, 0x7fffffffffffull, 0, 0, &st));
	/* A released job is gone. */
	ASSERT_EQ(0, accel_submit_wait(self->fd, &s, &st, 20000));
	EXPECT_EQ(-ENOENT, ha_accel_wait(self->fd, s.job_id, 0, 0, &st));
	/* A destroyed context takes no more jobs. */
	ASSERT_EQ(0, ha_accel_ctx_destroy(self->fd, self->b.ctx));
	SUBMIT_ERR2(ENOENT, EINVAL, ctx_id, self->b.ctx);
	self->b.ctx = 0;
}

TEST_F(submit, bad_syncobjs_are_enoent)
{
	struct drm_hyperaether_submit s = self->s;
	struct drm_hyperaether_wait st;
	uint32_t so;

	SUBMIT_ERR2(ENOENT, EINVAL, in_syncobj, 0x7fff);
	SUBMIT_ERR2(ENOENT, EINVAL, out_syncobj, 0x7fff);
	/*
	 * A syncobj that holds no fence yet has nothing to wait for: DRM's
	 * syncobj lookup refuses it (-EINVAL), as for every driver; once
	 * signalled, the job runs.
	 */
	ASSERT_EQ(0, ha_accel_syncobj_create(self->fd, 0, &so));
	SUBMIT_ERR2(EINVAL, ENOENT, in_syncobj, so);
	ASSERT_EQ(0, ha_accel_syncobj_signal(self->fd, so));
	s.in_syncobj = so;
	EXPECT_EQ(0, accel_submit_wait(self->fd, &s, &st, 20000));
	EXPECT_EQ(4, st.halted);
	ha_accel_syncobj_destroy(self->fd, so);
}

/* ------------------------------------------------- capabilities on data */

/* A fabric with VMs a and b (and q with an epoch quota of 100). */
FIXTURE(caps) {
	int fd, hfd;
	uint32_t vm_a, vm_b, vm_q;
	struct accel_prog p;
	struct accel_bufs b;
	struct accel_run r;
	struct drm_hyperaether_submit s;
	uint32_t segs[2];
	uint8_t dom[4];
};

/*
 * Instance i touches word 8 + i: instances 0 and 1 (domain 0, VM a) reach
 * into segment 1 (VM b), instances 2 and 3 (domain 1, VM b) stay home.
 */
static const char cross_src[] =
	".shared 16\n"
	"	SETI r1, 8\n"
	"	ADD r2, r0, r1\n"
	"	SYSCALL_READ r3, r2\n"
	"	SYSCALL_WRITE r2, r0\n"
	"	HALT\n";

FIXTURE_SETUP(caps)
{
	struct hyperaether_quota q = { .epochs = 100 };

	self->hfd = -1;
	ACCEL_OPEN(self->fd);
	self->hfd = ha_open();
	ASSERT_GE(self->hfd, 0) TH_LOG("open %s: %s", HA_DEV_PATH, strerror(-self->hfd));
	ASSERT_EQ(0, ha_fabric_create(self->hfd, NULL, NULL));
	ASSERT_EQ(0, ha_vm_add(self->hfd, "a", HYPERAETHER_BACKEND_LAVM, NULL, 0, &self->vm_a));
	ASSERT_EQ(0, ha_vm_add(self->hfd, "b", HYPERAETHER_BACKEND_LAVM, NULL, 0, &self->vm_b));
	ASSERT_EQ(0, ha_vm_add(self->hfd, "q", HYPERAETHER_BACKEND_LAVM, &q, 0, &self->vm_q));
	ASSERT_EQ(0, accel_prog_asm(&self->p, "cross", cross_src));
	ASSERT_EQ(0, accel_bufs_new(self->fd, &self->b, 4096, 4, 16, 0));
	ASSERT_EQ(0, accel_run_alloc(&self->r, 4, 16, 0));
	self->r.max_epochs = 100;
	self->r.init = 1;
	for (int k = 0; k < 16; k++)
		self->r.shared[k] = 100.0f + k;
	self->segs[0] = self->vm_a;
	self->segs[1] = self->vm_b;
	self->dom[0] = self->dom[1] = 0;
	self->dom[2] = self->dom[3] = 1;
	accel_bufs_load(&self->b, &self->p, &self->r);
	accel_submit_fill(&self->s, &self->b, &self->p, &self->r);
	self->s.fabric_fd = self->hfd;
	self->s.nsegments = 2;
	self->s.seg_words = 8;
	self->s.segments_ptr = (uintptr_t)self->segs;
	self->s.domains_ptr = (uintptr_t)self->dom;
}

FIXTURE_TEARDOWN(caps)
{
	accel_bufs_free(&self->b);
	accel_run_free(&self->r);
	accel_prog_free(&self->p);
	if (self->fd >= 0)
		close(self->fd);
	if (self->hfd >= 0)
		close(self->hfd);
}

/* Run the cross job on the device and on the reference with the table @allow. */
static void cross_run(struct __test_metadata *_metadata, FIXTURE_DATA(caps) *self,
		      const uint64_t *allow, struct accel_run *dev)
{
	struct lavm_acl acl = { .dom = self->dom, .allow = allow, .seg_words = 8, .nseg = 2 };
	struct accel_run ref;
	struct drm_hyperaether_submit s = self->s;
	char why[256];

	ASSERT_EQ(0, accel_run_alloc(&ref, 4, 16, 0));
	ASSERT_EQ(0, accel_run_alloc(dev, 4, 16, 0));
	accel_run_copy_in(&ref, &self->r);
	accel_run_copy_in(dev, &self->r);
	ref.acl = &acl;
	accel_run_ref(&self->p, &ref);
	accel_bufs_load(&self->b, &self->p, dev);
	ASSERT_EQ(0, accel_submit_wait(self->fd, &s, &dev->st, 20000)) TH_LOG("log '%s'", self->b.log);
	accel_bufs_store(&self->b, dev);
	EXPECT_EQ(0, accel_run_cmp(dev, &ref, why, sizeof(why))) TH_LOG("%s", why);
	accel_run_free(&ref);
}

TEST_F(caps, without_share_foreign_segment_faults_access)
{
	static const uint64_t allow[2] = { 1, 2 };
	struct accel_run dev;

	cross_run(_metadata, self, allow, &dev);
	for (int i = 0; i < 2; i++) {
		EXPECT_EQ(LAVM_FAULTED, dev.vms[i].status);
		EXPECT_EQ(LAVM_FAULT_ACCESS, dev.vms[i].fault);
		EXPECT_EQ(2.0f, dev.vms[i].v[LAVM_X_IP]);		/* on the READ */
		EXPECT_EQ(100.0f + 8 + i, dev.shared[8 + i]);		/* nothing landed */
	}
	for (int i = 2; i < 4; i++) {
		EXPECT_EQ(LAVM_HALTED, dev.vms[i].status);
		EXPECT_EQ(100.0f + 8 + i, dev.vms[i].v[LAVM_X_R0 + 3]);
		EXPECT_EQ((float)i, dev.shared[8 + i]);
	}
	EXPECT_EQ(2, dev.st.faulted);
	EXPECT_EQ(2, dev.st.faults[6]);
	EXPECT_EQ(2, dev.st.halted);
	accel_run_free(&dev);
}

TEST_F(caps, share_on_the_owner_grants_access)
{
	static const uint64_t allow[2] = { 3, 2 };
	struct accel_run dev;

	ASSERT_EQ(0, ha_cap_set(self->hfd, self->vm_a, self->vm_b, HYPERAETHER_CAP_SHARE));
	cross_run(_metadata, self, allow, &dev);
	EXPECT_EQ(4, dev.st.halted);
	EXPECT_EQ(0, dev.st.faulted);
	for (int i = 0; i < 4; i++)
		EXPECT_EQ((float)i, dev.shared[8 + i]);
	accel_run_free(&dev);
}

TEST_F(caps, share_the_other_way_grants_nothing)
{
	static const uint64_t allow[2] = { 1, 3 };
	struct accel_run dev;

	/* b may use a's segment; a still may not use b's. */
	ASSERT_EQ(0, ha_cap_set(self->hfd, self->vm_b, self->vm_a, HYPERAETHER_CAP_SHARE));
	ASSERT_EQ(0, ha_cap_set(self->hfd, self->vm_a, self->vm_b,
				HYPERAETHER_CAP_SEND | HYPERAETHER_CAP_RECV));
	cross_run(_metadata, self, allow, &dev);
	EXPECT_EQ(2, dev.st.faults[6]);
	EXPECT_EQ(2, dev.st.halted);
	accel_run_free(&dev);
}

TEST_F(caps, bad_segment_tables_are_refused)
{
	uint32_t many[65];
	uint8_t dom[4] = { 0, 0, 2, 1 };
	int nul = open("/dev/null", O_RDWR);

	for (int i = 0; i < 65; i++)
		many[i] = self->vm_a;
	SUBMIT_ERR(EINVAL, nsegments, 65);
	{
		struct drm_hyperaether_submit s = self->s;

		s.nsegments = 65;
		s.segments_ptr = (uintptr_t)many;
		EXPECT_EQ(EINVAL, submit_err(self->fd, s));
	}
	SUBMIT_ERR(EINVAL, domains_ptr, (uintptr_t)dom);	/* domain 2 of 2 segments */
	SUBMIT_ERR(EINVAL, seg_words, 0);
	SUBMIT_ERR(EINVAL, fabric_fd, nul);			/* not /dev/hyperaether */
	SUBMIT_ERR(EINVAL, fabric_fd, self->fd);		/* not /dev/hyperaether */
	SUBMIT_ERR2(EBADF, EINVAL, fabric_fd, -1);
	SUBMIT_ERR2(EBADF, EINVAL, fabric_fd, 1000);
	SUBMIT_ERR(EFAULT, segments_ptr, 8);
	SUBMIT_ERR(EFAULT, domains_ptr, 8);
	{
		uint32_t ghost[2] = { self->vm_a, 0x7fffff };
		struct drm_hyperaether_submit s = self->s;

		s.segments_ptr = (uintptr_t)ghost;
		EXPECT_TRUE(submit_err(self->fd, s) == ENOENT || submit_err(self->fd, s) == EINVAL)
			TH_LOG("a segment owned by no VM: %s", strerror(submit_err(self->fd, s)));
	}
	{
		/* No segments: seg_words and fabric_fd must say so too. */
		struct drm_hyperaether_submit s = self->s;

		s.nsegments = 0;
		s.fabric_fd = -1;
		s.segments_ptr = s.domains_ptr = 0;
		EXPECT_EQ(EINVAL, submit_err(self->fd, s));		/* seg_words 8 */
	}
	close(nul);
}

TEST_F(caps, epoch_quota_is_charged_and_given_back)
{
	struct drm_hyperaether_submit s = self->s;
	struct drm_hyperaether_wait st;
	uint32_t seg = self->vm_q;
	uint8_t dom[4] = { 0 };

	s.nsegments = 1;
	s.seg_words = 16;
	s.segments_ptr = (uintptr_t)&seg;
	s.domains_ptr = (uintptr_t)dom;
	s.ninstances = 1;
	s.max_epochs = 101;
	EXPECT_EQ(EDQUOT, submit_err(self->fd, s));
	/* 5 epochs used of 50 charged: 45 come back when the job ends. */
	s.max_epochs = 50;
	ASSERT_EQ(0, accel_submit_wait(self->fd, &s, &st, 20000));
	EXPECT_EQ(5, st.epochs);
	EXPECT_EQ(1, st.halted);
	s.job_id = 0;
	s.max_epochs = 95;
	EXPECT_EQ(0, accel_submit_wait(self->fd, &s, &st, 20000));
	/* Now 10 are used: 91 no longer fit. */
	s.job_id = 0;
	s.max_epochs = 91;
	EXPECT_EQ(EDQUOT, submit_err(self->fd, s));
	s.max_epochs = 90;
	EXPECT_EQ(0, accel_submit_wait(self->fd, &s, &st, 20000));
}

/* ------------------------------------------------------ fault injection */

static const char spin_src[] = "L:	JUMP L\n";

/* A job that runs until something stops it: @nvms instances of a tight loop. */
static int spin_submit(struct __test_metadata *_metadata, int fd, struct accel_bufs *b,
		       struct accel_prog *p, uint32_t nvms, uint32_t out_syncobj, uint64_t *job)
{
	struct drm_hyperaether_submit s;
	struct accel_run r = { .nvms = nvms, .init = 1 };
	uint64_t max = 0;
	int ret;

	EXPECT_EQ(0, ha_accel_get_param(fd, DRM_HYPERAETHER_PARAM_MAX_EPOCHS, &max));
	r.max_epochs = (uint32_t)max;
	memcpy(b->prog.map, p->bundle, p->size);
	accel_submit_fill(&s, b, p, &r);
	s.out_syncobj = out_syncobj;
	ret = ha_accel_submit(fd, &s);
	*job = s.job_id;
	return ret;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Poll @job until it is RUNNING (or done), for up to @ms; its state then. */
static uint32_t wait_running(int fd, uint64_t job, int ms)
{
	struct drm_hyperaether_wait st = { 0 };
	int64_t end = now_ms() + ms;

	for (;;) {
		int ret = ha_accel_wait(fd, job, 0, 0, &st);

		if (ret == 0 || st.state != DRM_HYPERAETHER_JOB_QUEUED || now_ms() >= end)
			return ret && ret != -ETIME ? (uint32_t)-1 : st.state;
		usleep(10000);
	}
}

/* Sets the job timeout new contexts get (module parameter). */
static int job_timeout_set(uint64_t ms)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)ms);
	return accel_param_write("job_timeout_ms", buf);
}

/* A fresh file runs a small job to the end: the device is still usable. */
static void device_usable(struct __test_metadata *_metadata)
{
	struct ha_accel_job job;
	struct accel_prog p;
	int fd = ha_accel_open();

	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, accel_prog_asm(&p, "halt", "HALT\n"));
	memset(&job, 0, sizeof(job));
	job.bundle = p.bundle;
	job.bundle_size = p.size;
	job.ninstances = 3;
	job.max_epochs = 10;
	ASSERT_EQ(0, ha_accel_run_bundle(fd, &job, 20000));
	EXPECT_EQ(0, job.status.error);
	EXPECT_EQ(3, job.status.halted);
	EXPECT_EQ(1, job.status.epochs);
	ha_accel_job_free(fd, &job);
	accel_prog_free(&p);
	close(fd);
}

TEST_F_TIMEOUT(accel, runaway_job_times_out_others_still_run, 180)
{
	struct drm_hyperaether_wait st;
	struct accel_bufs b;
	struct accel_prog p, h;
	struct ha_accel_job small;
	uint64_t job, tmo = 0;
	int64_t t0;

	/*
	 * A context takes the job timeout in force when it is created: 3 s
	 * for this one (the default, 30 s, would make the test slow).
	 */
	ASSERT_EQ(0, ha_accel_get_param(self->fd, DRM_HYPERAETHER_PARAM_JOB_TIMEOUT_MS, &tmo));
	ASSERT_EQ(0, job_timeout_set(3000));
	ASSERT_EQ(0, accel_prog_asm(&p, "spin", spin_src));
	ASSERT_EQ(0, accel_bufs_new(self->fd, &b, 4096, 1024, 0, 0));
	ASSERT_EQ(0, job_timeout_set(tmo));
	tmo = 3000;
	t0 = now_ms();
	ASSERT_EQ(0, spin_submit(_metadata, self->fd, &b, &p, 1024, 0, &job));
	EXPECT_EQ(DRM_HYPERAETHER_JOB_RUNNING, wait_running(self->fd, job, 10000));

	/* Another context on the same file is not starved by the runaway. */
	ASSERT_EQ(0, accel_prog_asm(&h, "halt", "HALT\n"));
	memset(&small, 0, sizeof(small));
	small.bundle = h.bundle;
	small.bundle_size = h.size;
	small.ninstances = 2;
	small.max_epochs = 5;
	ASSERT_EQ(0, ha_accel_run_bundle(self->fd, &small, 10000));
	EXPECT_EQ(2, small.status.halted);
	EXPECT_EQ(DRM_HYPERAETHER_JOB_RUNNING, wait_running(self->fd, job, 0));
	ha_accel_job_free(self->fd, &small);
	accel_prog_free(&h);

	EXPECT_EQ(0, ha_accel_wait(self->fd, job, ha_accel_deadline_ms(tmo + 60000),
				   DRM_HYPERAETHER_WAIT_RELEASE, &st));
	EXPECT_EQ(DRM_HYPERAETHER_JOB_DONE, st.state);
	EXPECT_EQ(-ETIMEDOUT, st.error);
	EXPECT_GT(st.epochs, 0);
	EXPECT_EQ(1024, st.active);
	EXPECT_GE(now_ms() - t0, (int64_t)tmo * 9 / 10);
	TH_LOG("stopped after %lld ms (timeout %llu ms), %u epochs, %llu instance-epochs",
	       (long long)(now_ms() - t0), (unsigned long long)tmo, st.epochs,
	       (unsigned long long)st.insns);
	/* The states are at an epoch boundary: every instance ran every epoch. */
	EXPECT_EQ((uint64_t)st.epochs * 1024, st.insns);
	for (uint32_t i = 0; i < 1024; i++) {
		struct lavm_vm *vm = (struct lavm_vm *)b.state.map + i;

		if (vm->epochs != st.epochs || vm->status != LAVM_RUNNING) {
			EXPECT_EQ(st.epochs, vm->epochs) TH_LOG("instance %u", i);
			break;
		}
	}
	accel_bufs_free(&b);
	accel_prog_free(&p);
	device_usable(_metadata);
}

TEST_F_TIMEOUT(accel, close_mid_job_cancels_it, 120)
{
	struct accel_bufs b;
	struct accel_prog p;
	uint64_t job;
	int fd2 = ha_accel_open();
	int64_t t0;

	ASSERT_GE(fd2, 0);
	ASSERT_EQ(0, accel_prog_asm(&p, "spin", spin_src));
	ASSERT_EQ(0, accel_bufs_new(fd2, &b, 4096, 4096, 0, 0));
	ASSERT_EQ(0, spin_submit(_metadata, fd2, &b, &p, 4096, 0, &job));
	EXPECT_EQ(DRM_HYPERAETHER_JOB_RUNNING, wait_running(fd2, job, 10000));
	/* Mappings outlive the file; drop them first, then close mid-job. */
	accel_bufs_free(&b);
	t0 = now_ms();
	close(fd2);
	TH_LOG("close returned after %lld ms", (long long)(now_ms() - t0));
	device_usable(_metadata);
	EXPECT_LT(now_ms() - t0, 15000);
	accel_prog_free(&p);
}

TEST_F_TIMEOUT(accel, mapped_bo_outlives_its_file, 120)
{
	struct accel_bufs b;
	struct accel_prog p;
	uint64_t job;
	int fd2 = ha_accel_open();

	ASSERT_GE(fd2, 0);
	ASSERT_EQ(0, accel_prog_asm(&p, "spin", spin_src));
	ASSERT_EQ(0, accel_bufs_new(fd2, &b, 4096, 256, 0, 0));
	ASSERT_EQ(0, spin_submit(_metadata, fd2, &b, &p, 256, 0, &job));
	wait_running(fd2, job, 10000);
	close(fd2);
	/* The job is cancelled; the mapping stays valid until munmap. */
	device_usable(_metadata);
	memset(b.state.map, 0xa5, b.state.size);
	munmap(b.prog.map, b.prog.size);
	munmap(b.state.map, b.state.size);
	munmap(b.shared.map, b.shared.size);
	munmap(b.stack.map, b.stack.size);
	accel_prog_free(&p);
}

TEST_F_TIMEOUT(accel, killed_process_mid_job_leaves_device_usable, 120)
{
	int pipefd[2];
	char c = 0;
	pid_t pid;
	int status;

	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		struct accel_bufs b;
		struct accel_prog p;
		uint64_t job;
		int fd = ha_accel_open();

		close(pipefd[0]);
		if (fd < 0 || accel_prog_asm(&p, "spin", spin_src) ||
		    accel_bufs_new(fd, &b, 4096, 4096, 0, 0) ||
		    spin_submit(_metadata, fd, &b, &p, 4096, 0, &job))
			_exit(1);
		c = wait_running(fd, job, 10000) == DRM_HYPERAETHER_JOB_RUNNING ? 'r' : 'q';
		if (write(pipefd[1], &c, 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(pipefd[1]);
	ASSERT_EQ(1, read(pipefd[0], &c, 1));
	EXPECT_EQ('r', c);
	usleep(100000);
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status));
	close(pipefd[0]);
	device_usable(_metadata);
}

TEST_F_TIMEOUT(accel, ctx_destroy_cancels_queued_and_running_jobs, 120)
{
	struct drm_hyperaether_wait st;
	struct accel_bufs b;
	struct accel_prog p;
	uint64_t run, queued;

	ASSERT_EQ(0, accel_prog_asm(&p, "spin", spin_src));
	ASSERT_EQ(0, accel_bufs_new(self->fd, &b, 4096, 256, 0, 0));
	ASSERT_EQ(0, spin_submit(_metadata, self->fd, &b, &p, 256, 0, &run));
	ASSERT_EQ(0, spin_submit(_metadata, self->fd, &b, &p, 256, 0, &queued));
	EXPECT_EQ(DRM_HYPERAETHER_JOB_RUNNING, wait_running(self->fd, run, 10000));
	EXPECT_EQ(-ETIME, ha_accel_wait(self->fd, queued, 0, 0, &st));
	EXPECT_EQ(DRM_HYPERAETHER_JOB_QUEUED, st.state);	/* jobs of a context run in order */
	ASSERT_EQ(0, ha_accel_ctx_destroy(self->fd, b.ctx));
	b.ctx = 0;
	EXPECT_EQ(0, ha_accel_wait(self->fd, run, ha_accel_deadline_ms(15000),
				   DRM_HYPERAETHER_WAIT_RELEASE, &st));
	EXPECT_EQ(-ECANCELED, st.error);
	EXPECT_EQ(0, ha_accel_wait(self->fd, queued, ha_accel_deadline_ms(15000),
				   DRM_HYPERAETHER_WAIT_RELEASE, &st));
	EXPECT_EQ(-ECANCELED, st.error);
	EXPECT_EQ(0, st.epochs);
	accel_bufs_free(&b);
	accel_prog_free(&p);
	device_usable(_metadata);
}

/* ------------------------------------------------------------- syncobjs */

/* Submits @n instances of HALT with an out-syncobj (@so) and waits for it. */
static void halt_with_out_syncobj(struct __test_metadata *_metadata, int fd, int n,
				  struct accel_bufs *b, struct accel_prog *p,
				  struct accel_run *r, struct drm_hyperaether_submit *s,
				  uint32_t *so)
{
	ASSERT_EQ(0, accel_run_alloc(r, n, 0, 0));
	r->max_epochs = 10;
	r->init = 1;
	ASSERT_EQ(0, accel_prog_asm(p, "halt", "HALT\n"));
	ASSERT_EQ(0, accel_bufs_new(fd, b, 4096, n, 0, 0));
	ASSERT_EQ(0, ha_accel_syncobj_create(fd, 0, so));
	accel_bufs_load(b, p, r);
	accel_submit_fill(s, b, p, r);
	s->out_syncobj = *so;
	ASSERT_EQ(0, ha_accel_submit(fd, s));
	EXPECT_EQ(0, ha_accel_syncobj_wait(fd, so, 1, ha_accel_deadline_ms(20000)));
}

TEST_F(accel, out_syncobj_signals_and_exports_a_sync_file)
{
	struct drm_hyperaether_submit s;
	struct drm_hyperaether_wait st;
	struct accel_bufs b;
	struct accel_prog p;
	struct accel_run r;
	struct pollfd pfd = { .events = POLLIN };
	uint32_t so;
	int sf;

	halt_with_out_syncobj(_metadata, self->fd, 3, &b, &p, &r, &s, &so);
	sf = ha_accel_syncobj_export_sync_file(self->fd, so);
	ASSERT_GE(sf, 0);
	pfd.fd = sf;
	EXPECT_EQ(1, poll(&pfd, 1, 5000));
	close(sf);
	EXPECT_EQ(0, ha_accel_wait(self->fd, s.job_id, 0, DRM_HYPERAETHER_WAIT_RELEASE, &st));
	EXPECT_EQ(3, st.halted);
	ha_accel_syncobj_destroy(self->fd, so);
	accel_bufs_free(&b);
	accel_prog_free(&p);
	accel_run_free(&r);
}

static long module_refcnt(void)
{
	FILE *f = fopen("/sys/module/hyperaether_accel/refcnt", "r");
	long n = -1;

	if (f) {
		if (fscanf(f, "%ld", &n) != 1)
			n = -1;
		fclose(f);
	}
	return n;
}

/*
 * A sync_file of a job's fence outlives the device file, and releasing it
 * calls into the driver (the fence's context goes with it): the module
 * must stay loaded, so rmmod is refused, until the last one is closed.
 */
TEST_F(accel, a_sync_file_holds_the_module_until_it_is_closed)
{
	struct drm_hyperaether_submit s;
	struct accel_bufs b;
	struct accel_prog p;
	struct accel_run r;
	long held, n;
	uint32_t so;
	int sf, i;

	halt_with_out_syncobj(_metadata, self->fd, 1, &b, &p, &r, &s, &so);
	sf = ha_accel_syncobj_export_sync_file(self->fd, so);
	ASSERT_GE(sf, 0);
	accel_bufs_free(&b);
	close(self->fd);
	self->fd = -1;

	held = module_refcnt();
	ASSERT_GE(held, 1);
	close(sf);
	for (i = 0; i < 200 && (n = module_refcnt()) != held - 1; i++)
		usleep(10000);
	EXPECT_EQ(held - 1, n);
	accel_prog_free(&p);
	accel_run_free(&r);
}

/*
 * A job whose in-syncobj holds the fence of an unfinished job stays QUEUED,
 * even on another context with the engine free for it, until that fence
 * signals (here: its context is destroyed, which cancels it).
 */
TEST_F_TIMEOUT(accel, in_syncobj_holds_a_job_queued_until_it_signals, 120)
{
	struct drm_hyperaether_submit s;
	struct drm_hyperaether_wait st;
	struct accel_bufs spin, b;
	struct accel_prog ps, p;
	struct accel_run r;
	uint32_t so;
	uint64_t run;

	ASSERT_EQ(0, accel_run_alloc(&r, 2, 0, 0));
	r.max_epochs = 10;
	r.init = 1;
	ASSERT_EQ(0, accel_prog_asm(&ps, "spin", spin_src));
	ASSERT_EQ(0, accel_prog_asm(&p, "halt", "HALT\n"));
	ASSERT_EQ(0, accel_bufs_new(self->fd, &spin, 4096, 64, 0, 0));
	ASSERT_EQ(0, accel_bufs_new(self->fd, &b, 4096, 2, 0, 0));
	ASSERT_EQ(0, ha_accel_syncobj_create(self->fd, 0, &so));
	ASSERT_EQ(0, spin_submit(_metadata, self->fd, &spin, &ps, 64, so, &run));
	EXPECT_EQ(DRM_HYPERAETHER_JOB_RUNNING, wait_running(self->fd, run, 10000));

	accel_bufs_load(&b, &p, &r);
	accel_submit_fill(&s, &b, &p, &r);
	s.in_syncobj = so;
	ASSERT_EQ(0, ha_accel_submit(self->fd, &s));
	usleep(500000);
	EXPECT_EQ(-ETIME, ha_accel_wait(self->fd, s.job_id, 0, 0, &st));
	EXPECT_EQ(DRM_HYPERAETHER_JOB_QUEUED, st.state);
	EXPECT_EQ(0, st.epochs);
	EXPECT_EQ(-ETIME, ha_accel_syncobj_wait(self->fd, &so, 1, 0));

	ASSERT_EQ(0, ha_accel_ctx_destroy(self->fd, spin.ctx));
	spin.ctx = 0;
	EXPECT_EQ(0, ha_accel_wait(self->fd, s.job_id, ha_accel_deadline_ms(20000),
				   DRM_HYPERAETHER_WAIT_RELEASE, &st));
	EXPECT_EQ(DRM_HYPERAETHER_JOB_DONE, st.state);
	TH_LOG("dependent job: error %d, %u epochs", st.error, st.epochs);
	EXPECT_TRUE(st.error == 0 || st.error == -ECANCELED);
	EXPECT_EQ(0, ha_accel_wait(self->fd, run, ha_accel_deadline_ms(20000),
				   DRM_HYPERAETHER_WAIT_RELEASE, &st));
	EXPECT_EQ(-ECANCELED, st.error);
	ha_accel_syncobj_destroy(self->fd, so);
	accel_bufs_free(&spin);
	accel_bufs_free(&b);
	accel_run_free(&r);
	accel_prog_free(&ps);
	accel_prog_free(&p);
}

TEST_HARNESS_MAIN
