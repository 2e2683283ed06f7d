#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# make demo: start the computee server on a loopback port, trace it with
# scripts/computee.lua, send a few requests and show the traced calls next
# to the HTTP answers, then stop everything.
set -euo pipefail
cd "$(dirname "$0")/.."
LUPROBE=${LUPROBE:-.output/luprobe}
SERVER=${SERVER:-.output/go/computee/default}
PORT=${PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}
OUT=$(mktemp)
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo

cleanup() {
	set +e
	if [ -n "${LP:-}" ]; then kill -INT "$LP" 2>/dev/null; wait "$LP" 2>/dev/null; fi
	if [ -n "${SRV:-}" ]; then kill "$SRV" 2>/dev/null; wait "$SRV" 2>/dev/null; fi
	rm -f "$OUT"
	return 0
}
trap cleanup EXIT

echo "== starting $SERVER on 127.0.0.1:$PORT"
"$SERVER" -addr "127.0.0.1:$PORT" > /dev/null &
SRV=$!
for _ in $(seq 100); do
	curl -s -o /dev/null "http://127.0.0.1:$PORT/e?iters=1" 2>/dev/null && break
	sleep 0.05
done

echo "== tracing pid $SRV with scripts/computee.lua"
$SUDO "$LUPROBE" scripts/computee.lua -p "$SRV" > "$OUT" 2>&1 &
LP=$!
# wait until the probe is attached: luprobe's first event proves it
for _ in $(seq 200); do
	curl -s -o /dev/null "http://127.0.0.1:$PORT/e?iters=1"
	grep -q 'iterations=1)' "$OUT" && break
	sleep 0.05
done

for n in 5 10 20 150; do
	before=$(wc -l < "$OUT")
	answer=$(curl -s "http://127.0.0.1:$PORT/e?iters=$n")
	for _ in $(seq 100); do
		[ "$(wc -l < "$OUT")" -gt "$before" ] && break
		sleep 0.02
	done
	traced=$(tail -n +$((before + 1)) "$OUT" | head -1)
	printf '  GET /e?iters=%-4s -> %-12s | traced: %s\n' "$n" "$answer" "$traced"
done

echo "== stopping (Ctrl-C to luprobe)"
kill -INT "$LP"
wait "$LP" || true
LP=
tail -n 2 "$OUT"
