# SPDX-License-Identifier: BSD-2-Clause
"""luprobe.tls: the plaintext of crypto/tls connections, on loopback, with real
parts started by the test: tests/go/tlsecho's HTTPS server (HTTP/2 and
HTTP/1.1, certificate made at startup) and its Go client, and curl with
--http1.1 and --http2. Both sides of the Go client's connection are traced
(a probe with target = the binary covers every process running it): the
requests and bodies each side wrote and read, exact, with each side's local
and remote address; curl's requests as the server saw them; HTTP/2 left as
frames. The same on the stripped build, by Go 1.19 and the newest Go."""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile

from lib import (SCRIPTS, Proc, Skip, each_toolchain, expect, expect_eq, gobin, luprobe, run,
                 write_script)

SCRIPT = r'''
local tls = require "luprobe.tls"
local json = require "luprobe.json"
local function out(t)
  print(json.encode(t))
  io.stdout:flush()
end
tls.data{
  target = luprobe.args.bin,
  on_data = function(d)
    out{ record = "data", dir = d.dir, data = d.data, len = d.len, truncated = d.truncated,
         ["local"] = d["local"] or false, remote = d.remote or false, pid = d.pid, h2 = d.h2,
         conn = d.conn }
  end,
  on_http = function(m)
    out{ record = "http", dir = m.dir, kind = m.kind, method = m.method or false,
         target = m.target or false, proto = m.proto, status = m.status or false,
         body = m.body or false, body_len = m.body_len or false, truncated = m.truncated or false,
         chunked = m.chunked or false,
         ["local"] = m["local"] or false, remote = m.remote or false, pid = m.pid }
  end,
}
attach()
print("ready")
io.stdout:flush()
'''

H2_PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def _curl(*args):
    if not shutil.which("curl"):
        raise Skip("curl is not installed (scripts/install-deps.sh installs it)")
    p = subprocess.run(["curl", "-sk", "--max-time", "10", *args], capture_output=True,
                       text=True, timeout=20)
    expect_eq(p.returncode, 0, f"curl {args}: exit code ({p.stderr})")
    return p.stdout


def _records(lp):
    out = []
    for ln in lp.lines:
        if ln.startswith("{"):
            out.append(json.loads(ln))
    return out


def _msg(r):
    """An HTTP message record as (dir, start line, body)."""
    line = (f"{r['method']} {r['target']} {r['proto']}" if r["kind"] == "request"
            else f"{r['proto']} {r['status']}")
    return (r["dir"], line, r["body"])


def _trace(variant, tmp):
    binary = gobin("tlsecho", variant)
    script = write_script(tmp, "tls.lua", SCRIPT)
    lp = luprobe("-q", script, "-a", f"bin={binary}")
    lp.wait_line(r"^ready$", timeout=30)
    return binary, lp


@each_toolchain
def test_go_server_client_and_curl_plaintext_on_both_sides():
    for variant in ("default", "stripped"):
        with tempfile.TemporaryDirectory() as tmp:
            _both_sides(variant, tmp)


def _both_sides(variant, tmp):
    binary, lp = _trace(variant, tmp)
    srv = Proc([binary, "serve", "-addr", "127.0.0.1:0"])
    addr = srv.wait_line(r"^listening on (\S+)$", timeout=30).group(1)
    cli = Proc([binary, "client", "-addr", addr])
    cli.wait_line(r"^client done$", timeout=30)
    expect_eq(cli.lines[:2], ['200 "hello\\n"', '200 "echo: ping from go"'], "client output")
    expect_eq(cli.wait(10), 0, "client exit code")
    expect_eq(_curl("--http1.1", "-H", "User-Agent: t", "-d", "ping from curl",
                    f"https://{addr}/echo"), "echo: ping from curl", "curl --http1.1")
    expect_eq(_curl("--http2", "-d", "ping from curl2", f"https://{addr}/echo"),
              "echo: ping from curl2", "curl --http2")
    # the last events are those of curl --http2's connection: wait for its end
    lp.wait_line(r'echo: ping from curl2"', timeout=20)
    srv.signal(signal.SIGTERM)
    srv.wait(10)
    lp.signal(signal.SIGINT)
    expect_eq(lp.wait(20), 0, f"{variant}: luprobe exit code ({lp.stderr()[-400:]})")
    recs = _records(lp)
    what = f"{variant}: "

    # the server: every request it read and every response it wrote
    server = [r for r in recs if r["record"] == "http" and r["pid"] == srv.pid]
    expect_eq([_msg(r) for r in server], [
        ("read", "GET /hello HTTP/1.1", ""),
        ("write", "HTTP/1.1 200", "hello\n"),
        ("read", "POST /echo HTTP/1.1", "ping from go"),
        ("write", "HTTP/1.1 200", "echo: ping from go"),
        ("read", "POST /echo HTTP/1.1", "ping from curl"),
        ("write", "HTTP/1.1 200", "echo: ping from curl"),
    ], what + "server's HTTP/1 messages")
    expect(all(r["local"] == addr for r in server), f"{what}server's local address: {server}")
    go_peer, curl_peer = server[0]["remote"], server[4]["remote"]
    expect(re.fullmatch(r"127\.0\.0\.1:\d+", go_peer) and go_peer != addr,
           f"{what}server's remote address {go_peer}")
    expect(all(r["remote"] == go_peer for r in server[:4]), f"{what}one connection: {server}")
    expect(curl_peer != go_peer, f"{what}curl's connection is another one: {server}")

    # the client: the same, from the other side of the same connection (net/http's
    # client writes and reads on two goroutines: each direction in order)
    client = [r for r in recs if r["record"] == "http" and r["pid"] == cli.pid]
    for d, want in (("write", [("write", "GET /hello HTTP/1.1", ""),
                               ("write", "POST /echo HTTP/1.1", "ping from go")]),
                    ("read", [("read", "HTTP/1.1 200", "hello\n"),
                              ("read", "HTTP/1.1 200", "echo: ping from go")])):
        expect_eq([_msg(r) for r in client if r["dir"] == d], want,
                  f"{what}client's HTTP/1 messages, {d}")
    expect(all(r["local"] == go_peer and r["remote"] == addr for r in client),
           f"{what}client's addresses: {client}")
    first = [r for r in recs if r["record"] == "data" and r["pid"] == cli.pid
             and r["dir"] == "write"][0]
    expect_eq(first["data"], f"GET /hello HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: tlsecho\r\n\r\n",
              what + "the client's first write, exact")

    # curl --http2: frames, not decoded; the preface, the body and the answer are in them
    h2 = [r for r in recs if r["record"] == "data" and r["pid"] == srv.pid and r["h2"]]
    expect(h2, f"{what}no HTTP/2 connection seen: {recs}")
    conns = {r["conn"] for r in h2}
    expect_eq(len(conns), 1, what + "HTTP/2 connections")
    reads = [r for r in h2 if r["dir"] == "read"]
    expect_eq(reads[0]["data"], H2_PREFACE, what + "the HTTP/2 preface")
    expect("ping from curl2" in "".join(r["data"] for r in reads), f"{what}request body: {reads}")
    writes = "".join(r["data"] for r in h2 if r["dir"] == "write")
    expect("echo: ping from curl2" in writes, f"{what}response body: {writes!r}")
    expect(all(r["local"] == addr for r in h2), f"{what}HTTP/2 local address: {h2}")
    expect(not any("curl2" in (r["body"] or "") for r in recs if r["record"] == "http"),
           what + "HTTP/2 decoded as HTTP/1")
    for r in recs:
        if r["record"] == "data" and not r["h2"]:
            expect_eq((len(r["data"].encode()), r["truncated"]), (r["len"], False),
                      f"{what}bytes of {r}")


def test_http1_decoding_across_calls():
    """What the decoder must get right beyond one call, one message: the response to
    HEAD has a Content-Length and no body (the next response on the connection is
    not taken for it), an interim 100 Continue, a body longer than a call's capture
    (cut, said truncated), a chunked response (not decoded, said chunked)."""
    with tempfile.TemporaryDirectory() as tmp:
        binary, lp = _trace("default", tmp)
        srv = Proc([binary, "serve", "-addr", "127.0.0.1:0"])
        addr = srv.wait_line(r"^listening on (\S+)$", timeout=30).group(1)
        _curl("--http1.1", "--head", f"https://{addr}/hello", "--next", "-sk", "--http1.1",
              f"https://{addr}/hello")
        big = os.path.join(tmp, "big")
        with open(big, "w") as f:
            f.write("y" * 5000)
        _curl("--http1.1", "-H", "Expect: 100-continue", "--data-binary", "@" + big,
              f"https://{addr}/echo", "-o", "/dev/null")
        _curl("--http1.1", "-d", "small", f"https://{addr}/echo")
        lp.wait_line(r'"body":"echo: small"', timeout=20)
        srv.signal(signal.SIGTERM)
        srv.wait(10)
        lp.signal(signal.SIGINT)
        expect_eq(lp.wait(20), 0, f"luprobe exit code ({lp.stderr()[-400:]})")
    msgs = [r for r in _records(lp) if r["record"] == "http" and r["pid"] == srv.pid]
    got = [(*_msg(r), r["truncated"], r["chunked"]) for r in msgs]
    expect_eq(got, [
        ("read", "HEAD /hello HTTP/1.1", "", False, False),
        ("write", "HTTP/1.1 200", "", False, False),
        ("read", "GET /hello HTTP/1.1", "", False, False),
        ("write", "HTTP/1.1 200", "hello\n", False, False),
        ("write", "HTTP/1.1 100", "", False, False),
        ("read", "POST /echo HTTP/1.1", "y" * 256, True, False),
        ("write", "HTTP/1.1 200", False, False, True),
        ("read", "POST /echo HTTP/1.1", "small", False, False),
        ("write", "HTTP/1.1 200", "echo: small", False, False),
    ], "server's messages")


@each_toolchain
def test_tls_over_a_unix_socket_has_no_tcp_addresses():
    """c.conn is a *net.UnixConn: the type assertions to *net.TCPConn and
    *net.TCPAddr fail, so the addresses are nil (read as a TCPConn, the
    UnixConn's netFD would give the socket's path and a pointer as an address),
    and the plaintext is still seen."""
    for variant in ("default", "stripped"):
        with tempfile.TemporaryDirectory() as tmp:
            sock = os.path.join(tmp, "s")
            script = write_script(tmp, "tls.lua", SCRIPT.replace("target = luprobe.args.bin,", ""))
            code, lines, err = run("-q", script, "--", gobin("tlsecho", variant), "unix",
                                   "-sock", sock)
            expect_eq(code, 0, f"{variant}: exit code ({err[-400:]})")
            recs = [json.loads(ln) for ln in lines if ln.startswith("{")]
            expect(recs, f"{variant}: no records: {lines}")
            expect(all(r["local"] is False and r["remote"] is False for r in recs),
                   f"{variant}: addresses: {recs}")
            msgs = sorted(_msg(r) for r in recs if r["record"] == "http")
            expect_eq(msgs, [("read", "GET /hello HTTP/1.1", ""),
                             ("read", "HTTP/1.1 200", "hello\n"),
                             ("write", "GET /hello HTTP/1.1", ""),
                             ("write", "HTTP/1.1 200", "hello\n")], f"{variant}: messages")
            # the field path itself: unreadable, not the UnixAddr's words read as a TCPAddr
            path = "c.conn.(*net.TCPConn).fd.laddr.(*net.TCPAddr).Port"
            code, lines, err = run("-q", "-e", 'probe{ func = "crypto/tls.(*Conn).Write", '
                                   'args = { "%s" } }' % path, "--", gobin("tlsecho", variant),
                                   "unix", "-sock", sock)
            expect_eq(code, 0, f"{variant}: exit code ({err[-400:]})")
            events = [ln for ln in lines if ln.startswith("crypto/")]
            expect(len(events) >= 2 and all(re.fullmatch(
                r"crypto/tls\.\(\*Conn\)\.Write\(%s=\?\)  goroutine \d+" % re.escape(path), ln)
                for ln in events), f"{variant}: {events}")


def test_type_assertion_refusals():
    binary = gobin("tlsecho")
    cases = [
        ("c.isClient.(*net.TCPConn)",
         "c: .(*net.TCPConn): bool is not an interface"),
        ("c.conn.(net.TCPConn)",
         "c: .(net.TCPConn): a field path asserts pointers to named "
         "types the binary describes, as .(*net.TCPConn)"),
        ("c.conn.(*nosuch.T).fd",
         "c: .(*nosuch.T): a field path asserts pointers to named "
         "types the binary describes, as .(*net.TCPConn)"),
        ("c.conn.(*net.TCPConn",
         "c.conn.(*net.TCPConn: a type assertion is written .(*T)"),
    ]
    for path, msg in cases:
        code, lines, err = run("-e", 'probe{ func = "crypto/tls.(*Conn).Read", args = { "%s" } }'
                               % path, "--", binary, "client")
        expect_eq(code, 1, f"{path}: exit code")
        expect_eq(err.strip(), f"luprobe: (command line):1: {msg}", f"{path}: message")
    # the kernel does not check an asserted type: no aggregation reads such a path
    path = "c.conn.(*net.TCPConn).fd.raddr.(*net.TCPAddr).Port"
    code, lines, err = run("-e", 'probe{ func = "crypto/tls.(*Conn).Read", ret = true, '
                           'args = false }:count("%s")' % path, "--", binary, "client")
    expect_eq(code, 1, "aggregation: exit code")
    expect_eq(err.strip(), "luprobe: (command line):1: crypto/tls.(*Conn).Read: no parameter or "
              f"result '{path}' to aggregate", "aggregation: message")


def test_tls_plaintext_script_prints_http1_messages():
    """scripts/tls-plaintext.lua -a http=1 on the stripped server, curl --http1.1."""
    lp = luprobe("-q", os.path.join(SCRIPTS, "tls-plaintext.lua"), "-a", "http=1", "--",
                 gobin("tlsecho", "stripped"), "serve", "-addr", "127.0.0.1:0")
    addr = lp.wait_line(r"^listening on (\S+)$", timeout=30).group(1)
    expect_eq(_curl("--http1.1", "-d", "ping from curl", f"https://{addr}/echo"),
              "echo: ping from curl", "curl --http1.1")
    lp.wait_line(r" http  HTTP/1\.1 200 OK", timeout=20)
    lp.signal(signal.SIGINT)
    expect_eq(lp.wait(20), 0, f"exit code ({lp.stderr()[-400:]})")
    port_re = re.escape(addr)
    got = [ln for ln in lp.lines if " http " in ln]
    want = [port_re + r' <- 127\.0\.0\.1:\d+ http  POST /echo HTTP/1\.1  body "ping from curl"',
            port_re + r' -> 127\.0\.0\.1:\d+ http  HTTP/1\.1 200 OK  body "echo: ping from curl"']
    expect_eq(len(got), 2, f"lines: {lp.lines}")
    for g, w in zip(got, want):
        expect(re.fullmatch(w, g), f"{g!r} does not match {w!r}")
