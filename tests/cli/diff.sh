#!/usr/bin/env bash
# `hvsim diff`: exit codes (0 identical event streams, 1 different, 2 bad
# input), and every figure it prints checked against sqlite3 queries over
# the same recordings: the runs rows, flushes per instruction and caller,
# TLB counters, the property queries run by sqlite3 itself, and the first
# divergent event found by one SQL query over both files ATTACHed.
# Pairs: a litmus scenario and its twin without the INVLPG, the same
# scenario with a cost override, a concurrent scenario under two seeds.
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
has() { grep -Eq -- "$2" "$1"; }        # has FILE REGEX
hasnt() { ! grep -Eq -- "$2" "$1"; }    # hasnt FILE REGEX
esc() { printf '%s' "$1" | sed 's/[][\.*^$(){}+?|/]/\\&/g'; }
q() { sqlite3 -batch -noheader "$1" "$2"; } # q DB SQL
# qab A B SQL: SQL over A as main and B attached as b.
qab() { printf "ATTACH '%s' AS b;\n%s\n" "$2" "$3" | sqlite3 -batch -noheader "$1"; }

run() { # SCENARIO DB [ARGS...]: record; the run's own exit status is not ours
	local sc=$1 db=$2
	shift 2
	"$HVSIM" run "$sc" --db "$db" "$@" >/dev/null 2>&1
	[ -s "$db" ] || { echo "FAIL could not record $sc"; exit 1; }
}

# row NAME OUT LABEL A B [PCT]: the counter row "LABEL A B delta [%]",
# flagged '*' exactly when A != B; absent when both are 0.
row() {
	local name=$1 out=$2 label=$3 a=$4 b=$5 pct=${6:-}
	local l flag=' ' d=''
	l=$(esc "$label")
	if [ "$a" -eq 0 ] && [ "$b" -eq 0 ]; then
		check "$name: '$label' absent" hasnt "$out" "^. +$l +[0-9]"
		return
	fi
	if [ "$b" -gt "$a" ]; then d="\\+$((b - a))"; flag='\*'
	elif [ "$b" -lt "$a" ]; then d="-$((a - b))"; flag='\*'; fi
	if [ -n "$pct" ] && [ "$a" -ne "$b" ]; then
		if [ "$a" -eq 0 ]; then d="$d +new"
		else d="$d +$(esc "$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%+.1f%%", 100 * (b - a) / a }')")"
		fi
	fi
	check "$name: '$label' $a $b" has "$out" "^$flag +$l +$a +$b${d:+ +$d}\$"
}

# counters NAME A.db B.db OUT: sections 2-4 against sqlite3.
counters() {
	local name=$1 a=$2 b=$3 out=$4 k na nb
	# Flushes per instruction and per caller, over the union of both.
	while IFS='|' read -r k na nb; do
		row "$name" "$out" "  $k" "$na" "$nb" pct
	done < <(qab "$a" "$b" "SELECT instr, sum(x = 0), sum(x = 1) FROM
		(SELECT instr, 0 AS x FROM main.flushes UNION ALL
		 SELECT instr, 1 FROM b.flushes) GROUP BY instr;")
	while IFS='|' read -r k na nb; do
		row "$name" "$out" "  $k" "$na" "$nb" pct
	done < <(qab "$a" "$b" "SELECT caller, sum(x = 0), sum(x = 1) FROM
		(SELECT caller, 0 AS x FROM main.flushes UNION ALL
		 SELECT caller, 1 FROM b.flushes) GROUP BY caller;")
	local -a sql=(
		"total|SELECT count(*) FROM flushes"
		# The view's necessary is f >> 8, which includes bit 9 (globals).
		"necessary|SELECT count(*) FROM flushes WHERE necessary & 1"
		"redundant|SELECT count(*) FROM flushes WHERE NOT necessary & 1"
		"removed from TLB|SELECT total(removed_tlb) FROM flushes"
		"removed from envelope|SELECT total(removed_env) FROM flushes"
		"accesses|SELECT count(*) FROM accesses"
		"L1 hits|SELECT count(*) FROM accesses WHERE path = 'l1'"
		"L2 hits|SELECT count(*) FROM accesses WHERE path = 'l2'"
		"walks|SELECT count(*) FROM walks"
		"fills|SELECT count(*) FROM fills"
		"evictions|SELECT count(*) FROM evictions"
		"page faults|SELECT count(*) FROM faults WHERE vector = 'pf'"
		"cycles|SELECT cycles FROM runs"
	)
	local s
	for s in "${sql[@]}"; do
		na=$(q "$a" "SELECT CAST((${s#*|}) AS INTEGER)")
		nb=$(q "$b" "SELECT CAST((${s#*|}) AS INTEGER)")
		row "$name" "$out" "${s%%|*}" "$na" "$nb" pct
	done
	# Properties: sqlite3 runs the shipped queries itself.
	local f prop
	for f in "$SRC"/checks/*.sql; do
		prop=$(sed -n 's/^-- property: *//p' "$f" | head -1)
		na=$(sqlite3 -batch -noheader "$a" <"$f" | wc -l)
		nb=$(sqlite3 -batch -noheader "$b" <"$f" | wc -l)
		row "$name" "$out" "$prop" "$na" "$nb"
	done
}

# first_divergence A.db B.db: the first seq at which the event rows differ
# (callers compared by string) or one file has no row; empty if none.
first_divergence() {
	qab "$1" "$2" "SELECT min(seq) FROM (
		SELECT x.seq FROM main.events x LEFT JOIN b.events y ON y.seq = x.seq
		WHERE y.seq IS NULL OR x.cycle IS NOT y.cycle OR x.cpu IS NOT y.cpu
		  OR x.type IS NOT y.type OR x.sub IS NOT y.sub OR x.a IS NOT y.a
		  OR x.b IS NOT y.b OR x.c IS NOT y.c OR x.d IS NOT y.d
		  OR x.e IS NOT y.e OR x.f IS NOT y.f
		  OR (SELECT s FROM main.strings WHERE id = x.caller) IS NOT
		     (SELECT s FROM b.strings WHERE id = y.caller)
		UNION ALL
		SELECT y.seq FROM b.events y LEFT JOIN main.events x ON x.seq = y.seq
		WHERE x.seq IS NULL);"
}

# event_head DB SEQ: "TYPE cpu N cycle C", how the report starts the event.
event_head() {
	q "$1" "SELECT t.name || ' cpu ' || e.cpu || ' cycle ' || e.cycle
		FROM events e JOIN event_types t ON t.id = e.type WHERE e.seq = $2"
}

# divergence NAME A.db B.db OUT: section 5 against first_divergence.
divergence() {
	local name=$1 a=$2 b=$3 out=$4 seq
	seq=$(first_divergence "$a" "$b")
	check "$name: divergence exists" [ -n "$seq" ]
	[ -n "$seq" ] || return
	check "$name: first divergent seq $seq" has "$out" \
		"^  first divergent event: seq $seq \\(after $((seq - 1)) identical\\)\$"
	local ha hb
	ha=$(event_head "$a" "$seq")
	hb=$(event_head "$b" "$seq")
	if [ -n "$ha" ]; then
		check "$name: A event" has "$out" "^  A: $(esc "$ha") "
	else
		check "$name: A ended" has "$out" "^  A: \\(none: the recording ends after $((seq - 1)) events\\)"
	fi
	if [ -n "$hb" ]; then
		check "$name: B event" has "$out" "^  B: $(esc "$hb") "
	else
		check "$name: B ended" has "$out" "^  B: \\(none: the recording ends after $((seq - 1)) events\\)"
	fi
}

# runrow NAME OUT LABEL COLUMN A.db B.db: the runs row, flagged if differing.
runrow() {
	local name=$1 out=$2 label=$3 col=$4 va vb flag=' '
	va=$(q "$5" "SELECT $col FROM runs")
	vb=$(q "$6" "SELECT $col FROM runs")
	[ "$va" != "$vb" ] && flag='\*'
	check "$name: run $label" has "$out" "^$flag +$(esc "$label") +$(esc "$va") +$(esc "$vb")( |\$)"
}

runs() { # NAME A.db B.db OUT
	runrow "$1" "$4" scenario scenario "$2" "$3"
	runrow "$1" "$4" seed seed "$2" "$3"
	runrow "$1" "$4" profile profile "$2" "$3"
	runrow "$1" "$4" config config "$2" "$3"
	runrow "$1" "$4" "hvsim version" hvsim_version "$2" "$3"
	runrow "$1" "$4" status status "$2" "$3"
	runrow "$1" "$4" events events "$2" "$3"
	runrow "$1" "$4" cycles cycles "$2" "$3"
	runrow "$1" "$4" digest digest "$2" "$3"
}

# pair NAME A.db B.db EXIT: the whole report of one pair.
pair() {
	local name=$1 a=$2 b=$3 want=$4 out="$T/$1.txt"
	"$HVSIM" diff "$a" "$b" >"$out" 2>"$T/$1.err"
	local rc=$?
	check "$name: exit $want" [ "$rc" -eq "$want" ]
	check "$name: nothing on stderr" [ ! -s "$T/$1.err" ]
	[ "$rc" -eq "$want" ] || { cat "$out" "$T/$1.err"; }
	runs "$name" "$a" "$b" "$out"
	counters "$name" "$a" "$b" "$out"
	if [ "$want" -eq 1 ]; then
		divergence "$name" "$a" "$b" "$out"
	else
		check "$name: no divergence by SQL" [ -z "$(first_divergence "$a" "$b")" ]
		check "$name: identical line" has "$out" \
			"^  identical event streams \\($(q "$a" 'SELECT count(*) FROM events') events\\)\$"
	fi
}

lit="$SRC/scenarios/litmus/invlpg-4k.yaml"
twin="$SRC/scenarios/litmus/twins/invlpg-4k.no-inval.yaml"
conc="$SRC/scenarios/concurrent/shootdown-4cpu.yaml"
run "$lit" "$T/lit.db"
run "$twin" "$T/twin.db"
run "$conc" "$T/s1.db" --seed 1
run "$conc" "$T/s2.db" --seed 2
sed 's/^description:.*/&\nmachine: {costs: {invlpg: 400}}/' "$lit" >"$T/costly.yaml"
run "$T/costly.yaml" "$T/costly.db"

# A recording against itself, and against a copy.
pair self "$T/lit.db" "$T/lit.db" 0
cp "$T/s1.db" "$T/s1-copy.db"
pair copy "$T/s1.db" "$T/s1-copy.db" 0

# The twin lacks the INVLPG (and the access that would have hit after it).
pair twin "$T/lit.db" "$T/twin.db" 1
out="$T/twin.txt"
check "twin: invlpg 1 -> 0" has "$out" '^\*   invlpg +1 +0 +-1 +-100\.0%$'
check "twin: mov_cr3 unchanged" has "$out" '^    mov_cr3 +1 +1$'
check "twin: stale-access only in B" has "$out" '^\* stale-access +0 +[1-9][0-9]* +\+[1-9]'
check "twin: status" has "$out" '^\* status +complete +violation$'
check "twin: divergence columns" has "$out" '^  differing columns: '
# The reverse order swaps the columns and the signs.
"$HVSIM" diff "$T/twin.db" "$T/lit.db" >"$T/rev.txt" 2>&1
check "reverse: exit 1" [ $? -eq 1 ]
check "reverse: invlpg 0 -> 1" has "$T/rev.txt" '^\*   invlpg +0 +1 +\+1 +new$'

# An INVLPG of a global page (flush f has bit 9 beside the necessary bit)
# against a MOV CR3 that keeps the global entry.
run "$SRC/scenarios/litmus/invlpg-global.yaml" "$T/global.db"
run "$SRC/scenarios/litmus/twins/invlpg-global.cr3.yaml" "$T/global-cr3.db"
pair global "$T/global.db" "$T/global-cr3.db" 1

# Only invlpg's cost differs: same events until the first charge of it.
pair costs "$T/lit.db" "$T/costly.db" 1
check "costs: config flagged" has "$T/costs.txt" '^\* config .*overrides=invlpg=400$'
check "costs: same event count" has "$T/costs.txt" '^  events +26 +26$'
check "costs: only the cycle differs" has "$T/costs.txt" '^  differing columns: cycle$'

# Another seed, another interleaving of the four CPUs.
pair seeds "$T/s1.db" "$T/s2.db" 1
check "seeds: seed flagged" has "$T/seeds.txt" '^\* seed +1 +2$'

# Events identical but the file is cut short: a run that ended early.
cp "$T/s1.db" "$T/short.db"
sqlite3 "$T/short.db" "DELETE FROM events WHERE seq > 100;
	UPDATE runs SET status = 'running', events = NULL, digest = NULL,
	exit_code = NULL, cycles = NULL"
"$HVSIM" diff "$T/s1.db" "$T/short.db" >"$T/short.txt" 2>&1
check "short: exit 1" [ $? -eq 1 ]
check "short: B ended" has "$T/short.txt" '^  first divergent event: seq 101 \(after 100 identical\)$'
check "short: B none" has "$T/short.txt" '^  B: \(none: the recording ends after 100 events\)$'
check "short: warning" has "$T/short.txt" "^warning: $(esc "$T/short.db"): status is 'running'"
check "short: null shown as -" has "$T/short.txt" '^\* digest +[0-9a-f]{16} +-$'

# The caller is compared by its string, not its id.
cp "$T/lit.db" "$T/renum.db"
sqlite3 "$T/renum.db" "UPDATE strings SET id = id + 10 WHERE id > 0;
	UPDATE events SET caller = caller + 10 WHERE caller > 0"
"$HVSIM" diff "$T/lit.db" "$T/renum.db" >"$T/renum.txt" 2>&1
check "renumbered strings: exit 0" [ $? -eq 0 ]
sqlite3 "$T/renum.db" "UPDATE strings SET s = 'flush_area_local' WHERE s = 'scenario'"
"$HVSIM" diff "$T/lit.db" "$T/renum.db" >"$T/renum2.txt" 2>&1
check "renamed caller: exit 1" [ $? -eq 1 ]
seq=$(first_divergence "$T/lit.db" "$T/renum.db")
check "renamed caller: seq $seq" has "$T/renum2.txt" "^  first divergent event: seq $seq "
check "renamed caller: column" has "$T/renum2.txt" '^  differing columns: caller$'
check "renamed caller: new caller" has "$T/renum2.txt" '^\*   flush_area_local +0 +2 +\+2 +new$'
check "renamed caller: old caller" has "$T/renum2.txt" '^\*   scenario +2 +0 +-2 +-100\.0%$'

# Bad input: exit 2, one line on stderr naming the file, nothing on stdout.
expect_err() { # NAME PATTERN A B
	local name=$1 pat=$2
	n=$((n + 1))
	"$HVSIM" diff "$3" "$4" >"$T/out" 2>"$T/err"
	local rc=$? lines
	lines=$(wc -l <"$T/err")
	if [ "$rc" -ne 2 ] || [ "$lines" -ne 1 ] || ! grep -Eq -- "$pat" "$T/err" || [ -s "$T/out" ]; then
		echo "FAIL $name: rc=$rc lines=$lines stderr: $(cat "$T/err")"
		fail=$((fail + 1))
	fi
}
printf 'not a database\n' >"$T/text.db"
sqlite3 "$T/other.db" "CREATE TABLE t (x)"
cp "$T/lit.db" "$T/noruns.db"
sqlite3 "$T/noruns.db" "DELETE FROM runs"
expect_err missing-b "^$T/missing.db: No such file" "$T/lit.db" "$T/missing.db"
expect_err missing-a "^$T/missing.db: No such file" "$T/missing.db" "$T/lit.db"
expect_err not-a-database "^$T/text.db: file is not a database" "$T/lit.db" "$T/text.db"
expect_err not-a-recording "^$T/other.db: not an hvsim recording" "$T/other.db" "$T/lit.db"
expect_err empty-runs "^$T/noruns.db: not an hvsim recording \(empty runs table\)" "$T/lit.db" "$T/noruns.db"
expect_err directory "^$T: is a directory" "$T/lit.db" "$T"
"$HVSIM" diff "$T/lit.db" >/dev/null 2>&1
check "one file: exit 2" [ $? -eq 2 ]
"$HVSIM" diff "$T/lit.db" "$T/lit.db" "$T/lit.db" >/dev/null 2>&1
check "three files: exit 2" [ $? -eq 2 ]
"$HVSIM" diff --help >"$T/help.txt" 2>&1
check "help: exit 0" [ $? -eq 0 ]
check "help: usage" has "$T/help.txt" '^usage: hvsim diff A\.db B\.db$'

echo "$((n - fail)) passed, $fail failed"
[ "$fail" -eq 0 ]
