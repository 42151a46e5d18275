// SPDX-License-Identifier: GPL-2.0
/*
 * Hyper-Aether fabric: the graph of VMs, its quotas and the VM lifecycle.
 */
#include <linux/idr.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <kunit/visibility.h>

#include "hyperaether_drv.h"
#include "hyperaether_trace.h"

static DEFINE_IDA(ha_fabric_ida);

/* Fill a fabric's zero quota fields with defaults; reject impossible ones. */
int ha_quota_fabric_defaults(struct hyperaether_quota *q)
{
	if (q->max_vms > HYPERAETHER_MAX_VMS ||
	    q->queue_depth > HYPERAETHER_MAX_QUEUE_DEPTH ||
	    q->mem_bytes > HA_MAX_FABRIC_MEM)
		return -EINVAL;
	if (!q->max_vms)
		q->max_vms = HA_DEFAULT_MAX_VMS;
	if (!q->queue_depth)
		q->queue_depth = HA_DEFAULT_QUEUE_DEPTH;
	if (!q->mem_bytes)
		q->mem_bytes = HA_DEFAULT_MEM_BYTES;
	if (!q->epochs)
		q->epochs = HA_DEFAULT_EPOCHS;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(ha_quota_fabric_defaults);

/*
 * A VM's quota: zero fields inherit the fabric's (memory: none), and no
 * field may exceed the fabric's.  Whether the fabric still has the memory
 * is checked under its lock by ha_vm_add().
 */
int ha_quota_vm_inherit(const struct hyperaether_quota *fabric,
			struct hyperaether_quota *vm)
{
	if (vm->max_vms)
		return -EINVAL;
	if (!vm->queue_depth)
		vm->queue_depth = fabric->queue_depth;
	if (!vm->epochs)
		vm->epochs = fabric->epochs;
	if (vm->queue_depth > fabric->queue_depth ||
	    vm->epochs > fabric->epochs || vm->mem_bytes > fabric->mem_bytes)
		return -EDQUOT;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(ha_quota_vm_inherit);

/* NUL-terminated within the field, non-empty, printable ASCII, no spaces. */
int ha_vm_name_valid(const char *name)
{
	size_t len = strnlen(name, HYPERAETHER_NAME_LEN);
	size_t i;

	if (!len || len == HYPERAETHER_NAME_LEN)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		unsigned char c = name[i];

		if (c <= ' ' || c >= 0x7f)
			return -EINVAL;
	}
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(ha_vm_name_valid);

struct ha_fabric *ha_fabric_create(const struct hyperaether_quota *quota)
{
	struct ha_fabric *fabric;
	int ret;

	fabric = kzalloc(sizeof(*fabric), GFP_KERNEL_ACCOUNT);
	if (!fabric)
		return ERR_PTR(-ENOMEM);

	kref_init(&fabric->ref);
	mutex_init(&fabric->lock);
	init_rwsem(&fabric->map_lock);
	xa_init_flags(&fabric->vms, XA_FLAGS_ALLOC);
	atomic64_set(&fabric->seq, 0);
	INIT_LIST_HEAD(&fabric->node);
	fabric->quota = *quota;

	ret = ha_cap_init(&fabric->caps, quota->max_vms);
	if (ret)
		goto err_free;

	ret = ida_alloc(&ha_fabric_ida, GFP_KERNEL);
	if (ret < 0)
		goto err_caps;
	fabric->id = ret;

	ha_fabric_register(fabric);
	return fabric;

err_caps:
	ha_cap_fini(&fabric->caps);
err_free:
	kfree(fabric);
	return ERR_PTR(ret);
}

static void ha_fabric_release(struct kref *ref)
{
	struct ha_fabric *fabric = container_of(ref, struct ha_fabric, ref);

	WARN_ON(!xa_empty(&fabric->vms));
	xa_destroy(&fabric->vms);
	ha_cap_fini(&fabric->caps);
	ida_free(&ha_fabric_ida, fabric->id);
	mutex_destroy(&fabric->lock);
	kfree(fabric);
}

void ha_fabric_put(struct ha_fabric *fabric)
{
	kref_put(&fabric->ref, ha_fabric_release);
}
EXPORT_SYMBOL_NS_GPL(ha_fabric_put, HYPERAETHER);

static void ha_vm_release(struct kref *ref)
{
	struct ha_vm *vm = container_of(ref, struct ha_vm, ref);
	struct ha_fabric *fabric = vm->fabric;

	ha_inbox_fini(&vm->inbox);
	ha_mem_free(&vm->mem);
	/* Lookups may still hold the pointer under RCU. */
	kfree_rcu(vm, rcu);
	ha_fabric_put(fabric);
}

void ha_vm_put(struct ha_vm *vm)
{
	kref_put(&vm->ref, ha_vm_release);
}

/* A reference to live VM @id, or NULL. */
struct ha_vm *ha_vm_get(struct ha_fabric *fabric, u32 id)
{
	struct ha_vm *vm;

	rcu_read_lock();
	vm = xa_load(&fabric->vms, id);
	if (vm && (READ_ONCE(vm->dead) || !kref_get_unless_zero(&vm->ref)))
		vm = NULL;
	rcu_read_unlock();
	return vm;
}

static bool ha_fabric_name_taken(struct ha_fabric *fabric, const char *name)
{
	struct ha_vm *vm;
	unsigned long id;

	lockdep_assert_held(&fabric->lock);
	xa_for_each(&fabric->vms, id, vm)
		if (!strcmp(vm->name, name))
			return true;
	return false;
}

int ha_vm_add(struct ha_fabric *fabric, struct hyperaether_vm_add *args)
{
	struct xa_limit limit;
	struct ha_vm *vm;
	u32 id;
	int ret;

	if (args->flags || args->pad || args->id)
		return -EINVAL;
	if (args->backend > HYPERAETHER_BACKEND_KVM)
		return -EINVAL;
	ret = ha_vm_name_valid(args->name);
	if (ret)
		return ret;
	ret = ha_quota_vm_inherit(&fabric->quota, &args->quota);
	if (ret)
		return ret;

	vm = kzalloc(sizeof(*vm), GFP_KERNEL_ACCOUNT);
	if (!vm)
		return -ENOMEM;
	kref_init(&vm->ref);
	vm->backend = args->backend;
	vm->metadata = args->metadata;
	vm->quota = args->quota;
	strscpy(vm->name, args->name, sizeof(vm->name));
	atomic64_set(&vm->msgs_sent, 0);
	atomic64_set(&vm->msgs_received, 0);
	atomic64_set(&vm->denials, 0);

	address_space_init_once(&vm->mapping);
	ret = ha_inbox_init(&vm->inbox, vm->quota.queue_depth);
	if (ret)
		goto err_free;

	mutex_lock(&fabric->lock);
	if (fabric->dead) {
		ret = -ENODEV;
		goto err_unlock;
	}
	if (ha_fabric_name_taken(fabric, vm->name)) {
		ret = -EEXIST;
		goto err_unlock;
	}
	if (fabric->nr_vms >= fabric->quota.max_vms) {
		ret = -ENOSPC;
		goto err_unlock;
	}
	if (vm->quota.mem_bytes > fabric->quota.mem_bytes - fabric->mem_used) {
		ret = -EDQUOT;
		goto err_unlock;
	}
	/* Allocated under the lock so that two adds cannot both pass. */
	ret = ha_mem_alloc(&vm->mem, vm->quota.mem_bytes);
	if (ret)
		goto err_unlock;
	vm->quota.mem_bytes = (u64)vm->mem.nr_pages << PAGE_SHIFT;
	if (vm->quota.mem_bytes > fabric->quota.mem_bytes - fabric->mem_used) {
		ret = -EDQUOT;
		goto err_mem;
	}

	limit = XA_LIMIT(0, fabric->quota.max_vms - 1);
	ret = xa_alloc(&fabric->vms, &id, vm, limit, GFP_KERNEL_ACCOUNT);
	if (ret)
		goto err_mem;
	vm->id = id;
	kref_get(&fabric->ref);
	vm->fabric = fabric;
	fabric->nr_vms++;
	fabric->mem_used += vm->quota.mem_bytes;
	mutex_unlock(&fabric->lock);

	args->id = id;
	args->quota = vm->quota;
	trace_ha_vm_add(fabric->id, id, vm->backend, vm->quota.mem_bytes);
	return 0;

err_mem:
	ha_mem_free(&vm->mem);
err_unlock:
	mutex_unlock(&fabric->lock);
	ha_inbox_fini(&vm->inbox);
err_free:
	kfree(vm);
	return ret == -EBUSY ? -ENOSPC : ret;
}

/**
 * ha_fabric_cap_set - replace the rights of (@src, @dst)
 * @fabric: the fabric of both VMs; caller holds its lock
 * @src: VM holding the rights
 * @dst: VM they are on
 * @rights: HYPERAETHER_CAP_* mask
 *
 * Taking SHARE away also takes @dst's memory out of every mapping made
 * through @src's fds, before anyone can fault it back in.
 */
void ha_fabric_cap_set(struct ha_fabric *fabric, struct ha_vm *src,
		       struct ha_vm *dst, u32 rights)
{
	bool revoke;

	lockdep_assert_held(&fabric->lock);
	revoke = ha_cap_allows(&fabric->caps, src->id, dst->id, HA_CAP_SHARE) &&
		 !(rights & HYPERAETHER_CAP_SHARE);
	if (!revoke) {
		ha_cap_set(&fabric->caps, src->id, dst->id, rights);
		return;
	}
	down_write(&fabric->map_lock);
	ha_cap_set(&fabric->caps, src->id, dst->id, rights);
	ha_mem_unmap_peer(src, dst);
	up_write(&fabric->map_lock);
}

/* Caller holds the fabric lock; drops the fabric's reference to @vm. */
static void __ha_vm_remove(struct ha_fabric *fabric, struct ha_vm *vm)
{
	struct ha_vm *peer;
	unsigned long id;

	lockdep_assert_held(&fabric->lock);
	/* Rights and memory go together: no fault may map @vm's pages anew. */
	down_write(&fabric->map_lock);
	xa_erase(&fabric->vms, vm->id);
	WRITE_ONCE(vm->dead, true);
	xa_for_each(&fabric->vms, id, peer)
		if (ha_cap_allows(&fabric->caps, peer->id, vm->id, HA_CAP_SHARE))
			ha_mem_unmap_peer(peer, vm);
	ha_cap_clear_vm(&fabric->caps, vm->id);
	ha_mem_unmap_all(vm);
	up_write(&fabric->map_lock);
	fabric->nr_vms--;
	fabric->mem_used -= vm->quota.mem_bytes;
	ha_inbox_kill(&vm->inbox);
	trace_ha_vm_remove(fabric->id, vm->id);
	ha_vm_put(vm);
}

int ha_vm_remove(struct ha_fabric *fabric, u32 id)
{
	struct ha_vm *vm;
	int ret = -ENOENT;

	mutex_lock(&fabric->lock);
	vm = xa_load(&fabric->vms, id);
	if (vm) {
		__ha_vm_remove(fabric, vm);
		ret = 0;
	}
	mutex_unlock(&fabric->lock);
	return ret;
}

/* The owner fd is closing: remove every VM, then drop the owner's ref. */
void ha_fabric_destroy(struct ha_fabric *fabric)
{
	struct ha_vm *vm;
	unsigned long id;

	ha_fabric_unregister(fabric);
	mutex_lock(&fabric->lock);
	fabric->dead = true;
	xa_for_each(&fabric->vms, id, vm)
		__ha_vm_remove(fabric, vm);
	mutex_unlock(&fabric->lock);
	ha_fabric_put(fabric);
}

static u32 ha_inbox_count(struct ha_inbox *ib)
{
	u32 n;

	spin_lock(&ib->lock);
	n = ib->count;
	spin_unlock(&ib->lock);
	return n;
}

static void ha_vm_usage(struct ha_vm *vm, struct hyperaether_usage *u)
{
	u->mem_bytes = (u64)vm->mem.nr_pages << PAGE_SHIFT;
	u->msgs_sent = atomic64_read(&vm->msgs_sent);
	u->msgs_received = atomic64_read(&vm->msgs_received);
	u->denials = atomic64_read(&vm->denials);
	u->nr_vms = 0;
	u->queued = ha_inbox_count(&vm->inbox);
}

void ha_vm_describe(struct ha_vm *vm, struct hyperaether_vm_query *q)
{
	q->id = vm->id;
	memcpy(q->name, vm->name, sizeof(q->name));
	q->backend = vm->backend;
	q->metadata = vm->metadata;
	q->quota = vm->quota;
	ha_vm_usage(vm, &q->usage);
}

void ha_fabric_usage(struct ha_fabric *fabric, struct hyperaether_usage *u)
{
	struct hyperaether_usage v;
	struct ha_vm *vm;
	unsigned long id;

	memset(u, 0, sizeof(*u));
	mutex_lock(&fabric->lock);
	u->nr_vms = fabric->nr_vms;
	u->mem_bytes = fabric->mem_used;
	xa_for_each(&fabric->vms, id, vm) {
		ha_vm_usage(vm, &v);
		u->msgs_sent += v.msgs_sent;
		u->msgs_received += v.msgs_received;
		u->denials += v.denials;
		u->queued += v.queued;
	}
	mutex_unlock(&fabric->lock);
}
