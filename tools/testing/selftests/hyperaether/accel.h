/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the accel kselftests share: opening the device (a missing device is
 * a failure unless the module is not loaded at all), LAVM programs as
 * bundles, one job through the device and the same job on the reference
 * interpreter, compared bit for bit, and a random program generator that
 * draws its operands from the ISA table.
 */
#ifndef HA_ACCEL_SELFTEST_H
#define HA_ACCEL_SELFTEST_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hyperaether_accel.h"
#include "lavm_host.h"
#include "kselftest_harness.h"

/* Is any part of the accel module present?  Only then is a missing node a bug. */
static inline int accel_module_loaded(void)
{
	return access("/sys/module/hyperaether_accel", F_OK) == 0;
}

/* Open the device in a fixture or test; SKIP only when the module is absent. */
#define ACCEL_OPEN(fd) do {						\
	(fd) = ha_accel_open();						\
	if ((fd) < 0 && !accel_module_loaded())				\
		SKIP(return, "hyperaether_accel is not loaded");	\
	ASSERT_GE((fd), 0) TH_LOG("ha_accel_open: %s (module loaded, no usable /dev/accel node)", \
				   strerror(-(fd)));			\
} while (0)

#define ACCEL_PARAM_DIR "/sys/module/hyperaether_accel/parameters/"

static inline int accel_param_open(const char *name, int flags)
{
	char path[128];

	snprintf(path, sizeof(path), ACCEL_PARAM_DIR "%s", name);
	return open(path, flags);
}

/* Reads the module parameter @name into @buf (NUL-terminated). */
static inline int accel_param_read(const char *name, char *buf, size_t len)
{
	int fd = accel_param_open(name, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	return 0;
}

/* Sets the module parameter @name to @val. */
static inline int accel_param_write(const char *name, const char *val)
{
	int fd = accel_param_open(name, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : -EIO;
}

static inline uint32_t f2u(float f)
{
	uint32_t u;

	memcpy(&u, &f, sizeof(u));
	return u;
}

static inline float u2f(uint32_t u)
{
	float f;

	memcpy(&f, &u, sizeof(f));
	return f;
}

/* ------------------------------------------------------------ programs */

/* A verified program and its bundle. */
struct accel_prog {
	struct lavm_image img;
	void *bundle;
	size_t size;
};

static inline void accel_prog_free(struct accel_prog *p)
{
	lavm_image_free(&p->img);
	free(p->bundle);
	memset(p, 0, sizeof(*p));
}

static inline int accel_prog_bundle(struct accel_prog *p)
{
	long n;

	p->size = lavm_bundle_size(&p->img.prog);
	p->bundle = malloc(p->size);
	if (!p->bundle)
		return -ENOMEM;
	n = lavm_bundle_write(&p->img.prog, p->bundle, p->size);
	return n == (long)p->size ? 0 : -EINVAL;
}

/* Assemble @src (errors on stderr) and make its bundle. */
static inline int accel_prog_asm(struct accel_prog *p, const char *name, const char *src)
{
	int ret;

	memset(p, 0, sizeof(*p));
	ret = lavm_assemble(name, src, strlen(src), &p->img, stderr);
	if (ret)
		return ret;
	return accel_prog_bundle(p);
}

/* ----------------------------------------------------------------- runs */

/*
 * One job's inputs and results, on the device or on the reference.
 * @vms, @shared, @stack: in (start states unless @init; shared memory),
 * out (final); @acl: NULL or the table the reference applies.
 */
struct accel_run {
	uint32_t nvms, nshared, max_epochs, depth;
	struct lavm_vm *vms;
	float *shared;
	struct lavm_frame *stack;
	const struct lavm_acl *acl;
	int init;
	struct drm_hyperaether_wait st;
};

static inline int accel_run_alloc(struct accel_run *r, uint32_t nvms, uint32_t nshared,
				  uint32_t depth)
{
	memset(r, 0, sizeof(*r));
	r->nvms = nvms;
	r->nshared = nshared;
	r->depth = depth;
	r->vms = calloc(nvms, sizeof(*r->vms));
	r->shared = calloc(nshared + 1, sizeof(float));
	r->stack = calloc((size_t)nvms * depth + 1, sizeof(*r->stack));
	return r->vms && r->shared && r->stack ? 0 : -ENOMEM;
}

static inline void accel_run_free(struct accel_run *r)
{
	free(r->vms);
	free(r->shared);
	free(r->stack);
	memset(r, 0, sizeof(*r));
}

static inline void accel_run_copy_in(struct accel_run *dst, const struct accel_run *src)
{
	memcpy(dst->vms, src->vms, src->nvms * sizeof(*src->vms));
	memcpy(dst->shared, src->shared, src->nshared * sizeof(float));
	dst->max_epochs = src->max_epochs;
	dst->init = src->init;
	dst->acl = src->acl;
}

/* The reference interpreter on @r; fills r->st the way the driver reports. */
static inline void accel_run_ref(const struct accel_prog *p, struct accel_run *r)
{
	struct lavm_job job = {
		.prog = &p->img.prog, .vms = r->vms, .nvms = r->nvms,
		.stack = r->stack, .shared = r->shared, .nshared = r->nshared,
		.max_epochs = r->max_epochs, .acl = r->acl,
	};

	if (r->init)
		for (uint32_t i = 0; i < r->nvms; i++)
			lavm_vm_init(&r->vms[i], &p->img.prog, i);
	for (uint32_t i = 0; i < r->nvms; i++)
		lavm_vm_check(&r->vms[i], &p->img.prog);
	memset(&r->st, 0, sizeof(r->st));
	r->st.epochs = lavm_ref_run(&job);
	r->st.state = DRM_HYPERAETHER_JOB_DONE;
	for (uint32_t i = 0; i < r->nvms; i++) {
		const struct lavm_vm *vm = &r->vms[i];

		r->st.insns += vm->epochs;
		if (vm->status == LAVM_HALTED)
			r->st.halted++;
		else if (vm->status == LAVM_FAULTED) {
			r->st.faulted++;
			if (vm->fault < DRM_HYPERAETHER_NFAULTS)
				r->st.faults[vm->fault]++;
		} else if (lavm_vm_active(vm))
			r->st.active++;
	}
}

/*
 * Device buffers for jobs of up to @nvms instances, @nshared words and
 * @depth frames each, kept across jobs.
 */
struct accel_bufs {
	int fd;
	uint32_t ctx;
	struct ha_accel_bo prog, state, shared, stack;
	char log[4096];
};

static inline int accel_bufs_new(int fd, struct accel_bufs *b, size_t prog_size, uint32_t nvms,
				 uint32_t nshared, uint32_t depth)
{
	int ret;

	memset(b, 0, sizeof(*b));
	b->fd = fd;
	ret = ha_accel_ctx_create(fd, DRM_HYPERAETHER_PRIORITY_NORMAL, &b->ctx);
	if (!ret)
		ret = ha_accel_bo_new(fd, prog_size, &b->prog);
	if (!ret)
		ret = ha_accel_bo_new(fd, (uint64_t)nvms * sizeof(struct lavm_vm), &b->state);
	if (!ret)
		ret = ha_accel_bo_new(fd, ((uint64_t)nshared + 1) * sizeof(float), &b->shared);
	if (!ret)
		ret = ha_accel_bo_new(fd, ((uint64_t)nvms * depth + 1) * sizeof(struct lavm_frame),
				      &b->stack);
	return ret;
}

static inline void accel_bufs_free(struct accel_bufs *b)
{
	ha_accel_bo_free(b->fd, &b->prog);
	ha_accel_bo_free(b->fd, &b->state);
	ha_accel_bo_free(b->fd, &b->shared);
	ha_accel_bo_free(b->fd, &b->stack);
	if (b->ctx)
		ha_accel_ctx_destroy(b->fd, b->ctx);
	b->ctx = 0;
}

/* A submit of @p on @r's sizes through @b, with the caller's extra fields left 0. */
static inline void accel_submit_fill(struct drm_hyperaether_submit *s, struct accel_bufs *b,
				     const struct accel_prog *p, const struct accel_run *r)
{
	ha_accel_submit_init(s);
	s->ctx_id = b->ctx;
	s->flags = r->init ? DRM_HYPERAETHER_SUBMIT_INIT_STATES : 0;
	s->prog_handle = b->prog.handle;
	s->prog_size = (uint32_t)p->size;
	s->state_handle = b->state.handle;
	s->ninstances = r->nvms;
	s->shared_handle = r->nshared ? b->shared.handle : 0;
	s->nshared = r->nshared;
	s->stack_handle = r->depth ? b->stack.handle : 0;
	s->max_epochs = r->max_epochs;
	s->log_ptr = (uint64_t)(uintptr_t)b->log;
	s->log_size = sizeof(b->log);
	b->log[0] = '\0';
}

/* Copy @p and @r's inputs into @b's BOs. */
static inline void accel_bufs_load(struct accel_bufs *b, const struct accel_prog *p,
				   const struct accel_run *r)
{
	memcpy(b->prog.map, p->bundle, p->size);
	memcpy(b->state.map, r->vms, r->nvms * sizeof(struct lavm_vm));
	memcpy(b->shared.map, r->shared, r->nshared * sizeof(float));
	memset(b->stack.map, 0, b->stack.size);
}

/* Copy the results back from @b's BOs into @r. */
static inline void accel_bufs_store(struct accel_bufs *b, struct accel_run *r)
{
	memcpy(r->vms, b->state.map, r->nvms * sizeof(struct lavm_vm));
	memcpy(r->shared, b->shared.map, r->nshared * sizeof(float));
	memcpy(r->stack, b->stack.map, (size_t)r->nvms * r->depth * sizeof(struct lavm_frame));
}

/* Submit @s, wait up to @timeout_ms and release the job: 0 or -errno. */
static inline int accel_submit_wait(int fd, struct drm_hyperaether_submit *s,
				    struct drm_hyperaether_wait *st, int64_t timeout_ms)
{
	int ret = ha_accel_submit(fd, s);

	if (ret)
		return ret;
	return ha_accel_wait(fd, s->job_id, ha_accel_deadline_ms(timeout_ms),
			     DRM_HYPERAETHER_WAIT_RELEASE, st);
}

/* @p on @r through the device (fields @extra adds, e.g. segments, may follow). */
static inline int accel_run_dev(struct accel_bufs *b, const struct accel_prog *p,
				struct accel_run *r, int64_t timeout_ms)
{
	struct drm_hyperaether_submit s;
	int ret;

	accel_bufs_load(b, p, r);
	accel_submit_fill(&s, b, p, r);
	ret = accel_submit_wait(b->fd, &s, &r->st, timeout_ms);
	if (!ret)
		accel_bufs_store(b, r);
	return ret;
}

/*
 * Compare the device's run @d with the reference's @x bit for bit: every
 * state word, status, fault, call depth, per-VM epochs, the live call
 * frames, shared memory, and the job's status counters.  0, or -1 with
 * the first difference in @why.
 */
static inline int accel_run_cmp(const struct accel_run *d, const struct accel_run *x,
				char *why, size_t wl)
{
	for (uint32_t i = 0; i < x->nvms; i++) {
		const struct lavm_vm *a = &d->vms[i], *b = &x->vms[i];

		for (int k = 0; k < LAVM_DIM; k++)
			if (f2u(a->v[k]) != f2u(b->v[k]))
				return snprintf(why, wl, "vm %u slot %d: 0x%08x, ref 0x%08x",
						i, k, f2u(a->v[k]), f2u(b->v[k])), -1;
		if (a->status != b->status || a->fault != b->fault || a->sp != b->sp ||
		    a->epochs != b->epochs)
			return snprintf(why, wl, "vm %u: status %u/%u fault %u/%u sp %u/%u epochs %u/%u (dev/ref)",
					i, a->status, b->status, a->fault, b->fault, a->sp, b->sp,
					a->epochs, b->epochs), -1;
		for (uint32_t f = 0; f < b->sp && f < x->depth; f++) {
			const struct lavm_frame *fa = &d->stack[(size_t)i * x->depth + f];
			const struct lavm_frame *fb = &x->stack[(size_t)i * x->depth + f];

			if (memcmp(fa, fb, sizeof(*fa)))
				return snprintf(why, wl, "vm %u frame %u differs", i, f), -1;
		}
	}
	for (uint32_t k = 0; k < x->nshared; k++)
		if (f2u(d->shared[k]) != f2u(x->shared[k]))
			return snprintf(why, wl, "shared[%u]: 0x%08x, ref 0x%08x",
					k, f2u(d->shared[k]), f2u(x->shared[k])), -1;
	if (d->st.state != DRM_HYPERAETHER_JOB_DONE || d->st.error)
		return snprintf(why, wl, "job state %u error %d", d->st.state, d->st.error), -1;
	if (d->st.epochs != x->st.epochs || d->st.halted != x->st.halted ||
	    d->st.faulted != x->st.faulted || d->st.active != x->st.active ||
	    d->st.insns != x->st.insns)
		return snprintf(why, wl, "status epochs %u/%u halted %u/%u faulted %u/%u active %u/%u insns %llu/%llu (dev/ref)",
				d->st.epochs, x->st.epochs, d->st.halted, x->st.halted,
				d->st.faulted, x->st.faulted, d->st.active, x->st.active,
				(unsigned long long)d->st.insns, (unsigned long long)x->st.insns), -1;
	for (int c = 0; c < DRM_HYPERAETHER_NFAULTS; c++)
		if (d->st.faults[c] != x->st.faults[c])
			return snprintf(why, wl, "faults[%d] %u, ref %u", c, d->st.faults[c],
					x->st.faults[c]), -1;
	return 0;
}

/* ------------------------------------------------------- random programs */

struct accel_rng {
	uint64_t s;
};

static inline uint64_t accel_rnd(struct accel_rng *g)
{
	g->s ^= g->s >> 12;
	g->s ^= g->s << 25;
	g->s ^= g->s >> 27;
	return g->s * 0x2545f4914f6cdd1dull;
}

static inline uint32_t accel_below(struct accel_rng *g, uint32_t n)
{
	return (uint32_t)(accel_rnd(g) % n);
}

/* Values where f32 semantics have edges: signed zeros, NaNs, infinities, denormals. */
static inline uint32_t accel_interesting(struct accel_rng *g)
{
	static const float vals[] = {
		0.0f, -0.0f, 1.0f, -1.0f, 0.5f, 2.0f, 3.0f, 1e-4f, -1e-4f, 5e-5f,
		1e30f, -1e30f, 1e-38f, 3.14159274f, 10.0f, 100.0f, 8193.0f,
	};

	switch (accel_below(g, 7)) {
	case 0: return 0x7f800000u | accel_below(g, 2) << 31;
	case 1: return 0x7fc00000u | accel_below(g, 2) << 31;
	case 2: return 0x7f800001u + accel_below(g, 1000);
	case 3: return accel_below(g, 16);
	case 4: return f2u((float)(int)accel_below(g, 12) - 2.0f);
	default: return f2u(vals[accel_below(g, sizeof(vals) / sizeof(vals[0]))]);
	}
}

/*
 * A random verified program of at most @cap instructions over @nshared
 * words: opcodes drawn from the ISA table (lavm_isa()), READ/WRITE mostly
 * with an address set just before, loops mostly short.  Retries until the
 * verifier accepts one.  0 or -errno.
 */
static inline int accel_prog_random(struct accel_prog *p, struct accel_rng *g, uint32_t cap,
				    uint32_t nshared)
{
	for (;;) {
		uint32_t n = 3 + accel_below(g, cap - 3);
		struct lavm_verify_err verr;
		struct lavm_insn *in;
		int ret;

		memset(p, 0, sizeof(*p));
		p->img.insns = calloc(n, sizeof(*p->img.insns));
		if (!p->img.insns)
			return -ENOMEM;
		for (uint32_t i = 0; i < n; i++) {
			const struct lavm_isa *isa;

			in = &p->img.insns[i];
			do
				in->op = accel_below(g, LAVM_NOPCODES);
			while (!(isa = lavm_isa(in->op)));
			for (int k = 0; k < isa->nops; k++) {
				switch (isa->kind[k]) {
				case LAVM_OPND_REG: in->a[k] = accel_below(g, LAVM_NREGS); break;
				case LAVM_OPND_MEM: in->a[k] = accel_below(g, LAVM_NMEM); break;
				case LAVM_OPND_IMM: in->a[k] = accel_interesting(g); break;
				case LAVM_OPND_TARGET:
					in->a[k] = accel_below(g, 3) ? (i + 1 + accel_below(g, 6)) % n
								     : accel_below(g, n);
					break;
				}
			}
			if ((in->op == LAVM_OP_READ || in->op == LAVM_OP_WRITE) && i + 1 < n &&
			    accel_below(g, 4)) {
				struct lavm_insn io = *in;

				memset(in, 0, sizeof(*in));
				in->op = LAVM_OP_SETI;
				in->a[0] = io.a[io.op == LAVM_OP_READ ? 1 : 0];
				in->a[1] = accel_below(g, 8) ? f2u((float)accel_below(g, nshared + 1))
							     : accel_interesting(g);
				p->img.insns[++i] = io;
			}
		}
		in = &p->img.insns[n - 1];
		memset(in, 0, sizeof(*in));
		in->op = accel_below(g, 3) ? LAVM_OP_HALT :
			 accel_below(g, 2) ? LAVM_OP_JUMP : LAVM_OP_RETURN;
		if (in->op == LAVM_OP_JUMP)
			in->a[0] = accel_below(g, n);
		p->img.prog.ninsns = n;
		p->img.prog.shared_size = accel_below(g, 2) ? nshared : 0;
		/* Rejected (a negative enum lavm_err, which overlaps errnos): draw again. */
		ret = lavm_image_finish(&p->img, &verr);
		if (!ret)
			return accel_prog_bundle(p);
		accel_prog_free(p);
	}
}

/* Random start states (IPs, registers, statuses) and shared memory for @r. */
static inline void accel_run_random_inputs(struct accel_run *r, struct accel_rng *g,
					   const struct accel_prog *p)
{
	for (uint32_t i = 0; i < r->nvms; i++) {
		struct lavm_vm *vm = &r->vms[i];
		uint32_t k = accel_below(g, 16);

		lavm_vm_init(vm, &p->img.prog, i);
		for (int s = LAVM_X_R0 + 1; s < LAVM_X_ONE; s++)
			if (accel_below(g, 2))
				vm->v[s] = u2f(accel_interesting(g));
		if (k == 0)
			vm->status = LAVM_YIELDED;
		else if (k == 1)
			vm->status = LAVM_HALTED;
		else if (k == 2)
			vm->v[LAVM_X_IP] = u2f(accel_interesting(g));
		else if (k == 3)
			vm->v[LAVM_X_IP] = (float)accel_below(g, p->img.prog.ninsns);
		else if (k == 4)
			vm->status = 7 + accel_below(g, 3);	/* bad_state */
	}
	for (uint32_t k = 0; k < r->nshared; k++)
		r->shared[k] = accel_below(g, 3) ? (float)accel_below(g, 50)
						 : u2f(accel_interesting(g));
}

#endif /* HA_ACCEL_SELFTEST_H */
