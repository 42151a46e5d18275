/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Hyper-Aether fabric module: internal interfaces.
 *
 * Object graph and lifetimes:
 *
 *   device fd (struct ha_file) --owns--> struct ha_fabric (kref)
 *   struct ha_fabric --xarray--> struct ha_vm (kref), one ref per slot
 *   VM fd (struct ha_vmfd) --ref--> struct ha_vm --ref--> struct ha_fabric
 *
 * Closing the device fd removes every VM of its fabric (they turn dead);
 * the structs go away with their last reference.  Every open file pins the
 * module, so rmmod is refused while anything is open or mapped.
 */
#ifndef __HYPERAETHER_DRV_H__
#define __HYPERAETHER_DRV_H__

#include <linux/bitops.h>
#include <linux/fs.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/rwsem.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/xarray.h>
#include <linux/hyperaether.h>

struct file;
struct io_uring_cmd;
struct dentry;
struct vm_area_struct;
struct poll_table_struct;

#define HA_DEFAULT_MAX_VMS	64
#define HA_DEFAULT_QUEUE_DEPTH	64
#define HA_DEFAULT_MEM_BYTES	(64ULL << 20)
#define HA_DEFAULT_EPOCHS	1000000ULL
#define HA_MAX_FABRIC_MEM	BIT_ULL(40)

/* ---------------------------------------------------------------- caps */

enum ha_cap_right {
	HA_CAP_SEND,
	HA_CAP_RECV,
	HA_CAP_SHARE,
	HA_CAP_GRANT,
	HA_CAP_NR,
};

/**
 * struct ha_cap_matrix - cap(i, j) as one bitmap per right
 * @n: dimension (the fabric's max_vms)
 * @bits: bit (src * n + dst) of @bits[r] is set when src holds right r on
 *        dst.  Writers hold the fabric lock; readers test bits without it,
 *        so the check on the data path is one load.  The same bitmaps are
 *        what the accel driver consumes for shared-memory checks.
 */
struct ha_cap_matrix {
	u32 n;
	unsigned long *bits[HA_CAP_NR];
};

int ha_cap_init(struct ha_cap_matrix *m, u32 n);
void ha_cap_fini(struct ha_cap_matrix *m);
u32 ha_cap_get(const struct ha_cap_matrix *m, u32 src, u32 dst);
void ha_cap_set(struct ha_cap_matrix *m, u32 src, u32 dst, u32 rights);
void ha_cap_clear_vm(struct ha_cap_matrix *m, u32 id);

/* O(1): does src hold @right on dst? */
static inline bool ha_cap_allows(const struct ha_cap_matrix *m, u32 src,
				 u32 dst, enum ha_cap_right right)
{
	if (src >= m->n || dst >= m->n)
		return false;
	return test_bit((unsigned long)src * m->n + dst, m->bits[right]);
}

/* A message src -> dst: SEND on (src, dst) and RECV on (dst, src). */
static inline bool ha_cap_may_send(const struct ha_cap_matrix *m, u32 src,
				   u32 dst)
{
	return ha_cap_allows(m, src, dst, HA_CAP_SEND) &&
	       ha_cap_allows(m, dst, src, HA_CAP_RECV);
}

/* -------------------------------------------------------------- inbox */

/* Payload bytes a message keeps inside its inbox slot (no allocation). */
#define HA_MSG_INLINE		112

/**
 * struct ha_slot - one message, in an inbox or staged by a sender
 * @hdr: what the receiver gets before the payload
 * @data: the payload when @hdr.len <= %HA_MSG_INLINE
 * @payload: otherwise, a kmalloc()ed copy owned by whoever holds the slot
 */
struct ha_slot {
	struct hyperaether_msg_hdr hdr;
	union {
		u8 data[HA_MSG_INLINE];
		u8 *payload;
	};
};

static inline const void *ha_slot_payload(const struct ha_slot *s)
{
	return s->hdr.len > HA_MSG_INLINE ? s->payload : s->data;
}

void ha_slot_release(struct ha_slot *s);

/**
 * struct ha_inbox - a VM's bounded queue of incoming messages
 * @lock: protects @ring, @head, @count, @parked and @dead
 * @ring: @depth + 1 slots, allocated with the VM so that a send allocates
 *        nothing for payloads up to %HA_MSG_INLINE bytes; senders may fill
 *        @depth, the spare one lets a receiver whose copy to userspace
 *        faulted put its message back
 * @depth: messages senders may queue
 * @head: index of the oldest message
 * @count: messages queued
 * @parked: io_uring receive commands waiting for a message
 * @dead: the VM was removed; nothing is queued any more
 * @wq: blocking receivers and poll
 */
struct ha_inbox {
	spinlock_t lock; /* protects ring, head, count, parked, dead */
	struct ha_slot *ring;
	u32 depth;
	u32 head;
	u32 count;
	struct list_head parked;
	bool dead;
	wait_queue_head_t wq;
};

int ha_inbox_init(struct ha_inbox *ib, u32 depth);
void ha_inbox_fini(struct ha_inbox *ib);
int ha_inbox_push(struct ha_inbox *ib, const struct ha_slot *msg, u64 seq);
int ha_inbox_pop(struct ha_inbox *ib, u32 max_len, u32 *need,
		 struct ha_slot *msg);
void ha_inbox_unpop(struct ha_inbox *ib, const struct ha_slot *msg);
void ha_inbox_kill(struct ha_inbox *ib);

/* ------------------------------------------------------------ objects */

/**
 * struct ha_mem - memory owned by one VM
 * @pages: @nr_pages zeroed pages, charged to the creator's memcg
 * @nr_pages: number of pages
 */
struct ha_mem {
	struct page **pages;
	unsigned long nr_pages;
};

int ha_mem_alloc(struct ha_mem *mem, u64 bytes);
void ha_mem_free(struct ha_mem *mem);

/**
 * struct ha_fabric - a graph of VMs and the rights on its edges
 * @ref: one per VM and one for the owner fd
 * @id: unique while the module is loaded
 * @lock: protects @vms (writes), @nr_vms, @mem_used, @caps (writes),
 *        @dead; taken before @map_lock and any inbox lock
 * @map_lock: a fault into VM memory checks SHARE and installs the page
 *            holding it for reading; revoking SHARE (or removing a VM)
 *            clears the right and unmaps holding it for writing, so no
 *            fault can slip a page in between
 * @vms: id -> struct ha_vm; lookups run under RCU
 * @caps: cap(i, j)
 * @quota: limits in force
 * @nr_vms: VMs alive
 * @mem_used: bytes of VM memory allocated
 * @seq: last message sequence number handed out
 * @dead: the owner fd was closed
 * @node: entry in the global list (debugfs)
 */
struct ha_fabric {
	struct kref ref;
	u32 id;
	struct mutex lock; /* protects vms, nr_vms, mem_used, caps, dead */
	struct rw_semaphore map_lock; /* orders memory faults against revocation */
	struct xarray vms;
	struct ha_cap_matrix caps;
	struct hyperaether_quota quota;
	u32 nr_vms;
	u64 mem_used;
	atomic64_t seq;
	bool dead;
	struct list_head node;
};

/**
 * struct ha_vm - one node of the fabric
 * @ref: one from the fabric's xarray slot while alive, one per VM fd
 * @fabric: holds a fabric reference
 * @id: index in the fabric, [0, max_vms)
 * @backend: HYPERAETHER_BACKEND_*
 * @name: NUL-terminated; immutable
 * @metadata: opaque cookie from VM_ADD
 * @quota: limits in force
 * @mem: memory owned by the VM
 * @mapping: every mapping made through this VM's fds (its own memory and
 *           peers'); revoking this VM's SHARE on VM j unmaps j's window
 * @inbox: incoming messages
 * @dead: removed from the fabric (set under the fabric lock)
 * @msgs_sent: messages this VM sent
 * @msgs_received: messages this VM received
 * @denials: operations of this VM refused by a check
 * @epochs_used: epochs charged to the VM's quota by accel jobs (reserved at
 *               submit, the unused part given back at completion)
 * @rcu: frees the struct after concurrent RCU lookups are done
 */
struct ha_vm {
	struct kref ref;
	struct ha_fabric *fabric;
	u32 id;
	u32 backend;
	char name[HYPERAETHER_NAME_LEN];
	u64 metadata;
	struct hyperaether_quota quota;
	struct ha_mem mem;
	struct address_space mapping;
	struct ha_inbox inbox;
	bool dead;
	atomic64_t msgs_sent;
	atomic64_t msgs_received;
	atomic64_t denials;
	atomic64_t epochs_used;
	struct rcu_head rcu;
};

/**
 * struct ha_file - private data of an open /dev/hyperaether
 * @lock: serialises FABRIC_CREATE
 * @fabric: the fabric this fd owns, or NULL
 */
struct ha_file {
	struct mutex lock; /* serialises FABRIC_CREATE */
	struct ha_fabric *fabric;
};

/**
 * struct ha_vmfd - private data of a VM fd
 * @vm: the VM this fd acts as (holds a reference)
 * @rights: HYPERAETHER_VMFD_*; only ever narrowed
 */
struct ha_vmfd {
	struct ha_vm *vm;
	u32 rights;
};

struct ha_file *ha_file_from(struct file *filp);

int ha_quota_fabric_defaults(struct hyperaether_quota *q);
int ha_quota_vm_inherit(const struct hyperaether_quota *fabric,
			struct hyperaether_quota *vm);

struct ha_fabric *ha_fabric_create(const struct hyperaether_quota *quota);
void ha_fabric_destroy(struct ha_fabric *fabric);
void ha_fabric_put(struct ha_fabric *fabric);
void ha_fabric_usage(struct ha_fabric *fabric, struct hyperaether_usage *u);

void ha_fabric_cap_set(struct ha_fabric *fabric, struct ha_vm *src,
		       struct ha_vm *dst, u32 rights);
int ha_vm_add(struct ha_fabric *fabric, struct hyperaether_vm_add *args);
int ha_vm_remove(struct ha_fabric *fabric, u32 id);
struct ha_vm *ha_vm_get(struct ha_fabric *fabric, u32 id);
void ha_vm_put(struct ha_vm *vm);
void ha_vm_describe(struct ha_vm *vm, struct hyperaether_vm_query *q);
int ha_vm_name_valid(const char *name);

int ha_vmfd_create(struct ha_vm *vm, u32 rights, u32 flags);
struct ha_vmfd *ha_vmfd_from_file(struct file *filp);

int ha_chan_send(struct ha_vm *src, u32 dst, const void __user *data, u32 len);
int ha_chan_send_batch(struct ha_vm *src,
		       const struct hyperaether_msg __user *msgs, u32 count,
		       u32 *sent);
int ha_chan_recv(struct ha_vm *vm, void __user *buf, u32 *len, bool nonblock);
__poll_t ha_chan_poll(struct ha_vm *vm, struct file *filp,
		      struct poll_table_struct *wait);
int ha_chan_uring_cmd(struct ha_vmfd *vmfd, struct io_uring_cmd *cmd,
		      unsigned int issue_flags);

int ha_mem_mmap(struct ha_vmfd *vmfd, struct vm_area_struct *vma);
void ha_mem_unmap_peer(struct ha_vm *via, struct ha_vm *target);
void ha_mem_unmap_all(struct ha_vm *via);

/* ------------------------------------------------------------ ioctls */

/**
 * struct ha_ioctl_desc - one entry of an ioctl table
 * @cmd: the full ioctl number as the uapi header defines it today
 * @func: handler; @data points to a kernel copy of the argument, already
 *        zero-extended to the size the module knows
 * @name: the uapi macro name, for logs
 */
struct ha_ioctl_desc {
	unsigned int cmd;
	int (*func)(struct file *filp, void *data);
	const char *name;
};

/**
 * struct ha_ioctl_sizes - how much of an ioctl argument moves each way
 * @in: bytes copied from userspace (0 unless the command is _IOC_WRITE)
 * @out: bytes copied back to userspace (0 unless the command is _IOC_READ)
 * @kernel: size of the argument as the module knows it
 * @user: size of the argument as the caller's header knew it
 */
struct ha_ioctl_sizes {
	u32 in;
	u32 out;
	u32 kernel;
	u32 user;
};

int ha_ioctl_sizes(unsigned int ucmd, unsigned int kcmd,
		   struct ha_ioctl_sizes *sz);
int ha_info_query(struct hyperaether_info *info);
const struct ha_ioctl_desc *ha_ioctl_lookup(unsigned int cmd);
const struct ha_ioctl_desc *ha_vmfd_ioctl_lookup(unsigned int cmd);
long ha_ioctl(struct file *filp, unsigned int cmd, unsigned long arg);
long ha_vmfd_ioctl(struct file *filp, unsigned int cmd, unsigned long arg);

/* ----------------------------------------------------------- debugfs */

void ha_debugfs_init(void);
void ha_debugfs_fini(void);
void ha_fabric_register(struct ha_fabric *fabric);
void ha_fabric_unregister(struct ha_fabric *fabric);

#endif /* __HYPERAETHER_DRV_H__ */
