// SPDX-License-Identifier: GPL-2.0
/*
 * Hyper-Aether VM fds: a file descriptor that acts as one VM and nothing
 * else, with a rights mask that can be narrowed but never widened
 * (Capsicum's rule).  A VMM or executor process receives one (SCM_RIGHTS)
 * and can then act for its own VM only.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/io_uring/cmd.h>
#include <linux/module.h>
#include <linux/poll.h>
#include <linux/slab.h>

#include "hyperaether_drv.h"

static int ha_vmfd_release(struct inode *inode, struct file *filp)
{
	struct ha_vmfd *vmfd = filp->private_data;

	ha_vm_put(vmfd->vm);
	kfree(vmfd);
	return 0;
}

static __poll_t ha_vmfd_poll(struct file *filp, struct poll_table_struct *wait)
{
	struct ha_vmfd *vmfd = filp->private_data;

	return ha_chan_poll(vmfd->vm, filp, wait);
}

static int ha_vmfd_mmap(struct file *filp, struct vm_area_struct *vma)
{
	return ha_mem_mmap(filp->private_data, vma);
}

static int ha_vmfd_uring_cmd(struct io_uring_cmd *cmd, unsigned int issue_flags)
{
	struct ha_vmfd *vmfd = cmd->file->private_data;

	return ha_chan_uring_cmd(vmfd, cmd, issue_flags);
}

static const struct file_operations ha_vmfd_fops = {
	.owner		= THIS_MODULE,
	.release	= ha_vmfd_release,
	.unlocked_ioctl	= ha_vmfd_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.poll		= ha_vmfd_poll,
	.mmap		= ha_vmfd_mmap,
	.uring_cmd	= ha_vmfd_uring_cmd,
	.llseek		= noop_llseek,
};

struct ha_vmfd *ha_vmfd_from_file(struct file *filp)
{
	return filp->f_op == &ha_vmfd_fops ? filp->private_data : NULL;
}

/* A new fd for @vm with @rights; takes its own VM reference. */
int ha_vmfd_create(struct ha_vm *vm, u32 rights, u32 flags)
{
	struct ha_vmfd *vmfd;
	struct file *file;
	int fd;

	if (rights & ~HYPERAETHER_VMFD_ALL)
		return -EINVAL;
	if (flags & ~HYPERAETHER_VMFD_F_INHERIT)
		return -EINVAL;

	vmfd = kzalloc(sizeof(*vmfd), GFP_KERNEL_ACCOUNT);
	if (!vmfd)
		return -ENOMEM;
	kref_get(&vm->ref);
	vmfd->vm = vm;
	vmfd->rights = rights;

	fd = get_unused_fd_flags(flags & HYPERAETHER_VMFD_F_INHERIT ? 0 : O_CLOEXEC);
	if (fd < 0)
		goto err_put;
	file = anon_inode_getfile("[hyperaether-vm]", &ha_vmfd_fops, vmfd, O_RDWR);
	if (IS_ERR(file)) {
		put_unused_fd(fd);
		fd = PTR_ERR(file);
		goto err_put;
	}
	/*
	 * All fds of a VM share its mappings, so revoking reaches them all.
	 * mmap() looks at the mapping's host (IS_SWAPFILE): every anon-inode
	 * file has the same inode, so each fd stores the same pointer.
	 */
	WRITE_ONCE(vm->mapping.host, file_inode(file));
	file->f_mapping = &vm->mapping;
	fd_install(fd, file);
	return fd;

err_put:
	ha_vm_put(vm);
	kfree(vmfd);
	return fd;
}
