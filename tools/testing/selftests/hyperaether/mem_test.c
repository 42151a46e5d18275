// SPDX-License-Identifier: GPL-2.0
/*
 * Per-VM memory: mapped through a VM fd, its own with VMFD_MAP, a peer's
 * with VMFD_MAP_PEER and CAP_SHARE; one memory however many mappings;
 * zeroed when allocated; shared mappings only, within the VM's size;
 * losing SHARE (CAP_SET, VM removal, owner close) unmaps what was mapped
 * with it, and touching that raises SIGBUS while the owner's own mapping
 * keeps working.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hyperaether.h"
#include "kselftest_harness.h"

#define PAGE		4096UL
#define MEM_A		(16 * PAGE)
#define MEM_B		(4 * PAGE)

/* VM 0 "a" (16 pages), VM 1 "b" (4 pages), VM 2 "none" (no memory). */
FIXTURE(mem) {
	int fd;
	int a, b, none;
};

FIXTURE_SETUP(mem)
{
	struct hyperaether_quota q = { .mem_bytes = MEM_A };

	self->fd = ha_open();
	ASSERT_GE(self->fd, 0) TH_LOG("open %s: %s", HA_DEV_PATH, strerror(-self->fd));
	ASSERT_EQ(0, ha_fabric_create(self->fd, NULL, NULL));
	ASSERT_EQ(0, ha_vm_add(self->fd, "a", 0, &q, 0, NULL));
	q.mem_bytes = MEM_B;
	ASSERT_EQ(0, ha_vm_add(self->fd, "b", 0, &q, 0, NULL));
	ASSERT_EQ(0, ha_vm_add(self->fd, "none", 0, NULL, 0, NULL));
	self->a = ha_vm_export(self->fd, 0, HYPERAETHER_VMFD_ALL, 0);
	self->b = ha_vm_export(self->fd, 1, HYPERAETHER_VMFD_ALL, 0);
	self->none = ha_vm_export(self->fd, 2, HYPERAETHER_VMFD_ALL, 0);
	ASSERT_GE(self->a, 0);
	ASSERT_GE(self->b, 0);
	ASSERT_GE(self->none, 0);
}

FIXTURE_TEARDOWN(mem)
{
	close(self->a);
	close(self->b);
	close(self->none);
	close(self->fd);
}

static int all_bytes(const unsigned char *p, size_t len, unsigned char v)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != v)
			return 0;
	return 1;
}

TEST_F(mem, own_memory_zeroed_and_shared_between_fds)
{
	unsigned char *p1, *p2;
	int a2 = ha_vm_export(self->fd, 0, HYPERAETHER_VMFD_MAP, 0);

	ASSERT_GE(a2, 0);
	ASSERT_EQ(0, ha_vm_mmap(self->a, 0, 0, MEM_A, (void **)&p1));
	EXPECT_TRUE(all_bytes(p1, MEM_A, 0));
	for (size_t i = 0; i < MEM_A; i++)
		p1[i] = (unsigned char)(i * 7 + 1);
	ASSERT_EQ(0, ha_vm_mmap(a2, 0, 0, MEM_A, (void **)&p2));
	for (size_t i = 0; i < MEM_A; i++)
		ASSERT_EQ((unsigned char)(i * 7 + 1), p2[i]);
	p2[MEM_A - 1] = 0x5a;
	EXPECT_EQ(0x5a, p1[MEM_A - 1]);
	munmap(p1, MEM_A);

	/* an offset maps the matching page */
	ASSERT_EQ(0, ha_vm_mmap(self->a, 0, 3 * PAGE, 2 * PAGE, (void **)&p1));
	EXPECT_EQ((unsigned char)(3 * PAGE * 7 + 1), p1[0]);
	EXPECT_EQ(p2[3 * PAGE + 100], p1[100]);
	munmap(p1, 2 * PAGE);
	munmap(p2, MEM_A);
	close(a2);
}

TEST_F(mem, own_memory_needs_vmfd_map)
{
	void *p;
	int nomap = ha_vm_export(self->fd, 0, HYPERAETHER_VMFD_ALL & ~HYPERAETHER_VMFD_MAP, 0);

	ASSERT_GE(nomap, 0);
	EXPECT_EQ(-EACCES, ha_vm_mmap(nomap, 0, 0, PAGE, &p));
	/* MAP_PEER is not MAP: own memory is not a peer's */
	close(nomap);
}

TEST_F(mem, peer_memory_needs_share_and_map_peer)
{
	unsigned char *pb, *pa;
	int peer_only;

	ASSERT_EQ(0, ha_vm_mmap(self->b, 1, 0, MEM_B, (void **)&pb));
	memset(pb, 0xab, MEM_B);

	/* no SHARE on (a, b) */
	EXPECT_EQ(-EACCES, ha_vm_mmap(self->a, 1, 0, MEM_B, (void **)&pa));
	/* SHARE in the other direction does not help a */
	ASSERT_EQ(0, ha_cap_set(self->fd, 1, 0, HYPERAETHER_CAP_ALL));
	EXPECT_EQ(-EACCES, ha_vm_mmap(self->a, 1, 0, MEM_B, (void **)&pa));
	/* every other right but SHARE does not help either */
	ASSERT_EQ(0, ha_cap_set(self->fd, 0, 1, HYPERAETHER_CAP_ALL & ~HYPERAETHER_CAP_SHARE));
	EXPECT_EQ(-EACCES, ha_vm_mmap(self->a, 1, 0, MEM_B, (void **)&pa));

	ASSERT_EQ(0, ha_cap_set(self->fd, 0, 1, HYPERAETHER_CAP_SHARE));
	ASSERT_EQ(0, ha_vm_mmap(self->a, 1, 0, MEM_B, (void **)&pa));
	EXPECT_TRUE(all_bytes(pa, MEM_B, 0xab));
	pa[10] = 0x11;
	EXPECT_EQ(0x11, pb[10]);

	/* SHARE without VMFD_MAP_PEER on the fd */
	peer_only = ha_vm_export(self->fd, 0, HYPERAETHER_VMFD_MAP, 0);
	ASSERT_GE(peer_only, 0);
	EXPECT_EQ(-EACCES, ha_vm_mmap(peer_only, 1, 0, PAGE, (void **)&pb));
	close(peer_only);
	/* MAP_PEER without MAP: peers yes, own memory no */
	peer_only = ha_vm_export(self->fd, 0, HYPERAETHER_VMFD_MAP_PEER, 0);
	ASSERT_GE(peer_only, 0);
	EXPECT_EQ(-EACCES, ha_vm_mmap(peer_only, 0, 0, PAGE, (void **)&pb));
	ASSERT_EQ(0, ha_vm_mmap(peer_only, 1, 0, PAGE, (void **)&pb));
	EXPECT_EQ(0x11, pb[10]);
	munmap(pb, PAGE);

	/* revoking SHARE stops later mmaps (and unmaps earlier ones: see below) */
	ASSERT_EQ(0, ha_cap_set(self->fd, 0, 1, 0));
	EXPECT_EQ(-EACCES, ha_vm_mmap(self->a, 1, 0, PAGE, (void **)&pb));
	EXPECT_EQ(-EACCES, ha_vm_mmap(peer_only, 1, 0, PAGE, (void **)&pb));
	munmap(pa, MEM_B);
	close(peer_only);

	/* a's memory stays private to a: b holds no SHARE on a */
	ASSERT_EQ(0, ha_cap_set(self->fd, 1, 0, HYPERAETHER_CAP_ALL & ~HYPERAETHER_CAP_SHARE));
	EXPECT_EQ(-EACCES, ha_vm_mmap(self->b, 0, 0, PAGE, (void **)&pa));
}

TEST_F(mem, private_and_out_of_range_mappings)
{
	void *p;

	p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, self->a,
		 HYPERAETHER_MEM_OFFSET(0));
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, self->a, HYPERAETHER_MEM_OFFSET(0));
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);

	EXPECT_EQ(-EINVAL, ha_vm_mmap(self->a, 0, 0, MEM_A + PAGE, &p));
	EXPECT_EQ(-EINVAL, ha_vm_mmap(self->a, 0, MEM_A, PAGE, &p));
	EXPECT_EQ(-EINVAL, ha_vm_mmap(self->a, 0, MEM_A - PAGE, 2 * PAGE, &p));
	EXPECT_EQ(-EINVAL, ha_vm_mmap(self->none, 2, 0, PAGE, &p));
	/* the last page is in range */
	ASSERT_EQ(0, ha_vm_mmap(self->a, 0, MEM_A - PAGE, PAGE, &p));
	munmap(p, PAGE);

	/* a peer's range is the peer's size, not the mapper's */
	ASSERT_EQ(0, ha_cap_set(self->fd, 0, 1, HYPERAETHER_CAP_SHARE));
	EXPECT_EQ(-EINVAL, ha_vm_mmap(self->a, 1, 0, MEM_B + PAGE, &p));
	ASSERT_EQ(0, ha_vm_mmap(self->a, 1, 0, MEM_B, &p));
	munmap(p, MEM_B);
}

/* Memory comes back zeroed to the next VM, and usage follows add/remove. */
TEST_F(mem, memory_is_zeroed_for_a_new_vm)
{
	struct hyperaether_quota q = { .mem_bytes = MEM_B };
	struct hyperaether_fabric_info fi;
	unsigned char *p;
	__u32 id;
	int vfd;

	ASSERT_EQ(0, ha_fabric_info(self->fd, &fi));
	EXPECT_EQ(MEM_A + MEM_B, fi.usage.mem_bytes);
	ASSERT_EQ(0, ha_vm_mmap(self->b, 1, 0, MEM_B, (void **)&p));
	memset(p, 0xff, MEM_B);
	munmap(p, MEM_B);
	ASSERT_EQ(0, ha_vm_remove(self->fd, 1));
	ASSERT_EQ(0, ha_fabric_info(self->fd, &fi));
	EXPECT_EQ(MEM_A, fi.usage.mem_bytes);
	ASSERT_EQ(0, ha_vm_add(self->fd, "b2", 0, &q, 0, &id));
	ASSERT_EQ(1, id);
	vfd = ha_vm_export(self->fd, 1, HYPERAETHER_VMFD_MAP, 0);
	ASSERT_GE(vfd, 0);
	ASSERT_EQ(0, ha_vm_mmap(vfd, 1, 0, MEM_B, (void **)&p));
	EXPECT_TRUE(all_bytes(p, MEM_B, 0));
	munmap(p, MEM_B);
	close(vfd);
}

/*
 * A mapping made before the VM went away must not turn into a
 * use-after-free: touching it raises SIGBUS, and the kernel (KASAN) stays
 * quiet.
 */
TEST_F(mem, mapping_outlives_vm_removal)
{
	unsigned char *p;
	pid_t pid;
	int status;

	ASSERT_EQ(0, ha_vm_mmap(self->a, 0, 0, MEM_A, (void **)&p));
	memset(p, 0x42, MEM_A);
	ASSERT_EQ(0, ha_vm_remove(self->fd, 0));
	EXPECT_EQ(-ENODEV, ha_vm_mmap(self->a, 0, 0, PAGE, (void **)&p));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		for (size_t i = 0; i < MEM_A; i += 64)
			p[i] ^= 1;
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	/* the VM's mappings went with it (HYPERAETHER_FEAT_MAP_REVOKE) */
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS)
		TH_LOG("status %#x", status);
	/* the owner closing drops the rest; the mapping still holds pages */
	close(self->fd);
	self->fd = -1;
	munmap(p, MEM_A);
}

/*
 * Touch every page of @p in a child: returns 0 if all reads and writes
 * went through, SIGBUS if one raised it, or another status.
 */
static int touch_in_child(volatile unsigned char *p, size_t len)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		for (size_t i = 0; i < len; i += PAGE)
			p[i] = p[i] + 1;
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFSIGNALED(status))
		return WTERMSIG(status);
	return -1;
}

TEST_F(mem, revoke_feature)
{
	struct hyperaether_info info = { };

	ASSERT_EQ(0, ha_get_info(self->fd, &info));
	EXPECT_NE(0, info.features & HYPERAETHER_FEAT_MAP_REVOKE);
}

/* CAP_SET without SHARE unmaps b's memory from a's mapping of it. */
TEST_F(mem, revoking_share_unmaps_the_peer_mapping)
{
	unsigned char *peer, *own;

	ASSERT_EQ(0, ha_cap_set(self->fd, 0, 1, HYPERAETHER_CAP_SHARE | HYPERAETHER_CAP_SEND));
	ASSERT_EQ(0, ha_vm_mmap(self->a, 1, 0, MEM_B, (void **)&peer));
	ASSERT_EQ(0, ha_vm_mmap(self->b, 1, 0, MEM_B, (void **)&own));
	memset(peer, 0x5a, MEM_B);
	EXPECT_TRUE(all_bytes(own, MEM_B, 0x5a));
	EXPECT_EQ(0, touch_in_child(peer, MEM_B));

	/* other rights stay; SHARE goes, and with it the pages */
	ASSERT_EQ(0, ha_cap_set(self->fd, 0, 1, HYPERAETHER_CAP_SEND));
	EXPECT_EQ(SIGBUS, touch_in_child(peer, MEM_B));
	EXPECT_EQ(SIGBUS, touch_in_child(peer + MEM_B - PAGE, PAGE));
	/* the owner's own mapping still works, and holds what was written */
	EXPECT_TRUE(all_bytes(own, 1, 0x5b));
	EXPECT_EQ(0, touch_in_child(own, MEM_B));
	own[1] = 0x77;
	/* and a new peer mapping is refused */
	EXPECT_EQ(-EACCES, ha_vm_mmap(self->a, 1, 0, MEM_B, (void **)&own));

	/* a right given back makes the old mapping fault the pages in again */
	ASSERT_EQ(0, ha_cap_set(self->fd, 0, 1, HYPERAETHER_CAP_SHARE));
	EXPECT_EQ(0x77, peer[1]);
	munmap(peer, MEM_B);
	munmap(own, MEM_B);
}

/* A dup'ed fd and a second process: the revocation reaches every mapping. */
TEST_F(mem, revoking_share_reaches_every_fd_of_the_vm)
{
	unsigned char *p1, *p2;
	int dup_fd;

	ASSERT_EQ(0, ha_cap_set(self->fd, 0, 1, HYPERAETHER_CAP_SHARE));
	dup_fd = ha_vmfd_dup(self->a, HYPERAETHER_VMFD_MAP_PEER, 0);
	ASSERT_GE(dup_fd, 0);
	ASSERT_EQ(0, ha_vm_mmap(self->a, 1, 0, MEM_B, (void **)&p1));
	ASSERT_EQ(0, ha_vm_mmap(dup_fd, 1, PAGE, PAGE, (void **)&p2));
	close(dup_fd);			/* the mapping keeps the fd's file */
	p1[0] = 1;
	p2[0] = 2;
	EXPECT_EQ(2, p1[PAGE]);
	ASSERT_EQ(0, ha_cap_set(self->fd, 0, 1, 0));
	EXPECT_EQ(SIGBUS, touch_in_child(p1, MEM_B));
	EXPECT_EQ(SIGBUS, touch_in_child(p2, PAGE));
	munmap(p1, MEM_B);
	munmap(p2, PAGE);
}

/* Removing the peer, or the mapping VM, or closing the fabric revokes too. */
TEST_F(mem, removal_and_close_unmap_peer_memory)
{
	unsigned char *peer_of_b, *peer_of_a, *own_a;

	ASSERT_EQ(0, ha_cap_set(self->fd, 0, 1, HYPERAETHER_CAP_SHARE));
	ASSERT_EQ(0, ha_cap_set(self->fd, 2, 0, HYPERAETHER_CAP_SHARE));
	ASSERT_EQ(0, ha_vm_mmap(self->a, 1, 0, MEM_B, (void **)&peer_of_b));
	ASSERT_EQ(0, ha_vm_mmap(self->none, 0, 0, MEM_A, (void **)&peer_of_a));
	ASSERT_EQ(0, ha_vm_mmap(self->a, 0, 0, MEM_A, (void **)&own_a));
	EXPECT_EQ(0, touch_in_child(peer_of_b, MEM_B));
	EXPECT_EQ(0, touch_in_child(peer_of_a, MEM_A));

	/* b goes: a's mapping of b's memory goes with it */
	ASSERT_EQ(0, ha_vm_remove(self->fd, 1));
	EXPECT_EQ(SIGBUS, touch_in_child(peer_of_b, MEM_B));
	/* a's own mapping, and "none"'s of a, are not b's business */
	EXPECT_EQ(0, touch_in_child(own_a, MEM_A));
	EXPECT_EQ(0, touch_in_child(peer_of_a, MEM_A));

	/* the owner closes: every VM goes, every mapping with it */
	close(self->fd);
	self->fd = -1;
	EXPECT_EQ(SIGBUS, touch_in_child(peer_of_a, MEM_A));
	EXPECT_EQ(SIGBUS, touch_in_child(own_a, MEM_A));
	munmap(peer_of_b, MEM_B);
	munmap(peer_of_a, MEM_A);
	munmap(own_a, MEM_A);
}

/* Revocation racing with faults from other threads: SIGBUS or data, never stale. */
TEST_F(mem, revoke_while_another_process_faults)
{
	unsigned char *peer;
	int status;
	pid_t pid;

	ASSERT_EQ(0, ha_cap_set(self->fd, 0, 1, HYPERAETHER_CAP_SHARE));
	ASSERT_EQ(0, ha_vm_mmap(self->a, 1, 0, MEM_B, (void **)&peer));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		/* fault, drop the pages, fault again, until SIGBUS */
		for (;;) {
			for (size_t i = 0; i < MEM_B; i += PAGE)
				((volatile unsigned char *)peer)[i]++;
			madvise(peer, MEM_B, MADV_DONTNEED);
		}
	}
	usleep(100 * 1000);
	ASSERT_EQ(0, ha_cap_set(self->fd, 0, 1, 0));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS)
		TH_LOG("status %#x", status);
	EXPECT_EQ(SIGBUS, touch_in_child(peer, MEM_B));
	munmap(peer, MEM_B);
}

TEST_HARNESS_MAIN
