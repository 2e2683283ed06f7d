#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Build every Go test target once, in every variant the tests need, into
# $OUTPUT/go/<target>/<variant>. Go's build cache makes a rebuild cheap;
# a binary newer than its sources is left alone.
set -euo pipefail
cd "$(dirname "$0")"
OUTPUT=${OUTPUT:-.output}
case $OUTPUT in /*) ;; *) OUTPUT=$(cd ../.. && pwd)/$OUTPUT ;; esac
GO=${GO:-go}
export GOFLAGS=-mod=mod GO111MODULE=on GOPROXY=off GOTOOLCHAIN=local
[ -n "${HOME:-}" ] || export GOCACHE=$OUTPUT/gocache

# binaries of another toolchain are rebuilt, not mixed with these
stamp=$OUTPUT/go/.toolchain
want=$("$GO" version)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
	rm -rf "$OUTPUT/go"
	mkdir -p "$OUTPUT/go"
	echo "$want" >"$stamp"
fi

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
)
# target -> variants it is built in
declare -A TARGETS=(
	[computee]="default stripped pie stripped-pie cgo cgo-pie trimpath"
)
for extra in */; do
	t=${extra%/}
	[ -f "$t/variants" ] && TARGETS[$t]=$(cat "$t/variants")
done

for t in "${!TARGETS[@]}"; do
	srcs=$(find "$t" -name '*.go' -o -name '*.s' -o -name '*.c' | sort)
	for v in ${TARGETS[$t]}; do
		out=$OUTPUT/go/$t/$v
		if [ -x "$out" ] && [ -z "$(find $srcs go.mod -newer "$out" 2>/dev/null)" ]; then
			continue
		fi
		mkdir -p "$(dirname "$out")"
		IFS='|' read -r env flags <<<"${FLAGS[$v]}"
		args=()
		[ -n "$flags" ] && IFS=';' read -r -a args <<<"$flags"
		env "$env" "$GO" build "${args[@]}" -o "$out" "./$t"
	done
done
