// SPDX-License-Identifier: GPL-2.0
/*
 * Executors of the accel driver: a userspace process serving batches over
 * io_uring passthrough (FETCH / COMMIT_AND_FETCH).  The executor here runs
 * each batch with the LAVM reference interpreter on the shadow buffers it
 * maps; the device's results must equal lavm_ref_run() of the whole job,
 * whether the executor commits every batch, fails one, dies holding one or
 * sits on one past exec_timeout_ms.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <liburing.h>

#include "kselftest_harness.h"
#include "hyperaether_accel.h"
#include "accel.h"

#define EXEC_TIMEOUT_PARAM "exec_timeout_ms"
#define SLICE_PARAM "slice_insns"

/* What the executor does with the batches it fetches. */
enum exec_mode {
	EXEC_SERVE,		/* run and commit every batch */
	EXEC_FAIL_FIRST,	/* commit the first batch with -EIO */
	EXEC_DIE_FIRST,		/* exit while holding the first batch */
	EXEC_SIT_FIRST,		/* hold the first batch until killed */
};

/*
 * A job with a call, shared memory and 300+ epochs per instance: with the
 * small slices below, many batches.  Instance i adds sum(3k + 1, k < 40)
 * to shared[i % 8].
 */
static const char exec_src[] =
	"  STORE r0, 0\n"
	"  SETI r1, 0\n"
	"  SETI r2, 0\n"
	"loop:\n"
	"  MOV r0, r1\n"
	"  CALL step\n"
	"  ADD r2, r2, r0\n"
	"  SETI r3, 1\n"
	"  ADD r1, r1, r3\n"
	"  SETI r3, 40\n"
	"  SUB r3, r1, r3\n"
	"  BRANCH_LT r3, loop\n"
	"  LOAD r0, 0\n"
	"  SETI r3, 8\n"
	"  MOD r3, r0, r3\n"
	"  SYSCALL_READ r1, r3\n"
	"  ADD r1, r1, r2\n"
	"  SYSCALL_WRITE r3, r1\n"
	"  HALT\n"
	"step:\n"
	"  SETI r1, 3\n"
	"  MUL r0, r0, r1\n"
	"  SETI r1, 1\n"
	"  ADD r0, r0, r1\n"
	"  RETURN\n";

static void exec_prep(struct io_uring_sqe *sqe, int fd, __u32 op,
		      struct drm_hyperaether_exec_batch *desc, __u32 id, __s32 result)
{
	struct drm_hyperaether_exec_cmd c = {
		.batch_ptr = (__u64)(uintptr_t)desc, .batch_id = id, .result = result,
	};

	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = fd;
	sqe->cmd_op = op;
	memcpy(sqe->cmd, &c, sizeof(c));
}

/* Map handle @h of @fd (0: none). */
static void *exec_map(int fd, uint32_t h)
{
	void *p = NULL;
	size_t size;

	if (!h)
		return NULL;
	if (ha_accel_bo_mmap(fd, h, &p, &size))
		return NULL;
	return p;
}

/* Runs batch @d on its shadows with the reference: 0 or -errno. */
static int exec_run(int fd, const struct drm_hyperaether_exec_batch *d)
{
	struct lavm_bundle_info info;
	struct lavm_verify_err verr;
	struct lavm_job job = { 0 };
	struct lavm_prog prog;
	struct lavm_insn *insns;
	struct lavm_acl acl;
	void *bundle = exec_map(fd, d->prog_handle), *scratch;
	float *mats;
	uint8_t *tab;
	int ret;

	if (!bundle || lavm_bundle_peek(bundle, d->prog_size, &info))
		return -EINVAL;
	insns = calloc(info.ninsns, sizeof(*insns));
	mats = calloc((size_t)info.nlinear * LAVM_MAT + 1, sizeof(float));
	if (!insns || !mats)
		return -ENOMEM;
	ret = lavm_bundle_load(bundle, d->prog_size, &prog, insns, info.ninsns,
			       mats, (size_t)info.nlinear * LAVM_MAT);
	scratch = malloc(lavm_verify_scratch_size(&prog) + 1);
	if (ret || !scratch || lavm_verify(&prog, scratch, lavm_verify_scratch_size(&prog), &verr))
		return -EINVAL;
	free(scratch);
	job.prog = &prog;
	job.vms = exec_map(fd, d->state_handle);
	job.nvms = d->ninstances;
	job.stack = exec_map(fd, d->stack_handle);
	job.shared = exec_map(fd, d->shared_handle);
	job.nshared = d->nshared;
	job.max_epochs = d->max_epochs;
	if (d->nsegments) {
		tab = exec_map(fd, d->acl_handle);
		acl = (struct lavm_acl){
			.allow = (const uint64_t *)tab,
			.dom = tab + d->nsegments * sizeof(uint64_t),
			.seg_words = d->seg_words, .nseg = d->nsegments,
		};
		job.acl = &acl;
	}
	lavm_ref_run(&job);
	free(insns);
	free(mats);
	return 0;
}

/*
 * The executor: its own accel fd and ring, one FETCH in flight; serves
 * until the ring reports an error (the parent kills it at the end).
 * Writes one byte to @ready once the first FETCH is parked.
 */
static void executor(enum exec_mode mode, int ready)
{
	struct drm_hyperaether_exec_batch desc;
	struct io_uring_cqe *cqe;
	struct io_uring ring;
	int fd = ha_accel_open(), n = 0;
	__u32 id;
	int res;

	if (fd < 0 || io_uring_queue_init(4, &ring, 0))
		_exit(2);
	exec_prep(io_uring_get_sqe(&ring), fd, DRM_HYPERAETHER_URING_FETCH, &desc, 0, 0);
	io_uring_submit(&ring);
	if (write(ready, "r", 1) != 1)
		_exit(2);
	for (;;) {
		if (io_uring_wait_cqe(&ring, &cqe))
			_exit(3);
		res = cqe->res;
		io_uring_cqe_seen(&ring, cqe);
		if (res <= 0)
			_exit(4);
		id = res;
		if (n++ == 0) {
			if (mode == EXEC_DIE_FIRST)
				_exit(0);
			if (mode == EXEC_SIT_FIRST)
				pause();
		}
		res = exec_run(fd, &desc);
		if (mode == EXEC_FAIL_FIRST && n == 1)
			res = -EIO;
		exec_prep(io_uring_get_sqe(&ring), fd, DRM_HYPERAETHER_URING_COMMIT_AND_FETCH,
			  &desc, id, res);
		io_uring_submit(&ring);
	}
}

FIXTURE(exec) {
	int fd;
	pid_t pid;
	struct accel_prog p;
	struct accel_bufs b;
	struct accel_run dev, ref;
	char saved_timeout[32];
	char saved_slice[32];
};

FIXTURE_SETUP(exec)
{
	self->pid = -1;
	ACCEL_OPEN(self->fd);
	if (geteuid())
		SKIP(return, "executors need CAP_SYS_ADMIN");
	ASSERT_EQ(0, accel_prog_asm(&self->p, "exec", exec_src));
	ASSERT_EQ(0, accel_bufs_new(self->fd, &self->b, self->p.size, 300, 8, 1));
	ASSERT_EQ(0, accel_run_alloc(&self->dev, 300, 8, 1));
	ASSERT_EQ(0, accel_run_alloc(&self->ref, 300, 8, 1));
	self->dev.init = self->ref.init = 1;
	self->dev.max_epochs = self->ref.max_epochs = 100000;
	for (int k = 0; k < 8; k++)
		self->dev.shared[k] = self->ref.shared[k] = 0.5f * k;
	accel_run_ref(&self->p, &self->ref);
	ASSERT_EQ(0, accel_param_read(EXEC_TIMEOUT_PARAM, self->saved_timeout,
				sizeof(self->saved_timeout)));
	ASSERT_EQ(0, accel_param_read(SLICE_PARAM, self->saved_slice, sizeof(self->saved_slice)));
	/* 3000 instance-epochs a slice: 10 epochs of 300 instances a batch. */
	ASSERT_EQ(0, accel_param_write(SLICE_PARAM, "3000"));
}

FIXTURE_TEARDOWN(exec)
{
	if (self->pid > 0) {
		kill(self->pid, SIGKILL);
		waitpid(self->pid, NULL, 0);
	}
	if (self->saved_timeout[0] && accel_param_write(EXEC_TIMEOUT_PARAM, self->saved_timeout))
		perror("restore exec_timeout_ms");
	if (self->saved_slice[0] && accel_param_write(SLICE_PARAM, self->saved_slice))
		perror("restore slice_insns");
	accel_bufs_free(&self->b);
	accel_run_free(&self->dev);
	accel_run_free(&self->ref);
	accel_prog_free(&self->p);
	if (self->fd >= 0)
		close(self->fd);
}

/* Starts an executor child and waits until its FETCH is parked. */
static void start_executor(struct __test_metadata *_metadata, FIXTURE_DATA(exec) *self,
			   enum exec_mode mode)
{
	uint64_t n = 0;
	int pfd[2];
	char c;

	ASSERT_EQ(0, pipe(pfd));
	self->pid = fork();
	ASSERT_GE(self->pid, 0);
	if (!self->pid) {
		close(pfd[0]);
		executor(mode, pfd[1]);
	}
	close(pfd[1]);
	ASSERT_EQ(1, read(pfd[0], &c, 1));
	close(pfd[0]);
	for (int i = 0; i < 200 && !n; i++) {
		ASSERT_EQ(0, ha_accel_get_param(self->fd, DRM_HYPERAETHER_PARAM_EXECUTORS, &n));
		if (!n)
			usleep(10000);
	}
	ASSERT_EQ(1, n);
}

/* Runs the job with the executor engine and compares with the reference. */
static void run_and_compare(struct __test_metadata *_metadata, FIXTURE_DATA(exec) *self)
{
	struct drm_hyperaether_submit s;
	char why[256];

	accel_bufs_load(&self->b, &self->p, &self->dev);
	accel_submit_fill(&s, &self->b, &self->p, &self->dev);
	s.engine = DRM_HYPERAETHER_ENGINE_EXECUTOR;
	ASSERT_EQ(0, accel_submit_wait(self->fd, &s, &self->dev.st, 60000))
		TH_LOG("log '%s'", self->b.log);
	EXPECT_EQ(0, self->dev.st.error);
	accel_bufs_store(&self->b, &self->dev);
	EXPECT_EQ(0, accel_run_cmp(&self->dev, &self->ref, why, sizeof(why))) TH_LOG("%s", why);
	EXPECT_EQ(300, self->dev.st.halted);
}

TEST_F(exec, served_batches_match_the_reference)
{
	/* Small slices: many batches, each a hand-off and a commit. */
	start_executor(_metadata, self, EXEC_SERVE);
	run_and_compare(_metadata, self);
	EXPECT_GT(self->dev.st.epochs, 300);
}

TEST_F(exec, failed_commit_runs_on_the_cpu)
{
	start_executor(_metadata, self, EXEC_FAIL_FIRST);
	run_and_compare(_metadata, self);
}

TEST_F(exec, executor_dying_with_a_batch_loses_nothing)
{
	start_executor(_metadata, self, EXEC_DIE_FIRST);
	run_and_compare(_metadata, self);
}

TEST_F(exec, batch_past_the_timeout_runs_on_the_cpu)
{
	ASSERT_EQ(0, accel_param_write(EXEC_TIMEOUT_PARAM, "300"));
	start_executor(_metadata, self, EXEC_SIT_FIRST);
	run_and_compare(_metadata, self);
}

TEST_F(exec, without_an_executor_the_cpu_runs_it)
{
	run_and_compare(_metadata, self);
}

TEST_F(exec, bad_commands_are_refused)
{
	struct drm_hyperaether_exec_batch desc;
	struct io_uring_cqe *cqe;
	struct io_uring ring;
	static const struct {
		__u32 op, id;
		__s32 result;
		int null_ptr;
		int want;
	} cases[] = {
		{ DRM_HYPERAETHER_URING_FETCH, 0, 0, 1, -EINVAL },
		{ DRM_HYPERAETHER_URING_FETCH, 7, 0, 0, -EINVAL },
		{ DRM_HYPERAETHER_URING_FETCH, 0, -5, 0, -EINVAL },
		{ DRM_HYPERAETHER_URING_COMMIT_AND_FETCH, 12345, 0, 0, -ENOENT },
		{ 0x7f, 0, 0, 0, -EINVAL },
	};

	ASSERT_EQ(0, io_uring_queue_init(4, &ring, 0));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		exec_prep(io_uring_get_sqe(&ring), self->fd, cases[i].op,
			  cases[i].null_ptr ? NULL : &desc, cases[i].id, cases[i].result);
		ASSERT_EQ(1, io_uring_submit(&ring));
		ASSERT_EQ(0, io_uring_wait_cqe(&ring, &cqe));
		EXPECT_EQ(cases[i].want, cqe->res) TH_LOG("case %zu", i);
		io_uring_cqe_seen(&ring, cqe);
	}
	io_uring_queue_exit(&ring);
}

TEST_HARNESS_MAIN
