// SPDX-License-Identifier: GPL-2.0
/*
 * Hyper-Aether accel driver: the device, files, contexts and buffers.
 *
 * A compute-only DRM device (/dev/accel/accelN) that runs LAVM jobs.  The
 * device is a platform device the module creates for itself, bound to the
 * platform driver "hyperaether_accel" (the udev rule matches on it).
 * See Documentation/hyperaether-accel.rst.
 */
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <drm/drm_accel.h>
#include <drm/drm_debugfs.h>
#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_gem_shmem_helper.h>
#include <drm/drm_ioctl.h>
#include <drm/drm_print.h>
#include <drm/hyperaether_accel.h>
#include <kunit/visibility.h>

#include "ha_accel.h"

#define CREATE_TRACE_POINTS
#include "ha_accel_trace.h"

unsigned int ha_accel_slice_insns = 1u << 24;
module_param_named(slice_insns, ha_accel_slice_insns, uint, 0644);
MODULE_PARM_DESC(slice_insns,
		 "VM-instructions per engine slice, the unit of time sharing (default 2^24)");

unsigned int ha_accel_job_timeout_ms = 30000;
module_param_named(job_timeout_ms, ha_accel_job_timeout_ms, uint, 0644);
MODULE_PARM_DESC(job_timeout_ms,
		 "a job running longer is stopped; contexts take it at creation (default 30000)");
EXPORT_SYMBOL_IF_KUNIT(ha_accel_job_timeout_ms);

unsigned int ha_accel_max_epochs = 1u << 30;
module_param_named(max_epochs, ha_accel_max_epochs, uint, 0644);
MODULE_PARM_DESC(max_epochs, "most epochs one job may ask for (default 2^30)");

static struct platform_device *ha_accel_pdev;

/* ------------------------------------------------------------- ioctls */

static int ha_accel_get_param(struct drm_device *drm, void *data,
			      struct drm_file *file)
{
	struct drm_hyperaether_get_param *args = data;

	if (args->pad)
		return -EINVAL;
	switch (args->param) {
	case DRM_HYPERAETHER_PARAM_API_VERSION:
		args->value = DRM_HYPERAETHER_API_VERSION;
		break;
	case DRM_HYPERAETHER_PARAM_ENGINES:
		args->value = BIT(DRM_HYPERAETHER_ENGINE_CPU) |
			      BIT(DRM_HYPERAETHER_ENGINE_EXECUTOR);
		break;
	case DRM_HYPERAETHER_PARAM_MAX_INSTANCES:
		args->value = HA_ACCEL_MAX_INSTANCES;
		break;
	case DRM_HYPERAETHER_PARAM_MAX_SHARED_WORDS:
		args->value = LAVM_MAX_SHARED;
		break;
	case DRM_HYPERAETHER_PARAM_MAX_EPOCHS:
		args->value = READ_ONCE(ha_accel_max_epochs);
		break;
	case DRM_HYPERAETHER_PARAM_MAX_SEGMENTS:
		args->value = HA_ACCEL_MAX_SEGMENTS;
		break;
	case DRM_HYPERAETHER_PARAM_SLICE_INSNS:
		args->value = READ_ONCE(ha_accel_slice_insns);
		break;
	case DRM_HYPERAETHER_PARAM_JOB_TIMEOUT_MS:
		args->value = ha_accel_job_timeout_ms;
		break;
	case DRM_HYPERAETHER_PARAM_EXECUTORS:
		spin_lock(&to_ha_accel(drm)->exec.lock);
		args->value = to_ha_accel(drm)->exec.nfetchers;
		spin_unlock(&to_ha_accel(drm)->exec.lock);
		break;
	case DRM_HYPERAETHER_PARAM_EXEC_TIMEOUT_MS:
		args->value = READ_ONCE(ha_accel_exec_timeout_ms);
		break;
	default:
		return -EINVAL;
	}
	return 0;
}

static int ha_accel_ctx_create_ioctl(struct drm_device *drm, void *data,
				     struct drm_file *file)
{
	struct drm_hyperaether_ctx_create *args = data;
	struct ha_accel_file *af = file->driver_priv;
	struct ha_accel_ctx *ctx;
	u32 id;
	int ret;

	if (args->flags || args->pad || args->ctx_id)
		return -EINVAL;
	if (args->priority > DRM_HYPERAETHER_PRIORITY_HIGH)
		return -EINVAL;
	if (args->priority == DRM_HYPERAETHER_PRIORITY_HIGH &&
	    !capable(CAP_SYS_NICE))
		return -EACCES;
	ctx = ha_accel_ctx_create(&af->adev->engine, drm->dev, args->priority);
	if (IS_ERR(ctx))
		return PTR_ERR(ctx);
	ret = xa_alloc(&af->ctxs, &id, ctx, XA_LIMIT(1, 1024), GFP_KERNEL);
	if (ret) {
		ha_accel_ctx_destroy(ctx);
		return ret == -EBUSY ? -ENOSPC : ret;
	}
	ctx->id = id;
	args->ctx_id = id;
	return 0;
}

static int ha_accel_ctx_destroy_ioctl(struct drm_device *drm, void *data,
				      struct drm_file *file)
{
	struct drm_hyperaether_ctx_destroy *args = data;
	struct ha_accel_file *af = file->driver_priv;
	struct ha_accel_ctx *ctx;

	if (args->pad)
		return -EINVAL;
	mutex_lock(&af->lock);
	ctx = xa_erase(&af->ctxs, args->ctx_id);
	mutex_unlock(&af->lock);
	if (!ctx)
		return -ENOENT;
	ha_accel_ctx_destroy(ctx);
	return 0;
}

static int ha_accel_bo_create(struct drm_device *drm, void *data,
			      struct drm_file *file)
{
	struct drm_hyperaether_bo_create *args = data;
	struct drm_gem_shmem_object *shmem;
	int ret;

	if (args->flags || args->handle)
		return -EINVAL;
	if (!args->size || args->size > HA_ACCEL_MAX_BO_SIZE)
		return -EINVAL;
	shmem = drm_gem_shmem_create(drm, PAGE_ALIGN(args->size));
	if (IS_ERR(shmem))
		return PTR_ERR(shmem);
	/* Mapped cached: only the CPU touches these pages. */
	shmem->map_wc = false;
	ret = drm_gem_handle_create(file, &shmem->base, &args->handle);
	/* The handle holds the reference now (or creation failed). */
	drm_gem_object_put(&shmem->base);
	return ret;
}

static int ha_accel_bo_info(struct drm_device *drm, void *data,
			    struct drm_file *file)
{
	struct drm_hyperaether_bo_info *args = data;
	struct drm_gem_object *obj;
	int ret;

	if (args->pad)
		return -EINVAL;
	obj = drm_gem_object_lookup(file, args->handle);
	if (!obj)
		return -ENOENT;
	ret = drm_gem_create_mmap_offset(obj);
	if (!ret) {
		args->size = obj->size;
		args->mmap_offset = drm_vma_node_offset_addr(&obj->vma_node);
	}
	drm_gem_object_put(obj);
	return ret;
}

static const struct drm_ioctl_desc ha_accel_ioctls[] = {
	DRM_IOCTL_DEF_DRV(HYPERAETHER_GET_PARAM, ha_accel_get_param, 0),
	DRM_IOCTL_DEF_DRV(HYPERAETHER_CTX_CREATE, ha_accel_ctx_create_ioctl, 0),
	DRM_IOCTL_DEF_DRV(HYPERAETHER_CTX_DESTROY, ha_accel_ctx_destroy_ioctl, 0),
	DRM_IOCTL_DEF_DRV(HYPERAETHER_BO_CREATE, ha_accel_bo_create, 0),
	DRM_IOCTL_DEF_DRV(HYPERAETHER_BO_INFO, ha_accel_bo_info, 0),
	DRM_IOCTL_DEF_DRV(HYPERAETHER_SUBMIT, ha_accel_submit_ioctl, 0),
	DRM_IOCTL_DEF_DRV(HYPERAETHER_WAIT, ha_accel_wait_ioctl, 0),
};

/* -------------------------------------------------------------- files */

static int ha_accel_open(struct drm_device *drm, struct drm_file *file)
{
	struct ha_accel_file *af;

	af = kzalloc(sizeof(*af), GFP_KERNEL_ACCOUNT);
	if (!af)
		return -ENOMEM;
	af->adev = to_ha_accel(drm);
	mutex_init(&af->lock);
	xa_init_flags(&af->ctxs, XA_FLAGS_ALLOC1);
	xa_init_flags(&af->jobs, XA_FLAGS_ALLOC1);
	file->driver_priv = af;
	return 0;
}

/*
 * The file is gone (closed, or its process killed): cancel every context,
 * which stops the running job at its next slice and completes queued ones
 * without running them, then drop the job records.
 */
static void ha_accel_postclose(struct drm_device *drm, struct drm_file *file)
{
	struct ha_accel_file *af = file->driver_priv;
	struct ha_accel_ctx *ctx;
	struct ha_accel_job *job;
	unsigned long id;

	xa_for_each(&af->ctxs, id, ctx)
		ha_accel_ctx_cancel(ctx);
	xa_for_each(&af->ctxs, id, ctx) {
		xa_erase(&af->ctxs, id);
		ha_accel_ctx_destroy(ctx);
	}
	xa_for_each(&af->jobs, id, job) {
		xa_erase(&af->jobs, id);
		ha_accel_job_put(job);
	}
	ha_accel_exec_file_gone(af->adev, file);
	xa_destroy(&af->ctxs);
	xa_destroy(&af->jobs);
	mutex_destroy(&af->lock);
	kfree(af);
}

/* ------------------------------------------------------------ debugfs */

static int ha_accel_engine_show(struct seq_file *m, void *unused)
{
	struct drm_debugfs_entry *entry = m->private;
	struct ha_accel_device *adev = to_ha_accel(entry->dev);
	struct ha_accel_engine *eng = &adev->engine;
	u64 busy = atomic64_read(&eng->busy_ns);
	u64 epochs = atomic64_read(&eng->epochs);
	u64 insns = atomic64_read(&eng->insns);
	struct ha_accel_ctx *ctx;

	seq_printf(m, "engine cpu (%s): jobs submitted %lld done %lld slices %lld\n",
		   ha_accel_epoch_isa(), atomic64_read(&adev->jobs_submitted),
		   atomic64_read(&eng->jobs_done), atomic64_read(&eng->slices));
	seq_printf(m, "epochs %llu insns %llu busy_ns %llu", epochs, insns, busy);
	if (busy)
		seq_printf(m, " insns/s %llu",
			   mul_u64_u64_div_u64(insns, NSEC_PER_SEC, busy));
	seq_printf(m, "\nexecutors waiting %u, batches handed %lld committed %lld taken back %lld",
		   READ_ONCE(adev->exec.nfetchers), atomic64_read(&adev->exec.handed),
		   atomic64_read(&adev->exec.committed), atomic64_read(&adev->exec.failed));
	seq_puts(m, "\nrunnable:");
	spin_lock(&eng->lock);
	list_for_each_entry(ctx, &eng->runnable, link)
		seq_printf(m, " %s(weight %u, job %u)", ctx->name, ctx->weight,
			   ctx->cur ? ctx->cur->id : 0);
	spin_unlock(&eng->lock);
	seq_puts(m, "\n");
	return 0;
}

static const struct drm_debugfs_info ha_accel_debugfs_list[] = {
	{ "engine", ha_accel_engine_show, 0 },
};

/* -------------------------------------------------------------- device */

/* DEFINE_DRM_ACCEL_FOPS() plus io_uring passthrough for executors. */
static const struct file_operations ha_accel_fops = {
	.owner = THIS_MODULE,
	DRM_ACCEL_FOPS,
	.uring_cmd = ha_accel_uring_cmd,
};

static const struct drm_driver ha_accel_drm_driver = {
	.driver_features = DRIVER_GEM | DRIVER_COMPUTE_ACCEL | DRIVER_SYNCOBJ,
	.open = ha_accel_open,
	.postclose = ha_accel_postclose,
	DRM_GEM_SHMEM_DRIVER_OPS,
	.ioctls = ha_accel_ioctls,
	.num_ioctls = ARRAY_SIZE(ha_accel_ioctls),
	.fops = &ha_accel_fops,
	.name = HA_ACCEL_NAME,
	.desc = "Hyper-Aether LAVM accelerator",
	.major = 1,
	.minor = 0,
};

static int ha_accel_probe(struct platform_device *pdev)
{
	struct ha_accel_device *adev;
	int ret;

	adev = devm_drm_dev_alloc(&pdev->dev, &ha_accel_drm_driver,
				  struct ha_accel_device, drm);
	if (IS_ERR(adev))
		return PTR_ERR(adev);
	ret = ha_accel_engine_init(&adev->engine, false);
	if (ret)
		return ret;
	ret = ha_accel_exec_init(&adev->exec);
	if (ret) {
		ha_accel_engine_fini(&adev->engine);
		return ret;
	}
	platform_set_drvdata(pdev, adev);
	drm_debugfs_add_files(&adev->drm, ha_accel_debugfs_list,
			      ARRAY_SIZE(ha_accel_debugfs_list));
	ret = drm_dev_register(&adev->drm, 0);
	if (ret) {
		ha_accel_exec_fini(&adev->exec);
		ha_accel_engine_fini(&adev->engine);
		return ret;
	}
	drm_info(&adev->drm, "LAVM accelerator ready (API %u)\n",
		 DRM_HYPERAETHER_API_VERSION);
	return 0;
}

static void ha_accel_remove(struct platform_device *pdev)
{
	struct ha_accel_device *adev = platform_get_drvdata(pdev);

	/* Every file is closed: the module cannot go while one is open. */
	drm_dev_unregister(&adev->drm);
	ha_accel_exec_fini(&adev->exec);
	ha_accel_engine_fini(&adev->engine);
}

static struct platform_driver ha_accel_pdrv = {
	.probe = ha_accel_probe,
	.remove = ha_accel_remove,
	.driver = {
		.name = HA_ACCEL_NAME,
	},
};

static int __init ha_accel_init(void)
{
	int ret;

	ret = platform_driver_register(&ha_accel_pdrv);
	if (ret)
		return ret;
	ha_accel_pdev = platform_device_register_simple(HA_ACCEL_NAME, -1,
							NULL, 0);
	if (IS_ERR(ha_accel_pdev)) {
		platform_driver_unregister(&ha_accel_pdrv);
		return PTR_ERR(ha_accel_pdev);
	}
	return 0;
}

static void __exit ha_accel_exit(void)
{
	platform_device_unregister(ha_accel_pdev);
	platform_driver_unregister(&ha_accel_pdrv);
}

module_init(ha_accel_init);
module_exit(ha_accel_exit);

MODULE_DESCRIPTION("Hyper-Aether LAVM accelerator (DRM accel)");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(HYPERAETHER);
