// SPDX-License-Identifier: GPL-2.0
/*
 * Channels: bounded inboxes between VMs.  Order and sequence numbers, the
 * full queue, messages that do not fit, blocking and non-blocking
 * receive, signals, a receiver killed while it waits, poll, batches, and
 * many threads adding, removing, sending and receiving at once.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hyperaether.h"
#include "kselftest_harness.h"
#include "fabric.h"

#define HDR		sizeof(struct hyperaether_msg_hdr)
#define SEND_RECV	(HYPERAETHER_CAP_SEND | HYPERAETHER_CAP_RECV)
#define DEPTH		8
#define NVM		4

static int ioctl_err(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) < 0 ? errno : 0;
}

/* Fabric with queue depth DEPTH, VMs 0..3, all edges SEND|RECV. */
FIXTURE(chan) {
	int fd;
	int vm[NVM];
};

FIXTURE_SETUP(chan)
{
	struct hyperaether_quota q = { .queue_depth = DEPTH };

	fabric_with_vms(_metadata, &self->fd, &q, self->vm, NVM);
	for (int s = 0; s < NVM; s++)
		for (int d = 0; d < NVM; d++)
			ASSERT_EQ(0, ha_cap_set(self->fd, s, d, SEND_RECV));
}

FIXTURE_TEARDOWN(chan)
{
	for (int i = 0; i < NVM; i++)
		close(self->vm[i]);
	close(self->fd);
}

struct rx {
	struct hyperaether_msg_hdr hdr;
	unsigned char data[HYPERAETHER_MSG_MAX];
};

static int recv_nb(int vfd, struct rx *rx, __u32 *len)
{
	*len = sizeof(*rx);
	return ha_msg_recv(vfd, rx, len, HYPERAETHER_MSG_NONBLOCK);
}

TEST_F(chan, order_and_sequence)
{
	struct rx rx;
	__u32 len, v;
	__u64 last = 0;

	for (__u32 i = 0; i < 3 * DEPTH; i++) {
		v = i;
		/* interleave senders 0 and 2; drain whenever the inbox fills */
		ASSERT_EQ(0, ha_msg_send(self->vm[(i & 1) * 2], 1, &v, sizeof(v)));
		if ((i + 1) % DEPTH)
			continue;
		for (__u32 j = i + 1 - DEPTH; j <= i; j++) {
			ASSERT_EQ(0, recv_nb(self->vm[1], &rx, &len));
			ASSERT_EQ(HDR + sizeof(v), len);
			EXPECT_EQ((j & 1) * 2, rx.hdr.src);
			EXPECT_EQ(sizeof(v), rx.hdr.len);
			memcpy(&v, rx.data, sizeof(v));
			EXPECT_EQ(j, v);
			EXPECT_EQ(j + 1, rx.hdr.seq);	/* per fabric, from 1 */
			EXPECT_GT(rx.hdr.seq, last);
			last = rx.hdr.seq;
		}
	}
	EXPECT_EQ(-EAGAIN, recv_nb(self->vm[1], &rx, &len));
}

TEST_F(chan, sequence_is_per_fabric)
{
	struct rx rx;
	__u32 len;
	int fd2 = ha_open(), v;

	ASSERT_GE(fd2, 0);
	ASSERT_EQ(0, ha_msg_send(self->vm[0], 1, "x", 1));
	ASSERT_EQ(0, ha_msg_send(self->vm[0], 1, "y", 1));
	ASSERT_EQ(0, ha_fabric_create(fd2, NULL, NULL));
	ASSERT_EQ(0, ha_vm_add(fd2, "other", 0, NULL, 0, NULL));
	ASSERT_EQ(0, ha_cap_set(fd2, 0, 0, SEND_RECV));
	v = ha_vm_export(fd2, 0, HYPERAETHER_VMFD_ALL, 0);
	ASSERT_GE(v, 0);
	ASSERT_EQ(0, ha_msg_send(v, 0, "z", 1));
	ASSERT_EQ(0, recv_nb(v, &rx, &len));
	EXPECT_EQ(1, rx.hdr.seq);
	EXPECT_EQ(0, rx.hdr.src);
	close(v);
	close(fd2);
}

TEST_F(chan, full_inbox_is_eagain)
{
	struct hyperaether_vm_query vq;
	struct hyperaether_fabric_info fi;
	struct rx rx;
	__u32 len, v;

	for (v = 0; v < DEPTH; v++)
		ASSERT_EQ(0, ha_msg_send(self->vm[0], 2, &v, sizeof(v)));
	v = 100;
	EXPECT_EQ(-EAGAIN, ha_msg_send(self->vm[0], 2, &v, sizeof(v)));
	EXPECT_EQ(-EAGAIN, ha_msg_send(self->vm[3], 2, &v, sizeof(v)));
	ASSERT_EQ(0, ha_vm_query(self->fd, 2, &vq));
	EXPECT_EQ(DEPTH, vq.usage.queued);
	ASSERT_EQ(0, ha_fabric_info(self->fd, &fi));
	EXPECT_EQ(DEPTH, fi.usage.queued);
	ASSERT_EQ(0, ha_vm_query(self->fd, 0, &vq));
	EXPECT_EQ(DEPTH, vq.usage.msgs_sent);

	/* others' inboxes are not affected */
	ASSERT_EQ(0, ha_msg_send(self->vm[0], 3, &v, sizeof(v)));
	ASSERT_EQ(0, recv_nb(self->vm[3], &rx, &len));

	ASSERT_EQ(0, recv_nb(self->vm[2], &rx, &len));
	v = 200;
	ASSERT_EQ(0, ha_msg_send(self->vm[0], 2, &v, sizeof(v)));
	for (__u32 i = 1; i <= DEPTH; i++) {
		ASSERT_EQ(0, recv_nb(self->vm[2], &rx, &len));
		memcpy(&v, rx.data, sizeof(v));
		EXPECT_EQ(i < DEPTH ? i : 200, v);	/* nothing of the 100s */
	}
	EXPECT_EQ(-EAGAIN, recv_nb(self->vm[2], &rx, &len));
}

/* A VM's own queue_depth, lower than the fabric's, is what counts. */
TEST_F(chan, vm_queue_depth_quota)
{
	struct hyperaether_quota q = { .queue_depth = 2 };
	__u32 id;

	ASSERT_EQ(0, ha_vm_add(self->fd, "small", 0, &q, 0, &id));
	ASSERT_EQ(0, ha_cap_set(self->fd, 0, id, SEND_RECV));
	ASSERT_EQ(0, ha_cap_set(self->fd, id, 0, SEND_RECV));
	ASSERT_EQ(0, ha_msg_send(self->vm[0], id, "1", 1));
	ASSERT_EQ(0, ha_msg_send(self->vm[0], id, "2", 1));
	EXPECT_EQ(-EAGAIN, ha_msg_send(self->vm[0], id, "3", 1));
}

TEST_F(chan, too_big_stays_queued)
{
	static unsigned char big[HYPERAETHER_MSG_MAX + 1];
	struct rx rx;
	__u32 len;

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (unsigned char)(i * 13);
	EXPECT_EQ(-EMSGSIZE, ha_msg_send(self->vm[0], 1, big, HYPERAETHER_MSG_MAX + 1));
	EXPECT_EQ(-EAGAIN, recv_nb(self->vm[1], &rx, &len));

	ASSERT_EQ(0, ha_msg_send(self->vm[0], 1, big, 100));
	len = HDR + 99;
	EXPECT_EQ(-EMSGSIZE, ha_msg_recv(self->vm[1], &rx, &len, HYPERAETHER_MSG_NONBLOCK));
	EXPECT_EQ(HDR + 100, len);
	len = HDR - 1;
	EXPECT_EQ(-EMSGSIZE, ha_msg_recv(self->vm[1], &rx, &len, HYPERAETHER_MSG_NONBLOCK));
	EXPECT_EQ(HDR + 100, len);
	len = HDR + 100;
	ASSERT_EQ(0, ha_msg_recv(self->vm[1], &rx, &len, HYPERAETHER_MSG_NONBLOCK));
	EXPECT_EQ(HDR + 100, len);
	EXPECT_EQ(0, memcmp(rx.data, big, 100));

	/* the largest message there is, and an empty one */
	ASSERT_EQ(0, ha_msg_send(self->vm[0], 1, big, HYPERAETHER_MSG_MAX));
	ASSERT_EQ(0, ha_msg_send(self->vm[0], 1, NULL, 0));
	ASSERT_EQ(0, recv_nb(self->vm[1], &rx, &len));
	EXPECT_EQ(HDR + HYPERAETHER_MSG_MAX, len);
	EXPECT_EQ(0, memcmp(rx.data, big, HYPERAETHER_MSG_MAX));
	ASSERT_EQ(0, recv_nb(self->vm[1], &rx, &len));
	EXPECT_EQ(HDR, len);
	EXPECT_EQ(0, rx.hdr.len);
}

TEST_F(chan, bad_arguments)
{
	struct hyperaether_msg m = { .dst = 1, .len = 1 };
	struct hyperaether_msg_recv r = { .flags = 2, .len = 64 };
	char buf[64];
	void *noaccess = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct rx rx;
	__u32 len;

	ASSERT_NE(MAP_FAILED, noaccess);
	m.data = (__u64)(unsigned long)buf;
	m.flags = 1;
	EXPECT_EQ(EINVAL, ioctl_err(self->vm[0], HYPERAETHER_IOC_MSG_SEND, &m));
	m.flags = 0;
	m.pad = 1;
	EXPECT_EQ(EINVAL, ioctl_err(self->vm[0], HYPERAETHER_IOC_MSG_SEND, &m));
	r.buf = (__u64)(unsigned long)buf;
	EXPECT_EQ(EINVAL, ioctl_err(self->vm[1], HYPERAETHER_IOC_MSG_RECV, &r));
	EXPECT_EQ(-ENOENT, ha_msg_send(self->vm[0], NVM, buf, 1));
	EXPECT_EQ(-ENOENT, ha_msg_send(self->vm[0], HYPERAETHER_VM_SELF, buf, 1));
	EXPECT_EQ(-EAGAIN, recv_nb(self->vm[1], &rx, &len));

	/* a payload the kernel cannot read: nothing queued */
	EXPECT_EQ(-EFAULT, ha_msg_send(self->vm[0], 1, noaccess, 16));
	EXPECT_EQ(-EFAULT, ha_msg_send(self->vm[0], 1, (void *)8, 16));
	EXPECT_EQ(-EAGAIN, recv_nb(self->vm[1], &rx, &len));

	/* a buffer the kernel cannot write: the message is kept */
	ASSERT_EQ(0, ha_msg_send(self->vm[0], 1, "keep", 4));
	len = 64;
	EXPECT_EQ(-EFAULT, ha_msg_recv(self->vm[1], noaccess, &len, HYPERAETHER_MSG_NONBLOCK));
	ASSERT_EQ(0, recv_nb(self->vm[1], &rx, &len));
	EXPECT_EQ(0, memcmp(rx.data, "keep", 4));
	EXPECT_EQ(EFAULT, ioctl_err(self->vm[1], HYPERAETHER_IOC_MSG_RECV, NULL));
	munmap(noaccess, 4096);
}

TEST_F(chan, nonblocking_receive_of_empty_inbox)
{
	struct rx rx;
	__u32 len;

	EXPECT_EQ(-EAGAIN, recv_nb(self->vm[0], &rx, &len));
	EXPECT_EQ(-EAGAIN, recv_nb(self->vm[0], &rx, &len));
}

struct delayed_send {
	int vfd;
	__u32 dst;
	int delay_ms;
	int ret;
};

static void *delayed_send_fn(void *arg)
{
	struct delayed_send *ds = arg;

	usleep(ds->delay_ms * 1000);
	ds->ret = ha_msg_send(ds->vfd, ds->dst, "wake", 4);
	return NULL;
}

TEST_F(chan, blocking_receive_is_woken_by_a_sender)
{
	struct delayed_send ds = { .vfd = self->vm[0], .dst = 1, .delay_ms = 200 };
	struct timespec t0, t1;
	pthread_t th;
	struct rx rx;
	__u32 len = sizeof(rx);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	ASSERT_EQ(0, pthread_create(&th, NULL, delayed_send_fn, &ds));
	ASSERT_EQ(0, ha_msg_recv(self->vm[1], &rx, &len, 0));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	pthread_join(th, NULL);
	EXPECT_EQ(0, ds.ret);
	EXPECT_EQ(0, memcmp(rx.data, "wake", 4));
	EXPECT_EQ(0, rx.hdr.src);
	/* it did wait for the sender */
	EXPECT_GE((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000, 150);
}

static void on_signal(int sig)
{
	(void)sig;
}

struct killer {
	pthread_t target;
	int delay_ms;
};

static void *signal_fn(void *arg)
{
	struct killer *k = arg;

	usleep(k->delay_ms * 1000);
	pthread_kill(k->target, SIGUSR1);
	return NULL;
}

TEST_F(chan, signal_interrupts_receive_and_loses_nothing)
{
	struct sigaction sa = { .sa_handler = on_signal };	/* no SA_RESTART */
	struct killer k = { .target = pthread_self(), .delay_ms = 200 };
	pthread_t th;
	struct rx rx;
	__u32 len = sizeof(rx);

	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	ASSERT_EQ(0, pthread_create(&th, NULL, signal_fn, &k));
	EXPECT_EQ(-EINTR, ha_msg_recv(self->vm[1], &rx, &len, 0));
	pthread_join(th, NULL);
	ASSERT_EQ(0, ha_msg_send(self->vm[0], 1, "after", 5));
	len = sizeof(rx);
	ASSERT_EQ(0, ha_msg_recv(self->vm[1], &rx, &len, 0));
	EXPECT_EQ(0, memcmp(rx.data, "after", 5));
}

TEST_F(chan, receiver_killed_while_waiting)
{
	struct rx rx;
	__u32 len;
	int status, other;
	pid_t pid;

	other = ha_vmfd_dup(self->vm[1], HYPERAETHER_VMFD_RECV, 0);
	ASSERT_GE(other, 0);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		len = sizeof(rx);
		ha_msg_recv(self->vm[1], &rx, &len, 0);
		_exit(3);	/* must not get here */
	}
	usleep(300 * 1000);
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

	ASSERT_EQ(0, ha_msg_send(self->vm[0], 1, "late", 4));
	ASSERT_EQ(0, recv_nb(other, &rx, &len));
	EXPECT_EQ(0, memcmp(rx.data, "late", 4));
	EXPECT_EQ(-EAGAIN, recv_nb(other, &rx, &len));
	close(other);
}

struct blocked_recv {
	int vfd;
	int ret;
};

static void *blocked_recv_fn(void *arg)
{
	struct blocked_recv *br = arg;
	struct rx rx;
	__u32 len = sizeof(rx);

	br->ret = ha_msg_recv(br->vfd, &rx, &len, 0);
	return NULL;
}

TEST_F(chan, removal_ends_a_blocking_receive)
{
	struct blocked_recv br = { .vfd = self->vm[2], .ret = 1 };
	pthread_t th;

	ASSERT_EQ(0, pthread_create(&th, NULL, blocked_recv_fn, &br));
	usleep(200 * 1000);
	ASSERT_EQ(0, ha_vm_remove(self->fd, 2));
	pthread_join(th, NULL);
	EXPECT_EQ(-ENODEV, br.ret);
}

TEST_F(chan, owner_close_ends_a_blocking_receive)
{
	struct blocked_recv br = { .vfd = self->vm[2], .ret = 1 };
	pthread_t th;

	ASSERT_EQ(0, pthread_create(&th, NULL, blocked_recv_fn, &br));
	usleep(200 * 1000);
	close(self->fd);
	self->fd = -1;
	pthread_join(th, NULL);
	EXPECT_EQ(-ENODEV, br.ret);
}

TEST_F(chan, poll_in_and_hup)
{
	struct pollfd pfd = { .fd = self->vm[1], .events = POLLIN };
	struct delayed_send ds = { .vfd = self->vm[0], .dst = 1, .delay_ms = 100 };
	pthread_t th;
	struct rx rx;
	__u32 len;

	EXPECT_EQ(0, poll(&pfd, 1, 0));
	ASSERT_EQ(0, ha_msg_send(self->vm[0], 1, "p", 1));
	ASSERT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_NE(0, pfd.revents & POLLIN);
	EXPECT_EQ(0, pfd.revents & POLLHUP);
	ASSERT_EQ(0, recv_nb(self->vm[1], &rx, &len));
	EXPECT_EQ(0, poll(&pfd, 1, 0));

	/* poll waits, and a send wakes it */
	ASSERT_EQ(0, pthread_create(&th, NULL, delayed_send_fn, &ds));
	EXPECT_EQ(1, poll(&pfd, 1, 5000));
	EXPECT_NE(0, pfd.revents & POLLIN);
	pthread_join(th, NULL);
	ASSERT_EQ(0, ha_vm_remove(self->fd, 1));
	ASSERT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_NE(0, pfd.revents & POLLHUP);
}

TEST_F(chan, batch_send)
{
	struct hyperaether_msg msgs[1025];
	struct hyperaether_msg_batch b = { .count = 1025 };
	__u32 vals[16], sent, len;
	struct rx rx;

	for (int i = 0; i < 16; i++) {
		vals[i] = i;
		ha_msg_init(&msgs[i], 1, &vals[i], sizeof(vals[i]));
	}
	b.msgs = (__u64)(unsigned long)msgs;
	EXPECT_EQ(EINVAL, ioctl_err(self->vm[0], HYPERAETHER_IOC_MSG_SEND_BATCH, &b));
	b.count = 2;
	b.flags = 1;
	EXPECT_EQ(EINVAL, ioctl_err(self->vm[0], HYPERAETHER_IOC_MSG_SEND_BATCH, &b));
	b.flags = 0;
	b.pad = 1;
	EXPECT_EQ(EINVAL, ioctl_err(self->vm[0], HYPERAETHER_IOC_MSG_SEND_BATCH, &b));
	EXPECT_EQ(-EAGAIN, recv_nb(self->vm[1], &rx, &len));

	/* the sixth goes to a VM that does not exist: five went */
	msgs[5].dst = NVM + 3;
	sent = 99;
	EXPECT_EQ(-ENOENT, ha_msg_send_batch(self->vm[0], msgs, 8, &sent));
	EXPECT_EQ(5, sent);
	for (__u32 i = 0; i < 5; i++) {
		ASSERT_EQ(0, recv_nb(self->vm[1], &rx, &len));
		EXPECT_EQ(i, *(__u32 *)rx.data);
	}
	EXPECT_EQ(-EAGAIN, recv_nb(self->vm[1], &rx, &len));

	/* denied in the middle: EACCES, and the rest not sent */
	msgs[5].dst = 1;
	msgs[3].dst = 2;
	ASSERT_EQ(0, ha_cap_set(self->fd, 0, 2, 0));
	EXPECT_EQ(-EACCES, ha_msg_send_batch(self->vm[0], msgs, 8, &sent));
	EXPECT_EQ(3, sent);
	msgs[3].dst = 1;

	/* the inbox fills in the middle: EAGAIN after DEPTH */
	for (__u32 i = 0; i < 3; i++)
		ASSERT_EQ(0, recv_nb(self->vm[1], &rx, &len));
	EXPECT_EQ(-EAGAIN, ha_msg_send_batch(self->vm[0], msgs, 16, &sent));
	EXPECT_EQ(DEPTH, sent);
	for (__u32 i = 0; i < DEPTH; i++) {
		ASSERT_EQ(0, recv_nb(self->vm[1], &rx, &len));
		EXPECT_EQ(i, *(__u32 *)rx.data);
	}
	ASSERT_EQ(0, ha_msg_send_batch(self->vm[0], msgs, DEPTH, &sent));
	EXPECT_EQ(DEPTH, sent);
	/* a bad pointer in an entry */
	for (__u32 i = 0; i < DEPTH; i++)
		ASSERT_EQ(0, recv_nb(self->vm[1], &rx, &len));
	msgs[1].data = 16;
	EXPECT_EQ(-EFAULT, ha_msg_send_batch(self->vm[0], msgs, 4, &sent));
	EXPECT_EQ(1, sent);
	EXPECT_EQ(0, ha_msg_send_batch(self->vm[0], msgs, 0, &sent));
	EXPECT_EQ(0, sent);
}

/*
 * Payloads longer than an inbox slot holds inline take another path in
 * the kernel: a receive that faults puts such a message back too.
 */
TEST_F(chan, long_message_survives_a_faulting_receive)
{
	static unsigned char payload[1000];
	void *noaccess = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct rx rx;
	__u32 len = sizeof(rx);

	ASSERT_NE(MAP_FAILED, noaccess);
	for (int i = 0; i < (int)sizeof(payload); i++)
		payload[i] = i * 7;
	ASSERT_EQ(0, ha_msg_send(self->vm[0], 1, payload, sizeof(payload)));
	EXPECT_EQ(-EFAULT, ha_msg_recv(self->vm[1], noaccess, &len, HYPERAETHER_MSG_NONBLOCK));
	len = sizeof(rx);
	ASSERT_EQ(0, recv_nb(self->vm[1], &rx, &len));
	EXPECT_EQ(sizeof(payload), rx.hdr.len);
	EXPECT_EQ(0, memcmp(rx.data, payload, sizeof(payload)));
	munmap(noaccess, 4096);
}

/*
 * Stress: NVM stable VMs, each with a sender thread (to every other stable
 * VM, M messages each) and a receiver thread; a churn thread adds and
 * removes extra VMs and senders also aim at those.  Afterwards every
 * message to a stable VM arrived exactly once and in order per sender,
 * and the kernel's counters equal ours.
 */
#define STRESS_M	400
#define CHURN_BASE	NVM

struct stress {
	int fd;
	int vm[NVM];
	atomic_int stop_churn;
	atomic_int failures;
	__u64 sent_ok[NVM];		/* by sender, all destinations */
	__u64 recvd[NVM];		/* by receiver */
	__u32 next[NVM][NVM];		/* receiver x sender: next counter */
	int sender_id[NVM];
};

struct stress_arg {
	struct stress *st;
	int id;
};

static void *stress_sender(void *arg)
{
	struct stress_arg *sa = arg;
	struct stress *st = sa->st;
	unsigned int seed = sa->id * 7919 + 1;
	__u32 payload[2];
	int ret;

	for (__u32 n = 0; n < STRESS_M; n++) {
		for (int d = 0; d < NVM; d++) {
			if (d == sa->id)
				continue;
			payload[0] = sa->id;
			payload[1] = n;
			while ((ret = ha_msg_send(st->vm[sa->id], d, payload, sizeof(payload))) == -EAGAIN)
				sched_yield();
			if (ret) {
				atomic_fetch_add(&st->failures, 1);
				return NULL;
			}
			st->sent_ok[sa->id]++;
		}
		/* and at a churning VM: any of these outcomes, never a hang */
		ret = ha_msg_send(st->vm[sa->id], CHURN_BASE + rand_r(&seed) % 4, payload,
				  sizeof(payload));
		if (ret == 0)
			st->sent_ok[sa->id]++;
		else if (ret != -ENOENT && ret != -EACCES && ret != -EAGAIN)
			atomic_fetch_add(&st->failures, 1);
	}
	return NULL;
}

static void *stress_receiver(void *arg)
{
	struct stress_arg *sa = arg;
	struct stress *st = sa->st;
	__u32 want = (NVM - 1) * STRESS_M, got = 0, len;
	struct rx rx;
	int ret;

	while (got < want) {
		len = sizeof(rx);
		ret = ha_msg_recv(st->vm[sa->id], &rx, &len, 0);
		if (ret == -EINTR)
			continue;
		if (ret || len != HDR + 8 || rx.hdr.src >= NVM ||
		    ((__u32 *)rx.data)[0] != rx.hdr.src ||
		    ((__u32 *)rx.data)[1] != st->next[sa->id][rx.hdr.src]) {
			atomic_fetch_add(&st->failures, 1);
			return NULL;
		}
		st->next[sa->id][rx.hdr.src]++;
		st->recvd[sa->id]++;
		got++;
	}
	return NULL;
}

static void *stress_churn(void *arg)
{
	struct stress *st = arg;
	unsigned int seed = 42;
	char name[16];
	int n = 0;

	while (!atomic_load(&st->stop_churn)) {
		__u32 id;
		int ret;

		snprintf(name, sizeof(name), "churn%d", n++ % 8);
		ret = ha_vm_add(st->fd, name, 0, NULL, 0, &id);
		if (ret == 0) {
			/* a fresh VM accepts from everyone but never drains */
			for (int s = 0; s < NVM; s++) {
				ha_cap_set(st->fd, s, id, HYPERAETHER_CAP_SEND);
				ha_cap_set(st->fd, id, s, HYPERAETHER_CAP_RECV);
			}
		} else if (ret != -EEXIST && ret != -ENOSPC) {
			atomic_fetch_add(&st->failures, 1);
		}
		ret = ha_vm_remove(st->fd, CHURN_BASE + rand_r(&seed) % 4);
		if (ret && ret != -ENOENT)
			atomic_fetch_add(&st->failures, 1);
	}
	return NULL;
}

TEST_F_TIMEOUT(chan, concurrent_add_remove_send_receive, 300)
{
	static struct stress st;
	struct stress_arg args[NVM];
	pthread_t snd[NVM], rcv[NVM], churn;
	struct hyperaether_vm_query vq;
	struct hyperaether_quota q = { .max_vms = NVM + 4, .queue_depth = 16 };
	char name[8];

	memset(&st, 0, sizeof(st));
	st.fd = ha_open();
	ASSERT_GE(st.fd, 0);
	ASSERT_EQ(0, ha_fabric_create(st.fd, &q, NULL));
	for (int i = 0; i < NVM; i++) {
		snprintf(name, sizeof(name), "s%d", i);
		ASSERT_EQ(0, ha_vm_add(st.fd, name, 0, NULL, 0, NULL));
		st.vm[i] = ha_vm_export(st.fd, i, HYPERAETHER_VMFD_ALL, 0);
		ASSERT_GE(st.vm[i], 0);
	}
	for (int s = 0; s < NVM; s++)
		for (int d = 0; d < NVM; d++)
			if (s != d)
				ASSERT_EQ(0, ha_cap_set(st.fd, s, d, SEND_RECV));
	ASSERT_EQ(0, pthread_create(&churn, NULL, stress_churn, &st));
	for (int i = 0; i < NVM; i++) {
		args[i] = (struct stress_arg){ .st = &st, .id = i };
		ASSERT_EQ(0, pthread_create(&rcv[i], NULL, stress_receiver, &args[i]));
		ASSERT_EQ(0, pthread_create(&snd[i], NULL, stress_sender, &args[i]));
	}
	for (int i = 0; i < NVM; i++)
		pthread_join(snd[i], NULL);
	for (int i = 0; i < NVM; i++)
		pthread_join(rcv[i], NULL);
	atomic_store(&st.stop_churn, 1);
	pthread_join(churn, NULL);

	EXPECT_EQ(0, atomic_load(&st.failures));
	for (int i = 0; i < NVM; i++) {
		EXPECT_EQ((NVM - 1) * STRESS_M, st.recvd[i]);
		for (int s = 0; s < NVM; s++)
			if (s != i)
				EXPECT_EQ(STRESS_M, st.next[i][s]);
		ASSERT_EQ(0, ha_vm_query(st.fd, i, &vq));
		EXPECT_EQ(st.sent_ok[i], vq.usage.msgs_sent);
		EXPECT_EQ(st.recvd[i], vq.usage.msgs_received);
		EXPECT_EQ(0, vq.usage.queued);	/* exactly once: nothing extra */
		close(st.vm[i]);
	}
	close(st.fd);
}

TEST_HARNESS_MAIN
