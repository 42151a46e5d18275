// SPDX-License-Identifier: GPL-2.0
/*
 * hyperaether-executor - run the accel driver's executor batches on a LAVM
 * engine (the Vulkan engine on a GPU, or the CPU epoch engine).
 *
 * Q FETCH commands stay parked on one io_uring (IORING_OP_URING_CMD on the
 * accel fd).  A completed FETCH carries a batch: its buffers are GEM
 * handles of our file, mapped here, run with the engine, unmapped, and
 * handed back with COMMIT_AND_FETCH (result 0, or -errno so that the
 * kernel runs the batch on its CPU engine), which parks the slot again.
 * The kernel drops a batch's handles itself when it is committed or taken
 * back, so only the mappings are ours to undo.  SIGTERM/SIGINT arrive
 * through a signalfd read on the same ring: batches already handed to us
 * are failed back (the CPU engine runs them at once) and the program ends.
 *
 * Exit status: 0 after a signal, 1 an error, 2 bad usage, 3 no Vulkan device.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>
#include <liburing.h>

#include "executor.h"
#include "hyperaether_accel.h"

#define EXIT_NODEV	3
#define QUEUE_MAX	64
/* user_data of the signalfd read; slots are 0..Q-1 */
#define TAG_SIGNAL	0xffffffffu
/* Consecutive FETCH failures before the executor gives up. */
#define FETCH_ERRORS_MAX 100

struct slot {
	struct drm_hyperaether_exec_batch desc;	/* written by the kernel */
	uint32_t committing;			/* batch id in COMMIT_AND_FETCH, or 0 */
};

struct stats {
	uint64_t batches, failed, late, insns, epochs;
	double busy_s;
};

struct executor {
	int fd;
	struct io_uring ring;
	int sfd;
	struct signalfd_siginfo si;
	struct slot slot[QUEUE_MAX];
	unsigned int queue;
	struct ha_exec_engine eng;
	int verbose;
	bool stopping;
	unsigned int fetch_errors;
	struct stats st;
	double last_report;
};

static const char *prog = "hyperaether-executor";

static void usage(FILE *f)
{
	fprintf(f,
		"usage: %s [--engine vulkan|cpu|ref] [--device N] [--threads T]\n"
		"       %*s [--accel PATH] [--queue Q] [--verbose]\n"
		"\n"
		"Serves the hyperaether_accel driver's executor batches (jobs submitted with\n"
		"engine EXECUTOR) on a LAVM engine, until SIGTERM or SIGINT.\n"
		"  --engine   vulkan (default; Vulkan device N, default 0), cpu (the epoch\n"
		"             engine on T threads, default one per CPU) or ref (reference)\n"
		"  --accel    the accel node (default: the first hyperaether_accel one)\n"
		"  --queue    FETCH commands kept parked (default 2, at most %d)\n"
		"  --verbose  what is served: the engine, batches, VM-instructions per second\n"
		"Needs CAP_SYS_ADMIN.  Exit status 3: no Vulkan device (jobs keep running on\n"
		"the kernel's CPU engine).  See hyperaether-executor(8).\n",
		prog, (int)strlen(prog), "", QUEUE_MAX);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int parse_uint(const char *opt, const char *s, unsigned int min, unsigned int max,
		      unsigned int *v)
{
	char *end;
	unsigned long x;

	errno = 0;
	x = strtoul(s, &end, 10);
	if (!*s || *end || errno || s[0] == '-' || x < min || x > max) {
		fprintf(stderr, "%s: %s: '%s' is not a number in %u..%u\n", prog, opt, s, min, max);
		return -1;
	}
	*v = x;
	return 0;
}

/* Queues a FETCH (@id 0) or COMMIT_AND_FETCH of batch @id on slot @s. */
static int queue_cmd(struct executor *ex, unsigned int s, uint32_t id, int32_t result)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ex->ring);
	struct drm_hyperaether_exec_cmd cmd = {
		.batch_ptr = (uint64_t)(uintptr_t)&ex->slot[s].desc,
		.batch_id = id, .result = result,
	};

	if (!sqe)
		return -EBUSY;
	/* liburing 2.3 has no prep helper for URING_CMD: the fields by hand */
	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = ex->fd;
	sqe->cmd_op = id ? DRM_HYPERAETHER_URING_COMMIT_AND_FETCH : DRM_HYPERAETHER_URING_FETCH;
	memcpy(sqe->cmd, &cmd, sizeof(cmd));
	io_uring_sqe_set_data64(sqe, s);
	ex->slot[s].committing = id;
	return 0;
}

static int queue_signal_read(struct executor *ex)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ex->ring);

	if (!sqe)
		return -EBUSY;
	io_uring_prep_read(sqe, ex->sfd, &ex->si, sizeof(ex->si), 0);
	io_uring_sqe_set_data64(sqe, TAG_SIGNAL);
	return 0;
}

static int submit(struct executor *ex)
{
	int ret = io_uring_submit(&ex->ring);

	return ret < 0 ? ret : 0;
}

/* Maps handle @h of our file (0: none): 0 or -errno. */
static int map_handle(int fd, uint32_t h, void **p, size_t *len)
{
	*p = NULL;
	*len = 0;
	return h ? ha_accel_bo_mmap(fd, h, p, len) : 0;
}

static void unmap_bufs(struct ha_exec_bufs *b)
{
	if (b->prog)
		munmap((void *)b->prog, b->prog_len);
	if (b->state)
		munmap(b->state, b->state_len);
	if (b->shared)
		munmap(b->shared, b->shared_len);
	if (b->stack)
		munmap(b->stack, b->stack_len);
	if (b->acl)
		munmap((void *)b->acl, b->acl_len);
	memset(b, 0, sizeof(*b));
}

static void report(struct executor *ex, const char *when)
{
	const struct stats *st = &ex->st;

	fprintf(stderr, "%s: %s%" PRIu64 " batches run (%" PRIu64 " failed back to the CPU engine, %"
		PRIu64 " committed too late), %" PRIu64 " epochs, %" PRIu64 " VM-instructions in %.3f s: %.3g VM-instr/s\n",
		prog, when, st->batches, st->failed, st->late, st->epochs, st->insns, st->busy_s,
		st->busy_s > 0 ? st->insns / st->busy_s : 0.0);
}

/* Runs the batch FETCH wrote into slot @s and hands it back. */
static int serve(struct executor *ex, unsigned int s, uint32_t id)
{
	const struct drm_hyperaether_exec_batch *d = &ex->slot[s].desc;
	struct ha_exec_result res;
	struct ha_exec_bufs b = { 0 };
	char err[256] = "";
	double t0 = now_s();
	int ret;

	if (d->batch_id != id) {
		ret = -EPROTO;
		snprintf(err, sizeof(err), "completion names batch %u, description %u", id, d->batch_id);
	} else if ((ret = map_handle(ex->fd, d->prog_handle, (void **)&b.prog, &b.prog_len)) ||
		   (ret = map_handle(ex->fd, d->state_handle, &b.state, &b.state_len)) ||
		   (ret = map_handle(ex->fd, d->shared_handle, &b.shared, &b.shared_len)) ||
		   (ret = map_handle(ex->fd, d->stack_handle, &b.stack, &b.stack_len)) ||
		   (ret = map_handle(ex->fd, d->acl_handle, (void **)&b.acl, &b.acl_len))) {
		snprintf(err, sizeof(err), "mapping its buffers: %s", strerror(-ret));
	} else {
		ret = ha_exec_batch_run(&ex->eng, d, &b, &res, err, sizeof(err));
	}
	/* The results are in the shadows; the kernel drops the handles at commit. */
	unmap_bufs(&b);
	ex->st.busy_s += now_s() - t0;
	if (ret) {
		ex->st.failed++;
		fprintf(stderr, "%s: batch %u: %s; the CPU engine runs it\n", prog, id, err);
	} else {
		ex->st.batches++;
		ex->st.epochs += res.epochs;
		ex->st.insns += res.insns;
	}
	if (ex->verbose && now_s() - ex->last_report >= 10) {
		ex->last_report = now_s();
		report(ex, "so far ");
	}
	return queue_cmd(ex, s, id, ret);
}

/* One completion of slot @s with result @res. */
static int complete(struct executor *ex, unsigned int s, int res)
{
	uint32_t was = ex->slot[s].committing;

	ex->slot[s].committing = 0;
	if (res > 0) {
		ex->fetch_errors = 0;
		if (ex->stopping) {
			/* Handed to us as we stop: the CPU engine takes it now. */
			ex->st.failed++;
			return queue_cmd(ex, s, res, -ESHUTDOWN);
		}
		return serve(ex, s, res);
	}
	if (res == -EPERM) {
		fprintf(stderr, "%s: the driver refused to hand out batches (EPERM): serving "
			"needs CAP_SYS_ADMIN; run it as root or from hyperaether-executor.service\n", prog);
		return -EPERM;
	}
	if (res == -ECANCELED || ex->stopping)
		return 0;	/* the ring is going away */
	if (was && res == -ENOENT) {
		/* Committed too late: the kernel took the batch back already. */
		ex->st.late++;
		fprintf(stderr, "%s: batch %u came back after exec_timeout_ms: the CPU engine ran it\n",
			prog, was);
	} else if (++ex->fetch_errors > FETCH_ERRORS_MAX) {
		fprintf(stderr, "%s: FETCH keeps failing: %s\n", prog, strerror(-res));
		return res;
	} else {
		fprintf(stderr, "%s: %s failed: %s\n", prog, was ? "COMMIT_AND_FETCH" : "FETCH",
			strerror(-res));
	}
	return queue_cmd(ex, s, 0, 0);
}

static int setup(struct executor *ex, const char *accel)
{
	sigset_t mask;
	uint64_t api;
	int ret;

	ex->fd = accel ? ha_accel_open_path(accel) : ha_accel_open();
	if (ex->fd < 0) {
		ret = ex->fd;
		fprintf(stderr, "%s: %s: %s%s\n", prog, accel ? accel : "/dev/accel", strerror(-ret),
			ret == -ENOENT || ret == -ENODEV ? " (is hyperaether_accel loaded?)" : "");
		return ret;
	}
	ret = ha_accel_get_param(ex->fd, DRM_HYPERAETHER_PARAM_API_VERSION, &api);
	if (ret || api < 2) {
		fprintf(stderr, "%s: the accel driver has no executors (API version %" PRIu64 ")\n",
			prog, ret ? 0 : api);
		return ret ? ret : -EOPNOTSUPP;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	ex->sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (ex->sfd < 0) {
		ret = -errno;
		fprintf(stderr, "%s: signalfd: %s\n", prog, strerror(-ret));
		return ret;
	}
	ret = io_uring_queue_init(2 * ex->queue + 2, &ex->ring, 0);
	if (ret) {
		fprintf(stderr, "%s: io_uring_queue_init: %s\n", prog, strerror(-ret));
		ex->ring.ring_fd = -1;
		return ret;
	}
	ret = queue_signal_read(ex);
	for (unsigned int s = 0; !ret && s < ex->queue; s++)
		ret = queue_cmd(ex, s, 0, 0);
	if (!ret)
		ret = submit(ex);
	if (ret)
		fprintf(stderr, "%s: io_uring_submit: %s\n", prog, strerror(-ret));
	return ret;
}

static int run(struct executor *ex)
{
	struct io_uring_cqe *cqe;
	uint64_t tag;
	int ret, res;

	while (!ex->stopping) {
		ret = io_uring_wait_cqe(&ex->ring, &cqe);
		if (ret == -EINTR)
			continue;
		if (ret) {
			fprintf(stderr, "%s: io_uring_wait_cqe: %s\n", prog, strerror(-ret));
			return ret;
		}
		/* Everything that completed, then one submit for all answers. */
		do {
			tag = io_uring_cqe_get_data64(cqe);
			res = cqe->res;
			io_uring_cqe_seen(&ex->ring, cqe);
			if (tag == TAG_SIGNAL) {
				if (ex->verbose)
					fprintf(stderr, "%s: %s: stopping\n", prog,
						res > 0 ? strsignal(ex->si.ssi_signo) : "signalfd");
				ex->stopping = true;
				ret = 0;
			} else if (tag < ex->queue) {
				ret = complete(ex, tag, res);
			}
			if (ret)
				return ret;
		} while (io_uring_peek_cqe(&ex->ring, &cqe) == 0);
		ret = submit(ex);
		if (ret) {
			fprintf(stderr, "%s: io_uring_submit: %s\n", prog, strerror(-ret));
			return ret;
		}
	}
	return 0;
}

static void teardown(struct executor *ex)
{
	/* Cancels the parked FETCHes; closing the fd gives back any batch still ours. */
	if (ex->ring.ring_fd >= 0)
		io_uring_queue_exit(&ex->ring);
	if (ex->sfd >= 0)
		close(ex->sfd);
	if (ex->fd >= 0)
		close(ex->fd);
	ha_exec_engine_close(&ex->eng);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "engine", required_argument, NULL, 'e' },
		{ "device", required_argument, NULL, 'd' },
		{ "threads", required_argument, NULL, 't' },
		{ "accel", required_argument, NULL, 'a' },
		{ "queue", required_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	static struct executor ex = { .fd = -1, .sfd = -1, .queue = 2, .ring.ring_fd = -1 };
	enum ha_exec_engine_kind kind = HA_EXEC_ENGINE_VULKAN;
	sigset_t mask;
	unsigned int device = 0, threads = 0;
	const char *accel = NULL;
	char what[256], err[512];
	int c, ret;

	while ((c = getopt_long(argc, argv, "e:d:t:a:q:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'e':
			if (ha_exec_engine_parse(optarg, &kind)) {
				fprintf(stderr, "%s: --engine: '%s' is not vulkan, cpu or ref\n", prog, optarg);
				return 2;
			}
			break;
		case 'd': if (parse_uint("--device", optarg, 0, 255, &device)) return 2; break;
		case 't': if (parse_uint("--threads", optarg, 1, 64, &threads)) return 2; break;
		case 'q': if (parse_uint("--queue", optarg, 1, QUEUE_MAX, &ex.queue)) return 2; break;
		case 'a': accel = optarg; break;
		case 'v': ex.verbose++; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", prog, argv[optind]);
		usage(stderr);
		return 2;
	}
	/*
	 * Block SIGTERM/SIGINT before the engine starts threads (lavapipe and
	 * the CPU engine do): threads inherit the mask, so the signals reach
	 * the signalfd that setup() makes instead of killing the process.
	 */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	ret = ha_exec_engine_open(&ex.eng, kind, device, threads, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "%s: %s\n", prog, err);
		if (ret == -ENODEV)
			fprintf(stderr, "%s: not serving: jobs keep running on the "
				"kernel's CPU engine (--engine cpu serves them from this process)\n", prog);
		return ret == -ENODEV ? EXIT_NODEV : 1;
	}
	ret = setup(&ex, accel);
	if (!ret) {
		ha_exec_engine_describe(&ex.eng, what, sizeof(what));
		if (ex.verbose)
			fprintf(stderr, "%s: serving with %s, %u FETCH parked\n", prog, what, ex.queue);
		ex.last_report = now_s();
		ret = run(&ex);
	}
	teardown(&ex);
	if (ex.verbose)
		report(&ex, ret ? "stopped on an error after " : "served ");
	return ret ? 1 : 0;
}
