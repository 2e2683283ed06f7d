# SPDX-License-Identifier: BSD-2-Clause
"""luprobe.grpc on tests/go/grpcsvc, a gRPC health server, a streaming
service and their client in one process, built against
google.golang.org/grpc v1.85.0 (default and stripped builds). That grpc needs
Go 1.24, so only the newest Go builds the target; on Debian's Go 1.19 those
tests skip. Then on Debian's etcd and etcdctl (3.4, stripped, an older grpc
built by Debian's Go): the server's calls and etcdctl's."""
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

from lib import LUPROBE, ROOT, Proc, Skip, expect, expect_eq, free_port, gobin, run, write_script

CALLS = """
local grpc = require "luprobe.grpc"
grpc.calls{ side = %s, where = %s, method = luprobe.args.method, messages = luprobe.args.messages == "1",
	on_call = function(c)
	printf("G %%s %%s %%s %%s %%s %%s %%s %%s %%s %%s\\n", c.side, c.method, tostring(c.code), tostring(c.code_name),
		math.type(c.latency) == "integer" and c.latency or "-", c.peer or "-", c.stream or "-",
		c.sent or "-", c.received or "-", c.message or "-")
	io.stdout:flush()
end }
"""

CHECK = "/grpc.health.v1.Health/Check"


def _calls(variant, ok, missing, side="nil", where="nil", messages="0"):
    """(records, the client's own "call" (or "stream") lines, the listening
    address). A record's status message is its last field, spaces and all."""
    with tempfile.TemporaryDirectory() as d:
        script = write_script(d, "calls.lua", CALLS % (side, where))
        code, lines, err = run("-q", script, "-a", f"messages={messages}", "--",
                               gobin("grpcsvc", variant, "new"), str(ok), str(missing))
    expect_eq(code, 0, f"exit code ({err[-600:]})")
    got = [ln.split(" ", 10) for ln in lines if ln.startswith("G ")]
    calls = [ln.split() for ln in lines if ln.startswith(("call ", "stream "))]
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
    # unary calls: no stream, no counts; the status message of the errors
    msgs = [["-", "-", "-", "-"]] * 3 + [["-", "-", "-", "unknown service"]] * 2
    expect_eq([g[7:] for g in server], msgs, f"{variant}: server messages")
    expect_eq([g[7:] for g in client], msgs, f"{variant}: client messages")
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


ECHO = "/grpcsvc.Echo/"


def _streams(variant):
    """grpcsvc's streams (Count, Sum, Chat, and a Chat that fails), K = 3
    messages each, with the counts of messages."""
    got, calls, addr = _calls(variant, "streams", 3, messages="1")
    # the program's own lines: method, code, sent, received
    expect_eq([c[1:5] for c in calls],
              [[ECHO + "Count", "0", "1", "3"], [ECHO + "Sum", "0", "3", "1"],
               [ECHO + "Chat", "0", "3", "3"], [ECHO + "Chat", "3", "4", "3"]], "the client's streams")
    server = [g for g in got if g[1] == "server"]
    client = [g for g in got if g[1] == "client"]
    # method, code, name, peer is checked below; kind, sent, received, message
    kinds = ["server", "client", "bidi", "bidi"]
    codes = [["0", "OK"]] * 3 + [["3", "InvalidArgument"]]
    msgs = ["-"] * 3 + ["bad message"]
    want = [[c[1], *code, kind, c[3], c[4], m] for c, code, kind, m in zip(calls, codes, kinds, msgs)]
    expect_eq([[g[2], g[3], g[4], g[7], g[8], g[9], g[10]] for g in client], want,
              f"{variant}: client streams")
    # the server sends what the client receives, and receives what it sends
    want = [[c[1], *code, kind, c[4], c[3], m] for c, code, kind, m in zip(calls, codes, kinds, msgs)]
    expect_eq([[g[2], g[3], g[4], g[7], g[8], g[9], g[10]] for g in server], want,
              f"{variant}: server streams")
    expect_eq({g[6] for g in client}, {addr}, f"{variant}: client peer")
    for s, c, own in zip(server, client, calls):
        expect(0 < int(s[5]) <= int(c[5]) <= int(own[5]),
               f"{variant}: {s[2]}: latencies server {s[5]} client {c[5]} measured {own[5]}")


def test_grpc_streams_of_each_kind():
    _streams("default")


def test_grpc_streams_on_a_stripped_build():
    _streams("stripped")


def test_grpc_streams_without_message_counts():
    got, calls, _ = _calls("stripped", "streams", 2)
    expect_eq(len(calls), 4, "the client's streams")
    for side in ("server", "client"):
        expect_eq([g[2:5] + g[7:] for g in got if g[1] == side],
                  [[ECHO + "Count", "0", "OK", "server", "-", "-", "-"],
                   [ECHO + "Sum", "0", "OK", "client", "-", "-", "-"],
                   [ECHO + "Chat", "0", "OK", "bidi", "-", "-", "-"],
                   [ECHO + "Chat", "3", "InvalidArgument", "bidi", "-", "-", "bad message"]], side)


def test_grpc_calls_of_one_method():
    with tempfile.TemporaryDirectory() as d:
        script = write_script(d, "calls.lua", CALLS % ("nil", "nil"))
        for method, want in ((ECHO + "Sum", [ECHO + "Sum"] * 2), (ECHO, [ECHO + "Count"] * 2 + [ECHO + "Sum"] * 2
                                                                   + [ECHO + "Chat"] * 4)):
            code, lines, err = run("-q", script, "-a", f"method={method}", "--",
                                   gobin("grpcsvc", "stripped", "new"), "streams", "1")
            expect_eq(code, 0, f"exit code ({err[-600:]})")
            expect_eq(sorted(ln.split()[2] for ln in lines if ln.startswith("G ")), sorted(want), method)


# ---- Debian's etcd (etcd-server, etcd-client: scripts/install-deps.sh) ----

ETCD_CALLS = """
local grpc = require "luprobe.grpc"
grpc.calls{ side = luprobe.args.side, method = luprobe.args.method, messages = true, on_call = function(c)
	printf("G %s %s %s %s %s %s %s %s %s %s\\n", c.side, c.method, tostring(c.code), tostring(c.code_name),
		math.type(c.latency) == "integer" and c.latency or "-", c.peer or "-", c.stream or "-",
		c.sent or "-", c.received or "-", c.message or "-")
	io.stdout:flush()
end }
"""

KV = "/etcdserverpb.KV/"
LEASE_MISSING = "etcdserver: requested lease not found"


def _etcd_bins():
    bins = [shutil.which("etcd"), shutil.which("etcdctl")]
    if not all(bins):
        raise Skip("etcd-server and etcd-client not installed (scripts/install-deps.sh)")
    return bins


class _Etcd:
    """A one-member etcd on loopback ports of its own and a temporary data
    directory, started under luprobe with ETCD_CALLS on its server side."""

    def __init__(self, d, script, *args):
        etcd, self.etcdctl = _etcd_bins()
        self.client = f"127.0.0.1:{free_port()}"
        peer = f"http://127.0.0.1:{free_port()}"
        self.lp = Proc([LUPROBE, "-q", script, "-a", "side=server", *args, "--", etcd, "--name", "t",
                        "--data-dir", os.path.join(d, "data"),
                        "--listen-client-urls", f"http://{self.client}",
                        "--advertise-client-urls", f"http://{self.client}",
                        "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                        "--initial-cluster", f"t={peer}"])
        self.lp.wait_stderr("ready to serve client requests", timeout=60)

    def ctl(self, *args, traced=None):
        """Run etcdctl (under luprobe with script traced, if given):
        (exit code, stdout lines, nanoseconds it took)."""
        argv = [self.etcdctl, "--endpoints", self.client, "--command-timeout=20s", *args]
        if traced:
            argv = [LUPROBE, "-q", traced, "-a", "side=client", "--", *argv]
        t = time.monotonic_ns()
        p = subprocess.run(argv, capture_output=True, text=True, timeout=60,
                           env={**os.environ, "ETCDCTL_API": "3"})
        return p.returncode, p.stdout.splitlines(), time.monotonic_ns() - t

    def records(self, n):
        """The first n records of the server, waited for."""
        self.lp.wait_line(r"^G ", timeout=20)
        deadline = time.time() + 20
        while len(self._got()) < n and time.time() < deadline:
            self.lp._fill(0.2)
        return self._got()

    def _got(self):
        return [ln.split(" ", 10) for ln in self.lp.lines if ln.startswith("G ")]

    def stop(self):
        self.lp.signal(signal.SIGINT)
        self.lp.wait(30)


def test_grpc_etcd_server_calls():
    with tempfile.TemporaryDirectory() as d:
        script = write_script(d, "calls.lua", ETCD_CALLS)
        etcd = _Etcd(d, script)
        cmds = [(["put", "k1", "v1"], KV + "Put"), (["put", "k2", "v2"], KV + "Put"),
                (["get", "k1"], KV + "Range"), (["get", "--prefix", "k"], KV + "Range"),
                (["del", "k1"], KV + "DeleteRange")]
        took = []
        for argv, _ in cmds:
            code, _, ns = etcd.ctl(*argv)
            expect_eq(code, 0, f"etcdctl {argv}")
            took.append(ns)
        code, _, ns = etcd.ctl("lease", "revoke", "1234")
        expect_eq(code, 1, "etcdctl lease revoke of a missing lease")
        took.append(ns)
        # a watch: a bidi stream, ended by the client's end (Canceled)
        w = Proc([etcd.etcdctl, "--endpoints", etcd.client, "watch", "w1"],
                 env={**os.environ, "ETCDCTL_API": "3"})
        time.sleep(0.5)
        expect_eq(etcd.ctl("put", "w1", "x")[0], 0, "etcdctl put w1")
        w.wait_line("^PUT$", timeout=20)
        w.p.kill()
        w.wait(20)
        got = etcd.records(len(cmds) + 3)
        etcd.stop()
    want = [[m, "0", "OK", "-", "-", "-", "-"] for _, m in cmds]
    want.append(["/etcdserverpb.Lease/LeaseRevoke", "5", "NotFound", "-", "-", "-", LEASE_MISSING])
    want.append([KV + "Put", "0", "OK", "-", "-", "-", "-"])
    expect_eq([[g[2], g[3], g[4], *g[7:]] for g in got[:len(want)]], want, "etcd's unary calls")
    # etcd answers the watch's creation and its one event, on goroutines of its own
    expect_eq([g[2:5] + g[7:10] for g in got[len(want):]],
              [["/etcdserverpb.Watch/Watch", "1", "Canceled", "bidi", "2", "1"]], "etcd's watch")
    expect_eq({g[1] for g in got}, {"server"}, "sides")
    for g, ns in zip(got, took):
        expect(0 < int(g[5]) < ns, f"{g[2]}: server latency {g[5]}, etcdctl took {ns}")
        expect(re.fullmatch(r"127\.0\.0\.1:\d+", g[6]), f"{g[2]}: peer {g[6]}")


def test_grpc_etcdctl_client_calls():
    with tempfile.TemporaryDirectory() as d:
        script = write_script(d, "calls.lua", ETCD_CALLS)
        etcd = _Etcd(d, script)
        got = []
        for argv, want_code in ((["put", "k", "v"], 0), (["get", "k"], 0), (["lease", "revoke", "99"], 1)):
            code, lines, ns = etcd.ctl(*argv, traced=script)
            expect_eq(code, want_code, f"etcdctl {argv}")
            mine = [ln.split(" ", 10) for ln in lines if ln.startswith("G ")]
            expect_eq(len(mine), 1, f"etcdctl {argv}: one call in {lines}")
            expect(0 < int(mine[0][5]) < ns, f"{argv}: client latency {mine[0][5]}, etcdctl took {ns}")
            got += mine
        server = etcd.records(3)
        etcd.stop()
    want = [[KV + "Put", "0", "OK", "-"], [KV + "Range", "0", "OK", "-"],
            ["/etcdserverpb.Lease/LeaseRevoke", "5", "NotFound", LEASE_MISSING]]
    expect_eq([[g[2], g[3], g[4], g[10]] for g in got], want, "etcdctl's calls")
    expect_eq({g[1] for g in got}, {"client"}, "sides")
    # etcdctl's target names its endpoint
    for g in got:
        expect(g[6].endswith("/" + etcd.client), f"{g[2]}: peer {g[6]}")
    expect_eq([[g[2], g[3], g[4], g[10]] for g in server], want, "etcd's side of them")
    for s, c in zip(server, got):
        expect(int(s[5]) <= int(c[5]), f"{s[2]}: server latency {s[5]}, client {c[5]}")


def test_grpc_etcd_calls_of_one_service():
    with tempfile.TemporaryDirectory() as d:
        script = write_script(d, "calls.lua", ETCD_CALLS)
        etcd = _Etcd(d, script, "-a", f"method={KV}")
        expect_eq(etcd.ctl("lease", "revoke", "1234")[0], 1, "etcdctl lease revoke")
        expect_eq(etcd.ctl("put", "k", "v")[0], 0, "etcdctl put")
        got = etcd.records(1)
        time.sleep(0.5)
        etcd.stop()
        got = etcd._got()
    expect_eq([g[1:5] for g in got], [["server", KV + "Put", "0", "OK"]], "only KV's calls")


def test_grpc_methods_example_script():
    code, lines, err = run("-q", os.path.join(ROOT, "scripts", "grpc-methods.lua"),
                           "--", gobin("grpcsvc", "stripped", "new"), "streams", "2")
    expect_eq(code, 0, f"exit code ({err[-600:]})")
    rows = [ln.split() for ln in lines[lines.index(next(ln for ln in lines if ln.startswith("method "))) + 1:]]
    expect_eq([[r[0], r[1], *r[4:]] for r in rows],
              [[ECHO + "Chat", "2", "InvalidArgument=1", "(bidi-stream:", "4", "sent,", "5", "received)"],
               [ECHO + "Count", "1", "(server-stream:", "2", "sent,", "1", "received)"],
               [ECHO + "Sum", "1", "(client-stream:", "1", "sent,", "2", "received)"]], "the server's methods")
