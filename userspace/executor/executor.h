/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hyperaether-executor: serves the accel driver's executor batches
 * (FETCH / COMMIT_AND_FETCH, Documentation/hyperaether-accel.rst) with a
 * LAVM engine: the Vulkan engine, the CPU epoch engine or the reference.
 *
 * The batch runner is apart from the ring so that a test can drive it with
 * a batch description and plain memory, without a kernel.
 */
#ifndef HA_EXECUTOR_H
#define HA_EXECUTOR_H

#include <stddef.h>
#include <stdint.h>
#include <drm/hyperaether_accel.h>

enum ha_exec_engine_kind {
	HA_EXEC_ENGINE_VULKAN,	/* lavm_vk_run() on a Vulkan device */
	HA_EXEC_ENGINE_CPU,	/* lavm_engine_run(LAVM_ENGINE_EPOCH), threaded */
	HA_EXEC_ENGINE_REF,	/* lavm_ref_run() */
};

struct lavm_vk;

/* struct ha_exec_engine - what runs the batches (one caller at a time). */
struct ha_exec_engine {
	enum ha_exec_engine_kind kind;
	unsigned int threads;	/* CPU engine threads */
	struct lavm_vk *vk;	/* the Vulkan engine */
};

/* Parses "vulkan", "cpu" or "ref": 0, or -EINVAL. */
int ha_exec_engine_parse(const char *name, enum ha_exec_engine_kind *kind);

/*
 * Opens engine @kind: Vulkan device @device, or @threads CPU threads (0:
 * one per online CPU).  -ENODEV: no Vulkan device, or a build without
 * the Vulkan engine (the static one); -ENOTSUP: the device cannot run LAVM
 * exactly.  @err gets a one-line reason.
 */
int ha_exec_engine_open(struct ha_exec_engine *eng, enum ha_exec_engine_kind kind,
			int device, unsigned int threads, char *err, size_t errlen);
void ha_exec_engine_close(struct ha_exec_engine *eng);
/* "vulkan: <device name>", "cpu: N threads, <isa>" or "ref". */
void ha_exec_engine_describe(const struct ha_exec_engine *eng, char *buf, size_t len);

/*
 * The batch's buffers, mapped (NULL/0 where its handle is 0): what
 * struct drm_hyperaether_exec_batch names by handle, with the mapped sizes.
 */
struct ha_exec_bufs {
	const void *prog;
	size_t prog_len;
	void *state;
	size_t state_len;
	void *shared;
	size_t shared_len;
	void *stack;
	size_t stack_len;
	const void *acl;
	size_t acl_len;
};

/* What a batch did: its epochs and VM-instructions (instance-epochs). */
struct ha_exec_result {
	uint32_t epochs;
	uint64_t insns;
};

/*
 * Runs batch @d on @b in place with @eng, as lavm_ref_run() would run a
 * struct lavm_job of max_epochs = d->max_epochs.  Everything the batch
 * claims is checked against @b first (sizes, the bundle and its CRC, the
 * verifier, the access table).  0, or -errno with the reason in @err:
 * the executor then fails the batch and the kernel's CPU engine runs it.
 */
int ha_exec_batch_run(struct ha_exec_engine *eng, const struct drm_hyperaether_exec_batch *d,
		      const struct ha_exec_bufs *b, struct ha_exec_result *res,
		      char *err, size_t errlen);

#endif /* HA_EXECUTOR_H */
