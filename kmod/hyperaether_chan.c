// SPDX-License-Identifier: GPL-2.0
/*
 * Hyper-Aether channels: bounded per-VM inboxes, sends checked against
 * cap(i, j), blocking and non-blocking receive, poll, and the same
 * operations as io_uring uring_cmds.  Nothing is ever dropped: a full
 * inbox refuses the send, a receive that cannot copy out puts the message
 * back.
 */
#include <linux/io_uring/cmd.h>
#include <linux/poll.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <kunit/visibility.h>

#include "hyperaether_drv.h"
#include "hyperaether_trace.h"

int ha_inbox_init(struct ha_inbox *ib, u32 depth)
{
	spin_lock_init(&ib->lock);
	init_waitqueue_head(&ib->wq);
	INIT_LIST_HEAD(&ib->parked);
	ib->depth = depth;
	ib->head = 0;
	ib->count = 0;
	ib->dead = false;
	ib->ring = kvcalloc(depth + 1, sizeof(*ib->ring), GFP_KERNEL_ACCOUNT);
	return ib->ring ? 0 : -ENOMEM;
}
EXPORT_SYMBOL_IF_KUNIT(ha_inbox_init);

static u32 ha_inbox_slot(const struct ha_inbox *ib, u32 i)
{
	return (ib->head + i) % (ib->depth + 1);
}

/* Frees whatever is still queued; the inbox must be dead or unused. */
void ha_inbox_fini(struct ha_inbox *ib)
{
	while (ib->count) {
		kfree(ib->ring[ib->head]);
		ib->ring[ib->head] = NULL;
		ib->head = ha_inbox_slot(ib, 1);
		ib->count--;
	}
	kvfree(ib->ring);
	ib->ring = NULL;
}
EXPORT_SYMBOL_IF_KUNIT(ha_inbox_fini);

/* Caller holds ib->lock.  Takes ownership of @msg on success. */
int ha_inbox_push(struct ha_inbox *ib, struct ha_msg *msg)
{
	lockdep_assert_held(&ib->lock);
	if (ib->dead)
		return -ENOENT;
	if (ib->count >= ib->depth)
		return -EAGAIN;
	ib->ring[ha_inbox_slot(ib, ib->count)] = msg;
	ib->count++;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(ha_inbox_push);

/*
 * Caller holds ib->lock.  Returns the oldest message if it fits in @max_len
 * bytes (header included), NULL if the inbox is empty, or
 * ERR_PTR(-EMSGSIZE) with *@need set if it does not fit (it stays queued).
 */
struct ha_msg *ha_inbox_pop(struct ha_inbox *ib, u32 max_len, u32 *need)
{
	struct ha_msg *msg;
	u32 size;

	lockdep_assert_held(&ib->lock);
	if (!ib->count)
		return NULL;
	msg = ib->ring[ib->head];
	size = sizeof(msg->hdr) + msg->hdr.len;
	if (size > max_len) {
		*need = size;
		return ERR_PTR(-EMSGSIZE);
	}
	ib->ring[ib->head] = NULL;
	ib->head = ha_inbox_slot(ib, 1);
	ib->count--;
	return msg;
}
EXPORT_SYMBOL_IF_KUNIT(ha_inbox_pop);

/* Caller holds ib->lock: put a just-popped message back at the head. */
void ha_inbox_unpop(struct ha_inbox *ib, struct ha_msg *msg)
{
	lockdep_assert_held(&ib->lock);
	/* The spare slot guarantees room even if senders refilled the ring. */
	ib->head = (ib->head + ib->depth) % (ib->depth + 1);
	ib->ring[ib->head] = msg;
	ib->count++;
}
EXPORT_SYMBOL_IF_KUNIT(ha_inbox_unpop);

/**
 * struct ha_uring_pdu - what a parked io_uring receive remembers
 * @node: entry in &ha_inbox.parked
 * @buf: user buffer for header + payload
 * @len: bytes at @buf
 */
struct ha_uring_pdu {
	struct list_head node;
	u64 buf;
	u32 len;
};

static struct ha_uring_pdu *ha_pdu(struct io_uring_cmd *cmd)
{
	return io_uring_cmd_to_pdu(cmd, struct ha_uring_pdu);
}

static struct io_uring_cmd *ha_pdu_cmd(struct ha_uring_pdu *pdu)
{
	return container_of((void *)pdu, struct io_uring_cmd, pdu);
}

static void ha_uring_recv_tw(struct io_uring_cmd *cmd, unsigned int issue_flags);

/*
 * Caller holds ib->lock: hand the first parked io_uring receive (if any)
 * to task context, where it can copy to its owner's memory.
 */
static void ha_inbox_kick_parked(struct ha_inbox *ib)
{
	struct ha_uring_pdu *pdu;

	pdu = list_first_entry_or_null(&ib->parked, struct ha_uring_pdu, node);
	if (!pdu)
		return;
	list_del_init(&pdu->node);
	io_uring_cmd_complete_in_task(ha_pdu_cmd(pdu), ha_uring_recv_tw);
}

/* The VM was removed: free the queue, fail every waiter with -ENODEV. */
void ha_inbox_kill(struct ha_inbox *ib)
{
	spin_lock(&ib->lock);
	ib->dead = true;
	while (!list_empty(&ib->parked))
		ha_inbox_kick_parked(ib);
	spin_unlock(&ib->lock);
	wake_up_all(&ib->wq);
}
EXPORT_SYMBOL_IF_KUNIT(ha_inbox_kill);

int ha_chan_send(struct ha_vm *src, u32 dst_id, const void __user *data, u32 len)
{
	struct ha_fabric *fabric = src->fabric;
	struct ha_vm *dst;
	struct ha_msg *msg;
	int ret;

	if (READ_ONCE(src->dead))
		return -ENODEV;
	if (len > HYPERAETHER_MSG_MAX)
		return -EMSGSIZE;

	dst = ha_vm_get(fabric, dst_id);
	if (!dst)
		return -ENOENT;

	if (!ha_cap_may_send(&fabric->caps, src->id, dst_id)) {
		atomic64_inc(&src->denials);
		trace_ha_cap_deny(fabric->id, src->id, dst_id, "send");
		ret = -EACCES;
		goto out_put;
	}

	msg = kmalloc(struct_size(msg, data, len), GFP_KERNEL_ACCOUNT);
	if (!msg) {
		ret = -ENOMEM;
		goto out_put;
	}
	if (copy_from_user(msg->data, data, len)) {
		ret = -EFAULT;
		goto out_free;
	}
	msg->hdr.src = src->id;
	msg->hdr.len = len;

	spin_lock(&dst->inbox.lock);
	/* seq is taken under the lock so that it orders like the queue. */
	msg->hdr.seq = atomic64_inc_return(&fabric->seq);
	ret = ha_inbox_push(&dst->inbox, msg);
	if (!ret)
		ha_inbox_kick_parked(&dst->inbox);
	spin_unlock(&dst->inbox.lock);
	if (ret)
		goto out_free;

	wake_up_interruptible_poll(&dst->inbox.wq, EPOLLIN | EPOLLRDNORM);
	atomic64_inc(&src->msgs_sent);
	trace_ha_msg_send(fabric->id, src->id, dst_id, len);
	ha_vm_put(dst);
	return 0;

out_free:
	kfree(msg);
out_put:
	ha_vm_put(dst);
	return ret;
}

/*
 * Take one message and copy it out.  Returns bytes written, -EAGAIN if
 * the inbox is empty, -ENODEV if the VM is gone, -EMSGSIZE (*len = size
 * needed), or -EFAULT (the message is put back).
 */
static int ha_chan_try_recv(struct ha_vm *vm, void __user *buf, u32 *len)
{
	struct ha_inbox *ib = &vm->inbox;
	struct ha_msg *msg;
	u32 need = 0, size;

	spin_lock(&ib->lock);
	if (ib->dead) {
		spin_unlock(&ib->lock);
		return -ENODEV;
	}
	msg = ha_inbox_pop(ib, *len, &need);
	spin_unlock(&ib->lock);
	if (!msg)
		return -EAGAIN;
	if (IS_ERR(msg)) {
		*len = need;
		return PTR_ERR(msg);
	}

	size = sizeof(msg->hdr) + msg->hdr.len;
	if (copy_to_user(buf, msg, size)) {
		spin_lock(&ib->lock);
		if (!ib->dead) {
			ha_inbox_unpop(ib, msg);
			msg = NULL;
		}
		spin_unlock(&ib->lock);
		kfree(msg);
		return -EFAULT;
	}
	atomic64_inc(&vm->msgs_received);
	trace_ha_msg_recv(vm->fabric->id, msg->hdr.src, vm->id, msg->hdr.len);
	kfree(msg);
	*len = size;
	return size;
}

int ha_chan_recv(struct ha_vm *vm, void __user *buf, u32 *len, bool nonblock)
{
	struct ha_inbox *ib = &vm->inbox;
	int ret;

	for (;;) {
		ret = ha_chan_try_recv(vm, buf, len);
		if (ret != -EAGAIN || nonblock)
			return ret;
		if (wait_event_interruptible(ib->wq, READ_ONCE(ib->count) ||
					     READ_ONCE(ib->dead)))
			return -EINTR;
	}
}

__poll_t ha_chan_poll(struct ha_vm *vm, struct file *filp,
		      struct poll_table_struct *wait)
{
	struct ha_inbox *ib = &vm->inbox;
	__poll_t mask = 0;

	poll_wait(filp, &ib->wq, wait);
	spin_lock(&ib->lock);
	if (ib->count)
		mask |= EPOLLIN | EPOLLRDNORM;
	if (ib->dead)
		mask |= EPOLLHUP;
	spin_unlock(&ib->lock);
	return mask;
}

/* Park an io_uring receive; the caller returns -EIOCBQUEUED. */
static void ha_uring_park(struct ha_vm *vm, struct io_uring_cmd *cmd)
{
	struct ha_inbox *ib = &vm->inbox;

	spin_lock(&ib->lock);
	list_add_tail(&ha_pdu(cmd)->node, &ib->parked);
	/* A message may have arrived, or the VM died, since we looked. */
	if (ib->count || ib->dead)
		ha_inbox_kick_parked(ib);
	spin_unlock(&ib->lock);
}

/* Task context of the ring's owner: receive for a parked command. */
static void ha_uring_recv_tw(struct io_uring_cmd *cmd, unsigned int issue_flags)
{
	struct ha_vmfd *vmfd = ha_vmfd_from_file(cmd->file);
	struct ha_uring_pdu *pdu = ha_pdu(cmd);
	u32 len = pdu->len;
	int ret;

	ret = ha_chan_try_recv(vmfd->vm, u64_to_user_ptr(pdu->buf), &len);
	if (ret == -EAGAIN) {
		/* Another receiver took it first: wait for the next one. */
		ha_uring_park(vmfd->vm, cmd);
		return;
	}
	io_uring_cmd_done(cmd, ret, 0, issue_flags);
}

/* The ring is going away: complete a parked receive with -ECANCELED. */
static void ha_uring_cancel(struct ha_vm *vm, struct io_uring_cmd *cmd,
			    unsigned int issue_flags)
{
	struct ha_inbox *ib = &vm->inbox;
	struct ha_uring_pdu *pdu = ha_pdu(cmd);
	bool found = false;

	spin_lock(&ib->lock);
	if (!list_empty(&pdu->node)) {
		list_del_init(&pdu->node);
		found = true;
	}
	spin_unlock(&ib->lock);
	/* Not parked any more: task work owns it and will complete it. */
	if (found)
		io_uring_cmd_done(cmd, -ECANCELED, 0, issue_flags);
}

int ha_chan_uring_cmd(struct ha_vmfd *vmfd, struct io_uring_cmd *cmd,
		      unsigned int issue_flags)
{
	const struct hyperaether_uring_msg *sqe_msg = io_uring_sqe_cmd(cmd->sqe);
	struct ha_uring_pdu *pdu = ha_pdu(cmd);
	struct ha_vm *vm = vmfd->vm;
	u32 rights = READ_ONCE(vmfd->rights);
	u64 addr;
	u32 len, dst;
	int ret;

	if (issue_flags & IO_URING_F_CANCEL) {
		ha_uring_cancel(vm, cmd, issue_flags);
		return 0;
	}

	/* The SQE is shared with userspace: read each field once. */
	addr = READ_ONCE(sqe_msg->addr);
	len = READ_ONCE(sqe_msg->len);
	dst = READ_ONCE(sqe_msg->vm);

	/* Same order of checks as the ioctls: a dead VM first. */
	if (READ_ONCE(vm->dead)) {
		ret = -ENODEV;
		goto out;
	}

	switch (cmd->cmd_op) {
	case HYPERAETHER_URING_CMD_SEND:
		if (!(rights & HYPERAETHER_VMFD_SEND))
			ret = -EPERM;
		else
			ret = ha_chan_send(vm, dst, u64_to_user_ptr(addr), len);
		break;
	case HYPERAETHER_URING_CMD_RECV:
		if (dst) {
			ret = -EINVAL;
			break;
		}
		if (!(rights & HYPERAETHER_VMFD_RECV)) {
			ret = -EPERM;
			break;
		}
		ret = ha_chan_try_recv(vm, u64_to_user_ptr(addr), &len);
		if (ret == -EAGAIN) {
			INIT_LIST_HEAD(&pdu->node);
			pdu->buf = addr;
			pdu->len = READ_ONCE(sqe_msg->len);
			io_uring_cmd_mark_cancelable(cmd, issue_flags);
			ha_uring_park(vm, cmd);
			return -EIOCBQUEUED;
		}
		break;
	default:
		ret = -EINVAL;
		break;
	}

out:
	/* io_uring would retry a plain -EAGAIN; a full inbox is a result. */
	if (ret == -EAGAIN) {
		io_uring_cmd_done(cmd, ret, 0, issue_flags);
		return -EIOCBQUEUED;
	}
	return ret;
}
