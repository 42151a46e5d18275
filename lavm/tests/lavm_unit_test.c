// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * One test per opcode (and per edge case), with expectations worked out by
 * hand from the semantics in Documentation/lavm.rst; each runs on every
 * engine, with 1 VM and with 300 VMs (two SoA blocks, coherent and masked
 * paths).
 *
 * Expectation syntax: rN=V mN=V ip=N st=STATUS[:FAULT] ep=N sK=V, where V is
 * a float literal or 0xBITS for an exact bit pattern.
 */
#include <errno.h>
#include "lavm_tap.h"

struct unit {
	const char *name;
	const char *src;
	const char *expect;
	uint32_t nshared;
	const char *shared_init;	/* "K=V ..." */
};

static const struct unit units[] = {
	/* linear */
	{ "ADD", "SETI r1, 1.5\nSETI r2, 2.25\nADD r3, r1, r2\nHALT\n", "r3=3.75 r1=1.5 ip=3 st=halted ep=4" },
	{ "ADD same register twice", "SETI r1, 0.75\nADD r2, r1, r1\nHALT\n", "r2=1.5" },
	{ "ADD inf + -inf is the canonical NaN", "SETI r1, inf\nSETI r2, -inf\nADD r3, r1, r2\nHALT\n", "r3=0x7fc00000" },
	{ "ADD -0 + +0 = +0", "SETI r1, -0.0\nSETI r2, 0\nADD r3, r1, r2\nHALT\n", "r3=0x00000000" },
	{ "ADD -0 + -0 = -0", "SETI r1, -0.0\nADD r3, r1, r1\nHALT\n", "r3=0x80000000" },
	{ "ADD rounds once (1 + 2^-24 = 1)", "SETI r1, 1\nSETI r2, 0x1p-24\nADD r3, r1, r2\nHALT\n", "r3=0x3f800000" },
	{ "ADD of two NaN payloads is canonical", "SETI r1, nan:0x7fc00001\nSETI r2, -nan\nADD r3, r2, r1\nHALT\n", "r3=0x7fc00000" },
	{ "SUB", "SETI r1, 5\nSETI r2, 7.5\nSUB r0, r1, r2\nHALT\n", "r0=-2.5" },
	{ "SUB x - x with x = inf is NaN", "SETI r1, inf\nSUB r2, r1, r1\nHALT\n", "r2=0x7fc00000" },
	{ "MOV", "SETI r1, -3.5\nMOV r3, r1\nHALT\n", "r3=-3.5 r1=-3.5" },
	{ "SETI denormal bits", "SETI r2, 0x1p-149\nHALT\n", "r2=0x00000001" },
	{ "SETI nan payload kept", "SETI r2, nan:0x7fc12345\nHALT\n", "r2=0x7fc12345" },
	{ "LOAD/STORE", "SETI r1, 9\nSTORE r1, 15\nLOAD r2, 15\nHALT\n", "m15=9 r2=9 ip=3" },
	{ "COPY", "SETI r1, 4\nSTORE r1, 0\nCOPY 7, 0\nHALT\n", "m7=4 m0=4" },
	{ "CLEAR", "SETI r1, 4\nCLEAR r1\nHALT\n", "r1=0x00000000" },
	{ "NEG", "SETI r1, 2\nNEG r2, r1\nHALT\n", "r2=-2" },
	{ "NEG 0 is -0", "CLEAR r1\nNEG r2, r1\nHALT\n", "r2=0x80000000" },
	{ "NEG flips a NaN's sign", "SETI r1, nan\nNEG r2, r1\nHALT\n", "r2=0xffc00000" },
	{ "SCALE", "SETI r1, 3\nSCALE r2, r1, 0.5\nHALT\n", "r2=1.5" },
	{ "SCALE 0 * inf is NaN", "CLEAR r1\nSCALE r2, r1, inf\nHALT\n", "r2=0x7fc00000" },
	/* oracle */
	{ "MUL", "SETI r1, 3\nSETI r2, -4\nMUL r3, r1, r2\nHALT\n", "r3=-12" },
	{ "MUL overflow to inf", "SETI r1, 1e38\nMUL r3, r1, r1\nHALT\n", "r3=inf" },
	{ "DIV", "SETI r1, 1\nSETI r2, 4\nDIV r3, r1, r2\nHALT\n", "r3=0.25" },
	{ "DIV by 0 is inf", "SETI r1, 1\nCLEAR r2\nDIV r3, r1, r2\nHALT\n", "r3=inf" },
	{ "DIV -1 / +0 is -inf", "SETI r1, -1\nCLEAR r2\nDIV r3, r1, r2\nHALT\n", "r3=-inf" },
	{ "DIV 0 / 0 is NaN", "CLEAR r1\nDIV r3, r1, r1\nHALT\n", "r3=0x7fc00000" },
	{ "MOD", "SETI r1, 7\nSETI r2, 3\nMOD r3, r1, r2\nHALT\n", "r3=1" },
	{ "MOD keeps the dividend's sign", "SETI r1, -7\nSETI r2, 3\nMOD r3, r1, r2\nHALT\n", "r3=-1" },
	{ "MOD fractional", "SETI r1, 5.5\nSETI r2, 2\nMOD r3, r1, r2\nHALT\n", "r3=1.5" },
	{ "MOD by 0 is NaN", "SETI r1, 5\nCLEAR r2\nMOD r3, r1, r2\nHALT\n", "r3=0x7fc00000" },
	{ "MOD inf is NaN", "SETI r1, inf\nSETI r2, 2\nMOD r3, r1, r2\nHALT\n", "r3=0x7fc00000" },
	{ "MOD x by inf is x", "SETI r1, 1.25\nSETI r2, inf\nMOD r3, r1, r2\nHALT\n", "r3=1.25" },
	{ "MOD exact multiple gives signed zero", "SETI r1, -6\nSETI r2, 3\nMOD r3, r1, r2\nHALT\n", "r3=0x80000000" },
	{ "CMP", "SETI r1, 2\nSETI r2, 5\nCMP r3, r1, r2\nHALT\n", "r3=-3" },
	{ "MIN", "SETI r1, 2\nSETI r2, -5\nMIN r3, r1, r2\nHALT\n", "r3=-5" },
	{ "MIN with NaN takes the number", "SETI r1, nan\nSETI r2, 1\nMIN r3, r1, r2\nHALT\n", "r3=1" },
	{ "MIN(+0, -0) = -0", "CLEAR r1\nSETI r2, -0.0\nMIN r3, r1, r2\nHALT\n", "r3=0x80000000" },
	{ "MAX", "SETI r1, 2\nSETI r2, -5\nMAX r3, r1, r2\nHALT\n", "r3=2" },
	{ "MAX(-0, +0) = +0", "SETI r1, -0.0\nCLEAR r2\nMAX r3, r1, r2\nHALT\n", "r3=0x00000000" },
	{ "MAX of two NaNs is canonical", "SETI r1, nan:0x7fc00001\nMAX r3, r1, r1\nHALT\n", "r3=0x7fc00000" },
	{ "ABS", "SETI r1, -2.5\nABS r2, r1\nHALT\n", "r2=2.5" },
	{ "ABS -0 = +0", "SETI r1, -0.0\nABS r2, r1\nHALT\n", "r2=0x00000000" },
	{ "SQRT", "SETI r1, 2.25\nSQRT r2, r1\nHALT\n", "r2=1.5" },
	{ "SQRT -1 is NaN", "SETI r1, -1\nSQRT r2, r1\nHALT\n", "r2=0x7fc00000" },
	{ "SQRT -0 = -0", "SETI r1, -0.0\nSQRT r2, r1\nHALT\n", "r2=0x80000000" },
	{ "SIN 0", "CLEAR r1\nSIN r2, r1\nHALT\n", "r2=0x00000000" },
	{ "SIN -0", "SETI r1, -0.0\nSIN r2, r1\nHALT\n", "r2=0x80000000" },
	{ "SIN pi/2 = 1", "SETI r1, 1.57079637\nSIN r2, r1\nHALT\n", "r2=1" },
	{ "SIN pi/6 = 0.5", "SETI r1, 0.523598790\nSIN r2, r1\nHALT\n", "r2=0.5" },
	{ "SIN inf is NaN", "SETI r1, -inf\nSIN r2, r1\nHALT\n", "r2=0x7fc00000" },
	{ "COS 0 = 1", "CLEAR r1\nCOS r2, r1\nHALT\n", "r2=1" },
	{ "COS pi = -1", "SETI r1, 3.14159274\nCOS r2, r1\nHALT\n", "r2=-1" },
	{ "COS nan is NaN", "SETI r1, nan\nCOS r2, r1\nHALT\n", "r2=0x7fc00000" },
	/* I/O */
	{ "SYSCALL_READ", ".shared 4\nSETI r1, 3\nSYSCALL_READ r2, r1\nHALT\n", "r2=6.5 ip=2 ep=3", 4, "3=6.5" },
	{ "SYSCALL_WRITE", ".shared 4\nSETI r1, 2\nSETI r2, -1.5\nSYSCALL_WRITE r1, r2\nHALT\n", "s2=-1.5 ep=4", 4, "" },
	{ "SYSCALL_READ address -1 faults", ".shared 4\nSETI r1, -1\nSYSCALL_READ r2, r1\nHALT\n", "st=faulted:shared_addr ip=1 ep=2 r2=0", 4, "" },
	{ "SYSCALL_READ address 1.5 faults", ".shared 4\nSETI r1, 1.5\nSYSCALL_READ r2, r1\nHALT\n", "st=faulted:shared_addr ip=1", 4, "" },
	{ "SYSCALL_READ address NaN faults", ".shared 4\nSETI r1, nan\nSYSCALL_READ r2, r1\nHALT\n", "st=faulted:shared_addr ip=1", 4, "" },
	{ "SYSCALL_WRITE address = size faults", ".shared 4\nSETI r1, 4\nSYSCALL_WRITE r1, r1\nHALT\n", "st=faulted:shared_addr ip=1 s3=0", 4, "" },
	{ "SYSCALL_READ address -0 is 0", ".shared 4\nSETI r1, -0.0\nSYSCALL_READ r2, r1\nHALT\n", "r2=7 st=halted", 4, "0=7" },
	{ "YIELD resumes after, sits out one epoch", "YIELD\nSETI r1, 1\nHALT\n", "r1=1 ip=2 ep=4 st=halted" },
	{ "SYSCALL_HALT keeps IP on the HALT", "SETI r1, 1\nSYSCALL_HALT\nSETI r1, 2\nHALT\n", "r1=1 ip=1 ep=2 st=halted" },
	/* branches */
	{ "JUMP", "JUMP t\nSETI r1, 1\nHALT\nt: SETI r2, 2\nHALT\n", "r1=0 r2=2 ip=4 ep=3" },
	{ "CALL/RETURN restores r1..r3, keeps r0",
	  "SETI r1, 1\nSETI r2, 2\nSETI r3, 3\nCALL f\nHALT\nf: SETI r0, 10\nSETI r1, 11\nSETI r2, 12\nSETI r3, 13\nRETURN\n",
	  "r0=10 r1=1 r2=2 r3=3 ip=4 ep=10 st=halted" },
	{ "nested CALL", "CALL f\nHALT\nf: CALL g\nRETURN\ng: SETI r0, 5\nRETURN\n", "r0=5 ip=1 ep=6" },
	{ "RETURN with no frame faults", "SETI r1, 1\nRETURN\n", "st=faulted:stack_underflow ip=1 ep=2" },
};

/*
 * Branch truth table, by hand: columns EQ NE LT GT LE GE.  Negative
 * (c <= -1e-4): 011010; zero (|c| < 1e-4): 100011; positive: 010101;
 * NaN is unordered, only NE: 010000.
 */
static const struct { const char *v; const char *taken; } branch_rows[] = {
	{ "-1", "011010" }, { "-1e-4", "011010" }, { "-5e-5", "100011" },
	{ "-0.0", "100011" }, { "0", "100011" }, { "5e-5", "100011" },
	{ "1e-4", "010101" }, { "2", "010101" }, { "nan", "010000" },
	{ "inf", "010101" }, { "-inf", "011010" },
};
static const char *const branch_ops[] = {
	"BRANCH_EQ", "BRANCH_NE", "BRANCH_LT", "BRANCH_GT", "BRANCH_LE", "BRANCH_GE",
};

static bool parse_val(const char *s, uint32_t *bits)
{
	if (!strncmp(s, "0x", 2) && !strchr(s, 'p')) {
		*bits = strtoul(s, NULL, 16);
		return true;
	}
	if (!strcmp(s, "inf") || !strcmp(s, "-inf")) {
		*bits = s[0] == '-' ? 0xff800000u : 0x7f800000u;
		return true;
	}
	*bits = fbits(strtof(s, NULL));
	return true;
}

static bool check_vm(const struct lavm_job *job, uint32_t i, const char *expect, char *why, size_t wl)
{
	const struct lavm_vm *vm = &job->vms[i];
	char buf[256], *save, *tok;
	bool status_given = false;

	snprintf(buf, sizeof(buf), "%s", expect);
	for (tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(tok, '=');
		uint32_t want, got;

		*eq = 0;
		if (tok[0] == 'r' || tok[0] == 'm') {
			int slot = (tok[0] == 'r' ? LAVM_X_R0 : LAVM_X_MEM0) + atoi(tok + 1);

			parse_val(eq + 1, &want);
			got = fbits(vm->v[slot]);
		} else if (!strcmp(tok, "ip")) {
			want = fbits((float)atoi(eq + 1));
			got = fbits(vm->v[LAVM_X_IP]);
		} else if (!strcmp(tok, "ep")) {
			want = atoi(eq + 1);
			got = vm->epochs;
		} else if (tok[0] == 's' && tok[1] != 't') {
			parse_val(eq + 1, &want);
			got = fbits(job->shared[atoi(tok + 1)]);
		} else {
			char *colon = strchr(eq + 1, ':');

			status_given = true;
			if (colon)
				*colon = 0;
			if (strcmp(lavm_status_name(vm->status), eq + 1) ||
			    (colon && strcmp(lavm_fault_name(vm->fault), colon + 1))) {
				snprintf(why, wl, "vm %u: status %s/%s, want %s", i,
					 lavm_status_name(vm->status), lavm_fault_name(vm->fault), eq + 1);
				return false;
			}
			continue;
		}
		if (want != got) {
			snprintf(why, wl, "vm %u: %s = 0x%08x (%g), want 0x%08x (%g)", i, tok,
				 got, bitsf(got), want, bitsf(want));
			return false;
		}
	}
	if (!status_given && vm->status != LAVM_HALTED) {
		snprintf(why, wl, "vm %u: status %s, want halted", i, lavm_status_name(vm->status));
		return false;
	}
	return true;
}

static void run_unit_max(const char *name, const char *src, const char *expect,
			 uint32_t nshared, const char *shared_init, uint32_t max_epochs)
{
	struct lavm_image img;

	if (assemble_str(src, &img)) {
		tap_ok(0, "%s: assembles", name);
		return;
	}
	for (size_t e = 0; e < NENGINES; e++) {
		static const uint32_t counts[] = { 1, 300 };
		bool ok = true;
		char why[200] = "";

		for (int ci = 0; ci < 2 && ok; ci++) {
			struct lavm_job job;

			if (lavm_job_alloc(&job, &img.prog, counts[ci], nshared, max_epochs))
				abort();
			if (shared_init) {
				char buf[128], *save, *tok;

				snprintf(buf, sizeof(buf), "%s", shared_init);
				for (tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
					job.shared[atoi(tok)] = strtof(strchr(tok, '=') + 1, NULL);
			}
			run_cfg(&engine_cfgs[e], &job);
			for (uint32_t i = 0; i < job.nvms && ok; i++)
				ok = check_vm(&job, i, expect, why, sizeof(why));
			lavm_job_free(&job);
		}
		tap_ok(ok, "%s [%s]%s%s", name, engine_cfgs[e].name, ok ? "" : ": ", why);
	}
	lavm_image_free(&img);
}

static void run_unit(const char *name, const char *src, const char *expect,
		     uint32_t nshared, const char *shared_init)
{
	run_unit_max(name, src, expect, nshared, shared_init, 1000);
}

/* Faults that verified programs cannot reach: a caller-made state. */
static void test_state_faults(void)
{
	struct lavm_image img;

	if (assemble_str("CALL f\nHALT\nf: RETURN\n", &img))
		abort();
	for (size_t e = 0; e < NENGINES; e++) {
		struct lavm_job job;
		bool ok;

		if (lavm_job_alloc(&job, &img.prog, 3, 0, 100))
			abort();
		job.vms[0].sp = img.prog.max_call_depth;	/* stack full */
		job.vms[1].v[LAVM_X_IP] = 1.5f;			/* not an instruction */
		job.vms[2].sp = 7;				/* more frames than the bound */
		run_cfg(&engine_cfgs[e], &job);
		ok = job.vms[0].status == LAVM_FAULTED && job.vms[0].fault == LAVM_FAULT_STACK_OVERFLOW &&
		     job.vms[0].v[LAVM_X_IP] == 0.0f && job.vms[0].epochs == 1 &&
		     job.vms[1].status == LAVM_FAULTED && job.vms[1].fault == LAVM_FAULT_BAD_IP &&
		     job.vms[1].v[LAVM_X_IP] == 1.5f && job.vms[1].epochs == 1 &&
		     job.vms[2].status == LAVM_FAULTED && job.vms[2].fault == LAVM_FAULT_BAD_STATE &&
		     job.vms[2].epochs == 0;
		tap_ok(ok, "stack overflow, bad IP and bad state fault only their VM [%s]",
		       engine_cfgs[e].name);
		lavm_job_free(&job);
	}
	lavm_image_free(&img);
}

/* max_epochs stops mid-program, mid-yield; every engine stops at the same place. */
static void test_max_epochs(void)
{
	/* SETI, then (ADD, JUMP) pairs: epoch 6 is the third ADD */
	run_unit_max("max_epochs stops a VM where the reference does",
		     "SETI r1, 1\nloop: ADD r2, r2, r1\nJUMP loop\n", "r2=3 ip=2 ep=6 st=running",
		     0, NULL, 6);
	/* SETI, YIELD: the budget ends before the epoch it would sit out */
	run_unit_max("max_epochs right after a YIELD leaves it yielded",
		     "SETI r1, 1\nYIELD\nHALT\n", "ip=2 ep=2 st=yielded", 0, NULL, 2);
	run_unit_max("max_epochs 0 runs nothing", "SETI r1, 1\nHALT\n", "r1=0 ip=0 ep=0 st=running",
		     0, NULL, 0);
}

/*
 * Capabilities on data (struct lavm_acl), by hand.  Shared memory of 16
 * words, segments of 4 words: 0..3, 4..7, 8..11 (nseg 3); 12..15 lie in no
 * segment.  VM i is in domain i % ndom; shared word k starts as 100 + k.
 */
struct acl_unit {
	const char *name;
	const char *src;
	uint64_t allow[3];
	uint32_t ndom;
	const char *expect[3];	/* per domain */
};

static const struct acl_unit acl_units[] = {
	{ "READ of the own segment", ".shared 16\nSETI r1, 1\nSYSCALL_READ r2, r1\nHALT\n",
	  { 1, 0, 0 }, 1, { "r2=101 ip=2 ep=3 st=halted" } },
	{ "READ of a foreign segment faults access, IP stays",
	  ".shared 16\nSETI r1, 5\nSYSCALL_READ r2, r1\nHALT\n",
	  { 1, 0, 0 }, 1, { "r2=0 r1=5 ip=1 ep=2 st=faulted:access" } },
	{ "READ of a foreign segment the mask allows",
	  ".shared 16\nSETI r1, 5\nSYSCALL_READ r2, r1\nHALT\n",
	  { 3, 0, 0 }, 1, { "r2=105 ip=2 ep=3 st=halted" } },
	{ "READ past nseg * seg_words faults access even with every bit set",
	  ".shared 16\nSETI r1, 12\nSYSCALL_READ r2, r1\nHALT\n",
	  { ~0ull, 0, 0 }, 1, { "r2=0 ip=1 ep=2 st=faulted:access" } },
	{ "READ of the last word of the last segment",
	  ".shared 16\nSETI r1, 11\nSYSCALL_READ r2, r1\nHALT\n",
	  { 4, 0, 0 }, 1, { "r2=111 ip=2 st=halted" } },
	{ "an invalid index is still shared_addr, not access",
	  ".shared 16\nSETI r1, 16\nSYSCALL_READ r2, r1\nHALT\n",
	  { 0, 0, 0 }, 1, { "ip=1 st=faulted:shared_addr" } },
	{ "WRITE to a foreign segment faults access and writes nothing",
	  ".shared 16\nSETI r1, 9\nSETI r2, -2\nSYSCALL_WRITE r1, r2\nHALT\n",
	  { 1, 0, 0 }, 1, { "ip=2 ep=3 st=faulted:access s9=109" } },
	{ "WRITE to an allowed segment",
	  ".shared 16\nSETI r1, 9\nSETI r2, -2\nSYSCALL_WRITE r1, r2\nHALT\n",
	  { 4, 0, 0 }, 1, { "ip=3 ep=4 st=halted s9=-2" } },
	/*
	 * Three domains side by side: 0 may use segment 0, 1 segments 0-1,
	 * 2 segments 1-2.  Each VM writes 42 to word 8 (segment 2), then
	 * reads word 4 (segment 1): domains 0 and 1 fault at the WRITE, 2
	 * runs through; the faults touch no other VM.
	 */
	{ "three domains: each VM faults or not by its own domain",
	  ".shared 16\nSETI r1, 8\nSETI r3, 42\nSYSCALL_WRITE r1, r3\nSETI r1, 4\n"
	  "SYSCALL_READ r2, r1\nHALT\n",
	  { 1, 3, 6 }, 3,
	  { "ip=2 ep=3 r2=0 st=faulted:access", "ip=2 ep=3 r2=0 st=faulted:access",
	    "ip=5 ep=6 r2=104 st=halted s8=42" } },
};

static void test_acl(void)
{
	for (size_t u = 0; u < sizeof(acl_units) / sizeof(acl_units[0]); u++) {
		const struct acl_unit *t = &acl_units[u];
		struct lavm_image img;

		if (assemble_str(t->src, &img)) {
			tap_ok(0, "acl: %s: assembles", t->name);
			continue;
		}
		for (size_t e = 0; e < NENGINES; e++) {
			static const uint32_t counts[] = { 3, 300 };
			bool ok = true;
			char why[200] = "";

			for (int ci = 0; ci < 2 && ok; ci++) {
				struct lavm_acl acl = { .allow = t->allow, .seg_words = 4, .nseg = 3 };
				uint8_t dom[300];
				struct lavm_job job;

				if (lavm_job_alloc(&job, &img.prog, counts[ci], 16, 1000))
					abort();
				for (uint32_t i = 0; i < job.nvms; i++)
					dom[i] = i % t->ndom;
				for (uint32_t k = 0; k < 16; k++)
					job.shared[k] = 100.0f + k;
				acl.dom = dom;
				job.acl = &acl;
				ok = run_cfg(&engine_cfgs[e], &job) >= 0;
				for (uint32_t i = 0; i < job.nvms && ok; i++)
					ok = check_vm(&job, i, t->expect[dom[i]], why, sizeof(why));
				lavm_job_free(&job);
			}
			tap_ok(ok, "acl: %s [%s]%s%s", t->name, engine_cfgs[e].name, ok ? "" : ": ", why);
		}
		lavm_image_free(&img);
	}
}

/* lavm_acl_check() and lavm_engine_run() refuse malformed tables. */
static void test_acl_check(void)
{
	static const uint64_t allow[65] = { 1, 2 };
	uint8_t dom[2] = { 0, 1 };
	struct lavm_acl good = { dom, allow, 4, 2 }, bad;
	struct lavm_image img;
	struct lavm_job job;

	tap_ok(lavm_acl_check(&good, 2) == LAVM_OK, "lavm_acl_check accepts a well-formed table");
	bad = good;
	bad.nseg = 0;
	tap_ok(lavm_acl_check(&bad, 2) == LAVM_E_LIMIT, "lavm_acl_check: nseg 0 is refused");
	bad.nseg = LAVM_ACL_MAX_SEG + 1;
	tap_ok(lavm_acl_check(&bad, 2) == LAVM_E_LIMIT, "lavm_acl_check: nseg 65 is refused");
	bad = good;
	bad.seg_words = 0;
	tap_ok(lavm_acl_check(&bad, 2) == LAVM_E_LIMIT, "lavm_acl_check: seg_words 0 is refused");
	bad = good;
	bad.nseg = 1;
	tap_ok(lavm_acl_check(&bad, 2) == LAVM_E_LIMIT, "lavm_acl_check: a domain >= nseg is refused");
	tap_ok(lavm_acl_check(&bad, 1) == LAVM_OK, "lavm_acl_check only looks at nvms domains");
	if (assemble_str("HALT\n", &img) || lavm_job_alloc(&job, &img.prog, 2, 8, 10))
		abort();
	job.acl = &bad;
	tap_ok(lavm_engine_run(&job, LAVM_ENGINE_EPOCH, 1) == -EINVAL &&
	       lavm_engine_run(&job, LAVM_ENGINE_REF, 1) == -EINVAL,
	       "lavm_engine_run refuses a job with a malformed table");
	lavm_job_free(&job);
	lavm_image_free(&img);
}

int main(void)
{
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		run_unit(units[i].name, units[i].src, units[i].expect, units[i].nshared,
			 units[i].shared_init);
	for (size_t v = 0; v < sizeof(branch_rows) / sizeof(branch_rows[0]); v++) {
		for (int o = 0; o < 6; o++) {
			char src[200], name[80], expect[32];

			snprintf(src, sizeof(src), "SETI r1, %s\n%s r1, t\nSETI r2, 0\nHALT\nt: SETI r2, 1\nHALT\n",
				 branch_rows[v].v, branch_ops[o]);
			snprintf(name, sizeof(name), "%s on %s", branch_ops[o], branch_rows[v].v);
			snprintf(expect, sizeof(expect), "r2=%c ip=%d ep=4",
				 branch_rows[v].taken[o], branch_rows[v].taken[o] == '1' ? 5 : 3);
			run_unit(name, src, expect, 0, NULL);
		}
	}
	test_state_faults();
	test_max_epochs();
	test_acl();
	test_acl_check();
	return tap_done();
}
