"""A 403 on one kind, met by a background load, is that list's own error row — never an "Internal error".

The viewer of the sim may list pods, services, configmaps and deployments in team-a only; every other list in the
namespace (HorizontalPodAutoscalers among them) is forbidden.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from typing import Any

from kube9_desktop.headless import format_tree
from kube9_desktop.kube.errors import ErrorKind, KubeError
from kube9_desktop.kube.rows import ListRef
from kube9_desktop.model.nodes import LoadState, NodeType, TreeNode
from kube9_desktop.model.tree_model import ClusterTreeModel

VIEWER = "sim-viewer"
HPA = "Namespaces/team-a/Workloads/HorizontalPodAutoscalers"
DENIED = "You cannot list horizontalpodautoscalers.autoscaling in namespace team-a."


def viewer_model(service: Any, failures: list[tuple[KubeError, bool]]) -> ClusterTreeModel:
    model = ClusterTreeModel()
    model.load_failed.connect(lambda e, user: failures.append((e, user)))
    model.set_service(service)
    model.set_context(VIEWER, user=False)
    return model


async def until(check: Any, timeout: float = 30.0) -> None:
    """Wait (polling the loop) until ``check()`` holds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.01)


def assert_denied_row(node: TreeNode | None) -> None:
    assert node is not None and node.state is LoadState.FAILED
    assert [c.type for c in node.children] == [NodeType.ERROR]
    err = node.children[0].error
    assert err is not None and err.kind is ErrorKind.FORBIDDEN and err.message == DENIED


def assert_no_internal_error(model: ClusterTreeModel, failures: list[tuple[KubeError, bool]]) -> None:
    assert [e.title for e, _ in failures if e.kind is ErrorKind.UNKNOWN] == []
    root = model.context_node()
    assert root is not None
    text = "\n".join(format_tree(root))
    assert "Internal error" not in text and "unexpected error" not in text


def test_namespace_opened_while_discovery_runs_shows_the_denied_list(service_factory: Any, run: Any) -> None:
    """Opening the Namespaces list starts discovery; team-a opened at once (its folders wait for discovery) still
    shows the HPA list's 403 as its own row, and no load anywhere fails as an internal error."""
    svc = service_factory()
    failures: list[tuple[KubeError, bool]] = []
    model = viewer_model(svc, failures)

    async def scenario() -> None:
        root = model.context_node()
        assert root is not None
        model.expand(root)
        await until(lambda: (n := model.find("Namespaces")) is not None and n.state is LoadState.LOADED)
        namespaces = model.find("Namespaces")
        assert namespaces is not None
        model.expand(namespaces)  # starts discovery ahead of a namespace
        assert svc.discovered(VIEWER) is None, "team-a opens while discovery is still to come"
        team_a = model.find("Namespaces/team-a")
        assert team_a is not None
        model.expand(team_a)
        await until(lambda: model.find("Namespaces/team-a/Workloads") is not None)
        workloads = model.find("Namespaces/team-a/Workloads")
        assert workloads is not None
        model.expand(workloads)
        hpa = model.find(HPA)
        assert hpa is not None
        model.expand(hpa)
        await model.wait_idle()
        assert svc.discovered(VIEWER) is not None
        assert_denied_row(model.find(HPA))
        model.refresh(VIEWER)  # every list again (lists of the closed folders too), discovery forgotten
        await model.wait_idle()

    run(scenario(), 60)
    assert_denied_row(model.find(HPA))
    assert_no_internal_error(model, failures)
    run(model.shutdown())


def test_a_403_escaping_a_load_is_the_list_row_not_an_internal_error(service_factory: Any, run: Any) -> None:
    """The loader's safety net: a KubeError a load lets escape (a missed ``except``) is still shown as the failure
    it is — on the node whose load it was, else as itself — and never as "Internal error: KubeError(...)"."""
    svc = service_factory()
    failures: list[tuple[KubeError, bool]] = []
    model = viewer_model(svc, failures)
    run(model.wait_idle())
    ref = ListRef(VIEWER, "horizontalpodautoscalers", "team-a")

    async def unguarded() -> None:  # the sim's real 403, not caught
        await svc.list_all(ref)

    failures.clear()  # (the top level's own 403s)
    model.loader.spawn(unguarded())
    run(model.wait_idle())
    assert [(e.kind, e.message) for e, _ in failures] == [(ErrorKind.FORBIDDEN, DENIED)]

    async def open_team_a() -> None:
        await model.reveal_path("Namespaces/team-a/Workloads")

    run(open_team_a(), 60)
    hpa = model.find(HPA)
    assert hpa is not None
    hpa.state = LoadState.LOADING  # as start_load leaves it, the coroutine being one that forgot its except
    hpa.generation += 1
    failures.clear()
    model.loader.spawn(unguarded(), hpa, user=False)
    run(model.wait_idle())
    assert_denied_row(hpa)
    assert_no_internal_error(model, failures)
    run(model.shutdown())


def test_print_tree_shows_the_denied_hpa_list(sim: Any, tmp_path: Path) -> None:
    """``--print-tree`` as the viewer, down to team-a's HPA list: the 403 as its row, no internal error logged."""
    out = subprocess.run([sys.executable, "-m", "kube9_desktop", "--kubeconfig", sim.kubeconfig, "--context", VIEWER,
                          "--settings-file", str(tmp_path / "settings.ini"), "--print-tree", "--depth", "2",
                          "--expand", HPA], capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr
    lines = [ln.strip() for ln in out.stdout.splitlines()]
    at = lines.index("HorizontalPodAutoscalers")
    assert lines[at + 1] == f"! {DENIED}"
    assert "Internal error" not in out.stdout + out.stderr
    assert "escape" not in out.stderr and "background load failed" not in out.stderr
