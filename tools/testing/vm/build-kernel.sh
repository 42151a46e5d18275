#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build (or reuse) the Hyper-Aether debug test kernel from Debian's
# linux-source-6.12 plus tools/testing/vm/debug.config.
#
# The build lives outside the clone, in $HA_CACHE (default
# ~/.cache/hyperaether), keyed by the source package version, the config
# fragment and the compiler, so a second run on the same machine reuses it
# and a new machine builds it from scratch.  Prints the build directory
# (usable as KDIR for out-of-tree modules) on its last line.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
frag=$here/debug.config
cache=${HA_CACHE:-$HOME/.cache/hyperaether}
tarball=/usr/src/linux-source-6.12.tar.xz
jobs=${JOBS:-$(nproc)}

log() { echo "build-kernel: $*" >&2; }

[ -r "$tarball" ] || { log "$tarball missing (apt-get install linux-source-6.12)"; exit 1; }
srcver=$(dpkg-query -W -f='${Version}' linux-source-6.12)
key=$( { echo "$srcver"; cat "$frag"; gcc --version | head -1; } | sha256sum | cut -c1-16)
src=$cache/src/linux-source-6.12-$srcver
out=$cache/kbuild-$key

if [ -f "$out/.ha-done" ]; then
	log "cached kernel: $out"
	echo "$out"
	exit 0
fi

mkdir -p "$cache/src"
if [ ! -f "$src/.ha-extracted" ]; then
	log "extracting $tarball ($srcver)"
	rm -rf "$src" "$src.tmp"
	mkdir -p "$src.tmp"
	tar -C "$src.tmp" -xf "$tarball" --strip-components=1
	touch "$src.tmp/.ha-extracted"
	mv "$src.tmp" "$src"
fi

# Seed from an older build of the same source so a config tweak is an
# incremental build rather than a cold one.
if [ ! -d "$out" ]; then
	prev=$(ls -1dt "$cache"/kbuild-*/ 2>/dev/null | while read -r d; do
		[ "$(cat "$d/.ha-srcver" 2>/dev/null)" = "$srcver" ] && { echo "$d"; break; }
	done || true)
	if [ -n "$prev" ]; then
		log "seeding from $prev"
		cp -a "$prev" "$out.tmp" && rm -f "$out.tmp/.ha-done" && mv "$out.tmp" "$out"
	fi
fi
mkdir -p "$out"
echo "$srcver" > "$out/.ha-srcver"

log "configuring in $out"
make -s -C "$src" O="$out" tinyconfig >/dev/null
"$src/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "$frag" >/dev/null
make -s -C "$src" O="$out" olddefconfig >/dev/null

# Every option the fragment asks for, plus the ones only a select can set,
# must be in the final .config: Kconfig drops unmet ones silently.
missing=0
want=$(grep -E '^CONFIG_[A-Z0-9_]+=' "$frag"; printf '%s\n' \
	CONFIG_DRM_SCHED=y CONFIG_DRM_GEM_SHMEM_HELPER=y CONFIG_LOCKDEP=y \
	CONFIG_TRACEPOINTS=y CONFIG_EVENT_TRACING=y CONFIG_KASAN_GENERIC=y)
for opt in $want; do
	grep -qx -- "$opt" "$out/.config" || { log "config lost: $opt"; missing=1; }
done
for opt in $(sed -n 's/^# \(CONFIG_[A-Z0-9_]*\) is not set$/\1/p' "$frag"); do
	grep -q "^$opt=" "$out/.config" && { log "config not disabled: $opt"; missing=1; }
done
[ $missing = 0 ] || { log "config check failed"; exit 1; }

log "building bzImage and modules with -j$jobs (cold: ~10-15 min on 2 cores)"
start=$(date +%s)
make -s -C "$src" O="$out" -j"$jobs" bzImage modules >"$out/build.log" 2>&1 || {
	tail -40 "$out/build.log" >&2
	log "kernel build failed; full log: $out/build.log"
	exit 1
}
log "built in $(( $(date +%s) - start )) s"
touch "$out/.ha-done"
echo "$out"
