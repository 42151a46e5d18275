// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the freestanding LAVM core, compiled unchanged into the kernel,
 * gives the same bits there as in userspace.  Expected values are standard
 * check values or exact IEEE results, not output of the code under test.
 */
#include <kunit/test.h>
#include <linux/string.h>
#include <asm/fpu/api.h>

#include "lavm.h"

static u32 f2u(float f)
{
	u32 u;

	memcpy(&u, &f, sizeof(u));
	return u;
}

static void lavm_test_crc32(struct kunit *test)
{
	/* The CRC-32 (IEEE 802.3) check value of "123456789". */
	KUNIT_EXPECT_EQ(test, lavm_crc32(0, "123456789", 9), 0xcbf43926);
}

static void lavm_test_isa_table(struct kunit *test)
{
	KUNIT_EXPECT_NOT_NULL(test, lavm_isa(0));	/* ADD */
	KUNIT_EXPECT_NOT_NULL(test, lavm_isa(61));	/* RETURN */
	KUNIT_EXPECT_NULL(test, lavm_isa(24));
	KUNIT_EXPECT_NULL(test, lavm_isa(99));
}

static void lavm_test_math_in_kernel(struct kunit *test)
{
	u32 sq2, fm, fmn, sq4;

	kernel_fpu_begin();
	sq2 = f2u(lavm_sqrtf(2.0f));
	sq4 = f2u(lavm_sqrtf(4.0f));
	fm = f2u(lavm_fmodf(7.0f, 3.0f));
	fmn = f2u(lavm_fmodf(-7.5f, 2.0f));
	kernel_fpu_end();

	KUNIT_EXPECT_EQ(test, sq2, 0x3fb504f3);	/* sqrt(2) correctly rounded */
	KUNIT_EXPECT_EQ(test, sq4, 0x40000000);	/* 2.0 */
	KUNIT_EXPECT_EQ(test, fm, 0x3f800000);	/* 1.0 */
	KUNIT_EXPECT_EQ(test, fmn, 0xbfc00000);	/* -1.5: sign of the dividend */
}

static struct kunit_case lavm_core_cases[] = {
	KUNIT_CASE(lavm_test_crc32),
	KUNIT_CASE(lavm_test_isa_table),
	KUNIT_CASE(lavm_test_math_in_kernel),
	{}
};

static struct kunit_suite lavm_core_suite = {
	.name = "lavm_core",
	.test_cases = lavm_core_cases,
};

kunit_test_suite(lavm_core_suite);
