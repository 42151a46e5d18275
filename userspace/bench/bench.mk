# SPDX-License-Identifier: GPL-2.0
# Benchmarks of the fabric.  Included from ../../Makefile.
#
#   make bench-fabric   boot Debian's stock kernel with our module under QEMU
#                       and measure message throughput (ioctl, io_uring, pipe),
#                       VM create/remove rate and the cost of a cap check

FABRIC_BENCH := $(BUILD)/bin/fabric_bench-static
FABRIC_BENCH_OUT := $(BUILD)/bench-fabric

.PHONY: bench-fabric

$(FABRIC_BENCH): userspace/bench/fabric_bench.c userspace/lib/hyperaether.c \
		 $(wildcard userspace/lib/*.h uapi/linux/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) -I$(TOP)/userspace/lib -static -o $@ \
		userspace/bench/fabric_bench.c userspace/lib/hyperaether.c -luring

bench-fabric: $(FABRIC_BENCH) $(STOCK_VMLINUX)
	$(call build_for,stock,$(KDIR))
	@rc=0; HA_KSRC=$(HA_KSRC) tools/testing/vm/run.sh --name bench-fabric \
		--kernel $(STOCK_VMLINUX) --out $(FABRIC_BENCH_OUT) \
		--modroot / --kver $(STOCK_KVER) --preload kvm_amd --ko "$(call VM_KO,stock)" \
		--guest-script userspace/bench/fabric_bench.sh --bins "$(FABRIC_BENCH)" \
		--timeout 600 || rc=$$?; \
	sed -n '/^HA-SCRIPT$$/,/^HA-SCRIPT-EXIT/p' $(FABRIC_BENCH_OUT)/results.log | \
		sed '1d;$$d' | tr -d '\r' | tee $(FABRIC_BENCH_OUT)/table.txt; \
	grep -q '^HA-SCRIPT-EXIT 0' $(FABRIC_BENCH_OUT)/results.log || rc=1; exit $$rc


# make bench-accel: LAVM jobs through the accel driver (small-job latency and
# jobs/s; VM-instructions/s of a large job) next to the userspace epoch
# engine on the same input, in the same guest.
ACCEL_BENCH := $(BUILD)/bin/accel_bench-static
ACCEL_BENCH_OUT := $(BUILD)/bench-accel

.PHONY: bench-accel

$(ACCEL_BENCH): userspace/bench/accel_bench.c userspace/lib/hyperaether_accel.c \
		$(BUILD)/lib/liblavm.a lavm/examples/counting_loop.lasm \
		$(wildcard userspace/lib/*.h uapi/drm/*.h lavm/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) -I$(TOP)/userspace/lib -I$(TOP)/lavm $(shell pkg-config --cflags libdrm) \
		'-DACCEL_BENCH_EXAMPLE="$(TOP)/lavm/examples/counting_loop.lasm"' -static -o $@ \
		userspace/bench/accel_bench.c userspace/lib/hyperaether_accel.c \
		$(BUILD)/lib/liblavm.a -ldrm -ljson-c -lpthread -lm

bench-accel: $(ACCEL_BENCH) $(STOCK_VMLINUX)
	$(call build_for,stock,$(KDIR))
	@rc=0; HA_KSRC=$(HA_KSRC) tools/testing/vm/run.sh --name bench-accel \
		--kernel $(STOCK_VMLINUX) --out $(ACCEL_BENCH_OUT) \
		--modroot / --kver $(STOCK_KVER) --preload kvm_amd \
		--ko "$(call VM_KO,stock)" \
		--guest-script userspace/bench/accel_bench.sh --bins "$(ACCEL_BENCH)" \
		--timeout 600 || rc=$$?; \
	sed -n '/^HA-SCRIPT$$/,/^HA-SCRIPT-EXIT/p' $(ACCEL_BENCH_OUT)/results.log | \
		sed '1d;$$d' | tr -d '\r' | tee $(ACCEL_BENCH_OUT)/table.txt; \
	grep -q '^HA-SCRIPT-EXIT 0' $(ACCEL_BENCH_OUT)/results.log || rc=1; exit $$rc
