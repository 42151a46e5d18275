/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Hyper-Aether accel driver: a LAVM job's buffers and engine state, shared
 * by the CPU engine (ha_accel_job.c) and the executor path (ha_accel_exec.c).
 */
#ifndef __HA_ACCEL_LAVM_H__
#define __HA_ACCEL_LAVM_H__

#include <linux/iosys-map.h>

#include "ha_accel.h"

struct ha_exec_batch;

/* Most epochs one slice runs, whatever the instance count. */
#define HA_SLICE_MAX_EPOCHS	16384

enum { HA_BO_PROG, HA_BO_STATE, HA_BO_SHARED, HA_BO_STACK, HA_BO_ACL, HA_BO_NR };

/**
 * struct ha_accel_lavm - a LAVM job for the CPU engine
 * @bo: the job's buffers (NULL where absent), each with a reference
 * @map: their kernel mappings
 * @insns: decoded program
 * @matrices: its matrices
 * @prog: the verified program
 * @lj: the core's job description (pointers into the mappings)
 * @acl: access table, when the job has segments
 * @dom: instance -> segment
 * @allow: segment -> segments it may access
 * @fvms: fabric VMs charged with the epoch budget
 * @nseg: segments (and @fvms entries)
 * @kstack: zeroed call stacks when the job has no stack BO
 * @emem: epoch engine memory (between begin and end)
 * @emem_len: its size
 * @acc: epochs per instance, summed over slices
 * @max_epochs: the job's budget
 * @init_states: write the default start states in begin
 * @prog_size: bytes of the bundle in the program buffer
 * @shadow: executor path: private copies of the buffers (and the access
 *          table) handed to an executor, made at the first hand-off
 * @smap: their kernel mappings
 * @batch: the batch an executor holds now, or NULL
 * @result: a committed batch's outcome for the next slice: 0 none, 1 more
 *          to run, 2 done
 * @exec_off: an executor failed this job: the CPU engine runs the rest
 * @eng: the epoch engine, while @loaded
 * @loaded: the instances are in @eng, not in the state buffer
 * @load_base: the job's epochs when @eng was loaded
 * @load_sum: instance-epochs counted since then
 */
struct ha_accel_lavm {
	struct drm_gem_object *bo[HA_BO_NR];
	struct iosys_map map[HA_BO_NR];
	struct lavm_insn *insns;
	float *matrices;
	struct lavm_prog prog;
	struct lavm_job lj;
	struct lavm_acl acl;
	u8 *dom;
	u64 allow[HA_ACCEL_MAX_SEGMENTS];
	struct ha_vm *fvms[HA_ACCEL_MAX_SEGMENTS];
	u32 nseg;
	struct lavm_frame *kstack;
	void *emem;
	size_t emem_len;
	u32 *acc;
	u32 max_epochs;
	bool init_states;
	u32 prog_size;
	struct drm_gem_object *shadow[HA_BO_NR];
	struct iosys_map smap[HA_BO_NR];
	struct ha_exec_batch *batch;
	int result;
	bool exec_off;
	struct lavm_epoch eng;
	bool loaded;
	u32 load_base;
	u64 load_sum;
};

/* ha_accel_job.c */
int ha_cpu_begin(struct ha_accel_job *job);
int ha_cpu_slice(struct ha_accel_job *job);
void ha_cpu_unload(struct ha_accel_job *job);
void ha_cpu_end(struct ha_accel_job *job);
void ha_cpu_free(struct ha_accel_job *job);
u32 ha_lavm_slice_epochs(struct ha_accel_job *job);
int ha_lavm_slice_done(struct ha_accel_job *job, u32 e);

#endif /* __HA_ACCEL_LAVM_H__ */
