# SPDX-License-Identifier: GPL-2.0
# Userspace: libhyperaether, the hyperaether CLI.  Included from ../Makefile.

LIBHA_SRCS := userspace/lib/hyperaether.c userspace/lib/hyperaether_accel.c
HA_CLI_SRCS := userspace/cli/hyperaether.c
# The channel helpers sit on liburing (io_uring uring_cmd), the accel
# wrappers on libdrm (whose drm.h <drm/hyperaether_accel.h> includes).
HA_DRM_CFLAGS := $(shell pkg-config --cflags libdrm)
HA_USER_CFLAGS := $(USER_CFLAGS) -I$(TOP)/userspace/lib $(HA_DRM_CFLAGS)
HA_USER_LDLIBS := -luring -ldrm

USER_BINS += $(BUILD)/bin/hyperaether $(BUILD)/bin/hyperaether-static \
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

$(BUILD)/bin/hyperaether: $(HA_CLI_SRCS) $(BUILD)/lib/libhyperaether.a
	@mkdir -p $(dir $@)
	$(CC) $(HA_USER_CFLAGS) -o $@ $(HA_CLI_SRCS) $(BUILD)/lib/libhyperaether.a $(HA_USER_LDLIBS)

# Static build for the test initramfs, which has no libc.
$(BUILD)/bin/hyperaether-static: $(HA_CLI_SRCS) $(LIBHA_SRCS)
	@mkdir -p $(dir $@)
	$(CC) $(HA_USER_CFLAGS) -static -o $@ $(HA_CLI_SRCS) $(LIBHA_SRCS) $(HA_USER_LDLIBS)

# The same sources under ASan/UBSan for the native tests.
$(BUILD)/san/hyperaether: $(HA_CLI_SRCS) $(LIBHA_SRCS)
	@mkdir -p $(dir $@)
	$(CC) $(HA_USER_CFLAGS) $(SAN_FLAGS) -o $@ $(HA_CLI_SRCS) $(LIBHA_SRCS) $(HA_USER_LDLIBS)

$(BUILD)/san/lib_test: userspace/tests/lib_test.c $(LIBHA_SRCS)
	@mkdir -p $(dir $@)
	$(CC) $(HA_USER_CFLAGS) $(SAN_FLAGS) -o $@ $^ $(HA_USER_LDLIBS)

userspace-check: $(BUILD)/san/hyperaether $(BUILD)/san/lib_test
	@mkdir -p $(RESULTS)
	@{ $(BUILD)/san/lib_test; HA_CLI=$(BUILD)/san/hyperaether userspace/tests/cli_test.sh; } \
		> $(RESULTS)/userspace.tap; rc=$$?; \
	! grep -q '^not ok' $(RESULTS)/userspace.tap && [ $$rc = 0 ]
