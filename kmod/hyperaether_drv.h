/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Hyper-Aether fabric module: internal interfaces.
 */
#ifndef __HYPERAETHER_DRV_H__
#define __HYPERAETHER_DRV_H__

#include <linux/types.h>
#include <linux/hyperaether.h>

struct file;

/**
 * struct ha_ioctl_desc - one entry of the ioctl table
 * @cmd: the full ioctl number as the uapi header defines it today
 * @func: handler; @data points to a kernel copy of the argument, already
 *        zero-extended to the size the module knows
 * @name: the uapi macro name, for logs
 */
struct ha_ioctl_desc {
	unsigned int cmd;
	int (*func)(struct file *filp, void *data);
	const char *name;
};

/**
 * struct ha_ioctl_sizes - how much of an ioctl argument moves each way
 * @in: bytes copied from userspace (0 unless the command is _IOC_WRITE)
 * @out: bytes copied back to userspace (0 unless the command is _IOC_READ)
 * @kernel: size of the argument as the module knows it
 * @user: size of the argument as the caller's header knew it
 */
struct ha_ioctl_sizes {
	u32 in;
	u32 out;
	u32 kernel;
	u32 user;
};

int ha_ioctl_sizes(unsigned int ucmd, unsigned int kcmd,
		   struct ha_ioctl_sizes *sz);
int ha_info_query(struct hyperaether_info *info);
const struct ha_ioctl_desc *ha_ioctl_lookup(unsigned int cmd);
long ha_ioctl(struct file *filp, unsigned int cmd, unsigned long arg);

#endif /* __HYPERAETHER_DRV_H__ */
