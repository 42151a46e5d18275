// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The verifier rejects what an engine could not run safely, and says where.
 */
#include "lavm_tap.h"

static const char base_src[] =
	".stack 2\n.shared 4\n"
	"SETI r1, 2\n"			/* 0 */
	"LOAD r2, 3\n"			/* 1 */
	"BRANCH_GT r1, t\n"		/* 2 */
	"CALL f\n"			/* 3 */
	"t: SCALE r3, r1, 0.5\n"	/* 4 */
	"HALT\n"			/* 5 */
	"f: MUL r0, r1, r2\n"		/* 6 */
	"RETURN\n";			/* 7 */

struct mutation {
	const char *name;
	int code;
	uint32_t insn, operand;
	void (*apply)(struct lavm_prog *p, struct lavm_insn *in, float *m);
};

static void m_opcode(struct lavm_prog *p, struct lavm_insn *in, float *m) { (void)p; (void)m; in[3].op = 30; }
static void m_opcode_big(struct lavm_prog *p, struct lavm_insn *in, float *m) { (void)p; (void)m; in[5].op = 0xffffffffu; }
static void m_reg(struct lavm_prog *p, struct lavm_insn *in, float *m) { (void)p; (void)m; in[6].a[2] = 4; }
static void m_mem(struct lavm_prog *p, struct lavm_insn *in, float *m) { (void)p; (void)m; in[1].a[1] = 16; }
static void m_unused(struct lavm_prog *p, struct lavm_insn *in, float *m) { (void)p; (void)m; in[5].a[3] = 1; }
static void m_target(struct lavm_prog *p, struct lavm_insn *in, float *m) { (void)p; (void)m; in[2].a[1] = 8; }
static void m_call(struct lavm_prog *p, struct lavm_insn *in, float *m) { (void)p; (void)m; in[3].a[0] = 1000; }
static void m_falloff(struct lavm_prog *p, struct lavm_insn *in, float *m) { (void)p; (void)m; in[7].op = LAVM_OP_YIELD; in[7].a[0] = 0; }
static void m_matrix(struct lavm_prog *p, struct lavm_insn *in, float *m) { (void)p; (void)in; m[LAVM_MAT + 5] = 1e-30f; }
static void m_matrix_nan(struct lavm_prog *p, struct lavm_insn *in, float *m)
{
	(void)p; (void)in;
	/* SCALE r3, r1, 0.5: put a NaN where the 0.5 is; bits must match exactly */
	m[2 * LAVM_MAT + 4 * LAVM_DIM + 2] = __builtin_nanf("");
}
static void m_matrix_insn(struct lavm_prog *p, struct lavm_insn *in, float *m) { (void)p; (void)m; in[0].a[1] = fbits(3.0f); }
static void m_nlinear(struct lavm_prog *p, struct lavm_insn *in, float *m) { (void)in; (void)m; p->nlinear = 2; }
static void m_nlinear_more(struct lavm_prog *p, struct lavm_insn *in, float *m) { (void)in; (void)m; p->nlinear = 4; }
static void m_depth(struct lavm_prog *p, struct lavm_insn *in, float *m) { (void)in; (void)m; p->max_call_depth = 0; }
static void m_depth_big(struct lavm_prog *p, struct lavm_insn *in, float *m) { (void)in; (void)m; p->max_call_depth = 65; }
static void m_recursion(struct lavm_prog *p, struct lavm_insn *in, float *m) { (void)p; (void)m; in[6].op = LAVM_OP_CALL; in[6].a[0] = 6; in[6].a[1] = in[6].a[2] = 0; }
static void m_mutual(struct lavm_prog *p, struct lavm_insn *in, float *m)
{
	/* f calls t, t falls into HALT... make t call f: f -> t -> f */
	(void)p; (void)m;
	in[6].op = LAVM_OP_CALL; in[6].a[0] = 4; in[6].a[1] = in[6].a[2] = 0;
	in[5].op = LAVM_OP_CALL; in[5].a[0] = 6;
}
static void m_entry(struct lavm_prog *p, struct lavm_insn *in, float *m) { (void)in; (void)m; p->entry = 8; }
static void m_empty(struct lavm_prog *p, struct lavm_insn *in, float *m) { (void)in; (void)m; p->ninsns = 0; }
static void m_shared(struct lavm_prog *p, struct lavm_insn *in, float *m) { (void)in; (void)m; p->shared_size = LAVM_MAX_SHARED + 1; }

static const struct mutation mutations[] = {
	{ "opcode in the reserved I/O range", LAVM_E_OPCODE, 3, ~0u, m_opcode },
	{ "opcode 0xffffffff", LAVM_E_OPCODE, 5, ~0u, m_opcode_big },
	{ "register r4", LAVM_E_OPERAND, 6, 2, m_reg },
	{ "VM memory address 16", LAVM_E_OPERAND, 1, 1, m_mem },
	{ "non-zero unused operand", LAVM_E_OPERAND, 5, 3, m_unused },
	{ "branch target past the end", LAVM_E_TARGET, 2, 1, m_target },
	{ "call target past the end", LAVM_E_TARGET, 3, 0, m_call },
	{ "last instruction falls off the end", LAVM_E_FALLOFF, 7, ~0u, m_falloff },
	{ "matrix entry changed", LAVM_E_MATRIX, 1, ~0u, m_matrix },
	{ "matrix NaN where the immediate is", LAVM_E_MATRIX, 4, ~0u, m_matrix_nan },
	{ "instruction changed under its matrix", LAVM_E_MATRIX, 0, ~0u, m_matrix_insn },
	{ "fewer matrices than linear instructions", LAVM_E_NLINEAR, 4, ~0u, m_nlinear },
	{ "more matrices than linear instructions", LAVM_E_NLINEAR, ~0u, ~0u, m_nlinear_more },
	{ "CALL with max_call_depth 0", LAVM_E_DEPTH, ~0u, ~0u, m_depth },
	{ "max_call_depth above 64", LAVM_E_LIMIT, ~0u, ~0u, m_depth_big },
	{ "direct recursion", LAVM_E_DEPTH, ~0u, ~0u, m_recursion },
	{ "mutual recursion", LAVM_E_DEPTH, ~0u, ~0u, m_mutual },
	{ "entry outside the program", LAVM_E_ENTRY, ~0u, ~0u, m_entry },
	{ "empty program", LAVM_E_LIMIT, ~0u, ~0u, m_empty },
	{ "shared memory above the limit", LAVM_E_LIMIT, ~0u, ~0u, m_shared },
};

int main(void)
{
	struct lavm_image img;
	struct lavm_verify_err err;
	uint8_t scratch[64];

	if (assemble_str(base_src, &img))
		abort();
	tap_ok(!lavm_verify(&img.prog, scratch, sizeof(scratch), &err) &&
	       (img.prog.flags & LAVM_PROG_HAS_CALL) && !(img.prog.flags & LAVM_PROG_HAS_READ),
	       "the base program verifies, with its flags");
	tap_ok(lavm_call_depth(&img.prog, scratch, sizeof(scratch)) == 1, "its static call depth is 1");
	for (size_t i = 0; i < sizeof(mutations) / sizeof(mutations[0]); i++) {
		const struct mutation *mu = &mutations[i];
		struct lavm_insn insns[8];
		float *mats = malloc((size_t)img.prog.nlinear * LAVM_MAT * 4 + LAVM_MAT * 4);
		struct lavm_prog p = img.prog;
		int ret;

		memcpy(insns, img.insns, sizeof(insns));
		memcpy(mats, img.matrices, (size_t)img.prog.nlinear * LAVM_MAT * 4);
		memcpy(mats + (size_t)img.prog.nlinear * LAVM_MAT, img.matrices, LAVM_MAT * 4);
		p.insns = insns;
		p.matrices = mats;
		mu->apply(&p, insns, mats);
		ret = lavm_verify(&p, scratch, sizeof(scratch), &err);
		tap_ok(ret == mu->code && err.code == mu->code &&
		       (mu->insn == ~0u || err.insn == mu->insn) &&
		       (mu->operand == ~0u || err.operand == mu->operand),
		       "rejects %s: %s (got %d '%s' at insn %d operand %d)", mu->name,
		       lavm_strerror(mu->code), ret, lavm_strerror(ret), (int)err.insn, (int)err.operand);
		free(mats);
	}
	/* the depth bound is tight: nesting 2 verifies with .stack 2, not with 1 */
	struct lavm_image deep;

	if (assemble_str("CALL f\nHALT\nf: CALL g\nRETURN\ng: RETURN\n", &deep))
		abort();
	tap_ok(deep.prog.max_call_depth == 2, "the assembler computes call depth 2");
	deep.prog.max_call_depth = 1;
	tap_ok(lavm_verify(&deep.prog, scratch, sizeof(scratch), &err) == LAVM_E_DEPTH,
	       "call depth 2 does not verify with max_call_depth 1");
	/* a loop around calls is not recursion */
	struct lavm_image loop;

	tap_ok(!assemble_str("l: CALL f\nJUMP l\nf: RETURN\n", &loop) && loop.prog.max_call_depth == 1,
	       "calls inside a loop have depth 1");
	lavm_image_free(&loop);
	lavm_image_free(&deep);
	lavm_image_free(&img);
	return tap_done();
}
