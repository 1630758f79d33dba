"""``--run logs`` / ``--run events`` against the sim: what kubectl prints, prefixes for workloads, errors."""

from __future__ import annotations

import asyncio
import io
import shutil
import subprocess
from typing import Any

import pytest

from kube9_desktop.commands import load_all
from kube9_desktop.commands.registry import REGISTRY
from kube9_desktop.commands.runner import run_line
from kube9_desktop.headless_run import HeadlessPort

KUBECTL = shutil.which("kubectl")


def kubectl(sim: Any, *args: str) -> subprocess.CompletedProcess[str]:
    if KUBECTL is None:
        pytest.fail("kubectl is not installed: it referees these tests")
    return subprocess.run([KUBECTL, "--kubeconfig", sim.kubeconfig, "--context", "sim-admin", *args],
                          capture_output=True, text=True, timeout=60)


def run(service: Any, line: str) -> tuple[Any, str, str]:
    load_all()
    out, err = io.StringIO(), io.StringIO()
    port = HeadlessPort(yes=False, out=out, err=err)
    loop = asyncio.new_event_loop()
    try:
        result = loop.run_until_complete(run_line(line, service=service, context="sim-admin", ui=port, access=None))
    finally:
        loop.close()
    return result, out.getvalue(), err.getvalue()


def running_pod(sim: Any) -> str:
    items = sim.request("GET", "/api/v1/namespaces/team-a/pods")["items"]
    return str(next(p["metadata"]["name"] for p in items if len(p["spec"]["containers"]) == 1
                    and "running" in (p["status"].get("containerStatuses") or [{}])[0].get("state", {})))


def test_logs_is_a_registered_command_with_its_shortcut() -> None:
    load_all()
    cmd = REGISTRY.get("logs")
    assert cmd.shortcut == "L" and "deployments" in cmd.kinds and "pods" in cmd.kinds
    assert cmd.needs is not None and cmd.needs.subresource == "log"
    assert "events" in REGISTRY


def test_pod_log_prints_what_kubectl_prints(sim: Any, service_factory: Any) -> None:
    svc = service_factory()
    pod = running_pod(sim)
    result, out, _ = run(svc, f"logs team-a/pod/{pod} -c main --tail 50")
    want = kubectl(sim, "logs", "-n", "team-a", pod, "-c", "main", "--tail", "50").stdout
    assert result.ok and result.kubectl and "--tail=50" in result.kubectl
    got = out.splitlines()
    assert len(got) == 50
    assert got == want.splitlines() or got[1:] == want.splitlines()[:-1] or got[:-1] == want.splitlines()[1:]
    result, out, _ = run(svc, f"logs team-a/pod/{pod} --tail 3 --timestamps")
    assert all(line.split(" ", 1)[0].endswith("Z") for line in out.splitlines())


def test_workload_lines_are_prefixed_and_merged(sim: Any, service_factory: Any) -> None:
    svc = service_factory()
    deploys = sim.request("GET", "/apis/apps/v1/namespaces/team-a/deployments")["items"]
    d = max(deploys, key=lambda d: d["spec"]["replicas"])["metadata"]["name"]
    result, out, _ = run(svc, f"logs team-a/deploy/{d} --tail 2")
    lines = out.splitlines()
    assert result.ok and lines and all(line.startswith("[pod/") for line in lines)
    pods = {line.split("/")[1] for line in lines}
    assert len(pods) >= 2 and all(p.startswith(d) for p in pods)


def test_follow_for_a_few_seconds(sim: Any, service_factory: Any) -> None:
    svc = service_factory()
    pod = running_pod(sim)
    result, out, _ = run(svc, f"logs team-a/pod/{pod} --tail 1 --follow-seconds 2.5")
    assert result.ok and 1 <= len(out.splitlines()) <= 4  # the last line, then about one new line per 2 s


def test_errors_fail_with_the_apps_words(sim: Any, service_factory: Any) -> None:
    svc = service_factory()
    pod = running_pod(sim)
    result, _, _ = run(svc, f"logs team-a/pod/{pod} --previous")
    assert not result.ok and result.exit_code == 1 and result.message.startswith("No previous log")
    result, _, _ = run(svc, f"logs team-a/pod/{pod} --since 5x")
    assert not result.ok and result.exit_code == 2 and "invalid duration" in result.message


def test_events_command(sim: Any, service_factory: Any) -> None:
    svc = service_factory()
    result, _, _ = run(svc, "events namespace/team-a")
    want = kubectl(sim, "get", "events", "-n", "team-a", "--no-headers").stdout.splitlines()
    rows = result.message.splitlines()
    assert result.ok and rows[0].split()[:4] == ["LAST", "SEEN", "TYPE", "REASON"] and len(rows) == len(want) + 1
    # An event about a pod that still exists (other tests of this session's sim delete team-a pods).
    alive = {p["metadata"]["name"] for p in sim.request("GET", "/api/v1/namespaces/team-a/pods")["items"]}
    obj = next(e["involvedObject"]["name"] for e in sim.request("GET", "/api/v1/namespaces/team-a/events")["items"]
               if e["involvedObject"].get("kind") == "Pod" and e["involvedObject"]["name"] in alive)
    result, _, _ = run(svc, f"events team-a/pod/{obj}")
    assert result.ok and all(f"pod/{obj}" in r for r in result.message.splitlines()[1:])
