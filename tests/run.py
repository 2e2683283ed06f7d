#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""luprobe's test runner.

Runs the C unit tests (.output/unit/test_*) and the end-to-end tests
(tests/e2e/test_*.py: every function named test_*), then prints one line:
"N passed, N failed, N skipped".

    python3 tests/run.py               everything
    python3 tests/run.py computee      only tests whose name contains "computee"
    python3 tests/run.py -x            stop at the first failure

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


def run_unit(path, counts, verbose):
    name = os.path.basename(path)
    try:
        p = subprocess.run([path], cwd=ROOT, capture_output=True, text=True, timeout=300)
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

    unit_dir = os.path.join(ROOT, os.environ.get("LUPROBE_OUTPUT", ".output"), "unit")
    if os.path.isdir(unit_dir):
        for fn in sorted(os.listdir(unit_dir)):
            if not fn.startswith("test_") or (args and not any(a in fn for a in args)):
                continue
            run_unit(os.path.join(unit_dir, fn), counts, verbose)
            report = sanitizer_reports()
            if report:
                print(f"FAIL unit/{fn}: sanitizer report\n{report}")
                counts["failed"] += 1
            if stop_first and counts["failed"]:
                break

    for name, fn in e2e_tests():
        if stop_first and counts["failed"]:
            break
        if args and not any(a in name for a in args):
            continue
        t0 = time.time()
        status, detail = "ok  ", ""
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

    print(f"# {time.time() - started:.0f}s")
    print(f"{counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped")
    return 1 if counts["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
