"""Rollouts at a real cluster's pace (kube9_desktop/sim/pod_lifecycle.py, workloads.rollout): new pods come up
Pending, ContainerCreating, Running, then Ready; a Deployment keeps within maxSurge and maxUnavailable; deleted pods
stay Terminating for the stop time. kubectl is the referee: ``rollout status`` reports progress, then finishes."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest

from kube9_desktop.sim.process import SimProcess

KUBECTL = shutil.which("kubectl")
STOP = 2.0
REPLICAS = 4  # 25%: maxSurge 1, maxUnavailable 1


@pytest.fixture(scope="module")
def psim() -> Iterator[SimProcess]:
    """A sim of its own with short but real pacing (the suite's default is instant: tests/conftest.py)."""
    with SimProcess.start("--pods", "40", "--namespaces", "4", "--nodes", "2", "--pod-start-seconds", "0.8",
                          "--pod-ready-seconds", "0.8", "--pod-stop-seconds", str(STOP)) as p:
        yield p


def kc(sim: SimProcess, *args: str) -> list[str]:
    assert KUBECTL is not None, "kubectl is the referee of these tests and must be installed"
    return [KUBECTL, "--kubeconfig", sim.kubeconfig, "--context", "sim-admin", *args]


def ready(p: dict[str, Any]) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in p["status"].get("conditions") or [])


def shown_status(p: dict[str, Any]) -> str:
    """What ``kubectl get pods`` says in STATUS for these pods."""
    if p["metadata"].get("deletionTimestamp"):
        return "Terminating"
    waiting = [c["state"]["waiting"]["reason"] for c in p["status"].get("containerStatuses") or []
               if "waiting" in c.get("state", {})]
    return waiting[0] if waiting else p["status"]["phase"]


def test_rollout_restart_is_paced_within_surge_and_unavailable(psim: SimProcess) -> None:
    ns = "team-a"
    dep = next(d for d in psim.request("GET", f"/apis/apps/v1/namespaces/{ns}/deployments")["items"]
               if d["spec"]["replicas"] >= 1)["metadata"]["name"]
    selector = psim.request("GET", f"/apis/apps/v1/namespaces/{ns}/deployments/{dep}")["spec"]["selector"]
    labels = ",".join(f"{k}%3D{v}" for k, v in selector["matchLabels"].items())

    def pods() -> list[dict[str, Any]]:
        return psim.request("GET", f"/api/v1/namespaces/{ns}/pods?labelSelector={labels}")["items"]

    subprocess.run(kc(psim, "scale", "-n", ns, f"deploy/{dep}", f"--replicas={REPLICAS}"), check=True,
                   capture_output=True, timeout=60)
    settled = psim.wait_until(lambda: [ready(p) for p in pods()] == [True] * REPLICAS, timeout=60)
    assert settled, [(p["metadata"]["name"], shown_status(p)) for p in pods()]
    old = {p["metadata"]["name"] for p in pods()}

    subprocess.run(kc(psim, "rollout", "restart", "-n", ns, f"deploy/{dep}"), check=True, capture_output=True,
                   timeout=60)
    status = subprocess.Popen(kc(psim, "rollout", "status", "-n", ns, f"deploy/{dep}", "--timeout=90s"),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seen_new: set[str] = set()
    terminating_since: dict[str, float] = {}
    terminating_for: dict[str, float] = {}
    most_live, fewest_ready = 0, REPLICAS
    deadline = time.monotonic() + 120
    try:
        while status.poll() is None or any(n not in terminating_for for n in terminating_since):
            now = time.monotonic()
            items = pods()
            live = [p for p in items if not p["metadata"].get("deletionTimestamp")]
            most_live = max(most_live, len(live))
            fewest_ready = min(fewest_ready, sum(1 for p in live if ready(p)))
            names = set()
            for p in items:
                name = p["metadata"]["name"]
                names.add(name)
                if name not in old:
                    seen_new.add(shown_status(p) + ("/ready" if ready(p) else ""))
                elif p["metadata"].get("deletionTimestamp"):
                    terminating_since.setdefault(name, now)
            for name, since in terminating_since.items():
                if name not in names and name not in terminating_for:
                    terminating_for[name] = now - since
            assert now < deadline, "the rollout did not finish within 120 s"
            time.sleep(0.05)
        out = status.communicate(timeout=30)[0]
    finally:
        if status.poll() is None:
            status.kill()
            status.wait()
    assert status.returncode == 0, out
    # kubectl followed the rollout: progress first, then the end.
    assert "Waiting for deployment" in out and "successfully rolled out" in out, out
    # Never more pods than replicas + maxSurge, never fewer ready than replicas - maxUnavailable.
    assert most_live <= REPLICAS + 1
    assert fewest_ready >= REPLICAS - 1
    # New pods came up step by step.
    assert {"Pending", "ContainerCreating", "Running", "Running/ready"} <= seen_new, seen_new
    # Every old pod went through Terminating; none vanished the moment it was stopped.
    assert set(terminating_for) == old
    assert max(terminating_for.values()) >= STOP / 2, terminating_for
    final = pods()
    assert len(final) == REPLICAS and not {p["metadata"]["name"] for p in final} & old
    assert all(ready(p) for p in final)


def test_kubectl_delete_waits_for_the_stop_time(psim: SimProcess) -> None:
    """A deleted pod stays Terminating for the stop time (its app ending on SIGTERM), then goes."""
    ns = "team-b"
    items = psim.request("GET", f"/api/v1/namespaces/{ns}/pods")["items"]
    victim = next(p["metadata"]["name"] for p in items
                  if p["status"]["phase"] == "Running" and p["spec"].get("nodeName"))
    started = time.monotonic()
    subprocess.run(kc(psim, "delete", "pod", "-n", ns, victim, "--wait=false"), check=True, capture_output=True,
                   timeout=60)
    got = psim.request("GET", f"/api/v1/namespaces/{ns}/pods/{victim}")
    assert got["metadata"].get("deletionTimestamp")
    r = subprocess.run(kc(psim, "wait", "--for=delete", f"pod/{victim}", "-n", ns, "--timeout=60s"),
                       capture_output=True, text=True, timeout=90)
    assert r.returncode == 0, r.stderr
    assert time.monotonic() - started >= STOP
