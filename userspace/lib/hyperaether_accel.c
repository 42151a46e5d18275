// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * libhyperaether: the accel driver's ioctls on libdrm, and LAVM jobs made
 * of buffer objects.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <xf86drm.h>

#include "hyperaether_accel.h"

#define HA_ACCEL_DIR "/dev/accel"

/* drmIoctl() retries EINTR and EAGAIN and leaves the error in errno. */
static int ha_accel_ioctl(int fd, unsigned long cmd, void *arg)
{
	return drmIoctl(fd, cmd, arg) ? -errno : 0;
}

int ha_accel_check(int fd)
{
	drmVersionPtr v = drmGetVersion(fd);
	int ret;

	if (!v)
		return errno == ENOTTY || errno == EINVAL || !errno ? -ENODEV : -errno;
	ret = v->name && !strcmp(v->name, HA_ACCEL_DRIVER_NAME) ? 0 : -ENODEV;
	drmFreeVersion(v);
	return ret;
}

int ha_accel_open_path(const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);
	int ret;

	if (fd < 0)
		return -errno;
	ret = ha_accel_check(fd);
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}

int ha_accel_open(void)
{
	DIR *d = opendir(HA_ACCEL_DIR);
	struct dirent *de;
	int ret = -ENODEV;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char path[sizeof(HA_ACCEL_DIR) + 256];
		int fd;

		if (strncmp(de->d_name, "accel", 5))
			continue;
		snprintf(path, sizeof(path), HA_ACCEL_DIR "/%s", de->d_name);
		fd = ha_accel_open_path(path);
		if (fd >= 0) {
			ret = fd;
			break;
		}
		/* Keep the first real failure (EACCES) over "not ours". */
		if (fd != -ENODEV && ret == -ENODEV)
			ret = fd;
	}
	closedir(d);
	return ret;
}

int ha_accel_get_param(int fd, uint32_t param, uint64_t *value)
{
	struct drm_hyperaether_get_param gp = { .param = param };
	int ret = ha_accel_ioctl(fd, DRM_IOCTL_HYPERAETHER_GET_PARAM, &gp);

	if (!ret && value)
		*value = gp.value;
	return ret;
}

int ha_accel_ctx_create(int fd, uint32_t priority, uint32_t *ctx_id)
{
	struct drm_hyperaether_ctx_create cc = { .priority = priority };
	int ret = ha_accel_ioctl(fd, DRM_IOCTL_HYPERAETHER_CTX_CREATE, &cc);

	if (!ret && ctx_id)
		*ctx_id = cc.ctx_id;
	return ret;
}

int ha_accel_ctx_destroy(int fd, uint32_t ctx_id)
{
	struct drm_hyperaether_ctx_destroy cd = { .ctx_id = ctx_id };

	return ha_accel_ioctl(fd, DRM_IOCTL_HYPERAETHER_CTX_DESTROY, &cd);
}

int ha_accel_bo_create(int fd, uint64_t size, uint32_t *handle)
{
	struct drm_hyperaether_bo_create bc = { .size = size };
	int ret = ha_accel_ioctl(fd, DRM_IOCTL_HYPERAETHER_BO_CREATE, &bc);

	if (!ret)
		*handle = bc.handle;
	return ret;
}

int ha_accel_bo_info(int fd, uint32_t handle, uint64_t *size, uint64_t *mmap_offset)
{
	struct drm_hyperaether_bo_info bi = { .handle = handle };
	int ret = ha_accel_ioctl(fd, DRM_IOCTL_HYPERAETHER_BO_INFO, &bi);

	if (ret)
		return ret;
	if (size)
		*size = bi.size;
	if (mmap_offset)
		*mmap_offset = bi.mmap_offset;
	return 0;
}

int ha_accel_bo_close(int fd, uint32_t handle)
{
	return drmCloseBufferHandle(fd, handle) ? -errno : 0;
}

int ha_accel_bo_mmap(int fd, uint32_t handle, void **addr, size_t *size)
{
	uint64_t sz, off;
	void *p;
	int ret = ha_accel_bo_info(fd, handle, &sz, &off);

	if (ret)
		return ret;
	p = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)off);
	if (p == MAP_FAILED)
		return -errno;
	*addr = p;
	if (size)
		*size = sz;
	return 0;
}

int ha_accel_bo_new(int fd, uint64_t size, struct ha_accel_bo *bo)
{
	int ret;

	memset(bo, 0, sizeof(*bo));
	ret = ha_accel_bo_create(fd, size, &bo->handle);
	if (ret)
		return ret;
	ret = ha_accel_bo_mmap(fd, bo->handle, &bo->map, &bo->size);
	if (ret) {
		ha_accel_bo_close(fd, bo->handle);
		memset(bo, 0, sizeof(*bo));
	}
	return ret;
}

void ha_accel_bo_free(int fd, struct ha_accel_bo *bo)
{
	if (bo->map)
		munmap(bo->map, bo->size);
	if (bo->handle)
		ha_accel_bo_close(fd, bo->handle);
	memset(bo, 0, sizeof(*bo));
}

void ha_accel_submit_init(struct drm_hyperaether_submit *s)
{
	memset(s, 0, sizeof(*s));
	s->engine = DRM_HYPERAETHER_ENGINE_CPU;
	s->fabric_fd = -1;
}

int ha_accel_submit(int fd, struct drm_hyperaether_submit *s)
{
	return ha_accel_ioctl(fd, DRM_IOCTL_HYPERAETHER_SUBMIT, s);
}

int64_t ha_accel_deadline_ms(int64_t ms)
{
	struct timespec ts;

	if (ms < 0)
		return INT64_MAX;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec + ms * 1000000;
}

int ha_accel_wait(int fd, uint64_t job_id, int64_t deadline_ns, uint32_t flags,
		  struct drm_hyperaether_wait *st)
{
	struct drm_hyperaether_wait w = {
		.job_id = job_id,
		.timeout_ns = deadline_ns,
		.flags = flags,
	};
	int ret = ha_accel_ioctl(fd, DRM_IOCTL_HYPERAETHER_WAIT, &w);

	if (st && (!ret || ret == -ETIME))
		*st = w;
	return ret;
}

int ha_accel_syncobj_create(int fd, uint32_t flags, uint32_t *handle)
{
	return drmSyncobjCreate(fd, flags, handle) ? -errno : 0;
}

int ha_accel_syncobj_destroy(int fd, uint32_t handle)
{
	return drmSyncobjDestroy(fd, handle) ? -errno : 0;
}

int ha_accel_syncobj_signal(int fd, uint32_t handle)
{
	return drmSyncobjSignal(fd, &handle, 1) ? -errno : 0;
}

int ha_accel_syncobj_wait(int fd, const uint32_t *handles, uint32_t count, int64_t deadline_ns)
{
	return drmSyncobjWait(fd, (uint32_t *)handles, count, deadline_ns,
			      DRM_SYNCOBJ_WAIT_FLAGS_WAIT_ALL, NULL) ? -errno : 0;
}

int ha_accel_syncobj_export_sync_file(int fd, uint32_t handle)
{
	int sync_fd = -1;

	return drmSyncobjExportSyncFile(fd, handle, &sync_fd) ? -errno : sync_fd;
}

/* ---------------------------------------------------------- jobs */

/* Bundle header fields this helper needs (Documentation/lavm.rst). */
#define HA_BUNDLE_MAGIC		"LAVM\r\n\x1a\n"
#define HA_BUNDLE_HDR_SIZE	64
#define HA_BUNDLE_SHARED_OFF	36

long ha_accel_bundle_shared_size(const void *bundle, size_t size)
{
	const unsigned char *b = bundle;

	if (size < HA_BUNDLE_HDR_SIZE || memcmp(b, HA_BUNDLE_MAGIC, 8))
		return -EINVAL;
	return (long)((uint32_t)b[HA_BUNDLE_SHARED_OFF] |
		      (uint32_t)b[HA_BUNDLE_SHARED_OFF + 1] << 8 |
		      (uint32_t)b[HA_BUNDLE_SHARED_OFF + 2] << 16 |
		      (uint32_t)b[HA_BUNDLE_SHARED_OFF + 3] << 24);
}

void ha_accel_job_free(int fd, struct ha_accel_job *job)
{
	ha_accel_bo_free(fd, &job->prog);
	ha_accel_bo_free(fd, &job->state);
	ha_accel_bo_free(fd, &job->shared);
	ha_accel_bo_free(fd, &job->stack);
	if (job->own_ctx) {
		ha_accel_ctx_destroy(fd, job->ctx_id);
		job->ctx_id = 0;
		job->own_ctx = 0;
	}
}

int ha_accel_job_prepare(int fd, struct ha_accel_job *job)
{
	size_t states = (size_t)job->ninstances * HA_ACCEL_STATE_SIZE;
	int ret;

	if (!job->bundle || !job->bundle_size || !job->ninstances)
		return -EINVAL;
	if (!job->nshared) {
		long n = ha_accel_bundle_shared_size(job->bundle, job->bundle_size);

		if (n < 0)
			return (int)n;
		job->nshared = (uint32_t)n;
	}
	if (!job->ctx_id) {
		ret = ha_accel_ctx_create(fd, DRM_HYPERAETHER_PRIORITY_NORMAL, &job->ctx_id);
		if (ret)
			return ret;
		job->own_ctx = 1;
	}
	ret = ha_accel_bo_new(fd, job->bundle_size, &job->prog);
	if (ret)
		goto err_free;
	memcpy(job->prog.map, job->bundle, job->bundle_size);
	ret = ha_accel_bo_new(fd, states, &job->state);
	if (ret)
		goto err_free;
	if (job->states)
		memcpy(job->state.map, job->states, states);
	if (job->nshared) {
		ret = ha_accel_bo_new(fd, (uint64_t)job->nshared * sizeof(float), &job->shared);
		if (ret)
			goto err_free;
		if (job->shared_in)
			memcpy(job->shared.map, job->shared_in, (size_t)job->nshared * sizeof(float));
	}
	if (job->stack_frames) {
		ret = ha_accel_bo_new(fd, (uint64_t)job->ninstances * job->stack_frames *
				      HA_ACCEL_FRAME_SIZE, &job->stack);
		if (ret)
			goto err_free;
	}
	return 0;

err_free:
	ha_accel_job_free(fd, job);
	return ret;
}

int ha_accel_job_submit(int fd, struct ha_accel_job *job)
{
	struct drm_hyperaether_submit s;
	int ret;

	ha_accel_submit_init(&s);
	s.ctx_id = job->ctx_id;
	s.flags = job->states ? 0 : DRM_HYPERAETHER_SUBMIT_INIT_STATES;
	s.prog_handle = job->prog.handle;
	s.prog_size = (uint32_t)job->bundle_size;
	s.state_handle = job->state.handle;
	s.ninstances = job->ninstances;
	s.shared_handle = job->shared.handle;
	s.nshared = job->nshared;
	s.stack_handle = job->stack.handle;
	s.max_epochs = job->max_epochs;
	if (job->log && job->log_size) {
		job->log[0] = '\0';
		s.log_ptr = (uint64_t)(uintptr_t)job->log;
		s.log_size = job->log_size;
	}
	ret = ha_accel_submit(fd, &s);
	if (!ret)
		job->job_id = s.job_id;
	return ret;
}

int ha_accel_job_wait(int fd, struct ha_accel_job *job, int64_t timeout_ms)
{
	return ha_accel_wait(fd, job->job_id, ha_accel_deadline_ms(timeout_ms),
			     DRM_HYPERAETHER_WAIT_RELEASE, &job->status);
}

int ha_accel_run_bundle(int fd, struct ha_accel_job *job, int64_t timeout_ms)
{
	int ret = ha_accel_job_prepare(fd, job);

	if (ret)
		return ret;
	ret = ha_accel_job_submit(fd, job);
	if (!ret)
		ret = ha_accel_job_wait(fd, job, timeout_ms);
	if (ret)
		ha_accel_job_free(fd, job);
	return ret;
}
