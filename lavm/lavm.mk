# SPDX-License-Identifier: GPL-2.0
#
# lavm/: the linear-algebra VM.  Included by the top-level Makefile; also
# works alone:  make -f lavm/lavm.mk lavm-check
#
#   lavm         $(BUILD)/bin/lavm and $(BUILD)/lib/liblavm.a
#   lavm-check   unit, example, differential tests (ASan+UBSan) + short fuzz
#   lavm-bench   the benchmark table (engines side by side with LuaJIT)
#   lavm-fuzz    long libFuzzer run (LAVM_FUZZ_SECONDS per target)

TOP ?= $(CURDIR)
BUILD ?= $(TOP)/build
RESULTS ?= $(BUILD)/results

LAVM_DIR := $(TOP)/lavm
LAVM_OUT := $(BUILD)/lavm

# The freestanding core, compiled unchanged into the kernel (Kbuild) too.
# It needs -fno-math-errno (sqrt inline) and -ffp-contract=off (no FMA
# contraction: results must be bit-identical everywhere).
LAVM_CORE_SRCS := lavm/lavm_isa.c lavm/lavm_bundle.c lavm/lavm_matrix.c \
	lavm/lavm_verify.c lavm/lavm_math.c lavm/lavm_interp.c lavm/lavm_epoch.c
LAVM_CORE_CFLAGS := -std=gnu11 -ffp-contract=off -fno-math-errno -fno-strict-aliasing
# Userspace-only parts: assembler, loader, JSON, threaded engine driver.
LAVM_USER_SRCS := lavm/lavm_asm.c lavm/lavm_engine.c lavm/lavm_json.c

LAVM_CC ?= gcc
LAVM_CLANG ?= clang
LAVM_WARN := -Wall -Wextra -Werror
LAVM_OPT ?= -O3 -g
LAVM_CFLAGS := $(LAVM_CORE_CFLAGS) $(LAVM_WARN) $(LAVM_OPT) -I$(LAVM_DIR)
LAVM_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# The sanitised build (tests) at -O2, as the kernel builds the core: GCC
# needs 50 s for the AVX-512 epoch engine at -O3 with ASan, 6 s at -O2.
LAVM_SAN_OPT ?= -O2 -g
LAVM_SAN_CFLAGS := $(LAVM_CORE_CFLAGS) $(LAVM_WARN) $(LAVM_SAN_OPT) -I$(LAVM_DIR) $(LAVM_SAN)
LAVM_LIBS := -ljson-c -lpthread -lm

# The epoch engine again, for wider vectors, picked at run time.
LAVM_VARIANTS := avx2 avx512
LAVM_FLAGS_avx2 := -mavx2
LAVM_FLAGS_avx512 := -mavx512f -mavx512vl -mavx512bw -mavx512dq

lavm_objs = $(patsubst lavm/%.c,$(LAVM_OUT)/$(1)/%.o,$(LAVM_CORE_SRCS) $(LAVM_USER_SRCS)) \
	$(foreach v,$(LAVM_VARIANTS),$(LAVM_OUT)/$(1)/lavm_epoch_$(v).o)

LAVM_HDRS := $(wildcard $(LAVM_DIR)/*.h)

# Two flavours: opt (the CLI, the library, the benchmark) and san (tests).
$(LAVM_OUT)/opt/%.o: $(LAVM_DIR)/%.c $(LAVM_HDRS)
	@mkdir -p $(@D)
	$(LAVM_CC) $(LAVM_CFLAGS) -c $< -o $@
$(LAVM_OUT)/san/%.o: $(LAVM_DIR)/%.c $(LAVM_HDRS)
	@mkdir -p $(@D)
	$(LAVM_CC) $(LAVM_SAN_CFLAGS) -c $< -o $@
define lavm_variant_rule
$(LAVM_OUT)/opt/lavm_epoch_$(1).o: $(LAVM_DIR)/lavm_epoch.c $(LAVM_HDRS)
	@mkdir -p $$(@D)
	$(LAVM_CC) $(LAVM_CFLAGS) $(LAVM_FLAGS_$(1)) '-DLAVM_EPOCH_NAME(x)=x##_$(1)' -c $$< -o $$@
$(LAVM_OUT)/san/lavm_epoch_$(1).o: $(LAVM_DIR)/lavm_epoch.c $(LAVM_HDRS)
	@mkdir -p $$(@D)
	$(LAVM_CC) $(LAVM_SAN_CFLAGS) $(LAVM_FLAGS_$(1)) '-DLAVM_EPOCH_NAME(x)=x##_$(1)' -c $$< -o $$@
endef
$(foreach v,$(LAVM_VARIANTS),$(eval $(call lavm_variant_rule,$(v))))

$(BUILD)/lib/liblavm.a: $(call lavm_objs,opt)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^
$(LAVM_OUT)/san/liblavm.a: $(call lavm_objs,san)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/bin/lavm: $(LAVM_OUT)/opt/lavm_cli.o $(BUILD)/lib/liblavm.a
	@mkdir -p $(@D)
	$(LAVM_CC) $(LAVM_OPT) -o $@ $^ $(LAVM_LIBS)
$(LAVM_OUT)/san/lavm: $(LAVM_OUT)/san/lavm_cli.o $(LAVM_OUT)/san/liblavm.a
	$(LAVM_CC) $(LAVM_SAN) -o $@ $^ $(LAVM_LIBS)

# Freestanding check: the core compiles with no libc headers at all.
$(LAVM_OUT)/freestanding.stamp: $(addprefix $(TOP)/,$(LAVM_CORE_SRCS)) $(LAVM_HDRS)
	@mkdir -p $(LAVM_OUT)/freestanding
	for f in $(LAVM_CORE_SRCS); do \
	  $(LAVM_CC) $(LAVM_CORE_CFLAGS) $(LAVM_WARN) -O2 -ffreestanding -nostdlib -fno-builtin \
	    -mno-red-zone -mcmodel=kernel -fno-pic -Wframe-larger-than=1024 \
	    -c $(TOP)/$$f -o $(LAVM_OUT)/freestanding/$$(basename $$f .c).o || exit 1; \
	done
	@for o in $(LAVM_OUT)/freestanding/*.o; do \
	  u=$$(nm -u $$o | awk '{print $$2}' | grep -v -E '^(lavm_|memset$$|memcpy$$)'); \
	  if [ -n "$$u" ]; then echo "$$o: needs $$u"; exit 1; fi; done
	@touch $@

LAVM_TESTS := lavm_unit_test lavm_asm_test lavm_verify_test lavm_math_test \
	lavm_example_test lavm_diff_test
LAVM_TEST_BINS := $(addprefix $(LAVM_OUT)/san/tests/,$(LAVM_TESTS))

$(LAVM_OUT)/san/tests/%: $(LAVM_DIR)/tests/%.c $(LAVM_DIR)/tests/lavm_tap.h $(LAVM_DIR)/tests/tap.h $(LAVM_OUT)/san/liblavm.a
	@mkdir -p $(@D)
	$(LAVM_CC) $(LAVM_SAN_CFLAGS) -Wno-missing-field-initializers -o $@ $< $(LAVM_OUT)/san/liblavm.a $(LAVM_LIBS)

# libFuzzer targets (clang): assembler, bundle loader, verifier + reference run.
# The core and the assembler are compiled once for all three.
LAVM_FUZZERS := fuzz_asm fuzz_bundle fuzz_verify
LAVM_FUZZ_BINS := $(addprefix $(LAVM_OUT)/fuzz/,$(LAVM_FUZZERS))
LAVM_FUZZ_LIBSRCS := $(LAVM_CORE_SRCS) lavm/lavm_asm.c
LAVM_FUZZ_OBJS := $(patsubst lavm/%.c,$(LAVM_OUT)/fuzz/obj/%.o,$(LAVM_FUZZ_LIBSRCS))
LAVM_FUZZ_CFLAGS := $(LAVM_CORE_CFLAGS) $(LAVM_WARN) -O1 -g -fno-sanitize-recover=all -I$(LAVM_DIR)
.SECONDARY: $(LAVM_FUZZ_OBJS)
$(LAVM_OUT)/fuzz/obj/%.o: $(LAVM_DIR)/%.c $(LAVM_HDRS)
	@mkdir -p $(@D)
	$(LAVM_CLANG) $(LAVM_FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,address,undefined -c $< -o $@
$(LAVM_OUT)/fuzz/%: $(LAVM_DIR)/fuzz/%.c $(LAVM_DIR)/fuzz/lavm_fuzz.h $(LAVM_FUZZ_OBJS) $(LAVM_HDRS)
	@mkdir -p $(@D)
	$(LAVM_CLANG) $(LAVM_FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $< $(LAVM_FUZZ_OBJS)

LAVM_FUZZ_SECONDS ?= 600
# The short run in lavm-check: fixed seed, a fresh corpus from the committed
# seeds each time, and a fixed time budget per target (the run counts are
# only a cap), so that a slow or busy machine does not stretch the check.
LAVM_CHECK_FUZZ_SECONDS ?= 6
LAVM_CHECK_RUNS_fuzz_asm ?= 100000
LAVM_CHECK_RUNS_fuzz_bundle ?= 300000
LAVM_CHECK_RUNS_fuzz_verify ?= 300000

.PHONY: lavm lavm-check lavm-bench lavm-fuzz lavm-clean
lavm: $(BUILD)/bin/lavm $(BUILD)/lib/liblavm.a

USER_BINS += $(BUILD)/bin/lavm $(BUILD)/lib/liblavm.a

# Each test prints TAP; the combined stream goes to $(RESULTS)/lavm.tap.
lavm-check: $(LAVM_TEST_BINS) $(LAVM_OUT)/san/lavm $(LAVM_FUZZ_BINS) $(LAVM_OUT)/freestanding.stamp
	@mkdir -p $(RESULTS)
	@cd $(TOP) && rc=0; : > $(RESULTS)/lavm.tap.raw; \
	for t in $(LAVM_TEST_BINS); do \
	  echo "# $$(basename $$t)" >> $(RESULTS)/lavm.tap.raw; \
	  LAVM_CLI=$(LAVM_OUT)/san/lavm $$t >> $(RESULTS)/lavm.tap.raw 2>$(LAVM_OUT)/$$(basename $$t).log \
	    || { echo "not ok - $$(basename $$t) exited $$? (see $(LAVM_OUT)/$$(basename $$t).log)" >> $(RESULTS)/lavm.tap.raw; rc=1; }; \
	done; \
	$(foreach f,$(LAVM_FUZZERS), \
	  rm -rf $(LAVM_OUT)/check-corpus/$(f); mkdir -p $(LAVM_OUT)/check-corpus/$(f); \
	  if $(LAVM_OUT)/fuzz/$(f) -seed=1 -runs=$(LAVM_CHECK_RUNS_$(f)) \
	       -max_total_time=$(LAVM_CHECK_FUZZ_SECONDS) -max_len=4096 \
	       $(LAVM_OUT)/check-corpus/$(f) $(LAVM_DIR)/fuzz/corpus/$(f) >$(LAVM_OUT)/$(f).log 2>&1; \
	  then echo "ok - fuzz $(f): $$(grep -o 'Done [0-9]* runs in [0-9]* second' $(LAVM_OUT)/$(f).log \
	    | sed 's/Done //')s (at most $(LAVM_CHECK_FUZZ_SECONDS) s or $(LAVM_CHECK_RUNS_$(f)) runs), seed 1" \
	    >> $(RESULTS)/lavm.tap.raw; \
	  else echo "not ok - fuzz $(f) (see $(LAVM_OUT)/$(f).log)" >> $(RESULTS)/lavm.tap.raw; rc=1; fi;) \
	awk '/^1\.\.[0-9]+$$/ { next } \
	     /^(not )?ok / { n++; sub(/^ok( [0-9]+)?/, "ok " n); sub(/^not ok( [0-9]+)?/, "not ok " n) } \
	     { print } END { print "1.." n }' $(RESULTS)/lavm.tap.raw > $(RESULTS)/lavm.tap; \
	if grep -q '^not ok' $(RESULTS)/lavm.tap; then rc=1; fi; \
	echo "lavm-check: $$(grep -c '^ok' $(RESULTS)/lavm.tap) ok, $$(grep -c '^not ok' $(RESULTS)/lavm.tap) not ok ($(RESULTS)/lavm.tap)"; \
	exit $$rc

lavm-fuzz: $(LAVM_FUZZ_BINS)
	@for f in $(LAVM_FUZZERS); do mkdir -p $(LAVM_OUT)/corpus/$$f; \
	  $(LAVM_OUT)/fuzz/$$f -max_total_time=$(LAVM_FUZZ_SECONDS) -max_len=4096 \
	    $(LAVM_OUT)/corpus/$$f $(LAVM_DIR)/fuzz/corpus/$$f || exit 1; done

$(LAVM_OUT)/opt/lavm_bench: $(LAVM_DIR)/bench/lavm_bench.c $(BUILD)/lib/liblavm.a
	@mkdir -p $(@D)
	$(LAVM_CC) $(LAVM_CFLAGS) -o $@ $< $(BUILD)/lib/liblavm.a $(LAVM_LIBS)

LAVM_BENCH_ARGS ?=
lavm-bench: $(LAVM_OUT)/opt/lavm_bench
	@mkdir -p $(RESULTS)
	cd $(TOP) && $(LAVM_OUT)/opt/lavm_bench $(LAVM_BENCH_ARGS) | tee $(RESULTS)/lavm-bench.txt

lavm-clean:
	rm -rf $(LAVM_OUT) $(BUILD)/bin/lavm $(BUILD)/lib/liblavm.a
