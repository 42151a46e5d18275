// SPDX-License-Identifier: GPL-2.0
/*
 * Randomised ioctl / uring_cmd / mmap sequences against a model.
 *
 * The test keeps its own model of one fabric (VMs alive, names, memory,
 * inboxes, cap(i, j), VM fds and their rights) and derives the expected
 * outcome of every call from it alone: success, or the set of errnos the
 * contract allows when several rules are broken at once.  A call whose
 * result is outside that set, or a message that differs from the model's,
 * fails the test with the call's number so that the seed reproduces it.
 *
 *   HA_FUZZ_SEED   seed (default 1)
 *   HA_FUZZ_CALLS  calls to make (default 200000: about 20 s under KASAN in TCG)
 */
#include <errno.h>
#include <liburing.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "hyperaether.h"
#include "kselftest_harness.h"

#define FZ_MAX_VMS	6
#define FZ_IDS		8		/* ids tried: 6 and 7 never exist */
#define FZ_DEPTH	4
#define FZ_PAGE		4096ULL
#define FZ_MEM		(12 * FZ_PAGE)
#define FZ_FDS		12
#define FZ_NAMES	9
#define FZ_PAYLOAD	48
#define HDR		sizeof(struct hyperaether_msg_hdr)

/* Sets of errnos as bit masks; bit 63 stands for any errno not listed. */
static const int errnos[] = {
	ENODEV, EPERM, EMSGSIZE, ENOENT, EACCES, EAGAIN, EINVAL, EEXIST, ENOSPC,
	EDQUOT, EFAULT,
};

static __u64 E(int err)
{
	for (size_t i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++)
		if (errnos[i] == err)
			return 1ULL << i;
	return 1ULL << 63;
}

struct mmsg {
	__u32 src;
	__u32 len;
	__u32 tag;
};

struct mvm {
	int alive;
	__u32 gen;
	int name;
	__u64 mem;		/* bytes, page-rounded */
	__u32 depth;
	struct mmsg q[FZ_DEPTH];
	int qhead, qlen;
	__u64 last_seq;
	unsigned char stamp;	/* byte 0 of its memory */
};

struct mfd {
	int fd;			/* -1: empty slot */
	__u32 vm, gen, rights;
};

struct model {
	struct mvm vm[FZ_MAX_VMS];
	__u32 cap[FZ_MAX_VMS][FZ_MAX_VMS];
	struct mfd fds[FZ_FDS];
	__u64 mem_used;
	__u32 gen;
};

struct fuzz {
	int dev;
	struct io_uring ring;
	struct model m;
	__u64 rng;
	unsigned long calls, limit;
	unsigned long ok, failed_as_expected;
	const char *op;
};

static __u64 rnd(struct fuzz *f)
{
	/* xorshift64*: the same seed gives the same calls */
	f->rng ^= f->rng >> 12;
	f->rng ^= f->rng << 25;
	f->rng ^= f->rng >> 27;
	return f->rng * 0x2545F4914F6CDD1DULL;
}

static __u32 pick(struct fuzz *f, __u32 n)
{
	return (__u32)(rnd(f) >> 33) % n;
}

static int vm_alive(struct model *m, __u32 id)
{
	return id < FZ_MAX_VMS && m->vm[id].alive;
}

static int fd_live(struct model *m, struct mfd *d)
{
	return d->fd >= 0 && m->vm[d->vm].alive && m->vm[d->vm].gen == d->gen;
}

static void payload(unsigned char *p, __u32 len, __u32 tag)
{
	for (__u32 i = 0; i < len; i++)
		p[i] = (unsigned char)(tag * 31 + i);
}

/* The kernel's answer @ret (0 or -errno) against the allowed set. */
#define CHECK(f, ret, allowed) do { \
	int __r = (ret); \
	__u64 __a = (allowed); \
	(f)->calls++; \
	if (__a == 0) { \
		ASSERT_EQ(0, __r) TH_LOG("call %lu (%s): expected success, got %s", \
					 (f)->calls, (f)->op, strerror(-__r)); \
		(f)->ok++; \
	} else { \
		ASSERT_TRUE(__r < 0 && (__a & E(-__r) & ~(1ULL << 63))) \
			TH_LOG("call %lu (%s): got %d (%s), allowed mask %#llx", \
			       (f)->calls, (f)->op, __r, __r ? strerror(-__r) : "success", \
			       (unsigned long long)__a); \
		(f)->failed_as_expected++; \
	} \
} while (0)

static void model_remove(struct model *m, __u32 id)
{
	m->vm[id].alive = 0;
	m->mem_used -= m->vm[id].mem;
	for (int i = 0; i < FZ_MAX_VMS; i++) {
		m->cap[id][i] = 0;
		m->cap[i][id] = 0;
	}
}

/* Errors a send from fd slot @d to @dst of @len bytes may see. */
static __u64 send_errors(struct model *m, struct mfd *d, __u32 dst, __u32 len)
{
	__u64 e = 0;

	if (!fd_live(m, d))
		return E(ENODEV);
	if (!(d->rights & HYPERAETHER_VMFD_SEND))
		e |= E(EPERM);
	if (len > HYPERAETHER_MSG_MAX)
		e |= E(EMSGSIZE);
	if (!vm_alive(m, dst)) {
		e |= E(ENOENT);
	} else {
		if (!(m->cap[d->vm][dst] & HYPERAETHER_CAP_SEND) ||
		    !(m->cap[dst][d->vm] & HYPERAETHER_CAP_RECV))
			e |= E(EACCES);
		if (m->vm[dst].qlen == (int)m->vm[dst].depth)
			e |= E(EAGAIN);
	}
	return e;
}

static void model_push(struct model *m, __u32 src, __u32 dst, __u32 len, __u32 tag)
{
	struct mvm *v = &m->vm[dst];

	v->q[(v->qhead + v->qlen) % FZ_DEPTH] = (struct mmsg){ src, len, tag };
	v->qlen++;
}

static struct mfd *random_fd(struct fuzz *f)
{
	struct mfd *d = &f->m.fds[pick(f, FZ_FDS)];

	return d->fd >= 0 ? d : NULL;
}

static int uring_do(struct fuzz *f, __u32 op, int fd, __u32 vm, void *buf, __u32 len)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&f->ring);
	struct io_uring_cqe *cqe;
	int ret;

	if (op == HYPERAETHER_URING_CMD_SEND)
		ha_uring_prep_send(sqe, fd, vm, buf, len);
	else
		ha_uring_prep_recv(sqe, fd, buf, len);
	ret = io_uring_submit(&f->ring);
	if (ret != 1)
		return -10000 + ret;
	ret = io_uring_wait_cqe(&f->ring, &cqe);
	if (ret)
		return -10000 + ret;
	ret = cqe->res;
	io_uring_cqe_seen(&f->ring, cqe);
	return ret;
}

static void op_add(struct __test_metadata *_metadata, struct fuzz *f)
{
	static const __u64 mems[] = { 0, 1, FZ_PAGE, 2 * FZ_PAGE, 4 * FZ_PAGE };
	static const __u32 depths[] = { 0, 2, FZ_DEPTH, FZ_DEPTH + 1 };
	struct hyperaether_quota q = {
		.mem_bytes = mems[pick(f, 5)], .queue_depth = depths[pick(f, 4)],
	};
	struct model *m = &f->m;
	__u64 mem = (q.mem_bytes + FZ_PAGE - 1) & ~(FZ_PAGE - 1), e = 0;
	int name = pick(f, FZ_NAMES), nr = 0, free_id = -1, ret;
	char buf[8];
	__u32 id;

	f->op = "vm_add";
	for (int i = 0; i < FZ_MAX_VMS; i++) {
		if (!m->vm[i].alive) {
			if (free_id < 0)
				free_id = i;
			continue;
		}
		nr++;
		if (m->vm[i].name == name)
			e |= E(EEXIST);
	}
	if (nr == FZ_MAX_VMS)
		e |= E(ENOSPC);
	if (m->mem_used + mem > FZ_MEM || q.queue_depth > FZ_DEPTH)
		e |= E(EDQUOT);
	snprintf(buf, sizeof(buf), "n%d", name);
	ret = ha_vm_add(f->dev, buf, pick(f, 3), &q, name, &id);
	CHECK(f, ret, e);
	if (ret)
		return;
	ASSERT_EQ((__u32)free_id, id) TH_LOG("call %lu: not the lowest free id", f->calls);
	m->vm[id] = (struct mvm){
		.alive = 1, .gen = ++m->gen, .name = name, .mem = mem,
		.depth = q.queue_depth ? q.queue_depth : FZ_DEPTH,
	};
	ASSERT_EQ(m->vm[id].depth, q.queue_depth);
	m->mem_used += mem;
}

static void op_remove(struct __test_metadata *_metadata, struct fuzz *f)
{
	__u32 id = pick(f, FZ_IDS);
	int ret;

	f->op = "vm_remove";
	ret = ha_vm_remove(f->dev, id);
	CHECK(f, ret, vm_alive(&f->m, id) ? 0 : E(ENOENT));
	if (!ret)
		model_remove(&f->m, id);
}

static void op_cap_set(struct __test_metadata *_metadata, struct fuzz *f)
{
	struct hyperaether_cap c = {
		.src = pick(f, FZ_IDS), .dst = pick(f, FZ_IDS), .rights = pick(f, 16),
	};
	__u64 e = 0;
	int ret;

	f->op = "cap_set";
	if (pick(f, 50) == 0)
		c.flags = 1u << pick(f, 32);
	if (pick(f, 50) == 0)
		c.rights |= 1u << (4 + pick(f, 28));
	if (c.flags || c.rights > HYPERAETHER_CAP_ALL)
		e |= E(EINVAL);
	if (!vm_alive(&f->m, c.src) || !vm_alive(&f->m, c.dst))
		e |= E(ENOENT);
	ret = ioctl(f->dev, HYPERAETHER_IOC_CAP_SET, &c) ? -errno : 0;
	CHECK(f, ret, e);
	if (!ret)
		f->m.cap[c.src][c.dst] = c.rights;
}

static void op_cap_get(struct __test_metadata *_metadata, struct fuzz *f)
{
	__u32 src = pick(f, FZ_IDS), dst = pick(f, FZ_IDS), rights = 0xdead;
	struct mfd *d = pick(f, 2) ? random_fd(f) : NULL;
	__u64 e = 0;
	int ret;

	f->op = "cap_get";
	if (d) {
		if (!fd_live(&f->m, d))
			e = E(ENODEV);
		else if (src != d->vm)
			e = E(EPERM) | (vm_alive(&f->m, src) && vm_alive(&f->m, dst) ? 0 : E(ENOENT));
		else if (!vm_alive(&f->m, dst))
			e = E(ENOENT);
		ret = ha_cap_get(d->fd, src, dst, &rights);
	} else {
		if (!vm_alive(&f->m, src) || !vm_alive(&f->m, dst))
			e = E(ENOENT);
		ret = ha_cap_get(f->dev, src, dst, &rights);
	}
	CHECK(f, ret, e);
	if (!ret)
		ASSERT_EQ(f->m.cap[src][dst], rights) TH_LOG("call %lu: cap(%u,%u)", f->calls, src, dst);
}

static void put_fd(struct fuzz *f, int fd, __u32 vm, __u32 rights)
{
	struct mfd *d = &f->m.fds[pick(f, FZ_FDS)];

	if (d->fd >= 0)
		close(d->fd);
	*d = (struct mfd){ .fd = fd, .vm = vm, .gen = f->m.vm[vm].gen, .rights = rights };
}

static void op_export(struct __test_metadata *_metadata, struct fuzz *f)
{
	__u32 id = pick(f, FZ_IDS), rights = pick(f, 64);
	int ret;

	/* mostly generous fds, so that the data paths get exercised */
	if (pick(f, 2))
		rights |= HYPERAETHER_VMFD_SEND | HYPERAETHER_VMFD_RECV;
	f->op = "vm_export";
	ret = ha_vm_export(f->dev, id, rights, 0);
	CHECK(f, ret < 0 ? ret : 0, vm_alive(&f->m, id) ? 0 : E(ENOENT));
	if (ret >= 0)
		put_fd(f, ret, id, rights);
}

static void op_dup_limit(struct __test_metadata *_metadata, struct fuzz *f)
{
	struct mfd *d = random_fd(f);
	__u32 rights;
	__u64 e = 0;
	int ret;

	if (!d)
		return;
	rights = pick(f, 4) ? d->rights & pick(f, 64) : pick(f, 64);
	if (!fd_live(&f->m, d))
		e = E(ENODEV);
	else if (rights & ~d->rights)
		e = E(EPERM);
	if (pick(f, 2)) {
		f->op = "vmfd_dup";
		if (fd_live(&f->m, d) && !(d->rights & HYPERAETHER_VMFD_DUP))
			e |= E(EPERM);
		ret = ha_vmfd_dup(d->fd, rights, 0);
		CHECK(f, ret < 0 ? ret : 0, e);
		if (ret >= 0) {
			struct mfd nd = { .fd = ret, .vm = d->vm, .gen = d->gen, .rights = rights };
			struct mfd *slot = &f->m.fds[pick(f, FZ_FDS)];

			if (slot->fd >= 0)
				close(slot->fd);
			*slot = nd;
		}
	} else {
		f->op = "vmfd_limit";
		ret = ha_vmfd_limit(d->fd, rights);
		CHECK(f, ret, e);
		if (!ret)
			d->rights = rights;
	}
}

static void op_send(struct __test_metadata *_metadata, struct fuzz *f, int uring)
{
	unsigned char buf[HYPERAETHER_MSG_MAX + 1];
	struct mfd *d = random_fd(f);
	__u32 dst = pick(f, FZ_IDS), len = pick(f, FZ_PAYLOAD + 1), tag = f->calls;
	__u64 e;
	int ret;

	if (!d)
		return;
	if (pick(f, 100) == 0)
		len = HYPERAETHER_MSG_MAX + 1;
	payload(buf, len, tag);
	e = send_errors(&f->m, d, dst, len);
	/*
	 * A removed VM's fd must say -ENODEV on every path; uring_test checks
	 * that exactly.  Here the uring path may also name the fd's missing
	 * right or the size first, so that one known deviation does not hide
	 * everything behind it.
	 */
	if (uring && (e & E(ENODEV)))
		e |= E(EMSGSIZE) * (len > HYPERAETHER_MSG_MAX) |
		     E(EPERM) * !(d->rights & HYPERAETHER_VMFD_SEND);
	if (uring) {
		f->op = "uring_send";
		ret = uring_do(f, HYPERAETHER_URING_CMD_SEND, d->fd, dst, buf, len);
	} else {
		struct hyperaether_msg m;

		f->op = "msg_send";
		ha_msg_init(&m, dst, buf, len);
		/* now and then a flag or padding bit nobody defined */
		if (pick(f, 64) == 0) {
			if (pick(f, 2))
				m.flags = 1u << pick(f, 32);
			else
				m.pad = 1u << pick(f, 32);
			e |= E(EINVAL);
		}
		ret = ioctl(d->fd, HYPERAETHER_IOC_MSG_SEND, &m) ? -errno : 0;
	}
	CHECK(f, ret, e);
	if (!ret)
		model_push(&f->m, d->vm, dst, len, tag);
}

static void op_batch(struct __test_metadata *_metadata, struct fuzz *f)
{
	static unsigned char bufs[8][FZ_PAYLOAD];
	struct hyperaether_msg msgs[8];
	struct mfd *d = random_fd(f);
	__u32 n = 1 + pick(f, 8), sent = 0, want = 0, tags[8];
	__u64 e = 0;
	int ret;

	if (!d)
		return;
	f->op = "msg_send_batch";
	for (__u32 i = 0; i < n; i++) {
		__u32 len = pick(f, FZ_PAYLOAD + 1);

		tags[i] = f->calls * 8 + i;
		payload(bufs[i], len, tags[i]);
		/* a mostly reachable destination: the one of the first message */
		ha_msg_init(&msgs[i], i && pick(f, 2) ? msgs[0].dst : pick(f, FZ_IDS), bufs[i], len);
	}
	/* play the batch on a copy of the model: stops at the first failure */
	for (want = 0; want < n; want++) {
		e = send_errors(&f->m, d, msgs[want].dst, msgs[want].len);
		if (e)
			break;
		model_push(&f->m, d->vm, msgs[want].dst, msgs[want].len, tags[want]);
	}
	ret = ha_msg_send_batch(d->fd, msgs, n, &sent);
	CHECK(f, ret, e);
	if (!(e & E(ENODEV)))
		ASSERT_EQ(want, sent) TH_LOG("call %lu: batch of %u", f->calls, n);
}

static void op_recv(struct __test_metadata *_metadata, struct fuzz *f, int uring)
{
	static struct {
		struct hyperaether_msg_hdr hdr;
		unsigned char data[HYPERAETHER_MSG_MAX];
	} rx;
	unsigned char want[FZ_PAYLOAD];
	struct mfd *d = random_fd(f);
	struct mvm *v;
	struct mmsg *mm = NULL;
	__u32 size = pick(f, 4) ? sizeof(rx) : pick(f, HDR + FZ_PAYLOAD), len = size;
	__u64 e = 0;
	int ret;

	if (!d)
		return;
	v = &f->m.vm[d->vm];
	if (!fd_live(&f->m, d)) {
		e = E(ENODEV);
	} else {
		if (!(d->rights & HYPERAETHER_VMFD_RECV))
			e |= E(EPERM);
		if (!v->qlen)
			e |= E(EAGAIN);
		else if ((mm = &v->q[v->qhead]) && size < HDR + mm->len)
			e |= E(EMSGSIZE);
	}
	if (uring && (e & E(ENODEV)) && !(d->rights & HYPERAETHER_VMFD_RECV))
		e |= E(EPERM);	/* see op_send */
	/* a uring receive with nothing queued would park: only when it won't */
	if (uring && !(e & E(EAGAIN))) {
		f->op = "uring_recv";
		ret = uring_do(f, HYPERAETHER_URING_CMD_RECV, d->fd, 0, &rx, size);
		if (ret > 0) {
			len = ret;
			ret = 0;
		}
	} else {
		f->op = "msg_recv";
		__u32 flags = HYPERAETHER_MSG_NONBLOCK;

		if (pick(f, 64) == 0) {
			flags |= 2u << pick(f, 31);
			e |= E(EINVAL);
		}
		ret = ha_msg_recv(d->fd, &rx, &len, flags);
	}
	CHECK(f, ret, e);
	if (ret == -EMSGSIZE && !uring)
		ASSERT_EQ(HDR + mm->len, len);
	if (ret)
		return;
	ASSERT_EQ(HDR + mm->len, len) TH_LOG("call %lu: length", f->calls);
	ASSERT_EQ(mm->src, rx.hdr.src) TH_LOG("call %lu: sender", f->calls);
	ASSERT_EQ(mm->len, rx.hdr.len);
	ASSERT_GT(rx.hdr.seq, v->last_seq) TH_LOG("call %lu: seq goes back", f->calls);
	payload(want, mm->len, mm->tag);
	ASSERT_EQ(0, memcmp(want, rx.data, mm->len)) TH_LOG("call %lu: payload", f->calls);
	v->last_seq = rx.hdr.seq;
	v->qhead = (v->qhead + 1) % FZ_DEPTH;
	v->qlen--;
}

static void op_mmap(struct __test_metadata *_metadata, struct fuzz *f)
{
	struct mfd *d = random_fd(f);
	__u32 j = pick(f, FZ_IDS);
	size_t off = pick(f, 3) * FZ_PAGE, len = (1 + pick(f, 3)) * FZ_PAGE;
	unsigned char *p;
	__u64 e = 0;
	int ret;

	if (!d)
		return;
	f->op = "mmap";
	if (!fd_live(&f->m, d)) {
		e = E(ENODEV);
	} else if (!vm_alive(&f->m, j)) {
		e = E(ENOENT) | E(EINVAL) | E(EACCES);
	} else {
		if (j == d->vm && !(d->rights & HYPERAETHER_VMFD_MAP))
			e |= E(EACCES);
		if (j != d->vm && (!(d->rights & HYPERAETHER_VMFD_MAP_PEER) ||
				   !(f->m.cap[d->vm][j] & HYPERAETHER_CAP_SHARE)))
			e |= E(EACCES);
		if (off + len > f->m.vm[j].mem)
			e |= E(EINVAL);
	}
	ret = ha_vm_mmap(d->fd, j, off, len, (void **)&p);
	CHECK(f, ret, e);
	if (ret)
		return;
	if (off == 0) {
		/* one memory per VM, seen the same through every fd */
		ASSERT_EQ(f->m.vm[j].stamp, p[0]) TH_LOG("call %lu: memory of VM %u", f->calls, j);
		p[0] = f->m.vm[j].stamp = (unsigned char)(f->calls | 1);
	}
	p[len - 1] ^= 0xff;
	munmap(p, len);
}

static void op_query(struct __test_metadata *_metadata, struct fuzz *f)
{
	struct hyperaether_vm_query q;
	__u32 id = pick(f, FZ_IDS);
	struct mvm *v = &f->m.vm[id < FZ_MAX_VMS ? id : 0];
	char name[8];
	int ret;

	f->op = "vm_query";
	ret = ha_vm_query(f->dev, id, &q);
	CHECK(f, ret, vm_alive(&f->m, id) ? 0 : E(ENOENT));
	if (ret)
		return;
	snprintf(name, sizeof(name), "n%d", v->name);
	ASSERT_STREQ(name, q.name);
	ASSERT_EQ((__u64)v->name, q.metadata);
	ASSERT_EQ(v->depth, q.quota.queue_depth);
	ASSERT_EQ(v->mem, q.usage.mem_bytes);
	ASSERT_EQ((__u32)v->qlen, q.usage.queued) TH_LOG("call %lu: VM %u", f->calls, id);
}

static void op_enumerate(struct __test_metadata *_metadata, struct fuzz *f)
{
	struct hyperaether_cap edges[FZ_MAX_VMS * FZ_MAX_VMS];
	struct hyperaether_fabric_info fi;
	struct model *m = &f->m;
	__u32 ids[FZ_MAX_VMS], count, n = 0, queued = 0;

	f->op = "fabric_info";
	CHECK(f, ha_fabric_info(f->dev, &fi), 0);
	for (int i = 0; i < FZ_MAX_VMS; i++) {
		if (!m->vm[i].alive)
			continue;
		ids[n++] = i;
		queued += m->vm[i].qlen;
	}
	ASSERT_EQ(n, fi.usage.nr_vms);
	ASSERT_EQ(m->mem_used, fi.usage.mem_bytes);
	ASSERT_EQ(queued, fi.usage.queued);

	f->op = "vm_list";
	count = FZ_MAX_VMS;
	{
		__u32 got[FZ_MAX_VMS];

		CHECK(f, ha_vm_list(f->dev, got, &count), 0);
		ASSERT_EQ(n, count);
		ASSERT_EQ(0, memcmp(ids, got, n * sizeof(__u32)));
	}

	f->op = "cap_list";
	count = FZ_MAX_VMS * FZ_MAX_VMS;
	CHECK(f, ha_cap_list(f->dev, edges, &count), 0);
	n = 0;
	for (__u32 s = 0; s < FZ_MAX_VMS; s++)
		for (__u32 d = 0; d < FZ_MAX_VMS; d++) {
			if (!m->cap[s][d])
				continue;
			ASSERT_LT(n, count);
			ASSERT_EQ(s, edges[n].src);
			ASSERT_EQ(d, edges[n].dst);
			ASSERT_EQ(m->cap[s][d], edges[n].rights);
			n++;
		}
	ASSERT_EQ(n, count);
}

FIXTURE(fuzz) {
	struct fuzz f;
};

FIXTURE_SETUP(fuzz)
{
	struct hyperaether_quota q = {
		.max_vms = FZ_MAX_VMS, .queue_depth = FZ_DEPTH, .mem_bytes = FZ_MEM,
	};
	const char *s;

	memset(&self->f, 0, sizeof(self->f));
	for (int i = 0; i < FZ_FDS; i++)
		self->f.m.fds[i].fd = -1;
	s = getenv("HA_FUZZ_SEED");
	self->f.rng = (s ? strtoull(s, NULL, 0) : 1) * 0x9E3779B97F4A7C15ULL | 1;
	s = getenv("HA_FUZZ_CALLS");
	self->f.limit = s ? strtoul(s, NULL, 0) : 200000;
	self->f.dev = ha_open();
	ASSERT_GE(self->f.dev, 0) TH_LOG("open %s: %s", HA_DEV_PATH, strerror(-self->f.dev));
	ASSERT_EQ(0, ha_fabric_create(self->f.dev, &q, NULL));
	ASSERT_EQ(0, io_uring_queue_init(8, &self->f.ring, 0));
}

FIXTURE_TEARDOWN(fuzz)
{
	io_uring_queue_exit(&self->f.ring);
	for (int i = 0; i < FZ_FDS; i++)
		if (self->f.m.fds[i].fd >= 0)
			close(self->f.m.fds[i].fd);
	close(self->f.dev);
}

TEST_F_TIMEOUT(fuzz, model, 600)
{
	struct fuzz *f = &self->f;
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (f->calls < f->limit) {
		__u32 r = pick(f, 1000);

		if (r < 40)
			op_add(_metadata, f);
		else if (r < 60)
			op_remove(_metadata, f);
		else if (r < 180)
			op_cap_set(_metadata, f);
		else if (r < 220)
			op_cap_get(_metadata, f);
		else if (r < 260)
			op_export(_metadata, f);
		else if (r < 300)
			op_dup_limit(_metadata, f);
		else if (r < 460)
			op_send(_metadata, f, 0);
		else if (r < 560)
			op_send(_metadata, f, 1);
		else if (r < 600)
			op_batch(_metadata, f);
		else if (r < 760)
			op_recv(_metadata, f, 0);
		else if (r < 860)
			op_recv(_metadata, f, 1);
		else if (r < 900)
			op_mmap(_metadata, f);
		else if (r < 960)
			op_query(_metadata, f);
		else if (r < 980)
			op_enumerate(_metadata, f);
		else {
			struct mfd *d = &f->m.fds[pick(f, FZ_FDS)];

			if (d->fd >= 0) {
				close(d->fd);
				d->fd = -1;
			}
		}
	}
	op_enumerate(_metadata, f);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	TH_LOG("%lu calls (%lu succeeded, %lu failed as the model said) in %.1f s",
	       f->calls, f->ok, f->failed_as_expected,
	       (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	/* a fuzzer that never succeeds or never fails tests little */
	EXPECT_GT(f->ok, f->limit / 5);
	EXPECT_GT(f->failed_as_expected, f->limit / 20);
}

TEST_HARNESS_MAIN
