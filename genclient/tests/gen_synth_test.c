// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The synthesizer alone on example-only specs: it must find a program
 * that passes the examples, and (checked here, in C) the program must
 * also be right on inputs it never saw.  Also: same seed, same program;
 * the cache serves the same bundle for the same spec.
 */
#include <math.h>
#include "gen_tap.h"

struct scase {
	const char *name;
	const char *vm;		/* params, outputs, examples */
	int nin, nout;
	void (*f)(const float *in, float *out);
	float held[4][3];	/* held-out inputs */
};

#define F(name, ...) static void name(const float *x, float *y) { (void)x; __VA_ARGS__; }
F(s_add, y[0] = x[0] + x[1])
F(s_lin, y[0] = 2 * x[0] + 1)
F(s_poly, y[0] = x[0] * x[0] + x[0] + 1)
F(s_absdiff, y[0] = fabsf(x[0] - x[1]))
F(s_clamp, y[0] = fmaxf(x[1], fminf(x[0], x[2])))
F(s_max3, y[0] = fmaxf(x[0], fmaxf(x[1], x[2])))
F(s_two, y[0] = x[0] + x[1]; y[1] = x[0] * x[1])
F(s_mac, y[0] = x[0] * x[1] - x[2])
F(s_avg, y[0] = (x[0] + x[1]) / 2)
F(s_mod, y[0] = fmodf(x[0], x[1]))
F(s_relu, y[0] = fmaxf(x[0], 0) * 3)

static const struct scase cases[] = {
	{ "add", "\"params\": [\"a\", \"b\"], \"outputs\": [\"y\"], \"examples\": [{\"in\": [1, 2], \"out\": 3}, "
	  "{\"in\": [5, 7], \"out\": 12}, {\"in\": [-3, 10], \"out\": 7}]", 2, 1, s_add,
	  { { 100, -1 }, { 0, 0 }, { -7, -8 }, { 13, 29 } } },
	{ "linear", "\"params\": [\"x\"], \"outputs\": [\"y\"], \"examples\": [{\"in\": [0], \"out\": 1}, "
	  "{\"in\": [1], \"out\": 3}, {\"in\": [5], \"out\": 11}, {\"in\": [-4], \"out\": -7}]", 1, 1, s_lin,
	  { { 100 }, { -50 }, { 7 }, { 2 } } },
	{ "poly", "\"params\": [\"x\"], \"outputs\": [\"y\"], \"examples\": [{\"in\": [1], \"out\": 3}, "
	  "{\"in\": [2], \"out\": 7}, {\"in\": [3], \"out\": 13}, {\"in\": [5], \"out\": 31}, {\"in\": [-2], \"out\": 3}]",
	  1, 1, s_poly, { { 10 }, { -7 }, { 0 }, { 4 } } },
	{ "absdiff", "\"params\": [\"a\", \"b\"], \"outputs\": [\"y\"], \"examples\": [{\"in\": [1, 5], \"out\": 4}, "
	  "{\"in\": [9, 2], \"out\": 7}, {\"in\": [3, 3], \"out\": 0}, {\"in\": [-2, 4], \"out\": 6}]", 2, 1, s_absdiff,
	  { { 10, -10 }, { -3, -8 }, { 0, 5 }, { 7, 7 } } },
	{ "clamp", "\"params\": [\"x\", \"lo\", \"hi\"], \"outputs\": [\"y\"], \"examples\": [{\"in\": [5, 0, 10], \"out\": 5}, "
	  "{\"in\": [-5, 0, 10], \"out\": 0}, {\"in\": [50, 0, 10], \"out\": 10}, {\"in\": [3, 4, 8], \"out\": 4}, "
	  "{\"in\": [9, 4, 8], \"out\": 8}]", 3, 1, s_clamp,
	  { { 6, 4, 8 }, { -100, -3, 3 }, { 100, -3, 3 }, { 1, 1, 2 } } },
	{ "max3", "\"params\": [\"a\", \"b\", \"c\"], \"outputs\": [\"y\"], \"examples\": [{\"in\": [1, 2, 3], \"out\": 3}, "
	  "{\"in\": [3, 1, 2], \"out\": 3}, {\"in\": [2, 3, 1], \"out\": 3}, {\"in\": [-1, -5, -3], \"out\": -1}]", 3, 1, s_max3,
	  { { 9, 0, 0 }, { 0, 9, 0 }, { 0, 0, 9 }, { -4, -2, -8 } } },
	{ "two", "\"params\": [\"a\", \"b\"], \"outputs\": [\"s\", \"p\"], \"examples\": [{\"in\": [1, 2], \"out\": [3, 2]}, "
	  "{\"in\": [4, 5], \"out\": [9, 20]}, {\"in\": [-1, 3], \"out\": [2, -3]}]", 2, 2, s_two,
	  { { 6, 7 }, { -2, -2 }, { 0, 9 }, { 10, 1 } } },
	{ "mac", "\"params\": [\"a\", \"b\", \"c\"], \"outputs\": [\"y\"], \"examples\": [{\"in\": [2, 3, 1], \"out\": 5}, "
	  "{\"in\": [4, 5, 6], \"out\": 14}, {\"in\": [-1, 7, 2], \"out\": -9}, {\"in\": [0, 9, -4], \"out\": 4}]", 3, 1, s_mac,
	  { { 3, 3, 3 }, { 10, -2, 5 }, { 1, 1, 0 }, { -6, -6, 6 } } },
	{ "avg", "\"params\": [\"a\", \"b\"], \"outputs\": [\"y\"], \"examples\": [{\"in\": [2, 4], \"out\": 3}, "
	  "{\"in\": [1, 2], \"out\": 1.5}, {\"in\": [-6, 2], \"out\": -2}, {\"in\": [10, 30], \"out\": 20}]", 2, 1, s_avg,
	  { { 7, 8 }, { -1, -2 }, { 100, 0 }, { 3, 3 } } },
	{ "mod", "\"params\": [\"a\", \"b\"], \"outputs\": [\"y\"], \"examples\": [{\"in\": [7, 3], \"out\": 1}, "
	  "{\"in\": [10, 4], \"out\": 2}, {\"in\": [9, 5], \"out\": 4}, {\"in\": [12, 7], \"out\": 5}]", 2, 1, s_mod,
	  { { 20, 6 }, { 17, 5 }, { 8, 8 }, { 3, 10 } } },
	{ "relu3", "\"params\": [\"x\"], \"outputs\": [\"y\"], \"examples\": [{\"in\": [2], \"out\": 6}, "
	  "{\"in\": [-4], \"out\": 0}, {\"in\": [5], \"out\": 15}, {\"in\": [0], \"out\": 0}, {\"in\": [-1], \"out\": 0}]",
	  1, 1, s_relu, { { 10 }, { -10 }, { 1 }, { 7 } } },
};

static struct gen_spec *make_spec(const struct scase *c)
{
	char json[2048];

	snprintf(json, sizeof(json), "{\"vms\": [{\"name\": \"%s\", %s}]}", c->name, c->vm);
	return spec_or_fail(c->name, json);
}

int main(void)
{
	struct gen_options opt;
	double total = 0;

	gen_options_init(&opt);
	opt.generator = GEN_SYNTH;
	opt.cache_dir = "";
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct scase *c = &cases[i];
		struct gen_spec *spec = make_spec(c);
		struct gen_result res;
		char why[256] = "";
		bool ok;
		double t;

		if (!spec)
			continue;
		t = now_ms();
		ok = !gen_generate(spec, 0, &opt, &res);
		t = now_ms() - t;
		total += t;
		for (int h = 0; ok && h < 4; h++) {
			struct gen_example ex = { .nin = c->nin, .nout = c->nout };

			memcpy(ex.in, c->held[h], sizeof(c->held[h]));
			c->f(ex.in, ex.out);
			ok = gen_check_example(&spec->vms[0], &res.image.prog, &ex, why, sizeof(why));
		}
		tap_ok(ok && res.generator == GEN_SYNTH && res.examples_passed == spec->vms[0].nexamples,
		       "synth %s: %u insns, %llu candidates, %.1f ms; right on held-out inputs %s%s",
		       c->name, res.image.prog.ninsns, (unsigned long long)res.candidates, t, why,
		       res.error);
		gen_result_free(&res);
		gen_spec_free(spec);
	}
	printf("# synthesizer: %.0f ms for %zu specs\n", total,
	       sizeof(cases) / sizeof(cases[0]));

	/* Determinism: the same seed gives the same program. */
	{
		struct gen_spec *spec = make_spec(&cases[4]);
		struct gen_result a = { 0 }, b = { 0 };
		bool ok = spec && !gen_generate(spec, 0, &opt, &a) && !gen_generate(spec, 0, &opt, &b) &&
			  !strcmp(a.asm_text, b.asm_text) && a.candidates == b.candidates;

		tap_ok(ok, "synth: same spec and seed, same program and candidate count");
		if (spec) {
			gen_result_free(&a);
			gen_result_free(&b);
		}
		gen_spec_free(spec);
	}

	/* The cache: second call served from it, same bundle bytes. */
	{
		struct gen_spec *spec = make_spec(&cases[2]);
		struct gen_options copt = opt;
		struct gen_result a = { 0 }, b = { 0 };
		bool ok;

		copt.cache_dir = NULL;	/* $HA_GEN_CACHE, set by the Makefile */
		ok = spec && !gen_generate(spec, 0, &copt, &a);
		ok = ok && !gen_generate(spec, 0, &copt, &b);
		ok = ok && !a.from_cache && b.from_cache && b.generator == GEN_SYNTH &&
		     a.bundle_len == b.bundle_len && !memcmp(a.bundle, b.bundle, a.bundle_len) &&
		     !strcmp(a.spec_hash, b.spec_hash) && b.t_ai_ns == 0;
		tap_ok(ok, "cache: the same spec yields the same VM (%s)", b.cache_path);
		if (spec) {
			gen_result_free(&a);
			gen_result_free(&b);
		}
		gen_spec_free(spec);
	}
	return tap_done();
}
