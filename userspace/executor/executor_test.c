// SPDX-License-Identifier: GPL-2.0
/*
 * hyperaether-executor's batch runner without a kernel: batches as the
 * driver describes them, over plain memory laid out as its shadow buffers
 * (the bundle, states, shared words, call stacks, the access table), run
 * with each engine and compared bit for bit with lavm_ref_run() of the
 * same job: every state word, the call stacks, shared memory, the epochs.
 * Then the batches the runner must refuse without touching anything.
 *
 * The Vulkan engine runs on whatever device the loader finds (the makefile
 * points it at lavapipe); without one its tests are one "ok # SKIP" line
 * with the reason, never a pass.  Environment: HA_EXEC_PROGRAMS (random
 * programs per engine, default 200), HA_EXEC_SEED, HA_EXEC_DEVICE.
 * TAP on stdout.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "executor.h"
#include "lavm_host.h"
#include "tests/lavm_tap.h"

static uint64_t rng;

static uint32_t below(uint32_t n)
{
	rng = rng * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(rng >> 33) % n;
}

/* ------------------------------------------------------------ batches */

/* One batch: its description and the buffers, as the shadows hold them. */
struct batch {
	struct drm_hyperaether_exec_batch d;
	struct ha_exec_bufs b;
	struct lavm_image img;
	struct lavm_acl acl;	/* the table the reference applies */
};

static void batch_free(struct batch *t)
{
	free((void *)t->b.prog);
	free(t->b.state);
	free(t->b.shared);
	free(t->b.stack);
	free((void *)t->b.acl);
	lavm_image_free(&t->img);
	memset(t, 0, sizeof(*t));
}

/* A deep copy of @src's buffers (the program image is not needed twice). */
static int batch_copy(struct batch *dst, const struct batch *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->d = src->d;
	dst->b = src->b;
#define DUP(f) do { \
	if (src->b.f && !(dst->b.f = malloc(src->b.f##_len))) return -ENOMEM; \
	if (src->b.f) memcpy((void *)dst->b.f, src->b.f, src->b.f##_len); } while (0)
	DUP(prog);
	DUP(state);
	DUP(shared);
	DUP(stack);
	DUP(acl);
#undef DUP
	return 0;
}

/*
 * Assembles a random program of about @len lines over @nshared words: every
 * opcode of the ISA table, a label on each line, READ/WRITE addresses set
 * just before (a valid word, the end, or a bad one).  NULL image if the
 * verifier refuses it (recursion, mostly).
 */
static int random_program(struct lavm_image *img, uint32_t len, uint32_t nshared)
{
	static const char *const imms[] = { "0", "1", "-1", "0.5", "3", "-2.25", "1e30", "1e-40" };
	char src[8192], *p = src, *end = src + sizeof(src);
	FILE *diag;
	int ret;

	p += snprintf(p, end - p, ".shared %u\n", nshared);
	for (uint32_t i = 0; i < len; i++) {
		const struct lavm_isa *isa;
		uint32_t op, areg = 0;

		do
			op = below(LAVM_NOPCODES);
		while (!(isa = lavm_isa(op)));
		if (op == LAVM_OP_READ || op == LAVM_OP_WRITE) {
			areg = below(LAVM_NREGS);
			p += snprintf(p, end - p, "  SETI r%u, %u\n", areg,
				      below(8) ? below(nshared + 1) : 70000);
		}
		p += snprintf(p, end - p, "L%u: %s", i, isa->name);
		for (int k = 0; k < isa->nops; k++) {
			p += snprintf(p, end - p, "%s", k ? ", " : " ");
			if (op == LAVM_OP_READ && k == 1)
				p += snprintf(p, end - p, "r%u", areg);
			else if (op == LAVM_OP_WRITE && k == 0)
				p += snprintf(p, end - p, "r%u", areg);
			else if (isa->kind[k] == LAVM_OPND_REG)
				p += snprintf(p, end - p, "r%u", below(LAVM_NREGS));
			else if (isa->kind[k] == LAVM_OPND_MEM)
				p += snprintf(p, end - p, "%u", below(LAVM_NMEM));
			else if (isa->kind[k] == LAVM_OPND_IMM)
				p += snprintf(p, end - p, "%s", imms[below(8)]);
			else	/* mostly short hops forward, so that loops end */
				p += snprintf(p, end - p, "L%u",
					      below(4) ? (i + 1 + below(4)) % len : below(len));
		}
		p += snprintf(p, end - p, "\n");
	}
	p += snprintf(p, end - p, "%s\n", below(3) ? "HALT" : "JUMP L0");
	diag = fopen("/dev/null", "w");
	ret = lavm_assemble("random", src, p - src, img, diag);
	if (diag)
		fclose(diag);
	return ret;
}

/* A random program's batch on @nvms instances: random starts, sometimes an access table. */
static int random_batch(struct batch *t, uint32_t nvms)
{
	uint32_t nshared;
	size_t stack;
	long n;

	memset(t, 0, sizeof(*t));
	nshared = below(3) ? 1 + below(16) : 0;
	while (random_program(&t->img, 3 + below(30), nshared))
		lavm_image_free(&t->img);
	t->b.prog_len = lavm_bundle_size(&t->img.prog) + below(64);	/* mappings are pages */
	t->b.prog = calloc(1, t->b.prog_len);
	t->b.state_len = nvms * sizeof(struct lavm_vm);
	t->b.state = calloc(nvms, sizeof(struct lavm_vm));
	stack = lavm_stack_size(&t->img.prog, nvms);
	t->b.stack_len = stack;
	t->b.stack = stack ? calloc(1, stack) : NULL;
	t->b.shared_len = nshared * sizeof(float);
	t->b.shared = nshared ? calloc(nshared, sizeof(float)) : NULL;
	if (!t->b.prog || !t->b.state || (stack && !t->b.stack) || (nshared && !t->b.shared))
		return -ENOMEM;
	n = lavm_bundle_write(&t->img.prog, (void *)t->b.prog, t->b.prog_len);
	if (n <= 0)
		return -EINVAL;
	for (uint32_t i = 0; i < nvms; i++) {
		struct lavm_vm *vm = t->b.state + i * sizeof(*vm);

		lavm_vm_init(vm, &t->img.prog, i);
		vm->v[LAVM_X_R0 + 1] = (float)below(5) - 2.0f;
		if (!below(20))
			vm->status = LAVM_YIELDED;
	}
	for (uint32_t k = 0; k < nshared; k++)
		((float *)t->b.shared)[k] = (float)below(9) * 0.25f;
	t->d = (struct drm_hyperaether_exec_batch){
		.batch_id = 1 + below(1000), .prog_handle = 1, .prog_size = n,
		.state_handle = 2, .ninstances = nvms, .shared_handle = nshared ? 3 : 0,
		.nshared = nshared, .stack_handle = stack ? 4 : 0, .max_epochs = 1 + below(300),
	};
	if (nshared && !below(3)) {
		uint32_t nseg = 1 + below(4), seg_words = 1 + below(nshared);
		uint8_t *tab;

		t->b.acl_len = nseg * sizeof(uint64_t) + nvms;
		t->b.acl = tab = calloc(1, t->b.acl_len);
		if (!tab)
			return -ENOMEM;
		for (uint32_t s = 0; s < nseg; s++) {
			uint64_t allow = below(3) ? (uint64_t)below(1u << nseg) : ~0ull;

			memcpy(tab + s * sizeof(uint64_t), &allow, sizeof(allow));
		}
		for (uint32_t i = 0; i < nvms; i++)
			tab[nseg * sizeof(uint64_t) + i] = below(nseg);
		t->d.acl_handle = 5;
		t->d.nsegments = nseg;
		t->d.seg_words = seg_words;
	}
	return 0;
}

/* The reference on @t's buffers, as the kernel's CPU engine would run them. */
static uint32_t reference(struct batch *t, const struct lavm_prog *prog)
{
	struct lavm_job job = {
		.prog = prog, .vms = t->b.state, .nvms = t->d.ninstances,
		.stack = t->b.stack_len ? t->b.stack : NULL, .shared = t->b.shared,
		.nshared = t->d.nshared, .max_epochs = t->d.max_epochs,
	};

	if (t->d.nsegments) {
		t->acl = (struct lavm_acl){
			.allow = t->b.acl,
			.dom = (const uint8_t *)t->b.acl + t->d.nsegments * sizeof(uint64_t),
			.seg_words = t->d.seg_words, .nseg = t->d.nsegments,
		};
		job.acl = &t->acl;
	}
	return lavm_ref_run(&job);
}

/* Bit-for-bit comparison of what a batch changes; 0 or -1 with @why. */
static int same(const struct batch *a, const struct batch *x, char *why, size_t len)
{
	/* v[], sp, status, fault, epochs: the pending write is the reference's own */
	const size_t words = offsetof(struct lavm_vm, pend_addr) / 4;

	const uint32_t nvms = x->b.state_len / sizeof(struct lavm_vm);
	const uint32_t depth = nvms ? x->b.stack_len / nvms / sizeof(struct lavm_frame) : 0;

	for (uint32_t i = 0; i < nvms; i++) {
		const struct lavm_vm *vm = (const struct lavm_vm *)x->b.state + i;
		const uint32_t *sa = (const uint32_t *)a->b.state + i * sizeof(struct lavm_vm) / 4;
		const uint32_t *sx = (const uint32_t *)x->b.state + i * sizeof(struct lavm_vm) / 4;

		for (size_t w = 0; w < words; w++)
			if (sa[w] != sx[w])
				return snprintf(why, len, "vm %u word %zu: 0x%08x, reference 0x%08x",
						i, w, sa[w], sx[w]), -1;
		/* the live call frames (below sp; those above are stale either way) */
		for (uint32_t f = 0; f < vm->sp && f < depth; f++)
			if (memcmp((const struct lavm_frame *)a->b.stack + (size_t)i * depth + f,
				   (const struct lavm_frame *)x->b.stack + (size_t)i * depth + f,
				   sizeof(struct lavm_frame)))
				return snprintf(why, len, "vm %u call frame %u differs", i, f), -1;
	}
	if (x->b.shared_len && memcmp(a->b.shared, x->b.shared, x->b.shared_len))
		return snprintf(why, len, "shared memory differs"), -1;
	return 0;
}

/* ------------------------------------------------------------ tests */

static void test_random(struct ha_exec_engine *eng, const char *name, uint32_t nprog)
{
	static const uint32_t sizes[] = { 1, 7, 300, 1000 };
	unsigned long runs = 0, fails = 0, acls = 0;
	uint64_t insns = 0;
	char first[400] = "";

	for (uint32_t p = 0; p < nprog; p++) {
		struct batch x, t;
		struct ha_exec_result res;
		char why[300] = "", err[256] = "";
		uint32_t epochs;
		int ret;

		if (random_batch(&x, sizes[p % 4]) || batch_copy(&t, &x))
			abort();
		epochs = reference(&x, &x.img.prog);
		ret = ha_exec_batch_run(eng, &t.d, &t.b, &res, err, sizeof(err));
		runs++;
		acls += !!x.d.nsegments;
		if (ret) {
			snprintf(why, sizeof(why), "failed: %s", err);
		} else if (res.epochs != epochs) {
			snprintf(why, sizeof(why), "epochs %u, reference %u", res.epochs, epochs);
		} else {
			same(&t, &x, why, sizeof(why));
		}
		for (uint32_t i = 0; i < x.d.ninstances; i++)
			insns += ((struct lavm_vm *)x.b.state)[i].epochs;
		if (why[0] && !fails++)
			snprintf(first, sizeof(first), "program %u (%u VMs, %u epochs%s): %s", p,
				 x.d.ninstances, x.d.max_epochs, x.d.nsegments ? ", acl" : "", why);
		batch_free(&x);
		batch_free(&t);
	}
	tap_ok(!fails, "%s: %lu random batches (%lu with an access table, %" PRIu64
	      " VM-instructions) match lavm_ref_run bit for bit%s%s", name, runs, acls,
	      insns, fails ? ": first: " : "", first);
}

/* A batch the runner must refuse: -@want, and no byte of its buffers changed. */
static void refused(struct ha_exec_engine *eng, const char *what, struct batch *t, int want)
{
	struct batch before;
	struct ha_exec_result res;
	char err[256] = "", why[256] = "";
	int ret;

	if (batch_copy(&before, t))
		abort();
	ret = ha_exec_batch_run(eng, &t->d, &t->b, &res, err, sizeof(err));
	tap_ok(ret == want && err[0] && !same(t, &before, why, sizeof(why)),
	      "refuses %s: %s (%s)%s", what, strerror(-ret), err, why);
	batch_free(&before);
}

static void test_refused(struct ha_exec_engine *eng)
{
	struct batch t;

#define CASE(what, want, ...) do { \
	do if (random_batch(&t, 50)) abort(); while (!t.d.nshared && (batch_free(&t), 1)); \
	__VA_ARGS__; \
	refused(eng, what, &t, want); \
	batch_free(&t); } while (0)
	CASE("unknown batch flags", -EOPNOTSUPP, t.d.flags = 2);
	CASE("non-zero reserved words", -EOPNOTSUPP, t.d.reserved[1] = 1);
	CASE("a bundle longer than its mapping", -EINVAL, t.d.prog_size = t.b.prog_len + 1);
	CASE("a bundle with a bad checksum", -EINVAL, ((uint8_t *)t.b.prog)[t.d.prog_size - 1] ^= 1);
	CASE("no program at all", -EINVAL, t.b.prog = (free((void *)t.b.prog), NULL));
	CASE("states shorter than ninstances", -EINVAL, t.d.ninstances = 51);
	CASE("zero instances", -EINVAL, t.d.ninstances = 0);
	CASE("fewer shared words than .shared", -EINVAL, t.d.nshared--);
	CASE("shared words past the mapping", -EINVAL, t.d.nshared = t.b.shared_len / 4 + 1);
	CASE("an access table past its mapping", -EINVAL,
	     t.d.nsegments = 2; t.d.seg_words = 1; t.d.acl_handle = 5;
	     free((void *)t.b.acl); t.b.acl = calloc(1, 8); t.b.acl_len = 8);
	CASE("a domain past the segments", -EINVAL,
	     uint8_t *tab = calloc(1, 16 + 50);
	     free((void *)t.b.acl); t.b.acl = tab; t.b.acl_len = 16 + 50;
	     t.d.nsegments = 2; t.d.seg_words = 1; t.d.acl_handle = 5; tab[16 + 7] = 2);
	CASE("more segments than LAVM allows", -EINVAL, t.d.nsegments = LAVM_ACL_MAX_SEG + 1);
#undef CASE
}

static void run_engine(enum ha_exec_engine_kind kind, const char *name, uint32_t nprog,
		       int device)
{
	struct ha_exec_engine eng;
	char err[512] = "", what[256];
	int ret = ha_exec_engine_open(&eng, kind, device, 2, err, sizeof(err));

	if (ret == -ENODEV && kind == HA_EXEC_ENGINE_VULKAN) {
		printf("ok %d - %s: random batches against the reference # SKIP %s\n", ++tap_count,
		       name, err);
		return;
	}
	tap_ok(!ret, "%s: engine opens%s%s", name, ret ? ": " : "", err);
	if (ret)
		return;
	ha_exec_engine_describe(&eng, what, sizeof(what));
	printf("# %s\n", what);
	test_random(&eng, name, nprog);
	if (kind == HA_EXEC_ENGINE_CPU)
		test_refused(&eng);
	ha_exec_engine_close(&eng);
}

int main(void)
{
	const char *env = getenv("HA_EXEC_PROGRAMS");
	uint32_t nprog = env ? strtoul(env, NULL, 0) : 200;
	int device = getenv("HA_EXEC_DEVICE") ? atoi(getenv("HA_EXEC_DEVICE")) : 0;
	enum ha_exec_engine_kind kind;

	rng = getenv("HA_EXEC_SEED") ? strtoull(getenv("HA_EXEC_SEED"), NULL, 0) : 20250101;
	printf("# seed %" PRIu64 "\n", rng);
	tap_ok(!ha_exec_engine_parse("cpu", &kind) && kind == HA_EXEC_ENGINE_CPU &&
	      !ha_exec_engine_parse("vulkan", &kind) && kind == HA_EXEC_ENGINE_VULKAN &&
	      ha_exec_engine_parse("gpu", &kind) == -EINVAL, "engine names parse");
	run_engine(HA_EXEC_ENGINE_REF, "ref", nprog, device);
	run_engine(HA_EXEC_ENGINE_CPU, "cpu", nprog, device);
	run_engine(HA_EXEC_ENGINE_VULKAN, "vulkan", nprog, device);
	return tap_done();
}
