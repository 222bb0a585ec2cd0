#!/usr/bin/env bash
# hvsim quick start. Two commands, both from a fresh Debian 12 machine:
#   ./dev.sh run    install what is missing, build (release), run the shipped
#                   scenario suite: SQLite recordings in results/, a summary
#   ./dev.sh test   install what is missing, build, run the whole suite: the
#                   dev build (-Werror), then the same suite under ASan+UBSan
# Other commands: ./dev.sh asan | bench | deps
set -euo pipefail
cd "$(dirname "$0")"

# Debian packages the build and tests need (clang: libFuzzer targets).
PKGS=(build-essential cmake pkgconf libsqlite3-dev libyaml-dev check zlib1g-dev
      clang libclang-rt-14-dev sqlite3)

missing_pkgs() {
	local p out=()
	for p in "${PKGS[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
			out+=("$p")
	done
	echo "${out[@]:-}"
}

deps() {
	local miss
	miss=$(missing_pkgs)
	[ -z "$miss" ] && return 0
	if [ "$(id -u)" -eq 0 ]; then
		echo "dev.sh: installing: $miss" >&2
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq
		# shellcheck disable=SC2086
		apt-get install -y -qq --no-install-recommends $miss >/dev/null
	else
		echo "dev.sh: missing packages; run as root:" >&2
		echo "  apt-get update && apt-get install -y --no-install-recommends $miss" >&2
		exit 2
	fi
}

build() { # preset
	cmake --preset "$1" >/dev/null
	cmake --build --preset "$1" -j "$(nproc)"
}

case "${1:-}" in
deps) deps ;;
run)
	deps
	build release
	mkdir -p results
	exec build/release/hvsim suite scenarios --out results
	;;
test)
	deps
	build dev
	ctest --preset dev -j "$(nproc)"
	build asan
	ctest --preset asan -j "$(nproc)"
	;;
asan)
	deps
	build asan
	ctest --preset asan -j "$(nproc)"
	;;
bench)
	deps
	build release
	for b in build/release/bench/bench_*; do "$b"; done
	;;
*)
	sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'
	exit 2
	;;
esac
