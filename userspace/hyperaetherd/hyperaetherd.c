// SPDX-License-Identifier: GPL-2.0
/*
 * hyperaetherd: specs in, verified VMs running in the fabric, results out.
 *
 * One event loop on liburing.  Everything the loop waits for is an SQE:
 * accept and recv/send on the UNIX socket, a read on an inotify fd over
 * the spool directory, a read on the signalfd (SIGTERM, SIGINT), a read on
 * the eventfd of the generator thread, a POLL_ADD on each job's sync_file
 * (the accel job's out-syncobj), and a timeout for the shutdown grace.
 *
 * Generation (gen_generate(), seconds for the synthesizer) runs on one
 * generator thread so that the loop never blocks on it; it touches no
 * device.  Fabric creation and job submission are ioctls in the loop.
 *
 * Backpressure: at most --max-queue specs wait (queued, generating or
 * generated) and at most --max-inflight run; a socket request beyond that
 * is refused with EBUSY, a spool file beyond that stays in the spool until
 * a slot frees.  See Documentation/hyperaetherd.rst.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <liburing.h>
#include <pthread.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "hyperaether.h"
#include "pipeline.h"
#include "protocol.h"

enum op_kind {
	OP_ACCEPT = 1, OP_RECV, OP_SEND, OP_SIGNAL, OP_GEN_DONE, OP_SPOOL,
	OP_JOB_POLL, OP_GRACE, OP_CANCEL,
};

#define OP_SHIFT	56
#define OP_PTR_MASK	((1ull << OP_SHIFT) - 1)

static uint64_t op_data(enum op_kind kind, const void *p)
{
	return (uint64_t)kind << OP_SHIFT | ((uint64_t)(uintptr_t)p & OP_PTR_MASK);
}

enum task_state {
	T_QUEUED,	/* waiting for the generator thread */
	T_GENERATING,	/* on the generator thread */
	T_READY,	/* generated (or failed to), waiting for a run slot */
	T_RUNNING,	/* jobs in the accel device */
};

struct conn;

struct job_poll {
	struct task *task;
	uint32_t vm;
};

struct task {
	struct task *next;
	enum task_state state;	/* under gen_lock while QUEUED/GENERATING */
	char name[256];		/* spool file name or "socket" */
	bool spool;
	struct conn *conn;	/* the client waiting, or NULL */
	char *json;
	size_t len;
	enum gen_generator generator;
	struct ha_run run;
	int ret;
	struct job_poll *polls;
	uint64_t accepted_ns;
};

struct conn {
	struct conn *next;	/* D.conns */
	int fd;
	char *rbuf;
	size_t rlen, rcap;
	char *wbuf;
	size_t wlen, woff;
	int ops;		/* SQEs in flight */
	bool closing;
	bool waiting;		/* a task replies later */
	bool close_after;	/* the reply is the last word */
};

struct daemon {
	struct io_uring ring;
	int listen_fd;
	char sock_path[108];
	char spool[4096];
	int spool_fd;		/* inotify */
	int sig_fd, gen_fd, accel_fd;
	char ino_buf[4096];
	struct signalfd_siginfo siginfo;
	uint64_t gen_count;
	struct __kernel_timespec grace_ts;

	unsigned int max_inflight, max_queue, max_clients, grace_ms;
	enum ha_engine engine;
	struct gen_options gen_opt;
	bool verbose;

	struct task *tasks;	/* every accepted spec */
	struct conn *conns;	/* every open connection */
	unsigned int nqueued, nrunning, nclients;
	bool draining, grace_over, accept_armed;

	pthread_t gen_thread;
	pthread_mutex_t gen_lock;	/* protects the state of QUEUED/GENERATING tasks */
	pthread_cond_t gen_cond;
	bool gen_stop;

	/* stats */
	uint64_t start_ns, accepted, done_ok, done_failed, refused, jobs, epochs;
	uint64_t t_ai_ns, t_boot_ns, t_run_ns;
};

static struct daemon D;

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("hyperaetherd: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static struct io_uring_sqe *get_sqe(void)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&D.ring);

	if (!sqe) {
		io_uring_submit(&D.ring);
		sqe = io_uring_get_sqe(&D.ring);
	}
	return sqe;
}

/* ------------------------------------------------------------ clients */

static void conn_put(struct conn *c)
{
	if (c->ops || c->waiting || !c->closing)
		return;
	for (struct conn **pp = &D.conns; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	close(c->fd);
	free(c->rbuf);
	free(c->wbuf);
	free(c);
	D.nclients--;
}

static void conn_close(struct conn *c)
{
	if (!c->closing) {
		c->closing = true;
		shutdown(c->fd, SHUT_RDWR);	/* ends a parked recv */
	}
	conn_put(c);
}

static void conn_arm_recv(struct conn *c)
{
	struct io_uring_sqe *sqe;

	if (c->closing)
		return conn_put(c);
	if (c->rcap - c->rlen < 4096) {
		size_t ncap = c->rcap ? c->rcap * 2 : 65536;
		char *nb = ncap > HA_PROTO_MAX_LINE ? NULL : realloc(c->rbuf, ncap);

		if (!nb) {
			logf_("client: request longer than %u bytes; closing", HA_PROTO_MAX_LINE);
			return conn_close(c);
		}
		c->rbuf = nb;
		c->rcap = ncap;
	}
	sqe = get_sqe();
	io_uring_prep_recv(sqe, c->fd, c->rbuf + c->rlen, c->rcap - c->rlen, 0);
	io_uring_sqe_set_data64(sqe, op_data(OP_RECV, c));
	c->ops++;
}

static void conn_arm_send(struct conn *c)
{
	struct io_uring_sqe *sqe = get_sqe();

	io_uring_prep_send(sqe, c->fd, c->wbuf + c->woff, c->wlen - c->woff, MSG_NOSIGNAL);
	io_uring_sqe_set_data64(sqe, op_data(OP_SEND, c));
	c->ops++;
}

/* Queue @reply (consumed) on @c; reading resumes once it is sent. */
static void conn_reply(struct conn *c, struct json_object *reply)
{
	const char *text = json_object_to_json_string_ext(reply, JSON_C_TO_STRING_PLAIN);
	size_t len = strlen(text);

	c->waiting = false;
	free(c->wbuf);
	c->wbuf = malloc(len + 1);
	if (!c->wbuf || c->closing) {
		json_object_put(reply);
		return conn_close(c);
	}
	memcpy(c->wbuf, text, len);
	c->wbuf[len] = '\n';
	c->wlen = len + 1;
	c->woff = 0;
	json_object_put(reply);
	conn_arm_send(c);
}

static void conn_error(struct conn *c, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void conn_error(struct conn *c, int err, const char *fmt, ...)
{
	char msg[640];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	conn_reply(c, ha_error_result(err, msg));
}

/* ------------------------------------------------------------ tasks */

static void gen_kick(void)
{
	pthread_mutex_lock(&D.gen_lock);
	pthread_cond_signal(&D.gen_cond);
	pthread_mutex_unlock(&D.gen_lock);
}

static struct task *task_new(const char *name, bool spool, char *json, size_t len)
{
	struct task *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->spool = spool;
	t->json = json;
	t->len = len;
	t->generator = D.gen_opt.generator;
	t->accepted_ns = ha_now_ns();
	ha_run_init(&t->run);
	t->state = T_QUEUED;
	pthread_mutex_lock(&D.gen_lock);
	t->next = D.tasks;
	D.tasks = t;
	pthread_mutex_unlock(&D.gen_lock);
	D.nqueued++;
	D.accepted++;
	gen_kick();
	return t;
}

static void task_unlink(struct task *t)
{
	pthread_mutex_lock(&D.gen_lock);
	for (struct task **pp = &D.tasks; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	}
	pthread_mutex_unlock(&D.gen_lock);
	ha_run_free(&t->run);
	free(t->polls);
	free(t->json);
	free(t);
}

/* Write DIR/SUB/NAME.result.json and move DIR/NAME to DIR/SUB/NAME. */
static void spool_finish(struct task *t, const char *sub, struct json_object *result)
{
	char path[8192], tmp[8192], from[8192];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s/%s.result.json", D.spool, sub, t->name);
	snprintf(tmp, sizeof(tmp), "%s/%s/.%s.result.tmp", D.spool, sub, t->name);
	f = fopen(tmp, "w");
	if (!f || fprintf(f, "%s\n", json_object_to_json_string_ext(result,
			  JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED)) < 0 ||
	    fclose(f) || rename(tmp, path)) {
		logf_("spool: %s: cannot write %s: %s", t->name, path, strerror(errno));
		return;
	}
	snprintf(from, sizeof(from), "%s/%s", D.spool, t->name);
	snprintf(path, sizeof(path), "%s/%s/%s", D.spool, sub, t->name);
	if (rename(from, path))
		logf_("spool: %s: cannot move it to %s/: %s", t->name, sub, strerror(errno));
}

static void spool_scan(void);

/*
 * The end of a task: reply or file the result, drop it.  @kept: a spool
 * spec that stays in the spool (shutdown before it could finish).
 */
static void task_done(struct task *t, struct json_object *result, bool ok, bool kept)
{
	struct json_object *timing;

	if (ok)
		D.done_ok++;
	else if (!kept)
		D.done_failed++;
	if (json_object_object_get_ex(result, "timing", &timing)) {
		D.t_ai_ns += t->run.t_ai_ns;
		D.t_boot_ns += t->run.t_boot_ns;
		D.t_run_ns += t->run.t_run_ns;
	}
	logf_("%s: %s%s", t->name, kept ? "left in the spool: " : ok ? "ok" : "failed: ",
	      kept || !ok ? json_object_get_string(json_object_object_get(result, "error")) : "");
	if (t->spool && !kept)
		spool_finish(t, ok ? "done" : "failed", result);
	if (t->conn) {
		conn_reply(t->conn, result);
		t->conn = NULL;
	} else {
		json_object_put(result);
	}
	task_unlink(t);
	if (!D.draining)
		spool_scan();
}

static void task_fail(struct task *t, int err, const char *msg, bool kept)
{
	if (t->state == T_QUEUED || t->state == T_GENERATING || t->state == T_READY)
		D.nqueued--;
	else if (t->state == T_RUNNING)
		D.nrunning--;
	task_done(t, ha_error_result(err, msg), false, kept);
}

static void task_boot(struct task *t)
{
	struct ha_run *run = &t->run;
	int ret;

	D.nqueued--;
	if (t->ret) {
		struct json_object *r = run->spec ? ha_run_result(run) : ha_error_result(t->ret, run->error);

		if (run->spec) {
			json_object_object_add(r, "errno", json_object_new_string(ha_errno_name(t->ret)));
		}
		return task_done(t, r, false, false);
	}
	if (D.engine == HA_ENGINE_CPU) {
		/* No fabric and no fds to wait on: the run is done when it returns. */
		struct json_object *r, *ok;

		ret = ha_run_cpu(run);
		D.jobs += run->spec->nvms;
		for (uint32_t i = 0; i < run->spec->nvms; i++)
			D.epochs += run->vms[i].epochs;
		r = ha_run_result(run);
		json_object_object_get_ex(r, "ok", &ok);
		return task_done(t, r, !ret && json_object_get_boolean(ok), false);
	}
	ret = ha_run_boot(run, D.accel_fd);
	if (ret) {
		struct json_object *r = ha_error_result(ret, run->error);

		return task_done(t, r, false, false);
	}
	t->state = T_RUNNING;
	D.nrunning++;
	D.jobs += run->spec->nvms;
	t->polls = calloc(run->spec->nvms, sizeof(*t->polls));
	for (uint32_t i = 0; i < run->spec->nvms; i++) {
		struct io_uring_sqe *sqe;

		if (!t->polls) {
			/* Without the poll records, wait synchronously: still correct. */
			ha_run_wait_all(run, -1, NULL, NULL);
			break;
		}
		t->polls[i] = (struct job_poll){ .task = t, .vm = i };
		sqe = get_sqe();
		io_uring_prep_poll_add(sqe, run->vms[i].sync_fd, POLLIN);
		io_uring_sqe_set_data64(sqe, op_data(OP_JOB_POLL, &t->polls[i]));
	}
	if (!run->pending) {
		D.nrunning--;
		task_done(t, ha_run_result(run), true, false);
	}
}

/* Boot what the generator finished while there are run slots. */
static void tasks_advance(void)
{
	bool again = true;

	while (again) {
		struct task *ready = NULL;

		again = false;
		pthread_mutex_lock(&D.gen_lock);
		for (struct task *t = D.tasks; t; t = t->next)
			if (t->state == T_READY)
				ready = t;	/* the oldest: the list is newest first */
		pthread_mutex_unlock(&D.gen_lock);
		if (!ready)
			break;
		if (D.draining) {
			task_fail(ready, -ESHUTDOWN, "hyperaetherd is shutting down: spec not run",
				  ready->spool);
			again = true;
			continue;
		}
		if (D.nrunning >= D.max_inflight && !ready->ret)
			break;
		task_boot(ready);
		again = true;
	}
}

static void job_polled(struct job_poll *p, int res)
{
	struct task *t = p->task;
	struct ha_run *run = &t->run;
	int ret;

	if (res < 0 && res != -ECANCELED)
		logf_("%s: poll on vm %u's sync_file: %s", t->name, p->vm, strerror(-res));
	ret = ha_run_reap(run, p->vm);
	if (ret == -EAGAIN) {
		struct io_uring_sqe *sqe = get_sqe();

		io_uring_prep_poll_add(sqe, run->vms[p->vm].sync_fd, POLLIN);
		io_uring_sqe_set_data64(sqe, op_data(OP_JOB_POLL, p));
		return;
	}
	D.epochs += run->vms[p->vm].epochs;
	if (run->pending)
		return;
	ha_run_teardown(run);	/* the fabric goes with its last job */
	D.nrunning--;
	{
		struct json_object *r = ha_run_result(run), *ok;
		bool good, kept;

		json_object_object_get_ex(r, "ok", &ok);
		good = json_object_get_boolean(ok);
		kept = run->cancelled && t->spool && !good;
		if (run->cancelled && !good)
			json_object_object_add(r, "error", json_object_new_string(
				"cancelled: hyperaetherd shut down before the jobs finished"));
		task_done(t, r, good, kept);
	}
	tasks_advance();
}

/* ------------------------------------------------------------ generator thread */

static void *gen_main(void *arg)
{
	(void)arg;
	for (;;) {
		struct task *t = NULL;
		struct gen_options opt;
		uint64_t one = 1;

		pthread_mutex_lock(&D.gen_lock);
		while (!D.gen_stop) {
			for (struct task *it = D.tasks; it; it = it->next)
				if (it->state == T_QUEUED)
					t = it;		/* the oldest */
			if (t)
				break;
			pthread_cond_wait(&D.gen_cond, &D.gen_lock);
		}
		if (D.gen_stop) {
			pthread_mutex_unlock(&D.gen_lock);
			return NULL;
		}
		t->state = T_GENERATING;
		pthread_mutex_unlock(&D.gen_lock);

		opt = D.gen_opt;
		opt.generator = t->generator;
		t->ret = ha_run_parse(&t->run, t->json, t->len, t->name);
		if (!t->ret)
			t->ret = ha_run_generate(&t->run, &opt);

		pthread_mutex_lock(&D.gen_lock);
		t->state = T_READY;
		pthread_mutex_unlock(&D.gen_lock);
		if (write(D.gen_fd, &one, sizeof(one)) < 0)
			logf_("eventfd: %s", strerror(errno));
	}
}

/* ------------------------------------------------------------ requests */

static struct json_object *stats_json(void)
{
	struct json_object *o = json_object_new_object();
	unsigned int generating = 0;

	pthread_mutex_lock(&D.gen_lock);
	for (struct task *t = D.tasks; t; t = t->next)
		generating += t->state == T_GENERATING;
	pthread_mutex_unlock(&D.gen_lock);
	json_object_object_add(o, "uptime_ms", json_object_new_int64((int64_t)((ha_now_ns() - D.start_ns) / 1000000)));
	json_object_object_add(o, "engine", json_object_new_string(D.engine == HA_ENGINE_CPU ? "cpu" : "accel"));
	json_object_object_add(o, "queued", json_object_new_int64(D.nqueued));
	json_object_object_add(o, "generating", json_object_new_int64(generating));
	json_object_object_add(o, "running", json_object_new_int64(D.nrunning));
	json_object_object_add(o, "max_queue", json_object_new_int64(D.max_queue));
	json_object_object_add(o, "max_inflight", json_object_new_int64(D.max_inflight));
	json_object_object_add(o, "clients", json_object_new_int64(D.nclients));
	json_object_object_add(o, "accepted", json_object_new_int64((int64_t)D.accepted));
	json_object_object_add(o, "done_ok", json_object_new_int64((int64_t)D.done_ok));
	json_object_object_add(o, "done_failed", json_object_new_int64((int64_t)D.done_failed));
	json_object_object_add(o, "refused", json_object_new_int64((int64_t)D.refused));
	json_object_object_add(o, "jobs", json_object_new_int64((int64_t)D.jobs));
	json_object_object_add(o, "epochs", json_object_new_int64((int64_t)D.epochs));
	json_object_object_add(o, "t_ai_ms", json_object_new_double((double)D.t_ai_ns / 1e6));
	json_object_object_add(o, "t_boot_ms", json_object_new_double((double)D.t_boot_ns / 1e6));
	json_object_object_add(o, "t_run_ms", json_object_new_double((double)D.t_run_ns / 1e6));
	json_object_object_add(o, "draining", json_object_new_boolean(D.draining));
	return o;
}

static struct json_object *fabrics_json(void)
{
	struct json_object *a = json_object_new_array();

	for (struct task *t = D.tasks; t; t = t->next) {
		struct json_object *f;

		if (t->state != T_RUNNING || !t->run.spec)
			continue;
		f = ha_spec_fabric(t->run.spec);
		json_object_object_add(f, "fabric_id", json_object_new_int64(t->run.fabric_id));
		json_object_object_add(f, "spec", json_object_new_string(t->name));
		json_object_object_add(f, "pending_jobs", json_object_new_int64(t->run.pending));
		json_object_array_add(a, f);
	}
	return a;
}

static void handle_request(struct conn *c, char *line, size_t len)
{
	struct json_object *req, *op, *spec, *gen, *name, *reply;
	enum json_tokener_error jerr;
	struct json_tokener *tok;
	const char *ops;

	tok = json_tokener_new();
	req = tok ? json_tokener_parse_ex(tok, line, (int)len) : NULL;
	jerr = tok ? json_tokener_get_error(tok) : json_tokener_error_depth;
	if (tok)
		json_tokener_free(tok);
	if (!req || !json_object_is_type(req, json_type_object)) {
		json_object_put(req);
		return conn_error(c, -EINVAL, "request: not a JSON object: %s",
				  req ? "wrong type" : json_tokener_error_desc(jerr));
	}
	if (!json_object_object_get_ex(req, "op", &op) || !json_object_is_type(op, json_type_string)) {
		json_object_put(req);
		return conn_error(c, -EINVAL, "request: no \"op\" (run, stats, fabrics, ping)");
	}
	ops = json_object_get_string(op);
	if (!strcmp(ops, "ping")) {
		reply = json_object_new_object();
		json_object_object_add(reply, "ok", json_object_new_boolean(1));
		json_object_put(req);
		return conn_reply(c, reply);
	}
	if (!strcmp(ops, "stats") || !strcmp(ops, "fabrics")) {
		reply = json_object_new_object();
		json_object_object_add(reply, "ok", json_object_new_boolean(1));
		json_object_object_add(reply, ops, ops[0] == 's' ? stats_json() : fabrics_json());
		json_object_put(req);
		return conn_reply(c, reply);
	}
	if (strcmp(ops, "run")) {
		conn_error(c, -EINVAL, "request: unknown op \"%.64s\" (run, stats, fabrics, ping)", ops);
		json_object_put(req);
		return;
	}
	if (!json_object_object_get_ex(req, "spec", &spec) || !json_object_is_type(spec, json_type_object)) {
		json_object_put(req);
		return conn_error(c, -EINVAL, "request: \"run\" needs a \"spec\" object");
	}
	if (D.draining) {
		json_object_put(req);
		return conn_error(c, -ESHUTDOWN, "hyperaetherd is shutting down: spec not accepted");
	}
	if (D.nqueued >= D.max_queue) {
		D.refused++;
		json_object_put(req);
		return conn_error(c, -EBUSY, "busy: %u specs already wait (--max-queue %u); try again later",
				  D.nqueued, D.max_queue);
	}
	{
		const char *text = json_object_to_json_string_ext(spec, JSON_C_TO_STRING_PLAIN);
		char *copy = strdup(text);
		enum gen_generator g = D.gen_opt.generator;
		struct task *t;

		if (json_object_object_get_ex(req, "generator", &gen) &&
		    gen_generator_parse(json_object_get_string(gen), &g)) {
			free(copy);
			conn_error(c, -EINVAL, "request: unknown generator \"%.64s\"",
				   json_object_get_string(gen));
			json_object_put(req);
			return;
		}
		t = copy ? task_new(json_object_object_get_ex(req, "name", &name) ?
				    json_object_get_string(name) : "socket",
				    false, copy, strlen(copy)) : NULL;
		json_object_put(req);
		if (!t) {
			free(copy);
			return conn_error(c, -ENOMEM, "out of memory");
		}
		t->generator = g;
		t->conn = c;
		c->waiting = true;
	}
}

static void conn_received(struct conn *c, int res)
{
	char *nl;

	if (res <= 0) {
		if (res < 0 && res != -ECONNRESET && !c->closing)
			logf_("client: recv: %s", strerror(-res));
		return conn_close(c);
	}
	c->rlen += (size_t)res;
	nl = memchr(c->rbuf, '\n', c->rlen);
	if (!nl)
		return conn_arm_recv(c);
	handle_request(c, c->rbuf, (size_t)(nl - c->rbuf));
	/* Anything after the request line is the next request. */
	c->rlen -= (size_t)(nl + 1 - c->rbuf);
	memmove(c->rbuf, nl + 1, c->rlen);
}

static void conn_sent(struct conn *c, int res)
{
	if (res < 0) {
		if (!c->closing && res != -EPIPE && res != -ECONNRESET)
			logf_("client: send: %s", strerror(-res));
		return conn_close(c);
	}
	c->woff += (size_t)res;
	if (c->woff < c->wlen)
		return conn_arm_send(c);
	if (D.draining || c->close_after)
		return conn_close(c);
	if (memchr(c->rbuf, '\n', c->rlen)) {
		char *nl = memchr(c->rbuf, '\n', c->rlen);

		handle_request(c, c->rbuf, (size_t)(nl - c->rbuf));
		c->rlen -= (size_t)(nl + 1 - c->rbuf);
		memmove(c->rbuf, nl + 1, c->rlen);
		return;
	}
	conn_arm_recv(c);
}

static void arm_accept(void)
{
	struct io_uring_sqe *sqe = get_sqe();

	io_uring_prep_accept(sqe, D.listen_fd, NULL, NULL, SOCK_CLOEXEC);
	io_uring_sqe_set_data64(sqe, op_data(OP_ACCEPT, NULL));
	D.accept_armed = true;
}

static void accepted(int res)
{
	struct conn *c;

	D.accept_armed = false;
	if (D.draining) {
		if (res >= 0)
			close(res);
		return;
	}
	if (res < 0) {
		logf_("accept: %s", strerror(-res));
		return arm_accept();
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(res);
		return arm_accept();
	}
	c->fd = res;
	c->next = D.conns;
	D.conns = c;
	D.nclients++;
	if (D.nclients > D.max_clients) {
		D.refused++;
		c->close_after = true;
		conn_error(c, -EBUSY, "busy: %u clients connected (max %u)", D.nclients - 1, D.max_clients);
	} else {
		conn_arm_recv(c);
	}
	arm_accept();
}

/* ------------------------------------------------------------ spool */

static bool spool_has(const char *name)
{
	for (struct task *t = D.tasks; t; t = t->next)
		if (t->spool && !strcmp(t->name, name))
			return true;
	return false;
}

static void spool_scan(void)
{
	struct dirent *de;
	DIR *d;

	if (!D.spool[0] || D.draining)
		return;
	d = opendir(D.spool);
	if (!d) {
		logf_("spool %s: %s", D.spool, strerror(errno));
		return;
	}
	while ((de = readdir(d)) && D.nqueued < D.max_queue) {
		size_t n = strlen(de->d_name);
		char path[8192];
		struct stat st;
		char *json;
		FILE *f;
		long len;

		if (de->d_name[0] == '.' || n < 6 || strcmp(de->d_name + n - 5, ".json") ||
		    spool_has(de->d_name) || n >= sizeof(((struct task *)0)->name))
			continue;
		snprintf(path, sizeof(path), "%s/%s", D.spool, de->d_name);
		/* An empty file is most likely still being written (rename it in instead). */
		if (stat(path, &st) || !S_ISREG(st.st_mode) || !st.st_size)
			continue;
		f = fopen(path, "r");
		if (!f)
			continue;
		fseek(f, 0, SEEK_END);
		len = ftell(f);
		rewind(f);
		json = len >= 0 && len < (long)HA_PROTO_MAX_LINE ? malloc((size_t)len + 1) : NULL;
		if (!json || fread(json, 1, (size_t)len, f) != (size_t)len) {
			fclose(f);
			free(json);
			logf_("spool: %s: cannot read it (or over %u bytes)", de->d_name, HA_PROTO_MAX_LINE);
			continue;
		}
		fclose(f);
		json[len] = '\0';
		if (!task_new(de->d_name, true, json, (size_t)len))
			free(json);
	}
	closedir(d);
}

static void arm_spool(void)
{
	struct io_uring_sqe *sqe = get_sqe();

	io_uring_prep_read(sqe, D.spool_fd, D.ino_buf, sizeof(D.ino_buf), 0);
	io_uring_sqe_set_data64(sqe, op_data(OP_SPOOL, NULL));
}

/* ------------------------------------------------------------ shutdown */

static void begin_shutdown(int sig)
{
	struct io_uring_sqe *sqe;
	struct task *t, *next;

	if (D.draining) {
		logf_("signal %d again: cancelling in-flight jobs now", sig);
		D.grace_over = true;
		for (t = D.tasks; t; t = t->next)
			if (t->state == T_RUNNING)
				ha_run_cancel(&t->run);
		return;
	}
	D.draining = true;
	logf_("signal %d: not accepting specs; finishing %u running (grace %u ms)",
	      sig, D.nrunning, D.grace_ms);
	if (D.listen_fd >= 0) {
		if (D.accept_armed) {
			sqe = get_sqe();
			io_uring_prep_cancel64(sqe, op_data(OP_ACCEPT, NULL), 0);
			io_uring_sqe_set_data64(sqe, op_data(OP_CANCEL, NULL));
		}
		unlink(D.sock_path);
	}
	/* Specs not started: refused now; spool files stay for the next start. */
	pthread_mutex_lock(&D.gen_lock);
	for (t = D.tasks; t; t = next) {
		next = t->next;
		if (t->state != T_QUEUED)
			continue;
		t->state = T_READY;	/* the generator thread skips it */
		t->ret = -ESHUTDOWN;
	}
	pthread_mutex_unlock(&D.gen_lock);
	tasks_advance();
	sqe = get_sqe();
	D.grace_ts.tv_sec = D.grace_ms / 1000;
	D.grace_ts.tv_nsec = (long long)(D.grace_ms % 1000) * 1000000;
	io_uring_prep_timeout(sqe, &D.grace_ts, 0, 0);
	io_uring_sqe_set_data64(sqe, op_data(OP_GRACE, NULL));
}

static void grace_expired(void)
{
	D.grace_over = true;
	if (!D.nrunning)
		return;
	logf_("grace of %u ms over: cancelling %u running specs", D.grace_ms, D.nrunning);
	for (struct task *t = D.tasks; t; t = t->next)
		if (t->state == T_RUNNING)
			ha_run_cancel(&t->run);
}

static bool generating(void)
{
	bool busy = false;

	pthread_mutex_lock(&D.gen_lock);
	for (struct task *t = D.tasks; t; t = t->next)
		busy |= t->state == T_GENERATING;
	pthread_mutex_unlock(&D.gen_lock);
	return busy;
}

/* Replies still being sent: shutdown waits for them. */
static bool replies_in_flight(void)
{
	for (struct conn *c = D.conns; c; c = c->next)
		if (c->wbuf && c->woff < c->wlen && !c->closing)
			return true;
	return false;
}

/* ------------------------------------------------------------ setup */

/*
 * Listens on @path.  The socket is bound under a temporary name and renamed
 * into place only once it listens, so a client that sees @path can connect:
 * a socket file that exists between bind() and listen() refuses connections
 * (ECONNREFUSED), and clients and tests take the file as the readiness
 * signal.  rename() also replaces, atomically, a stale socket of a daemon
 * that was killed.
 */
static int listen_on(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[sizeof(sa.sun_path)], *slash;
	int fd, len, ret;

	len = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s.%d", path, (int)getpid());
	if (len < 0 || (size_t)len >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		mkdir(dir, 0755);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	unlink(sa.sun_path);	/* left by a killed daemon of the same pid */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 64) ||
	    rename(sa.sun_path, path)) {
		ret = -errno;
		unlink(sa.sun_path);
		close(fd);
		return ret;
	}
	return fd;
}

static const char usage[] =
	"usage: hyperaetherd [options]\n"
	"  --socket PATH        listen here (default: $RUNTIME_DIRECTORY/" HA_SOCKET_NAME ",\n"
	"                       " HA_SYSTEM_SOCKET " for root, else $XDG_RUNTIME_DIR)\n"
	"  --no-socket          no socket (spool only)\n"
	"  --spool DIR          run DIR/*.json; results in DIR/done and DIR/failed\n"
	"                       (default under systemd: $STATE_DIRECTORY/spool)\n"
	"  --max-inflight N     specs running at once (default 4)\n"
	"  --max-queue N        specs waiting at most (default 16)\n"
	"  --max-clients N      connections at most (default 64)\n"
	"  --grace-ms MS        on SIGTERM, let running jobs finish this long (default 10000)\n"
	"  --engine accel|cpu   the kernel devices (default) or the userspace lavm engine\n"
	"  --generator G        auto|source|compiler|synth|ai (default auto)\n"
	"  --budget-ms MS       generation budget per VM (default 20000)\n"
	"  --no-cache           do not use the generator's cache\n"
	"  --verbose            generator progress on stderr\n";

int hyperaetherd_main(int argc, char **argv);

int hyperaetherd_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "no-socket", no_argument, NULL, 'S' },
		{ "spool", required_argument, NULL, 'p' },
		{ "max-inflight", required_argument, NULL, 'i' },
		{ "max-queue", required_argument, NULL, 'q' },
		{ "max-clients", required_argument, NULL, 'c' },
		{ "grace-ms", required_argument, NULL, 'g' },
		{ "engine", required_argument, NULL, 'e' },
		{ "generator", required_argument, NULL, 'G' },
		{ "budget-ms", required_argument, NULL, 'b' },
		{ "no-cache", no_argument, NULL, 'n' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	bool no_socket = false;
	const char *sock = NULL;
	sigset_t mask;
	int c, ret;

	memset(&D, 0, sizeof(D));
	D.listen_fd = D.spool_fd = D.sig_fd = D.gen_fd = D.accel_fd = -1;
	D.max_inflight = 4;
	D.max_queue = 16;
	D.max_clients = 64;
	D.grace_ms = 10000;
	gen_options_init(&D.gen_opt);
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's': sock = optarg; break;
		case 'S': no_socket = true; break;
		case 'p': snprintf(D.spool, sizeof(D.spool), "%s", optarg); break;
		case 'i': D.max_inflight = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'q': D.max_queue = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'c': D.max_clients = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'g': D.grace_ms = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'b': D.gen_opt.time_budget_ms = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'n': D.gen_opt.cache_dir = ""; break;
		case 'v': D.verbose = true; D.gen_opt.log = stderr; break;
		case 'e':
			if (!strcmp(optarg, "cpu"))
				D.engine = HA_ENGINE_CPU;
			else if (strcmp(optarg, "accel"))
				goto bad_usage;
			break;
		case 'G':
			if (gen_generator_parse(optarg, &D.gen_opt.generator))
				goto bad_usage;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			goto bad_usage;
		}
	}
	/* Under systemd (StateDirectory=): the spool and the program cache there. */
	if (getenv("STATE_DIRECTORY") && *getenv("STATE_DIRECTORY")) {
		char dir[4096];

		snprintf(dir, sizeof(dir), "%s/gen-cache", getenv("STATE_DIRECTORY"));
		setenv("HA_GEN_CACHE", dir, 0);
		if (!D.spool[0]) {
			snprintf(D.spool, sizeof(D.spool), "%s/spool", getenv("STATE_DIRECTORY"));
			mkdir(D.spool, 0750);
		}
	}
	if (optind < argc || !D.max_inflight || !D.max_queue || !D.max_clients ||
	    (no_socket && !D.spool[0]))
		goto bad_usage;

	if (D.engine == HA_ENGINE_ACCEL) {
		int fd = ha_open();

		if (fd < 0) {
			logf_("cannot open %s: %s (module not loaded? --engine cpu runs without it)",
			      HA_DEV_PATH, strerror(-fd));
			return 1;
		}
		close(fd);
		D.accel_fd = ha_accel_open();
		if (D.accel_fd < 0) {
			logf_("no hyperaether accel device: %s (module hyperaether_accel)",
			      strerror(-D.accel_fd));
			return 1;
		}
	}

	/* The signals the loop reads: blocked before the generator thread starts. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	D.sig_fd = signalfd(-1, &mask, SFD_CLOEXEC);
	D.gen_fd = eventfd(0, EFD_CLOEXEC);
	if (D.sig_fd < 0 || D.gen_fd < 0) {
		logf_("signalfd/eventfd: %s", strerror(errno));
		return 1;
	}
	ret = io_uring_queue_init(256, &D.ring, 0);
	if (ret) {
		logf_("io_uring_queue_init: %s", strerror(-ret));
		return 1;
	}
	if (!no_socket) {
		if (!sock && ha_daemon_socket_default(D.sock_path, sizeof(D.sock_path)))
			return 1;
		if (sock)
			snprintf(D.sock_path, sizeof(D.sock_path), "%s", sock);
		D.listen_fd = listen_on(D.sock_path);
		if (D.listen_fd < 0) {
			logf_("cannot listen on %s: %s", D.sock_path, strerror(-D.listen_fd));
			return 1;
		}
		arm_accept();
	}
	if (D.spool[0]) {
		char sub[8192];

		snprintf(sub, sizeof(sub), "%s/done", D.spool);
		mkdir(sub, 0755);
		snprintf(sub, sizeof(sub), "%s/failed", D.spool);
		mkdir(sub, 0755);
		D.spool_fd = inotify_init1(IN_CLOEXEC);
		if (D.spool_fd < 0 ||
		    inotify_add_watch(D.spool_fd, D.spool, IN_CLOSE_WRITE | IN_MOVED_TO) < 0) {
			logf_("spool %s: %s", D.spool, strerror(errno));
			return 1;
		}
		arm_spool();
	}
	pthread_mutex_init(&D.gen_lock, NULL);
	pthread_cond_init(&D.gen_cond, NULL);
	if (pthread_create(&D.gen_thread, NULL, gen_main, NULL)) {
		logf_("generator thread: %s", strerror(errno));
		return 1;
	}
	{
		struct io_uring_sqe *sqe = get_sqe();

		io_uring_prep_read(sqe, D.sig_fd, &D.siginfo, sizeof(D.siginfo), 0);
		io_uring_sqe_set_data64(sqe, op_data(OP_SIGNAL, NULL));
		sqe = get_sqe();
		io_uring_prep_read(sqe, D.gen_fd, &D.gen_count, sizeof(D.gen_count), 0);
		io_uring_sqe_set_data64(sqe, op_data(OP_GEN_DONE, NULL));
	}
	D.start_ns = ha_now_ns();
	logf_("ready: engine %s, socket %s, spool %s, max-inflight %u, max-queue %u",
	      D.engine == HA_ENGINE_CPU ? "cpu (userspace lavm)" : "accel",
	      no_socket ? "-" : D.sock_path, D.spool[0] ? D.spool : "-",
	      D.max_inflight, D.max_queue);
	spool_scan();

	for (;;) {
		struct io_uring_cqe *cqe;
		uint64_t data;
		void *p;
		int res;

		if (D.draining && !D.nrunning && (!generating() || D.grace_over) && !replies_in_flight())
			break;
		io_uring_submit(&D.ring);
		ret = io_uring_wait_cqe(&D.ring, &cqe);
		if (ret == -EINTR)
			continue;
		if (ret) {
			logf_("io_uring_wait_cqe: %s", strerror(-ret));
			break;
		}
		data = io_uring_cqe_get_data64(cqe);
		res = cqe->res;
		io_uring_cqe_seen(&D.ring, cqe);
		p = (void *)(uintptr_t)(data & OP_PTR_MASK);
		switch ((enum op_kind)(data >> OP_SHIFT)) {
		case OP_ACCEPT:
			accepted(res);
			break;
		case OP_RECV:
			((struct conn *)p)->ops--;
			conn_received(p, res);
			break;
		case OP_SEND:
			((struct conn *)p)->ops--;
			conn_sent(p, res);
			break;
		case OP_SIGNAL:
			if (res == sizeof(D.siginfo))
				begin_shutdown((int)D.siginfo.ssi_signo);
			{
				struct io_uring_sqe *sqe = get_sqe();

				io_uring_prep_read(sqe, D.sig_fd, &D.siginfo, sizeof(D.siginfo), 0);
				io_uring_sqe_set_data64(sqe, op_data(OP_SIGNAL, NULL));
			}
			break;
		case OP_GEN_DONE: {
			struct io_uring_sqe *sqe = get_sqe();

			tasks_advance();
			io_uring_prep_read(sqe, D.gen_fd, &D.gen_count, sizeof(D.gen_count), 0);
			io_uring_sqe_set_data64(sqe, op_data(OP_GEN_DONE, NULL));
			break;
		}
		case OP_SPOOL:
			spool_scan();
			if (!D.draining)
				arm_spool();
			break;
		case OP_JOB_POLL:
			job_polled(p, res);
			break;
		case OP_GRACE:
			grace_expired();
			break;
		case OP_CANCEL:
			break;
		}
	}
	logf_("stopped: %llu specs ok, %llu failed, %llu refused",
	      (unsigned long long)D.done_ok, (unsigned long long)D.done_failed,
	      (unsigned long long)D.refused);
	pthread_mutex_lock(&D.gen_lock);
	D.gen_stop = true;
	pthread_cond_signal(&D.gen_cond);
	pthread_mutex_unlock(&D.gen_lock);
	/* A generation still running is abandoned: its spool file stays. */
	if (!generating())
		pthread_join(D.gen_thread, NULL);
	if (D.listen_fd >= 0)
		close(D.listen_fd);
	io_uring_queue_exit(&D.ring);	/* cancels the recvs into the buffers freed below */
	while (D.conns) {
		struct conn *c = D.conns;

		D.conns = c->next;
		close(c->fd);
		free(c->rbuf);
		free(c->wbuf);
		free(c);
	}
	return 0;

bad_usage:
	fputs(usage, stderr);
	return 2;
}

#ifndef HYPERAETHERD_NO_MAIN
int main(int argc, char **argv)
{
	return hyperaetherd_main(argc, argv);
}
#endif
