// SPDX-License-Identifier: GPL-2.0
/*
 * The real executor program, hyperaether-executor, serving the accel
 * driver: jobs submitted with engine EXECUTOR, results bit for bit those
 * of lavm_ref_run(); killed with SIGKILL in the middle of a job, the job
 * still completes (on the kernel's CPU engine) with the same results; a
 * clean exit on SIGTERM; a clear refusal without CAP_SYS_ADMIN or without
 * a Vulkan device.
 *
 * The executor runs with --engine cpu: the test initramfs has no Vulkan
 * driver (lavapipe needs LLVM and the dynamic loader).  Its batch runner
 * is tested with the Vulkan engine on lavapipe on the build host
 * (make executor-check).  The binary is $HA_EXECUTOR, else
 * /bin/hyperaether-executor (where the test VM puts it), else $PATH.
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/capability.h>

#include "kselftest_harness.h"
#include "hyperaether_accel.h"
#include "accel.h"

#define QUEUE 2

/*
 * 400 instances, a call and contended shared words: 180 epochs each.
 * Instance i adds sum(2k + i % 3, k < 25) into shared[i % 5] and keeps its
 * running total in mem0.
 */
static const char served_src[] =
	".shared 5\n"
	"  CLEAR r2\n"
	"  SETI r1, 25\n"
	"again:\n"
	"  CALL term\n"
	"  SETI r3, 1\n"
	"  SUB r1, r1, r3\n"
	"  BRANCH_GT r1, again\n"
	"  SETI r3, 5\n"
	"  MOD r3, r0, r3\n"
	"  SYSCALL_READ r1, r3\n"
	"  ADD r1, r1, r2\n"
	"  SYSCALL_WRITE r3, r1\n"
	"  HALT\n"
	"term:\n"
	"  SCALE r3, r1, 2.0\n"
	"  ADD r2, r2, r3\n"
	"  SETI r3, 3\n"
	"  MOD r3, r0, r3\n"
	"  ADD r2, r2, r3\n"
	"  STORE r2, 0\n"
	"  RETURN\n";

/* $HA_EXECUTOR, /bin/hyperaether-executor or the first one on $PATH into @out. */
static int executor_find(char *out, size_t len)
{
	const char *env = getenv("HA_EXECUTOR"), *path = getenv("PATH");
	char dirs[1024], *dir, *save;

	if (env && *env) {
		snprintf(out, len, "%s", env);
		return access(out, X_OK) ? -errno : 0;
	}
	snprintf(dirs, sizeof(dirs), "/bin:%s", path ? path : "");
	for (dir = strtok_r(dirs, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		snprintf(out, len, "%s/hyperaether-executor", dir);
		if (!access(out, X_OK))
			return 0;
	}
	return -ENOENT;
}

/* The "batches handed H committed C taken back T" line of the engine's debugfs file. */
static int engine_batches(long long *handed, long long *committed, long long *taken)
{
	static const char *const where[] = {
		"/sys/kernel/debug/accel/*/engine", "/sys/kernel/debug/dri/accel/*/engine",
		"/sys/kernel/debug/dri/*/engine",
	};
	char buf[4096], *p;
	glob_t g;
	ssize_t n;
	int fd;

	for (size_t w = 0; w < sizeof(where) / sizeof(where[0]); w++) {
		if (glob(where[w], 0, NULL, &g))
			continue;
		fd = open(g.gl_pathv[0], O_RDONLY);
		globfree(&g);
		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		buf[n > 0 ? n : 0] = '\0';
		p = strstr(buf, "batches handed");
		if (p && sscanf(p, "batches handed %lld committed %lld taken back %lld",
				handed, committed, taken) == 3)
			return 0;
	}
	return -ENOENT;
}

FIXTURE(executor) {
	int fd;
	pid_t pid;
	char path[512];		/* the executor */
	int log_fd;		/* its stderr */
	char slice[32];
	struct accel_prog p;
	struct accel_bufs b;
	struct accel_run dev, ref;
};

FIXTURE_SETUP(executor)
{
	self->pid = -1;
	self->log_fd = -1;
	ACCEL_OPEN(self->fd);
	if (geteuid())
		SKIP(return, "executors need CAP_SYS_ADMIN");
	if (executor_find(self->path, sizeof(self->path)))
		SKIP(return, "no hyperaether-executor ($HA_EXECUTOR, /bin or $PATH)");
	/*
	 * make vm-vulkan: lavapipe compiles its shaders with LLVM under TCG,
	 * which can take longer than the default job timeout (30 s); the
	 * context created below takes the longer one it passes.
	 */
	if (getenv("HA_JOB_TIMEOUT_MS"))
		ASSERT_EQ(0, accel_param_write("job_timeout_ms", getenv("HA_JOB_TIMEOUT_MS")));
	ASSERT_EQ(0, accel_prog_asm(&self->p, "served", served_src));
	ASSERT_EQ(0, accel_bufs_new(self->fd, &self->b, self->p.size, 400, 5, 1));
	ASSERT_EQ(0, accel_run_alloc(&self->dev, 400, 5, 1));
	ASSERT_EQ(0, accel_run_alloc(&self->ref, 400, 5, 1));
	self->dev.init = self->ref.init = 1;
	self->dev.max_epochs = self->ref.max_epochs = 100000;
	for (int k = 0; k < 5; k++)
		self->dev.shared[k] = self->ref.shared[k] = 0.25f * k;
	accel_run_ref(&self->p, &self->ref);
	/* 4000 instance-epochs a slice: 10 epochs of 400 instances a batch. */
	ASSERT_EQ(0, accel_param_read("slice_insns", self->slice, sizeof(self->slice)));
	ASSERT_EQ(0, accel_param_write("slice_insns", "4000"));
	/*
	 * make vm-vulkan: lavapipe compiles its shaders with LLVM under TCG,
	 * which takes longer than the default batch timeout; it passes a
	 * longer one here (the whole VM run is dedicated to this test).
	 */
	if (getenv("HA_EXEC_TIMEOUT_MS"))
		ASSERT_EQ(0, accel_param_write("exec_timeout_ms", getenv("HA_EXEC_TIMEOUT_MS")));
}

FIXTURE_TEARDOWN(executor)
{
	if (self->pid > 0) {
		kill(self->pid, SIGKILL);
		waitpid(self->pid, NULL, 0);
	}
	if (self->log_fd >= 0)
		close(self->log_fd);
	if (self->slice[0] && accel_param_write("slice_insns", self->slice))
		fprintf(stderr, "cannot restore slice_insns\n");
	accel_bufs_free(&self->b);
	accel_run_free(&self->dev);
	accel_run_free(&self->ref);
	accel_prog_free(&self->p);
	if (self->fd >= 0)
		close(self->fd);
}

/* How the executor is started. */
struct spawn_opts {
	const char *engine;
	const char *accel;	/* --accel, or NULL */
	int drop_admin;		/* without CAP_SYS_ADMIN (still root) */
};

/* fork + exec the executor, its stderr into an unlinked temporary file. */
static pid_t spawn(struct __test_metadata *_metadata, FIXTURE_DATA(executor) *self,
		   const struct spawn_opts *o)
{
	char log[] = "/tmp/executor-log.XXXXXX";
	pid_t pid;

	self->log_fd = mkstemp(log);
	EXPECT_GE(self->log_fd, 0);
	unlink(log);
	pid = fork();
	if (pid == 0) {
		dup2(self->log_fd, STDERR_FILENO);
		/* out of the bounding set, exec gives root everything but it */
		if (o->drop_admin && prctl(PR_CAPBSET_DROP, CAP_SYS_ADMIN, 0, 0, 0))
			_exit(99);
		execl(self->path, "hyperaether-executor", "--engine", o->engine, "--threads", "2",
		      "--queue", "2", "--verbose", o->accel ? "--accel" : (char *)NULL,
		      o->accel, (char *)NULL);
		fprintf(stderr, "exec %s: %s\n", self->path, strerror(errno));
		_exit(98);
	}
	return pid;
}

/* What the executor wrote to stderr so far. */
static const char *executor_log(FIXTURE_DATA(executor) *self)
{
	static char buf[8192];
	ssize_t n = pread(self->log_fd, buf, sizeof(buf) - 1, 0);

	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

/* Starts the executor and waits until its FETCHes are parked. */
static void start_executor(struct __test_metadata *_metadata, FIXTURE_DATA(executor) *self)
{
	/* $HA_EXECUTOR_ENGINE: vulkan where the guest has lavapipe (make vm-vulkan). */
	const char *engine = getenv("HA_EXECUTOR_ENGINE");
	const struct spawn_opts o = { .engine = engine ? engine : "cpu" };
	uint64_t n = 0;
	int status;

	self->pid = spawn(_metadata, self, &o);
	ASSERT_GT(self->pid, 0);
	for (int i = 0; i < 500 && n < QUEUE; i++) {
		if (waitpid(self->pid, &status, WNOHANG) == self->pid) {
			self->pid = -1;
			ASSERT_TRUE(0) TH_LOG("executor exited early (0x%x): %s", status,
					      executor_log(self));
		}
		ASSERT_EQ(0, ha_accel_get_param(self->fd, DRM_HYPERAETHER_PARAM_EXECUTORS, &n));
		if (n < QUEUE)
			usleep(20000);
	}
	ASSERT_EQ(QUEUE, n) TH_LOG("executor log: %s", executor_log(self));
}

static void submit_job(struct __test_metadata *_metadata, FIXTURE_DATA(executor) *self,
		       uint64_t *job_id)
{
	struct drm_hyperaether_submit s;

	accel_bufs_load(&self->b, &self->p, &self->dev);
	accel_submit_fill(&s, &self->b, &self->p, &self->dev);
	s.engine = DRM_HYPERAETHER_ENGINE_EXECUTOR;
	ASSERT_EQ(0, ha_accel_submit(self->fd, &s)) TH_LOG("log '%s'", self->b.log);
	*job_id = s.job_id;
}

static void wait_and_compare(struct __test_metadata *_metadata, FIXTURE_DATA(executor) *self,
			     uint64_t job_id)
{
	char why[256];

	ASSERT_EQ(0, ha_accel_wait(self->fd, job_id, ha_accel_deadline_ms(300000),
				   DRM_HYPERAETHER_WAIT_RELEASE, &self->dev.st));
	accel_bufs_store(&self->b, &self->dev);
	EXPECT_EQ(0, accel_run_cmp(&self->dev, &self->ref, why, sizeof(why))) TH_LOG("%s", why);
	EXPECT_EQ(400, self->dev.st.halted);
}

/* Mappings of the accel node in the executor: none once its batches are back. */
static int accel_mappings(pid_t pid)
{
	char path[64], line[512];
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		n += strstr(line, "/dev/accel") != NULL;
	fclose(f);
	return n;
}

TEST_F_TIMEOUT(executor, served_jobs_match_the_reference, 300)
{
	long long h0, c0, t0, h1, c1, t1;
	uint64_t job;
	int status;

	ASSERT_EQ(0, engine_batches(&h0, &c0, &t0)) TH_LOG("no engine file in debugfs");
	start_executor(_metadata, self);
	submit_job(_metadata, self, &job);
	wait_and_compare(_metadata, self, job);
	ASSERT_EQ(0, engine_batches(&h1, &c1, &t1));
	/* 180 epochs, 10 a batch: every slice went to the executor */
	EXPECT_GE(c1 - c0, 18) TH_LOG("handed %lld committed %lld taken back %lld",
				      h1 - h0, c1 - c0, t1 - t0);
	EXPECT_EQ(0, t1 - t0);
	/* the same job again: nothing piles up in the executor between batches */
	submit_job(_metadata, self, &job);
	wait_and_compare(_metadata, self, job);
	EXPECT_EQ(0, accel_mappings(self->pid));

	/* SIGTERM: a clean exit with the statistics, FETCHes withdrawn */
	ASSERT_EQ(0, kill(self->pid, SIGTERM));
	ASSERT_EQ(self->pid, waitpid(self->pid, &status, 0));
	self->pid = -1;
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("status 0x%x: %s", status, executor_log(self));
	EXPECT_TRUE(strstr(executor_log(self), "VM-instr/s") != NULL) TH_LOG("%s", executor_log(self));
	ASSERT_EQ(0, ha_accel_get_param(self->fd, DRM_HYPERAETHER_PARAM_EXECUTORS, (uint64_t *)&h1));
	EXPECT_EQ(0, h1);
}

TEST_F_TIMEOUT(executor, random_programs_match_the_reference, 300)
{
	struct accel_rng g = { 0x243f6a8885a308d3ull };
	struct accel_bufs b;
	uint32_t fails = 0;

	start_executor(_metadata, self);
	ASSERT_EQ(0, accel_bufs_new(self->fd, &b, 64 * 1024, 300, 16, LAVM_MAX_CALL_DEPTH));
	for (int n = 0; n < 60; n++) {
		struct drm_hyperaether_submit s;
		struct accel_run dev, ref;
		struct accel_prog p;
		char why[256] = "";
		int ret;

		ASSERT_EQ(0, accel_prog_random(&p, &g, 30, 16));
		ASSERT_EQ(0, accel_run_alloc(&ref, 1 + accel_below(&g, 300), 16,
					     p.img.prog.max_call_depth));
		ASSERT_EQ(0, accel_run_alloc(&dev, ref.nvms, 16, p.img.prog.max_call_depth));
		ref.max_epochs = 1 + accel_below(&g, 100);
		accel_run_random_inputs(&ref, &g, &p);
		accel_run_copy_in(&dev, &ref);
		accel_bufs_load(&b, &p, &dev);
		accel_submit_fill(&s, &b, &p, &dev);
		s.engine = DRM_HYPERAETHER_ENGINE_EXECUTOR;
		ret = accel_submit_wait(self->fd, &s, &dev.st, 60000);
		if (!ret)
			accel_bufs_store(&b, &dev);
		accel_run_ref(&p, &ref);
		if (ret)
			snprintf(why, sizeof(why), "submit/wait: %s", strerror(-ret));
		if ((ret || accel_run_cmp(&dev, &ref, why, sizeof(why))) && fails++ < 3)
			TH_LOG("program %d (%u VMs): %s", n, ref.nvms, why);
		accel_run_free(&dev);
		accel_run_free(&ref);
		accel_prog_free(&p);
	}
	accel_bufs_free(&b);
	EXPECT_EQ(0, fails);
	EXPECT_TRUE(strstr(executor_log(self), "the CPU engine runs it") == NULL)
		TH_LOG("%s", executor_log(self));
}

TEST_F_TIMEOUT(executor, sigkill_mid_job_loses_nothing, 600)
{
	long long h0, c0, t0, h1, c1, t1;
	uint64_t job;

	ASSERT_EQ(0, engine_batches(&h0, &c0, &t0));
	start_executor(_metadata, self);
	submit_job(_metadata, self, &job);
	/*
	 * Let it serve a few batches, then kill it: the rest runs on the CPU.
	 * Up to 240 s: lavapipe under TCG (make vm-vulkan) compiles its
	 * shaders before the first batch.
	 */
	for (int i = 0; i < 240000; i++) {
		ASSERT_EQ(0, engine_batches(&h1, &c1, &t1));
		if (c1 - c0 >= 3)
			break;
		usleep(1000);
	}
	ASSERT_EQ(0, kill(self->pid, SIGKILL));
	ASSERT_EQ(self->pid, waitpid(self->pid, NULL, 0));
	self->pid = -1;
	wait_and_compare(_metadata, self, job);
	ASSERT_EQ(0, engine_batches(&h1, &c1, &t1));
	EXPECT_GE(c1 - c0, 3);
	EXPECT_LT(c1 - c0, 18) TH_LOG("the executor served the whole job before SIGKILL");
}

TEST_F(executor, without_cap_sys_admin_it_says_so)
{
	const struct spawn_opts o = { .engine = "cpu", .drop_admin = 1 };
	pid_t pid = spawn(_metadata, self, &o);
	int status;

	ASSERT_GT(pid, 0);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) TH_LOG("status 0x%x", status);
	EXPECT_TRUE(strstr(executor_log(self), "needs CAP_SYS_ADMIN") != NULL)
		TH_LOG("%s", executor_log(self));
}

/* The Vulkan engine is opened first: with no device, exit 3 and say where jobs go. */
TEST_F(executor, vulkan_without_a_device_exits_clearly)
{
	const struct spawn_opts o = { .engine = "vulkan", .accel = "/nonexistent" };
	pid_t pid = spawn(_metadata, self, &o);
	int status;

	ASSERT_GT(pid, 0);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	if (WIFEXITED(status) && WEXITSTATUS(status) == 1 &&
	    strstr(executor_log(self), "/nonexistent"))
		SKIP(return, "a Vulkan device is present here");
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 3) TH_LOG("status 0x%x", status);
	EXPECT_TRUE(strstr(executor_log(self), "kernel's CPU engine") != NULL)
		TH_LOG("%s", executor_log(self));
}

TEST_HARNESS_MAIN
