// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/hyperaether uapi tests: the info query and the ioctl argument rules
 * every later ioctl inherits (flags, padding, struct growth, bad numbers).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/hyperaether.h>

#include "kselftest_harness.h"

#define HA_RW	(_IOC_READ | _IOC_WRITE)

FIXTURE(dev) {
	int fd;
};

FIXTURE_SETUP(dev)
{
	self->fd = open("/dev/" HYPERAETHER_DEVICE_NAME, O_RDWR | O_CLOEXEC);
	ASSERT_GE(self->fd, 0) TH_LOG("open /dev/hyperaether: %s", strerror(errno));
}

FIXTURE_TEARDOWN(dev)
{
	close(self->fd);
}

TEST_F(dev, info)
{
	struct hyperaether_info info;

	memset(&info, 0xa5, sizeof(info));
	info.flags = 0;
	info.pad = 0;
	ASSERT_EQ(0, ioctl(self->fd, HYPERAETHER_IOC_GET_INFO, &info));
	EXPECT_EQ(1, info.api_major);
	EXPECT_NE(0, info.features & HYPERAETHER_FEAT_INFO);
	EXPECT_EQ(32, info.struct_size);
	EXPECT_EQ(0, info.pad2);
}

TEST_F(dev, info_rejects_flags_and_padding)
{
	struct hyperaether_info info = { .flags = 0x80000000u };

	EXPECT_EQ(-1, ioctl(self->fd, HYPERAETHER_IOC_GET_INFO, &info));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, info.api_major);	/* nothing copied back on error */

	info.flags = 0;
	info.pad = 1;
	EXPECT_EQ(-1, ioctl(self->fd, HYPERAETHER_IOC_GET_INFO, &info));
	EXPECT_EQ(EINVAL, errno);
}

/* A caller built against an older, shorter struct gets exactly its bytes. */
TEST_F(dev, info_older_struct)
{
	unsigned char buf[40];
	struct hyperaether_info *info = (void *)buf;

	memset(buf, 0x5a, sizeof(buf));
	memset(buf, 0, 8);	/* flags, pad */
	ASSERT_EQ(0, ioctl(self->fd, _IOC(HA_RW, HYPERAETHER_IOC_MAGIC, 0, 16), buf));
	EXPECT_EQ(1, info->api_major);
	for (int i = 16; i < 40; i++) {
		ASSERT_EQ(0x5a, buf[i])
			TH_LOG("byte %d written past the caller's struct", i);
	}
}

/* A newer, longer struct is accepted only if the unknown tail is zero. */
TEST_F(dev, info_newer_struct)
{
	unsigned char buf[48];
	unsigned int cmd = _IOC(HA_RW, HYPERAETHER_IOC_MAGIC, 0, sizeof(buf));

	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(0, ioctl(self->fd, cmd, buf));
	EXPECT_EQ(1, ((struct hyperaether_info *)buf)->api_major);
	for (int i = 32; i < 48; i++) {
		ASSERT_EQ(0, buf[i]);
	}

	memset(buf, 0, sizeof(buf));
	buf[47] = 1;
	EXPECT_EQ(-1, ioctl(self->fd, cmd, buf));
	EXPECT_EQ(E2BIG, errno);
}

TEST_F(dev, unknown_ioctls)
{
	struct hyperaether_info info = { };

	EXPECT_EQ(-1, ioctl(self->fd, _IOC(HA_RW, HYPERAETHER_IOC_MAGIC, 0x7f, 32), &info));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->fd, _IOC(HA_RW, 'H', 0, 32), &info));
	EXPECT_EQ(ENOTTY, errno);
	/* Right number, wrong direction: an ABI mismatch, not a new struct. */
	EXPECT_EQ(-1, ioctl(self->fd, _IOC(_IOC_READ, HYPERAETHER_IOC_MAGIC, 0, 32), &info));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(dev, bad_pointers)
{
	void *page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_NE(MAP_FAILED, page);
	EXPECT_EQ(-1, ioctl(self->fd, HYPERAETHER_IOC_GET_INFO, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->fd, HYPERAETHER_IOC_GET_INFO, page));
	EXPECT_EQ(EFAULT, errno);
	munmap(page, 4096);
}

TEST_HARNESS_MAIN
