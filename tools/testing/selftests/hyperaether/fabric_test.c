// SPDX-License-Identifier: GPL-2.0
/*
 * Fabric object model through the uapi: creating a fabric, adding,
 * removing, querying and listing VMs, quotas and their errors, ids that
 * belong to another fabric, and VM fds outliving their VM or their fabric.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hyperaether.h"
#include "kselftest_harness.h"

#define MiB			(1ULL << 20)
#define PAGE			4096ULL

/* errno of a raw ioctl, 0 on success. */
static int ioctl_err(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) < 0 ? errno : 0;
}

static int new_fabric(struct __test_metadata *_metadata, __u32 max_vms,
		      __u64 mem_bytes, __u32 queue_depth, __u32 *id)
{
	struct hyperaether_quota q = {
		.max_vms = max_vms, .mem_bytes = mem_bytes, .queue_depth = queue_depth,
	};
	int fd = ha_open();

	ASSERT_GE(fd, 0) TH_LOG("open %s: %s", HA_DEV_PATH, strerror(-fd));
	ASSERT_EQ(0, ha_fabric_create(fd, &q, id));
	return fd;
}

TEST(info_reports_fabric_features)
{
	struct hyperaether_info info;
	int fd = ha_open();

	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, ha_get_info(fd, &info));
	EXPECT_EQ(1, info.api_major);
	EXPECT_GE(info.api_minor, 1);
	EXPECT_EQ(HYPERAETHER_FEAT_INFO | HYPERAETHER_FEAT_FABRIC | HYPERAETHER_FEAT_MEMORY |
		  HYPERAETHER_FEAT_CHANNELS | HYPERAETHER_FEAT_URING_CMD,
		  info.features & 0x1f);
	close(fd);
}

/* A device fd without a fabric answers only GET_INFO and FABRIC_CREATE. */
TEST(no_fabric_is_enxio)
{
	struct hyperaether_fabric_info fi = { };
	struct hyperaether_vm_add va = { .name = "a" };
	struct hyperaether_vm_id vid = { };
	struct hyperaether_vm_query q = { };
	struct hyperaether_vm_list vl = { };
	struct hyperaether_cap cap = { };
	struct hyperaether_cap_list cl = { };
	struct hyperaether_vm_fd vf = { .rights = HYPERAETHER_VMFD_ALL };
	int fd = ha_open();

	ASSERT_GE(fd, 0);
	EXPECT_EQ(ENXIO, ioctl_err(fd, HYPERAETHER_IOC_FABRIC_INFO, &fi));
	EXPECT_EQ(ENXIO, ioctl_err(fd, HYPERAETHER_IOC_VM_ADD, &va));
	EXPECT_EQ(ENXIO, ioctl_err(fd, HYPERAETHER_IOC_VM_REMOVE, &vid));
	EXPECT_EQ(ENXIO, ioctl_err(fd, HYPERAETHER_IOC_VM_QUERY, &q));
	EXPECT_EQ(ENXIO, ioctl_err(fd, HYPERAETHER_IOC_VM_LIST, &vl));
	EXPECT_EQ(ENXIO, ioctl_err(fd, HYPERAETHER_IOC_CAP_SET, &cap));
	EXPECT_EQ(ENXIO, ioctl_err(fd, HYPERAETHER_IOC_CAP_GET, &cap));
	EXPECT_EQ(ENXIO, ioctl_err(fd, HYPERAETHER_IOC_CAP_LIST, &cl));
	EXPECT_EQ(ENXIO, ioctl_err(fd, HYPERAETHER_IOC_VM_EXPORT, &vf));
	/* and the fd is still good for a fabric afterwards */
	EXPECT_EQ(0, ha_fabric_create(fd, NULL, NULL));
	close(fd);
}

TEST(create_defaults_and_ebusy)
{
	struct hyperaether_quota q = { };
	struct hyperaether_fabric_info fi;
	__u32 id1, id2;
	int fd1 = ha_open(), fd2 = ha_open();

	ASSERT_GE(fd1, 0);
	ASSERT_GE(fd2, 0);
	ASSERT_EQ(0, ha_fabric_create(fd1, &q, &id1));
	EXPECT_EQ(64, q.max_vms);
	EXPECT_EQ(64, q.queue_depth);
	EXPECT_EQ(64 * MiB, q.mem_bytes);
	EXPECT_EQ(1000000, q.epochs);
	EXPECT_EQ(-EBUSY, ha_fabric_create(fd1, NULL, NULL));

	ASSERT_EQ(0, ha_fabric_info(fd1, &fi));
	EXPECT_EQ(id1, fi.id);
	EXPECT_EQ(0, memcmp(&q, &fi.quota, sizeof(q)));
	EXPECT_EQ(0, fi.usage.nr_vms);
	EXPECT_EQ(0, fi.usage.mem_bytes);
	EXPECT_EQ(0, fi.usage.queued);

	ASSERT_EQ(0, ha_fabric_create(fd2, NULL, &id2));
	EXPECT_NE(id1, id2);
	close(fd1);
	close(fd2);
}

TEST(create_rejects_bad_arguments)
{
	struct hyperaether_fabric_create fc = { .flags = 1 };
	struct hyperaether_quota q;
	int fd = ha_open();

	ASSERT_GE(fd, 0);
	EXPECT_EQ(EINVAL, ioctl_err(fd, HYPERAETHER_IOC_FABRIC_CREATE, &fc));
	fc.flags = 0x80000000u;
	EXPECT_EQ(EINVAL, ioctl_err(fd, HYPERAETHER_IOC_FABRIC_CREATE, &fc));

	q = (struct hyperaether_quota){ .max_vms = HYPERAETHER_MAX_VMS + 1 };
	EXPECT_EQ(-EINVAL, ha_fabric_create(fd, &q, NULL));
	q = (struct hyperaether_quota){ .queue_depth = HYPERAETHER_MAX_QUEUE_DEPTH + 1 };
	EXPECT_EQ(-EINVAL, ha_fabric_create(fd, &q, NULL));

	/* failures left the fd without a fabric */
	EXPECT_EQ(-ENXIO, ha_vm_add(fd, "a", 0, NULL, 0, NULL));

	q = (struct hyperaether_quota){ .max_vms = HYPERAETHER_MAX_VMS,
					.queue_depth = HYPERAETHER_MAX_QUEUE_DEPTH };
	ASSERT_EQ(0, ha_fabric_create(fd, &q, NULL));
	EXPECT_EQ(HYPERAETHER_MAX_VMS, q.max_vms);
	EXPECT_EQ(HYPERAETHER_MAX_QUEUE_DEPTH, q.queue_depth);
	close(fd);
}

TEST(vm_add_query_remove)
{
	struct hyperaether_quota q = { };
	struct hyperaether_vm_query vq;
	struct hyperaether_fabric_info fi;
	__u32 id;
	int fd = new_fabric(_metadata, 0, 0, 0, NULL);

	ASSERT_EQ(0, ha_vm_add(fd, "alpha", HYPERAETHER_BACKEND_NONE, &q, 0x1234, &id));
	EXPECT_EQ(0, id);
	/* zero fields inherit: no memory, the fabric's depth and epochs */
	EXPECT_EQ(0, q.mem_bytes);
	EXPECT_EQ(64, q.queue_depth);
	EXPECT_EQ(1000000, q.epochs);
	EXPECT_EQ(0, q.max_vms);

	q = (struct hyperaether_quota){ .mem_bytes = 1, .queue_depth = 3, .epochs = 77 };
	ASSERT_EQ(0, ha_vm_add(fd, "beta", HYPERAETHER_BACKEND_KVM, &q, ~0ULL, &id));
	EXPECT_EQ(1, id);
	EXPECT_EQ(3, q.queue_depth);
	EXPECT_EQ(77, q.epochs);

	ASSERT_EQ(0, ha_vm_query(fd, 1, &vq));
	EXPECT_EQ(1, vq.id);
	EXPECT_STREQ("beta", vq.name);
	EXPECT_EQ(HYPERAETHER_BACKEND_KVM, vq.backend);
	EXPECT_EQ(~0ULL, vq.metadata);
	EXPECT_EQ(HYPERAETHER_VMFD_ALL, vq.rights);
	EXPECT_EQ(3, vq.quota.queue_depth);
	EXPECT_EQ(77, vq.quota.epochs);
	EXPECT_EQ(PAGE, vq.usage.mem_bytes);	/* one byte is one page */
	EXPECT_EQ(0, vq.usage.queued);

	ASSERT_EQ(0, ha_vm_query(fd, 0, &vq));
	EXPECT_STREQ("alpha", vq.name);
	EXPECT_EQ(0x1234, vq.metadata);
	EXPECT_EQ(HYPERAETHER_BACKEND_NONE, vq.backend);
	EXPECT_EQ(0, vq.usage.mem_bytes);

	ASSERT_EQ(0, ha_fabric_info(fd, &fi));
	EXPECT_EQ(2, fi.usage.nr_vms);
	EXPECT_EQ(PAGE, fi.usage.mem_bytes);

	/* ids are the lowest free */
	ASSERT_EQ(0, ha_vm_remove(fd, 0));
	EXPECT_EQ(-ENOENT, ha_vm_remove(fd, 0));
	EXPECT_EQ(-ENOENT, ha_vm_query(fd, 0, &vq));
	ASSERT_EQ(0, ha_vm_add(fd, "gamma", HYPERAETHER_BACKEND_LAVM, NULL, 0, &id));
	EXPECT_EQ(0, id);
	ASSERT_EQ(0, ha_vm_add(fd, "delta", 0, NULL, 0, &id));
	EXPECT_EQ(2, id);

	/* a name is free again once its VM is gone */
	ASSERT_EQ(0, ha_vm_remove(fd, 1));
	ASSERT_EQ(0, ha_vm_add(fd, "beta", 0, NULL, 0, &id));
	EXPECT_EQ(1, id);
	ASSERT_EQ(0, ha_fabric_info(fd, &fi));
	EXPECT_EQ(3, fi.usage.nr_vms);
	EXPECT_EQ(0, fi.usage.mem_bytes);
	close(fd);
}

TEST(vm_add_rejects_bad_arguments)
{
	struct hyperaether_vm_add va;
	struct hyperaether_vm_id vid = { .flags = 1 };
	struct hyperaether_vm_query vq = { .flags = 1 };
	struct hyperaether_fabric_info fi;
	int fd = new_fabric(_metadata, 0, 0, 0, NULL);

#define RESET_VA() do { memset(&va, 0, sizeof(va)); strcpy(va.name, "ok"); } while (0)
	RESET_VA();
	ASSERT_EQ(0, ioctl_err(fd, HYPERAETHER_IOC_VM_ADD, &va));
	EXPECT_EQ(0, va.id);
	RESET_VA();
	EXPECT_EQ(EEXIST, ioctl_err(fd, HYPERAETHER_IOC_VM_ADD, &va));

	RESET_VA(); va.flags = 1; strcpy(va.name, "x0");
	EXPECT_EQ(EINVAL, ioctl_err(fd, HYPERAETHER_IOC_VM_ADD, &va));
	RESET_VA(); va.pad = 1; strcpy(va.name, "x1");
	EXPECT_EQ(EINVAL, ioctl_err(fd, HYPERAETHER_IOC_VM_ADD, &va));
	RESET_VA(); va.backend = 3; strcpy(va.name, "x2");
	EXPECT_EQ(EINVAL, ioctl_err(fd, HYPERAETHER_IOC_VM_ADD, &va));
	RESET_VA(); va.quota.max_vms = 1; strcpy(va.name, "x3");
	EXPECT_EQ(EINVAL, ioctl_err(fd, HYPERAETHER_IOC_VM_ADD, &va));
	RESET_VA(); va.name[0] = 0;
	EXPECT_EQ(EINVAL, ioctl_err(fd, HYPERAETHER_IOC_VM_ADD, &va));
	RESET_VA(); memset(va.name, 'n', sizeof(va.name));	/* no NUL */
	EXPECT_EQ(EINVAL, ioctl_err(fd, HYPERAETHER_IOC_VM_ADD, &va));
	RESET_VA(); strcpy(va.name, "tab\there");
	EXPECT_EQ(EINVAL, ioctl_err(fd, HYPERAETHER_IOC_VM_ADD, &va));
	RESET_VA(); strcpy(va.name, "nl\n");
	EXPECT_EQ(EINVAL, ioctl_err(fd, HYPERAETHER_IOC_VM_ADD, &va));
	RESET_VA(); strcpy(va.name, "del\x7f");
	EXPECT_EQ(EINVAL, ioctl_err(fd, HYPERAETHER_IOC_VM_ADD, &va));
	/* bytes outside ASCII: "é" in UTF-8 */
	RESET_VA(); strcpy(va.name, "caf\xc3\xa9");
	EXPECT_EQ(EINVAL, ioctl_err(fd, HYPERAETHER_IOC_VM_ADD, &va));
	/* a C1 control byte (CSI): a terminal escape, whatever the charset */
	RESET_VA(); strcpy(va.name, "csi\x9b" "2J");
	EXPECT_EQ(EINVAL, ioctl_err(fd, HYPERAETHER_IOC_VM_ADD, &va));
	/* 31 printable bytes and the NUL: the longest name there is */
	RESET_VA(); memset(va.name, 'L', sizeof(va.name) - 1);
	EXPECT_EQ(0, ioctl_err(fd, HYPERAETHER_IOC_VM_ADD, &va));
	EXPECT_EQ(1, va.id);
#undef RESET_VA

	/* nothing of the rejected ones was created */
	ASSERT_EQ(0, ha_fabric_info(fd, &fi));
	EXPECT_EQ(2, fi.usage.nr_vms);
	EXPECT_EQ(EINVAL, ioctl_err(fd, HYPERAETHER_IOC_VM_REMOVE, &vid));
	EXPECT_EQ(EINVAL, ioctl_err(fd, HYPERAETHER_IOC_VM_QUERY, &vq));
	close(fd);
}

TEST(vm_count_quota)
{
	struct hyperaether_fabric_info fi;
	char name[16];
	__u32 id;
	int fd = new_fabric(_metadata, 4, 0, 0, NULL);

	for (int i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "vm%d", i);
		ASSERT_EQ(0, ha_vm_add(fd, name, 0, NULL, 0, &id));
		EXPECT_EQ(i, id);
	}
	EXPECT_EQ(-ENOSPC, ha_vm_add(fd, "vm4", 0, NULL, 0, &id));
	ASSERT_EQ(0, ha_vm_remove(fd, 2));
	ASSERT_EQ(0, ha_vm_add(fd, "vm4", 0, NULL, 0, &id));
	EXPECT_EQ(2, id);
	EXPECT_EQ(-ENOSPC, ha_vm_add(fd, "vm5", 0, NULL, 0, &id));
	ASSERT_EQ(0, ha_fabric_info(fd, &fi));
	EXPECT_EQ(4, fi.usage.nr_vms);
	EXPECT_EQ(4, fi.quota.max_vms);
	/* ids beyond max_vms never exist */
	EXPECT_EQ(-ENOENT, ha_vm_remove(fd, 4));
	EXPECT_EQ(-ENOENT, ha_vm_remove(fd, HYPERAETHER_MAX_VMS + 7));
	close(fd);
}

TEST(memory_and_limit_quotas)
{
	struct hyperaether_quota q;
	struct hyperaether_fabric_info fi;
	struct hyperaether_vm_query vq;
	__u32 a, b;
	int fd = new_fabric(_metadata, 0, MiB, 16, NULL);

	q = (struct hyperaether_quota){ .mem_bytes = 512 * 1024 };
	ASSERT_EQ(0, ha_vm_add(fd, "a", 0, &q, 0, &a));
	q = (struct hyperaether_quota){ .mem_bytes = 512 * 1024 + PAGE };
	EXPECT_EQ(-EDQUOT, ha_vm_add(fd, "b", 0, &q, 0, &b));
	q = (struct hyperaether_quota){ .mem_bytes = 512 * 1024 };
	ASSERT_EQ(0, ha_vm_add(fd, "b", 0, &q, 0, &b));
	q = (struct hyperaether_quota){ .mem_bytes = 1 };
	EXPECT_EQ(-EDQUOT, ha_vm_add(fd, "c", 0, &q, 0, NULL));
	/* memory-less VMs still fit */
	ASSERT_EQ(0, ha_vm_add(fd, "c", 0, NULL, 0, NULL));

	ASSERT_EQ(0, ha_fabric_info(fd, &fi));
	EXPECT_EQ(MiB, fi.usage.mem_bytes);
	EXPECT_EQ(MiB, fi.quota.mem_bytes);
	ASSERT_EQ(0, ha_vm_query(fd, b, &vq));
	EXPECT_EQ(512 * 1024, vq.usage.mem_bytes);

	ASSERT_EQ(0, ha_vm_remove(fd, a));
	q = (struct hyperaether_quota){ .mem_bytes = 256 * 1024 };
	ASSERT_EQ(0, ha_vm_add(fd, "d", 0, &q, 0, NULL));
	ASSERT_EQ(0, ha_fabric_info(fd, &fi));
	EXPECT_EQ(768 * 1024, fi.usage.mem_bytes);

	/* per-VM limits can only be as high as the fabric's */
	q = (struct hyperaether_quota){ .queue_depth = 17 };
	EXPECT_EQ(-EDQUOT, ha_vm_add(fd, "e", 0, &q, 0, NULL));
	q = (struct hyperaether_quota){ .queue_depth = 16 };
	EXPECT_EQ(0, ha_vm_add(fd, "e", 0, &q, 0, NULL));
	q = (struct hyperaether_quota){ .epochs = 1000001 };
	EXPECT_EQ(-EDQUOT, ha_vm_add(fd, "f", 0, &q, 0, NULL));
	q = (struct hyperaether_quota){ .epochs = 1000000 };
	EXPECT_EQ(0, ha_vm_add(fd, "f", 0, &q, 0, NULL));
	q = (struct hyperaether_quota){ .mem_bytes = 2 * MiB };
	EXPECT_EQ(-EDQUOT, ha_vm_add(fd, "g", 0, &q, 0, NULL));
	close(fd);
}

/* Ids are per fabric: an id alive elsewhere is just unknown here. */
TEST(ids_of_another_fabric)
{
	struct hyperaether_vm_query vq;
	__u32 rights;
	int fa = new_fabric(_metadata, 0, 0, 0, NULL);
	int fb = new_fabric(_metadata, 0, 0, 0, NULL);
	int vfd;

	for (int i = 0; i < 3; i++) {
		char name[8];

		snprintf(name, sizeof(name), "a%d", i);
		ASSERT_EQ(0, ha_vm_add(fa, name, 0, NULL, 0, NULL));
	}
	ASSERT_EQ(0, ha_vm_add(fb, "b0", 0, NULL, 0, NULL));
	EXPECT_EQ(-ENOENT, ha_vm_query(fb, 2, &vq));
	EXPECT_EQ(-ENOENT, ha_vm_remove(fb, 1));
	EXPECT_EQ(-ENOENT, ha_cap_set(fb, 0, 2, HYPERAETHER_CAP_SEND));
	EXPECT_EQ(-ENOENT, ha_cap_set(fb, 2, 0, HYPERAETHER_CAP_SEND));
	EXPECT_EQ(-ENOENT, ha_cap_get(fb, 0, 1, &rights));
	EXPECT_EQ(-ENOENT, ha_vm_export(fb, 1, HYPERAETHER_VMFD_ALL, 0));

	/* a VM fd of fabric B sends into B's id space only */
	vfd = ha_vm_export(fb, 0, HYPERAETHER_VMFD_ALL, 0);
	ASSERT_GE(vfd, 0);
	EXPECT_EQ(-ENOENT, ha_msg_send(vfd, 2, "x", 1));
	/* and fabric A is untouched */
	ASSERT_EQ(0, ha_vm_query(fa, 2, &vq));
	EXPECT_STREQ("a2", vq.name);
	close(vfd);
	close(fa);
	close(fb);
}

static void expect_vmfd_dead(struct __test_metadata *_metadata, int vfd, __u32 peer)
{
	struct hyperaether_fabric_info fi;
	struct hyperaether_vm_query vq;
	struct pollfd pfd = { .fd = vfd, .events = POLLIN };
	char buf[64];
	__u32 len = sizeof(buf), rights;
	void *p;

	EXPECT_EQ(-ENODEV, ha_vm_query(vfd, HYPERAETHER_VM_SELF, &vq));
	EXPECT_EQ(-ENODEV, ha_fabric_info(vfd, &fi));
	EXPECT_EQ(-ENODEV, ha_msg_send(vfd, peer, "x", 1));
	EXPECT_EQ(-ENODEV, ha_msg_recv(vfd, buf, &len, HYPERAETHER_MSG_NONBLOCK));
	EXPECT_EQ(-ENODEV, ha_vmfd_dup(vfd, HYPERAETHER_VMFD_SEND, 0));
	EXPECT_EQ(-ENODEV, ha_vmfd_limit(vfd, HYPERAETHER_VMFD_SEND));
	EXPECT_EQ(-ENODEV, ha_cap_get(vfd, 0, peer, &rights));
	EXPECT_EQ(-ENODEV, ha_cap_grant(vfd, peer, peer, HYPERAETHER_CAP_SEND));
	EXPECT_EQ(-ENODEV, ha_vm_mmap(vfd, 0, 0, PAGE, &p));
	EXPECT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_NE(0, pfd.revents & POLLHUP);
}

TEST(removed_vm_fd_is_enodev)
{
	struct hyperaether_quota q = { .mem_bytes = PAGE };
	struct hyperaether_vm_query vq;
	__u32 id;
	int fd = new_fabric(_metadata, 0, 0, 0, NULL);
	int vfd;

	ASSERT_EQ(0, ha_vm_add(fd, "old", 0, &q, 0, &id));
	ASSERT_EQ(0, id);
	ASSERT_EQ(0, ha_vm_add(fd, "peer", 0, NULL, 0, NULL));
	vfd = ha_vm_export(fd, 0, HYPERAETHER_VMFD_ALL, 0);
	ASSERT_GE(vfd, 0);
	ASSERT_EQ(0, ha_vm_query(vfd, HYPERAETHER_VM_SELF, &vq));
	EXPECT_STREQ("old", vq.name);
	ASSERT_EQ(0, ha_vm_remove(fd, 0));
	expect_vmfd_dead(_metadata, vfd, 1);

	/* a new VM in the same slot does not revive the old fd */
	ASSERT_EQ(0, ha_vm_add(fd, "new", 0, &q, 0, &id));
	ASSERT_EQ(0, id);
	expect_vmfd_dead(_metadata, vfd, 1);
	close(vfd);
	close(fd);
}

TEST(closing_owner_kills_vm_fds)
{
	int fd = new_fabric(_metadata, 0, 0, 0, NULL);
	int v0, v1;

	ASSERT_EQ(0, ha_vm_add(fd, "a", 0, NULL, 0, NULL));
	ASSERT_EQ(0, ha_vm_add(fd, "b", 0, NULL, 0, NULL));
	v0 = ha_vm_export(fd, 0, HYPERAETHER_VMFD_ALL, 0);
	v1 = ha_vm_export(fd, 1, HYPERAETHER_VMFD_SEND, 0);
	ASSERT_GE(v0, 0);
	ASSERT_GE(v1, 0);
	close(fd);
	expect_vmfd_dead(_metadata, v0, 1);
	EXPECT_EQ(-ENODEV, ha_msg_send(v1, 0, "x", 1));
	close(v0);
	close(v1);
}

TEST(vm_list_enumerates)
{
	__u32 ids[8], count, id;
	struct hyperaether_vm_list vl = { .flags = 2, .count = 8 };
	int fd = new_fabric(_metadata, 0, 0, 0, NULL);

	count = 0;
	ASSERT_EQ(0, ha_vm_list(fd, NULL, &count));
	EXPECT_EQ(0, count);
	for (int i = 0; i < 5; i++) {
		char name[8];

		snprintf(name, sizeof(name), "v%d", i);
		ASSERT_EQ(0, ha_vm_add(fd, name, 0, NULL, 0, &id));
	}
	ASSERT_EQ(0, ha_vm_remove(fd, 1));
	ASSERT_EQ(0, ha_vm_remove(fd, 3));

	memset(ids, 0xee, sizeof(ids));
	count = 8;
	ASSERT_EQ(0, ha_vm_list(fd, ids, &count));
	ASSERT_EQ(3, count);
	EXPECT_EQ(0, ids[0]);
	EXPECT_EQ(2, ids[1]);
	EXPECT_EQ(4, ids[2]);
	EXPECT_EQ(0xeeeeeeee, ids[3]);

	/* a short array gets what fits and the true count */
	memset(ids, 0xee, sizeof(ids));
	count = 2;
	ASSERT_EQ(0, ha_vm_list(fd, ids, &count));
	EXPECT_EQ(3, count);
	EXPECT_EQ(0, ids[0]);
	EXPECT_EQ(2, ids[1]);
	EXPECT_EQ(0xeeeeeeee, ids[2]);

	count = 4;
	EXPECT_EQ(-EFAULT, ha_vm_list(fd, (__u32 *)8, &count));
	vl.ids = (__u64)(unsigned long)ids;
	EXPECT_EQ(EINVAL, ioctl_err(fd, HYPERAETHER_IOC_VM_LIST, &vl));
	close(fd);
}

/* Owner-only ioctls do not exist on a VM fd, nor VM-fd ones on the device. */
TEST(ioctl_sets_are_disjoint)
{
	struct hyperaether_vm_add va = { .name = "z" };
	struct hyperaether_vm_id vid = { };
	struct hyperaether_vm_list vl = { };
	struct hyperaether_cap cap = { };
	struct hyperaether_cap_list cl = { };
	struct hyperaether_vm_fd vf = { .rights = HYPERAETHER_VMFD_SEND };
	struct hyperaether_msg m = { };
	struct hyperaether_msg_batch mb = { };
	struct hyperaether_msg_recv mr = { .flags = HYPERAETHER_MSG_NONBLOCK };
	struct hyperaether_fabric_info fi;
	int fd = new_fabric(_metadata, 0, 0, 0, NULL);
	int vfd;

	ASSERT_EQ(0, ha_vm_add(fd, "a", 0, NULL, 0, NULL));
	vfd = ha_vm_export(fd, 0, HYPERAETHER_VMFD_ALL, 0);
	ASSERT_GE(vfd, 0);
	EXPECT_EQ(ENOTTY, ioctl_err(vfd, HYPERAETHER_IOC_VM_ADD, &va));
	EXPECT_EQ(ENOTTY, ioctl_err(vfd, HYPERAETHER_IOC_VM_REMOVE, &vid));
	EXPECT_EQ(ENOTTY, ioctl_err(vfd, HYPERAETHER_IOC_CAP_SET, &cap));
	EXPECT_EQ(ENOTTY, ioctl_err(vfd, HYPERAETHER_IOC_CAP_LIST, &cl));
	EXPECT_EQ(ENOTTY, ioctl_err(vfd, HYPERAETHER_IOC_VM_EXPORT, &vf));
	EXPECT_EQ(ENOTTY, ioctl_err(vfd, HYPERAETHER_IOC_VM_LIST, &vl));

	EXPECT_EQ(ENOTTY, ioctl_err(fd, HYPERAETHER_IOC_VMFD_DUP, &vf));
	EXPECT_EQ(ENOTTY, ioctl_err(fd, HYPERAETHER_IOC_VMFD_LIMIT, &vf));
	EXPECT_EQ(ENOTTY, ioctl_err(fd, HYPERAETHER_IOC_CAP_GRANT, &cap));
	EXPECT_EQ(ENOTTY, ioctl_err(fd, HYPERAETHER_IOC_MSG_SEND, &m));
	EXPECT_EQ(ENOTTY, ioctl_err(fd, HYPERAETHER_IOC_MSG_SEND_BATCH, &mb));
	EXPECT_EQ(ENOTTY, ioctl_err(fd, HYPERAETHER_IOC_MSG_RECV, &mr));

	/* the VM fd still has the shared ones */
	ASSERT_EQ(0, ha_fabric_info(vfd, &fi));
	EXPECT_EQ(1, fi.usage.nr_vms);
	close(vfd);
	close(fd);
}

TEST(export_flags)
{
	int fd = new_fabric(_metadata, 0, 0, 0, NULL);
	int v1, v2;

	ASSERT_EQ(0, ha_vm_add(fd, "a", 0, NULL, 0, NULL));
	v1 = ha_vm_export(fd, 0, HYPERAETHER_VMFD_ALL, 0);
	ASSERT_GE(v1, 0);
	EXPECT_NE(0, fcntl(v1, F_GETFD) & FD_CLOEXEC);
	v2 = ha_vm_export(fd, 0, HYPERAETHER_VMFD_ALL, HYPERAETHER_VMFD_F_INHERIT);
	ASSERT_GE(v2, 0);
	EXPECT_EQ(0, fcntl(v2, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(-EINVAL, ha_vm_export(fd, 0, HYPERAETHER_VMFD_ALL, 2));
	EXPECT_EQ(-EINVAL, ha_vm_export(fd, 0, HYPERAETHER_VMFD_ALL + 1, 0));
	close(v1);
	close(v2);
	close(fd);
}

TEST_HARNESS_MAIN
