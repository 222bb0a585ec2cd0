#!/usr/bin/env bash
# Bad input of every kind gets a one-line message naming where (file, line
# and column, or the option/field) and exit status 2; nothing half-written
# is left looking complete.
set -u
HVSIM=$1
SRC=$2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0; n=0

# expect_err NAME PATTERN CMD...: exit 2, exactly one line on stderr
# matching PATTERN (an extended regex), nothing on stdout (ALLOW_OUT=1:
# stdout may hold what was already reported, as `check` prints the
# recording's header before it reads the query).
expect_err() {
	local name=$1 pat=$2
	shift 2
	n=$((n + 1))
	"$@" >"$T/out" 2>"$T/err"
	local rc=$? lines
	lines=$(wc -l <"$T/err")
	if [ "$rc" -ne 2 ] || [ "$lines" -ne 1 ] || ! grep -Eq -- "$pat" "$T/err" || { [ -s "$T/out" ] && [ -z "${ALLOW_OUT:-}" ]; }; then
		echo "FAIL $name: rc=$rc lines=$lines"
		echo "  stderr: $(cat "$T/err")"
		echo "  stdout: $(head -c 300 "$T/out")"
		fail=$((fail + 1))
	fi
}

w() { printf '%s\n' "$2" >"$T/$1"; }

w syntax.yaml 'hvsim: 1
name: x
ops: [ {op: pt_new, name: A}'
expect_err yaml-syntax "^$T/syntax.yaml:[0-9]+:[0-9]+: " "$HVSIM" run "$T/syntax.yaml"

w unknown.yaml 'hvsim: 1
name: x
machine: {cpuz: 2}
ops: []'
expect_err unknown-field "^$T/unknown.yaml:3:[0-9]+: .*cpuz" "$HVSIM" run "$T/unknown.yaml"

w unknown-op.yaml 'hvsim: 1
name: x
ops:
  - {op: pt_new, name: A, colour: red}'
expect_err unknown-op-field "^$T/unknown-op.yaml:4:[0-9]+: .*colour" "$HVSIM" run "$T/unknown-op.yaml"

w range.yaml 'hvsim: 1
name: x
machine: {cpus: 300}
ops: []'
expect_err cpus-range "^$T/range.yaml:3:[0-9]+: .*cpus" "$HVSIM" run "$T/range.yaml"

w align.yaml 'hvsim: 1
name: x
ops:
  - {op: pt_new, name: A}
  - {op: map, root: A, va: 0x1001, pa: 0x2000, size: 4k}'
expect_err unaligned-va "^$T/align.yaml:5:[0-9]+: .*va" "$HVSIM" run "$T/align.yaml"

w cpu.yaml 'hvsim: 1
name: x
machine: {cpus: 2}
ops:
  - {op: invlpg, cpu: 2, va: 0}'
expect_err cpu-range "^$T/cpu.yaml:5:[0-9]+: .*cpu" "$HVSIM" run "$T/cpu.yaml"

w version.yaml 'hvsim: 2
name: x
ops: []'
expect_err version "^$T/version.yaml:1:[0-9]+: .*hvsim" "$HVSIM" run "$T/version.yaml"

w cost.yaml 'hvsim: 1
name: x
machine: {costs: {invlpgg: 3}}
ops: []'
expect_err unknown-cost "^$T/cost.yaml:3:[0-9]+: .*invlpgg" "$HVSIM" run "$T/cost.yaml"

w unmap.yaml 'hvsim: 1
name: x
ops:
  - {op: pt_new, name: A}
  - {op: unmap, root: A, va: 0x400000}'
expect_err runtime-unmap "^$T/unmap.yaml:5:[0-9]+: unmap: .*not mapped" "$HVSIM" run "$T/unmap.yaml"

# A lackey trace that is not lackey output: the file and line are named.
printf 'I  04000000,3\n L 1fff000700,8\nhello world\n' >"$T/bad.lackey"
w lackey.yaml 'hvsim: 1
name: x
hv: {}
ops:
  - {op: domain, vcpus: 1}
  - {op: vcpu_run, domain: 0, vcpu: 0}
  - {op: lackey, file: bad.lackey}'
expect_err lackey-bad-line "^$T/lackey.yaml:7:[0-9]+: lackey: bad.lackey:3: not a lackey record" "$HVSIM" run "$T/lackey.yaml"
w lackey2.yaml 'hvsim: 1
name: x
hv: {}
ops:
  - {op: domain, vcpus: 1}
  - {op: vcpu_run, domain: 0, vcpu: 0}
  - {op: lackey, file: none.lackey}'
expect_err lackey-missing "none.lackey: cannot open" "$HVSIM" run "$T/lackey2.yaml"

expect_err missing-file "nope.yaml: cannot open" "$HVSIM" run "$T/nope.yaml"

# An unwritable database path: a missing directory, and a directory.
ok="$SRC/scenarios/litmus/invlpg-4k.yaml"
expect_err db-missing-dir "$T/no/such/dir/x.db" "$HVSIM" run "$ok" --db "$T/no/such/dir/x.db"
mkdir "$T/adir"
expect_err db-is-dir "$T/adir" "$HVSIM" run "$ok" --db "$T/adir"

expect_err trace-missing-dir "$T/no/dir/x.hvtrace" "$HVSIM" run "$ok" --trace "$T/no/dir/x.hvtrace"
expect_err replay-missing "$T/none.hvtrace: byte 0: cannot open" "$HVSIM" replay "$T/none.hvtrace"
printf 'not a trace at all, just text' >"$T/junk.hvtrace"
expect_err replay-not-trace "$T/junk.hvtrace: byte 0: not an hvsim trace" "$HVSIM" replay "$T/junk.hvtrace"
expect_err replay-no-arg "no trace given" "$HVSIM" replay
# A run that fails with bad input leaves no trace behind.
"$HVSIM" run "$T/unmap.yaml" --trace "$T/bad.hvtrace" >/dev/null 2>&1
n=$((n + 1))
if ls "$T"/bad.hvtrace* >/dev/null 2>&1; then echo "FAIL trace-left-behind"; fail=$((fail + 1)); fi

# A ring op on a CPU that reaches it before the domain exists (no barrier).
cat >"$T/ring-early.yaml" <<'EOF2'
hvsim: 1
name: ring-early
machine: {cpus: 2}
hv: {}
rings: {}
ops:
  - {op: domain, vcpus: 1}
  - {op: domain, vcpus: 1}
  - {op: vm_event, cpu: 1, domain: 1, vcpu: 0, kind: drop}
EOF2
expect_err ring-early "$T/ring-early.yaml:9:5: vm_event: domain 1 has not been created yet" \
	"$HVSIM" run "$T/ring-early.yaml"

expect_err bad-seed "--seed: 'x1' is not an unsigned integer" "$HVSIM" run "$ok" --seed x1
expect_err negative-seed "--seed" "$HVSIM" run "$ok" --seed -4
expect_err unknown-option "unknown option '--frob'" "$HVSIM" run "$ok" --frob
expect_err no-scenario "no scenario file given" "$HVSIM" run
expect_err unknown-command "unknown command 'rnu'" "$HVSIM" rnu

expect_err check-missing "$T/none.db" "$HVSIM" check "$T/none.db"
printf 'this is not sqlite' >"$T/junk.db"
expect_err check-not-db "$T/junk.db" "$HVSIM" check "$T/junk.db"
"$HVSIM" run "$ok" --db "$T/good.db" >/dev/null
printf 'SELEC nonsense' >"$T/bad.sql"
ALLOW_OUT=1 expect_err check-bad-sql "$T/bad.sql" "$HVSIM" check "$T/good.db" --sql "$T/bad.sql"
ALLOW_OUT=1 expect_err check-missing-sql "$T/none.sql" "$HVSIM" check "$T/good.db" --sql "$T/none.sql"

# IOMMU section and ops (issue 6): each error names file:line:col and
# the field.
w io-kind.yaml 'hvsim: 1
name: x
hv: {}
iommu: {kind: arm}
ops: []'
expect_err iommu-bad-kind "^$T/io-kind.yaml:4:15: iommu.kind: .*'arm'" "$HVSIM" run "$T/io-kind.yaml"

w io-cm-amd.yaml 'hvsim: 1
name: x
hv: {}
iommu: {kind: amd, caching_mode: true}
ops: []'
expect_err iommu-cm-on-amd "^$T/io-cm-amd.yaml:4:34: iommu.caching_mode: .*amd" "$HVSIM" run "$T/io-cm-amd.yaml"

w io-inject.yaml 'hvsim: 1
name: x
hv: {}
iommu: {kind: vtd, inject: [ignore_cm, modified_as_dropped]}
ops: []'
expect_err iommu-unknown-inject "^$T/io-inject.yaml:4:40: iommu.inject\[1\]: .*'modified_as_dropped'" "$HVSIM" run "$T/io-inject.yaml"

w io-device.yaml 'hvsim: 1
name: x
hv: {}
iommu: {}
ops:
  - {op: io_domain}
  - {op: io_assign, domain: 0, device: "00:20.0"}'
expect_err iommu-bad-device "^$T/io-device.yaml:7:40: ops\[1\].device: '00:20.0' is not a PCI address" "$HVSIM" run "$T/io-device.yaml"

w io-device2.yaml 'hvsim: 1
name: x
hv: {}
iommu: {}
ops:
  - {op: io_domain}
  - {op: io_assign, domain: 0, device: "zz:03.0"}'
expect_err iommu-bad-device-hex "^$T/io-device2.yaml:7:40: ops\[1\].device: 'zz:03.0' is not a PCI address" "$HVSIM" run "$T/io-device2.yaml"

w io-unassigned.yaml 'hvsim: 1
name: x
hv: {}
iommu: {}
ops:
  - {op: io_domain}
  - {op: io_assign, domain: 0, device: "00:03.0"}
  - {op: dma, device: "00:04.0", iova: 0x1000}'
expect_err iommu-dma-unassigned "^$T/io-unassigned.yaml:8:23: ops\[2\].device: 00:04.0 is not assigned" "$HVSIM" run "$T/io-unassigned.yaml"

w io-align.yaml 'hvsim: 1
name: x
hv: {}
iommu: {}
ops:
  - {op: io_domain}
  - {op: io_map, domain: 0, dfn: 0x1001, mfn: 0x2000, order: 1}'
expect_err iommu-dfn-misaligned "^$T/io-align.yaml:7:34: ops\[1\].dfn: 0x1001 is not aligned to the order" "$HVSIM" run "$T/io-align.yaml"

w io-noiommu.yaml 'hvsim: 1
name: x
hv: {}
ops:
  - {op: io_domain}'
expect_err iommu-op-without-section "^$T/io-noiommu.yaml:5:5: ops\[0\]: io_domain needs an iommu: section" "$HVSIM" run "$T/io-noiommu.yaml"

w io-nohv.yaml 'hvsim: 1
name: x
iommu: {kind: vtd}
ops: []'
expect_err iommu-without-hv "^$T/io-nohv.yaml:3:8: iommu: needs an hv: section" "$HVSIM" run "$T/io-nohv.yaml"

# Help and version work and exit 0.
for c in "--help" "--version" "run --help" "check --help" "suite --help" "replay --help" "diff --help"; do
	n=$((n + 1))
	# shellcheck disable=SC2086
	if ! "$HVSIM" $c >/dev/null 2>&1; then echo "FAIL: hvsim $c"; fail=$((fail + 1)); fi
done

echo "$((n - fail)) passed, $fail failed"
[ "$fail" -eq 0 ]
