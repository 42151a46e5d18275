#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# usage: demo.sh VMLINUX KVER "MODULES" OUTDIR
# The main job: hyperaetherd runs the example specs (genclient/examples/)
# through the fabric and the accel device, and the results are printed.
# Where this host has /dev/hyperaether and an accel device it runs here;
# otherwise it boots the kernel under QEMU with our modules and runs inside,
# printing what the guest printed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
kernel=$1 kver=$2 kos=$3 out=$4
mkdir -p "$out"
out=$(cd "$out" && pwd)
bin=$(dirname "$out")/bin
specs="$top/genclient/examples"

if [ -e /dev/hyperaether ] && ls /dev/accel/accel* >/dev/null 2>&1; then
	echo "demo: /dev/hyperaether and /dev/accel are present on this host; running here"
	PATH="$bin:$PATH" HA_DEMO_SPECS=$specs HA_DEMO_TMP=$out exec sh "$here/demo-guest.sh"
fi
echo "demo: no /dev/hyperaether here; booting $(basename "$kernel") under QEMU with our modules"

# The initramfs has no repository: the specs travel inside the guest script.
script=$out/demo-script.sh
{
	echo "#!/bin/sh"
	echo "mkdir -p /tmp/specs"
	for f in "$specs"/*.json; do
		echo "cat > /tmp/specs/$(basename "$f") <<'HA_SPEC_EOF'"
		cat "$f"
		echo "HA_SPEC_EOF"
	done
	echo "HA_DEMO_SPECS=/tmp/specs HA_DEMO_TMP=/tmp; export HA_DEMO_SPECS HA_DEMO_TMP"
	sed 1d "$here/demo-guest.sh"
} > "$script"

rc=0
"$here/run.sh" --name demo --kernel "$kernel" --out "$out/vm" --modroot / --kver "$kver" \
	--preload kvm_amd --ko "$kos" --guest-script "$script" \
	--bins "$bin/hyperaether-static $bin/hyperaetherd-static" --timeout 600 || rc=$?
echo "----- guest output -----"
sed -n '/^HA-SCRIPT$/,/^HA-SCRIPT-EXIT/p' "$out/vm/results.log" | sed '1d;$d' | tr -d '\r'
echo "------------------------"
grep -q '^HA-SCRIPT-EXIT 0' "$out/vm/results.log" || rc=1
[ $rc = 0 ] && echo "demo: ok" || echo "demo: FAILED (logs in $out/vm)"
exit $rc
