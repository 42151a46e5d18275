// SPDX-License-Identifier: GPL-2.0
/*
 * Hyper-Aether accel driver: userspace executors (a GPU engine).
 *
 * An executor parks FETCH commands (io_uring passthrough, as ublk does).
 * When the engine gives a slice of a DRM_HYPERAETHER_ENGINE_EXECUTOR job
 * and an executor waits, the slice becomes a *batch*: the job's state,
 * shared memory and stacks are copied into private shadow buffers, which
 * the executor gets as handles of its own file; the context leaves the
 * engine until the batch comes back.  COMMIT_AND_FETCH hands it back:
 * on success the shadows are copied into the job's buffers and accounted
 * exactly like a CPU slice.  Anything else (a failed commit, the executor's
 * file closing, the batch overrunning exec_timeout_ms, the job being
 * cancelled or timing out) takes the batch back untouched, and the CPU
 * engine runs that slice and the rest of the job: no work is lost or
 * applied twice, and the results are the CPU engine's.
 *
 * The kernel keeps scheduling, fences, quotas and the capability table;
 * the executor only computes.  Serving needs CAP_SYS_ADMIN: an executor
 * sees the data of every tenant's jobs.
 */
#include <linux/io_uring/cmd.h>
#include <linux/iosys-map.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_gem_shmem_helper.h>
#include <drm/hyperaether_accel.h>

#include "ha_accel.h"
#include "ha_accel_lavm.h"

unsigned int ha_accel_exec_timeout_ms = 5000;
module_param_named(exec_timeout_ms, ha_accel_exec_timeout_ms, uint, 0644);
MODULE_PARM_DESC(exec_timeout_ms,
		 "a batch an executor has not committed by then runs on the CPU (default 5000)");

/**
 * struct ha_exec_pdu - a parked FETCH, in the command's pdu
 * @node: in &ha_accel_exec.fetchers while parked
 * @batch_ptr: where the batch description goes
 * @batch: the batch given to this command
 */
struct ha_exec_pdu {
	struct list_head node;
	u64 batch_ptr;
	struct ha_exec_batch *batch;
};

/**
 * struct ha_exec_batch - a slice handed to an executor
 * @id: in &ha_accel_exec.batches
 * @ref: one for the table, one for the FETCH completion
 * @ex: the executors' state
 * @job: the job (a reference)
 * @file: the executor's file, whose handles name the shadows
 * @handle: the shadows' handles in @file (0 where absent)
 * @epochs: epochs the batch runs
 * @timeout: takes the batch back after exec_timeout_ms
 * @desc: what FETCH returns
 */
struct ha_exec_batch {
	u32 id;
	refcount_t ref;
	struct ha_accel_exec *ex;
	struct ha_accel_job *job;
	struct drm_file *file;
	u32 handle[HA_BO_NR];
	u32 epochs;
	struct delayed_work timeout;
	struct drm_hyperaether_exec_batch desc;
};

static struct ha_exec_pdu *ha_exec_pdu(struct io_uring_cmd *cmd)
{
	return io_uring_cmd_to_pdu(cmd, struct ha_exec_pdu);
}

static struct io_uring_cmd *ha_exec_pdu_cmd(struct ha_exec_pdu *pdu)
{
	return container_of((void *)pdu, struct io_uring_cmd, pdu);
}

static struct ha_accel_exec *ha_job_exec(struct ha_accel_job *job)
{
	return &container_of(job->ctx->engine, struct ha_accel_device,
			     engine)->exec;
}

/* ------------------------------------------------------------ shadows */

static size_t ha_shadow_size(struct ha_accel_lavm *l, int i)
{
	switch (i) {
	case HA_BO_PROG:
		return l->prog_size;
	case HA_BO_STATE:
		return (size_t)l->lj.nvms * sizeof(struct lavm_vm);
	case HA_BO_SHARED:
		return (size_t)l->lj.nshared * sizeof(float);
	case HA_BO_STACK:
		return lavm_stack_size(&l->prog, l->lj.nvms);
	case HA_BO_ACL:
		return l->lj.acl ? l->acl.nseg * sizeof(u64) + l->lj.nvms : 0;
	}
	return 0;
}

/* The job's data behind buffer @i: the BO mapping, or kernel memory. */
static void *ha_job_data(struct ha_accel_lavm *l, int i)
{
	switch (i) {
	case HA_BO_PROG:
		return l->map[HA_BO_PROG].vaddr;
	case HA_BO_STATE:
		return l->lj.vms;
	case HA_BO_SHARED:
		return l->lj.shared;
	case HA_BO_STACK:
		return l->lj.stack;
	}
	return NULL;
}

/* Makes the shadows once per job; the program and table are copied then. */
static int ha_shadows_make(struct drm_device *drm, struct ha_accel_lavm *l)
{
	struct drm_gem_shmem_object *shmem;
	size_t size;
	int i, ret;
	u8 *acl;

	if (l->shadow[HA_BO_STATE])
		return 0;
	for (i = 0; i < HA_BO_NR; i++) {
		size = ha_shadow_size(l, i);
		if (!size)
			continue;
		shmem = drm_gem_shmem_create(drm, PAGE_ALIGN(size));
		if (IS_ERR(shmem))
			return PTR_ERR(shmem);
		l->shadow[i] = &shmem->base;
		ret = drm_gem_vmap_unlocked(l->shadow[i], &l->smap[i]);
		if (ret)
			return ret;
	}
	memcpy(l->smap[HA_BO_PROG].vaddr, ha_job_data(l, HA_BO_PROG), l->prog_size);
	if (l->shadow[HA_BO_ACL]) {
		acl = l->smap[HA_BO_ACL].vaddr;
		memcpy(acl, l->allow, l->acl.nseg * sizeof(u64));
		memcpy(acl + l->acl.nseg * sizeof(u64), l->dom, l->lj.nvms);
	}
	return 0;
}

static void ha_shadows_free(struct ha_accel_lavm *l)
{
	int i;

	for (i = 0; i < HA_BO_NR; i++) {
		if (!l->shadow[i])
			continue;
		if (!iosys_map_is_null(&l->smap[i]))
			drm_gem_vunmap_unlocked(l->shadow[i], &l->smap[i]);
		drm_gem_object_put(l->shadow[i]);
		l->shadow[i] = NULL;
		iosys_map_clear(&l->smap[i]);
	}
}

/* Copies the data a batch changes (state, shared, stack) one way or back. */
static void ha_shadows_sync(struct ha_accel_lavm *l, bool to_shadow)
{
	int i;

	for (i = HA_BO_STATE; i <= HA_BO_STACK; i++) {
		size_t size = ha_shadow_size(l, i);
		void *job = ha_job_data(l, i), *sh = l->smap[i].vaddr;

		if (!size || !l->shadow[i])
			continue;
		if (to_shadow)
			memcpy(sh, job, size);
		else
			memcpy(job, sh, size);
	}
}

/* ------------------------------------------------------------ batches */

static void ha_batch_put(struct ha_exec_batch *b)
{
	if (refcount_dec_and_test(&b->ref))
		kfree(b);
}

static void ha_batch_handles_drop(struct ha_exec_batch *b)
{
	int i;

	for (i = 0; i < HA_BO_NR; i++)
		if (b->handle[i])
			drm_gem_handle_delete(b->file, b->handle[i]);
}

/*
 * Ends @b, which the caller has taken out of the table (so it owns it):
 * @ok applies its results to the job, else the slice is run again by the
 * CPU engine.  @handles: the executor's file still has the handles.
 */
static void ha_batch_end(struct ha_exec_batch *b, bool ok, bool handles)
{
	struct ha_accel_job *job = b->job;
	struct ha_accel_lavm *l = job->priv;
	struct ha_accel_exec *ex = b->ex;

	if (current_work() != &b->timeout.work)
		cancel_delayed_work_sync(&b->timeout);
	if (handles)
		ha_batch_handles_drop(b);
	spin_lock(&ex->lock);
	l->batch = NULL;
	spin_unlock(&ex->lock);
	if (ok) {
		ha_shadows_sync(l, false);
		l->result = ha_lavm_slice_done(job, b->epochs) ? 1 : 2;
		atomic64_inc(&ex->committed);
	} else {
		l->exec_off = true;
		atomic64_inc(&ex->failed);
	}
	ha_accel_engine_requeue(job);
	ha_accel_job_put(job);
	ha_batch_put(b);
}

static void ha_batch_timeout(struct work_struct *work)
{
	struct ha_exec_batch *b = container_of(to_delayed_work(work),
					       struct ha_exec_batch, timeout);

	if (xa_cmpxchg(&b->ex->batches, b->id, b, NULL, 0) == b)
		ha_batch_end(b, false, true);
}

/* Task work of the executor: write the batch description, complete FETCH. */
static void ha_fetch_tw(struct io_uring_cmd *cmd, unsigned int issue_flags)
{
	struct ha_exec_pdu *pdu = ha_exec_pdu(cmd);
	struct ha_exec_batch *b = pdu->batch;
	u32 id;

	if (IS_ERR(b)) {
		io_uring_cmd_done(cmd, PTR_ERR(b), 0, issue_flags);
		return;
	}
	id = b->id;
	if (copy_to_user(u64_to_user_ptr(pdu->batch_ptr), &b->desc,
			 sizeof(b->desc))) {
		if (xa_cmpxchg(&b->ex->batches, id, b, NULL, 0) == b)
			ha_batch_end(b, false, true);
		io_uring_cmd_done(cmd, -EFAULT, 0, issue_flags);
	} else {
		io_uring_cmd_done(cmd, id, 0, issue_flags);
	}
	ha_batch_put(b);
}

/*
 * Gives the next slice of @job to a waiting executor.  Returns false if
 * none waits (or the hand-off failed): the CPU engine runs the slice.
 */
static bool ha_exec_handoff(struct ha_accel_job *job)
{
	struct ha_accel_exec *ex = ha_job_exec(job);
	struct ha_accel_lavm *l = job->priv;
	struct drm_hyperaether_exec_batch *d;
	struct io_uring_cmd *cmd;
	struct ha_exec_pdu *pdu;
	struct ha_exec_batch *b;
	struct drm_file *file;
	int i, ret;

	spin_lock(&ex->lock);
	pdu = list_first_entry_or_null(&ex->fetchers, struct ha_exec_pdu, node);
	if (pdu) {
		list_del_init(&pdu->node);
		ex->nfetchers--;
	}
	spin_unlock(&ex->lock);
	if (!pdu)
		return false;
	cmd = ha_exec_pdu_cmd(pdu);
	file = cmd->file->private_data;
	/* The batch starts from the buffers: the CPU engine writes them back. */
	ha_cpu_unload(job);

	b = kzalloc(sizeof(*b), GFP_KERNEL);
	ret = b ? ha_shadows_make(file->minor->dev, l) : -ENOMEM;
	if (ret)
		goto err_park;
	refcount_set(&b->ref, 2);
	b->ex = ex;
	b->file = file;
	b->epochs = ha_lavm_slice_epochs(job);
	INIT_DELAYED_WORK(&b->timeout, ha_batch_timeout);
	for (i = 0; i < HA_BO_NR; i++) {
		if (!l->shadow[i])
			continue;
		ret = drm_gem_handle_create(file, l->shadow[i], &b->handle[i]);
		if (ret)
			goto err_handles;
	}
	ha_shadows_sync(l, true);
	d = &b->desc;
	d->prog_handle = b->handle[HA_BO_PROG];
	d->prog_size = l->prog_size;
	d->state_handle = b->handle[HA_BO_STATE];
	d->ninstances = l->lj.nvms;
	d->shared_handle = b->handle[HA_BO_SHARED];
	d->nshared = l->lj.nshared;
	d->stack_handle = b->handle[HA_BO_STACK];
	d->max_epochs = b->epochs;
	d->acl_handle = b->handle[HA_BO_ACL];
	d->nsegments = l->lj.acl ? l->acl.nseg : 0;
	d->seg_words = l->lj.acl ? l->acl.seg_words : 0;
	kref_get(&job->kref);
	b->job = job;
	ret = xa_alloc(&ex->batches, &b->id, b, XA_LIMIT(1, INT_MAX), GFP_KERNEL);
	if (ret) {
		ha_accel_job_put(job);
		goto err_handles;
	}
	d->batch_id = b->id;
	spin_lock(&ex->lock);
	l->batch = b;
	spin_unlock(&ex->lock);
	atomic64_inc(&ex->handed);
	pdu->batch = b;
	queue_delayed_work(ex->wq, &b->timeout,
			   msecs_to_jiffies(READ_ONCE(ha_accel_exec_timeout_ms)));
	io_uring_cmd_complete_in_task(cmd, ha_fetch_tw);
	return true;

err_handles:
	ha_batch_handles_drop(b);
err_park:
	kfree(b);
	/* This executor could not take it: its FETCH completes with the error. */
	pdu->batch = ERR_PTR(ret);
	io_uring_cmd_complete_in_task(cmd, ha_fetch_tw);
	return false;
}

/* ------------------------------------------------------------ engine */

static int ha_exec_slice(struct ha_accel_job *job)
{
	struct ha_accel_lavm *l = job->priv;
	int result = l->result;

	if (result) {
		l->result = 0;
		return result == 1;
	}
	if (!l->exec_off && ha_exec_handoff(job))
		return HA_SLICE_DETACHED;
	return ha_cpu_slice(job);
}

/* The job must stop: take its batch back, its results unused. */
static void ha_exec_reclaim(struct ha_accel_job *job)
{
	struct ha_accel_exec *ex = ha_job_exec(job);
	struct ha_accel_lavm *l = job->priv;
	struct ha_exec_batch *b;

	spin_lock(&ex->lock);
	b = l ? l->batch : NULL;
	spin_unlock(&ex->lock);
	if (b && xa_cmpxchg(&ex->batches, b->id, b, NULL, 0) == b)
		ha_batch_end(b, false, true);
}

/* The job is over: its status as for the CPU engine, and the shadows go. */
static void ha_exec_end(struct ha_accel_job *job)
{
	ha_cpu_end(job);
	ha_shadows_free(job->priv);
}

const struct ha_accel_engine_ops ha_accel_exec_engine = {
	.name = "executor",
	.begin = ha_cpu_begin,
	.slice = ha_exec_slice,
	.end = ha_exec_end,
	.free = ha_cpu_free,
	.reclaim = ha_exec_reclaim,
};

/* ------------------------------------------------------------ uring */

static void ha_fetch_park(struct ha_accel_exec *ex, struct io_uring_cmd *cmd,
			  u64 batch_ptr, unsigned int issue_flags)
{
	struct ha_exec_pdu *pdu = ha_exec_pdu(cmd);

	pdu->batch_ptr = batch_ptr;
	pdu->batch = NULL;
	io_uring_cmd_mark_cancelable(cmd, issue_flags);
	spin_lock(&ex->lock);
	list_add_tail(&pdu->node, &ex->fetchers);
	ex->nfetchers++;
	spin_unlock(&ex->lock);
}

static void ha_fetch_cancel(struct ha_accel_exec *ex, struct io_uring_cmd *cmd,
			    unsigned int issue_flags)
{
	struct ha_exec_pdu *pdu = ha_exec_pdu(cmd);
	bool found = false;

	spin_lock(&ex->lock);
	if (!list_empty(&pdu->node)) {
		list_del_init(&pdu->node);
		ex->nfetchers--;
		found = true;
	}
	spin_unlock(&ex->lock);
	/* Not parked any more: a hand-off owns it and completes it. */
	if (found)
		io_uring_cmd_done(cmd, -ECANCELED, 0, issue_flags);
}

static int ha_commit(struct ha_accel_exec *ex, struct drm_file *file,
		     u32 id, s32 result)
{
	struct ha_exec_batch *b;

	b = xa_load(&ex->batches, id);
	if (!b || b->file != file)
		return -ENOENT;
	if (xa_cmpxchg(&ex->batches, id, b, NULL, 0) != b)
		return -ENOENT;	/* taken back meanwhile */
	ha_batch_end(b, result == 0, true);
	return 0;
}

int ha_accel_uring_cmd(struct io_uring_cmd *cmd, unsigned int issue_flags)
{
	const struct drm_hyperaether_exec_cmd *sqe = io_uring_sqe_cmd(cmd->sqe);
	struct drm_file *file = cmd->file->private_data;
	struct ha_accel_device *adev = to_ha_accel(file->minor->dev);
	struct ha_accel_exec *ex = &adev->exec;
	u64 batch_ptr;
	u32 id;
	s32 result;
	int ret;

	if (issue_flags & IO_URING_F_CANCEL) {
		ha_fetch_cancel(ex, cmd, issue_flags);
		return 0;
	}
	/* The SQE is shared with userspace: read each field once. */
	batch_ptr = READ_ONCE(sqe->batch_ptr);
	id = READ_ONCE(sqe->batch_id);
	result = READ_ONCE(sqe->result);

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	switch (cmd->cmd_op) {
	case DRM_HYPERAETHER_URING_FETCH:
		if (id || result || !batch_ptr)
			return -EINVAL;
		break;
	case DRM_HYPERAETHER_URING_COMMIT_AND_FETCH:
		if (!batch_ptr)
			return -EINVAL;
		ret = ha_commit(ex, file, id, result);
		if (ret)
			return ret;
		break;
	default:
		return -EINVAL;
	}
	ha_fetch_park(ex, cmd, batch_ptr, issue_flags);
	/* Jobs may be waiting for a CPU slice that this executor can take. */
	if (!adev->engine.manual)
		queue_work(adev->engine.wq, &adev->engine.work);
	return -EIOCBQUEUED;
}

/* The executor's file is gone: its batches run on the CPU. */
void ha_accel_exec_file_gone(struct ha_accel_device *adev, struct drm_file *file)
{
	struct ha_accel_exec *ex = &adev->exec;
	struct ha_exec_batch *b;
	unsigned long id;

	xa_for_each(&ex->batches, id, b) {
		/* drm_gem_release() dropped the file's handles already. */
		if (b->file == file &&
		    xa_cmpxchg(&ex->batches, id, b, NULL, 0) == b)
			ha_batch_end(b, false, false);
	}
	/* A timeout running now may still hold this file's handles. */
	flush_workqueue(ex->wq);
}

int ha_accel_exec_init(struct ha_accel_exec *ex)
{
	spin_lock_init(&ex->lock);
	INIT_LIST_HEAD(&ex->fetchers);
	xa_init_flags(&ex->batches, XA_FLAGS_ALLOC1);
	ex->wq = alloc_workqueue("ha-accel-exec", WQ_UNBOUND, 0);
	return ex->wq ? 0 : -ENOMEM;
}

void ha_accel_exec_fini(struct ha_accel_exec *ex)
{
	WARN_ON(!xa_empty(&ex->batches));
	xa_destroy(&ex->batches);
	destroy_workqueue(ex->wq);
}
