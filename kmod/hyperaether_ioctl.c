// SPDX-License-Identifier: GPL-2.0
/*
 * Hyper-Aether fabric module: ioctl tables, argument marshalling and the
 * handlers.
 *
 * Arguments are copied into a kernel buffer of the size the module knows,
 * zero-extended when the caller's struct is older (shorter), and refused
 * with -E2BIG when the caller's struct is newer (longer) and sets bytes the
 * module cannot interpret.  Handlers only ever see kernel memory, and
 * validate every field before acting.
 */
#include <linux/fs.h>
#include <linux/nospec.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <kunit/visibility.h>

#include "hyperaether_drv.h"
#include "hyperaether_trace.h"

#define HA_IOCTL_ARG_MAX	4096

#define HA_FEATURES	(HYPERAETHER_FEAT_INFO | HYPERAETHER_FEAT_FABRIC | \
			 HYPERAETHER_FEAT_MEMORY | HYPERAETHER_FEAT_CHANNELS | \
			 HYPERAETHER_FEAT_URING_CMD | \
			 HYPERAETHER_FEAT_URING_SEND_BATCH | \
			 HYPERAETHER_FEAT_MAP_REVOKE)

int ha_info_query(struct hyperaether_info *info)
{
	if (info->flags || info->pad)
		return -EINVAL;

	info->api_major = HYPERAETHER_API_MAJOR;
	info->api_minor = HYPERAETHER_API_MINOR;
	info->features = HA_FEATURES;
	info->struct_size = sizeof(*info);
	info->pad2 = 0;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(ha_info_query);

/* --------------------------------------------------------- lookups */

/* The fabric of a device fd, or of a VM fd's VM. */
static struct ha_fabric *ha_file_fabric(struct file *filp)
{
	struct ha_vmfd *vmfd = ha_vmfd_from_file(filp);
	struct ha_file *hf;

	if (vmfd)
		return vmfd->vm->fabric;
	hf = filp->private_data;
	return READ_ONCE(hf->fabric);
}

/* The fabric owned by a device fd; NULL before FABRIC_CREATE. */
static struct ha_fabric *ha_owner_fabric(struct file *filp)
{
	struct ha_file *hf = filp->private_data;

	return READ_ONCE(hf->fabric);
}

/* The VM fd's VM if it is alive and the fd holds @right. */
static int ha_vmfd_check(struct file *filp, u32 right, struct ha_vm **vm)
{
	struct ha_vmfd *vmfd = ha_vmfd_from_file(filp);

	if (READ_ONCE(vmfd->vm->dead))
		return -ENODEV;
	if (right && !(READ_ONCE(vmfd->rights) & right))
		return -EPERM;
	*vm = vmfd->vm;
	return 0;
}

/* ----------------------------------------------------- both fd types */

static int ha_ioctl_get_info(struct file *filp, void *data)
{
	return ha_info_query(data);
}

static int ha_ioctl_fabric_info(struct file *filp, void *data)
{
	struct hyperaether_fabric_info *args = data;
	struct ha_vmfd *vmfd = ha_vmfd_from_file(filp);
	struct ha_fabric *fabric = ha_file_fabric(filp);

	if (args->flags)
		return -EINVAL;
	if (!fabric)
		return -ENXIO;
	if (vmfd && READ_ONCE(vmfd->vm->dead))
		return -ENODEV;
	args->id = fabric->id;
	args->quota = fabric->quota;
	ha_fabric_usage(fabric, &args->usage);
	return 0;
}

static int ha_ioctl_vm_query(struct file *filp, void *data)
{
	struct hyperaether_vm_query *args = data;
	struct ha_vmfd *vmfd = ha_vmfd_from_file(filp);
	struct ha_fabric *fabric;
	struct ha_vm *vm;
	u32 id = args->id;

	if (args->flags)
		return -EINVAL;
	memset(args, 0, sizeof(*args));

	if (vmfd) {
		if (READ_ONCE(vmfd->vm->dead))
			return -ENODEV;
		if (id != HYPERAETHER_VM_SELF && id != vmfd->vm->id)
			return -EPERM;
		ha_vm_describe(vmfd->vm, args);
		args->rights = READ_ONCE(vmfd->rights);
		return 0;
	}

	fabric = ha_owner_fabric(filp);
	if (!fabric)
		return -ENXIO;
	vm = ha_vm_get(fabric, id);
	if (!vm)
		return -ENOENT;
	ha_vm_describe(vm, args);
	args->rights = HYPERAETHER_VMFD_ALL;
	ha_vm_put(vm);
	return 0;
}

static int ha_ioctl_cap_get(struct file *filp, void *data)
{
	struct hyperaether_cap *args = data;
	struct ha_vmfd *vmfd = ha_vmfd_from_file(filp);
	struct ha_fabric *fabric = ha_file_fabric(filp);
	struct ha_vm *src, *dst;

	if (args->flags || args->rights)
		return -EINVAL;
	if (!fabric)
		return -ENXIO;
	if (vmfd) {
		if (READ_ONCE(vmfd->vm->dead))
			return -ENODEV;
		if (args->src != vmfd->vm->id)
			return -EPERM;
	}

	src = ha_vm_get(fabric, args->src);
	dst = src ? ha_vm_get(fabric, args->dst) : NULL;
	if (dst)
		args->rights = ha_cap_get(&fabric->caps, args->src, args->dst);
	if (dst)
		ha_vm_put(dst);
	if (src)
		ha_vm_put(src);
	return dst ? 0 : -ENOENT;
}

/* -------------------------------------------------------- owner fd */

static int ha_ioctl_fabric_create(struct file *filp, void *data)
{
	struct hyperaether_fabric_create *args = data;
	struct ha_file *hf = filp->private_data;
	struct ha_fabric *fabric;
	int ret;

	if (args->flags || args->id)
		return -EINVAL;
	ret = ha_quota_fabric_defaults(&args->quota);
	if (ret)
		return ret;

	mutex_lock(&hf->lock);
	if (hf->fabric) {
		ret = -EBUSY;
		goto out_unlock;
	}
	fabric = ha_fabric_create(&args->quota);
	if (IS_ERR(fabric)) {
		ret = PTR_ERR(fabric);
		goto out_unlock;
	}
	WRITE_ONCE(hf->fabric, fabric);
	args->id = fabric->id;
out_unlock:
	mutex_unlock(&hf->lock);
	return ret;
}

static int ha_ioctl_vm_add(struct file *filp, void *data)
{
	struct ha_fabric *fabric = ha_owner_fabric(filp);

	return fabric ? ha_vm_add(fabric, data) : -ENXIO;
}

static int ha_ioctl_vm_remove(struct file *filp, void *data)
{
	struct hyperaether_vm_id *args = data;
	struct ha_fabric *fabric = ha_owner_fabric(filp);

	if (args->flags)
		return -EINVAL;
	return fabric ? ha_vm_remove(fabric, args->id) : -ENXIO;
}

static int ha_ioctl_vm_list(struct file *filp, void *data)
{
	struct hyperaether_vm_list *args = data;
	struct ha_fabric *fabric = ha_owner_fabric(filp);
	u32 __user *uids = u64_to_user_ptr(args->ids);
	u32 cap = args->count, n = 0, *ids;
	struct ha_vm *vm;
	unsigned long id;
	int ret = 0;

	if (args->flags)
		return -EINVAL;
	if (!fabric)
		return -ENXIO;

	ids = kvcalloc(fabric->quota.max_vms, sizeof(*ids), GFP_KERNEL);
	if (!ids)
		return -ENOMEM;
	mutex_lock(&fabric->lock);
	xa_for_each(&fabric->vms, id, vm)
		ids[n++] = id;
	mutex_unlock(&fabric->lock);

	if (copy_to_user(uids, ids, min(cap, n) * sizeof(*ids)))
		ret = -EFAULT;
	args->count = n;
	kvfree(ids);
	return ret;
}

static int ha_ioctl_cap_set(struct file *filp, void *data)
{
	struct hyperaether_cap *args = data;
	struct ha_fabric *fabric = ha_owner_fabric(filp);
	struct ha_vm *src, *dst;
	int ret = 0;

	if (args->flags || (args->rights & ~HYPERAETHER_CAP_ALL))
		return -EINVAL;
	if (!fabric)
		return -ENXIO;

	mutex_lock(&fabric->lock);
	src = xa_load(&fabric->vms, args->src);
	dst = xa_load(&fabric->vms, args->dst);
	if (src && dst)
		ha_fabric_cap_set(fabric, src, dst, args->rights);
	else
		ret = -ENOENT;
	mutex_unlock(&fabric->lock);
	return ret;
}

static int ha_ioctl_cap_list(struct file *filp, void *data)
{
	struct hyperaether_cap_list *args = data;
	struct ha_fabric *fabric = ha_owner_fabric(filp);
	struct hyperaether_cap __user *uedges = u64_to_user_ptr(args->edges);
	struct hyperaether_cap *edges;
	u32 cap = args->count, n = 0, i, j, rights, max;
	int ret = 0;

	if (args->flags)
		return -EINVAL;
	if (!fabric)
		return -ENXIO;

	/* Edges are reported into a bounded kernel buffer, then copied. */
	max = min_t(u32, cap, 4096);
	edges = max ? kvcalloc(max, sizeof(*edges), GFP_KERNEL) : NULL;
	if (max && !edges)
		return -ENOMEM;

	mutex_lock(&fabric->lock);
	for (i = 0; i < fabric->quota.max_vms; i++) {
		for (j = 0; j < fabric->quota.max_vms; j++) {
			rights = ha_cap_get(&fabric->caps, i, j);
			if (!rights)
				continue;
			if (n < max)
				edges[n] = (struct hyperaether_cap){
					.src = i, .dst = j, .rights = rights,
				};
			n++;
		}
	}
	mutex_unlock(&fabric->lock);

	if (copy_to_user(uedges, edges, min(max, n) * sizeof(*edges)))
		ret = -EFAULT;
	args->count = n;
	kvfree(edges);
	return ret;
}

static int ha_ioctl_vm_export(struct file *filp, void *data)
{
	struct hyperaether_vm_fd *args = data;
	struct ha_fabric *fabric = ha_owner_fabric(filp);
	struct ha_vm *vm;
	int fd;

	if (args->fd)
		return -EINVAL;
	if (!fabric)
		return -ENXIO;
	vm = ha_vm_get(fabric, args->id);
	if (!vm)
		return -ENOENT;
	fd = ha_vmfd_create(vm, args->rights, args->flags);
	ha_vm_put(vm);
	if (fd < 0)
		return fd;
	args->fd = fd;
	return 0;
}

/* ----------------------------------------------------------- VM fd */

static int ha_ioctl_vmfd_dup(struct file *filp, void *data)
{
	struct hyperaether_vm_fd *args = data;
	struct ha_vmfd *vmfd = ha_vmfd_from_file(filp);
	struct ha_vm *vm;
	int ret, fd;

	if (args->id || args->fd)
		return -EINVAL;
	ret = ha_vmfd_check(filp, HYPERAETHER_VMFD_DUP, &vm);
	if (ret)
		return ret;
	if (args->rights & ~READ_ONCE(vmfd->rights))
		return args->rights & ~HYPERAETHER_VMFD_ALL ? -EINVAL : -EPERM;
	fd = ha_vmfd_create(vm, args->rights, args->flags);
	if (fd < 0)
		return fd;
	args->fd = fd;
	return 0;
}

static int ha_ioctl_vmfd_limit(struct file *filp, void *data)
{
	struct hyperaether_vm_fd *args = data;
	struct ha_vmfd *vmfd = ha_vmfd_from_file(filp);
	struct ha_vm *vm;
	u32 old;
	int ret;

	if (args->flags || args->id || args->fd)
		return -EINVAL;
	if (args->rights & ~HYPERAETHER_VMFD_ALL)
		return -EINVAL;
	ret = ha_vmfd_check(filp, 0, &vm);
	if (ret)
		return ret;
	/* Rights only ever shrink, even against a concurrent LIMIT. */
	old = READ_ONCE(vmfd->rights);
	do {
		if (args->rights & ~old)
			return -EPERM;
	} while (!try_cmpxchg(&vmfd->rights, &old, args->rights));
	return 0;
}

static int ha_ioctl_cap_grant(struct file *filp, void *data)
{
	struct hyperaether_cap *args = data;
	struct ha_fabric *fabric;
	struct ha_vm *self;
	u32 held;
	int ret;

	if (args->flags || (args->rights & ~HYPERAETHER_CAP_ALL))
		return -EINVAL;
	ret = ha_vmfd_check(filp, HYPERAETHER_VMFD_GRANT, &self);
	if (ret)
		return ret;
	fabric = self->fabric;

	mutex_lock(&fabric->lock);
	if (!xa_load(&fabric->vms, args->src) || !xa_load(&fabric->vms, args->dst)) {
		ret = -ENOENT;
		goto out_unlock;
	}
	held = ha_cap_get(&fabric->caps, self->id, args->dst);
	if (!(held & HYPERAETHER_CAP_GRANT) || (args->rights & ~held)) {
		atomic64_inc(&self->denials);
		trace_ha_cap_deny(fabric->id, self->id, args->dst, "grant");
		ret = -EPERM;
		goto out_unlock;
	}
	ha_cap_set(&fabric->caps, args->src, args->dst,
		   ha_cap_get(&fabric->caps, args->src, args->dst) | args->rights);
out_unlock:
	mutex_unlock(&fabric->lock);
	return ret;
}

static int ha_msg_check(const struct hyperaether_msg *msg)
{
	if (msg->flags || msg->pad)
		return -EINVAL;
	return 0;
}

static int ha_ioctl_msg_send(struct file *filp, void *data)
{
	struct hyperaether_msg *args = data;
	struct ha_vm *self;
	int ret;

	ret = ha_msg_check(args);
	if (ret)
		return ret;
	ret = ha_vmfd_check(filp, HYPERAETHER_VMFD_SEND, &self);
	if (ret)
		return ret;
	return ha_chan_send(self, args->dst, u64_to_user_ptr(args->data), args->len);
}

static int ha_ioctl_msg_send_batch(struct file *filp, void *data)
{
	struct hyperaether_msg_batch *args = data;
	struct ha_vm *self;
	int ret;

	if (args->flags || args->pad)
		return -EINVAL;
	args->sent = 0;
	if (args->count > HYPERAETHER_MSG_BATCH_MAX)
		return -EINVAL;
	ret = ha_vmfd_check(filp, HYPERAETHER_VMFD_SEND, &self);
	if (ret)
		return ret;
	/* args->sent is copied out even on error: how many went. */
	return ha_chan_send_batch(self, u64_to_user_ptr(args->msgs), args->count,
				  &args->sent);
}

static int ha_ioctl_msg_recv(struct file *filp, void *data)
{
	struct hyperaether_msg_recv *args = data;
	struct ha_vm *self;
	int ret;

	if (args->flags & ~HYPERAETHER_MSG_NONBLOCK)
		return -EINVAL;
	ret = ha_vmfd_check(filp, HYPERAETHER_VMFD_RECV, &self);
	if (ret)
		return ret;
	ret = ha_chan_recv(self, u64_to_user_ptr(args->buf), &args->len,
			   args->flags & HYPERAETHER_MSG_NONBLOCK);
	return ret < 0 ? ret : 0;
}

/* ---------------------------------------------------------- tables */

#define HA_IOCTL(_name, _func)						\
	[_IOC_NR(HYPERAETHER_IOC_##_name)] = {				\
		.cmd = HYPERAETHER_IOC_##_name,				\
		.func = _func,						\
		.name = "HYPERAETHER_IOC_" #_name,			\
	}

static const struct ha_ioctl_desc ha_ioctls[] = {
	HA_IOCTL(GET_INFO, ha_ioctl_get_info),
	HA_IOCTL(FABRIC_CREATE, ha_ioctl_fabric_create),
	HA_IOCTL(FABRIC_INFO, ha_ioctl_fabric_info),
	HA_IOCTL(VM_ADD, ha_ioctl_vm_add),
	HA_IOCTL(VM_REMOVE, ha_ioctl_vm_remove),
	HA_IOCTL(VM_QUERY, ha_ioctl_vm_query),
	HA_IOCTL(VM_LIST, ha_ioctl_vm_list),
	HA_IOCTL(CAP_SET, ha_ioctl_cap_set),
	HA_IOCTL(CAP_GET, ha_ioctl_cap_get),
	HA_IOCTL(CAP_LIST, ha_ioctl_cap_list),
	HA_IOCTL(VM_EXPORT, ha_ioctl_vm_export),
};

static const struct ha_ioctl_desc ha_vmfd_ioctls[] = {
	HA_IOCTL(GET_INFO, ha_ioctl_get_info),
	HA_IOCTL(FABRIC_INFO, ha_ioctl_fabric_info),
	HA_IOCTL(VM_QUERY, ha_ioctl_vm_query),
	HA_IOCTL(CAP_GET, ha_ioctl_cap_get),
	HA_IOCTL(VMFD_DUP, ha_ioctl_vmfd_dup),
	HA_IOCTL(VMFD_LIMIT, ha_ioctl_vmfd_limit),
	HA_IOCTL(CAP_GRANT, ha_ioctl_cap_grant),
	HA_IOCTL(MSG_SEND, ha_ioctl_msg_send),
	HA_IOCTL(MSG_SEND_BATCH, ha_ioctl_msg_send_batch),
	HA_IOCTL(MSG_RECV, ha_ioctl_msg_recv),
};

static const struct ha_ioctl_desc *
ha_table_lookup(const struct ha_ioctl_desc *table, unsigned int n,
		unsigned int cmd)
{
	unsigned int nr = _IOC_NR(cmd);

	if (_IOC_TYPE(cmd) != HYPERAETHER_IOC_MAGIC || nr >= n)
		return NULL;
	nr = array_index_nospec(nr, n);
	return table[nr].func ? &table[nr] : NULL;
}

const struct ha_ioctl_desc *ha_ioctl_lookup(unsigned int cmd)
{
	return ha_table_lookup(ha_ioctls, ARRAY_SIZE(ha_ioctls), cmd);
}
EXPORT_SYMBOL_IF_KUNIT(ha_ioctl_lookup);

const struct ha_ioctl_desc *ha_vmfd_ioctl_lookup(unsigned int cmd)
{
	return ha_table_lookup(ha_vmfd_ioctls, ARRAY_SIZE(ha_vmfd_ioctls), cmd);
}
EXPORT_SYMBOL_IF_KUNIT(ha_vmfd_ioctl_lookup);

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

/*
 * Out-arguments are copied back even when a handler fails with one of
 * these, so that callers learn how much went (batch send) or how much room
 * a message needs (receive).
 */
static bool ha_ioctl_copy_out_on_error(unsigned int cmd, long ret)
{
	return cmd == HYPERAETHER_IOC_MSG_SEND_BATCH ||
	       (cmd == HYPERAETHER_IOC_MSG_RECV && ret == -EMSGSIZE);
}

static long ha_ioctl_marshal(struct file *filp, const struct ha_ioctl_desc *desc,
			     unsigned int cmd, unsigned long arg)
{
	void __user *uarg = (void __user *)arg;
	struct ha_ioctl_sizes sz;
	u64 stack_buf[16];
	void *kdata = stack_buf;
	long ret;

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
	if (ret && !ha_ioctl_copy_out_on_error(desc->cmd, ret))
		goto out_free;

	if (copy_to_user(uarg, kdata, sz.out))
		ret = -EFAULT;

out_free:
	if (kdata != stack_buf)
		kfree(kdata);
	return ret;
}

long ha_ioctl(struct file *filp, unsigned int cmd, unsigned long arg)
{
	const struct ha_ioctl_desc *desc = ha_ioctl_lookup(cmd);
	struct ha_file *hf = filp->private_data;

	if (!desc)
		return -ENOTTY;
	if (desc->cmd != HYPERAETHER_IOC_GET_INFO &&
	    desc->cmd != HYPERAETHER_IOC_FABRIC_CREATE && !READ_ONCE(hf->fabric))
		return -ENXIO;
	return ha_ioctl_marshal(filp, desc, cmd, arg);
}

long ha_vmfd_ioctl(struct file *filp, unsigned int cmd, unsigned long arg)
{
	const struct ha_ioctl_desc *desc = ha_vmfd_ioctl_lookup(cmd);

	if (!desc)
		return -ENOTTY;
	return ha_ioctl_marshal(filp, desc, cmd, arg);
}
