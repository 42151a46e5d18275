/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * Hyper-Aether fabric device: /dev/hyperaether.
 *
 * The only ABI between the hyperaether.ko module and userspace.  Rules
 * (Documentation/process/botching-up-ioctls.rst):
 *
 *  - fixed-width types only, pointers as __u64, every struct padded to a
 *    multiple of 8 bytes with explicit padding that must be zero;
 *  - every struct carries a flags field; unknown bits are rejected with
 *    -EINVAL so that they can be given a meaning later;
 *  - structs grow by appending fields.  The size is encoded in the ioctl
 *    number: the kernel accepts a shorter (older) struct and zero-extends
 *    it, and accepts a longer (newer) one only if the bytes it does not
 *    know are zero (else -E2BIG);
 *  - capabilities are discovered with HYPERAETHER_IOC_GET_INFO, never
 *    guessed from a version number.
 *
 * Objects.  Opening /dev/hyperaether gives a device fd.  FABRIC_CREATE
 * turns it into the owner of one fabric: a graph of VMs whose directed
 * edges carry rights (default: none).  The owner adds and removes VMs,
 * sets rights, and exports a VM as a file descriptor of its own that acts
 * as that VM only, with a rights mask that can be narrowed but never
 * widened.  Closing the owner fd tears the fabric down: every VM is
 * removed, parked receivers fail with -ENODEV, VM fds stay valid objects
 * that answer -ENODEV.  See Documentation/hyperaether.rst.
 */
#ifndef _UAPI_LINUX_HYPERAETHER_H
#define _UAPI_LINUX_HYPERAETHER_H

#include <linux/const.h>
#include <linux/ioctl.h>
#include <linux/types.h>

#define HYPERAETHER_DEVICE_NAME		"hyperaether"

/* ABI version: major changes never happen, minor grows with each feature. */
#define HYPERAETHER_API_MAJOR		1
#define HYPERAETHER_API_MINOR		2

/* Feature bits reported in &hyperaether_info.features. */
/** @HYPERAETHER_FEAT_INFO: HYPERAETHER_IOC_GET_INFO is implemented. */
#define HYPERAETHER_FEAT_INFO		_BITULL(0)
/** @HYPERAETHER_FEAT_FABRIC: fabrics, VMs, rights, VM fds. */
#define HYPERAETHER_FEAT_FABRIC		_BITULL(1)
/** @HYPERAETHER_FEAT_MEMORY: per-VM memory, mmap through VM fds. */
#define HYPERAETHER_FEAT_MEMORY		_BITULL(2)
/** @HYPERAETHER_FEAT_CHANNELS: message channels by ioctl and poll. */
#define HYPERAETHER_FEAT_CHANNELS	_BITULL(3)
/** @HYPERAETHER_FEAT_URING_CMD: channel ops as io_uring uring_cmd. */
#define HYPERAETHER_FEAT_URING_CMD	_BITULL(4)
/**
 * @HYPERAETHER_FEAT_URING_SEND_BATCH: %HYPERAETHER_URING_CMD_SEND_BATCH
 * (API 1.2).
 */
#define HYPERAETHER_FEAT_URING_SEND_BATCH _BITULL(5)
/**
 * @HYPERAETHER_FEAT_MAP_REVOKE: losing SHARE unmaps what was mapped with
 * it; touching such a mapping raises SIGBUS (API 1.2).
 */
#define HYPERAETHER_FEAT_MAP_REVOKE	_BITULL(6)

/* Hard limits of this module (quotas can only be lower). */
#define HYPERAETHER_MAX_VMS		1024
#define HYPERAETHER_MAX_QUEUE_DEPTH	4096
#define HYPERAETHER_MSG_MAX		4096
#define HYPERAETHER_NAME_LEN		32
#define HYPERAETHER_MSG_BATCH_MAX	1024

/**
 * struct hyperaether_info - device and ABI description
 *
 * Argument of %HYPERAETHER_IOC_GET_INFO.
 */
struct hyperaether_info {
	/** @flags: In: must be 0. */
	__u32 flags;
	/** @pad: In: must be 0. */
	__u32 pad;
	/** @api_major: Out: %HYPERAETHER_API_MAJOR of the running module. */
	__u32 api_major;
	/** @api_minor: Out: %HYPERAETHER_API_MINOR of the running module. */
	__u32 api_minor;
	/** @features: Out: mask of HYPERAETHER_FEAT_* the module implements. */
	__u64 features;
	/**
	 * @struct_size: Out: size in bytes of this struct as the module knows
	 * it; a caller with a larger struct sees which tail is valid.
	 */
	__u32 struct_size;
	/** @pad2: Out: 0. */
	__u32 pad2;
};

/**
 * struct hyperaether_quota - limits of a fabric or of one VM
 *
 * A zero field means "the default" on input (the fabric's value for a VM,
 * the module's default for a fabric); on output every field holds the
 * value in force.
 */
struct hyperaether_quota {
	/** @mem_bytes: memory the VM(s) may own, bytes. */
	__u64 mem_bytes;
	/** @epochs: epoch budget for jobs run on behalf of the VM(s). */
	__u64 epochs;
	/** @max_vms: fabric only: VM count limit; must be 0 for a VM. */
	__u32 max_vms;
	/** @queue_depth: messages an inbox holds before a send gets -EAGAIN. */
	__u32 queue_depth;
};

/**
 * struct hyperaether_usage - what a fabric or a VM uses now
 */
struct hyperaether_usage {
	/** @mem_bytes: memory allocated. */
	__u64 mem_bytes;
	/** @msgs_sent: messages accepted for delivery. */
	__u64 msgs_sent;
	/** @msgs_received: messages delivered to a receiver. */
	__u64 msgs_received;
	/** @denials: operations refused by a capability or rights check. */
	__u64 denials;
	/** @nr_vms: fabric only: VMs alive. */
	__u32 nr_vms;
	/** @queued: messages waiting in the inbox(es). */
	__u32 queued;
};

/**
 * struct hyperaether_fabric_create - make this device fd own a fabric
 *
 * Argument of %HYPERAETHER_IOC_FABRIC_CREATE.  An fd owns at most one
 * fabric (-EBUSY for a second).
 */
struct hyperaether_fabric_create {
	/** @flags: In: must be 0. */
	__u32 flags;
	/** @id: Out: fabric id, unique while the module is loaded. */
	__u32 id;
	/** @quota: In/Out: fabric quotas; zero fields take defaults. */
	struct hyperaether_quota quota;
};

/**
 * struct hyperaether_fabric_info - quotas and usage of the fabric
 *
 * Argument of %HYPERAETHER_IOC_FABRIC_INFO; works on the owner fd and on
 * any VM fd of the fabric.
 */
struct hyperaether_fabric_info {
	/** @flags: In: must be 0. */
	__u32 flags;
	/** @id: Out: fabric id. */
	__u32 id;
	/** @quota: Out: limits in force. */
	struct hyperaether_quota quota;
	/** @usage: Out: current use. */
	struct hyperaether_usage usage;
};

/* Backends a fabric VM can be attached to. */
#define HYPERAETHER_BACKEND_NONE	0	/* a pure fabric node */
#define HYPERAETHER_BACKEND_LAVM	1	/* LAVM instances on the accel driver */
#define HYPERAETHER_BACKEND_KVM		2	/* a KVM guest */

/**
 * struct hyperaether_vm_add - add a VM to the fabric (owner fd only)
 */
struct hyperaether_vm_add {
	/** @flags: In: must be 0. */
	__u32 flags;
	/** @backend: In: HYPERAETHER_BACKEND_*. */
	__u32 backend;
	/** @name: In: NUL-terminated, printable ASCII, no spaces, unique. */
	char name[HYPERAETHER_NAME_LEN];
	/** @quota: In/Out: VM quotas; @quota.max_vms must be 0. */
	struct hyperaether_quota quota;
	/** @metadata: In: opaque to the kernel, returned by VM_QUERY. */
	__u64 metadata;
	/** @id: Out: VM id, in [0, fabric max_vms). */
	__u32 id;
	/** @pad: must be 0. */
	__u32 pad;
};

/**
 * struct hyperaether_vm_id - names one VM (VM_REMOVE)
 */
struct hyperaether_vm_id {
	/** @flags: In: must be 0. */
	__u32 flags;
	/** @id: In: VM id. */
	__u32 id;
};

/**
 * struct hyperaether_vm_query - describe one VM
 *
 * On the owner fd @id selects the VM; on a VM fd @id must be the fd's own
 * VM or %HYPERAETHER_VM_SELF.
 */
struct hyperaether_vm_query {
	/** @flags: In: must be 0. */
	__u32 flags;
	/** @id: In: VM id, or HYPERAETHER_VM_SELF on a VM fd. Out: VM id. */
	__u32 id;
	/** @name: Out. */
	char name[HYPERAETHER_NAME_LEN];
	/** @backend: Out: HYPERAETHER_BACKEND_*. */
	__u32 backend;
	/** @rights: Out: on a VM fd, the fd's rights; on the owner fd, all. */
	__u32 rights;
	/** @metadata: Out: as given to VM_ADD. */
	__u64 metadata;
	/** @quota: Out. */
	struct hyperaether_quota quota;
	/** @usage: Out. */
	struct hyperaether_usage usage;
};

#define HYPERAETHER_VM_SELF		0xffffffffu

/**
 * struct hyperaether_vm_list - enumerate the VM ids of the fabric
 *
 * The kernel writes up to @count ids to @ids and sets @count to the number
 * of VMs alive; call again with a larger array if it grew.
 */
struct hyperaether_vm_list {
	/** @flags: In: must be 0. */
	__u32 flags;
	/** @count: In: capacity of @ids. Out: VMs alive. */
	__u32 count;
	/** @ids: In: user pointer to __u32[count]. */
	__u64 ids;
};

/* Rights on a directed edge (src -> dst): what src may do with dst. */
/** @HYPERAETHER_CAP_SEND: src may send messages to dst. */
#define HYPERAETHER_CAP_SEND		0x1u
/** @HYPERAETHER_CAP_RECV: src accepts messages from dst. */
#define HYPERAETHER_CAP_RECV		0x2u
/** @HYPERAETHER_CAP_SHARE: src may map dst's memory. */
#define HYPERAETHER_CAP_SHARE		0x4u
/** @HYPERAETHER_CAP_GRANT: src may pass its rights on dst to other VMs. */
#define HYPERAETHER_CAP_GRANT		0x8u
#define HYPERAETHER_CAP_ALL		0xfu

/**
 * struct hyperaether_cap - rights on one edge
 *
 * %HYPERAETHER_IOC_CAP_SET (owner fd) replaces the rights of (src, dst);
 * 0 revokes them.  %HYPERAETHER_IOC_CAP_GET reads them (owner fd, or a VM
 * fd for edges from its own VM).  %HYPERAETHER_IOC_CAP_GRANT (VM fd
 * holding %HYPERAETHER_VMFD_GRANT) adds @rights on (@src, @dst) where
 * @src is another VM and @dst a VM on which the caller's VM holds
 * %HYPERAETHER_CAP_GRANT and every bit of @rights.
 * A message src -> dst needs SEND on (src, dst) and RECV on (dst, src).
 */
struct hyperaether_cap {
	/** @flags: In: must be 0. */
	__u32 flags;
	/** @src: In: VM id. */
	__u32 src;
	/** @dst: In: VM id; may equal @src. */
	__u32 dst;
	/** @rights: In (SET, GRANT) / Out (GET): HYPERAETHER_CAP_* mask. */
	__u32 rights;
};

/**
 * struct hyperaether_cap_list - enumerate edges with non-zero rights
 *
 * The kernel writes up to @count edges to @edges (row-major order of
 * (src, dst)) and sets @count to the number of such edges.
 */
struct hyperaether_cap_list {
	/** @flags: In: must be 0. */
	__u32 flags;
	/** @count: In: capacity of @edges. Out: edges with rights. */
	__u32 count;
	/** @edges: In: user pointer to struct hyperaether_cap[count]. */
	__u64 edges;
};

/* Rights of a VM fd: what the holder of the fd may do as the VM. */
#define HYPERAETHER_VMFD_SEND		0x1u	/* send messages */
#define HYPERAETHER_VMFD_RECV		0x2u	/* receive messages */
#define HYPERAETHER_VMFD_MAP		0x4u	/* mmap own memory */
#define HYPERAETHER_VMFD_MAP_PEER	0x8u	/* mmap memory it holds SHARE on */
#define HYPERAETHER_VMFD_GRANT		0x10u	/* CAP_GRANT */
#define HYPERAETHER_VMFD_DUP		0x20u	/* VMFD_DUP */
#define HYPERAETHER_VMFD_ALL		0x3fu

/**
 * struct hyperaether_vm_fd - a file descriptor acting as one VM
 *
 * %HYPERAETHER_IOC_VM_EXPORT (owner fd): new fd for VM @id with @rights.
 * %HYPERAETHER_IOC_VMFD_DUP (VM fd with %HYPERAETHER_VMFD_DUP): new fd for
 * the same VM with @rights, which must be a subset of the caller's
 * (-EPERM otherwise).
 * %HYPERAETHER_IOC_VMFD_LIMIT (VM fd): narrow the fd's own rights to
 * @rights, a subset of the current ones (-EPERM otherwise); @fd unused.
 * New fds are O_CLOEXEC unless @flags has %HYPERAETHER_VMFD_F_INHERIT.
 */
struct hyperaether_vm_fd {
	/** @flags: In: 0 or %HYPERAETHER_VMFD_F_INHERIT. */
	__u32 flags;
	/** @id: In: VM id (EXPORT only; must be 0 otherwise). */
	__u32 id;
	/** @rights: In: HYPERAETHER_VMFD_* mask. */
	__u32 rights;
	/** @fd: Out: the new file descriptor. */
	__s32 fd;
};

#define HYPERAETHER_VMFD_F_INHERIT	0x1u

/*
 * Per-VM memory.  VM_ADD's quota.mem_bytes (rounded up to pages) is
 * allocated with the VM and charged to the caller's memory cgroup.  A VM
 * fd maps VM j's memory at offset HYPERAETHER_MEM_OFFSET(j): its own with
 * %HYPERAETHER_VMFD_MAP, another VM's with %HYPERAETHER_VMFD_MAP_PEER and
 * %HYPERAETHER_CAP_SHARE on (self, j), checked at mmap time and again at
 * every page fault.  When (self, j) loses SHARE (CAP_SET, removal of
 * either VM, the owner closing the fabric), j's pages are unmapped from
 * every mapping made through any fd of self, and touching them raises
 * SIGBUS (%HYPERAETHER_FEAT_MAP_REVOKE).  A removed VM's mappings, its
 * own memory included, are unmapped the same way.
 */
#define HYPERAETHER_MEM_SHIFT		32
#define HYPERAETHER_MEM_OFFSET(id)	((__u64)(id) << HYPERAETHER_MEM_SHIFT)

/**
 * struct hyperaether_msg_hdr - what a receiver finds before the payload
 */
struct hyperaether_msg_hdr {
	/** @src: sending VM id. */
	__u32 src;
	/** @len: payload bytes that follow. */
	__u32 len;
	/** @seq: per-fabric sequence number of the send, from 1. */
	__u64 seq;
};

/* Flags of send and receive. */
/** @HYPERAETHER_MSG_NONBLOCK: receive: -EAGAIN instead of waiting. */
#define HYPERAETHER_MSG_NONBLOCK	0x1u

/**
 * struct hyperaether_msg - one message to send (VM fd with VMFD_SEND)
 *
 * Sends never block: a full inbox is -EAGAIN and nothing is queued.
 */
struct hyperaether_msg {
	/** @flags: In: must be 0. */
	__u32 flags;
	/** @dst: In: receiving VM id. */
	__u32 dst;
	/** @len: In: payload bytes, at most %HYPERAETHER_MSG_MAX. */
	__u32 len;
	/** @pad: must be 0. */
	__u32 pad;
	/** @data: In: user pointer to the payload. */
	__u64 data;
};

/**
 * struct hyperaether_msg_batch - send several messages with one call
 *
 * Messages are sent in order; the call stops at the first that fails.
 * Returns 0 if all were sent, else the error of the first failure, and
 * @sent says how many went (each one delivered exactly once).
 */
struct hyperaether_msg_batch {
	/** @flags: In: must be 0. */
	__u32 flags;
	/** @count: In: entries in @msgs, at most %HYPERAETHER_MSG_BATCH_MAX. */
	__u32 count;
	/** @msgs: In: user pointer to struct hyperaether_msg[count]. */
	__u64 msgs;
	/** @sent: Out: messages sent. */
	__u32 sent;
	/** @pad: must be 0. */
	__u32 pad;
};

/* Size of the first version of struct hyperaether_msg_batch. */
#define HYPERAETHER_MSG_BATCH_SIZE_VER0	24

/**
 * struct hyperaether_msg_recv - receive one message (VM fd with VMFD_RECV)
 *
 * Writes a &struct hyperaether_msg_hdr and the payload to @buf.  Waits for
 * a message unless %HYPERAETHER_MSG_NONBLOCK; a signal ends the wait with
 * -EINTR and loses nothing.  A message larger than the buffer stays queued
 * and the call fails with -EMSGSIZE, @len telling the size needed.
 */
struct hyperaether_msg_recv {
	/** @flags: In: 0 or %HYPERAETHER_MSG_NONBLOCK. */
	__u32 flags;
	/** @len: In: bytes at @buf. Out: bytes written (header + payload). */
	__u32 len;
	/** @buf: In: user pointer. */
	__u64 buf;
};

/*
 * io_uring passthrough on a VM fd (IORING_OP_URING_CMD, 64-byte SQEs).
 * sqe->cmd_op selects the operation and the 16 bytes of sqe->cmd hold
 * a struct hyperaether_uring_msg.  cqe->res is the ioctl's return value:
 * 0 for a send, bytes written for a receive, or -errno.  A receive with
 * no message waiting parks until one arrives (ublk's FETCH pattern) and is
 * cancelled with -ECANCELED when the ring goes away; it never loses a
 * message.
 *
 * SEND_BATCH (%HYPERAETHER_FEAT_URING_SEND_BATCH) is MSG_SEND_BATCH as one
 * SQE: @addr points at a struct hyperaether_msg_batch, @len is its size
 * (at least %HYPERAETHER_MSG_BATCH_SIZE_VER0; a larger struct must have
 * zero bytes beyond what the module knows, else -E2BIG), @vm must be 0.
 * The kernel writes @sent back to that struct and cqe->res is 0 or the
 * error of the first message not sent, exactly as the ioctl returns.
 * Consecutive messages to one VM are queued under one lock with one
 * wakeup.
 */
#define HYPERAETHER_URING_CMD_SEND		0x01
#define HYPERAETHER_URING_CMD_RECV		0x02
#define HYPERAETHER_URING_CMD_SEND_BATCH	0x03

/**
 * struct hyperaether_uring_msg - sqe->cmd payload
 */
struct hyperaether_uring_msg {
	/**
	 * @addr: SEND: payload; RECV: buffer for header + payload;
	 * SEND_BATCH: a struct hyperaether_msg_batch.
	 */
	__u64 addr;
	/** @len: SEND: payload bytes; RECV: buffer bytes; SEND_BATCH: struct size. */
	__u32 len;
	/** @vm: SEND: destination VM id; RECV, SEND_BATCH: must be 0. */
	__u32 vm;
};

#define HYPERAETHER_IOC_MAGIC		0xB9

/* All ioctl numbers, in one table; numbers are never reused. */
/* On a device (owner) fd: */
#define HYPERAETHER_IOC_GET_INFO \
	_IOWR(HYPERAETHER_IOC_MAGIC, 0x00, struct hyperaether_info)
#define HYPERAETHER_IOC_FABRIC_CREATE \
	_IOWR(HYPERAETHER_IOC_MAGIC, 0x01, struct hyperaether_fabric_create)
#define HYPERAETHER_IOC_FABRIC_INFO \
	_IOWR(HYPERAETHER_IOC_MAGIC, 0x02, struct hyperaether_fabric_info)
#define HYPERAETHER_IOC_VM_ADD \
	_IOWR(HYPERAETHER_IOC_MAGIC, 0x03, struct hyperaether_vm_add)
#define HYPERAETHER_IOC_VM_REMOVE \
	_IOW(HYPERAETHER_IOC_MAGIC, 0x04, struct hyperaether_vm_id)
#define HYPERAETHER_IOC_VM_QUERY \
	_IOWR(HYPERAETHER_IOC_MAGIC, 0x05, struct hyperaether_vm_query)
#define HYPERAETHER_IOC_VM_LIST \
	_IOWR(HYPERAETHER_IOC_MAGIC, 0x06, struct hyperaether_vm_list)
#define HYPERAETHER_IOC_CAP_SET \
	_IOW(HYPERAETHER_IOC_MAGIC, 0x07, struct hyperaether_cap)
#define HYPERAETHER_IOC_CAP_GET \
	_IOWR(HYPERAETHER_IOC_MAGIC, 0x08, struct hyperaether_cap)
#define HYPERAETHER_IOC_CAP_LIST \
	_IOWR(HYPERAETHER_IOC_MAGIC, 0x09, struct hyperaether_cap_list)
#define HYPERAETHER_IOC_VM_EXPORT \
	_IOWR(HYPERAETHER_IOC_MAGIC, 0x0a, struct hyperaether_vm_fd)
/* On a VM fd (FABRIC_INFO, VM_QUERY and CAP_GET work there too): */
#define HYPERAETHER_IOC_VMFD_DUP \
	_IOWR(HYPERAETHER_IOC_MAGIC, 0x20, struct hyperaether_vm_fd)
#define HYPERAETHER_IOC_VMFD_LIMIT \
	_IOW(HYPERAETHER_IOC_MAGIC, 0x21, struct hyperaether_vm_fd)
#define HYPERAETHER_IOC_CAP_GRANT \
	_IOW(HYPERAETHER_IOC_MAGIC, 0x22, struct hyperaether_cap)
#define HYPERAETHER_IOC_MSG_SEND \
	_IOW(HYPERAETHER_IOC_MAGIC, 0x23, struct hyperaether_msg)
#define HYPERAETHER_IOC_MSG_SEND_BATCH \
	_IOWR(HYPERAETHER_IOC_MAGIC, 0x24, struct hyperaether_msg_batch)
#define HYPERAETHER_IOC_MSG_RECV \
	_IOWR(HYPERAETHER_IOC_MAGIC, 0x25, struct hyperaether_msg_recv)

#endif /* _UAPI_LINUX_HYPERAETHER_H */
