// SPDX-License-Identifier: GPL-2.0
/*
 * accel_bench: LAVM jobs through the accel driver (/dev/accel/accelN) next
 * to the userspace epoch engine (lavm/) on the same input, in one run.
 *
 *   small jobs  1 instance x 10 epochs of the seed's counting loop:
 *               submit -> complete latency (one job at a time: median,
 *               99th percentile) and jobs/s with 64 jobs in flight
 *   large job   N instances x E epochs of the counting loop (its limit
 *               raised so that every instance runs all E epochs):
 *               VM-instructions/s through the driver (wall time from
 *               submit to complete, and the engine time the driver
 *               reports) and on the userspace epoch engine with 1 and
 *               with nproc threads; the final states must agree bit for
 *               bit.  The ratio is driver over userspace.
 *
 * usage: accel_bench [-n INSTANCES] [-e EPOCHS] [-t SECONDS] [-l LABEL] [--json]
 */
#define _GNU_SOURCE	/* asprintf */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hyperaether_accel.h"
#include "lavm_host.h"

/* The seed's counting loop, lavm/examples/counting_loop.lasm, built in. */
__asm__(".section .rodata\n.global counting_loop_lasm\ncounting_loop_lasm:\n"
	".incbin \"" ACCEL_BENCH_EXAMPLE "\"\n.byte 0\n.previous\n");
extern const char counting_loop_lasm[];

#define SMALL_EPOCHS	10
#define IN_FLIGHT	64

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The counting loop with its limit 10 replaced by @limit. */
static int load_loop(struct lavm_image *img, void **bundle, size_t *size, unsigned long limit)
{
	const char *at = strstr(counting_loop_lasm, "SETI r3, 10");
	char *src;
	long n;
	int ret;

	if (!at)
		return -EINVAL;
	if (asprintf(&src, "%.*sSETI r3, %lu%s", (int)(at - counting_loop_lasm), counting_loop_lasm,
		     limit, at + strlen("SETI r3, 10")) < 0)
		return -ENOMEM;
	ret = lavm_assemble("counting_loop.lasm", src, strlen(src), img, stderr);
	free(src);
	if (ret)
		return ret;
	*size = lavm_bundle_size(&img->prog);
	*bundle = malloc(*size);
	if (!*bundle)
		return -ENOMEM;
	n = lavm_bundle_write(&img->prog, *bundle, *size);
	return n == (long)*size ? 0 : -EINVAL;
}

struct small_result {
	double lat_med_us, lat_p99_us, jobs_per_s;
	unsigned long jobs;
};

static int bench_small(int fd, const void *bundle, size_t size, double seconds,
		       struct small_result *res)
{
	struct ha_accel_job job = {
		.bundle = bundle, .bundle_size = size, .ninstances = 1, .max_epochs = SMALL_EPOCHS,
	};
	static double lat[1 << 20];
	uint64_t ids[IN_FLIGHT];
	unsigned long n = 0, jobs = 0;
	double t0, end;
	int ret;

	ret = ha_accel_job_prepare(fd, &job);
	if (ret)
		return ret;
	/* Latency: one job at a time. */
	end = now() + seconds;
	while (now() < end && n < sizeof(lat) / sizeof(lat[0])) {
		t0 = now();
		ret = ha_accel_job_submit(fd, &job);
		if (!ret)
			ret = ha_accel_job_wait(fd, &job, -1);
		if (ret)
			goto out;
		if (job.status.error || job.status.epochs != SMALL_EPOCHS) {
			ret = -EIO;
			goto out;
		}
		lat[n++] = now() - t0;
	}
	qsort(lat, n, sizeof(lat[0]), cmp_double);
	res->lat_med_us = lat[n / 2] * 1e6;
	res->lat_p99_us = lat[n * 99 / 100] * 1e6;

	/* Throughput: IN_FLIGHT jobs queued on the context, waited in order. */
	t0 = now();
	end = t0 + seconds;
	while (now() < end) {
		for (int i = 0; i < IN_FLIGHT; i++) {
			ret = ha_accel_job_submit(fd, &job);
			if (ret)
				goto out;
			ids[i] = job.job_id;
		}
		for (int i = 0; i < IN_FLIGHT; i++) {
			struct drm_hyperaether_wait st;

			ret = ha_accel_wait(fd, ids[i], INT64_MAX, DRM_HYPERAETHER_WAIT_RELEASE, &st);
			if (ret)
				goto out;
		}
		jobs += IN_FLIGHT;
	}
	res->jobs_per_s = jobs / (now() - t0);
	res->jobs = n + jobs;
out:
	ha_accel_job_free(fd, &job);
	return ret;
}

struct large_result {
	double dev_wall_s, dev_engine_s, user1_s, usern_s;
	uint64_t insns;
	unsigned int threads;
	int same;
};

static int bench_large(int fd, struct lavm_image *img, const void *bundle, size_t size,
		       uint32_t nvms, uint32_t epochs, struct large_result *res)
{
	struct ha_accel_job job = {
		.bundle = bundle, .bundle_size = size, .ninstances = nvms, .max_epochs = epochs,
	};
	struct lavm_job uj;
	double t0;
	long ep;
	int ret;

	ret = ha_accel_job_prepare(fd, &job);
	if (ret)
		return ret;
	t0 = now();
	ret = ha_accel_job_submit(fd, &job);
	if (!ret)
		ret = ha_accel_job_wait(fd, &job, -1);
	res->dev_wall_s = now() - t0;
	if (ret)
		goto out_dev;
	if (job.status.error) {
		ret = job.status.error;
		goto out_dev;
	}
	res->dev_engine_s = job.status.run_ns * 1e-9;
	res->insns = job.status.insns;

	/* The same input on the userspace engine, 1 thread and then all CPUs. */
	res->threads = (unsigned int)sysconf(_SC_NPROCESSORS_ONLN);
	for (int pass = 0; pass < 2; pass++) {
		ret = lavm_job_alloc(&uj, &img->prog, nvms, img->prog.shared_size, epochs);
		if (ret)
			goto out_dev;
		t0 = now();
		ep = lavm_engine_run(&uj, LAVM_ENGINE_EPOCH, pass ? res->threads : 1);
		*(pass ? &res->usern_s : &res->user1_s) = now() - t0;
		if (ep < 0) {
			lavm_job_free(&uj);
			ret = (int)ep;
			goto out_dev;
		}
		res->same = (uint32_t)ep == job.status.epochs;
		for (uint32_t i = 0; res->same && i < nvms; i++) {
			const struct lavm_vm *a = &uj.vms[i];
			const struct lavm_vm *b = (const struct lavm_vm *)job.state.map + i;

			res->same = !memcmp(a->v, b->v, sizeof(a->v)) && a->status == b->status &&
				    a->epochs == b->epochs;
		}
		lavm_job_free(&uj);
	}
out_dev:
	ha_accel_job_free(fd, &job);
	return ret;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' }, { NULL, 0, NULL, 0 },
	};
	uint32_t nvms = 100000, epochs = 1000;
	double seconds = 2.0;
	const char *label = NULL;
	struct small_result sr = { 0 };
	struct large_result lr = { 0 };
	struct lavm_image img;
	size_t size;
	void *bundle;
	int json = 0, c, fd, ret;

	while ((c = getopt_long(argc, argv, "n:e:t:l:", opts, NULL)) != -1) {
		switch (c) {
		case 'n': nvms = strtoul(optarg, NULL, 0); break;
		case 'e': epochs = strtoul(optarg, NULL, 0); break;
		case 't': seconds = strtod(optarg, NULL); break;
		case 'l': label = optarg; break;
		case 'j': json = 1; break;
		default:
			fprintf(stderr, "usage: %s [-n INSTANCES] [-e EPOCHS] [-t SECONDS] [-l LABEL] [--json]\n",
				argv[0]);
			return 2;
		}
	}
	fd = ha_accel_open();
	if (fd < 0) {
		fprintf(stderr, "accel_bench: cannot open the accel device: %s\n", strerror(-fd));
		return 1;
	}
	/* The limit never ends the loop inside E epochs: every instance runs E instructions. */
	ret = load_loop(&img, &bundle, &size, 1000000);
	if (ret) {
		fprintf(stderr, "accel_bench: counting loop: %s\n", strerror(-ret));
		return 1;
	}
	ret = bench_small(fd, bundle, size, seconds, &sr);
	if (ret) {
		fprintf(stderr, "accel_bench: small jobs: %s\n", strerror(-ret));
		return 1;
	}
	ret = bench_large(fd, &img, bundle, size, nvms, epochs, &lr);
	if (ret) {
		fprintf(stderr, "accel_bench: large job: %s\n", strerror(-ret));
		return 1;
	}
	if (json) {
		printf("{\"small\": {\"instances\": 1, \"epochs\": %d, \"latency_median_us\": %.1f, "
		       "\"latency_p99_us\": %.1f, \"jobs_per_s\": %.0f},\n"
		       " \"large\": {\"instances\": %u, \"epochs\": %u, \"insns\": %llu, "
		       "\"driver_wall_s\": %.4f, \"driver_engine_s\": %.4f, \"user_1t_s\": %.4f, "
		       "\"user_threads\": %u, \"user_nt_s\": %.4f, \"bit_identical\": %s}}\n",
		       SMALL_EPOCHS, sr.lat_med_us, sr.lat_p99_us, sr.jobs_per_s, nvms, epochs,
		       (unsigned long long)lr.insns, lr.dev_wall_s, lr.dev_engine_s, lr.user1_s,
		       lr.threads, lr.usern_s, lr.same ? "true" : "false");
	} else {
		double ins = (double)lr.insns;

		printf("accel benchmark: LAVM counting loop through /dev/accel next to the userspace epoch engine (%s vectors)\n",
		       lavm_engine_isa());
		if (label)
			printf("%s\n", label);
		printf("\nsmall jobs (1 instance x %d epochs, %lu jobs)\n", SMALL_EPOCHS, sr.jobs);
		printf("  submit->complete latency   median %9.1f us   p99 %9.1f us\n",
		       sr.lat_med_us, sr.lat_p99_us);
		printf("  throughput (%d in flight)  %9.0f jobs/s\n", IN_FLIGHT, sr.jobs_per_s);
		printf("\nlarge job (%u instances x %u epochs = %.3g VM-instructions)\n", nvms, epochs, ins);
		printf("  %-34s %10s %14s %12s\n", "engine", "seconds", "VM-instr/s", "vs user 1T");
		printf("  %-34s %10.3f %14.3g %11.2fx\n", "driver (submit->complete)", lr.dev_wall_s,
		       ins / lr.dev_wall_s, lr.user1_s / lr.dev_wall_s);
		printf("  %-34s %10.3f %14.3g %11.2fx\n", "driver (engine time)", lr.dev_engine_s,
		       ins / lr.dev_engine_s, lr.user1_s / lr.dev_engine_s);
		printf("  %-34s %10.3f %14.3g %11.2fx\n", "userspace epoch engine, 1 thread", lr.user1_s,
		       ins / lr.user1_s, 1.0);
		printf("  userspace epoch engine, %2u threads %10.3f %14.3g %11.2fx\n", lr.threads,
		       lr.usern_s, ins / lr.usern_s, lr.user1_s / lr.usern_s);
		printf("  final states, driver vs userspace: %s\n",
		       lr.same ? "bit-identical" : "DIFFERENT");
	}
	lavm_image_free(&img);
	free(bundle);
	close(fd);
	return lr.same ? 0 : 1;
}
