// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * hyperaether-gen: generate the programs of a spec's VMs and show how
 * they were found.  The daemon's "hyperaether gen" uses the same library.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include "genclient.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: hyperaether-gen SPEC.json [--vm NAME] [--generator auto|source|compiler|synth|ai]\n"
		   "                      [--seed N] [--rounds N] [--budget-ms MS] [--no-cache]\n"
		   "                      [--out DIR] [--json] [--verbose]\n");
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "vm", required_argument, NULL, 'v' },
		{ "generator", required_argument, NULL, 'g' },
		{ "seed", required_argument, NULL, 's' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "budget-ms", required_argument, NULL, 'b' },
		{ "no-cache", no_argument, NULL, 'n' },
		{ "out", required_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct gen_options opt;
	struct gen_spec *spec;
	struct gen_error err;
	const char *vmname = NULL, *outdir = NULL;
	bool json = false;
	int c, rc = 0, ret;

	gen_options_init(&opt);
	while ((c = getopt_long(argc, argv, "v:g:s:r:b:no:jVh", lopts, NULL)) != -1) {
		char *end;

		switch (c) {
		case 'v':
			vmname = optarg;
			break;
		case 'g':
			if (gen_generator_parse(optarg, &opt.generator)) {
				fprintf(stderr, "hyperaether-gen: unknown generator '%s'\n", optarg);
				return 2;
			}
			break;
		case 's':
		case 'r':
		case 'b':
			errno = 0;
			unsigned long long x = strtoull(optarg, &end, 0);

			if (errno || *end || !*optarg) {
				fprintf(stderr, "hyperaether-gen: bad number '%s'\n", optarg);
				return 2;
			}
			if (c == 's')
				opt.seed = x;
			else if (c == 'r')
				opt.max_rounds = x;
			else
				opt.time_budget_ms = x;
			break;
		case 'n':
			opt.cache_dir = "";
			break;
		case 'o':
			outdir = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'V':
			opt.log = stderr;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	ret = gen_spec_load(argv[optind], &spec, &err);
	if (ret) {
		fprintf(stderr, "hyperaether-gen: %s\n", err.msg);
		return 1;
	}
	if (vmname && gen_spec_find_vm(spec, vmname) < 0) {
		fprintf(stderr, "hyperaether-gen: %s: no VM named '%s'\n", argv[optind], vmname);
		gen_spec_free(spec);
		return 1;
	}
	if (json)
		printf("[\n");
	for (uint32_t i = 0, first = 1; i < spec->nvms; i++) {
		const struct gen_vm *vm = &spec->vms[i];
		struct gen_result res;

		if (vmname && strcmp(vm->name, vmname))
			continue;
		ret = gen_generate(spec, i, &opt, &res);
		if (ret) {
			fprintf(stderr, "hyperaether-gen: %s: %s\n", argv[optind],
				res.error[0] ? res.error : strerror(-ret));
			rc = 1;
		} else if (json) {
			printf("%s", first ? "" : ",\n");
			gen_result_write_json(stdout, vm, &res);
			first = 0;
		} else {
			printf("# vm %s: generator %s, %u round(s), %llu candidate(s), T_AI %.3f ms%s\n"
			       "# %u instructions, %zu-byte bundle, %u/%u examples pass, spec %.16s\n",
			       vm->name, gen_generator_name(res.generator), res.rounds,
			       (unsigned long long)res.candidates, res.t_ai_ns / 1e6,
			       res.from_cache ? " (cached)" : "", res.image.prog.ninsns, res.bundle_len,
			       res.examples_passed, vm->nexamples, res.spec_hash);
			fputs(res.asm_text, stdout);
		}
		if (!ret && outdir) {
			char path[1024];

			snprintf(path, sizeof(path), "%s/%s.lavm", outdir, vm->name);
			if (lavm_image_write(&res.image, path)) {
				fprintf(stderr, "hyperaether-gen: cannot write %s\n", path);
				rc = 1;
			}
		}
		gen_result_free(&res);
	}
	if (json)
		printf("]\n");
	gen_spec_free(spec);
	return rc;
}
