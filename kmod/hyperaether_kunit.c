// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the Hyper-Aether fabric module: ioctl marshalling and
 * the info query.
 */
#include <kunit/test.h>
#include <linux/ioctl.h>

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

MODULE_DESCRIPTION("KUnit tests for hyperaether.ko");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
