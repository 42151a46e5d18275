// SPDX-License-Identifier: GPL-2.0
/*
 * Channels as io_uring uring_cmd on a VM fd: send and receive, 64 SQEs per
 * submit, a parked receive completed by a later send, a ring that goes
 * away with a receive parked, and the same errors as the ioctls; SEND_BATCH
 * (one SQE, many messages) with partial batches and bad input.
 */
#include <errno.h>
#include <liburing.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hyperaether.h"
#include "kselftest_harness.h"
#include "fabric.h"

#define HDR		sizeof(struct hyperaether_msg_hdr)
#define SEND_RECV	(HYPERAETHER_CAP_SEND | HYPERAETHER_CAP_RECV)
#define DEPTH		64
#define NVM		3

FIXTURE(ring) {
	int fd;
	int vm[NVM];
	struct io_uring ring;
	int ring_up;
};

FIXTURE_SETUP(ring)
{
	struct hyperaether_quota q = { .queue_depth = DEPTH };

	fabric_with_vms(_metadata, &self->fd, &q, self->vm, NVM);
	/* 0 <-> 1 may talk; 2 is cut off */
	ASSERT_EQ(0, ha_cap_set(self->fd, 0, 1, SEND_RECV));
	ASSERT_EQ(0, ha_cap_set(self->fd, 1, 0, SEND_RECV));
	ASSERT_EQ(0, io_uring_queue_init(2 * DEPTH, &self->ring, 0));
	self->ring_up = 1;
}

FIXTURE_TEARDOWN(ring)
{
	if (self->ring_up)
		io_uring_queue_exit(&self->ring);
	for (int i = 0; i < NVM; i++)
		close(self->vm[i]);
	close(self->fd);
}

struct rx {
	struct hyperaether_msg_hdr hdr;
	unsigned char data[HYPERAETHER_MSG_MAX];
};

/* Wait for one completion; returns its res and user_data. */
static int reap(struct io_uring *ring, __u64 *ud, int timeout_ms)
{
	struct __kernel_timespec ts = {
		.tv_sec = timeout_ms / 1000, .tv_nsec = (timeout_ms % 1000) * 1000000LL,
	};
	struct io_uring_cqe *cqe;
	int ret;

	ret = io_uring_wait_cqe_timeout(ring, &cqe, &ts);
	if (ret)
		return ret == -ETIME ? -ETIME - 10000 : ret - 10000;
	ret = cqe->res;
	if (ud)
		*ud = cqe->user_data;
	io_uring_cqe_seen(ring, cqe);
	return ret;
}

#define NO_CQE		(-ETIME - 10000)

TEST_F(ring, send_and_receive)
{
	struct rx rx;
	__u32 len = sizeof(rx);

	ASSERT_EQ(0, ha_uring_send(&self->ring, self->vm[0], 1, "uring", 5));
	ASSERT_EQ(HDR + 5, ha_uring_recv(&self->ring, self->vm[1], &rx, sizeof(rx)));
	EXPECT_EQ(0, rx.hdr.src);
	EXPECT_EQ(5, rx.hdr.len);
	EXPECT_EQ(1, rx.hdr.seq);
	EXPECT_EQ(0, memcmp(rx.data, "uring", 5));

	/* and they mix with the ioctls, sharing one inbox and one counter */
	ASSERT_EQ(0, ha_msg_send(self->vm[1], 0, "ioctl", 5));
	ASSERT_EQ(HDR + 5, ha_uring_recv(&self->ring, self->vm[0], &rx, sizeof(rx)));
	EXPECT_EQ(1, rx.hdr.src);
	EXPECT_EQ(2, rx.hdr.seq);
	ASSERT_EQ(0, ha_uring_send(&self->ring, self->vm[1], 0, "back", 4));
	ASSERT_EQ(0, ha_msg_recv(self->vm[0], &rx, &len, HYPERAETHER_MSG_NONBLOCK));
	EXPECT_EQ(3, rx.hdr.seq);
}

TEST_F(ring, batch_of_64)
{
	static struct rx rx[DEPTH];
	__u64 seen = 0, last_seq = 0;
	__u32 vals[DEPTH];
	struct io_uring_sqe *sqe;

	for (int i = 0; i < DEPTH; i++) {
		vals[i] = 1000 + i;
		sqe = io_uring_get_sqe(&self->ring);
		ASSERT_NE(NULL, sqe);
		ha_uring_prep_send(sqe, self->vm[0], 1, &vals[i], sizeof(vals[i]));
		io_uring_sqe_set_data64(sqe, i);
	}
	ASSERT_EQ(DEPTH, io_uring_submit(&self->ring));
	for (int i = 0; i < DEPTH; i++) {
		__u64 ud;

		ASSERT_EQ(0, reap(&self->ring, &ud, 5000));
	}
	/* the inbox is full now: one more is EAGAIN */
	ASSERT_EQ(-EAGAIN, ha_uring_send(&self->ring, self->vm[0], 1, vals, 4));

	for (int i = 0; i < DEPTH; i++) {
		sqe = io_uring_get_sqe(&self->ring);
		ASSERT_NE(NULL, sqe);
		ha_uring_prep_recv(sqe, self->vm[1], &rx[i], sizeof(rx[i]));
		io_uring_sqe_set_data64(sqe, i);
	}
	ASSERT_EQ(DEPTH, io_uring_submit(&self->ring));
	for (int i = 0; i < DEPTH; i++) {
		__u64 ud;

		ASSERT_EQ(HDR + 4, reap(&self->ring, &ud, 5000));
		ASSERT_LT(ud, DEPTH);
		seen |= 1ULL << ud;
	}
	EXPECT_EQ(~0ULL, seen);
	/* each message exactly once: sorted by seq, the payloads count up */
	for (__u32 k = 0; k < DEPTH; k++) {
		int found = 0;

		for (int i = 0; i < DEPTH; i++) {
			if (rx[i].hdr.seq != last_seq + 1)
				continue;
			EXPECT_EQ(1000 + k, *(__u32 *)rx[i].data);
			found++;
		}
		ASSERT_EQ(1, found);
		last_seq++;
	}
}

TEST_F(ring, parked_receive_completes_on_send)
{
	struct io_uring_sqe *sqe;
	struct rx rx;
	__u64 ud;

	sqe = io_uring_get_sqe(&self->ring);
	ASSERT_NE(NULL, sqe);
	ha_uring_prep_recv(sqe, self->vm[1], &rx, sizeof(rx));
	io_uring_sqe_set_data64(sqe, 77);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	EXPECT_EQ(NO_CQE, reap(&self->ring, NULL, 200));

	ASSERT_EQ(0, ha_msg_send(self->vm[0], 1, "parked", 6));
	ASSERT_EQ(HDR + 6, reap(&self->ring, &ud, 5000));
	EXPECT_EQ(77, ud);
	EXPECT_EQ(0, memcmp(rx.data, "parked", 6));

	/* parked, then completed by a uring send from the same ring */
	sqe = io_uring_get_sqe(&self->ring);
	ha_uring_prep_recv(sqe, self->vm[0], &rx, sizeof(rx));
	io_uring_sqe_set_data64(sqe, 1);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	EXPECT_EQ(NO_CQE, reap(&self->ring, NULL, 100));
	sqe = io_uring_get_sqe(&self->ring);
	ha_uring_prep_send(sqe, self->vm[1], 0, "pong", 4);
	io_uring_sqe_set_data64(sqe, 2);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	for (int i = 0; i < 2; i++) {
		int res = reap(&self->ring, &ud, 5000);

		EXPECT_EQ(ud == 1 ? (int)(HDR + 4) : 0, res);
	}
	EXPECT_EQ(0, memcmp(rx.data, "pong", 4));
}

/* Several parked receives on one inbox: each message completes one. */
TEST_F(ring, many_parked_receives)
{
	static struct rx rx[8];
	struct io_uring_sqe *sqe;
	__u32 seen = 0;
	__u64 ud;

	for (int i = 0; i < 8; i++) {
		sqe = io_uring_get_sqe(&self->ring);
		ha_uring_prep_recv(sqe, self->vm[1], &rx[i], sizeof(rx[i]));
		io_uring_sqe_set_data64(sqe, i);
	}
	ASSERT_EQ(8, io_uring_submit(&self->ring));
	EXPECT_EQ(NO_CQE, reap(&self->ring, NULL, 100));
	for (__u32 i = 0; i < 8; i++) {
		ASSERT_EQ(0, ha_msg_send(self->vm[0], 1, &i, sizeof(i)));
		ASSERT_EQ(HDR + 4, reap(&self->ring, &ud, 5000));
		ASSERT_LT(ud, 8);
		EXPECT_EQ(i, *(__u32 *)rx[ud].data);
		seen |= 1u << *(__u32 *)rx[ud].data;
	}
	EXPECT_EQ(0xff, seen);
	EXPECT_EQ(NO_CQE, reap(&self->ring, NULL, 50));
}

/*
 * The ring goes away with a receive parked.  Its teardown is asynchronous:
 * a message sent right after close() may still complete the parked receive
 * (into its buffer) or find it cancelled and stay queued, but never both
 * and never neither; and the cancel does come, so later messages queue.
 */
TEST_F(ring, ring_exit_with_parked_receive)
{
	static struct rx ring_rx, rx;
	struct io_uring_sqe *sqe;
	__u32 len, tag, completed = 0, got = 0;

	memset(&ring_rx, 0, sizeof(ring_rx));
	sqe = io_uring_get_sqe(&self->ring);
	ha_uring_prep_recv(sqe, self->vm[1], &ring_rx, sizeof(ring_rx));
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	EXPECT_EQ(NO_CQE, reap(&self->ring, NULL, 100));
	io_uring_queue_exit(&self->ring);
	self->ring_up = 0;

	for (tag = 1; tag <= 50 && !got; tag++) {
		ASSERT_EQ(0, ha_msg_send(self->vm[0], 1, &tag, sizeof(tag)));
		len = sizeof(rx);
		if (ha_msg_recv(self->vm[1], &rx, &len, HYPERAETHER_MSG_NONBLOCK) == 0) {
			EXPECT_EQ(tag, *(__u32 *)rx.data);
			got = tag;
			break;
		}
		/* taken by the parked receive: it is in that buffer, once */
		EXPECT_EQ(0, completed) TH_LOG("message %u lost", tag);
		EXPECT_EQ(tag, *(__u32 *)ring_rx.data);
		completed = tag;
		usleep(100 * 1000);
	}
	EXPECT_NE(0, got) TH_LOG("the parked receive was never cancelled");
	len = sizeof(rx);
	EXPECT_EQ(-EAGAIN, ha_msg_recv(self->vm[1], &rx, &len, HYPERAETHER_MSG_NONBLOCK));
}

/* A process dies with receives parked in its ring. */
TEST_F(ring, killed_with_parked_receive)
{
	struct rx rx;
	__u32 len = sizeof(rx);
	int status;
	pid_t pid;

	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		struct io_uring r;
		struct io_uring_sqe *sqe;
		static struct rx crx[4];

		if (io_uring_queue_init(8, &r, 0))
			_exit(2);
		for (int i = 0; i < 4; i++) {
			sqe = io_uring_get_sqe(&r);
			ha_uring_prep_recv(sqe, self->vm[1], &crx[i], sizeof(crx[i]));
		}
		io_uring_submit(&r);
		pause();
		_exit(3);
	}
	usleep(300 * 1000);
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

	ASSERT_EQ(0, ha_msg_send(self->vm[0], 1, "mine", 4));
	ASSERT_EQ(0, ha_msg_recv(self->vm[1], &rx, &len, HYPERAETHER_MSG_NONBLOCK));
	EXPECT_EQ(0, memcmp(rx.data, "mine", 4));
}

/* A parked receive ends with -ENODEV when its VM is removed. */
TEST_F(ring, parked_receive_ends_on_removal)
{
	struct io_uring_sqe *sqe;
	struct rx rx;

	sqe = io_uring_get_sqe(&self->ring);
	ha_uring_prep_recv(sqe, self->vm[1], &rx, sizeof(rx));
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	EXPECT_EQ(NO_CQE, reap(&self->ring, NULL, 100));
	ASSERT_EQ(0, ha_vm_remove(self->fd, 1));
	EXPECT_EQ(-ENODEV, reap(&self->ring, NULL, 5000));
	EXPECT_EQ(-ENODEV, ha_uring_send(&self->ring, self->vm[1], 0, "x", 1));
	EXPECT_EQ(-ENODEV, ha_uring_recv(&self->ring, self->vm[1], &rx, sizeof(rx)));
}

/* A removed VM's fd is -ENODEV on the uring path too, whatever its rights. */
TEST_F(ring, removed_vm_fd_is_enodev_whatever_the_rights)
{
	static unsigned char big[HYPERAETHER_MSG_MAX + 1];
	struct rx rx;
	__u32 len = sizeof(rx);
	int ro = ha_vm_export(self->fd, 0, HYPERAETHER_VMFD_RECV, 0);
	int wo = ha_vm_export(self->fd, 0, HYPERAETHER_VMFD_SEND, 0);

	ASSERT_GE(ro, 0);
	ASSERT_GE(wo, 0);
	ASSERT_EQ(0, ha_vm_remove(self->fd, 0));
	/* the ioctls say so ... */
	EXPECT_EQ(-ENODEV, ha_msg_send(ro, 1, "x", 1));
	EXPECT_EQ(-ENODEV, ha_msg_send(wo, 1, big, sizeof(big)));
	EXPECT_EQ(-ENODEV, ha_msg_recv(wo, &rx, &len, HYPERAETHER_MSG_NONBLOCK));
	/* ... and so do the uring_cmds */
	EXPECT_EQ(-ENODEV, ha_uring_send(&self->ring, ro, 1, "x", 1));
	EXPECT_EQ(-ENODEV, ha_uring_send(&self->ring, wo, 1, big, sizeof(big)));
	EXPECT_EQ(-ENODEV, ha_uring_recv(&self->ring, wo, &rx, sizeof(rx)));
	close(ro);
	close(wo);
}

/* Every error the ioctl path has, the uring path has too. */
TEST_F(ring, errno_parity_with_ioctls)
{
	static unsigned char big[HYPERAETHER_MSG_MAX + 1];
	void *noaccess = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct io_uring_sqe *sqe;
	struct hyperaether_uring_msg m = { };
	struct rx rx;
	__u32 len;
	int nosend, norecv;

	ASSERT_NE(MAP_FAILED, noaccess);
#define BOTH_SEND(err, vfd, dst, buf, n) do { \
	EXPECT_EQ(err, ha_msg_send(vfd, dst, buf, n)); \
	EXPECT_EQ(err, ha_uring_send(&self->ring, vfd, dst, buf, n)); \
} while (0)
	BOTH_SEND(-EACCES, self->vm[0], 2, "x", 1);
	BOTH_SEND(-EACCES, self->vm[2], 0, "x", 1);
	BOTH_SEND(-ENOENT, self->vm[0], NVM, "x", 1);
	BOTH_SEND(-EMSGSIZE, self->vm[0], 1, big, HYPERAETHER_MSG_MAX + 1);
	BOTH_SEND(-EFAULT, self->vm[0], 1, noaccess, 8);
	nosend = ha_vm_export(self->fd, 0, HYPERAETHER_VMFD_ALL & ~HYPERAETHER_VMFD_SEND, 0);
	ASSERT_GE(nosend, 0);
	BOTH_SEND(-EPERM, nosend, 1, "x", 1);
	/* none of that reached anyone */
	len = sizeof(rx);
	EXPECT_EQ(-EAGAIN, ha_msg_recv(self->vm[1], &rx, &len, HYPERAETHER_MSG_NONBLOCK));
	len = sizeof(rx);
	EXPECT_EQ(-EAGAIN, ha_msg_recv(self->vm[0], &rx, &len, HYPERAETHER_MSG_NONBLOCK));

	/* a receive without VMFD_RECV */
	norecv = ha_vm_export(self->fd, 1, HYPERAETHER_VMFD_SEND, 0);
	ASSERT_GE(norecv, 0);
	EXPECT_EQ(-EPERM, ha_uring_recv(&self->ring, norecv, &rx, sizeof(rx)));

	/* too small a buffer: EMSGSIZE and the message stays */
	ASSERT_EQ(0, ha_msg_send(self->vm[0], 1, "0123456789", 10));
	EXPECT_EQ(-EMSGSIZE, ha_uring_recv(&self->ring, self->vm[1], &rx, HDR + 9));
	EXPECT_EQ(-EFAULT, ha_uring_recv(&self->ring, self->vm[1], noaccess, 64));
	EXPECT_EQ(HDR + 10, ha_uring_recv(&self->ring, self->vm[1], &rx, HDR + 10));
	EXPECT_EQ(0, memcmp(rx.data, "0123456789", 10));

	/* full inbox */
	for (int i = 0; i < DEPTH; i++)
		ASSERT_EQ(0, ha_msg_send(self->vm[0], 1, "f", 1));
	BOTH_SEND(-EAGAIN, self->vm[0], 1, "x", 1);
#undef BOTH_SEND

	/* unknown command, and a receive naming a VM */
	sqe = io_uring_get_sqe(&self->ring);
	ha_uring_prep_send(sqe, self->vm[0], 1, "x", 1);
	sqe->cmd_op = 0x7f;
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	EXPECT_EQ(-EINVAL, reap(&self->ring, NULL, 5000));
	sqe = io_uring_get_sqe(&self->ring);
	ha_uring_prep_recv(sqe, self->vm[1], &rx, sizeof(rx));
	m.addr = (__u64)(unsigned long)&rx;
	m.len = sizeof(rx);
	m.vm = 1;
	memcpy(sqe->cmd, &m, sizeof(m));
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	EXPECT_EQ(-EINVAL, reap(&self->ring, NULL, 5000));
	close(nosend);
	close(norecv);
	munmap(noaccess, 4096);
}

/* ------------------------------------------------------------ SEND_BATCH */

/* A SEND_BATCH SQE with raw cmd fields; returns cqe->res. */
static int send_batch_raw(struct io_uring *ring, int vfd, void *addr, __u32 len,
			  __u32 vm)
{
	struct hyperaether_uring_msg m = {
		.addr = (__u64)(unsigned long)addr, .len = len, .vm = vm,
	};
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	struct hyperaether_msg_batch unused;

	if (!sqe)
		return -EBUSY;
	ha_uring_prep_send_batch(sqe, vfd, &unused, NULL, 0);
	memcpy(sqe->cmd, &m, sizeof(m));
	if (io_uring_submit(ring) != 1)
		return -EIO;
	return reap(ring, NULL, 5000);
}

/* Drain @vfd's inbox; returns how many messages it held. */
static int drain(int vfd)
{
	struct rx rx;
	__u32 len;
	int n = 0;

	for (;;) {
		len = sizeof(rx);
		if (ha_msg_recv(vfd, &rx, &len, HYPERAETHER_MSG_NONBLOCK))
			return n;
		n++;
	}
}

TEST_F(ring, send_batch_feature_and_version)
{
	struct hyperaether_info info = { };

	ASSERT_EQ(0, ha_get_info(self->fd, &info));
	EXPECT_NE(0, info.features & HYPERAETHER_FEAT_URING_SEND_BATCH);
	EXPECT_GE(info.api_minor, 2);
}

/* One SQE, many messages, in order, to several VMs; sizes either side of inline. */
TEST_F(ring, send_batch_delivers_in_order)
{
	static const __u32 sizes[] = { 0, 1, 63, 111, 112, 113, 1000, HYPERAETHER_MSG_MAX };
	static unsigned char payload[8][HYPERAETHER_MSG_MAX];
	struct hyperaether_msg msgs[8];
	__u64 seq0 = 0;
	__u32 sent = 99, len;
	struct rx rx;

	/* 0 may send to 2 as well: destinations alternate 1, 2, 1, 2 ... */
	ASSERT_EQ(0, ha_cap_set(self->fd, 0, 2, HYPERAETHER_CAP_SEND));
	ASSERT_EQ(0, ha_cap_set(self->fd, 2, 0, HYPERAETHER_CAP_RECV));
	for (int i = 0; i < 8; i++) {
		memset(payload[i], 'a' + i, sizes[i]);
		ha_msg_init(&msgs[i], 1 + (i & 1), payload[i], sizes[i]);
	}
	ASSERT_EQ(0, ha_uring_send_batch(&self->ring, self->vm[0], msgs, 8, &sent));
	EXPECT_EQ(8, sent);
	for (int i = 0; i < 8; i++) {
		len = sizeof(rx);
		ASSERT_EQ(0, ha_msg_recv(self->vm[1 + (i & 1)], &rx, &len,
					 HYPERAETHER_MSG_NONBLOCK));
		EXPECT_EQ(HDR + sizes[i], len);
		EXPECT_EQ(0, rx.hdr.src);
		EXPECT_EQ(sizes[i], rx.hdr.len);
		EXPECT_EQ(0, memcmp(rx.data, payload[i], sizes[i]));
		if (!seq0)
			seq0 = rx.hdr.seq;
		EXPECT_EQ(seq0 + i, rx.hdr.seq);
	}
	EXPECT_EQ(0, drain(self->vm[1]) + drain(self->vm[2]));

	/* count 0 is a no-op */
	sent = 99;
	EXPECT_EQ(0, ha_uring_send_batch(&self->ring, self->vm[0], msgs, 0, &sent));
	EXPECT_EQ(0, sent);
}

/* A batch larger than the room in the inbox: EAGAIN, and sent says how many. */
TEST_F(ring, send_batch_partial_when_full)
{
	static struct hyperaether_msg msgs[HYPERAETHER_MSG_BATCH_MAX];
	static __u32 vals[HYPERAETHER_MSG_BATCH_MAX];
	__u32 sent = 99, len;
	struct rx rx;

	for (__u32 i = 0; i < HYPERAETHER_MSG_BATCH_MAX; i++) {
		vals[i] = i;
		ha_msg_init(&msgs[i], 1, &vals[i], sizeof(vals[i]));
	}
	ASSERT_EQ(0, ha_msg_send(self->vm[0], 1, "first", 5));
	/* more than a kernel chunk (64) and more than the room (63) */
	EXPECT_EQ(-EAGAIN, ha_uring_send_batch(&self->ring, self->vm[0], msgs,
					       HYPERAETHER_MSG_BATCH_MAX, &sent));
	EXPECT_EQ(DEPTH - 1, sent);
	len = sizeof(rx);
	ASSERT_EQ(0, ha_msg_recv(self->vm[1], &rx, &len, HYPERAETHER_MSG_NONBLOCK));
	for (__u32 i = 0; i < DEPTH - 1; i++) {
		len = sizeof(rx);
		ASSERT_EQ(0, ha_msg_recv(self->vm[1], &rx, &len, HYPERAETHER_MSG_NONBLOCK));
		EXPECT_EQ(i, *(__u32 *)rx.data);
	}
	EXPECT_EQ(0, drain(self->vm[1]));

	/* the caller resumes where it stopped: nothing twice, nothing lost */
	ASSERT_EQ(0, ha_uring_send_batch(&self->ring, self->vm[0], msgs + DEPTH - 1, 8, &sent));
	EXPECT_EQ(8, sent);
	for (__u32 i = 0; i < 8; i++) {
		len = sizeof(rx);
		ASSERT_EQ(0, ha_msg_recv(self->vm[1], &rx, &len, HYPERAETHER_MSG_NONBLOCK));
		EXPECT_EQ(DEPTH - 1 + i, *(__u32 *)rx.data);
	}
}

/* The first failing message stops the batch; those before it went. */
TEST_F(ring, send_batch_stops_at_first_failure)
{
	static unsigned char big[HYPERAETHER_MSG_MAX + 1];
	struct hyperaether_msg msgs[8];
	__u32 vals[8], sent;
	long page = sysconf(_SC_PAGESIZE);
	unsigned char *two;
	int nosend;

	for (__u32 i = 0; i < 8; i++) {
		vals[i] = i;
		ha_msg_init(&msgs[i], 1, &vals[i], sizeof(vals[i]));
	}
#define AT(k, err) do { \
	sent = 99; \
	EXPECT_EQ(err, ha_uring_send_batch(&self->ring, self->vm[0], msgs, 8, &sent)); \
	EXPECT_EQ(k, sent); \
	EXPECT_EQ(k, drain(self->vm[1])); \
} while (0)
	msgs[4].dst = NVM + 5;
	AT(4, -ENOENT);
	msgs[4].dst = 2;		/* no SEND on (0, 2) */
	AT(4, -EACCES);
	msgs[4].dst = 1;
	msgs[2].flags = 1;
	AT(2, -EINVAL);
	msgs[2].flags = 0;
	msgs[3].pad = 1;
	AT(3, -EINVAL);
	msgs[3].pad = 0;
	msgs[5].len = HYPERAETHER_MSG_MAX + 1;
	msgs[5].data = (__u64)(unsigned long)big;
	AT(5, -EMSGSIZE);
	msgs[5].data = 8;		/* an unmapped payload, inline size ... */
	msgs[5].len = 4;
	AT(5, -EFAULT);
	msgs[5].len = 1000;		/* ... and out of line */
	AT(5, -EFAULT);
	ha_msg_init(&msgs[5], 1, &vals[5], sizeof(vals[5]));
	AT(8, 0);

	/* the descriptor array itself runs into an unmapped page after 3 */
	two = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, two);
	mprotect(two + page, page, PROT_NONE);
	{
		struct hyperaether_msg *edge = (void *)(two + page - 3 * sizeof(*edge));

		memcpy(edge, msgs, 3 * sizeof(*edge));
		sent = 99;
		EXPECT_EQ(-EFAULT, ha_uring_send_batch(&self->ring, self->vm[0], edge, 8, &sent));
		EXPECT_EQ(3, sent);
		EXPECT_EQ(3, drain(self->vm[1]));
	}
	munmap(two, 2 * page);
#undef AT

	/* an fd without VMFD_SEND, and a removed VM */
	nosend = ha_vm_export(self->fd, 0, HYPERAETHER_VMFD_RECV, 0);
	ASSERT_GE(nosend, 0);
	EXPECT_EQ(-EPERM, ha_uring_send_batch(&self->ring, nosend, msgs, 8, &sent));
	ASSERT_EQ(0, ha_vm_remove(self->fd, 0));
	sent = 99;
	EXPECT_EQ(-ENODEV, ha_uring_send_batch(&self->ring, self->vm[0], msgs, 8, &sent));
	EXPECT_EQ(0, sent);
	EXPECT_EQ(0, drain(self->vm[1]));
	close(nosend);
}

/* Bad SQE and batch fields are EINVAL (or E2BIG) and send nothing. */
TEST_F(ring, send_batch_bad_input)
{
	struct {
		struct hyperaether_msg_batch b;
		__u64 newer;
	} big = { };
	struct hyperaether_msg msgs[2];
	__u32 v = 7;

	ha_msg_init(&msgs[0], 1, &v, sizeof(v));
	ha_msg_init(&msgs[1], 1, &v, sizeof(v));
	big.b.msgs = (__u64)(unsigned long)msgs;
	big.b.count = 2;
#define RAW(err, size, cmd_vm) \
	EXPECT_EQ(err, send_batch_raw(&self->ring, self->vm[0], &big, size, cmd_vm))
	big.b.flags = 1;
	RAW(-EINVAL, sizeof(big.b), 0);
	big.b.flags = 0;
	big.b.pad = 1;
	RAW(-EINVAL, sizeof(big.b), 0);
	big.b.pad = 0;
	big.b.count = HYPERAETHER_MSG_BATCH_MAX + 1;
	RAW(-EINVAL, sizeof(big.b), 0);
	big.b.count = 2;
	RAW(-EINVAL, sizeof(big.b), 1);				/* vm must be 0 */
	RAW(-EINVAL, HYPERAETHER_MSG_BATCH_SIZE_VER0 - 1, 0);	/* too short */
	RAW(-EINVAL, 0, 0);
	RAW(-EINVAL, 8192, 0);					/* absurdly long */
	EXPECT_EQ(-EFAULT, send_batch_raw(&self->ring, self->vm[0], NULL, sizeof(big.b), 0));
	big.newer = 1;						/* a newer caller's field */
	RAW(-E2BIG, sizeof(big), 0);
	EXPECT_EQ(0, drain(self->vm[1]));
	EXPECT_EQ(0, big.b.sent);

	/* a newer struct whose extra bytes are zero works, and sent comes back */
	big.newer = 0;
	RAW(0, sizeof(big), 0);
	EXPECT_EQ(2, big.b.sent);
	EXPECT_EQ(2, drain(self->vm[1]));
#undef RAW
}

/* Receives parked before a SEND_BATCH are each completed by one message. */
TEST_F(ring, send_batch_completes_parked_receives)
{
	static struct rx rx[4];
	struct hyperaether_msg msgs[4];
	struct hyperaether_msg_batch batch;
	struct io_uring_sqe *sqe;
	__u32 vals[4], seen = 0;
	__u64 ud;

	for (int i = 0; i < 4; i++) {
		sqe = io_uring_get_sqe(&self->ring);
		ha_uring_prep_recv(sqe, self->vm[1], &rx[i], sizeof(rx[i]));
		io_uring_sqe_set_data64(sqe, i);
	}
	ASSERT_EQ(4, io_uring_submit(&self->ring));
	EXPECT_EQ(NO_CQE, reap(&self->ring, NULL, 100));
	for (__u32 i = 0; i < 4; i++) {
		vals[i] = 40 + i;
		ha_msg_init(&msgs[i], 1, &vals[i], sizeof(vals[i]));
	}
	sqe = io_uring_get_sqe(&self->ring);
	ha_uring_prep_send_batch(sqe, self->vm[0], &batch, msgs, 4);
	io_uring_sqe_set_data64(sqe, 100);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	for (int i = 0; i < 5; i++) {
		int res = reap(&self->ring, &ud, 5000);

		if (ud == 100) {
			EXPECT_EQ(0, res);
			continue;
		}
		ASSERT_EQ(HDR + 4, res);
		ASSERT_LT(ud, 4);
		seen |= 1u << (*(__u32 *)rx[ud].data - 40);
	}
	EXPECT_EQ(4, batch.sent);
	EXPECT_EQ(0xf, seen);
	EXPECT_EQ(NO_CQE, reap(&self->ring, NULL, 50));
}

TEST_HARNESS_MAIN
