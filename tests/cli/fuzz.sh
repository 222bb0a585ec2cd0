#!/usr/bin/env bash
# hvsim fuzz from the command line: help lists every target (none left
# "not built yet"), bad usage exits 2 with one line,
# a clean campaign exits 0 with campaign.db, an injected bug exits 1 with
# the original and shrunk cases as YAML and traces that `hvsim run` and
# `hvsim replay` accept, and --jobs 2 finds the same case as --jobs 1.
set -u
HVSIM=$1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0; n=0
check() { # NAME CONDITION-EXIT-STATUS
	n=$((n + 1))
	if [ "$2" -ne 0 ]; then echo "FAIL $1"; fail=$((fail + 1)); fi
}
expect_err() { # NAME PATTERN ARGS...
	local name=$1 pat=$2
	shift 2
	"$HVSIM" fuzz "$@" >"$T/out" 2>"$T/err"
	local rc=$?
	[ "$rc" -eq 2 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && grep -Eq -- "$pat" "$T/err" && [ ! -s "$T/out" ]
	check "$name (rc=$rc: $(cat "$T/err"))" $?
}

"$HVSIM" fuzz --help >"$T/help"
check "help" $?
for t in pt pcid iommu time ring; do grep -Eq "^  $t " "$T/help"; check "help lists $t" $?; done
grep -q "not built yet" "$T/help"; check "help: no target left not built" $((1 - $?))
grep -q -- "--inject" "$T/help"; check "help hides --inject" $((1 - $?))
"$HVSIM" --help | grep -q "fuzz --target"; check "main help names fuzz" $?

expect_err "no target" "no --target" --iters 5
expect_err "unknown target" "unknown target 'nope'" --target nope
expect_err "bad iters" "--iters" --target pt --iters 0
expect_err "bad jobs" "--jobs" --target pt --jobs 65
expect_err "bad time" "--time" --target pt --time -1
expect_err "iters and time" "exclude" --target pt --iters 5 --time 1
expect_err "bad inject" "unknown injection" --target pt --inject nope
expect_err "unknown option" "unknown argument" --target pt --frobnicate

# Clean: exit 0, the summary and campaign.db.
"$HVSIM" fuzz --target pt --iters 300 --out "$T/clean" >"$T/out" 2>&1
check "clean campaign exits 0" $?
grep -q "^states reached: " "$T/out"; check "summary names states" $?
[ "$(sqlite3 "$T/clean/campaign.db" 'SELECT cases FROM campaigns')" = 300 ]
check "campaign.db counts the cases" $?
[ "$(sqlite3 "$T/clean/campaign.db" 'SELECT count(*) FROM states')" -gt 10 ]
check "campaign.db lists the states" $?

# The iommu, time and ring targets: clean campaigns; an injection of their
# sections (iommu.inject, time.inject, rings.inject) is found and shrunk.
for t in iommu time ring; do
	"$HVSIM" fuzz --target $t --iters 300 --out "$T/clean-$t" >"$T/out" 2>&1
	check "$t: clean campaign exits 0 ($(tail -1 "$T/out"))" $?
done
"$HVSIM" fuzz --target iommu --iters 2000 --inject pte_flush_kept --out "$T/inj-io" >"$T/out" 2>&1
check "iommu: injected bug exits 1" $(( $? == 1 ? 0 : 1 ))
grep -q "iommu-one-flush" "$T/out"; check "iommu: found by iommu-one-flush" $?
"$HVSIM" fuzz --target time --iters 2000 --inject seed-wallclock --out "$T/inj-t" >"$T/out" 2>&1
check "time: injected bug exits 1" $(( $? == 1 ? 0 : 1 ))
grep -q "time-wallclock" "$T/out"; check "time: found by time-wallclock" $?
sqlite3 "$T/inj-t/campaign.db" 'SELECT inject FROM campaigns' | grep -qx seed-wallclock
check "time: campaign.db names the injection" $?
"$HVSIM" fuzz --target ring --iters 2000 --inject no_wake_waiters --out "$T/inj-r" >"$T/out" 2>&1
check "ring: injected bug exits 1" $(( $? == 1 ? 0 : 1 ))
grep -q "ring-lost-wakeup" "$T/out"; check "ring: found by ring-lost-wakeup" $?
sqlite3 "$T/inj-r/campaign.db" 'SELECT inject FROM campaigns' | grep -qx no_wake_waiters
check "ring: campaign.db names the injection (a bit above 31)" $?
ryaml=$(ls "$T"/inj-r/ring-1-*.yaml | grep -v orig | head -1)
"$HVSIM" run "$ryaml" >"$T/run" 2>&1
check "ring: shrunk case fails when run" $(( $? == 1 ? 0 : 1 ))
"$HVSIM" replay "${ryaml%.yaml}.hvtrace" >"$T/replay" 2>&1
check "ring: shrunk trace replays" $?

# An injected bug: exit 1, four files; the shrunk case fails when run and
# its trace replays identically.
"$HVSIM" fuzz --target pt --iters 5000 --inject skip_last_page --out "$T/inj" >"$T/out" 2>&1
check "injected bug exits 1" $(( $? == 1 ? 0 : 1 ))
yaml=$(ls "$T"/inj/pt-1-*.yaml | grep -v orig | head -1)
trace=${yaml%.yaml}.hvtrace
[ -f "$yaml" ] && [ -f "$trace" ] && ls "$T"/inj/pt-1-*.orig.yaml >/dev/null
check "four files written" $?
"$HVSIM" run "$yaml" >"$T/run" 2>&1
rc=$?
check "shrunk case fails when run (rc $rc)" $(( rc == 1 ? 0 : 1 ))
grep -q "hv-mapping" "$T/run"; check "shrunk case reports hv-mapping" $?
"$HVSIM" replay "$trace" >"$T/replay" 2>&1
check "shrunk trace replays" $?
[ "$(sqlite3 "$T/inj/campaign.db" 'SELECT property FROM failures')" = hv-mapping ]
check "campaign.db records the failure" $?

# --jobs 2 finds the same case.
"$HVSIM" fuzz --target pcid --iters 5000 --inject xpti_leak --out "$T/j1" >"$T/o1" 2>&1
"$HVSIM" fuzz --target pcid --iters 5000 --inject xpti_leak --jobs 2 --out "$T/j2" >"$T/o2" 2>&1
[ "$(grep '^FAILURE' "$T/o1")" = "$(grep '^FAILURE' "$T/o2")" ] && grep -q '^FAILURE' "$T/o1"
check "--jobs 2 finds the same failure" $?

# The progress line: on a terminal only (script(1) gives the run a pty).
if command -v script >/dev/null; then
	script -qc "'$HVSIM' fuzz --target pt --iters 2000 --out '$T/tty'" /dev/null >"$T/tty.out" 2>&1
	tr '\r' '\n' <"$T/tty.out" | grep -Eq '^\[pt\] [0-9]+ cases +[0-9]+ cases/s +0 failures +states [0-9]+/16'
	check "progress line on a terminal" $?
	"$HVSIM" fuzz --target pt --iters 2000 --out "$T/notty" 2>"$T/notty.err" >/dev/null
	[ ! -s "$T/notty.err" ]; check "no progress line without a terminal" $?
fi

echo "$((n - fail)) passed, $fail failed"
[ "$fail" -eq 0 ]
