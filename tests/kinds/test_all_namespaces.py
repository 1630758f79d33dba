"""The "All namespaces" folder: Pods, Deployments and Services of every namespace, each list loaded only
when opened and paged like the others; a user who may not list a kind cluster-wide gets one quiet note, not an
error storm. kubectl referees the sim."""

from __future__ import annotations

import json
import subprocess
from typing import Any

from kube9_desktop.headless import load_tree
from kube9_desktop.kube.backend import KubeOptions
from kube9_desktop.kube.errors import ErrorKind
from kube9_desktop.kube.rows import ListRef
from kube9_desktop.model.children import ALL_NAMESPACE_KINDS, ALL_NAMESPACES
from kube9_desktop.model.nodes import LoadState, NodeType
from kube9_desktop.model.tree_model import ClusterTreeModel
from kube9_desktop.sim.process import SimProcess

LABELS = {"pods": "Pods", "deployments": "Deployments", "services": "Services", "events": "Events"}


#: This module's own sim (``module_sim``): its tests change the cluster.
SIM_ARGS = ("--pods", "60", "--namespaces", "4", "--nodes", "2")


def kubectl(sim: SimProcess, context: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["kubectl", "--kubeconfig", sim.kubeconfig, "--context", context, *args],
                          capture_output=True, text=True, timeout=60)


def make(sim: SimProcess, context: str, failures: list[Any], **opts: Any) -> tuple[Any, ClusterTreeModel]:
    from kube9_desktop.kube.kubeconfig import load_kubeconfig
    from kube9_desktop.kube.service import KubeService

    svc = KubeService(load_kubeconfig(sim.kubeconfig), KubeOptions(**opts))
    model = ClusterTreeModel()
    model.load_failed.connect(lambda e, user: failures.append((e, user)))
    model.set_service(svc)
    model.set_context(context, user=True)
    return svc, model


def referee(sim: SimProcess, kind: str) -> set[tuple[str, str]]:
    """(namespace, name) of what ``kubectl get KIND -A`` lists."""
    body = json.loads(kubectl(sim, "sim-admin", "get", kind, "-A", "-o", "json").stdout)
    return {(o["metadata"]["namespace"], o["metadata"]["name"]) for o in body["items"]}


def cluster_paths(stats: dict[str, Any], kind: str) -> int:
    paths = {"pods": "/api/v1/pods", "deployments": "/apis/apps/v1/deployments", "services": "/api/v1/services",
             "events": "/api/v1/events"}
    return int(stats["by_path"].get(paths[kind], 0))


def test_each_list_loads_only_when_opened_and_equals_kubectls(module_sim: SimProcess, run: Any) -> None:
    failures: list[Any] = []
    module_sim.reset_stats()
    # Small pages: every list arrives in several pages, as 10,000 pods do in 500s.
    svc, model = make(module_sim, "sim-admin", failures, page_size=7)
    try:
        run(load_tree(model, 2, []), 60)  # the context, and every folder under it, open
        group = model.find(ALL_NAMESPACES)
        assert group is not None and group.parent is model.context_node()
        assert [c.label for c in group.children] == [LABELS[k] for k in ALL_NAMESPACE_KINDS]
        # Every namespace's events are the context's own Events row: one list, not a second one here.
        root = model.context_node()
        assert root is not None
        events = [c for c in root.children if c.ref == ListRef("sim-admin", "events", None)]
        assert len(events) == 1 and "Events" not in [c.label for c in group.children]
        stats = module_sim.stats()
        for kind in ALL_NAMESPACE_KINDS:  # not one cluster-wide list was fetched to show a count
            assert cluster_paths(stats, kind) == 0, kind
        assert all(c.state is LoadState.UNLOADED and c.count is None for c in group.children)
        for kind in ALL_NAMESPACE_KINDS:
            path = f"{ALL_NAMESPACES}/{LABELS[kind]}"
            before = cluster_paths(module_sim.stats(), kind)
            earlier = referee(module_sim, kind)
            run(load_tree(model, 0, [path]), 60)
            later = referee(module_sim, kind)
            node = model.find(path)
            assert node is not None and node.ref == ListRef("sim-admin", kind, None)
            got = {(c.row.namespace, c.row.name) for c in node.children if c.row is not None}
            # The sim lives (events are added as it runs): what kubectl listed before and still lists after is
            # shown, and nothing is shown that kubectl never listed.
            assert got and earlier & later <= got <= earlier | later, kind
            assert node.count == len(got) == len(node.children)
            pages = cluster_paths(module_sim.stats(), kind) - before
            assert pages >= -(-len(got) // 7), (kind, pages)  # page by page (events: the list is never cached)
        # Rows from every namespace say which one they are in (names repeat across namespaces).
        pods = model.find(f"{ALL_NAMESPACES}/Pods")
        assert pods is not None
        first = pods.children[0]
        assert first.row is not None
        assert model.data(model.index_of(first)) == f"{first.row.name}  · {first.row.namespace}"
        assert len({c.row.namespace for c in pods.children if c.row is not None}) > 1
        assert not failures
    finally:
        run(model.shutdown())
        run(svc.aclose())


def test_a_restricted_user_gets_one_quiet_note_per_list(module_sim: SimProcess, run: Any) -> None:
    failures: list[Any] = []
    svc, model = make(module_sim, "sim-viewer", failures)
    try:
        run(load_tree(model, 1, []), 60)
        failures.clear()  # (the context's own forbidden lists: not what this test is about)
        forbidden = 0
        for kind in ALL_NAMESPACE_KINDS:
            path = f"{ALL_NAMESPACES}/{LABELS[kind]}"
            before = cluster_paths(module_sim.stats(), kind)
            run(load_tree(model, 0, [path]), 60)
            node = model.find(path)
            assert node is not None and node.state is LoadState.LOADED
            asked = cluster_paths(module_sim.stats(), kind) - before
            # Opened again (the view collapses and expands it): nothing is asked again, nothing is reported.
            model.set_expanded(node, False)
            model.set_expanded(node, True)
            run(model.wait_idle(), 30)
            asked_again = cluster_paths(module_sim.stats(), kind) - before - asked
            allowed = kubectl(module_sim, "sim-viewer", "auth", "can-i", "list", kind, "-A").stdout.strip() == "yes"
            listed = kubectl(module_sim, "sim-viewer", "get", kind, "-A")
            assert (listed.returncode == 0) == allowed  # kubectl agrees on what the viewer may list
            if allowed:
                assert all(c.type is NodeType.OBJECT for c in node.children)
                continue
            forbidden += 1
            assert [c.type for c in node.children] == [NodeType.NOTE]
            note = node.children[0]
            assert note.label.startswith(f"You may not list {LABELS[kind].lower()} in all namespaces")
            assert note.error is not None and note.error.kind is ErrorKind.FORBIDDEN
            assert (asked, asked_again) == (1, 0), kind  # one request, no retries
        assert forbidden >= 2  # (the sim's viewer may list pods and services in team-a only)
        assert not any(user for _e, user in failures)  # no dialog for any of it
        assert not failures
        assert not any(model.live.watching(n) for n in model.find(ALL_NAMESPACES).children)  # type: ignore[union-attr]
    finally:
        run(model.shutdown())
        run(svc.aclose())
