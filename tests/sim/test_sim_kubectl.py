"""The real kubectl against kube9-sim (skipped, visibly, when kubectl is not installed)."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from kube9_desktop.sim.process import SimProcess

KUBECTL = shutil.which("kubectl") or (shutil.which("kubectl", path="/usr/bin"))
pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed (not on PATH nor /usr/bin)")
SIM_PODS = 300  # must match the ``sim`` fixture


def kc(
    sim: SimProcess, *args: str, context: str = "sim-admin", check: bool = True, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    assert KUBECTL is not None
    cmd = [KUBECTL, "--kubeconfig", sim.kubeconfig, "--context", context, *args]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if check:
        assert r.returncode == 0, f"{' '.join(args)} failed: {r.stderr}"
    return r


def lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.strip()]


def test_get_nodes_and_namespaces(sim: SimProcess) -> None:
    out = kc(sim, "get", "nodes").stdout
    assert lines(out)[0].split() == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    assert len(lines(out)) == 1 + 5
    assert "control-plane" in lines(out)[1] and "v1.19.0" in lines(out)[1]
    assert len(lines(kc(sim, "get", "ns", "--no-headers").stdout)) == 12


def test_get_all_pods_chunked_counts_exactly(sim: SimProcess) -> None:
    out = kc(sim, "get", "pods", "-A", "--chunk-size=50", "--no-headers").stdout
    assert len(lines(out)) == SIM_PODS
    header = lines(kc(sim, "get", "pods", "-n", "team-a").stdout)[0].split()
    assert header == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]


def test_get_many_kinds(sim: SimProcess) -> None:
    out = kc(sim, "get", "deploy,sts,ds,svc,cm,secret", "-A").stdout
    for kind in ("deployment.apps/", "statefulset.apps/", "daemonset.apps/", "service/", "configmap/", "secret/"):
        assert kind in out, kind
    out = kc(sim, "get", "widgets", "-A", "--no-headers").stdout
    assert len(lines(out)) >= 3 and "widget-0" in out
    for kind in ("rs", "job", "cronjob", "ing", "pvc", "pv", "storageclass", "crd", "events"):
        assert lines(kc(sim, "get", kind, "-A", "--no-headers").stdout), kind


def test_get_pods_yaml(sim: SimProcess) -> None:
    out = kc(sim, "get", "pods", "-n", "team-a", "-o", "yaml").stdout
    assert out.startswith("apiVersion: v1\nitems:\n")
    assert "\nkind: List\n" in out and "ownerReferences:" in out and "nodeName:" in out


def test_label_and_field_selectors(sim: SimProcess) -> None:
    pods = json.loads(kc(sim, "get", "pods", "-A", "-o", "json").stdout)["items"]
    app = next(p["metadata"]["labels"]["app"] for p in pods if p["metadata"]["namespace"] == "team-a")
    want = sorted(
        p["metadata"]["name"]
        for p in pods
        if p["metadata"]["namespace"] == "team-a" and p["metadata"]["labels"].get("app") == app
    )
    out = kc(sim, "get", "pods", "-n", "team-a", "-l", f"app={app}", "-o", "name").stdout
    assert sorted(x.split("/", 1)[1] for x in lines(out)) == want
    node = "node-2"
    want_n = sorted(p["metadata"]["name"] for p in pods if p["spec"].get("nodeName") == node)
    out = kc(sim, "get", "pods", "-A", "--field-selector", f"spec.nodeName={node}", "-o", "name").stdout
    assert want_n and sorted(x.split("/", 1)[1] for x in lines(out)) == want_n


def test_viewer_forbidden(sim: SimProcess) -> None:
    r = kc(sim, "get", "nodes", context="sim-viewer", check=False)
    assert r.returncode != 0
    assert "Forbidden" in r.stderr and 'cannot list resource "nodes"' in r.stderr
    assert lines(kc(sim, "get", "pods", "--no-headers", context="sim-viewer").stdout)
    r = kc(sim, "get", "pods", "-n", "kube-system", context="sim-viewer", check=False)
    assert r.returncode != 0 and "Forbidden" in r.stderr


def test_badtoken_and_down(sim: SimProcess) -> None:
    r = kc(sim, "get", "ns", context="sim-badtoken", check=False)
    assert r.returncode != 0 and "Unauthorized" in r.stderr
    r = kc(sim, "get", "ns", "--request-timeout=5s", context="sim-down", check=False)
    assert r.returncode != 0 and "refused" in r.stderr


def test_auth_can_i_describe_and_logs(sim: SimProcess) -> None:
    assert kc(sim, "auth", "can-i", "list", "pods", context="sim-viewer").stdout.strip() == "yes"
    r = kc(sim, "auth", "can-i", "list", "pods", "-n", "kube-system", context="sim-viewer", check=False)
    assert r.stdout.strip() == "no"
    pod = lines(kc(sim, "get", "pods", "-n", "team-a", "-o", "name").stdout)[0]
    out = kc(sim, "describe", "-n", "team-a", pod).stdout
    assert "Controlled By:  ReplicaSet/" in out and "Node:" in out
    assert len(lines(kc(sim, "logs", "-n", "team-a", pod, "--tail=3").stdout)) == 3
