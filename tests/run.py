#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""luprobe's test runner.

Runs the C unit tests (.output/unit/test_*) and the end-to-end tests
(tests/e2e/test_*.py: every function named test_*), then prints one line:
"N passed, N failed, N skipped".

    python3 tests/run.py               everything
    python3 tests/run.py computee      only tests whose name contains "computee"
    python3 tests/run.py -x            stop at the first failure

The Go test programs are built by two toolchains (tests/go/build.sh): the
unit tests that read them (they call gotarget()) and the end-to-end tests
marked @each_toolchain run once per set, the second named by its Go version,
e.g. "test_arguments.test_x [go1.26.8]".

After each end-to-end test the runner checks that no luprobe BPF program or
uprobe is left in the kernel; a leftover fails the test. With LUPROBE_SANITIZE=1
(make test SANITIZE=1) the sanitizers write their reports to files, and a test
during which any report appeared fails with it.
"""
import importlib.util
import os
import subprocess
import sys
import time
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))

import lib  # noqa: E402

SAN_DIR = None


def sanitizer_setup():
    """Send ASan/UBSan reports of every process the tests start to files."""
    global SAN_DIR
    if os.environ.get("LUPROBE_SANITIZE") != "1":
        return
    SAN_DIR = os.path.join(ROOT, os.environ.get("LUPROBE_OUTPUT", ".output"), "sanitizer")
    os.makedirs(SAN_DIR, exist_ok=True)
    os.chmod(SAN_DIR, 0o1777)  # tests run luprobe as other users too
    for f in os.listdir(SAN_DIR):
        os.unlink(os.path.join(SAN_DIR, f))
    os.environ["ASAN_OPTIONS"] = f"log_path={SAN_DIR}/asan:detect_leaks=1:abort_on_error=0"
    os.environ["UBSAN_OPTIONS"] = f"log_path={SAN_DIR}/ubsan:print_stacktrace=1:halt_on_error=1"


def sanitizer_reports():
    """Reports written since the last call (first lines of each), then forgets them."""
    if not SAN_DIR:
        return ""
    out = []
    for f in sorted(os.listdir(SAN_DIR)):
        path = os.path.join(SAN_DIR, f)
        with open(path, errors="replace") as fh:
            text = fh.read()
        os.rename(path, os.path.join(os.path.dirname(SAN_DIR), "sanitizer-" + f))
        out.append(f"{f}:\n" + "\n".join(text.splitlines()[:40]))
    return "\n".join(out)


def toolchain_env(tc):
    """The environment of a test run for toolchain tc's targets: its go first on PATH,
    and LUPROBE_GO_TARGETS naming its targets for the unit tests."""
    env = dict(os.environ)
    if tc is None:
        return env
    go, _ = lib.toolchain_go(tc)
    env["PATH"] = os.path.dirname(go) + os.pathsep + env.get("PATH", "")
    env["LUPROBE_GO_TARGETS"] = os.path.join(".output", lib.TOOLCHAIN_DIRS[tc])
    return env


def runs_per_toolchain():
    """[(toolchain, label suffix)]: the base one unnamed, then the newer Go's by version."""
    out = []
    for tc in lib.toolchains():
        try:
            version = lib.toolchain_go(tc)[1]
        except lib.Skip:
            continue
        out.append((tc, "" if tc == "base" else f" [{version}]"))
    return out or [(None, "")]


def run_unit(path, counts, verbose, tc=None, suffix=""):
    name = os.path.basename(path) + suffix
    try:
        p = subprocess.run([path], cwd=ROOT, capture_output=True, text=True, timeout=300,
                           env=toolchain_env(tc))
    except subprocess.TimeoutExpired:
        print(f"FAIL unit/{name}: timed out")
        counts["failed"] += 1
        return
    last = [ln for ln in p.stdout.splitlines() if ln.strip()][-1:] or [""]
    parsed = lib.parse_summary(last[0])
    if parsed is None:
        print(f"FAIL unit/{name}: no summary line (exit {p.returncode})")
        sys.stdout.write(p.stdout + p.stderr)
        counts["failed"] += 1
        return
    passed, failed, skipped = parsed
    counts["passed"] += passed
    counts["failed"] += failed
    counts["skipped"] += skipped
    if failed or p.returncode or verbose:
        sys.stdout.write(p.stdout)
        sys.stdout.write(p.stderr)
    if p.returncode and not failed:
        print(f"FAIL unit/{name}: exit {p.returncode}")
        counts["failed"] += 1
    print(f"{'ok  ' if not failed and not p.returncode else 'FAIL'} unit/{name}: "
          f"{passed} passed, {failed} failed, {skipped} skipped")


def e2e_tests():
    d = os.path.join(ROOT, "tests", "e2e")
    for fn in sorted(os.listdir(d)):
        if not (fn.startswith("test_") and fn.endswith(".py")):
            continue
        spec = importlib.util.spec_from_file_location(fn[:-3], os.path.join(d, fn))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        for name in sorted(vars(mod)):
            obj = getattr(mod, name)
            if name.startswith("test_") and callable(obj):
                yield f"{fn[:-3]}.{name}", obj


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("-")]
    stop_first = "-x" in sys.argv
    verbose = "-v" in sys.argv
    counts = {"passed": 0, "failed": 0, "skipped": 0}
    started = time.time()
    lib.setup()
    sanitizer_setup()

    toolchains = runs_per_toolchain()
    unit_dir = os.path.join(ROOT, os.environ.get("LUPROBE_OUTPUT", ".output"), "unit")
    if os.path.isdir(unit_dir):
        for fn in sorted(os.listdir(unit_dir)):
            if not fn.startswith("test_") or (args and not any(a in fn for a in args)):
                continue
            # a unit test that reads the Go targets runs on each toolchain's set
            try:
                with open(os.path.join(ROOT, "tests", "unit", fn + ".c")) as f:
                    per_tc = "gotarget(" in f.read()
            except OSError:
                per_tc = False
            for tc, suffix in toolchains if per_tc else [(None, "")]:
                run_unit(os.path.join(unit_dir, fn), counts, verbose, tc, suffix)
                report = sanitizer_reports()
                if report:
                    print(f"FAIL unit/{fn}{suffix}: sanitizer report\n{report}")
                    counts["failed"] += 1
            if stop_first and counts["failed"]:
                break

    for base_name, fn in e2e_tests():
        if stop_first and counts["failed"]:
            break
        if args and not any(a in base_name for a in args):
            continue
        for tc, suffix in toolchains if getattr(fn, "each_toolchain", False) else [(None, "")]:
            run_e2e(base_name + suffix, fn, tc, counts)

    print(f"# {time.time() - started:.0f}s")
    print(f"{counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped")
    return 1 if counts["failed"] else 0


def run_e2e(name, fn, tc, counts):
    t0 = time.time()
    status, detail = "ok  ", ""
    saved = dict(os.environ)
    os.environ.update(toolchain_env(tc))
    lib.TOOLCHAIN = tc or "base"
    try:
        fn()
        counts["passed"] += 1
    except lib.Skip as e:
        status, detail = "skip", f": {e}"
        counts["skipped"] += 1
    except Exception as e:  # noqa: BLE001 - a test's failure of any kind
        status = "FAIL"
        counts["failed"] += 1
        detail = ": " + (str(e) if isinstance(e, AssertionError) else traceback.format_exc())
    finally:
        lib.cleanup()
        lib.TOOLCHAIN = "base"
        os.environ.clear()
        os.environ.update(saved)
    # after the test: what it left in the kernel, what the sanitizers saw
    leftover = lib.leftover_probes()
    if leftover:
        lib.remove_leftovers()
    report = sanitizer_reports()
    for bad, why in ((leftover, f" (left in the kernel: {leftover})"),
                     (report, f" (sanitizer report)\n{report}")):
        if bad:
            if status != "FAIL":
                counts["passed" if status == "ok  " else "skipped"] -= 1
                counts["failed"] += 1
            status = "FAIL"
            detail += why
    print(f"{status} {name} ({time.time() - t0:.2f}s){detail}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
