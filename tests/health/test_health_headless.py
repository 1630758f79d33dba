"""Headless ``--run overview``, ``--run fleet``, ``--run diagnose`` and the usage columns of ``--print-tree``."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from typing import Any

from kube9_desktop.sim.process import SimProcess


def app(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    return subprocess.run([sys.executable, "-m", "kube9_desktop", *args], capture_output=True, text=True,
                          timeout=120, env=env)


def test_run_overview_and_diagnose(hsim: SimProcess) -> None:
    r = app("--kubeconfig", hsim.kubeconfig, "--context", "sim-admin", "--run", "overview",
            "--run", "diagnose scenarios/pod/crashy-api")
    assert r.returncode == 0, r.stderr
    assert "Nodes: 3/3 ready" in r.stdout
    assert "scenarios/pod/crashy-api  CrashLoopBackOff" in r.stdout
    assert "Diagnosis of scenarios/pod/crashy-api: CrashLoopBackOff" in r.stdout
    assert "exited with exit code 1" in r.stdout and "Previous log" in r.stdout


def test_diagnose_of_a_missing_pod_fails_clearly(hsim: SimProcess) -> None:
    r = app("--kubeconfig", hsim.kubeconfig, "--context", "sim-admin", "--run", "diagnose scenarios/pod/nope")
    assert r.returncode != 0
    assert "nope" in (r.stdout + r.stderr) and "Traceback" not in r.stderr


def test_run_fleet_marks_the_dead(hsim: SimProcess) -> None:
    r = app("--kubeconfig", hsim.kubeconfig, "--run", "fleet --contexts sim-admin,sim-down,fleet-011")
    assert r.returncode == 0, r.stderr
    lines = {ln.split()[0]: ln for ln in r.stdout.splitlines()[1:]}
    assert set(lines) == {"sim-admin", "sim-down", "fleet-011"}
    assert "yes" in lines["sim-admin"] and "connection refused" in lines["sim-down"]


def test_print_tree_carries_usage_on_nodes(hsim: SimProcess, metrics_mode: Any) -> None:
    r = app("--kubeconfig", hsim.kubeconfig, "--context", "sim-admin", "--print-tree", "--depth", "1")
    assert r.returncode == 0, r.stderr
    node_lines = [ln for ln in r.stdout.splitlines() if ln.startswith("    node-")]
    assert len(node_lines) == 3
    for ln in node_lines:
        assert re.search(r"\tcpu \d+m \d+%\tmem \d+(\.\d)?(Mi|Gi) \d+%$", ln), ln
    metrics_mode("absent")
    r = app("--kubeconfig", hsim.kubeconfig, "--context", "sim-admin", "--print-tree", "--depth", "1")
    assert r.returncode == 0
    assert "\tcpu " not in r.stdout
    assert r.stderr.count("metrics unavailable") == 1 and "not installed" in r.stderr


def _cpu_m(q: str) -> float:
    return float(q[:-1]) if q.endswith("m") else float(q) * 1000


def test_print_tree_pods_and_workloads_carry_usage_with_percentages(hsim: SimProcess, kubectl: Any) -> None:
    r = app("--kubeconfig", hsim.kubeconfig, "--context", "sim-admin", "--print-tree", "--depth", "0",
            "--expand", "Namespaces/team-a/Workloads/Pods", "--expand", "Namespaces/team-a/Workloads/Deployments")
    assert r.returncode == 0, r.stderr
    # name, status, any other fields (Ready: 1/1 ...), then the usage columns
    cell = re.compile(r"^ {10}(\S+)\t.*\tcpu (\d+)m (\d+)%\tmem \d+(?:\.\d)?(?:Ki|Mi|Gi) \d+%$")
    rows = {m.group(1): (int(m.group(2)), int(m.group(3))) for m in map(cell.match, r.stdout.splitlines()) if m}
    out = kubectl("get", "pods", "-n", "team-a", "-o", "json")
    assert out.returncode == 0, out.stderr
    pods = json.loads(out.stdout)["items"]
    deploys = json.loads(kubectl("get", "deployments", "-n", "team-a", "-o", "json").stdout)["items"]
    assert deploys and sum(1 for p in pods if p["metadata"]["name"] in rows) >= 10
    # A pod's percentage is of its CPU limit, else its request (the spec, read with kubectl).
    for p in pods:
        name = p["metadata"]["name"]
        if name not in rows:
            continue
        res = [c.get("resources") or {} for c in p["spec"]["containers"]]
        limits = [x.get("limits", {}).get("cpu") for x in res]
        base = (sum(_cpu_m(q) for q in limits) if all(limits)
                else sum(_cpu_m(x.get("requests", {}).get("cpu", "0")) for x in res))
        used, pct = rows[name]
        assert abs(used * 100 / base - pct) <= 1 + 100 / base, (name, used, pct, base)
    # A Deployment's figure is its pods' sum, as a percentage of their summed requests.
    checked = 0
    for d in deploys:
        name = d["metadata"]["name"]
        mine = [p for p in pods if p["metadata"]["name"].startswith(name + "-") and p["metadata"]["name"] in rows]
        if name not in rows or not mine or len(mine) != d["status"].get("readyReplicas", -1):
            continue
        used, pct = rows[name]
        assert abs(used - sum(rows[p["metadata"]["name"]][0] for p in mine)) <= len(mine)  # rounding per pod
        asked = sum(_cpu_m(c["resources"]["requests"]["cpu"]) for p in mine for c in p["spec"]["containers"])
        assert abs(used * 100 / asked - pct) <= 1.5, (name, used, pct, asked)
        checked += 1
    assert checked >= 1
