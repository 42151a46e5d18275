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

static_assert(sizeof(struct ha_slot) == 128);
static_assert(offsetof(struct ha_slot, data) == sizeof(struct hyperaether_msg_hdr));

/* Bytes of @s that carry meaning: header and inline payload, or pointer. */
static size_t ha_slot_bytes(const struct ha_slot *s)
{
	if (s->hdr.len > HA_MSG_INLINE)
		return offsetofend(struct ha_slot, payload);
	return offsetof(struct ha_slot, data) + s->hdr.len;
}

static void ha_slot_copy(struct ha_slot *dst, const struct ha_slot *src)
{
	memcpy(dst, src, ha_slot_bytes(src));
}

/* Frees an out-of-line payload; the slot is empty afterwards. */
void ha_slot_release(struct ha_slot *s)
{
	if (s->hdr.len > HA_MSG_INLINE)
		kfree(s->payload);
	s->hdr.len = 0;
}
EXPORT_SYMBOL_IF_KUNIT(ha_slot_release);

/* Copies a sender's payload in; -EFAULT or -ENOMEM leave @s empty. */
static int ha_slot_fill(struct ha_slot *s, u32 src, const void __user *data,
			u32 len)
{
	void *buf = s->data;

	s->hdr.src = src;
	s->hdr.len = len;
	s->hdr.seq = 0;
	if (len > HA_MSG_INLINE) {
		buf = kmalloc(len, GFP_KERNEL_ACCOUNT);
		if (!buf) {
			s->hdr.len = 0;
			return -ENOMEM;
		}
		s->payload = buf;
	}
	if (copy_from_user(buf, data, len)) {
		ha_slot_release(s);
		return -EFAULT;
	}
	return 0;
}

/* Header and payload, contiguous in userspace. */
static int ha_slot_to_user(void __user *buf, const struct ha_slot *s)
{
	if (s->hdr.len <= HA_MSG_INLINE)
		return copy_to_user(buf, s, sizeof(s->hdr) + s->hdr.len) ? -EFAULT : 0;
	if (copy_to_user(buf, &s->hdr, sizeof(s->hdr)) ||
	    copy_to_user(buf + sizeof(s->hdr), s->payload, s->hdr.len))
		return -EFAULT;
	return 0;
}

int ha_inbox_init(struct ha_inbox *ib, u32 depth)
{
	spin_lock_init(&ib->lock);
	init_waitqueue_head(&ib->wq);
	INIT_LIST_HEAD(&ib->parked);
	ib->depth = depth;
	ib->head = 0;
	ib->count = 0;
	ib->dead = false;
	/* Only queued slots are ever read: no need to zero them. */
	ib->ring = kvmalloc_array(depth + 1, sizeof(*ib->ring), GFP_KERNEL_ACCOUNT);
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
		ha_slot_release(&ib->ring[ib->head]);
		ib->head = ha_inbox_slot(ib, 1);
		ib->count--;
	}
	kvfree(ib->ring);
	ib->ring = NULL;
}
EXPORT_SYMBOL_IF_KUNIT(ha_inbox_fini);

/*
 * Caller holds ib->lock.  Queues a copy of @msg with sequence number @seq;
 * on success the inbox owns an out-of-line payload.
 */
int ha_inbox_push(struct ha_inbox *ib, const struct ha_slot *msg, u64 seq)
{
	struct ha_slot *slot;

	lockdep_assert_held(&ib->lock);
	if (ib->dead)
		return -ENOENT;
	if (ib->count >= ib->depth)
		return -EAGAIN;
	slot = &ib->ring[ha_inbox_slot(ib, ib->count)];
	ha_slot_copy(slot, msg);
	slot->hdr.seq = seq;
	ib->count++;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(ha_inbox_push);

/*
 * Caller holds ib->lock.  Moves the oldest message to @msg if it fits in
 * @max_len bytes (header included) and returns 1; returns 0 if the inbox
 * is empty, or -EMSGSIZE with *@need set if it does not fit (it stays
 * queued).
 */
int ha_inbox_pop(struct ha_inbox *ib, u32 max_len, u32 *need,
		 struct ha_slot *msg)
{
	struct ha_slot *slot;
	u32 size;

	lockdep_assert_held(&ib->lock);
	if (!ib->count)
		return 0;
	slot = &ib->ring[ib->head];
	size = sizeof(slot->hdr) + slot->hdr.len;
	if (size > max_len) {
		*need = size;
		return -EMSGSIZE;
	}
	ha_slot_copy(msg, slot);
	ib->head = ha_inbox_slot(ib, 1);
	ib->count--;
	return 1;
}
EXPORT_SYMBOL_IF_KUNIT(ha_inbox_pop);

/* Caller holds ib->lock: put a just-popped message back at the head. */
void ha_inbox_unpop(struct ha_inbox *ib, const struct ha_slot *msg)
{
	lockdep_assert_held(&ib->lock);
	/* The spare slot guarantees room even if senders refilled the ring. */
	ib->head = (ib->head + ib->depth) % (ib->depth + 1);
	ha_slot_copy(&ib->ring[ib->head], msg);
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

/*
 * Queue @n staged messages from @src in @dst's inbox under one lock, with
 * one wakeup.  Returns how many went (the caller still owns the rest), or
 * -ENOENT if @dst died; 0 means the inbox was full.
 */
static int ha_chan_deliver(struct ha_vm *src, struct ha_vm *dst,
			   struct ha_slot *staged, u32 n)
{
	struct ha_fabric *fabric = src->fabric;
	struct ha_inbox *ib = &dst->inbox;
	u32 i, k;
	u64 seq;

	spin_lock(&ib->lock);
	if (ib->dead) {
		spin_unlock(&ib->lock);
		return -ENOENT;
	}
	k = min(n, ib->depth - ib->count);
	/* seq is taken under the lock so that it orders like the queue. */
	seq = atomic64_add_return(k, &fabric->seq) - k;
	for (i = 0; i < k; i++) {
		ha_inbox_push(ib, &staged[i], seq + 1 + i);
		ha_inbox_kick_parked(ib);
	}
	spin_unlock(&ib->lock);
	if (!k)
		return 0;

	/* Pairs with the barrier in the waiter's prepare_to_wait(). */
	if (wq_has_sleeper(&ib->wq))
		wake_up_interruptible_poll(&ib->wq, EPOLLIN | EPOLLRDNORM);
	atomic64_add(k, &src->msgs_sent);
	for (i = 0; i < k; i++)
		trace_ha_msg_send(fabric->id, src->id, dst->id, staged[i].hdr.len);
	return k;
}

/* Messages one send call stages before it delivers them. */
#define HA_SEND_CHUNK	64

/**
 * struct ha_send - a send call in progress
 * @src: the sending VM
 * @dst: destination of the staged messages (referenced), or NULL
 * @staged: payloads copied in, not yet queued
 * @n: entries of @staged in use
 * @chunk: capacity of @staged
 * @sent: messages queued so far
 *
 * Consecutive messages to one VM are staged (one cap check, no lock) and
 * then queued together (one inbox lock, one wakeup).
 */
struct ha_send {
	struct ha_vm *src;
	struct ha_vm *dst;
	struct ha_slot *staged;
	u32 n;
	u32 chunk;
	u32 sent;
};

/* Queue what is staged and end the run; the first failure wins. */
static int ha_send_flush(struct ha_send *s)
{
	int ret = 0, k = 0;
	u32 i;

	if (s->n) {
		k = ha_chan_deliver(s->src, s->dst, s->staged, s->n);
		if (k < 0)
			ret = k;
		else if ((u32)k < s->n)
			ret = -EAGAIN;
		k = max(k, 0);
		s->sent += k;
		for (i = k; i < s->n; i++)
			ha_slot_release(&s->staged[i]);
		s->n = 0;
	}
	if (s->dst) {
		ha_vm_put(s->dst);
		s->dst = NULL;
	}
	return ret;
}

/* Check and stage one message; errors in the order of a single send. */
static int ha_send_stage(struct ha_send *s, u32 dst_id, const void __user *data,
			 u32 len)
{
	struct ha_fabric *fabric = s->src->fabric;
	int ret;

	if (len > HYPERAETHER_MSG_MAX)
		return -EMSGSIZE;
	if (s->dst && (s->dst->id != dst_id || s->n == s->chunk)) {
		ret = ha_send_flush(s);
		if (ret)
			return ret;
	}
	if (!s->dst) {
		s->dst = ha_vm_get(fabric, dst_id);
		if (!s->dst)
			return -ENOENT;
		/* Checked once per run: the run is queued at one instant. */
		if (!ha_cap_may_send(&fabric->caps, s->src->id, dst_id)) {
			atomic64_inc(&s->src->denials);
			trace_ha_cap_deny(fabric->id, s->src->id, dst_id, "send");
			return -EACCES;
		}
	}
	ret = ha_slot_fill(&s->staged[s->n], s->src->id, data, len);
	if (!ret)
		s->n++;
	return ret;
}

/* Queue what was staged before a failure; report the earliest failure. */
static int ha_send_finish(struct ha_send *s, int ret)
{
	int flush = ha_send_flush(s);

	return flush ? flush : ret;
}

int ha_chan_send(struct ha_vm *src, u32 dst_id, const void __user *data, u32 len)
{
	struct ha_slot slot;
	struct ha_send s = { .src = src, .staged = &slot, .chunk = 1 };

	if (READ_ONCE(src->dead))
		return -ENODEV;
	return ha_send_finish(&s, ha_send_stage(&s, dst_id, data, len));
}

/**
 * ha_chan_send_batch - send messages in order, stopping at the first failure
 * @src: the sending VM
 * @umsgs: user array of @count message descriptors
 * @count: at most %HYPERAETHER_MSG_BATCH_MAX
 * @sent: Out: how many were queued, each exactly once
 *
 * Shared by MSG_SEND_BATCH and the SEND_BATCH uring_cmd.  Each message is
 * checked as a single send would check it; the messages before a failing
 * one are queued, none after it.
 *
 * Return: 0 if all were sent, else the error of the first that was not.
 */
int ha_chan_send_batch(struct ha_vm *src,
		       const struct hyperaether_msg __user *umsgs, u32 count,
		       u32 *sent)
{
	struct ha_send s = { .src = src };
	struct hyperaether_msg *descs;
	u32 i, j, n, got;
	size_t left;
	int ret = 0;

	*sent = 0;
	if (READ_ONCE(src->dead))
		return -ENODEV;
	if (!count)
		return 0;

	/* One allocation per call: a chunk of descriptors and of slots. */
	s.chunk = min(count, HA_SEND_CHUNK);
	descs = kmalloc_array(s.chunk, sizeof(*descs) + sizeof(*s.staged),
			      GFP_KERNEL);
	if (!descs)
		return -ENOMEM;
	s.staged = (struct ha_slot *)(descs + s.chunk);

	for (i = 0; i < count && !ret; i += n) {
		n = min(count - i, s.chunk);
		left = copy_from_user(descs, umsgs + i, n * sizeof(*descs));
		/* A fault in the array fails the first descriptor it cut. */
		got = n - DIV_ROUND_UP(left, sizeof(*descs));
		for (j = 0; j < got && !ret; j++) {
			if (descs[j].flags || descs[j].pad)
				ret = -EINVAL;
			else
				ret = ha_send_stage(&s, descs[j].dst,
						    u64_to_user_ptr(descs[j].data),
						    descs[j].len);
		}
		if (!ret && got < n)
			ret = -EFAULT;
	}
	ret = ha_send_finish(&s, ret);
	*sent = s.sent;
	kfree(descs);
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
	struct ha_slot msg;
	u32 need = 0, size;
	int ret;

	spin_lock(&ib->lock);
	ret = ib->dead ? -ENODEV : ha_inbox_pop(ib, *len, &need, &msg);
	spin_unlock(&ib->lock);
	if (ret == -EMSGSIZE)
		*len = need;
	if (ret <= 0)
		return ret ?: -EAGAIN;

	if (ha_slot_to_user(buf, &msg)) {
		spin_lock(&ib->lock);
		if (!ib->dead) {
			ha_inbox_unpop(ib, &msg);
			msg.hdr.len = 0;	/* the inbox owns it again */
		}
		spin_unlock(&ib->lock);
		ha_slot_release(&msg);
		return -EFAULT;
	}
	size = sizeof(msg.hdr) + msg.hdr.len;
	atomic64_inc(&vm->msgs_received);
	trace_ha_msg_recv(vm->fabric->id, msg.hdr.src, vm->id, msg.hdr.len);
	ha_slot_release(&msg);
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

/*
 * SEND_BATCH: @addr points at a struct hyperaether_msg_batch of @len bytes
 * (size-versioned like the ioctl argument); @sent is written back.
 */
static int ha_uring_send_batch(struct ha_vm *vm, u64 addr, u32 len)
{
	struct hyperaether_msg_batch __user *ubatch = u64_to_user_ptr(addr);
	struct hyperaether_msg_batch batch;
	u32 sent;
	int ret;

	if (len < HYPERAETHER_MSG_BATCH_SIZE_VER0 || len > PAGE_SIZE)
		return -EINVAL;
	ret = copy_struct_from_user(&batch, sizeof(batch), ubatch, len);
	if (ret)
		return ret;
	if (batch.flags || batch.pad || batch.count > HYPERAETHER_MSG_BATCH_MAX)
		return -EINVAL;
	ret = ha_chan_send_batch(vm, u64_to_user_ptr(batch.msgs), batch.count,
				 &sent);
	/* Written even on error: the caller learns how many went. */
	if (put_user(sent, &ubatch->sent))
		return -EFAULT;
	return ret;
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
	case HYPERAETHER_URING_CMD_SEND_BATCH:
		if (dst)
			ret = -EINVAL;
		else if (!(rights & HYPERAETHER_VMFD_SEND))
			ret = -EPERM;
		else
			ret = ha_uring_send_batch(vm, addr, len);
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
