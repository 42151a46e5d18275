// SPDX-License-Identifier: GPL-2.0
/*
 * Who may open /dev/hyperaether: the module registers the node 0660, the
 * installed udev rule hands it to group "hyperaether".  Run as root; the
 * test gives the node a test group the way the rule would, then forks
 * children that drop to an unprivileged uid with and without that group.
 * A member can use the device as any owner can, and no more than its fds
 * allow; everyone else gets EACCES.  The node is restored afterwards.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hyperaether.h"
#include "kselftest_harness.h"

#define TEST_GID	4242	/* stands for the "hyperaether" group */
#define TEST_UID	4343	/* an ordinary user, with a group of its own */

/* Run @fn in a child as TEST_UID with supplementary groups @groups. */
static int run_as_user(const gid_t *groups, int ngroups, int (*fn)(void))
{
	int status;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		if (setgroups(ngroups, groups) || setgid(TEST_UID) || setuid(TEST_UID))
			_exit(100);
		/* No way back: a real user, not root in disguise. */
		if (setuid(0) == 0 || geteuid() == 0 || getegid() == 0)
			_exit(101);
		_exit(fn());
	}
	if (waitpid(pid, &status, 0) != pid)
		return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Exit codes of the children below: 0 is success, anything else says what failed. */
static int open_denied(void)
{
	int fd;

	fd = open(HA_DEV_PATH, O_RDWR | O_CLOEXEC);
	if (fd >= 0 || errno != EACCES)
		return 1;
	fd = open(HA_DEV_PATH, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 || errno != EACCES)
		return 2;
	fd = open(HA_DEV_PATH, O_WRONLY | O_CLOEXEC);
	if (fd >= 0 || errno != EACCES)
		return 3;
	return 0;
}

static int open_and_query(void)
{
	struct hyperaether_info info;
	int fd;

	fd = ha_open();
	if (fd < 0)
		return 1;
	if (ha_get_info(fd, &info) || info.api_major != HYPERAETHER_API_MAJOR)
		return 2;
	close(fd);
	return 0;
}

/*
 * A member builds its own fabric (no privilege needed) and hands itself VM
 * fds with narrow rights: each does what its rights allow and nothing else.
 */
static int fabric_within_rights(void)
{
	char buf[64];
	__u32 a, b, len = sizeof(buf);
	int fd, va, vb;

	fd = ha_open();
	if (fd < 0)
		return 1;
	if (ha_fabric_create(fd, NULL, NULL) ||
	    ha_vm_add(fd, "a", HYPERAETHER_BACKEND_NONE, NULL, 0, &a) ||
	    ha_vm_add(fd, "b", HYPERAETHER_BACKEND_NONE, NULL, 0, &b))
		return 2;
	if (ha_cap_set(fd, a, b, HYPERAETHER_CAP_SEND) || ha_cap_set(fd, b, a, HYPERAETHER_CAP_RECV))
		return 3;
	va = ha_vm_export(fd, a, HYPERAETHER_VMFD_SEND, 0);
	vb = ha_vm_export(fd, b, HYPERAETHER_VMFD_RECV, 0);
	if (va < 0 || vb < 0)
		return 4;
	if (ha_msg_send(va, b, "hi", 2))
		return 5;
	if (ha_msg_recv(vb, buf, &len, HYPERAETHER_MSG_NONBLOCK) ||
	    len != sizeof(struct hyperaether_msg_hdr) + 2)
		return 6;
	/* The rights the fds were not given. */
	len = sizeof(buf);
	if (ha_msg_recv(va, buf, &len, HYPERAETHER_MSG_NONBLOCK) != -EPERM)
		return 7;
	if (ha_msg_send(vb, a, "no", 2) != -EPERM)
		return 8;
	if (ha_vmfd_dup(va, HYPERAETHER_VMFD_SEND, 0) != -EPERM)
		return 9;
	/* A VM fd is not an owner: it cannot add VMs or change edges. */
	if (ha_vm_add(va, "c", HYPERAETHER_BACKEND_NONE, NULL, 0, NULL) >= 0)
		return 10;
	if (ha_cap_set(va, a, a, HYPERAETHER_CAP_ALL) >= 0)
		return 11;
	close(vb);
	close(va);
	close(fd);
	return 0;
}

FIXTURE(node) {
	struct stat orig;	/* owner and mode as the test found them */
};

FIXTURE_SETUP(node)
{
	if (geteuid() != 0)
		SKIP(return, "needs root to change the node and drop privileges");
	ASSERT_EQ(0, stat(HA_DEV_PATH, &self->orig))
		TH_LOG("stat %s: %s", HA_DEV_PATH, strerror(errno));
	ASSERT_TRUE(S_ISCHR(self->orig.st_mode));
	/* What the udev rule does. */
	ASSERT_EQ(0, chown(HA_DEV_PATH, 0, TEST_GID));
	ASSERT_EQ(0, chmod(HA_DEV_PATH, 0660));
}

FIXTURE_TEARDOWN(node)
{
	if (geteuid() != 0)
		return;
	EXPECT_EQ(0, chown(HA_DEV_PATH, self->orig.st_uid, self->orig.st_gid));
	EXPECT_EQ(0, chmod(HA_DEV_PATH, self->orig.st_mode & 07777));
}

/* The module's own default, before any rule: owner and group only. */
TEST_F(node, registered_not_world_accessible)
{
	EXPECT_EQ(0, self->orig.st_mode & 0007)
		TH_LOG("%s is mode %o", HA_DEV_PATH, self->orig.st_mode & 07777);
	EXPECT_EQ(0660, self->orig.st_mode & 0777);
}

TEST_F(node, outsider_gets_eacces)
{
	EXPECT_EQ(0, run_as_user(NULL, 0, open_denied));
}

/* Another group is no better than none. */
TEST_F(node, other_group_gets_eacces)
{
	gid_t other = TEST_GID + 1;

	EXPECT_EQ(0, run_as_user(&other, 1, open_denied));
}

TEST_F(node, member_opens_and_queries)
{
	gid_t grp = TEST_GID;

	EXPECT_EQ(0, run_as_user(&grp, 1, open_and_query));
}

TEST_F(node, member_does_what_its_fds_allow)
{
	gid_t grp = TEST_GID;

	EXPECT_EQ(0, run_as_user(&grp, 1, fabric_within_rights));
}

/* Membership is checked at open: without it, the same user is refused. */
TEST_F(node, member_leaving_group_loses_access)
{
	gid_t grp = TEST_GID;

	ASSERT_EQ(0, run_as_user(&grp, 1, open_and_query));
	EXPECT_EQ(0, run_as_user(NULL, 0, open_denied));
}

/* The rule's mode without the group bits would lock members out too. */
TEST_F(node, member_needs_group_bits)
{
	gid_t grp = TEST_GID;

	ASSERT_EQ(0, chmod(HA_DEV_PATH, 0600));
	EXPECT_EQ(0, run_as_user(&grp, 1, open_denied));
}

TEST_HARNESS_MAIN
