#!/usr/bin/env bash
# Seed 004 (Xen "mem_event: use wait queue when ring is full",
# docs/seed-004.md): the vm_event ring workloads with the wait queue (after
# the seed) and pause-when-full (before), under bursts and a helper stall,
# and the reviewer's two questions. Every run must hold every property
# (exit 0), and the recordings must show relations the model has to
# produce -- not tuned figures:
#  - before the seed a burst that finds the ring full loses dropped-page
#    notifications; with the wait queue none is lost and every guest event
#    reaches the pager;
#  - with the wait queue a target claim is never refused and a wake-up
#    never wakes more vCPUs than there are free slots; before the seed
#    every response wakes every paused vCPU and some find the ring full
#    again (claims refused after a wake-up);
#  - a helper stall makes the guest wait longer for responses, whatever
#    the mode;
#  - disable refused while vCPUs wait: a caller that only retries gives up,
#    one that answers what is on the ring (drain) gets the ring disabled;
#  - both wake mechanisms are needed: in one run vCPUs are woken from the
#    paging ring's wait queue (wake_requesters) and from the access ring's
#    pause flag (wake_waiters), and neither wakes the other's sleepers.
# Usage: seed004.sh HVSIM SOURCE_DIR
set -u
HVSIM=$1
SRC=$2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0; n=0
declare -A line

check() { # NAME CONDITION-TEXT STATUS
	n=$((n + 1))
	if [ "$3" -ne 0 ]; then
		echo "FAIL $1: $2"
		fail=$((fail + 1))
	fi
}

run() {
	local v=$1 out rc
	out=$("$HVSIM" run "$SRC/scenarios/$v.yaml" --db "$T/$v.db" 2>&1)
	rc=$?
	check "$v" "exit $rc (want 0): $(head -3 <<<"$out")" $((rc != 0))
	check "$v properties" "no 'all properties hold' in: $out" \
		$(grep -q '^all properties hold' <<<"$out"; echo $?)
	line[$v]=$(grep '^seed-004:' <<<"$out")
	check "$v figures" "no seed-004: line in: $out" $([ -n "${line[$v]}" ]; echo $?)
	echo "$v: exit $rc"
}

# A figure from the seed-004: line: fig SCENARIO 'regex with one group'.
fig() { sed -n "s/.*$2.*/\1/p" <<<"${line[$1]}" | head -1; }
q() { sqlite3 "$T/$1.db" "$2" 2>/dev/null; }
lt() { [ -n "$1" ] && [ -n "$2" ] && [ "$1" -lt "$2" ]; }
eq() { [ -n "$1" ] && [ -n "$2" ] && [ "$1" -eq "$2" ]; }

for v in burst-waitq burst-pause stall-waitq stall-pause disable-drain disable-retry wake-both; do
	run "seed-004-$v"
done

lost() { fig "$1" 'drops lost \([0-9]*\)'; }
eq "$(lost seed-004-burst-waitq)" 0; check "waitq loses no drop" "$(lost seed-004-burst-waitq)" $?
lt 0 "$(lost seed-004-burst-pause)"; check "pause loses drops" "$(lost seed-004-burst-pause)" $?
for m in waitq pause; do
	ev=$(fig "seed-004-burst-$m" 'guest events \([0-9]*\)')
	eq "$(q "seed-004-burst-$m" "SELECT count(*) FROM ring_ops WHERE op = 'put' AND vcpu IS NOT NULL")" "$ev"
	check "$m: every guest event placed is a put" "$ev" $?
done
a=$(fig seed-004-burst-pause 'requests \([0-9]*\)') b=$(fig seed-004-burst-waitq 'requests \([0-9]*\)')
lt "$a" "$b"; check "waitq: more requests reach the pager than pause" "$a vs $b" $?

for v in burst-waitq stall-waitq; do
	c=$(q "seed-004-$v" "SELECT count(*) FROM ring_ops WHERE op = 'claim_full' AND vcpu IS NOT NULL")
	eq "$c" 0; check "$v: no target claim refused" "$c" $?
	c=$(q "seed-004-$v" "SELECT count(*) FROM ring_ops WHERE op = 'wake_requesters' AND arg > max(free, 0)")
	eq "$c" 0; check "$v: wake_requesters wakes at most the free slots" "$c" $?
	c=$(q "seed-004-$v" "SELECT count(*) FROM ring_ops WHERE op = 'wake_requesters' AND arg > 0")
	lt 0 "$c"; check "$v: wake_requesters woke someone" "$c" $?
done
for v in burst-pause stall-pause; do
	# A vCPU woken by a response that finds the ring full again.
	c=$(q "seed-004-$v" "SELECT count(*) FROM ring_ops f WHERE f.op = 'pause_full' AND EXISTS
		(SELECT 1 FROM ring_ops w WHERE w.op = 'woken' AND w.vcpu = f.vcpu AND w.seq < f.seq)")
	lt 0 "$c"; check "$v: woken vCPUs find the ring full again" "$c" $?
	c=$(q "seed-004-$v" "SELECT count(*) FROM ring_ops WHERE op = 'put_sleep'")
	eq "$c" 0; check "$v: no wait queue before the seed" "$c" $?
done

for m in waitq pause; do
	a=$(fig "seed-004-burst-$m" 'paused for responses \([0-9]*\)')
	b=$(fig "seed-004-stall-$m" 'paused for responses \([0-9]*\)')
	lt "$a" "$b"; check "$m: a helper stall lengthens the wait for responses" "$a vs $b" $?
done

busy() { fig "$1" 'disable refused \([0-9]*\)'; }
gave() { fig "$1" 'gave up \([0-9]*\)'; }
lt 0 "$(busy seed-004-disable-drain)"; check "drain: disable refused first" "$(busy seed-004-disable-drain)" $?
eq "$(gave seed-004-disable-drain)" 0; check "drain: never gives up" "$(gave seed-004-disable-drain)" $?
c=$(q seed-004-disable-drain "SELECT count(*) FROM ring_ops WHERE op = 'disable'")
eq "$c" 1; check "drain: the ring is disabled" "$c" $?
eq "$(gave seed-004-disable-retry)" 1; check "retry: gives up" "$(gave seed-004-disable-retry)" $?
c=$(q seed-004-disable-retry "SELECT count(*) FROM ring_ops WHERE op = 'disable'")
eq "$c" 0; check "retry: the ring is never disabled" "$c" $?
c=$(q seed-004-disable-retry "SELECT count(*) FROM ring_ops WHERE op = 'disable_busy' AND arg > 0")
lt 0 "$c"; check "retry: refused while vCPUs wait on the queue" "$c" $?

c=$(q seed-004-wake-both "SELECT count(*) FROM ring_ops WHERE op = 'woken' AND arg = 0 AND ring_name = 'paging'")
lt 0 "$c"; check "wake-both: woken from the paging wait queue" "$c" $?
c=$(q seed-004-wake-both "SELECT count(*) FROM ring_ops WHERE op = 'woken' AND arg = 1 AND ring_name = 'access'")
lt 0 "$c"; check "wake-both: woken from the access flag" "$c" $?
c=$(q seed-004-wake-both "SELECT count(*) FROM ring_ops WHERE op = 'woken' AND ((arg = 0 AND ring_name <> 'paging') OR (arg = 1 AND ring_name <> 'access'))")
eq "$c" 0; check "wake-both: each mechanism wakes only its own sleepers" "$c" $?
for tw in no-wake-waiters no-wake-requesters; do
	out=$("$HVSIM" run "$SRC/scenarios/rings/twins/$tw.yaml" 2>&1)
	rc=$?
	check "$tw" "exit $rc (want 1), $out" $((rc != 1))
	check "$tw lost wake-up" "$out" $(grep -q 'ring-lost-wakeup' <<<"$out"; echo $?)
done

echo "$((n - fail)) passed, $fail failed"
[ "$fail" -eq 0 ]
