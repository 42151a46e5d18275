/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * Hyper-Aether accel driver: LAVM jobs on /dev/accel/accelN.
 *
 * A job runs N instances of one verified LAVM program (a .lavm bundle) for
 * up to max_epochs epochs over buffer objects: the program, the instance
 * states (struct lavm_vm, 128 bytes each), optionally their call stacks,
 * and the shared memory.  Jobs are scheduled per context by drm_sched and
 * signal a dma-fence that can be exported through a syncobj.
 *
 * Rules of every ioctl here (Documentation/process/botching-up-ioctls.rst):
 * pad and reserved fields must be zero, output fields (ctx_id, handle,
 * job_id) must be zero on input, unknown flags are -EINVAL, every struct is
 * 64-bit aligned and only ever grows at the end.  Userspace includes this
 * header with libdrm's include path (pkg-config --cflags libdrm), where
 * "drm.h" lives.
 *
 * See Documentation/hyperaether-accel.rst.
 */
#ifndef _UAPI_DRM_HYPERAETHER_ACCEL_H_
#define _UAPI_DRM_HYPERAETHER_ACCEL_H_

#include <linux/const.h>

#include "drm.h"

#if defined(__cplusplus)
extern "C" {
#endif

#define DRM_HYPERAETHER_API_VERSION	2

#define DRM_HYPERAETHER_GET_PARAM	0x00
#define DRM_HYPERAETHER_CTX_CREATE	0x01
#define DRM_HYPERAETHER_CTX_DESTROY	0x02
#define DRM_HYPERAETHER_BO_CREATE	0x03
#define DRM_HYPERAETHER_BO_INFO		0x04
#define DRM_HYPERAETHER_SUBMIT		0x05
#define DRM_HYPERAETHER_WAIT		0x06

#define DRM_IOCTL_HYPERAETHER_GET_PARAM \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_HYPERAETHER_GET_PARAM, struct drm_hyperaether_get_param)
#define DRM_IOCTL_HYPERAETHER_CTX_CREATE \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_HYPERAETHER_CTX_CREATE, struct drm_hyperaether_ctx_create)
#define DRM_IOCTL_HYPERAETHER_CTX_DESTROY \
	DRM_IOW(DRM_COMMAND_BASE + DRM_HYPERAETHER_CTX_DESTROY, struct drm_hyperaether_ctx_destroy)
#define DRM_IOCTL_HYPERAETHER_BO_CREATE \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_HYPERAETHER_BO_CREATE, struct drm_hyperaether_bo_create)
#define DRM_IOCTL_HYPERAETHER_BO_INFO \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_HYPERAETHER_BO_INFO, struct drm_hyperaether_bo_info)
#define DRM_IOCTL_HYPERAETHER_SUBMIT \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_HYPERAETHER_SUBMIT, struct drm_hyperaether_submit)
#define DRM_IOCTL_HYPERAETHER_WAIT \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_HYPERAETHER_WAIT, struct drm_hyperaether_wait)

/**
 * enum drm_hyperaether_param - what %DRM_IOCTL_HYPERAETHER_GET_PARAM reports
 * @DRM_HYPERAETHER_PARAM_API_VERSION: %DRM_HYPERAETHER_API_VERSION
 * @DRM_HYPERAETHER_PARAM_ENGINES: mask of BIT(%DRM_HYPERAETHER_ENGINE_*)
 * @DRM_HYPERAETHER_PARAM_MAX_INSTANCES: most instances per job
 * @DRM_HYPERAETHER_PARAM_MAX_SHARED_WORDS: most shared-memory words per job
 * @DRM_HYPERAETHER_PARAM_MAX_EPOCHS: most epochs per job
 * @DRM_HYPERAETHER_PARAM_MAX_SEGMENTS: most shared-memory segments per job
 * @DRM_HYPERAETHER_PARAM_SLICE_INSNS: VM-instructions the CPU engine runs
 *	between two preemption points
 * @DRM_HYPERAETHER_PARAM_JOB_TIMEOUT_MS: a job running longer is stopped
 * @DRM_HYPERAETHER_PARAM_EXECUTORS: executors waiting for a batch now
 * @DRM_HYPERAETHER_PARAM_EXEC_TIMEOUT_MS: a batch not committed by then
 *	runs on the CPU engine
 */
enum drm_hyperaether_param {
	DRM_HYPERAETHER_PARAM_API_VERSION = 0,
	DRM_HYPERAETHER_PARAM_ENGINES = 1,
	DRM_HYPERAETHER_PARAM_MAX_INSTANCES = 2,
	DRM_HYPERAETHER_PARAM_MAX_SHARED_WORDS = 3,
	DRM_HYPERAETHER_PARAM_MAX_EPOCHS = 4,
	DRM_HYPERAETHER_PARAM_MAX_SEGMENTS = 5,
	DRM_HYPERAETHER_PARAM_SLICE_INSNS = 6,
	DRM_HYPERAETHER_PARAM_JOB_TIMEOUT_MS = 7,
	DRM_HYPERAETHER_PARAM_EXECUTORS = 8,
	DRM_HYPERAETHER_PARAM_EXEC_TIMEOUT_MS = 9,
};

/**
 * struct drm_hyperaether_get_param - device discovery
 */
struct drm_hyperaether_get_param {
	/** @param: in, enum drm_hyperaether_param; -EINVAL if unknown. */
	__u32 param;
	/** @pad: must be zero. */
	__u32 pad;
	/** @value: out. */
	__u64 value;
};

/**
 * enum drm_hyperaether_priority - a context's share of the engine
 * @DRM_HYPERAETHER_PRIORITY_LOW: one slice per round
 * @DRM_HYPERAETHER_PRIORITY_NORMAL: two slices per round
 * @DRM_HYPERAETHER_PRIORITY_HIGH: four slices per round; needs CAP_SYS_NICE
 */
enum drm_hyperaether_priority {
	DRM_HYPERAETHER_PRIORITY_LOW = 0,
	DRM_HYPERAETHER_PRIORITY_NORMAL = 1,
	DRM_HYPERAETHER_PRIORITY_HIGH = 2,
};

/**
 * struct drm_hyperaether_ctx_create - a submission context
 *
 * Jobs of one context run in submission order; the engine shares its time
 * between contexts with runnable jobs in weighted round robin, one slice at
 * a time, so one context cannot starve another.
 */
struct drm_hyperaether_ctx_create {
	/** @priority: in, enum drm_hyperaether_priority. */
	__u32 priority;
	/** @flags: in, must be zero. */
	__u32 flags;
	/** @ctx_id: out, non-zero. */
	__u32 ctx_id;
	/** @pad: must be zero. */
	__u32 pad;
};

/**
 * struct drm_hyperaether_ctx_destroy - end a context
 *
 * Queued jobs of the context are cancelled (their fences signal with
 * -ECANCELED); a running one stops at its next slice boundary.
 */
struct drm_hyperaether_ctx_destroy {
	/** @ctx_id: in. */
	__u32 ctx_id;
	/** @pad: must be zero. */
	__u32 pad;
};

/**
 * struct drm_hyperaether_bo_create - a shmem buffer object
 */
struct drm_hyperaether_bo_create {
	/** @size: in, bytes, 1..(1 << 32); rounded up to pages. */
	__u64 size;
	/** @flags: in, must be zero. */
	__u32 flags;
	/** @handle: out, GEM handle. */
	__u32 handle;
};

/**
 * struct drm_hyperaether_bo_info - size and mmap offset of a BO
 */
struct drm_hyperaether_bo_info {
	/** @handle: in. */
	__u32 handle;
	/** @pad: must be zero. */
	__u32 pad;
	/** @size: out, bytes (a multiple of the page size). */
	__u64 size;
	/** @mmap_offset: out, the offset to pass to mmap() on the device fd. */
	__u64 mmap_offset;
};

/**
 * enum drm_hyperaether_engine - what executes the epochs
 * @DRM_HYPERAETHER_ENGINE_CPU: the LAVM epoch engine inside the kernel
 * @DRM_HYPERAETHER_ENGINE_EXECUTOR: slices go to a userspace executor (a
 *	GPU engine) waiting on %DRM_HYPERAETHER_URING_FETCH; while none
 *	waits, or when one fails, dies or overruns, they run on the CPU engine
 *	instead.  The results are the same either way.
 */
enum drm_hyperaether_engine {
	DRM_HYPERAETHER_ENGINE_CPU = 0,
	DRM_HYPERAETHER_ENGINE_EXECUTOR = 1,
};

/*
 * Submit flags.
 * INIT_STATES: the kernel writes the default start state into every
 * instance (IP = entry, r0 = instance index, the rest zero) instead of
 * running the states found in the state BO.
 */
#define DRM_HYPERAETHER_SUBMIT_INIT_STATES	_BITUL(0)
#define DRM_HYPERAETHER_SUBMIT_FLAGS		DRM_HYPERAETHER_SUBMIT_INIT_STATES

/**
 * struct drm_hyperaether_submit - queue one LAVM job
 *
 * The program is verified before the job is queued: a program the LAVM
 * verifier rejects fails with -EINVAL and a readable reason in @log_ptr.
 * Buffers are referenced by handle and must be large enough for what the
 * job touches (-EINVAL otherwise); the job holds them until it is freed.
 * When the job ends, the state BO holds the final states, the shared BO
 * the final shared memory and the stack BO the call stacks, all at an
 * epoch boundary even when the job was stopped early.
 *
 * Capabilities on data: with @nsegments > 0, the shared memory is split
 * into @nsegments segments of @seg_words words, segment s owned by the
 * fabric VM whose id is entry s of @segments_ptr, in the fabric owned by
 * @fabric_fd (an open /dev/hyperaether).  Instance i belongs to segment
 * byte i of @domains_ptr.  An instance may read and write its own segment,
 * and another one only where its VM holds SHARE on the owner in the
 * fabric's cap(i, j); any other access faults that instance alone
 * (LAVM fault 6, "access").  The job's epoch budget is charged to the
 * epoch quota of every listed VM (-EDQUOT when one has no room) and the
 * unused part is given back when the job ends.
 */
struct drm_hyperaether_submit {
	/** @ctx_id: in, from %DRM_IOCTL_HYPERAETHER_CTX_CREATE. */
	__u32 ctx_id;
	/** @flags: in, DRM_HYPERAETHER_SUBMIT_*. */
	__u32 flags;
	/** @engine: in, enum drm_hyperaether_engine. */
	__u32 engine;
	/** @prog_handle: in, BO holding a .lavm bundle at offset 0. */
	__u32 prog_handle;
	/** @prog_size: in, bytes of the bundle. */
	__u32 prog_size;
	/** @state_handle: in, BO of @ninstances struct lavm_vm (128 bytes each). */
	__u32 state_handle;
	/** @ninstances: in, 1..%DRM_HYPERAETHER_PARAM_MAX_INSTANCES. */
	__u32 ninstances;
	/** @shared_handle: in, BO of @nshared f32 words, or 0 when @nshared is 0. */
	__u32 shared_handle;
	/** @nshared: in, shared words; at least the program's .shared size. */
	__u32 nshared;
	/**
	 * @stack_handle: in, BO of @ninstances * max_call_depth call frames
	 * (16 bytes each, instance-major), or 0 for zeroed kernel memory.
	 */
	__u32 stack_handle;
	/** @max_epochs: in, 1..%DRM_HYPERAETHER_PARAM_MAX_EPOCHS. */
	__u32 max_epochs;
	/** @in_syncobj: in, 0 or a syncobj whose fence the job waits for. */
	__u32 in_syncobj;
	/** @out_syncobj: in, 0 or a syncobj that gets the job's fence. */
	__u32 out_syncobj;
	/** @fabric_fd: in, an fd owning a fabric when @nsegments > 0, else -1. */
	__s32 fabric_fd;
	/** @nsegments: in, 0 or 1..%DRM_HYPERAETHER_PARAM_MAX_SEGMENTS. */
	__u32 nsegments;
	/** @seg_words: in, words per segment (0 when @nsegments is 0). */
	__u32 seg_words;
	/** @segments_ptr: in, user pointer to @nsegments __u32 fabric VM ids. */
	__u64 segments_ptr;
	/** @domains_ptr: in, user pointer to @ninstances __u8 segment indices. */
	__u64 domains_ptr;
	/** @log_ptr: in, user buffer for the verifier's message, or 0. */
	__u64 log_ptr;
	/** @log_size: in, bytes at @log_ptr. */
	__u32 log_size;
	/** @pad: must be zero. */
	__u32 pad;
	/** @job_id: out, for %DRM_IOCTL_HYPERAETHER_WAIT. */
	__u64 job_id;
};

/**
 * enum drm_hyperaether_job_state - where a job is
 * @DRM_HYPERAETHER_JOB_QUEUED: waiting for its dependencies or the engine
 * @DRM_HYPERAETHER_JOB_RUNNING: epochs are being run
 * @DRM_HYPERAETHER_JOB_DONE: finished; see @error of the wait
 */
enum drm_hyperaether_job_state {
	DRM_HYPERAETHER_JOB_QUEUED = 0,
	DRM_HYPERAETHER_JOB_RUNNING = 1,
	DRM_HYPERAETHER_JOB_DONE = 2,
};

/* Forget the job once this call has reported it done. */
#define DRM_HYPERAETHER_WAIT_RELEASE	_BITUL(0)
#define DRM_HYPERAETHER_WAIT_FLAGS	DRM_HYPERAETHER_WAIT_RELEASE

/* Fault codes counted in @faults (LAVM's enum lavm_fault). */
#define DRM_HYPERAETHER_NFAULTS		8

/**
 * struct drm_hyperaether_wait - wait for a job and read its status
 *
 * Returns 0 with the status once the job is done, -ETIME if @timeout_ns
 * passed first (the status fields are then filled as of now), -EINTR on a
 * signal, -ENOENT for an unknown or released job.
 */
struct drm_hyperaether_wait {
	/** @job_id: in. */
	__u64 job_id;
	/** @timeout_ns: in, absolute CLOCK_MONOTONIC time; 0 polls. */
	__s64 timeout_ns;
	/** @flags: in, DRM_HYPERAETHER_WAIT_*. */
	__u32 flags;
	/** @state: out, enum drm_hyperaether_job_state. */
	__u32 state;
	/**
	 * @error: out, 0 when the job ran to its end (no instance active or
	 * max_epochs reached); -ETIMEDOUT when it was stopped for running
	 * past the job timeout, -ECANCELED when its context or file went
	 * away first, -ENOMEM when the engine could not get memory.
	 */
	__s32 error;
	/** @epochs: out, epochs run. */
	__u32 epochs;
	/** @halted: out, instances that halted. */
	__u32 halted;
	/** @faulted: out, instances that faulted. */
	__u32 faulted;
	/** @active: out, instances still running or yielded. */
	__u32 active;
	/** @faults: out, faulted instances per fault code. */
	__u32 faults[DRM_HYPERAETHER_NFAULTS];
	/** @pad: must be zero. */
	__u32 pad;
	/** @run_ns: out, engine time spent on the job. */
	__u64 run_ns;
	/**
	 * @insns: out, instance-epochs run: the sum over instances of the
	 * epochs each took part in (one instruction each, or a yield).
	 */
	__u64 insns;
};

/*
 * Executors: io_uring passthrough (IORING_OP_URING_CMD on an accel fd), in
 * the manner of ublk.  An executor process queues FETCH commands; the
 * driver completes one with a batch (cqe->res = batch id) after writing a
 * struct drm_hyperaether_exec_batch to the command's @batch_ptr.  The
 * batch's buffers are private copies, given to the executor as GEM handles
 * of its own file (mmap them through BO_INFO).  The executor runs the
 * batch's epochs on them and sends COMMIT_AND_FETCH with the batch id and
 * its result, which both hands the batch back and waits for the next one.
 * The driver copies the results into the job's buffers only on a
 * successful commit; a failed, late or missing commit (the executor died,
 * or overran the executor timeout) leaves them untouched and the batch
 * runs on the CPU engine.  Only a process with CAP_SYS_ADMIN may serve.
 */
#define DRM_HYPERAETHER_URING_FETCH		0x01
#define DRM_HYPERAETHER_URING_COMMIT_AND_FETCH	0x02

/**
 * struct drm_hyperaether_exec_cmd - the 16 command bytes of the SQE
 */
struct drm_hyperaether_exec_cmd {
	/** @batch_ptr: where the next batch is written (user pointer). */
	__u64 batch_ptr;
	/** @batch_id: COMMIT_AND_FETCH: the batch handed back; else 0. */
	__u32 batch_id;
	/** @result: COMMIT_AND_FETCH: 0 when the epochs ran, else -errno. */
	__s32 result;
};

/**
 * struct drm_hyperaether_exec_batch - one batch for an executor
 *
 * Run @max_epochs epochs (or until no instance is active) of the program
 * on the states, as lavm_ref_run() does with struct lavm_job.max_epochs =
 * @max_epochs: every instance's epoch counter starts from 0 and ends with
 * the epochs it took part in.  With @nsegments, the access table is in
 * @acl_handle: @nsegments __u64 allow masks, then @ninstances __u8 domains.
 */
struct drm_hyperaether_exec_batch {
	/** @batch_id: the id COMMIT_AND_FETCH names. */
	__u32 batch_id;
	/** @flags: zero today. */
	__u32 flags;
	/** @prog_handle: the program's .lavm bundle at offset 0. */
	__u32 prog_handle;
	/** @prog_size: bytes of the bundle. */
	__u32 prog_size;
	/** @state_handle: @ninstances struct lavm_vm. */
	__u32 state_handle;
	/** @ninstances: instances. */
	__u32 ninstances;
	/** @shared_handle: @nshared words, 0 when @nshared is 0. */
	__u32 shared_handle;
	/** @nshared: shared words. */
	__u32 nshared;
	/** @stack_handle: call frames (ninstances x max_call_depth), or 0. */
	__u32 stack_handle;
	/** @max_epochs: epochs to run. */
	__u32 max_epochs;
	/** @acl_handle: the access table, or 0 without segments. */
	__u32 acl_handle;
	/** @nsegments: segments, 0 without an access table. */
	__u32 nsegments;
	/** @seg_words: words per segment. */
	__u32 seg_words;
	/** @pad: zero. */
	__u32 pad;
	/** @reserved: zero. */
	__u64 reserved[2];
};

#if defined(__cplusplus)
}
#endif

#endif /* _UAPI_DRM_HYPERAETHER_ACCEL_H_ */
