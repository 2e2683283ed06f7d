# SPDX-License-Identifier: BSD-2-Clause
"""--metrics and e.time: the Prometheus text exposition of the script's
aggregations and luprobe's own counters (names, types, cumulative buckets),
a real Prometheus that scrapes it and returns through its query API exactly
what the kernel kept, scrapes during an overloaded run that neither wait nor
make the timers wait, and the wall-clock time of events."""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

from lib import (ROOT, Proc, Skip, expect, expect_eq, free_port, gobin, luprobe, run,
                 write_script)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
N = 40  # calls of main.tick the aggs target makes: tick(0) ... tick(39)

# log2 buckets of i for i = 0..39, cumulative: le -> count; shown up to 2^35 - 1
I_LOG2 = {"0": 1, "1": 2, "3": 4, "7": 8, "15": 16, "31": 32, "+Inf": 40,
          **{str(2 ** k - 1): 40 for k in range(6, 36)}}
# lhist(i, 0, 40, 10): below 0, [0, 10), ... [30, 40), cumulative
I_LINEAR = {"-1": 0, "9": 10, "19": 20, "29": 30, "39": 40, "+Inf": 40}

SCRIPT = """
local agg = require "luprobe.agg"
local metrics = require "luprobe.metrics"
local p = probe{ func = "main.tick", args = { "i" }, ret = true }
p:count()
p:hist("i")
p:hist("latency")
metrics.export(p:lhist("i", 0, 40, 10), { name = "tick_i_linear", help = "i, in tens" })
metrics.export(p:count("i"), false)
local parity = agg.count("tick parity")
local odd = agg.count("odd keys")
local isum = agg.sum{ title = "i in Lua", name = "tick_i_lua", help = "Sum of i, in Lua" }
p:on_event(function(e)
	parity:add(e.args.i % 2 == 0 and "even" or "odd")
	isum:add(e.args.i)
	if e.args.i == 0 then odd:add('a"b\\\\c\\nd') end
end)
"""


def _get(port, path, method="GET", timeout=10):
    """(status, content type, body) of an HTTP request to luprobe."""
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers.get("Content-Type"), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), e.read().decode()


def _series(text):
    """{'name{labels}': 'value'} of an exposition text."""
    out = {}
    for ln in text.splitlines():
        if ln and not ln.startswith("#"):
            name, value = ln.rsplit(" ", 1)
            out[name] = value
    return out


def _start(d, script, port, *extra, target_args=("-mode", "ticks", "-n", str(N), "-ms", "20",
                                                   "-wait")):
    p = luprobe("--metrics", f"127.0.0.1:{port}", *extra, write_script(d, "m.lua", script),
                "--", gobin("aggs"), *target_args)
    p.wait_stderr(f"luprobe: metrics at http://127.0.0.1:{port}/metrics", timeout=15)
    return p


def _json_aggs(lines):
    return {o["aggregation"]: o for o in (json.loads(ln) for ln in lines if ln.startswith("{"))
            if "aggregation" in o}


def test_metrics_exposition_names_types_cumulative_buckets_and_own_counters():
    port = free_port()
    with tempfile.TemporaryDirectory() as d:
        p = _start(d, SCRIPT, port, "--json")
        p.wait_line(r"^done$", timeout=20)
        status, ctype, text = _get(port, "/metrics")
        expect_eq((status, ctype), (200, CONTENT_TYPE), "status and content type")
        s = _series(text)
        # the numbers are read, never changed: a second scrape is the same
        expect_eq(_series(_get(port, "/metrics")[2]), s, "a second scrape")
        p.signal(signal.SIGINT)
        expect_eq(p.wait(20), 0, f"exit code ({p.stderr()})")
    # every family says what it is; counters end in _total, latency is in seconds
    types = dict(re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M))
    helps = dict(re.findall(r"^# HELP (\S+) (.*)$", text, re.M))
    expect_eq(set(helps), set(types), "a HELP line for every TYPE")
    for name, t in types.items():
        expect(re.fullmatch(r"[a-z_][a-z0-9_]*", name), f"{name}: snake_case")
        expect((t == "counter") == name.endswith("_total"), f"{name} ({t}): _total iff counter")
    expect_eq({k: types[k] for k in ("luprobe_calls_total", "luprobe_i", "luprobe_latency_seconds",
                                      "tick_i_linear", "luprobe_tick_parity_total")},
              {"luprobe_calls_total": "counter", "luprobe_i": "histogram",
               "luprobe_latency_seconds": "histogram", "tick_i_linear": "histogram",
               "luprobe_tick_parity_total": "counter"}, "types")
    expect_eq((helps["tick_i_linear"], helps["tick_i_lua_total"]),
              ("i, in tens", "Sum of i, in Lua"), "the script's help")
    expect(not any(k.startswith("luprobe_calls_total{") and "i=" in k for k in s),
           "metrics.export(a, false) hides the count by i")
    # luprobe's own counters
    fn = 'function="main.tick"'
    want = {"luprobe_events_total": str(N), "luprobe_events_lost_total": "0",
            "luprobe_errors_total": "0", "luprobe_probes": "1",
            f'luprobe_probe_events_total{{probe="1",{fn}}}': str(N),
            f'luprobe_probe_enabled{{probe="1",{fn}}}': "1",
            f'luprobe_probe_functions{{probe="1",{fn}}}': "1",
            f"luprobe_calls_total{{{fn}}}": str(N),
            'luprobe_tick_parity_total{key="even"}': str(N // 2),
            'luprobe_tick_parity_total{key="odd"}': str(N // 2),
            'luprobe_odd_keys_total{key="a\\"b\\\\c\\nd"}': "1",
            "tick_i_lua_total": str(sum(range(N)))}
    expect_eq({k: s.get(k) for k in want}, want, "counters")
    expect(int(s["luprobe_uprobes_attached"]) >= 2, "uprobes attached")
    start = float(s["luprobe_start_time_seconds"])
    expect(time.time() - 120 < start <= time.time(), f"start time {start}")
    # histograms: cumulative le buckets, +Inf equal to _count, _sum
    for name, want_b in (("luprobe_i", I_LOG2), ("tick_i_linear", I_LINEAR)):
        got = {m.group(1): int(v) for k, v in s.items()
               for m in [re.fullmatch(rf'{name}_bucket{{{fn},le="([^"]+)"}}', k)] if m}
        expect_eq(got, want_b, f"{name} buckets")
        expect_eq(s[f"{name}_count{{{fn}}}"], str(N), f"{name}_count")
    expect_eq(s[f"luprobe_i_sum{{{fn}}}"], str(sum(range(N))), "luprobe_i_sum")
    les = [m.group(1) for m in re.finditer(
        r'^luprobe_latency_seconds_bucket\{function="main\.tick",le="([^"]+)"\} (\d+)$',
        text, re.M)]
    expect_eq(les[:4], ["0", "1e-09", "3e-09", "7e-09"], "latency buckets: largest ns, in s")
    counts = [int(m.group(1)) for m in re.finditer(
        r'^luprobe_latency_seconds_bucket\{[^}]*\} (\d+)$', text, re.M)]
    expect(counts == sorted(counts) and counts[-1] == N, f"cumulative: {counts}")
    # the kernel's own histogram, printed at exit, has the same buckets and sum
    k = _json_aggs(p.lines)["main.tick hist latency"]["groups"][0]
    for le, cum in zip(les, counts):
        if le != "+Inf":
            top = round(float(le) * 1e9)
            want_cum = sum(b["count"] for b in k["buckets"]
                           if b.get("max") is not None and b["max"] - 1 <= top)
            expect_eq(cum, want_cum, f"latency le={le}")
    expect(abs(float(s[f"luprobe_latency_seconds_sum{{{fn}}}"]) - k["sum"] / 1e9) < 1e-12,
           "latency sum in seconds")


def test_metrics_http_paths_methods_and_bad_addresses():
    port = free_port()
    with tempfile.TemporaryDirectory() as d:
        p = _start(d, 'probe{ func = "main.tick", args = false }:count()', port)
        p.wait_line(r"^done$", timeout=20)
        expect_eq(_get(port, "/")[0:1], (200,), "/")
        expect_eq(_get(port, "/metrics?x=1")[0], 200, "/metrics with a query string")
        expect_eq(_get(port, "/other"), (404, "text/plain; charset=utf-8",
                                         "not found: metrics are at /metrics\n"), "/other")
        expect_eq(_get(port, "/metrics", method="POST")[0], 405, "POST")
        status, ctype, body = _get(port, "/metrics", method="HEAD")
        expect_eq((status, ctype, body), (200, CONTENT_TYPE, ""), "HEAD")
        # a client that sends half a request and stalls holds nothing up
        stalled = socket.create_connection(("127.0.0.1", port))
        stalled.sendall(b"GET /metr")
        expect_eq(_get(port, "/metrics", timeout=2)[0], 200, "a scrape beside a stalled client")
        stalled.close()
        p.signal(signal.SIGINT)
        expect_eq(p.wait(20), 0, f"exit code ({p.stderr()})")
    code, _, err = run("--metrics", "nonsense", "-e", "print(1)")
    expect_eq((code, err), (1, "luprobe: --metrics nonsense: give [ADDR:]PORT, e.g. 9464 or "
                               "127.0.0.1:9464\n"), "a bad address")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        code, _, err = run("--metrics", f"127.0.0.1:{taken}", "-e", "print(1)")
    expect_eq((code, err), (1, f"luprobe: --metrics 127.0.0.1:{taken}: cannot listen there: "
                               "Address already in use (choose another port)\n"), "a port in use")


# ---- a real Prometheus ----

def _prometheus():
    """The prometheus binary, installed by the project's setup when missing."""
    if not shutil.which("prometheus"):
        r = subprocess.run([os.path.join(ROOT, "scripts", "install-deps.sh")],
                           env={**os.environ, "LUPROBE_EXTRA_PKGS": "prometheus"},
                           capture_output=True, text=True, timeout=600)
        if not shutil.which("prometheus"):
            raise Skip("Debian's prometheus could not be installed "
                       f"(scripts/install-deps.sh: {r.stderr.strip()[-300:]})")
    return shutil.which("prometheus")


def _query(pport, q):
    url = f"http://127.0.0.1:{pport}/api/v1/query?" + urllib.parse.urlencode({"query": q})
    with urllib.request.urlopen(url, timeout=5) as r:
        body = json.loads(r.read())
    expect_eq(body.get("status"), "success", f"query {q}")
    return body["data"]["result"]


def _wait_value(pport, q, want, timeout=30):
    """Poll the query until its one result is want (bounded): the scrapes after the workload."""
    deadline = time.time() + timeout
    got = None
    while time.time() < deadline:
        res = _query(pport, q)
        got = [r["value"][1] for r in res]
        if got == [want]:
            return
        time.sleep(0.25)
    raise AssertionError(f"{q}: {got} after {timeout}s, want [{want!r}]")


def _buckets(pport, q):
    return {r["metric"]["le"]: int(r["value"][1]) for r in _query(pport, q)}


def test_prometheus_scrapes_the_exact_counts_and_buckets_the_kernel_kept():
    prom = _prometheus()
    port, pport = free_port(), free_port()
    with tempfile.TemporaryDirectory() as d:
        cfg = write_script(d, "prometheus.yml", f"""
global:
  scrape_interval: 250ms
  scrape_timeout: 200ms
scrape_configs:
  - job_name: luprobe
    static_configs:
      - targets: ["127.0.0.1:{port}"]
""")
        pr = Proc([prom, f"--config.file={cfg}", f"--storage.tsdb.path={d}/data",
                   f"--web.listen-address=127.0.0.1:{pport}", "--log.level=warn"])
        try:
            deadline = time.time() + 30
            while True:
                try:
                    if urllib.request.urlopen(f"http://127.0.0.1:{pport}/-/ready",
                                              timeout=2).status == 200:
                        break
                except OSError:
                    pass
                expect(pr.p.poll() is None, f"prometheus exited: {pr.stderr()[-800:]}")
                expect(time.time() < deadline, "prometheus ready within 30 s")
                time.sleep(0.2)
            # the workload runs while prometheus scrapes: 40 calls, 20 ms apart
            p = _start(d, SCRIPT, port, "--json")
            p.wait_line(r"^done$", timeout=20)
            fn = '{function="main.tick"}'
            _wait_value(pport, f"luprobe_calls_total{fn}", str(N))
            expect_eq(_query(pport, "up")[0]["value"][1], "1", "the target is up")
            for q, want in ((f"luprobe_events_total", str(N)),
                            ('luprobe_tick_parity_total{key="even"}', str(N // 2)),
                            (f"luprobe_latency_seconds_count{fn}", str(N)),
                            (f"luprobe_i_sum{fn}", str(sum(range(N))))):
                _wait_value(pport, q, want)
            expect_eq(_buckets(pport, f"luprobe_i_bucket{fn}"), I_LOG2, "log2 buckets of i")
            expect_eq(_buckets(pport, f"tick_i_linear_bucket{fn}"), I_LINEAR,
                      "linear buckets of i")
            lat = _buckets(pport, f"luprobe_latency_seconds_bucket{fn}")
            lat_sum = float(_query(pport, f"luprobe_latency_seconds_sum{fn}")[0]["value"][1])
            p.signal(signal.SIGINT)
            expect_eq(p.wait(20), 0, f"exit code ({p.stderr()})")
        finally:
            pr.p.terminate()
            try:
                pr.p.wait(10)
            except subprocess.TimeoutExpired:
                pr.p.kill()
                pr.p.wait(5)
    # what prometheus stored is what the kernel kept (printed by luprobe at exit)
    k = _json_aggs(p.lines)["main.tick hist latency"]["groups"][0]
    expect_eq(k["count"], N, "the kernel's count")
    for le, cum in lat.items():
        want = k["count"] if le == "+Inf" else sum(
            b["count"] for b in k["buckets"]
            if b.get("max") is not None and b["max"] - 1 <= round(float(le) * 1e9))
        expect_eq(cum, want, f"latency bucket le={le}")
    expect(abs(lat_sum - k["sum"] / 1e9) < 1e-12, f"latency sum {lat_sum} vs {k['sum']} ns")


# ---- scrapes under overload ----

def test_scrapes_during_an_overloaded_run_neither_wait_nor_stall_timers():
    # each event costs the script 1 ms; main.direct is called millions of times a second
    script = """
local agg = require "luprobe.agg"
local t0
every(100, function()
	t0 = t0 or luprobe.now()
	printf("tick %d\\n", (luprobe.now() - t0) // 1000000) io.stdout:flush()
end)
local p = probe{ func = "main.direct", args = false }
p:count()
local seen = agg.count("seen")
p:on_event(function(e)
	seen:add()
	local t = os.clock() while os.clock() - t < 0.001 do end
end)
"""
    port = free_port()
    took, bodies, errors = [], [], []
    stop = threading.Event()

    def scrape():
        while not stop.is_set():
            t = time.time()
            try:
                bodies.append(_get(port, "/metrics", timeout=3)[2])
                took.append(time.time() - t)
            except OSError as e:
                errors.append(repr(e))
            time.sleep(0.05)

    with tempfile.TemporaryDirectory() as d:
        p = luprobe("--metrics", f"127.0.0.1:{port}", "--duration", "3",
                    write_script(d, "slow.lua", script), "--", gobin("leaves"),
                    "-n", "100000000")
        p.wait_stderr("luprobe: metrics at", timeout=15)
        p.wait_line(r"^tick 0$", timeout=15)
        # a client that never reads its answer holds nothing up either
        lazy = socket.create_connection(("127.0.0.1", port))
        lazy.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
        lazy.sendall(b"GET /metrics HTTP/1.1\r\n\r\n")
        t = threading.Thread(target=scrape)
        t.start()
        try:
            code = p.wait(30)
        finally:
            stop.set()
            t.join(10)
            lazy.close()
    expect_eq(code, 0, f"exit code ({p.stderr()})")
    ticks = [int(m.group(1)) for m in (re.fullmatch(r"tick (\d+)", ln) for ln in p.lines) if m]
    late = [tk - 100 * k for k, tk in enumerate(ticks)]
    expect(len(ticks) >= 20 and all(-30 <= ms <= 150 for ms in late), f"ticks on time: {ticks}")
    expect(len(took) >= 10, f"scrapes answered during the run: {len(took)}, errors {errors[:3]}")
    expect(max(took) < 1.0, f"a scrape waited {max(took):.2f} s")
    # the numbers only grow, and the Lua count is the events the script saw
    events = [int(re.search(r"^luprobe_events_total (\d+)$", b, re.M).group(1)) for b in bodies]
    seen = [int(m.group(1)) if m else 0
            for m in (re.search(r"^luprobe_seen_total (\d+)$", b, re.M) for b in bodies)]
    expect(events == sorted(events) and events[-1] > 0, f"events over the scrapes: {events}")
    expect_eq(seen, events, "the Lua aggregation counted every event the script saw")
    expect(re.search(r'^luprobe_calls_total\{function="main.direct"\} \d+$', bodies[-1], re.M),
           "the kernel count")


# ---- wall-clock time ----

def test_event_time_is_the_wall_clock_beside_the_monotonic_ts():
    script = """
probe{ func = "main.tick", args = { "i" } }:on_event(function(e)
	printf("%d %d %d %s\\n", e.args.i, e.time, e.ts, os.date("!%Y", e.time // 1000000000))
end)
"""
    with tempfile.TemporaryDirectory() as d:
        before = time.time_ns()
        code, lines, err = run(write_script(d, "t.lua", script), "--", gobin("aggs"),
                               "-mode", "ticks", "-n", "5", "-ms", "100")
        after = time.time_ns()
        code2, jlines, err2 = run("--json", "-e", 'probe{ func = "main.tick", args = { "i" } }',
                                  "--", gobin("aggs"), "-mode", "ticks", "-n", "3", "-ms", "10")
        after2 = time.time_ns()
    expect_eq((code, code2), (0, 0), f"exit codes ({err} {err2})")
    rows = [tuple(ln.split()) for ln in lines if re.fullmatch(r"\d+ \d+ \d+ \d+", ln)]
    expect_eq([r[0] for r in rows], ["0", "1", "2", "3", "4"], f"events: {lines}")
    times = [int(r[1]) for r in rows]
    expect(all(before <= t <= after for t in times), f"e.time within the run: {times}")
    expect(rows[0][3] == time.strftime("%Y", time.gmtime(before / 1e9)), "os.date of e.time")
    # wall clock minus monotonic is the same for every event, to a few µs
    offsets = [int(r[1]) - int(r[2]) for r in rows]
    expect(max(offsets) - min(offsets) < 2_000_000, f"offsets {offsets}")
    # the calls are 100 ms apart in both clocks
    gaps = [b - a for a, b in zip(times, times[1:])]
    expect(all(90_000_000 <= g <= 400_000_000 for g in gaps), f"gaps {gaps}")
    evs = [json.loads(ln) for ln in jlines if ln.startswith("{")]
    expect_eq(len(evs), 3, f"JSON events: {jlines}")
    expect(all(after <= e["time"] <= after2 and e["ts"] < e["time"] for e in evs),
           f"JSON time: {[e['time'] for e in evs]}")
