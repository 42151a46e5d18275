// SPDX-License-Identifier: GPL-2.0
/*
 * kvm_bench - what a KVM-backed fabric VM costs: creation to the guest's
 * first instruction (Firecracker's anchor is ~125 ms from API call to guest
 * init), the hypercall round trip next to a getppid() system call round
 * trip measured in the same run, and a whole small LAVM job (create, load,
 * verify, run, halt, tear down).
 *
 *   kvm_bench [-n RUNS] [-c CALLS] [-l LABEL]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hyperaether.h"
#include "kvm_abi.h"
#include "kvm_monitor.h"
#include "lavm_host.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double median_ms(uint64_t *v, unsigned int n)
{
	qsort(v, n, sizeof(*v), cmp_u64);
	return v[n / 2] / 1e6;
}

/* A fabric with one KVM VM of @mem bytes; returns its VM fd (owner in *@owner). */
static int fabric_vm(size_t mem, int *owner)
{
	struct hyperaether_quota fq = { .mem_bytes = mem }, vq = { .mem_bytes = mem };
	uint32_t id;
	int ret;

	*owner = ha_open();
	if (*owner < 0)
		return *owner;
	ret = ha_fabric_create(*owner, &fq, NULL);
	if (!ret)
		ret = ha_vm_add(*owner, "bench", HYPERAETHER_BACKEND_KVM, &vq, 0, &id);
	if (!ret)
		ret = ha_vm_export(*owner, id, HYPERAETHER_VMFD_MAP | HYPERAETHER_VMFD_SEND |
				   HYPERAETHER_VMFD_RECV, 0);
	return ret;
}

int main(int argc, char **argv)
{
	static const char prog_src[] = "SETI r1, 2\nMUL r2, r1, r0\nHALT\n";
	unsigned int runs = 20, calls = 20000;
	const char *label = "";
	struct lavm_image img = { 0 };
	struct hakvm_config cfg = { .send_dst = HAKVM_NO_PEER, .max_epochs = 1000 };
	struct hakvm_result res;
	uint64_t *first, *total, t0;
	void *bundle;
	int c, owner = -1, vmfd, rc = 0;

	while ((c = getopt(argc, argv, "n:c:l:")) != -1) {
		switch (c) {
		case 'n': runs = strtoul(optarg, NULL, 0); break;
		case 'c': calls = strtoul(optarg, NULL, 0); break;
		case 'l': label = optarg; break;
		default:
			fprintf(stderr, "usage: kvm_bench [-n RUNS] [-c CALLS] [-l LABEL]\n");
			return 2;
		}
	}
	if (!runs || calls < 2 || lavm_assemble("bench", prog_src, strlen(prog_src), &img, stderr))
		return 2;
	cfg.bundle_len = lavm_bundle_size(&img.prog);
	bundle = malloc(cfg.bundle_len);
	first = calloc(runs, sizeof(*first));
	total = calloc(runs, sizeof(*total));
	if (!bundle || !first || !total)
		return 1;
	lavm_bundle_write(&img.prog, bundle, cfg.bundle_len);
	cfg.bundle = bundle;
	cfg.nvms = 4;
	if (hakvm_ram_size(&cfg, &cfg.ram_bytes))
		return 1;
	vmfd = fabric_vm(cfg.ram_bytes, &owner);
	if (vmfd < 0) {
		fprintf(stderr, "kvm_bench: fabric VM: %s\n", strerror(-vmfd));
		return 1;
	}

	printf("KVM-backed fabric VMs %s\n", label);
	printf("%-44s %12s\n", "measure", "median");
	for (int mem = 0; mem < 2; mem++) {
		cfg.vmfd = mem ? vmfd : -1;
		for (unsigned int i = 0; i < runs; i++) {
			int ret = hakvm_run(&cfg, &res);

			if (ret || res.stop != HAKVM_STOP_HALT) {
				fprintf(stderr, "kvm_bench: run %u: %s %s\n", i,
					ret ? strerror(-ret) : hakvm_stop_name(res.stop), ret ? "" : res.why);
				return 1;
			}
			first[i] = res.ns_first_insn;
			total[i] = res.ns_end;
			hakvm_result_free(&res);
		}
		printf("%-44s %9.2f ms\n", mem ? "create -> first instruction (fabric memory)" :
		       "create -> first instruction (anon memory)", median_ms(first, runs));
		printf("%-44s %9.2f ms\n", mem ? "whole 4-VM LAVM job (fabric memory)" :
		       "whole 4-VM LAVM job (anon memory)", median_ms(total, runs));
	}

	cfg.vmfd = vmfd;
	cfg.nop_calls = calls;
	if (hakvm_run(&cfg, &res) || res.stop != HAKVM_STOP_HALT) {
		fprintf(stderr, "kvm_bench: hypercall run failed: %s\n", res.why);
		return 1;
	}
	{
		double hc = (double)(res.ns_nop_last - res.ns_nop_first) / (calls - 1);
		double sc;

		t0 = now_ns();
		for (unsigned int i = 0; i < calls; i++)
			getppid();
		sc = (double)(now_ns() - t0) / calls;
		printf("%-44s %9.2f us\n", "hypercall round trip (NOP, port I/O exit)", hc / 1e3);
		printf("%-44s %9.2f us\n", "getppid() round trip (baseline)", sc / 1e3);
		printf("%-44s %9.1fx\n", "hypercall / syscall", hc / sc);
	}
	hakvm_result_free(&res);
	close(vmfd);
	close(owner);
	free(bundle);
	free(first);
	free(total);
	lavm_image_free(&img);
	return rc;
}
