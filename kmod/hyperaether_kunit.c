// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the Hyper-Aether fabric module: ioctl marshalling, the
 * info query, the capability matrix, inboxes and quotas.
 */
#include <kunit/test.h>
#include <linux/ioctl.h>
#include <linux/slab.h>

#include "hyperaether_drv.h"

#define HA_RW	(_IOC_READ | _IOC_WRITE)

static void ha_test_info_fills(struct kunit *test)
{
	struct hyperaether_info info = { };

	KUNIT_ASSERT_EQ(test, ha_info_query(&info), 0);
	KUNIT_EXPECT_EQ(test, info.api_major, 1);
	KUNIT_EXPECT_TRUE(test, info.features & HYPERAETHER_FEAT_INFO);
	/* 4 x u32 + u64 + 2 x u32, counted by hand: the ABI must not drift. */
	KUNIT_EXPECT_EQ(test, info.struct_size, 32);
	KUNIT_EXPECT_EQ(test, sizeof(info), 32);
}

static void ha_test_info_rejects_flags(struct kunit *test)
{
	struct hyperaether_info info = { .flags = 1 };

	KUNIT_EXPECT_EQ(test, ha_info_query(&info), -EINVAL);
	info.flags = 1U << 31;
	KUNIT_EXPECT_EQ(test, ha_info_query(&info), -EINVAL);
	info.flags = 0;
	info.pad = 1;
	KUNIT_EXPECT_EQ(test, ha_info_query(&info), -EINVAL);
	/* A refused query must not have filled anything in. */
	KUNIT_EXPECT_EQ(test, info.api_major, 0);
}

static void ha_test_sizes_same(struct kunit *test)
{
	unsigned int cmd = HYPERAETHER_IOC_GET_INFO;
	struct ha_ioctl_sizes sz;

	KUNIT_ASSERT_EQ(test, ha_ioctl_sizes(cmd, cmd, &sz), 0);
	KUNIT_EXPECT_EQ(test, sz.in, 32);
	KUNIT_EXPECT_EQ(test, sz.out, 32);
	KUNIT_EXPECT_EQ(test, sz.kernel, 32);
}

static void ha_test_sizes_older_caller(struct kunit *test)
{
	unsigned int kcmd = _IOC(HA_RW, HYPERAETHER_IOC_MAGIC, 0, 32);
	unsigned int ucmd = _IOC(HA_RW, HYPERAETHER_IOC_MAGIC, 0, 24);
	struct ha_ioctl_sizes sz;

	KUNIT_ASSERT_EQ(test, ha_ioctl_sizes(ucmd, kcmd, &sz), 0);
	KUNIT_EXPECT_EQ(test, sz.in, 24);
	KUNIT_EXPECT_EQ(test, sz.out, 24);
	KUNIT_EXPECT_EQ(test, sz.user, 24);
	KUNIT_EXPECT_EQ(test, sz.kernel, 32);
}

static void ha_test_sizes_newer_caller(struct kunit *test)
{
	unsigned int kcmd = _IOC(HA_RW, HYPERAETHER_IOC_MAGIC, 0, 32);
	unsigned int ucmd = _IOC(HA_RW, HYPERAETHER_IOC_MAGIC, 0, 48);
	struct ha_ioctl_sizes sz;

	KUNIT_ASSERT_EQ(test, ha_ioctl_sizes(ucmd, kcmd, &sz), 0);
	KUNIT_EXPECT_EQ(test, sz.in, 32);
	KUNIT_EXPECT_EQ(test, sz.out, 32);
	KUNIT_EXPECT_EQ(test, sz.user, 48);
}

static void ha_test_sizes_direction(struct kunit *test)
{
	unsigned int kcmd = _IOC(HA_RW, HYPERAETHER_IOC_MAGIC, 0, 32);
	struct ha_ioctl_sizes sz;

	KUNIT_EXPECT_EQ(test, ha_ioctl_sizes(_IOC(_IOC_READ, HYPERAETHER_IOC_MAGIC, 0, 32),
					     kcmd, &sz), -EINVAL);
	KUNIT_EXPECT_EQ(test, ha_ioctl_sizes(_IOC(_IOC_NONE, HYPERAETHER_IOC_MAGIC, 0, 0),
					     kcmd, &sz), -EINVAL);
	KUNIT_EXPECT_EQ(test, ha_ioctl_sizes(_IOC(HA_RW, HYPERAETHER_IOC_MAGIC, 0, 8192),
					     kcmd, &sz), -EINVAL);
}

static void ha_test_lookup(struct kunit *test)
{
	const struct ha_ioctl_desc *desc;
	unsigned int nr, found = 0;

	desc = ha_ioctl_lookup(HYPERAETHER_IOC_GET_INFO);
	KUNIT_ASSERT_NOT_NULL(test, desc);
	KUNIT_EXPECT_EQ(test, desc->cmd, HYPERAETHER_IOC_GET_INFO);
	KUNIT_EXPECT_STREQ(test, desc->name, "HYPERAETHER_IOC_GET_INFO");

	/* Lookup is by number; the size check is ha_ioctl_sizes()'s job. */
	desc = ha_ioctl_lookup(_IOC(HA_RW, HYPERAETHER_IOC_MAGIC, 0, 8));
	KUNIT_EXPECT_NOT_NULL(test, desc);

	KUNIT_EXPECT_NULL(test, ha_ioctl_lookup(_IOC(HA_RW, 'H', 0, 32)));
	KUNIT_EXPECT_NULL(test, ha_ioctl_lookup(_IOC(HA_RW, HYPERAETHER_IOC_MAGIC, 0xff, 32)));

	/* Every table entry sits at its own _IOC_NR. */
	for (nr = 0; nr < 256; nr++) {
		desc = ha_ioctl_lookup(_IOC(HA_RW, HYPERAETHER_IOC_MAGIC, nr, 8));
		if (!desc)
			continue;
		found++;
		KUNIT_EXPECT_EQ(test, _IOC_NR(desc->cmd), nr);
		KUNIT_EXPECT_EQ(test, _IOC_TYPE(desc->cmd), HYPERAETHER_IOC_MAGIC);
	}
	KUNIT_EXPECT_GE(test, found, 1);
}

static struct kunit_case ha_ioctl_cases[] = {
	KUNIT_CASE(ha_test_info_fills),
	KUNIT_CASE(ha_test_info_rejects_flags),
	KUNIT_CASE(ha_test_sizes_same),
	KUNIT_CASE(ha_test_sizes_older_caller),
	KUNIT_CASE(ha_test_sizes_newer_caller),
	KUNIT_CASE(ha_test_sizes_direction),
	KUNIT_CASE(ha_test_lookup),
	{}
};

static struct kunit_suite ha_ioctl_suite = {
	.name = "hyperaether_ioctl",
	.test_cases = ha_ioctl_cases,
};

kunit_test_suite(ha_ioctl_suite);

/* ------------------------------------------------------ cap matrix */

static void ha_test_cap_default_deny(struct kunit *test)
{
	struct ha_cap_matrix m;
	u32 i, j;

	KUNIT_ASSERT_EQ(test, ha_cap_init(&m, 5), 0);
	for (i = 0; i < 5; i++)
		for (j = 0; j < 5; j++)
			KUNIT_EXPECT_EQ(test, ha_cap_get(&m, i, j), 0);
	ha_cap_fini(&m);
}

static void ha_test_cap_directed(struct kunit *test)
{
	struct ha_cap_matrix m;

	KUNIT_ASSERT_EQ(test, ha_cap_init(&m, 5), 0);
	ha_cap_set(&m, 1, 3, HYPERAETHER_CAP_SEND | HYPERAETHER_CAP_GRANT);
	KUNIT_EXPECT_EQ(test, ha_cap_get(&m, 1, 3), 0x9);
	KUNIT_EXPECT_EQ(test, ha_cap_get(&m, 3, 1), 0);
	KUNIT_EXPECT_TRUE(test, ha_cap_allows(&m, 1, 3, HA_CAP_SEND));
	KUNIT_EXPECT_FALSE(test, ha_cap_allows(&m, 1, 3, HA_CAP_RECV));
	KUNIT_EXPECT_TRUE(test, ha_cap_allows(&m, 1, 3, HA_CAP_GRANT));
	/* Replace, not add: SET with SHARE alone drops SEND and GRANT. */
	ha_cap_set(&m, 1, 3, HYPERAETHER_CAP_SHARE);
	KUNIT_EXPECT_EQ(test, ha_cap_get(&m, 1, 3), 0x4);
	ha_cap_set(&m, 1, 3, 0);
	KUNIT_EXPECT_EQ(test, ha_cap_get(&m, 1, 3), 0);
	ha_cap_fini(&m);
}

static void ha_test_cap_send_needs_both_ends(struct kunit *test)
{
	struct ha_cap_matrix m;

	KUNIT_ASSERT_EQ(test, ha_cap_init(&m, 4), 0);
	ha_cap_set(&m, 0, 2, HYPERAETHER_CAP_SEND);
	KUNIT_EXPECT_FALSE(test, ha_cap_may_send(&m, 0, 2));
	ha_cap_set(&m, 2, 0, HYPERAETHER_CAP_RECV);
	KUNIT_EXPECT_TRUE(test, ha_cap_may_send(&m, 0, 2));
	/* The reverse direction is a different edge pair. */
	KUNIT_EXPECT_FALSE(test, ha_cap_may_send(&m, 2, 0));
	ha_cap_fini(&m);
}

static void ha_test_cap_clear_vm(struct kunit *test)
{
	struct ha_cap_matrix m;

	KUNIT_ASSERT_EQ(test, ha_cap_init(&m, 4), 0);
	ha_cap_set(&m, 3, 0, HYPERAETHER_CAP_ALL);
	ha_cap_set(&m, 1, 3, HYPERAETHER_CAP_SEND);
	ha_cap_set(&m, 3, 3, HYPERAETHER_CAP_RECV);
	ha_cap_set(&m, 0, 1, HYPERAETHER_CAP_SEND);
	ha_cap_clear_vm(&m, 3);
	KUNIT_EXPECT_EQ(test, ha_cap_get(&m, 3, 0), 0);
	KUNIT_EXPECT_EQ(test, ha_cap_get(&m, 1, 3), 0);
	KUNIT_EXPECT_EQ(test, ha_cap_get(&m, 3, 3), 0);
	KUNIT_EXPECT_EQ(test, ha_cap_get(&m, 0, 1), HYPERAETHER_CAP_SEND);
	ha_cap_fini(&m);
}

static void ha_test_cap_bounds(struct kunit *test)
{
	struct ha_cap_matrix m;

	KUNIT_ASSERT_EQ(test, ha_cap_init(&m, HYPERAETHER_MAX_VMS), 0);
	ha_cap_set(&m, HYPERAETHER_MAX_VMS - 1, HYPERAETHER_MAX_VMS - 1,
		   HYPERAETHER_CAP_SEND);
	KUNIT_EXPECT_TRUE(test, ha_cap_allows(&m, 1023, 1023, HA_CAP_SEND));
	KUNIT_EXPECT_FALSE(test, ha_cap_allows(&m, 1022, 1023, HA_CAP_SEND));
	KUNIT_EXPECT_FALSE(test, ha_cap_allows(&m, 1024, 0, HA_CAP_SEND));
	KUNIT_EXPECT_FALSE(test, ha_cap_allows(&m, 0, 1024, HA_CAP_SEND));
	ha_cap_fini(&m);
}

/* ---------------------------------------------------------- inboxes */

static void ha_test_msg(struct ha_slot *msg, u32 len)
{
	memset(msg, 0, sizeof(*msg));
	msg->hdr.len = len;
}

static u64 ha_test_pop_seq(struct kunit *test, struct ha_inbox *ib)
{
	struct ha_slot msg;
	u32 need = 0;
	int ret;

	spin_lock(&ib->lock);
	ret = ha_inbox_pop(ib, U32_MAX, &need, &msg);
	spin_unlock(&ib->lock);
	if (ret <= 0)
		return 0;
	ha_slot_release(&msg);
	return msg.hdr.seq;
}

static int ha_test_push(struct kunit *test, struct ha_inbox *ib, u64 seq)
{
	struct ha_slot msg;
	int ret;

	ha_test_msg(&msg, 8);
	spin_lock(&ib->lock);
	ret = ha_inbox_push(ib, &msg, seq);
	spin_unlock(&ib->lock);
	return ret;
}

static void ha_test_inbox_fifo_and_full(struct kunit *test)
{
	struct ha_inbox ib;

	KUNIT_ASSERT_EQ(test, ha_inbox_init(&ib, 2), 0);
	KUNIT_EXPECT_EQ(test, ha_test_push(test, &ib, 1), 0);
	KUNIT_EXPECT_EQ(test, ha_test_push(test, &ib, 2), 0);
	KUNIT_EXPECT_EQ(test, ha_test_push(test, &ib, 3), -EAGAIN);
	KUNIT_EXPECT_EQ(test, ib.count, 2);
	KUNIT_EXPECT_EQ(test, ha_test_pop_seq(test, &ib), 1);
	KUNIT_EXPECT_EQ(test, ha_test_pop_seq(test, &ib), 2);
	KUNIT_EXPECT_EQ(test, ha_test_pop_seq(test, &ib), 0);
	ha_inbox_fini(&ib);
}

static void ha_test_inbox_wraparound(struct kunit *test)
{
	struct ha_inbox ib;
	u64 next = 1, expect = 1;
	int round;

	KUNIT_ASSERT_EQ(test, ha_inbox_init(&ib, 3), 0);
	/* 2 in, 1 out per round walks head around the 4-slot ring. */
	for (round = 0; round < 10; round++) {
		if (ib.count < 3)
			KUNIT_EXPECT_EQ(test, ha_test_push(test, &ib, next++), 0);
		if (ib.count < 3)
			KUNIT_EXPECT_EQ(test, ha_test_push(test, &ib, next++), 0);
		KUNIT_EXPECT_EQ(test, ha_test_pop_seq(test, &ib), expect++);
	}
	while (ib.count)
		KUNIT_EXPECT_EQ(test, ha_test_pop_seq(test, &ib), expect++);
	KUNIT_EXPECT_EQ(test, expect, next);
	ha_inbox_fini(&ib);
}

static void ha_test_inbox_too_small_keeps(struct kunit *test)
{
	struct ha_inbox ib;
	struct ha_slot msg;
	u32 need = 0;

	KUNIT_ASSERT_EQ(test, ha_inbox_init(&ib, 4), 0);
	ha_test_msg(&msg, 100);
	spin_lock(&ib.lock);
	KUNIT_EXPECT_EQ(test, ha_inbox_push(&ib, &msg, 7), 0);
	KUNIT_EXPECT_EQ(test, ha_inbox_pop(&ib, 115, &need, &msg), -EMSGSIZE);
	spin_unlock(&ib.lock);
	/* 16-byte header + 100 bytes of payload. */
	KUNIT_EXPECT_EQ(test, need, 116);
	KUNIT_EXPECT_EQ(test, ib.count, 1);
	KUNIT_EXPECT_EQ(test, ha_test_pop_seq(test, &ib), 7);
	ha_inbox_fini(&ib);
}

static void ha_test_inbox_unpop_when_refilled(struct kunit *test)
{
	struct ha_inbox ib;
	struct ha_slot msg;
	u32 need;

	KUNIT_ASSERT_EQ(test, ha_inbox_init(&ib, 2), 0);
	ha_test_push(test, &ib, 1);
	ha_test_push(test, &ib, 2);
	spin_lock(&ib.lock);
	KUNIT_ASSERT_EQ(test, ha_inbox_pop(&ib, U32_MAX, &need, &msg), 1);
	spin_unlock(&ib.lock);
	/* A sender fills the ring again before the receiver puts 1 back. */
	KUNIT_EXPECT_EQ(test, ha_test_push(test, &ib, 3), 0);
	spin_lock(&ib.lock);
	ha_inbox_unpop(&ib, &msg);
	spin_unlock(&ib.lock);
	KUNIT_EXPECT_EQ(test, ib.count, 3);
	KUNIT_EXPECT_EQ(test, ha_test_pop_seq(test, &ib), 1);
	KUNIT_EXPECT_EQ(test, ha_test_pop_seq(test, &ib), 2);
	KUNIT_EXPECT_EQ(test, ha_test_pop_seq(test, &ib), 3);
	ha_inbox_fini(&ib);
}

/*
 * Payloads up to HA_MSG_INLINE live in the slot; longer ones are owned by
 * whoever holds the slot, and the inbox frees what is still queued.
 */
static void ha_test_inbox_inline_and_out_of_line(struct kunit *test)
{
	struct ha_inbox ib;
	struct ha_slot msg;
	u32 need;
	u8 *big;

	KUNIT_ASSERT_EQ(test, ha_inbox_init(&ib, 4), 0);
	ha_test_msg(&msg, HA_MSG_INLINE);
	memset(msg.data, 0xab, HA_MSG_INLINE);
	spin_lock(&ib.lock);
	KUNIT_EXPECT_EQ(test, ha_inbox_push(&ib, &msg, 1), 0);
	spin_unlock(&ib.lock);

	big = kmalloc(HA_MSG_INLINE + 1, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, big);
	memset(big, 0xcd, HA_MSG_INLINE + 1);
	ha_test_msg(&msg, HA_MSG_INLINE + 1);
	msg.payload = big;
	spin_lock(&ib.lock);
	KUNIT_EXPECT_EQ(test, ha_inbox_push(&ib, &msg, 2), 0);
	spin_unlock(&ib.lock);

	memset(&msg, 0, sizeof(msg));
	spin_lock(&ib.lock);
	KUNIT_EXPECT_EQ(test, ha_inbox_pop(&ib, U32_MAX, &need, &msg), 1);
	spin_unlock(&ib.lock);
	KUNIT_EXPECT_EQ(test, msg.hdr.seq, 1);
	KUNIT_EXPECT_EQ(test, msg.data[HA_MSG_INLINE - 1], 0xab);
	KUNIT_EXPECT_PTR_EQ(test, ha_slot_payload(&msg), (const void *)msg.data);
	ha_slot_release(&msg);
	/* The out-of-line one stays queued: ha_inbox_fini() frees it. */
	KUNIT_EXPECT_EQ(test, ib.count, 1);
	ha_inbox_fini(&ib);
}

static void ha_test_inbox_dead(struct kunit *test)
{
	struct ha_inbox ib;

	KUNIT_ASSERT_EQ(test, ha_inbox_init(&ib, 2), 0);
	KUNIT_EXPECT_EQ(test, ha_test_push(test, &ib, 1), 0);
	ha_inbox_kill(&ib);
	KUNIT_EXPECT_EQ(test, ha_test_push(test, &ib, 2), -ENOENT);
	ha_inbox_fini(&ib);	/* frees the message still queued */
}

/* ----------------------------------------------------- quotas, names */

static void ha_test_quota_defaults(struct kunit *test)
{
	struct hyperaether_quota q = { };

	KUNIT_ASSERT_EQ(test, ha_quota_fabric_defaults(&q), 0);
	KUNIT_EXPECT_EQ(test, q.max_vms, 64);
	KUNIT_EXPECT_EQ(test, q.queue_depth, 64);
	KUNIT_EXPECT_EQ(test, q.mem_bytes, 64ULL << 20);
	KUNIT_EXPECT_EQ(test, q.epochs, 1000000);

	q = (struct hyperaether_quota){ .max_vms = 1025 };
	KUNIT_EXPECT_EQ(test, ha_quota_fabric_defaults(&q), -EINVAL);
	q = (struct hyperaether_quota){ .queue_depth = 4097 };
	KUNIT_EXPECT_EQ(test, ha_quota_fabric_defaults(&q), -EINVAL);
	q = (struct hyperaether_quota){ .max_vms = 1024, .queue_depth = 4096 };
	KUNIT_EXPECT_EQ(test, ha_quota_fabric_defaults(&q), 0);
}

static void ha_test_quota_vm(struct kunit *test)
{
	const struct hyperaether_quota fab = {
		.max_vms = 8, .queue_depth = 16, .mem_bytes = 1 << 20, .epochs = 100,
	};
	struct hyperaether_quota q = { };

	KUNIT_ASSERT_EQ(test, ha_quota_vm_inherit(&fab, &q), 0);
	KUNIT_EXPECT_EQ(test, q.queue_depth, 16);
	KUNIT_EXPECT_EQ(test, q.epochs, 100);
	KUNIT_EXPECT_EQ(test, q.mem_bytes, 0);

	q = (struct hyperaether_quota){ .queue_depth = 17 };
	KUNIT_EXPECT_EQ(test, ha_quota_vm_inherit(&fab, &q), -EDQUOT);
	q = (struct hyperaether_quota){ .epochs = 101 };
	KUNIT_EXPECT_EQ(test, ha_quota_vm_inherit(&fab, &q), -EDQUOT);
	q = (struct hyperaether_quota){ .mem_bytes = (1 << 20) + 1 };
	KUNIT_EXPECT_EQ(test, ha_quota_vm_inherit(&fab, &q), -EDQUOT);
	q = (struct hyperaether_quota){ .max_vms = 1 };
	KUNIT_EXPECT_EQ(test, ha_quota_vm_inherit(&fab, &q), -EINVAL);
}

static void ha_test_vm_names(struct kunit *test)
{
	char full[HYPERAETHER_NAME_LEN];

	KUNIT_EXPECT_EQ(test, ha_vm_name_valid("ui"), 0);
	KUNIT_EXPECT_EQ(test, ha_vm_name_valid("db-0.primary"), 0);
	KUNIT_EXPECT_EQ(test, ha_vm_name_valid(""), -EINVAL);
	KUNIT_EXPECT_EQ(test, ha_vm_name_valid("a b"), -EINVAL);
	KUNIT_EXPECT_EQ(test, ha_vm_name_valid("tab\there"), -EINVAL);
	KUNIT_EXPECT_EQ(test, ha_vm_name_valid("\x7f"), -EINVAL);
	KUNIT_EXPECT_EQ(test, ha_vm_name_valid("caf\xc3\xa9"), -EINVAL);
	memset(full, 'x', sizeof(full));	/* no NUL inside the field */
	KUNIT_EXPECT_EQ(test, ha_vm_name_valid(full), -EINVAL);
	full[sizeof(full) - 1] = 0;
	KUNIT_EXPECT_EQ(test, ha_vm_name_valid(full), 0);
}

static void ha_test_vmfd_table(struct kunit *test)
{
	/* Owner-only ioctls are absent from the VM fd table and vice versa. */
	KUNIT_EXPECT_NULL(test, ha_vmfd_ioctl_lookup(HYPERAETHER_IOC_VM_ADD));
	KUNIT_EXPECT_NULL(test, ha_vmfd_ioctl_lookup(HYPERAETHER_IOC_CAP_SET));
	KUNIT_EXPECT_NULL(test, ha_vmfd_ioctl_lookup(HYPERAETHER_IOC_VM_EXPORT));
	KUNIT_EXPECT_NULL(test, ha_ioctl_lookup(HYPERAETHER_IOC_MSG_SEND));
	KUNIT_EXPECT_NULL(test, ha_ioctl_lookup(HYPERAETHER_IOC_VMFD_LIMIT));
	KUNIT_EXPECT_NOT_NULL(test, ha_vmfd_ioctl_lookup(HYPERAETHER_IOC_MSG_RECV));
	KUNIT_EXPECT_NOT_NULL(test, ha_vmfd_ioctl_lookup(HYPERAETHER_IOC_FABRIC_INFO));
}

static struct kunit_case ha_fabric_cases[] = {
	KUNIT_CASE(ha_test_cap_default_deny),
	KUNIT_CASE(ha_test_cap_directed),
	KUNIT_CASE(ha_test_cap_send_needs_both_ends),
	KUNIT_CASE(ha_test_cap_clear_vm),
	KUNIT_CASE(ha_test_cap_bounds),
	KUNIT_CASE(ha_test_inbox_fifo_and_full),
	KUNIT_CASE(ha_test_inbox_wraparound),
	KUNIT_CASE(ha_test_inbox_too_small_keeps),
	KUNIT_CASE(ha_test_inbox_inline_and_out_of_line),
	KUNIT_CASE(ha_test_inbox_unpop_when_refilled),
	KUNIT_CASE(ha_test_inbox_dead),
	KUNIT_CASE(ha_test_quota_defaults),
	KUNIT_CASE(ha_test_quota_vm),
	KUNIT_CASE(ha_test_vm_names),
	KUNIT_CASE(ha_test_vmfd_table),
	{}
};

static struct kunit_suite ha_fabric_suite = {
	.name = "hyperaether_fabric",
	.test_cases = ha_fabric_cases,
};

kunit_test_suite(ha_fabric_suite);

MODULE_DESCRIPTION("KUnit tests for hyperaether.ko");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
