// SPDX-License-Identifier: GPL-2.0
/*
 * libhyperaether tests that need no device: errors come back as -errno and
 * the argument is never left half-initialised.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <liburing.h>

#include "hyperaether.h"

static int n;

static void check(int cond, const char *name)
{
	printf("%sok %d - lib/%s\n", cond ? "" : "not ", ++n, name);
}

/* Every wrapper reports the kernel's errno as a negative value. */
static void fabric_wrappers(void)
{
	struct hyperaether_quota q = { .max_vms = 3 };
	struct hyperaether_msg m;
	struct hyperaether_cap edges[2];
	struct hyperaether_vm_query vq;
	char buf[64];
	__u32 id = 77, count = 2, rights = 5, len = sizeof(buf), sent = 9;
	void *p = buf;
	int fd = open("/dev/null", O_RDWR);

	check(ha_fabric_create(fd, &q, &id) == -ENOTTY && id == 77 && q.max_vms == 3,
	      "fabric_create_error_leaves_outputs");
	check(ha_vm_add(fd, "a", 0, NULL, 0, &id) == -ENOTTY && id == 77, "vm_add_enotty");
	check(ha_vm_remove(-1, 0) == -EBADF, "vm_remove_ebadf");
	check(ha_vm_query(fd, 1, &vq) == -ENOTTY, "vm_query_enotty");
	check(ha_vm_list(fd, &id, &count) == -ENOTTY && count == 2, "vm_list_enotty");
	check(ha_cap_set(fd, 0, 1, 1) == -ENOTTY, "cap_set_enotty");
	check(ha_cap_get(fd, 0, 1, &rights) == -ENOTTY && rights == 5, "cap_get_enotty");
	check(ha_cap_list(fd, edges, &count) == -ENOTTY && count == 2, "cap_list_enotty");
	check(ha_cap_grant(fd, 0, 1, 1) == -ENOTTY, "cap_grant_enotty");
	check(ha_vm_export(fd, 0, HYPERAETHER_VMFD_ALL, 0) == -ENOTTY, "vm_export_enotty");
	check(ha_vmfd_dup(fd, 0, 0) == -ENOTTY, "vmfd_dup_enotty");
	check(ha_vmfd_limit(fd, 0) == -ENOTTY, "vmfd_limit_enotty");
	check(ha_msg_send(fd, 1, buf, 8) == -ENOTTY, "msg_send_enotty");
	ha_msg_init(&m, 1, buf, 8);
	check(m.dst == 1 && m.len == 8 && m.flags == 0 && m.pad == 0 &&
	      m.data == (__u64)(unsigned long)buf, "msg_init");
	check(ha_msg_send_batch(fd, &m, 1, &sent) == -ENOTTY && sent == 0, "msg_send_batch_enotty");
	check(ha_msg_recv(fd, buf, &len, 0) == -ENOTTY && len == sizeof(buf), "msg_recv_enotty");
	check(ha_vm_mmap(-1, 0, 0, 4096, &p) == -EBADF && p == buf, "vm_mmap_ebadf");
	close(fd);
}

/* The SQE a uring helper fills: URING_CMD, the fd, cmd_op, the message. */
static void uring_prep(void)
{
	struct io_uring_sqe sqe;
	struct hyperaether_uring_msg um;
	char buf[32];

	memset(&sqe, 0xff, sizeof(sqe));
	ha_uring_prep_send(&sqe, 7, 3, buf, 20);
	memcpy(&um, sqe.cmd, sizeof(um));
	check(sqe.opcode == IORING_OP_URING_CMD && sqe.fd == 7 &&
	      sqe.cmd_op == HYPERAETHER_URING_CMD_SEND && sqe.flags == 0 &&
	      um.addr == (__u64)(unsigned long)buf && um.len == 20 && um.vm == 3,
	      "uring_prep_send");
	memset(&sqe, 0xff, sizeof(sqe));
	ha_uring_prep_recv(&sqe, 9, buf, 32);
	memcpy(&um, sqe.cmd, sizeof(um));
	check(sqe.opcode == IORING_OP_URING_CMD && sqe.fd == 9 &&
	      sqe.cmd_op == HYPERAETHER_URING_CMD_RECV && sqe.user_data == 0 &&
	      um.addr == (__u64)(unsigned long)buf && um.len == 32 && um.vm == 0,
	      "uring_prep_recv");
}

int main(void)
{
	struct hyperaether_info info;
	int fd, ret;

	/* /dev/null does not implement our ioctls: ENOTTY, as a negative value. */
	fd = open("/dev/null", O_RDWR);
	memset(&info, 0xff, sizeof(info));
	ret = ha_get_info(fd, &info);
	check(ret == -ENOTTY, "get_info_on_non_device_is_enotty");
	check(info.flags == 0 && info.pad == 0, "get_info_zeroes_inputs");
	close(fd);

	ret = ha_get_info(-1, &info);
	check(ret == -EBADF, "get_info_bad_fd_is_ebadf");

	ret = ha_open();
	if (access(HA_DEV_PATH, F_OK))
		check(ret == -ENOENT, "open_without_device_is_enoent");
	else
		check(ret >= 0 || ret == -EACCES, "open_with_device");
	if (ret >= 0)
		close(ret);
	fabric_wrappers();
	uring_prep();
	printf("1..%d\n", n);
	return 0;
}
