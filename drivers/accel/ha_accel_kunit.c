// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of the accel driver's scheduling: real drm_sched contexts
 * over a mock engine that the test advances by hand, one slice per
 * ha_accel_engine_step(), in the manner of drm_sched's own mock tests.
 * Every slice the mock runs is logged as (context, job), so a test can
 * assert the exact order the dispatcher chose.
 */
#include <kunit/device.h>
#include <kunit/test.h>
#include <linux/delay.h>
#include <linux/dma-fence.h>
#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <drm/hyperaether_accel.h>

#include "ha_accel.h"

#define LOG_MAX 64

struct mock_env {
	struct ha_accel_engine eng;
	struct device *dev;
	int n;
	u32 log[LOG_MAX];	/* ctx id << 16 | job id */
	/* mock_end() blocks until @end_go while @block_end is set. */
	bool block_end;
	struct completion in_end, end_go;
};

static struct mock_env *mock_current;

#define SLICE(ctx, job) ((ctx) << 16 | (job))

static int mock_slice(struct ha_accel_job *job)
{
	if (mock_current->n < LOG_MAX)
		mock_current->log[mock_current->n++] = SLICE(job->ctx->id, job->id);
	return --job->mock_slices ? 1 : 0;
}

/* The engine's bookkeeping after the last slice, before the fence. */
static void mock_end(struct ha_accel_job *job)
{
	if (!mock_current->block_end)
		return;
	complete(&mock_current->in_end);
	wait_for_completion(&mock_current->end_go);
}

static const struct ha_accel_engine_ops mock_ops = {
	.name = "mock",
	.slice = mock_slice,
	.end = mock_end,
};

static int mock_init(struct kunit *test)
{
	struct mock_env *env;

	env = kunit_kzalloc(test, sizeof(*env), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, env);
	env->dev = kunit_device_register(test, "ha-accel-kunit");
	KUNIT_ASSERT_FALSE(test, IS_ERR(env->dev));
	KUNIT_ASSERT_EQ(test, ha_accel_engine_init(&env->eng, true), 0);
	init_completion(&env->in_end);
	init_completion(&env->end_go);
	mock_current = env;
	test->priv = env;
	return 0;
}

static void mock_exit(struct kunit *test)
{
	struct mock_env *env = test->priv;

	ha_accel_engine_fini(&env->eng);
	mock_current = NULL;
}

static struct ha_accel_ctx *mk_ctx(struct kunit *test, u32 id, u32 prio)
{
	struct mock_env *env = test->priv;
	struct ha_accel_ctx *ctx;

	ctx = ha_accel_ctx_create(&env->eng, env->dev, prio);
	KUNIT_ASSERT_FALSE(test, IS_ERR(ctx));
	ctx->id = id;
	return ctx;
}

static struct ha_accel_job *mk_job(struct kunit *test, struct ha_accel_ctx *ctx,
				   u32 id, u32 slices, struct dma_fence *dep)
{
	struct ha_accel_job *job;

	job = ha_accel_job_alloc(ctx, &mock_ops, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR(job));
	job->id = id;
	job->mock_slices = slices;
	if (dep)
		KUNIT_ASSERT_EQ(test, ha_accel_job_add_dep(job, dma_fence_get(dep)), 0);
	ha_accel_job_push(job);
	return job;
}

/* How many contexts the engine has work for (after drm_sched's workers). */
static int runnable(struct mock_env *env)
{
	struct ha_accel_ctx *ctx;
	int n = 0;

	spin_lock(&env->eng.lock);
	list_for_each_entry(ctx, &env->eng.runnable, link)
		n++;
	spin_unlock(&env->eng.lock);
	return n;
}

/* Waits up to 2 s for drm_sched to hand @n contexts' jobs to the engine. */
static bool wait_runnable(struct mock_env *env, int n)
{
	unsigned long end = jiffies + 2 * HZ;

	while (runnable(env) < n) {
		if (time_after(jiffies, end))
			return false;
		usleep_range(500, 1000);
	}
	return true;
}

/* Steps until every job in @jobs is done (or 200 steps). */
static int run_until_done(struct mock_env *env, struct ha_accel_job **jobs, int n)
{
	int steps = 0, i;

	for (;;) {
		bool all = true;

		for (i = 0; i < n; i++)
			all &= dma_fence_is_signaled(jobs[i]->finished);
		if (all || steps >= 200)
			return steps;
		if (!wait_runnable(env, 1))
			continue;
		ha_accel_engine_step(&env->eng);
		steps++;
	}
}

static void put_jobs(struct ha_accel_job **jobs, int n)
{
	while (n--)
		ha_accel_job_put(jobs[n]);
}

/* Jobs of one context run one after the other, in submission order. */
static void ha_accel_order(struct kunit *test)
{
	static const u32 want[] = {
		SLICE(1, 1), SLICE(1, 1), SLICE(1, 2), SLICE(1, 3), SLICE(1, 3),
		SLICE(1, 3),
	};
	struct mock_env *env = test->priv;
	struct ha_accel_ctx *ctx = mk_ctx(test, 1, DRM_HYPERAETHER_PRIORITY_NORMAL);
	struct ha_accel_job *jobs[3];
	int i;

	jobs[0] = mk_job(test, ctx, 1, 2, NULL);
	jobs[1] = mk_job(test, ctx, 2, 1, NULL);
	jobs[2] = mk_job(test, ctx, 3, 3, NULL);
	run_until_done(env, jobs, 3);
	KUNIT_ASSERT_EQ(test, env->n, ARRAY_SIZE(want));
	for (i = 0; i < env->n; i++)
		KUNIT_EXPECT_EQ_MSG(test, env->log[i], want[i], "slice %d", i);
	for (i = 0; i < 3; i++) {
		KUNIT_EXPECT_EQ(test, jobs[i]->finished->error, 0);
		KUNIT_EXPECT_EQ(test, jobs[i]->state, DRM_HYPERAETHER_JOB_DONE);
	}
	/* Completion order follows submission order. */
	KUNIT_EXPECT_LT(test, jobs[0]->done.seqno, jobs[1]->done.seqno);
	put_jobs(jobs, 3);
	ha_accel_ctx_destroy(ctx);
}

/* A job waits for its in-fence even when the engine is idle. */
static void ha_accel_dependency(struct kunit *test)
{
	struct mock_env *env = test->priv;
	struct ha_accel_ctx *a = mk_ctx(test, 1, DRM_HYPERAETHER_PRIORITY_NORMAL);
	struct ha_accel_ctx *b = mk_ctx(test, 2, DRM_HYPERAETHER_PRIORITY_NORMAL);
	struct ha_accel_job *jobs[2];

	jobs[0] = mk_job(test, a, 1, 3, NULL);
	jobs[1] = mk_job(test, b, 2, 1, jobs[0]->finished);
	KUNIT_ASSERT_TRUE(test, wait_runnable(env, 1));
	msleep(50);
	/* Only a's job is with the engine; b's waits for it. */
	KUNIT_EXPECT_EQ(test, runnable(env), 1);
	KUNIT_EXPECT_EQ(test, jobs[1]->state, DRM_HYPERAETHER_JOB_QUEUED);
	run_until_done(env, jobs, 2);
	KUNIT_ASSERT_EQ(test, env->n, 4);
	KUNIT_EXPECT_EQ(test, env->log[2], SLICE(1, 1));
	KUNIT_EXPECT_EQ(test, env->log[3], SLICE(2, 2));
	KUNIT_EXPECT_EQ(test, jobs[1]->finished->error, 0);
	put_jobs(jobs, 2);
	ha_accel_ctx_destroy(a);
	ha_accel_ctx_destroy(b);
}

/*
 * Cancelling a context stops its running job at the next slice boundary
 * and completes its queued job without running it.
 */
static void ha_accel_cancel(struct kunit *test)
{
	struct mock_env *env = test->priv;
	struct ha_accel_ctx *ctx = mk_ctx(test, 1, DRM_HYPERAETHER_PRIORITY_NORMAL);
	struct ha_accel_job *jobs[2];
	int i;

	jobs[0] = mk_job(test, ctx, 1, U32_MAX, NULL);
	jobs[1] = mk_job(test, ctx, 2, 1, NULL);
	KUNIT_ASSERT_TRUE(test, wait_runnable(env, 1));
	for (i = 0; i < 3; i++)
		ha_accel_engine_step(&env->eng);
	ha_accel_ctx_cancel(ctx);
	run_until_done(env, jobs, 2);
	KUNIT_EXPECT_EQ(test, env->n, 3);
	KUNIT_EXPECT_EQ(test, jobs[0]->finished->error, -ECANCELED);
	KUNIT_EXPECT_NE(test, jobs[1]->finished->error, 0);
	for (i = 0; i < env->n; i++)
		KUNIT_EXPECT_EQ(test, env->log[i], SLICE(1, 1));
	put_jobs(jobs, 2);
	ha_accel_ctx_destroy(ctx);
}

/* A runaway job is stopped by the timeout; the context stays usable. */
static void ha_accel_timeout(struct kunit *test)
{
	struct mock_env *env = test->priv;
	unsigned int saved = ha_accel_job_timeout_ms;
	struct ha_accel_ctx *ctx;
	struct ha_accel_job *jobs[2];
	unsigned long end;

	ha_accel_job_timeout_ms = 100;
	ctx = mk_ctx(test, 1, DRM_HYPERAETHER_PRIORITY_NORMAL);
	ha_accel_job_timeout_ms = saved;
	jobs[0] = mk_job(test, ctx, 1, U32_MAX, NULL);
	end = jiffies + 5 * HZ;
	while (!dma_fence_is_signaled(jobs[0]->finished) && time_before(jiffies, end)) {
		if (wait_runnable(env, 1))
			ha_accel_engine_step(&env->eng);
		usleep_range(5000, 10000);
	}
	KUNIT_ASSERT_TRUE(test, dma_fence_is_signaled(jobs[0]->finished));
	KUNIT_EXPECT_EQ(test, jobs[0]->finished->error, -ETIMEDOUT);
	KUNIT_EXPECT_EQ(test, jobs[0]->error, -ETIMEDOUT);
	KUNIT_EXPECT_GT(test, env->n, 1);

	env->n = 0;
	jobs[1] = mk_job(test, ctx, 2, 2, NULL);
	run_until_done(env, &jobs[1], 1);
	KUNIT_EXPECT_EQ(test, jobs[1]->finished->error, 0);
	KUNIT_EXPECT_EQ(test, env->n, 2);
	put_jobs(jobs, 2);
	ha_accel_ctx_destroy(ctx);
}

/*
 * Weighted round robin: a normal context (weight 2) with a long job and a
 * low one (weight 1) with a short job share the engine 2:1, so the short
 * job finishes after 9 slices instead of waiting for the long one.
 */
static void ha_accel_fairness(struct kunit *test)
{
	static const u32 want[] = {
		SLICE(1, 1), SLICE(1, 1), SLICE(2, 2), SLICE(1, 1), SLICE(1, 1),
		SLICE(2, 2), SLICE(1, 1), SLICE(1, 1), SLICE(2, 2),
	};
	struct mock_env *env = test->priv;
	struct ha_accel_ctx *a = mk_ctx(test, 1, DRM_HYPERAETHER_PRIORITY_NORMAL);
	struct ha_accel_ctx *b = mk_ctx(test, 2, DRM_HYPERAETHER_PRIORITY_LOW);
	struct ha_accel_job *jobs[2];
	int i;

	jobs[0] = mk_job(test, a, 1, 100, NULL);
	KUNIT_ASSERT_TRUE(test, wait_runnable(env, 1));
	jobs[1] = mk_job(test, b, 2, 3, NULL);
	KUNIT_ASSERT_TRUE(test, wait_runnable(env, 2));
	run_until_done(env, &jobs[1], 1);
	KUNIT_ASSERT_EQ(test, env->n, ARRAY_SIZE(want));
	for (i = 0; i < env->n; i++)
		KUNIT_EXPECT_EQ_MSG(test, env->log[i], want[i], "slice %d", i);
	KUNIT_EXPECT_FALSE(test, dma_fence_is_signaled(jobs[0]->finished));
	/* The long job still completes; nothing was lost by sharing. */
	run_until_done(env, jobs, 1);
	KUNIT_EXPECT_EQ(test, jobs[0]->finished->error, 0);
	KUNIT_EXPECT_EQ(test, env->n, LOG_MAX);
	put_jobs(jobs, 2);
	ha_accel_ctx_destroy(a);
	ha_accel_ctx_destroy(b);
}

struct destroy_thread {
	struct ha_accel_ctx *ctx;
	struct mock_env *env;
	struct completion done;
};

static int step_fn(void *data)
{
	struct destroy_thread *t = data;

	ha_accel_engine_step(&t->env->eng);
	complete(&t->done);
	return 0;
}

static int destroy_fn(void *data)
{
	struct destroy_thread *t = data;

	ha_accel_ctx_destroy(t->ctx);
	complete(&t->done);
	return 0;
}

/*
 * Destroying a context while the engine is finishing its last job (the
 * slice is done, the fence not yet signalled) waits for the fence: the
 * job finishes and is freed.  Stopping the scheduler any earlier unhooks
 * the job from its fence, and the job, its context and its buffers leak
 * (seen as a kmemleak report after a process was killed mid-job).
 */
static void ha_accel_destroy_while_completing(struct kunit *test)
{
	struct mock_env *env = test->priv;
	struct ha_accel_ctx *ctx = mk_ctx(test, 1, DRM_HYPERAETHER_PRIORITY_NORMAL);
	struct destroy_thread step = { .ctx = ctx, .env = env };
	struct destroy_thread destroy = { .ctx = ctx, .env = env };
	struct ha_accel_job *job;

	init_completion(&step.done);
	init_completion(&destroy.done);
	job = mk_job(test, ctx, 1, 1, NULL);
	KUNIT_ASSERT_TRUE(test, wait_runnable(env, 1));
	env->block_end = true;
	KUNIT_ASSERT_FALSE(test, IS_ERR(kthread_run(step_fn, &step, "ha-kunit-step")));
	wait_for_completion(&env->in_end);

	KUNIT_ASSERT_FALSE(test, IS_ERR(kthread_run(destroy_fn, &destroy, "ha-kunit-destroy")));
	msleep(200);
	KUNIT_EXPECT_FALSE(test, completion_done(&destroy.done));
	KUNIT_EXPECT_FALSE(test, dma_fence_is_signaled(job->finished));

	complete(&env->end_go);
	KUNIT_ASSERT_NE(test, wait_for_completion_timeout(&step.done, 10 * HZ), 0);
	KUNIT_ASSERT_NE(test, wait_for_completion_timeout(&destroy.done, 10 * HZ), 0);
	KUNIT_EXPECT_TRUE(test, dma_fence_is_signaled(job->finished));
	KUNIT_EXPECT_EQ(test, job->finished->error, 0);
	/* drm_sched let go of the job: the test's is the last reference. */
	KUNIT_EXPECT_EQ(test, kref_read(&job->kref), 1);
	ha_accel_job_put(job);
}

static struct kunit_case ha_accel_sched_cases[] = {
	KUNIT_CASE(ha_accel_order),
	KUNIT_CASE(ha_accel_dependency),
	KUNIT_CASE(ha_accel_cancel),
	KUNIT_CASE(ha_accel_timeout),
	KUNIT_CASE(ha_accel_fairness),
	KUNIT_CASE(ha_accel_destroy_while_completing),
	{}
};

static struct kunit_suite ha_accel_sched_suite = {
	.name = "hyperaether_accel_sched",
	.init = mock_init,
	.exit = mock_exit,
	.test_cases = ha_accel_sched_cases,
};

kunit_test_suite(ha_accel_sched_suite);

MODULE_DESCRIPTION("KUnit tests of the Hyper-Aether accel scheduler");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
