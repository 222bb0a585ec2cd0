#!/usr/bin/env bash
# The main job and the run/check contract from the command line: the
# shipped suite passes (twins caught) and writes one recording per
# scenario; a violating run exits 1 and prints its first violation with
# event number and cycle; `hvsim check` agrees on the recording.
set -u
HVSIM=$1
SRC=$2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0; n=0
check() { # NAME CONDITION-COMMAND...
	local name=$1
	shift
	n=$((n + 1))
	if ! "$@"; then echo "FAIL $name"; fail=$((fail + 1)); fi
}

"$HVSIM" suite "$SRC/scenarios" --out "$T/results" --twice >"$T/suite.txt" 2>&1
rc=$?
check suite-exit [ "$rc" -eq 0 ]
check suite-summary grep -Eq '^[0-9]+ scenarios: [0-9]+ passed, [0-9]+ twins caught, 0 failed, 0 bad input$' "$T/suite.txt"
nyaml=$(find "$SRC/scenarios" -name '*.yaml' | wc -l)
ndb=$(find "$T/results" -name '*.db' | wc -l)
check suite-one-db-per-scenario [ "$nyaml" -eq "$ndb" ]
check suite-columns grep -q 'fills.*misses.*flush n/r.*cycles.*result.*properties' "$T/suite.txt"
[ "$rc" -eq 0 ] || cat "$T/suite.txt"

twin="$SRC/scenarios/litmus/twins/invlpg-4k.no-inval.yaml"
"$HVSIM" run "$twin" --db "$T/twin.db" >"$T/twin.txt" 2>&1
check twin-exit-1 [ $? -eq 1 ]
check twin-violation-line grep -Eq '^VIOLATION stale-access violated at event [0-9]+, cycle [0-9]+, cpu 0: ' "$T/twin.txt"
"$HVSIM" check "$T/twin.db" >"$T/check.txt" 2>&1
check check-exit-1 [ $? -eq 1 ]
check check-reports grep -Eq '^stale-access: [0-9]+ violation' "$T/check.txt"
check check-status grep -q 'status violation' "$T/check.txt"

ok="$SRC/scenarios/litmus/invlpg-4k.yaml"
"$HVSIM" run "$ok" --db "$T/ok.db" >"$T/ok.txt" 2>&1
check ok-exit-0 [ $? -eq 0 ]
"$HVSIM" check "$T/ok.db" >/dev/null 2>&1
check check-ok-exit-0 [ $? -eq 0 ]
"$HVSIM" run "$twin" --stop-at-first >/dev/null 2>&1
check stop-at-first-exit-1 [ $? -eq 1 ]

echo "$((n - fail)) passed, $fail failed"
[ "$fail" -eq 0 ]
