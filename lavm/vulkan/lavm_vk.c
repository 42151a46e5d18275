// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * LAVM on Vulkan compute (see lavm_vk.h and Documentation/lavm.rst).
 *
 * A run is a sequence of rounds of two dispatches over all VMs:
 *   run     every VM performs the READ/WRITE it waits at if this round
 *           grants that epoch, then runs ahead alone to its next READ or
 *           WRITE (or a stop, max_epochs, its instruction budget), and
 *           reports the smallest waiting epoch with atomicMin;
 *   commit  the granted epoch's WRITEs land, the highest VM index winning.
 * The grant of a round is the smallest waiting epoch of the previous one,
 * unless a VM stopped on its budget at or before it.  That is exactly the
 * reference's epoch order: a READ at epoch e runs once every WRITE of an
 * epoch < e has landed and before those of e.  Many rounds go into one
 * submission; finished rounds cost an empty dispatch.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vulkan/vulkan.h>

#include "lavm_exec.h"
#include "lavm_vk.h"
#include "lavm_vk_run.spv.h"
#include "lavm_vk_commit.spv.h"

enum {
	B_CODE, B_VMS, B_STACK, B_SHARED, B_OWNER, B_CTL, B_DOM, B_ALLOW, NBUF
};

#define VK_LOCAL_SIZE	64
#define VK_MAX_ROUNDS	256	/* at most, in one submission */
/*
 * Instructions a VM runs per dispatch: bounds a dispatch's time (GPU
 * watchdogs).  lavapipe stops all of a shader's loops together after 65535
 * iterations, inner ones (MOD's long division: up to ~300 per instruction)
 * included, so it gets a budget that stays far below.
 */
#define VK_DEFAULT_BUDGET	(1u << 16)
#define VK_CPU_BUDGET		64u

/* Push constants: lavm_vk_common.glsl's Params. */
struct lavm_vk_params {
	uint32_t nvms, ninsns, depth, nshared, max_epochs, budget, round;
	uint32_t acl_nseg, acl_seg_words;
};

struct vk_buf {
	VkBuffer buf;
	VkDeviceMemory mem;
	void *map;		/* host-visible memory, or NULL (device-local) */
	VkDeviceSize cap;
};

struct lavm_vk {
	VkInstance inst;
	VkPhysicalDevice phys;
	VkDevice dev;
	VkQueue queue;
	uint32_t qfam;
	VkPhysicalDeviceProperties props;
	VkPhysicalDeviceMemoryProperties memprops;
	int staging;		/* discrete GPU: device-local buffers + staging copies */
	VkDescriptorSetLayout dsl;
	VkPipelineLayout layout;
	VkPipeline run, commit;
	VkDescriptorPool pool;
	VkDescriptorSet set;
	VkCommandPool cmdpool;
	VkCommandBuffer cmd;
	VkFence fence;
	struct vk_buf dev_buf[NBUF];
	struct vk_buf host_buf[NBUF];	/* staging (only with ->staging) */
	struct lavm_vk_stats stats;
	char err[256];
};

static int fail(char *err, size_t len, int ret, const char *fmt, ...)
{
	va_list ap;

	if (err && len) {
		va_start(ap, fmt);
		vsnprintf(err, len, fmt, ap);
		va_end(ap);
	}
	return ret;
}

static const char *vk_result_name(VkResult r)
{
	switch (r) {
	case VK_ERROR_INCOMPATIBLE_DRIVER: return "VK_ERROR_INCOMPATIBLE_DRIVER";
	case VK_ERROR_INITIALIZATION_FAILED: return "VK_ERROR_INITIALIZATION_FAILED";
	case VK_ERROR_OUT_OF_HOST_MEMORY: return "VK_ERROR_OUT_OF_HOST_MEMORY";
	case VK_ERROR_OUT_OF_DEVICE_MEMORY: return "VK_ERROR_OUT_OF_DEVICE_MEMORY";
	case VK_ERROR_DEVICE_LOST: return "VK_ERROR_DEVICE_LOST";
	case VK_ERROR_EXTENSION_NOT_PRESENT: return "VK_ERROR_EXTENSION_NOT_PRESENT";
	case VK_ERROR_FEATURE_NOT_PRESENT: return "VK_ERROR_FEATURE_NOT_PRESENT";
	case VK_ERROR_LAYER_NOT_PRESENT: return "VK_ERROR_LAYER_NOT_PRESENT";
	default: return "VkResult error";
	}
}

static int vk_errno(VkResult r)
{
	return r == VK_ERROR_OUT_OF_HOST_MEMORY || r == VK_ERROR_OUT_OF_DEVICE_MEMORY ?
	       -ENOMEM : -EIO;
}

static const char *device_type_name(VkPhysicalDeviceType t)
{
	switch (t) {
	case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return "integrated GPU";
	case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return "discrete GPU";
	case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return "virtual GPU";
	case VK_PHYSICAL_DEVICE_TYPE_CPU: return "CPU";
	default: return "other";
	}
}

/* An instance, or -ENODEV when the loader finds no driver. */
static int create_instance(VkInstance *inst, char *err, size_t errlen)
{
	VkApplicationInfo app = {
		.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
		.pApplicationName = "lavm-vk",
		.apiVersion = VK_API_VERSION_1_2,
	};
	VkInstanceCreateInfo ci = {
		.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
		.pApplicationInfo = &app,
	};
	VkResult r = vkCreateInstance(&ci, NULL, inst);

	if (r == VK_ERROR_INCOMPATIBLE_DRIVER)
		return fail(err, errlen, -ENODEV,
			    "no Vulkan device: vkCreateInstance: VK_ERROR_INCOMPATIBLE_DRIVER "
			    "(no Vulkan 1.2 driver; install mesa-vulkan-drivers for lavapipe)");
	if (r != VK_SUCCESS)
		return fail(err, errlen, r == VK_ERROR_INITIALIZATION_FAILED ? -ENODEV : vk_errno(r),
			    "no Vulkan device: vkCreateInstance: %s (%d)", vk_result_name(r), r);
	return 0;
}

int lavm_vk_list(void (*line)(void *arg, const char *text), void *arg)
{
	VkPhysicalDevice pd[16];
	uint32_t n = 16;
	VkInstance inst;
	char buf[512];
	int ret = create_instance(&inst, buf, sizeof(buf));

	if (ret) {
		line(arg, buf);
		return ret;
	}
	if (vkEnumeratePhysicalDevices(inst, &n, pd) < 0)
		n = 0;
	for (uint32_t i = 0; i < n; i++) {
		VkPhysicalDeviceProperties p;

		vkGetPhysicalDeviceProperties(pd[i], &p);
		snprintf(buf, sizeof(buf), "%u: %s (%s, Vulkan %u.%u)", i, p.deviceName,
			 device_type_name(p.deviceType), VK_API_VERSION_MAJOR(p.apiVersion),
			 VK_API_VERSION_MINOR(p.apiVersion));
		line(arg, buf);
	}
	vkDestroyInstance(inst, NULL);
	return n ? 0 : -ENODEV;
}

static VkShaderModule make_module(VkDevice dev, const uint32_t *code, size_t size)
{
	VkShaderModuleCreateInfo ci = {
		.sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
		.codeSize = size,
		.pCode = code,
	};
	VkShaderModule m = VK_NULL_HANDLE;

	vkCreateShaderModule(dev, &ci, NULL, &m);
	return m;
}

static VkResult make_pipeline(struct lavm_vk *vk, const uint32_t *code, size_t size,
			      VkPipeline *pipe)
{
	VkShaderModule m = make_module(vk->dev, code, size);
	VkComputePipelineCreateInfo ci = {
		.sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
		.stage = {
			.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
			.stage = VK_SHADER_STAGE_COMPUTE_BIT,
			.module = m,
			.pName = "main",
		},
		.layout = vk->layout,
	};
	VkResult r;

	if (m == VK_NULL_HANDLE)
		return VK_ERROR_INITIALIZATION_FAILED;
	r = vkCreateComputePipelines(vk->dev, VK_NULL_HANDLE, 1, &ci, NULL, pipe);
	vkDestroyShaderModule(vk->dev, m, NULL);
	return r;
}

/* Device, queue, pipelines, descriptor set, command buffer and fence. */
static int setup_device(struct lavm_vk *vk, char *err, size_t errlen)
{
	VkPhysicalDeviceFloatControlsProperties fc = {
		.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FLOAT_CONTROLS_PROPERTIES,
	};
	VkPhysicalDeviceProperties2 p2 = {
		.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
		.pNext = &fc,
	};
	VkPhysicalDeviceFeatures feat;
	VkQueueFamilyProperties qf[16];
	uint32_t nqf = 16;
	float prio = 1.0f;
	VkResult r;

	vkGetPhysicalDeviceProperties2(vk->phys, &p2);
	vk->props = p2.properties;
	vkGetPhysicalDeviceMemoryProperties(vk->phys, &vk->memprops);
	vkGetPhysicalDeviceFeatures(vk->phys, &feat);
	if (vk->props.apiVersion < VK_API_VERSION_1_2)
		return fail(err, errlen, -ENOTSUP, "%s: Vulkan 1.2 needed", vk->props.deviceName);
	if (!feat.shaderInt64 || !fc.shaderRoundingModeRTEFloat32 ||
	    !fc.shaderSignedZeroInfNanPreserveFloat32)
		return fail(err, errlen, -ENOTSUP,
			    "%s: exact LAVM results need shaderInt64 (%d), "
			    "shaderRoundingModeRTEFloat32 (%d), shaderSignedZeroInfNanPreserveFloat32 (%d)",
			    vk->props.deviceName, feat.shaderInt64, fc.shaderRoundingModeRTEFloat32,
			    fc.shaderSignedZeroInfNanPreserveFloat32);
	vk->staging = vk->props.deviceType == VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU;

	vkGetPhysicalDeviceQueueFamilyProperties(vk->phys, &nqf, qf);
	vk->qfam = UINT32_MAX;
	for (uint32_t i = 0; i < nqf; i++) {
		if (qf[i].queueFlags & VK_QUEUE_COMPUTE_BIT) {
			vk->qfam = i;
			break;
		}
	}
	if (vk->qfam == UINT32_MAX)
		return fail(err, errlen, -ENOTSUP, "%s: no compute queue", vk->props.deviceName);

	VkPhysicalDeviceFeatures want = { .shaderInt64 = VK_TRUE };
	VkDeviceQueueCreateInfo qci = {
		.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
		.queueFamilyIndex = vk->qfam,
		.queueCount = 1,
		.pQueuePriorities = &prio,
	};
	VkDeviceCreateInfo dci = {
		.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
		.queueCreateInfoCount = 1,
		.pQueueCreateInfos = &qci,
		.pEnabledFeatures = &want,
	};
	r = vkCreateDevice(vk->phys, &dci, NULL, &vk->dev);
	if (r)
		return fail(err, errlen, vk_errno(r), "vkCreateDevice: %s", vk_result_name(r));
	vkGetDeviceQueue(vk->dev, vk->qfam, 0, &vk->queue);

	VkDescriptorSetLayoutBinding b[NBUF];

	for (int i = 0; i < NBUF; i++)
		b[i] = (VkDescriptorSetLayoutBinding){
			.binding = i,
			.descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
			.descriptorCount = 1,
			.stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
		};
	VkDescriptorSetLayoutCreateInfo dslci = {
		.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
		.bindingCount = NBUF,
		.pBindings = b,
	};
	VkPushConstantRange pcr = {
		.stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
		.size = sizeof(struct lavm_vk_params),
	};
	VkPipelineLayoutCreateInfo plci = {
		.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
		.setLayoutCount = 1,
		.pSetLayouts = &vk->dsl,
		.pushConstantRangeCount = 1,
		.pPushConstantRanges = &pcr,
	};
	VkDescriptorPoolSize ps = { VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, NBUF };
	VkDescriptorPoolCreateInfo dpci = {
		.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
		.maxSets = 1,
		.poolSizeCount = 1,
		.pPoolSizes = &ps,
	};
	VkCommandPoolCreateInfo cpci = {
		.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
		.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
		.queueFamilyIndex = vk->qfam,
	};
	VkFenceCreateInfo fci = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };

	if ((r = vkCreateDescriptorSetLayout(vk->dev, &dslci, NULL, &vk->dsl)) ||
	    (r = vkCreatePipelineLayout(vk->dev, &plci, NULL, &vk->layout)) ||
	    (r = make_pipeline(vk, lavm_vk_run_spv, sizeof(lavm_vk_run_spv), &vk->run)) ||
	    (r = make_pipeline(vk, lavm_vk_commit_spv, sizeof(lavm_vk_commit_spv), &vk->commit)) ||
	    (r = vkCreateDescriptorPool(vk->dev, &dpci, NULL, &vk->pool)))
		return fail(err, errlen, vk_errno(r), "%s: pipeline setup: %s",
			    vk->props.deviceName, vk_result_name(r));
	VkDescriptorSetAllocateInfo dsai = {
		.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
		.descriptorPool = vk->pool,
		.descriptorSetCount = 1,
		.pSetLayouts = &vk->dsl,
	};
	if ((r = vkAllocateDescriptorSets(vk->dev, &dsai, &vk->set)) ||
	    (r = vkCreateCommandPool(vk->dev, &cpci, NULL, &vk->cmdpool)))
		return fail(err, errlen, vk_errno(r), "descriptor/command pool: %s", vk_result_name(r));
	VkCommandBufferAllocateInfo cbai = {
		.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
		.commandPool = vk->cmdpool,
		.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
		.commandBufferCount = 1,
	};
	if ((r = vkAllocateCommandBuffers(vk->dev, &cbai, &vk->cmd)) ||
	    (r = vkCreateFence(vk->dev, &fci, NULL, &vk->fence)))
		return fail(err, errlen, vk_errno(r), "command buffer: %s", vk_result_name(r));
	return 0;
}

int lavm_vk_open(struct lavm_vk **vkp, int device_index, char *err, size_t errlen)
{
	VkPhysicalDevice pd[16];
	uint32_t n = 16;
	struct lavm_vk *vk;
	int ret;

	*vkp = NULL;
	vk = calloc(1, sizeof(*vk));
	if (!vk)
		return fail(err, errlen, -ENOMEM, "out of memory");
	ret = create_instance(&vk->inst, err, errlen);
	if (ret) {
		free(vk);
		return ret;
	}
	if (vkEnumeratePhysicalDevices(vk->inst, &n, pd) < 0)
		n = 0;
	if (n == 0) {
		ret = fail(err, errlen, -ENODEV, "no Vulkan device: the driver lists no physical device");
		goto err_close;
	}
	if (device_index < 0 || (uint32_t)device_index >= n) {
		ret = fail(err, errlen, -ENODEV, "no Vulkan device %d (there are %u: 0..%u)",
			   device_index, n, n - 1);
		goto err_close;
	}
	vk->phys = pd[device_index];
	ret = setup_device(vk, err, errlen);
	if (ret)
		goto err_close;
	*vkp = vk;
	return 0;

err_close:
	lavm_vk_close(vk);
	return ret;
}

static void buf_free(struct lavm_vk *vk, struct vk_buf *b)
{
	if (b->map)
		vkUnmapMemory(vk->dev, b->mem);
	if (b->buf)
		vkDestroyBuffer(vk->dev, b->buf, NULL);
	if (b->mem)
		vkFreeMemory(vk->dev, b->mem, NULL);
	memset(b, 0, sizeof(*b));
}

void lavm_vk_close(struct lavm_vk *vk)
{
	if (!vk)
		return;
	if (vk->dev) {
		vkDeviceWaitIdle(vk->dev);
		for (int i = 0; i < NBUF; i++) {
			buf_free(vk, &vk->dev_buf[i]);
			buf_free(vk, &vk->host_buf[i]);
		}
		if (vk->fence)
			vkDestroyFence(vk->dev, vk->fence, NULL);
		if (vk->cmdpool)
			vkDestroyCommandPool(vk->dev, vk->cmdpool, NULL);
		if (vk->pool)
			vkDestroyDescriptorPool(vk->dev, vk->pool, NULL);
		if (vk->run)
			vkDestroyPipeline(vk->dev, vk->run, NULL);
		if (vk->commit)
			vkDestroyPipeline(vk->dev, vk->commit, NULL);
		if (vk->layout)
			vkDestroyPipelineLayout(vk->dev, vk->layout, NULL);
		if (vk->dsl)
			vkDestroyDescriptorSetLayout(vk->dev, vk->dsl, NULL);
		vkDestroyDevice(vk->dev, NULL);
	}
	if (vk->inst)
		vkDestroyInstance(vk->inst, NULL);
	free(vk);
}

const char *lavm_vk_device_name(const struct lavm_vk *vk)
{
	return vk->props.deviceName;
}

int lavm_vk_device_is_cpu(const struct lavm_vk *vk)
{
	return vk->props.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU;
}

void lavm_vk_last_stats(const struct lavm_vk *vk, struct lavm_vk_stats *st)
{
	*st = vk->stats;
}

const char *lavm_vk_last_error(const struct lavm_vk *vk)
{
	return vk->err;
}

static int find_memory(const struct lavm_vk *vk, uint32_t bits, VkMemoryPropertyFlags want,
		       VkMemoryPropertyFlags prefer)
{
	int best = -1;

	for (uint32_t i = 0; i < vk->memprops.memoryTypeCount; i++) {
		VkMemoryPropertyFlags f = vk->memprops.memoryTypes[i].propertyFlags;

		if (!(bits & 1u << i) || (f & want) != want)
			continue;
		if ((f & prefer) == prefer)
			return i;
		if (best < 0)
			best = i;
	}
	return best;
}

/* Makes @b hold at least @size bytes (grow only); host-visible if @host. */
static int buf_reserve(struct lavm_vk *vk, struct vk_buf *b, VkDeviceSize size, int host)
{
	VkMemoryRequirements req;
	VkResult r;
	int type;

	if (b->buf && b->cap >= size)
		return 0;
	buf_free(vk, b);
	size = size < 256 ? 256 : size;
	VkBufferCreateInfo bci = {
		.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
		.size = size,
		.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
			 VK_BUFFER_USAGE_TRANSFER_DST_BIT,
		.sharingMode = VK_SHARING_MODE_EXCLUSIVE,
	};
	r = vkCreateBuffer(vk->dev, &bci, NULL, &b->buf);
	if (r)
		return vk_errno(r);
	vkGetBufferMemoryRequirements(vk->dev, b->buf, &req);
	if (host)
		type = find_memory(vk, req.memoryTypeBits, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
				   VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
				   vk->staging ? VK_MEMORY_PROPERTY_HOST_CACHED_BIT :
				   VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
	else
		type = find_memory(vk, req.memoryTypeBits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, 0);
	if (type < 0) {
		buf_free(vk, b);
		return -ENOMEM;
	}
	VkMemoryAllocateInfo mai = {
		.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
		.allocationSize = req.size,
		.memoryTypeIndex = type,
	};
	if ((r = vkAllocateMemory(vk->dev, &mai, NULL, &b->mem)) ||
	    (r = vkBindBufferMemory(vk->dev, b->buf, b->mem, 0)) ||
	    (host && (r = vkMapMemory(vk->dev, b->mem, 0, VK_WHOLE_SIZE, 0, &b->map)))) {
		buf_free(vk, b);
		return vk_errno(r);
	}
	b->cap = size;
	return 0;
}

/* The program as the kernels read it: op, dst, src1, src2 (state slots), imm/target. */
static void decode(const struct lavm_prog *prog, uint32_t *code)
{
	for (uint32_t ip = 0; ip < prog->ninsns; ip++) {
		const struct lavm_insn *in = &prog->insns[ip];
		uint32_t *c = code + 5 * ip;

		memset(c, 0, 5 * sizeof(*c));
		c[0] = in->op;
		switch (lavm_isa(in->op)->cls) {
		case LAVM_CLASS_LINEAR:
		case LAVM_CLASS_ORACLE: {
			struct lavm_alu_slots s = lavm_alu_slots(in);

			c[1] = s.dst;
			c[2] = s.src1;
			c[3] = s.src2;
			c[4] = lavm_alu_imm(in);
			break;
		}
		case LAVM_CLASS_IO:
			if (in->op == LAVM_OP_READ) {
				c[1] = LAVM_X_R0 + in->a[0];
				c[2] = LAVM_X_R0 + in->a[1];
			} else if (in->op == LAVM_OP_WRITE) {
				c[2] = LAVM_X_R0 + in->a[0];
				c[3] = LAVM_X_R0 + in->a[1];
			}
			break;
		case LAVM_CLASS_BRANCH:
			if (in->op == LAVM_OP_JUMP || in->op == LAVM_OP_CALL) {
				c[4] = in->a[0];
			} else if (in->op != LAVM_OP_RETURN) {
				c[2] = LAVM_X_R0 + in->a[0];
				c[4] = in->a[1];
			}
			break;
		}
	}
}

static void barrier(VkCommandBuffer cmd, VkPipelineStageFlags src, VkPipelineStageFlags dst)
{
	VkMemoryBarrier mb = {
		.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
		.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
		.dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT |
				 VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_HOST_READ_BIT,
	};

	vkCmdPipelineBarrier(cmd, src, dst, 0, 1, &mb, 0, NULL, 0, NULL);
}

#define STAGE_C VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT
#define STAGE_T VK_PIPELINE_STAGE_TRANSFER_BIT
#define STAGE_H VK_PIPELINE_STAGE_HOST_BIT

static void copy_buf(VkCommandBuffer cmd, struct vk_buf *from, struct vk_buf *to, VkDeviceSize n)
{
	VkBufferCopy region = { .size = n };

	vkCmdCopyBuffer(cmd, from->buf, to->buf, 1, &region);
}

static int submit_wait(struct lavm_vk *vk)
{
	VkSubmitInfo si = {
		.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
		.commandBufferCount = 1,
		.pCommandBuffers = &vk->cmd,
	};
	VkResult r;

	if ((r = vkEndCommandBuffer(vk->cmd)) ||
	    (r = vkQueueSubmit(vk->queue, 1, &si, vk->fence)) ||
	    (r = vkWaitForFences(vk->dev, 1, &vk->fence, VK_TRUE, UINT64_MAX)) ||
	    (r = vkResetFences(vk->dev, 1, &vk->fence)))
		return fail(vk->err, sizeof(vk->err), vk_errno(r), "%s: submit: %s",
			    vk->props.deviceName, vk_result_name(r));
	vk->stats.submits++;
	return 0;
}

static int begin(struct lavm_vk *vk)
{
	VkCommandBufferBeginInfo bi = {
		.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
		.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
	};

	vkResetCommandBuffer(vk->cmd, 0);
	return vkBeginCommandBuffer(vk->cmd, &bi) ? -EIO : 0;
}

/* Where the host reads and writes binding @i: the staging copy or the buffer itself. */
static void *host_map(struct lavm_vk *vk, int i)
{
	return vk->staging ? vk->host_buf[i].map : vk->dev_buf[i].map;
}

int lavm_vk_run(struct lavm_vk *vk, struct lavm_job *job, uint32_t *epochs_out)
{
	const struct lavm_prog *prog = job->prog;
	const struct lavm_acl *acl = job->acl;
	uint64_t max_range = vk->props.limits.maxStorageBufferRange;
	uint32_t groups = (job->nvms + VK_LOCAL_SIZE - 1) / VK_LOCAL_SIZE;
	VkDeviceSize size[NBUF];
	const char *env = getenv("LAVM_VK_BUDGET");
	struct lavm_vk_params pc = {
		.nvms = job->nvms,
		.ninsns = prog->ninsns,
		.depth = prog->max_call_depth,
		.nshared = job->nshared,
		.max_epochs = job->max_epochs,
		.budget = env ? (uint32_t)strtoul(env, NULL, 0) : 0,
		.acl_nseg = acl ? acl->nseg : 0,
		.acl_seg_words = acl ? acl->seg_words : 1,
	};
	uint32_t round = 0, batch = 1, epochs = 0, *ctl;
	int ret;

	memset(&vk->stats, 0, sizeof(vk->stats));
	vk->err[0] = 0;
	if (!(prog->flags & LAVM_PROG_VERIFIED) || job->nshared < prog->shared_size ||
	    (job->nshared && !job->shared) || (lavm_stack_size(prog, job->nvms) && !job->stack))
		return fail(vk->err, sizeof(vk->err), -EINVAL,
			    "job: unverified program, or missing stack/shared memory");
	if (acl && lavm_acl_check(acl, job->nvms) != LAVM_OK)
		return fail(vk->err, sizeof(vk->err), -EINVAL, "job: malformed access-control table");
	if (pc.budget == 0)
		pc.budget = lavm_vk_device_is_cpu(vk) ? VK_CPU_BUDGET : VK_DEFAULT_BUDGET;
	for (uint32_t i = 0; i < job->nvms; i++)
		lavm_vm_check(&job->vms[i], prog);
	if (job->nvms == 0 || job->max_epochs == 0)
		goto out;

	size[B_CODE] = (VkDeviceSize)prog->ninsns * 5 * 4;
	size[B_VMS] = (VkDeviceSize)job->nvms * sizeof(struct lavm_vm);
	size[B_STACK] = lavm_stack_size(prog, job->nvms);
	size[B_SHARED] = (VkDeviceSize)job->nshared * 4;
	size[B_OWNER] = size[B_SHARED];
	size[B_CTL] = 4 * sizeof(uint32_t);
	size[B_DOM] = acl ? (VkDeviceSize)job->nvms * 4 : 0;
	size[B_ALLOW] = acl ? (VkDeviceSize)acl->nseg * 8 : 0;
	for (int i = 0; i < NBUF; i++) {
		if (size[i] < 16)
			size[i] = 16;
		if (size[i] > max_range)
			return fail(vk->err, sizeof(vk->err), -E2BIG,
				    "%s: buffer %d needs %llu bytes, maxStorageBufferRange is %llu",
				    vk->props.deviceName, i, (unsigned long long)size[i],
				    (unsigned long long)max_range);
	}
	if (groups > vk->props.limits.maxComputeWorkGroupCount[0])
		return fail(vk->err, sizeof(vk->err), -E2BIG, "%s: %u VMs need %u workgroups, limit %u",
			    vk->props.deviceName, job->nvms, groups,
			    vk->props.limits.maxComputeWorkGroupCount[0]);
	for (int i = 0; i < NBUF; i++) {
		ret = buf_reserve(vk, &vk->dev_buf[i], size[i], !vk->staging);
		if (!ret && vk->staging)
			ret = buf_reserve(vk, &vk->host_buf[i], size[i], 1);
		if (ret)
			return fail(vk->err, sizeof(vk->err), ret, "%s: cannot allocate %llu bytes",
				    vk->props.deviceName, (unsigned long long)size[i]);
	}

	/* inputs */
	decode(prog, host_map(vk, B_CODE));
	memcpy(host_map(vk, B_VMS), job->vms, job->nvms * sizeof(*job->vms));
	if (lavm_stack_size(prog, job->nvms))
		memcpy(host_map(vk, B_STACK), job->stack, lavm_stack_size(prog, job->nvms));
	if (job->nshared)
		memcpy(host_map(vk, B_SHARED), job->shared, (size_t)job->nshared * 4);
	memset(host_map(vk, B_OWNER), 0, size[B_OWNER]);
	ctl = host_map(vk, B_CTL);
	/* round 0 grants nothing (y = 0: "a VM stopped at epoch 0"); reports go to ctl[0] */
	ctl[0] = ctl[1] = LAVM_EPOCH_NONE;
	ctl[2] = LAVM_EPOCH_NONE;
	ctl[3] = 0;
	if (acl) {
		uint32_t *dom = host_map(vk, B_DOM);

		for (uint32_t i = 0; i < job->nvms; i++)
			dom[i] = acl->dom[i];
		memcpy(host_map(vk, B_ALLOW), acl->allow, (size_t)acl->nseg * 8);
	}
	for (int i = 0; i < NBUF; i++)
		vk->stats.upload_bytes += size[i];

	VkDescriptorBufferInfo dbi[NBUF];
	VkWriteDescriptorSet wds[NBUF];

	for (int i = 0; i < NBUF; i++) {
		dbi[i] = (VkDescriptorBufferInfo){ vk->dev_buf[i].buf, 0, size[i] };
		wds[i] = (VkWriteDescriptorSet){
			.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
			.dstSet = vk->set,
			.dstBinding = i,
			.descriptorCount = 1,
			.descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
			.pBufferInfo = &dbi[i],
		};
	}
	vkUpdateDescriptorSets(vk->dev, NBUF, wds, 0, NULL);

	for (;;) {
		ret = begin(vk);
		if (ret)
			return fail(vk->err, sizeof(vk->err), ret, "vkBeginCommandBuffer failed");
		if (vk->staging) {
			if (round == 0) {
				for (int i = 0; i < NBUF; i++)
					copy_buf(vk->cmd, &vk->host_buf[i], &vk->dev_buf[i], size[i]);
				barrier(vk->cmd, STAGE_T, STAGE_C);
			}
		}
		vkCmdBindDescriptorSets(vk->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, vk->layout, 0, 1,
					&vk->set, 0, NULL);
		for (uint32_t k = 0; k < batch; k++, round++) {
			pc.round = round;
			vkCmdPushConstants(vk->cmd, vk->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0,
					   sizeof(pc), &pc);
			vkCmdBindPipeline(vk->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, vk->run);
			vkCmdDispatch(vk->cmd, groups, 1, 1);
			barrier(vk->cmd, STAGE_C, STAGE_C);
			vkCmdBindPipeline(vk->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, vk->commit);
			vkCmdDispatch(vk->cmd, groups, 1, 1);
			barrier(vk->cmd, STAGE_C, STAGE_C | STAGE_T | STAGE_H);
		}
		if (vk->staging) {
			copy_buf(vk->cmd, &vk->dev_buf[B_CTL], &vk->host_buf[B_CTL], size[B_CTL]);
			barrier(vk->cmd, STAGE_T, STAGE_H);
		}
		ret = submit_wait(vk);
		if (ret)
			return ret;
		vk->stats.rounds += batch;
		/* the last round reported to ctl[(round - 1) & 1]: nothing waits or runs */
		if (ctl[2 * ((round - 1) & 1)] == LAVM_EPOCH_NONE &&
		    ctl[2 * ((round - 1) & 1) + 1] == LAVM_EPOCH_NONE)
			break;
		if (batch < VK_MAX_ROUNDS)
			batch *= 2;
	}

	/* outputs */
	if (vk->staging) {
		ret = begin(vk);
		if (ret)
			return fail(vk->err, sizeof(vk->err), ret, "vkBeginCommandBuffer failed");
		copy_buf(vk->cmd, &vk->dev_buf[B_VMS], &vk->host_buf[B_VMS], size[B_VMS]);
		copy_buf(vk->cmd, &vk->dev_buf[B_STACK], &vk->host_buf[B_STACK], size[B_STACK]);
		copy_buf(vk->cmd, &vk->dev_buf[B_SHARED], &vk->host_buf[B_SHARED], size[B_SHARED]);
		barrier(vk->cmd, STAGE_T, STAGE_H);
		ret = submit_wait(vk);
		if (ret)
			return ret;
	}
	memcpy(job->vms, host_map(vk, B_VMS), job->nvms * sizeof(*job->vms));
	if (lavm_stack_size(prog, job->nvms))
		memcpy(job->stack, host_map(vk, B_STACK), lavm_stack_size(prog, job->nvms));
	if (job->nshared)
		memcpy(job->shared, host_map(vk, B_SHARED), (size_t)job->nshared * 4);
out:
	for (uint32_t i = 0; i < job->nvms; i++)
		if (job->vms[i].epochs > epochs)
			epochs = job->vms[i].epochs;
	*epochs_out = epochs;
	return 0;
}
