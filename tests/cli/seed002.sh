#!/usr/bin/env bash
# Seed 002 (per-CPU time, docs/seed-002.md): every seed-002 scenario runs
# under the four time configurations and `hvsim run` prints the warp table.
# The table must show relations the model has to produce -- not tuned
# figures:
#  - global base: with TSC offsets beyond a message's latency
#    (offsets-large) reads go backwards across CPUs; per-CPU records, with
#    and without the rendezvous, show none there;
#  - with per-core drift (drift, drift-1s), the global base goes backwards
#    and the rendezvous shows no backward step;
#  - per-CPU records without the rendezvous drift apart with time (their
#    warp over an hour exceeds that over 6 s);
#  - stopping TSCs (cstate): per-CPU records without the rendezvous lose
#    the stopped time for good, so their largest warp exceeds the
#    rendezvous's, which recalibrates every period;
#  - the guest clamp: no backward step in any scenario;
#  - the version protocol and the wall clock hold everywhere.
# Usage: seed002.sh HVSIM SOURCE_DIR
set -u
HVSIM=$1
SRC=$2
fail=0; n=0
declare -A same cross warp props

check() { # NAME CONDITION-TEXT STATUS
	n=$((n + 1))
	if [ "$3" -ne 0 ]; then
		echo "FAIL $1: $2"
		fail=$((fail + 1))
	fi
}

for f in "$SRC"/scenarios/seed-002-*.yaml; do
	v=$(basename "$f" .yaml)
	out=$("$HVSIM" run "$f" 2>&1)
	rc=$?
	neg=$(sed -n 's/^negative: //p' "$f")
	want=0; [ -n "$neg" ] && want=1
	check "$v" "exit $rc (want $want): $(head -3 <<<"$out")" $((rc != want))
	check "$v table" "no warp table in: $(head -3 <<<"$out")" \
		$(grep -q '^seed-002 warp table: ' <<<"$out"; echo $?)
	for c in global percpu rendezvous rendezvous+clamp; do
		row=$(grep -E "^  $(sed 's/+/\\+/' <<<"$c") +[0-9]" <<<"$out" | head -1)
		check "$v $c" "no row for $c" $([ -n "$row" ]; echo $?)
		read -r _ _ _ bs bc ms mc _ _ p <<<"$row"
		same[$v/$c]=${bs:-x}; cross[$v/$c]=${bc:-x}; warp[$v/$c]=${mc:-x}; props[$v/$c]=${p:-x}
		check "$v $c version+wallclock" "properties: ${p:-?}" \
			$(grep -qE 'time-version|time-wallclock' <<<"${p:-}"; [ $? -ne 0 ]; echo $?)
	done
	echo "$v: $(grep -E '^  (global|percpu|rendezvous)' <<<"$out" | awk '{printf "%s %s/%s ", $1, $4+$5, $7}')"
done

gt() { [[ "$1" =~ ^[0-9]+$ && "$2" =~ ^[0-9]+$ ]] && [ "$1" -gt "$2" ]; }
eq() { [[ "$1" =~ ^[0-9]+$ ]] && [ "$1" -eq "$2" ]; }

s=seed-002-offsets-large
check "$s: global goes backwards" "${cross[$s/global]}" $(gt "${cross[$s/global]}" 0; echo $?)
check "$s: percpu none" "${cross[$s/percpu]}" $(eq "${cross[$s/percpu]}" 0; echo $?)
check "$s: rendezvous none" "${cross[$s/rendezvous]}" $(eq "${cross[$s/rendezvous]}" 0; echo $?)
for s in seed-002-drift seed-002-drift-1s; do
	check "$s: global goes backwards" "${cross[$s/global]}" $(gt "${cross[$s/global]}" 0; echo $?)
	check "$s: rendezvous none" "${cross[$s/rendezvous]}/${same[$s/rendezvous]}" \
		$(eq "$((${cross[$s/rendezvous]} + ${same[$s/rendezvous]}))" 0; echo $?)
done
# Per-CPU records never resynchronise: their calibration errors grow with
# time (an hour against 6 s), and the rendezvous still shows nothing.
check "drift-hour: percpu warps" "${cross[seed-002-drift-hour/percpu]}" \
	$(gt "${cross[seed-002-drift-hour/percpu]}" 0; echo $?)
check "drift-hour: percpu warp grows with time" \
	"${warp[seed-002-drift-hour/percpu]} vs ${warp[seed-002-drift-1s/percpu]}" \
	$(gt "${warp[seed-002-drift-hour/percpu]}" "${warp[seed-002-drift-1s/percpu]}"; echo $?)
check "drift-hour: rendezvous none" "${cross[seed-002-drift-hour/rendezvous]}" \
	$(eq "${cross[seed-002-drift-hour/rendezvous]}" 0; echo $?)
s=seed-002-cstate
check "$s: percpu warp > rendezvous warp" "${warp[$s/percpu]} vs ${warp[$s/rendezvous]}" \
	$(gt "${warp[$s/percpu]}" "${warp[$s/rendezvous]}"; echo $?)
for f in "$SRC"/scenarios/seed-002-*.yaml; do
	v=$(basename "$f" .yaml)
	check "$v: clamp never backwards" "${cross[$v/rendezvous+clamp]}/${same[$v/rendezvous+clamp]}" \
		$(eq "$((${cross[$v/rendezvous+clamp]} + ${same[$v/rendezvous+clamp]}))" 0; echo $?)
done

echo "seed002: $((n - fail))/$n checks passed"
[ "$fail" -eq 0 ]
