// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * libhyperaether: synchronous ioctl wrappers over /dev/hyperaether and the
 * channel operations as io_uring uring_cmds.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <liburing.h>

#include "hyperaether.h"

int ha_open(void)
{
	int fd = open(HA_DEV_PATH, O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

static int ha_ioctl(int fd, unsigned long cmd, void *arg)
{
	int ret;

	do {
		ret = ioctl(fd, cmd, arg);
	} while (ret < 0 && errno == EINTR);
	return ret < 0 ? -errno : ret;
}

int ha_get_info(int fd, struct hyperaether_info *info)
{
	memset(info, 0, sizeof(*info));
	return ha_ioctl(fd, HYPERAETHER_IOC_GET_INFO, info);
}

int ha_fabric_create(int fd, struct hyperaether_quota *quota, __u32 *id)
{
	struct hyperaether_fabric_create fc;
	int ret;

	memset(&fc, 0, sizeof(fc));
	if (quota)
		fc.quota = *quota;
	ret = ha_ioctl(fd, HYPERAETHER_IOC_FABRIC_CREATE, &fc);
	if (ret < 0)
		return ret;
	if (quota)
		*quota = fc.quota;
	if (id)
		*id = fc.id;
	return 0;
}

int ha_fabric_info(int fd, struct hyperaether_fabric_info *info)
{
	memset(info, 0, sizeof(*info));
	return ha_ioctl(fd, HYPERAETHER_IOC_FABRIC_INFO, info);
}

int ha_vm_add(int fd, const char *name, __u32 backend,
	      struct hyperaether_quota *quota, __u64 metadata, __u32 *id)
{
	struct hyperaether_vm_add va;
	int ret;

	memset(&va, 0, sizeof(va));
	va.backend = backend;
	/* A name that does not fit is passed unterminated: the kernel says no. */
	memcpy(va.name, name, strnlen(name, sizeof(va.name)));
	if (quota)
		va.quota = *quota;
	va.metadata = metadata;
	ret = ha_ioctl(fd, HYPERAETHER_IOC_VM_ADD, &va);
	if (ret < 0)
		return ret;
	if (quota)
		*quota = va.quota;
	if (id)
		*id = va.id;
	return 0;
}

int ha_vm_remove(int fd, __u32 id)
{
	struct hyperaether_vm_id v = { .id = id };

	return ha_ioctl(fd, HYPERAETHER_IOC_VM_REMOVE, &v);
}

int ha_vm_query(int fd, __u32 id, struct hyperaether_vm_query *q)
{
	memset(q, 0, sizeof(*q));
	q->id = id;
	return ha_ioctl(fd, HYPERAETHER_IOC_VM_QUERY, q);
}

int ha_vm_list(int fd, __u32 *ids, __u32 *count)
{
	struct hyperaether_vm_list l = {
		.count = *count,
		.ids = (__u64)(unsigned long)ids,
	};
	int ret = ha_ioctl(fd, HYPERAETHER_IOC_VM_LIST, &l);

	if (ret == 0)
		*count = l.count;
	return ret;
}

int ha_cap_set(int fd, __u32 src, __u32 dst, __u32 rights)
{
	struct hyperaether_cap c = { .src = src, .dst = dst, .rights = rights };

	return ha_ioctl(fd, HYPERAETHER_IOC_CAP_SET, &c);
}

int ha_cap_get(int fd, __u32 src, __u32 dst, __u32 *rights)
{
	struct hyperaether_cap c = { .src = src, .dst = dst };
	int ret = ha_ioctl(fd, HYPERAETHER_IOC_CAP_GET, &c);

	if (ret == 0)
		*rights = c.rights;
	return ret;
}

int ha_cap_list(int fd, struct hyperaether_cap *edges, __u32 *count)
{
	struct hyperaether_cap_list l = {
		.count = *count,
		.edges = (__u64)(unsigned long)edges,
	};
	int ret = ha_ioctl(fd, HYPERAETHER_IOC_CAP_LIST, &l);

	if (ret == 0)
		*count = l.count;
	return ret;
}

int ha_cap_grant(int vmfd, __u32 src, __u32 dst, __u32 rights)
{
	struct hyperaether_cap c = { .src = src, .dst = dst, .rights = rights };

	return ha_ioctl(vmfd, HYPERAETHER_IOC_CAP_GRANT, &c);
}

int ha_vm_export(int fd, __u32 id, __u32 rights, __u32 flags)
{
	struct hyperaether_vm_fd v = { .flags = flags, .id = id, .rights = rights };
	int ret = ha_ioctl(fd, HYPERAETHER_IOC_VM_EXPORT, &v);

	return ret < 0 ? ret : v.fd;
}

int ha_vmfd_dup(int vmfd, __u32 rights, __u32 flags)
{
	struct hyperaether_vm_fd v = { .flags = flags, .rights = rights };
	int ret = ha_ioctl(vmfd, HYPERAETHER_IOC_VMFD_DUP, &v);

	return ret < 0 ? ret : v.fd;
}

int ha_vmfd_limit(int vmfd, __u32 rights)
{
	struct hyperaether_vm_fd v = { .rights = rights };

	return ha_ioctl(vmfd, HYPERAETHER_IOC_VMFD_LIMIT, &v);
}

int ha_msg_send(int vmfd, __u32 dst, const void *data, __u32 len)
{
	struct hyperaether_msg m;

	ha_msg_init(&m, dst, data, len);
	return ha_ioctl(vmfd, HYPERAETHER_IOC_MSG_SEND, &m);
}

int ha_msg_send_batch(int vmfd, struct hyperaether_msg *msgs, __u32 count,
		      __u32 *sent)
{
	struct hyperaether_msg_batch b = {
		.count = count,
		.msgs = (__u64)(unsigned long)msgs,
	};
	int ret = ioctl(vmfd, HYPERAETHER_IOC_MSG_SEND_BATCH, &b);

	/* No retry: messages already sent must not be sent twice. */
	if (sent)
		*sent = b.sent;
	return ret < 0 ? -errno : 0;
}

int ha_msg_recv(int vmfd, void *buf, __u32 *len, __u32 flags)
{
	struct hyperaether_msg_recv r = {
		.flags = flags,
		.len = *len,
		.buf = (__u64)(unsigned long)buf,
	};
	int ret = ioctl(vmfd, HYPERAETHER_IOC_MSG_RECV, &r);

	if (ret < 0 && errno != EMSGSIZE)
		return -errno;
	*len = r.len;
	return ret < 0 ? -EMSGSIZE : 0;
}

int ha_vm_mmap(int vmfd, __u32 vm, size_t off, size_t len, void **addr)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, vmfd,
		       (off_t)(HYPERAETHER_MEM_OFFSET(vm) + off));

	if (p == MAP_FAILED)
		return -errno;
	*addr = p;
	return 0;
}

static void ha_uring_prep(struct io_uring_sqe *sqe, int vmfd, __u32 op,
			  __u64 addr, __u32 len, __u32 vm)
{
	struct hyperaether_uring_msg m = { .addr = addr, .len = len, .vm = vm };

	/* liburing 2.3 has no io_uring_prep_cmd(): fill the SQE by hand. */
	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = vmfd;
	sqe->cmd_op = op;
	memcpy(sqe->cmd, &m, sizeof(m));
}

void ha_uring_prep_send(struct io_uring_sqe *sqe, int vmfd, __u32 dst,
			const void *buf, __u32 len)
{
	ha_uring_prep(sqe, vmfd, HYPERAETHER_URING_CMD_SEND,
		      (__u64)(unsigned long)buf, len, dst);
}

void ha_uring_prep_recv(struct io_uring_sqe *sqe, int vmfd, void *buf,
			__u32 len)
{
	ha_uring_prep(sqe, vmfd, HYPERAETHER_URING_CMD_RECV,
		      (__u64)(unsigned long)buf, len, 0);
}

void ha_uring_prep_send_batch(struct io_uring_sqe *sqe, int vmfd,
			      struct hyperaether_msg_batch *batch,
			      struct hyperaether_msg *msgs, __u32 count)
{
	memset(batch, 0, sizeof(*batch));
	batch->count = count;
	batch->msgs = (__u64)(unsigned long)msgs;
	ha_uring_prep(sqe, vmfd, HYPERAETHER_URING_CMD_SEND_BATCH,
		      (__u64)(unsigned long)batch, sizeof(*batch), 0);
}

static int ha_uring_one(struct io_uring *ring)
{
	struct io_uring_cqe *cqe;
	int ret;

	ret = io_uring_submit(ring);
	if (ret < 0)
		return ret;
	do {
		ret = io_uring_wait_cqe(ring, &cqe);
	} while (ret == -EINTR);
	if (ret < 0)
		return ret;
	ret = cqe->res;
	io_uring_cqe_seen(ring, cqe);
	return ret;
}

int ha_uring_send(struct io_uring *ring, int vmfd, __u32 dst,
		  const void *buf, __u32 len)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	if (!sqe)
		return -EBUSY;
	ha_uring_prep_send(sqe, vmfd, dst, buf, len);
	return ha_uring_one(ring);
}

int ha_uring_recv(struct io_uring *ring, int vmfd, void *buf, __u32 len)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	if (!sqe)
		return -EBUSY;
	ha_uring_prep_recv(sqe, vmfd, buf, len);
	return ha_uring_one(ring);
}

int ha_uring_send_batch(struct io_uring *ring, int vmfd,
			struct hyperaether_msg *msgs, __u32 count, __u32 *sent)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	struct hyperaether_msg_batch b;
	int ret;

	if (!sqe)
		return -EBUSY;
	ha_uring_prep_send_batch(sqe, vmfd, &b, msgs, count);
	ret = ha_uring_one(ring);
	if (sent)
		*sent = b.sent;
	return ret;
}
