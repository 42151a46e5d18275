// SPDX-License-Identifier: GPL-2.0
/*
 * hyperaether-kvm - run a LAVM program in a KVM guest that is a fabric VM.
 *
 *   hyperaether-kvm run PROG.lasm|PROG.lavm [--vms N] [--max-epochs E]
 *                   [--shared N] [--shared-in FILE.json] [--init FILE.json]
 *                   [--timeout-ms T] [--anon] [--no-seccomp] [--json]
 *
 * Prints what `lavm run --engine ref` prints (--json: byte for byte the
 * same document).  The guest's RAM is the memory of a fabric VM this
 * command creates on /dev/hyperaether (backend KVM); --anon uses anonymous
 * memory instead, for machines without the module.  Exit status: 0 the
 * guest halted with a result, 1 bad input or the guest was stopped (the
 * reason on stderr), 2 bad usage.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hyperaether.h"
#include "kvm_abi.h"
#include "kvm_monitor.h"
#include "lavm_host.h"

static void usage(FILE *out)
{
	fputs("usage: hyperaether-kvm run PROG.lasm|PROG.lavm [--vms N] [--max-epochs E]\n"
	      "                [--shared N] [--shared-in FILE.json] [--init FILE.json]\n"
	      "                [--timeout-ms T] [--anon] [--no-seccomp] [--json]\n"
	      "runs the program's VMs in one KVM guest (the LAVM reference semantics) whose\n"
	      "RAM is a fabric VM's memory; prints what `lavm run --engine ref` prints.\n"
	      "--anon: anonymous guest memory, no fabric (no /dev/hyperaether needed).\n"
	      "Once the guest is set up the process confines itself with a seccomp\n"
	      "allow-list (--no-seccomp: not).\n", out);
}

static int parse_u32(const char *opt, const char *s, uint32_t max, uint32_t *v)
{
	char *end;
	unsigned long long x;

	errno = 0;
	x = strtoull(s, &end, 0);
	if (errno || *end || !*s || x > max) {
		fprintf(stderr, "hyperaether-kvm: %s: '%s' is not a number in 0..%u\n", opt, s, max);
		return -1;
	}
	*v = (uint32_t)x;
	return 0;
}

/* A fabric with one KVM-backed VM of @ram bytes; *@vmfd acts as it. */
static int fabric_vm(size_t ram, int *owner, int *vmfd)
{
	struct hyperaether_quota fq = { .mem_bytes = ram }, vq = { .mem_bytes = ram };
	uint32_t id;
	int fd, ret;

	fd = ha_open();
	if (fd < 0)
		return fd;
	ret = ha_fabric_create(fd, &fq, NULL);
	if (!ret)
		ret = ha_vm_add(fd, "kvm0", HYPERAETHER_BACKEND_KVM, &vq, 0, &id);
	if (!ret)
		ret = ha_vm_export(fd, id, HYPERAETHER_VMFD_MAP | HYPERAETHER_VMFD_SEND |
				   HYPERAETHER_VMFD_RECV, 0);
	if (ret < 0) {
		close(fd);
		return ret;
	}
	*owner = fd;
	*vmfd = ret;
	return 0;
}

static int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "vms", required_argument, NULL, 'n' },
		{ "max-epochs", required_argument, NULL, 'm' },
		{ "shared", required_argument, NULL, 's' },
		{ "shared-in", required_argument, NULL, 'S' },
		{ "init", required_argument, NULL, 'i' },
		{ "timeout-ms", required_argument, NULL, 't' },
		{ "anon", no_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ "no-seccomp", no_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	uint32_t nvms = 1, max_epochs = 1000000, nshared = 0, timeout_ms = 0;
	const char *shared_in = NULL, *init = NULL;
	struct hakvm_config cfg = { .vmfd = -1, .send_dst = HAKVM_NO_PEER, .seccomp = 1 };
	struct hakvm_result res;
	struct lavm_image img = { 0 };
	struct lavm_job job;
	int json = 0, anon = 0, owner = -1, c, ret, rc = 1;
	void *bundle = NULL;

	while ((c = getopt_long(argc, argv, "n:m:s:S:i:t:ajNh", opts, NULL)) != -1) {
		switch (c) {
		case 'n': if (parse_u32("--vms", optarg, 1u << 22, &nvms) || !nvms) return 2; break;
		case 'm': if (parse_u32("--max-epochs", optarg, 0xffffffffu, &max_epochs)) return 2; break;
		case 's': if (parse_u32("--shared", optarg, LAVM_MAX_SHARED, &nshared)) return 2; break;
		case 'S': shared_in = optarg; break;
		case 'i': init = optarg; break;
		case 't': if (parse_u32("--timeout-ms", optarg, 86400000u, &timeout_ms)) return 2; break;
		case 'a': anon = 1; break;
		case 'j': json = 1; break;
		case 'N': cfg.seccomp = 0; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	if (lavm_image_read(argv[optind], &img, stderr))
		return 1;
	if (nshared && nshared < img.prog.shared_size) {
		fprintf(stderr, "hyperaether-kvm: --shared %u is below the program's .shared %u\n",
			nshared, img.prog.shared_size);
		goto out_img;
	}
	if (lavm_job_alloc(&job, &img.prog, nvms, nshared, max_epochs)) {
		fprintf(stderr, "hyperaether-kvm: out of memory for %u VMs\n", nvms);
		goto out_img;
	}
	if ((init && lavm_json_read_init(init, &job, stderr)) ||
	    (shared_in && lavm_json_read_shared(shared_in, &job, stderr)))
		goto out_job;

	cfg.bundle_len = lavm_bundle_size(&img.prog);
	bundle = malloc(cfg.bundle_len);
	if (!bundle || lavm_bundle_write(&img.prog, bundle, cfg.bundle_len) != (long)cfg.bundle_len) {
		fprintf(stderr, "hyperaether-kvm: cannot write the bundle\n");
		goto out_job;
	}
	cfg.bundle = bundle;
	cfg.nvms = nvms;
	cfg.nshared = job.nshared;
	cfg.max_epochs = max_epochs;
	cfg.init = job.vms;
	cfg.shared_in = job.shared;
	cfg.timeout_ms = timeout_ms;
	ret = hakvm_ram_size(&cfg, &cfg.ram_bytes);
	if (ret) {
		fprintf(stderr, "hyperaether-kvm: guest RAM for this job: %s\n", strerror(-ret));
		goto out_job;
	}
	if (!anon) {
		ret = fabric_vm(cfg.ram_bytes, &owner, &cfg.vmfd);
		if (ret) {
			fprintf(stderr, "hyperaether-kvm: fabric VM on %s: %s%s\n", HA_DEV_PATH,
				strerror(-ret), ret == -ENOENT ? " (module not loaded? --anon runs without it)" : "");
			goto out_job;
		}
	}
	ret = hakvm_run(&cfg, &res);
	if (ret) {
		fprintf(stderr, "hyperaether-kvm: cannot start the guest: %s%s\n", strerror(-ret),
			ret == -ENOENT ? " (no /dev/kvm)" : "");
		goto out_fabric;
	}
	if (res.stop != HAKVM_STOP_HALT) {
		fprintf(stderr, "hyperaether-kvm: guest stopped (%s): %s\n",
			hakvm_stop_name(res.stop), res.why);
		hakvm_result_free(&res);
		goto out_fabric;
	}
	memcpy(job.vms, res.vms, (size_t)nvms * sizeof(*job.vms));
	memcpy(job.shared, res.shared, (size_t)job.nshared * sizeof(float));
	if (json) {
		lavm_json_write_result(stdout, &job, res.epochs);
	} else {
		uint32_t count[5] = { 0 };

		for (uint32_t i = 0; i < nvms; i++)
			count[job.vms[i].status < 5 ? job.vms[i].status : 0]++;
		printf("%u epochs in a KVM guest; %u VMs: %u halted, %u faulted, %u running, %u yielded\n",
		       res.epochs, nvms, count[LAVM_HALTED], count[LAVM_FAULTED],
		       count[LAVM_RUNNING], count[LAVM_YIELDED]);
	}
	hakvm_result_free(&res);
	rc = 0;
out_fabric:
	if (cfg.vmfd >= 0)
		close(cfg.vmfd);
	if (owner >= 0)
		close(owner);
out_job:
	free(bundle);
	lavm_job_free(&job);
out_img:
	lavm_image_free(&img);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "run"))
		return cmd_run(argc - 1, argv + 1);
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return 0;
	}
	usage(stderr);
	return 2;
}
