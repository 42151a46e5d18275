// SPDX-License-Identifier: GPL-2.0
/*
 * Hyper-Aether per-VM memory: pages the module allocates and owns for one
 * VM, charged to the creator's memory cgroup, mapped only through a VM fd
 * of that VM or of a VM holding the share right on it.
 *
 * Pages are inserted at fault time, after the right is checked again.
 * All fds of VM i share one address_space (struct ha_vm.mapping), so
 * when i loses SHARE on j, unmapping j's window of it takes the pages out
 * of every process that mapped them through i; the next touch faults,
 * finds no right and gets SIGBUS.
 */
#include <linux/mm.h>
#include <linux/slab.h>

#include "hyperaether_drv.h"

int ha_mem_alloc(struct ha_mem *mem, u64 bytes)
{
	unsigned long i, nr = DIV_ROUND_UP_ULL(bytes, PAGE_SIZE);

	mem->pages = NULL;
	mem->nr_pages = 0;
	if (!nr)
		return 0;

	mem->pages = kvcalloc(nr, sizeof(*mem->pages), GFP_KERNEL_ACCOUNT);
	if (!mem->pages)
		return -ENOMEM;
	for (i = 0; i < nr; i++) {
		mem->pages[i] = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
		if (!mem->pages[i]) {
			mem->nr_pages = i;
			ha_mem_free(mem);
			return -ENOMEM;
		}
	}
	mem->nr_pages = nr;
	return 0;
}

/* Mappings hold their own page references, so this is safe while mapped. */
void ha_mem_free(struct ha_mem *mem)
{
	unsigned long i;

	for (i = 0; i < mem->nr_pages; i++)
		put_page(mem->pages[i]);
	kvfree(mem->pages);
	mem->pages = NULL;
	mem->nr_pages = 0;
}

#define HA_MEM_PGSHIFT	(HYPERAETHER_MEM_SHIFT - PAGE_SHIFT)

static vm_fault_t ha_mem_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct ha_vmfd *vmfd = vma->vm_file->private_data;
	struct ha_vm *self = vmfd->vm, *vm;
	/* The fd's VM holds the fabric, the mapping holds the fd. */
	struct ha_fabric *fabric = self->fabric;
	unsigned long target = vmf->pgoff >> HA_MEM_PGSHIFT;
	unsigned long index = vmf->pgoff & (BIT(HA_MEM_PGSHIFT) - 1);
	vm_fault_t ret = VM_FAULT_SIGBUS;

	down_read(&fabric->map_lock);
	if (READ_ONCE(self->dead))
		goto out_unlock;
	if (target != self->id &&
	    !ha_cap_allows(&fabric->caps, self->id, target, HA_CAP_SHARE))
		goto out_unlock;
	vm = ha_vm_get(fabric, target);
	if (!vm)
		goto out_unlock;
	if (index < vm->mem.nr_pages)
		ret = vmf_insert_page(vma, vmf->address, vm->mem.pages[index]);
	ha_vm_put(vm);
out_unlock:
	up_read(&fabric->map_lock);
	return ret;
}

static const struct vm_operations_struct ha_mem_vm_ops = {
	.fault = ha_mem_fault,
};

int ha_mem_mmap(struct ha_vmfd *vmfd, struct vm_area_struct *vma)
{
	struct ha_vm *self = vmfd->vm;
	u32 rights = READ_ONCE(vmfd->rights);
	unsigned long target = vma->vm_pgoff >> HA_MEM_PGSHIFT;
	unsigned long first = vma->vm_pgoff & (BIT(HA_MEM_PGSHIFT) - 1);
	unsigned long count = vma_pages(vma);
	struct ha_vm *vm;
	int ret;

	if (READ_ONCE(self->dead))
		return -ENODEV;
	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	if (target >= self->fabric->quota.max_vms)
		return -ENOENT;

	if (target == self->id) {
		if (!(rights & HYPERAETHER_VMFD_MAP))
			return -EACCES;
	} else if (!(rights & HYPERAETHER_VMFD_MAP_PEER) ||
		   !ha_cap_allows(&self->fabric->caps, self->id, target,
				  HA_CAP_SHARE)) {
		atomic64_inc(&self->denials);
		return -EACCES;
	}

	vm = ha_vm_get(self->fabric, target);
	if (!vm)
		return -ENOENT;
	ret = -EINVAL;
	if (first >= vm->mem.nr_pages || count > vm->mem.nr_pages - first)
		goto out_put;

	/* Faults insert pages; a window never grows past the VM's memory. */
	vm_flags_set(vma, VM_MIXEDMAP | VM_DONTEXPAND | VM_DONTDUMP);
	vma->vm_ops = &ha_mem_vm_ops;
	ret = 0;
out_put:
	ha_vm_put(vm);
	return ret;
}

/**
 * ha_mem_unmap_peer - take @target's memory out of mappings made through @via
 * @via: the VM whose fds made the mappings
 * @target: the VM whose memory they map
 *
 * Caller holds the fabric's map_lock for writing and has already taken
 * the right away, so that the next touch faults and is refused.
 */
void ha_mem_unmap_peer(struct ha_vm *via, struct ha_vm *target)
{
	lockdep_assert_held_write(&via->fabric->map_lock);
	unmap_mapping_pages(&via->mapping, (pgoff_t)target->id << HA_MEM_PGSHIFT,
			    BIT(HA_MEM_PGSHIFT), true);
}

/* @via was removed: unmap everything mapped through its fds. */
void ha_mem_unmap_all(struct ha_vm *via)
{
	lockdep_assert_held_write(&via->fabric->map_lock);
	unmap_mapping_range(&via->mapping, 0, 0, 1);
}
