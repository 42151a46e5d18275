/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Hyper-Aether accel driver: internal interfaces.
 *
 * Objects and lifetimes:
 *
 *   struct ha_accel_device --owns--> struct ha_accel_engine (dispatcher)
 *   drm_file (struct ha_accel_file) --xarray--> struct ha_accel_ctx
 *   struct ha_accel_ctx: one drm_gpu_scheduler + one entity (1:1, jobs of a
 *       context run in order, one at a time)
 *   struct ha_accel_job (kref): one reference for drm_sched (dropped in
 *       free_job), one for the file's job table (dropped by WAIT_RELEASE or
 *       at close)
 *
 * drm_sched resolves dependencies (in-syncobjs) and timeouts and hands a
 * context's next job to run_job(), which queues the context on the engine.
 * The engine's worker shares its time between queued contexts in weighted
 * round robin, one bounded slice at a time (Documentation/hyperaether-accel.rst).
 */
#ifndef __HA_ACCEL_H__
#define __HA_ACCEL_H__

#include <linux/bits.h>
#include <linux/dma-fence.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include <drm/drm_device.h>
#include <drm/gpu_scheduler.h>

#include "lavm.h"

struct drm_file;
struct io_uring_cmd;
struct drm_gem_object;
struct ha_accel_job;
struct ha_fabric;
struct ha_vm;

#define HA_ACCEL_NAME		"hyperaether_accel"
#define HA_ACCEL_MAX_INSTANCES	BIT(22)
#define HA_ACCEL_MAX_SEGMENTS	64
#define HA_ACCEL_MAX_PROG_INSNS	BIT(16)
#define HA_ACCEL_MAX_BO_SIZE	BIT_ULL(32)
#define HA_ACCEL_MAX_LOG	4096

/* Module parameters (ha_accel_drv.c). */
extern unsigned int ha_accel_slice_insns;
extern unsigned int ha_accel_job_timeout_ms;
extern unsigned int ha_accel_max_epochs;

/**
 * struct ha_accel_engine_ops - what executes a job's epochs
 * @name: for debugfs and traces
 * @begin: prepare @job to run (may sleep, may allocate); 0 or -errno.
 *         Called by the engine before the first slice.
 * @slice: run one bounded piece of @job; returns 1 if more is left, 0 when
 *         the job is done, -errno on failure.  Called with no locks held,
 *         from the engine worker (or a KUnit test).
 * @end: the job is over (done, failed or stopped): record its status and
 *       release what @begin took; called once if @begin succeeded
 * @free: release @job->priv, made at submit; called when the job goes away
 * @reclaim: optional: take back a slice that left the engine (see
 *           %HA_SLICE_DETACHED) because the job must stop
 *
 * The seam where a GPU executor plugs in: the dispatcher above it knows
 * contexts, slices and fences, nothing about LAVM.
 */
struct ha_accel_engine_ops {
	const char *name;
	int (*begin)(struct ha_accel_job *job);
	int (*slice)(struct ha_accel_job *job);
	void (*end)(struct ha_accel_job *job);
	void (*free)(struct ha_accel_job *job);
	void (*reclaim)(struct ha_accel_job *job);
};

/*
 * @slice's third answer: the slice went elsewhere (a userspace executor);
 * the context leaves the engine's list until ha_accel_engine_requeue().
 */
#define HA_SLICE_DETACHED	2

extern const struct ha_accel_engine_ops ha_accel_cpu_engine;
const char *ha_accel_epoch_isa(void);
extern const struct ha_accel_engine_ops ha_accel_exec_engine;

/**
 * struct ha_accel_engine - shares execution time between contexts
 * @lock: protects @runnable and the contexts' @link/@credit/@cur/@active
 * @runnable: contexts whose current job waits for slices, in round-robin
 *            order
 * @work: the worker running slices (unless @manual)
 * @wq: where @work runs
 * @idle: woken when a context's job leaves the engine
 * @manual: KUnit: no worker; tests call ha_accel_engine_step()
 * @jobs_done: jobs completed
 * @slices: slices run
 * @epochs: epochs run
 * @insns: instance-epochs run
 * @busy_ns: time spent inside slices
 */
struct ha_accel_engine {
	spinlock_t lock; /* protects runnable, ctx->link, ctx->credit */
	struct list_head runnable;
	struct work_struct work;
	struct workqueue_struct *wq;
	wait_queue_head_t idle;
	bool manual;
	atomic64_t jobs_done;
	atomic64_t slices;
	atomic64_t epochs;
	atomic64_t insns;
	atomic64_t busy_ns;
};

int ha_accel_engine_init(struct ha_accel_engine *eng, bool manual);
void ha_accel_engine_fini(struct ha_accel_engine *eng);
bool ha_accel_engine_step(struct ha_accel_engine *eng);
void ha_accel_engine_requeue(struct ha_accel_job *job);

/**
 * struct ha_accel_ctx - a submission context: one scheduler, one entity
 * @kref: the file's table holds one; each job holds one
 * @engine: where its jobs run
 * @dev: for the scheduler's messages
 * @id: in the file's table
 * @weight: slices per round (from the priority)
 * @sched: drm_sched instance of this context
 * @entity: the only entity of @sched
 * @fence_ctx: dma-fence context of the jobs' done fences
 * @seqno: last fence seqno
 * @fence_lock: lock of the done fences
 * @link: in the engine's @runnable list while @cur waits for slices
 * @credit: slices left in the current round
 * @cur: the job the engine runs for this context, or NULL
 * @detached: @cur's slice is away (HA_SLICE_DETACHED), @link is empty
 * @early: @cur was requeued before the engine had detached it
 * @active: jobs run_job() gave the engine whose done fence has not been
 *	signalled yet (two for a moment: the next job may start as soon as
 *	the previous one signals)
 * @cancelled: the context is going away: jobs stop at the next boundary
 * @name: scheduler name
 */
struct ha_accel_ctx {
	struct kref kref;
	struct ha_accel_engine *engine;
	struct device *dev;
	u32 id;
	u32 weight;
	struct drm_gpu_scheduler sched;
	struct drm_sched_entity entity;
	u64 fence_ctx;
	atomic64_t seqno;
	spinlock_t fence_lock; /* dma_fence lock of the done fences */
	struct list_head link;
	u32 credit;
	struct ha_accel_job *cur;
	bool detached;
	bool early;
	u32 active;
	atomic_t cancelled;
	char name[24];
};

/**
 * struct ha_accel_job - one submission
 * @base: drm_sched's part
 * @kref: see the top of this file
 * @ctx: holds a context reference
 * @ops: the engine executing it
 * @done: the fence run_job() returns, signalled when the engine is done
 * @finished: the scheduler's finished fence (a reference), what waiters use
 * @id: in the file's table
 * @state: DRM_HYPERAETHER_JOB_*
 * @stop: 0, or why the engine must stop at the next boundary
 *        (-ETIMEDOUT, -ECANCELED)
 * @error: the job's outcome once done
 * @begun: @ops->begin succeeded; @ops->end is still due
 * @priv: engine data made at submit (struct ha_accel_lavm for the CPU engine)
 * @epochs: epochs run
 * @insns: instance-epochs run
 * @run_ns: engine time
 * @halted: instances halted at the end
 * @faulted: instances faulted at the end
 * @active: instances still active at the end
 * @faults: faulted instances per fault code
 * @mock_slices: KUnit mock engine: slices before the job is done
 */
struct ha_accel_job {
	struct drm_sched_job base;
	struct kref kref;
	struct ha_accel_ctx *ctx;
	const struct ha_accel_engine_ops *ops;
	struct dma_fence done;
	struct dma_fence *finished;
	u32 id;
	u32 state;
	int stop;
	int error;
	bool begun;
	void *priv;
	u32 epochs;
	u64 insns;
	u64 run_ns;
	u32 halted;
	u32 faulted;
	u32 active;
	u32 faults[8];
	u32 mock_slices;
};

static inline struct ha_accel_job *to_ha_job(struct drm_sched_job *j)
{
	return container_of(j, struct ha_accel_job, base);
}

struct ha_accel_ctx *ha_accel_ctx_create(struct ha_accel_engine *eng,
					 struct device *dev, u32 priority);
void ha_accel_ctx_cancel(struct ha_accel_ctx *ctx);
void ha_accel_ctx_destroy(struct ha_accel_ctx *ctx);
void ha_accel_ctx_put(struct ha_accel_ctx *ctx);

struct ha_accel_job *ha_accel_job_alloc(struct ha_accel_ctx *ctx,
					const struct ha_accel_engine_ops *ops,
					u64 client_id);
int ha_accel_job_add_dep(struct ha_accel_job *job, struct dma_fence *fence);
void ha_accel_job_push(struct ha_accel_job *job);
void ha_accel_job_abort(struct ha_accel_job *job);
void ha_accel_job_put(struct ha_accel_job *job);

/* ------------------------------------------------------------ device */

/**
 * struct ha_accel_exec - userspace executors of one device
 * @lock: protects @fetchers, @nfetchers and the jobs' batch pointers
 * @fetchers: parked FETCH commands (struct ha_exec_pdu), oldest first
 * @nfetchers: their number
 * @batches: batch id -> struct ha_exec_batch handed out
 * @wq: batch timeouts
 * @handed: batches handed out
 * @committed: batches committed with success
 * @failed: batches taken back (failed, late, executor gone) and run on the CPU
 */
struct ha_accel_exec {
	spinlock_t lock; /* protects fetchers, nfetchers, batch pointers */
	struct list_head fetchers;
	u32 nfetchers;
	struct xarray batches;
	struct workqueue_struct *wq;
	atomic64_t handed;
	atomic64_t committed;
	atomic64_t failed;
};

/**
 * struct ha_accel_device - the accel device
 * @drm: the DRM device (/dev/accel/accelN)
 * @engine: the CPU engine's dispatcher
 * @exec: userspace executors
 * @jobs_submitted: accepted submissions
 */
struct ha_accel_device {
	struct drm_device drm;
	struct ha_accel_engine engine;
	struct ha_accel_exec exec;
	atomic64_t jobs_submitted;
};

#define to_ha_accel(d) container_of(d, struct ha_accel_device, drm)

/**
 * struct ha_accel_file - per open file
 * @adev: the device
 * @lock: serialises table updates against close
 * @ctxs: ctx_id -> struct ha_accel_ctx
 * @jobs: job id -> struct ha_accel_job
 */
struct ha_accel_file {
	struct ha_accel_device *adev;
	struct mutex lock; /* serialises table updates */
	struct xarray ctxs;
	struct xarray jobs;
};

extern unsigned int ha_accel_exec_timeout_ms;

int ha_accel_exec_init(struct ha_accel_exec *ex);
void ha_accel_exec_fini(struct ha_accel_exec *ex);
void ha_accel_exec_file_gone(struct ha_accel_device *adev, struct drm_file *file);
int ha_accel_uring_cmd(struct io_uring_cmd *cmd, unsigned int issue_flags);

int ha_accel_submit_ioctl(struct drm_device *drm, void *data,
			  struct drm_file *file);
int ha_accel_wait_ioctl(struct drm_device *drm, void *data,
			struct drm_file *file);

#endif /* __HA_ACCEL_H__ */
