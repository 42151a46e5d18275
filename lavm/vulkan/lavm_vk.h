/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * LAVM on Vulkan compute: runs a struct lavm_job on a Vulkan device with
 * exactly the results of lavm_ref_run() (states, call stack, shared memory,
 * epochs), on any GPU and on Mesa's lavapipe.  Functions return 0 or -errno
 * and, where they take @err, leave a one-line reason there.
 *
 *   lavm_vk_open(&vk, 0, err, sizeof(err))   -ENODEV: no Vulkan device
 *   lavm_vk_run(vk, job, &epochs)            as often as needed, one at a time
 *   lavm_vk_close(vk)
 *
 * A struct lavm_vk is not thread-safe: one caller at a time.
 */
#ifndef LAVM_VK_H
#define LAVM_VK_H

#include <stddef.h>
#include <stdint.h>
#include "lavm.h"

struct lavm_vk;

/* What a run did (for benchmarks and the executor's accounting). */
struct lavm_vk_stats {
	uint32_t rounds;	/* run + commit dispatch pairs */
	uint32_t submits;	/* queue submissions (each waited for) */
	uint64_t upload_bytes;
};

/*
 * Opens Vulkan device @device_index (as vkEnumeratePhysicalDevices orders
 * them).  -ENODEV when there is no Vulkan driver or no such device,
 * -ENOTSUP when the device lacks what exact results need (shaderInt64,
 * RTE rounding and signed-zero/inf/NaN preservation for f32), -EIO for
 * other Vulkan failures.  @err gets the reason.
 */
int lavm_vk_open(struct lavm_vk **vk, int device_index, char *err, size_t errlen);
void lavm_vk_close(struct lavm_vk *vk);

/* VkPhysicalDeviceProperties.deviceName, and whether it is a CPU (lavapipe). */
const char *lavm_vk_device_name(const struct lavm_vk *vk);
int lavm_vk_device_is_cpu(const struct lavm_vk *vk);
/* Lists the devices to @out-style callback lines "index: name (type)"; -ENODEV if none. */
int lavm_vk_list(void (*line)(void *arg, const char *text), void *arg);

/*
 * Runs @job to the end (no VM active, or job->max_epochs) as lavm_ref_run()
 * would, in place: job->vms, job->stack and job->shared hold the results and
 * *@epochs_out the epoch count.  -EINVAL for an acl that lavm_acl_check()
 * rejects or an unverified program, -E2BIG when a buffer exceeds the
 * device's limits (maxStorageBufferRange), -ENOMEM, -EIO (device lost).
 * LAVM_VK_BUDGET (environment) sets the instructions a VM runs per dispatch.
 */
int lavm_vk_run(struct lavm_vk *vk, struct lavm_job *job, uint32_t *epochs_out);
/* Statistics of the last lavm_vk_run(). */
void lavm_vk_last_stats(const struct lavm_vk *vk, struct lavm_vk_stats *st);
/* The reason of the last failed lavm_vk_run(). */
const char *lavm_vk_last_error(const struct lavm_vk *vk);

#endif /* LAVM_VK_H */
