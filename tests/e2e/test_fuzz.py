# SPDX-License-Identifier: BSD-2-Clause
"""The parsers survive the fuzzers. Each libFuzzer target (built by
`make fuzz-build`, which `make test` runs) replays every input a fuzzer ever
broke it with, then fuzzes briefly from its seeds, which must reach deep into
the parser: a crash, a sanitizer report, a leak, a fuzzer that runs nothing
or seeds that no longer open fail the test. Long runs are `make fuzz`
(tests/fuzz/RESULTS.md)."""
import os
import re
import subprocess
import tempfile

from lib import ROOT, expect, expect_eq

FUZZ = os.path.join(ROOT, ".output", "fuzz")
REGRESSIONS = os.path.join(ROOT, "tests", "fuzz", "regressions")
CRAFTED = os.path.join(FUZZ, "regressions")  # the ELF ones, made by tests/fuzz/crafted.py
SECONDS = 6  # of fuzzing per target; make test runs all four
# Coverage (libFuzzer's cov: edges) the seeds alone reach. A seed corpus that
# stops opening (a reader rejecting what real binaries look like, or seeds.py
# broken) reaches only the early exits, a small fraction of this.
MIN_COV = {"gobin": 550, "godwarf": 550, "typespec": 550, "predicate": 650, "lua": 2000}
MAX_LEN = {"gobin": 65536, "godwarf": 65536, "typespec": 1024, "predicate": 1024, "lua": 4096}

_built = False


def _build():
    global _built
    if not _built:
        p = subprocess.run(["make", "-s", "--no-print-directory", "fuzz-build"], cwd=ROOT,
                           capture_output=True, text=True, timeout=600)
        expect_eq(p.returncode, 0, f"make fuzz-build ({p.stdout[-500:]}{p.stderr[-1500:]})")
        _built = True


def _fuzzer(target):
    _build()
    path = os.path.join(FUZZ, f"fuzz_{target}")
    expect(os.access(path, os.X_OK), f"{path} not built")
    return path


def _stat(out, name):
    m = re.findall(rf"^stat::{name}:\s*(\d+)", out, re.M)
    return int(m[-1]) if m else None


def _regression_dirs(target):
    return [d for d in (os.path.join(REGRESSIONS, target), os.path.join(CRAFTED, target))
            if os.path.isdir(d)]


def _replay_regressions(target):
    """Every input kept from an earlier finding runs once and exits cleanly."""
    files = sorted(os.path.join(d, f) for d in _regression_dirs(target) for f in os.listdir(d))
    if not files:
        return 0
    p = subprocess.run([_fuzzer(target), *files], cwd=ROOT, capture_output=True, text=True,
                       timeout=120)
    expect_eq(p.returncode, 0, f"{target}: regression inputs ({p.stderr[-3000:]})")
    for f in files:
        expect(f"Executed {f}" in p.stderr, f"{target}: {f} was not run ({p.stderr[-1000:]})")
    expect("ERROR:" not in p.stderr and "runtime error" not in p.stderr,
           f"{target}: sanitizer report on a regression input ({p.stderr[-3000:]})")
    return len(files)


def _fuzz(target):
    """Fuzz for SECONDS from the seeds and regression inputs, into a scratch corpus."""
    seeds = os.path.join(FUZZ, "seeds", target)
    nseeds = len(os.listdir(seeds)) if os.path.isdir(seeds) else 0
    expect(nseeds > 0, f"{target}: no seeds in {seeds}")
    dirs = [seeds] + _regression_dirs(target)
    with tempfile.TemporaryDirectory() as corpus:
        args = [_fuzzer(target), f"-max_total_time={SECONDS}", "-rss_limit_mb=2048",
                "-malloc_limit_mb=2048", "-timeout=10", f"-max_len={MAX_LEN[target]}",
                "-print_final_stats=1", "-close_fd_mask=1", f"-artifact_prefix={corpus}/",
                corpus, *dirs]
        dict_ = os.path.join(ROOT, "tests", "fuzz", f"{target}.dict")
        if os.path.exists(dict_):
            args.insert(1, f"-dict={dict_}")
        p = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, errors="replace",
                           timeout=SECONDS + 120)
        crashes = [f for f in os.listdir(corpus) if f.startswith(("crash-", "leak-", "timeout-",
                                                                  "oom-"))]
    err = p.stderr
    expect_eq(crashes, [], f"{target}: inputs that broke the parser (report: {err[-3000:]})")
    expect_eq(p.returncode, 0, f"{target}: fuzzer exit code ({err[-3000:]})")
    expect("ERROR:" not in err and "runtime error" not in err,
           f"{target}: sanitizer report ({err[-3000:]})")
    inited = re.search(r"INITED cov: (\d+)", err)
    expect(inited, f"{target}: the fuzzer did not load its corpus ({err[-1000:]})")
    expect(int(inited.group(1)) >= MIN_COV[target],
           f"{target}: seeds reach {inited.group(1)} edges, want >= {MIN_COV[target]}")
    runs = _stat(err, "number_of_executed_units")
    expect(runs is not None and runs > nseeds,
           f"{target}: {runs} executions for {nseeds} seeds: it did not fuzz ({err[-1000:]})")
    return runs


def _check(target):
    _replay_regressions(target)
    _fuzz(target)


def test_fuzz_gobin_elf_pclntab_buildinfo_readers():
    _check("gobin")


def test_fuzz_godwarf_dwarf_reader():
    _check("godwarf")


def test_fuzz_typespec_type_spec_and_field_path_parser():
    _check("typespec")


def test_fuzz_predicate_where_parser():
    _check("predicate")


def test_fuzz_lua_scripts_through_a_fake_host():
    _check("lua")


def test_fuzz_regression_inputs_are_kept():
    # each made a fuzzer fail before its fix (tests/fuzz/RESULTS.md); losing one loses a test
    _build()
    for d, path in ((CRAFTED, "gobin/signed-integer-overflow-pcvalue"),
                    (CRAFTED, "godwarf/stack-overflow-follow"),
                    (REGRESSIONS, "typespec/stack-overflow-is_flat-158ff56f"),
                    (REGRESSIONS, "predicate/capture-moves-resolved-values"),
                    (REGRESSIONS, "predicate/string-ends-in-backslash"),
                    (REGRESSIONS, "lua/finalizer-set-after-setmetatable-hangs"),
                    (REGRESSIONS, "lua/finalizer-at-close-hangs"),
                    (REGRESSIONS, "lua/debug-sethook-lifts-the-budget"),
                    (REGRESSIONS, "lua/debug-getregistry-reaches-luprobe-metatables"),
                    (REGRESSIONS, "lua/package-loadlib-calls-native-code")):
        expect(os.path.isfile(os.path.join(d, path)), f"{os.path.join(d, path)} is missing")
