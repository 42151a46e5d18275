#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# make bench-daemon, in the guest: how hyperaetherd's cost grows with the
# number of VMs in a spec (paper 000 §12: T = T_AI + T_boot, claimed O(n)).
# Spec n has n VMs, each a different formula (so each is really generated:
# no cache), chained by SEND/RECV edges.  Each size runs $REPS times through
# the daemon; the table shows the median run and the cost per VM.
set -e
REPS=${REPS:-3}
SIZES=${SIZES:-"1 2 4 8 16 32 64 128"}
tmp=/tmp/bench-daemon
mkdir -p $tmp
hyperaetherd --socket $tmp/sock --no-cache 2> $tmp/daemon.log &
daemon=$!
i=0
while [ ! -S $tmp/sock ]; do i=$((i + 1)); [ $i -gt 100 ] && { cat $tmp/daemon.log; exit 1; }; sleep 0.1; done

spec() {	# spec N REP: N VMs, "x * k + rep" with k the VM's index
	n=$1 rep=$2
	printf '{"fabric": "bench%s", "vms": [' "$n"
	k=0
	while [ $k -lt "$n" ]; do
		[ $k -gt 0 ] && printf ', '
		printf '{"name": "v%d", "params": ["x"], "inputs": [%d], "formula": "x * %d + %d"}' \
			$k $k $((k + 1)) "$rep"
		k=$((k + 1))
	done
	printf '], "edges": ['
	k=1
	while [ $k -lt "$n" ]; do
		[ $k -gt 1 ] && printf ', '
		printf '{"from": "v%d", "to": "v%d", "rights": ["send"]}, {"from": "v%d", "to": "v%d", "rights": ["recv"]}' \
			$((k - 1)) $k $k $((k - 1))
		k=$((k + 1))
	done
	printf ']}\n'
}

field() {	# field NAME < result.json
	sed -n "s/^ *\"$1\": \([0-9.]*\).*/\1/p" | tail -n 1
}

echo "hyperaetherd cost against the number of VMs in a spec (stock kernel, TCG; median of $REPS)"
echo "T_AI: generation (sum over VMs); T_boot: fabric, VMs, edges, job submission; run: submit to the last completion"
printf '%6s %10s %10s %10s %10s | %12s %12s %12s\n' VMs T_AI_ms T_boot_ms run_ms total_ms \
	AI/VM_ms boot/VM_ms total/VM_ms
for n in $SIZES; do
	: > $tmp/rows
	r=0
	while [ $r -lt "$REPS" ]; do
		spec "$n" "$r" > $tmp/spec.json
		hyperaether run $tmp/spec.json --socket $tmp/sock --json > $tmp/out.json 2> $tmp/err ||
			{ echo "n=$n: failed"; cat $tmp/err $tmp/out.json | head -20; exit 1; }
		echo "$(field t_total_ms < $tmp/out.json) $(field t_ai_ms < $tmp/out.json)" \
		     "$(field t_boot_ms < $tmp/out.json) $(field t_run_ms < $tmp/out.json)" >> $tmp/rows
		r=$((r + 1))
	done
	sort -n $tmp/rows | awk -v n="$n" -v reps="$REPS" 'NR == int((reps + 1) / 2) {
		printf "%6d %10.2f %10.2f %10.2f %10.2f | %12.3f %12.3f %12.3f\n",
			n, $2, $3, $4, $1, $2 / n, $3 / n, $1 / n }'
done
kill -TERM $daemon
wait $daemon
