// SPDX-License-Identifier: GPL-2.0
/*
 * A fuzzer for the accel driver's uapi, run under KASAN, lockdep and
 * kmemleak in the debug kernel: random sequences of context, buffer,
 * submit, wait and syncobj calls with fields that are mostly valid and
 * often not, from two files at once, with files closed mid-job.  Every
 * call must succeed or fail with an errno the uapi documents; afterwards
 * the device must still run a job to the reference's result.  The seed is
 * fixed (HA_FUZZ_SEED overrides it), so a failure replays.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "hyperaether_accel.h"
#include "accel.h"

#define NFILES	2
#define NSLOT	8

struct fz_file {
	int fd;
	uint32_t ctx[NSLOT];
	struct ha_accel_bo bo[NSLOT];
	uint64_t job[NSLOT];
	uint32_t syncobj[NSLOT];
};

static const int submit_errnos[] = {
	0, EINVAL, ENOENT, E2BIG, EFAULT, EBADF, EDQUOT, ENOMEM, EACCES,
};

static int allowed(int err, const int *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (err == set[i])
			return 1;
	return 0;
}

static const char fz_src[] =
	"  SETI r1, 3\n"
	"loop:\n"
	"  ADD r2, r2, r0\n"
	"  SETI r3, 1\n"
	"  SUB r1, r1, r3\n"
	"  BRANCH_GT r1, loop\n"
	"  SETI r3, 0\n"
	"  SYSCALL_READ r1, r3\n"
	"  ADD r1, r1, r2\n"
	"  SYSCALL_WRITE r3, r1\n"
	"  HALT\n";

static void fz_open(struct __test_metadata *_metadata, struct fz_file *f)
{
	memset(f, 0, sizeof(*f));
	f->fd = ha_accel_open();
	ASSERT_GE(f->fd, 0);
}

static void fz_close(struct fz_file *f)
{
	for (int i = 0; i < NSLOT; i++)
		ha_accel_bo_free(f->fd, &f->bo[i]);
	close(f->fd);
	memset(f, 0, sizeof(*f));
}

/* A field value: usually the sane one, sometimes a neighbour or junk. */
static uint64_t mutate(struct accel_rng *g, uint64_t sane)
{
	switch (accel_below(g, 12)) {
	case 0:
		return 0;
	case 1:
		return sane + 1;
	case 2:
		return sane ? sane - 1 : 1;
	case 3:
		return accel_rnd(g);
	case 4:
		return accel_interesting(g);
	default:
		return sane;
	}
}

static void fz_submit(struct __test_metadata *_metadata, struct accel_rng *g,
		      struct fz_file *f, struct fz_file *other, const struct accel_prog *p)
{
	struct drm_hyperaether_submit s;
	struct ha_accel_bo *prog = &f->bo[accel_below(g, NSLOT)];
	struct ha_accel_bo *state = &f->bo[accel_below(g, NSLOT)];
	struct ha_accel_bo *shared = &f->bo[accel_below(g, NSLOT)];
	uint8_t dom[64] = { 0 };
	uint32_t seg = 0;
	char log[256];
	int ret;

	if (prog->map && prog->size >= p->size && accel_below(g, 4))
		memcpy(prog->map, p->bundle, p->size);
	ha_accel_submit_init(&s);
	s.ctx_id = mutate(g, f->ctx[accel_below(g, NSLOT)]);
	s.flags = accel_below(g, 8) ? DRM_HYPERAETHER_SUBMIT_INIT_STATES : mutate(g, 1);
	s.engine = accel_below(g, 6) ? accel_below(g, 2) : mutate(g, 0);
	s.prog_handle = accel_below(g, 10) ? prog->handle :
			other->bo[accel_below(g, NSLOT)].handle;
	s.prog_size = mutate(g, p->size);
	s.state_handle = state->handle;
	s.ninstances = mutate(g, 1 + accel_below(g, 40));
	s.shared_handle = shared->handle;
	s.nshared = mutate(g, 1 + accel_below(g, 16));
	s.stack_handle = accel_below(g, 8) ? 0 : mutate(g, f->bo[0].handle);
	s.max_epochs = mutate(g, 1 + accel_below(g, 200));
	s.in_syncobj = accel_below(g, 6) ? 0 : mutate(g, f->syncobj[accel_below(g, NSLOT)]);
	s.out_syncobj = accel_below(g, 4) ? 0 : mutate(g, f->syncobj[accel_below(g, NSLOT)]);
	if (!accel_below(g, 8)) {
		s.fabric_fd = accel_below(g, 2) ? f->fd : (int)mutate(g, 0);
		s.nsegments = mutate(g, 1);
		s.seg_words = mutate(g, 4);
		s.segments_ptr = accel_below(g, 4) ? mutate(g, 8) : (uintptr_t)&seg;
		s.domains_ptr = accel_below(g, 4) ? mutate(g, 8) : (uintptr_t)dom;
	}
	if (accel_below(g, 4)) {
		s.log_ptr = accel_below(g, 8) ? (uintptr_t)log : mutate(g, 16);
		s.log_size = mutate(g, sizeof(log));
	}
	if (!accel_below(g, 16))
		s.pad = mutate(g, 0);
	ret = ha_accel_submit(f->fd, &s);
	EXPECT_TRUE(allowed(-ret, submit_errnos, sizeof(submit_errnos) / sizeof(int)))
		TH_LOG("submit: unexpected %d", ret);
	if (!ret)
		f->job[accel_below(g, NSLOT)] = s.job_id;
}

static void fz_step(struct __test_metadata *_metadata, struct accel_rng *g,
		    struct fz_file *files, const struct accel_prog *p)
{
	int k = accel_below(g, NFILES);
	struct fz_file *f = &files[k], *other = &files[!k];
	int slot = accel_below(g, NSLOT), ret;
	struct drm_hyperaether_wait st;
	uint64_t v;

	switch (accel_below(g, 12)) {
	case 0:
		if (f->ctx[slot])
			ha_accel_ctx_destroy(f->fd, f->ctx[slot]);
		ret = ha_accel_ctx_create(f->fd, accel_below(g, 4) ? 1 : mutate(g, 1),
					  &f->ctx[slot]);
		EXPECT_TRUE(ret == 0 || ret == -EINVAL || ret == -EACCES || ret == -ENOSPC);
		if (ret)
			f->ctx[slot] = 0;
		break;
	case 1:
		ret = ha_accel_ctx_destroy(f->fd, mutate(g, f->ctx[slot]));
		EXPECT_TRUE(ret == 0 || ret == -ENOENT || ret == -EINVAL);
		break;
	case 2:
		ha_accel_bo_free(f->fd, &f->bo[slot]);
		ret = ha_accel_bo_new(f->fd, accel_below(g, 8) ? 4096 * (1 + accel_below(g, 4)) :
				      mutate(g, 4096) & 0xffffff, &f->bo[slot]);
		EXPECT_TRUE(ret == 0 || ret == -EINVAL || ret == -ENOMEM);
		break;
	case 3:
		ret = ha_accel_get_param(f->fd, mutate(g, accel_below(g, 10)), &v);
		EXPECT_TRUE(ret == 0 || ret == -EINVAL);
		break;
	case 4:
		ret = ha_accel_syncobj_create(f->fd, 0, &f->syncobj[slot]);
		EXPECT_EQ(0, ret);
		break;
	case 5:
		ret = ha_accel_wait(f->fd, mutate(g, f->job[slot]),
				    ha_accel_deadline_ms(accel_below(g, 3)),
				    accel_below(g, 2) ? DRM_HYPERAETHER_WAIT_RELEASE : mutate(g, 0),
				    &st);
		EXPECT_TRUE(ret == 0 || ret == -ETIME || ret == -ENOENT || ret == -EINVAL)
			TH_LOG("wait: %d", ret);
		break;
	case 6:
		if (!accel_below(g, 8)) {	/* close a file, jobs and all */
			fz_close(f);
			fz_open(_metadata, f);
		}
		break;
	default:
		fz_submit(_metadata, g, f, other, p);
	}
}

TEST(accel_uapi_fuzz)
{
	struct fz_file files[NFILES];
	struct accel_prog p;
	struct accel_rng g;
	const char *env = getenv("HA_FUZZ_SEED");
	unsigned long iters = 2500;

	g.s = env ? strtoull(env, NULL, 0) : 0x5eed;
	ASSERT_EQ(0, accel_prog_asm(&p, "fz", fz_src));
	for (int k = 0; k < NFILES; k++)
		fz_open(_metadata, &files[k]);
	for (unsigned long i = 0; i < iters; i++)
		fz_step(_metadata, &g, files, &p);
	for (int k = 0; k < NFILES; k++)
		fz_close(&files[k]);
	accel_prog_free(&p);

	/* The device is still usable and still right. */
	{
		struct accel_bufs b;
		struct accel_run dev, ref;
		char why[256];
		int fd = ha_accel_open();

		ASSERT_GE(fd, 0);
		ASSERT_EQ(0, accel_prog_asm(&p, "fz", fz_src));
		ASSERT_EQ(0, accel_bufs_new(fd, &b, p.size, 40, 4, 0));
		ASSERT_EQ(0, accel_run_alloc(&dev, 40, 4, 0));
		ASSERT_EQ(0, accel_run_alloc(&ref, 40, 4, 0));
		dev.init = ref.init = 1;
		dev.max_epochs = ref.max_epochs = 100;
		accel_run_ref(&p, &ref);
		ASSERT_EQ(0, accel_run_dev(&b, &p, &dev, 20000)) TH_LOG("%s", b.log);
		EXPECT_EQ(0, accel_run_cmp(&dev, &ref, why, sizeof(why))) TH_LOG("%s", why);
		accel_bufs_free(&b);
		accel_run_free(&dev);
		accel_run_free(&ref);
		accel_prog_free(&p);
		close(fd);
	}
}

TEST_HARNESS_MAIN
