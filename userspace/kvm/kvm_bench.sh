# SPDX-License-Identifier: GPL-2.0
# Guest script of `make bench-kvm` (kvm.mk prepends the seed examples and
# lavm's reference JSON for them): runs in the QEMU guest with kvm_amd and
# hyperaether.ko loaded.
echo "kernel $(uname -r), $(nproc) CPUs"
fail=0
for f in /tmp/kvm-ex/*.lasm; do
	e=${f%.lasm}
	if hyperaether-kvm run "$f" --vms 3 --json > "$e.got" && cmp -s "$e.got" "$e.json"; then
		echo "hyperaether-kvm run --json == lavm run --engine ref --json: $(basename $e)"
	else
		echo "DIFFERS from lavm run --engine ref --json: $(basename $e)"; fail=1
	fi
done
kvm_bench -n "${HA_BENCH_RUNS:-20}" -c "${HA_BENCH_CALLS:-20000}" \
	-l "(measured in a QEMU TCG guest: nested SVM under software CPU emulation; compare ratios, not absolute times)" || fail=1
exit $fail
