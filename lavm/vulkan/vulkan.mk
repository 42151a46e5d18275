# SPDX-License-Identifier: GPL-2.0
#
# lavm/vulkan/: LAVM on Vulkan compute.  Included by the top-level Makefile
# after lavm/lavm.mk (whose variables and libraries it uses).
#
#   lavm            $(BUILD)/bin/lavm gets --engine vulkan and `lavm devices`
#   lavm-vk-check   examples + differential test against the reference, on
#                   lavapipe (LAVM_VK_ICD; empty: the loader's choice), TAP in
#                   $(RESULTS)/lavm-vk.tap; SKIPs (never passes) without a device
#   lavm-vk-bench   VM-instr/s of the Vulkan engine next to the CPU engines

LAVM_VK_DIR := $(TOP)/lavm/vulkan
LAVM_VK_OUT := $(BUILD)/lavm/vulkan
LAVM_VK_LIBS := -lvulkan
GLSLANG ?= glslangValidator
SPIRV_VAL ?= spirv-val
# lavapipe: CI runs the engine on the CPU driver unless told otherwise
LAVM_VK_ICD ?= $(wildcard /usr/share/vulkan/icd.d/lvp_icd.x86_64.json)
LAVM_VK_ENV := $(if $(LAVM_VK_ICD),VK_DRIVER_FILES=$(LAVM_VK_ICD) VK_ICD_FILENAMES=$(LAVM_VK_ICD))

LAVM_VK_SHADERS := lavm_vk_run lavm_vk_commit
LAVM_VK_GLSL := $(wildcard $(LAVM_VK_DIR)/*.glsl)
LAVM_VK_SPV_HDRS := $(patsubst %,$(LAVM_VK_OUT)/%.spv.h,$(LAVM_VK_SHADERS))

# SPIR-V embedded as uint32_t arrays, validated for Vulkan 1.2
$(LAVM_VK_OUT)/%.spv.h: $(LAVM_VK_DIR)/%.comp $(LAVM_VK_GLSL)
	@mkdir -p $(@D)
	$(GLSLANG) -V --target-env vulkan1.2 -o $(LAVM_VK_OUT)/$*.spv $<
	$(SPIRV_VAL) --target-env vulkan1.2 $(LAVM_VK_OUT)/$*.spv
	$(GLSLANG) -V --target-env vulkan1.2 --vn $*_spv -o $@ $<

LAVM_VK_CFLAGS = $(LAVM_CFLAGS) -I$(LAVM_VK_DIR) -I$(LAVM_VK_OUT)
LAVM_VK_HDRS := $(LAVM_VK_DIR)/lavm_vk.h $(LAVM_HDRS) $(LAVM_VK_SPV_HDRS)

$(LAVM_VK_OUT)/opt/%.o: $(LAVM_VK_DIR)/%.c $(LAVM_VK_HDRS)
	@mkdir -p $(@D)
	$(LAVM_CC) $(LAVM_VK_CFLAGS) -c $< -o $@
# The test: UBSan only.  ASan would intercept the driver's allocations too
# (lavapipe runs in the process) and make the check ten times slower.
LAVM_VK_SAN := -fsanitize=undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
$(LAVM_VK_OUT)/san/%.o: $(LAVM_VK_DIR)/%.c $(LAVM_VK_HDRS)
	@mkdir -p $(@D)
	$(LAVM_CC) $(LAVM_VK_CFLAGS) $(LAVM_VK_SAN) -c $< -o $@

# lavm run --engine vulkan: the CLI of lavm.mk, compiled with
# LAVM_CLI_VULKAN and linked with the engine (lavm-check's sanitised CLI
# stays without it).
$(LAVM_OUT)/opt/lavm_cli.o: LAVM_CFLAGS += -DLAVM_CLI_VULKAN
$(LAVM_OUT)/opt/lavm_cli.o: $(LAVM_VK_DIR)/lavm_vk.h $(LAVM_VK_DIR)/vulkan.mk
$(BUILD)/bin/lavm: $(LAVM_VK_OUT)/opt/lavm_vk.o
# the engine comes after liblavm.a on the link line: the archive once more
$(BUILD)/bin/lavm: LAVM_LIBS := $(BUILD)/lib/liblavm.a $(LAVM_LIBS) $(LAVM_VK_LIBS)

$(LAVM_VK_OUT)/san/lavm_vk_test: $(LAVM_VK_DIR)/tests/lavm_vk_test.c $(LAVM_VK_OUT)/san/lavm_vk.o \
		$(BUILD)/lib/liblavm.a $(LAVM_VK_HDRS)
	$(LAVM_CC) $(LAVM_VK_CFLAGS) $(LAVM_VK_SAN) -o $@ $< $(LAVM_VK_OUT)/san/lavm_vk.o \
		$(BUILD)/lib/liblavm.a $(LAVM_LIBS) $(LAVM_VK_LIBS)

$(LAVM_VK_OUT)/opt/lavm_vk_bench: $(LAVM_VK_DIR)/bench/lavm_vk_bench.c $(LAVM_VK_OUT)/opt/lavm_vk.o \
		$(BUILD)/lib/liblavm.a $(LAVM_VK_HDRS)
	$(LAVM_CC) $(LAVM_VK_CFLAGS) -o $@ $< $(LAVM_VK_OUT)/opt/lavm_vk.o \
		$(BUILD)/lib/liblavm.a $(LAVM_LIBS) $(LAVM_VK_LIBS)

.PHONY: lavm-vk-check lavm-vk-bench

# LAVM_VK_PROGRAMS random programs, each on 1, 7, 300 and 1000 VMs.
LAVM_VK_PROGRAMS ?= 2000
lavm-vk-check: $(LAVM_VK_OUT)/san/lavm_vk_test $(BUILD)/bin/lavm
	@mkdir -p $(RESULTS)
	@cd $(TOP) && rc=0; \
	$(LAVM_VK_ENV) LAVM_VK_PROGRAMS=$(LAVM_VK_PROGRAMS) \
	  LAVM_VK_CLI=$(BUILD)/bin/lavm $(LAVM_VK_OUT)/san/lavm_vk_test \
	  > $(RESULTS)/lavm-vk.tap 2>$(LAVM_VK_OUT)/lavm_vk_test.log || rc=1; \
	if grep -q '^not ok' $(RESULTS)/lavm-vk.tap; then rc=1; fi; \
	if grep -q '# SKIP' $(RESULTS)/lavm-vk.tap; then \
	  echo "lavm-vk-check: SKIP: $$(sed -n 's/.*# SKIP //p' $(RESULTS)/lavm-vk.tap | head -1)"; \
	else \
	  echo "lavm-vk-check: $$(grep -c '^ok' $(RESULTS)/lavm-vk.tap) ok, $$(grep -c '^not ok' $(RESULTS)/lavm-vk.tap) not ok ($(RESULTS)/lavm-vk.tap)"; \
	fi; \
	[ $$rc = 0 ] || tail -20 $(LAVM_VK_OUT)/lavm_vk_test.log; exit $$rc

LAVM_VK_BENCH_ARGS ?=
# Part of `make bench`: a mismatch fails it, no Vulkan device (exit 3) is a SKIP line.
lavm-vk-bench: $(LAVM_VK_OUT)/opt/lavm_vk_bench
	@mkdir -p $(RESULTS)
	set -o pipefail; cd $(TOP) && $(LAVM_VK_ENV) $(LAVM_VK_OUT)/opt/lavm_vk_bench $(LAVM_VK_BENCH_ARGS) | \
		tee $(RESULTS)/lavm-vk-bench.txt; rc=$$?; [ $$rc = 0 ] || [ $$rc = 3 ]
