#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# usage: demo.sh VMLINUX KVER "MODULES" OUTDIR
# The main job, on a machine that cannot load our modules: boot the kernel
# under QEMU with them and run the demo inside; print what the guest printed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
kernel=$1 kver=$2 kos=$3 out=$4

if [ -e /dev/hyperaether ]; then
	echo "demo: /dev/hyperaether is present on this host; running here"
	exec sh "$here/demo-guest.sh"
fi
echo "demo: no /dev/hyperaether here; booting $(basename "$kernel") under QEMU with our modules"
rc=0
"$here/run.sh" --name demo --kernel "$kernel" --out "$out" --modroot / --kver "$kver" \
	--preload kvm_amd --ko "$kos" --guest-script "$here/demo-guest.sh" \
	--bins "$top/build/bin/hyperaether-static" --timeout 600 || rc=$?
echo "----- guest output -----"
sed -n '/^HA-SCRIPT$/,/^HA-SCRIPT-EXIT/p' "$out/results.log" | sed '1d;$d' | tr -d '\r'
echo "------------------------"
[ $rc = 0 ] && echo "demo: ok" || echo "demo: FAILED (logs in $out)"
exit $rc
