// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The spec suite: formula specs (arithmetic, conditionals, loops,
 * reductions over shared memory, several outputs, instance indices), a
 * source-program spec and the example fabrics (multi-VM, with edges).
 * Each program is generated, verified and run on the reference
 * interpreter; the expected values are computed here in C from the same
 * inputs, never taken from the generator.
 */
#include <math.h>
#include "gen_tap.h"

typedef void (*expect_fn)(const float *in, float *out);

struct fcase {
	const char *name;
	const char *params;	/* JSON array */
	const char *formula;
	int nin, nout;
	int lo, hi;		/* inputs drawn from lo..hi */
	expect_fn f;
};

#define F(name, ...) static void name(const float *x, float *y) { (void)x; __VA_ARGS__; }
F(e_add, y[0] = x[0] + x[1])
F(e_poly, y[0] = x[0] * x[0] + 3 * x[0] - 7)
F(e_diffsq, y[0] = (x[0] + x[1]) * (x[0] - x[1]))
F(e_div, y[0] = x[0] / 4)
F(e_mod, y[0] = fmodf(x[0], 7))
F(e_neg, y[0] = -(x[0] * x[1]) + x[2])
F(e_minmax, y[0] = fmaxf(x[0], fminf(x[1], x[2])))
F(e_abs, y[0] = fabsf(x[0] - x[1]) * 2)
F(e_hyp, y[0] = sqrtf(x[0] * x[0] + x[1] * x[1]))
F(e_deep, float a = x[0], b = x[1], c = x[2], d = x[3];
  y[0] = ((a + b) * (c + d)) - ((a - b) * (c - d)) + ((a * b) + (c * d)) * ((a + c) * (b + d)))
F(e_spill, float a = x[0], b = x[1], c = x[2], d = x[3];
  y[0] = (((a + b) * (c + d)) * ((a - b) * (c - d))) + (((a * c) + (b * d)) * ((a * d) - (b * c))))
F(e_absdiff, y[0] = x[0] < x[1] ? x[1] - x[0] : x[0] - x[1])
F(e_eq, y[0] = x[0] == x[1] ? 10 : 20)
F(e_sign, y[0] = x[0] < 0 ? -1 : x[0] > 0 ? 1 : 0)
F(e_and, y[0] = x[0] > 0 && x[1] > 0 ? x[0] + x[1] : 0)
F(e_or, y[0] = x[0] > 5 || x[1] > 5 ? 1 : 0)
F(e_not, y[0] = !(x[0] < x[1]) ? x[0] : x[1])
F(e_cmpsum, y[0] = (float)(x[0] < x[1]) + (float)(x[1] < x[2]))
F(e_tri, y[0] = x[0] * (x[0] - 1) / 2)
F(e_sumsq, float s = 0; for (int i = 1; i <= (int)x[0]; i++) s += (float)i * i; y[0] = s)
F(e_fact, float p = 1; for (int i = 1; i <= (int)x[0]; i++) p *= i; y[0] = p)
F(e_pow2, float p = 1; for (int i = 0; i < (int)x[0]; i++) p *= 2; y[0] = p)
F(e_rep, y[0] = x[1] + 3 * x[2])
F(e_nested, float s = 0; for (int i = 0; i < (int)x[0]; i++) for (int j = 0; j < i; j++) s += j + 1; y[0] = s)
F(e_stmts, float t = x[0] * x[1]; y[0] = t + t * x[2])
F(e_multi, y[0] = x[0] + x[1]; y[1] = x[0] - x[1]; y[2] = x[0] * x[1])
F(e_collatz, float v = x[0]; for (int i = 0; i < (int)x[1]; i++) v = fmodf(v, 2) == 0 ? v / 2 : 3 * v + 1; y[0] = v)
F(e_clamp, y[0] = fminf(fmaxf(x[0], x[1]), x[2]))
F(e_cond_loop, float s = 0; for (int i = 0; i < (int)x[0]; i++) s += fmodf(i, 2) == 0 ? i : -i; y[0] = s)
F(e_horner, float a = x[0]; y[0] = ((2 * a + 3) * a - 5) * a + 1)

static const struct fcase fcases[] = {
	{ "add", "[\"a\",\"b\"]", "a + b", 2, 1, -50, 50, e_add },
	{ "poly", "[\"x\"]", "x*x + 3*x - 7", 1, 1, -20, 20, e_poly },
	{ "diffsq", "[\"a\",\"b\"]", "(a + b) * (a - b)", 2, 1, -30, 30, e_diffsq },
	{ "div", "[\"a\"]", "a / 4", 1, 1, -100, 100, e_div },
	{ "mod", "[\"a\"]", "a % 7", 1, 1, -60, 60, e_mod },
	{ "neg", "[\"a\",\"b\",\"c\"]", "-(a * b) + c", 3, 1, -9, 9, e_neg },
	{ "minmax", "[\"a\",\"b\",\"c\"]", "max(a, min(b, c))", 3, 1, -9, 9, e_minmax },
	{ "abs", "[\"a\",\"b\"]", "abs(a - b) * 2", 2, 1, -9, 9, e_abs },
	{ "hypot", "[\"a\",\"b\"]", "sqrt(a*a + b*b)", 2, 1, 0, 40, e_hyp },
	{ "deep", "[\"a\",\"b\",\"c\",\"d\"]",
	  "((a+b)*(c+d)) - ((a-b)*(c-d)) + ((a*b)+(c*d))*((a+c)*(b+d))", 4, 1, -6, 6, e_deep },
	{ "spill", "[\"a\",\"b\",\"c\",\"d\"]",
	  "(((a+b)*(c+d))*((a-b)*(c-d))) + (((a*c)+(b*d))*((a*d)-(b*c)))", 4, 1, -6, 6, e_spill },
	{ "absdiff", "[\"a\",\"b\"]", "if a < b then b - a else a - b", 2, 1, -9, 9, e_absdiff },
	{ "eq", "[\"a\",\"b\"]", "if a == b then 10 else 20", 2, 1, 0, 2, e_eq },
	{ "sign", "[\"x\"]", "if x < 0 then -1 else if x > 0 then 1 else 0", 1, 1, -3, 3, e_sign },
	{ "and", "[\"a\",\"b\"]", "if a > 0 and b > 0 then a + b else 0", 2, 1, -3, 3, e_and },
	{ "or", "[\"a\",\"b\"]", "a > 5 or b > 5", 2, 1, 0, 9, e_or },
	{ "not", "[\"a\",\"b\"]", "if not (a < b) then a else b", 2, 1, -5, 5, e_not },
	{ "cmpsum", "[\"a\",\"b\",\"c\"]", "(a < b) + (b < c)", 3, 1, -3, 3, e_cmpsum },
	{ "sum", "[\"n\"]", "sum(i, 0, n, i)", 1, 1, 0, 12, e_tri },
	{ "sumsq", "[\"n\"]", "sum(i, 1, n + 1, i * i)", 1, 1, 0, 12, e_sumsq },
	{ "fact", "[\"n\"]", "prod(i, 1, n + 1, i)", 1, 1, 0, 10, e_fact },
	{ "pow2", "[\"n\"]", "fold(i, 0, n, acc, 1, acc * 2)", 1, 1, 0, 20, e_pow2 },
	{ "repeat", "[\"n\",\"a\",\"b\"]", "repeat(3, x, a, x + b)", 3, 1, -9, 9, e_rep },
	{ "nested", "[\"n\"]", "sum(i, 0, n, sum(j, 0, i, j + 1))", 1, 1, 0, 8, e_nested },
	{ "stmts", "[\"a\",\"b\",\"c\"]", "t = a * b\nt + t * c", 3, 1, -9, 9, e_stmts },
	{ "collatz", "[\"v\",\"k\"]",
	  "fold(i, 0, k, x, v, if x % 2 == 0 then x / 2 else 3 * x + 1)", 2, 1, 1, 12, e_collatz },
	{ "clamp", "[\"x\",\"lo\",\"hi\"]", "min(max(x, lo), hi)", 3, 1, -9, 9, e_clamp },
	{ "condloop", "[\"n\"]", "sum(i, 0, n, if i % 2 == 0 then i else -i)", 1, 1, 0, 15, e_cond_loop },
	{ "horner", "[\"a\"]", "((2*a + 3)*a - 5)*a + 1", 1, 1, -9, 9, e_horner },
};

static uint32_t rng = 12345;

static int draw(int lo, int hi)
{
	rng = rng * 1103515245u + 12345u;
	return lo + (int)((rng >> 8) % (uint32_t)(hi - lo + 1));
}

static void formula_case(const struct fcase *c, const struct gen_options *opt)
{
	char json[2048];
	struct gen_spec *spec;
	struct gen_result res;
	bool ok = true;
	char why[512] = "";
	int ret;

	snprintf(json, sizeof(json), "{\"fabric\": \"suite\", \"vms\": [{\"name\": \"%s\", "
		 "\"params\": %s, \"formula\": \"%s\"}]}", c->name, c->params, c->formula);
	for (char *p = json; (p = strchr(p, '\n')); )
		memmove(p + 2, p + 1, strlen(p + 1) + 1), p[0] = '\\', p[1] = 'n', p += 2;
	spec = spec_or_fail(c->name, json);
	if (!spec)
		return;
	ret = gen_generate(spec, 0, opt, &res);
	if (ret) {
		tap_ok(0, "formula %s: generated (%s)", c->name, res.error);
		goto out;
	}
	/* Twelve input vectors: expected from C, checked on the interpreter. */
	for (int t = 0; t < 12 && ok; t++) {
		struct gen_example ex = { .nin = c->nin, .nout = c->nout };

		for (int k = 0; k < c->nin; k++)
			ex.in[k] = draw(c->lo, c->hi);
		if (!strcmp(c->name, "repeat") || !strcmp(c->name, "collatz"))
			ex.in[c->nin - 1] = draw(0, 9);
		c->f(ex.in, ex.out);
		ok = gen_check_example(&spec->vms[0], &res.image.prog, &ex, why, sizeof(why));
	}
	tap_ok(ok && res.generator == GEN_COMPILER, "formula %s: %s (%u insns) %s", c->name,
	       c->formula, res.image.prog.ninsns, why);
out:
	gen_result_free(&res);
	gen_spec_free(spec);
}

static void multi_output(const struct gen_options *opt)
{
	const char *json = "{\"vms\": [{\"name\": \"m\", \"params\": [\"a\", \"b\"], "
		"\"outputs\": [\"s\", \"d\", \"p\"], \"formula\": \"s = a + b; d = a - b; p = a * b\"}]}";
	struct gen_spec *spec = spec_or_fail("multi", json);
	struct gen_result res;
	bool ok;
	char why[256] = "";

	if (!spec)
		return;
	ok = !gen_generate(spec, 0, opt, &res);
	for (int t = 0; ok && t < 8; t++) {
		struct gen_example ex = { .nin = 2, .nout = 3 };

		ex.in[0] = draw(-20, 20);
		ex.in[1] = draw(-20, 20);
		e_multi(ex.in, ex.out);
		ok = gen_check_example(&spec->vms[0], &res.image.prog, &ex, why, sizeof(why));
	}
	tap_ok(ok, "formula multi: three outputs in r0..r2 %s%s", why, res.error);
	gen_result_free(&res);
	gen_spec_free(spec);
}

/* Each instance sees its own index: r0 = id * a + instances. */
static void instance_index(const struct gen_options *opt)
{
	const char *json = "{\"vms\": [{\"name\": \"perinst\", \"instances\": 5, \"params\": [\"a\"], "
		"\"formula\": \"id * a + instances\"}]}";
	struct gen_spec *spec = spec_or_fail("perinst", json);
	struct gen_result res;
	struct lavm_job job;
	bool ok;

	if (!spec)
		return;
	ok = !gen_generate(spec, 0, opt, &res);
	if (ok) {
		float in[1] = { 7 };

		ok = !run_inputs(&spec->vms[0], &res.image.prog, in, NULL, 0, &job);
		for (uint32_t i = 0; ok && i < 5; i++)
			ok = job.vms[i].v[LAVM_X_R0] == (float)i * 7 + 5;
		lavm_job_free(&job);
	}
	tap_ok(ok, "formula perinst: 5 instances, r0 = id * a + instances %s", res.error);
	gen_result_free(&res);
	gen_spec_free(spec);
}

/* Reductions: each instance sums its slice of shared memory. */
static void reductions(const struct gen_options *opt)
{
	static const struct {
		const char *name, *formula;
		uint32_t inst, size;
	} r[] = {
		{ "slicesum", "shared[16 + id] = sum(i, 0, 4, shared[id * 4 + i])", 4, 20 },
		{ "double", "shared[id] = shared[id] * 2 + id", 8, 8 },
		{ "dot", "sum(i, 0, 4, shared[i] * shared[4 + i])", 1, 8 },
		{ "maxred", "fold(i, 1, 8, m, shared[0], max(m, shared[i]))", 1, 8 },
	};

	for (size_t k = 0; k < sizeof(r) / sizeof(r[0]); k++) {
		char json[512];
		struct gen_spec *spec;
		struct gen_result res;
		struct gen_word w[20];
		struct lavm_job job;
		float sh[20], want;
		bool ok;

		snprintf(json, sizeof(json), "{\"vms\": [{\"name\": \"%s\", \"instances\": %u, "
			 "\"shared\": {\"size\": %u}, \"formula\": \"%s\"}]}", r[k].name, r[k].inst,
			 r[k].size, r[k].formula);
		spec = spec_or_fail(r[k].name, json);
		if (!spec)
			continue;
		ok = !gen_generate(spec, 0, opt, &res);
		for (uint32_t i = 0; i < r[k].size; i++) {
			sh[i] = draw(-9, 9);
			w[i] = (struct gen_word){ i, sh[i] };
		}
		if (ok)
			ok = !run_inputs(&spec->vms[0], &res.image.prog, NULL, w, r[k].size, &job);
		if (ok) {
			switch (k) {
			case 0:
				for (uint32_t id = 0; id < 4; id++)
					ok &= job.shared[16 + id] == sh[4 * id] + sh[4 * id + 1] +
						sh[4 * id + 2] + sh[4 * id + 3];
				break;
			case 1:
				for (uint32_t id = 0; id < 8; id++)
					ok &= job.shared[id] == sh[id] * 2 + id;
				break;
			case 2:
				want = 0;
				for (int i = 0; i < 4; i++)
					want += sh[i] * sh[4 + i];
				ok = job.vms[0].v[LAVM_X_R0] == want;
				break;
			case 3:
				want = sh[0];
				for (int i = 1; i < 8; i++)
					want = fmaxf(want, sh[i]);
				ok = job.vms[0].v[LAVM_X_R0] == want;
				break;
			}
			lavm_job_free(&job);
		}
		tap_ok(ok, "reduction %s: %s on %u instances %s", r[k].name, r[k].formula, r[k].inst,
		       res.error);
		gen_result_free(&res);
		gen_spec_free(spec);
	}
}

static void source_program(const struct gen_options *opt)
{
	const char *json = "{\"vms\": [{\"name\": \"src\", \"params\": [\"a\", \"b\"], \"outputs\": [\"y\"], "
		"\"source\": [\"\\tMUL r0, r0, r1\", \"\\tSCALE r0, r0, 0.5\", \"\\tHALT\"], "
		"\"examples\": [{\"in\": [4, 6], \"out\": 12}]}]}";
	struct gen_spec *spec = spec_or_fail("source", json);
	struct gen_result res;
	bool ok;
	char why[256] = "";

	if (!spec)
		return;
	ok = !gen_generate(spec, 0, opt, &res) && res.generator == GEN_SOURCE;
	if (ok) {
		struct gen_example ex = { .nin = 2, .nout = 1, .in = { 9, 3 }, .out = { 9 * 3 * 0.5f } };

		ok = gen_check_example(&spec->vms[0], &res.image.prog, &ex, why, sizeof(why));
	}
	tap_ok(ok, "source: the author's program is assembled, verified and run %s%s", why, res.error);
	gen_result_free(&res);
	gen_spec_free(spec);
}

/* The example fabrics: every VM generates and halts on its own inputs. */
static void example_fabrics(const struct gen_options *opt)
{
	const char *dir = getenv("GEN_EXAMPLES") ? getenv("GEN_EXAMPLES") : "genclient/examples";
	static const char *const files[] = { "webapp.json", "reduction.json", "pipeline.json" };

	for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
		char path[512], why[256] = "";
		struct gen_spec *spec;
		struct gen_error err;
		bool ok = true;

		snprintf(path, sizeof(path), "%s/%s", dir, files[f]);
		if (gen_spec_load(path, &spec, &err)) {
			tap_ok(0, "example %s loads (%s)", files[f], err.msg);
			continue;
		}
		for (uint32_t v = 0; ok && v < spec->nvms; v++) {
			struct gen_result res;
			struct lavm_job job;

			ok = !gen_generate(spec, v, opt, &res);
			if (!ok) {
				snprintf(why, sizeof(why), "%s", res.error);
			} else {
				ok = !gen_job_setup(&spec->vms[v], &res.image.prog, NULL, &job);
				if (ok) {
					lavm_ref_run(&job);
					for (uint32_t i = 0; i < job.nvms; i++)
						ok &= job.vms[i].status == LAVM_HALTED;
					lavm_job_free(&job);
				}
				if (!ok)
					snprintf(why, sizeof(why), "VM %s does not halt on its inputs",
						 spec->vms[v].name);
			}
			gen_result_free(&res);
		}
		tap_ok(ok && spec->nvms >= 2 && spec->nedges >= 1,
		       "example %s: %u VMs, %u edges, all generated and run %s", files[f], spec->nvms,
		       spec->nedges, why);
		gen_spec_free(spec);
	}
}

/* Paper 001's fabric: the edges and rights as written in the example. */
static void webapp_edges(void)
{
	const char *dir = getenv("GEN_EXAMPLES") ? getenv("GEN_EXAMPLES") : "genclient/examples";
	char path[512];
	struct gen_spec *spec;
	struct gen_error err;
	int ui, api, db, auth;
	uint32_t max_vms = 0;
	bool ok = false;

	snprintf(path, sizeof(path), "%s/webapp.json", dir);
	if (!gen_spec_load(path, &spec, &err)) {
		max_vms = spec->max_vms;
		ui = gen_spec_find_vm(spec, "ui");
		api = gen_spec_find_vm(spec, "api");
		db = gen_spec_find_vm(spec, "db");
		auth = gen_spec_find_vm(spec, "auth");
		ok = ui >= 0 && api >= 0 && db >= 0 && auth >= 0;
		for (uint32_t e = 0; ok && e < spec->nedges; e++) {
			const struct gen_edge *g = &spec->edges[e];

			/* No edge reaches the DB except from the API. */
			if ((int)g->dst == db)
				ok = (int)g->src == api;
			if ((int)g->src == ui && (int)g->dst == api)
				ok = (g->rights & (GEN_RIGHT_SEND | GEN_RIGHT_RECV)) ==
				     (GEN_RIGHT_SEND | GEN_RIGHT_RECV);
		}
		gen_spec_free(spec);
	}
	tap_ok(ok, "example webapp.json: UI, API, DB, Auth; only the API reaches the DB");
	/* The file says "quota": { "max_vms": 8, ... }. */
	tap_ok(max_vms == 8, "example webapp.json: quota.max_vms reaches the spec (%u)", max_vms);
}

int main(void)
{
	struct gen_options opt;
	double t0 = now_ms();

	gen_options_init(&opt);
	for (size_t i = 0; i < sizeof(fcases) / sizeof(fcases[0]); i++)
		formula_case(&fcases[i], &opt);
	multi_output(&opt);
	instance_index(&opt);
	reductions(&opt);
	source_program(&opt);
	example_fabrics(&opt);
	webapp_edges();
	printf("# suite: %.0f ms\n", now_ms() - t0);
	return tap_done();
}
