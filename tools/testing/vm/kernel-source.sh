#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Print the path of Debian's linux-source-6.12, extracted once into the
# cache (outside the clone).  Used for kselftest_harness.h, checkpatch.pl,
# gen_init_cpio and the debug kernel build.
set -euo pipefail
cache=${HA_CACHE:-$HOME/.cache/hyperaether}
tarball=/usr/src/linux-source-6.12.tar.xz
[ -r "$tarball" ] || { echo "kernel-source: $tarball missing (make deps)" >&2; exit 1; }
srcver=$(dpkg-query -W -f='${Version}' linux-source-6.12)
src=$cache/src/linux-source-6.12-$srcver
if [ ! -f "$src/.ha-extracted" ]; then
	echo "kernel-source: extracting $tarball ($srcver)" >&2
	mkdir -p "$cache/src"
	rm -rf "$src" "$src.tmp"
	mkdir -p "$src.tmp"
	tar -C "$src.tmp" -xf "$tarball" --strip-components=1
	touch "$src.tmp/.ha-extracted"
	mv "$src.tmp" "$src"
fi
echo "$src"
