#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make man-check`: every man page passes mandoc -Tlint and groff -wall
# without a single message, renders to text, and names itself in .Dt/.TH
# as its file name says.  TAP on stdout.
#   man-check.sh PAGE...
set -uo pipefail
[ $# -gt 0 ] || { echo "1..0 # SKIP no man pages"; exit 0; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT
n=0
t() { # t NAME CMD...: passes when CMD succeeds and prints nothing
	local name=$1; shift
	n=$((n + 1))
	if "$@" > "$out" 2>&1 && [ ! -s "$out" ]; then
		echo "ok $n - man/$name"
	else
		echo "not ok $n - man/$name"
		sed 's/^/# /' "$out"
	fi
}
for page in "$@"; do
	name=${page##*/}
	t "$name/mandoc-lint" mandoc -Tlint -W warning "$page"
	t "$name/groff-wall" groff -wall -mandoc -z -Tutf8 "$page"
	t "$name/renders" bash -c "mandoc -Tutf8 '$page' | grep -q . || echo 'renders empty'"
	title=$(sed -n 's/^\.\(Dt\|TH\) \([^ ]*\) \([0-9]\).*/\2.\3/p' "$page" | tr 'A-Z' 'a-z')
	t "$name/title" bash -c "[ '$title' = '$name' ] || echo 'title $title'"
done
echo "1..$n"
