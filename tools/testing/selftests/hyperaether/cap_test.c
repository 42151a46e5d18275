// SPDX-License-Identifier: GPL-2.0
/*
 * Capabilities: default deny, set and revoke, a denied send that leaves the
 * receiver with nothing, the receive side of an edge, VM fds whose rights
 * narrow but never widen, granting, and enumerating edges and VMs.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hyperaether.h"
#include "kselftest_harness.h"
#include "fabric.h"

#define SEND	HYPERAETHER_CAP_SEND
#define RECV	HYPERAETHER_CAP_RECV
#define SHARE	HYPERAETHER_CAP_SHARE
#define GRANT	HYPERAETHER_CAP_GRANT
#define NVM	4

static int ioctl_err(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) < 0 ? errno : 0;
}

/* A fabric with VMs 0..3 and a full-rights VM fd for each. */
FIXTURE(fab) {
	int fd;
	int vm[NVM];
};

FIXTURE_SETUP(fab)
{
	fabric_with_vms(_metadata, &self->fd, NULL, self->vm, NVM);
}

FIXTURE_TEARDOWN(fab)
{
	for (int i = 0; i < NVM; i++)
		close(self->vm[i]);
	close(self->fd);
}

/* Nothing waiting for VM fd @vfd. */
static int inbox_empty(int vfd)
{
	char buf[64];
	__u32 len = sizeof(buf);

	return ha_msg_recv(vfd, buf, &len, HYPERAETHER_MSG_NONBLOCK) == -EAGAIN;
}

static __u64 denials(int fd, __u32 id)
{
	struct hyperaether_vm_query vq;

	if (ha_vm_query(fd, id, &vq))
		return ~0ULL;
	return vq.usage.denials;
}

TEST_F(fab, default_deny)
{
	struct hyperaether_cap edges[4];
	__u32 rights, count = 4;

	for (int s = 0; s < NVM; s++)
		for (int d = 0; d < NVM; d++) {
			ASSERT_EQ(0, ha_cap_get(self->fd, s, d, &rights));
			EXPECT_EQ(0, rights);
		}
	ASSERT_EQ(0, ha_cap_list(self->fd, edges, &count));
	EXPECT_EQ(0, count);

	EXPECT_EQ(-EACCES, ha_msg_send(self->vm[0], 1, "hello", 5));
	EXPECT_EQ(-EACCES, ha_msg_send(self->vm[0], 0, "self", 4));
	EXPECT_TRUE(inbox_empty(self->vm[1]));
	EXPECT_TRUE(inbox_empty(self->vm[0]));
	EXPECT_EQ(2, denials(self->fd, 0));
	EXPECT_EQ(0, denials(self->fd, 1));
}

/* A message needs SEND on (src, dst) and RECV on (dst, src). */
TEST_F(fab, both_sides_needed_and_revocable)
{
	char buf[64];
	struct hyperaether_msg_hdr *hdr = (void *)buf;
	struct hyperaether_vm_query vq;
	__u32 len;

	ASSERT_EQ(0, ha_cap_set(self->fd, 0, 1, SEND));
	EXPECT_EQ(-EACCES, ha_msg_send(self->vm[0], 1, "a", 1));
	EXPECT_TRUE(inbox_empty(self->vm[1]));

	ASSERT_EQ(0, ha_cap_set(self->fd, 0, 1, 0));
	ASSERT_EQ(0, ha_cap_set(self->fd, 1, 0, RECV));
	EXPECT_EQ(-EACCES, ha_msg_send(self->vm[0], 1, "b", 1));
	EXPECT_TRUE(inbox_empty(self->vm[1]));

	/* the wrong directions do not count either */
	ASSERT_EQ(0, ha_cap_set(self->fd, 1, 0, SEND));
	ASSERT_EQ(0, ha_cap_set(self->fd, 0, 1, RECV));
	EXPECT_EQ(-EACCES, ha_msg_send(self->vm[0], 1, "c", 1));
	EXPECT_TRUE(inbox_empty(self->vm[1]));

	ASSERT_EQ(0, ha_cap_set(self->fd, 0, 1, SEND | RECV));
	ASSERT_EQ(0, ha_cap_set(self->fd, 1, 0, RECV));
	ASSERT_EQ(0, ha_msg_send(self->vm[0], 1, "d", 1));
	len = sizeof(buf);
	ASSERT_EQ(0, ha_msg_recv(self->vm[1], buf, &len, HYPERAETHER_MSG_NONBLOCK));
	EXPECT_EQ(sizeof(*hdr) + 1, len);
	EXPECT_EQ(0, hdr->src);
	EXPECT_EQ(1, hdr->len);
	EXPECT_EQ('d', buf[sizeof(*hdr)]);

	/* revoking SEND stops the next one */
	ASSERT_EQ(0, ha_cap_set(self->fd, 0, 1, RECV));
	EXPECT_EQ(-EACCES, ha_msg_send(self->vm[0], 1, "e", 1));
	EXPECT_TRUE(inbox_empty(self->vm[1]));
	/* and so does the receiver dropping RECV */
	ASSERT_EQ(0, ha_cap_set(self->fd, 0, 1, SEND));
	ASSERT_EQ(0, ha_cap_set(self->fd, 1, 0, 0));
	EXPECT_EQ(-EACCES, ha_msg_send(self->vm[0], 1, "f", 1));
	EXPECT_TRUE(inbox_empty(self->vm[1]));

	ASSERT_EQ(0, ha_vm_query(self->fd, 0, &vq));
	EXPECT_EQ(5, vq.usage.denials);	/* a, b, c, e, f */
	EXPECT_EQ(1, vq.usage.msgs_sent);
	ASSERT_EQ(0, ha_vm_query(self->fd, 1, &vq));
	EXPECT_EQ(1, vq.usage.msgs_received);
	EXPECT_EQ(0, vq.usage.queued);
}

TEST_F(fab, send_to_self)
{
	char buf[64];
	__u32 len = sizeof(buf);

	EXPECT_EQ(-EACCES, ha_msg_send(self->vm[2], 2, "s", 1));
	ASSERT_EQ(0, ha_cap_set(self->fd, 2, 2, SEND | RECV));
	ASSERT_EQ(0, ha_msg_send(self->vm[2], 2, "s", 1));
	ASSERT_EQ(0, ha_msg_recv(self->vm[2], buf, &len, HYPERAETHER_MSG_NONBLOCK));
	EXPECT_EQ(2, ((struct hyperaether_msg_hdr *)buf)->src);
}

TEST_F(fab, cap_set_rejects_bad_arguments)
{
	struct hyperaether_cap c = { .flags = 1, .src = 0, .dst = 1, .rights = SEND };
	__u32 rights;

	EXPECT_EQ(EINVAL, ioctl_err(self->fd, HYPERAETHER_IOC_CAP_SET, &c));
	c.flags = 0;
	c.rights = HYPERAETHER_CAP_ALL + 1;
	EXPECT_EQ(EINVAL, ioctl_err(self->fd, HYPERAETHER_IOC_CAP_SET, &c));
	c.rights = 0x80000000u;
	EXPECT_EQ(EINVAL, ioctl_err(self->fd, HYPERAETHER_IOC_CAP_SET, &c));
	c.rights = SEND;
	c.flags = 4;
	EXPECT_EQ(EINVAL, ioctl_err(self->fd, HYPERAETHER_IOC_CAP_GET, &c));
	EXPECT_EQ(-ENOENT, ha_cap_set(self->fd, 0, NVM, SEND));
	EXPECT_EQ(-ENOENT, ha_cap_set(self->fd, 1000, 0, SEND));
	EXPECT_EQ(-ENOENT, ha_cap_get(self->fd, NVM, 0, &rights));
	ASSERT_EQ(0, ha_cap_get(self->fd, 0, 1, &rights));
	EXPECT_EQ(0, rights);
}

TEST_F(fab, cap_list_is_row_major)
{
	static const struct { __u32 s, d, r; } set[] = {
		{ 3, 0, SEND }, { 0, 2, RECV | SHARE }, { 1, 1, GRANT },
		{ 0, 1, HYPERAETHER_CAP_ALL }, { 2, 3, SEND | RECV }, { 3, 3, SHARE },
	};
	static const struct { __u32 s, d, r; } want[] = {
		{ 0, 1, HYPERAETHER_CAP_ALL }, { 0, 2, RECV | SHARE }, { 1, 1, GRANT },
		{ 2, 3, SEND | RECV }, { 3, 0, SEND }, { 3, 3, SHARE },
	};
	struct hyperaether_cap edges[8];
	__u32 count;

	for (size_t i = 0; i < 6; i++)
		ASSERT_EQ(0, ha_cap_set(self->fd, set[i].s, set[i].d, set[i].r));
	memset(edges, 0xcc, sizeof(edges));
	count = 8;
	ASSERT_EQ(0, ha_cap_list(self->fd, edges, &count));
	ASSERT_EQ(6, count);
	for (size_t i = 0; i < 6; i++) {
		EXPECT_EQ(want[i].s, edges[i].src);
		EXPECT_EQ(want[i].d, edges[i].dst);
		EXPECT_EQ(want[i].r, edges[i].rights);
	}
	EXPECT_EQ(0xcccccccc, edges[6].src);

	memset(edges, 0xcc, sizeof(edges));
	count = 2;
	ASSERT_EQ(0, ha_cap_list(self->fd, edges, &count));
	EXPECT_EQ(6, count);
	EXPECT_EQ(0, edges[1].src);
	EXPECT_EQ(2, edges[1].dst);
	EXPECT_EQ(0xcccccccc, edges[2].src);

	/* revoked edges and removed VMs' edges (from and to it) disappear */
	ASSERT_EQ(0, ha_cap_set(self->fd, 0, 1, 0));
	ASSERT_EQ(0, ha_vm_remove(self->fd, 3));
	count = 8;
	ASSERT_EQ(0, ha_cap_list(self->fd, edges, &count));
	ASSERT_EQ(2, count);
	EXPECT_EQ(0, edges[0].src);
	EXPECT_EQ(2, edges[0].dst);
	EXPECT_EQ(RECV | SHARE, edges[0].rights);
	EXPECT_EQ(1, edges[1].src);
	EXPECT_EQ(1, edges[1].dst);
	EXPECT_EQ(GRANT, edges[1].rights);
}

/* A VM added in a slot of a removed one starts with no rights at all. */
TEST_F(fab, new_vm_in_old_slot_has_no_rights)
{
	__u32 id, rights;

	ASSERT_EQ(0, ha_cap_set(self->fd, 1, 2, HYPERAETHER_CAP_ALL));
	ASSERT_EQ(0, ha_cap_set(self->fd, 2, 1, HYPERAETHER_CAP_ALL));
	ASSERT_EQ(0, ha_vm_remove(self->fd, 1));
	ASSERT_EQ(0, ha_vm_add(self->fd, "fresh", 0, NULL, 0, &id));
	ASSERT_EQ(1, id);
	ASSERT_EQ(0, ha_cap_get(self->fd, 1, 2, &rights));
	EXPECT_EQ(0, rights);
	ASSERT_EQ(0, ha_cap_get(self->fd, 2, 1, &rights));
	EXPECT_EQ(0, rights);
}

TEST_F(fab, vmfd_rights_are_enforced)
{
	struct hyperaether_vm_query vq;
	char buf[64];
	__u32 len = sizeof(buf);
	int s, r;

	ASSERT_EQ(0, ha_cap_set(self->fd, 0, 1, SEND));
	ASSERT_EQ(0, ha_cap_set(self->fd, 1, 0, RECV));
	s = ha_vm_export(self->fd, 0, HYPERAETHER_VMFD_RECV, 0);
	r = ha_vm_export(self->fd, 1, HYPERAETHER_VMFD_SEND, 0);
	ASSERT_GE(s, 0);
	ASSERT_GE(r, 0);
	ASSERT_EQ(0, ha_vm_query(s, HYPERAETHER_VM_SELF, &vq));
	EXPECT_EQ(0, vq.id);
	EXPECT_EQ(HYPERAETHER_VMFD_RECV, vq.rights);
	EXPECT_EQ(-EPERM, ha_msg_send(s, 1, "x", 1));
	EXPECT_TRUE(inbox_empty(self->vm[1]));
	ASSERT_EQ(0, ha_msg_send(self->vm[0], 1, "y", 1));
	EXPECT_EQ(-EPERM, ha_msg_recv(r, buf, &len, HYPERAETHER_MSG_NONBLOCK));
	/* still there for a fd that may receive */
	len = sizeof(buf);
	EXPECT_EQ(0, ha_msg_recv(self->vm[1], buf, &len, HYPERAETHER_MSG_NONBLOCK));
	EXPECT_EQ('y', buf[sizeof(struct hyperaether_msg_hdr)]);
	close(s);
	close(r);
}

/* Capsicum's rule: rights narrow, never widen. */
TEST_F(fab, limit_and_dup_never_widen)
{
	struct hyperaether_vm_query vq;
	struct hyperaether_vm_fd vf = { .id = 1, .rights = HYPERAETHER_VMFD_RECV };
	int d, d2;

	ASSERT_EQ(0, ha_vmfd_limit(self->vm[0], HYPERAETHER_VMFD_SEND | HYPERAETHER_VMFD_RECV |
					       HYPERAETHER_VMFD_DUP));
	ASSERT_EQ(0, ha_vm_query(self->vm[0], HYPERAETHER_VM_SELF, &vq));
	EXPECT_EQ(HYPERAETHER_VMFD_SEND | HYPERAETHER_VMFD_RECV | HYPERAETHER_VMFD_DUP,
		  vq.rights);
	EXPECT_EQ(-EPERM, ha_vmfd_limit(self->vm[0], HYPERAETHER_VMFD_ALL));
	EXPECT_EQ(-EPERM, ha_vmfd_limit(self->vm[0], HYPERAETHER_VMFD_MAP));
	EXPECT_EQ(-EPERM, ha_vmfd_dup(self->vm[0], HYPERAETHER_VMFD_SEND | HYPERAETHER_VMFD_GRANT, 0));
	/* the same set is fine */
	EXPECT_EQ(0, ha_vmfd_limit(self->vm[0], HYPERAETHER_VMFD_SEND | HYPERAETHER_VMFD_RECV |
					       HYPERAETHER_VMFD_DUP));

	d = ha_vmfd_dup(self->vm[0], HYPERAETHER_VMFD_SEND, 0);
	ASSERT_GE(d, 0);
	EXPECT_NE(0, fcntl(d, F_GETFD) & FD_CLOEXEC);
	ASSERT_EQ(0, ha_vm_query(d, HYPERAETHER_VM_SELF, &vq));
	EXPECT_EQ(0, vq.id);
	EXPECT_EQ(HYPERAETHER_VMFD_SEND, vq.rights);
	/* the dup has no DUP right: it cannot make more fds */
	EXPECT_EQ(-EPERM, ha_vmfd_dup(d, HYPERAETHER_VMFD_SEND, 0));
	EXPECT_EQ(-EPERM, ha_vmfd_dup(d, 0, 0));
	EXPECT_EQ(-EPERM, ha_vmfd_limit(d, HYPERAETHER_VMFD_SEND | HYPERAETHER_VMFD_RECV));
	EXPECT_EQ(0, ha_vmfd_limit(d, 0));
	ASSERT_EQ(0, ha_vm_query(d, HYPERAETHER_VM_SELF, &vq));
	EXPECT_EQ(0, vq.rights);
	/* narrowing one fd leaves the others as they were */
	ASSERT_EQ(0, ha_vm_query(self->vm[0], HYPERAETHER_VM_SELF, &vq));
	EXPECT_EQ(HYPERAETHER_VMFD_SEND | HYPERAETHER_VMFD_RECV | HYPERAETHER_VMFD_DUP,
		  vq.rights);

	d2 = ha_vmfd_dup(self->vm[0], HYPERAETHER_VMFD_RECV | HYPERAETHER_VMFD_DUP,
			 HYPERAETHER_VMFD_F_INHERIT);
	ASSERT_GE(d2, 0);
	EXPECT_EQ(0, fcntl(d2, F_GETFD) & FD_CLOEXEC);
	/* id must be 0 on DUP and LIMIT; unknown flags are refused */
	EXPECT_EQ(EINVAL, ioctl_err(d2, HYPERAETHER_IOC_VMFD_DUP, &vf));
	EXPECT_EQ(EINVAL, ioctl_err(d2, HYPERAETHER_IOC_VMFD_LIMIT, &vf));
	vf.id = 0;
	vf.flags = 2;
	EXPECT_EQ(EINVAL, ioctl_err(d2, HYPERAETHER_IOC_VMFD_DUP, &vf));
	close(d);
	close(d2);
}

/* A VM fd sees its own VM only. */
TEST_F(fab, vmfd_queries_own_vm_only)
{
	struct hyperaether_vm_query vq;
	__u32 rights;

	ASSERT_EQ(0, ha_cap_set(self->fd, 0, 1, SEND | SHARE));
	ASSERT_EQ(0, ha_cap_set(self->fd, 1, 2, RECV));
	ASSERT_EQ(0, ha_vm_query(self->vm[0], 0, &vq));
	EXPECT_STREQ("vm0", vq.name);
	EXPECT_EQ(-EPERM, ha_vm_query(self->vm[0], 1, &vq));
	ASSERT_EQ(0, ha_cap_get(self->vm[0], 0, 1, &rights));
	EXPECT_EQ(SEND | SHARE, rights);
	EXPECT_EQ(-EPERM, ha_cap_get(self->vm[0], 1, 2, &rights));
	EXPECT_EQ(-EPERM, ha_cap_get(self->vm[0], 1, 0, &rights));
}

TEST_F(fab, grant_rules)
{
	__u32 rights;
	int nogrant, ret;

	/* VM 0 holds SEND|GRANT on 3 */
	ASSERT_EQ(0, ha_cap_set(self->fd, 0, 3, SEND | GRANT));
	ASSERT_EQ(0, ha_cap_set(self->fd, 1, 3, RECV));
	ASSERT_EQ(0, ha_cap_grant(self->vm[0], 1, 3, SEND));
	ASSERT_EQ(0, ha_cap_get(self->fd, 1, 3, &rights));
	EXPECT_EQ(SEND | RECV, rights);	/* added, not replaced */

	/* rights VM 0 does not hold itself */
	EXPECT_EQ(-EPERM, ha_cap_grant(self->vm[0], 2, 3, RECV));
	EXPECT_EQ(-EPERM, ha_cap_grant(self->vm[0], 2, 3, SEND | SHARE));
	/* no GRANT on (0, 2) */
	ASSERT_EQ(0, ha_cap_set(self->fd, 0, 2, SEND));
	EXPECT_EQ(-EPERM, ha_cap_grant(self->vm[0], 1, 2, SEND));
	ASSERT_EQ(0, ha_cap_get(self->fd, 1, 2, &rights));
	EXPECT_EQ(0, rights);
	/* a fd without VMFD_GRANT */
	nogrant = ha_vm_export(self->fd, 0, HYPERAETHER_VMFD_ALL & ~HYPERAETHER_VMFD_GRANT, 0);
	ASSERT_GE(nogrant, 0);
	EXPECT_EQ(-EPERM, ha_cap_grant(nogrant, 2, 3, SEND));
	ASSERT_EQ(0, ha_cap_get(self->fd, 2, 3, &rights));
	EXPECT_EQ(0, rights);
	/* GRANT itself can be passed on, and then used by the grantee */
	ASSERT_EQ(0, ha_cap_grant(self->vm[0], 2, 3, SEND | GRANT));
	ASSERT_EQ(0, ha_cap_grant(self->vm[2], 1, 3, GRANT));
	ASSERT_EQ(0, ha_cap_get(self->fd, 1, 3, &rights));
	EXPECT_EQ(SEND | RECV | GRANT, rights);
	/* unknown ids (no right can be held on them either) and bad arguments */
	ret = ha_cap_grant(self->vm[0], 1, NVM, SEND);
	EXPECT_TRUE(ret == -ENOENT || ret == -EPERM) TH_LOG("grant to no VM: %d", ret);
	ret = ha_cap_grant(self->vm[0], NVM + 1, 3, SEND);
	EXPECT_TRUE(ret == -ENOENT || ret == -EPERM) TH_LOG("grant for no VM: %d", ret);
	EXPECT_EQ(-EINVAL, ha_cap_grant(self->vm[0], 1, 3, HYPERAETHER_CAP_ALL + 1));
	close(nogrant);
}

/* The granted edge really carries messages. */
TEST_F(fab, granted_send_delivers)
{
	char buf[64];
	__u32 len = sizeof(buf);

	ASSERT_EQ(0, ha_cap_set(self->fd, 0, 3, SEND | GRANT));
	ASSERT_EQ(0, ha_cap_set(self->fd, 3, 1, RECV));
	EXPECT_EQ(-EACCES, ha_msg_send(self->vm[1], 3, "g", 1));
	ASSERT_EQ(0, ha_cap_grant(self->vm[0], 1, 3, SEND));
	ASSERT_EQ(0, ha_msg_send(self->vm[1], 3, "g", 1));
	ASSERT_EQ(0, ha_msg_recv(self->vm[3], buf, &len, HYPERAETHER_MSG_NONBLOCK));
	EXPECT_EQ(1, ((struct hyperaether_msg_hdr *)buf)->src);
}

static int send_fd(int sock, int fd)
{
	char c = 'F';
	struct iovec iov = { .iov_base = &c, .iov_len = 1 };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u = { };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = u.buf, .msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &mh, 0) == 1 ? 0 : -errno;
}

static int recv_fd(int sock)
{
	char c;
	struct iovec iov = { .iov_base = &c, .iov_len = 1 };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = u.buf, .msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(sock, &mh, 0) != 1)
		return -1;
	cm = CMSG_FIRSTHDR(&mh);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

/*
 * Object capabilities: a process that holds nothing but one VM fd, passed
 * over a unix socket, acts as that VM within the fd's rights and nothing
 * else.  The child's exit code names the first check that failed.
 */
TEST_F(fab, vm_fd_passed_to_another_process)
{
	struct hyperaether_msg_hdr hdr;
	char buf[64];
	__u32 len = sizeof(buf);
	int sv[2], status, vfd;
	pid_t pid;

	ASSERT_EQ(0, ha_cap_set(self->fd, 1, 2, SEND));
	ASSERT_EQ(0, ha_cap_set(self->fd, 2, 1, RECV | SEND));
	ASSERT_EQ(0, ha_cap_set(self->fd, 1, 2, SEND | RECV));
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		struct hyperaether_vm_query vq;
		struct hyperaether_vm_add va = { .name = "evil" };
		char rbuf[64];
		__u32 rlen = sizeof(rbuf);
		int fd;

		/* keep nothing of the parent's but the socket */
		close(self->fd);
		for (int i = 0; i < NVM; i++)
			close(self->vm[i]);
		close(sv[0]);
		fd = recv_fd(sv[1]);
		if (fd < 0)
			_exit(10);
		if (ha_vm_query(fd, HYPERAETHER_VM_SELF, &vq) || vq.id != 1 ||
		    vq.rights != (HYPERAETHER_VMFD_SEND | HYPERAETHER_VMFD_RECV))
			_exit(11);
		if (ha_msg_send(fd, 2, "child", 5))
			_exit(12);
		if (ha_msg_send(fd, 3, "child", 5) != -EACCES)
			_exit(13);
		if (ha_vm_query(fd, 2, &vq) != -EPERM)
			_exit(14);
		if (ioctl(fd, HYPERAETHER_IOC_VM_ADD, &va) != -1 || errno != ENOTTY)
			_exit(15);
		if (ha_vmfd_dup(fd, HYPERAETHER_VMFD_SEND, 0) != -EPERM)
			_exit(16);
		if (ha_msg_recv(fd, rbuf, &rlen, 0) || ((struct hyperaether_msg_hdr *)rbuf)->src != 2)
			_exit(17);
		_exit(0);
	}
	close(sv[1]);
	vfd = ha_vm_export(self->fd, 1, HYPERAETHER_VMFD_SEND | HYPERAETHER_VMFD_RECV, 0);
	ASSERT_GE(vfd, 0);
	ASSERT_EQ(0, send_fd(sv[0], vfd));
	close(vfd);
	ASSERT_EQ(0, ha_msg_recv(self->vm[2], buf, &len, 0));
	memcpy(&hdr, buf, sizeof(hdr));
	EXPECT_EQ(1, hdr.src);
	EXPECT_EQ(0, memcmp(buf + sizeof(hdr), "child", 5));
	ASSERT_EQ(0, ha_msg_send(self->vm[2], 1, "parent", 6));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("child status %#x", status);
	close(sv[0]);
}

TEST_HARNESS_MAIN
