// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Running a VM's program the way the spec says (the generator ABI), and
 * the acceptance test every candidate of every generator goes through:
 * assemble, verify, run on each example with the reference interpreter.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "gen_internal.h"

int gen_job_setup(const struct gen_vm *vm, const struct lavm_prog *prog,
		  const struct gen_example *ex, struct lavm_job *job)
{
	uint32_t nshared = vm->shared_size > prog->shared_size ? vm->shared_size : prog->shared_size;
	const struct gen_word *words = ex ? ex->shared_in : vm->shared_init;
	uint32_t nwords = ex ? ex->nshared_in : vm->nshared_init;
	const float *in = ex ? ex->in : vm->input;
	int ret;

	ret = lavm_job_alloc(job, prog, vm->instances, nshared, vm->max_epochs);
	if (ret)
		return ret;
	for (uint32_t i = 0; i < vm->instances; i++) {
		struct lavm_vm *s = &job->vms[i];

		lavm_vm_init(s, prog, i);
		s->v[LAVM_X_R0] = 0;
		for (uint32_t k = 0; k < vm->ninputs; k++) {
			s->v[LAVM_X_MEM0 + k] = in[k];
			if (k < LAVM_NREGS)
				s->v[LAVM_X_R0 + k] = in[k];
		}
		s->v[LAVM_X_MEM0 + GEN_MEM_NINST] = (float)vm->instances;
		s->v[LAVM_X_MEM0 + GEN_MEM_ID] = (float)i;
	}
	for (uint32_t w = 0; w < nwords; w++)
		job->shared[words[w].index] = words[w].value;
	return 0;
}

bool gen_check_example(const struct gen_vm *vm, const struct lavm_prog *prog,
		       const struct gen_example *ex, char *why, size_t whylen)
{
	char got[32], want[32], dummy[8];
	struct lavm_job job;
	bool ok = true;

	if (!why) {
		why = dummy;
		whylen = sizeof(dummy);
	}
	why[0] = 0;
	if (gen_job_setup(vm, prog, ex, &job)) {
		snprintf(why, whylen, "out of memory");
		return false;
	}
	lavm_ref_run(&job);
	for (uint32_t i = 0; ok && i < job.nvms; i++) {
		const struct lavm_vm *s = &job.vms[i];

		if (s->status == LAVM_FAULTED) {
			snprintf(why, whylen, "instance %u faulted (%s) at instruction %u", i,
				 lavm_fault_name(s->fault), (uint32_t)s->v[LAVM_X_IP]);
			ok = false;
		} else if (s->status != LAVM_HALTED) {
			snprintf(why, whylen, "instance %u did not halt within %u epochs (stopped at "
				 "instruction %u)", i, job.max_epochs, (uint32_t)s->v[LAVM_X_IP]);
			ok = false;
		}
		for (uint32_t o = 0; ok && o < ex->nout; o++) {
			float v = s->v[LAVM_X_R0 + o];

			if (gen_same_value(v, ex->out[o]))
				continue;
			gen_fmt_float(got, sizeof(got), v);
			gen_fmt_float(want, sizeof(want), ex->out[o]);
			snprintf(why, whylen, "instance %u: output %s (r%u) = %s, expected %s", i,
				 vm->outputs[o], o, got, want);
			ok = false;
		}
	}
	for (uint32_t w = 0; ok && w < ex->nshared_out; w++) {
		float v = job.shared[ex->shared_out[w].index];

		if (gen_same_value(v, ex->shared_out[w].value))
			continue;
		gen_fmt_float(got, sizeof(got), v);
		gen_fmt_float(want, sizeof(want), ex->shared_out[w].value);
		snprintf(why, whylen, "shared[%u] = %s, expected %s", ex->shared_out[w].index, got, want);
		ok = false;
	}
	lavm_job_free(&job);
	return ok;
}

uint32_t gen_check_examples(const struct gen_vm *vm, const struct lavm_prog *prog,
			    char *why, size_t whylen)
{
	uint32_t passed = 0;
	char one[400];

	if (why && whylen)
		why[0] = 0;
	for (uint32_t e = 0; e < vm->nexamples; e++) {
		if (gen_check_example(vm, prog, &vm->examples[e], one, sizeof(one))) {
			passed++;
		} else if (why && whylen && !why[0]) {
			char in[200] = "";
			size_t n = 0;

			for (uint32_t k = 0; k < vm->ninputs && n < sizeof(in) - 40; k++) {
				char v[32];

				gen_fmt_float(v, sizeof(v), vm->examples[e].in[k]);
				n += snprintf(in + n, sizeof(in) - n, "%s%s=%s", k ? ", " : "",
					      vm->params[k], v);
			}
			snprintf(why, whylen, "example %u (%s): %s", e, in, one);
		}
	}
	return passed;
}

/* First line of @s (the assembler's "file:line:col: error: ..."). */
static void first_lines(char *dst, size_t len, const char *s, int nlines)
{
	size_t n = 0;

	while (*s && n + 1 < len) {
		if (*s == '\n' && --nlines == 0)
			break;
		dst[n++] = *s == '\n' ? ' ' : *s;
		s++;
	}
	dst[n] = 0;
}

int gen_try_candidate(struct gen_ctx *ctx, const char *src, size_t len, char *why, size_t whylen)
{
	struct lavm_image img = { 0 };
	struct lavm_verify_err verr;
	char *diag = NULL;
	size_t diaglen = 0;
	FILE *f;
	void *scratch;
	int ret;

	ctx->candidates++;
	f = open_memstream(&diag, &diaglen);
	if (!f)
		return -ENOMEM;
	ret = lavm_assemble("candidate", src, len, &img, f);
	fclose(f);
	if (ret) {
		/* The error and its hint: what the next attempt needs to know. */
		first_lines(why, whylen, diag ? diag : "", 2);
		if (!why[0])
			snprintf(why, whylen, "assembler: %s", strerror(-ret));
		free(diag);
		lavm_image_free(&img);
		return ret == -ENOMEM ? ret : -EINVAL;
	}
	free(diag);
	/* The assembler verified it; verify again, as an engine's loader would. */
	scratch = malloc(lavm_verify_scratch_size(&img.prog) + 1);
	if (!scratch) {
		lavm_image_free(&img);
		return -ENOMEM;
	}
	ret = lavm_verify(&img.prog, scratch, lavm_verify_scratch_size(&img.prog) + 1, &verr);
	free(scratch);
	if (ret) {
		snprintf(why, whylen, "verifier: %s at instruction %u", lavm_strerror(ret), verr.insn);
		lavm_image_free(&img);
		return -EINVAL;
	}
	if (img.prog.shared_size > ctx->vm->shared_size) {
		snprintf(why, whylen, "the program needs %u shared words (.shared), the VM has %u",
			 img.prog.shared_size, ctx->vm->shared_size);
		lavm_image_free(&img);
		return -EINVAL;
	}
	if (gen_check_examples(ctx->vm, &img.prog, why, whylen) != ctx->vm->nexamples) {
		lavm_image_free(&img);
		return -EINVAL;
	}
	ctx->asm_text = malloc(len + 1);
	if (!ctx->asm_text) {
		lavm_image_free(&img);
		return -ENOMEM;
	}
	memcpy(ctx->asm_text, src, len);
	ctx->asm_text[len] = 0;
	ctx->img = img;
	ctx->accepted = true;
	return 0;
}
