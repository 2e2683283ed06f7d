#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# What luprobe.tls costs a busy HTTPS server: tests/go/tlsecho serves on
# loopback, its own load generator (a copy of the binary: 8 keep-alive
# HTTP/1.1 connections, GET /hello) runs ROUNDS times untraced and ROUNDS times with the server traced
# by luprobe.tls (-p PID), interleaved, SECS seconds each; prints each rate
# and the median ratio traced/untraced. docs/performance.md has the figures.
#
#   bench/tls-cost.sh [ROUNDS [SECS [on_data|on_http|count|count-entry]]]
#
# on_http (default): luprobe.tls with an on_http handler (HTTP/1 decoded);
# on_data: a handler of every call's record; count: the same functions
# counted in the kernel, no record (the cost of the probes alone);
# count-entry: the same at their entry only, without the RET sites.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
SECS=${2:-5}
WHAT=${3:-on_http}
BIN=.output/go/tlsecho/default
LUPROBE=${LUPROBE:-.output/luprobe}
[ -x "$BIN" ] || { echo "tls-cost: $BIN missing (make gotargets)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$tmp"' EXIT

if [ "$WHAT" = count ] || [ "$WHAT" = count-entry ]; then
	# the floor: the same probes counting in the kernel (no record, no Lua),
	# with their RET sites (count) or at their entry only (count-entry)
	ret=$([ "$WHAT" = count ] && echo true || echo false)
	cat >"$tmp/count.lua" <<LUA
for _, f in ipairs{ "crypto/tls.(*Conn).Read", "crypto/tls.(*Conn).Write" } do
	probe{ func = f, ret = $ret, args = false }:count()
end
LUA
else
	cat >"$tmp/count.lua" <<LUA
local tls = require "luprobe.tls"
local n, bytes = 0, 0
tls.data{ $WHAT = function(r) n = n + 1; bytes = bytes + #(r.data or r.body or "") end }
on_exit(function() io.stderr:write(string.format("traced: %d records, %d bytes\n", n, bytes)) end)
LUA
fi

"$BIN" serve -addr 127.0.0.1:0 >"$tmp/srv" &
srv=$!
for _ in $(seq 50); do grep -q listening "$tmp/srv" 2>/dev/null && break; sleep 0.1; done
addr=$(awk '/listening on/ {print $3}' "$tmp/srv")

# the load generator runs a copy: uprobes are set on the binary's inode, and
# would trap in it too (filtered by pid, but paid)
cp "$BIN" "$tmp/load"
rate() { "$tmp/load" load -addr "$addr" -c 8 -d "${SECS}s" | awk '{print $6}'; }

untraced=() traced=()
for r in $(seq "$ROUNDS"); do
	u=$(rate)
	"$LUPROBE" -q "$tmp/count.lua" -p "$srv" 2>"$tmp/lp.err" &
	lp=$!
	sleep 1
	t=$(rate)
	kill -INT "$lp"
	wait "$lp" || true
	cat "$tmp/lp.err" >&2
	echo "round $r: untraced $u requests/s, traced $t requests/s"
	untraced+=("$u") traced+=("$t")
done
python3 - "${untraced[*]}" "${traced[*]}" <<'PY'
import statistics, sys
u = [float(x) for x in sys.argv[1].split()]
t = [float(x) for x in sys.argv[2].split()]
ratios = [b / a for a, b in zip(u, t)]
print(f"median untraced {statistics.median(u):.0f} requests/s, traced {statistics.median(t):.0f}, "
      f"ratio traced/untraced {statistics.median(ratios):.3f} (rounds: "
      + ", ".join(f"{r:.3f}" for r in ratios) + ")")
PY
