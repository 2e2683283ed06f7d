# SPDX-License-Identifier: BSD-2-Clause
"""deploy/: the Kubernetes manifests pass a schema validator of the
Kubernetes API (kubernetes-validate, pinned, installed into a virtual
environment under .output) and ask for the least privileges; the script of
their ConfigMap runs and exports what docs/deploy.md says on a real Go
server."""
import os
import re
import shutil
import signal
import subprocess
import tempfile
import urllib.request

from lib import (ROOT, Server, Skip, expect, expect_eq, free_port, gobin, luprobe,
                 write_script)

MANIFEST = os.path.join(ROOT, "deploy", "kubernetes", "luprobe.yaml")
VALIDATOR = "kubernetes-validate==1.37.0"
VENV = os.path.join(ROOT, ".output", "kubernetes-validate")


def _venv_python():
    """Python of a virtual environment with the validator, made once (or Skip)."""
    py = os.path.join(VENV, "bin", "python")
    stamp = os.path.join(VENV, ".installed")
    if os.path.exists(stamp):
        with open(stamp) as f:
            if f.read().strip() == VALIDATOR:
                return py
    try:
        subprocess.run(["python3", "-m", "venv", "--clear", VENV], check=True,
                       capture_output=True, timeout=120)
        r = subprocess.run([py, "-m", "pip", "install", "-q", VALIDATOR], capture_output=True,
                           text=True, timeout=600)
    except (OSError, subprocess.SubprocessError) as e:
        raise Skip(f"no virtual environment for {VALIDATOR}: {e}")
    if r.returncode:
        raise Skip(f"{VALIDATOR} could not be installed: {r.stderr.strip()[-300:]}")
    with open(stamp, "w") as f:
        f.write(VALIDATOR + "\n")
    return py


def _validate(py, path):
    return subprocess.run([py, "-m", "kubernetes_validate", "--strict", "--no-warn", path],
                          capture_output=True, text=True, timeout=120)


def _docs(py):
    """The manifest's documents, parsed by the venv's PyYAML."""
    out = subprocess.run([py, "-c", "import json, sys, yaml; "
                          "print(json.dumps(list(yaml.safe_load_all(open(sys.argv[1])))))",
                          MANIFEST], capture_output=True, text=True, check=True, timeout=60)
    import json
    return {d["kind"]: d for d in json.loads(out.stdout)}


def test_kubernetes_manifests_pass_the_schema_and_ask_for_least_privileges():
    py = _venv_python()
    r = _validate(py, MANIFEST)
    expect_eq(r.returncode, 0, f"kubernetes-validate: {r.stdout} {r.stderr}")
    passed = re.findall(r"passed for resource (\S+)", r.stdout + r.stderr)
    expect_eq(sorted(passed), ["configmap/luprobe-scripts", "daemonset/luprobe",
                               "namespace/luprobe", "service/luprobe"], "every resource checked")
    # the validator does reject: a field in the wrong place, a value of the wrong type
    with open(MANIFEST) as f:
        text = f.read()
    for bad in (text.replace("hostPID: true", "hostPID: yes-please"),
                text.replace("      hostPID: true", "      hostPIDs: true")):
        with tempfile.TemporaryDirectory() as d:
            r = _validate(py, write_script(d, "bad.yaml", bad))
        expect(r.returncode != 0, f"a broken manifest fails: {r.stdout}")
    docs = _docs(py)
    pod = docs["DaemonSet"]["spec"]["template"]["spec"]
    c = pod["containers"][0]
    sc = c["securityContext"]
    expect_eq((pod.get("hostPID"), pod.get("hostNetwork", False), sc.get("privileged"),
               sc.get("allowPrivilegeEscalation"), sc.get("readOnlyRootFilesystem")),
              (True, False, False, False, True), "host PID only, nothing privileged")
    expect_eq((sc["capabilities"]["drop"], sorted(sc["capabilities"]["add"])),
              (["ALL"], ["BPF", "PERFMON", "SYS_PTRACE"]), "capabilities")
    expect(all(m.get("readOnly") for m in c["volumeMounts"]), "every mount read-only")
    expect_eq(c["ports"][0]["containerPort"], 9464, "the metrics port")
    expect("--metrics=9464" in c["args"], f"luprobe serves it: {c['args']}")
    expect("--otlp=http://$(NODE_IP):4318" in c["args"], f"spans to the node's collector: "
           f"{c['args']}")
    env = {e["name"]: e for e in c["env"]}
    expect_eq(env["NODE_IP"].get("valueFrom"), {"fieldRef": {"fieldPath": "status.hostIP"}},
              "the node's address, where its collector listens")
    expect_eq(pod["volumes"][0]["configMap"]["name"], docs["ConfigMap"]["metadata"]["name"],
              "scripts from the ConfigMap")
    _run_node_script(docs["ConfigMap"]["data"]["node.lua"], "--otlp=http://127.0.0.1:4318")


def _run_node_script(script, *extra):
    """The ConfigMap's script, its target the webapp test server, with the
    DaemonSet's other options (extra): what it exports."""
    srv = Server(gobin("webapp"))
    port = free_port()
    expect("/host/usr/local/bin/app" in script, "the script names the node's binary")
    with tempfile.TemporaryDirectory() as d:
        path = write_script(d, "node.lua",
                            script.replace("/host/usr/local/bin/app", gobin("webapp")))
        p = luprobe(f"--metrics=127.0.0.1:{port}", "--keep-going", *extra, path)
        p.wait_stderr(f"metrics at http://127.0.0.1:{port}/metrics", timeout=15)
        # attached once the first scrape answers
        urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read()
        for _ in range(3):
            srv.get("/users/1")
        srv.get("/healthz")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
            text = r.read().decode()
        p.signal(signal.SIGINT)
        expect_eq(p.wait(20), 0, f"exit code ({p.stderr()})")
    expect(re.search(r'^app_calls_total\{function="main.handleUser"\} 3$', text, re.M), text)
    expect(re.search(r'^app_calls_total\{function="main.handleHealthz"\} 1$', text, re.M), text)
    expect(re.search(r'^app_call_latency_seconds_count\{function="main.handleUser"\} 3$', text,
                     re.M), text)


def test_systemd_unit_is_installed_and_verifies():
    with tempfile.TemporaryDirectory() as d:
        r = subprocess.run(["make", "-s", "install", f"DESTDIR={d}", "prefix=/usr"], cwd=ROOT,
                           capture_output=True, text=True, timeout=300)
        expect_eq(r.returncode, 0, f"make install: {r.stderr[-800:]}")
        path = os.path.join(d, "usr/lib/systemd/system/luprobe-metrics@.service")
        expect(os.path.exists(path), "make install puts in luprobe-metrics@.service")
        with open(path) as f:
            unit = f.read()
        exec_start = re.search(r"^ExecStart=(.*)$", unit, re.M).group(1)
        expect_eq(exec_start, "/usr/bin/luprobe -q --keep-going --metrics ${LUPROBE_METRICS} "
                              "$LUPROBE_OPTIONS /etc/luprobe/%i.lua", "ExecStart")
        expect("Environment=LUPROBE_METRICS=9464 " in unit, "the metrics port by default")
        if not shutil.which("systemd-analyze"):
            raise Skip("systemd-analyze is not installed: the unit was not verified")
        # verified for an instance, with the binary of this build in place of /usr/bin's
        inst = os.path.join(d, "luprobe-metrics@web.service")
        with open(inst, "w") as f:
            f.write(unit.replace("/usr/bin/luprobe", os.path.join(ROOT, ".output", "luprobe")))
        r = subprocess.run(["systemd-analyze", "verify", "--man=no", inst],
                           capture_output=True, text=True, timeout=60)
        expect_eq((r.returncode, r.stdout + r.stderr), (0, ""), "systemd-analyze verify")
