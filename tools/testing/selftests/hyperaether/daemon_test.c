// SPDX-License-Identifier: GPL-2.0
/*
 * hyperaetherd through the real devices: specs over the socket and the
 * spool, results checked against values computed here, a multi-VM fabric
 * whose edges are read back from debugfs while it runs, bad input (no
 * fabric left behind), SIGTERM mid-spec (no accepted spool file lost) and
 * SIGKILL mid-spec (the devices stay usable).
 *
 * The daemon is linked into this binary (the initramfs has no other copy)
 * and started as "daemon_test --hyperaetherd ARGS".
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "kselftest_harness.h"
#include "protocol.h"

int hyperaetherd_main(int argc, char **argv);

#define FABRICS_DEBUGFS "/sys/kernel/debug/hyperaether/fabrics"

/* Fabrics alive in the kernel, or -1 without debugfs. */
static int fabric_count(void)
{
	FILE *f = fopen(FABRICS_DEBUGFS, "r");
	char line[512];
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		n += !strncmp(line, "fabric ", 7);
	fclose(f);
	return n;
}

/* Wait up to 30 s for the fabric count to drop to @want (fds close asynchronously). */
static int fabric_count_settles(int want)
{
	int n = fabric_count();

	for (int i = 0; i < 600 && n > want; i++) {
		usleep(50000);
		n = fabric_count();
	}
	return n;
}

static void write_file(const char *path, const char *text)
{
	char tmp[512];
	int fd;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text) || close(fd) ||
	    rename(tmp, path))
		perror(path);
}

static bool exists(const char *dir, const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return !access(path, F_OK);
}

static int stop_daemon(pid_t pid, int sig)
{
	int status = -1;

	if (pid <= 0)
		return -1;
	kill(pid, sig);
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static pid_t start_daemon(const char *dir, const char *grace_ms)
{
	char sock[256], spool[256];
	pid_t pid;

	snprintf(sock, sizeof(sock), "%s/sock", dir);
	snprintf(spool, sizeof(spool), "%s/spool", dir);
	mkdir(spool, 0755);
	unlink(sock);	/* a killed daemon's socket: wait for the new one's */
	pid = fork();
	if (!pid) {
		char log[256];
		int fd;

		snprintf(log, sizeof(log), "%s/log", dir);
		fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0)
			dup2(fd, 2);
		execl("/proc/self/exe", "daemon_test", "--hyperaetherd", "--socket", sock,
		      "--spool", spool, "--grace-ms", grace_ms, "--budget-ms", "1500",
		      "--no-cache", (char *)NULL);
		_exit(127);
	}
	/*
	 * The daemon renames its socket into place once it listens, so the
	 * file is the readiness signal.  30 s: on the debug kernel (KASAN)
	 * under TCG, beside another guest, starting the daemon is slow.
	 */
	for (int i = 0; i < 1200; i++) {
		struct stat st;

		if (!stat(sock, &st))
			return pid;
		if (waitpid(pid, NULL, WNOHANG) == pid) {
			fprintf(stderr, "# hyperaetherd exited before listening on %s\n", sock);
			return -1;
		}
		usleep(25000);
	}
	fprintf(stderr, "# hyperaetherd: no socket %s after 30 s\n", sock);
	stop_daemon(pid, SIGKILL);
	return -1;
}

static struct json_object *request(const char *dir, const char *spec_json)
{
	struct json_object *req, *reply = NULL, *spec;
	char sock[256], err[512];

	snprintf(sock, sizeof(sock), "%s/sock", dir);
	req = json_object_new_object();
	json_object_object_add(req, "op", json_object_new_string("run"));
	spec = json_tokener_parse(spec_json);
	json_object_object_add(req, "spec", spec ? spec : json_object_new_string(spec_json));
	if (ha_client_request(sock, req, &reply, err, sizeof(err)))
		fprintf(stderr, "# %s\n", err);
	json_object_put(req);
	return reply;
}

/* A request line as given (need not be JSON) and the reply. */
static struct json_object *request_raw(const char *dir, const char *line)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char buf[4096];
	ssize_t n, len = 0;
	int fd;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/sock", dir);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    write(fd, line, strlen(line)) != (ssize_t)strlen(line)) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	while (len < (ssize_t)sizeof(buf) - 1 && (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0) {
		len += n;
		if (memchr(buf, '\n', len))
			break;
	}
	close(fd);
	buf[len] = '\0';
	return json_tokener_parse(buf);
}

static const char *jstr(struct json_object *o, const char *k)
{
	struct json_object *v;

	return o && json_object_object_get_ex(o, k, &v) ? json_object_get_string(v) : "";
}

static struct json_object *vm_of(struct json_object *r, const char *name)
{
	struct json_object *vms;

	if (!r || !json_object_object_get_ex(r, "vms", &vms))
		return NULL;
	for (size_t i = 0; i < json_object_array_length(vms); i++) {
		struct json_object *v = json_object_array_get_idx(vms, i);

		if (!strcmp(jstr(v, "name"), name))
			return v;
	}
	return NULL;
}

static float output(struct json_object *vm, const char *name, size_t inst)
{
	struct json_object *outs, *vals;

	if (!vm || !json_object_object_get_ex(vm, "outputs", &outs) ||
	    !json_object_object_get_ex(outs, name, &vals) || inst >= json_object_array_length(vals))
		return NAN;
	return strtof(json_object_get_string(json_object_array_get_idx(vals, inst)), NULL);
}

static bool same_bits(float a, float b)
{
	return !memcmp(&a, &b, sizeof(a));
}

/* A VM that loops for a long time: for the mid-spec tests. */
#define LONG_SPEC \
	"{\"fabric\": \"long\", \"quota\": {\"epochs\": 400000000}, \"vms\": [" \
	"{\"name\": \"spin\", \"params\": [\"n\"], \"instances\": 64, \"inputs\": [100000000]," \
	" \"formula\": \"repeat(n, x, 0, x + 1)\", \"quota\": {\"epochs\": 400000000}}]}"

FIXTURE(daemon) {
	char dir[64];
	pid_t pid;
	int fabrics0;
};

FIXTURE_SETUP(daemon)
{
	snprintf(self->dir, sizeof(self->dir), "/tmp/hyperaetherd.%d", getpid());
	mkdir(self->dir, 0755);
	self->fabrics0 = fabric_count();
	self->pid = start_daemon(self->dir, "300");
	ASSERT_GT(self->pid, 0);
}

FIXTURE_TEARDOWN(daemon)
{
	char cmd[128];

	if (self->pid > 0)
		stop_daemon(self->pid, SIGTERM);
	if (self->fabrics0 >= 0) {
		EXPECT_EQ(self->fabrics0, fabric_count_settles(self->fabrics0));
	}
	snprintf(cmd, sizeof(cmd), "cat %s/log >&2; rm -rf %s", self->dir, self->dir);
	if (system(cmd))
		perror("cleanup");
}

/* Known results: every instance's output, bit for bit, computed here. */
TEST_F(daemon, known_results)
{
	const float x = 2.5f, c = -1.0f, v = 5.0f;
	struct json_object *r, *a, *b;

	r = request(self->dir,
		"{\"fabric\": \"known\", \"vms\": ["
		"{\"name\": \"lin\", \"params\": [\"x\", \"c\"], \"outputs\": [\"y\"], \"instances\": 8,"
		" \"inputs\": [2.5, -1], \"formula\": \"y = x * id + c\"},"
		"{\"name\": \"cond\", \"params\": [\"v\"], \"outputs\": [\"y\", \"z\"], \"instances\": 3,"
		" \"inputs\": [5], \"formula\": \"y = if v > 3 then v * v - id else sqrt(v) + id\\n"
		"z = sum(i, 0, v, i * i)\"}]}");
	ASSERT_NE(NULL, r);
	ASSERT_STREQ("true", jstr(r, "ok")) TH_LOG("%s", json_object_to_json_string(r));
	ASSERT_STREQ("accel", jstr(r, "engine"));
	a = vm_of(r, "lin");
	b = vm_of(r, "cond");
	for (int i = 0; i < 8; i++) {
		float want = x * (float)i + c;

		EXPECT_TRUE(same_bits(want, output(a, "y", (size_t)i)))
			TH_LOG("lin[%d]: %g, want %g", i, output(a, "y", (size_t)i), want);
	}
	for (int i = 0; i < 3; i++) {
		float want = v > 3 ? v * v - (float)i : sqrtf(v) + (float)i, s = 0;

		for (float k = 0; k < v; k += 1)
			s = s + k * k;
		EXPECT_TRUE(same_bits(want, output(b, "y", (size_t)i)));
		EXPECT_TRUE(same_bits(s, output(b, "z", (size_t)i)));
	}
	EXPECT_STREQ("halted", jstr(a, "status"));
	EXPECT_LT(0, atoi(jstr(a, "epochs")));
	json_object_put(r);
}

/*
 * One fabric, two backends: the same formula on the accel device and in a
 * KVM guest over its fabric VM's memory; both give the values computed
 * here.
 */
TEST_F(daemon, kvm_and_lavm_backends_agree)
{
	const float x = 1.5f, c = 0.25f;
	struct json_object *r, *a, *k;

	if (access("/dev/kvm", R_OK | W_OK))
		SKIP(return, "no /dev/kvm");
	r = request(self->dir,
		"{\"fabric\": \"mixed\", \"vms\": ["
		"{\"name\": \"onaccel\", \"params\": [\"x\", \"c\"], \"outputs\": [\"y\"],"
		" \"instances\": 6, \"inputs\": [1.5, 0.25], \"formula\": \"y = x * id * id + c\"},"
		"{\"name\": \"onkvm\", \"backend\": \"kvm\", \"params\": [\"x\", \"c\"],"
		" \"outputs\": [\"y\"], \"instances\": 6, \"inputs\": [1.5, 0.25],"
		" \"formula\": \"y = x * id * id + c\"}],"
		" \"edges\": [{\"from\": \"onaccel\", \"to\": \"onkvm\", \"rights\": [\"send\"]}]}");
	ASSERT_NE(NULL, r);
	ASSERT_STREQ("true", jstr(r, "ok")) TH_LOG("%s", json_object_to_json_string(r));
	a = vm_of(r, "onaccel");
	k = vm_of(r, "onkvm");
	EXPECT_STREQ("lavm", jstr(a, "backend"));
	EXPECT_STREQ("kvm", jstr(k, "backend"));
	EXPECT_STREQ("halted", jstr(k, "status")) TH_LOG("%s", json_object_to_json_string(k));
	for (int i = 0; i < 6; i++) {
		float want = x * (float)i * (float)i + c;

		EXPECT_TRUE(same_bits(want, output(a, "y", (size_t)i)))
			TH_LOG("accel[%d]: %g, want %g", i, output(a, "y", (size_t)i), want);
		EXPECT_TRUE(same_bits(want, output(k, "y", (size_t)i)))
			TH_LOG("kvm[%d]: %g, want %g", i, output(k, "y", (size_t)i), want);
	}
	EXPECT_STREQ(jstr(a, "epochs"), jstr(k, "epochs"));
	json_object_put(r);
}

/* A multi-VM fabric: its edges are in the kernel while it runs, and gone after. */
TEST_F(daemon, multi_vm_fabric_edges)
{
	char sock[256], err[512], line[512];
	struct json_object *req, *reply = NULL, *fabrics = NULL;
	int id = -1, edges = 0, status;
	bool in = false;
	pid_t client;
	FILE *f;

	if (self->fabrics0 < 0)
		SKIP(return, "no debugfs");
	client = fork();
	if (!client) {
		struct json_object *r = request(self->dir,
			"{\"fabric\": \"graph\", \"quota\": {\"epochs\": 400000000}, \"vms\": ["
			"{\"name\": \"a\", \"formula\": \"1 + 1\"},"
			"{\"name\": \"b\", \"formula\": \"2 * 3\", \"shared\": {\"size\": 4}},"
			"{\"name\": \"spin\", \"params\": [\"n\"], \"inputs\": [100000000],"
			" \"formula\": \"repeat(n, x, 0, x + 1)\", \"quota\": {\"epochs\": 400000000}}],"
			" \"edges\": [{\"from\": \"a\", \"to\": \"b\", \"rights\": [\"send\"]},"
			" {\"from\": \"b\", \"to\": \"a\", \"rights\": [\"recv\"]},"
			" {\"from\": \"b\", \"to\": \"spin\", \"rights\": [\"share\", \"send\"]},"
			" {\"from\": \"spin\", \"to\": \"b\", \"rights\": [\"recv\"]}]}");
		_exit(r ? 0 : 1);
	}
	snprintf(sock, sizeof(sock), "%s/sock", self->dir);
	for (int i = 0; i < 1200 && id < 0; i++) {
		req = json_object_new_object();
		json_object_object_add(req, "op", json_object_new_string("fabrics"));
		ASSERT_EQ(0, ha_client_request(sock, req, &reply, err, sizeof(err))) TH_LOG("%s", err);
		json_object_put(req);
		if (json_object_object_get_ex(reply, "fabrics", &fabrics) &&
		    json_object_array_length(fabrics) == 1) {
			struct json_object *fab = json_object_array_get_idx(fabrics, 0), *e;

			id = atoi(jstr(fab, "fabric_id"));
			ASSERT_TRUE(json_object_object_get_ex(fab, "edges", &e));
			EXPECT_EQ(4, json_object_array_length(e));
		}
		json_object_put(reply);
		if (id < 0)
			usleep(25000);
	}
	ASSERT_LE(0, id);
	/* The kernel's view: VM ids 0..2 in spec order, the four edges. */
	f = fopen(FABRICS_DEBUGFS, "r");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f)) {
		int fid;

		if (sscanf(line, "fabric %d:", &fid) == 1)
			in = fid == id;
		else if (in && strstr(line, "  edge "))
			edges++;
		if (in && strstr(line, "edge 1 -> 2")) {
			EXPECT_NE(NULL, strstr(line, "rights S-M-"));
		}
		if (in && strstr(line, "edge 0 -> 1")) {
			EXPECT_NE(NULL, strstr(line, "rights S---"));
		}
	}
	fclose(f);
	EXPECT_EQ(4, edges);
	/* SIGTERM with a 300 ms grace cancels the spinner; the client gets its reply. */
	EXPECT_EQ(0, stop_daemon(self->pid, SIGTERM));
	self->pid = 0;
	ASSERT_EQ(client, waitpid(client, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* Bad input: a clear error naming the cause, and no fabric left behind. */
TEST_F(daemon, bad_input)
{
	struct json_object *r;

	/* Malformed JSON: on the socket, and in the spool (filed under failed/). */
	r = request_raw(self->dir, "{\"op\": \"run\", \"spec\": {\n");
	ASSERT_NE(NULL, r);
	EXPECT_STREQ("EINVAL", jstr(r, "errno"));
	EXPECT_NE(NULL, strstr(jstr(r, "error"), "not a JSON object"));
	json_object_put(r);
	if (true) {
		char path[256];

		snprintf(path, sizeof(path), "%s/spool/broken.json", self->dir);
		write_file(path, "{\"vms\": [ {\"name\": }");
		snprintf(path, sizeof(path), "%s/spool/failed", self->dir);
		/* The result is written first, the spec moved second. */
		for (int i = 0; i < 1200 && !exists(path, "broken.json"); i++)
			usleep(25000);
		EXPECT_TRUE(exists(path, "broken.json.result.json"));
		EXPECT_TRUE(exists(path, "broken.json"));
	}
	r = request_raw(self->dir, "{\"op\": \"ping\"}\n");
	EXPECT_STREQ("true", jstr(r, "ok"));
	json_object_put(r);

	/* No generator can satisfy it. */
	r = request(self->dir,
		"{\"vms\": [{\"name\": \"h\", \"params\": [\"x\"], \"outputs\": [\"y\"], \"examples\": ["
		"{\"in\": [0], \"out\": 7.25}, {\"in\": [1], \"out\": -3.5}, {\"in\": [2], \"out\": 1234.5},"
		"{\"in\": [3], \"out\": 0.0625}, {\"in\": [4], \"out\": -77}]}]}");
	ASSERT_NE(NULL, r);
	EXPECT_STREQ("false", jstr(r, "ok"));
	EXPECT_STREQ("ESRCH", jstr(r, "errno"));
	EXPECT_NE(NULL, strstr(jstr(r, "error"), "vm 'h'"));
	json_object_put(r);

	/* A VM quota above the fabric's: EDQUOT at VM_ADD, after the first VM was added. */
	r = request(self->dir,
		"{\"fabric\": \"q\", \"quota\": {\"epochs\": 1000}, \"vms\": ["
		"{\"name\": \"ok\", \"formula\": \"1\", \"quota\": {\"epochs\": 500}},"
		"{\"name\": \"greedy\", \"formula\": \"2\", \"quota\": {\"epochs\": 5000}}]}");
	ASSERT_NE(NULL, r);
	EXPECT_STREQ("false", jstr(r, "ok"));
	EXPECT_STREQ("EDQUOT", jstr(r, "errno"));
	EXPECT_NE(NULL, strstr(jstr(r, "error"), "vm 'greedy'")) TH_LOG("%s", jstr(r, "error"));
	json_object_put(r);
	if (self->fabrics0 >= 0) {
		EXPECT_EQ(self->fabrics0, fabric_count_settles(self->fabrics0));
	}

	/* Memory beyond the fabric's: EDQUOT too. */
	r = request(self->dir,
		"{\"quota\": {\"mem_bytes\": 65536}, \"vms\": ["
		"{\"name\": \"big\", \"formula\": \"1\", \"quota\": {\"mem_bytes\": 1048576}}]}");
	ASSERT_NE(NULL, r);
	EXPECT_STREQ("EDQUOT", jstr(r, "errno"));
	json_object_put(r);

	/* And the devices still work. */
	r = request(self->dir, "{\"vms\": [{\"name\": \"one\", \"formula\": \"40 + 2\"}]}");
	ASSERT_NE(NULL, r);
	EXPECT_STREQ("true", jstr(r, "ok"));
	EXPECT_TRUE(same_bits(42.0f, output(vm_of(r, "one"), "result", 0)));
	json_object_put(r);
}

/* SIGTERM mid-spec: the running spec is cancelled after the grace and stays in the spool. */
TEST_F(daemon, sigterm_keeps_spool)
{
	char spool[256], path[300];
	int n = 0;
	DIR *d;

	snprintf(spool, sizeof(spool), "%s/spool", self->dir);
	snprintf(path, sizeof(path), "%s/long.json", spool);
	write_file(path, LONG_SPEC);
	snprintf(path, sizeof(path), "%s/quick.json", spool);
	write_file(path, "{\"vms\": [{\"name\": \"q\", \"formula\": \"3 * 3\"}]}");
	/* Wait until the quick one is done: the long one is running then. */
	snprintf(path, sizeof(path), "%s/done", spool);
	for (int i = 0; i < 1200 && !exists(path, "quick.json.result.json"); i++)
		usleep(25000);
	ASSERT_TRUE(exists(path, "quick.json.result.json"));
	if (self->fabrics0 >= 0) {
		/* The long one may still be generating: wait for its fabric. */
		for (int i = 0; i < 1200 && fabric_count() != self->fabrics0 + 1; i++)
			usleep(25000);
		EXPECT_EQ(self->fabrics0 + 1, fabric_count());
	}
	EXPECT_EQ(0, stop_daemon(self->pid, SIGTERM));
	self->pid = 0;
	EXPECT_TRUE(exists(spool, "long.json"));
	d = opendir(path);
	ASSERT_NE(NULL, d);
	for (struct dirent *de; (de = readdir(d));)
		n += !strncmp(de->d_name, "long", 4);
	closedir(d);
	EXPECT_EQ(0, n);
	snprintf(path, sizeof(path), "%s/failed", spool);
	EXPECT_FALSE(exists(path, "long.json.result.json"));
}

/* SIGKILL mid-spec: the kernel frees the fabric and the jobs; a new daemon works. */
TEST_F(daemon, sigkill_leaves_devices_usable)
{
	char spool[256], path[300];
	struct json_object *r;

	snprintf(spool, sizeof(spool), "%s/spool", self->dir);
	snprintf(path, sizeof(path), "%s/long.json", spool);
	write_file(path, LONG_SPEC);
	if (self->fabrics0 >= 0)
		for (int i = 0; i < 1200 && fabric_count() == self->fabrics0; i++)
			usleep(25000);
	usleep(200000);
	EXPECT_EQ(128 + SIGKILL, stop_daemon(self->pid, SIGKILL));
	self->pid = 0;
	if (self->fabrics0 >= 0) {
		EXPECT_EQ(self->fabrics0, fabric_count_settles(self->fabrics0));
	}
	EXPECT_TRUE(exists(spool, "long.json"));
	unlink(path);
	self->pid = start_daemon(self->dir, "300");
	ASSERT_GT(self->pid, 0);
	r = request(self->dir, "{\"vms\": [{\"name\": \"after\", \"instances\": 16,"
			       " \"formula\": \"id * 2\"}]}");
	ASSERT_NE(NULL, r);
	EXPECT_STREQ("true", jstr(r, "ok"));
	for (int i = 0; i < 16; i++) {
		EXPECT_TRUE(same_bits((float)i * 2.0f, output(vm_of(r, "after"), "result", (size_t)i)));
	}
	json_object_put(r);
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--hyperaetherd"))
		return hyperaetherd_main(argc - 1, argv + 1);
	if (access("/dev/hyperaether", F_OK)) {
		printf("1..0 # SKIP no /dev/hyperaether\n");
		return KSFT_SKIP;
	}
	return test_harness_run(argc, argv);
}
