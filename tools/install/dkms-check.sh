#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make dkms-check`: what `dkms add/build/install` does on a user's Debian
# machine, against Debian's 6.12 headers (-k KVER), in a scratch DKMS tree
# so the host's /usr/src and /var/lib/dkms stay untouched.  Modules are
# signed with a throwaway key, as DKMS signs them with its MOK key.
# Environment: KDIR, KVER, BUILD, MODULES.  TAP on stdout.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
: "${KDIR:?}" "${KVER:?}" "${BUILD:?}" "${MODULES:?}"

n=0
work=
out=$(mktemp)
pass() { n=$((n + 1)); echo "ok $n - dkms/$1"; }
fail() { n=$((n + 1)); echo "not ok $n - dkms/$1"; sed 's/^/# /' "$out"; }
t() { local name=$1; shift; if "$@" > "$out" 2>&1; then pass "$name"; else fail "$name"; fi; }

if ! command -v dkms > /dev/null; then
	echo "not ok 1 - dkms/installed # dkms missing: make deps"
	echo "1..1"
	exit 1
fi
ver=$(cat VERSION)
mkdir -p "$BUILD"
work=$(mktemp -d "$BUILD/dkms-check.XXXXXX")
tree=(--sourcetree "$work/src" --dkmstree "$work/dkms" --installtree "$work/modules")
cleanup() {
	dkms remove -m hyperaether -v "$ver" --all --no-depmod "${tree[@]}" > /dev/null 2>&1
	rm -rf "$work" "$out"
}
trap cleanup EXIT
mkdir -p "$work/dkms" "$work/modules/$KVER"
# The signing key and certificate DKMS would create in /var/lib/dkms.
export mok_signing_key=$work/mok.key mok_certificate=$work/mok.pub

t conf-autoinstall grep -qx 'AUTOINSTALL="yes"' dkms.conf
# The kernel to build for comes from dkms (-k, --kernelsourcedir), never the host's.
t conf-no-running-kernel bash -c "! grep -nE 'uname|/lib/modules|/usr/src/linux' dkms.conf"
t conf-version bash -c "[ \"\$(bash -c '. ./dkms.conf; echo \$PACKAGE_VERSION')\" = '$ver' ]"
t source-tree tools/install/dkms-src.sh "$work/src/hyperaether-$ver"
empty_src=$(find "$work/src" -name '*.o' -o -name '*.ko' -o -name '.*.cmd' | head -3)
t source-tree-clean test -z "$empty_src"
t add dkms add -m hyperaether -v "$ver" "${tree[@]}"
t build dkms build -m hyperaether -v "$ver" -k "$KVER" --kernelsourcedir "$KDIR" -j 2 "${tree[@]}"
log=$work/dkms/hyperaether/$ver/build/make.log
for m in $MODULES; do
	ko=$(find "$work/dkms/hyperaether/$ver/$KVER" -name "$m.ko*" -path '*/module/*' | head -1)
	: > "$out"
	[ -z "$ko" ] && [ -f "$log" ] && tail -30 "$log" > "$out"
	t "$m/built" test -n "$ko"
	t "$m/vermagic" bash -c "modinfo -F vermagic '$ko' | grep -q '^$KVER '"
	t "$m/signed" bash -c "[ \"\$(modinfo -F signer '$ko')\" = 'DKMS module signing key' ]"
done
t status-built bash -c "dkms status -m hyperaether -v '$ver' -k '$KVER' ${tree[*]} 2>/dev/null | \
	grep -q ': built\$'"
if [ "$(id -u)" = 0 ]; then
	t install dkms install -m hyperaether -v "$ver" -k "$KVER" --kernelsourcedir "$KDIR" \
		--no-depmod "${tree[@]}"
	for m in $MODULES; do
		t "$m/installed-in-updates" bash -c "ls '$work/modules/$KVER/updates/dkms/$m.ko'* >/dev/null"
	done
else
	n=$((n + 1)); echo "ok $n - dkms/install # SKIP dkms install needs root"
fi
t remove dkms remove -m hyperaether -v "$ver" --all --no-depmod "${tree[@]}"
t remove-leaves-no-modules test -z "$(find "$work/modules" "$work/dkms" -name '*.ko*')"
echo "1..$n"
