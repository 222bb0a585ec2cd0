#!/usr/bin/env bash
# Seed 000 (1 GiB pages in the direct map, docs/seed-000.md): the same
# workload with 1 GiB, 2 MiB and 4 KiB direct-map pages. Each run must hold
# every property (exit 0), and the 1 GiB variant must need no more page
# walks than the 4 KiB one -- a relation the TLB model has to produce, not
# a tuned figure. Usage: seed000.sh HVSIM SOURCE_DIR
set -u
HVSIM=$1
SRC=$2
fail=0; n=0
declare -A walks

check() { # NAME CONDITION-TEXT STATUS
	n=$((n + 1))
	if [ "$3" -ne 0 ]; then
		echo "FAIL $1: $2"
		fail=$((fail + 1))
	fi
}

for v in 1g 2m 4k; do
	f="$SRC/scenarios/seed-000-$v.yaml"
	out=$("$HVSIM" run "$f" 2>&1)
	rc=$?
	check "seed-000-$v" "exit $rc (want 0): $(head -3 <<<"$out")" $((rc != 0))
	# "accesses N (L1 a, L2 b, misses W)": W is the number of page walks.
	w=$(sed -n 's/.*misses \([0-9][0-9]*\)).*/\1/p' <<<"$out" | head -1)
	check "seed-000-$v summary" "no 'misses N' in: $(head -1 <<<"$out")" $([ -n "$w" ]; echo $?)
	walks[$v]=${w:-}
	echo "seed-000-$v: exit $rc, walks ${w:-?}"
done

if [ -n "${walks[1g]}" ] && [ -n "${walks[4k]}" ]; then
	check "walks 1g <= 4k" "1g ${walks[1g]} > 4k ${walks[4k]}" \
		$((walks[1g] > walks[4k]))
else
	check "walks 1g <= 4k" "walk counts missing" 1
fi

echo "$((n - fail)) passed, $fail failed"
[ "$fail" -eq 0 ]
