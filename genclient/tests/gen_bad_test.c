// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Bad input: each gets a clear error naming the cause (and the JSON path
 * or line:col where there is one).
 */
#include <sys/wait.h>
#include <unistd.h>
#include "gen_tap.h"

struct bad {
	const char *what;
	const char *json;
	const char *path;	/* expected err.path, or NULL */
	const char *needle;	/* must appear in err.msg */
};

static const struct bad bads[] = {
	{ "malformed JSON", "{\"vms\": [ {\"name\": \"a\",\n \"formula\": 1 + }]}", NULL, "t.json:2:" },
	{ "truncated JSON", "{\"vms\": [", NULL, "malformed JSON" },
	{ "trailing garbage", "{\"vms\": [{\"name\": \"a\", \"formula\": \"1\"}]} x", NULL, "trailing" },
	{ "not an object", "[1, 2]", "$", "JSON object" },
	{ "no vms", "{\"fabric\": \"f\"}", "$.vms", "missing \"vms\"" },
	{ "unknown field", "{\"vms\": [{\"name\": \"a\", \"formula\": \"1\", \"fromula\": 2}]}",
	  "$.vms[0].fromula", "unknown field" },
	{ "wrong type", "{\"vms\": [{\"name\": \"a\", \"formula\": \"1\", \"instances\": \"four\"}]}",
	  "$.vms[0].instances", "expected an integer" },
	{ "instances 0", "{\"vms\": [{\"name\": \"a\", \"formula\": \"1\", \"instances\": 0}]}",
	  "$.vms[0].instances", "out of range" },
	{ "unknown backend", "{\"vms\": [{\"name\": \"a\", \"formula\": \"1\", \"backend\": \"gpu\"}]}",
	  "$.vms[0].backend", "\"lavm\" or \"kvm\"" },
	{ "bad name", "{\"vms\": [{\"name\": \"9x\", \"formula\": \"1\"}]}", "$.vms[0].name", "valid VM name" },
	{ "duplicate VM", "{\"vms\": [{\"name\": \"a\", \"formula\": \"1\"}, {\"name\": \"a\", \"formula\": \"2\"}]}",
	  "$.vms[1].name", "already used" },
	{ "example arity", "{\"vms\": [{\"name\": \"a\", \"params\": [\"x\", \"y\"], \"outputs\": [\"z\"], "
	  "\"examples\": [{\"in\": [1], \"out\": 2}]}]}", "$.vms[0].examples[0].in", "expected 2 inputs" },
	{ "contradictory examples", "{\"vms\": [{\"name\": \"a\", \"params\": [\"x\"], \"outputs\": [\"z\"], "
	  "\"examples\": [{\"in\": [1], \"out\": 2}, {\"in\": [3], \"out\": 4}, {\"in\": [1], \"out\": 5}]}]}",
	  "$.vms[0].examples[2]", "contradicts $.vms[0].examples[0]" },
	{ "example checks nothing", "{\"vms\": [{\"name\": \"a\", \"params\": [\"x\"], \"outputs\": [\"z\"], "
	  "\"examples\": [{\"in\": [1]}]}]}", "$.vms[0].examples[0]", "must check something" },
	{ "shared index out of range", "{\"vms\": [{\"name\": \"a\", \"formula\": \"1\", \"shared\": {\"size\": 4, "
	  "\"init\": {\"9\": 1}}}]}", "$.vms[0].shared.init.9", "outside shared memory" },
	{ "edge to unknown VM", "{\"vms\": [{\"name\": \"a\", \"formula\": \"1\"}], \"edges\": [{\"from\": \"a\", "
	  "\"to\": \"b\", \"rights\": [\"send\"]}]}", "$.edges[0].to", "\"b\" is not a VM" },
	{ "unknown right", "{\"vms\": [{\"name\": \"a\", \"formula\": \"1\"}, {\"name\": \"b\", \"formula\": \"1\"}], "
	  "\"edges\": [{\"from\": \"a\", \"to\": \"b\", \"rights\": [\"send\", \"write\"]}]}", "$.edges[0].rights",
	  "unknown right \"write\"" },
	{ "formula syntax", "{\"vms\": [{\"name\": \"a\", \"params\": [\"x\"], \"formula\": \"(x +\\n  * 2)\"}]}",
	  "$.vms[0].formula", "formula:2:3:" },
	{ "formula unknown name", "{\"vms\": [{\"name\": \"a\", \"params\": [\"x\"], \"formula\": \"x + y\"}]}",
	  "$.vms[0].formula", "unknown name 'y'" },
	{ "formula shared without size", "{\"vms\": [{\"name\": \"a\", \"formula\": \"shared[0]\"}]}",
	  "$.vms[0].formula", "no shared memory" },
	{ "nothing to generate", "{\"vms\": [{\"name\": \"a\", \"params\": [\"x\"]}]}", "$.vms[0]",
	  "nothing to generate from" },
	{ "number too large", "{\"vms\": [{\"name\": \"a\", \"params\": [\"x\"], \"formula\": \"x\", "
	  "\"inputs\": [1e300]}]}", "$.vms[0].inputs[0]", "does not fit in an f32" },
};

static void bad_specs(void)
{
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		const struct bad *b = &bads[i];
		struct gen_spec *spec = NULL;
		struct gen_error err = { 0 };
		int ret = gen_spec_parse(b->json, strlen(b->json), "t.json", &spec, &err);

		tap_ok(ret == -EINVAL && !spec && strstr(err.msg, b->needle) &&
		       (!b->path || !strcmp(err.path, b->path)),
		       "bad spec: %s: %s", b->what, err.msg);
		gen_spec_free(spec);
	}
}

static void gen_fails(const char *what, const char *json, enum gen_generator g, uint64_t budget,
		      int want, const char *needle)
{
	struct gen_spec *spec = spec_or_fail(what, json);
	struct gen_options opt;
	struct gen_result res;
	int ret;

	if (!spec)
		return;
	gen_options_init(&opt);
	opt.generator = g;
	opt.cache_dir = "";
	if (budget)
		opt.max_candidates = budget;
	ret = gen_generate(spec, 0, &opt, &res);
	tap_ok(ret == want && strstr(res.error, needle), "%s: %s", what, res.error);
	gen_result_free(&res);
	gen_spec_free(spec);
}

int main(void)
{
	const char *cli = getenv("GEN_CLI");

	bad_specs();
	/* Random-looking outputs: no small expression explains them. */
	gen_fails("synth does not converge",
		  "{\"vms\": [{\"name\": \"noise\", \"params\": [\"x\"], \"outputs\": [\"y\"], \"examples\": ["
		  "{\"in\": [1], \"out\": 917}, {\"in\": [2], \"out\": -3}, {\"in\": [3], \"out\": 45.25}, "
		  "{\"in\": [4], \"out\": 0.125}, {\"in\": [5], \"out\": 77}, {\"in\": [6], \"out\": -1000}, "
		  "{\"in\": [7], \"out\": 3}, {\"in\": [8], \"out\": 12345}]}]}",
		  GEN_SYNTH, 300000, -ESRCH, "did not converge after");
	gen_fails("formula contradicts the examples",
		  "{\"vms\": [{\"name\": \"wrong\", \"params\": [\"x\"], \"formula\": \"x + 1\", "
		  "\"examples\": [{\"in\": [1], \"out\": 2}, {\"in\": [2], \"out\": 5}]}]}",
		  GEN_COMPILER, 0, -ESRCH, "example 1 (x=2): instance 0: output result (r0) = 3, expected 5");
	gen_fails("unsafe source program",
		  "{\"vms\": [{\"name\": \"unsafe\", \"source\": \"\\tJUMP 7\\n\\tHALT\\n\"}]}",
		  GEN_AUTO, 0, -ESRCH, "target outside the program");
	gen_fails("source that faults",
		  "{\"vms\": [{\"name\": \"faulty\", \"params\": [\"x\"], \"outputs\": [\"y\"], "
		  "\"source\": \"\\tSYSCALL_READ r0, r0\\n\\tHALT\\n\", \"examples\": [{\"in\": [1], \"out\": 1}]}]}",
		  GEN_AUTO, 0, -ESRCH, "faulted (shared_addr)");
	gen_fails("source that never halts",
		  "{\"vms\": [{\"name\": \"spin\", \"params\": [\"x\"], \"outputs\": [\"y\"], \"quota\": {\"epochs\": 500}, "
		  "\"source\": \"top:\\n\\tJUMP top\\n\", \"examples\": [{\"in\": [1], \"out\": 1}]}]}",
		  GEN_AUTO, 0, -ESRCH, "did not halt within 500 epochs");
	gen_fails("compiler without a formula",
		  "{\"vms\": [{\"name\": \"nof\", \"params\": [\"x\"], \"outputs\": [\"y\"], "
		  "\"examples\": [{\"in\": [1], \"out\": 1}]}]}",
		  GEN_COMPILER, 0, -EINVAL, "has no \"formula\"");
	gen_fails("intent only, no endpoint",
		  "{\"vms\": [{\"name\": \"talk\", \"intent\": \"say hello\"}]}",
		  GEN_AUTO, 0, -EINVAL, "no generator applies");
	gen_fails("too many live values",
		  "{\"vms\": [{\"name\": \"big\", \"params\": [\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\",\"i\",\"j\",\"k\",\"l\"], "
		  "\"formula\": \"sum(p, 0, a, sum(q, 0, b, p * q))\"}]}",
		  GEN_COMPILER, 0, -ESRCH, "too complex");

	/* The CLI: exit 1 and one line naming the file and the cause. */
	if (cli) {
		char cmd[1024];
		FILE *f = fopen("/tmp/gen_bad_test.json", "w");
		int st;

		if (f) {
			fputs("{\"vms\": [\n  {\"name\": \"a\" \"formula\": \"1\"}]}\n", f);
			fclose(f);
		}
		char out[512] = "";
		FILE *p;

		snprintf(cmd, sizeof(cmd), "%s /tmp/gen_bad_test.json 2>&1", cli);
		p = popen(cmd, "r");
		if (p && !fgets(out, sizeof(out), p))
			out[0] = 0;
		st = p ? pclose(p) : -1;
		tap_ok(WIFEXITED(st) && WEXITSTATUS(st) == 1 &&
		       strstr(out, "hyperaether-gen: /tmp/gen_bad_test.json:2:") &&
		       strstr(out, "malformed JSON"), "cli: malformed JSON: exit 1, %s", out);
		unlink("/tmp/gen_bad_test.json");
	}
	return tap_done();
}
