#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Copy what DKMS needs to build the modules into DIR: dkms.conf, VERSION,
# the top-level Kbuild and the module sources, and nothing that a previous
# build left behind (objects, .ko, .cmd files).
#   dkms-src.sh DIR
set -euo pipefail
dst=${1:?usage: dkms-src.sh DIR}
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
paths=(dkms.conf VERSION Kbuild kmod uapi)
[ -d drivers ] && paths+=(drivers)
[ -d lavm ] && paths+=(lavm)
mkdir -p "$dst"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	# Tracked and new files alike, minus what .gitignore calls build output.
	git ls-files -z --cached --others --exclude-standard -- "${paths[@]}" |
		while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
		xargs -0 cp -a --parents -t "$dst"
else
	cp -a "${paths[@]}" "$dst"/
	find "$dst" \( -name '*.o' -o -name '*.ko' -o -name '*.mod' -o -name '*.mod.c' \
		-o -name '.*.cmd' -o -name '*.a' -o -name Module.symvers -o -name modules.order \) -delete
fi
