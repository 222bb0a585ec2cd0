#!/usr/bin/env bash
# Regenerates traces/: one trace per shipped scenario (scenarios/X.yaml ->
# traces/X.hvtrace), written by the given hvsim. The test suite replays
# them all; after a change that is MEANT to change what a scenario does,
# regenerate, and review the change with `hvsim diff` first:
#   hvsim replay traces/X.hvtrace --db new.db   # exit 1: what diverged
#   hvsim run scenarios/X.yaml --db old.db      # (on the old build)
#   hvsim diff old.db new.db
# usage: tools/make-traces.sh [HVSIM]   (default build/release/hvsim)
set -euo pipefail
cd "$(dirname "$0")/.."
HVSIM=${1:-build/release/hvsim}
rm -rf traces/litmus traces/concurrent traces/scale
n=0
while IFS= read -r f; do
	rel=${f#scenarios/}
	out="traces/${rel%.yaml}.hvtrace"
	mkdir -p "$(dirname "$out")"
	# A twin exits 1 (its violation is what it records); only 2 is an error.
	"$HVSIM" run "$f" --trace "$out" >/dev/null || [ $? -eq 1 ]
	n=$((n + 1))
done < <(find scenarios -name '*.yaml' | sort)
echo "make-traces: $n traces in traces/"
