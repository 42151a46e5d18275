#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Install the Debian packages of tools/deps/packages.txt that are missing.
set -euo pipefail
list=$(dirname "$0")/packages.txt
want=$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$list" | sort -u)
missing=()
for p in $want; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "deps: installing ${missing[*]}" >&2
sudo=
[ "$(id -u)" = 0 ] || sudo=sudo
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
