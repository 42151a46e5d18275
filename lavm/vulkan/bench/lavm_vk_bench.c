// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * lavm_vk_bench - VM-instructions per second of the Vulkan engine next to
 * the CPU epoch engine and the reference interpreter, on the same jobs in
 * the same run.  Every Vulkan result is checked against the epoch engine's
 * (bit for bit) before its time is printed.
 *
 *   lavm_vk_bench [--sizes 1000,10000,100000] [--work 2e7] [--device D]
 *
 * --work: VM-instructions per measurement (instructions per VM follow from
 * it).  The reference runs on at most 10^4 VMs; its rate is per
 * instruction, so it compares directly.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "lavm_host.h"
#include "lavm_vk.h"

#define REF_MAX_VMS 10000

struct workload {
	const char *name;
	const char *src;	/* printf format: %u = loop count [, %u = 8 * N] */
	uint32_t per_iter;	/* instructions per loop iteration */
	int io;			/* shared memory: 9 * N words, src takes 8 * N */
};

static const struct workload workloads[] = {
	{ "loop", "SETI r1, %u\nSETI r2, 1\nCLEAR r3\n"
		  "l: ADD r3, r3, r0\nSCALE r3, r3, 0.5\nSUB r1, r1, r2\nBRANCH_GT r1, l\nHALT\n", 4, 0 },
	{ "numeric", "SETI r1, %u\nSETI r2, 1\nMOV r3, r0\n"
		     "l: SIN r3, r3\nMUL r3, r3, r0\nADD r3, r3, r2\nSCALE r3, r3, 0.25\n"
		     "DIV r3, r3, r2\nSUB r1, r1, r2\nBRANCH_GT r1, l\nHALT\n", 7, 0 },
	/* each VM sums 8 words with READs and WRITEs the sum: I/O every 6 instructions */
	{ "reduce", "STORE r0, 0\nSCALE r2, r0, 8.0\nSETI r1, %u\nCLEAR r3\n"
		    "l: SYSCALL_READ r0, r2\nADD r3, r3, r0\nSETI r0, 1\nADD r2, r2, r0\n"
		    "SUB r1, r1, r0\nBRANCH_GT r1, l\n"
		    "LOAD r0, 0\nSETI r1, %u\nADD r2, r0, r1\nSYSCALL_WRITE r2, r3\nHALT\n", 6, 1 },
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static uint64_t instructions(const struct lavm_job *job)
{
	uint64_t n = 0;

	for (uint32_t i = 0; i < job->nvms; i++)
		n += job->vms[i].epochs;
	return n;
}

/* The results every engine must agree on (pend_* are the reference's bookkeeping). */
static int same_results(const struct lavm_job *a, const struct lavm_job *b)
{
	for (uint32_t i = 0; i < a->nvms; i++) {
		const struct lavm_vm *x = &a->vms[i], *y = &b->vms[i];

		if (memcmp(x->v, y->v, sizeof(x->v)) || x->sp != y->sp || x->status != y->status ||
		    x->fault != y->fault || x->epochs != y->epochs)
			return 0;
	}
	return !memcmp(a->shared, b->shared, a->nshared * sizeof(float));
}

static int make_job(struct lavm_job *job, const struct lavm_image *img, uint32_t nvms, int io)
{
	if (lavm_job_alloc(job, &img->prog, nvms, io ? 9 * nvms : 0, 0xffffffffu))
		return -ENOMEM;
	for (uint32_t k = 0; io && k < 8 * nvms; k++)
		job->shared[k] = (float)(k % 1000) * 0.25f;
	return 0;
}

static const char *rate(double r, char *buf)
{
	if (r >= 1e9)
		sprintf(buf, "%.2fG", r / 1e9);
	else
		sprintf(buf, "%.1fM", r / 1e6);
	return buf;
}

int main(int argc, char **argv)
{
	static uint32_t sizes[16] = { 1000, 10000, 100000 };
	uint32_t nsizes = 3, device = 0;
	double work = 2e7;
	unsigned int threads = sysconf(_SC_NPROCESSORS_ONLN) > 0 ? sysconf(_SC_NPROCESSORS_ONLN) : 1;
	struct lavm_vk *vk;
	char err[512];
	int ret, bad = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--sizes") && i + 1 < argc) {
			char *s = argv[++i];

			for (nsizes = 0; *s && nsizes < 16; nsizes++) {
				sizes[nsizes] = strtoul(s, &s, 0);
				if (*s == ',')
					s++;
			}
		} else if (!strcmp(argv[i], "--work") && i + 1 < argc) {
			work = strtod(argv[++i], NULL);
		} else if (!strcmp(argv[i], "--device") && i + 1 < argc) {
			device = strtoul(argv[++i], NULL, 0);
		} else {
			fprintf(stderr, "usage: lavm_vk_bench [--sizes N,N,...] [--work W] [--device D]\n");
			return 2;
		}
	}
	ret = lavm_vk_open(&vk, device, err, sizeof(err));
	if (ret) {
		printf("lavm-vk benchmark: SKIP: %s\n", err);
		return ret == -ENODEV ? 3 : 4;
	}
	printf("lavm-vk benchmark: VM-instructions per second (M = 10^6, G = 10^9)\n");
	printf("vulkan: %s%s; epoch: CPU epoch engine (%s vectors, %u threads); "
	       "ref: reference interpreter on <= %u VMs\n", lavm_vk_device_name(vk),
	       lavm_vk_device_is_cpu(vk) ? " = lavapipe (CPU)" : "", lavm_engine_isa(), threads,
	       REF_MAX_VMS);
	printf("\n%-9s %8s %7s %9s %9s %9s %8s %8s %7s %6s\n", "workload", "N", "ins/VM", "vulkan",
	       "epoch", "ref", "vk/ep", "vk/ref", "rounds", "exact");
	for (size_t w = 0; w < sizeof(workloads) / sizeof(workloads[0]); w++) {
		const struct workload *wl = &workloads[w];

		for (uint32_t s = 0; s < nsizes; s++) {
			uint32_t n = sizes[s], iters = work / n / wl->per_iter, ep_vk, nref;
			struct lavm_job vj, ej, rj;
			struct lavm_image img;
			struct lavm_vk_stats st;
			double t0, t_vk, t_ep, t_ref;
			char src[1024], a[32], b[32], c[32];
			int exact;

			if (iters < 1)
				iters = 1;
			if (wl->io)
				iters = 8;	/* eight inputs per VM */
			snprintf(src, sizeof(src), wl->src, iters, 8 * n);
			if (lavm_assemble(wl->name, src, strlen(src), &img, stderr) ||
			    make_job(&vj, &img, n, wl->io) || make_job(&ej, &img, n, wl->io)) {
				fprintf(stderr, "lavm_vk_bench: %s: setup failed\n", wl->name);
				return 1;
			}
			nref = n < REF_MAX_VMS ? n : REF_MAX_VMS;
			if (make_job(&rj, &img, nref, wl->io))
				return 1;
			if (wl->io)	/* the sample's VMs read and write inside their own words */
				memcpy(rj.shared, ej.shared, 8 * nref * sizeof(float));

			t0 = now();
			ret = lavm_vk_run(vk, &vj, &ep_vk);
			t_vk = now() - t0;
			if (ret) {
				printf("%-9s %8u  vulkan: %s: %s\n", wl->name, n, strerror(-ret),
				       lavm_vk_last_error(vk));
				bad = 1;
				goto next;
			}
			lavm_vk_last_stats(vk, &st);
			t0 = now();
			lavm_engine_run(&ej, LAVM_ENGINE_EPOCH, threads);
			t_ep = now() - t0;
			t0 = now();
			lavm_engine_run(&rj, LAVM_ENGINE_REF, 1);
			t_ref = now() - t0;
			exact = same_results(&vj, &ej);
			bad |= !exact;
			double r_vk = instructions(&vj) / t_vk, r_ep = instructions(&ej) / t_ep,
			       r_ref = instructions(&rj) / t_ref;
			printf("%-9s %8u %7llu %9s %9s %9s %7.2fx %7.1fx %7u %6s\n", wl->name, n,
			       (unsigned long long)(instructions(&vj) / n), rate(r_vk, a), rate(r_ep, b),
			       rate(r_ref, c), r_vk / r_ep, r_vk / r_ref, st.rounds,
			       exact ? "yes" : "NO");
			fflush(stdout);
next:
			lavm_job_free(&vj);
			lavm_job_free(&ej);
			lavm_job_free(&rj);
			lavm_image_free(&img);
		}
	}
	printf("\nvk/ep, vk/ref: the Vulkan engine's rate over the epoch engine's and the "
	       "reference's; rounds: run+commit dispatch pairs; exact: Vulkan = epoch engine, bit for bit\n");
	lavm_vk_close(vk);
	return bad;
}
