// SPDX-License-Identifier: GPL-2.0
/*
 * Hyper-Aether accel driver: contexts, jobs and the engine's dispatcher.
 *
 * Every context has its own drm_gpu_scheduler with a credit limit of one
 * and a single entity: drm_sched orders the context's jobs, waits for
 * their in-fences and watches their run time.  run_job() puts the context
 * on the engine's round-robin list; the engine worker runs one bounded
 * slice of the head context's job, then moves on after the context has
 * used its weight of slices.  A long job therefore cannot starve another
 * context (temporal isolation): the wait of a small job is bounded by the
 * number of busy contexts times their weights times one slice.
 */
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <drm/hyperaether_accel.h>
#include <kunit/visibility.h>

#include "ha_accel.h"
#include "ha_accel_trace.h"

static const u32 ha_prio_weight[] = {
	[DRM_HYPERAETHER_PRIORITY_LOW] = 1,
	[DRM_HYPERAETHER_PRIORITY_NORMAL] = 2,
	[DRM_HYPERAETHER_PRIORITY_HIGH] = 4,
};

static const enum drm_sched_priority ha_prio_sched[] = {
	[DRM_HYPERAETHER_PRIORITY_LOW] = DRM_SCHED_PRIORITY_LOW,
	[DRM_HYPERAETHER_PRIORITY_NORMAL] = DRM_SCHED_PRIORITY_NORMAL,
	[DRM_HYPERAETHER_PRIORITY_HIGH] = DRM_SCHED_PRIORITY_HIGH,
};

/* ------------------------------------------------------------ fences */

static const char *ha_fence_driver_name(struct dma_fence *f)
{
	return HA_ACCEL_NAME;
}

static const char *ha_fence_timeline_name(struct dma_fence *f)
{
	return container_of(f, struct ha_accel_job, done)->ctx->name;
}

/*
 * The job's memory goes with the last reference to its done fence, which
 * may outlive every file of the device: drm_sched's finished fence holds
 * it, and a sync_file can hold that.  The context reference dropped last
 * may be the module's last (see ha_accel_ctx_create()).
 */
static void ha_fence_release(struct dma_fence *f)
{
	struct ha_accel_job *job = container_of(f, struct ha_accel_job, done);
	struct ha_accel_ctx *ctx = job->ctx;

	kfree_rcu(job, done.rcu);
	ha_accel_ctx_put(ctx);
}

static const struct dma_fence_ops ha_fence_ops = {
	.get_driver_name = ha_fence_driver_name,
	.get_timeline_name = ha_fence_timeline_name,
	.release = ha_fence_release,
};

/* -------------------------------------------------------------- jobs */

static void ha_job_release(struct kref *kref)
{
	struct ha_accel_job *job = container_of(kref, struct ha_accel_job, kref);

	if (job->ops->free)
		job->ops->free(job);
	dma_fence_put(job->finished);
	dma_fence_put(&job->done);
}

void ha_accel_job_put(struct ha_accel_job *job)
{
	kref_put(&job->kref, ha_job_release);
}
EXPORT_SYMBOL_IF_KUNIT(ha_accel_job_put);

/**
 * ha_accel_job_alloc() - a job for @ctx, not yet armed
 * @ctx: the context (the job takes a reference)
 * @ops: the engine
 * @client_id: drm_file client id (for drm_sched traces)
 *
 * The caller either pushes the job with ha_accel_job_push() or drops it
 * with ha_accel_job_abort().
 */
struct ha_accel_job *ha_accel_job_alloc(struct ha_accel_ctx *ctx,
					const struct ha_accel_engine_ops *ops,
					u64 client_id)
{
	struct ha_accel_job *job;
	int ret;

	job = kzalloc(sizeof(*job), GFP_KERNEL_ACCOUNT);
	if (!job)
		return ERR_PTR(-ENOMEM);
	ret = drm_sched_job_init(&job->base, &ctx->entity, 1, ctx, client_id);
	if (ret) {
		kfree(job);
		return ERR_PTR(ret);
	}
	kref_init(&job->kref);
	kref_get(&ctx->kref);
	job->ctx = ctx;
	job->ops = ops;
	job->state = DRM_HYPERAETHER_JOB_QUEUED;
	dma_fence_init(&job->done, &ha_fence_ops, &ctx->fence_lock,
		       ctx->fence_ctx, atomic64_inc_return(&ctx->seqno));
	return job;
}
EXPORT_SYMBOL_IF_KUNIT(ha_accel_job_alloc);

int ha_accel_job_add_dep(struct ha_accel_job *job, struct dma_fence *fence)
{
	return drm_sched_job_add_dependency(&job->base, fence);
}
EXPORT_SYMBOL_IF_KUNIT(ha_accel_job_add_dep);

/* Drop a job that was allocated but never armed. */
void ha_accel_job_abort(struct ha_accel_job *job)
{
	drm_sched_job_cleanup(&job->base);
	ha_accel_job_put(job);
}
EXPORT_SYMBOL_IF_KUNIT(ha_accel_job_abort);

/*
 * Arm and queue @job.  The caller keeps its own reference (the file's job
 * table); drm_sched gets another, dropped in free_job().
 */
void ha_accel_job_push(struct ha_accel_job *job)
{
	drm_sched_job_arm(&job->base);
	job->finished = dma_fence_get(&job->base.s_fence->finished);
	kref_get(&job->kref);
	trace_ha_accel_job_submit(job);
	drm_sched_entity_push_job(&job->base);
}
EXPORT_SYMBOL_IF_KUNIT(ha_accel_job_push);

/* -------------------------------------------------------------- engine */

static void ha_job_complete(struct ha_accel_engine *eng,
			    struct ha_accel_job *job, int ret)
{
	if (job->begun && job->ops->end)
		job->ops->end(job);
	job->begun = false;
	job->error = ret < 0 ? ret : 0;
	WRITE_ONCE(job->state, DRM_HYPERAETHER_JOB_DONE);
	atomic64_inc(&eng->jobs_done);
	trace_ha_accel_job_done(job);
	if (job->error)
		dma_fence_set_error(&job->done, job->error);
	dma_fence_signal(&job->done);
}

/* Runs one slice of @job: 1 if more is left, 0 when done, or -errno. */
static int ha_job_slice(struct ha_accel_engine *eng, struct ha_accel_job *job)
{
	int stop = READ_ONCE(job->stop);
	u64 t0;
	int ret;

	if (!stop && atomic_read(&job->ctx->cancelled))
		stop = -ECANCELED;
	if (stop)
		return stop;
	t0 = ktime_get_ns();
	if (!job->begun) {
		ret = job->ops->begin ? job->ops->begin(job) : 0;
		if (ret)
			return ret;
		job->begun = true;
	}
	ret = job->ops->slice(job);
	t0 = ktime_get_ns() - t0;
	job->run_ns += t0;
	atomic64_add(t0, &eng->busy_ns);
	atomic64_inc(&eng->slices);
	return ret;
}

/**
 * ha_accel_engine_step() - run one slice of the next context's job
 * @eng: the engine
 *
 * Only one caller at a time (the worker, or a KUnit test in manual mode).
 *
 * Return: false if no context had work.
 */
bool ha_accel_engine_step(struct ha_accel_engine *eng)
{
	struct ha_accel_ctx *ctx;
	struct ha_accel_job *job;
	int ret;

	spin_lock(&eng->lock);
	ctx = list_first_entry_or_null(&eng->runnable, struct ha_accel_ctx, link);
	job = ctx ? ctx->cur : NULL;
	spin_unlock(&eng->lock);
	if (!ctx)
		return false;

	ret = ha_job_slice(eng, job);

	spin_lock(&eng->lock);
	if (ret == HA_SLICE_DETACHED) {
		if (ctx->early) {
			ctx->early = false;	/* already back: stays runnable */
			list_move_tail(&ctx->link, &eng->runnable);
		} else {
			list_del_init(&ctx->link);
			ctx->detached = true;
		}
	} else if (ret <= 0) {
		list_del_init(&ctx->link);
		ctx->cur = NULL;
	} else if (--ctx->credit == 0) {
		ctx->credit = ctx->weight;
		list_move_tail(&ctx->link, &eng->runnable);
	}
	spin_unlock(&eng->lock);
	if (ret <= 0) {
		ha_job_complete(eng, job, ret);
		/* Only now may ha_accel_ctx_destroy() stop the scheduler. */
		spin_lock(&eng->lock);
		ctx->active--;
		spin_unlock(&eng->lock);
		wake_up_all(&eng->idle);
	}
	return true;
}
EXPORT_SYMBOL_IF_KUNIT(ha_accel_engine_step);

/**
 * ha_accel_engine_requeue() - a detached slice of @job came back
 * @job: the job; its context's current job
 *
 * May be called before the engine has finished detaching the slice.
 */
void ha_accel_engine_requeue(struct ha_accel_job *job)
{
	struct ha_accel_ctx *ctx = job->ctx;
	struct ha_accel_engine *eng = ctx->engine;

	spin_lock(&eng->lock);
	if (ctx->cur == job) {
		if (ctx->detached) {
			ctx->detached = false;
			ctx->credit = ctx->weight;
			list_add_tail(&ctx->link, &eng->runnable);
		} else {
			ctx->early = true;
		}
	}
	spin_unlock(&eng->lock);
	if (!eng->manual)
		queue_work(eng->wq, &eng->work);
}

/* Take back @ctx's detached slice, if any, so that its job can stop. */
static void ha_ctx_reclaim(struct ha_accel_ctx *ctx)
{
	struct ha_accel_engine *eng = ctx->engine;
	struct ha_accel_job *job = NULL;

	spin_lock(&eng->lock);
	if (ctx->detached && ctx->cur) {
		job = ctx->cur;
		kref_get(&job->kref);
	}
	spin_unlock(&eng->lock);
	if (!job)
		return;
	if (job->ops->reclaim)
		job->ops->reclaim(job);
	ha_accel_job_put(job);
}

static void ha_engine_work(struct work_struct *work)
{
	struct ha_accel_engine *eng = container_of(work, struct ha_accel_engine, work);

	while (ha_accel_engine_step(eng))
		cond_resched();
}

int ha_accel_engine_init(struct ha_accel_engine *eng, bool manual)
{
	spin_lock_init(&eng->lock);
	INIT_LIST_HEAD(&eng->runnable);
	init_waitqueue_head(&eng->idle);
	INIT_WORK(&eng->work, ha_engine_work);
	eng->manual = manual;
	if (manual)
		return 0;
	eng->wq = alloc_workqueue("ha-accel-engine", WQ_UNBOUND, 1);
	return eng->wq ? 0 : -ENOMEM;
}
EXPORT_SYMBOL_IF_KUNIT(ha_accel_engine_init);

void ha_accel_engine_fini(struct ha_accel_engine *eng)
{
	WARN_ON(!list_empty(&eng->runnable));
	if (eng->wq)
		destroy_workqueue(eng->wq);
}
EXPORT_SYMBOL_IF_KUNIT(ha_accel_engine_fini);

/* ------------------------------------------------------- sched backend */

static struct dma_fence *ha_run_job(struct drm_sched_job *sched_job)
{
	struct ha_accel_job *job = to_ha_job(sched_job);
	struct ha_accel_ctx *ctx = job->ctx;
	struct ha_accel_engine *eng = ctx->engine;

	/* A failed dependency or a dying context: the job never starts. */
	if (sched_job->s_fence->finished.error || atomic_read(&ctx->cancelled)) {
		job->error = sched_job->s_fence->finished.error ?: -ECANCELED;
		WRITE_ONCE(job->state, DRM_HYPERAETHER_JOB_DONE);
		return ERR_PTR(job->error);
	}
	WRITE_ONCE(job->state, DRM_HYPERAETHER_JOB_RUNNING);
	trace_ha_accel_job_run(job);
	spin_lock(&eng->lock);
	WARN_ON(ctx->cur);
	ctx->cur = job;
	ctx->active++;
	ctx->credit = ctx->weight;
	list_add_tail(&ctx->link, &eng->runnable);
	spin_unlock(&eng->lock);
	if (!eng->manual)
		queue_work(eng->wq, &eng->work);
	return dma_fence_get(&job->done);
}

/*
 * The job ran past the timeout: the engine stops it at its next slice
 * boundary, leaving every buffer at an epoch boundary, and signals its
 * fence with -ETIMEDOUT.  Nothing else is wedged, so there is no reset:
 * the job goes back on the pending list (drm_sched took it off) so that
 * free_job() still runs for it, as etnaviv does for a job that progresses.
 */
static enum drm_gpu_sched_stat ha_timedout_job(struct drm_sched_job *sched_job)
{
	struct ha_accel_job *job = to_ha_job(sched_job);
	struct drm_gpu_scheduler *sched = sched_job->sched;

	if (!dma_fence_is_signaled(&job->done)) {
		WRITE_ONCE(job->stop, -ETIMEDOUT);
		trace_ha_accel_job_timeout(job);
		ha_ctx_reclaim(job->ctx);
	}
	/*
	 * If the job finished while it was off the list, the free worker may
	 * have looked for it already: drm_sched frees it when this returns.
	 * Otherwise the worker finds it on the list, now or when it finishes.
	 */
	spin_lock(&sched->job_list_lock);
	if (dma_fence_is_signaled(&sched_job->s_fence->finished))
		sched->free_guilty = true;
	else
		list_add(&sched_job->list, &sched->pending_list);
	spin_unlock(&sched->job_list_lock);
	return DRM_GPU_SCHED_STAT_NOMINAL;
}

static void ha_free_job(struct drm_sched_job *sched_job)
{
	struct ha_accel_job *job = to_ha_job(sched_job);

	drm_sched_job_cleanup(sched_job);
	ha_accel_job_put(job);
}

static const struct drm_sched_backend_ops ha_sched_ops = {
	.run_job = ha_run_job,
	.timedout_job = ha_timedout_job,
	.free_job = ha_free_job,
};

/* ------------------------------------------------------------ contexts */

/**
 * ha_accel_ctx_create() - a context with its scheduler and entity
 * @eng: the engine its jobs run on
 * @dev: the device (scheduler messages)
 * @priority: enum drm_hyperaether_priority, already validated
 */
struct ha_accel_ctx *ha_accel_ctx_create(struct ha_accel_engine *eng,
					 struct device *dev, u32 priority)
{
	struct drm_sched_init_args args = {
		.ops = &ha_sched_ops,
		.num_rqs = DRM_SCHED_PRIORITY_COUNT,
		.credit_limit = 1,
		.timeout = msecs_to_jiffies(ha_accel_job_timeout_ms),
		.dev = dev,
	};
	struct drm_gpu_scheduler *sched_list[1];
	struct ha_accel_ctx *ctx;
	static atomic_t ha_ctx_seq;
	int ret;

	if (priority >= ARRAY_SIZE(ha_prio_weight))
		return ERR_PTR(-EINVAL);
	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL_ACCOUNT);
	if (!ctx)
		return ERR_PTR(-ENOMEM);
	kref_init(&ctx->kref);
	ctx->engine = eng;
	ctx->dev = dev;
	ctx->weight = ha_prio_weight[priority];
	ctx->fence_ctx = dma_fence_context_alloc(1);
	spin_lock_init(&ctx->fence_lock);
	INIT_LIST_HEAD(&ctx->link);
	snprintf(ctx->name, sizeof(ctx->name), "ha-accel-ctx%u",
		 atomic_inc_return(&ha_ctx_seq));
	args.name = ctx->name;
	ret = drm_sched_init(&ctx->sched, &args);
	if (ret)
		goto err_free;
	sched_list[0] = &ctx->sched;
	ret = drm_sched_entity_init(&ctx->entity, ha_prio_sched[priority],
				    sched_list, 1, NULL);
	if (ret)
		goto err_sched;
	/*
	 * A context lives as long as any fence of its jobs, and those call
	 * into this module when they are released: the module stays until
	 * the last one is gone (rmmod is refused meanwhile).
	 */
	__module_get(THIS_MODULE);
	return ctx;

err_sched:
	drm_sched_fini(&ctx->sched);
err_free:
	kfree(ctx);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_IF_KUNIT(ha_accel_ctx_create);

static void ha_ctx_release(struct kref *kref)
{
	kfree(container_of(kref, struct ha_accel_ctx, kref));
	module_put(THIS_MODULE);
}

void ha_accel_ctx_put(struct ha_accel_ctx *ctx)
{
	kref_put(&ctx->kref, ha_ctx_release);
}
EXPORT_SYMBOL_IF_KUNIT(ha_accel_ctx_put);

/* From now on the context's jobs stop at their next slice boundary. */
void ha_accel_ctx_cancel(struct ha_accel_ctx *ctx)
{
	atomic_set(&ctx->cancelled, 1);
	ha_ctx_reclaim(ctx);
}
EXPORT_SYMBOL_IF_KUNIT(ha_accel_ctx_cancel);

/**
 * ha_accel_ctx_destroy() - cancel a context's jobs and drop the table's ref
 * @ctx: the context, already out of every lookup table
 *
 * Queued jobs complete with -ECANCELED without running; the running one
 * stops at its next slice boundary.  Returns once no job of @ctx is left
 * in the engine or the scheduler.
 */
void ha_accel_ctx_destroy(struct ha_accel_ctx *ctx)
{
	struct ha_accel_engine *eng = ctx->engine;

	ha_accel_ctx_cancel(ctx);
	/* From here on drm_sched gives the engine no more jobs of @ctx. */
	drm_sched_entity_destroy(&ctx->entity);
	/*
	 * The job the engine holds, if any, ends at its next slice.  Wait for
	 * its done fence to have signalled, not merely for the engine to have
	 * let go of it: drm_sched_stop() unhooks an unsignalled hardware
	 * fence from its job, which then never finishes and is never freed.
	 */
	wait_event(eng->idle, !READ_ONCE(ctx->active));
	/* Every done fence has signalled: drm_sched_stop() frees the jobs. */
	drm_sched_stop(&ctx->sched, NULL);
	drm_sched_fini(&ctx->sched);
	ha_accel_ctx_put(ctx);
}
EXPORT_SYMBOL_IF_KUNIT(ha_accel_ctx_destroy);
