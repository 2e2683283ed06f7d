# SPDX-License-Identifier: BSD-2-Clause
"""The table of the Go standard library's signatures built into
luprobe (src/go/stdsig.tab) is exactly what scripts/stdsig writes from the
newest Go toolchain on the machine. Its contents are checked against real
binaries by the unit test (tests/unit/test_stdsig.c)."""
import difflib
import os
import re
import shutil
import subprocess
import tempfile

from lib import ROOT, Skip, expect

TABLE = os.path.join(ROOT, "src", "go", "stdsig.tab")


def _go_minor(go):
    try:
        out = subprocess.run([go, "env", "GOVERSION"], capture_output=True, text=True,
                             timeout=60, env={**os.environ, "GOTOOLCHAIN": "local"}).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    m = re.match(r"go1(?:\.(\d+))?", out.strip())
    return int(m.group(1) or 0) if m else None


def _newest_go():
    """The newest go command here: STDSIG_GO, /usr/local/go, Debian's, PATH's."""
    seen, best = set(), (None, None)
    for go in (os.environ.get("STDSIG_GO"), "/usr/local/go/bin/go", "/usr/lib/go/bin/go",
               shutil.which("go")):
        if not go or not os.access(go, os.X_OK) or os.path.realpath(go) in seen:
            continue
        seen.add(os.path.realpath(go))
        minor = _go_minor(go)
        if minor is not None and (best[1] is None or minor > best[1]):
            best = (go, minor)
    return best


def test_stdsig_table_is_generated():
    with open(TABLE) as f:
        committed = f.read()
    m = re.search(r"^go\t(\d+)$", committed, re.M)
    expect(m, f"{TABLE}: no 'go' line")
    table_minor = int(m.group(1))
    go, minor = _newest_go()
    if go is None:
        raise Skip("no Go toolchain here to regenerate src/go/stdsig.tab from")
    if minor != table_minor:
        raise Skip(f"src/go/stdsig.tab comes from Go 1.{table_minor}, the newest Go here ({go}) "
                   f"is 1.{minor}: run make stdsig STDSIG_GO={go} to regenerate it")
    goroot = subprocess.run([go, "env", "GOROOT"], capture_output=True, text=True,
                            timeout=60, env={**os.environ, "GOTOOLCHAIN": "local"}).stdout.strip()
    env = {**os.environ, "GOFLAGS": "-mod=mod", "GO111MODULE": "on", "GOPROXY": "off",
           "GOTOOLCHAIN": "local"}
    if not env.get("HOME"):
        env["GOCACHE"] = os.path.join(ROOT, ".output", "gocache")
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "stdsig.tab")
        p = subprocess.run([go, "run", ".", "-goroot", goroot, "-o", out],
                           cwd=os.path.join(ROOT, "scripts", "stdsig"), capture_output=True,
                           text=True, timeout=600, env=env)
        expect(p.returncode == 0, f"scripts/stdsig failed with {go}:\n{p.stderr[-3000:]}")
        with open(out) as f:
            generated = f.read()
    if generated != committed:
        diff = difflib.unified_diff(committed.splitlines(), generated.splitlines(),
                                    "src/go/stdsig.tab", f"scripts/stdsig with {go}", lineterm="",
                                    n=0)
        lines = list(diff)
        raise AssertionError(f"src/go/stdsig.tab is not what scripts/stdsig writes ({len(lines)} "
                             "diff lines; run make stdsig):\n" + "\n".join(lines[:30]))
