# SPDX-License-Identifier: GPL-2.0
# Userspace: libhyperaether, the hyperaether CLI, hyperaetherd.  Included
# from ../Makefile.

LIBHA_SRCS := userspace/lib/hyperaether.c userspace/lib/hyperaether_accel.c
# The main job's pipeline (spec -> fabric + jobs -> results) and the
# daemon's protocol: shared by hyperaetherd and the CLI.
# VMs on the "kvm" backend run under the KVM monitor (userspace/kvm/kvm.mk
# builds its guest image, included after this fragment: named by path).
HA_PIPE_SRCS := userspace/hyperaetherd/pipeline.c userspace/hyperaetherd/protocol.c \
	userspace/kvm/kvm_monitor.c
HA_KVM_GUEST = $(BUILD)/kvm/guest_image.o
HA_CLI_SRCS := userspace/cli/hyperaether.c userspace/cli/run.c $(HA_PIPE_SRCS)
HA_DAEMON_SRCS := userspace/hyperaetherd/hyperaetherd.c $(HA_PIPE_SRCS)
HA_USER_HDRS := $(wildcard userspace/lib/*.h userspace/cli/*.h userspace/hyperaetherd/*.h \
	uapi/linux/*.h uapi/drm/*.h genclient/*.h lavm/*.h)
# The channel helpers sit on liburing (io_uring uring_cmd), the accel
# wrappers on libdrm (whose drm.h <drm/hyperaether_accel.h> includes).
HA_DRM_CFLAGS := $(shell pkg-config --cflags libdrm)
HA_USER_CFLAGS := $(USER_CFLAGS) -I$(TOP)/userspace/lib $(HA_DRM_CFLAGS)
HA_USER_LDLIBS := -luring -ldrm
# The CLI and the daemon also link genclient and the lavm core (their
# archives come from genclient/genclient.mk and lavm/lavm.mk: named by path
# here because those fragments are included after this one).
HA_JOB_CFLAGS := $(HA_USER_CFLAGS) -I$(TOP)/userspace/hyperaetherd -I$(TOP)/userspace/cli \
	-I$(TOP)/genclient -I$(TOP)/lavm -I$(TOP)/userspace/kvm $(shell pkg-config --cflags json-c)
HA_JOB_LIBS = $(HA_KVM_GUEST) $(BUILD)/lib/libgenclient.a $(BUILD)/lib/liblavm.a
HA_JOB_SAN_LIBS = $(HA_KVM_GUEST) $(BUILD)/genclient/san/libgenclient.a $(BUILD)/lavm/san/liblavm.a
HA_JOB_LDLIBS := $(HA_USER_LDLIBS) $(shell pkg-config --libs json-c libcurl libcrypto) -lpthread -lm
# Static (the test initramfs): no libcurl, whose dependencies Debian ships
# no static archives of; ai_offline.c stands in for it.
HA_JOB_STATIC_LDLIBS := $(HA_USER_LDLIBS) -ljson-c -lcrypto -lpthread -lm

USER_BINS += $(BUILD)/bin/hyperaether $(BUILD)/bin/hyperaether-static \
	     $(BUILD)/bin/hyperaetherd $(BUILD)/bin/hyperaetherd-static \
	     $(BUILD)/lib/libhyperaether.a $(BUILD)/lib/pkgconfig/libhyperaether.pc

HA_PREFIX ?= /usr/local

$(BUILD)/lib/pkgconfig/libhyperaether.pc: userspace/lib/libhyperaether.pc.in uapi/linux/hyperaether.h
	@mkdir -p $(dir $@)
	sed -e 's|@PREFIX@|$(HA_PREFIX)|' -e "s|@VERSION@|$$(sed -n \
		-e 's/^#define HYPERAETHER_API_MAJOR[[:space:]]*\([0-9]*\).*/\1/p' \
		-e 's/^#define HYPERAETHER_API_MINOR[[:space:]]*\([0-9]*\).*/\1/p' \
		uapi/linux/hyperaether.h | paste -sd.)|" $< > $@

$(BUILD)/lib/libhyperaether.a: $(LIBHA_SRCS) $(wildcard userspace/lib/*.h uapi/linux/*.h uapi/drm/*.h)
	@mkdir -p $(BUILD)/obj/lib $(dir $@)
	rm -f $@
	for f in $(LIBHA_SRCS); do o=$(BUILD)/obj/lib/$$(basename $$f .c).o; \
		$(CC) $(HA_USER_CFLAGS) -fPIC -c -o $$o $$f && $(AR) rcs $@ $$o || exit 1; done

$(BUILD)/bin/hyperaether: $(HA_CLI_SRCS) $(BUILD)/lib/libhyperaether.a $(HA_USER_HDRS) \
		$(HA_JOB_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(HA_JOB_CFLAGS) -o $@ $(HA_CLI_SRCS) $(BUILD)/lib/libhyperaether.a \
		$(HA_JOB_LIBS) $(HA_JOB_LDLIBS)

$(BUILD)/bin/hyperaetherd: $(HA_DAEMON_SRCS) $(BUILD)/lib/libhyperaether.a $(HA_USER_HDRS) \
		$(HA_JOB_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(HA_JOB_CFLAGS) -o $@ $(HA_DAEMON_SRCS) $(BUILD)/lib/libhyperaether.a \
		$(HA_JOB_LIBS) $(HA_JOB_LDLIBS)

# Static builds for the test initramfs, which has no libc.
$(BUILD)/bin/hyperaether-static: $(HA_CLI_SRCS) $(LIBHA_SRCS) $(HA_USER_HDRS) \
		userspace/hyperaetherd/ai_offline.c $(HA_JOB_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(HA_JOB_CFLAGS) -static -o $@ $(HA_CLI_SRCS) $(LIBHA_SRCS) \
		userspace/hyperaetherd/ai_offline.c $(HA_JOB_LIBS) $(HA_JOB_STATIC_LDLIBS)

$(BUILD)/bin/hyperaetherd-static: $(HA_DAEMON_SRCS) $(LIBHA_SRCS) $(HA_USER_HDRS) \
		userspace/hyperaetherd/ai_offline.c $(HA_JOB_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(HA_JOB_CFLAGS) -static -o $@ $(HA_DAEMON_SRCS) $(LIBHA_SRCS) \
		userspace/hyperaetherd/ai_offline.c $(HA_JOB_LIBS) $(HA_JOB_STATIC_LDLIBS)

# The same sources under ASan/UBSan for the native tests.
$(BUILD)/san/hyperaether: $(HA_CLI_SRCS) $(LIBHA_SRCS) $(HA_USER_HDRS) $(HA_JOB_SAN_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(HA_JOB_CFLAGS) $(SAN_FLAGS) -o $@ $(HA_CLI_SRCS) $(LIBHA_SRCS) \
		$(HA_JOB_SAN_LIBS) $(HA_JOB_LDLIBS)

$(BUILD)/san/hyperaetherd: $(HA_DAEMON_SRCS) $(LIBHA_SRCS) $(HA_USER_HDRS) $(HA_JOB_SAN_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(HA_JOB_CFLAGS) $(SAN_FLAGS) -o $@ $(HA_DAEMON_SRCS) $(LIBHA_SRCS) \
		$(HA_JOB_SAN_LIBS) $(HA_JOB_LDLIBS)

$(BUILD)/san/lib_test: userspace/tests/lib_test.c $(LIBHA_SRCS)
	@mkdir -p $(dir $@)
	$(CC) $(HA_USER_CFLAGS) $(SAN_FLAGS) -o $@ $^ $(HA_USER_LDLIBS)

userspace-check: $(BUILD)/san/hyperaether $(BUILD)/san/lib_test
	@mkdir -p $(RESULTS)
	@{ $(BUILD)/san/lib_test; HA_CLI=$(BUILD)/san/hyperaether userspace/tests/cli_test.sh; } \
		> $(RESULTS)/userspace.tap; rc=$$?; \
	! grep -q '^not ok' $(RESULTS)/userspace.tap && [ $$rc = 0 ]

# An LD_PRELOAD shim that delays listen(): the readiness case of daemon_test.py.
$(BUILD)/san/slow_listen.so: userspace/tests/slow_listen.c
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) -shared -fPIC -o $@ $< -ldl

# hyperaetherd without devices (--engine cpu): protocol, spool, backpressure,
# shutdown, bad input, the CLI's run/gen/fabric/top; ASan/UBSan builds.
USER_CHECKS += daemon-check
.PHONY: daemon-check
daemon-check: $(BUILD)/san/hyperaether $(BUILD)/san/hyperaetherd $(BUILD)/san/slow_listen.so
	@mkdir -p $(RESULTS) $(BUILD)/daemon-check
	@HA_CLI=$(BUILD)/san/hyperaether HA_DAEMON=$(BUILD)/san/hyperaetherd \
		HA_SLOW_LISTEN=$(BUILD)/san/slow_listen.so \
		HA_WORK=$(BUILD)/daemon-check HA_EXAMPLES=$(TOP)/genclient/examples \
		python3 userspace/tests/daemon_test.py > $(RESULTS)/daemon.tap \
		2> $(BUILD)/daemon-check/stderr.log; rc=$$?; \
	echo "daemon-check: $$(grep -c '^ok' $(RESULTS)/daemon.tap) ok, $$(grep -c '^not ok' $(RESULTS)/daemon.tap) not ok ($(RESULTS)/daemon.tap)"; \
	! grep -q '^not ok' $(RESULTS)/daemon.tap && [ $$rc = 0 ]

# ------------------------------------------------------- hyperaether-executor
# The accel driver's executor (userspace/executor/): the Vulkan engine where
# lavm/vulkan/ is built (vulkan.mk is included before this file), the CPU
# engines always.  The static build, for the test initramfs, has no Vulkan:
# lavapipe needs LLVM and the dynamic loader, which the initramfs lacks.
HA_EXEC_SRCS := userspace/executor/executor.c userspace/executor/executor_batch.c
HA_EXEC_HDRS := userspace/executor/executor.h $(HA_USER_HDRS)
HA_EXEC_CFLAGS := $(HA_USER_CFLAGS) -I$(TOP)/lavm -I$(TOP)/lavm/vulkan
HA_EXEC_LDLIBS := $(HA_USER_LDLIBS) -ljson-c -lpthread -lm
ifneq ($(LAVM_VK_OUT),)
HA_EXEC_VK_CFLAGS := -DHA_EXECUTOR_VULKAN
HA_EXEC_VK_OBJ := $(LAVM_VK_OUT)/opt/lavm_vk.o
HA_EXEC_VK_SAN_OBJ := $(LAVM_VK_OUT)/san/lavm_vk.o
HA_EXEC_VK_LIBS := -lvulkan
endif

USER_BINS += $(BUILD)/bin/hyperaether-executor $(BUILD)/bin/hyperaether-executor-static

$(BUILD)/bin/hyperaether-executor: $(HA_EXEC_SRCS) $(HA_EXEC_HDRS) $(BUILD)/lib/libhyperaether.a \
		$(BUILD)/lib/liblavm.a $(HA_EXEC_VK_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(HA_EXEC_CFLAGS) $(HA_EXEC_VK_CFLAGS) -o $@ $(HA_EXEC_SRCS) $(HA_EXEC_VK_OBJ) \
		$(BUILD)/lib/libhyperaether.a $(BUILD)/lib/liblavm.a $(HA_EXEC_LDLIBS) $(HA_EXEC_VK_LIBS)

$(BUILD)/bin/hyperaether-executor-static: $(HA_EXEC_SRCS) $(HA_EXEC_HDRS) $(LIBHA_SRCS) \
		$(BUILD)/lib/liblavm.a
	@mkdir -p $(dir $@)
	$(CC) $(HA_EXEC_CFLAGS) -static -o $@ $(HA_EXEC_SRCS) $(LIBHA_SRCS) \
		$(BUILD)/lib/liblavm.a $(HA_EXEC_LDLIBS)

# The batch runner against the reference, engines ref, cpu and vulkan (on
# lavapipe; SKIP with the reason without a device).  UBSan only, as
# lavm-vk-check: ASan would intercept the Vulkan driver's allocations too.
$(BUILD)/san/executor_test: userspace/executor/executor_test.c userspace/executor/executor_batch.c \
		$(HA_EXEC_HDRS) lavm/tests/lavm_tap.h lavm/tests/tap.h $(BUILD)/lib/liblavm.a $(HA_EXEC_VK_SAN_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(HA_EXEC_CFLAGS) $(HA_EXEC_VK_CFLAGS) -fsanitize=undefined -fno-sanitize-recover=all \
		-Wno-missing-field-initializers -o $@ $(filter %.c,$^) $(HA_EXEC_VK_SAN_OBJ) $(BUILD)/lib/liblavm.a \
		$(HA_EXEC_LDLIBS) $(HA_EXEC_VK_LIBS)

USER_CHECKS += executor-check
.PHONY: executor-check
executor-check: $(BUILD)/san/executor_test $(BUILD)/bin/hyperaether-executor
	@mkdir -p $(RESULTS)
	@$(LAVM_VK_ENV) $(BUILD)/san/executor_test > $(RESULTS)/executor.tap \
		2> $(BUILD)/executor-test.log; rc=$$?; \
	echo "executor-check: $$(grep -c '^ok' $(RESULTS)/executor.tap) ok ($$(grep -c '# SKIP' $(RESULTS)/executor.tap) skipped), $$(grep -c '^not ok' $(RESULTS)/executor.tap) not ok ($(RESULTS)/executor.tap)"; \
	grep '# SKIP' $(RESULTS)/executor.tap; \
	! grep -q '^not ok' $(RESULTS)/executor.tap && [ $$rc = 0 ]

# make bench-daemon: hyperaetherd's cost (T_AI, T_boot, run) against the
# number of VMs in a spec, in the booted stock kernel under TCG.
DAEMON_BENCH_OUT := $(BUILD)/bench-daemon

.PHONY: bench-daemon
bench-daemon: $(BUILD)/bin/hyperaether-static $(BUILD)/bin/hyperaetherd-static $(STOCK_VMLINUX)
	$(call build_for,stock,$(KDIR))
	@rc=0; HA_KSRC=$(HA_KSRC) tools/testing/vm/run.sh --name bench-daemon \
		--kernel $(STOCK_VMLINUX) --out $(DAEMON_BENCH_OUT) \
		--modroot / --kver $(STOCK_KVER) --preload kvm_amd --ko "$(call VM_KO,stock)" \
		--guest-script userspace/hyperaetherd/daemon_bench.sh \
		--bins "$(BUILD)/bin/hyperaether-static $(BUILD)/bin/hyperaetherd-static" \
		--timeout 900 || rc=$$?; \
	sed -n '/^HA-SCRIPT$$/,/^HA-SCRIPT-EXIT/p' $(DAEMON_BENCH_OUT)/results.log | \
		sed '1d;$$d' | tr -d '\r' | tee $(DAEMON_BENCH_OUT)/table.txt; \
	grep -q '^HA-SCRIPT-EXIT 0' $(DAEMON_BENCH_OUT)/results.log || rc=1; exit $$rc
