// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * lavm - assemble, inspect, verify and run LAVM programs.
 *
 * Built with LAVM_CLI_VULKAN where lavm/vulkan/ is (vulkan.mk): then
 * --engine vulkan runs on the Vulkan engine and `lavm devices` lists the
 * devices.  Exit status: 0, 1 bad input or a failed run, 2 bad usage,
 * 3 no Vulkan device, 4 the device cannot run LAVM exactly.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "lavm_host.h"
#ifdef LAVM_CLI_VULKAN
#include "vulkan/lavm_vk.h"
#endif

#define LAVM_EXIT_NODEV	3
#define LAVM_EXIT_UNFIT	4

static void usage(FILE *f)
{
	fputs("usage: lavm asm PROG.lasm [-o PROG.lavm]\n"
	      "       lavm disasm PROG.lavm|PROG.lasm\n"
	      "       lavm verify PROG.lavm|PROG.lasm\n"
	      "       lavm run PROG.lasm|PROG.lavm [--vms N]\n"
	      "                [--engine ref|cpu|switch|dense|vulkan] [--threads T] [--device D]\n"
	      "                [--max-epochs E] [--shared N]\n"
	      "                [--shared-in FILE.json] [--init FILE.json] [--acl FILE.json]\n"
	      "                [--json]\n"
	      "       lavm devices\n"
	      "\n"
	      "run: every VM starts at the entry with r0 = its index; the run stops when\n"
	      "no VM is running or yielded, or after E epochs (default 1000000).\n"
	      "Engines: cpu (epoch engine, default), ref (reference interpreter),\n"
	      "switch (per-VM interpreter), dense (the seed's mat-vec; not exact),\n"
	      "vulkan (Vulkan compute on device D, default 0; bit-identical to ref).\n"
	      "devices: the Vulkan devices.  Exit status 3: no Vulkan device; 4: the\n"
	      "device cannot run LAVM exactly.\n"
	      "--acl: {\"seg_words\": W, \"dom\": [domain of each VM], \"allow\": [mask of\n"
	      "each domain]}: VMs of domain d may use shared segment s (words s*W..s*W+W-1)\n"
	      "iff bit s of allow[d] is set; other READs/WRITEs fault \"access\".\n"
	      "Semantics: Documentation/lavm.rst\n", f);
}

static int cmd_asm(int argc, char **argv)
{
	const char *in = NULL, *out = NULL;
	struct lavm_image img;
	char *def = NULL;
	int ret;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-o") && i + 1 < argc)
			out = argv[++i];
		else if (!in && argv[i][0] != '-')
			in = argv[i];
		else {
			usage(stderr);
			return 2;
		}
	}
	if (!in) {
		usage(stderr);
		return 2;
	}
	if (!out) {
		size_t n = strlen(in);

		def = malloc(n + 6);
		if (!def)
			return 1;
		strcpy(def, in);
		if (n > 5 && !strcmp(def + n - 5, ".lasm"))
			def[n - 5] = 0;
		strcat(def, ".lavm");
		out = def;
	}
	if (lavm_image_read(in, &img, stderr)) {
		free(def);
		return 1;
	}
	ret = lavm_image_write(&img, out);
	if (ret)
		fprintf(stderr, "lavm: %s: %s\n", out, strerror(-ret));
	lavm_image_free(&img);
	free(def);
	return ret ? 1 : 0;
}

static int cmd_disasm(int argc, char **argv)
{
	struct lavm_image img;

	if (argc != 2) {
		usage(stderr);
		return 2;
	}
	if (lavm_image_read(argv[1], &img, stderr))
		return 1;
	lavm_disassemble(&img.prog, stdout);
	lavm_image_free(&img);
	return 0;
}

static int cmd_verify(int argc, char **argv)
{
	struct lavm_image img;

	if (argc != 2) {
		usage(stderr);
		return 2;
	}
	if (lavm_image_read(argv[1], &img, stderr))
		return 1;
	printf("%s: ok: %u instructions (%u linear), call depth %u, shared %u words\n",
	       argv[1], img.prog.ninsns, img.prog.nlinear, img.prog.max_call_depth,
	       img.prog.shared_size);
	lavm_image_free(&img);
	return 0;
}

static int parse_u32(const char *opt, const char *s, uint32_t max, uint32_t *v)
{
	char *end;
	unsigned long x;

	errno = 0;
	x = strtoul(s, &end, 10);
	if (!*s || *end || errno || x > max) {
		fprintf(stderr, "lavm: %s: '%s' is not a number 0..%u\n", opt, s, max);
		return -1;
	}
	*v = x;
	return 0;
}

/*
 * @job on Vulkan device @device: 0 with *@epochs and *@on naming the
 * device, or the exit status (1 a failed run, 3 no device, 4 unfit).
 */
static int run_vulkan(struct lavm_job *job, uint32_t device, long *epochs, const char **on)
{
#ifdef LAVM_CLI_VULKAN
	static char name[300];
	struct lavm_vk *vk;
	char err[512];
	uint32_t ep;
	int ret = lavm_vk_open(&vk, device, err, sizeof(err));

	if (ret) {
		fprintf(stderr, "lavm: %s\n", err);
		return ret == -ENODEV ? LAVM_EXIT_NODEV : LAVM_EXIT_UNFIT;
	}
	snprintf(name, sizeof(name), " on %s", lavm_vk_device_name(vk));
	*on = name;
	ret = lavm_vk_run(vk, job, &ep);
	if (ret)
		fprintf(stderr, "lavm: run failed: %s: %s\n", strerror(-ret), lavm_vk_last_error(vk));
	*epochs = ep;
	lavm_vk_close(vk);
	return ret ? 1 : 0;
#else
	(void)job;
	(void)device;
	(void)epochs;
	(void)on;
	fprintf(stderr, "lavm: --engine vulkan: this lavm is built without lavm/vulkan\n");
	return LAVM_EXIT_NODEV;
#endif
}

#ifdef LAVM_CLI_VULKAN
static void print_line(void *arg, const char *text)
{
	fprintf(arg, "%s\n", text);
}
#endif

static int cmd_devices(int argc, char **argv)
{
	(void)argv;
	if (argc != 1) {
		usage(stderr);
		return 2;
	}
#ifdef LAVM_CLI_VULKAN
	return lavm_vk_list(print_line, stdout) == -ENODEV ? LAVM_EXIT_NODEV : 0;
#else
	fprintf(stderr, "lavm: devices: this lavm is built without lavm/vulkan\n");
	return LAVM_EXIT_NODEV;
#endif
}

static int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "vms", required_argument, NULL, 'n' },
		{ "engine", required_argument, NULL, 'e' },
		{ "threads", required_argument, NULL, 't' },
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
	uint32_t nvms = 1, threads = 0, max_epochs = 1000000, nshared = 0, device = 0;
	const char *shared_in = NULL, *init = NULL, *acl_in = NULL, *on = "";
	enum lavm_engine_kind kind = LAVM_ENGINE_EPOCH;
	bool vulkan = false;
	struct lavm_acl acl = { 0 };
	struct lavm_image img;
	struct lavm_job job;
	bool json = false;
	long epochs = 0;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'n': if (parse_u32("--vms", optarg, 1u << 26, &nvms)) return 2; break;
		case 't': if (parse_u32("--threads", optarg, 64, &threads)) return 2; break;
		case 'd': if (parse_u32("--device", optarg, 255, &device)) return 2; break;
		case 'm': if (parse_u32("--max-epochs", optarg, 0xffffffffu, &max_epochs)) return 2; break;
		case 's': if (parse_u32("--shared", optarg, LAVM_MAX_SHARED, &nshared)) return 2; break;
		case 'S': shared_in = optarg; break;
		case 'i': init = optarg; break;
		case 'a': acl_in = optarg; break;
		case 'j': json = true; break;
		case 'e':
			if (!strcmp(optarg, "ref")) kind = LAVM_ENGINE_REF;
			else if (!strcmp(optarg, "cpu") || !strcmp(optarg, "epoch")) kind = LAVM_ENGINE_EPOCH;
			else if (!strcmp(optarg, "switch")) kind = LAVM_ENGINE_SWITCH;
			else if (!strcmp(optarg, "dense")) kind = LAVM_ENGINE_DENSE;
			else if (!strcmp(optarg, "vulkan")) vulkan = true;
			else {
				fprintf(stderr, "lavm: --engine: '%s' is not ref, cpu, switch, dense or vulkan\n",
					optarg);
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	if (!threads) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		threads = n > 0 ? (n > 64 ? 64 : n) : 1;
	}
	if (lavm_image_read(argv[optind], &img, stderr))
		return 1;
	if (nshared && nshared < img.prog.shared_size) {
		fprintf(stderr, "lavm: --shared %u is below the program's .shared %u\n",
			nshared, img.prog.shared_size);
		lavm_image_free(&img);
		return 1;
	}
	if (lavm_job_alloc(&job, &img.prog, nvms, nshared, max_epochs)) {
		fprintf(stderr, "lavm: out of memory for %u VMs\n", nvms);
		lavm_image_free(&img);
		return 1;
	}
	if ((init && lavm_json_read_init(init, &job, stderr)) ||
	    (shared_in && lavm_json_read_shared(shared_in, &job, stderr)) ||
	    (acl_in && lavm_json_read_acl(acl_in, nvms, &acl, stderr))) {
		lavm_job_free(&job);
		lavm_image_free(&img);
		return 1;
	}
	if (acl_in)
		job.acl = &acl;
	if (vulkan) {
		rc = run_vulkan(&job, device, &epochs, &on);
	} else {
		epochs = lavm_engine_run(&job, kind, threads);
		if (epochs < 0)
			fprintf(stderr, "lavm: run failed: %s\n", strerror(-epochs));
		rc = epochs < 0;
	}
	if (!rc && json) {
		lavm_json_write_result(stdout, &job, epochs);
	} else if (!rc) {
		uint32_t count[5] = { 0 };

		for (uint32_t i = 0; i < nvms; i++)
			count[job.vms[i].status < 5 ? job.vms[i].status : 0]++;
		printf("%ld epochs%s; %u VMs: %u halted, %u faulted, %u running, %u yielded\n",
		       epochs, on, nvms, count[LAVM_HALTED], count[LAVM_FAULTED],
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
	lavm_json_free_acl(&acl);
	lavm_job_free(&job);
	lavm_image_free(&img);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "asm"))
		return cmd_asm(argc - 1, argv + 1);
	if (!strcmp(argv[1], "disasm"))
		return cmd_disasm(argc - 1, argv + 1);
	if (!strcmp(argv[1], "verify"))
		return cmd_verify(argc - 1, argv + 1);
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc - 1, argv + 1);
	if (!strcmp(argv[1], "devices"))
		return cmd_devices(argc - 1, argv + 1);
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "lavm: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
