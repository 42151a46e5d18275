/* SPDX-License-Identifier: LGPL-2.1 OR MIT */
/*
 * libhyperaether: the C API over the accel driver, /dev/accel/accelN.
 *
 * Thin wrappers over the ioctls of <drm/hyperaether_accel.h> on libdrm, and
 * a job helper that owns the buffer objects of one LAVM job (a .lavm bundle
 * on N instances).  Every function returns 0 (or a non-negative value) on
 * success and a negative errno on failure; print it with strerror(-ret).
 * Nothing here exits or prints.
 */
#ifndef HYPERAETHER_ACCEL_LIB_H
#define HYPERAETHER_ACCEL_LIB_H

#include <stddef.h>
#include <stdint.h>
#include <drm/hyperaether_accel.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The DRM driver name drmGetVersion() reports for our device. */
#define HA_ACCEL_DRIVER_NAME "hyperaether_accel"
/** Bytes of one instance state (struct lavm_vm). */
#define HA_ACCEL_STATE_SIZE 128
/** Bytes of one call frame (struct lavm_frame). */
#define HA_ACCEL_FRAME_SIZE 16

/*
 * Open the first /dev/accel/accel* driven by hyperaether_accel (O_RDWR,
 * O_CLOEXEC).  Returns an fd, -ENOENT when there is no /dev/accel at all,
 * -ENODEV when no accel device is ours, or the error of open().
 */
int ha_accel_open(void);
/* Open @path and check it is ours (-ENODEV otherwise). */
int ha_accel_open_path(const char *path);
/* 0 if @fd is a hyperaether_accel device, -ENODEV (or -errno) otherwise. */
int ha_accel_check(int fd);

/* DRM_HYPERAETHER_PARAM_* into *@value. */
int ha_accel_get_param(int fd, uint32_t param, uint64_t *value);

/* A context with priority DRM_HYPERAETHER_PRIORITY_*; *@ctx_id gets its id. */
int ha_accel_ctx_create(int fd, uint32_t priority, uint32_t *ctx_id);
int ha_accel_ctx_destroy(int fd, uint32_t ctx_id);

/* A shmem buffer object of at least @size bytes. */
int ha_accel_bo_create(int fd, uint64_t size, uint32_t *handle);
/* Size (a multiple of the page size) and mmap offset of @handle. */
int ha_accel_bo_info(int fd, uint32_t handle, uint64_t *size, uint64_t *mmap_offset);
/* Drop this fd's handle (GEM_CLOSE); the BO lives on while a job holds it. */
int ha_accel_bo_close(int fd, uint32_t handle);
/* Map the whole BO shared and read-write; *@addr, *@size (may be NULL). */
int ha_accel_bo_mmap(int fd, uint32_t handle, void **addr, size_t *size);

/* A BO and its mapping, as the job helper keeps them. */
struct ha_accel_bo {
	uint32_t handle;	/* 0: none */
	size_t size;
	void *map;
};

/* Create and map a BO of @size bytes; undone by ha_accel_bo_free(). */
int ha_accel_bo_new(int fd, uint64_t size, struct ha_accel_bo *bo);
/* Unmap and close; a zeroed or already freed @bo is fine. */
void ha_accel_bo_free(int fd, struct ha_accel_bo *bo);

/* Zero @s and set what "nothing" means for each field (fabric_fd = -1). */
void ha_accel_submit_init(struct drm_hyperaether_submit *s);
/* Queue a job; s->job_id comes back.  -EINVAL with the reason in log_ptr. */
int ha_accel_submit(int fd, struct drm_hyperaether_submit *s);

/*
 * The absolute CLOCK_MONOTONIC time @ms milliseconds from now, for
 * drm_hyperaether_wait.timeout_ns and syncobj waits; @ms < 0 is "forever".
 */
int64_t ha_accel_deadline_ms(int64_t ms);

/*
 * Wait until @deadline_ns (absolute, 0 polls) for job @job_id; @flags
 * DRM_HYPERAETHER_WAIT_*.  @st (may be NULL) gets the status, also on
 * -ETIME, when it is filled as of now.  Signals do not end the wait early:
 * the deadline is absolute, so the call is restarted.
 */
int ha_accel_wait(int fd, uint64_t job_id, int64_t deadline_ns, uint32_t flags,
		  struct drm_hyperaether_wait *st);

/* Syncobjs (libdrm's, with -errno returns). */
int ha_accel_syncobj_create(int fd, uint32_t flags, uint32_t *handle);
int ha_accel_syncobj_destroy(int fd, uint32_t handle);
int ha_accel_syncobj_signal(int fd, uint32_t handle);
/* Wait for all @count syncobjs until @deadline_ns; -ETIME when it passes. */
int ha_accel_syncobj_wait(int fd, const uint32_t *handles, uint32_t count, int64_t deadline_ns);
/* A sync_file fd of the syncobj's fence (poll it for POLLIN). */
int ha_accel_syncobj_export_sync_file(int fd, uint32_t handle);

/* ---------------------------------------------------------- jobs */

/*
 * struct ha_accel_job - one LAVM job with the BOs it runs on.
 *
 * Fill the "in" fields (zero the struct first), call ha_accel_job_prepare()
 * once, then ha_accel_job_submit() and ha_accel_job_wait() as often as you
 * like (the BOs are reused: states are reset when @states is NULL, shared
 * memory keeps what the last job left), and ha_accel_job_free().
 * ha_accel_run_bundle() does all of it once.
 */
struct ha_accel_job {
	/* in */
	const void *bundle;	/* a .lavm bundle */
	size_t bundle_size;
	uint32_t ninstances;
	uint32_t nshared;	/* 0: the bundle's .shared size */
	uint32_t max_epochs;
	uint32_t ctx_id;	/* 0: prepare creates one, free destroys it */
	const void *states;	/* ninstances * 128 bytes, or NULL: the default start */
	const float *shared_in;	/* nshared words copied in at prepare, or NULL: zeros */
	uint32_t stack_frames;	/* frames per instance in a stack BO; 0: kernel memory */
	char *log;		/* verifier message on -EINVAL, or NULL */
	uint32_t log_size;
	/* out */
	struct ha_accel_bo prog, state, shared, stack;
	uint64_t job_id;
	struct drm_hyperaether_wait status;
	int own_ctx;
};

int ha_accel_job_prepare(int fd, struct ha_accel_job *job);
int ha_accel_job_submit(int fd, struct ha_accel_job *job);
/* Waits up to @timeout_ms (< 0: forever) and releases the job; fills job->status. */
int ha_accel_job_wait(int fd, struct ha_accel_job *job, int64_t timeout_ms);
void ha_accel_job_free(int fd, struct ha_accel_job *job);

/*
 * Run @bundle on @ninstances default-started instances for up to
 * @max_epochs epochs and wait for it: prepare, submit, wait in one call.
 * On success the final states are at job->state.map and the shared memory
 * at job->shared.map until ha_accel_job_free(); the job's own error (e.g.
 * -ETIMEDOUT) is in job->status.error, not the return value.
 */
int ha_accel_run_bundle(int fd, struct ha_accel_job *job, int64_t timeout_ms);

/* The .shared size recorded in a bundle's header, or -EINVAL if it is none. */
long ha_accel_bundle_shared_size(const void *bundle, size_t size);

#ifdef __cplusplus
}
#endif

#endif /* HYPERAETHER_ACCEL_LIB_H */
