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

.PHONY: kvm kvm-check bench-kvm
kvm: $(BUILD)/bin/hyperaether-kvm $(BUILD)/bin/hyperaether-kvm-static
