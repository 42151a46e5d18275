// SPDX-License-Identifier: GPL-2.0
/*
 * hyperaether-executor: one batch on one engine.  The kernel verified the
 * program at submit, but the executor trusts nothing it maps: a batch whose
 * buffers do not hold what its description says is failed, and the
 * kernel's CPU engine runs it instead.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "executor.h"
#include "lavm_host.h"
#ifdef HA_EXECUTOR_VULKAN
#include "lavm_vk.h"
#endif

static __attribute__((format(printf, 4, 5)))
int fail(int ret, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return ret;
}

int ha_exec_engine_parse(const char *name, enum ha_exec_engine_kind *kind)
{
	if (!strcmp(name, "vulkan"))
		*kind = HA_EXEC_ENGINE_VULKAN;
	else if (!strcmp(name, "cpu"))
		*kind = HA_EXEC_ENGINE_CPU;
	else if (!strcmp(name, "ref"))
		*kind = HA_EXEC_ENGINE_REF;
	else
		return -EINVAL;
	return 0;
}

int ha_exec_engine_open(struct ha_exec_engine *eng, enum ha_exec_engine_kind kind,
			int device, unsigned int threads, char *err, size_t errlen)
{
	memset(eng, 0, sizeof(*eng));
	eng->kind = kind;
	if (kind == HA_EXEC_ENGINE_CPU) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		eng->threads = threads ? threads : n > 0 ? (n > 64 ? 64 : n) : 1;
	}
	if (kind != HA_EXEC_ENGINE_VULKAN)
		return 0;
#ifdef HA_EXECUTOR_VULKAN
	return lavm_vk_open(&eng->vk, device, err, errlen);
#else
	(void)device;
	return fail(-ENODEV, err, errlen,
		    "this build of hyperaether-executor has no Vulkan engine (the static one)");
#endif
}

void ha_exec_engine_close(struct ha_exec_engine *eng)
{
#ifdef HA_EXECUTOR_VULKAN
	lavm_vk_close(eng->vk);
#endif
	eng->vk = NULL;
}

void ha_exec_engine_describe(const struct ha_exec_engine *eng, char *buf, size_t len)
{
	switch (eng->kind) {
	case HA_EXEC_ENGINE_VULKAN:
#ifdef HA_EXECUTOR_VULKAN
		snprintf(buf, len, "vulkan: %s%s", eng->vk ? lavm_vk_device_name(eng->vk) : "?",
			 eng->vk && lavm_vk_device_is_cpu(eng->vk) ? " (a CPU driver)" : "");
#else
		snprintf(buf, len, "vulkan: not built");
#endif
		break;
	case HA_EXEC_ENGINE_CPU:
		snprintf(buf, len, "cpu: %u threads, %s", eng->threads, lavm_engine_isa());
		break;
	case HA_EXEC_ENGINE_REF:
		snprintf(buf, len, "ref");
		break;
	}
}

/* The batch's program: decoded and verified into @img (arrays owned). */
static int batch_prog(const struct drm_hyperaether_exec_batch *d, const struct ha_exec_bufs *b,
		      struct lavm_image *img, char *err, size_t errlen)
{
	struct lavm_bundle_info info;
	struct lavm_verify_err verr;
	void *scratch;
	int ret;

	memset(img, 0, sizeof(*img));
	if (!b->prog || d->prog_size > b->prog_len)
		return fail(-EINVAL, err, errlen, "program: %u bytes, %zu mapped",
			    d->prog_size, b->prog_len);
	ret = lavm_bundle_peek(b->prog, d->prog_size, &info);
	if (ret)
		return fail(-EINVAL, err, errlen, "program: %s", lavm_strerror(ret));
	img->insns = calloc(info.ninsns ? info.ninsns : 1, sizeof(*img->insns));
	img->matrices = calloc((size_t)info.nlinear * LAVM_MAT + 1, sizeof(float));
	if (!img->insns || !img->matrices)
		return fail(-ENOMEM, err, errlen, "program: out of memory");
	ret = lavm_bundle_load(b->prog, d->prog_size, &img->prog, img->insns, info.ninsns,
			       img->matrices, (size_t)info.nlinear * LAVM_MAT);
	if (ret)
		return fail(-EINVAL, err, errlen, "program: %s", lavm_strerror(ret));
	scratch = malloc(lavm_verify_scratch_size(&img->prog) + 1);
	if (!scratch)
		return fail(-ENOMEM, err, errlen, "verifier: out of memory");
	ret = lavm_verify(&img->prog, scratch, lavm_verify_scratch_size(&img->prog), &verr);
	free(scratch);
	if (ret)
		return fail(-EINVAL, err, errlen, "verifier: %s (instruction %d)",
			    lavm_strerror(verr.code), (int)verr.insn);
	return 0;
}

/* Fills @job and @acl from @d and @b once every size is checked. */
static int batch_job(const struct drm_hyperaether_exec_batch *d, const struct ha_exec_bufs *b,
		     const struct lavm_prog *prog, struct lavm_job *job, struct lavm_acl *acl,
		     char *err, size_t errlen)
{
	size_t stack = lavm_stack_size(prog, d->ninstances);

	if (!d->ninstances || !b->state || b->state_len / sizeof(struct lavm_vm) < d->ninstances)
		return fail(-EINVAL, err, errlen, "states: %u instances, %zu bytes mapped",
			    d->ninstances, b->state_len);
	if (d->nshared < prog->shared_size ||
	    (d->nshared && (!b->shared || b->shared_len / sizeof(float) < d->nshared)))
		return fail(-EINVAL, err, errlen, "shared: %u words (program needs %u), %zu bytes mapped",
			    d->nshared, prog->shared_size, b->shared_len);
	if (stack && (!b->stack || b->stack_len < stack))
		return fail(-EINVAL, err, errlen, "stack: %zu bytes needed, %zu mapped",
			    stack, b->stack_len);
	*job = (struct lavm_job){
		.prog = prog, .vms = b->state, .nvms = d->ninstances,
		.stack = stack ? b->stack : NULL, .shared = d->nshared ? b->shared : NULL,
		.nshared = d->nshared, .max_epochs = d->max_epochs,
	};
	if (!d->nsegments)
		return 0;
	/* nsegments u64 allow masks, then ninstances u8 domains */
	if (d->nsegments > LAVM_ACL_MAX_SEG || !b->acl ||
	    b->acl_len < (size_t)d->nsegments * sizeof(uint64_t) + d->ninstances)
		return fail(-EINVAL, err, errlen, "access table: %u segments, %zu bytes mapped",
			    d->nsegments, b->acl_len);
	*acl = (struct lavm_acl){
		.allow = b->acl, .dom = (const uint8_t *)b->acl + d->nsegments * sizeof(uint64_t),
		.seg_words = d->seg_words, .nseg = d->nsegments,
	};
	if (lavm_acl_check(acl, d->ninstances))
		return fail(-EINVAL, err, errlen, "access table: malformed (%u segments of %u words)",
			    d->nsegments, d->seg_words);
	job->acl = acl;
	return 0;
}

static int batch_engine_run(struct ha_exec_engine *eng, struct lavm_job *job, uint32_t *epochs,
			    char *err, size_t errlen)
{
	long ret;

	switch (eng->kind) {
	case HA_EXEC_ENGINE_REF:
		*epochs = lavm_ref_run(job);
		return 0;
	case HA_EXEC_ENGINE_CPU:
		ret = lavm_engine_run(job, LAVM_ENGINE_EPOCH, eng->threads);
		if (ret < 0)
			return fail(ret, err, errlen, "cpu engine: %s", strerror(-ret));
		*epochs = ret;
		return 0;
	case HA_EXEC_ENGINE_VULKAN:
#ifdef HA_EXECUTOR_VULKAN
		ret = eng->vk ? lavm_vk_run(eng->vk, job, epochs) : -ENODEV;
		if (ret)
			return fail(ret, err, errlen, "vulkan engine: %s: %s", strerror(-ret),
				    eng->vk ? lavm_vk_last_error(eng->vk) : "not open");
		return 0;
#endif
		break;
	}
	return fail(-ENODEV, err, errlen, "no such engine in this build");
}

int ha_exec_batch_run(struct ha_exec_engine *eng, const struct drm_hyperaether_exec_batch *d,
		      const struct ha_exec_bufs *b, struct ha_exec_result *res,
		      char *err, size_t errlen)
{
	struct lavm_image img;
	struct lavm_job job;
	struct lavm_acl acl;
	uint32_t epochs = 0;
	int ret;

	memset(res, 0, sizeof(*res));
	if (d->flags || d->pad || d->reserved[0] || d->reserved[1])
		return fail(-EOPNOTSUPP, err, errlen, "batch %u: unknown flags 0x%x or reserved fields set",
			    d->batch_id, d->flags);
	ret = batch_prog(d, b, &img, err, errlen);
	if (!ret)
		ret = batch_job(d, b, &img.prog, &job, &acl, err, errlen);
	if (!ret)
		ret = batch_engine_run(eng, &job, &epochs, err, errlen);
	if (!ret) {
		res->epochs = epochs;
		for (uint32_t i = 0; i < job.nvms; i++)
			res->insns += job.vms[i].epochs;
	}
	lavm_image_free(&img);
	return ret;
}
