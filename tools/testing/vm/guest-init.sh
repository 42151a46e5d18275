#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
#
# /init of the test initramfs.  Kernel messages go to ttyS0; everything the
# host parses goes to ttyS1 as HA-* marker lines around raw TAP/KTAP.

/bin/busybox --install -s /bin
export PATH=/bin:/sbin HOME=/root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t debugfs debugfs /sys/kernel/debug
mount -t tmpfs tmpfs /tmp

R=/dev/ttyS1
stty -F $R raw -echo 2>/dev/null
say() { echo "$*" > $R; }
check() { # check NAME CMD...: one host-visible result line per step
	name=$1; shift
	if "$@" > /tmp/check.out 2>&1; then
		say "HA-RESULT ok $name"
	else
		say "HA-RESULT not ok $name"
		sed 's/^/# /' /tmp/check.out > $R
	fi
}

say "HA-BEGIN $(uname -r)"
say "HA-NPROC $(nproc)"
# Variables the host passed (run.sh --env) for the tests and the script.
[ -s /ha/env ] && . /ha/env
KMEMLEAK=/sys/kernel/debug/kmemleak
# Forget boot-time allocations: only what our modules and tests leak counts.
[ -e $KMEMLEAK ] && echo clear > $KMEMLEAK

for m in $(cat /ha/preload.order); do
	check "insmod $m" insmod /ha/mods/$m
done
for m in $(cat /ha/ko.order); do
	case $m in *_kunit.ko) continue ;; esac
	check "insmod $m" insmod /ha/ko/$m
done

if [ -f /ha/guest-script ]; then
	say "HA-SCRIPT"
	sh /ha/guest-script > $R 2>&1
	say "HA-SCRIPT-EXIT $?"
fi

if [ "$(cat /ha/kunit)" = 1 ]; then
	for m in $(cat /ha/ko.order); do
		case $m in *_kunit.ko) ;; *) continue ;; esac
		check "insmod $m" insmod /ha/ko/$m
	done
	for d in /sys/kernel/debug/kunit/*/; do
		[ -f "$d/results" ] || continue
		say "HA-KUNIT $(basename $d)"
		cat "$d/results" > $R
		say "HA-END"
	done
fi

for t in /ha/tests/*; do
	[ -x "$t" ] || continue
	say "HA-KSFT $(basename $t)"
	(cd /tmp && "$t") > $R 2>&1
	say "HA-KSFT-EXIT $(basename $t) $?"
done

# Unload in reverse order: a module that cannot go away cleanly is a bug.
for m in $(cat /ha/ko.order | sed -n '1!G;h;$p'); do
	check "rmmod ${m%.ko}" rmmod ${m%.ko}
done

if [ -e $KMEMLEAK ]; then
	# kmemleak only reports objects older than a few seconds; scan twice.
	sleep 6
	echo scan > $KMEMLEAK
	echo scan > $KMEMLEAK
	say "HA-KMEMLEAK"
	cat $KMEMLEAK > $R
	say "HA-END"
fi

say "HA-DONE"
sync
reboot -f
