# SPDX-License-Identifier: GPL-2.0
# Guest script of `make bench-accel`: runs inside the QEMU guest that
# bench.mk boots, with hyperaether.ko and hyperaether_accel.ko loaded.
echo "kernel $(uname -r), $(nproc) CPUs"
accel_bench -t "${HA_BENCH_SECONDS:-2}" -n "${HA_BENCH_INSTANCES:-100000}" -e "${HA_BENCH_EPOCHS:-1000}" \
	-l "measured in a QEMU TCG guest (software CPU emulation): compare ratios, not absolute rates"
