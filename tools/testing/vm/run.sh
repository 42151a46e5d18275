#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot a kernel under QEMU (TCG, -cpu max, 2 CPUs) with a busybox initramfs
# holding our modules and test binaries; load the modules, run every KUnit
# suite and kselftest, unload, scan for leaks, and turn what came back into
# TAP on the host.  Fails on any `not ok`, oops, WARN, KASAN, UBSAN, lockdep
# or kmemleak report, panic or timeout.
#
# usage: run.sh --name NAME --kernel IMAGE --out DIR
#               [--modroot DIR --kver VER --preload "mod ..."]
#               [--ko "a.ko b.ko ..."] [--tests DIR] [--kunit]
#               [--guest-script FILE] [--bins "FILE ..."] [--timeout SEC]
#               [--mem MB] [--exclude "test ..."]
#               [--dyn "FILE ..."] [--env "VAR=VALUE ..."]
#
# --dyn copies files (FILE, or FILE:PATH to place it elsewhere) to the same
# absolute paths in the initramfs, with the shared libraries of every ELF
# among them (ldd), for dynamically linked programs (the Vulkan executor
# with Mesa's lavapipe); --env exports variables for the kselftests and the
# guest script.  The guest mounts a tmpfs on /tmp: nothing can live there.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
name=vm kernel= out= modroot= kver= preload= kos= tests= kunit=0
script= timeout=900 mem=2048 bins= exclude= dyn= envs=

while [ $# -gt 0 ]; do
	case $1 in
	--name) name=$2; shift ;;
	--kernel) kernel=$2; shift ;;
	--out) out=$2; shift ;;
	--modroot) modroot=$2; shift ;;
	--kver) kver=$2; shift ;;
	--preload) preload=$2; shift ;;
	--ko) kos=$2; shift ;;
	--tests) tests=$2; shift ;;
	--kunit) kunit=1 ;;
	--guest-script) script=$2; shift ;;
	--bins) bins=$2; shift ;;
	--exclude) exclude=$2; shift ;;
	--timeout) timeout=$2; shift ;;
	--mem) mem=$2; shift ;;
	--dyn) dyn=$2; shift ;;
	--env) envs=$2; shift ;;
	*) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
	esac
	shift
done
[ -n "$kernel" ] && [ -n "$out" ] || { echo "run.sh: --kernel and --out are required" >&2; exit 2; }
[ -r "$kernel" ] || { echo "run.sh: no kernel image at $kernel" >&2; exit 2; }

busybox=/bin/busybox
[ -x "$busybox" ] && file -L "$busybox" 2>/dev/null | grep -q 'statically linked' ||
	busybox=$(command -v busybox)
rm -rf "$out"
mkdir -p "$out"
out=$(cd "$out" && pwd)
stage=$out/initramfs
mkdir -p "$stage"/{bin,ha/mods,ha/ko,ha/tests}

# gen_init_cpio builds the archive without root (device nodes included).
src=${HA_KSRC:?HA_KSRC must point at the extracted linux-source-6.12}
gen=$out/gen_init_cpio
cc -O2 -o "$gen" "$src/usr/gen_init_cpio.c"

cp "$busybox" "$stage/bin/busybox"
for b in $bins; do
	cp "$b" "$stage/bin/$(basename "${b%-static}")"
done

# Kernel modules we depend on (kvm_amd, ...) with their own dependencies,
# in load order, decompressed because busybox insmod may not inflate them.
# Our modules' own dependencies on kernel modules (drm, gpu-sched, ...)
# come from their modinfo; the ones among our modules load from ko.order.
ours=" $(for ko in $kos; do basename "${ko%.ko}"; done | tr '\n' ' ')"
for ko in $kos; do
	for dep in $(modinfo -F depends "$ko" | tr ',' ' '); do
		case "$ours" in *" $dep "*) ;; *) preload="$preload $dep" ;; esac
	done
done

: > "$stage/ha/preload.order"
if [ -n "$preload" ]; then
	for mod in $preload; do
		modprobe -d "$modroot" -S "$kver" --show-depends "$mod" |
			awk '$1 == "insmod" { print $2 }'
	done | awk '!seen[$0]++' | while read -r path; do
		base=$(basename "$path")
		base=${base%.xz}; base=${base%.zst}; base=${base%.gz}
		case $path in
		*.xz) xz -dc "$path" ;;
		*.zst) zstd -qdc "$path" ;;
		*.gz) gzip -dc "$path" ;;
		*) cat "$path" ;;
		esac > "$stage/ha/mods/$base"
		echo "$base" >> "$stage/ha/preload.order"
	done
fi

: > "$stage/ha/ko.order"
for ko in $kos; do
	cp "$ko" "$stage/ha/ko/"
	basename "$ko" >> "$stage/ha/ko.order"
done
if [ -n "$tests" ]; then
	cp -a "$tests"/. "$stage/ha/tests/"
	for t in $exclude; do rm -f "$stage/ha/tests/$t"; done
fi
[ -n "$script" ] && cp "$script" "$stage/ha/guest-script"

# Dynamically linked programs: each file at its own path, with its libraries.
copy_abs() { # copy_abs FILE [DEST]
	local dst=${2:-$1}

	mkdir -p "$stage$(dirname "$dst")"
	cp -L "$1" "$stage$dst"
}
for spec in $dyn; do
	f=${spec%%:*}
	dst=${spec#*:}
	copy_abs "$f" "$dst"
	if file -L "$f" | grep -q 'ELF.*dynamically linked\|ELF.*shared object'; then
		ldd "$f" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' |
			while read -r lib; do copy_abs "$lib"; done
	fi
done
: > "$stage/ha/env"
for e in $envs; do
	printf 'export %q\n' "$e" >> "$stage/ha/env"
done
echo "$kunit" > "$stage/ha/kunit"
cp "$here/guest-init.sh" "$stage/init"

{
	echo "dir /dev 0755 0 0"
	echo "nod /dev/console 0600 0 0 c 5 1"
	echo "nod /dev/ttyS1 0600 0 0 c 4 65"
	for d in proc sys tmp sbin root etc; do echo "dir /$d 0755 0 0"; done
	(cd "$stage" && find . -mindepth 1 | sort) | while read -r p; do
		p=${p#./}
		if [ -d "$stage/$p" ]; then
			echo "dir /$p 0755 0 0"
		else
			mode=0644
			[ -x "$stage/$p" ] && mode=0755
			echo "file /$p $stage/$p $mode 0 0"
		fi
	done
} > "$out/initramfs.list"
"$gen" "$out/initramfs.list" > "$out/initramfs.cpio"

console=$out/console.log
results=$out/results.log
append="console=ttyS0 panic=-1 loglevel=7 kasan.fault=report"
# The TSC frequency, measured here: a guest kernel that fails to calibrate
# it under TCG on a busy host boots with tsc_khz 0, and KVM in that kernel
# then never enters a guest (Documentation/testing.rst).
cc -O2 -Wall -o "$out/tsc-khz" "$here/tsc-khz.c"
tsc_khz=$("$out/tsc-khz") || { echo "vm[$name]: cannot measure the TSC frequency" >&2; exit 1; }
append="$append tsc_early_khz=$tsc_khz"

echo "vm[$name]: booting $(basename "$kernel") (timeout ${timeout}s)" >&2
start=$(date +%s)
set +e
timeout --foreground "$timeout" qemu-system-x86_64 \
	-accel tcg,thread=single -cpu max -smp 2,sockets=2,cores=1,threads=1 -m "$mem" \
	-nodefaults -no-user-config -display none -no-reboot \
	-kernel "$kernel" -initrd "$out/initramfs.cpio" -append "$append" \
	-serial "file:$console" -serial "file:$results" </dev/null
qrc=$?
set -e
echo "vm[$name]: qemu exited $qrc after $(( $(date +%s) - start )) s" >&2

python3 "$here/parse-results.py" --name "$name" --console "$console" \
	--results "$results" --kunit "$kunit" --qemu-rc "$qrc" \
	--tap "$out/results.tap" && exit 0
echo "vm[$name]: FAILED; guest console log: $console; test output: $results" >&2
exit 1
