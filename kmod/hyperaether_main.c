// SPDX-License-Identifier: GPL-2.0
/*
 * Hyper-Aether fabric module: /dev/hyperaether.
 *
 * The misc device through which userspace creates and drives a fabric of
 * VMs.  See Documentation/hyperaether.rst.
 */
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "hyperaether_drv.h"

#define CREATE_TRACE_POINTS
#include "hyperaether_trace.h"

static int ha_open(struct inode *inode, struct file *filp)
{
	struct ha_file *hf;

	hf = kzalloc(sizeof(*hf), GFP_KERNEL_ACCOUNT);
	if (!hf)
		return -ENOMEM;
	mutex_init(&hf->lock);
	filp->private_data = hf;
	return 0;
}

static int ha_release(struct inode *inode, struct file *filp)
{
	struct ha_file *hf = filp->private_data;

	if (hf->fabric)
		ha_fabric_destroy(hf->fabric);
	mutex_destroy(&hf->lock);
	kfree(hf);
	return 0;
}

static const struct file_operations ha_fops = {
	.owner		= THIS_MODULE,
	.open		= ha_open,
	.release	= ha_release,
	.unlocked_ioctl	= ha_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

/* The private data of @filp if it is an open /dev/hyperaether, else NULL. */
struct ha_file *ha_file_from(struct file *filp)
{
	return filp->f_op == &ha_fops ? filp->private_data : NULL;
}

static struct miscdevice ha_miscdev = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= HYPERAETHER_DEVICE_NAME,
	.fops	= &ha_fops,
	.mode	= 0660,
};

static int __init ha_init(void)
{
	int ret;

	ha_debugfs_init();
	ret = misc_register(&ha_miscdev);
	if (ret) {
		pr_err("hyperaether: cannot register misc device: %d\n", ret);
		ha_debugfs_fini();
		return ret;
	}
	pr_info("hyperaether: /dev/%s ready (API %u.%u)\n",
		HYPERAETHER_DEVICE_NAME, HYPERAETHER_API_MAJOR,
		HYPERAETHER_API_MINOR);
	return 0;
}

static void __exit ha_exit(void)
{
	misc_deregister(&ha_miscdev);
	ha_debugfs_fini();
	/* kfree_rcu() callbacks of VMs must not outlive the module text. */
	rcu_barrier();
}

module_init(ha_init);
module_exit(ha_exit);

MODULE_DESCRIPTION("Hyper-Aether VM fabric");
MODULE_AUTHOR("The Hyper-Aether developers");
MODULE_LICENSE("GPL");
