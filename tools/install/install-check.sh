#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make install-check`: install into a scratch DESTDIR, check the tree the
# way a user's system would see it, build a program against the installed
# header and pkg-config file only, then uninstall and check nothing is left.
# TAP on stdout.  Environment: MAKE, CC, BUILD, KVER (KDIR's release).
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
: "${MAKE:?}" "${CC:?}" "${BUILD:?}" "${KVER:?}"

mkdir -p "$BUILD"
work=$(mktemp -d "$BUILD/install-check.XXXXXX")
trap 'rm -rf "$work"' EXIT
D=$work/root

n=0
pass() { n=$((n + 1)); echo "ok $n - install/$1"; }
fail() { n=$((n + 1)); echo "not ok $n - install/$1"; [ -s "$work/out" ] && sed 's/^/# /' "$work/out"; }
# t NAME CMD...: one check; the command's output is shown when it fails.
t() { local name=$1; shift; if "$@" > "$work/out" 2>&1; then pass "$name"; else fail "$name"; fi; }
# empty NAME CMD...: the command must print nothing (a list of offenders).
empty() {
	local name=$1; shift
	"$@" > "$work/out" 2>&1
	if [ ! -s "$work/out" ]; then pass "$name"; else fail "$name"; fi
}

# The default layout: PREFIX=/usr/local.
t make-install $MAKE -s install DESTDIR="$D"
$MAKE -s install-manifest DESTDIR="$D" > "$work/manifest"

# What a user must find, written out here rather than taken from the
# manifest, so that the install rule cannot quietly drop a file.
P=/usr/local
want=(
	"/lib/modules/$KVER/updates/hyperaether.ko"
	$P/include/linux/hyperaether.h
	$P/include/hyperaether.h
	$P/include/hyperaether_accel.h
	$P/lib/libhyperaether.so.1
	$P/lib/libhyperaether.so
	$P/lib/libhyperaether.a
	$P/lib/pkgconfig/libhyperaether.pc
	$P/bin/hyperaether
	$P/share/man/man1/hyperaether.1
	$P/share/man/man1/lavm.1
	$P/share/man/man4/hyperaether.4
	$P/share/man/man8/hyperaetherd.8
	$P/lib/udev/rules.d/60-hyperaether.rules
	$P/lib/modules-load.d/hyperaether.conf
	$P/lib/sysusers.d/hyperaether.conf
	$P/lib/systemd/system/hyperaetherd.service
)
for h in uapi/drm/*.h; do [ -e "$h" ] && want+=("$P/include/drm/${h##*/}"); done
[ -x "$BUILD/bin/lavm" ] && want+=("$P/bin/lavm")
[ -x "$BUILD/bin/hyperaetherd" ] && want+=("$P/sbin/hyperaetherd")
[ -x "$BUILD/bin/hyperaether-executor" ] && want+=("$P/sbin/hyperaether-executor"
	$P/share/man/man8/hyperaether-executor.8 $P/lib/systemd/system/hyperaether-executor.service)
for f in "${want[@]}"; do
	if grep -qxF "$f" "$work/manifest" && [ -e "$D$f" ]; then pass "file$f"; else
		: > "$work/out"; fail "file$f"; fi
done
# ... and nothing that is not in the manifest.
empty no-unlisted-files bash -c "cd '$D' && find . ! -type d | sed 's/^\.//' | sort | \
	comm -23 - <(sort '$work/manifest')"

# Nothing world-writable; files have the modes their kind needs.
empty no-world-writable find "$D" ! -type l -perm -o+w
empty modes-data bash -c "find '$D$P/include' '$D$P/share' '$D$P/lib/udev' \
	'$D$P/lib/systemd' '$D$P/lib/sysusers.d' '$D$P/lib/modules-load.d' \
	'$D/lib/modules' -type f ! -perm 0644"
empty modes-programs find "$D$P/bin" "$D$P/lib/libhyperaether.so.1" -type f ! -perm 0755

# The udev rule: every node it names gets group hyperaether, mode 0660;
# the accel rule matches our driver only.
rules=$D$P/lib/udev/rules.d/60-hyperaether.rules
t udev-misc-node grep -qE '^SUBSYSTEM=="misc", KERNEL=="hyperaether",.*GROUP="hyperaether", MODE="0660"$' "$rules"
t udev-accel-ours-only grep -qE '^SUBSYSTEM=="accel",.*DRIVERS=="hyperaether_accel",.*GROUP="hyperaether", MODE="0660"$' "$rules"
empty udev-every-rule-restricted bash -c "grep -vE '^(#|$)' '$rules' | \
	grep -vE 'GROUP=\"hyperaether\", MODE=\"0660\"$'"
empty udev-no-open-mode grep -nE 'MODE="0?[0-7][0-7][1-7]"' "$rules"

# The module is the one for KDIR's kernel, and is loaded at boot.
t module-vermagic bash -c "modinfo -F vermagic '$D/lib/modules/$KVER/updates/hyperaether.ko' | \
	grep -q '^$KVER '"
t modules-load-lists-module grep -qx hyperaether "$D$P/lib/modules-load.d/hyperaether.conf"

# The group comes from sysusers.d: systemd-sysusers creates it in a scratch root.
if command -v systemd-sysusers > /dev/null; then
	mkdir -p "$work/sysroot/etc"
	t sysusers-creates-group bash -c "systemd-sysusers --root='$work/sysroot' \
		'$D$P/lib/sysusers.d/hyperaether.conf' && grep -q '^hyperaether:' '$work/sysroot/etc/group' && \
		grep -q '^hyperaetherd:' '$work/sysroot/etc/passwd'"
else
	n=$((n + 1)); echo "ok $n - install/sysusers-creates-group # SKIP no systemd-sysusers"
fi

# The unit: points at the installed daemon, hardened, parses.
unit=$D$P/lib/systemd/system/hyperaetherd.service
t unit-execstart grep -qx "ExecStart=$P/sbin/hyperaetherd" "$unit"
for k in SupplementaryGroups=hyperaether ProtectSystem=strict NoNewPrivileges=yes \
	 StateDirectory=hyperaetherd RuntimeDirectory=hyperaetherd Type=simple; do
	t "unit-$k" grep -qx "$k" "$unit"
done
empty unit-no-dynamicuser grep -n '^DynamicUser' "$unit"
if command -v systemd-analyze > /dev/null; then
	# The daemon is not installed yet: the only complaint allowed is that.
	empty unit-verifies bash -c "systemd-analyze verify --man=no '$unit' 2>&1 | \
		grep -v 'hyperaetherd: No such file\|hyperaetherd is not executable\|Command .*hyperaetherd'"
	# systemd's own exposure score (0 safest .. 10): keep it at "OK" or better.
	t unit-exposure-ok systemd-analyze security --offline=true --threshold=25 "$unit"
fi

# The executor's unit: the installed binary, the Vulkan engine, only CAP_SYS_ADMIN.
unit=$D$P/lib/systemd/system/hyperaether-executor.service
if [ -e "$unit" ]; then
	t executor-unit-execstart grep -qx "ExecStart=$P/sbin/hyperaether-executor --engine vulkan" "$unit"
	for k in CapabilityBoundingSet=CAP_SYS_ADMIN RestartPreventExitStatus=3 NoNewPrivileges=yes \
		 ProtectSystem=strict DevicePolicy=closed; do
		t "executor-unit-$k" grep -qx "$k" "$unit"
	done
	if command -v systemd-analyze > /dev/null; then
		empty executor-unit-verifies bash -c "systemd-analyze verify --man=no '$unit' 2>&1 | \
			grep -v 'hyperaether-executor is not executable\|Command .*hyperaether-executor'"
		t executor-unit-exposure-ok systemd-analyze security --offline=true --threshold=25 "$unit"
	fi
fi

# The shared library: its SONAME, the development symlink, the symbols.
lib=$D$P/lib
t soname bash -c "readelf -d '$lib/libhyperaether.so.1' | grep -q 'SONAME.*\[libhyperaether.so.1\]'"
t so-symlink test "$(readlink "$lib/libhyperaether.so")" = libhyperaether.so.1
t so-exports-api bash -c "nm -D --defined-only '$lib/libhyperaether.so.1' | grep -qw ha_get_info"
t static-has-api bash -c "nm '$lib/libhyperaether.a' | grep -qw 'T ha_get_info'"

# pkg-config: valid, says where things were installed, not where they were built.
pc=$lib/pkgconfig/libhyperaether.pc
t pc-validate pkg-config --validate "$pc"
empty pc-no-build-paths grep -nF -e "$top" -e "$BUILD" "$pc"
t pc-prefix grep -qx "prefix=$P" "$pc"

# A program built from the installed files only: no -I or -L into this tree.
export PKG_CONFIG_PATH=$lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$D
cflags=$(pkg-config --cflags libhyperaether) libs=$(pkg-config --libs libhyperaether)
slibs=$(pkg-config --static --libs libhyperaether)
printf '%s\n' "$cflags $libs $slibs" > "$work/flags"
empty pc-flags-outside-tree grep -F -e "$top/uapi" -e "$top/userspace" -e "$BUILD/lib" "$work/flags"
mkdir -p "$work/prog"
cat > "$work/prog/prog.c" <<'EOF'
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <hyperaether.h>

/* /dev/null is no Hyper-Aether device: GET_INFO must say so with -ENOTTY. */
int main(void)
{
	struct hyperaether_info info;
	int fd = open("/dev/null", O_RDWR);
	int ret;

	if (fd < 0)
		return 2;
	ret = ha_get_info(fd, &info);
	close(fd);
	printf("ha_get_info(/dev/null) = %d (%s), api %d.%d\n", ret, strerror(-ret),
	       HYPERAETHER_API_MAJOR, HYPERAETHER_API_MINOR);
	return ret == -ENOTTY ? 0 : 1;
}
EOF
cd "$work/prog"
t prog-builds $CC -std=c11 -Wall -Wextra -Werror $cflags -o prog prog.c $libs
t prog-needs-soname bash -c "readelf -d prog | grep -q 'NEEDED.*\[libhyperaether.so.1\]'"
t prog-runs env LD_LIBRARY_PATH="$lib" ./prog
t prog-uses-installed-lib bash -c "LD_LIBRARY_PATH='$lib' ldd ./prog | grep -qF '$lib/libhyperaether.so.1'"
t prog-static-builds $CC -std=c11 -Wall -Werror -static $cflags -o prog-static prog.c $slibs
t prog-static-runs ./prog-static
# The accel API: <hyperaether_accel.h> reaches libdrm's drm.h through the
# Cflags pkg-config adds for libdrm (Requires.private); /dev/null is no
# accel device.  libdrm lives outside DESTDIR, so its flags are asked for
# without the sysroot that pkg-config would prefix them with here.
acflags="$cflags $(PKG_CONFIG_SYSROOT_DIR= pkg-config --cflags libdrm)"
cat > accel.c <<'EOF'
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <hyperaether_accel.h>

int main(void)
{
	int fd = open("/dev/null", O_RDWR);
	int ret = ha_accel_check(fd);

	close(fd);
	return ret == -ENODEV && DRM_HYPERAETHER_API_VERSION >= 2 ? 0 : 1;
}
EOF
t accel-prog-builds $CC -std=c11 -Wall -Wextra -Werror $acflags -o accel accel.c $libs
t accel-prog-runs env LD_LIBRARY_PATH="$lib" ./accel
t accel-prog-static-builds $CC -std=c11 -Wall -Werror -static $acflags -o accel-static accel.c $slibs
t accel-prog-static-runs ./accel-static
if command -v c++ > /dev/null; then
	t header-cxx bash -c "printf '#include <hyperaether.h>\nint main() { return ha_get_info(-1, nullptr) == 0; }\n' | \
		c++ -x c++ -std=c++17 -Wall -Werror $cflags -o prog-cxx - $libs"
fi
cd "$top"
unset PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR

# uninstall removes every file install wrote: only directories remain.
t make-uninstall $MAKE -s uninstall DESTDIR="$D"
empty uninstall-leaves-no-files find "$D" ! -type d

# Modules left to DKMS: everything but the modules.
D3=$work/root-nomod
t nomodules-install $MAKE -s install DESTDIR="$D3" WITH_MODULES=no
empty nomodules-no-ko find "$D3" -name '*.ko*'
t nomodules-rest test -e "$D3$P/lib/libhyperaether.so.1" -a -e "$D3$P/lib/udev/rules.d/60-hyperaether.rules"
t nomodules-uninstall $MAKE -s uninstall DESTDIR="$D3" WITH_MODULES=no
empty nomodules-leaves-no-files find "$D3" ! -type d

# A distribution's layout: PREFIX=/usr, multiarch LIBDIR.
D2=$work/root-usr
ma=$($CC -print-multiarch 2>/dev/null); ma=${ma:-x86_64-linux-gnu}
t layout-usr-install $MAKE -s install DESTDIR="$D2" PREFIX=/usr LIBDIR=/usr/lib/$ma
t layout-usr-pc-libdir grep -qx "libdir=/usr/lib/$ma" "$D2/usr/lib/$ma/pkgconfig/libhyperaether.pc"
t layout-usr-files test -e "$D2/usr/lib/$ma/libhyperaether.so.1" -a -e "$D2/usr/bin/hyperaether" \
	-a -e "$D2/usr/lib/udev/rules.d/60-hyperaether.rules" -a -e "$D2/usr/include/linux/hyperaether.h"
t layout-usr-unit grep -qx "ExecStart=/usr/sbin/hyperaetherd" "$D2/usr/lib/systemd/system/hyperaetherd.service"
t layout-usr-uninstall $MAKE -s uninstall DESTDIR="$D2" PREFIX=/usr LIBDIR=/usr/lib/$ma
empty layout-usr-leaves-no-files find "$D2" ! -type d

echo "1..$n"
