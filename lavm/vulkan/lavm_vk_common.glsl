/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Buffers and parameters shared by the LAVM Vulkan kernels; must match
 * struct lavm_vk_params and the bindings in lavm_vk.c.
 */
#extension GL_EXT_shader_explicit_arithmetic_types_int64 : require
#extension GL_EXT_spirv_intrinsics : require

/* IEEE round-to-nearest-even and no NaN/inf/-0 assumptions in f32 ops */
spirv_execution_mode(extensions = ["SPV_KHR_float_controls"], capabilities = [4467], 4462, 32);
spirv_execution_mode(extensions = ["SPV_KHR_float_controls"], capabilities = [4466], 4461, 32);

layout(local_size_x = 64) in;

/* struct lavm_vm as 32 words */
#define VM_WORDS	32
#define VM_SP		22
#define VM_STATUS	23
#define VM_FAULT	24
#define VM_EPOCHS	25
#define VM_PEND_ADDR	26
#define VM_PEND_VAL	27
#define NO_WRITE	0xffffffffu
#define EPOCH_NONE	0xffffffffu

#define ST_RUNNING	0u
#define ST_YIELDED	2u
#define ST_HALTED	3u
#define ST_FAULTED	4u

#define F_BAD_IP		1u
#define F_SHARED_ADDR		2u
#define F_STACK_OVERFLOW	3u
#define F_STACK_UNDERFLOW	4u
#define F_ACCESS		6u

layout(push_constant) uniform Params {
	uint nvms;
	uint ninsns;
	uint depth;		/* max_call_depth */
	uint nshared;
	uint max_epochs;
	uint budget;		/* instructions per VM per dispatch */
	uint round;		/* counter slot: this round reports to ctl[round & 1] */
	uint acl_nseg;		/* 0: no access-control table */
	uint acl_seg_words;
} pc;

/* decoded program: op, dst slot, src1 slot, src2 slot, immediate or target */
layout(std430, binding = 0) readonly buffer Code { uint code[]; };
layout(std430, binding = 1) buffer Vms { uint vms[]; };
layout(std430, binding = 2) buffer Stack { uint stack[]; };
layout(std430, binding = 3) buffer Shared { uint shared_mem[]; };
/* per shared word: 1 + the highest VM index writing it this round, or 0 */
layout(std430, binding = 4) buffer Owner { uint owner[]; };
/*
 * ctl[slot]: smallest epoch at which a VM waits at a READ/WRITE, smallest
 * epoch of a VM that stopped on its instruction budget.
 */
layout(std430, binding = 5) buffer Ctl { uvec2 ctl[2]; };
layout(std430, binding = 6) readonly buffer AclDom { uint acl_dom[]; };
layout(std430, binding = 7) readonly buffer AclAllow { uvec2 acl_allow[]; };
