/* SPDX-License-Identifier: GPL-2.0 */
/* The hyperaether CLI's commands beyond `info`; each returns the exit status. */
#ifndef HA_CLI_H
#define HA_CLI_H

#include <stdbool.h>

/* argv[0] is the command's name; @json: --json was given before it. */
int cmd_run(int argc, char **argv, bool json);
int cmd_gen(int argc, char **argv, bool json);
int cmd_fabric(int argc, char **argv, bool json);
int cmd_top(int argc, char **argv, bool json);

#endif /* HA_CLI_H */
