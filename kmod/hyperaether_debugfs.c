// SPDX-License-Identifier: GPL-2.0
/*
 * Hyper-Aether debugfs: /sys/kernel/debug/hyperaether/fabrics lists every
 * fabric with its quotas and use, its VMs (queue depth, memory, counters)
 * and its edges with rights.
 */
#include <linux/debugfs.h>
#include <linux/seq_file.h>

#include "hyperaether_drv.h"

static DEFINE_MUTEX(ha_fabrics_lock);	/* protects ha_fabrics */
static LIST_HEAD(ha_fabrics);
static struct dentry *ha_debugfs_root;

void ha_fabric_register(struct ha_fabric *fabric)
{
	mutex_lock(&ha_fabrics_lock);
	list_add_tail(&fabric->node, &ha_fabrics);
	mutex_unlock(&ha_fabrics_lock);
}

void ha_fabric_unregister(struct ha_fabric *fabric)
{
	mutex_lock(&ha_fabrics_lock);
	list_del_init(&fabric->node);
	mutex_unlock(&ha_fabrics_lock);
}

static void ha_debugfs_fabric(struct seq_file *m, struct ha_fabric *fabric)
{
	const struct hyperaether_quota *q = &fabric->quota;
	struct ha_vm *vm;
	unsigned long id;
	u32 i, j, rights;

	mutex_lock(&fabric->lock);
	seq_printf(m, "fabric %u: vms %u/%u mem %llu/%llu queue_depth %u epochs %llu\n",
		   fabric->id, fabric->nr_vms, q->max_vms, fabric->mem_used,
		   q->mem_bytes, q->queue_depth, q->epochs);
	xa_for_each(&fabric->vms, id, vm) {
		spin_lock(&vm->inbox.lock);
		seq_printf(m, "  vm %lu %s backend %u mem %llu queued %u/%u sent %lld received %lld denials %lld parked %s\n",
			   id, vm->name, vm->backend, vm->quota.mem_bytes,
			   vm->inbox.count, vm->inbox.depth,
			   atomic64_read(&vm->msgs_sent),
			   atomic64_read(&vm->msgs_received),
			   atomic64_read(&vm->denials),
			   list_empty(&vm->inbox.parked) ? "no" : "yes");
		spin_unlock(&vm->inbox.lock);
	}
	for (i = 0; i < q->max_vms; i++) {
		for (j = 0; j < q->max_vms; j++) {
			rights = ha_cap_get(&fabric->caps, i, j);
			if (rights)
				seq_printf(m, "  edge %u -> %u rights %s%s%s%s\n", i, j,
					   rights & HYPERAETHER_CAP_SEND ? "S" : "-",
					   rights & HYPERAETHER_CAP_RECV ? "R" : "-",
					   rights & HYPERAETHER_CAP_SHARE ? "M" : "-",
					   rights & HYPERAETHER_CAP_GRANT ? "G" : "-");
		}
	}
	mutex_unlock(&fabric->lock);
}

static int ha_fabrics_show(struct seq_file *m, void *unused)
{
	struct ha_fabric *fabric;

	mutex_lock(&ha_fabrics_lock);
	list_for_each_entry(fabric, &ha_fabrics, node)
		ha_debugfs_fabric(m, fabric);
	mutex_unlock(&ha_fabrics_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(ha_fabrics);

void ha_debugfs_init(void)
{
	ha_debugfs_root = debugfs_create_dir("hyperaether", NULL);
	debugfs_create_file("fabrics", 0400, ha_debugfs_root, NULL,
			    &ha_fabrics_fops);
}

void ha_debugfs_fini(void)
{
	debugfs_remove_recursive(ha_debugfs_root);
}
