#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make check`: every test of the project, in stages.  Each stage writes TAP
# into build/results/; a failing stage does not stop the others, so one run
# shows everything that is wrong.  Ends with "N passed, N failed".
#
#   deps        install missing Debian packages (tools/deps/packages.txt)
#   user        userspace tests, natively, under ASan/UBSan
#   lint        module build with W=1 C=1 (sparse) and checkpatch --strict
#   kernel      build or reuse the cached debug kernel
#   vm-prep     what the test VMs share: kselftests, executors, stock vmlinux
#   vm-debug    debug kernel: modules + KUnit + kselftests, sanitizers on
#   vm-stock    Debian's stock kernel: modules + kselftests
#   vm-vulkan   stock kernel + the Vulkan executor on lavapipe (executor kselftest)
#               (vm-debug runs beside vm-stock, then vm-vulkan)
#
# HA_STAGES="user lint" runs a subset.
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
build=$top/build
results=$build/results
stages=${HA_STAGES:-deps user lint kernel vm-debug vm-stock vm-vulkan}
rm -rf "$results"
mkdir -p "$results"
stage_tap=$results/stages.tap
: > "$stage_tap"
make_q="make --no-print-directory"

log() { echo "check: $*" >&2; }
stage_result() { # NAME RC LOGFILE
	if [ "$2" = 0 ]; then
		echo "ok - stage/$1" >> "$stage_tap"
	else
		echo "not ok - stage/$1" >> "$stage_tap"
		log "stage $1 FAILED (log: $3)"
		tail -25 "$3" | sed 's/^/    /' >&2
	fi
}
run_stage() { # NAME CMD...
	local name=$1 start rc
	shift
	start=$(date +%s)
	log "== $name"
	"$@" > "$build/$name.log" 2>&1
	rc=$?
	log "   $name: $([ $rc = 0 ] && echo ok || echo FAILED) in $(( $(date +%s) - start )) s"
	stage_result "$name" $rc "$build/$name.log"
	return $rc
}
want() { case " $stages " in *" $1 "*) return 0 ;; esac; return 1; }

mkdir -p "$build"
t0=$(date +%s)

if want deps; then
	run_stage deps tools/deps/install.sh || {
		log "cannot install dependencies; stopping"
		stages=""
	}
fi

# Paths that every later stage needs, once the packages are there.
eval "$($make_q -s print-env)"

if want user; then
	run_stage user $make_q user-check
fi

if want lint; then
	run_stage lint $make_q lint
fi

kbuild=
if want kernel || want vm-debug; then
	if run_stage kernel tools/testing/vm/build-kernel.sh; then
		kbuild=$(tail -1 "$build/kernel.log")
	fi
fi

# QEMU runs each guest on one host thread (tcg,thread=single, see
# Documentation/testing.rst), so the debug kernel boots beside the stock
# one: the two VM lanes take about as long as the longer, not the sum.
# What they share (kselftests, executors, the stock vmlinux) is built
# first; each lane builds its own modules in its own directory.
if want vm-debug || want vm-stock || want vm-vulkan; then
	run_stage vm-prep $make_q vm-prep
fi

debug_lane() {
	if [ -n "$kbuild" ]; then
		run_stage vm-debug $make_q vm-debug HA_KBUILD="$kbuild"
	else
		stage_result vm-debug 1 "$build/kernel.log"
	fi
}
stock_lane() {
	if want vm-stock; then
		run_stage vm-stock $make_q vm-stock
	fi
	# The executor with the Vulkan engine (lavapipe) in the stock kernel.
	if want vm-vulkan; then
		run_stage vm-vulkan $make_q vm-vulkan
	fi
}
debug_pid=
if want vm-debug; then
	debug_lane &
	debug_pid=$!
fi
stock_lane
[ -z "$debug_pid" ] || wait "$debug_pid"

python3 tools/testing/summary.py "$results" "$(( $(date +%s) - t0 ))"
