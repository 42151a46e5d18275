// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * lavm-vk - run LAVM programs on the Vulkan engine.
 *
 * Exit status: 0, 1 bad input or a failed run, 2 bad usage,
 * 3 no Vulkan device (LAVM_VK_EXIT_NODEV), 4 the device cannot run LAVM exactly.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include "lavm_host.h"
#include "lavm_vk.h"

#define LAVM_VK_EXIT_NODEV	3
#define LAVM_VK_EXIT_UNFIT	4

static void usage(FILE *f)
{
	fputs("usage: lavm-vk run PROG.lasm|PROG.lavm [--vms N] [--device D] [--max-epochs E]\n"
	      "                [--shared N] [--shared-in FILE.json] [--init FILE.json]\n"
	      "                [--acl FILE.json] [--json]\n"
	      "       lavm-vk devices\n"
	      "\n"
	      "run: as 'lavm run' (same options, same --json), on Vulkan device D (default 0;\n"
	      "'lavm-vk devices' lists them).  Results are bit-identical to --engine ref.\n"
	      "Exit status 3: no Vulkan device; 4: the device cannot run LAVM exactly.\n"
	      "Semantics: Documentation/lavm.rst\n", f);
}

static int parse_u32(const char *what, const char *s, uint32_t max, uint32_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || end == s || *end || v > max || s[0] == '-') {
		fprintf(stderr, "lavm-vk: %s: '%s' is not a number in 0..%u\n", what, s, max);
		return -1;
	}
	*out = v;
	return 0;
}

static void print_line(void *arg, const char *text)
{
	fprintf(arg, "%s\n", text);
}

static int open_device(struct lavm_vk **vk, int device)
{
	char err[512];
	int ret = lavm_vk_open(vk, device, err, sizeof(err));

	if (ret) {
		fprintf(stderr, "lavm-vk: %s\n", err);
		return ret == -ENODEV ? LAVM_VK_EXIT_NODEV : LAVM_VK_EXIT_UNFIT;
	}
	return 0;
}

static int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "vms", required_argument, NULL, 'n' },
		{ "device", required_argument, NULL, 'd' },
		{ "max-epochs", required_argument, NULL, 'm' },
		{ "shared", required_argument, NULL, 's' },
		{ "shared-in", required_argument, NULL, 'S' },
		{ "init", required_argument, NULL, 'i' },
		{ "acl", required_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	uint32_t nvms = 1, max_epochs = 1000000, nshared = 0, device = 0, epochs;
	const char *shared_in = NULL, *init = NULL, *acl_in = NULL;
	struct lavm_acl acl = { 0 };
	struct lavm_vk *vk = NULL;
	struct lavm_image img;
	struct lavm_job job;
	int c, json = 0, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'n': if (parse_u32("--vms", optarg, 1u << 26, &nvms)) return 2; break;
		case 'd': if (parse_u32("--device", optarg, 255, &device)) return 2; break;
		case 'm': if (parse_u32("--max-epochs", optarg, 0xffffffffu, &max_epochs)) return 2; break;
		case 's': if (parse_u32("--shared", optarg, LAVM_MAX_SHARED, &nshared)) return 2; break;
		case 'S': shared_in = optarg; break;
		case 'i': init = optarg; break;
		case 'a': acl_in = optarg; break;
		case 'j': json = 1; break;
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
		fprintf(stderr, "lavm-vk: --shared %u is below the program's .shared %u\n",
			nshared, img.prog.shared_size);
		lavm_image_free(&img);
		return 1;
	}
	if (lavm_job_alloc(&job, &img.prog, nvms, nshared, max_epochs)) {
		fprintf(stderr, "lavm-vk: out of memory for %u VMs\n", nvms);
		lavm_image_free(&img);
		return 1;
	}
	ret = 1;
	if ((init && lavm_json_read_init(init, &job, stderr)) ||
	    (shared_in && lavm_json_read_shared(shared_in, &job, stderr)) ||
	    (acl_in && lavm_json_read_acl(acl_in, nvms, &acl, stderr)))
		goto out;
	if (acl_in)
		job.acl = &acl;
	ret = open_device(&vk, device);
	if (ret)
		goto out;
	ret = lavm_vk_run(vk, &job, &epochs);
	if (ret) {
		fprintf(stderr, "lavm-vk: run failed: %s: %s\n", strerror(-ret), lavm_vk_last_error(vk));
		ret = 1;
		goto out;
	}
	if (json) {
		lavm_json_write_result(stdout, &job, epochs);
	} else {
		uint32_t count[5] = { 0 };

		for (uint32_t i = 0; i < nvms; i++)
			count[job.vms[i].status < 5 ? job.vms[i].status : 0]++;
		printf("%u epochs on %s; %u VMs: %u halted, %u faulted, %u running, %u yielded\n",
		       epochs, lavm_vk_device_name(vk), nvms, count[LAVM_HALTED], count[LAVM_FAULTED],
		       count[LAVM_RUNNING], count[LAVM_YIELDED]);
		for (uint32_t i = 0; i < nvms && i < 8; i++) {
			const struct lavm_vm *vm = &job.vms[i];

			printf("vm %u: %s%s%s ip=%g r=[%g %g %g %g]\n", i, lavm_status_name(vm->status),
			       vm->status == LAVM_FAULTED ? " " : "",
			       vm->status == LAVM_FAULTED ? lavm_fault_name(vm->fault) : "",
			       vm->v[0], vm->v[1], vm->v[2], vm->v[3], vm->v[4]);
		}
		if (nvms > 8)
			printf("... (--json prints every VM)\n");
	}
	ret = 0;
out:
	lavm_vk_close(vk);
	lavm_json_free_acl(&acl);
	lavm_job_free(&job);
	lavm_image_free(&img);
	return ret;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc - 1, argv + 1);
	if (!strcmp(argv[1], "devices"))
		return lavm_vk_list(print_line, stdout) == -ENODEV ? LAVM_VK_EXIT_NODEV : 0;
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "lavm-vk: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
