#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# What `make demo` runs where /dev/hyperaether exists (in the guest or on a
# host with the module loaded).
set -e
echo "# uname -r"; uname -r
echo "# ls -l /dev/hyperaether"; ls -l /dev/hyperaether
echo "# hyperaether info"; hyperaether info
echo "# hyperaether --json info"; hyperaether --json info
