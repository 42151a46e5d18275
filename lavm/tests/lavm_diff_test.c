// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Differential test: random verified programs, random start states, several
 * VM counts and thread counts; the switch interpreter and the epoch engine
 * (every vector variant) must match the reference bit for bit: every state
 * word, status, fault, call depth, per-VM epochs, shared memory, epoch count.
 *
 * LAVM_DIFF_PROGRAMS (default 10000) and LAVM_DIFF_SEED change the run.
 */
#include "lavm_tap.h"

static uint64_t rng_state;

static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static uint32_t below(uint32_t n)
{
	return (uint32_t)(rnd() % n);
}

static uint32_t interesting(void)
{
	static const float vals[] = {
		0.0f, -0.0f, 1.0f, -1.0f, 0.5f, 2.0f, 3.0f, 1e-4f, -1e-4f, 5e-5f, -5e-5f,
		1e30f, -1e30f, 1e-38f, 3.14159274f, 1.57079637f, 10.0f, 100.0f, 8193.0f, 1e9f,
	};
	switch (below(8)) {
	case 0: return 0x7f800000u;			/* inf */
	case 1: return 0xff800000u;
	case 2: return 0x7fc00000u | (uint32_t)below(2) << 31;	/* NaNs */
	case 3: return 0x7f800001u + below(1000);	/* signalling-ish payloads */
	case 4: return below(16);			/* denormals */
	case 5: return fbits((float)(int)below(12) - 2.0f);
	case 6: return fbits((float)((int)below(2001) - 1000) / 8.0f);
	default: return fbits(vals[below(sizeof(vals) / sizeof(vals[0]))]);
	}
}

static const uint32_t opcodes[] = {
	LAVM_OP_ADD, LAVM_OP_SUB, LAVM_OP_MOV, LAVM_OP_SETI, LAVM_OP_LOAD, LAVM_OP_STORE,
	LAVM_OP_COPY, LAVM_OP_CLEAR, LAVM_OP_NEG, LAVM_OP_SCALE,
	LAVM_OP_ADD, LAVM_OP_SUB, LAVM_OP_SETI, LAVM_OP_SETI,
	LAVM_OP_MUL, LAVM_OP_DIV, LAVM_OP_MOD, LAVM_OP_CMP, LAVM_OP_MIN, LAVM_OP_MAX,
	LAVM_OP_ABS, LAVM_OP_SQRT, LAVM_OP_SIN, LAVM_OP_COS,
	LAVM_OP_READ, LAVM_OP_WRITE, LAVM_OP_READ, LAVM_OP_WRITE, LAVM_OP_YIELD, LAVM_OP_HALT,
	LAVM_OP_BEQ, LAVM_OP_BNE, LAVM_OP_BLT, LAVM_OP_BGT, LAVM_OP_BLE, LAVM_OP_BGE,
	LAVM_OP_BGT, LAVM_OP_BLT, LAVM_OP_JUMP, LAVM_OP_CALL, LAVM_OP_CALL, LAVM_OP_RETURN,
};

/* A random program; READ/WRITE usually get an address register set just before. */
static uint32_t gen(struct lavm_insn *insns, uint32_t cap, uint32_t nshared)
{
	uint32_t n = 3 + below(cap - 3);

	for (uint32_t i = 0; i < n; i++) {
		struct lavm_insn *in = &insns[i];
		const struct lavm_isa *isa;

		memset(in, 0, sizeof(*in));
		in->op = opcodes[below(sizeof(opcodes) / sizeof(opcodes[0]))];
		isa = lavm_isa(in->op);
		for (int k = 0; k < isa->nops; k++) {
			switch (isa->kind[k]) {
			case LAVM_OPND_REG: in->a[k] = below(4); break;
			case LAVM_OPND_MEM: in->a[k] = below(16); break;
			case LAVM_OPND_IMM: in->a[k] = interesting(); break;
			case LAVM_OPND_TARGET:
				/* mostly short forward/backward hops: loops that end */
				in->a[k] = below(3) ? (i + 1 + below(6)) % n : below(n);
				break;
			}
		}
		if ((in->op == LAVM_OP_READ || in->op == LAVM_OP_WRITE) && i + 1 < n && below(4)) {
			uint32_t areg = in->a[in->op == LAVM_OP_READ ? 1 : 0];
			struct lavm_insn io = *in;

			memset(in, 0, sizeof(*in));
			in->op = LAVM_OP_SETI;
			in->a[0] = areg;
			in->a[1] = below(8) ? fbits((float)below(nshared + 1)) : interesting();
			insns[++i] = io;
		}
	}
	insns[n - 1].op = below(3) ? LAVM_OP_HALT : (below(2) ? LAVM_OP_JUMP : LAVM_OP_RETURN);
	memset(insns[n - 1].a, 0, sizeof(insns[n - 1].a));
	if (insns[n - 1].op == LAVM_OP_JUMP)
		insns[n - 1].a[0] = below(n);
	return n;
}

static void init_states(struct lavm_job *job, uint32_t mode)
{
	for (uint32_t i = 0; i < job->nvms; i++) {
		struct lavm_vm *vm = &job->vms[i];

		if (mode == 0)
			continue;
		for (int k = LAVM_X_R0 + 1; k < LAVM_X_ONE; k++)
			if (below(2))
				vm->v[k] = bitsf(interesting());
		if (mode == 2) {
			uint32_t r = below(16);

			if (r == 0)
				vm->status = LAVM_YIELDED;
			else if (r == 1)
				vm->status = LAVM_HALTED;
			else if (r == 2)
				vm->v[LAVM_X_IP] = bitsf(interesting());
			else if (r == 3)
				vm->v[LAVM_X_IP] = (float)below(job->prog->ninsns);
		}
	}
	for (uint32_t k = 0; k < job->nshared; k++)
		job->shared[k] = below(3) ? (float)below(50) : bitsf(interesting());
}

static bool same_job(const struct lavm_job *a, const struct lavm_job *b, char *why, size_t wl)
{
	for (uint32_t i = 0; i < a->nvms; i++) {
		const struct lavm_vm *x = &a->vms[i], *y = &b->vms[i];

		for (int k = 0; k < LAVM_DIM; k++) {
			if (fbits(x->v[k]) != fbits(y->v[k])) {
				snprintf(why, wl, "vm %u slot %d: 0x%08x vs ref 0x%08x", i, k,
					 fbits(y->v[k]), fbits(x->v[k]));
				return false;
			}
		}
		if (x->status != y->status || x->fault != y->fault || x->sp != y->sp ||
		    x->epochs != y->epochs) {
			snprintf(why, wl, "vm %u: status %u/%u fault %u/%u sp %u/%u epochs %u/%u", i,
				 y->status, x->status, y->fault, x->fault, y->sp, x->sp, y->epochs, x->epochs);
			return false;
		}
	}
	for (uint32_t k = 0; k < a->nshared; k++) {
		if (fbits(a->shared[k]) != fbits(b->shared[k])) {
			snprintf(why, wl, "shared[%u]: 0x%08x vs ref 0x%08x", k,
				 fbits(b->shared[k]), fbits(a->shared[k]));
			return false;
		}
	}
	return true;
}

/*
 * A random access-control table for @nvms VMs over @nshared words: segments
 * of 1-4 words, sometimes fewer than cover shared memory, masks from "all"
 * to "none", so that READs and WRITEs both pass and fault.
 */
static void random_acl(struct lavm_acl *acl, uint8_t *dom, uint64_t *allow, uint32_t nvms,
		       uint32_t nshared)
{
	acl->seg_words = 1 + below(4);
	acl->nseg = 1 + below((nshared + acl->seg_words - 1) / acl->seg_words + 1);
	if (acl->nseg > LAVM_ACL_MAX_SEG)
		acl->nseg = LAVM_ACL_MAX_SEG;
	for (uint32_t d = 0; d < acl->nseg; d++) {
		switch (below(4)) {
		case 0: allow[d] = ~0ull; break;
		case 1: allow[d] = 1ull << d; break;
		default: allow[d] = rnd(); break;
		}
	}
	for (uint32_t i = 0; i < nvms; i++)
		dom[i] = below(acl->nseg);
	acl->dom = dom;
	acl->allow = allow;
}

static void copy_job(struct lavm_job *dst, const struct lavm_job *src)
{
	memcpy(dst->vms, src->vms, src->nvms * sizeof(*src->vms));
	memcpy(dst->shared, src->shared, src->nshared * sizeof(float));
}

int main(void)
{
	const char *env = getenv("LAVM_DIFF_PROGRAMS");
	uint32_t nprog = env ? strtoul(env, NULL, 0) : 10000, accepted = 0, rejected = 0;
	static const uint32_t counts[] = { 1, 2, 5, 17, 33, 64 };
	uint32_t fails[NENGINES] = { 0 };
	unsigned long runs[NENGINES] = { 0 }, vm_total = 0, halted = 0, faulted = 0;
	unsigned long acl_runs = 0, acl_faults = 0;
	static uint8_t dom[1024];
	uint64_t allow[LAVM_ACL_MAX_SEG];
	char first_fail[NENGINES][400] = { { 0 } };
	struct lavm_insn insns[48];

	env = getenv("LAVM_DIFF_SEED");
	rng_state = env ? strtoull(env, NULL, 0) : 0x9e3779b97f4a7c15ull;
	printf("# seed 0x%llx, %u programs\n", (unsigned long long)rng_state, nprog);
	while (accepted < nprog) {
		struct lavm_image img = { 0 };
		struct lavm_verify_err err;
		uint32_t nshared = below(3) ? 8 : 0, n = gen(insns, 24 + below(24), nshared);

		img.insns = malloc(n * sizeof(*img.insns));
		memcpy(img.insns, insns, n * sizeof(*img.insns));
		img.prog.ninsns = n;
		img.prog.max_call_depth = below(5);
		img.prog.shared_size = nshared;
		if (lavm_image_finish(&img, &err)) {
			rejected++;
			lavm_image_free(&img);
			continue;
		}
		accepted++;
		/* each program on a small VM count and on a larger one (every 4th:
		 * more than one 256-lane block) */
		for (int pass = 0; pass < 2; pass++) {
		uint32_t nvms = pass == 0 ? counts[below(6)] :
				accepted % 4 == 0 ? 257 + below(300) : 65 + below(190);
		uint32_t max_epochs = 1 + below(150);
		struct lavm_job start, ref, job;
		struct lavm_acl acl;

		if (lavm_job_alloc(&start, &img.prog, nvms, nshared, max_epochs) ||
		    lavm_job_alloc(&ref, &img.prog, nvms, nshared, max_epochs) ||
		    lavm_job_alloc(&job, &img.prog, nvms, nshared, max_epochs))
			abort();
		init_states(&start, below(3));
		/* every third program runs under a random access-control table */
		if (accepted % 3 == 0 && nshared) {
			random_acl(&acl, dom, allow, nvms, nshared);
			ref.acl = job.acl = &acl;
			acl_runs++;
		}
		copy_job(&ref, &start);
		long ref_epochs = lavm_engine_run(&ref, LAVM_ENGINE_REF, 1);

		for (uint32_t i = 0; i < nvms; i++) {
			vm_total++;
			halted += ref.vms[i].status == LAVM_HALTED;
			faulted += ref.vms[i].status == LAVM_FAULTED;
			acl_faults += ref.vms[i].fault == LAVM_FAULT_ACCESS;
		}
		for (size_t e = 1; e < NENGINES; e++) {
			struct engine_cfg c = engine_cfgs[e];
			char why[300] = "";
			long ep;

			if (c.kind == LAVM_ENGINE_EPOCH)
				c.threads = 1 + below(3);
			if (c.slice)
				c.slice = 1 + below(7);
			copy_job(&job, &start);
			ep = run_cfg(&c, &job);
			runs[e]++;
			if (ep != ref_epochs)
				snprintf(why, sizeof(why), "epochs %ld vs ref %ld", ep, ref_epochs);
			if ((ep != ref_epochs || !same_job(&ref, &job, why, sizeof(why))) && !fails[e]++)
				snprintf(first_fail[e], sizeof(first_fail[e]),
					 "program %u (%u insns, %u VMs, %u threads, max %u%s): %s",
					 accepted, n, nvms, c.threads, max_epochs,
					 job.acl ? ", acl" : "", why);
		}
		lavm_job_free(&start);
		lavm_job_free(&ref);
		lavm_job_free(&job);
		}
		lavm_image_free(&img);
	}
	printf("# %u programs accepted, %u rejected by the verifier; %lu VMs: %lu halted, %lu faulted\n",
	       accepted, rejected, vm_total, halted, faulted);
	for (size_t e = 1; e < NENGINES; e++)
		tap_ok(!fails[e], "%s matches the reference bit for bit (%lu runs, %u differ)%s%s",
		       engine_cfgs[e].name, runs[e], fails[e], fails[e] ? ": first: " : "", first_fail[e]);
	tap_ok(rejected < accepted * 4, "the generator mostly makes verifiable programs");
	tap_ok(halted > vm_total / 10 && faulted > 0, "runs end in halts and faults, not only timeouts");
	tap_ok(acl_runs > nprog / 5 && acl_faults > 0,
	       "%lu runs under a random access-control table, %lu VMs faulted access",
	       acl_runs, acl_faults);
	return tap_done();
}
