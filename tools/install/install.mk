# SPDX-License-Identifier: GPL-2.0
#
# Installing Hyper-Aether on a host, and the checks that prove it works.
# Included from ../../Makefile.
#
#   make && sudo make install     modules for KDIR's kernel, headers, library,
#                                 tools, man pages, udev rule, units
#   sudo make uninstall           removes exactly what install put there
#   sudo make dkms-install        modules through DKMS (rebuilt on kernel
#                                 upgrades); dkms-uninstall removes them
#   make install-check            install into a scratch DESTDIR and check it
#   make dkms-check               dkms build against Debian's 6.12 headers
#   make man-check                mandoc -Tlint and groff -wall, no warnings
#
# Directories (all honour DESTDIR):
#   PREFIX          /usr/local
#   BINDIR SBINDIR  $(PREFIX)/bin, $(PREFIX)/sbin
#   LIBDIR          $(PREFIX)/lib      (Debian packaging: /usr/lib/<triplet>)
#   INCLUDEDIR      $(PREFIX)/include  (uapi under linux/ and drm/)
#   PKGCONFIGDIR    $(LIBDIR)/pkgconfig
#   MANDIR          $(PREFIX)/share/man
#   UDEVDIR, SYSTEMDUNITDIR, MODULESLOADDIR, SYSUSERSDIR
#                   $(PREFIX)/lib/{udev/rules.d,systemd/system,modules-load.d,
#                   sysusers.d}: udev, systemd, systemd-modules-load and
#                   systemd-sysusers read /usr/local/lib/... as well as
#                   /usr/lib/..., so both PREFIX=/usr/local and PREFIX=/usr
#                   give a working system without touching /etc.
#   MODULEDIR       /lib/modules/<KDIR's release>/updates (outside PREFIX:
#                   modprobe only looks there)
# WITH_MODULES=no leaves the modules out (when DKMS installs them).
#
# With DESTDIR set (packaging, tests) install only writes files; without it,
# it also runs depmod, creates the group (systemd-sysusers), reloads udev
# and systemd and runs ldconfig.

HA_VERSION := $(shell cat $(TOP)/VERSION)

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
MANDIR ?= $(PREFIX)/share/man
UDEVDIR ?= $(PREFIX)/lib/udev/rules.d
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
MODULESLOADDIR ?= $(PREFIX)/lib/modules-load.d
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d

# The modules are listed once, as BUILT_MODULE_NAME in dkms.conf.
HA_MODULES := $(shell sed -n 's/^BUILT_MODULE_NAME\[[0-9]*\]="\([A-Za-z0-9_]*\)".*/\1/p' $(TOP)/dkms.conf)
HA_KVER = $(eval HA_KVER := $(shell cat $(KDIR)/include/config/kernel.release 2>/dev/null || \
	$(MAKE) -s -C $(KDIR) kernelrelease 2>/dev/null))$(HA_KVER)
MODULEDIR ?= /lib/modules/$(HA_KVER)/updates
WITH_MODULES ?= yes
HA_INST_MODULES := $(if $(filter yes,$(WITH_MODULES)),$(HA_MODULES))

# --------------------------------------------------- libhyperaether.so

HA_SONAME := libhyperaether.so.1
HA_SHLIB := $(BUILD)/lib/$(HA_SONAME)
HA_SHLIB_OBJS := $(patsubst userspace/lib/%.c,$(BUILD)/obj/shlib/%.o,$(LIBHA_SRCS))

ifeq ($(filter $(HA_SHLIB),$(USER_BINS)),)
USER_BINS += $(HA_SHLIB)

$(BUILD)/obj/shlib/%.o: userspace/lib/%.c $(wildcard userspace/lib/*.h uapi/linux/*.h uapi/drm/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(HA_USER_CFLAGS) -fPIC -c -o $@ $<

$(HA_SHLIB): $(HA_SHLIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) -shared -Wl,-soname,$(HA_SONAME) -Wl,--no-undefined -Wl,-z,relro,-z,now \
		-o $@ $^ $(HA_USER_LDLIBS)
	ln -sf $(HA_SONAME) $(BUILD)/lib/libhyperaether.so
endif

# ------------------------------------------------------------ what goes where

# Command-line tools that exist in this tree (lavm when lavm/ builds it;
# hyperaetherd when userspace/ builds it).
HA_INST_BINS := $(filter $(addprefix $(BUILD)/bin/,hyperaether lavm),$(USER_BINS))
HA_INST_SBINS := $(filter $(BUILD)/bin/hyperaetherd $(BUILD)/sbin/hyperaetherd \
	$(BUILD)/bin/hyperaether-executor,$(USER_BINS))
# The executor's unit where userspace/ builds the executor.
HA_INST_UNITS := hyperaetherd.service \
	$(if $(filter $(BUILD)/bin/hyperaether-executor,$(USER_BINS)),hyperaether-executor.service)
HA_MANPAGES := $(wildcard Documentation/man/*.[1-8])
HA_UAPI_LINUX := $(wildcard uapi/linux/*.h)
HA_UAPI_DRM := $(wildcard uapi/drm/*.h)
HA_STAGE := $(BUILD)/install

# Every path install creates, relative to DESTDIR: uninstall removes these
# and install-check compares the tree with them.
define ha_manifest
$(foreach m,$(HA_INST_MODULES),$(MODULEDIR)/$(m).ko)
$(addprefix $(INCLUDEDIR)/linux/,$(notdir $(HA_UAPI_LINUX)))
$(addprefix $(INCLUDEDIR)/drm/,$(notdir $(HA_UAPI_DRM)))
$(INCLUDEDIR)/hyperaether.h
$(INCLUDEDIR)/hyperaether_accel.h
$(LIBDIR)/$(HA_SONAME)
$(LIBDIR)/libhyperaether.so
$(LIBDIR)/libhyperaether.a
$(PKGCONFIGDIR)/libhyperaether.pc
$(addprefix $(BINDIR)/,$(notdir $(HA_INST_BINS)))
$(addprefix $(SBINDIR)/,$(notdir $(HA_INST_SBINS)))
$(foreach p,$(HA_MANPAGES),$(MANDIR)/man$(subst .,,$(suffix $(p)))/$(notdir $(p)))
$(UDEVDIR)/60-hyperaether.rules
$(MODULESLOADDIR)/hyperaether.conf
$(SYSUSERSDIR)/hyperaether.conf
$(addprefix $(SYSTEMDUNITDIR)/,$(HA_INST_UNITS))
endef

.PHONY: install uninstall install-manifest install-check dkms-check man-check \
	dkms-install dkms-uninstall ha-install-stage

install-manifest:
	@printf '%s\n' $(strip $(ha_manifest))

# Files whose content depends on the install directories, made afresh.
ha-install-stage:
	@mkdir -p $(HA_STAGE)
	@sed -e 's|^prefix=.*|prefix=$(PREFIX)|' -e 's|^libdir=.*|libdir=$(LIBDIR)|' \
		-e 's|^includedir=.*|includedir=$(INCLUDEDIR)|' \
		$(BUILD)/lib/pkgconfig/libhyperaether.pc > $(HA_STAGE)/libhyperaether.pc
	@for u in $(HA_INST_UNITS); do \
		sed 's|@SBINDIR@|$(SBINDIR)|g' tools/install/$$u.in > $(HA_STAGE)/$$u || exit 1; done
	@{ echo '# Hyper-Aether modules, loaded at boot by systemd-modules-load'; \
		printf '%s\n' $(HA_MODULES); } > $(HA_STAGE)/modules-load.conf

# Modules come from `make` (or `make modules`): install never runs kbuild,
# so `sudo make install` leaves no root-owned objects in the tree.
install: $(HA_INST_BINS) $(HA_INST_SBINS) $(HA_SHLIB) $(BUILD)/lib/libhyperaether.a \
		$(BUILD)/lib/pkgconfig/libhyperaether.pc ha-install-stage
ifneq ($(HA_INST_MODULES),)
	@test -n "$(HA_KVER)" || { echo "install: no kernel release in KDIR=$(KDIR)"; exit 1; }
	@for m in $(HA_INST_MODULES); do \
		test -f $(TOP)/$$m.ko || { echo "install: $$m.ko not built: run 'make' first"; exit 1; }; \
		v=$$(modinfo -F vermagic $(TOP)/$$m.ko | cut -d' ' -f1); \
		[ "$$v" = "$(HA_KVER)" ] || { echo "install: $$m.ko is built for '$$v', not $(HA_KVER): run 'make' (KDIR=$(KDIR))"; exit 1; }; \
	done
	install -d $(DESTDIR)$(MODULEDIR)
	install -m 0644 $(addprefix $(TOP)/,$(addsuffix .ko,$(HA_INST_MODULES))) $(DESTDIR)$(MODULEDIR)/
endif
	install -d $(DESTDIR)$(INCLUDEDIR)/linux
	install -m 0644 $(HA_UAPI_LINUX) $(DESTDIR)$(INCLUDEDIR)/linux/
	$(if $(HA_UAPI_DRM),install -d $(DESTDIR)$(INCLUDEDIR)/drm && \
		install -m 0644 $(HA_UAPI_DRM) $(DESTDIR)$(INCLUDEDIR)/drm/)
	install -m 0644 userspace/lib/hyperaether.h userspace/lib/hyperaether_accel.h $(DESTDIR)$(INCLUDEDIR)/
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(PKGCONFIGDIR)
	install -m 0755 $(HA_SHLIB) $(DESTDIR)$(LIBDIR)/
	ln -sf $(HA_SONAME) $(DESTDIR)$(LIBDIR)/libhyperaether.so
	install -m 0644 $(BUILD)/lib/libhyperaether.a $(DESTDIR)$(LIBDIR)/
	install -m 0644 $(HA_STAGE)/libhyperaether.pc $(DESTDIR)$(PKGCONFIGDIR)/
	$(if $(HA_INST_BINS),install -d $(DESTDIR)$(BINDIR) && \
		install -m 0755 $(HA_INST_BINS) $(DESTDIR)$(BINDIR)/)
	$(if $(HA_INST_SBINS),install -d $(DESTDIR)$(SBINDIR) && \
		install -m 0755 $(HA_INST_SBINS) $(DESTDIR)$(SBINDIR)/)
	@set -e; for p in $(HA_MANPAGES); do s=$${p##*.}; \
		echo "install -m 0644 $$p $(DESTDIR)$(MANDIR)/man$$s/"; \
		install -d $(DESTDIR)$(MANDIR)/man$$s; install -m 0644 $$p $(DESTDIR)$(MANDIR)/man$$s/; done
	install -d $(DESTDIR)$(UDEVDIR) $(DESTDIR)$(MODULESLOADDIR) $(DESTDIR)$(SYSUSERSDIR) \
		$(DESTDIR)$(SYSTEMDUNITDIR)
	install -m 0644 tools/install/60-hyperaether.rules $(DESTDIR)$(UDEVDIR)/
	install -m 0644 $(HA_STAGE)/modules-load.conf $(DESTDIR)$(MODULESLOADDIR)/hyperaether.conf
	install -m 0644 tools/install/sysusers.conf $(DESTDIR)$(SYSUSERSDIR)/hyperaether.conf
	install -m 0644 $(addprefix $(HA_STAGE)/,$(HA_INST_UNITS)) $(DESTDIR)$(SYSTEMDUNITDIR)/
ifeq ($(DESTDIR),)
	$(if $(HA_INST_MODULES),depmod -a $(HA_KVER))
	if command -v systemd-sysusers >/dev/null; then \
		systemd-sysusers $(SYSUSERSDIR)/hyperaether.conf; \
	else \
		getent group hyperaether >/dev/null || groupadd -r hyperaether; \
		getent passwd hyperaetherd >/dev/null || useradd -r -U -d / -s /usr/sbin/nologin hyperaetherd; \
	fi
	@if [ -S /run/udev/control ]; then set -x; udevadm control --reload-rules; \
		udevadm trigger --subsystem-match=misc --subsystem-match=accel; fi
	@if [ -d /run/systemd/system ]; then set -x; systemctl daemon-reload; fi
	ldconfig
	@echo "installed; add users with: sudo usermod -aG hyperaether \$$USER (then log in again)"
endif

uninstall:
	rm -f $(addprefix $(DESTDIR),$(strip $(ha_manifest)))
ifeq ($(DESTDIR),)
	$(if $(HA_INST_MODULES),$(if $(HA_KVER),depmod -a $(HA_KVER)))
	@if [ -d /run/systemd/system ]; then set -x; systemctl daemon-reload; fi
	ldconfig
endif

# ------------------------------------------------------------------- DKMS

HA_DKMS_SRC := /usr/src/hyperaether-$(HA_VERSION)

dkms-install:
	-dkms remove -m hyperaether -v $(HA_VERSION) --all 2>/dev/null
	rm -rf $(HA_DKMS_SRC)
	tools/install/dkms-src.sh $(HA_DKMS_SRC)
	dkms install -m hyperaether -v $(HA_VERSION) $(if $(DKMS_KVER),-k $(DKMS_KVER))

dkms-uninstall:
	-dkms remove -m hyperaether -v $(HA_VERSION) --all
	rm -rf $(HA_DKMS_SRC)

# ------------------------------------------------------------------ checks

install-check: $(HA_INST_BINS) $(HA_INST_SBINS) $(HA_SHLIB) $(BUILD)/lib/libhyperaether.a \
		$(BUILD)/lib/pkgconfig/libhyperaether.pc
	@mkdir -p $(RESULTS)
	@$(MAKE) -s modules > $(BUILD)/install-modules.log 2>&1 || \
		{ cat $(BUILD)/install-modules.log; exit 1; }
	@MAKE="$(MAKE) --no-print-directory" CC="$(CC)" BUILD=$(BUILD) KVER=$(HA_KVER) \
		tools/install/install-check.sh > $(RESULTS)/install.tap; rc=$$?; \
	grep -v '^ok' $(RESULTS)/install.tap; ! grep -q '^not ok' $(RESULTS)/install.tap && [ $$rc = 0 ]

dkms-check:
	@mkdir -p $(RESULTS)
	@KDIR=$(KDIR) KVER=$(STOCK_KVER) BUILD=$(BUILD) MODULES="$(HA_MODULES)" \
		tools/install/dkms-check.sh > $(RESULTS)/dkms.tap; rc=$$?; \
	grep -v '^ok' $(RESULTS)/dkms.tap; ! grep -q '^not ok' $(RESULTS)/dkms.tap && [ $$rc = 0 ]

man-check:
	@mkdir -p $(RESULTS)
	@tools/install/man-check.sh $(HA_MANPAGES) > $(RESULTS)/man.tap; rc=$$?; \
	grep -v '^ok' $(RESULTS)/man.tap; ! grep -q '^not ok' $(RESULTS)/man.tap && [ $$rc = 0 ]

USER_CHECKS += install-check dkms-check man-check
