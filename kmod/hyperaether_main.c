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

#include "hyperaether_drv.h"

static const struct file_operations ha_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= ha_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

static struct miscdevice ha_miscdev = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= HYPERAETHER_DEVICE_NAME,
	.fops	= &ha_fops,
	.mode	= 0660,
};

static int __init ha_init(void)
{
	int ret;

	ret = misc_register(&ha_miscdev);
	if (ret) {
		pr_err("hyperaether: cannot register misc device: %d\n", ret);
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
}

module_init(ha_init);
module_exit(ha_exit);

MODULE_DESCRIPTION("Hyper-Aether VM fabric");
MODULE_AUTHOR("The Hyper-Aether developers");
MODULE_LICENSE("GPL");
