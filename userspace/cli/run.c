// SPDX-License-Identifier: GPL-2.0
/*
 * hyperaether run | gen | fabric show | top: the main job from the command
 * line.  `run` asks hyperaetherd when its socket exists and otherwise runs
 * the same pipeline (userspace/hyperaetherd/pipeline.c) in this process.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "hyperaether.h"
#include "pipeline.h"
#include "protocol.h"

static int load_spec(const char *path, struct gen_spec **spec)
{
	struct gen_error err;
	int ret = gen_spec_load(path, spec, &err);

	if (ret)
		fprintf(stderr, "hyperaether: %s\n", err.msg[0] ? err.msg : strerror(-ret));
	return ret;
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (!fseek(f, 0, SEEK_END) && (n = ftell(f)) >= 0 && !fseek(f, 0, SEEK_SET)) {
		buf = malloc((size_t)n + 1);
		if (buf && fread(buf, 1, (size_t)n, f) == (size_t)n) {
			buf[n] = '\0';
			*len = (size_t)n;
		} else {
			free(buf);
			buf = NULL;
		}
	}
	fclose(f);
	return buf;
}

static void print_json(struct json_object *o)
{
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
						      JSON_C_TO_STRING_SPACED |
						      JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* ------------------------------------------------------------ run */

struct progress {
	bool tty;
	uint64_t max_epochs;
	uint64_t last_ns;
};

static void run_progress(const struct ha_run *run, void *arg)
{
	struct progress *p = arg;
	uint32_t done = run->spec->nvms - run->pending;
	uint64_t now = ha_now_ns(), e;
	int width = 30, fill;

	if (!p->tty || now - p->last_ns < 100000000ull)
		return;
	p->last_ns = now;
	e = ha_run_epochs_now(run);
	fill = run->spec->nvms ? (int)((uint64_t)width * done / run->spec->nvms) : width;
	fprintf(stderr, "\r[%.*s%*s] %u/%u VMs done, %llu epochs", fill,
		"##############################", width - fill, "", done, run->spec->nvms,
		(unsigned long long)e);
	if (!run->pending)
		fputs("\r\033[K", stderr);
	fflush(stderr);
}

static bool result_ok(struct json_object *r)
{
	struct json_object *ok;

	return json_object_object_get_ex(r, "ok", &ok) && json_object_get_boolean(ok);
}

static int print_result(struct json_object *r, bool json)
{
	if (json)
		print_json(r);
	else
		ha_result_print_table(stdout, r);
	return result_ok(r) ? 0 : 1;
}

/* The pipeline in this process, on the devices or on the lavm engine. */
static int run_local(const char *path, enum ha_engine engine, const struct gen_options *opt,
		     int64_t timeout_ms, bool json)
{
	struct progress prog = { .tty = isatty(2) };
	struct json_object *r;
	struct ha_run run;
	char *text;
	size_t len;
	int ret, accel_fd = -1;

	text = read_file(path, &len);
	if (!text) {
		fprintf(stderr, "hyperaether: %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (engine == HA_ENGINE_ACCEL) {
		int fd = ha_open();

		if (fd < 0) {
			fprintf(stderr, "hyperaether: %s is absent or unusable (%s): is the module loaded?\n"
				"hyperaether: --engine cpu runs the spec on the userspace lavm engine instead\n",
				HA_DEV_PATH, strerror(-fd));
			free(text);
			return 1;
		}
		close(fd);
		accel_fd = ha_accel_open();
		if (accel_fd < 0) {
			fprintf(stderr, "hyperaether: no hyperaether accel device under /dev/accel (%s): "
				"is hyperaether_accel loaded?\n"
				"hyperaether: --engine cpu runs the spec on the userspace lavm engine instead\n",
				strerror(-accel_fd));
			free(text);
			return 1;
		}
	} else if (!json) {
		printf("engine: cpu -- the userspace lavm engine; no fabric, no kernel devices\n");
	}
	ha_run_init(&run);
	ret = ha_run_parse(&run, text, len, path);
	free(text);
	if (!ret) {
		if (prog.tty)
			fprintf(stderr, "generating %u VMs...", run.spec->nvms);
		ret = ha_run_generate(&run, opt);
		if (prog.tty)
			fputs("\r\033[K", stderr);
	}
	if (ret && !run.spec) {
		fprintf(stderr, "hyperaether: %s\n", run.error);
		ha_run_free(&run);
		if (accel_fd >= 0)
			close(accel_fd);
		return 1;
	}
	if (!ret && engine == HA_ENGINE_CPU) {
		ret = ha_run_cpu(&run);
	} else if (!ret) {
		ret = ha_run_boot(&run, accel_fd);
		if (!ret)
			ret = ha_run_wait_all(&run, timeout_ms, run_progress, &prog);
		ha_run_teardown(&run);
	}
	if (ret)
		fprintf(stderr, "hyperaether: %s\n", run.error);
	r = ha_run_result(&run);
	ret = print_result(r, json);
	json_object_put(r);
	ha_run_free(&run);
	if (accel_fd >= 0)
		close(accel_fd);
	return ret;
}

static int run_daemon(const char *sock, const char *path, const char *generator, bool json)
{
	struct json_object *req, *spec, *reply = NULL;
	char err[512];
	int ret;

	spec = json_object_from_file(path);
	if (!spec) {
		/* gen_spec_load() names the line and column. */
		struct gen_spec *s = NULL;

		if (!load_spec(path, &s))
			fprintf(stderr, "hyperaether: %s: not JSON\n", path);
		gen_spec_free(s);
		return 1;
	}
	req = json_object_new_object();
	json_object_object_add(req, "op", json_object_new_string("run"));
	json_object_object_add(req, "name", json_object_new_string(path));
	if (generator)
		json_object_object_add(req, "generator", json_object_new_string(generator));
	json_object_object_add(req, "spec", spec);
	if (isatty(2))
		fprintf(stderr, "hyperaether: sent to hyperaetherd at %s, waiting...", sock);
	ret = ha_client_request(sock, req, &reply, err, sizeof(err));
	if (isatty(2))
		fputs("\r\033[K", stderr);
	json_object_put(req);
	if (ret) {
		fprintf(stderr, "hyperaether: %s\n", err);
		return 1;
	}
	if (!json && !result_ok(reply) && !json_object_object_get_ex(reply, "vms", NULL)) {
		fprintf(stderr, "hyperaether: hyperaetherd: %s (%s)\n",
			json_object_get_string(json_object_object_get(reply, "error")),
			json_object_get_string(json_object_object_get(reply, "errno")));
		json_object_put(reply);
		return 1;
	}
	ret = print_result(reply, json);
	json_object_put(reply);
	return ret;
}

static const char run_usage[] =
	"usage: hyperaether run SPEC.json [--json] [--engine accel|cpu] [--socket PATH]\n"
	"                       [--no-daemon] [--generator G] [--no-cache] [--timeout-ms MS]\n";

int cmd_run(int argc, char **argv, bool json)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "engine", required_argument, NULL, 'e' },
		{ "socket", required_argument, NULL, 's' },
		{ "no-daemon", no_argument, NULL, 'D' },
		{ "generator", required_argument, NULL, 'g' },
		{ "no-cache", no_argument, NULL, 'n' },
		{ "timeout-ms", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	enum ha_engine engine = HA_ENGINE_ACCEL;
	const char *sock_opt = NULL, *generator = NULL;
	int64_t timeout_ms = 120000;
	struct gen_options opt;
	bool no_daemon = false;
	char sock[4096];
	int c;

	gen_options_init(&opt);
	optind = 0;	/* a full reset: main() parsed in REQUIRE_ORDER */
	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = true; break;
		case 'e':
			if (!strcmp(optarg, "cpu"))
				engine = HA_ENGINE_CPU;
			else if (strcmp(optarg, "accel"))
				goto bad;
			break;
		case 's': sock_opt = optarg; break;
		case 'D': no_daemon = true; break;
		case 'g':
			generator = optarg;
			if (gen_generator_parse(optarg, &opt.generator)) {
				fprintf(stderr, "hyperaether: unknown generator '%s'\n", optarg);
				return 2;
			}
			break;
		case 'n': opt.cache_dir = ""; break;
		case 't': timeout_ms = strtoll(optarg, NULL, 0); break;
		case 'h': fputs(run_usage, stdout); return 0;
		default: goto bad;
		}
	}
	if (optind != argc - 1)
		goto bad;
	/* --engine cpu alone means "here, without devices"; with --socket, the daemon's engine. */
	if ((engine == HA_ENGINE_ACCEL || sock_opt) && !no_daemon &&
	    !ha_client_socket_find(sock_opt, sock, sizeof(sock)))
		return run_daemon(sock, argv[optind], generator, json);
	if (sock_opt) {
		fprintf(stderr, "hyperaether: no hyperaetherd socket at %s\n", sock_opt);
		return 1;
	}
	return run_local(argv[optind], engine, &opt, timeout_ms, json);
bad:
	fputs(run_usage, stderr);
	return 2;
}

/* ------------------------------------------------------------ gen */

static const char gen_usage[] =
	"usage: hyperaether gen SPEC.json [--vm NAME] [--generator auto|source|compiler|synth|ai]\n"
	"                       [--seed N] [--budget-ms MS] [--no-cache] [--json]\n";

int cmd_gen(int argc, char **argv, bool json)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "vm", required_argument, NULL, 'v' },
		{ "generator", required_argument, NULL, 'g' },
		{ "seed", required_argument, NULL, 's' },
		{ "budget-ms", required_argument, NULL, 'b' },
		{ "no-cache", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	const char *only = NULL;
	struct gen_options opt;
	struct gen_spec *spec;
	int c, rc = 0, first = 1;

	gen_options_init(&opt);
	optind = 0;	/* a full reset: main() parsed in REQUIRE_ORDER */
	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = true; break;
		case 'v': only = optarg; break;
		case 'g':
			if (gen_generator_parse(optarg, &opt.generator)) {
				fprintf(stderr, "hyperaether: unknown generator '%s'\n", optarg);
				return 2;
			}
			break;
		case 's': opt.seed = strtoull(optarg, NULL, 0); break;
		case 'b': opt.time_budget_ms = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'n': opt.cache_dir = ""; break;
		case 'h': fputs(gen_usage, stdout); return 0;
		default: fputs(gen_usage, stderr); return 2;
		}
	}
	if (optind != argc - 1) {
		fputs(gen_usage, stderr);
		return 2;
	}
	if (load_spec(argv[optind], &spec))
		return 1;
	if (only && gen_spec_find_vm(spec, only) < 0) {
		fprintf(stderr, "hyperaether: %s: no VM named '%s'\n", argv[optind], only);
		gen_spec_free(spec);
		return 1;
	}
	if (json)
		printf("[");
	for (uint32_t i = 0; i < spec->nvms; i++) {
		const struct gen_vm *vm = &spec->vms[i];
		struct gen_result res;
		int ret;

		if (only && strcmp(only, vm->name))
			continue;
		memset(&res, 0, sizeof(res));
		ret = gen_generate(spec, i, &opt, &res);
		if (ret) {
			fprintf(stderr, "hyperaether: %s: vm '%s': %s\n", argv[optind], vm->name,
				res.error[0] ? res.error : strerror(-ret));
			rc = 1;
		} else if (json) {
			printf("%s", first ? "\n" : ",\n");
			gen_result_write_json(stdout, vm, &res);
			first = 0;
		} else {
			printf("vm %s: found by %s%s in %u round%s, %llu candidate%s, T_AI %.3f ms; "
			       "%u instructions, %u/%u examples pass\n  spec hash %s\n",
			       vm->name, gen_generator_name(res.generator),
			       res.from_cache ? " (from the cache)" : "", res.rounds,
			       res.rounds == 1 ? "" : "s", (unsigned long long)res.candidates,
			       res.candidates == 1 ? "" : "s", (double)res.t_ai_ns / 1e6,
			       res.image.prog.ninsns, res.examples_passed, vm->nexamples, res.spec_hash);
			if (res.report && res.report[0]) {
				char *line = res.report, *nl;

				while (*line) {
					nl = strchr(line, '\n');
					printf("  | %.*s\n", nl ? (int)(nl - line) : (int)strlen(line), line);
					if (!nl)
						break;
					line = nl + 1;
				}
			}
			printf("%s\n", res.asm_text ? res.asm_text : "");
		}
		gen_result_free(&res);
	}
	if (json)
		printf("\n]\n");
	gen_spec_free(spec);
	return rc;
}

/* ------------------------------------------------------------ fabric show */

static const char fabric_usage[] =
	"usage: hyperaether fabric show [SPEC.json] [--dot] [--json] [--socket PATH]\n"
	"  without SPEC: the fabrics hyperaetherd runs now\n";

int cmd_fabric(int argc, char **argv, bool json)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "dot", no_argument, NULL, 'd' },
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	struct json_object *req, *reply = NULL, *fabrics;
	const char *sock_opt = NULL;
	bool dot = false;
	char sock[4096], err[512];
	int c, ret;

	optind = 0;	/* a full reset: main() parsed in REQUIRE_ORDER */
	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = true; break;
		case 'd': dot = true; break;
		case 's': sock_opt = optarg; break;
		case 'h': fputs(fabric_usage, stdout); return 0;
		default: fputs(fabric_usage, stderr); return 2;
		}
	}
	if (optind >= argc || strcmp(argv[optind], "show") || argc - optind > 2) {
		fputs(fabric_usage, stderr);
		return 2;
	}
	if (argc - optind == 2) {
		struct gen_spec *spec;
		struct json_object *f;

		if (load_spec(argv[optind + 1], &spec))
			return 1;
		f = ha_spec_fabric(spec);
		if (json)
			print_json(f);
		else
			ha_fabric_print(stdout, f, dot);
		json_object_put(f);
		gen_spec_free(spec);
		return 0;
	}
	if (ha_client_socket_find(sock_opt, sock, sizeof(sock))) {
		fprintf(stderr, "hyperaether: no spec given and no hyperaetherd socket found\n");
		return 1;
	}
	req = json_object_new_object();
	json_object_object_add(req, "op", json_object_new_string("fabrics"));
	ret = ha_client_request(sock, req, &reply, err, sizeof(err));
	json_object_put(req);
	if (ret) {
		fprintf(stderr, "hyperaether: %s\n", err);
		return 1;
	}
	if (!json_object_object_get_ex(reply, "fabrics", &fabrics)) {
		fprintf(stderr, "hyperaether: hyperaetherd: %s\n",
			json_object_get_string(json_object_object_get(reply, "error")));
		json_object_put(reply);
		return 1;
	}
	if (json) {
		print_json(fabrics);
	} else {
		size_t n = json_object_array_length(fabrics);

		if (!n && !dot)
			printf("hyperaetherd runs no fabric now\n");
		for (size_t i = 0; i < n; i++) {
			struct json_object *f = json_object_array_get_idx(fabrics, i);

			if (!dot)
				printf("[fabric id %d, spec %s, %d jobs in flight]\n",
				       json_object_get_int(json_object_object_get(f, "fabric_id")),
				       json_object_get_string(json_object_object_get(f, "spec")),
				       json_object_get_int(json_object_object_get(f, "pending_jobs")));
			ha_fabric_print(stdout, f, dot);
		}
	}
	json_object_put(reply);
	return 0;
}

/* ------------------------------------------------------------ top */

static const char top_usage[] =
	"usage: hyperaether top [--socket PATH] [--interval-ms MS] [--count N] [--json]\n";

static int64_t jint(struct json_object *o, const char *k)
{
	return json_object_get_int64(json_object_object_get(o, k));
}

int cmd_top(int argc, char **argv, bool json)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "socket", required_argument, NULL, 's' },
		{ "interval-ms", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	const char *sock_opt = NULL;
	long interval = 1000, count = -1;
	int64_t last_epochs = -1, last_jobs = 0;
	uint64_t last_ns = 0;
	char sock[4096], err[512];
	int c;

	optind = 0;	/* a full reset: main() parsed in REQUIRE_ORDER */
	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = true; break;
		case 's': sock_opt = optarg; break;
		case 'i': interval = strtol(optarg, NULL, 0); break;
		case 'c': count = strtol(optarg, NULL, 0); break;
		case 'h': fputs(top_usage, stdout); return 0;
		default: fputs(top_usage, stderr); return 2;
		}
	}
	if (optind != argc || interval <= 0) {
		fputs(top_usage, stderr);
		return 2;
	}
	if (ha_client_socket_find(sock_opt, sock, sizeof(sock))) {
		fprintf(stderr, "hyperaether: top needs hyperaetherd, and no socket was found\n");
		return 1;
	}
	if (!json)
		printf("%8s %7s %7s %7s %9s %9s %12s %9s\n", "time_s", "queued", "gen", "running",
		       "specs_ok", "failed", "epochs/s", "jobs/s");
	for (long n = 0; count < 0 || n < count; n++) {
		struct json_object *req = json_object_new_object(), *reply = NULL, *st;
		uint64_t now;
		double dt;

		json_object_object_add(req, "op", json_object_new_string("stats"));
		if (ha_client_request(sock, req, &reply, err, sizeof(err))) {
			json_object_put(req);
			fprintf(stderr, "hyperaether: %s\n", err);
			return 1;
		}
		json_object_put(req);
		st = json_object_object_get(reply, "stats");
		now = ha_now_ns();
		dt = last_ns ? (double)(now - last_ns) / 1e9 : 0;
		if (json) {
			printf("%s\n", json_object_to_json_string_ext(st, JSON_C_TO_STRING_PLAIN));
		} else {
			printf("%8.1f %7lld %7lld %7lld %9lld %9lld %12.0f %9.1f\n",
			       (double)jint(st, "uptime_ms") / 1000, (long long)jint(st, "queued"),
			       (long long)jint(st, "generating"), (long long)jint(st, "running"),
			       (long long)jint(st, "done_ok"), (long long)jint(st, "done_failed"),
			       dt > 0 && last_epochs >= 0 ? (double)(jint(st, "epochs") - last_epochs) / dt : 0,
			       dt > 0 ? (double)(jint(st, "jobs") - last_jobs) / dt : 0);
		}
		fflush(stdout);
		last_epochs = jint(st, "epochs");
		last_jobs = jint(st, "jobs");
		last_ns = now;
		json_object_put(reply);
		if (count < 0 || n + 1 < count) {
			struct timespec ts = { interval / 1000, (interval % 1000) * 1000000 };

			nanosleep(&ts, NULL);
		}
	}
	return 0;
}
