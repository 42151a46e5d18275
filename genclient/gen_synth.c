// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The synthesizer: finds a program from input/output examples alone.
 *
 * Bottom-up enumeration of expressions over the inputs, the instance
 * index and a few constants, with the operations of the LAVM ISA (ADD,
 * SUB, MUL, DIV, MOD, MIN, MAX, NEG, ABS, SQRT), by growing size.  Every
 * expression is evaluated on all example points at once (f32, with LAVM's
 * semantics: lavm_fmodf, lavm_minf, canonical NaN), and an expression
 * whose value vector was already seen is dropped (observational
 * equivalence), so the bank holds one expression per behaviour.  After
 * each size, conditionals "if a OP b then x else y" are tried by
 * unification: a condition splits the points, and two bank expressions
 * that match the target on each side complete it.  A hit is printed as a
 * formula, compiled by the formula compiler and goes through the same
 * acceptance test as any candidate; a mismatch there just continues the
 * search.  Deterministic: the order is fixed, @seed only rotates the
 * constant pool.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "gen_internal.h"

#define MAX_POINTS	64
#define MAX_SIZE	11
#define BANK_FLOATS	(16u << 20)	/* 64 MiB of value vectors at most */

enum sop {
	S_IN, S_ID, S_NINST, S_CONST,
	S_NEG, S_ABS, S_SQRT,
	S_ADD, S_SUB, S_MUL, S_DIV, S_MOD, S_MIN, S_MAX,
	S_NOPS,
};

struct sexpr {
	uint8_t op;
	uint8_t size;
	uint16_t k;		/* S_IN: input index */
	uint32_t a, b;
	float c;		/* S_CONST */
};

struct synth {
	struct gen_ctx *ctx;
	const struct gen_vm *vm;
	uint32_t npts;
	float in[MAX_POINTS][GEN_MAX_INPUTS];
	float id[MAX_POINTS], ninst[MAX_POINTS];
	float target[GEN_MAX_OUTPUTS][MAX_POINTS];
	int solved[GEN_MAX_OUTPUTS];		/* bank index, or -1 */
	char solved_text[GEN_MAX_OUTPUTS][2048];
	struct sexpr *e;
	float *val;		/* npts floats per expression */
	uint32_t n, cap;
	uint32_t by_size[MAX_SIZE + 2];	/* first index of each size */
	uint32_t *hash;		/* open addressing: index + 1, 0 empty */
	uint32_t hmask;
	uint64_t budget;
};

static uint32_t fbits(float f)
{
	uint32_t u;

	memcpy(&u, &f, 4);
	return u;
}

static float canon(float f)
{
	if (isnan(f)) {
		uint32_t u = LAVM_CANON_NAN;

		memcpy(&f, &u, 4);
	}
	return f;
}

static uint64_t vec_hash(const float *v, uint32_t n)
{
	uint64_t h = 1469598103934665603ull;

	for (uint32_t i = 0; i < n; i++) {
		h ^= fbits(v[i]);
		h *= 1099511628211ull;
		h ^= h >> 29;
	}
	return h;
}

static float *vals(struct synth *s, uint32_t i)
{
	return s->val + (size_t)i * s->npts;
}

/* Computes operation @op on the points into @out, as LAVM would. */
static void eval(struct synth *s, const struct sexpr *x, float *out)
{
	const float *a = x->op >= S_NEG ? vals(s, x->a) : NULL;
	const float *b = x->op >= S_ADD ? vals(s, x->b) : NULL;

	for (uint32_t p = 0; p < s->npts; p++) {
		float r;
		uint32_t u;

		switch (x->op) {
		case S_IN: r = s->in[p][x->k]; break;
		case S_ID: r = s->id[p]; break;
		case S_NINST: r = s->ninst[p]; break;
		case S_CONST: r = x->c; break;
		case S_NEG: u = fbits(a[p]) ^ 0x80000000u; memcpy(&r, &u, 4); break;
		case S_ABS: u = fbits(a[p]) & 0x7fffffffu; memcpy(&r, &u, 4); break;
		case S_SQRT: r = canon(lavm_sqrtf(a[p])); break;
		case S_ADD: r = canon(a[p] + b[p]); break;
		case S_SUB: r = canon(a[p] - b[p]); break;
		case S_MUL: r = canon(a[p] * b[p]); break;
		case S_DIV: r = canon(a[p] / b[p]); break;
		case S_MOD: r = canon(lavm_fmodf(a[p], b[p])); break;
		case S_MIN: r = canon(lavm_minf(a[p], b[p])); break;
		default: r = canon(lavm_maxf(a[p], b[p])); break;
		}
		out[p] = r;
	}
}

static bool vec_same(const float *a, const float *b, uint32_t n)
{
	return !memcmp(a, b, n * sizeof(float));
}

/* Adds the expression in slot s->n if its behaviour is new; true if added. */
static bool bank_add(struct synth *s, const struct sexpr *x)
{
	float *v = vals(s, s->n);
	uint32_t h;

	s->ctx->candidates++;
	s->e[s->n] = *x;
	eval(s, x, v);
	for (uint32_t p = 0; p < s->npts; p++)
		if (isinf(v[p]) || isnan(v[p]))
			return false;	/* never useful on integer-like examples */
	h = vec_hash(v, s->npts) & s->hmask;
	while (s->hash[h]) {
		if (vec_same(vals(s, s->hash[h] - 1), v, s->npts))
			return false;
		h = (h + 1) & s->hmask;
	}
	s->hash[h] = s->n + 1;
	s->n++;
	return true;
}

static void print_expr(struct synth *s, struct gen_buf *b, uint32_t i)
{
	static const char *const bin[] = { [S_ADD] = "+", [S_SUB] = "-", [S_MUL] = "*",
		[S_DIV] = "/", [S_MOD] = "%" };
	const struct sexpr *x = &s->e[i];
	char num[32];

	switch (x->op) {
	case S_IN: gen_buf_printf(b, "%s", s->vm->params[x->k]); break;
	case S_ID: gen_buf_printf(b, "id"); break;
	case S_NINST: gen_buf_printf(b, "instances"); break;
	case S_CONST:
		gen_fmt_float(num, sizeof(num), x->c);
		gen_buf_printf(b, x->c < 0 ? "(%s)" : "%s", num);
		break;
	case S_NEG: gen_buf_printf(b, "(-"); print_expr(s, b, x->a); gen_buf_printf(b, ")"); break;
	case S_ABS:
	case S_SQRT:
		gen_buf_printf(b, "%s(", x->op == S_ABS ? "abs" : "sqrt");
		print_expr(s, b, x->a);
		gen_buf_printf(b, ")");
		break;
	case S_MIN:
	case S_MAX:
		gen_buf_printf(b, "%s(", x->op == S_MIN ? "min" : "max");
		print_expr(s, b, x->a);
		gen_buf_printf(b, ", ");
		print_expr(s, b, x->b);
		gen_buf_printf(b, ")");
		break;
	default:
		gen_buf_printf(b, "(");
		print_expr(s, b, x->a);
		gen_buf_printf(b, " %s ", bin[x->op]);
		print_expr(s, b, x->b);
		gen_buf_printf(b, ")");
		break;
	}
}

static bool matches(struct synth *s, uint32_t i, int o)
{
	const float *v = vals(s, i);

	for (uint32_t p = 0; p < s->npts; p++)
		if (!gen_same_value(v[p], s->target[o][p]))
			return false;
	return true;
}

/* All outputs solved: print the formula and try it for real. */
static int try_solution(struct synth *s)
{
	struct gen_buf b = { 0 };
	struct gen_error err;
	char *src = NULL, why[512];
	int ret;

	for (uint32_t o = 0; o < s->vm->noutputs; o++) {
		if (s->solved[o] < 0)
			return -EAGAIN;
	}
	for (uint32_t o = 0; o < s->vm->noutputs; o++)
		gen_buf_printf(&b, "%s%s = %s", o ? "; " : "", s->vm->outputs[o], s->solved_text[o]);
	if (b.oom)
		return -ENOMEM;
	ret = gen_formula_compile_text(s->vm, b.s, &src, &err);
	if (!ret) {
		ret = gen_try_candidate(s->ctx, src, strlen(src), why, sizeof(why));
		if (!ret)
			gen_log(s->ctx, "synth: found %s (%u instructions, %llu candidates)", b.s,
				s->ctx->img.prog.ninsns, (unsigned long long)s->ctx->candidates);
		else
			gen_log(s->ctx, "synth: %s passed the search but not the check: %s", b.s, why);
	} else {
		snprintf(why, sizeof(why), "%s", err.msg);
		gen_log(s->ctx, "synth: %s does not compile: %s", b.s, why);
	}
	if (ret && ret != -ENOMEM) {
		snprintf(s->ctx->last_fail, sizeof(s->ctx->last_fail), "synthesizer: %s", why);
		/* Not this one: search on. */
		for (uint32_t o = 0; o < s->vm->noutputs; o++)
			s->solved[o] = -1;
		ret = -EAGAIN;
	}
	free(src);
	gen_buf_free(&b);
	return ret;
}

static int check_new(struct synth *s, uint32_t i)
{
	bool any = false;

	for (uint32_t o = 0; o < s->vm->noutputs; o++)
		if (s->solved[o] < 0 && matches(s, i, o)) {
			struct gen_buf b = { 0 };

			print_expr(s, &b, i);
			if (b.oom || b.len >= sizeof(s->solved_text[o]))
				continue;
			memcpy(s->solved_text[o], b.s, b.len + 1);
			gen_buf_free(&b);
			s->solved[o] = i;
			any = true;
		}
	return any ? try_solution(s) : -EAGAIN;
}

static bool out_of_budget(struct synth *s)
{
	return s->ctx->candidates >= s->budget || s->n + 1 >= s->cap ||
	       ((s->ctx->candidates & 1023) == 0 && gen_out_of_time(s->ctx));
}

/* ------------------------------------------------------------ conditionals */

/* Condition classes of d = a - b (the branch epsilon of LAVM). */
static uint64_t cond_mask(struct synth *s, uint32_t a, uint32_t b, int br)
{
	const float *va = vals(s, a), *vb = vals(s, b);
	uint64_t m = 0;

	for (uint32_t p = 0; p < s->npts; p++)
		if (lavm_branch_taken(br, canon(va[p] - vb[p])))
			m |= 1ull << p;
	return m;
}

static const char *const br_text[] = {
	[LAVM_OP_BLT - LAVM_OP_BEQ] = "<", [LAVM_OP_BLE - LAVM_OP_BEQ] = "<=",
	[LAVM_OP_BEQ - LAVM_OP_BEQ] = "==",
};

/*
 * For each unsolved output: masks of the points where each bank expression
 * equals the target; a condition c and expressions x, y with c within x's
 * mask and !c within y's complete "if c then x else y".
 */
static int try_conditionals(struct synth *s, uint32_t max_cond_size)
{
	uint64_t all = s->npts == 64 ? ~0ull : (1ull << s->npts) - 1;
	enum { MAXM = 4096 };
	uint64_t *mask = malloc(MAXM * sizeof(*mask));
	uint32_t *rep = malloc(MAXM * sizeof(*rep));
	uint32_t ncond = s->by_size[max_cond_size + 1];
	int ret = -EAGAIN;

	if (!mask || !rep) {
		free(mask);
		free(rep);
		return -ENOMEM;
	}
	for (uint32_t o = 0; o < s->vm->noutputs && ret == -EAGAIN; o++) {
		uint32_t nm = 0;

		if (s->solved[o] >= 0)
			continue;
		/* Distinct partial-match masks, smallest expression first. */
		for (uint32_t i = 0; i < s->n && nm < MAXM; i++) {
			const float *v = vals(s, i);
			uint64_t m = 0;
			uint32_t j;

			for (uint32_t p = 0; p < s->npts; p++)
				if (gen_same_value(v[p], s->target[o][p]))
					m |= 1ull << p;
			if (!m)
				continue;
			for (j = 0; j < nm; j++)
				if ((mask[j] | m) == mask[j])
					break;	/* subsumed by a smaller expression's mask */
			if (j == nm) {
				mask[nm] = m;
				rep[nm++] = i;
			}
		}
		for (uint32_t a = 0; a < ncond && ret == -EAGAIN; a++) {
			for (uint32_t b = 0; b < ncond && ret == -EAGAIN; b++) {
				static const int brs[] = { LAVM_OP_BLT, LAVM_OP_BLE, LAVM_OP_BEQ };

				if (a == b)
					continue;
				for (size_t k = 0; k < 3 && ret == -EAGAIN; k++) {
					uint64_t c = cond_mask(s, a, b, brs[k]);
					int x = -1, y = -1;

					s->ctx->candidates++;
					if (!c || c == all)
						continue;
					for (uint32_t j = 0; j < nm && (x < 0 || y < 0); j++) {
						if (x < 0 && (mask[j] & c) == c)
							x = rep[j];
						if (y < 0 && (mask[j] & (all & ~c)) == (all & ~c))
							y = rep[j];
					}
					if (x < 0 || y < 0)
						continue;
					struct gen_buf t = { 0 };

					gen_buf_printf(&t, "if ");
					print_expr(s, &t, a);
					gen_buf_printf(&t, " %s ", br_text[brs[k] - LAVM_OP_BEQ]);
					print_expr(s, &t, b);
					gen_buf_printf(&t, " then ");
					print_expr(s, &t, x);
					gen_buf_printf(&t, " else ");
					print_expr(s, &t, y);
					if (!t.oom && t.len < sizeof(s->solved_text[o])) {
						memcpy(s->solved_text[o], t.s, t.len + 1);
						s->solved[o] = x;	/* marks it solved */
						ret = try_solution(s);
					}
					gen_buf_free(&t);
				}
				if (out_of_budget(s))
					ret = ret == -EAGAIN ? -ESRCH : ret;
			}
		}
	}
	free(mask);
	free(rep);
	return ret;
}

/* ------------------------------------------------------------ enumeration */

static int setup(struct synth *s)
{
	const struct gen_vm *vm = s->vm;

	for (uint32_t e = 0; e < vm->nexamples; e++) {
		const struct gen_example *ex = &vm->examples[e];

		if (ex->nshared_in || ex->nshared_out || !ex->nout) {
			snprintf(s->ctx->last_fail, sizeof(s->ctx->last_fail),
				 "synthesizer: example %u uses shared memory; the synthesizer only "
				 "searches register outputs (give a formula or a source)", e);
			return -ESRCH;
		}
		for (uint32_t i = 0; i < vm->instances; i++) {
			if (s->npts == MAX_POINTS) {
				snprintf(s->ctx->last_fail, sizeof(s->ctx->last_fail),
					 "synthesizer: more than %d example points (examples x instances)",
					 MAX_POINTS);
				return -ESRCH;
			}
			memcpy(s->in[s->npts], ex->in, sizeof(ex->in));
			s->id[s->npts] = i;
			s->ninst[s->npts] = vm->instances;
			for (uint32_t o = 0; o < vm->noutputs; o++)
				s->target[o][s->npts] = ex->out[o];
			s->npts++;
		}
	}
	return 0;
}

int gen_run_synth(struct gen_ctx *ctx)
{
	static const float consts[] = { 0, 1, 2, 3, -1, 10, 0.5f, 4, 5 };
	struct synth *s;
	uint32_t size;
	int ret;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->ctx = ctx;
	s->vm = ctx->vm;
	s->budget = ctx->candidates + ctx->opt->max_candidates;
	for (int o = 0; o < GEN_MAX_OUTPUTS; o++)
		s->solved[o] = -1;
	ret = setup(s);
	if (ret)
		goto out;
	s->cap = BANK_FLOATS / s->npts;
	if (s->cap > 4u << 20)
		s->cap = 4u << 20;
	for (s->hmask = 1; s->hmask < 2 * s->cap; s->hmask <<= 1)
		;
	s->e = malloc((size_t)s->cap * sizeof(*s->e));
	s->val = malloc((size_t)s->cap * s->npts * sizeof(float));
	s->hash = calloc(s->hmask, sizeof(*s->hash));
	s->hmask--;
	if (!s->e || !s->val || !s->hash) {
		ret = -ENOMEM;
		goto out;
	}
	ret = -EAGAIN;

	/* Size 1: inputs, the instance index and count, constants. */
	s->by_size[1] = 0;
	for (uint32_t k = 0; k < s->vm->ninputs && ret == -EAGAIN; k++)
		if (bank_add(s, &(struct sexpr){ .op = S_IN, .size = 1, .k = k }))
			ret = check_new(s, s->n - 1);
	if (s->vm->instances > 1) {
		if (ret == -EAGAIN && bank_add(s, &(struct sexpr){ .op = S_ID, .size = 1 }))
			ret = check_new(s, s->n - 1);
		if (ret == -EAGAIN && bank_add(s, &(struct sexpr){ .op = S_NINST, .size = 1 }))
			ret = check_new(s, s->n - 1);
	}
	for (size_t i = 0; i < sizeof(consts) / sizeof(consts[0]) && ret == -EAGAIN; i++) {
		float c = consts[(i + ctx->opt->seed) % (sizeof(consts) / sizeof(consts[0]))];

		if (bank_add(s, &(struct sexpr){ .op = S_CONST, .size = 1, .c = c }))
			ret = check_new(s, s->n - 1);
	}
	s->by_size[2] = s->n;
	ctx->rounds++;

	for (size = 2; size <= MAX_SIZE && ret == -EAGAIN; size++) {
		ctx->rounds++;
		/* Unary operations on size - 1. */
		for (uint32_t a = s->by_size[size - 1]; a < s->by_size[size] && ret == -EAGAIN; a++)
			for (int op = S_NEG; op <= S_SQRT && ret == -EAGAIN; op++) {
				if (out_of_budget(s)) {
					ret = -ESRCH;
					break;
				}
				if (bank_add(s, &(struct sexpr){ .op = op, .size = size, .a = a }))
					ret = check_new(s, s->n - 1);
			}
		/* Binary operations on sizes (l, size - 1 - l). */
		for (uint32_t l = 1; l + 1 < size && ret == -EAGAIN; l++) {
			uint32_t r = size - 1 - l;

			for (uint32_t a = s->by_size[l]; a < s->by_size[l + 1] && ret == -EAGAIN; a++)
				for (uint32_t b = s->by_size[r]; b < s->by_size[r + 1] && ret == -EAGAIN; b++)
					for (int op = S_ADD; op < S_NOPS && ret == -EAGAIN; op++) {
						bool comm = op == S_ADD || op == S_MUL || op == S_MIN || op == S_MAX;

						if (comm && (l > r || (l == r && a > b)))
							continue;
						if (out_of_budget(s)) {
							ret = -ESRCH;
							break;
						}
						if (bank_add(s, &(struct sexpr){ .op = op, .size = size, .a = a, .b = b }))
							ret = check_new(s, s->n - 1);
					}
		}
		s->by_size[size + 1] = s->n;
		gen_log(ctx, "synth: size %u: %u behaviours, %llu candidates", size, s->n,
			(unsigned long long)ctx->candidates);
		/* Occam: a conditional only once small plain expressions are exhausted. */
		if (ret == -EAGAIN && size >= 5)
			ret = try_conditionals(s, size >= 7 ? 3 : 1);
	}
	if (ret == -EAGAIN || ret == -ESRCH) {
		bool spent = out_of_budget(s);

		ret = -ESRCH;
		snprintf(ctx->last_fail, sizeof(ctx->last_fail), "synthesizer: %s: no expression of "
			 "up to %u nodes (with conditionals) matches every example (%u behaviours, "
			 "%llu candidates)", spent ? "budget spent" : "search space exhausted",
			 size - 1, s->n, (unsigned long long)ctx->candidates);
	}
out:
	free(s->e);
	free(s->val);
	free(s->hash);
	free(s);
	return ret;
}
