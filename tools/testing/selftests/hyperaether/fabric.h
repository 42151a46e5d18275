/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers shared by the fabric kselftests (cap, chan, uring). */
#ifndef FABRIC_H
#define FABRIC_H

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hyperaether.h"
#include "kselftest_harness.h"

/*
 * Opens the device, creates a fabric with @quota (NULL: the defaults) and
 * VMs "vm0".."vm<n-1>" with ids 0..n-1, and exports an fd for each into
 * @vm.  Fails the test on any error.
 */
static inline void fabric_with_vms(struct __test_metadata *_metadata, int *fd,
				   struct hyperaether_quota *quota, int *vm, int n)
{
	char name[16];

	*fd = ha_open();
	ASSERT_GE(*fd, 0) TH_LOG("open %s: %s", HA_DEV_PATH, strerror(-*fd));
	ASSERT_EQ(0, ha_fabric_create(*fd, quota, NULL));
	for (int i = 0; i < n; i++) {
		__u32 id;

		snprintf(name, sizeof(name), "vm%d", i);
		ASSERT_EQ(0, ha_vm_add(*fd, name, 0, NULL, 0, &id));
		ASSERT_EQ(i, id);
		vm[i] = ha_vm_export(*fd, i, HYPERAETHER_VMFD_ALL, 0);
		ASSERT_GE(vm[i], 0);
	}
}

#endif /* FABRIC_H */
