/* SPDX-License-Identifier: LGPL-2.1 OR MIT */
/*
 * libhyperaether: the C API over /dev/hyperaether.
 *
 * Every function returns 0 (or a non-negative value) on success and a
 * negative errno on failure; print it with strerror(-ret).  Calls that can
 * wait (ha_msg_recv) return -EINTR on a signal so that callers can act on
 * it; the others retry interrupted ioctls.
 */
#ifndef HYPERAETHER_LIB_H
#define HYPERAETHER_LIB_H

#include <stddef.h>
#include <linux/hyperaether.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Path of the fabric device node. */
#define HA_DEV_PATH "/dev/" HYPERAETHER_DEVICE_NAME

/* Open the fabric device; returns an fd or -errno. */
int ha_open(void);

/* Query the module's ABI version and features. */
int ha_get_info(int fd, struct hyperaether_info *info);

/* ------------------------------------------------------------ fabric */

/*
 * Make the device fd @fd own a new fabric.  @quota (may be NULL: all
 * defaults) is In/Out: zero fields take the module's defaults and come back
 * filled in.  @id (may be NULL) receives the fabric id.
 */
int ha_fabric_create(int fd, struct hyperaether_quota *quota, __u32 *id);

/* Quotas and usage of the fabric; owner fd or any VM fd of it. */
int ha_fabric_info(int fd, struct hyperaether_fabric_info *info);

/* --------------------------------------------------------------- VMs */

/*
 * Add a VM named @name (at most HYPERAETHER_NAME_LEN - 1 bytes, printable)
 * with backend HYPERAETHER_BACKEND_*.  @quota (may be NULL) is In/Out as for
 * the fabric; @id receives the VM id.
 */
int ha_vm_add(int fd, const char *name, __u32 backend,
	      struct hyperaether_quota *quota, __u64 metadata, __u32 *id);
int ha_vm_remove(int fd, __u32 id);

/* Describe VM @id (owner fd) or the fd's own VM (@id HYPERAETHER_VM_SELF). */
int ha_vm_query(int fd, __u32 id, struct hyperaether_vm_query *q);

/*
 * Enumerate VM ids: up to *@count ids are written to @ids; *@count comes
 * back as the number of VMs alive (possibly more than were written).
 */
int ha_vm_list(int fd, __u32 *ids, __u32 *count);

/* ------------------------------------------------------ capabilities */

int ha_cap_set(int fd, __u32 src, __u32 dst, __u32 rights);
int ha_cap_get(int fd, __u32 src, __u32 dst, __u32 *rights);

/* Edges with rights, row-major; *@count In: capacity, Out: edges. */
int ha_cap_list(int fd, struct hyperaether_cap *edges, __u32 *count);

/* VM fd: add @rights on (@src, @dst) out of the caller's VM's own. */
int ha_cap_grant(int vmfd, __u32 src, __u32 dst, __u32 rights);

/* ------------------------------------------------------------ VM fds */

/* Returns a new fd acting as VM @id with @rights (HYPERAETHER_VMFD_*). */
int ha_vm_export(int fd, __u32 id, __u32 rights, __u32 flags);

/* A new fd for the same VM with a subset of this fd's rights. */
int ha_vmfd_dup(int vmfd, __u32 rights, __u32 flags);

/* Narrow this fd's rights to @rights. */
int ha_vmfd_limit(int vmfd, __u32 rights);

/* ---------------------------------------------------------- channels */

int ha_msg_send(int vmfd, __u32 dst, const void *data, __u32 len);

/*
 * Send @count messages in order; *@sent (may be NULL) says how many went.
 * Returns 0 or the error of the first message that failed.
 */
int ha_msg_send_batch(int vmfd, struct hyperaether_msg *msgs, __u32 count,
		      __u32 *sent);

/* Fill one &struct hyperaether_msg for ha_msg_send_batch(). */
static inline void ha_msg_init(struct hyperaether_msg *m, __u32 dst,
			       const void *data, __u32 len)
{
	m->flags = 0;
	m->dst = dst;
	m->len = len;
	m->pad = 0;
	m->data = (__u64)(unsigned long)data;
}

/*
 * Receive one message into @buf: a &struct hyperaether_msg_hdr, then the
 * payload.  *@len In: bytes at @buf; Out: bytes written, or on -EMSGSIZE
 * the size needed (the message stays queued).  @flags: 0 (wait) or
 * HYPERAETHER_MSG_NONBLOCK.
 */
int ha_msg_recv(int vmfd, void *buf, __u32 *len, __u32 flags);

/* ------------------------------------------------------------ memory */

/*
 * Map @len bytes of VM @vm's memory from byte @off through the VM fd
 * @vmfd, shared and read-write; *@addr receives the mapping.
 */
int ha_vm_mmap(int vmfd, __u32 vm, size_t off, size_t len, void **addr);

/* ---------------------------------------------------------- io_uring */

struct io_uring;
struct io_uring_sqe;

/*
 * Fill @sqe with a channel uring_cmd on the VM fd @vmfd (normal 64-byte
 * SQEs).  A send's cqe->res is 0 or -errno; a receive's is the bytes
 * written (header + payload) or -errno, and parks until a message comes.
 */
void ha_uring_prep_send(struct io_uring_sqe *sqe, int vmfd, __u32 dst,
			const void *buf, __u32 len);
void ha_uring_prep_recv(struct io_uring_sqe *sqe, int vmfd, void *buf,
			__u32 len);

/*
 * MSG_SEND_BATCH as one SQE (HYPERAETHER_FEAT_URING_SEND_BATCH): @batch is
 * filled here and must stay valid until the completion, when its @sent
 * says how many of @msgs went; cqe->res is 0 or the first message's error.
 */
void ha_uring_prep_send_batch(struct io_uring_sqe *sqe, int vmfd,
			      struct hyperaether_msg_batch *batch,
			      struct hyperaether_msg *msgs, __u32 count);

/* One send through @ring and its completion: cqe->res. */
int ha_uring_send(struct io_uring *ring, int vmfd, __u32 dst,
		  const void *buf, __u32 len);
/* One SEND_BATCH through @ring: cqe->res; *@sent (may be NULL) as above. */
int ha_uring_send_batch(struct io_uring *ring, int vmfd,
			struct hyperaether_msg *msgs, __u32 count, __u32 *sent);
/* One receive through @ring; waits until it completes: cqe->res. */
int ha_uring_recv(struct io_uring *ring, int vmfd, void *buf, __u32 len);

#ifdef __cplusplus
}
#endif

#endif /* HYPERAETHER_LIB_H */
