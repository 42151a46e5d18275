# SPDX-License-Identifier: GPL-2.0
# Guest script of `make bench-fabric`: runs inside the QEMU guest that
# bench.mk boots, with hyperaether.ko loaded.
echo "kernel $(uname -r), $(nproc) CPUs"
fabric_bench -t "${HA_BENCH_SECONDS:-1}" -l "measured in a QEMU TCG guest (software CPU emulation): compare ratios, not absolute rates"
