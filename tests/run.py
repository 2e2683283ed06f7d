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
uprobe is left in the kernel; a leftover fails the test.
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

    unit_dir = os.path.join(ROOT, os.environ.get("LUPROBE_OUTPUT", ".output"), "unit")
    if os.path.isdir(unit_dir):
        for fn in sorted(os.listdir(unit_dir)):
            if not fn.startswith("test_") or (args and not any(a in fn for a in args)):
                continue
            run_unit(os.path.join(unit_dir, fn), counts, verbose)
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
        leftover = lib.leftover_probes()
        if leftover:
            if status != "FAIL":
                counts["passed" if status == "ok  " else "skipped"] -= 1
                counts["failed"] += 1
            status = "FAIL"
            detail += f" (left in the kernel: {leftover})"
            lib.remove_leftovers()
        print(f"{status} {name} ({time.time() - t0:.2f}s){detail}", flush=True)

    print(f"# {time.time() - started:.0f}s")
    print(f"{counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped")
    return 1 if counts["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
