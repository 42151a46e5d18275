// SPDX-License-Identifier: GPL-2.0
/*
 * Hyper-Aether fabric module: the interface for other modules.
 *
 * The accel driver runs LAVM jobs whose shared memory is split into
 * segments owned by fabric VMs.  At submit it takes a reference on the
 * fabric, snapshots which of those VMs may touch which segments (SHARE in
 * cap(i, j)), and reserves the job's epoch budget in every VM's quota.
 */
#include <linux/err.h>
#include <linux/file.h>
#include <linux/module.h>

#include "hyperaether_drv.h"
#include "hyperaether_fabric_api.h"

/**
 * ha_fabric_get_fd() - the fabric owned by a /dev/hyperaether fd
 * @fd: a file descriptor of the calling process
 *
 * Return: the fabric with a reference the caller drops with
 * ha_fabric_put(); ERR_PTR(-EBADF) for a bad fd, -EINVAL for an fd that is
 * not /dev/hyperaether, -ENOENT if the fd owns no live fabric.
 */
struct ha_fabric *ha_fabric_get_fd(int fd)
{
	struct ha_fabric *fabric = ERR_PTR(-ENOENT);
	struct ha_file *hf;
	struct fd f;

	f = fdget(fd);
	if (fd_empty(f))
		return ERR_PTR(-EBADF);
	hf = ha_file_from(fd_file(f));
	if (!hf) {
		fabric = ERR_PTR(-EINVAL);
		goto out;
	}
	mutex_lock(&hf->lock);
	if (hf->fabric && !READ_ONCE(hf->fabric->dead)) {
		fabric = hf->fabric;
		kref_get(&fabric->ref);
	}
	mutex_unlock(&hf->lock);
out:
	fdput(f);
	return fabric;
}
EXPORT_SYMBOL_NS_GPL(ha_fabric_get_fd, HYPERAETHER);

/**
 * ha_fabric_share_acl() - who may touch whose memory, as bit masks
 * @fabric: the fabric
 * @ids: @n VM ids, the owners of segments 0..n-1
 * @n: 1..%HA_FABRIC_ACL_MAX
 * @allow: out, @n masks: bit j of @allow[i] is set when i == j or VM @ids[i]
 *         holds SHARE on VM @ids[j]
 *
 * A snapshot under the fabric lock: a right revoked later applies to the
 * next job.
 *
 * Return: 0, -EINVAL for a bad @n, -ENOENT if a VM does not exist.
 */
int ha_fabric_share_acl(struct ha_fabric *fabric, const u32 *ids, u32 n,
			u64 *allow)
{
	int ret = 0;
	u32 i, j;

	if (!n || n > HA_FABRIC_ACL_MAX)
		return -EINVAL;
	mutex_lock(&fabric->lock);
	if (fabric->dead) {
		ret = -ENOENT;
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (!xa_load(&fabric->vms, ids[i])) {
			ret = -ENOENT;
			goto out;
		}
	}
	for (i = 0; i < n; i++) {
		allow[i] = 0;
		for (j = 0; j < n; j++)
			if (ids[i] == ids[j] ||
			    ha_cap_allows(&fabric->caps, ids[i], ids[j],
					  HA_CAP_SHARE))
				allow[i] |= BIT_ULL(j);
	}
out:
	mutex_unlock(&fabric->lock);
	return ret;
}
EXPORT_SYMBOL_NS_GPL(ha_fabric_share_acl, HYPERAETHER);

/**
 * ha_fabric_charge_epochs() - reserve @epochs in the quota of every VM
 * @fabric: the fabric
 * @ids: @n VM ids (a VM listed twice is charged twice)
 * @n: 1..%HA_FABRIC_ACL_MAX
 * @epochs: the job's epoch budget
 * @vms: out, @n VM references for ha_fabric_refund_epochs()
 *
 * All or nothing: a VM without room makes the whole call fail and nothing
 * stays charged.
 *
 * Return: 0, -EDQUOT if a VM's epoch quota has no room, -ENOENT if a VM
 * does not exist, -EINVAL for a bad @n.
 */
int ha_fabric_charge_epochs(struct ha_fabric *fabric, const u32 *ids, u32 n,
			    u64 epochs, struct ha_vm **vms)
{
	struct ha_vm *vm;
	int ret = 0;
	u32 i;

	if (!n || n > HA_FABRIC_ACL_MAX)
		return -EINVAL;
	mutex_lock(&fabric->lock);
	for (i = 0; i < n; i++) {
		vm = xa_load(&fabric->vms, ids[i]);
		if (!vm || fabric->dead) {
			ret = -ENOENT;
			break;
		}
		if (atomic64_read(&vm->epochs_used) + epochs > vm->quota.epochs) {
			atomic64_inc(&vm->denials);
			ret = -EDQUOT;
			break;
		}
		atomic64_add(epochs, &vm->epochs_used);
		kref_get(&vm->ref);
		vms[i] = vm;
	}
	mutex_unlock(&fabric->lock);
	if (ret)
		ha_fabric_refund_epochs(vms, i, epochs);
	return ret;
}
EXPORT_SYMBOL_NS_GPL(ha_fabric_charge_epochs, HYPERAETHER);

/**
 * ha_fabric_refund_epochs() - give back the unused part of a reservation
 * @vms: the references from ha_fabric_charge_epochs(), dropped here
 * @n: their number
 * @epochs: epochs reserved but not run
 */
void ha_fabric_refund_epochs(struct ha_vm **vms, u32 n, u64 epochs)
{
	u32 i;

	for (i = 0; i < n; i++) {
		atomic64_sub(epochs, &vms[i]->epochs_used);
		ha_vm_put(vms[i]);
		vms[i] = NULL;
	}
}
EXPORT_SYMBOL_NS_GPL(ha_fabric_refund_epochs, HYPERAETHER);
