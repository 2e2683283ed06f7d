#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Build every Go test target once per toolchain, in every variant the tests
# need: by $GO (Debian's Go 1.19, what the Makefile passes) into
# $OUTPUT/go/<target>/<variant>, and by the newest other Go on the machine
# into $OUTPUT/go-new/<target>/<variant>, so old and new Go are covered. The
# newer Go is $GO_NEW if set, else the newest of /usr/local/go/bin/go and the
# go on PATH that is newer than $GO; without one, that set is skipped with a
# message. Each set records its toolchain in .toolchain (`go version`) and the
# go command that built it in .go. Go's build cache makes a rebuild cheap; a
# binary newer than its sources is left alone.
set -euo pipefail
cd "$(dirname "$0")"
OUTPUT=${OUTPUT:-.output}
case $OUTPUT in /*) ;; *) OUTPUT=$(cd ../.. && pwd)/$OUTPUT ;; esac
GO=${GO:-go}
export GOFLAGS=-mod=mod GO111MODULE=on GOPROXY=off GOTOOLCHAIN=local
[ -n "${HOME:-}" ] || export GOCACHE=$OUTPUT/gocache

# variant -> "CGO_ENABLED=N|arg;arg;..." (go build arguments, ';'-separated)
declare -A FLAGS=(
	[default]="CGO_ENABLED=0|"
	[stripped]="CGO_ENABLED=0|-ldflags=-s -w"
	[pie]="CGO_ENABLED=0|-buildmode=pie"
	[stripped-pie]="CGO_ENABLED=0|-buildmode=pie;-ldflags=-s -w"
	[cgo]="CGO_ENABLED=1|-ldflags=-linkmode=external"
	[trimpath]="CGO_ENABLED=0|-trimpath"
	[nodwarf]="CGO_ENABLED=0|-ldflags=-w"
	[cgo-pie]="CGO_ENABLED=1|-buildmode=pie;-ldflags=-linkmode=external -s -w"
	# a GNU build id ("luprobe-test"), with DWARF and stripped: a debug file and its binary
	[debug]="CGO_ENABLED=0|-ldflags=-B 0x6c7570726f62652d74657374"
	[debug-stripped]="CGO_ENABLED=0|-ldflags=-s -w -B 0x6c7570726f62652d74657374"
)
# target -> variants it is built in
declare -A TARGETS=(
	[computee]="default stripped pie stripped-pie cgo cgo-pie trimpath"
)
for extra in */; do
	t=${extra%/}
	[ -f "$t/variants" ] && TARGETS[$t]=$(cat "$t/variants")
done

# "go version go1.26.8 linux/amd64" -> 26 (0 if not a Go 1 release)
minor() {
	local v
	v=$("$1" version 2>/dev/null | awk '{print $3}') || true
	case $v in go1.*) v=${v#go1.}; echo "${v%%[!0-9]*}" ;; *) echo 0 ;; esac
}

# A target with its own go.mod (tests/go/grpcsvc) is a module of its own,
# built in its directory, by a Go at least as new as its go.mod's "go" line
# (an older one skips it); its dependencies are fetched once from the module
# proxy (GOPROXY, else proxy.golang.org) into .cache/gomod, checked against
# its go.sum, and read from there offline afterwards.
MODCACHE=$(cd ../.. && pwd)/.cache/gomod
own_module() {
	local go=$1 t=$2 need
	need=$(sed -n 's/^go 1\.\([0-9]*\).*/\1/p' "$t/go.mod")
	[ "$(minor "$go")" -ge "${need:-0}" ] || return 1
	(cd "$t" && GOFLAGS="$GOFLAGS -modcacherw" GOMODCACHE=$MODCACHE "$go" mod download 2>/dev/null) && return 0
	echo "tests/go/build.sh: fetching the modules of $t into $MODCACHE" >&2
	(cd "$t" && GOFLAGS="$GOFLAGS -modcacherw" GOMODCACHE=$MODCACHE GOPROXY=${GOPROXY_FETCH:-https://proxy.golang.org} \
		"$go" mod download)
}

# build_set GO DIR: every target and variant by GO into DIR
build_set() {
	local go=$1 dir=$2 want t v out srcs env flags
	# binaries of another toolchain are rebuilt, not mixed with these
	want=$("$go" version)
	if [ "$(cat "$dir/.toolchain" 2>/dev/null)" != "$want" ]; then
		rm -rf "$dir"
		mkdir -p "$dir"
		echo "$want" >"$dir/.toolchain"
	fi
	command -v "$go" >"$dir/.go"
	# a target is rebuilt when its sources or the shared packages (internal/) change
	for t in "${!TARGETS[@]}"; do
		srcs=$(find "$t" internal -name '*.go' -o -name '*.s' -o -name '*.c' -o -name go.mod | sort)
		own=
		if [ -f "$t/go.mod" ]; then
			own_module "$go" "$t" || continue
			own=1
		fi
		for v in ${TARGETS[$t]}; do
			out=$dir/$t/$v
			if [ -x "$out" ] && [ -z "$(find $srcs go.mod -newer "$out" 2>/dev/null)" ]; then
				continue
			fi
			mkdir -p "$(dirname "$out")"
			IFS='|' read -r env flags <<<"${FLAGS[$v]}"
			args=()
			[ -n "$flags" ] && IFS=';' read -r -a args <<<"$flags"
			if [ -n "$own" ]; then
				(cd "$t" && env "$env" GOMODCACHE="$MODCACHE" "$go" build "${args[@]}" -o "$out" .)
			else
				env "$env" "$go" build "${args[@]}" -o "$out" "./$t"
			fi
		done
	done
}

build_set "$GO" "$OUTPUT/go"

base=$(minor "$GO")
new=$(../newest-go.sh "$base")
if [ -n "$new" ]; then
	rm -f "$OUTPUT/go/.no-newer-go"
	build_set "$new" "$OUTPUT/go-new"
elif [ -d "$OUTPUT/go-new" ] || [ ! -e "$OUTPUT/go/.no-newer-go" ]; then
	# said once; the tests on that set skip, saying why
	rm -rf "$OUTPUT/go-new"
	touch "$OUTPUT/go/.no-newer-go"
	echo "tests/go/build.sh: no Go newer than $("$GO" version | awk '{print $3}') found" \
		"(GO_NEW=path/to/go, or /usr/local/go/bin/go): targets are built by one Go only" >&2
fi
