// SPDX-License-Identifier: GPL-2.0
/*
 * Hyper-Aether accel driver: SUBMIT and WAIT, and the CPU engine.
 *
 * SUBMIT checks every field, looks up and maps the buffers, loads the
 * program from its bundle and runs the LAVM verifier on it, snapshots the
 * fabric's SHARE rights into the job's access table and charges the epoch
 * budget to the fabric VMs' quotas, all before the job is armed: a job
 * that reaches the scheduler cannot fail for a reason the caller could
 * have been told about.
 *
 * The CPU engine runs the lavm/ epoch engine in the kernel.  A slice is a
 * whole lavm_epoch_setup()..finish() pass limited to a number of epochs,
 * so that between slices all state sits in the buffers at an epoch
 * boundary; inside a slice the FPU is taken one block of 256 instances at
 * a time, so preemption is never off for more than one block's epochs.
 */
#include <linux/iosys-map.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/cpufeature.h>
#include <asm/fpu/api.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_syncobj.h>
#include <drm/hyperaether_accel.h>

#include "ha_accel.h"
#include "ha_accel_lavm.h"
#include "ha_lavm_epoch.h"
#include "ha_accel_trace.h"
#include "hyperaether_fabric_api.h"

/* ------------------------------------------------------------ engine */

/* One build of the lavm epoch engine (generic SSE2, or AVX2). */
struct ha_epoch_ops {
	const char *name;
	size_t (*mem_size)(const struct lavm_prog *prog, uint32_t nvms);
	int (*setup)(struct lavm_epoch *eng, struct lavm_job *job, void *mem,
		     size_t len);
	void (*load)(struct lavm_epoch *eng, uint32_t b0, uint32_t b1);
	void (*run_blocks)(struct lavm_epoch *eng, uint32_t b0, uint32_t b1);
	void (*min_io)(struct lavm_epoch *eng, uint32_t b0, uint32_t b1,
		       struct lavm_epoch_wait *w);
	bool (*io)(struct lavm_epoch *eng, const struct lavm_epoch_wait *w);
	uint32_t (*finish)(struct lavm_epoch *eng, uint32_t b0, uint32_t b1);
	uint32_t (*most)(struct lavm_epoch *eng, uint32_t b0, uint32_t b1,
			 uint64_t *sum);
	void (*extend)(struct lavm_epoch *eng, uint32_t b0, uint32_t b1,
		       uint32_t old_max);
};

#define HA_EPOCH_OPS(sfx, label) {					\
	.name = label,							\
	.mem_size = lavm_epoch_mem_size##sfx,				\
	.setup = lavm_epoch_setup##sfx,					\
	.load = lavm_epoch_load##sfx,					\
	.run_blocks = lavm_epoch_run_blocks##sfx,			\
	.min_io = lavm_epoch_min_io##sfx,				\
	.io = lavm_epoch_io##sfx,					\
	.finish = lavm_epoch_finish##sfx,				\
	.most = lavm_epoch_most##sfx,					\
	.extend = lavm_epoch_extend##sfx,				\
}

static const struct ha_epoch_ops ha_epoch_sse2 = HA_EPOCH_OPS(, "sse2");
static const struct ha_epoch_ops ha_epoch_avx2 = HA_EPOCH_OPS(_avx2, "avx2");

/* AVX2 if the CPU has it and the kernel saves the YMM state. */
static const struct ha_epoch_ops *ha_epoch(void)
{
	if (boot_cpu_has(X86_FEATURE_AVX2) &&
	    cpu_has_xfeatures(XFEATURE_MASK_SSE | XFEATURE_MASK_YMM, NULL))
		return &ha_epoch_avx2;
	return &ha_epoch_sse2;
}

const char *ha_accel_epoch_isa(void)
{
	return ha_epoch()->name;
}

int ha_cpu_begin(struct ha_accel_job *job)
{
	struct ha_accel_lavm *l = job->priv;
	u32 n = l->lj.nvms, i;

	l->emem_len = ha_epoch()->mem_size(&l->prog, n);
	l->emem = kvzalloc(l->emem_len, GFP_KERNEL_ACCOUNT);
	l->acc = kvcalloc(n, sizeof(*l->acc), GFP_KERNEL_ACCOUNT);
	if (!l->emem || !l->acc) {
		kvfree(l->emem);
		kvfree(l->acc);
		l->emem = NULL;
		l->acc = NULL;
		return -ENOMEM;
	}
	if (l->init_states) {
		for (i = 0; i < n; i++) {
			if (!(i % LAVM_BLOCK))
				kernel_fpu_begin();
			lavm_vm_init(&l->lj.vms[i], &l->prog, i);
			if (i % LAVM_BLOCK == LAVM_BLOCK - 1 || i == n - 1) {
				kernel_fpu_end();
				cond_resched();
			}
		}
	}
	return 0;
}

/*
 * The engine is loaded once per run of slices: lavm_epoch_setup() and
 * lavm_epoch_load() when a slice finds it unloaded, lavm_epoch_extend()
 * to go on from one slice to the next, lavm_epoch_finish() when the job
 * ends or its buffers must hold the states (an executor takes the next
 * slice).  The FPU is taken one block at a time.
 */
static void ha_cpu_load(struct ha_accel_job *job)
{
	const struct ha_epoch_ops *ops = ha_epoch();
	struct ha_accel_lavm *l = job->priv;
	u32 b;

	l->load_base = job->epochs;
	l->load_sum = 0;
	kernel_fpu_begin();
	ops->setup(&l->eng, &l->lj, l->emem, l->emem_len);
	kernel_fpu_end();
	for (b = 0; b < l->eng.nblocks; b++) {
		kernel_fpu_begin();
		ops->load(&l->eng, b, b + 1);
		kernel_fpu_end();
		cond_resched();
	}
	l->loaded = true;
}

/* Writes the states back; per-instance epochs add up across loads. */
void ha_cpu_unload(struct ha_accel_job *job)
{
	const struct ha_epoch_ops *ops = ha_epoch();
	struct ha_accel_lavm *l = job->priv;
	u32 b, i;

	if (!l->loaded)
		return;
	for (b = 0; b < l->eng.nblocks; b++) {
		kernel_fpu_begin();
		ops->finish(&l->eng, b, b + 1);
		kernel_fpu_end();
		cond_resched();
	}
	for (i = 0; i < l->lj.nvms; i++)
		l->acc[i] += l->lj.vms[i].epochs;
	l->loaded = false;
}

/* Runs the loaded engine until every lane stops at l->lj.max_epochs or ends. */
static void ha_cpu_run(struct ha_accel_lavm *l)
{
	const struct ha_epoch_ops *ops = ha_epoch();
	struct lavm_epoch_wait w, wb;
	bool more;
	u32 b;

	do {
		w = (struct lavm_epoch_wait){ LAVM_EPOCH_NONE, 0, U32_MAX };
		for (b = 0; b < l->eng.nblocks; b++) {
			kernel_fpu_begin();
			ops->run_blocks(&l->eng, b, b + 1);
			ops->min_io(&l->eng, b, b + 1, &wb);
			kernel_fpu_end();
			lavm_epoch_wait_merge(&w, &wb);
			cond_resched();
		}
		kernel_fpu_begin();
		more = ops->io(&l->eng, &w);
		kernel_fpu_end();
	} while (more);
}

/* Epochs the next slice of @job may run. */
u32 ha_lavm_slice_epochs(struct ha_accel_job *job)
{
	struct ha_accel_lavm *l = job->priv;
	u32 e = max(1u, READ_ONCE(ha_accel_slice_insns) / l->lj.nvms);

	return min3(e, (u32)HA_SLICE_MAX_EPOCHS, l->max_epochs - job->epochs);
}

/*
 * A slice of @e epochs left the states in the state buffer: sum the
 * per-instance counts and tell whether more is to run.  The epochs a
 * slice ran are the most any instance took part in (what lavm_ref_run()
 * returns).
 */
int ha_lavm_slice_done(struct ha_accel_job *job, u32 e)
{
	struct ha_accel_lavm *l = job->priv;
	u32 n = l->lj.nvms, ran = 0, i;
	u64 insns = 0;

	for (i = 0; i < n; i++) {
		u32 ep = min(READ_ONCE(l->lj.vms[i].epochs), e);

		l->acc[i] += ep;
		insns += ep;
		ran = max(ran, ep);
	}
	trace_ha_accel_slice(job, job->epochs, ran, n);
	job->epochs += ran;
	job->insns += insns;
	atomic64_add(ran, &job->ctx->engine->epochs);
	atomic64_add(insns, &job->ctx->engine->insns);
	/* Fewer epochs than allowed: no instance is active any more. */
	return ran == e && job->epochs < l->max_epochs;
}

int ha_cpu_slice(struct ha_accel_job *job)
{
	const struct ha_epoch_ops *ops = ha_epoch();
	struct ha_accel_lavm *l = job->priv;
	u32 e = ha_lavm_slice_epochs(job), from, target, most = 0, b;
	u64 sum = 0, bsum;
	bool more;

	if (!l->loaded) {
		l->lj.max_epochs = e;
		ha_cpu_load(job);
	} else {
		from = l->lj.max_epochs;
		l->lj.max_epochs = from + e;
		for (b = 0; b < l->eng.nblocks; b++) {
			kernel_fpu_begin();
			ops->extend(&l->eng, b, b + 1, from);
			kernel_fpu_end();
		}
	}
	from = job->epochs - l->load_base;
	target = l->lj.max_epochs;
	ha_cpu_run(l);
	for (b = 0; b < l->eng.nblocks; b++) {
		kernel_fpu_begin();
		most = max(most, ops->most(&l->eng, b, b + 1, &bsum));
		kernel_fpu_end();
		sum += bsum;
	}
	trace_ha_accel_slice(job, job->epochs, most - from, l->lj.nvms);
	job->epochs += most - from;
	job->insns += sum - l->load_sum;
	atomic64_add(most - from, &job->ctx->engine->epochs);
	atomic64_add(sum - l->load_sum, &job->ctx->engine->insns);
	l->load_sum = sum;
	/* Short of the target: no instance is active any more. */
	more = most == target && job->epochs < l->max_epochs;
	if (!more)
		ha_cpu_unload(job);
	return more;
}

/* Final per-instance epoch counts and the job's status counters. */
void ha_cpu_end(struct ha_accel_job *job)
{
	struct ha_accel_lavm *l = job->priv;
	u32 i;

	ha_cpu_unload(job);
	for (i = 0; i < l->lj.nvms; i++) {
		struct lavm_vm *vm = &l->lj.vms[i];

		vm->epochs = l->acc[i];
		switch (READ_ONCE(vm->status)) {
		case LAVM_HALTED:
			job->halted++;
			break;
		case LAVM_FAULTED:
			job->faulted++;
			job->faults[min_t(u32, READ_ONCE(vm->fault), 7)]++;
			break;
		default:
			job->active++;
		}
	}
	kvfree(l->emem);
	kvfree(l->acc);
	l->emem = NULL;
	l->acc = NULL;
	if (l->nseg)
		ha_fabric_refund_epochs(l->fvms, l->nseg,
					l->max_epochs - job->epochs);
	l->nseg = 0;
}

static void ha_lavm_free(struct ha_accel_lavm *l)
{
	int i;

	if (l->nseg)
		ha_fabric_refund_epochs(l->fvms, l->nseg, l->max_epochs);
	for (i = 0; i < HA_BO_NR; i++) {
		if (!l->bo[i])
			continue;
		if (!iosys_map_is_null(&l->map[i]))
			drm_gem_vunmap_unlocked(l->bo[i], &l->map[i]);
		drm_gem_object_put(l->bo[i]);
	}
	kvfree(l->insns);
	kvfree(l->matrices);
	kvfree(l->dom);
	kvfree(l->kstack);
	kfree(l);
}

void ha_cpu_free(struct ha_accel_job *job)
{
	if (job->priv)
		ha_lavm_free(job->priv);
	job->priv = NULL;
}

const struct ha_accel_engine_ops ha_accel_cpu_engine = {
	.name = "cpu",
	.begin = ha_cpu_begin,
	.slice = ha_cpu_slice,
	.end = ha_cpu_end,
	.free = ha_cpu_free,
};

/* ------------------------------------------------------------ submit */

/* Looks up and maps BO @slot; @need bytes must fit. */
static int ha_bo_get(struct drm_file *file, struct ha_accel_lavm *l, int slot,
		     u32 handle, u64 need)
{
	struct drm_gem_object *obj;
	int ret;

	obj = drm_gem_object_lookup(file, handle);
	if (!obj)
		return -ENOENT;
	l->bo[slot] = obj;
	if (need > obj->size)
		return -EINVAL;
	ret = drm_gem_vmap_unlocked(obj, &l->map[slot]);
	if (ret)
		return ret;
	if (l->map[slot].is_iomem)
		return -EINVAL;
	return 0;
}

static __printf(2, 3) void ha_log(struct drm_hyperaether_submit *args,
				  const char *fmt, ...)
{
	char buf[160];
	va_list ap;
	int n;

	if (!args->log_ptr || !args->log_size)
		return;
	va_start(ap, fmt);
	n = vscnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	n = min_t(u32, n + 1, args->log_size);
	buf[n - 1] = '\0';
	if (copy_to_user(u64_to_user_ptr(args->log_ptr), buf, n))
		return;
}

/* Loads the bundle from the program BO and verifies it. */
static int ha_load_prog(struct ha_accel_lavm *l,
			struct drm_hyperaether_submit *args)
{
	const void *buf = l->map[HA_BO_PROG].vaddr;
	struct lavm_bundle_info info;
	struct lavm_verify_err verr;
	void *scratch;
	size_t slen;
	int err;

	kernel_fpu_begin();
	err = lavm_bundle_peek(buf, args->prog_size, &info);
	kernel_fpu_end();
	if (err) {
		ha_log(args, "bundle: %s", lavm_strerror(err));
		return -EINVAL;
	}
	if (info.ninsns > HA_ACCEL_MAX_PROG_INSNS) {
		ha_log(args, "bundle: %u instructions, the driver takes at most %u",
		       info.ninsns, (u32)HA_ACCEL_MAX_PROG_INSNS);
		return -E2BIG;
	}
	l->insns = kvmalloc_array(info.ninsns, sizeof(*l->insns), GFP_KERNEL_ACCOUNT);
	l->matrices = kvmalloc_array((size_t)info.nlinear * LAVM_MAT + 1,
				     sizeof(float), GFP_KERNEL_ACCOUNT);
	if (!l->insns || !l->matrices)
		return -ENOMEM;
	kernel_fpu_begin();
	err = lavm_bundle_load(buf, args->prog_size, &l->prog, l->insns,
			       info.ninsns, l->matrices,
			       (size_t)info.nlinear * LAVM_MAT);
	kernel_fpu_end();
	if (err) {
		ha_log(args, "bundle: %s", lavm_strerror(err));
		return -EINVAL;
	}
	slen = lavm_verify_scratch_size(&l->prog);
	scratch = kvmalloc(slen ?: 1, GFP_KERNEL);
	if (!scratch)
		return -ENOMEM;
	kernel_fpu_begin();
	err = lavm_verify(&l->prog, scratch, slen, &verr);
	kernel_fpu_end();
	kvfree(scratch);
	if (err) {
		ha_log(args, "verifier: %s at instruction %d operand %d",
		       lavm_strerror(verr.code), (int)verr.insn,
		       (int)verr.operand);
		return -EINVAL;
	}
	return 0;
}

/* Segments: the fabric's SHARE rights become the job's access table. */
static int ha_load_acl(struct ha_accel_lavm *l,
		       struct drm_hyperaether_submit *args)
{
	u32 ids[HA_ACCEL_MAX_SEGMENTS], n = args->nsegments, i;
	struct ha_fabric *fabric;
	int ret;

	if (copy_from_user(ids, u64_to_user_ptr(args->segments_ptr),
			   n * sizeof(u32)))
		return -EFAULT;
	l->dom = vmemdup_user(u64_to_user_ptr(args->domains_ptr),
			      args->ninstances);
	if (IS_ERR(l->dom)) {
		ret = PTR_ERR(l->dom);
		l->dom = NULL;
		return ret;
	}
	for (i = 0; i < args->ninstances; i++)
		if (l->dom[i] >= n)
			return -EINVAL;
	fabric = ha_fabric_get_fd(args->fabric_fd);
	if (IS_ERR(fabric))
		return PTR_ERR(fabric);
	ret = ha_fabric_share_acl(fabric, ids, n, l->allow);
	if (!ret)
		ret = ha_fabric_charge_epochs(fabric, ids, n, args->max_epochs,
					      l->fvms);
	ha_fabric_put(fabric);
	if (ret)
		return ret;
	l->nseg = n;
	l->acl = (struct lavm_acl){
		.dom = l->dom, .allow = l->allow,
		.seg_words = args->seg_words, .nseg = n,
	};
	l->lj.acl = &l->acl;
	return 0;
}

static int ha_submit_check(const struct drm_hyperaether_submit *args)
{
	if (args->flags & ~DRM_HYPERAETHER_SUBMIT_FLAGS || args->pad ||
	    args->job_id)
		return -EINVAL;
	if (args->engine > DRM_HYPERAETHER_ENGINE_EXECUTOR)
		return -EINVAL;
	if (!args->ninstances || args->ninstances > HA_ACCEL_MAX_INSTANCES)
		return -EINVAL;
	if (!args->max_epochs || args->max_epochs > READ_ONCE(ha_accel_max_epochs))
		return -EINVAL;
	if (args->nshared > LAVM_MAX_SHARED || (!args->nshared && args->shared_handle))
		return -EINVAL;
	if (args->log_size > HA_ACCEL_MAX_LOG || (!args->log_ptr && args->log_size))
		return -EINVAL;
	if (args->nsegments > HA_ACCEL_MAX_SEGMENTS)
		return -EINVAL;
	if (args->nsegments) {
		if (!args->seg_words || args->fabric_fd < 0)
			return -EINVAL;
	} else if (args->seg_words || args->segments_ptr || args->domains_ptr ||
		   args->fabric_fd != -1) {
		return -EINVAL;
	}
	return 0;
}

static int ha_submit_prepare(struct drm_file *file, struct ha_accel_lavm *l,
			     struct drm_hyperaether_submit *args)
{
	size_t stack;
	int ret;

	ret = ha_bo_get(file, l, HA_BO_PROG, args->prog_handle, args->prog_size);
	if (ret)
		return ret;
	ret = ha_load_prog(l, args);
	if (ret)
		return ret;
	if (args->nshared < l->prog.shared_size) {
		ha_log(args, "program needs %u shared words, job has %u",
		       l->prog.shared_size, args->nshared);
		return -EINVAL;
	}
	ret = ha_bo_get(file, l, HA_BO_STATE, args->state_handle,
			(u64)args->ninstances * sizeof(struct lavm_vm));
	if (ret)
		return ret;
	if (args->nshared) {
		ret = ha_bo_get(file, l, HA_BO_SHARED, args->shared_handle,
				(u64)args->nshared * sizeof(float));
		if (ret)
			return ret;
	}
	stack = lavm_stack_size(&l->prog, args->ninstances);
	if (args->stack_handle) {
		ret = ha_bo_get(file, l, HA_BO_STACK, args->stack_handle, stack);
		if (ret)
			return ret;
	} else if (stack) {
		l->kstack = kvzalloc(stack, GFP_KERNEL_ACCOUNT);
		if (!l->kstack)
			return -ENOMEM;
	}
	l->lj = (struct lavm_job){
		.prog = &l->prog,
		.vms = l->map[HA_BO_STATE].vaddr,
		.nvms = args->ninstances,
		.stack = args->stack_handle ? l->map[HA_BO_STACK].vaddr : l->kstack,
		.shared = args->nshared ? l->map[HA_BO_SHARED].vaddr : NULL,
		.nshared = args->nshared,
		.max_epochs = args->max_epochs,
	};
	l->max_epochs = args->max_epochs;
	l->prog_size = args->prog_size;
	l->init_states = args->flags & DRM_HYPERAETHER_SUBMIT_INIT_STATES;
	if (args->nsegments)
		return ha_load_acl(l, args);
	return 0;
}

int ha_accel_submit_ioctl(struct drm_device *drm, void *data,
			  struct drm_file *file)
{
	struct drm_hyperaether_submit *args = data;
	struct ha_accel_file *af = file->driver_priv;
	struct drm_syncobj *out = NULL;
	struct ha_accel_lavm *l;
	struct ha_accel_ctx *ctx;
	struct ha_accel_job *job;
	u32 id;
	int ret;

	ret = ha_submit_check(args);
	if (ret)
		return ret;
	l = kzalloc(sizeof(*l), GFP_KERNEL_ACCOUNT);
	if (!l)
		return -ENOMEM;
	ret = ha_submit_prepare(file, l, args);
	if (ret)
		goto err_free;
	if (args->out_syncobj) {
		out = drm_syncobj_find(file, args->out_syncobj);
		if (!out) {
			ret = -ENOENT;
			goto err_free;
		}
	}

	/* The context cannot be destroyed while the file lock is held. */
	mutex_lock(&af->lock);
	ctx = xa_load(&af->ctxs, args->ctx_id);
	if (!ctx) {
		ret = -ENOENT;
		goto err_unlock;
	}
	job = ha_accel_job_alloc(ctx, args->engine == DRM_HYPERAETHER_ENGINE_EXECUTOR ?
				 &ha_accel_exec_engine : &ha_accel_cpu_engine,
				 file->client_id);
	if (IS_ERR(job)) {
		ret = PTR_ERR(job);
		goto err_unlock;
	}
	job->priv = l;
	l = NULL;
	if (args->in_syncobj) {
		ret = drm_sched_job_add_syncobj_dependency(&job->base, file,
							   args->in_syncobj, 0);
		if (ret)
			goto err_job;
	}
	ret = xa_alloc(&af->jobs, &id, job, XA_LIMIT(1, U32_MAX), GFP_KERNEL);
	if (ret)
		goto err_job;
	job->id = id;
	ha_accel_job_push(job);
	mutex_unlock(&af->lock);

	atomic64_inc(&af->adev->jobs_submitted);
	if (out) {
		drm_syncobj_replace_fence(out, job->finished);
		drm_syncobj_put(out);
	}
	args->job_id = id;
	return 0;

err_job:
	ha_accel_job_abort(job);
err_unlock:
	mutex_unlock(&af->lock);
	if (out)
		drm_syncobj_put(out);
err_free:
	if (l)
		ha_lavm_free(l);
	return ret;
}

/* ------------------------------------------------------------- wait */

static void ha_fill_status(struct ha_accel_job *job,
			   struct drm_hyperaether_wait *args)
{
	bool done = dma_fence_is_signaled(job->finished);
	int i;

	args->state = done ? DRM_HYPERAETHER_JOB_DONE : READ_ONCE(job->state);
	if (args->state == DRM_HYPERAETHER_JOB_DONE && !done)
		args->state = DRM_HYPERAETHER_JOB_RUNNING;
	args->error = 0;
	if (done) {
		args->error = job->error ?: job->finished->error;
		if (args->error == -ESRCH)
			args->error = -ECANCELED;
	}
	args->epochs = job->epochs;
	args->insns = job->insns;
	args->run_ns = job->run_ns;
	args->halted = done ? job->halted : 0;
	args->faulted = done ? job->faulted : 0;
	args->active = done ? job->active : 0;
	for (i = 0; i < DRM_HYPERAETHER_NFAULTS; i++)
		args->faults[i] = done ? job->faults[i] : 0;
}

int ha_accel_wait_ioctl(struct drm_device *drm, void *data,
			struct drm_file *file)
{
	struct drm_hyperaether_wait *args = data;
	struct ha_accel_file *af = file->driver_priv;
	struct ha_accel_job *job;
	long ret = 0;

	if (args->flags & ~DRM_HYPERAETHER_WAIT_FLAGS || args->pad)
		return -EINVAL;
	if (args->job_id > U32_MAX)
		return -ENOENT;
	mutex_lock(&af->lock);
	job = xa_load(&af->jobs, args->job_id);
	if (job)
		kref_get(&job->kref);
	mutex_unlock(&af->lock);
	if (!job)
		return -ENOENT;

	if (!dma_fence_is_signaled(job->finished)) {
		s64 left = args->timeout_ns - ktime_get_ns();

		ret = left > 0 ? dma_fence_wait_timeout(job->finished, true,
							nsecs_to_jiffies(left)) : 0;
		if (ret == 0)
			ret = -ETIME;
		else if (ret > 0)
			ret = 0;
	}
	ha_fill_status(job, args);
	if (!ret && args->flags & DRM_HYPERAETHER_WAIT_RELEASE) {
		mutex_lock(&af->lock);
		if (xa_cmpxchg(&af->jobs, args->job_id, job, NULL, 0) == job)
			ha_accel_job_put(job);
		mutex_unlock(&af->lock);
	}
	ha_accel_job_put(job);
	return ret;
}
