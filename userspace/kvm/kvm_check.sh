#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# make kvm-check: host checks of userspace/kvm, as TAP.  The guest image is
# linked freestanding and fits; the command's exit statuses and messages;
# where /dev/kvm exists, hyperaether-kvm run --anon --json prints what
# lavm run --engine ref --json prints for every seed example.  The guests
# themselves are tested in the booted stock kernel (kvm_lavm_test).
#
# usage: kvm_check.sh BUILD TOP
BUILD=$1 TOP=$2
KVM=$BUILD/bin/hyperaether-kvm LAVM=$BUILD/bin/lavm
n=0 rc=0
t() {	# t NAME COMMAND...: one TAP line
	name=$1; shift
	n=$((n + 1))
	if "$@" > "$BUILD/kvm/check.out" 2>&1; then
		echo "ok $n - kvm/$name"
	else
		echo "not ok $n - kvm/$name"; sed 's/^/# /' "$BUILD/kvm/check.out"; rc=1
	fi
}
image_fits() {
	size=$(stat -c %s "$BUILD/kvm/guest_lavm.bin")
	echo "guest image: $size bytes"
	[ "$size" -gt 0 ] && [ "$size" -le 1048576 ]
}
image_entry() {	# the first instruction is the START hypercall's xor %eax, %eax
	[ "$(od -An -tx1 -N2 "$BUILD/kvm/guest_lavm.bin" | tr -d ' ')" = 31c0 ]
}
freestanding() {	# no object of the guest needs a symbol from outside the image
	nm -u "$BUILD"/kvm/guest/*.o | grep -v -E '^$|:$| U (lavm_|memset$|memcpy$|guest_main$)' && return 1
	return 0
}
usage_is_2() { "$KVM" > /dev/null 2>&1; [ $? = 2 ]; }
bad_file_is_1() {
	printf 'ADD r0, r0, 1\nHALT\n' > "$BUILD/kvm/bad.lasm"
	"$KVM" run "$BUILD/kvm/bad.lasm" --anon 2> "$BUILD/kvm/bad.err"; s=$?
	cat "$BUILD/kvm/bad.err"
	[ $s = 1 ] && grep -q 'bad.lasm:1:.*error' "$BUILD/kvm/bad.err"
}
no_kvm_says_so() {
	"$KVM" run "$TOP/lavm/examples/yield.lasm" --anon 2> "$BUILD/kvm/nokvm.err"; s=$?
	cat "$BUILD/kvm/nokvm.err"
	[ $s = 1 ] && grep -q 'no /dev/kvm' "$BUILD/kvm/nokvm.err"
}
same_json() {
	"$LAVM" run "$1" --vms 3 --engine ref --json > "$BUILD/kvm/want.json" &&
	"$KVM" run "$1" --vms 3 --anon --json > "$BUILD/kvm/got.json" &&
	cmp "$BUILD/kvm/got.json" "$BUILD/kvm/want.json"
}

t guest-image-fits image_fits
t guest-image-entry image_entry
t guest-freestanding freestanding
t cli-usage-exit-2 usage_is_2
t cli-bad-program-exit-1 bad_file_is_1
if [ -w /dev/kvm ]; then
	for f in "$TOP"/lavm/examples/*.lasm; do
		t "json-as-lavm-ref/$(basename "$f" .lasm)" same_json "$f"
	done
else
	t cli-without-dev-kvm no_kvm_says_so
	n=$((n + 1)); echo "ok $n - kvm/json-as-lavm-ref # SKIP no /dev/kvm here (kvm_lavm_test and bench-kvm run the guests in the stock kernel)"
fi
echo "1..$n"
exit $rc
