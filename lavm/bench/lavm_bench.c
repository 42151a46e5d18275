// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * lavm_bench - every engine on the same workloads, side by side, with
 * LuaJIT running the same programs translated to Lua (one function call per
 * VM instance).
 *
 * Rates are VM-instructions per second: instructions the VMs executed (the
 * sum of per-VM epochs) divided by wall time.  The slow baselines (reference,
 * switch, dense) run on a sample of the VMs (at most --sample); their rate
 * is per VM-instruction, so it compares directly.
 *
 * usage: lavm_bench [--quick] [--sizes 1000,100000] [--threads T] [--sample S]
 *                   [--no-lua] [--work W] [--acl]
 *
 * --acl runs every job under an access-control table that allows everything
 * (one domain, one segment): the cost of the checks themselves.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "lavm_host.h"

struct workload {
	const char *name;
	const char *what;
	const char *src;	/* %u: loop count; %u: second constant (some) */
	uint32_t insns_per_iter;
	bool io;		/* uses shared memory: K reads per VM + 1 write */
};

/*
 * The seed's counting loop (corrected), with a loop count; mem5 starts at the
 * VM index so that no engine can compute one instance for all.
 */
static const char src_loop[] =
	"	STORE r0, 5\n	SETI r0, 0\n	SETI r1, 1\nl:	LOAD r2, 5\n	ADD r2, r2, r0\n	STORE r2, 5\n"
	"	ADD r0, r0, r1\n	SETI r3, %u\n	SUB r3, r3, r0\n	BRANCH_GT r3, l\n	HALT\n";

/* The seed's function call, called in a loop. */
static const char src_call[] =
	"	CLEAR r3\nl:	SETI r1, 1.0001\n	CALL f\n	SETI r1, 1\n	ADD r3, r3, r1\n"
	"	SETI r2, %u\n	SUB r2, r2, r3\n	BRANCH_GT r2, l\n	STORE r0, 15\n	HALT\n"
	"f:	MUL r0, r0, r1\n	RETURN\n";

/* Numerical mix: mostly linear, some MUL/SIN, as the seed's "Program A". */
static const char src_numeric[] =
	"	SCALE r1, r0, 0.001\n	CLEAR r3\n	STORE r3, 0\n"
	"l:	MUL r2, r1, r1\n	SCALE r2, r2, -0.5\n	ADD r2, r2, r1\n	SIN r2, r2\n"
	"	ADD r1, r1, r2\n	SCALE r1, r1, 0.5\n	LOAD r3, 0\n	SETI r2, 1\n	ADD r3, r3, r2\n"
	"	STORE r3, 0\n	SETI r2, %u\n	SUB r2, r2, r3\n	BRANCH_GT r2, l\n	STORE r1, 1\n	HALT\n";

/* Branch-heavy: a Collatz-like walk whose path depends on the VM index. */
static const char src_branchy[] =
	"	MOV r1, r0\n	CLEAR r3\n	STORE r3, 0\n"
	"l:	SETI r2, 2\n	MOD r2, r1, r2\n	BRANCH_EQ r2, even\n	SCALE r1, r1, 3\n"
	"	SETI r2, 1\n	ADD r1, r1, r2\n	JUMP next\neven:	SCALE r1, r1, 0.5\n"
	"next:	SETI r2, 1000\n	MOD r1, r1, r2\n	LOAD r3, 0\n	SETI r2, 1\n	ADD r3, r3, r2\n"
	"	STORE r3, 0\n	SETI r2, %u\n	SUB r2, r2, r3\n	BRANCH_GT r2, l\n	STORE r1, 1\n	HALT\n";

/* Shared-memory reduction: VM i sums K inputs and writes one partial sum. */
static const char src_reduce[] =
	"	SCALE r1, r0, %u\n	CLEAR r3\n	STORE r3, 0\n	STORE r3, 1\n"
	"l:	SYSCALL_READ r2, r1\n	LOAD r3, 1\n	ADD r3, r3, r2\n	STORE r3, 1\n	SETI r2, 1\n"
	"	ADD r1, r1, r2\n	LOAD r3, 0\n	ADD r3, r3, r2\n	STORE r3, 0\n	SETI r2, %u\n"
	"	SUB r2, r2, r3\n	BRANCH_GT r2, l\n	SETI r2, %u\n	ADD r2, r2, r0\n	LOAD r3, 1\n"
	"	SYSCALL_WRITE r2, r3\n	HALT\n";

static const struct workload workloads[] = {
	{ "loop", "seed counting loop", src_loop, 7, false },
	{ "call", "seed call in a loop", src_call, 9, false },
	{ "numeric", "numerical mix", src_numeric, 13, false },
	{ "branchy", "branch-heavy", src_branchy, 15, false },
	{ "reduce", "shared reduction", src_reduce, 12, true },
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ------------------------------------------------------------ LuaJIT */

static void lua_num(FILE *f, uint32_t bits)
{
	float x;

	memcpy(&x, &bits, 4);
	if (isnan(x))
		fputs("(0/0)", f);
	else if (isinf(x))
		fputs(x < 0 ? "(-1/0)" : "(1/0)", f);
	else
		fprintf(f, "%.9g", x);
}

static const char *lua_cond(uint32_t op)
{
	switch (op) {
	case LAVM_OP_BEQ: return "(r%u < 1e-4 and r%u > -1e-4)";
	case LAVM_OP_BNE: return "not (r%u < 1e-4 and r%u > -1e-4)";
	case LAVM_OP_BLT: return "r%u <= -1e-4";
	case LAVM_OP_BGT: return "r%u >= 1e-4";
	case LAVM_OP_BLE: return "r%u < 1e-4";
	default: return "r%u > -1e-4";
	}
}

static void lua_stmt(FILE *f, const struct lavm_insn *in)
{
	const uint32_t *a = in->a;

	switch (in->op) {
	case LAVM_OP_ADD: fprintf(f, "r%u = r%u + r%u\n", a[0], a[1], a[2]); break;
	case LAVM_OP_SUB: case LAVM_OP_CMP: fprintf(f, "r%u = r%u - r%u\n", a[0], a[1], a[2]); break;
	case LAVM_OP_MOV: fprintf(f, "r%u = r%u\n", a[0], a[1]); break;
	case LAVM_OP_SETI: fprintf(f, "r%u = ", a[0]); lua_num(f, a[1]); fputc('\n', f); break;
	case LAVM_OP_LOAD: fprintf(f, "r%u = m%u\n", a[0], a[1]); break;
	case LAVM_OP_STORE: fprintf(f, "m%u = r%u\n", a[1], a[0]); break;
	case LAVM_OP_COPY: fprintf(f, "m%u = m%u\n", a[0], a[1]); break;
	case LAVM_OP_CLEAR: fprintf(f, "r%u = 0\n", a[0]); break;
	case LAVM_OP_NEG: fprintf(f, "r%u = -r%u\n", a[0], a[1]); break;
	case LAVM_OP_SCALE: fprintf(f, "r%u = r%u * ", a[0], a[1]); lua_num(f, a[2]); fputc('\n', f); break;
	case LAVM_OP_MUL: fprintf(f, "r%u = r%u * r%u\n", a[0], a[1], a[2]); break;
	case LAVM_OP_DIV: fprintf(f, "r%u = r%u / r%u\n", a[0], a[1], a[2]); break;
	case LAVM_OP_MOD: fprintf(f, "r%u = fmod(r%u, r%u)\n", a[0], a[1], a[2]); break;
	case LAVM_OP_MIN: fprintf(f, "r%u = min(r%u, r%u)\n", a[0], a[1], a[2]); break;
	case LAVM_OP_MAX: fprintf(f, "r%u = max(r%u, r%u)\n", a[0], a[1], a[2]); break;
	case LAVM_OP_ABS: fprintf(f, "r%u = abs(r%u)\n", a[0], a[1]); break;
	case LAVM_OP_SQRT: fprintf(f, "r%u = sqrt(r%u)\n", a[0], a[1]); break;
	case LAVM_OP_SIN: fprintf(f, "r%u = sin(r%u)\n", a[0], a[1]); break;
	case LAVM_OP_COS: fprintf(f, "r%u = cos(r%u)\n", a[0], a[1]); break;
	case LAVM_OP_READ: fprintf(f, "r%u = shared[r%u]\n", a[0], a[1]); break;
	case LAVM_OP_WRITE: fprintf(f, "shared[r%u] = r%u\n", a[0], a[1]); break;
	case LAVM_OP_YIELD: fputs("-- yield\n", f); break;
	default: fputs("-- ?\n", f); break;
	}
}

/*
 * The same program in Lua, written the way a person would so that LuaJIT
 * can compile it: registers and VM memory are locals, a backward
 * conditional branch becomes repeat ... until, forward branches are gotos,
 * and a CALL of a straight-line function is inlined with r1..r3 saved (what
 * a JIT does with a small function).  Lua numbers are doubles: the work is
 * the same, the rounding is not (only the speed is compared).  Programs
 * outside this shape are not translated.
 */
static int write_lua(const struct lavm_prog *p, const char *path, uint32_t nvms, uint32_t nshared)
{
	uint32_t n = p->ninsns;
	bool *label = calloc(n + 1, 1), *func = calloc(n + 1, 1);
	uint32_t *loops = calloc(n + 1, sizeof(uint32_t));
	FILE *f;

	if (!label || !func || !loops)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		const struct lavm_insn *in = &p->insns[i];

		if (in->op == LAVM_OP_CALL) {
			for (uint32_t t = in->a[0]; t < n; t++) {
				func[t] = true;
				if (p->insns[t].op == LAVM_OP_RETURN)
					break;
				if (lavm_isa(p->insns[t].op)->cls != LAVM_CLASS_LINEAR &&
				    lavm_isa(p->insns[t].op)->cls != LAVM_CLASS_ORACLE)
					return -EINVAL;
			}
		} else if (in->op >= LAVM_OP_BEQ && in->op <= LAVM_OP_BGE) {
			if (in->a[1] <= i)
				loops[in->a[1]]++;
			else
				label[in->a[1]] = true;
		} else if (in->op == LAVM_OP_JUMP) {
			if (in->a[0] <= i)
				return -EINVAL;
			label[in->a[0]] = true;
		}
	}
	f = fopen(path, "w");
	if (!f)
		return -errno;
	fprintf(f, "local ffi = require('ffi')\n"
		   "local fmod, sqrt, sin, cos, abs, min, max = math.fmod, math.sqrt, math.sin, math.cos, math.abs, math.min, math.max\n"
		   "local N, S = %u, %u\n"
		   "local shared = ffi.new('float[?]', S + 1)\n"
		   "for i = 0, S - 1 do shared[i] = i %% 7 end\n"
		   "local function vm(idx)\n"
		   "  local r0, r1, r2, r3 = idx, 0, 0, 0\n"
		   "  local m0, m1, m2, m3, m4, m5, m6, m7, m8, m9, m10, m11, m12, m13, m14, m15 = 0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0\n",
		nvms, nshared);
	for (uint32_t i = 0; i < n; i++) {
		const struct lavm_insn *in = &p->insns[i];

		if (func[i])
			continue;
		if (label[i])
			fprintf(f, "  ::L%u::\n", i);
		for (uint32_t k = 0; k < loops[i]; k++)
			fputs("  repeat\n", f);
		fputs("  ", f);
		if (in->op == LAVM_OP_HALT) {
			fputs("goto done\n", f);
		} else if (in->op >= LAVM_OP_BEQ && in->op <= LAVM_OP_BGE) {
			if (in->a[1] <= i) {
				fputs("until not (", f);
				fprintf(f, lua_cond(in->op), in->a[0], in->a[0]);
				fputs(")\n", f);
			} else {
				fputs("if ", f);
				fprintf(f, lua_cond(in->op), in->a[0], in->a[0]);
				fprintf(f, " then goto L%u end\n", in->a[1]);
			}
		} else if (in->op == LAVM_OP_JUMP) {
			fprintf(f, "goto L%u\n", in->a[0]);
		} else if (in->op == LAVM_OP_CALL) {
			fputs("do local s1, s2, s3 = r1, r2, r3\n", f);
			for (uint32_t t = in->a[0]; p->insns[t].op != LAVM_OP_RETURN; t++) {
				fputs("    ", f);
				lua_stmt(f, &p->insns[t]);
			}
			fputs("    r1, r2, r3 = s1, s2, s3 end\n", f);
		} else {
			lua_stmt(f, in);
		}
	}
	fputs("  ::done::\n"
	      "  return r0 + r1 + r2 + r3 + m0 + m1 + m5 + m15\n"
	      "end\n"
	      "local sum = 0\n"
	      "vm(0)\n"
	      "local t0 = os.clock()\n"
	      "for i = 0, N - 1 do sum = sum + vm(i) end\n"
	      "local t = os.clock() - t0\n"
	      "io.write(string.format('%.9f %.17g\\n', t, sum))\n", f);
	free(label);
	free(func);
	free(loops);
	return fclose(f) ? -errno : 0;
}

static double run_lua(const char *path)
{
	char cmd[512];
	double t = -1, sum;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "luajit %s 2>/dev/null", path);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	if (fscanf(p, "%lf %lf", &t, &sum) != 2)
		t = -1;
	if (pclose(p))
		t = -1;
	return t;
}

/* ------------------------------------------------------------ harness */

struct result {
	double rate;		/* VM-instructions per second */
	uint64_t insns;
};

static void fill_shared(struct lavm_job *job)
{
	for (uint32_t i = 0; i < job->nshared; i++)
		job->shared[i] = (float)(i % 7);
}

static bool with_acl;

static struct result time_engine(const struct lavm_prog *prog, uint32_t nvms, uint32_t nshared,
				 enum lavm_engine_kind kind, unsigned int threads)
{
	static const uint64_t allow_all = 1;
	struct result r = { 0, 0 };
	struct lavm_acl acl = { NULL, &allow_all, 1, 1 };
	struct lavm_job job;
	double t;

	if (lavm_job_alloc(&job, prog, nvms, nshared, 0xffffffffu))
		return r;
	fill_shared(&job);
	if (with_acl) {
		acl.dom = calloc(nvms, 1);
		acl.seg_words = job.nshared ? job.nshared : 1;
		job.acl = &acl;
	}
	t = now();
	if (lavm_engine_run(&job, kind, threads) < 0) {
		free((void *)acl.dom);
		lavm_job_free(&job);
		return r;
	}
	t = now() - t;
	for (uint32_t i = 0; i < nvms; i++)
		r.insns += job.vms[i].epochs;
	r.rate = r.insns / t;
	free((void *)acl.dom);
	lavm_job_free(&job);
	return r;
}

static void print_rate(double rate)
{
	if (rate <= 0)
		printf(" %9s", "-");
	else if (rate >= 1e9)
		printf(" %8.2fG", rate / 1e9);
	else
		printf(" %8.1fM", rate / 1e6);
}

int main(int argc, char **argv)
{
	uint32_t sizes[8] = { 1000, 10000, 100000, 1000000 }, nsizes = 4, sample = 10000;
	unsigned int threads = sysconf(_SC_NPROCESSORS_ONLN) > 1 ? 2 : 1;
	double work = 1e9;	/* VM-instructions per measurement of the fast engines */
	double slow_work = 5e7;	/* the same for ref and switch; dense gets a fifth */
	bool lua = true;
	char luapath[] = "/tmp/lavm_bench_XXXXXX.lua";
	int fd;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick")) {
			sizes[0] = 1000; sizes[1] = 100000; nsizes = 2; work = 2e8; slow_work = 1e7;
		} else if (!strcmp(argv[i], "--no-lua")) {
			lua = false;
		} else if (!strcmp(argv[i], "--acl")) {
			with_acl = true;
		} else if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
			threads = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--sample") && i + 1 < argc) {
			sample = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--work") && i + 1 < argc) {
			work = atof(argv[++i]);
		} else if (!strcmp(argv[i], "--sizes") && i + 1 < argc) {
			char *s = argv[++i], *tok, *save;

			nsizes = 0;
			for (tok = strtok_r(s, ",", &save); tok && nsizes < 8; tok = strtok_r(NULL, ",", &save))
				sizes[nsizes++] = atoi(tok);
		} else {
			fprintf(stderr, "usage: lavm_bench [--quick] [--sizes N,N] [--threads T] "
				"[--sample S] [--work W] [--no-lua] [--acl]\n");
			return 2;
		}
	}
	fd = mkstemps(luapath, 4);
	if (fd < 0)
		return 1;
	close(fd);
	if (lua && system("luajit -v >/dev/null 2>&1")) {
		fprintf(stderr, "lavm_bench: luajit not found; the LuaJIT column stays empty\n");
		lua = false;
	}
	printf("lavm benchmark: VM-instructions per second (M = 10^6, G = 10^9)\n");
	printf("epoch engine: %s vectors, %u thread(s); ref/switch timed on <= %u VMs (<= %.0e VM-instructions), dense on a fifth\n",
	       lavm_engine_isa(), threads, sample, slow_work);
	printf("bytes per VM: 128 (state) + 16 per call frame; the epoch engine adds a 112-byte SoA copy\n");
	printf("access control: %s\n\n", with_acl ? "every job under a table that allows everything (--acl)" :
	       "none (job->acl NULL)");
	printf("%-8s %8s %7s %9s %9s %9s %9s %9s %9s %8s %8s\n", "workload", "N", "ins/VM",
	       "ref", "switch", "dense", "epoch1T", "epoch", "luajit", "ep/lua", "ep/dense");
	for (size_t w = 0; w < sizeof(workloads) / sizeof(workloads[0]); w++) {
		const struct workload *wl = &workloads[w];

		for (uint32_t si = 0; si < nsizes; si++) {
			uint32_t n = sizes[si], iters, nshared = 0, k = 8;
			char src[2048];
			struct lavm_image img;
			struct result ref, sw, dn, e1, e2;
			double lua_rate = -1;

			iters = (uint32_t)(work / ((double)n * wl->insns_per_iter));
			iters = iters < 10 ? 10 : iters > 100000 ? 100000 : iters;
			if (wl->io) {
				iters = k;
				nshared = n * k + n;
				if (nshared > LAVM_MAX_SHARED)
					continue;
				snprintf(src, sizeof(src), wl->src, k, k, n * k);
			} else {
				snprintf(src, sizeof(src), wl->src, iters);
			}
			if (lavm_assemble(wl->name, src, strlen(src), &img, stderr))
				return 1;
			double per_vm = wl->io ? 105.0 : (double)iters * wl->insns_per_iter;
			uint32_t ns = n < sample ? n : sample, nd;

			if (ns > slow_work / per_vm)
				ns = slow_work / per_vm > 1 ? (uint32_t)(slow_work / per_vm) : 1;
			nd = ns / 5 ? ns / 5 : 1;

			if (wl->io) {
				/* the sampled run needs its own program: addresses depend on N */
				struct lavm_image simg;

				snprintf(src, sizeof(src), wl->src, k, k, ns * k);
				lavm_assemble(wl->name, src, strlen(src), &simg, stderr);
				ref = time_engine(&simg.prog, ns, ns * k + ns, LAVM_ENGINE_REF, 1);
				sw = time_engine(&simg.prog, ns, ns * k + ns, LAVM_ENGINE_SWITCH, 1);
				dn = time_engine(&simg.prog, ns, ns * k + ns, LAVM_ENGINE_DENSE, 1);
				(void)nd;
				lavm_image_free(&simg);
			} else {
				ref = time_engine(&img.prog, ns, 0, LAVM_ENGINE_REF, 1);
				sw = time_engine(&img.prog, ns, 0, LAVM_ENGINE_SWITCH, 1);
				dn = time_engine(&img.prog, nd, 0, LAVM_ENGINE_DENSE, 1);
			}
			e1 = time_engine(&img.prog, n, nshared, LAVM_ENGINE_EPOCH, 1);
			e2 = time_engine(&img.prog, n, nshared, LAVM_ENGINE_EPOCH, threads);
			if (lua && !write_lua(&img.prog, luapath, n, nshared)) {
				double t = run_lua(luapath);

				if (getenv("LAVM_BENCH_KEEP_LUA")) {
					char keep[300];

					snprintf(keep, sizeof(keep), "cp %s /tmp/lavm_bench_%s_%u.lua", luapath, wl->name, n);
					if (system(keep))
						fprintf(stderr, "lavm_bench: %s failed\n", keep);
				}

				if (t > 0)
					lua_rate = e2.insns / t;
			}
			printf("%-8s %8u %7llu", wl->name, n, (unsigned long long)(e2.insns / n));
			print_rate(ref.rate);
			print_rate(sw.rate);
			print_rate(dn.rate);
			print_rate(e1.rate);
			print_rate(e2.rate);
			print_rate(lua_rate);
			if (lua_rate > 0)
				printf(" %7.2fx", e2.rate / lua_rate);
			else
				printf(" %8s", "-");
			printf(" %7.1fx\n", dn.rate > 0 ? e2.rate / dn.rate : 0);
			fflush(stdout);
			lavm_image_free(&img);
		}
	}
	unlink(luapath);
	printf("\nep/lua: epoch engine (%u threads) over LuaJIT (1 thread, doubles); "
	       "ep/dense: over the seed's dense mat-vec\n", threads);
	return 0;
}
