#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Build a real Jaeger (v2, the all-in-one binary: an OpenTelemetry collector
# with an OTLP receiver, in-memory storage and the query API) from the Go
# module proxy, at a pinned release, into a git-ignored cache. The OTLP
# end-to-end tests send spans to it. Prints the binary's path.
#
#   tests/jaeger.sh            build if missing (exit 1 if it cannot; about 5 min
#                              on 2 quiet cores with an empty module cache)
#   tests/jaeger.sh --go       the go it builds with
set -eu
VERSION=v1.75.0
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${LUPROBE_JAEGER:-$ROOT/.cache/jaeger}
BIN=$CACHE/jaeger-$VERSION
if [ -x "$BIN" ] && [ "${1:-}" != --go ]; then
	echo "$BIN"
	exit 0
fi
# the newest Go on the machine: go get -tool needs Go 1.24, and the go on PATH
# is Debian's 1.19 on a CI machine
GO=$("$ROOT/tests/newest-go.sh" 23)
if [ "${1:-}" = --go ]; then
	echo "$GO"
	exit 0
fi
if [ -z "$GO" ]; then
	echo "jaeger.sh: building Jaeger $VERSION needs Go 1.24 or later (GO_NEW=path/to/go)" >&2
	exit 1
fi
mkdir -p "$CACHE"
# one build at a time (test runs in several trees share the cache)
exec 9>"$CACHE/.lock"
flock 9
if [ -x "$BIN" ]; then
	echo "$BIN"
	exit 0
fi
SRC=$(mktemp -d "$CACHE/build.XXXXXX")
trap 'rm -rf "$SRC"' EXIT
cd "$SRC"
export GOFLAGS=-mod=mod GOTOOLCHAIN=local
export GOPROXY=${GOPROXY:-$("$GO" env GOPROXY)}
"$GO" mod init luprobe.test/jaeger >/dev/null 2>&1
"$GO" get -tool "github.com/jaegertracing/jaeger/cmd/jaeger@$VERSION" >&2
"$GO" build -trimpath -o "$BIN.tmp" github.com/jaegertracing/jaeger/cmd/jaeger >&2
mv "$BIN.tmp" "$BIN"
echo "$BIN"
