# SPDX-License-Identifier: GPL-2.0
# userspace/kvm/: fabric VMs atop KVM.  Included from ../../Makefile (and
# from the kselftest Makefile, which sets BUILD and TOP).
#
#   $(BUILD)/kvm/guest_lavm.bin    the freestanding LAVM guest, a flat image
#   $(BUILD)/bin/hyperaether-kvm   the monitor's command (dynamic and -static)
#   kvm-check                      host checks (no /dev/kvm needed)
#   bench-kvm                      creation-to-first-instruction and hypercall
#                                  round trip, in the booted stock kernel (TCG)

KVM_DIR := userspace/kvm
KVM_OUT := $(BUILD)/kvm
KVM_GUEST_CORE := lavm/lavm_isa.c lavm/lavm_bundle.c lavm/lavm_matrix.c \
	lavm/lavm_verify.c lavm/lavm_math.c lavm/lavm_interp.c
# The lavm core as the kernel builds it, but for a bare long-mode guest:
# SSE2 only (the monitor enables it in CR0/CR4), no red zone (no IDT, but
# hypercalls and future interrupts must not clobber it), no PIC.
KVM_GUEST_CFLAGS := -std=gnu11 -ffp-contract=off -fno-math-errno -fno-strict-aliasing \
	-Wall -Wextra -Werror -O2 -march=x86-64 -mtune=generic -ffreestanding -nostdlib \
	-fno-builtin -mno-red-zone -fno-pic -fno-pie -mcmodel=small -fno-stack-protector \
	-fcf-protection=none -fno-asynchronous-unwind-tables -ffunction-sections -fdata-sections \
	-I$(TOP)/lavm -I$(TOP)/$(KVM_DIR)
KVM_GUEST_OBJS := $(patsubst lavm/%.c,$(KVM_OUT)/guest/%.o,$(KVM_GUEST_CORE)) \
	$(KVM_OUT)/guest/guest_lavm.o $(KVM_OUT)/guest/guest_entry.o

$(KVM_OUT)/guest/%.o: $(TOP)/lavm/%.c $(wildcard $(TOP)/lavm/*.h)
	@mkdir -p $(@D)
	$(CC) $(KVM_GUEST_CFLAGS) -c $< -o $@
$(KVM_OUT)/guest/guest_lavm.o: $(TOP)/$(KVM_DIR)/guest/guest_lavm.c $(TOP)/$(KVM_DIR)/kvm_abi.h \
		$(wildcard $(TOP)/lavm/*.h)
	@mkdir -p $(@D)
	$(CC) $(KVM_GUEST_CFLAGS) -c $< -o $@
$(KVM_OUT)/guest/guest_entry.o: $(TOP)/$(KVM_DIR)/guest/guest_entry.S
	@mkdir -p $(@D)
	$(CC) -c $< -o $@

# Link at HAKVM_IMAGE_GPA; nothing may stay undefined (no libc, no libgcc).
$(KVM_OUT)/guest_lavm.elf: $(KVM_GUEST_OBJS) $(TOP)/$(KVM_DIR)/guest/guest.ld
	ld -nostdlib -static -z noexecstack --gc-sections --no-undefined \
		-T $(TOP)/$(KVM_DIR)/guest/guest.ld -o $@ $(KVM_GUEST_OBJS)
$(KVM_OUT)/guest_lavm.bin: $(KVM_OUT)/guest_lavm.elf
	objcopy -O binary $< $@
# The image as an object the monitor links (hakvm_guest_lavm_start/_end).
$(KVM_OUT)/guest_image.o: $(TOP)/$(KVM_DIR)/guest/guest_image.S $(KVM_OUT)/guest_lavm.bin
	$(CC) -c '-DGUEST_BIN="$(KVM_OUT)/guest_lavm.bin"' $< -o $@

# The monitor: a library (kvm_monitor.c) that the command, the kselftest
# and the benchmark link, with the lavm core and libhyperaether.
KVM_MON_SRCS := $(KVM_DIR)/kvm_monitor.c
KVM_MON_HDRS := $(KVM_DIR)/kvm_monitor.h $(KVM_DIR)/kvm_abi.h
KVM_MON_DEPS := $(addprefix $(TOP)/,$(KVM_MON_SRCS) $(KVM_MON_HDRS)) $(KVM_OUT)/guest_image.o
KVM_MON_LINK := $(addprefix $(TOP)/,$(KVM_MON_SRCS)) $(KVM_OUT)/guest_image.o
KVM_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -ffp-contract=off \
	-fno-math-errno -fno-strict-aliasing -I$(TOP)/uapi -I$(TOP)/userspace/lib -I$(TOP)/lavm \
	-I$(TOP)/$(KVM_DIR)

$(BUILD)/bin/hyperaether-kvm: $(TOP)/$(KVM_DIR)/kvm_cli.c $(KVM_MON_DEPS) $(BUILD)/lib/liblavm.a \
		$(TOP)/userspace/lib/hyperaether.c
	@mkdir -p $(@D)
	$(CC) $(KVM_CFLAGS) -o $@ $< $(KVM_MON_LINK) $(TOP)/userspace/lib/hyperaether.c \
		$(BUILD)/lib/liblavm.a -luring -ljson-c -lpthread -lm
$(BUILD)/bin/hyperaether-kvm-static: $(TOP)/$(KVM_DIR)/kvm_cli.c $(KVM_MON_DEPS) \
		$(BUILD)/lib/liblavm.a $(TOP)/userspace/lib/hyperaether.c
	@mkdir -p $(@D)
	$(CC) $(KVM_CFLAGS) -static -o $@ $< $(KVM_MON_LINK) $(TOP)/userspace/lib/hyperaether.c \
		$(BUILD)/lib/liblavm.a -luring -ljson-c -lpthread -lm

USER_BINS += $(BUILD)/bin/hyperaether-kvm
.PHONY: kvm kvm-check bench-kvm
kvm: $(BUILD)/bin/hyperaether-kvm $(BUILD)/bin/hyperaether-kvm-static

# make bench-kvm: kvm_bench in the booted stock kernel (nested SVM under TCG),
# and hyperaether-kvm run --json against lavm run --engine ref --json on the
# seed examples (expected files made here on the host).
KVM_BENCH := $(BUILD)/bin/kvm_bench-static
KVM_BENCH_OUT := $(BUILD)/bench-kvm
KVM_EXAMPLES := counting_loop function_call jump_table nested_loops add_matrix yield

$(KVM_BENCH): $(TOP)/$(KVM_DIR)/kvm_bench.c $(KVM_MON_DEPS) $(BUILD)/lib/liblavm.a \
		$(TOP)/userspace/lib/hyperaether.c
	@mkdir -p $(@D)
	$(CC) $(KVM_CFLAGS) -static -o $@ $< $(KVM_MON_LINK) $(TOP)/userspace/lib/hyperaether.c \
		$(BUILD)/lib/liblavm.a -luring -ljson-c -lpthread -lm

# The guest script, with the examples and lavm's JSON for them inlined.
$(KVM_OUT)/bench-guest.sh: $(TOP)/$(KVM_DIR)/kvm_bench.sh $(BUILD)/bin/lavm \
		$(wildcard $(TOP)/lavm/examples/*.lasm)
	@mkdir -p $(@D)
	{ echo 'mkdir -p /tmp/kvm-ex'; \
	  for e in $(KVM_EXAMPLES); do \
	    printf "cat > /tmp/kvm-ex/$$e.lasm <<'EOF_LASM'\n"; cat $(TOP)/lavm/examples/$$e.lasm; echo EOF_LASM; \
	    printf "cat > /tmp/kvm-ex/$$e.json <<'EOF_JSON'\n"; \
	    $(BUILD)/bin/lavm run $(TOP)/lavm/examples/$$e.lasm --vms 3 --engine ref --json || exit 1; \
	    echo EOF_JSON; \
	  done; cat $(TOP)/$(KVM_DIR)/kvm_bench.sh; } > $@

bench-kvm: $(KVM_BENCH) $(BUILD)/bin/hyperaether-kvm-static $(KVM_OUT)/bench-guest.sh $(STOCK_VMLINUX)
	$(call build_for,stock,$(KDIR))
	@rc=0; HA_KSRC=$(HA_KSRC) tools/testing/vm/run.sh --name bench-kvm \
		--kernel $(STOCK_VMLINUX) --out $(KVM_BENCH_OUT) \
		--modroot / --kver $(STOCK_KVER) --preload kvm_amd --ko "$(call VM_KO,stock)" \
		--guest-script $(KVM_OUT)/bench-guest.sh \
		--bins "$(KVM_BENCH) $(BUILD)/bin/hyperaether-kvm-static" --timeout 600 || rc=$$?; \
	sed -n '/^HA-SCRIPT$$/,/^HA-SCRIPT-EXIT/p' $(KVM_BENCH_OUT)/results.log | \
		sed '1d;$$d' | tr -d '\r' | tee $(KVM_BENCH_OUT)/table.txt; \
	grep -q '^HA-SCRIPT-EXIT 0' $(KVM_BENCH_OUT)/results.log || rc=1; exit $$rc

USER_CHECKS += kvm-check
kvm-check: $(BUILD)/bin/hyperaether-kvm $(BUILD)/bin/lavm $(KVM_OUT)/guest_lavm.bin
	@mkdir -p $(RESULTS)
	@$(TOP)/$(KVM_DIR)/kvm_check.sh $(BUILD) $(TOP) > $(RESULTS)/kvm.tap; rc=$$?; \
	grep -E '^not ok|SKIP' $(RESULTS)/kvm.tap; exit $$rc
