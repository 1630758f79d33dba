"""kube/overview.py: the counts equal what kubectl reports; one list per kind; the page built from recorded objects."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from health_recorded import recorded

from kube9_desktop.kube.metrics import Unavailable
from kube9_desktop.kube.overview import build, gather
from kube9_desktop.kube.overview_text import format_text
from kube9_desktop.kube.service import KubeService
from kube9_desktop.sim.process import SimProcess


def _json(kubectl: Any, *args: str) -> list[dict[str, Any]]:
    out = kubectl("get", *args, "-o", "json")
    assert out.returncode == 0, out.stderr
    items: list[dict[str, Any]] = json.loads(out.stdout)["items"]
    return items


def test_counts_equal_kubectl(hsim: SimProcess, hservice: KubeService, kubectl: Any) -> None:
    ov = gather(hservice, "sim-admin")
    nodes = kubectl("get", "nodes", "--no-headers").stdout.splitlines()
    assert ov.nodes_total == len(nodes)
    assert ov.nodes_ready == sum(1 for n in nodes if n.split()[1].split(",")[0] == "Ready")
    pods = _json(kubectl, "pods", "-A")
    assert ov.pods_total == len(pods)
    assert ov.phases == dict(Counter(p["status"]["phase"] for p in pods))
    # Every pod kubectl shows in CrashLoopBackOff / ImagePullBackOff / Evicted is among the failing ones.
    shown = kubectl("get", "pods", "-A", "--no-headers").stdout.splitlines()
    for status in ("CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull", "Evicted", "Init:CrashLoopBackOff"):
        want = {(c[0], c[1]) for c in (line.split() for line in shown) if c[3] == status}
        got = {(e.ref.namespace, e.ref.name) for e in ov.failing if e.status == status}
        assert got == want, status
    unbound = {(p["metadata"]["namespace"], p["metadata"]["name"]) for p in _json(kubectl, "pvc", "-A")
               if p["status"].get("phase") != "Bound"}
    assert {(e.ref.namespace, e.ref.name) for e in ov.pvcs} == unbound
    deploys = _json(kubectl, "deployments", "-A")
    short = {(d["metadata"]["namespace"], d["metadata"]["name"]) for d in deploys
             if d["status"].get("readyReplicas", 0) < d["spec"]["replicas"]}
    assert {(e.ref.namespace, e.ref.name) for e in ov.workloads if e.ref.kind == "deployments"} == short
    top = sorted(((sum(c.get("restartCount", 0) for c in p["status"].get("containerStatuses", [])),
                   p["metadata"]["namespace"], p["metadata"]["name"]) for p in pods), key=lambda x: (-x[0], x[1], x[2]))
    assert [(e.ref.namespace, e.ref.name) for e in ov.restarts] == [(ns, n) for r, ns, n in top[:10] if r]
    assert ov.version == "v1.19.0" and ov.latency_ms is not None
    assert ov.capacity.usage is not None and ov.capacity.usage.cpu > 0 and ov.metrics is None
    assert any(w.reason == "FailedScheduling" for w in ov.warnings)


def test_one_list_per_kind(hsim: SimProcess, hservice: KubeService) -> None:
    hsim.reset_stats()
    ov = gather(hservice, "sim-admin")
    paths = hsim.stats()["by_path"]
    for path in ("/api/v1/nodes", "/api/v1/pods", "/apis/apps/v1/deployments", "/apis/apps/v1/statefulsets",
                 "/apis/apps/v1/daemonsets", "/api/v1/persistentvolumeclaims", "/api/v1/events"):
        assert paths.get(path) == 1, (path, paths)
    assert ov.requests == sum(paths.values())


def test_metrics_unavailable_is_said_on_the_page(hsim: SimProcess, hservice: KubeService, metrics_mode: Any) -> None:
    metrics_mode("unavailable")
    ov = gather(hservice, "sim-admin")
    assert isinstance(ov.metrics, Unavailable) and ov.capacity.usage is None
    assert "metrics unavailable" in format_text(ov)


def test_built_from_recorded_objects() -> None:
    pods = [recorded(n)["obj"] for n in ("crashy-api", "oom-worker", "too-big", "not-ready", "evicted-report")]
    now = recorded("crashy-api")["now"]
    deploy = recorded("stuck-rollout")["obj"]
    ov = build("rec", {"pods": pods, "deployments": [deploy]}, None, now=now)
    status = {e.ref.name: e.status for e in ov.failing}
    assert status == {"crashy-api": "CrashLoopBackOff", "oom-worker": "CrashLoopBackOff", "too-big": "Pending",
                      "evicted-report": "Evicted"}
    assert [e.ref.name for e in ov.restarts] == ["crashy-api", "oom-worker"]
    assert [(e.ref.name, e.status) for e in ov.workloads] == [("stuck-rollout", "0/1 ready")]
    assert "ProgressDeadlineExceeded" in ov.workloads[0].detail
    text = format_text(ov, now=now)
    assert "Failing pods: 4" in text and "Nodes: 0/0 ready" in text
