// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The Vulkan engine against the reference interpreter, bit for bit: every
 * word of every VM state (pending write and reserved words included), the
 * call stack, shared memory and the epoch count.
 *
 *  - arithmetic: each oracle/linear opcode on 4096 operand pairs per batch
 *    (uniform random bit patterns, denormals, values near the denormal
 *    range, infinities, NaN payloads), read from and written to shared memory;
 *  - the corrected seed examples (lavm/examples): the engine's result,
 *    `lavm run --engine vulkan --json` byte for byte against the
 *    reference's JSON, and the epoch count of the .expect.json file;
 *  - random verified programs (LAVM_VK_PROGRAMS, default 2000; seed
 *    LAVM_VK_SEED) on 1, 7, 300 and 1000 VMs with contended shared words,
 *    random start states and access-control tables.
 *
 * No Vulkan device: one "ok # SKIP" line with the reason (not a pass).
 * LAVM_VK_DEVICE picks the device (default 0).
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <json-c/json.h>
#include "lavm_host.h"
#include "lavm_vk.h"

static int ntests, nfailed;

static __attribute__((format(printf, 2, 3))) void check(int cond, const char *fmt, ...)
{
	va_list ap;

	ntests++;
	nfailed += !cond;
	printf("%sok %d - ", cond ? "" : "not ", ntests);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static uint64_t seed;

static uint32_t rand32(void)
{
	/* splitmix64 */
	uint64_t z = (seed += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return (uint32_t)((z ^ (z >> 31)) >> 32);
}

static uint32_t pick(uint32_t n)
{
	return rand32() % n;
}

static float f32(uint32_t u)
{
	float f;

	memcpy(&f, &u, 4);
	return f;
}

static uint32_t u32(float f)
{
	uint32_t u;

	memcpy(&u, &f, 4);
	return u;
}

/* Operands that stress exactness: denormals, the edge of the normal range, specials. */
static uint32_t operand(void)
{
	uint32_t sign = rand32() & 0x80000000u;

	switch (pick(12)) {
	case 0: return sign | pick(0x00800000u);		/* denormal */
	case 1: return sign | (0x00800000u + pick(0x01000000u));	/* 2^-126 .. 2^-124 */
	case 2: return sign | (0x7f800000u + pick(3) * 0x00400000u + pick(2));	/* inf, NaNs */
	case 3: return sign | pick(24);			/* tiny denormals */
	case 4: return u32((float)(int)(pick(4001) - 2000));	/* integers (fmod fast path) */
	case 5: return sign | (0x3f000000u + pick(0x02000000u));	/* 0.5 .. 8 */
	case 6: return sign | (0x4b000000u + pick(0x01000000u));	/* 2^23 .. 2^25 */
	case 7: return sign;					/* signed zero */
	case 8: return sign | (0x7e800000u + pick(0x01000000u));	/* near overflow */
	default: return rand32();
	}
}

/* -------------------------------------------------------------- comparing */

static int same(const struct lavm_job *ref, uint32_t ref_ep, const struct lavm_job *vk,
		uint32_t vk_ep, char *why, size_t len)
{
	size_t stack = lavm_stack_size(ref->prog, ref->nvms);

	if (ref_ep != vk_ep) {
		snprintf(why, len, "epochs %u, reference %u", vk_ep, ref_ep);
		return 0;
	}
	for (uint32_t i = 0; i < ref->nvms; i++) {
		const uint32_t *a = (const void *)&ref->vms[i], *b = (const void *)&vk->vms[i];

		for (uint32_t k = 0; k < sizeof(struct lavm_vm) / 4; k++) {
			if (a[k] != b[k]) {
				snprintf(why, len, "vm %u word %u: 0x%08x, reference 0x%08x", i, k,
					 b[k], a[k]);
				return 0;
			}
		}
	}
	if (stack && memcmp(ref->stack, vk->stack, stack)) {
		snprintf(why, len, "call stack differs");
		return 0;
	}
	for (uint32_t k = 0; k < ref->nshared; k++) {
		if (u32(ref->shared[k]) != u32(vk->shared[k])) {
			snprintf(why, len, "shared[%u]: 0x%08x, reference 0x%08x", k,
				 u32(vk->shared[k]), u32(ref->shared[k]));
			return 0;
		}
	}
	return 1;
}

/* What the reference runs ended in. */
struct outcome {
	unsigned long vms, halted, faulted, wrote;
};

/* Runs a copy of @start on the reference and on Vulkan; 1 if they agree. */
static int differential(struct lavm_vk *vk, const struct lavm_job *start, char *why, size_t len,
			struct outcome *out)
{
	const struct lavm_prog *prog = start->prog;
	struct lavm_job ref, job;
	size_t stack = lavm_stack_size(prog, start->nvms);
	uint32_t ref_ep, vk_ep;
	int ret, ok;

	if (lavm_job_alloc(&ref, prog, start->nvms, start->nshared, start->max_epochs) ||
	    lavm_job_alloc(&job, prog, start->nvms, start->nshared, start->max_epochs))
		abort();
	for (struct lavm_job *j = &ref; j; j = j == &ref ? &job : NULL) {
		memcpy(j->vms, start->vms, start->nvms * sizeof(*start->vms));
		if (stack)
			memcpy(j->stack, start->stack, stack);
		if (start->nshared)
			memcpy(j->shared, start->shared, start->nshared * sizeof(float));
		j->acl = start->acl;
	}
	ref_ep = lavm_ref_run(&ref);
	for (uint32_t i = 0; out && i < ref.nvms; i++) {
		out->vms++;
		out->halted += ref.vms[i].status == LAVM_HALTED;
		out->faulted += ref.vms[i].status == LAVM_FAULTED;
		out->wrote += ref.vms[i].pend_val != start->vms[i].pend_val;
	}
	ret = lavm_vk_run(vk, &job, &vk_ep);
	if (ret) {
		snprintf(why, len, "lavm_vk_run: %s: %s", strerror(-ret), lavm_vk_last_error(vk));
		ok = 0;
	} else {
		ok = same(&ref, ref_ep, &job, vk_ep, why, len);
	}
	lavm_job_free(&ref);
	lavm_job_free(&job);
	return ok;
}

/* -------------------------------------------------------------- arithmetic */

/* VM i: r1 = shared[2i], r2 = shared[2i+1], r3 = r1 OP r2, shared[2i] = r3. */
static void test_arith(struct lavm_vk *vk)
{
	static const uint32_t ops[] = {
		LAVM_OP_ADD, LAVM_OP_SUB, LAVM_OP_MUL, LAVM_OP_DIV, LAVM_OP_MOD, LAVM_OP_CMP,
		LAVM_OP_MIN, LAVM_OP_MAX, LAVM_OP_SQRT, LAVM_OP_SIN, LAVM_OP_COS, LAVM_OP_SCALE,
		LAVM_OP_NEG, LAVM_OP_ABS,
	};
	const uint32_t nvms = 4096, batches = 6;

	for (size_t o = 0; o < sizeof(ops) / sizeof(ops[0]); o++) {
		const struct lavm_isa *isa = lavm_isa(ops[o]);
		char why[200] = "";
		uint32_t bad = 0;

		for (uint32_t b = 0; b < batches; b++) {
			struct lavm_insn code[] = {
				{ LAVM_OP_SETI, { 1, u32(2.0f) } },
				{ LAVM_OP_MUL, { 1, 0, 1 } },			/* r1 = 2i */
				{ LAVM_OP_SETI, { 2, u32(1.0f) } },
				{ LAVM_OP_ADD, { 2, 1, 2 } },			/* r2 = 2i + 1 */
				{ LAVM_OP_MOV, { 0, 1 } },			/* r0 = 2i */
				{ LAVM_OP_READ, { 1, 0 } },
				{ LAVM_OP_READ, { 2, 2 } },
				{ ops[o], { 3, 1, 2 } },
				{ LAVM_OP_WRITE, { 0, 3 } },
				{ LAVM_OP_HALT, { 0 } },
			};
			struct lavm_image img = { 0 };
			struct lavm_verify_err err;
			struct lavm_job job;

			if (isa->nops == 2)
				code[7].a[2] = 0;
			if (ops[o] == LAVM_OP_SCALE)
				code[7].a[2] = operand();
			img.insns = malloc(sizeof(code));
			memcpy(img.insns, code, sizeof(code));
			img.prog.ninsns = sizeof(code) / sizeof(code[0]);
			img.prog.shared_size = 2 * nvms;
			if (lavm_image_finish(&img, &err) ||
			    lavm_job_alloc(&job, &img.prog, nvms, 2 * nvms, 100))
				abort();
			for (uint32_t k = 0; k < 2 * nvms; k++)
				job.shared[k] = f32(operand());
			if (!differential(vk, &job, why, sizeof(why), NULL))
				bad++;
			lavm_job_free(&job);
			lavm_image_free(&img);
		}
		check(!bad, "%s on %u operand pairs matches the reference bit for bit%s%s", isa->name,
		      nvms * batches, bad ? ": " : "", why);
	}
}

/* -------------------------------------------------------------- examples */

static char *slurp_cmd(const char *cmd)
{
	char *buf = NULL, chunk[4096];
	size_t len = 0, n;
	FILE *p = popen(cmd, "r"), *m;

	if (!p)
		return NULL;
	m = open_memstream(&buf, &len);
	while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0)
		fwrite(chunk, 1, n, m);
	fclose(m);
	if (pclose(p)) {
		free(buf);
		return NULL;
	}
	return buf;
}

static void test_examples(struct lavm_vk *vk)
{
	const char *cli = getenv("LAVM_VK_CLI");
	DIR *d = opendir("lavm/examples");
	struct dirent *de;
	int found = 0;

	if (!d) {
		check(0, "open lavm/examples (run from the repository root)");
		return;
	}
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);
		char lasm[300], expect_path[300], shin[300] = "", why[300] = "";
		json_object *expect, *o;
		struct lavm_image img;
		struct lavm_job job;
		uint32_t nvms, nshared;

		if (n < 6 || strcmp(de->d_name + n - 5, ".lasm"))
			continue;
		found++;
		snprintf(lasm, sizeof(lasm), "lavm/examples/%s", de->d_name);
		snprintf(expect_path, sizeof(expect_path), "lavm/examples/%.*s.expect.json",
			 (int)(n - 5), de->d_name);
		expect = json_object_from_file(expect_path);
		if (!expect || lavm_image_read(lasm, &img, stderr)) {
			check(0, "%s: expect file and program load", de->d_name);
			continue;
		}
		json_object_object_get_ex(expect, "vms", &o);
		nvms = json_object_get_int(o);
		nshared = json_object_object_get_ex(expect, "shared_in", &o) ? 2001 : 0;
		if (lavm_job_alloc(&job, &img.prog, nvms, nshared, 1000000))
			abort();
		if (nshared) {
			snprintf(shin, sizeof(shin), "/tmp/lavm_vk_shared_%d.json", (int)getpid());
			json_object_to_file(shin, o);
			if (lavm_json_read_shared(shin, &job, stderr))
				abort();
		}
		check(differential(vk, &job, why, sizeof(why), NULL), "%s on %u VMs matches the reference%s%s",
		      de->d_name, nvms, *why ? ": " : "", why);

		/* the epoch count worked out by hand, and the CLI's JSON */
		struct lavm_job ref;
		uint32_t ep;
		char *want = NULL, *got, cmd[1024];
		size_t wl = 0;
		FILE *m;

		if (lavm_job_alloc(&ref, &img.prog, nvms, nshared, 1000000))
			abort();
		if (nshared)
			memcpy(ref.shared, job.shared, nshared * sizeof(float));
		ep = lavm_ref_run(&ref);
		json_object_object_get_ex(expect, "epochs", &o);
		check((int)ep == json_object_get_int(o), "%s: %u epochs as the expect file says",
		      de->d_name, ep);
		m = open_memstream(&want, &wl);
		lavm_json_write_result(m, &ref, ep);
		fclose(m);
		if (cli) {
			snprintf(cmd, sizeof(cmd), "%s run --engine vulkan %s --vms %u --json%s%s%s%u",
				 cli, lasm, nvms,
				 nshared ? " --shared-in " : "", shin, nshared ? " --shared " : "",
				 nshared);
			if (!nshared)
				snprintf(cmd, sizeof(cmd), "%s run --engine vulkan %s --vms %u --json",
					 cli, lasm, nvms);
			got = slurp_cmd(cmd);
			check(got && !strcmp(got, want), "%s: 'lavm run --engine vulkan --json' prints the reference's JSON",
			      de->d_name);
			free(got);
		}
		free(want);
		if (nshared)
			unlink(shin);
		lavm_job_free(&ref);
		lavm_job_free(&job);
		lavm_image_free(&img);
		json_object_put(expect);
	}
	closedir(d);
	check(found >= 7, "found the corrected seed examples (%d)", found);
}

/* -------------------------------------------------------------- random programs */

/*
 * A random program of @n instructions.  Shared addresses come from a SETI
 * just before most READs/WRITEs: a word every VM contends for, a word
 * derived from r0 (the VM index) or an invalid one.
 */
static void random_program(struct lavm_insn *code, uint32_t n, uint32_t nshared)
{
	static const uint32_t menu[] = {
		LAVM_OP_ADD, LAVM_OP_SUB, LAVM_OP_MOV, LAVM_OP_SETI, LAVM_OP_LOAD, LAVM_OP_STORE,
		LAVM_OP_COPY, LAVM_OP_CLEAR, LAVM_OP_NEG, LAVM_OP_SCALE, LAVM_OP_SETI,
		LAVM_OP_MUL, LAVM_OP_DIV, LAVM_OP_MOD, LAVM_OP_CMP, LAVM_OP_MIN, LAVM_OP_MAX,
		LAVM_OP_ABS, LAVM_OP_SQRT, LAVM_OP_SIN, LAVM_OP_COS,
		LAVM_OP_READ, LAVM_OP_WRITE, LAVM_OP_READ, LAVM_OP_WRITE, LAVM_OP_WRITE,
		LAVM_OP_YIELD, LAVM_OP_HALT,
		LAVM_OP_BEQ, LAVM_OP_BNE, LAVM_OP_BLT, LAVM_OP_BGT, LAVM_OP_BLE, LAVM_OP_BGE,
		LAVM_OP_JUMP, LAVM_OP_CALL, LAVM_OP_RETURN,
	};

	for (uint32_t i = 0; i < n; i++) {
		struct lavm_insn *in = &code[i];
		const struct lavm_isa *isa;

		memset(in, 0, sizeof(*in));
		in->op = menu[pick(sizeof(menu) / sizeof(menu[0]))];
		isa = lavm_isa(in->op);
		for (int k = 0; k < isa->nops; k++) {
			if (isa->kind[k] == LAVM_OPND_REG)
				in->a[k] = pick(4);
			else if (isa->kind[k] == LAVM_OPND_MEM)
				in->a[k] = pick(16);
			else if (isa->kind[k] == LAVM_OPND_IMM)
				in->a[k] = operand();
			else		/* mostly short hops, so loops end */
				in->a[k] = pick(4) ? (i + 1 + pick(5)) % n : pick(n);
		}
		if ((in->op == LAVM_OP_READ || in->op == LAVM_OP_WRITE) && i + 3 < n && pick(5)) {
			struct lavm_insn io = *in;
			uint32_t areg = io.a[io.op == LAVM_OP_READ ? 1 : 0];

			if (pick(3) == 0) {
				/* the VM's own word: r0 mod nshared */
				code[i++] = (struct lavm_insn){ LAVM_OP_SETI,
						{ areg, u32((float)(nshared ? nshared : 1)) } };
				code[i++] = (struct lavm_insn){ LAVM_OP_MOD, { areg, 0, areg } };
			} else {
				/* a word every VM contends for, sometimes an invalid one */
				code[i++] = (struct lavm_insn){ LAVM_OP_SETI,
						{ areg, pick(10) ? u32((float)pick(nshared + 1)) : operand() } };
			}
			code[i] = io;
		}
	}
	code[n - 1] = (struct lavm_insn){ pick(3) ? LAVM_OP_HALT : pick(2) ? LAVM_OP_JUMP : LAVM_OP_RETURN, { 0 } };
	if (code[n - 1].op == LAVM_OP_JUMP)
		code[n - 1].a[0] = pick(n);
}

static void random_start(struct lavm_job *job)
{
	uint32_t mode = pick(3);

	for (uint32_t i = 0; i < job->nvms && mode; i++) {
		struct lavm_vm *vm = &job->vms[i];

		for (int k = LAVM_X_R0 + 1; k < LAVM_X_ONE; k++)
			if (pick(2))
				vm->v[k] = f32(operand());
		if (mode == 2) {
			switch (pick(12)) {
			case 0: vm->status = LAVM_YIELDED; break;
			case 1: vm->status = LAVM_HALTED; break;
			case 2: vm->v[LAVM_X_IP] = f32(operand()); break;
			case 3: vm->v[LAVM_X_IP] = (float)pick(job->prog->ninsns); break;
			case 4: vm->status = 5 + pick(3); break;
			}
		}
	}
	for (uint32_t k = 0; k < job->nshared; k++)
		job->shared[k] = pick(2) ? (float)pick(40) : f32(operand());
}

static void test_random(struct lavm_vk *vk, uint32_t nprog)
{
	static const uint32_t counts[] = { 1, 7, 300, 1000 };
	static uint8_t dom[1000];
	uint64_t allow[LAVM_ACL_MAX_SEG];
	unsigned long runs[4] = { 0 }, fails[4] = { 0 }, acl_runs = 0;
	struct outcome seen = { 0 };
	char first[4][400] = { "" };
	uint32_t made = 0, rejected = 0;

	while (made < nprog) {
		struct lavm_insn code[40];
		struct lavm_image img = { 0 };
		struct lavm_verify_err err;
		uint32_t n = 4 + pick(36), nshared = pick(4) ? 1 + pick(12) : 0;

		random_program(code, n, nshared);
		img.insns = malloc(n * sizeof(*code));
		memcpy(img.insns, code, n * sizeof(*code));
		img.prog.ninsns = n;
		img.prog.max_call_depth = pick(4);
		img.prog.shared_size = nshared;
		if (lavm_image_finish(&img, &err)) {
			rejected++;
			lavm_image_free(&img);
			continue;
		}
		made++;
		for (int c = 0; c < 4; c++) {
			struct lavm_job start;
			struct lavm_acl acl;
			char why[300] = "";

			if (lavm_job_alloc(&start, &img.prog, counts[c], nshared, 1 + pick(200)))
				abort();
			random_start(&start);
			if (nshared && pick(3) == 0) {
				acl.seg_words = 1 + pick(3);
				acl.nseg = 1 + pick((nshared + acl.seg_words - 1) / acl.seg_words + 1);
				for (uint32_t s = 0; s < acl.nseg; s++)
					allow[s] = pick(3) ? ((uint64_t)rand32() << 32 | rand32()) : ~0ull;
				for (uint32_t i = 0; i < counts[c]; i++)
					dom[i] = pick(acl.nseg);
				acl.dom = dom;
				acl.allow = allow;
				start.acl = &acl;
				acl_runs++;
			}
			runs[c]++;
			if (!differential(vk, &start, why, sizeof(why), &seen) && !fails[c]++)
				snprintf(first[c], sizeof(first[c]), "program %u (%u insns, %u VMs, max %u%s): %s",
					 made, n, counts[c], start.max_epochs, start.acl ? ", acl" : "", why);
			lavm_job_free(&start);
		}
		lavm_image_free(&img);
	}
	printf("# %u programs (%u rejected by the verifier), %lu VMs: %lu halted, %lu faulted; "
	       "%lu runs with an access-control table\n", made, rejected, seen.vms, seen.halted, seen.faulted, acl_runs);
	for (int c = 0; c < 4; c++)
		check(!fails[c], "random programs on %u VMs match the reference bit for bit "
		      "(%lu runs, %lu differ)%s%s", counts[c], runs[c], fails[c],
		      fails[c] ? ": first: " : "", first[c]);
	check(seen.halted > seen.vms / 10 && seen.faulted && seen.wrote && acl_runs,
	      "the random runs halt, fault, write shared memory and meet access-control tables");
}

int main(void)
{
	const char *env = getenv("LAVM_VK_DEVICE");
	int device = env ? atoi(env) : 0;
	uint32_t nprog;
	struct lavm_vk *vk;
	char err[512];
	int ret;

	env = getenv("LAVM_VK_SEED");
	seed = env ? strtoull(env, NULL, 0) : 0x1a7b5eedull;
	env = getenv("LAVM_VK_PROGRAMS");
	nprog = env ? strtoul(env, NULL, 0) : 2000;
	ret = lavm_vk_open(&vk, device, err, sizeof(err));
	if (ret == -ENODEV) {
		printf("ok 1 # SKIP %s\n1..1\n", err);
		return 0;
	}
	check(!ret, "open Vulkan device %d%s%s", device, ret ? ": " : "", ret ? err : "");
	if (ret) {
		printf("1..%d\n", ntests);
		return 1;
	}
	printf("# device %d: %s%s, seed 0x%llx\n", device, lavm_vk_device_name(vk),
	       lavm_vk_device_is_cpu(vk) ? " (CPU: lavapipe)" : "", (unsigned long long)seed);
	test_arith(vk);
	test_examples(vk);
	test_random(vk, nprog);
	lavm_vk_close(vk);
	printf("1..%d\n", ntests);
	return nfailed ? 1 : 0;
}
