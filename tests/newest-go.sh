#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# The newest Go on the machine newer than Go 1.MIN (default 0): $GO_NEW if set,
# else the newer of /usr/local/go/bin/go (the machine's own) and the go on
# PATH (Debian's golang-go, 1.19, on a CI machine). Prints its path, or
# nothing when there is none. tests/go/build.sh and tests/jaeger.sh choose so.
#
#   tests/newest-go.sh [MIN]
set -eu
min=${1:-0}
minor() {
	local v
	v=$("$1" version 2>/dev/null | awk '{print $3}') || true
	case $v in go1.*) v=${v#go1.}; echo "${v%%[!0-9]*}" ;; *) echo 0 ;; esac
}
if [ -n "${GO_NEW:-}" ]; then
	echo "$GO_NEW"
	exit 0
fi
best=$min new=
for g in /usr/local/go/bin/go "$(command -v go || true)"; do
	[ -n "$g" ] && [ -x "$g" ] || continue
	m=$(minor "$g")
	if [ "$m" -gt "$best" ]; then
		best=$m
		new=$g
	fi
done
[ -z "$new" ] || echo "$new"
