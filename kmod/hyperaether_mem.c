// SPDX-License-Identifier: GPL-2.0
/*
 * Hyper-Aether per-VM memory: pages the module allocates and owns for one
 * VM, charged to the creator's memory cgroup, mapped only through a VM fd
 * of that VM or of a VM holding the share right on it.
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

	vm_flags_set(vma, VM_DONTEXPAND | VM_DONTDUMP);
	ret = vm_insert_pages(vma, vma->vm_start, vm->mem.pages + first, &count);
out_put:
	ha_vm_put(vm);
	return ret;
}
