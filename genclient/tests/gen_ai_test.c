// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The AI generator against a scripted chat-completions server on loopback
 * (gen_ai_server.py): a right program, one fixed after feedback, garbage,
 * no program, an unsafe program, a timeout, HTTP 500, connection refused.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "gen_tap.h"

static const char spec_json[] =
	"{\"vms\": [{\"name\": \"m\", \"intent\": \"multiply a by b and add one\", "
	"\"params\": [\"a\", \"b\"], \"outputs\": [\"y\"], "
	"\"examples\": [{\"in\": [2, 3], \"out\": 7}, {\"in\": [4, 5], \"out\": 21}]}]}";

static pid_t start_server(int *port)
{
	const char *script = getenv("GEN_AI_SERVER") ? getenv("GEN_AI_SERVER") :
		"genclient/tests/gen_ai_server.py";
	int fds[2];
	char line[32] = "";
	pid_t pid;
	FILE *f;

	if (pipe(fds))
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execlp("python3", "python3", script, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	f = fdopen(fds[0], "r");
	if (!f || !fgets(line, sizeof(line), f)) {
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	*port = atoi(line);
	return pid;
}

/* A loopback port with nothing listening. */
static int closed_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM, 0), port;

	bind(s, (struct sockaddr *)&a, sizeof(a));
	getsockname(s, (struct sockaddr *)&a, &len);
	port = ntohs(a.sin_port);
	close(s);
	return port;
}

static void ai_case(const struct gen_spec *spec, int port, const char *mode, int want,
		    uint32_t want_rounds, const char *needle)
{
	char url[128];
	struct gen_options opt;
	struct gen_result res;
	int ret;
	double t = now_ms();

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/%s/v1/chat/completions", port, mode);
	gen_options_init(&opt);
	opt.generator = GEN_AI;
	opt.cache_dir = "";
	opt.ai.url = url;
	opt.ai.model = "scripted";
	opt.ai.key = "test-key";
	opt.ai.timeout_ms = 700;
	opt.max_rounds = 3;
	ret = gen_generate(spec, 0, &opt, &res);
	t = now_ms() - t;
	tap_ok(ret == want && (!want_rounds || res.rounds == want_rounds) &&
	       (!needle || strstr(ret ? res.error : res.report, needle)),
	       "ai %s: %s, %u round(s), %.0f ms: %s", mode, ret ? strerror(-ret) : "accepted",
	       res.rounds, t, ret ? res.error : "program verified and run on the examples");
	gen_result_free(&res);
}

int main(void)
{
	struct gen_spec *spec;
	pid_t pid;
	int port = 0;

	spec = spec_or_fail("ai", spec_json);
	if (!spec)
		return tap_done();
	pid = start_server(&port);
	if (pid < 0 || !port) {
		tap_ok(0, "scripted server started");
		gen_spec_free(spec);
		return tap_done();
	}
	ai_case(spec, port, "correct", 0, 1, "accepted");
	ai_case(spec, port, "fix", 0, 2, "rejected: example 0");
	ai_case(spec, port, "garbage", -EBADMSG, 1, "returned garbage");
	ai_case(spec, port, "nocode", -EBADMSG, 3, "returned no program in 3 round(s)");
	ai_case(spec, port, "unsafe", -ESRCH, 3, "did not converge after 3 rounds");
	ai_case(spec, port, "unsafe", -ESRCH, 3, "target outside the program");
	ai_case(spec, port, "slow", -ETIMEDOUT, 1, "timed out");
	ai_case(spec, port, "http500", -EBADMSG, 1, "answered HTTP 500");
	ai_case(spec, closed_port(), "refused", -ECONNREFUSED, 1, "unreachable");
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	gen_spec_free(spec);
	return tap_done();
}
