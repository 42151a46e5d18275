#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The runner must fail a run for each kind of trouble it promises to catch.
# Feeds parse-results.py synthetic guest output and checks its verdict.
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0

good_results() {
	cat <<'R'
HA-BEGIN 6.12
HA-NPROC 2
HA-RESULT ok insmod hyperaether.ko
HA-KUNIT suite_a
KTAP version 1
1..1
    KTAP version 1
    # Subtest: suite_a
    1..2
    ok 1 case_one
    ok 2 case_two
ok 1 suite_a
HA-END
HA-KSFT t1
TAP version 13
1..1
ok 1 fix.case
HA-KSFT-EXIT t1 0
HA-RESULT ok rmmod hyperaether
HA-KMEMLEAK
HA-END
HA-DONE
R
}
good_console() { echo "[    1.0] rcu: RCU lockdep checking is enabled."; echo "[    1.1] hello"; }

# verdict NAME WANT(0|1) SED-ON-RESULTS SED-ON-CONSOLE [QEMU-RC]
verdict() {
	good_results | sed "$3" > "$tmp/r"
	good_console | sed "$4" > "$tmp/c"
	python3 "$here/parse-results.py" --name t --console "$tmp/c" --results "$tmp/r" \
		--kunit 1 --qemu-rc "${5:-0}" --tap "$tmp/tap" 2>/dev/null
	rc=$?
	n=$((n + 1))
	if [ "$rc" = "$2" ]; then echo "ok $n - runner/$1"; else
		echo "not ok $n - runner/$1 (parser exit $rc, want $2)"; sed 's/^/# /' "$tmp/tap"; fi
}

verdict clean-run-passes 0 '' ''
verdict kunit-case-fails 1 's/    ok 2 case_two/    not ok 2 case_two/' ''
verdict kunit-suite-without-cases 1 '/    ok [12] case/d' ''
verdict kselftest-case-fails 1 's/^ok 1 fix.case/not ok 1 fix.case/' ''
verdict kselftest-exit-status 1 's/HA-KSFT-EXIT t1 0/HA-KSFT-EXIT t1 1/' ''
verdict module-load-fails 1 's/HA-RESULT ok insmod/HA-RESULT not ok insmod/' ''
verdict kmemleak-report 1 's/^HA-KMEMLEAK$/HA-KMEMLEAK\nunreferenced object 0xffff (size 64):/' ''
verdict guest-never-finished 1 '/HA-DONE/d' ''
verdict qemu-timeout 1 '' '' 124
verdict one-cpu 1 's/HA-NPROC 2/HA-NPROC 1/' ''
verdict kasan-report 1 '' '$a [ 2.0] BUG: KASAN: slab-out-of-bounds in f+0x1/0x2'
verdict warn-splat 1 '' '$a [ 2.0] WARNING: CPU: 0 PID: 1 at kmod/x.c:1 f+0x1/0x2'
verdict lockdep-report 1 '' '$a [ 2.0] WARNING: possible circular locking dependency detected'
verdict ubsan-report 1 '' '$a [ 2.0] UBSAN: shift-out-of-bounds in kmod/x.c:3:4'
verdict sleeping-in-atomic 1 '' '$a [ 2.0] BUG: sleeping function called from invalid context'
verdict oops 1 '' '$a [ 2.0] Oops: int3: 0000 [#1] PREEMPT SMP'
verdict panic 1 '' '$a [ 2.0] Kernel panic - not syncing: Fatal exception'
echo "1..$n"
