// SPDX-License-Identifier: GPL-2.0
/*
 * hyperaether: the command-line front end of the Hyper-Aether stack.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "hyperaether.h"

static const char usage[] =
	"usage: hyperaether [--json] <command>\n"
	"\n"
	"commands:\n"
	"  info                 show the loaded module's ABI version and features\n"
	"  run SPEC.json        generate, boot and run a spec's fabric; print the results\n"
	"  gen SPEC.json        generate the VMs' programs; show how each was found\n"
	"  fabric show [SPEC]   a spec's fabric graph, or hyperaetherd's (--dot: Graphviz)\n"
	"  top                  hyperaetherd's queues, epochs/s and jobs/s, live\n"
	"\n"
	"Each command takes --help.\n"
	"\n"
	"options:\n"
	"  --json    machine-readable output\n"
	"  --help    this text\n";

static const char *const feature_names[] = {
	[0] = "info",
};

static int open_device(void)
{
	int fd = ha_open();

	if (fd < 0) {
		fprintf(stderr, "hyperaether: cannot open %s: %s\n", HA_DEV_PATH,
			strerror(-fd));
		if (fd == -ENOENT)
			fprintf(stderr, "hyperaether: is the module loaded? (sudo modprobe hyperaether)\n");
		else if (fd == -EACCES)
			fprintf(stderr, "hyperaether: are you in the 'hyperaether' group?\n");
	}
	return fd;
}

static int cmd_info(int json)
{
	struct hyperaether_info info;
	unsigned int i;
	int fd, ret;

	fd = open_device();
	if (fd < 0)
		return 1;
	ret = ha_get_info(fd, &info);
	close(fd);
	if (ret < 0) {
		fprintf(stderr, "hyperaether: GET_INFO: %s\n", strerror(-ret));
		return 1;
	}

	if (json) {
		printf("{\"device\": \"%s\", \"api\": [%u, %u], \"features\": [",
		       HA_DEV_PATH, info.api_major, info.api_minor);
		for (i = 0; i < 64; i++) {
			if (!(info.features & (1ULL << i)))
				continue;
			if (i < sizeof(feature_names) / sizeof(feature_names[0]) && feature_names[i])
				printf("%s\"%s\"", (info.features & ((1ULL << i) - 1)) ? ", " : "",
				       feature_names[i]);
			else
				printf("%s\"bit%u\"", (info.features & ((1ULL << i) - 1)) ? ", " : "", i);
		}
		printf("]}\n");
		return 0;
	}
	printf("device:   %s\n", HA_DEV_PATH);
	printf("api:      %u.%u\n", info.api_major, info.api_minor);
	printf("features: 0x%llx\n", (unsigned long long)info.features);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	int json = 0, c;

	while ((c = getopt_long(argc, argv, "+jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = 1;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		fputs(usage, stderr);
		return 2;
	}
	if (!strcmp(argv[optind], "info")) {
		for (int i = optind + 1; i < argc; i++)
			json |= !strcmp(argv[i], "--json");
		return cmd_info(json);
	}
	if (!strcmp(argv[optind], "run"))
		return cmd_run(argc - optind, argv + optind, json);
	if (!strcmp(argv[optind], "gen"))
		return cmd_gen(argc - optind, argv + optind, json);
	if (!strcmp(argv[optind], "fabric"))
		return cmd_fabric(argc - optind, argv + optind, json);
	if (!strcmp(argv[optind], "top"))
		return cmd_top(argc - optind, argv + optind, json);

	fprintf(stderr, "hyperaether: unknown command '%s'\n\n%s", argv[optind], usage);
	return 2;
}
