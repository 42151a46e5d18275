# SPDX-License-Identifier: GPL-2.0
#
# genclient/: G(spec), spec -> verified LAVM program.  Included by the
# top-level Makefile (after lavm/lavm.mk, whose core library it links).
#
#   genclient        $(BUILD)/bin/hyperaether-gen and $(BUILD)/lib/libgenclient.a
#   genclient-check  the spec suite, bad input, AI endpoint against a
#                    scripted loopback server (ASan+UBSan); TAP in
#                    $(RESULTS)/genclient.tap

GEN_DIR := $(TOP)/genclient
GEN_OUT := $(BUILD)/genclient

GEN_SRCS := genclient/gen_spec.c genclient/gen_compiler.c genclient/gen_synth.c \
	genclient/gen_ai.c genclient/gen_check.c genclient/gen_cache.c \
	genclient/gen_generate.c
GEN_HDRS := $(wildcard $(GEN_DIR)/*.h) $(wildcard $(TOP)/lavm/*.h)
# Messages and JSON paths are cut at their buffer size on purpose.
GEN_CFLAGS := -std=gnu11 -Wall -Wextra -Werror -Wno-format-truncation -ffp-contract=off -g -I$(GEN_DIR) -I$(TOP)/lavm \
	$(shell pkg-config --cflags json-c libcurl libcrypto)
GEN_LIBS := $(shell pkg-config --libs json-c libcurl libcrypto) -lpthread -lm
GEN_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

gen_objs = $(patsubst genclient/%.c,$(GEN_OUT)/$(1)/%.o,$(GEN_SRCS))

$(GEN_OUT)/opt/%.o: $(GEN_DIR)/%.c $(GEN_HDRS)
	@mkdir -p $(@D)
	$(CC) $(GEN_CFLAGS) -O2 -c $< -o $@
$(GEN_OUT)/san/%.o: $(GEN_DIR)/%.c $(GEN_HDRS)
	@mkdir -p $(@D)
	$(CC) $(GEN_CFLAGS) -O1 $(GEN_SAN) -c $< -o $@

$(BUILD)/lib/libgenclient.a: $(call gen_objs,opt)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^
$(GEN_OUT)/san/libgenclient.a: $(call gen_objs,san)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/bin/hyperaether-gen: $(GEN_OUT)/opt/gen_cli.o $(BUILD)/lib/libgenclient.a $(BUILD)/lib/liblavm.a
	@mkdir -p $(@D)
	$(CC) -o $@ $^ $(GEN_LIBS)
$(GEN_OUT)/san/hyperaether-gen: $(GEN_OUT)/san/gen_cli.o $(GEN_OUT)/san/libgenclient.a $(LAVM_OUT)/san/liblavm.a
	$(CC) $(GEN_SAN) -o $@ $^ $(GEN_LIBS)

GEN_TESTS := gen_suite_test gen_synth_test gen_bad_test gen_ai_test
GEN_TEST_BINS := $(addprefix $(GEN_OUT)/san/tests/,$(GEN_TESTS))

$(GEN_OUT)/san/tests/%: $(GEN_DIR)/tests/%.c $(wildcard $(GEN_DIR)/tests/*.h) $(TOP)/lavm/tests/tap.h \
		$(GEN_OUT)/san/libgenclient.a $(LAVM_OUT)/san/liblavm.a
	@mkdir -p $(@D)
	$(CC) $(GEN_CFLAGS) -O1 $(GEN_SAN) -I$(GEN_DIR)/tests -o $@ $< \
		$(GEN_OUT)/san/libgenclient.a $(LAVM_OUT)/san/liblavm.a $(GEN_LIBS)

.PHONY: genclient genclient-check genclient-clean
genclient: $(BUILD)/bin/hyperaether-gen $(BUILD)/lib/libgenclient.a

USER_BINS += $(BUILD)/bin/hyperaether-gen $(BUILD)/lib/libgenclient.a

# Each test prints TAP with its own cache directory; the streams are
# renumbered into one.
genclient-check: $(GEN_TEST_BINS) $(GEN_OUT)/san/hyperaether-gen
	@mkdir -p $(RESULTS)
	@cd $(TOP) && rc=0; : > $(RESULTS)/genclient.tap.raw; \
	for t in $(GEN_TEST_BINS); do \
	  echo "# $$(basename $$t)" >> $(RESULTS)/genclient.tap.raw; \
	  rm -rf $(GEN_OUT)/cache-$$(basename $$t); \
	  HA_GEN_CACHE=$(GEN_OUT)/cache-$$(basename $$t) GEN_CLI=$(GEN_OUT)/san/hyperaether-gen \
	  GEN_EXAMPLES=$(GEN_DIR)/examples GEN_AI_SERVER=$(GEN_DIR)/tests/gen_ai_server.py \
	    $$t >> $(RESULTS)/genclient.tap.raw 2>$(GEN_OUT)/$$(basename $$t).log \
	    || { echo "not ok - $$(basename $$t) exited $$? (see $(GEN_OUT)/$$(basename $$t).log)" >> $(RESULTS)/genclient.tap.raw; rc=1; }; \
	done; \
	awk '/^1\.\.[0-9]+$$/ { next } \
	     /^(not )?ok / { n++; sub(/^ok( [0-9]+)?/, "ok " n); sub(/^not ok( [0-9]+)?/, "not ok " n) } \
	     { print } END { print "1.." n }' $(RESULTS)/genclient.tap.raw > $(RESULTS)/genclient.tap; \
	if grep -q '^not ok' $(RESULTS)/genclient.tap; then rc=1; fi; \
	echo "genclient-check: $$(grep -c '^ok' $(RESULTS)/genclient.tap) ok, $$(grep -c '^not ok' $(RESULTS)/genclient.tap) not ok ($(RESULTS)/genclient.tap)"; \
	exit $$rc

genclient-clean:
	rm -rf $(GEN_OUT) $(BUILD)/bin/hyperaether-gen $(BUILD)/lib/libgenclient.a
