#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# What `make demo` runs where /dev/hyperaether and /dev/accel exist (in the
# guest, or on a host with the modules loaded): hyperaetherd takes the
# example specs from $HA_DEMO_SPECS over its socket and through its spool,
# generates every VM's program, runs them as LAVM jobs in a fabric, and the
# results are printed.
set -e
specs=${HA_DEMO_SPECS:?}
tmp=${HA_DEMO_TMP:-/tmp}/hyperaether-demo.$$
mkdir -p "$tmp/spool"
export HA_GEN_CACHE="$tmp/gen-cache"

echo "# uname -r: $(uname -r)"
echo "# hyperaether info"; hyperaether info

echo "# hyperaetherd --socket $tmp/sock --spool $tmp/spool"
hyperaetherd --socket "$tmp/sock" --spool "$tmp/spool" 2> "$tmp/daemon.log" &
daemon=$!
i=0
while [ ! -S "$tmp/sock" ]; do
	i=$((i + 1))
	if [ $i -gt 100 ] || ! kill -0 $daemon 2>/dev/null; then
		echo "demo: hyperaetherd did not start:"; cat "$tmp/daemon.log"; exit 1
	fi
	sleep 0.1
done

rc=0
for f in "$specs"/*.json; do
	echo
	echo "# hyperaether fabric show $(basename "$f")"
	hyperaether fabric show "$f"
	echo "# hyperaether run $(basename "$f")   (through hyperaetherd)"
	hyperaether run "$f" --socket "$tmp/sock" || rc=1
done

# The spool: a spec dropped into the directory is run, and its file moves
# to done/ with the result next to it.
echo
name=$(basename "$(ls "$specs"/*.json | head -n 1)")
echo "# cp $name $tmp/spool/  (the spool)"
cp "$specs/$name" "$tmp/spool/.$name.tmp" && mv "$tmp/spool/.$name.tmp" "$tmp/spool/$name"
i=0
while [ ! -e "$tmp/spool/done/$name.result.json" ] && [ ! -e "$tmp/spool/failed/$name.result.json" ]; do
	i=$((i + 1)); [ $i -gt 300 ] && break; sleep 0.1
done
ls "$tmp/spool/done" "$tmp/spool/failed"
grep -E '"(ok|t_ai_ms|t_boot_ms|t_run_ms)"' "$tmp/spool/done/$name.result.json" || rc=1

echo
echo "# hyperaether top --count 1"
hyperaether top --socket "$tmp/sock" --count 1

kill -TERM $daemon
wait $daemon || rc=1
echo "# hyperaetherd log"
cat "$tmp/daemon.log"
[ -r /sys/kernel/debug/hyperaether/fabrics ] &&
	echo "# fabrics left in the kernel: $(grep -c '^fabric' /sys/kernel/debug/hyperaether/fabrics || true)"
rm -rf "$tmp"
exit $rc
