# SPDX-License-Identifier: GPL-2.0
#
# Hyper-Aether top-level Makefile.
#
#   make                 modules (for KDIR) and userspace tools
#   make demo            the main job (boots a kernel under QEMU if needed)
#   make check           every test: userspace, lint, both test kernels
#   make bench           benchmarks, each next to its baseline
#   make deps            install the Debian packages the project needs
#
# KDIR selects the kernel to build modules for.  The default is Debian's
# newest installed linux-headers-6.12*-amd64, never the build host's own
# running kernel: the host is not the target.

SHELL := /bin/bash
TOP := $(CURDIR)
BUILD := $(TOP)/build
RESULTS := $(BUILD)/results
HA_CACHE ?= $(HOME)/.cache/hyperaether
export HA_CACHE

# Newest Debian 6.12 flavour with both headers and an image installed.
STOCK_KVER ?= $(shell for v in $$(ls /usr/src 2>/dev/null | sed -n 's/^linux-headers-\(6\.12.*-amd64\)$$/\1/p' | sort -rV); do \
	[ -r /boot/vmlinuz-$$v ] && { echo $$v; break; }; done)
KDIR ?= /usr/src/linux-headers-$(STOCK_KVER)
STOCK_VMLINUX := $(HA_CACHE)/stock/vmlinux-$(STOCK_KVER)

# The extracted linux-source-6.12 (computed once, on first use).
HA_KSRC = $(eval HA_KSRC := $(shell tools/testing/vm/kernel-source.sh))$(HA_KSRC)
KSFT_DIR = $(HA_KSRC)/tools/testing/selftests

# What the module build needs from the tree, copied per target kernel so
# that builds for different kernels never share object files.
KBUILD_TREE := Kbuild kmod uapi lavm drivers

CC ?= cc
USER_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -I$(TOP)/uapi
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

.PHONY: all modules modules_install clean user user-check lint check demo \
	deps kernel vm-prep vm-debug vm-stock vm-vulkan print-env bench help

all: modules user

help:
	@sed -n '3,12p' Makefile

modules:
	@test -d "$(KDIR)" || { echo "KDIR=$(KDIR) not found: make deps, or pass KDIR=<kernel build dir>"; exit 1; }
	$(MAKE) -C $(KDIR) M=$(TOP) modules

modules_install:
	$(MAKE) -C $(KDIR) M=$(TOP) modules_install

deps:
	tools/deps/install.sh

kernel:
	tools/testing/vm/build-kernel.sh

print-env:
	@echo "HA_KSRC='$(HA_KSRC)'; STOCK_KVER='$(STOCK_KVER)'"

# ---------------------------------------------------------------- userspace

# Userspace tests: every producer writes TAP into $(RESULTS)/<name>.tap;
# included fragments append their targets to USER_CHECKS.
USER_CHECKS := uapi-check userspace-check runner-check

-include lavm/lavm.mk
-include lavm/vulkan/vulkan.mk
include userspace/userspace.mk
-include tools/install/install.mk
-include userspace/bench/bench.mk
-include genclient/genclient.mk
-include userspace/kvm/kvm.mk

ifneq ($(wildcard lavm/lavm.mk),)
USER_CHECKS += lavm-check
endif
ifneq ($(wildcard lavm/vulkan/vulkan.mk),)
USER_CHECKS += lavm-vk-check
endif
ifneq ($(wildcard genclient/genclient.mk),)
USER_CHECKS += genclient-check
endif

user: $(USER_BINS)

user-check:
	@mkdir -p $(RESULTS)
	@rc=0; for t in $(USER_CHECKS); do $(MAKE) --no-print-directory $$t || rc=1; done; exit $$rc

# The test-VM result parser must fail a run for every kind of trouble.
runner-check:
	@mkdir -p $(RESULTS)
	@tools/testing/vm/parse-results-test.sh > $(RESULTS)/runner.tap; ! grep -q '^not ok' $(RESULTS)/runner.tap

# Each uapi header must compile on its own, as C and as C++.
UAPI_HEADERS := $(wildcard uapi/linux/*.h uapi/drm/*.h)
uapi-check:
	@mkdir -p $(RESULTS) $(BUILD)/uapi
	@n=0; rc=0; : > $(RESULTS)/uapi.tap; \
	for h in $(UAPI_HEADERS); do \
		for lang in c c++; do \
			n=$$((n+1)); \
			if printf '#include <%s>\nint main(void) { return 0; }\n' $${h#uapi/} | \
			   $(CC) -x $$lang -Wall -Wextra -Werror -pedantic -I$(TOP)/uapi $$(pkg-config --cflags libdrm) \
			   -o $(BUILD)/uapi/test - >$(BUILD)/uapi/out 2>&1; then \
				echo "ok $$n - uapi/$$h/$$lang" >> $(RESULTS)/uapi.tap; \
			else \
				echo "not ok $$n - uapi/$$h/$$lang" >> $(RESULTS)/uapi.tap; \
				sed 's/^/# /' $(BUILD)/uapi/out >> $(RESULTS)/uapi.tap; rc=1; \
			fi; \
		done; \
	done; exit $$rc

# ---------------------------------------------------------------- kernel side

# $(call kbuild_copy,NAME): fresh copy of the module sources in build/kbuild-NAME
define kbuild_copy
	rm -rf $(BUILD)/kbuild-$(1) && mkdir -p $(BUILD)/kbuild-$(1) && \
	cp -a $(KBUILD_TREE) $(BUILD)/kbuild-$(1)/
endef

# Tracepoint headers are left out: checkpatch cannot parse TRACE_EVENT().
CHECKPATCH_FILES = $(filter-out %_trace.h,$(wildcard kmod/*.[ch] drivers/*/*.[ch] uapi/linux/*.h uapi/drm/*.h))

# W=1 and sparse against the stock headers, and checkpatch --strict: any
# warning fails.  Sparse cannot parse the GCC vector extensions of the
# shared LAVM core (lavm/), so its "error:" lines there are dropped; a real
# compiler error still fails the build itself.
lint:
	@mkdir -p $(RESULTS)
	@$(call kbuild_copy,lint)
	@: > $(RESULTS)/lint.tap; rc=0; \
	if $(MAKE) -s -C $(KDIR) M=$(BUILD)/kbuild-lint W=1 C=1 modules > $(BUILD)/lint-build.log 2>&1 && \
	   ! grep -vE '/lavm/lavm_[a-z]+\.c:[0-9]+:[0-9]+: error:' $(BUILD)/lint-build.log | \
	     grep -E 'warning:|error:|sparse:'; then \
		echo "ok 1 - lint/modules-W1-sparse" >> $(RESULTS)/lint.tap; \
	else \
		echo "not ok 1 - lint/modules-W1-sparse" >> $(RESULTS)/lint.tap; \
		sed 's/^/# /' $(BUILD)/lint-build.log >> $(RESULTS)/lint.tap; rc=1; \
	fi; \
	n=1; for f in $(CHECKPATCH_FILES); do n=$$((n+1)); \
		if $(HA_KSRC)/scripts/checkpatch.pl --strict --no-tree --quiet --show-types \
		   --ignore SPDX_LICENSE_TAG -f $$f > $(BUILD)/checkpatch.out 2>&1; then \
			echo "ok $$n - lint/checkpatch/$$f" >> $(RESULTS)/lint.tap; \
		else \
			echo "not ok $$n - lint/checkpatch/$$f" >> $(RESULTS)/lint.tap; \
			sed 's/^/# /' $(BUILD)/checkpatch.out >> $(RESULTS)/lint.tap; \
			cat $(BUILD)/checkpatch.out; rc=1; \
		fi; \
	done; exit $$rc

kselftests:
	$(MAKE) -C tools/testing/selftests/hyperaether KSFT_DIR=$(KSFT_DIR) \
		OUTPUT=$(BUILD)/kselftest TOP=$(TOP)

$(STOCK_VMLINUX):
	@test -r /boot/vmlinuz-$(STOCK_KVER) || { echo "no /boot/vmlinuz-$(STOCK_KVER): make deps"; exit 1; }
	mkdir -p $(dir $@)
	$(HA_KSRC)/scripts/extract-vmlinux /boot/vmlinuz-$(STOCK_KVER) > $@.tmp && mv $@.tmp $@

# Modules for a test kernel: $(call build_for,NAME,KDIR)
define build_for
	$(call kbuild_copy,$(1))
	$(MAKE) -s -C $(2) M=$(BUILD)/kbuild-$(1) modules
endef

VM_KO = $(addprefix $(BUILD)/kbuild-$(1)/,hyperaether.ko hyperaether_accel.ko $(2))

# The executor kselftest runs the real hyperaether-executor (the static,
# Vulkan-less build: the initramfs has no dynamic loader); it lands in /bin.
VM_BINS = $(if $(wildcard userspace/executor),$(BUILD)/bin/hyperaether-executor-static)

# The debug kernel: KUnit, KASAN, lockdep, kmemleak, UBSAN.
vm-debug: kselftests $(VM_BINS)
	@test -n "$(HA_KBUILD)" || { echo "HA_KBUILD=<debug kernel build dir> required (make kernel)"; exit 1; }
	$(call build_for,debug,$(HA_KBUILD))
	test -f $(HA_KBUILD)/modroot/.done || { \
		$(MAKE) -s -C $(HA_KSRC) O=$(HA_KBUILD) INSTALL_MOD_PATH=$(HA_KBUILD)/modroot \
			INSTALL_MOD_STRIP=1 modules_install && touch $(HA_KBUILD)/modroot/.done; }
	HA_KSRC=$(HA_KSRC) tools/testing/vm/run.sh --name debug \
		--kernel $(HA_KBUILD)/arch/x86/boot/bzImage --out $(BUILD)/vm-debug \
		--modroot $(HA_KBUILD)/modroot --kver $$(cat $(HA_KBUILD)/include/config/kernel.release) \
		--preload kvm_amd --ko "$(call VM_KO,debug,hyperaether_kunit.ko hyperaether_accel_kunit.ko)" \
		--tests $(BUILD)/kselftest --bins "$(VM_BINS)" --kunit \
		--timeout 1200 --mem 3072; \
	rc=$$?; mkdir -p $(RESULTS); cp $(BUILD)/vm-debug/results.tap $(RESULTS)/vm-debug.tap 2>/dev/null; exit $$rc

# Debian's stock kernel, the one users run: kselftests only (no KUnit).
vm-stock: kselftests $(STOCK_VMLINUX) $(VM_BINS)
	$(call build_for,stock,$(KDIR))
	HA_KSRC=$(HA_KSRC) tools/testing/vm/run.sh --name stock \
		--kernel $(STOCK_VMLINUX) --out $(BUILD)/vm-stock \
		--modroot / --kver $(STOCK_KVER) --preload kvm_amd \
		--ko "$(call VM_KO,stock)" --tests $(BUILD)/kselftest --bins "$(VM_BINS)" --timeout 600; \
	rc=$$?; mkdir -p $(RESULTS); cp $(BUILD)/vm-stock/results.tap $(RESULTS)/vm-stock.tap 2>/dev/null; exit $$rc

# The executor with the Vulkan engine on Mesa's lavapipe, in the booted
# stock kernel: the dynamically linked executor goes into the initramfs with
# its libraries, the lavapipe ICD and LLVM (about 140 MB), and the executor
# kselftest runs with HA_EXECUTOR_ENGINE=vulkan.
LVP_ICD := $(wildcard /usr/share/vulkan/icd.d/lvp_icd.x86_64.json)
LVP_LIB := $(if $(LVP_ICD),$(shell sed -n 's/.*"library_path": *"\([^"]*\)".*/\1/p' $(LVP_ICD)))
vm-vulkan: kselftests $(STOCK_VMLINUX) $(BUILD)/bin/hyperaether-executor
	@test -n "$(LVP_ICD)" || { echo "vm-vulkan: no lavapipe ICD: make deps"; exit 1; }
	@# The stock modules vm-stock built, unless a source is newer than them.
	if [ ! -f $(BUILD)/kbuild-stock/hyperaether_accel.ko ] || \
	   [ -n "$$(find $(KBUILD_TREE) -newer $(BUILD)/kbuild-stock/hyperaether_accel.ko -print -quit)" ]; then \
		$(call kbuild_copy,stock) && \
		$(MAKE) -s -C $(KDIR) M=$(BUILD)/kbuild-stock modules; \
	fi
	rm -rf $(BUILD)/vm-vulkan-tests && mkdir -p $(BUILD)/vm-vulkan-tests && \
		cp $(BUILD)/kselftest/accel_executor_test $(BUILD)/vm-vulkan-tests/
	HA_KSRC=$(HA_KSRC) tools/testing/vm/run.sh --name vulkan \
		--kernel $(STOCK_VMLINUX) --out $(BUILD)/vm-vulkan \
		--modroot / --kver $(STOCK_KVER) --ko "$(call VM_KO,stock)" \
		--tests $(BUILD)/vm-vulkan-tests --mem 4096 --timeout 900 \
		--dyn "$(abspath $(BUILD)/bin/hyperaether-executor):/usr/bin/hyperaether-executor $(LVP_ICD) $(LVP_LIB)" \
		--env "HA_EXECUTOR=/usr/bin/hyperaether-executor HA_EXECUTOR_ENGINE=vulkan HA_EXEC_TIMEOUT_MS=300000 HA_JOB_TIMEOUT_MS=600000 VK_DRIVER_FILES=$(LVP_ICD) VK_ICD_FILENAMES=$(LVP_ICD)"; \
	rc=$$?; mkdir -p $(RESULTS); cp $(BUILD)/vm-vulkan/results.tap $(RESULTS)/vm-vulkan.tap 2>/dev/null; exit $$rc

# What the test VMs share, built once before `make check` boots them side
# by side (each vm-* target builds its own modules in its own directory).
vm-prep: kselftests $(VM_BINS) $(STOCK_VMLINUX) $(if $(LVP_ICD),$(BUILD)/bin/hyperaether-executor)

check:
	tools/testing/check.sh

# Benchmarks: each prints its numbers next to a baseline measured in the
# same run.
BENCHES := $(if $(wildcard userspace/bench/bench.mk),bench-fabric bench-accel) bench-daemon \
	   $(if $(wildcard lavm/lavm.mk),lavm-bench) $(if $(wildcard lavm/vulkan/vulkan.mk),lavm-vk-bench) \
	   $(if $(wildcard userspace/kvm/kvm.mk),bench-kvm)
bench:
	@for b in $(BENCHES); do $(MAKE) --no-print-directory $$b || exit 1; done

# The main job: the example specs through the daemon, into the fabric and
# the accel device of the booted stock kernel (tools/testing/vm/demo.sh).
demo: deps
	$(MAKE) --no-print-directory user
	$(MAKE) --no-print-directory $(STOCK_VMLINUX)
	$(call build_for,stock,$(KDIR))
	HA_KSRC=$(HA_KSRC) tools/testing/vm/demo.sh $(STOCK_VMLINUX) $(STOCK_KVER) \
		"$(call VM_KO,stock)" $(BUILD)/demo

clean:
	rm -rf $(BUILD)
	-$(MAKE) -C $(KDIR) M=$(TOP) clean 2>/dev/null
