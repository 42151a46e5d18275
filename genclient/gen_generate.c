// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * gen_generate(): pick the generator(s), run the feedback loop under its
 * budget, package the accepted program (image, assembler text, bundle)
 * and cache it by spec hash.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "gen_internal.h"

static const char *const gen_names[GEN_NGENERATORS] = {
	[GEN_AUTO] = "auto", [GEN_SOURCE] = "source", [GEN_COMPILER] = "compiler",
	[GEN_SYNTH] = "synth", [GEN_AI] = "ai",
};

const char *gen_generator_name(enum gen_generator g)
{
	return (unsigned int)g < GEN_NGENERATORS ? gen_names[g] : "?";
}

int gen_generator_parse(const char *name, enum gen_generator *g)
{
	for (int i = 0; i < GEN_NGENERATORS; i++)
		if (name && !strcmp(name, gen_names[i])) {
			*g = i;
			return 0;
		}
	return -EINVAL;
}

void gen_options_init(struct gen_options *opt)
{
	memset(opt, 0, sizeof(*opt));
	opt->generator = GEN_AUTO;
	opt->seed = 1;
	opt->max_rounds = 4;
	opt->max_candidates = 2000000;
	opt->time_budget_ms = 20000;
}

void gen_log(struct gen_ctx *ctx, const char *fmt, ...)
{
	char line[700];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	gen_buf_printf(&ctx->report, "%s\n", line);
	if (ctx->opt->log) {
		fprintf(ctx->opt->log, "gen: %s: %s\n", ctx->vm->name, line);
		fflush(ctx->opt->log);
	}
}

bool gen_out_of_time(const struct gen_ctx *ctx)
{
	return gen_now_ns() >= ctx->deadline_ns;
}

void gen_result_free(struct gen_result *res)
{
	if (!res)
		return;
	lavm_image_free(&res->image);
	free(res->asm_text);
	free(res->bundle);
	free(res->report);
	memset(res, 0, sizeof(*res));
}

static int run_source(struct gen_ctx *ctx)
{
	char why[512];
	int ret;

	ctx->rounds++;
	ret = gen_try_candidate(ctx, ctx->vm->source, strlen(ctx->vm->source), why, sizeof(why));
	if (ret == -ENOMEM)
		return ret;
	if (ret) {
		gen_log(ctx, "source: rejected: %s", why);
		snprintf(ctx->last_fail, sizeof(ctx->last_fail), "the spec's source program: %s", why);
		return -ESRCH;
	}
	gen_log(ctx, "source: accepted (%u instructions)", ctx->img.prog.ninsns);
	return 0;
}

int gen_run_compiler(struct gen_ctx *ctx)
{
	struct gen_error err;
	char *src, why[512];
	int ret;

	ctx->rounds++;
	ret = gen_formula_compile(ctx->vm, &src, &err);
	if (ret) {
		gen_log(ctx, "compiler: %s", err.msg);
		snprintf(ctx->last_fail, sizeof(ctx->last_fail), "%s", err.msg);
		return ret == -ENOMEM ? ret : -ESRCH;
	}
	ret = gen_try_candidate(ctx, src, strlen(src), why, sizeof(why));
	free(src);
	if (ret == -ENOMEM)
		return ret;
	if (ret) {
		/* The formula disagrees with the examples: a generator cannot fix that. */
		gen_log(ctx, "compiler: rejected: %s", why);
		snprintf(ctx->last_fail, sizeof(ctx->last_fail), "compiled formula: %s", why);
		return -ESRCH;
	}
	gen_log(ctx, "compiler: accepted (%u instructions)", ctx->img.prog.ninsns);
	return 0;
}

/* Whether generator @g can work on @vm at all (else a one-line reason). */
static const char *not_applicable(const struct gen_vm *vm, const struct gen_options *opt,
				  enum gen_generator g)
{
	switch (g) {
	case GEN_SOURCE:
		return vm->source ? NULL : "the VM has no \"source\"";
	case GEN_COMPILER:
		return vm->formula ? NULL : "the VM has no \"formula\"";
	case GEN_SYNTH:
		if (!vm->nexamples)
			return "the VM has no examples to synthesize from";
		return NULL;
	case GEN_AI:
		if (!opt->ai.url && !getenv("HA_AI_URL"))
			return "no AI endpoint configured (HA_AI_URL)";
		return NULL;
	default:
		return "no such generator";
	}
}

static int run_one(struct gen_ctx *ctx, enum gen_generator g)
{
	switch (g) {
	case GEN_SOURCE:
		return run_source(ctx);
	case GEN_COMPILER:
		return gen_run_compiler(ctx);
	case GEN_SYNTH:
		return gen_run_synth(ctx);
	case GEN_AI:
		return gen_run_ai(ctx);
	default:
		return -EINVAL;
	}
}

static int package(struct gen_ctx *ctx, struct gen_result *res, enum gen_generator g)
{
	long n;

	res->image = ctx->img;
	memset(&ctx->img, 0, sizeof(ctx->img));
	res->asm_text = ctx->asm_text;
	ctx->asm_text = NULL;
	res->generator = g;
	res->bundle_len = lavm_bundle_size(&res->image.prog);
	res->bundle = malloc(res->bundle_len);
	if (!res->bundle)
		return -ENOMEM;
	n = lavm_bundle_write(&res->image.prog, res->bundle, res->bundle_len);
	if (n < 0 || (size_t)n != res->bundle_len)
		return -EIO;
	return 0;
}

int gen_generate(const struct gen_spec *spec, uint32_t vmi,
		 const struct gen_options *opt_in, struct gen_result *res)
{
	struct gen_options defaults;
	const struct gen_options *opt = opt_in;
	struct gen_ctx ctx = { 0 };
	enum gen_generator order[4];
	char dir[512] = "", key[GEN_HASH_HEX + 16];
	int norder = 0, ret = -ESRCH;
	const char *why;

	memset(res, 0, sizeof(*res));
	if (!opt) {
		gen_options_init(&defaults);
		opt = &defaults;
	}
	if (vmi >= spec->nvms) {
		snprintf(res->error, sizeof(res->error), "no VM %u in the spec (it has %u)", vmi, spec->nvms);
		return -EINVAL;
	}
	ctx.spec = spec;
	ctx.vm = &spec->vms[vmi];
	ctx.opt = opt;
	ret = gen_vm_hash(ctx.vm, res->spec_hash);
	if (ret)
		return ret;

	if (opt->generator == GEN_AUTO) {
		/* The author's own program wins; else the built-in generators; AI last. */
		if (ctx.vm->source) {
			order[norder++] = GEN_SOURCE;
		} else {
			if (ctx.vm->formula)
				order[norder++] = GEN_COMPILER;
			if (!not_applicable(ctx.vm, opt, GEN_SYNTH))
				order[norder++] = GEN_SYNTH;
			if (!not_applicable(ctx.vm, opt, GEN_AI))
				order[norder++] = GEN_AI;
		}
		if (!norder) {
			snprintf(res->error, sizeof(res->error), "VM '%s': no generator applies: it has "
				 "no source, no formula and no examples, and no AI endpoint is "
				 "configured (HA_AI_URL)", ctx.vm->name);
			return -EINVAL;
		}
	} else {
		why = not_applicable(ctx.vm, opt, opt->generator);
		if (why) {
			snprintf(res->error, sizeof(res->error), "VM '%s': generator %s cannot run: %s",
				 ctx.vm->name, gen_generator_name(opt->generator), why);
			return -EINVAL;
		}
		order[norder++] = opt->generator;
	}

	if (!opt->cache_dir) {
		if (gen_cache_dir(dir, sizeof(dir)))
			dir[0] = 0;
	} else {
		snprintf(dir, sizeof(dir), "%s", opt->cache_dir);
	}
	snprintf(key, sizeof(key), "%s-%s", res->spec_hash, gen_generator_name(opt->generator));
	if (dir[0] && !gen_cache_lookup(&ctx, dir, key, res)) {
		res->examples_passed = ctx.vm->nexamples;
		gen_buf_printf(&ctx.report, "cache: hit %s (found by %s)\n", res->cache_path,
			       gen_generator_name(res->generator));
		res->report = gen_buf_take(&ctx.report);
		res->bundle_len = lavm_bundle_size(&res->image.prog);
		res->bundle = malloc(res->bundle_len);
		if (!res->bundle || !res->report)
			return -ENOMEM;
		lavm_bundle_write(&res->image.prog, res->bundle, res->bundle_len);
		return 0;
	}

	ctx.start_ns = gen_now_ns();
	ctx.deadline_ns = ctx.start_ns + (uint64_t)opt->time_budget_ms * 1000000ull;
	for (int i = 0; i < norder; i++) {
		ret = run_one(&ctx, order[i]);
		if (!ret) {
			ret = package(&ctx, res, order[i]);
			break;
		}
		/* Network and resource errors end the call; a miss tries the next generator. */
		if (ret != -ESRCH)
			break;
	}
	res->t_ai_ns = gen_now_ns() - ctx.start_ns;
	res->rounds = ctx.rounds;
	res->candidates = ctx.candidates;
	if (!ret) {
		res->examples_passed = ctx.vm->nexamples;
		if (dir[0]) {
			int cret = gen_cache_store(dir, key, res, res->cache_path, sizeof(res->cache_path));

			if (cret)
				gen_log(&ctx, "cache: not stored in %s: %s", dir, strerror(-cret));
		}
	} else if (ret == -ESRCH) {
		snprintf(res->error, sizeof(res->error), "VM '%s': did not converge after %u rounds "
			 "(%llu candidates, %.1f s): %s", ctx.vm->name, ctx.rounds,
			 (unsigned long long)ctx.candidates, res->t_ai_ns / 1e9,
			 ctx.last_fail[0] ? ctx.last_fail : "no candidate");
	} else if (!res->error[0]) {
		snprintf(res->error, sizeof(res->error), "VM '%s': %s", ctx.vm->name,
			 ctx.last_fail[0] ? ctx.last_fail : strerror(-ret));
	}
	res->report = gen_buf_take(&ctx.report);
	lavm_image_free(&ctx.img);
	free(ctx.asm_text);
	return ret;
}

void gen_result_write_json(FILE *out, const struct gen_vm *vm, const struct gen_result *res)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "vm", json_object_new_string(vm->name));
	json_object_object_add(o, "generator", json_object_new_string(gen_generator_name(res->generator)));
	json_object_object_add(o, "rounds", json_object_new_int(res->rounds));
	json_object_object_add(o, "candidates", json_object_new_int64(res->candidates));
	json_object_object_add(o, "t_ai_ms", json_object_new_double(res->t_ai_ns / 1e6));
	json_object_object_add(o, "from_cache", json_object_new_boolean(res->from_cache));
	json_object_object_add(o, "spec_hash", json_object_new_string(res->spec_hash));
	json_object_object_add(o, "cache_path", json_object_new_string(res->cache_path));
	json_object_object_add(o, "ninsns", json_object_new_int(res->image.prog.ninsns));
	json_object_object_add(o, "bundle_bytes", json_object_new_int64(res->bundle_len));
	json_object_object_add(o, "examples", json_object_new_int(res->examples_passed));
	json_object_object_add(o, "asm", json_object_new_string(res->asm_text ? res->asm_text : ""));
	json_object_object_add(o, "report", json_object_new_string(res->report ? res->report : ""));
	fprintf(out, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
							     JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}
