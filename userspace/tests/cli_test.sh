#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# hyperaether CLI behaviour that needs no device: usage, exit codes and a
# clear error naming the missing device.
cli=${HA_CLI:?}
n=0
t() { # t NAME EXPECTED_RC CMD... ; output in $out
	name=$1 want=$2; shift 2
	out=$("$@" 2>&1); rc=$?
	n=$((n + 1))
	if [ "$rc" = "$want" ]; then echo "ok $n - cli/$name"; else
		echo "not ok $n - cli/$name (exit $rc, want $want)"; echo "$out" | sed 's/^/# /'; fi
}
has() { # has NAME PATTERN: the last output contains PATTERN
	n=$((n + 1))
	case $out in *"$2"*) echo "ok $n - cli/$1" ;; *) echo "not ok $n - cli/$1"; echo "$out" | sed 's/^/# /' ;; esac
}
t help 0 "$cli" --help
has help-lists-info "info"
t no-command 2 "$cli"
t unknown-command 2 "$cli" frobnicate
has unknown-command-named "unknown command 'frobnicate'"
t bad-option 2 "$cli" --bogus
if [ ! -e /dev/hyperaether ]; then
	t info-without-device 1 "$cli" info
	has info-names-device "/dev/hyperaether"
	has info-gives-hint "modprobe hyperaether"
fi
echo "1..$n"
