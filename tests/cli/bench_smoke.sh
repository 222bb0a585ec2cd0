#!/usr/bin/env bash
# A short run of every benchmark: it must finish and print its figures
# beside its baseline. The numbers themselves are not judged here (no timed
# assertions); `./dev.sh bench` runs the full sizes.
set -u
BIN=$(dirname "$1")/bench
SRC=$2
fail=0; n=0
run() { # NAME PATTERN CMD...
	local name=$1 pat=$2
	shift 2
	n=$((n + 1))
	if ! out=$("$@" 2>&1) || ! grep -Eq -- "$pat" <<<"$out"; then
		echo "FAIL $name"
		echo "$out" | head -20
		fail=$((fail + 1))
	fi
}
run bench_tlb 'baseline' "$BIN/bench_tlb" 20000
run bench_record 'baseline|bare' "$BIN/bench_record" 20000
run bench_trace 'inflate baseline' "$BIN/bench_trace" 200
run bench_hv 'baseline' "$BIN/bench_hv" 64
run bench_pv 'syscalls' "$BIN/bench_pv" "$SRC/scenarios/seed-003-xpti-pcid.yaml" 1
run bench_iommu "walk path.*baseline" "$BIN/bench_iommu" 20000
run bench_time 'simulated s per host s' "$BIN/bench_time" 0.05 5000
run bench_fuzz 'decode only \(baseline\)' "$BIN/bench_fuzz" 300
run bench_ring 'baseline' "$BIN/bench_ring" 20000
echo "$((n - fail)) passed, $fail failed"
[ "$fail" -eq 0 ]
