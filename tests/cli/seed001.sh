#!/usr/bin/env bash
# Seed 001 (IOMMU flush elision, docs/seed-001.md): every seed-001 scenario
# must hold every property (exit 0), and the table `hvsim run` prints must
# show relations the model has to produce -- not tuned figures:
#  - with elision, every map/unmap row issues at most one invalidation;
#  - without elision, an order-9 unmap issues 512 (one per page), and so
#    does an order-9 remap of present entries;
#  - VT-d CM=0 never invalidates for a fresh (added) map; CM=1 does, once
#    per operation with elision; AMD-Vi reports fresh entries as none;
#  - deferred unmap never gives fewer IOPS than strict, and with 16 CPUs
#    strict saturates the one invalidation queue: adding CPUs (16 -> 64)
#    does not raise its IOPS, while deferred keeps scaling.
# Usage: seed001.sh HVSIM SOURCE_DIR
set -u
HVSIM=$1
SRC=$2
fail=0; n=0
declare -A out iops

check() { # NAME CONDITION-TEXT STATUS
	n=$((n + 1))
	if [ "$3" -ne 0 ]; then
		echo "FAIL $1: $2"
		fail=$((fail + 1))
	fi
}

for f in "$SRC"/scenarios/seed-001-*.yaml; do
	v=$(basename "$f" .yaml)
	o=$("$HVSIM" run "$f" 2>&1)
	rc=$?
	check "$v" "exit $rc (want 0): $(head -3 <<<"$o")" $((rc != 0))
	out[$v]=$o
	i=$(sed -n 's/.*: \([0-9]*\)\.\([0-9]*\) M IOPS.*/\1\2/p' <<<"$o")
	[ -n "$i" ] && iops[$v]=$((10#$i))
done

# invs ROW-PATTERN SCENARIO: the invalidations/op of that table row (x100).
invs() {
	sed -n "s/^  $1 .*invalidations\/op \([0-9]*\)\.\([0-9]*\).*/\1\2/p" <<<"${out[$2]}" | head -1
}

for c in vtd-cm0 vtd-cm1 amd; do
	e=seed-001-map-$c-elide; ne=seed-001-map-$c-noelide
	for row in "map   order 9  modified" "unmap order 9  modified" "map   order 0  modified"; do
		x=$(invs "$row" "$e")
		check "$e" "'$row' issues $x/100 invalidations with elision (want 100)" \
			$(( ${x:-0} != 100 ))
	done
	x=$(invs "unmap order 9  modified" "$ne")
	check "$ne" "order-9 unmap issues $x/100 invalidations without elision (want 51200)" \
		$(( ${x:-0} != 51200 ))
	x=$(invs "map   order 9  modified" "$ne")
	check "$ne" "order-9 remap issues $x/100 invalidations without elision (want 51200)" \
		$(( ${x:-0} != 51200 ))
done
x=$(invs "map   order 9  added" seed-001-map-vtd-cm0-elide)
check vtd-cm0 "fresh order-9 map invalidates ($x/100) under CM=0" $(( ${x:-1} != 0 ))
x=$(invs "map   order 9  added" seed-001-map-vtd-cm1-elide)
check vtd-cm1 "fresh order-9 map issues $x/100 invalidations under CM=1 (want 100)" \
	$(( ${x:-0} != 100 ))
x=$(invs "map   order 9  added" seed-001-map-vtd-cm1-noelide)
check vtd-cm1 "fresh order-9 map without elision under CM=1: $x/100 (want 51200)" \
	$(( ${x:-0} != 51200 ))
grep -q "^  map   order 9  none" <<<"${out[seed-001-map-amd-elide]}"
check amd "a fresh AMD-Vi map is reported as flush type none" $?

for k in vtd-{strict,deferred}-{1,4,16,64}cpu amd-{strict,deferred}-16cpu; do
	check "$k" "no IOPS figure printed" $([ -n "${iops[seed-001-dma-$k]:-}" ]; echo $?)
done
for k in vtd-1cpu vtd-4cpu vtd-16cpu vtd-64cpu amd-16cpu; do
	s=${iops[seed-001-dma-${k%%-*}-strict-${k#*-}]:-0}
	d=${iops[seed-001-dma-${k%%-*}-deferred-${k#*-}]:-0}
	check "$k" "strict $s > deferred $d (IOPS x1000)" $((s > d))
done
s16=${iops[seed-001-dma-vtd-strict-16cpu]:-0}; s64=${iops[seed-001-dma-vtd-strict-64cpu]:-1}
d16=${iops[seed-001-dma-vtd-deferred-16cpu]:-0}; d64=${iops[seed-001-dma-vtd-deferred-64cpu]:-0}
check strict-saturates "strict 64 CPUs $s64 > 1.05 x strict 16 CPUs $s16" $((s64 * 100 > s16 * 105))
check deferred-scales "deferred 64 CPUs $d64 < 3 x deferred 16 CPUs $d16" $((d64 < d16 * 3))

echo "seed001: $n checks, $fail failed"
[ "$fail" -eq 0 ]
