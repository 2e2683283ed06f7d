#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Build a real Jaeger (v2, the all-in-one binary: an OpenTelemetry collector
# with an OTLP receiver, in-memory storage and the query API) from the Go
# module proxy, at a pinned release, into a git-ignored cache. The OTLP
# end-to-end tests send spans to it. Prints the binary's path.
#
#   tests/jaeger.sh            build if missing (exit 1 if it cannot; about 10 min
#                              on 2 busy cores with an empty module cache)
set -eu
VERSION=v1.75.0
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${LUPROBE_JAEGER:-$ROOT/.cache/jaeger}
BIN=$CACHE/jaeger-$VERSION
if [ -x "$BIN" ]; then
	echo "$BIN"
	exit 0
fi
GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
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
