# SPDX-License-Identifier: BSD-2-Clause
"""What installs luprobe and explains it: the manual page, bash completion and the
Debian package (built, checked by lintian, installed, tracing from the installed
paths, removed)."""
import fcntl
import os
import re
import shutil
import subprocess
import tempfile

from lib import (LUPROBE, OUTPUT, ROOT, Proc, Skip, expect, expect_eq, free_port, gobin,
                 http_get)

COMPLETION = os.path.join(ROOT, "dist", "luprobe.bash")
BASH_COMPLETION = "/usr/share/bash-completion/bash_completion"


def _man(page):
    """(stdout, stderr) of man rendering page with groff's warnings on."""
    env = dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8", MAN_KEEP_FORMATTING="")
    p = subprocess.run(["man", "--warnings", "-l", page], capture_output=True, text=True,
                       env=env, timeout=60)
    expect_eq(p.returncode, 0, f"man -l {page}: {p.stderr}")
    return p.stdout, p.stderr


def test_man_page_renders_without_warnings_and_covers_every_option():
    page = os.path.join(OUTPUT, "luprobe.1")
    expect(os.path.exists(page), f"{page} missing (make man)")
    text, warnings = _man(page)
    expect_eq(warnings, "", "groff's warnings")
    text = re.sub(r".\x08", "", text)
    for section in ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "THE LUA API IN BRIEF",
                    "EXAMPLES", "PRIVILEGES", "EXIT STATUS", "FILES", "SEE ALSO"):
        expect(re.search(rf"^{section}$", text, re.M), f"section {section} in the page")
    usage = subprocess.run([LUPROBE, "--help"], capture_output=True, text=True).stdout
    for opt in sorted(set(re.findall(r"(?<![\w-])(--[a-z][a-z-]+|-[a-zA-Z])\b", usage))):
        expect(re.search(rf"(?<![\w-]){re.escape(opt)}\b", text),
               f"option {opt} of --help is in the manual page")


def _complete(*words, cword=None, cwd=None):
    """What bash completion offers for luprobe's words (the last is completed)."""
    if not os.path.exists(BASH_COMPLETION):
        raise Skip("bash-completion not installed")
    words = [LUPROBE, *words]
    cword = len(words) - 1 if cword is None else cword
    script = (f'source {BASH_COMPLETION}; source "$1"; shift; COMP_WORDS=("$@"); '
              f'COMP_CWORD={cword}; COMP_LINE="${{COMP_WORDS[*]:0:{cword + 1}}}"; '
              'COMP_POINT=${#COMP_LINE}; _luprobe; printf "%s\\n" "${COMPREPLY[@]}"')
    p = subprocess.run(["bash", "-c", script, "bash", COMPLETION, *words],
                       capture_output=True, text=True, timeout=60, cwd=cwd or ROOT)
    expect_eq(p.stderr, "", f"completion's stderr for {words[1:]}")
    return [ln for ln in p.stdout.split("\n") if ln]


def test_completion_offers_options_scripts_and_functions_of_a_binary():
    binary = gobin("computee")
    expect_eq(_complete("--che"), ["--check"], "options")
    expect_eq(sorted(_complete("comp", cwd=os.path.join(ROOT, "scripts"))), ["computee.lua"],
              "scripts")
    expect_eq(_complete("-l", binary, "main.compute"), ["main.computeE"], "-l BINARY GLOB")
    got = _complete("-l", binary, "net/http.(*Server).Serve")
    expect("net/http.(*Server).Serve" in got and
           all(f.startswith("net/http.(*Server).Serve") for f in got),
           f"a method's name, the receiver's * taken literally: {got}")
    expect_eq(_complete("-e", "'probe{ func = \"main.compute", "--", binary, cword=2),
              ["'probe{ func = \"main.computeE\" }"], "-e with the target after --")
    srv = Proc([binary, "-addr", f"127.0.0.1:{free_port()}"])
    srv.wait_line(r"^listening on ")
    expect_eq(_complete("-l", "-p", str(srv.pid), "main.compute"), ["main.computeE"],
              "-l -p PID GLOB")
    expect_eq(_complete("-p", str(srv.pid), "-e", "probe{func=\"main.compute"),
              ["probe{func=\"main.computeE\" }"], "-e with -p PID")
    expect(str(srv.pid) in _complete("-p", ""), "-p offers the running pids")


# ---- the Debian package ----

LOCK = "/run/lock/luprobe-package-test.lock"


def _sh(argv, timeout, cwd=None, what=None):
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, cwd=cwd,
                       env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
    expect_eq(p.returncode, 0, f"{what or argv[0]}: {(p.stdout + p.stderr)[-2000:]}")
    return p.stdout + p.stderr


def _installed():
    p = subprocess.run(["dpkg-query", "-W", "-f=${db:Status-Status}", "luprobe"],
                       capture_output=True, text=True)
    return p.stdout == "installed"


def _source_tree(dst):
    """The project's files (tracked, and new ones not ignored), without build output."""
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.split("\0")
    for f in files:
        src = os.path.join(ROOT, f)
        if not f or f == "luprobe" or not os.path.isfile(src) or os.path.islink(src):
            continue
        os.makedirs(os.path.join(dst, os.path.dirname(f)), exist_ok=True)
        shutil.copy2(src, os.path.join(dst, f))


def _trace_installed(tmp):
    """The demo traced by the installed luprobe, its script and its library."""
    srv = Proc([gobin("computee"), "-addr", f"127.0.0.1:{free_port()}"], cwd=tmp)
    m = srv.wait_line(r"^listening on 127\.0\.0\.1:(\d+)")
    port = m.group(1)
    lp = Proc(["/usr/bin/luprobe", "/usr/share/luprobe/scripts/computee.lua", "-p",
               str(srv.pid)], cwd=tmp)
    deadline = 100
    while deadline and not any("iterations=3)" in ln for ln in lp.lines):
        http_get(port, "/e?iters=3")
        lp._fill(0.1)
        deadline -= 1
    lp.wait_line(r"^main\.computeE\(iterations=3\)  pid \d+  goroutine \d+$")
    lp.signal(2)
    expect_eq(lp.wait(20), 0, f"installed luprobe's exit code ({lp.stderr()})")
    code = ('local fmt = require "luprobe.fmt"\n'
            'probe{ func = "main.computeE", ret = true }:on_event(function(e)\n'
            '  print(package.searchpath("luprobe.fmt", package.path), fmt.duration(1500))\n'
            '  exit()\nend)\n')
    lp = Proc(["/usr/bin/luprobe", "-q", "-e", code, "-p", str(srv.pid)], cwd=tmp)
    for _ in range(100):
        http_get(port, "/e?iters=2")
        if lp._fill(0.1) and lp.lines:
            break
    expect_eq(lp.wait(20), 0, f"library script's exit code ({lp.stderr()})")
    expect_eq(lp.lines, ["/usr/share/luprobe/lua/luprobe/fmt.lua\t1.5µs"],
              "the installed library, required by a one-liner")


def _verify_unit(tmp):
    """systemd's own check of the installed unit, for an instance (it needs no running
    systemd)."""
    if not shutil.which("systemd-analyze"):
        return
    unit = os.path.join(tmp, "luprobe@check.service")
    shutil.copy("/lib/systemd/system/luprobe@.service", unit)
    p = subprocess.run(["systemd-analyze", "verify", "--man=no", unit], capture_output=True,
                       text=True, timeout=60)
    expect_eq((p.returncode, p.stdout + p.stderr), (0, ""), "systemd-analyze verify")


def test_debian_package_builds_installs_and_traces_the_demo():
    if os.geteuid() != 0:
        raise Skip("installing a package needs root")
    for tool in ("dpkg-buildpackage", "lintian", "dh"):
        if not shutil.which(tool):
            raise AssertionError(f"{tool} missing: scripts/install-deps.sh installs it")
    with tempfile.TemporaryDirectory() as tmp, open(LOCK, "w") as lock:
        # one package test at a time on a machine: they install the same package
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _installed():
            raise Skip("a luprobe package is installed already: the test would replace it")
        src = os.path.join(tmp, "luprobe")
        _source_tree(src)
        _sh(["dpkg-buildpackage", "-us", "-uc", "-b", f"-j{os.cpu_count() or 2}"], 600,
            cwd=src, what="dpkg-buildpackage")
        deb = os.path.join(tmp, "luprobe_" + open(os.path.join(ROOT, "VERSION")).read().strip()
                           + "_amd64.deb")
        expect(os.path.exists(deb), f"{deb} built")
        report = subprocess.run(["lintian", "--allow-root", deb], capture_output=True,
                                text=True, timeout=300)
        expect_eq([ln for ln in report.stdout.split("\n") if ln.startswith("E:")], [],
                  "lintian's errors")
        files = _sh(["dpkg-deb", "-c", deb], 30)
        for path in ("./usr/bin/luprobe", "./usr/share/luprobe/lua/luprobe/fmt.lua",
                     "./usr/share/luprobe/scripts/computee.lua",
                     "./usr/share/man/man1/luprobe.1.gz",
                     "./usr/share/bash-completion/completions/luprobe",
                     "./lib/systemd/system/luprobe@.service",
                     "./usr/share/doc/luprobe/lua-api.md"):
            expect(re.search(rf" {re.escape(path)}$", files, re.M), f"{path} in the package")
        try:
            _sh(["apt-get", "install", "-y", "-qq", "--no-install-recommends",
                 "-o", "DPkg::Lock::Timeout=120", deb], 300, what="apt-get install")
            expect_eq(_sh(["man", "-w", "luprobe"], 30).strip(),
                      "/usr/share/man/man1/luprobe.1.gz", "man -w luprobe")
            _trace_installed(tmp)
            _verify_unit(tmp)
        finally:
            if _installed():
                _sh(["apt-get", "purge", "-y", "-qq", "-o", "DPkg::Lock::Timeout=120", "luprobe"],
                    300, what="apt-get purge")
        expect(not os.path.exists("/usr/bin/luprobe") and
               not os.path.exists("/usr/share/luprobe"), "nothing left once removed")
