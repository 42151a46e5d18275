// SPDX-License-Identifier: GPL-2.0
/*
 * Hyper-Aether capability matrix: cap(i, j) as one bitmap per right.
 *
 * Default deny: a fresh matrix is all zero, and a removed VM's row and
 * column are cleared so that a VM later given the same id starts with no
 * rights.  Checks are one test_bit() and need no lock.
 */
#include <linux/bitmap.h>
#include <linux/slab.h>
#include <kunit/visibility.h>

#include "hyperaether_drv.h"

int ha_cap_init(struct ha_cap_matrix *m, u32 n)
{
	int r;

	m->n = n;
	for (r = 0; r < HA_CAP_NR; r++) {
		m->bits[r] = kvcalloc(BITS_TO_LONGS((unsigned long)n * n),
				      sizeof(unsigned long), GFP_KERNEL_ACCOUNT);
		if (!m->bits[r])
			goto err_free;
	}
	return 0;

err_free:
	ha_cap_fini(m);
	return -ENOMEM;
}
EXPORT_SYMBOL_IF_KUNIT(ha_cap_init);

void ha_cap_fini(struct ha_cap_matrix *m)
{
	int r;

	for (r = 0; r < HA_CAP_NR; r++) {
		kvfree(m->bits[r]);
		m->bits[r] = NULL;
	}
}
EXPORT_SYMBOL_IF_KUNIT(ha_cap_fini);

u32 ha_cap_get(const struct ha_cap_matrix *m, u32 src, u32 dst)
{
	u32 rights = 0;
	int r;

	for (r = 0; r < HA_CAP_NR; r++)
		if (ha_cap_allows(m, src, dst, r))
			rights |= BIT(r);
	return rights;
}
EXPORT_SYMBOL_IF_KUNIT(ha_cap_get);

/* Caller holds the fabric lock; src and dst are < n. */
void ha_cap_set(struct ha_cap_matrix *m, u32 src, u32 dst, u32 rights)
{
	unsigned long bit = (unsigned long)src * m->n + dst;
	int r;

	for (r = 0; r < HA_CAP_NR; r++) {
		if (rights & BIT(r))
			set_bit(bit, m->bits[r]);
		else
			clear_bit(bit, m->bits[r]);
	}
}
EXPORT_SYMBOL_IF_KUNIT(ha_cap_set);

/* Caller holds the fabric lock. */
void ha_cap_clear_vm(struct ha_cap_matrix *m, u32 id)
{
	unsigned long n = m->n;
	u32 k;
	int r;

	for (r = 0; r < HA_CAP_NR; r++) {
		bitmap_clear(m->bits[r], id * n, n);
		for (k = 0; k < n; k++)
			clear_bit(k * n + id, m->bits[r]);
	}
}
EXPORT_SYMBOL_IF_KUNIT(ha_cap_clear_vm);
