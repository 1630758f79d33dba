"""Headless ``--run overview``, ``--run fleet``, ``--run diagnose`` and the usage columns of ``--print-tree``."""

from __future__ import annotations

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
