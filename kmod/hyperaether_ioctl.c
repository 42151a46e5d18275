// SPDX-License-Identifier: GPL-2.0
/*
 * Hyper-Aether fabric module: ioctl table and argument marshalling.
 *
 * Arguments are copied into a kernel buffer of the size the module knows,
 * zero-extended when the caller's struct is older (shorter), and refused
 * with -E2BIG when the caller's struct is newer (longer) and sets bytes the
 * module cannot interpret.  Handlers only ever see kernel memory.
 */
#include <linux/fs.h>
#include <linux/nospec.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <kunit/visibility.h>

#include "hyperaether_drv.h"

#define HA_IOCTL_ARG_MAX	4096

int ha_info_query(struct hyperaether_info *info)
{
	if (info->flags || info->pad)
		return -EINVAL;

	info->api_major = HYPERAETHER_API_MAJOR;
	info->api_minor = HYPERAETHER_API_MINOR;
	info->features = HYPERAETHER_FEAT_INFO;
	info->struct_size = sizeof(*info);
	info->pad2 = 0;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(ha_info_query);

static int ha_ioctl_get_info(struct file *filp, void *data)
{
	return ha_info_query(data);
}

#define HA_IOCTL(_name, _func)						\
	[_IOC_NR(HYPERAETHER_IOC_##_name)] = {				\
		.cmd = HYPERAETHER_IOC_##_name,				\
		.func = _func,						\
		.name = "HYPERAETHER_IOC_" #_name,			\
	}

static const struct ha_ioctl_desc ha_ioctls[] = {
	HA_IOCTL(GET_INFO, ha_ioctl_get_info),
};

const struct ha_ioctl_desc *ha_ioctl_lookup(unsigned int cmd)
{
	unsigned int nr = _IOC_NR(cmd);

	if (_IOC_TYPE(cmd) != HYPERAETHER_IOC_MAGIC)
		return NULL;
	if (nr >= ARRAY_SIZE(ha_ioctls))
		return NULL;
	nr = array_index_nospec(nr, ARRAY_SIZE(ha_ioctls));
	return ha_ioctls[nr].func ? &ha_ioctls[nr] : NULL;
}
EXPORT_SYMBOL_IF_KUNIT(ha_ioctl_lookup);

/**
 * ha_ioctl_sizes - work out how many bytes move in and out for a command
 * @ucmd: the ioctl number the caller passed
 * @kcmd: the ioctl number of the table entry for the same _IOC_NR
 * @sz: filled with the sizes
 *
 * Return: 0, or -EINVAL when the caller's direction bits disagree with the
 * table (an ABI mismatch, not a newer struct), or when an argument is
 * larger than any struct this module will ever define.
 */
int ha_ioctl_sizes(unsigned int ucmd, unsigned int kcmd,
		   struct ha_ioctl_sizes *sz)
{
	if (_IOC_DIR(ucmd) != _IOC_DIR(kcmd))
		return -EINVAL;

	sz->user = _IOC_SIZE(ucmd);
	sz->kernel = _IOC_SIZE(kcmd);
	if (sz->user > HA_IOCTL_ARG_MAX)
		return -EINVAL;
	sz->in = (_IOC_DIR(ucmd) & _IOC_WRITE) ? min(sz->user, sz->kernel) : 0;
	sz->out = (_IOC_DIR(ucmd) & _IOC_READ) ? min(sz->user, sz->kernel) : 0;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(ha_ioctl_sizes);

long ha_ioctl(struct file *filp, unsigned int cmd, unsigned long arg)
{
	void __user *uarg = (void __user *)arg;
	const struct ha_ioctl_desc *desc;
	struct ha_ioctl_sizes sz;
	u64 stack_buf[16];
	void *kdata = stack_buf;
	long ret;

	desc = ha_ioctl_lookup(cmd);
	if (!desc)
		return -ENOTTY;

	ret = ha_ioctl_sizes(cmd, desc->cmd, &sz);
	if (ret)
		return ret;

	/* A newer caller may only set bytes this module understands. */
	if ((_IOC_DIR(cmd) & _IOC_WRITE) && sz.user > sz.kernel) {
		ret = check_zeroed_user(uarg + sz.kernel, sz.user - sz.kernel);
		if (ret < 0)
			return ret;
		if (!ret)
			return -E2BIG;
	}

	if (sz.kernel > sizeof(stack_buf)) {
		kdata = kzalloc(sz.kernel, GFP_KERNEL);
		if (!kdata)
			return -ENOMEM;
	} else {
		memset(kdata, 0, sz.kernel);
	}

	if (copy_from_user(kdata, uarg, sz.in)) {
		ret = -EFAULT;
		goto out_free;
	}

	ret = desc->func(filp, kdata);
	if (ret)
		goto out_free;

	if (copy_to_user(uarg, kdata, sz.out))
		ret = -EFAULT;

out_free:
	if (kdata != stack_buf)
		kfree(kdata);
	return ret;
}
