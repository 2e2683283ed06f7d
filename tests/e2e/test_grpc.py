# SPDX-License-Identifier: BSD-2-Clause
"""luprobe.grpc on tests/go/grpcsvc, a gRPC health server and its client in
one process, built against google.golang.org/grpc v1.85.0 (default and
stripped builds). That grpc needs Go 1.24, so only the newest Go builds the
target; on Debian's Go 1.19 the tests skip."""
import os
import re
import tempfile

from lib import ROOT, expect, expect_eq, gobin, run, write_script

CALLS = """
local grpc = require "luprobe.grpc"
grpc.calls{ side = %s, where = %s, on_call = function(c)
	printf("G %%s %%s %%s %%s %%s %%s\\n", c.side, c.method, tostring(c.code), tostring(c.code_name),
		math.type(c.latency) == "integer" and c.latency or "-", c.peer or "-")
end }
"""

CHECK = "/grpc.health.v1.Health/Check"


def _calls(variant, ok, missing, side="nil", where="nil"):
    """(records, the client's own "call" lines, the listening address)."""
    with tempfile.TemporaryDirectory() as d:
        script = write_script(d, "calls.lua", CALLS % (side, where))
        code, lines, err = run("-q", script, "--", gobin("grpcsvc", variant, "new"),
                               str(ok), str(missing))
    expect_eq(code, 0, f"exit code ({err[-600:]})")
    got = [ln.split() for ln in lines if ln.startswith("G ")]
    calls = [ln.split() for ln in lines if ln.startswith("call ")]
    addr = [ln.split()[1] for ln in lines if ln.startswith("listening ")]
    expect_eq(len(addr), 1, f"the server's address in {lines}")
    return got, calls, addr[0]


def _check(variant):
    got, calls, addr = _calls(variant, 3, 2)
    expect_eq([c[1:3] for c in calls], [["ok", "0"]] * 3 + [["missing", "5"]] * 2, "the client's calls")
    server = [g for g in got if g[1] == "server"]
    client = [g for g in got if g[1] == "client"]
    want = [[CHECK, "0", "OK"]] * 3 + [[CHECK, "5", "NotFound"]] * 2
    expect_eq([g[2:5] for g in server], want, f"{variant}: server calls")
    expect_eq([g[2:5] for g in client], want, f"{variant}: client calls")
    # the client's peer is its target, the server's the client's one connection
    expect_eq({g[6] for g in client}, {addr}, f"{variant}: client peer")
    peers = {g[6] for g in server}
    expect_eq(len(peers), 1, f"{variant}: one connection: {peers}")
    peer = peers.pop()
    expect(re.fullmatch(r"127\.0\.0\.1:\d+", peer) and peer != addr, f"{variant}: server peer {peer}")
    # each call's latency: the server's within the client's, the client's
    # within what the client measured around the call
    for s, c, own in zip(server, client, calls):
        expect(0 < int(s[5]) <= int(c[5]) <= int(own[3]),
               f"{variant}: latencies server {s[5]} client {c[5]} measured {own[3]}")


def test_grpc_calls_have_method_code_latency_and_peer():
    _check("default")


def test_grpc_calls_on_a_stripped_build():
    _check("stripped")


def test_grpc_calls_of_one_side():
    for side in ("server", "client"):
        got, _, _ = _calls("stripped", 1, 2, side=f'"{side}"')
        expect_eq([g[1:5] for g in got], [[side, CHECK, "0", "OK"]] + [[side, CHECK, "5", "NotFound"]] * 2,
                  f"side = {side}")


def test_grpc_calls_filtered_in_the_kernel():
    got, _, _ = _calls("stripped", 1, 1, side='"server"',
                       where=f"'stream.Stream.method == \"{CHECK}\"'")
    expect_eq([g[1:5] for g in got], [["server", CHECK, "0", "OK"], ["server", CHECK, "5", "NotFound"]],
              "server calls of that method")
    got, _, _ = _calls("stripped", 1, 1, side='"client"', where="'method == \"/x.Y/Z\"'")
    expect_eq(got, [], "no client call of another method")


def test_grpc_calls_example_script():
    code, lines, err = run("-q", os.path.join(ROOT, "scripts", "grpc-calls.lua"), "-a", "errors=1",
                           "--", gobin("grpcsvc", "stripped", "new"), "2", "1")
    expect_eq(code, 0, f"exit code ({err[-600:]})")
    got = sorted(ln.split()[:3] for ln in lines if ln.startswith(("server ", "client ")))
    expect_eq(got, [["client", CHECK, "NotFound(5)"], ["server", CHECK, "NotFound(5)"]],
              "only the NotFound call, on each side")
