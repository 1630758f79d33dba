"""The cluster's Events under the context (opened only on demand, newest first) and a pod's container rows, against
a sim of their own; kubectl referees what the tree lists."""

from __future__ import annotations

import json
import re
import subprocess
import time
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest

from kube9_desktop.headless import format_tree, load_tree
from kube9_desktop.kube.containers import container_document, containers_of, field_path
from kube9_desktop.kube.convert import parse_age, parse_time
from kube9_desktop.kube.events import EventQuery
from kube9_desktop.kube.kinds import KINDS
from kube9_desktop.kube.kubeconfig import load_kubeconfig
from kube9_desktop.kube.rows import Row, Severity
from kube9_desktop.kube.service import KubeService
from kube9_desktop.model.nodes import LoadState, NodeType, TreeNode
from kube9_desktop.model.tree_model import ClusterTreeModel
from kube9_desktop.sim.process import SimProcess

#: A pod's own path (GET of one pod): what opening its container rows may request.
ONE_POD = re.compile(r"^/api/v1/namespaces/[^/]+/pods/[^/]+$")


@pytest.fixture(scope="module")
def csim() -> Iterator[SimProcess]:
    s = SimProcess.start("--pods", "40", "--namespaces", "3", "--nodes", "2", "--scenarios", "--churn", "0")
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture
def model(csim: SimProcess, run: Any) -> Iterator[Any]:
    made: list[ClusterTreeModel] = []

    def _make(context: str = "sim-admin") -> ClusterTreeModel:
        m = ClusterTreeModel()
        m.set_service(KubeService(load_kubeconfig(csim.kubeconfig)))
        m.set_context(context, user=False)
        made.append(m)
        return m

    yield _make
    for m in made:
        svc = m.service
        run(m.shutdown())
        if svc is not None:
            run(svc.aclose())


def kubectl_json(sim: SimProcess, *args: str) -> Any:
    out = subprocess.run(["kubectl", "--kubeconfig", sim.kubeconfig, "--context", "sim-admin", *args, "-o", "json"],
                         capture_output=True, text=True, timeout=60, check=True).stdout
    return json.loads(out)


def objects(node: TreeNode | None) -> list[TreeNode]:
    assert node is not None
    return [c for c in node.children if c.row is not None]


def last_seen(ev: dict[str, Any]) -> float:
    series = ev.get("series") or {}
    return (parse_time(series.get("lastObservedTime")) or parse_time(ev.get("lastTimestamp"))
            or parse_time(ev.get("eventTime")) or 0.0)


def test_cluster_events_load_only_when_opened_and_list_what_kubectl_lists_newest_first(
        csim: SimProcess, model: Any, run: Any) -> None:
    m = model()
    csim.reset_stats()
    # Opening everything by depth lists no cluster-wide events and opens no pod (each would be a request).
    run(load_tree(m, 4, []), 120)
    events = m.find("Events")
    assert events is not None and events.type is NodeType.LIST
    assert events.state is LoadState.UNLOADED and events.count is None and not events.children
    paths = csim.stats()["by_path"]
    assert "/api/v1/events" not in paths and "/apis/events.k8s.io/v1/events" not in paths, paths
    assert not [p for p in paths if ONE_POD.match(p)], "a depth load opened pods' container rows"
    lines = format_tree(m.context_node())  # type: ignore[arg-type]
    assert "  Events" in lines  # the row is there, with no count
    # Opened by name, it lists every namespace's events, as kubectl does.
    before = {e["metadata"]["uid"] for e in kubectl_json(csim, "get", "events", "-A")["items"]}
    run(load_tree(m, 0, ["Events"]), 60)
    after = {e["metadata"]["uid"] for e in kubectl_json(csim, "get", "events", "-A")["items"]}
    got = {c.row.uid for c in objects(events)}  # type: ignore[union-attr]
    assert before & after <= got <= before | after
    assert len({c.row.namespace for c in objects(events)}) >= 3  # type: ignore[union-attr]
    assert events.count == len(got)
    # Newest first: the Last Seen ages never decrease down the list, and the first is the newest event.
    ages = [parse_age(c.row.cells["Last Seen"]) for c in objects(events)]  # type: ignore[union-attr]
    assert None not in ages and ages == sorted(ages)  # type: ignore[type-var]
    truth = {e["metadata"]["uid"]: last_seen(e) for e in kubectl_json(csim, "get", "events", "-A")["items"]}
    first = objects(events)[0].row
    assert first is not None and truth[first.uid] >= max(truth.values()) - 2
    # The namespace's own Events list is newest first too.
    run(load_tree(m, 0, ["Namespaces/team-a/Events"]), 60)
    ns_ages = [parse_age(c.row.cells["Last Seen"]) for c in objects(m.find("Namespaces/team-a/Events"))]  # type: ignore[union-attr]
    assert ns_ages and ns_ages == sorted(ns_ages)  # type: ignore[type-var]


def test_cluster_events_for_a_viewer_is_one_friendly_row(model: Any, run: Any) -> None:
    m = model("sim-viewer")
    run(load_tree(m, 1, ["Events"]), 60)
    events = m.find("Events")
    assert events is not None and events.state is LoadState.FAILED
    [row] = events.children
    assert row.type is NodeType.ERROR
    assert row.label.startswith("You cannot list events in all namespaces")


def test_an_event_seen_again_moves_to_the_top_keeping_its_node(model: Any, run: Any) -> None:
    m = model()
    run(load_tree(m, 0, ["Namespaces/team-a/Events"]), 60)
    events = m.find("Namespaces/team-a/Events")
    rows = objects(events)
    assert len(rows) >= 3
    last = rows[-1]
    assert last.row is not None
    newer = Row(**{**{f: getattr(last.row, f) for f in last.row.__slots__},  # type: ignore[attr-defined]
                   "extra": {"seen_at": time.time() + 60}, "cells": {**last.row.cells, "Last Seen": "0s"}})
    m.apply_changes(events, [("MODIFIED", newer)], KINDS["events"])  # type: ignore[arg-type]
    assert events is not None and events.children[0] is last and last.row is newer
    assert events.count == len(rows)
    # A re-list puts it back where its own time says (the reconcile keeps nodes and orders them).
    m.reload_node(events)
    run(m.wait_idle(), 60)
    assert objects(events)[0] is not last and last in events.children


def pod_named(csim: SimProcess, prefix: str, namespace: str = "scenarios") -> dict[str, Any]:
    items = csim.request("GET", f"/api/v1/namespaces/{namespace}/pods")["items"]
    return next(p for p in items if p["metadata"]["name"].startswith(prefix))


@pytest.mark.parametrize("prefix", ["init-stuck", "oom-worker"])
def test_a_pod_row_opens_to_its_containers_with_one_get(csim: SimProcess, model: Any, run: Any,
                                                        prefix: str) -> None:
    m = model()
    run(load_tree(m, 0, ["Namespaces/scenarios/Workloads/Pods"]), 60)
    name = pod_named(csim, prefix)["metadata"]["name"]
    pod_path = f"Namespaces/scenarios/Workloads/Pods/{name}"
    node = m.find(pod_path)
    assert node is not None and node.expandable and node.state is LoadState.UNLOADED
    csim.reset_stats()
    run(load_tree(m, 0, [pod_path]), 60)
    assert csim.stats()["by_path"] == {f"/api/v1/namespaces/scenarios/pods/{name}": 1}
    ref = kubectl_json(csim, "get", "pod", "-n", "scenarios", name)
    rows = objects(node)
    assert all(c.type is NodeType.CONTAINER and not c.expandable for c in rows)
    spec = ref["spec"]
    want = [c["name"] for c in spec.get("initContainers", []) + spec["containers"]]
    assert [c.label for c in rows] == want
    statuses = {s["name"]: s for s in ref["status"].get("initContainerStatuses", [])
                + ref["status"]["containerStatuses"]}
    images = {c["name"]: c["image"] for c in spec.get("initContainers", []) + spec["containers"]}
    for c in rows:
        assert c.row is not None
        st = statuses[c.label]
        assert c.row.cells["Image"] == images[c.label] and images[c.label] in c.display_label
        assert int(c.row.restarts) <= int(st["restartCount"])  # restarts only grow between the two reads
        (state, detail), = st["state"].items()
        assert c.row.status.lower().startswith(state)
        if detail.get("reason"):
            assert detail["reason"] in c.row.status
    by = {c.label: c for c in rows}
    if prefix == "init-stuck":
        migrate = by["migrate"]
        assert migrate.display_label.startswith("migrate (init)")
        assert migrate.row is not None and migrate.row.status == "Waiting: CrashLoopBackOff"
        assert migrate.row.severity is Severity.ERROR and migrate.row.cells["Last State"].startswith("Terminated")
    else:
        main = by["main"]
        assert main.row is not None and "OOMKilled" in main.row.status + main.row.cells.get("Last State", "")
    # The path of a container row names it, like any row; headless prints it under its pod with its state.
    c0 = rows[0]
    assert m.find(f"{pod_path}/{c0.label}") is c0
    lines = format_tree(m.context_node())  # type: ignore[arg-type]
    assert any(ln.strip().startswith(c0.display_label) and c0.row.status in ln for ln in lines)  # type: ignore[union-attr]


def test_container_rows_follow_their_pod(csim: SimProcess, model: Any, run: Any) -> None:
    """A pod's row changing (a watch event, a re-list) fetches its open container rows again, in place."""
    m = model()
    run(load_tree(m, 0, ["Namespaces/scenarios/Workloads/Pods"]), 60)
    name = pod_named(csim, "init-stuck")["metadata"]["name"]
    pods = m.find("Namespaces/scenarios/Workloads/Pods")
    run(load_tree(m, 0, [f"Namespaces/scenarios/Workloads/Pods/{name}"]), 60)
    node = m.find(f"Namespaces/scenarios/Workloads/Pods/{name}")
    assert node is not None and node.row is not None
    kept = list(node.children)
    csim.reset_stats()
    changed = Row(**{**{f: getattr(node.row, f) for f in node.row.__slots__},  # type: ignore[attr-defined]
                     "resource_version": node.row.resource_version + "1", "restarts": "99"})
    m.apply_changes(pods, [("MODIFIED", changed)], KINDS["pods"])  # type: ignore[arg-type]
    run(m.wait_idle(), 60)
    assert csim.stats()["by_path"].get(f"/api/v1/namespaces/scenarios/pods/{name}") == 1
    assert node.children == kept  # the same container nodes (a selected one stays selected)


def test_a_gone_pod_opens_to_a_friendly_error_row(csim: SimProcess, model: Any, run: Any) -> None:
    m = model()
    run(load_tree(m, 0, ["Namespaces/team-a/Workloads/Pods"]), 60)
    pods = m.find("Namespaces/team-a/Workloads/Pods")
    node = objects(pods)[0]
    assert node.row is not None
    csim.remove_pod("team-a", node.row.name)
    run(load_tree(m, 0, [f"Namespaces/team-a/Workloads/Pods/{node.row.name}"]), 60)
    assert node.state is LoadState.FAILED
    [err] = node.children
    assert err.type is NodeType.ERROR and node.row.name in err.label


def test_containers_of_marks_init_and_ephemeral_and_reads_each_state(csim: SimProcess) -> None:
    """Every state kubectl describe shows, from a sim pod joined with the statuses a kubelet reports for an
    ephemeral debug container (the sim serves no ephemeralcontainers subresource to add one)."""
    pod = pod_named(csim, "init-stuck")
    pod["spec"]["ephemeralContainers"] = [{"name": "debugger", "image": "busybox:1.36", "targetContainerName": "main"}]
    pod["status"]["ephemeralContainerStatuses"] = [{
        "name": "debugger", "image": "busybox:1.36", "ready": False, "restartCount": 0,
        "state": {"terminated": {"exitCode": 0, "reason": "Completed", "finishedAt": "2026-01-01T00:00:00Z"}}}]
    got = containers_of(pod)
    assert [(c.name, c.role) for c in got] == [("migrate", "init"), ("main", ""), ("debugger", "ephemeral")]
    assert got[0].state == "Waiting: CrashLoopBackOff" and got[0].restarts == 6 and got[0].last == "Error (exit 2)"
    assert got[1].state == "Waiting: PodInitializing" and got[1].severity is Severity.WARN
    assert got[2].state == "Terminated: Completed (exit 0)" and got[2].severity is Severity.OK
    oom = containers_of(pod_named(csim, "oom-worker"))[0]
    assert "OOMKilled (exit 137)" in oom.state + oom.last


def test_a_containers_document_and_event_field_path(csim: SimProcess) -> None:
    """What the details pane shows for a container row: its own spec and status entries (an init container's from
    initContainers/initContainerStatuses), and the fieldPath its events carry, which the events API filters on."""
    pod = pod_named(csim, "init-stuck")
    doc = container_document(pod, "migrate", "init")
    assert doc is not None
    assert doc["spec"] == next(c for c in pod["spec"]["initContainers"] if c["name"] == "migrate")
    assert doc["status"] == next(s for s in pod["status"]["initContainerStatuses"] if s["name"] == "migrate")
    assert container_document(pod, "migrate", "container") is None  # not a regular container
    assert field_path("init", "migrate") == "spec.initContainers{migrate}"
    assert field_path("container", "main") == "spec.containers{main}"
    assert field_path("ephemeral", "dbg") == "spec.ephemeralContainers{dbg}"
    query = EventQuery(namespace="scenarios", object_kind="Pod", object_name="init-stuck",
                       object_uid=pod["metadata"]["uid"], field_path=field_path("init", "migrate"))
    for api, prefix in (("/api/v1", "involvedObject"), ("/apis/events.k8s.io/v1", "regarding")):
        sel = urllib.parse.quote(query.field_selector(prefix))
        items = csim.request("GET", f"{api}/namespaces/scenarios/events?fieldSelector={sel}")["items"]
        assert items, api
        assert all((e.get(prefix) or {}).get("fieldPath") == "spec.initContainers{migrate}" for e in items)
    # kubectl, the referee, takes the same selector.
    out = subprocess.run(["kubectl", "--kubeconfig", csim.kubeconfig, "--context", "sim-admin", "get", "events", "-n",
                          "scenarios", "--field-selector", query.field_selector("involvedObject"), "-o", "name"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip(), out.stderr
